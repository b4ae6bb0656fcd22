// The rate cap holds across processes: two workers, each with its own connections to one database,
// drain one channel's backlog together, and the provider never sees more than the cap in any
// sliding second (counted at its arrival times, as WhatsApp counts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp, eventually, onPostgres, silentLog, type TestApp } from '../../../../test/helpers/app.js';
import { call, newBusiness, newCustomer, newProduct, newSale, ok } from '../../../../test/helpers/client.js';
import { startFakeProvider, type FakeProvider } from '../../../../test/helpers/fake-provider.js';
import { openDatabase, type Database } from '../../../platform/db.js';
import { startRuntime, type Runtime } from '../../../runtime.js';
import { withTenant } from '../../../platform/tenancy.js';
import { BOOKING_LEAD_MS, bookSlotInDatabase, busiestSecond, FIRST_SEND_ALLOWANCE_MS, JITTER_MARGIN_MS, windowMs } from './pace.js';

let fake: FakeProvider;
let api: TestApp;
before(async () => {
  fake = await startFakeProvider();
  // The API process only queues: every send is made by the two workers below. The jitter margin is
  // wide because the provider here is a test process on a busy machine: a request can be stamped
  // hundreds of ms late (the process's first fetch loads its HTTP client). The cap is still the
  // channel's.
  api = await buildTestApp({ role: 'api', env: { META_GRAPH_API_URL: `${fake.url}/meta`, SEND_JITTER_MARGIN_MS: '1000' } });
});
after(async () => {
  await api.close();
  await fake.close();
});

/** A second connection pool to the same database on PostgreSQL (a process of its own); PGlite has one owner. */
async function ownConnections(db: Database): Promise<Database> {
  if (!onPostgres()) return db;
  const name = (await db.query<{ d: string }>('SELECT current_database() AS d')).rows[0].d;
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return openDatabase({ databaseUrl: url.toString(), poolSize: 5 });
}

test('two workers sending for one channel keep to its cap in every sliding second', async () => {
  const cap = 4;
  const shop = await newBusiness(api.app);
  const ch = ok(await call(api.app, 'POST', '/social/channels', { token: shop.token, body: {
    channel_type: 'whatsapp', phone_number: '+919000000003', account_id: 'pnid-two-workers', api_key: 'tok', webhook_secret: 'app-secret',
    settings: { max_per_second: cap, notifications: { 'production.created': false } },
  } }), 201);
  const p = await newProduct(api.app, shop, { production_steps: [] });
  const drafts = [];
  for (let i = 0; i < 24; i++) drafts.push(await newSale(api.app, shop, (await newCustomer(api.app, shop)).id, [{ product_id: p.id, quantity: 1 }]));

  const sentBy = new Map<string, string>();
  const workers: { db: Database; runtime: Runtime; stopped?: boolean }[] = [];
  const startWorker = async (name: string) => {
    const db = await ownConnections(api.db);
    const log = { ...silentLog, info: (o: any, msg?: string) => { if (msg === 'notification sent') sentBy.set(o.message_id, name); } };
    const w: (typeof workers)[number] = { db, runtime: await startRuntime({ config: api.config, db, log, role: 'worker', pollingIntervalSeconds: 0.5 }) };
    workers.push(w);
    return w;
  };
  const sentByWorker = (n: string) => [...sentBy.values()].filter((v) => v === n).length;
  try {
    // The first worker starts sending; the second joins while the first still holds booked slots,
    // and then the first stops: both book in the channel's one pace row, and the hand-over is where
    // two processes' sends meet in the same seconds. (A process wakes itself for the sends it put
    // back, so with both running to the end the first would usually keep them all.)
    const first = await startWorker('first');
    await Promise.all(drafts.map((d) => call(api.app, 'POST', `/sales/${d.id}/finalize`, { token: shop.token }).then((r) => ok(r))));
    await eventually(async () => sentByWorker('first') >= 3, 30_000, 'the first worker sending');
    await startWorker('second');
    await first.runtime.stop();
    first.stopped = true;
    const sent = () => fake.requests.filter((r) => r.path.includes(`/meta/${ch.account_id}/messages`));
    await eventually(async () => sent().length >= 24 && true, 60_000, 'every sale notified');
    await eventually(async () => sentBy.size >= 24 && true, 10_000, 'every send recorded');

    const arrivals = sent().map((r) => r.receivedAt);
    assert.equal(arrivals.length, 24, 'each notification sent once');
    assert.ok(busiestSecond(arrivals) <= cap, `${busiestSecond(arrivals)} sends in one sliding second: ${JSON.stringify(arrivals)}`);
    // Both processes took part.
    const counts = ['first', 'second'].map(sentByWorker);
    assert.ok(counts.every((n) => n > 0), `sends per worker: ${counts}`);
  } finally {
    for (const w of workers) {
      if (!w.stopped) await w.runtime.stop();
      if (w.db !== api.db) await w.db.close();
    }
  }
});

test('the database books by the same window: the cap at once, then each send a window after the cap-th before it', async () => {
  const cap = 5;
  const shop = await newBusiness(api.app);
  const ch = ok(await call(api.app, 'POST', '/social/channels', { token: shop.token, body: {
    channel_type: 'whatsapp', phone_number: '+919000000004', account_id: 'pnid-window', api_key: 'tok', webhook_secret: 'app-secret',
  } }), 201);
  const slots: number[] = [];
  let refused: number | undefined;
  // Each booking in a transaction of its own, as a sender's; the margin is the default one here.
  for (let i = 0; i < 3 * cap && refused === undefined; i++) {
    // The database's own times (bookSlot turns them into this process's by an estimate that may
    // move between bookings); the least lead, as an idle sender asks.
    const b = await withTenant(api.db, shop.business.id, (tx) => bookSlotInDatabase(tx, shop.business.id, ch.id, cap, JITTER_MARGIN_MS, BOOKING_LEAD_MS));
    if (b.slot_at === null) refused = b.retry_in_ms!;
    else slots.push(b.slot_at);
  }
  assert.ok(slots.length >= 2 * cap, `${slots.length} booked before the horizon: ${JSON.stringify(slots)}`);
  assert.ok(refused !== undefined && refused >= 50, 'a slot beyond the horizon is not booked: ask again later');
  for (let i = 1; i < slots.length; i++) assert.ok(slots[i] >= slots[i - 1], 'slots never go back in time');
  assert.ok(slots[cap - 1] - slots[0] < 500, `the first ${cap} at once: ${slots[cap - 1] - slots[0]} ms`);
  // The first after an idle second counts its allowance later; each send finds fewer than the cap
  // counted in the window before it, so even a first send arriving its allowance and the margin late
  // leaves every sliding second at most the cap.
  const slack = 0.01; // the database keeps microseconds
  const counted = slots.map((t, i) => (i === 0 ? t + FIRST_SEND_ALLOWANCE_MS : t));
  for (let i = 1; i < slots.length; i++) {
    const inWindow = counted.slice(0, i).filter((c) => c > slots[i] - windowMs() + slack).length;
    assert.ok(inWindow <= cap - 1, `send ${i}: ${inWindow} counted in the window before it: ${JSON.stringify(slots.map((t) => t - slots[0]))}`);
  }
  assert.ok(slots[cap] - slots[1] >= windowMs() - slack, `the cap + 1st a window after the 2nd: ${slots[cap] - slots[1]} ms`);
  assert.ok(busiestSecond([slots[0] + FIRST_SEND_ALLOWANCE_MS + 9.99, ...slots.slice(1)]) <= cap);
  assert.ok(busiestSecond(slots) <= cap);
});
