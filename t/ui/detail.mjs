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
  const heads = await page.$$eval('#nodes th', (ths) => ths.map((th) => th.textContent.trim()));
  check(heads.join(' · ') === 'Node · Status · Uptime · CPU · Memory · Disk · Storage · Disks', heads.join(' · '));
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

// The backups page: every PVE backup, PBS backup and snapshot of GET /api/backups.
const pve = expect.backups.backups.pve;
const allKeys = [...pve.storageBackups.map((x) => `pve:${x.id}`), ...expect.backups.backups.pbs.map((x) => `pbs:${x.id}`),
  ...pve.guestSnapshots.map((x) => `snap:${x.id}`)];
const rowsNow = () => attrs('#backups tr[data-key]', 'data-key');
await attempt('backups page', async () => {
  await page.click('#proxmox-nav a[href="proxmox/backups"]');
  await waitRows('#backups tr[data-key]', allKeys.length);
  check(sameSet(await rowsNow(), allKeys), `every backup and snapshot is a row (${allKeys.length})`);
  const times = await page.$$eval('#backups tr[data-key] td:nth-child(5)', (tds) => tds.map((td) => Date.parse(td.textContent)));
  check(times.every((t, i) => !i || times[i - 1] >= t || Number.isNaN(t)), 'newest first');
  for (const x of [...pve.storageBackups, ...pve.guestSnapshots]) {
    const g = [...st.vms, ...st.containers].find((y) => y.instance === x.instance && y.vmid === x.vmid);
    const key = pve.storageBackups.includes(x) ? `pve:${x.id}` : `snap:${x.id}`;
    const name = (await page.textContent(`#backups tr[data-key="${key}"] td:nth-child(3)`)).trim();
    check(g && name === g.name, `${key}: the guest's name ${name}`);
  }
  await shot('backups');

  // The "Available backups" chart: the rows per day; a day's button filters the list to it.
  const days = await page.$$eval('#backup-days button[data-day]', (bs) => bs.map((b) => [b.dataset.day, Number(b.dataset.count)]));
  check(days.length === 30, `the chart shows 30 days (${days.length})`);
  const listDays = await page.$$eval('#backups tr[data-key] td:nth-child(5)', (tds) => tds.map((td) => td.textContent));
  check(days.reduce((a, [, n]) => a + n, 0) === allKeys.length, 'its days add up to the rows of the list (all within 30 days)');
  const [oneDay, n] = days.filter(([, c]) => c > 0).pop();
  await page.click(`#backup-days button[data-day="${oneDay}"]`);
  await waitRows('#backups tr[data-key]', n);
  check(query().get("day") === oneDay, `a click on ${oneDay} filters the list to its ${n} rows, day=${oneDay} in the URL`);
  await shot('backups-one-day');
  await page.keyboard.press('Escape');
  await waitRows('#backups tr[data-key]', allKeys.length);
  check(!query().get('day') && listDays.length === allKeys.length, 'Escape clears the date filter');

  await page.selectOption('#backup-source', 'pbs');
  const pbsKeys = [...pve.storageBackups.filter((x) => x.isPBS).map((x) => `pve:${x.id}`), ...expect.backups.backups.pbs.map((x) => `pbs:${x.id}`)];
  await waitRows('#backups tr[data-key]', pbsKeys.length);
  check(sameSet(await rowsNow(), pbsKeys) && query().get('source') === 'pbs', 'source PBS: the PBS backups, source=pbs in the URL');
  await page.selectOption('#backup-source', 'all');

  // Age: older than the fresh limit (24 h by default).
  const day = Date.now() - 24 * 3600e3;
  const old = [...pve.storageBackups.filter((x) => x.ctime * 1000 < day).map((x) => `pve:${x.id}`),
    ...expect.backups.backups.pbs.filter((x) => Date.parse(x.backupTime) < day).map((x) => `pbs:${x.id}`),
    ...pve.guestSnapshots.filter((x) => Date.parse(x.time) < day).map((x) => `snap:${x.id}`)];
  await page.selectOption('#backup-age', 'stale');
  await waitRows('#backups tr[data-key]', old.length);
  check(sameSet(await rowsNow(), old), `age older than 24 h: ${old.length} rows`);
  const levels = await attrs('#backups tr[data-key]', 'data-age');
  check(levels.every((l) => l === 'stale' || l === 'old'), 'and each is highlighted amber or red', levels.join(' '));
  const colour = await page.$eval('#backups tr[data-key] .age', (e) => getComputedStyle(e).color);
  const fresh = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--ok').trim());
  check(colour !== 'rgb(0, 0, 0)' && fresh, `an old backup's age is coloured (${colour})`);
  await shot('backups-older-than-24h');

  // The search: one guest's backups, the URL bookmarks the whole view.
  await page.selectOption('#backup-age', 'all');
  await page.fill('#backup-search', 'vmid:100');
  const v100 = allKeys.filter((k) => {
    const id = k.slice(k.indexOf(':') + 1);
    const x = [...pve.storageBackups, ...expect.backups.backups.pbs, ...pve.guestSnapshots].find((y) => y.id === id);
    return String(x.vmid) === '100';
  });
  await waitRows('#backups tr[data-key]', v100.length);
  check(sameSet(await rowsNow(), v100), `vmid:100 leaves its ${v100.length} backups`);
  await page.selectOption('#backup-node', 'node1');
  const n1 = v100.filter((k) => k.startsWith('pve:') || k.startsWith('snap:'));
  await waitRows('#backups tr[data-key]', n1.length);
  const url = page.url();
  check(query().get('q') === 'vmid:100' && query().get('node') === 'node1', 'search and node filter in the URL');
  await page.goto(base + '/proxmox/overview');
  await page.goto(url);
  await waitRows('#backups tr[data-key]', n1.length);
  check((await page.inputValue('#backup-search')) === 'vmid:100' && (await page.inputValue('#backup-node')) === 'node1',
    'the bookmarked URL brings the same filters back');
  await page.click('#backup-reset');
  await waitRows('#backups tr[data-key]', allKeys.length);
  check(!new URL(page.url()).search, 'Reset clears the filters and the URL');

  // Per guest: the state's lastBackup.
  await page.click('button[data-view="guests"]');
  const guests = [...st.vms, ...st.containers].filter((g) => !g.template);
  await waitRows('#backup-guests tr[data-guest]', guests.length);
  check(query().get('view') === 'guests', 'By guest: view=guests in the URL');
  const never = guests.filter((g) => !g.lastBackup).map((g) => g.id);
  const neverShown = await page.$$eval('#backup-guests tr[data-guest]', (trs) => trs.filter((tr) => tr.querySelector('.age.none')).map((tr) => tr.dataset.guest));
  check(sameSet(neverShown, never), `guests without a backup say "never" (${never.length})`, neverShown.join(' '));
  await shot('backups-by-guest');
  await page.click('button[data-view="list"]');
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
  const host = st.hosts[0];
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
