// app.js: the status page: shows /api/health and /api/version, refreshed every 5 seconds.
'use strict';

function show(listId, data) {
  const list = document.getElementById(listId);
  list.replaceChildren();
  const add = (key, value) => {
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = key;
    dd.textContent = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
    list.append(dt, dd);
  };
  for (const [key, value] of Object.entries(data)) {
    if (key === 'database' && value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) add('database.' + k, v);
    } else {
      add(key, value);
    }
  }
}

async function fetchJson(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  const body = await res.json();
  return { status: res.status, body };
}

async function refresh() {
  const errorBox = document.getElementById('error');
  try {
    const [health, version] = await Promise.all([fetchJson('/api/health'), fetchJson('/api/version')]);
    show('health', health.body);
    show('version', version.body);
    const badge = document.getElementById('overall');
    badge.textContent = health.body.status || 'unknown';
    badge.className = 'badge ' + (health.status === 200 ? 'ok' : 'bad');
    errorBox.hidden = true;
  } catch (err) {
    errorBox.textContent = 'Cannot reach the API: ' + err.message;
    errorBox.hidden = false;
  }
}

refresh();
setInterval(refresh, 5000);
