// Bad input gets a clear 4xx problem+json — never a 500, never a partial write (SPEC §2, §9).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { buildTestApp, type TestApp } from './helpers/app.js';
import { assertProblem, call, newBusiness, newCustomer, newProduct, newSale, newUser, ok, type Biz } from './helpers/client.js';
import { withTenant } from '../src/platform/tenancy.js';

let t: TestApp;
let shop: Biz;
before(async () => {
  t = await buildTestApp();
  shop = await newBusiness(t.app);
});
after(async () => { await t.close(); });

const count = (table: string, biz = shop) =>
  withTenant(t.db, biz.business.id, async (tx) => (await tx.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number);

test('malformed JSON, wrong content type, an empty body and an oversized body are 4xx', async () => {
  assertProblem(await call(t.app, 'POST', '/products', { token: shop.token, payload: '{"name": "Cake",', headers: { 'content-type': 'application/json' } }), 400, 'malformed_json');
  assertProblem(await call(t.app, 'POST', '/products', { token: shop.token, payload: 'name=Cake', headers: { 'content-type': 'text/plain' } }), 415);
  assertProblem(await call(t.app, 'POST', '/products', { token: shop.token, payload: '', headers: { 'content-type': 'application/json' } }), 400);
  const huge = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10), price: '1' });
  assertProblem(await call(t.app, 'POST', '/products', { token: shop.token, payload: huge, headers: { 'content-type': 'application/json' } }), 413);
  assert.equal(await count('products'), 0);
});

test('wrong types and missing fields name each bad field', async () => {
  const r = await call(t.app, 'POST', '/products', { token: shop.token, body: { name: 42, price: true } });
  assertProblem(r, 400, 'validation_failed');
  const fields = r.body.errors.map((e: any) => e.field);
  assert.ok(fields.includes('name'), JSON.stringify(r.body.errors));
  assert.ok(fields.some((f: string) => f === 'price'), JSON.stringify(r.body.errors));

  const missing = await call(t.app, 'POST', '/customers', { token: shop.token, body: { name: 'No mobile' } });
  assertProblem(missing, 400);
  assert.ok(missing.body.errors.some((e: any) => e.field === 'mobile'));
  assertProblem(await call(t.app, 'POST', '/customers', { token: shop.token, body: { name: 'Bad', mobile: '12345' } }), 400);
  assertProblem(await call(t.app, 'POST', '/products', { token: shop.token, body: { name: 'Cake', price: '12.345' } }), 400);
  assertProblem(await call(t.app, 'POST', '/products', { token: shop.token, body: { name: 'Cake', price: '-5' } }), 400);
  assertProblem(await call(t.app, 'GET', '/sales/not-a-uuid', { token: shop.token }), 400);
  assert.equal(await count('products'), 0);
  assert.equal(await count('customers'), 0);
});

test('zero, negative and over-precise quantities are refused and write nothing', async () => {
  const p = await newProduct(t.app, shop);
  const c = await newCustomer(t.app, shop);
  for (const quantity of [0, -1, 1.2345]) {
    const r = await call(t.app, 'POST', '/sales', { token: shop.token, body: { customer_id: c.id, items: [{ product_id: p.id, quantity }] } });
    assertProblem(r, 400);
    assert.match(JSON.stringify(r.body.errors), /quantity/);
  }
  assertProblem(await call(t.app, 'POST', '/sales', { token: shop.token, body: { customer_id: c.id, items: [] } }), 400);
  assertProblem(await call(t.app, 'POST', '/sales', { token: shop.token, body: { customer_id: c.id, items: [{ product_id: p.id, quantity: '2' }] } }), 400);
  assert.equal(await count('sales'), 0);
  assert.equal(await count('sale_items'), 0);
});

