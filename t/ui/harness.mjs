// harness.mjs: what every browser script of t/ui shares: Debian's chromium headless through
// playwright-core, one page, the check lines the .t reads ("ok - what" or "not ok - what #
// why"), console errors collected (every one fails the run unless a check said it expects it),
// screenshots. A script imports it, makes its checks, and ends with `await finish()`.
// Environment (set by t/lib/PulseUI.pm):
//   UI_URL        the stack's https base URL (its certificate is self-signed)
//   UI_USER, UI_PASSWORD  the admin's credentials
//   UI_OUT        the directory for the screenshots
//   UI_CHROMIUM   the browser (default /usr/bin/chromium)
import { chromium } from 'playwright-core';

export const env = process.env;
export const base = env.UI_URL.replace(/\/$/, '');
let failed = 0;

export function check(cond, what, why = '') {
  console.log(`${cond ? 'ok' : 'not ok'} - ${what}${!cond && why ? ` # ${String(why).replace(/\n/g, ' ')}` : ''}`);
  if (!cond) failed++;
  return cond;
}

export const browser = await chromium.launch({
  executablePath: env.UI_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
export const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 900 } });
export const page = await context.newPage();
page.setDefaultTimeout(15000);

// Console errors. Allowed only: the browser's own note of an HTTP error status that a check
// provokes on purpose, while expectError(path, statuses) names it (expectError() ends it);
// path may be a list of paths.
const consoleErrors = [];
let expected = null;
export function expectError(path = '', statuses = [401, 403, 429]) {
  const paths = [].concat(path).filter(Boolean);
  expected = paths.length ? { paths, re: new RegExp(`status of (${statuses.join('|')})\\b`) } : null;
}
// Collects a page's console errors (the harness's page is tracked already; a script that opens
// another context's page tracks it too).
export function track(p) {
  p.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = (m.location() && m.location().url) || '';
    if (expected && expected.paths.some((p) => url.split('?')[0].endsWith(p)) && expected.re.test(m.text())) return;
    consoleErrors.push(`${m.text()} (${url})`);
  });
  p.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
  return p;
}
track(page);

// A page in a new browser context: no cookies, no storage (another browser, in effect).
export async function freshPage() {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 900 } });
  const p = track(await ctx.newPage());
  p.setDefaultTimeout(15000);
  return p;
}

export const shot = (name, fullPage = true) => page.screenshot({ path: `${env.UI_OUT}/${name}.png`, fullPage });
export const query = () => new URL(page.url()).searchParams;

// Runs one group of steps; an exception fails it with its first line.
export async function attempt(what, fn) {
  try { await fn(); } catch (e) { check(false, what, e.message.split('\n').filter((l) => l.trim()).slice(0, 6).join(' | ')); }
}

// Signs in through the login form (the page must show it, or be about to).
export async function login(user = env.UI_USER, password = env.UI_PASSWORD) {
  await page.waitForSelector('#login-form');
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', password);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#logout');
}

// The last check (no console errors), then exit with the run's status.
export async function finish() {
  check(consoleErrors.length === 0, 'no console errors on any page', consoleErrors.join(' | '));
  await browser.close();
  process.exit(failed ? 1 : 0);
}
