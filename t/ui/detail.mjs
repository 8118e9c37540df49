// detail.mjs: the Proxmox sub-pages and the detail views in Debian's chromium (harness.mjs),
// against the stack t/api/73-ui-detail.t starts. Each page's rows are checked against the
// API's answers (UI_EXPECT: {state, backups}, read by the .t just before; what the stack
// adds later, such as new history points, is asked from the API again here).
import { readFileSync } from 'node:fs';
import { env, base, check, page, shot, query, attempt, login, finish } from './harness.mjs';

const expect = JSON.parse(readFileSync(env.UI_EXPECT, 'utf8'));
const st = expect.state;
const sameSet = (a, b) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
const attrs = (sel, name) => page.$$eval(sel, (els, n) => els.map((e) => e.getAttribute(n)), name);
const path = () => new URL(page.url()).pathname;
// The API as the page's session sees it.
const api = (p) => page.evaluate(async (u) => (await fetch(u, { headers: { Accept: 'application/json' } })).json(), p);
const waitRows = (sel, n) => page.waitForFunction(([s, k]) => document.querySelectorAll(s).length === k, [sel, n]);

await attempt('login onto a sub-page', async () => {
  await page.goto(base + '/proxmox/storage');
  await login();
  await page.waitForSelector('#storage-pools tr[data-storage]');
  check(path() === '/proxmox/storage', 'signed in on proxmox/storage');
});

await attempt('section nav', async () => {
  const hrefs = await attrs('#proxmox-nav a', 'href');
  const want = ['proxmox/overview', 'proxmox/storage', 'proxmox/ceph', 'proxmox/replication', 'proxmox/mail', 'proxmox/backups'];
  check(hrefs.join(' ') === want.join(' '), 'the section nav lists Overview · Storage · Ceph · Replication · Mail Gateway · Backups', hrefs.join(' '));
  check((await page.getAttribute('#proxmox-nav a[aria-current="page"]', 'href')) === 'proxmox/storage', 'the current section is marked');
  await page.goto(base + '/proxmox/storage?kiosk=1');
  await page.waitForSelector('#storage-pools tr[data-storage]');
  check(!(await page.isVisible('#proxmox-nav')), 'kiosk mode hides the section nav');
  await page.goto(base + '/proxmox/storage?kiosk=0');
  await page.waitForSelector('#proxmox-nav a');
});

await attempt('storage page', async () => {
  await waitRows('#storage-pools tr[data-storage]', st.storage.length);
  const ids = await attrs('#storage-pools tr[data-storage]', 'data-storage');
  check(sameSet(ids, st.storage.map((s) => s.id)), `every storage of the state is a row (${st.storage.length})`, ids.join(' '));
  const s = st.storage.find((x) => x.total > 0 && x.shared);
  const label = await page.textContent(`#storage-pools tr[data-storage="${s.id}"] .bar em`);
  check(label === `${Math.round((s.used * 100) / s.total)}%`, `${s.id}: its usage bar says ${label}`);
  check((await page.textContent(`#storage-pools tr[data-storage="${s.id}"] td:nth-child(6)`)).trim() === 'yes', 'shared storage: "yes"');
  const disks = await attrs('#physical-disks tr[data-disk]', 'data-disk');
  check(sameSet(disks, st.physicalDisks.map((d) => d.id)), `every physical disk is a row (${st.physicalDisks.length})`);
  const d = st.physicalDisks.find((x) => x.wearout >= 0);
  check((await page.textContent(`#physical-disks tr[data-disk="${d.id}"] .bar em`)) === `${d.wearout}%`, 'SSD life left shown');
  const stores = (st.pbs || []).flatMap((p) => (p.datastores || []).map((d) => `${p.id}/${d.name}`));
  await waitRows('#pbs-datastores tr[data-datastore]', stores.length);
  check(stores.length > 0 && sameSet(await attrs('#pbs-datastores tr[data-datastore]', 'data-datastore'), stores),
    `every Backup Server datastore is a row (${stores.length})`);
  await shot('storage');
  await page.fill('#storage-search', 'node:node1');
  const want = st.storage.filter((x) => (x.nodes && x.nodes.length ? x.nodes : [x.node]).join(', ').includes('node1'));
  await waitRows('#storage-pools tr[data-storage]', want.length);
  check(query().get('q') === 'node:node1', 'the storage search is in the URL');
  check(sameSet(await attrs('#storage-pools tr[data-storage]', 'data-storage'), want.map((x) => x.id)), `node:node1 leaves ${want.length} storages`);
});

