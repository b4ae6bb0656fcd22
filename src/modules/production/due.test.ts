// Production orders and workers' steps come soonest-due first, filter by the shop's own today,
// tomorrow and overdue, and a cancelled order's steps are no one's work.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { assertProblem, call, newCustomer, newProduct, newUser, ok, type Biz } from '../../../test/helpers/client.js';
import { randomUUID } from 'node:crypto';

let t: TestApp;
before(async () => { t = await buildTestApp(); });
after(async () => { await t.close(); });

async function shopIn(timezone: string): Promise<Biz> {
  return ok(await call(t.app, 'POST', '/auth/register', {
    body: { business_name: 'Island Bakes', name: 'Asha', email: `owner-${randomUUID()}@example.com`, password: 'correct horse', timezone },
  }), 201);
}

/** The calendar date `days` from today in a time zone, as YYYY-MM-DD. */
function localDate(timezone: string, days: number): string {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  const d = new Date(`${today}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** A finalized sale due at `due` (or never), returning its production order. */
async function order(shop: Biz, product: any, customer: any, due: string | null, extra: Record<string, unknown> = {}) {
  const sale = ok(await call(t.app, 'POST', '/sales', { token: shop.token, body: {
    customer_id: customer.id, items: [{ product_id: product.id, quantity: 1 }], ...(due ? { due_at: due } : {}), ...extra,
  } }), 201);
  const final = ok(await call(t.app, 'POST', `/sales/${sale.id}/finalize`, { token: shop.token }));
  return ok(await call(t.app, 'GET', `/production-orders/${final.production_order_id}`, { token: shop.token }));
}

test('production orders list soonest due first, undated last, page by page without repeats', async () => {
  const shop = await shopIn('Asia/Kolkata');
  const p = await newProduct(t.app, shop, { production_steps: ['Bake'] });
  const c = await newCustomer(t.app, shop);
  const none1 = await order(shop, p, c, null);
  const late = await order(shop, p, c, '2027-03-01T10:00:00+05:30');
  const soon = await order(shop, p, c, '2027-01-01T10:00:00+05:30', { fulfilment: 'delivery', delivery_address: '5 Park Street' });
  const none2 = await order(shop, p, c, null);
  const mid = await order(shop, p, c, '2027-02-01T10:00:00+05:30');
  assert.deepEqual([soon.due_at, soon.fulfilment, soon.delivery_address], ['2027-01-01T04:30:00.000Z', 'delivery', '5 Park Street']);
  assert.deepEqual([none1.due_at, none1.fulfilment, none1.delivery_address], [null, 'pickup', null]);

  const expected = [soon.id, mid.id, late.id, none1.id, none2.id];
  assert.deepEqual(ok(await call(t.app, 'GET', '/production-orders', { token: shop.token })).data.map((o: any) => o.id), expected);
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const res: any = ok(await call(t.app, 'GET', `/production-orders?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: shop.token }));
    seen.push(...res.data.map((o: any) => o.id));
    cursor = res.next_cursor;
  } while (cursor);
  assert.deepEqual(seen, expected);
  assertProblem(await call(t.app, 'GET', '/production-orders?cursor=bm90LWEtY3Vyc29y', { token: shop.token }), 400);
  assertProblem(await call(t.app, 'GET', `/production-orders?cursor=${Buffer.from(JSON.stringify(['garbage', 'x', 'y'])).toString('base64url')}`, { token: shop.token }), 400);
  assertProblem(await call(t.app, 'GET', '/production-orders?due=yesterday', { token: shop.token }), 400);
});

test('?due=today and tomorrow follow the business\'s time zone; overdue is past due and not ready', async () => {
  // UTC+14 all year: its calendar day differs from UTC's for fourteen hours of every day.
  const tz = 'Pacific/Kiritimati';
  const shop = await shopIn(tz);
  const p = await newProduct(t.app, shop, { production_steps: ['Bake'] });
  const c = await newCustomer(t.app, shop);
  const [today, tomorrow, dayAfter] = [0, 1, 2].map((n) => localDate(tz, n));
  const lastOfToday = await order(shop, p, c, `${today}T23:59:00+14:00`);
  const firstOfTomorrow = await order(shop, p, c, `${tomorrow}T00:00:00+14:00`);
  const lastOfTomorrow = await order(shop, p, c, `${tomorrow}T23:59:59+14:00`);
  await order(shop, p, c, `${dayAfter}T00:00:00+14:00`);
  await order(shop, p, c, null);
  const pastDue = await order(shop, p, c, new Date(Date.now() - 3600_000).toISOString());
  const pastButReady = await order(shop, p, c, new Date(Date.now() - 7200_000).toISOString());
  ok(await call(t.app, 'POST', `/worker/steps/${pastButReady.steps[0].id}/complete`, { token: shop.token }));
  ok(await call(t.app, 'POST', `/production-orders/${pastButReady.id}/ready`, { token: shop.token }));

  const ids = async (q: string) => ok(await call(t.app, 'GET', `/production-orders?${q}`, { token: shop.token })).data.map((o: any) => o.id);
  // The order due an hour ago is due today too, unless the shop's day began less than an hour ago.
  const todays = await ids('due=today');
  assert.ok(todays.includes(lastOfToday.id) && !todays.includes(firstOfTomorrow.id), JSON.stringify(todays));
  assert.deepEqual(await ids('due=tomorrow'), [firstOfTomorrow.id, lastOfTomorrow.id]);
  assert.deepEqual(await ids('due=overdue'), [pastDue.id]);
  assert.deepEqual(await ids('due=overdue&status=ready'), []);
});

