// proxnav.js: the Proxmox section nav on every proxmox/* page (reference/ui.md §1):
// Overview · Storage · Ceph · Replication · Mail Gateway · Backups; Ceph, Replication and Mail
// Gateway only while the state holds Ceph clusters, replication jobs or PMG instances.
import { watchState } from './state.js';

const SECTIONS = [
  { path: 'proxmox/overview', label: 'Overview' },
  { path: 'proxmox/storage', label: 'Storage' },
  { path: 'proxmox/ceph', label: 'Ceph', when: (s) => (s.cephClusters || []).length },
  { path: 'proxmox/replication', label: 'Replication', when: (s) => (s.replicationJobs || []).length },
  { path: 'proxmox/mail', label: 'Mail Gateway', when: (s) => (s.pmg || []).length },
  { path: 'proxmox/backups', label: 'Backups' },
];

// The nav's HTML for the state st (null: the sections always shown) with current marked.
export function navHtml(st, current) {
  const shown = SECTIONS.filter((x) => !x.when || (st && x.when(st)) || x.path === current);
  return shown.map((x) => `<a href="${x.path}" data-link class="section${x.path === current ? ' on' : ''}"` +
    `${x.path === current ? ' aria-current="page"' : ''}>${x.label}</a>`).join('');
}

// Puts the nav at the top of root (before its first child) for the section current (e.g.
// 'proxmox/storage'); follows the state. Returns the function that takes it down.
export function mountProxmoxNav(root, current) {
  const nav = document.createElement('nav');
  nav.id = 'proxmox-nav';
  nav.className = 'sections section-nav';  // section-nav: hidden in kiosk mode (style.css)
  nav.setAttribute('aria-label', 'Proxmox');
  nav.innerHTML = navHtml(null, current);
  root.prepend(nav);
  let last = '';
  const unwatch = watchState((st) => {
    const html = navHtml(st, current);
    if (html !== last) { nav.innerHTML = html; last = html; }
  });
  return () => { unwatch(); nav.remove(); };
}
