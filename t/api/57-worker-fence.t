#!/usr/bin/perl
# 57-worker-fence.t: a frozen worker is fenced (issue 13, item 2). Two workers poll four
# simulated instances; one is stopped with SIGSTOP: the other ends its database sessions
# once its heartbeat is fence_after old and polls its instances; when the frozen one
# resumes it writes nothing for instances it no longer holds. Then the same for a worker
# whose connection is cut: a third worker reaches PostgreSQL through t/fakes/pg-proxy.pl,
# which is stopped. Every write to pulse.poll_status and pulse.pve_nodes is checked by a
# trigger: the writing session must hold the instance's claim (its advisory lock). Figures are
# printed; only a generous bound is asserted. PULSE_DRILL=1 (make drill) runs more rounds.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use File::Path qw(make_path);
use Time::HiRes qw(sleep time);
use PulseStack;

my $interval = 2;
my $fence_after = 4;
my $rounds = $ENV{PULSE_DRILL} ? 5 : 1;
my $stack = PulseStack->new(workers => 2, settings => { pve_polling_interval => $interval,
    heartbeat_interval => 1, fence_after => $fence_after })->start;
my @sims;
my %stopped;    # programs under SIGSTOP, resumed whatever happens
END { kill 'CONT', $_ for values %stopped }

# The auditor: a write by a session that does not hold the instance's claim is recorded
# with held = false.
$stack->psql(q{
CREATE TABLE public.fence_audit (at timestamptz NOT NULL DEFAULT clock_timestamp(),
    app text, tbl text, instance_id text, held boolean);
CREATE FUNCTION public.fence_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.fence_audit (app, tbl, instance_id, held)
    SELECT current_setting('application_name'), TG_TABLE_NAME, NEW.instance_id,
        EXISTS (SELECT 1 FROM pg_locks l JOIN pulse.instances i ON i.number = l.objid::int
            WHERE i.id = NEW.instance_id AND l.locktype = 'advisory' AND l.granted
            AND l.pid = pg_backend_pid() AND l.classid = 1347747842 AND l.objsubid = 2);
    RETURN NEW;
END $$;
CREATE TRIGGER fence_audit AFTER INSERT OR UPDATE ON pulse.poll_status
    FOR EACH ROW EXECUTE FUNCTION public.fence_audit();
CREATE TRIGGER fence_audit AFTER INSERT OR UPDATE ON pulse.pve_nodes
    FOR EACH ROW EXECUTE FUNCTION public.fence_audit();
});

$stack->setup_admin;
for my $i (1 .. 4) {
    my $sim = $stack->start_sim(name => "s$i", nodes => 1, guests => 2, token => "root\@pam!t=tok$i");
    push @sims, $sim;
    # Slow answers keep a cycle in flight most of the time: a frozen worker resumes in the
    # middle of one, with answers to write.
    $stack->ua->post("$sim->{url}/__sim/mode" => json => { mode => 'slow', delay => 0.5 });
    my $res = $stack->ua->post($stack->url('/api/config/nodes') => $stack->token_headers => json => {
        type => 'pve', name => "site$i", host => $sim->{url}, tokenName => 'root@pam!t',
        tokenValue => "tok$i", fingerprint => $sim->{fingerprint} })->result;
    is($res->code, 201, "site$i added");
}
$stack->wait_state(sub { @{ $_[0]{nodes} } == 4 }, 60, 'all four sites polled');

my $holders_sql = q{SELECT a.application_name, count(*) FROM pg_locks l JOIN pg_stat_activity a
    USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 1347747842
    GROUP BY 1 ORDER BY 1};
sub holders { my %h = map { split /\|/ } split /\n/, $stack->psql($holders_sql); \%h }
sub sessions_of {
    my ($id) = @_;
    $stack->psql(qq{SELECT count(*) FROM pg_stat_activity WHERE application_name =
        'pulse-worker:$id' OR application_name LIKE 'pulse-notify:$id:%'});
}
sub violations { $stack->psql(q{SELECT count(*) FROM public.fence_audit WHERE NOT held}) }
sub log_count {
    my ($name, $re) = @_;
    my $n = () = $stack->log_tail($name, 1_000_000) =~ /$re/g;
    return $n;
}

# Waits (a few seconds at most) until the last request of a cycle of an instance $worker
# holds reaches its simulator (the guest agent's filesystems of vm100, asked after its status),
# so that stopping now leaves the cycle's last answer to come in while the worker is stopped
# and the write to be tried when it resumes: the write that must be refused.
sub at_last_stage {
    my ($worker) = @_;
    my @mine = map { /^site(\d+)$/ ? $sims[$1 - 1] : () } split /\n/, $stack->psql(qq{
        SELECT i.name FROM pg_locks l JOIN pg_stat_activity a USING (pid) JOIN pulse.instances i
        ON i.number = l.objid::int WHERE l.locktype = 'advisory' AND l.granted
        AND l.classid = 1347747842 AND a.application_name = 'pulse-worker:$worker'});
    my $guest_requests = sub {
        my $n = 0;
        for my $sim (@mine) {
            my $by = $stack->ua->get("$sim->{url}/__sim/stats")->result->json->{by_path} // {};
            $n += $by->{$_} for grep { m{/agent/get-fsinfo} } keys %$by;
        }
        return $n;
    };
    my ($before, $deadline) = ($guest_requests->(), time + 4 * $interval);
    sleep 0.02 while $guest_requests->() == $before && time < $deadline;
}

