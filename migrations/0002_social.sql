-- Social channels, the message log (inbound and outbound), per-business template overrides, and
-- the bookkeeping that makes outbound sending exactly-once per event and rate-capped per channel.

CREATE TABLE social_channels (
  business_id         uuid NOT NULL REFERENCES businesses (id),
  id                  uuid NOT NULL DEFAULT gen_random_uuid(),
  channel_type        text NOT NULL CHECK (channel_type IN ('whatsapp', 'facebook', 'instagram', 'telegram')),
  phone_number        text,
  account_id          text,
  -- AES-256-GCM ciphertexts under SECRETS_KEY; never returned by the API.
  api_key_enc         text,
  api_secret_enc      text,
  webhook_secret_enc  text,
  is_active           boolean NOT NULL DEFAULT true,
  settings            jsonb NOT NULL DEFAULT '{}',
  status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'needs_attention')),
  status_reason       text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, id)
);

CREATE TABLE social_messages (
  business_id          uuid NOT NULL REFERENCES businesses (id),
  id                   uuid NOT NULL DEFAULT gen_random_uuid(),
  channel_id           uuid NOT NULL,
  direction            text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  status               text NOT NULL CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'failed', 'received')),
  from_number          text,
  to_number            text,
  message_text         text,
  message_type         text NOT NULL DEFAULT 'text',
  customer_id          uuid,
  reference_type       text,
  reference_id         uuid,
  event_type           text,
  provider_message_id  text,
  template_name        text,
  error_code           text,
  error_message        text,
  attempts             integer NOT NULL DEFAULT 0,
  metadata             jsonb NOT NULL DEFAULT '{}',
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  sent_at              timestamptz,
  delivered_at         timestamptz,
  read_at              timestamptz,
  PRIMARY KEY (business_id, id),
  FOREIGN KEY (business_id, channel_id) REFERENCES social_channels (business_id, id),
  FOREIGN KEY (business_id, customer_id) REFERENCES customers (business_id, id)
);
-- One outbound message per (channel, recipient, event, reference), however often the event is
-- delivered and by however many workers at once: the database decides, not a check-then-insert.
CREATE UNIQUE INDEX social_messages_once ON social_messages (business_id, channel_id, to_number, event_type, reference_id)
  WHERE direction = 'outbound';
CREATE UNIQUE INDEX social_messages_provider_id ON social_messages (business_id, channel_id, provider_message_id)
  WHERE provider_message_id IS NOT NULL;
CREATE INDEX social_messages_list ON social_messages (business_id, created_at DESC, id DESC);
CREATE INDEX social_messages_inbound_from ON social_messages (business_id, from_number, created_at DESC) WHERE direction = 'inbound';

-- A delivery status that arrived before we stored the provider's id for the send; applied when
-- the send is recorded.
CREATE TABLE social_pending_statuses (
  business_id          uuid NOT NULL REFERENCES businesses (id),
  channel_id           uuid NOT NULL,
  provider_message_id  text NOT NULL,
  status               text NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
  error_code           text,
  error_message        text,
  received_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, channel_id, provider_message_id, status)
);

CREATE TABLE message_templates (
  business_id  uuid NOT NULL REFERENCES businesses (id),
  event        text NOT NULL,
  locale       text NOT NULL,
  body         text NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, event, locale)
);

-- Sends per channel per second, shared by every worker process: the rate cap.
CREATE TABLE channel_send_slots (
  business_id  uuid NOT NULL REFERENCES businesses (id),
  channel_id   uuid NOT NULL,
  second       bigint NOT NULL,
  sent         integer NOT NULL DEFAULT 0,
  PRIMARY KEY (business_id, channel_id, second)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['social_channels', 'social_messages', 'social_pending_statuses', 'message_templates', 'channel_send_slots']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (business_id = app_business_id())
                    WITH CHECK (business_id = app_business_id())', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO karigar_app', t);
  END LOOP;
END $$;

-- A sender's lease on a pending message: while it holds, no other worker sends the message.
ALTER TABLE social_messages ADD COLUMN locked_until timestamptz;
