-- Corrections (issue 8): products can be changed and archived, drafts edited and sales cancelled,
-- sales carry a due date and how they reach the customer, staff can be changed or deactivated,
-- and repeated wrong passwords are refused for a while.

-- ---- products: archive instead of delete; one active product per name ----
ALTER TABLE products ADD COLUMN archived_at timestamptz;

-- A name's key ignores case and whitespace: "Chocolate cake", "chocolate  Cake " and
-- "ChocolateCake" are one product to a customer typing on WhatsApp.
CREATE FUNCTION product_name_key(name text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT lower(regexp_replace(name, '\s+', '', 'g')) $$;

-- A database made before this rule may already hold duplicates: keep the oldest of each name
-- active and archive the later ones, so the unique index below can always be built.
UPDATE products p SET archived_at = now()
FROM (
  SELECT business_id, id, row_number() OVER (PARTITION BY business_id, product_name_key(name) ORDER BY created_at, id) AS n
  FROM products
) d
WHERE d.business_id = p.business_id AND d.id = p.id AND d.n > 1;

CREATE UNIQUE INDEX products_active_name ON products (business_id, product_name_key(name)) WHERE archived_at IS NULL;

-- An archived product frees its SKU as it frees its name.
ALTER TABLE products DROP CONSTRAINT products_business_id_sku_key;
CREATE UNIQUE INDEX products_active_sku ON products (business_id, sku) WHERE archived_at IS NULL AND sku IS NOT NULL;

-- ---- sales: cancelled, due date, fulfilment ----
ALTER TABLE sales DROP CONSTRAINT sales_status_check;
ALTER TABLE sales ADD CONSTRAINT sales_status_check CHECK (status IN ('draft', 'final', 'cancelled'));
-- A cancelled final sale keeps its invoice number (invoice numbers stay gapless); a cancelled
-- draft never had one. The old rule "final exactly when numbered" is found by its text: it was
-- declared without a name.
DO $$
DECLARE c text;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint
           WHERE conrelid = 'sales'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%invoice_no IS NOT NULL%'
  LOOP
    EXECUTE format('ALTER TABLE sales DROP CONSTRAINT %I', c);
  END LOOP;
END $$;
ALTER TABLE sales ADD CONSTRAINT sales_invoice_when_final
  CHECK (CASE status WHEN 'draft' THEN invoice_no IS NULL WHEN 'final' THEN invoice_no IS NOT NULL ELSE true END);

ALTER TABLE sales ADD COLUMN cancelled_at timestamptz;
ALTER TABLE sales ADD COLUMN due_at timestamptz;
ALTER TABLE sales ADD COLUMN fulfilment text NOT NULL DEFAULT 'pickup' CHECK (fulfilment IN ('pickup', 'delivery'));
ALTER TABLE sales ADD COLUMN delivery_address text;
ALTER TABLE sales ADD CONSTRAINT sales_delivery_needs_address CHECK (fulfilment = 'pickup' OR delivery_address IS NOT NULL);
CREATE INDEX sales_due ON sales (business_id, due_at) WHERE due_at IS NOT NULL;

-- ---- production orders: cancelled with their sale ----
ALTER TABLE production_orders DROP CONSTRAINT production_orders_status_check;
ALTER TABLE production_orders ADD CONSTRAINT production_orders_status_check
  CHECK (status IN ('pending', 'in_progress', 'completed', 'ready', 'cancelled'));
ALTER TABLE production_orders ADD COLUMN cancelled_at timestamptz;

-- ---- users: deactivation ----
ALTER TABLE users ADD COLUMN is_active boolean NOT NULL DEFAULT true;
ALTER TABLE users ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- ---- sign-in attempts ----
-- Global, like the login index it guards: looked up by email before the business is known. Kept in
-- the database so every API process counts the same failures. Unknown emails are counted too, so
-- the answers never tell which emails exist.
CREATE TABLE login_attempts (
  email              text PRIMARY KEY,
  failures           integer NOT NULL DEFAULT 0,
  window_started_at  timestamptz NOT NULL DEFAULT now(),
  locked_until       timestamptz,
  last_attempt_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_old ON login_attempts (last_attempt_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON login_attempts TO karigar_app;
GRANT EXECUTE ON FUNCTION product_name_key(text) TO karigar_app;
