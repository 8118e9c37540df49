// statepatch.js: what changed between two parsed JSON values, as a patch small enough to pass
// from the state worker to the page cheaply, and its application. Between two polls the state
// of a large estate changes a few numbers per guest; a patch carries only those, and the
// numbers of the guests of a list travel as one flat array per field (cheap to pass between
// threads) instead of one small object per guest.
//
// A patch of an object or of an array: {s: [key, value, ...] (set), d: [key, patch, ...]
// (descend), x: [key, ...] (delete, objects), n: length (arrays), c: {field: [index, value,
// ...]} (arrays of objects: a field of the element at index, or of an object inside it (the
// keys of the path joined by U+001F), set to a number, string, boolean or null)}. diff(a, b) returns null when a and b are equal; two objects or two arrays give
// such a patch; anything else {r: b} (replace).
// apply(a, p) brings a up to date IN PLACE and returns it (or the replacement): parsing the
// whole state again, or copying each changed guest, would cost the page the time and the
// garbage the patch saves. So a page must not keep a part of the state expecting it to stay
// as it was.

const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isPlain = (v) => v === null || typeof v !== 'object';
const SEP = '\u001f';  // between the keys of a column's path (a key holding it is not put in a column)

export function diff(a, b) {
  if (a === b) return null;
  if (Array.isArray(a) && Array.isArray(b)) return diffArray(a, b);
  if (isObj(a) && isObj(b)) return diffObject(a, b);
  return { r: b };
}

function put(p, key, sub, value) {
  if (has(sub, 'r')) (p.s || (p.s = [])).push(key, value);
  else (p.d || (p.d = [])).push(key, sub);
}

function diffObject(a, b) {
  // A key "__proto__" (JSON.parse makes it an own key) would set a prototype when assigned:
  // such an object is replaced whole.
  if (has(a, '__proto__') || has(b, '__proto__')) return { r: b };
  let p = null;
  for (const k in b) {
    const sub = has(a, k) ? diff(a[k], b[k]) : { r: b[k] };
    if (sub) put(p || (p = {}), k, sub, b[k]);
  }
  for (const k in a) {
    if (!has(b, k)) ((p || (p = {})).x || (p.x = [])).push(k);
  }
  return p;
}

function diffArray(a, b) {
  let p = null;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const sub = diff(a[i], b[i]);
    if (!sub) continue;
    p = p || {};
    if (has(sub, 'r') || !isObj(b[i])) {
      put(p, i, sub, b[i]);
      continue;
    }
    // An object element: its plain fields, and those of the objects in it, go to the
    // columns; the rest stays its own patch.
    const rest = toColumns(p, sub, i, '', a[i]);
    if (rest) (p.d || (p.d = [])).push(i, rest);
  }
  for (let i = n; i < b.length; i++) put(p || (p = {}), i, { r: b[i] }, b[i]);
  if (a.length !== b.length) (p || (p = {})).n = b.length;
  return p;
}

// Moves the plain values that the object patch sub sets in the element i (at the path prefix
// inside it; was: what is there now) into the columns of the array patch p; returns what is
// left of sub (null: nothing).
function toColumns(p, sub, i, prefix, was) {
  let rest = null;
  const keep = (kind, ...v) => ((rest || (rest = {}))[kind] || (rest[kind] = [])).push(...v);
  const s = sub.s || [], d = sub.d || [];
  for (let j = 0; j < s.length; j += 2) {
    const k = s[j], v = s[j + 1];
    if (isPlain(v) && has(was, k) && !k.includes(SEP)) {
      const c = p.c || (p.c = {});
      (c[prefix + k] || (c[prefix + k] = [])).push(i, v);
    } else {
      keep('s', k, v);
    }
  }
  for (let j = 0; j < d.length; j += 2) {
    const k = d[j], inner = d[j + 1];
    const left = isObj(was[k]) && !k.includes(SEP) ? toColumns(p, inner, i, prefix + k + SEP, was[k]) : inner;
    if (left) keep('d', k, left);
  }
  if (sub.x) keep('x', ...sub.x);
  return rest;
}

export function apply(a, p) {
  if (!p) return a;
  if (has(p, 'r')) return p.r;
  if (p.n !== undefined) a.length = p.n;
  const s = p.s || [], d = p.d || [];
  for (let i = 0; i < s.length; i += 2) a[s[i]] = s[i + 1];
  for (let i = 0; i < d.length; i += 2) a[d[i]] = apply(a[d[i]], d[i + 1]);
  if (p.x) for (const k of p.x) delete a[k];
  if (p.c) {
    for (const field in p.c) {
      const col = p.c[field];
      if (!field.includes(SEP)) {
        for (let i = 0; i < col.length; i += 2) a[col[i]][field] = col[i + 1];
        continue;
      }
      const path = field.split(SEP), last = path.pop();
      for (let i = 0; i < col.length; i += 2) {
        let o = a[col[i]];
        for (const k of path) o = o[k];
        o[last] = col[i + 1];
      }
    }
  }
  return a;
}
