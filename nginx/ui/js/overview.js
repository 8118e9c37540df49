// overview.js: the Proxmox overview: the nodes table (nodesummary.js) and one table of VMs and
// containers (listpage.js: the shared state poller and table; sort, text filter, status and
// node filters in the URL query as sort, dir, q, status, node, so a view can be bookmarked),
// with its column picker (localStorage dashboardHiddenColumns) and CPU, memory and disk as bars
// or sparklines of the states the page has seen (localStorage metricsViewMode).
import { searchMatcher } from './table.js';
import { mountListPage } from './listpage.js';
import { esc, bytes, rate, uptime, bar, pctOf, whole } from './format.js';
import { mountProxmoxNav } from './proxnav.js';
import { mountOverviewNodes, nodeSelect } from './nodesummary.js';
import { get } from './api.js';

export function guestType(g) { return g.type === 'qemu' ? 'VM' : g.isOci ? 'OCI' : 'LXC'; }
function memPct(x) { return pctOf(x.memory ? x.memory.used : x.mem, x.memory ? x.memory.total : x.maxmem); }
function diskPct(x) { return x.disk && x.disk.usage >= 0 ? pctOf(x.disk.used, x.disk.total) : null; }
const running = (g) => g.status === 'running';

// The disk and network rates of a guest, in bytes a second: the column key (the URL's sort=),
// the state's field, the header and the tooltip's name.
const IO = [
  { key: 'diskRead', field: 'diskRead', label: 'D Read', title: 'Disk read' },
  { key: 'diskWrite', field: 'diskWrite', label: 'D Write', title: 'Disk write' },
  { key: 'netIn', field: 'networkIn', label: 'Net In', title: 'Network in' },
  { key: 'netOut', field: 'networkOut', label: 'Net Out', title: 'Network out' },
];
const ioValue = (g, f) => (running(g) && g[f] >= 0 ? g[f] : null);

// Columns of the guest table: key (the URL's sort=, the column picker's and
// dashboardHiddenColumns' name), header, sort value, first direction. Widths: style.css
// (--w-KEY on #guests).
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
  ...IO.map((c) => ({ key: c.key, label: c.label, value: (g) => ioValue(g, c.field), desc: true, num: true })),
];

