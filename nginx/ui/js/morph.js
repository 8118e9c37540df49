// morph.js: puts new HTML into an element by changing only what differs. A refresh of the
// state redraws tables whose rows mostly keep their shape and change a few numbers: replacing
// them (innerHTML) makes the browser build, style and lay out every node again, where changing
// the text and attributes that differ costs it a fraction of that, keeps the focus and the
// selection where they were, and moves nothing on screen.
//
// morph(el, html): el's children become html's. Nodes are matched by position: a node of the
// same kind (element with the same tag, or text) is kept and brought up to date (its
// attributes, its text, then its children the same way); anything else is replaced.
// A <template> parses the HTML once, outside the document, so a table row is parsed in the
// right context when el is a tbody or a tr: pass context 'tbody' or 'tr' for that. keep: names of
// attributes that the caller sets on the kept elements itself (they are not removed).

const parsers = new Map();

function parse(html, context) {
  let t = parsers.get(context);
  if (!t) {
    t = document.createElement('template');
    parsers.set(context, t);
  }
  if (context === 'tbody') {
    t.innerHTML = `<table><tbody>${html}</tbody></table>`;
    return t.content.firstChild.firstChild;
  }
  if (context === 'tr') {
    t.innerHTML = `<table><tbody><tr>${html}</tr></tbody></table>`;
    return t.content.firstChild.firstChild.firstChild;
  }
  t.innerHTML = html;
  return t.content;
}

function sameKind(a, b) {
  return a.nodeType === b.nodeType && (a.nodeType !== 1 || a.nodeName === b.nodeName);
}

function syncAttributes(from, to, keep) {
  const want = to.attributes;
  for (let i = 0; i < want.length; i++) {
    const { name, value } = want[i];
    if (from.getAttribute(name) !== value) from.setAttribute(name, value);
  }
  const have = from.attributes;
  for (let i = have.length - 1; i >= 0; i--) {
    const name = have[i].name;
    if (!to.hasAttribute(name) && !(keep && keep.includes(name))) from.removeAttribute(name);
  }
}

// A form control's state lives in properties that its attributes only set at first (a box
// ticked by the user no longer follows its checked attribute): brought into line with what the
// HTML says, as a new element would be, except the value of the field being typed in.
function syncState(el, next) {
  if (el.nodeName === 'INPUT') {
    if (el.checked !== next.checked) el.checked = next.checked;
    if (el.type !== 'checkbox' && el.type !== 'radio' && el !== document.activeElement && el.value !== next.value) el.value = next.value;
  } else if (el.nodeName === 'OPTION') {
    if (el.selected !== next.selected) el.selected = next.selected;
  } else if (el.nodeName === 'TEXTAREA') {
    if (el !== document.activeElement && el.value !== next.value) el.value = next.value;
  }
}

// A kept node (old) takes what its counterpart of the same kind (cur) has: an element its
// attributes, children and form state, a text its text.
function update(old, cur, keep) {
  if (old.nodeType === 1) {
    syncAttributes(old, cur, keep);
    morphChildren(old, cur, keep);
    syncState(old, cur);
  } else if (old.nodeValue !== cur.nodeValue) {
    old.nodeValue = cur.nodeValue;
  }
}

function morphChildren(el, next, keep) {
  let old = el.firstChild, cur = next.firstChild;
  while (cur) {
    const following = cur.nextSibling;
    if (old && sameKind(old, cur)) {
      update(old, cur, keep);
      old = old.nextSibling;
    } else if (old) {
      const gone = old;
      old = old.nextSibling;
      el.replaceChild(cur, gone);
    } else {
      el.appendChild(cur);
    }
    cur = following;
  }
  while (old) {
    const gone = old;
    old = old.nextSibling;
    el.removeChild(gone);
  }
}

export function morph(el, html, context, keep) {
  morphChildren(el, parse(html, context), keep);
}

