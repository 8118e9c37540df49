#!/usr/bin/perl
# 35-security-auth.t: regression tests for the findings of the first security review that
# concern who a caller is and what it may do (../shared/reviews/security-review-1.md): H1
# (quick-setup force needs what it grants), M1 (CSRF for sessions on quick-setup, JSON
# content type, proxy sign-ins and cross-site requests), M2 (rate classes on the routed
# path, wrong API tokens locked out, the token hint, short setup tokens), M5 (trusted proxies),
# L1 (lockout keys), L3 (audit retention and anonymous rows), L4 (unknown scopes) and the
# Info items on log quoting and mock mode. Each test's description starts with its finding.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Mojo::UserAgent;
use Test::More;
use PulseStack;
use PulseTest;

# Requests from 127.0.0.2 come from the trusted proxy; plain ones from 127.0.0.1 are direct
# loopback clients. Proxy authentication with roles, as an SSO front would send it.
my $secret = 'proxy-secret-for-the-review-tests';
my $stack = PulseStack->new(responders => 2, settings => {
    trusted_proxies => '127.0.0.2',
    proxy_auth_secret => $secret, proxy_auth_user_header => 'X-Remote-User',
    proxy_auth_role_header => 'X-Remote-Roles', proxy_auth_admin_role => 'admins',
})->start;
my $ua = Mojo::UserAgent->new(insecure => 1, max_redirects => 0);
my $proxy_ua = Mojo::UserAgent->new(insecure => 1, max_redirects => 0,
    socket_options => { LocalAddr => '127.0.0.2' });
my $url = sub { $stack->url(shift) };
my $json = { 'Content-Type' => 'application/json' };
my $reset_limits = sub { $stack->psql('DELETE FROM pulse.rate_limit_hits; DELETE FROM pulse.login_failures') };

# Proxy authentication is configured, so first-run setup goes through recovery.
my $rt = $ua->post($url->('/api/security/recovery') => json => { action => 'generate_token' })->result->json->{token};
my $admin = { user => 'admin', password => 'the admin password', token => 'admin-token-' . ('0' x 30) };
is($ua->post($url->('/api/security/quick-setup') => { 'X-Recovery-Token' => $rt } =>
    json => { username => $admin->{user}, password => $admin->{password}, apiToken => $admin->{token} })->result->code,
    200, 'setup through a recovery token');
$stack->{admin} = $admin;
my $adm = { 'X-API-Token' => $admin->{token} };
my $token_with = sub {
    my @scopes = @_;
    my $res = $ua->post($url->('/api/security/tokens') => $adm => json => { name => "@scopes", scopes => \@scopes })->result;
    return $res->json->{token};
};
my $users = sub { $stack->psql('SELECT string_agg(username, \',\') FROM pulse.users') };
my $qs = $url->('/api/security/quick-setup');
my %force = (password => 'a replacement password', force => true);

# --- H1: quick-setup with force needs the privilege it grants -------------------------
{
    my $limited = $token_with->('settings:write');
    my $res = $ua->post($qs => { 'X-API-Token' => $limited } =>
        json => { username => 'mallory', apiToken => 'mallory-wildcard-token-0001', %force })->result;
    my $b = json_error_ok($res, 403, 'missing_scope', 'H1: a settings:write token cannot replace the admin');
    is($b->{requiredScope}, '*', 'H1: requiredScope is *');
    is($users->(), 'admin', 'H1: the admin is unchanged');
    json_error_ok($ua->get($url->('/api/state') => { 'X-API-Token' => 'mallory-wildcard-token-0001' })->result, 401,
        'unauthorized', 'H1: the token it chose was not created');

    my %viewer = ('X-Proxy-Secret' => $secret, 'X-Remote-User' => 'bob', 'X-Remote-Roles' => 'viewers');
    json_error_ok($ua->post($qs => \%viewer => json => { username => 'bob', apiToken => 'bob-wildcard-token-000001', %force })->result,
        403, 'forbidden', 'H1: a proxy user without the admin role cannot replace the admin');
    is($users->(), 'admin', 'H1: the admin is still unchanged');

    my $mon = $token_with->('monitoring:read');
    json_error_ok($ua->post($qs => { 'X-API-Token' => $mon } => json => { username => 'eve', apiToken => 'eve-wildcard-token-0000001', %force })->result,
        403, 'missing_scope', 'H1: a monitoring token neither');

    # A full-access token may (it holds what it grants); the admin comes back after.
    my $res2 = $ua->post($qs => $adm => json => { username => 'admin2', apiToken => 'second-admin-token-000001', %force })->result;
    is($res2->code, 200, 'H1: a * token may replace the admin') or diag $res2->body;
    is($users->(), 'admin2', 'H1: replaced');
    my %admin_proxy = ('X-Proxy-Secret' => $secret, 'X-Remote-User' => 'carol', 'X-Remote-Roles' => 'admins');
    $res2 = $ua->post($qs => \%admin_proxy => json => { username => 'admin', password => $admin->{password},
        apiToken => 'third-admin-token-0000001', force => true })->result;
    is($res2->code, 200, 'H1: a proxy admin may replace the admin') or diag $res2->body;
    is($users->(), 'admin', 'H1: the admin is back');
}

