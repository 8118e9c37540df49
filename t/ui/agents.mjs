// agents.mjs: the Docker, Kubernetes and Hosts pages over mock mode's agents (t/api/74-ui-agents.t
// starts the stack and writes UI_EXPECT: the hosts, containers and Kubernetes counts the
// state holds). Each page: every row, the search and selects narrowing it (and kept in the
// URL), a sort, a screenshot.
import { readFileSync } from 'node:fs';
import { env, base, check, page, shot, query, attempt, login, finish, freshPage, expectError } from './harness.mjs';

const expect = JSON.parse(readFileSync(env.UI_EXPECT, 'utf8'));

// Phase "apionly": the server has API tokens but no local user any more (API-only mode): the
// login page's token form is the way in; a wrong token is refused with a message.
if (env.UI_PHASE === 'apionly') {
  await attempt('API-only mode', async () => {
    await page.goto(base + '/hosts');
    await page.waitForSelector('#login-form');
    await page.click('#token-login summary');
    await page.fill('#token-form input[name=token]', 'not-a-token-of-this-server-0123456789');
    expectError('/api/security/status', [401]);
    await page.click('#token-form button[type=submit]');
    const err = page.locator('#token-form .form-error');
    await err.waitFor({ state: 'visible' });
    check(/refused/.test(await err.textContent()), 'a wrong token: refused, with a message', await err.textContent());
    expectError();
    await shot('apionly-refused');
    await page.fill('#token-form input[name=token]', env.UI_TOKEN);
    await page.click('#token-form button[type=submit]');
    await page.waitForSelector('#hosts tbody tr[data-id]');
    check(await page.locator('#hosts tbody tr[data-id]').count() === expect.hosts.length, 'the admin\'s token: the Hosts page');
    check(await page.textContent('#user span') === 'API token' && await page.locator('#tabs a[href="settings"]').count() === 1,
      'signed in as "API token", with Settings (the token holds *)');
    await page.reload();
    await page.waitForSelector('#hosts tbody tr[data-id]');
    check(true, 'still signed in after a reload (the tab keeps the token)');
    await page.click('#logout');
    await page.waitForSelector('#login-form');
    check(true, '"Forget token": the login page again');
  });
  await finish();
}

const rows = (id) => page.locator(`#${id} tbody tr[data-id]`).count();
const waitRows = (id, n) => page.waitForFunction(([t, k]) => document.querySelectorAll(`#${t} tbody tr[data-id]`).length === k, [id, n]);
const names = (id) => page.$$eval(`#${id} tbody tr[data-id] td:first-child`, (tds) => tds.map((td) => td.textContent.trim()));

await page.goto(base + '/hosts');
await login();

await attempt('hosts', async () => {
  await waitRows('hosts', expect.hosts.length);
  const shown = await names('hosts');
  check(expect.hosts.every((h) => shown.includes(h.name)), `Hosts: the ${expect.hosts.length} hosts by name`, shown.join(','));
  check(JSON.stringify(shown) === JSON.stringify([...shown].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))),
    'by name at first');
  await shot('hosts');
  const win = expect.hosts.filter((h) => h.platform === 'windows');
  await page.fill('#hosts-search', 'platform:windows');
  await waitRows('hosts', win.length);
  check(query().get('q') === 'platform:windows', `platform:windows: ${win.length} hosts, in the URL`);
  await page.fill('#hosts-search', '');
  await page.selectOption('#hosts-status', 'offline');
  await page.waitForSelector('#hosts tbody td.muted');
  check(await rows('hosts') === 0 && query().get('status') === 'offline', 'status Offline: none, in the URL');
  await page.selectOption('#hosts-status', 'all');
  await page.click('#hosts th[data-sort=cpu]');
  check(query().get('sort') === 'cpu' && await page.getAttribute('#hosts th[data-sort=cpu]', 'aria-sort') === 'descending',
    'sorted by CPU, descending first');
});

await attempt('docker', async () => {
  await page.click('#tabs a[href="docker"]');
  const all = expect.containers;
  await waitRows('containers', all.length);
  check(true, `Docker: the ${all.length} containers`);
  check(await page.locator('#docker-hosts tbody tr').count() === 3, 'the three Docker hosts in their table');
  check((await page.textContent('#containers-count')).startsWith(`${all.length} of ${all.length} `), 'the count');
  await shot('docker');
  const host = all[0].host;
  await page.click(`#docker-hosts a:text-is("${host}")`);
  const onHost = all.filter((c) => c.host === host);
  await waitRows('containers', onHost.length);
  check(query().get('q') === `host:${host}` && await page.inputValue('#containers-search') === `host:${host}`,
    `a host's link: its ${onHost.length} containers (host:${host} in the search and the URL)`);
  const notRunning = all.filter((c) => c.state === 'exited');
  await page.fill('#containers-search', '');
  await page.selectOption('#containers-state', 'exited');
  await waitRows('containers', notRunning.length);
  check(query().get('state') === 'exited', `state Exited: ${notRunning.length} containers, in the URL`);
  await page.selectOption('#containers-state', 'all');
  await page.fill('#containers-search', 'image:nginx');
  await page.waitForFunction((n) => !document.querySelector('#containers-count').textContent.startsWith(`${n} of`), all.length);
  const imgs = await page.$$eval('#containers tbody tr[data-id] td.image', (tds) => tds.map((td) => td.textContent));
  check(imgs.length > 0 && imgs.every((i) => i.includes('nginx')), `image:nginx: ${imgs.length} containers, each of an nginx image`);
  await page.fill('#containers-search', '');
});

