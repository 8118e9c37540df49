// alerts-thresholds.js: Alerts → Thresholds (reference/ui.md §5): the alert configuration's
// global defaults per resource kind (trigger and clear of each metric, the kind's on/off
// switches) and the per-resource overrides (add, edit, delete; alerts off, offline alerts
// off, thresholds, a note). Everything is a draft until Save sends the whole configuration
// (PUT /api/alerts/config); the API's message shows when it refuses it.
import { currentState } from './state.js';
import { esc } from './format.js';
import { configPage, field } from './alerts-common.js';

const PCT = '%', MBS = 'MB/s', DEG = '°C';
const M = { cpu: ['CPU', PCT], memory: ['Memory', PCT], disk: ['Disk', PCT], usage: ['Usage', PCT],
  temperature: ['Temperature', DEG], diskTemperature: ['Disk temperature', DEG], diskRead: ['Disk read', MBS],
  diskWrite: ['Disk write', MBS], networkIn: ['Network in', MBS], networkOut: ['Network out', MBS] };
const SEVERITY = [['warning', 'Warning'], ['critical', 'Critical']];
// The sections: base path of the metrics, metric keys, other fields, the switches.
const KINDS = [
  { id: 'guests', title: 'VMs & containers', base: 'guestDefaults',
    metrics: ['cpu', 'memory', 'disk', 'diskRead', 'diskWrite', 'networkIn', 'networkOut'],
    extra: [{ path: 'guestDefaults.poweredOffSeverity', label: 'Powered-off severity', kind: 'select', options: SEVERITY }],
    switches: [['disableAllGuests', 'Alerts'], ['disableAllGuestsOffline', 'Powered-off alerts']] },
  { id: 'nodes', title: 'Proxmox nodes', base: 'nodeDefaults', metrics: ['cpu', 'memory', 'disk', 'temperature'],
    switches: [['disableAllNodes', 'Alerts'], ['disableAllNodesOffline', 'Offline alerts']] },
  { id: 'storage', title: 'Storage', base: 'storageDefault', single: 'usage', metrics: ['usage'],
    switches: [['disableAllStorage', 'Alerts']] },
  { id: 'pbs', title: 'PBS servers', base: 'pbsDefaults', metrics: ['cpu', 'memory'],
    switches: [['disableAllPBS', 'Alerts'], ['disableAllPBSOffline', 'Offline alerts']] },
  { id: 'hosts', title: 'Host agents', base: 'hostDefaults', metrics: ['cpu', 'memory', 'disk', 'diskTemperature'],
    switches: [['disableAllHosts', 'Alerts'], ['disableAllHostsOffline', 'Offline alerts']] },
  { id: 'docker', title: 'Docker', base: 'dockerDefaults', metrics: ['cpu', 'memory', 'disk'],
    extra: [['restartCount', 'Restarts', ''], ['restartWindow', 'within', 's'], ['memoryWarnPct', 'Memory limit warning', PCT],
      ['memoryCriticalPct', 'Memory limit critical', PCT], ['serviceWarnGapPercent', 'Service replica gap warning', PCT],
      ['serviceCriticalGapPercent', 'Service replica gap critical', PCT], ['updateAlertDelayHours', 'Image update alert after', 'h']]
      .map(([k, label, unit]) => ({ path: `dockerDefaults.${k}`, label, unit })),
    switches: [['disableAllDockerHosts', 'Host alerts'], ['disableAllDockerContainers', 'Container alerts'],
      ['disableAllDockerServices', 'Service alerts'], ['disableAllDockerHostsOffline', 'Host offline alerts']] },
  { id: 'pmg', title: 'Mail gateways', base: 'pmgDefaults', metrics: [],
    extra: [['queueTotalWarning', 'Queue warning'], ['queueTotalCritical', 'Queue critical'],
      ['deferredQueueWarn', 'Deferred warning'], ['deferredQueueCritical', 'Deferred critical'],
      ['holdQueueWarn', 'Hold warning'], ['holdQueueCritical', 'Hold critical'],
      ['oldestMessageWarnMins', 'Oldest message warning', 'min'], ['oldestMessageCritMins', 'Oldest message critical', 'min']]
      .map(([k, label, unit]) => ({ path: `pmgDefaults.${k}`, label, unit })),
    switches: [['disableAllPMG', 'Alerts'], ['disableAllPMGOffline', 'Offline alerts']] },
  { id: 'snapshots', title: 'Snapshot and backup age', base: '', metrics: [],
    extra: [{ path: 'snapshotDefaults.enabled', label: 'Snapshot age alerts', kind: 'bool' },
      { path: 'snapshotDefaults.warningDays', label: 'Snapshot warning', unit: 'days' },
      { path: 'snapshotDefaults.criticalDays', label: 'Snapshot critical', unit: 'days' },
      { path: 'backupDefaults.enabled', label: 'Backup age alerts', kind: 'bool' },
      { path: 'backupDefaults.warningDays', label: 'Backup warning', unit: 'days' },
      { path: 'backupDefaults.criticalDays', label: 'Backup critical', unit: 'days' }],
    switches: [] },
];

