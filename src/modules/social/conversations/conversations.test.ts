// The shop counter on every channel: every customer message lands in a conversation, staff see
// what waits for a reply and answer through the durable outbound path, notifications follow the
// customer to the channel they use, and edits and deletions change the message they name.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildTestApp, eventually, type TestApp } from '../../../../test/helpers/app.js';
import { assertProblem, call, newBusiness, newCustomer, newProduct, newSale, newUser, ok, type Biz } from '../../../../test/helpers/client.js';
import { startFakeProvider, type FakeProvider } from '../../../../test/helpers/fake-provider.js';
import { metaStatuses, metaText, newWamid, postMeta } from '../../../../test/helpers/webhooks.js';
import { signMeta } from '../webhooks/signatures.js';
import { withTenant } from '../../../platform/tenancy.js';

let t: TestApp;
let fake: FakeProvider;
before(async () => {
  fake = await startFakeProvider();
  t = await buildTestApp({ role: 'all', env: { META_GRAPH_API_URL: `${fake.url}/meta`, TELEGRAM_API_URL: `${fake.url}/telegram`, TWILIO_API_URL: `${fake.url}/twilio` } });
});
after(async () => {
  await t.close();
  await fake.close();
});
beforeEach(() => fake.clear());

const real = (name: string) => readFileSync(new URL(`../../../../test/fixtures/payloads/real/${name}`, import.meta.url));

async function whatsappShop(settings: Record<string, unknown> = {}, opts: { pnid?: string } = {}) {
  const biz = await newBusiness(t.app, 'Sweet Crumbs');
  const pnid = opts.pnid ?? `pnid-${randomUUID().slice(0, 8)}`;
  const secret = `secret-${randomUUID()}`;
  const channel = ok(await call(t.app, 'POST', '/social/channels', { token: biz.token, body: {
    channel_type: 'whatsapp', phone_number: '+919000000001', account_id: pnid, api_key: 'EAAG-token', webhook_secret: secret,
    settings: { provider: 'meta', ...settings },
  } }), 201);
  return { biz, channel, pnid, secret };
}

async function telegramChannel(biz: Biz, token = `${Math.floor(Math.random() * 1e9)}:bot-token`) {
  const secret = `tg-${randomUUID()}`;
  const channel = ok(await call(t.app, 'POST', '/social/channels', { token: biz.token, body: {
    channel_type: 'telegram', api_key: token, webhook_secret: secret, settings: { provider: 'telegram' },
  } }), 201);
  return { channel, secret, token };
}

let updateSeq = 1000;
function telegramText(chatId: number, text: string, extra: Record<string, unknown> = {}) {
  updateSeq++;
  return {
    update_id: updateSeq,
    message: { message_id: updateSeq, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: 'private', first_name: 'Kavya' },
      from: { id: chatId, is_bot: false, first_name: 'Kavya' }, text, ...extra },
  };
}
const postTelegram = (channelId: string, secret: string, update: unknown) => t.app.inject({
  method: 'POST', url: `/api/v1/social/webhook/telegram?channel_id=${channelId}`, payload: JSON.stringify(update),
  headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
});

const conversations = async (biz: Biz, q = '') => ok(await call(t.app, 'GET', `/social/conversations${q}`, { token: biz.token })).data;
const thread = async (biz: Biz, id: string) => ok(await call(t.app, 'GET', `/social/conversations/${id}/messages`, { token: biz.token })).data;
const handled = (biz: Biz, providerId: string) => eventually(async () => {
  const r = await withTenant(t.db, biz.business.id, (tx) => tx.query(`SELECT intent FROM social_messages WHERE provider_message_id = $1`, [providerId]));
  return r.rows[0]?.intent;
}, 15_000, `message ${providerId} read`);