await attempt('kubernetes', async () => {
  await page.click('#tabs a[href="kubernetes"]');
  await waitRows('k8s-pods', expect.pods);
  check(true, `Kubernetes: the ${expect.pods} pods`);
  const clusters = await page.$$eval('#k8s-clusters tbody tr td:first-child', (tds) => tds.map((td) => td.textContent.trim()));
  check(JSON.stringify(clusters.sort()) === JSON.stringify([...expect.clusters].sort()), 'both clusters', clusters.join(','));
  await shot('kubernetes-pods');
  await page.selectOption('#k8s-pods-view', 'deployments');
  await waitRows('k8s-deployments', expect.deployments);
  check(query().get('view') === 'deployments', `Deployments: ${expect.deployments}, the view in the URL`);
  await page.selectOption('#k8s-deployments-health', 'unhealthy');
  await page.waitForFunction((n) => document.querySelectorAll('#k8s-deployments tbody tr[data-id]').length === n
    || (n === 0 && document.querySelector('#k8s-deployments tbody td.muted')), expect.degradedDeployments);
  check(query().get('health') === 'unhealthy', `Unhealthy: the ${expect.degradedDeployments} with fewer ready than desired replicas`);
  await shot('kubernetes-deployments');
  await page.selectOption('#k8s-deployments-health', 'all');
  await page.selectOption('#k8s-deployments-view', 'nodes');
  await waitRows('k8s-nodes', expect.k8sNodes);
  check(true, `Nodes: ${expect.k8sNodes}`);
  await page.click(`#k8s-clusters a:text-is("${expect.clusters[0]}")`);
  // The new view: the cluster in the URL and fewer rows than all (the old table may still show).
  await page.waitForFunction((all) => (new URL(location).searchParams.get('q') || '').startsWith('cluster:')
    && new RegExp(`^\\d+ of ${all} `).test(document.querySelector('#k8s-nodes-count')?.textContent || '')
    && document.querySelectorAll('#k8s-nodes tbody tr[data-id]').length < all, expect.k8sNodes);
  const cl = await page.$$eval('#k8s-nodes tbody tr[data-id] td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
  check(cl.length > 0 && cl.every((c) => c === expect.clusters[0]), `a cluster's link: its nodes only (${cl.length})`);
  const url = page.url();
  await page.goto(url);
  await waitRows('k8s-nodes', cl.length);
  check(true, 'the bookmarked view comes back', url);
  await shot('kubernetes-nodes');
});

// A wall display: ?kiosk=1&token=<a monitoring:read token> in a browser that never signed in.
await attempt('kiosk', async () => {
  const wall = await freshPage();
  await wall.goto(`${base}/docker?kiosk=1&token=${env.UI_KIOSK_TOKEN}`);
  await wall.waitForFunction((n) => document.querySelectorAll('#containers tbody tr[data-id]').length === n, expect.containers.length);
  const u = new URL(wall.url());
  check(u.pathname === '/docker' && !u.searchParams.has('token') && !u.searchParams.has('kiosk'),
    'kiosk with a token: the containers, and the token taken out of the URL', wall.url());
  check(!(await wall.isVisible('#tabs')) && !(await wall.isVisible('.filters')) && !(await wall.isVisible('footer')),
    'no tabs, filter bar or footer');
  check(await wall.locator('#tabs a[href="settings"]').count() === 0, 'a monitoring:read token gets no Settings tab');
  await wall.screenshot({ path: `${env.UI_OUT}/kiosk.png`, fullPage: false });
  await wall.reload();
  await wall.waitForSelector('#containers tbody tr[data-id]');
  check(!(await wall.isVisible('#tabs')), 'after a reload: still signed in, still kiosk');
  await wall.click('#kiosk');
  check(await wall.isVisible('#tabs') && await wall.isVisible('.filters'), 'the Kiosk button brings the navigation back');
  await wall.context().close();
});

await attempt('narrow screen', async () => {
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto(base + '/docker');
  await waitRows('containers', expect.containers.length);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  const culprits = await page.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > 361 && !(e.parentElement && e.parentElement.closest('.scroll')))
    .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${e.className}`).slice(0, 8).join(' '));
  check(wide <= 360, `at 360 px the page does not scroll sideways (the tables do, inside their cards): ${wide} px`, culprits);
  await shot('docker-360');
  await page.setViewportSize({ width: 1400, height: 900 });
});

await finish();
