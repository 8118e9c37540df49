// settings.mjs: the Settings pages in Debian's chromium (harness.mjs), against the stack
// t/api/72-ui-settings.t starts. Two runs (UI_PHASE):
//   "add"   the settings redirect and sidebar; a bad host's validation error; a PVE simulator
//           added through the form after Test connection; its guests on the overview
//           (printed: "guests <names>"); the node edited; a token made with two scopes
//           (printed: "token <value>"), copied
//   "more"  the token revoked (Escape first: nothing happens); the webhook private networks
//           set; a webhook added, tested from its form and from its row; email presets and
//           a test's error; apprise saved; the security checklist; the node deleted; mock
//           mode on and off; 360 px wide; dark
// Environment, beyond the harness's: UI_SIM_URL, UI_SIM_FP, UI_SIM_TOKEN_ID,
// UI_SIM_TOKEN_VALUE, UI_GUESTS (add); UI_SINK_URL, UI_EXPECT (more: a JSON file with the
// API's security status and email providers).
import { readFileSync } from 'node:fs';
import { env, base, check, page, context, shot, attempt as attempt0, expectError, login, finish } from './harness.mjs';

// A failed group of steps leaves a screenshot of what was on screen (failed-<what>.png).
const attempt = (what, fn) => attempt0(what, async () => {
  try { await fn(); } catch (e) { await shot(`failed-${what.replace(/\W+/g, '-')}`).catch(() => {}); throw e; }
});

const text = async (sel) => ((await page.textContent(sel)) || '').replace(/\s+/g, ' ').trim();
const path = () => new URL(page.url()).pathname;
// Waits until a banner shows (it is hidden while empty) and answers its class and text.
async function banner(sel) {
  await page.waitForSelector(`${sel}:not([hidden]):not(.info)`);
  return { kind: (await page.getAttribute(sel, 'class')).replace('banner', '').trim(), text: await text(sel) };
}
// The names in a list table's first column (the node table: the name above the host).
const rowNames = (table) => page.$$eval(`#${table} tbody tr[data-id] td:first-child`,
  (tds) => tds.map((td) => (td.querySelector('strong') || td).textContent.trim()));

await page.goto(base + '/settings');
await login();

