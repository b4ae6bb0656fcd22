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

-- receive_messages(items): stores a batch of inbound messages, each as its own business (RLS
-- applies: app.business_id is set per business, and the caller runs as karigar_app). Each item:
--   r  the request it came from        b, c, v  business, channel, the channel version it was checked with
--   pid provider message id            from_number, from_e164, from_user_id, to_number, text, type, metadata, edited_at
--   address, name                      the conversation (the reply address) and the sender's name
-- Returns one row per item: 'new' (with the message and its message.received event), 'duplicate',
-- or 'stale' (every item of a request with a stale channel: nothing of that request is stored).
--
-- Lock order, the same as one webhook's: every message first, then every conversation (in key
-- order), so a batch never holds a conversation while it waits on a message (the worker locks
-- message, then conversation). Should two batches still deadlock (replays of two requests holding
-- the same messages in opposite orders), the caller retries each request alone.
CREATE FUNCTION receive_messages(items jsonb)
RETURNS TABLE (r int, pid text, outcome text, message_id uuid, event_id bigint, business_id uuid)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  it jsonb;
  current_business text := '';
  stale int[] := '{}';
  fresh jsonb := '[]';
  ch record;
  mid uuid;
  cust uuid;
  conv record;
  eid bigint;
BEGIN
  -- Which requests checked a signature against a channel that has changed since (or is off).
  FOR ch IN SELECT DISTINCT x->>'b' AS b, x->>'c' AS c, x->>'v' AS v FROM jsonb_array_elements(items) x ORDER BY 1, 2 LOOP
    IF ch.b <> current_business THEN PERFORM set_config('app.business_id', ch.b, true); current_business := ch.b; END IF;
    IF NOT EXISTS (SELECT 1 FROM social_channels s WHERE s.id = ch.c::uuid AND s.is_active AND s.version = ch.v::bigint) THEN
      stale := stale || ARRAY(SELECT DISTINCT (x->>'r')::int FROM jsonb_array_elements(items) x
                              WHERE x->>'b' = ch.b AND x->>'c' = ch.c AND x->>'v' = ch.v);
    END IF;
  END LOOP;

  -- The messages, in the order given (a request's messages keep theirs: created_at is the clock at
  -- each insert); a replay (here or in a concurrent batch) stops at the unique key.
  FOR it IN SELECT x || jsonb_build_object('n', n) FROM jsonb_array_elements(items) WITH ORDINALITY AS e (x, n) ORDER BY n LOOP
    r := (it->>'r')::int; pid := it->>'pid'; business_id := (it->>'b')::uuid; message_id := NULL; event_id := NULL;
    IF r = ANY (stale) THEN outcome := 'stale'; RETURN NEXT; CONTINUE; END IF;
    IF it->>'b' <> current_business THEN PERFORM set_config('app.business_id', it->>'b', true); current_business := it->>'b'; END IF;
    cust := NULL;
    IF it->>'from_e164' IS NOT NULL THEN
      SELECT id INTO cust FROM customers WHERE mobile = it->>'from_e164';
    END IF;
    INSERT INTO social_messages (business_id, channel_id, direction, status, from_number, from_user_id, to_number, message_text,
      message_type, customer_id, provider_message_id, metadata, edited_at, created_at)
    VALUES ((it->>'b')::uuid, (it->>'c')::uuid, 'inbound', 'received', it->>'from_number', it->>'from_user_id', it->>'to_number',
      it->>'text', it->>'type', cust, it->>'pid', it->'metadata', (it->>'edited_at')::timestamptz, clock_timestamp())
    ON CONFLICT (business_id, channel_id, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING
    RETURNING id INTO mid;
    IF mid IS NULL THEN outcome := 'duplicate'; RETURN NEXT; CONTINUE; END IF;
    fresh := fresh || jsonb_build_array(it || jsonb_build_object('id', mid, 'customer_id', cust));
  END LOOP;

  -- Then their conversations, and one message.received event per new message.
  FOR it IN SELECT x FROM jsonb_array_elements(fresh) x ORDER BY x->>'b', x->>'c', x->>'address', (x->>'n')::int LOOP
    r := (it->>'r')::int; pid := it->>'pid'; business_id := (it->>'b')::uuid; message_id := (it->>'id')::uuid;
    IF it->>'b' <> current_business THEN PERFORM set_config('app.business_id', it->>'b', true); current_business := it->>'b'; END IF;
    cust := (it->>'customer_id')::uuid;
    IF it->>'address' IS NOT NULL THEN
      INSERT INTO conversations AS v (business_id, channel_id, address, name, customer_id)
      VALUES ((it->>'b')::uuid, (it->>'c')::uuid, it->>'address', it->>'name', cust)
      ON CONFLICT (business_id, channel_id, address) DO UPDATE
        SET name = coalesce(excluded.name, v.name), customer_id = coalesce(v.customer_id, excluded.customer_id)
      RETURNING v.id, v.customer_id INTO conv;
      UPDATE social_messages SET conversation_id = conv.id, customer_id = coalesce(conv.customer_id, customer_id)
        WHERE social_messages.business_id = (it->>'b')::uuid AND id = message_id;
      UPDATE conversations v SET
        last_message_id = CASE WHEN m.created_at >= coalesce(v.last_message_at, '-infinity') THEN m.id ELSE v.last_message_id END,
        last_message_at = greatest(v.last_message_at, m.created_at),
        unread = v.unread + 1,
        last_inbound_at = greatest(v.last_inbound_at, m.created_at),
        updated_at = now()
      FROM social_messages m WHERE v.business_id = (it->>'b')::uuid AND v.id = conv.id AND m.business_id = v.business_id AND m.id = message_id;
      cust := coalesce(conv.customer_id, cust);
    END IF;
    INSERT INTO events (business_id, type, payload)
    VALUES ((it->>'b')::uuid, 'message.received', jsonb_build_object('message_id', message_id, 'channel_id', it->>'c', 'customer_id', cust))
    RETURNING id INTO eid;
    event_id := eid; outcome := 'new';
    RETURN NEXT;
  END LOOP;
END $$;

GRANT EXECUTE ON FUNCTION receive_messages(jsonb) TO karigar_app;
