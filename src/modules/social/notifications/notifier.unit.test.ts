import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs } from './notifier.js';
import { normaliseStatus } from './statuses.js';

test('backoff doubles per attempt with jitter, is capped, and honours a provider\'s retry_after', () => {
  for (let attempt = 1; attempt <= 6; attempt++) {
    const full = 100 * 2 ** (attempt - 1);
    for (let i = 0; i < 50; i++) {
      const d = backoffMs(attempt, 100);
      assert.ok(d >= full / 2 && d <= full, `attempt ${attempt}: ${d} within [${full / 2}, ${full}]`);
    }
  }
  assert.ok(backoffMs(30, 1000) <= 5 * 60_000);
  assert.equal(backoffMs(1, 100, 35_000), 35_000, 'Telegram retry_after wins when longer');
  const spread = new Set(Array.from({ length: 20 }, () => Math.round(backoffMs(3, 1000))));
  assert.ok(spread.size > 1, 'jittered');
});

test('provider statuses map to ours; played counts as read', () => {
  assert.equal(normaliseStatus('played'), 'read');
  assert.equal(normaliseStatus('DELIVERED'), 'delivered');
  assert.equal(normaliseStatus('undelivered'), 'failed');
  assert.equal(normaliseStatus('queued'), undefined);
});
