#!/usr/bin/perl
# 48-notify-email.t: POST /api/notifications/test with a supplied configuration: email
# delivered to a real SMTP server (t/fakes/smtp-sink.py) in plain, STARTTLS (test CA
# trusted through smtp_ca_file) and implicit-TLS modes, with and without AUTH; a wrong
# password, a refusing server, an untrusted certificate; apprise through Debian's apprise
# program (CLI mode, json:// target) and against a fake apprise API (HTTP mode); bad input,
# missing credentials and scope.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false decode_json);
use Test::More;
use PulseStack;
use PulseTest;
use SmtpSink;

my $stack = PulseStack->new;
my $sink = SmtpSink->new(dir => $stack->dir . '/smtp', name => 'smtp');
my $stranger = SmtpSink->new(dir => $stack->dir . '/smtp-untrusted', name => 'untrusted');
$stack->{settings}{smtp_ca_file} = $sink->ca_file;
$stack->start;
$stack->setup_admin;
$sink->start($stack);
$stranger->start($stack);

my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $url = $stack->url('/api/notifications/test');
my $json = { %$auth, 'Content-Type' => 'application/json' };

my %base = (enabled => true, server => '127.0.0.1', from => 'pulse@example.org',
    to => ['ops@example.org', 'oncall@example.org'], tls => false, startTLS => false);
sub email_test {
    my (%cfg) = @_;
    return $ua->post($url => $json => json => { method => 'email', config => { %base, %cfg } })->result;
}

# Plain SMTP, no AUTH: the message arrives whole.
my $res = email_test(port => $sink->plain_port);
is($res->code, 200, 'plain: sent') or diag $res->body;
is_deeply(json_body($res, 'plain'), { status => 'success', message => 'Test notification sent' },
    'plain: the original answer');
