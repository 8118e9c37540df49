// kubernetes.js: the Kubernetes page (reference/ui.md §4): the clusters that run the agent,
// and one list of Nodes, Pods or Deployments (the "view" select), filtered by health,
// namespace and a search, all kept in the URL.
import { mountListPage } from './listpage.js';
import { searchMatcher } from './table.js';
import { esc, bytes, ago, when, uptime } from './format.js';

const clusterName = (c) => c.displayName || c.name || c.id;
const podReady = (p) => (p.containers || []).filter((c) => c.ready).length;
const podRestarts = (p) => p.restarts ?? (p.containers || []).reduce((n, c) => n + (c.restartCount || 0), 0);
const podHealthy = (p) => p.phase === 'Succeeded' || (p.phase === 'Running' && podReady(p) === (p.containers || []).length);
const depHealthy = (d) => (d.readyReplicas || 0) >= (d.desiredReplicas || 0);
const nodeHealthy = (n) => n.ready && !n.unschedulable;
const ageOf = (p) => (p.startTime || p.createdAt ? uptime((Date.now() - (p.startTime || p.createdAt)) / 1000) : '-');
function podStatus(p) {
  const waiting = (p.containers || []).find((c) => c.reason || (c.state && c.state !== 'running' && c.state !== 'terminated'));
  if (waiting && /CrashLoop/i.test(waiting.reason || '')) return 'CrashLoop';
  return p.phase === 'Succeeded' ? 'Completed' : p.phase || 'Unknown';
}

const VIEWS = {
  pods: {
    noun: 'pods',
    columns: [
      { key: 'name', label: 'Pod', value: (p) => p.name },
      { key: 'namespace', label: 'Namespace', value: (p) => p.namespace },
      { key: 'cluster', label: 'Cluster', value: (p) => p.cluster },
      { key: 'status', label: 'Status', value: podStatus },
      { key: 'ready', label: 'Ready', value: (p) => podReady(p), num: true },
      { key: 'restarts', label: 'Restarts', value: podRestarts, desc: true, num: true },
      { key: 'image', label: 'Image', value: (p) => ((p.containers || [])[0] || {}).image || '' },
      { key: 'age', label: 'Age', value: (p) => -(p.startTime || p.createdAt || 0), num: true },
    ],
    row: (p) => `<tr data-id="${esc(p.uid)}" class="${podHealthy(p) ? '' : 'warn-row'}"><td class="name">${esc(p.name)}</td>` +
      `<td>${esc(p.namespace)}</td><td>${esc(p.cluster)}</td>` +
      `<td><span class="dot ${podHealthy(p) ? 'running' : 'stopped'}"></span>${esc(podStatus(p))}</td>` +
      `<td class="num">${podReady(p)}/${(p.containers || []).length}</td><td class="num">${podRestarts(p)}</td>` +
      `<td class="image">${esc(((p.containers || [])[0] || {}).image)}</td><td class="num">${ageOf(p)}</td></tr>`,
    healthy: podHealthy,
    words: (p) => [p.name, p.namespace, p.cluster, p.nodeName, podStatus(p)],
    fields: { name: (p) => p.name, namespace: (p) => p.namespace, ns: (p) => p.namespace, cluster: (p) => p.cluster,
      node: (p) => p.nodeName, status: podStatus, image: (p) => (p.containers || []).map((c) => c.image).join(' ') },
  },
  deployments: {
    noun: 'deployments',
    columns: [
      { key: 'name', label: 'Deployment', value: (d) => d.name },
      { key: 'namespace', label: 'Namespace', value: (d) => d.namespace },
      { key: 'cluster', label: 'Cluster', value: (d) => d.cluster },
      { key: 'status', label: 'Status', value: (d) => (depHealthy(d) ? 'Healthy' : 'Degraded') },
      { key: 'replicas', label: 'Replicas', value: (d) => d.desiredReplicas || 0, num: true },
      { key: 'ready', label: 'Ready', value: (d) => d.readyReplicas || 0, num: true },
      { key: 'updated', label: 'Up-to-date', value: (d) => d.updatedReplicas || 0, num: true },
    ],
    row: (d) => `<tr data-id="${esc(d.uid)}" class="${depHealthy(d) ? '' : 'warn-row'}"><td class="name">${esc(d.name)}</td>` +
      `<td>${esc(d.namespace)}</td><td>${esc(d.cluster)}</td>` +
      `<td><span class="dot ${depHealthy(d) ? 'running' : 'paused'}"></span>${depHealthy(d) ? 'Healthy' : 'Degraded'}</td>` +
      `<td class="num">${d.desiredReplicas || 0}</td><td class="num">${d.readyReplicas || 0}</td><td class="num">${d.updatedReplicas || 0}</td></tr>`,
    healthy: depHealthy,
    words: (d) => [d.name, d.namespace, d.cluster],
    fields: { name: (d) => d.name, namespace: (d) => d.namespace, ns: (d) => d.namespace, cluster: (d) => d.cluster },
  },
  nodes: {
    noun: 'nodes',
    columns: [
      { key: 'name', label: 'Node', value: (n) => n.name },
      { key: 'cluster', label: 'Cluster', value: (n) => n.cluster },
      { key: 'status', label: 'Status', value: (n) => (nodeHealthy(n) ? 'Ready' : 'NotReady') },
      { key: 'roles', label: 'Roles', value: (n) => (n.roles || []).join(',') },
      { key: 'cpu', label: 'CPU', value: (n) => n.capacityCpuCores, desc: true, num: true },
      { key: 'memory', label: 'Memory', value: (n) => n.capacityMemoryBytes, desc: true, num: true },
      { key: 'pods', label: 'Pods', value: (n) => n.podCount, desc: true, num: true },
      { key: 'version', label: 'Version', value: (n) => n.kubeletVersion || '' },
    ],
    row: (n) => `<tr data-id="${esc(n.uid)}" class="${nodeHealthy(n) ? '' : 'down'}"><td class="name">${esc(n.name)}</td>` +
      `<td>${esc(n.cluster)}</td><td><span class="dot ${nodeHealthy(n) ? 'online' : 'offline'}"></span>${nodeHealthy(n) ? 'Ready' : 'NotReady'}</td>` +
      `<td>${esc((n.roles || []).join(', '))}</td><td class="num">${n.capacityCpuCores ?? '-'} cores</td>` +
      `<td class="num">${bytes(n.capacityMemoryBytes)}</td><td class="num">${n.podCount} / ${n.capacityPods ?? '-'}</td>` +
      `<td>${esc(n.kubeletVersion)}</td></tr>`,
    healthy: nodeHealthy,
    words: (n) => [n.name, n.cluster, ...(n.roles || [])],
    fields: { name: (n) => n.name, cluster: (n) => n.cluster, role: (n) => (n.roles || []).join(' ') },
  },
};

