// Bench section "ingest": signed Meta WhatsApp webhooks, 32 keep-alive connections, 500 senders,
// every fifth message an order, for a fixed time, against
//   - the least possible receiver of the same job (reference-receiver.mjs, its own process, as
//     Karigar is): node:http, raw body, HMAC-SHA256 check, one INSERT … ON CONFLICT DO NOTHING,
//     answer 200 (on PGlite in its process; on PostgreSQL via a pool of 10, as Karigar's);
//   - Karigar as its own process (`node dist/server.js`, as `npm start` runs it), with the defaults
//     (api and worker in one process) and with --role=api. It logs at its default level, info (two
//     request lines a webhook), to /dev/null; BENCH_LOG_LEVEL sets another.
// Each run starts with WARMUP seconds of the same load, not measured (every Karigar run is a new
// process, and the first seconds of one compile its code: a cold run measured 3,500-3,700 req/s
// where the same process took 5,300 warm); its webhooks still count in the exactly-once check.
// Rounds A B A B, best of each. On PostgreSQL each measured run starts from a CHECKPOINT: otherwise
// a run pays for the WAL and dirty pages the run before left (a timed checkpoint every 5 minutes,
// and full-page writes after it) — measured, the reference's rounds fell 4,614 → 3,764 → 3,394
// req/s in a row, and 3,741-4,295 with a checkpoint before each. Afterwards every acknowledged webhook must be stored exactly once;
// Karigar's peak RSS is read from /proc (VmHWM).
//
// BENCH_INGEST_SECONDS (default 10) sets the length of a run, BENCH_INGEST_WARMUP (default 3) its
// warm-up; BENCH_QUICK=1 makes them 3 s and 1 s, and one round.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { metaText } from '../../src/modules/social/webhooks/samples.js';
import { signMeta } from '../../src/modules/social/webhooks/signatures.js';
import { scratchDatabase } from '../../test/helpers/app.js';
import { startFakeProvider } from '../../test/helpers/fake-provider.js';
import { fmt, percentile, postgresCpu, postgresCpuSince, processCpuMs, startNodeFlags, type Row, type Section, type Target } from './types.js';

const SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? (process.env.BENCH_QUICK ? 3 : 10));
const WARMUP = Number(process.env.BENCH_INGEST_WARMUP ?? (process.env.BENCH_QUICK ? 1 : 3));
const CONNECTIONS = 32;
const SENDERS = 500;
const ROUNDS = process.env.BENCH_QUICK ? 1 : 2;
const root = new URL('../..', import.meta.url).pathname;

/** CPU per acknowledged webhook, in µs: the server's process, PostgreSQL's, and the bench's own (the load generator, and the reference receiver when it is the one measured). */
interface Cpu { server: number; postgres: number; bench: number }
interface Run { rps: number; p50: number; p99: number; acked: number; sent: number; failed: number; acks: string[]; cpu: Cpu }

/** Drives `url` with signed webhooks for WARMUP + SECONDS, measuring the last SECONDS; the ids of all acknowledged messages are kept. */
export async function load(url: string, pnid: string, secret: string, serverPid?: number): Promise<Run> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const target = new URL(url);
  const latencies: number[] = [];
  const acks: string[] = [];
  let sent = 0;
  let failed = 0;
  let acked = 0;
  let measuring = false;
  const tag = randomBytes(4).toString('hex');
  const end = Date.now() + (WARMUP + SECONDS) * 1000;
  const post = (n: number) => new Promise<void>((resolve) => {
    const sender = `9198${String(10_000_000 + (n % SENDERS)).padStart(8, '0')}`;
    const text = n % 5 === 0 ? 'I want 2 chocolate cakes' : `hello, message ${n}`;
    const id = `wamid.bench${tag}${n}`;
    const raw = Buffer.from(JSON.stringify(metaText(pnid, sender, text, { id, name: `Sender ${n % SENDERS}` })));
    const counted = measuring;
    const started = performance.now();
    const req = http.request({
      agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': raw.length, 'x-hub-signature-256': signMeta(raw, secret) },
    }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) {
          acks.push(id);
          if (counted) { acked++; latencies.push(performance.now() - started); }
        } else failed++; // warm-up or not: every refusal is reported
        resolve();
      });
    });
    req.on('error', () => { failed++; resolve(); });
    req.end(raw);
  });
  let cpu0 = { server: 0, postgres: new Map<number, number>(), bench: process.cpuUsage() };
  let started = 0;
  // The measured part: requests sent from here on, the CPU used from here on.
  const measure = setTimeout(() => {
    measuring = true;
    cpu0 = { server: serverPid ? processCpuMs(serverPid) : 0, postgres: postgresCpu(), bench: process.cpuUsage() };
    started = Date.now();
  }, WARMUP * 1000);
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (Date.now() < end) await post(sent++);
  }));
  clearTimeout(measure);
  const seconds = (Date.now() - started) / 1000;
  const perRequest = (ms: number) => (ms * 1000) / Math.max(1, acked);
  const benchCpu = process.cpuUsage(cpu0.bench);
  const cpu = {
    server: serverPid ? perRequest(processCpuMs(serverPid) - cpu0.server) : NaN,
    postgres: perRequest(postgresCpuSince(cpu0.postgres)),
    bench: perRequest((benchCpu.user + benchCpu.system) / 1000),
  };
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { rps: acked / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), acked, sent, failed, acks, cpu };
}

