// login.js: the login form and the first-run setup form.
import { get, post, ApiError, setApiToken } from './api.js';
import { esc } from './format.js';

// The message a failed login deserves: bad credentials (with the attempts left), the lock-out,
// the rate limit, or whatever else the API said.
export function loginError(err) {
  if (!(err instanceof ApiError)) return `Cannot reach the server: ${err.message}`;
  const b = err.body;
  if (err.status === 429) {
    const wait = err.headers && err.headers.get('Retry-After');
    return `Too many login attempts from this address. Try again${wait ? ` in ${wait} seconds` : ' in a minute'}.`;
  }
  if (err.status === 403 && b.error === 'account_locked') {
    return `Account locked after too many failed logins. Try again in ${b.remainingMinutes ?? 15} minutes.`;
  }
  if (err.status === 401 && b.locked) {
    return `Account locked after too many failed logins. Try again in ${b.lockoutDuration || '15 minutes'}.`;
  }
  if (err.status === 401) return b.message || 'Invalid username or password.';
  return b.message || err.message;
}

function form(root, html, onSubmit) {
  root.innerHTML = html;
  const f = root.querySelector('form');
  const msg = root.querySelector('.form-error');
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = f.querySelector('button[type=submit]');
    button.disabled = true;
    msg.hidden = true;
    try {
      await onSubmit(new FormData(f), (text) => { msg.textContent = text; msg.hidden = false; });
    } finally {
      button.disabled = false;
    }
  });
  f.querySelector('input').focus();
}

// The single sign-on button while OIDC is on (/api/oidc/login, back to this page after).
function ssoSection(status, ssoNotice) {
  if (!status.oidcEnabled) return '';
  const back = encodeURIComponent(location.pathname);
  return `<section class="card narrow" id="sso-login">
      <h2>Single sign-on</h2>
      <p class="form-error" role="alert"${ssoNotice ? '' : ' hidden'}>${esc(ssoNotice)}</p>
      <p><a class="button" id="sso-link" href="api/oidc/login?returnTo=${back}">Sign in with single sign-on</a></p>
    </section>`;
}

// The login page: the user name and password form, and an API token form (the way in for
// API-only mode, where the server has tokens but no local user, and for wall displays).
// notice: a message to show first (e.g. a token that was refused). status: GET
// /api/security/status, for single sign-on (a button; the password form hidden when
// hideLocalLogin says so, unless ?show_local=true); ssoNotice: why a single sign-on failed.
export function renderLogin(root, onDone, notice = '', status = {}, ssoNotice = '') {
  const hideLocal = status.oidcEnabled && status.hideLocalLogin &&
    new URLSearchParams(location.search).get('show_local') !== 'true';
  const tokenForm = `<details class="card narrow" id="token-login"${notice ? ' open' : ''}>
      <summary>Sign in with an API token</summary>
      <form id="token-form">
        <label>API token <input name="token" type="password" autocomplete="off" required></label>
        <p class="form-error" role="alert"${notice ? '' : ' hidden'}>${esc(notice)}</p>
        <button type="submit">Use this token</button>
      </form>
      <p class="muted">The token stays in this browser tab only. A wall display can open
        <code>…/proxmox/overview?kiosk=1&amp;token=…</code> with a token that has <code>monitoring:read</code>.</p>
    </details>`;
  form(root, `${ssoSection(status, ssoNotice)}
    <section class="card narrow" id="local-login"${hideLocal ? ' hidden' : ''}>
      <h2>Sign in to Pulse</h2>
      <form id="login-form">
        <label>Username <input name="username" autocomplete="username" required></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
        <label class="check"><input name="remember" type="checkbox"> Remember me</label>
        <p class="form-error" role="alert" hidden></p>
        <button type="submit">Sign in</button>
      </form>
    </section>${tokenForm}`, async (data, fail) => {
    try {
      await post('/api/login', {
        username: data.get('username'), password: data.get('password'), rememberMe: data.has('remember'),
      }, { quiet401: true });
      onDone();
    } catch (err) {
      fail(loginError(err));
    }
  });
  const tf = root.querySelector('#token-form'), tmsg = tf.querySelector('.form-error');
  tf.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = new FormData(tf).get('token').trim();
    tmsg.hidden = true;
    try {
      const st = (await get('/api/security/status', { headers: { 'X-API-Token': token }, quiet401: true })).body;
      if (!st.tokenScopes) throw new ApiError(401, { message: 'not taken' });
      setApiToken(token);
      onDone();
    } catch (err) {
      tmsg.textContent = err instanceof ApiError && (err.status === 401 || err.status === 403)
        ? 'This API token was refused.' : loginError(err);
      tmsg.hidden = false;
    }
  });
}

function randomToken() {
  const b = new Uint8Array(24);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// First-run setup: the bootstrap token the server wrote to a file, an admin and a password;
// the full-access API token is made here and shown once.
export function renderSetup(root, status, onDone) {
  const where = status.bootstrapTokenPath
    ? `<code>${esc(status.bootstrapTokenPath)}</code>` : 'the data directory (<code>.bootstrap_token</code>)';
  form(root, `
    <section class="card narrow">
      <h2>First-run setup</h2>
      <p>No administrator exists yet. The server wrote a one-time bootstrap token to ${where};
         <code>./quickstart run</code> also prints it.</p>
      <form id="setup-form">
        <label>Bootstrap token <input name="setupToken" autocomplete="off" required></label>
        <label>Admin username <input name="username" value="admin" autocomplete="username" required></label>
        <label>Password (12 characters or more)
          <input name="password" type="password" minlength="12" autocomplete="new-password" required></label>
        <p class="form-error" role="alert" hidden></p>
        <button type="submit">Create the administrator</button>
      </form>
    </section>`, async (data, fail) => {
    const apiToken = randomToken();
    try {
      await post('/api/security/quick-setup', {
        username: data.get('username'), password: data.get('password'), apiToken,
      }, { headers: { 'X-Setup-Token': data.get('setupToken').trim() }, quiet401: true });
      await post('/api/login', { username: data.get('username'), password: data.get('password') }, { quiet401: true });
    } catch (err) {
      fail(err instanceof ApiError && err.status === 401 ? 'The bootstrap token is not right.' : loginError(err));
      return;
    }
    root.innerHTML = `
      <section class="card narrow">
        <h2>Setup complete</h2>
        <p>Your API token (full access). It is shown only this once: copy it now.</p>
        <pre class="token" id="new-token">${esc(apiToken)}</pre>
        <button id="setup-continue">Continue</button>
      </section>`;
    root.querySelector('#setup-continue').addEventListener('click', onDone);
  });
}
