// Going live: a channel says where the provider must send its webhooks, is `incomplete` (and sends
// nothing) while a credential is missing, and a check asks the provider — here the fake provider on
// 127.0.0.1 — whether the credentials work, recording `active` or `needs_attention` with the reason.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTestApp, eventually, type TestApp } from '../../../../test/helpers/app.js';
import { assertProblem, call, newBusiness, newCustomer, newProduct, newSale, newUser, ok, type Biz } from '../../../../test/helpers/client.js';
import { metaError, startFakeProvider, telegramError, twilioError, type FakeProvider } from '../../../../test/helpers/fake-provider.js';
import { metaText, newWamid, postMeta } from '../../../../test/helpers/webhooks.js';
import { MIGRATIONS_DIR } from '../../../platform/migrations.js';
import { withTenant } from '../../../platform/tenancy.js';
import { missingCredentials } from '../providers/provider.js';

const PUBLIC = 'https://karigar.example.com';
let fake: FakeProvider;
let t: TestApp;
before(async () => {
  fake = await startFakeProvider();
  t = await buildTestApp({
    role: 'all',
    env: { PUBLIC_BASE_URL: PUBLIC, META_GRAPH_API_URL: `${fake.url}/meta`, TWILIO_API_URL: `${fake.url}/twilio`, TELEGRAM_API_URL: `${fake.url}/telegram`, SEND_RETRY_BASE_MS: '50' },
  });
});
after(async () => {
  await t.close();
  await fake.close();
});
beforeEach(() => fake.clear());

const TOKEN = 'EAAG-live-secret-token';
const BOT = '987654:AAH-secret-bot-token';
const create = async (shop: Biz, body: Record<string, unknown>) => ok(await call(t.app, 'POST', '/social/channels', { token: shop.token, body }), 201);
const check = (shop: Biz, id: string) => call(t.app, 'POST', `/social/channels/${id}/check`, { token: shop.token });
const get = async (shop: Biz, id: string) => ok(await call(t.app, 'GET', `/social/channels/${id}`, { token: shop.token }));
const metaChannel = (shop: Biz, extra: Record<string, unknown> = {}) => create(shop, {
  channel_type: 'whatsapp', phone_number: '+1 555 123 4567', account_id: `pnid-${shop.business.id.slice(0, 8)}`,
  api_key: TOKEN, webhook_secret: 'app-secret', settings: { notifications: { 'production.created': false } }, ...extra,
});

test('missingCredentials names what each provider lacks; sandbox needs nothing', () => {
  const none = {};
  assert.deepEqual(missingCredentials({ channel_type: 'whatsapp', settings: {}, present: none }),
    ['access token (api_key)', 'app secret (webhook_secret)', 'phone number ID (account_id)']);
  assert.deepEqual(missingCredentials({ channel_type: 'whatsapp', settings: { provider: 'twilio' }, present: { api_key: true } }), ['auth token (api_secret)']);
  assert.deepEqual(missingCredentials({ channel_type: 'telegram', settings: {}, present: { api_key: true } }), ['secret token (webhook_secret)']);
  assert.deepEqual(missingCredentials({ channel_type: 'facebook', settings: {}, present: { webhook_secret: true } }), ['page access token (api_key)']);
  assert.deepEqual(missingCredentials({ channel_type: 'instagram', settings: {}, present: { api_key: true, webhook_secret: true } }), []);
  assert.deepEqual(missingCredentials({ channel_type: 'whatsapp', settings: { provider: 'sandbox' }, present: none }), []);
});

