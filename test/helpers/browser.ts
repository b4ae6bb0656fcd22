// Headless Chromium for the console's end-to-end tests: Debian's own /usr/bin/chromium driven by
// playwright-core (never a downloaded browser), against a real server on a random local port.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. */
export function browserSkipReason(): string | null {
  if (process.env.TEST_DATABASE_URL) return 'browser tests run in the PGlite pass only';
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium): browser tests skipped`;
  return null;
}

/** Builds the console into web/dist when it is missing (as `npm start` does). */
export async function ensureConsoleBuilt() {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  if (existsSync(`${root}web/dist/index.html`)) return;
  const { build } = await import('vite');
  await build({ root: `${root}web`, configFile: `${root}web/vite.config.ts`, logLevel: 'warn' });
}

export async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** A fresh browser profile (its own cookies) with a phone or laptop viewport; page errors fail the test. */
export async function newPage(browser: Browser, baseURL: string, width = 1280): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ baseURL, viewport: { width, height: width < 600 ? 844 : 900 }, locale: 'en-IN' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text()); });
  page.on('dialog', (d) => void d.accept());
  // Kept for the message of a wait that times out (see logIn): what the page asked for and did not get.
  const trouble: string[] = [];
  (page as any).trouble = trouble;
  page.on('requestfailed', (r) => trouble.push(`${r.method()} ${r.url()} failed: ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 500) trouble.push(`${r.request().method()} ${r.url()} → ${r.status()}`); });
  page.on('console', (m) => { if (m.type() === 'error') trouble.push(`console: ${m.text()}`); });
  // Generous: the machines that run the suite are shared and often loaded; every wait is on a condition.
  page.setDefaultTimeout(45_000);
  return { context, page, errors };
}

export async function logIn(page: Page, email: string, password: string) {
  await page.goto('/login');
  try {
    await page.getByLabel('E-mail').waitFor();
  } catch (err) {
    // Say what the page showed instead, and what it failed to load, so a failure here can be read.
    const text = await page.locator('body').innerText({ timeout: 2_000 }).catch(() => '(no body)');
    throw new Error(`no login form at ${page.url()} after ${(err as Error).message.split('\n')[0]}; the page shows ${JSON.stringify(text.slice(0, 300))}; trouble: ${JSON.stringify(((page as any).trouble ?? []).slice(-10))}`);
  }
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

/** Saves a full-page screenshot when SCREENSHOTS=<dir> is set (for people to look at). */
export async function shot(page: Page, name: string) {
  const dir = process.env.SCREENSHOTS;
  if (!dir) return;
  const w = page.viewportSize()?.width ?? 0;
  await page.screenshot({ path: `${dir}/${name}-${w}.png`, fullPage: true });
}
