-- Webhook ingest in one round trip, for many webhooks at once (group commit).
--
-- A channel's version goes up with every change of its row, however it is made: a process that
-- cached the channel (its decrypted secret) hands the version back with each message, and a
-- message whose channel has moved on is not stored ("stale"): the process reloads the channel and
-- checks the signature again. A changed secret or a deactivation so takes effect at once on
-- every process, whatever it cached.
ALTER TABLE social_channels ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 1;

CREATE FUNCTION social_channels_next_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := OLD.version + 1;
  RETURN NEW;
END $$;

CREATE TRIGGER social_channels_version BEFORE UPDATE ON social_channels
  FOR EACH ROW EXECUTE FUNCTION social_channels_next_version();

-- receive_messages(items): stores a batch of inbound messages, business by business (RLS
-- applies: app.business_id is set for each, and the caller runs as karigar_app), each step one
-- set-based statement over the business's messages. Each item:
--   r  the request it came from        b, c, v  business, channel, the channel version it was checked with
--   pid provider message id            from_number, from_e164, from_user_id, to_number, text, type, metadata, edited_at
--   address, name                      the conversation (the reply address) and the sender's name
-- Returns one row per item: 'new' (with the message and its message.received event), 'duplicate',
-- or 'stale' (every item of a request with a stale channel: nothing of that request is stored).
-- For each new message's event, a job is queued on each of `listeners` (pg-boss queues), in this
-- transaction, exactly as pg-boss's insert() would: the queue's retry, expiry and retention.
--
-- Lock order, the same as one webhook's: the messages first, then their conversations (in channel,
-- address order), so a batch never holds a conversation while it waits on a message (the worker
-- locks message, then conversation). Should two batches still deadlock, the caller retries each
-- request alone.
CREATE FUNCTION receive_messages(items jsonb, listeners text[])
RETURNS TABLE (r int, pid text, outcome text, message_id uuid, event_id bigint, business_id uuid)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  biz uuid;
  stale int[] := '{}';
  ch record;
  fresh jsonb;