test('unknown ids and another business\'s ids are 404, and nothing is half-written', async () => {
  const p = await newProduct(t.app, shop);
  const c = await newCustomer(t.app, shop);
  const other = await newBusiness(t.app, 'Other shop');
  const theirProduct = await newProduct(t.app, other);
  const theirCustomer = await newCustomer(t.app, other);
  const before = await count('sales');

  assertProblem(await call(t.app, 'POST', '/sales', { token: shop.token, body: { customer_id: randomUUID(), items: [{ product_id: p.id, quantity: 1 }] } }), 404);
  assertProblem(await call(t.app, 'POST', '/sales', { token: shop.token, body: { customer_id: theirCustomer.id, items: [{ product_id: p.id, quantity: 1 }] } }), 404);
  // The first item is fine, the second belongs to another business: no sale, no items.
  assertProblem(await call(t.app, 'POST', '/sales', { token: shop.token, body: { customer_id: c.id, items: [{ product_id: p.id, quantity: 1 }, { product_id: theirProduct.id, quantity: 1 }] } }), 404);
  assert.equal(await count('sales'), before);

  assertProblem(await call(t.app, 'GET', `/products/${theirProduct.id}`, { token: shop.token }), 404);
  assertProblem(await call(t.app, 'PATCH', `/customers/${theirCustomer.id}`, { token: shop.token, body: { name: 'Renamed' } }), 404);
  assertProblem(await call(t.app, 'POST', `/sales/${randomUUID()}/finalize`, { token: shop.token }), 404);
  assertProblem(await call(t.app, 'POST', '/payments', { token: shop.token, body: { sale_id: randomUUID(), amount: '1', method: 'cash' } }), 404);
  const theirs = await call(t.app, 'GET', `/customers/${theirCustomer.id}`, { token: other.token });
  assert.equal(theirs.body.name, 'Ravi Kumar');
});

test('finalizing twice, paying a draft, overpaying and a bad payment method are refused', async () => {
  const p = await newProduct(t.app, shop, { price: '100.00' });
  const c = await newCustomer(t.app, shop);
  const sale = await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 3 }]);

  assertProblem(await call(t.app, 'POST', '/payments', { token: shop.token, body: { sale_id: sale.id, amount: '50', method: 'cash' } }), 409, 'sale_not_final');
  ok(await call(t.app, 'POST', `/sales/${sale.id}/finalize`, { token: shop.token }));
  assertProblem(await call(t.app, 'POST', `/sales/${sale.id}/finalize`, { token: shop.token }), 409, 'sale_already_final');
  assertProblem(await call(t.app, 'POST', '/payments', { token: shop.token, body: { sale_id: sale.id, amount: '300.01', method: 'cash' } }), 409, 'overpayment');
  assertProblem(await call(t.app, 'POST', '/payments', { token: shop.token, body: { sale_id: sale.id, amount: '0', method: 'cash' } }), 400);
  assertProblem(await call(t.app, 'POST', '/payments', { token: shop.token, body: { sale_id: sale.id, amount: '10', method: 'cheque' } }), 400);
  const after = ok(await call(t.app, 'GET', `/sales/${sale.id}`, { token: shop.token }));
  assert.deepEqual([after.amount_paid, after.payment_status], ['0.00', 'unpaid']);
  const events = await withTenant(t.db, shop.business.id, (tx) => tx.query(`SELECT type FROM events WHERE payload->>'sale_id' = $1`, [sale.id]));
  assert.deepEqual(events.rows.map((e: any) => e.type), ['sale.created', 'production.created'], 'refused changes write no events');
});

test('a worker cannot complete a step assigned to someone else, and an order is ready only when completed', async () => {
  const p = await newProduct(t.app, shop, { production_steps: ['Cut', 'Stitch'] });
  const c = await newCustomer(t.app, shop);
  const sale = await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 1 }]);
  const final = ok(await call(t.app, 'POST', `/sales/${sale.id}/finalize`, { token: shop.token }));
  const po = ok(await call(t.app, 'GET', `/production-orders/${final.production_order_id}`, { token: shop.token }));
  const meena = await newUser(t.app, shop, 'production_worker', 'Meena');
  const arjun = await newUser(t.app, shop, 'production_worker', 'Arjun');
  const salesperson = await newUser(t.app, shop, 'sales', 'Sunil');
  const [cut, stitch] = po.steps;

  assertProblem(await call(t.app, 'POST', `/production-orders/${po.id}/steps/${cut.id}/assign`, { token: shop.token, body: { worker_id: salesperson.user.id } }), 400);
  assertProblem(await call(t.app, 'POST', `/production-orders/${po.id}/steps/${cut.id}/assign`, { token: shop.token, body: { worker_id: randomUUID() } }), 404);
  ok(await call(t.app, 'POST', `/production-orders/${po.id}/steps/${cut.id}/assign`, { token: shop.token, body: { worker_id: meena.user.id } }));

  assertProblem(await call(t.app, 'POST', `/worker/steps/${cut.id}/complete`, { token: arjun.token }), 403);
  assertProblem(await call(t.app, 'POST', `/worker/steps/${stitch.id}/complete`, { token: arjun.token }), 403);
  assertProblem(await call(t.app, 'POST', `/worker/steps/${randomUUID()}/complete`, { token: arjun.token }), 404);
  assertProblem(await call(t.app, 'POST', `/production-orders/${po.id}/ready`, { token: shop.token }), 409, 'order_not_completed');

  ok(await call(t.app, 'POST', `/worker/steps/${cut.id}/complete`, { token: meena.token }));
  assertProblem(await call(t.app, 'POST', `/worker/steps/${cut.id}/complete`, { token: meena.token }), 409, 'step_completed');
  // A manager may complete any step; then the order is completed and can be made ready once.
  ok(await call(t.app, 'POST', `/worker/steps/${stitch.id}/complete`, { token: shop.token }));
  ok(await call(t.app, 'POST', `/production-orders/${po.id}/ready`, { token: shop.token }));
  assertProblem(await call(t.app, 'POST', `/production-orders/${po.id}/ready`, { token: shop.token }), 409, 'order_already_ready');
  assertProblem(await call(t.app, 'POST', `/production-orders/${po.id}/expenses`, { token: shop.token, body: { category: 'fuel', amount: '10' } }), 400);
  assertProblem(await call(t.app, 'POST', `/production-orders/${po.id}/expenses`, { token: shop.token, body: { category: 'material', amount: '-10' } }), 400);
});

