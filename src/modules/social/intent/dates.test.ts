// Due dates read from customers' messages, in the business's time zone; nothing guessed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readDueDate, zonedToUtc, offsetMinutes } from './dates.js';

// Thursday 26 Nov 2026, 11:30 in Kolkata.
const NOW = new Date('2026-11-26T06:00:00Z');
const read = (text: string, tz = 'Asia/Kolkata') => readDueDate(text, tz, NOW);

test('English: tomorrow, a weekday with a time, a date, a numeric date, "in 2 days"', () => {
  assert.deepEqual(read('I want 2 cakes for tomorrow'), { due_at: '2026-11-26T18:30:00.000Z', date: '2026-11-27', time_given: false, text: 'tomorrow' });
  const sat = read('2 chocolate cakes, Saturday 5pm pickup');
  assert.deepEqual([sat?.date, sat?.due_at, sat?.time_given], ['2026-11-28', '2026-11-28T11:30:00.000Z', true]);
  assert.deepEqual([read('25 Dec please')?.date, read('25 Dec please')?.time_given], ['2026-12-25', false]);
  assert.equal(read('deliver on 25/12')?.date, '2026-12-25');
  assert.equal(read('need it in 2 days')?.date, '2026-11-28');
});

test('Hinglish and Hindi: kal, parso, aaj, with shaam / subah and "N baje"', () => {
  assert.deepEqual(read('kal shaam 5 baje 2 cake chahiye'), { due_at: '2026-11-27T11:30:00.000Z', date: '2026-11-27', time_given: true, text: 'kal shaam 17:00' });
  assert.deepEqual([read('parso chahiye')?.date, read('parso chahiye')?.time_given], ['2026-11-28', false]);
  assert.equal(read('aaj raat 8 baje tak')?.due_at, '2026-11-26T14:30:00.000Z');
  assert.equal(read('kal subah 10 baje')?.due_at, '2026-11-27T04:30:00.000Z');
  assert.equal(read('कल शाम 5 बजे 2 केक चाहिए')?.due_at, '2026-11-27T11:30:00.000Z');
  assert.equal(read('परसों चाहिए')?.date, '2026-11-28');
  // Without a period, a shop's 1–7 is the afternoon.
  assert.equal(read('kal 4 baje')?.due_at, '2026-11-27T10:30:00.000Z');
});

test('an unclear date is left empty, never guessed', () => {
  for (const text of ['I want 2 chocolate cakes', 'at 5', 'this evening please', 'on the 5th', '1 kg kaju katli', 'call me at 98765 43210']) {
    assert.equal(read(text), null, text);
  }
});

test('the business\'s time zone decides the day and the instant', () => {
  // 23:30 UTC on the 26th is already the 27th in Kolkata: "tomorrow" there is the 28th.
  const late = new Date('2026-11-26T23:30:00Z');
  assert.equal(readDueDate('tomorrow', 'Asia/Kolkata', late)?.date, '2026-11-28');
  assert.equal(readDueDate('tomorrow', 'America/New_York', late)?.date, '2026-11-27');
  assert.equal(offsetMinutes(NOW, 'Asia/Kolkata'), 330);
  assert.equal(zonedToUtc(2026, 7, 1, 9, 0, 'Europe/London').toISOString(), '2026-07-01T08:00:00.000Z');
  assert.equal(zonedToUtc(2026, 12, 1, 9, 0, 'Europe/London').toISOString(), '2026-12-01T09:00:00.000Z');
});
