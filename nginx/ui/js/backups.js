// backups.js: proxmox/backups (reference/ui.md §4): one list of PVE backups (storage
// content), PBS backups and guest snapshots, from the shared state poller (state.backups);
// or, "By guest", each guest's last backup. Filters in the URL: source (pve, pbs, snapshot),
// guest type (vm, ct), node (a PVE node or a PBS), a search (the overview's syntax, §2.6:
// words match name, VMID, node or location; name:, node:, vmid:, storage:, type: filters;
// size>, age> in GiB and hours), age (within / older than the fresh and stale limits of
// backupage.js), the sort, and the view. Ages are coloured by backupage.js's rule. On top, the
// node summary (nodesummary.js: the PVE nodes and Backup Servers with their backup counts; a
// click on one sets the node filter). Above the list, the "Available backups" chart: the
// list's rows per local day (7d, 30d, 90d, 1y); a day's button filters the list to that day
// (chart, day in the URL; Escape clears the day). The list shows PAGE rows a page (page in the
// URL, Prev and Next) and, sorted by time, a heading before each day's rows.
import { watchState } from './state.js';
import { mountTable, nextSort, viewFromUrl, viewToUrl, searchMatcher, sortRows } from './table.js';
import { esc, bytes, when } from './format.js';
import { mountProxmoxNav } from './proxnav.js';
import { ageCell, ageLevel, ageLimits, loadAgeLimits } from './backupage.js';
import { mountNodeSummary, NODE_VIEW, nodeViewOk } from './nodesummary.js';

const SOURCES = { pve: 'PVE', pbs: 'PBS', snapshot: 'Snapshot' };

// Every backup and snapshot of the state as one row shape: {key, source, time (ms), vmid,
// gtype ('vm'|'ct'|'host'), name, node, location, size, verified, protected, note}.
export function backupRows(st) {
  const b = st.backups || {}, pve = b.pve || {};
  const gt = (t) => (t === 'qemu' || t === 'vm' ? 'vm' : t === 'lxc' || t === 'oci' || t === 'ct' ? 'ct' : t);
  // Guests by instance, type and VMID; PBS backups name no instance: by type and VMID.
  const all = [...(st.vms || []), ...(st.containers || [])];
  const guests = new Map(all.map((g) => [`${g.instance}/${gt(g.type)}/${g.vmid}`, g]));
  const byVmid = new Map(all.map((g) => [`${gt(g.type)}/${g.vmid}`, g]));
  const guest = (inst, type, vmid) => (inst ? guests.get(`${inst}/${gt(type)}/${vmid}`) : byVmid.get(`${gt(type)}/${vmid}`)) || {};
  return [
    ...(pve.storageBackups || []).map((x) => ({ key: `pve:${x.id}`, source: x.isPBS ? 'pbs' : 'pve', via: x.isPBS, time: x.ctime * 1000,
      vmid: x.vmid, gtype: gt(x.type), name: guest(x.instance, x.type, x.vmid).name, guestId: guest(x.instance, x.type, x.vmid).id, node: x.node, instance: x.instance,
      location: x.storage, size: x.size, verified: x.verified, protected: x.protected, note: x.notes || '' })),
    ...(b.pbs || []).map((x) => ({ key: `pbs:${x.id}`, source: 'pbs', time: Date.parse(x.backupTime),
      vmid: /^\d+$/.test(x.vmid) ? Number(x.vmid) : x.vmid, gtype: gt(x.backupType), name: x.backupType === 'host' ? x.vmid : guest('', x.backupType, x.vmid).name,
      guestId: x.backupType === 'host' ? undefined : guest('', x.backupType, x.vmid).id,
      node: x.instance, instance: x.instance, location: `${x.datastore}${x.namespace ? `/${x.namespace}` : ''}`, size: x.size,
      verified: x.verified, protected: x.protected, note: x.comment || '', owner: x.owner })),
    ...(pve.guestSnapshots || []).map((x) => ({ key: `snap:${x.id}`, source: 'snapshot', time: Date.parse(x.time), vmid: x.vmid,
      gtype: gt(x.type), name: guest(x.instance, x.type, x.vmid).name, guestId: guest(x.instance, x.type, x.vmid).id, node: x.node, instance: x.instance, location: x.name,
      size: null, verified: null, protected: false, note: x.description || '' })),
  ];
}

