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
import { startRuntime, type ProcessRole, type Runtime } from '../../src/runtime.js';
import { suiteLogStream, suiteRuntimeLog } from './suite-log.js';

export interface TestApp {
  app: App;
  db: Database;
  config: Config;
  runtime?: Runtime;
  close(): Promise<void>;
}

export const silentLog = { info() {}, warn() {}, error() {} };

export const onPostgres = () => Boolean(process.env.TEST_DATABASE_URL);

/**
 * A fresh, migrated, empty database: in-memory PGlite, or a scratch database created on the
 * server at `url` (default TEST_DATABASE_URL) and dropped by drop(). `migrated: false` leaves it
 * bare, for tests of an upgrade.
 */
export async function testDatabase(url = process.env.TEST_DATABASE_URL, opts: { migrated?: boolean } = {}): Promise<{ db: Database; drop(): Promise<void> }> {
  const migrated = opts.migrated ?? true;
  if (!url) {
    const db = await openDatabase({});
    if (migrated) await migrate(db);
    return { db, drop: () => db.close() };
  }
  const scratch = await scratchDatabase(url);
  const db = await openDatabase({ databaseUrl: scratch.url, poolSize: 10 });
  if (migrated) await migrate(db);
  return {
    db,
    async drop() {
      await db.close();
      await scratch.drop();
    },
  };
}

/**
 * An empty database created on the server at `url`: its own URL, and drop() (which ends any
 * connection still open to it). For tests and benches that run Karigar against a fresh database.
 */
export async function scratchDatabase(url: string, prefix = 'karigar_scratch'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    DATA_DIR: join(tmpdir(), 'karigar-test-unused'),
    JWT_SECRET: randomBytes(32).toString('hex'),
    SECRETS_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent',
    // Every test request comes from 127.0.0.1: per-address limits are tested where they are set low.
    LOGIN_ATTEMPTS_PER_ADDRESS: '1000000',
    REGISTRATIONS_PER_ADDRESS: '1000000',
    ...overrides,
  });
}

/**
 * The app on a fresh database. With `role`, the durable queue starts too (as `npm start` does):
 * 'all' delivers events in this process, 'api' only queues them.
 */
export async function buildTestApp(opts: { env?: Record<string, string>; role?: ProcessRole } = {}): Promise<TestApp> {
  const { db, drop } = await testDatabase();
  // Under `npm test` every app logs at debug level into the suite log, which is checked for secrets.
  const logStream = suiteLogStream();
  const config = testConfig({ ...(logStream ? { LOG_LEVEL: 'debug' } : {}), ...opts.env });
  const runtime = opts.role
    ? await startRuntime({ config, db, log: suiteRuntimeLog() ?? silentLog, role: opts.role, pollingIntervalSeconds: 0.5 })
    : undefined;
  const app = await buildApp({ config, db, logger: logStream ? undefined : false, logStream });
  await app.ready();
  return {
    app, db, config, runtime,
    async close() {
      await app.close();
      await runtime?.stop();
      await drop();
    },
  };
}

/** Polls until check() returns a truthy value (or throws after timeoutMs). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
