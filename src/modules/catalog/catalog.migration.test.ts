// Upgrading a database that already holds duplicate product names (made before names had to be
// unique) never fails: the oldest of each name stays active, the later ones are archived.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testDatabase } from '../../../test/helpers/app.js';
import { migrate, migrationFiles, MIGRATIONS_DIR } from '../../platform/migrations.js';

/** An empty database on the engine under test, with nothing migrated. */
const emptyDatabase = () => testDatabase(undefined, { migrated: false });

test('0005 archives the later of duplicate product names and then applies cleanly', async () => {
  const { db, drop } = await emptyDatabase();
  try {
    // The schema as it was before 0005, applied the way migrate() applies it.
    await db.exec(`CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    for (const name of migrationFiles().filter((f) => f < '0005')) {
      await db.transaction(async (tx) => {
        await tx.exec(readFileSync(join(MIGRATIONS_DIR, name), 'utf8'));
        await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
      });
    }
    const shop = randomUUID();
    const other = randomUUID();
    await db.query(`INSERT INTO businesses (id, name) VALUES ($1, 'Sweet Crumbs'), ($2, 'Other')`, [shop, other]);
    const ids: Record<string, string> = {};
    const rows: [string, string, string, string][] = [
      ['first', shop, 'Chocolate cake', '2026-01-01'],
      ['second', shop, 'chocolate  Cake', '2026-01-02'],
      ['third', shop, 'Chocolate cake', '2026-01-03'],
      ['ladoo', shop, 'Ladoo', '2026-01-02'],
      ['theirs', other, 'Chocolate cake', '2026-01-05'],
    ];
    for (const [key, business, name, at] of rows) {
      const r = await db.query<{ id: string }>(
        `INSERT INTO products (business_id, name, price, created_at) VALUES ($1, $2, 100, $3) RETURNING id`, [business, name, at]);
      ids[key] = r.rows[0].id;
    }

    const applied = await migrate(db);
    assert.ok(applied.includes('0005_corrections.sql'), applied.join(', '));

    const after = await db.query<{ id: string; archived: boolean }>(`SELECT id, archived_at IS NOT NULL AS archived FROM products`);
    const archived = Object.fromEntries(after.rows.map((r) => [r.id, r.archived]));
    assert.deepEqual(Object.fromEntries(Object.entries(ids).map(([k, id]) => [k, archived[id]])),
      { first: false, second: true, third: true, ladoo: false, theirs: false });
    // And the rule holds from now on.
    await assert.rejects(db.query(`INSERT INTO products (business_id, name, price) VALUES ($1, 'CHOCOLATE CAKE', 1)`, [shop]), /products_active_name/);
  } finally {
    await drop();
  }
});
