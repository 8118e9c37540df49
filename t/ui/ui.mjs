// ui.mjs: the first-run wizard, login, the overview, the tabs and logout in Debian's chromium
// (harness.mjs), against the stack t/api/70-ui.t starts; it prints "token <value>" when the
// setup phase shows the new API token. Environment, beyond the harness's:
//   UI_PHASE      "setup": the first-run wizard; "main": login, overview, tabs, logout
//   UI_BOOTSTRAP  the bootstrap token (setup)
//   UI_EXPECT     a JSON file: {"nodes": [{id, node}, ...], "guests": [{vmid, name, node, status,
//                 type}, ...]} (main)
import { readFileSync } from 'node:fs';
import { env, base, check, page, shot, query, attempt, expectError, finish } from './harness.mjs';

const rowCount = () => page.locator('#guests tbody tr[data-vmid]').count();
const cellTexts = (col) => page.$$eval(`#guests tbody tr[data-vmid] td:nth-child(${col})`, (tds) => tds.map((td) => td.textContent.trim()));

if (env.UI_PHASE === 'setup') {
  await attempt('setup wizard', async () => {
    await page.goto(base + '/');
    await page.waitForSelector('#setup-form');
    check(true, 'a fresh server shows the setup form');
    await shot('setup');
    await page.fill('input[name=setupToken]', 'not-the-token');
    await page.fill('input[name=username]', env.UI_USER);
    await page.fill('input[name=password]', env.UI_PASSWORD);
    expectError('/api/security/quick-setup');
    await page.click('#setup-form button[type=submit]');
    const err = page.locator('#setup-form .form-error');
    await err.waitFor({ state: 'visible' });
    check(/bootstrap token is not right/.test(await err.textContent()), 'a wrong bootstrap token is refused with a message');
    await page.fill('input[name=setupToken]', env.UI_BOOTSTRAP);
    await page.click('#setup-form button[type=submit]');
    await page.waitForSelector('#new-token');
    expectError();
    const token = (await page.textContent('#new-token')).trim();
    check(/^[0-9a-f]{48}$/.test(token), 'setup shows the new API token once');
    console.log(`token ${token}`);
    await shot('setup-done');
    await page.click('#setup-continue');
    await page.waitForSelector('#guests');
    check(new URL(page.url()).pathname === '/proxmox/overview', 'then the overview, signed in');
  });
} else {
  const expect = JSON.parse(readFileSync(env.UI_EXPECT, 'utf8'));
  const guests = expect.guests;

  await attempt('login', async () => {
    await page.goto(base + '/proxmox/overview?status=all');
    await page.waitForSelector('#login-form');
    check(true, 'signed out: the login form');
    await page.fill('input[name=username]', env.UI_USER);
    await page.fill('input[name=password]', 'wrong password');
    expectError('/api/login');
    await page.click('#login-form button[type=submit]');
    const err = page.locator('#login-form .form-error');
    await err.waitFor({ state: 'visible' });
    const text = await err.textContent();
    check(/Invalid username or password/.test(text), 'a wrong password shows the error', text);
    await shot('login-error');
    expectError();
    await page.fill('input[name=password]', env.UI_PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#guests');
    check(new URL(page.url()).pathname === '/proxmox/overview', 'signed in on the page asked for');
  });

  await attempt('overview', async () => {
    await page.waitForFunction((n) => document.querySelectorAll('#guests tbody tr[data-vmid]').length === n, guests.length);
    check(true, `the overview shows the ${guests.length} guests`);
    const vmids = (await cellTexts(3)).map(Number);
    check(JSON.stringify(vmids) === JSON.stringify(guests.map((g) => g.vmid).sort((a, b) => a - b)),
      'by VMID, ascending, at first', vmids.join(','));
    const names = await cellTexts(1);
    check(guests.every((g) => names.includes(g.name)), 'every guest by name');
    const nodes = await page.locator('#nodes tbody tr[data-node]').count();
    check(nodes === expect.nodes.length, `${expect.nodes.length} nodes in the nodes table`, nodes);
    check(await page.locator('#guests .bar').count() > 0, 'usage bars');
    await shot('overview');
  });

  await attempt('sorting', async () => {
    await page.click('#guests th[data-sort=name]');
    let q = query();
    check(q.get('sort') === 'name' && !q.get('dir'), 'sorting by name: in the URL', page.url());
    const want = guests.map((g) => g.name.toLowerCase()).sort();
    check(JSON.stringify((await cellTexts(1)).map((s) => s.toLowerCase())) === JSON.stringify(want), 'rows by name');
    await page.click('#guests th[data-sort=name]');
    q = query();
    check(q.get('dir') === 'desc', 'again: descending, in the URL', page.url());
    check(JSON.stringify((await cellTexts(1)).map((s) => s.toLowerCase())) === JSON.stringify([...want].reverse()), 'rows by name, descending');
    check(await page.getAttribute('#guests th[data-sort=name]', 'aria-sort') === 'descending', 'the header says so');
    await page.click('#guests th[data-sort=vmid]');
    check(!query().get('sort'), 'back to the default sort: off the URL', page.url());
  });

  await attempt('filtering', async () => {
    const stopped = guests.filter((g) => g.status !== 'running');
    await page.selectOption('#guests-status', 'stopped');
    await page.waitForFunction((n) => document.querySelectorAll('#guests tbody tr[data-vmid]').length === n, stopped.length);
    check(query().get('status') === 'stopped', `status filter: ${stopped.length} stopped guests, in the URL`);
    await page.selectOption('#guests-status', 'all');
    const node = guests[0].node;
    const onNode = guests.filter((g) => g.node === node);
    await page.fill('#guests-search', `node:${node}`);
    await page.waitForFunction((n) => document.querySelectorAll('#guests tbody tr[data-vmid]').length === n, onNode.length);
    check(query().get('q') === `node:${node}`, `text filter node:${node}: ${onNode.length} guests, in the URL`, page.url());
    const both = onNode.filter((g) => g.status === 'running');
    await page.selectOption('#guests-status', 'running');
    await page.click('#guests th[data-sort=cpu]');
    await page.waitForFunction((n) => document.querySelectorAll('#guests tbody tr[data-vmid]').length === n, both.length);
    check(true, 'both filters together');
    const url = page.url();
    await page.goto(url);
    await page.waitForSelector('#guests tbody tr[data-vmid]');
    check(await rowCount() === both.length && await page.inputValue('#guests-search') === `node:${node}`
      && await page.inputValue('#guests-status') === 'running'
      && await page.getAttribute('#guests th[data-sort=cpu]', 'aria-sort') === 'descending',
    'the bookmarked URL brings the same view back', url);
    await shot('overview-filtered');
    await page.fill('#guests-search', 'no-such-guest-anywhere');
    await page.waitForSelector('#guests tbody td.muted');
    check(await rowCount() === 0, 'no match: "No guests found"');
  });

  // The nodes table: its counts, its own sort (nsort, ndir: the guests' sort stays), a click
  // on a row filtering the guest table to that node (node= in the URL, the row marked, the
  // Node select following), a second click or Escape clearing it, a bookmarked node filter.
  await attempt('nodes table', async () => {
    await page.goto(base + '/proxmox/overview');
    await page.waitForFunction((n) => document.querySelectorAll('#guests tbody tr[data-vmid]').length === n, guests.length);
    const counts = await page.$$eval('#nodes tbody tr[data-node]', (trs) => trs.map((tr) => [tr.dataset.node,
      Number(tr.querySelector('[data-count="vms"]').textContent), Number(tr.querySelector('[data-count="cts"]').textContent)]));
    const want = expect.nodes.map((n) => [n.node, guests.filter((g) => g.node === n.node && g.type === 'qemu').length,
      guests.filter((g) => g.node === n.node && g.type !== 'qemu').length]);
    check(JSON.stringify(counts) === JSON.stringify(want), `VMs and CTs per node: ${JSON.stringify(counts)}`, JSON.stringify(want));
    const heads = await page.$$eval('#nodes th', (ths) => ths.map((th) => th.textContent.trim()));
    check(heads.join(' · ') === 'Node · Status · Uptime · CPU · Memory · Disk · VMs · CTs', heads.join(' · '));
    await page.click('#nodes th[data-sort="name"]');
    check(query().get('nsort') === null && query().get('ndir') === 'desc' && !query().get('sort'), 'Node header: descending, ndir=desc in the URL', page.url());
    check((await page.$$eval('#nodes tbody tr[data-node]', (trs) => trs.map((tr) => tr.dataset.node))).join(' ')
      === expect.nodes.map((n) => n.node).sort().reverse().join(' '), 'nodes by name, descending');
    await page.click('#nodes th[data-sort="cts"]');
    const byCts = [...want].sort((a, b) => b[2] - a[2] || (expect.nodes.find((n) => n.node === a[0]).id < expect.nodes.find((n) => n.node === b[0]).id ? -1 : 1));
    check((await page.$$eval('#nodes tbody tr[data-node]', (trs) => trs.map((tr) => tr.dataset.node))).join(' ') === byCts.map((w) => w[0]).join(' ')
      && query().get('nsort') === 'cts' && await page.getAttribute('#nodes th[data-sort="cts"]', 'aria-sort') === 'descending',
    'CTs header: most first, nsort=cts in the URL');
    const vmids = (await cellTexts(3)).map(Number);
    check(JSON.stringify(vmids) === JSON.stringify(guests.map((g) => g.vmid).sort((a, b) => a - b)), 'the guest table keeps its own sort');

    const node = expect.nodes[1].node;
    const onNode = guests.filter((g) => g.node === node);
    await page.click(`#nodes tr[data-node="${node}"] td:nth-child(3)`);
    await page.waitForFunction((n) => document.querySelectorAll('#guests tbody tr[data-vmid]').length === n, onNode.length);
    const shown = await cellTexts(4);
    check(shown.length === onNode.length && shown.every((n) => n === node), `a click on ${node}: its ${onNode.length} guests`);
    check(query().get('node') === node && await page.getAttribute(`#nodes tr[data-node="${node}"]`, 'aria-selected') === 'true'
      && await page.inputValue('#guests-node') === node && (await page.textContent('#guests-count')).startsWith(`${onNode.length} of ${guests.length}`),
    `node=${node} in the URL, the row marked, the Node select and the count follow`);
    await shot('overview-node-filter');
    await page.click(`#nodes tr[data-node="${node}"] td:nth-child(5)`);
    await page.waitForFunction((n) => document.querySelectorAll('#guests tbody tr[data-vmid]').length === n, guests.length);
    check(!query().get('node') && await page.getAttribute(`#nodes tr[data-node="${node}"]`, 'aria-selected') === 'false', 'a second click: every guest again');
    await page.click(`#nodes tr[data-node="${node}"] td:nth-child(2)`);
    await page.waitForFunction((n) => document.querySelectorAll('#guests tbody tr[data-vmid]').length === n, onNode.length);
    await page.keyboard.press('Escape');
    await page.waitForFunction((n) => document.querySelectorAll('#guests tbody tr[data-vmid]').length === n, guests.length);
    check(!query().get('node') && await page.inputValue('#guests-node') === '', 'Escape clears the node filter');
    // The Node select marks the row; a bookmarked node= filters at once.
    const other = expect.nodes[0].node;
    await page.selectOption('#guests-node', other);
    await page.waitForSelector(`#nodes tr[data-node="${other}"][aria-selected="true"]`);
    check(query().get('node') === other, `the Node select picks ${other} and marks its row`);
    const url = page.url();
    await page.goto(base + '/proxmox/storage');
    await page.goto(url);
    const onOther = guests.filter((g) => g.node === other);
    await page.waitForFunction((n) => document.querySelectorAll('#guests tbody tr[data-vmid]').length === n, onOther.length);
    check(await page.getAttribute(`#nodes tr[data-node="${other}"]`, 'aria-selected') === 'true'
      && await page.getAttribute('#nodes th[data-sort="cts"]', 'aria-sort') === 'descending', 'the bookmarked URL: the same node filter and node sort');
    await page.goto(base + '/proxmox/overview');
  });

  await attempt('polling', async () => {
    await page.fill('#guests-search', '');
    const req = await page.waitForRequest(async (r) => r.url().endsWith('/api/state') &&
      Boolean((await r.allHeaders())['if-none-match']), { timeout: 15000 });
    check(true, `the overview polls /api/state with If-None-Match: ${(await req.allHeaders())['if-none-match']}`);
  });

  // Keyboard only: "/" to the search, Escape empties it; Enter on a header sorts; Tab from the
  // last header to the first row, arrows down the rows; the focus stays on its row when the
  // next state redraws the table.
  await attempt('keyboard', async () => {
    await page.goto(base + '/proxmox/overview');
    await page.waitForFunction((n) => document.querySelectorAll('#guests tbody tr[data-vmid]').length === n, guests.length);
    await page.locator('body').press('/');
    check(await page.evaluate(() => document.activeElement.id) === 'guests-search', '"/" puts the focus in the search box');
    await page.keyboard.type('node:');
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => document.querySelector('#guests-search').value === '' && !new URL(location).searchParams.has('q'));
    check(true, 'Escape empties it');
    await page.focus('#guests th[data-sort=name]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => new URL(location).searchParams.get('sort') === 'name');
    check(true, 'Enter on a header sorts by it');
    await page.keyboard.press('Enter');
    await page.focus('#guests th[data-sort=vmid]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !new URL(location).searchParams.has('sort'));
    await page.focus('#guests th[data-sort=uptime]');
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement.dataset.vmid);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    const third = await page.evaluate(() => document.activeElement.dataset.vmid);
    const order = guests.map((g) => g.vmid).sort((a, b) => a - b);
    check(Number(first) === order[0] && Number(third) === order[2], `Tab to the first row (${first}), two arrows down: the third (${third})`);
    await page.evaluate(() => new Promise((resolve) => document.addEventListener('pulse-state', resolve, { once: true })));
    check(await page.evaluate(() => document.activeElement.dataset.vmid) === third, 'the next state redraws the table; the focus stays on that row');
    await page.keyboard.press('ArrowUp');
    check(Number(await page.evaluate(() => document.activeElement.dataset.vmid)) === order[1], 'arrow up: the second');
  });

  // 5,000 guests (the scale) in place of the state: every row on screen, timed.
  await attempt('5,000 guests', async () => {
    const big = { nodes: [], vms: [], containers: [], lastUpdate: Date.now() };
    for (let i = 0; i < 100; i++) big.nodes.push({ id: `c-n${i}`, node: `n${i}`, instance: 'c', status: 'online', cpu: 0.3, mem: 5e9, maxmem: 1e10, uptime: 9999 });
    for (let i = 0; i < 5000; i++) {
      (i % 3 ? big.vms : big.containers).push({ id: `c:n${i % 100}:${1000 + i}`, vmid: 1000 + i, name: `guest-${i}`, node: `n${i % 100}`,
        instance: 'c', status: i % 10 ? 'running' : 'stopped', type: i % 3 ? 'qemu' : 'lxc', cpu: (i % 97) / 100, cpus: 4,
        mem: (i % 89) * 1e7, maxmem: 1e9, disk: { total: 1e10, used: (i % 83) * 1e8, free: 1e9, usage: 50 }, uptime: 3600 + i });
    }
    const body = JSON.stringify(big);
    await page.route('**/api/state', (route) => (route.request().headers()['if-none-match'] === '"big"'
      ? route.fulfill({ status: 304, headers: { ETag: '"big"' } })
      : route.fulfill({ status: 200, contentType: 'application/json', headers: { ETag: '"big"' }, body })));
    const count = () => page.textContent('#guests-count');
    const t0 = Date.now();
    await page.goto(base + '/proxmox/overview');
    await page.waitForFunction(() => /^5000 of 5000 /.test(document.querySelector('#guests-count')?.textContent || ''), null, { timeout: 30000 });
    const ms = Date.now() - t0;
    const inDom = await rowCount();
    check(ms < 10000 && inDom > 20 && inDom < 500, `5,000 guests: the table ready ${ms} ms after loading, ${inDom} rows in the document`, await count());
    const t1 = Date.now();
    await page.click('#guests th[data-sort=cpu]');
    const sorted = Date.now() - t1;
    check(await page.textContent('#guests tbody tr[data-vmid] td:nth-child(6)') === '96%' && sorted < 5000, `sorted by CPU in ${sorted} ms`);
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    // The last row: the stopped guests (no CPU) come last, by VMID.
    await page.waitForSelector('#guests tr[data-vmid="5990"]');
    const bottom = await page.evaluate(() => document.querySelector('#guests tr[data-vmid="5990"]').getBoundingClientRect().bottom);
    check(bottom <= await page.evaluate(() => window.innerHeight) && bottom > 0, 'scrolled to the end: the last guest in view');
    await page.evaluate(() => { window.scrollTo(0, 0); document.querySelector('#guests-search').scrollIntoView(); });
    await page.waitForSelector('#guests tr[data-vmid]');
    await page.waitForTimeout(200);  // the scroll's window of rows
    await shot('overview-5000', false);  // the viewport: the whole page would be 145,000 px high
  });
  await attempt('back to the real state', async () => {
    await page.unroute('**/api/state');
    await page.goto(base + '/proxmox/overview');
    await page.waitForFunction((n) => document.querySelectorAll('#guests tbody tr[data-vmid]').length === n, guests.length);
  });

  await attempt('tabs', async () => {
    for (const [tab, path] of [['Docker', 'docker'], ['Kubernetes', 'kubernetes'], ['Hosts', 'hosts'],
      ['Alerts', 'alerts'], ['Settings', 'settings']]) {
      await page.click(`#tabs a[href="${path}"]`);
      await page.waitForFunction((p) => (document.querySelector('#main').dataset.page || '').split('/')[0] === p
        && !document.querySelector('#main > p.muted:only-child'), path);
      check(new URL(page.url()).pathname.startsWith(`/${path}`) &&
        await page.getAttribute(`#tabs a[href="${path}"]`, 'aria-current') === 'page' &&
        (await page.title()).startsWith(tab), `${tab} tab: its page, marked current`, page.url());
      await shot(path);
    }
    await page.goBack();
    await page.waitForFunction(() => (document.querySelector('#main').dataset.page || '').startsWith('alerts'));
    check(new URL(page.url()).pathname.startsWith('/alerts'), 'Back goes back');
    await page.click('#tabs a[href="proxmox"]');
    await page.waitForSelector('#guests tbody tr');
    check(new URL(page.url()).pathname === '/proxmox/overview', 'Proxmox opens the overview');
  });

  await attempt('themes', async () => {
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'light' });
    const light = await bg();
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await bg();
    check(light !== dark, `the system's dark preference darkens the page (${light} → ${dark})`);
    await shot('overview-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  await attempt('logout', async () => {
    await page.click('#logout');
    await page.waitForSelector('#login-form');
    check(true, 'logout: the login form again');
    await page.reload();
    await page.waitForSelector('#login-form');
    check(true, 'and it stays signed out after a reload');
  });

  // The rate limit's answer (t/api/14 makes the server give it; a loopback client that is
  // locked out gets the 403 first): the documented 429 put in the API's place.
  await attempt('rate limit', async () => {
    await page.route('**/api/login', (route) => route.fulfill({
      status: 429, contentType: 'application/json', headers: { 'Retry-After': '42' },
      body: JSON.stringify({ error: 'Rate limit exceeded. Please try again later.', code: 'rate_limited', status_code: 429 }),
    }));
    expectError('/api/login');
    await page.fill('input[name=username]', env.UI_USER);
    await page.fill('input[name=password]', env.UI_PASSWORD);
    await page.click('#login-form button[type=submit]');
    const err = page.locator('#login-form .form-error');
    await err.waitFor({ state: 'visible' });
    const text = await err.textContent();
    check(/Too many login attempts.*42 seconds/.test(text), 'a 429: the rate limit\'s message with its wait', text);
    await shot('login-rate-limited');
    await page.unroute('**/api/login');
  });

  // Last, as it locks this address out: the fifth wrong password locks the account (401 with
  // "locked"), and the next attempt gets 403 account_locked; both say so. (The right login
  // above reset the count of failures. Logins are also limited to 10 a minute per address,
  // loopback included: both phases make 8 that count; keep it so.)
  await attempt('lock-out', async () => {
    const messages = [];
    for (let i = 0; i < 6; i++) {
      await page.fill('input[name=username]', env.UI_USER);
      await page.fill('input[name=password]', `wrong ${i}`);
      const answer = page.waitForResponse((r) => r.url().endsWith('/api/login'));
      await page.click('#login-form button[type=submit]');
      const status = (await answer).status();
      await page.waitForSelector('#login-form button[type=submit]:not([disabled])');
      messages.push(`${status} ${await page.textContent('#login-form .form-error')}`);
    }
    check(/^401 Account locked/.test(messages[4]), 'the fifth wrong password: the lock-out message', messages.join(' | '));
    check(/^403 Account locked .*Try again in \d+ minutes/.test(messages[5]), 'then the locked account\'s message with its wait', messages[5]);
    await shot('login-locked');
    expectError();
  });
}

await finish();
