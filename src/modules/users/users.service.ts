// Businesses, their users, and signing in.
import { randomUUID } from 'node:crypto';
import type { Config } from '../../config.js';
import type { Database } from '../../platform/db.js';
import { DUMMY_HASH, hashPassword, signToken, verifyPassword, type UserRole } from '../../platform/auth.js';
import { AppError, badRequest, conflict, notFound, unauthorized } from '../../platform/errors.js';
import { checkPasswordAttempt } from './password-attempts.js';
import { addressKey, countAttempt, forgiveAttempt, LOGIN_WINDOW_SECONDS, REGISTER_WINDOW_SECONDS, REGISTRATIONS_PER_EMAIL } from './attempt-limits.js';
import { withoutTenant, withTenant, type Tx } from '../../platform/tenancy.js';
import { cursorClause, decodeCursor, page } from '../../platform/pagination.js';
import type { Ctx } from '../context.js';
import { recordAudit } from '../audit/index.js';

const BUSINESS_COLS = 'id, name, currency, locale, country, timezone';
const USER_COLS = 'id, name, email, role, is_active';

export interface RegisterInput {
  business_name: string; name: string; email: string; password: string;
  currency?: string; locale?: string; country?: string; timezone?: string;
}

function checkTimezone(tz: string) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw badRequest('Invalid timezone', [{ field: 'timezone', message: 'is not an IANA time zone' }]);
  }
}

async function insertUser(tx: Tx, businessId: string, u: { name: string; email: string; password: string; role: UserRole }) {
  const email = u.email.trim().toLowerCase();
  const id = randomUUID();
  // The global login index owns email uniqueness: one email signs in to exactly one business.
  const taken = await tx.query(
    `INSERT INTO user_logins (email, business_id, user_id) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING`,
    [email, businessId, id],
  );
  if (taken.rowCount === 0) throw conflict('A user with this email already exists', 'email_taken');
  const r = await tx.query(
    `INSERT INTO users (business_id, id, name, email, role, password_hash) VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING ${USER_COLS}`,
    [businessId, id, u.name.trim(), email, u.role, await hashPassword(u.password)],
  );
  return r.rows[0];
}

function session(config: Config, user: any, business: any) {
  const token = signToken({ userId: user.id, businessId: business.id, role: user.role }, config.jwtSecret, config.tokenTtlSeconds);
  return { token, user, business };
}

/** `address` is the client's (req.ip): sign-ups are limited per address and per email. */
export async function registerBusiness(db: Database, config: Config, input: RegisterInput, address: string) {
  // A request refused for its content does no work and is not counted.
  if (input.timezone) checkTimezone(input.timezone);
  await countAttempt(db, addressKey(address), 'register', config.registrationsPerAddress, REGISTER_WINDOW_SECONDS);
  await countAttempt(db, `email:${input.email.trim().toLowerCase()}`, 'register', REGISTRATIONS_PER_EMAIL, REGISTER_WINDOW_SECONDS);
  const businessId = randomUUID();
  return withTenant(db, businessId, async (tx) => {
    const b = await tx.query(
      `INSERT INTO businesses (id, name, currency, locale, country, timezone)
       VALUES ($1, $2, coalesce($3, 'INR'), coalesce($4, 'en-IN'), coalesce($5, 'IN'), coalesce($6, 'Asia/Kolkata'))
       RETURNING ${BUSINESS_COLS}`,
      [businessId, input.business_name.trim(), input.currency ?? null, input.locale ?? null, input.country ?? null, input.timezone ?? null],
    );
    const user = await insertUser(tx, businessId, { ...input, role: 'admin' });
    await recordAudit(tx, { principal: { userId: user.id, businessId, role: 'admin' } }, {
      action: 'business.registered', entity_type: 'user', entity_id: user.id,
      summary: `registered ${b.rows[0].name} and became its admin (${user.email})`,
      changes: { role: [null, 'admin'] },
    });
    return session(config, user, b.rows[0]);
  });
}

/**
 * Signs in under two limits: wrong passwords per email (password-attempts.ts) and per client
 * address (`address`, req.ip), so guesses spread over many emails from one address are refused too.
 */
export async function login(db: Database, config: Config, email: string, password: string, address: string) {
  const key = email.trim().toLowerCase();
  const wrong = () => unauthorized('Wrong email or password');
  const from = addressKey(address);
  await countAttempt(db, from, 'login', config.loginAttemptsPerAddress, LOGIN_WINDOW_SECONDS);
  const signedIn = await checkPasswordAttempt(db, key, async () => {
    const found = await withoutTenant(db, (tx) =>
      tx.query<{ business_id: string; user_id: string }>(`SELECT business_id, user_id FROM user_logins WHERE email = $1`, [key]),
    );
    const entry = found.rows[0];
    if (!entry) {
      await verifyPassword(password, DUMMY_HASH); // same work either way: no email probing by timing
      return null;
    }
    return withTenant(db, entry.business_id, async (tx) => {
      const u = await tx.query(`SELECT ${USER_COLS}, password_hash FROM users WHERE id = $1`, [entry.user_id]);
      const row = u.rows[0];
      if (!row || !(await verifyPassword(password, row.password_hash))) return null;
      if (!row.is_active) throw unauthorized('This account has been deactivated; ask your admin');
      const b = await tx.query(`SELECT ${BUSINESS_COLS} FROM businesses WHERE id = $1`, [entry.business_id]);
      const { password_hash, ...user } = row;
      return session(config, user, b.rows[0]);
    });
  }, wrong);
  await forgiveAttempt(db, from, 'login');
  return signedIn;
}

