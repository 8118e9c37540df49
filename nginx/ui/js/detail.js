// detail.js: the detail views of one resource: a guest (proxmox/guest/<id>), a node
// (proxmox/node/<id>), a storage (proxmox/storage/<id>) and an agent host (hosts/<id>), ids
// as /api/state spells them. Current figures from the shared state poller (state.js), history
// charts from GET /api/metrics-store/history (chart.js over uPlot, loaded when the page is),
// a range picker 1h · 6h · 24h · 7d · 30d · 90d kept in the URL (?range=); a guest also shows
// its backups, snapshots and active alerts.
import { get } from './api.js';
import { viewFromUrl, viewToUrl } from './table.js';
import { esc, bytes, uptime, bar, pctOf, ago, when as whenText } from './format.js';
import { cpuCell, memCell, diskCell, statusCell, guestType } from './overview.js';
import { mountProxmoxNav } from './proxnav.js';
import { ageCell, loadAgeLimits } from './backupage.js';
import { watchState, currentState } from './state.js';

export const RANGES = ['1h', '6h', '24h', '7d', '30d', '90d'];
const HISTORY_MS = 30000;  // the history is asked again this often

// The charts of each kind: id, title, unit, series [metric, label, colour variable].
const CPU = { id: 'cpu', title: 'CPU', unit: 'pct', series: [['cpu', 'CPU', '--accent']] };
const MEM = { id: 'memory', title: 'Memory', unit: 'pct', series: [['memory', 'Memory', '--oci']] };
const DISK = { id: 'disk', title: 'Disk', unit: 'pct', series: [['disk', 'Disk', '--warn']] };
const NET = { id: 'net', title: 'Network', unit: 'Bps', series: [['netin', 'In', '--ok'], ['netout', 'Out', '--accent']] };
const IO = { id: 'io', title: 'Disk I/O', unit: 'Bps', series: [['diskread', 'Read', '--ok'], ['diskwrite', 'Write', '--crit']] };
const KINDS = {
  guest: { charts: [CPU, MEM, DISK, NET, IO], nav: 'proxmox/overview' },
  node: { type: 'node', charts: [CPU, MEM, DISK], nav: 'proxmox/overview' },
  storage: { type: 'storage', nav: 'proxmox/storage', charts: [
    { id: 'usage', title: 'Usage', unit: 'pct', series: [['usage', 'Usage', '--accent']] },
    { id: 'used', title: 'Used and total', unit: 'bytes', series: [['used', 'Used', '--warn'], ['total', 'Total', '--muted']] }] },
  host: { type: 'host', charts: [CPU, MEM, DISK, NET, IO] },
};

// The route's kind and id: proxmox/guest/<id>, proxmox/node/<id>, proxmox/storage/<id>, hosts/<id>.
export function parseRoute(path) {
  let m = path.match(/^proxmox\/(guest|node|storage)\/(.+)$/);
  if (m) return { kind: m[1], id: m[2] };
  m = path.match(/^hosts\/(.+)$/);
  return m ? { kind: 'host', id: m[1] } : null;
}

export function findResource(st, kind, id) {
  if (!st) return null;
  switch (kind) {
    case 'guest': return [...(st.vms || []), ...(st.containers || [])].find((g) => g.id === id) || null;
    case 'node': return (st.nodes || []).find((n) => n.id === id) || null;
    case 'storage': return (st.storage || []).find((s) => s.id === id) || null;
    default: return (st.hosts || []).find((h) => h.id === id) || null;
  }
}

const fig = (label, value) => `<div><dt>${esc(label)}</dt><dd>${value}</dd></div>`;
const when = (t) => esc(whenText(t));

