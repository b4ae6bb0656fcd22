-- An address a provider names in its webhooks (a WhatsApp phone number ID, a Facebook page or
-- Instagram account id, a Twilio WhatsApp number) belongs to at most one business at a time: the
-- one with an enabled channel at it. Held by a unique key, so two businesses enabling the same
-- address at the same instant cannot both succeed (the second waits for the first and gets 409
-- address_in_use). Every business may see who holds an address (that is the point); a business
-- may only claim or release its own, by row-level security.
CREATE TABLE channel_addresses (
  channel_type  text NOT NULL,
  address       text NOT NULL,
  business_id   uuid NOT NULL REFERENCES businesses (id),
  claimed_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_type, address)
);
CREATE INDEX channel_addresses_business ON channel_addresses (business_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON channel_addresses TO karigar_app;
ALTER TABLE channel_addresses ENABLE ROW LEVEL SECURITY;
ALTER TABLE channel_addresses FORCE ROW LEVEL SECURITY;
CREATE POLICY address_visible ON channel_addresses FOR SELECT USING (true);
CREATE POLICY address_claim ON channel_addresses FOR INSERT WITH CHECK (business_id = app_business_id());
CREATE POLICY address_keep ON channel_addresses FOR UPDATE USING (business_id = app_business_id()) WITH CHECK (business_id = app_business_id());
CREATE POLICY address_release ON channel_addresses FOR DELETE USING (business_id = app_business_id());

-- Existing enabled channels claim their addresses, the oldest first.
ALTER TABLE social_channels NO FORCE ROW LEVEL SECURITY;
ALTER TABLE channel_addresses NO FORCE ROW LEVEL SECURITY;
INSERT INTO channel_addresses (channel_type, address, business_id)
SELECT channel_type, address, business_id FROM (
  SELECT channel_type, business_id, created_at,
         CASE WHEN channel_type = 'whatsapp' AND settings->>'provider' = 'twilio' THEN phone_number ELSE account_id END AS address
    FROM social_channels
   WHERE is_active AND channel_type <> 'telegram'
) c
WHERE address IS NOT NULL
ORDER BY created_at
ON CONFLICT DO NOTHING;
ALTER TABLE social_channels FORCE ROW LEVEL SECURITY;
ALTER TABLE channel_addresses FORCE ROW LEVEL SECURITY;
