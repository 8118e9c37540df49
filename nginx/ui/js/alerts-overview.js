// alerts-overview.js: Alerts → Overview (reference/ui.md §5): the active alerts of
// /api/state (the shared poller) in the shared table, sortable with the sort in the URL;
// acknowledge, unacknowledge and clear one alert or the selected ones (POST
// /api/alerts/bulk/acknowledge and /bulk/clear; unacknowledge has no bulk route, so one call
// each); an alert's incident timeline with its notes (GET /api/alerts/incidents, POST
// /api/alerts/incidents/note); the activation state with its Activate button.
import { get, post } from './api.js';
import { watchState, refreshState } from './state.js';
import { mountTable, nextSort, viewFromUrl, viewToUrl } from './table.js';
import { esc, when } from './format.js';
import { sectionNav, levelBadge, valueText, loadConfig } from './alerts-common.js';

const LEVEL = { critical: 2, warning: 1 };
const COLUMNS = [
  { key: 'select', label: 'Select' },
  { key: 'level', label: 'Level', value: (a) => LEVEL[a.level] || 0, desc: true },
  { key: 'resource', label: 'Resource', value: (a) => (a.resourceName || a.resourceId || '').toLowerCase() },
  { key: 'type', label: 'Type', value: (a) => a.type },
  { key: 'value', label: 'Value / threshold' },
  { key: 'since', label: 'Since', value: (a) => a.startTime, desc: true },
  { key: 'ack', label: 'Acknowledged by', value: (a) => (a.acknowledged ? a.ackUser || '?' : null) },
  { key: 'actions', label: 'Actions' },
];
const BY_KEY = Object.fromEntries(COLUMNS.map((c) => [c.key, c]));
const DEFAULTS = { sort: 'level', dir: 'desc' };

