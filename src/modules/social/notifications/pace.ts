// The per-channel rate cap: GCRA with no burst. A channel's row in channel_send_pace holds the
// earliest time its next send may go; taking a slot moves it one interval on, atomically, in the
// database every process shares, so sends of one channel go at least one interval apart whichever
// process sends them. The pure rule is here (and unit-tested); bookSlot() applies it in one SQL
// statement.
import { prepared } from '../../../platform/db.js';
import type { Tx } from '../../../platform/tenancy.js';

/**
 * Spacing slack per sliding second, in ms. A send leaves at its slot but arrives a little later,
 * by a varying amount (timer and event-loop lag, the commit, the network). Sends spaced exactly
 * 1000/cap ms apart would let the cap + 1st arrival fall inside the 1st's second whenever the
 * 1st is later than the cap + 1st; spacing them (1000 + margin)/cap ms apart tolerates a spread
 * of arrival delays up to the margin. The price: at most cap × 1000 / (1000 + margin) sends/s
 * (79.2/s at cap 80).
 */
export const JITTER_MARGIN_MS = 10; // the default of SEND_JITTER_MARGIN_MS
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
 * path), and the sends after it are not: the slot after it comes this much later, so the cap + 1st
 * send still falls outside its second. Once per burst, not per send.
 */
export const FIRST_SEND_ALLOWANCE_MS = 50;

/** The least time between two sends of one channel at this cap. */
export function sendIntervalMs(maxPerSecond: number, marginMs = JITTER_MARGIN_MS): number {
  const cap = Number.isFinite(maxPerSecond) && maxPerSecond > 0 ? maxPerSecond : 80;
  return (1000 + marginMs) / cap;
}

export type Booking =
  | { slotAt: number; nextSlotAt: number }
  | { retryAt: number };

/**
 * GCRA without burst tolerance: a send asking at `now` gets the later of now (plus the lead) and
 * the channel's next free slot, and the next free slot moves one interval past it; a slot more than horizonMs
 * away is not booked, and the send should ask again at retryAt (when it will be within half the
 * horizon, unless others have booked meanwhile).
 */
export function bookSlotAt(nextSlotAt: number | undefined, now: number, intervalMs: number, horizonMs = BOOKING_HORIZON_MS,
  leadMs = BOOKING_LEAD_MS, firstAllowanceMs = FIRST_SEND_ALLOWANCE_MS): Booking {
  const soonest = now + leadMs;
  const slotAt = Math.max(nextSlotAt ?? 0, soonest);
  if (slotAt - now > horizonMs) return { retryAt: slotAt - horizonMs / 2 };
  const idle = nextSlotAt === undefined || nextSlotAt < soonest - 1000;
  return { slotAt, nextSlotAt: slotAt + intervalMs + (idle ? firstAllowanceMs : 0) };
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
 * The same rule in the database: one statement, the row locked only until the transaction ends,
 * the clock the database's. Answers the slot's time (ms since the epoch by this process's clock,
 * converted from the database's: the senders of one channel share that clock, so their sends keep
 * their spacing), or how long to wait before asking again.
 */
export async function bookSlot(tx: Tx, businessId: string, channelId: string, maxPerSecond: number, marginMs = JITTER_MARGIN_MS): Promise<{ slotAt: number } | { retryInMs: number }> {
  const interval = sendIntervalMs(maxPerSecond, marginMs);
  const asked = Date.now();
  // EXCLUDED carries this booking's soonest slot (last_slot_at) and the idle case's next slot; the
  // SET reads the row as it was, RETURNING as it is now.
  const booked = await tx.query<{ slot_at: number }>(prepared(
    `INSERT INTO channel_send_pace AS p (business_id, channel_id, last_slot_at, next_slot_at)
     SELECT $1, $2, soonest, soonest + make_interval(secs => ($3::float8 + $6::float8) / 1000)
       FROM (SELECT clock_timestamp() + make_interval(secs => $5::float8 / 1000) AS soonest) c
     ON CONFLICT (business_id, channel_id) DO UPDATE
       SET last_slot_at = greatest(p.next_slot_at, EXCLUDED.last_slot_at),
           next_slot_at = CASE WHEN p.next_slot_at < EXCLUDED.last_slot_at - interval '1 second' THEN EXCLUDED.next_slot_at
             ELSE greatest(p.next_slot_at, EXCLUDED.last_slot_at) + make_interval(secs => $3::float8 / 1000) END
       WHERE p.next_slot_at <= EXCLUDED.last_slot_at + make_interval(secs => ($4::float8 - $5::float8) / 1000)
     RETURNING (extract(epoch FROM p.last_slot_at) * 1000)::float8 AS slot_at, (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS db_now`),
    [businessId, channelId, interval, BOOKING_HORIZON_MS, bookingLead.ms, FIRST_SEND_ALLOWANCE_MS]);
  const row = booked.rows[0] as { slot_at: number; db_now: number } | undefined;
  if (row) {
    // Round trip to the end of the statement; the commit after it is short (the last statement).
    bookingLead.observe(Date.now() - asked);
    databaseClock.observe(Number(row.db_now), asked, Date.now());
    return { slotAt: Number(row.slot_at) - databaseClock.offsetMs };
  }
  const ahead = await tx.query<{ ms: number }>(
    `SELECT (extract(epoch FROM (next_slot_at - clock_timestamp())) * 1000)::float8 AS ms FROM channel_send_pace WHERE channel_id = $1`, [channelId]);
  return { retryInMs: Math.max(50, Number(ahead.rows[0]?.ms ?? 0) - BOOKING_HORIZON_MS / 2) };
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
 * turn, and each goes at least one interval after the previous one actually went. Spacing by the
 * actual send times, a sender woken late (PGlite's queries run on this event loop and delay
 * timers) only delays the ones after it, never bunches with them; no booking round trip.
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
