// statepatch-test.mjs: checks nginx/ui/js/statepatch.js (the state worker's patches) in
// Node.js, for t/api/76-ui-statepatch.t (arguments: a state's file, rounds, the file of the
// next real state): for pairs of states (real shapes: a state of the
// estate, then random changes to it of every kind: numbers, strings, nulls, nested objects,
// fields added and removed, guests added, removed and reordered, "__proto__" keys), the
// patch passed through a structured clone (as postMessage passes it) and applied to a copy of
// the first state gives exactly the second. Prints TAP.
import { diff, apply } from '../../nginx/ui/js/statepatch.js';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

const [file, rounds, nextFile] = [process.argv[2], Number(process.argv[3] || 200), process.argv[4]];
const start = JSON.parse(readFileSync(file, 'utf8'));
let seed = 42;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];

// One random change somewhere in v (an object or array), in place.
function mutate(v, depth = 0) {
  const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  if (!keys.length) { if (Array.isArray(v)) v.push(1); else v.added = 1; return; }
  const k = pick(keys);
  const x = v[k];
  const r = rnd();
  if (x !== null && typeof x === 'object' && depth < 6 && r < 0.6) { mutate(x, depth + 1); return; }
  if (Array.isArray(v)) {
    if (r < 0.7) v[k] = typeof x === 'number' ? x + 1.5 : rnd();
    else if (r < 0.8) v.splice(k, 1);
    else if (r < 0.9) v.push(JSON.parse(JSON.stringify(x ?? null)));
    else v.reverse();
    return;
  }
  if (r < 0.65) v[k] = typeof x === 'number' ? x * 2 + 1 : typeof x === 'string' ? x + 'x' : rnd();
  else if (r < 0.72) v[k] = null;
  else if (r < 0.8) delete v[k];
  else if (r < 0.88) v[`new${Math.floor(rnd() * 5)}`] = { a: [1, 'b', null] };
  else if (r < 0.94) v[k] = [x, { nested: x ?? 0 }];
  else v[k] = 'text';
}

let n = 0, failed = 0;
const ok = (cond, name) => { n++; if (!cond) failed++; console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`); };

// Equal states give no patch.
ok(diff(start, JSON.parse(JSON.stringify(start))) === null, 'equal states: no patch');

let prev = JSON.parse(JSON.stringify(start));
let held = JSON.parse(JSON.stringify(start));  // the page's copy, patched in place
let bad = 0;
for (let i = 0; i < rounds; i++) {
  const next = JSON.parse(JSON.stringify(prev));
  const changes = 1 + Math.floor(rnd() * 20);
  for (let j = 0; j < changes; j++) mutate(next);
  if (i % 10 === 0 && Array.isArray(next.vms)) for (const g of next.vms) if (g && typeof g === "object") g.cpu = rnd();  // every guest changes
  const patch = structuredClone(diff(prev, JSON.parse(JSON.stringify(next))));
  held = apply(held, patch);
  if (!isDeepStrictEqual(held, next)) { bad++; if (bad < 4) console.log(`# round ${i}: patched state differs`); }
  prev = next;
}
ok(bad === 0, `${rounds} rounds of random changes: the patched state equals the new one every time`);

// "__proto__" as a key (JSON.parse makes it an own property): the patched state has it as an
// own property too, and no prototype changed.
const a = JSON.parse('{"connectionHealth": {"pve-a": true}, "x": [{"id": 1}]}');
const b = JSON.parse('{"connectionHealth": {"pve-a": true, "__proto__": false}, "x": [{"id": 1, "__proto__": {"polluted": true}}]}');
const got = apply(JSON.parse(JSON.stringify(a)), structuredClone(diff(a, b)));
ok(isDeepStrictEqual(got, b) && Object.getPrototypeOf(got.connectionHealth) === Object.prototype
  && ({}).polluted === undefined && got.x[0].polluted === undefined, '"__proto__" keys: no prototype set, state equal');

// The guests' numbers travel as columns: one flat array per field, not one object per guest.
const s1 = JSON.parse(JSON.stringify(start));
const s2 = JSON.parse(JSON.stringify(start));
for (const g of s2.vms || []) {
  g.cpu = (g.cpu || 0) + 0.01;
  if (g.memory) g.memory.used += 1;
}
const p = diff(s1, s2);
const vmsPatch = p && p.d && p.d[p.d.indexOf('vms') + 1];
const withMemory = s2.vms.filter((g) => g.memory).length;
ok(!!(vmsPatch && vmsPatch.c && Array.isArray(vmsPatch.c.cpu) && vmsPatch.c.cpu.length === 2 * s2.vms.length && !vmsPatch.d
  && withMemory > 0 && vmsPatch.c['memory\u001fused'].length === 2 * withMemory),
  'a field changed in every guest, and one in an object in every guest: a column each, nothing else');
ok(isDeepStrictEqual(apply(JSON.parse(JSON.stringify(s1)), structuredClone(p)), s2), 'those columns applied: the new state');

// Two real states (a polling cycle apart), when given.
if (nextFile) {
  const next = JSON.parse(readFileSync(nextFile, 'utf8'));
  const patch = structuredClone(diff(start, next));
  const text = JSON.stringify(next).length;
  ok(isDeepStrictEqual(apply(JSON.parse(JSON.stringify(start)), patch), next),
    `two real states: patched equals the new one (patch ${JSON.stringify(patch).length} bytes as JSON, state ${text})`);
}

console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
