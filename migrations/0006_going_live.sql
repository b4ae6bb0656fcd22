-- Going live on a real number: a channel is `incomplete` while its provider lacks a credential it
-- needs (it sends nothing), every channel has a verify token for Meta's handshake, and the last
-- credentials check keeps what the provider said about the account.
-- Written to be re-runnable: the tests run it again over channels made the old way.

ALTER TABLE social_channels DROP CONSTRAINT IF EXISTS social_channels_status_check;
ALTER TABLE social_channels ADD CONSTRAINT social_channels_status_check
  CHECK (status IN ('active', 'needs_attention', 'incomplete'));
ALTER TABLE social_channels ADD COLUMN IF NOT EXISTS provider_info jsonb;
ALTER TABLE social_channels ADD COLUMN IF NOT EXISTS checked_at timestamptz;

-- The owner (or a superuser) runs migrations; row-level security is forced even on the owner, so it
-- is lifted for the two statements that fix existing rows of every business, then forced again.
ALTER TABLE social_channels NO FORCE ROW LEVEL SECURITY;

-- Every channel gets a verify token (random, URL-safe) when it has none, and its routing entry.
UPDATE social_channels
   SET settings = settings || jsonb_build_object('verify_token', replace(gen_random_uuid()::text, '-', ''))
 WHERE coalesce(settings->>'verify_token', '') = '';
INSERT INTO channel_routes (channel_type, address, business_id, channel_id)
SELECT channel_type, 'verify:' || (settings->>'verify_token'), business_id, id FROM social_channels
ON CONFLICT DO NOTHING;

-- The same table as REQUIRED_CREDENTIALS in src/modules/social/providers/provider.ts, with the
-- same wording, so an old channel reads exactly like a new one.
WITH needs AS (
  SELECT c.business_id, c.id, string_agg(n.label || ' (' || n.field || ')', ', ' ORDER BY n.pos) AS missing
    FROM social_channels c
    JOIN (VALUES
      ('meta', 1, 'api_key', 'access token'), ('meta', 2, 'webhook_secret', 'app secret'), ('meta', 3, 'account_id', 'phone number ID'),
      ('messenger', 1, 'api_key', 'page access token'), ('messenger', 2, 'webhook_secret', 'app secret'),
      ('instagram', 1, 'api_key', 'access token'), ('instagram', 2, 'webhook_secret', 'app secret'),
      ('twilio', 1, 'api_key', 'account SID'), ('twilio', 2, 'api_secret', 'auth token'),
      ('telegram', 1, 'api_key', 'bot token'), ('telegram', 2, 'webhook_secret', 'secret token')
    ) AS n (provider, pos, field, label)
      ON n.provider = coalesce(c.settings->>'provider',
           CASE c.channel_type WHEN 'whatsapp' THEN 'meta' WHEN 'facebook' THEN 'messenger' ELSE c.channel_type END)
   WHERE CASE n.field
           WHEN 'api_key' THEN c.api_key_enc IS NULL
           WHEN 'api_secret' THEN c.api_secret_enc IS NULL
           WHEN 'webhook_secret' THEN c.webhook_secret_enc IS NULL
           WHEN 'account_id' THEN coalesce(c.account_id, '') = ''
         END
   GROUP BY c.business_id, c.id
)
UPDATE social_channels c
   SET status = 'incomplete', status_reason = 'Missing: ' || needs.missing, updated_at = now()
  FROM needs
 WHERE c.business_id = needs.business_id AND c.id = needs.id;

ALTER TABLE social_channels FORCE ROW LEVEL SECURITY;
