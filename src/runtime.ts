// The background half of the service: the durable queue, the outbox hand-off, and (for the
// worker role) the listeners that deliver events. server.ts and the tests both start it here.
import type { Config } from './config.js';
import type { Database } from './platform/db.js';
import { Queue } from './platform/queue.js';
import { safeErrorFields } from './platform/errors.js';
import { LISTENERS } from './platform/events.js';
import { deliver, handleEvent, LEASE_SECONDS, SEND_QUEUE, type Log } from './modules/social/notifications/notifier.js';
import { handleInbound } from './modules/social/ordering/ordering.service.js';

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
  if (role !== 'api') {
    // Loads the HTTP client now: the first fetch of a process is slow, and a first send that arrives
    // late could crowd the rate cap's second with the sends after it.
    void fetch('data:text/plain,').catch(() => {});
    const deps = { db, config, queue, log };
    // Each listener of LISTENERS, and the queue of sends waiting for a retry.
    // Sends wait for their rate-cap slot inside the job: several fetch loops keep slots filled
    // while one batch waits for its last slot. Fewer on PGlite: its queries run on this process's
    // event loop, and more at once only make the senders' timers late.
    const loops = db.kind === 'pglite' ? 2 : 4;
    await queue.work('listener.social', (job) => handleEvent(deps, job), { batchSize: 8, workers: loops });
    await queue.work('listener.inbound', (job) => handleInbound(deps, job), { batchSize: 16 });
    await queue.work(SEND_QUEUE, (job) => deliver(deps, job.business_id, job.message_id), { batchSize: 8, workers: loops });
  }
  return {
    queue,
    async stop() {
      await queue.stop();
    },
  };
}
