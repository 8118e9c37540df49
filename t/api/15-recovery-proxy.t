#!/usr/bin/perl
# 15-recovery-proxy.t: the recovery endpoint (direct loopback or a single-use recovery
# token; recovery mode lets direct loopback clients in without credentials) and proxy
# authentication (shared secret, user and role headers, the admin role).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Mojo::UserAgent;
use Test::More;
use PulseStack;
use PulseTest;

my $secret = 'proxy-shared-secret-0123456789';
my $stack = PulseStack->new(settings => {
    proxy_auth_secret => $secret, proxy_auth_user_header => 'X-Remote-User',
    proxy_auth_role_header => 'X-Remote-Roles', proxy_auth_admin_role => 'admin',
    proxy_auth_logout_url => 'https://sso.example/logout',
})->start;
my $ua = Mojo::UserAgent->new(insecure => 1, max_redirects => 0);
my $rec = $stack->url('/api/security/recovery');
my $tokens = $stack->url('/api/security/tokens');
my $remote = { 'X-Forwarded-For' => '192.0.2.44' };    # not a direct loopback client
my $json = { 'Content-Type' => 'application/json' };

# --- recovery ---
my $res = $ua->get($rec)->result;
is($res->code, 200, 'recovery status from direct loopback');
is($res->json->{recovery_mode}, false, 'recovery mode off');
json_error_ok($ua->get($rec => $remote)->result, 403, 'forbidden', 'recovery from a forwarded client');

json_error_ok($ua->post($rec => { 'Content-Type' => 'text/plain' } => '{"action":"generate_token"}')->result,
    415, 'unsupported_media_type', 'a text/plain POST (what a cross-site form can send) is refused');
$res = $ua->post($rec => json => { action => 'generate_token', duration => 5 })->result;
is($res->code, 200, 'generate_token from loopback');
my $g = json_body($res, 'generate_token');
like($g->{token}, qr/^[0-9a-f]{64}$/, 'recovery token: 32 random bytes in hex');
is($g->{expires_in_minutes}, 5, 'duration honoured');
is($ua->post($rec => json => { action => 'generate_token', duration => 600 })->result->json->{expires_in_minutes},
    15, 'an out-of-range duration falls back to 15 minutes');
is($stack->psql('SELECT count(*) FROM pulse.recovery_tokens WHERE hash = encode(sha256(' . "'$g->{token}'" . "), 'hex')"),
    1, 'the recovery token is stored by its hash');
is($ua->post($rec => json => { action => 'launch' })->result->code, 400, 'an unknown action is a 400');
json_error_ok($ua->post($rec => json => { action => 7 })->result, 400, 'invalid_field', 'action of the wrong type');

# The recovery token authorises quick-setup: here it creates the first admin (proxy auth is
# configured, so no bootstrap token exists).
my $fresh = $ua->post($rec => json => { action => 'generate_token' })->result->json->{token};
my $api_token = 'recovered-token-' . ('a' x 32);
$res = $ua->post($stack->url('/api/security/quick-setup') => { 'X-Recovery-Token' => $fresh } =>
    json => { username => 'admin', password => 'recovered password!', apiToken => $api_token, force => true })->result;
is($res->code, 200, 'quick-setup with a recovery token') or diag $res->body;
is($ua->get($tokens => { 'X-API-Token' => $api_token })->result->code, 200, 'the recovered credentials work');
$stack->{admin} = { user => 'admin', password => 'recovered password!', token => $api_token };

# Remote clients get 3 recovery requests per 10 minutes; the steps below start afresh.
my $budget = sub { $stack->psql('DELETE FROM pulse.rate_limit_hits') };
$budget->();
my @c = map { $ua->get($rec => $remote)->result->code } 1 .. 4;
is_deeply(\@c, [403, 403, 403, 429], 'recovery: three tries per 10 minutes for a remote client, then 429');
$budget->();

# From a remote client: a valid token opens the endpoint once; generate_token stays local.
my $t1 = $ua->post($rec => json => { action => 'generate_token' })->result->json->{token};
is($ua->get($rec => { %$remote, 'X-Recovery-Token' => $t1 })->result->code, 200, 'status with a token (not consumed)');
$res = $ua->post($rec => { %$remote, 'X-Recovery-Token' => $t1 } => json => { action => 'generate_token' })->result;
json_error_ok($res, 403, 'forbidden', 'generate_token from a remote client, even with a token');
json_error_ok($ua->post($rec => { %$remote, 'X-Recovery-Token' => $t1 } => json => { action => 'disable_auth' })->result,
    403, 'forbidden', 'the token was used up by that attempt');
$budget->();

