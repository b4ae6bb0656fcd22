// The whole business flow of SPEC §4 over HTTP, as a shop would run it: catalog, customer, sale,
// invoice, production order, worker, ready, cost, payments — and a second business sees none of it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp, type TestApp } from './helpers/app.js';
import { call, newBusiness, newUser, ok, assertProblem } from './helpers/client.js';
import { withTenant } from '../src/platform/tenancy.js';

let t: TestApp;
before(async () => { t = await buildTestApp(); });
after(async () => { await t.close(); });

test('a sale goes from draft to paid, through production, and another business sees none of it', async () => {
  const { app } = t;
  const shop = await newBusiness(app, 'Sweet Crumbs');
  const token = shop.token;

  const cake = ok(await call(app, 'POST', '/products', { token, body: { name: 'Chocolate cake', sku: 'CAKE-CHOC', price: '650.00', production_steps: ['Bake', 'Decorate', 'Pack'] } }), 201);
  const candle = ok(await call(app, 'POST', '/products', { token, body: { name: 'Candle', price: 20 } }), 201);
  const box = ok(await call(app, 'POST', '/products', { token, body: { name: 'Gift box', price: '150.5', production_steps: ['Assemble'] } }), 201);
  assert.deepEqual(cake.production_steps, ['Bake', 'Decorate', 'Pack']);
  assert.equal(box.price, '150.50');

  const ravi = ok(await call(app, 'POST', '/customers', { token, body: { name: 'Ravi', mobile: '098765 43210', email: 'ravi@example.com' } }), 201);
  assert.equal(ravi.mobile, '+919876543210');
  assert.equal(ravi.whatsapp_opt_in, true);

  const draft = ok(await call(app, 'POST', '/sales', { token, body: {
    customer_id: ravi.id,
    items: [{ product_id: cake.id, quantity: 2 }, { product_id: candle.id, quantity: 10 }, { product_id: box.id, quantity: 1, unit_price: '140.00' }],
  } }), 201);
  assert.equal(draft.status, 'draft');
  assert.equal(draft.invoice_no, null);
  assert.equal(draft.source, 'pos');
  assert.equal(draft.total, '1640.00'); // 2 × 650 + 10 × 20 + 140
  assert.deepEqual(draft.items.map((i: any) => i.line_total), ['1300.00', '200.00', '140.00']);

  const final = ok(await call(app, 'POST', `/sales/${draft.id}/finalize`, { token }));
  assert.equal(final.status, 'final');
  assert.equal(final.invoice_no, 'INV-000001');
  assert.ok(final.finalized_at);
  assert.ok(final.production_order_id);

  // Phase A: one order, one step per (item, product step), in order; the candle has no steps.
  const po = ok(await call(app, 'GET', `/production-orders/${final.production_order_id}`, { token }));
  assert.equal(po.order_no, 'PO-000001');
  assert.equal(po.sale_id, draft.id);
  assert.equal(po.status, 'pending');
  assert.deepEqual(po.steps.map((s: any) => [s.sequence, s.name, s.product_name]),
    [[1, 'Bake', 'Chocolate cake'], [2, 'Decorate', 'Chocolate cake'], [3, 'Pack', 'Chocolate cake'], [4, 'Assemble', 'Gift box']]);

  // Phase B: a worker gets the steps and completes them.
  const worker = await newUser(app, shop, 'production_worker', 'Meena');
  for (const step of po.steps) {
    ok(await call(app, 'POST', `/production-orders/${po.id}/steps/${step.id}/assign`, { token, body: { worker_id: worker.user.id } }));
  }
  const queue = ok(await call(app, 'GET', '/worker/steps', { token: worker.token }));
  assert.deepEqual(queue.data.map((s: any) => s.name), ['Bake', 'Decorate', 'Pack', 'Assemble']);
  assert.equal(queue.data[0].order_no, 'PO-000001');
  assert.equal('total_cost' in queue.data[0], false, 'a worker sees no money');

  const started = ok(await call(app, 'POST', `/worker/steps/${po.steps[0].id}/start`, { token: worker.token }));
  assert.equal(started.status, 'in_progress');
  assert.equal(started.order_status, 'in_progress');
  assertProblem(await call(app, 'POST', `/production-orders/${po.id}/ready`, { token }), 409, 'order_not_completed');
  for (const step of po.steps) {
    const done = ok(await call(app, 'POST', `/worker/steps/${step.id}/complete`, { token: worker.token }));
    assert.equal(done.status, 'completed');
  }
  const completed = ok(await call(app, 'GET', `/production-orders/${po.id}`, { token }));
  assert.equal(completed.status, 'completed');
  assert.ok(completed.completed_at);
  assert.equal(ok(await call(app, 'GET', '/worker/steps', { token: worker.token })).data.length, 0);

  const ready = ok(await call(app, 'POST', `/production-orders/${po.id}/ready`, { token }));
  assert.equal(ready.status, 'ready');

  // Phase C: costs roll up into the order and the margin.
  ok(await call(app, 'POST', `/production-orders/${po.id}/expenses`, { token, body: { category: 'material', amount: '420.25', description: 'Cocoa, cream' } }), 201);
  const withCost = ok(await call(app, 'POST', `/production-orders/${po.id}/expenses`, { token, body: { category: 'labor', amount: 300 } }), 201);
  assert.equal(withCost.production_order.total_cost, '720.25');
  assert.equal(withCost.production_order.margin, '919.75');

  // Payments until paid.
  const p1 = ok(await call(app, 'POST', '/payments', { token, body: { sale_id: draft.id, amount: '1000.00', method: 'upi', reference: 'UPI-123' } }), 201);
  assert.equal(p1.sale.payment_status, 'partial');
  assert.equal(p1.sale.balance, '640.00');
  assertProblem(await call(app, 'POST', '/payments', { token, body: { sale_id: draft.id, amount: '640.01', method: 'cash' } }), 409, 'overpayment');
  const p2 = ok(await call(app, 'POST', '/payments', { token, body: { sale_id: draft.id, amount: '640', method: 'cash' } }), 201);
  assert.equal(p2.sale.payment_status, 'paid');
  assert.equal(p2.sale.balance, '0.00');
  const paid = ok(await call(app, 'GET', `/sales/${draft.id}`, { token }));
  assert.deepEqual([paid.amount_paid, paid.balance, paid.payment_status], ['1640.00', '0.00', 'paid']);

  // The outbox holds one event per state change, in order, with its payload.
  const events = await withTenant(t.db, shop.business.id, (tx) => tx.query(`SELECT type, payload FROM events ORDER BY id`));
  assert.deepEqual(events.rows.map((e: any) => e.type), [
    'sale.created', 'production.created',
    'production.step.completed', 'production.step.completed', 'production.step.completed', 'production.step.completed',
    'production.completed', 'order.ready', 'payment.received', 'payment.received',
  ]);
  assert.deepEqual(events.rows[0].payload, { sale_id: draft.id, invoice_no: 'INV-000001', total: '1640.00', customer_id: ravi.id });
  assert.equal(events.rows[1].payload.order_no, 'PO-000001');
  assert.equal(events.rows[2].payload.step_name, 'Bake');
  assert.deepEqual(events.rows.at(-1).payload, {
    payment_id: p2.id, amount: '640.00', sale_id: draft.id, balance: '0.00', invoice_no: 'INV-000001', customer_id: ravi.id,
  });

  // A second business sees none of it, by list or by id, and numbers its own invoices from 1.
  const other = await newBusiness(app, 'Gift Studio');
  for (const path of ['/products', '/customers', '/sales', '/production-orders', '/payments']) {
    assert.deepEqual(ok(await call(app, 'GET', path, { token: other.token })).data, [], `${path} is empty for another business`);
  }
  assertProblem(await call(app, 'GET', `/sales/${draft.id}`, { token: other.token }), 404);
  assertProblem(await call(app, 'GET', `/customers/${ravi.id}`, { token: other.token }), 404);
  assertProblem(await call(app, 'GET', `/production-orders/${po.id}`, { token: other.token }), 404);
  assertProblem(await call(app, 'POST', '/payments', { token: other.token, body: { sale_id: draft.id, amount: '1', method: 'cash' } }), 404);
  const theirs = ok(await call(app, 'POST', '/customers', { token: other.token, body: { name: 'Same number, other shop', mobile: '+919876543210' } }), 201);
  const theirCake = ok(await call(app, 'POST', '/products', { token: other.token, body: { name: 'Card', price: '99' } }), 201);
  const theirSale = ok(await call(app, 'POST', '/sales', { token: other.token, body: { customer_id: theirs.id, items: [{ product_id: theirCake.id, quantity: 1 }] } }), 201);
  assert.equal(ok(await call(app, 'POST', `/sales/${theirSale.id}/finalize`, { token: other.token })).invoice_no, 'INV-000001');
});

test('lists are paginated with an opaque cursor, newest first, without gaps or repeats', async () => {
  const shop = await newBusiness(t.app);
  const made: string[] = [];
  for (let i = 0; i < 7; i++) made.push(ok(await call(t.app, 'POST', '/products', { token: shop.token, body: { name: `Item ${i}`, price: '1' } }), 201).id);
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const q: string = cursor ? `?limit=3&cursor=${cursor}` : '?limit=3';
    const pageRes: any = ok(await call(t.app, 'GET', `/products${q}`, { token: shop.token }));
    assert.ok(pageRes.data.length <= 3);
    seen.push(...pageRes.data.map((p: any) => p.id));
    cursor = pageRes.next_cursor;
    pages++;
  } while (cursor);
  assert.equal(pages, 3);
  assert.deepEqual(seen, [...made].reverse());
  assertProblem(await call(t.app, 'GET', '/products?cursor=not-a-cursor', { token: shop.token }), 400);
  assertProblem(await call(t.app, 'GET', '/products?limit=500', { token: shop.token }), 400);
});
