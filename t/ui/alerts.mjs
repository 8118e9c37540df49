// alerts.mjs: the Alerts pages in Debian's chromium (harness.mjs), against the stack
// t/api/71-ui-alerts.t starts; each action in the browser is checked through the API with
// the admin's token. Environment, beyond the harness's:
//   UI_EXPECT  a JSON file: {cpuId (node1's critical cpu alert), node1 (its resource id),
//              guest, guestName (a VM for an override)}
//   UI_TOKEN   the admin's API token
//   UI_SIM     the PVE simulator's URL (POST /__sim/metrics)
import { readFileSync } from 'node:fs';
import { request } from 'playwright-core';
import { env, base, check, page, shot, query, attempt, expectError, login, finish } from './harness.mjs';

const expect = JSON.parse(readFileSync(env.UI_EXPECT, 'utf8'));
const api = await request.newContext({ baseURL: base, ignoreHTTPSErrors: true, extraHTTPHeaders: { 'X-API-Token': env.UI_TOKEN } });
const getJ = async (path) => {
  const r = await api.get(path);
  if (!r.ok()) throw new Error(`GET ${path}: ${r.status()}`);
  return r.json();
};
const active = () => getJ('/api/alerts/active');
const alertOf = async (id) => (await active()).find((a) => a.id === id);
const config = () => getJ('/api/alerts/config');
// Waits until fn() (async) is true; the API's side of what the UI did may lag a moment.
async function until(fn, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
const row = (id) => page.locator(`#active-alerts tr[data-id="${id}"]`);
const rowIds = () => page.$$eval('#active-alerts tbody tr[data-id]', (trs) => trs.map((tr) => tr.dataset.id));
const pills = () => page.$$eval('#tabs a[href="alerts"] .pill', (ps) => ps.map((p) => `${p.classList[1]}:${p.textContent}`).join(' '));
async function expectPills(what) {
  const list = await active();
  const open = list.filter((a) => !a.acknowledged);
  const crit = open.filter((a) => a.level === 'critical').length, warn = open.length - crit;
  const want = [crit ? `crit:${crit}` : '', warn ? `warn:${warn}` : ''].filter(Boolean).join(' ');
  await page.waitForFunction((w) => [...document.querySelectorAll('#tabs a[href="alerts"] .pill')]
    .map((p) => `${p.classList[1]}:${p.textContent}`).join(' ') === w, want, { timeout: 15000 }).catch(() => {});
  const got = await pills();
  check(got === want, `the Alerts tab's pills ${what}: ${want}`, got);
}

await attempt('login and the overview', async () => {
  await page.goto(base + '/alerts');
  await login();
  await page.waitForSelector('#active-alerts tbody tr[data-id]');
  check(new URL(page.url()).pathname === '/alerts/overview', 'alerts goes to alerts/overview', page.url());
  const nav = await page.$$eval('#alerts-nav a', (as) => as.map((a) => a.textContent));
  check(nav.join(' · ') === 'Overview · History · Thresholds · Schedule · Notifications', 'the section nav', nav.join(' · '));
  const list = await active();
  await page.waitForFunction((n) => document.querySelectorAll('#active-alerts tbody tr[data-id]').length === n, list.length).catch(() => {});
  const ids = await rowIds();
  check(JSON.stringify([...ids].sort()) === JSON.stringify(list.map((a) => a.id).sort()), `the ${list.length} active alerts of the API`, ids.join(','));
  const text = await row(expect.cpuId).innerText();
  check(/Critical/.test(text) && /node1/.test(text) && /cpu/.test(text) && /9\d(\.\d)?% \/ 80%/.test(text),
    'the cpu alert: level, resource, type, value against threshold', text);
  check(ids[0] === expect.cpuId || list.filter((a) => a.level === 'critical').length > 1, 'critical first');
  await expectPills('at first');
  await shot('overview');
  await page.waitForSelector('#activate');
  await page.click('#activate');
  await page.locator('#activation').waitFor({ state: 'hidden' });
  check((await config()).activationState === 'active', 'Activate notifications: active in the API');
});

await attempt('acknowledge and unacknowledge one', async () => {
  await row(expect.cpuId).locator('button[data-act=ack]').click();
  await row(expect.cpuId).locator('button[data-act=unack]').waitFor();
  const a = await alertOf(expect.cpuId);
  check(a && a.acknowledged === true && a.ackUser === env.UI_USER, 'acknowledged in the API, by the signed-in user', JSON.stringify(a));
  check((await row(expect.cpuId).innerText()).includes(env.UI_USER), 'the row names who acknowledged it');
  await expectPills('after acknowledging the critical alert');
  await shot('acknowledged');
  await row(expect.cpuId).locator('button[data-act=unack]').click();
  await row(expect.cpuId).locator('button[data-act=ack]').waitFor();
  check(!(await alertOf(expect.cpuId)).acknowledged, 'unacknowledged in the API');
});

await attempt('bulk actions', async () => {
  const zfs = (await active()).filter((a) => a.type.startsWith('zfs-')).map((a) => a.id);
  for (const id of zfs) await row(id).locator('input.pick').check();
  check((await page.textContent('#selected-count')) === `${zfs.length} selected`, `${zfs.length} rows selected`);
  await page.click('#bulk-ack');
  await until(async () => (await active()).filter((a) => zfs.includes(a.id)).every((a) => a.acknowledged), 'the bulk acknowledgement');
  check(true, `Acknowledge selected: the ${zfs.length} ZFS alerts acknowledged in the API`);
  check(!(await alertOf(expect.cpuId)).acknowledged, 'the alert not selected is not');
  await page.waitForFunction((ids) => ids.every((id) => document.querySelector(`#active-alerts tr[data-id="${id}"].acked`)), zfs);
  await shot('bulk-acknowledged');
  await page.check('#select-all');
  const n = (await active()).length;
  check((await page.textContent('#selected-count')) === `${n} selected`, 'select all selects every row');
  await page.click('#bulk-unack');
  await until(async () => (await active()).every((a) => !a.acknowledged), 'the bulk unacknowledgement');
  check(true, 'Unacknowledge selected: none acknowledged in the API');
  await page.uncheck('#select-all');
  check((await page.textContent('#selected-count')) === '0 selected', 'unticking select all clears the selection');
});

await attempt('a failed action shows the API\'s message', async () => {
  await row(expect.cpuId).waitFor();
  // The view is held (every poll answered 304) while the alert resolves behind it.
  await page.route('**/api/state', (route) => route.fulfill({ status: 304 }));
  const r = await api.post(`${env.UI_SIM}/__sim/metrics`, { data: { node: 'node1', cpu: 0.1 } });
  check(r.ok(), 'node1 back to 10 % CPU');
  await until(async () => !(await alertOf(expect.cpuId)), 'the cpu alert to resolve', 20000);
  expectError('/api/alerts/acknowledge', [404]);
  await row(expect.cpuId).locator('button[data-act=ack]').click();
  const banner = page.locator('#alerts-error');
  await banner.waitFor({ state: 'visible' });
  const text = await banner.textContent();
  check(text.includes(`alert not found: ${expect.cpuId}`), 'the API\'s 404 message in the banner', text);
  await shot('action-failed');
  expectError();
  await page.unroute('**/api/state');
  await row(expect.cpuId).waitFor({ state: 'detached', timeout: 15000 });
  check(true, 'the next poll takes the resolved alert away');
});

await attempt('clear one and several', async () => {
  // The ZFS pool stays degraded, so the engine raises these again: the incident of the
  // occurrence cleared (listed by resource) says it was resolved, and by whom.
  const resolved = async (a) => (await getJ(`/api/alerts/incidents?resource_id=${encodeURIComponent(a.resourceId)}`))
    .find((i) => i.alertId === a.id && Math.floor(Date.parse(i.openedAt) / 1000) === Date.parse(a.startTime) / 1000
      && i.events.some((e) => e.type === 'alert_resolved'));
  const [one, ...two] = (await active()).filter((a) => a.type.startsWith('zfs-')).slice(0, 3);
  const btn = row(one.id).locator('button[data-act=clear]');
  await btn.click();
  check((await btn.textContent()) === 'Confirm clear', 'clear asks for a second click');
  await page.keyboard.press('Escape');
  check((await btn.textContent()) === 'Clear', 'Escape calls it off');
  await btn.click();
  await btn.click();
  await until(() => resolved(one), 'the resolution');
  const ev = (await resolved(one)).events.find((e) => e.type === 'alert_resolved');
  check(ev.details && ev.details.user === env.UI_USER, 'cleared in the API: its incident has the resolution, by the user', JSON.stringify(ev));

  await row(two[0].id).waitFor();
  for (const a of two) await row(a.id).locator('input.pick').check();
  await page.click('#bulk-clear');
  check(/Confirm/.test(await page.textContent('#bulk-clear')), 'Clear selected asks for a second click');
  await page.click('#bulk-clear');
  for (const a of two) await until(() => resolved(a), `the resolution of ${a.id}`);
  check(true, 'Clear selected: both alerts resolved in the API');
  await page.waitForFunction(() => document.querySelector('#selected-count').textContent === '0 selected').catch(() => {});
  check((await page.textContent('#selected-count')) === '0 selected', 'the cleared alerts leave the selection');
});

await attempt('timeline and a note', async () => {
  const a = (await active()).find((x) => x.type === 'zfs-pool-state') || (await active())[0];
  await row(a.id).locator('input.pick').check();
  await page.click('#bulk-ack');
  await page.waitForSelector(`#active-alerts tr[data-id="${a.id}"].acked`);
  await row(a.id).locator('button[data-act=timeline]').click();
  await page.waitForSelector('#incident-events li');
  let types = await page.$$eval('#incident-events li', (lis) => lis.map((li) => li.dataset.type));
  check(types.includes('alert_fired') && types.includes('alert_acknowledged'), 'the timeline: fired and acknowledged', types.join(','));
  await page.fill('#note-text', 'Checked the pool: a disk to replace');
  await page.click('#note-form button[type=submit]');
  await page.waitForFunction(() => [...document.querySelectorAll('#incident-events li')].some((li) => li.dataset.type === 'note'));
  const inc = await getJ(`/api/alerts/incidents?alert_id=${encodeURIComponent(a.id)}`);
  const note = inc.events.find((e) => e.type === 'note');
  check(note && note.summary === 'Checked the pool: a disk to replace', 'the note in the API\'s incident', JSON.stringify(note));
  types = await page.$$eval('#incident-events li', (lis) => lis.map((li) => li.textContent));
  check(types.some((t) => t.includes('Checked the pool')), 'and on the page');
  await shot('timeline');
  await page.locator('#incident-close').click();
  await page.setViewportSize({ width: 360, height: 800 });
  await shot('overview-360', false);
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot('overview-dark');
  await page.emulateMedia({ colorScheme: 'light' });
});

await attempt('history', async () => {
  await page.click('#alerts-nav a[href="alerts/history"]');
  await page.waitForSelector('#alert-history tbody tr');
  await page.selectOption('#h-level', 'critical');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('level') === 'critical');
  await page.fill('#h-type', 'cpu');
  await page.fill('#h-q', 'node1');
  await page.click('#history-filters button[type=submit]');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('q') === 'node1');
  const q = query();
  check(q.get('level') === 'critical' && q.get('type') === 'cpu' && q.get('q') === 'node1', 'the filters in the URL', page.url());
  const rows = async () => page.$$eval('#alert-history tbody tr[data-id]', (trs) => trs.map((tr) => tr.dataset.id));
  await page.waitForFunction(() => document.querySelectorAll('#alert-history tbody tr[data-id]').length > 0);
  const want = (await getJ(`/api/alerts/history?severity=critical&startTime=${encodeURIComponent(new Date(Date.now() - 7 * 86400e3).toISOString())}`))
    .filter((a) => a.type === 'cpu' && (a.resourceName.includes('node1') || a.resourceId.includes('node1') || a.node === 'node1')).map((a) => a.id);
  const got = await rows();
  check(got.length === want.length && got.every((id) => id === expect.cpuId), `the ${want.length} critical cpu entries of node1`, got.join(','));
  await shot('history-filtered');
  await page.reload();
  await page.waitForSelector('#alert-history tbody tr[data-id]');
  check((await page.inputValue('#h-type')) === 'cpu' && (await page.inputValue('#h-level')) === 'critical'
    && (await page.inputValue('#h-q')) === 'node1', 'the bookmarked URL brings the filters back');
  check(JSON.stringify(await rows()) === JSON.stringify(got), 'and the same entries');
  await page.goto(base + '/alerts/history?type=no-such-type');
  await page.waitForSelector('#alert-history tbody td.muted');
  check(/No alerts/.test(await page.textContent('#alert-history tbody')), 'no match: an empty table that says so');
});

