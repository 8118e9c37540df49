#!/usr/bin/perl
# 79-oidc.t: OIDC sign-in (security.md §7) against a real provider: npm's oidc-provider run by
# t/fakes/oidc-provider.mjs on a loopback port (users in groups, RS256 and ES256 keys). The
# whole flow goes over HTTP: /api/oidc/login, the provider's own login and consent forms
# (followed here with a cookie jar: PulseStack::oidc_to_callback), the callback, the session
# it makes, through two responders. Also: the settings (defaults, validation, the sealed
# secret, PUT replacing, OIDC_* variables locking them), admin and non-admin users, group,
# domain, e-mail and user-name refusals, states replayed, mismatched, expired, missing or
# followed by another browser, a replayed code, a wrong client secret, a key rotation, an
# oversized key set, a link-local issuer, logout, an issuer change ending sessions, and the
# login page in chromium (t/ui/oidc.mjs).
#
# Token-level negatives (forged signature, wrong audience, expired, alg "none", HS256 with the
# client secret, wrong nonce, wrong issuer): the provider script sits in front of its own token
# endpoint and, when told by POST /__test/tamper?mode=..., alters the next answer's ID token
# (decoded, changed, signed again), so Pulse gets a real code exchange with a bad token. An
# oversized key set comes from a second provider started with --huge-jwks.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Mojo::URL;
use Mojo::UserAgent;
use Digest::SHA qw(sha256_hex);
use Test::More;
use PulseStack;
use PulseTest;
use PulseUI;

my %SECRET = ('pulse-basic' => 'basic-secret-0123456789abcdef0123456789',
    'pulse-post' => 'post-secret-0123456789abcdef0123456789');

# Two responders: a login started on one may come back to the other (state in PostgreSQL).
my $stack = PulseStack->new(responders => 2, settings => { oidc_allowed_private_cidrs => '127.0.0.1/32',
    auth_hide_local_login => 'true' })->start;
my $admin = $stack->setup_admin;
my $H = $stack->token_headers;
my $url = sub { $stack->url(shift) };
my $api = $stack->ua;
my $prov = $stack->start_oidc_provider;
my $callback_url = $url->('/api/oidc/callback');

# --- disabled ------------------------------------------------------------------------------
my $plain = Mojo::UserAgent->new(insecure => 1, max_redirects => 0);
my $res = $plain->get($url->('/api/oidc/login'))->result;
is($res->code, 302, 'disabled: login GET redirects');
is($res->headers->location, '/?oidc=error&oidc_error=oidc_disabled', 'disabled: oidc_disabled');
json_error_ok($plain->post($url->('/api/oidc/login') => json => {})->result, 400, 'oidc_disabled',
    'disabled: login POST');
is($plain->get($url->('/api/oidc/callback?state=x&code=y'))->result->code, 404, 'disabled: callback 404');

# --- configuration ---------------------------------------------------------------------------
$res = $api->get($url->('/api/security/oidc') => $H)->result;
is($res->code, 200, 'GET /api/security/oidc');
my $cfg = json_body($res, 'default config');
is($cfg->{enabled}, false, 'default: disabled');
is_deeply($cfg->{scopes}, [qw(openid profile email)], 'default scopes');
is($cfg->{usernameClaim}, 'preferred_username', 'default username claim');
is($cfg->{emailClaim}, 'email', 'default email claim');
is($cfg->{clientSecretSet}, false, 'no secret yet');
ok(exists $cfg->{defaultRedirect}, 'defaultRedirect present');

$plain->get($url->('/api/health'));
is($plain->get($url->('/api/security/oidc'))->result->code, 401, 'config needs credentials');
my $reader = $stack->agent_token('reader', 'settings:read');
is($api->get($url->('/api/security/oidc') => $reader->{headers})->result->code, 403,
    'config needs settings:write');

$res = $api->put($url->('/api/security/oidc') => $H => json => { enabled => true, clientId => 'x' })->result;
my $err = json_error_ok($res, 400, 'validation_error', 'enabled without issuer');
is($err->{error}, 'oidc issuer url is required when OIDC is enabled', "the original's message");
json_error_ok($api->put($url->('/api/security/oidc') => $H => json => { enabled => true,
    issuerUrl => 'ftp://x', clientId => 'x', redirectUrl => $callback_url })->result, 400,
    'validation_error', 'issuer not http(s)');
