// settings-system.js: Settings → System (reference/ui.md §6.4, the parts our API has): this
// browser's display preferences (temperatures in °C or °F, format.js), mock
// mode on or off with its estate's size (GET/PUT /api/system/mock-mode), and the settings
// POST /api/system/settings/update takes: the public URL used in notifications and the
// private networks webhooks may reach. The page does not read those two back yet (GET
// /api/system/settings), so their fields start empty and say so.
import { get, request, post } from './api.js';
import { refreshState } from './state.js';
import { settingsFrame, notice, clearNotice, readForm, busy } from './settings.js';
import { tempUnit, setTempUnit } from './format.js';

export function mount(root, ctx) {
  const body = settingsFrame(root, ctx.path, 'System');
  body.innerHTML = `<section class="card" id="display-card"><h2>Display</h2>
      <p class="hint">Kept in this browser.</p>
      <fieldset><legend>Temperatures</legend><div class="checks">
        <label class="check"><input type="radio" name="temperatureUnit" value="celsius"> °C</label>
        <label class="check"><input type="radio" name="temperatureUnit" value="fahrenheit"> °F</label></div>
      </fieldset></section>
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
      </form></section>
    <section class="card"><h2>Notification addresses</h2>
      <form id="system-form" novalidate>
        <p class="hint">The current values cannot be read back yet (the API has no GET for them): a field left empty
          is not sent; tick “clear” to remove a value.</p>
        <label>Public URL of Pulse (links in notifications) <input name="publicURL" type="url" placeholder="https://pulse.example.org" autocomplete="off"></label>
        <label class="check"><input type="checkbox" name="clearPublicURL"> clear the public URL</label>
        <label>Private networks webhooks may reach (comma-separated CIDRs or addresses)
          <input name="webhookAllowedPrivateCIDRs" placeholder="192.168.1.0/24, 10.0.0.5" autocomplete="off"></label>
        <label class="check"><input type="checkbox" name="clearCIDRs"> clear the list (webhooks reach public addresses only)</label>
        <p class="banner" id="system-msg" hidden></p>
        <div class="actions"><button type="submit" id="system-save">Save</button></div>
      </form></section>`;
  for (const radio of body.querySelectorAll('input[name=temperatureUnit]')) {
    radio.checked = radio.value === tempUnit();
    radio.addEventListener('change', () => { if (radio.checked) setTempUnit(radio.value); });
  }

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

  const sys = body.querySelector('#system-form'), sysMsg = body.querySelector('#system-msg');
  sys.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(sys.querySelector('#system-save'), async () => {
      clearNotice(sysMsg);
      const v = readForm(sys), b = {};
      if (v.clearPublicURL) b.publicURL = ''; else if (v.publicURL) b.publicURL = v.publicURL;
      if (v.clearCIDRs) b.webhookAllowedPrivateCIDRs = ''; else if (v.webhookAllowedPrivateCIDRs) b.webhookAllowedPrivateCIDRs = v.webhookAllowedPrivateCIDRs;
      if (!Object.keys(b).length) { notice(sysMsg, 'info', 'Nothing to save.'); return; }
      try {
        await post('/api/system/settings/update', b);
        notice(sysMsg, 'ok', `Saved: ${Object.entries(b).map(([k, x]) => `${k} ${x ? `= ${x}` : 'cleared'}`).join('; ')}.`);
      } catch (err) { notice(sysMsg, 'error', err.message); }
    });
  });
  return () => {};
}
