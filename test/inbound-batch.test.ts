// The background reads inbound messages a batch at a time (one transaction per business): a
// backlog stored while no worker ran is read in order, each message seeing what the earlier ones
// did, across senders and businesses; a message stored without its customer gets the customer
// whose mobile its number is.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildTestApp, eventually, onPostgres, silentLog, type TestApp } from './helpers/app.js';
import { call, newBusiness, newCustomer, newProduct, ok, type Biz } from './helpers/client.js';
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { metaText, newWamid, postMeta } from './helpers/webhooks.js';
import { startRuntime } from '../src/runtime.js';
import { APP_ROLE, withTenant } from '../src/platform/tenancy.js';
import { handleInboundBatch, INBOUND_BATCH } from '../src/modules/social/ordering/ordering.service.js';
import { ingestFor, takeHeldWakeup, type IngestItem } from '../src/modules/social/webhooks/webhooks.ingest.js';

let t: TestApp;
let fake: FakeProvider;
before(async () => {
  fake = await startFakeProvider();
  // An API-only process: webhooks are stored and queued, nothing is read until a worker starts.
  t = await buildTestApp({ role: 'api', env: { META_GRAPH_API_URL: `${fake.url}/meta` } });
});
after(async () => {
  await t.close();
  await fake.close();
});

async function shop(name: string) {
  const biz = await newBusiness(t.app, name);
  const pnid = `pnid-${randomUUID().slice(0, 8)}`;
  const secret = `secret-${randomUUID()}`;
  ok(await call(t.app, 'POST', '/social/channels', { token: biz.token, body: {
    channel_type: 'whatsapp', phone_number: '+919000000001', account_id: pnid, api_key: 'tok', webhook_secret: secret, settings: { provider: 'meta' },
  } }), 201);
  await newProduct(t.app, biz, { name: 'Chocolate cake', price: '650.00', production_steps: [] });
  const say = async (from: string, text: string) => {
    const r = await postMeta(t.app, metaText(pnid, from, text, { id: newWamid(), name: 'Sender' }), secret);
    assert.equal(r.statusCode, 200);
  };
  return { biz, say, pnid, secret };
}

/** Runs `fn` as in a burst: every webhook batch of this process is held. */
async function holding<T>(fn: () => Promise<T>): Promise<T> {
  const commit = ingestFor(t.db).commit;
  const was = commit.holdAbovePerSecond;
  commit.holdAbovePerSecond = -1;
  try {
    return await fn();
  } finally {
    commit.holdAbovePerSecond = was;
  }
}

const get = async (biz: Biz, path: string) => ok(await call(t.app, 'GET', path, { token: biz.token })).data;
const real = (name: string) => readFileSync(new URL(`./fixtures/payloads/real/${name}`, import.meta.url));