# Stops $victim (a worker, or the proxy of worker $worker) and waits until the other workers
# hold every instance and have polled each since; then resumes it. Returns the seconds from
# the stop until all four were held elsewhere and until all four were polled elsewhere.
sub freeze_round {
    my (%o) = @_;
    my ($victim, $worker) = @o{qw(victim worker)};
    my $app = "pulse-worker:$worker";
    $stack->wait_for(sub { (holders()->{$app} // 0) >= 1 }, 60, "$worker to hold an instance",
        $victim);
    my $since = $stack->psql(q{SELECT now()});
    my $pid = $stack->pid_of($victim);
    at_last_stage($worker);
    kill 'STOP', $pid;
    $stopped{$victim} = $pid;
    my $t0 = time;
    $stack->wait_for(sub {
        my $h = holders();
        !$h->{$app} && (List::Util::sum(values %$h) // 0) == 4;
    }, $fence_after + 10 * $interval + 10, "the other workers to hold all four instances");
    my $held = time - $t0;
    $stack->wait_for(sub {
        $stack->psql(qq{SELECT count(*) FROM pulse.poll_status WHERE worker_id <> '$worker'
            AND last_success > '$since'}) == 4;
    }, 10 * $interval + 10, 'all four polled by the others');
    my $polled = time - $t0;
    is(sessions_of($worker), 0, "$worker: every session ended while it is stopped");
    kill 'CONT', $pid;
    delete $stopped{$victim};
    # Back: it reconnects and takes a fair share again, by the rules.
    $stack->wait_for(sub { (holders()->{$app} // 0) >= 1 }, 60, "$worker to claim again", $worker);
    sleep 2 * $interval;
    return ($held, $polled);
}

use List::Util ();
my (@held, @polled);
for my $round (1 .. $rounds) {
    my $worker = $round % 2 ? 'worker-1' : 'worker-2';
    my ($h, $p) = freeze_round(victim => $worker, worker => $worker);
    push @held, $h;
    push @polled, $p;
    diag(sprintf('frozen %s (round %d): instances held elsewhere after %.1f s, all polled '
        . 'elsewhere after %.1f s (fence_after %d s, interval %d s)', $worker, $round, $h, $p,
        $fence_after, $interval));
    ok($p <= $fence_after + 6 * $interval, "round $round: taken over within fence_after + 6 intervals");
    is(violations(), 0, "round $round: no write by a session without the claim");
}
my $fenced = log_count('worker-1', qr/fenced a worker without heartbeat/)
    + log_count('worker-2', qr/fenced a worker without heartbeat/);
ok($fenced >= 1, "the fencing is logged ($fenced sessions ended)");
my $dropped = log_count('worker-1', qr/cycle not written/) + log_count('worker-2', qr/cycle not written/);
diag("cycles in flight at the freeze, refused after resuming: $dropped");

# The cut connection: worker-3 reaches PostgreSQL through the proxy, which stops. worker-2
# stops first, so that worker-1 hands worker-3 half the instances (a fair share of two).
$stack->stop_program('worker-2', 'TERM');
my $pdir = $stack->dir . '/proxy';
make_path($pdir);
my $port = $stack->{pg_port};
$stack->spawn('pg-proxy', {}, $^X, PulseStack::srcdir() . '/t/fakes/pg-proxy.pl',
    '--listen', "$pdir/.s.PGSQL.$port", '--to', $stack->pg_sock . "/.s.PGSQL.$port");
$stack->wait_for(sub { -S "$pdir/.s.PGSQL.$port" }, 10, 'the proxy', 'pg-proxy');
$stack->start_worker(3, PULSE_DATABASE_URL => "host=$pdir port=$port dbname=pulse user=pulse");
for my $round (1 .. $rounds) {
    my ($h, $p) = freeze_round(victim => 'pg-proxy', worker => 'worker-3');
    diag(sprintf('cut connection of worker-3 (round %d): instances held elsewhere after %.1f s, '
        . 'all polled elsewhere after %.1f s', $round, $h, $p));
    ok($p <= $fence_after + 6 * $interval, "cut round $round: taken over within fence_after + 6 intervals");
    is(violations(), 0, "cut round $round: no write by a session without the claim");
}
diag('cycles of worker-3 in flight at the cut, refused: ' . log_count('worker-3', qr/cycle not written/));
ok(log_count('worker-3', qr/database connection restored/) >= 1,
    'worker-3 reconnected after the proxy resumed');

my $writes = $stack->psql(q{SELECT string_agg(app || '=' || n, ' ' ORDER BY app) FROM
    (SELECT app, count(*) n FROM public.fence_audit GROUP BY app) x});
diag("audited writes: $writes");
is(violations(), 0, 'no write by a session without the claim, in all');
done_testing;
