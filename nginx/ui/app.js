// app.js: the web UI's entry (plain ES modules, no bundler): the shell (header with tabs,
// footer with version and health), history routing, and the sign-in flow: first-run setup
// while no credential exists, the login form while signed out, then the page of the URL.
import { get, post, onUnauthorized, forgetCsrf, apiToken, setApiToken } from './js/api.js';
import { renderLogin, renderSetup } from './js/login.js';
import { forgetState, prefetchState } from './js/state.js';
import { esc } from './js/format.js';
import { alertPills } from './js/alert-pills.js';

// Every URL is relative to <base href> (index.html): the UI may live under a sub-path.
const BASE = new URL(document.baseURI).pathname.replace(/\/?$/, '/');
const TABS = [
  { path: 'proxmox', label: 'Proxmox' }, { path: 'docker', label: 'Docker' },
  { path: 'kubernetes', label: 'Kubernetes' }, { path: 'hosts', label: 'Hosts' },
  { path: 'alerts', label: 'Alerts', right: true }, { path: 'settings', label: 'Settings', right: true },
];
const REDIRECTS = { '': 'proxmox/overview', proxmox: 'proxmox/overview', storage: 'proxmox/storage',
  backups: 'proxmox/backups', servers: 'hosts',
  settings: 'settings/proxmox', alerts: 'alerts/overview', 'alerts/destinations': 'settings/notifications/email', 'settings/notifications': 'settings/notifications/email' };

// The pages: a route (the path below the base) matched by `match` (a string: that path and
// the paths below it; a RegExp: as it says) → the module that draws it, loaded on first use.
// A page module exports mount(root, ctx) and returns the function that takes it down (stops
// its timers and listeners). ctx: {path, navigate}. The first match wins.
const PAGES = [
  { match: 'proxmox/overview', load: () => import('./js/overview.js') },
  // Proxmox sub-pages and detail views (issue 15: storage, Ceph, replication, mail gateway,
  // backups; a guest's, node's, storage's and agent host's detail view with charts). The
  // detail routes come before 'proxmox/storage' (and before any 'hosts' page: hosts/<id>).
  { match: /^proxmox\/(guest|node|storage)\/.+$/, load: () => import('./js/detail.js') },
  { match: /^hosts\/[^/]+$/, load: () => import('./js/detail.js') },
  { match: 'proxmox/storage', load: () => import('./js/storage.js') },
  { match: 'proxmox/ceph', load: () => import('./js/ceph.js') },
  { match: 'proxmox/replication', load: () => import('./js/replication.js') },
  { match: 'proxmox/mail', load: () => import('./js/mail.js') },
  { match: 'proxmox/backups', load: () => import('./js/backups.js') },
  // The agents' pages.
  { match: 'docker', load: () => import('./js/docker.js') },
  { match: 'kubernetes', load: () => import('./js/kubernetes.js') },
  { match: 'hosts', load: () => import('./js/hosts.js') },
  // Settings (reference/ui.md §6): one module per section; js/settings.js draws the sidebar
  // and lists the sections later issues add.
  { match: /^settings\/(proxmox|pve|pbs|pmg)$/, load: () => import('./js/settings-proxmox.js') },
  { match: 'settings/notifications/email', load: () => import('./js/settings-email.js') },
  { match: 'settings/notifications/webhooks', load: () => import('./js/settings-webhooks.js') },
  { match: 'settings/notifications/apprise', load: () => import('./js/settings-apprise.js') },
  { match: 'settings/api', load: () => import('./js/settings-tokens.js') },
  { match: 'settings/security', load: () => import('./js/settings-security.js') },
  { match: 'settings/system', load: () => import('./js/settings-system.js') },
  // Settings for the Pro APIs (issue 16): single sign-on, the audit log and its webhooks,
  // configuration backups, the licence.
  { match: 'settings/sso', load: () => import('./js/settings-sso.js') },
  { match: 'settings/audit', load: () => import('./js/settings-audit.js') },
  { match: 'settings/backups', load: () => import('./js/settings-backups.js') },
  { match: 'settings/pro', load: () => import('./js/settings-pro.js') },
  // Settings for the system endpoints (issue 17): updates, diagnostics, reporting.
  { match: 'settings/updates', load: () => import('./js/settings-updates.js') },
  { match: 'settings/diagnostics', load: () => import('./js/settings-diagnostics.js') },
  { match: 'settings/reporting', load: () => import('./js/settings-reporting.js') },
  // Alerts (reference/ui.md §5)
  { match: 'alerts/overview', load: () => import('./js/alerts-overview.js') },
  { match: 'alerts/history', load: () => import('./js/alerts-history.js') },
  { match: 'alerts/thresholds', load: () => import('./js/alerts-thresholds.js') },
  { match: 'alerts/schedule', load: () => import('./js/alerts-schedule.js') },
];
function findPage(path) {
  return PAGES.find((p) => (p.match instanceof RegExp ? p.match.test(path)
    : path === p.match || path.startsWith(p.match + '/')));
}