function metricRows(base, keys, single) {
  return keys.map((k) => {
    const p = single ? base : `${base}.${k}`;
    return `<tr data-metric="${k}"><th scope="row">${M[k][0]}</th>` +
      `<td>${field({ path: `${p}.trigger`, label: `${M[k][0]} trigger`, unit: M[k][1], cls: 'bare' })}</td>` +
      `<td>${field({ path: `${p}.clear`, label: `${M[k][0]} clear`, unit: M[k][1], cls: 'bare' })}</td></tr>`;
  }).join('');
}

function kindCard(k) {
  return `<section class="card" id="kind-${k.id}"><h2>${esc(k.title)}</h2>
    ${k.switches.length ? `<div class="switches">${k.switches.map(([p, l]) =>
    field({ path: p, label: l, kind: 'bool', invert: true })).join('')}</div>` : ''}
    ${k.metrics.length ? `<table class="grid thresholds"><thead><tr><th>Metric</th><th>Trigger</th><th>Clear</th></tr></thead>
      <tbody>${metricRows(k.base, k.metrics, k.single)}</tbody></table>` : ''}
    ${k.extra ? `<div class="extra">${k.extra.map(field).join('')}</div>` : ''}</section>`;
}

// --- overrides -------------------------------------------------------------------------------
// The resources of the state an override can name (their ids are the override keys).
function resources() {
  const st = currentState() || {};
  const list = [];
  const add = (arr, kind, name) => (arr || []).forEach((r) => list.push({ id: r.id, kind, name: name(r) }));
  add(st.nodes, 'node', (n) => n.displayName || n.node || n.name);
  add(st.vms, 'guest', (g) => `${g.name} (${g.vmid})`);
  add(st.containers, 'guest', (g) => `${g.name} (${g.vmid})`);
  add(st.storage, 'storage', (s) => `${s.name} on ${s.node}`);
  add(st.pbs, 'pbs', (p) => p.name);
  add(st.hosts, 'host', (h) => h.displayName || h.hostname);
  add(st.dockerHosts, 'docker', (h) => h.displayName || h.hostname);
  return list;
}
const OVERRIDE_METRICS = { guest: KINDS[0].metrics, node: KINDS[1].metrics, storage: ['usage'], pbs: ['cpu', 'memory'],
  host: KINDS[4].metrics, docker: ['cpu', 'memory', 'disk'] };

function summary(o) {
  const parts = [];
  if (o.disabled) parts.push('alerts off');
  if (o.disableConnectivity) parts.push('offline alerts off');
  for (const k of Object.keys(M)) {
    if (o[k] && typeof o[k] === 'object') parts.push(`${M[k][0]} ${o[k].trigger}/${o[k].clear}${M[k][1] === PCT ? '%' : ' ' + M[k][1]}`);
  }
  return parts.join(', ') || 'nothing set';
}

function overridesCard(cfg) {
  const res = resources();
  const name = (id) => { const r = res.find((x) => x.id === id); return r ? r.name : ''; };
  const ids = Object.keys(cfg.overrides || {}).sort();
  return `<section class="card" id="overrides"><div class="card-head"><h2>Overrides</h2>
      <button type="button" id="override-add">Add override</button></div>
    <div class="scroll"><table class="grid" id="override-table">
    <thead><tr><th>Resource</th><th>Settings</th><th>Note</th><th>Actions</th></tr></thead>
    <tbody>${ids.length ? ids.map((id) => { const o = cfg.overrides[id] || {}; return `<tr data-id="${esc(id)}">
      <td class="name">${esc(name(id) || id)}${name(id) ? ` <span class="muted">${esc(id)}</span>` : ''}</td>
      <td>${esc(summary(o))}</td><td>${esc(o.note || '')}</td>
      <td class="actions"><button type="button" class="secondary" data-act="edit">Edit</button>
        <button type="button" class="danger" data-act="delete">Delete</button></td></tr>`; }).join('')
    : '<tr><td colspan="4" class="muted">No overrides: every resource uses the defaults.</td></tr>'}</tbody></table></div>
    <div id="override-editor" hidden></div>
    <datalist id="resource-ids">${resourceOptions(res)}</datalist></section>`;
}
const resourceOptions = (res) => res.map((r) => `<option value="${esc(r.id)}">${esc(r.name)}</option>`).join('');

