// The whole log of a run that goes through every route and the failures an attacker or a broken
// provider causes holds no password, hash, token or secret, nor any query string; and no answer
// carries a password, a hash or a channel secret (issue 10).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { buildApp, type App } from '../src/app.js';
import { startRuntime, type Runtime } from '../src/runtime.js';
import type { Config } from '../src/config.js';
import type { Database } from '../src/platform/db.js';
import { registerErrorHandling } from '../src/platform/errors.js';
import { loggerOptions } from '../src/platform/observability.js';
import { withTenant } from '../src/platform/tenancy.js';
import { eventually, testConfig, testDatabase } from './helpers/app.js';
import { call, ok, type Biz, type Res } from './helpers/client.js';
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { metaText, postMeta } from './helpers/webhooks.js';

let app: App;
let db: Database;
let config: Config;
let runtime: Runtime;
let fake: FakeProvider;
let drop: () => Promise<void>;
const logged: string[] = [];
const answers: { what: string; body: string }[] = [];
const capture = () => new Writable({ write(chunk, _enc, done) { logged.push(chunk.toString()); done(); } });

before(async () => {
  fake = await startFakeProvider();
  ({ db, drop } = await testDatabase());
  config = testConfig({
    LOG_LEVEL: 'trace',
    META_GRAPH_API_URL: `${fake.url}/meta`, TELEGRAM_API_URL: `${fake.url}/telegram`, TWILIO_API_URL: `${fake.url}/twilio`,
  });
  app = await buildApp({ config, db, logStream: capture() });
  await app.ready();
  runtime = await startRuntime({ config, db, log: app.log, role: 'all', pollingIntervalSeconds: 0.5 });
});
after(async () => {
  await app.close();
  await runtime.stop();
  await drop();
  await fake.close();
});

/** call(), remembering every answer for the final check. */
async function api(method: string, url: string, opts: Parameters<typeof call>[3] = {}): Promise<Res> {
  const r = await call(app, method, url, opts);
  answers.push({ what: `${method} ${url} → ${r.status}`, body: typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? '') });
  return r;
}

const PASSWORDS = { owner: `owner-pw-${randomUUID()}`, staff: `staff-pw-${randomUUID()}`, changed: `changed-pw-${randomUUID()}`, wrong: `wrong-pw-${randomUUID()}` };
const BOT_TOKEN = `${Math.floor(1e8 + Math.random() * 9e8)}:AAH-bot-${randomUUID().slice(0, 12)}`;
const SECRETS = { metaToken: `EAAG-${randomUUID()}`, appSecret: `app-secret-${randomUUID()}`, twilioToken: `twilio-${randomUUID()}`, tgSecret: `tg-${randomUUID()}` };
const NEEDLE = `needle-${randomUUID().slice(0, 8)}`;
const tokens: string[] = [];

