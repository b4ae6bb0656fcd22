// Business events reach the customer on WhatsApp exactly as SPEC §6 says: the right text, once,
// retried when the provider stumbles, failed when it refuses, and never lost across a restart.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp, eventually, silentLog, type TestApp } from '../../../../test/helpers/app.js';
import { call, newBusiness, newCustomer, newProduct, newSale, newUser, ok, assertProblem, type Biz } from '../../../../test/helpers/client.js';
import { metaError, startFakeProvider, type FakeProvider } from '../../../../test/helpers/fake-provider.js';
import { metaText, newWamid, postMeta } from '../../../../test/helpers/webhooks.js';
import { withTenant } from '../../../platform/tenancy.js';
import { startRuntime } from '../../../runtime.js';
import { handleEvent } from './notifier.js';
import { applyStatus } from './statuses.js';
import { busiestSecond } from './pace.js';

let fake: FakeProvider;
let t: TestApp;
before(async () => {
  fake = await startFakeProvider();
  // A wide jitter margin: the rate-cap test counts arrivals stamped by this busy test process (a
  // request on a new connection can arrive hundreds of ms late).
  t = await buildTestApp({ role: 'all', env: { META_GRAPH_API_URL: `${fake.url}/meta`, SEND_RETRY_BASE_MS: '50', SEND_JITTER_MARGIN_MS: '1000' } });
});
after(async () => {
  await t.close();
  await fake.close();
});
beforeEach(() => fake.clear());

async function shopWithChannel(settings: Record<string, unknown> = {}, name = 'Sweet Crumbs') {
  const shop = await newBusiness(t.app, name);
  const channel = ok(await call(t.app, 'POST', '/social/channels', { token: shop.token, body: {
    channel_type: 'whatsapp', phone_number: '+91 90000 00001', account_id: `pnid-${shop.business.id.slice(0, 8)}`,
    api_key: 'EAAG-secret-token', webhook_secret: 'hook-secret', settings: { provider: 'meta', ...settings },
  } }), 201);
  return { shop, channel };
}

async function finalSale(shop: Biz, customer: { id: string }, steps = ['Bake', 'Pack'], price = '650.00') {
  const p = await newProduct(t.app, shop, { price, production_steps: steps });
  const s = await newSale(t.app, shop, customer.id, [{ product_id: p.id, quantity: 2 }]);
  return ok(await call(t.app, 'POST', `/sales/${s.id}/finalize`, { token: shop.token }));
}

/** A finalized sale's `sale.created` event, written without the queue seeing it: a job for handleEvent() to be handed by hand. */
async function saleCreatedUnqueued(shop: Biz, customer: { id: string }) {
  const p = await newProduct(t.app, shop, { production_steps: [] });
  const s = await newSale(t.app, shop, customer.id, [{ product_id: p.id, quantity: 1 }]);
  const outbox = t.db.outbox;
  t.db.outbox = undefined;
  try {
    ok(await call(t.app, 'POST', `/sales/${s.id}/finalize`, { token: shop.token }));
  } finally {
    t.db.outbox = outbox;
  }
  const ev = await withTenant(t.db, shop.business.id, (tx) => tx.query(`SELECT id FROM events WHERE type = 'sale.created' AND payload->>'sale_id' = $1`, [s.id]));
  return { business_id: shop.business.id, event_id: ev.rows[0].id as number, type: 'sale.created' as const };
}
const deps = () => ({ db: t.db, config: t.config, queue: t.runtime!.queue, log: silentLog });

const outbound = async (shop: Biz, q = '') => ok(await call(t.app, 'GET', `/social/messages?direction=outbound${q}`, { token: shop.token })).data;
const sentTo = (pnid: string) => fake.requests.filter((r) => r.path.includes(`/meta/${pnid}/messages`));