json_error_ok($api->put($url->('/api/security/oidc') => $H => json => { scopes => 'openid' })->result, 400,
    'validation_error', 'scopes not a list');

my %base = (enabled => true, issuerUrl => $prov->{url}, clientId => 'pulse-basic',
    clientSecret => "  $SECRET{'pulse-basic'}  ", redirectUrl => $callback_url,
    logoutUrl => "$prov->{url}/session/end",
    scopes => [qw(openid profile email groups openid)], groupsClaim => 'groups',
    allowedGroups => [qw(staff pulse-admins)], allowedDomains => ['@example.com'],
    adminGroups => ['pulse-admins'], tokenAuthMethod => 'client_secret_basic',
    groupRoleMappings => { staff => 'viewer' });
# The seed's docs say POST: accepted as PUT.
$res = $api->post($url->('/api/security/oidc') => $H => json => \%base)->result;
is($res->code, 200, 'POST /api/security/oidc saves') or diag $res->body;
$cfg = json_body($res, 'saved config');
is($cfg->{clientSecretSet}, true, 'secret set');
ok(!exists $cfg->{clientSecret}, 'the secret is never returned');
is_deeply($cfg->{scopes}, [qw(openid profile email groups)], 'scopes deduplicated');
is_deeply($cfg->{allowedGroups}, [qw(staff pulse-admins)], 'allowed groups');
is($cfg->{tokenAuthMethod}, 'client_secret_basic', 'token auth method default');
my $sealed = $stack->psql('SELECT client_secret FROM pulse.oidc_config');
like($sealed, qr/^enc:v1:/, 'the client secret is sealed at rest');
unlike($sealed, qr/basic-secret/, 'not in clear');
unlike($stack->psql('SELECT config::text FROM pulse.oidc_config'), qr/secret-0123/, 'nor in the config');
# A PUT without clientSecret keeps it.
$res = $api->put($url->('/api/security/oidc') => $H => json => { %base, clientSecret => undef })->result;
is(json_body($res, 'PUT without secret')->{clientSecretSet}, true, 'an omitted secret is kept');
is($stack->psql('SELECT client_secret FROM pulse.oidc_config'), $sealed, 'unchanged');

# As the original, a PUT replaces the settings: an absent field takes its default (but the
# secret and our adminGroups and tokenAuthMethod, which the original's client never sends).
$res = $api->put($url->('/api/security/oidc') => $H => json => { enabled => true, issuerUrl => $prov->{url},
    clientId => 'pulse-basic', redirectUrl => $callback_url })->result;
$cfg = json_body($res, 'a PUT of four fields');
is_deeply($cfg->{allowedGroups}, [], 'absent allowedGroups: none');
is_deeply($cfg->{scopes}, [qw(openid profile email)], 'absent scopes: the default');
is_deeply($cfg->{adminGroups}, ['pulse-admins'], 'adminGroups kept');
is($cfg->{clientSecretSet}, true, 'the secret kept');
$res = $api->put($url->('/api/security/oidc') => $H => json => { %base, clientSecret => undef })->result;
is($res->code, 200, 'all the settings again');

# OIDC_* variables override the settings and lock them (a responder of its own, beside
# nginx's).
$stack->start_responder(3, OIDC_ENABLED => 'true', OIDC_CLIENT_ID => 'from-env',
    OIDC_CLIENT_SECRET => 'env-secret-0123456789', OIDC_ALLOWED_GROUPS => 'ops, staff ops');
my $sock3 = $stack->socket_path(3);
my ($st3, undef, $body3) = $stack->fcgi_request(socket => $sock3, uri => '/api/security/oidc',
    env => { HTTP_X_API_TOKEN => $admin->{token} });
is($st3, 200, 'env: GET answers');
my $envcfg = Mojo::JSON::decode_json($body3);
is($envcfg->{clientId}, 'from-env', 'env: OIDC_CLIENT_ID wins');
is($envcfg->{issuerUrl}, $prov->{url}, 'env: the stored issuer stays');
is_deeply($envcfg->{allowedGroups}, [qw(ops staff)], 'env: a list split on commas and spaces, deduplicated');
is($envcfg->{clientSecretSet}, true, 'env: the secret is set');
is_deeply($envcfg->{envOverrides}, { enabled => true, clientId => true, clientSecret => true, allowedGroups => true },
    'env: envOverrides names the fields');
