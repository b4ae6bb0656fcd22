// Bench section "send": notifications from the business event to the provider, against a fake
// WhatsApp Cloud API on loopback (its arrival times are what WhatsApp counts).
//
//   latency:   a sale is finalized (the commit), then the time until the provider receives its
//              "sale.created" message; one sale at a time (`npm start` defaults: api + worker).
//   one channel at cap 80: a backlog of notifications is queued by an API-only runtime (nothing
//              sent), then a worker runtime drains it: sends/s at the provider and the most sends
//              inside any sliding second.
//   across channels at cap 1,000: the same with the backlog spread over several businesses.
//   reference: the least possible sender of the same job: a loop POSTing the same requests to the
//              same fake provider, paced by an in-memory token bucket at the same cap, no database.
// Each measure runs reference and Karigar twice, alternately (A B A B), and keeps the best of each.
// BENCH_QUICK=1: smaller backlogs, one round.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Database } from '../../src/platform/db.js';
import { startRuntime } from '../../src/runtime.js';
import { busiestSecond } from '../../src/modules/social/notifications/pace.js';
import { startFakeProvider, type FakeProvider } from '../../test/helpers/fake-provider.js';
import { benchDatabase, fmt, percentile, type Row, type Section, type Target } from './types.js';

const QUICK = process.env.BENCH_QUICK === '1';
const LATENCY_SALES = Number(process.env.BENCH_LATENCY_SALES ?? (QUICK ? 30 : 100));
const ONE_CHANNEL_BACKLOG = Number(process.env.BENCH_SEND_BACKLOG ?? (QUICK ? 160 : 450));
const CHANNELS = QUICK ? 4 : 8;
const ACROSS_BACKLOG = Number(process.env.BENCH_SEND_ACROSS ?? (QUICK ? 400 : 1600));
const ROUNDS = QUICK ? 1 : 2;
const quiet = { info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

interface Shop { token: string; businessId: string; pnid: string; productId: string; customerIds: string[] }

async function api(app: App, method: string, path: string, token: string | undefined, body?: unknown) {
  const r = await app.inject({ method: method as any, url: `/api/v1${path}`, headers: token ? { authorization: `Bearer ${token}` } : {}, payload: body as any });
  if (r.statusCode >= 400) throw new Error(`${method} ${path}: ${r.statusCode} ${r.body}`);
  return r.json();
}

async function openShop(app: App, n: number, cap: number): Promise<Shop> {
  const reg = await api(app, 'POST', '/auth/register', undefined, { business_name: `Bench Bakery ${n}`, name: 'B', email: `bench-${n}-${randomBytes(4).toString('hex')}@example.com`, password: 'bench pass' });
  const pnid = `pnid-bench-${n}-${randomBytes(3).toString('hex')}`;
  await api(app, 'POST', '/social/channels', reg.token, {
    channel_type: 'whatsapp', phone_number: `+9190000${String(10000 + n).slice(-5)}`, account_id: pnid, api_key: 'tok', webhook_secret: 'app-secret',
    settings: { max_per_second: cap, notifications: { 'production.created': false } },
  });
  const product = await api(app, 'POST', '/products', reg.token, { name: 'Cake', price: '100.00' });
  const customerIds = [];
  for (let i = 0; i < 5; i++) customerIds.push((await api(app, 'POST', '/customers', reg.token, { name: `Ravi ${i}`, mobile: `+9198765${String(43210 + i).padStart(5, '0')}` })).id);
  return { token: reg.token, businessId: reg.business.id, pnid, productId: product.id, customerIds };
}

/** Finalizes `count` sales spread over the shops, 16 at a time; their notifications wait in the queue. */
async function queueBacklog(app: App, shops: Shop[], count: number) {
  const drafts: { shop: Shop; id: string }[] = [];
  for (let i = 0; i < count; i++) {
    const shop = shops[i % shops.length];
    const d = await api(app, 'POST', '/sales', shop.token, { customer_id: shop.customerIds[i % shop.customerIds.length], items: [{ product_id: shop.productId, quantity: 1 }] });
    drafts.push({ shop, id: d.id });
  }
  for (let i = 0; i < drafts.length; i += 16) {
    await Promise.all(drafts.slice(i, i + 16).map((d) => api(app, 'POST', `/sales/${d.id}/finalize`, d.shop.token)));
  }
}

interface Drain { sends: number; rate: number; busiest: number; seconds: number; roundTrips?: number }

/**
 * Statements sent to PostgreSQL by this process (each a round trip: node-postgres sends one query
 * and waits for its answer before the next on a connection). While a drain runs, the worker is the
 * only thing in this process that talks to the database, the queue's fetches and completions included.
 */
let statements = 0;
const clientQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements++;
  return (clientQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof clientQuery;

function drainFigures(times: number[], startedAt: number): Drain {
  const sorted = [...times].sort((a, b) => a - b);
  const span = (sorted.at(-1)! - sorted[0]) / 1000;
  return { sends: sorted.length, rate: (sorted.length - 1) / span, busiest: busiestSecond(sorted), seconds: (sorted.at(-1)! - startedAt) / 1000 };
}

/** Karigar: an API-only runtime queues the backlog, then a worker runtime drains it. */
async function karigarDrain(db: Database, config: Config, fake: FakeProvider, shops: Shop[], count: number): Promise<Drain> {
  const producer = await startRuntime({ config, db, log: quiet, role: 'api' });
  const app = await buildApp({ config, db, logger: false });
  try {
    await queueBacklog(app, shops, count);
  } finally {
    await app.close();
    await producer.stop();
  }
  fake.clear();
  const startedAt = Date.now();
  const before = statements;
  const worker = await startRuntime({ config, db, log: quiet, role: 'worker', pollingIntervalSeconds: 2 });
  try {
    const until = Date.now() + 300_000;
    while (fake.requests.length < count) {
      if (Date.now() > until) throw new Error(`only ${fake.requests.length} of ${count} sends arrived`);
      await sleep(20);
    }
  } finally {
    await worker.stop();
  }
  const roundTrips = db.kind === 'postgres' ? (statements - before) / count : undefined;
  return { ...drainFigures(fake.requests.map((r) => r.receivedAt), startedAt), roundTrips };
}

/** The least possible sender: the same POSTs, paced per channel by an in-memory bucket, no database. */
async function referenceDrain(fake: FakeProvider, pnids: string[], count: number, cap: number): Promise<Drain> {
  fake.clear();
  const interval = 1000 / cap;
  const next = new Map<string, number>();
  const startedAt = Date.now();
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < count; i++) {
    const pnid = pnids[i % pnids.length];
    const slot = Math.max(next.get(pnid) ?? 0, performance.now());
    next.set(pnid, slot + interval);
    const wait = slot - performance.now();
    if (wait >= 1) await sleep(wait);
    while (inFlight.size >= 32) await Promise.race(inFlight);
    const p = fetch(`${fake.url}/meta/${pnid}/messages`, {
      method: 'POST', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
      body: JSON.stringify({ messaging_product: 'whatsapp', recipient_type: 'individual', to: '+919876543210', type: 'text', text: { preview_url: false, body: `Thank you for your order INV-${i}` } }),
    }).then((r) => r.text()).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return drainFigures(fake.requests.map((r) => r.receivedAt), startedAt);
}

/** A B A B: the best of each by rate. */
async function alternate(rounds: number, reference: () => Promise<Drain>, karigar: () => Promise<Drain>) {
  let ref: Drain | undefined;
  let ours: Drain | undefined;
  const all: Drain[] = [];
  for (let i = 0; i < rounds; i++) {
    const r = await reference();
    if (!ref || r.rate > ref.rate) ref = r;
    const k = await karigar();
    all.push(k);
    if (!ours || k.rate > ours.rate) ours = k;
  }
  // The cap is judged on every round, not the best one.
  return { ref: ref!, ours: ours!, busiest: Math.max(...all.map((k) => k.busiest)) };
}

async function run(target: Target): Promise<Row[]> {
  const fake = await startFakeProvider();
  const { db, drop } = await benchDatabase(target);
  const config = loadConfig({
    DATA_DIR: '/tmp/karigar-bench', JWT_SECRET: randomBytes(32).toString('hex'), SECRETS_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent', META_GRAPH_API_URL: `${fake.url}/meta`,
  });
  try {
    // Latency, one sale at a time, api and worker in one process (`npm start`).
    const runtime = await startRuntime({ config, db, log: quiet, role: 'all', pollingIntervalSeconds: 2 });
    const app = await buildApp({ config, db, logger: false });
    const [solo] = [await openShop(app, 0, 80)];
    // The commit lies between the finalize's start and its answer: measured from the answer (the
    // send can beat it: 0) and, as an upper bound, from the start.
    const latencies: number[] = [];
    const bounds: number[] = [];
    for (let i = 0; i < LATENCY_SALES; i++) {
      const d = await api(app, 'POST', '/sales', solo.token, { customer_id: solo.customerIds[0], items: [{ product_id: solo.productId, quantity: 1 }] });
      const asked = Date.now();
      const final = await api(app, 'POST', `/sales/${d.id}/finalize`, solo.token);
      const committed = Date.now();
      for (;;) {
        const r = fake.requests.find((x) => String(x.body?.text?.body ?? '').includes(final.invoice_no));
        if (r) { latencies.push(Math.max(0, r.receivedAt - committed)); bounds.push(r.receivedAt - asked); break; }
        await sleep(1);
      }
    }
    latencies.sort((a, b) => a - b);
    bounds.sort((a, b) => a - b);
    const across: Shop[] = [];
    for (let i = 1; i <= CHANNELS; i++) across.push(await openShop(app, i, 1000));
    const one = await openShop(app, 100, 80);
    await app.close();
    await runtime.stop();

    const capped = await alternate(ROUNDS, () => referenceDrain(fake, [one.pnid], ONE_CHANNEL_BACKLOG, 80), () => karigarDrain(db, config, fake, [one], ONE_CHANNEL_BACKLOG));
    const open = await alternate(ROUNDS, () => referenceDrain(fake, across.map((s) => s.pnid), ACROSS_BACKLOG, 1000), () => karigarDrain(db, config, fake, across, ACROSS_BACKLOG));

    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    return [
      { measure: `event → provider latency (${latencies.length} sales, one at a time; from the finalize's answer)`,
        karigar: `p50 ${p50} ms, p99 ${p99} ms (from its start: p50 ${percentile(bounds, 50)} ms, p99 ${percentile(bounds, 99)} ms)`,
        target: 'p50 ≤ 50 ms, p99 ≤ 250 ms', ok: p50 <= 50 && p99 <= 250 },
      { measure: `one channel at cap 80: ${ONE_CHANNEL_BACKLOG} queued by an API-only runtime, drained by a worker`,
        karigar: `${fmt(capped.ours.rate, 1)} sends/s (drained in ${fmt(capped.ours.seconds, 1)} s)`, reference: `${fmt(capped.ref.rate, 1)} sends/s`,
        ratio: `${fmt(capped.ours.rate / capped.ref.rate, 2)}×`, target: '≥ 80 sends/s', ok: capped.ours.rate >= 80 },
      { measure: 'one channel at cap 80: most sends in any sliding second at the provider (every round)',
        karigar: String(capped.busiest), reference: String(capped.ref.busiest), ratio: `${fmt(capped.busiest / 80, 2)}× the cap`, target: '≤ 80', ok: capped.busiest <= 80 },
      { measure: `${CHANNELS} channels at cap 1,000: ${ACROSS_BACKLOG} queued, drained by a worker`,
        karigar: `${fmt(open.ours.rate, 0)} sends/s (drained in ${fmt(open.ours.seconds, 1)} s)`, reference: `${fmt(open.ref.rate, 0)} sends/s`,
        ratio: `${fmt(open.ours.rate / open.ref.rate, 2)}×`, target: '≥ 300 sends/s', ok: open.ours.rate >= 300 },
      ...(open.ours.roundTrips === undefined ? [] : [{
        measure: `${CHANNELS} channels: round trips to the database per send (the best round; its start-up and the queue's fetches and completions included)`,
        karigar: fmt(open.ours.roundTrips, 2) }]),
    ];
  } finally {
    await drop();
    await fake.close();
  }
}

export const send: Section = { name: 'send', about: 'event → provider latency; sends/s and the worst sliding second under a cap, beside an in-memory paced sender', run };
