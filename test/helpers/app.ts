// buildTestApp(): the real app on a real database — in-memory PGlite, or a fresh database on the
// PostgreSQL server named by TEST_DATABASE_URL (created per test file, dropped afterwards).
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/platform/db.js';
import { migrate } from '../../src/platform/migrations.js';

export interface TestApp {
  app: App;
  db: Database;
  config: Config;
  close(): Promise<void>;
}

export const onPostgres = () => Boolean(process.env.TEST_DATABASE_URL);

/** A fresh, migrated, empty database of the kind this test run is for. */
export async function testDatabase(): Promise<{ db: Database; drop(): Promise<void> }> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    const db = await openDatabase({});
    await migrate(db);
    return { db, drop: () => db.close() };
  }
  const name = `karigar_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(url);
  u.pathname = `/${name}`;
  const db = await openDatabase({ databaseUrl: u.toString(), poolSize: 10 });
  await migrate(db);
  return {
    db,
    async drop() {
      await db.close();
      const a = new pg.Client({ connectionString: url });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    DATA_DIR: join(tmpdir(), 'karigar-test-unused'),
    JWT_SECRET: randomBytes(32).toString('hex'),
    SECRETS_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent',
    ...overrides,
  });
}

export async function buildTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const { db, drop } = await testDatabase();
  const config = testConfig(env);
  const app = await buildApp({ config, db, logger: false });
  await app.ready();
  return {
    app, db, config,
    async close() {
      await app.close();
      await drop();
    },
  };
}