// The storage page's node summary: each node's storage and disks; a click on a node filters
// the pools and disks to it.
await attempt('storage page: nodes', async () => {
  await page.goto(base + '/proxmox/storage');
  await waitRows('#nodes tr[data-node]', st.nodes.length);
  check(sameSet(await attrs('#nodes tr[data-node]', 'data-id'), st.nodes.map((n) => n.id)), `a row per node (${st.nodes.length})`);
  const heads = await page.$$eval('#nodes th', (ths) => ths.filter((th) => th.offsetParent !== null).map((th) => th.textContent.trim()));
  check(heads.join(' · ') === 'Node · Status · Uptime · CPU · Memory · Disk · Temp · Storage · Disks', heads.join(' · '));
  // node1 has a host agent reporting 83 °C (t/api/73): its temperature in red (at or above the
  // alert trigger, 80 °C), the "+ Host Agent" badge; node2 neither.
  const cell = (node, sel) => page.$eval(`#nodes tr[data-node="${node}"] ${sel}`, (el) => ({ text: el.textContent.trim(), cls: el.className }))
    .catch(() => null);
  await page.waitForFunction(() => /83 °C/.test((document.querySelector('#nodes tr[data-node="node1"] td.temp') || {}).textContent || ''));
  const t1 = await cell('node1', 'td.temp'), t2 = await cell('node2', 'td.temp');
  check(t1 && t1.text === '83 °C' && /text-crit/.test(t1.cls), `node1: 83 °C in red (${JSON.stringify(t1)})`);
  check(t2 && t2.text === '-', `node2: no temperature (${JSON.stringify(t2)})`);
  check((await cell('node1', '.badge.agent')) && !(await cell('node2', '.badge.agent')), 'node1 has the "+ Host Agent" badge, node2 not');
  const onNode = (s, name) => (s.nodes && s.nodes.length ? s.nodes : [s.node]).includes(name);
  const want = Object.fromEntries(st.nodes.map((n) => [n.node, [st.storage.filter((s) => onNode(s, n.node)).length,
    st.physicalDisks.filter((d) => d.node === n.node).length]]));
  const got = await page.$$eval('#nodes tr[data-node]', (trs) => Object.fromEntries(trs.map((tr) =>
    [tr.dataset.node, [Number(tr.querySelector('[data-count="storage"]').textContent), Number(tr.querySelector('[data-count="disks"]').textContent)]])));
  check(JSON.stringify(got, Object.keys(want).sort()) === JSON.stringify(want, Object.keys(want).sort()), `storage and disk counts ${JSON.stringify(got)}`);
  await page.click('#nodes th[data-sort="disks"]');
  const byDisks = [...st.nodes].sort((a, b) => want[b.node][1] - want[a.node][1] || (a.id < b.id ? -1 : 1)).map((n) => n.node);
  check((await attrs('#nodes tr[data-node]', 'data-node')).join(' ') === byDisks.join(' ') && query().get('nsort') === 'disks'
    && (await page.getAttribute('#nodes th[data-sort="disks"]', 'aria-sort')) === 'descending', `sorted by Disks: ${byDisks.join(' ')}`);
  const n = st.nodes.find((x) => x.node === 'node2') || st.nodes[1];
  await page.click(`#nodes tr[data-node="${n.node}"] td:nth-child(2)`);
  const pools = st.storage.filter((s) => onNode(s, n.node)).map((s) => s.id);
  const disks = st.physicalDisks.filter((d) => d.node === n.node).map((d) => d.id);
  await waitRows('#storage-pools tr[data-storage]', pools.length);
  check(sameSet(await attrs('#storage-pools tr[data-storage]', 'data-storage'), pools)
    && sameSet(await attrs('#physical-disks tr[data-disk]', 'data-disk'), disks),
  `a click on ${n.node}: its ${pools.length} storages and ${disks.length} disks`);
  check(query().get('node') === n.node && (await page.getAttribute(`#nodes tr[data-node="${n.node}"]`, 'aria-selected')) === 'true'
    && (await page.textContent('.node-summary [data-node-clear]')).includes(n.node), `node=${n.node} in the URL, the row marked, a chip names it`);
  await shot('storage-node-filter');
  await page.click(`#nodes tr[data-node="${n.node}"] td:nth-child(4)`);
  await waitRows('#storage-pools tr[data-storage]', st.storage.length);
  check(!query().get('node'), 'a second click shows every node again');
  await page.click(`#nodes tr[data-node="${n.node}"] td:nth-child(2)`);
  await waitRows('#storage-pools tr[data-storage]', pools.length);
  await page.keyboard.press('Escape');
  await waitRows('#storage-pools tr[data-storage]', st.storage.length);
  check(!query().get('node') && !(await page.$('#nodes tr[aria-selected="true"]')), 'Escape clears it');
  // Keyboard: Space on a focused row filters too.
  await page.focus(`#nodes tr[data-node="${n.node}"]`);
  await page.keyboard.press(' ');
  await waitRows('#storage-pools tr[data-storage]', pools.length);
  check(query().get('node') === n.node, 'Space on a focused node row filters to it');
  await page.keyboard.press('Escape');
  await waitRows('#storage-pools tr[data-storage]', st.storage.length);
  await page.click('#nodes th[data-sort="name"]');
  check(!query().get('nsort'), 'sorted by name again: nsort off the URL');
});