test('a channel answers its webhook URL and, to the admin only, a generated verify token that passes Meta\'s handshake', async () => {
  const shop = await newBusiness(t.app);
  const wa = await metaChannel(shop);
  assert.equal(wa.webhook_url, `${PUBLIC}/api/v1/social/webhook/whatsapp`);
  assert.equal(wa.provider, 'meta');
  assert.match(wa.verify_token, /^[A-Za-z0-9_-]{32}$/, 'random and URL-safe');
  assert.equal('verify_token' in wa.settings, false, 'one place for it: the top-level field');
  const tg = await create(shop, { channel_type: 'telegram', api_key: BOT, webhook_secret: 'tg-secret-token' });
  assert.equal(tg.webhook_url, `${PUBLIC}/api/v1/social/webhook/telegram?channel_id=${tg.id}`);
  const fb = await create(shop, { channel_type: 'facebook', account_id: '5550009', api_key: 'page-token', webhook_secret: 'app-secret' });
  assert.equal(fb.webhook_url, `${PUBLIC}/api/v1/social/webhook/facebook`);
  assert.notEqual(fb.verify_token, wa.verify_token);

  const hs = await t.app.inject(`/api/v1/social/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=${wa.verify_token}&hub.challenge=42`);
  assert.equal(hs.statusCode, 200);
  assert.equal(hs.body, '42');

  // Given, it is kept; changed, the old one stops working.
  const mine = await create(shop, { channel_type: 'whatsapp', settings: { provider: 'sandbox' }, verify_token: 'my own verify token' });
  assert.equal(mine.verify_token, 'my own verify token');
  const changed = ok(await call(t.app, 'PATCH', `/social/channels/${wa.id}`, { token: shop.token, body: { verify_token: 'a-new-verify-token' } }));
  assert.equal(changed.verify_token, 'a-new-verify-token');
  assert.equal((await t.app.inject(`/api/v1/social/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=${wa.verify_token}&hub.challenge=1`)).statusCode, 403);
  assertProblem(await call(t.app, 'PATCH', `/social/channels/${wa.id}`, { token: shop.token, body: { verify_token: 'short' } }), 400);

  for (const role of ['manager', 'sales']) {
    const u = await newUser(t.app, shop, role);
    const listed = ok(await call(t.app, 'GET', '/social/channels', { token: u.token })).data;
    assert.equal(listed.length, 4);
    for (const ch of listed) {
      assert.equal('verify_token' in ch, false, `${role} sees no verify token`);
      assert.equal('verify_token' in ch.settings, false);
      assert.ok(ch.webhook_url.startsWith(PUBLIC));
    }
    assert.ok(!JSON.stringify(listed).includes('a-new-verify-token'));
  }
});

test('a real provider without its credentials is incomplete, names what is missing, and becomes active when they are given', async () => {
  const shop = await newBusiness(t.app);
  const bare = await create(shop, { channel_type: 'whatsapp', phone_number: '+919000000001' });
  assert.equal(bare.status, 'incomplete');
  assert.equal(bare.status_reason, 'Missing: access token (api_key), app secret (webhook_secret), phone number ID (account_id)');
  const half = ok(await call(t.app, 'PATCH', `/social/channels/${bare.id}`, { token: shop.token, body: { api_key: TOKEN, account_id: '1098765' } }));
  assert.equal(half.status, 'incomplete');
  assert.equal(half.status_reason, 'Missing: app secret (webhook_secret)');
  const full = ok(await call(t.app, 'PATCH', `/social/channels/${bare.id}`, { token: shop.token, body: { webhook_secret: 'app-secret' } }));
  assert.deepEqual([full.status, full.status_reason], ['active', null]);
  const removed = ok(await call(t.app, 'PATCH', `/social/channels/${bare.id}`, { token: shop.token, body: { api_key: null } }));
  assert.deepEqual([removed.status, removed.status_reason], ['incomplete', 'Missing: access token (api_key)']);
  // Switching to the sandbox needs nothing.
  const sandbox = ok(await call(t.app, 'PATCH', `/social/channels/${bare.id}`, { token: shop.token, body: { settings: { provider: 'sandbox' } } }));
  assert.equal(sandbox.status, 'active');

  const twilio = await create(shop, { channel_type: 'whatsapp', phone_number: '+14155238886', api_key: 'AC123', settings: { provider: 'twilio' } });
  assert.deepEqual([twilio.status, twilio.status_reason], ['incomplete', 'Missing: auth token (api_secret)']);
  const tg = await create(shop, { channel_type: 'telegram', webhook_secret: 'tg-secret-token' });
  assert.deepEqual([tg.status, tg.status_reason], ['incomplete', 'Missing: bot token (api_key)']);
  const ig = await create(shop, { channel_type: 'instagram', account_id: '1784000', api_key: 'ig-token' });
  assert.deepEqual([ig.status, ig.status_reason], ['incomplete', 'Missing: app secret (webhook_secret)']);
  assertProblem(await check(shop, tg.id), 409, 'channel_incomplete');
  assert.equal(fake.requests.length, 0, 'an incomplete channel is never checked');
});