($st3, undef, $body3) = $stack->fcgi_request(socket => $sock3, method => 'PUT', uri => '/api/security/oidc',
    env => { HTTP_X_API_TOKEN => $admin->{token} }, body => '{"enabled":false}');
is($st3, 409, 'env: PUT refused');
is(Mojo::JSON::decode_json($body3)->{code}, 'oidc_locked', 'env: oidc_locked');
($st3, undef, $body3) = $stack->fcgi_request(socket => $sock3, uri => '/api/security/status');
is_deeply(Mojo::JSON::decode_json($body3)->{oidcEnvOverrides}{clientId}, true, 'env: status names the overrides');
$stack->stop_program('fcgi-3', 'TERM', 20);
is(json_body($api->get($url->('/api/security/oidc') => $H)->result, 'back')->{clientId}, 'pulse-basic',
    'the stored settings are unchanged');

my $st = json_body($plain->get($url->('/api/security/status'))->result, 'status');
is($st->{oidcEnabled}, true, 'status: oidcEnabled');
is($st->{oidcIssuer}, $prov->{url}, 'status: oidcIssuer');
is($st->{oidcClientId}, 'pulse-basic', 'status: oidcClientId');
is($st->{oidcLogoutURL}, "$prov->{url}/session/end", 'status: oidcLogoutURL');
is($st->{hideLocalLogin}, true, 'status: hideLocalLogin from PULSE_AUTH_HIDE_LOCAL_LOGIN');
is($st->{requiresAuth}, true, 'status: requiresAuth');

# --- the flow ----------------------------------------------------------------------------------

# Starts a login and follows the provider's forms as user; returns (ua, callback URL).
sub to_callback { $stack->oidc_to_callback(@_) }

# A whole login as user: (ua, the callback's answer, callback URL).
sub login_as {
    my ($user, %o) = @_;
    my ($ua, $cb) = to_callback($user, %o);
    my $res = $ua->get($cb)->result;
    return ($ua, $res, $cb);
}

sub audit_last {
    return $stack->psql("SELECT username || '|' || (CASE WHEN success THEN 't' ELSE 'f' END) || '|' || details "
        . "FROM pulse.audit_events "
        . "WHERE event = 'oidc_login' ORDER BY ts DESC, id LIMIT 1");
}

