// settings-audit.js: Settings → Security → Audit Log (reference/ui.md §6.3): the events of
// GET /api/audit newest first, 100 a page (limit/offset, Prev/Next), filtered by the API's
// own query keys (event, user, success, startTime, endTime), which the URL keeps; Verify on a
// row (GET /api/audit/{id}/verify: its result stays in the row) and "Verify whole log" (GET
// /api/audit/verify: intact, or the first broken row). Below it the audit webhooks (GET and
// PUT /api/admin/webhooks/audit). Without a licence granting audit logging the API answers
// 402 license_required: its message and a link to Settings → Pulse Pro take the table's place.
import { get, request } from './api.js';
import { mountTable, viewFromUrl, viewToUrl } from './table.js';
import { esc, when } from './format.js';
import { settingsFrame, notice, clearNotice, busy } from './settings.js';

const PAGE = 100;
const DEFAULTS = { event: '', user: '', success: '', startTime: '', endTime: '', offset: '0' };
// The events the server records (docs/API.md), offered in the event filter.
const EVENTS = ['login', 'logout', 'password_change', 'lockout_reset', 'setup', 'token_created', 'token_deleted',
  'token_regenerated', 'csrf_failure', 'node_added', 'node_updated', 'node_deleted', 'agent_config_updated',
  'alert_config_updated', 'notification_config_updated', 'settings_updated', 'license_activate', 'license_clear',
  'audit_webhooks_updated', 'audit_cleanup', 'config_export', 'config_import'];

// An RFC 3339 time ⇄ the value of a datetime-local input (the browser's zone).
function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
const fromLocalInput = (v) => (v ? new Date(v).toISOString() : '');

