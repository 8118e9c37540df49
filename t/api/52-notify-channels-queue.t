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

no_secret_in_logs($stack, $SmtpSink::PASSWORD, 'wrong-pw-7a7a7a');
done_testing;
