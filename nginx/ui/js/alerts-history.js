// alerts-history.js: Alerts → History (reference/ui.md §5): GET /api/alerts/history, newest
// first, with the filters level, type, resource text and time range in the URL query (level,
// type, q, range, page). Level and range are the API's own filters and the API pages (limit,
// offset); the API has no type or text filter, so with either set the page asks for the
// newest SCAN entries that match the rest and filters and pages those itself.
// "Clear history" (DELETE /api/alerts/history) asks for a second click.
import { get, request } from './api.js';
import { mountTable, viewFromUrl, viewToUrl } from './table.js';
import { watchState } from './state.js';
import { esc, when } from './format.js';
import { sectionNav, levelBadge, valueText } from './alerts-common.js';

const PAGE = 50, SCAN = 2000;
const RANGES = { '24h': 86400, '7d': 7 * 86400, '30d': 30 * 86400, all: 0 };
const DEFAULTS = { level: 'all', type: '', q: '', range: '7d', page: '1' };
const TYPES = ['cpu', 'memory', 'disk', 'diskRead', 'diskWrite', 'networkIn', 'networkOut', 'temperature', 'usage',
  'diskTemperature', 'connectivity', 'offline', 'powered-off', 'host-offline', 'raid', 'docker-host-offline',
  'docker-container-state', 'docker-container-health', 'docker-container-restart-loop', 'docker-container-oom-kill',
  'docker-container-memory-limit', 'docker-container-update', 'docker-service-health', 'snapshot-age', 'backup-age',
  'disk-health', 'disk-wearout', 'zfs-pool-state', 'zfs-pool-errors', 'zfs-device', 'ceph-health', 'ceph-osd-down',
  'replication', 'queue-depth', 'queue-total', 'queue-deferred', 'queue-hold', 'message-age', 'quarantine-spam',
  'quarantine-virus'];
const COLUMNS = [
  { key: 'time', label: 'Started' }, { key: 'level', label: 'Level' }, { key: 'resource', label: 'Resource' },
  { key: 'type', label: 'Type' }, { key: 'value', label: 'Value / threshold' }, { key: 'message', label: 'Message' },
  { key: 'node', label: 'Node' },
];

function row(a) {
  return `<tr data-id="${esc(a.id)}"><td>${esc(when(a.startTime))}</td><td>${levelBadge(a.level)}</td>` +
    `<td class="name" title="${esc(a.resourceId)}">${esc(a.resourceName || a.resourceId)}</td><td>${esc(a.type)}</td>` +
    `<td class="num">${esc(valueText(a))}</td><td class="msg" title="${esc(a.message)}">${esc(a.message)}</td>` +
    `<td>${esc(a.node || '-')}</td></tr>`;
}