my $t2 = $ua->post($rec => json => { action => 'generate_token' })->result->json->{token};
$res = $ua->post($rec => { %$remote, 'X-Recovery-Token' => $t2 } => json => { action => 'disable_auth' })->result;
is($res->code, 200, 'disable_auth with a recovery token from a remote client');
is($ua->get($rec)->result->json->{recovery_mode}, true, 'recovery mode on');
$res = $ua->get($tokens)->result;
is($res->code, 200, 'recovery mode: a direct loopback client needs no credentials');
is($res->headers->header('X-Auth-Method'), 'recovery', 'X-Auth-Method: recovery');
json_error_ok($ua->get($tokens => $remote)->result, 401, 'unauthorized', 'recovery mode: a remote client still does');
$budget->();
json_error_ok($ua->post($rec => { %$remote, 'X-Recovery-Token' => $t2 } => json => { action => 'enable_auth' })->result,
    403, 'forbidden', 'the used token cannot be replayed');
my $t3 = $ua->post($rec => json => { action => 'generate_token' })->result->json->{token};
$stack->psql("UPDATE pulse.recovery_tokens SET expires_at = now() - interval '1 second' WHERE hash = encode(sha256('$t3'), 'hex')");
json_error_ok($ua->post($rec => { %$remote, 'X-Recovery-Token' => $t3 } => json => { action => 'enable_auth' })->result,
    403, 'forbidden', 'an expired token is refused');
is($ua->post($rec => json => { action => 'enable_auth' })->result->code, 200, 'enable_auth from loopback');
json_error_ok($ua->get($tokens)->result, 401, 'unauthorized', 'recovery mode off: credentials needed again');
like($stack->psql(q{SELECT string_agg(DISTINCT event, ',') FROM pulse.audit_events WHERE event LIKE 'recovery%'}),
    qr/recovery_disable_auth.*recovery_enable_auth.*recovery_token_generated/, 'recovery actions audited');

# --- proxy authentication ---
my %proxy = ('X-Proxy-Secret' => $secret, 'X-Remote-User' => 'alice', 'X-Remote-Roles' => 'ops | admin');
$res = $ua->get($tokens => \%proxy)->result;
is($res->code, 200, 'proxy: an admin reaches an admin route');
is($res->headers->header('X-Auth-Method'), 'proxy', 'X-Auth-Method: proxy');
is($res->headers->header('X-Authenticated-User'), 'alice', 'X-Authenticated-User from the user header');
# M6: with roles configured, a missing or empty role header fails closed.
json_error_ok($ua->get($tokens => { %proxy, 'X-Remote-Roles' => '' })->result, 403, 'forbidden',
    'M6: proxy: an empty role header is not admin');
{
    my %no_roles = %proxy;
    delete $no_roles{'X-Remote-Roles'};
    json_error_ok($ua->get($tokens => \%no_roles)->result, 403, 'forbidden', 'M6: proxy: no role header is not admin');
    is($ua->post($stack->url('/api/logout') => \%no_roles)->result->code, 200,
        'M6: proxy: a user without roles still reaches a non-admin route');
}
json_error_ok($ua->get($tokens => { %proxy, 'X-Remote-Roles' => 'ops|viewer' })->result, 403, 'forbidden',
    'proxy: a user without the admin role on an admin route');
is($ua->get($tokens => { %proxy, 'X-Remote-Roles' => 'ops|viewer' })->result->json->{error}, 'Admin privileges required',
    'proxy: the message says why');
is($ua->post($stack->url('/api/logout') => { %proxy, 'X-Remote-Roles' => 'ops' })->result->code, 200,
    'proxy: a non-admin reaches a non-admin route');
json_error_ok($ua->get($tokens => { %proxy, 'X-Proxy-Secret' => 'wrong' })->result, 401, 'unauthorized', 'proxy: wrong secret');
json_error_ok($ua->get($tokens => { 'X-Proxy-Secret' => $secret })->result, 401, 'unauthorized', 'proxy: no user header');
is($ua->post($tokens => \%proxy => json => {})->result->code, 200, 'proxy: no CSRF token needed (no session)');
my $st = $ua->get($stack->url('/api/security/status') => { %proxy, 'X-Remote-Roles' => 'ops' })->result->json;
is($st->{hasProxyAuth}, true, 'status: hasProxyAuth');
is($st->{proxyAuthUsername}, 'alice', 'status: proxyAuthUsername');
is($st->{proxyAuthIsAdmin}, false, 'status: proxyAuthIsAdmin');
is($st->{proxyAuthLogoutURL}, 'https://sso.example/logout', 'status: proxyAuthLogoutURL');
ok(!-e $stack->dir . '/data/.bootstrap_token', 'no bootstrap token while proxy auth is configured');

no_secret_in_logs($stack, $secret, $g->{token}, $fresh, $t1, $t2, $t3, $api_token, 'recovered password!');
done_testing;
