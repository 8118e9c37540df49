// settings-diagnostics.js: Settings → System → Diagnostics (reference/ui.md §6.5): GET
// /api/diagnostics shown as cards (the runtime, each Proxmox connection with its last poll
// and error, the Backup Servers, the metrics store's tiers, the API tokens by name), asked
// again with Run diagnostics; Copy as JSON puts the whole answer on the clipboard (it holds
// no secret: the API leaves them out).
import { get } from './api.js';
import { esc, when, ago, whole, uptime, bytes } from './format.js';
import { settingsFrame, notice, clearNotice, busy, copyText } from './settings.js';

const yes = (b, on = 'connected', off = 'not connected') => `<span class="badge ${b ? 'ok' : 'warn'}">${b ? on : off}</span>`;
const fact = (dt, dd) => `<div><dt>${esc(dt)}</dt><dd>${dd}</dd></div>`;

export function mount(root, ctx) {
  const body = settingsFrame(root, ctx.path, 'Diagnostics');
  body.innerHTML = `<section class="card"><div class="actions">
      <button type="button" id="diag-run">Run diagnostics</button>
      <button type="button" id="diag-copy" class="secondary" disabled>Copy as JSON</button></div>
      <p class="banner" id="diag-msg" hidden></p></section>
    <div id="diag-out" class="diag-out"></div>`;
  const msg = body.querySelector('#diag-msg'), out = body.querySelector('#diag-out');
  let last = null;

  function draw(d) {
    const sys = d.system || {}, ms = d.metricsStore || {}, tok = d.apiTokens || {};
    const nodes = (d.nodes || []).map((n) => `<tr data-id="${esc(n.id)}"><th scope="row">${esc(n.name)}</th><td>${esc(n.type)}</td>
      <td class="code">${esc(n.host)}</td><td>${esc(n.authMethod)}</td><td>${yes(n.connected)}</td>
      <td title="${esc(when(n.lastPoll))}">${esc(n.lastPoll ? `${when(n.lastPoll)} (${ago(n.lastPoll)})` : '-')}</td>
      <td>${esc((n.details && n.details.node_count) ?? '-')}</td><td>${esc(n.error || '')}</td></tr>`).join('');
    const pbs = (d.pbs || []).map((p) => `<tr data-id="${esc(p.id)}"><th scope="row">${esc(p.name)}</th><td class="code">${esc(p.host)}</td>
      <td>${yes(p.connected)}</td><td>${esc((p.details && p.details.version) || '-')}</td><td>${esc(p.error || '')}</td></tr>`).join('');
    const tokens = (tok.tokens || []).map((t) => `<tr data-id="${esc(t.id)}"><th scope="row">${esc(t.name)}</th><td>${esc(t.source || '')}</td>
      <td>${esc(when(t.createdAt))}</td><td>${esc(t.lastUsedAt ? when(t.lastUsedAt) : 'never')}</td></tr>`).join('');
    const notes = (list) => (list || []).length ? `<ul>${list.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '';
    out.innerHTML = `<section class="card" id="diag-system"><h2>System runtime</h2><dl class="facts">
        ${fact('Version', esc(d.version))}${fact('Runtime', esc(d.runtime))}${fact('Uptime (this responder)', esc(uptime(d.uptime || 0)))}
        ${fact('OS / architecture', esc(`${sys.os || '-'} / ${sys.arch || '-'}`))}${fact('Compiler', esc(sys.goVersion))}
        ${fact('CPUs', esc(sys.numCPU))}${fact('Threads', esc(sys.numGoroutine))}${fact('Memory (this responder)', esc(`${sys.memoryMB ?? '-'} MB`))}</dl></section>
      <section class="card" id="diag-nodes"><h2>Proxmox VE and Mail Gateway (${(d.nodes || []).length})</h2>
        ${nodes ? `<div class="scroll"><table class="grid"><thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Host</th>
          <th scope="col">Authentication</th><th scope="col">Connection</th><th scope="col">Last poll</th><th scope="col">Nodes</th><th scope="col">Error</th></tr></thead>
          <tbody>${nodes}</tbody></table></div>` : '<p class="hint">None configured.</p>'}</section>
      <section class="card" id="diag-pbs"><h2>Backup Servers (${(d.pbs || []).length})</h2>
        ${pbs ? `<div class="scroll"><table class="grid"><thead><tr><th scope="col">Name</th><th scope="col">Host</th><th scope="col">Connection</th>
          <th scope="col">Version</th><th scope="col">Error</th></tr></thead><tbody>${pbs}</tbody></table></div>` : '<p class="hint">None configured.</p>'}</section>
      <section class="card" id="diag-metrics"><h2>Metrics store ${yes(ms.status === 'healthy', esc(ms.status || '-'), esc(ms.status || 'off'))}</h2><dl class="facts">
        ${fact('Raw samples', esc(whole(ms.rawCount || 0)))}${fact('Minute buckets', esc(whole(ms.minuteCount || 0)))}
        ${fact('Hour buckets', esc(whole(ms.hourlyCount || 0)))}${fact('Day buckets', esc(whole(ms.dailyCount || 0)))}
        ${fact('Database size', esc(ms.dbSize != null ? bytes(ms.dbSize) : '-'))}${fact('Samples not yet written', esc(whole(ms.bufferSize || 0)))}</dl>
        ${notes(ms.notes)}</section>
      <section class="card" id="diag-tokens"><h2>API tokens (${esc(tok.tokenCount ?? 0)})</h2>
        ${tok.recommendTokenSetup ? '<p class="banner info">No API token: one is recommended for agents and scripts (Settings → API Tokens).</p>' : ''}
        ${tokens ? `<div class="scroll"><table class="grid"><thead><tr><th scope="col">Name</th><th scope="col">Source</th><th scope="col">Created</th>
          <th scope="col">Last used</th></tr></thead><tbody>${tokens}</tbody></table></div>` : ''}
        ${notes(tok.notes)}</section>`;
  }

  async function run() {
    clearNotice(msg);
    try {
      last = (await get('/api/diagnostics')).body;
      draw(last);
      body.querySelector('#diag-copy').disabled = false;
      notice(msg, 'ok', `Diagnostics of ${new Date().toLocaleTimeString()}.`);
    } catch (err) { notice(msg, 'error', err.message); }
  }
  body.querySelector('#diag-run').addEventListener('click', () => busy(body.querySelector('#diag-run'), run));
  body.querySelector('#diag-copy').addEventListener('click', async () => {
    const ok = await copyText(JSON.stringify(last, null, 2));
    notice(msg, ok ? 'ok' : 'error', ok ? 'Copied the diagnostics as JSON.' : 'The browser did not allow copying.');
  });
  run();
  return () => {};
}