// ---- the least possible receiver -------------------------------------------------------------

/**
 * The least possible receiver (reference-receiver.mjs) as its own process, measured as Karigar is:
 * its CPU from /proc, the load generator alone in the bench's process. (Run inside the bench's
 * process it shared the load generator's event loop, and its CPU could only be estimated by
 * subtraction: 50 µs a webhook, against 125-155 µs measured as its own process.)
 */
async function reference(target: Target, secret: string): Promise<{ url: string; pid: number; count(): Promise<number>; close(): Promise<void> }> {
  const scratch = target.kind === 'postgres' ? await scratchDatabase(target.url!, 'karigar_bench') : undefined;
  const dir = scratch ? undefined : mkdtempSync(join(tmpdir(), 'bench-ref-'));
  const child = spawn(process.execPath, [join(root, 'scripts/bench/reference-receiver.mjs'), scratch?.url ?? dir!, secret], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b;
      const m = /ready (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the reference receiver exited with ${code} before it was ready`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url: `${url}/webhook`,
    pid: child.pid!,
    count: async () => ((await (await fetch(`${url}/count`)).json()) as { count: number }).count,
    async close() {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
      await scratch?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- Karigar as its own process ---------------------------------------------------------------

interface Karigar { url: string; process: ChildProcess; peakRss(): number; stop(): Promise<void> }

export async function startKarigar(env: Record<string, string>, role: 'all' | 'api'): Promise<Karigar> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, [...startNodeFlags(), join(root, 'dist/server.js'), ...(role === 'api' ? ['--role=api'] : [])], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', ...(process.env.BENCH_LOG_LEVEL ? { LOG_LEVEL: process.env.BENCH_LOG_LEVEL } : {}) }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`Karigar exited with ${child.exitCode} before it was ready`);
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (i > 600) throw new Error('Karigar was not ready within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    process: child,
    peakRss() {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : NaN;
    },
    async stop() {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

async function api(base: string, method: string, path: string, token: string | undefined, body?: unknown) {
  const r = await fetch(`${base}/api/v1${path}`, {
    method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.json() as Promise<any>;
}

/** A database for one Karigar mode: a shop with a WhatsApp channel; stored messages counted afterwards. */
export async function karigarDatabase(target: Target, providerUrl: string) {
  const secrets = { JWT_SECRET: randomBytes(32).toString('hex'), SECRETS_KEY: randomBytes(32).toString('hex') };
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-karigar-'));
  const scratch = target.kind === 'postgres' ? await scratchDatabase(target.url!, 'karigar_bench') : undefined;
  // The acknowledgements the background sends go to a local fake of the WhatsApp Cloud API.
  const env: Record<string, string> = { ...secrets, DATA_DIR: dataDir, META_GRAPH_API_URL: `${providerUrl}/meta`, ...(scratch ? { DATABASE_URL: scratch.url } : {}) };
  const pnid = `pnid-bench-${randomBytes(3).toString('hex')}`;
  const secret = 'bench-app-secret';
  return {
    env, pnid, secret,
    async setUp(k: Karigar) {
      const reg = await api(k.url, 'POST', '/auth/register', undefined, { business_name: 'Bench Bakery', name: 'B', email: `bench-${pnid}@example.com`, password: 'bench pass' });
      await api(k.url, 'POST', '/social/channels', reg.token, { channel_type: 'whatsapp', phone_number: '+919000000009', account_id: pnid, api_key: 'tok', webhook_secret: secret });
      await api(k.url, 'POST', '/products', reg.token, { name: 'Chocolate cake', price: '450.00' });
    },
    /**
     * Inbound messages stored, filed or still held (a held message is as durable; with --role=api no
     * worker files them): all, and how many distinct provider ids (run with the process stopped on PGlite).
     */
    async stored(): Promise<{ rows: number; distinct: number; ids: Set<string> }> {
      const sql = `SELECT provider_message_id AS id FROM social_messages WHERE direction = 'inbound'
                   UNION ALL SELECT provider_message_id FROM held_messages`;
      let ids: string[];
      if (scratch) {
        const c = new pg.Client({ connectionString: scratch.url });
        await c.connect();
        ids = (await c.query(sql)).rows.map((r) => r.id);
        await c.end();
      } else {
        const db = await PGlite.create(join(dataDir, 'pgdata'));
        ids = (await db.query<{ id: string }>(sql)).rows.map((r) => r.id);
        await db.close();
      }
      const set = new Set(ids);
      return { rows: ids.length, distinct: set.size, ids: set };
    },
    async drop() {
      await scratch?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * With the defaults the inbound step gives way to busy webhooks: what was left when the load
 * stopped — listener.inbound jobs waiting (from /metrics) and, on PostgreSQL, messages held in the
 * burst and not yet filed (counted in the database: held messages wait with one job per business)
 * — and how long the process took until no job waited and nothing was held (polled every 100 ms;
 * the last job may still be being read).
 */
async function catchUp(url: string, databaseUrl?: string): Promise<{ waiting: number; held: number; seconds: number }> {
  const waiting = async () => {
    const body = await (await fetch(`${url}/metrics`)).text();
    return Number(/^karigar_queue_waiting_jobs\{queue="listener\.inbound"\} (\d+)$/m.exec(body)?.[1] ?? 0);
  };
  // Held messages counted as the server's superuser (BENCH_DATABASE_URL's), across businesses.
  const db = databaseUrl ? new pg.Client({ connectionString: databaseUrl }) : undefined;
  await db?.connect();
  const held = async () => db ? (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM held_messages WHERE failed IS NULL')).rows[0].n : 0;
  try {
    const started = Date.now();
    const first = { waiting: await waiting(), held: await held() };
    while ((await waiting()) > 0 || (await held()) > 0) {
      if (Date.now() - started > 300_000) throw new Error('the inbound backlog was not read within 5 minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
    return { ...first, seconds: (Date.now() - started) / 1000 };
  } finally {
    await db?.end();
  }
}

/** What one acknowledged webhook costs in CPU, each side, from /proc: the server's process, PostgreSQL's, and the load generator's (the bench's process). */
function cpuRow(target: Target, all: Run, apiOnly: Run, ref: Run): Row {
  const us = (n: number) => `${fmt(n)} µs`;
  const loadGen = (ref.cpu.bench + all.cpu.bench + apiOnly.cpu.bench) / 3;
  const side = (c: Cpu) => target.kind === 'postgres' ? `Node ${us(c.server)} + PostgreSQL ${us(c.postgres)}` : `${us(c.server)} (Node and PGlite, one process)`;
  const total = (c: Cpu) => c.server + (target.kind === 'postgres' ? c.postgres : 0);
  return {
    measure: 'CPU per acknowledged webhook (the best runs above, from /proc)',
    karigar: `defaults: ${side(all.cpu)}; --role=api: ${side(apiOnly.cpu)}; the load generator ${us(loadGen)}`,
    reference: side(ref.cpu),
    ratio: `${fmt(total(ref.cpu) / total(apiOnly.cpu), 2)}× (--role=api)`,
  };
}

/** PostgreSQL's checkpoint, so the next run starts with no other run's WAL or dirty pages to write. */
async function checkpoint(target: Target) {
  if (target.kind !== 'postgres') return;
  const c = new pg.Client({ connectionString: target.url });
  await c.connect();
  try {
    await c.query('CHECKPOINT');
  } finally {
    await c.end();
  }
}

const line = (r: Run) => `${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms`;
const best = (runs: Run[]) => runs.reduce((a, b) => (b.rps > a.rps ? b : a));

async function run(target: Target): Promise<Row[]> {
  // As `npm start` runs it: the compiled server, built first if the sources are newer.
  // @ts-expect-error: plain JavaScript module without types
  const { buildIfStale } = await import('../start.mjs');
  buildIfStale({ quiet: true });

  const secret = 'bench-app-secret';
  const ref = await reference(target, secret);
  const fake = await startFakeProvider();
  const modes = { all: await karigarDatabase(target, fake.url), api: await karigarDatabase(target, fake.url) } as const;
  const runs = { ref: [] as Run[], all: [] as Run[], api: [] as Run[] };
  const rss = { all: 0, api: 0 };
  const backlogs: { waiting: number; held: number; seconds: number }[] = [];
  const refAcks: string[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      await checkpoint(target);
      const r = await load(ref.url.replace('/webhook', '/api/v1/social/webhook/whatsapp'), 'pnid-ref', secret, ref.pid);
      runs.ref.push(r);
      refAcks.push(...r.acks);
      for (const role of ['all', 'api'] as const) {
        const m = modes[role];
        const k = await startKarigar(m.env, role);
        try {
          if (round === 0) await m.setUp(k);
          await checkpoint(target);
          const r2 = await load(`${k.url}/api/v1/social/webhook/whatsapp`, m.pnid, m.secret, k.process.pid);
          runs[role].push(r2);
          if (role === 'all') backlogs.push(await catchUp(k.url, m.env.DATABASE_URL));
          rss[role] = Math.max(rss[role], k.peakRss());
        } finally {
          await k.stop();
        }
      }
    }
    // Every acknowledged webhook stored exactly once.
    const checks: string[] = [];
    let exact = true;
    for (const role of ['all', 'api'] as const) {
      const s = await modes[role].stored();
      const acks = runs[role].flatMap((r) => r.acks);
      const missing = acks.filter((id) => !s.ids.has(id)).length;
      const once = s.rows === s.distinct && missing === 0;
      exact &&= once;
      checks.push(`${role === 'all' ? 'defaults' : '--role=api'}: ${fmt(s.rows)} stored, ${fmt(acks.length)} acknowledged, ${missing} missing, ${s.rows - s.distinct} twice`);
    }
    const refStored = await ref.count();
    const refOk = refStored >= refAcks.length;

    const refBest = best(runs.ref);
    const ratio = (r: Run) => r.rps / refBest.rps;
    const all = best(runs.all);
    const apiOnly = best(runs.api);
    const rounds = (rs: Run[], what = '') => rs.length > 1 ? ` (${what ? `${what} ` : ''}rounds: ${rs.map((r) => fmt(r.rps)).join(', ')})` : '';
    const noisy = rounds(runs.ref, 'reference');
    return [
      { measure: `ingest, ${CONNECTIONS} connections, ${SECONDS} s, npm start defaults (api + worker)`, karigar: line(all) + rounds(runs.all), reference: line(refBest) + noisy,
        ratio: `${fmt(ratio(all), 2)}×`, target: '≥ 0.5×, p99 ≤ 100 ms', ok: ratio(all) >= 0.5 && all.p99 <= 100 },
      { measure: 'the inbound step under that load (npm start defaults): jobs waiting and messages held when it stopped, and the time until all were read',
        karigar: backlogs.map((b) => `${fmt(b.waiting)} jobs${target.kind === 'postgres' ? `, ${fmt(b.held)} held` : ''}, read in ${fmt(b.seconds, 1)} s`).join('; ') },
      { measure: `ingest, ${CONNECTIONS} connections, ${SECONDS} s, --role=api`, karigar: line(apiOnly) + rounds(runs.api), reference: line(refBest),
        ratio: `${fmt(ratio(apiOnly), 2)}×`, target: '≥ 0.9×', ok: ratio(apiOnly) >= 0.9 },
      cpuRow(target, all, apiOnly, refBest),
      { measure: 'peak RSS under the ingest load (VmHWM)', karigar: `${fmt(rss.all)} MB defaults, ${fmt(rss.api)} MB --role=api`,
        target: '≤ 150 MB', ok: Math.max(rss.all, rss.api) <= 150 },
      { measure: 'acknowledged webhooks stored exactly once', karigar: checks.join('; '),
        reference: `${fmt(refStored)} stored, ${fmt(refAcks.length)} acknowledged`, target: 'all, once', ok: exact && refOk },
      { measure: 'ingest requests not acknowledged (errors, refused)', karigar: `${runs.all.reduce((n, r) => n + r.failed, 0)} defaults, ${runs.api.reduce((n, r) => n + r.failed, 0)} --role=api`,
        reference: String(runs.ref.reduce((n, r) => n + r.failed, 0)) },
    ];
  } finally {
    await ref.close();
    await fake.close();
    await modes.all.drop();
    await modes.api.drop();
  }
}

export const ingest: Section = { name: 'ingest', about: `signed Meta webhooks, ${CONNECTIONS} connections, ${SENDERS} senders, every fifth an order, against the least possible receiver`, run };
