// settings-proxmox.js: Settings → Proxmox (reference/ui.md §6.1): the configured PVE, PBS or
// PMG connections (sub-nav), each with its credentials, TLS, cluster members and status;
// Test, Edit, Refresh cluster and Delete (confirmed); Add opens the form
// (settings-node-form.js). GET /api/config/nodes again every 10 s for the status (3 s while
// one is not connected).
import { get, post, request } from './api.js';
import { refreshState } from './state.js';
import { mountTable } from './table.js';
import { esc } from './format.js';
import { settingsFrame, notice, clearNotice, confirmDialog, busy } from './settings.js';
import { TYPES, openNodeForm } from './settings-node-form.js';

const SUB = [['pve', 'settings/proxmox', 'Virtual Environment'], ['pbs', 'settings/pbs', 'Backup Server'],
  ['pmg', 'settings/pmg', 'Mail Gateway']];
const SHORT = { pve: 'PVE', pbs: 'PBS', pmg: 'PMG' };

function nodeCell(n) {
  return `<strong>${esc(n.name)}</strong><br><span class="muted">${esc(n.host)}</span>`;
}
function credCell(n) {
  if (n.hasToken) return `Token <code>${esc(n.tokenName)}</code>`;
  if (n.hasPassword) return `Password <code>${esc(n.user)}</code>`;
  return '<span class="muted">none</span>';
}
function tlsCell(n) {
  if (n.fingerprint) return `<span title="${esc(n.fingerprint)}">Pinned fingerprint</span>`;
  return n.verifySSL ? 'Verified' : '<span class="badge warn">Not verified</span>';
}
function clusterCell(n) {
  if (!n.isCluster) return '<span class="muted">standalone</span>';
  const eps = n.clusterEndpoints || [];
  const chip = (e) => {
    const ok = e.Online && e.PulseReachable !== false;
    const why = [e.Online ? 'online' : 'offline', e.PulseReachable === false ? `unreachable from Pulse${e.PulseError ? `: ${e.PulseError}` : ''}`
      : e.PulseReachable ? 'reachable from Pulse' : 'not checked yet'].join(', ');
    return `<span class="chip ${ok ? 'ok' : 'bad'}" title="${esc(why)}">${esc(e.NodeName)}</span>`;
  };
  return `${esc(n.clusterName)} cluster · ${eps.length} nodes<div class="chips">${eps.map(chip).join('')}</div>`;
}
const statusCell = (n) => (n.status === 'connected' ? '<span class="badge ok">Online</span>'
  : '<span class="badge bad">Offline</span>');

export function mount(root, ctx) {
  const type = (ctx.path.match(/(pbs|pmg)$/) || [])[1] || 'pve';
  const body = settingsFrame(root, ctx.path, 'Proxmox');
  body.innerHTML = `<nav class="subnav" aria-label="Proxmox products">${SUB.map(([t, path, label]) =>
    `<a href="${path}" data-link${t === type ? ' aria-current="page"' : ''}>${label}</a>`).join('')}</nav>
    <p class="banner" id="nodes-msg" hidden></p>
    <div class="toolbar"><button type="button" id="node-add">Add ${SHORT[type]} node</button></div>
    <div id="node-form-slot"></div>
    <section class="card"><h2>Configured ${esc(TYPES[type].label)} connections</h2><div id="node-list"></div></section>`;
  const msg = body.querySelector('#nodes-msg'), slot = body.querySelector('#node-form-slot');
  const addBtn = body.querySelector('#node-add');
  const table = mountTable(body.querySelector('#node-list'), {
    id: 'node-table',
    columns: [{ key: 'node', label: 'Node' }, { key: 'cred', label: 'Credentials' }, { key: 'tls', label: 'TLS' },
      { key: 'cluster', label: 'Cluster' }, { key: 'status', label: 'Status' }, { key: 'act', label: 'Actions' }],
    row: (n) => `<tr data-id="${esc(n.id)}"><td>${nodeCell(n)}</td><td>${credCell(n)}</td><td>${tlsCell(n)}</td>
      <td>${clusterCell(n)}</td><td class="c-status">${statusCell(n)}</td><td class="actions">
      <button type="button" class="secondary" data-act="test">Test</button>
      <button type="button" class="secondary" data-act="edit">Edit</button>
      ${n.isCluster ? '<button type="button" class="secondary" data-act="refresh">Refresh cluster</button>' : ''}
      <button type="button" class="danger" data-act="delete">Delete</button></td></tr>`,
    empty: `No ${SHORT[type]} node is configured yet.`,
  });
  let nodes = [], shown = '', timer = null, alive = true;

  async function load() {
    clearTimeout(timer);
    try {
      nodes = (await get('/api/config/nodes')).body.filter((n) => n.type === type);
      const key = JSON.stringify(nodes);
      if (key !== shown && alive) { table.set(nodes); shown = key; }
    } catch (err) {
      if (alive) notice(msg, 'error', err.message);
    }
    // A node not (yet) connected is asked about sooner: a new one turns Online within seconds.
    if (alive) timer = setTimeout(load, nodes.some((n) => n.status !== 'connected') ? 3000 : 10000);
  }
  const closeForm = () => { slot.innerHTML = ''; addBtn.hidden = false; };
  function openForm(node) {
    clearNotice(msg);
    addBtn.hidden = true;
    openNodeForm(slot, {
      type, node,
      onDone: (text) => { closeForm(); notice(msg, 'ok', text); load(); },
      onCancel: () => { closeForm(); addBtn.focus(); },
    });
    slot.scrollIntoView({ block: 'nearest' });
  }
  addBtn.addEventListener('click', () => openForm(null));

  const ACTIONS = {
    async test(n) {
      const r = (await post(`/api/config/nodes/${encodeURIComponent(n.id)}/test`, {})).body;
      notice(msg, 'ok', `${n.name}: ${r.message}${r.latency != null ? ` in ${r.latency} ms` : ''}`);
    },
    edit(n) { openForm(n); },
    async refresh(n) {
      const r = (await post(`/api/config/nodes/${encodeURIComponent(n.id)}/refresh-cluster`, {})).body;
      notice(msg, 'ok', `${n.name}: cluster ${r.clusterName}, ${r.oldNodeCount} → ${r.newNodeCount} nodes (${r.nodesAdded} added).`);
      load();
    },
    async delete(n) {
      if (!await confirmDialog(`Delete ${n.name} (${n.host})? Pulse stops monitoring it and its state leaves the dashboard.`)) return;
      await request('DELETE', `/api/config/nodes/${encodeURIComponent(n.id)}`);
      notice(msg, 'ok', `Deleted ${n.name}.`);
      refreshState();
      load();
    },
  };
  body.querySelector('#node-list').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-act]');
    const n = b && nodes.find((x) => x.id === b.closest('tr').dataset.id);
    if (!n) return;
    busy(b, async () => {
      if (b.dataset.act !== 'edit') clearNotice(msg);
      try { await ACTIONS[b.dataset.act](n); } catch (err) { notice(msg, 'error', `${n.name}: ${err.message}`); }
    });
  });
  load();
  return () => { alive = false; clearTimeout(timer); table.destroy(); };
}
