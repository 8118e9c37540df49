// settings.js: what the Settings pages share (reference/ui.md §1, §6): the sidebar (a
// horizontal strip below 1024 px), the confirm dialog, result banners, the API's field errors
// next to their inputs, reading a form into the API's JSON, copying to the clipboard. Each
// section is its own module (settings-*.js) with its own route in app.js's PAGES.
import { esc } from './format.js';
import { post } from './api.js';

// The sidebar: groups of sections, each a route. Not built: Agents (§6.2: installer,
// managed agents; no routes yet), SAML, Roles, Users, AI Assistant (no routes yet), and a
// page of its own for network discovery (GET/POST /api/discover; its switch and subnet are
// on General). Each gets an entry here and a route in PAGES when it is built.
export const SECTIONS = [
  { group: 'Platforms', items: [{ path: 'settings/proxmox', label: 'Proxmox', also: /^settings\/(pve|pbs|pmg)$/ }] },
  { group: 'Notifications', items: [
    { path: 'settings/notifications/email', label: 'Email' },
    { path: 'settings/notifications/webhooks', label: 'Webhooks' },
    { path: 'settings/notifications/apprise', label: 'Apprise' },
  ] },
  { group: 'Operations', items: [{ path: 'settings/api', label: 'API Tokens' }] },
  { group: 'Security', items: [{ path: 'settings/security', label: 'Overview' },
    { path: 'settings/sso', label: 'Single Sign-On' }, { path: 'settings/audit', label: 'Audit Log' }] },
  { group: 'System', items: [{ path: 'settings/system', label: 'General' },
    { path: 'settings/updates', label: 'Updates' }, { path: 'settings/backups', label: 'Backups' },
    { path: 'settings/diagnostics', label: 'Diagnostics' }, { path: 'settings/reporting', label: 'Reporting' },
    { path: 'settings/pro', label: 'Pulse Pro' }] },
];

// Draws the sidebar and the section's frame in root; returns the element for the section.
export function settingsFrame(root, path, title) {
  const link = (it) => {
    const on = it.path === path || (it.also && it.also.test(path));
    return `<li><a href="${it.path}" data-link${on ? ' aria-current="page"' : ''}>${esc(it.label)}</a></li>`;
  };
  root.innerHTML = `<div class="settings">
    <nav class="settings-nav" aria-label="Settings sections">${SECTIONS.map((g) =>
    `<div class="settings-group"><h2>${esc(g.group)}</h2><ul>${g.items.map(link).join('')}</ul></div>`).join('')}</nav>
    <section class="settings-body" aria-labelledby="settings-title">
      <h1 id="settings-title">${esc(title)}</h1>
      <div class="settings-content"></div>
    </section></div>`;
  // As a strip (narrow screens) the current section is scrolled into view.
  const nav = root.querySelector('.settings-nav'), cur = nav.querySelector('[aria-current]');
  if (cur && nav.scrollWidth > nav.clientWidth) {
    nav.scrollLeft += cur.getBoundingClientRect().left - nav.getBoundingClientRect().left - 16;
  }
  return root.querySelector('.settings-content');
}

// A banner in el: kind 'ok', 'error' or 'info'; errors are alerts for screen readers.
export function notice(el, kind, text) {
  el.className = `banner ${kind}`;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  el.textContent = text;
  el.hidden = false;
}
export function clearNotice(el) { el.hidden = true; el.textContent = ''; }

// The API's `fields` ({name: message}) of a 400 next to the inputs of that name; the
// previous ones go. Returns the number shown.
export function showFieldErrors(form, err) {
  for (const old of form.querySelectorAll('.field-error')) old.remove();
  for (const bad of form.querySelectorAll('[aria-invalid]')) bad.removeAttribute('aria-invalid');
  const fields = (err && err.body && err.body.fields) || {};
  let n = 0;
  for (const [name, msg] of Object.entries(fields)) {
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!input) continue;
    input.setAttribute('aria-invalid', 'true');
    const span = document.createElement('span');
    span.className = 'field-error';
    span.textContent = msg;
    (input.closest('label') || input.parentElement).append(span);
    n++;
  }
  return n;
}

// The form's named inputs as an object: checkboxes as booleans, number inputs as numbers
// (empty: null), radio groups as the checked value, the rest as trimmed strings.
export function readForm(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === 'checkbox') out[el.name] = el.checked;
    else if (el.type === 'radio') { if (el.checked) out[el.name] = el.value; }
    else if (el.type === 'number') out[el.name] = el.value === '' ? null : Number(el.value);
    else out[el.name] = el.value.trim();
  }
  return out;
}

// Runs fn with button disabled (no double submit); returns fn's result.
export async function busy(button, fn) {
  button.disabled = true;
  try { return await fn(); } finally { button.disabled = false; }
}

// The "Send test" button of a channel's form: POST /api/notifications/test with the unsaved
// configuration (config() reads the form); the API's answer or error in msg.
export function testButton(button, msg, method, config) {
  button.addEventListener('click', () => busy(button, async () => {
    notice(msg, 'info', 'Sending…');
    try {
      notice(msg, 'ok', (await post('/api/notifications/test', { method, config: config() })).body.message);
    } catch (err) { notice(msg, 'error', err.message); }
  }));
}

// Asks before a destructive action: a modal dialog (Escape or Cancel: no). Resolves true
// when confirmed.
export function confirmDialog(message, confirmLabel = 'Delete') {
  return new Promise((resolve) => {
    const dlg = document.createElement('dialog');
    dlg.className = 'confirm';
    dlg.setAttribute('aria-label', 'Confirm');
    dlg.innerHTML = `<form method="dialog"><p>${esc(message)}</p><div class="actions">
      <button value="cancel" class="secondary" autofocus>Cancel</button>
      <button value="ok" class="danger" id="confirm-ok">${esc(confirmLabel)}</button></div></form>`;
    document.body.append(dlg);
    dlg.addEventListener('close', () => { dlg.remove(); resolve(dlg.returnValue === 'ok'); });
    dlg.showModal();
  });
}

// Copies text to the clipboard (the Clipboard API, else a selection and execCommand).
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    return ok;
  }
}

// "Name: value" lines ⇄ an object (webhook headers, custom fields).
export function linesToMap(text, sep = ':') {
  const out = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(sep);
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}
export function mapToLines(obj, sep = ': ') {
  return Object.entries(obj || {}).map(([k, v]) => `${k}${sep}${v}`).join('\n');
}