sub refused_ok {
    my ($res, $code, $name, $detail) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($res->code, 302, "$name: redirected");
    is($res->headers->location // '', "/?oidc=error&oidc_error=$code", "$name: oidc_error=$code");
    ok(!grep({ /^pulse_session=[0-9a-f]/ } @{ $res->headers->every_header('Set-Cookie') }),
        "$name: no session cookie");
    like(audit_last(), qr/^\|f\|\Q$detail\E/, "$name: audited ($detail)");
}

# The authorisation request: PKCE S256, state, nonce, the configured scopes.
$res = $plain->post($url->('/api/oidc/login') => json => { returnTo => '//evil.example/' })->result;
is($res->code, 200, 'login POST answers');
my $auth_url = Mojo::URL->new(json_body($res, 'login POST')->{authorizationUrl});
is($auth_url->path, '/auth', 'authorizationUrl at the provider');
my $q = $auth_url->query;
is($q->param('code_challenge_method'), 'S256', 'PKCE S256');
like($q->param('code_challenge'), qr/^[A-Za-z0-9_-]{43}$/, 'code challenge');
like($q->param('state'), qr/^[A-Za-z0-9_-]{43}$/, 'state: 32 random bytes');
like($q->param('nonce'), qr/^[A-Za-z0-9_-]{43}$/, 'nonce: 32 random bytes');
is($q->param('scope'), 'openid profile email groups', 'scopes');
is($q->param('redirect_uri'), $callback_url, 'redirect_uri');
is($q->param('client_id'), 'pulse-basic', 'client_id');
my $state_hash = sha256_hex($q->param('state'));
is($stack->psql("SELECT count(*) FROM pulse.oidc_states WHERE state_hash = '$state_hash' AND return_to = ''"), 1,
    'the state is kept by its hash; an off-site returnTo is dropped');
is($stack->psql("SELECT count(*) FROM pulse.oidc_states WHERE nonce LIKE 'enc:v1:%' AND code_verifier LIKE 'enc:v1:%'"),
    $stack->psql('SELECT count(*) FROM pulse.oidc_states'), 'nonce and verifier sealed');

# alice: in pulse-admins, an admin session.
my ($alice, $cbres, $alice_cb) = login_as('alice', return_to => '/settings');
is($cbres->code, 302, 'alice: callback redirects') or diag $cbres->body;
is($cbres->headers->location, '/settings?oidc=success', 'alice: back to returnTo with oidc=success');
my @set = @{ $cbres->headers->every_header('Set-Cookie') };
ok((grep { /^pulse_session=[0-9a-f]{64};.*Max-Age=86400/ } @set), 'alice: a 24-hour session cookie');
ok((grep { /^pulse_csrf=/ } @set), 'alice: a CSRF cookie');
my $alice_csrf = $cbres->headers->header('X-CSRF-Token');
like(audit_last(), qr/^alice\@example\.com\|t\|OIDC login success$/, 'alice: audited');
$st = json_body($alice->get($url->('/api/security/status'))->result, 'status as alice');
is($st->{oidcUsername}, 'alice', 'status: oidcUsername');
$res = $alice->get($url->('/api/security/tokens'))->result;
is($res->code, 200, 'alice (admin group) opens an admin route');
is($res->headers->header('X-Auth-Method'), 'oidc', 'X-Auth-Method: oidc');
is($res->headers->header('X-Authenticated-User'), 'alice', 'X-Authenticated-User');
is($stack->psql("SELECT (CASE WHEN admin THEN 't' ELSE 'f' END) || '|' || oidc_issuer FROM pulse.sessions "
    . "WHERE username = 'alice'"),
    "t|$prov->{url}", 'the session is an admin OIDC one');

# Login CSRF: a callback link followed by another browser than the one that started the login.
{
    my ($ua, $cb) = to_callback('alice');
    my $other = Mojo::UserAgent->new(insecure => 1, max_redirects => 0);
    refused_ok($other->get($cb)->result, 'invalid_state', 'callback in another browser',
        'Invalid or expired state (started by another browser)');
    refused_ok($ua->get($cb)->result, 'invalid_state', 'the state is spent all the same',
        'Invalid or expired state');
}
my ($start_cookie) = grep { /^pulse_oidc=/ } @{ $plain->get($url->('/api/oidc/login'))->result->headers->every_header('Set-Cookie') };
like($start_cookie // '', qr/^pulse_oidc=[0-9a-f]{64}; Path=\/api\/oidc; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/,
    'the login binds itself to the browser with a short, narrow cookie');

# The same callback again: the state was used.
refused_ok($alice->get($alice_cb)->result, 'invalid_state', 'replayed callback', 'Invalid or expired state');

# bob: in staff only, signed in without admin rights.
my ($bob, $bobres) = login_as('bob');
is($bobres->code, 302, 'bob: callback redirects');
is($bobres->headers->location, '/?oidc=success', 'bob: signed in');
is($bob->get($url->('/api/state'))->result->code, 200, 'bob reads the state');
is($bob->get($url->('/api/security/tokens'))->result->code, 403, 'bob is not an admin');

# carol: no allowed group. dave: allowed group, another domain.
refused_ok((login_as('carol'))[1], 'group_restricted', 'carol', 'Group restriction failed');
refused_ok((login_as('dave'))[1], 'domain_restricted', 'dave', 'Email domain restricted');
refused_ok((login_as('eve'))[1], 'invalid_claims', 'eve (CR LF in the user name)', 'Invalid token claims');

# Allowed e-mails.
$api->put($url->('/api/security/oidc') => $H => json => { %base, clientSecret => undef,
    allowedEmails => ['bob@example.com'] })->result;
refused_ok((login_as('alice'))[1], 'email_restricted', 'alice outside allowedEmails', 'Email not permitted');
$api->put($url->('/api/security/oidc') => $H => json => { %base, clientSecret => undef, allowedEmails => [] });

# Tokens altered between the provider and Pulse.
my %bad = (
    forged => 'signature does not verify',
    wrong_aud => 'audience does not match',
    expired => 'token is expired',
    none => 'signing algorithm none not accepted',
    hs256 => 'signing algorithm HS256 not accepted',
    bad_nonce => 'nonce does not match',
    wrong_iss => 'issuer does not match',
    no_exp => 'no exp claim',
    no_aud => 'audience does not match',
);
for my $mode (sort keys %bad) {
    my ($ua, $cb) = to_callback('alice');
    is($api->post("$prov->{url}/__test/tamper?mode=$mode")->result->code, 200, "$mode: provider told");
    refused_ok($ua->get($cb)->result, 'invalid_id_token', "$mode token",
        "ID token verification failed: $bad{$mode}");
}

# A key rotation: a token signed with a kid the cached key set lacks makes Pulse fetch the set
# again (at most every 10 s per responder, so wait that out first) and then verifies.
{
    my $counts = sub { $api->get("$prov->{url}/__test/counts")->result->json->{jwks} };
    my $before = $counts->();
    sleep 11;
    my ($ua, $cb) = to_callback('alice');
    $api->post("$prov->{url}/__test/tamper?mode=rotate");
    is($ua->get($cb)->result->headers->location, '/?oidc=success', 'a token from a rotated key verifies');
    cmp_ok($counts->(), '>', $before, 'after the key set was fetched again');
}

# A token answer without an ID token.
{
    my ($ua, $cb) = to_callback('alice');
    $api->post("$prov->{url}/__test/tamper?mode=no_id_token");
    refused_ok($ua->get($cb)->result, 'missing_id_token', 'no ID token', 'Missing ID token');
}

# A replayed code: a new state with a code already exchanged.
{
    my ($ua, $cb) = to_callback('alice');
    is($ua->get($cb)->result->headers->location, '/?oidc=success', 'code used once');
    my $code = Mojo::URL->new($cb)->query->param('code');
    my $start = $ua->get($url->('/api/oidc/login'))->result;
    my $state = Mojo::URL->new($start->headers->location)->query->param('state');
    refused_ok($ua->get($url->("/api/oidc/callback?state=$state&code=$code"))->result, 'exchange_failed',
        'replayed code', 'Code exchange failed: HTTP 400 invalid_grant');
}

# State and code missing or wrong.
refused_ok($plain->get($url->('/api/oidc/callback?state=not-a-state&code=abc'))->result, 'invalid_state',
    'mismatched state', 'Invalid or expired state');
refused_ok($plain->get($url->('/api/oidc/callback?code=abc'))->result, 'missing_state', 'missing state',
    'Missing state parameter');
{
    my $start = $plain->get($url->('/api/oidc/login?returnTo=/alerts'))->result;
    my $state = Mojo::URL->new($start->headers->location)->query->param('state');
    $res = $plain->get($url->("/api/oidc/callback?state=$state"))->result;
    is($res->headers->location, '/alerts?oidc=error&oidc_error=missing_code', 'missing code: back to returnTo');
    like(audit_last(), qr/^\|f\|Missing authorization code$/, 'missing code audited');
    $start = $plain->get($url->('/api/oidc/login'))->result;
    $state = Mojo::URL->new($start->headers->location)->query->param('state');
    refused_ok($plain->get($url->("/api/oidc/callback?state=$state&error=access_denied"))->result,
        'access_denied', 'provider error', 'Provider error: access_denied');
}
# An expired state.
{
    my $start = $plain->get($url->('/api/oidc/login'))->result;
    my $state = Mojo::URL->new($start->headers->location)->query->param('state');
    $stack->psql("UPDATE pulse.oidc_states SET expires_at = now() - interval '1 second' WHERE state_hash = '"
        . sha256_hex($state) . "'");
    refused_ok($plain->get($url->("/api/oidc/callback?state=$state&code=x"))->result, 'invalid_state',
        'expired state', 'Invalid or expired state');
}

# ES256 and client_secret_post with the other client.
$res = $api->put($url->('/api/security/oidc') => $H => json => { %base, clientId => 'pulse-post',
    clientSecret => $SECRET{'pulse-post'}, tokenAuthMethod => 'client_secret_post' })->result;
is($res->code, 200, 'switched to the ES256 client');
my ($es, $esres) = login_as('alice');
is($esres->headers->location, '/?oidc=success', 'ES256 ID token, client_secret_post: signed in');
{
    my ($ua, $cb) = to_callback('alice');
    $api->post("$prov->{url}/__test/tamper?mode=wrong_aud");
    refused_ok($ua->get($cb)->result, 'invalid_id_token', 'ES256 wrong audience',
        'ID token verification failed: audience does not match');
}
# A wrong client secret: the provider refuses the exchange.
$api->put($url->('/api/security/oidc') => $H => json => { %base, clientId => 'pulse-post',
    clientSecret => 'wrong-secret-value', tokenAuthMethod => 'client_secret_post' });
refused_ok((login_as('alice'))[1], 'exchange_failed', 'wrong client secret',
    'Code exchange failed: HTTP 401 invalid_client');

# Logout of an OIDC session: the session ends; the UI goes on to oidcLogoutURL itself.
$res = $alice->post($url->('/api/logout') => { 'X-CSRF-Token' => $alice_csrf })->result;
is($res->code, 200, 'alice logs out');
is($alice->get($url->('/api/security/tokens'))->result->code, 401, 'the OIDC session is gone');

# Changing the issuer ends the sessions of the old one.
is($bob->get($url->('/api/state'))->result->code, 200, 'bob still signed in');
my $huge = $stack->start_oidc_provider(name => 'oidc-huge', huge_jwks => 1);
$res = $api->put($url->('/api/security/oidc') => $H => json => { %base, issuerUrl => $huge->{url} })->result;
is($res->code, 200, 'issuer changed');
is($bob->get($url->('/api/state'))->result->code, 401, "the old issuer's sessions ended");

# An oversized key set is refused.
refused_ok((login_as('alice'))[1], 'invalid_id_token', 'oversized JWKS',
    'ID token verification failed: answer larger than allowed');

# The provider must pass the URL guard: link-local never.
$api->put($url->('/api/security/oidc') => $H => json => { %base, issuerUrl => 'http://169.254.169.254/' });
$res = $plain->get($url->('/api/oidc/login'))->result;
is($res->headers->location, '/?oidc=error&oidc_error=oidc_init_failed', 'a link-local issuer is not fetched');
json_error_ok($plain->post($url->('/api/oidc/login') => json => {})->result, 500, 'oidc_init_failed',
    'login POST: oidc_init_failed');

# In the browser (t/ui/oidc.mjs): the login page's single sign-on button, a sign-in through
# the provider's pages, a refusal's reason, logout on to the provider. Runs where chromium and
# t/ui's packages are (always under CI=true, where PulseUI fails without them).
$res = $api->put($url->('/api/security/oidc') => $H => json => { %base, clientSecret => $SECRET{'pulse-basic'} })->result;
is($res->code, 200, 'back to the first provider for the browser');
if (($ENV{CI} // '') eq 'true' || (-x PulseUI::chromium()
    && -f PulseStack::srcdir() . '/t/ui/node_modules/playwright-core/package.json')) {
    PulseUI::require_browser();
    PulseUI::run($stack, 'oidc.mjs', UI_OUT => PulseUI::shots_dir('oidc'),
        UI_OIDC_LOGOUT => "$prov->{url}/session/end");
} else {
    diag('no browser here: the browser part of this test did not run');
}

# Clearing the secret; disabling.
$res = $api->put($url->('/api/security/oidc') => $H => json => { clearClientSecret => true, enabled => false })->result;
is(json_body($res, 'cleared')->{clientSecretSet}, false, 'clearClientSecret removes it');
is($stack->psql('SELECT client_secret IS NULL FROM pulse.oidc_config'), 't', 'removed from the database');

# Logins were served by both responders (the state lives in the database, not in one of them).
for my $i (1, 2) {
    open my $fh, '<', $stack->log_dir . "/fcgi-$i.log" or die $!;
    my $n = grep { m{/api/oidc/callback} } <$fh>;
    ok($n > 0, "responder $i served callbacks ($n)");
}

no_secret_in_logs($stack, values %SECRET);
done_testing;
