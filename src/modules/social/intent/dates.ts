// When the customer wants their order: the due date (and time, when they give one) read from a
// message, in the business's time zone. Pure.
//
// English goes to chrono-node ("tomorrow", "Saturday 5pm", "25 Dec", "25/12", "in 2 days"); the
// Hinglish and Hindi forms customers type are read here: aaj / kal / parso (आज / कल / परसों) with
// subah, dopahar, shaam, raat and "N baje" ("kal shaam 5 baje" → tomorrow 17:00). "kal" means
// tomorrow: in an order it is never yesterday. A date is taken only when the message names the day
// (a date, a weekday, or a relative day): "at 5" or "this evening" alone give nothing, since
// nothing is guessed. A time is kept only when one is given.
// English only: the whole package loads every locale (about 12 MB more resident memory).
import { casual as chronoEnglish } from 'chrono-node/en';

export interface DueDate {
  /** The instant, ISO 8601 UTC: the given time, or the start of the day (local) when none was given. */
  due_at: string;
  /** The day as the customer meant it, in the business's time zone: YYYY-MM-DD. */
  date: string;
  /** A time of day was given ("5pm", "5 baje"). */
  time_given: boolean;
  /** The words it was read from. */
  text: string;
}

const DAY_WORDS: Record<string, number> = { aaj: 0, aj: 0, 'आज': 0, kal: 1, kl: 1, 'कल': 1, parso: 2, parson: 2, parsoo: 2, 'परसों': 2, 'परसो': 2 };
const PERIODS: Record<string, 'am' | 'noon' | 'pm'> = {
  subah: 'am', subha: 'am', 'सुबह': 'am', dopahar: 'noon', dopehar: 'noon', dupahar: 'noon', 'दोपहर': 'noon',
  shaam: 'pm', sham: 'pm', shyam: 'pm', 'शाम': 'pm', raat: 'pm', rat: 'pm', 'रात': 'pm',
};
const BAJE = new Set(['baje', 'bje', 'baj', 'bajee', 'बजे']);

/** Reads the due date from a message, or null when it names none (or none clearly). */
export function readDueDate(text: string, timeZone: string, now: Date = new Date()): DueDate | null {
  return hinglish(text, timeZone, now) ?? english(text, timeZone, now);
}

function hinglish(text: string, timeZone: string, now: Date): DueDate | null {
  const words = text.toLowerCase().normalize('NFC').split(/[\s,.!?;:()]+/).filter(Boolean);
  const dayAt = words.findIndex((w) => w in DAY_WORDS);
  if (dayAt === -1) return null;
  const offset = DAY_WORDS[words[dayAt]];
  const today = localParts(now, timeZone);
  const day = addDays(today.year, today.month, today.day, offset);
  const period = words.map((w) => PERIODS[w]).find(Boolean);
  let hour: number | null = null;
  let minute = 0;
  for (let i = 1; i < words.length; i++) {
    if (!BAJE.has(words[i])) continue;
    const m = /^(\d{1,2})(?:[:.](\d{2}))?$/.exec(words[i - 1]);
    if (!m) continue;
    hour = Number(m[1]);
    minute = m[2] ? Number(m[2]) : 0;
    break;
  }
  if (hour !== null && (hour > 23 || minute > 59)) hour = null;
  if (hour !== null && hour <= 12) {
    // With a period: shaam/raat are p.m., subah a.m., dopahar 12–4 p.m. Without one, a shop's
    // hours read 1–7 as p.m. and 8–11 as a.m.
    if (period === 'pm' || period === 'noon') hour = hour === 12 ? 12 : hour + 12;
    else if (period === 'am') hour = hour === 12 ? 0 : hour;
    else if (hour >= 1 && hour <= 7) hour += 12;
  }
  const used = [words[dayAt], ...(period ? [words.find((w) => PERIODS[w])!] : []), ...(hour !== null ? [`${hour}:${String(minute).padStart(2, '0')}`] : [])];
  return result(day, hour, minute, timeZone, used.join(' '));
}

function english(text: string, timeZone: string, now: Date): DueDate | null {
  const results = chronoEnglish.parse(text, { instant: now, timezone: offsetMinutes(now, timeZone) }, { forwardDate: true });
  for (const r of results) {
    const s = r.start;
    const namesDay = s.isCertain('day') || s.isCertain('weekday');
    if (!namesDay) continue;
    const day = { year: s.get('year')!, month: s.get('month')!, day: s.get('day')! };
    const timeGiven = s.isCertain('hour');
    return result(day, timeGiven ? s.get('hour')! : null, timeGiven ? s.get('minute') ?? 0 : 0, timeZone, r.text);
  }
  return null;
}

function result(day: { year: number; month: number; day: number }, hour: number | null, minute: number, timeZone: string, text: string): DueDate {
  const at = zonedToUtc(day.year, day.month, day.day, hour ?? 0, hour === null ? 0 : minute, timeZone);
  const date = `${day.year}-${String(day.month).padStart(2, '0')}-${String(day.day).padStart(2, '0')}`;
  return { due_at: at.toISOString(), date, time_given: hour !== null, text };
}

// ---- time zones (Intl only: no zone data of our own) ----

// Making a DateTimeFormat costs far more than using one: one per zone, kept.
const zoneFormats = new Map<string, Intl.DateTimeFormat>();

function localParts(at: Date, timeZone: string) {
  let format = zoneFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', hourCycle: 'h23',
    });
    if (zoneFormats.size < 1000) zoneFormats.set(timeZone, format); // zones are the businesses' settings: few
  }
  const parts = format.formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute') };
}

/** The zone's offset from UTC at that instant, in minutes (Asia/Kolkata: 330). */
export function offsetMinutes(at: Date, timeZone: string): number {
  const p = localParts(at, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
  return Math.round((asUtc - Math.floor(at.getTime() / 60_000) * 60_000) / 60_000);
}

/** The instant of a wall-clock time in a zone. */
export function zonedToUtc(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): Date {
  const guess = new Date(Date.UTC(year, month - 1, day, hour, minute));
  const first = new Date(guess.getTime() - offsetMinutes(guess, timeZone) * 60_000);
  // Across a DST change the offset at the answer may differ from the offset at the guess.
  return new Date(guess.getTime() - offsetMinutes(first, timeZone) * 60_000);
}

function addDays(year: number, month: number, day: number, n: number) {
  const d = new Date(Date.UTC(year, month - 1, day + n));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