// Temperatures in °F, a choice of this browser (Settings → System → Display): node1's 83 °C
// shows as 181 °F, its alert trigger (80 °C) as 176 °F; back to °C and the storage page
// afterwards.
await attempt('temperatures in °F', async () => {
  await page.goto(base + '/settings/system');
  await page.check('#display-card input[value=fahrenheit]');
  check(await page.evaluate(() => localStorage.getItem('temperatureUnit')) === 'fahrenheit', 'the choice is kept in localStorage');
  await page.goto(base + '/proxmox/storage');
  await page.waitForFunction(() => /°F/.test((document.querySelector('#nodes tr[data-node="node1"] td.temp') || {}).textContent || ''));
  const t = await page.$eval('#nodes tr[data-node="node1"] td.temp', (el) => ({ text: el.textContent.trim(), title: el.title, cls: el.className }));
  check(t.text === '181 °F' && t.title === 'alert at 176 °F' && /text-crit/.test(t.cls), `node1: 181 °F, alert at 176 °F (${JSON.stringify(t)})`);
  await page.goto(base + '/settings/system');
  check(await page.isChecked('#display-card input[value=fahrenheit]'), 'the settings page shows the choice');
  await page.check('#display-card input[value=celsius]');
  check(await page.evaluate(() => localStorage.getItem('temperatureUnit')) === 'celsius', 'back to °C');
  await page.goto(base + '/proxmox/storage');  // where the next step starts
  await waitRows('#nodes tr[data-node]', st.nodes.length);
});

await attempt('storage detail', async () => {
  const s = st.storage.find((x) => x.id.endsWith('-local') && x.node === 'node1');
  await page.click(`#storage-pools tr[data-storage="${s.id}"] a`);
  await page.waitForSelector('#chart-usage[data-points]:not([data-points="0"])');
  check(decodeURIComponent(path()) === `/proxmox/storage/${s.id}`, 'a storage name opens its detail view');
  check((await page.textContent('#detail-title')) === `local on node1`, 'the storage\'s title');
  const n = Number(await page.getAttribute('#chart-usage', 'data-points'));
  check(n >= 3, `the usage chart has ${n} points`);
  await shot('storage-detail');
});

await attempt('ceph page', async () => {
  await page.click('#proxmox-nav a[href="proxmox/ceph"]');
  await page.waitForSelector('#ceph-clusters tr[data-ceph]');
  const c = st.cephClusters[0];
  check(sameSet(await attrs('#ceph-clusters tr[data-ceph]', 'data-ceph'), st.cephClusters.map((x) => x.id)), 'every Ceph cluster is a row');
  const health = (await page.textContent(`#ceph-clusters tr[data-ceph="${c.id}"] .badge`)).trim();
  check(health === c.health.replace('HEALTH_', '').replace('ERR', 'ERROR'), `health ${health}`);
  const pools = st.cephClusters.flatMap((x) => x.pools.map((p) => `${x.id}/${p.name}`));
  check(sameSet(await attrs('#ceph-pools tr[data-pool]', 'data-pool'), pools), `every pool is a row (${pools.length})`);
  await shot('ceph');
});

await attempt('replication page', async () => {
  await page.click('#proxmox-nav a[href="proxmox/replication"]');
  await page.waitForSelector('#replication-jobs tr[data-job]');
  check(sameSet(await attrs('#replication-jobs tr[data-job]', 'data-job'), st.replicationJobs.map((j) => j.id)), 'every replication job is a row');
  const bad = st.replicationJobs.find((j) => j.error);
  if (bad) {
    check((await page.textContent(`#replication-jobs tr[data-job="${bad.id}"] .badge`)).trim() === 'error', `the failing job ${bad.id} shows error`);
    await page.selectOption('#replication-jobs-status', 'error');
    await waitRows('#replication-jobs tr[data-job]', st.replicationJobs.filter((j) => j.error || j.state === 'error' || j.failCount > 0).length);
    check(query().get('status') === 'error', 'the status filter is in the URL');
  }
  // The status filter, whatever the simulator's jobs are: Healthy keeps the jobs without an
  // error or failed runs that are not disabled.
  const healthy = st.replicationJobs.filter((x) => !(x.error || x.state === 'error' || x.failCount > 0) && x.enabled !== false);
  await page.selectOption('#replication-jobs-status', 'healthy');
  await page.waitForFunction((n) => document.querySelectorAll('#replication-jobs tr[data-job]').length === n
    || (n === 0 && document.querySelector('#replication-jobs td.muted')), healthy.length);
  check(query().get('status') === 'healthy', `status Healthy: ${healthy.length} of ${st.replicationJobs.length} jobs, in the URL`);
  await page.selectOption('#replication-jobs-status', 'all');
  await shot('replication');
  const j = st.replicationJobs.find((x) => x.error) || st.replicationJobs[0];
  await page.click(`#replication-jobs tr[data-job="${j.id}"] a`);
  await page.waitForSelector('#detail[data-kind="guest"]');
  check(decodeURIComponent(path()) === `/proxmox/guest/${j.instance}:${j.guestNode}:${j.guestId}`, `a job's guest links to its detail view`);
});

