// overview.js: the Proxmox overview: the nodes table and one table of VMs and containers
// (listpage.js: the shared state poller and table; sort, text filter and status filter in
// the URL query as sort, dir, q, status, so a view can be bookmarked).
import { searchMatcher } from './table.js';
import { mountListPage } from './listpage.js';
import { esc, bytes, rate, uptime, bar, pctOf } from './format.js';
import { mountProxmoxNav } from './proxnav.js';

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

function nodeRows(nodes, guests) {
  const count = {};
  for (const g of guests) {
    const k = `${g.instance}/${g.node}`;
    count[k] = count[k] || { vm: 0, ct: 0 };
    count[k][g.type === 'qemu' ? 'vm' : 'ct']++;
  }
  return nodes.map((n) => {
    const c = count[`${n.instance}/${n.node}`] || { vm: 0, ct: 0 };
    return `<tr class="${n.status === 'online' ? '' : 'down'}"><td><a href="proxmox/node/${encodeURIComponent(n.id)}" data-link>${esc(n.displayName || n.node)}</a>` +
      `${n.clusterName ? ` <span class="badge">${esc(n.clusterName)}</span>` : ''}</td>` +
      `<td>${statusCell(n.status)}</td><td>${n.status === 'online' ? uptime(n.uptime) : '-'}</td>` +
      `<td>${cpuCell(n)}</td><td>${memCell(n)}</td><td>${diskCell(n)}</td>` +
      `<td class="num">${c.vm}</td><td class="num">${c.ct}</td></tr>`;
  }).join('');
}

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

// The Proxmox connections (PVE, PBS, PMG instances) the state reports as failing; the agents'
// entries (host-, docker-, kubernetes-) are the other pages' business.
function connectionBanner(st) {
  const down = Object.entries(st.connectionHealth || {})
    .filter(([k, ok]) => !ok && !/^(host|docker|kubernetes)-/.test(k)).map(([k]) => k).sort();
  return down.length ? `<p class="banner error" role="status" id="connection-down">Not reachable: ${down.map(esc).join(', ')}</p>` : '';
}

function nodesCard(st) {
  const nodes = st.nodes || [];
  const guests = [...(st.vms || []), ...(st.containers || [])];
  return `${connectionBanner(st)}<section class="card"><h2>Nodes</h2>
    <div class="scroll"><table id="nodes" class="grid">
      <thead><tr><th>Node</th><th>Status</th><th>Uptime</th><th>CPU</th><th>Memory</th><th>Disk</th>
        <th class="num">VMs</th><th class="num">CTs</th></tr></thead>
      <tbody>${nodes.length ? nodeRows(nodes, guests) : '<tr><td colspan="8" class="muted">No Proxmox VE nodes ' +
        'configured yet: add one under <a href="settings/proxmox" data-link>Settings</a>.</td></tr>'}</tbody>
    </table></div></section>`;
}

export function mount(root, ctx) {
  const down = mountListPage(root, {
    id: 'guests', columns: COLUMNS, row: guestRow, rowSelector: 'tr[data-vmid]', fixed: true,
    tie: (a, b) => a.vmid - b.vmid, empty: 'No guests found', noun: 'guests',
    placeholder: 'Search or filter: web, node:pve1, cpu>80',
    defaults: { sort: 'vmid', dir: 'asc', status: 'all', q: '' },
    selects: [{ key: 'status', label: 'Status', options: [['all', 'All'], ['running', 'Running'], ['stopped', 'Stopped']] }],
    above: nodesCard,
    onState: remember,
    rows(st, view) {
      const all = [...(st.vms || []), ...(st.containers || [])];
      const match = parseSearch(view.q);
      return { total: all.length,
        rows: all.filter((g) => (view.status === 'all' || (view.status === 'running') === running(g)) && match(g)) };
    },
  });
  // A click anywhere on a guest's row opens its detail view (its name is the link, for the
  // keyboard and for opening in a new tab).
  root.querySelector('#guests-list').addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr[data-id]');
    if (tr && !ev.target.closest('a') && !window.getSelection().toString()) ctx.navigate(`proxmox/guest/${encodeURIComponent(tr.dataset.id)}`);
  });
  const navDown = mountProxmoxNav(root, 'proxmox/overview');
  return () => { navDown(); down(); };
}
