// settings-webhooks.js: Settings → Notifications → Webhooks (reference/ui.md §5
// "Notifications"): the webhooks with Test, Edit and a confirmed Delete; Add starts from a
// service template (GET /api/notifications/webhook-templates: its URL pattern and
// instructions); the form's Test sends the unsaved webhook (POST
// /api/notifications/webhooks/test), a saved one's Test its id (POST /api/notifications/test);
// the last deliveries (GET /api/notifications/webhook-history). Header and custom field
// values come back as ***REDACTED***; sending them so keeps the stored ones.
import { get, post, request } from './api.js';
import { mountTable } from './table.js';
import { esc, when } from './format.js';
import { settingsFrame, notice, clearNotice, confirmDialog, readForm, busy, showFieldErrors,
  linesToMap, mapToLines } from './settings.js';

const METHODS = ['POST', 'PUT', 'PATCH', 'GET'];

export function mount(root, ctx) {
  const body = settingsFrame(root, ctx.path, 'Webhooks');
  body.innerHTML = `<p class="banner" id="webhooks-msg" hidden></p>
    <div class="toolbar" id="webhook-add-bar"><label>Service <select id="webhook-service"></select></label>
      <button type="button" id="webhook-add">Add webhook</button></div>
    <div id="webhook-form-slot"></div>
    <section class="card"><h2>Webhooks</h2><div id="webhook-list"></div></section>
    <section class="card"><h2>Recent deliveries</h2><div id="webhook-history"></div></section>`;
  const msg = body.querySelector('#webhooks-msg'), slot = body.querySelector('#webhook-form-slot');
  const bar = body.querySelector('#webhook-add-bar'), serviceSel = body.querySelector('#webhook-service');
  let templates = [], hooks = [];
  const tpl = (service) => templates.find((t) => t.service === service);

  const table = mountTable(body.querySelector('#webhook-list'), {
    id: 'webhook-table',
    columns: [{ key: 'name', label: 'Name' }, { key: 'service', label: 'Service' }, { key: 'url', label: 'URL' },
      { key: 'enabled', label: 'Enabled' }, { key: 'act', label: 'Actions' }],
    row: (w) => `<tr data-id="${esc(w.id)}"><td>${esc(w.name)}</td><td>${esc((tpl(w.service) || {}).name || w.service)}</td>
      <td class="url"><code>${esc(w.method)} ${esc(w.url)}</code></td>
      <td>${w.enabled ? '<span class="badge ok">On</span>' : '<span class="badge">Off</span>'}</td><td class="actions">
      <button type="button" class="secondary" data-act="test">Test</button>
      <button type="button" class="secondary" data-act="edit">Edit</button>
      <button type="button" class="danger" data-act="delete">Delete</button></td></tr>`,
    empty: 'No webhook yet.',
  });
  const history = mountTable(body.querySelector('#webhook-history'), {
    id: 'webhook-history-table',
    columns: [{ key: 'time', label: 'Time' }, { key: 'name', label: 'Webhook' }, { key: 'alert', label: 'Alert' },
      { key: 'result', label: 'Result' }],
    row: (h) => `<tr><td>${esc(when(h.timestamp))}</td><td>${esc(h.webhookName)}</td><td>${esc(h.alertId)}</td>
      <td>${h.success ? `<span class="badge ok">${esc(h.statusCode)}</span>` : `<span class="badge bad">${esc(h.statusCode || 'failed')}</span> ${esc(h.errorMessage)}`}</td></tr>`,
    empty: 'No alert has been delivered to a webhook yet (tests are not listed).',
  });

  async function load() {
    try {
      hooks = (await get('/api/notifications/webhooks')).body || [];
      table.set(hooks);
      history.set(((await get('/api/notifications/webhook-history')).body || []).slice(0, 10));
    } catch (err) { notice(msg, 'error', err.message); }
  }
  get('/api/notifications/webhook-templates').then((r) => {
    templates = r.body || [];
    serviceSel.innerHTML = templates.map((t) => `<option value="${esc(t.service)}">${esc(t.name)}</option>`).join('');
    serviceSel.value = 'generic';
    load();
  }).catch((err) => notice(msg, 'error', err.message));

  const closeForm = () => { slot.innerHTML = ''; bar.hidden = false; };
  function openForm(w) {
    clearNotice(msg);
    bar.hidden = true;
    const edit = Boolean(w);
    const t = tpl(edit ? w.service : serviceSel.value) || { service: 'generic', name: 'Webhook', urlPattern: '' };
    const h = w || { name: t.name, url: t.urlPattern, method: 'POST', enabled: true, service: t.service };
    slot.innerHTML = `<section class="card"><h2>${edit ? `Edit ${esc(h.name)}` : `Add a ${esc(t.name)} webhook`}</h2>
      <form id="webhook-form" novalidate>
        ${t.instructions ? `<p class="hint">${esc(t.instructions)}</p>` : ''}
        <label>Name <input name="name" required maxlength="200" value="${esc(h.name)}" autocomplete="off"></label>
        <label>URL <input name="url" required value="${esc(h.url)}" class="code" autocomplete="off" spellcheck="false"
          placeholder="${esc(t.urlPattern || 'https://example.org/hook')}"></label>
        <div class="checks"><label>Method <select name="method">${METHODS.map((m) =>
    `<option${m === (h.method || 'POST').toUpperCase() ? ' selected' : ''}>${m}</option>`).join('')}</select></label>
          <label class="check"><input type="checkbox" name="enabled"${h.enabled ? ' checked' : ''}> Enabled</label></div>
        <label>Headers (one “Name: value” a line) <textarea name="headers" rows="2" class="code">${esc(mapToLines(h.headers))}</textarea></label>
        <label>Custom fields (one “name=value” a line; e.g. Pushover's app_token and user_token)
          <textarea name="customFields" rows="2" class="code">${esc(mapToLines(h.customFields, '='))}</textarea></label>
        <label>Custom payload template (optional: empty sends the service's own)
          <textarea name="template" rows="4" class="code">${esc(h.template)}</textarea></label>
        <p class="banner" id="webhook-form-msg" hidden></p>
        <div class="actions"><button type="button" class="secondary" id="webhook-test">Test</button>
          <button type="submit" id="webhook-save">${edit ? 'Save changes' : 'Add webhook'}</button>
          <button type="button" class="secondary" id="webhook-cancel">Cancel</button></div>
      </form></section>`;
    const form = slot.querySelector('form'), fmsg = slot.querySelector('#webhook-form-msg');
    const config = () => {
      const v = readForm(form);
      return { name: v.name, url: v.url, method: v.method, enabled: v.enabled, service: t.service,
        headers: linesToMap(v.headers), customFields: linesToMap(v.customFields, '='), template: v.template };
    };
    const fail = (err) => { showFieldErrors(form, err); notice(fmsg, 'error', err.message); };
    form.querySelector('#webhook-test').addEventListener('click', (ev) => busy(ev.target, async () => {
      notice(fmsg, 'info', 'Sending a test alert…');
      try {
        const r = (await post('/api/notifications/webhooks/test', config())).body;
        notice(fmsg, 'ok', `Delivered: the receiver answered HTTP ${r.status}.`);
      } catch (err) { fail(err); }
    }));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      busy(form.querySelector('#webhook-save'), async () => {
        clearNotice(fmsg);
        try {
          const saved = edit ? (await request('PUT', `/api/notifications/webhooks/${encodeURIComponent(w.id)}`, { body: config() })).body
            : (await post('/api/notifications/webhooks', config())).body;
          closeForm();
          notice(msg, 'ok', `${edit ? 'Saved' : 'Added'} ${saved.name}.`);
          load();
        } catch (err) { fail(err); }
      });
    });
    form.querySelector('#webhook-cancel').addEventListener('click', () => { closeForm(); body.querySelector('#webhook-add').focus(); });
    form.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') { closeForm(); body.querySelector('#webhook-add').focus(); } });
    form.elements.name.focus();
  }
  body.querySelector('#webhook-add').addEventListener('click', () => openForm(null));

  const ACTIONS = {
    async test(w) {
      notice(msg, 'info', `${w.name}: sending a test alert…`);
      notice(msg, 'ok', `${w.name}: ${(await post('/api/notifications/test', { method: 'webhook', webhookId: w.id })).body.message}.`);
      load();
    },
    edit(w) { openForm(w); },
    async delete(w) {
      if (!await confirmDialog(`Delete the webhook ${w.name}? Alerts stop going to ${w.url}.`)) return;
      await request('DELETE', `/api/notifications/webhooks/${encodeURIComponent(w.id)}`);
      notice(msg, 'ok', `Deleted ${w.name}.`);
      load();
    },
  };
  body.querySelector('#webhook-list').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-act]');
    const w = b && hooks.find((x) => x.id === b.closest('tr').dataset.id);
    if (!w) return;
    busy(b, async () => {
      try { await ACTIONS[b.dataset.act](w); } catch (err) { notice(msg, 'error', `${w.name}: ${err.message}`); }
    });
  });
  return () => { table.destroy(); history.destroy(); };
}
