// Invoice numbers stay gapless and unique when many finalizes race, and a sale is finalized once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { call, newBusiness, newCustomer, newProduct, newSale, ok, newUser } from '../../../test/helpers/client.js';

let t: TestApp;
before(async () => { t = await buildTestApp(); });
after(async () => { await t.close(); });

test('twenty sales finalized at once get INV-000001..INV-000020, no gaps, no repeats', async () => {
  const shop = await newBusiness(t.app);
  const p = await newProduct(t.app, shop, { production_steps: ['Bake'] });
  const c = await newCustomer(t.app, shop);
  const sales = [];
  for (let i = 0; i < 20; i++) sales.push(await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 1 }]));
  const results = await Promise.all(sales.map((s) => call(t.app, 'POST', `/sales/${s.id}/finalize`, { token: shop.token })));
  const numbers = results.map((r) => ok(r).invoice_no).sort();
  assert.deepEqual(numbers, Array.from({ length: 20 }, (_, i) => `INV-${String(i + 1).padStart(6, '0')}`));
  const orders = results.map((r) => r.body.production_order_id);
  assert.equal(new Set(orders).size, 20);
});

test('the same sale finalized twice at once: one succeeds, the other is 409, one production order', async () => {
  const shop = await newBusiness(t.app);
  const p = await newProduct(t.app, shop);
  const c = await newCustomer(t.app, shop);
  const s = await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 1 }]);
  const [a, b] = await Promise.all([1, 2].map(() => call(t.app, 'POST', `/sales/${s.id}/finalize`, { token: shop.token })));
  assert.deepEqual([a.status, b.status].sort(), [200, 409]);
  const orders = ok(await call(t.app, 'GET', `/production-orders?sale_id=${s.id}`, { token: shop.token })).data;
  assert.equal(orders.length, 1);
  // The refused attempt used no number: the next sale gets INV-000002.
  const s2 = await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 1 }]);
  assert.equal(ok(await call(t.app, 'POST', `/sales/${s2.id}/finalize`, { token: shop.token })).invoice_no, 'INV-000002');
});

test('payments racing for the last of the balance cannot overpay', async () => {
  const shop = await newBusiness(t.app);
  const p = await newProduct(t.app, shop, { price: '100.00', production_steps: [] });
  const c = await newCustomer(t.app, shop);
  const s = await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 1 }]);
  ok(await call(t.app, 'POST', `/sales/${s.id}/finalize`, { token: shop.token }));
  const tries = await Promise.all(Array.from({ length: 5 }, () =>
    call(t.app, 'POST', '/payments', { token: shop.token, body: { sale_id: s.id, amount: '60.00', method: 'cash' } })));
  assert.deepEqual(tries.map((r) => r.status).sort(), [201, 409, 409, 409, 409]);
  const sale = ok(await call(t.app, 'GET', `/sales/${s.id}`, { token: shop.token }));
  assert.deepEqual([sale.amount_paid, sale.balance, sale.payment_status], ['60.00', '40.00', 'partial']);
});

test('two workers finishing the last two steps at once complete the order exactly once', async () => {
  const shop = await newBusiness(t.app);
  const p = await newProduct(t.app, shop, { production_steps: ['Print', 'Frame'] });
  const c = await newCustomer(t.app, shop);
  const s = await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 1 }]);
  const po = ok(await call(t.app, 'GET', `/production-orders/${ok(await call(t.app, 'POST', `/sales/${s.id}/finalize`, { token: shop.token })).production_order_id}`, { token: shop.token }));
  const w1 = await newUser(t.app, shop, 'production_worker');
  const w2 = await newUser(t.app, shop, 'production_worker');
  ok(await call(t.app, 'POST', `/production-orders/${po.id}/steps/${po.steps[0].id}/assign`, { token: shop.token, body: { worker_id: w1.user.id } }));
  ok(await call(t.app, 'POST', `/production-orders/${po.id}/steps/${po.steps[1].id}/assign`, { token: shop.token, body: { worker_id: w2.user.id } }));
  await Promise.all([
    call(t.app, 'POST', `/worker/steps/${po.steps[0].id}/complete`, { token: w1.token }),
    call(t.app, 'POST', `/worker/steps/${po.steps[1].id}/complete`, { token: w2.token }),
  ]).then((rs) => rs.forEach((r) => ok(r)));
  assert.equal(ok(await call(t.app, 'GET', `/production-orders/${po.id}`, { token: shop.token })).status, 'completed');
  const { withTenant } = await import('../../platform/tenancy.js');
  const done = await withTenant(t.db, shop.business.id, (tx) => tx.query(`SELECT count(*)::int AS n FROM events WHERE type = 'production.completed'`));
  assert.equal(done.rows[0].n, 1);
});
