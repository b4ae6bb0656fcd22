// Products can be corrected and archived; an active name is one product, whatever its case and
// spacing; archived products leave the catalog, ordering and new sales but stay on old sales.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { buildTestApp, eventually, type TestApp } from '../../../test/helpers/app.js';
import { assertProblem, call, newBusiness, newCustomer, newProduct, newSale, newUser, ok } from '../../../test/helpers/client.js';
import { metaText, newWamid, postMeta } from '../../../test/helpers/webhooks.js';
import { withTenant } from '../../platform/tenancy.js';

let t: TestApp;
before(async () => { t = await buildTestApp({ role: 'all' }); });
after(async () => { await t.close(); });

const count = (businessId: string, table: string) =>
  withTenant(t.db, businessId, async (tx) => (await tx.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number);

test('a second active product with the same name, in any case or spacing, is 409 duplicate_name', async () => {
  const shop = await newBusiness(t.app);
  const cake = await newProduct(t.app, shop, { name: 'Chocolate cake' });
  for (const name of ['Chocolate cake', 'chocolate CAKE', '  Chocolate   cake ', 'ChocolateCake']) {
    assertProblem(await call(t.app, 'POST', '/products', { token: shop.token, body: { name, price: '1' } }), 409, 'duplicate_name');
  }
  // Two at once: the unique index decides, not a check that both pass.
  const both = await Promise.all([1, 2].map(() => call(t.app, 'POST', '/products', { token: shop.token, body: { name: 'Vanilla cake', price: '1' } })));
  assert.deepEqual(both.map((r) => r.status).sort(), [201, 409]);
  assert.equal(await count(shop.business.id, 'products'), 2);

  // Renaming onto another product's name is refused too; renaming to its own name in new case is fine.
  const other = await newProduct(t.app, shop, { name: 'Ladoo' });
  assertProblem(await call(t.app, 'PATCH', `/products/${other.id}`, { token: shop.token, body: { name: 'CHOCOLATE cake' } }), 409, 'duplicate_name');
  assert.equal(ok(await call(t.app, 'PATCH', `/products/${cake.id}`, { token: shop.token, body: { name: 'Chocolate Cake' } })).name, 'Chocolate Cake');

  // Another business may use the name; an archived product frees it.
  const elsewhere = await newBusiness(t.app);
  await newProduct(t.app, elsewhere, { name: 'Chocolate cake' });
  ok(await call(t.app, 'DELETE', `/products/${cake.id}`, { token: shop.token }));
  const again = await newProduct(t.app, shop, { name: 'chocolate cake' });
  assert.notEqual(again.id, cake.id);
});

test('PATCH changes name, SKU, price and steps; bad input is 4xx and changes nothing', async () => {
  const shop = await newBusiness(t.app);
  const p = await newProduct(t.app, shop, { name: 'Gift box', sku: 'BOX-1', price: '150.00', production_steps: ['Assemble'] });
  await newProduct(t.app, shop, { name: 'Card', sku: 'CARD-1' });
  const changed = ok(await call(t.app, 'PATCH', `/products/${p.id}`, { token: shop.token, body: {
    name: 'Large gift box', sku: 'BOX-L', price: '175.5', production_steps: ['Assemble', ' Wrap '],
  } }));
  assert.deepEqual([changed.name, changed.sku, changed.price, changed.production_steps, changed.archived],
    ['Large gift box', 'BOX-L', '175.50', ['Assemble', 'Wrap'], false]);
  assert.equal(ok(await call(t.app, 'PATCH', `/products/${p.id}`, { token: shop.token, body: { sku: null } })).sku, null);

  assertProblem(await call(t.app, 'PATCH', `/products/${p.id}`, { token: shop.token, body: { sku: 'CARD-1' } }), 409, 'sku_taken');
  assertProblem(await call(t.app, 'PATCH', `/products/${p.id}`, { token: shop.token, body: {} }), 400);
  assertProblem(await call(t.app, 'PATCH', `/products/${p.id}`, { token: shop.token, body: { price: '-1' } }), 400);
  assertProblem(await call(t.app, 'PATCH', `/products/${p.id}`, { token: shop.token, body: { price: '1.234' } }), 400);
  assertProblem(await call(t.app, 'PATCH', `/products/${p.id}`, { token: shop.token, body: { name: '   ' } }), 400);
  assertProblem(await call(t.app, 'PATCH', `/products/${p.id}`, { token: shop.token, body: { production_steps: 'Bake' } }), 400);
  assertProblem(await call(t.app, 'PATCH', `/products/${randomUUID()}`, { token: shop.token, body: { price: '1' } }), 404);
  const other = await newBusiness(t.app);
  assertProblem(await call(t.app, 'PATCH', `/products/${p.id}`, { token: other.token, body: { price: '1' } }), 404);
  assertProblem(await call(t.app, 'DELETE', `/products/${p.id}`, { token: other.token }), 404);
  const s = await newUser(t.app, shop, 'sales');
  assertProblem(await call(t.app, 'PATCH', `/products/${p.id}`, { token: s.token, body: { price: '1' } }), 403);

  const now = ok(await call(t.app, 'GET', `/products/${p.id}`, { token: shop.token }));
  assert.deepEqual([now.name, now.sku, now.price, now.production_steps], ['Large gift box', null, '175.50', ['Assemble', 'Wrap']]);
});

test('new steps apply to orders made after the change; an existing order keeps its steps', async () => {
  const shop = await newBusiness(t.app);
  const p = await newProduct(t.app, shop, { name: 'Kurta', price: '900', production_steps: ['Cut', 'Stitch'] });
  const c = await newCustomer(t.app, shop);
  const first = await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 1 }]);
  const before = ok(await call(t.app, 'POST', `/sales/${first.id}/finalize`, { token: shop.token }));
  const draft = await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 1 }]);

  ok(await call(t.app, 'PATCH', `/products/${p.id}`, { token: shop.token, body: { production_steps: ['Measure', 'Cut', 'Stitch', 'Press'], price: '950' } }));

  const old = ok(await call(t.app, 'GET', `/production-orders/${before.production_order_id}`, { token: shop.token }));
  assert.deepEqual(old.steps.map((s: any) => s.name), ['Cut', 'Stitch']);
  const later = ok(await call(t.app, 'POST', `/sales/${draft.id}/finalize`, { token: shop.token }));
  const made = ok(await call(t.app, 'GET', `/production-orders/${later.production_order_id}`, { token: shop.token }));
  assert.deepEqual(made.steps.map((s: any) => s.name), ['Measure', 'Cut', 'Stitch', 'Press']);
  // A price change does not rewrite a sale already made; a new sale gets the new price.
  assert.equal(later.total, '900.00');
  assert.equal((await newSale(t.app, shop, c.id, [{ product_id: p.id, quantity: 1 }])).total, '950.00');
});

