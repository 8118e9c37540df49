// chart.js: history charts over the vendored uPlot (vendor/uplot, see its README). Only the
// pages that draw charts import this module (dynamically), so the overview never loads uPlot.
// A chart: a time axis in the browser's zone (uPlot's default), values in a unit ('pct',
// 'bytes', 'Bps' for bytes per second), dots on the points while a chart has fewer than 40 in
// view, colours from style.css's variables (redrawn when the
// system's light/dark theme changes), and the width of its box (a ResizeObserver follows it).
import uPlot from '../vendor/uplot/uPlot.esm.js';
import { bytes, when } from './format.js';

let cssLoaded = false;
function loadCss() {
  if (cssLoaded) return;
  cssLoaded = true;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = new URL('../vendor/uplot/uPlot.min.css', import.meta.url).href;  // beside the module (ui-stamp's assets/<hash>/)
  document.head.appendChild(link);
}

const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

// How a value of the unit reads on an axis and in the legend.
export function unitFormat(unit) {
  switch (unit) {
    case 'pct': return (v) => (v == null ? '-' : `${v >= 10 || v === 0 ? v.toFixed(0) : v.toFixed(1)}%`);
    case 'bytes': return (v) => (v == null ? '-' : bytes(v));
    case 'Bps': return (v) => (v == null ? '-' : `${bytes(v)}/s`);
    default: return (v) => (v == null ? '-' : String(Math.round(v * 100) / 100));
  }
}

// The chart's options: series = [{label, color: a CSS variable name}].
function options(spec, width) {
  const fmt = unitFormat(spec.unit);
  const text = cssVar('--muted'), grid = cssVar('--line');
  const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return {
    width, height: spec.height || 180,
    cursor: { drag: { x: false, y: false } },
    legend: { live: true },
    scales: { x: { time: true, range: (u, min, max) => (spec.x ? spec.x : [min, max]) }, y: spec.unit === 'pct' ? { range: (u, min, max) => [0, Math.max(100, max)] }
      : { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [axis, { ...axis, size: 84, values: (u, vals) => vals.map(fmt) }],
    series: [{ label: 'Time', value: (u, v) => (v == null ? '-' : when(v * 1000)) },
      ...spec.series.map((s) => {
        const color = cssVar(s.color) || cssVar('--accent');
        return { label: s.label, stroke: color, fill: `${color}22`, width: 1.5, points: { show: (u, si, i0, i1) => i1 - i0 < 40, size: 5 },
          spanGaps: true, value: (u, v) => fmt(v) };
      })],
  };
}

// Turns point lists ([{timestamp (ms), value}] per series) into uPlot's columns, joined on
// the union of their times (seconds).
export function columns(pointLists) {
  const tables = pointLists.map((pts) => [(pts || []).map((p) => p.timestamp / 1000), (pts || []).map((p) => p.value)]);
  if (tables.length === 1) return tables[0];
  return uPlot.join(tables);
}

// Draws a chart in el (an empty box): spec {unit, series: [{label, color}], height, x: the
// time axis's [start, end] in seconds (else the data's)}, points
// = one point list per series. Returns {chart, points, set(pointLists), destroy()}; el.uplot
// is the uPlot object and el.dataset.points the number of points of the first series (the
// browser test reads both).
export function lineChart(el, spec, pointLists) {
  loadCss();
  let data = columns(pointLists);
  let chart = null;
  const width = () => Math.max(200, Math.floor(el.clientWidth || 300));
  function build() {
    if (chart) chart.destroy();
    el.innerHTML = '';
    chart = new uPlot(options(spec, width()), data, el);
    el.uplot = chart;
    el.dataset.points = String((pointLists[0] || []).length);
  }
  build();
  const ro = new ResizeObserver(() => { if (chart && Math.abs(chart.width - width()) > 1) chart.setSize({ width: width(), height: chart.height }); });
  ro.observe(el);
  const dark = window.matchMedia('(prefers-color-scheme: dark)');
  const onTheme = () => build();
  dark.addEventListener('change', onTheme);
  return {
    get chart() { return chart; },
    set(lists, x) {
      if (x) spec.x = x;
      pointLists = lists;
      data = columns(lists);
      chart.setData(data);
      el.dataset.points = String((lists[0] || []).length);
    },
    destroy() {
      ro.disconnect();
      dark.removeEventListener('change', onTheme);
      if (chart) chart.destroy();
      chart = null;
    },
  };
}
