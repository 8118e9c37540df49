#!/usr/bin/perl
# 49-notify-config.t: the notification configuration endpoints (alerts-notifications.md §9):
# email, apprise and webhook configuration round trips with their secrets never answered
# and kept when the mask is sent back, the limits, bad input, the templates, providers,
# history and health answers, the system settings update, credentials and scopes.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false encode_json);
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $json = { %$auth, 'Content-Type' => 'application/json' };
my $u = sub { $stack->url("/api/notifications/$_[0]") };
my @answers;    # every answer body, searched for secrets at the end
my $get = sub { my $r = $ua->get($u->($_[0]) => $auth)->result; push @answers, $r->body; $r };
my $send = sub {
    my ($method, $path, $body) = @_;
    my $r = $ua->build_tx($method => $u->($path) => $json => ref $body ? encode_json($body) : $body);
    $r = $ua->start($r)->result;
    push @answers, $r->body;
    return $r;
};
# The stored configuration of a channel, opened with the secrets key (python3-cryptography),
# or undef when that is not installed.
my $have_aead = !system(q{python3 -c 'import cryptography.hazmat.primitives.ciphers.aead' 2>/dev/null});
sub stored_config {
    my ($where) = @_;
    return undef unless $have_aead;
    my $sealed = $stack->psql("SELECT config FROM pulse.notification_channels WHERE $where");
    my $key = $stack->dir . '/data/.encryption.key';
    my $py = 'import sys,base64;from cryptography.hazmat.primitives.ciphers.aead import AESGCM;'
        . 'k=base64.b64decode(open(sys.argv[1]).read().strip());b=base64.b64decode(sys.argv[2][7:]);'
        . 'print(AESGCM(k).decrypt(b[:12],b[12:],b"notification_channels.config").decode())';
    open my $fh, '-|', 'python3', '-c', $py, $key, $sealed or die "python3: $!";
    local $/;
    my $text = <$fh>;
    close $fh;
    return Mojo::JSON::decode_json($text);
}
sub stored_is {
    my ($where, $path, $want, $name) = @_;
    SKIP: {
        skip 'python3-cryptography is not installed', 1 unless $have_aead;
        my $v = stored_config($where);
        $v = $v->{$_} for @$path;
        is_deeply($v, $want, $name);
    }
}
my $rows = sub { $stack->psql("SELECT count(*) FROM pulse.notification_channels WHERE kind = '$_[0]'") };

# --- email ---
my $res = $get->('email');
is($res->code, 200, 'GET email on a fresh install');
is_deeply(json_body($res, 'email defaults'), { enabled => false, provider => '', server => '', port => 587,
    username => '', password => '', from => '', to => [], tls => true, startTLS => false }, 'email defaults');
my %email = (enabled => true, provider => 'Custom SMTP Server', server => 'smtp.example.org', port => 2525,
    username => 'mailer', password => 'smtp-secret-7f3a', from => 'pulse@example.org', to => ['ops@example.org'],
    tls => false, startTLS => true);
$res = $send->(PUT => 'email', \%email);
is($res->code, 200, 'PUT email') or diag $res->body;
is_deeply(json_body($res, 'PUT email'), { status => 'success' }, 'PUT email answer');
my $e = json_body($get->('email'), 'GET email');
is_deeply($e, { %email, password => '' }, 'email round trip, password ""');
is($rows->('email'), 1, 'one email row');
like($stack->psql("SELECT config FROM pulse.notification_channels WHERE kind = 'email'"), qr/^enc:v1:/, 'sealed');
is($stack->psql("SELECT enabled FROM pulse.notification_channels WHERE kind = 'email'"), 't', 'enabled in clear');
stored_is("kind = 'email'", ['password'], 'smtp-secret-7f3a', 'the password stored');
$res = $send->(PUT => 'email', { %email, password => '', server => 'smtp2.example.org' });
is($res->code, 200, 'PUT email with an empty password');
is(json_body($get->('email'), 'GET')->{server}, 'smtp2.example.org', 'server changed');
stored_is("kind = 'email'", ['password'], 'smtp-secret-7f3a', 'an empty password keeps the stored one');

