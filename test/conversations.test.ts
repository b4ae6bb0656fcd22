// Customers write on WhatsApp (and Twilio, Telegram): signed webhooks are stored once, order intent
// becomes a lead and, when a known customer confirms, a draft sale; forgeries store nothing.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { buildTestApp, eventually, type TestApp } from './helpers/app.js';
import { assertProblem, call, newBusiness, newCustomer, newProduct, ok, uniqueMobile, type Biz } from './helpers/client.js';
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { metaStatuses, metaText, newWamid, postMeta, postTwilio } from './helpers/webhooks.js';
import { signMeta } from '../src/modules/social/webhooks/signatures.js';
import { withTenant } from '../src/platform/tenancy.js';

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

interface Shop { biz: Biz; channel: any; pnid: string; secret: string; cake: any; ladoo: any }

async function shop(name = 'Sweet Crumbs', settings: Record<string, unknown> = {}): Promise<Shop> {
  const biz = await newBusiness(t.app, name);
  const pnid = `pnid-${randomUUID().slice(0, 8)}`;
  const secret = `app-secret-${randomUUID()}`;
  const channel = ok(await call(t.app, 'POST', '/social/channels', { token: biz.token, body: {
    channel_type: 'whatsapp', phone_number: '+919000000001', account_id: pnid, api_key: 'tok', webhook_secret: secret,
    settings: { provider: 'meta', verify_token: 'verify-me-please', ...settings },
  } }), 201);
  const cake = await newProduct(t.app, biz, { name: 'Chocolate cake', price: '650.00' });
  const ladoo = await newProduct(t.app, biz, { name: 'Besan ladoo', price: '400.00', production_steps: [] });
  return { biz, channel, pnid, secret, cake, ladoo };
}

const messages = async (s: Shop, q = '') => ok(await call(t.app, 'GET', `/social/messages?limit=200${q}`, { token: s.biz.token })).data;
const leads = async (s: Shop) => ok(await call(t.app, 'GET', '/leads', { token: s.biz.token })).data;
const drafts = async (s: Shop) => ok(await call(t.app, 'GET', '/sales?status=draft', { token: s.biz.token })).data;
const handled = (s: Shop, id: string) => eventually(async () => {
  const r = await withTenant(t.db, s.biz.business.id, (tx) => tx.query(`SELECT intent FROM social_messages WHERE provider_message_id = $1`, [id]));
  return r.rows[0]?.intent;
}, 15_000, `message ${id} processed`);

test('an order message from a new number becomes a lead and gets an acknowledgement', async () => {
  const s = await shop();
  const id = newWamid();
  const r = await postMeta(t.app, metaText(s.pnid, '+919812345678', 'Hi, I want 2 chocolate cakes for Saturday', { id, name: 'Priya' }), s.secret);
  assert.equal(r.statusCode, 200);
  assert.deepEqual(r.json(), { received: 1, duplicates: 0, statuses: 0 });
  assert.equal(await handled(s, id), 'order');
  const [lead] = await leads(s);
  assert.equal(lead.status, 'new');
  assert.equal(lead.source, 'whatsapp');
  assert.equal(lead.mobile, '+919812345678');
  assert.equal(lead.name, 'Priya');
  assert.deepEqual(lead.metadata.items.map((i: any) => [i.name, i.quantity]), [['Chocolate cake', 2]]);
  const inbound = (await messages(s, '&direction=inbound'))[0];
  assert.deepEqual([inbound.status, inbound.message_type, inbound.from_number, inbound.provider_message_id], ['received', 'text', '+919812345678', id]);
  const ack = await eventually(async () => (await messages(s, '&direction=outbound')).find((m: any) => m.event_type === 'lead.ack' && m.status === 'sent'), 15_000, 'ack sent');
  assert.equal(ack.to_number, '919812345678');
  assert.equal(fake.requests.filter((q) => q.path === `/meta/${s.pnid}/messages`).length, 1);
  assert.equal(fake.requests[0].body.to, '+919812345678');
  assert.equal(await drafts(s).then((d) => d.length), 0, 'an unknown sender gets no sale');
});

