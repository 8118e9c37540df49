// storage.js: proxmox/storage (reference/ui.md §4): the node summary (nodesummary.js, with
// each node's storage and disk counts; a click on a node filters the page to it), the storage
// pools (usage bars, shared, content, node; a name opens the storage's detail view), the
// physical disks (health, SSD life left, temperature) and the Backup Servers' datastores,
// from the shared state poller. The tables sort; the node filter, the pools' search (`local`,
// `node:pve1`, `type:zfspool`) and status filter, and the sorts are in the URL (node, q,
// status, sort, dir, dsort, ddir, nsort, ndir).
import { watchState } from './state.js';
import { mountTable, nextSort, viewFromUrl, viewToUrl, searchMatcher } from './table.js';
import { esc, bytes, bar, pctOf, temp } from './format.js';
import { statusCell } from './overview.js';
import { mountProxmoxNav } from './proxnav.js';
import { mountNodeSummary, NODE_VIEW, nodeViewOk, onNode } from './nodesummary.js';

const usage = (s) => pctOf(s.used, s.total);
const nodesOf = (s) => (s.nodes && s.nodes.length ? s.nodes.join(', ') : s.node);
const POOL_COLUMNS = [
  { key: 'name', label: 'Storage', value: (s) => (s.name || '').toLowerCase() },
  { key: 'node', label: 'Node', value: nodesOf },
  { key: 'type', label: 'Type', value: (s) => s.type },
  { key: 'content', label: 'Content' },
  { key: 'status', label: 'Status', value: (s) => s.status },
  { key: 'shared', label: 'Shared', value: (s) => (s.shared ? 1 : 0), desc: true },
  { key: 'usage', label: 'Usage', value: usage, desc: true },
  { key: 'free', label: 'Free', value: (s) => s.free, desc: true, num: true },
  { key: 'total', label: 'Total', value: (s) => s.total, desc: true, num: true },
];
const DISK_COLUMNS = [
  { key: 'node', label: 'Node', value: (d) => d.node },
  { key: 'device', label: 'Device', value: (d) => d.devPath },
  { key: 'model', label: 'Model', value: (d) => d.model },
  { key: 'type', label: 'Type', value: (d) => d.type },
  { key: 'fs', label: 'Used by', value: (d) => d.used },
  { key: 'health', label: 'Health', value: (d) => d.health },
  { key: 'wearout', label: 'SSD life', value: (d) => (d.wearout >= 0 ? d.wearout : null) },
  { key: 'temp', label: 'Temp', value: (d) => (d.temperature > 0 ? d.temperature : null), desc: true, num: true },
  { key: 'size', label: 'Size', value: (d) => d.size, desc: true, num: true },
];

export function poolRow(s) {
  const pct = usage(s);
  const up = s.status === 'available' || s.status === 'active';
  return `<tr data-storage="${esc(s.id)}" class="${up ? '' : 'down'}">` +
    `<td><a href="proxmox/storage/${encodeURIComponent(s.id)}" data-link>${esc(s.name)}</a></td><td>${esc(nodesOf(s))}</td>` +
    `<td>${esc(s.type)}</td><td>${esc(String(s.content || '').split(',').join(', '))}</td><td>${statusCell(s.status)}</td>` +
    `<td>${s.shared ? 'yes' : 'no'}</td>` +
    `<td class="bar-cell">${bar(pct, pct == null ? '-' : `${pct.toFixed(0)}%`, `${bytes(s.used)} of ${bytes(s.total)}`)}</td>` +
    `<td class="num">${bytes(s.free)}</td><td class="num">${bytes(s.total)}</td></tr>`;
}
function healthCell(h) {
  const v = String(h || 'UNKNOWN').toUpperCase();
  const cls = v === 'PASSED' || v === 'OK' ? 'ok' : v === 'UNKNOWN' ? '' : 'bad';
  return `<span class="badge ${cls}">${esc(v)}</span>`;
}
// SSD life left: a bar of the life left, amber below 30 %, red below 10 %.
function lifeCell(d) {
  if (!(d.wearout >= 0)) return '<span class="muted">-</span>';
  const left = d.wearout, level = left < 10 ? 'crit' : left < 30 ? 'warn' : 'ok';
  return `<div class="bar ${level}" title="${left}% of its rated life left"><span style="width:${left}%"></span><em>${left}%</em></div>`;
}
function diskRow(d) {
  return `<tr data-disk="${esc(d.id)}"><td>${esc(d.node)}</td><td>${esc(d.devPath)}</td><td>${esc(d.model || '-')}</td>` +
    `<td>${esc(d.type)}</td><td>${esc(d.used || '-')}</td><td>${healthCell(d.health)}</td><td class="bar-cell">${lifeCell(d)}</td>` +
    `<td class="num">${d.temperature > 0 ? temp(d.temperature) : '-'}</td><td class="num">${bytes(d.size)}</td></tr>`;
}

// The Backup Servers' datastores (state.pbs[].datastores): one row each, with its server's
// status and version.
function datastoreRows(pbs) {
  const rows = (pbs || []).flatMap((p) => (p.datastores || []).map((d) => {
    const pct = d.total > 0 ? (d.used * 100) / d.total : null;
    const up = p.status === 'online' && (!d.status || d.status === 'available');
    return `<tr data-datastore="${esc(`${p.id}/${d.name}`)}" class="${up ? '' : 'down'}"><td>${esc(d.name)}</td>` +
      `<td>${esc(p.name)} <span class="muted">${esc(p.version || '')}</span></td><td>${statusCell(up ? 'online' : p.status === 'online' ? d.status : p.status)}</td>` +
      `<td class="bar-cell">${bar(pct, pct == null ? '-' : `${pct.toFixed(0)}%`, `${bytes(d.used)} of ${bytes(d.total)}`)}</td>` +
      `<td class="num">${bytes(d.free)}</td><td class="num">${bytes(d.total)}</td>` +
      `<td class="num">${d.deduplicationFactor ? `${Number(d.deduplicationFactor).toFixed(2)}×` : '-'}</td>` +
      `<td class="num">${(d.namespaces || []).length}</td></tr>`;
  }));
  return rows.length ? rows.join('') : '<tr><td colspan="8" class="muted">No Proxmox Backup Server is configured (Settings → Proxmox → Backup Server).</td></tr>';
}

