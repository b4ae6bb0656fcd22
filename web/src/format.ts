// Money and dates as an Indian shop reads them: ₹1,300.00 (Intl en-IN), times in the business's
// time zone whatever the browser's.
import { session } from './session';

export function money(amount: string | number | null | undefined, currency = session.value?.business.currency ?? 'INR') {
  if (amount === null || amount === undefined || amount === '') return '';
  return new Intl.NumberFormat('en-IN', { style: 'currency', currency, minimumFractionDigits: 2 }).format(Number(amount));
}

const tz = () => session.value?.business.timezone ?? 'Asia/Kolkata';

export function dateTime(iso: string | null | undefined) {
  if (!iso) return '';
  return new Intl.DateTimeFormat('en-IN', { timeZone: tz(), day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' }).format(new Date(iso));
}

export function time(iso: string | null | undefined) {
  if (!iso) return '';
  return new Intl.DateTimeFormat('en-IN', { timeZone: tz(), hour: 'numeric', minute: '2-digit' }).format(new Date(iso));
}

/** YYYY-MM-DD of an instant in the business's time zone. */
export function dayKey(d: Date) {
  const p = new Intl.DateTimeFormat('en-CA', { timeZone: tz(), year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(d);
  const v = (t: string) => p.find((x) => x.type === t)?.value;
  return `${v('year')}-${v('month')}-${v('day')}`;
}

export type DueBucket = 'overdue' | 'today' | 'tomorrow' | 'later' | 'none';

/** Which column of the board a due date falls in, counted in the business's days. */
export function dueBucket(dueAt: string | null | undefined, now = new Date()): DueBucket {
  if (!dueAt) return 'none';
  const due = new Date(dueAt);
  if (due.getTime() < now.getTime()) return 'overdue';
  const d = dayKey(due);
  if (d === dayKey(now)) return 'today';
  if (d === dayKey(new Date(now.getTime() + 24 * 3600 * 1000))) return 'tomorrow';
  return 'later';
}

function offsetMs(at: number, zone: string) {
  const p = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(at));
  const v = (t: string) => Number(p.find((x) => x.type === t)?.value);
  return Date.UTC(v('year'), v('month') - 1, v('day'), v('hour'), v('minute'), v('second')) - Math.floor(at / 1000) * 1000;
}

/** "2026-11-27T17:00" on the shop's wall clock → an ISO instant (whatever the browser's zone). */
export function shopTimeToIso(local: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  let at = wall - offsetMs(wall, tz());
  at = wall - offsetMs(at, tz()); // a second pass settles a daylight-saving edge
  return new Date(at).toISOString();
}

/** An ISO instant as the value of a datetime-local input on the shop's wall clock. */
export function isoToShopTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const at = new Date(iso).getTime();
  return new Date(at + offsetMs(at, tz())).toISOString().slice(0, 16);
}
