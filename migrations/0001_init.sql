-- Karigar schema: tenancy, users, catalog, customers, sales, production, payments, event outbox.
-- Every tenant table carries business_id, and every primary, unique and foreign key includes it,
-- so a reference can never cross businesses and the schema can be distributed by business_id.

-- The role the application's queries run as: not a superuser, not the tables' owner, so
-- row-level security applies to it. Roles are cluster-wide; create it once.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'karigar_app') THEN
    CREATE ROLE karigar_app NOLOGIN NOSUPERUSER NOINHERIT NOBYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL; -- another database on the same server created it at the same moment
END $$;

-- The migrating user must be able to SET ROLE karigar_app (a superuser always can).
DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('GRANT karigar_app TO %I', current_user);
  END IF;
END $$;

CREATE FUNCTION app_business_id() RETURNS uuid
  LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('app.business_id', true), '')::uuid $$;

CREATE TABLE businesses (
  id          uuid PRIMARY KEY,
  name        text NOT NULL,
  currency    text NOT NULL DEFAULT 'INR',
  locale      text NOT NULL DEFAULT 'en-IN',
  country     text NOT NULL DEFAULT 'IN',
  timezone    text NOT NULL DEFAULT 'Asia/Kolkata',
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Global login index: email -> user. Looked up before the business is known.
CREATE TABLE user_logins (
  email        text PRIMARY KEY,
  business_id  uuid NOT NULL REFERENCES businesses (id),
  user_id      uuid NOT NULL
);

CREATE TABLE users (
  business_id    uuid NOT NULL REFERENCES businesses (id),
  id             uuid NOT NULL DEFAULT gen_random_uuid(),
  name           text NOT NULL,
  email          text NOT NULL,
  role           text NOT NULL CHECK (role IN ('admin', 'manager', 'sales', 'production_worker')),
  password_hash  text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, id),
  UNIQUE (business_id, email)
);

-- Per-business gapless numbering (invoice_no, order_no): a row lock serialises concurrent
-- finalizes, and a rolled-back transaction gives its number back.
CREATE TABLE counters (
  business_id  uuid NOT NULL REFERENCES businesses (id),
  name         text NOT NULL,
  value        integer NOT NULL DEFAULT 0,
  PRIMARY KEY (business_id, name)
);

CREATE TABLE products (
  business_id       uuid NOT NULL REFERENCES businesses (id),
  id                uuid NOT NULL DEFAULT gen_random_uuid(),
  name              text NOT NULL,
  sku               text,
  price             numeric(12, 2) NOT NULL CHECK (price >= 0),
  production_steps  text[] NOT NULL DEFAULT '{}',
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, id),
  UNIQUE (business_id, sku)
);

CREATE TABLE customers (
  business_id      uuid NOT NULL REFERENCES businesses (id),
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  name             text NOT NULL,
  mobile           text NOT NULL,
  email            text,
  locale           text,
  whatsapp_opt_in  boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, id),
  UNIQUE (business_id, mobile)
);

CREATE TABLE sales (
  business_id   uuid NOT NULL REFERENCES businesses (id),
  id            uuid NOT NULL DEFAULT gen_random_uuid(),
  customer_id   uuid NOT NULL,
  status        text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'final')),
  invoice_no    text,
  total         numeric(12, 2) NOT NULL DEFAULT 0,
  amount_paid   numeric(12, 2) NOT NULL DEFAULT 0 CHECK (amount_paid >= 0),
  source        text NOT NULL DEFAULT 'pos',
  notes         text,
  created_by    uuid,
  created_at    timestamptz NOT NULL DEFAULT now(),
  finalized_at  timestamptz,
  PRIMARY KEY (business_id, id),
  UNIQUE (business_id, invoice_no),
  FOREIGN KEY (business_id, customer_id) REFERENCES customers (business_id, id),
  CHECK (amount_paid <= total),
  CHECK ((status = 'final') = (invoice_no IS NOT NULL))
);
CREATE INDEX sales_list ON sales (business_id, created_at DESC, id DESC);

