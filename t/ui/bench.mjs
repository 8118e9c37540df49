// bench.mjs: the web UI's figures for `make bench` (bench/run-bench.pl ui_bench starts a stack
// polling a simulated estate and runs this): Debian's chromium headless loads the Proxmox
// overview in a browser with an empty cache, then again with its cache, and prints one
// "figure <name> <value>" line per figure:
//   fcp_ms, rows_ms     first contentful paint; the guest table holding every guest (its
//                       count says "N of N guests"), from the start of the navigation
//   transfer_kb         bytes on the wire for the page (compressed, headers included), the
//                       state body left out; requests: how many
//   refresh_ms          main-thread time (Chromium's TaskDuration: the wall time of the main
//                       thread's tasks) from one change of the state on screen to the next:
//                       the polls (304s), the patch's arrival and application and the redraw;
//                       three of them (max and median), at the top of the page and again
//                       with the guest table scrolled into view (scrolled_*);
//                       refresh_cpu_ms the main thread's CPU time for the same (ThreadTime),
//                       refresh_other_threads_ms the rest of the page's process (the state
//                       worker's fetch, parse and diff, the compositor);
//                       refresh_patch_ms, refresh_render_ms: the median of the last three
//                       patch applications and redraws, from the page's own
//                       performance.measure entries
//   heap_mb             the page's JavaScript heap after the refreshes
// Environment: UI_URL, UI_USER, UI_PASSWORD, UI_CHROMIUM, UI_GUESTS (the estate's size);
// UI_TRACE=1 adds a summary of a trace of one more refresh (see the end).
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
// Three refreshes with the page at its top (the nodes table in view), then three with the
// guest table scrolled into view halfway down.
async function refreshes(label) {
  await nextChange();
  const times = [], cpu = [], other = [];
  const parts = { ScriptDuration: [], LayoutDuration: [], RecalcStyleDuration: [] };
  for (let i = 0; i < 3; i++) {
    const before = await metrics();
    await nextChange();
    const after = await metrics();
    times.push((after.TaskDuration - before.TaskDuration) * 1000);
    cpu.push((after.ThreadTime - before.ThreadTime) * 1000);
    other.push(((after.ProcessTime - before.ProcessTime) - (after.ThreadTime - before.ThreadTime)) * 1000);
    for (const k of Object.keys(parts)) parts[k].push((after[k] - before[k]) * 1000);
  }
  const med = (v) => [...v].sort((a, b) => a - b)[1];
  for (const [k, v] of Object.entries(parts)) figure(`${label}refresh_${k}`, med(v).toFixed(1));
  figure(`${label}refresh_ms_median`, med(times).toFixed(1));
  figure(`${label}refresh_ms_max`, Math.max(...times).toFixed(1));
  figure(`${label}refresh_cpu_ms`, med(cpu).toFixed(1));
  figure(`${label}refresh_other_threads_ms`, med(other).toFixed(1));
  const measured = await page.evaluate(() => ['pulse-json-parse', 'pulse-state-patch', 'pulse-state-render'].map((n) => {
    const m = performance.getEntriesByName(n).slice(-3).map((e) => e.duration).sort((a, b) => a - b);
    return m.length ? m[Math.floor(m.length / 2)] : -1;
  }));
  figure(`${label}refresh_patch_ms`, measured[1].toFixed(1));
  figure(`${label}refresh_render_ms`, measured[2].toFixed(1));
}
await refreshes('');
await page.evaluate(() => {
  const t = document.querySelector('#guests');
  window.scrollTo(0, t.getBoundingClientRect().top + window.scrollY + t.offsetHeight / 2);
});
await refreshes('scrolled_');

// UI_TRACE=1: where the main thread's time of the next refresh goes (a Chromium trace of it,
// summed by kind of work), printed as comments.
if (env.UI_TRACE) {
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8'] });
  await nextChange();
  await page.waitForTimeout(500);
  const trace = JSON.parse((await browser.stopTracing()).toString());
  const events = trace.traceEvents || trace;
  const names = {};
  for (const e of events) if (e.name === 'thread_name') names[`${e.pid}:${e.tid}`] = e.args.name;
  const sum = {};
  for (const e of events) {
    if (e.ph !== 'X' || !e.dur || names[`${e.pid}:${e.tid}`] !== 'CrRendererMain') continue;
    sum[e.name] = (sum[e.name] || 0) + e.dur / 1000;
  }
  for (const [k, v] of Object.entries(sum).sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`trace ${v.toFixed(1)} ms ${k}`);
  // The main thread's tasks of more than 2 ms, each with what took more than 1 ms in it.
  const main = events.filter((e) => e.ph === 'X' && e.dur && names[`${e.pid}:${e.tid}`] === 'CrRendererMain').sort((a, b) => a.ts - b.ts);
  for (const t of main.filter((e) => e.name === 'RunTask' && e.dur > 2000)) {
    const inner = main.filter((e) => e !== t && e.name !== 'RunTask' && e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur && e.dur > 1000);
    console.log(`task ${(t.dur / 1000).toFixed(1)} ms: ${inner.map((e) => `${e.name}${e.args?.data?.functionName ? `(${e.args.data.functionName})` : ''} ${(e.dur / 1000).toFixed(1)}`).join(', ')}`);
  }
  // And the JavaScript functions of three refreshes by their own time (sampled).
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  await cdp.send('Profiler.start');
  for (let i = 0; i < 3; i++) await nextChange();
  const { profile } = await cdp.send('Profiler.stop');
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    const f = byId.get(id).callFrame;
    if (f.functionName === '(idle)') return;
    const k = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
    self.set(k, (self.get(k) || 0) + (profile.timeDeltas[i] || 0));
  });
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`profile ${(v / 3000).toFixed(1)} ms/refresh ${k}`);
  // By total time (the function and what it called).
  const parent = new Map();
  for (const nd of profile.nodes) for (const c of nd.children || []) parent.set(c, nd.id);
  const total = new Map();
  profile.samples.forEach((id, i) => {
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at).callFrame;
      if (!f.url) continue;
      const k = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) || 0) + (profile.timeDeltas[i] || 0));
    }
  });
  for (const [k, v] of [...total].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`profile-total ${(v / 3000).toFixed(1)} ms/refresh ${k}`);
}
figure('heap_mb', ((await metrics()).JSHeapUsedSize / 1048576).toFixed(1));
await browser.close();
