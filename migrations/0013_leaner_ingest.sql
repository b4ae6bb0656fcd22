-- Less work per inbound message (issue 11). Each index entry and foreign-key check a stored
-- message makes is paid by every webhook; these two bought nothing.
--
-- 1. An inbound message no longer checks its business separately: its channel's foreign key
--    (business_id, channel_id) names the business already, and a channel belongs to a business.
-- 2. The inbound-by-user index holds only messages that have a user id (Messenger, Instagram,
--    Telegram, a WhatsApp user without a number). Every query by user id names one, and a
--    WhatsApp message from a number (most messages) no longer adds an entry there.
ALTER TABLE social_messages DROP CONSTRAINT IF EXISTS social_messages_business_id_fkey;

DROP INDEX social_messages_inbound_user;
CREATE INDEX social_messages_inbound_user ON social_messages (business_id, from_user_id, created_at DESC)
  WHERE direction = 'inbound' AND from_user_id IS NOT NULL;
