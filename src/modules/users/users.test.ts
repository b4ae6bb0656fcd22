// Staff change: an admin renames, re-roles and deactivates users, and the change reaches their
// existing tokens on the very next request; the business always keeps an admin; passwords can be
// changed; repeated wrong passwords are slowed, then refused for a cool-down.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { assertProblem, call, newBusiness, newCustomer, newProduct, newSale, newUser, ok } from '../../../test/helpers/client.js';
import { COOL_DOWN_SECONDS, MAX_FAILURES } from './password-attempts.js';

let t: TestApp;
before(async () => { t = await buildTestApp(); });
after(async () => { await t.close(); });

const login = (email: string, password: string) => call(t.app, 'POST', '/auth/login', { body: { email, password } });

test('a changed role applies to the user\'s existing token on its next request; a deactivated user\'s token stops working', async () => {
  const shop = await newBusiness(t.app);
  const manager = await newUser(t.app, shop, 'manager', 'Mohan');
  ok(await call(t.app, 'GET', '/sales', { token: manager.token }));

  const demoted = ok(await call(t.app, 'PATCH', `/users/${manager.user.id}`, { token: shop.token, body: { role: 'production_worker', name: 'Mohan K' } }));
  assert.deepEqual([demoted.role, demoted.name, demoted.is_active], ['production_worker', 'Mohan K', true]);
  // Same token, new rights: no sales, no money; the worker's own steps are fine.
  assertProblem(await call(t.app, 'GET', '/sales', { token: manager.token }), 403);
  assertProblem(await call(t.app, 'POST', '/products', { token: manager.token, body: { name: 'X', price: '1' } }), 403);
  ok(await call(t.app, 'GET', '/worker/steps', { token: manager.token }));
  assert.equal(ok(await call(t.app, 'GET', '/me', { token: manager.token })).user.role, 'production_worker');

  // Promoted: the same token gains the rights at once.
  const seller = await newUser(t.app, shop, 'sales');
  assertProblem(await call(t.app, 'GET', '/users', { token: seller.token }), 403);
  ok(await call(t.app, 'PATCH', `/users/${seller.user.id}`, { token: shop.token, body: { role: 'manager' } }));
  ok(await call(t.app, 'GET', '/users', { token: seller.token }));

  const worker = await newUser(t.app, shop, 'production_worker', 'Meena');
  ok(await call(t.app, 'PATCH', `/users/${worker.user.id}`, { token: shop.token, body: { is_active: false } }));
  assertProblem(await call(t.app, 'GET', '/me', { token: worker.token }), 401);
  assertProblem(await call(t.app, 'GET', '/worker/steps', { token: worker.token }), 401);
  const refused = await login(worker.user.email, 'worker pass');
  assertProblem(refused, 401);
  assert.match(refused.body.detail, /deactivated/);
  // A deactivated worker cannot be given steps; the list shows who is inactive.
  const p = await newProduct(t.app, shop, { production_steps: ['Bake'] });
  const c = await newCustomer(t.app, shop);
  const s = await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 1 }]);
  const po = ok(await call(t.app, 'GET', `/production-orders/${ok(await call(t.app, 'POST', `/sales/${s.id}/finalize`, { token: shop.token })).production_order_id}`, { token: shop.token }));
  assertProblem(await call(t.app, 'POST', `/production-orders/${po.id}/steps/${po.steps[0].id}/assign`, { token: shop.token, body: { worker_id: worker.user.id } }), 400);
  assert.deepEqual(ok(await call(t.app, 'GET', '/users?is_active=false', { token: shop.token })).data.map((u: any) => u.id), [worker.user.id]);

  // Reactivated: signs in again.
  ok(await call(t.app, 'PATCH', `/users/${worker.user.id}`, { token: shop.token, body: { is_active: true } }));
  ok(await login(worker.user.email, 'worker pass'));
});