// The search of §2.6 (table.js's search language) over backup rows: comma-separated terms; name:, node:, vmid:, storage:
// (the location), type: (vm, ct, pve, pbs, snapshot), note: must all hold, as must size>N
// (GiB) and age>N (hours); plain words match name, VMID, node or location, any of them.
export function backupMatcher(text, now = Date.now()) {
  return searchMatcher(text, {
    fields: { name: (r) => r.name, node: (r) => r.node, vmid: (r) => String(r.vmid), storage: (r) => r.location,
      type: (r) => `${r.gtype} ${r.source}`, note: (r) => r.note },
    metrics: { size: (r) => (r.size || 0) / 2 ** 30, age: (r) => (now - r.time) / 3600000 },
    words: (r) => [r.name, String(r.vmid), r.node, r.location],
  });
}

const typeBadge = (t) => `<span class="type ${t === 'vm' ? 'vm' : t === 'ct' ? 'lxc' : 'oci'}">${t === 'vm' ? 'VM' : t === 'ct' ? 'CT' : esc(t.toUpperCase())}</span>`;
const COLUMNS = [
  { key: 'vmid', label: 'ID', value: (r) => (typeof r.vmid === 'number' ? r.vmid : null), num: true },
  { key: 'type', label: 'Type', value: (r) => r.gtype },
  { key: 'name', label: 'Name', value: (r) => (r.name || '').toLowerCase() },
  { key: 'node', label: 'Node / PBS', value: (r) => r.node },
  { key: 'time', label: 'Time', value: (r) => r.time, desc: true },
  { key: 'age', label: 'Age', value: (r) => r.time, desc: true },
  { key: 'source', label: 'Backup type', value: (r) => r.source },
  { key: 'location', label: 'Location', value: (r) => r.location },
  { key: 'size', label: 'Size', value: (r) => r.size, desc: true, num: true },
  { key: 'verified', label: 'Verified', value: (r) => (r.verified == null ? null : r.verified ? 1 : 0) },
  { key: 'note', label: 'Notes' },
];
// A row of the list, or the heading of a day (a marker object of draw's, when the list is
// sorted by time): "Today (n)", "Yesterday (n)", then the date.
function row(r) {
  if (r.day) {
    return `<tr class="day-head" data-id="day:${r.day}" data-day="${r.day}" data-count="${r.count}">` +
      `<th colspan="${COLUMNS.length}">${esc(r.label)} (${r.count})</th></tr>`;
  }
  return `<tr data-key="${esc(r.key)}" data-id="${esc(r.key)}" data-source="${r.source}" data-age="${ageLevel(r.time)}" class="age-${ageLevel(r.time)}">` +
    `<td class="num">${esc(r.vmid)}</td><td>${typeBadge(r.gtype)}</td><td>${r.guestId
      ? `<a href="proxmox/guest/${encodeURIComponent(r.guestId)}" data-link>${esc(r.name)}</a>` : esc(r.name || '-')}</td><td>${esc(r.node)}</td>` +
    `<td>${esc(when(r.time))}</td><td>${ageCell(r.time)}</td>` +
    `<td><span class="badge src-${r.source}">${SOURCES[r.source]}</span>${r.via ? ' <span class="muted" title="seen through PVE storage">via PVE</span>' : ''}` +
    `${r.protected ? ' <span class="badge" title="protected">protected</span>' : ''}</td>` +
    `<td>${esc(r.location)}</td><td class="num">${r.size == null ? '-' : bytes(r.size)}</td>` +
    `<td>${r.verified == null ? '-' : r.verified ? '<span class="badge ok">verified</span>' : 'no'}</td><td class="wrap note">${esc(r.note)}</td></tr>`;
}