function guestFigures(g) {
  const up = g.status === 'running';
  return [
    fig('Status', statusCell(g.status)), fig('Type', `<span class="type ${guestType(g).toLowerCase()}">${guestType(g)}</span>`),
    fig('ID', esc(g.vmid)), fig('Node', `<a href="proxmox/node/${encodeURIComponent(`${g.instance}-${g.node}`)}" data-link>${esc(g.node)}</a>`),
    fig('CPU', cpuCell(g)), fig('Cores', esc(g.cpus || '-')), fig('Memory', memCell(g)), fig('Disk', diskCell(g)),
    fig('Uptime', up ? uptime(g.uptime) : '-'),
    fig('Disk read / write', up ? `${bytes(g.diskRead)}/s · ${bytes(g.diskWrite)}/s` : '-'),
    fig('Network in / out', up ? `${bytes(g.networkIn)}/s · ${bytes(g.networkOut)}/s` : '-'),
    fig('IP addresses', (g.ipAddresses || []).map(esc).join(', ') || '-'),
    fig('OS', esc([g.osName, g.osVersion].filter(Boolean).join(' ') || '-')),
    fig('Tags', (g.tags ? String(g.tags).split(/[,;]/).filter(Boolean) : []).map((t) => `<span class="badge">${esc(t)}</span>`).join(' ') || '-'),
    fig('Last backup', ageCell(g.lastBackup)),
  ].join('');
}
function nodeFigures(n, st) {
  const guests = [...(st.vms || []), ...(st.containers || [])].filter((g) => g.instance === n.instance && g.node === n.node);
  const ci = n.cpuInfo || {};
  return [
    fig('Status', statusCell(n.status)), fig('Cluster', esc(n.clusterName || 'Standalone')),
    fig('Uptime', n.status === 'online' ? uptime(n.uptime) : '-'), fig('CPU', cpuCell(n)),
    fig('CPU model', esc(ci.model ? `${ci.model} (${ci.sockets || 1} × ${ci.cores ? ci.cores / (ci.sockets || 1) : '?'} cores)` : '-')),
    fig('Memory', memCell(n)), fig('Disk', diskCell(n)),
    fig('Load average', esc((n.loadAverage || []).join(' ') || '-')),
    fig('PVE version', esc(n.pveVersion || '-')), fig('Kernel', esc(n.kernelVersion || '-')),
    fig('Guests', `<a href="proxmox/overview?q=${encodeURIComponent(`node:${n.node}`)}" data-link>${guests.length} guests</a>` +
      ` (${guests.filter((g) => g.status === 'running').length} running)`),
  ].join('');
}
function storageFigures(s) {
  const pct = pctOf(s.used, s.total);
  return [
    fig('Status', statusCell(s.status)), fig('Type', esc(s.type)),
    fig('Node', esc((s.nodes && s.nodes.length ? s.nodes : [s.node]).join(', '))),
    fig('Shared', s.shared ? 'yes' : 'no'), fig('Content', esc(String(s.content || '-').split(',').join(', '))),
    fig('Usage', bar(pct, pct == null ? '-' : `${pct.toFixed(0)}%`, `${bytes(s.used)} of ${bytes(s.total)}`)),
    fig('Used', bytes(s.used)), fig('Free', bytes(s.free)), fig('Total', bytes(s.total)),
  ].join('');
}
function hostFigures(h) {
  const mem = h.memory || {};
  const root = (h.disks || []).find((d) => d.mountpoint === '/') || (h.disks || [])[0];
  return [
    fig('Status', statusCell(h.status)), fig('Platform', esc(h.platform || '-')),
    fig('OS', esc([h.osName, h.osVersion].filter(Boolean).join(' ') || '-')), fig('Kernel', esc(h.kernelVersion || '-')),
    fig('Architecture', esc(h.architecture || '-')), fig('CPUs', esc(h.cpuCount || '-')),
    fig('CPU', bar(h.cpuUsage, `${(h.cpuUsage || 0).toFixed(0)}%`, `${(h.cpuUsage || 0).toFixed(1)}%`)),
    fig('Memory', mem.total > 0 ? bar(pctOf(mem.used, mem.total), `${pctOf(mem.used, mem.total).toFixed(0)}%`, `${bytes(mem.used)} of ${bytes(mem.total)}`, 70, 90) : '-'),
    fig('Disk (/)', root && root.total > 0 ? bar(pctOf(root.used, root.total), `${pctOf(root.used, root.total).toFixed(0)}%`, `${bytes(root.used)} of ${bytes(root.total)}`) : '-'),
    fig('Uptime', uptime(h.uptimeSeconds)), fig('Agent', esc(h.agentVersion || '-')), fig('Last report', when(h.lastSeen)),
  ].join('');
}
function title(kind, r) {
  if (kind === 'guest') return `${r.name} (${guestType(r)} ${r.vmid})`;
  if (kind === 'node') return r.displayName || r.node;
  if (kind === 'storage') return `${r.name || r.storage} on ${r.nodes && r.nodes.length ? r.nodes.join(', ') : r.node}`;
  return r.displayName || r.hostname;
}