test('only an admin changes users, within the business, and the last active admin stays an admin', async () => {
  const shop = await newBusiness(t.app);
  const manager = await newUser(t.app, shop, 'manager');
  assertProblem(await call(t.app, 'PATCH', `/users/${manager.user.id}`, { token: manager.token, body: { role: 'admin' } }), 403);
  assertProblem(await call(t.app, 'PATCH', `/users/${shop.user.id}`, { token: shop.token, body: { role: 'manager' } }), 409, 'last_admin');
  assertProblem(await call(t.app, 'PATCH', `/users/${shop.user.id}`, { token: shop.token, body: { is_active: false } }), 409, 'last_admin');
  assertProblem(await call(t.app, 'PATCH', `/users/${shop.user.id}`, { token: shop.token, body: { role: 'owner' } }), 400);
  assertProblem(await call(t.app, 'PATCH', `/users/${shop.user.id}`, { token: shop.token, body: {} }), 400);
  assertProblem(await call(t.app, 'PATCH', `/users/${shop.user.id}`, { token: shop.token, body: { is_active: 'no' } }), 400);
  assertProblem(await call(t.app, 'PATCH', `/users/${randomUUID()}`, { token: shop.token, body: { name: 'X' } }), 404);
  const other = await newBusiness(t.app);
  assertProblem(await call(t.app, 'PATCH', `/users/${manager.user.id}`, { token: other.token, body: { is_active: false } }), 404);
  assert.equal(ok(await call(t.app, 'GET', '/me', { token: shop.token })).user.role, 'admin');

  // Two admins demoting each other at the same moment: one wins, the business keeps an admin.
  ok(await call(t.app, 'PATCH', `/users/${manager.user.id}`, { token: shop.token, body: { role: 'admin' } }));
  const [a, b] = await Promise.all([
    call(t.app, 'PATCH', `/users/${manager.user.id}`, { token: shop.token, body: { role: 'sales' } }),
    call(t.app, 'PATCH', `/users/${shop.user.id}`, { token: manager.token, body: { is_active: false } }),
  ]);
  // The loser is refused by the rule (409), or — when the winner's demotion commits before the
  // loser's request is authorised — already as a non-admin (403).
  const statuses = [a.status, b.status].sort();
  assert.ok(statuses[0] === 200 && [403, 409].includes(statuses[1]), statuses.join(','));
  const admins = ok(await call(t.app, 'GET', '/users?role=admin&is_active=true', { token: a.status === 200 ? shop.token : manager.token })).data;
  assert.equal(admins.length, 1);
});

test('a user changes their own password with the current one; a wrong current password is 400', async () => {
  const shop = await newBusiness(t.app);
  const seller = await newUser(t.app, shop, 'sales');
  const wrong = await call(t.app, 'POST', '/me/password', { token: seller.token, body: { current_password: 'not it at all', new_password: 'a new secret' } });
  assertProblem(wrong, 400, 'wrong_password');
  assert.deepEqual(wrong.body.errors.map((e: any) => e.field), ['current_password']);
  assertProblem(await call(t.app, 'POST', '/me/password', { token: seller.token, body: { current_password: 'worker pass', new_password: 'short' } }), 400);
  assertProblem(await call(t.app, 'POST', '/me/password', { body: { current_password: 'worker pass', new_password: 'a new secret' } }), 401);
  ok(await login(seller.user.email, 'worker pass'));

  const done = await call(t.app, 'POST', '/me/password', { token: seller.token, body: { current_password: 'worker pass', new_password: 'a new secret' } });
  assert.equal(done.status, 204);
  assertProblem(await login(seller.user.email, 'worker pass'), 401);
  ok(await login(seller.user.email, 'a new secret'));
});

test('wrong passwords for one email are slowed, then refused with 429 and Retry-After until the cool-down ends', async () => {
  const shop = await newBusiness(t.app);
  const email = shop.user.email;
  const took: number[] = [];
  for (let i = 1; i <= MAX_FAILURES; i++) {
    const started = Date.now();
    assertProblem(await login(email, `wrong guess ${i}`), 401);
    took.push(Date.now() - started);
  }
  assert.ok(took[MAX_FAILURES - 1] >= 700, `the ${MAX_FAILURES}th wrong password waited ${took.at(-1)} ms`);

  // Now even the right password is refused for the cool-down, with when to come back.
  for (const password of ['wrong again', 'correct horse']) {
    const r = await login(email, password);
    assertProblem(r, 429, 'too_many_attempts');
    const retry = Number(r.headers['retry-after']);
    assert.ok(retry > COOL_DOWN_SECONDS - 30 && retry <= COOL_DOWN_SECONDS, `Retry-After ${r.headers['retry-after']}`);
  }
  // Another email, and the same person's token, are not affected.
  ok(await call(t.app, 'GET', '/me', { token: shop.token }));
  const other = await newUser(t.app, shop, 'sales');
  ok(await login(other.user.email, 'worker pass'));
  // An unknown email is counted the same way, so the answers do not tell which emails exist.
  const nobody = `nobody-${randomUUID()}@example.com`;
  for (let i = 0; i < MAX_FAILURES; i++) assertProblem(await login(nobody, 'guess guess'), 401);
  assertProblem(await login(nobody, 'guess guess'), 429, 'too_many_attempts');

  // The cool-down ends (its clock moved on, as time would): the right password works again and
  // clears the count.
  await t.db.query(`UPDATE login_attempts SET locked_until = now() - interval '1 second' WHERE email = $1`, [email]);
  ok(await login(email, 'correct horse'));
  for (let i = 0; i < MAX_FAILURES - 1; i++) assertProblem(await login(email, 'nope nope'), 401);
  ok(await login(email, 'correct horse'));
  assertProblem(await login(email, 'nope nope'), 401);
});

test('guesses sent all at once cannot get past the limit', async () => {
  const shop = await newBusiness(t.app);
  const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => login(shop.user.email, `parallel guess ${i}`)));
  const statuses = rs.map((r) => r.status);
  assert.ok(statuses.filter((s) => s === 401).length <= MAX_FAILURES, statuses.join(','));
  assert.ok(statuses.every((s) => s === 401 || s === 429), statuses.join(','));
  assertProblem(await login(shop.user.email, 'correct horse'), 429, 'too_many_attempts');
});
