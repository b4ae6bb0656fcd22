// The durable job queue: pg-boss 10 over our own Database, so it runs on PGlite and PostgreSQL
// alike. Jobs are inserted inside the business transaction (they commit or roll back with it);
// after commit the in-process worker is woken at once, and polling only covers jobs sent by
// other processes.
import { createRequire } from 'node:module';
import PgBoss from 'pg-boss';
import type { Database, Queryable } from './db.js';

// pg-boss's own SQL, for expiring jobs more often than its maintenance runs (no typings: CommonJS).
const plans = createRequire(import.meta.url)('pg-boss/src/plans.js');

type Handler = (data: any) => Promise<void>;

export interface JobSpec {
  retryLimit?: number;
  retryDelay?: number;
  retryBackoff?: boolean;
  expireInSeconds?: number;
}

/**
 * pg-boss's view of the whole database: parameterless text may hold several statements. Once the
 * queue has stopped, its statements do nothing: pg-boss completes a finished job without awaiting
 * it, and that late write must not reach a database that is being closed (the job stays active
 * and is retried after its lease, as after a crash).
 */
function dbAdapter(db: Database, stopped: () => boolean): PgBoss.Db {
  return {
    async executeSql(text: string, values: any[]) {
      // (null: pg-boss reads a completion's missing result as "0 affected")
      if (stopped()) return null as any;
      if (values?.length) return db.query(text, values);
      if (db.kind === 'pglite') {
        const results = await (db.raw as any).exec(text);
        return { rows: results.at(-1)?.rows ?? [] };
      }
      const r: any = await (db.raw as any).query(text);
      return Array.isArray(r) ? r.at(-1) : r;
    },
  };
}

/** pg-boss's view of one open transaction: the job commits or rolls back with it. */
function txAdapter(tx: Queryable): PgBoss.Db {
  return { executeSql: (text: string, values: any[]) => tx.query(text, values) };
}

/**
 * Jobs waiting to be taken, by queue (not yet active: created, or failed and waiting to retry). Read
 * from pg-boss's partial index of waiting jobs, so it costs the same however many completed jobs
 * are kept. Empty until the queue's schema exists.
 */
export async function waitingJobs(db: Database): Promise<Map<string, number>> {
  try {
    const r = await db.query<{ name: string; n: number }>(`SELECT name, count(*)::int AS n FROM pgboss.job WHERE state < 'active' GROUP BY name`);
    return new Map(r.rows.map((x) => [x.name, Number(x.n)]));
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return new Map(); // undefined_table: no queue yet
    throw err;
  }
}

export class Queue {
  private workers = new Map<string, string[]>();
  private stopped = false;
  private expiring?: NodeJS.Timeout;
  private constructor(readonly boss: PgBoss, readonly pollingIntervalSeconds: number) {}

  /**
   * expireEverySeconds: how often jobs held past their queue's expireInSeconds (their worker died)
   * are put back for another worker. pg-boss does it only in its maintenance, once a minute.
   */
  static async start(db: Database, opts: { pollingIntervalSeconds?: number; expireEverySeconds?: number; onError?: (err: Error) => void } = {}): Promise<Queue> {
    let queue: Queue | undefined;
    const boss = new PgBoss({
      db: dbAdapter(db, () => queue?.stopped ?? false),
      schema: 'pgboss',
      // One process per database handles maintenance at a time (pg-boss takes an advisory lock).
      supervise: true,
      schedule: false,
      maintenanceIntervalSeconds: 60,
    });
    boss.on('error', (err) => opts.onError?.(err));
    await boss.start();
    // The application role inserts jobs inside tenant transactions.
    await db.exec(`GRANT USAGE ON SCHEMA pgboss TO karigar_app;
      GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA pgboss TO karigar_app;
      GRANT USAGE ON ALL SEQUENCES IN SCHEMA pgboss TO karigar_app;
      GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pgboss TO karigar_app;`);
    const q = new Queue(boss, opts.pollingIntervalSeconds ?? 2);
    queue = q;
    if (opts.expireEverySeconds) {
      // The expiry looks only at active jobs: indexed, so its cost does not grow with the jobs kept.
      await db.exec(`CREATE INDEX IF NOT EXISTS job_active_started ON pgboss.job (started_on) WHERE state = 'active'`)
        .catch((err) => opts.onError?.(err)); // another process creating it at the same instant
      const expire = plans.locked('pgboss', plans.failJobsByTimeout('pgboss'));
      let running = false;
      const sweep = async () => {
        if (running) return;
        running = true;
        try {
          await dbAdapter(db, () => q.stopped).executeSql(expire, []);
        } catch (err) {
          opts.onError?.(err as Error);
        } finally {
          running = false;
        }
      };
      await sweep();
      q.expiring = setInterval(() => void sweep(), opts.expireEverySeconds * 1000);
      q.expiring.unref();
    }
    return q;
  }

