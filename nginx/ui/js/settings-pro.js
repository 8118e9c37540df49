// settings-pro.js: Settings → System → Pulse Pro (reference/ui.md §6.4; security.md §11):
// the licence's status (GET /api/license/status: tier, email, expiry or lifetime, days
// left, grace period, features), what it unlocks (GET /api/license/features), a key pasted
// and activated (POST /api/license/activate: the API's message when refused), and Clear
// (POST /api/license/clear) after a confirm.
import { get, post } from './api.js';
import { esc, when } from './format.js';
import { settingsFrame, notice, clearNotice, busy, confirmDialog } from './settings.js';

const FEATURE_NAMES = { ai_patrol: 'AI patrol', ai_alerts: 'AI alert analysis', ai_autofix: 'AI auto-fix',
  kubernetes_ai: 'Kubernetes AI', update_alerts: 'Update alerts', agent_profiles: 'Agent profiles' };

export function mount(root, ctx) {
  const body = settingsFrame(root, ctx.path, 'Pulse Pro');
  body.innerHTML = `<section class="card"><h2>Licence <span class="badge" id="lic-state">…</span></h2>
      <dl class="facts" id="lic-status"></dl>
      <h3>Licensed features</h3><ul id="lic-features" class="plain"></ul>
      <p class="banner" id="lic-msg" hidden></p>
      <div class="actions"><button type="button" class="danger" id="lic-clear" hidden>Clear licence</button></div>
    </section>
    <section class="card"><h2>Activate a licence</h2>
      <form id="lic-form" novalidate>
        <label>Licence key <textarea name="key" rows="4" class="code" spellcheck="false" autocomplete="off"
          placeholder="eyJ…"></textarea></label>
        <p class="banner" id="lic-form-msg" hidden></p>
        <div class="actions"><button type="submit" id="lic-activate">Activate</button></div>
      </form></section>
    <section class="card"><h2>Pro features <span class="badge" id="feat-state"></span></h2>
      <table class="grid" id="feat-table"><thead><tr><th>Feature</th><th>Available</th></tr></thead><tbody></tbody></table>
      <p class="hint" id="feat-upgrade"></p></section>`;
  const $ = (s) => body.querySelector(s);
  const msg = $('#lic-msg'), form = $('#lic-form'), fmsg = $('#lic-form-msg');

  function showStatus(s) {
    const state = $('#lic-state');
    state.textContent = s.valid ? (s.in_grace_period ? 'grace period' : 'active') : 'none';
    state.className = `badge ${s.valid ? (s.in_grace_period ? 'warn' : 'ok') : ''}`;
    const rows = [['Tier', s.tier]];
    if (s.valid) {
      rows.push(['Email', s.email || '-']);
      rows.push(['Expires', s.is_lifetime ? 'never (lifetime)' : when(s.expires_at)]);
      if (!s.is_lifetime) rows.push(['Days left', String(s.days_remaining)]);
      if (s.in_grace_period) rows.push(['Grace period until', when(s.grace_period_end)]);
      if (s.max_nodes) rows.push(['Max nodes', String(s.max_nodes)]);
      if (s.max_guests) rows.push(['Max guests', String(s.max_guests)]);
    }
    $('#lic-status').innerHTML = rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd data-key="${esc(k)}">${esc(v)}</dd>`).join('');
    const f = s.features || [];
    $('#lic-features').innerHTML = f.length ? f.map((x) => `<li><code>${esc(x)}</code></li>`).join('')
      : '<li class="muted">None: no licence is active.</li>';
    $('#lic-clear').hidden = !s.valid;
  }
  function showFeatures(r) {
    $('#feat-state').textContent = r.license_status || '';
    $('#feat-table tbody').innerHTML = Object.entries(r.features || {}).map(([k, on]) =>
      `<tr data-feature="${esc(k)}"><td>${esc(FEATURE_NAMES[k] || k)}</td>
        <td>${on ? '<span class="badge ok">yes</span>' : '<span class="badge">no</span>'}</td></tr>`).join('');
    $('#feat-upgrade').innerHTML = r.upgrade_url && r.license_status !== 'active'
      ? `Get a licence: <a href="${esc(r.upgrade_url)}" target="_blank" rel="noopener">${esc(r.upgrade_url)}</a>` : '';
  }
  async function load() {
    try {
      showStatus((await get('/api/license/status')).body);
      showFeatures((await get('/api/license/features')).body);
    } catch (err) { notice(msg, 'error', err.message); }
  }
  load();

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy($('#lic-activate'), async () => {
      clearNotice(fmsg);
      clearNotice(msg);
      try {
        const r = (await post('/api/license/activate', { license_key: form.elements.key.value.trim() })).body;
        form.elements.key.value = '';
        notice(fmsg, 'ok', r.message);
        load();
      } catch (err) { notice(fmsg, 'error', err.message); }
    });
  });
  $('#lic-clear').addEventListener('click', (ev) => busy(ev.target, async () => {
    if (!await confirmDialog('Clear the licence? The Pro features stop at once.', 'Clear licence')) return;
    try {
      notice(msg, 'ok', (await post('/api/license/clear', {})).body.message);
      load();
    } catch (err) { notice(msg, 'error', err.message); }
  }));
  return () => {};
}
