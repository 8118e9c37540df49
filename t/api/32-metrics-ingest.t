#!/usr/bin/perl
# 32-metrics-ingest.t: no polled sample is lost. The worker keeps what it polled while
# PostgreSQL restarts and writes the backlog after reconnecting; at a clean stop it writes
# what it still holds; every sample it counted as written is in the table once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep time);
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { pve_polling_interval => 1, metrics_flush_interval => 15,
    db_connect_timeout => 2, db_statement_timeout => 2000 })->start;
$stack->setup_admin;
my $sim = $stack->start_sim(name => 'gen', nodes => 2, guests => 4, token => 'root@pam!pulse=secret', cluster => 'lab');
my $res = $stack->ua->post($stack->url('/api/config/nodes') => $stack->token_headers => json => {
    type => 'pve', name => 'lab', host => $sim->{url}, tokenName => 'root@pam!pulse',
    tokenValue => 'secret', fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'simulated cluster added');

my $node_cpu = q{SELECT extract(epoch FROM time) FROM pulse.metrics_raw WHERE resource_type = 'node'
    AND metric = 'cpu' AND resource_id = (SELECT min(resource_id) FROM pulse.metric_series
    WHERE resource_type = 'node') ORDER BY time};
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.metric_writers WHERE last_flush IS NOT NULL}) == 1 },
    40, 'a first write', 'worker-1');
my @first = split /\n/, $stack->psql($node_cpu);
my $t1 = $first[-1];
ok(@first >= 1, 'samples written by the first flush');

# Polls go on into the buffer; then PostgreSQL goes away under it.
sleep 8;
my $t2 = time;
$stack->pg_stop('fast');
sleep 3;
$stack->pg_start;
my $back = time;
$stack->wait_for(sub { $stack->psql(q{SELECT extract(epoch FROM max(last_flush)) FROM pulse.metric_writers}) > $back },
    60, 'a write after the restart', 'worker-1');
pass('the worker wrote its buffer after PostgreSQL came back');
my @after = grep { $_ > $t1 && $_ < $t2 - 1 } split /\n/, $stack->psql($node_cpu);
ok(@after >= 4, scalar(@after) . ' samples polled between the first write and the restart are there');
my @gaps = grep { $after[$_] - $after[$_ - 1] > 2.5 } 1 .. $#after;
is(scalar @gaps, 0, 'no gap between them (one per poll)') or diag "@after";
my $dups = $stack->psql(q{SELECT count(*) FROM (SELECT series, time FROM pulse.metrics_raw GROUP BY 1, 2 HAVING count(*) > 1) d});
is($dups, 0, 'no sample twice');
is($stack->psql(q{SELECT sum(total_writes) FROM pulse.metric_writers}),
    $stack->psql(q{SELECT count(*) FROM pulse.metrics_raw}), 'samples counted as written = samples in the table');

# A write that fails half way (here: a table locked past the statement timeout) keeps the
# samples, and the next write brings them.
my $t4 = time;
$stack->hold_lock('pulse.metric_writers', 17);
my $t5 = time;
$stack->wait_for(sub { $stack->log_text('worker-1') =~ /metrics backlog written/ }, 40,
    'the backlog written after the failed write', 'worker-1');
like($stack->log_text('worker-1'), qr/metrics write failed, keeping samples/, 'the failed write was logged');
my @held = grep { $_ > $t4 + 1 && $_ < $t5 - 1 } split /\n/, $stack->psql($node_cpu);
ok(@held >= 12, scalar(@held) . ' samples polled while writes failed are there');
@gaps = grep { $held[$_] - $held[$_ - 1] > 2.5 } 1 .. $#held;
is(scalar @gaps, 0, 'no gap between them');
is($stack->psql(q{SELECT sum(total_writes) FROM pulse.metric_writers}),
    $stack->psql(q{SELECT count(*) FROM pulse.metrics_raw}), 'counted once each');

# A clean stop writes what the buffer still holds.
sleep 4;
my $t3 = time;
is($stack->stop_program('worker-1', 'TERM', 30), 0, 'worker stopped cleanly');
my @last = split /\n/, $stack->psql($node_cpu);
ok($last[-1] > $t3 - 2.5, 'samples polled just before the stop were written at the stop');
is($stack->psql(q{SELECT sum(total_writes) FROM pulse.metric_writers}),
    $stack->psql(q{SELECT count(*) FROM pulse.metrics_raw}), 'and counted');
done_testing;
