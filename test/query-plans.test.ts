// Cost does not grow with history: every statement the hot paths run — the webhook storing a
// message, the background reading it (lead, draft on confirmation, acknowledgement), the notifier
// sending, the conversations list — finds its rows by an index, never by reading a business's
// whole log. The statements are the real ones: recorded while the real paths run over HTTP, then
// each is EXPLAINed as its business, with its own parameters, over tables holding a history of
// other businesses and never analysed (the planner's defaults, as on a fresh or freshly grown
// database), and once more after ANALYZE.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { buildApp, type App } from '../src/app.js';
import { isPrepared, literal, prepared, type Database, type QueryResult, type TxHandle } from '../src/platform/db.js';
import { withTenant } from '../src/platform/tenancy.js';
import { startRuntime, type Runtime } from '../src/runtime.js';
import { eventually, onPostgres, silentLog, testConfig, testDatabase } from './helpers/app.js';
import { call, newBusiness, newCustomer, newProduct, ok } from './helpers/client.js';
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { seedHistory } from './helpers/history.js';
import { metaText, newWamid, postMeta } from './helpers/webhooks.js';

/** The tables that grow with history: none of them may be read whole by a hot statement. */
const HISTORY_TABLES = ['social_messages', 'sales', 'leads', 'customers', 'conversations', 'held_messages'];

interface Recorded { sql: string; params: unknown[]; businessId: string }

