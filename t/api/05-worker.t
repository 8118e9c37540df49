#!/usr/bin/perl
# 05-worker.t: the worker's heartbeat row, jobs triggered by NOTIFY, a singleton job claimed
# by exactly one of two workers and taken over when its holder is killed, clean SIGTERM.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep);
use PulseStack;

my $stack = PulseStack->new(nginx => 0, responders => 0, workers => 2,
    settings => { heartbeat_interval => 3600 })->start;

$stack->wait_for(sub { $stack->psql('SELECT count(*) FROM pulse.workers') == 2 }, 10, 'two heartbeat rows');
my $row = $stack->psql(q{SELECT host, pid, version, started_at <= last_seen, stopped_at IS NULL
    FROM pulse.workers WHERE id = 'worker-1'});
my ($host, $pid, $version, $order, $running) = split /\|/, $row;
ok(length $host, 'heartbeat records the host');
is($pid, $stack->pid_of('worker-1'), 'heartbeat records the pid');
like($version, qr/^\d+\.\d+\.\d+/, 'heartbeat records the version');
is($order, 't', 'started_at is not after last_seen');
is($running, 't', 'stopped_at is empty while running');

# heartbeat_interval is an hour: only a NOTIFY can make it run again now.
my $seen = $stack->psql(q{SELECT last_seen FROM pulse.workers WHERE id = 'worker-1'});
sleep 1.1;
$stack->psql(q{NOTIFY pulse_jobs, 'heartbeat'});
$stack->wait_for(sub {
    $stack->psql(q{SELECT last_seen FROM pulse.workers WHERE id = 'worker-1'}) ne $seen
}, 10, 'the notified heartbeat', 'worker-1');
pass('NOTIFY pulse_jobs runs the named job at once');
$stack->psql(q{NOTIFY pulse_jobs, 'no_such_job'});
$stack->wait_for(sub { $stack->log_tail('worker-1', 50) =~ /notification names no job/ }, 10,
    'the unknown job to be logged');
pass('an unknown job name is logged and ignored');

# The singleton job's advisory lock is held by exactly one worker.
my $holder_sql = q{SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)
    WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 1347747843 AND l.objid = 1};
my $holder;
$stack->wait_for(sub { ($holder = $stack->psql($holder_sql)) =~ /pulse-worker:worker-\d/ }, 10,
    'a worker to claim the singleton job');
my @holders = split /\n/, $holder;
is(scalar @holders, 1, 'exactly one worker holds the singleton lock');
my ($held_by) = $holders[0] =~ /(worker-\d)/;
my ($other) = grep { $_ ne $held_by } qw(worker-1 worker-2);

$stack->stop_program($held_by, 'KILL');
$stack->psql(q{NOTIFY pulse_jobs, 'worker_prune'});
$stack->wait_for(sub { $stack->psql($holder_sql) eq "pulse-worker:$other" }, 15,
    'the other worker to take over', $other);
pass("$other took the singleton job over after $held_by was killed");

# SIGTERM: a clean stop, recorded in the heartbeat row.
my $status = $stack->stop_program($other, 'TERM', 15);
is($status, 0, 'SIGTERM: the worker exits 0');
is($stack->psql(qq{SELECT stopped_at IS NOT NULL FROM pulse.workers WHERE id = '$other'}), 't',
    'SIGTERM: stopped_at recorded');
is($stack->psql(qq{SELECT stopped_at IS NULL FROM pulse.workers WHERE id = '$held_by'}), 't',
    'SIGKILL: the killed worker could not record a stop');

done_testing;
