// nodesummary.js: the node summary table of the Proxmox overview, storage and backups pages
// (reference/ui.md §2.1): Node · Status · Uptime · CPU · Memory · Disk · Temp (shown only while
// a node reports a temperature; red from the alert trigger, yellow 5 °C below it) and the page's counts
// (VMs · CTs on the overview, Storage · Disks on storage, Backups on backups, where the
// column is "Node / PBS" and the Backup Servers are rows too). Every header sorts (the URL's
// nsort and ndir, apart from the page's own list's sort); a node's name opens its detail view
// (a PBS's name its own web UI); a click on a row elsewhere (or Space on a focused row)
// filters the page to that node by name (the page's `node` key in the URL), marked on the
// row; the same again, Escape or the "Node: … ×" chip clears it. Drawn through table.js, so a
// new state updates the rows, never the whole card. Also the overview's connection banner.
import { watchState } from './state.js';
import { mountTable, nextSort, viewFromUrl, viewToUrl } from './table.js';
import { esc, uptime, pctOf, temp } from './format.js';
import { get } from './api.js';
import { cpuCell, memCell, diskCell, statusCell } from './overview.js';

// The view keys of the node table (the page adds them to its defaults), and their check for
// table.js viewFromUrl on a page of kind: true or false for these keys, undefined for the
// page's others.
export const NODE_VIEW = { nsort: 'name', ndir: 'asc' };
export function nodeViewOk(kind, k, v) {
  if (k === 'nsort') return columnsOf(kind).some((c) => c.key === v);
  if (k === 'ndir') return v === 'asc' || v === 'desc';
  return undefined;
}

// Whether a row of a page belongs to the node (or PBS) named name: the filter and the counts
// (summaryRows) use the same rule, so a row's count is what a click on it leaves in the list.
const nodesOfStorage = (s) => (s.nodes && s.nodes.length ? s.nodes : [s.node]);
export const onNode = {
  guest: (g, name) => g.node === name,
  storage: (s, name) => nodesOfStorage(s).includes(name),
  disk: (d, name) => d.node === name,
  backup: (r, name) => r.node === name,
};

const online = (r) => r.status === 'online';
const COUNTS = {
  guests: [{ key: 'vms', label: 'VMs' }, { key: 'cts', label: 'CTs' }],
  storage: [{ key: 'storage', label: 'Storage' }, { key: 'disks', label: 'Disks' }],
  backups: [{ key: 'backups', label: 'Backups' }],
};
function columnsOf(kind) {
  return [
    { key: 'name', label: kind === 'backups' ? 'Node / PBS' : 'Node', value: (r) => r.name.toLowerCase() },
    { key: 'status', label: 'Status', value: (r) => r.status },
    { key: 'uptime', label: 'Uptime', value: (r) => (online(r) ? r.uptime || 0 : null), desc: true },
    { key: 'cpu', label: 'CPU', value: (r) => (online(r) ? r.cpu || 0 : null), desc: true },
    { key: 'memory', label: 'Memory', value: (r) => (online(r) && r.memory ? pctOf(r.memory.used, r.memory.total) : null), desc: true },
    { key: 'disk', label: 'Disk', value: (r) => (r.disk && r.disk.total > 0 ? pctOf(r.disk.used, r.disk.total) : null), desc: true },
    { key: 'temp', label: 'Temp', cls: 'temp', num: true, value: (r) => r.temp, desc: true },
    ...COUNTS[kind].map((c) => ({ ...c, num: true, desc: true, value: (r) => r.counts[c.key] })),
  ];
}

// The table's rows: the PVE nodes (and on the backups page the Backup Servers) with the
// page's counts; on is the node the page is filtered to.
function summaryRows(st, kind, extra, on) {
  // Per name, how many of each count's rows are on it (one pass over each list: a state of
  // 5,000 guests is counted in a few milliseconds).
  const per = {};
  const tally = (key, list, namesOf) => {
    const m = per[key] = new Map();
    for (const x of list) for (const n of namesOf(x)) m.set(n, (m.get(n) || 0) + 1);
  };
  if (kind === 'guests') {
    tally('vms', st.vms || [], (g) => (g.type === 'qemu' ? [g.node] : []));
    tally('cts', [...(st.vms || []), ...(st.containers || [])], (g) => (g.type !== 'qemu' ? [g.node] : []));
  } else if (kind === 'storage') {
    tally('storage', st.storage || [], nodesOfStorage);
    tally('disks', st.physicalDisks || [], (d) => [d.node]);
  } else {
    tally('backups', extra || [], (r) => [r.node]);
  }
  const counts = (name) => Object.fromEntries(COUNTS[kind].map((c) => [c.key, per[c.key].get(name) || 0]));
  const rows = (st.nodes || []).map((n) => ({
    id: n.id, kind: 'node', name: n.displayName || n.node, node: n.node, cluster: n.clusterName, status: n.status,
    uptime: n.uptime, cpu: n.cpu, cpuInfo: n.cpuInfo, memory: n.memory, disk: n.disk,
    href: `proxmox/node/${encodeURIComponent(n.id)}`, counts: counts(n.node), on: n.node === on,
    temp: online(n) ? nodeTemp(n) : null, agent: !!n.linkedHostAgentId,
  }));
  if (kind === 'backups') {
    for (const p of st.pbs || []) {
      const stores = p.datastores || [];
      const total = stores.reduce((k, d) => k + (d.total || 0), 0), used = stores.reduce((k, d) => k + (d.used || 0), 0);
      const url = p.guestURL || p.host || '';
      rows.push({
        id: p.id, kind: 'pbs', name: p.name, node: p.name, version: p.version, status: p.status, uptime: p.uptime,
        cpu: (p.cpu || 0) / 100, memory: { used: p.memoryUsed, total: p.memoryTotal },
        disk: total > 0 ? { used, total, usage: pctOf(used, total) } : null,
        href: /^https?:\/\//i.test(url) ? url : '', counts: counts(p.name), on: p.name === on,
      });
    }
  }
  return rows;
}