/** The database, recording every statement run in a business's transaction (with that business). */
function recording(db: Database, log: Recorded[]): Database {
  return {
    kind: db.kind,
    raw: db.raw,
    get outbox() { return db.outbox; },
    set outbox(o) { db.outbox = o; },
    query: (sql, params) => db.query(sql, params),
    exec: (sql) => db.exec(sql),
    // The webhook's batches (one script calling receive_messages()) are not recorded: the function's
    // own statements are planned inside it, with generic plans: the test after this one counts what they read.
    script: (sql) => db.script(sql),
    close: () => db.close(),
    transaction: (fn, opts) => db.transaction((h) => {
      // The business is set in the transaction's set-up script, as a quoted literal.
      const businessId: string | null = /set_config\('app\.business_id', E?'([0-9a-f-]{36})'/.exec(opts?.setup ?? '')?.[1] ?? null;
      const handle: TxHandle = {
        query(sql, params = []) {
          if (businessId) log.push({ sql, params, businessId });
          return h.query(sql, params);
        },
        exec: (sql) => h.exec(sql),
      };
      return fn(handle);
    }, opts),
  } as Database;
}

let db: Database;
let drop: () => Promise<void>;
let app: App;
let runtime: Runtime;
let fake: FakeProvider;
let early: Awaited<ReturnType<typeof pinned>>;
const log: Recorded[] = [];

before(async () => {
  ({ db, drop } = await testDatabase());
  if (onPostgres()) {
    // The case under test is "never analysed": autovacuum must not analyse the tables meanwhile.
    for (const t of HISTORY_TABLES) await db.exec(`ALTER TABLE ${t} SET (autovacuum_enabled = false)`);
  }
  fake = await startFakeProvider();
  const config = testConfig({ META_GRAPH_API_URL: `${fake.url}/meta` });
  const recorded = recording(db, log);
  runtime = await startRuntime({ config, db: recorded, log: silentLog, role: 'all', pollingIntervalSeconds: 0.5 });
  app = await buildApp({ config, db: recorded, logger: false });
  await app.ready();
  // The first batches of a new database, one shop's, planned on a connection that keeps the plans.
  early = await pinned();
  await seedHistory(db, { businesses: 1, customersPer: 10, messagesPerConversation: 1, salesPerCustomer: 0 }, 'Early');
  const [ch] = (await db.query<{ business_id: string; id: string; version: number }>(
    `SELECT c.business_id, c.id, c.version FROM social_channels c JOIN businesses b ON b.id = c.business_id WHERE b.name = 'Early shop 1'`)).rows;
  const first = () => [{ r: 0, b: ch.business_id, c: ch.id, v: Number(ch.version), pid: `wamid.early.${randomUUID()}`, from_number: '+919812300001',
    from_e164: '+919812300001', from_user_id: null, to_number: '+919000000000', text: 'hello', type: 'text', metadata: {}, edited_at: null,
    address: '+919812300001', name: 'Early' }];
  await readsOf(`SELECT outcome FROM hold_messages($1::jsonb, ARRAY[]::text[])`, first(), early.run);
  await readsOf(`SELECT outcome FROM receive_messages($1::jsonb, ARRAY[]::text[])`, first(), early.run);
  // Then the history grows: 20 businesses × 50 customers × 10 messages = 10,000 messages; 1,000 customers, conversations, sales and leads.
  await seedHistory(db, { businesses: 20, customersPer: 50, messagesPerConversation: 10, salesPerCustomer: 1 });
});

after(async () => {
  early.release();
  await app.close();
  await runtime.stop();
  await drop();
  await fake.close();
});

/**
 * Every node of a plan that reads one of the history tables whole, or a business's whole share of
 * it: a Seq Scan, or an index scan whose only condition is the business (row-level security's
 * `business_id = app_business_id()`) — unless a Limit above it stops it after a page of rows
 * (a list in the index's order).
 */
function wholeScans(plan: any, opts: { byBusiness: boolean }, underLimit = false, found: string[] = []): string[] {
  const type: string = plan['Node Type'];
  const limited = underLimit || type === 'Limit';
  if (type === 'Seq Scan' && HISTORY_TABLES.includes(plan['Relation Name'])) found.push(`Seq Scan on ${plan['Relation Name']}`);
  if (/Index/.test(type) && plan['Index Name'] && HISTORY_TABLES.some((t) => plan['Index Name'].startsWith(t) || plan['Relation Name'] === t)) {
    // The business condition, as written or with app_business_id() inlined.
    const cond = String(plan['Index Cond'] ?? '')
      .replace(/business_id = (app_business_id\(\)|\(NULLIF\(current_setting\('app\.business_id'::text, true\), ''::text\)\)::uuid)/g, '');
    if (opts.byBusiness && !/[=<>]/.test(cond) && !limited) found.push(`${type} on ${plan['Index Name']} by business only`);
  }
  for (const child of plan.Plans ?? []) wholeScans(child, opts, limited, found);
  return found;
}

let preparedCount = 0;

/**
 * The plan a connection keeps for a prepared hot statement (db.ts prepared()) when PostgreSQL
 * settles on its generic plan: made without the parameters' values, so it must find its rows by
 * an index for any of them.
 */
async function genericPlan(s: Recorded): Promise<QueryResult<any>> {
  const name = `plans_generic_${++preparedCount}`;
  // Each recorded parameter in the text form the driver sent (an array would need PostgreSQL's array syntax: none is one).
  const text = (v: unknown) => (v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const args = s.params.map((v) => (v === null || v === undefined ? 'NULL' : literal(text(v))));
  return withTenant(db, s.businessId, async (tx) => {
    await tx.query(`PREPARE ${name} AS ${s.sql}`);
    await tx.query(`SET LOCAL plan_cache_mode = force_generic_plan`);
    const r = await tx.query(`EXPLAIN (FORMAT JSON) EXECUTE ${name}${args.length ? `(${args.join(', ')})` : ''}`);
    await tx.query(`DEALLOCATE ${name}`);
    return r;
  });
}

async function explainAll(statements: Recorded[], opts = { byBusiness: true }) {
  const bad: string[] = [];
  for (const s of statements) {
    const plans: [string, QueryResult<any>][] = [['', await withTenant(db, s.businessId, (tx) => tx.query(`EXPLAIN (FORMAT JSON) ${s.sql}`, s.params))]];
    if (isPrepared(s.sql)) plans.push(['generic plan: ', await genericPlan(s)]);
    for (const [kind, r] of plans) {
      const raw = Object.values(r.rows[0])[0];
      const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw)[0].Plan;
      const scans = wholeScans(plan, opts);
      if (scans.length && process.env.DEBUG_PLANS) console.log(JSON.stringify(plan, null, 1));
      if (scans.length) bad.push(`${kind}${scans.join(', ')} by: ${s.sql.replace(/\s+/g, ' ').slice(0, 200)}`);
    }
  }
  return bad;
}

// The webhook's batches are stored by receive_messages() and, in a burst, held by hold_messages()
// (migrations 0010, 0014), whose statements are planned inside the functions with generic plans,
// once per connection, at the first call: what they read is counted instead. Twice: on a
// connection that made its plans while the database was new and empty and kept them as the
// history grew (the planner's guesses then fit a few rows; a fresh deployment in its first burst),
// and after ANALYZE. Each in its own business of the stored history.
async function storingReadsByKey(shop: number, run: InTransaction = anyConnection) {
  // A business of the stored history: 50 customers, each with a conversation of 10 messages.
  const [ch] = (await db.query<{ business_id: string; id: string; version: number }>(
    `SELECT c.business_id, c.id, c.version FROM social_channels c JOIN businesses b ON b.id = c.business_id
     WHERE b.name = $1`, [`History shop ${shop}`])).rows;
  const customers = (await db.query<{ mobile: string }>(`SELECT mobile FROM customers WHERE business_id = $1 ORDER BY mobile`, [ch.business_id])).rows;
  assert.equal(customers.length, 50);
  // 30 of its customers write again (one of them twice), and 5 strangers for the first time.
  const senders = [...customers.slice(0, 30).map((c) => c.mobile), customers[0].mobile, ...['1', '2', '3', '4', '5'].map((n) => `+91981230009${n}`)];
  const batch = () => senders.map((from, r) => ({
    r, b: ch.business_id, c: ch.id, v: Number(ch.version), pid: `wamid.plans.${randomUUID()}`,
    from_number: from, from_e164: from, from_user_id: null, to_number: '+919000000000', text: `hello ${r}`, type: 'text',
    metadata: {}, edited_at: null, address: from, name: `Sender ${r}`,
  }));
  // A burst held 360 of the business's messages before these came (they stay held).
  for (let i = 0; i < 10; i++) await readsOf(`SELECT outcome FROM hold_messages($1::jsonb, ARRAY[]::text[])`, batch(), run);

  const items = batch();
  const read = await readsOf(`SELECT outcome FROM receive_messages($1::jsonb, ARRAY[]::text[])`, items, run);
  // Reading by key is a few rows per message (its conversation and customer, the unique and foreign
  // key checks, the look among held messages: about 12 in all); reading the business's
  // conversations, messages or held messages whole adds 50, 500 or 360 per message (the statements
  // of migration 0010 read about 90 per message here, 3,200 to 3,800 in all).
  assert.ok(read <= items.length * 20, `read ${read} rows and index entries for ${items.length} messages`);
  if (process.env.DEBUG_PLANS) console.log(`read ${read} for ${items.length}`);

  // In a burst the same messages are only held: one look each among the held ones (the primary
  // key's conflict check), none among the stored ones (migration 0015).
  const again = batch();
  const held = await readsOf(`SELECT outcome FROM hold_messages($1::jsonb, ARRAY[]::text[])`, again, run);
  assert.ok(held <= again.length * 2, `holding read ${held} rows and index entries for ${again.length} messages`);
  if (process.env.DEBUG_PLANS) console.log(`holding read ${held} for ${again.length}`);
}

test('storing or holding a batch of webhooks reads each row by its key, with the plans made on an empty database', async () => {
  await storingReadsByKey(1, early.run);
});

test('the hot statements find their rows by an index, analysed or not', async () => {
  const biz = await newBusiness(app, 'Plans Bakery');
  const pnid = `pnid-${randomUUID().slice(0, 8)}`;
  const secret = `app-secret-${randomUUID()}`;
  const channel = ok(await call(app, 'POST', '/social/channels', { token: biz.token, body: {
    channel_type: 'whatsapp', phone_number: '+919000000001', account_id: pnid, api_key: 'tok', webhook_secret: secret, settings: { provider: 'meta' },
  } }), 201);
  await newProduct(app, biz, { name: 'Chocolate cake', price: '650.00', production_steps: [] });
  const known = await newCustomer(app, biz, { name: 'Ravi', mobile: '+919876500001' });
  log.length = 0;

  // A known customer orders, then confirms; a stranger orders; a stranger asks; another says STOP.
  const say = async (from: string, text: string) => {
    const r = await postMeta(app, metaText(pnid, from, text, { id: newWamid() }), secret);
    assert.equal(r.statusCode, 200);
  };
  await say(known.mobile, 'I want 2 chocolate cakes for Saturday');
  await say('+919812300002', 'send 1 chocolate cake please');
  await say('+919812300003', 'what time do you open?');
  await say(known.mobile, 'yes');
  await say('+919812300004', 'STOP');
  // Read, acknowledged and sent.
  await eventually(async () => {
    const r = await withTenant(db, biz.business.id, (tx) => tx.query<{ unread: number; pending: number; drafts: number }>(
      `SELECT (SELECT count(*)::int FROM social_messages WHERE direction = 'inbound' AND intent IS NULL) AS unread,
         (SELECT count(*)::int FROM social_messages WHERE direction = 'outbound' AND status = 'pending') AS pending,
         (SELECT count(*)::int FROM sales WHERE status = 'draft') AS drafts`));
    const c = r.rows[0];
    return c.unread === 0 && c.pending === 0 && c.drafts === 1;
  }, 20_000, 'messages read, a draft made and the acknowledgements sent');
  // Staff finalize the draft: the customer is told (the notifier's path from an event).
  const [draft] = ok(await call(app, 'GET', '/sales?status=draft', { token: biz.token })).data;
  const final = ok(await call(app, 'POST', `/sales/${draft.id}/finalize`, { token: biz.token }));
  await eventually(async () => fake.requests.find((r) => String(r.body?.text?.body ?? '').includes(final.invoice_no)), 20_000, 'the sale notification sent');
  // Staff open the inbox and a conversation.
  const list = ok(await call(app, 'GET', '/social/conversations', { token: biz.token }));
  assert.ok(list.data.length >= 4);
  ok(await call(app, 'GET', `/social/conversations/${list.data[0].id}/messages`, { token: biz.token }));
  assert.ok(channel.id);

  // The statements the paths ran on the tables that grow (the job queue's own are pg-boss's).
  const hot = log.filter((s) => !s.sql.includes('pgboss.') && HISTORY_TABLES.some((t) => s.sql.includes(t)));
  const distinct = [...new Map(hot.map((s) => [s.sql, s])).values()];
  assert.ok(distinct.length >= 15, `only ${distinct.length} statements recorded`);
  assert.ok(distinct.filter((s) => isPrepared(s.sql)).length >= 4, 'the notifier\'s prepared statements recorded (their generic plans are checked too)');

  if (process.env.DEBUG_PLANS) for (const s of distinct) console.log(s.sql.replace(/\s+/g, ' ').slice(0, 150));
  // The check itself sees a statement that reads the log whole.
  const whole = { sql: `SELECT id FROM social_messages WHERE message_text = $1`, params: ['hello'], businessId: biz.business.id };
  assert.equal((await explainAll([whole])).length, 1);
  // ...and a prepared statement whose plan is by key only once its parameters are known.
  const onlyCustom = { sql: prepared(`SELECT id FROM social_messages WHERE CASE WHEN $1::boolean THEN id = $2::uuid ELSE false END`), params: [true, randomUUID()], businessId: biz.business.id };
  assert.deepEqual((await explainAll([onlyCustom])).map((b) => b.startsWith('generic plan: ')), [true]);
  assert.deepEqual(await explainAll(distinct), [], 'never analysed');
  // With statistics the planner knows each business's share: reading a small one by the
  // business is its informed choice there; reading a table whole is still not.
  await db.exec(`ANALYZE`);
  assert.deepEqual(await explainAll(distinct, { byBusiness: false }), [], 'analysed');
});

test('storing or holding a batch of webhooks reads each row by its key, analysed', async () => {
  await storingReadsByKey(2);
});

/** Runs `fn` in one transaction: on any pooled connection, or on the one `pinned` keeps. */
type InTransaction = <T>(fn: (q: (sql: string, params?: unknown[]) => Promise<QueryResult<any>>) => Promise<T>) => Promise<T>;
const anyConnection: InTransaction = (fn) => db.transaction((tx) => fn((sql, params) => tx.query(sql, params)));

/**
 * One connection kept from now until released: a function's statements are planned on a
 * connection at their first call, and that connection keeps the plans (PGlite has one connection).
 */
async function pinned(): Promise<{ run: InTransaction; release(): void }> {
  if (db.kind === 'pglite') return { run: anyConnection, release() {} };
  const client = await (db.raw as pg.Pool).connect();
  return {
    async run(fn) {
      await client.query('BEGIN');
      try {
        const r = await fn(async (sql, params) => { const x = await client.query(sql, params); return { rows: x.rows, rowCount: x.rowCount ?? x.rows.length }; });
        await client.query('COMMIT');
        return r;
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    },
    release: () => client.release(),
  };
}

/** Rows and index entries of the history's tables read by `sql` for `items`, which must all be new. */
async function readsOf(sql: string, items: object[], run: InTransaction = anyConnection): Promise<number> {
  return run(async (query) => {
    await query(`SET LOCAL ROLE karigar_app`);
    // Rows and index entries read so far from the history's tables (their indexes included), by
    // this connection: counted before and after, as counts not yet reported may include earlier work.
    const counted = async () => (await query(
      `SELECT c.relname, (pg_stat_get_xact_tuples_returned(c.oid) + pg_stat_get_xact_tuples_fetched(c.oid))::int AS n
       FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid
       WHERE coalesce(i.indrelid, c.oid) IN (${HISTORY_TABLES.map((t) => `'${t}'::regclass`).join(', ')})`)).rows as { relname: string; n: number }[];
    const before = new Map((await counted()).map((x) => [x.relname, x.n]));
    const stored = await query(sql, [JSON.stringify(items)]);
    assert.deepEqual(stored.rows.map((x) => x.outcome), items.map(() => 'new'));
    const after = (await counted()).map((x) => ({ relname: x.relname, n: x.n - (before.get(x.relname) ?? 0) })).filter((x) => x.n > 0);
    if (process.env.DEBUG_PLANS) console.log(after);
    return after.reduce((sum, x) => sum + x.n, 0);
  });
}