CREATE TABLE sale_items (
  business_id  uuid NOT NULL,
  id           uuid NOT NULL DEFAULT gen_random_uuid(),
  sale_id      uuid NOT NULL,
  position     integer NOT NULL,
  product_id   uuid NOT NULL,
  quantity     numeric(12, 3) NOT NULL CHECK (quantity > 0),
  unit_price   numeric(12, 2) NOT NULL CHECK (unit_price >= 0),
  line_total   numeric(12, 2) NOT NULL,
  PRIMARY KEY (business_id, id),
  UNIQUE (business_id, sale_id, position),
  FOREIGN KEY (business_id, sale_id) REFERENCES sales (business_id, id) ON DELETE CASCADE,
  FOREIGN KEY (business_id, product_id) REFERENCES products (business_id, id)
);

CREATE TABLE production_orders (
  business_id   uuid NOT NULL,
  id            uuid NOT NULL DEFAULT gen_random_uuid(),
  order_no      text NOT NULL,
  sale_id       uuid NOT NULL,
  status        text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'in_progress', 'completed', 'ready')),
  total_cost    numeric(12, 2) NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  completed_at  timestamptz,
  ready_at      timestamptz,
  PRIMARY KEY (business_id, id),
  UNIQUE (business_id, order_no),
  UNIQUE (business_id, sale_id),
  FOREIGN KEY (business_id, sale_id) REFERENCES sales (business_id, id)
);
CREATE INDEX production_orders_list ON production_orders (business_id, created_at DESC, id DESC);

CREATE TABLE production_steps (
  business_id          uuid NOT NULL,
  id                   uuid NOT NULL DEFAULT gen_random_uuid(),
  production_order_id  uuid NOT NULL,
  sale_item_id         uuid NOT NULL,
  name                 text NOT NULL,
  sequence             integer NOT NULL,
  status               text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'in_progress', 'completed')),
  assigned_worker_id   uuid,
  started_at           timestamptz,
  completed_at         timestamptz,
  completed_by         uuid,
  PRIMARY KEY (business_id, id),
  UNIQUE (business_id, production_order_id, sequence),
  FOREIGN KEY (business_id, production_order_id) REFERENCES production_orders (business_id, id),
  FOREIGN KEY (business_id, sale_item_id) REFERENCES sale_items (business_id, id),
  FOREIGN KEY (business_id, assigned_worker_id) REFERENCES users (business_id, id)
);
CREATE INDEX production_steps_worker ON production_steps (business_id, assigned_worker_id, status);

CREATE TABLE production_expenses (
  business_id          uuid NOT NULL,
  id                   uuid NOT NULL DEFAULT gen_random_uuid(),
  production_order_id  uuid NOT NULL,
  category             text NOT NULL CHECK (category IN ('material', 'labor', 'overhead')),
  amount               numeric(12, 2) NOT NULL CHECK (amount > 0),
  description          text,
  created_by           uuid,
  created_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, id),
  FOREIGN KEY (business_id, production_order_id) REFERENCES production_orders (business_id, id)
);

CREATE TABLE payments (
  business_id  uuid NOT NULL,
  id           uuid NOT NULL DEFAULT gen_random_uuid(),
  sale_id      uuid NOT NULL,
  amount       numeric(12, 2) NOT NULL CHECK (amount > 0),
  method       text NOT NULL CHECK (method IN ('cash', 'upi', 'card', 'bank')),
  reference    text,
  received_at  timestamptz NOT NULL DEFAULT now(),
  recorded_by  uuid,
  PRIMARY KEY (business_id, id),
  FOREIGN KEY (business_id, sale_id) REFERENCES sales (business_id, id)
);
CREATE INDEX payments_sale ON payments (business_id, sale_id);

-- Transactional outbox: each state change writes its event row in the same transaction.
CREATE TABLE events (
  business_id  uuid NOT NULL REFERENCES businesses (id),
  id           bigint GENERATED ALWAYS AS IDENTITY,
  type         text NOT NULL,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (business_id, id)
);

-- Row-level security, enabled and forced, on every tenant table.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['users', 'counters', 'products', 'customers', 'sales', 'sale_items',
    'production_orders', 'production_steps', 'production_expenses', 'payments', 'events']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (business_id = app_business_id())
                    WITH CHECK (business_id = app_business_id())', t);
  END LOOP;
END $$;
ALTER TABLE businesses ENABLE ROW LEVEL SECURITY;
ALTER TABLE businesses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON businesses USING (id = app_business_id()) WITH CHECK (id = app_business_id());

GRANT USAGE ON SCHEMA public TO karigar_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO karigar_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO karigar_app;
REVOKE ALL ON schema_migrations FROM karigar_app;
