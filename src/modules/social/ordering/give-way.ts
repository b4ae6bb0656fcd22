// Webhooks come first. A provider retries a webhook that is not answered in time (and Meta turns a
// failing webhook off), so a burst that is answered slowly only grows; reading the messages
// (intent, leads, acknowledgements) can wait a few seconds. So while this process answers webhooks
// at a high rate, the inbound step rests after each read (one transaction of up to 200 messages),
// for GIVE_WAY_FACTOR times as long as the read took (at most MAX_REST_MS): it then holds at most
// 1 / (1 + GIVE_WAY_FACTOR) of the process and the database, and its next fetch is bigger, which
// costs less per message. Resting after each read rather than after each fetch (up to 1,600
// messages) keeps its work in short pieces: a webhook never waits behind a long run of reads (on
// PGlite, whose database runs on the same event loop, p99 151 ms against 389). When the webhooks
// are quiet it never rests, so a backlog left by a burst drains at full speed.
//
// Measured with `npm run bench ingest` (2 cores): ingest with `npm start` defaults went from 0.4-0.46
// of the `--role=api` rate to 0.6-0.66 on PostgreSQL, and from 0.26-0.30x the least possible
// receiver to 0.5x on PGlite.

/** Webhooks answered per second by this process above which the inbound step gives way. */
export const BUSY_WEBHOOKS_PER_SECOND = 100;
export const GIVE_WAY_FACTOR = 3;
export const MAX_REST_MS = 2_000;

/** How long the inbound step rests after a read that took `readMs`, at this webhook rate. */
export function restAfterRead(readMs: number, webhooksPerSecond: number): number {
  if (!(webhooksPerSecond > BUSY_WEBHOOKS_PER_SECOND) || !(readMs > 0)) return 0;
  return Math.min(MAX_REST_MS, readMs * GIVE_WAY_FACTOR);
}
