-- The rate cap as a sliding window: at most the cap's sends of a channel in any (1000 + margin) ms
-- (see src/modules/social/notifications/pace.ts). The GCRA of 0012 spaced every send one interval
-- from the last, so a burst of notifications took a whole second to go even when the second before
-- had been empty; now the cap's worth goes at once (a few ms apart), and the next send waits until
-- the cap-th last one is a window old. `recent` holds the channel's slots (ms since the epoch, by
-- the database's clock) within the last window; the first send after an idle second is entered
-- with its allowance (it is often the slowest to arrive).
-- The earliest next slot (next_slot_at) is no longer kept: it is the last slot and the gap.
ALTER TABLE channel_send_pace ADD COLUMN recent float8[] NOT NULL DEFAULT '{}';
ALTER TABLE channel_send_pace DROP COLUMN next_slot_at;

-- Books one send of a channel: its slot (ms since the epoch), or, when that is more than the
-- horizon away, how long to wait before asking again (nothing booked). The channel's row is locked
-- until the transaction ends: every process books through it, so the cap holds across processes.
CREATE FUNCTION book_send_slot(p_business uuid, p_channel uuid, p_cap int, p_window_ms float8, p_gap_ms float8,
    p_lead_ms float8, p_horizon_ms float8, p_allowance_ms float8)
  RETURNS TABLE (slot_at float8, retry_in_ms float8, db_now float8) LANGUAGE plpgsql AS $$
DECLARE
  now_ms float8 := extract(epoch FROM clock_timestamp()) * 1000;
  soonest float8 := now_ms + p_lead_ms;
  pace channel_send_pace%ROWTYPE;
  last_ms float8;
  cap_th float8;
  idle boolean;
  s float8;
BEGIN
  INSERT INTO channel_send_pace (business_id, channel_id, last_slot_at)
    VALUES (p_business, p_channel, to_timestamp(0)) ON CONFLICT DO NOTHING;
  SELECT * INTO pace FROM channel_send_pace WHERE business_id = p_business AND channel_id = p_channel FOR UPDATE;
  last_ms := extract(epoch FROM pace.last_slot_at) * 1000;
  idle := last_ms < soonest - 1000;
  -- The cap-th latest send in the window: the next may go one window after it.
  SELECT x INTO cap_th FROM unnest(pace.recent) AS x ORDER BY x DESC OFFSET p_cap - 1 LIMIT 1;
  s := greatest(soonest, CASE WHEN idle THEN soonest ELSE last_ms + p_gap_ms END, cap_th + p_window_ms);
  IF s - now_ms > p_horizon_ms THEN
    RETURN QUERY SELECT NULL::float8, s - now_ms - p_horizon_ms / 2, now_ms;
    RETURN;
  END IF;
  UPDATE channel_send_pace SET last_slot_at = to_timestamp(s / 1000),
      recent = ARRAY(SELECT x FROM unnest(pace.recent) AS x WHERE x > s - p_window_ms) || (s + CASE WHEN idle THEN p_allowance_ms ELSE 0 END)
    WHERE business_id = p_business AND channel_id = p_channel;
  RETURN QUERY SELECT s, NULL::float8, now_ms;
END $$;
