// backupage.js: how old a backup is and how that looks, shared by the backups page and the
// guest detail view. The rule is the original's backup indicator (reference/ui.md §2.2 and
// alerts-notifications.md, backupDefaults): up to freshHours (24) fresh, up to staleHours
// (72) stale (amber), older red; both from GET /api/alerts/config when it answers.
import { get } from './api.js';
import { esc, ago, when } from './format.js';

let limits = { freshHours: 24, staleHours: 72 }, asked = null;

// Asks the alert configuration once for the thresholds; resolves to them (the defaults when
// the configuration cannot be read).
export function loadAgeLimits() {
  if (!asked) {
    asked = get('/api/alerts/config').then((res) => {
      const b = (res.body && res.body.backupDefaults) || {};
      if (b.freshHours > 0) limits.freshHours = b.freshHours;
      if (b.staleHours > 0) limits.staleHours = Math.max(b.staleHours, limits.freshHours);
      return limits;
    }, () => limits);
  }
  return asked;
}
export function ageLimits() { return limits; }

// 'fresh' | 'stale' | 'old' for a backup time t (epoch ms), or 'none'.
export function ageLevel(t, now = Date.now()) {
  if (!(t > 0)) return 'none';
  const h = (now - t) / 3600000;
  return h <= limits.freshHours ? 'fresh' : h <= limits.staleHours ? 'stale' : 'old';
}


// A cell with the age coloured by its level and the local date in the title.
export function ageCell(t, now = Date.now()) {
  const level = ageLevel(t, now);
  if (level === 'none') return '<span class="age none">never</span>';
  return `<span class="age ${level}" title="${esc(when(t))}">${esc(ago(t))}</span>`;
}
