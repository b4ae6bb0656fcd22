-- Webhook bursts: while a process answers more webhooks a second than it can file, it holds each
-- new message as received (one narrow row) and answers; the inbound step files held messages in
-- their conversations (receive_messages) before it reads them. A held row is as durable as a
-- stored message: the acknowledgement still waits for its commit.
--
-- No foreign keys: hold_messages() writes a row only for a channel it has just found active at
-- the version the signature was checked with, and the row lives until the inbound step files it.
CREATE TABLE held_messages (
  business_id uuid NOT NULL,
  channel_id uuid NOT NULL,
  provider_message_id text NOT NULL,
  received_at timestamptz NOT NULL,
  item jsonb NOT NULL,
  -- Why filing it failed: the inbound step leaves such a message here and files the rest.
  failed text,
  PRIMARY KEY (business_id, channel_id, provider_message_id)
);
-- The inbound step files a business's held messages in the order they came.
CREATE INDEX held_messages_order ON held_messages (business_id, received_at) WHERE failed IS NULL;
ALTER TABLE held_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE held_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON held_messages USING (business_id = app_business_id()) WITH CHECK (business_id = app_business_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON held_messages TO karigar_app; -- UPDATE: FOR UPDATE takes it

-- queue_jobs(listeners, job_data): one job holding `job_data` on each of the pg-boss queues `listeners`,
-- in the caller's transaction, exactly as pg-boss 10's insertJobs with no per-job options would:
-- the queue's retry, expiry and retention, else pg-boss's defaults. The one place that writes
-- pg-boss's table directly: check it when pg-boss is upgraded.
CREATE FUNCTION queue_jobs(listeners text[], job_data jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO pgboss.job (name, data, priority, start_after, dead_letter, expire_in, keep_until, retry_limit, retry_delay, retry_backoff, policy)
  SELECT q.name, job_data,
    0, now(), q.dead_letter,
    CASE WHEN q.expire_seconds IS NOT NULL THEN q.expire_seconds * interval '1s' ELSE interval '15 minutes' END,
    now() + CAST(coalesce((q.retention_minutes * 60)::text, '14 days') AS interval),
    coalesce(q.retry_limit, 2),
    CASE WHEN coalesce(q.retry_backoff, false) THEN greatest(coalesce(q.retry_delay, 0), 1) ELSE coalesce(q.retry_delay, 0) END,
    coalesce(q.retry_backoff, false), q.policy
  FROM pgboss.queue q
  WHERE q.name = ANY (listeners)
  ON CONFLICT DO NOTHING;
END $$;
GRANT EXECUTE ON FUNCTION queue_jobs(text[], jsonb) TO karigar_app;
ALTER FUNCTION queue_jobs(text[], jsonb) SET plan_cache_mode = force_generic_plan;

-- stale_requests(items): the requests (r) whose signature was checked against a channel that has
-- changed since or is off (v, the version it was checked with). An item without v was checked when
-- it was held, and is not checked again.
CREATE FUNCTION stale_requests(items jsonb) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE
  stale int[] := '{}';
  ch record;
BEGIN
  FOR ch IN SELECT DISTINCT (x->>'b')::uuid AS b, (x->>'c')::uuid AS c, (x->>'v')::bigint AS v FROM jsonb_array_elements(items) x WHERE x ? 'v' ORDER BY 1, 2 LOOP
    PERFORM set_config('app.business_id', ch.b::text, true);
    IF NOT EXISTS (SELECT 1 FROM social_channels s WHERE s.business_id = ch.b AND s.id = ch.c AND s.is_active AND s.version = ch.v) THEN
      stale := stale || ARRAY(SELECT DISTINCT (x->>'r')::int FROM jsonb_array_elements(items) x
                              WHERE (x->>'b')::uuid = ch.b AND (x->>'c')::uuid = ch.c AND (x->>'v')::bigint = ch.v);
    END IF;
  END LOOP;
  RETURN stale;
END $$;
GRANT EXECUTE ON FUNCTION stale_requests(jsonb) TO karigar_app;
ALTER FUNCTION stale_requests(jsonb) SET plan_cache_mode = force_generic_plan;

-- hold_messages(items, listeners): as receive_messages, but each new message is only held. Items
-- and outcomes as receive_messages' ('new' with no message id yet). A message already stored or
-- already held is a 'duplicate'. For each business one job per listener is queued, holding no
-- event: {business_id, type: 'message.held'}: it wakes the inbound step, which files them.
CREATE FUNCTION hold_messages(items jsonb, listeners text[])
RETURNS TABLE (r int, pid text, outcome text, message_id uuid, business_id uuid)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  biz uuid;
  stale int[] := '{}';
  fresh jsonb;
BEGIN
  stale := stale_requests(items);
  RETURN QUERY SELECT (x->>'r')::int, x->>'pid', 'stale'::text, NULL::uuid, (x->>'b')::uuid
    FROM jsonb_array_elements(items) x WHERE (x->>'r')::int = ANY (stale);

  FOR biz IN SELECT DISTINCT (x->>'b')::uuid FROM jsonb_array_elements(items) x ORDER BY 1 LOOP
    PERFORM set_config('app.business_id', biz::text, true);
    -- The time each came is kept as the message's: filed later, it keeps its place.
    WITH src AS (
      SELECT DISTINCT ON (x.c, x.pid) e.j, x.c, x.pid, e.n
      FROM jsonb_array_elements(items) WITH ORDINALITY AS e (j, n),
        jsonb_to_record(e.j) AS x (r int, b uuid, c uuid, pid text)
      WHERE x.b = biz AND NOT (x.r = ANY (stale))
      ORDER BY x.c, x.pid, e.n),
    ins AS (
      INSERT INTO held_messages AS h (business_id, channel_id, provider_message_id, received_at, item)
      SELECT biz, s.c, s.pid, t.at, (s.j - 'r' - 'v') || jsonb_build_object('at', t.at)
      FROM src s CROSS JOIN LATERAL (SELECT clock_timestamp() + s.n * interval '1 microsecond' AS at) t
      WHERE NOT EXISTS (SELECT 1 FROM social_messages m
                        WHERE m.business_id = biz AND m.channel_id = s.c AND m.provider_message_id = s.pid)
      ORDER BY s.n
      ON CONFLICT (business_id, channel_id, provider_message_id) DO NOTHING
      RETURNING h.channel_id, h.provider_message_id)
    SELECT coalesce(jsonb_agg(jsonb_build_object('n', s.n)), '[]')
    INTO fresh
    FROM ins i JOIN src s ON s.c = i.channel_id AND s.pid = i.provider_message_id;

    RETURN QUERY SELECT (j->>'r')::int, j->>'pid',
        CASE WHEN e.n IN (SELECT (f->>'n')::int FROM jsonb_array_elements(fresh) f) THEN 'new' ELSE 'duplicate' END,
        NULL::uuid, biz
      FROM jsonb_array_elements(items) WITH ORDINALITY AS e (j, n)
      WHERE (j->>'b')::uuid = biz AND NOT ((j->>'r')::int = ANY (stale));

    IF fresh <> '[]' AND cardinality(listeners) > 0 THEN
      PERFORM queue_jobs(listeners, jsonb_build_object('business_id', biz, 'type', 'message.held'));
    END IF;
  END LOOP;
END $$;

GRANT EXECUTE ON FUNCTION hold_messages(jsonb, text[]) TO karigar_app;
ALTER FUNCTION hold_messages(jsonb, text[]) SET plan_cache_mode = force_generic_plan;

-- receive_messages as in 0010, and it also files held messages: an item without `v` was checked
-- when it was held (it is not checked against the channel again), and an item's `at` is the time
-- it came (its created_at). A message still held is a duplicate (its replay after the burst).
CREATE OR REPLACE FUNCTION receive_messages(items jsonb, listeners text[])
RETURNS TABLE (r int, pid text, outcome text, message_id uuid, event_id bigint, business_id uuid)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  biz uuid;
  stale int[] := '{}';
  conv record;
  fresh jsonb;
BEGIN
  stale := stale_requests(items);
  RETURN QUERY SELECT (x->>'r')::int, x->>'pid', 'stale'::text, NULL::uuid, NULL::bigint, (x->>'b')::uuid
    FROM jsonb_array_elements(items) x WHERE (x->>'r')::int = ANY (stale);

  FOR biz IN SELECT DISTINCT (x->>'b')::uuid FROM jsonb_array_elements(items) x ORDER BY 1 LOOP
    PERFORM set_config('app.business_id', biz::text, true);

    -- A new sender's conversation (its latest name; the customer whose mobile this is). An existing
    -- one is left as it is and not locked (DO NOTHING); one being made by a concurrent batch is
    -- waited for.
    INSERT INTO conversations AS v (business_id, channel_id, address, name, customer_id)
    SELECT biz, s.c, s.address, s.name,
      (SELECT cu.id FROM customers cu WHERE cu.business_id = biz AND cu.mobile = s.from_e164 LIMIT 1)
    FROM (
      SELECT DISTINCT ON (x.c, x.address) x.c, x.address, x.name, x.from_e164
      FROM jsonb_array_elements(items) WITH ORDINALITY AS e (j, n),
        jsonb_to_record(e.j) AS x (r int, b uuid, c uuid, address text, name text, from_e164 text)
      WHERE x.b = biz AND NOT (x.r = ANY (stale)) AND x.address IS NOT NULL
      ORDER BY x.c, x.address, e.n DESC) s
    ORDER BY s.c, s.address
    ON CONFLICT (business_id, channel_id, address) DO NOTHING;

    -- The messages, in the order given (created_at is the clock at each insert plus the message's
    -- place in the batch in microseconds, so a request's messages keep their order even where the
    -- clock ticks in milliseconds, as PGlite's does), each filed in its conversation, with the
    -- customer (the conversation's, else the one whose mobile this is). A replay, here or in a
    -- concurrent batch, stops at the unique key.
    WITH src AS (
      SELECT DISTINCT ON (x.c, x.pid) x.*, e.n
      FROM jsonb_array_elements(items) WITH ORDINALITY AS e (j, n),
        jsonb_to_record(e.j) AS x (r int, b uuid, c uuid, pid text, from_number text, from_e164 text, from_user_id text, to_number text,
          text text, type text, metadata jsonb, edited_at timestamptz, address text, name text, at timestamptz)
      WHERE x.b = biz AND NOT (x.r = ANY (stale))
      ORDER BY x.c, x.pid, e.n),
    ins AS (
      INSERT INTO social_messages AS m (business_id, channel_id, direction, status, from_number, from_user_id, to_number, message_text,
        message_type, customer_id, provider_message_id, metadata, edited_at, conversation_id, created_at)
      SELECT biz, s.c, 'inbound', 'received', s.from_number, s.from_user_id, s.to_number, s.text, s.type,
        coalesce(v.customer_id, (SELECT cu.id FROM customers cu WHERE cu.business_id = biz AND cu.mobile = s.from_e164 LIMIT 1)),
        s.pid, s.metadata, s.edited_at, v.id, coalesce(s.at, clock_timestamp() + s.n * interval '1 microsecond')
      FROM src s
        LEFT JOIN LATERAL (SELECT cv.id, cv.customer_id FROM conversations cv
          WHERE cv.business_id = biz AND cv.channel_id = s.c AND cv.address = s.address LIMIT 1) v ON true
      -- A replay of a message held in a burst and not yet filed is a duplicate too.
      WHERE NOT EXISTS (SELECT 1 FROM held_messages h WHERE h.business_id = biz AND h.channel_id = s.c AND h.provider_message_id = s.pid)
      ORDER BY s.n
      ON CONFLICT (business_id, channel_id, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING
      RETURNING m.id, m.channel_id, m.provider_message_id, m.conversation_id, m.customer_id, m.created_at)
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', i.id, 'c', i.channel_id, 'conv', i.conversation_id, 'customer', i.customer_id,
        'at', i.created_at, 'r', s.r, 'pid', s.pid, 'n', s.n, 'address', s.address, 'name', s.name)), '[]')
    INTO fresh
    FROM ins i JOIN src s ON s.c = i.channel_id AND s.pid = i.provider_message_id;

    RETURN QUERY SELECT (j->>'r')::int, j->>'pid', 'duplicate'::text, NULL::uuid, NULL::bigint, biz
      FROM jsonb_array_elements(items) WITH ORDINALITY AS e (j, n)
      WHERE (j->>'b')::uuid = biz AND NOT ((j->>'r')::int = ANY (stale))
        AND e.n NOT IN (SELECT (f->>'n')::int FROM jsonb_array_elements(fresh) f);

    CONTINUE WHEN fresh = '[]';

    -- Each conversation notes its new messages: the latest is its last, each one is unread and
    -- opens the reply window; the sender's latest name, and the customer when it had none.
    FOR conv IN
      SELECT f.conv, count(*)::int AS k, max(f.at) AS last_at,
        (array_agg(f.id ORDER BY f.at DESC, f.id DESC))[1] AS last_id,
        (array_agg(f.name ORDER BY f.n DESC) FILTER (WHERE f.name IS NOT NULL))[1] AS name,
        (array_agg(f.customer) FILTER (WHERE f.customer IS NOT NULL))[1] AS customer_id
      FROM jsonb_to_recordset(fresh) AS f (id uuid, conv uuid, customer uuid, at timestamptz, c uuid, address text, name text, n int)
      WHERE f.conv IS NOT NULL
      GROUP BY f.conv, f.c, f.address
      ORDER BY f.c, f.address
    LOOP
      UPDATE conversations v SET
        last_message_id = CASE WHEN conv.last_at >= coalesce(v.last_message_at, '-infinity') THEN conv.last_id ELSE v.last_message_id END,
        last_message_at = greatest(v.last_message_at, conv.last_at),
        unread = v.unread + conv.k,
        last_inbound_at = greatest(v.last_inbound_at, conv.last_at),
        name = coalesce(conv.name, v.name),
        customer_id = coalesce(v.customer_id, conv.customer_id),
        updated_at = now()
      WHERE v.business_id = biz AND v.id = conv.conv;
    END LOOP;

    -- One message.received event per new message, and its jobs.
    WITH f AS (SELECT * FROM jsonb_to_recordset(fresh) AS f (id uuid, c uuid, customer uuid, r int, pid text, n int)),
    ev AS (
      INSERT INTO events (business_id, type, payload)
      SELECT biz, 'message.received', jsonb_build_object('message_id', f.id, 'channel_id', f.c, 'customer_id', f.customer)
      FROM f
      ORDER BY f.n
      RETURNING events.id, (events.payload->>'message_id')::uuid AS mid)
    SELECT coalesce(jsonb_agg(jsonb_build_object('r', f.r, 'pid', f.pid, 'id', f.id, 'event', ev.id)), '[]')
    INTO fresh FROM f JOIN ev ON ev.mid = f.id;

    IF cardinality(listeners) > 0 THEN
      -- One job per listener for the business's messages of this batch.
      PERFORM queue_jobs(listeners, jsonb_build_object('business_id', biz, 'type', 'message.received',
        'event_ids', (SELECT jsonb_agg((e->>'event')::bigint ORDER BY (e->>'event')::bigint) FROM jsonb_array_elements(fresh) e)));
    END IF;

    RETURN QUERY SELECT (e->>'r')::int, e->>'pid', 'new'::text, (e->>'id')::uuid, (e->>'event')::bigint, biz FROM jsonb_array_elements(fresh) e;
  END LOOP;
END $$;

-- (CREATE OR REPLACE resets the function's settings.)
ALTER FUNCTION receive_messages(jsonb, text[]) SET plan_cache_mode = force_generic_plan;
