// Rotating SECRETS_KEY: every channel secret is re-encrypted under the new key, one transaction per
// business; afterwards the secrets decrypt and webhooks verify under the new key only, and a run
// that is repeated (or was interrupted) finishes the job without touching what is done. The command
// itself rewrites DATA_DIR/secrets-key when the key was generated there.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildApp, type App } from '../../../app.js';
import { loadConfig } from '../../../config.js';
import { openDatabase } from '../../../platform/db.js';
import { migrate } from '../../../platform/migrations.js';
import { decryptSecret, encryptSecret } from '../../../platform/secrets.js';
import { buildTestApp, testConfig, type TestApp } from '../../../../test/helpers/app.js';
import { call, newBusiness, ok, type Biz } from '../../../../test/helpers/client.js';
import { metaText, newWamid, postMeta } from '../../../../test/helpers/webhooks.js';
import { ctxFor } from './channels.service.js';
import { rotateSecretsKey } from './rotate-key.js';

const OLD = randomBytes(32);
const NEW = randomBytes(32);
let t: TestApp;
let rotated: App; // the service restarted with SECRETS_KEY = NEW
before(async () => {
  t = await buildTestApp({ env: { SECRETS_KEY: OLD.toString('hex') } });
  rotated = await buildApp({ config: testConfig({ SECRETS_KEY: NEW.toString('base64'), JWT_SECRET: t.config.jwtSecret.toString('utf8') }), db: t.db, logger: false });
});
after(async () => {
  await rotated.close();
  await t.close();
});

const stored = async (id: string) =>
  (await t.db.query<any>(`SELECT api_key_enc, api_secret_enc, webhook_secret_enc FROM social_channels WHERE id = $1`, [id])).rows[0];
const channel = async (shop: Biz, body: Record<string, unknown>) => ok(await call(t.app, 'POST', '/social/channels', { token: shop.token, body }), 201);

test('every channel secret moves to the new key: it decrypts and webhooks verify under the new key, not the old', async () => {
  const shop = await newBusiness(t.app);
  const other = await newBusiness(t.app, 'Other Shop');
  const pnid = `pnid-${randomBytes(4).toString('hex')}`;
  const wa = await channel(shop, { channel_type: 'whatsapp', phone_number: '+1 555 123 4567', account_id: pnid, api_key: 'EAAG-token', webhook_secret: 'app-secret-1' });
  const tw = await channel(shop, { channel_type: 'whatsapp', account_id: `tw-${pnid}`, api_key: 'AC-sid', api_secret: 'twilio-auth', settings: { provider: 'twilio' } });
  const tg = await channel(other, { channel_type: 'telegram', api_key: '123:bot-token', webhook_secret: 'tg-secret-token' });
  const sent = metaText(pnid, '919876543210', 'hello before');
  assert.equal((await postMeta(t.app, sent, 'app-secret-1')).statusCode, 200);

  const report = await rotateSecretsKey(t.db, OLD, NEW);
  assert.ok(report.businesses >= 2 && report.rotated >= 6, JSON.stringify(report));
  assert.deepEqual(report.unreadable, []);

  const plain: Record<string, Record<string, string>> = {
    [wa.id]: { api_key: 'EAAG-token', webhook_secret: 'app-secret-1' },
    [tw.id]: { api_key: 'AC-sid', api_secret: 'twilio-auth' },
    [tg.id]: { api_key: '123:bot-token', webhook_secret: 'tg-secret-token' },
  };
  for (const [id, secrets] of Object.entries(plain)) {
    const row = await stored(id);
    for (const [field, value] of Object.entries(secrets)) {
      assert.equal(decryptSecret(NEW, row[`${field}_enc`], ctxFor(id, field as any)), value);
      assert.throws(() => decryptSecret(OLD, row[`${field}_enc`], ctxFor(id, field as any)), `${field} no longer opens with the old key`);
    }
  }
  // The restarted service verifies a signed webhook with the re-encrypted app secret.
  const r = await postMeta(rotated, metaText(pnid, '919876543210', 'hello after', { id: newWamid() }), 'app-secret-1');
  assert.equal(r.statusCode, 200, r.body);
  assert.equal((await postMeta(rotated, metaText(pnid, '919876543210', 'forged', { id: newWamid() }), 'wrong-secret')).statusCode, 401);
  const tgHook = await rotated.inject({ method: 'POST', url: `/api/v1/social/webhook/telegram?channel_id=${tg.id}`,
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'tg-secret-token' },
    payload: JSON.stringify({ update_id: 1, message: { message_id: 1, date: 1, chat: { id: 5, type: 'private' }, from: { id: 5, is_bot: false, first_name: 'K' }, text: 'hi' } }) });
  assert.equal(tgHook.statusCode, 200, tgHook.body);
  ok(await call(rotated, 'GET', `/social/channels/${wa.id}`, { token: shop.token }));
});