test('an incomplete channel sends nothing: notifications are skipped and an acknowledgement fails with the reason', async () => {
  const shop = await newBusiness(t.app);
  await newProduct(t.app, shop, { name: 'Chocolate cake' });
  const pnid = `pnid-${shop.business.id.slice(0, 8)}`;
  // Inbound works with the app secret alone (webhooks can be set up first); sending needs the token.
  const ch = await create(shop, { channel_type: 'whatsapp', account_id: pnid, webhook_secret: 'app-secret' });
  assert.equal(ch.status, 'incomplete');
  const r = await postMeta(t.app, metaText(pnid, '919812345678', 'I want 2 chocolate cakes', { id: newWamid() }), 'app-secret');
  assert.equal(r.statusCode, 200);
  const ack = await eventually(async () => ok(await call(t.app, 'GET', '/social/messages?direction=outbound', { token: shop.token })).data
    .find((m: any) => m.status === 'failed'), 15_000, 'the acknowledgement failed');
  assert.equal(ack.error_code, 'channel_incomplete');
  assert.match(ack.error_message, /access token \(api_key\)/);

  const c = await newCustomer(t.app, shop);
  const p = await newProduct(t.app, shop, { name: 'Ladoo', production_steps: [] });
  const s = await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 1 }]);
  ok(await call(t.app, 'POST', `/sales/${s.id}/finalize`, { token: shop.token }));
  await eventually(async () => (await withTenant(t.db, shop.business.id, (tx) => tx.query(
    `SELECT 1 FROM events WHERE type = 'sale.created' AND payload->>'sale_id' = $1`, [s.id]))).rows.length > 0, 5000, 'event');
  await new Promise((res) => setTimeout(res, 600));
  assert.equal(fake.requests.length, 0, 'nothing reached the provider');
  assert.equal(ok(await call(t.app, 'GET', `/social/messages?direction=outbound&customer_id=${c.id}`, { token: shop.token })).data.length, 0);
  assert.equal((await get(shop, ch.id)).status, 'incomplete', 'still incomplete, not needs_attention');
});

test('check on Meta WhatsApp: the phone number is read with the token and recorded; an expired token needs attention', async () => {
  const shop = await newBusiness(t.app);
  const ch = await metaChannel(shop);
  const good = ok(await check(shop, ch.id));
  assert.equal(good.status, 'active');
  assert.deepEqual(good.provider_info, { display_phone_number: '+1 555-123-4567', verified_name: 'Sweet Crumbs Test', quality_rating: 'GREEN' });
  assert.ok(good.checked_at);
  assert.equal(fake.requests.length, 1);
  const req = fake.requests[0];
  assert.equal(req.method, 'GET');
  assert.equal(req.path, `/meta/${ch.account_id}?fields=display_phone_number,verified_name,quality_rating`);
  assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);

  fake.queue({ status: 401, body: metaError(190, `Error validating access token: Session has expired. Token ${TOKEN}`) });
  const expired = ok(await check(shop, ch.id));
  assert.equal(expired.status, 'needs_attention');
  assert.match(expired.status_reason, /^Meta refused the access token \(190: Error validating access token: Session has expired/);
  assert.match(expired.status_reason, /api_key/);
  assert.ok(!JSON.stringify(expired).includes(TOKEN), 'the token never comes back, even when the provider echoes it');
  // While it needs attention, nothing is sent.
  const c = await newCustomer(t.app, shop);
  const p = await newProduct(t.app, shop, { production_steps: [] });
  fake.clear();
  ok(await call(t.app, 'POST', `/sales/${(await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 1 }])).id}/finalize`, { token: shop.token }));
  await new Promise((res) => setTimeout(res, 600));
  assert.equal(fake.requests.length, 0);

  // A new token and a check: active again, and the next sale is notified.
  const patched = ok(await call(t.app, 'PATCH', `/social/channels/${ch.id}`, { token: shop.token, body: { api_key: 'EAAG-fresh-token' } }));
  assert.equal(patched.provider_info, null, 'what Meta said about the old token is forgotten');
  assert.equal(ok(await check(shop, ch.id)).status, 'active');
  fake.clear();
  ok(await call(t.app, 'POST', `/sales/${(await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 1 }])).id}/finalize`, { token: shop.token }));
  await eventually(async () => fake.requests.some((r) => r.method === 'POST' && r.path === `/meta/${ch.account_id}/messages`), 15_000, 'notification sent');

  // The WhatsApp Business Account id given instead of the phone number id: Meta answers 100.
  fake.queue({ status: 400, body: metaError(100, 'Tried accessing nonexisting field (display_phone_number) on node type (WhatsAppBusinessAccount)') });
  const wrongId = ok(await check(shop, ch.id));
  assert.equal(wrongId.status, 'needs_attention');
  assert.match(wrongId.status_reason, /Phone number ID/);
});

