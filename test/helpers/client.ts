// A small HTTP client over app.inject and factories that make each test's own data.
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import type { App } from '../../src/app.js';
import { noteSecrets } from './suite-log.js';

export interface Res<T = any> {
  status: number;
  body: T;
  headers: Record<string, any>;
}

export async function call<T = any>(app: App, method: string, url: string, opts: { token?: string; body?: unknown; headers?: Record<string, string>; payload?: string | Buffer } = {}): Promise<Res<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let payload: string | Buffer | undefined = opts.payload;
  if (opts.body !== undefined) {
    payload = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  noteSecrets(opts.body);
  const r = await app.inject({ method: method as any, url: `/api/v1${url}`, headers, payload });
  let body: any = r.body;
  try {
    body = r.body ? JSON.parse(r.body) : undefined;
  } catch { /* not JSON */ }
  noteSecrets(body);
  return { status: r.statusCode, body, headers: r.headers };
}

/** Asserts a problem+json answer with this status. */
export function assertProblem(r: Res, status: number, code?: string) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
  assert.equal(r.body.status, status);
  assert.ok(r.body.title && r.body.type && typeof r.body.detail === 'string');
  if (code) assert.equal(r.body.code, code);
}

export function ok<T = any>(r: Res<T>, status = 200): T {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

export interface Biz {
  token: string;
  user: { id: string; name: string; email: string; role: string };
  business: { id: string; name: string };
}

export async function newBusiness(app: App, name = 'Sweet Crumbs Bakery'): Promise<Biz> {
  return ok(await call(app, 'POST', '/auth/register', {
    body: { business_name: name, name: 'Asha Owner', email: `owner-${randomUUID()}@example.com`, password: 'correct horse' },
  }), 201);
}

export async function newUser(app: App, admin: Biz, role: string, name = `${role} user`): Promise<Biz> {
  const email = `${role}-${randomUUID()}@example.com`;
  const user = ok(await call(app, 'POST', '/users', { token: admin.token, body: { name, email, password: 'worker pass', role } }), 201);
  const login = ok(await call(app, 'POST', '/auth/login', { body: { email, password: 'worker pass' } }));
  return { token: login.token, user, business: login.business };
}

// Active product names are unique per business: each made here gets its own unless one is given.
let productSeq = 0;
export async function newProduct(app: App, biz: Biz, body: Record<string, unknown> = {}) {
  productSeq += 1;
  return ok(await call(app, 'POST', '/products', {
    token: biz.token, body: { name: `Chocolate cake ${productSeq}`, price: '650.00', production_steps: ['Bake', 'Decorate', 'Pack'], ...body },
  }), 201);
}

let mobileSeq = 0;
export function uniqueMobile(): string {
  mobileSeq += 1;
  return `+9198${String(Date.now() % 1e6).padStart(6, '0')}${String(mobileSeq % 100).padStart(2, '0')}`;
}

export async function newCustomer(app: App, biz: Biz, body: Record<string, unknown> = {}) {
  return ok(await call(app, 'POST', '/customers', { token: biz.token, body: { name: 'Ravi Kumar', mobile: uniqueMobile(), ...body } }), 201);
}

export async function newSale(app: App, biz: Biz, customerId: string, items: { product_id: string; quantity: number; unit_price?: string }[]) {
  return ok(await call(app, 'POST', '/sales', { token: biz.token, body: { customer_id: customerId, items } }), 201);
}
