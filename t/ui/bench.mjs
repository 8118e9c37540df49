// bench.mjs: the web UI's figures for `make bench` (bench/run-bench.pl ui_bench starts a stack
// polling a simulated estate and runs this): Debian's chromium headless loads the Proxmox
// overview in a browser with an empty cache, then again with its cache, and prints one
// "figure <name> <value>" line per figure:
//   fcp_ms, rows_ms     first contentful paint; the guest table holding every guest (its
//                       count says "N of N guests"), from the start of the navigation
//   transfer_kb         bytes on the wire for the page (compressed, headers included), the
//                       state body left out; requests: how many
//   refresh_ms          main-thread time (Chromium's TaskDuration) from one change of the
//                       state on screen to the next: the polls (304s), the full body's
//                       parse and the redraw; three of them (max and median)
//                       (refresh_parse_ms, refresh_render_ms: the median of the last three
//                       JSON parses of the state and redraws, from the page's own
//                       performance.measure entries)
//   heap_mb             the page's JavaScript heap after the refreshes
// Environment: UI_URL, UI_USER, UI_PASSWORD, UI_CHROMIUM, UI_GUESTS (the estate's size).
import { chromium } from 'playwright-core';

const env = process.env;
const base = env.UI_URL.replace(/\/$/, '');
const guests = Number(env.UI_GUESTS);
const browser = await chromium.launch({
  executablePath: env.UI_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const figure = (name, value) => console.log(`figure ${name} ${value}`);

async function load(page, label) {
  await page.goto(base + '/proxmox/overview', { waitUntil: 'commit' });
  await page.waitForFunction((n) => (document.querySelector('#guests-count')?.textContent || '').startsWith(`${n} of ${n} `),
    guests, { timeout: 60000, polling: 'raf' });
  const t = await page.evaluate(() => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const nav = performance.getEntriesByType('navigation')[0];
    let bytes = nav.transferSize, count = 1;
    for (const r of performance.getEntriesByType('resource')) {
      if (new URL(r.name).pathname.endsWith('/api/state')) continue;
      bytes += r.transferSize;
      count++;
    }
    return { fcp: fcp ? fcp.startTime : -1, rows: performance.now(), bytes, count };
  });
  figure(`${label}_fcp_ms`, t.fcp.toFixed(0));
  figure(`${label}_rows_ms`, t.rows.toFixed(0));
  figure(`${label}_transfer_kb`, (t.bytes / 1024).toFixed(1));
  figure(`${label}_requests`, t.count);
}

const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 900 } });
const res = await ctx.request.post(base + '/api/login', { data: { username: env.UI_USER, password: env.UI_PASSWORD } });
if (!res.ok()) { console.log(`error login ${res.status()}`); process.exit(1); }
const page = await ctx.newPage();
const cdp = await ctx.newCDPSession(page);
await cdp.send('Performance.enable');
await load(page, 'cold');
await load(page, 'warm');

// Refreshes: from one 'pulse-state' event (state.js, after the page has redrawn) to the next.
const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
const nextChange = () => page.evaluate(() => new Promise((resolve) => {
  document.addEventListener('pulse-state', () => resolve(), { once: true });
}));
await nextChange();
const times = [];
const parts = { ScriptDuration: [], LayoutDuration: [], RecalcStyleDuration: [] };
for (let i = 0; i < 3; i++) {
  const before = await metrics();
  await nextChange();
  const after = await metrics();
  times.push((after.TaskDuration - before.TaskDuration) * 1000);
  for (const k of Object.keys(parts)) parts[k].push((after[k] - before[k]) * 1000);
}
for (const [k, v] of Object.entries(parts)) figure(`refresh_${k}`, v.sort((a, b) => a - b)[1].toFixed(1));
times.sort((a, b) => a - b);
const measured = await page.evaluate(() => ['pulse-json-parse', 'pulse-state-render'].map((n) => {
  const m = performance.getEntriesByName(n).slice(-3).map((e) => e.duration).sort((a, b) => a - b);
  return m.length ? m[Math.floor(m.length / 2)] : -1;
}));
figure('refresh_parse_ms', measured[0].toFixed(1));
figure('refresh_render_ms', measured[1].toFixed(1));
figure('refresh_ms_median', times[1].toFixed(1));
figure('refresh_ms_max', times[2].toFixed(1));
figure('heap_mb', ((await metrics()).JSHeapUsedSize / 1048576).toFixed(1));
await browser.close();