test('a sale run through to payment sends five notifications with the right text, none duplicated', async () => {
  const { shop, channel } = await shopWithChannel();
  const ravi = await newCustomer(t.app, shop, { name: 'Ravi', mobile: '98765 43210' });
  const sale = await finalSale(shop, ravi);
  const po = ok(await call(t.app, 'GET', `/production-orders/${sale.production_order_id}`, { token: shop.token }));
  for (const step of po.steps) ok(await call(t.app, 'POST', `/worker/steps/${step.id}/complete`, { token: shop.token }));
  ok(await call(t.app, 'POST', `/production-orders/${po.id}/ready`, { token: shop.token }));
  ok(await call(t.app, 'POST', '/payments', { token: shop.token, body: { sale_id: sale.id, amount: '1300', method: 'upi' } }), 201);

  const msgs = await eventually(async () => {
    const m = await outbound(shop);
    return m.length === 5 && m.every((x: any) => x.status === 'sent') && m;
  }, 20_000, 'five sent notifications');
  const byEvent = Object.fromEntries(msgs.map((m: any) => [m.event_type, m]));
  assert.deepEqual(Object.keys(byEvent).sort(), ['order.ready', 'payment.received', 'production.completed', 'production.created', 'sale.created']);
  assert.match(byEvent['sale.created'].message_text, /INV-000001/);
  assert.match(byEvent['sale.created'].message_text, /₹1,300\.00/);
  assert.match(byEvent['sale.created'].message_text, /Ravi/);
  assert.match(byEvent['production.created'].message_text, /PO-000001/);
  assert.match(byEvent['production.completed'].message_text, /PO-000001/);
  assert.match(byEvent['order.ready'].message_text, /PO-000001/);
  assert.match(byEvent['payment.received'].message_text, /₹1,300\.00/);
  assert.match(byEvent['payment.received'].message_text, /₹0\.00/);
  for (const m of msgs) {
    assert.equal(m.to_number, '+919876543210');
    assert.equal(m.channel_id, channel.id);
    assert.match(m.provider_message_id, /^wamid\./);
    assert.equal(m.customer_id, ravi.id);
  }
  assert.equal(byEvent['sale.created'].reference_type, 'sale');
  assert.equal(byEvent['sale.created'].reference_id, sale.id);

  const requests = sentTo(channel.account_id);
  assert.equal(requests.length, 5, 'exactly five sends reached the provider');
  const first = requests.find((r) => String(r.body.text?.body).includes('INV-000001'))!;
  assert.equal(first.headers.authorization, 'Bearer EAAG-secret-token');
  assert.deepEqual([first.body.messaging_product, first.body.to, first.body.type], ['whatsapp', '+919876543210', 'text']);
  // The step-completed notification is off by default.
  assert.equal(msgs.some((m: any) => m.event_type === 'production.step.completed'), false);
  // Filters.
  assert.equal((await outbound(shop, `&reference_type=sale&reference_id=${sale.id}`)).length, 1);
  assert.equal((await outbound(shop, `&status=failed`)).length, 0);
});

test('an event delivered twice, or to two workers at once, yields exactly one message', async () => {
  const { shop, channel } = await shopWithChannel();
  const c = await newCustomer(t.app, shop);
  const sale = await finalSale(shop, c, []);
  await eventually(async () => (await outbound(shop)).some((m: any) => m.status === 'sent'), 15_000, 'first send');
  const ev = await withTenant(t.db, shop.business.id, (tx) => tx.query(`SELECT id FROM events WHERE type = 'sale.created' AND payload->>'sale_id' = $1`, [sale.id]));
  const job = { business_id: shop.business.id, event_id: ev.rows[0].id, type: 'sale.created' as const };
  await handleEvent(deps(), job);
  await Promise.all([handleEvent(deps(), job), handleEvent(deps(), job), handleEvent(deps(), job)]);
  assert.equal((await outbound(shop)).length, 1);
  assert.equal(sentTo(channel.account_id).length, 1);
});

test('two racing workers on a fresh event send once', async () => {
  const { shop, channel } = await shopWithChannel({ notifications: { 'production.created': false } });
  const c = await newCustomer(t.app, shop);
  // Write the event without the queue seeing it, then hand it to three handlers at once.
  const job = await saleCreatedUnqueued(shop, c);
  await Promise.all([handleEvent(deps(), job), handleEvent(deps(), job), handleEvent(deps(), job)]);
  assert.equal(sentTo(channel.account_id).length, 1);
  assert.equal((await outbound(shop)).length, 1);
});