test('a backlog read in one go: orders, confirmations and declines in order, per sender and per business', async () => {
  const a = await shop('Batch Bakery A');
  const b = await shop('Batch Bakery B');
  const ravi = await newCustomer(t.app, a.biz, { name: 'Ravi', mobile: '+919876511111' });
  const asha = await newCustomer(t.app, b.biz, { name: 'Asha', mobile: '+919876522222' });
  // Shop A: Ravi orders and confirms, then orders again (a new lead) and declines it; a stranger
  // orders and confirms (no draft: not a customer). Shop B: Asha orders and confirms.
  await a.say(ravi.mobile, 'I want 2 chocolate cakes');
  await a.say('+919812333333', 'send 1 chocolate cake please');
  await b.say(asha.mobile, '3 chocolate cakes for Saturday');
  await a.say(ravi.mobile, 'yes');
  await a.say('+919812333333', 'yes please');
  await b.say(asha.mobile, 'yes');
  await a.say(ravi.mobile, 'also 1 chocolate cake');
  await a.say(ravi.mobile, 'no, cancel that');

  const worker = await startRuntime({ config: t.config, db: t.db, log: silentLog, role: 'worker', pollingIntervalSeconds: 0.5 });
  try {
    await eventually(async () => {
      const unread = await withTenant(t.db, a.biz.business.id, (tx) => tx.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM social_messages WHERE direction = 'inbound' AND intent IS NULL`));
      const unreadB = await withTenant(t.db, b.biz.business.id, (tx) => tx.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM social_messages WHERE direction = 'inbound' AND intent IS NULL`));
      return unread.rows[0].n === 0 && unreadB.rows[0].n === 0;
    }, 20_000, 'the backlog read');

    const draftsA = await get(a.biz, '/sales?status=draft');
    assert.equal(draftsA.length, 1, 'one draft for Ravi, none for the stranger');
    assert.equal(draftsA[0].customer_id, ravi.id);
    const leadsA = await get(a.biz, '/leads');
    const raviLeads = leadsA.filter((l: any) => l.sender_key === ravi.mobile || l.mobile === ravi.mobile);
    assert.deepEqual(raviLeads.map((l: any) => l.status).sort(), ['converted', 'new']);
    const converted = raviLeads.find((l: any) => l.status === 'converted');
    assert.equal(converted.sale_id, draftsA[0].id);
    const open = raviLeads.find((l: any) => l.status === 'new');
    assert.equal(open.metadata.pending_order, undefined, 'the second order was declined');
    const stranger = leadsA.find((l: any) => l.mobile === '+919812333333');
    assert.equal(stranger.status, 'new');
    assert.ok(stranger.metadata.pending_order, 'a stranger\'s confirmation keeps the order pending');

    const draftsB = await get(b.biz, '/sales?status=draft');
    assert.equal(draftsB.length, 1);
    assert.equal(draftsB[0].customer_id, asha.id);

    // One acknowledgement per order, each in its conversation, each sent.
    const acks = (await get(a.biz, '/social/messages?limit=200')).filter((m: any) => m.direction === 'outbound');
    assert.equal(acks.length, 3);
    await eventually(async () => (await get(a.biz, '/social/messages?limit=200'))
      .filter((m: any) => m.direction === 'outbound').every((m: any) => m.status === 'sent'), 20_000, 'acknowledgements sent');
    const conversations = await get(a.biz, '/social/conversations');
    const raviConversation = conversations.find((v: any) => v.address === ravi.mobile);
    assert.equal(raviConversation.lead_id, open.id, 'the conversation shows the sender\'s current lead');
  } finally {
    await worker.stop();
  }
});

test('a message stored without its customer is read as the customer\'s whose mobile its number is', async () => {
  const s = await shop('Lookup Bakery');
  const priya = await newCustomer(t.app, s.biz, { name: 'Priya', mobile: '+919876533333' });
  await s.say(priya.mobile, 'I want 2 chocolate cakes');
  await s.say(priya.mobile, 'yes');
  // As if the webhook had left the lookup to the background.
  await withTenant(t.db, s.biz.business.id, async (tx) => {
    await tx.query(`UPDATE social_messages SET customer_id = NULL WHERE direction = 'inbound'`);
    await tx.query(`UPDATE conversations SET customer_id = NULL`);
  });
  const worker = await startRuntime({ config: t.config, db: t.db, log: silentLog, role: 'worker', pollingIntervalSeconds: 0.5 });
  try {
    const [draft] = await eventually(async () => {
      const d = await get(s.biz, '/sales?status=draft');
      return d.length ? d : undefined;
    }, 20_000, 'the draft of the confirmed order');
    assert.equal(draft.customer_id, priya.id);
    const inbound = (await get(s.biz, '/social/messages?limit=200')).filter((m: any) => m.direction === 'inbound');
    assert.ok(inbound.every((m: any) => m.customer_id === priya.id));
    const [conversation] = await get(s.biz, '/social/conversations');
    assert.equal(conversation.customer_id, priya.id);
    const ack = await eventually(async () => (await get(s.biz, '/social/messages?limit=200')).find((m: any) => m.direction === 'outbound'),
      20_000, 'the acknowledgement');
    assert.equal(ack.customer_id, priya.id);
  } finally {
    await worker.stop();
  }
});