test('a run through every route and failure logs no secret and answers none', async () => {
  // Accounts: register, log in right and wrong, a NUL in the e-mail, a taken e-mail, staff of every role, a password change.
  const email = `owner-${randomUUID()}@example.com`;
  const shop: Biz = ok(await api('POST', '/auth/register', { body: { business_name: 'Log Bakery', name: 'Asha', email, password: PASSWORDS.owner } }), 201);
  tokens.push(shop.token);
  tokens.push(ok(await api('POST', '/auth/login', { body: { email, password: PASSWORDS.owner } })).token);
  assert.equal((await api('POST', '/auth/login', { body: { email, password: PASSWORDS.wrong } })).status, 401);
  assert.equal((await api('POST', '/auth/login', { body: { email: `${email}\u0000`, password: PASSWORDS.owner } })).status, 400);
  assert.equal((await api('POST', '/auth/register', { body: { business_name: 'Copy', name: 'X', email, password: PASSWORDS.owner } })).status, 409);
  const staff: Record<string, Biz> = {};
  for (const role of ['manager', 'sales', 'production_worker']) {
    const staffEmail = `${role}-${randomUUID()}@example.com`;
    ok(await api('POST', '/users', { token: shop.token, body: { name: `${role} one`, email: staffEmail, password: PASSWORDS.staff, role } }), 201);
    assert.equal((await api('POST', '/users', { token: shop.token, body: { name: 'Again', email: staffEmail, password: PASSWORDS.staff, role } })).status, 409);
    staff[role] = ok(await api('POST', '/auth/login', { body: { email: staffEmail, password: PASSWORDS.staff } }));
    tokens.push(staff[role].token);
  }
  ok(await api('POST', '/me/password', { token: staff.sales.token, body: { current_password: PASSWORDS.staff, new_password: PASSWORDS.changed } }), 204);

  // Channels with every kind of secret; a credentials check that fails echoing the URL.
  const meta = ok(await api('POST', '/social/channels', { token: shop.token, body: {
    channel_type: 'whatsapp', phone_number: '+919000000001', account_id: `pnid-${randomUUID().slice(0, 8)}`, api_key: SECRETS.metaToken, webhook_secret: SECRETS.appSecret, settings: { provider: 'meta' } } }), 201);
  ok(await api('POST', '/social/channels', { token: shop.token, body: {
    channel_type: 'whatsapp', phone_number: '+1 415 555 0199', api_key: 'AC-log', api_secret: SECRETS.twilioToken, settings: { provider: 'twilio' } } }), 201);
  const tg = ok(await api('POST', '/social/channels', { token: shop.token, body: {
    channel_type: 'telegram', api_key: BOT_TOKEN, webhook_secret: SECRETS.tgSecret, settings: { provider: 'telegram' } } }), 201);
  fake.queue({ status: 401, body: { ok: false, error_code: 401, description: `Unauthorized: GET ${fake.url}/telegram/bot${BOT_TOKEN}/getMe (${encodeURIComponent(BOT_TOKEN)})` } });
  assert.equal(ok(await api('POST', `/social/channels/${tg.id}/check`, { token: shop.token })).status, 'needs_attention');
  ok(await api('PATCH', `/social/channels/${tg.id}`, { token: shop.token, body: { api_key: BOT_TOKEN } }));

  // Webhooks: the handshake (its token travels in the query), a forged and a signed message.
  const hs = await app.inject(`/api/v1/social/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=${meta.verify_token}&hub.challenge=${NEEDLE}`);
  assert.equal(hs.statusCode, 200);
  assert.equal((await postMeta(app, metaText(meta.account_id, '+919812345678', 'hi'), 'not-the-secret')).statusCode, 401);
  assert.equal((await postMeta(app, metaText(meta.account_id, '+919812345678', 'one cake please'), SECRETS.appSecret)).statusCode, 200);
  const update = { update_id: 9001, message: { message_id: 9001, date: Math.floor(Date.now() / 1000), chat: { id: 777001, type: 'private', first_name: 'Kavya' },
    from: { id: 777001, is_bot: false, first_name: 'Kavya' }, text: 'hello' } };
  const tgIn = await app.inject({ method: 'POST', url: `/api/v1/social/webhook/telegram?channel_id=${tg.id}`, payload: JSON.stringify(update),
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRETS.tgSecret } });
  assert.equal(tgIn.statusCode, 200, tgIn.body);

  // A reply on Telegram that the provider refuses, echoing the URL with the bot token in it.
  const convo = ok(await api('GET', `/social/conversations?channel_id=${tg.id}`, { token: shop.token })).data[0];
  fake.queue({ status: 401, body: { ok: false, error_code: 401, description: `Unauthorized: POST ${fake.url}/telegram/bot${BOT_TOKEN}/sendMessage` } });
  const sent = ok(await api('POST', `/social/conversations/${convo.id}/messages`, { token: shop.token, body: { text: 'Your cake is ready' } }), 201);
  const failed = await eventually(async () => {
    const m = (await withTenant(db, shop.business.id, (tx) => tx.query(`SELECT status, error_message FROM social_messages WHERE id = $1`, [sent.id]))).rows[0];
    return m?.status === 'failed' ? m : undefined;
  }, 15_000, 'the send to fail');
  assert.match(failed.error_message, /Unauthorized: POST .*bot\[redacted\]\/sendMessage/, 'the reason is kept, the token is not');
  const channel = ok(await api('GET', `/social/channels/${tg.id}`, { token: staff.sales.token }));
  assert.equal(channel.status, 'needs_attention');
  assert.ok(!channel.status_reason.includes(BOT_TOKEN.split(':')[1]), channel.status_reason);
  ok(await api('GET', `/social/messages?channel_id=${tg.id}`, { token: staff.sales.token }));

  // Every operation of the API document once, with a filter that must not reach the log.
  const doc = (await app.inject('/docs/json')).json();
  for (const [path, ops] of Object.entries<any>(doc.paths)) {
    if (!path.startsWith('/api/v1/') || path.endsWith('/stream') || path.includes('/webhook/')) continue;
    for (const method of Object.keys(ops)) {
      const url = path.replace('/api/v1', '').replace(/\{(\w+)\}/g, () => randomUUID());
      const r = await api(method.toUpperCase(), `${url}?q=${NEEDLE}`, { token: shop.token, ...(ops[method].requestBody ? { body: {} } : {}) });
      assert.ok(r.status < 500, `${method} ${path}: ${r.status}`);
    }
  }

  const log = logged.join('');
  assert.ok(logged.length > 50, 'the run was logged');
  assert.match(log, /"msg":"notification not sent"/);
  assert.match(log, /"msg":"incoming request"/);

  const hashes = (await db.query<{ password_hash: string }>(`SELECT password_hash FROM users`)).rows.map((r) => r.password_hash);
  assert.equal(hashes.length, 4);
  const never: Record<string, string> = {
    ...Object.fromEntries(Object.entries(PASSWORDS).map(([k, v]) => [`password ${k}`, v])),
    ...Object.fromEntries(hashes.flatMap((h, i) => [[`hash ${i}`, h], [`hash ${i} (its key)`, h.split('$').pop()!]])),
    ...Object.fromEntries(Object.entries(SECRETS).map(([k, v]) => [`secret ${k}`, v])),
    'bot token': BOT_TOKEN.split(':')[1],
    'jwt secret': config.jwtSecret.toString('hex'),
    'secrets key': config.secretsKey.toString('hex'),
  };
  for (const [what, secret] of Object.entries(never)) {
    assert.ok(!log.includes(secret), `the log holds the ${what}`);
    for (const a of answers) assert.ok(!a.body.includes(secret), `${a.what} answers the ${what}`);
  }
  // Tokens are answered by design (login), but never logged; nor is any query string.
  for (const tkn of tokens) assert.ok(!log.includes(tkn.split('.')[2]), 'the log holds an access token');
  assert.ok(!log.includes(meta.verify_token), 'the log holds the verify token');
  assert.ok(!log.includes(NEEDLE), 'the log holds a query string');
  assert.ok(!log.includes(`${email}`.split('@')[0] + '\u0000'), 'the log holds the login body');
});

