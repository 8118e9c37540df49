// settings-system.js: Settings → System → General (reference/ui.md §6.4, the parts our API
// has): this browser's display preferences (temperatures in °C or °F, format.js), mock mode
// on or off with its estate's size (GET/PUT /api/system/mock-mode), and the server's system
// settings: GET /api/system/settings fills the form, POST /api/system/settings/update saves
// every field it takes (monitoring cadence, backup polling, network and embedding, login and
// Docker actions, theme, update checks). A field a PULSE_* environment variable pins
// (envOverrides) is disabled with a note and not sent; the API's 400 message shows in the
// form's banner (nothing is stored then).
import { get, request, post } from './api.js';
import { esc } from './format.js';
import { refreshState } from './state.js';
import { settingsFrame, notice, clearNotice, readForm, busy } from './settings.js';
import { tempUnit, setTempUnit } from './format.js';

// envOverrides names the original's environment variable where it has one.
const PINS = { PVE_POLLING_INTERVAL: 'pvePollingInterval', BACKUP_POLLING_INTERVAL: 'backupPollingInterval',
  BACKUP_POLLING_CYCLES: 'backupPollingInterval', ENABLE_BACKUP_POLLING: 'backupPollingEnabled',
  ALLOWED_ORIGINS: 'allowedOrigins', PULSE_AUTH_HIDE_LOCAL_LOGIN: 'hideLocalLogin',
  PULSE_DISABLE_DOCKER_UPDATE_ACTIONS: 'disableDockerUpdateActions' };
// The form's fields: number inputs whose absence in the answer means 0.
const ZERO_WHEN_ABSENT = ['backupPollingInterval', 'autoUpdateCheckInterval'];
const num = (name, label, min, max, hint = '') => `<label>${label}
  <input type="number" name="${name}" min="${min}" max="${max}" step="1" inputmode="numeric">${hint ? `<span class="hint">${hint}</span>` : ''}</label>`;
const box = (name, label) => `<label class="check"><input type="checkbox" name="${name}"> ${label}</label>`;
const text = (name, label, placeholder = '', type = 'text') => `<label>${label}
  <input name="${name}" type="${type}" placeholder="${placeholder}" autocomplete="off" spellcheck="false"></label>`;

