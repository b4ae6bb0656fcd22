// The durable job queue: pg-boss 10 over our own Database, so it runs on PGlite and PostgreSQL
// alike. Jobs are inserted inside the business transaction (they commit or roll back with it);
// after commit the in-process worker is woken at once, and polling only covers jobs sent by
// other processes.
import PgBoss from 'pg-boss';
import type { Database, Queryable } from './db.js';

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

export class Queue {
  private workers = new Map<string, string>();
  private stopped = false;
  private constructor(readonly boss: PgBoss, readonly pollingIntervalSeconds: number) {}

  static async start(db: Database, opts: { pollingIntervalSeconds?: number; onError?: (err: Error) => void } = {}): Promise<Queue> {
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
    queue = new Queue(boss, opts.pollingIntervalSeconds ?? 2);
    return queue;
  }

  async define(name: string, spec: JobSpec = {}) {
    const existing = await this.boss.getQueue(name);
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
   */
  async work(name: string, handler: Handler, opts: { batchSize?: number } = {}) {
    let id = '';
    id = await this.boss.work(name, { pollingIntervalSeconds: this.pollingIntervalSeconds, batchSize: opts.batchSize ?? 8 },
      async (jobs: PgBoss.Job<any>[]) => {
        const results = await Promise.allSettled(jobs.map((job) => handler(job.data)));
        if (jobs.length) this.boss.notifyWorker(id);
        const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed.length) throw failed[0].reason;
      });
    this.workers.set(name, id);
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
    this.workers.set(name, id);
  }

  /** Wakes this process's worker for the queue now instead of at its next poll. */
  wake(name: string) {
    const id = this.workers.get(name);
    if (id) this.boss.notifyWorker(id);
  }

  async stop() {
    await this.boss.stop({ graceful: true, wait: true, timeout: 5000 });
    this.stopped = true;
  }
}