// A guest's backups (PVE storage and PBS), snapshots and active alerts, newest first.
export function guestBackups(st, g) {
  const b = st.backups || {}, pve = b.pve || {};
  const pbsType = g.type === 'qemu' ? 'vm' : 'ct';
  const rows = [
    ...(pve.storageBackups || []).filter((x) => x.instance === g.instance && x.vmid === g.vmid)
      .map((x) => ({ id: x.id, time: x.ctime * 1000, where: `${x.storage} on ${x.node}`, source: x.isPBS ? 'PBS' : 'PVE',
        size: x.size, note: x.notes || '', verified: x.verified, protected: x.protected })),
    ...(b.pbs || []).filter((x) => x.vmid === String(g.vmid) && x.backupType === pbsType)
      .map((x) => ({ id: x.id, time: Date.parse(x.backupTime), where: `${x.datastore}${x.namespace ? `/${x.namespace}` : ''} on ${x.instance}`,
        source: 'PBS', size: x.size, note: x.comment || '', verified: x.verified, protected: x.protected })),
  ];
  return rows.sort((a, c) => c.time - a.time);
}
export function guestSnapshots(st, g) {
  const pve = (st.backups || {}).pve || {};
  return (pve.guestSnapshots || []).filter((x) => x.instance === g.instance && x.vmid === g.vmid)
    .sort((a, c) => Date.parse(c.time) - Date.parse(a.time));
}

function guestExtras(st, g) {
  const backups = guestBackups(st, g), snaps = guestSnapshots(st, g);
  const alerts = (st.activeAlerts || []).filter((a) => a.resourceId === g.id);
  const none = (n, text) => `<tr><td colspan="${n}" class="muted">${text}</td></tr>`;
  return `
    <section class="card"><h2>Active alerts <span class="muted">(${alerts.length})</span></h2>
      <div class="scroll"><table id="guest-alerts" class="grid"><thead><tr><th>Level</th><th>Type</th><th>Message</th><th>Since</th><th>Acknowledged</th></tr></thead>
      <tbody>${alerts.length ? alerts.map((a) => `<tr data-alert="${esc(a.id)}"><td><span class="badge ${a.level === 'critical' ? 'bad' : 'warn'}">${esc(a.level)}</span></td>` +
        `<td>${esc(a.type)}</td><td class="wrap">${esc(a.message)}</td><td>${when(a.startTime)}</td><td>${a.acknowledged ? 'yes' : 'no'}</td></tr>`).join('')
        : none(5, 'No active alerts')}</tbody></table></div></section>
    <section class="card"><h2>Backups <span class="muted">(${backups.length})</span></h2>
      <div class="scroll"><table id="guest-backups" class="grid"><thead><tr><th>Time</th><th>Age</th><th>Source</th><th>Location</th>
        <th class="num">Size</th><th>Verified</th><th>Notes</th></tr></thead>
      <tbody>${backups.length ? backups.map((x) => `<tr data-backup="${esc(x.id)}"><td>${when(x.time)}</td><td>${ageCell(x.time)}</td>` +
        `<td><span class="badge">${x.source}</span>${x.protected ? ' <span class="badge" title="protected">protected</span>' : ''}</td>` +
        `<td>${esc(x.where)}</td><td class="num">${bytes(x.size)}</td><td>${x.verified ? 'yes' : 'no'}</td><td class="wrap">${esc(x.note)}</td></tr>`).join('')
        : none(7, 'No backups of this guest')}</tbody></table></div></section>
    <section class="card"><h2>Snapshots <span class="muted">(${snaps.length})</span></h2>
      <div class="scroll"><table id="guest-snapshots" class="grid"><thead><tr><th>Name</th><th>Time</th><th>Age</th><th>RAM</th><th>Description</th></tr></thead>
      <tbody>${snaps.length ? snaps.map((x) => `<tr data-snapshot="${esc(x.name)}"><td>${esc(x.name)}</td><td>${when(x.time)}</td>` +
        `<td>${esc(ago(Date.parse(x.time)))}</td><td>${x.vmstate ? 'yes' : 'no'}</td><td class="wrap">${esc(x.description || '')}</td></tr>`).join('')
        : none(5, 'No snapshots')}</tbody></table></div></section>`;
}

