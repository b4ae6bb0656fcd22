// Webhooks come first. A provider retries a webhook that is not answered in time (and Meta turns a
// failing webhook off), so a burst that is answered slowly only grows; reading the messages
// (intent, leads, acknowledgements) can wait a few seconds. So while this process answers webhooks
// at a high rate, the inbound step rests after each batch, for GIVE_WAY_FACTOR times as long as
// the batch took (at most MAX_REST_MS): it then holds at most 1 / (1 + GIVE_WAY_FACTOR) of the
// process and the database, and its next batch is bigger, which costs less per message. When the
// webhooks are quiet it never rests, so a backlog left by a burst drains at full speed.
//
// Measured with `npm run bench ingest` (PostgreSQL, 2 cores): ingest with `npm start` defaults went
// from 0.4-0.46 of the `--role=api` rate to 0.6-0.65.

/** Webhooks answered per second by this process above which the inbound step gives way. */
export const BUSY_WEBHOOKS_PER_SECOND = 100;
export const GIVE_WAY_FACTOR = 3;
export const MAX_REST_MS = 2_000;

/** How long the inbound step rests after a batch that took `batchMs`, at this webhook rate. */
export function restAfterBatch(batchMs: number, webhooksPerSecond: number): number {
  if (!(webhooksPerSecond > BUSY_WEBHOOKS_PER_SECOND) || !(batchMs > 0)) return 0;
  return Math.min(MAX_REST_MS, batchMs * GIVE_WAY_FACTOR);
}

/** Events counted per second: the rate over the last whole second (0 after a second with none). */
export class PerSecond {
  private n = 0;
  private since: number;
  private last = 0;
  constructor(private now: () => number = Date.now) {
    this.since = now();
  }
  note(count = 1) {
    this.roll();
    this.n += count;
  }
  get perSecond(): number {
    this.roll();
    return this.last;
  }
  private roll() {
    const now = this.now();
    const elapsed = now - this.since;
    if (elapsed < 1000) return;
    // A gap of two seconds or more means the last whole second had none.
    this.last = elapsed < 2000 ? (this.n * 1000) / elapsed : 0;
    this.n = 0;
    this.since = now;
  }
}