test('a known customer\'s order followed by "haan" becomes a draft sale with the right items', async () => {
  const s = await shop();
  const ravi = await newCustomer(t.app, s.biz, { name: 'Ravi', mobile: '98765 43210' });
  const first = newWamid();
  await postMeta(t.app, metaText(s.pnid, '919876543210', 'bhaiya 2 chocolate cake aur 1 kg besan ladoo chahiye', { id: first }), s.secret);
  assert.equal(await handled(s, first), 'order');
  assert.equal((await drafts(s)).length, 0, 'not before the confirmation');
  const yes = newWamid();
  await postMeta(t.app, metaText(s.pnid, '919876543210', 'haan confirm', { id: yes }), s.secret);
  assert.equal(await handled(s, yes), 'confirm');
  const [sale] = await drafts(s);
  assert.equal(sale.status, 'draft');
  assert.equal(sale.source, 'whatsapp');
  assert.equal(sale.customer_id, ravi.id);
  assert.equal(sale.invoice_no, null);
  assert.deepEqual(sale.items.map((i: any) => [i.product_name, i.quantity]).sort(), [['Besan ladoo', 1], ['Chocolate cake', 2]]);
  assert.equal(sale.total, '1700.00');
  const [lead] = await leads(s);
  assert.equal(lead.status, 'converted');
  assert.equal(lead.customer_id, ravi.id);
  // The inbound messages are linked to the customer by their E.164 mobile.
  assert.ok((await messages(s, '&direction=inbound')).every((m: any) => m.customer_id === ravi.id));
  // A second "yes" has nothing left to confirm.
  const again = newWamid();
  await postMeta(t.app, metaText(s.pnid, '919876543210', 'yes', { id: again }), s.secret);
  await handled(s, again);
  assert.equal((await drafts(s)).length, 1);
});

test('an order that confirms itself makes the draft at once; a bare "yes" makes nothing', async () => {
  const s = await shop();
  await newCustomer(t.app, s.biz, { mobile: '+919811111111' });
  const id = newWamid();
  await postMeta(t.app, metaText(s.pnid, '919811111111', 'Yes please, confirm 3 chocolate cakes', { id }), s.secret);
  await handled(s, id);
  assert.deepEqual((await drafts(s)).map((d: any) => d.items[0].quantity), [3]);

  const lone = await shop('Another shop');
  await newCustomer(t.app, lone.biz, { mobile: '+919822222222' });
  const yes = newWamid();
  await postMeta(t.app, metaText(lone.pnid, '919822222222', 'yes', { id: yes }), lone.secret);
  assert.equal(await handled(lone, yes), 'confirm');
  assert.equal((await drafts(lone)).length, 0);
  assert.equal((await leads(lone)).length, 0);
});

test('replays, even at the same instant, store nothing new', async () => {
  const s = await shop();
  const body = metaText(s.pnid, '919833333333', 'I need 1 chocolate cake', { id: newWamid() });
  const [a, b, c] = await Promise.all([postMeta(t.app, body, s.secret), postMeta(t.app, body, s.secret), postMeta(t.app, body, s.secret)]);
  assert.deepEqual([a.statusCode, b.statusCode, c.statusCode], [200, 200, 200]);
  assert.equal([a, b, c].map((r) => r.json().received).reduce((x, y) => x + y), 1);
  const again = await postMeta(t.app, body, s.secret);
  assert.deepEqual(again.json(), { received: 0, duplicates: 1, statuses: 0 });
  await handled(s, body.entry[0].changes[0].value.messages[0].id);
  await eventually(async () => (await messages(s, '&direction=outbound')).some((m: any) => m.status === 'sent'), 15_000, 'ack');
  assert.equal((await messages(s, '&direction=inbound')).length, 1);
  assert.equal((await leads(s)).length, 1);
  assert.equal((await messages(s, '&direction=outbound')).length, 1, 'one acknowledgement');
});