export function mount(root, ctx) {
  const body = settingsFrame(root, ctx.path, 'Audit Log');
  body.innerHTML = `<p class="banner" id="audit-msg" hidden></p>
    <section class="card" id="audit-licence" hidden><h2>Pulse Pro</h2><p id="audit-licence-text"></p>
      <p><a href="settings/pro" data-link>Go to Settings → Pulse Pro</a> to activate a licence.</p></section>
    <section class="card" id="audit-card" hidden><h2>Events <span class="badge" id="audit-count"></span></h2>
      <form id="audit-filter" class="toolbar">
        <label>Event <input name="event" list="audit-events" autocomplete="off" size="16"></label>
        <datalist id="audit-events">${EVENTS.map((e) => `<option value="${e}">`).join('')}</datalist>
        <label>User <input name="user" autocomplete="off" size="12"></label>
        <label>Outcome <select name="success"><option value="">any</option><option value="true">success</option>
          <option value="false">failure</option></select></label>
        <label>From <input name="startTime" type="datetime-local"></label>
        <label>To <input name="endTime" type="datetime-local"></label>
        <button type="submit" id="audit-apply">Filter</button>
        <button type="button" class="secondary" id="audit-reset">Reset</button>
      </form>
      <div class="toolbar"><button type="button" class="secondary" id="audit-verify-all">Verify whole log</button>
        <span id="audit-chain" role="status"></span></div>
      <div id="audit-list"></div>
      <div class="toolbar pager"><button type="button" class="secondary" id="audit-prev">Prev</button>
        <span id="audit-range"></span><button type="button" class="secondary" id="audit-next">Next</button></div>
    </section>
    <section class="card" id="audit-hooks" hidden><h2>Audit webhooks</h2>
      <p class="hint">Each audit event is POSTed to these URLs, signed with HMAC-SHA256 (header X-Pulse-Signature).</p>
      <ul id="audit-hook-list" class="plain"></ul>
      <form id="audit-hook-form" class="toolbar" novalidate>
        <label>Webhook URL <input name="url" type="url" class="code" autocomplete="off" spellcheck="false"
          placeholder="https://siem.example.org/pulse"></label>
        <button type="submit" class="secondary" id="audit-hook-add">Add</button></form>
      <p class="hint" id="audit-hook-secret"></p>
      <p class="banner" id="audit-hook-msg" hidden></p>
      <div class="actions"><button type="button" id="audit-hook-save">Save webhooks</button></div>
    </section>`;
  const $ = (s) => body.querySelector(s);
  const msg = $('#audit-msg'), filter = $('#audit-filter');
  let view = viewFromUrl(DEFAULTS), events = [], total = 0, alive = true;
  const verified = new Map();  // id → {verified, message}

  const table = mountTable($('#audit-list'), {
    id: 'audit-table',
    fixed: false,
    rowSelector: 'tr[data-id]',
    columns: [{ key: 'time', label: 'Time' }, { key: 'event', label: 'Event' }, { key: 'user', label: 'User' },
      { key: 'ip', label: 'IP' }, { key: 'path', label: 'Path' }, { key: 'outcome', label: 'Outcome' },
      { key: 'details', label: 'Details' }, { key: 'verify', label: 'Signature' }],
    row: (e) => {
      const v = verified.get(e.id);
      return `<tr data-id="${esc(e.id)}"><td>${esc(when(e.timestamp))}</td><td><code>${esc(e.event)}</code></td>
        <td>${esc(e.user || '-')}</td><td>${esc(e.ip || '-')}</td><td class="url">${esc(e.path || '')}</td>
        <td>${e.success ? '<span class="badge ok">success</span>' : '<span class="badge bad">failure</span>'}</td>
        <td class="details">${esc(e.details || '')}</td>
        <td class="verify">${v ? `<span class="badge ${v.verified ? 'ok' : 'bad'}" title="${esc(v.message)}">${v.verified ? 'verified' : 'failed'}</span>`
    : '<button type="button" class="secondary" data-act="verify">Verify</button>'}</td></tr>`;
    },
    empty: 'No event matches.',
  });

  function fillFilter() {
    for (const k of ['event', 'user', 'success']) filter.elements[k].value = view[k];
    filter.elements.startTime.value = view.startTime ? toLocalInput(view.startTime) : '';
    filter.elements.endTime.value = view.endTime ? toLocalInput(view.endTime) : '';
  }

  // 402 (no licence with audit logging): the API's message and the way to Pulse Pro.
  function unlicensed(err) {
    $('#audit-card').hidden = true;
    $('#audit-hooks').hidden = true;
    $('#audit-licence-text').textContent = err.message;
    $('#audit-licence').hidden = false;
  }

  async function load() {
    const q = new URLSearchParams({ limit: String(PAGE) });
    for (const k of Object.keys(DEFAULTS)) if (view[k]) q.set(k, view[k]);
    try {
      const r = (await get(`/api/audit?${q}`)).body;
      if (!alive) return;
      events = r.events || [];
      total = r.total || 0;
      $('#audit-licence').hidden = true;
      $('#audit-card').hidden = false;
      table.set(events);
      const off = Number(view.offset) || 0;
      $('#audit-count').textContent = `${total} event${total === 1 ? '' : 's'}`;
      $('#audit-range').textContent = total ? `${off + 1}–${off + events.length} of ${total}` : '';
      $('#audit-prev').disabled = off <= 0;
      $('#audit-next').disabled = off + events.length >= total;
      return true;
    } catch (err) {
      if (!alive) return;
      if (err.status === 402) unlicensed(err); else notice(msg, 'error', err.message);
      return false;
    }
  }

  const setView = (v) => {
    view = { ...view, ...v };
    viewToUrl(view, DEFAULTS);
    load();
  };
  fillFilter();
  filter.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = filter.elements;
    setView({ event: f.event.value.trim(), user: f.user.value.trim(), success: f.success.value,
      startTime: fromLocalInput(f.startTime.value), endTime: fromLocalInput(f.endTime.value), offset: '0' });
  });
  $('#audit-reset').addEventListener('click', () => { setView({ ...DEFAULTS }); fillFilter(); });
  $('#audit-prev').addEventListener('click', () => setView({ offset: String(Math.max(0, (Number(view.offset) || 0) - PAGE)) }));
  $('#audit-next').addEventListener('click', () => setView({ offset: String((Number(view.offset) || 0) + PAGE) }));

  $('#audit-list').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-act="verify"]');
    const id = b && b.closest('tr').dataset.id;
    if (!id) return;
    busy(b, async () => {
      try {
        const r = (await get(`/api/audit/${encodeURIComponent(id)}/verify`)).body;
        verified.set(id, { verified: Boolean(r.verified), message: r.message || '' });
        table.set(events);
      } catch (err) { notice(msg, 'error', err.message); }
    });
  });
  $('#audit-verify-all').addEventListener('click', (ev) => busy(ev.target, async () => {
    const out = $('#audit-chain');
    out.textContent = 'Checking…';
    try {
      const r = (await get('/api/audit/verify')).body;
      const fb = r.firstBroken;
      out.innerHTML = r.verified
        ? `<span class="badge ok">intact</span> ${esc(r.message)} (${esc(r.rows)} rows)`
        : `<span class="badge bad">broken</span> ${esc(r.message)}${fb ? `: first broken row <code>${esc(fb.id)}</code>${fb.seq >= 0 ? ` (#${esc(fb.seq)})` : ''}, ${esc(fb.reason)}` : ''}`;
    } catch (err) { out.textContent = ''; notice(msg, 'error', err.message); }
  }));

  // The audit webhooks: the list as saved, edited here, sent whole by Save.
  let urls = [];
  const hookMsg = $('#audit-hook-msg'), hookForm = $('#audit-hook-form');
  function drawHooks() {
    $('#audit-hook-list').innerHTML = urls.length ? urls.map((u, i) => `<li><code>${esc(u)}</code>
      <button type="button" class="danger" data-remove="${i}" aria-label="Remove ${esc(u)}">Remove</button></li>`).join('')
      : '<li class="muted">No audit webhook.</li>';
  }
  async function loadHooks() {
    try {
      const r = (await get('/api/admin/webhooks/audit')).body;
      urls = r.urls || [];
      drawHooks();
      $('#audit-hook-secret').textContent = r.signingSecret ? `Signing secret: ${r.signingSecret}` : '';
      $('#audit-hooks').hidden = false;
    } catch (err) {
      if (err.status !== 402) notice(hookMsg, 'error', err.message);
    }
  }
  hookForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const u = hookForm.elements.url.value.trim();
    if (!/^https?:\/\/\S+$/i.test(u)) { notice(hookMsg, 'error', 'An http(s) URL, please.'); return; }
    clearNotice(hookMsg);
    if (!urls.includes(u)) urls.push(u);
    hookForm.elements.url.value = '';
    drawHooks();
  });
  $('#audit-hook-list').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-remove]');
    if (!b) return;
    urls.splice(Number(b.dataset.remove), 1);
    drawHooks();
  });
  $('#audit-hook-save').addEventListener('click', (ev) => busy(ev.target, async () => {
    clearNotice(hookMsg);
    try {
      await request('PUT', '/api/admin/webhooks/audit', { body: { urls } });
      notice(hookMsg, 'ok', `Saved ${urls.length} audit webhook${urls.length === 1 ? '' : 's'}.`);
      loadHooks();
    } catch (err) { notice(hookMsg, 'error', err.message); }
  }));

  load().then((ok) => { if (ok) loadHooks(); });
  return () => { alive = false; table.destroy(); };
}
