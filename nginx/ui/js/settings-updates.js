// settings-updates.js: Settings → System → Updates (reference/ui.md §6.4 "Updates"): this
// server's version and deployment type (GET /api/server/info), the update status (GET
// /api/updates/status), Check now (GET /api/updates/check) with the release's notes, the plan
// for the version found (GET /api/updates/plan): its manual steps, or Install update (after a
// confirm: POST /api/updates/apply, then the status asked again every 2 s until it ends), and
// the history of updates (GET /api/updates/history). The channel and automatic checks are
// set on Settings → System → General.
import { get, post } from './api.js';
import { esc, when } from './format.js';
import { settingsFrame, notice, clearNotice, busy, confirmDialog } from './settings.js';

const RUNNING = ['queued', 'downloading', 'verifying', 'applying'];

export function mount(root, ctx) {
  const body = settingsFrame(root, ctx.path, 'Updates');
  body.innerHTML = `<section class="card"><h2>This server</h2>
      <dl class="facts"><div><dt>Version</dt><dd id="upd-version">…</dd></div>
        <div><dt>Deployment</dt><dd id="upd-deploy">…</dd></div>
        <div><dt>Status</dt><dd id="upd-status">…</dd></div></dl>
      <p class="hint">The channel and automatic checks are set under <a href="settings/system" data-link>General</a>.</p>
      <div class="actions"><button type="button" id="upd-check">Check now</button></div>
      <p class="banner" id="upd-msg" hidden></p>
      <div id="upd-result" hidden>
        <dl class="facts"><div><dt>Latest version</dt><dd id="upd-latest"></dd></div>
          <div><dt>Released</dt><dd id="upd-date"></dd></div>
          <div><dt>Download</dt><dd id="upd-url" class="code"></dd></div></dl>
        <details id="upd-notes-box"><summary>Release notes</summary><pre id="upd-notes" class="code"></pre></details>
      </div></section>
    <section class="card" id="upd-plan-card" hidden><h2>Update plan</h2>
      <dl class="facts"><div><dt>Estimated time</dt><dd id="plan-time"></dd></div>
        <div><dt>Needs root</dt><dd id="plan-root"></dd></div>
        <div><dt>Rollback</dt><dd id="plan-rollback"></dd></div></dl>
      <h3>Prerequisites</h3><ul id="plan-prereq"></ul>
      <h3 id="plan-steps-h">Steps</h3><ol id="plan-steps" class="code"></ol>
      <div class="actions"><button type="button" id="upd-apply" class="danger" hidden>Install update</button></div>
      <p class="banner" id="apply-msg" hidden></p></section>
    <section class="card"><h2>History</h2>
      <div class="scroll"><table class="grid" id="upd-history"><thead><tr><th scope="col">When</th><th scope="col">From</th>
        <th scope="col">To</th><th scope="col">Status</th><th scope="col">By</th><th scope="col">Duration</th><th scope="col">Error</th></tr></thead>
        <tbody><tr><td colspan="7">…</td></tr></tbody></table></div></section>`;
  const $ = (s) => body.querySelector(s);
  const msg = $('#upd-msg'), applyMsg = $('#apply-msg');
  let timer = 0, gone = false, found = null;

  get('/api/server/info').then((r) => {
    $('#upd-version').textContent = r.body.version || '-';
    $('#upd-deploy').textContent = r.body.deploymentType || '-';
  }).catch((err) => notice(msg, 'error', err.message));

  function showStatus(s) {
    const text = `${s.status}${s.progress ? ` (${s.progress} %)` : ''}${s.message ? `: ${s.message}` : ''}${s.error ? ` (${s.error})` : ''}`;
    $('#upd-status').textContent = text;
    return s.status;
  }
  async function pollStatus() {
    clearTimeout(timer);
    try {
      const st = showStatus((await get('/api/updates/status')).body);
      if (RUNNING.includes(st) && !gone) timer = setTimeout(pollStatus, 2000);
      else if (!gone) loadHistory();
    } catch (err) { notice(msg, 'error', err.message); }
  }

  async function loadHistory() {
    const tb = $('#upd-history tbody');
    try {
      const rows = (await get('/api/updates/history')).body || [];
      tb.innerHTML = rows.length ? rows.map((e) => `<tr data-id="${esc(e.event_id)}"><td>${esc(when(e.timestamp))}</td>
        <td>${esc(e.version_from)}</td><td>${esc(e.version_to)}</td><td>${esc(e.status)}</td>
        <td>${esc(e.initiated_by)} (${esc(e.initiated_via)})</td>
        <td>${e.duration_ms != null ? `${(e.duration_ms / 1000).toFixed(1)} s` : '-'}</td>
        <td>${esc(e.error ? `${e.error.code}: ${e.error.message}` : '')}</td></tr>`).join('')
        : '<tr><td colspan="7">No update has run on this server.</td></tr>';
    } catch (err) { tb.innerHTML = `<tr><td colspan="7">${esc(err.message)}</td></tr>`; }
  }

  async function showPlan(version) {
    const card = $('#upd-plan-card');
    const p = (await get(`/api/updates/plan?version=${encodeURIComponent(version)}`)).body;
    $('#plan-time').textContent = p.estimatedTime || '-';
    $('#plan-root').textContent = p.requiresRoot ? 'yes' : 'no';
    $('#plan-rollback').textContent = p.rollbackSupport ? 'supported' : 'not supported';
    $('#plan-prereq').innerHTML = (p.prerequisites || []).map((x) => `<li>${esc(x)}</li>`).join('') || '<li>none</li>';
    $('#plan-steps-h').textContent = p.canAutoUpdate ? 'What Install update does' : 'Update by hand';
    $('#plan-steps').innerHTML = (p.instructions || []).map((x) => `<li>${esc(x)}</li>`).join('');
    $('#upd-apply').hidden = !p.canAutoUpdate;
    card.hidden = false;
  }

  $('#upd-check').addEventListener('click', () => busy($('#upd-check'), async () => {
    clearNotice(msg);
    $('#upd-result').hidden = true;
    $('#upd-plan-card').hidden = true;
    found = null;
    notice(msg, 'info', 'Checking…');
    try {
      const c = (await get('/api/updates/check')).body;
      if (c.available) {
        found = c;
        notice(msg, 'ok', `Version ${c.latestVersion} is available (this is ${c.currentVersion}).`);
        $('#upd-latest').textContent = c.latestVersion + (c.isPrerelease ? ' (release candidate)' : '');
        $('#upd-date').textContent = when(c.releaseDate);
        $('#upd-url').textContent = c.downloadUrl || 'none for this machine';
        $('#upd-notes').textContent = c.releaseNotes || '';
        $('#upd-notes-box').hidden = !c.releaseNotes;
        $('#upd-result').hidden = false;
        await showPlan(c.latestVersion);
      } else {
        notice(msg, c.warning ? 'info' : 'ok', c.warning ? `No update found: ${c.warning}` : `Up to date (${c.currentVersion}).`);
      }
    } catch (err) { notice(msg, 'error', err.message); }
    pollStatus();
  }));

  $('#upd-apply').addEventListener('click', async () => {
    if (!found || !found.downloadUrl) { notice(applyMsg, 'error', 'The release has no download for this machine.'); return; }
    if (!await confirmDialog(`Install ${found.latestVersion} now? The server restarts when it is done.`, 'Install update')) return;
    busy($('#upd-apply'), async () => {
      clearNotice(applyMsg);
      try {
        const r = (await post('/api/updates/apply', { downloadUrl: found.downloadUrl })).body;
        notice(applyMsg, 'ok', r.message || 'Update process started');
        pollStatus();
      } catch (err) { notice(applyMsg, 'error', err.message); }
    });
  });

  pollStatus();
  return () => { gone = true; clearTimeout(timer); };
}