function hostExtras(h) {
  const disks = h.disks || [], nics = h.networkInterfaces || [];
  return `<section class="card"><h2>Disks</h2><div class="scroll"><table id="host-disks" class="grid">
      <thead><tr><th>Mount</th><th>Device</th><th>Type</th><th>Usage</th><th class="num">Total</th></tr></thead><tbody>
      ${disks.map((d) => `<tr><td>${esc(d.mountpoint)}</td><td>${esc(d.device)}</td><td>${esc(d.type)}</td>` +
        `<td>${bar(pctOf(d.used, d.total), `${(pctOf(d.used, d.total) || 0).toFixed(0)}%`, `${bytes(d.used)} of ${bytes(d.total)}`)}</td>` +
        `<td class="num">${bytes(d.total)}</td></tr>`).join('') || '<tr><td colspan="5" class="muted">No disks reported</td></tr>'}
      </tbody></table></div></section>
    <section class="card"><h2>Network interfaces</h2><div class="scroll"><table id="host-nics" class="grid">
      <thead><tr><th>Name</th><th>Addresses</th><th class="num">Received</th><th class="num">Sent</th></tr></thead><tbody>
      ${nics.map((n) => `<tr><td>${esc(n.name)}</td><td>${esc((n.addresses || []).join(', ') || '-')}</td>` +
        `<td class="num">${bytes(n.rxBytes)}</td><td class="num">${bytes(n.txBytes)}</td></tr>`).join('') || '<tr><td colspan="4" class="muted">No interfaces reported</td></tr>'}
      </tbody></table></div></section>`;
}

