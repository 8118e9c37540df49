#!/usr/bin/perl
# 23-poll-workers.t: each instance is polled by exactly one worker; two workers on one
# database split the instances; when one is killed (SIGKILL) the other takes its instances
# over within two poll intervals.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep time);
use PulseStack;

my $interval = 2;
my $stack = PulseStack->new(workers => 2, settings => { pve_polling_interval => $interval,
    heartbeat_interval => 1 })->start;
my $admin = $stack->setup_admin;
for my $i (1 .. 4) {
    my $sim = $stack->start_sim(name => "s$i", nodes => 1, guests => 2, token => "root\@pam!t=tok$i");
    my $res = $stack->ua->post($stack->url('/api/config/nodes') => $stack->token_headers => json => {
        type => 'pve', name => "site$i", host => $sim->{url}, tokenName => 'root@pam!t',
        tokenValue => "tok$i", fingerprint => $sim->{fingerprint} })->result;
    is($res->code, 201, "site$i added");
}
$stack->wait_state(sub { @{ $_[0]{nodes} } == 4 }, 30, 'all four sites polled');

my $holders = q{SELECT a.application_name, count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
    WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 1347747842 GROUP BY 1 ORDER BY 1};
my %held;
$stack->wait_for(sub {
    %held = map { split /\|/ } split /\n/, $stack->psql($holders);
    keys %held == 2 && (values %held)[0] == 2;
}, 30, 'the workers to split the instances 2 and 2');
is_deeply([sort values %held], [2, 2], 'two workers hold two instances each');
is($stack->psql(q{SELECT count(DISTINCT l.objid) FROM pg_locks l WHERE l.locktype = 'advisory'
    AND l.granted AND l.classid = 1347747842}), 4, 'every instance is held exactly once');
# Every instance keeps being polled, by its holder only.
my $ws = $stack->psql(q{SELECT count(DISTINCT worker_id) FROM pulse.poll_status});
is($ws, 2, 'both workers record polls');

# Kill one: the other takes everything within two intervals.
$stack->stop_program('worker-1', 'KILL');
my $t0 = time;
$stack->wait_for(sub { $stack->psql($holders) eq 'pulse-worker:worker-2|4' }, 4 * $interval + 10,
    'worker-2 to hold all four', 'worker-2');
my $took = time - $t0;
ok($took <= 2 * $interval + 1, sprintf('taken over in %.1f s (two intervals: %d s)', $took, 2 * $interval));
my $before = $stack->psql(q{SELECT max(last_success) FROM pulse.poll_status});
$stack->wait_for(sub { $stack->psql(qq{SELECT count(*) FROM pulse.poll_status WHERE worker_id = 'worker-2'
    AND last_success > '$before'}) == 4 }, 20, 'worker-2 polls all four');
pass('worker-2 polls all four sites');

# A second worker coming back takes its fair share again.
$stack->start_worker(3);
$stack->wait_for(sub {
    my %h = map { split /\|/ } split /\n/, $stack->psql($holders);
    keys %h == 2;
}, 40, 'the instances to be shared again', 'worker-3');
pass('a new worker gets instances handed over');
done_testing;