// CPU, memory and disk (percent) of each guest over the sparklines' range (15m, 1h, 4h or 24h;
// localStorage metricsTimeRange, default 1h, as the original) in TREND_POINTS buckets of
// range/TREND_POINTS seconds each, counted from 1970 (bucket b holds [b*step, (b+1)*step)).
// Seeded from GET /api/charts (points=TREND_POINTS: the server's buckets are these), then
// each change of the state writes the guests' current values into the bucket of now (the
// latest wins). With 5,000 guests this runs for all of them on every change, so it allocates
// nothing once a guest has its slot: the points are in one Float32Array (a slot of 3 rings per
// guest: cpu, memory, disk; bucket b at b % TREND_POINTS; NaN: not running, no data) grown by
// doubling, with the newest bucket written and the last change seen of each slot in arrays
// beside it; a guest gone from the state frees its slot.
const TREND_POINTS = 30, SLOT = 3 * TREND_POINTS;
const TREND_AT = { cpu: 0, memory: TREND_POINTS, disk: 2 * TREND_POINTS };
const RANGES = { '15m': 900, '1h': 3600, '4h': 14400, '24h': 86400 };
const RANGE_KEY = 'metricsTimeRange';
let range = '1h', step = RANGES[range] / TREND_POINTS, nowBucket = 0;
const slots = new Map();  // guest id -> slot
const freeSlots = [];
let points = new Float32Array(0), newest = new Float64Array(0), seenAt = new Uint32Array(0);
let remembered = null, generation = 0;
const bucketOf = (ms) => Math.floor(ms / 1000 / step);
function newSlot() {
  if (freeSlots.length) return freeSlots.pop();
  const s = slots.size;  // every slot below it is in use
  if (s >= newest.length) {
    const cap = Math.max(64, newest.length * 2);
    const grow = (old, Type, n) => { const a = new Type(n); a.set(old); return a; };
    points = grow(points, Float32Array, cap * SLOT);
    newest = grow(newest, Float64Array, cap);
    seenAt = grow(seenAt, Uint32Array, cap);
  }
  return s;
}
function slotOf(id) {
  let s = slots.get(id);
  if (s === undefined) {
    slots.set(id, s = newSlot());
    newest[s] = -Infinity;
  }
  return s;
}
// Moves slot s on to bucket b (the buckets in between, and those it drops, emptied); false
// when b is older than the slot's window.
function reach(s, b) {
  const top = newest[s];
  if (b <= top) return b > top - TREND_POINTS;
  const from = Math.max(top + 1, b - TREND_POINTS + 1), base = s * SLOT;
  for (let k = from; k <= b; k++) {
    const at = base + (k % TREND_POINTS);
    points[at] = points[at + TREND_POINTS] = points[at + 2 * TREND_POINTS] = NaN;
  }
  newest[s] = b;
  return true;
}
function remember(st) {
  if (st === remembered) return;  // the same state again (the page mounted anew)
  remembered = st;
  generation++;
  nowBucket = bucketOf(Date.now());
  let seen = 0;
  for (const list of [st.vms, st.containers]) {
    if (!list) continue;
    for (let i = 0; i < list.length; i++) {
      const g = list[i], s = slotOf(g.id);
      reach(s, nowBucket);
      const up = running(g), at = s * SLOT + (nowBucket % TREND_POINTS);
      points[at] = up ? (g.cpu || 0) * 100 : NaN;
      points[at + TREND_POINTS] = up ? memPct(g) ?? NaN : NaN;
      points[at + 2 * TREND_POINTS] = diskPct(g) ?? NaN;
      seenAt[s] = generation;
      seen++;
    }
  }
  if (slots.size > seen) {
    for (const [id, s] of slots) if (seenAt[s] !== generation) { slots.delete(id); freeSlots.push(s); }
  }
}
// The history of the range from GET /api/charts, written under what the page has seen (a
// bucket the page already holds keeps its value). Resolves when done (false: not asked, or
// the answer came too late for the range).
let seeded = '', seeding = null;
function seed() {
  if (seeded === range) return Promise.resolve(false);
  const want = range;
  seeded = want;
  seeding = get(`/api/charts?range=${want}&points=${TREND_POINTS}&metrics=cpu,memory,disk`).then((res) => {
    if (range !== want) return false;
    const data = (res.body && res.body.data) || {};
    for (const id of Object.keys(data)) {
      const s = slotOf(id);  // a guest gone from the state loses it at the next change
      const m = data[id], held = newest[s];
      for (const [metric, off] of Object.entries(TREND_AT)) {
        for (const p of m[metric] || []) {
          const b = bucketOf(p.timestamp);
          if (b >= held - TREND_POINTS + 1 && b <= held && !Number.isNaN(points[s * SLOT + off + (b % TREND_POINTS)])) continue;
          if (!reach(s, b) || !(p.value >= 0)) continue;
          points[s * SLOT + off + (b % TREND_POINTS)] = p.value;
        }
      }
    }
    return true;
  }).catch(() => { if (seeded === want) seeded = ''; return false; });
  return seeding;
}
// A new range: what the page holds was bucketed for the old one.
function setRange(r) {
  range = r;
  step = RANGES[r] / TREND_POINTS;
  nowBucket = bucketOf(Date.now());
  for (const s of slots.values()) newest[s] = -Infinity;
  const st = remembered;
  remembered = null;
  if (st) remember(st);
}