test('401 without or with a bad token, 403 for a role that may not, and the worker sees no money', async () => {
  assertProblem(await call(t.app, 'GET', '/sales'), 401);
  assertProblem(await call(t.app, 'GET', '/sales', { token: 'not.a.token' }), 401);
  assertProblem(await call(t.app, 'GET', '/sales', { token: shop.token.slice(0, -6) + (shop.token.at(-6) === 'A' ? 'B' : 'A') + shop.token.slice(-5) }), 401);
  assertProblem(await call(t.app, 'POST', '/auth/login', { body: { email: shop.user.email, password: 'wrong password' } }), 401);
  assertProblem(await call(t.app, 'POST', '/auth/login', { body: { email: 'nobody@example.com', password: 'whatever1' } }), 401);

  const worker = await newUser(t.app, shop, 'production_worker');
  const seller = await newUser(t.app, shop, 'sales');
  const manager = await newUser(t.app, shop, 'manager');
  for (const path of ['/sales', '/customers', '/payments', '/products', '/production-orders', '/users']) {
    assertProblem(await call(t.app, 'GET', path, { token: worker.token }), 403);
  }
  assertProblem(await call(t.app, 'POST', '/products', { token: seller.token, body: { name: 'X', price: '1' } }), 403);
  assertProblem(await call(t.app, 'POST', '/users', { token: manager.token, body: { name: 'X', email: 'x@example.com', password: 'password1', role: 'admin' } }), 403);
  assertProblem(await call(t.app, 'GET', '/users', { token: seller.token }), 403);
  const staff = ok(await call(t.app, 'GET', '/users', { token: manager.token })).data.map((u: any) => u.id);
  for (const u of [shop, worker, seller, manager]) assert.ok(staff.includes(u.user.id));
  assert.ok(ok(await call(t.app, 'GET', '/users', { token: manager.token })).data.every((u: any) => !('password_hash' in u)));
  assert.equal(ok(await call(t.app, 'GET', '/me', { token: worker.token })).user.role, 'production_worker');
  assertProblem(await call(t.app, 'GET', '/no-such-route', { token: shop.token }), 404);
});

test('duplicates are 409: a registered email, a customer mobile in any format, a SKU', async () => {
  assertProblem(await call(t.app, 'POST', '/auth/register', { body: { business_name: 'Copy', name: 'X', email: shop.user.email.toUpperCase(), password: 'password1' } }), 409, 'email_taken');
  await newCustomer(t.app, shop, { mobile: '+91 91234-56789' });
  assertProblem(await call(t.app, 'POST', '/customers', { token: shop.token, body: { name: 'Again', mobile: '919123456789' } }), 409, 'mobile_taken');
  await newProduct(t.app, shop, { sku: 'SKU-1' });
  assertProblem(await call(t.app, 'POST', '/products', { token: shop.token, body: { name: 'Again', price: '1', sku: 'SKU-1' } }), 409, 'sku_taken');
});
