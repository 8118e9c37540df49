// alerts-common.js: what the Alerts pages share: the section nav (reference/ui.md §5), level
// badges, an alert's value and threshold with their unit, the alert configuration's load and
// save (GET/PUT /api/alerts/config, the whole object), and form fields bound to a path in it
// (data-path="schedule.quietHours.start") so that a page draws, fills and reads them back.
import { get, request } from './api.js';
import { esc } from './format.js';
import { watchState } from './state.js';

const SECTIONS = [['overview', 'Overview'], ['history', 'History'], ['thresholds', 'Thresholds'], ['schedule', 'Schedule']];

// The last entry, Notifications, is the original's alerts/destinations: the channels live
// under Settings → Notifications here (app.js sends alerts/destinations there).
export function sectionNav(current) {
  return `<nav class="subnav" id="alerts-nav" aria-label="Alerts">${SECTIONS.map(([p, label]) =>
    `<a href="alerts/${p}" data-link${p === current ? ' aria-current="page"' : ''}>${label}</a>`).join('')}` +
    '<a href="settings/notifications/email" data-link>Notifications</a></nav>';
}

export function levelBadge(level) {
  const l = level === 'critical' ? 'critical' : 'warning';
  return `<span class="level ${l}">${l === 'critical' ? 'Critical' : 'Warning'}</span>`;
}

// The unit of an alert type's value (alerts-notifications.md §2.2).
const UNITS = { cpu: '%', memory: '%', disk: '%', usage: '%', temperature: ' °C', diskTemperature: ' °C',
  diskRead: ' MB/s', diskWrite: ' MB/s', networkIn: ' MB/s', networkOut: ' MB/s' };
function num(v) { return Number.isInteger(v) ? String(v) : Number(v).toFixed(1); }
// "95.0% ≥ 80%" for a metric alert; the value alone for the others (0 thresholds are state alerts).
export function valueText(a) {
  const u = UNITS[a.type];
  if (u) return `${num(a.value)}${u} / ${num(a.threshold)}${u}`;
  if (a.threshold) return `${num(a.value)} / ${num(a.threshold)}`;
  return a.value ? num(a.value) : '-';
}

// --- the alert configuration ---------------------------------------------------------------
export async function loadConfig() { return (await get('/api/alerts/config')).body; }
// Without activationState the API keeps the current one: a page loaded before notifications
// were activated elsewhere must not turn them back to observation mode.
export async function saveConfig(cfg) {
  const body = { ...cfg };
  delete body.activationState;
  delete body.activationTime;
  return (await request('PUT', '/api/alerts/config', { body })).body;
}

export function getPath(obj, path) {
  return path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}
export function setPath(obj, path, value) {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (o[k] == null || typeof o[k] !== 'object') o[k] = {};
    o = o[k];
  }
  o[keys[keys.length - 1]] = value;
}

let seq = 0;
// One labelled input bound to path. f: {path, label, kind: 'num'|'bool'|'text'|'time'|'select',
// unit, options: [[value, label]], invert (a checkbox that is on when the value is false),
// list (a datalist id), min, step, cls}.
export function field(f) {
  const id = `f${++seq}`;
  const attrs = `id="${id}" data-path="${esc(f.path)}" data-kind="${f.kind || 'num'}"${f.invert ? ' data-invert="1"' : ''}`;
  if (f.kind === 'bool') {
    return `<label class="check${f.cls ? ' ' + f.cls : ''}" for="${id}"><input type="checkbox" ${attrs}> ${esc(f.label)}</label>`;
  }
  let input;
  if (f.kind === 'select') {
    input = `<select ${attrs}>${f.options.map(([v, l]) => `<option value="${esc(v)}">${esc(l)}</option>`).join('')}</select>`;
  } else {
    const type = f.kind === 'text' ? 'text' : f.kind === 'time' ? 'time' : 'number';
    const num = type === 'number' ? ` step="${f.step || 'any'}"${f.min != null ? ` min="${f.min}"` : ''} inputmode="decimal"` : '';
    input = `<input type="${type}" ${attrs}${num}` +
      `${f.list ? ` list="${f.list}"` : ''}${f.placeholder ? ` placeholder="${esc(f.placeholder)}"` : ''}>`;
  }
  return `<label class="field${f.cls ? ' ' + f.cls : ''}" for="${id}"><span>${esc(f.label)}</span>` +
    `<span class="with-unit">${input}${f.unit ? `<small>${esc(f.unit)}</small>` : ''}</span></label>`;
}

