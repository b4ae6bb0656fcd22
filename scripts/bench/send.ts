// Bench section "send": event → provider latency and notification throughput, measured against a
// fake WhatsApp Cloud API on loopback.
//
//   latency:    a sale is finalized (the commit), then the time until the provider receives its
//               "sale.created" message; sales one after another, so each is measured alone.
//   throughput: many sales finalized at once; sends per second reaching the provider, with the
//               channel's cap at the WhatsApp default (80/s) and raised (1000/s).
import { randomBytes } from 'node:crypto';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startRuntime } from '../../src/runtime.js';
import { startFakeProvider } from '../../test/helpers/fake-provider.js';
import { testDatabase } from '../../test/helpers/app.js';
import { withTenant } from '../../src/platform/tenancy.js';
import { fmt, type Row, type Section, type Target } from './types.js';

const LATENCY_SALES = Number(process.env.BENCH_LATENCY_SALES ?? 100);
const BURST_SALES = Number(process.env.BENCH_BURST_SALES ?? 300);
const quiet = { info() {}, warn() {}, error() {} };

function pct(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function run(target: Target): Promise<Row[]> {
  const url = target.url;
  const fake = await startFakeProvider();
  const { db, drop } = await testDatabase(url ?? '');
  const config = loadConfig({
    DATA_DIR: '/tmp/karigar-bench', JWT_SECRET: randomBytes(32).toString('hex'), SECRETS_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent', META_GRAPH_API_URL: `${fake.url}/meta`,
  });
  const runtime = await startRuntime({ config, db, log: quiet, role: 'all', pollingIntervalSeconds: 2 });
  const app = await buildApp({ config, db, logger: false });
  const api = async (method: string, path: string, token: string | undefined, body?: unknown) => {
    const r = await app.inject({ method: method as any, url: `/api/v1${path}`, headers: token ? { authorization: `Bearer ${token}` } : {}, payload: body as any });
    if (r.statusCode >= 400) throw new Error(`${method} ${path}: ${r.statusCode} ${r.body}`);
    return r.json();
  };

  const reg = await api('POST', '/auth/register', undefined, { business_name: 'Bench Bakery', name: 'B', email: `bench-${Date.now()}@example.com`, password: 'bench pass' });
  const token = reg.token;
  const channel = await api('POST', '/social/channels', token, {
    channel_type: 'whatsapp', phone_number: '+919000000009', account_id: 'pnid-bench', api_key: 'tok', webhook_secret: 'app-secret',
    settings: { max_per_second: 1000, notifications: { 'production.created': false } },
  });
  const product = await api('POST', '/products', token, { name: 'Cake', price: '100.00' });
  const customer = await api('POST', '/customers', token, { name: 'Ravi', mobile: '+919876543210' });
  const draft = () => api('POST', '/sales', token, { customer_id: customer.id, items: [{ product_id: product.id, quantity: 1 }] });
  const arrived = (invoice: string) => fake.requests.find((r) => String(r.body?.text?.body ?? '').includes(invoice));

  // Latency, one sale at a time.
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_SALES; i++) {
    const d = await draft();
    const final = await api('POST', `/sales/${d.id}/finalize`, token);
    const committed = Date.now();
    for (;;) {
      const r = arrived(final.invoice_no);
      if (r) { latencies.push(r.receivedAt - committed); break; }
      await new Promise((res) => setTimeout(res, 1));
    }
  }
  latencies.sort((a, b) => a - b);

  // Throughput under a cap.
  const burst = async (cap: number) => {
    await api('PATCH', `/social/channels/${channel.id}`, token, { settings: { max_per_second: cap } });
    const drafts = [];
    for (let i = 0; i < BURST_SALES; i++) drafts.push(await draft());
    fake.clear();
    const start = Date.now();
    await Promise.all(drafts.map((d) => api('POST', `/sales/${d.id}/finalize`, token)));
    const finalized = Date.now();
    while (fake.requests.length < BURST_SALES) await new Promise((res) => setTimeout(res, 5));
    const times = fake.requests.map((r) => r.receivedAt);
    const perSecond = new Map<number, number>();
    for (const t of times) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
    const seconds = (Math.max(...times) - start) / 1000;
    // The cap is counted per one-second slot in the database; each send records its slot.
    await new Promise((res) => setTimeout(res, 300));
    const slots = await withTenant(db, reg.business.id, (tx) => tx.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM social_messages WHERE direction = 'outbound' AND status = 'sent'
         AND created_at >= to_timestamp($1 / 1000.0) GROUP BY metadata->>'send_slot'`, [start]));
    return {
      cap, sends: BURST_SALES, seconds, rate: BURST_SALES / seconds, finalizeSeconds: (finalized - start) / 1000,
      peak: Math.max(...perSecond.values()), peakSlot: Math.max(...slots.rows.map((r) => r.n)),
    };
  };
  const capped = await burst(80);
  const open = await burst(1000);

  await app.close();
  await runtime.stop();
  await drop();
  await fake.close();

  return [
    { measure: `event → provider latency (${latencies.length} sales, one at a time)`, karigar: `p50 ${pct(latencies, 50)} ms, p99 ${pct(latencies, 99)} ms`,
      target: 'p50 ≤ 50 ms, p99 ≤ 250 ms', ok: pct(latencies, 50) <= 50 && pct(latencies, 99) <= 250 },
    ...[capped, open].map((b) => ({
      measure: `${b.sends} sends to one channel, cap ${b.cap}/s`,
      karigar: `${fmt(b.rate, 1)} sends/s; busiest rate-cap slot ${b.peakSlot}, busiest wall-clock second ${b.peak}`,
    })),
  ];
}

export const send: Section = { name: 'send', about: 'event → provider latency, and sends/s to one channel under a cap', run };