// A node's temperature (°C): the CPU package's, else the hottest core's; null when it reports none.
export function nodeTemp(n) {
  const t = n.temperature;
  if (!t || !t.available) return null;
  const v = t.cpuPackage > 0 ? t.cpuPackage : t.cpuMax > 0 ? t.cpuMax : null;
  return v == null ? null : v;
}
// The node temperature alert's trigger (°C): the alert configuration's nodeDefaults, read once
// per page when a node first reports a temperature; 80 (the default) until then or without it.
let tempTrigger = 80, triggerAsked = false;
function askTrigger(redraw) {
  if (triggerAsked) return;
  triggerAsked = true;
  get('/api/alerts/config').then((res) => {
    const t = res.body && res.body.nodeDefaults && res.body.nodeDefaults.temperature;
    if (t && t.trigger > 0 && t.trigger !== tempTrigger) { tempTrigger = t.trigger; redraw(); }
  }).catch(() => {});
}
function tempCell(r) {
  if (r.temp == null) return '<td class="num temp"><span class="muted">-</span></td>';
  const level = r.temp >= tempTrigger ? 'text-crit' : r.temp >= tempTrigger - 5 ? 'text-warn' : '';
  return `<td class="num temp${level ? ` ${level}` : ''}" title="alert at ${temp(tempTrigger)}">${temp(r.temp)}</td>`;
}

function nameCell(r) {
  const link = r.kind === 'pbs'
    ? (r.href ? `<a href="${esc(r.href)}" target="_blank" rel="noopener noreferrer" title="Open ${esc(r.name)}'s web interface">${esc(r.name)}</a>` : esc(r.name))
    : `<a href="${esc(r.href)}" data-link>${esc(r.name)}</a>`;
  let badge = r.kind === 'pbs' ? ' <span class="badge src-pbs">PBS</span>' : r.cluster ? ` <span class="badge">${esc(r.cluster)}</span>` : '';
  if (r.agent) badge += ' <span class="badge agent" title="A Pulse host agent reports from this node">+ Host Agent</span>';
  return `<td class="name">${link}${badge}</td>`;
}
function rowHtml(kind) {
  const counts = COUNTS[kind];
  return (r) => `<tr data-id="${esc(r.id)}" data-node="${esc(r.node)}" data-kind="${r.kind}" class="${online(r) ? '' : 'down'}${r.on ? ' on' : ''}"` +
    ` aria-selected="${r.on}" title="${r.on ? 'Click again or press Escape to show every node' : `Click to show only ${esc(r.name)}`}">` +
    `${nameCell(r)}<td>${statusCell(r.status)}</td><td>${online(r) ? uptime(r.uptime) : '-'}</td>` +
    `<td>${cpuCell(r)}</td><td>${memCell(r)}</td><td>${diskCell(r)}</td>${tempCell(r)}` +
    `${counts.map((c) => `<td class="num" data-count="${c.key}">${r.counts[c.key]}</td>`).join('')}</tr>`;
}