test('a stranger\'s question waits in the inbox with needs_reply; a reply goes out, is marked sent, then delivered', async () => {
  const s = await whatsappShop();
  const question = newWamid();
  const r = await postMeta(t.app, metaText(s.pnid, '919811122233', 'Do you have eggless cakes?', { id: question, name: 'Priya' }), s.secret);
  assert.equal(r.statusCode, 200);
  assert.equal(await handled(s.biz, question), 'other');

  const [c] = await conversations(s.biz, '?needs_reply=true');
  assert.deepEqual([c.name, c.mobile, c.address, c.channel_type, c.unread, c.needs_reply, c.customer_id, c.lead_id],
    ['Priya', '+919811122233', '+919811122233', 'whatsapp', 1, true, null, null]);
  assert.equal(c.last_message.message_text, 'Do you have eggless cakes?');
  assert.deepEqual([c.window.rule, c.window.open], ['whatsapp_24h', true]);
  assert.ok(Date.parse(c.window.closes_at) > Date.now() + 23 * 3600 * 1000);
  // Found by part of the number, and by name; not by someone else's.
  assert.equal((await conversations(s.biz, '?q=98111')).length, 1);
  assert.equal((await conversations(s.biz, '?q=priya')).length, 1);
  assert.equal((await conversations(s.biz, '?q=Rahul')).length, 0);
  // No automatic answer unless the channel asks for one, and a question makes no lead.
  assert.equal((await thread(s.biz, c.id)).filter((m: any) => m.direction === 'outbound').length, 0);
  assert.equal(ok(await call(t.app, 'GET', '/leads', { token: s.biz.token })).data.length, 0);

  const sales = await newUser(t.app, s.biz, 'sales', 'Sunil');
  const sent = ok(await call(t.app, 'POST', `/social/conversations/${c.id}/messages`, { token: sales.token, body: { text: 'Yes! Eggless chocolate, ₹700 per kg.' } }), 201);
  assert.deepEqual([sent.status, sent.direction, sent.automatic, sent.sent_by.name, sent.conversation_id, sent.to_number],
    ['pending', 'outbound', false, 'Sunil', c.id, '+919811122233']);
  const delivered = await eventually(async () => (await thread(s.biz, c.id)).find((m: any) => m.id === sent.id && m.status === 'sent'), 15_000, 'reply sent');
  const req = fake.requests.find((q) => q.path === `/meta/${s.pnid}/messages`);
  assert.deepEqual([req?.body.type, req?.body.text.body, req?.body.to], ['text', 'Yes! Eggless chocolate, ₹700 per kg.', '+919811122233']);

  const after = ok(await call(t.app, 'GET', `/social/conversations/${c.id}`, { token: s.biz.token }));
  assert.deepEqual([after.needs_reply, after.unread, after.last_message.id], [false, 0, sent.id]);
  assert.equal((await conversations(s.biz, '?needs_reply=true')).length, 0);

  // The status webhook moves it forward; the thread shows both directions in order.
  ok(await postMeta(t.app, metaStatuses(s.pnid, [{ id: delivered.provider_message_id, status: 'delivered', recipient: '919811122233' }]), s.secret)
    .then((x) => ({ status: x.statusCode, body: x.json(), headers: x.headers })));
  const msgs = await thread(s.biz, c.id);
  assert.deepEqual(msgs.map((m: any) => [m.direction, m.status]), [['inbound', 'received'], ['outbound', 'delivered']]);

  // The customer writes again: it waits for a reply again, unread again.
  await postMeta(t.app, metaText(s.pnid, '919811122233', 'Great, and for Sunday?', { name: 'Priya' }), s.secret);
  const again = ok(await call(t.app, 'GET', `/social/conversations/${c.id}`, { token: s.biz.token }));
  assert.deepEqual([again.needs_reply, again.unread], [true, 1]);
  const read = ok(await call(t.app, 'POST', `/social/conversations/${c.id}/read`, { token: s.biz.token }));
  assert.deepEqual([read.unread, read.needs_reply], [0, true], 'reading is not replying');
});

