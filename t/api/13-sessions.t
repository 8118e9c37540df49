#!/usr/bin/perl
# 13-sessions.t: login and logout, session cookies, CSRF on state-changing requests (and a
# token replayed from another session), sliding expiry, expired sessions, lockout after five
# failures and its reset, change-password ending the other sessions, sessions shared by
# responders and surviving their restart, HTTP Basic.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Mojo::UserAgent;
use Mojo::Util qw(b64_encode);
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(responders => 2, settings => { trusted_proxies => '127.0.0.1/32' })->start;
my $admin = $stack->setup_admin;
my $url = sub { $stack->url(shift) };
my $tokens = $url->('/api/security/tokens');

# Login sets the two cookies with the right attributes.
my ($ua, $csrf, $res) = $stack->login;
my @cookies = @{ $res->headers->every_header('Set-Cookie') };
my ($sc) = grep { /^pulse_session=/ } @cookies;
my ($cc) = grep { /^pulse_csrf=/ } @cookies;
like($sc, qr/^pulse_session=[0-9a-f]{64};/, 'session cookie: 32 random bytes in hex');
like($sc, qr/HttpOnly/, 'session cookie: HttpOnly');
like($sc, qr/Secure/, 'session cookie: Secure over HTTPS');
like($sc, qr/SameSite=Lax/, 'session cookie: SameSite=Lax');
like($sc, qr/Max-Age=86400/, 'session cookie: 24 hours');
unlike($cc, qr/HttpOnly/, 'CSRF cookie readable by the UI');
like($csrf, qr/^[A-Za-z0-9_-]{43}=$/, 'CSRF token: 32 bytes, URL-safe base64 with padding');
is(json_body($res, 'login')->{message}, 'Successfully logged in', 'login message');
my ($session_value) = $sc =~ /^pulse_session=([0-9a-f]{64})/;
is($stack->psql("SELECT count(*) FROM pulse.sessions WHERE key_hash = encode(sha256('$session_value'), 'hex')"), 1,
    'the session is stored by its SHA-256 only');
is($res->headers->header('X-Authenticated-User'), undef, 'login itself is public');

is($ua->get($tokens)->result->code, 200, 'the session opens a protected GET');
is($ua->get($tokens)->result->headers->header('X-Auth-Method'), 'session', 'X-Auth-Method: session');

# CSRF: required for a state-changing request made with the session.
$res = $ua->post($tokens => json => { name => 'x' })->result;
json_error_ok($res, 403, 'csrf_failed', 'POST without X-CSRF-Token');
my $fresh = $res->headers->header('X-CSRF-Token');
like($fresh, qr/^[A-Za-z0-9_-]{43}=$/, 'the refusal hands out a new CSRF token');
$res = $ua->post($tokens => { 'X-CSRF-Token' => $csrf } => json => {})->result;
json_error_ok($res, 403, 'csrf_failed', 'the rotated-out token is refused');
$fresh = $res->headers->header('X-CSRF-Token');
is($ua->post($tokens => { 'X-CSRF-Token' => $fresh } => json => { name => 'from session' })->result->code, 200,
    'POST with the current CSRF token');
$csrf = $fresh;

# A token from another session is useless here.
my ($ua2, $csrf2) = $stack->login;
json_error_ok($ua->post($tokens => { 'X-CSRF-Token' => $csrf2 } => json => {})->result, 403, 'csrf_failed',
    "another session's CSRF token is refused");
$csrf = $ua->post($tokens => json => {})->result->headers->header('X-CSRF-Token');
is($ua2->post($tokens => { 'X-CSRF-Token' => $csrf2 } => json => {})->result->code, 200,
    'while it works in its own session');

# An API token on the same request takes precedence: no CSRF needed, scopes apply.
is($ua->post($tokens => $stack->token_headers => json => {})->result->code, 200, 'a token needs no CSRF token');

