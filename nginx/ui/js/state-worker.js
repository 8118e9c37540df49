// state-worker.js: a dedicated worker that fetches /api/state for state.js, so that taking in
// a body of several megabytes (5,000 guests: about 5 MB) happens off the page's main thread.
// It keeps the last state it parsed; when the page holds that same state (its ETag), a new one
// goes to the page as a patch (statepatch.js) of what changed, which costs the page a fraction
// of parsing the whole body and leaves it far less garbage to collect. Otherwise (the first
// answer, an answer the page did not get from here, an error) the page gets the text.
// Messages in: {url, init, have} (url and init as api.js's fetchArgs makes them; have: the
// ETag of the state the page holds, or null), or {prime: text, etag}: a state the page fetched
// itself, to hold as the last one. One message out: {status, headers: {ETag,
// X-CSRF-Token, Retry-After}, text} or {status, headers, patch}, or {error} when the request
// could not be made.
import { diff } from './statepatch.js';

let last = null, lastTag = null;

onmessage = async (ev) => {
  if (ev.data.prime !== undefined) {  // the text of a state the page fetched itself
    try { last = JSON.parse(ev.data.prime); lastTag = ev.data.etag; } catch { last = null; lastTag = null; }
    return;
  }
  const { url, init, have } = ev.data;
  try {
    const res = await fetch(url, init);
    const headers = {};
    for (const h of ['ETag', 'X-CSRF-Token', 'Retry-After']) {
      const v = res.headers.get(h);
      if (v !== null) headers[h] = v;
    }
    if (res.status === 304) { postMessage({ status: 304, headers, text: '' }); return; }
    const text = await res.text();
    let body;
    try { body = res.ok && headers.ETag ? JSON.parse(text) : undefined; } catch { body = undefined; }
    if (body === undefined) {
      last = null; lastTag = null;
      postMessage({ status: res.status, headers, text });
      return;
    }
    const patch = last && have && have === lastTag ? diff(last, body) : undefined;
    last = body; lastTag = headers.ETag;
    postMessage(patch === undefined ? { status: res.status, headers, text } : { status: res.status, headers, patch });
  } catch (err) {
    postMessage({ error: err.message || String(err) });
  }
};
