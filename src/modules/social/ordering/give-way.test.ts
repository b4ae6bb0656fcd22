import assert from 'node:assert/strict';
import test from 'node:test';
import { BUSY_WEBHOOKS_PER_SECOND, GIVE_WAY_FACTOR, MAX_REST_MS, PerSecond, restAfterRead } from './give-way.js';

test('the inbound step rests only while webhooks are busy, in proportion to its read, up to a bound', () => {
  assert.equal(restAfterRead(100, 0), 0);
  assert.equal(restAfterRead(100, BUSY_WEBHOOKS_PER_SECOND), 0);
  assert.equal(restAfterRead(100, BUSY_WEBHOOKS_PER_SECOND + 1), 100 * GIVE_WAY_FACTOR);
  assert.equal(restAfterRead(10_000, 5_000), MAX_REST_MS);
  assert.equal(restAfterRead(0, 5_000), 0);
  assert.equal(restAfterRead(Number.NaN, 5_000), 0);
  assert.equal(restAfterRead(100, Number.NaN), 0);
});

test('a per-second count reports the last whole second, and 0 once a second passed with none', () => {
  let now = 1_000_000;
  const rate = new PerSecond(() => now);
  for (let i = 0; i < 250; i++) rate.note();
  assert.equal(rate.perSecond, 0); // the first second is not over yet
  now += 1000;
  assert.equal(rate.perSecond, 250);
  rate.note(40);
  now += 500;
  assert.equal(rate.perSecond, 250); // still the last whole second
  now += 500;
  assert.equal(rate.perSecond, 40);
  now += 2500;
  assert.equal(rate.perSecond, 0);
});
