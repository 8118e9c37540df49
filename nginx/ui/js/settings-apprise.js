// settings-apprise.js: Settings → Notifications → Apprise (reference/ui.md §5
// "Notifications"): the local apprise program with its targets, or a remote Apprise API;
// GET/PUT /api/notifications/apprise (the API normalises what it stores and answers it; a
// stored API key comes back as ***REDACTED***, and sending that keeps it); "Send test" sends
// the unsaved form (POST /api/notifications/test, method apprise).
import { get, request } from './api.js';
import { settingsFrame, notice, clearNotice, readForm, busy, testButton } from './settings.js';

const REDACTED = '***REDACTED***';

export function mount(root, ctx) {
  const body = settingsFrame(root, ctx.path, 'Apprise notifications');
  body.innerHTML = `<section class="card"><h2>Apprise</h2>
    <form id="apprise-form" novalidate>
      <label class="check"><input type="checkbox" name="enabled"> Send alerts through Apprise</label>
      <div class="radios" role="radiogroup" aria-label="Delivery">
        <label class="check"><input type="radio" name="mode" value="cli"> Local Apprise program</label>
        <label class="check"><input type="radio" name="mode" value="http"> Remote Apprise API</label>
      </div>
      <fieldset data-mode="cli"><legend>Local program</legend>
        <label>Targets (one Apprise URL a line) <textarea name="targets" rows="3" class="code" placeholder="discord://webhook_id/webhook_token"></textarea></label>
        <label>Program path <input name="cliPath" placeholder="apprise" autocomplete="off"></label>
      </fieldset>
      <fieldset data-mode="http"><legend>Remote API</legend>
        <label>Server URL <input name="serverUrl" type="url" placeholder="https://apprise.example.org" autocomplete="off"></label>
        <label>Configuration key (optional: /notify/&lt;key&gt;) <input name="configKey" autocomplete="off"></label>
        <label>API key (optional) <input name="apiKey" type="password" autocomplete="new-password"></label>
        <label>API key header <input name="apiKeyHeader" placeholder="X-API-KEY" autocomplete="off"></label>
        <label class="check"><input type="checkbox" name="skipTlsVerify"> Accept a self-signed certificate</label>
      </fieldset>
      <label>Timeout (seconds, 5 to 120) <input name="timeoutSeconds" type="number" min="5" max="120"></label>
      <p class="banner" id="apprise-msg" hidden></p>
      <div class="actions"><button type="submit" id="apprise-save">Save</button>
        <button type="button" class="secondary" id="apprise-test">Send test</button></div>
    </form></section>`;
  const form = body.querySelector('#apprise-form'), msg = body.querySelector('#apprise-msg');
  let storedKey = false;

  const showMode = () => {
    const mode = readForm(form).mode || 'cli';
    for (const fs of form.querySelectorAll('fieldset[data-mode]')) fs.hidden = fs.dataset.mode !== mode;
  };
  form.addEventListener('change', (ev) => { if (ev.target.name === 'mode') showMode(); });

  function fill(c) {
    const f = form.elements;
    f.enabled.checked = Boolean(c.enabled);
    for (const r of form.querySelectorAll('input[name=mode]')) r.checked = r.value === (c.mode || 'cli');
    f.targets.value = (c.targets || []).join('\n');
    f.cliPath.value = c.cliPath || '';
    f.serverUrl.value = c.serverUrl || '';
    f.configKey.value = c.configKey || '';
    storedKey = c.apiKey === REDACTED;
    f.apiKey.value = '';
    f.apiKey.placeholder = storedKey ? 'stored; leave blank to keep it' : '';
    f.apiKeyHeader.value = c.apiKeyHeader || '';
    f.skipTlsVerify.checked = Boolean(c.skipTlsVerify);
    f.timeoutSeconds.value = c.timeoutSeconds || '';
    showMode();
  }
  function config() {
    const v = readForm(form);
    return { enabled: v.enabled, mode: v.mode || 'cli', targets: v.targets.split('\n').map((x) => x.trim()).filter(Boolean),
      cliPath: v.cliPath, serverUrl: v.serverUrl, configKey: v.configKey,
      apiKey: v.apiKey || (storedKey ? REDACTED : ''), apiKeyHeader: v.apiKeyHeader,
      skipTlsVerify: v.skipTlsVerify, timeoutSeconds: v.timeoutSeconds ?? 0 };
  }

  get('/api/notifications/apprise').then((r) => fill(r.body)).catch((err) => notice(msg, 'error', err.message));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(form.querySelector('#apprise-save'), async () => {
      clearNotice(msg);
      const sent = config();
      try {
        const saved = (await request('PUT', '/api/notifications/apprise', { body: sent })).body;
        fill(saved);
        notice(msg, 'ok', sent.enabled && !saved.enabled
          ? `Saved, but not enabled: ${saved.mode === 'http' ? 'a server URL' : 'at least one target'} is needed.` : 'Saved.');
      } catch (err) { notice(msg, 'error', err.message); }
    });
  });
  testButton(form.querySelector('#apprise-test'), msg, 'apprise', config);
  return () => {};
}
