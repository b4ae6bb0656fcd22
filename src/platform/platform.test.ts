// Pure pieces of the platform: tokens, passwords, permissions, money, phone numbers, config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { can, hashPassword, PERMISSIONS, signToken, verifyPassword, verifyToken } from './auth.js';
import { fromMinor, toMinor, toMoney } from './money.js';
import { toE164, toPossibleE164 } from './phone.js';
import { ConfigError, loadConfig } from '../config.js';

const secret = randomBytes(32);
const who = { userId: 'u1', businessId: 'b1', role: 'sales' as const };

test('a token verifies with its secret, and not when expired, tampered or signed with another secret', () => {
  const now = Date.now();
  const token = signToken(who, secret, 60, now);
  assert.deepEqual(verifyToken(token, secret, now), who);
  assert.equal(verifyToken(token, secret, now + 61_000), undefined);
  assert.equal(verifyToken(token, randomBytes(32), now), undefined);
  const [h, body, sig] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), role: 'admin' })).toString('base64url');
  assert.equal(verifyToken(`${h}.${forged}.${sig}`, secret, now), undefined);
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  assert.equal(verifyToken(`${none}.${body}.`, secret, now), undefined);
  assert.equal(verifyToken('garbage', secret, now), undefined);
  // The signature's 43rd character carries 4 bits and 2 spare ones: a spelling that differs only
  // in the spare bits decodes to the same bytes and must still be refused.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(sig.at(-1)!);
  const sameBytes = alphabet[last ^ 1];
  assert.deepEqual(Buffer.from(sig.slice(0, -1) + sameBytes, 'base64url'), Buffer.from(sig, 'base64url'));
  assert.equal(verifyToken(`${h}.${body}.${sig.slice(0, -1)}${sameBytes}`, secret, now), undefined);
});

test('passwords are scrypt hashes that verify only the right password', async () => {
  const h = await hashPassword('correct horse');
  assert.match(h, /^scrypt\$16384\$8\$1\$/);
  assert.equal(await verifyPassword('correct horse', h), true);
  assert.equal(await verifyPassword('correct horsE', h), false);
  assert.notEqual(await hashPassword('correct horse'), h, 'salted');
});

test('the permission table matches SPEC §3', () => {
  assert.equal(can('admin', 'business.manage'), true);
  assert.equal(can('manager', 'business.manage'), false);
  assert.equal(can('manager', 'catalog.write'), true);
  assert.equal(can('sales', 'catalog.write'), false);
  for (const p of ['customers.write', 'sales.write', 'payments.write', 'leads.manage', 'social.read'] as const) {
    assert.deepEqual([...PERMISSIONS[p]], ['admin', 'manager', 'sales'], p);
  }
  assert.deepEqual([...PERMISSIONS['production.manage']], ['admin', 'manager']);
  assert.deepEqual([...PERMISSIONS['production.work']], ['admin', 'manager', 'production_worker']);
  const workerMay = Object.entries(PERMISSIONS).filter(([, roles]) => (roles as readonly string[]).includes('production_worker')).map(([p]) => p);
  assert.deepEqual(workerMay, ['production.work'], 'a production worker has nothing social, sales, customers or money');
});

test('money is exact decimal with two places', () => {
  assert.equal(toMoney('1250'), '1250.00');
  assert.equal(toMoney(1250.5), '1250.50');
  assert.equal(toMoney('0.1'), '0.10');
  assert.equal(toMoney('9999999999.99'), '9999999999.99');
  assert.throws(() => toMoney('1.234'));
  assert.throws(() => toMoney(0.001));
  assert.throws(() => toMoney('-1'));
  assert.throws(() => toMoney('1e3'));
  assert.equal(fromMinor(toMinor('0.10') + toMinor('0.20')), '0.30');
  assert.equal(fromMinor(toMinor('1300.00') - toMinor('1300.01')), '-0.01');
});

test('phone numbers in the forms customers type become E.164', () => {
  for (const input of ['98765 43210', '09876543210', '+91 98765-43210', '919876543210', '+919876543210']) {
    assert.equal(toE164(input, 'IN'), '+919876543210', input);
  }
  assert.equal(toE164('(415) 555-2671', 'US'), '+14155552671');
  assert.equal(toE164('12345', 'IN'), undefined);
  assert.equal(toE164('not a phone', 'IN'), undefined);
});

test('a business number may be any possible number, Meta\'s +1 555 test numbers included; a customer\'s may not', () => {
  for (const input of ['+1 555 123 4567', '15551234567', '+1 (555) 123-4567']) {
    assert.equal(toPossibleE164(input, 'IN'), '+15551234567', input);
    assert.equal(toE164(input, 'IN'), undefined, `${input} is not a valid customer mobile`);
  }
  assert.equal(toPossibleE164('98765 43210', 'IN'), '+919876543210');
  for (const bad of ['12345', '+1 555-0199', 'not a phone', '+1 555 123 4567 8901 23']) assert.equal(toPossibleE164(bad, 'IN'), undefined, bad);
});

test('config fails fast with every bad key listed', () => {
  try {
    loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', SECRETS_KEY: 'short', META_GRAPH_API_URL: 'ftp://x', DATABASE_PREPARED_STATEMENTS: 'maybe', DATA_DIR: '/tmp/karigar-cfg-test' });
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join('\n');
    for (const key of ['PORT', 'LOG_LEVEL', 'SECRETS_KEY', 'META_GRAPH_API_URL', 'DATABASE_PREPARED_STATEMENTS']) assert.match(text, new RegExp(key));
  }
  const c = loadConfig({ SECRETS_KEY: 'ab'.repeat(32), JWT_SECRET: 'x'.repeat(32), DATA_DIR: '/tmp/karigar-cfg-test' });
  assert.equal(c.port, 3000);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.publicBaseUrl, 'http://127.0.0.1:3000');
  assert.equal(c.secretsKey.length, 32);
  assert.equal(c.databasePreparedStatements, true);
  assert.equal(loadConfig({ DATABASE_PREPARED_STATEMENTS: 'FALSE', DATA_DIR: '/tmp/karigar-cfg-test' }).databasePreparedStatements, false);
});
