// The background half of the service: the durable queue, the outbox hand-off, and (for the
// worker role) the listeners that deliver events. server.ts and the tests both start it here.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from './config.js';
import { withConcurrencyLimit, type Database } from './platform/db.js';
import { Queue } from './platform/queue.js';
import { safeErrorFields } from './platform/errors.js';
import { LISTENERS } from './platform/events.js';
import { deliver, handleEvent, LEASE_SECONDS, SEND_QUEUE, type Log } from './modules/social/notifications/notifier.js';
import { handleInboundBatch, INBOUND_BATCH } from './modules/social/ordering/ordering.service.js';
import { restAfterRead } from './modules/social/ordering/give-way.js';
import { ingestFor } from './modules/social/webhooks/webhooks.ingest.js';

/** Of the pool's 10 connections. */
const BACKGROUND_CONNECTIONS = 4;

export type ProcessRole = 'api' | 'worker' | 'all';

export interface Runtime {
  queue: Queue;
  stop(): Promise<void>;
}

export async function startRuntime(opts: { config: Config; db: Database; log: Log; role: ProcessRole; pollingIntervalSeconds?: number }): Promise<Runtime> {
  const { config, db, log, role } = opts;
  const queue = await Queue.start(db, {
    pollingIntervalSeconds: opts.pollingIntervalSeconds,
    // Jobs held by a process that died go back to the queue within seconds of their expiry.
    expireEverySeconds: 2,
    // Never the error object: a database error carries the query's parameters.
    onError: (err) => log.error(safeErrorFields(err), 'queue error'),
  });
  // A send job (and the notification listener, which sends too) lasts at most a message's lease:
  // expiring it then lets another process take over a dead one's sends without waiting minutes.
  const sends = new Set(['listener.social', SEND_QUEUE]);
  for (const name of [...Object.keys(LISTENERS), SEND_QUEUE]) {
    await queue.define(name, sends.has(name) ? { expireInSeconds: LEASE_SECONDS } : {});
  }
  db.outbox = {
    enqueue: async (tx, name, data, o) => { await queue.sendInTx(tx, name, data, o?.startAfter ? { startAfter: o.startAfter } : {}); },
    wake: (listener) => queue.wake(listener),
  };
  const stopping = new AbortController();
  if (role !== 'api') {
    // The background's share of the database: its handlers hold at most BACKGROUND_CONNECTIONS of
    // the pool, so webhooks and the API always find a connection. PGlite runs one transaction at a
    // time, first come first served: one background transaction at most waits in that line, so a
    // webhook never waits behind dozens of them.
    const background = withConcurrencyLimit(db, db.kind === 'postgres' ? BACKGROUND_CONNECTIONS : 1);
    const deps = { db: background, config, queue, log };
    // Each listener of LISTENERS, and the queue of sends waiting for a retry.
    // Sends wait for their rate-cap slot inside the job: several fetch loops keep slots filled
    // while one batch waits for its last slot. Fewer on PGlite: its queries run on this process's
    // event loop, and more at once only make the senders' timers late.
    const loops = db.kind === 'pglite' ? 2 : 4;
    await queue.work('listener.social', (job) => handleEvent(deps, job), { batchSize: 8, workers: loops });
    // Inbound messages a batch at a time: one transaction per business, set-based (ordering.service).
    // Webhooks come first: while they are busy, the inbound step rests after each read (give-way.ts).
    const webhooks = ingestFor(db).webhooks;
    const giveWay = async (readMs: number) => {
      const rest = restAfterRead(readMs, webhooks.perSecond);
      if (rest > 0) await sleep(rest, undefined, { signal: stopping.signal }).catch(() => {});
    };
    await queue.workBatch('listener.inbound', (jobs) => handleInboundBatch(deps, jobs, giveWay), { batchSize: INBOUND_BATCH });
    await queue.work(SEND_QUEUE, (job) => deliver(deps, job.business_id, job.message_id), { batchSize: 8, workers: loops });
  }
  return {
    queue,
    async stop() {
      stopping.abort(); // a resting inbound step does not hold up the stop
      await queue.stop();
    },
  };
}
