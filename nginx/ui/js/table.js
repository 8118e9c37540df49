// table.js: the UI's list tables: sortable headers (click, or Enter/Space on a focused header),
// rows reached by the keyboard (Tab to the first, arrow keys, Home, End; Enter follows the
// row's first link),
// empty values sorted last, ties broken by a stable key, and above WINDOW_FROM rows only the
// rows near the viewport in the document (spacer rows keep the scroll height): laying out
// thousands of rows of bars takes seconds in a browser, a window of them milliseconds.
// Also the view-in-the-URL helpers, so that a page's sort and filters can be bookmarked.
import { esc } from './format.js';
import { morphKeyed, morphRows } from './morph.js';

const WINDOW_FROM = 300;  // rows: fewer are all in the document
const WINDOW_EXTRA = 12;  // rows above and below the viewport
const KEEP = ['tabindex'];  // attributes of the rows that the table sets itself
const ROW_KEYS = ['data-id', 'data-vmid', 'data-group'];  // what names a row (its element stays with it)

// Sorts rows in place by column col ({value(row)}) in dir 'asc'|'desc'; null/undefined
// values last; ties by tie(a, b).
export function sortRows(rows, col, dir, tie) {
  const sign = dir === 'desc' ? -1 : 1;
  return rows.sort((a, b) => {
    const x = col.value(a), y = col.value(b);
    if (x == null || y == null) return x == null ? (y == null ? tie(a, b) : 1) : -1;
    return x < y ? -sign : x > y ? sign : tie(a, b);
  });
}

// Builds a table in el. opts:
//   id          the <table>'s id
//   columns     [{key, label, value(row) (sort value; none: not sortable), desc (first
//               direction descending), num (right-aligned header)}]
//   row(r)      one <tr>…</tr> as HTML (escape what comes from the API: format.js esc)
//   rowSelector the selector of a real row (for the window's row height), e.g. 'tr[data-id]'
//   tie(a, b)   the order of equal rows
//   empty       the text of an empty table
//   fixed       true: fixed column widths (<col class="c-KEY">), needed by long tables
//   onSort(key) called when a header asks to sort by key (the page updates its view and
//               calls set() again)
//   groups()    optional, asked at each set(): null (one list), or {key(row), compare(k, l),
//               head(key, n)}: the rows under a heading row per key (head's HTML, a <tr> with
//               data-group; n its rows), the groups in compare's order, the sort within each
// Returns {set(rows, sort, dir), destroy()}: set sorts a copy of rows and draws them.
// The sorted rows under their groups' headings (a heading is {[HEAD]: its HTML}).
const HEAD = Symbol('heading');
function grouped(rows, g) {
  const by = new Map();
  for (const r of rows) {
    const k = g.key(r);
    if (!by.has(k)) by.set(k, []);
    by.get(k).push(r);
  }
  const out = [];
  for (const k of [...by.keys()].sort(g.compare)) out.push({ [HEAD]: g.head(k, by.get(k).length) }, ...by.get(k));
  return out;
}