test('an archived product leaves the catalog and new sales, and stays on the sales that have it', async () => {
  const shop = await newBusiness(t.app);
  const cake = await newProduct(t.app, shop, { name: 'Rum cake', price: '700' });
  const ladoo = await newProduct(t.app, shop, { name: 'Ladoo', price: '400', production_steps: [] });
  const c = await newCustomer(t.app, shop);
  const sold = await newSale(t.app, shop, c.id, [{ product_id: cake.id, quantity: 1 }]);
  ok(await call(t.app, 'POST', `/sales/${sold.id}/finalize`, { token: shop.token }));
  const draft = await newSale(t.app, shop, c.id, [{ product_id: cake.id, quantity: 1 }]);

  const archived = ok(await call(t.app, 'DELETE', `/products/${cake.id}`, { token: shop.token }));
  assert.equal(archived.archived, true);
  assert.ok(archived.archived_at);
  // Archiving again changes nothing.
  assert.equal(ok(await call(t.app, 'DELETE', `/products/${cake.id}`, { token: shop.token })).archived_at, archived.archived_at);

  assert.deepEqual(ok(await call(t.app, 'GET', '/products', { token: shop.token })).data.map((p: any) => p.id), [ladoo.id]);
  const all = ok(await call(t.app, 'GET', '/products?include_archived=true', { token: shop.token })).data;
  assert.deepEqual(all.map((p: any) => [p.name, p.archived]), [['Ladoo', false], ['Rum cake', true]]);
  assert.equal(ok(await call(t.app, 'GET', `/products/${cake.id}`, { token: shop.token })).archived, true);

  // No new sale, and no adding it to a draft; a draft that already had it may keep it.
  const refused = await call(t.app, 'POST', '/sales', { token: shop.token, body: { customer_id: c.id, items: [{ product_id: ladoo.id, quantity: 1 }, { product_id: cake.id, quantity: 1 }] } });
  assertProblem(refused, 409, 'product_archived');
  assert.deepEqual(refused.body.errors, [{ field: 'items[1].product_id', message: 'is an archived product' }]);
  const other = await newSale(t.app, shop, c.id, [{ product_id: ladoo.id, quantity: 1 }]);
  assertProblem(await call(t.app, 'PATCH', `/sales/${other.id}`, { token: shop.token, body: { items: [{ product_id: cake.id, quantity: 1 }] } }), 409, 'product_archived');
  const kept = ok(await call(t.app, 'PATCH', `/sales/${draft.id}`, { token: shop.token, body: { items: [{ product_id: cake.id, quantity: 2 }, { product_id: ladoo.id, quantity: 1 }] } }));
  assert.deepEqual(kept.items.map((i: any) => [i.product_name, i.quantity]), [['Rum cake', 2], ['Ladoo', 1]]);
  assertProblem(await call(t.app, 'PATCH', `/products/${cake.id}`, { token: shop.token, body: { price: '1' } }), 409, 'product_archived');

  const old = ok(await call(t.app, 'GET', `/sales/${sold.id}`, { token: shop.token }));
  assert.deepEqual(old.items.map((i: any) => i.product_name), ['Rum cake']);
});

test('a WhatsApp order matches the active product, never an archived one of the same name', async () => {
  const shop = await newBusiness(t.app);
  const pnid = `pnid-${randomUUID().slice(0, 8)}`;
  const secret = `secret-${randomUUID()}`;
  ok(await call(t.app, 'POST', '/social/channels', { token: shop.token, body: {
    channel_type: 'whatsapp', phone_number: '+919000000002', account_id: pnid, webhook_secret: secret, settings: { provider: 'sandbox' },
  } }), 201);
  const old = await newProduct(t.app, shop, { name: 'Chocolate cake', price: '600' });
  ok(await call(t.app, 'DELETE', `/products/${old.id}`, { token: shop.token }));
  const current = await newProduct(t.app, shop, { name: 'Chocolate Cake', price: '650' });

  const id = newWamid();
  assert.equal((await postMeta(t.app, metaText(pnid, '+919812340000', 'I want 2 chocolate cakes', { id, name: 'Priya' }), secret)).statusCode, 200);
  const lead = await eventually(async () => ok(await call(t.app, 'GET', '/leads', { token: shop.token })).data[0], 15_000, 'lead');
  assert.deepEqual(lead.metadata.items.map((i: any) => [i.product_id, i.quantity]), [[current.id, 2]]);
});
