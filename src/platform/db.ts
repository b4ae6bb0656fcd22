// One database interface over two engines: embedded PGlite (a real PostgreSQL in WASM) and a
// PostgreSQL server through a pool. The SQL and every caller are the same for both.
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

/** Something SQL can run on: a transaction, or the database outside one. */
export interface Queryable {
  query<T = any>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
}

/** A transaction: queries plus multi-statement scripts (used by migrations). */
export interface TxHandle extends Queryable {
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Runs fn in one transaction: COMMIT when it resolves, ROLLBACK when it throws. `setup`, a
   * parameterless script, runs at the start in the same round trip as BEGIN.
   */
  transaction<T>(fn: (tx: TxHandle) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs a parameterless script of several statements as one transaction in one round trip (the
   * simple protocol); returns the rows of the last statement that returned any. Values must be
   * inlined as literals (see literal()).
   */
  script<T = any>(sql: string): Promise<T[]>;
  close(): Promise<void>;
  /** The raw handle, for libraries that need it (the job queue). */
  readonly raw: PGlite | pg.Pool;
  /** Where recorded events are handed for delivery (set at start-up by the events module). */
  outbox?: Outbox;
}

export interface TransactionOptions {
  setup?: string;
}

/** Delivers events written in a transaction to their listeners (src/platform/events.ts). */
export interface Outbox {
  enqueue(tx: TxHandle, queue: string, data: object, opts?: { startAfter?: Date }): Promise<void>;
  wake(listener: string): void;
}

const INT8 = 20;

/**
 * Hot statements, by their text: on PostgreSQL each connection prepares one the first time it runs
 * it, then binds and executes it, so it is parsed once per connection and planned again only when
 * PostgreSQL finds its generic plan worse than a custom one. Planning was half the database's time
 * per notification. Only fixed texts are registered (the set stays small: every connection keeps
 * each one); test/query-plans.test.ts checks their generic plans. PGlite parses in-process anyway.
 */
const PREPARED = new Map<string, string>();

/** Registers a hot statement (see PREPARED) and returns its text, to run as usual. */
export function prepared(sql: string): string {
  if (!PREPARED.has(sql)) PREPARED.set(sql, `karigar_${PREPARED.size + 1}`);
  return sql;
}

/** Whether this text is a registered hot statement (prepared on PostgreSQL). */
export function isPrepared(sql: string): boolean {
  return PREPARED.has(sql);
}

/** A query for the pg driver: named (prepared per connection) when registered and allowed. */
function pgQuery(sql: string, params: unknown[], prepare: boolean): pg.QueryConfig {
  const name = prepare ? PREPARED.get(sql) : undefined;
  return name ? { name, text: sql, values: params } : { text: sql, values: params };
}

function lastRows<T>(results: { rows?: unknown[]; fields?: unknown[] }[]): T[] {
  for (let i = results.length - 1; i >= 0; i--) if (results[i].fields?.length) return (results[i].rows ?? []) as T[];
  return [];
}

/**
 * A value as an SQL literal for script(): an escape string (E'…'), whose meaning does not depend on
 * standard_conforming_strings. NUL cannot be stored in text and is refused.
 */
export function literal(value: string): string {
  if (value.includes('\0')) throw new Error('NUL in an SQL literal');
  return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * A new PGlite data directory is created (initdb) by a short-lived child process: initdb grows the
 * WebAssembly memory to about 750 MB, which a process never gives back, so the service would carry
 * it until restarted. Opening an existing directory takes about 200 MB.
 */
async function createInChildProcess(dataDir: string): Promise<void> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  const pglite = import.meta.resolve('@electric-sql/pglite');
  const script = `const { PGlite } = await import(${JSON.stringify(pglite)}); const db = await PGlite.create(${JSON.stringify(dataDir)}); await db.close();`;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`creating the database in ${dataDir} failed (exit code ${code})`))));
  });
}

class PGliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  outbox?: Outbox;
  constructor(readonly raw: PGlite) {}

  static async open(dataDir: string | undefined): Promise<PGliteDatabase> {
    if (dataDir) await createInChildProcess(dataDir);
    const db = await PGlite.create(dataDir, {
      // int8 as a JS number and numeric as an exact string, matching the pg driver set-up below.
      parsers: { [INT8]: (v: string) => Number(v) },
      // PostgreSQL's buffer cache lives in the process's WebAssembly memory, which never shrinks;
      // the operating system caches the files as well. 32 MB instead of 128: about 100 MB less resident.
      startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB'],
    });
    return new PGliteDatabase(db);
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<QueryResult<T>> {
    const r = await this.raw.query<T>(sql, params);
    return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
  }

  transaction<T>(fn: (tx: TxHandle) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    return this.raw.transaction(async (tx) => {
      if (opts.setup) await tx.exec(opts.setup);
      return fn({
        async query<R>(sql: string, params: unknown[] = []) {
          const r = await tx.query<R>(sql, params);
          return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
        },
        async exec(sql: string) {
          await tx.exec(sql);
        },
      });
    });
  }

  async exec(sql: string): Promise<void> {
    await this.raw.exec(sql);
  }

  script<T>(sql: string): Promise<T[]> {
    // In-process: the transaction's own BEGIN and COMMIT cost no round trip, and it rolls back cleanly.
    return this.raw.transaction(async (tx) => lastRows<T>(await tx.exec(sql)));
  }

  async close(): Promise<void> {
    if (!this.raw.closed) await this.raw.close();
  }
}

