// The shape every bench section shares: a target database, and rows for the one table
// `npm run bench` prints. A figure means something only beside its reference from the same run,
// so a row carries both, and the ratio between them.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../src/platform/db.js';
import { migrate } from '../../src/platform/migrations.js';
import { testDatabase } from '../../test/helpers/app.js';

/** Where a section runs: the embedded PGlite, or a PostgreSQL server (a scratch database on it). */
export interface Target {
  kind: 'pglite' | 'postgres';
  /** The server's URL (BENCH_DATABASE_URL) when kind is 'postgres'. */
  url?: string;
  label: string;
}

export interface Row {
  /** What was measured, e.g. "ingest req/s, npm start defaults". */
  measure: string;
  /** Karigar's figure, formatted (e.g. "1,480 req/s, p99 62 ms"). */
  karigar: string;
  /** The least possible implementation of the same job, measured in the same run. */
  reference?: string;
  /** karigar ÷ reference (or whichever way round says "how close"), e.g. "0.52×". */
  ratio?: string;
  /** The target for this row, e.g. "≥ 0.5×, p99 ≤ 100 ms". */
  target?: string;
  /** Whether the target was met (undefined when a row has no target). */
  ok?: boolean;
}

export interface Section {
  name: string;
  /** One line on what the section does, printed before it runs. */
  about: string;
  run(target: Target): Promise<Row[]>;
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function percentile(sorted: number[], p: number) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

/**
 * The node flags `npm start` runs the server with (package.json's start script), then
 * BENCH_NODE_ARGS (e.g. --cpu-prof): a bench's Karigar process runs as `npm start` would.
 */
export function startNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const flags = /node((?: --[\w-]+(?:=\S+)?)*) scripts\/start\.mjs/.exec(pkg.scripts.start)?.[1] ?? '';
  return [...flags.split(' '), ...(process.env.BENCH_NODE_ARGS ?? '').split(' ')].filter(Boolean);
}

/**
 * A fresh, migrated database as the service runs on it: on PostgreSQL a scratch database; on PGlite
 * a data directory on disk, as `npm start` opens it (the tests' in-memory PGlite keeps its files in
 * WebAssembly memory, which the service never does).
 */
export async function benchDatabase(target: Target): Promise<{ db: Database; drop(): Promise<void> }> {
  if (target.kind === 'postgres') return testDatabase(target.url!);
  const dir = mkdtempSync(join(tmpdir(), 'karigar-bench-'));
  const db = await openDatabase({ dataDir: join(dir, 'pgdata') });
  await migrate(db);
  return { db, async drop() { await db.close(); rmSync(dir, { recursive: true, force: true }); } };
}

/**
 * CPU time in ms, read from /proc (Linux; user + system, in clock ticks of 10 ms): of one process,
 * or of every PostgreSQL server process on the machine (the bench's server is local). Used to say
 * what a request costs each side, which a rate alone hides when the load generator shares the cores.
 */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Each PostgreSQL server process's CPU so far; `postgresCpuSince` sums what each used since (new ones from 0). */
export function postgresCpu(): Map<number, number> {
  const each = new Map<number, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') each.set(Number(pid), processCpuMs(Number(pid)));
    } catch { /* gone meanwhile */ }
  }
  return each;
}

/** By process, so that a process that exits meanwhile (the last run's connections) does not count against this one. */
export function postgresCpuSince(before: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of postgresCpu()) total += ms - (before.get(pid) ?? 0);
  return total;
}
