// One database interface over two engines: embedded PGlite (a real PostgreSQL in WASM) and a
// PostgreSQL server through a pool. The SQL and every caller are the same for both.
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

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
  /** Runs fn in one transaction: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(fn: (tx: TxHandle) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
  /** The raw handle, for libraries that need it (the job queue). */
  readonly raw: PGlite | pg.Pool;
  /** Where recorded events are handed for delivery (set at start-up by the events module). */
  outbox?: Outbox;
}

/** Delivers events written in a transaction to their listeners (src/platform/events.ts). */
export interface Outbox {
  enqueue(tx: TxHandle, queue: string, data: object, opts?: { startAfter?: Date }): Promise<void>;
  wake(listener: string): void;
}

const INT8 = 20;

class PGliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  outbox?: Outbox;
  constructor(readonly raw: PGlite) {}

  static async open(dataDir: string | undefined): Promise<PGliteDatabase> {
    // int8 as a JS number and numeric as an exact string, matching the pg driver set-up below.
    const db = await PGlite.create(dataDir, { parsers: { [INT8]: (v: string) => Number(v) } });
    return new PGliteDatabase(db);
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<QueryResult<T>> {
    const r = await this.raw.query<T>(sql, params);
    return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
  }

  transaction<T>(fn: (tx: TxHandle) => Promise<T>): Promise<T> {
    return this.raw.transaction(async (tx) =>
      fn({
        async query<R>(sql: string, params: unknown[] = []) {
          const r = await tx.query<R>(sql, params);
          return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
        },
        async exec(sql: string) {
          await tx.exec(sql);
        },
      }),
    );
  }

  async exec(sql: string): Promise<void> {
    await this.raw.exec(sql);
  }

  async close(): Promise<void> {
    if (!this.raw.closed) await this.raw.close();
  }
}

class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  outbox?: Outbox;
  constructor(readonly raw: pg.Pool) {}

  static open(url: string, max = 10): PostgresDatabase {
    const types = {
      getTypeParser: (oid: number, format?: any) =>
        oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
    };
    const pool = new pg.Pool({ connectionString: url, max, types: types as any });
    // An idle client that loses its server (restart) must not crash the process.
    pool.on('error', () => {});
    return new PostgresDatabase(pool);
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<QueryResult<T>> {
    const r = await this.raw.query(sql, params as any[]);
    return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
  }

  async transaction<T>(fn: (tx: TxHandle) => Promise<T>): Promise<T> {
    const client = await this.raw.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn({
        async query<R>(sql: string, params: unknown[] = []) {
          const r = await client.query(sql, params as any[]);
          return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
        },
        async exec(sql: string) {
          await client.query(sql);
        },
      });
      await client.query('COMMIT');
      return result;
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

  async exec(sql: string): Promise<void> {
    await this.raw.query(sql);
  }

  async close(): Promise<void> {
    await this.raw.end();
  }
}

export async function openDatabase(opts: { databaseUrl?: string; dataDir?: string; poolSize?: number }): Promise<Database> {
  if (opts.databaseUrl) return PostgresDatabase.open(opts.databaseUrl, opts.poolSize);
  return PGliteDatabase.open(opts.dataDir);
}
