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
// right context (tbody) when el is a tbody: pass context 'tbody' for that. keep: names of
// attributes that the caller sets on the kept elements itself (they are not removed).

const parsers = new Map();

function parse(html, context) {
  let t = parsers.get(context);
  if (!t) {
    t = document.createElement('template');
    parsers.set(context, t);
  }
  t.innerHTML = context === 'tbody' ? `<table><tbody>${html}</tbody></table>` : html;
  const root = t.content;
  return context === 'tbody' ? root.firstChild.firstChild : root;
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

function morphChildren(el, next, keep) {
  let old = el.firstChild, cur = next.firstChild;
  while (cur) {
    const following = cur.nextSibling;
    if (old && sameKind(old, cur)) {
      if (old.nodeType === 1) {
        syncAttributes(old, cur, keep);
        morphChildren(old, cur, keep);
        syncState(old, cur);
      } else if (old.nodeValue !== cur.nodeValue) {
        old.nodeValue = cur.nodeValue;
      }
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

// morphElement(el, html, context, keep): el itself becomes the one element html holds (when
// it is of the same tag; else el is replaced by it). context as morph's: el's parent's kind.
export function morphElement(el, html, context, keep) {
  const next = parse(html, context).firstElementChild;
  if (!next) return;
  if (next.nodeName !== el.nodeName) {
    el.replaceWith(next);
    return;
  }
  syncAttributes(el, next, keep);
  morphChildren(el, next, keep);
  syncState(el, next);
}