test('a worker\'s steps come soonest due first; a cancelled order\'s steps disappear and refuse work', async () => {
  const shop = await shopIn('Asia/Kolkata');
  const p = await newProduct(t.app, shop, { production_steps: ['Cut', 'Stitch'] });
  const c = await newCustomer(t.app, shop);
  const worker = await newUser(t.app, shop, 'production_worker', 'Meena');
  const undated = await order(shop, p, c, null);
  const later = await order(shop, p, c, '2027-05-02T10:00:00+05:30');
  const sooner = await order(shop, p, c, '2027-05-01T18:00:00+05:30', { fulfilment: 'delivery', delivery_address: '1 Hill Road' });
  for (const o of [undated, later, sooner]) {
    for (const s of o.steps) ok(await call(t.app, 'POST', `/production-orders/${o.id}/steps/${s.id}/assign`, { token: shop.token, body: { worker_id: worker.user.id } }));
  }
  const mine = ok(await call(t.app, 'GET', '/worker/steps', { token: worker.token })).data;
  assert.deepEqual(mine.map((s: any) => [s.order_no, s.name]), [
    [sooner.order_no, 'Cut'], [sooner.order_no, 'Stitch'], [later.order_no, 'Cut'], [later.order_no, 'Stitch'], [undated.order_no, 'Cut'], [undated.order_no, 'Stitch'],
  ]);
  assert.deepEqual([mine[0].due_at, mine[0].fulfilment], ['2027-05-01T12:30:00.000Z', 'delivery']);
  assert.equal('delivery_address' in mine[0], false, 'a worker sees no customer address');
  // Paging through the queue keeps its order.
  const first = ok(await call(t.app, 'GET', '/worker/steps?limit=4', { token: worker.token }));
  const rest = ok(await call(t.app, 'GET', `/worker/steps?limit=4&cursor=${first.next_cursor}`, { token: worker.token }));
  assert.deepEqual([...first.data, ...rest.data].map((s: any) => s.id), mine.map((s: any) => s.id));

  ok(await call(t.app, 'POST', `/worker/steps/${sooner.steps[0].id}/start`, { token: worker.token }));
  ok(await call(t.app, 'POST', `/sales/${sooner.sale_id}/cancel`, { token: shop.token }));
  const after = ok(await call(t.app, 'GET', '/worker/steps?status=all', { token: worker.token })).data;
  assert.deepEqual(after.map((s: any) => s.order_no), [later.order_no, later.order_no, undated.order_no, undated.order_no]);
  for (const action of ['start', 'complete']) {
    assertProblem(await call(t.app, 'POST', `/worker/steps/${sooner.steps[1].id}/${action}`, { token: worker.token }), 409, 'order_cancelled');
  }
  assertProblem(await call(t.app, 'POST', `/worker/steps/${sooner.steps[0].id}/complete`, { token: shop.token }), 409, 'order_cancelled');
  assertProblem(await call(t.app, 'POST', `/production-orders/${sooner.id}/steps/${sooner.steps[1].id}/assign`, { token: shop.token, body: { worker_id: worker.user.id } }), 409, 'order_cancelled');
  assertProblem(await call(t.app, 'POST', `/production-orders/${sooner.id}/ready`, { token: shop.token }), 409, 'order_cancelled');
  const cancelled = ok(await call(t.app, 'GET', `/production-orders/${sooner.id}`, { token: shop.token }));
  assert.deepEqual([cancelled.status, cancelled.steps.map((s: any) => s.status)], ['cancelled', ['in_progress', 'pending']]);
  assert.deepEqual(ok(await call(t.app, 'GET', '/production-orders?status=cancelled', { token: shop.token })).data.map((o: any) => o.id), [sooner.id]);
});
