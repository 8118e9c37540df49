#!/usr/bin/perl
# 33-metrics-overflow.t: the metrics buffer is bounded. While writes fail, polls go on into
# the buffer; once it holds metrics_buffer_samples, the oldest samples go (logged, counted in
# pulse.metric_writers.dropped), the newest stay and are written when writes work again, and
# nothing is written twice.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep time);
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { pve_polling_interval => 1, metrics_flush_interval => 2,
    metrics_buffer_samples => 1000, db_statement_timeout => 2000 })->start;
$stack->setup_admin;
my $sim = $stack->start_sim(name => 'gen', nodes => 2, guests => 6, token => 'root@pam!pulse=secret', cluster => 'lab');
my $res = $stack->ua->post($stack->url('/api/config/nodes') => $stack->token_headers => json => {
    type => 'pve', name => 'lab', host => $sim->{url}, tokenName => 'root@pam!pulse',
    tokenValue => 'secret', fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'simulated cluster added');
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.metric_writers WHERE last_flush IS NOT NULL}) == 1 },
    40, 'a first write', 'worker-1');
sleep 3;
my $per_poll = $stack->psql(q{SELECT count(*) FROM pulse.metric_series});
ok($per_poll >= 50, "$per_poll series polled every second: 1,000 samples fill the buffer in under 20 s");

# Writes fail for 40 s (a table the write needs is locked past the statement timeout).
my $t0 = time;
$stack->hold_lock('pulse.metric_writers', 40);
my $t1 = time;
$stack->wait_for(sub { $stack->log_text('worker-1') =~ /metrics backlog written/ }, 40,
    'the backlog written after the failed writes', 'worker-1');
my $log = $stack->log_text('worker-1');
like($log, qr/metrics write failed, keeping samples/, 'the failed writes were logged');
like($log, qr/metrics buffer full, oldest samples dropped" dropped=\d+/, 'the drops were logged');
my $dropped = $stack->psql(q{SELECT sum(dropped) FROM pulse.metric_writers});
ok($dropped > 0, "$dropped samples counted as dropped");

my $node_cpu = q{SELECT extract(epoch FROM time) FROM pulse.metrics_raw WHERE resource_type = 'node'
    AND metric = 'cpu' AND resource_id = (SELECT min(resource_id) FROM pulse.metric_series
    WHERE resource_type = 'node') ORDER BY time};
my @during = grep { $_ > $t0 + 1 && $_ < $t1 - 1 } split /\n/, $stack->psql($node_cpu);
my @late = grep { $_ > $t1 - 12 } @during;
ok(@late >= 8, scalar(@late) . ' samples of the last 10 s before the writes worked again are there (the newest stay)');
my @gaps = grep { $late[$_] - $late[$_ - 1] > 2.5 } 1 .. $#late;
is(scalar @gaps, 0, 'with no gap between them');
my @early = grep { $_ < $t0 + 15 } @during;
ok(@early < 10, scalar(@early) . ' of the first 14 s of failed writes are there (the oldest went)');
my $dups = $stack->psql(q{SELECT count(*) FROM (SELECT series, time FROM pulse.metrics_raw GROUP BY 1, 2 HAVING count(*) > 1) d});
is($dups, 0, 'no sample twice');
# One statement, one snapshot: the worker goes on writing between two queries.
is($stack->psql(q{SELECT (SELECT sum(total_writes) FROM pulse.metric_writers) - (SELECT count(*) FROM pulse.metrics_raw)}),
    0, 'samples counted as written = samples in the table');

# Writes work again: the next ones carry on with no loss.
my $t2 = time;
sleep 6;
my @after = grep { $_ > $t2 } split /\n/, $stack->psql($node_cpu);
ok(@after >= 3, scalar(@after) . ' samples written since');
ok($stack->psql(q{SELECT extract(epoch FROM max(last_flush)) FROM pulse.metric_writers}) > $t2, 'writes go on');
is($stack->stop_program('worker-1', 'TERM', 30), 0, 'worker stopped cleanly');
done_testing;
