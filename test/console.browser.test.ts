// The web console in a real headless Chromium, against the real service on PGlite: what a shop
// does all day, clicked as a person would. The API tests stay the place for the rules; these check
// that the screens are wired to them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { buildTestApp, eventually, type TestApp } from './helpers/app.js';
import { call, newCustomer, newProduct, newUser, ok, uniqueMobile, type Biz } from './helpers/client.js';
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { metaStatuses, metaText, newWamid, postMeta } from './helpers/webhooks.js';
import { browserSkipReason, ensureConsoleBuilt, launch, logIn, newPage, shot } from './helpers/browser.js';

const skip = browserSkipReason();
if (skip) console.log(`# console browser tests skipped: ${skip}`);

let t: TestApp;
let fake: FakeProvider;
let browser: Browser;
let base = '';

before(async () => {
  if (skip) return;
  await ensureConsoleBuilt();
  fake = await startFakeProvider();
  t = await buildTestApp({ role: 'all', env: { META_GRAPH_API_URL: `${fake.url}/meta` } });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  browser = await launch();
}, { timeout: 120_000 });

after(async () => {
  if (skip) return;
  await browser?.close();
  await t?.close();
  await fake?.close();
});

const hasRoute = (method: string, url: string) => t.app.hasRoute({ method: method as any, url: `/api/v1${url}` });

/** A shop with a WhatsApp channel (Meta, pointed at the fake provider), a cake with steps, a worker. */
async function shop(name = 'Sweet Crumbs') {
  const email = `owner-${randomUUID()}@example.com`;
  const owner: Biz = ok(await call(t.app, 'POST', '/auth/register', { body: { business_name: name, name: 'Asha Owner', email, password: 'correct horse' } }), 201);
  const pnid = `pnid-${randomUUID().slice(0, 8)}`;
  const secret = `secret-${randomUUID()}`;
  ok(await call(t.app, 'POST', '/social/channels', { token: owner.token, body: {
    channel_type: 'whatsapp', phone_number: '+919000000001', account_id: pnid, api_key: 'tok', webhook_secret: secret, settings: { provider: 'meta' },
  } }), 201);
  const cake = await newProduct(t.app, owner, { name: 'Chocolate cake', price: '650.00', production_steps: ['Bake', 'Pack'] });
  const worker = await newUser(t.app, owner, 'production_worker', 'Manoj Worker');
  return { owner, email, pnid, secret, cake, worker };
}