# Both responders know the session; a restarted responder too (all state in PostgreSQL).
my %codes;
$codes{ $ua->get($tokens)->result->code }++ for 1 .. 10;
is_deeply(\%codes, { 200 => 10 }, 'the session works on both responders');
$stack->stop_program('fcgi-1', 'TERM');
$stack->stop_program('fcgi-2', 'TERM');
$stack->start_responder(1);
$stack->start_responder(2);
is($ua->get($tokens)->result->code, 200, 'the session survives a restart of every responder');

# Sliding expiry: a use moves expires_at forward.
$stack->psql("UPDATE pulse.sessions SET expires_at = now() + interval '1 hour' WHERE key_hash = encode(sha256('$session_value'), 'hex')");
$stack->stop_program('fcgi-1', 'TERM');    # a fresh cache reads the session again
$stack->start_responder(1);
$ua->get($tokens) for 1 .. 4;
ok($stack->psql("SELECT expires_at > now() + interval '23 hours' FROM pulse.sessions WHERE key_hash = encode(sha256('$session_value'), 'hex')") eq 't',
    'using the session slides its expiry to 24 hours ahead');

# An expired session is refused.
my ($ua3) = $stack->login;
my ($v3) = map { /pulse_session=([0-9a-f]+)/ ? $1 : () } map { $_->name . '=' . $_->value } @{ $ua3->cookie_jar->all };
$stack->psql("UPDATE pulse.sessions SET expires_at = now() - interval '1 second' WHERE key_hash = encode(sha256('$v3'), 'hex')");
$stack->psql("UPDATE pulse.sessions SET csrf_hash = csrf_hash WHERE false");    # no-op
json_error_ok($ua3->get($tokens)->result, 401, 'unauthorized', 'an expired session');

# Remember me: 30 days.
my (undef, undef, $rres) = $stack->login(remember => 1);
like(join(' ', @{ $rres->headers->every_header('Set-Cookie') }), qr/Max-Age=2592000/, 'remember me: 30 days');

# Logout ends the session on every responder.
$res = $ua2->post($url->('/api/logout') => { 'X-CSRF-Token' => $csrf2 })->result;
is($res->code, 200, 'logout: 200');
is($res->json->{message}, 'Successfully logged out', 'logout message');
like(join(' ', @{ $res->headers->every_header('Set-Cookie') }), qr/pulse_session=;.*Max-Age=-1/, 'logout clears the cookie');
%codes = ();
$codes{ $ua2->get($tokens, { Cookie => 'x=y' })->result->code }++ for 1 .. 6;
is_deeply(\%codes, { 401 => 6 }, 'the ended session is refused everywhere');

# Lockout: five failures lock the user and the address for 15 minutes. (A fresh agent: no
# session cookie may take precedence over what is tested.)
my $anon = Mojo::UserAgent->new(insecure => 1, max_redirects => 0);
my $login = $url->('/api/login');
my $fwd = { 'X-Forwarded-For' => '203.0.113.7' };
for my $i (1 .. 4) {
    $res = $anon->post($login => $fwd => json => { username => 'admin', password => "wrong password $i" })->result;
    is($res->code, 401, "failure $i: 401");
    is($res->json->{remaining}, 5 - $i, "failure $i: remaining attempts counted down");
}
$res = $anon->post($login => $fwd => json => { username => 'admin', password => 'wrong password 5' })->result;
is($res->json->{locked}, true, 'the fifth failure locks');
$res = $anon->post($login => $fwd => json => { username => 'admin', password => $admin->{password} })->result;
my $b = json_error_ok($res, 403, 'account_locked', 'the right password while locked');
like($b->{lockedUntil}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'lockedUntil in RFC 3339');
ok($b->{remainingMinutes} >= 14 && $b->{remainingMinutes} <= 15, 'about 15 minutes remaining');
# The address is locked too, for another user name.
is($anon->post($login => $fwd => json => { username => 'someone', password => 'x' x 12 })->result->code, 403,
    'the client address is locked as well');
