// overview.js: the Proxmox overview: the nodes table (nodesummary.js) and one table of VMs and
// containers (listpage.js: the shared state poller and table; sort, text filter, status and
// node filters in the URL query as sort, dir, q, status, node, so a view can be bookmarked).
import { searchMatcher } from './table.js';
import { mountListPage } from './listpage.js';
import { esc, bytes, rate, uptime, bar, pctOf } from './format.js';
import { mountProxmoxNav } from './proxnav.js';
import { mountOverviewNodes, nodeSelect } from './nodesummary.js';

export function guestType(g) { return g.type === 'qemu' ? 'VM' : g.isOci ? 'OCI' : 'LXC'; }
function memPct(x) { return pctOf(x.memory ? x.memory.used : x.mem, x.memory ? x.memory.total : x.maxmem); }
function diskPct(x) { return x.disk && x.disk.usage >= 0 ? pctOf(x.disk.used, x.disk.total) : null; }
const running = (g) => g.status === 'running';

// Columns of the guest table: key (the URL's sort=), header, sort value, first direction.
const COLUMNS = [
  { key: 'name', label: 'Name', value: (g) => (g.name || '').toLowerCase() },
  { key: 'type', label: 'Type', value: guestType },
  { key: 'vmid', label: 'ID', value: (g) => g.vmid },
  { key: 'node', label: 'Node', value: (g) => g.node },
  { key: 'status', label: 'Status', value: (g) => g.status },
  { key: 'cpu', label: 'CPU', value: (g) => (running(g) ? g.cpu : null), desc: true },
  { key: 'memory', label: 'Memory', value: (g) => (running(g) ? memPct(g) : null), desc: true },
  { key: 'disk', label: 'Disk', value: diskPct, desc: true },
  { key: 'net', label: 'Net in/out /s', value: (g) => (running(g) ? (g.networkIn || 0) + (g.networkOut || 0) : null), desc: true },
  { key: 'io', label: 'Disk r/w /s', value: (g) => (running(g) ? (g.diskRead || 0) + (g.diskWrite || 0) : null), desc: true },
  { key: 'uptime', label: 'Uptime', value: (g) => (running(g) ? g.uptime : null), desc: true },
  { key: 'trend', label: 'CPU' },
];

// CPU of each guest over the last TREND_POINTS changes of the state seen by this page (a
// refresh every polling interval), for the trend column's sparkline: kept in the page, so it
// starts when the page opens and costs no request.
const TREND_POINTS = 30;
const trends = new Map();
function remember(st) {
  for (const g of [...(st.vms || []), ...(st.containers || [])]) {
    let t = trends.get(g.id);
    if (!t) trends.set(g.id, t = []);
    t.push(running(g) ? (g.cpu || 0) * 100 : 0);
    if (t.length > TREND_POINTS) t.shift();
  }
}
function trendCell(g) {
  const t = trends.get(g.id);
  if (!t || t.length < 2) return '<span class="muted">-</span>';
  const max = Math.max(10, ...t);
  const pts = t.map((v, i) => `${((i * 60) / (TREND_POINTS - 1)).toFixed(1)},${(16 - (v * 15) / max).toFixed(1)}`).join(' ');
  return `<svg class="spark" viewBox="0 0 60 17" width="60" height="17" role="img" aria-label="CPU ${t.map((v) => v.toFixed(0)).join(', ')} %">` +
    `<polyline points="${pts}"/></svg>`;
}
const ioCell = (g, a, b, label) => (running(g)
  ? `<span class="io" title="${label}: ${rate(g[a])} / ${rate(g[b])}">${bytes(g[a])} / ${bytes(g[b])}</span>` : '<span class="muted">-</span>');

// The search box (reference/ui.md §2.6, in part): terms split on commas; a term with an
// operator (cpu>80, memory<=20, uptime>3600) or a field (node:pve1, name:web, tags:prod) is a
// filter, and every filter must hold; the plain words match name, VMID, node or status, any
// of them.
const METRICS = {
  cpu: (g) => (g.cpu || 0) * 100, memory: (g) => memPct(g) ?? 0, disk: (g) => diskPct(g) ?? 0,
  uptime: (g) => (running(g) ? g.uptime : 0),
};
const FIELDS = {
  name: (g) => g.name, node: (g) => g.node, vmid: (g) => String(g.vmid), tags: (g) => g.tags,
  status: (g) => g.status, type: guestType,
};
export function parseSearch(text) {
  return searchMatcher(text, { metrics: METRICS, fields: FIELDS,
    words: (g) => [g.name, String(g.vmid), g.node, g.status] });
}

