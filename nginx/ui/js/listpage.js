// listpage.js: a page made of one filterable list of the state (Docker containers, hosts,
// Kubernetes pods ...): cards above it, a filter bar (search box and selects, every value kept
// in the URL query so the view can be bookmarked), the shared table (table.js) and a count;
// redrawn from the shared state poller (state.js) whenever the state changes.
import { watchState } from './state.js';
import { mountTable, nextSort, viewFromUrl, viewToUrl } from './table.js';
import { esc } from './format.js';
import { morph } from './morph.js';

// opts:
//   id, columns, row, rowSelector, tie, empty, fixed, groups   as table.js's mountTable
//   defaults     the view's keys and default values: {sort, dir, q, ...one per select}
//   selects      [{key, label, options: [[value, text], ...]}]: a <select> per view key
//   placeholder  the search box's hint
//   noun         what a row is, plural ("containers"), for the count
//   above(st, view)  HTML above the list (cards, a summary table), redrawn with the state
//   onState(st)  called once per change of the state, before drawing
//   rows(st, view) → {rows, total}: the rows that pass the view's filters, and how many
//                there are in all
// Returns the unmount function; its refresh() draws the list again (after a change of the
// page's own display options).
export function mountListPage(root, opts) {
  const sortable = new Set(opts.columns.filter((c) => c.value).map((c) => c.key));
  const choices = Object.fromEntries((opts.selects || []).map((s) => [s.key, new Set(s.options.map((o) => o[0]))]));
  const view = viewFromUrl(opts.defaults, (k, v) => (k === 'sort' ? sortable.has(v)
    : k === 'dir' ? v === 'asc' || v === 'desc' : choices[k] ? choices[k].has(v) : true));
  const id = opts.id;
  root.innerHTML = `<p class="banner error" id="${id}-error" role="alert" hidden></p>
    <div id="${id}-above"></div>
    <section class="card">
      <div class="filters">
        <label class="search"><span class="sr-only">Search</span>
          <input id="${id}-search" type="search" placeholder="${esc(opts.placeholder || 'Search')}"
            value="${esc(view.q)}" autocomplete="off"></label>
        ${(opts.selects || []).map((s) => `<label>${esc(s.label)} <select id="${id}-${s.key}" data-view="${s.key}">${s.options.map(([v, t]) =>
    `<option value="${esc(v)}"${v === view[s.key] ? ' selected' : ''}>${esc(t)}</option>`).join('')}</select></label>`).join('')}
        <span id="${id}-count" class="muted" aria-live="polite"></span>
      </div>
      <div id="${id}-list"></div>
    </section>`;
  const $ = (sel) => root.querySelector(sel);
  const errBox = $(`#${id}-error`), search = $(`#${id}-search`);
  let state = null, typing = null;
  const table = mountTable($(`#${id}-list`), {
    id, columns: opts.columns, row: opts.row, rowSelector: opts.rowSelector, tie: opts.tie,
    empty: opts.empty, fixed: opts.fixed, groups: opts.groups,
    onSort: (key) => { Object.assign(view, nextSort(view, key, opts.columns)); changed(); },
  });

  function renderList() {
    if (!state) return;
    const { rows, total } = opts.rows(state, view);
    table.set(rows, view.sort, view.dir);
    $(`#${id}-count`).textContent = `${rows.length} of ${total} ${opts.noun}`;
  }
  function render(st) {
    state = st;
    if (opts.onState) opts.onState(st);
    if (opts.above) morph($(`#${id}-above`), opts.above(st, view));
    renderList();
  }
  function changed() { viewToUrl(view, opts.defaults); renderList(); }
  // "/" anywhere outside a field goes to the search box; Escape in it empties it.
  const slash = (ev) => {
    if (ev.key === '/' && !ev.ctrlKey && !ev.metaKey && !/^(INPUT|SELECT|TEXTAREA)$/.test(ev.target.tagName)) {
      ev.preventDefault();
      search.focus();
    }
  };
  document.addEventListener('keydown', slash);
  search.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && search.value) { search.value = ''; view.q = ''; changed(); }
  });
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => { view.q = search.value.trim(); changed(); }, 120);
  });
  for (const sel of root.querySelectorAll('select[data-view]')) {
    sel.addEventListener('change', () => { view[sel.dataset.view] = sel.value; changed(); });
  }
  const unwatch = watchState(render, (err) => {
    errBox.hidden = !err;
    if (err) errBox.textContent = `Cannot refresh the state: ${err.message}`;
  });
  const down = () => { unwatch(); clearTimeout(typing); table.destroy(); document.removeEventListener('keydown', slash); };
  // The page asks for its list to be drawn again (a display mode of its own changed).
  down.refresh = renderList;
  return down;
}

// A small summary card: [[label, value HTML], ...] as a row of figures.
export function figures(items) {
  return `<section class="card figures">${items.map(([label, value]) =>
    `<div><span class="muted">${esc(label)}</span><strong>${value}</strong></div>`).join('')}</section>`;
}