test('forged, altered, unsigned and cross-business requests get 401 and store nothing', async () => {
  const a = await shop('Shop A');
  const b = await shop('Shop B');
  const body = metaText(b.pnid, '919844444444', 'I want 5 chocolate cakes');
  const raw = Buffer.from(JSON.stringify(body));
  assert.equal((await postMeta(t.app, body, null)).statusCode, 401);
  assert.equal((await postMeta(t.app, body, 'wrong-secret')).statusCode, 401);
  assert.equal((await postMeta(t.app, body, a.secret)).statusCode, 401, 'B\'s number signed with A\'s secret');
  const altered = Buffer.from(raw.toString().replace('5 chocolate', '9 chocolate'));
  assert.equal((await postMeta(t.app, null, null, { raw: altered, signatureOverride: signMeta(raw, b.secret) })).statusCode, 401);
  assert.equal((await postMeta(t.app, body, null, { signatureOverride: 'sha256=' })).statusCode, 401);
  const problem = await postMeta(t.app, body, 'nope');
  assert.match(String(problem.headers['content-type']), /problem\+json/);
  assert.equal((await messages(a)).length, 0);
  assert.equal((await messages(b)).length, 0);
  // After the app secret is rotated, a signature with the old one is refused.
  ok(await call(t.app, 'PATCH', `/social/channels/${b.channel.id}`, { token: b.biz.token, body: { webhook_secret: 'rotated-secret' } }));
  assert.equal((await postMeta(t.app, body, b.secret)).statusCode, 401, 'the retired secret');
  assert.equal((await postMeta(t.app, body, 'rotated-secret')).statusCode, 200);
  b.secret = 'rotated-secret';
  // The x-signature header form is accepted too.
  const again = Buffer.from(JSON.stringify(metaText(b.pnid, '919844444444', 'second message')));
  const ok1 = await t.app.inject({ method: 'POST', url: '/api/v1/social/webhook/whatsapp', payload: again,
    headers: { 'content-type': 'application/json', 'x-signature': signMeta(again, b.secret) } });
  assert.equal(ok1.statusCode, 200);
  assert.equal(ok1.json().received, 1);
});

test('malformed bodies, wrong content types, oversized bodies and unknown channels are 4xx', async () => {
  const s = await shop();
  const bad = Buffer.from('{"object": "whatsapp_business_account", "entry": [');
  assert.equal((await postMeta(t.app, null, s.secret, { raw: bad })).statusCode, 400);
  assert.equal((await postMeta(t.app, { hello: 'world' }, s.secret)).statusCode, 400);
  const text = await t.app.inject({ method: 'POST', url: '/api/v1/social/webhook/whatsapp', payload: 'hi', headers: { 'content-type': 'text/plain' } });
  assert.equal(text.statusCode, 415);
  const huge = Buffer.alloc(4 * 1024 * 1024, 0x20);
  assert.equal((await postMeta(t.app, null, s.secret, { raw: huge })).statusCode, 413);
  const under = metaText(s.pnid, '919855555555', 'x'.repeat(2 * 1024 * 1024));
  assert.equal((await postMeta(t.app, under, s.secret)).statusCode, 200, 'a 2 MB batch is within Meta\'s 3 MB');
  assert.equal((await postMeta(t.app, metaText(s.pnid, '919855555555', 'hi'), s.secret, { channelType: 'sms' })).statusCode, 404);
  assert.equal((await postMeta(t.app, metaText('unknown-pnid', '919855555555', 'hi'), s.secret)).statusCode, 404);
  for (const r of [text]) assert.match(String(r.headers['content-type']), /problem\+json/);
});