export function mount(root) {
  const view = viewFromUrl(DEFAULTS, (k, v) => (k === 'level' ? ['warning', 'critical'].includes(v)
    : k === 'range' ? v in RANGES : k === 'page' ? /^[1-9]\d{0,5}$/.test(v) : true));
  root.innerHTML = `${sectionNav('history')}
    <p class="banner error" id="alerts-error" role="alert" hidden></p>
    <section class="card">
      <form class="filters" id="history-filters" role="search">
        <label>Level <select id="h-level"><option value="all">All</option><option value="warning">Warning</option>
          <option value="critical">Critical</option></select></label>
        <label>Type <input id="h-type" list="h-types" autocomplete="off" placeholder="any" size="14"></label>
        <datalist id="h-types">${TYPES.map((t) => `<option value="${t}">`).join('')}</datalist>
        <label class="search">Resource <input id="h-q" type="search" autocomplete="off" placeholder="name, id or node"></label>
        <label>Range <select id="h-range"><option value="24h">Last 24 hours</option><option value="7d">Last 7 days</option>
          <option value="30d">Last 30 days</option><option value="all">All</option></select></label>
        <button type="submit">Apply</button>
      </form>
      <div id="history-table"></div>
      <div class="pager">
        <button type="button" class="secondary" id="h-prev">Previous</button>
        <span id="h-where" class="muted" aria-live="polite"></span>
        <button type="button" class="secondary" id="h-next">Next</button>
        <span class="spacer"></span>
        <button type="button" class="danger" id="h-clear">Clear history</button>
      </div>
    </section>`;
  const $ = (s) => root.querySelector(s);
  const errBox = $('#alerts-error');
  const showError = (msg) => { errBox.hidden = !msg; errBox.textContent = msg || ''; };
  const table = mountTable($('#history-table'), { id: 'alert-history', columns: COLUMNS, row, empty: 'No alerts in this range' });
  let alive = true, loading = 0, armTimer = null;

  function fillFilters() {
    $('#h-level').value = view.level; $('#h-type').value = view.type; $('#h-q').value = view.q; $('#h-range').value = view.range;
  }

  async function load() {
    const me = ++loading;
    const page = Number(view.page);
    const p = new URLSearchParams();
    if (view.level !== 'all') p.set('severity', view.level);
    if (RANGES[view.range]) p.set('startTime', new Date(Date.now() - RANGES[view.range] * 1000).toISOString());
    const local = Boolean(view.type || view.q);
    if (local) { p.set('limit', SCAN); } else { p.set('limit', PAGE + 1); p.set('offset', (page - 1) * PAGE); }
    let list;
    try {
      list = (await get(`/api/alerts/history?${p}`)).body || [];
    } catch (err) {
      if (alive && me === loading) showError(`Cannot load the history: ${err.message}`);
      return;
    }
    if (!alive || me !== loading) return;
    showError('');
    let rows, more, note = '';
    if (local) {
      const q = view.q.toLowerCase();
      const hits = list.filter((a) => (!view.type || a.type === view.type) && (!q
        || [a.resourceName, a.resourceId, a.node].some((v) => (v || '').toLowerCase().includes(q))));
      rows = hits.slice((page - 1) * PAGE, page * PAGE);
      more = hits.length > page * PAGE;
      note = ` of ${hits.length}${list.length >= SCAN ? ` (searched the newest ${SCAN})` : ''}`;
    } else {
      rows = list.slice(0, PAGE);
      more = list.length > PAGE;
    }
    table.set(rows);
    const first = (page - 1) * PAGE + 1;
    $('#h-where').textContent = rows.length ? `Entries ${first}–${first + rows.length - 1}${note}` : `Page ${page}`;
    $('#h-prev').disabled = page <= 1;
    $('#h-next').disabled = !more;
  }

  function apply(extra) {
    Object.assign(view, extra);
    viewToUrl(view, DEFAULTS);
    load();
  }
  $('#history-filters').addEventListener('submit', (ev) => {
    ev.preventDefault();
    apply({ level: $('#h-level').value, type: $('#h-type').value.trim(), q: $('#h-q').value.trim(), range: $('#h-range').value, page: '1' });
  });
  for (const sel of ['#h-level', '#h-range']) $(sel).addEventListener('change', () => $('#history-filters').requestSubmit());
  $('#h-prev').addEventListener('click', () => apply({ page: String(Math.max(1, Number(view.page) - 1)) }));
  $('#h-next').addEventListener('click', () => apply({ page: String(Number(view.page) + 1) }));
  $('#h-clear').addEventListener('click', async (ev) => {
    const btn = ev.currentTarget;
    clearTimeout(armTimer);
    if (!btn.dataset.armed) {
      btn.dataset.armed = '1';
      btn.textContent = 'Confirm: delete the whole history';
      armTimer = setTimeout(() => { delete btn.dataset.armed; btn.textContent = 'Clear history'; }, 5000);
      return;
    }
    delete btn.dataset.armed;
    btn.textContent = 'Clear history';
    try { await request('DELETE', '/api/alerts/history'); apply({ page: '1' }); } catch (err) { showError(`Clear failed: ${err.message}`); }
  });

  fillFilters();
  load();
  const unwatch = watchState(() => {});  // keeps the tab's pills current
  return () => { alive = false; unwatch(); clearTimeout(armTimer); table.destroy(); };
}