await attempt('mail gateway page', async () => {
  await page.click('#proxmox-nav a[href="proxmox/mail"]');
  await page.waitForSelector('[data-pmg]');
  check(sameSet(await attrs('[data-pmg]', 'data-pmg'), st.pmg.map((p) => p.id)), 'one panel per mail gateway');
  const p = st.pmg[0];
  const total = (await page.textContent(`[data-pmg="${p.id}"] [data-stat="total"] strong`)).replace(/\D/g, '');
  check(total === String(p.mailStats.countTotal), `mail in 24 h: ${total}`);
  check(sameSet(await attrs(`[data-pmg="${p.id}"] tr[data-pmg-node]`, 'data-pmg-node'), p.nodes.map((n) => n.name)), 'a queue row per PMG node');
  await shot('mail');
});

// The backups page: every PVE backup, PBS backup and snapshot of GET /api/backups, 100 a page.
const pve = expect.backups.backups.pve;
const items = [...pve.storageBackups.map((x) => ({ key: `pve:${x.id}`, x, time: x.ctime * 1000, node: x.node })),
  ...expect.backups.backups.pbs.map((x) => ({ key: `pbs:${x.id}`, x, time: Date.parse(x.backupTime), node: x.instance })),
  ...pve.guestSnapshots.map((x) => ({ key: `snap:${x.id}`, x, time: Date.parse(x.time), node: x.node }))];
