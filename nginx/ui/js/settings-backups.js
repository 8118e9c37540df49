// settings-backups.js: Settings → System → Backups (reference/ui.md §6.4; security.md §10):
// the passphrase-encrypted configuration export (POST /api/config/export; the whole JSON
// answer saved as pulse-config-YYYY-MM-DD.json, as the original's UI does) and import (POST
// /api/config/import) of such a file in any of the forms the original's UI reads:
// {"status","data"}, {"data"}, a JSON string, or the raw base64 bundle. The import replaces
// the configuration, so it asks first; its answer's counts are shown.
import { post } from './api.js';
import { esc } from './format.js';
import { settingsFrame, notice, clearNotice, busy, confirmDialog } from './settings.js';

// The bundle (base64 text) in a file's text, or null.
export function bundleOf(text) {
  const t = text.trim();
  let v;
  try { v = JSON.parse(t); } catch { return /^[A-Za-z0-9+/=\s]+$/.test(t) && t ? t.replace(/\s+/g, '') : null; }
  if (typeof v === 'string') return v.trim() || null;
  if (v && typeof v === 'object' && typeof v.data === 'string') return v.data.trim() || null;
  return null;
}

const COUNTS = [['pveInstances', 'PVE nodes'], ['pbsInstances', 'PBS instances'], ['pmgInstances', 'PMG instances'],
  ['webhooks', 'webhooks'], ['apiTokens', 'API tokens'], ['systemSettings', 'system settings']];
const PARTS = [['alerts', 'alert settings'], ['email', 'email'], ['apprise', 'apprise'], ['oidc', 'single sign-on']];

export function mount(root, ctx) {
  const body = settingsFrame(root, ctx.path, 'Backups');
  body.innerHTML = `<section class="card"><h2>Export the configuration</h2>
      <p class="hint">Nodes with their credentials, alert and notification settings, API tokens, single sign-on and system
        settings, encrypted with a passphrase (AES-256-GCM). Keep the passphrase: the file is useless without it.</p>
      <form id="export-form" novalidate>
        <div class="checks"><label>Passphrase (at least 12 characters)
          <input name="passphrase" type="password" minlength="12" autocomplete="new-password"></label>
        <label>Passphrase again <input name="again" type="password" autocomplete="new-password"></label></div>
        <p class="banner" id="export-msg" hidden></p>
        <div class="actions"><button type="submit" id="export-go">Export</button></div>
      </form></section>
    <section class="card"><h2>Import a configuration</h2>
      <p class="hint">Replaces this server's nodes, alert and notification settings, API tokens, single sign-on and system
        settings with the file's. Files exported by Pulse (this server or the original) are read.</p>
      <form id="import-form" novalidate>
        <label>Exported file <input name="file" type="file" accept=".json,.txt,.enc,application/json,text/plain"></label>
        <label>Passphrase <input name="passphrase" type="password" autocomplete="off"></label>
        <p class="banner" id="import-msg" hidden></p>
        <ul id="import-counts" class="plain" hidden></ul>
        <div class="actions"><button type="submit" id="import-go">Import</button></div>
      </form></section>`;
  const $ = (s) => body.querySelector(s);
  const ex = $('#export-form'), exMsg = $('#export-msg'), im = $('#import-form'), imMsg = $('#import-msg');

  ex.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy($('#export-go'), async () => {
      clearNotice(exMsg);
      const p = ex.elements.passphrase.value, again = ex.elements.again.value;
      if (p.length < 12) { notice(exMsg, 'error', 'The passphrase needs at least 12 characters.'); return; }
      if (p !== again) { notice(exMsg, 'error', 'The two passphrases differ.'); return; }
      try {
        const r = (await post('/api/config/export', { passphrase: p })).body;
        const name = `pulse-config-${new Date().toISOString().slice(0, 10)}.json`;
        const url = URL.createObjectURL(new Blob([JSON.stringify(r)], { type: 'application/json' }));
        const a = document.createElement('a');
        a.href = url;
        a.download = name;
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 1000);
        ex.reset();
        notice(exMsg, 'ok', `Exported: ${name}.`);
      } catch (err) { notice(exMsg, 'error', err.message); }
    });
  });

  im.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy($('#import-go'), async () => {
      clearNotice(imMsg);
      $('#import-counts').hidden = true;
      const file = im.elements.file.files[0], pass = im.elements.passphrase.value;
      if (!file) { notice(imMsg, 'error', 'Choose the exported file.'); return; }
      if (!pass) { notice(imMsg, 'error', 'The passphrase is required.'); return; }
      const data = bundleOf(await file.text());
      if (!data) { notice(imMsg, 'error', 'This file holds no exported configuration.'); return; }
      if (!await confirmDialog(`Import ${file.name}? It replaces this server's configuration (nodes, settings, API tokens).`,
        'Import')) return;
      try {
        const r = (await post('/api/config/import', { data, passphrase: pass })).body;
        const got = r.imported || {};
        notice(imMsg, 'ok', r.message || 'Configuration imported.');
        const lines = COUNTS.filter(([k]) => k in got).map(([k, label]) => `<li data-key="${k}">${esc(got[k])} ${label}</li>`)
          .concat(PARTS.filter(([k]) => k in got).map(([k, label]) =>
            `<li data-key="${k}">${label}: ${got[k] ? 'imported' : 'none in the file'}</li>`));
        $('#import-counts').innerHTML = lines.join('');
        $('#import-counts').hidden = !lines.length;
        im.elements.passphrase.value = '';
      } catch (err) { notice(imMsg, 'error', err.message); }
    });
  });
  return () => {};
}
