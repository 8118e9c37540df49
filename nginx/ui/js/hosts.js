// hosts.js: the Hosts page (reference/ui.md §4): the machines that run the host agent, from
// the state's hosts: platform, CPU (load in the tooltip), memory, disks, temperature,
// uptime, agent, addresses, architecture, kernel, RAID.
import { mountListPage } from './listpage.js';
import { searchMatcher } from './table.js';
import { esc, bytes, uptime, bar, ago, when, temp } from './format.js';

const maxTemp = (h) => {
  const t = h.sensors && h.sensors.temperatureCelsius;
  const v = t ? Object.values(t).filter((x) => typeof x === 'number') : [];
  return v.length ? Math.max(...v) : null;
};
const diskPct = (h) => {
  let used = 0, total = 0;
  for (const d of h.disks || []) { used += d.used || 0; total += d.total || 0; }
  return total > 0 ? (used * 100) / total : null;
};
const addresses = (h) => (h.networkInterfaces || []).flatMap((n) => n.addresses || []).map((a) => a.replace(/\/\d+$/, ''));
const online = (h) => h.status === 'online';

const COLUMNS = [
  { key: 'name', label: 'Host', value: (h) => (h.displayName || h.hostname || '').toLowerCase() },
  { key: 'platform', label: 'Platform', value: (h) => `${h.platform || ''} ${h.osName || ''}` },
  { key: 'status', label: 'Status', value: (h) => h.status },
  { key: 'cpu', label: 'CPU', value: (h) => (online(h) ? h.cpuUsage : null), desc: true },
  { key: 'memory', label: 'Memory', value: (h) => (online(h) && h.memory ? h.memory.usage : null), desc: true },
  { key: 'disk', label: 'Disk', value: diskPct, desc: true },
  { key: 'temp', label: 'Temp', value: maxTemp, desc: true },
  { key: 'uptime', label: 'Uptime', value: (h) => (online(h) ? h.uptimeSeconds : null), desc: true },
  { key: 'agent', label: 'Agent', value: (h) => h.agentVersion || '' },
  { key: 'ip', label: 'IP' },
  { key: 'arch', label: 'Arch', value: (h) => h.architecture || '' },
  { key: 'kernel', label: 'Kernel' },
  { key: 'raid', label: 'RAID' },
];

function raidCell(h) {
  const arrays = h.raid || [];
  if (!arrays.length) return '<span class="muted">-</span>';
  return arrays.map((r) => {
    const bad = r.state && !/^(clean|active)/.test(r.state);
    const members = r.totalDevices ? ` ${r.activeDevices ?? '?'}/${r.totalDevices}` : '';
    const rebuild = r.rebuildPercent > 0 ? ` ${Number(r.rebuildPercent).toFixed(0)}%` : '';
    return `<span class="badge ${bad ? 'warn' : 'ok'}" title="${esc(r.device)} ${esc(r.level)} ${esc(r.state)}">` +
      `${esc(r.device || 'md')}${members}${rebuild}</span>`;
  }).join(' ');
}

function row(h) {
  const up = online(h);
  const mem = h.memory || {};
  const disks = (h.disks || []).map((d) => `${d.mountpoint}: ${bytes(d.used)} of ${bytes(d.total)}`).join('\n');
  const dp = diskPct(h), t = maxTemp(h);
  const load = (h.loadAverage || []).map((x) => Number(x).toFixed(2)).join(' ');
  return `<tr data-id="${esc(h.id)}" class="${up ? '' : 'down'}">` +
    `<td class="name" title="last report ${esc(when(h.lastSeen))} (${esc(ago(h.lastSeen))})"><a href="hosts/${encodeURIComponent(h.id)}" data-link>${esc(h.displayName || h.hostname)}</a></td>` +
    `<td>${esc(h.platform)}<span class="muted"> ${esc([h.osName, h.osVersion].filter(Boolean).join(' '))}</span></td>` +
    `<td><span class="dot ${esc(h.status)}"></span>${esc(h.status)}</td>` +
    `<td>${up ? bar(h.cpuUsage, `${Number(h.cpuUsage || 0).toFixed(0)}%`, `${Number(h.cpuUsage || 0).toFixed(1)}% of ${h.cpuCount || '?'} CPUs${load ? `; load ${load}` : ''}`) : bar(null)}</td>` +
    `<td>${up && mem.total ? bar(mem.usage, `${Number(mem.usage).toFixed(0)}%`, `${bytes(mem.used)} of ${bytes(mem.total)}`, 70, 90) : bar(null)}</td>` +
    `<td>${dp == null ? bar(null) : bar(dp, `${dp.toFixed(0)}%`, disks)}</td>` +
    `<td class="num">${t == null ? '<span class="muted">-</span>' : `<span class="${t >= 80 ? 'text-crit' : t >= 75 ? 'text-warn' : ''}">${temp(t)}</span>`}</td>` +
    `<td class="num">${up ? uptime(h.uptimeSeconds) : '-'}</td>` +
    `<td>${esc(h.agentVersion)}</td><td>${esc(addresses(h).join(', '))}</td>` +
    `<td>${esc(h.architecture)}</td><td>${esc(h.kernelVersion)}</td><td>${raidCell(h)}</td></tr>`;
}

export function mount(root) {
  return mountListPage(root, {
    id: 'hosts', columns: COLUMNS, row, rowSelector: 'tr[data-id]', noun: 'hosts',
    tie: (a, b) => String(a.hostname).localeCompare(String(b.hostname)),
    empty: 'No host agents report to this server (docs/AGENT.md says how to install one).',
    placeholder: 'Search: hostname, linux, windows, darwin, cpu>80',
    defaults: { sort: 'name', dir: 'asc', status: 'all', q: '' },
    selects: [{ key: 'status', label: 'Status', options: [['all', 'All'], ['online', 'Online'], ['degraded', 'Degraded'], ['offline', 'Offline']] }],
    rows(st, view) {
      const all = st.hosts || [];
      const match = searchMatcher(view.q, {
        metrics: { cpu: (h) => h.cpuUsage || 0, memory: (h) => (h.memory ? h.memory.usage : 0), disk: (h) => diskPct(h) ?? 0 },
        fields: { name: (h) => h.hostname, platform: (h) => h.platform, os: (h) => h.osName, status: (h) => h.status,
          arch: (h) => h.architecture, tags: (h) => (h.tags || []).join(' ') },
        words: (h) => [h.hostname, h.displayName, h.platform, h.osName, h.osVersion, ...addresses(h)],
      });
      return { total: all.length, rows: all.filter((h) => (view.status === 'all' || h.status === view.status) && match(h)) };
    },
  });
}
