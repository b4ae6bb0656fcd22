// A wrong draft can be corrected, a sale cancelled (with its production order, and the customer
// told), and a sale carries when and how the customer gets it. Invoice numbers stay gapless.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { buildTestApp, eventually, type TestApp } from '../../../test/helpers/app.js';
import { assertProblem, call, newBusiness, newCustomer, newProduct, newSale, ok, type Biz } from '../../../test/helpers/client.js';
import { withTenant } from '../../platform/tenancy.js';
import { insertDraftSale } from './sales.service.js';

let t: TestApp;
before(async () => { t = await buildTestApp({ role: 'all' }); });
after(async () => { await t.close(); });

const events = (shop: Biz, type: string) => withTenant(t.db, shop.business.id, async (tx) =>
  (await tx.query(`SELECT payload FROM events WHERE type = $1 ORDER BY id`, [type])).rows.map((r: any) => r.payload));

async function sandboxChannel(shop: Biz) {
  ok(await call(t.app, 'POST', '/social/channels', { token: shop.token, body: {
    channel_type: 'whatsapp', phone_number: '+919000000003', account_id: `pnid-${randomUUID().slice(0, 8)}`, settings: { provider: 'sandbox' },
  } }), 201);
}

test('a draft\'s items, notes, due date and fulfilment can be changed; bad changes are 4xx and change nothing', async () => {
  const shop = await newBusiness(t.app);
  const cake = await newProduct(t.app, shop, { name: 'Chocolate cake', price: '650.00' });
  const candle = await newProduct(t.app, shop, { name: 'Candle', price: '20.00', production_steps: [] });
  const c = await newCustomer(t.app, shop);
  const draft = await newSale(t.app, shop, c.id, [{ product_id: cake.id, quantity: 1 }]);
  assert.deepEqual([draft.due_at, draft.fulfilment, draft.delivery_address], [null, 'pickup', null]);

  const changed = ok(await call(t.app, 'PATCH', `/sales/${draft.id}`, { token: shop.token, body: {
    items: [{ product_id: cake.id, quantity: 2 }, { product_id: candle.id, quantity: 5, unit_price: '15' }],
    notes: 'Write "Happy birthday Asha"', due_at: '2026-12-24T17:00:00+05:30', fulfilment: 'delivery', delivery_address: '12 MG Road, Pune',
  } }));
  assert.deepEqual(changed.items.map((i: any) => [i.product_name, i.quantity, i.line_total]), [['Chocolate cake', 2, '1300.00'], ['Candle', 5, '75.00']]);
  assert.equal(changed.total, '1375.00');
  assert.equal(changed.notes, 'Write "Happy birthday Asha"');
  assert.equal(changed.due_at, '2026-12-24T11:30:00.000Z');
  assert.deepEqual([changed.fulfilment, changed.delivery_address], ['delivery', '12 MG Road, Pune']);

  const bad = [
    [{ fulfilment: 'delivery', delivery_address: null }, 'delivery_address'],
    [{ fulfilment: 'courier' }, 'fulfilment'],
    [{ due_at: '24/12/2026 5pm' }, 'due_at'],
    [{ due_at: '2026-12-24T17:00:00' }, 'due_at'], // no offset: a guess, refused
    [{ items: [] }, 'items'],
    [{ items: [{ product_id: cake.id, quantity: 0 }] }, 'items[0].quantity'],
    [{ items: [{ product_id: cake.id, quantity: 1, unit_price: '1.234' }] }, 'items[0].unit_price'],
    [{ notes: 5 }, 'notes'],
  ] as const;
  for (const [body, field] of bad) {
    const r = await call(t.app, 'PATCH', `/sales/${draft.id}`, { token: shop.token, body });
    assertProblem(r, 400);
    assert.ok(r.body.errors.some((e: any) => e.field.startsWith(field)), `${JSON.stringify(body)}: ${JSON.stringify(r.body.errors)}`);
  }
  assertProblem(await call(t.app, 'PATCH', `/sales/${draft.id}`, { token: shop.token, body: {} }), 400);
  // An unknown product anywhere in the list: 404, and the items stay as they were.
  assertProblem(await call(t.app, 'PATCH', `/sales/${draft.id}`, { token: shop.token, body: { items: [{ product_id: candle.id, quantity: 1 }, { product_id: randomUUID(), quantity: 1 }] } }), 404);
  const same = ok(await call(t.app, 'GET', `/sales/${draft.id}`, { token: shop.token }));
  assert.deepEqual([same.total, same.items.length, same.fulfilment, same.due_at], ['1375.00', 2, 'delivery', '2026-12-24T11:30:00.000Z']);

  // Back to pickup: the address goes with it; clearing the due date is null.
  const pickup = ok(await call(t.app, 'PATCH', `/sales/${draft.id}`, { token: shop.token, body: { fulfilment: 'pickup', due_at: null, notes: null } }));
  assert.deepEqual([pickup.fulfilment, pickup.delivery_address, pickup.due_at, pickup.notes], ['pickup', null, null, null]);

  const other = await newBusiness(t.app);
  assertProblem(await call(t.app, 'PATCH', `/sales/${draft.id}`, { token: other.token, body: { notes: 'x' } }), 404);
  ok(await call(t.app, 'POST', `/sales/${draft.id}/finalize`, { token: shop.token }));
  assertProblem(await call(t.app, 'PATCH', `/sales/${draft.id}`, { token: shop.token, body: { notes: 'too late' } }), 409, 'sale_not_draft');
});

