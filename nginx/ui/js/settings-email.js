// settings-email.js: Settings → Notifications → Email (reference/ui.md §5 "Notifications"):
// a provider preset (GET /api/notifications/email-providers) fills server, port and
// security; the configuration is GET/PUT /api/notifications/email (the password is never
// sent back: empty keeps the stored one); "Send test" mails the unsaved form (POST
// /api/notifications/test, method email).
import { get, request } from './api.js';
import { settingsFrame, notice, clearNotice, readForm, busy, testButton } from './settings.js';

const SECURITY = [['starttls', 'STARTTLS (usually port 587)'], ['tls', 'TLS/SSL (usually port 465)'], ['none', 'None']];

export function mount(root, ctx) {
  const body = settingsFrame(root, ctx.path, 'Email notifications');
  body.innerHTML = `<section class="card"><h2>Email</h2>
    <form id="email-form" novalidate>
      <label class="check"><input type="checkbox" name="enabled"> Send alerts by email</label>
      <label>Provider <select name="provider"><option value="">Manual configuration</option></select></label>
      <p class="hint" id="email-instructions" hidden></p>
      <fieldset><legend>SMTP server</legend>
        <label>Server <input name="server" placeholder="smtp.example.org" autocomplete="off"></label>
        <label>Port <input name="port" type="number" min="0" max="65535"></label>
        <label>Security <select name="security">${SECURITY.map(([v, l]) => `<option value="${v}">${l}</option>`).join('')}</select></label>
        <label>User name <input name="username" autocomplete="off"></label>
        <label>Password or API key <input name="password" type="password" autocomplete="new-password" placeholder="leave blank to keep the stored one"></label>
      </fieldset>
      <fieldset><legend>Addresses</legend>
        <label>From <input name="from" type="email" placeholder="pulse@example.org" autocomplete="off"></label>
        <label>To (one address a line) <textarea name="to" rows="3"></textarea></label>
      </fieldset>
      <p class="banner" id="email-msg" hidden></p>
      <div class="actions"><button type="submit" id="email-save">Save</button>
        <button type="button" class="secondary" id="email-test">Send test</button></div>
    </form></section>`;
  const form = body.querySelector('#email-form'), msg = body.querySelector('#email-msg');
  const help = body.querySelector('#email-instructions');
  let providers = [];

  function fill(c) {
    const f = form.elements;
    f.enabled.checked = Boolean(c.enabled);
    if (c.provider && ![...f.provider.options].some((o) => o.value === c.provider)) f.provider.add(new Option(c.provider, c.provider));
    f.provider.value = c.provider || '';
    f.server.value = c.server || '';
    f.port.value = c.port || '';
    f.security.value = c.tls ? 'tls' : c.startTLS ? 'starttls' : 'none';
    f.username.value = c.username || '';
    f.from.value = c.from || '';
    f.to.value = (c.to || []).join('\n');
  }
  function config() {
    const v = readForm(form);
    return { enabled: v.enabled, provider: v.provider, server: v.server, port: v.port ?? 0, username: v.username,
      password: v.password, from: v.from, to: v.to.split(/[\n,]/).map((x) => x.trim()).filter(Boolean),
      tls: v.security === 'tls', startTLS: v.security === 'starttls' };
  }
  form.elements.provider.addEventListener('change', () => {
    const p = providers.find((x) => x.name === form.elements.provider.value);
    help.hidden = !p;
    if (!p) return;
    help.textContent = p.instructions;
    form.elements.server.value = p.smtpHost;
    form.elements.port.value = p.smtpPort;
    form.elements.security.value = p.tls ? 'tls' : p.startTLS ? 'starttls' : 'none';
  });

  Promise.all([get('/api/notifications/email-providers'), get('/api/notifications/email')]).then(([p, c]) => {
    providers = p.body || [];
    for (const x of providers) form.elements.provider.add(new Option(x.name, x.name));
    fill(c.body);
  }).catch((err) => notice(msg, 'error', err.message));

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(form.querySelector('#email-save'), async () => {
      clearNotice(msg);
      try {
        await request('PUT', '/api/notifications/email', { body: config() });
        form.elements.password.value = '';
        fill((await get('/api/notifications/email')).body);
        notice(msg, 'ok', 'Saved.');
      } catch (err) { notice(msg, 'error', err.message); }
    });
  });
  testButton(form.querySelector('#email-test'), msg, 'email', config);
  return () => {};
}
