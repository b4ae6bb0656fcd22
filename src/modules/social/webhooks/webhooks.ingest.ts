// The webhook's fast path: plain inbound messages (no statuses, edits or deletions) from a channel
// this process has seen in the last few seconds.
//
// - Routes and decrypted channels are cached in-process for CACHE_MS. Each stored message carries
//   the channel version its signature was checked against; the database stores nothing of a
//   request whose channel has changed since (a new secret, a deactivation, a new address): the
//   request is then answered by the full path, which loads everything afresh. So a change takes
//   effect at once on every process; the cache only decides how often the channel is read.
// - Group commit: the messages of concurrent webhooks are written by one call of
//   receive_messages() (migration 0010) in one transaction, with their queue jobs; each request is
//   answered only after that transaction committed. If a batch fails, each of its requests is
//   retried alone, so one bad request never fails another.
// - Bursts: while the process answers more than HOLD_ABOVE_PER_SECOND webhooks a second, a batch
//   is only held (hold_messages(), migration 0014: one narrow row per message) and the inbound step
//   files the held messages in their conversations before it reads them. Held or stored, a
//   message is durable before its webhook is answered. One job per business wakes the inbound
//   step while one waits (held_wakeups, migration 0017), not one per held batch.
import type { Config } from '../../../config.js';
import { literal, prepared, type Database } from '../../../platform/db.js';
import { LISTENERS, queueEventJobs } from '../../../platform/events.js';
import { toE164 } from '../../../platform/phone.js';
import { APP_ROLE, withTenant, type Tx } from '../../../platform/tenancy.js';
import { loadChannelWithSecrets, type ChannelWithSecrets } from '../channels/channels.service.js';
import { businessCountry } from '../../customers/customers.service.js';
import type { InboundGroup, InboundMessage } from './parsers/index.js';

/** How long a route or a channel is reused before it is read again. */
export const CACHE_MS = 5_000;
const CACHE_ENTRIES = 10_000;
/**
 * Transactions in flight at most on a server (PGlite: one). Fewer lanes make larger batches: on
 * the 2-core bench machine, --role=api took 4,000 webhooks/s with 1 lane, 3,900-4,350 with 2,
 * 3,400 with 4 and 1,600 with 8; with the background running, 2 did best (1,600 against 1,350-1,450).
 */
const INGEST_LANES = 2;
/** Messages written by one transaction at most. */
const BATCH_MESSAGES = 500;
/**
 * Webhooks a second above which new messages are held rather than filed at once (on PostgreSQL).
 * Filing a batch of 8 (rows with seven index entries each, conversations, events) took 1.65-1.77 ms
 * of the server's CPU, holding it 0.67-0.72 ms; the inbound step files held messages 200 at a
 * time, at about 0.13 ms each, while it gives way to busy webhooks — and a provider retries a
 * webhook answered late. Below this rate a shop sees every message in its conversation the moment
 * it is answered; in a burst, once the inbound step has filed it (seconds).
 */
export const HOLD_ABOVE_PER_SECOND = 300;

export interface Route { business_id: string; channel_id: string }
export interface CachedChannel { channel: ChannelWithSecrets; version: number; country: string }

/** One message as receive_messages() takes it. */
export interface IngestItem {
  b: string; c: string; v: number; pid: string;
  from_number: string | null; from_e164: string | null; from_user_id: string | null; to_number: string | null;
  text: string | null; type: string; metadata: Record<string, unknown>; edited_at: string | null;
  address: string | null; name: string | null;
}
export type Outcome = { pid: string; outcome: 'new' | 'duplicate' | 'stale'; message_id: string | null };

class TtlCache<V> {
  private entries = new Map<string, { value: V; until: number }>();
  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.until > Date.now()) return e.value;
    this.entries.delete(key);
    return undefined;
  }
  set(key: string, value: V) {
    if (this.entries.size >= CACHE_ENTRIES) this.entries.clear(); // bounded: a burst of new senders never grows it
    this.entries.set(key, { value, until: Date.now() + CACHE_MS });
  }
  delete(key: string) { this.entries.delete(key); }
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

interface Pending { items: IngestItem[]; resolve(o: Outcome[]): void; reject(e: unknown): void }

