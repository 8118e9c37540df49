// overview.js: the Proxmox overview: the nodes table and one table of VMs and containers,
// from /api/state polled with If-None-Match (a 304 keeps what is on screen). The guest
// table's sort, text filter and status filter live in the URL query (sort, dir, q, status),
// so a view can be bookmarked. Rows are built as one HTML string. Above WINDOW_FROM rows only
// those near the viewport are in the document (spacer rows keep the scroll height): laying
// out 5,000 rows of bars takes seconds, a window of them a few milliseconds.
import { get } from './api.js';
import { esc, bytes, uptime, bar, pctOf } from './format.js';

const POLL_MS = 5000;
const WINDOW_FROM = 300;  // rows: fewer are all in the document
const WINDOW_EXTRA = 40;  // rows above and below the viewport

function guestType(g) { return g.type === 'qemu' ? 'VM' : g.isOci ? 'OCI' : 'LXC'; }
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

// The view's settings from the URL query, with defaults.
function viewFromUrl() {
  const p = new URLSearchParams(location.search);
  const sort = BY_KEY[p.get('sort')] ? p.get('sort') : 'vmid';
  const dir = p.get('dir') === 'desc' || p.get('dir') === 'asc' ? p.get('dir') : 'asc';
  const status = ['running', 'stopped'].includes(p.get('status')) ? p.get('status') : 'all';
  return { sort, dir, status, q: p.get('q') || '' };
}
function viewToUrl(v) {
  const p = new URLSearchParams(location.search);
  const set = (k, val, dflt) => (val && val !== dflt ? p.set(k, val) : p.delete(k));
  set('sort', v.sort, 'vmid');
  set('dir', v.dir, 'asc');
  set('status', v.status, 'all');
  set('q', v.q, '');
  const qs = p.toString();
  history.replaceState(history.state, '', location.pathname + (qs ? '?' + qs : ''));
}

function cpuCell(x) {
  if (!running(x) && x.status !== 'online') return bar(null);
  const pct = (x.cpu || 0) * 100;
  const cores = x.cpus || (x.cpuInfo && x.cpuInfo.cores);
  return bar(pct, `${pct.toFixed(0)}%`, `${pct.toFixed(1)}%${cores ? ` of ${cores} cores` : ''}`);
}
function memCell(x) {
  const used = x.memory ? x.memory.used : x.mem, total = x.memory ? x.memory.total : x.maxmem;
  if ((!running(x) && x.status !== 'online') || !(total > 0)) return bar(null);
  const pct = pctOf(used, total);
  return bar(pct, `${pct.toFixed(0)}%`, `${bytes(used)} of ${bytes(total)}`, 70, 90);
}
function diskCell(x) {
  const pct = diskPct(x);
  if (pct == null) return `<span class="muted" title="${esc(x.diskStatusReason || 'no data')}">-</span>`;
  return bar(pct, `${pct.toFixed(0)}%`, `${bytes(x.disk.used)} of ${bytes(x.disk.total)}`);
}
function statusCell(status) { return `<span class="dot ${esc(status)}"></span>${esc(status)}`; }

function nodeRows(nodes, guests) {
  const count = {};
  for (const g of guests) {
    const k = `${g.instance}/${g.node}`;
    count[k] = count[k] || { vm: 0, ct: 0 };
    count[k][g.type === 'qemu' ? 'vm' : 'ct']++;
  }
  return nodes.map((n) => {
    const c = count[`${n.instance}/${n.node}`] || { vm: 0, ct: 0 };
    return `<tr class="${n.status === 'online' ? '' : 'down'}"><td>${esc(n.displayName || n.node)}` +
      `${n.clusterName ? ` <span class="badge">${esc(n.clusterName)}</span>` : ''}</td>` +
      `<td>${statusCell(n.status)}</td><td>${n.status === 'online' ? uptime(n.uptime) : '-'}</td>` +
      `<td>${cpuCell(n)}</td><td>${memCell(n)}</td><td>${diskCell(n)}</td>` +
      `<td class="num">${c.vm}</td><td class="num">${c.ct}</td></tr>`;
  }).join('');
}

function guestRow(g) {
  const up = running(g);
  return `<tr data-vmid="${g.vmid}" class="${up ? '' : 'stopped'}">` +
    `<td class="name">${esc(g.name)}${g.lock ? ` <span class="badge warn">Lock: ${esc(g.lock)}</span>` : ''}</td>` +
    `<td><span class="type ${guestType(g).toLowerCase()}">${guestType(g)}</span></td>` +
    `<td class="num">${g.vmid}</td><td>${esc(g.node)}</td><td>${statusCell(g.status)}</td>` +
    `<td>${cpuCell(g)}</td><td>${memCell(g)}</td><td>${diskCell(g)}</td>` +
    `<td class="num">${up ? uptime(g.uptime) : '-'}</td></tr>`;
}

