-- The per-channel rate cap as a GCRA ("generic cell rate algorithm", a token bucket without
-- tokens): one row per channel holding the earliest time its next send may go. A sender takes a
-- slot by moving that time one interval on, in one atomic UPDATE … RETURNING shared by every
-- process, and sends at its slot. Sends go at least one interval apart, so every sliding second
-- holds at most the cap (the interval keeps a margin for arrival jitter: see
-- src/modules/social/notifications/pace.ts).
-- It replaces the calendar-second slot counts, which let a full second's end meet the next one's
-- start (twice the cap inside one sliding second).
CREATE TABLE channel_send_pace (
  business_id   uuid NOT NULL REFERENCES businesses (id),
  channel_id    uuid NOT NULL,
  -- The slot last booked, and the earliest the next may be.
  last_slot_at  timestamptz NOT NULL,
  next_slot_at  timestamptz NOT NULL,
  PRIMARY KEY (business_id, channel_id)
);
ALTER TABLE channel_send_pace ENABLE ROW LEVEL SECURITY;
ALTER TABLE channel_send_pace FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON channel_send_pace USING (business_id = app_business_id())
  WITH CHECK (business_id = app_business_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON channel_send_pace TO karigar_app;

DROP TABLE channel_send_slots;