test('unsupported kinds are stored with their type; a status for an unknown message is kept, not refused', async () => {
  const s = await shop();
  const body: any = metaText(s.pnid, '919866666666', 'ignored');
  const msg = body.entry[0].changes[0].value.messages[0];
  delete msg.text;
  msg.type = 'unsupported';
  msg.errors = [{ code: 131051, title: 'Message type unknown' }];
  assert.equal((await postMeta(t.app, body, s.secret)).statusCode, 200);
  await handled(s, msg.id);
  const stored = (await messages(s, '&direction=inbound'))[0];
  assert.equal(stored.message_type, 'unsupported');
  const st = await postMeta(t.app, metaStatuses(s.pnid, [{ id: 'wamid.NEVER-SENT', status: 'delivered' }]), s.secret);
  assert.deepEqual(st.json(), { received: 0, duplicates: 0, statuses: 1 });
});

test('delivery statuses from the webhook move a sent message forward only; played counts as read', async () => {
  const s = await shop('Status shop', { notifications: { 'production.created': false } });
  const c = await newCustomer(t.app, s.biz);
  const sale = ok(await call(t.app, 'POST', '/sales', { token: s.biz.token, body: { customer_id: c.id, items: [{ product_id: s.ladoo.id, quantity: 1 }] } }), 201);
  ok(await call(t.app, 'POST', `/sales/${sale.id}/finalize`, { token: s.biz.token }));
  const sent = await eventually(async () => (await messages(s, '&direction=outbound')).find((m: any) => m.status === 'sent'), 15_000, 'sent');
  await postMeta(t.app, metaStatuses(s.pnid, [{ id: sent.provider_message_id, status: 'played' }, { id: sent.provider_message_id, status: 'delivered' }]), s.secret);
  const after = (await messages(s, '&direction=outbound'))[0];
  assert.equal(after.status, 'read');
});

test('STOP stops notifications and START brings them back', async () => {
  const s = await shop('Stop shop', { notifications: { 'production.created': false } });
  const c = await newCustomer(t.app, s.biz, { mobile: '+919877777777' });
  const stop = newWamid();
  await postMeta(t.app, metaText(s.pnid, '919877777777', 'STOP', { id: stop }), s.secret);
  assert.equal(await handled(s, stop), 'opt_out');
  assert.equal(ok(await call(t.app, 'GET', `/customers/${c.id}`, { token: s.biz.token })).whatsapp_opt_in, false);
  const sale = ok(await call(t.app, 'POST', '/sales', { token: s.biz.token, body: { customer_id: c.id, items: [{ product_id: s.ladoo.id, quantity: 1 }] } }), 201);
  ok(await call(t.app, 'POST', `/sales/${sale.id}/finalize`, { token: s.biz.token }));
  await new Promise((r) => setTimeout(r, 700));
  assert.equal((await messages(s, '&direction=outbound')).length, 0);
  const start = newWamid();
  await postMeta(t.app, metaText(s.pnid, '919877777777', 'START', { id: start }), s.secret);
  assert.equal(await handled(s, start), 'opt_in');
  assert.equal(ok(await call(t.app, 'GET', `/customers/${c.id}`, { token: s.biz.token })).whatsapp_opt_in, true);
});

test('the Meta verification handshake answers the challenge only for a known verify token', async () => {
  await shop();
  const good = await t.app.inject('/api/v1/social/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me-please&hub.challenge=1158201444');
  assert.equal(good.statusCode, 200);
  assert.equal(good.body, '1158201444');
  const bad = await t.app.inject('/api/v1/social/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1');
  assert.equal(bad.statusCode, 403);
});

