// settings-tokens.js: Settings → API Tokens (reference/ui.md §6.3): the tokens (name, the
// first and last characters, scopes, created, last used), a new token with a scope picker
// (presets, or scopes one by one, or full access) shown once with a copy button, and Revoke
// (confirmed). GET, POST /api/security/tokens and DELETE /api/security/tokens/{id}.
import { get, post, request } from './api.js';
import { mountTable } from './table.js';
import { esc, when } from './format.js';
import { settingsFrame, notice, clearNotice, confirmDialog, copyText, readForm, busy, showFieldErrors } from './settings.js';

// The scopes our API knows (docs/API.md, "Scopes"); it has no route that lists them.
const SCOPES = [
  ['monitoring:read', 'Monitoring: read (dashboards, state, alerts)'], ['monitoring:write', 'Monitoring: write (acknowledge alerts …)'],
  ['settings:read', 'Settings: read'], ['settings:write', 'Settings: write'],
  ['host-agent:report', 'Host agent: report'], ['host-agent:manage', 'Host agent: manage'],
  ['docker:report', 'Docker agent: report'], ['docker:manage', 'Docker: manage'],
  ['kubernetes:report', 'Kubernetes agent: report'], ['kubernetes:manage', 'Kubernetes: manage'],
];
const PRESETS = [
  ['Kiosk / dashboard', ['monitoring:read']], ['Host agent', ['host-agent:report']],
  ['Docker agent', ['docker:report']], ['Docker agent with updates', ['docker:report', 'docker:manage']],
  ['Kubernetes agent', ['kubernetes:report']], ['Settings read', ['settings:read']],
  ['Settings admin', ['settings:read', 'settings:write']],
];

const scopeChips = (t) => (t.scopes || []).map((s) => `<span class="chip${s === '*' ? ' bad' : ''}">${s === '*' ? 'full access (*)' : esc(s)}</span>`).join(' ');

export function mount(root, ctx) {
  const body = settingsFrame(root, ctx.path, 'API Tokens');
  body.innerHTML = `<p class="banner" id="tokens-msg" hidden></p>
    <div id="token-new" hidden></div>
    <section class="card"><h2>Create a token</h2>
      <form id="token-form">
        <label>Name <input name="name" required maxlength="200" placeholder="e.g. Grafana, wall display" autocomplete="off"></label>
        <fieldset><legend>Scopes</legend>
          <p class="hint">Presets: ${PRESETS.map(([label], i) => `<button type="button" class="secondary" data-preset="${i}">${esc(label)}</button>`).join(' ')}</p>
          <label class="check"><input type="checkbox" name="full" id="scope-full"> <span>Full access (<code>*</code>): everything an administrator can do</span></label>
          <div class="checks" id="scope-list">${SCOPES.map(([s, label]) =>
    `<label class="check"><input type="checkbox" name="scope" value="${s}"> ${esc(label)}</label>`).join('')}</div>
        </fieldset>
        <p class="banner" id="token-form-msg" hidden></p>
        <div class="actions"><button type="submit" id="token-create">Create token</button></div>
      </form></section>
    <section class="card"><h2>Tokens</h2><div id="token-list"></div></section>`;
  const msg = body.querySelector('#tokens-msg'), form = body.querySelector('#token-form');
  const formMsg = body.querySelector('#token-form-msg'), newBox = body.querySelector('#token-new');
  const boxes = () => [...form.querySelectorAll('input[name=scope]')];
  const table = mountTable(body.querySelector('#token-list'), {
    id: 'token-table',
    columns: [{ key: 'name', label: 'Name' }, { key: 'hint', label: 'Token' }, { key: 'scopes', label: 'Scopes' },
      { key: 'created', label: 'Created' }, { key: 'used', label: 'Last used' }, { key: 'act', label: 'Actions' }],
    row: (t) => `<tr data-id="${esc(t.id)}"><td>${esc(t.name)}</td><td><code>${esc(t.prefix)}…${esc(t.suffix)}</code></td>
      <td>${scopeChips(t)}</td><td>${esc(when(t.createdAt))}</td><td>${t.lastUsedAt ? esc(when(t.lastUsedAt)) : '<span class="muted">never</span>'}</td>
      <td class="actions"><button type="button" class="danger" data-act="revoke">Revoke</button></td></tr>`,
    empty: 'No API token exists.',
  });
  let tokens = [];

  async function load() {
    try {
      tokens = (await get('/api/security/tokens')).body.tokens || [];
      table.set(tokens);
    } catch (err) { notice(msg, 'error', err.message); }
  }

  form.addEventListener('click', (ev) => {
    const p = ev.target.closest('button[data-preset]');
    if (!p) return;
    const want = PRESETS[Number(p.dataset.preset)][1];
    form.querySelector('#scope-full').checked = false;
    for (const b of boxes()) { b.checked = want.includes(b.value); b.disabled = false; }
  });
  form.querySelector('#scope-full').addEventListener('change', (ev) => {
    for (const b of boxes()) b.disabled = ev.target.checked;
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(form.querySelector('#token-create'), async () => {
      clearNotice(formMsg);
      const v = readForm(form);
      const scopes = v.full ? ['*'] : boxes().filter((b) => b.checked).map((b) => b.value);
      if (!scopes.length) { notice(formMsg, 'error', 'Choose at least one scope, a preset or full access.'); return; }
      try {
        const r = (await post('/api/security/tokens', { name: v.name, scopes })).body;
        showNew(r.token, r.record);
        form.reset();
        for (const b of boxes()) b.disabled = false;
        load();
      } catch (err) { showFieldErrors(form, err); notice(formMsg, 'error', err.message); }
    });
  });

  // The new token, once: it cannot be read again.
  function showNew(raw, rec) {
    newBox.innerHTML = `<section class="card" aria-live="polite"><h2>New token “${esc(rec.name)}”</h2>
      <p>Copy it now: it is shown only this once. Scopes: ${scopeChips(rec)}</p>
      <div class="token-box"><pre class="token" id="new-token">${esc(raw)}</pre>
        <button type="button" id="token-copy">Copy</button><span id="token-copied" role="status" class="muted"></span></div>
      <div class="actions"><button type="button" class="secondary" id="token-done">Done, hide it</button></div></section>`;
    newBox.hidden = false;
    newBox.querySelector('#token-copy').addEventListener('click', async () => {
      newBox.querySelector('#token-copied').textContent = await copyText(raw) ? 'Copied to the clipboard.' : 'Copy failed: select the token and copy it.';
    });
    newBox.querySelector('#token-done').addEventListener('click', () => { newBox.hidden = true; newBox.innerHTML = ''; });
    newBox.querySelector('#token-copy').focus();
  }

  body.querySelector('#token-list').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-act=revoke]');
    const t = b && tokens.find((x) => x.id === b.closest('tr').dataset.id);
    if (!t) return;
    busy(b, async () => {
      clearNotice(msg);
      if (!await confirmDialog(`Revoke the token “${t.name}” (${t.prefix}…${t.suffix})? Whatever uses it loses access at once.`, 'Revoke')) return;
      try {
        await request('DELETE', `/api/security/tokens/${encodeURIComponent(t.id)}`);
        notice(msg, 'ok', `Revoked “${t.name}”.`);
        load();
      } catch (err) { notice(msg, 'error', err.message); }
    });
  });
  load();
  return () => table.destroy();
}
