// docker.js: the Docker page (reference/ui.md §4): the Docker and Podman hosts that run the
// agent (a summary table; a host's link filters the list to it with host:<name>) and one list of their
// containers: state, image, CPU, memory, restarts, uptime, health, update available.
import { mountListPage } from './listpage.js';
import { searchMatcher } from './table.js';
import { esc, bytes, uptime, bar, ago, when } from './format.js';

const hostName = (h) => h.displayName || h.hostname || h.id;
const running = (c) => c.state === 'running';

const COLUMNS = [
  { key: 'name', label: 'Container', value: (c) => (c.name || '').toLowerCase() },
  { key: 'host', label: 'Host', value: (c) => c.host.toLowerCase() },
  { key: 'image', label: 'Image', value: (c) => c.image || '' },
  { key: 'state', label: 'Status', value: (c) => c.state },
  { key: 'cpu', label: 'CPU', value: (c) => (running(c) ? c.cpuPercent : null), desc: true },
  { key: 'memory', label: 'Memory', value: (c) => (running(c) ? c.memoryUsageBytes : null), desc: true },
  { key: 'restarts', label: 'Restarts', value: (c) => c.restartCount || 0, desc: true, num: true },
  { key: 'uptime', label: 'Uptime', value: (c) => (running(c) ? c.uptimeSeconds : null), desc: true },
];

function row(c) {
  const up = running(c);
  const memPct = c.memoryLimitBytes > 0 ? (c.memoryUsageBytes * 100) / c.memoryLimitBytes : c.memoryPercent;
  const health = c.health ? ` <span class="badge ${c.health === 'healthy' ? 'ok' : 'warn'}">${esc(c.health)}</span>` : '';
  const update = c.updateStatus && c.updateStatus.updateAvailable ? ' <span class="badge warn" title="a newer image exists">Update</span>' : '';
  return `<tr data-id="${esc(c.id)}" class="${up ? '' : 'stopped'}">` +
    `<td class="name" title="${esc(c.status)}">${esc(c.name)}${health}${update}</td>` +
    `<td>${esc(c.host)}</td><td class="image" title="${esc(c.image)}">${esc(c.image)}</td>` +
    `<td><span class="dot ${up ? 'running' : c.state === 'paused' ? 'paused' : 'stopped'}"></span>${esc(c.state)}</td>` +
    `<td>${up ? bar(c.cpuPercent, `${Number(c.cpuPercent || 0).toFixed(0)}%`) : bar(null)}</td>` +
    `<td>${up ? bar(memPct, bytes(c.memoryUsageBytes), `${bytes(c.memoryUsageBytes)}${c.memoryLimitBytes ? ` of ${bytes(c.memoryLimitBytes)}` : ''}`, 70, 90) : bar(null)}</td>` +
    `<td class="num">${c.restartCount || 0}</td><td class="num">${up ? uptime(c.uptimeSeconds) : '-'}</td></tr>`;
}

function hostsCard(st) {
  const hosts = st.dockerHosts || [];
  if (!hosts.length) return '';
  const rows = hosts.map((h) => {
    const cs = h.containers || [];
    const up = cs.filter(running).length;
    return `<tr class="${h.status === 'online' ? '' : 'down'}"><td class="name">` +
      `<a href="docker?q=${encodeURIComponent(`host:${hostName(h)}`)}" data-link title="its containers only">${esc(hostName(h))}</a>` +
      ` <span class="badge">${esc(h.runtime || 'docker')} ${esc(h.runtimeVersion || h.dockerVersion || '')}</span></td>` +
      `<td><span class="dot ${esc(h.status)}"></span>${esc(h.status)}</td>` +
      `<td>${bar(h.cpuUsagePercent, `${Number(h.cpuUsagePercent || 0).toFixed(0)}%`, `${h.cpus || '?'} CPUs`)}</td>` +
      `<td>${h.memory && h.memory.total ? bar(h.memory.usage, `${Number(h.memory.usage).toFixed(0)}%`, `${bytes(h.memory.used)} of ${bytes(h.memory.total)}`, 70, 90) : bar(null)}</td>` +
      `<td class="num">${up} / ${cs.length}</td><td class="num">${uptime(h.uptimeSeconds)}</td>` +
      `<td title="${esc(when(h.lastSeen))}">${esc(ago(h.lastSeen))}</td><td>${esc(h.agentVersion)}</td></tr>`;
  }).join('');
  return `<section class="card"><h2>Docker hosts</h2><div class="scroll"><table id="docker-hosts" class="grid">
    <thead><tr><th>Host</th><th>Status</th><th>CPU</th><th>Memory</th><th class="num">Running</th><th class="num">Uptime</th>
    <th>Last update</th><th>Agent</th></tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

export function mount(root) {
  return mountListPage(root, {
    id: 'containers', columns: COLUMNS, row, rowSelector: 'tr[data-id]', noun: 'containers',
    tie: (a, b) => (a.name || '').localeCompare(b.name || '') || a.host.localeCompare(b.host),
    empty: 'No containers (no Docker or Podman host reports to this server, or none matches).',
    placeholder: 'Search: name, image:nginx, host:web, state:exited, cpu>50',
    defaults: { sort: 'name', dir: 'asc', state: 'all', q: '' },
    selects: [{ key: 'state', label: 'State', options: [['all', 'All'], ['running', 'Running'], ['exited', 'Exited'], ['paused', 'Paused']] }],
    above: hostsCard,
    rows(st, view) {
      const all = (st.dockerHosts || []).flatMap((h) => (h.containers || []).map((c) => ({ ...c, host: hostName(h) })));
      const match = searchMatcher(view.q, {
        metrics: { cpu: (c) => c.cpuPercent || 0, memory: (c) => c.memoryPercent || 0, restarts: (c) => c.restartCount || 0 },
        fields: { name: (c) => c.name, image: (c) => c.image, host: (c) => c.host, state: (c) => c.state, health: (c) => c.health },
        words: (c) => [c.name, c.image, c.host, c.state],
      });
      return { total: all.length, rows: all.filter((c) => (view.state === 'all' || c.state === view.state)
        && match(c)) };
    },
  });
}