test('Twilio WhatsApp (form-encoded, X-Twilio-Signature) and Telegram (secret token) messages arrive', async () => {
  const biz = await newBusiness(t.app, 'Multi-channel');
  await newProduct(t.app, biz, { name: 'Chocolate cake' });
  const tw = ok(await call(t.app, 'POST', '/social/channels', { token: biz.token, body: {
    channel_type: 'whatsapp', phone_number: '+14155238886', api_key: 'AC123', api_secret: 'twilio-auth-token', settings: { provider: 'twilio' },
  } }), 201);
  const fields = {
    SmsMessageSid: 'SM11111111111111111111111111111111', NumMedia: '0', ProfileName: 'Anil', WaId: '919888888888', SmsStatus: 'received',
    Body: 'I want 1 chocolate cake', To: 'whatsapp:+14155238886', NumSegments: '1', MessageSid: 'SM11111111111111111111111111111111',
    AccountSid: 'AC123', From: 'whatsapp:+919888888888', ApiVersion: '2010-04-01',
  };
  const r = await postTwilio(t.app, fields, 'twilio-auth-token', t.config.publicBaseUrl);
  assert.equal(r.statusCode, 200, r.body);
  const forged = await postTwilio(t.app, { ...fields, MessageSid: 'SM2', Body: 'changed' }, 'wrong-token', t.config.publicBaseUrl);
  assert.equal(forged.statusCode, 401);
  // The acknowledgement goes out through Twilio; its status callback moves it to delivered.
  const twAck = await eventually(async () => ok(await call(t.app, 'GET', `/social/messages?direction=outbound&channel_id=${tw.id}`, { token: biz.token })).data
    .find((m: any) => m.status === 'sent'), 15_000, 'twilio ack sent');
  const cb = await postTwilio(t.app, { MessageSid: twAck.provider_message_id, MessageStatus: 'delivered', AccountSid: 'AC123',
    From: 'whatsapp:+14155238886', To: 'whatsapp:+919888888888', ApiVersion: '2010-04-01' }, 'twilio-auth-token', t.config.publicBaseUrl);
  assert.equal(cb.statusCode, 200, cb.body);
  assert.equal(ok(await call(t.app, 'GET', `/social/messages?direction=outbound&channel_id=${tw.id}`, { token: biz.token })).data[0].status, 'delivered');

  const tg = ok(await call(t.app, 'POST', '/social/channels', { token: biz.token, body: {
    channel_type: 'telegram', api_key: '123456:ABC-bot-token', webhook_secret: 'tg-secret-token',
  } }), 201);
  const update = { update_id: 10000, message: { message_id: 1365, date: Math.floor(Date.now() / 1000), chat: { id: 1111111, type: 'private', first_name: 'Sunil' },
    from: { id: 1111111, is_bot: false, first_name: 'Sunil', language_code: 'en' }, text: 'need 2 chocolate cakes' } };
  const post = (secret: string | undefined, query = `?channel_id=${tg.id}`) => t.app.inject({
    method: 'POST', url: `/api/v1/social/webhook/telegram${query}`, payload: update,
    headers: { 'content-type': 'application/json', ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
  });
  assert.equal((await post('tg-secret-token')).statusCode, 200);
  assert.equal((await post('wrong')).statusCode, 401);
  assert.equal((await post(undefined)).statusCode, 401);
  assert.equal((await post('tg-secret-token', '')).statusCode, 400);

  const inbound = await eventually(async () => {
    const m = ok(await call(t.app, 'GET', '/social/messages?direction=inbound', { token: biz.token })).data;
    return m.length === 2 && m;
  }, 10_000, 'two inbound');
  const byChannel = Object.fromEntries(inbound.map((m: any) => [m.channel_id, m]));
  assert.equal(byChannel[tw.id].from_number, '+919888888888');
  assert.equal(byChannel[tw.id].message_text, 'I want 1 chocolate cake');
  assert.equal(byChannel[tg.id].message_text, 'need 2 chocolate cakes');
  // Both become leads and both get their acknowledgement on their own channel.
  await eventually(async () => (ok(await call(t.app, 'GET', '/leads', { token: biz.token })).data.length === 2), 15_000, 'two leads');
  await eventually(async () => fake.requests.some((q) => q.path.startsWith('/telegram/bot123456:ABC-bot-token/sendMessage'))
    && fake.requests.some((q) => q.path.startsWith('/twilio/2010-04-01/Accounts/AC123/Messages.json')), 15_000, 'acks on telegram and twilio');
  const tgAck = fake.requests.find((q) => q.path.includes('/sendMessage'))!;
  assert.equal(String(tgAck.body.chat_id), '1111111');
});

test('leads: list, work and convert into a customer', async () => {
  const s = await shop();
  const id = newWamid();
  await postMeta(t.app, metaText(s.pnid, '919899999999', 'mujhe 2 chocolate cake chahiye', { id, name: 'Kavya' }), s.secret);
  await handled(s, id);
  const [lead] = await leads(s);
  const worked = ok(await call(t.app, 'PATCH', `/leads/${lead.id}`, { token: s.biz.token, body: { status: 'contacted', notes: 'Called, wants eggless' } }));
  assert.deepEqual([worked.status, worked.notes], ['contacted', 'Called, wants eggless']);
  assertProblem(await call(t.app, 'PATCH', `/leads/${lead.id}`, { token: s.biz.token, body: { status: 'won' } }), 400);
  const conv = ok(await call(t.app, 'POST', `/leads/${lead.id}/convert`, { token: s.biz.token }));
  assert.equal(conv.lead.status, 'converted');
  assert.equal(conv.customer.mobile, '+919899999999');
  assert.equal(conv.customer.name, 'Kavya');
  assertProblem(await call(t.app, 'POST', `/leads/${lead.id}/convert`, { token: s.biz.token }), 409);
  const other = await newBusiness(t.app, 'Nosy');
  assertProblem(await call(t.app, 'GET', `/leads/${lead.id}`, { token: other.token }), 404);
  const worker = await (await import('./helpers/client.js')).newUser(t.app, s.biz, 'production_worker');
  assertProblem(await call(t.app, 'GET', '/leads', { token: worker.token }), 403);
  void uniqueMobile;
});

test('real-shaped payloads: a batch for two numbers, every message kind, a username-only sender, Messenger and Instagram', async () => {
  const { readFileSync } = await import('node:fs');
  const fixture = (name: string) => readFileSync(new URL(`./fixtures/payloads/${name}`, import.meta.url));
  const biz = await newBusiness(t.app, 'Fixture shop');
  const secret = 'fixture-app-secret';
  const mk = async (body: Record<string, unknown>) => ok(await call(t.app, 'POST', '/social/channels', { token: biz.token, body: { webhook_secret: secret, api_key: 'tok', ...body } }), 201);
  const first = await mk({ channel_type: 'whatsapp', account_id: '106540352242922', settings: { notifications: { 'lead.ack': false } } });
  const second = await mk({ channel_type: 'whatsapp', account_id: '110200300400500', settings: { notifications: { 'lead.ack': false } } });
  const page = await mk({ channel_type: 'facebook', account_id: '107215851468253', settings: { notifications: { 'lead.ack': false } } });
  const ig = await mk({ channel_type: 'instagram', account_id: '17841405822304914', settings: { notifications: { 'lead.ack': false } } });
  const inbound = async () => ok(await call(t.app, 'GET', '/social/messages?direction=inbound&limit=200', { token: biz.token })).data;

  const batch = await postMeta(t.app, null, secret, { raw: fixture('meta-batch-two-numbers.json') });
  assert.equal(batch.statusCode, 200, batch.body);
  assert.equal(batch.json().received, 3);
  const stored = await inbound();
  assert.equal(stored.filter((m: any) => m.channel_id === first.id).length, 2);
  assert.equal(stored.filter((m: any) => m.channel_id === second.id).length, 1);

  const kinds = await postMeta(t.app, null, secret, { raw: fixture('meta-kinds.json') });
  assert.equal(kinds.json().received, 15);
  const types = new Set((await inbound()).map((m: any) => m.message_type));
  for (const k of ['text', 'interactive', 'button', 'image', 'document', 'audio', 'location', 'reaction', 'unsupported']) assert.ok(types.has(k), k);

  const bsuid = await postMeta(t.app, null, secret, { raw: fixture('meta-bsuid.json') });
  assert.equal(bsuid.statusCode, 200);
  assert.ok((await inbound()).some((m: any) => m.from_number === null), 'a sender known only by a business-scoped user id');

  const fb = await postMeta(t.app, null, secret, { raw: fixture('messenger.json'), channelType: 'facebook' });
  assert.equal(fb.statusCode, 200, fb.body);
  const insta = await postMeta(t.app, null, secret, { raw: fixture('instagram.json'), channelType: 'instagram' });
  assert.equal(insta.statusCode, 200, insta.body);
  const all = await inbound();
  assert.ok(all.some((m: any) => m.channel_id === page.id));
  assert.ok(all.some((m: any) => m.channel_id === ig.id));
  // A page payload sent to the Instagram endpoint is not an Instagram payload.
  assert.equal((await postMeta(t.app, null, secret, { raw: fixture('messenger.json'), channelType: 'instagram' })).statusCode, 400);
});

test('a Telegram 429 is retried no sooner than its retry_after', async () => {
  const { telegramError } = await import('./helpers/fake-provider.js');
  const biz = await newBusiness(t.app, 'Telegram shop');
  await newProduct(t.app, biz, { name: 'Chocolate cake' });
  const tg = ok(await call(t.app, 'POST', '/social/channels', { token: biz.token, body: {
    channel_type: 'telegram', api_key: '999:retry-bot', webhook_secret: 'tg-retry-secret',
  } }), 201);
  fake.queue({ status: 429, body: telegramError(429, 'Too Many Requests: retry after 1', 1) });
  const update = { update_id: 20000, message: { message_id: 7, date: Math.floor(Date.now() / 1000), chat: { id: 2222222, type: 'private', first_name: 'Neha' },
    from: { id: 2222222, is_bot: false, first_name: 'Neha' }, text: 'I want 1 chocolate cake' } };
  const r = await t.app.inject({ method: 'POST', url: `/api/v1/social/webhook/telegram?channel_id=${tg.id}`, payload: update,
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'tg-retry-secret' } });
  assert.equal(r.statusCode, 200);
  const ack = await eventually(async () => ok(await call(t.app, 'GET', '/social/messages?direction=outbound', { token: biz.token })).data
    .find((m: any) => m.status === 'sent'), 20_000, 'ack sent after the retry');
  assert.equal(ack.attempts, 2);
  const sends = fake.requests.filter((q) => q.path.startsWith('/telegram/bot999:retry-bot/sendMessage'));
  assert.equal(sends.length, 2);
  assert.ok(sends[1].receivedAt - sends[0].receivedAt >= 1000, `waited ${sends[1].receivedAt - sends[0].receivedAt} ms`);
});

