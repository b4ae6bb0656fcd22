// Bench section "crash": a real Karigar process (`node dist/server.js` when built, else tsx
// src/server.ts) takes a stream of sale finalizes (each queues a notification), is killed with
// SIGKILL in the middle of it, and is started again. Measured: the time from the restart until
// every committed notification (every sale that is finalized in the database) has reached the
// fake provider, and the duplicates (messages that reached it twice: only sends in flight at the
// kill may). The least possible figure for "nothing lost" is 0 s after the process is up again.
// BENCH_QUICK=1: a shorter stream; BENCH_LOG=1: the Karigar process's log on stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scratchDatabase } from '../../test/helpers/app.js';
import { startFakeProvider } from '../../test/helpers/fake-provider.js';
import { fmt, startNodeFlags, type Row, type Section, type Target } from './types.js';

const QUICK = process.env.BENCH_QUICK === '1';
const SALES = Number(process.env.BENCH_CRASH_SALES ?? (QUICK ? 120 : 300));
const KILL_AFTER_MS = Number(process.env.BENCH_CRASH_KILL_AFTER_MS ?? (QUICK ? 1500 : 3000));
const root = new URL('../..', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as any).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function startKarigar(env: Record<string, string>): ChildProcess {
  const compiled = join(root, 'dist', 'server.js');
  const args = [...startNodeFlags(), ...(existsSync(compiled) ? [compiled] : ['--import', 'tsx', join(root, 'src', 'server.ts')])];
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (d) => { if (process.env.BENCH_LOG) process.stderr.write(d); });
  return child;
}

