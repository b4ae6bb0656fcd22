// Webhook ingest at speed (webhooks.ingest.ts): channels are cached, but a change made anywhere
// counts at once; concurrent webhooks are written together, each answered with its own outcome,
// and a bad one in a batch fails alone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { buildTestApp, type TestApp } from './helpers/app.js';
import { call, newBusiness, ok } from './helpers/client.js';
import { metaText, newWamid, postMeta } from './helpers/webhooks.js';
import { encryptSecret } from '../src/platform/secrets.js';
import { withTenant } from '../src/platform/tenancy.js';
import { ctxFor } from '../src/modules/social/channels/channels.service.js';
import { cachedChannel, ingestFor, type IngestItem } from '../src/modules/social/webhooks/webhooks.ingest.js';

let t: TestApp;
// 'api': jobs are queued and stay queued, so they can be counted.
before(async () => { t = await buildTestApp({ role: 'api' }); });
after(async () => { await t.close(); });

async function shop(name = 'Sweet Crumbs') {
  const biz = await newBusiness(t.app, name);
  const pnid = `pnid-${randomUUID().slice(0, 8)}`;
  const secret = `app-secret-${randomUUID()}`;
  const channel = ok(await call(t.app, 'POST', '/social/channels', { token: biz.token, body: {
    channel_type: 'whatsapp', phone_number: '+919000000001', account_id: pnid, api_key: 'tok', webhook_secret: secret,
  } }), 201);
  return { biz, channel, pnid, secret };
}
type Shop = Awaited<ReturnType<typeof shop>>;

const stored = async (s: Shop) => (await withTenant(t.db, s.biz.business.id, (tx) => tx.query<{ provider_message_id: string; conversation_id: string | null }>(
  `SELECT provider_message_id, conversation_id FROM social_messages WHERE direction = 'inbound'`))).rows;
/** The message.received events queued for the business (a webhook batch's job holds several), each once. */
const queued = async (s: Shop) => {
  const r = (await t.db.query<{ n: number; distinct: number; events: number }>(
    `SELECT count(*)::int AS n, count(DISTINCT e)::int AS distinct,
       (SELECT count(*)::int FROM events WHERE business_id = $1::uuid AND type = 'message.received') AS events
     FROM pgboss.job j, jsonb_array_elements(coalesce(j.data->'event_ids', jsonb_build_array(j.data->'event_id'))) e
     WHERE j.name = 'listener.inbound' AND j.data->>'business_id' = $1::text`, [s.biz.business.id])).rows[0];
  assert.equal(r.distinct, r.n, 'no event queued twice');
  assert.equal(r.n, r.events, 'every event queued');
  return r.n;
};

test('a secret changed or a channel switched off by another process counts at once, whatever this one cached', async () => {
  const s = await shop();
  const send = (secret: string) => postMeta(t.app, metaText(s.pnid, '919811111111', 'hello', { id: newWamid() }), secret);
  assert.equal((await send(s.secret)).statusCode, 200); // the channel and its secret are now cached

  // Another process rotates the secret: this one hears nothing of it, only the database changes.
  await t.db.query(`UPDATE social_channels SET webhook_secret_enc = $2 WHERE id = $1`,
    [s.channel.id, encryptSecret(t.config.secretsKey, 'rotated', ctxFor(s.channel.id, 'webhook_secret'))]);
  assert.equal((await send(s.secret)).statusCode, 401, 'the old secret, still in the cache, is refused');
  assert.equal((await send('rotated')).statusCode, 200);

  await t.db.query(`UPDATE social_channels SET is_active = false WHERE id = $1`, [s.channel.id]);
  const off = await send('rotated');
  assert.ok(off.statusCode >= 400 && off.statusCode < 500, `a switched-off channel takes nothing (got ${off.statusCode})`);
  assert.equal((await stored(s)).length, 2);
});

