// state.js: the one poller of /api/state. Every page that shows the estate subscribes with
// watchState(fn); while anyone listens, /api/state is asked every POLL_MS with If-None-Match
// (a 304 keeps the state as it is, so a refresh costs a few milliseconds), and each listener
// gets the state when it changes, and at once if one is known. A hidden tab does not poll.
import { get, fetchArgs, answer } from './api.js';
import { apply } from './statepatch.js';

export const POLL_MS = 5000;
const listeners = new Set();
const errorListeners = new Set();
let state = null, etag = null, timer = null, busy = false, early = null;

// The fetch happens in a worker (state-worker.js) where the browser has them: taking in a
// body of megabytes costs the main thread several times its parse. The worker sends the first
// state as text and each later one as a patch of the state the page holds (statepatch.js).
// Without a worker (or after it failed to start) the page fetches the state itself.
// The state is read-only for the pages, and updated in place by the next patch: a page must
// not keep a part of it expecting it to stay as it was.
let worker = null, workerBroken = false;
function startWorker() {
  if (!worker && !workerBroken) {
    try {
      worker = new Worker(new URL('./state-worker.js', import.meta.url), { type: 'module' });
    } catch {
      workerBroken = true;
    }
  }
  return worker;
}
function fetchState(opts) {
  if (!startWorker()) return get('/api/state', opts);
  const { url, init } = fetchArgs('GET', '/api/state', opts);
  const base = state;
  return new Promise((resolve, reject) => {
    worker.onmessage = (ev) => {
      const m = ev.data;
      if (m.error) { reject(new Error(m.error)); return; }
      try {
        const res = answer(m.status, new Headers(m.headers), m.patch ? '' : m.text, opts);
        if (m.patch !== undefined) {
          const t0 = performance.now();
          // In place (statepatch.js); a new object on top, so a listener can tell a new state.
          res.body = { ...apply(base, m.patch) };
          performance.measure('pulse-state-patch', { start: t0, end: performance.now() });
        }
        resolve(res);
      } catch (err) { reject(err); }
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      worker.terminate();
      worker = null;
      workerBroken = true;
      get('/api/state', opts).then(resolve, reject);
    };
    worker.postMessage({ url, init, have: base ? etag : null });
  });
}

// Asks for the state at once, before the page that shows it is loaded (app.js calls it at
// start-up on a page that shows the estate): the first poll takes this answer. A 401 (not
// signed in yet) is dropped quietly. The page fetches this one itself (starting the worker
// first would delay the first screen), and then hands the text to the worker, which parses
// it in the background: the next change comes as a patch.
export function prefetchState() {
  if (state || early) return;
  const opts = { quiet401: true };
  const { url, init } = fetchArgs('GET', '/api/state', opts);
  early = fetch(url, init).then(async (r) => {
    const text = r.status === 304 ? '' : await r.text();
    return { ...answer(r.status, r.headers, text, opts), text };
  }).catch(() => null);
}

async function poll() {
  timer = null;
  if (!listeners.size) return;
  if (!document.hidden || !state) {
    busy = true;
    try {
      let res = early ? await early : null;
      early = null;
      if (!res) res = await fetchState({ etag });
      if (res.status !== 304 && !(state && res.etag && res.etag === etag)) {
        state = res.body;
        etag = res.etag;
        // Handed to the worker once the first screen is drawn (well before the next poll).
        if (res.text && res.etag) {
          const { text, etag: tag } = res;
          setTimeout(() => { if (startWorker()) worker.postMessage({ prime: text, etag: tag }); }, 300);
        }
        // The redraw's time, for the browser's performance tools and the UI benchmark.
        const t0 = performance.now();
        for (const fn of [...listeners]) fn(state);
        performance.measure('pulse-state-render', { start: t0, end: performance.now() });
        document.dispatchEvent(new CustomEvent('pulse-state', { detail: state }));
      }
      for (const fn of [...errorListeners]) fn(null);
      document.dispatchEvent(new CustomEvent('pulse-state-error', { detail: null }));
    } catch (err) {
      for (const fn of [...errorListeners]) fn(err);
      document.dispatchEvent(new CustomEvent('pulse-state-error', { detail: err }));
    }
    busy = false;
  }
  if (listeners.size && !timer) timer = setTimeout(poll, POLL_MS);
}

// Calls fn(state) now (when known) and on every change; onError(err) after a failed poll
// and onError(null) after a good one. Returns the function that unsubscribes.
export function watchState(fn, onError) {
  listeners.add(fn);
  if (onError) errorListeners.add(onError);
  if (state) fn(state);
  if (!timer && !busy) poll();
  return () => { listeners.delete(fn); if (onError) errorListeners.delete(onError); };
}

// Asks again now (after a change the page made itself).
export function refreshState() {
  if (busy) return;
  clearTimeout(timer);
  poll();
}

export function currentState() { return state; }

// Forgets the state (after logout: the next user's view starts afresh).
export function forgetState() { state = null; etag = null; }