// A sparkline cell (reference/ui.md §2.2 "Bars vs sparklines"): the guest's trend of metric
// over the range as a line on a 0-100 % scale, a bucket every range/30, the newest at the right
// edge, and the current value beside it, coloured from warn and crit. pct is the current
// value (null: "-").
const SPARK_W = 56, SPARK_H = 16;
function sparkCell(g, metric, name, pct, title, warn, crit) {
  if (pct == null || !(pct >= 0)) return '<span class="muted">-</span>';
  const s = slots.get(g.id);
  // d: the line; area: the same closed down to the bottom, run by run (NaN breaks a run).
  let d = '', area = '', run = 0, lastX = '', k = 0, lo = Infinity, hi = -Infinity;
  const close = () => { if (run) area += `L${lastX} ${SPARK_H}Z`; run = 0; };
  if (s !== undefined) {
    const off = s * SLOT + TREND_AT[metric], top = newest[s];
    for (let i = 0; i < TREND_POINTS; i++) {
      const b = nowBucket - TREND_POINTS + 1 + i;
      const v = b > top || b <= top - TREND_POINTS ? NaN : points[off + (b % TREND_POINTS)];
      if (Number.isNaN(v)) { close(); continue; }
      const x = ((i * SPARK_W) / (TREND_POINTS - 1)).toFixed(1);
      const y = (SPARK_H - 1 - (Math.min(100, Math.max(0, v)) * (SPARK_H - 2)) / 100).toFixed(1);
      d += `${run ? 'L' : 'M'}${x} ${y}`;
      area += run ? `L${x} ${y}` : `M${x} ${SPARK_H}L${x} ${y}`;
      run++;
      lastX = x;
      k++;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    close();
  }
  const level = pct >= crit ? 'crit' : pct >= warn ? 'warn' : 'ok';
  const span = k >= 2 ? `, over the last ${range} ${lo.toFixed(0)} to ${hi.toFixed(0)}%` : '';
  return `<div class="spark-cell" title="${esc(title + span)}">` +
    `<svg class="spark" viewBox="0 0 ${SPARK_W} ${SPARK_H}" width="${SPARK_W}" height="${SPARK_H}" role="img" aria-label="${name} ${pct.toFixed(0)}%${span}">` +
    `<rect class="track" width="${SPARK_W}" height="${SPARK_H}" rx="2"/>` +
    `${k >= 2 ? `<path class="area" d="${area}"/><path class="line" d="${d}"/>` : ''}</svg><span class="${level}">${pct.toFixed(0)}%</span></div>`;
}

// A rate in bytes a second (reference/ui.md §2.2): grey below 1 MiB/s, green below 10, yellow
// below 50, red from 50; "-" when the guest is not running or the rate is not known.
const MiB = 1048576;
export function rateCell(x, field, name) {
  const n = x[field];
  if (!running(x) || !(n >= 0)) return '<span class="muted">-</span>';
  const level = n < MiB ? 'idle' : n < 10 * MiB ? 'ok' : n < 50 * MiB ? 'warn' : 'crit';
  return `<span class="io ${level}" title="${name}: ${rate(n)} (${whole(n)} bytes a second)">${rate(n)}</span>`;
}

// The search box (reference/ui.md §2.6, in part): terms split on commas; a term with an
// operator (cpu>80, memory<=20, uptime>3600) or a field (node:pve1, name:web, tags:prod) is a
// filter, and every filter must hold; the plain words match name, VMID, node or status, any
// of them.
const METRICS = {
  cpu: (g) => (g.cpu || 0) * 100, memory: (g) => memPct(g) ?? 0, disk: (g) => diskPct(g) ?? 0,
  uptime: (g) => (running(g) ? g.uptime : 0),
  diskread: (g) => ioValue(g, 'diskRead') ?? 0, diskwrite: (g) => ioValue(g, 'diskWrite') ?? 0,
  networkin: (g) => ioValue(g, 'networkIn') ?? 0, networkout: (g) => ioValue(g, 'networkOut') ?? 0,
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

// How the CPU, Memory and Disk columns look: 'bars' or 'sparklines' (localStorage
// metricsViewMode, as the original; the toggle in the filter bar).
const MODE_KEY = 'metricsViewMode';
let mode = 'bars';

function guestRow(g) {
  const up = running(g);
  let metrics;
  if (mode === 'sparklines') {
    const cpu = up ? (g.cpu || 0) * 100 : null, cores = g.cpus;
    const used = g.memory ? g.memory.used : g.mem, total = g.memory ? g.memory.total : g.maxmem;
    const disk = diskPct(g);
    // Colours of the sparkline's value: reference/ui.md §2.3 (memory: the generic 75/85 %).
    metrics = `<td>${sparkCell(g, 'cpu', 'CPU', cpu, `${(cpu || 0).toFixed(1)}%${cores ? ` of ${cores} cores` : ''}`, 80, 90)}</td>` +
      `<td>${sparkCell(g, 'memory', 'Memory', up && total > 0 ? memPct(g) : null, `${bytes(used)} of ${bytes(total)}`, 75, 85)}</td>` +
      `<td>${disk == null ? diskCell(g) : sparkCell(g, 'disk', 'Disk', disk, `${bytes(g.disk.used)} of ${bytes(g.disk.total)}`, 80, 90)}</td>`;
  } else {
    metrics = `<td>${cpuCell(g)}</td><td>${memCell(g)}</td><td>${diskCell(g)}</td>`;
  }
  let io = '';
  for (const c of IO) io += `<td class="num">${rateCell(g, c.field, c.title)}</td>`;
  return `<tr data-vmid="${g.vmid}" data-id="${esc(g.id)}" class="${up ? '' : 'stopped'}">` +
    `<td class="name"><a href="proxmox/guest/${encodeURIComponent(g.id)}" data-link>${esc(g.name)}</a>${g.lock ? ` <span class="badge warn">Lock: ${esc(g.lock)}</span>` : ''}</td>` +
    `<td><span class="type ${guestType(g).toLowerCase()}">${guestType(g)}</span></td>` +
    `<td class="num">${g.vmid}</td><td>${esc(g.node)}</td><td>${statusCell(g.status)}</td>` +
    `${metrics}<td class="num">${up ? uptime(g.uptime) : '-'}</td>${io}</tr>`;
}

// Grouped or List (reference/ui.md §2.5; localStorage dashboardGrouping, 'grouped' or 'list'):
// grouped, each node's guests come under a heading row (status dot, the node's name linking
// to its detail view, cluster and host-agent badges, its count of guests shown), nodes by
// name, the sort within each node. List by default: a sort orders the whole list.
const GROUP_KEY = 'dashboardGrouping';
let grouping = 'list', nodesByKey = new Map();
const nodeKey = (instance, node) => `${instance || ''}\u001f${node || ''}`;
function groupHead(k, n) {
  const node = nodesByKey.get(k);
  const name = k.slice(k.indexOf('\u001f') + 1);
  const status = node ? node.status : 'unknown';
  const link = node ? `<a href="proxmox/node/${encodeURIComponent(node.id)}" data-link>${esc(name)}</a>` : esc(name);
  const badges = (node && node.clusterName ? ` <span class="badge">${esc(node.clusterName)}</span>` : '') +
    (node && node.linkedHostAgentId ? ' <span class="badge agent">+ Host Agent</span>' : '');
  return `<tr class="group" data-group="${esc(k)}"><td colspan="${COLUMNS.length}"><span class="dot ${esc(status)}" title="${esc(status)}"></span>` +
    `${link}${badges} <span class="muted">${n} ${n === 1 ? 'guest' : 'guests'}</span></td></tr>`;
}
const GROUPS = {
  key: (g) => nodeKey(g.instance, g.node),
  compare: (a, b) => {
    const x = a.slice(a.indexOf('\u001f') + 1), y = b.slice(b.indexOf('\u001f') + 1);
    return x.localeCompare(y, undefined, { numeric: true }) || (a < b ? -1 : a > b ? 1 : 0);
  },
  head: groupHead,
};

// The column picker (reference/ui.md §2.2): which columns are hidden, kept in localStorage
// dashboardHiddenColumns (a JSON array of column keys, as the original); Name always shows.
// Hidden by rules in a stylesheet the page owns (table.js draws every column): the <col>
// collapsed (its width out of the fixed layout, the other columns keeping theirs and the
// spacer rows' colspan still spanning the table) and the header and cells hidden (out of the
// Tab order and the accessibility tree); the table widened by the hidden columns' widths,
// which the collapse takes off again, so that the Name column gets the room and the table's
// minimum width shrinks by them. A hidden column still sorts (sort= in the URL).
const HIDE_KEY = 'dashboardHiddenColumns';
const HIDEABLE = COLUMNS.filter((c) => c.key !== 'name');
function stored(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}
function store(key, value) {
  try { localStorage.setItem(key, value); } catch { /* storage off: the choice lasts for the page */ }
}
function storedHidden() {
  let list;
  try { list = JSON.parse(stored(HIDE_KEY) || '[]'); } catch { list = []; }
  return new Set(Array.isArray(list) ? list.filter((k) => HIDEABLE.some((c) => c.key === k)) : []);
}
function hideRules(hidden) {
  const rules = [];
  let widths = '';
  COLUMNS.forEach((c, i) => {
    if (!hidden.has(c.key)) return;
    rules.push(`#guests col.c-${c.key} { visibility: collapse; }`,
      `#guests th:nth-child(${i + 1}), #guests td:nth-child(${i + 1}) { visibility: hidden; }`);
    widths += ` + var(--w-${c.key})`;
  });
  if (widths) rules.push(`#guests { width: calc(100%${widths}); }`);
  return rules;
}

// The filter bar's Bars/Sparklines toggle and Columns button (a disclosure of the picker's
// panel of checkboxes: a second click or Escape closes it), added to the list page's bar.
function mountViewControls(root, redraw) {
  const filters = root.querySelector('.filters'), count = root.querySelector('#guests-count');
  const hidden = storedHidden();
  count.insertAdjacentHTML('beforebegin', `<div class="ranges viewmode" role="group" aria-label="CPU, memory and disk as">` +
    ['bars', 'sparklines'].map((m) => `<button type="button" data-mode="${m}" aria-pressed="${m === mode}">${m === 'bars' ? 'Bars' : 'Sparklines'}</button>`).join('') +
    `</div><div class="ranges spark-range" role="group" aria-label="Sparklines over"${mode === 'sparklines' ? '' : ' hidden'}>` +
    Object.keys(RANGES).map((r) => `<button type="button" data-range="${r}" aria-pressed="${r === range}">${r}</button>`).join('') +
    '</div><div class="ranges grouping" role="group" aria-label="Guests">' +
    ['grouped', 'list'].map((m) => `<button type="button" data-grouping="${m}" aria-pressed="${m === grouping}">${m === 'grouped' ? 'Grouped' : 'List'}</button>`).join('') +
    '</div><button type="button" id="guests-columns" class="secondary" aria-expanded="false" aria-controls="guests-columns-panel">' +
    'Columns<span class="muted" id="guests-columns-hidden"></span></button>');
  filters.insertAdjacentHTML('beforeend', '<fieldset id="guests-columns-panel" class="colpanel" hidden><legend class="sr-only">Columns shown</legend>' +
    '<label class="check"><input type="checkbox" checked disabled> Name</label>' +
    HIDEABLE.map((c) => `<label class="check"><input type="checkbox" name="column" value="${c.key}"${hidden.has(c.key) ? '' : ' checked'}> ${esc(c.label)}</label>`).join('') +
    '<button type="button" class="secondary" id="guests-columns-all">Show all</button></fieldset>');
  const button = root.querySelector('#guests-columns'), panel = root.querySelector('#guests-columns-panel');
  const style = document.createElement('style');
  style.id = 'guests-columns-css';
  document.head.append(style);
  function apply() {
    const sheet = style.sheet;
    while (sheet.cssRules.length) sheet.deleteRule(0);
    for (const r of hideRules(hidden)) sheet.insertRule(r, sheet.cssRules.length);
    root.querySelector('#guests-columns-hidden').textContent = hidden.size ? ` (${hidden.size} hidden)` : '';
    for (const box of panel.querySelectorAll('input[name=column]')) box.checked = !hidden.has(box.value);
  }
  function save() {
    store(HIDE_KEY, JSON.stringify(HIDEABLE.filter((c) => hidden.has(c.key)).map((c) => c.key)));
    apply();
  }
  function open(on) {
    panel.hidden = !on;
    button.setAttribute('aria-expanded', String(on));
  }
  button.addEventListener('click', () => open(panel.hidden));
  panel.addEventListener('change', (ev) => {
    const box = ev.target.closest('input[name=column]');
    if (!box) return;
    if (box.checked) hidden.delete(box.value); else hidden.add(box.value);
    save();
  });
  root.querySelector('#guests-columns-all').addEventListener('click', () => { hidden.clear(); save(); });
  // Escape in the panel or on its button closes it (and goes no further: the node summary's
  // Escape would clear the node filter).
  filters.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape' || panel.hidden || !(ev.target === button || panel.contains(ev.target))) return;
    ev.preventDefault();
    ev.stopPropagation();
    open(false);
    button.focus();
  });
  filters.querySelector('.viewmode').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-mode]');
    if (!b || b.dataset.mode === mode) return;
    mode = b.dataset.mode;
    store(MODE_KEY, mode);
    for (const x of filters.querySelectorAll('.viewmode button')) x.setAttribute('aria-pressed', String(x.dataset.mode === mode));
    filters.querySelector('.spark-range').hidden = mode !== 'sparklines';
    redraw();
    if (mode === 'sparklines') seed().then((done) => { if (done) redraw(); });
  });
  filters.querySelector('.spark-range').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-range]');
    if (!b || b.dataset.range === range) return;
    setRange(b.dataset.range);
    store(RANGE_KEY, range);
    for (const x of filters.querySelectorAll('.spark-range button')) x.setAttribute('aria-pressed', String(x.dataset.range === range));
    redraw();
    seed().then((done) => { if (done) redraw(); });
  });
  filters.querySelector('.grouping').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-grouping]');
    if (!b || b.dataset.grouping === grouping) return;
    grouping = b.dataset.grouping;
    store(GROUP_KEY, grouping);
    for (const x of filters.querySelectorAll('.grouping button')) x.setAttribute('aria-pressed', String(x.dataset.grouping === grouping));
    redraw();
  });
  apply();
  return () => style.remove();
}