# An admin resets both.
my $rl = $url->('/api/security/reset-lockout');
json_error_ok($anon->post($rl => $stack->token_headers => json => {})->result, 400, 'missing_identifier', 'reset without identifier');
is($anon->post($rl => $stack->token_headers => json => { identifier => 'admin' })->result->json->{message},
    'Lockout reset for admin', 'reset the user');
is($anon->post($rl => $stack->token_headers => json => { identifier => '203.0.113.7' })->result->code, 200, 'reset the address');
is($anon->post($login => $fwd => json => { username => 'admin', password => $admin->{password} })->result->code,
    200, 'login works again after the reset');
$anon = Mojo::UserAgent->new(insecure => 1, max_redirects => 0);
is($stack->psql(q{SELECT count(*) FROM pulse.audit_events WHERE event = 'lockout_reset'}), 2, 'resets audited');
is($stack->psql(q{SELECT count(*) FROM pulse.audit_events WHERE event = 'login' AND NOT success}) >= 5 ? 1 : 0, 1,
    'failed logins audited');

# HTTP Basic for the local admin; failures count toward the lockout.
my $basic = 'Basic ' . b64_encode("admin:$admin->{password}", '');
$res = $anon->get($tokens => { Authorization => $basic })->result;
is($res->code, 200, 'HTTP Basic with the admin password');
is($res->headers->header('X-Auth-Method'), 'basic', 'X-Auth-Method: basic');
ok(!grep({ /pulse_session/ } @{ $res->headers->every_header('Set-Cookie') }), 'Basic creates no session');
json_error_ok($anon->get($tokens => { Authorization => 'Basic ' . b64_encode('admin:nope', '') })->result,
    401, 'unauthorized', 'Basic with a wrong password');
json_error_ok($anon->get($tokens => { Authorization => 'Basic !!!' })->result, 401, 'unauthorized', 'Basic garbage');

# Change password: validates, then ends every other session but the caller's.
my ($ua4, $csrf4) = $stack->login;
my ($ua5) = $stack->login;
my $cp = $url->('/api/security/change-password');
json_error_ok($ua4->post($cp => { 'X-CSRF-Token' => $csrf4 } => json => { currentPassword => $admin->{password}, newPassword => 'short' })->result,
    400, 'invalid_password', 'new password too short');
json_error_ok($ua4->post($cp => { 'X-CSRF-Token' => $csrf4 } => json => { newPassword => 'a new long password' })->result,
    401, 'unauthorized', 'current password missing');
json_error_ok($ua4->post($cp => { 'X-CSRF-Token' => $csrf4 } => json => { currentPassword => 'wrong wrong wrong', newPassword => 'a new long password' })->result,
    401, 'unauthorized', 'current password wrong');
$stack->psql('DELETE FROM pulse.rate_limit_hits');    # loopback behind a trusted proxy counts (M5)
$stack->ua->post($rl => $stack->token_headers => json => { identifier => $_ }) for 'admin', '127.0.0.1';
$res = $ua4->post($cp => { 'X-CSRF-Token' => $csrf4 } => json => { currentPassword => $admin->{password}, newPassword => 'a new long password' })->result;
is($res->code, 200, 'password changed') or diag $res->body;
is($ua4->get($tokens)->result->code, 200, 'the caller keeps its session');
is($ua5->get($tokens)->result->code, 401, 'other sessions are ended');
is($ua->get($tokens)->result->code, 401, 'older sessions are ended too');
my $old = $admin->{password};
$admin->{password} = 'a new long password';
my ($ua6) = $stack->login;
pass('the new password logs in');
is($stack->ua->post($login => json => { username => 'admin', password => $old })->result->code, 401, 'the old one does not');

no_secret_in_logs($stack, $admin->{token}, $old, $admin->{password}, $session_value, $csrf, $csrf2, $fresh);
done_testing;