// morphKeyed(el, html, context, keep, keys): as morph, but a child element with a key (the
// first of the attributes named in keys that it has, e.g. data-id) is matched with the old
// child of the same key wherever it is, and moved into place: when rows come, go or change
// order, each row stays the same element (a click aimed at a row's button while the list
// shifts still reaches that row's button). Children without a key are matched by position
// among the others.
export function morphKeyed(el, html, context, keep, keys) {
  const next = parse(html, context);
  const keyOf = (node) => {
    if (node.nodeType !== 1) return null;
    for (const k of keys) if (node.hasAttribute(k)) return `${k}=${node.getAttribute(k)}`;
    return null;
  };
  const byKey = new Map(), loose = [];
  for (const child of [...el.childNodes]) {
    const k = keyOf(child);
    if (k !== null && !byKey.has(k)) byKey.set(k, child); else loose.push(child);
  }
  let at = el.firstChild;
  for (const cur of [...next.childNodes]) {
    const k = keyOf(cur);
    let old = k !== null ? byKey.get(k) : undefined;
    if (old) byKey.delete(k);
    else if (k === null) {
      const i = loose.findIndex((n) => sameKind(n, cur));
      if (i >= 0) old = loose.splice(i, 1)[0];
    }
    if (old && sameKind(old, cur)) {
      update(old, cur, keep);
      if (old !== at) el.insertBefore(old, at); else at = at.nextSibling;
    } else {
      el.insertBefore(cur, at);
    }
  }
  while (at) {
    const gone = at;
    at = at.nextSibling;
    el.removeChild(gone);
  }
}

// morphElement(el, html, context, keep): el itself becomes the one element html holds (when
// it is of the same tag; else el is replaced by it). context as morph's: el's parent's kind.
export function morphElement(el, html, context, keep) {
  const next = parse(html, context).firstElementChild;
  if (!next) return;
  if (next.nodeName !== el.nodeName) {
    el.replaceWith(next);
    return;
  }
  update(el, next, keep);
}

// morphRows(items, keep): table rows drawn from HTML become new HTML's, by their cells:
// items [{tr, was, html}]. A cell whose HTML is unchanged is not touched; the changed cells of
// all the rows are parsed together, once, and each kept cell is morphed into its new one (its
// elements stay: a bar whose width and label change is the same element, which the browser
// lays out alone when its size is fixed), and the rows' own attributes follow. A row whose
// cells do not line up (another count, HTML that is not one <td> after another) is morphed
// whole.
const cellsOf = (html) => {
  const open = html.indexOf('>') + 1;
  if (!html.startsWith('<tr') || !html.endsWith('</tr>') || !open) return null;
  const cells = html.slice(open, -5).split('</td>');
  if (cells.pop() !== '' || cells.some((c) => !c.startsWith('<td'))) return null;
  return { open: html.slice(0, open), cells };
};
export function morphRows(items, keep) {
  const batch = [], parts = [];
  for (const { tr, was, html } of items) {
    const a = cellsOf(was), b = cellsOf(html);
    if (!a || !b || a.cells.length !== b.cells.length || tr.children.length !== b.cells.length) {
      morphElement(tr, html, 'tbody', keep);
      continue;
    }
    const changed = [];
    for (let i = 0; i < b.cells.length; i++) if (b.cells[i] !== a.cells[i]) changed.push(i);
    batch.push({ tr, changed, attrs: a.open !== b.open });
    parts.push(`${b.open}${changed.map((i) => `${b.cells[i]}</td>`).join('')}</tr>`);
  }
  if (!batch.length) return;
  const rows = parse(parts.join(''), 'tbody').children;
  batch.forEach(({ tr, changed, attrs }, k) => {
    const next = rows[k];
    if (attrs) syncAttributes(tr, next, keep);
    const cells = [...next.children];
    changed.forEach((i, j) => {
      const td = tr.children[i], cur = cells[j];
      if (td.nodeName !== cur.nodeName) td.replaceWith(cur);
      else update(td, cur, keep);
    });
  });
}