test('a job holding more messages than one read is read whole, in order, a read at a time', async () => {
  const s = await shop('Batch Bakery C');
  const ravi = await newCustomer(t.app, s.biz, { name: 'Ravi', mobile: '+919876533333' });
  // Ravi orders, chats for more than one read's worth, then confirms: the confirmation is read in a
  // later read than the order, and still finds it pending.
  const texts = ['I want 2 chocolate cakes', ...Array.from({ length: INBOUND_BATCH }, (_, i) => `thanks ${i}`), 'yes'];
  // Sent 20 at a time: within a group, the order they were stored in is their order.
  for (let i = 0; i < texts.length; i += 20) await Promise.all(texts.slice(i, i + 20).map((text) => s.say(ravi.mobile, text)));
  const events = (await withTenant(t.db, s.biz.business.id, (tx) => tx.query<{ id: number }>(
    `SELECT id FROM events WHERE type = 'message.received' ORDER BY id`))).rows.map((e) => e.id);
  assert.equal(events.length, texts.length);
  // One job for all of them, as a webhook batch queues one for its messages.
  await handleInboundBatch({ db: t.db, config: t.config, queue: t.runtime!.queue, log: silentLog },
    [{ business_id: s.biz.business.id, event_ids: events, type: 'message.received' }]);
  const unread = await withTenant(t.db, s.biz.business.id, (tx) => tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM social_messages WHERE direction = 'inbound' AND intent IS NULL`));
  assert.equal(unread.rows[0].n, 0);
  const drafts = await get(s.biz, '/sales?status=draft');
  assert.equal(drafts.length, 1, 'the confirmation found the order pending');
  assert.equal(drafts[0].customer_id, ravi.id);
});

test('in a burst messages are held, answered once durable, then filed and read in the order they came', async () => {
  const s = await shop('Burst Bakery');
  const ravi = await newCustomer(t.app, s.biz, { name: 'Ravi', mobile: '+919876544444' });
  const commit = ingestFor(t.db).commit;
  const post = async (from: string, text: string, id = newWamid()) => {
    const r = await postMeta(t.app, metaText(s.pnid, from, text, { id, name: 'Sender' }), s.secret);
    assert.equal(r.statusCode, 200);
    return { id, answer: r.json() };
  };
  const inbound = async () => (await withTenant(t.db, s.biz.business.id, (tx) => tx.query<{ provider_message_id: string; conversation_id: string | null; intent: string | null; at: string }>(
    `SELECT provider_message_id, conversation_id, intent, created_at::text AS at FROM social_messages WHERE direction = 'inbound' ORDER BY created_at`))).rows;
  const held = async () => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM held_messages WHERE business_id = $1`, [s.biz.business.id])).rows[0].n;

  // A burst: every batch is held.
  const heldBefore = commit.held;
  const order = await holding(async () => {
    const first = await post(ravi.mobile, 'I want 2 chocolate cakes');
    assert.deepEqual(first.answer, { received: 1, duplicates: 0, statuses: 0 });
    assert.equal((await post(ravi.mobile, 'I want 2 chocolate cakes', first.id)).answer.duplicates, 1, 'a replay of a held message is a duplicate');
    await post('+919812355555', 'hello');
    return first;
  });
  assert.ok(commit.held > heldBefore);
  assert.equal(await held(), 2, 'held once each');
  assert.equal((await inbound()).length, 0, 'not filed yet');
  // The burst is over: a replay of the held order is still a duplicate, and Ravi's confirmation
  // is filed at once, before the order it confirms.
  assert.equal((await post(ravi.mobile, 'I want 2 chocolate cakes', order.id)).answer.duplicates, 1, 'a replay after the burst of a message still held');
  const yes = await post(ravi.mobile, 'haan');
  assert.deepEqual((await inbound()).map((m) => m.provider_message_id), [yes.id]);

  // The inbound step (as a worker would take the queued jobs): the held messages are filed first.
  const jobs = (await t.db.query<{ data: any }>(
    `SELECT data FROM pgboss.job WHERE name = 'listener.inbound' AND data->>'business_id' = $1`, [s.biz.business.id])).rows.map((j) => j.data);
  assert.ok(jobs.some((j) => j.type === 'message.held'), 'holding queued a job for the inbound step');
  await handleInboundBatch({ db: t.db, config: t.config, queue: t.runtime!.queue, log: silentLog }, jobs);
  assert.equal(await held(), 0);
  const rows = await inbound();
  assert.equal(rows.length, 3);
  assert.equal(rows[0].provider_message_id, order.id, 'the held order keeps the time it came, before the confirmation');
  assert.equal(rows.at(-1)!.provider_message_id, yes.id);
  assert.ok(rows.every((m) => m.conversation_id && m.intent), 'every message filed in its conversation and read');
  const drafts = await get(s.biz, '/sales?status=draft');
  assert.equal(drafts.length, 1, 'the confirmation, filed first, was read after the order it confirms');
  assert.equal(drafts[0].customer_id, ravi.id);
  const conversation = (await get(s.biz, `/social/conversations?customer_id=${ravi.id}`))[0];
  assert.equal(conversation.unread, 2);
  assert.equal((await post(ravi.mobile, 'I want 2 chocolate cakes', order.id)).answer.duplicates, 1, 'a replay after filing is a duplicate');
  assert.equal((await inbound()).length, 3);
  // In another burst a replay of the filed order is held again (holding reads no stored message)
  // and answered as received; filing it stops at the stored message's key: stored and read once.
  const events = async () => (await withTenant(t.db, s.biz.business.id, (tx) => tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM events WHERE type = 'message.received'`))).rows[0].n;
  const eventsBefore = await events();
  await holding(async () => assert.equal((await post(ravi.mobile, 'I want 2 chocolate cakes', order.id)).answer.received, 1));
  assert.equal(await held(), 1);
  await handleInboundBatch({ db: t.db, config: t.config, queue: t.runtime!.queue, log: silentLog }, [{ business_id: s.biz.business.id, type: 'message.held' }]);
  assert.equal(await held(), 0);
  assert.equal((await inbound()).length, 3, 'stored once');
  assert.equal(await events(), eventsBefore, 'no second message.received');
  assert.equal((await get(s.biz, '/sales?status=draft')).length, 1, 'read once');
  assert.equal((await get(s.biz, `/social/conversations?customer_id=${ravi.id}`))[0].unread, 2);

  // A channel switched off by another process holds nothing more, whatever this one cached.
  await t.db.query(`UPDATE social_channels SET is_active = false WHERE business_id = $1`, [s.biz.business.id]);
  await holding(async () => {
    const off = await postMeta(t.app, metaText(s.pnid, ravi.mobile, 'one more', { id: newWamid() }), s.secret);
    assert.ok(off.statusCode >= 400 && off.statusCode < 500, `a switched-off channel takes nothing (got ${off.statusCode})`);
  });
  assert.equal(await held(), 0);
  assert.equal((await inbound()).length, 3);
});

test('in a burst one job per business wakes the inbound step while it waits; a message held after it is taken queues the next', async () => {
  const s = await shop('Wakeup Bakery');
  const biz = s.biz.business.id;
  const heldJobs = async () => (await t.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'listener.inbound' AND data->>'business_id' = $1 AND data->>'type' = 'message.held'`, [biz])).rows[0].n;
  const held = async () => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM held_messages WHERE business_id = $1`, [biz])).rows[0].n;
  const filed = async () => (await withTenant(t.db, biz, (tx) => tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM social_messages WHERE direction = 'inbound' AND intent IS NOT NULL`))).rows[0].n;
  const read = () => handleInboundBatch({ db: t.db, config: t.config, queue: t.runtime!.queue, log: silentLog }, [{ business_id: biz, type: 'message.held' }]);

  // Six webhooks, six held batches (one at a time): one job.
  await holding(async () => { for (let i = 0; i < 6; i++) await s.say(`+91981230${String(i).padStart(4, '0')}`, `hello ${i}`); });
  assert.equal(await held(), 6);
  assert.equal(await heldJobs(), 1, 'one job while it waits, not one per batch');
  // The inbound step takes it: all six filed; the next held message queues the next job.
  await read();
  assert.equal(await held(), 0);
  assert.equal(await filed(), 6);
  await holding(() => s.say('+919812300100', 'one more'));
  assert.equal(await heldJobs(), 2, 'a message held after the job was taken queues another');
  await holding(() => s.say('+919812300101', 'and another'));
  assert.equal(await heldJobs(), 2);
  // A job queued a minute ago and never taken (it failed for good, say) does not leave a burst's
  // messages without one: the next held batch queues another.
  await withTenant(t.db, biz, (tx) => tx.query(`UPDATE held_wakeups SET queued_at = now() - interval '61 seconds'`));
  await holding(() => s.say('+919812300102', 'later'));
  assert.equal(await heldJobs(), 3);
  await read();
  assert.equal(await held(), 0);
  assert.equal(await filed(), 9);
});

