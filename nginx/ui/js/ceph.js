// ceph.js: proxmox/ceph (reference/ui.md §4): summary cards (total storage, clusters,
// services, pools), the clusters (health, monitors, managers, OSDs, PGs, capacity) and their
// pools (searchable: ?q=), from the shared state poller.
import { watchState } from './state.js';
import { mountTable, nextSort, viewFromUrl, viewToUrl } from './table.js';
import { esc, bytes, bar, whole } from './format.js';
import { mountProxmoxNav } from './proxnav.js';

function healthBadge(h) {
  const v = String(h || 'UNKNOWN').replace(/^HEALTH_/, '');
  const cls = v === 'OK' ? 'ok' : v === 'WARN' ? 'warn' : v === 'ERR' || v === 'ERROR' ? 'bad' : '';
  return `<span class="badge ${cls}">${esc(v === 'ERR' ? 'ERROR' : v)}</span>`;
}
function svc(c, type) {
  const s = (c.services || []).find((x) => x.type === type);
  return s ? `${s.running}/${s.total}` : '-';
}
function clusterRow(c) {
  return `<tr data-ceph="${esc(c.id)}"><td>${esc(c.name)} <span class="muted">${esc(c.instance)}</span></td>` +
    `<td>${healthBadge(c.health)}${c.healthMessage ? `<div class="muted small wrap">${esc(c.healthMessage)}</div>` : ''}</td>` +
    `<td class="num">${svc(c, 'mon') !== '-' ? svc(c, 'mon') : c.numMons}</td><td class="num">${svc(c, 'mgr') !== '-' ? svc(c, 'mgr') : c.numMgrs}</td>` +
    `<td class="num">${c.numOsdsUp}/${c.numOsds} up, ${c.numOsdsIn} in</td><td class="num">${c.numPGs}</td>` +
    `<td class="bar-cell">${bar(c.usagePercent, `${(c.usagePercent || 0).toFixed(0)}%`, `${bytes(c.usedBytes)} of ${bytes(c.totalBytes)}`)}</td></tr>`;
}
const POOL_COLUMNS = [
  { key: 'name', label: 'Pool', value: (p) => p.name.toLowerCase() },
  { key: 'cluster', label: 'Cluster', value: (p) => p.cluster },
  { key: 'used', label: 'Used', value: (p) => p.storedBytes, desc: true, num: true },
  { key: 'avail', label: 'Available', value: (p) => p.availableBytes, desc: true, num: true },
  { key: 'objects', label: 'Objects', value: (p) => p.objects, desc: true, num: true },
  { key: 'usage', label: 'Usage', value: (p) => p.percentUsed, desc: true },
];
function poolRow(p) {
  return `<tr data-pool="${esc(p.key)}"><td>${esc(p.name)}</td><td>${esc(p.cluster)}</td><td class="num">${bytes(p.storedBytes)}</td>` +
    `<td class="num">${bytes(p.availableBytes)}</td><td class="num">${whole(Number(p.objects || 0))}</td>` +
    `<td class="bar-cell">${bar(p.percentUsed, `${(p.percentUsed || 0).toFixed(1)}%`)}</td></tr>`;
}

export function mount(root) {
  const DEFAULTS = { sort: 'name', dir: 'asc', q: '' };
  const view = viewFromUrl(DEFAULTS, (k, v) => (k === 'sort' ? POOL_COLUMNS.some((c) => c.key === v)
    : k === 'dir' ? v === 'asc' || v === 'desc' : true));
  root.innerHTML = `
    <p class="banner error" id="ceph-error" role="alert" hidden></p>
    <section class="cards" id="ceph-summary"></section>
    <section class="card"><h2>Clusters</h2>
      <div class="scroll"><table id="ceph-clusters" class="grid"><thead><tr><th>Cluster</th><th>Health</th>
        <th class="num">Monitors</th><th class="num">Managers</th><th class="num">OSDs</th><th class="num">PGs</th><th>Capacity</th></tr></thead>
        <tbody><tr><td colspan="7" class="muted">Loading…</td></tr></tbody></table></div></section>
    <section class="card"><h2>Pools</h2>
      <div class="filters"><label class="search"><span class="sr-only">Search pools</span>
        <input id="pool-search" type="search" placeholder="Search pools" value="${esc(view.q)}" autocomplete="off"></label></div>
      <div id="ceph-pool-table"></div></section>`;
  const $ = (sel) => root.querySelector(sel);
  const navDown = mountProxmoxNav(root, 'proxmox/ceph');
  let state = null, typing = null;
  const pools = mountTable($('#ceph-pool-table'), {
    id: 'ceph-pools', columns: POOL_COLUMNS, row: poolRow, rowSelector: 'tr[data-pool]', tie: (a, b) => (a.key < b.key ? -1 : 1),
    empty: 'No pools', onSort: (key) => { Object.assign(view, nextSort(view, key, POOL_COLUMNS)); changed(); },
  });
  function draw() {
    if (!state) return;
    const clusters = state.cephClusters || [];
    const total = clusters.reduce((a, c) => a + (c.totalBytes || 0), 0), used = clusters.reduce((a, c) => a + (c.usedBytes || 0), 0);
    const services = clusters.reduce((a, c) => a + (c.services || []).reduce((b, s) => b + s.total, 0), 0);
    const running = clusters.reduce((a, c) => a + (c.services || []).reduce((b, s) => b + s.running, 0), 0);
    const allPools = clusters.flatMap((c) => (c.pools || []).map((p) => ({ ...p, cluster: c.name, key: `${c.id}/${p.name}` })));
    $('#ceph-summary').innerHTML = [
      ['Total storage', `${bytes(used)} of ${bytes(total)}`], ['Clusters', clusters.length],
      ['Services', `${running}/${services} running`], ['Pools', allPools.length],
    ].map(([k, v]) => `<div class="card stat"><span class="muted">${k}</span><strong>${esc(v)}</strong></div>`).join('');
    $('#ceph-clusters tbody').innerHTML = clusters.length ? clusters.map(clusterRow).join('')
      : '<tr><td colspan="7" class="muted">No Ceph clusters: PVE reports Ceph when a cluster has rbd or cephfs storage.</td></tr>';
    const q = view.q.toLowerCase();
    pools.set(allPools.filter((p) => !q || p.name.toLowerCase().includes(q) || p.cluster.toLowerCase().includes(q)), view.sort, view.dir);
  }
  function changed() { viewToUrl(view, DEFAULTS); draw(); }
  $('#pool-search').addEventListener('input', (ev) => {
    clearTimeout(typing);
    typing = setTimeout(() => { view.q = ev.target.value.trim(); changed(); }, 120);
  });
  const errBox = $('#ceph-error');
  const unwatch = watchState((st) => { state = st; draw(); }, (err) => {
    errBox.hidden = !err;
    if (err) errBox.textContent = `Cannot refresh the state: ${err.message}`;
  });
  return () => { unwatch(); navDown(); clearTimeout(typing); pools.destroy(); };
}