export function mount(root, ctx) {
  mode = stored(MODE_KEY) === 'sparklines' ? 'sparklines' : 'bars';
  grouping = stored(GROUP_KEY) === 'grouped' ? 'grouped' : 'list';
  const r = stored(RANGE_KEY);
  if (RANGES[r] && r !== range) setRange(r);
  const down = mountListPage(root, {
    id: 'guests', columns: COLUMNS, row: guestRow, rowSelector: 'tr[data-vmid]', fixed: true,
    tie: (a, b) => a.vmid - b.vmid, empty: 'No guests found', noun: 'guests',
    placeholder: 'Search or filter: web, node:pve1, cpu>80',
    defaults: { sort: 'vmid', dir: 'asc', status: 'all', q: '', node: '' },
    selects: [{ key: 'status', label: 'Status', options: [['all', 'All'], ['running', 'Running'], ['stopped', 'Stopped']] }, nodeSelect()],
    onState: (st) => {
      remember(st);
      nodesByKey = new Map((st.nodes || []).map((n) => [nodeKey(n.instance, n.node), n]));
    },
    groups: () => (grouping === 'grouped' ? GROUPS : null),
    rows(st, view) {
      const all = [...(st.vms || []), ...(st.containers || [])];
      const match = parseSearch(view.q);
      return { total: all.length,
        rows: all.filter((g) => (view.status === 'all' || (view.status === 'running') === running(g)) && (!view.node || g.node === view.node) && match(g)) };
    },
  });
  // The list page redraws on a change of its view; the status select's change event (its
  // value unchanged) is the way to ask it to redraw the rows in the other mode.
  const controlsDown = mountViewControls(root, () => down.refresh());
  // The sparklines' history, once per range (the page's own samples go on meanwhile).
  if (mode === 'sparklines') seed().then((done) => { if (done) down.refresh(); });
  // A click anywhere on a guest's row opens its detail view (its name is the link, for the
  // keyboard and for opening in a new tab).
  root.querySelector('#guests-list').addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr[data-id]');
    if (tr && !ev.target.closest('a') && !window.getSelection().toString()) ctx.navigate(`proxmox/guest/${encodeURIComponent(tr.dataset.id)}`);
  });
  const navDown = mountProxmoxNav(root, 'proxmox/overview');
  const nodesDown = mountOverviewNodes(root.querySelector('#guests-above'), root.querySelector('#guests-node'));
  return () => { navDown(); nodesDown(); controlsDown(); down(); };
}