test('the automatic "we\'ll reply soon" is a per-channel switch, for an unknown sender\'s first message only', async () => {
  const s = await whatsappShop({ notifications: { 'message.auto_reply': true } });
  const first = newWamid();
  await postMeta(t.app, metaText(s.pnid, '919822233344', 'Hello, are you open on Sunday?', { id: first }), s.secret);
  await handled(s.biz, first);
  const second = newWamid();
  await postMeta(t.app, metaText(s.pnid, '919822233344', 'Hello?', { id: second }), s.secret);
  await handled(s.biz, second);
  const known = await newCustomer(t.app, s.biz, { mobile: '+919833344455' });
  const fromKnown = newWamid();
  await postMeta(t.app, metaText(s.pnid, known.mobile, 'Hi, quick question', { id: fromKnown }), s.secret);
  await handled(s.biz, fromKnown);

  const all = ok(await call(t.app, 'GET', '/social/messages?direction=outbound', { token: s.biz.token })).data;
  assert.deepEqual(all.map((m: any) => [m.event_type, m.to_number, m.automatic]), [['message.auto_reply', '919822233344', true]]);
  assert.match(all[0].message_text, /Sweet Crumbs/);
  // Still waiting for a person: an automatic answer is not a reply.
  const [c] = await conversations(s.biz, '?q=98222');
  assert.equal(c.needs_reply, true);
});

test('outside WhatsApp\'s 24-hour window free text is refused with window_closed; a mapped approved template goes', async () => {
  const s = await whatsappShop({ templates: { 'order.ready': { name: 'order_ready', language: 'en', params: ['customerName', 'orderNo'] } } });
  await postMeta(t.app, metaText(s.pnid, '919844455566', 'Thanks!', { name: 'Meera' }), s.secret);
  const [c] = await conversations(s.biz);
  assert.deepEqual(c.templates, [{ event: 'order.ready', name: 'order_ready', language: 'en', params: ['customerName', 'orderNo'] }]);
  // Two days pass.
  await withTenant(t.db, s.biz.business.id, (tx) => tx.query(`UPDATE conversations SET last_inbound_at = now() - interval '48 hours' WHERE id = $1`, [c.id]));

  const refused = await call(t.app, 'POST', `/social/conversations/${c.id}/messages`, { token: s.biz.token, body: { text: 'Your cake is ready' } });
  assertProblem(refused, 409, 'window_closed');
  assert.match(refused.body.detail, /closed at/);
  const closedAt = Date.parse(refused.body.closed_at);
  assert.ok(Math.abs(closedAt - (Date.now() - 24 * 3600 * 1000)) < 60_000, refused.body.closed_at);

  const tpl = ok(await call(t.app, 'POST', `/social/conversations/${c.id}/messages`, { token: s.biz.token, body: { template: 'order_ready', params: { orderNo: 'PO-000042' } } }), 201);
  assert.deepEqual([tpl.message_type, tpl.template_name], ['template', 'order_ready']);
  await eventually(async () => fake.requests.some((q) => q.path === `/meta/${s.pnid}/messages`), 15_000, 'template sent');
  const body = fake.requests.find((q) => q.path === `/meta/${s.pnid}/messages`)!.body;
  assert.equal(body.type, 'template');
  assert.deepEqual(body.template.components[0].parameters.map((p: any) => p.text), ['Meera', 'PO-000042']);

  // A template the channel does not map, a missing parameter, parameters without a template: 400.
  assertProblem(await call(t.app, 'POST', `/social/conversations/${c.id}/messages`, { token: s.biz.token, body: { template: 'hello_world' } }), 400);
  const missing = await call(t.app, 'POST', `/social/conversations/${c.id}/messages`, { token: s.biz.token, body: { template: 'order.ready' } });
  assertProblem(missing, 400);
  assert.deepEqual(missing.body.errors.map((e: any) => e.field), ['params.orderNo']);
  assertProblem(await call(t.app, 'POST', `/social/conversations/${c.id}/messages`, { token: s.biz.token, body: { text: 'hi', params: { orderNo: '1' } } }), 400);
  // Nothing was written by the refused requests.
  assert.equal((await thread(s.biz, c.id)).filter((m: any) => m.direction === 'outbound').length, 1);
});

