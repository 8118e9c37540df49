#!/usr/bin/perl
# 10-setup.t: first run: the bootstrap token the worker writes, security status before and
# after, bootstrap validation, quick-setup and its refusals, and what it records.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Mojo::Promise;
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new->start;
my $ua = $stack->ua;
my $url = sub { $stack->url(shift) };

my $token = $stack->bootstrap_token;
like($token, qr/^[0-9a-f]{48}$/, 'bootstrap token: 24 random bytes in hex');
my $file = $stack->dir . '/data/.bootstrap_token';
is((stat $file)[2] & 07777, 0600, 'bootstrap token file has mode 0600');
is((stat($stack->dir . '/data/.encryption.key'))[2] & 07777, 0600, 'secrets key file has mode 0600');
is($stack->psql(q{SELECT value FROM pulse.security_state WHERE key = 'bootstrap_token_hash'}),
    $stack->sha3_hex($token), 'only the SHA3-256 of the token is in the database');

my $st = json_body($ua->get($url->('/api/security/status'))->result, 'status before setup');
is($st->{requiresAuth}, false, 'status: no auth configured yet');
is($st->{apiTokenConfigured}, false, 'status: no token yet');
like($st->{bootstrapTokenPath} // '', qr{/\.bootstrap_token$}, 'status: bootstrap token path while active');
for my $f (qw(apiTokenHint requiresAuth exportProtected unprotectedExportAllowed hasAuthentication
    configuredButPendingRestart hasAuditLogging credentialsEncrypted hasHTTPS clientIP isPrivateNetwork
    isTrustedNetwork publicAccess hasProxyAuth proxyAuthLogoutURL proxyAuthUsername proxyAuthIsAdmin
    authUsername authLastModified oidcUsername hideLocalLogin agentUrl oidcEnabled oidcIssuer
    oidcClientId oidcLogoutURL)) {
    ok(exists $st->{$f}, "status has $f");
}
is($st->{hasHTTPS}, true, 'status: HTTPS seen through nginx');
is($st->{clientIP}, '127.0.0.1', 'status: client address');

# Before setup nothing but the public paths answers.
json_error_ok($ua->post($url->('/api/logout'))->result, 401, 'unauthorized', 'before setup: protected route');
like($ua->get($url->('/api/security/tokens'))->result->json->{error}, qr/first-run setup/,
    'before setup: the 401 says what to do');

# validate-bootstrap-token
my $vb = $url->('/api/security/validate-bootstrap-token');
is($ua->post($vb => { 'X-Setup-Token' => $token })->result->code, 204, 'valid token in header: 204');
is($ua->post($vb => json => { token => $token })->result->code, 204, 'valid token in body: 204');
is($ua->post($vb => json => { token => " $token\n" })->result->code, 204, 'surrounding whitespace forgiven');
json_error_ok($ua->post($vb => json => { token => 'f' x 48 })->result, 401, 'invalid_bootstrap_token', 'wrong token');
json_error_ok($ua->post($vb => json => {})->result, 400, 'missing_token', 'no token');
json_error_ok($ua->post($vb => json => { token => 12 })->result, 400, 'invalid_field', 'token of the wrong type');
json_error_ok($ua->post($vb => { 'Content-Type' => 'application/json' } => '{"token":')->result, 400, 'invalid_json', 'malformed JSON');

# quick-setup refusals
my $qs = $url->('/api/security/quick-setup');
my %good = (username => 'admin', password => 'a long enough password', apiToken => 'f' x 40);
json_error_ok($ua->post($qs => json => \%good)->result, 401, 'invalid_bootstrap_token', 'setup without the token');
json_error_ok($ua->post($qs => json => { %good, setupToken => 'nope' })->result, 401,
    'invalid_bootstrap_token', 'setup with a wrong token');
json_error_ok($ua->post($qs => { 'X-Setup-Token' => $token } => json => { %good, password => 'short' })->result,
    400, 'invalid_password', 'password under 12 characters');
json_error_ok($ua->post($qs => { 'X-Setup-Token' => $token } => json => { %good, password => 'x' x 73 })->result,
    400, 'invalid_password', 'password over bcrypt\'s 72 bytes');
json_error_ok($ua->post($qs => { 'X-Setup-Token' => $token } => json => { %good, username => '' })->result,
    400, 'missing_fields', 'empty username');
json_error_ok($ua->post($qs => { 'X-Setup-Token' => $token } => json => { %good, username => 'ad min' })->result,
    400, 'invalid_username', 'username with a space');
json_error_ok($ua->post($qs => { 'X-Setup-Token' => $token } => json => { %good, apiToken => 'short' })->result,
    400, 'invalid_token', 'API token too short to be safe');
json_error_ok($ua->post($qs => { 'X-Setup-Token' => $token } => json => { %good, force => 'yes' })->result,
    400, 'invalid_field', 'force of the wrong type');
json_error_ok($ua->post($qs => { 'X-Setup-Token' => $token } => json => [1, 2])->result,
    400, 'invalid_json', 'an array instead of an object');
is($stack->psql('SELECT count(*) FROM pulse.users'), 0, 'nothing was written by the refusals');

# quick-setup for real (setupToken in the body, as the UI sends it), twice at the same
# moment: exactly one wins.
my @tx;
Mojo::Promise->all(map {
    my $pw = $_;
    $ua->post_p($qs => json => { %good, password => $pw, setupToken => $token,
        enableNotifications => false, darkMode => true, force => false })->then(sub { push @tx, shift });
} ($good{password}, 'the other racing password'))->wait;
my @won = grep { $_->result->code == 200 && !$_->result->json->{skipped} } @tx;
is(scalar @won, 1, 'two concurrent first-run setups: exactly one succeeds');
my ($lost) = grep { $_ != $won[0] } @tx;
ok($lost && ($lost->result->code == 409 || $lost->result->code == 401), 'the other is refused (' . ($lost ? $lost->result->code : '?') . ')');
$good{password} = $won[0]->req->json->{password};
my $res = $won[0]->result;
is($res->code, 200, 'quick-setup succeeds');
my $body = json_body($res, 'quick-setup');
is($body->{success}, true, 'quick-setup: success');
is($body->{requiresManualRestart}, false, 'quick-setup: active at once');
like($stack->psql(q{SELECT password_hash FROM pulse.users WHERE username = 'admin'}), qr/^\$2b\$12\$/,
    'password stored as bcrypt cost 12');
is($stack->psql(q{SELECT hash FROM pulse.api_tokens}), $stack->sha3_hex($good{apiToken}),
    'API token stored as its SHA3-256 only');
is($stack->psql(q{SELECT name || ' ' || array_to_string(scopes, ',') FROM pulse.api_tokens}),
    'Primary token *', 'the setup token is the full-access primary token');
ok(!-e $file, 'bootstrap token file removed');
is($stack->psql(q{SELECT count(*) FROM pulse.security_state WHERE key LIKE 'bootstrap%'}), 0,
    'bootstrap token consumed');
is($ua->post($vb => { 'X-Setup-Token' => $token })->result->code, 409, 'the used bootstrap token is gone');

# The token and the password work at once, on any responder.
is($ua->get($url->('/api/security/tokens') => { 'X-API-Token' => $good{apiToken} })->result->code, 200,
    'the new API token works immediately');
$stack->{admin} = { user => 'admin', password => $good{password}, token => $good{apiToken} };
my ($session) = $stack->login;
is($session->get($url->('/api/security/tokens'))->result->code, 200, 'the password works immediately');

$st = json_body($ua->get($url->('/api/security/status') => { 'X-API-Token' => $good{apiToken} })->result, 'status after');
is($st->{requiresAuth}, true, 'status: auth required now');
is($st->{authUsername}, 'admin', 'status: user shown to an authenticated caller');
is($st->{apiTokenHint}, 'ffffff...ffff', 'status: token hint shown to an authenticated caller');
is_deeply($st->{tokenScopes}, ['*'], 'status: scopes of the calling token');
ok(!exists $st->{bootstrapTokenPath}, 'status: no bootstrap path once set up');
$st = json_body($ua->get($url->('/api/security/status'))->result, 'status anonymous');
is($st->{authUsername}, '', 'status: user hidden from an anonymous caller');
is($st->{apiTokenHint}, '', 'status: hint hidden from an anonymous caller');

# A second run is refused unless an admin forces it.
$stack->psql('DELETE FROM pulse.rate_limit_hits');
$res = $ua->post($qs => json => { %good, setupToken => $token })->result;
json_error_ok($res, 401, 'unauthorized', 'second setup without credentials');
$res = $ua->post($qs => { 'X-API-Token' => $good{apiToken} } => json => { %good, password => 'another long password' })->result;
is($res->json->{skipped}, true, 'second setup by an admin without force: skipped');
# The refusals above used up the quick-setup limit (10 a minute per address): start afresh.
$stack->psql('DELETE FROM pulse.rate_limit_hits');
$res = $ua->post($qs => { 'X-API-Token' => $good{apiToken} } =>
    json => { %good, password => 'another long password', apiToken => 'e' x 40, force => true })->result;
is($res->code, 200, 'forced second setup by an admin');
is($stack->psql('SELECT count(*) FROM pulse.api_tokens'), 2, 'forced setup adds a primary token, keeps the others');
is($session->get($url->('/api/security/tokens'))->result->code, 401, 'forced setup ended the old sessions');
$stack->{admin}{password} = 'another long password';
($session) = $stack->login;
pass('the new password logs in');

is($stack->psql(q{SELECT count(*) FROM pulse.audit_events WHERE event = 'setup' AND success}), 2,
    'both setups are in the audit trail');
no_secret_in_logs($stack, $token, $good{apiToken}, $good{password}, 'e' x 40, 'another long password');

done_testing;