if (env.UI_PHASE === 'add') {
  await attempt('settings shell', async () => {
    await page.waitForFunction(() => document.querySelector('#node-table tbody')?.textContent.trim());
    check(path() === '/settings/proxmox', '/settings opens /settings/proxmox', path());
    const links = await page.$$eval('.settings-nav a', (as) => as.map((a) => a.getAttribute('href')));
    check(links.length === 14 && links.includes('settings/updates') && links.includes('settings/diagnostics') && links.includes('settings/reporting') && links.includes('settings/api') && links.includes('settings/notifications/webhooks'),
      'the sidebar lists the sections', links.join(','));
    check(await page.getAttribute('.settings-nav a[href="settings/proxmox"]', 'aria-current') === 'page', 'Proxmox is the current section');
    check((await text('#node-table tbody')).includes('No PVE node'), 'no node configured yet');
    await shot('proxmox-empty');
  });

  await attempt('a validation error', async () => {
    await page.click('#node-add');
    await page.fill('#node-form input[name=name]', 'lab');
    await page.fill('#node-form input[name=host]', 'bad host!');
    await page.fill('#node-form input[name=tokenName]', env.UI_SIM_TOKEN_ID);
    await page.fill('#node-form input[name=tokenValue]', env.UI_SIM_TOKEN_VALUE);
    expectError('/api/config/nodes', [400]);
    await page.click('#node-save');
    const b = await banner('#node-form-msg');
    check(b.kind === 'error' && b.text === 'Invalid hostname', 'a bad host: the API\'s message', JSON.stringify(b));
    check(await text('#node-form label:has(input[name=host]) .field-error') === 'Invalid hostname', '... next to the host field');
    check(await page.getAttribute('#node-form input[name=host]', 'aria-invalid') === 'true', '... which is marked invalid');
    await shot('proxmox-error');
    expectError();
  });

  await attempt('add the simulator', async () => {
    await page.fill('#node-form input[name=host]', env.UI_SIM_URL);
    await page.fill('#node-form input[name=fingerprint]', env.UI_SIM_FP);
    await page.click('#node-test');
    const t = await banner('#node-form-msg');
    check(t.kind === 'ok' && /Successfully connected to 2 node\(s\)/.test(t.text), 'Test connection succeeds', JSON.stringify(t));
    check(await page.locator('#node-form .field-error').count() === 0, 'the old field error is gone');
    await shot('proxmox-test');
    await page.click('#node-save');
    const b = await banner('#nodes-msg');
    check(b.kind === 'ok' && b.text === 'Added lab.', 'added', JSON.stringify(b));
    check(await page.locator('#node-form').count() === 0, 'the form closed');
    check(JSON.stringify(await rowNames('node-table')) === '["lab"]', 'the node is listed');
    await page.waitForFunction(() => /Online/.test(document.querySelector('#node-table tbody .c-status')?.textContent), null, { timeout: 40000 });
    check(true, 'its status turns Online');
    const row = await text('#node-table tbody tr');
    check(row.includes(env.UI_SIM_URL) && row.includes(env.UI_SIM_TOKEN_ID) && /Pinned fingerprint/.test(row),
      'host, token id and the pin shown', row);
    check(/cluster · 2 nodes/.test(row), 'the cluster and its two members', row);
    await shot('proxmox-list');
  });

  await attempt('its guests on the overview', async () => {
    await page.click('nav#tabs a[href="proxmox"]');
    await page.waitForFunction((n) => document.querySelectorAll('#guests tbody tr[data-vmid]').length === n, Number(env.UI_GUESTS), { timeout: 30000 });
    check(true, `the overview shows the ${env.UI_GUESTS} guests`);
    const names = await page.$$eval('#guests tbody tr[data-vmid] td:first-child', (tds) => tds.map((td) => td.textContent.trim()));
    console.log(`guests ${names.sort().join(',')}`);
    await page.goBack();
    await page.waitForSelector('#node-table tbody tr[data-id]');
    check(path() === '/settings/proxmox', 'Back returns to the settings');
  });

  await attempt('edit the node', async () => {
    await page.click('#node-table button[data-act=edit]');
    await page.waitForSelector('#node-form');
    check(await page.inputValue('#node-form input[name=host]') === env.UI_SIM_URL, 'the form holds the node\'s host');
    check(await page.inputValue('#node-form input[name=tokenValue]') === '', 'the secret is not shown');
    await page.click('#node-test');
    const t = await banner('#node-form-msg');
    check(t.kind === 'ok' && /saved settings/.test(t.text), 'Test connection tests the saved node', JSON.stringify(t));
    await page.fill('#node-form input[name=name]', 'lab-renamed');
    await page.click('#node-form label:has(input[name=monitorBackups])');
    await shot('proxmox-edit');
    await page.click('#node-save');
    const b = await banner('#nodes-msg');
    check(b.kind === 'ok' && b.text === 'Saved lab-renamed.', 'saved', JSON.stringify(b));
    // The list is drawn again from the API after the banner: wait for it (a timeout fails).
    await page.waitForFunction(() => [...document.querySelectorAll('#node-table tbody tr[data-id] td:first-child')]
      .some((td) => /lab-renamed/.test(td.textContent))).catch(() => {});
    check(JSON.stringify(await rowNames('node-table')) === '["lab-renamed"]', 'the list shows the new name');
    await page.click('#node-table button[data-act=refresh]');
    const r = await banner('#nodes-msg');
    check(r.kind === 'ok' && /cluster simcluster, 2 → 2 nodes/.test(r.text), 'Refresh cluster: the API\'s counts', JSON.stringify(r));
    // Escape closes the form.
    await page.click('#node-add');
    await page.keyboard.press('Escape');
    check(await page.locator('#node-form').count() === 0, 'Escape closes the form');
  });

  await attempt('create a token', async () => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await page.click('.settings-nav a[href="settings/api"]');
    await page.waitForSelector('#token-table tbody tr[data-id]');
    check(path() === '/settings/api', 'API Tokens');
    await page.fill('#token-form input[name=name]', 'ui-made');
    await page.click('#token-create');
    const e = await banner('#token-form-msg');
    check(e.kind === 'error' && /at least one scope/.test(e.text), 'no scope: refused before asking', JSON.stringify(e));
    await page.check('#token-form input[value="monitoring:read"]');
    await page.check('#token-form input[value="docker:report"]');
    await page.click('#token-create');
    await page.waitForSelector('#new-token');
    const raw = (await text('#new-token'));
    check(/^[0-9a-f]{64}$/.test(raw), 'the new token shown once', raw);
    console.log(`token ${raw}`);
    check(/monitoring:read/.test(await text('#token-new')) && /docker:report/.test(await text('#token-new')), 'with its scopes');
    await page.click('#token-copy');
    await page.waitForFunction(() => document.querySelector('#token-copied').textContent !== '');
    check(await page.evaluate(() => navigator.clipboard.readText()) === raw, 'Copy puts it on the clipboard');
    const row = await text('#token-table tbody tr:has(td:text-is("ui-made"))');
    check(row.includes(raw.slice(0, 6)) && row.includes(raw.slice(-4)) && /never/.test(row), 'listed by its first and last characters, never used', row);
    await shot('tokens-new');
    await page.click('#token-done');
    check(await page.locator('#new-token').count() === 0, 'hidden for good');
  });
} else {
  const expect = JSON.parse(readFileSync(env.UI_EXPECT, 'utf8'));

  await attempt('revoke the token', async () => {
    await page.goto(base + '/settings/api');
    await page.waitForSelector('#token-table tbody tr[data-id]');
    const revoke = '#token-table tbody tr:has(td:text-is("ui-made")) button[data-act=revoke]';
    await page.click(revoke);
    await page.waitForSelector('dialog.confirm[open]');
    check(/ui-made/.test(await text('dialog.confirm')), 'a confirmation names the token');
    await shot('tokens-confirm');
    await page.keyboard.press('Escape');
    await page.waitForSelector('dialog.confirm', { state: 'detached' });
    check((await rowNames('token-table')).includes('ui-made'), 'Escape: still there');
    await page.click(revoke);
    await page.click('#confirm-ok');
    const b = await banner('#tokens-msg');
    check(b.kind === 'ok' && /Revoked/.test(b.text), 'revoked', JSON.stringify(b));
    await page.waitForFunction(() => ![...document.querySelectorAll('#token-table td:first-child')].some((td) => td.textContent === 'ui-made'));
    check(true, 'gone from the list');
    await shot('tokens');
  });

  await attempt('system settings', async () => {
    await page.click('.settings-nav a[href="settings/system"]');
    await page.waitForFunction(() => (document.querySelector('#mock-state')?.textContent || '…') !== '…');
    check(await text('#mock-state') === 'Off', 'mock mode is off');
    const sys = expect.system;
    const pbs = '#system-form input[name=pbsPollingInterval]';
    await page.waitForFunction(() => !document.querySelector('#system-save').disabled);
    check(await page.inputValue(pbs) === String(sys.pbsPollingInterval), 'the PBS polling interval as the API says', sys.pbsPollingInterval);
    check(await page.inputValue('#system-form input[name=connectionTimeout]') === String(sys.connectionTimeout), '... and the connection timeout');
    check(await page.isDisabled('#system-form input[name=pmgPollingInterval]')
      && /environment/.test(await text('label:has(input[name=pmgPollingInterval])')), 'the PMG interval, pinned by the environment: disabled with a note');
    check((await text('#system-env')).includes('pmgPollingInterval'), '... and named above the form');
    // A bad value: the API's message, nothing stored.
    await page.fill(pbs, '5');
    expectError('/api/system/settings/update', [400]);
    await page.click('#system-save');
    const e = await banner('#system-msg');
    check(e.kind === 'error' && e.text === 'PBS polling interval must be at least 10 seconds', 'a bad interval: the API\'s message', JSON.stringify(e));
    expectError();
    await page.fill(pbs, '45');
    await page.fill('#system-form input[name=webhookAllowedPrivateCIDRs]', '127.0.0.1');
    await page.selectOption('#system-form select[name=theme]', 'dark');
    await page.click('#system-save');
    await page.waitForFunction(() => /Saved/.test(document.querySelector('#system-msg').textContent));
    const b = await banner('#system-msg');
    check(b.kind === 'ok' && /pbsPollingInterval/.test(b.text) && /webhookAllowedPrivateCIDRs/.test(b.text), 'saved: the two fields changed', JSON.stringify(b));
    await page.reload();
    await page.waitForFunction(() => document.querySelector('#system-save')?.disabled === false);
    check(await page.inputValue(pbs) === '45', 'after a reload: 45 s read back');
    check(await page.inputValue('#system-form input[name=webhookAllowedPrivateCIDRs]') === '127.0.0.1', '... and the webhook networks');
    check(await page.inputValue('#system-form select[name=theme]') === 'dark'
      && await page.$eval('#system-form select[name=theme] option[value=""]', (o) => o.disabled), '... and the theme (no way back to empty, which the API ignores)');
    await shot('system');
  });

  await attempt('updates', async () => {
    await page.click('.settings-nav a[href="settings/updates"]');
    await page.waitForFunction(() => (document.querySelector('#upd-deploy')?.textContent || '…') !== '…');
    check(await text('#upd-version') === expect.info.version && await text('#upd-deploy') === expect.info.deploymentType,
      'the version and deployment type as /api/server/info says', await text('#upd-version'));
    await page.waitForFunction(() => !/…/.test(document.querySelector('#upd-history tbody').textContent));
    check(/No update has run/.test(await text('#upd-history tbody')), 'no update in the history');
    await page.click('#upd-check');
    const b = await banner('#upd-msg');
    check(b.kind === 'ok' && b.text.includes(`Version ${env.UI_RELEASE} is available`), 'Check now: the feed\'s release', JSON.stringify(b));
    await page.waitForSelector('#upd-plan-card:not([hidden])');
    check(await text('#upd-latest') === env.UI_RELEASE && /stable notes/.test(await page.textContent('#upd-notes')), '... with its notes');
    check(await text('#plan-steps-h') === 'What Install update does' && await page.isVisible('#upd-apply'),
      'the plan: what the server does, and Install update', await text('#plan-steps'));
    await shot('updates');
    await page.click('#upd-apply');
    await page.waitForSelector('dialog.confirm[open]');
    check((await text('dialog.confirm')).includes(env.UI_RELEASE), 'Install update asks first, naming the version');
    await page.keyboard.press('Escape');
    await page.waitForSelector('dialog.confirm', { state: 'detached' });
    check(await page.isHidden('#apply-msg'), 'Escape: nothing started');
    await page.click('#upd-apply');
    await page.click('#confirm-ok');
    const a = await banner('#apply-msg');
    check(a.kind === 'ok' && a.text === 'Update process started', 'confirmed: the API\'s answer', JSON.stringify(a));
    await page.waitForFunction(() => /^(completed|error)/.test(document.querySelector('#upd-status').textContent), null, { timeout: 30000 });
    check((await text('#upd-status')).startsWith('completed'), 'the status followed to the end', await text('#upd-status'));
    await page.waitForSelector('#upd-history tbody tr[data-id]');
    const row = await text('#upd-history tbody tr[data-id]');
    check(row.includes(env.UI_RELEASE) && row.includes('success') && row.includes('(ui)'), 'the history shows the update', row);
    await shot('updates-done');
  });

  await attempt('diagnostics', async () => {
    await page.click('.settings-nav a[href="settings/diagnostics"]');
    await page.waitForSelector('#diag-nodes');
    const d = expect.diag;
    const names = await page.$$eval('#diag-nodes tbody th', (ths) => ths.map((t) => t.textContent));
    check(JSON.stringify(names) === JSON.stringify(d.nodes.map((n) => n.name)), 'the connections of /api/diagnostics', names.join(','));
    check((await text('#diag-nodes tbody')).includes(d.nodes[0].host), '... with their host');
    // The token revoked above is still in the file the test wrote before this run.
    const want = d.apiTokens.tokens.filter((t) => t.name !== 'ui-made');
    const tok = await page.$$eval('#diag-tokens tbody th', (ths) => ths.map((t) => t.textContent));
    check(tok.length === want.length && want.every((t) => tok.includes(t.name)), 'the tokens by name', tok.join(','));
    check((await text('#diag-system')).includes(d.version), 'the version');
    check(/Raw samples/.test(await text('#diag-metrics')), 'the metrics tiers');
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.click('#diag-copy');
    await page.waitForFunction(() => /Copied/.test(document.querySelector('#diag-msg').textContent));
    const copied = JSON.parse(await page.evaluate(() => navigator.clipboard.readText()));
    check(copied.version === d.version && Array.isArray(copied.nodes), 'Copy as JSON: the answer on the clipboard');
    await shot('diagnostics');
  });

  await attempt('reporting without a licence', async () => {
    await page.click('.settings-nav a[href="settings/reporting"]');
    await page.waitForSelector('#report-form select[name=resource] optgroup[label="Nodes"] option', { state: 'attached' });
    const first = await page.$eval('#report-form select[name=resource] optgroup[label="Nodes"] option', (o) => o.value);
    await page.selectOption('#report-form select[name=resource]', first);
    await page.click('#report-form input[value=csv]');
    expectError('/api/admin/reports/generate', [402]);
    await page.click('#report-go');
    const b = await banner('#report-msg');
    check(b.kind === 'error' && /licen[cs]e|Pro/i.test(b.text), 'Generate without the licence: the API\'s 402 message', JSON.stringify(b));
    expectError();
    await shot('reporting-unlicensed');
  });

  await attempt('a webhook', async () => {
    await page.click('.settings-nav a[href="settings/notifications/webhooks"]');
    await page.waitForSelector('#webhook-service option[value=generic]', { state: 'attached' });
    const services = await page.$$eval('#webhook-service option', (os) => os.map((o) => o.value));
    check(services.includes('discord') && services.includes('ntfy') && services.length === 10, 'the API\'s ten service templates', services.join(','));
    await page.selectOption('#webhook-service', 'ntfy');
    await page.click('#webhook-add');
    check(await page.inputValue('#webhook-form input[name=url]') === 'https://ntfy.sh/{topic}', 'a template fills its URL pattern');
    await page.click('#webhook-cancel');
    await page.selectOption('#webhook-service', 'generic');
    await page.click('#webhook-add');
    await page.fill('#webhook-form input[name=name]', 'ui sink');
    await page.fill('#webhook-form input[name=url]', `${env.UI_SINK_URL}/ui-hook`);
    await page.fill('#webhook-form textarea[name=headers]', 'X-Test: from-the-ui');
    await page.click('#webhook-test');
    const t = await banner('#webhook-form-msg');
    check(t.kind === 'ok' && /HTTP 200/.test(t.text), 'the form\'s Test delivers', JSON.stringify(t));
    await page.click('#webhook-save');
    const b = await banner('#webhooks-msg');
    check(b.kind === 'ok' && b.text === 'Added ui sink.', 'added', JSON.stringify(b));
    await page.click('#webhook-table button[data-act=test]');
    await page.waitForFunction(() => /Test notification sent/.test(document.querySelector('#webhooks-msg').textContent));
    check(true, 'the row\'s Test: "Test notification sent"');
    await page.click('#webhook-table button[data-act=edit]');
    check(/X-Test: \*\*\*REDACTED\*\*\*/.test(await page.inputValue('#webhook-form textarea[name=headers]')), 'edit: the header\'s value masked');
    await shot('webhooks');
    await page.click('#webhook-cancel');
  });

  await attempt('email', async () => {
    await page.click('.settings-nav a[href="settings/notifications/email"]');
    const first = expect.providers[0];
    await page.waitForSelector(`#email-form select[name=provider] option[value="${first.name}"]`, { state: 'attached' });
    check(await page.locator('#email-form select[name=provider] option').count() === expect.providers.length + 1, 'the API\'s provider presets and manual');
    await page.selectOption('#email-form select[name=provider]', first.name);
    check(await page.inputValue('#email-form input[name=server]') === first.smtpHost, 'a preset fills the server', first.smtpHost);
    check(await page.inputValue('#email-form input[name=port]') === String(first.smtpPort), '... and the port');
    check(await text('#email-instructions') === first.instructions, '... and shows its instructions');
    expectError('/api/notifications/test', [400]);
    await page.click('#email-test');
    const b = await banner('#email-msg');
    check(b.kind === 'error' && b.text === 'email notifications are not enabled in the provided configuration', 'Send test: the API\'s error', JSON.stringify(b));
    expectError();
    await shot('email');
  });

  await attempt('apprise', async () => {
    await page.click('.settings-nav a[href="settings/notifications/apprise"]');
    await page.waitForFunction(() => document.querySelector('#apprise-form input[name=cliPath]')?.value);
    await page.check('#apprise-form input[name=enabled]');
    await page.fill('#apprise-form textarea[name=targets]', 'json://127.0.0.1/one\n\n  json://127.0.0.1/one\njson://127.0.0.1/two');
    await page.click('#apprise-save');
    const b = await banner('#apprise-msg');
    check(b.kind === 'ok' && b.text === 'Saved.', 'saved', JSON.stringify(b));
    check(await page.inputValue('#apprise-form textarea[name=targets]') === 'json://127.0.0.1/one\njson://127.0.0.1/two', 'the API\'s normalised targets shown');
    await page.click('#apprise-form input[value=http]');
    check(await page.isVisible('#apprise-form input[name=serverUrl]') && !await page.isVisible('#apprise-form textarea[name=targets]'), 'the remote API\'s fields for http');
    await shot('apprise');
  });

  await attempt('security', async () => {
    await page.click('.settings-nav a[href="settings/security"]');
    await page.waitForSelector('.checklist');
    const s = expect.security;
    const state = (name) => page.getAttribute(`.checklist li[data-check="${name}"]`, 'data-state');
    check(await state('Authentication') === (s.hasAuthentication ? 'ok' : 'warn'), 'authentication as the API says');
    check(await state('HTTPS') === (s.hasHTTPS ? 'ok' : 'warn'), 'HTTPS as the API says');
    check(await state('Secrets encrypted at rest') === (s.credentialsEncrypted ? 'ok' : 'warn'), 'encryption as the API says');
    check(await state('Single sign-on (OIDC)') === (s.oidcEnabled ? 'ok' : 'info'), 'OIDC as the API says');
    check((await text('.checklist')).includes(env.UI_USER), 'the user signed in');
    await page.fill('#password-form input[name=currentPassword]', env.UI_PASSWORD);
    await page.fill('#password-form input[name=newPassword]', 'a new password 1');
    await page.fill('#password-form input[name=confirm]', 'a new password 2');
    await page.click('#password-save');
    const b = await banner('#password-msg');
    check(b.kind === 'error' && /differ/.test(b.text), 'change password: the two new ones must match', JSON.stringify(b));
    await page.fill('#password-form input[name=newPassword]', 'short');
    await page.fill('#password-form input[name=confirm]', 'short');
    await page.evaluate(() => { document.querySelector('#password-form').noValidate = true; });
    expectError('/api/security/change-password', [400]);
    await page.click('#password-save');
    await page.waitForFunction(() => !/differ/.test(document.querySelector('#password-msg').textContent));
    const c = await banner('#password-msg');
    check(c.kind === 'error' && /12/.test(c.text), 'a short one: the API\'s message', JSON.stringify(c));
    expectError();
    await shot('security');
  });

  await attempt('backup server and mail gateway', async () => {
    await page.click('.settings-nav a[href="settings/proxmox"]');
    await page.click('.subnav a[href="settings/pbs"]');
    await page.waitForSelector('#node-add:text("Add PBS node")');
    // The list drawn from the API: a row or the empty text.
    await page.waitForFunction(() => document.querySelector('#node-table tbody')?.textContent.trim());
    check(path() === '/settings/pbs' && await page.getAttribute('.settings-nav a[href="settings/proxmox"]', 'aria-current') === 'page',
      'Backup Server: its own URL, still the Proxmox section');
    check((await text('#node-table tbody')).includes('No PBS node'), 'no PBS node (the PVE one is not listed)');
    await page.click('#node-add');
    check(await page.getAttribute('#node-form input[name=host]', 'placeholder') === 'https://proxmox.example.org:8007', 'PBS: port 8007');
    check(await page.locator('#node-form input[name=monitorDatastores]').count() === 1, 'PBS: its own monitoring switches');
    await shot('pbs-form');
    await page.click('#node-cancel');
    await page.click('.subnav a[href="settings/pmg"]');
    await page.waitForSelector('#node-add:text("Add PMG node")');
    check(true, 'Mail Gateway');
  });

  await attempt('delete the node', async () => {
    await page.click('.settings-nav a[href="settings/proxmox"]');
    await page.waitForSelector('#node-table tbody tr[data-id]');
    await page.click('#node-table button[data-act=delete]');
    await page.waitForSelector('dialog.confirm[open]');
    check(/lab-renamed/.test(await text('dialog.confirm')), 'a confirmation names the node');
    await page.click('#confirm-ok');
    const b = await banner('#nodes-msg');
    check(b.kind === 'ok' && b.text === 'Deleted lab-renamed.', 'deleted', JSON.stringify(b));
    // The list is drawn again from the API after the banner: wait for it (a timeout fails).
    await page.waitForFunction(() => /No PVE node/.test(document.querySelector('#node-table tbody')?.textContent)).catch(() => {});
    check((await text('#node-table tbody')).includes('No PVE node'), 'the list is empty');
  });

  await attempt('mock mode', async () => {
    await page.click('.settings-nav a[href="settings/system"]');
    await page.waitForSelector('#mock-state:text("Off")');
    await page.check('#mock-enabled');
    await page.fill('#mock-form input[name=nodeCount]', '2');
    await page.click('#mock-save');
    await page.waitForSelector('#mock-state:text("On")');
    check(/Mock mode is on/.test(await text('#mock-msg')), 'mock mode on');
    check(await page.inputValue('#mock-form input[name=nodeCount]') === '2', 'with the API\'s answer: 2 nodes');
    await page.reload();
    await page.waitForSelector('#mock-state:text("On")');
    check(true, 'still on after a reload');
    await shot('system-mock');
    await page.uncheck('#mock-enabled');
    await page.click('#mock-save');
    await page.waitForSelector('#mock-state:text("Off")');
    check(true, 'mock mode off');
  });

  await attempt('narrow and dark', async () => {
    await page.setViewportSize({ width: 360, height: 780 });
    await page.click('.settings-nav a[href="settings/api"]');
    await page.waitForSelector('#token-table tbody tr[data-id]');
    const nav = await page.$eval('.settings-nav', (n) => ({ h: n.getBoundingClientRect().height, d: getComputedStyle(n).display }));
    check(nav.d === 'flex' && nav.h < 60, 'below 1024 px the sidebar is a strip', JSON.stringify(nav));
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    check(wide <= 360, 'nothing wider than 360 px', wide);
    await shot('narrow-tokens');
    for (const [sec, sel] of [['system', '#system-save:not([disabled])'], ['updates', '#upd-check'], ['diagnostics', '#diag-system'], ['reporting', '#report-go']]) {
      await page.click(`.settings-nav a[href="settings/${sec}"]`);
      await page.waitForSelector(sel);
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      check(w <= 360, `${sec}: nothing wider than 360 px`, w);
      await shot(`narrow-${sec}`);
    }
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.click('.settings-nav a[href="settings/notifications/webhooks"]');
    await page.waitForSelector('#webhook-table tbody tr[data-id]');
    await shot('dark-webhooks');
  });
}

await finish();
