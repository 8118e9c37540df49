// pro.mjs: the Settings sections of issue 16 in Debian's chromium (harness.mjs), against the
// stack t/api/81-ui-pro.t starts. It asks the .t (PulseUI::run_talking: "ask <what>" on
// stdout, one line back on stdin) for what the API says and to edit the database:
//   licence          GET /api/license/status (JSON)
//   audit [k=v...]   GET /api/audit with that query (JSON: total, the events' ids, the first)
//   edit <id>        an audit row's details changed with psql
//   hooks            the audit webhooks' URLs
//   tokens           the number of API tokens
// Steps: the Audit Log's 402 note without a licence and its link to Pulse Pro; a refused
// key's message; the licence of UI_LICENCE activated, its status against the API; the audit
// events against GET /api/audit, paging (Next, Prev, offset in the URL), a filter (in the
// URL), Verify of a row, an edited row failing and named by "Verify whole log"; audit
// webhooks added, one removed, saved; the OIDC form (a validation error, then saved;
// printed: "oidc saved"); a field locked by envOverrides (the GET's answer rewritten by the
// browser: our stack would need OIDC_* in the responders' environment); export (short and
// mismatched passphrases refused, the file downloaded), import of it with a wrong passphrase
// (the API's message) and the right one (counts), and of the raw base64; Clear licence (a
// cancelled confirm first) and the 402 note back; 360 px and dark; Reporting (mock mode on for an
// estate: a node's CPU as CSV, then as PDF, downloaded). Environment, beyond the
// harness's: UI_LICENCE, UI_402 (the API's 402 message), UI_REDIRECT (the redirect URL the
// API derives from the public URL).
import readline from 'node:readline';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { env, base, check, page, shot, query, attempt as attempt0, expectError, login, finish } from './harness.mjs';

const attempt = (what, fn) => attempt0(what, async () => {
  try { await fn(); } catch (e) { await shot(`failed-${what.replace(/\W+/g, '-')}`).catch(() => {}); throw e; }
});
const answers = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function ask(what) {
  console.log(`ask ${what}`);
  const { value } = await answers.next();
  return value;
}
const askJson = async (what) => JSON.parse(await ask(what));
const text = async (sel) => ((await page.textContent(sel)) || '').replace(/\s+/g, ' ').trim();
async function banner(sel) {
  await page.waitForSelector(`${sel}:not([hidden]):not(.info)`);
  return { kind: (await page.getAttribute(sel, 'class')).replace('banner', '').trim(), text: await text(sel) };
}
const rowIds = () => page.$$eval('#audit-table tbody tr[data-id]', (trs) => trs.map((tr) => tr.dataset.id));
const go = async (path) => { await page.goto(`${base}/${path}`); await page.waitForSelector('.settings-content'); };
const PASS = 'correct horse battery';
// The exported files hold the configuration's secrets: in a directory of their own, removed at the end.
const tmp = mkdtempSync(`${tmpdir()}/pulse-ui-pro-`);

await page.goto(base + '/settings/audit');
expectError('/api/audit', [402]);
await login();

await attempt('the audit log without a licence', async () => {
  await page.waitForSelector('#audit-licence:not([hidden])');
  check(await text('#audit-licence-text') === env.UI_402, 'the 402 message is shown', await text('#audit-licence-text'));
  check(await page.isHidden('#audit-card'), '... in place of the table');
  check(await page.isHidden('#audit-msg'), '... not as an error banner');
  const links = await page.$$eval('.settings-nav a', (as) => as.map((a) => a.getAttribute('href')));
  check(['settings/sso', 'settings/audit', 'settings/backups', 'settings/pro'].every((l) => links.includes(l)),
    'the sidebar lists the four sections', links.join(','));
  await shot('audit-402');
  await page.click('#audit-licence a[href="settings/pro"]');
  await page.waitForSelector('#lic-form');
  check(new URL(page.url()).pathname === '/settings/pro', 'the link opens Pulse Pro', page.url());
});
expectError();