class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  outbox?: Outbox;
  /** `prepare`: hot statements are prepared per connection (see PREPARED). */
  constructor(readonly raw: pg.Pool, private readonly prepare = true) {}

  static open(url: string, max = 10, prepare = true): PostgresDatabase {
    const types = {
      getTypeParser: (oid: number, format?: any) =>
        oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
    };
    const pool = new pg.Pool({ connectionString: url, max, types: types as any });
    // An idle client that loses its server (restart) must not crash the process.
    pool.on('error', () => {});
    return new PostgresDatabase(pool, prepare);
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<QueryResult<T>> {
    const r = await this.raw.query(pgQuery(sql, params, this.prepare));
    return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
  }

  /**
   * Runs work on one pooled client inside a transaction the work opens: on failure it is rolled
   * back (a failed statement leaves it open and aborted), and a client that cannot even roll back
   * is discarded rather than returned to the pool.
   */
  private async onClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.raw.connect();
    let broken = false;
    try {
      return await work(client);
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  transaction<T>(fn: (tx: TxHandle) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const prepare = this.prepare;
    return this.onClient(async (client) => {
      // One simple-protocol message for BEGIN and the set-up: one round trip instead of several.
      await client.query(opts.setup ? `BEGIN; ${opts.setup}` : 'BEGIN');
      const result = await fn({
        async query<R>(sql: string, params: unknown[] = []) {
          const r = await client.query(pgQuery(sql, params, prepare));
          return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
        },
        async exec(sql: string) {
          await client.query(sql);
        },
      });
      await client.query('COMMIT');
      return result;
    });
  }

  async exec(sql: string): Promise<void> {
    await this.raw.query(sql);
  }

  script<T>(sql: string): Promise<T[]> {
    return this.onClient(async (client) => {
      const r: any = await client.query(`BEGIN; ${sql}; COMMIT`);
      return lastRows<T>(Array.isArray(r) ? r : [r]);
    });
  }

  async close(): Promise<void> {
    await this.raw.end();
  }
}

export async function openDatabase(opts: { databaseUrl?: string; dataDir?: string; poolSize?: number; preparedStatements?: boolean }): Promise<Database> {
  if (opts.databaseUrl) return PostgresDatabase.open(opts.databaseUrl, opts.poolSize, opts.preparedStatements ?? true);
  return PGliteDatabase.open(opts.dataDir);
}

/** The database the configuration names: DATABASE_URL, else PGlite in DATA_DIR/pgdata (server, migrate, key rotation). */
export function openConfiguredDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir' | 'databasePreparedStatements'>): Promise<Database> {
  return openDatabase({ databaseUrl: config.databaseUrl, dataDir: join(config.dataDir, 'pgdata'), preparedStatements: config.databasePreparedStatements });
}

/**
 * The same database with at most `max` transactions (and queries) at once: the background's
 * share of the pool, so webhooks and the API always find a free connection. A transaction opened
 * inside one that already holds a place (same async context) does not wait for another.
 */
export function withConcurrencyLimit(db: Database, max: number): Database {
  const holding = new AsyncLocalStorage<true>();
  let active = 0;
  const waiting: (() => void)[] = [];
  const acquire = async () => {
    if (active < max) { active++; return; }
    await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = () => {
    const next = waiting.shift();
    if (next) next(); // the place passes straight on
    else active--;
  };
  const limited = async <T>(work: () => Promise<T>): Promise<T> => {
    if (holding.getStore()) return work();
    await acquire();
    try {
      return await holding.run(true, work);
    } finally {
      release();
    }
  };
  return {
    kind: db.kind,
    raw: db.raw,
    get outbox() { return db.outbox; },
    set outbox(o) { db.outbox = o; },
    query: (sql, params) => limited(() => db.query(sql, params)),
    transaction: (fn, opts) => limited(() => db.transaction(fn, opts)),
    exec: (sql) => limited(() => db.exec(sql)),
    script: (sql) => limited(() => db.script(sql)),
    close: () => db.close(),
  };
}
