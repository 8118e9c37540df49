// api.js: every call to the API goes through here. URLs are relative to the page's <base>, so
// the UI works under a sub-path; a session's changes carry the CSRF token; errors become
// ApiError with the API's own message.

export class ApiError extends Error {
  constructor(status, body, headers) {
    super((body && (body.message || body.error)) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.headers = headers;
  }
}

let csrfToken = '';

// An API token the browser signs in with (the login page's token form, or ?token= in the
// URL, for wall displays): kept for this tab only (sessionStorage) and sent as X-API-Token,
// the one header every mode accepts (API-only mode takes no other).
const TOKEN_KEY = 'pulse_api_token';
export function apiToken() { try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; } }
export function setApiToken(t) {
  try { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); } catch { /* storage off */ }
}

function cookie(name) {
  const hit = document.cookie.split('; ').find((c) => c.startsWith(name + '='));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : '';
}

// Listeners for "the session is gone" (any 401 outside login).
const unauthorizedListeners = new Set();
export function onUnauthorized(fn) { unauthorizedListeners.add(fn); }

// What fetch() needs for a call: the URL (absolute, from the page's <base>) and its init.
export function fetchArgs(method, path, opts = {}) {
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') {
    const csrf = csrfToken || cookie('pulse_csrf');
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  if (opts.etag) headers['If-None-Match'] = opts.etag;
  const token = apiToken();
  if (token && !headers['X-API-Token']) headers['X-API-Token'] = token;
  // no-store: the browser neither answers from its cache nor adds its own conditions, so a
  // 304 reaches us as a 304.
  return { url: new URL(path.replace(/^\//, ''), document.baseURI).href, init: {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  } };
}

// An answer's status, headers and text → {status, body, etag, headers}, or ApiError thrown
// (a 401 also tells the "signed out" listeners unless opts.quiet401).
export function answer(status, headers, text, opts = {}) {
  const fresh = headers.get('X-CSRF-Token');
  if (fresh) csrfToken = fresh;
  if (status === 304) return { status: 304, etag: opts.etag, headers };
  let body = null;
  if (text) {
    const t0 = performance.now();
    try { body = JSON.parse(text); } catch { body = { message: text.slice(0, 200) }; }
    if (text.length > 65536) performance.measure('pulse-json-parse', { start: t0, end: performance.now() });
  }
  if (status < 200 || status > 299) {
    if (status === 401 && !opts.quiet401) unauthorizedListeners.forEach((fn) => fn());
    throw new ApiError(status, body, headers);
  }
  return { status, body, etag: headers.get('ETag'), headers };
}

// request(method, path, {body, headers, etag}) → {status, body, etag, headers}.
// With etag set, a 304 answers {status: 304} and no body.
export async function request(method, path, opts = {}) {
  const { url, init } = fetchArgs(method, path, opts);
  const res = await fetch(url, init);
  return answer(res.status, res.headers, res.status === 304 ? '' : await res.text(), opts);
}

export const get = (path, opts) => request('GET', path, opts);
export const post = (path, body, opts = {}) => request('POST', path, { ...opts, body });
export function forgetCsrf() { csrfToken = ''; }