test('a database error is logged as its SQLSTATE, constraint and table, never with the query\'s parameters', async () => {
  const lines: string[] = [];
  const probe = Fastify({ logger: { ...loggerOptions('info'), stream: new Writable({ write(c, _e, d) { lines.push(c.toString()); d(); } }) } });
  registerErrorHandling(probe);
  const hash = `scrypt$16384$8$1$${randomUUID()}`;
  const shop = (await db.query<{ id: string }>(`SELECT id FROM businesses LIMIT 1`)).rows[0].id;
  // A NUL that got past the edge, with a password hash beside it, as a failed user insert had.
  probe.get('/nul', async () => withTenant(db, shop, (tx) => tx.query(`SELECT $1::text AS name, $2::text AS hash`, ['a\u0000b', hash])));
  // An unexpected one (a unique key broken where no code expected it): 409, and the same care.
  probe.get('/dup', async () => withTenant(db, shop, (tx) => tx.query(
    `INSERT INTO user_logins (email, business_id, user_id) SELECT email, $1, gen_random_uuid() FROM user_logins WHERE $2::text IS NOT NULL LIMIT 1`, [shop, hash])));
  probe.get('/boom', async () => withTenant(db, shop, (tx) => tx.query(`SELECT 1/0 WHERE $1::text IS NOT NULL`, [hash])));
  assert.equal((await probe.inject('/nul')).statusCode, 400);
  assert.equal((await probe.inject('/dup')).statusCode, 409);
  const boom = await probe.inject('/boom');
  assert.equal(boom.statusCode, 500);
  assert.ok(!boom.body.includes(hash));
  await probe.close();
  const log = lines.join('');
  assert.ok(!log.includes(hash), log);
  assert.match(log, /"sqlstate":"22021"/);
  assert.match(log, /"sqlstate":"23505","constraint":"user_logins_pkey","table":"user_logins"/);
  assert.match(log, /"sqlstate":"22012"/);
});
