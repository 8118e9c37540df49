#!/usr/bin/perl
# 03-database-restart.t: PostgreSQL restarts under a running responder and worker: requests
# fail with 503 while it is down and succeed after, and no process of ours restarts.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep time);
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { heartbeat_interval => 1, db_connect_timeout => 2 })->start;
my $ua = $stack->ua;
my %pids = map { $_ => $stack->pid_of($_) } qw(fcgi-1 worker-1);

is($ua->get($stack->url('/api/health'))->result->code, 200, 'healthy before');
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.workers WHERE id = 'worker-1'}) == 1 },
    10, 'the first heartbeat');

for my $round (1 .. 2) {
    $stack->pg_stop('fast');
    # The health probe runs at most once a second: within a few seconds it reports the outage.
    my $res;
    $stack->wait_for(sub {
        $res = $ua->get($stack->url('/api/health'))->result;
        $res->code == 503;
    }, 10, 'health to report the database down');
    my $h = json_body($res, "round $round: health while down");
    is($h->{status}, 'unhealthy', "round $round: unhealthy while down");
    is($h->{database}{status}, 'down', "round $round: database down");
    is($res->headers->header('Retry-After'), '5', "round $round: Retry-After");
    # Every database_unavailable answer says when to come back, login's included.
    my $login = $ua->post($stack->url('/api/login') => json => { username => 'admin', password => 'x' })->result;
    is($login->code, 503, "round $round: login while down is a 503");
    is(json_body($login, "round $round: login while down")->{code}, 'database_unavailable', "round $round: database_unavailable");
    is($login->headers->header('Retry-After'), '5', "round $round: with Retry-After");
    sleep 1.5;
    is($ua->get($stack->url('/api/version'))->result->code, 200,
        "round $round: version needs no database and still answers");

    my $before = time;
    $stack->pg_start;
    $stack->wait_for(sub { $ua->get($stack->url('/api/health'))->result->code == 200 }, 30,
        'health to recover');
    pass(sprintf "round $round: healthy again %.1f s after the restart", time - $before);

    # The worker reconnected and writes heartbeats again.
    my $t0 = $stack->psql(q{SELECT extract(epoch FROM now())});
    $stack->wait_for(sub {
        $stack->psql(qq{SELECT count(*) FROM pulse.workers WHERE id = 'worker-1'
            AND last_seen > to_timestamp($t0)}) == 1
    }, 30, 'a heartbeat after the restart', 'worker-1');
    pass("round $round: the worker writes heartbeats again");
}

for my $name (sort keys %pids) {
    ok($stack->alive($name), "$name still running");
    is($stack->pid_of($name), $pids{$name}, "$name was not restarted");
}
like($stack->log_tail('worker-1', 100), qr/database connection restored/, 'worker logged the recovery');
like($stack->log_tail('fcgi-1', 200), qr/database (unreachable|connection restored)/, 'responder logged the outage');

done_testing;