await attempt('pulse pro: activate', async () => {
  await page.waitForFunction(() => document.querySelector('#lic-state')?.textContent !== '…');
  check(await text('#lic-state') === 'none', 'no licence yet', await text('#lic-state'));
  check(await page.$$eval('#feat-table tbody tr', (t) => t.length) === 6, 'the six Pro features listed');
  await shot('pro-none');
  await page.fill('#lic-form textarea', 'not a licence');
  expectError('/api/license/activate', [400]);
  await page.click('#lic-activate');
  const b = await banner('#lic-form-msg');
  check(b.kind === 'error' && b.text === 'malformed license key: expected 3 parts, got 1', 'a bad key: the API\'s message', JSON.stringify(b));
  expectError();
  await page.fill('#lic-form textarea', `  ${env.UI_LICENCE}\n`);
  await page.click('#lic-activate');
  const ok = await banner('#lic-form-msg');
  check(ok.kind === 'ok' && ok.text === 'License activated successfully', 'activated: the API\'s message', JSON.stringify(ok));
  await page.waitForFunction(() => document.querySelector('#lic-state')?.textContent === 'active');
  const s = await askJson('licence');
  const dd = async (k) => text(`#lic-status dd[data-key="${k}"]`);
  check(await dd('Tier') === s.tier, 'tier as the API', `${await dd('Tier')} vs ${s.tier}`);
  check(await dd('Email') === s.email, 'email as the API', await dd('Email'));
  check(await dd('Days left') === String(s.days_remaining), 'days left as the API', `${await dd('Days left')} vs ${s.days_remaining}`);
  check(await dd('Expires') === new Date(s.expires_at).toLocaleString(), 'expiry in the browser\'s zone', await dd('Expires'));
  const feats = await page.$$eval('#lic-features code', (c) => c.map((x) => x.textContent));
  check(JSON.stringify(feats) === JSON.stringify(s.features), 'features as the API', feats.join(','));
  await shot('pro-active');
});

let firstId = '';
await attempt('audit log: events', async () => {
  await go('settings/audit');
  await page.waitForSelector('#audit-table tbody tr[data-id]');
  const api = await askJson('audit');
  check(await text('#audit-count') === `${api.total} event${api.total === 1 ? '' : 's'}`, 'the count as GET /api/audit', await text('#audit-count'));
  const ids = await rowIds();
  check(ids.length > 0 && JSON.stringify(ids.slice(0, 5)) === JSON.stringify(api.ids.slice(0, 5)), 'the first rows as the API, newest first',
    `${ids.slice(0, 5)} vs ${api.ids.slice(0, 5)}`);
  const t = await text('#audit-table tbody tr[data-id] td:first-child');
  check(t === new Date(api.first.timestamp).toLocaleString(), 'time in the browser\'s zone', t);
  await shot('audit');
  check(api.total > 100 && ids.length === 100, 'a page of 100 rows', `${ids.length} of ${api.total}`);
  check(await text('#audit-range') === `1–100 of ${api.total}` && await page.isDisabled('#audit-prev'), 'the first page: Prev disabled',
    await text('#audit-range'));
  await page.click('#audit-next');
  await page.waitForFunction(() => new URLSearchParams(location.search).get('offset') === '100');
  const p2 = await askJson('audit offset=100');
  await page.waitForFunction((id) => document.querySelector('#audit-table tbody tr[data-id]')?.dataset.id === id, p2.ids[0]);
  check(JSON.stringify(await rowIds()) === JSON.stringify(p2.ids), 'Next: the second page as the API\'s offset=100');
  check(await page.isDisabled('#audit-next'), '... the last one: Next disabled');
  await page.click('#audit-prev');
  await page.waitForFunction(() => !new URLSearchParams(location.search).has('offset'));
  await page.waitForFunction((id) => document.querySelector('#audit-table tbody tr[data-id]')?.dataset.id === id, api.ids[0]);
  check(true, 'Prev: back to the first page');
  await page.fill('#audit-filter input[name=event]', 'license_activate');
  await page.click('#audit-apply');
  await page.waitForFunction(() => [...document.querySelectorAll('#audit-table tbody tr[data-id] td:nth-child(2)')]
    .every((td) => td.textContent === 'license_activate'));
  check(query().get('event') === 'license_activate', 'the filter is in the URL', page.url());
  const f = await askJson('audit event=license_activate');
  check(await text('#audit-count') === `${f.total} event${f.total === 1 ? '' : 's'}` && f.total < api.total,
    'the filter narrows it as the API does', `${await text('#audit-count')} of ${api.total}`);
  check(JSON.stringify(await rowIds()) === JSON.stringify(f.ids), '... the same rows');
  await page.selectOption('#audit-filter select[name=success]', 'false');
  await page.click('#audit-apply');
  await page.waitForFunction(() => new URLSearchParams(location.search).get('success') === 'false');
  const ff = await askJson('audit event=license_activate success=false');
  await page.waitForFunction((n) => document.querySelector('#audit-count').textContent === `${n} event${n === 1 ? '' : 's'}`, ff.total);
  check(ff.total >= 1, 'failed activations filtered (the bad key)', String(ff.total));
  await page.reload();
  await page.waitForSelector('#audit-table tbody tr[data-id]');
  check(await page.inputValue('#audit-filter input[name=event]') === 'license_activate'
    && await page.inputValue('#audit-filter select[name=success]') === 'false', 'the filters come back from the URL');
  await page.click('#audit-reset');
  await page.waitForFunction(() => !location.search);
  firstId = (await rowIds())[0];
  await page.click(`#audit-table tr[data-id="${firstId}"] button[data-act=verify]`);
  await page.waitForSelector(`#audit-table tr[data-id="${firstId}"] td.verify .badge`);
  check(await text(`#audit-table tr[data-id="${firstId}"] td.verify`) === 'verified', 'Verify: verified');
  await page.click('#audit-verify-all');
  await page.waitForSelector('#audit-chain .badge');
  check((await text('#audit-chain')).startsWith('intact Audit log chain verified'), 'the whole log: intact', await text('#audit-chain'));
  await shot('audit-verified');
});