  async define(name: string, spec: JobSpec = {}) {
    const existing = await this.boss.getQueue(name);
    if (existing && spec.expireInSeconds && existing.expireInSeconds !== spec.expireInSeconds) {
      // A queue created by an older version keeps its settings otherwise (jobs already queued keep theirs).
      await this.boss.updateQueue(name, { ...existing, expireInSeconds: spec.expireInSeconds } as PgBoss.Queue);
    }
    if (!existing) {
      await this.boss.createQueue(name, {
        name,
        retryLimit: spec.retryLimit ?? 10,
        retryDelay: spec.retryDelay ?? 1,
        retryBackoff: spec.retryBackoff ?? true,
        expireInSeconds: spec.expireInSeconds ?? 120,
      }).catch(async (err) => {
        if (!(await this.boss.getQueue(name))) throw err; // another process created it first: fine
      });
    }
  }

  /** Sends a job inside an open transaction: it exists only if that transaction commits. */
  async sendInTx(tx: Queryable, name: string, data: object, options: PgBoss.SendOptions = {}) {
    return this.boss.send(name, data, { ...options, db: txAdapter(tx) });
  }

  /** Sends many jobs of one queue inside an open transaction, in one statement. */
  async sendManyInTx(tx: Queryable, name: string, data: object[]) {
    if (data.length) await this.boss.insert(data.map((d) => ({ name, data: d })), { db: txAdapter(tx) });
  }

  async send(name: string, data: object, options: PgBoss.SendOptions = {}) {
    return this.boss.send(name, data, options);
  }

  /**
   * Works a queue: each fetched batch runs concurrently; a batch with a failure is retried whole
   * (handlers are idempotent, so the jobs that succeeded do no harm running again). After a
   * non-empty batch the worker fetches again at once; it waits for its poll only when idle.
   * `workers` > 1 runs that many such fetch loops, so a new batch starts while others still run
   * (a batch lasts as long as its slowest job).
   */
  async work(name: string, handler: Handler, opts: { batchSize?: number; workers?: number } = {}) {
    const ids: string[] = [];
    for (let i = 0; i < (opts.workers ?? 1); i++) {
      let id = '';
      id = await this.boss.work(name, { pollingIntervalSeconds: this.pollingIntervalSeconds, batchSize: opts.batchSize ?? 8 },
        async (jobs: PgBoss.Job<any>[]) => {
          const results = await Promise.allSettled(jobs.map((job) => handler(job.data)));
          if (jobs.length) this.boss.notifyWorker(id);
          const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
          if (failed.length) throw failed[0].reason;
        });
      ids.push(id);
    }
    this.workers.set(name, ids);
  }

  /**
   * Works a queue a whole batch at a time: the handler gets every fetched job's data at once (to
   * do set-based work over them); the batch is retried whole if it throws.
   */
  async workBatch(name: string, handler: (data: any[]) => Promise<void>, opts: { batchSize?: number } = {}) {
    let id = '';
    id = await this.boss.work(name, { pollingIntervalSeconds: this.pollingIntervalSeconds, batchSize: opts.batchSize ?? 8 },
      async (jobs: PgBoss.Job<any>[]) => {
        if (jobs.length) await handler(jobs.map((job) => job.data));
        if (jobs.length) this.boss.notifyWorker(id);
      });
    this.workers.set(name, [id]);
  }

  /** Wakes this process's workers for the queue now instead of at their next poll (a busy one fetches once it is done). */
  wake(name: string) {
    for (const id of this.workers.get(name) ?? []) this.boss.notifyWorker(id);
  }

  async stop() {
    if (this.expiring) clearInterval(this.expiring);
    await this.boss.stop({ graceful: true, wait: true, timeout: 5000 });
    this.stopped = true;
  }
}