const main = document.getElementById('main');
const tabs = document.getElementById('tabs');
const userBox = document.getElementById('user');
let unmount = null, signedIn = false;

// The route: the path below the base, without slashes at either end.
function route() {
  const path = decodeURIComponent(location.pathname);
  return (path.startsWith(BASE) ? path.slice(BASE.length) : path.replace(/^\//, '')).replace(/\/+$/, '');
}
export function navigate(to, replace = false) {
  history[replace ? 'replaceState' : 'pushState'](null, '', BASE + to);
  show();
}

function drawTabs(current) {
  const top = current.split('/')[0];
  const link = (t) => `<a href="${t.path}" data-link class="tab${t.right ? ' right' : ''}"` +
    `${t.path === top ? ' aria-current="page"' : ''}>${t.label}</a>`;
  tabs.innerHTML = signedIn ? TABS.filter(mayOpen).map(link).join('') : '';
  alertPills();
}

function notBuilt(path, name) {
  main.innerHTML = `<section class="card narrow" id="not-built" data-page="${esc(path)}"><h2>${esc(name)}</h2>
    <p>This page is not built yet. The Proxmox overview is.</p>
    <p><a href="proxmox/overview" data-link>Go to the Proxmox overview</a></p></section>`;
}

async function showPage(me) {
  const path = route();
  if (REDIRECTS[path] !== undefined) return navigate(REDIRECTS[path], true);
  drawTabs(path);
  const top = path.split('/')[0];
  const tab = TABS.find((t) => t.path === top);
  document.title = `${tab ? tab.label : 'Not found'} · Pulse`;
  main.dataset.page = path;
  const page = findPage(path);
  if (page) {
    let mod;
    try {
      mod = await page.load();
    } catch (err) {
      if (me !== showing) return;
      main.innerHTML = `<p class="banner error" role="alert">Cannot load this page: ${esc(err.message)}</p>`;
      return;
    }
    if (me !== showing) return;
    unmount = mod.mount(main, { path, navigate }) || null;
  } else if (tab) {
    notBuilt(path, path.startsWith('proxmox/') ? `Proxmox: ${path.slice(8)}` : tab.label);
  } else {
    main.innerHTML = `<section class="card narrow"><h2>Page not found</h2>
      <p>Nothing lives at <code>/${esc(path)}</code>.</p>
      <p><a href="proxmox/overview" data-link>Go to the Proxmox overview</a></p></section>`;
  }
}

// Kiosk mode (reference/ui.md §1): ?kiosk=1 or the header's Kiosk button hides the tabs, the
// footer, section navigation and filter bars, for wall displays; ?kiosk=0 or the button again
// ends it. Kept for this tab (sessionStorage). ?token=<API token> signs this tab in with the
// token (api.js keeps it) and is taken out of the URL at once, as is the answer of a single
// sign-on (?oidc=success or ?oidc=error&oidc_error=<code>, docs/API.md).
let ssoNotice = '';
function kioskFromUrl() {
  const p = new URLSearchParams(location.search);
  let strip = false;
  if (p.has('oidc')) {
    if (p.get('oidc') === 'error') ssoNotice = `Single sign-on failed: ${p.get('oidc_error') || 'unknown error'}.`;
    p.delete('oidc');
    p.delete('oidc_error');
    strip = true;
  }
  if (p.has('token')) {
    setApiToken(p.get('token'));
    p.delete('token');
    strip = true;
  }
  if (p.has('kiosk')) {
    setKiosk(/^(1|true|yes|on)$/i.test(p.get('kiosk')));
    p.delete('kiosk');
    strip = true;
  } else {
    setKiosk(sessionStorage.getItem('pulse_kiosk_mode') === '1');
  }
  if (strip) history.replaceState(null, '', location.pathname + (p.toString() ? `?${p}` : ''));
}
function setKiosk(on) {
  try { sessionStorage.setItem('pulse_kiosk_mode', on ? '1' : '0'); } catch { /* storage off */ }
  document.body.classList.toggle('kiosk', on);
  const b = document.getElementById('kiosk');
  if (b) b.setAttribute('aria-pressed', String(on));
}

// What the caller may do, for the tabs: a token without settings:read (or *) sees no Settings.
let scopes = null;
const mayOpen = (t) => t.path !== 'settings' || !scopes || scopes.includes('*') || scopes.includes('settings:read');

// Decides what the URL shows: setup, login, or the page. Only the latest call draws (a quick
// second navigation may overtake the first).
let showing = 0;
let logoutUrl = '';	// the provider's sign-out page, for a session an OIDC login made
async function show() {
  const me = ++showing;
  if (unmount) { unmount(); unmount = null; }
  let status, notice = '';
  try {
    try {
      status = (await get('/api/security/status', { quiet401: true })).body;
    } catch (err) {
      // A token kept from earlier that the server no longer takes: forget it, ask again.
      if (!(apiToken() && err.status === 401)) throw err;
      setApiToken('');
      notice = 'The API token this tab used was refused (revoked or expired).';
      status = (await get('/api/security/status', { quiet401: true })).body;
    }
    if (me !== showing) return;
  } catch (err) {
    if (me !== showing) return;
    main.innerHTML = `<p class="banner error" role="alert">Cannot reach the API: ${esc(err.message)}</p>`;
    return;
  }
  scopes = status.tokenScopes || null;
  // A session an OIDC login made is that user's (authUsername names the local admin).
  const user = scopes ? 'API token' : status.oidcUsername || status.authUsername || status.proxyAuthUsername;
  logoutUrl = status.oidcUsername ? status.oidcLogoutURL || '' : '';
  signedIn = Boolean(user);
  userBox.innerHTML = (signedIn ? `<span>${esc(user)}</span> ` : '') +
    '<button id="kiosk" type="button" aria-pressed="false" title="Kiosk mode: hide navigation and filters">Kiosk</button>' +
    (signedIn ? ` <button id="logout" type="button">${scopes ? 'Forget token' : 'Log out'}</button>` : '');
  setKiosk(document.body.classList.contains('kiosk'));
  if (!status.hasAuthentication) {
    drawTabs('');
    document.title = 'Setup · Pulse';
    renderSetup(main, status, show);
  } else if (!signedIn) {
    drawTabs('');
    document.title = 'Sign in · Pulse';
    renderLogin(main, show, notice, status, ssoNotice);
    ssoNotice = '';
  } else {
    showPage(me);
  }
}

onUnauthorized(() => { if (signedIn) { signedIn = false; show(); } });

document.addEventListener('click', async (ev) => {
  const a = ev.target.closest('a[data-link]');
  if (a && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey && ev.button === 0) {
    ev.preventDefault();
    navigate(a.getAttribute('href'));
  } else if (ev.target.id === 'kiosk') {
    setKiosk(!document.body.classList.contains('kiosk'));
  } else if (ev.target.id === 'logout') {
    if (apiToken()) setApiToken('');
    else try { await post('/api/logout'); } catch { /* the session may be gone already */ }
    forgetCsrf();
    forgetState();
    signedIn = false;
    // Signed in through OIDC: the provider's session ends on its own sign-out page.
    if (logoutUrl) location.assign(logoutUrl);
    else show();
  }
});
window.addEventListener('popstate', show);

// The footer: the server's version and health (/api/version, /api/health), every 30 s.
async function footer() {
  try {
    const [v, h] = await Promise.all([get('/api/version', { quiet401: true }),
      get('/api/health', { quiet401: true }).catch((e) => ({ body: e.body }))]);
    document.getElementById('version').textContent = `Pulse ${v.body.version}`;
    const badge = document.getElementById('health');
    badge.textContent = h.body.status || 'unknown';
    badge.className = `badge ${h.body.status === 'healthy' ? 'ok' : 'bad'}`;
  } catch (err) {
    const badge = document.getElementById('health');
    badge.textContent = 'unreachable';
    badge.className = 'badge bad';
  }
}
kioskFromUrl();
// The estate's pages need /api/state first: when this tab seems signed in (a token, or the
// session's CSRF cookie), ask for it while the page's module loads.
if ((apiToken() || /(^|; )pulse_csrf=/.test(document.cookie))
    && /^(proxmox|docker|kubernetes|hosts|alerts\/overview)(\/|$)/.test(route() || 'proxmox')) prefetchState();
footer();
setInterval(footer, 30000);
// A failed poll of the state says the API is unreachable at once (the health check is every
// 30 s); the next good poll asks the health again.
let stateFailed = false;
document.addEventListener('pulse-state-error', (ev) => {
  const err = ev.detail;
  if (err && (!err.status || err.status >= 502)) {  // no answer, or the proxy's: not a 401 or a 4xx
    stateFailed = true;
    const badge = document.getElementById('health');
    badge.textContent = 'unreachable';
    badge.className = 'badge bad';
  } else if (!err && stateFailed) {
    stateFailed = false;
    footer();
  }
});
// The time of the state on screen, whichever page polls it (state.js tells the document).
document.addEventListener('pulse-state', (ev) => {
  const st = ev.detail;
  document.getElementById('last-refresh').textContent =
    st.lastUpdate ? `Last refresh: ${new Date(st.lastUpdate).toLocaleTimeString()}` : '';
});
show();