async function waitReady(base: string, child: ChildProcess, timeoutMs = 120_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Karigar exited with ${child.exitCode} before it was ready`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) return;
    } catch { /* not listening yet */ }
    if (Date.now() > until) throw new Error('Karigar did not get ready');
    await sleep(50);
  }
}

async function run(target: Target): Promise<Row[]> {
  const fake = await startFakeProvider();
  const dataDir = mkdtempSync(join(tmpdir(), 'karigar-crash-'));
  let scratch: { url: string; drop(): Promise<void> } | undefined;
  let child: ChildProcess | undefined;
  try {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', META_GRAPH_API_URL: `${fake.url}/meta`,
      JWT_SECRET: randomBytes(32).toString('hex'), SECRETS_KEY: randomBytes(32).toString('hex'),
      LOGIN_ATTEMPTS_PER_ADDRESS: '1000000', REGISTRATIONS_PER_ADDRESS: '1000000', DATABASE_URL: '',
    };
    if (target.url) {
      scratch = await scratchDatabase(target.url, 'karigar_crash');
      env.DATABASE_URL = scratch.url;
    }
    child = startKarigar(env);
    await waitReady(base, child);

    const call = async (method: string, path: string, token?: string, body?: unknown) => {
      const r = await fetch(`${base}/api/v1${path}`, {
        method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await r.text();
      if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };
    const reg = await call('POST', '/auth/register', undefined, { business_name: 'Crash Bakery', name: 'C', email: `crash-${Date.now()}@example.com`, password: 'crash pass' });
    const token = reg.token;
    await call('POST', '/social/channels', token, {
      channel_type: 'whatsapp', phone_number: '+919000000077', account_id: 'pnid-crash', api_key: 'tok', webhook_secret: 'app-secret',
      settings: { max_per_second: 1000, notifications: { 'production.created': false } },
    });
    const product = await call('POST', '/products', token, { name: 'Cake', price: '100.00' });
    const customer = await call('POST', '/customers', token, { name: 'Ravi', mobile: '+919876543210' });
    const drafts: string[] = [];
    for (let i = 0; i < SALES; i++) drafts.push((await call('POST', '/sales', token, { customer_id: customer.id, items: [{ product_id: product.id, quantity: 1 }] })).id);
    fake.clear();

    // The stream: 8 finalizes at a time until the kill.
    let next = 0;
    let killed = false;
    const stream = async () => {
      while (!killed && next < drafts.length) {
        const id = drafts[next++];
        await call('POST', `/sales/${id}/finalize`, token).catch(() => undefined);
      }
    };
    const streams = Array.from({ length: 8 }, stream);
    await sleep(KILL_AFTER_MS);
    child.kill('SIGKILL');
    const killedAt = Date.now();
    killed = true;
    await Promise.allSettled(streams);
    await new Promise((res) => (child!.exitCode !== null || child!.signalCode ? res(undefined) : child!.once('exit', res)));
    const atKill = fake.requests.length;

    const restartedAt = Date.now();
    child = startKarigar(env);
    await waitReady(base, child);
    const readyAfter = (Date.now() - restartedAt) / 1000;
    // Committed: every sale the database has finalized, whether or not its answer got out.
    const finalized = new Map<string, string>();
    for (const id of drafts.slice(0, next)) {
      const s = await call('GET', `/sales/${id}`, token);
      if (s.invoice_no) finalized.set(id, s.invoice_no);
    }
    const invoices = new Set(finalized.values());
    const arrived = () => {
      const seen = new Map<string, number>();
      for (const r of fake.requests) {
        const m = /INV-\d+/.exec(String(r.body?.text?.body ?? ''));
        if (m && invoices.has(m[0])) seen.set(m[0], (seen.get(m[0]) ?? 0) + 1);
      }
      return seen;
    };
    let allAt: number | undefined;
    const until = Date.now() + 240_000;
    while (Date.now() < until) {
      if (arrived().size === invoices.size) { allAt = Date.now(); break; }
      await sleep(50);
    }
    await sleep(1000); // a late duplicate still counts
    const seen = arrived();
    const duplicates = [...seen.values()].reduce((n, c) => n + c - 1, 0);
    // A duplicate is fine only if its first copy had gone out before the kill (its outcome was
    // not recorded yet: in flight).
    const firstAt = new Map<string, number>();
    for (const r of fake.requests) {
      const m = /INV-\d+/.exec(String(r.body?.text?.body ?? ''));
      if (m && !firstAt.has(m[0])) firstAt.set(m[0], r.receivedAt);
    }
    const inFlightOnly = [...seen.entries()].every(([inv, c]) => c === 1 || firstAt.get(inv)! <= killedAt);
    const recovery = allAt === undefined ? undefined : (allAt - restartedAt) / 1000;
    return [
      {
        measure: `kill -9 after ${fmt(KILL_AFTER_MS / 1000, 1)} s of finalizes (${invoices.size} committed, ${atKill} sent before the kill), restart: every committed notification at the provider`,
        karigar: recovery === undefined ? `${seen.size} of ${invoices.size} after 240 s` : `${fmt(recovery, 1)} s after the restart (up after ${fmt(readyAfter, 1)} s)`,
        reference: `${fmt(readyAfter, 1)} s (up again)`, ratio: recovery === undefined ? '' : `+${fmt(recovery - readyAfter, 1)} s`,
        target: '≤ 30 s', ok: recovery !== undefined && recovery <= 30,
      },
      { measure: 'duplicates after the kill (only sends in flight at the kill may repeat)', karigar: `${duplicates}${duplicates ? (inFlightOnly ? ', each first sent before the kill' : ', some first sent after the kill') : ''}`,
        target: 'only sends in flight', ok: inFlightOnly },
    ];
  } finally {
    if (child && child.exitCode === null && !child.signalCode) {
      child.kill('SIGTERM');
      await new Promise((res) => { child!.once('exit', res); setTimeout(res, 10_000).unref(); });
    }
    await scratch?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    await fake.close();
  }
}

export const crash: Section = { name: 'crash', about: 'kill -9 during a stream of finalizes, restart: time until every committed notification reached the provider, duplicates', run };
