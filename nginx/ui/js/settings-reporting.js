// settings-reporting.js: Settings → System → Reporting (reference/ui.md §6.4, a Pulse Pro
// feature): a resource of the state (nodes, VMs, containers, storage, host agents, Docker
// hosts), one metric or all, a time range and CSV or PDF; Generate asks GET
// /api/admin/reports/generate (built and read through api.js's fetchArgs/answer, the session
// authenticating it) and saves the answer under the name its Content-Disposition gives.
// Without the licence the API's 402 message shows, as any other error.
import { fetchArgs, answer } from './api.js';
import { esc } from './format.js';
import { watchState } from './state.js';
import { settingsFrame, notice, clearNotice, busy } from './settings.js';

const METRICS = ['cpu', 'memory', 'disk', 'diskread', 'diskwrite', 'netin', 'netout', 'usage', 'used', 'total', 'avail'];
const RANGES = [['1', 'Last hour'], ['24', 'Last 24 hours'], ['168', 'Last 7 days'], ['720', 'Last 30 days']];
// The state's lists and the report's resource type of each.
const KINDS = [['nodes', 'node', 'Nodes', (r) => r.displayName || r.name || r.node],
  ['vms', 'vm', 'VMs', (r) => `${r.name} (${r.vmid})`], ['containers', 'container', 'Containers', (r) => `${r.name} (${r.vmid})`],
  ['storage', 'storage', 'Storage', (r) => `${r.name} (${r.node})`], ['hosts', 'host', 'Host agents', (r) => r.displayName || r.hostname],
  ['dockerHosts', 'dockerHost', 'Docker hosts', (r) => r.displayName || r.hostname]];

export function mount(root, ctx) {
  const body = settingsFrame(root, ctx.path, 'Reporting');
  body.innerHTML = `<section class="card"><h2>Metrics report <span class="badge">Pulse Pro</span></h2>
    <p class="hint">A resource's history as CSV or PDF: a summary of each metric (count, minimum, maximum, average,
      current), a chart per metric (PDF) and the data points.</p>
    <form id="report-form" novalidate>
      <label>Resource <select name="resource" required><option value="">…</option></select></label>
      <label>Metric <select name="metricType"><option value="">All metrics</option>
        ${METRICS.map((m) => `<option value="${m}">${m}</option>`).join('')}</select></label>
      <label>Range <select name="range">${RANGES.map(([v, l]) => `<option value="${v}"${v === '24' ? ' selected' : ''}>${l}</option>`).join('')}</select></label>
      <fieldset><legend>Format</legend><div class="checks">
        <label class="check"><input type="radio" name="format" value="pdf" checked> PDF</label>
        <label class="check"><input type="radio" name="format" value="csv"> CSV</label></div></fieldset>
      <label>Title (optional) <input name="title" maxlength="256" autocomplete="off"></label>
      <p class="banner" id="report-msg" hidden></p>
      <div class="actions"><button type="submit" id="report-go">Generate</button></div>
    </form></section>`;
  const form = body.querySelector('#report-form'), msg = body.querySelector('#report-msg');
  const sel = form.elements.resource;
  let drawn = '';

  // The resource list, from the one poller of the state; redrawn only when it changes.
  const stop = watchState((st) => {
    const html = KINDS.map(([list, type, label, name]) => {
      const rows = (st[list] || []).filter((r) => r.id).map((r) => [`${type}|${r.id}`, String(name(r) ?? r.id)])
        .sort((a, b) => a[1].localeCompare(b[1]));
      return rows.length ? `<optgroup label="${esc(label)}">${rows.map(([v, n]) =>
        `<option value="${esc(v)}">${esc(n)}</option>`).join('')}</optgroup>` : '';
    }).join('');
    if (html === drawn) return;
    const keep = sel.value;
    sel.innerHTML = `<option value="">Choose a resource</option>${html}`;
    sel.value = keep;
    drawn = html;
  }, (err) => notice(msg, 'error', err.message));

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(body.querySelector('#report-go'), async () => {
      clearNotice(msg);
      const v = Object.fromEntries(new FormData(form));
      if (!v.resource) { notice(msg, 'error', 'Choose a resource.'); sel.focus(); return; }
      const i = v.resource.indexOf('|');
      const end = new Date(), start = new Date(end - Number(v.range) * 3600e3);
      const q = new URLSearchParams({ resourceType: v.resource.slice(0, i), resourceId: v.resource.slice(i + 1),
        format: v.format, start: start.toISOString().replace(/\.\d+Z$/, 'Z'), end: end.toISOString().replace(/\.\d+Z$/, 'Z') });
      if (v.metricType) q.set('metricType', v.metricType);
      if (v.title.trim()) q.set('title', v.title.trim());
      notice(msg, 'info', 'Generating…');
      try {
        const { url, init } = fetchArgs('GET', `/api/admin/reports/generate?${q}`);
        init.headers.Accept = v.format === 'csv' ? 'text/csv' : 'application/pdf';
        const res = await fetch(url, init);
        if (!res.ok) answer(res.status, res.headers, await res.text());
        const blob = await res.blob();
        const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '')?.[1] || `report.${v.format}`;
        const href = URL.createObjectURL(blob);
        const a = document.createElement('a');
        a.href = href;
        a.download = name;
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(href), 1000);
        notice(msg, 'ok', `Downloaded ${name} (${Math.ceil(blob.size / 1024)} KiB).`);
      } catch (err) { notice(msg, 'error', err.message); }
    });
  });
  return () => stop();
}
