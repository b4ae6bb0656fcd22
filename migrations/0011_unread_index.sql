-- Indexes the background's per-message lookups use, whatever the size of the history and whether
-- or not the tables have been analysed (PGlite never analyses by itself).
--
-- The messages ordering has still to read, by sender (its number; without one, its user id; only
-- inbound messages have either) up to a time: an index of the backlog only — a message leaves it
-- once its intent is set. The sender leads: on a table never analysed the planner guesses any
-- business's share of a partial index at one row, and with the business first it would read that
-- whole share as readily as look up one sender.
CREATE INDEX social_messages_unread_from ON social_messages (from_number, business_id, created_at)
  WHERE intent IS NULL AND from_number IS NOT NULL;
CREATE INDEX social_messages_unread_user ON social_messages (from_user_id, business_id, created_at)
  WHERE intent IS NULL AND from_number IS NULL AND from_user_id IS NOT NULL;

-- A sender's open lead, the same way round (the same rule: one open lead per sender).
DROP INDEX leads_one_open;
CREATE UNIQUE INDEX leads_one_open ON leads (sender_key, business_id) WHERE status IN ('new', 'contacted', 'qualified');
