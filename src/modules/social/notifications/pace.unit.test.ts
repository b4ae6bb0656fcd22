// The rate cap's arithmetic: the sliding window keeps every sliding second at or under the cap,
// whatever order and timing the senders ask in, and with arrival delays spread up to the margin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bookSlotAt, busiestSecond, capOf, earliestSlot, FIRST_SEND_ALLOWANCE_MS, JITTER_MARGIN_MS, NO_SENDS, sendGapMs, windowMs, withSend, type PaceState } from './pace.js';

/** Runs senders asking at the given times (ms) through the rule; the times their sends go. */
function simulate(asks: number[], cap: number, horizonMs = 2000): number[] {
  let state: PaceState = NO_SENDS;
  const sent: number[] = [];
  const queue = [...asks].sort((a, b) => a - b);
  while (queue.length) {
    const now = queue.shift()!;
    const b = bookSlotAt(state, now, cap, JITTER_MARGIN_MS, horizonMs);
    if ('retryAt' in b) {
      assert.ok(b.retryAt > now, 'a refused send asks again later');
      queue.push(b.retryAt);
      queue.sort((a, c) => a - c);
      continue;
    }
    assert.ok(b.slotAt > now && b.slotAt - now <= horizonMs);
    assert.ok(sent.length === 0 || b.slotAt >= sent.at(-1)!, 'slots never go back in time');
    state = b.state;
    sent.push(b.slotAt);
  }
  return sent;
}

test('the window is a second and the margin; the gap a few ms, and never holds a channel under its cap', () => {
  assert.equal(windowMs(), 1000 + JITTER_MARGIN_MS);
  assert.equal(sendGapMs(80), 2);
  assert.equal(sendGapMs(1000), windowMs() / 1000);
  assert.equal(capOf(0), 80, 'a missing or broken cap is the WhatsApp default');
  assert.equal(capOf(Number.NaN), 80);
  assert.equal(capOf(2.7), 2);
});

test('a slot is now (plus the lead) when the channel is idle; a gap after the last; a window after the cap-th latest', () => {
  const b = (state: PaceState, now: number, cap: number, lead = 0) => bookSlotAt(state, now, cap, 10, 2000, lead, 50);
  assert.deepEqual(b(NO_SENDS, 1000, 3), { slotAt: 1000, state: { last: 1000, recent: [1050] } }, 'the first send counts its allowance');
  assert.equal((b(NO_SENDS, 1000, 3, 10) as any).slotAt, 1010, 'never sooner than the lead');
  const two: PaceState = { last: 1002, recent: [1050, 1002] };
  assert.equal((b(two, 1000, 3) as any).slotAt, 1004, 'a burst: one gap after the last');
  const full: PaceState = { last: 1004, recent: [1050, 1002, 1004] };
  assert.equal((b(full, 1005, 3) as any).slotAt, 1002 + 1010, 'the window is full: one window after the cap-th latest');
  assert.deepEqual((b({ last: 2000, recent: [1050, 1002, 1004, 2000] }, 2030, 5) as any).state.recent, [1050, 2000, 2030], 'slots a window old are forgotten');
  assert.deepEqual((b(full, 2100, 3) as any).state.recent, [2150], 'after an idle second a new burst, its first send with the allowance');
  assert.deepEqual(b({ last: 4000, recent: [4000] }, 1000, 1), { retryAt: 4000 + 1010 - 1000 }, 'beyond the horizon: ask again when within half of it');
  assert.equal(earliestSlot({ last: 100, recent: [] }, 1200, 3).idle, true, 'a second without a send: a new burst');
});

test('busiestSecond counts sends in the fullest half-open one-second window', () => {
  assert.equal(busiestSecond([]), 0);
  assert.equal(busiestSecond([0, 999]), 2);
  assert.equal(busiestSecond([0, 1000]), 1);
  assert.equal(busiestSecond([5, 0, 500, 1499, 1500]), 3);
});

test('any burst of senders at any cap: every sliding second holds at most the cap, even with arrival delays spread up to the margin', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 1000 }),
    fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 400 }),
    fc.array(fc.double({ min: 0, max: JITTER_MARGIN_MS - 1e-6, noNaN: true }), { minLength: 1, maxLength: 50 }),
    (cap, asks, jitter) => {
      const sent = simulate(asks, cap);
      assert.equal(sent.length, asks.length, 'every sender gets a slot in the end');
      const arrivals = sent.map((t, i) => t + jitter[i % jitter.length]);
      assert.ok(busiestSecond(arrivals) <= cap, `cap ${cap}: ${busiestSecond(arrivals)} in one second`);
    }), { numRuns: 300 });
});

test('a backlog: the cap goes at once, then the cap every window; never more than the cap in a second', () => {
  const sent = simulate(Array.from({ length: 450 }, () => 0), 80);
  assert.equal(busiestSecond(sent), 80);
  assert.ok(sent[79] - sent[0] < 200, `the first 80 within ${sent[79] - sent[0]} ms`);
  // Each send goes one window after the one 80 before it (the first's allowance added).
  for (let i = 80; i < sent.length; i++) assert.ok(sent[i] >= sent[i - 80] + windowMs() - 1e-9, `send ${i}`);
  const rate = (sent.length - 1) / ((sent.at(-1)! - sent[0]) / 1000);
  assert.ok(rate > 80 && rate < 90, `450 sends at ${rate}/s`);
  // A long backlog tends to the cap per window.
  const long = simulate(Array.from({ length: 4000 }, (_, i) => Math.floor(i / 80) * 1010), 80);
  const longRate = (long.length - 1) / ((long.at(-1)! - long[0]) / 1000);
  assert.ok(Math.abs(longRate - 80 * 1000 / windowMs()) < 1.5, String(longRate));
});

test('the first send of a burst may arrive up to the margin plus its allowance late without crowding a second', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 200 }), fc.double({ min: 0, max: JITTER_MARGIN_MS + FIRST_SEND_ALLOWANCE_MS - 1e-6, noNaN: true }), (cap, firstLate) => {
    const sent = simulate(Array.from({ length: cap * 3 }, () => 0), cap);
    sent[0] += firstLate;
    assert.ok(busiestSecond(sent) <= cap);
  }), { numRuns: 200 });
});

test('the state stays small: only the last window of sends is kept', () => {
  let state: PaceState = NO_SENDS;
  for (let t = 0; t < 60_000; t += 5) state = withSend(state, t, false);
  assert.ok(state.recent.length <= windowMs() / 5 + 1, String(state.recent.length));
});