test('concurrent webhooks of several businesses are written together, each stored once with its job, and each answered with its own outcome', async () => {
  const a = await shop('Shop A');
  const b = await shop('Shop B');
  await postMeta(t.app, metaText(a.pnid, '919822222222', 'warm the cache'), a.secret);
  await postMeta(t.app, metaText(b.pnid, '919822222222', 'warm the cache'), b.secret);
  const before = ingestFor(t.db).commit.batches;
  const bodies = Array.from({ length: 24 }, (_, i) => {
    const s = i % 2 ? b : a;
    return { s, body: metaText(s.pnid, `91983333${String(i % 6).padStart(4, '0')}`, `message ${i}`, { id: newWamid() }) };
  });
  const replay = bodies[0];
  const answers = await Promise.all([...bodies, replay].map(({ s, body }) => postMeta(t.app, body, s.secret)));
  assert.deepEqual(answers.map((r) => r.statusCode), answers.map(() => 200));
  const received = answers.map((r) => r.json().received);
  assert.equal(received.reduce((x, y) => x + y), 24, 'the replay stored nothing new');
  assert.equal(answers.map((r) => r.json().duplicates).reduce((x, y) => x + y), 1);
  assert.ok(ingestFor(t.db).commit.batches - before < answers.length, 'some requests shared a transaction');

  for (const s of [a, b]) {
    const rows = await stored(s);
    assert.equal(rows.length, 13, 'each business sees its own messages only');
    assert.ok(rows.every((m) => m.conversation_id), 'every message is filed in its conversation');
    assert.equal(await queued(s), 13, 'each message queued once');
  }
  const jobs = (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'listener.inbound' AND data->>'business_id' = ANY($1::text[])`,
    [[a.biz.business.id, b.biz.business.id]])).rows[0].n;
  assert.ok(jobs < 26, `a shared transaction queues one job per business for its messages (${jobs} jobs for 26 messages)`);
  const conversations = await withTenant(t.db, a.biz.business.id, (tx) => tx.query<{ unread: number; n: number }>(
    `SELECT v.unread, (SELECT count(*)::int FROM social_messages m WHERE m.conversation_id = v.id) AS n FROM conversations v`));
  assert.ok(conversations.rows.every((c) => c.unread === c.n), 'each conversation counts each of its messages once');
});

test('a request that fails inside a shared transaction fails alone: the others in its batch are stored', async () => {
  const s = await shop();
  const route = { business_id: s.biz.business.id, channel_id: s.channel.id };
  const c = (await cachedChannel(t.db, t.config, route))!;
  const item = (pid: string, type: string | null): IngestItem => ({
    b: route.business_id, c: route.channel_id, v: c.version, pid, from_number: '919844444444', from_e164: '+919844444444', from_user_id: null,
    to_number: null, text: 'hi', type: type as string, metadata: {}, edited_at: null, address: '+919844444444', name: null,
  });
  const commit = ingestFor(t.db).commit;
  const before = commit.batches;
  const [good, bad, alsoGood] = await Promise.allSettled([
    commit.submit([item('good-1', 'text')]),
    commit.submit([item('bad-1', null)]), // no message type: the database refuses it
    commit.submit([item('good-2', 'text')]),
  ]);
  assert.equal(good.status, 'fulfilled');
  assert.equal(alsoGood.status, 'fulfilled');
  assert.equal(bad.status, 'rejected');
  assert.deepEqual((good as PromiseFulfilledResult<any>).value.map((o: any) => o.outcome), ['new']);
  assert.equal(commit.batches - before, 4, 'one shared transaction, then each request alone');
  assert.deepEqual((await stored(s)).map((m) => m.provider_message_id).sort(), ['good-1', 'good-2']);
  assert.equal(await queued(s), 2);
});

test('/metrics shows the inbound backlog: each webhook batch waits as one listener.inbound job until a worker takes it', async () => {
  const s = await shop('Metrics Bakery');
  const waiting = async () => {
    const body = (await t.app.inject('/metrics')).body;
    const m = /^karigar_queue_waiting_jobs\{queue="listener\.inbound"\} (\d+)$/m.exec(body);
    return m ? Number(m[1]) : 0;
  };
  const before = await waiting();
  // This process runs no worker (--role=api): the jobs wait. One at a time, so each is its own batch.
  for (const text of ['2 chocolate cakes please', 'haan']) {
    assert.equal((await postMeta(t.app, metaText(s.pnid, '919822222222', text, { id: newWamid() }), s.secret)).statusCode, 200);
  }
  assert.equal(await waiting(), before + 2);
});
