// Bench section "drain": how fast the background reads a backlog of inbound messages.
//
// A backlog the size of a 30-second ingest load (30 s × 1,500 webhooks/s = 45,000 messages; every
// fifth an order, from 500 senders of whom 100 are known customers) is stored the way the webhook
// stores it — message, conversation, message.received event and a queue job per 16 — then the inbound
// worker starts and the time until every message is read is measured. The sends it queues (the
// acknowledgements) are left waiting: sending is the "send" section's.
//
// Reference, same run: the least possible background for the same job — one connection claims 100
// unread messages, runs the same intent detection, and writes their intents and one lead per order
// message in one set-based statement each.
//
// On PostgreSQL the shop lives in a copy of the history database (a million messages and a hundred
// thousand sales across a thousand businesses, seed-history.ts) unless BENCH_HISTORY=0.
// BENCH_DRAIN_MESSAGES sets the backlog (BENCH_QUICK=1: 3,000); BENCH_VERBOSE=1 prints the batches.
import { randomBytes } from 'node:crypto';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/platform/db.js';
import { LISTENERS } from '../../src/platform/events.js';
import { Queue } from '../../src/platform/queue.js';
import { SEND_QUEUE } from '../../src/modules/social/notifications/notifier.js';
import { handleInboundBatch, INBOUND_BATCH } from '../../src/modules/social/ordering/ordering.service.js';
import { detectIntent } from '../../src/modules/social/intent/intent.js';
import { historyClone } from './seed-history.js';
import { benchDatabase, fmt, type Row, type Section, type Target } from './types.js';

const QUICK = process.env.BENCH_QUICK === '1';
const MESSAGES = Number(process.env.BENCH_DRAIN_MESSAGES ?? (QUICK ? 3000 : 45_000));
const SENDERS = 500;
const KNOWN = 100;
const ROUNDS = 2;
const quiet = { info() {}, warn() {}, error() {} };

const PRODUCTS = ['Chocolate cake', 'Vanilla cake', 'Samosa', 'Kaju barfi', 'Gulab jamun', 'Paneer puff'];
const ORDERS = ['2 chocolate cake please', 'I want 3 samosa for tomorrow', 'send 1 kaju barfi', 'need 12 gulab jamun on saturday',
  '1 cake for friday', '4 paneer puff please', 'yes, 2 vanilla cake please'];
const CHATTER = ['hello', 'what time do you open?', 'thanks!', 'ok', 'is it eggless?', 'yes', 'where is the shop', 'no', '👍', 'can I pay by UPI?'];

interface Shop { businessId: string; channelId: string; senders: string[]; customerIds: (string | null)[] }

async function setUpShop(app: App, round: string): Promise<Shop> {
  const api = async (method: string, path: string, token: string | undefined, body?: unknown) => {
    const r = await app.inject({ method: method as any, url: `/api/v1${path}`, headers: token ? { authorization: `Bearer ${token}` } : {}, payload: body as any });
    if (r.statusCode >= 400) throw new Error(`${method} ${path}: ${r.statusCode} ${r.body}`);
    return r.json();
  };
  const tag = randomBytes(4).toString('hex');
  const reg = await api('POST', '/auth/register', undefined, { business_name: `Drain ${round}`, name: 'B', email: `drain-${tag}@example.com`, password: 'bench pass' });
  const channel = await api('POST', '/social/channels', reg.token, {
    channel_type: 'whatsapp', phone_number: '+919000000009', account_id: `pnid-drain-${tag}`, api_key: 'tok', webhook_secret: 'app-secret',
  });
  for (const name of PRODUCTS) await api('POST', '/products', reg.token, { name, price: '100.00' });
  const senders = Array.from({ length: SENDERS }, (_, i) => `+9197${String(10_000_000 + i)}`);
  const customerIds: (string | null)[] = [];
  for (let i = 0; i < SENDERS; i++) {
    customerIds.push(i < KNOWN ? (await api('POST', '/customers', reg.token, { name: `Customer ${i}`, mobile: senders[i] })).id : null);
  }
  return { businessId: reg.business.id, channelId: channel.id, senders, customerIds };
}

/**
 * Stores the backlog as the webhook would (as the superuser, set-based, for speed): each sender's
 * conversation, the messages filed in it, a message.received event per message and, with `queue`,
 * its job on listener.inbound.
 */