// Per guest: its newest backup (state's lastBackup), how many backups and snapshots the list has.
const GUEST_COLUMNS = [
  { key: 'vmid', label: 'ID', value: (g) => g.vmid, num: true },
  { key: 'type', label: 'Type', value: (g) => g.gtype },
  { key: 'name', label: 'Name', value: (g) => (g.name || '').toLowerCase() },
  { key: 'node', label: 'Node', value: (g) => g.node },
  { key: 'last', label: 'Last backup', value: (g) => g.lastBackup || null, desc: true },
  { key: 'backups', label: 'Backups', value: (g) => g.backups, desc: true, num: true },
  { key: 'snapshots', label: 'Snapshots', value: (g) => g.snapshots, desc: true, num: true },
];
function guestRow(g) {
  return `<tr data-vmid="${g.vmid}" data-guest="${esc(g.id)}" data-age="${ageLevel(g.lastBackup)}"><td class="num">${g.vmid}</td><td>${typeBadge(g.gtype)}</td>` +
    `<td><a href="proxmox/guest/${encodeURIComponent(g.id)}" data-link>${esc(g.name)}</a></td><td>${esc(g.node)}</td>` +
    `<td>${ageCell(g.lastBackup)}${g.lastBackup ? ` <span class="muted">${esc(when(g.lastBackup))}</span>` : ''}</td>` +
    `<td class="num">${g.backups}</td><td class="num">${g.snapshots}</td></tr>`;
}
export function guestSummary(st, rows) {
  return [...(st.vms || []), ...(st.containers || [])].filter((g) => !g.template).map((g) => {
    const gtype = g.type === 'qemu' ? 'vm' : 'ct';
    const mine = rows.filter((r) => r.gtype === gtype && String(r.vmid) === String(g.vmid) && (r.source === 'pbs' || r.instance === g.instance));
    return { id: g.id, vmid: g.vmid, gtype, name: g.name, node: g.node, instance: g.instance, lastBackup: g.lastBackup || 0,
      backups: mine.filter((r) => r.source !== 'snapshot').length, snapshots: mine.filter((r) => r.source === 'snapshot').length };
  });
}

