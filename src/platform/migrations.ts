// Numbered SQL files in migrations/, applied in order, each in its own transaction, once.
// An advisory lock lets several processes start at once against one server.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from './db.js';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');
const LOCK_KEY = 74_110_001; // arbitrary, constant: "karigar migrations"

export function migrationFiles(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort();
}

export async function migrate(db: Database, log: (msg: string) => void = () => {}): Promise<string[]> {
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
  });
  for (const name of migrationFiles()) {
    const sql = readFileSync(join(MIGRATIONS_DIR, name), 'utf8');
    await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE name = $1', [name]);
      if (done.rows.length) return;
      await tx.exec(sql);
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
      applied.push(name);
      log(`applied migration ${name}`);
    });
  }
  return applied;
}

export async function pendingMigrations(db: Database): Promise<string[]> {
  const r = await db.query<{ name: string }>(
    `SELECT name FROM schema_migrations`,
  ).catch(() => ({ rows: [] as { name: string }[] }));
  const have = new Set(r.rows.map((x) => x.name));
  return migrationFiles().filter((f) => !have.has(f));
}
