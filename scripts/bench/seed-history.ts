// A history to measure against: a thousand businesses with a million messages and a hundred
// thousand sales already stored, so the bench shows whether cost grows with history.
//
// Seeded once into the database `karigar_bench_history` on the server (about a minute or two) and
// reused while it is there; each bench run works on a copy of it (CREATE DATABASE … TEMPLATE, a
// file copy), so runs never add to it. `tsx scripts/bench/seed-history.ts [url]` seeds it alone;
// BENCH_HISTORY_RESEED=1 drops and seeds it again (after a change to the seed).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/platform/db.js';
import { migrate } from '../../src/platform/migrations.js';
import { seedHistory, type HistorySize } from '../../test/helpers/history.js';

export const HISTORY_DB = 'karigar_bench_history';
const SEED_VERSION = 1;

/** 1,000 × 100 customers (one conversation each) × 10 messages = 1,000,000 messages; one sale per customer = 100,000 sales. */
export const FULL_HISTORY: HistorySize = { businesses: 1000, customersPer: 100, messagesPerConversation: 10, salesPerCustomer: 1 };

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const withDb = (url: string, name: string) => { const u = new URL(url); u.pathname = `/${name}`; return u.toString(); };

/** Makes sure `karigar_bench_history` exists on the server at `url`, seeded; seeds it if not. */
export async function ensureHistory(url: string, log = (s: string) => console.log(s)) {
  const exists = await admin(url, async (c) => (await c.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [HISTORY_DB])).rows.length > 0);
  if (exists && process.env.BENCH_HISTORY_RESEED !== '1') {
    const done = await admin(withDb(url, HISTORY_DB), async (c) =>
      (await c.query(`SELECT 1 FROM pg_tables WHERE tablename = 'bench_history'`)).rows.length > 0
        && (await c.query(`SELECT 1 FROM bench_history WHERE version = $1`, [SEED_VERSION])).rows.length > 0);
    if (done) return;
  }
  await admin(url, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${HISTORY_DB} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${HISTORY_DB}`);
  });
  const started = Date.now();
  log(`   seeding ${HISTORY_DB} (1,000,000 messages, 100,000 sales, 1,000 businesses), once…`);
  const db = await openDatabase({ databaseUrl: withDb(url, HISTORY_DB), poolSize: 2 });
  try {
    await migrate(db);
    await seedHistory(db, FULL_HISTORY);
    await db.exec(`CREATE TABLE bench_history (version int PRIMARY KEY, seeded_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO bench_history (version) VALUES (${SEED_VERSION});`);
    // Written out and frozen now, so every copy starts with settled pages; the statistics are
    // left to autovacuum, as in a live database (the query-plans test covers the unanalysed case).
    await db.exec('VACUUM (FREEZE)');
  } finally {
    await db.close();
  }
  log(`   seeded in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** A scratch copy of the history database (migrated to this checkout), dropped by drop(). */
export async function historyClone(url: string): Promise<{ db: Database; drop(): Promise<void> }> {
  await ensureHistory(url);
  const name = `karigar_scratch_${randomBytes(6).toString('hex')}`;
  // FILE_COPY: a copy of the files, not a replay of every row through the WAL.
  await admin(url, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${HISTORY_DB} STRATEGY FILE_COPY`));
  const db = await openDatabase({ databaseUrl: withDb(url, name), poolSize: 10 });
  await migrate(db);
  return {
    db,
    async drop() {
      await db.close();
      await admin(url, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await ensureHistory(process.argv[2] ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
}
