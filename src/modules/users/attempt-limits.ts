// Sign-in and sign-up attempts counted per client address (and sign-ups per email), beside the
// per-email limit on wrong passwords (password-attempts.ts). One address spraying guesses over many
// emails, or making business after business, is refused with 429 and Retry-After until its window
// ends. Counted in the database, so every API process sees the same count.
import { isIP } from 'node:net';
import type { Database } from '../../platform/db.js';
import { tooManyRequests } from '../../platform/errors.js';
import { withoutTenant } from '../../platform/tenancy.js';

export type LimitedAction = 'login' | 'register';
export const LOGIN_WINDOW_SECONDS = 15 * 60;
export const REGISTER_WINDOW_SECONDS = 60 * 60;
/** Sign-ups tried for one email per hour (a taken email answers 409; this stops probing). */
export const REGISTRATIONS_PER_EMAIL = 5;

/**
 * The key an address is counted under: IPv4 as it is (an IPv4-mapped IPv6 address included), IPv6
 * by its /64 — one customer's line usually holds a whole /64, so counting single addresses there
 * would let one client rotate through billions.
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return `ip:${mapped[1]}`;
  if (isIP(ip) !== 6) return `ip:${ip}`;
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl] : h;
  return `ip:${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '').toLowerCase()).join(':')}::/64`;
}

/**
 * Counts one attempt for `key`; refuses it (429) when the key has used up `limit` in its window.
 * The attempt is counted before the work is done, so attempts sent in parallel cannot slip past.
 */
export async function countAttempt(db: Database, key: string, action: LimitedAction, limit: number, windowSeconds: number): Promise<void> {
  const r = await withoutTenant(db, async (tx) => {
    const counted = await tx.query<{ attempts: number; remaining: number }>(
    `INSERT INTO attempt_counts AS a (key, action, attempts, window_started_at) VALUES ($1, $2, 1, now())
     ON CONFLICT (key, action) DO UPDATE SET
       attempts = CASE WHEN a.window_started_at <= now() - make_interval(secs => $3) THEN 1 ELSE a.attempts + 1 END,
       window_started_at = CASE WHEN a.window_started_at <= now() - make_interval(secs => $3) THEN now() ELSE a.window_started_at END
     RETURNING attempts, extract(epoch FROM (window_started_at + make_interval(secs => $3) - now()))::float8 AS remaining`,
    [key, action, windowSeconds]);
    // A new window is a good moment to forget keys nobody has used for a day.
    if (counted.rows[0].attempts === 1) await tx.query(`DELETE FROM attempt_counts WHERE window_started_at < now() - interval '1 day'`);
    return counted;
  });
  const { attempts, remaining } = r.rows[0];
  if (attempts > limit) {
    const what = action === 'login' ? 'sign-in attempts' : 'sign-ups';
    const from = key.startsWith('email:') ? 'for this email' : 'from your network address';
    throw tooManyRequests(`Too many ${what} ${from}; try again in ${Math.max(1, Math.ceil(remaining / 60))} minute(s)`, remaining, 'too_many_attempts');
  }
}

/** A successful sign-in gives its attempt back: only wrong passwords use up an address's allowance. */
export async function forgiveAttempt(db: Database, key: string, action: LimitedAction): Promise<void> {
  await withoutTenant(db, (tx) =>
    tx.query(`UPDATE attempt_counts SET attempts = greatest(attempts - 1, 0) WHERE key = $1 AND action = $2`, [key, action]));
}
