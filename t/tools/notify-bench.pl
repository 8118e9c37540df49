#!/usr/bin/perl
# notify-bench.pl: the queue benchmark of issue 12: N webhooks (default 10000) queued while
# no worker runs, then drained by two workers into t/fakes/webhook-sink.pl; prints the rate
# and the duplicates the receiver saw (by X-Pulse-Delivery). Run from a built tree:
#   PULSE_BUILDDIR=$PWD PULSE_SRCDIR=$PWD perl t/tools/notify-bench.pl [N]
# The rate includes the workers' start-up; the sink (one Mojolicious process) is part of it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use PulseStack;
use Time::HiRes qw(time);
use Mojo::JSON qw(encode_json);

my $n = shift // 10000;
my $s = PulseStack->new(workers => 2, settings => { notify_rate_limit => 0 })->start;
my $sink = $s->start_webhook_sink;
$s->psql(q{INSERT INTO pulse.system_settings (key, value) VALUES ('webhookAllowedPrivateCIDRs', '"127.0.0.1"')});
$s->stop_program("worker-$_", 'TERM', 30) for 1, 2;
my $cfg = encode_json({ name => 'b', url => "$sink->{url}/hook", service => 'generic' });
my $al = encode_json([{ id => 'b-{n}', type => 'cpu', level => 'warning', message => 'x', value => 1, threshold => 1 }]);
local $ENV{PULSE_CONFIG} = $s->conf_path;
my $t0 = time;
system("'" . PulseStack::builddir() . "/t/tools/notify-enqueue' -t webhook -n $n -C '$cfg' -a '$al' > /dev/null");
printf "enqueue %.1f s\n", time - $t0;
$t0 = time;
$s->start_worker($_) for 1, 2;
$s->wait_for(sub { $s->psql("SELECT count(*) FROM pulse.notification_queue WHERE status = 'sent'") == $n }, 300, 'drain');
my $dt = time - $t0;
printf "drained $n in %.1f s: %.0f/s\n", $dt, $n / $dt;
my $st = $s->ua->get("$sink->{url}/__sink/stats")->result->json;
my $dups = grep { $_ > 1 } values %{ $st->{received} };
print "received keys ", scalar(keys %{ $st->{received} }), " duplicates $dups\n";
print $s->psql("SELECT worker_id, count(*) FROM pulse.notification_deliveries GROUP BY 1"), "\n";
