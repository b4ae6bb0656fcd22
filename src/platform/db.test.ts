// Hot statements are prepared on each PostgreSQL connection (db.ts prepared()): a connection keeps
// the statement, and its plan, across transactions of different businesses — row-level security
// must still pick each business's rows at every execution. And DATABASE_PREPARED_STATEMENTS=false
// (PgBouncer before 1.21) prepares nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openDatabase, prepared, type Database } from './db.js';
import { migrate } from './migrations.js';
import { withTenant } from './tenancy.js';
import { onPostgres, scratchDatabase } from '../../test/helpers/app.js';

const COUNT_CUSTOMERS = prepared(`SELECT count(*)::int AS n, min(name) AS name FROM customers WHERE mobile LIKE $1`);
const A = randomUUID();
const B = randomUUID();
let scratch: { url: string; drop(): Promise<void> } | undefined;

before(async () => {
  if (!onPostgres()) return;
  scratch = await scratchDatabase(process.env.TEST_DATABASE_URL!);
  const db = await openDatabase({ databaseUrl: scratch.url, poolSize: 1 });
  await migrate(db);
  // Written as the owner: business A with one customer, B with three (one with A's number).
  await db.query(`INSERT INTO businesses (id, name) VALUES ($1, 'A'), ($2, 'B')`, [A, B]);
  await db.query(`INSERT INTO customers (business_id, name, mobile) VALUES ($1, 'Asha', '+91900000001'),
    ($2, 'Bina', '+91900000001'), ($2, 'Chitra', '+91900000002'), ($2, 'Devi', '+91900000003')`, [A, B]);
  await db.close();
});

after(async () => { await scratch?.drop(); });

/** One connection (so every transaction reuses what it prepared); the statements it holds. */
async function run(preparedStatements: boolean, work: (db: Database) => Promise<void>): Promise<string[]> {
  const db = await openDatabase({ databaseUrl: scratch!.url, poolSize: 1, preparedStatements });
  try {
    await work(db);
    return (await db.query<{ statement: string }>(`SELECT statement FROM pg_prepared_statements`)).rows.map((r) => r.statement);
  } finally {
    await db.close();
  }
}

test('a prepared hot statement sees only the business of each transaction, however often it ran for another', { skip: !onPostgres() && 'PostgreSQL only (PGlite prepares nothing)' }, async () => {
  const held = await run(true, async (db) => {
    // More than five runs: PostgreSQL may settle on the generic plan, made for no business in particular.
    for (let i = 0; i < 8; i++) {
      const [biz, n, name] = i % 2 ? [B, 3, 'Bina'] : [A, 1, 'Asha'];
      const r = await withTenant(db, biz, (tx) => tx.query(COUNT_CUSTOMERS, ['+9190000000%']));
      assert.deepEqual(r.rows[0], { n, name }, `run ${i}`);
    }
  });
  assert.ok(held.includes(COUNT_CUSTOMERS), 'the connection holds the statement');
});

test('DATABASE_PREPARED_STATEMENTS=false prepares nothing, with the same answers', { skip: !onPostgres() && 'PostgreSQL only (PGlite prepares nothing)' }, async () => {
  const held = await run(false, async (db) => {
    const r = await withTenant(db, B, (tx) => tx.query(COUNT_CUSTOMERS, ['+9190000000%']));
    assert.deepEqual(r.rows[0], { n: 3, name: 'Bina' });
  });
  assert.deepEqual(held, []);
});