test('a notification switched off for its channel writes nothing: no message, no conversation opened', async () => {
  const { shop, channel } = await shopWithChannel({ notifications: { 'sale.created': false, 'production.created': false } });
  const c = await newCustomer(t.app, shop);
  const job = await saleCreatedUnqueued(shop, c);
  await handleEvent(deps(), job);
  assert.equal((await outbound(shop)).length, 0);
  assert.equal(sentTo(channel.account_id).length, 0);
  const conversations = await withTenant(t.db, shop.business.id, (tx) => tx.query(`SELECT id FROM conversations WHERE customer_id = $1`, [c.id]));
  assert.equal(conversations.rows.length, 0);
  // Switched on, the same event goes, and opens the customer's conversation.
  ok(await call(t.app, 'PATCH', `/social/channels/${channel.id}`, { token: shop.token, body: { settings: { notifications: { 'sale.created': true } } } }));
  await handleEvent(deps(), job);
  await eventually(async () => sentTo(channel.account_id).length === 1, 10_000, 'the send');
  const opened = await withTenant(t.db, shop.business.id, (tx) => tx.query(`SELECT id FROM conversations WHERE customer_id = $1`, [c.id]));
  assert.equal(opened.rows.length, 1);
});

test('a 5xx is retried with backoff and then succeeds; a permanent error fails at once', async () => {
  const { shop, channel } = await shopWithChannel({ notifications: { 'production.created': false } });
  const c = await newCustomer(t.app, shop);
  fake.queue({ status: 500, body: 'Internal error' }, 2);
  await finalSale(shop, c, []);
  const m = await eventually(async () => (await outbound(shop)).find((x: any) => x.status === 'sent'), 20_000, 'retried send');
  assert.equal(m.attempts, 3);
  assert.equal(sentTo(channel.account_id).length, 3);

  fake.clear();
  fake.queue({ status: 400, body: metaError(131026, 'Message undeliverable') });
  const c2 = await newCustomer(t.app, shop);
  await finalSale(shop, c2, []);
  const failed = await eventually(async () => (await outbound(shop, `&customer_id=${c2.id}`)).find((x: any) => x.status === 'failed'), 15_000, 'failed send');
  assert.equal(failed.error_code, '131026');
  assert.match(failed.error_message, /undeliverable/);
  assert.equal(failed.attempts, 1);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(sentTo(channel.account_id).length, 1, 'no retries of a permanent failure');
});

test('an expired token fails the message and marks the channel as needing attention', async () => {
  const { shop, channel } = await shopWithChannel({ notifications: { 'production.created': false } });
  fake.queue({ status: 401, body: metaError(190, 'Error validating access token: Session has expired') });
  await finalSale(shop, await newCustomer(t.app, shop), []);
  const failed = await eventually(async () => (await outbound(shop)).find((x: any) => x.status === 'failed'), 15_000, 'failed send');
  assert.equal(failed.error_code, '190');
  const ch = ok(await call(t.app, 'GET', `/social/channels/${channel.id}`, { token: shop.token }));
  assert.equal(ch.status, 'needs_attention');
  assert.match(ch.status_reason, /190/);
  // New credentials clear it.
  const fixed = ok(await call(t.app, 'PATCH', `/social/channels/${channel.id}`, { token: shop.token, body: { api_key: 'EAAG-new-token' } }));
  assert.equal(fixed.status, 'active');
  assert.equal(fixed.status_reason, null);
});

test('opted-out customers and switched-off events get nothing', async () => {
  const { shop, channel } = await shopWithChannel({ notifications: { 'production.created': false } });
  const quiet = await newCustomer(t.app, shop, { whatsapp_opt_in: false });
  await finalSale(shop, quiet, ['Bake']);
  const loud = await newCustomer(t.app, shop);
  await finalSale(shop, loud, ['Bake']);
  await eventually(async () => (await outbound(shop)).length >= 1, 15_000, 'a message');
  await new Promise((r) => setTimeout(r, 500));
  const msgs = await outbound(shop);
  assert.deepEqual(msgs.map((m: any) => [m.customer_id, m.event_type]), [[loud.id, 'sale.created']]);
  assert.equal(sentTo(channel.account_id).length, 1);
});

