// settings-security.js: Settings → Security (reference/ui.md §6.3): what is on and what is
// missing, from GET /api/security/status; change the password (POST
// /api/security/change-password); clear a lock-out (POST /api/security/reset-lockout).
import { get, post } from './api.js';
import { esc } from './format.js';
import { settingsFrame, notice, clearNotice, readForm, busy } from './settings.js';

// One line of the checklist: [state 'ok'|'warn'|'info', title, what it means, badge text
// (default: BADGE's)].
function checklist(s) {
  const user = s.authUsername || s.proxyAuthUsername;
  return [
    [s.hasAuthentication ? 'ok' : 'warn', 'Authentication', s.hasAuthentication
      ? `Password login is on${user ? `; you are signed in as ${user}` : ''}.` : 'No administrator exists: anyone who reaches Pulse can set it up.'],
    [s.apiTokenConfigured ? 'ok' : 'info', 'API tokens', s.apiTokenConfigured
      ? `At least one API token exists${s.apiTokenHint ? ` (the newest: ${s.apiTokenHint})` : ''}.` : 'No API token: scripts and agents cannot authenticate.'],
    [s.hasHTTPS ? 'ok' : 'warn', 'HTTPS', s.hasHTTPS ? 'This page came over HTTPS.' : 'This page came over plain HTTP: passwords and tokens cross the network readable.'],
    [s.credentialsEncrypted ? 'ok' : 'warn', 'Secrets encrypted at rest', s.credentialsEncrypted
      ? 'Node passwords, tokens and notification secrets are stored encrypted.' : 'Stored secrets are not encrypted.'],
    [s.hasAuditLogging ? 'ok' : 'info', 'Audit logging', s.hasAuditLogging ? 'Security events are logged.' : 'Security events are not logged.'],
    [s.exportProtected ? 'ok' : 'warn', 'Export protection', s.exportProtected
      ? 'Configuration export needs authentication.' : 'Configuration export is allowed without authentication.'],
    [s.hasProxyAuth ? 'ok' : 'info', 'Proxy authentication', s.hasProxyAuth
      ? `On${s.proxyAuthUsername ? `: ${s.proxyAuthUsername}${s.proxyAuthIsAdmin ? ' (admin)' : ''}` : ''}.` : 'Off (pulse.conf: proxy_auth_secret).'],
    [s.oidcEnabled ? 'ok' : 'info', 'Single sign-on (OIDC)', s.oidcEnabled ? `On: ${s.oidcIssuer}.` : 'Off.'],
    [s.publicAccess ? 'warn' : 'ok', 'Network', `Your address ${s.clientIP || '?'} is ${s.isPrivateNetwork ? 'private' : 'public'}` +
      `${s.isTrustedNetwork ? ' and trusted' : ''}.${s.publicAccess ? ' Pulse is reached from a public address.' : ''}`,
      s.publicAccess ? 'Public' : 'Private'],
  ];
}
const BADGE = { ok: ['ok', 'On'], warn: ['bad', 'Missing'], info: ['', 'Off'] };

export function mount(root, ctx) {
  const body = settingsFrame(root, ctx.path, 'Security');
  body.innerHTML = `<section class="card" id="security-status"><h2>Overview</h2><p class="muted">Loading…</p></section>
    <section class="card"><h2>Change password</h2>
      <form id="password-form">
        <label>Current password <input name="currentPassword" type="password" autocomplete="current-password" required></label>
        <label>New password (12 characters or more) <input name="newPassword" type="password" minlength="12" autocomplete="new-password" required></label>
        <label>New password again <input name="confirm" type="password" minlength="12" autocomplete="new-password" required></label>
        <p class="banner" id="password-msg" hidden></p>
        <div class="actions"><button type="submit" id="password-save">Change password</button></div>
      </form></section>
    <section class="card"><h2>Clear a lock-out</h2>
      <form id="lockout-form">
        <p class="hint">Five failed logins lock a user name (at that address) and the address for 15 minutes.</p>
        <label>User name or client address <input name="identifier" required autocomplete="off"></label>
        <p class="banner" id="lockout-msg" hidden></p>
        <div class="actions"><button type="submit" id="lockout-reset">Clear</button></div>
      </form></section>`;
  const statusCard = body.querySelector('#security-status');

  get('/api/security/status').then(({ body: s }) => {
    statusCard.innerHTML = `<h2>Overview</h2><ul class="checklist">${checklist(s).map(([st, title, text, label]) =>
      `<li data-check="${esc(title)}" data-state="${st}"><span class="badge ${BADGE[st][0]}">${label || BADGE[st][1]}</span>` +
      `<span><strong>${esc(title)}</strong><br><span class="muted">${esc(text)}</span></span></li>`).join('')}</ul>`;
  }).catch((err) => notice(statusCard.querySelector('p'), 'error', err.message));

  const pw = body.querySelector('#password-form'), pwMsg = body.querySelector('#password-msg');
  pw.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(pw.querySelector('#password-save'), async () => {
      clearNotice(pwMsg);
      const v = readForm(pw);
      if (v.newPassword !== v.confirm) { notice(pwMsg, 'error', 'The new passwords differ.'); return; }
      try {
        const r = (await post('/api/security/change-password', { currentPassword: v.currentPassword, newPassword: v.newPassword },
          { quiet401: true })).body;
        pw.reset();
        notice(pwMsg, 'ok', r.message);
      } catch (err) { notice(pwMsg, 'error', err.message); }
    });
  });

  const lo = body.querySelector('#lockout-form'), loMsg = body.querySelector('#lockout-msg');
  lo.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(lo.querySelector('#lockout-reset'), async () => {
      try {
        notice(loMsg, 'ok', (await post('/api/security/reset-lockout', { identifier: readForm(lo).identifier })).body.message);
      } catch (err) { notice(loMsg, 'error', err.message); }
    });
  });
}
