// state-worker.js: a dedicated worker that fetches /api/state for state.js, so that taking
// in a body of several megabytes (5,000 guests: about 5 MB) happens off the page's main thread;
// the page gets the text (a string is copied, not rebuilt) and parses it. One message in:
// {url, init} as api.js's fetchArgs makes them; one message out: {status, headers: {ETag,
// X-CSRF-Token, Retry-After}, text}, or {error} when the request could not be made.
onmessage = async (ev) => {
  const { url, init } = ev.data;
  try {
    const res = await fetch(url, init);
    const headers = {};
    for (const h of ['ETag', 'X-CSRF-Token', 'Retry-After']) {
      const v = res.headers.get(h);
      if (v !== null) headers[h] = v;
    }
    postMessage({ status: res.status, headers, text: res.status === 304 ? '' : await res.text() });
  } catch (err) {
    postMessage({ error: err.message || String(err) });
  }
};
