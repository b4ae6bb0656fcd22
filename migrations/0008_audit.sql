-- Issue 10: an audit trail the owner can read, and sign-in / sign-up attempts counted per client
-- address as well as per email.

-- ---- audit trail ----
-- One row per change a person made (a channel, a template, a user, a product, a cancelled sale),
-- written by the service in the same transaction as the change, so a refused or rolled-back change
-- leaves none. `summary` is the sentence the owner reads; `changes` is {field: [before, after]}
-- and never holds a secret's value. The application role may add and read rows, never change them.
CREATE TABLE audit_log (
  business_id  uuid NOT NULL REFERENCES businesses (id),
  id           uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id      uuid,
  -- The name at the time: a later rename does not rewrite history.
  user_name    text,
  action       text NOT NULL,
  entity_type  text NOT NULL,
  -- Text, not uuid: a template is named by its event and locale ("order.ready/hi").
  entity_id    text NOT NULL,
  summary      text NOT NULL,
  changes      jsonb NOT NULL DEFAULT '{}',
  -- clock_timestamp(): several entries of one transaction keep their order.
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (business_id, id),
  FOREIGN KEY (business_id, user_id) REFERENCES users (business_id, id)
);
CREATE INDEX audit_log_list ON audit_log (business_id, created_at DESC, id DESC);
CREATE INDEX audit_log_entity ON audit_log (business_id, entity_type, entity_id, created_at DESC, id DESC);
CREATE INDEX audit_log_user ON audit_log (business_id, user_id, created_at DESC, id DESC);

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_log USING (business_id = app_business_id()) WITH CHECK (business_id = app_business_id());
GRANT SELECT, INSERT ON audit_log TO karigar_app;

-- ---- attempts per client address (and sign-ups per email) ----
-- Global, like login_attempts: counted before any business is known, in the database so every API
-- process sees the same count. `key` is a client address ('ip:203.0.113.7', an IPv6 /64) or an
-- email ('email:asha@example.com'); `action` is 'login' (wrong passwords) or 'register' (every
-- try). A fixed window: once `attempts` passes the limit, the key waits for the window to end.
CREATE TABLE attempt_counts (
  key                text NOT NULL,
  action             text NOT NULL CHECK (action IN ('login', 'register')),
  attempts           integer NOT NULL DEFAULT 0,
  window_started_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (key, action)
);
CREATE INDEX attempt_counts_old ON attempt_counts (window_started_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON attempt_counts TO karigar_app;