await attempt('thresholds', async () => {
  await page.goto(base + '/alerts/thresholds');
  const trig = page.locator('[data-path="nodeDefaults.cpu.trigger"]');
  await trig.waitFor();
  check((await trig.inputValue()) === String((await config()).nodeDefaults.cpu.trigger), 'the node CPU trigger of the API');
  await shot('thresholds');
  await trig.fill('97');
  await page.fill('[data-path="nodeDefaults.cpu.clear"]', '92');
  await page.uncheck('[data-path="disableAllPBS"]');
  check((await page.textContent('#dirty')) === 'Unsaved changes', 'unsaved changes are flagged');
  await page.click('#save-config');
  await page.waitForFunction(() => document.querySelector('#save-ok') && document.querySelector('#save-ok').textContent !== '');
  let cfg = await config();
  check(cfg.nodeDefaults.cpu.trigger === 97 && cfg.nodeDefaults.cpu.clear === 92, 'saved: node CPU 97/92 in the API', JSON.stringify(cfg.nodeDefaults.cpu));
  check(cfg.disableAllPBS === true, 'saved: PBS alerts off in the API');

  // An override: add, edit, delete.
  await page.click('#override-add');
  await page.fill('#override-id', expect.guest);
  await page.check('#override-editor [data-opath=disabled]');
  await page.fill('#override-editor [data-opath="cpu.trigger"]', '50');
  await page.fill('#override-editor [data-opath=note]', 'batch host');
  await page.click('#override-apply');
  await page.waitForSelector(`#override-table tr[data-id="${expect.guest}"]`);
  check((await page.textContent(`#override-table tr[data-id="${expect.guest}"]`)).includes(expect.guestName), 'the override row names the guest');
  await page.click('#save-config');
  await until(async () => (await config()).overrides[expect.guest], 'the override');
  let o = (await config()).overrides[expect.guest];
  check(o.disabled === true && o.cpu.trigger === 50 && o.cpu.clear === 45 && o.note === 'batch host', 'saved: the override in the API (clear as normalised)', JSON.stringify(o));
  await shot('override');
  await page.click(`#override-table tr[data-id="${expect.guest}"] button[data-act=edit]`);
  await page.fill('#override-editor [data-opath="cpu.trigger"]', '60');
  await page.fill('#override-editor [data-opath="cpu.clear"]', '55');
  await page.press('#override-editor [data-opath="cpu.clear"]', 'Enter');
  await page.click('#save-config');
  await until(async () => { const x = (await config()).overrides[expect.guest]; return x && x.cpu.trigger === 60; }, 'the edited override');
  o = (await config()).overrides[expect.guest];
  check(o.cpu.clear === 55 && o.disabled === true, 'saved: the edited override', JSON.stringify(o));

  // The API refuses a note over 2047 bytes: its message shows and nothing is written.
  await page.click(`#override-table tr[data-id="${expect.guest}"] button[data-act=edit]`);
  await page.fill('#override-editor [data-opath=note]', 'x'.repeat(2100));
  await page.click('#override-apply');
  expectError('/api/alerts/config', [400]);
  await page.click('#save-config');
  const banner = page.locator('#save-error');
  await banner.waitFor({ state: 'visible' });
  const text = await banner.textContent();
  const put = await api.put('/api/alerts/config', { data: { ...(await config()), overrides: { [expect.guest]: { note: 'x'.repeat(2100) } } } });
  const apiMsg = (await put.json()).error;
  check(put.status() === 400 && text.includes(apiMsg), 'the API\'s validation message is shown', `${text} | ${apiMsg}`);
  check((await config()).overrides[expect.guest].note === 'batch host', 'and nothing was saved');
  await shot('validation-error');
  expectError();
  await page.click('#discard-config');
  await page.locator('#save-error').waitFor({ state: 'hidden' });
  await page.click(`#override-table tr[data-id="${expect.guest}"] button[data-act=delete]`);
  check(await page.locator(`#override-table tr[data-id="${expect.guest}"]`).count() === 0, 'delete takes the row away');
  await page.click('#save-config');
  await until(async () => !(await config()).overrides[expect.guest], 'the override deleted');
  check(true, 'saved: the override is gone from the API');
  cfg = await config();
  check(cfg.nodeDefaults.cpu.trigger === 97, 'the other settings kept');
});