async function storeBacklog(db: Database, shop: Shop, queue: Queue | null) {
  await db.query(
    `INSERT INTO conversations (business_id, channel_id, address, name, customer_id)
     SELECT $1, $2, s, 'Sender', c FROM unnest($3::text[], $4::uuid[]) AS x(s, c) ON CONFLICT DO NOTHING`,
    [shop.businessId, shop.channelId, shop.senders, shop.customerIds]);
  const CHUNK = 5000;
  for (let start = 0; start < MESSAGES; start += CHUNK) {
    const n = Math.min(CHUNK, MESSAGES - start);
    const idx = Array.from({ length: n }, (_, k) => start + k);
    // Senders spread (not i % 500: with every fifth an order, only a fifth of them would order).
    const from = idx.map((i) => shop.senders[(Math.imul(i, 2654435761) >>> 0) % SENDERS]);
    const texts = idx.map((i) => (i % 5 === 0 ? ORDERS[(i / 5) % ORDERS.length] : CHATTER[i % CHATTER.length]));
    const events = await db.query<{ id: number }>(
      `WITH m AS (
         INSERT INTO social_messages (business_id, channel_id, direction, status, from_number, to_number, message_text, message_type,
           customer_id, conversation_id, provider_message_id, metadata, created_at)
         SELECT $1, $2, 'inbound', 'received', x.s, '+919000000009', x.t, 'text', v.customer_id, v.id, 'wamid.drain.' || gen_random_uuid(),
           jsonb_build_object('profile_name', 'Sender', 'channel_type', 'whatsapp'), clock_timestamp() + x.k * interval '1 microsecond'
         FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS x(s, t, k)
         JOIN conversations v ON v.business_id = $1 AND v.channel_id = $2 AND v.address = x.s
         ORDER BY x.k
         RETURNING id, customer_id, created_at)
       INSERT INTO events (business_id, type, payload)
       SELECT $1, 'message.received', jsonb_build_object('message_id', id, 'channel_id', $2::uuid, 'customer_id', customer_id) FROM m ORDER BY created_at
       RETURNING id`,
      [shop.businessId, shop.channelId, from, texts]);
    if (queue) {
      // As the webhook queues them: one job per batch it stores (about 16 messages under load).
      const jobs = [];
      for (let k = 0; k < events.rows.length; k += 16) {
        jobs.push({ name: 'listener.inbound', data: { business_id: shop.businessId, event_ids: events.rows.slice(k, k + 16).map((e) => e.id), type: 'message.received' } });
      }
      await queue.boss.insert(jobs);
    }
  }
  // In the order the messages came, as jobs queued one webhook at a time are fetched (those
  // inserted together share one created_on, and would be fetched in the order of their ids).
  if (queue) {
    await db.query(
      `UPDATE pgboss.job SET created_on = now() - interval '1 hour' + ((data->'event_ids'->>0)::bigint % 1000000000) * interval '1 microsecond'
       WHERE name = 'listener.inbound' AND state = 'created' AND data->>'business_id' = $1`, [shop.businessId]);
  }
  await db.query(
    `UPDATE conversations v SET unread = v.unread + s.n, last_message_at = s.at, last_inbound_at = s.at, updated_at = now()
     FROM (SELECT conversation_id, count(*)::int AS n, max(created_at) AS at FROM social_messages
           WHERE business_id = $1 AND direction = 'inbound' AND intent IS NULL GROUP BY conversation_id) s
     WHERE v.business_id = $1 AND v.id = s.conversation_id`, [shop.businessId]);
}

