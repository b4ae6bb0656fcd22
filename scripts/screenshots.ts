// `npm run screenshots -- [dir]`: a demo shop on a throwaway PGlite, every console screen captured
// in headless Chromium at laptop (1280 px) and phone (390 px) widths, to look at as a person would.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { buildTestApp, eventually } from '../test/helpers/app.js';
import { call, newCustomer, newProduct, newUser, ok, uniqueMobile } from '../test/helpers/client.js';
import { startFakeProvider } from '../test/helpers/fake-provider.js';
import { metaText, newWamid, postMeta } from '../test/helpers/webhooks.js';
import { browserSkipReason, ensureConsoleBuilt, launch, logIn, newPage } from '../test/helpers/browser.js';

const dir = process.argv[2] ?? 'screenshots';
mkdirSync(dir, { recursive: true });
const why = browserSkipReason();
if (why) {
  console.error(why);
  process.exit(1);
}
await ensureConsoleBuilt();
const fake = await startFakeProvider();
const t = await buildTestApp({ role: 'all', env: { META_GRAPH_API_URL: `${fake.url}/meta` } });
await t.app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;

// A bakery mid-morning.
const email = `owner-${randomUUID()}@example.com`;
const owner = ok(await call(t.app, 'POST', '/auth/register', { body: { business_name: 'Sweet Crumbs Bakery', name: 'Asha Owner', email, password: 'correct horse' } }), 201);
const pnid = 'pnid-demo';
const secret = 'demo-secret';
ok(await call(t.app, 'POST', '/social/channels', { token: owner.token, body: { channel_type: 'whatsapp', phone_number: '+919000000001', account_id: pnid, api_key: 'tok', webhook_secret: secret, settings: { provider: 'meta' } } }), 201);
const cake = await newProduct(t.app, owner, { name: 'Chocolate cake', price: '650.00', production_steps: ['Bake', 'Decorate', 'Pack'] });
const kaju = await newProduct(t.app, owner, { name: 'काजू कतली', price: '900.00', production_steps: ['Roll', 'Cut', 'Pack'] });
await newProduct(t.app, owner, { name: 'Besan ladoo', price: '400.00', production_steps: [] });
const worker = await newUser(t.app, owner, 'production_worker', 'Manoj');
const ravi = await newCustomer(t.app, owner, { name: 'Ravi Kumar', mobile: uniqueMobile() });
const sunita = await newCustomer(t.app, owner, { name: 'सुनीता देवी', mobile: uniqueMobile(), locale: 'hi' });
for (const text of ['I want 2 chocolate cakes tomorrow 5pm', 'haan, confirm']) await postMeta(t.app, metaText(pnid, ravi.mobile, text, { id: newWamid(), name: 'Ravi' }), secret);
await postMeta(t.app, metaText(pnid, uniqueMobile(), 'Do you have eggless cakes?', { name: 'Priya' }), secret);
await postMeta(t.app, metaText(pnid, uniqueMobile(), 'मुझे 1 काजू कतली चाहिए', { name: 'अनिल' }), secret);
await eventually(async () => ok(await call(t.app, 'GET', '/sales?status=draft', { token: owner.token })).data[0], 20_000, 'draft');
const inHours = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();
const sale = ok(await call(t.app, 'POST', '/sales', { token: owner.token, body: {
  customer_id: sunita.id, items: [{ product_id: kaju.id, quantity: 2 }, { product_id: cake.id, quantity: 1 }],
  due_at: inHours(3), fulfilment: 'delivery', delivery_address: '12 MG Road, Jaipur',
} }), 201);
const fin = ok(await call(t.app, 'POST', `/sales/${sale.id}/finalize`, { token: owner.token }));
ok(await call(t.app, 'POST', '/payments', { token: owner.token, body: { sale_id: sale.id, amount: '500.00', method: 'upi' } }), 201);
const po = ok(await call(t.app, 'GET', `/production-orders/${fin.production_order_id}`, { token: owner.token }));
for (const st of po.steps) ok(await call(t.app, 'POST', `/production-orders/${po.id}/steps/${st.id}/assign`, { token: owner.token, body: { worker_id: worker.user.id } }));
ok(await call(t.app, 'POST', `/worker/steps/${po.steps[0].id}/start`, { token: worker.token }));

const browser = await launch();
const taken: string[] = [];
for (const width of [1280, 390]) {
  const { context, page, errors } = await newPage(browser, base, width);
  const snap = async (name: string) => {
    await page.waitForLoadState('networkidle');
    await page.evaluate(() => document.fonts.ready);
    if (process.env.DEBUG_FONTS) console.log(name, await page.evaluate(() => [...document.fonts].map((f) => `${f.family} ${f.weight} ${f.status}`).join('; ')));
    const file = `${dir}/${name}-${width}.png`;
    await page.screenshot({ path: file, fullPage: true });
    taken.push(file);
  };
  await page.goto('/login');
  await snap('login');
  if (process.env.DEBUG_FONTS) page.on('requestfinished', async (r) => { if (r.url().includes('woff')) console.log('font', r.url(), (await r.response())?.status()); });
  await logIn(page, email, 'correct horse');
  for (const screen of ['orders', 'inbox', 'leads', 'catalog', 'customers', 'settings']) {
    await page.goto(`/${screen}`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await snap(screen);
  }
  await page.goto('/inbox');
  await page.getByRole('link', { name: /Priya/ }).click();
  await page.getByRole('log').getByText('Do you have eggless cakes?').waitFor();
  if (width === 1280) {
    await page.getByRole('textbox', { name: 'Reply' }).fill('Yes! Eggless chocolate cake, ₹700 for 1 kg.');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('li.msg.out', { hasText: 'Eggless chocolate' }).getByText(/Sent|Delivered/).waitFor();
  }
  await snap('inbox-thread');
  await page.goto('/settings');
  await page.getByRole('tab', { name: 'Templates' }).click();
  await page.getByRole('heading', { name: /Hindi/ }).waitFor();
  await snap('settings-templates');
  await page.getByRole('tab', { name: 'Staff' }).click();
  await snap('settings-staff');
  const w = await newPage(browser, base, width);
  await logIn(w.page, worker.user.email, 'worker pass');
  await w.page.getByRole('heading', { name: 'My work' }).waitFor();
  await w.page.waitForLoadState('networkidle');
  await w.page.evaluate(() => document.fonts.ready);
  await w.page.screenshot({ path: `${dir}/workbench-${width}.png`, fullPage: true });
  taken.push(`${dir}/workbench-${width}.png`);
  if (errors.length || w.errors.length) console.error('page errors:', errors, w.errors);
  await w.context.close();
  await context.close();
}
await browser.close();
await t.close();
await fake.close();
console.log(taken.join('\n'));
