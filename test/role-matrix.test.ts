// The role matrix, generated from the service's own OpenAPI document: every /api/v1 operation has a
// rule (its route's config.auth), and is tried with every role and without a token. The answer is
// 403 exactly when the role lacks the rule's permission in PERMISSIONS (src/platform/auth.ts), 401
// without a token, and the same for everyone on a public route. A new route cannot ship without a
// rule, and a rule cannot drift from the table unnoticed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { buildTestApp, type TestApp } from './helpers/app.js';
import { call, newBusiness, newUser, type Biz } from './helpers/client.js';
import { PERMISSIONS, ROLES, type Permission, type UserRole } from '../src/platform/auth.js';

let t: TestApp;
const as: Partial<Record<UserRole, Biz>> = {};
before(async () => {
  t = await buildTestApp();
  const admin = await newBusiness(t.app, 'Role Matrix Bakery');
  as.admin = admin;
  for (const role of ROLES) if (role !== 'admin') as[role] = await newUser(t.app, admin, role);
});
after(async () => { await t.close(); });

/** A value for each path parameter: any well-formed id will do (the record need not exist). */
const PARAM_VALUES: Record<string, () => string> = { event: () => 'order.ready', channelType: () => 'whatsapp' };
const concrete = (path: string) => path.replace('/api/v1', '').replace(/\{(\w+)\}/g, (_m, name: string) => (PARAM_VALUES[name] ?? randomUUID)());

test('every operation in the OpenAPI document has a rule, and each role gets 403 exactly when the permission table says so', async () => {
  const doc = (await t.app.inject('/docs/json')).json();
  const ops: { method: string; path: string; hasBody: boolean }[] = [];
  for (const [path, byMethod] of Object.entries<any>(doc.paths)) {
    if (!path.startsWith('/api/v1/')) continue;
    for (const [method, op] of Object.entries<any>(byMethod)) ops.push({ method: method.toUpperCase(), path, hasBody: Boolean(op.requestBody) });
  }
  assert.ok(ops.length >= 50, `found ${ops.length} operations`);

  const rules = new Set<string>(['public', 'authenticated', ...Object.keys(PERMISSIONS)]);
  const seen: string[] = [];
  for (const op of ops) {
    const key = `${op.method} ${op.path.replace(/\{(\w+)\}/g, ':$1')}`;
    const rule = t.app.routeRules.get(key);
    assert.ok(rule !== undefined, `${key} has no config.auth rule`);
    assert.ok(rules.has(rule), `${key}: unknown rule ${rule}`);
    // The live stream never ends for a caller who may read it: only its refusals are tried.
    const streams = op.path.endsWith('/stream');
    const url = concrete(op.path);
    const send = (token?: string) => call(t.app, op.method, url, { token, ...(op.hasBody ? { body: {} } : {}) });

    const anonymous = await send();
    const answers = new Map<UserRole, number>();
    for (const role of ROLES) {
      const allowed = rule === 'public' || rule === 'authenticated' || (PERMISSIONS[rule as Permission] as readonly string[]).includes(role);
      if (streams && allowed) continue;
      const r = await send(as[role]!.token);
      answers.set(role, r.status);
      assert.ok(r.status < 500, `${key} as ${role}: ${r.status} ${JSON.stringify(r.body)}`);
      if (rule === 'public') continue;
      if (allowed) assert.ok(r.status !== 401 && r.status !== 403, `${key} as ${role} (${rule}): ${r.status} ${JSON.stringify(r.body)}`);
      else {
        assert.equal(r.status, 403, `${key} as ${role} lacks ${rule}: ${r.status}`);
        assert.equal(r.body.code, 'forbidden');
      }
      seen.push(`${key} ${role} ${r.status}`);
    }
    if (rule === 'public') {
      // Who asks makes no difference on a public route.
      for (const [role, status] of answers) assert.equal(status, anonymous.status, `${key}: ${role} got ${status}, anonymous ${anonymous.status}`);
    } else {
      assert.equal(anonymous.status, 401, `${key} without a token: ${anonymous.status}`);
    }
  }
  assert.ok(seen.length > 150, `tried ${seen.length} (operation, role) pairs`);
});

test('a route without a rule is refused, not open', async () => {
  // Not in the document: registered here on purpose, without config.auth.
  const { buildApp } = await import('../src/app.js');
  const app = await buildApp({ config: t.config, db: t.db, logger: false });
  app.get('/api/v1/forgotten', async () => ({ secret: 'data' }));
  await app.ready();
  assert.equal(app.routeRules.get('GET /api/v1/forgotten'), undefined);
  const r = await call(app, 'GET', '/forgotten', { token: as.admin!.token });
  assert.equal(r.status, 403);
  assert.match(r.body.detail, /no permission rule/);
  await app.close();
});
