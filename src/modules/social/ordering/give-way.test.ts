import assert from 'node:assert/strict';
import test from 'node:test';
import { BUSY_WEBHOOKS_PER_SECOND, GIVE_WAY_FACTOR, MAX_REST_MS, restAfterRead } from './give-way.js';

test('the inbound step rests only while webhooks are busy, in proportion to its read, up to a bound', () => {
  assert.equal(restAfterRead(100, 0), 0);
  assert.equal(restAfterRead(100, BUSY_WEBHOOKS_PER_SECOND), 0);
  assert.equal(restAfterRead(100, BUSY_WEBHOOKS_PER_SECOND + 1), 100 * GIVE_WAY_FACTOR);
  assert.equal(restAfterRead(10_000, 5_000), MAX_REST_MS);
  assert.equal(restAfterRead(0, 5_000), 0);
  assert.equal(restAfterRead(Number.NaN, 5_000), 0);
  assert.equal(restAfterRead(100, Number.NaN), 0);
});