export function mount(root) {
  const view = viewFromUrl(DEFAULTS, (k, v) => (k === 'sort' ? Boolean(BY_KEY[v] && BY_KEY[v].value) : v === 'asc' || v === 'desc'));
  root.innerHTML = `${sectionNav('overview')}
    <p class="banner error" id="alerts-error" role="alert" hidden></p>
    <p class="banner" id="activation" hidden></p>
    <section class="card">
      <div class="filters alerts-summary">
        <span id="alert-counts" aria-live="polite"></span>
        <span class="spacer"></span>
        <span id="selected-count" class="muted">0 selected</span>
        <button type="button" id="bulk-ack" disabled>Acknowledge selected</button>
        <button type="button" id="bulk-unack" class="secondary" disabled>Unacknowledge selected</button>
        <button type="button" id="bulk-clear" class="danger" disabled>Clear selected</button>
      </div>
      <div id="alert-table"></div>
    </section>
    <section class="card" id="incident" hidden></section>`;
  const $ = (s) => root.querySelector(s);
  const errBox = $('#alerts-error');
  const selected = new Set();
  let alerts = [], armed = null, armTimer = null, alive = true, incidentFor = null, acting = false;

  const showError = (msg) => { errBox.hidden = !msg; errBox.textContent = msg || ''; };

  function row(a) {
    const id = esc(a.id), on = selected.has(a.id);
    return `<tr data-id="${id}" class="${a.acknowledged ? 'acked' : ''}">` +
      `<td><input type="checkbox" class="pick" aria-label="Select ${esc(a.resourceName)} ${esc(a.type)}"${on ? ' checked' : ''}></td>` +
      `<td>${levelBadge(a.level)}</td>` +
      `<td class="name"><span title="${esc(a.resourceId)}">${esc(a.resourceName || a.resourceId)}</span>` +
      `${a.node ? ` <span class="muted">on ${esc(a.node)}</span>` : ''}` +
      `<small class="msg" title="${esc(a.message)}">${esc(a.message)}</small></td><td>${esc(a.type)}</td>` +
      `<td class="num">${esc(valueText(a))}</td><td>${esc(when(a.startTime))}</td>` +
      `<td>${a.acknowledged ? `${esc(a.ackUser || '-')} <span class="muted" title="${esc(when(a.ackTime))}">✓</span>`
        : '<span class="muted">-</span>'}</td>` +
      `<td class="actions">${a.acknowledged
        ? '<button type="button" data-act="unack" class="secondary">Unacknowledge</button>'
        : '<button type="button" data-act="ack">Acknowledge</button>'}` +
      `<button type="button" data-act="clear" class="danger">${armed === a.id ? 'Confirm clear' : 'Clear'}</button>` +
      `<button type="button" data-act="timeline" class="secondary" aria-expanded="${incidentFor === a.id}">Timeline</button></td></tr>`;
  }

  const table = mountTable($('#alert-table'), {
    id: 'active-alerts', columns: COLUMNS, row, rowSelector: 'tr[data-id]',
    tie: (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0), empty: 'No active alerts',
    onSort: (key) => { Object.assign(view, nextSort(view, key, COLUMNS)); viewToUrl(view, DEFAULTS); draw(); },
  });
  const head = table.table.querySelector('thead th');
  head.innerHTML = '<input type="checkbox" id="select-all" aria-label="Select all alerts">';
  const selectAll = head.querySelector('input');

  function draw() {
    for (const id of [...selected]) if (!alerts.some((a) => a.id === id)) selected.delete(id);
    table.set(alerts, view.sort, view.dir);
    const crit = alerts.filter((a) => a.level === 'critical' && !a.acknowledged).length;
    const warn = alerts.filter((a) => a.level !== 'critical' && !a.acknowledged).length;
    const acked = alerts.filter((a) => a.acknowledged).length;
    $('#alert-counts').innerHTML = `<span class="level critical">${crit} critical</span> ` +
      `<span class="level warning">${warn} warning</span> <span class="muted">${acked} acknowledged, ${alerts.length} active</span>`;
    drawSelection();
  }
  function drawSelection() {
    const n = selected.size;
    $('#selected-count').textContent = `${n} selected`;
    for (const b of ['#bulk-ack', '#bulk-unack', '#bulk-clear']) $(b).disabled = n === 0;
    selectAll.checked = n > 0 && n === alerts.length;
    selectAll.indeterminate = n > 0 && n < alerts.length;
  }

  // One action on ids (one at a time: clicks meanwhile are ignored); the API's message of each
  // failure goes to the banner.
  async function act(kind, ids) {
    if (acting) return;
    acting = true;
    root.classList.add('busy');
    showError('');
    const fails = [];
    try {
      if (ids.length > 1 && kind !== 'unack') {
        const res = await post(`/api/alerts/bulk/${kind === 'ack' ? 'acknowledge' : 'clear'}`, { alertIds: ids });
        for (const r of (res.body && res.body.results) || []) if (!r.success) fails.push(`${r.alertId}: ${r.error}`);
      } else {
        const path = { ack: 'acknowledge', unack: 'unacknowledge', clear: 'clear' }[kind];
        for (const id of ids) {
          try { await post(`/api/alerts/${path}`, { id }); } catch (err) { fails.push(ids.length > 1 ? `${id}: ${err.message}` : err.message); }
        }
      }
    } catch (err) {
      fails.push(err.message);
    }
    acting = false;
    root.classList.remove('busy');
    if (fails.length) showError(`${{ ack: 'Acknowledge', unack: 'Unacknowledge', clear: 'Clear' }[kind]} failed: ${fails.join('; ')}`);
    if (kind === 'clear') { ids.forEach((id) => selected.delete(id)); draw(); }
    refreshState();
    if (incidentFor && ids.includes(incidentFor)) showIncident(incidentFor);
  }

  root.addEventListener('change', (ev) => {
    if (ev.target === selectAll) {
      selected.clear();
      if (selectAll.checked) alerts.forEach((a) => selected.add(a.id));
      table.set(alerts, view.sort, view.dir);
      drawSelection();
    } else if (ev.target.classList.contains('pick')) {
      const id = ev.target.closest('tr').dataset.id;
      if (ev.target.checked) selected.add(id); else selected.delete(id);
      drawSelection();
    }
  });
  root.addEventListener('click', (ev) => {
    const btn = ev.target.closest('button');
    if (!btn) return;
    const tr = btn.closest('tr[data-id]');
    const id = tr && tr.dataset.id;
    if (btn.dataset.act === 'ack' || btn.dataset.act === 'unack') act(btn.dataset.act, [id]);
    else if (btn.dataset.act === 'clear') {
      clearTimeout(armTimer);
      if (armed === id) { armed = null; act('clear', [id]); return; }
      armed = id;  // a second click within 5 s clears
      armTimer = setTimeout(() => { armed = null; draw(); }, 5000);
      draw();
      const again = root.querySelector(`tr[data-id="${CSS.escape(id)}"] button[data-act=clear]`);
      if (again) again.focus();
    } else if (btn.dataset.act === 'timeline') {
      if (incidentFor === id) { incidentFor = null; $('#incident').hidden = true; draw(); } else showIncident(id);
    } else if (btn.id === 'bulk-ack') act('ack', [...selected]);
    else if (btn.id === 'bulk-unack') act('unack', [...selected]);
    else if (btn.id === 'bulk-clear') {
      if (btn.dataset.armed) { delete btn.dataset.armed; btn.textContent = 'Clear selected'; act('clear', [...selected]); return; }
      btn.dataset.armed = '1';
      btn.textContent = `Confirm: clear ${selected.size}`;
      setTimeout(() => { if (btn.dataset.armed) { delete btn.dataset.armed; btn.textContent = 'Clear selected'; } }, 5000);
    } else if (btn.id === 'activate') activate();
    else if (btn.id === 'incident-close') { incidentFor = null; $('#incident').hidden = true; draw(); }
  });

  // --- the incident timeline of one alert -----------------------------------------------
  async function showIncident(id) {
    incidentFor = id;
    draw();
    const box = $('#incident');
    box.hidden = false;
    let inc;
    try {
      inc = (await get(`/api/alerts/incidents?alert_id=${encodeURIComponent(id)}`)).body;
    } catch (err) {
      box.innerHTML = `<h2>Timeline</h2><p class="banner error" role="alert">${esc(err.message)}</p>`;
      return;
    }
    if (!alive || incidentFor !== id) return;
    if (!inc) { box.innerHTML = `<h2>Timeline of ${esc(id)}</h2><p class="muted">No incident recorded.</p>`; return; }
    box.innerHTML = `<div class="card-head"><h2>Timeline: ${esc(inc.resourceName || inc.resourceId)} · ${esc(inc.alertType)}</h2>
        <button type="button" class="secondary" id="incident-close">Close</button></div>
      <p class="muted">Incident ${esc(inc.status)}, opened ${esc(when(inc.openedAt))}${
        inc.closedAt ? `, closed ${esc(when(inc.closedAt))}` : ''}</p>
      <ol class="timeline" id="incident-events">${(inc.events || []).map((e) => `<li data-type="${esc(e.type)}">
        <time>${esc(when(e.timestamp))}</time> <strong>${esc(e.type.replace(/^alert_/, '').replace(/_/g, ' '))}</strong>
        ${esc(e.summary || '')}${e.details && e.details.user ? ` <span class="muted">by ${esc(e.details.user)}</span>` : ''}</li>`)
        .join('')}</ol>
      <form id="note-form" novalidate>
        <label for="note-text">Add a note</label>
        <textarea id="note-text" rows="2" maxlength="2000"></textarea>
        <p class="form-error" id="note-error" role="alert" hidden></p>
        <div><button type="submit">Add note</button></div>
      </form>`;
    box.querySelector('#note-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const text = box.querySelector('#note-text').value;
      const e = box.querySelector('#note-error');
      try {
        await post('/api/alerts/incidents/note', { incident_id: inc.id, note: text });
        showIncident(id);
      } catch (err) {
        e.hidden = false;
        e.textContent = err.message;
      }
    });
  }

  // --- activation (observation mode) --------------------------------------------------------
  async function activation() {
    try {
      const cfg = await loadConfig();
      if (!alive) return;
      const box = $('#activation');
      box.hidden = cfg.activationState === 'active';
      box.innerHTML = (cfg.activationState === 'snoozed'
        ? 'Alert notifications are snoozed: alerts are recorded but not sent.'
        : 'Alert notifications are in observation mode (pending review): alerts are recorded but not sent yet.') +
        ' <button type="button" id="activate">Activate notifications</button>';
    } catch (err) {
      showError(`Cannot load the alert configuration: ${err.message}`);
    }
  }
  async function activate() {
    try { await post('/api/alerts/activate', {}); activation(); } catch (err) { showError(`Activate failed: ${err.message}`); }
  }

  activation();
  // Escape: a clear waiting for its second click is called off, an open timeline closes.
  root.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape') return;
    if (armed) {
      const id = armed;
      armed = null; clearTimeout(armTimer); draw();
      const b = root.querySelector(`tr[data-id="${CSS.escape(id)}"] button[data-act=clear]`);
      if (b) b.focus();
    } else if (incidentFor && !$('#incident').hidden) {
      const id = incidentFor;
      incidentFor = null; $('#incident').hidden = true; draw();
      const b = root.querySelector(`tr[data-id="${CSS.escape(id)}"] button[data-act=timeline]`);
      if (b) b.focus();
    }
  });

  let stateError = false;
  const unwatch = watchState((st) => { alerts = st.activeAlerts || []; draw(); }, (err) => {
    if (err) { stateError = true; showError(`Cannot refresh the state: ${err.message}`); }
    else if (stateError) { stateError = false; showError(''); }
  });
  return () => { alive = false; unwatch(); clearTimeout(armTimer); table.destroy(); };
}
