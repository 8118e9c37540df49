// replication.js: proxmox/replication (reference/ui.md §4): cards Total jobs, Healthy,
// Issues, Next sync; a search (guest, job, node, instance) and a status filter (All,
// Healthy, Warning, Error), both in the URL with the sort; the jobs: guest, job, source →
// target, last sync (and its duration), next sync, status (the error in its tooltip and
// below it). From the shared state poller.
import { watchState } from './state.js';
import { mountTable, nextSort, viewFromUrl, viewToUrl } from './table.js';
import { esc, ago, when } from './format.js';
import { mountProxmoxNav } from './proxnav.js';

// healthy | warning | error: an error (or failed runs) is an error, a disabled job a warning.
export function jobHealth(j) {
  if (j.error || j.state === 'error' || j.failCount > 0) return 'error';
  if (j.enabled === false) return 'warning';
  return 'healthy';
}
const COLUMNS = [
  { key: 'guest', label: 'Guest', value: (j) => (j.guestName || String(j.guestId)).toLowerCase() },
  { key: 'job', label: 'Job', value: (j) => j.jobId },
  { key: 'route', label: 'Source → Target', value: (j) => `${j.sourceNode}>${j.targetNode}` },
  { key: 'last', label: 'Last sync', value: (j) => j.lastSyncUnix || null, desc: true },
  { key: 'next', label: 'Next sync', value: (j) => j.nextSyncUnix || null },
  { key: 'status', label: 'Status', value: jobHealth },
];
function row(j) {
  const h = jobHealth(j), cls = h === 'healthy' ? 'ok' : h === 'warning' ? 'warn' : 'bad';
  const name = j.guestNode ? `<a href="proxmox/guest/${encodeURIComponent(`${j.instance}:${j.guestNode}:${j.guestId}`)}" data-link>` +
    `${esc(j.guestName || j.guestId)}</a>` : esc(j.guestName || '');
  return `<tr data-job="${esc(j.id)}"><td>${name} <span class="muted">${esc(j.guestId)}</span></td>` +
    `<td>${esc(j.jobId)}${j.schedule ? ` <span class="muted">${esc(j.schedule)}</span>` : ''}</td>` +
    `<td>${esc(j.sourceNode)} → ${esc(j.targetNode)}</td>` +
    `<td title="${esc(when(j.lastSyncUnix * 1000))}">${j.lastSyncUnix ? esc(ago(j.lastSyncUnix * 1000)) : 'never'}` +
    `${j.lastSyncDurationHuman ? ` <span class="muted">(${esc(j.lastSyncDurationHuman)})</span>` : ''}</td>` +
    `<td>${esc(when(j.nextSyncUnix * 1000))}</td>` +
    `<td class="wrap"><span class="badge ${cls}" title="${esc(j.error || '')}">${h}</span>` +
    `${j.failCount ? ` <span class="muted">${j.failCount} failed</span>` : ''}${j.error ? `<div class="muted small">${esc(j.error)}</div>` : ''}</td></tr>`;
}

export function mount(root) {
  const DEFAULTS = { sort: 'guest', dir: 'asc', q: '', status: 'all' };
  const view = viewFromUrl(DEFAULTS, (k, v) => (k === 'sort' ? COLUMNS.some((c) => c.key === v)
    : k === 'dir' ? v === 'asc' || v === 'desc' : k === 'status' ? ['healthy', 'warning', 'error'].includes(v) : true));
  root.innerHTML = `
    <p class="banner error" id="replication-error" role="alert" hidden></p>
    <section class="cards" id="replication-summary"></section>
    <section class="card"><h2>Replication jobs</h2>
      <div class="filters">
        <label class="search"><span class="sr-only">Search jobs</span>
          <input id="job-search" type="search" placeholder="Search guest, job, node" value="${esc(view.q)}" autocomplete="off"></label>
        <label>Status <select id="job-status"><option value="all">All</option><option value="healthy">Healthy</option>
          <option value="warning">Warning</option><option value="error">Error</option></select></label>
        <span id="job-count" class="muted" aria-live="polite"></span>
      </div>
      <div id="job-table"></div></section>`;
  const $ = (sel) => root.querySelector(sel);
  const navDown = mountProxmoxNav(root, 'proxmox/replication');
  $('#job-status').value = view.status;
  let state = null, typing = null;
  const table = mountTable($('#job-table'), {
    id: 'replication-jobs', columns: COLUMNS, row, rowSelector: 'tr[data-job]', tie: (a, b) => (a.id < b.id ? -1 : 1),
    empty: 'No replication jobs found', onSort: (key) => { Object.assign(view, nextSort(view, key, COLUMNS)); changed(); },
  });
  function draw() {
    if (!state) return;
    const jobs = state.replicationJobs || [];
    const healthy = jobs.filter((j) => jobHealth(j) === 'healthy').length;
    const next = jobs.map((j) => j.nextSyncUnix).filter((t) => t > 0).sort((a, b) => a - b)[0];
    $('#replication-summary').innerHTML = [['Total jobs', jobs.length], ['Healthy', healthy], ['Issues', jobs.length - healthy],
      ['Next sync', next ? new Date(next * 1000).toLocaleTimeString() : '-']]
      .map(([k, v]) => `<div class="card stat"><span class="muted">${k}</span><strong>${esc(v)}</strong></div>`).join('');
    const q = view.q.toLowerCase();
    const rows = jobs.filter((j) => (view.status === 'all' || jobHealth(j) === view.status) && (!q ||
      [j.guestName, String(j.guestId), j.jobId, j.sourceNode, j.targetNode, j.instance].some((v) => String(v || '').toLowerCase().includes(q))));
    table.set(rows, view.sort, view.dir);
    $('#job-count').textContent = `${rows.length} of ${jobs.length} jobs`;
  }
  function changed() { viewToUrl(view, DEFAULTS); draw(); }
  $('#job-search').addEventListener('input', (ev) => {
    clearTimeout(typing);
    typing = setTimeout(() => { view.q = ev.target.value.trim(); changed(); }, 120);
  });
  $('#job-status').addEventListener('change', (ev) => { view.status = ev.target.value; changed(); });
  const errBox = $('#replication-error');
  const unwatch = watchState((st) => { state = st; draw(); }, (err) => {
    errBox.hidden = !err;
    if (err) errBox.textContent = `Cannot refresh the state: ${err.message}`;
  });
  return () => { unwatch(); navDown(); clearTimeout(typing); table.destroy(); };
}