# --- M1: CSRF and the JSON content type ----------------------------------------------
{
    my ($sua, $csrf) = $stack->login;
    my $body = { username => 'admin', password => $admin->{password}, apiToken => 'session-setup-token-00001', force => true };
    json_error_ok($sua->post($qs => { 'X-CSRF-Token' => $csrf, 'Content-Type' => 'text/plain' } =>
        Mojo::JSON::encode_json($body))->result, 415, 'unsupported_media_type',
        'M1: a text/plain body (what a form can send) is refused, even with the CSRF token');
    my $refused = $sua->post($qs => { 'Content-Type' => 'text/plain' } => Mojo::JSON::encode_json($body))->result;
    json_error_ok($refused, 403, 'csrf_failed', 'M1: a session replacing the admin needs the CSRF token (a form cannot send it)');
    $refused = $sua->post($qs => json => $body)->result;
    json_error_ok($refused, 403, 'csrf_failed', 'M1: a JSON body without it neither');
    $csrf = $refused->headers->header('X-CSRF-Token');    # a failed check hands out a new one
    json_error_ok($ua->post($url->('/api/security/tokens') => { %$adm, 'Content-Type' => 'application/x-www-form-urlencoded' } =>
        '{"name":"x"}')->result, 415, 'unsupported_media_type', 'M1: a form content type on any JSON route is a 415');
    json_error_ok($ua->post($url->('/api/login') => { 'Content-Type' => 'text/plain' } => '{"username":"a","password":"b"}')->result,
        415, 'unsupported_media_type', 'M1: login too');
    my $res = $sua->post($qs => { 'X-CSRF-Token' => $csrf } => json => $body)->result;
    is($res->code, 200, 'M1: the session with its CSRF token may') or diag $res->body;
    is($ua->post($url->('/api/security/tokens') => { %$adm, 'Content-Type' => 'application/json; charset=utf-8' } =>
        '{"name":"charset"}')->result->code, 200, 'M1: application/json with parameters is JSON');
    $admin->{token} = 'session-setup-token-00001';
    $adm = { 'X-API-Token' => $admin->{token} };

    # A proxy's SSO cookie signs in whatever the browser sends: changes must come from our
    # own pages, or from no browser at all.
    my %p = ('X-Proxy-Secret' => $secret, 'X-Remote-User' => 'carol', 'X-Remote-Roles' => 'admins');
    my $host = '127.0.0.1:' . $stack->port;
    my $tokens = $url->('/api/security/tokens');
    json_error_ok($ua->post($tokens => { %p, 'Sec-Fetch-Site' => 'cross-site' } => json => {})->result, 403, 'csrf_failed',
        'M1: proxy sign-in: a cross-site request is refused');
    json_error_ok($ua->post($tokens => { %p, 'Sec-Fetch-Site' => 'same-site' } => json => {})->result, 403, 'csrf_failed',
        'M1: proxy sign-in: a same-site one too (another port or subdomain)');
    json_error_ok($ua->post($tokens => { %p, Origin => 'https://pve.example:8006' } => json => {})->result, 403, 'csrf_failed',
        'M1: proxy sign-in: a foreign Origin is refused');
    json_error_ok($ua->post($tokens => { %p, Origin => 'null' } => json => {})->result, 403, 'csrf_failed',
        'M1: proxy sign-in: Origin null is refused');
    is($ua->post($tokens => { %p, 'Sec-Fetch-Site' => 'same-origin', Origin => "https://$host" } => json => {})->result->code, 200,
        'M1: proxy sign-in: our own page may');
    is($ua->post($tokens => { %p, Origin => "https://$host" } => json => {})->result->code, 200,
        'M1: proxy sign-in: our own Origin may');
    is($ua->post($tokens => \%p => json => {})->result->code, 200, 'M1: proxy sign-in: a client that is no browser may');
    is($ua->get($tokens => { %p, 'Sec-Fetch-Site' => 'cross-site' })->result->code, 200, 'M1: proxy sign-in: a read is not a change');
}