test('a business template override, a Hindi-speaking customer, and a mapped approved template', async () => {
  const { shop, channel } = await shopWithChannel({
    notifications: { 'production.created': false },
    templates: { 'payment.received': { name: 'payment_receipt', language: 'en', params: ['customerName', 'amount', 'invoiceNo'] } },
  });
  assertProblem(await call(t.app, 'PUT', '/social/templates/sale.created?locale=en', { token: shop.token, body: { body: 'Hi {{customerName}}, {{nonsense}}' } }), 400);
  ok(await call(t.app, 'PUT', '/social/templates/sale.created?locale=en', { token: shop.token, body: { body: 'Namaste {{customerName}}! Bill {{invoiceNo}} for {{total}} from {{businessName}}.' } }));
  const anita = await newCustomer(t.app, shop, { name: 'Anita' });
  const sunita = await newCustomer(t.app, shop, { name: 'Sunita', locale: 'hi' });
  const s1 = await finalSale(shop, anita, [], '100.00');
  await finalSale(shop, sunita, [], '100.00');
  ok(await call(t.app, 'POST', '/payments', { token: shop.token, body: { sale_id: s1.id, amount: '50', method: 'cash' } }), 201);
  const msgs = await eventually(async () => {
    const m = await outbound(shop);
    return m.length === 3 && m.every((x: any) => x.status === 'sent') && m;
  }, 20_000, 'three sends');
  const of = (cid: string, ev: string) => msgs.find((m: any) => m.customer_id === cid && m.event_type === ev);
  assert.match(of(anita.id, 'sale.created').message_text, /^Namaste Anita! Bill INV-00000\d for ₹200\.00 from Sweet Crumbs\.$/);
  assert.match(of(sunita.id, 'sale.created').message_text, /[\u0900-\u097F]/, 'Hindi default for a Hindi-speaking customer');
  const receipt = of(anita.id, 'payment.received');
  assert.equal(receipt.message_type, 'template');
  assert.equal(receipt.template_name, 'payment_receipt');
  const req = sentTo(channel.account_id).find((r) => r.body.type === 'template')!;
  assert.equal(req.body.template.name, 'payment_receipt');
  assert.deepEqual(req.body.template.components[0].parameters.map((p: any) => p.text), ['Anita', '₹50.00', s1.invoice_no]);
  // Back to the default.
  const reset = ok(await call(t.app, 'DELETE', '/social/templates/sale.created?locale=en', { token: shop.token }));
  assert.equal(reset.is_default, true);
  const list = ok(await call(t.app, 'GET', '/social/templates', { token: shop.token })).data;
  assert.ok(list.some((x: any) => x.event === 'lead.ack' && x.locale === 'hi'));
});

test('status callbacks move a message forward only, and a status that arrives first is kept', async () => {
  const { shop } = await shopWithChannel({ notifications: { 'production.created': false } });
  await finalSale(shop, await newCustomer(t.app, shop), []);
  const m = await eventually(async () => (await outbound(shop)).find((x: any) => x.status === 'sent'), 15_000, 'sent');
  const apply = (id: string, s: any) => withTenant(t.db, shop.business.id, (tx) => applyStatus(tx, shop.business.id, m.channel_id, id, s));
  assert.equal(await apply(m.provider_message_id, 'read'), 'applied');
  assert.equal(await apply(m.provider_message_id, 'delivered'), 'ignored');
  assert.equal(await apply(m.provider_message_id, 'failed'), 'ignored');
  const after = (await outbound(shop))[0];
  assert.equal(after.status, 'read');
  assert.ok(after.delivered_at && after.read_at);

  // The provider's "delivered" outruns our record of the send: kept, then applied when it lands.
  const c2 = await newCustomer(t.app, shop);
  fake.queue({ status: 200, body: { messaging_product: 'whatsapp', contacts: [], messages: [{ id: 'wamid.EARLY' }] }, delayMs: 300 });
  await finalSale(shop, c2, []);
  await eventually(async () => fake.requests.length > 0, 5000, 'send in flight');
  assert.equal(await apply('wamid.EARLY', 'delivered'), 'kept');
  const early = await eventually(async () => (await outbound(shop, `&customer_id=${c2.id}`)).find((x: any) => x.provider_message_id === 'wamid.EARLY' && x.status === 'delivered'), 10_000, 'early status applied');
  assert.equal(early.status, 'delivered');
});