test('an order and its "yes" in one batch are read in order, whatever order their jobs run in', async () => {
  const s = await shop('Batch shop');
  await newCustomer(t.app, s.biz, { mobile: '+919800000042' });
  const order = metaText(s.pnid, '919800000042', 'I want 4 chocolate cakes', { id: newWamid() });
  const yes = metaText(s.pnid, '919800000042', 'yes confirm', { id: newWamid() });
  // One POST carrying both messages, the order first.
  const both: any = order;
  both.entry[0].changes[0].value.messages.push(yes.entry[0].changes[0].value.messages[0]);
  assert.equal((await postMeta(t.app, both, s.secret)).json().received, 2);
  await handled(s, yes.entry[0].changes[0].value.messages[0].id);
  await handled(s, order.entry[0].changes[0].value.messages[0].id);
  const [sale] = await eventually(async () => { const d = await drafts(s); return d.length && d; }, 10_000, 'draft');
  assert.deepEqual(sale.items.map((i: any) => i.quantity), [4]);
});

test('an order two products fit equally makes no draft: the lead keeps the candidates and the customer is asked which', async () => {
  const s = await shop('Choco shop');
  await newProduct(t.app, s.biz, { name: 'Chocolate hamper', price: '900.00', production_steps: [] });
  const ravi = await newCustomer(t.app, s.biz, { name: 'Ravi' });
  const first = newWamid();
  await postMeta(t.app, metaText(s.pnid, ravi.mobile, 'I want 2 chocolate for kal shaam 5 baje', { id: first }), s.secret);
  assert.equal(await handled(s, first), 'order');
  const [lead] = await leads(s);
  assert.equal(lead.metadata.needs_review.reason, 'ambiguous_product');
  assert.deepEqual(lead.metadata.needs_review.unclear[0].candidates.map((c: any) => c.name).sort(), ['Chocolate cake', 'Chocolate hamper']);
  assert.equal(lead.metadata.needs_review.unclear[0].quantity, 2);
  assert.deepEqual(lead.metadata.items, []);
  assert.equal(lead.metadata.due_time_given, true);
  assert.equal(lead.metadata.pending_order, undefined);
  const ask = await eventually(async () => (await messages(s, '&direction=outbound')).find((m: any) => m.event_type === 'lead.ask_which'), 15_000, 'asked');
  assert.match(ask.message_text, /Chocolate (cake|hamper) or Chocolate (cake|hamper)/);
  const yes = newWamid();
  await postMeta(t.app, metaText(s.pnid, ravi.mobile, 'haan', { id: yes }), s.secret);
  await handled(s, yes);
  assert.equal((await drafts(s)).length, 0, 'an unclear order is never confirmed into a draft');

  // The customer says which: now it is clear, and "yes" makes the draft.
  const which = newWamid();
  await postMeta(t.app, metaText(s.pnid, ravi.mobile, '2 chocolate cakes please, kal shaam 5 baje', { id: which }), s.secret);
  await handled(s, which);
  const ok2 = newWamid();
  await postMeta(t.app, metaText(s.pnid, ravi.mobile, 'yes confirm', { id: ok2 }), s.secret);
  await handled(s, ok2);
  const [sale] = await drafts(s);
  assert.deepEqual(sale.items.map((i: any) => [i.product_name, i.quantity]), [['Chocolate cake', 2]]);
  // "kal shaam 5 baje": tomorrow at 17:00 in Kolkata, read from the message into the draft.
  assert.equal(sale.due_at, (await leads(s))[0].metadata.due_at);
  const due = new Date(sale.due_at);
  assert.equal(new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Kolkata', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(due), '17:00');
  assert.ok(due.getTime() > Date.now() && due.getTime() < Date.now() + 2 * 24 * 3600 * 1000);
});

test('an order with no product in the catalog is recorded on the lead with its reason, never an empty draft', async () => {
  const s = await shop('Pastry shop');
  const c = await newCustomer(t.app, s.biz);
  const id = newWamid();
  await postMeta(t.app, metaText(s.pnid, c.mobile, 'I want 3 pineapple pastries for tomorrow', { id }), s.secret);
  assert.equal(await handled(s, id), 'order');
  const [lead] = await leads(s);
  assert.deepEqual([lead.metadata.needs_review.reason, lead.metadata.items, lead.metadata.due_time_given], ['no_product_match', [], false]);
  assert.match(lead.metadata.due_date, /^\d{4}-\d{2}-\d{2}$/);
  const yes = newWamid();
  await postMeta(t.app, metaText(s.pnid, c.mobile, 'yes', { id: yes }), s.secret);
  await handled(s, yes);
  assert.equal((await drafts(s)).length, 0);
  // It was acknowledged like any order; staff see it in the lead.
  await eventually(async () => (await messages(s, '&direction=outbound')).find((m: any) => m.event_type === 'lead.ack'), 15_000, 'ack');
});
