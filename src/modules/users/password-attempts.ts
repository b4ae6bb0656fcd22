// Repeated wrong passwords for one email are slowed, then refused for a short cool-down (429 with
// Retry-After). Counted in the database, so every API process sees the same count, and per email
// whether or not it exists, so the answers never tell which emails are registered. The right
// person is never locked out for long: after the cool-down the count starts again, and a correct
// password clears it.
import type { Database } from '../../platform/db.js';
import { tooManyRequests } from '../../platform/errors.js';
import { withoutTenant } from '../../platform/tenancy.js';

/** Wrong passwords allowed within WINDOW before the cool-down. */
export const MAX_FAILURES = 5;
const WINDOW = '15 minutes';
export const COOL_DOWN_SECONDS = 5 * 60;
/** From the third attempt in a window, each answer waits a little longer (250 ms, 500 ms, …). */
const SLOW_AFTER = 2;
const SLOW_STEP_MS = 250;

/**
 * Counts this attempt before the password is checked, so guesses sent in parallel cannot slip past
 * the count; refuses it while the email cools down. A lock that has run out, or a window that has
 * passed, starts a fresh count.
 */
async function beginAttempt(db: Database, email: string): Promise<number> {
  const r = await withoutTenant(db, (tx) => tx.query<{ failures: number; locked_for: number | null }>(
    `INSERT INTO login_attempts AS a (email, failures, window_started_at, last_attempt_at) VALUES ($1, 1, now(), now())
     ON CONFLICT (email) DO UPDATE SET
       failures = CASE WHEN a.locked_until > now() THEN a.failures
                       WHEN a.locked_until IS NOT NULL OR a.window_started_at < now() - $2::interval THEN 1
                       ELSE a.failures + 1 END,
       window_started_at = CASE WHEN a.locked_until > now() THEN a.window_started_at
                       WHEN a.locked_until IS NOT NULL OR a.window_started_at < now() - $2::interval THEN now()
                       ELSE a.window_started_at END,
       locked_until = CASE WHEN a.locked_until > now() THEN a.locked_until
                       WHEN a.locked_until IS NULL AND a.window_started_at >= now() - $2::interval AND a.failures >= $3
                         THEN now() + make_interval(secs => $4)
                       ELSE NULL END,
       last_attempt_at = now()
     RETURNING failures, extract(epoch FROM (locked_until - now()))::float8 AS locked_for`,
    [email, WINDOW, MAX_FAILURES, COOL_DOWN_SECONDS]));
  const { failures, locked_for } = r.rows[0];
  if (locked_for !== null && locked_for > 0) {
    throw tooManyRequests(`Too many wrong passwords for this email; try again in ${Math.ceil(locked_for / 60)} minute(s)`, locked_for, 'too_many_attempts');
  }
  return failures;
}

async function recordFailure(db: Database, email: string) {
  await withoutTenant(db, async (tx) => {
    // The last allowed failure starts the cool-down; the next attempt is refused without a check.
    await tx.query(
      `UPDATE login_attempts SET locked_until = now() + make_interval(secs => $3)
       WHERE email = $1 AND failures >= $2 AND locked_until IS NULL`, [email, MAX_FAILURES, COOL_DOWN_SECONDS]);
    await tx.query(`DELETE FROM login_attempts WHERE last_attempt_at < now() - interval '1 day'`);
  });
}

/**
 * Runs one password check for an email under the attempt limit: `check` returns its result, or
 * null for a wrong password (then `wrong()` is thrown). A right password clears the count.
 */
export async function checkPasswordAttempt<T>(db: Database, email: string, check: () => Promise<T | null>, wrong: () => Error): Promise<T> {
  const failures = await beginAttempt(db, email);
  if (failures > SLOW_AFTER) await new Promise((r) => setTimeout(r, (failures - SLOW_AFTER) * SLOW_STEP_MS));
  const result = await check();
  if (result === null) {
    await recordFailure(db, email);
    throw wrong();
  }
  await withoutTenant(db, (tx) => tx.query(`DELETE FROM login_attempts WHERE email = $1`, [email]));
  return result;
}
