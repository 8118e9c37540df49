// format.js: how values look on screen: escaped text, bytes, percentages, durations, bars.

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function esc(s) { return String(s ?? '').replace(/[&<>"']/g, (c) => ESC[c]); }

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
export function bytes(n) {
  if (!(n > 0)) return '0 B';
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) { n /= 1024; i++; }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${UNITS[i]}`;
}

// A whole number with the browser's digit grouping ("1,234,567"): one formatter made once
// (Number.prototype.toLocaleString makes one per call, which costs a long table dearly).
const WHOLE = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
export function whole(n) { return WHOLE.format(Math.round(n)); }

// Bytes a second: "1.2 MiB/s"; "0 B/s" for none.
export function rate(n) { return `${bytes(n)}/s`; }

// Seconds as "3d 4h", "5h 12m", "42m", "30s"; "-" for none.
export function uptime(s) {
  if (!(s > 0)) return '-';
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m`;
  return `${Math.floor(s)}s`;
}

// A usage bar: pct in 0..100 (null: no data), yellow and red from the given levels, the
// label centred on it, the title for the tooltip.
export function bar(pct, label, title, warn = 80, crit = 90) {
  if (pct == null || !(pct >= 0)) return '<span class="muted">-</span>';
  const level = pct >= crit ? 'crit' : pct >= warn ? 'warn' : 'ok';
  const w = Math.min(100, Math.max(0, pct)).toFixed(1);
  return `<div class="bar ${level}" title="${esc(title || label)}"><span style="width:${w}%"></span>` +
    `<em>${esc(label)}</em></div>`;
}

// Percent of used in total, or null when total is unknown.
export function pctOf(used, total) { return total > 0 ? (used * 100) / total : null; }

// A moment (ms since the epoch, or an ISO string) as "42s ago", "5m ago", "3h ago", "2d ago";
// "-" for none. The exact time, in the browser's zone, is when(): use it for tooltips.
export function ago(t) {
  const ms = typeof t === 'number' ? t : Date.parse(t);
  if (!(ms > 0)) return '-';
  const s = Math.max(0, (Date.now() - ms) / 1000);
  if (s < 60) return `${Math.floor(s)}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}
export function when(t) {
  const ms = typeof t === 'number' ? t : Date.parse(t);
  return ms > 0 ? new Date(ms).toLocaleString() : '-';
}

// Temperatures come from the API in °C; the browser's choice (Settings → General, localStorage
// temperatureUnit: 'celsius' or 'fahrenheit', as the original keeps it per browser) says how
// they are shown. Read once and kept (a long table asks for it on every row); another tab's
// change arrives by the storage event. The alert thresholds stay in °C, the API's unit.
const TEMP_KEY = 'temperatureUnit';
let fahrenheit = false;
try { fahrenheit = localStorage.getItem(TEMP_KEY) === 'fahrenheit'; } catch { /* storage off: °C */ }
window.addEventListener('storage', (ev) => { if (ev.key === TEMP_KEY) fahrenheit = ev.newValue === 'fahrenheit'; });
export function tempUnit() { return fahrenheit ? 'fahrenheit' : 'celsius'; }
export function setTempUnit(unit) {
  fahrenheit = unit === 'fahrenheit';
  try { localStorage.setItem(TEMP_KEY, tempUnit()); } catch { /* the choice lasts for the page */ }
}
// A temperature in °C as shown: "83 °C" or "181 °F"; "-" for none.
export function temp(c) {
  if (c == null || !Number.isFinite(Number(c))) return '-';
  return fahrenheit ? `${((c * 9) / 5 + 32).toFixed(0)} °F` : `${Number(c).toFixed(0)} °C`;
}