test('a process that dies between commit and send loses nothing: the next worker sends it', async () => {
  // An API-only process: events are queued in the business transaction, nothing is delivered.
  const api = await buildTestApp({ role: 'api', env: { META_GRAPH_API_URL: `${fake.url}/meta` } });
  try {
    const shop = await newBusiness(api.app);
    const ch = ok(await call(api.app, 'POST', '/social/channels', { token: shop.token, body: {
      channel_type: 'whatsapp', phone_number: '+919000000002', account_id: 'pnid-restart', api_key: 'tok', webhook_secret: 'app-secret', settings: { notifications: { 'production.created': false } },
    } }), 201);
    const c = await newCustomer(api.app, shop);
    const p = await newProduct(api.app, shop, { production_steps: [] });
    const s = await newSale(api.app, shop, c.id, [{ product_id: p.id, quantity: 1 }]);
    ok(await call(api.app, 'POST', `/sales/${s.id}/finalize`, { token: shop.token }));
    await api.runtime!.stop(); // the process "dies" with the job committed but never worked
    assert.equal(sentTo(ch.account_id).length, 0);

    const worker = await startRuntime({ config: api.config, db: api.db, log: silentLog, role: 'worker', pollingIntervalSeconds: 0.5 });
    try {
      const sent = await eventually(async () => {
        const m = ok(await call(api.app, 'GET', '/social/messages', { token: shop.token })).data;
        return m.find((x: any) => x.status === 'sent');
      }, 20_000, 'message sent by the restarted worker');
      assert.equal(sent.event_type, 'sale.created');
      assert.equal(sentTo(ch.account_id).length, 1);
    } finally {
      await worker.stop();
    }
  } finally {
    api.runtime = undefined;
    await api.close();
  }
});

test('channels: admin-only writes, secrets encrypted and never returned, roles and bad settings refused', async () => {
  const { shop, channel } = await shopWithChannel();
  assert.deepEqual([channel.has_api_key, channel.has_webhook_secret, channel.has_api_secret], [true, true, false]);
  assert.equal(channel.phone_number, '+919000000001');
  for (const k of ['api_key', 'api_secret', 'webhook_secret', 'api_key_enc']) assert.equal(k in channel, false);
  const stored = await withTenant(t.db, shop.business.id, (tx) => tx.query(`SELECT api_key_enc, webhook_secret_enc FROM social_channels WHERE id = $1`, [channel.id]));
  assert.ok(!stored.rows[0].api_key_enc.includes('EAAG-secret-token'));
  assert.match(stored.rows[0].api_key_enc, /^v1:/);
  const listed = ok(await call(t.app, 'GET', '/social/channels', { token: shop.token }));
  assert.ok(!JSON.stringify(listed).includes('EAAG-secret-token'));

  const manager = await newUser(t.app, shop, 'manager');
  const seller = await newUser(t.app, shop, 'sales');
  const worker = await newUser(t.app, shop, 'production_worker');
  assertProblem(await call(t.app, 'POST', '/social/channels', { token: manager.token, body: { channel_type: 'whatsapp' } }), 403);
  assertProblem(await call(t.app, 'PATCH', `/social/channels/${channel.id}`, { token: seller.token, body: { is_active: false } }), 403);
  assert.equal(ok(await call(t.app, 'GET', '/social/channels', { token: seller.token })).data.length, 1);
  assertProblem(await call(t.app, 'GET', '/social/channels', { token: worker.token }), 403);
  assertProblem(await call(t.app, 'GET', '/social/messages', { token: worker.token }), 403);
  assertProblem(await call(t.app, 'POST', '/social/channels', { token: shop.token, body: { channel_type: 'sms' } }), 400);
  assertProblem(await call(t.app, 'POST', '/social/channels', { token: shop.token, body: { channel_type: 'whatsapp', settings: { provider: 'telegram' } } }), 400);
  assertProblem(await call(t.app, 'PATCH', `/social/channels/${channel.id}`, { token: shop.token, body: { settings: { notifications: { 'sale.created': 'yes' } } } }), 400);
  assertProblem(await call(t.app, 'PATCH', `/social/channels/${channel.id}`, { token: shop.token, body: { settings: { templates: { 'sale.created': { name: 'Bad Name', language: 'en' } } } } }), 400);
  const other = await newBusiness(t.app, 'Other');
  assertProblem(await call(t.app, 'PATCH', `/social/channels/${channel.id}`, { token: other.token, body: { is_active: false } }), 404);
  const off = ok(await call(t.app, 'PATCH', `/social/channels/${channel.id}`, { token: shop.token, body: { settings: { notifications: { 'order.ready': false } } } }));
  assert.equal(off.settings.notifications['order.ready'], false);
  assert.equal(off.settings.provider, 'meta', 'a settings patch keeps the rest');
});