test('bad replies: another business\'s conversation, empty or over-long text, a channel that is off or needs attention, a worker', async () => {
  const s = await whatsappShop();
  await postMeta(t.app, metaText(s.pnid, '919855566677', 'Hi'), s.secret);
  const [c] = await conversations(s.biz);
  const other = await newBusiness(t.app, 'Other shop');
  assertProblem(await call(t.app, 'GET', `/social/conversations/${c.id}`, { token: other.token }), 404);
  assertProblem(await call(t.app, 'POST', `/social/conversations/${c.id}/messages`, { token: other.token, body: { text: 'hello' } }), 404);
  assertProblem(await call(t.app, 'GET', `/social/conversations/${c.id}/messages`, { token: other.token }), 404);
  assert.equal((await conversations(other)).length, 0);

  const empty = await call(t.app, 'POST', `/social/conversations/${c.id}/messages`, { token: s.biz.token, body: { text: '   ' } });
  assertProblem(empty, 400);
  assert.equal(empty.body.errors[0].field, 'text');
  const long = await call(t.app, 'POST', `/social/conversations/${c.id}/messages`, { token: s.biz.token, body: { text: 'x'.repeat(4097) } });
  assertProblem(long, 400);
  assert.equal(long.body.errors[0].field, 'text');
  assertProblem(await call(t.app, 'POST', `/social/conversations/${c.id}/messages`, { token: s.biz.token, body: {} }), 400);

  const worker = await newUser(t.app, s.biz, 'production_worker');
  assertProblem(await call(t.app, 'GET', '/social/conversations', { token: worker.token }), 403);
  assertProblem(await call(t.app, 'POST', `/social/conversations/${c.id}/messages`, { token: worker.token, body: { text: 'hi' } }), 403);

  await withTenant(t.db, s.biz.business.id, (tx) => tx.query(`UPDATE social_channels SET status = 'needs_attention', status_reason = 'token expired' WHERE id = $1`, [s.channel.id]));
  const attention = await call(t.app, 'POST', `/social/conversations/${c.id}/messages`, { token: s.biz.token, body: { text: 'hi' } });
  assertProblem(attention, 409, 'channel_needs_attention');
  assert.match(attention.body.detail, /token expired/);
  ok(await call(t.app, 'PATCH', `/social/channels/${s.channel.id}`, { token: s.biz.token, body: { is_active: false } }));
  assertProblem(await call(t.app, 'POST', `/social/conversations/${c.id}/messages`, { token: s.biz.token, body: { text: 'hi' } }), 409, 'channel_inactive');
  assert.equal((await thread(s.biz, c.id)).length, 1, 'refused replies store nothing');
  assert.equal(fake.requests.length, 0);
});

test('Instagram: the 1000-character limit is checked before queueing; an unsend marks the message deleted', async () => {
  const biz = await newBusiness(t.app, 'Insta shop');
  const secret = `ig-${randomUUID()}`;
  const igId = `1784${Math.floor(Math.random() * 1e10)}`;
  const ch = ok(await call(t.app, 'POST', '/social/channels', { token: biz.token, body: {
    channel_type: 'instagram', account_id: igId, api_key: 'ig-token', webhook_secret: secret, settings: { provider: 'instagram' },
  } }), 201);
  const body = { object: 'instagram', entry: [{ id: igId, time: Date.now(), messaging: [{ sender: { id: '5550001' }, recipient: { id: igId },
    timestamp: Date.now(), message: { mid: `m_${randomUUID()}`, text: 'price?' } }] }] };
  const raw = Buffer.from(JSON.stringify(body));
  assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/social/webhook/instagram', payload: raw,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signMeta(raw, secret) } })).statusCode, 200);
  const [c] = await conversations(biz);
  assert.deepEqual([c.channel_id, c.address, c.window.rule, c.window.open], [ch.id, '5550001', 'messenger_24h', true]);
  const long = await call(t.app, 'POST', `/social/conversations/${c.id}/messages`, { token: biz.token, body: { text: 'x'.repeat(1001) } });
  assertProblem(long, 400);
  assert.match(long.body.errors[0].message, /1000/);
  ok(await call(t.app, 'POST', `/social/conversations/${c.id}/messages`, { token: biz.token, body: { text: 'x'.repeat(1000) } }), 201);

  // The customer unsends the question: it is marked deleted, and no empty message is added.
  const mid = body.entry[0].messaging[0].message.mid;
  const unsend = Buffer.from(JSON.stringify({ object: 'instagram', entry: [{ id: igId, time: Date.now(), messaging: [{ sender: { id: '5550001' },
    recipient: { id: igId }, timestamp: Date.now(), message: { mid, is_deleted: true } }] }] }));
  assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/social/webhook/instagram', payload: unsend,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signMeta(unsend, secret) } })).statusCode, 200);
  const inbound = (await thread(biz, c.id)).filter((m: any) => m.direction === 'inbound');
  assert.deepEqual(inbound.map((m: any) => [m.deleted, m.message_text]), [[true, null]]);
});

