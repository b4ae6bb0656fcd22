// Businesses, their users, and signing in.
import { randomUUID } from 'node:crypto';
import type { Config } from '../../config.js';
import type { Database } from '../../platform/db.js';
import { DUMMY_HASH, hashPassword, signToken, verifyPassword, type UserRole } from '../../platform/auth.js';
import { badRequest, conflict, unauthorized } from '../../platform/errors.js';
import { withoutTenant, withTenant, type Tx } from '../../platform/tenancy.js';
import { cursorClause, decodeCursor, page } from '../../platform/pagination.js';
import type { Ctx } from '../context.js';

const BUSINESS_COLS = 'id, name, currency, locale, country, timezone';
const USER_COLS = 'id, name, email, role';

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

export async function registerBusiness(db: Database, config: Config, input: RegisterInput) {
  if (input.timezone) checkTimezone(input.timezone);
  const businessId = randomUUID();
  return withTenant(db, businessId, async (tx) => {
    const b = await tx.query(
      `INSERT INTO businesses (id, name, currency, locale, country, timezone)
       VALUES ($1, $2, coalesce($3, 'INR'), coalesce($4, 'en-IN'), coalesce($5, 'IN'), coalesce($6, 'Asia/Kolkata'))
       RETURNING ${BUSINESS_COLS}`,
      [businessId, input.business_name.trim(), input.currency ?? null, input.locale ?? null, input.country ?? null, input.timezone ?? null],
    );
    const user = await insertUser(tx, businessId, { ...input, role: 'admin' });
    return session(config, user, b.rows[0]);
  });
}

export async function login(db: Database, config: Config, email: string, password: string) {
  const found = await withoutTenant(db, (tx) =>
    tx.query<{ business_id: string; user_id: string }>(`SELECT business_id, user_id FROM user_logins WHERE email = $1`, [email.trim().toLowerCase()]),
  );
  const entry = found.rows[0];
  if (!entry) {
    await verifyPassword(password, DUMMY_HASH); // same work either way: no email probing by timing
    throw unauthorized('Wrong email or password');
  }
  return withTenant(db, entry.business_id, async (tx) => {
    const u = await tx.query(`SELECT ${USER_COLS}, password_hash FROM users WHERE id = $1`, [entry.user_id]);
    const row = u.rows[0];
    if (!row || !(await verifyPassword(password, row.password_hash))) throw unauthorized('Wrong email or password');
    const b = await tx.query(`SELECT ${BUSINESS_COLS} FROM businesses WHERE id = $1`, [entry.business_id]);
    const { password_hash, ...user } = row;
    return session(config, user, b.rows[0]);
  });
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
  return withTenant(ctx.db, ctx.principal.businessId, (tx) => insertUser(tx, ctx.principal.businessId, input));
}

export async function listUsers(ctx: Ctx, q: { limit?: number; cursor?: string; role?: string }) {
  const limit = q.limit ?? 50;
  const c = cursorClause(decodeCursor(q.cursor), 'u', 3);
  return withTenant(ctx.db, ctx.principal.businessId, async (tx) => {
    const r = await tx.query<any>(
      `SELECT ${USER_COLS}, u.created_at::text AS cursor_ts FROM users u
       WHERE ($2::text IS NULL OR u.role = $2) ${c.sql}
       ORDER BY u.created_at DESC, u.id DESC LIMIT $1`,
      [limit + 1, q.role ?? null, ...c.params],
    );
    return page(r.rows, limit);
  });
}
