// replication.js: proxmox/replication (reference/ui.md §4), a list page (listpage.js): cards
// Total jobs, Healthy, Issues, Next sync; a search (guest, job, node, instance; node:,
// status:) and a status filter (All, Healthy, Warning, Error), both in the URL with the sort; the jobs: guest, job, source →
// target, last sync (and its duration), next sync, status (the error in its tooltip and
// below it). From the shared state poller.
import { searchMatcher } from './table.js';
import { mountListPage } from './listpage.js';
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

function summary(st) {
  const jobs = st.replicationJobs || [];
  const healthy = jobs.filter((j) => jobHealth(j) === 'healthy').length;
  const next = jobs.map((j) => j.nextSyncUnix).filter((t) => t > 0).sort((a, b) => a - b)[0];
  return `<section class="cards" id="replication-summary">${[['Total jobs', jobs.length], ['Healthy', healthy],
    ['Issues', jobs.length - healthy], ['Next sync', next ? new Date(next * 1000).toLocaleTimeString() : '-']]
    .map(([k, v]) => `<div class="card stat"><span class="muted">${k}</span><strong>${esc(v)}</strong></div>`).join('')}</section>`;
}

export function mount(root) {
  const down = mountListPage(root, {
    id: 'replication-jobs', columns: COLUMNS, row, rowSelector: 'tr[data-job]', noun: 'jobs',
    tie: (a, b) => (a.id < b.id ? -1 : 1), empty: 'No replication jobs found',
    placeholder: 'Search guest, job, node', defaults: { sort: 'guest', dir: 'asc', q: '', status: 'all' },
    selects: [{ key: 'status', label: 'Status', options: [['all', 'All'], ['healthy', 'Healthy'], ['warning', 'Warning'], ['error', 'Error']] }],
    above: summary,
    rows(st, view) {
      const jobs = st.replicationJobs || [];
      const match = searchMatcher(view.q, { fields: { node: (j) => `${j.sourceNode} ${j.targetNode}`, status: jobHealth },
        words: (j) => [j.guestName, String(j.guestId), j.jobId, j.sourceNode, j.targetNode, j.instance] });
      return { total: jobs.length, rows: jobs.filter((j) => (view.status === 'all' || jobHealth(j) === view.status) && match(j)) };
    },
  });
  const navDown = mountProxmoxNav(root, 'proxmox/replication');
  return () => { navDown(); down(); };
}
