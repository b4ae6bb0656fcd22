// The per-channel rate cap: a sliding window. At most the cap's sends of a channel go in any window
// of (1000 + margin) ms, a few ms apart: a burst goes at once, and the send after the cap-th waits
// until the cap-th last is a window old. A channel's row in channel_send_pace holds its slots within
// the last window; booking one is one call of book_send_slot() (migration 0016), atomic in the
// database every process shares, so the cap holds whichever process sends. The pure rule is here
// (and unit-tested); the function applies the same rule in SQL.
import { prepared } from '../../../platform/db.js';
import type { Tx } from '../../../platform/tenancy.js';

/**
 * Slack per window, in ms. A send leaves at its slot but arrives a little later, by a varying
 * amount (timer and event-loop lag, the commit, the network). Counting the cap in windows of
 * exactly a second would let the cap + 1st arrival fall inside the 1st's second whenever the 1st
 * is later than the cap + 1st; windows of 1000 + margin ms tolerate a spread of arrival delays up
 * to the margin. The price: over a long backlog, the cap's sends every 1000 + margin ms (78.4/s
 * at cap 80). 20 ms: with 10, a full bench run on the 2-core machine, loaded, once put 81 sends
 * into a sliding second at the provider (half the margin is for the way there).
 */
export const JITTER_MARGIN_MS = 20; // the default of SEND_JITTER_MARGIN_MS
/**
 * How far ahead a sender may book a slot. A send further back in the line is put back in the
 * queue for later instead of holding its message's lease while it waits; this also bounds the
 * lease a sender needs (horizon + the provider's timeout).
 */
export const BOOKING_HORIZON_MS = 2_000;
/**
 * A slot is never booked sooner than this from now: the booking's commit and its way back to the
 * sender fit in it, so the sender can still go at the slot's exact time (see deliver()). The
 * least lead; under load it grows with the bookings' round trips (see bookingLeadMs).
 */
export const BOOKING_LEAD_MS = 10;
/**
 * The first send after an idle second is often the slowest to arrive (a new connection, a cold
 * path), and the sends after it are not: it counts this much later in the window, so the send one
 * window after it still falls outside its second. Once per burst, not per send.
 */
export const FIRST_SEND_ALLOWANCE_MS = 50;

/** The cap as a whole number of sends, WhatsApp's default when it is missing or broken. */
export function capOf(maxPerSecond: number): number {
  return Number.isFinite(maxPerSecond) && maxPerSecond >= 1 ? Math.floor(maxPerSecond) : 80;
}

/** The window the cap counts sends in: a second and the margin for arrival jitter. */
export function windowMs(marginMs = JITTER_MARGIN_MS): number {
  return 1000 + marginMs;
}

/**
 * The least time between two sends of one channel: a few ms, so that the senders of a burst wake
 * one after another and each leaves on time (a sender woken late books again: see deliver());
 * at a cap over 500, the window's share of one send, so the gap never holds a channel under its cap.
 */
export function sendGapMs(maxPerSecond: number, marginMs = JITTER_MARGIN_MS): number {
  return Math.min(MAX_GAP_MS, windowMs(marginMs) / capOf(maxPerSecond));
}
export const MAX_GAP_MS = 2;

/** The window's share of one send: how far apart PGlite's sends go (LocalPace). */
export function sendIntervalMs(maxPerSecond: number, marginMs = JITTER_MARGIN_MS): number {
  return windowMs(marginMs) / capOf(maxPerSecond);
}

/** A channel's sends as the rule sees them: the last slot, and every slot within the last window (the allowance added to a first send). */
export interface PaceState { last: number | undefined; recent: number[] }
export const NO_SENDS: PaceState = { last: undefined, recent: [] };

/**
 * The earliest a send may go at or after `soonest`: one gap after the last send (unless the channel
 * was idle for a second), and one window after the cap-th latest send in the window.
 */
export function earliestSlot(state: PaceState, soonest: number, maxPerSecond: number, marginMs = JITTER_MARGIN_MS): { at: number; idle: boolean } {
  const cap = capOf(maxPerSecond);
  const idle = state.last === undefined || state.last < soonest - 1000;
  let at = idle ? soonest : Math.max(soonest, state.last! + sendGapMs(cap, marginMs));
  if (state.recent.length >= cap) {
    const capTh = [...state.recent].sort((a, b) => b - a)[cap - 1];
    at = Math.max(at, capTh + windowMs(marginMs));
  }
  return { at, idle };
}

