// Hostile input at the edges (issue 10): text PostgreSQL cannot store, URLs Fastify cannot route,
// bodies it cannot parse, and an address another business already uses. Each gets a 4xx
// problem+json with a stable code — never a 5xx, never a row.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { buildTestApp, type TestApp } from './helpers/app.js';
import { assertProblem, call, newBusiness, newCustomer, ok, uniqueMobile, type Biz, type Res } from './helpers/client.js';
import { metaText, postMeta, postTwilio } from './helpers/webhooks.js';
import { withTenant } from '../src/platform/tenancy.js';

let t: TestApp;
let shop: Biz;
before(async () => {
  t = await buildTestApp();
  shop = await newBusiness(t.app, 'Hostile Input Bakery');
});
after(async () => { await t.close(); });

const count = (table: string, biz = shop) =>
  withTenant(t.db, biz.business.id, async (tx) => (await tx.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number);

/** 400 unstorable_text whose errors name exactly this field. */
function assertUnstorable(r: Res, field: string) {
  assertProblem(r, 400, 'unstorable_text');
  assert.deepEqual(r.body.errors.map((e: any) => e.field), [field], JSON.stringify(r.body));
}

const raw = async (method: string, url: string, opts: { payload?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Res> => {
  const r = await t.app.inject({ method: method as any, url, payload: opts.payload, headers: opts.headers });
  let body: any = r.body;
  try { body = JSON.parse(r.body); } catch { /* not JSON: assertProblem says so */ }
  return { status: r.statusCode, body, headers: r.headers };
};

test('a NUL in any JSON body field, nested or not, is 400 unstorable_text naming the field, and writes nothing', async () => {
  const customer = await newCustomer(t.app, shop);
  const before = { products: await count('products'), customers: await count('customers'), sales: await count('sales'), channels: await count('social_channels') };

  assertUnstorable(await call(t.app, 'POST', '/products', { token: shop.token, body: { name: 'Cake\u0000', price: '1.00' } }), 'name');
  assertUnstorable(await call(t.app, 'POST', '/products', { token: shop.token, body: { name: 'Cake', price: '1.00', production_steps: ['Bake', '\u0000'] } }), 'production_steps[1]');
  assertUnstorable(await call(t.app, 'POST', '/customers', { token: shop.token, body: { name: 'Ra\u0000vi', mobile: uniqueMobile() } }), 'name');
  assertUnstorable(await call(t.app, 'PATCH', `/customers/${customer.id}`, { token: shop.token, body: { email: 'a\u0000@example.com' } }), 'email');
  assertUnstorable(await call(t.app, 'POST', '/sales', { token: shop.token, body: { customer_id: customer.id, items: [], notes: '\u0000' } }), 'notes');
  assertUnstorable(await call(t.app, 'POST', '/social/channels', { token: shop.token, body: { channel_type: 'whatsapp', account_id: '123\u0000' } }), 'account_id');
  // A key counts as much as a value: settings are stored as JSON.
  assertUnstorable(await call(t.app, 'POST', '/social/channels', { token: shop.token, body: { channel_type: 'telegram', settings: { ['x\u0000']: 1 } } }), 'settings.x\u0000');
  assertUnstorable(await call(t.app, 'POST', '/auth/register', { body: { business_name: 'Evil\u0000 Inc', name: 'E', email: `e-${randomUUID()}@example.com`, password: 'password1' } }), 'business_name');
  // The login e-mail (and its password) never reach the database with a NUL in them.
  assertUnstorable(await call(t.app, 'POST', '/auth/login', { body: { email: `${shop.user.email}\u0000`, password: 'correct horse' } }), 'email');
  // An unpaired surrogate has no UTF-8 form either.
  assertUnstorable(await call(t.app, 'POST', '/products', { token: shop.token, payload: '{"name":"Cake \\ud800","price":"1.00"}', headers: { 'content-type': 'application/json' } }), 'name');

  assert.deepEqual(
    { products: await count('products'), customers: await count('customers'), sales: await count('sales'), channels: await count('social_channels') }, before);
  assert.equal(ok(await call(t.app, 'GET', `/customers/${customer.id}`, { token: shop.token })).email ?? null, null);
});

test('a NUL in a query filter, a path parameter or the webhook handshake is 400 naming it', async () => {
  assertUnstorable(await call(t.app, 'GET', '/products?q=%00', { token: shop.token }), 'q');
  assertUnstorable(await call(t.app, 'GET', '/customers?q=ravi%00', { token: shop.token }), 'q');
  assertUnstorable(await call(t.app, 'GET', '/social/conversations?q=%00', { token: shop.token }), 'q');
  assertUnstorable(await call(t.app, 'GET', '/social/templates/order.ready?locale=%00', { token: shop.token }), 'locale');
  assertUnstorable(await call(t.app, 'GET', '/products/%00', { token: shop.token }), 'id');
  assertUnstorable(await raw('GET', '/api/v1/social/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=%00&hub.challenge=1'), 'hub.verify_token');
  // Plain bad values in the same places are still 4xx (validation, or no such token).
  assertProblem(await raw('GET', '/api/v1/social/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1'), 403);
});

test('a signed webhook whose text and profile name hold NULs is accepted, stored without them, and says so', async () => {
  const biz = await newBusiness(t.app, 'NUL Webhooks');
  const pnid = `pnid-${randomUUID().slice(0, 8)}`;
  const secret = `secret-${randomUUID()}`;
  ok(await call(t.app, 'POST', '/social/channels', { token: biz.token, body: {
    channel_type: 'whatsapp', phone_number: '+919000000001', account_id: pnid, api_key: 'EAAG-token', webhook_secret: secret, settings: { provider: 'meta' },
  } }), 201);
  const r = await postMeta(t.app, metaText(pnid, '+919812345678', 'two\u0000 cakes', { name: 'Ra\u0000vi' }), secret);
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.json().received, 1);
  const clean = await postMeta(t.app, metaText(pnid, '+919812345678', 'and a card', { name: 'Ravi' }), secret);
  assert.equal(clean.statusCode, 200, clean.body);
  // A lone surrogate (JSON escapes it, as it does a NUL) is removed too; an emoji's pair is kept.
  const lone = await postMeta(t.app, metaText(pnid, '+919812345678', 'three \ud800pies \ud83c\udf82', { name: 'Ravi' }), secret);
  assert.equal(lone.statusCode, 200, lone.body);

  const inbound = ok(await call(t.app, 'GET', '/social/messages?direction=inbound', { token: biz.token })).data;
  const stripped = inbound.find((m: any) => m.message_text === 'two cakes');
  assert.ok(stripped, JSON.stringify(inbound));
  assert.equal(stripped.metadata.unstorable_removed, true);
  assert.equal(stripped.metadata.profile_name, 'Ravi');
  const untouched = inbound.find((m: any) => m.message_text === 'and a card');
  assert.equal(untouched.metadata.unstorable_removed, undefined, 'only a changed message says so');
  const surrogate = inbound.find((m: any) => m.message_text?.startsWith('three'));
  assert.deepEqual([surrogate?.message_text, surrogate?.metadata.unstorable_removed], ['three pies \u{1F382}', true]);

  // Twilio's form-encoded webhook, the same.
  const tw = ok(await call(t.app, 'POST', '/social/channels', { token: biz.token, body: {
    channel_type: 'whatsapp', phone_number: '+14155238886', api_key: 'AC-sid', api_secret: 'twilio-auth-token', settings: { provider: 'twilio' },
  } }), 201);
  const form = { SmsMessageSid: `SM${randomUUID().replace(/-/g, '')}`, MessageSid: `SM${randomUUID().replace(/-/g, '')}`, AccountSid: 'AC-sid',
    From: 'whatsapp:+919812345670', To: 'whatsapp:+14155238886', Body: 'one \u0000pie', ProfileName: '\u0000Meena', NumMedia: '0', WaId: '919812345670' };
  const twr = await postTwilio(t.app, form, 'twilio-auth-token', t.config.publicBaseUrl);
  assert.equal(twr.statusCode, 200, twr.body);
  const viaTwilio = ok(await call(t.app, 'GET', `/social/messages?direction=inbound&channel_id=${tw.id}`, { token: biz.token })).data;
  assert.deepEqual(viaTwilio.map((m: any) => [m.message_text, m.metadata.profile_name, m.metadata.unstorable_removed]), [['one pie', 'Meena', true]]);
});

test('framework errors are problem+json with a stable code: unknown routes, long, malformed and non-UTF-8 URLs, bodies that do not parse', async () => {
  assertProblem(await raw('GET', '/api/v1/no-such-route'), 404, 'not_found');
  // A page path outside the API is the console's (its page fallback); a missing file is a 404.
  assertProblem(await raw('GET', '/assets/no-such-file.js'), 404, 'not_found');
  assertProblem(await raw('DELETE', '/api/v1/sales'), 404, 'not_found');
  const long = await raw('GET', `/api/v1/products/${'a'.repeat(5000)}`, { headers: { authorization: `Bearer ${shop.token}` } });
  assertProblem(long, 414, 'uri_too_long');
  assert.ok(!long.body.detail.includes('aaaa'), 'the URL is not echoed');
  assertProblem(await raw('GET', '/api/v1/products/%ZZ', { headers: { authorization: `Bearer ${shop.token}` } }), 400, 'bad_url');
  assertProblem(await raw('GET', '/api/v1/products/%ED%A0%80', { headers: { authorization: `Bearer ${shop.token}` } }), 400, 'bad_url');
  assertProblem(await raw('GET', '/api/v1/social/webhook/%ZZ'), 400, 'bad_url');
  // A bad escape or invalid UTF-8 in the query string is never a 5xx either.
  for (const q of ['q=%ZZ', 'q=%ED%A0%80', 'q=%', 'limit=%FF']) {
    const r = await raw('GET', `/api/v1/products?${q}`, { headers: { authorization: `Bearer ${shop.token}` } });
    assert.ok(r.status < 500, `${q}: ${r.status}`);
    if (r.status >= 400) assertProblem(r, r.status);
  }

  const json = { 'content-type': 'application/json', authorization: `Bearer ${shop.token}` };
  assertProblem(await raw('POST', '/api/v1/products', { payload: '{"name": "Cake",', headers: json }), 400, 'malformed_json');
  assertProblem(await raw('POST', '/api/v1/products', { payload: '', headers: json }), 400, 'empty_body');
  assertProblem(await raw('POST', '/api/v1/products', { payload: '{"__proto__": {"x": 1}, "name": "Cake", "price": "1"}', headers: json }), 400);
  assertProblem(await raw('POST', '/api/v1/products', { payload: '{"constructor": {"prototype": {"x": 1}}}', headers: json }), 400);
  assertProblem(await raw('POST', '/api/v1/products', { payload: 'null', headers: json }), 400);
  assertProblem(await raw('POST', '/api/v1/products', { payload: '"a string"', headers: json }), 400, 'validation_failed');
  assertProblem(await raw('POST', '/api/v1/products', { payload: 'name=Cake', headers: { ...json, 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
  assertProblem(await raw('POST', '/api/v1/products', { payload: JSON.stringify({ name: 'x'.repeat(1024 * 1024), price: '1' }), headers: json }), 413, 'body_too_large');
  assertProblem(await raw('POST', '/api/v1/social/webhook/whatsapp', { payload: 'hello', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
  assertProblem(await raw('POST', '/api/v1/social/webhook/whatsapp', { payload: '{"object":', headers: { 'content-type': 'application/json' } }), 400);
  assertProblem(await raw('POST', '/api/v1/social/webhook/whatsapp', { payload: Buffer.from([0xff, 0xfe, 0x00]), headers: { 'content-type': 'application/json' } }), 400);
  assert.equal(await count('products'), 0);
});

const channelBody = (over: Record<string, unknown>) => ({ channel_type: 'whatsapp', api_key: 'EAAG-token', webhook_secret: 'app-secret', settings: { provider: 'meta' }, ...over });

test('an address enabled in one business cannot be enabled in another: 409 address_in_use, on create and on enable', async () => {
  const a = await newBusiness(t.app, 'Address Owner');
  const b = await newBusiness(t.app, 'Address Squatter');
  const pnid = `pnid-${randomUUID().slice(0, 8)}`;
  const mine = ok(await call(t.app, 'POST', '/social/channels', { token: a.token, body: channelBody({ account_id: pnid }) }), 201);
  // The same business may keep a second channel at its own address (a sandbox beside the real one).
  ok(await call(t.app, 'POST', '/social/channels', { token: a.token, body: channelBody({ account_id: pnid, settings: { provider: 'sandbox' } }) }), 201);

  const refused = await call(t.app, 'POST', '/social/channels', { token: b.token, body: channelBody({ account_id: pnid }) });
  assertProblem(refused, 409, 'address_in_use');
  assert.deepEqual(refused.body.errors.map((e: any) => e.field), ['account_id']);
  assert.equal(await count('social_channels', b), 0, 'nothing written');

  // Disabled, it may exist; enabling it is the same refusal, and so is moving an enabled channel there.
  const parked = ok(await call(t.app, 'POST', '/social/channels', { token: b.token, body: channelBody({ account_id: pnid, is_active: false }) }), 201);
  assertProblem(await call(t.app, 'PATCH', `/social/channels/${parked.id}`, { token: b.token, body: { is_active: true } }), 409, 'address_in_use');
  const elsewhere = ok(await call(t.app, 'POST', '/social/channels', { token: b.token, body: channelBody({ account_id: `pnid-${randomUUID().slice(0, 8)}` }) }), 201);
  assertProblem(await call(t.app, 'PATCH', `/social/channels/${elsewhere.id}`, { token: b.token, body: { account_id: pnid } }), 409, 'address_in_use');
  assert.equal(ok(await call(t.app, 'GET', `/social/channels/${parked.id}`, { token: b.token })).is_active, false);

  // Once the owner lets go of it (both its channels there disabled), the other business may take it.
  for (const ch of ok(await call(t.app, 'GET', '/social/channels', { token: a.token })).data) {
    ok(await call(t.app, 'PATCH', `/social/channels/${ch.id}`, { token: a.token, body: { is_active: false } }));
  }
  assert.equal(ok(await call(t.app, 'PATCH', `/social/channels/${parked.id}`, { token: b.token, body: { is_active: true } })).is_active, true);
  assertProblem(await call(t.app, 'PATCH', `/social/channels/${mine.id}`, { token: a.token, body: { is_active: true } }), 409, 'address_in_use');

  // A Twilio number (in any spelling) and a Facebook page are addresses too.
  const digits = String(1000 + Math.floor(Math.random() * 9000));
  ok(await call(t.app, 'POST', '/social/channels', { token: a.token, body: { channel_type: 'whatsapp', phone_number: `+1 415 555 ${digits}`, api_key: 'AC1', api_secret: 'tok', settings: { provider: 'twilio' } } }), 201);
  assertProblem(await call(t.app, 'POST', '/social/channels', { token: b.token, body: { channel_type: 'whatsapp', phone_number: `+1415555${digits}`, api_key: 'AC2', api_secret: 'tok2', settings: { provider: 'twilio' } } }), 409, 'address_in_use');
  ok(await call(t.app, 'POST', '/social/channels', { token: a.token, body: { channel_type: 'facebook', account_id: '5550001', api_key: 'page', webhook_secret: 's' } }), 201);
  assertProblem(await call(t.app, 'POST', '/social/channels', { token: b.token, body: { channel_type: 'facebook', account_id: '5550001', api_key: 'page2', webhook_secret: 's2' } }), 409, 'address_in_use');
  // The display number of a Meta channel is not an address: two shops may type the same one.
  ok(await call(t.app, 'POST', '/social/channels', { token: b.token, body: channelBody({ account_id: `pnid-${randomUUID().slice(0, 8)}`, phone_number: '+1 555 123 4567' }) }), 201);
  ok(await call(t.app, 'POST', '/social/channels', { token: a.token, body: channelBody({ account_id: `pnid-${randomUUID().slice(0, 8)}`, phone_number: '+1 555 123 4567' }) }), 201);
});

test('two businesses enabling the same address at the same moment: exactly one wins', async () => {
  for (let round = 0; round < 3; round++) {
    const [c, d] = await Promise.all([newBusiness(t.app, 'Racer C'), newBusiness(t.app, 'Racer D')]);
    const pnid = `pnid-race-${randomUUID().slice(0, 8)}`;
    const results = await Promise.all([c, d].map((biz) => call(t.app, 'POST', '/social/channels', { token: biz.token, body: channelBody({ account_id: pnid }) })));
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 409], JSON.stringify(results.map((r) => r.body)));
    const loser = results.findIndex((r) => r.status === 409);
    assertProblem(results[loser], 409, 'address_in_use');
    assert.equal(await count('social_channels', [c, d][loser]), 0);
  }
});

test('the database backstop: text it cannot store is 400, not 500, even past the edge', async () => {
  // Bypass the edge on purpose: the error handler maps SQLSTATE 22021 / 22P05 to 400.
  const { registerErrorHandling } = await import('../src/platform/errors.js');
  const Fastify = (await import('fastify')).default;
  const app = Fastify();
  registerErrorHandling(app);
  app.get('/nul', async () => withTenant(t.db, shop.business.id, (tx) => tx.query(`SELECT $1::text AS v`, ['a\u0000b'])));
  app.get('/jsonb', async () => withTenant(t.db, shop.business.id, (tx) => tx.query(`SELECT '{"a":"\\u0000"}'::jsonb AS v`)));
  for (const url of ['/nul', '/jsonb']) {
    const r = await app.inject(url);
    assert.equal(r.statusCode, 400, `${url}: ${r.body}`);
    assert.equal(r.json().code, 'rejected');
  }
  await app.close();
});
