// settings-sso.js: Settings → Security → Single Sign-On (reference/ui.md §6.3, the legacy
// OIDC panel): GET /api/security/oidc fills the form, PUT saves it (replacing the settings,
// as the original). The client secret is write-only: "set" is shown, a blank field keeps it,
// "Remove the stored secret" clears it. Fields the server's OIDC_* variables override
// (envOverrides) are disabled with a note; the API then refuses a save (409 oidc_locked),
// whose message shows in the banner like any other error.
import { get, request } from './api.js';
import { esc } from './format.js';
import { settingsFrame, notice, clearNotice, showFieldErrors, busy } from './settings.js';

// The list fields: comma- or space-separated in the form, arrays in the API.
const LISTS = ['scopes', 'allowedGroups', 'allowedDomains', 'allowedEmails', 'adminGroups'];
const TEXTS = ['issuerUrl', 'clientId', 'redirectUrl', 'logoutUrl', 'usernameClaim', 'emailClaim', 'groupsClaim',
  'caBundle', 'tokenAuthMethod'];
const split = (s) => s.split(/[\s,]+/).filter(Boolean);

export function mount(root, ctx) {
  const body = settingsFrame(root, ctx.path, 'Single Sign-On');
  body.innerHTML = `<section class="card"><h2>OpenID Connect</h2>
    <p class="hint">Sign in through an OpenID Connect provider (Keycloak, Authentik, Azure AD, Google…). The login page
      then offers “Continue with Single Sign-On”.</p>
    <p class="banner info" id="oidc-env" hidden></p>
    <form id="oidc-form" novalidate>
      <label class="check"><input type="checkbox" name="enabled" role="switch"> Enabled</label>
      <label>Issuer URL <input name="issuerUrl" type="url" class="code" autocomplete="off" spellcheck="false"
        placeholder="https://sso.example.com/realms/main"></label>
      <label>Client ID <input name="clientId" autocomplete="off" spellcheck="false"></label>
      <label>Client secret <span class="badge" id="oidc-secret-state"></span>
        <input name="clientSecret" type="password" autocomplete="new-password" placeholder="leave blank to keep the stored one"></label>
      <label class="check"><input type="checkbox" name="clearClientSecret"> Remove the stored secret</label>
      <label>Redirect URL <input name="redirectUrl" type="url" class="code" autocomplete="off" spellcheck="false"></label>
      <p class="hint" id="oidc-redirect-hint"></p>
      <label>Logout URL (optional) <input name="logoutUrl" type="url" class="code" autocomplete="off" spellcheck="false"></label>
      <label>Scopes <input name="scopes" autocomplete="off" spellcheck="false" placeholder="openid profile email"></label>
      <label>CA bundle (path of a PEM file, for a provider with a private CA)
        <input name="caBundle" class="code" autocomplete="off" spellcheck="false"></label>
      <fieldset><legend>Claims</legend><div class="checks">
        <label>Username claim <input name="usernameClaim" autocomplete="off" placeholder="preferred_username"></label>
        <label>Email claim <input name="emailClaim" autocomplete="off" placeholder="email"></label>
        <label>Groups claim <input name="groupsClaim" autocomplete="off" placeholder="groups"></label></div></fieldset>
      <fieldset><legend>Who may sign in (comma-separated; empty: anyone the provider signs in)</legend>
        <label>Allowed groups <input name="allowedGroups" autocomplete="off"></label>
        <label>Allowed email domains <input name="allowedDomains" autocomplete="off" placeholder="example.com"></label>
        <label>Allowed emails <input name="allowedEmails" autocomplete="off"></label></fieldset>
      <label>Admin groups (comma-separated; empty: every OIDC user is an admin)
        <input name="adminGroups" autocomplete="off"></label>
      <label>Token endpoint authentication <select name="tokenAuthMethod">
        <option value="client_secret_basic">client_secret_basic (HTTP Basic)</option>
        <option value="client_secret_post">client_secret_post (in the body)</option></select></label>
      <p class="banner" id="oidc-msg" hidden></p>
      <div class="actions"><button type="submit" id="oidc-save">Save</button></div>
    </form></section>`;
  const form = body.querySelector('#oidc-form'), msg = body.querySelector('#oidc-msg');
  const el = form.elements;

  function show(c) {
    el.enabled.checked = Boolean(c.enabled);
    for (const k of TEXTS) el[k].value = c[k] ?? '';
    if (!c.tokenAuthMethod) el.tokenAuthMethod.value = 'client_secret_basic';
    for (const k of LISTS) el[k].value = (c[k] || []).join(', ');
    el.clientSecret.value = '';
    el.clearClientSecret.checked = false;
    const badge = body.querySelector('#oidc-secret-state');
    badge.textContent = c.clientSecretSet ? 'set' : 'not set';
    badge.className = `badge${c.clientSecretSet ? ' ok' : ''}`;
    el.redirectUrl.placeholder = c.defaultRedirect || '';
    body.querySelector('#oidc-redirect-hint').textContent = c.defaultRedirect
      ? `Register this URL with the provider. Left empty, it is ${c.defaultRedirect} (the public URL + /api/oidc/callback).`
      : 'No public URL is set (Settings → System), so the redirect URL must be given here: this server\'s address + /api/oidc/callback.';
    const env = Object.keys(c.envOverrides || {}).filter((k) => c.envOverrides[k]);
    for (const input of form.querySelectorAll('input, select')) {
      const name = input.name === 'clearClientSecret' ? 'clientSecret' : input.name;
      input.disabled = env.includes(name);
      const label = input.closest('label');
      label.querySelector('.env-note')?.remove();
      if (input.disabled) label.insertAdjacentHTML('beforeend', '<span class="env-note hint">set by an environment variable</span>');
    }
    const envBox = body.querySelector('#oidc-env');
    envBox.hidden = !env.length;
    envBox.innerHTML = env.length ? `Set by the server's OIDC_* environment variables: ${env.map((k) => `<code>${esc(k)}</code>`).join(', ')}.
      While they are set the settings cannot be changed here.` : '';
  }
  get('/api/security/oidc').then((r) => show(r.body)).catch((err) => notice(msg, 'error', err.message));

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(body.querySelector('#oidc-save'), async () => {
      clearNotice(msg);
      const b = { enabled: el.enabled.checked };
      for (const k of TEXTS) b[k] = el[k].value.trim();
      for (const k of LISTS) b[k] = split(el[k].value);
      const secret = el.clientSecret.value.trim();
      if (secret) b.clientSecret = secret;
      else if (el.clearClientSecret.checked) b.clearClientSecret = true;
      try {
        show((await request('PUT', '/api/security/oidc', { body: b })).body);
        showFieldErrors(form, null);
        notice(msg, 'ok', `Saved: single sign-on is ${b.enabled ? 'enabled' : 'disabled'}.`);
      } catch (err) {
        showFieldErrors(form, err);
        notice(msg, 'error', err.message);
      }
    });
  });
  return () => {};
}
