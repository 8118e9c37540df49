// live.mjs: the UI under a sub-path of an operator's site, and live (run by t/api/75-ui-live.t,
// which starts the stack, a PVE simulator and the operator's nginx in front). The script asks
// the .t to stop and start the simulator and the API's responder ("ask <what>" on stdout, the
// answer on stdin: PulseUI::run_talking) and reads /api/state itself with the admin's token
// through the same proxy. Environment, beyond the harness's:
//   UI_URL         the UI under the operator's site, e.g. https://127.0.0.1:PORT/pulse
//   UI_APACHE_URL  the same through our Apache, e.g. https://127.0.0.1:PORT/pulse-apache
//   UI_TOKEN       the admin's API token (to read /api/state)
//   UI_SIM_URL     the simulator (its /__sim/ control routes)
//   UI_INSTANCE    the simulator's node name in the configuration ("lab")
import { readFileSync } from 'node:fs';
import readline from 'node:readline';
import { request } from 'playwright-core';
import { env, base, check, page, shot, attempt, expectError, freshPage, finish } from './harness.mjs';

const origin = new URL(base).origin;
const PREFIX = new URL(base).pathname.replace(/\/$/, '');    // "/pulse"
// The UI's poll interval, as state.js has it: a change must be on screen within it (plus
// slack for the redraw on a loaded machine) once the API has it.
const POLL_MS = Number(/export const POLL_MS = (\d+)/.exec(readFileSync(new URL('../../nginx/ui/js/state.js', import.meta.url), 'utf8'))[1]);
const SLACK_MS = 2000;
const api = await request.newContext({ ignoreHTTPSErrors: true, extraHTTPHeaders: { 'X-API-Token': env.UI_TOKEN } });

// Asks the .t to act (stop-sim, start-sim, stop-api, start-api) and waits for it to be done.
const answers = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function ask(what) {
  console.log(`ask ${what}`);
  const { value } = await answers.next();
  if (value !== 'ok') throw new Error(`the test could not ${what}: ${value}`);
}