test('a new sale takes its due date and fulfilment; a delivery without an address writes nothing', async () => {
  const shop = await newBusiness(t.app);
  const p = await newProduct(t.app, shop);
  const c = await newCustomer(t.app, shop);
  const items = [{ product_id: p.id, quantity: 1 }];
  const r = await call(t.app, 'POST', '/sales', { token: shop.token, body: { customer_id: c.id, items, fulfilment: 'delivery' } });
  assertProblem(r, 400);
  assert.deepEqual(r.body.errors.map((e: any) => e.field), ['delivery_address']);
  assert.equal(ok(await call(t.app, 'GET', '/sales', { token: shop.token })).data.length, 0);

  const s = ok(await call(t.app, 'POST', '/sales', { token: shop.token, body: {
    customer_id: c.id, items, due_at: '2026-12-25T04:30:00Z', fulfilment: 'delivery', delivery_address: ' Flat 4, Lake View ',
  } }), 201);
  assert.deepEqual([s.due_at, s.fulfilment, s.delivery_address], ['2026-12-25T04:30:00.000Z', 'delivery', 'Flat 4, Lake View']);

  // The helper conversational ordering uses takes a due date too (read from a message later).
  const saleId = await withTenant(t.db, shop.business.id, (tx) => insertDraftSale(tx, shop.business.id, null, {
    customer_id: c.id, items, source: 'whatsapp', due_at: new Date('2026-12-26T12:00:00Z'),
  }));
  const wa = ok(await call(t.app, 'GET', `/sales/${saleId}`, { token: shop.token }));
  assert.deepEqual([wa.source, wa.due_at, wa.fulfilment], ['whatsapp', '2026-12-26T12:00:00.000Z', 'pickup']);
});