test('/metrics counts the messages held in a burst (from the database\'s statistics: about, and seconds late)', { skip: onPostgres() ? false : 'PGlite holds nothing outside tests, and keeps no table statistics' }, async () => {
  const s = await shop('Held Metrics Bakery');
  const gauge = async () => {
    const m = /^karigar_held_messages (\d+)$/m.exec((await t.app.inject('/metrics')).body);
    return m ? Number(m[1]) : undefined;
  };
  const before = (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM held_messages`)).rows[0].n;
  const started = Date.now();
  await holding(async () => { for (let i = 0; i < 3; i++) await s.say(`+91981240${String(i).padStart(4, '0')}`, `held ${i}`); });
  await eventually(async () => (await gauge()) === before + 3, 20_000, `karigar_held_messages ${before + 3} (now ${await gauge()})`);
  if (process.env.DEBUG_METRICS) console.log(`the gauge caught up in ${Date.now() - started} ms`);
});

test('the inbound step takes a wakeup only once every holder that saw it has committed, so their messages are filed', { skip: onPostgres() ? false : 'two transactions at once: PostgreSQL only' }, async () => {
  const s = await shop('Wakeup Race Bakery');
  const biz = s.biz.business.id;
  await holding(() => s.say('+919812311000', 'first')); // the wakeup row, and its job
  const ch = (await withTenant(t.db, biz, (tx) => tx.query<{ id: string; version: string }>(`SELECT id, version FROM social_channels`))).rows[0];
  const item = { b: biz, c: ch.id, v: Number(ch.version), pid: newWamid(), from_number: '+919812311001', from_e164: '+919812311001', from_user_id: null,
    to_number: '+919000000001', text: 'held while the step takes the wakeup', type: 'text', metadata: {}, edited_at: null, address: '+919812311001', name: 'Late', r: 0 };
  // A holder that saw the wakeup (so queues no job) and has not committed yet.
  const holder = await (t.db.raw as import('pg').Pool).connect();
  try {
    await holder.query('BEGIN');
    await holder.query(`SET LOCAL ROLE ${APP_ROLE}`);
    const r = await holder.query(`SELECT outcome FROM hold_messages($1::jsonb, ARRAY['listener.inbound']::text[])`, [JSON.stringify([item])]);
    assert.equal(r.rows[0].outcome, 'new');
    let taken = false;
    const taking = takeHeldWakeup(t.db, biz).then(() => { taken = true; });
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(taken, false, 'the step waits for the holder');
    await holder.query('COMMIT');
    await taking;
  } finally {
    holder.release();
  }
  await handleInboundBatch({ db: t.db, config: t.config, queue: t.runtime!.queue, log: silentLog }, [{ business_id: biz, type: 'message.held' }]);
  const left = (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM held_messages WHERE business_id = $1`, [biz])).rows[0].n;
  assert.equal(left, 0, 'the late holder\'s message was filed');
});