test('check: a provider that cannot be reached is a 502 that changes nothing; roles and other businesses are refused', async () => {
  const shop = await newBusiness(t.app);
  const ch = await metaChannel(shop);
  // Every connection dropped: a check that met a closed kept-alive connection goes once more on a new one.
  fake.queue({ status: 200, destroy: true }, 2);
  const down = await check(shop, ch.id);
  assertProblem(down, 502, 'provider_unreachable');
  assert.match(down.body.detail, /Could not reach Meta/);
  assert.ok(!JSON.stringify(down.body).includes(TOKEN));
  fake.clear();
  fake.queue({ status: 503, body: 'Service Unavailable' });
  assertProblem(await check(shop, ch.id), 502, 'provider_unreachable');
  const after = await get(shop, ch.id);
  assert.deepEqual([after.status, after.checked_at], ['active', null]);

  // The Telegram token is part of the URL: a network failure's text never carries it.
  const offline = await buildTestApp({ env: { TELEGRAM_API_URL: 'http://127.0.0.1:9/telegram' } });
  try {
    const owner = await newBusiness(offline.app);
    const tg = ok(await call(offline.app, 'POST', '/social/channels', { token: owner.token, body: { channel_type: 'telegram', api_key: BOT, webhook_secret: 'tg-secret-token' } }), 201);
    const r = await call(offline.app, 'POST', `/social/channels/${tg.id}/check`, { token: owner.token });
    assertProblem(r, 502, 'provider_unreachable');
    assert.ok(!JSON.stringify(r.body).includes(BOT));
  } finally {
    await offline.close();
  }

  const manager = await newUser(t.app, shop, 'manager');
  assertProblem(await check(manager, ch.id), 403);
  const other = await newBusiness(t.app, 'Other');
  assertProblem(await check(other, ch.id), 404);
  assertProblem(await call(t.app, 'POST', '/social/channels/not-a-uuid/check', { token: shop.token }), 400);
});

test('check on Telegram (getMe), Twilio (the account) and Messenger; a wrong token needs attention without leaking it', async () => {
  const shop = await newBusiness(t.app);
  const tg = await create(shop, { channel_type: 'telegram', api_key: BOT, webhook_secret: 'tg-secret-token' });
  const ok1 = ok(await check(shop, tg.id));
  assert.equal(ok1.status, 'active');
  assert.equal(ok1.provider_info.username, 'sweetcrumbs_bot');
  assert.equal(fake.requests[0].path, `/telegram/bot${BOT}/getMe`);

  fake.queue({ status: 401, body: telegramError(401, 'Unauthorized') });
  const wrong = ok(await check(shop, tg.id));
  assert.equal(wrong.status, 'needs_attention');
  assert.match(wrong.status_reason, /^Telegram refused the bot token \(401: Unauthorized\)/);
  // A proxy's error page that echoes the requested URL (with the token in it) is scrubbed.
  fake.queue({ status: 404, body: `<html>No such path /telegram/bot${BOT}/getMe</html>` });
  const echoed = ok(await check(shop, tg.id));
  assert.equal(echoed.status, 'needs_attention');
  assert.ok(!echoed.status_reason.includes(BOT), echoed.status_reason);
  assert.match(echoed.status_reason, /\[redacted\]/);

  // Another number than the first test's: one Twilio number belongs to one business at a time.
  const tw = await create(shop, { channel_type: 'whatsapp', phone_number: '+14155238887', api_key: 'AC0001', api_secret: 'twilio-auth-secret', settings: { provider: 'twilio' } });
  fake.clear();
  const twOk = ok(await check(shop, tw.id));
  assert.equal(twOk.status, 'active');
  assert.equal(twOk.provider_info.status, 'active');
  assert.equal(fake.requests[0].path, '/twilio/2010-04-01/Accounts/AC0001.json');
  assert.equal(fake.requests[0].headers.authorization, `Basic ${Buffer.from('AC0001:twilio-auth-secret').toString('base64')}`);
  fake.queue({ status: 401, body: twilioError(20003, 'Authenticate', 401) });
  const twBad = ok(await check(shop, tw.id));
  assert.match(twBad.status_reason, /^Twilio refused the Account SID and auth token \(20003: Authenticate\)/);
  fake.queue({ status: 200, body: { sid: 'AC0001', friendly_name: 'Shop', status: 'suspended', type: 'Full' } });
  const suspended = ok(await check(shop, tw.id));
  assert.equal(suspended.status, 'needs_attention');
  assert.match(suspended.status_reason, /suspended/);

  const page = await create(shop, { channel_type: 'facebook', account_id: '5550001', api_key: 'page-token', webhook_secret: 'app-secret' });
  fake.clear();
  const pageOk = ok(await check(shop, page.id));
  assert.deepEqual(pageOk.provider_info, { id: '5550001', name: 'Sweet Crumbs Page' });
  assert.equal(fake.requests[0].path, '/meta/5550001?fields=id,name');
  const sandbox = await create(shop, { channel_type: 'whatsapp', settings: { provider: 'sandbox' } });
  fake.clear();
  assert.equal(ok(await check(shop, sandbox.id)).status, 'active');
  assert.equal(fake.requests.length, 0, 'the sandbox asks nobody');
});