/**
 * Writes the messages of concurrent requests together. Requests go to one of a few lanes by their
 * sender's conversation; each lane has one transaction in flight holding all that waited. Two
 * transactions in flight so never touch the same conversation: they never wait on each other's
 * commit, and their commits (the WAL flushes) overlap.
 */
export class GroupCommit {
  private lanes: { waiting: Pending[]; busy: boolean }[];
  private scheduled = false;
  /** Transactions written so far (the tests check that concurrent requests shared one), and of them held. */
  batches = 0;
  held = 0;
  /**
   * @param rate webhooks a second now; above `holdAbovePerSecond`, batches are held (Infinity: never;
   * tests set -1 to hold every batch).
   */
  constructor(private db: Database, lanes: number, private rate: () => number = () => 0, public holdAbovePerSecond = Infinity) {
    this.lanes = Array.from({ length: lanes }, () => ({ waiting: [], busy: false }));
  }

  submit(items: IngestItem[]): Promise<Outcome[]> {
    return new Promise((resolve, reject) => {
      const first = items[0];
      const lane = this.lanes[first ? laneOf(`${first.c}:${first.address ?? first.pid}`, this.lanes.length) : 0];
      lane.waiting.push({ items, resolve, reject });
      // Requests that arrive in the same tick go together.
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => { this.scheduled = false; for (const l of this.lanes) this.pump(l); });
      }
    });
  }

  private pump(lane: { waiting: Pending[]; busy: boolean }) {
    if (lane.busy || !lane.waiting.length) return;
    const batch: Pending[] = [];
    let n = 0;
    while (lane.waiting.length && (batch.length === 0 || n + lane.waiting[0].items.length <= BATCH_MESSAGES)) {
      const p = lane.waiting.shift()!;
      n += p.items.length;
      batch.push(p);
    }
    lane.busy = true;
    void this.commit(batch).finally(() => { lane.busy = false; this.pump(lane); });
  }

  private async commit(batch: Pending[]) {
    try {
      const outcomes = await this.write(batch);
      batch.forEach((p, r) => p.resolve(outcomes[r]));
    } catch (err) {
      if (batch.length === 1) return batch[0].reject(err);
      // Whatever failed the batch (a bad message, a deadlock), each request now gets its own answer.
      await Promise.all(batch.map((p) => this.write([p]).then((o) => p.resolve(o[0]), p.reject)));
    }
  }

  /**
   * One round trip: the role, then receive_messages() (or, in a burst, hold_messages()), which sets
   * each business for RLS and queues a job per business for each listener of message.received, as
   * one script in one transaction.
   */
  private async write(batch: Pending[]): Promise<Outcome[][]> {
    const items = batch.flatMap((p, r) => p.items.map((it) => ({ ...it, r })));
    this.batches++;
    const hold = this.rate() > this.holdAbovePerSecond;
    if (hold) this.held++;
    const outbox = this.db.outbox;
    // Without a queue (a process that never started one) events are recorded and no job is queued, as recordEvent does.
    const listeners = outbox ? Object.entries(LISTENERS).filter(([, types]) => types.includes('message.received')).map(([l]) => l) : [];
    const rows = await this.db.script<{ r: number; pid: string; outcome: Outcome['outcome']; message_id: string | null }>(
      `SET LOCAL ROLE ${APP_ROLE};
       SELECT r, pid, outcome, message_id FROM ${hold ? 'hold_messages' : 'receive_messages'}(${literal(JSON.stringify(items))}::jsonb, ARRAY[${listeners.map(literal).join(', ')}]::text[])`);
    if (outbox && rows.some((x) => x.outcome === 'new')) for (const l of listeners) outbox.wake(l);
    const out: Outcome[][] = batch.map(() => []);
    for (const x of rows) out[x.r].push({ pid: x.pid, outcome: x.outcome, message_id: x.message_id });
    return out;
  }
}

function laneOf(key: string, lanes: number): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
  return Math.abs(h) % lanes;
}

interface Ingest {
  routes: TtlCache<Route[]>; channels: TtlCache<CachedChannel>; commit: GroupCommit;
  /** Webhook requests per second, whatever they hold or however they end: the inbound step gives way to them. */
  webhooks: PerSecond;
}
const perDatabase = new WeakMap<Database, Ingest>();

