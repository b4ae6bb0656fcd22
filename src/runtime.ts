// The background half of the service: the durable queue, the outbox hand-off, and (for the
// worker role) the listeners that deliver events. server.ts and the tests both start it here.
import type { Config } from './config.js';
import type { Database } from './platform/db.js';
import { Queue } from './platform/queue.js';
import { LISTENERS } from './platform/events.js';
import { registerNotifier, type Log } from './modules/social/notifications/notifier.js';

export type ProcessRole = 'api' | 'worker' | 'all';

export interface Runtime {
  queue: Queue;
  stop(): Promise<void>;
}

export async function startRuntime(opts: { config: Config; db: Database; log: Log; role: ProcessRole; pollingIntervalSeconds?: number }): Promise<Runtime> {
  const { config, db, log, role } = opts;
  const queue = await Queue.start(db, {
    pollingIntervalSeconds: opts.pollingIntervalSeconds,
    onError: (err) => log.error({ err }, 'queue error'),
  });
  for (const name of Object.keys(LISTENERS)) await queue.define(name);
  db.outbox = {
    enqueue: async (tx, listener, data) => { await queue.sendInTx(tx, listener, data); },
    wake: (listener) => queue.wake(listener),
  };
  await registerNotifier({ db, config, queue, log }, { work: role !== 'api' });
  return {
    queue,
    async stop() {
      await queue.stop();
    },
  };
}
