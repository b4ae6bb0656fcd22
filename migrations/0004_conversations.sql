-- Conversations: every message belongs to one thread per (channel, counterpart). The counterpart's
-- address is where a reply goes: an E.164 number (or Meta's business-scoped user id) on WhatsApp, a
-- PSID / IGSID on Messenger and Instagram, a chat id on Telegram. A conversation linked to a
-- customer is one of that customer's contacts: a customer may have several, one per channel.

CREATE TABLE conversations (
  business_id          uuid NOT NULL REFERENCES businesses (id),
  id                   uuid NOT NULL DEFAULT gen_random_uuid(),
  channel_id           uuid NOT NULL,
  address              text NOT NULL,
  name                 text,                 -- the sender's profile name, as the provider gave it
  customer_id          uuid,
  lead_id              uuid,
  last_message_id      uuid,
  last_message_at      timestamptz,
  -- The customer's last message: opens WhatsApp's (and Messenger's) 24-hour reply window.
  last_inbound_at      timestamptz,
  -- The last reply a person on the shop's side wrote (automatic notifications do not count).
  last_human_reply_at  timestamptz,
  unread               integer NOT NULL DEFAULT 0 CHECK (unread >= 0),
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, id),
  UNIQUE (business_id, channel_id, address),
  FOREIGN KEY (business_id, channel_id) REFERENCES social_channels (business_id, id),
  FOREIGN KEY (business_id, customer_id) REFERENCES customers (business_id, id),
  FOREIGN KEY (business_id, lead_id) REFERENCES leads (business_id, id)
);
CREATE INDEX conversations_list ON conversations (business_id, last_message_at DESC, id DESC);
CREATE INDEX conversations_customer ON conversations (business_id, customer_id, last_inbound_at DESC) WHERE customer_id IS NOT NULL;
CREATE INDEX conversations_lead ON conversations (business_id, lead_id) WHERE lead_id IS NOT NULL;

ALTER TABLE social_messages ADD COLUMN conversation_id uuid;
ALTER TABLE social_messages ADD FOREIGN KEY (business_id, conversation_id) REFERENCES conversations (business_id, id);
-- Who on the shop's side wrote an outbound reply (null for automatic messages).
ALTER TABLE social_messages ADD COLUMN sent_by uuid;
ALTER TABLE social_messages ADD FOREIGN KEY (business_id, sent_by) REFERENCES users (business_id, id);
ALTER TABLE social_messages ADD COLUMN edited_at timestamptz;
ALTER TABLE social_messages ADD COLUMN deleted_at timestamptz;
CREATE INDEX social_messages_conversation ON social_messages (business_id, conversation_id, created_at DESC, id DESC);
-- The live stream follows changes by updated_at.
CREATE INDEX social_messages_changed ON social_messages (business_id, updated_at);

-- Existing messages get their conversations: inbound by sender, outbound by recipient.
WITH addressed AS (
  SELECT m.business_id, m.id, m.channel_id, m.direction, m.customer_id, m.created_at, m.metadata,
         CASE
           WHEN m.direction = 'outbound' THEN m.to_number
           WHEN c.channel_type = 'whatsapp' THEN coalesce(m.from_number, m.from_user_id)
           ELSE coalesce(m.metadata->>'reply_to', m.from_user_id, m.from_number)
         END AS address
  FROM social_messages m JOIN social_channels c ON c.business_id = m.business_id AND c.id = m.channel_id
),
-- An outbound WhatsApp message may name its recipient as wa_id digits: file it under the E.164 form.
normalised AS (
  SELECT a.*, CASE WHEN a.address ~ '^[0-9]{8,15}$' AND EXISTS (
      SELECT 1 FROM social_channels c WHERE c.business_id = a.business_id AND c.id = a.channel_id AND c.channel_type = 'whatsapp')
    THEN '+' || a.address ELSE a.address END AS addr
  FROM addressed a WHERE a.address IS NOT NULL
)
INSERT INTO conversations (business_id, channel_id, address, name, customer_id, last_message_at, last_inbound_at, created_at, updated_at)
SELECT business_id, channel_id, addr,
       (array_agg(metadata->>'profile_name' ORDER BY created_at DESC) FILTER (WHERE metadata->>'profile_name' IS NOT NULL))[1],
       (array_agg(customer_id ORDER BY created_at DESC) FILTER (WHERE customer_id IS NOT NULL))[1],
       max(created_at), max(created_at) FILTER (WHERE direction = 'inbound'), min(created_at), max(created_at)
FROM normalised GROUP BY business_id, channel_id, addr;

UPDATE social_messages m SET conversation_id = v.id
FROM conversations v, social_channels c
WHERE c.business_id = m.business_id AND c.id = m.channel_id AND v.business_id = m.business_id AND v.channel_id = m.channel_id
  AND v.address = CASE
    WHEN m.direction = 'outbound' AND c.channel_type = 'whatsapp' AND m.to_number ~ '^[0-9]{8,15}$' THEN '+' || m.to_number
    WHEN m.direction = 'outbound' THEN m.to_number
    WHEN c.channel_type = 'whatsapp' THEN coalesce(m.from_number, m.from_user_id)
    ELSE coalesce(m.metadata->>'reply_to', m.from_user_id, m.from_number) END;

UPDATE conversations v SET last_message_id = (
  SELECT id FROM social_messages m WHERE m.business_id = v.business_id AND m.conversation_id = v.id ORDER BY created_at DESC, id DESC LIMIT 1);
UPDATE conversations v SET lead_id = l.id
FROM leads l WHERE l.business_id = v.business_id AND l.channel_id = v.channel_id AND l.sender_key = v.address;

ALTER TABLE conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON conversations USING (business_id = app_business_id()) WITH CHECK (business_id = app_business_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON conversations TO karigar_app;