// The local calendar day of epoch ms t, as YYYY-MM-DD.
export function localDay(t) {
  const d = new Date(t);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
const DAYS = { '7d': 7, '30d': 30, '90d': 90, '1y': 365 };

// The "Available backups" chart (reference/ui.md §4): per local day of the range, the rows
// of that day stacked as snapshots, PVE and PBS; each day a button that filters the list to it.
function daysChart(rows, range, selected, now = Date.now()) {
  const n = DAYS[range], per = new Map();
  for (const r of rows) {
    const k = localDay(r.time);
    if (!per.has(k)) per.set(k, { snapshot: 0, pve: 0, pbs: 0 });
    per.get(k)[r.source]++;
  }
  const days = [];
  for (let i = n - 1; i >= 0; i--) {
    const d = new Date(now);
    d.setHours(12, 0, 0, 0);
    d.setDate(d.getDate() - i);
    const k = localDay(d.getTime());
    days.push({ k, date: d, c: per.get(k) || { snapshot: 0, pve: 0, pbs: 0 } });
  }
  const most = Math.max(1, ...days.map((d) => d.c.snapshot + d.c.pve + d.c.pbs));
  return days.map(({ k, date, c }) => {
    const total = c.snapshot + c.pve + c.pbs;
    const label = `${date.toLocaleDateString()}: ${total} (${c.snapshot} snapshots, ${c.pve} PVE, ${c.pbs} PBS)`;
    const seg = (src) => (c[src] ? `<span class="seg ${src}" style="height:${((c[src] * 100) / most).toFixed(1)}%"></span>` : '');
    return `<button type="button" class="day${k === selected ? ' on' : ''}" data-day="${k}" data-count="${total}" title="${esc(label)}"` +
      ` aria-label="${esc(label)}" aria-pressed="${k === selected}">${seg('pbs')}${seg('pve')}${seg('snapshot')}</button>`;
  }).join('');
}

// The list's pages: PAGE rows each (reference/ui.md §4).
export const PAGE = 100;

// The heading of local day k (YYYY-MM-DD): "Today", "Yesterday", else the date in the
// browser's language.
export function dayLabel(k, now = Date.now()) {
  const d = new Date(now);
  if (k === localDay(d.getTime())) return 'Today';
  d.setDate(d.getDate() - 1);
  if (k === localDay(d.getTime())) return 'Yesterday';
  return new Date(`${k}T12:00:00`).toLocaleDateString(undefined, { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' });
}

// One page of rows (all of them sorted by the column sort in dir), with a heading before the
// rows of each day when grouped: [{day, label, count (the day's rows in the whole list)},
// row, row, ..., {day ...}, ...]. Each item gets pos, its place, which the table's columns
// sort by (see mount), so the table keeps this order whichever header shows the sort.
export function pageRows(rows, sort, dir, page, grouped, now = Date.now()) {
  const col = COLUMNS.find((c) => c.key === sort && c.value);
  const sorted = col ? sortRows([...rows], col, dir, (a, b) => (a.key < b.key ? -1 : 1)) : rows;
  const slice = sorted.slice((page - 1) * PAGE, page * PAGE);
  let out = slice;
  if (grouped) {
    const perDay = new Map();
    for (const r of sorted) { const k = localDay(r.time); perDay.set(k, (perDay.get(k) || 0) + 1); }
    out = [];
    let last = null;
    for (const r of slice) {
      const k = localDay(r.time);
      if (k !== last) out.push({ day: k, key: `day:${k}`, label: dayLabel(k, now), count: perDay.get(k) });
      last = k;
      out.push(r);
    }
  }
  return out.map((r, i) => ({ ...r, pos: dir === 'desc' ? -i : i }));
}
// The list's columns as the table gets them: every sortable one sorts by pos (pageRows).
const PAGE_COLUMNS = COLUMNS.map((c) => (c.value ? { ...c, value: (r) => r.pos } : c));

export function mount(root) {
  const DEFAULTS = { view: 'list', source: 'all', type: 'all', node: 'all', age: 'all', q: '', sort: 'time', dir: 'desc',
    chart: '30d', day: '', page: '1', ...NODE_VIEW };
  const view = viewFromUrl(DEFAULTS, (k, v) => nodeViewOk('backups', k, v) ?? (({
    view: ['list', 'guests'], source: ['pve', 'pbs', 'snapshot'], type: ['vm', 'ct'], age: ['fresh', 'stale', 'old'],
    dir: ['asc', 'desc'], chart: Object.keys(DAYS) }[k] || { includes: () => (k !== 'day' || /^\d{4}-\d\d-\d\d$/.test(v))
      && (k !== 'page' || /^[1-9]\d{0,5}$/.test(v)) }).includes(v)
    && (k !== 'sort' || COLUMNS.some((c) => c.key === v && c.value) || GUEST_COLUMNS.some((c) => c.key === v))));
  root.innerHTML = `
    <p class="banner error" id="backups-error" role="alert" hidden></p>
    <div id="node-summary"></div>
    <section class="cards" id="backup-summary"></section>
    <section class="card" id="backup-chart">
      <div class="chart-head"><h2>Available backups</h2>
        <div class="ranges" role="group" aria-label="Chart range">${Object.keys(DAYS).map((r) =>
          `<button type="button" data-chart="${r}" aria-pressed="${r === view.chart}">${r}</button>`).join('')}</div>
        <span class="legend"><span class="key snapshot"></span>Snapshots <span class="key pve"></span>PVE <span class="key pbs"></span>PBS</span>
        <span id="day-chip"></span></div>
      <div id="backup-days" class="days"></div>
      <div class="days-axis muted" id="days-axis"></div>
    </section>
    <section class="card">
      <div class="filters" id="backup-filters">
        <label class="search"><span class="sr-only">Search backups</span>
          <input id="backup-search" type="search" placeholder="Search: web, vmid:101, node:node1, size>10, age>24" value="${esc(view.q)}" autocomplete="off"></label>
        <label>Source <select id="backup-source"><option value="all">All</option><option value="snapshot">Snapshots</option>
          <option value="pve">PVE</option><option value="pbs">PBS</option></select></label>
        <label>Guest type <select id="backup-type"><option value="all">All</option><option value="vm">VMs</option><option value="ct">Containers</option></select></label>
        <label>Node <select id="backup-node"><option value="all">All</option></select></label>
        <label>Age <select id="backup-age"><option value="all">Any</option><option value="fresh"></option>
          <option value="stale"></option><option value="old"></option></select></label>
        <div class="ranges" role="group" aria-label="View">
          <button type="button" data-view="list" aria-pressed="${view.view === 'list'}">By backup</button>
          <button type="button" data-view="guests" aria-pressed="${view.view === 'guests'}">By guest</button></div>
        <button type="button" id="backup-reset" class="secondary">Reset</button>
        <span id="backup-count" class="muted" aria-live="polite"></span>
      </div>
      <div id="backup-table"></div>
      <nav class="pager" id="backup-pager" aria-label="Pages of backups">
        <button type="button" class="secondary" id="backup-prev" aria-label="Previous page">‹ Prev</button>
        <span id="backup-showing" class="muted" aria-live="polite"></span>
        <button type="button" class="secondary" id="backup-next" aria-label="Next page">Next ›</button>
      </nav>
    </section>`;
  const $ = (sel) => root.querySelector(sel);
  const navDown = mountProxmoxNav(root, 'proxmox/backups');
  const sel = { source: $('#backup-source'), type: $('#backup-type'), node: $('#backup-node'), age: $('#backup-age') };
  let state = null, typing = null, table = null, tableKind = '', nodeOptions = '', lastDays = '';
  function ageLabels() {
    const l = ageLimits();
    const opt = root.querySelectorAll('#backup-age option');
    opt[1].textContent = `Within ${l.freshHours} h`;
    opt[2].textContent = `Older than ${l.freshHours} h`;
    opt[3].textContent = `Older than ${l.staleHours} h`;
  }
  ageLabels();
  for (const k of Object.keys(sel)) sel[k].value = view[k];

  function ensureTable() {
    if (tableKind === view.view) return;
    if (table) table.destroy();
    tableKind = view.view;
    const cols = view.view === 'guests' ? GUEST_COLUMNS : COLUMNS;
    if (!cols.some((c) => c.key === view.sort && c.value)) { view.sort = view.view === 'guests' ? 'vmid' : 'time'; view.dir = view.view === 'guests' ? 'asc' : 'desc'; }
    table = mountTable($('#backup-table'), view.view === 'guests'
      ? { id: 'backup-guests', columns: GUEST_COLUMNS, row: guestRow, rowSelector: 'tr[data-vmid]', tie: (a, b) => (a.id < b.id ? -1 : 1),
        empty: 'No guests found', onSort: (key) => { Object.assign(view, nextSort(view, key, GUEST_COLUMNS)); changed(); } }
      : { id: 'backups', columns: PAGE_COLUMNS, row, rowSelector: 'tr[data-key]', tie: (a, b) => (a.key < b.key ? -1 : 1),
        empty: 'No backups found', onSort: (key) => { Object.assign(view, nextSort(view, key, COLUMNS)); changed(); } });
  }
  function ageOk(t) {
    const lvl = ageLevel(t);
    return view.age === 'all' || (view.age === 'fresh' ? lvl === 'fresh' : view.age === 'stale' ? lvl === 'stale' || lvl === 'old'
      : lvl === 'old' || lvl === 'none');
  }
  const nodeTable = mountNodeSummary($('#node-summary'), { kind: 'backups', view, none: 'all', changed: () => changed() });
  function draw() {
    if (!state) return;
    const all = backupRows(state), now = Date.now();
    nodeTable.set(state, all);
    const nodes = [...new Set([...(state.nodes || []).map((n) => n.node), ...(state.pbs || []).map((p) => p.name), ...all.map((r) => r.node)])].sort();
    const opts = `<option value="all">All</option>${nodes.map((n) => `<option value="${esc(n)}">${esc(n)}</option>`).join('')}`;
    if (opts !== nodeOptions) { sel.node.innerHTML = opts; nodeOptions = opts; }
    sel.node.value = nodes.includes(view.node) ? view.node : 'all';
    const match = backupMatcher(view.q, now);
    const count = (s) => all.filter((r) => r.source === s).length;
    const guests = guestSummary(state, all);
    $('#backup-summary').innerHTML = [['PVE backups', count('pve')], ['PBS backups', count('pbs')], ['Snapshots', count('snapshot')],
      ['Guests without a backup', guests.filter((g) => !g.lastBackup).length],
      [`Guests with a backup older than ${ageLimits().staleHours} h`, guests.filter((g) => ageLevel(g.lastBackup, now) === 'old').length]]
      .map(([k, v]) => `<div class="card stat"><span class="muted">${esc(k)}</span><strong>${esc(v)}</strong></div>`).join('');
    ensureTable();
    $('#backup-chart').hidden = view.view === 'guests';
    let rows;
    if (view.view === 'guests') {
      rows = guests.filter((g) => (view.type === 'all' || g.gtype === view.type) && (view.node === 'all' || g.node === view.node)
        && ageOk(g.lastBackup) && match({ name: g.name, vmid: g.vmid, node: g.node, location: '', gtype: g.gtype, source: '', note: '', time: g.lastBackup }));
      $('#backup-count').textContent = `${rows.length} of ${guests.length} guests`;
    } else {
      const chosen = all.filter((r) => (view.source === 'all' || r.source === view.source) && (view.type === 'all' || r.gtype === view.type)
        && (view.node === 'all' || r.node === view.node) && ageOk(r.time) && match(r));
      const daysHtml = daysChart(chosen, view.chart, view.day, now);
      if (daysHtml !== lastDays) {  // unchanged days stay (and keep the focus)
        $('#backup-days').innerHTML = lastDays = daysHtml;
        $('#backup-days').style.gridTemplateColumns = `repeat(${DAYS[view.chart]}, 1fr)`;
        const first = new Date(now - (DAYS[view.chart] - 1) * 86400e3);
        $('#days-axis').innerHTML = `<span>${esc(first.toLocaleDateString())}</span><span>today</span>`;
      }
      $('#day-chip').innerHTML = view.day ? `<button type="button" class="chip" id="day-clear" aria-label="Clear the date filter">` +
        `Filtered date: ${esc(new Date(`${view.day}T12:00:00`).toLocaleDateString())} ×</button>` : '';
      rows = view.day ? chosen.filter((r) => localDay(r.time) === view.day) : chosen;
      $('#backup-count').textContent = `${rows.length} of ${all.length} backups and snapshots`;
    }
    $('#backup-pager').hidden = view.view === 'guests';
    if (view.view === 'guests') { table.set(rows, view.sort, view.dir); return; }
    // A page of the list (the last one when the list shrank below the page asked for).
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    const page = Math.min(Number(view.page) || 1, pages);
    table.set(pageRows(rows, view.sort, view.dir, page, view.sort === 'time' || view.sort === 'age', now), view.sort, view.dir);
    $('#backup-showing').textContent = rows.length
      ? `Showing ${(page - 1) * PAGE + 1} - ${Math.min(page * PAGE, rows.length)} of ${rows.length} backups` : 'No backups to show';
    $('#backup-pager').dataset.page = page;
    $('#backup-pager').dataset.pages = pages;
    const prev = $('#backup-prev'), next = $('#backup-next'), had = document.activeElement;
    prev.disabled = page <= 1;
    next.disabled = page >= pages;
    // A button turned off hands the focus to the other one.
    if ((had === prev || had === next) && had.disabled) (had === prev ? next : prev).focus();
  }
  // A change of the view: back to the first page unless the page itself changed.
  function changed(keepPage) {
    if (!keepPage) view.page = '1';
    viewToUrl(view, DEFAULTS);
    for (const b of root.querySelectorAll('[data-view]')) b.setAttribute('aria-pressed', String(b.dataset.view === view.view));
    draw();
  }
  for (const k of Object.keys(sel)) sel[k].addEventListener('change', () => { view[k] = sel[k].value; changed(); });
  $('#backup-search').addEventListener('input', (ev) => {
    clearTimeout(typing);
    typing = setTimeout(() => { view.q = ev.target.value.trim(); changed(); }, 120);
  });
  root.querySelector('#backup-filters').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-view]');
    if (b && b.dataset.view !== view.view) { view.view = b.dataset.view; changed(); }
    if (ev.target.id === 'backup-reset') {
      Object.assign(view, DEFAULTS);
      for (const k of Object.keys(sel)) sel[k].value = view[k];
      for (const b of root.querySelectorAll('[data-chart]')) b.setAttribute('aria-pressed', String(b.dataset.chart === view.chart));
      $('#backup-search').value = '';
      changed();
    }
  });
  $('#backup-chart').addEventListener('click', (ev) => {
    const d = ev.target.closest('button[data-day]'), c = ev.target.closest('button[data-chart]');
    if (d) view.day = view.day === d.dataset.day ? '' : d.dataset.day;
    else if (c) view.chart = c.dataset.chart;
    else if (ev.target.closest('#day-clear')) view.day = '';
    else return;
    for (const b of root.querySelectorAll('[data-chart]')) b.setAttribute('aria-pressed', String(b.dataset.chart === view.chart));
    changed();
    // The days are drawn anew: the focus goes back to the day clicked.
    if (d) { const again = root.querySelector(`#backup-days button[data-day="${d.dataset.day}"]`); if (again) again.focus(); }
  });
  $('#backup-pager').addEventListener('click', (ev) => {
    const b = ev.target.closest('button');
    if (!b || b.disabled) return;
    view.page = String(Number($('#backup-pager').dataset.page) + (b.id === 'backup-next' ? 1 : -1));
    changed(true);
    // The new page from its start: its first rows in view.
    const top = $('#backup-table').getBoundingClientRect().top;
    if (top < 0) $('#backup-table').scrollIntoView({ block: 'start' });
  });
  const onKey = (ev) => { if (ev.key === 'Escape' && view.day) { view.day = ''; changed(); } };
  document.addEventListener('keydown', onKey);
  loadAgeLimits().then(() => { ageLabels(); draw(); });
  const errBox = $('#backups-error');
  const unwatch = watchState((st) => { state = st; draw(); }, (err) => {
    errBox.hidden = !err;
    if (err) errBox.textContent = `Cannot refresh the state: ${err.message}`;
  });
  return () => {
    unwatch(); navDown(); clearTimeout(typing); document.removeEventListener('keydown', onKey); nodeTable.destroy();
    if (table) table.destroy();
  };
}