test('a channel number may be any possible number (Meta\'s +1 555 test numbers); a customer\'s mobile stays strict', async () => {
  const shop = await newBusiness(t.app);
  const test555 = await create(shop, { channel_type: 'whatsapp', phone_number: '+1 555 123 4567', settings: { provider: 'sandbox' } });
  assert.equal(test555.phone_number, '+15551234567');
  const local = await create(shop, { channel_type: 'whatsapp', phone_number: '90000 00001', settings: { provider: 'sandbox' } });
  assert.equal(local.phone_number, '+919000000001');
  for (const bad of ['12345', '+1 555-0199', 'call me']) {
    assertProblem(await call(t.app, 'POST', '/social/channels', { token: shop.token, body: { channel_type: 'whatsapp', phone_number: bad } }), 400);
  }
  assertProblem(await call(t.app, 'POST', '/customers', { token: shop.token, body: { name: 'Test', mobile: '+1 555 123 4567' } }), 400);
});

test('the migration marks existing channels without their credentials incomplete and gives each a verify token', async () => {
  const shop = await newBusiness(t.app);
  // Channels as they were stored before: active, no verify token, whatever credentials they had.
  const legacy = async (type: string, cols: Record<string, string | null>, settings: Record<string, unknown> = {}) => (await t.db.query<{ id: string }>(
    `INSERT INTO social_channels (business_id, channel_type, account_id, api_key_enc, api_secret_enc, webhook_secret_enc, settings)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [shop.business.id, type, cols.account_id ?? null, cols.api_key ?? null, cols.api_secret ?? null, cols.webhook_secret ?? null, JSON.stringify(settings)])).rows[0].id;
  const noSecret = await legacy('whatsapp', { account_id: '111', api_key: 'v1:x' });
  const complete = await legacy('whatsapp', { account_id: '222', api_key: 'v1:x', webhook_secret: 'v1:y' });
  const twilio = await legacy('whatsapp', { api_key: 'v1:x' }, { provider: 'twilio' });
  const sandbox = await legacy('whatsapp', {}, { provider: 'sandbox' });
  await t.db.exec(readFileSync(join(MIGRATIONS_DIR, '0006_going_live.sql'), 'utf8'));
  const byId = async (id: string) => get(shop, id);
  assert.deepEqual([(await byId(noSecret)).status, (await byId(noSecret)).status_reason], ['incomplete', 'Missing: app secret (webhook_secret)']);
  assert.equal((await byId(complete)).status, 'active');
  assert.equal((await byId(twilio)).status_reason, 'Missing: auth token (api_secret)');
  assert.equal((await byId(sandbox)).status, 'active');
  const token = (await byId(complete)).verify_token;
  assert.match(token, /^[0-9a-f]{32}$/);
  const hs = await t.app.inject(`/api/v1/social/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=7`);
  assert.equal(hs.body, '7');
  // Row-level security is forced again afterwards.
  const forced = await t.db.query<{ relforcerowsecurity: boolean }>(`SELECT relforcerowsecurity FROM pg_class WHERE relname = 'social_channels'`);
  assert.equal(forced.rows[0].relforcerowsecurity, true);
});
