// morph-test.mjs: checks nginx/ui/js/morph.js in Debian's chromium, for t/api/76: random tables
// (rows of cells with text, attributes, bars, links, buttons, ticked boxes, SVG) redrawn many
// times through morph() and morphKeyed() (the whole body), morphRows() (cell by cell) and
// morphElement(), each
// time compared with the same HTML parsed afresh: the same markup, the boxes ticked as the
// HTML says (except a box the user clicked in a row or cell that was not redrawn: it stays as
// the user left it), and the kept elements kept (a row that stays is the same element).
// Prints one "ok - ..." or "not ok - ..." line per check (t/lib/PulseUI.pm's run reads
// them); MORPH_ROUNDS sets the number of redraws (500).
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

const ui = new URL('../../nginx/ui/', import.meta.url);
const browser = await chromium.launch({ executablePath: process.env.UI_CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage();
await page.route('http://morph.test/**', (route) => {
  const path = new URL(route.request().url()).pathname;
  if (path === '/') return route.fulfill({ contentType: 'text/html', body: '<!doctype html><table id="t"><tbody></tbody></table><table id="u"><tbody></tbody></table>' });
  return route.fulfill({ contentType: 'text/javascript', body: readFileSync(new URL('.' + path, ui)) });
});
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));
await page.goto('http://morph.test/');
const result = await page.evaluate(async (rounds) => {
  const { morph, morphKeyed, morphRows, morphElement } = await import('/js/morph.js');
  let seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const cellKinds = [
    () => `<td>${pick(['a', 'b & c', '&lt;x&gt;', '', '42 %'])}</td>`,
    () => `<td class="num">${Math.floor(rnd() * 100)}</td>`,
    () => { const w = (rnd() * 100).toFixed(1); return `<td><div class="bar ${pick(['ok', 'warn', 'crit'])}" title="${w}"><span style="width:${w}%"></span><em>${w}%</em></div></td>`; },
    () => `<td><a href="x/${Math.floor(rnd() * 9)}" data-link>link</a>${rnd() < 0.5 ? ' <span class="badge">b</span>' : ''}</td>`,
    () => `<td class="actions"><button type="button" data-act="${pick(['ack', 'unack'])}">${pick(['Clear', 'Confirm clear'])}</button></td>`,
    () => `<td><input type="checkbox" class="pick"${rnd() < 0.5 ? ' checked' : ''} aria-label="pick"></td>`,
    () => `<td><svg class="spark" viewBox="0 0 60 17"><polyline points="0,${Math.floor(rnd() * 16)} 60,${Math.floor(rnd() * 16)}"/></svg></td>`,
    () => (rnd() < 0.5 ? '<td><span class="muted">-</span></td>' : '<td colspan="1">text</td>'),
  ];
  const width = 6;
  const layout = Array.from({ length: width }, () => pick(cellKinds));
  const row = (id) => `<tr data-id="r${id}"${rnd() < 0.3 ? ' class="stopped"' : ''}>${layout.map((k) => (rnd() < 0.3 ? pick(cellKinds)() : k())).join('')}</tr>`;
  const fresh = document.createElement('tbody');
  // The markup with each element's attributes in name order (morphing may add an attribute
  // after the others) and without the tabindex that table.js sets.
  const norm = (el) => (el.nodeType !== 1 ? (el.nodeType === 3 ? el.nodeValue : '') : `<${el.nodeName}${[...el.attributes]
    .filter((a) => a.name !== 'tabindex').map((a) => ` ${a.name}="${a.value}"`).sort().join('')}>${[...el.childNodes].map(norm).join('')}</${el.nodeName}>`);
  const boxes = (el) => [...el.querySelectorAll('input')].map((i) => i.checked).join();
  const body = document.querySelector('#t tbody');
  let bad = [], kept = 0, keptWanted = 0;
  let rows = Array.from({ length: 12 }, (_, i) => row(i));
  morph(body, rows.join(''), 'tbody');
  for (let r = 0; r < rounds; r++) {
    // The user ticks a box somewhere (its state is no longer its attribute's).
    const box = rnd() < 0.5 ? body.querySelector('input') : null;
    let ticked = null;  // [row, cell] of the box the user clicked
    if (box) {
      box.click();
      const td = box.closest('td'), tr = td.parentElement;
      ticked = [[...body.children].indexOf(tr), [...tr.children].indexOf(td)];
    }
    const before = [...body.children];
    const mode = r % 4;
    let next;
    if (mode === 0 || mode === 3) {  // rows added, removed, reordered: the whole body
      next = rows.filter(() => rnd() > 0.15).map((h) => (rnd() < 0.5 ? h : row(Math.floor(rnd() * 20))));
      if (rnd() < 0.3) next.reverse();
      if (!next.length) next = [row(1)];
      if (mode === 0) {
        morph(body, next.join(''), 'tbody', ['tabindex']);
      } else {  // by key: a row whose data-id was there is the same element
        const id = (h) => h.match(/data-id="([^"]+)"/)[1];
        const unique = (list) => list.filter((h, i) => list.findIndex((x) => id(x) === id(h)) === i && list.filter((x) => id(x) === id(h)).length === 1);
        const was = new Map(before.map((tr) => [tr.dataset.id, tr]));
        const stay = unique(next).filter((h) => unique(rows).some((x) => id(x) === id(h)));
        morphKeyed(body, next.join(''), 'tbody', ['tabindex'], ['data-id']);
        keptWanted += stay.length;
        kept += stay.filter((h) => body.querySelector(`tr[data-id="${id(h)}"]`) === was.get(id(h))).length;
      }
    } else {  // the same rows, some changed: row by row
      next = rows.map((h) => (rnd() < 0.5 ? h : row(Math.floor(rnd() * 20))));
      if (mode === 1) {
        morphRows(next.map((h, i) => ({ tr: body.children[i], was: rows[i], html: h })).filter((x, i) => next[i] !== rows[i]), ['tabindex']);
      } else {
        next.forEach((h, i) => { if (h !== rows[i]) morphElement(body.children[i], h, 'tbody', ['tabindex']); });
      }
      keptWanted += next.length;
      kept += [...body.children].filter((tr, i) => tr === before[i]).length;
    }
    fresh.innerHTML = next.join('');
    if (norm(body) !== norm(fresh)) {
      const x = norm(body), y = norm(fresh);
      let i = 0;
      while (x[i] === y[i]) i++;
      bad.push(`round ${r} (mode ${mode}): markup differs at ${i}: ${x.slice(Math.max(0, i - 80), i + 80)} VS ${y.slice(Math.max(0, i - 80), i + 80)}`);
    }
    // A box the user clicked keeps what the user made of it where its row (row by row) or its
    // cell (cell by cell) was not redrawn: the HTML of those did not change.
    if (ticked && (mode === 1 || mode === 2)) {
      const [i, j] = ticked;
      const cell = (h) => h.split('</td>')[j];
      if (next[i] === rows[i] || (mode === 1 && cell(next[i]) === cell(rows[i]))) {
        const want = fresh.children[i].children[j].querySelector('input');
        want.checked = !want.checked;
      }
    }
    if (boxes(body) !== boxes(fresh)) bad.push(`round ${r} (mode ${mode}): ticked boxes differ: ${boxes(body)} vs ${boxes(fresh)}`);
    rows = next;
    // The next round starts with every box as its HTML says (the user's click undone).
    for (const i of body.querySelectorAll('input')) i.checked = i.defaultChecked;
  }
  // A focused button in a changed cell keeps the focus.
  rows = ['<tr data-id="f"><td>1</td><td class="actions"><button type="button">Clear</button></td></tr>'];
  morph(body, rows[0], 'tbody');
  const btn = body.querySelector('button');
  btn.focus();
  const changed = '<tr data-id="f"><td>2</td><td class="actions"><button type="button">Confirm clear</button></td></tr>';
  morphRows([{ tr: body.children[0], was: rows[0], html: changed }]);
  const focusKept = document.activeElement === btn && btn.textContent === 'Confirm clear';
  return { bad, kept, keptWanted, focusKept };
}, Number(process.env.MORPH_ROUNDS || 500));
await browser.close();

let n = 0;
const ok = (cond, name) => { n++; console.log(`${cond ? 'ok' : 'not ok'} - ${name}`); return cond; };
ok(!errors.length, `no page error${errors.length ? ': ' + errors.join('; ') : ''}`);
if (!ok(!result.bad.length, 'every redraw equals the HTML parsed afresh (markup and ticked boxes)')) result.bad.slice(0, 5).forEach((b) => console.log(`# ${b}`));
ok(result.kept === result.keptWanted, `row by row and by key: every row that stays is the same element (${result.kept} of ${result.keptWanted})`);
ok(result.focusKept, 'a focused button in a changed cell keeps the focus and takes the new text');
process.exit(result.bad.length || errors.length || !result.focusKept ? 1 : 0);