test('a Telegram customer: sharing their number links the chat, and the order notifications go to Telegram', async () => {
  const s = await whatsappShop();
  const tg = await telegramChannel(s.biz);
  const kavya = await newCustomer(t.app, s.biz, { name: 'Kavya', mobile: '+919866677788' });
  const chat = 700000000 + Math.floor(Math.random() * 1e6);
  await postTelegram(tg.channel.id, tg.secret, telegramText(chat, 'hi, is this the bakery?'));
  let [c] = await conversations(s.biz, `?channel_id=${tg.channel.id}`);
  assert.deepEqual([c.address, c.customer_id, c.window.rule, c.window.open], [String(chat), null, 'none', true]);
  // She shares her own number (Telegram's "share my contact"): the chat becomes Kavya's.
  const share = telegramText(chat, '', { contact: { phone_number: '919866677788', first_name: 'Kavya', user_id: chat } });
  delete (share.message as any).text;
  assert.equal((await postTelegram(tg.channel.id, tg.secret, share)).statusCode, 200);
  [c] = await conversations(s.biz, `?customer_id=${kavya.id}`);
  assert.deepEqual([c.channel_type, c.customer_id, c.name], ['telegram', kavya.id, 'Kavya']);

  const cake = await newProduct(t.app, s.biz, { name: 'Rasmalai cake', production_steps: ['Bake'] });
  const sale = await newSale(t.app, s.biz, kavya.id, [{ product_id: cake.id, quantity: 1 }]);
  const fin = ok(await call(t.app, 'POST', `/sales/${sale.id}/finalize`, { token: s.biz.token }));
  const po = ok(await call(t.app, 'GET', `/production-orders/${fin.production_order_id}`, { token: s.biz.token }));
  ok(await call(t.app, 'POST', `/worker/steps/${po.steps[0].id}/complete`, { token: s.biz.token }));
  ok(await call(t.app, 'POST', `/production-orders/${po.id}/ready`, { token: s.biz.token }));

  const ready = await eventually(async () => (await thread(s.biz, c.id)).find((m: any) => m.event_type === 'order.ready' && m.status === 'sent'), 15_000, 'ready on telegram');
  assert.deepEqual([ready.channel_id, ready.to_number, ready.automatic, ready.metadata.route.reason], [tg.channel.id, String(chat), true, 'last_used_channel']);
  const sends = fake.requests.filter((q) => q.path === `/telegram/bot${tg.token}/sendMessage`);
  assert.ok(sends.some((q) => String(q.body.chat_id) === String(chat) && /ready/i.test(q.body.text)), JSON.stringify(sends.map((q) => q.body)));
  assert.equal(fake.requests.filter((q) => q.path === `/meta/${s.pnid}/messages`).length, 0, 'nothing went to WhatsApp');
});