// The editor of one override (id '' for a new one); its fields are bound to "o.<key>" and
// read by readOverride, not by the page's form reader (data-opath).
function editorHtml(id, o) {
  const r = resources().find((x) => x.id === id);
  const keys = (r && OVERRIDE_METRICS[r.kind]) || ['cpu', 'memory', 'disk', 'usage'];
  const inp = (k, part) => `<label class="field bare"><span class="sr-only">${M[k][0]} ${part}</span><span class="with-unit">` +
    `<input type="number" step="any" data-opath="${k}.${part}" value="${o[k] ? esc(o[k][part]) : ''}" placeholder="default">` +
    `<small>${M[k][1]}</small></span></label>`;
  return `<h3>${id ? `Override for ${esc(r ? r.name : id)}` : 'New override'}</h3>
    <div class="extra"><label class="field"><span>Resource id</span><input type="text" id="override-id" list="resource-ids"
      value="${esc(id)}" ${id ? 'readonly' : ''} autocomplete="off" placeholder="e.g. pve1:node1:101"></label>
    <label class="check"><input type="checkbox" data-opath="disabled" data-bool="1"${o.disabled ? ' checked' : ''}>
      Alerts off for this resource</label>
    <label class="check"><input type="checkbox" data-opath="disableConnectivity" data-bool="1"${o.disableConnectivity ? ' checked' : ''}>
      Offline alerts off</label></div>
    <table class="grid thresholds"><thead><tr><th>Metric</th><th>Trigger</th><th>Clear</th></tr></thead><tbody>
    ${keys.map((k) => `<tr><th scope="row">${M[k][0]}</th><td>${inp(k, 'trigger')}</td><td>${inp(k, 'clear')}</td></tr>`)
    .join('')}</tbody></table>
    <label class="field"><span>Note</span><input type="text" data-opath="note" value="${esc(o.note || '')}"></label>
    <p class="muted">An empty trigger uses the default, an empty clear is 5 below the trigger; 0 turns the metric off for this resource.</p>
    <p class="form-error" id="override-error" role="alert" hidden></p>
    <div class="savebar"><button type="button" id="override-apply">Apply</button>
      <button type="button" class="secondary" id="override-cancel">Cancel</button></div>`;
}

function readOverride(box, old) {
  const o = { ...old };
  for (const el of box.querySelectorAll('[data-opath]')) {
    const p = el.dataset.opath;
    if (el.dataset.bool) { if (el.checked) o[p] = true; else delete o[p]; continue; }
    if (p === 'note') { if (el.value.trim()) o.note = el.value; else delete o.note; continue; }
    const [k, part] = p.split('.');
    if (part === 'trigger') {
      if (el.value.trim() === '') { delete o[k]; continue; }
      const clear = box.querySelector(`[data-opath="${k}.clear"]`).value;
      const t = Number(el.value);  // no clear value: 5 below the trigger, as the original's UI saves it
      o[k] = { trigger: t, clear: clear.trim() === '' ? Math.max(0, t - 5) : Number(clear) };
    }
  }
  return o;
}

export function mount(root) {
  const page = configPage(root, 'thresholds', {
    body: (cfg) => `<div class="card">${field({ path: 'enabled', label: 'Alerts on (off: no alert is evaluated at all)', kind: 'bool' })}
      <p class="muted">A trigger raises the alert, the clear value resolves it; 0 turns a metric off.
      Unticking a switch turns that kind of alert off.</p></div>
      <div class="kinds">${KINDS.map(kindCard).join('')}</div>${overridesCard(cfg)}`,
    after: (cfg, form, change) => {
      const box = form.querySelector('#override-editor');
      let editing = null;
      function open(id) {
        editing = id;
        box.hidden = false;
        box.innerHTML = editorHtml(id, (cfg.overrides || {})[id] || {});
        box.querySelector(id ? '[data-opath]' : '#override-id').focus();
      }
      form.querySelector('#overrides').addEventListener('click', (ev) => {
        const btn = ev.target.closest('button');
        if (!btn) return;
        const tr = btn.closest('tr[data-id]');
        if (btn.id === 'override-add') open('');
        else if (btn.dataset.act === 'edit') open(tr.dataset.id);
        else if (btn.dataset.act === 'delete') change((c) => { delete c.overrides[tr.dataset.id]; });
        else if (btn.id === 'override-cancel') { box.hidden = true; editing = null; }
        else if (btn.id === 'override-apply') {
          const id = editing || box.querySelector('#override-id').value.trim();
          const err = box.querySelector('#override-error');
          if (!id) { err.hidden = false; err.textContent = 'Name the resource (its id).'; return; }
          const o = readOverride(box, (cfg.overrides || {})[id] || {});
          change((c) => { c.overrides = c.overrides || {}; c.overrides[id] = o; });
        }
      });
      box.addEventListener('keydown', (ev) => {
        if (ev.key === 'Escape') { box.hidden = true; editing = null; form.querySelector('#override-add').focus(); }
        if (ev.key === 'Enter' && ev.target.tagName === 'INPUT') { ev.preventDefault(); box.querySelector('#override-apply').click(); }
      });
    },
    onState: (st, form) => { const dl = form.querySelector('#resource-ids'); if (dl) dl.innerHTML = resourceOptions(resources()); },
  });
  return () => page.stop();
}
