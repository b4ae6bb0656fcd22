// Sign-in and sign-up limits per client address (beside the per-email limit on wrong passwords):
// guesses sprayed over many emails from one address, or business after business from one address,
// are refused with 429 and Retry-After; X-Forwarded-For counts only when TRUST_PROXY says so.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { assertProblem, newBusiness, ok, type Res } from '../../../test/helpers/client.js';
import type { App } from '../../app.js';
import { addressKey, REGISTRATIONS_PER_EMAIL } from './attempt-limits.js';

const LIMIT = 5;
let direct: TestApp; // no proxy: the socket's address counts
let proxied: TestApp; // behind a proxy at 127.0.0.1: X-Forwarded-For counts
before(async () => {
  direct = await buildTestApp({ env: { LOGIN_ATTEMPTS_PER_ADDRESS: String(LIMIT) } });
  proxied = await buildTestApp({ env: { TRUST_PROXY: '127.0.0.1', LOGIN_ATTEMPTS_PER_ADDRESS: String(LIMIT), REGISTRATIONS_PER_ADDRESS: '3' } });
});
after(async () => {
  await direct.close();
  await proxied.close();
});

async function post(app: App, path: string, body: unknown, from: { remoteAddress: string; forwardedFor?: string }): Promise<Res> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (from.forwardedFor) headers['x-forwarded-for'] = from.forwardedFor;
  const r = await app.inject({ method: 'POST', url: `/api/v1${path}`, headers, payload: JSON.stringify(body), remoteAddress: from.remoteAddress });
  return { status: r.statusCode, body: JSON.parse(r.body), headers: r.headers };
}
const login = (app: App, email: string, password: string, from: { remoteAddress: string; forwardedFor?: string }) =>
  post(app, '/auth/login', { email, password }, from);
const stranger = () => `nobody-${randomUUID()}@example.com`;

function assertLimited(r: Res, windowSeconds: number) {
  assertProblem(r, 429, 'too_many_attempts');
  const retry = Number(r.headers['retry-after']);
  assert.ok(retry > 0 && retry <= windowSeconds, `Retry-After ${r.headers['retry-after']}`);
}

test('addresses are counted as IPv4, or by their IPv6 /64', () => {
  assert.equal(addressKey('203.0.113.7'), 'ip:203.0.113.7');
  assert.equal(addressKey('::ffff:203.0.113.7'), 'ip:203.0.113.7');
  assert.equal(addressKey('2001:db8:1:2::1'), 'ip:2001:db8:1:2::/64');
  assert.equal(addressKey('2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd'), 'ip:2001:db8:1:2::/64');
  assert.equal(addressKey('2001:db8::1'), 'ip:2001:db8:0:0::/64');
});

test('wrong passwords sprayed over many emails from one address are refused with 429, other addresses are not', async () => {
  const shop = await newBusiness(direct.app);
  const attacker = { remoteAddress: '203.0.113.7' };
  for (let i = 0; i < LIMIT; i++) assertProblem(await login(direct.app, stranger(), 'guess guess', attacker), 401);
  // Now even a right password is refused from there, with when to come back.
  assertLimited(await login(direct.app, shop.user.email, 'correct horse', attacker), 15 * 60);
  // Without TRUST_PROXY, a forged X-Forwarded-For changes nothing.
  assertLimited(await login(direct.app, shop.user.email, 'correct horse', { ...attacker, forwardedFor: '198.51.100.99' }), 15 * 60);
  // The owner, from elsewhere, signs in: the email was not the one guessed at.
  ok(await login(direct.app, shop.user.email, 'correct horse', { remoteAddress: '203.0.113.8' }));

  // The window ends (its clock moved on, as time would): the address may try again.
  await direct.db.query(`UPDATE attempt_counts SET window_started_at = now() - interval '16 minutes' WHERE key = 'ip:203.0.113.7'`);
  ok(await login(direct.app, shop.user.email, 'correct horse', attacker));
});

test('successful sign-ins do not use up an address\'s allowance (a shop\'s shared connection)', async () => {
  const shop = await newBusiness(direct.app);
  const office = { remoteAddress: '198.51.100.20' };
  for (let i = 0; i < LIMIT * 2; i++) ok(await login(direct.app, shop.user.email, 'correct horse', office));
  for (let i = 0; i < LIMIT; i++) assertProblem(await login(direct.app, stranger(), 'typo typo', office), 401);
  assertLimited(await login(direct.app, shop.user.email, 'correct horse', office), 15 * 60);
});

test('one IPv6 /64 is one address', async () => {
  for (let i = 0; i < LIMIT; i++) assertProblem(await login(direct.app, stranger(), 'guess guess', { remoteAddress: `2001:db8:5:6::${i + 1}` }), 401);
  assertLimited(await login(direct.app, stranger(), 'guess guess', { remoteAddress: '2001:db8:5:6:ffff::9' }), 15 * 60);
  assertProblem(await login(direct.app, stranger(), 'guess guess', { remoteAddress: '2001:db8:5:7::1' }), 401);
});

test('guesses sent all at once from one address cannot get past its limit', async () => {
  const rs = await Promise.all(Array.from({ length: LIMIT * 2 }, () => login(direct.app, stranger(), 'parallel guess', { remoteAddress: '192.0.2.77' })));
  const statuses = rs.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 401).length, LIMIT, statuses.join(','));
  assert.equal(statuses.filter((s) => s === 429).length, LIMIT, statuses.join(','));
});

test('behind a trusted proxy each forwarded client is counted on its own; an untrusted sender\'s X-Forwarded-For is ignored', async () => {
  const via = (client: string) => ({ remoteAddress: '127.0.0.1', forwardedFor: client });
  for (let i = 0; i < LIMIT; i++) assertProblem(await login(proxied.app, stranger(), 'guess guess', via('203.0.113.50')), 401);
  assertLimited(await login(proxied.app, stranger(), 'guess guess', via('203.0.113.50')), 15 * 60);
  assertProblem(await login(proxied.app, stranger(), 'guess guess', via('203.0.113.51')), 401);
  // Not from the proxy: its own address counts, whatever it forwards.
  assertProblem(await login(proxied.app, stranger(), 'guess guess', { remoteAddress: '198.51.100.5', forwardedFor: '203.0.113.50' }), 401);
});

test('sign-ups are limited per address and per email; a refused sign-up creates nothing', async () => {
  const register = (email: string, from: { remoteAddress: string; forwardedFor?: string }) => post(proxied.app, '/auth/register',
    { business_name: 'Spam Shop', name: 'Spammer', email, password: 'correct horse' }, from);
  const from = { remoteAddress: '127.0.0.1', forwardedFor: '192.0.2.10' };
  for (let i = 0; i < 3; i++) ok(await register(`shop-${randomUUID()}@example.com`, from), 201);
  const refused = `shop-${randomUUID()}@example.com`;
  assertLimited(await register(refused, from), 60 * 60);
  assertProblem(await login(proxied.app, refused, 'correct horse', { remoteAddress: '198.51.100.30' }), 401);
  ok(await register(`shop-${randomUUID()}@example.com`, { remoteAddress: '127.0.0.1', forwardedFor: '192.0.2.11' }), 201);

  // One email tried again and again, from address after address.
  const email = `taken-${randomUUID()}@example.com`;
  ok(await register(email, { remoteAddress: '192.0.2.100' }), 201);
  for (let i = 1; i < REGISTRATIONS_PER_EMAIL; i++) assertProblem(await register(email, { remoteAddress: `192.0.2.${100 + i}` }), 409, 'email_taken');
  assertLimited(await register(email, { remoteAddress: '192.0.2.120' }), 60 * 60);
});