await attempt('audit log: an edited row', async () => {
  const ids = await rowIds();
  const victim = ids[Math.min(2, ids.length - 1)];
  await ask(`edit ${victim}`);
  await page.reload();
  await page.waitForSelector(`#audit-table tr[data-id="${victim}"]`);
  await page.click(`#audit-table tr[data-id="${victim}"] button[data-act=verify]`);
  await page.waitForSelector(`#audit-table tr[data-id="${victim}"] td.verify .badge`);
  check(await text(`#audit-table tr[data-id="${victim}"] td.verify`) === 'failed', 'Verify of the edited row: failed');
  await page.click('#audit-verify-all');
  await page.waitForSelector('#audit-chain .badge');
  const c = await text('#audit-chain');
  check(c.startsWith('broken') && c.includes(victim), 'the whole log: broken, naming the edited row', c);
  await shot('audit-broken');
});

await attempt('audit webhooks', async () => {
  await page.waitForSelector('#audit-hooks:not([hidden])');
  for (const u of ['https://siem.example.org/pulse', 'https://logs.example.net/in', 'https://gone.example.com/x']) {
    await page.fill('#audit-hook-form input[name=url]', u);
    await page.press('#audit-hook-form input[name=url]', 'Enter');
  }
  await page.click('#audit-hook-list button[aria-label="Remove https://gone.example.com/x"]');
  await page.click('#audit-hook-save');
  const b = await banner('#audit-hook-msg');
  check(b.kind === 'ok' && b.text === 'Saved 2 audit webhooks.', 'webhooks saved', JSON.stringify(b));
  const saved = await ask('hooks');
  check(saved === 'https://siem.example.org/pulse https://logs.example.net/in', 'the API has the two URLs', saved);
  await page.waitForFunction(() => document.querySelector('#audit-hook-secret').textContent.startsWith('Signing secret:'));
  await shot('audit-webhooks');
});