/** The state after a send at `at`: slots a window old are forgotten; a first send after an idle second counts its allowance. */
export function withSend(state: PaceState, at: number, idle: boolean, marginMs = JITTER_MARGIN_MS, firstAllowanceMs = FIRST_SEND_ALLOWANCE_MS): PaceState {
  const from = at - windowMs(marginMs);
  return { last: at, recent: [...state.recent.filter((x) => x > from), at + (idle ? firstAllowanceMs : 0)] };
}

export type Booking =
  | { slotAt: number; state: PaceState }
  | { retryAt: number };

/**
 * A send asking at `now` gets the earliest slot from now plus the lead; a slot more than horizonMs
 * away is not booked, and the send should ask again at retryAt (when it will be within half the
 * horizon, unless others have booked meanwhile).
 */
export function bookSlotAt(state: PaceState, now: number, maxPerSecond: number, marginMs = JITTER_MARGIN_MS, horizonMs = BOOKING_HORIZON_MS,
  leadMs = BOOKING_LEAD_MS, firstAllowanceMs = FIRST_SEND_ALLOWANCE_MS): Booking {
  const { at, idle } = earliestSlot(state, now + leadMs, maxPerSecond, marginMs);
  if (at - now > horizonMs) return { retryAt: at - horizonMs / 2 };
  return { slotAt: at, state: withSend(state, at, idle, marginMs, firstAllowanceMs) };
}

/**
 * This process's clock against the database's: the database read its clock between our asking
 * and its answer, so the offset lies within that round trip; the tightest recent round trip gives
 * the best estimate. Slots are the database's times, turned into ours with it.
 */
export class ClockOffset {
  offsetMs = 0;
  private errorMs = Infinity;
  private at = 0;
  observe(dbNow: number, asked: number, answered: number) {
    const error = (answered - asked) / 2;
    // A better round trip wins; an estimate over a minute old gives way to any.
    if (error <= this.errorMs || answered - this.at > 60_000) {
      this.offsetMs = dbNow - (asked + answered) / 2;
      this.errorMs = error;
      this.at = answered;
    }
  }
}
export const databaseClock = new ClockOffset();

/**
 * The lead a booking asks for: twice the recent round trip of a booking (a moving average), within
 * [BOOKING_LEAD_MS, 250 ms]. A loaded database answers slowly, and a slot booked sooner than the
 * answer comes back would be missed.
 */
export class BookingLead {
  private averageMs = 0;
  observe(roundTripMs: number) {
    this.averageMs = this.averageMs === 0 ? roundTripMs : this.averageMs * 0.8 + roundTripMs * 0.2;
  }
  get ms() {
    return Math.min(250, Math.max(BOOKING_LEAD_MS, 2 * this.averageMs));
  }
}
export const bookingLead = new BookingLead();

/**
 * book_send_slot (migration 0016), the same rule in the database: one call, the channel's row
 * locked only until the transaction ends. Its times are the database's clock: the slot, or (null)
 * how long to wait before asking again, and the database's time when it answered.
 */
export async function bookSlotInDatabase(tx: Tx, businessId: string, channelId: string, maxPerSecond: number, marginMs = JITTER_MARGIN_MS,
  leadMs = bookingLead.ms): Promise<BookingRow> {
  const row = (await tx.query<BookingRow>(prepared(
    `SELECT slot_at, retry_in_ms, db_now FROM book_send_slot($1, $2, ${bookingArgs(3)})`),
    [businessId, channelId, ...bookingParams(maxPerSecond, marginMs, leadMs)])).rows[0];
  return { slot_at: row.slot_at === null ? null : Number(row.slot_at), retry_in_ms: row.retry_in_ms === null ? null : Number(row.retry_in_ms), db_now: Number(row.db_now) };
}

/** What book_send_slot answers (its float8s as numbers). */
export interface BookingRow { slot_at: number | null; retry_in_ms: number | null; db_now: number }

