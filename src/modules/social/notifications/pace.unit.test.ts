// The rate cap's arithmetic: GCRA without burst keeps every sliding second at or under the cap,
// whatever order and timing the senders ask in, and with arrival delays spread up to the margin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bookSlotAt, busiestSecond, FIRST_SEND_ALLOWANCE_MS, JITTER_MARGIN_MS, sendIntervalMs } from './pace.js';

/** Runs senders asking at the given times (ms) through the rule; the times their sends go. */
function simulate(asks: number[], cap: number, horizonMs = 2000): number[] {
  const interval = sendIntervalMs(cap);
  let next: number | undefined;
  const sent: number[] = [];
  const queue = [...asks].sort((a, b) => a - b);
  while (queue.length) {
    const now = queue.shift()!;
    const b = bookSlotAt(next, now, interval, horizonMs);
    if ('retryAt' in b) {
      assert.ok(b.retryAt > now, 'a refused send asks again later');
      queue.push(b.retryAt);
      queue.sort((a, c) => a - c);
      continue;
    }
    assert.ok(b.slotAt > now && b.slotAt - now <= horizonMs);
    next = b.nextSlotAt;
    sent.push(b.slotAt);
  }
  return sent;
}

test('the interval is a little over 1000/cap ms: the margin for arrival jitter', () => {
  assert.equal(sendIntervalMs(80), (1000 + JITTER_MARGIN_MS) / 80);
  assert.equal(sendIntervalMs(1), 1000 + JITTER_MARGIN_MS);
  assert.equal(sendIntervalMs(0), sendIntervalMs(80), 'a missing or broken cap is the WhatsApp default');
  assert.equal(sendIntervalMs(Number.NaN), sendIntervalMs(80));
});

test('a slot is now when the channel is idle, else the next free one; never twice the same', () => {
  assert.deepEqual(bookSlotAt(undefined, 1000, 100, 2000, 0, 0), { slotAt: 1000, nextSlotAt: 1100 });
  assert.deepEqual(bookSlotAt(undefined, 1000, 100, 2000, 10, 0), { slotAt: 1010, nextSlotAt: 1110 }, 'never sooner than the lead');
  assert.deepEqual(bookSlotAt(undefined, 1000, 100, 2000, 10, 50), { slotAt: 1010, nextSlotAt: 1160 }, 'the first send of a burst leaves room after it');
  assert.deepEqual(bookSlotAt(500, 1000, 100, 2000, 0, 50), { slotAt: 1000, nextSlotAt: 1100 }, 'idle time is not saved up (no burst)');
  assert.deepEqual(bookSlotAt(-100, 1000, 100, 2000, 0, 50), { slotAt: 1000, nextSlotAt: 1150 }, 'idle over a second: a new burst');
  assert.deepEqual(bookSlotAt(1300, 1000, 100, 2000, 10, 50), { slotAt: 1300, nextSlotAt: 1400 });
  assert.deepEqual(bookSlotAt(4000, 1000, 100, 2000, 10, 50), { retryAt: 3000 }, 'beyond the horizon: ask again when within half of it');
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

test('a backlog goes out at the cap less the margin, never faster', () => {
  const sent = simulate(Array.from({ length: 450 }, () => 0), 80).slice(1); // after the first send's allowance
  const rate = (sent.length - 1) / ((sent.at(-1)! - sent[0]) / 1000);
  assert.ok(Math.abs(rate - 80 * 1000 / (1000 + JITTER_MARGIN_MS)) < 0.01, String(rate));
  assert.equal(busiestSecond(sent), 80);
});

test('the first send of a burst may arrive up to the margin plus its allowance late without crowding a second', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 200 }), fc.double({ min: 0, max: JITTER_MARGIN_MS + FIRST_SEND_ALLOWANCE_MS - 1e-6, noNaN: true }), (cap, firstLate) => {
    const sent = simulate(Array.from({ length: cap * 3 }, () => 0), cap);
    sent[0] += firstLate;
    assert.ok(busiestSecond(sent) <= cap);
  }), { numRuns: 200 });
});