await attempt('schedule', async () => {
  await page.click('#alerts-nav a[href="alerts/schedule"]');
  const cool = page.locator('[data-path="schedule.cooldown"]');
  await cool.waitFor();
  check((await cool.inputValue()) === String((await config()).schedule.cooldown), 'the cooldown of the API');
  await page.check('[data-path="schedule.quietHours.enabled"]');
  await page.fill('[data-path="schedule.quietHours.start"]', '23:00');
  await page.fill('[data-path="schedule.quietHours.end"]', '06:30');
  await page.fill('[data-path="schedule.quietHours.timezone"]', 'Europe/Berlin');
  await page.uncheck('[data-path="schedule.quietHours.days.monday"]');
  await page.check('[data-path="schedule.quietHours.days.saturday"]');
  await page.click('#level-add');
  check(await page.locator('#escalation-levels li').count() === 4, 'a fourth escalation level');
  check((await page.inputValue('[data-path="schedule.quietHours.start"]')) === '23:00', 'adding a level keeps what was typed');
  // A cooldown that is not an integer: the API's message, nothing saved.
  await cool.fill('2.5');
  expectError('/api/alerts/config', [400]);
  await page.click('#save-config');
  await page.locator('#save-error').waitFor({ state: 'visible' });
  const text = await page.textContent('#save-error');
  check(text.includes('schedule.cooldown: must be an integer'), 'a cooldown of 2.5: the API\'s message', text);
  check((await config()).schedule.quietHours.enabled === false, 'nothing saved');
  expectError();
  await cool.fill('20');
  await page.click('#save-config');
  await page.waitForFunction(() => document.querySelector('#save-ok') && document.querySelector('#save-ok').textContent !== '');
  check(await page.locator('#save-error').isHidden(), 'saved: the error is gone');
  const s = (await config()).schedule;
  check(s.quietHours.enabled && s.quietHours.start === '23:00' && s.cooldown === 20 && s.escalation.levels.length === 4,
    'saved: the schedule in the API', JSON.stringify(s.quietHours));
  await shot('schedule');
});

await attempt('pills on another tab', async () => {
  await page.click('#tabs a[href="proxmox"]');
  await page.waitForSelector('#guests');
  await expectPills('on the Proxmox overview');
  await page.click('#tabs a[href="alerts"]');
  await page.waitForSelector('#active-alerts');
  check(new URL(page.url()).pathname === '/alerts/overview', 'the Alerts tab opens the overview');
});

await api.dispose();
// The original's alerts/destinations: the channels are under Settings → Notifications here.
await attempt('notification channels', async () => {
  await page.goto(base + '/alerts/destinations');
  await page.waitForFunction(() => location.pathname.endsWith('/settings/notifications/email'));
  check(true, 'alerts/destinations opens Settings → Notifications → Email');
  await page.goto(base + '/alerts/history');
  await page.click('#alerts-nav a[href="settings/notifications/email"]');
  await page.waitForFunction(() => location.pathname.endsWith('/settings/notifications/email'));
  check(true, 'and so does the Alerts nav\'s Notifications');
});

await finish();
