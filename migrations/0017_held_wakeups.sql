-- One inbound job per business while one waits, not one per held batch. In a burst every webhook
-- batch (a few messages) was held with a job of its own for the inbound step: queue_jobs() was about
-- a fifth of the database's CPU for a batch of 8 (167 of 917 µs, one connection), and the inbound
-- step then took hundreds of jobs a second whose first read had filed everything (the reads are
-- per business, and each files all the business's held messages).
--
-- held_wakeups holds a row per business with a 'message.held' job queued and not yet taken. A
-- holder queues a job only when there is no such row (or it is a minute old: a job that failed
-- for good never leaves a burst's messages without another); the inbound step deletes the row
-- before it files (take_held_wakeup), so a message held after that queues the
-- next job. No message is left without a job to file it: a holder takes a shared advisory lock on
-- its business until it commits, and the inbound step deletes the row under the exclusive lock (in
-- a transaction of its own, committed before it files), so it deletes only once every holder that
-- saw the row has committed — their messages are in the table its filing reads. The lock is in
-- memory (no WAL); a new holder waits only for the inbound step's short transaction.
CREATE TABLE held_wakeups (
  business_id uuid PRIMARY KEY,
  queued_at timestamptz NOT NULL
);
ALTER TABLE held_wakeups ENABLE ROW LEVEL SECURITY;
ALTER TABLE held_wakeups FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON held_wakeups USING (business_id = app_business_id()) WITH CHECK (business_id = app_business_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON held_wakeups TO karigar_app;

-- queue_held_job(listeners, biz): the job that wakes the inbound step for the business's held
-- messages, unless one is waiting (queued under a minute ago). The caller has set the business.
-- The lock's keys: 8710 for held wakeups (the two-key form never meets the one-key locks the
-- inbound step takes per sender), and the business; take_held_wakeup takes the same lock.
CREATE FUNCTION queue_held_job(listeners text[], biz uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(8710, hashtext(biz::text));
  IF EXISTS (SELECT 1 FROM held_wakeups w WHERE w.business_id = biz AND w.queued_at > now() - interval '1 minute') THEN
    RETURN;
  END IF;
  -- Another holder may insert or refresh the row at the same moment: one of them queues the job.
  INSERT INTO held_wakeups AS w (business_id, queued_at) VALUES (biz, now())
    ON CONFLICT (business_id) DO UPDATE SET queued_at = excluded.queued_at WHERE w.queued_at <= now() - interval '1 minute';
  IF FOUND THEN
    PERFORM queue_jobs(listeners, jsonb_build_object('business_id', biz, 'type', 'message.held'));
  END IF;
END $$;
GRANT EXECUTE ON FUNCTION queue_held_job(text[], uuid) TO karigar_app;

-- take_held_wakeup(biz): the inbound step takes the business's 'message.held' job; called in a
-- transaction of its own, committed before it files. The exclusive lock waits for every holder
-- that saw the row (they hold it shared until they commit); a message held after it queues the
-- next job.
CREATE FUNCTION take_held_wakeup(biz uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(8710, hashtext(biz::text));
  DELETE FROM held_wakeups w WHERE w.business_id = biz;
END $$;
GRANT EXECUTE ON FUNCTION take_held_wakeup(uuid) TO karigar_app;

-- hold_messages as in 0015, but for queue_held_job.
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
      PERFORM queue_held_job(listeners, biz);
    END IF;
  END LOOP;
END $$;

-- (CREATE OR REPLACE resets the function's settings.)
ALTER FUNCTION hold_messages(jsonb, text[]) SET plan_cache_mode = force_generic_plan;