// The pools' search (table.js's search language): name:, node:, type:, content:, status:
// must all hold; plain words match name, node, type or content (any).
export function poolMatcher(text) {
  return searchMatcher(text, {
    fields: { name: (s) => s.name, node: nodesOf, type: (s) => s.type, content: (s) => s.content, status: (s) => s.status },
    words: (s) => [s.name, nodesOf(s), s.type, s.content],
  });
}

export function mount(root) {
  const DEFAULTS = { sort: 'name', dir: 'asc', q: '', status: 'all', dsort: 'node', ddir: 'asc', node: '', ...NODE_VIEW };
  const view = viewFromUrl(DEFAULTS, (k, v) => nodeViewOk('storage', k, v) ?? (k === 'sort' ? POOL_COLUMNS.some((c) => c.key === v && c.value)
    : k === 'dsort' ? DISK_COLUMNS.some((c) => c.key === v) : k === 'dir' || k === 'ddir' ? v === 'asc' || v === 'desc'
      : k === 'status' ? v === 'available' || v === 'offline' : true));
  root.innerHTML = `
    <p class="banner error" id="storage-error" role="alert" hidden></p>
    <div id="node-summary"></div>
    <section class="card">
      <h2>Storage pools</h2>
      <div class="filters">
        <label class="search"><span class="sr-only">Search storage</span>
          <input id="storage-search" type="search" placeholder="Search: local, node:node1, type:zfspool" value="${esc(view.q)}" autocomplete="off"></label>
        <label>Status <select id="storage-status"><option value="all">All</option><option value="available">Available</option>
          <option value="offline">Offline</option></select></label>
        <span id="storage-count" class="muted" aria-live="polite"></span>
      </div>
      <div id="pool-table"></div>
    </section>
    <section class="card">
      <h2>Physical disks</h2>
      <div id="disk-table"></div>
    </section>
    <section class="card">
      <h2>Backup Server datastores</h2>
      <div class="scroll"><table id="pbs-datastores" class="grid">
        <thead><tr><th>Datastore</th><th>Server</th><th>Status</th><th>Usage</th><th class="num">Free</th>
          <th class="num">Total</th><th class="num">Dedup</th><th class="num">Namespaces</th></tr></thead>
        <tbody></tbody></table></div>
    </section>`;
  const $ = (sel) => root.querySelector(sel);
  const navDown = mountProxmoxNav(root, 'proxmox/storage');
  $('#storage-status').value = view.status;
  let state = null, typing = null;
  const nodes = mountNodeSummary($('#node-summary'), { kind: 'storage', view, changed });
  const pools = mountTable($('#pool-table'), {
    id: 'storage-pools', columns: POOL_COLUMNS, row: poolRow, rowSelector: 'tr[data-storage]',
    tie: (a, b) => (a.id < b.id ? -1 : 1), empty: 'No storage found',
    onSort: (key) => { const n = nextSort(view, key, POOL_COLUMNS); view.sort = n.sort; view.dir = n.dir; changed(); },
  });
  const disks = mountTable($('#disk-table'), {
    id: 'physical-disks', columns: DISK_COLUMNS, row: diskRow, rowSelector: 'tr[data-disk]',
    tie: (a, b) => (a.id < b.id ? -1 : 1),
    empty: 'No physical disks reported. PVE lists disks when SMART monitoring is on (monitorPhysicalDisks).',
    onSort: (key) => {
      const n = nextSort({ sort: view.dsort, dir: view.ddir }, key, DISK_COLUMNS);
      view.dsort = n.sort; view.ddir = n.dir; changed();
    },
  });
  function draw() {
    if (!state) return;
    nodes.set(state);
    const all = state.storage || [], match = poolMatcher(view.q);
    const rows = all.filter((s) => (view.status === 'all' || (view.status === 'available') === (s.status === 'available' || s.status === 'active'))
      && (!view.node || onNode.storage(s, view.node)) && match(s));
    pools.set(rows, view.sort, view.dir);
    $('#storage-count').textContent = `${rows.length} of ${all.length} storages`;
    disks.set((state.physicalDisks || []).filter((d) => !view.node || onNode.disk(d, view.node)), view.dsort, view.ddir);
    $('#pbs-datastores tbody').innerHTML = datastoreRows(state.pbs);
  }
  function changed() { viewToUrl(view, DEFAULTS); draw(); }
  $('#storage-search').addEventListener('input', (ev) => {
    clearTimeout(typing);
    typing = setTimeout(() => { view.q = ev.target.value.trim(); changed(); }, 120);
  });
  $('#storage-status').addEventListener('change', (ev) => { view.status = ev.target.value; changed(); });
  const errBox = $('#storage-error');
  const unwatch = watchState((st) => { state = st; draw(); }, (err) => {
    errBox.hidden = !err;
    if (err) errBox.textContent = `Cannot refresh the state: ${err.message}`;
  });
  return () => { unwatch(); navDown(); clearTimeout(typing); nodes.destroy(); pools.destroy(); disks.destroy(); };
}
