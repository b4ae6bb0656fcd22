-- The messages ordering has still to read, by sender: an index of the backlog only (a message
-- leaves it once its intent is set), so finding a sender's unread messages costs the same however
-- long the business's message log grows, and needs no statistics to be chosen.
CREATE INDEX social_messages_unread_from ON social_messages (business_id, from_number)
  WHERE direction = 'inbound' AND intent IS NULL;
CREATE INDEX social_messages_unread_user ON social_messages (business_id, from_user_id)
  WHERE direction = 'inbound' AND intent IS NULL;
