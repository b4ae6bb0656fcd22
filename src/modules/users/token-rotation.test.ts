// Rotating JWT_SECRET without signing everyone out: with JWT_PREVIOUS_SECRET set to the old secret,
// tokens it signed keep working until their own expiry, while every new token is signed with the
// new secret only. Without it, old tokens stop at once. Bad settings stop the process at boot.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { buildApp, type App } from '../../app.js';
import { ConfigError, loadConfig } from '../../config.js';
import { signToken } from '../../platform/auth.js';
import { buildTestApp, testConfig, type TestApp } from '../../../test/helpers/app.js';
import { assertProblem, call, newBusiness, ok } from '../../../test/helpers/client.js';

const OLD = randomBytes(32).toString('hex');
const NEW = randomBytes(32).toString('hex');
let before_: TestApp; // the service before the rotation (JWT_SECRET=OLD)
let during: App; // JWT_SECRET=NEW, JWT_PREVIOUS_SECRET=OLD: the grace period
let afterwards: App; // JWT_SECRET=NEW only: the grace period is over
before(async () => {
  before_ = await buildTestApp({ env: { JWT_SECRET: OLD } });
  const same = { SECRETS_KEY: before_.config.secretsKey.toString('hex') };
  during = await buildApp({ config: testConfig({ ...same, JWT_SECRET: NEW, JWT_PREVIOUS_SECRET: OLD }), db: before_.db, logger: false });
  afterwards = await buildApp({ config: testConfig({ ...same, JWT_SECRET: NEW }), db: before_.db, logger: false });
});
after(async () => {
  await during.close();
  await afterwards.close();
  await before_.close();
});

test('a token signed before the rotation keeps working during the grace period; new tokens use the new secret only', async () => {
  const shop = await newBusiness(before_.app); // its token is signed with OLD
  assert.equal(ok(await call(during, 'GET', '/me', { token: shop.token })).user.id, shop.user.id);

  const fresh = ok(await call(during, 'POST', '/auth/login', { body: { email: shop.user.email, password: 'correct horse' } }));
  ok(await call(during, 'GET', '/me', { token: fresh.token }));
  assertProblem(await call(before_.app, 'GET', '/me', { token: fresh.token }), 401); // not signed with OLD
  ok(await call(afterwards, 'GET', '/me', { token: fresh.token }));

  // Once JWT_PREVIOUS_SECRET is removed, the old token is refused.
  assertProblem(await call(afterwards, 'GET', '/me', { token: shop.token }), 401);
});

test('an old token keeps its own expiry during the grace period, and a forged one is refused', async () => {
  const shop = await newBusiness(before_.app);
  const principal = { userId: shop.user.id, businessId: shop.business.id, role: 'admin' as const };
  const expired = signToken(principal, Buffer.from(OLD), 60, Date.now() - 120_000);
  assertProblem(await call(during, 'GET', '/me', { token: expired }), 401);
  const stillValid = signToken(principal, Buffer.from(OLD), 60, Date.now() - 30_000);
  ok(await call(during, 'GET', '/me', { token: stillValid }));
  const forged = signToken(principal, randomBytes(32), 60);
  assertProblem(await call(during, 'GET', '/me', { token: forged }), 401);
});

test('JWT_PREVIOUS_SECRET and TRUST_PROXY are checked at boot', () => {
  const env = { DATA_DIR: '/tmp/karigar-unused', SECRETS_KEY: randomBytes(32).toString('hex') };
  const problems = (extra: Record<string, string>) => {
    try {
      loadConfig({ ...env, ...extra });
      return [];
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems;
    }
  };
  assert.deepEqual(problems({ JWT_SECRET: NEW, JWT_PREVIOUS_SECRET: 'short' }), ['JWT_PREVIOUS_SECRET must be at least 32 characters']);
  assert.deepEqual(problems({ JWT_SECRET: NEW, JWT_PREVIOUS_SECRET: NEW }), ['JWT_PREVIOUS_SECRET must differ from JWT_SECRET']);
  assert.deepEqual(problems({ JWT_PREVIOUS_SECRET: OLD }), ['JWT_PREVIOUS_SECRET needs JWT_SECRET (the new secret) set too']);
  assert.deepEqual(problems({ JWT_SECRET: NEW, JWT_PREVIOUS_SECRET: OLD }), []);
  assert.deepEqual(loadConfig({ ...env, JWT_SECRET: NEW, JWT_PREVIOUS_SECRET: OLD }).jwtPreviousSecret, Buffer.from(OLD));

  assert.equal(loadConfig({ ...env, JWT_SECRET: NEW }).trustProxy, false, 'off by default');
  assert.equal(loadConfig({ ...env, JWT_SECRET: NEW, TRUST_PROXY: 'true' }).trustProxy, true);
  assert.deepEqual(loadConfig({ ...env, JWT_SECRET: NEW, TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1' }).trustProxy, ['127.0.0.1', '10.0.0.0/8', '::1']);
  for (const bad of ['yes', '10.0.0.0/33', 'proxy.example.com']) assert.equal(problems({ JWT_SECRET: NEW, TRUST_PROXY: bad }).length, 1, bad);
  assert.equal(problems({ JWT_SECRET: NEW, LOGIN_ATTEMPTS_PER_ADDRESS: '0', REGISTRATIONS_PER_ADDRESS: 'many' }).length, 2);
  assert.equal(problems({ JWT_SECRET: NEW, NEW_SECRETS_KEY: 'not a key' }).length, 1);
});