test('the per-channel rate cap holds: never more sends in any sliding second than max_per_second', async () => {
  const { shop, channel } = await shopWithChannel({ max_per_second: 3, notifications: { 'production.created': false } });
  const p = await newProduct(t.app, shop, { production_steps: [] });
  const drafts = [];
  for (let i = 0; i < 8; i++) drafts.push(await newSale(t.app, shop, (await newCustomer(t.app, shop)).id, [{ product_id: p.id, quantity: 1 }]));
  await Promise.all(drafts.map((d) => call(t.app, 'POST', `/sales/${d.id}/finalize`, { token: shop.token })));
  await eventually(async () => sentTo(channel.account_id).length === 8 && true, 30_000, 'eight sends');
  // Counted where WhatsApp counts: when the requests arrive at the provider.
  assert.ok(busiestSecond(sentTo(channel.account_id).map((r) => r.receivedAt)) <= 3, JSON.stringify(sentTo(channel.account_id).map((r) => r.receivedAt)));
  const msgs = await eventually(async () => {
    const m = await outbound(shop);
    return m.length === 8 && m.every((x: any) => x.status === 'sent') && m;
  }, 10_000, 'eight recorded');
  assert.equal(msgs.length, 8);
});

test('outside the 24-hour window a text refused with 131047 goes again as the mapped template; without one it fails with the reason', async () => {
  const { shop, channel } = await shopWithChannel({
    notifications: { 'production.created': false, 'production.completed': false },
    templates: { 'order.ready': { name: 'order_ready', language: 'en', params: ['customerName', 'orderNo'] } },
  });
  const c = await newCustomer(t.app, shop, { name: 'Meera' });
  // sale.created has no mapped template: refused outside the window, it fails with Meta's reason.
  fake.queue({ status: 400, body: metaError(131047, 'Re-engagement message', 'More than 24 hours have passed since the recipient last replied') });
  const sale = await finalSale(shop, c, ['Bake']);
  const failed = await eventually(async () => (await outbound(shop)).find((m: any) => m.event_type === 'sale.created' && m.status === 'failed'), 15_000, 'failed');
  assert.equal(failed.error_code, '131047');
  assert.match(failed.error_message, /24 hours/);
  // Meera writes to the shop (her window opens), so order.ready goes as text; Meta still refuses it
  // with 131047, and the message goes again as the mapped template.
  ok(await postMeta(t.app, metaText(channel.account_id, c.mobile, 'when will it be ready?', { id: newWamid() }), 'hook-secret').then((r) => ({
    status: r.statusCode, body: r.json(), headers: r.headers })));
  fake.clear();
  fake.queue({ status: 400, body: metaError(131047, 'Re-engagement message') });
  const po = ok(await call(t.app, 'GET', `/production-orders/${sale.production_order_id}`, { token: shop.token }));
  for (const st of po.steps) ok(await call(t.app, 'POST', `/worker/steps/${st.id}/complete`, { token: shop.token }));
  ok(await call(t.app, 'POST', `/production-orders/${po.id}/ready`, { token: shop.token }));
  const ready = await eventually(async () => (await outbound(shop)).find((m: any) => m.event_type === 'order.ready' && m.status === 'sent'), 15_000, 'ready sent');
  assert.equal(ready.message_type, 'template');
  assert.deepEqual(sentTo(channel.account_id).map((r) => r.body.type), ['text', 'template']);
  const req = sentTo(channel.account_id)[1];
  assert.deepEqual(req.body.template.components[0].parameters.map((p: any) => p.text), ['Meera', po.order_no]);
});
