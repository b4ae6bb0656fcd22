import assert from 'node:assert/strict';
import test from 'node:test';
import { PerSecond } from './webhooks.ingest.js';

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