async function unread(db: Database, businessId: string): Promise<number> {
  return (await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM social_messages WHERE business_id = $1 AND intent IS NULL AND from_number IS NOT NULL`, [businessId])).rows[0].n;
}

async function waitDrained(db: Database, businessId: string, started: number): Promise<number> {
  for (;;) {
    if ((await unread(db, businessId)) === 0) return (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Karigar's background: the inbound listener as the worker runs it, on a backlog of queued jobs. */
async function drainKarigar(db: Database, app: App, config: ReturnType<typeof loadConfig>, round: string) {
  const shop = await setUpShop(app, round);
  // The queue as a worker process starts it, minus the sending (the acknowledgements wait).
  const queue = await Queue.start(db, { pollingIntervalSeconds: 0.5, onError: (err) => console.error('   queue error:', err.message) });
  for (const name of [...Object.keys(LISTENERS), SEND_QUEUE]) await queue.define(name);
  db.outbox = { enqueue: async (tx, name, data) => { await queue.sendInTx(tx, name, data); }, wake: () => {} };
  await storeBacklog(db, shop, queue);
  const started = Date.now();
  let busy = 0;
  let batches = 0;
  let firstBatchAt = 0;
  await queue.workBatch('listener.inbound', async (jobs) => {
    const t = Date.now();
    firstBatchAt ||= t;
    await handleInboundBatch({ db, config, queue, log: quiet }, jobs);
    busy += Date.now() - t;
    batches++;
  }, { batchSize: INBOUND_BATCH });
  const seconds = await waitDrained(db, shop.businessId, started);
  if (process.env.BENCH_VERBOSE) console.log(`   ${batches} batches, ${busy} ms in the handler, first batch after ${firstBatchAt - started} ms`);
  await queue.stop();
  db.outbox = undefined;
  const counts = (await db.query<{ leads: number; acks: number; drafts: number }>(
    `SELECT (SELECT count(*)::int FROM leads WHERE business_id = $1) AS leads,
       (SELECT count(*)::int FROM social_messages WHERE business_id = $1 AND direction = 'outbound') AS acks,
       (SELECT count(*)::int FROM sales WHERE business_id = $1) AS drafts`, [shop.businessId])).rows[0];
  return { seconds, rate: MESSAGES / seconds, ...counts };
}

/** The least possible background: claim 100 unread, detect, one UPDATE and one INSERT per batch. */
async function drainReference(db: Database, app: App, round: string) {
  const shop = await setUpShop(app, round);
  await storeBacklog(db, shop, null);
  const catalog = (await db.query<{ id: string; name: string }>(`SELECT id, name FROM products WHERE business_id = $1`, [shop.businessId])).rows
    .map((p) => ({ id: p.id, name: p.name, aliases: [] }));
  const started = Date.now();
  for (;;) {
    const n = await db.transaction(async (tx) => {
      const batch = (await tx.query<{ id: string; from_number: string; message_text: string; channel_id: string }>(
        `SELECT id, from_number, message_text, channel_id FROM social_messages
         WHERE business_id = $1 AND direction = 'inbound' AND intent IS NULL LIMIT 100 FOR UPDATE SKIP LOCKED`, [shop.businessId])).rows;
      if (!batch.length) return 0;
      const read = batch.map((m) => ({ m, r: detectIntent(m.message_text, catalog) }));
      await tx.query(
        `UPDATE social_messages m SET intent = u.intent FROM unnest($2::uuid[], $3::text[]) AS u(id, intent)
         WHERE m.business_id = $1 AND m.id = u.id`, [shop.businessId, read.map((x) => x.m.id), read.map((x) => x.r.intent)]);
      const orders = read.filter((x) => x.r.intent === 'order');
      if (orders.length) {
        await tx.query(
          `INSERT INTO leads (business_id, channel_id, sender_key, mobile, source, metadata)
           SELECT DISTINCT ON (s) $1, $2, s, s, 'whatsapp', jsonb_build_object('items', i) FROM unnest($3::text[], $4::jsonb[]) AS x(s, i)
           ON CONFLICT (business_id, sender_key) WHERE status IN ('new', 'contacted', 'qualified')
           DO UPDATE SET metadata = excluded.metadata, updated_at = now()`,
          [shop.businessId, shop.channelId, orders.map((x) => x.m.from_number), orders.map((x) => JSON.stringify(x.r.items))]);
      }
      return batch.length;
    });
    if (!n) break;
  }
  const seconds = (Date.now() - started) / 1000;
  return { seconds, rate: MESSAGES / seconds };
}

async function run(target: Target): Promise<Row[]> {
  const useHistory = target.kind === 'postgres' && process.env.BENCH_HISTORY !== '0';
  const { db, drop } = useHistory ? await historyClone(target.url!) : await benchDatabase(target);
  const config = loadConfig({
    DATA_DIR: '/tmp/karigar-bench', JWT_SECRET: randomBytes(32).toString('hex'), SECRETS_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent',
    REGISTRATIONS_PER_ADDRESS: '1000000',
  });
  const app = await buildApp({ config, db, logger: false });
  try {
    const karigar: Awaited<ReturnType<typeof drainKarigar>>[] = [];
    const reference: Awaited<ReturnType<typeof drainReference>>[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      karigar.push(await drainKarigar(db, app, config, `karigar ${i}`));
      console.log(`   round ${i + 1}: Karigar ${fmt(karigar[i].rate)} msg/s (${fmt(karigar[i].seconds, 1)} s)`);
      reference.push(await drainReference(db, app, `reference ${i}`));
      console.log(`   round ${i + 1}: reference ${fmt(reference[i].rate)} msg/s (${fmt(reference[i].seconds, 1)} s)`);
    }
    const k = karigar.reduce((a, b) => (b.rate > a.rate ? b : a));
    const r = reference.reduce((a, b) => (b.rate > a.rate ? b : a));
    const where = useHistory ? ', beside 1M stored messages' : '';
    return [{
      measure: `inbound drain, ${fmt(MESSAGES)} queued messages (30 s of ingest at 1,500/s${QUICK ? ', quick' : ''})${where}`,
      karigar: `${fmt(k.rate)} msg/s, backlog read in ${fmt(k.seconds, 1)} s (${fmt(k.leads)} leads, ${fmt(k.acks)} acks, ${fmt(k.drafts)} drafts)`,
      reference: `${fmt(r.rate)} msg/s (${fmt(r.seconds, 1)} s)`,
      ratio: `${fmt(k.rate / r.rate, 2)}×`,
      target: '≥ 500 msg/s',
      ok: k.rate >= 500,
    }];
  } finally {
    await app.close();
    await drop();
  }
}

export const drain: Section = { name: 'drain', about: 'how fast the background reads a 30-second backlog of inbound messages', run };
