#!/usr/bin/perl
# 52-notify-channels-queue.t: email and apprise rows through the notification queue and the
# worker's senders: queued email rows (t/tools/notify-enqueue) delivered to a real SMTP
# server (t/fakes/smtp-sink.py) with X-Pulse-Delivery = the row id; a server that refuses
# then accepts gets each message once after the retry; resolved rows send the recovery
# mail; apprise rows through Debian's apprise program to a local json:// receiver; apprise
# HTTP rows refused by the SSRF rules until the allowlist holds the server.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false encode_json decode_json);
use Test::More;
use PulseStack;
use PulseTest;
use SmtpSink;

my $stack = PulseStack->new(settings => { notify_timeout => 5, notify_batch => 5,
    notify_rate_limit => 0, notify_senders => 2 });
my $smtp = SmtpSink->new(dir => $stack->dir . '/smtp', name => 'smtp');
$stack->{settings}{smtp_ca_file} = $smtp->ca_file;
$stack->start;
$stack->setup_admin;
$smtp->start($stack);
my $tool = PulseStack::builddir() . '/t/tools/notify-enqueue';

sub q_count { $stack->psql("SELECT count(*) FROM pulse.notification_queue WHERE $_[0]") }
sub wait_until {
    my ($what, $cond, $timeout) = @_;
    ok($stack->wait_for($cond, $timeout // 60, $what, 'worker-1'), $what);
}
my $alerts = encode_json([{ id => 'a-{n}', type => 'cpu', level => 'critical',
    resourceId => 'pve1:node1/qemu/100', resourceName => 'vm100', node => 'node1',
    instance => 'pve1', message => 'CPU at 97%', value => 97, threshold => 90,
    startTime => '2026-01-02T03:04:05Z', lastSeen => '2026-01-02T03:05:05Z',
    acknowledged => false }]);
sub enqueue {
    my ($type, $n, $cfg) = @_;
    local $ENV{PULSE_CONFIG} = $stack->conf_path;
    my $c = encode_json($cfg);
    my @ids = grep { length } split /\n/, qx{'$tool' -t $type -n $n -i $type -C '$c' -a '$alerts' 2>&1};
    is(scalar @ids, $n, "$n $type rows queued") or diag("@ids");
    return @ids;
}
sub delivery_keys {
    my %k;
    for my $m ($smtp->messages) {
        my $h = SmtpSink::parse_message($m->{data})->{headers};
        $k{ $h->{'x-pulse-delivery'} // '' }++;
    }
    return \%k;
}

my %email = (enabled => true, server => '127.0.0.1', port => $smtp->plain_port + 0,
    from => 'pulse@example.org', to => ['ops@example.org'], tls => false, startTLS => false,
    username => $SmtpSink::USER, password => $SmtpSink::PASSWORD);

# --- email rows delivered, each once, with the row id as the delivery key ---------------
my @ids = enqueue('email', 5, \%email);
wait_until('5 email rows sent', sub { q_count("type = 'email' AND status = 'sent'") == 5 });
my $keys = delivery_keys();
is_deeply([sort keys %$keys], [sort @ids], 'X-Pulse-Delivery holds the row ids');
is((grep { $_ != 1 } values %$keys), 0, 'each message once');
my ($m) = $smtp->messages;
is($m->{auth_user}, $SmtpSink::USER, 'AUTH with the stored credentials');
my $p = SmtpSink::parse_message($m->{data});
is($p->{headers}{subject}, '[Pulse Alert] 1 Critical alert', 'the grouped alert mail');
like($p->{parts}[0]{body}, qr/vm100/, 'about vm100');
is($stack->psql("SELECT count(*) FROM pulse.notification_deliveries WHERE success AND "
    . "notification_id IN (" . join(',', map { "'$_'" } @ids) . ')'), 5, 'deliveries recorded');

# --- a server that refuses, then accepts: delivered once after the retry ----------------
$smtp->clear;
$smtp->refuse(3, 451);
@ids = enqueue('email', 3, \%email);
wait_until('3 rows sent after refusals', sub { q_count("type = 'email' AND status = 'sent'") == 8 }, 90);
$keys = delivery_keys();
is_deeply([sort keys %$keys], [sort @ids], 'all three arrived');
is((grep { $_ != 1 } values %$keys), 0, 'none twice');
my $retried = $stack->psql("SELECT count(*) FROM pulse.notification_deliveries WHERE NOT success AND "
    . "notification_id IN (" . join(',', map { "'$_'" } @ids) . ')');
is($retried, 3, 'three refused attempts recorded');
like($stack->psql("SELECT error FROM pulse.notification_deliveries WHERE NOT success LIMIT 1"),
    qr/451/, 'the refusal is the recorded error');

# --- a resolved row sends the recovery mail ---------------------------------------------
$smtp->clear;
my ($rid) = enqueue('email_resolved', 1, \%email);
wait_until('the recovery row sent', sub { q_count("id = '$rid' AND status = 'sent'") == 1 });
($m) = $smtp->wait_messages(1);
like(SmtpSink::parse_message($m->{data})->{headers}{subject}, qr/^Pulse alert resolved: vm100/,
    'the recovery subject');

# --- a wrong password: the row ends in the DLQ, no password in the error ----------------
my ($bad) = enqueue('email', 1, { %email, password => 'wrong-pw-7a7a7a' });
wait_until('the row with a wrong password ends in the DLQ', sub { q_count("id = '$bad' AND status = 'dlq'") == 1 }, 90);
unlike($stack->psql("SELECT last_error FROM pulse.notification_queue WHERE id = '$bad'"), qr/wrong-pw/,
    'no password in last_error');

# --- apprise rows: the CLI to a json:// receiver; HTTP mode behind the SSRF rules --------
my $api_port = PulseStack::free_port();
my $api_dir = $stack->dir . '/apprise';
$stack->spawn('apprise-api', {}, $^X, PulseStack::srcdir() . '/t/fakes/apprise-api.pl', '--listen',
    "http://127.0.0.1:$api_port", '--dir', $api_dir);
$stack->wait_for(sub { PulseStack::_port_open($api_port) }, 20, 'apprise API fake', 'apprise-api');
sub received { my @f = sort glob "$api_dir/*.json";
    my @r = map { open my $fh, '<', $_ or die; local $/; decode_json(scalar <$fh>) } @f; unlink @f; @r }

SKIP: {
    skip 'Debian apprise not installed', 5 unless -x '/usr/bin/apprise';
    my @a = enqueue('apprise', 2, { enabled => true, mode => 'cli', cliPath => '/usr/bin/apprise',
        targets => ["json://127.0.0.1:$api_port/hook"] });
    wait_until('2 apprise CLI rows sent', sub { q_count("type = 'apprise' AND status = 'sent'") == 2 });
    my @r = received();
    is(scalar @r, 2, 'two notifications reached the json:// target');
    my $b = eval { decode_json($r[0]{body}) } // {};
    is($b->{title}, 'Pulse alert: vm100', 'title');
    like($b->{message} // '', qr/\[CRITICAL\] vm100/, 'body');
}
$stack->psql("DELETE FROM pulse.system_settings WHERE key = 'webhookAllowedPrivateCIDRs'");
my ($h1) = enqueue('apprise', 1, { enabled => true, mode => 'http', serverUrl => "http://127.0.0.1:$api_port" });
wait_until('a loopback apprise server refused without the allowlist',
    sub { q_count("id = '$h1' AND attempts >= 1 AND last_error LIKE 'apprise server URL refused%'") == 1 });
is(scalar(received()), 0, 'nothing reached the server');
$stack->psql("INSERT INTO pulse.system_settings (key, value) VALUES ('webhookAllowedPrivateCIDRs', "
    . "to_jsonb('127.0.0.1'::text))");
wait_until('sent once allowlisted', sub { q_count("id = '$h1' AND status = 'sent'") == 1 }, 60);
my @r = received();
is(scalar @r, 1, 'one request');
is($r[0]{path}, '/notify', 'POST /notify');
my ($rr) = enqueue('apprise_resolved', 1, { enabled => true, mode => 'http', serverUrl => "http://127.0.0.1:$api_port" });
wait_until('the apprise recovery row sent', sub { q_count("id = '$rr' AND status = 'sent'") == 1 });
@r = received();
my $b = eval { decode_json($r[0]{body}) } // {};
is($b->{title}, 'Pulse alert resolved: vm100', 'recovery title');
is($b->{type}, 'info', 'recovery type info');

# --- POST /api/notifications/webhooks/test (§9.2): every service's payload at the receiver
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $json = { %$auth, 'Content-Type' => 'application/json' };
my $sink = $stack->start_webhook_sink;
my $wtest = $stack->url('/api/notifications/webhooks/test');
sub sink_reset { $ua->post("$sink->{url}/__sink/reset")->result }
sub last_request { my $r = $ua->get("$sink->{url}/__sink/requests")->result->json; $r->[-1] }
sub wtest {
    my ($cfg, $what) = @_;
    sink_reset();
    my $res = $ua->post($wtest => $json => json => { name => "t $what", method => 'POST', enabled => true, %$cfg })->result;
    is($res->code, 200, "$what: 200") or diag $res->body;
    my $b = json_body($res, $what);
    is($b->{success}, true, "$what: success");
    is($b->{status}, 200, "$what: the receiver's status");
    is($b->{response}, '{"ok":true}', "$what: the receiver's answer");
    my $req = last_request();
    is($req->{headers}{'User-Agent'}, 'Pulse-Monitoring/2.0 (Test)', "$what: test User-Agent");
    return $req;
}
my %payload = (
    discord => sub { my $b = decode_json($_[0]{body}); ref $b->{embeds} eq 'ARRAY' && $b->{embeds}[0]{title} },
    slack => sub { my $b = decode_json($_[0]{body}); defined $b->{text} || ref $b->{blocks} eq 'ARRAY' },
    teams => sub { my $b = decode_json($_[0]{body}); ($b->{'@type'} // '') eq 'MessageCard' },
    'teams-adaptive' => sub { my $b = decode_json($_[0]{body});
        ref $b->{attachments} eq 'ARRAY' && ($b->{attachments}[0]{content}{type} // '') eq 'AdaptiveCard' },
    pagerduty => sub { my $b = decode_json($_[0]{body});
        ($b->{event_action} // '') eq 'trigger' && ($b->{routing_key} // '') eq 'rk-123' && ref $b->{payload} eq 'HASH' },
    pushover => sub { my $b = decode_json($_[0]{body});
        ($b->{token} // '') eq 'app-1' && ($b->{user} // '') eq 'user-1' && defined $b->{message} },
    gotify => sub { my $b = decode_json($_[0]{body}); defined $b->{title} && defined $b->{message} && defined $b->{priority} },
    generic => sub { my $b = decode_json($_[0]{body}); ($b->{alert}{id} // '') =~ /^test-\d{8}-\d{6}$/
        && ($b->{alert}{resourceName} // '') eq 'Test VM' && ($b->{source} // '') eq 'pulse-monitoring' },
);
for my $svc (sort keys %payload) {
    my %extra = $svc eq 'pagerduty' ? (customFields => { routing_key => 'rk-123' })
        : $svc eq 'pushover' ? (customFields => { app_token => 'app-1', user_token => 'user-1' }) : ();
    my $req = wtest({ service => $svc, url => "$sink->{url}/$svc", %extra }, $svc);
    diag "$svc: $req->{body}" if $ENV{SHOW_BODIES};
    is($req->{path}, "/$svc", "$svc: the path");
    ok(eval { $payload{$svc}->($req) }, "$svc: payload shape") or diag $req->{body};
}
my $req = wtest({ service => 'telegram', url => "$sink->{url}/bot123:tok/sendMessage?chat_id=-100200" }, 'telegram');
my $tb = decode_json($req->{body});
is($tb->{chat_id}, '-100200', 'telegram: chat_id in the body') or diag $req->{body};
unlike($req->{query} // '', qr/chat_id/, 'telegram: chat_id taken out of the URL');
$req = wtest({ service => 'ntfy', url => "$sink->{url}/topic" }, 'ntfy');
like($req->{headers}{'Content-Type'}, qr{^text/plain}, 'ntfy: text/plain');
is($req->{headers}{Title}, 'WARNING: Test VM', 'ntfy: Title');
is($req->{headers}{Priority}, 'high', 'ntfy: Priority');
is($req->{headers}{Tags}, 'warning,pulse,cpu', 'ntfy: Tags');
like($req->{body}, qr/Test VM/, 'ntfy: plain text body');
$req = wtest({ url => "$sink->{url}/custom", template => '{"who":"{{.ResourceName}}","v":{{.Value}}}',
    headers => { 'X-Custom' => 'c1' } }, 'custom template');
is_deeply(decode_json($req->{body}), { who => 'Test VM', v => 85.5 }, 'custom template rendered');
is($req->{headers}{'X-Custom'}, 'c1', 'custom header sent');

# Failures: a non-2xx answer, a private target outside the allowlist, bad input.
my $res = $ua->post($wtest => $json => json => { url => "$sink->{url}/status/502/x" })->result;
my $e = json_error_ok($res, 400, 'webhook_failed', 'non-2xx');
is($e->{success}, false, 'non-2xx: success false');
like($e->{error}, qr/^Webhook returned HTTP 502: /, "non-2xx: $e->{error}");
$stack->psql("DELETE FROM pulse.system_settings WHERE key = 'webhookAllowedPrivateCIDRs'");
sink_reset();
$e = json_error_ok($ua->post($wtest => $json => json => { url => "$sink->{url}/private" })->result, 400,
    'invalid_field', 'a loopback target without the allowlist');
like($e->{error}, qr/^Invalid webhook URL: /, "says why: $e->{error}");
ok(!exists $e->{success}, 'no success key for a refusal');
is($ua->get("$sink->{url}/__sink/stats")->result->json->{requests}, 0, 'nothing reached the sink');
json_error_ok($ua->post($wtest => $json => '{"url":')->result, 400, 'invalid_json', 'malformed JSON');
json_error_ok($ua->post($wtest => $json => json => { url => 5 })->result, 400, 'invalid_field', 'url a number');
json_error_ok($ua->post($wtest => $json => '{"url":"' . ('x' x 65536) . '"}')->result, 413,
    'payload_too_large', 'over 64 KiB');
json_error_ok($ua->post($wtest => { 'Content-Type' => 'application/json' } => '{}')->result, 401,
    'unauthorized', 'no credentials');
$res = $ua->post($stack->url('/api/security/tokens') => $auth =>
    json => { name => 'read only', scopes => ['settings:read'] })->result;
my $ro = { 'X-API-Token' => $res->json->{token}, 'Content-Type' => 'application/json' };
json_error_ok($ua->post($wtest => $ro => json => { url => "$sink->{url}/x" })->result, 403, 'missing_scope',
    'settings:read token');
$stack->psql("INSERT INTO pulse.system_settings (key, value) VALUES ('webhookAllowedPrivateCIDRs', "
    . "to_jsonb('127.0.0.1'::text))");

# --- POST /api/notifications/test, saved configurations (§9.1) ---------------------------
my $ntest = $stack->url('/api/notifications/test');
my $api = sub { $stack->url('/api/notifications/' . shift) };
$e = json_error_ok($ua->post($ntest => $json => json => { method => 'webhook' })->result, 400, 'not_configured',
    'no webhooks');
is($e->{error}, 'no webhooks configured', 'says so');
my $w1 = $ua->post($api->('webhooks') => $json => json => { name => 'off', url => "$sink->{url}/off",
    enabled => false })->result->json;
$e = json_error_ok($ua->post($ntest => $json => json => { method => 'webhook' })->result, 400, 'not_configured',
    'no enabled webhook');
is($e->{error}, 'no enabled webhooks found', 'says so');
my $w2 = $ua->post($api->('webhooks') => $json => json => { name => 'on', url => "$sink->{url}/on",
    enabled => true, service => 'generic' })->result->json;
sink_reset();
$res = $ua->post($ntest => $json => json => { method => 'webhook' })->result;
is($res->code, 200, 'the first enabled webhook') or diag $res->body;
$req = last_request();
is($req->{path}, '/on', 'sent to the enabled one');
is(decode_json($req->{body})->{alert}{id}, 'test-alert', 'the saved-config test alert (single-alert payload)');
sink_reset();
$res = $ua->post($ntest => $json => json => { method => 'webhook', webhookId => $w1->{id} })->result;
is($res->code, 200, 'by webhookId (even disabled)') or diag $res->body;
$req = last_request();
is($req->{path}, '/off', 'sent to that webhook');
my $wb = decode_json($req->{body})->{alert};
is($wb->{id}, "test-webhook-$w1->{id}", 'the by-id test alert');
is($wb->{resourceName}, 'Test Alert', 'resource Test Alert');
json_error_ok($ua->post($ntest => $json => json => { method => 'webhook', webhookId => 'nope' })->result, 404,
    'not_found', 'an unknown webhookId');
$ua->put($api->("webhooks/$w2->{id}") => $json => json => { name => 'on', url => "$sink->{url}/status/500/on",
    enabled => true });
$e = json_error_ok($ua->post($ntest => $json => json => { method => 'webhook' })->result, 400,
    'notification_failed', 'a failed delivery is reported');
like($e->{error}, qr/HTTP 500/, "says why: $e->{error}");

$e = json_error_ok($ua->post($ntest => $json => json => { method => 'email' })->result, 400, 'not_enabled',
    'saved email: not enabled');
is($e->{error}, 'email notifications are not enabled', 'the original text');
$res = $ua->put($api->('email') => $json => json => \%email)->result;
is($res->code, 200, 'email saved') or diag $res->body;
$smtp->clear;
$res = $ua->post($ntest => $json => json => { method => 'email' })->result;
is($res->code, 200, 'saved email sent') or diag $res->body;
($m) = $smtp->wait_messages(1);
like(SmtpSink::parse_message($m->{data})->{headers}{subject} // '', qr/Test Resource/, 'the saved-config test alert');
# A supplied configuration with an empty password uses the stored one.
$smtp->clear;
$res = $ua->post($ntest => $json => json => { method => 'email', config => { %email, password => '' } })->result;
is($res->code, 200, 'supplied config, empty password') or diag $res->body;
($m) = $smtp->wait_messages(1);
is($m->{auth_user}, $SmtpSink::USER, 'AUTH with the stored password');
$e = json_error_ok($ua->post($ntest => $json => json => { method => 'apprise' })->result, 400, 'not_enabled',
    'saved apprise: not enabled');
is($e->{error}, 'apprise notifications are not enabled', 'the original text');
$ua->put($api->('apprise') => $json => json => { enabled => true, mode => 'http', serverUrl => "http://127.0.0.1:$api_port" });
received();
$res = $ua->post($ntest => $json => json => { method => 'apprise' })->result;
is($res->code, 200, 'saved apprise sent') or diag $res->body;
is(scalar(received()), 1, 'one request at the apprise server');

# --- POST /api/test-notification (legacy): a test alert queued to every enabled channel ---
$ua->put($api->("webhooks/$w2->{id}") => $json => json => { name => 'on', url => "$sink->{url}/on",
    enabled => true, service => 'generic' });
sink_reset();
$smtp->clear;
received();
my $legacy = $stack->url('/api/test-notification');
$res = $ua->post($legacy => $stack->token_headers)->result;
is($res->code, 200, 'POST /api/test-notification') or diag $res->body;
is($res->json->{status}, 'notification sent', 'the original answer');
is($res->json->{queued}, 3, 'queued for email, apprise and the enabled webhook');
($m) = $smtp->wait_messages(1);
like(SmtpSink::parse_message($m->{data})->{headers}{subject} // '', qr/Alert/, 'the mail arrived');
ok($stack->wait_for(sub { my $r = last_request(); $r && $r->{path} eq '/on' }, 30, 'the webhook'),
    'the webhook arrived');
is(decode_json(last_request()->{body})->{alerts}[0]{id}, 'test-alert', 'the test alert, grouped payload');
ok($stack->wait_for(sub { scalar(received()) >= 1 }, 30, 'apprise'), 'the apprise server got it');
json_error_ok($ua->post($legacy)->result, 401, 'unauthorized', 'no credentials');
json_error_ok($ua->post($legacy => $stack->token_headers => 'x' x 20000)->result, 413, 'payload_too_large',
    'a large body is refused');

no_secret_in_logs($stack, $SmtpSink::PASSWORD, 'wrong-pw-7a7a7a');
done_testing;