test('a final sale with no payments is cancelled with its production order, keeps its invoice number, and the customer is told', async () => {
  const shop = await newBusiness(t.app);
  await sandboxChannel(shop);
  const p = await newProduct(t.app, shop, { price: '650.00', production_steps: ['Bake', 'Pack'] });
  const c = await newCustomer(t.app, shop, { name: 'Ravi' });
  const hindi = await newCustomer(t.app, shop, { name: 'Sunita', locale: 'hi' });
  const s1 = await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 2 }]);
  const final = ok(await call(t.app, 'POST', `/sales/${s1.id}/finalize`, { token: shop.token }));
  assert.equal(final.invoice_no, 'INV-000001');

  const cancelled = ok(await call(t.app, 'POST', `/sales/${s1.id}/cancel`, { token: shop.token }));
  assert.deepEqual([cancelled.status, cancelled.invoice_no, cancelled.total], ['cancelled', 'INV-000001', '1300.00']);
  assert.ok(cancelled.cancelled_at);
  const po = ok(await call(t.app, 'GET', `/production-orders/${final.production_order_id}`, { token: shop.token }));
  assert.equal(po.status, 'cancelled');
  assert.ok(po.cancelled_at);

  assertProblem(await call(t.app, 'POST', `/sales/${s1.id}/cancel`, { token: shop.token }), 409, 'sale_cancelled');
  assertProblem(await call(t.app, 'POST', `/sales/${s1.id}/finalize`, { token: shop.token }), 409, 'sale_cancelled');
  assertProblem(await call(t.app, 'POST', '/payments', { token: shop.token, body: { sale_id: s1.id, amount: '1', method: 'cash' } }), 409, 'sale_cancelled');
  assertProblem(await call(t.app, 'PATCH', `/sales/${s1.id}`, { token: shop.token, body: { notes: 'x' } }), 409, 'sale_not_draft');

  // Gapless: the next invoice is INV-000002, and the cancelled sale is listed as cancelled.
  const s2 = await newSale(t.app, shop, hindi.id, [{ product_id: p.id, quantity: 1 }]);
  assert.equal(ok(await call(t.app, 'POST', `/sales/${s2.id}/finalize`, { token: shop.token })).invoice_no, 'INV-000002');
  assert.deepEqual(ok(await call(t.app, 'GET', '/sales?status=cancelled', { token: shop.token })).data.map((s: any) => s.id), [s1.id]);
  ok(await call(t.app, 'POST', `/sales/${s2.id}/cancel`, { token: shop.token }));

  const [ev] = await events(shop, 'order.cancelled');
  assert.deepEqual(ev, {
    sale_id: s1.id, invoice_no: 'INV-000001', total: '1300.00', customer_id: c.id, production_order_id: po.id, order_no: po.order_no,
  });
  const told = async (saleId: string) => eventually(async () => ok(await call(t.app, 'GET', `/social/messages?reference_id=${saleId}&direction=outbound`, { token: shop.token }))
    .data.find((m: any) => m.message_text?.includes('₹') && /cancel|रद्द/i.test(m.message_text)), 15_000, 'cancellation message');
  const en = await told(s1.id);
  assert.match(en.message_text, /Hi Ravi, your order for ₹1,300\.00 has been cancelled/);
  const hi = await told(s2.id);
  assert.match(hi.message_text, /नमस्ते Sunita जी, आपका ₹650\.00 का ऑर्डर रद्द/);
});

test('a sale with a payment cannot be cancelled; a draft can, quietly unless the customer asked for it', async () => {
  const shop = await newBusiness(t.app);
  const p = await newProduct(t.app, shop, { price: '100.00', production_steps: [] });
  const c = await newCustomer(t.app, shop);
  const paid = await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 1 }]);
  ok(await call(t.app, 'POST', `/sales/${paid.id}/finalize`, { token: shop.token }));
  ok(await call(t.app, 'POST', '/payments', { token: shop.token, body: { sale_id: paid.id, amount: '10', method: 'upi' } }), 201);
  assertProblem(await call(t.app, 'POST', `/sales/${paid.id}/cancel`, { token: shop.token }), 409, 'sale_has_payments');
  assert.equal(ok(await call(t.app, 'GET', `/sales/${paid.id}`, { token: shop.token })).status, 'final');

  // A draft made at the counter: cancelled, no invoice number used, nobody messaged.
  const draft = await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 1 }]);
  const gone = ok(await call(t.app, 'POST', `/sales/${draft.id}/cancel`, { token: shop.token }));
  assert.deepEqual([gone.status, gone.invoice_no, gone.production_order_id], ['cancelled', null, null]);
  // A draft the customer asked for on WhatsApp: they are told.
  const asked = await withTenant(t.db, shop.business.id, (tx) => insertDraftSale(tx, shop.business.id, null, {
    customer_id: c.id, items: [{ product_id: p.id, quantity: 3 }], source: 'whatsapp',
  }));
  ok(await call(t.app, 'POST', `/sales/${asked}/cancel`, { token: shop.token }));
  assert.deepEqual((await events(shop, 'order.cancelled')).map((e: any) => [e.sale_id, e.invoice_no, e.total]), [[asked, null, '300.00']]);

  // The next final sale still gets INV-000002: no number was spent on the drafts.
  const next = await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 1 }]);
  assert.equal(ok(await call(t.app, 'POST', `/sales/${next.id}/finalize`, { token: shop.token })).invoice_no, 'INV-000002');
  assertProblem(await call(t.app, 'POST', `/sales/${randomUUID()}/cancel`, { token: shop.token }), 404);
  const other = await newBusiness(t.app);
  assertProblem(await call(t.app, 'POST', `/sales/${next.id}/cancel`, { token: other.token }), 404);
});