const allKeys = items.map((i) => i.key);
const itemOf = new Map(items.map((i) => [i.key, i]));
// The local day of epoch ms t (the browser runs in this process's zone).
const dayOf = (t) => { const d = new Date(t); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; };
const rowsNow = () => attrs('#backups tr[data-key]', 'data-key');
// The pager says "Showing a - b of n backups" (n: the filtered list's rows).
const waitTotal = (n) => page.waitForFunction((k) => {
  const t = (document.querySelector('#backup-showing') || {}).textContent || '';
  return k ? t.endsWith(` of ${k} backups`) : t === 'No backups to show';
}, n);
// Every page of the list from the first: its rows and day headings in order ({key, name} or
// {day, count, label}), then back to the first page with Prev.
async function allPages() {
  const seen = [];
  let pages = 0;
  for (;;) {
    pages++;
    seen.push(...await page.$$eval('#backups tbody tr:not(.spacer)', (trs) => trs.map((tr) => (tr.dataset.key
      ? { key: tr.dataset.key, name: tr.children[2].textContent.trim(), page: document.querySelector('#backup-pager').dataset.page }
      : tr.dataset.day ? { day: tr.dataset.day, count: Number(tr.dataset.count), label: tr.textContent.trim() } : { empty: true }))));
    if (await page.isDisabled('#backup-next')) break;
    await page.click('#backup-next');
    await page.waitForFunction((n) => document.querySelector('#backup-pager').dataset.page === String(n + 1), pages);
  }
  for (let p = pages; p > 1; p--) {
    await page.click('#backup-prev');
    await page.waitForFunction((n) => document.querySelector('#backup-pager').dataset.page === String(n - 1), p);
  }
  return { rows: seen.filter((s) => s.key), heads: seen.filter((s) => s.day), seq: seen, pages };
}
// The rows a filter leaves, checked over every page.
async function listIs(keys, what) {
  await waitTotal(keys.length);
  const got = keys.length ? (await allPages()).rows.map((r) => r.key) : [];
  return check(sameSet(got, keys), `${what}: ${keys.length} rows`, got.length);
}
await attempt('backups page', async () => {
  await page.click('#proxmox-nav a[href="proxmox/backups"]');
  check(allKeys.length > 100, `more backups than one page holds (${allKeys.length})`);
  await waitTotal(allKeys.length);
  const pages = Math.ceil(allKeys.length / 100);
  check((await page.textContent('#backup-showing')) === `Showing 1 - 100 of ${allKeys.length} backups`
    && (await rowsNow()).length === 100, `the first page: "Showing 1 - 100 of ${allKeys.length} backups", 100 rows`);
  check(await page.isDisabled('#backup-prev') && !(await page.isDisabled('#backup-next')), 'Prev is off on the first page, Next on');
  await shot('backups');
  const walk = await allPages();
  check(walk.pages === pages, `${pages} pages`);
  check(sameSet(walk.rows.map((r) => r.key), allKeys), `every backup and snapshot is a row of one page (${allKeys.length})`);
  const times = walk.rows.map((r) => itemOf.get(r.key).time);
  check(times.every((t, i) => !i || times[i - 1] >= t), 'newest first, across the pages');
  for (const x of [...pve.storageBackups, ...pve.guestSnapshots]) {
    const g = [...st.vms, ...st.containers].find((y) => y.instance === x.instance && y.vmid === x.vmid);
    const key = pve.storageBackups.includes(x) ? `pve:${x.id}` : `snap:${x.id}`;
    const r = walk.rows.find((y) => y.key === key);
    if (!check(g && r && r.name === g.name, `${key}: the guest's name ${r && r.name}`)) break;
  }

  // Day headings (sorted by time): each day's rows under its heading, which counts them all.
  const perDay = new Map();
  for (const i of items) perDay.set(dayOf(i.time), (perDay.get(dayOf(i.time)) || 0) + 1);
  let under = null, wrong = [];
  for (const s of walk.seq) {
    if (s.day) under = s.day;
    else if (s.key && dayOf(itemOf.get(s.key).time) !== under) wrong.push(s.key);
  }
  check(walk.heads.length >= perDay.size && !wrong.length, `every row under its day's heading (${perDay.size} days)`, wrong.join(' '));
  const badCount = walk.heads.filter((h) => h.count !== perDay.get(h.day) || !h.label.endsWith(`(${perDay.get(h.day)})`));
  check(!badCount.length, 'each heading counts its day\'s backups', badCount.map((h) => h.label).join(' | '));
  const today = dayOf(Date.now()), yesterday = dayOf(Date.now() - 86400e3);
  const labels = new Map(walk.heads.map((h) => [h.day, h.label]));
  check(labels.get(today) === `Today (${perDay.get(today)})`, `"${labels.get(today)}"`);
  check(!perDay.get(yesterday) || labels.get(yesterday) === `Yesterday (${perDay.get(yesterday)})`, `"${labels.get(yesterday)}"`);
  const older = walk.heads.find((h) => h.day < yesterday);
  check(older && !/^(Today|Yesterday)/.test(older.label) && older.label.includes(String(Number(older.day.slice(8)))),
    `older days by their date: "${older && older.label}"`);

  // Pages by the keyboard: Tab reaches Next, Enter turns the page (page=2 in the URL).
  await page.focus('#backup-search');
  let tabs = 0;
  while (tabs++ < 400 && !(await page.evaluate(() => document.activeElement.id === 'backup-next'))) await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.getAttribute('aria-label')) === 'Next page', 'Tab reaches the Next button, labelled "Next page"');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#backup-pager').dataset.page === '2');
  check(query().get('page') === '2' && (await page.textContent('#backup-showing')).startsWith('Showing 101 - '), 'Enter: page 2, page=2 in the URL');
  const onTwo = await rowsNow();
  await page.reload();
  await waitTotal(allKeys.length);
  check(sameSet(await rowsNow(), onTwo), 'a reload stays on page 2');
  await shot('backups-page-2');
  // Another sort: no headings, back to page 1; sorted by time again, the headings are back.
  await page.click('#backups th[data-sort="name"]');
  await page.waitForFunction(() => document.querySelector('#backup-pager').dataset.page === '1');
  check(!(await page.$('#backups tr.day-head')) && !query().get('page') && query().get('sort') === 'name',
    'sorted by name: no day headings, the first page');
  const names = await page.$$eval('#backups tr[data-key] td:nth-child(3)', (tds) => tds.map((td) => td.textContent.trim().toLowerCase()));
  check(names.every((n, i) => !i || names[i - 1] <= n || names[i - 1] === '-' || n === '-'), 'rows by name');
  check((await page.getAttribute('#backups th[data-sort="name"]', 'aria-sort')) === 'ascending', 'the Name header says ascending');
  await page.click('#backups th[data-sort="time"]');
  await page.waitForSelector('#backups tr.day-head');
  check((await page.getAttribute('#backups th[data-sort="time"]', 'aria-sort')) === 'descending' && !query().get('sort'),
    'sorted by time again (newest first): the headings are back');

  // The "Available backups" chart: the rows per day; a day's button filters the list to it.
  const days = await page.$$eval('#backup-days button[data-day]', (bs) => bs.map((b) => [b.dataset.day, Number(b.dataset.count)]));
  check(days.length === 30, `the chart shows 30 days (${days.length})`);
  check(days.reduce((a, [, n]) => a + n, 0) === allKeys.length, 'its days add up to the rows of the list (all within 30 days)');
  check(days.every(([d, n]) => n === (perDay.get(d) || 0)), 'each day\'s bar counts that day\'s backups');
  const [oneDay, n] = days.filter(([, c]) => c > 0).pop();
  await page.click(`#backup-days button[data-day="${oneDay}"]`);
  await waitRows('#backups tr[data-key]', n);
  check(query().get('day') === oneDay, `a click on ${oneDay} filters the list to its ${n} rows, day=${oneDay} in the URL`);
  await shot('backups-one-day');
  await page.keyboard.press('Escape');
  await waitTotal(allKeys.length);
  check(!query().get('day'), 'Escape clears the date filter');

  await page.selectOption('#backup-source', 'pbs');
  const pbsKeys = [...pve.storageBackups.filter((x) => x.isPBS).map((x) => `pve:${x.id}`), ...expect.backups.backups.pbs.map((x) => `pbs:${x.id}`)];
  await listIs(pbsKeys, 'source PBS: the PBS backups');
  check(query().get('source') === 'pbs', 'source=pbs in the URL');
  await page.selectOption('#backup-source', 'all');

  // Age: older than the fresh limit (24 h by default).
  const old = items.filter((i) => i.time < Date.now() - 24 * 3600e3).map((i) => i.key);
  await page.selectOption('#backup-age', 'stale');
  await listIs(old, 'age older than 24 h');
  const levels = await attrs('#backups tr[data-key]', 'data-age');
  check(levels.every((l) => l === 'stale' || l === 'old'), 'and each is highlighted amber or red', levels.join(' '));
  const colour = await page.$eval('#backups tr[data-key] .age', (e) => getComputedStyle(e).color);
  const fresh = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--ok').trim());
  check(colour !== 'rgb(0, 0, 0)' && fresh, `an old backup's age is coloured (${colour})`);
  await shot('backups-older-than-24h');

  // The search: one guest's backups, the URL bookmarks the whole view.
  await page.selectOption('#backup-age', 'all');
  await page.fill('#backup-search', 'vmid:100');
  const v100 = items.filter((i) => String(i.x.vmid) === '100').map((i) => i.key);
  await waitRows('#backups tr[data-key]', v100.length);
  check(sameSet(await rowsNow(), v100), `vmid:100 leaves its ${v100.length} backups`);
  await page.selectOption('#backup-node', 'node1');
  const n1 = v100.filter((k) => itemOf.get(k).node === 'node1');
  await waitRows('#backups tr[data-key]', n1.length);
  const url = page.url();
  check(query().get('q') === 'vmid:100' && query().get('node') === 'node1', 'search and node filter in the URL');
  check((await page.getAttribute('#nodes tr[data-node="node1"]', 'aria-selected')) === 'true', 'the node select marks node1 in the node table');
  await page.goto(base + '/proxmox/overview');
  await page.goto(url);
  await waitRows('#backups tr[data-key]', n1.length);
  check((await page.inputValue('#backup-search')) === 'vmid:100' && (await page.inputValue('#backup-node')) === 'node1',
    'the bookmarked URL brings the same filters back');
  await page.click('#backup-reset');
  await waitTotal(allKeys.length);
  check(!new URL(page.url()).search, 'Reset clears the filters and the URL');

  // Per guest: the state's lastBackup.
  await page.click('button[data-view="guests"]');
  const guests = [...st.vms, ...st.containers].filter((g) => !g.template);
  await waitRows('#backup-guests tr[data-guest]', guests.length);
  check(query().get('view') === 'guests' && await page.isHidden('#backup-pager'), 'By guest: view=guests in the URL, no pages');
  const never = guests.filter((g) => !g.lastBackup).map((g) => g.id);
  const neverShown = await page.$$eval('#backup-guests tr[data-guest]', (trs) => trs.filter((tr) => tr.querySelector('.age.none')).map((tr) => tr.dataset.guest));
  check(sameSet(neverShown, never), `guests without a backup say "never" (${never.length})`, neverShown.join(' '));
  await shot('backups-by-guest');
  await page.click('button[data-view="list"]');
});

