// Property-based tests (fast-check): every write route's body, generated from the route's own
// schema in the OpenAPI document and then made hostile (wrong types, NULs, unpaired surrogates,
// junk keys), and the webhook parsers and endpoints fed real provider payloads, mutated. Whatever
// the input: no 5xx, and a refused request leaves no row behind. Run counts are modest: the suite
// runs on PGlite and on PostgreSQL.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { buildTestApp, type TestApp } from './helpers/app.js';
import { call, newBusiness, newCustomer, newProduct, newSale, newUser, ok, type Biz } from './helpers/client.js';
import { signMeta, signTwilio } from '../src/modules/social/webhooks/signatures.js';
import { parseMessenger, parseMetaWhatsApp, parseTelegram, parseTwilio, PayloadError } from '../src/modules/social/webhooks/parsers/index.js';

let t: TestApp;
let shop: Biz;
const ids: Record<string, string[]> = {};
before(async () => {
  t = await buildTestApp();
  shop = await newBusiness(t.app, 'Property Bakery');
  const product = await newProduct(t.app, shop);
  const customer = await newCustomer(t.app, shop);
  const draft = await newSale(t.app, shop, customer.id, [{ product_id: product.id, quantity: 1 }]);
  const final = await newSale(t.app, shop, customer.id, [{ product_id: product.id, quantity: 2 }]);
  const finalized = ok(await call(t.app, 'POST', `/sales/${final.id}/finalize`, { token: shop.token }));
  const order = ok(await call(t.app, 'GET', `/production-orders/${finalized.production_order_id}`, { token: shop.token }));
  const worker = await newUser(t.app, shop, 'production_worker');
  const channel = ok(await call(t.app, 'POST', '/social/channels', { token: shop.token, body: { channel_type: 'telegram', api_key: '1:tok', webhook_secret: 'tg-secret', settings: { provider: 'sandbox' } } }), 201);
  // Ids that exist, so generated requests reach the services and not only the 404s.
  ids.id = [product.id, customer.id, draft.id, final.id, order.id, worker.user.id, channel.id];
  ids.step_id = order.steps.map((s: any) => s.id);
  ids.uuid = [product.id, customer.id, draft.id, final.id, worker.user.id, channel.id];
});
after(async () => { await t.close(); });

// ---- values ----
const NASTY_STRINGS = ['', ' ', '\u0000', 'a\u0000b', '\ud800', 'x\udfff', '%00', '\\u0000', '<script>', "'; DROP TABLE sales; --", '💥'.repeat(3), 'ॐ', '1e309', '1e300', '-0', 'NaN'];
const nastyString = fc.oneof(fc.constantFrom(...NASTY_STRINGS), fc.string({ maxLength: 12 }),
  fc.tuple(fc.string({ maxLength: 6 }), fc.constantFrom('\u0000', '\ud800', '\udc00')).map(([s, bad]) => s + bad));
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString, fc.constant(null), fc.boolean(), fc.integer({ min: -1e6, max: 1e6 }), fc.double({ noNaN: true }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0, 1e308), fc.array(nastyString, { maxLength: 2 }), fc.dictionary(nastyString, nastyString, { maxKeys: 2 }),
);

/** An arbitrary for a JSON schema (as the OpenAPI document has it): usually valid, sometimes hostile. */
function fromSchema(s: any, depth = 0): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 4, arbitrary: validish(s, depth) }, { weight: 1, arbitrary: nastyValue });
}

function validish(s: any, depth: number): fc.Arbitrary<unknown> {
  if (!s || depth > 4) return nastyValue;
  const variants = s.anyOf ?? s.oneOf;
  if (variants) return fc.oneof(...variants.map((v: any) => fromSchema(v, depth + 1)));
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.const !== undefined) return fc.constant(s.const);
  const base = (() => {
    switch (s.type) {
      case 'object': {
        const props: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [k, v] of Object.entries<any>(s.properties ?? {})) props[k] = fromSchema(v, depth + 1);
        return fc.tuple(fc.record(props, { requiredKeys: (s.required ?? []).filter((k: string) => k in props) }), fc.dictionary(nastyString, nastyValue, { maxKeys: 1 }))
          .map(([known, extra]) => ({ ...extra, ...known }));
      }
      case 'array': return fc.array(fromSchema(s.items, depth + 1), { maxLength: 3 });
      case 'integer': return fc.integer({ min: s.minimum ?? -10, max: s.maximum ?? 1000 });
      case 'number': return fc.double({ min: s.minimum ?? -10, max: s.maximum ?? 1e6, noNaN: true });
      case 'boolean': return fc.boolean();
      case 'string':
        if (s.format === 'uuid') return fc.oneof(fc.constantFrom(...ids.uuid), fc.uuid());
        if (s.format === 'email') return fc.oneof(fc.emailAddress(), nastyString);
        if (s.format === 'date-time' || s.format === 'date') return fc.oneof(fc.date({ min: new Date(2020, 0, 1), max: new Date(2030, 0, 1), noInvalidDate: true }).map((d) => s.format === 'date' ? d.toISOString().slice(0, 10) : d.toISOString()), nastyString);
        if (s.pattern && /\\d|\[0-9\]/.test(s.pattern)) return fc.oneof(fc.integer({ min: 0, max: 99999 }).map((n) => (n / 100).toFixed(2)), nastyString);
        return fc.oneof(fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 24, 24) }), nastyString);
      default: return nastyValue;
    }
  })();
  return s.nullable ? fc.oneof(base, fc.constant(null)) : base;
}