# --- M2: rate classes, token lockout, the hint, short setup tokens --------------------
{
    $reset_limits->();
    my $fwd = { 'X-Forwarded-For' => '198.51.100.7' };
    for my $path ('/%61pi/security/recovery', '/api/security/%72ecovery', '/api/security/recovery/') {
        $reset_limits->();
        my @c = map { $proxy_ua->get($stack->base_url . $path => $fwd)->result->code } 1 .. 4;
        is_deeply(\@c, [403, 403, 403, 429], "M2: $path counts in the recovery class (3 per 10 minutes)");
    }
    $reset_limits->();
    my @c = map { $proxy_ua->post($stack->base_url . '/api/%6cogin' => $fwd => json => { username => "u$_", password => 'x' x 12 })->result->code } 1 .. 11;
    is($c[-1], 429, 'M2: /api/%6cogin counts in the auth class');
    $reset_limits->();
    @c = map { $proxy_ua->get($stack->base_url . '/api/nothing/here' => $fwd)->result->code } 1 .. 3;
    is($stack->psql(q{SELECT sum(hits) FROM pulse.rate_limit_hits WHERE bucket = 'general' AND client = '198.51.100.7'}),
        3, 'M2: a path that matches no route counts as general');

    # Wrong API tokens from one address: five, then the address is locked out of tokens
    # (the right token too, even one a responder had cached); other addresses are not.
    $reset_limits->();
    my $good = $token_with->('monitoring:read');
    is($proxy_ua->get($url->('/api/state') => { %$fwd, 'X-API-Token' => $good })->result->code, 200, 'M2: the good token works (and is cached)');
    my @wrong = map { $proxy_ua->get($url->('/api/state') => { %$fwd, 'X-API-Token' => "guess-$_-" . ('g' x 20) })->result->code } 1 .. 5;
    is_deeply(\@wrong, [(401) x 5], 'M2: five wrong tokens are 401s');
    my $res = $proxy_ua->get($url->('/api/state') => { %$fwd, 'X-API-Token' => 'guess-6-' . ('g' x 20) })->result;
    json_error_ok($res, 429, 'too_many_failures', 'M2: the sixth is refused unanswered');
    ok(($res->headers->header('Retry-After') // 0) > 800, 'M2: Retry-After says about 15 minutes');
    my @locked = map { $proxy_ua->get($url->('/api/state') => { %$fwd, 'X-API-Token' => $good })->result->code } 1 .. 6;
    is_deeply(\@locked, [(429) x 6], 'M2: the locked address gets no answer to a right token either, on both responders');
    is($proxy_ua->get($url->('/api/state') => { 'X-Forwarded-For' => '198.51.100.8', 'X-API-Token' => $good })->result->code,
        200, 'M2: another address is not locked');
    is($ua->get($url->('/api/state') => { 'X-API-Token' => $good })->result->code, 200,
        'M2: a direct loopback client is not counted');
    is($stack->psql(q{SELECT count(*) FROM pulse.login_failures WHERE identifier = 'token:198.51.100.7' AND locked_until > now()}),
        1, 'M2: the lock is stored as token:<address>');
    is($ua->post($url->('/api/security/reset-lockout') => $adm => json => { identifier => '198.51.100.7' })->result->code, 200,
        'M2: the operator resets it');
    is($proxy_ua->get($url->('/api/state') => { %$fwd, 'X-API-Token' => $good })->result->code, 200, 'M2: and the address may again');

    # The hint of the primary token: for those who manage tokens only.
    my $status = sub { $ua->get($url->('/api/security/status') => shift)->result->json };
    is($status->({ 'X-API-Token' => $good })->{apiTokenHint}, '', 'M2: a monitoring token sees no token hint');
    like($status->({ 'X-API-Token' => $token_with->('settings:read') })->{apiTokenHint}, qr/^.{6}\.\.\..{4}$/,
        'M2: a settings:read token sees the hint (6 + 4 characters, as the original)');
    is($status->({})->{apiTokenHint}, '', 'M2: an anonymous caller sees none');

    my $short = 'x' x 23;
    my $b = json_error_ok($ua->post($qs => $adm => json => { username => 'admin', password => $admin->{password},
        apiToken => $short, force => true })->result, 400, 'invalid_token', 'M2: an operator-chosen token of 23 characters is refused');
    like($b->{error}, qr/24/, 'M2: the message says 24');
}

# --- M5: the client behind trusted proxies ------------------------------------------
{
    $reset_limits->();
    my $ip = sub { $proxy_ua->get($url->('/api/security/status') => { 'X-Forwarded-For' => shift })->result->json->{clientIP} };
    is($ip->('8.8.8.8, 10.1.1.1'), '10.1.1.1', 'M5: the rightmost address that is no proxy of ours');
    is($ip->('8.8.8.8, 127.0.0.2'), '8.8.8.8', 'M5: our own proxies are skipped');
    is($ip->('garbage, 10.1.1.2'), '10.1.1.2', 'M5: what the client wrote on the left does not matter');
    my $rec = $url->('/api/security/recovery');
    json_error_ok($proxy_ua->get($rec)->result, 403, 'forbidden', 'M5: a trusted proxy on loopback is not a direct loopback client');
    for my $h (qw(CF-Connecting-IP True-Client-IP X-Client-IP X-Original-Forwarded-For)) {
        $reset_limits->();
        json_error_ok($ua->get($rec => { $h => '203.0.113.9' })->result, 403, 'forbidden',
            "M5: a loopback peer forwarding with $h is not direct loopback");
    }
    is($ua->get($rec)->result->code, 200, 'M5: a plain loopback client still is');
}

# --- L1: lockout keys ---------------------------------------------------------------
{
    $reset_limits->();
    my $login = sub {
        my ($from, $user, $pass) = @_;
        $stack->psql(q{DELETE FROM pulse.rate_limit_hits});
        return $proxy_ua->post($url->('/api/login') => { 'X-Forwarded-For' => $from } =>
            json => { username => $user, password => $pass })->result;
    };
    $login->('198.51.100.50', 'admin', 'wrong password here') for 1 .. 5;
    json_error_ok($login->('198.51.100.50', 'admin', $admin->{password}), 403, 'account_locked',
        'L1: five failures lock the admin at that address');
    is($login->('198.51.100.51', 'admin', $admin->{password})->code, 200,
        'L1: the admin is not locked out from everywhere');
    $login->('198.51.100.60', '198.51.100.61', 'wrong password here') for 1 .. 5;
    is($login->('198.51.100.61', 'admin', $admin->{password})->code, 200,
        'L1: a user name that is an address locks no address');
    is($stack->psql(q{SELECT count(*) FROM pulse.login_failures WHERE identifier = 'ip:198.51.100.61'}), 0,
        'L1: and names no address in the table');
    like($stack->psql(q{SELECT string_agg(identifier, ' ' ORDER BY identifier) FROM pulse.login_failures}),
        qr/^ip:198\.51\.100\.50 ip:198\.51\.100\.60 user:198\.51\.100\.50\|admin user:198\.51\.100\.60\|198\.51\.100\.61$/,
        'L1: keys say what they count');
    $login->("2001:db8:7:7::$_", "someone$_", 'wrong password here') for 1 .. 5;
    json_error_ok($login->('2001:db8:7:7::99', 'admin', $admin->{password}), 403, 'account_locked',
        'L1: IPv6 counts per /64: five addresses of one /64 lock it');
    is($login->('2001:db8:7:8::1', 'admin', $admin->{password})->code, 200, 'L1: the next /64 is not locked');
    is($ua->post($url->('/api/security/reset-lockout') => $adm => json => { identifier => 'admin' })->result->code, 200,
        'reset by user name');
    is($stack->psql(q{SELECT count(*) FROM pulse.login_failures WHERE identifier LIKE 'user:%|admin'}), 0,
        'L1: reset by name clears the name at every address');
    is($ua->post($url->('/api/security/reset-lockout') => $adm => json => { identifier => '2001:db8:7:7::1' })->result->code, 200,
        'reset by address');
    is($stack->psql(q{SELECT count(*) FROM pulse.login_failures WHERE identifier LIKE '%2001:db8:7:7::/64%'}), 0,
        'L1: reset by an IPv6 address clears its /64');
}

# --- L3: audit retention, anonymous rows --------------------------------------------
{
    $reset_limits->();
    $stack->psql(q{DELETE FROM pulse.audit_events WHERE client_ip = '198.51.100.70'});
    for my $i (1 .. 25) {
        # Class and login limits and the lockout are cleared each time so that only the
        # audit limit speaks.
        $stack->psql(q{DELETE FROM pulse.rate_limit_hits WHERE bucket <> 'audit_anonymous'; DELETE FROM pulse.login_failures});
        $proxy_ua->post($url->('/api/login') => { 'X-Forwarded-For' => '198.51.100.70' } => json => { username => "nobody$i", password => 'wrong password here' });
    }
    is($stack->psql(q{SELECT count(*) FROM pulse.audit_events WHERE client_ip = '198.51.100.70'}), 20,
        'L3: one anonymous client adds at most 20 audit rows in ten minutes');

    $stack->psql(q{INSERT INTO pulse.audit_events (id, ts, event, success) VALUES
        ('00000000-0000-4000-8000-00000000a001', now() - interval '91 days', 'old', true),
        ('00000000-0000-4000-8000-00000000a002', now() - interval '89 days', 'recent', true)});
    $stack->psql(q{NOTIFY pulse_jobs, 'auth_prune'});
    $stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.audit_events WHERE event = 'old'}) == 0 }, 30,
        'the audit prune', 'worker-1');
    is($stack->psql(q{SELECT count(*) FROM pulse.audit_events WHERE event IN ('old', 'recent')}), 1,
        'L3: events older than audit_retention_days (90) are pruned, younger ones kept');
}