// Puts the values of obj into the fields below root.
export function fillFields(root, obj) {
  for (const el of root.querySelectorAll('[data-path]')) {
    const v = getPath(obj, el.dataset.path);
    if (el.dataset.kind === 'bool') el.checked = el.dataset.invert ? !v : Boolean(v);
    else el.value = v == null ? '' : String(v);
  }
}
// Writes the fields below root into obj: numbers as typed (an empty one is 0, which turns a
// threshold off), so the API's own validation speaks for what it refuses.
export function readFields(root, obj) {
  for (const el of root.querySelectorAll('[data-path]')) {
    const kind = el.dataset.kind;
    let v;
    if (kind === 'bool') v = el.dataset.invert ? !el.checked : el.checked;
    else if (kind === 'num') v = el.value.trim() === '' ? 0 : Number(el.value);
    else v = el.value;
    setPath(obj, el.dataset.path, v);
  }
  return obj;
}

// A config page's frame: nav, a line for load errors, the form with Save / Discard, an
// "unsaved changes" note and the answer of the last save (its error next to Save, which stays
// in view). body(cfg) draws the form's inside; after(cfg, form, change) wires extra parts,
// where change(fn) takes what is typed into the draft, lets fn(cfg) change it (a level added,
// an override deleted) and draws the form again; onState(state, form) is called with each new
// state (the page subscribes to the shared poller, which also keeps the tab's pills current).
// Returns {stop, current}.
export function configPage(root, name, { body, after, onState }) {
  root.innerHTML = `${sectionNav(name)}
    <p class="banner error" id="alerts-error" role="alert" hidden></p>
    <form id="${name}-form" class="alerts-config" novalidate><p class="muted">Loading…</p></form>`;
  const form = root.querySelector('form'), errBox = root.querySelector('#alerts-error');
  let cfg = null, alive = true;
  const showError = (msg) => { errBox.hidden = !msg; errBox.textContent = msg || ''; };

  function draw() {
    form.innerHTML = body(cfg) + `<div class="savebar"><button type="submit" id="save-config">Save</button>
      <button type="button" class="secondary" id="discard-config">Discard changes</button>
      <span id="dirty" class="muted" aria-live="polite"></span>
      <span id="save-ok" class="ok" role="status"></span>
      <span id="save-error" class="form-error" role="alert" hidden></span></div>`;
    fillFields(form, cfg);
    if (after) after(cfg, form, change);
  }
  function change(fn) { readFields(form, cfg); fn(cfg); draw(); dirty(true); }
  function dirty(on) { const d = form.querySelector('#dirty'); if (d) d.textContent = on ? 'Unsaved changes' : ''; }
  // While the configuration loads, the form on screen takes no input (a change made to it
  // now would be lost when the answer redraws it).
  async function load() {
    form.inert = true;
    try {
      cfg = await loadConfig();
      if (!alive) return;
      showError('');
      draw();
    } catch (err) {
      if (alive) showError(`Cannot load the alert configuration: ${err.message}`);
    } finally {
      form.inert = false;
    }
  }
  form.addEventListener('input', () => { form.querySelector('#save-ok').textContent = ''; dirty(true); });
  form.addEventListener('click', (ev) => {
    if (ev.target.id === 'discard-config') { showError(''); load(); }
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!cfg) return;
    const draft = readFields(form, structuredClone(cfg));
    const btn = form.querySelector('#save-config'), saveErr = form.querySelector('#save-error');
    btn.disabled = true;
    saveErr.hidden = true;
    try {
      const res = await saveConfig(draft);
      showError('');
      await load();
      form.querySelector('#save-ok').textContent = (res && res.message) || 'Saved';
    } catch (err) {
      // Next to Save (the bar stays in view), so the message is seen where the click was.
      saveErr.hidden = false;
      saveErr.textContent = `Not saved: ${err.message}`;
    } finally {
      btn.disabled = false;
    }
  });
  load();
  const unwatch = watchState((st) => { if (onState && cfg) onState(st, form); });
  return { stop: () => { alive = false; unwatch(); }, current: () => cfg };
}