// ---- rows ----
let tables: string[] = [];
/**
 * Rows in every table the API writes to, but the attempt counters: sign-in and sign-up attempts
 * are counted by design when refused (a wrong password, a taken email, a 429).
 */
async function rows(): Promise<Record<string, number>> {
  if (!tables.length) {
    tables = (await t.db.query<{ relname: string }>(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
       WHERE c.relkind = 'r' AND c.relname NOT IN ('login_attempts', 'attempt_counts', 'schema_migrations') ORDER BY 1`)).rows.map((r) => r.relname);
  }
  const r = await t.db.query(`SELECT ${tables.map((name) => `(SELECT count(*)::int FROM "${name}") AS "${name}"`).join(', ')}`);
  return r.rows[0];
}

test('every write route, whatever its body: never a 5xx, and a refused request writes no row', async () => {
  const doc = (await t.app.inject('/docs/json')).json();
  const routes: { method: string; path: string; schema: any }[] = [];
  for (const [path, byMethod] of Object.entries<any>(doc.paths)) {
    if (!path.startsWith('/api/v1/') || path.includes('/webhook/')) continue;
    for (const [method, op] of Object.entries<any>(byMethod)) {
      const schema = op.requestBody?.content?.['application/json']?.schema;
      if (schema) routes.push({ method: method.toUpperCase(), path, schema });
    }
  }
  assert.ok(routes.length >= 20, `found ${routes.length} write routes`);
  let refused = 0, accepted = 0;
  for (const route of routes) {
    const param = (name: string) => fc.constantFrom(...(name === 'event' ? ['order.ready', 'lead.ack', 'nope'] : [...(ids[name] ?? ids.id), randomUUID()]));
    const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    const url = fc.tuple(...names.map(param)).map((values) => names.reduce((p, n, i) => p.replace(`{${n}}`, String(values[i])), route.path.replace('/api/v1', '')));
    await fc.assert(fc.asyncProperty(url, fromSchema(route.schema), async (path, body) => {
      const before = await rows();
      const r = await call(t.app, route.method, path, { token: shop.token, body });
      assert.ok(r.status < 500, `${route.method} ${path} ${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`);
      if (r.status >= 400) {
        refused++;
        assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
        assert.deepEqual(await rows(), before, `${route.method} ${path} ${JSON.stringify(body)} → ${r.status} wrote rows`);
      } else accepted++;
    }), { numRuns: Number(process.env.FC_RUNS ?? 12), ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) });
  }
  // Both kinds happened: the generator reaches the services, not only the validator.
  assert.ok(refused > 50 && accepted > 0, `refused ${refused}, accepted ${accepted}`);
});

// ---- webhooks ----
const PAYLOADS = new URL('./fixtures/payloads/', import.meta.url);
const fixtures = (dir: URL) => readdirSync(dir).filter((f) => f.endsWith('.json') || f.endsWith('.txt')).map((f) => ({ name: f, raw: readFileSync(new URL(f, dir), 'utf8') }));
const ALL = [...fixtures(PAYLOADS), ...fixtures(new URL('real/', PAYLOADS)).map((f) => ({ ...f, name: `real/${f.name}` }))];

type Path = (string | number)[];
function paths(v: unknown, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}
type Op = 'replace' | 'delete' | 'wrap' | 'nul';
/** The payload with the value at one of its paths replaced, removed, wrapped in an array, or given a NUL. */
function mutate(v: unknown, pick: number, op: Op, value: unknown): unknown {
  const copy = structuredClone(v);
  const all = paths(copy);
  const at = all[pick % all.length];
  if (op === 'nul') {
    // A NUL inside one of the payload's strings (a text, a name, an id), as a provider may send it.
    const strings = all.filter((p) => p.length && typeof p.reduce((o: any, k) => o?.[k], copy) === 'string');
    if (!strings.length) return copy;
    const p = strings[pick % strings.length];
    const parent: any = p.slice(0, -1).reduce((o: any, k) => o[k], copy);
    const s: string = parent[p[p.length - 1]];
    parent[p[p.length - 1]] = `${s.slice(0, 1)}\u0000${s.slice(1)}`;
    return copy;
  }
  if (!at.length) return op === 'wrap' ? [copy] : value;
  let parent: any = copy;
  for (const k of at.slice(0, -1)) parent = parent[k];
  const key = at[at.length - 1];
  if (op === 'delete') Array.isArray(parent) ? parent.splice(Number(key), 1) : delete parent[key];
  else parent[key] = op === 'wrap' ? [parent[key]] : value;
  return copy;
}
const mutation = fc.array(fc.tuple(fc.nat(), fc.constantFrom<Op>('replace', 'delete', 'wrap', 'nul', 'nul'), nastyValue), { minLength: 1, maxLength: 3 });
const applyAll = (v: unknown, ms: [number, Op, unknown][]) => ms.reduce((acc, [pick, op, value]) => mutate(acc, pick, op, value), v);

const parserFor = (name: string) => name.includes('twilio') ? (b: any) => parseTwilio(b)
  : name.includes('telegram') ? parseTelegram
  : name.includes('messenger') || name.includes('instagram') ? parseMessenger
  : parseMetaWhatsApp;
const decode = (f: { name: string; raw: string }) => (f.name.endsWith('.txt') ? Object.fromEntries(new URLSearchParams(f.raw)) : JSON.parse(f.raw));

test('the webhook parsers, fed real provider payloads mutated: a result or a PayloadError, never anything else', async () => {
  assert.ok(ALL.length >= 25, `found ${ALL.length} fixtures`);
  for (const f of ALL) {
    const parse = parserFor(f.name);
    const original = decode(f);
    parse(original); // the untouched payload parses
    fc.assert(fc.property(mutation, (ms) => {
      try {
        const groups = parse(applyAll(original, ms));
        assert.ok(Array.isArray(groups));
      } catch (err) {
        if (!(err instanceof PayloadError)) throw new Error(`${f.name}: ${(err as Error)?.stack ?? err}`);
      }
    }), { numRuns: 40 });
  }
});

test('the webhook endpoints, fed signed real payloads mutated: never a 5xx, and a refused one stores nothing', async () => {
  const biz = await newBusiness(t.app, 'Webhook Property Shop');
  const secret = `app-secret-${randomUUID()}`;
  const made = async (body: Record<string, unknown>) => ok(await call(t.app, 'POST', '/social/channels', { token: biz.token, body }), 201);
  for (const pnid of ['106540352242922', '110200300400500', '1122334455667']) {
    await made({ channel_type: 'whatsapp', account_id: pnid, api_key: 'tok', webhook_secret: secret, settings: { provider: 'sandbox' } });
  }
  await made({ channel_type: 'facebook', account_id: '107215851468253', api_key: 'tok', webhook_secret: secret, settings: { provider: 'sandbox' } });
  await made({ channel_type: 'instagram', account_id: '17841405822304914', api_key: 'tok', webhook_secret: secret, settings: { provider: 'sandbox' } });
  const tg = await made({ channel_type: 'telegram', api_key: '1:tok', webhook_secret: 'tg-prop-secret', settings: { provider: 'sandbox' } });
  await made({ channel_type: 'whatsapp', phone_number: '+14155238886', api_key: 'AC', api_secret: 'twilio-prop', settings: { provider: 'twilio' } });
  const stored = async () => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM social_messages WHERE business_id = $1`, [biz.business.id])).rows[0].n;

  async function post(name: string, payload: unknown, asText: boolean) {
    if (name.includes('twilio')) {
      const fields = Object.fromEntries(Object.entries(payload && typeof payload === 'object' ? payload : {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
      const path = '/api/v1/social/webhook/whatsapp';
      return t.app.inject({ method: 'POST', url: path, payload: new URLSearchParams(fields).toString(), headers: {
        'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilio(`${t.config.publicBaseUrl}${path}`, fields, 'twilio-prop') } });
    }
    const raw = Buffer.from(asText ? String(payload) : JSON.stringify(payload) ?? 'null');
    if (name.includes('telegram')) {
      return t.app.inject({ method: 'POST', url: `/api/v1/social/webhook/telegram?channel_id=${tg.id}`, payload: raw,
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'tg-prop-secret' } });
    }
    const type = name.includes('messenger') ? 'facebook' : name.includes('instagram') ? 'instagram' : 'whatsapp';
    return t.app.inject({ method: 'POST', url: `/api/v1/social/webhook/${type}`, payload: raw,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signMeta(raw, secret) } });
  }

  let refused = 0, accepted = 0;
  for (const f of ALL) {
    const original = decode(f);
    await fc.assert(fc.asyncProperty(mutation, fc.boolean(), async (ms, truncate) => {
      const mutated = applyAll(original, ms);
      // Now and then the bytes themselves are cut short: malformed JSON, still signed.
      const asText = truncate && !f.name.endsWith('.txt');
      const payload = asText ? JSON.stringify(mutated)?.slice(0, -3) : mutated;
      const before = await stored();
      const r = await post(f.name, payload, asText);
      assert.ok(r.statusCode < 500, `${f.name} ${JSON.stringify(ms)} → ${r.statusCode} ${r.body}`);
      if (r.statusCode >= 400) {
        refused++;
        assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
        assert.equal(await stored(), before, `${f.name}: a refused webhook stored a message`);
      } else accepted++;
    }), { numRuns: 6 });
  }
  assert.ok(refused > 10 && accepted > 10, `refused ${refused}, accepted ${accepted}`);
});