# --- apprise ---
is_deeply(json_body($get->('apprise'), 'apprise defaults'), { enabled => false, mode => 'cli', targets => [],
    cliPath => 'apprise', timeoutSeconds => 15, serverUrl => '', configKey => '', apiKey => '',
    apiKeyHeader => 'X-API-KEY', skipTlsVerify => false }, 'apprise defaults');
$res = $send->(PUT => 'apprise', { enabled => true, mode => 'HTTP', targets => [' tgram://a/b ', 'TGRAM://A/B', ''],
    serverUrl => 'https://apprise.example.org/', apiKey => 'apprise-key-91b2', timeoutSeconds => 500 });
is($res->code, 200, 'PUT apprise') or diag $res->body;
my $a = json_body($res, 'PUT apprise');
is($a->{mode}, 'http', 'mode normalised');
is_deeply($a->{targets}, ['tgram://a/b'], 'targets trimmed and de-duplicated');
is($a->{timeoutSeconds}, 120, 'timeout clamped');
is($a->{serverUrl}, 'https://apprise.example.org', 'trailing / removed');
is($a->{apiKey}, '***REDACTED***', 'PUT answer masks apiKey (QUIRK 11)');
is($a->{enabled}, true, 'enabled');
is_deeply(json_body($get->('apprise'), 'GET apprise'), $a, 'GET = PUT answer');
$res = $send->(PUT => 'apprise', $a);
is($res->code, 200, 'the masked answer PUT back');
stored_is("kind = 'apprise'", ['apiKey'], 'apprise-key-91b2', 'the masked key sent back keeps the stored one');
$res = $send->(PUT => 'apprise', { enabled => true, mode => 'cli', targets => [] });
is(json_body($res, 'cli without targets')->{enabled}, false, 'cli without targets is disabled');

# --- webhooks ---
is_deeply(json_body($get->('webhooks'), 'no webhooks'), [], 'no webhooks: []');
my %hook = (name => 'ops slack', url => 'https://198.51.100.10/services/T0/B0/tok', service => 'slack',
    enabled => true, headers => { Authorization => 'Bearer hook-secret-55c1' },
    customFields => { channel => 'field-secret-2d0e' }, template => '');
$res = $send->(POST => 'webhooks', \%hook);
is($res->code, 200, 'POST webhook') or diag $res->body;
my $w = json_body($res, 'POST webhook');
like($w->{id}, qr/^webhook-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'id webhook-<uuid4>');
is($w->{method}, 'POST', 'method default POST');
is_deeply($w->{headers}, { Authorization => '***REDACTED***' }, 'headers masked in the answer');
is_deeply($w->{customFields}, { channel => '***REDACTED***' }, 'custom fields masked');
ok(!exists $w->{template}, 'empty template left out');
$res = $send->(POST => 'webhooks', { name => 'second', url => 'http://198.51.100.11:8080/in', method => 'put',
    id => 'my-hook' });
is($res->code, 200, 'POST a webhook with its own id');
is(json_body($res, 'second')->{id}, 'my-hook', 'own id kept');
json_error_ok($send->(POST => 'webhooks', { name => 'dup', url => 'https://198.51.100.12/', id => 'my-hook' }), 400,
    'invalid_field', 'an id that exists');
my $list = json_body($get->('webhooks'), 'list');
is_deeply([map { $_->{id} } @$list], [$w->{id}, 'my-hook'], 'list in creation order');
is($list->[1]{method}, 'PUT', 'method upper-cased');
is($stack->psql("SELECT name || '/' || service || '/' || enabled FROM pulse.notification_channels WHERE id = '$w->{id}'"),
    'ops slack/slack/true', 'name, service and enabled in clear');