export function mount(root, ctx) {
  const body = settingsFrame(root, ctx.path, 'System');
  body.innerHTML = `<section class="card" id="display-card"><h2>Display</h2>
      <p class="hint">Kept in this browser.</p>
      <fieldset><legend>Temperatures</legend><div class="checks">
        <label class="check"><input type="radio" name="temperatureUnit" value="celsius"> °C</label>
        <label class="check"><input type="radio" name="temperatureUnit" value="fahrenheit"> °F</label></div>
      </fieldset></section>
    <form id="system-form" class="card" novalidate aria-labelledby="system-h"><h2 id="system-h">Server settings</h2>
      <p class="hint">Stored on the server for every user; a change takes effect at the next poll.</p>
      <p class="banner info" id="system-env" hidden></p>
      <fieldset><legend>Monitoring cadence (seconds)</legend><div class="checks">
        ${num('pvePollingInterval', 'Proxmox VE polling', 10, 3600)}
        ${num('pbsPollingInterval', 'Backup Server polling', 10, 3600)}
        ${num('pmgPollingInterval', 'Mail Gateway polling', 10, 3600)}
        ${num('connectionTimeout', 'Connection timeout', 0, 300)}</div>
        <p class="hint">10 to 3600 s (the original offers 10, 15, 30, 60, 120 and 300); the timeout 0 to 300 s.</p>
      </fieldset>
      <fieldset><legend>Backup polling</legend>
        ${box('backupPollingEnabled', 'Poll backups')}
        ${num('backupPollingInterval', 'Interval (seconds)', 0, 604800, '0: every few polling cycles (the default); else 10 s to 7 days.')}
      </fieldset>
      <fieldset><legend>Network</legend>
        ${text('publicURL', 'Public URL of Pulse (links in notifications)', 'https://pulse.example.org', 'url')}
        ${text('allowedOrigins', 'Allowed origins (CORS)', '*')}
        ${text('webhookAllowedPrivateCIDRs', 'Private networks webhooks may reach (comma-separated CIDRs or addresses)', '192.168.1.0/24, 10.0.0.5')}
        ${box('allowEmbedding', 'Allow embedding in other sites (iframes)')}
        ${text('allowedEmbedOrigins', 'Origins that may embed (comma-separated; empty: any)', 'https://dash.example.org')}
        <p class="hint">An empty public URL, webhook network list or embed origins is saved as empty; the allowed origins
          keep their value when left empty.</p>
      </fieldset>
      <fieldset><legend>Network discovery</legend>
        ${box('discoveryEnabled', 'Discover Proxmox servers on the network')}
        ${text('discoverySubnet', 'Subnet to scan (“auto” or a CIDR)', 'auto')}
      </fieldset>
      <fieldset><legend>Interface and agents</legend>
        ${box('hideLocalLogin', 'Hide the user name and password login (single sign-on only)')}
        ${box('disableDockerUpdateActions', 'Disable Docker container update actions')}
        ${box('temperatureMonitoringEnabled', 'Monitor temperatures')}
        <label>Theme (of the original's UI; this one follows the browser's colour scheme)
          <select name="theme"><option value="">as the system</option><option value="light">light</option><option value="dark">dark</option></select></label>
      </fieldset>
      <fieldset><legend>Update checks</legend>
        <label>Channel <select name="updateChannel"><option value="stable">Stable</option><option value="rc">Release candidate</option></select></label>
        ${box('autoUpdateEnabled', 'Check for updates automatically (installing stays manual)')}
        <div class="checks">${num('autoUpdateCheckInterval', 'Every (hours, 0 to 168)', 0, 168)}
        <label>At <input type="time" name="autoUpdateTime"></label></div>
      </fieldset>
      <p class="banner" id="system-msg" hidden></p>
      <div class="actions"><button type="submit" id="system-save">Save</button></div>
    </form>
    <section class="card" id="mock-card"><h2>Mock mode <span class="badge" id="mock-state">…</span></h2>
      <p class="hint">A generated estate (nodes, guests, storage, agents) in place of the real one, for demonstrations
        and trying the UI; real polling goes on underneath. Node settings cannot change while it is on.</p>
      <form id="mock-form">
        <label class="check"><input type="checkbox" name="enabled" role="switch" id="mock-enabled"> Mock mode on</label>
        <fieldset><legend>Generated estate</legend><div class="checks">
          <label>Nodes <input type="number" name="nodeCount" min="1" max="100"></label>
          <label>VMs per node <input type="number" name="vmsPerNode" min="0" max="500"></label>
          <label>Containers per node <input type="number" name="lxcsPerNode" min="0" max="500"></label>
          <label>Stopped guests (%) <input type="number" name="stoppedPercent" min="0" max="100" step="1"></label></div>
          <label class="check"><input type="checkbox" name="randomMetrics"> Metrics drift</label>
        </fieldset>
        <p class="banner" id="mock-msg" hidden></p>
        <div class="actions"><button type="submit" id="mock-save">Save</button></div>
      </form></section>`;
  for (const radio of body.querySelectorAll('input[name=temperatureUnit]')) {
    radio.checked = radio.value === tempUnit();
    radio.addEventListener('change', () => { if (radio.checked) setTempUnit(radio.value); });
  }

  // --- the server's settings ---
  const sys = body.querySelector('#system-form'), sysMsg = body.querySelector('#system-msg');
  const save = sys.querySelector('#system-save');
  save.disabled = true;
  // What the form showed as loaded: only the fields changed since are sent, so that a value
  // that comes from pulse.conf is not copied into the stored settings.
  let loaded = {};
  function showSettings(s) {
    for (const el of sys.elements) {
      if (!el.name) continue;
      const v = s[el.name];
      if (el.type === 'checkbox') el.checked = Boolean(v);
      else if (el.name === 'updateChannel') el.value = v === 'rc' ? 'rc' : 'stable';
      else el.value = v ?? (ZERO_WHEN_ABSENT.includes(el.name) ? 0 : '');
    }
    // The API takes a theme only when it is not empty: once one is stored, "as the system"
    // cannot be chosen again.
    const asSystem = sys.elements.theme.querySelector('option[value=""]');
    asSystem.hidden = asSystem.disabled = Boolean(s.theme);
    const pinned = new Set(Object.keys(s.envOverrides || {}).filter((k) => s.envOverrides[k]).map((k) => PINS[k] || k));
    for (const el of sys.elements) {
      if (!el.name) continue;
      el.disabled = pinned.has(el.name);
      const label = el.closest('label');
      label.querySelector('.env-note')?.remove();
      if (el.disabled) label.insertAdjacentHTML('beforeend', '<span class="env-note hint">set by an environment variable</span>');
    }
    const envBox = body.querySelector('#system-env');
    const names = Object.keys(s.envOverrides || {});
    envBox.hidden = !names.length;
    envBox.innerHTML = names.length ? `Pinned by the server's environment: ${names.map((k) => `<code>${esc(k)}</code>`).join(', ')}.
      Those fields cannot be changed here.` : '';
    loaded = readForm(sys);
    save.disabled = false;
  }
  const load = () => get('/api/system/settings').then((r) => showSettings(r.body));
  load().catch((err) => notice(sysMsg, 'error', err.message));
  sys.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(save, async () => {
      clearNotice(sysMsg);
      const v = readForm(sys), b = {};
      for (const k of ZERO_WHEN_ABSENT) if (k in v && v[k] == null) v[k] = 0;
      // An emptied number is sent as null: the API then names the field in its message.
      for (const [k, x] of Object.entries(v)) if (x !== loaded[k]) b[k] = x;
      if (!Object.keys(b).length) { notice(sysMsg, 'info', 'Nothing changed.'); return; }
      try {
        await post('/api/system/settings/update', b);
        await load();
        notice(sysMsg, 'ok', `Saved: ${Object.keys(b).join(', ')}.`);
      } catch (err) { notice(sysMsg, 'error', err.message); }
    });
  });

  // --- mock mode ---
  const mock = body.querySelector('#mock-form'), mockMsg = body.querySelector('#mock-msg');
  const stateBadge = body.querySelector('#mock-state');
  function show(m) {
    const c = m.config || {};
    stateBadge.textContent = m.enabled ? 'On' : 'Off';
    stateBadge.className = `badge ${m.enabled ? 'warn' : ''}`;
    mock.elements.enabled.checked = Boolean(m.enabled);
    mock.elements.nodeCount.value = c.NodeCount ?? '';
    mock.elements.vmsPerNode.value = c.VMsPerNode ?? '';
    mock.elements.lxcsPerNode.value = c.LXCsPerNode ?? '';
    mock.elements.stoppedPercent.value = c.StoppedPercent != null ? Math.round(c.StoppedPercent * 100) : '';
    mock.elements.randomMetrics.checked = c.RandomMetrics !== false;
  }
  get('/api/system/mock-mode').then((r) => show(r.body)).catch((err) => notice(mockMsg, 'error', err.message));
  mock.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(mock.querySelector('#mock-save'), async () => {
      clearNotice(mockMsg);
      const v = readForm(mock);
      const config = { randomMetrics: v.randomMetrics };
      for (const k of ['nodeCount', 'vmsPerNode', 'lxcsPerNode']) if (v[k] != null) config[k] = v[k];
      if (v.stoppedPercent != null) config.stoppedPercent = v.stoppedPercent / 100;
      try {
        const r = (await request('PUT', '/api/system/mock-mode', { body: { enabled: v.enabled, config } })).body;
        show(r);
        refreshState();
        notice(mockMsg, 'ok', `Mock mode is ${r.enabled ? 'on' : 'off'}.`);
      } catch (err) { notice(mockMsg, 'error', err.message); }
    });
  });
  return () => {};
}
