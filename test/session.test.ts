// The web console's session: a cookie the service sets (httpOnly, SameSite=Strict) that counts
// only without an Authorization header, and a state-changing request sent with that cookie must
// come from our own origin. Also the console's files and the page fallback beside the API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { buildApp, type App } from '../src/app.js';
import { testConfig, testDatabase } from './helpers/app.js';
import { assertProblem, call, newBusiness, ok } from './helpers/client.js';

let app: App;
let bare: App;
let drop: () => Promise<void>;
const dir = mkdtempSync(join(tmpdir(), 'karigar-console-'));
mkdirSync(join(dir, 'assets'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Karigar</title><script type="module" src="/assets/app-1.js"></script>');
writeFileSync(join(dir, 'assets', 'app-1.js'), 'console.log(1)');

before(async () => {
  const d = await testDatabase();
  drop = d.drop;
  const config = testConfig();
  app = await buildApp({ config, db: d.db, logger: false, consoleDir: dir });
  bare = await buildApp({ config, db: d.db, logger: false, consoleDir: join(dir, 'nothing-here') });
});
after(async () => {
  await app.close();
  await bare.close();
  await drop();
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(email: string, password: string) {
  const r = await call(app, 'POST', '/auth/session', { body: { email, password }, headers: { origin: 'http://localhost:80', host: 'localhost:80' } });
  return r;
}

const cookieOf = (r: { headers: Record<string, any> }) => String(r.headers['set-cookie']).split(';')[0];

async function owner() {
  const email = `owner-${randomUUID()}@example.com`;
  const reg = ok(await call(app, 'POST', '/auth/register', { body: { business_name: 'Cookie Bakery', name: 'Asha', email, password: 'correct horse' } }), 201);
  const r = await signIn(email, 'correct horse');
  ok(r);
  return { reg, cookie: cookieOf(r), login: r };
}

test('signing in sets an httpOnly SameSite=Strict cookie, keeps the token out of the body, and the cookie authenticates', async () => {
  const { login, cookie, reg } = await owner();
  const set = String(login.headers['set-cookie']);
  assert.match(set, /^karigar_session=[\w-]+\.[\w-]+\.[\w-]+;/);
  assert.match(set, /HttpOnly/);
  assert.match(set, /SameSite=Strict/);
  assert.match(set, /Path=\//);
  assert.equal(login.body.token, undefined);
  assert.equal(login.body.user.email, reg.user.email);
  const me = ok(await call(app, 'GET', '/me', { headers: { cookie } }));
  assert.equal(me.user.id, reg.user.id);
  // Bearer tokens keep working, and an Authorization header wins over the cookie.
  ok(await call(app, 'GET', '/me', { token: reg.token }));
  assertProblem(await call(app, 'GET', '/me', { headers: { cookie, authorization: 'Bearer not-a-token' } }), 401);
});

test('a wrong password sets no cookie; a forged cookie is 401', async () => {
  const { reg } = await owner();
  const r = await signIn(reg.user.email, 'wrong password');
  assertProblem(r, 401);
  assert.equal(r.headers['set-cookie'], undefined);
  assertProblem(await call(app, 'GET', '/me', { headers: { cookie: 'karigar_session=a.b.c' } }), 401);
  assertProblem(await call(app, 'GET', '/me', { headers: { cookie: 'other=1' } }), 401);
});

test('a cookie-authenticated change from another origin is refused; from ours, or with no Origin, it goes through', async () => {
  const { cookie, reg } = await owner();
  const product = { name: `Rasmalai ${randomUUID().slice(0, 4)}`, price: '300.00' };
  const evil = await call(app, 'POST', '/products', { body: product, headers: { cookie, host: 'shop.example:3000', origin: 'https://evil.example' } });
  assertProblem(evil, 403);
  assertProblem(await call(app, 'POST', '/products', { body: product, headers: { cookie, host: 'shop.example:3000', origin: 'null' } }), 403);
  assertProblem(await call(app, 'POST', '/products', { body: product, headers: { cookie, host: 'shop.example:3000', origin: 'http://shop.example:4000' } }), 403);
  const list = ok(await call(app, 'GET', '/products', { token: reg.token }));
  assert.equal(list.data.length, 0, 'nothing was created by the refused requests');
  // Reading with a foreign Origin is harmless (the browser will not let that page read the answer).
  ok(await call(app, 'GET', '/products', { headers: { cookie, host: 'shop.example:3000', origin: 'https://evil.example' } }));
  ok(await call(app, 'POST', '/products', { body: product, headers: { cookie, host: 'shop.example:3000', origin: 'http://shop.example:3000' } }), 201);
  ok(await call(app, 'POST', '/products', { body: { ...product, name: `${product.name} 2` }, headers: { cookie } }), 201);
  // A bearer token is not sent by browsers on their own: no Origin rule for it.
  ok(await call(app, 'POST', '/products', { token: reg.token, body: { ...product, name: `${product.name} 3` }, headers: { origin: 'https://evil.example' } }), 201);
});

test('signing out clears the cookie', async () => {
  const r = await call(app, 'DELETE', '/auth/session', { headers: { cookie: 'karigar_session=x' } });
  assert.equal(r.status, 204);
  assert.match(String(r.headers['set-cookie']), /^karigar_session=; .*Max-Age=0/);
  const biz = await newBusiness(app);
  assertProblem(await call(app, 'POST', '/auth/session', { body: { email: biz.user.email, password: 'correct horse' }, headers: { host: 'a.example', origin: 'https://b.example' } }), 403);
});

test('the console: built files, index.html for console paths with a strict CSP, and the API and docs keep their 404s', async () => {
  const page = await app.inject({ method: 'GET', url: '/orders/123' });
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /text\/html/);
  assert.match(page.body, /<title>Karigar<\/title>/);
  assert.match(page.headers['content-security-policy'] as string, /script-src 'self'/);
  assert.doesNotMatch(page.headers['content-security-policy'] as string, /unsafe-inline/);
  const root = await app.inject({ method: 'GET', url: '/' });
  assert.equal(root.statusCode, 200);
  assert.equal(root.body, page.body);
  const js = await app.inject({ method: 'GET', url: '/assets/app-1.js' });
  assert.equal(js.statusCode, 200);
  assert.match(js.headers['content-type'] as string, /javascript/);
  assert.match(js.headers['cache-control'] as string, /immutable/);
  assert.equal((await app.inject({ method: 'GET', url: '/assets/missing-2.js' })).statusCode, 404);
  const api404 = await app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
  assert.equal(api404.statusCode, 404);
  assert.match(api404.headers['content-type'] as string, /problem\+json/);
  assert.equal((await app.inject({ method: 'GET', url: '/docs/json' })).statusCode, 200);
  assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
});

test('without a build the console answers 503 saying how to build it; the API is unaffected', async () => {
  const r = await bare.inject({ method: 'GET', url: '/' });
  assert.equal(r.statusCode, 503);
  assert.match(r.body, /npm run build:web/);
  assert.equal((await bare.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
});