export function mount(root, ctx) {
  const where = parseRoute(ctx.path);
  if (!where) {
    root.innerHTML = '<section class="card narrow"><h2>Not found</h2><p>No such detail view.</p></section>';
    return () => {};
  }
  const { kind, id } = where;
  const spec = KINDS[kind];
  const DEFAULTS = { range: '1h' };
  const view = viewFromUrl(DEFAULTS, (k, v) => RANGES.includes(v));
  const back = kind === 'host' ? '<a href="hosts" data-link>Hosts</a>' : kind === 'storage'
    ? '<a href="proxmox/storage" data-link>Storage</a>' : '<a href="proxmox/overview" data-link>Overview</a>';
  root.innerHTML = `
    <p class="banner error" id="detail-error" role="alert" hidden></p>
    <section class="card detail" id="detail" data-kind="${kind}" data-id="${esc(id)}">
      <p class="crumbs">${back} › <span>${esc(id)}</span></p>
      <h2 id="detail-title">${esc(id)}</h2>
      <dl class="facts" id="figures"><div><dt>Status</dt><dd class="muted">Loading…</dd></div></dl>
    </section>
    <section class="card">
      <div class="chart-head"><h2>History</h2>
        <div class="ranges" role="group" aria-label="Time range">${RANGES.map((r) =>
          `<button type="button" data-range="${r}" aria-pressed="${r === view.range}">${r}</button>`).join('')}</div>
        <span class="muted" id="history-note" aria-live="polite"></span></div>
      <div class="charts">${spec.charts.map((c) => `<figure class="chart-card"><figcaption>${esc(c.title)}</figcaption>
        <div class="chart" id="chart-${c.id}" data-points="0"><p class="muted">Loading…</p></div></figure>`).join('')}</div>
    </section>
    <div id="extras"></div>`;
  const $ = (sel) => root.querySelector(sel);
  const errBox = $('#detail-error');
  const navDown = kind === 'host' ? null : mountProxmoxNav(root, spec.nav);
  let charts = {}, chartMod = null, timer = null, alive = true, historyType = spec.type, seq = 0, lastExtras = '', started = false;

  function showError(text) { errBox.hidden = !text; errBox.textContent = text || ''; }

  function render(st) {
    const r = findResource(st, kind, id);
    if (r && kind === 'guest') historyType = r.type === 'qemu' ? 'vm' : 'container';
    if (!started) { started = true; loadHistory(); }
    if (!r) {
      $('#figures').innerHTML = '<div><dt>Status</dt><dd>Not in the current state (removed, or not polled yet)</dd></div>';
      return;
    }
    $('#detail-title').textContent = title(kind, r);
    document.title = `${title(kind, r)} · Pulse`;
    $('#figures').innerHTML = kind === 'guest' ? guestFigures(r) : kind === 'node' ? nodeFigures(r, st)
      : kind === 'storage' ? storageFigures(r) : hostFigures(r);
    const extras = kind === 'guest' ? guestExtras(st, r) : kind === 'host' ? hostExtras(r) : '';
    if (extras !== lastExtras) { $('#extras').innerHTML = extras; lastExtras = extras; }
  }

  async function loadHistory() {
    clearTimeout(timer);
    const me = ++seq;
    try {
      if (!chartMod) chartMod = await import('./chart.js');
      const type = historyType || (kind === 'guest' ? 'guest' : kind);
      const res = await get(`/api/metrics-store/history?resourceType=${type}&resourceId=${encodeURIComponent(id)}` +
        `&range=${view.range}&maxPoints=500`);
      if (!alive || me !== seq) return;
      const m = res.body.metrics || {};
      const x = res.body.start && res.body.end ? [res.body.start / 1000, res.body.end / 1000] : null;
      let total = 0;
      for (const c of spec.charts) {
        const lists = c.series.map(([metric]) => m[metric] || []);
        const n = lists.reduce((a, l) => a + l.length, 0);
        total += n;
        const el = $(`#chart-${c.id}`);
        if (!n) {
          if (charts[c.id]) { charts[c.id].destroy(); delete charts[c.id]; }
          el.innerHTML = '<p class="muted empty-chart">No history in this range</p>';
          el.dataset.points = '0';
        } else if (charts[c.id]) {
          charts[c.id].set(lists, x);
        } else {
          el.innerHTML = '';
          charts[c.id] = chartMod.lineChart(el, { unit: c.unit, x, series: c.series.map(([, label, color]) => ({ label, color })) }, lists);
        }
      }
      $('#history-note').textContent = `${res.body.tier} samples` + (total ? '' : ' (none yet)');
      root.querySelector('.charts').dataset.range = view.range;
      showError('');
    } catch (err) {
      if (!alive || me !== seq) return;
      if (err.status === 404) {
        $('#history-note').textContent = 'No history for this resource';
        for (const c of spec.charts) { const el = $(`#chart-${c.id}`); if (!charts[c.id]) el.innerHTML = '<p class="muted empty-chart">No history</p>'; }
      } else {
        showError(`Cannot load the history: ${err.message}`);
      }
    }
    if (alive) timer = setTimeout(loadHistory, HISTORY_MS);
  }

  root.querySelector('.ranges').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-range]');
    if (!b || b.dataset.range === view.range) return;
    view.range = b.dataset.range;
    viewToUrl(view, DEFAULTS);
    for (const x of root.querySelectorAll('.ranges button')) x.setAttribute('aria-pressed', String(x.dataset.range === view.range));
    loadHistory();
  });
  if (kind === 'guest') loadAgeLimits().then(() => { if (alive && currentState()) { lastExtras = ''; render(currentState()); } });
  const unwatch = watchState(render, (err) => showError(err ? `Cannot refresh the state: ${err.message}` : ''));
  return () => {
    alive = false;
    clearTimeout(timer);
    unwatch();
    if (navDown) navDown();
    for (const c of Object.values(charts)) c.destroy();
    charts = {};
  };
}