# --- L4: unknown scopes -------------------------------------------------------------
{
    my $raw = 'legacy-token-with-unknown-scope-01';
    my $h = $stack->sha3_hex($raw);
    my $insert = "INSERT INTO pulse.api_tokens (id, name, hash, scopes) VALUES "
        . "('00000000-0000-4000-8000-0000000000c4', 'legacy', '$h', '{audit:read}')";
    ok(!eval { $stack->psql($insert); 1 }, 'L4: the table refuses a scope this version does not know');
    # As a row restored from a newer version would be:
    $stack->psql("ALTER TABLE pulse.api_tokens DROP CONSTRAINT api_tokens_known_scopes; $insert");
    my $st = $ua->get($url->('/api/security/status') => { 'X-API-Token' => $raw })->result->json;
    is_deeply($st->{tokenScopes}, [], 'L4: a token with only unknown scopes holds none (not *)');
    json_error_ok($ua->get($url->('/api/state') => { 'X-API-Token' => $raw })->result, 403, 'missing_scope',
        'L4: and reaches nothing');
    my ($rec) = grep { $_->{name} eq 'legacy' } @{ $ua->get($url->('/api/security/tokens') => $adm)->result->json->{tokens} };
    is_deeply($rec->{scopes}, [], 'L4: the token list shows no scopes for it');
    json_error_ok($ua->post($url->('/api/security/tokens') => $adm => json => { scopes => ['audit:read'] })->result, 400,
        'invalid_scopes', 'L4: an unknown scope is refused at creation');
}

# --- Info: log fields, mock mode ------------------------------------------------------
{
    my $forged = 'x" level=error msg="forged';
    $ua->post($url->('/api/login') => json => { username => $forged, password => 'wrong password here' });
    my $logs = $stack->log_text;
    ok(index($logs, 'user="x\\" level=error msg=\\"forged"') >= 0, 'Info: a quote in a user name is escaped in the log');
    ok($logs !~ /user="x" level=error/, 'Info: no forged field');
    json_error_ok($ua->post($url->('/api/system/mock-mode') => $adm => json => { enabled => false,
        config => { nodeCount => 1000, vmsPerNode => 1000 } })->result, 400, 'invalid_field',
        'Info: mock mode is bounded (a million guests refused)');
}

no_secret_in_logs($stack, $secret, $admin->{password}, $admin->{token}, 'mallory-wildcard-token-0001');
done_testing;