/** book_send_slot's arguments after the business and channel, as placeholders from $first (bookingParams() gives their values). */
export const bookingArgs = (first: number) => Array.from({ length: 6 }, (_, i) => `$${first + i}`).join(', ');

/** The values of bookingArgs(): cap, window, gap, lead, horizon and first-send allowance. */
export function bookingParams(maxPerSecond: number, marginMs = JITTER_MARGIN_MS, leadMs = bookingLead.ms): number[] {
  return [capOf(maxPerSecond), windowMs(marginMs), sendGapMs(maxPerSecond, marginMs), leadMs, BOOKING_HORIZON_MS, FIRST_SEND_ALLOWANCE_MS];
}

/**
 * A booking's answer, asked at `asked` (this process's clock) and answered now: the slot by this
 * process's clock, or how long to wait before asking again. A slot's round trip teaches the lead
 * and the clock offset.
 */
export function slotOf(row: BookingRow, asked: number): { slotAt: number } | { retryInMs: number } {
  if (row.slot_at === null) return { retryInMs: Number(row.retry_in_ms) };
  // Round trip to the end of the statement; the commit after it is short (the last statement).
  const answered = Date.now();
  bookingLead.observe(answered - asked);
  databaseClock.observe(Number(row.db_now), asked, answered);
  return { slotAt: Number(row.slot_at) - databaseClock.offsetMs };
}

/**
 * Books a send's slot: its time by this process's clock (converted from the database's: the
 * senders of one channel share that clock, so their sends keep their spacing), or how long to wait
 * before asking again.
 */
export async function bookSlot(tx: Tx, businessId: string, channelId: string, maxPerSecond: number, marginMs = JITTER_MARGIN_MS): Promise<{ slotAt: number } | { retryInMs: number }> {
  const asked = Date.now();
  return slotOf(await bookSlotInDatabase(tx, businessId, channelId, maxPerSecond, marginMs), asked);
}

/** The most of these times (ms) inside any one sliding second [t, t + 1000): what the cap bounds. */
export function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j] - sorted[i] >= 1000) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/**
 * The rate cap when one process owns the database (PGlite): every send of a channel passes here in
 * turn, and each goes at least one interval (the window's share of one send) after the previous
 * one actually went: no burst. PGlite's queries run on this event loop and hold it a millisecond
 * or more each, so a burst's sends would leave unevenly, later than they were counted (measured:
 * 92 in one sliding second at cap 80); spaced by the times they actually went, a sender woken late
 * only delays the ones after it, never bunches with them. No booking round trip.
 */
export class LocalPace {
  // One entry per channel that has sent (a few hundred bytes each): forgetting one would let its
  // next send go without spacing.
  private channels = new Map<string, { turn: Promise<void>; lastSentAt: number; lastExpectedAt: number }>();

  /**
   * Resolves true when this send may go (the caller sends at once, same tick), or false at once
   * when the line is longer than the booking horizon (the caller puts the message back in the
   * queue, as with a booking in the database).
   */
  async take(channelId: string, maxPerSecond: number, marginMs = JITTER_MARGIN_MS): Promise<boolean> {
    const interval = sendIntervalMs(maxPerSecond, marginMs);
    let c = this.channels.get(channelId);
    if (!c) this.channels.set(channelId, c = { turn: Promise.resolve(), lastSentAt: -Infinity, lastExpectedAt: -Infinity });
    const now = performance.now();
    const expectedAt = Math.max(c.lastExpectedAt + interval, now);
    if (expectedAt - now > BOOKING_HORIZON_MS) return false;
    c.lastExpectedAt = expectedAt;
    const ch = c;
    const mine = ch.turn.then(async () => {
      const idleFor = performance.now() - ch.lastSentAt;
      const wait = ch.lastSentAt + interval - performance.now();
      if (wait >= 1) await new Promise((res) => setTimeout(res, wait));
      // After an idle second the first send gets its allowance (see FIRST_SEND_ALLOWANCE_MS).
      ch.lastSentAt = performance.now() + (idleFor > 1000 + interval ? FIRST_SEND_ALLOWANCE_MS : 0);
      ch.lastExpectedAt = Math.max(ch.lastExpectedAt, ch.lastSentAt);
    });
    ch.turn = mine;
    await mine;
    return true;
  }
}

export const localPace = new LocalPace();