BEGIN
  -- Which requests checked a signature against a channel that has changed since (or is off).
  FOR ch IN SELECT DISTINCT (x->>'b')::uuid AS b, (x->>'c')::uuid AS c, (x->>'v')::bigint AS v FROM jsonb_array_elements(items) x ORDER BY 1, 2 LOOP
    PERFORM set_config('app.business_id', ch.b::text, true);
    IF NOT EXISTS (SELECT 1 FROM social_channels s WHERE s.id = ch.c AND s.is_active AND s.version = ch.v) THEN
      stale := stale || ARRAY(SELECT DISTINCT (x->>'r')::int FROM jsonb_array_elements(items) x
                              WHERE (x->>'b')::uuid = ch.b AND (x->>'c')::uuid = ch.c AND (x->>'v')::bigint = ch.v);
    END IF;
  END LOOP;
  RETURN QUERY SELECT (x->>'r')::int, x->>'pid', 'stale'::text, NULL::uuid, NULL::bigint, (x->>'b')::uuid
    FROM jsonb_array_elements(items) x WHERE (x->>'r')::int = ANY (stale);

  FOR biz IN SELECT DISTINCT (x->>'b')::uuid FROM jsonb_array_elements(items) x ORDER BY 1 LOOP
    PERFORM set_config('app.business_id', biz::text, true);

    -- The messages, in the order given (created_at is the clock at each insert plus the message's
    -- place in the batch in microseconds, so a request's messages keep their order even where the
    -- clock ticks in milliseconds, as PGlite's does), each with its conversation when the sender has one already and
    -- the customer (the conversation's, else the one whose mobile this is). A replay, here or in a
    -- concurrent batch, stops at the unique key.
    WITH src AS (
      SELECT DISTINCT ON (x.c, x.pid) x.*, e.n
      FROM jsonb_array_elements(items) WITH ORDINALITY AS e (j, n),
        jsonb_to_record(e.j) AS x (r int, b uuid, c uuid, pid text, from_number text, from_e164 text, from_user_id text, to_number text,
          text text, type text, metadata jsonb, edited_at timestamptz, address text, name text)
      WHERE x.b = biz AND NOT (x.r = ANY (stale))
      ORDER BY x.c, x.pid, e.n),
    ins AS (
      INSERT INTO social_messages AS m (business_id, channel_id, direction, status, from_number, from_user_id, to_number, message_text,
        message_type, customer_id, provider_message_id, metadata, edited_at, conversation_id, created_at)
      SELECT biz, s.c, 'inbound', 'received', s.from_number, s.from_user_id, s.to_number, s.text, s.type,
        coalesce(v.customer_id, cu.id), s.pid, s.metadata, s.edited_at, v.id, clock_timestamp() + s.n * interval '1 microsecond'
      FROM src s
        LEFT JOIN customers cu ON cu.mobile = s.from_e164
        LEFT JOIN conversations v ON v.channel_id = s.c AND v.address = s.address
      ORDER BY s.n
      ON CONFLICT (business_id, channel_id, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING
      RETURNING m.id, m.channel_id, m.provider_message_id, m.conversation_id, m.customer_id)
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', i.id, 'c', i.channel_id, 'conv', i.conversation_id, 'customer', i.customer_id,
        'r', s.r, 'pid', s.pid, 'n', s.n, 'address', s.address, 'name', s.name)), '[]')
    INTO fresh
    FROM ins i JOIN src s ON s.c = i.channel_id AND s.pid = i.provider_message_id;

    RETURN QUERY SELECT (j->>'r')::int, j->>'pid', 'duplicate'::text, NULL::uuid, NULL::bigint, biz
      FROM jsonb_array_elements(items) WITH ORDINALITY AS e (j, n)
      WHERE (j->>'b')::uuid = biz AND NOT ((j->>'r')::int = ANY (stale))
        AND e.n NOT IN (SELECT (f->>'n')::int FROM jsonb_array_elements(fresh) f);

    CONTINUE WHEN fresh = '[]';

    -- A new sender's conversation, then its messages filed in it.
    WITH f AS (SELECT * FROM jsonb_to_recordset(fresh) AS f (id uuid, c uuid, conv uuid, customer uuid, address text, name text, n int)),
    made AS (
      INSERT INTO conversations AS v (business_id, channel_id, address, name, customer_id)
      SELECT DISTINCT ON (f.c, f.address) biz, f.c, f.address, f.name, f.customer
      FROM f WHERE f.conv IS NULL AND f.address IS NOT NULL
      ORDER BY f.c, f.address, f.n DESC
      ON CONFLICT (business_id, channel_id, address) DO UPDATE SET customer_id = coalesce(v.customer_id, excluded.customer_id)
      RETURNING v.id, v.channel_id, v.address, v.customer_id)
    UPDATE social_messages m SET conversation_id = made.id, customer_id = coalesce(made.customer_id, m.customer_id)
    FROM f JOIN made ON made.channel_id = f.c AND made.address = f.address
    WHERE f.conv IS NULL AND m.id = f.id;

    -- Each conversation notes its new messages: the latest is its last, each one is unread and
    -- opens the reply window; the sender's latest name, and the customer when it had none.
    PERFORM 1 FROM conversations v
      WHERE v.id IN (SELECT m.conversation_id FROM social_messages m WHERE m.id IN (SELECT (f->>'id')::uuid FROM jsonb_array_elements(fresh) f))
      ORDER BY v.channel_id, v.address FOR NO KEY UPDATE;
    UPDATE conversations v SET
      last_message_id = CASE WHEN a.last_at >= coalesce(v.last_message_at, '-infinity') THEN a.last_id ELSE v.last_message_id END,
      last_message_at = greatest(v.last_message_at, a.last_at),
      unread = v.unread + a.k,
      last_inbound_at = greatest(v.last_inbound_at, a.last_at),
      name = coalesce(a.name, v.name),
      customer_id = coalesce(v.customer_id, a.customer_id),
      updated_at = now()
    FROM (
      SELECT m.conversation_id AS conv, count(*)::int AS k, max(m.created_at) AS last_at,
        (array_agg(m.id ORDER BY m.created_at DESC, m.id DESC))[1] AS last_id,
        (array_agg(f.name ORDER BY f.n DESC) FILTER (WHERE f.name IS NOT NULL))[1] AS name,
        (array_agg(m.customer_id) FILTER (WHERE m.customer_id IS NOT NULL))[1] AS customer_id
      FROM jsonb_to_recordset(fresh) AS f (id uuid, name text, n int) JOIN social_messages m ON m.id = f.id
      WHERE m.conversation_id IS NOT NULL
      GROUP BY m.conversation_id) a
    WHERE v.id = a.conv;

    -- One message.received event per new message, and its jobs.
    WITH f AS (SELECT * FROM jsonb_to_recordset(fresh) AS f (id uuid, r int, pid text, n int)),
    ev AS (
      INSERT INTO events (business_id, type, payload)
      SELECT biz, 'message.received', jsonb_build_object('message_id', m.id, 'channel_id', m.channel_id, 'customer_id', m.customer_id)
      FROM f JOIN social_messages m ON m.id = f.id
      ORDER BY f.n
      RETURNING events.id, (events.payload->>'message_id')::uuid AS mid)
    SELECT coalesce(jsonb_agg(jsonb_build_object('r', f.r, 'pid', f.pid, 'id', f.id, 'event', ev.id)), '[]')
    INTO fresh FROM f JOIN ev ON ev.mid = f.id;

    IF cardinality(listeners) > 0 THEN
      -- pg-boss 10's insertJobs with no per-job options: the queue's settings, else pg-boss's defaults.
      INSERT INTO pgboss.job (name, data, priority, start_after, dead_letter, expire_in, keep_until, retry_limit, retry_delay, retry_backoff, policy)
      SELECT q.name, jsonb_build_object('business_id', biz, 'event_id', (e->>'event')::bigint, 'type', 'message.received'), 0, now(), q.dead_letter,
        CASE WHEN q.expire_seconds IS NOT NULL THEN q.expire_seconds * interval '1s' ELSE interval '15 minutes' END,
        now() + CAST(coalesce((q.retention_minutes * 60)::text, '14 days') AS interval),
        coalesce(q.retry_limit, 2),
        CASE WHEN coalesce(q.retry_backoff, false) THEN greatest(coalesce(q.retry_delay, 0), 1) ELSE coalesce(q.retry_delay, 0) END,
        coalesce(q.retry_backoff, false), q.policy
      FROM jsonb_array_elements(fresh) e, pgboss.queue q
      WHERE q.name = ANY (listeners)
      ON CONFLICT DO NOTHING;
    END IF;

    RETURN QUERY SELECT (e->>'r')::int, e->>'pid', 'new'::text, (e->>'id')::uuid, (e->>'event')::bigint, biz FROM jsonb_array_elements(fresh) e;
  END LOOP;
END $$;

GRANT EXECUTE ON FUNCTION receive_messages(jsonb, text[]) TO karigar_app;

-- Its statements take the batch as a parameter: with custom plans (the default at first) each would
-- be planned again for every batch, which costs more than running it.
ALTER FUNCTION receive_messages(jsonb, text[]) SET plan_cache_mode = force_generic_plan;
