// The webhook lane (webhooks.lane.ts) answers plain webhooks over real HTTP without Fastify; it
// must answer exactly as the Fastify route does. app.inject goes straight to Fastify, so each case
// is sent both ways and the answers compared; requests the lane must leave are checked to reach
// Fastify untouched.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { buildApp } from '../src/app.js';
import { buildTestApp, testConfig, type TestApp } from './helpers/app.js';
import { call, newBusiness, ok } from './helpers/client.js';
import { metaText, newWamid } from './helpers/webhooks.js';
import { signMeta, signTwilio } from '../src/modules/social/webhooks/signatures.js';

let t: TestApp;
let base: string;
before(async () => {
  t = await buildTestApp({ role: 'api' });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
after(async () => { await t.close(); });

interface Answer { status: number; type: string; body: any; requestId: string | undefined }

/** Over real HTTP (the lane's way in). chunked: the body goes without a Content-Length. */
function overHttp(path: string, body: string | Buffer, headers: Record<string, string>, opts: { chunked?: boolean; base?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${opts.base ?? base}${path}`, { method: 'POST', headers: opts.chunked ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body: text ? JSON.parse(text) : undefined, requestId: res.headers['x-request-id'] as string | undefined });
      });
    });
    req.on('error', reject);
    if (opts.chunked) {
      req.write(body.slice(0, 5));
      req.end(body.slice(5));
    } else req.end(body);
  });
}

/** Through Fastify, as every other test sends webhooks. */
async function throughFastify(path: string, body: string | Buffer, headers: Record<string, string>): Promise<Answer> {
  const r = await t.app.inject({ method: 'POST', url: path, headers, payload: body });
  return { status: r.statusCode, type: String(r.headers['content-type']), body: r.body ? JSON.parse(r.body) : undefined, requestId: r.headers['x-request-id'] as string | undefined };
}

async function shop() {
  const biz = await newBusiness(t.app, 'Lane Bakery');
  const pnid = `pnid-${randomUUID().slice(0, 8)}`;
  const secret = `app-secret-${randomUUID()}`;
  ok(await call(t.app, 'POST', '/social/channels', { token: biz.token, body: {
    channel_type: 'whatsapp', phone_number: '+919000000002', account_id: pnid, api_key: 'tok', webhook_secret: secret, settings: { provider: 'sandbox' },
  } }), 201);
  const stored = async () => (await t.db.query<{ provider_message_id: string }>(
    `SELECT provider_message_id FROM social_messages WHERE business_id = $1 AND direction = 'inbound'`, [biz.business.id])).rows.map((r) => r.provider_message_id);
  return { biz, pnid, secret, stored };
}

const PATH = '/api/v1/social/webhook/whatsapp';
const meta = (raw: string, secret: string, extra: Record<string, string> = {}) => ({ 'content-type': 'application/json', 'x-hub-signature-256': signMeta(Buffer.from(raw), secret), ...extra });
const taken = () => t.app.webhookLane.taken;

test('a signed webhook over HTTP is taken by the lane, stored once, and answered as Fastify answers it', async () => {
  const s = await shop();
  const one = JSON.stringify(metaText(s.pnid, '919811100001', 'two cakes please', { id: newWamid() }));
  const two = JSON.stringify(metaText(s.pnid, '919811100001', 'two cakes please', { id: newWamid() }));

  const before = taken();
  const lane = await overHttp(PATH, one, meta(one, s.secret));
  assert.equal(taken(), before + 1, 'the lane took it');
  const fastify = await throughFastify(PATH, two, meta(two, s.secret));
  assert.equal(lane.status, 200);
  assert.deepEqual(lane.body, { received: 1, duplicates: 0, statuses: 0 });
  assert.deepEqual({ ...lane, requestId: undefined }, { ...fastify, requestId: undefined });
  assert.match(String(lane.requestId), /^[0-9a-f-]{36}$/, 'a request id of its own');

  // The same webhook again (a provider's retry) stores nothing new; a proxy's request id is kept.
  const replay = await overHttp(PATH, one, meta(one, s.secret, { 'x-request-id': 'proxy-42' }));
  assert.deepEqual(replay.body, { received: 0, duplicates: 1, statuses: 0 });
  assert.equal(replay.requestId, 'proxy-42');
  assert.equal((await s.stored()).length, 2);
});

test('every refusal the lane gives is the problem+json Fastify gives, and stores nothing', async () => {
  const s = await shop();
  const body = () => JSON.stringify(metaText(s.pnid, '919811100002', 'hello', { id: newWamid() }));
  const unknown = JSON.stringify(metaText(`pnid-nobody-${randomUUID().slice(0, 6)}`, '919811100002', 'hello', { id: newWamid() }));
  const twilioFields = { From: 'whatsapp:+919811100002', To: 'whatsapp:+14155550000', Body: 'hi', MessageSid: `SM${randomUUID().replace(/-/g, '')}` };
  const form = new URLSearchParams(twilioFields).toString();
  const cases: [string, () => [string, Record<string, string>]][] = [
    ['a wrong signature', () => { const b = body(); return [b, meta(b, 'not-the-secret')]; }],
    ['no signature', () => { const b = body(); return [b, { 'content-type': 'application/json' }]; }],
    ['malformed JSON, signed', () => { const b = body().slice(0, -2); return [b, meta(b, s.secret)]; }],
    ['JSON that is no webhook, signed', () => ['[1,2]', meta('[1,2]', s.secret)]],
    ['a phone number id no channel has', () => [unknown, meta(unknown, s.secret)]],
    ['a Twilio form nobody signed for', () => [form, { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilio(`${t.config.publicBaseUrl}${PATH}`, twilioFields, 'wrong') }]],
  ];
  for (const [name, make] of cases) {
    const [payload, headers] = make();
    const before = taken();
    const lane = await overHttp(PATH, payload, headers);
    assert.equal(taken(), before + 1, `${name}: the lane took it`);
    const fastify = await throughFastify(PATH, payload, headers);
    assert.ok(lane.status >= 400 && lane.status < 500, `${name}: ${lane.status}`);
    assert.deepEqual({ ...lane, requestId: undefined }, { ...fastify, requestId: undefined }, name);
    assert.match(lane.type, /^application\/problem\+json/, name);
  }
  assert.deepEqual(await s.stored(), []);
});

test('a webhook with a query string, a chunked body, another media type or no body is left to Fastify', async () => {
  const s = await shop();
  const cases: [string, () => Promise<Answer>, number][] = [
    ['a query string', () => { const b = JSON.stringify(metaText(s.pnid, '919811100003', 'q', { id: newWamid() })); return overHttp(`${PATH}?business_id=${s.biz.business.id}`, b, meta(b, s.secret)); }, 200],
    ['a chunked body', () => { const b = JSON.stringify(metaText(s.pnid, '919811100003', 'c', { id: newWamid() })); return overHttp(PATH, b, meta(b, s.secret), { chunked: true }); }, 200],
    ['text/plain', () => overHttp(PATH, 'hello', { 'content-type': 'text/plain' }), 415],
    ['an empty body', () => overHttp(PATH, '', { 'content-type': 'application/json' }), 400],
    ['a channel type nobody has', () => overHttp('/api/v1/social/webhook/pigeon', '{}', { 'content-type': 'application/json' }), 404],
  ];
  for (const [name, send, status] of cases) {
    const before = taken();
    const r = await send();
    assert.equal(taken(), before, `${name}: left to Fastify`);
    assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
    if (status >= 400) assert.match(r.type, /^application\/problem\+json/, name);
    assert.ok(r.requestId, `${name}: Fastify gave a request id`);
  }
  assert.equal((await s.stored()).length, 2, 'both webhooks Fastify took were stored');
});

test('the lane\'s answers are counted in /metrics under the route\'s name', async () => {
  const s = await shop();
  const count = async (status: number) => {
    const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    const line = text.split('\n').find((l) => l.startsWith('karigar_http_requests_total{') && l.includes('route="/api/v1/social/webhook/:channelType"') && l.includes(`status="${status}"`) && l.includes('method="POST"'));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  const [ok200, bad401] = [await count(200), await count(401)];
  const b = JSON.stringify(metaText(s.pnid, '919811100004', 'count me', { id: newWamid() }));
  assert.equal((await overHttp(PATH, b, meta(b, s.secret))).status, 200);
  assert.equal((await overHttp(PATH, b, meta(b, 'wrong'))).status, 401);
  assert.equal(await count(200), ok200 + 1);
  assert.equal(await count(401), bad401 + 1);
});

test('the lane logs each request as Fastify does, with the client address a trusted proxy forwarded', async () => {
  const lines: any[] = [];
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l)); });
  const app = await buildApp({ config: testConfig({ TRUST_PROXY: '127.0.0.1', LOG_LEVEL: 'info' }), db: t.db, logStream });
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const at = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const b = JSON.stringify(metaText(`pnid-nobody-${randomUUID().slice(0, 6)}`, '919811100005', 'hi', { id: newWamid() }));
    const headers = { 'content-type': 'application/json', 'x-hub-signature-256': signMeta(Buffer.from(b), 's'), 'x-forwarded-for': '203.0.113.7' };
    const lane = await overHttp(PATH, b, { ...headers, 'x-request-id': 'lane-1' }, { base: at });
    const fastify = await overHttp(PATH, b, { ...headers, 'x-request-id': 'fastify-1' }, { base: at, chunked: true });
    assert.equal(app.webhookLane.taken, 1);
    assert.equal(lane.status, fastify.status);
    const logged = (reqId: string) => lines.filter((l) => l.reqId === reqId).map((l) => ({ msg: l.msg, req: l.req, status: l.res?.statusCode }));
    const shape = (reqId: string) => logged(reqId).filter((l) => l.msg === 'incoming request' || l.msg === 'request completed');
    assert.deepEqual(shape('lane-1'), shape('fastify-1'));
    assert.deepEqual(shape('lane-1')[0].req, { method: 'POST', url: PATH, remoteAddress: '203.0.113.7' });
    assert.equal(shape('lane-1')[1].status, lane.status);
    assert.ok(!JSON.stringify(lines).includes(headers['x-hub-signature-256']), 'no signature in the log');
  } finally {
    await app.close();
  }
});