test('staff link a conversation to a customer; a lead converted from a chat links it too', async () => {
  const s = await whatsappShop();
  const tg = await telegramChannel(s.biz);
  const chat = 710000000 + Math.floor(Math.random() * 1e6);
  await postTelegram(tg.channel.id, tg.secret, telegramText(chat, 'hello'));
  const [c] = await conversations(s.biz);
  const ravi = await newCustomer(t.app, s.biz, { name: 'Ravi' });
  const linked = ok(await call(t.app, 'POST', `/social/conversations/${c.id}/link`, { token: s.biz.token, body: { customer_id: ravi.id } }));
  assert.deepEqual([linked.customer_id, linked.name], [ravi.id, 'Ravi']);
  assert.ok((await thread(s.biz, c.id)).every((m: any) => m.customer_id === ravi.id));
  const stranger = await newBusiness(t.app, 'Stranger shop');
  const theirs = await newCustomer(t.app, stranger);
  assertProblem(await call(t.app, 'POST', `/social/conversations/${c.id}/link`, { token: s.biz.token, body: { customer_id: theirs.id } }), 404);

  // A WhatsApp order from a new number: a lead; converting it links the conversation.
  await newProduct(t.app, s.biz, { name: 'Chocolate cake' });
  const order = newWamid();
  await postMeta(t.app, metaText(s.pnid, '919877788899', 'I want 2 chocolate cakes', { id: order, name: 'Anil' }), s.secret);
  await handled(s.biz, order);
  const [wa] = await conversations(s.biz, '?q=98777');
  assert.ok(wa.lead_id, 'the conversation shows its lead');
  const { customer } = ok(await call(t.app, 'POST', `/leads/${wa.lead_id}/convert`, { token: s.biz.token }));
  const after = ok(await call(t.app, 'GET', `/social/conversations/${wa.id}`, { token: s.biz.token }));
  assert.deepEqual([after.customer_id, after.name], [customer.id, 'Anil']);
});

test('a second WhatsApp channel does not steal notifications: the one the customer used, else default, else the oldest real one', async () => {
  const biz = await newBusiness(t.app, 'Two numbers');
  const mk = async (settings: Record<string, unknown>) => ok(await call(t.app, 'POST', '/social/channels', { token: biz.token, body: {
    channel_type: 'whatsapp', phone_number: '+919000000002', account_id: `pnid-${randomUUID().slice(0, 8)}`, api_key: 'tok', webhook_secret: 'whsec',
    settings,
  } }), 201);
  const sandbox = await mk({ provider: 'sandbox' }); // the trial channel, left behind
  const real1 = await mk({ provider: 'meta' });
  const product = await newProduct(t.app, biz, { production_steps: [] });
  const saleFor = async (customerId: string) => {
    const sale = await newSale(t.app, biz, customerId, [{ product_id: product.id, quantity: 1 }]);
    ok(await call(t.app, 'POST', `/sales/${sale.id}/finalize`, { token: biz.token }));
    return eventually(async () => ok(await call(t.app, 'GET', `/social/messages?reference_id=${sale.id}`, { token: biz.token })).data[0], 15_000, 'notified');
  };
  const a = await newCustomer(t.app, biz);
  const first = await saleFor(a.id);
  assert.deepEqual([first.channel_id, first.metadata.route.reason], [real1.id, 'whatsapp_oldest_real']);
  assert.notEqual(first.channel_id, sandbox.id);

  const real2 = await mk({ provider: 'meta', default: true });
  const b = await newCustomer(t.app, biz);
  const second = await saleFor(b.id);
  assert.deepEqual([second.channel_id, second.metadata.route.reason], [real2.id, 'whatsapp_default']);

  // The customer writes to the first number: it answers on that one.
  const raw = Buffer.from(JSON.stringify(metaText(real1.account_id, b.mobile, 'thanks')));
  assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/social/webhook/whatsapp', payload: raw,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signMeta(raw, 'whsec') } })).statusCode, 200);
  const third = await saleFor(b.id);
  assert.deepEqual([third.channel_id, third.metadata.route.reason], [real1.id, 'last_used_channel']);
  assertProblem(await call(t.app, 'PATCH', `/social/channels/${real2.id}`, { token: biz.token, body: { settings: { default: 'yes' } } }), 400);
});

