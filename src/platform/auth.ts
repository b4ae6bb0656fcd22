// Passwords (scrypt), signed access tokens (JWT HS256 with expiry), and the permission table of
// SPEC §3 — the one place that says which role may do what.
import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from './db.js';
import { forbidden, unauthorized } from './errors.js';
import { withTenant } from './tenancy.js';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;

export const ROLES = ['admin', 'manager', 'sales', 'production_worker'] as const;
export type UserRole = (typeof ROLES)[number];

export const PERMISSIONS = {
  'business.manage': ['admin'],
  'users.read': ['admin', 'manager'],
  'catalog.write': ['admin', 'manager'],
  // Reading the catalog shows prices: not for production workers (no money, SPEC §3).
  'catalog.read': ['admin', 'manager', 'sales'],
  'customers.write': ['admin', 'manager', 'sales'],
  'sales.write': ['admin', 'manager', 'sales'],
  'payments.write': ['admin', 'manager', 'sales'],
  'leads.manage': ['admin', 'manager', 'sales'],
  // Production orders carry cost and margin, so workers see their steps through /worker instead.
  'production.read': ['admin', 'manager', 'sales'],
  'production.manage': ['admin', 'manager'],
  'production.work': ['admin', 'manager', 'production_worker'],
  'social.read': ['admin', 'manager', 'sales'],
  // Answering customers, marking conversations read, linking them to customers.
  'social.reply': ['admin', 'manager', 'sales'],
} as const satisfies Record<string, readonly UserRole[]>;
export type Permission = keyof typeof PERMISSIONS;

export function can(role: UserRole, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly string[]).includes(role);
}

// ---- passwords ----
const N = 16384, R = 8, P = 1, KEYLEN = 32;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password.normalize('NFKC'), salt, KEYLEN, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(password.normalize('NFKC'), Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n), r: Number(r), p: Number(p),
  });
  return timingSafeEqual(key, expected);
}

// A real hash to compare against when the email is unknown, so both paths take as long.
export const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

// ---- tokens ----
export interface Principal {
  userId: string;
  businessId: string;
  role: UserRole;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function signToken(p: Principal, secret: Buffer, ttlSeconds: number, now = Date.now()): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const iat = Math.floor(now / 1000);
  const body = b64url(JSON.stringify({ sub: p.userId, bid: p.businessId, role: p.role, iat, exp: iat + ttlSeconds }));
  const sig = createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url');
  return `${header}.${body}.${sig}`;
}

/** Returns the principal, or undefined for a malformed, forged or expired token. */
export function verifyToken(token: string, secret: Buffer, now = Date.now()): Principal | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [header, body, sig] = parts;
  // Compare the encoded text, not the decoded bytes: base64url decoding ignores the last
  // character's spare bits, so a byte compare would accept other spellings of the signature.
  const expected = Buffer.from(createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url'));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const h = JSON.parse(Buffer.from(header, 'base64url').toString());
    if (h.alg !== 'HS256') return undefined;
    const c = JSON.parse(Buffer.from(body, 'base64url').toString());
    if (typeof c.exp !== 'number' || c.exp * 1000 <= now) return undefined;
    if (typeof c.sub !== 'string' || typeof c.bid !== 'string' || !ROLES.includes(c.role)) return undefined;
    return { userId: c.sub, businessId: c.bid, role: c.role };
  } catch {
    return undefined;
  }
}

// ---- request guard ----
export type RouteRule = Permission | 'public' | 'authenticated' | undefined;
declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'public' for routes without a bearer token; otherwise the permission the route needs. */
    auth?: Permission | 'public' | 'authenticated';
  }
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyInstance {
    /** config.auth of every route, keyed by "METHOD /path" (undefined: the route forgot its rule). */
    routeRules: Map<string, RouteRule>;
  }
}

/**
 * The token says who is asking; the user's row says whether they still may, and in which role. So a
 * deactivated user is refused, and a changed role applies, from the very next request.
 */
async function currentPrincipal(db: Database, p: Principal): Promise<Principal | undefined> {
  const r = await withTenant(db, p.businessId, (tx) =>
    tx.query<{ role: UserRole; is_active: boolean }>(`SELECT role, is_active FROM users WHERE id = $1`, [p.userId]));
  const user = r.rows[0];
  return user?.is_active ? { ...p, role: user.role } : undefined;
}

/**
 * Every /api route states its permission in config.auth; a route that forgets is refused. Tokens
 * signed with `previous` (the secret before a rotation) are accepted until their own expiry, so
 * rotating JWT_SECRET signs nobody out; new tokens are signed with `secret` only.
 */
export function registerAuth(app: FastifyInstance, secret: Buffer, previous?: Buffer) {
  app.decorateRequest('principal', null as unknown as Principal);
  // Every route's rule, by method and path, so a test can hold the OpenAPI document against them.
  const rules = new Map<string, RouteRule>();
  app.decorate('routeRules', rules);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) rules.set(`${method} ${route.url}`, route.config?.auth);
  });
  app.addHook('onRequest', async (req: FastifyRequest) => {
    if (!req.url.startsWith('/api/')) return;
    const rule = req.routeOptions.config?.auth;
    if (rule === 'public') return;
    if (!req.routeOptions.url) return; // unknown route: let the 404 handler answer
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const cookie = req.headers.authorization === undefined ? sessionCookie(req) : undefined;
    const token = m?.[1] ?? cookie;
    // A token signed with the previous JWT secret counts until its own expiry (key rotation).
    const signed = token ? (verifyToken(token, secret) ?? (previous && verifyToken(token, previous)) ?? undefined) : undefined;
    const principal = signed && (await currentPrincipal(req.server.deps.db, signed));
    if (!principal) throw unauthorized();
    if (cookie !== undefined) checkSameOrigin(req);
    req.principal = principal;
    if (rule === 'authenticated') return;
    if (!rule) throw forbidden('This route has no permission rule');
    if (!can(principal.role, rule)) throw forbidden(`Your role (${principal.role}) may not do this (${rule})`);
  });
}

// ---- the console's session cookie ----
// The web console keeps its token in an httpOnly, SameSite=Strict cookie (set by /auth/session);
// it counts only when the request has no Authorization header. A cookie rides along on any request
// the browser makes, so a state-changing one must also come from our own origin.
export const SESSION_COOKIE = 'karigar_session';

export function sessionCookie(req: FastifyRequest): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === SESSION_COOKIE) return part.slice(i + 1).trim() || undefined;
  }
  return undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** For a state-changing request: an Origin header, when sent, must name this host. */
export function checkSameOrigin(req: FastifyRequest) {
  if (SAFE_METHODS.has(req.method)) return;
  const origin = req.headers.origin;
  if (origin === undefined) return;
  if (!sameHost(origin, req.headers.host)) throw forbidden('Cross-origin request refused');
}

/** Origin `http://shop.example` names Host `shop.example:80` too: ports compare with their defaults. */
function sameHost(origin: string, host: string | undefined): boolean {
  try {
    const o = new URL(origin);
    if (!host || (o.protocol !== 'http:' && o.protocol !== 'https:')) return false;
    const h = new URL(`${o.protocol}//${host}`);
    return o.host === h.host;
  } catch {
    return false; // "null" or garbage: not ours
  }
}
