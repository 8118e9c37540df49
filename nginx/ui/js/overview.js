// overview.js: the Proxmox overview: the nodes table and one table of VMs and containers,
// from the shared /api/state poller (state.js). The guest table (table.js: sorting, and a
// window of rows above 300) keeps its sort, text filter and status filter in the URL query
// (sort, dir, q, status), so a view can be bookmarked.
import { watchState } from './state.js';
import { mountTable, nextSort, viewFromUrl, viewToUrl } from './table.js';
import { esc, bytes, uptime, bar, pctOf } from './format.js';
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
  { key: 'uptime', label: 'Uptime', value: (g) => (running(g) ? g.uptime : null), desc: true },
];
const BY_KEY = Object.fromEntries(COLUMNS.map((c) => [c.key, c]));

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
function compare(a, op, b) {
  switch (op) {
    case '>': return a > b;
    case '<': return a < b;
    case '>=': return a >= b;
    case '<=': return a <= b;
    default: return Math.abs(a - b) < 0.01;
  }
}
export function parseSearch(text) {
  const filters = [], words = [];
  for (const raw of text.split(',')) {
    const term = raw.trim().toLowerCase();
    if (!term) continue;
    let m = term.match(/^(\w+)\s*(>=|<=|==|=|>|<)\s*(-?[\d.]+)$/);
    if (m && METRICS[m[1]]) {
      const [, field, op, num] = m;
      filters.push((g) => compare(METRICS[field](g), op, Number(num)));
      continue;
    }
    m = term.match(/^(\w+):(.*)$/);
    if (m && FIELDS[m[1]]) {
      const [, field, value] = m;
      filters.push((g) => String(FIELDS[field](g) ?? '').toLowerCase().includes(value.trim()));
      continue;
    }
    words.push(term);
  }
  return (g) => filters.every((f) => f(g)) && (!words.length || words.some((w) =>
    [g.name, String(g.vmid), g.node, g.status].some((v) => (v || '').toLowerCase().includes(w))));
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
    `<td class="num">${up ? uptime(g.uptime) : '-'}</td></tr>`;
}

export function mount(root, ctx) {
  const DEFAULTS = { sort: 'vmid', dir: 'asc', status: 'all', q: '' };
  const view = viewFromUrl(DEFAULTS, (k, v) => (k === 'sort' ? Boolean(BY_KEY[v])
    : k === 'dir' ? v === 'asc' || v === 'desc' : k === 'status' ? v === 'running' || v === 'stopped' : true));
  root.innerHTML = `
    <p class="banner error" id="overview-error" role="alert" hidden></p>
    <section class="card">
      <h2>Nodes</h2>
      <div class="scroll"><table id="nodes" class="grid">
        <thead><tr><th>Node</th><th>Status</th><th>Uptime</th><th>CPU</th><th>Memory</th><th>Disk</th>
          <th class="num">VMs</th><th class="num">CTs</th></tr></thead>
        <tbody><tr><td colspan="8" class="muted">Loading…</td></tr></tbody>
      </table></div>
    </section>
    <section class="card">
      <div class="filters">
        <label class="search"><span class="sr-only">Search</span>
          <input id="guest-search" type="search" placeholder="Search or filter: web, node:pve1, cpu>80"
            value="${esc(view.q)}" autocomplete="off"></label>
        <label>Status <select id="status-filter">
          <option value="all">All</option><option value="running">Running</option><option value="stopped">Stopped</option>
        </select></label>
        <span id="guest-count" class="muted" aria-live="polite"></span>
      </div>
      <div id="guest-table"></div>
    </section>`;
  const $ = (sel) => root.querySelector(sel);
  const search = $('#guest-search'), statusSel = $('#status-filter'), errBox = $('#overview-error');
  statusSel.value = view.status;
  let state = null, typing = null;
  const table = mountTable($('#guest-table'), {
    id: 'guests', columns: COLUMNS, row: guestRow, rowSelector: 'tr[data-vmid]', fixed: true,
    tie: (a, b) => a.vmid - b.vmid, empty: 'No guests found',
    onSort: (key) => { Object.assign(view, nextSort(view, key, COLUMNS)); changed(); },
  });

  function renderGuests() {
    if (!state) return;
    const all = [...(state.vms || []), ...(state.containers || [])];
    const match = parseSearch(view.q);
    const rows = all.filter((g) => (view.status === 'all' || (view.status === 'running') === running(g)) && match(g));
    table.set(rows, view.sort, view.dir);
    $('#guest-count').textContent = `${rows.length} of ${all.length} guests`;
  }
  function render(st) {
    state = st;
    const nodes = state.nodes || [];
    const guests = [...(state.vms || []), ...(state.containers || [])];
    $('#nodes tbody').innerHTML = nodes.length ? nodeRows(nodes, guests)
      : '<tr><td colspan="8" class="muted">No Proxmox VE nodes configured yet: add one under <a href="settings/proxmox" data-link>Settings</a>.</td></tr>';
    renderGuests();
  }
  function showError(err) {
    errBox.hidden = !err;
    if (err) errBox.textContent = `Cannot refresh the state: ${err.message}`;
  }

  function changed() { viewToUrl(view, DEFAULTS); renderGuests(); }
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => { view.q = search.value.trim(); changed(); }, 120);
  });
  statusSel.addEventListener('change', () => { view.status = statusSel.value; changed(); });
  // A click anywhere on a guest's row opens its detail view (its name is the link, for the
  // keyboard and for opening in a new tab).
  $('#guest-table').addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr[data-id]');
    if (tr && !ev.target.closest('a') && !window.getSelection().toString()) ctx.navigate(`proxmox/guest/${encodeURIComponent(tr.dataset.id)}`);
  });

  const navDown = mountProxmoxNav(root, 'proxmox/overview');
  const unwatch = watchState(render, showError);
  return () => {
    navDown();
    unwatch();
    clearTimeout(typing);
    table.destroy();
  };
}