async function state() {
  const r = await api.get(`${base}/api/state`);
  if (!r.ok()) throw new Error(`GET /api/state: ${r.status()}`);
  return r.json();
}
const guestsOf = (st) => [...(st.vms || []), ...(st.containers || [])];
// Reads /api/state until cond(state) holds; returns that state.
async function apiShows(what, cond, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    const st = await state();
    if (cond(st)) return st;
    if (Date.now() > end) throw new Error(`the API never showed ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
// A new connection each time (the simulator may have closed a kept one: a loaded CI run got
// ECONNRESET), and again after a failure to connect; an HTTP error is not retried.
async function simControl(path, data) {
  for (let attempt = 1; ; attempt++) {
    let r;
    try {
      r = await api.post(`${env.UI_SIM_URL}/__sim/${path}`, { data, headers: { Connection: 'close' } });
    } catch (err) {
      if (attempt >= 3) throw err;
      await new Promise((res) => setTimeout(res, 300));
      continue;
    }
    if (!r.ok()) throw new Error(`simulator ${path}: ${r.status()} ${await r.text()}`);
    return;
  }
}
// Once the API has it (or since: what happened): fn(arg) must hold in the page within one
// poll interval plus the slack.
async function onScreenInTime(what, fn, arg, since = 'the API had it') {
  const t0 = Date.now();
  try {
    await page.waitForFunction(fn, arg, { timeout: POLL_MS + SLACK_MS });
    check(true, `${what}: on screen ${Date.now() - t0} ms after ${since} (one poll: ${POLL_MS} ms, + ${SLACK_MS} ms)`);
  } catch (e) {
    check(false, `${what}: on screen within ${POLL_MS + SLACK_MS} ms after ${since}`, e.message.split('\n')[0]);
  }
}
// In the page: whether the overview's row of guest vmid shows want in the column key (the
// header's data-sort), or with want null has no such row; and, with count, whether the table
// has count rows.
const rowShows = ({ vmid, key, want, count }) => {
  const all = document.querySelectorAll('#guests tbody tr[data-vmid]');
  if (count !== undefined && all.length !== count) return false;
  const tr = document.querySelector(`#guests tbody tr[data-vmid="${vmid}"]`);
  if (want === null) return !tr;
  const i = [...document.querySelectorAll('#guests thead th')].findIndex((th) => th.dataset.sort === key);
  return Boolean(tr && i >= 0 && tr.children[i] && tr.children[i].textContent.trim() === want);
};
const rows = () => page.locator('#guests tbody tr[data-vmid]').count();

// Every request the pages make; all of them must stay under the prefix.
const requests = [];
page.on('request', (r) => requests.push(r.url()));
const path = () => new URL(page.url()).pathname;
// The links of the page that lead into our site must stay under the prefix.
async function linksUnderPrefix(where) {
  const bad = await page.$$eval('a[href]', (as, pre) => as.map((a) => a.href)
    .filter((h) => new URL(h).origin === location.origin && !new URL(h).pathname.startsWith(pre)), `${PREFIX}/`);
  const n = await page.locator('a[href]').count();
  check(bad.length === 0 && n > 0, `${where}: its ${n} links stay under ${PREFIX}/`, bad.slice(0, 5).join(' '));
}

// --- sub-path -------------------------------------------------------------------------------
await attempt('login under the sub-path', async () => {
  await page.goto(`${base}/`);
  await page.waitForSelector('#login-form');
  check(await page.evaluate(() => document.baseURI) === `${origin}${PREFIX}/`, `the page's base is ${PREFIX}/`,
    await page.evaluate(() => document.baseURI));
  await shot('subpath-login');
  await page.fill('input[name=username]', env.UI_USER);
  await page.fill('input[name=password]', env.UI_PASSWORD);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#guests tbody tr[data-vmid]');
  check(path() === `${PREFIX}/proxmox/overview`, `signed in: ${PREFIX}/ goes to ${PREFIX}/proxmox/overview`, path());
  const st = await state();
  await page.waitForFunction((n) => document.querySelectorAll('#guests tbody tr[data-vmid]').length === n, guestsOf(st).length);
  check(true, `the overview shows the state's ${guestsOf(st).length} guests`);
  await linksUnderPrefix('the overview');
  await shot('subpath-overview');
});

// Every top-level page and the section pages, reached by clicking the UI's own links.
const WALK = [
  ['proxmox/storage', 'proxmox/storage', '#storage-pools tbody tr'],
  ['proxmox/ceph', 'proxmox/ceph', '#ceph-clusters tr[data-ceph]'],
  ['proxmox/replication', 'proxmox/replication', '#replication-jobs tr[data-job]'],
  ['proxmox/backups', 'proxmox/backups', '#backups'],
  ['docker', 'docker', '#containers'],
  ['kubernetes', 'kubernetes', '#k8s-pods'],
  ['hosts', 'hosts', '#hosts'],
  ['alerts', 'alerts/overview', '#active-alerts'],
  ['alerts/history', 'alerts/history', '#alert-history'],
  ['alerts/thresholds', 'alerts/thresholds', '#override-table'],
  ['alerts/schedule', 'alerts/schedule', '#quiet-hours'],
  ['settings', 'settings/proxmox', '#node-table tbody tr[data-id]'],
  ['settings/notifications/email', 'settings/notifications/email', '#email-form'],
  ['settings/notifications/webhooks', 'settings/notifications/webhooks', '#webhook-table'],
  ['settings/notifications/apprise', 'settings/notifications/apprise', '#apprise-form'],
  ['settings/api', 'settings/api', '#token-table'],
  ['settings/security', 'settings/security', '.checklist'],
  ['settings/system', 'settings/system', '#mock-state'],
  ['proxmox', 'proxmox/overview', '#guests tbody tr[data-vmid]'],
];
for (const [href, route, ready] of WALK) {
  await attempt(`the link ${href}`, async () => {
    await page.locator(`a[data-link][href="${href}"]`).first().click();
    await page.waitForSelector(ready);
    check(path() === `${PREFIX}/${route}`, `${href}: ${PREFIX}/${route} opens`, path());
    await linksUnderPrefix(route);
    await shot(`subpath-${route.replace(/\//g, '-')}`);
  });
}
await attempt('a guest\'s detail view (the chart library)', async () => {
  await page.locator('#guests tbody tr[data-vmid] td.name a').first().click();
  await page.waitForSelector('#detail[data-kind="guest"]');
  await page.waitForSelector('#chart-cpu .uplot, #chart-cpu .empty-chart');
  check(path().startsWith(`${PREFIX}/proxmox/guest/`), 'a guest\'s detail view under the prefix', path());
  await linksUnderPrefix('a guest');
  await shot('subpath-guest');
});

await attempt('deep links reloaded', async () => {
  for (const [route, ready] of [['proxmox/storage', '#storage-pools tbody tr'], ['alerts/history', '#alert-history'],
    ['settings/api', '#token-table']]) {
    await page.goto(`${base}/${route}`);
    await page.waitForSelector(ready);
    await page.reload();
    await page.waitForSelector(ready);
    check(path() === `${PREFIX}/${route}`, `${PREFIX}/${route} opened and reloaded`, path());
  }
  const r = await api.get(`${origin}${PREFIX}/proxmox/storage`);
  check((await r.text()).includes(`<base href="${PREFIX}/">`), 'the deep link\'s page has the base');
});

await attempt('the stamped assets through the prefix', async () => {
  const esc = PREFIX.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const hashed = (file) => requests.some((u) => new RegExp(`^${origin}${esc}/assets/[0-9a-f]{12}/${file}$`).test(u));
  check(hashed('app\\.js') && hashed('style\\.css'), `app.js and style.css from ${PREFIX}/assets/<hash>/`);
  check(hashed('js/overview\\.js') && hashed('js/state-worker\\.js'), 'the modules and the state worker under the same hash');
  check(hashed('vendor/uplot/uPlot\\.esm\\.js'), 'the chart library too');
});

// --- live: a change on screen within one poll interval ----------------------------------------
await attempt('live changes', async () => {
  await page.goto(`${base}/proxmox/overview`);
  await page.waitForSelector('#guests tbody tr[data-vmid]');
  const st = await state();
  const running = guestsOf(st).filter((g) => g.status === 'running').sort((a, b) => a.vmid - b.vmid);
  const [hot, stop, gone] = running;
  const cpuText = (g) => `${(g.cpu * 100).toFixed(0)}%`;
  check(await page.evaluate(rowShows, { vmid: hot.vmid, key: 'cpu', want: cpuText(hot) }), `${hot.name}: CPU ${cpuText(hot)} at first`);

  await simControl('metrics', { vmid: hot.vmid, cpu: 0.87 });
  let now = await apiShows(`${hot.name} at 87 % CPU`, (s) => Math.abs((guestsOf(s).find((g) => g.vmid === hot.vmid) || {}).cpu - 0.87) < 0.005);
  const want = cpuText(guestsOf(now).find((g) => g.vmid === hot.vmid));
  await onScreenInTime(`${hot.name}'s CPU ${want}`, rowShows, { vmid: hot.vmid, key: 'cpu', want });
  await shot('live-cpu');

  check(await page.evaluate(rowShows, { vmid: stop.vmid, key: 'status', want: 'running' }), `${stop.name} running at first`);
  await simControl('metrics', { vmid: stop.vmid, status: 'stopped' });
  await apiShows(`${stop.name} stopped`, (s) => (guestsOf(s).find((g) => g.vmid === stop.vmid) || {}).status === 'stopped');
  await onScreenInTime(`${stop.name} stopped`, rowShows, { vmid: stop.vmid, key: 'status', want: 'stopped' });
  await shot('live-stopped');

  const before = await rows();
  await simControl('metrics', { vmid: gone.vmid, gone: 1 });
  now = await apiShows(`${gone.name} gone`, (s) => !guestsOf(s).some((g) => g.vmid === gone.vmid));
  await onScreenInTime(`${gone.name} removed`, rowShows, { vmid: gone.vmid, want: null, count: guestsOf(now).length });
  check(guestsOf(now).length === before - 1, `one guest fewer in the state (${guestsOf(now).length})`);
  await shot('live-removed');

  await simControl('guest', { vmid: 990, type: 'qemu', node: 'node1', name: 'live-added' });
  now = await apiShows('the new guest 990', (s) => guestsOf(s).some((g) => g.vmid === 990));
  await onScreenInTime('the new guest live-added', rowShows, { vmid: 990, key: 'name', want: 'live-added', count: guestsOf(now).length });
  await shot('live-added');
});

// --- the connection banner ------------------------------------------------------------------
await attempt('the connection banner', async () => {
  const name = env.UI_INSTANCE;
  check(await page.locator('#connection-down').count() === 0, 'no connection banner while the simulator answers');
  const before = await rows();
  await ask('stop-sim');
  await apiShows(`connectionHealth.${name} false`, (s) => s.connectionHealth && s.connectionHealth[name] === false);
  await onScreenInTime(`the banner naming ${name}`, (n) => {
    const b = document.querySelector('#connection-down');
    return b && b.textContent.includes('Not reachable') && b.textContent.split(/[:,]/).map((x) => x.trim()).includes(n);
  }, name);
  // The table is not blanked: it shows the guests the state still has (the last ones known).
  const known = guestsOf(await state()).length;
  await page.waitForFunction((n) => document.querySelectorAll('#guests tbody tr[data-vmid]').length === n, known, { timeout: POLL_MS + SLACK_MS })
    .catch(() => {});
  const shown = await rows();
  check(known > 0 && shown === known, `the guests stay on screen meanwhile (${shown} shown, ${known} in the state, ${before} before)`);
  await shot('banner-down');
  await ask('start-sim');
  await apiShows(`connectionHealth.${name} true`, (s) => s.connectionHealth && s.connectionHealth[name] === true);
  await onScreenInTime('the banner gone', () => !document.querySelector('#connection-down'));
  await shot('banner-gone');
});

// --- the API unreachable --------------------------------------------------------------------
await attempt('the API\'s responder stopped', async () => {
  // A fresh load first: the footer's next health check is 30 s away, past this step.
  await page.reload();
  await page.waitForSelector('#guests tbody tr[data-vmid]');
  const before = await rows();
  check(await page.locator('#guests-error').isHidden(), 'no error banner while the API answers');
  // The browser notes each failed request as a console error: expected while it is down.
  expectError(['/api/state', '/api/health', '/api/version'], [502]);
  await ask('stop-api');
  await onScreenInTime('the error banner', () => {
    const b = document.querySelector('#guests-error');
    return b && !b.hidden && /Cannot refresh the state/.test(b.textContent);
  }, undefined, 'the responder stopped');
  const text = await page.textContent('#guests-error');
  check(/No API responder is available/.test(text), 'it gives the answer\'s message', text);
  check(await rows() === before, `the table kept on screen (${before} rows)`);
  check((await page.textContent('#health')) === 'unreachable', 'the footer says the API is unreachable at once',
    await page.textContent('#health'));
  await shot('api-down');
  await ask('start-api');
  await onScreenInTime('the error banner gone', () => document.querySelector('#guests-error').hidden, undefined,
    'the responder started again');
  await page.waitForFunction(() => document.querySelector('#health').textContent === 'healthy', null, { timeout: 10000 })
    .then(() => check(true, 'and healthy again after the next good poll'),
      () => check(false, 'and healthy again after the next good poll'));
  expectError();
  check(await rows() === before, 'the table still there');
  await shot('api-back');
});
await attempt('/api/state failing at the network', async () => {
  const before = await rows();
  await page.route('**/api/state', (route) => route.abort('failed'));
  await page.waitForSelector('#guests-error:not([hidden])', { timeout: POLL_MS + SLACK_MS });
  check(true, 'a network error shows the error banner');
  check(await rows() === before, 'the table kept on screen');
  await shot('api-network-error');
  await page.unroute('**/api/state');
  await page.waitForSelector('#guests-error[hidden]', { state: 'attached', timeout: POLL_MS + SLACK_MS });
  check(true, 'and it goes once the state answers again');
});

await attempt('every request under the prefix', async () => {
  const ours = requests.filter((u) => /^https?:/.test(u));
  const outside = ours.filter((u) => new URL(u).origin !== origin || !new URL(u).pathname.startsWith(`${PREFIX}/`));
  check(ours.length > 50 && outside.length === 0, `all ${ours.length} requests the pages made went to ${PREFIX}/`,
    outside.slice(0, 5).join(' '));
  check(ours.some((u) => u.startsWith(`${origin}${PREFIX}/api/state`)), `the state from ${PREFIX}/api/state`);
});

await attempt('logout under the sub-path', async () => {
  await page.click('#logout');
  await page.waitForSelector('#login-form');
  check(path().startsWith(`${PREFIX}/`), `signed out, still under ${PREFIX}/`, path());
  await page.reload();
  await page.waitForSelector('#login-form');
  check(true, 'still signed out after a reload');
  await shot('subpath-logout');
});

// --- the same through our Apache ------------------------------------------------------------
await attempt('under a sub-path through Apache', async () => {
  const p = await freshPage();
  const seen = [];
  p.on('request', (r) => seen.push(r.url()));
  const apre = new URL(env.UI_APACHE_URL).pathname.replace(/\/$/, '');
  await p.goto(`${env.UI_APACHE_URL}/proxmox/storage`);
  await p.waitForSelector('#login-form');
  check(await p.evaluate(() => document.baseURI) === `${origin}${apre}/`, `Apache: the base is ${apre}/`);
  await p.fill('input[name=username]', env.UI_USER);
  await p.fill('input[name=password]', env.UI_PASSWORD);
  await p.click('#login-form button[type=submit]');
  await p.waitForSelector('#storage-pools tbody tr');
  await p.reload();
  await p.waitForSelector('#storage-pools tbody tr');
  await p.locator('a[data-link][href="proxmox/overview"]').first().click();
  const n = guestsOf(await state()).length;
  await p.waitForFunction((k) => document.querySelectorAll('#guests tbody tr[data-vmid]').length === k, n);
  check(new URL(p.url()).pathname === `${apre}/proxmox/overview`, `Apache: signed in on the deep link, then the overview's ${n} guests`);
  await p.screenshot({ path: `${env.UI_OUT}/apache-overview.png`, fullPage: true });
  const outside = seen.filter((u) => /^https?:/.test(u) && !u.startsWith(`${origin}${apre}/`));
  check(seen.length > 10 && outside.length === 0, `Apache: all ${seen.length} requests under ${apre}/`, outside.slice(0, 5).join(' '));
  await p.click('#logout');
  await p.waitForSelector('#login-form');
  await p.context().close();
});

await api.dispose();
await finish();