// The node summary of the backups page: the PVE nodes and the Backup Servers, each with its
// backups (those a click on it leaves in the list).
await attempt('backups page: nodes and Backup Servers', async () => {
  await waitTotal(allKeys.length);
  const want = [...st.nodes.map((n) => ({ id: n.id, name: n.node })), ...st.pbs.map((p) => ({ id: p.id, name: p.name }))];
  await waitRows('#nodes tr[data-node]', want.length);
  check(sameSet(await attrs('#nodes tr[data-node]', 'data-id'), want.map((w) => w.id)), `a row per node and Backup Server (${want.length})`);
  check((await page.textContent('#nodes th[data-sort="name"]')).trim() === 'Node / PBS', 'its first column is "Node / PBS"');
  const counts = await page.$$eval('#nodes tr[data-node]', (trs) => Object.fromEntries(trs.map((tr) =>
    [tr.dataset.node, Number(tr.querySelector('[data-count="backups"]').textContent)])));
  const bad = want.filter((w) => counts[w.name] !== items.filter((i) => i.node === w.name).length);
  check(!bad.length, `each row counts its backups (${want.map((w) => `${w.name} ${counts[w.name]}`).join(', ')})`, bad.map((w) => w.name).join(' '));
  const p = st.pbs[0];
  check((await page.textContent(`#nodes tr[data-id="${p.id}"] .badge`)).trim() === 'PBS', `${p.name} is marked PBS`);
  // Sort by the count: most first; nsort/ndir in the URL, the list's own sort untouched.
  const listSort = [query().get('sort'), query().get('dir')].join();
  await page.click('#nodes th[data-sort="backups"]');
  const order = await attrs('#nodes tr[data-node]', 'data-node');
  const byCount = [...want].sort((a, b) => counts[b.name] - counts[a.name] || (a.id < b.id ? -1 : 1)).map((w) => w.name);
  check(order.join(' ') === byCount.join(' ') && query().get('nsort') === 'backups' && query().get('ndir') === 'desc'
    && [query().get('sort'), query().get('dir')].join() === listSort,
    `sorted by Backups, most first: ${order.join(' ')}; nsort=backups&ndir=desc, the list's sort as it was`, page.url());
  // A click on a row (not on its name) filters the list to it; the row is marked.
  for (const w of [want.find((x) => x.name === 'node1'), want.find((x) => x.id === p.id)]) {
    await page.click(`#nodes tr[data-node="${w.name}"] td:nth-child(3)`);
    const mine = items.filter((i) => i.node === w.name).map((i) => i.key);
    await listIs(mine, `a click on ${w.name}: its backups`);
    check(query().get('node') === w.name && (await page.getAttribute(`#nodes tr[data-node="${w.name}"]`, 'aria-selected')) === 'true'
      && (await page.inputValue('#backup-node')) === w.name, `node=${w.name} in the URL, the row marked, the Node select says so`);
    await shot(`backups-node-${w.name}`);
  }
  await page.keyboard.press('Escape');
  await waitTotal(allKeys.length);
  check(!query().get('node') && !(await page.$('#nodes tr[aria-selected="true"]')), 'Escape clears the node filter');
  await page.click('#nodes th[data-sort="backups"]');
  await page.click('#nodes th[data-sort="name"]');
  check(!query().get('nsort'), 'back to sorting by name: off the URL');
});