await attempt('single sign-on', async () => {
  await go('settings/sso');
  await page.waitForFunction(() => document.querySelector('#oidc-secret-state')?.textContent);
  check(await text('#oidc-secret-state') === 'not set', 'no secret yet');
  const hint = await text('#oidc-redirect-hint');
  check(hint.includes(env.UI_REDIRECT) && await page.getAttribute('#oidc-form input[name=redirectUrl]', 'placeholder') === env.UI_REDIRECT,
    'the redirect URL the API derives is shown', hint);
  await page.check('#oidc-form input[name=enabled]');
  await page.fill('#oidc-form input[name=clientId]', 'pulse-ui');
  expectError('/api/security/oidc', [400]);
  await page.click('#oidc-save');
  const bad = await banner('#oidc-msg');
  check(bad.kind === 'error' && bad.text === 'oidc issuer url is required when OIDC is enabled', 'no issuer: the API\'s message', JSON.stringify(bad));
  expectError();
  await page.fill('#oidc-form input[name=issuerUrl]', 'https://sso.example.com/realms/main');
  await page.fill('#oidc-form input[name=clientSecret]', 'ui-secret-0123456789');
  await page.fill('#oidc-form input[name=logoutUrl]', 'https://sso.example.com/logout');
  await page.fill('#oidc-form input[name=scopes]', 'openid profile email groups');
  await page.fill('#oidc-form input[name=allowedDomains]', 'example.com, example.org');
  await page.fill('#oidc-form input[name=adminGroups]', 'pulse-admins');
  await page.selectOption('#oidc-form select[name=tokenAuthMethod]', 'client_secret_post');
  await page.click('#oidc-save');
  const ok = await banner('#oidc-msg');
  check(ok.kind === 'ok', 'saved', JSON.stringify(ok));
  check(await text('#oidc-secret-state') === 'set' && await page.inputValue('#oidc-form input[name=clientSecret]') === '',
    'the secret: "set", not shown back');
  await page.reload();
  await page.waitForFunction(() => document.querySelector('#oidc-form input[name=clientId]')?.value === 'pulse-ui');
  check(await page.inputValue('#oidc-form input[name=allowedDomains]') === 'example.com, example.org', 'read back after a reload');
  console.log('oidc saved');
  await shot('sso');
  // A field the server's environment sets: the GET's answer rewritten here (see the header).
  await page.route('**/api/security/oidc', async (route) => {
    const res = await route.fetch();
    const j = await res.json();
    j.envOverrides = { clientId: true };
    await route.fulfill({ response: res, json: j });
  });
  await page.reload();
  await page.waitForSelector('#oidc-env:not([hidden])');
  check(await page.isDisabled('#oidc-form input[name=clientId]') && await page.isEnabled('#oidc-form input[name=issuerUrl]'),
    'a field set by the environment is disabled, the others not');
  check((await text('#oidc-form label:has(input[name=clientId]) .env-note')) === 'set by an environment variable', '... with a note');
  await shot('sso-env');
  await page.unroute('**/api/security/oidc');
});

await attempt('backups: export and import', async () => {
  await go('settings/backups');
  await page.fill('#export-form input[name=passphrase]', 'short');
  await page.fill('#export-form input[name=again]', 'short');
  await page.click('#export-go');
  check((await banner('#export-msg')).text === 'The passphrase needs at least 12 characters.', 'a short passphrase refused');
  await page.fill('#export-form input[name=passphrase]', PASS);
  await page.fill('#export-form input[name=again]', PASS + 'x');
  await page.click('#export-go');
  check((await banner('#export-msg')).text === 'The two passphrases differ.', 'two different passphrases refused');
  await page.fill('#export-form input[name=again]', PASS);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-go')]);
  const name = dl.suggestedFilename();
  check(/^pulse-config-\d{4}-\d\d-\d\d\.json$/.test(name), 'the file is named pulse-config-YYYY-MM-DD.json', name);
  const file = `${tmp}/${name}`;
  await dl.saveAs(file);
  const j = JSON.parse(readFileSync(file, 'utf8'));
  check(j.status === 'success' && typeof j.data === 'string' && j.data.length > 100, 'the file is the API\'s whole answer');
  await shot('backups-exported');

  await page.setInputFiles('#import-form input[name=file]', file);
  await page.fill('#import-form input[name=passphrase]', 'a wrong passphrase');
  expectError('/api/config/import', [400]);
  await page.click('#import-go');
  await page.click('#confirm-ok');
  const bad = await banner('#import-msg');
  check(bad.kind === 'error' && bad.text === 'Failed to import configuration: failed to decrypt import data: cipher: message authentication failed',
    'a wrong passphrase: the API\'s message', JSON.stringify(bad));
  expectError();
  await page.fill('#import-form input[name=passphrase]', PASS);
  await page.click('#import-go');
  await page.click('#confirm-ok');
  const ok = await banner('#import-msg');
  check(ok.kind === 'ok' && ok.text === 'Configuration imported successfully', 'imported', JSON.stringify(ok));
  const tokens = await ask('tokens');
  check(await text('#import-counts li[data-key=apiTokens]') === `${tokens} API tokens`, 'the tokens\' count shown', await text('#import-counts'));
  check(await text('#import-counts li[data-key=oidc]') === 'single sign-on: imported', 'the OIDC settings imported');
  check(await text('#import-counts li[data-key=pveInstances]') === '0 PVE nodes', 'no PVE node');
  await shot('backups-imported');
  // The raw base64 bundle as a file.
  const raw = `${tmp}/raw-bundle.txt`;
  writeFileSync(raw, j.data.replace(/(.{76})/g, '$1\n'));
  await page.setInputFiles('#import-form input[name=file]', raw);
  await page.fill('#import-form input[name=passphrase]', PASS);
  await page.click('#import-go');
  await page.click('#confirm-ok');
  await page.waitForSelector('#import-counts:not([hidden])');
  check((await banner('#import-msg')).kind === 'ok', 'the raw base64 form is read too');
});