// The node summary in el. opts:
//   kind     'guests' (overview), 'storage' or 'backups'
//   view     the page's view: nsort, ndir (NODE_VIEW) and node, which this table changes
//   none     the node key's value for "every node" ('' or the page's 'all')
//   changed  called after this table changed the view: the page writes its URL and redraws
//            (calling set again; when it does not, the table redraws itself)
// Returns {set(st, extra), destroy()}: set draws the state's nodes (extra: the backups page's
// rows, which it counts per node).
export function mountNodeSummary(el, opts) {
  const { kind, view } = opts, none = opts.none ?? '';
  const columns = columnsOf(kind);
  el.innerHTML = `<section class="card node-summary">
    <div class="card-head"><h2>${kind === 'backups' ? 'Nodes and Backup Servers' : 'Nodes'}</h2><span class="node-chip"></span></div>
    <div class="node-table"></div>
    <p class="muted node-none" hidden>Add a Proxmox VE node under <a href="settings/proxmox" data-link>Settings → Proxmox</a>.</p></section>`;
  const chip = el.querySelector('.node-chip'), hint = el.querySelector('.node-none'), card = el.querySelector('.node-summary');
  let st = null, extra = null, draws = 0, chipHtml = '';
  const table = mountTable(el.querySelector('.node-table'), {
    id: 'nodes', columns, row: rowHtml(kind), rowSelector: 'tr[data-id]', tie: (a, b) => (a.id < b.id ? -1 : 1),
    empty: 'No Proxmox VE nodes configured yet',
    onSort: (key) => {
      const n = nextSort({ sort: view.nsort, dir: view.ndir }, key, columns);
      view.nsort = n.sort; view.ndir = n.dir;
      act();
    },
  });
  function draw() {
    draws++;
    if (!st) return;
    const rows = summaryRows(st, kind, extra, view.node === none ? null : view.node);
    const temps = rows.some((r) => r.temp != null);
    if (temps) askTrigger(draw);
    card.classList.toggle('has-temp', temps);
    table.set(rows, view.nsort, view.ndir);
    hint.hidden = (st.nodes || []).length > 0;
    const html = view.node !== none ? `<button type="button" class="chip" data-node-clear aria-label="Show every node (clear the node filter)">` +
      `Node: ${esc(view.node)} ×</button>` : '';
    if (html !== chipHtml) chip.innerHTML = chipHtml = html;  // unchanged, it stays (and keeps the focus)
  }
  function act() {
    const before = draws;
    opts.changed();
    if (draws === before) draw();
  }
  function toggle(name) {
    view.node = view.node === name ? none : name;
    act();
  }
  const box = el.querySelector('.node-table');
  box.addEventListener('click', (ev) => {
    const tr = ev.target.closest('tbody tr[data-node]');
    if (tr && !ev.target.closest('a') && !window.getSelection().toString()) toggle(tr.dataset.node);
  });
  box.addEventListener('keydown', (ev) => {
    const tr = ev.target.closest('tbody tr[data-node]');
    if (tr && ev.target === tr && ev.key === ' ') { ev.preventDefault(); toggle(tr.dataset.node); }
  });
  chip.addEventListener('click', (ev) => { if (ev.target.closest('[data-node-clear]')) toggle(view.node); });
  const onKey = (ev) => {
    if (ev.key === 'Escape' && view.node !== none && !/^(INPUT|SELECT|TEXTAREA)$/.test(ev.target.tagName)) toggle(view.node);
  };
  document.addEventListener('keydown', onKey);
  return {
    set(state, more) { st = state; extra = more; draw(); },
    destroy() { document.removeEventListener('keydown', onKey); table.destroy(); },
  };
}

// The Proxmox connections (PVE, PBS, PMG instances) the state reports as failing; the agents'
// entries (host-, docker-, kubernetes-) are the other pages' business.
export function connectionBanner(st) {
  const down = Object.entries(st.connectionHealth || {})
    .filter(([k, ok]) => !ok && !/^(host|docker|kubernetes)-/.test(k)).map(([k]) => k).sort();
  return down.length ? `<p class="banner error" role="status" id="connection-down">Not reachable: ${down.map(esc).join(', ')}</p>` : '';
}

// The overview's filter select of nodes (for its list page's selects): All, and the node the
// URL names (so a bookmarked view keeps it before the state says which nodes there are).
export function nodeSelect() {
  const asked = new URLSearchParams(location.search).get('node');
  return { key: 'node', label: 'Node', options: [['', 'All'], ...(asked ? [[asked, asked]] : [])] };
}

// The overview's card in el: the connection banner and the node summary, whose node filter is
// the guest list's Node select (the list page's, key node): a click on a row picks the node
// there (the select's change event: the list page filters and writes the URL), and a change
// of the select marks the row. Returns the function that takes it down.
export function mountOverviewNodes(el, select) {
  el.innerHTML = '<div class="connection"></div><div class="nodes"></div>';
  const banner = el.querySelector('.connection');
  const view = { ...viewFromUrl(NODE_VIEW, (k, v) => nodeViewOk('guests', k, v)), node: select.value };
  let options = '', lastBanner = null;
  const nodes = mountNodeSummary(el.querySelector('.nodes'), {
    kind: 'guests', view, none: '',
    changed() {
      viewToUrl(view, NODE_VIEW);
      if (select.value !== view.node) {
        if (![...select.options].some((o) => o.value === view.node)) select.add(new Option(view.node, view.node));
        select.value = view.node;
        select.dispatchEvent(new Event('change'));
      }
    },
  });
  let state = null;
  const follow = () => { if (view.node !== select.value) { view.node = select.value; if (state) nodes.set(state); } };
  select.addEventListener('change', follow);
  const unwatch = watchState((st) => {
    state = st;
    const html = connectionBanner(st);
    if (html !== lastBanner) banner.innerHTML = lastBanner = html;
    const names = [...new Set((st.nodes || []).map((n) => n.node))].sort();
    if (view.node && !names.includes(view.node)) names.push(view.node);
    const opts = `<option value="">All</option>${names.map((n) => `<option value="${esc(n)}">${esc(n)}</option>`).join('')}`;
    if (opts !== options) { select.innerHTML = options = opts; select.value = view.node; }
    nodes.set(st);
  });
  return () => { unwatch(); select.removeEventListener('change', follow); nodes.destroy(); };
}