export function mountOverview(root, { onState } = {}) {
  const view = viewFromUrl();
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
      <div class="scroll"><table id="guests" class="grid">
        <colgroup>${COLUMNS.map((c) => `<col class="c-${c.key}">`).join('')}</colgroup>
        <thead><tr>${COLUMNS.map((c) => `<th data-sort="${c.key}" tabindex="0" role="columnheader">${c.label}</th>`).join('')}</tr></thead>
        <tbody></tbody>
      </table></div>
    </section>`;
  const $ = (sel) => root.querySelector(sel);
  const search = $('#guest-search'), statusSel = $('#status-filter'), errBox = $('#overview-error');
  statusSel.value = view.status;
  let state = null, etag = null, timer = null, stopped = false, typing = null;
  let rows = [], rowH = 0, shown = [-1, -1], scrollQueued = false;
  const tbody = $('#guests tbody');

  // Puts rows[start, end) in the table; with a window, spacer rows stand for the others.
  function renderRows(force) {
    const n = rows.length;
    let start = 0, end = n;
    if (n > WINDOW_FROM) {
      rowH = rowH || 29;
      const above = Math.max(0, -tbody.getBoundingClientRect().top);
      const first = Math.floor(above / rowH), last = first + Math.ceil(window.innerHeight / rowH);
      // A scroll that stays inside the window with room to spare changes nothing.
      if (!force && shown[0] <= Math.max(0, first - WINDOW_EXTRA / 2)
          && shown[1] >= Math.min(n, last + WINDOW_EXTRA / 2)) return;
      start = Math.max(0, first - WINDOW_EXTRA);
      end = Math.min(n, last + WINDOW_EXTRA);
    }
    const spacer = (k) => (k > 0 ? `<tr class="spacer"><td colspan="${COLUMNS.length}" style="height:${k * rowH}px"></td></tr>` : '');
    tbody.innerHTML = n ? spacer(start) + rows.slice(start, end).map(guestRow).join('') + spacer(n - end)
      : `<tr><td colspan="${COLUMNS.length}" class="muted">No guests found</td></tr>`;
    shown = [start, end];
    if (n > WINDOW_FROM) {
      const first = tbody.querySelector('tr[data-vmid]');
      const h = first ? first.getBoundingClientRect().height : 0;
      if (h && Math.abs(h - rowH) > 0.5) { rowH = h; renderRows(true); }
    }
  }
  function onScroll() {
    if (scrollQueued || rows.length <= WINDOW_FROM) return;
    scrollQueued = true;
    requestAnimationFrame(() => { scrollQueued = false; if (!stopped) renderRows(false); });
  }
  window.addEventListener('scroll', onScroll, { passive: true });
  window.addEventListener('resize', onScroll);

  function renderGuests() {
    if (!state) return;
    const all = [...(state.vms || []), ...(state.containers || [])];
    const match = parseSearch(view.q);
    const col = BY_KEY[view.sort], sign = view.dir === 'desc' ? -1 : 1;
    rows = all.filter((g) => (view.status === 'all' || (view.status === 'running') === running(g)) && match(g));
    rows.sort((a, b) => {
      const x = col.value(a), y = col.value(b);
      if (x == null || y == null) return x == null ? (y == null ? a.vmid - b.vmid : 1) : -1; // empty values last
      return x < y ? -sign : x > y ? sign : a.vmid - b.vmid;  // ties by VMID, ascending
    });
    renderRows(true);
    $('#guest-count').textContent = `${rows.length} of ${all.length} guests`;
    for (const th of root.querySelectorAll('#guests th')) {
      const on = th.dataset.sort === view.sort;
      th.setAttribute('aria-sort', on ? (view.dir === 'asc' ? 'ascending' : 'descending') : 'none');
    }
  }
  function render() {
    const nodes = state.nodes || [];
    const guests = [...(state.vms || []), ...(state.containers || [])];
    $('#nodes tbody').innerHTML = nodes.length ? nodeRows(nodes, guests)
      : '<tr><td colspan="8" class="muted">No Proxmox VE nodes configured yet (POST /api/config/nodes; the settings page is not built yet).</td></tr>';
    renderGuests();
  }

  async function poll() {
    if (stopped) return;
    try {
      if (!document.hidden || !state) {
        const res = await get('/api/state', { etag });
        if (!stopped && res.status !== 304 && !(state && res.etag && res.etag === etag)) {
          state = res.body;
          etag = res.etag;
          render();
        }
        if (onState && state) onState(state);
        errBox.hidden = true;
      }
    } catch (err) {
      if (stopped) return;
      errBox.textContent = `Cannot refresh the state: ${err.message}`;
      errBox.hidden = false;
    }
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  }

  function changed() { viewToUrl(view); renderGuests(); }
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => { view.q = search.value.trim(); changed(); }, 120);
  });
  statusSel.addEventListener('change', () => { view.status = statusSel.value; changed(); });
  const sortBy = (key) => {
    if (view.sort === key) view.dir = view.dir === 'asc' ? 'desc' : 'asc';
    else { view.sort = key; view.dir = BY_KEY[key].desc ? 'desc' : 'asc'; }
    changed();
  };
  $('#guests thead').addEventListener('click', (ev) => {
    const th = ev.target.closest('th[data-sort]');
    if (th) sortBy(th.dataset.sort);
  });
  $('#guests thead').addEventListener('keydown', (ev) => {
    const th = ev.target.closest('th[data-sort]');
    if (th && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); sortBy(th.dataset.sort); }
  });

  poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
    clearTimeout(typing);
    window.removeEventListener('scroll', onScroll);
    window.removeEventListener('resize', onScroll);
  };
}