export function mountTable(el, opts) {
  const cols = opts.columns;
  const render = (r) => (HEAD in r ? r[HEAD] : opts.row(r));
  el.innerHTML = `<div class="scroll"><table id="${esc(opts.id)}" class="grid${opts.fixed ? ' fixed' : ''}">` +
    (opts.fixed ? `<colgroup>${cols.map((c) => `<col class="c-${c.key}">`).join('')}</colgroup>` : '') +
    `<thead><tr>${cols.map((c) => {
      const cls = [c.num && 'num', c.cls].filter(Boolean).join(' '), attr = cls ? ` class="${cls}"` : '';
      return c.value ? `<th data-sort="${c.key}" tabindex="0" role="columnheader"${attr}>${esc(c.label)}</th>` : `<th${attr}>${esc(c.label)}</th>`;
    }).join('')}</tr></thead>` +
    '<tbody></tbody></table></div>';
  const table = el.querySelector('table'), tbody = table.querySelector('tbody');
  let rows = [], rowH = 0, shown = [-1, -1], queued = false, alive = true;
  // Where the table body starts on the page (px from the document's top) and a row's height:
  // measured after a frame's layout (in requestAnimationFrame, when the layout is due anyway),
  // never right after a change of the document, which would force a second layout.
  // The scroll position too is kept from the scroll events (reading window.scrollY after a
  // change of the document forces a layout as well).
  let bodyTop = -1, measuring = false, scrollY = window.scrollY;
  let drawn = [];  // the HTML of each row of the body as last drawn

  function draw(force) {
    const n = rows.length;
    let start = 0, end = n;
    if (n > WINDOW_FROM) {
      rowH = rowH || 29;
      if (bodyTop < 0) bodyTop = tbody.getBoundingClientRect().top + scrollY;  // the first draw only
      // The rows in the viewport (none when the table starts below it or ended above it).
      const at = (y) => Math.min(n, Math.max(0, y / rowH));
      const first = Math.floor(at(scrollY - bodyTop)), last = Math.ceil(at(scrollY + window.innerHeight - bodyTop));
      // A scroll that stays inside the window with room to spare changes nothing.
      if (!force && shown[0] <= Math.max(0, first - WINDOW_EXTRA / 2)
          && shown[1] >= Math.min(n, last + WINDOW_EXTRA / 2)) return;
      start = Math.max(0, first - WINDOW_EXTRA);
      end = Math.min(n, last + WINDOW_EXTRA);
    }
    // The spacer above is always there in a long table (0 px at the top), so that the rows
    // keep their places in the body and a refresh only changes what changed (morph.js).
    const spacer = (k, always) => (k > 0 || always
      ? `<tr class="spacer" aria-hidden="true"><td colspan="${cols.length}" style="height:${k * rowH}px"></td></tr>` : '');
    const focused = focusKey();
    const html = n ? [spacer(start, n > WINDOW_FROM), ...rows.slice(start, end).map(render), spacer(n - end)].filter(Boolean)
      : [`<tr><td colspan="${cols.length}" class="muted">${esc(opts.empty || 'Nothing to show')}</td></tr>`];
    // The same number of rows as drawn before (a refresh): only the cells whose HTML changed
    // are brought up to date (morph.js morphRows); else the body is morphed as a whole, each
    // row into the element that showed the same item (morphKeyed).
    const kids = tbody.children;
    if (html.length === drawn.length && kids.length === html.length) {
      const changed = [];
      for (let i = 0; i < html.length; i++) if (html[i] !== drawn[i]) changed.push({ tr: kids[i], was: drawn[i], html: html[i] });
      morphRows(changed, KEEP);
    } else if (!kids.length) {
      tbody.innerHTML = html.join('');  // the first draw: nothing to keep
    } else {
      morphKeyed(tbody, html.join(''), 'tbody', KEEP, ROW_KEYS);
    }
    drawn = html;
    shown = [start, end];
    keyboardRows(focused);
    if (n > WINDOW_FROM && !measuring) {
      measuring = true;
      requestAnimationFrame(() => {
        measuring = false;
        if (!alive) return;
        scrollY = window.scrollY;
        const top = tbody.getBoundingClientRect().top + scrollY;
        const row = tbody.querySelector(opts.rowSelector || 'tr:not(.spacer)');
        const h = row ? row.getBoundingClientRect().height : 0;
        const moved = Math.abs(top - bodyTop) > 0.5 || (h && Math.abs(h - rowH) > 0.5);
        bodyTop = top;
        if (h) rowH = h;
        if (moved) draw(true);
      });
    }
  }
  // Keyboard: rows are focusable (the first one in the Tab order, the others by arrow keys),
  // and a redraw puts the focus back on the same row (by its data-id or data-vmid).
  function focusKey() {
    const tr = document.activeElement && document.activeElement.closest && document.activeElement.closest('tbody tr');
    if (!tr || tr.parentElement !== tbody) return null;
    for (const a of ROW_KEYS) if (tr.hasAttribute(a)) return `tr[${a}="${CSS.escape(tr.getAttribute(a))}"]`;
    return null;
  }
  function keyboardRows(focused) {
    const real = tbody.querySelectorAll('tr:not(.spacer)');
    real.forEach((tr, i) => {
      const want = i === 0 ? '0' : '-1';
      if (tr.getAttribute('tabindex') !== want) tr.setAttribute('tabindex', want);
    });
    if (focused) {
      const tr = tbody.querySelector(focused);
      if (tr) tr.focus({ preventScroll: true });
    }
  }
  tbody.addEventListener('keydown', (ev) => {
    const tr = ev.target.closest('tr');
    if (!tr || ev.target !== tr) return;
    let to = null;
    if (ev.key === 'ArrowDown') to = tr.nextElementSibling;
    else if (ev.key === 'ArrowUp') to = tr.previousElementSibling;
    else if (ev.key === 'Home') to = tbody.querySelector('tr:not(.spacer)');
    else if (ev.key === 'End') to = [...tbody.querySelectorAll('tr:not(.spacer)')].pop();
    else if (ev.key === 'Enter') {
      const link = tr.querySelector('a[href]');
      if (link) { ev.preventDefault(); link.click(); }
      return;
    } else return;
    ev.preventDefault();
    if (to && !to.classList.contains('spacer')) {
      to.focus();
      to.scrollIntoView({ block: 'nearest' });
    }
  });

  function onScroll() {
    if (queued || rows.length <= WINDOW_FROM) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; scrollY = window.scrollY; if (alive) draw(false); });
  }
  window.addEventListener('scroll', onScroll, { passive: true });
  window.addEventListener('resize', onScroll);

  const head = table.querySelector('thead');
  head.addEventListener('click', (ev) => {
    const th = ev.target.closest('th[data-sort]');
    if (th && opts.onSort) opts.onSort(th.dataset.sort);
  });
  head.addEventListener('keydown', (ev) => {
    const th = ev.target.closest('th[data-sort]');
    if (th && opts.onSort && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); opts.onSort(th.dataset.sort); }
  });

  return {
    table,
    set(list, sort, dir) {
      const col = cols.find((c) => c.key === sort && c.value);
      rows = col ? sortRows([...list], col, dir, opts.tie || (() => 0)) : [...list];
      const g = opts.groups && opts.groups();
      if (g) rows = grouped(rows, g);
      draw(true);
      for (const th of head.querySelectorAll('th[data-sort]')) {
        const on = th.dataset.sort === sort;
        th.setAttribute('aria-sort', on ? (dir === 'asc' ? 'ascending' : 'descending') : 'none');
      }
    },
    destroy() {
      alive = false;
      window.removeEventListener('scroll', onScroll);
      window.removeEventListener('resize', onScroll);
    },
  };
}

