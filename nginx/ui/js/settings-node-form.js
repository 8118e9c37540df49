// settings-node-form.js: the form that adds or edits a Proxmox connection (reference/ui.md
// §6.1): name, host, guest URL, API token or user and password, TLS (verify, fingerprint),
// what to monitor; "Test connection" before saving. POST/PUT /api/config/nodes and the
// test routes (docs/API.md); the API's messages are shown as they come.
import { post, request } from './api.js';
import { refreshState } from './state.js';
import { esc } from './format.js';
import { notice, clearNotice, showFieldErrors, readForm, busy } from './settings.js';

export const TYPES = {
  pve: { label: 'Proxmox VE', port: 8006, user: 'root@pam' },
  pbs: { label: 'Proxmox Backup Server', port: 8007, user: 'admin@pbs' },
  pmg: { label: 'Proxmox Mail Gateway', port: 8006, user: 'root@pam' },
};
// The monitoring switches of each product (the API's flags; absent means on).
const MONITOR = {
  pve: [['monitorVMs', 'VMs'], ['monitorContainers', 'Containers'], ['monitorStorage', 'Storage'],
    ['monitorBackups', 'Backups'], ['monitorPhysicalDisks', 'Physical disks (SMART)']],
  pbs: [['monitorDatastores', 'Datastores'], ['monitorSyncJobs', 'Sync jobs'], ['monitorVerifyJobs', 'Verify jobs'],
    ['monitorPruneJobs', 'Prune jobs'], ['monitorGarbageJobs', 'Garbage collection']],
  pmg: [['monitorMailStats', 'Mail statistics'], ['monitorQueues', 'Queues'], ['monitorQuarantine', 'Quarantine'],
    ['monitorDomainStats', 'Domain statistics']],
};

// Draws the form in slot. node: the configured node (edit) or null (add). onDone(message)
// after a save; onCancel() on Cancel or Escape.
export function openNodeForm(slot, { type, node, onDone, onCancel }) {
  const t = TYPES[type], edit = Boolean(node), n = node || {};
  const auth = edit && !n.hasToken && n.user ? 'password' : 'token';
  const keep = edit ? 'leave blank to keep the stored one' : '';
  const check = (name, label, on) => `<label class="check"><input type="checkbox" name="${name}"${on ? ' checked' : ''}> ${esc(label)}</label>`;
  slot.innerHTML = `<section class="card" id="node-form-card">
    <h2>${edit ? `Edit ${esc(n.name)}` : `Add ${esc(t.label)} node`}</h2>
    <form id="node-form" novalidate>
      <fieldset><legend>Basic information</legend>
        <label>Node name <input name="name" required value="${esc(n.name)}" autocomplete="off"></label>
        <label>Host URL <input name="host" required value="${esc(n.host)}" placeholder="https://proxmox.example.org:${t.port}" autocomplete="off"></label>
        <label>Guest URL (optional, for links) <input name="guestURL" value="${esc(n.guestURL)}" placeholder="https://…" autocomplete="off"></label>
      </fieldset>
      <fieldset><legend>Authentication</legend>
        <div class="radios">
          <label class="check"><input type="radio" name="auth" value="token"${auth === 'token' ? ' checked' : ''}> API token (recommended)</label>
          <label class="check"><input type="radio" name="auth" value="password"${auth === 'password' ? ' checked' : ''}> User name and password</label>
        </div>
        <div data-auth="token">
          <label>Token ID <input name="tokenName" value="${esc(n.tokenName)}" placeholder="${t.user}!pulse" autocomplete="off"></label>
          <label>Token value <input name="tokenValue" type="password" autocomplete="new-password" placeholder="${keep}"></label>
        </div>
        <div data-auth="password">
          <label>User (with realm) <input name="user" value="${esc(n.user)}" placeholder="${t.user}" autocomplete="off"></label>
          <label>Password <input name="password" type="password" autocomplete="new-password" placeholder="${keep}"></label>
        </div>
      </fieldset>
      <fieldset><legend>TLS</legend>
        ${check('verifySSL', 'Verify the TLS certificate', n.verifySSL !== false)}
        <label>Certificate fingerprint (SHA-256, optional: only this certificate is accepted)
          <input name="fingerprint" value="${esc(n.fingerprint)}" placeholder="AB:CD:…" autocomplete="off" spellcheck="false"></label>
      </fieldset>
      <fieldset><legend>Monitor</legend><div class="checks">
        ${MONITOR[type].map(([k, label]) => check(k, label, n[k] !== false)).join('')}</div>
      </fieldset>
      <p class="banner" id="node-form-msg" hidden></p>
      <div class="actions">
        <button type="button" id="node-test" class="secondary">Test connection</button>
        <button type="submit" id="node-save">${edit ? 'Save changes' : 'Add node'}</button>
        <button type="button" id="node-cancel" class="secondary">Cancel</button>
      </div>
    </form></section>`;
  const form = slot.querySelector('form'), msg = slot.querySelector('#node-form-msg');
  const showAuth = () => {
    const mode = readForm(form).auth;
    for (const div of form.querySelectorAll('[data-auth]')) {
      div.hidden = div.dataset.auth !== mode;
      for (const input of div.querySelectorAll('input')) input.disabled = div.hidden;
    }
  };
  form.addEventListener('change', (ev) => { if (ev.target.name === 'auth') showAuth(); });
  showAuth();

  // The API's body from the form: secrets only when typed; on edit the fingerprint only when
  // changed (an omitted one keeps the pin, "" clears it).
  function body() {
    const v = readForm(form);
    const b = { type, name: v.name, host: v.host, guestURL: v.guestURL, verifySSL: v.verifySSL };
    for (const [k] of MONITOR[type]) b[k] = v[k];
    if (v.auth === 'token') {
      b.tokenName = v.tokenName;
      if (v.tokenValue) b.tokenValue = v.tokenValue;
    } else {
      b.user = v.user;
      if (v.password) b.password = v.password;
    }
    if (!edit || v.fingerprint !== (n.fingerprint || '')) b.fingerprint = v.fingerprint;
    return b;
  }
  const fail = (err) => { showFieldErrors(form, err); notice(msg, 'error', err.message); };

  form.querySelector('#node-test').addEventListener('click', (ev) => busy(ev.target, async () => {
    clearNotice(msg);
    showFieldErrors(form, null);
    const b = body();
    // Without the secret typed again an edit can only test the saved connection.
    const saved = edit && !b.tokenValue && !b.password;
    notice(msg, 'info', saved ? 'Testing the saved connection…' : 'Testing…');
    try {
      const res = saved ? await post(`/api/config/nodes/${encodeURIComponent(n.id)}/test`, {})
        : await post('/api/config/nodes/test-connection', b);
      const r = res.body;
      notice(msg, 'ok', `${r.message}${r.isCluster ? ' (a cluster: its members are added with it)' : ''}` +
        `${r.latency != null ? ` in ${r.latency} ms` : ''}${saved ? ' (the saved settings)' : ''}`);
    } catch (err) { fail(err); }
  }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(form.querySelector('#node-save'), async () => {
      clearNotice(msg);
      showFieldErrors(form, null);
      try {
        const res = edit ? await request('PUT', `/api/config/nodes/${encodeURIComponent(n.id)}`, { body: body() })
          : await post('/api/config/nodes', body());
        refreshState();
        onDone(res.body.merged ? res.body.message : `${edit ? 'Saved' : 'Added'} ${body().name}.`);
      } catch (err) { fail(err); }
    });
  });
  form.querySelector('#node-cancel').addEventListener('click', onCancel);
  form.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') onCancel(); });
  form.querySelector('input[name=name]').focus();
}
