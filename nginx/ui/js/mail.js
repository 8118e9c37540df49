// mail.js: proxmox/mail, the Mail Gateway (reference/ui.md §4): one panel per PMG instance
// (a search by name in the URL, ?q=) with its Healthy/Degraded/Offline badge, the last day's
// mail, spam, virus, quarantine and queue figures, delivery health (RBL rejects, pregreet,
// greylisted, bounces, average processing time), the queues per node (table.js) and the
// spam score distribution. From the shared state poller.
import { watchState } from './state.js';
import { mountTable, viewFromUrl, viewToUrl } from './table.js';
import { esc, bytes, whole } from './format.js';
import { mountProxmoxNav } from './proxnav.js';

// healthy | degraded | offline
export function pmgHealth(p) {
  if (p.status !== 'online') return 'offline';
  const down = (p.nodes || []).some((n) => n.status === 'offline' || n.status === 'error');
  return p.connectionHealth === 'healthy' && !down ? 'healthy' : 'degraded';
}
const num = (n) => whole(Number(n || 0));
const QUEUE_COLUMNS = [
  { key: 'name', label: 'Node' }, { key: 'role', label: 'Role' },
  { key: 'active', label: 'Active', num: true }, { key: 'deferred', label: 'Deferred', num: true },
  { key: 'hold', label: 'Hold', num: true }, { key: 'incoming', label: 'Incoming', num: true },
  { key: 'total', label: 'Total', num: true }, { key: 'oldest', label: 'Oldest', num: true },
];
function age(s) {
  if (!(s > 0)) return '-';
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
function queueRow(n) {
  const q = n.queueStatus || {};
  return `<tr data-pmg-node="${esc(n.name)}"><td>${esc(n.name)}</td><td>${esc(n.role || n.status || '')}</td>` +
    `<td class="num">${num(q.active)}</td><td class="num">${num(q.deferred)}</td><td class="num">${num(q.hold)}</td>` +
    `<td class="num">${num(q.incoming)}</td><td class="num">${num(q.total)}</td><td class="num">${age(q.oldestAge)}</td></tr>`;
}
function stat(label, value, id) { return `<div class="stat"${id ? ` data-stat="${id}"` : ''}><span class="muted">${esc(label)}</span><strong>${esc(value)}</strong></div>`; }

function panel(p, i) {
  const s = p.mailStats || {}, q = p.quarantine || {}, h = pmgHealth(p);
  const queued = (p.nodes || []).reduce((a, n) => a + ((n.queueStatus || {}).total || 0), 0);
  const dist = p.spamDistribution || [], most = Math.max(1, ...dist.map((d) => d.count || 0));
  return `<section class="card pmg" data-pmg="${esc(p.id)}">
    <h2>${esc(p.name)} <span class="badge ${h === 'healthy' ? 'ok' : h === 'degraded' ? 'warn' : 'bad'}">${h[0].toUpperCase() + h.slice(1)}</span>
      <span class="muted">${esc(p.version || '')}</span></h2>
    <h3>Last 24 hours</h3>
    <div class="stats">${stat('Mail', num(s.countTotal), 'total')}${stat('Inbound', num(s.countIn), 'in')}${stat('Outbound', num(s.countOut), 'out')}
      ${stat('Spam', num((s.spamIn || 0) + (s.spamOut || 0)), 'spam')}${stat('Virus', num((s.virusIn || 0) + (s.virusOut || 0)), 'virus')}
      ${stat('Quarantine', num((q.spam || 0) + (q.virus || 0) + (q.attachment || 0) + (q.blacklisted || 0)), 'quarantine')}
      ${stat('Queued', num(queued), 'queued')}${stat('Traffic in / out', `${bytes(s.bytesIn)} / ${bytes(s.bytesOut)}`)}</div>
    <h3>Delivery health</h3>
    <div class="stats">${stat('RBL rejects', num(s.rblRejects))}${stat('Pregreet rejects', num(s.pregreetRejects))}
      ${stat('Greylisted', num(s.greylistCount))}${stat('Bounces in / out', `${num(s.bouncesIn)} / ${num(s.bouncesOut)}`)}
      ${stat('Avg. processing', s.averageProcessTimeMs != null ? `${(s.averageProcessTimeMs / 1000).toFixed(2)} s` : '-')}</div>
    <h3>Queues</h3>
    <div class="pmg-queues" id="pmg-queues-${i}"></div>
    <h3>Spam scores</h3>
    <div class="spam-dist">${dist.length ? dist.map((d) => `<div class="spam-row"><span>${esc(d.score)}</span>` +
      `<div class="bar ok"><span style="width:${((d.count || 0) * 100 / most).toFixed(1)}%"></span><em>${num(d.count)}</em></div></div>`).join('')
      : '<p class="muted">No spam scores reported</p>'}</div>
  </section>`;
}

export function mount(root) {
  const DEFAULTS = { q: '' };
  const view = viewFromUrl(DEFAULTS);
  root.innerHTML = `
    <p class="banner error" id="mail-error" role="alert" hidden></p>
    <div class="filters card"><label class="search"><span class="sr-only">Search mail gateways</span>
      <input id="pmg-search" type="search" placeholder="Search mail gateways" value="${esc(view.q)}" autocomplete="off"></label>
      <span id="pmg-count" class="muted" aria-live="polite"></span></div>
    <div id="pmg-panels"></div>`;
  const $ = (sel) => root.querySelector(sel);
  const navDown = mountProxmoxNav(root, 'proxmox/mail');
  let state = null, typing = null, tables = [];
  function draw() {
    if (!state) return;
    const all = state.pmg || [], q = view.q.toLowerCase();
    const shown = all.filter((p) => !q || [p.name, p.host].some((v) => String(v || '').toLowerCase().includes(q)));
    for (const t of tables) t.destroy();
    $('#pmg-panels').innerHTML = shown.length ? shown.map(panel).join('')
      : `<section class="card"><p class="muted">${all.length ? 'No mail gateway matches' : 'No Proxmox Mail Gateway configured: add one under Settings.'}</p></section>`;
    tables = shown.map((p, i) => {
      const t = mountTable($(`#pmg-queues-${i}`), { id: `pmg-queue-table-${i}`, columns: QUEUE_COLUMNS, row: queueRow, empty: 'No nodes' });
      t.set(p.nodes || []);
      return t;
    });
    $('#pmg-count').textContent = `${shown.length} of ${all.length} mail gateways`;
  }
  $('#pmg-search').addEventListener('input', (ev) => {
    clearTimeout(typing);
    typing = setTimeout(() => { view.q = ev.target.value.trim(); viewToUrl(view, DEFAULTS); draw(); }, 120);
  });
  const errBox = $('#mail-error');
  const unwatch = watchState((st) => { state = st; draw(); }, (err) => {
    errBox.hidden = !err;
    if (err) errBox.textContent = `Cannot refresh the state: ${err.message}`;
  });
  return () => { unwatch(); navDown(); clearTimeout(typing); for (const t of tables) t.destroy(); };
}