// The guest detail view, opened from the overview by a click on the row.
const vm = st.vms.find((g) => g.status === 'running' && g.lastBackup);
await attempt('guest detail from the overview', async () => {
  await page.click('#proxmox-nav a[href="proxmox/overview"]');
  await page.waitForSelector(`#guests tr[data-id="${vm.id}"]`);
  const uplotLoaded = await page.evaluate(() => performance.getEntriesByType('resource').some((e) => /uPlot/.test(e.name)));
  await page.reload();
  await page.waitForSelector(`#guests tr[data-id="${vm.id}"]`);
  check(!(await page.evaluate(() => performance.getEntriesByType('resource').some((e) => /uPlot|chart\.js/.test(e.name)))),
    `the overview's first load does not load the chart library${uplotLoaded ? '' : ''}`);
  await page.click(`#guests tr[data-id="${vm.id}"] td:nth-child(3)`);
  await page.waitForSelector('#chart-cpu[data-points]:not([data-points="0"])');
  check(decodeURIComponent(path()) === `/proxmox/guest/${vm.id}`, 'a click on the guest row opens its detail view');
  check((await page.textContent('#detail-title')) === `${vm.name} (VM ${vm.vmid})`, 'the guest\'s title');
  // The chart's points are the history's (the API asked after the chart: it may have more).
  const drawn = await page.$eval('#chart-cpu', (el) => ({ x: [...el.uplot.data[0]], y: [...el.uplot.data[1]] }));
  const h = await api(`api/metrics-store/history?resourceType=vm&resourceId=${encodeURIComponent(vm.id)}&range=1h&maxPoints=500`);
  const apiPts = new Map(h.metrics.cpu.map((p) => [p.timestamp / 1000, p.value]));
  check(drawn.x.length >= 3 && drawn.x.every((t, i) => apiPts.get(t) === drawn.y[i]),
    `the CPU chart draws ${drawn.x.length} points, each one of the history's`);
  check(h.metrics.cpu.length - drawn.x.length >= 0 && h.metrics.cpu.length - drawn.x.length <= 15,
    `the history has ${h.metrics.cpu.length} points, the chart ${drawn.x.length}`);
  for (const id of ['memory', 'disk', 'net', 'io']) {
    check(Number(await page.getAttribute(`#chart-${id}`, 'data-points')) > 0, `the ${id} chart has points`);
  }
  const canvas = await page.$eval('#chart-cpu canvas', (c) => c.width > 0 && c.height > 0);
  check(canvas, 'the chart is drawn on a canvas');
  // Its backups: PVE storage and PBS backups of this instance/VMID and type.
  const want = [...pve.storageBackups.filter((x) => x.instance === vm.instance && x.vmid === vm.vmid).map((x) => x.id),
    ...expect.backups.backups.pbs.filter((x) => x.vmid === String(vm.vmid) && x.backupType === 'vm').map((x) => x.id)];
  check(sameSet(await attrs('#guest-backups tr[data-backup]', 'data-backup'), want), `its ${want.length} backups are listed`);
  await shot('guest-detail');
});

await attempt('range picker', async () => {
  const asked = page.waitForRequest((r) => r.url().includes('/api/metrics-store/history') && r.url().includes('range=6h'));
  await page.click('.ranges button[data-range="6h"]');
  await asked;
  await page.waitForSelector('.charts[data-range="6h"]');
  check(query().get('range') === '6h', '6h: range=6h in the URL and the history asked again for 6h');
  check((await page.getAttribute('.ranges button[data-range="6h"]', 'aria-pressed')) === 'true', 'the 6h button is pressed');
  const span = await page.$eval('#chart-cpu', (el) => el.uplot.scales.x.max - el.uplot.scales.x.min);
  check(Math.abs(span - 6 * 3600) < 60, `the time axis spans 6 h (${Math.round(span)} s)`);
  const again = page.waitForRequest((r) => r.url().includes('range=7d'));
  await page.goto(page.url().replace('range=6h', 'range=7d'));
  await again;
  await page.waitForSelector('.charts[data-range="7d"]');
  check((await page.getAttribute('.ranges button[data-range="7d"]', 'aria-pressed')) === 'true', 'a URL with range=7d opens at 7d');
  await page.click('.ranges button[data-range="1h"]');
  await page.waitForSelector('.charts[data-range="1h"]');
  check(!query().get('range'), '1h (the default) leaves the URL clean');
});