export function cpuCell(x) {
  if (!running(x) && x.status !== 'online') return bar(null);
  const pct = (x.cpu || 0) * 100;
  const cores = x.cpus || (x.cpuInfo && x.cpuInfo.cores);
  return bar(pct, `${pct.toFixed(0)}%`, `${pct.toFixed(1)}%${cores ? ` of ${cores} cores` : ''}`);
}
export function memCell(x) {
  const used = x.memory ? x.memory.used : x.mem, total = x.memory ? x.memory.total : x.maxmem;
  if ((!running(x) && x.status !== 'online') || !(total > 0)) return bar(null);
  const pct = pctOf(used, total);
  return bar(pct, `${pct.toFixed(0)}%`, `${bytes(used)} of ${bytes(total)}`, 70, 90);
}
export function diskCell(x) {
  const pct = diskPct(x);
  if (pct == null) return `<span class="muted" title="${esc(x.diskStatusReason || 'no data')}">-</span>`;
  return bar(pct, `${pct.toFixed(0)}%`, `${bytes(x.disk.used)} of ${bytes(x.disk.total)}`);
}
export function statusCell(status) { return `<span class="dot ${esc(status)}"></span>${esc(status)}`; }

function guestRow(g) {
  const up = running(g);
  return `<tr data-vmid="${g.vmid}" data-id="${esc(g.id)}" class="${up ? '' : 'stopped'}">` +
    `<td class="name"><a href="proxmox/guest/${encodeURIComponent(g.id)}" data-link>${esc(g.name)}</a>${g.lock ? ` <span class="badge warn">Lock: ${esc(g.lock)}</span>` : ''}</td>` +
    `<td><span class="type ${guestType(g).toLowerCase()}">${guestType(g)}</span></td>` +
    `<td class="num">${g.vmid}</td><td>${esc(g.node)}</td><td>${statusCell(g.status)}</td>` +
    `<td>${cpuCell(g)}</td><td>${memCell(g)}</td><td>${diskCell(g)}</td>` +
    `<td class="num">${ioCell(g, 'networkIn', 'networkOut', 'in / out')}</td>` +
    `<td class="num">${ioCell(g, 'diskRead', 'diskWrite', 'read / write')}</td>` +
    `<td class="num">${up ? uptime(g.uptime) : '-'}</td><td>${trendCell(g)}</td></tr>`;
}

export function mount(root, ctx) {
  const down = mountListPage(root, {
    id: 'guests', columns: COLUMNS, row: guestRow, rowSelector: 'tr[data-vmid]', fixed: true,
    tie: (a, b) => a.vmid - b.vmid, empty: 'No guests found', noun: 'guests',
    placeholder: 'Search or filter: web, node:pve1, cpu>80',
    defaults: { sort: 'vmid', dir: 'asc', status: 'all', q: '', node: '' },
    selects: [{ key: 'status', label: 'Status', options: [['all', 'All'], ['running', 'Running'], ['stopped', 'Stopped']] }, nodeSelect()],
    onState: remember,
    rows(st, view) {
      const all = [...(st.vms || []), ...(st.containers || [])];
      const match = parseSearch(view.q);
      return { total: all.length,
        rows: all.filter((g) => (view.status === 'all' || (view.status === 'running') === running(g)) && (!view.node || g.node === view.node) && match(g)) };
    },
  });
  // A click anywhere on a guest's row opens its detail view (its name is the link, for the
  // keyboard and for opening in a new tab).
  root.querySelector('#guests-list').addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr[data-id]');
    if (tr && !ev.target.closest('a') && !window.getSelection().toString()) ctx.navigate(`proxmox/guest/${encodeURIComponent(tr.dataset.id)}`);
  });
  const navDown = mountProxmoxNav(root, 'proxmox/overview');
  const nodesDown = mountOverviewNodes(root.querySelector('#guests-above'), root.querySelector('#guests-node'));
  return () => { navDown(); nodesDown(); down(); };
}