test('an edit or a deletion of a message still held in a burst changes that message', async () => {
  const s = await shop('Edit Bakery');
  // The real payloads, for this shop's number; each names a message of its own.
  const payload = (name: string, original: string) => Buffer.from(real(name).toString('utf8')
    .replaceAll('1122334455667', s.pnid).replaceAll('wamid.zzzzzz', original).replaceAll('wamid.yyyyyy', newWamid()));
  await holding(async () => {
    for (const [id, text] of [['wamid.held-edited', 'Text before the edit'], ['wamid.held-deleted', 'Soon gone']]) {
      assert.deepEqual((await postMeta(t.app, metaText(s.pnid, '972987654321', text, { id, name: 'Test Name' }), s.secret)).json(),
        { received: 1, duplicates: 0, statuses: 0 });
    }
  });
  const conversations = async () => (await get(s.biz, '/social/conversations'));
  assert.equal((await conversations()).length, 0, 'held, not yet filed');
  assert.equal((await postMeta(t.app, undefined, s.secret, { raw: payload('whatsapp-edit.json', 'wamid.held-edited') })).statusCode, 200);
  assert.equal((await postMeta(t.app, undefined, s.secret, { raw: payload('whatsapp-revoke.json', 'wamid.held-deleted') })).statusCode, 200);
  const [c] = await conversations();
  const messages = await get(s.biz, `/social/conversations/${c.id}/messages`);
  assert.deepEqual(messages.map((m: any) => [m.provider_message_id, m.message_text, m.edited, m.deleted]).sort(), [
    ['wamid.held-deleted', null, false, true],
    ['wamid.held-edited', 'Text was edited', true, false],
  ]);
  const held = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM held_messages WHERE business_id = $1`, [s.biz.business.id]);
  assert.equal(held.rows[0].n, 0);
});

test('a held message that cannot be filed stays held with the reason, and never holds up the others', async () => {
  const s = await shop('Poison Bakery');
  const channel = (await t.db.query<{ id: string; version: number }>(`SELECT id, version FROM social_channels WHERE business_id = $1`, [s.biz.business.id])).rows[0];
  const item = (pid: string, type: string | null): IngestItem => ({
    b: s.biz.business.id, c: channel.id, v: Number(channel.version), pid, from_number: '+919844455555', from_e164: '+919844455555', from_user_id: null,
    to_number: null, text: 'I want 2 chocolate cakes', type: type as string, metadata: {}, edited_at: null, address: '+919844455555', name: null,
  });
  const commit = ingestFor(t.db).commit;
  const inbound = async () => (await withTenant(t.db, s.biz.business.id, (tx) => tx.query<{ provider_message_id: string; intent: string | null }>(
    `SELECT provider_message_id, intent FROM social_messages WHERE direction = 'inbound' ORDER BY created_at`))).rows;
  const held = async () => (await t.db.query<{ provider_message_id: string; failed: string | null }>(
    `SELECT provider_message_id, failed FROM held_messages WHERE business_id = $1 ORDER BY received_at`, [s.biz.business.id])).rows;
  const jobs = async () => (await t.db.query<{ data: any }>(
    `SELECT data FROM pgboss.job WHERE name = 'listener.inbound' AND data->>'business_id' = $1`, [s.biz.business.id])).rows.map((j) => j.data);
  const deps = { db: t.db, config: t.config, queue: t.runtime!.queue, log: silentLog };

  await holding(async () => {
    // Held together: the one without a message type is refused only when it is filed.
    const outcomes = await Promise.all([commit.submit([item('good-1', 'text')]), commit.submit([item('bad-1', null)]), commit.submit([item('good-2', 'text')])]);
    assert.deepEqual(outcomes.map((o) => o[0].outcome), ['new', 'new', 'new']);
  });
  await handleInboundBatch(deps, await jobs());
  assert.deepEqual((await inbound()).map((m) => m.provider_message_id), ['good-1', 'good-2']);
  assert.ok((await inbound()).every((m) => m.intent === 'order'), 'the others were filed and read');
  const [bad] = await held();
  assert.equal(bad.provider_message_id, 'bad-1');
  assert.match(bad.failed ?? '', /message_type|null/, 'the reason is kept');

  // Later reads file what comes next and leave it alone.
  await holding(async () => {
    await commit.submit([item('good-3', 'text')]);
  });
  await handleInboundBatch(deps, await jobs());
  assert.deepEqual((await inbound()).map((m) => m.provider_message_id), ['good-1', 'good-2', 'good-3']);
  assert.deepEqual((await held()).map((h) => h.provider_message_id), ['bad-1']);
});