await attempt('reporting', async () => {
  // An estate to report on: mock mode on through Settings → System (off again below).
  await go('settings/system');
  await page.waitForSelector('#mock-state:text("Off")');
  await page.check('#mock-enabled');
  await page.fill('#mock-form input[name=nodeCount]', '1');
  await page.click('#mock-save');
  await page.waitForSelector('#mock-state:text("On")');
  await go('settings/reporting');
  await page.waitForSelector('#report-form select[name=resource] optgroup[label="Nodes"] option', { state: 'attached' });
  const node = await page.$eval('#report-form select[name=resource] optgroup[label="Nodes"] option', (o) => o.value);
  await page.selectOption('#report-form select[name=resource]', node);
  await page.selectOption('#report-form select[name=metricType]', 'cpu');
  await page.click('#report-form input[value=csv]');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#report-go')]);
  const id = node.slice(node.indexOf('|') + 1);
  const file = `${tmp}/${dl.suggestedFilename()}`;
  await dl.saveAs(file);
  const csv = readFileSync(file, 'utf8');
  check(/^report-.*\.csv$/.test(dl.suggestedFilename()), 'Generate: a CSV downloaded under the API\'s name', dl.suggestedFilename());
  check(csv.startsWith('# Pulse Metrics Report') && (csv.includes(`# Resource ID:,${id}\n`) || csv.includes(`# Resource ID:,"${id}"\n`))
    && /# SUMMARY/.test(csv), '... the report of the node chosen', csv.slice(0, 300));
  const b = await banner('#report-msg');
  check(b.kind === 'ok' && b.text.includes(dl.suggestedFilename()), '... and said so', JSON.stringify(b));
  await shot('reporting');
  await page.click('#report-form input[value=pdf]');
  const [pdf] = await Promise.all([page.waitForEvent('download'), page.click('#report-go')]);
  const pfile = `${tmp}/${pdf.suggestedFilename()}`;
  await pdf.saveAs(pfile);
  check(readFileSync(pfile).subarray(0, 5).toString() === '%PDF-', 'a PDF too', pdf.suggestedFilename());
  await go('settings/system');
  await page.waitForSelector('#mock-state:text("On")');
  await page.uncheck('#mock-enabled');
  await page.click('#mock-save');
  await page.waitForSelector('#mock-state:text("Off")');
});

await attempt('narrow and dark', async () => {
  await page.setViewportSize({ width: 360, height: 780 });
  await go('settings/audit');
  await page.waitForSelector('#audit-table tbody tr[data-id]');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  check(wide <= 362, 'the audit log fits 360 px (the table scrolls inside)', String(wide));
  await shot('audit-360');
  await go('settings/sso');
  await shot('sso-360');
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await go('settings/pro');
  await page.waitForFunction(() => document.querySelector('#lic-state')?.textContent === 'active');
  await shot('pro-dark');
  await go('settings/backups');
  await shot('backups-dark');
  await page.emulateMedia({ colorScheme: 'light' });
});

await attempt('clear the licence', async () => {
  await go('settings/pro');
  await page.waitForSelector('#lic-clear:not([hidden])');
  await page.click('#lic-clear');
  await page.click('dialog.confirm button[value=cancel]');
  check((await askJson('licence')).valid === true, 'Cancel keeps the licence');
  await page.click('#lic-clear');
  await page.click('#confirm-ok');
  const b = await banner('#lic-msg');
  check(b.text === 'License cleared', 'cleared: the API\'s message', b.text);
  await page.waitForFunction(() => document.querySelector('#lic-state')?.textContent === 'none');
  check((await askJson('licence')).valid === false, 'the API has no licence');
  expectError('/api/audit', [402]);
  await go('settings/audit');
  await page.waitForSelector('#audit-licence:not([hidden])');
  check(await text('#audit-licence-text') === env.UI_402, 'the audit log shows the 402 note again');
  await shot('audit-402-again');
  expectError();
});

rmSync(tmp, { recursive: true, force: true });
await finish();
