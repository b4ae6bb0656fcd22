// The audit trail: an owner reads who changed a channel, a template, a user, a price, or cancelled
// a sale, newest first, as sentences; every entry comes from the change's own transaction, so a
// refused change leaves none, and secrets never appear in it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { assertProblem, call, newBusiness, newCustomer, newProduct, newSale, newUser, ok, type Biz } from '../../../test/helpers/client.js';

let t: TestApp;
before(async () => { t = await buildTestApp(); });
after(async () => { await t.close(); });

const audit = async (shop: Biz, query = '') => ok(await call(t.app, 'GET', `/audit${query}`, { token: shop.token }));
const countRows = async (shop: Biz) => (await audit(shop, '?limit=200')).data.length;

test('a price change reads as a sentence with who, what and when, newest first, and filters by entity and user', async () => {
  const shop = await newBusiness(t.app);
  const cake = await newProduct(t.app, shop, { name: 'Chocolate cake', price: '650.00' });
  const manager = await newUser(t.app, shop, 'manager', 'Mohan');
  ok(await call(t.app, 'PATCH', `/products/${cake.id}`, { token: manager.token, body: { price: '700' } }));
  ok(await call(t.app, 'PATCH', `/products/${cake.id}`, { token: shop.token, body: { name: 'Chocolate truffle cake', sku: 'CK-1' } }));
  ok(await call(t.app, 'DELETE', `/products/${cake.id}`, { token: shop.token }));
  ok(await call(t.app, 'DELETE', `/products/${cake.id}`, { token: shop.token })); // archiving twice: no second entry

  const all = await audit(shop);
  assert.deepEqual(all.data.map((e: any) => e.action),
    ['product.archived', 'product.changed', 'product.price_changed', 'user.created', 'product.created', 'business.registered']);
  const price = all.data[2];
  assert.equal(price.summary, 'Mohan changed the price of Chocolate cake from ₹650.00 to ₹700.00');
  assert.deepEqual(price.changes, { price: ['650.00', '700.00'] });
  assert.equal(price.user_id, manager.user.id);
  assert.equal(price.user_name, 'Mohan');
  assert.deepEqual([price.entity_type, price.entity_id], ['product', cake.id]);
  assert.ok(Math.abs(Date.parse(price.created_at) - Date.now()) < 60_000, price.created_at);
  assert.equal(all.data[1].summary, 'Asha Owner changed Chocolate cake: name to Chocolate truffle cake; SKU to CK-1');
  assert.equal(all.data[0].summary, 'Asha Owner archived the product Chocolate truffle cake');

  const ofCake = await audit(shop, `?entity_type=product&entity_id=${cake.id}`);
  assert.deepEqual(ofCake.data.map((e: any) => e.action), ['product.archived', 'product.changed', 'product.price_changed', 'product.created']);
  assert.deepEqual((await audit(shop, `?user_id=${manager.user.id}`)).data.map((e: any) => e.action), ['product.price_changed']);
  assert.deepEqual((await audit(shop, '?entity_type=sale')).data, []);

  // Cursor pages walk the same list without gaps or repeats.
  const seen: string[] = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const p: any = await audit(shop, `?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
    assert.ok(p.data.length <= 4);
    seen.push(...p.data.map((e: any) => e.id));
    cursor = p.next_cursor;
  }
  assert.deepEqual(seen, all.data.map((e: any) => e.id));
  assertProblem(await call(t.app, 'GET', '/audit?cursor=nonsense', { token: shop.token }), 400);
  assertProblem(await call(t.app, 'GET', '/audit?entity_type=password', { token: shop.token }), 400);
});

test('only an admin reads the trail, and only their own business\'s', async () => {
  const shop = await newBusiness(t.app);
  await newProduct(t.app, shop);
  for (const role of ['manager', 'sales', 'production_worker']) {
    const u = await newUser(t.app, shop, role);
    assertProblem(await call(t.app, 'GET', '/audit', { token: u.token }), 403);
  }
  assertProblem(await call(t.app, 'GET', '/audit'), 401);
  const other = await newBusiness(t.app, 'Other Shop');
  const theirs = (await audit(other)).data;
  assert.deepEqual(theirs.map((e: any) => e.action), ['business.registered']);
  assert.equal(theirs[0].summary, `Asha Owner registered Other Shop and became its admin (${other.user.email})`);
});

test('channel changes are recorded — created, settings, secrets rotated, switched off — and no secret value appears', async () => {
  const shop = await newBusiness(t.app);
  const API_KEY = `EAAG-${randomUUID()}`, APP_SECRET = `app-secret-${randomUUID()}`, NEW_KEY = `EAAG-new-${randomUUID()}`;
  const ch = ok(await call(t.app, 'POST', '/social/channels', { token: shop.token, body: {
    channel_type: 'whatsapp', phone_number: '+1 555 123 4567', account_id: 'pnid-audit', api_key: API_KEY, webhook_secret: APP_SECRET,
  } }), 201);
  ok(await call(t.app, 'PATCH', `/social/channels/${ch.id}`, { token: shop.token, body: { settings: { notifications: { 'order.ready': false } }, verify_token: 'a-brand-new-verify-token' } }));
  ok(await call(t.app, 'PATCH', `/social/channels/${ch.id}`, { token: shop.token, body: { api_key: NEW_KEY, api_secret: null } }));
  ok(await call(t.app, 'PATCH', `/social/channels/${ch.id}`, { token: shop.token, body: { is_active: false } }));

  const entries = (await audit(shop, `?entity_type=channel&entity_id=${ch.id}`)).data;
  assert.deepEqual(entries.map((e: any) => e.action), ['channel.deactivated', 'channel.secrets_changed', 'channel.settings_changed', 'channel.created']);
  const [off, secrets, settings, created] = entries;
  assert.equal(created.summary, 'Asha Owner connected the WhatsApp channel +15551234567 (meta), with the access token (api_key), the webhook secret (webhook_secret)');
  assert.deepEqual(created.changes.api_key, [null, 'set']);
  assert.deepEqual(settings.changes['notifications.order.ready'], [null, false]);
  assert.deepEqual(settings.changes.verify_token, ['set', 'replaced']);
  assert.match(settings.summary, /^Asha Owner changed the settings of the WhatsApp channel \+15551234567: /);
  assert.match(settings.summary, /notifications\.order\.ready unset → false/);
  assert.match(settings.summary, /a new verify token/);
  assert.equal(secrets.summary, 'Asha Owner replaced the access token (api_key) of the WhatsApp channel +15551234567');
  assert.deepEqual(secrets.changes, { api_key: ['set', 'replaced'] });
  assert.equal(off.summary, 'Asha Owner switched off the WhatsApp channel +15551234567');
  assert.deepEqual(off.changes, { is_active: [true, false] });

  const text = JSON.stringify(await audit(shop, '?limit=200'));
  for (const secret of [API_KEY, APP_SECRET, NEW_KEY, 'a-brand-new-verify-token', ch.verify_token]) assert.ok(!text.includes(secret), 'no secret in the trail');
});

test('templates, users and cancelled sales are recorded', async () => {
  const shop = await newBusiness(t.app);
  ok(await call(t.app, 'PUT', '/social/templates/order.ready?locale=hi', { token: shop.token, body: { body: 'Namaste {{customerName}}, order {{orderNo}} taiyaar hai' } }));
  ok(await call(t.app, 'DELETE', '/social/templates/order.ready?locale=hi', { token: shop.token }));
  ok(await call(t.app, 'DELETE', '/social/templates/order.ready?locale=hi', { token: shop.token })); // nothing to reset: no entry
  const tpl = (await audit(shop, '?entity_type=template&entity_id=order.ready/hi')).data;
  assert.deepEqual(tpl.map((e: any) => e.action), ['template.reset', 'template.changed']);
  assert.equal(tpl[1].summary, 'Asha Owner changed the order.ready message (hi)');
  assert.equal(tpl[1].changes.body[1], 'Namaste {{customerName}}, order {{orderNo}} taiyaar hai');

  const seller = await newUser(t.app, shop, 'sales', 'Sunita');
  ok(await call(t.app, 'PATCH', `/users/${seller.user.id}`, { token: shop.token, body: { role: 'manager' } }));
  ok(await call(t.app, 'PATCH', `/users/${seller.user.id}`, { token: shop.token, body: { is_active: false } }));
  const people = (await audit(shop, `?entity_type=user&entity_id=${seller.user.id}`)).data;
  assert.deepEqual(people.map((e: any) => e.summary), [
    'Asha Owner deactivated Sunita\'s account (signed out at once)',
    'Asha Owner changed Sunita\'s role from salesperson to manager',
    `Asha Owner added Sunita (${seller.user.email}) as a salesperson`,
  ]);
  assert.deepEqual(people[1].changes, { role: ['sales', 'manager'] });

  const customer = await newCustomer(t.app, shop, { name: 'Ravi Kumar' });
  const cake = await newProduct(t.app, shop, { price: '650.00' });
  const sale = await newSale(t.app, shop, customer.id, [{ product_id: cake.id, quantity: 2 }]);
  const final = ok(await call(t.app, 'POST', `/sales/${sale.id}/finalize`, { token: shop.token }));
  ok(await call(t.app, 'POST', `/sales/${sale.id}/cancel`, { token: shop.token }));
  const [cancelled] = (await audit(shop, `?entity_type=sale&entity_id=${sale.id}`)).data;
  assert.equal(cancelled.summary, `Asha Owner cancelled sale ${final.invoice_no} of ₹1,300.00 for Ravi Kumar and its production order PO-000001`);
  assert.deepEqual(cancelled.changes, { status: ['final', 'cancelled'] });
});

test('a refused change writes no audit entry', async () => {
  const shop = await newBusiness(t.app);
  const manager = await newUser(t.app, shop, 'manager');
  const a = await newProduct(t.app, shop, { name: 'Rasmalai' });
  await newProduct(t.app, shop, { name: 'Gulab jamun' });
  const customer = await newCustomer(t.app, shop);
  const sale = await newSale(t.app, shop, customer.id, [{ product_id: a.id, quantity: 1 }]);
  ok(await call(t.app, 'POST', `/sales/${sale.id}/finalize`, { token: shop.token }));
  ok(await call(t.app, 'POST', '/payments', { token: shop.token, body: { sale_id: sale.id, amount: '100.00', method: 'cash' } }), 201);
  const ch = ok(await call(t.app, 'POST', '/social/channels', { token: shop.token, body: { channel_type: 'whatsapp', settings: { provider: 'sandbox' } } }), 201);
  const start = await countRows(shop);

  // A new price together with a name that is taken: the whole change is refused, price included.
  assertProblem(await call(t.app, 'PATCH', `/products/${a.id}`, { token: shop.token, body: { name: 'Gulab Jamun', price: '999' } }), 409, 'duplicate_name');
  assert.equal(ok(await call(t.app, 'GET', `/products/${a.id}`, { token: shop.token })).price, '650.00');
  assertProblem(await call(t.app, 'PATCH', `/users/${shop.user.id}`, { token: shop.token, body: { role: 'manager' } }), 409, 'last_admin');
  assertProblem(await call(t.app, 'PATCH', `/users/${shop.user.id}`, { token: manager.token, body: { role: 'sales' } }), 403);
  assertProblem(await call(t.app, 'PUT', '/social/templates/order.ready', { token: shop.token, body: { body: 'Hi {{nope}}' } }), 400);
  assertProblem(await call(t.app, 'POST', `/sales/${sale.id}/cancel`, { token: shop.token }), 409, 'sale_has_payments');
  assertProblem(await call(t.app, 'PATCH', `/social/channels/${ch.id}`, { token: shop.token, body: { is_active: false, settings: { max_per_second: 5000 } } }), 400);
  assertProblem(await call(t.app, 'PATCH', `/social/channels/${ch.id}`, { token: manager.token, body: { is_active: false } }), 403);
  assertProblem(await call(t.app, 'POST', '/users', { token: shop.token, body: { name: 'Dup', email: manager.user.email, password: 'worker pass', role: 'sales' } }), 409);

  assert.equal(await countRows(shop), start);
  // The application role may add entries, never change or remove them.
  await assert.rejects(t.db.transaction(async (tx) => {
    await tx.query(`SET LOCAL ROLE karigar_app`);
    await tx.query(`SELECT set_config('app.business_id', $1, true)`, [shop.business.id]);
    await tx.query(`DELETE FROM audit_log`);
  }), /permission denied/);
});