await attempt('a guest\'s snapshots and alerts', async () => {
  const snap = pve.guestSnapshots[0];
  const g = [...st.vms, ...st.containers].find((x) => x.instance === snap.instance && x.vmid === snap.vmid);
  await page.goto(`${base}/proxmox/guest/${encodeURIComponent(g.id)}`);
  await page.waitForSelector(`#guest-snapshots tr[data-snapshot="${snap.name}"]`);
  check(true, `${g.name}: its snapshot ${snap.name} is listed`);
  const alert = st.activeAlerts.find((a) => [...st.vms, ...st.containers].some((x) => x.id === a.resourceId));
  if (alert) {
    await page.goto(`${base}/proxmox/guest/${encodeURIComponent(alert.resourceId)}`);
    await page.waitForSelector(`#guest-alerts tr[data-alert="${alert.id}"]`);
    check((await page.textContent(`#guest-alerts tr[data-alert="${alert.id}"]`)).includes(alert.message), `its active alert: ${alert.message}`);
    await shot('guest-with-alert');
  }
});

await attempt('keyboard: a guest link by Tab and Enter', async () => {
  await page.goto(base + '/proxmox/overview');
  const g = st.containers.find((x) => x.status === 'running') || st.vms[0];
  await page.waitForSelector(`#guests tr[data-id="${g.id}"] a`);
  await page.focus(`#guests tr[data-id="${g.id}"] td:nth-child(1) a`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#detail[data-kind="guest"]');
  check(decodeURIComponent(path()) === `/proxmox/guest/${g.id}`, 'Enter on a focused guest link opens its detail view');
});

await attempt('node detail', async () => {
  await page.goto(base + '/proxmox/overview');
  const n = st.nodes[0];
  await page.click(`#nodes a[href="proxmox/node/${encodeURIComponent(n.id)}"]`);
  await page.waitForSelector('#chart-cpu[data-points]:not([data-points="0"])');
  check(decodeURIComponent(path()) === `/proxmox/node/${n.id}`, 'a node name opens its detail view');
  const guests = [...st.vms, ...st.containers].filter((g) => g.node === n.node).length;
  check((await page.textContent('#figures')).includes(`${guests} guests`), `the node has ${guests} guests`);
  await shot('node-detail');
});

await attempt('host detail', async () => {
  const host = st.hosts.find((h) => h.hostname === 'nas01');
  const h = await api(`api/metrics-store/history?resourceType=host&resourceId=${encodeURIComponent(host.id)}&range=1h&maxPoints=500`);
  await page.goto(`${base}/hosts`);
  await page.click(`tr[data-id="${host.id}"] a[href="hosts/${encodeURIComponent(host.id)}"]`);
  await page.waitForSelector('#chart-cpu[data-points]:not([data-points="0"])');
  const y = await page.$eval('#chart-cpu', (el) => [...el.uplot.data[1]]);
  check(y.join(' ') === h.metrics.cpu.map((p) => p.value).join(' '), `the host's CPU chart is its history (${y.join(' ')})`);
  check((await page.textContent('#detail-title')) === host.displayName, 'the Hosts page\'s name link opens the host\'s detail view');
  await shot('host-detail');
});

await attempt('section nav without Ceph, replication and PMG', async () => {
  // The state as a PVE-only estate has it: the three sections leave the nav.
  const body = JSON.stringify({ ...st, cephClusters: [], replicationJobs: [], pmg: [] });
  await page.route('**/api/state', (route) => route.fulfill({ status: 200, contentType: 'application/json', body }));
  await page.goto(base + '/proxmox/storage');
  await page.waitForFunction(() => document.querySelectorAll('#proxmox-nav a').length === 3);
  const hrefs = await attrs('#proxmox-nav a', 'href');
  check(hrefs.join(' ') === 'proxmox/overview proxmox/storage proxmox/backups', `the nav: ${hrefs.join(' ')}`);
  await page.unroute('**/api/state');
});

await attempt('dark theme and a narrow screen', async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`${base}/proxmox/guest/${encodeURIComponent(vm.id)}`);
  await page.waitForSelector('#chart-cpu[data-points]:not([data-points="0"])');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check(bg === 'rgb(17, 24, 39)', `dark background (${bg})`);
  await shot('guest-detail-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 360, height: 780 });
  for (const p of ['proxmox/storage', 'proxmox/ceph', 'proxmox/replication', 'proxmox/mail', 'proxmox/backups',
    `proxmox/guest/${encodeURIComponent(vm.id)}`]) {
    await page.goto(`${base}/${p}`);
    await page.waitForSelector('#proxmox-nav');
    await page.waitForTimeout(300);
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    check(w <= 362, `${p} fits 360 px (${w})`);
  }
  await shot('guest-detail-360');
  await page.setViewportSize({ width: 1400, height: 900 });
});

await finish();