export async function me(ctx: Ctx) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const u = await tx.query(`SELECT ${USER_COLS} FROM users WHERE id = $1`, [ctx.principal.userId]);
    if (!u.rows[0]) throw unauthorized('This user no longer exists');
    const b = await tx.query(`SELECT ${BUSINESS_COLS} FROM businesses WHERE id = $1`, [ctx.principal.businessId]);
    return { user: u.rows[0], business: b.rows[0] };
  });
}

export async function createUser(ctx: Ctx, input: { name: string; email: string; password: string; role: UserRole }) {
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const user = await insertUser(tx, ctx.principal.businessId, input);
    await recordAudit(tx, ctx, {
      action: 'user.created', entity_type: 'user', entity_id: user.id,
      summary: `added ${user.name} (${user.email}) as ${ROLE_WORDS[user.role as UserRole]}`,
      changes: { role: [null, user.role], is_active: [null, true] },
    });
    return user;
  });
}

export async function listUsers(ctx: Ctx, q: { limit?: number; cursor?: string; role?: string; is_active?: boolean }) {
  const limit = q.limit ?? 50;
  const c = cursorClause(decodeCursor(q.cursor), 'u', 4);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query<any>(
      `SELECT ${USER_COLS}, u.created_at::text AS cursor_ts FROM users u
       WHERE ($2::text IS NULL OR u.role = $2) AND ($3::boolean IS NULL OR u.is_active = $3) ${c.sql}
       ORDER BY u.created_at DESC, u.id DESC LIMIT $1`,
      [limit + 1, q.role ?? null, q.is_active ?? null, ...c.params],
    );
    return page(r.rows, limit);
  });
}

/**
 * Renames, changes the role of, deactivates or reactivates a user. The business always keeps an
 * active admin: the last one cannot be demoted or deactivated. Takes effect on the user's next
 * request (the auth hook reads the row each time).
 */
export async function updateUser(ctx: Ctx, id: string, input: { name?: string; role?: UserRole; is_active?: boolean }) {
  const name = input.name === undefined ? null : input.name.trim();
  if (name === '') throw badRequest('Invalid name', [{ field: 'name', message: 'must not be blank' }]);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    // Every active admin's row is locked, in one order: two admins demoting each other at once take
    // turns, and the second sees that only one admin is left.
    const admins = await tx.query<{ id: string }>(`SELECT id FROM users WHERE role = 'admin' AND is_active ORDER BY id FOR UPDATE`);
    const cur = await tx.query<{ role: UserRole; is_active: boolean; name: string }>(`SELECT role, is_active, name FROM users WHERE id = $1 FOR UPDATE`, [id]);
    const user = cur.rows[0];
    if (!user) throw notFound('User');
    const losesAdmin = user.role === 'admin' && user.is_active && ((input.role !== undefined && input.role !== 'admin') || input.is_active === false);
    if (losesAdmin && admins.rows.length <= 1) {
      throw conflict('This is the last active admin; make another user admin first', 'last_admin');
    }
    const r = await tx.query(
      `UPDATE users SET name = coalesce($2, name), role = coalesce($3, role), is_active = coalesce($4, is_active), updated_at = now()
       WHERE id = $1 RETURNING ${USER_COLS}`,
      [id, name, input.role ?? null, input.is_active ?? null]);
    await auditUserChange(tx, ctx, user, r.rows[0]);
    return r.rows[0];
  });
}

/**
 * Changes the caller's own password. A wrong current password is 400 (not 401: the session is
 * fine, the field is wrong) and counts toward the same limit as failed sign-ins.
 */
export async function changePassword(ctx: Ctx, input: { current_password: string; new_password: string }) {
  const u = await withTenant(ctx.db, ctx.principal.businessId, (tx) =>
    tx.query<{ email: string; password_hash: string }>(`SELECT email, password_hash FROM users WHERE id = $1`, [ctx.principal.userId]));
  const user = u.rows[0];
  if (!user) throw unauthorized('This user no longer exists');
  const hash = await hashPassword(input.new_password);
  await checkPasswordAttempt(ctx.db, user.email, async () => {
    if (!(await verifyPassword(input.current_password, user.password_hash))) return null;
    await withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
      await tx.query(`UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, [ctx.principal.userId, hash]);
      await recordAudit(tx, ctx, {
        action: 'user.password_changed', entity_type: 'user', entity_id: ctx.principal.userId, summary: 'changed their password',
      });
    });
    return true;
  }, () => new AppError(400, 'wrong_password', 'The current password is wrong', [{ field: 'current_password', message: 'is not your current password' }]));
}

const ROLE_WORDS: Record<UserRole, string> = {
  admin: 'an admin', manager: 'a manager', sales: 'a salesperson', production_worker: 'a production worker',
};

/** One entry per kind of change: a role, the account switched off or on, a new name. */
async function auditUserChange(tx: Tx, ctx: Ctx, before: { role: UserRole; is_active: boolean; name: string }, after: { id: string; role: UserRole; is_active: boolean; name: string }) {
  const entry = (action: string, summary: string, changes: Record<string, [unknown, unknown]>) =>
    recordAudit(tx, ctx, { action, entity_type: 'user', entity_id: after.id, summary, changes });
  if (before.role !== after.role) {
    await entry('user.role_changed', `changed ${after.name}'s role from ${ROLE_WORDS[before.role].replace(/^an? /, '')} to ${ROLE_WORDS[after.role].replace(/^an? /, '')}`,
      { role: [before.role, after.role] });
  }
  if (before.is_active !== after.is_active) {
    await entry(after.is_active ? 'user.reactivated' : 'user.deactivated',
      after.is_active ? `reactivated ${after.name}'s account` : `deactivated ${after.name}'s account (signed out at once)`,
      { is_active: [before.is_active, after.is_active] });
  }
  if (before.name !== after.name) {
    await entry('user.renamed', `renamed ${before.name} to ${after.name}`, { name: [before.name, after.name] });
  }
}