export function ingestFor(db: Database): Ingest {
  let i = perDatabase.get(db);
  if (!i) {
    // PGlite runs one statement at a time: one batch in flight, the next one gathering. On a
    // server, INGEST_LANES of the pool's ten connections: batches grow with the load instead.
    const webhooks = new PerSecond();
    // PGlite holds nothing: its one thread would file every held message later anyway, so holding
    // only adds work (measured: 574 webhooks/s with the defaults against 770-940 without).
    const commit = db.kind === 'pglite'
      ? new GroupCommit(db, 1, () => webhooks.perSecond, Infinity)
      : new GroupCommit(db, INGEST_LANES, () => webhooks.perSecond, HOLD_ABOVE_PER_SECOND);
    i = { routes: new TtlCache(), channels: new TtlCache(), commit, webhooks };
    perDatabase.set(db, i);
  }
  return i;
}

export async function cachedRoutes(db: Database, key: string, load: () => Promise<Route[]>): Promise<Route[]> {
  const { routes } = ingestFor(db);
  const hit = routes.get(key);
  if (hit) return hit;
  const found = await load();
  if (found.length) routes.set(key, found); // an unknown address is not remembered: a new channel counts at once
  return found;
}

export async function cachedChannel(db: Database, config: Config, route: Route): Promise<CachedChannel | null> {
  const { channels } = ingestFor(db);
  const hit = channels.get(route.channel_id);
  if (hit) return hit;
  const loaded = await withTenant(db, route.business_id, async (tx) => {
    const channel = await loadChannelWithSecrets(tx, config.secretsKey, route.channel_id);
    if (!channel) return null;
    return { channel, version: channel.version, country: await businessCountry(tx) };
  });
  if (!loaded || !loaded.channel.is_active) return null;
  channels.set(route.channel_id, loaded);
  return loaded;
}

/** Forgets a channel and every route: the next request reads them afresh. */
export function forgetChannel(db: Database, channelId: string) {
  const i = ingestFor(db);
  i.channels.delete(channelId);
  i.routes = new TtlCache();
}

const numbers = new Map<string, string | null>();

/** The sender's number as E.164 when it is one (the business's country decides a local number). */
export function senderE164(m: InboundMessage, country: string): string | null {
  if (!m.from_number) return null;
  // Parsing a number is the costliest step of a webhook in Node; senders write again and again.
  const key = `${country}:${m.from_number}`;
  const known = numbers.get(key);
  if (known !== undefined) return known;
  const e164 = toE164(m.from_number.startsWith('+') ? m.from_number : `+${m.from_number}`, country) ?? toE164(m.from_number, country) ?? null;
  if (numbers.size >= CACHE_ENTRIES) numbers.clear();
  numbers.set(key, e164);
  return e164;
}

export function itemsOf(group: InboundGroup, c: CachedChannel, channelType: string, addressOf: (t: string, e164: string | null, m: InboundMessage) => string | null): IngestItem[] {
  const ch = c.channel;
  return group.messages.map((m) => {
    const from = senderE164(m, c.country);
    return {
      b: ch.business_id, c: ch.id, v: c.version, pid: m.provider_message_id,
      from_number: from ?? m.from_number, from_e164: from, from_user_id: m.from_user_id, to_number: ch.phone_number ?? ch.account_id,
      text: m.text, type: m.message_type,
      metadata: { ...m.metadata, profile_name: m.profile_name, reply_to: m.reply_to, channel_type: channelType, provider_timestamp: m.timestamp },
      edited_at: null, address: addressOf(channelType, from, m), name: m.profile_name,
    };
  });
}

type HeldRow = { channel_id: string; provider_message_id: string; received_at: string; item: Record<string, unknown> & { at: string } };
const HELD_RETURNING = `RETURNING h.channel_id, h.provider_message_id, h.received_at::text AS received_at, h.item`;

/** What filing held messages did: their events, how many rows it took, and those it could not file. */
export interface Filed { events: number[]; taken: number; failed: { provider_message_id: string; reason: string }[] }

/**
 * Files held rows as the webhook would have (receive_messages, in the order they came; no job).
 * A row that cannot be filed (whatever the database refuses) must not stop the others, now or in
 * every later read: should the batch fail, each row is filed alone, and one that still fails is
 * held again with the reason and skipped from then on.
 */