# PUT with the masked maps keeps the stored ones; the id of the path wins.
$res = $send->(PUT => "webhooks/$w->{id}", { %$w, id => 'elsewhere', name => 'ops slack 2' });
is($res->code, 200, 'PUT the list item back') or diag $res->body;
my $w2 = json_body($res, 'PUT webhook');
is($w2->{id}, $w->{id}, 'id kept');
is($w2->{name}, 'ops slack 2', 'name changed');
is_deeply($w2->{headers}, { Authorization => '***REDACTED***' }, 'headers still there');
stored_is("id = '$w->{id}'", ['headers'], { Authorization => 'Bearer hook-secret-55c1' }, 'stored headers kept');
stored_is("id = '$w->{id}'", ['customFields'], { channel => 'field-secret-2d0e' }, 'stored custom fields kept');
$res = $send->(PUT => "webhooks/$w->{id}", { %hook, headers => {}, customFields => {} });
ok(!exists json_body($res, 'cleared')->{headers}, 'empty headers clear them');
json_error_ok($send->(PUT => 'webhooks/no-such-hook', \%hook), 404, 'not_found', 'PUT an unknown id');
json_error_ok($send->(DELETE => 'webhooks/no-such-hook', ''), 404, 'not_found', 'DELETE an unknown id');
$res = $send->(DELETE => 'webhooks/my-hook', '');
is($res->code, 200, 'DELETE');
is_deeply(json_body($res, 'DELETE'), { status => 'success' }, 'DELETE answer');
is($rows->('webhook'), 1, 'one webhook left');