function clustersCard(st, view) {
  const clusters = st.kubernetesClusters || [];
  if (!clusters.length) return `<section class="card"><h2>Kubernetes</h2><p class="muted">No Kubernetes cluster reports
    to this server. The agent's Kubernetes mode (docs/AGENT.md) adds one.</p></section>`;
  const rows = clusters.map((c) => `<tr class="${c.status === 'online' ? '' : 'down'}"><td class="name">` +
    `<a href="kubernetes?${view.view !== 'pods' ? `view=${view.view}&` : ''}q=${encodeURIComponent(`cluster:${clusterName(c)}`)}" data-link title="this cluster only">${esc(clusterName(c))}</a></td>` +
    `<td><span class="dot ${esc(c.status)}"></span>${esc(c.status)}</td><td class="num">${(c.nodes || []).length}</td>` +
    `<td class="num">${(c.pods || []).filter(podHealthy).length} / ${(c.pods || []).length}</td>` +
    `<td class="num">${(c.deployments || []).filter(depHealthy).length} / ${(c.deployments || []).length}</td>` +
    `<td>${esc(c.version)}</td><td title="${esc(when(c.lastSeen))}">${esc(ago(c.lastSeen))}</td></tr>`).join('');
  return `<section class="card"><h2>Clusters</h2><div class="scroll"><table id="k8s-clusters" class="grid">
    <thead><tr><th>Cluster</th><th>Status</th><th class="num">Nodes</th><th class="num">Pods healthy</th>
    <th class="num">Deployments healthy</th><th>Version</th><th>Last seen</th></tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

// Rows of one view from every visible cluster, each with its cluster's name (and a node's pods).
function rowsOf(st, what) {
  return (st.kubernetesClusters || []).filter((c) => !c.hidden).flatMap((c) => {
    const name = clusterName(c);
    if (what === 'nodes') {
      const pods = {};
      for (const p of c.pods || []) pods[p.nodeName] = (pods[p.nodeName] || 0) + 1;
      return (c.nodes || []).map((n) => ({ ...n, cluster: name, podCount: pods[n.name] || 0 }));
    }
    return (c[what] || []).map((x) => ({ ...x, cluster: name }));
  });
}

export function mount(root, ctx) {
  const what = new URLSearchParams(location.search).get('view');
  const v = VIEWS[what] ? what : 'pods';
  const spec = VIEWS[v];
  const unmount = mountListPage(root, {
    id: `k8s-${v}`, columns: spec.columns, row: spec.row, rowSelector: 'tr[data-id]', noun: spec.noun,
    tie: (a, b) => String(a.name).localeCompare(String(b.name)) || String(a.cluster).localeCompare(String(b.cluster)),
    empty: `No ${spec.noun} to show.`,
    placeholder: 'Search: name, ns:kube-system, cluster:prod, status:pending',
    defaults: { view: 'pods', sort: 'name', dir: 'asc', health: 'all', q: '' },
    selects: [
      { key: 'view', label: 'Show', options: [['pods', 'Pods'], ['deployments', 'Deployments'], ['nodes', 'Nodes']] },
      { key: 'health', label: 'Health', options: [['all', 'All'], ['healthy', 'Healthy'], ['unhealthy', 'Unhealthy']] },
    ],
    above: clustersCard,
    rows(st, view) {
      const all = rowsOf(st, v);
      const match = searchMatcher(view.q, { fields: spec.fields, words: spec.words,
        metrics: { restarts: podRestarts } });
      return { total: all.length, rows: all.filter((x) => (view.health === 'all' || (view.health === 'healthy') === spec.healthy(x)) && match(x)) };
    },
  });
  // Another view is another table: draw the page again for it (the URL holds the choice).
  const sel = root.querySelector('select[data-view=view]');
  sel.addEventListener('change', () => {
    const p = new URLSearchParams(location.search);
    p.delete('sort'); p.delete('dir');
    ctx.navigate(`kubernetes${p.toString() ? '?' + p : ''}`, true);
  });
  return unmount;
}
