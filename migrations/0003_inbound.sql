-- Inbound messages: a global routing index from provider addresses to channels (the webhook knows
-- only the address until it has found the business), leads, and the sender identity columns.

-- Global, like the login index: looked up before the business is known. Several channels may
-- claim one address; the webhook's signature decides which (if any) a payload belongs to.
CREATE TABLE channel_routes (
  channel_type  text NOT NULL,
  address       text NOT NULL,
  business_id   uuid NOT NULL REFERENCES businesses (id),
  channel_id    uuid NOT NULL,
  PRIMARY KEY (channel_type, address, channel_id)
);
CREATE INDEX channel_routes_channel ON channel_routes (channel_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON channel_routes TO karigar_app;

-- Who wrote: a number when the provider gives one, else a provider user id (Meta's 2026
-- business-scoped user id, a Messenger PSID, a Telegram user id).
ALTER TABLE social_messages ADD COLUMN from_user_id text;
ALTER TABLE social_messages ADD COLUMN intent text;
CREATE INDEX social_messages_inbound_user ON social_messages (business_id, from_user_id, created_at DESC) WHERE direction = 'inbound';

CREATE TABLE leads (
  business_id   uuid NOT NULL REFERENCES businesses (id),
  id            uuid NOT NULL DEFAULT gen_random_uuid(),
  channel_id    uuid,
  name          text,
  mobile        text,
  email         text,
  sender_key    text NOT NULL,          -- the sender's identity on the channel: E.164 number or user id
  source        text NOT NULL,
  status        text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'contacted', 'qualified', 'converted', 'lost')),
  customer_id   uuid,
  sale_id       uuid,
  notes         text,
  metadata      jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, id),
  FOREIGN KEY (business_id, customer_id) REFERENCES customers (business_id, id),
  FOREIGN KEY (business_id, sale_id) REFERENCES sales (business_id, id)
);
-- One open lead per sender at a time.
CREATE UNIQUE INDEX leads_one_open ON leads (business_id, sender_key) WHERE status IN ('new', 'contacted', 'qualified');
CREATE INDEX leads_list ON leads (business_id, created_at DESC, id DESC);

ALTER TABLE leads ENABLE ROW LEVEL SECURITY;
ALTER TABLE leads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON leads USING (business_id = app_business_id()) WITH CHECK (business_id = app_business_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON leads TO karigar_app;