test('edits and deletions change the message they name (real payloads); a Telegram channel post is not stored', async () => {
  // pywa's fixtures are for phone number id 1122334455667, sender 972987654321, original wamid.zzzzzz.
  const s = await whatsappShop({}, { pnid: '1122334455667' });
  await postMeta(t.app, metaText('1122334455667', '972987654321', 'Text before the edit', { id: 'wamid.zzzzzz', name: 'Test Name' }), s.secret);
  const edit = real('whatsapp-edit.json');
  const r = await postMeta(t.app, undefined, s.secret, { raw: edit });
  assert.deepEqual(r.json(), { received: 1, duplicates: 0, statuses: 0 });
  const [c] = await conversations(s.biz);
  let [m] = await thread(s.biz, c.id);
  assert.deepEqual([m.message_text, m.edited, m.metadata.previous_texts, m.provider_message_id],
    ['Text was edited', true, ['Text before the edit'], 'wamid.zzzzzz']);
  assert.equal((await thread(s.biz, c.id)).length, 1, 'an edit is not a new message');
  assert.deepEqual((await postMeta(t.app, undefined, s.secret, { raw: edit })).json(), { received: 0, duplicates: 1, statuses: 0 });

  const revoke = await postMeta(t.app, undefined, s.secret, { raw: real('whatsapp-revoke.json') });
  assert.equal(revoke.statusCode, 200);
  [m] = await thread(s.biz, c.id);
  assert.deepEqual([m.deleted, m.message_text], [true, null]);
  assert.equal((await thread(s.biz, c.id)).length, 1, 'a deletion is not a new empty message');

  // Telegram: the documented edited_message of a message never stored becomes that message, with
  // its new text; a channel post is acknowledged and stores nothing.
  const tg = await telegramChannel(s.biz);
  const edited = await t.app.inject({ method: 'POST', url: `/api/v1/social/webhook/telegram?channel_id=${tg.channel.id}`, payload: real('telegram-edited-message.json'),
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': tg.secret } });
  assert.deepEqual(edited.json(), { received: 1, duplicates: 0, statuses: 0 });
  const [tc] = await conversations(s.biz, `?channel_id=${tg.channel.id}`);
  const [tm] = await thread(s.biz, tc.id);
  assert.deepEqual([tm.provider_message_id, tm.message_text, tm.edited, tc.address], ['1111111:1365', 'Edited text', true, '1111111']);
  const post = await t.app.inject({ method: 'POST', url: `/api/v1/social/webhook/telegram?channel_id=${tg.channel.id}`, payload: real('telegram-channel-post.json'),
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': tg.secret } });
  assert.deepEqual([post.statusCode, post.json()], [200, { received: 0, duplicates: 0, statuses: 0 }]);
  assert.equal((await conversations(s.biz, `?channel_id=${tg.channel.id}`)).length, 1);
});

test('the live stream sends a message event when a customer writes and when its status changes', async () => {
  const s = await whatsappShop();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  const chunks: string[] = [];
  const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/social/stream', headers: { authorization: `Bearer ${s.biz.token}` } });
  const res = await new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve));
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/event-stream/);
  res.setEncoding('utf8');
  res.on('data', (d: string) => chunks.push(d));
  try {
    await postMeta(t.app, metaText(s.pnid, '919888899900', 'are you open?'), s.secret);
    const [c] = await conversations(s.biz);
    const events = () => chunks.join('').split('\n\n').filter((e) => e.startsWith('event:'))
      .map((e) => ({ event: /^event: (.*)$/m.exec(e)![1], data: JSON.parse(/^data: (.*)$/m.exec(e)![1]) }));
    const seen = await eventually(async () => events().find((e) => e.event === 'message' && e.data.conversation_id === c.id), 10_000, 'message event');
    assert.deepEqual([seen.data.direction, seen.data.status], ['inbound', 'received']);
    assert.ok(events().some((e) => e.event === 'conversation' && e.data.id === c.id));
    // Another business's activity never shows in this stream.
    const other = await whatsappShop();
    await postMeta(t.app, metaText(other.pnid, '919888899911', 'hello'), other.secret);
    const sent = ok(await call(t.app, 'POST', `/social/conversations/${c.id}/messages`, { token: s.biz.token, body: { text: 'Yes, till 9 pm' } }), 201);
    await eventually(async () => events().find((e) => e.event === 'message' && e.data.id === sent.id && e.data.status === 'sent'), 10_000, 'sent event');
    const [oc] = await conversations(other.biz);
    assert.ok(!events().some((e) => e.data.conversation_id === oc.id || e.data.id === oc.id), 'no other business in the stream');
  } finally {
    req.destroy();
  }
});