test('running it again changes nothing; an interrupted run is finished; a secret under neither key is named and left', async () => {
  const shop = await newBusiness(t.app);
  const a = await channel(shop, { channel_type: 'telegram', api_key: '1:a', webhook_secret: 'tg-a-secret' });
  const b = await channel(shop, { channel_type: 'telegram', api_key: '2:b', webhook_secret: 'tg-b-secret' });
  await rotateSecretsKey(t.db, OLD, NEW);
  const before = await stored(a.id);
  const again = await rotateSecretsKey(t.db, OLD, NEW);
  assert.equal(again.rotated, 0);
  assert.ok(again.already >= 4);
  assert.deepEqual(await stored(a.id), before, 'ciphertexts untouched');

  // As if a run stopped before this business: b's secrets still under the old key, and one under a key nobody has.
  const stray = randomBytes(32);
  await t.db.query(`ALTER TABLE social_channels NO FORCE ROW LEVEL SECURITY`);
  await t.db.query(`UPDATE social_channels SET api_key_enc = $2, webhook_secret_enc = $3 WHERE id = $1`,
    [b.id, encryptSecret(OLD, '2:b', ctxFor(b.id, 'api_key')), encryptSecret(stray, 'tg-b-secret', ctxFor(b.id, 'webhook_secret'))]);
  await t.db.query(`ALTER TABLE social_channels FORCE ROW LEVEL SECURITY`);
  const finish = await rotateSecretsKey(t.db, OLD, NEW);
  assert.equal(finish.rotated, 1);
  assert.deepEqual(finish.unreadable, [{ business_id: shop.business.id, channel_id: b.id, field: 'webhook_secret' }]);
  assert.equal(decryptSecret(NEW, (await stored(b.id)).api_key_enc, ctxFor(b.id, 'api_key')), '2:b');
});

test('npm run rotate-secrets-key re-encrypts an embedded database and rewrites DATA_DIR/secrets-key', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'karigar-rotate-'));
  try {
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }); // generates DATA_DIR/secrets-key
    const generated = config.secretsKey;
    let db = await openDatabase({ dataDir: join(dataDir, 'pgdata') });
    await migrate(db);
    let app = await buildApp({ config, db, logger: false });
    const shop = await newBusiness(app);
    const ch = ok(await call(app, 'POST', '/social/channels', { token: shop.token, body: { channel_type: 'telegram', api_key: '9:cli', webhook_secret: 'cli-secret' } }), 201);
    await app.close();
    await db.close();

    const run = (args: string[], env: Record<string, string> = {}) => promisify(execFile)(process.execPath,
      ['--import', 'tsx', 'scripts/rotate-secrets-key.ts', ...args],
      { env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, ...env }, cwd: join(import.meta.dirname, '../../../..') });
    const out = await run(['--new-key', NEW.toString('hex')]);
    assert.match(out.stdout, /1 channel\(s\): 2 secret\(s\) re-encrypted, 0 already under the new key, 0 under neither key/);
    assert.equal(readFileSync(join(dataDir, 'secrets-key'), 'utf8').trim(), NEW.toString('hex'));
    // Again, from the environment: the key file already holds it.
    assert.match((await run([], { NEW_SECRETS_KEY: NEW.toString('base64') })).stdout, /nothing to do/);
    await assert.rejects(run(['--new-key', 'short']), /must be 32 bytes/);

    db = await openDatabase({ dataDir: join(dataDir, 'pgdata') });
    const row = (await db.query<any>(`SELECT webhook_secret_enc FROM social_channels WHERE id = $1`, [ch.id])).rows[0];
    assert.equal(decryptSecret(NEW, row.webhook_secret_enc, ctxFor(ch.id, 'webhook_secret')), 'cli-secret');
    assert.throws(() => decryptSecret(generated, row.webhook_secret_enc, ctxFor(ch.id, 'webhook_secret')));
    app = await buildApp({ config: loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), db, logger: false });
    const hook = await app.inject({ method: 'POST', url: `/api/v1/social/webhook/telegram?channel_id=${ch.id}`,
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'cli-secret' },
      payload: JSON.stringify({ update_id: 7, message: { message_id: 7, date: 1, chat: { id: 6, type: 'private' }, from: { id: 6, is_bot: false, first_name: 'L' }, text: 'hi' } }) });
    assert.equal(hook.statusCode, 200, hook.body);
    await app.close();
    await db.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