# Bad webhooks: 400 with a message, nothing written.
for my $b (
    [{ url => 'ftp://198.51.100.12/' }, qr/^Invalid webhook URL: URL scheme/, 'ftp'],
    [{ url => 'https://user:pw@198.51.100.12/' }, qr/^Invalid webhook URL: .*user/, 'user information'],
    [{ url => '' }, qr/^Invalid webhook URL/, 'empty URL'],
    [{ url => 'https://198.51.100.12/' . ('a' x 2048) }, qr/url is longer/, 'URL over 2048'],
    [{ url => 'https://198.51.100.12/', name => 'n' x 201 }, qr/name is longer/, 'name over 200'],
    [{ url => 'https://198.51.100.12/', method => 'DELETE' }, qr/method/, 'method DELETE'],
    [{ url => 'https://198.51.100.12/', headers => { 'X-A' => "a\r\nX-B: b" } }, qr/CR or LF/, 'CR LF in a header'],
    [{ url => 'https://198.51.100.12/', headers => { map { ("H$_" => 'v') } 1 .. 51 } }, qr/more than 50/, '51 headers'],
    [{ url => 'https://198.51.100.12/', template => 'x' x (32 * 1024 + 1) }, qr/template is longer/, 'template over 32 KiB'],
    [{ url => 'https://198.51.100.12/', enabled => 'yes' }, qr/enabled must be a boolean/, 'enabled as a string'],
    [{ url => 'https://198.51.100.12/', headers => ['a'] }, qr/headers must be an object/, 'headers as an array'],
    [{ url => 'https://198.51.100.12/', id => '../x' }, qr/id may hold/, 'a path in the id'],
    # the address rules of §8.3 at create (no allowlist yet)
    [{ url => 'http://10.1.2.3:8080/in' }, qr/^Invalid webhook URL: resolves to private IP 10\.1\.2\.3/, 'private target'],
    [{ url => 'http://127.0.0.1:9/' }, qr/^Invalid webhook URL: /, 'loopback target'],
    [{ url => 'http://localhost:9/' }, qr/^Invalid webhook URL: /, 'localhost'],
    [{ url => 'http://169.254.169.254/latest/meta-data' }, qr/^Invalid webhook URL: /, 'cloud metadata'],
    [{ url => 'https://no-such-host.invalid/' }, qr/^Invalid webhook URL: failed to resolve/, 'a name that does not resolve'],
) {
    my ($body, $re, $name) = @$b;
    my $err = json_error_ok($send->(POST => 'webhooks', $body), 400, 'invalid_field', $name);
    like($err->{error} // '', $re, "$name: $err->{error}");
}
is($rows->('webhook'), 1, 'nothing written by bad webhooks');
for my $n (2 .. 50) {
    $send->(POST => 'webhooks', { name => "h$n", url => "https://198.51.100.$n/" })->code == 200 or fail("webhook $n");
}
is($rows->('webhook'), 50, '50 webhooks');
like(json_error_ok($send->(POST => 'webhooks', { url => 'https://198.51.100.51/' }), 400, 'invalid_field',
    'the 51st webhook')->{error}, qr/at most 50/, 'at most 50');

# Malformed and oversized bodies, wrong types: 4xx JSON.
json_error_ok($send->(PUT => 'email', '{"enabled":'), 400, 'invalid_json', 'email: malformed JSON');
is($send->(PUT => 'email', '[1]')->code, 400, 'email: an array is 400');
json_error_ok($send->(PUT => 'email', '{"port":"587"}'), 400, 'invalid_field', 'email: port as a string');
json_error_ok($send->(PUT => 'email', '{"to":"a@b"}'), 400, 'invalid_field', 'email: to as a string');
json_error_ok($send->(PUT => 'email', '{"from":"a@b\\r\\nBcc: c@d"}'), 400, 'invalid_field', 'email: CR LF in from');
json_error_ok($send->(PUT => 'apprise', '{"targets":{"a":1}}'), 400, 'invalid_field', 'apprise: targets object');
json_error_ok($send->(PUT => 'apprise', '{"timeoutSeconds":1.5}'), 400, 'invalid_field', 'apprise: fractional timeout');
json_error_ok($send->(PUT => 'email', '{"provider":"' . ('x' x (32 * 1024)) . '"}'), 413, 'payload_too_large',
    'email: over 32 KiB');
json_error_ok($send->(PUT => 'apprise', '{"configKey":"' . ('x' x (64 * 1024)) . '"}'), 413, 'payload_too_large',
    'apprise: over 64 KiB');
json_error_ok($send->(POST => 'webhooks', '{"url":"' . ('x' x (64 * 1024)) . '"}'), 413, 'payload_too_large',
    'webhooks: over 64 KiB');

# --- templates, providers ---
my $t = json_body($get->('webhook-templates'), 'templates');
is_deeply([map { $_->{service} } @$t], [qw(discord telegram slack teams pagerduty teams-adaptive pushover gotify ntfy
    generic)], 'templates in the original order');
ok(!(grep { !length $_->{instructions} || $_->{method} ne 'POST' || ref $_->{headers} ne 'HASH' } @$t),
    'each with instructions, POST and headers');
my ($pd) = grep { $_->{service} eq 'pagerduty' } @$t;
is($pd->{headers}{Accept}, 'application/vnd.pagerduty+json;version=2', 'PagerDuty Accept header');
my $p = json_body($get->('email-providers'), 'providers');
is(scalar @$p, 11, 'eleven providers');
is($p->[0]{smtpHost}, 'smtp.gmail.com', 'Gmail first');
ok(!(grep { $_->{smtpPort} != 587 || $_->{tls} || !$_->{startTLS} || !$_->{authRequired} || !length $_->{instructions} }
    @$p), 'all 587 STARTTLS with instructions');

# --- history (QUIRK 8: from the delivery log) and health ---
is_deeply(json_body($get->('webhook-history'), 'history'), [], 'no deliveries: []');
$stack->psql(qq{INSERT INTO pulse.notification_deliveries (notification_id, delivery_key, type, channel_id,
    channel_name, target, alert_ids, attempt, success, status_code, error, payload_bytes)
    VALUES ('n1', 'k1', 'webhook', '$w->{id}', 'ops slack', 'https://api.telegram.org/bot123:SECRET/sendMessage?token=tok-9',
    '{a1}', 2, false, 500, 'webhook returned HTTP 500', 321),
    ('n2', 'k2', 'email', '', 'email', 'smtp', '{a2}', 1, true, NULL, NULL, 10)});
my $h = json_body($get->('webhook-history'), 'history');
is(scalar @$h, 1, 'one webhook delivery (email left out)');
is($h->[0]{webhookUrl}, 'https://api.telegram.org/botREDACTED/sendMessage?token=REDACTED', 'URL redacted');
is_deeply([@{ $h->[0] }{qw(webhookName service alertId statusCode success retryAttempts payloadSize errorMessage)}],
    ['ops slack', 'slack', 'a1', 500, false, 1, 321, 'webhook returned HTTP 500'], 'history fields');
like($h->[0]{timestamp}, qr/^\d{4}-\d\d-\d\dT/, 'timestamp RFC 3339');
$stack->psql(q{INSERT INTO pulse.notification_queue (id, type, status, alerts, config)
    VALUES ('q1', 'webhook', 'pending', '[]', 'enc:v1:x'), ('q2', 'email', 'dlq', '[]', 'enc:v1:x')});
my $health = json_body($get->('health'), 'health');
is_deeply($health, { queue => { pending => 1, sending => 0, sent => 0, failed => 0, dlq => 1, healthy => true },
    email => { enabled => true, configured => true }, webhooks => { total => 50, enabled => 1 },
    encryption => { enabled => true }, overall_healthy => true }, 'health');

# --- system settings ---
my $set = $stack->url('/api/system/settings/update');
my $setting = sub { $stack->psql("SELECT value #>> '{}' FROM pulse.system_settings WHERE key = '$_[0]'") };
# The public URL is learnt from the first authenticated request with a usable Host (§8.5):
# never from a loopback host nor from a request without credentials.
is($setting->('publicURL'), '', 'no public URL stored so far (every request came to 127.0.0.1)');
$ua->get($u->('email') => { %$auth, Host => 'localhost:7655' })->result;
$ua->get($u->('email') => { Host => 'intruder.example' })->result;
is($setting->('publicURL'), '', 'not learnt from localhost, nor without credentials');
is($ua->get($u->('email') => { %$auth, Host => 'pulse.example.net:8443' })->result->code, 200,
    'an authenticated request through a real name');
is($setting->('publicURL'), 'https://pulse.example.net:8443', 'the public URL learnt from it');
$ua->get($u->('email') => { %$auth, Host => 'other.example' })->result;
is($setting->('publicURL'), 'https://pulse.example.net:8443', 'the first one stays');
$res = $ua->post($set => $json => encode_json({ webhookAllowedPrivateCIDRs => ' 10.0.0.0/8, 192.168.1.5 ,fd00::/8',
    publicURL => 'https://pulse.example.org/', theme => 'dark', pollingInterval => 10 }))->result;
is($res->code, 200, 'settings update') or diag $res->body;
is_deeply(json_body($res, 'settings'), { success => true }, 'answer {"success":true}');
is($setting->('webhookAllowedPrivateCIDRs'), '10.0.0.0/8,192.168.1.5,fd00::/8', 'CIDRs stored, trimmed');
is($setting->('publicURL'), 'https://pulse.example.org', 'publicURL stored without the trailing /');
# A private target inside the allowlist is accepted at update (and create); outside, refused.
my ($some) = map { $_->{id} } grep { $_->{name} eq 'h2' } @{ json_body($get->('webhooks'), 'list') };
is($send->(PUT => "webhooks/$some", { name => 'h2', url => 'http://10.1.2.3:8080/in' })->code, 200,
    'a private target inside the allowlist accepted');
like(json_error_ok($send->(PUT => "webhooks/$some", { name => 'h2', url => 'http://172.16.0.9/in' }), 400,
    'invalid_field', 'a private target outside the allowlist')->{error},
    qr/^Invalid webhook URL: resolves to private IP 172\.16\.0\.9/, 'says why');
json_error_ok($send->(PUT => "webhooks/$some", { name => 'h2', url => 'http://169.254.169.254/' }), 400,
    'invalid_field', 'link-local never, whatever the allowlist');
is($stack->psql("SELECT string_agg(key, ',' ORDER BY key) FROM pulse.system_settings"),
    'publicURL,theme,webhookAllowedPrivateCIDRs', 'theme stored (a system setting), the unknown key ignored');
my $err = json_error_ok($ua->post($set => $json => encode_json({ webhookAllowedPrivateCIDRs => '10.0.0.0/8,bogus' }))
    ->result, 400, 'invalid_field', 'an invalid CIDR');
is($err->{error}, 'Invalid webhook allowed private CIDRs: bogus', 'the invalid entry named');
json_error_ok($ua->post($set => $json => encode_json({ publicURL => 'ftp://x' }))->result, 400, 'invalid_field',
    'publicURL ftp');
json_error_ok($ua->post($set => $json => encode_json({ publicURL => 5 }))->result, 400, 'invalid_field',
    'publicURL a number');
json_error_ok($ua->post($set => $json => '{"x":')->result, 400, 'invalid_json', 'settings: malformed');
is($setting->('webhookAllowedPrivateCIDRs'), '10.0.0.0/8,192.168.1.5,fd00::/8', 'nothing written by bad input');
is($ua->post($set => $json => encode_json({ webhookAllowedPrivateCIDRs => '' }))->result->code, 200, 'empty clears');
is($stack->psql("SELECT count(*) FROM pulse.system_settings WHERE key = 'webhookAllowedPrivateCIDRs'"), 0, 'cleared');
json_error_ok($send->(PUT => "webhooks/$some", { name => 'h2', url => 'http://10.1.2.3:8080/in' }), 400,
    'invalid_field', 'the same private target refused once the allowlist is cleared');

# --- credentials and scopes ---
json_error_ok($ua->get($u->('email'))->result, 401, 'unauthorized', 'GET email without credentials');
json_error_ok($ua->put($u->('webhooks/x') => { 'Content-Type' => 'application/json' } => '{}')->result, 401,
    'unauthorized', 'PUT webhook without credentials');
my %tok;
for my $scope (qw(monitoring:read settings:read settings:write)) {
    $tok{$scope} = $ua->post($stack->url('/api/security/tokens') => $auth =>
        json => { name => "notify $scope", scopes => [$scope] })->result->json->{token};
}
for my $path (qw(email apprise webhooks webhook-templates email-providers webhook-history health)) {
    is(json_error_ok($ua->get($u->($path) => { 'X-API-Token' => $tok{'monitoring:read'} })->result, 403,
        'missing_scope', "GET $path with monitoring:read")->{requiredScope}, 'settings:read', "$path: settings:read");
    is($ua->get($u->($path) => { 'X-API-Token' => $tok{'settings:read'} })->result->code, 200,
        "GET $path with settings:read");
}
my $ro = { 'X-API-Token' => $tok{'settings:read'}, 'Content-Type' => 'application/json' };
is($ua->get($u->('email') => $ro)->result->code, 200, 'settings:read reads');
is(json_error_ok($ua->put($u->('email') => $ro => '{}')->result, 403, 'missing_scope', 'PUT email with settings:read')
    ->{requiredScope}, 'settings:write', 'settings:write needed');
json_error_ok($ua->post($u->('webhooks') => $ro => '{}')->result, 403, 'missing_scope', 'POST webhook, settings:read');
json_error_ok($ua->delete($u->("webhooks/$w->{id}") => $ro)->result, 403, 'missing_scope', 'DELETE, settings:read');
json_error_ok($ua->post($set => $ro => '{}')->result, 403, 'missing_scope', 'settings update, settings:read');
my ($sua) = $stack->login;
is($sua->get($u->('webhooks'))->result->code, 200, 'a session reads');
json_error_ok($sua->put($u->('email') => { 'Content-Type' => 'application/json' } => '{}')->result, 403, 'csrf_failed',
    'a session writes only with its CSRF token');

# --- no secret in any answer, nor in the logs ---
for my $secret (qw(smtp-secret-7f3a apprise-key-91b2 hook-secret-55c1 field-secret-2d0e SECRET tok-9)) {
    ok(!(grep { index($_, $secret) >= 0 } @answers), "no answer holds $secret");
    ok(index($stack->log_text, $secret) < 0, "no log holds $secret") if $secret =~ /-/;
}
ok(!(grep { index($stack->psql("SELECT string_agg(config, '') FROM pulse.notification_channels"), $_) >= 0 }
    qw(smtp-secret-7f3a hook-secret-55c1)), 'the table holds no secret in clear');

done_testing;