my ($m) = $sink->wait_messages(1);
ok($m, 'plain: a message arrived');
is($m->{mail_from}, 'pulse@example.org', 'MAIL FROM');
is_deeply($m->{rcpt_tos}, ['ops@example.org', 'oncall@example.org'], 'RCPT per recipient');
is($m->{auth_user}, undef, 'no AUTH without a password');
my $p = SmtpSink::parse_message($m->{data});
my $h = $p->{headers};
is($h->{from}, 'pulse@example.org', 'From');
is($h->{to}, 'ops@example.org, oncall@example.org', 'To');
is($h->{subject}, '[Pulse Alert] Warning: CPU on Email Configuration Test', 'Subject');
like($h->{date} // '', qr/^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000$/, 'Date, RFC 5322');
like($h->{'message-id'} // '', qr/^<\d+\.[0-9a-f]+\@pulse-monitoring>$/, 'Message-ID');
is($h->{'mime-version'}, '1.0', 'MIME-Version');
is($h->{'x-mailer'}, 'Pulse Monitoring System', 'X-Mailer');
like($h->{'content-type'}, qr{^multipart/alternative; boundary=}, 'multipart/alternative');
is_deeply([map { $_->{type} } @{ $p->{parts} }], ['text/plain', 'text/html'], 'text then HTML');
my ($text, $html) = map { $_->{body} } @{ $p->{parts} };
like($text, qr/Email Configuration Test \(test-alert\)/, 'text names the resource');
like($text, qr/Value: 85\.5% \(threshold 80%\)/, 'text value and threshold');
like($html, qr{<table}, 'HTML table');
like($html, qr{<td>85\.5% \(80%\)</td>}, 'HTML value');
like($p->{parts}[0]{head}, qr/charset=UTF-8/, 'UTF-8 declared');
$sink->clear;

# STARTTLS with the test CA trusted (smtp_ca_file), and AUTH.
$res = email_test(port => $sink->starttls_port, startTLS => true, username => $SmtpSink::USER,
    password => $SmtpSink::PASSWORD);
is($res->code, 200, 'STARTTLS + AUTH: sent') or diag $res->body;
($m) = $sink->wait_messages(1);
is($m->{port}, 'starttls', 'STARTTLS: came through the STARTTLS port');
is($m->{auth_user}, $SmtpSink::USER, 'STARTTLS: authenticated');
$sink->clear;

# Implicit TLS (tls true), and the recipients default to From.
$res = email_test(port => $sink->tls_port, tls => true, to => []);
is($res->code, 200, 'implicit TLS: sent') or diag $res->body;
($m) = $sink->wait_messages(1);
is($m->{port}, 'tls', 'implicit TLS port');
is_deeply($m->{rcpt_tos}, ['pulse@example.org'], 'no recipient: sent to From');
is(SmtpSink::parse_message($m->{data})->{headers}{to}, 'pulse@example.org', 'To is From');
$sink->clear;

# A wrong password: 400 with the server's words and never the password.
my $wrong = 'Wrong-Passw0rd-xyz';
$res = email_test(port => $sink->starttls_port, startTLS => true, username => $SmtpSink::USER,
    password => $wrong);
my $e = json_error_ok($res, 400, 'notification_failed', 'wrong password');
like($e->{error}, qr/^failed to send email: .*(Login denied|535)/, "says so: $e->{error}");
unlike($res->body, qr/\Q$wrong\E/, 'no password in the answer');

# The server refuses: 5xx at once, 4xx retried (then accepted).
$sink->refuse(5, 550);
$e = json_error_ok(email_test(port => $sink->plain_port), 400, 'notification_failed', '550 refusal');
like($e->{error}, qr/550/, "the SMTP code shows: $e->{error}");
$sink->refuse(0, 550);
$sink->refuse(1, 451);
is(email_test(port => $sink->plain_port)->code, 200, 'a 451 once: retried and sent');
is(scalar $sink->wait_messages(1), 1, 'one message after the retry');
$sink->clear;
$sink->refuse(5, 451);
$e = json_error_ok(email_test(port => $sink->plain_port), 400, 'notification_failed', '451 every time');
like($e->{error}, qr/email failed after 2 attempts/, "attempts counted: $e->{error}");
$sink->refuse(0, 451);

# A certificate no trusted CA signed.
$e = json_error_ok(email_test(port => $stranger->tls_port, tls => true), 400,
    'notification_failed', 'untrusted certificate');
like($e->{error}, qr/certificate|SSL/i, "a certificate error: $e->{error}");
is(scalar $stranger->messages, 0, 'nothing delivered to the untrusted server');

# Configurations the test cannot use.
json_error_ok(email_test(enabled => false, port => $sink->plain_port), 400, 'not_enabled', 'disabled email');
json_error_ok(email_test(server => '', port => $sink->plain_port), 400, 'incomplete_config', 'no server');
like(json_error_ok(email_test(from => "a\@b\r\nBcc: x\@y", port => $sink->plain_port), 400,
    'invalid_field', 'CR/LF in from')->{error}, qr/from must not hold CR or LF/, 'refused by the reader');
json_error_ok(email_test(port => 'x'), 400, 'invalid_field', 'port as a string');
is(scalar $sink->messages, 0, 'nothing delivered by refused tests');

# Apprise, CLI mode: Debian's apprise posts to a json:// target at a local receiver.
my $api_port = PulseStack::free_port();
my $api_dir = $stack->dir . '/apprise';
$stack->spawn('apprise-api', {}, $^X, PulseStack::srcdir() . '/t/fakes/apprise-api.pl', '--listen',
    "http://127.0.0.1:$api_port", '--dir', $api_dir, '--api-key', 'k-123456789');
$stack->wait_for(sub { PulseStack::_port_open($api_port) }, 20, 'apprise API fake', 'apprise-api');
my $received = sub {
    my $deadline = time + ($_[0] // 15);
    my @f;
    while (!(@f = glob "$api_dir/*.json") && time < $deadline) { select undef, undef, undef, 0.1 }
    my @r = map { open my $fh, '<', $_ or die; local $/; decode_json(scalar <$fh>) } sort @f;
    unlink @f;
    return @r;
};
SKIP: {
    skip 'Debian apprise not installed', 4 unless -x '/usr/bin/apprise';
    $res = $ua->post($url => $json => json => { type => 'apprise', config => { enabled => true,
        mode => 'cli', cliPath => '/usr/bin/apprise', targets => ["json://127.0.0.1:$api_port/hook"] } })->result;
    is($res->code, 200, 'apprise CLI: sent') or diag $res->body;
    my ($r) = $received->();
    is($r->{path}, '/hook', 'apprise CLI: reached the json:// target');
    my $b = eval { decode_json($r->{body}) } // {};
    is($b->{title}, 'Pulse alert: Test Resource', 'apprise CLI: title');
    like($b->{message} // '', qr/\[WARNING\] Test Resource .* value 95\.50 \(threshold 90\.00\)/, 'apprise CLI: body');
}
$e = json_error_ok($ua->post($url => $json => json => { method => 'apprise', config => { enabled => true,
    cliPath => '/bin/false', targets => ['json://127.0.0.1:1/secret-hook-token'] } })->result, 400,
    'notification_failed', 'apprise CLI exits non-zero');
unlike($e->{error}, qr/secret-hook-token/, 'no target in the error');
json_error_ok($ua->post($url => $json => json => { method => 'apprise', config => { enabled => true,
    cliPath => 'bin/apprise', targets => ['json://x'] } })->result, 400, 'notification_failed',
    'relative cliPath refused');
$e = json_error_ok($ua->post($url => $json => json => { method => 'apprise', config => { enabled => true } })->result,
    400, 'not_enabled', 'CLI without targets');
like($e->{error}, qr/at least one target is required for CLI mode/, 'says why');

# Apprise, HTTP mode against the fake API: the server URL passes the SSRF rules (§8.3) at
# send time: a loopback server is refused until the allowlist holds it.
$e = json_error_ok($ua->post($url => $json => json => { method => 'apprise', config => { enabled => true,
    mode => 'http', serverUrl => "http://127.0.0.1:$api_port/", apiKey => 'k-123456789' } })->result, 400,
    'notification_failed', 'apprise HTTP: a loopback server refused without the allowlist');
like($e->{error}, qr/apprise server URL refused: /, "says why: $e->{error}");
is(scalar($received->(0)), 0, 'nothing reached the server');
$stack->psql("INSERT INTO pulse.system_settings (key, value) VALUES ('webhookAllowedPrivateCIDRs', "
    . "to_jsonb('127.0.0.1'::text)) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value");

# Apprise, HTTP mode against the fake API: key header, config key path, failure.
$res = $ua->post($url => $json => json => { method => 'apprise', config => { enabled => true, mode => 'http',
    serverUrl => "http://127.0.0.1:$api_port/", configKey => 'my key', apiKey => 'k-123456789',
    targets => ['mailto://x'] } })->result;
is($res->code, 200, 'apprise HTTP: sent') or diag $res->body;
my ($r) = $received->();
is($r->{path}, '/notify/my%20key', 'POST /notify/<key, path-escaped>');
is($r->{headers}{'x-api-key'}, 'k-123456789', 'API key header');
my $b = eval { decode_json($r->{body}) } // {};
is($b->{type}, 'warning', 'type warning');
is($b->{title}, 'Pulse alert: Test Resource', 'title');
is_deeply($b->{urls}, ['mailto://x'], 'urls are the targets');
$e = json_error_ok($ua->post($url => $json => json => { method => 'apprise', config => { enabled => true,
    mode => 'http', serverUrl => "http://127.0.0.1:$api_port", apiKey => 'wrong' } })->result, 400,
    'notification_failed', 'apprise HTTP with a wrong key');
like($e->{error}, qr/apprise server returned HTTP 401/, "status in the error: $e->{error}");
$e = json_error_ok($ua->post($url => $json => json => { method => 'apprise', config => { enabled => true,
    mode => 'http' } })->result, 400, 'not_enabled', 'HTTP without a server URL');
like($e->{error}, qr/server URL is required for API mode/, 'says why');

# Bad input and the saved-configuration branches.
json_error_ok($ua->post($url => $json => '{"method":')->result, 400, 'invalid_json', 'malformed JSON');
is($ua->post($url => $json => '[1]')->result->code, 400, 'an array: 400');
json_error_ok($ua->post($url => $json => json => { method => 5 })->result, 400, 'invalid_field', 'method a number');
json_error_ok($ua->post($url => $json => json => { method => 'email', config => 'x' })->result, 400,
    'invalid_field', 'config a string');
json_error_ok($ua->post($url => $json => json => { method => 'email', webhookId => [] })->result, 400,
    'invalid_field', 'webhookId an array');
$e = json_error_ok($ua->post($url => $json => json => { method => 'pigeon' })->result, 400,
    'unknown_method', 'unknown method');
is($e->{error}, 'unknown notification method: pigeon', 'names it');
is(json_error_ok($ua->post($url => $json => json => { method => 'email' })->result, 400, 'not_enabled',
    'saved email config: not enabled')->{error}, 'email notifications are not enabled', 'the original text');
json_error_ok($ua->post($url => $json => '{"method":"email","config":{"server":"' . ('x' x 65536) . '"}}')->result,
    413, 'payload_too_large', 'over 64 KiB');

# Credentials and scope.
json_error_ok($ua->post($url => { 'Content-Type' => 'application/json' } => '{}')->result, 401,
    'unauthorized', 'no credentials');
$res = $ua->post($stack->url('/api/security/tokens') => $auth =>
    json => { name => 'read only', scopes => ['settings:read'] })->result;
my $ro = { 'X-API-Token' => $res->json->{token}, 'Content-Type' => 'application/json' };
is(json_error_ok($ua->post($url => $ro => json => { method => 'email' })->result, 403, 'missing_scope',
    'settings:read token')->{requiredScope}, 'settings:write', 'needs settings:write');

no_secret_in_logs($stack, $SmtpSink::PASSWORD, $wrong, 'k-123456789', 'secret-hook-token');
done_testing;