// The next sort after a header click: the same column flips; another starts in its own
// first direction.
export function nextSort(view, key, columns) {
  if (view.sort === key) return { sort: key, dir: view.dir === 'asc' ? 'desc' : 'asc' };
  const col = columns.find((c) => c.key === key);
  return { sort: key, dir: col && col.desc ? 'desc' : 'asc' };
}

// The page's view from the URL query: for each key of defaults, the query's value when
// allowed(key, value) says so, else the default.
export function viewFromUrl(defaults, allowed = () => true) {
  const p = new URLSearchParams(location.search);
  const view = {};
  for (const [k, d] of Object.entries(defaults)) {
    const v = p.get(k);
    view[k] = v !== null && v !== '' && allowed(k, v) ? v : d;
  }
  return view;
}

// Writes the view into the URL query (replacing the history entry); values equal to their
// default are left out, so a default view has a clean URL.
export function viewToUrl(view, defaults) {
  const p = new URLSearchParams(location.search);
  for (const [k, d] of Object.entries(defaults)) {
    if (view[k] && view[k] !== d) p.set(k, view[k]); else p.delete(k);
  }
  const qs = p.toString();
  history.replaceState(history.state, '', location.pathname + (qs ? '?' + qs : ''));
}

function compare(a, op, b) {
  switch (op) {
    case '>': return a > b;
    case '<': return a < b;
    case '>=': return a >= b;
    case '<=': return a <= b;
    default: return Math.abs(a - b) < 0.01;
  }
}

// The search boxes' language (reference/ui.md §2.6): terms split on commas; a term with an
// operator on a metric (cpu>80, memory<=20) or a field (node:pve1, image:nginx) is a filter,
// and every filter must hold; plain words must match one of words(row), any of them.
//   metrics  {name: row → number}     fields  {name: row → text}     words  row → [text]
// Returns the predicate row → boolean.
export function searchMatcher(text, { metrics = {}, fields = {}, words: wordsOf }) {
  const filters = [], words = [];
  for (const raw of text.split(',')) {
    const term = raw.trim().toLowerCase();
    if (!term) continue;
    let m = term.match(/^(\w+)\s*(>=|<=|==|=|>|<)\s*(-?[\d.]+)$/);
    if (m && metrics[m[1]]) {
      const [, field, op, num] = m;
      filters.push((r) => compare(metrics[field](r), op, Number(num)));
      continue;
    }
    m = term.match(/^(\w+):(.*)$/);
    if (m && fields[m[1]]) {
      const [, field, value] = m;
      filters.push((r) => String(fields[field](r) ?? '').toLowerCase().includes(value.trim()));
      continue;
    }
    words.push(term);
  }
  return (r) => filters.every((f) => f(r)) && (!words.length || words.some((w) =>
    wordsOf(r).some((v) => String(v ?? '').toLowerCase().includes(w))));
}