async function fileRows(tx: Tx, rows: HeldRow[]): Promise<Filed> {
  const filed: Filed = { events: [], taken: rows.length, failed: [] };
  rows.sort((a, b) => (a.item.at < b.item.at ? -1 : a.item.at > b.item.at ? 1 : 0));
  const file = async (part: HeldRow[]): Promise<Error | null> => {
    await tx.query('SAVEPOINT filing');
    try {
      const r = await tx.query<{ event_id: number }>(`SELECT event_id FROM receive_messages($1::jsonb, '{}'::text[]) WHERE outcome = 'new'`,
        [JSON.stringify(part.map((x, i) => ({ ...x.item, r: i })))]);
      await tx.query('RELEASE SAVEPOINT filing');
      filed.events.push(...r.rows.map((x) => Number(x.event_id)));
      return null;
    } catch (err) {
      await tx.query('ROLLBACK TO SAVEPOINT filing');
      return err as Error;
    }
  };
  if (!rows.length) return filed;
  const whole = await file(rows);
  if (!whole) return filed;
  for (const row of rows) {
    const err = rows.length === 1 ? whole : await file([row]);
    if (!err) continue;
    const reason = String(err.message).slice(0, 300);
    filed.failed.push({ provider_message_id: row.provider_message_id, reason });
    await tx.query(
      `INSERT INTO held_messages (business_id, channel_id, provider_message_id, received_at, item, failed)
       VALUES (app_business_id(), $1, $2, $3::timestamptz, $4::jsonb, $5)`,
      [row.channel_id, row.provider_message_id, row.received_at, JSON.stringify(row.item), reason]);
  }
  return filed;
}

/**
 * The inbound step's first move in every read: files up to `limit` of the business's held
 * messages, the earliest first (message, conversation, event; no job: they are read now). Rows
 * another reader is filing, and rows that could not be filed, are skipped.
 */
export async function fileHeld(tx: Tx, limit: number): Promise<Filed> {
  const rows = (await tx.query<HeldRow>(prepared(
    `DELETE FROM held_messages h USING (
       SELECT channel_id, provider_message_id FROM held_messages
       WHERE business_id = app_business_id() AND failed IS NULL ORDER BY received_at LIMIT $1 FOR UPDATE SKIP LOCKED) x
     WHERE h.business_id = app_business_id() AND h.channel_id = x.channel_id AND h.provider_message_id = x.provider_message_id
     ${HELD_RETURNING}`), [limit])).rows;
  return fileRows(tx, rows);
}

/**
 * Messages held and not yet filed, across businesses, for /metrics: PostgreSQL's count of the
 * table's live rows (no tenant's rows are read; it lags by a few seconds, and counts the few
 * held rows whose filing failed). Undefined where there are no statistics.
 */
export async function heldMessages(db: Database): Promise<number | undefined> {
  const r = await db.query<{ n: number | null }>(`SELECT n_live_tup::int AS n FROM pg_stat_user_tables WHERE relname = 'held_messages'`);
  const n = r.rows[0]?.n;
  return n === null || n === undefined ? undefined : Math.max(0, Number(n));
}

/**
 * The inbound step takes a business's 'message.held' job (take_held_wakeup, migration 0017): its
 * wakeup row goes, in a transaction of its own and before any filing, once every holder that saw
 * it has committed; a message held from now on queues the next job.
 */
export async function takeHeldWakeup(db: Database, businessId: string): Promise<void> {
  await withTenant(db, businessId, (tx) => tx.query(`SELECT take_held_wakeup($1)`, [businessId]));
}

/**
 * Files one message now if it is held (an edit or deletion of it has come), with its jobs as the
 * webhook would have queued them. One the inbound step is filing is waited for (its row lock).
 */
export async function fileHeldMessage(tx: Tx, businessId: string, channelId: string, providerMessageId: string): Promise<void> {
  const rows = (await tx.query<HeldRow>(
    `DELETE FROM held_messages h WHERE h.channel_id = $1 AND h.provider_message_id = $2 AND h.failed IS NULL ${HELD_RETURNING}`,
    [channelId, providerMessageId])).rows;
  for (const id of (await fileRows(tx, rows)).events) await queueEventJobs(tx, businessId, 'message.received', id);
}
