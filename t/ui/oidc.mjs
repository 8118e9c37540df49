// oidc.mjs: single sign-on in the browser (run by t/api/79-oidc.t with the OIDC provider of
// t/fakes/oidc-provider.mjs configured and hideLocalLogin on): the login page shows the single
// sign-on button and hides the password form (shown again with ?show_local=true); alice signs
// in through the provider's own login and consent pages and lands signed in as herself; carol
// (no allowed group) comes back to the login page with the reason; logging out sends the
// browser to the provider's sign-out page. Environment, beyond the harness's:
//   UI_OIDC_LOGOUT  the configured logoutUrl
import { env, base, check, page, shot, attempt, freshPage, finish } from './harness.mjs';

// The provider's development pages ask for a web font and have no favicon: answered here, so
// that a console error can only be Pulse's.
const provider = new URL(env.UI_OIDC_LOGOUT).origin;
async function quietProvider(ctx) {
  await ctx.route('https://fonts.googleapis.com/**', (r) => r.fulfill({ status: 200, contentType: 'text/css', body: '' }));
  await ctx.route(`${provider}/favicon.ico`, (r) => r.fulfill({ status: 204, body: '' }));
}
await quietProvider(page.context());

// Signs in at the provider's development pages: the login form, then the consent form.
async function atProvider(p, user) {
  await p.waitForSelector('input[name=login]');
  await p.fill('input[name=login]', user);
  await p.fill('input[name=password]', 'any password');
  await p.click('button[type=submit]');
  // The consent page (a form with one button), unless the provider remembers the grant.
  await p.waitForLoadState();
  if (!p.url().startsWith(base)) await p.click('button[type=submit]');
}

await attempt('the login page offers single sign-on', async () => {
  await page.goto(`${base}/`);
  await page.waitForSelector('#sso-link');
  check(await page.isVisible('#sso-link'), 'the single sign-on button is shown');
  check(!(await page.isVisible('#local-login')), 'hideLocalLogin hides the password form');
  await shot('oidc-login');
  await page.goto(`${base}/?show_local=true`);
  await page.waitForSelector('#sso-link');
  check(await page.isVisible('#local-login'), '?show_local=true shows the password form again');
});

await attempt('alice signs in through the provider', async () => {
  await page.goto(`${base}/alerts`);
  await page.click('#sso-link');
  await atProvider(page, 'alice');
  await page.waitForSelector('#logout');
  const user = await page.textContent('#user span');
  check(user === 'alice', 'signed in as alice', `header says ${user}`);
  const u = new URL(page.url());
  check(/\/alerts(\/|$)/.test(u.pathname), 'back on the page the login started from', page.url());
  check(!u.searchParams.has('oidc'), 'the oidc parameter is taken out of the address bar', page.url());
  await shot('oidc-signed-in');
});

await attempt('carol is refused with the reason', async () => {
  const p = await freshPage();
  await quietProvider(p.context());
  await p.goto(`${base}/`);
  await p.click('#sso-link');
  await atProvider(p, 'carol');
  await p.waitForSelector('#sso-login .form-error:not([hidden])');
  const msg = await p.textContent('#sso-login .form-error');
  check(/group_restricted/.test(msg), 'the login page says why', msg);
  check(!(await p.isVisible('#logout')), 'carol is not signed in');
  await p.context().close();
});

await attempt('logout goes on to the provider', async () => {
  await page.click('#logout');
  await page.waitForURL((u) => u.href.startsWith(env.UI_OIDC_LOGOUT));
  check(true, 'the browser is at the provider\'s sign-out page');
  await page.goto(`${base}/`);
  await page.waitForSelector('#sso-link');
  check(!(await page.isVisible('#logout')), 'signed out of Pulse');
});

await finish();
