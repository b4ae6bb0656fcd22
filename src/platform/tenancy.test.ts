// Row-level security is the wall between businesses: these tests prove it holds for queries that
// forget their WHERE business_id, on the database this run is for (PGlite or PostgreSQL).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { newBusiness, newCustomer, newProduct, newSale, call, ok } from '../../test/helpers/client.js';
import { withoutTenant, withTenant, APP_ROLE } from './tenancy.js';

let t: TestApp;
before(async () => { t = await buildTestApp(); });
after(async () => { await t.close(); });

test('queries run as a role that is neither a superuser nor the tables\' owner, with RLS applying', async () => {
  const b = await newBusiness(t.app);
  const r = await withTenant(t.db, b.business.id, (tx) => tx.query(
    `SELECT current_user AS who, r.rolsuper, r.rolbypassrls,
       (SELECT tableowner FROM pg_tables WHERE tablename = 'sales') AS owner
     FROM pg_roles r WHERE r.rolname = current_user`));
  assert.equal(r.rows[0].who, APP_ROLE);
  assert.equal(r.rows[0].rolsuper, false);
  assert.equal(r.rows[0].rolbypassrls, false);
  assert.notEqual(r.rows[0].owner, APP_ROLE);
});

test('every table with a business_id has row-level security enabled and forced', async () => {
  const r = await t.db.query<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
    `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
     WHERE c.relkind = 'r' AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'business_id')
       OR c.relname = 'businesses') AND c.relname NOT IN ('user_logins', 'channel_routes')`);
  // The two global indexes are read before the business is known (login, webhook routing); they
  // hold addresses and ids, no tenant records.
  assert.ok(r.rows.length >= 17, `found ${r.rows.length} tenant tables`);
  for (const row of r.rows) {
    assert.ok(row.relrowsecurity && row.relforcerowsecurity, `${row.relname} must have RLS enabled and forced`);
  }
});

test('a query that forgets WHERE business_id still sees only its own business', async () => {
  const a = await newBusiness(t.app, 'Bakery A');
  const b = await newBusiness(t.app, 'Bakery B');
  for (const biz of [a, b]) {
    const p = await newProduct(t.app, biz);
    const c = await newCustomer(t.app, biz);
    const s = await newSale(t.app, biz, c.id, [{ product_id: p.id, quantity: 1 }]);
    ok(await call(t.app, 'POST', `/sales/${s.id}/finalize`, { token: biz.token }));
  }
  for (const table of ['businesses', 'users', 'products', 'customers', 'sales', 'sale_items', 'production_orders', 'production_steps', 'events', 'counters']) {
    const seen = await withTenant(t.db, a.business.id, (tx) => tx.query(`SELECT * FROM ${table}`));
    assert.ok(seen.rows.length > 0, `${table}: business A sees its own rows`);
    for (const row of seen.rows) assert.equal(row.business_id ?? row.id, a.business.id, `${table}: no row of another business`);
  }
  // With no business set, the application role sees no tenant rows at all.
  const none = await withoutTenant(t.db, (tx) => tx.query(`SELECT count(*)::int AS n FROM sales`));
  assert.equal(none.rows[0].n, 0);
});

test('a write into another business is refused by the policy, not just filtered', async () => {
  const a = await newBusiness(t.app, 'Bakery A');
  const b = await newBusiness(t.app, 'Bakery B');
  await assert.rejects(
    withTenant(t.db, a.business.id, (tx) => tx.query(
      `INSERT INTO products (business_id, name, price) VALUES ($1, 'Smuggled', 1)`, [b.business.id])),
    /row-level security/,
  );
  const upd = await withTenant(t.db, a.business.id, (tx) => tx.query(`UPDATE businesses SET name = 'Taken over' WHERE id = $1`, [b.business.id]));
  assert.equal(upd.rowCount, 0);
  const me = ok(await call(t.app, 'GET', '/me', { token: b.token }));
  assert.equal(me.business.name, 'Bakery B');
});
