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

export const HISTORY_DB = 'karigar_bench_history';
const SEED_VERSION = 1;

export interface HistorySize { businesses: number; customersPer: number; messagesPerConversation: number; salesPerCustomer: number }
/** 1,000 × 100 customers (one conversation each) × 10 messages = 1,000,000 messages; one sale per customer = 100,000 sales. */
export const FULL_HISTORY: HistorySize = { businesses: 1000, customersPer: 100, messagesPerConversation: 10, salesPerCustomer: 1 };

/**
 * Stores a history in an open, migrated database (as the superuser: row-level security does not
 * apply): businesses, each with a WhatsApp channel, customers with one conversation each, a log of
 * messages in both directions already read, sales, and converted leads. Set-based, in one transaction.
 */
export async function seedHistory(db: Database, size: HistorySize, tag = 'History') {
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO businesses (id, name) SELECT gen_random_uuid(), $2 || ' shop ' || i FROM generate_series(1, $1::int) i`,
      [size.businesses, tag]);
    await tx.query(
      `INSERT INTO social_channels (business_id, channel_type, phone_number, account_id)
       SELECT id, 'whatsapp', '+9180' || lpad(n::text, 8, '0'), 'pnid-' || lower($1) || '-' || n
       FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM businesses WHERE name LIKE $1 || ' shop %') b`, [tag]);
    await tx.query(
      `INSERT INTO channel_routes (channel_type, address, business_id, channel_id)
       SELECT 'whatsapp', account_id, business_id, id FROM social_channels WHERE account_id LIKE 'pnid-' || lower($1) || '-%'`, [tag]);
    await tx.query(
      `INSERT INTO customers (business_id, name, mobile, created_at)
       SELECT b.id, 'Customer ' || c, '+9198' || lpad((b.n * 1000 + c)::text, 8, '0'), now() - c * interval '1 day'
       FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM businesses WHERE name LIKE $1 || ' shop %') b, generate_series(1, $2::int) c`,
      [tag, size.customersPer]);
    await tx.query(
      `INSERT INTO conversations (business_id, channel_id, address, name, customer_id, last_message_at, last_inbound_at)
       SELECT c.business_id, ch.id, c.mobile, c.name, c.id, now() - interval '1 day', now() - interval '1 day'
       FROM customers c JOIN social_channels ch ON ch.business_id = c.business_id
       JOIN businesses b ON b.id = c.business_id WHERE b.name LIKE $1 || ' shop %'`, [tag]);
    // Odd messages inbound (read long ago), even ones the shop's answers; spread over the last year.
    await tx.query(
      `INSERT INTO social_messages (business_id, channel_id, direction, status, from_number, to_number, message_text, customer_id,
         conversation_id, intent, provider_message_id, created_at, updated_at)
       SELECT v.business_id, v.channel_id, CASE WHEN k % 2 = 1 THEN 'inbound' ELSE 'outbound' END,
         CASE WHEN k % 2 = 1 THEN 'received' ELSE 'sent' END,
         CASE WHEN k % 2 = 1 THEN v.address END, CASE WHEN k % 2 = 1 THEN '+919000000000' ELSE v.address END,
         'history message ' || k, v.customer_id, v.id, CASE WHEN k % 2 = 1 THEN 'other' END,
         'wamid.' || lower($1) || '.' || v.id || '.' || k, t, t
       FROM conversations v JOIN businesses b ON b.id = v.business_id, generate_series(1, $2::int) k,
         LATERAL (SELECT now() - interval '2 days' - ((k * 37 + abs(hashtext(v.id::text)) % 365) % 365) * interval '1 day' AS t) ts
       WHERE b.name LIKE $1 || ' shop %'`, [tag, size.messagesPerConversation]);
    await tx.query(
      `INSERT INTO sales (business_id, customer_id, status, invoice_no, total, source, created_at, finalized_at)
       SELECT c.business_id, c.id, 'final', 'H-' || k || '-' || c.id, 100, 'pos', c.created_at, c.created_at
       FROM customers c JOIN businesses b ON b.id = c.business_id, generate_series(1, $2::int) k WHERE b.name LIKE $1 || ' shop %'`,
      [tag, size.salesPerCustomer]);
    await tx.query(
      `INSERT INTO leads (business_id, channel_id, name, mobile, sender_key, source, status, customer_id, created_at)
       SELECT v.business_id, v.channel_id, v.name, v.address, v.address, 'whatsapp', 'converted', v.customer_id, now() - interval '30 days'
       FROM conversations v JOIN businesses b ON b.id = v.business_id WHERE b.name LIKE $1 || ' shop %'`, [tag]);
  });
}

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
