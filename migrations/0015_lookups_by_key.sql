-- What a batch reads no longer depends on what the planner guessed when a connection first ran it.
-- The functions' statements are planned once per connection, at the first call, and the plan is
-- kept until the tables are analysed. On a new database, planned while the tables were nearly
-- empty, two looks per message read the business's whole share of a table instead of one row,
-- for every message, as the shop grew (found in the bench: 1,162 rows per held message once the
-- shop had 1,162 messages; ~730 and ~1,000 per message in test/query-plans.test.ts):
--
-- - receive_messages' look among the held messages (a replay of a message still held is a
--   duplicate), as NOT EXISTS, was made a join reading the business's held rows. It is now a
--   scalar subquery, which is never made a join: it runs per message with the three keys, and the
--   held table's only index that has them is its primary key.
-- - hold_messages' look among the stored messages (a replay of a message already filed) chose,
--   on tables that looked tiny, an index by the business alone (social_messages_changed: smaller,
--   so cheaper when every index looked one row long), however it was written. It is gone: holding
--   reads no stored message at all. A replay of an already filed message that comes during a
--   burst is held again and answered "received"; filing it stops at the stored message's unique
--   key, so it is still stored once and read once. A replay of a message still held is a
--   duplicate, as before (the held table's primary key), and so is every replay outside a burst.
--
-- The functions are otherwise as in 0014 (CREATE OR REPLACE restates a body whole).

-- hold_messages(items, listeners): as receive_messages, but each new message is only held. Items
-- and outcomes as receive_messages' ('new' with no message id yet); a message already held is a
-- 'duplicate'. For each business one job per listener is queued, holding no event:
-- {business_id, type: 'message.held'}: it wakes the inbound step, which files them.
CREATE OR REPLACE FUNCTION hold_messages(items jsonb, listeners text[])
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

-- (CREATE OR REPLACE resets the function's settings.)
ALTER FUNCTION hold_messages(jsonb, text[]) SET plan_cache_mode = force_generic_plan;

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
      WHERE (SELECT true FROM held_messages h
             WHERE h.business_id = biz AND h.channel_id = s.c AND h.provider_message_id = s.pid) IS NULL
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
