// What the engineer on call uses: health, readiness, metrics, request ids, the API docs, and logs
// that never carry secrets.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { buildApp } from '../src/app.js';
import { buildTestApp, testConfig, type TestApp } from './helpers/app.js';
import { call, newBusiness } from './helpers/client.js';

let t: TestApp;
before(async () => { t = await buildTestApp(); });
after(async () => { await t.close(); });

test('healthz, readyz and metrics answer', async () => {
  assert.equal((await t.app.inject('/healthz')).json().status, 'ok');
  const ready = await t.app.inject('/readyz');
  assert.equal(ready.statusCode, 200);
  assert.equal(ready.json().status, 'ready');
  await newBusiness(t.app);
  const metrics = await t.app.inject('/metrics');
  assert.match(metrics.headers['content-type'] as string, /text\/plain/);
  assert.match(metrics.body, /karigar_http_requests_total\{method="POST",route="\/api\/v1\/auth\/register",status="201"\} 1/);
});

test('every response carries a request id, and a caller\'s id is kept', async () => {
  const r = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
  assert.equal(r.headers['x-request-id'], 'abc-123');
  assert.ok((await t.app.inject('/healthz')).headers['x-request-id']);
});

test('the OpenAPI document lists the API, generated from the route schemas', async () => {
  const doc = (await t.app.inject('/docs/json')).json();
  assert.equal(doc.openapi.startsWith('3.'), true);
  for (const path of ['/api/v1/auth/register', '/api/v1/sales/{id}/finalize', '/api/v1/worker/steps/{step_id}/complete', '/api/v1/payments']) {
    assert.ok(doc.paths[path], `${path} documented`);
  }
  assert.ok(doc.paths['/api/v1/sales'].post.requestBody);
  const ui = await t.app.inject('/docs');
  assert.ok([200, 302].includes(ui.statusCode));
});

test('logs carry the request id and never a password or token', async () => {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(chunk.toString()); cb(); } });
  const app = await buildApp({ config: testConfig({ LOG_LEVEL: 'info' }), db: t.db, logStream: stream });
  const r = await call(app, 'POST', '/auth/register', {
    body: { business_name: 'Log Test', name: 'L', email: `log-${Date.now()}@example.com`, password: 'super secret pw' },
    headers: { 'x-request-id': 'req-log-1' },
  });
  await call(app, 'GET', '/me', { token: r.body.token });
  await app.close();
  const text = lines.join('');
  assert.ok(text.includes('req-log-1'), 'request id logged');
  assert.ok(!text.includes('super secret pw'), 'no password in logs');
  assert.ok(!text.includes(r.body.token), 'no token in logs');
});