test('a new shop registers in the browser, logs out and logs back in', { skip: skip ?? false }, async () => {
  const { context, page, errors } = await newPage(browser, base, 390);
  const email = `new-${randomUUID()}@example.com`;
  await page.goto('/');
  await page.waitForURL('**/login');
  await shot(page, 'login');
  await page.getByRole('link', { name: 'Register your business' }).click();
  await page.getByLabel('Business name').fill('Meera Tailors');
  await page.getByLabel('Your name').fill('मीरा शर्मा');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel(/^Password/).fill('sui dhaaga 2026');
  await page.getByRole('button', { name: 'Register' }).click();
  await page.getByText('मीरा शर्मा (Admin) · Meera Tailors').waitFor();
  assert.equal(new URL(page.url()).pathname, '/orders');
  // The session is an httpOnly cookie: scripts cannot read it.
  assert.equal(await page.evaluate(() => document.cookie), '');
  const cookie = (await context.cookies()).find((c) => c.name === 'karigar_session');
  assert.ok(cookie?.httpOnly && cookie.sameSite === 'Strict');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  assert.equal((await context.cookies()).find((c) => c.name === 'karigar_session'), undefined);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong email or password' }).waitFor();
  await page.getByLabel('Password').fill('sui dhaaga 2026');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Orders' }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('a WhatsApp order becomes a draft, is finalized on the board, made on the workbench, marked ready and paid', { skip: skip ?? false }, async () => {
  const s = await shop();
  const mobile = uniqueMobile();
  const customer = await newCustomer(t.app, s.owner, { name: 'Ravi Kumar', mobile });
  // The customer orders and confirms on WhatsApp (signed webhooks, as Meta sends them).
  for (const text of ['I want 2 chocolate cakes tomorrow 5pm', 'haan, confirm']) {
    const r = await postMeta(t.app, metaText(s.pnid, mobile, text, { id: newWamid(), name: 'Ravi' }), s.secret);
    assert.equal(r.statusCode, 200);
  }
  const draft = await eventually(async () => ok(await call(t.app, 'GET', '/sales?status=draft', { token: s.owner.token })).data[0], 60_000, 'the WhatsApp draft');
  assert.equal(draft.customer_id, customer.id);
  assert.ok(draft.due_at, 'the draft carries the due date read from the message');

  const { context, page, errors } = await newPage(browser, base, 1280);
  await logIn(page, s.email, 'correct horse');
  await page.goto('/orders');
  const card = page.locator(`[data-sale="${draft.id}"]`);
  // Due tomorrow at 5 pm (the business's time): the card is in the Tomorrow column.
  await page.getByRole('region', { name: /^Tomorrow/ }).locator(`[data-sale="${draft.id}"]`).waitFor();
  await card.getByText(/Due: .*5:00 pm/).waitFor();
  await card.getByText('via whatsapp').waitFor();
  await card.getByText('2 × Chocolate cake').waitFor();
  await card.getByText('₹1,300.00').first().waitFor();
  await shot(page, 'orders-draft');
  await card.getByRole('button', { name: 'Finalize' }).click();
  await card.getByRole('heading', { name: 'Ravi Kumar · INV-000001' }).waitFor();
  await card.getByLabel('Worker').selectOption({ label: 'Manoj Worker' });
  await card.getByRole('button', { name: /^Assign/ }).click();
  await card.getByText('Manoj Worker').first().waitFor();

  // The worker, on a phone: only the workbench, and the inbox will not open.
  const w = await newPage(browser, base, 390);
  await logIn(w.page, s.worker.user.email, 'worker pass');
  await w.page.getByRole('heading', { name: 'My work' }).waitFor();
  const nav = w.page.getByRole('navigation', { name: 'Main' });
  assert.deepEqual(await nav.getByRole('link').allTextContents(), ['Workbench']);
  await w.page.goto('/inbox');
  await w.page.waitForURL('**/workbench');
  const denied = await w.page.evaluate(async () => (await fetch('/api/v1/social/messages')).status);
  assert.equal(denied, 403);
  await w.page.getByRole('heading', { name: /^Bake — 2 × Chocolate cake/ }).waitFor();
  await shot(w.page, 'workbench');
  for (const step of ['Bake', 'Pack']) {
    const item = w.page.getByRole('listitem').filter({ has: w.page.getByRole('heading', { name: new RegExp(`^${step} — `) }) });
    await item.getByRole('button', { name: 'Start' }).click();
    await item.getByRole('button', { name: 'Complete' }).click();
    await item.waitFor({ state: 'detached' });
  }
  await w.page.getByText('Nothing assigned to you right now.').waitFor();
  assert.deepEqual(w.errors, []);
  await w.context.close();

  await page.reload();
  await card.getByRole('button', { name: 'Mark ready' }).click();
  await card.getByText('Ready', { exact: true }).waitFor();
  await card.getByRole('button', { name: 'Record payment' }).click();
  assert.equal(await card.getByLabel('Amount').inputValue(), '1300.00');
  await card.getByLabel('Method').selectOption('upi');
  await card.getByRole('button', { name: 'Record', exact: true }).click();
  // Made, ready and paid: it leaves the board unless finished orders are shown.
  await card.waitFor({ state: 'detached' });
  await page.getByLabel('Hide finished').uncheck();
  await card.getByText('Paid', { exact: true }).first().waitFor();
  const sale = ok(await call(t.app, 'GET', `/sales/${draft.id}`, { token: s.owner.token }));
  assert.equal(sale.payment_status, 'paid');
  const po = ok(await call(t.app, 'GET', `/production-orders/${sale.production_order_id}`, { token: s.owner.token }));
  assert.equal(po.status, 'ready');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a product is added, edited and archived from the catalog', { skip: skip ?? false }, async (tt) => {
  const s = await shop('Catalog Corner');
  const { context, page, errors } = await newPage(browser, base, 390);
  await logIn(page, s.email, 'correct horse');
  await page.getByRole('link', { name: 'Catalog' }).click();
  await page.getByRole('button', { name: 'Add product' }).click();
  const form = page.getByRole('form', { name: 'Add product' });
  await form.getByLabel('Name').fill('काजू कतली');
  await form.getByLabel('Price').fill('900');
  await form.getByLabel(/Production steps/).fill('Roll\nCut\nPack');
  await form.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: /^काजू कतली/ }).waitFor();
  await page.getByText('Roll → Cut → Pack').waitFor();
  await page.getByText('₹900.00').waitFor();
  await shot(page, 'catalog');
  const listed = ok(await call(t.app, 'GET', '/products', { token: s.owner.token })).data;
  assert.ok(listed.some((p: any) => p.name === 'काजू कतली' && p.price === '900.00' && p.production_steps.join() === 'Roll,Cut,Pack'));

  if (!hasRoute('PATCH', '/products/:id') || !hasRoute('DELETE', '/products/:id')) {
    tt.skip('editing and archiving need PATCH/DELETE /products/:id (issue 8), not in this build');
    await context.close();
    return;
  }
  await page.getByRole('button', { name: 'Edit काजू कतली' }).click();
  const edit = page.getByRole('form', { name: 'Edit काजू कतली' });
  await edit.getByLabel('Price').fill('950');
  await edit.getByRole('button', { name: 'Save' }).click();
  await page.getByText('₹950.00').waitFor();
  await page.getByRole('button', { name: 'Archive काजू कतली' }).click();
  await page.getByRole('heading', { name: /^काजू कतली/ }).waitFor({ state: 'detached' });
  const after = ok(await call(t.app, 'GET', '/products', { token: s.owner.token })).data;
  assert.ok(!after.some((p: any) => p.name === 'काजू कतली'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('the owner sees a stranger\'s WhatsApp question, replies, and sees it delivered', { skip: skip ?? false }, async (tt) => {
  if (!hasRoute('GET', '/social/conversations') || !hasRoute('GET', '/social/stream')) {
    tt.skip('the inbox needs the conversations API and its stream (issue 7), not in this build');
    return;
  }
  const s = await shop('Question Bakery');
  const stranger = uniqueMobile();
  const { context, page, errors } = await newPage(browser, base, 1280);
  await logIn(page, s.email, 'correct horse');
  await page.getByRole('link', { name: 'Inbox' }).click();
  await page.getByText('Live', { exact: true }).waitFor();
  // The question arrives while the inbox is open: it appears without a reload.
  assert.equal((await postMeta(t.app, metaText(s.pnid, stranger, 'Do you have eggless cakes?', { name: 'Priya' }), s.secret)).statusCode, 200);
  const row = page.getByRole('link', { name: /Priya/ });
  await row.getByText('Needs reply').waitFor();
  await row.click();
  await page.getByRole('log').getByText('Do you have eggless cakes?').waitFor();
  await page.getByRole('textbox', { name: 'Reply' }).fill('Yes! Eggless chocolate, ₹700.');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('li.msg.out[data-status="sent"]', { hasText: 'Yes! Eggless chocolate' }).getByText('Sent').waitFor();
  const convId = new URL(page.url()).pathname.split('/')[2];
  const sent = await eventually(async () => ok(await call(t.app, 'GET', `/social/conversations/${convId}/messages`, { token: s.owner.token }))
    .data.find((m: any) => m.direction === 'outbound' && m.provider_message_id), 60_000, 'the reply sent');
  await shot(page, 'inbox-sent');
  assert.equal((await postMeta(t.app, metaStatuses(s.pnid, [{ id: sent.provider_message_id, status: 'delivered', recipient: stranger }]), s.secret)).statusCode, 200);
  await page.locator(`li.msg[data-id="${sent.id}"][data-status="delivered"]`).getByText('Delivered').waitFor();
  await shot(page, 'inbox-delivered');
  assert.deepEqual(errors, []);
  await context.close();
});
