#!/usr/bin/perl
# 59-soak.t: a soak (issue 13, item 4). Mixed API load through nginx (state and other reads,
# token create, use and delete, node config updates, logins and logouts with the admin
# password, chart and metrics reads, alert acknowledgements) while the worker polls
# simulated clusters whose node CPU goes up and down, so that alerts are raised and resolved
# and their notifications delivered to a local webhook sink. After a warm-up and at the end
# the test prints, per process (responders, worker, nginx, PostgreSQL's processes together;
# the simulators are left out): resident memory (VmRSS), open file descriptors, PostgreSQL
# connections, error lines in the logs and the 5xx answers it counted.
#
# Asserted (true on any machine): no 5xx and no failed request, every answer the expected
# status, no error line in our programs' or nginx's logs, no process died, file descriptors
# and PostgreSQL connections not growing beyond a small slack, polling went on, notifications
# were delivered. Memory growth is printed; only the long run asserts it, with a generous
# bound (25 %; the target is 5 %). Timings are never asserted.
#
# The simulators are bench/pve-sim (the C one: the Perl one cannot serve 5,000 guests every
# 10 s on a busy machine, and a worker whose polls time out is not what a soak measures).
# make check runs the issue's short version: a 20 s warm-up, then 3 minutes (about 3.7
# minutes in all), 2 simulated clusters of 2 nodes and 10 guests, 50 operations a second. make soak (PULSE_SOAK=1): 30
# minutes after an 8-minute warm-up, 4 clusters of 25 nodes, 5,000 guests in all, 25 operations
# a second (each state read carries 5,000 guests). PULSE_SOAK_MINUTES sets the measured
# minutes, PULSE_SOAK_WARMUP the warm-up seconds,
# PULSE_SOAK_NODES and PULSE_SOAK_GUESTS the totals over the clusters, PULSE_SOAK_RATE the
# operations a second (0: as fast as they are answered).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use List::Util qw(min sum0);
use Mojo::IOLoop;
use Mojo::JSON qw(true false);
use Mojo::UserAgent;
use Test::More;
use Time::HiRes qw(sleep time);
use PulseStack;

my $long = $ENV{PULSE_SOAK};
my $minutes = $ENV{PULSE_SOAK_MINUTES} // ($long ? 30 : 3);
my $warmup = $ENV{PULSE_SOAK_WARMUP} // ($long ? 480 : 20);
my $nsims = $long ? 4 : 2;
my $nodes = $ENV{PULSE_SOAK_NODES} // ($long ? 100 : 4);
my $guests = $ENV{PULSE_SOAK_GUESTS} // ($long ? 5000 : 20);
$nsims = $nodes if $nodes < $nsims;
my $interval = $long ? 10 : 2;      # polling interval, seconds
my $lanes = 4;                      # requests in flight at once
# Operations started a second (an operation is one to three requests); 0: as fast as answered.
my $rate = $ENV{PULSE_SOAK_RATE} // ($long ? 25 : 50);
my $responders = 2;

my $stack = PulseStack->new(responders => $responders, settings => {
    pve_polling_interval => $interval, notify_rate_limit => 0 })->start;
$stack->setup_admin;
my $auth = $stack->token_headers;
my $url = sub { $stack->url(shift) };
my $setup_ua = $stack->ua;

# --- the estate: simulated clusters, a webhook sink, alerts that fire at once ---------------
my (@sims, @instances);
for my $i (1 .. $nsims) {
    my $n = int($nodes / $nsims) + ($i <= $nodes % $nsims ? 1 : 0);
    my $g = int($guests / $nsims) + ($i <= $guests % $nsims ? 1 : 0);
    my $sim = $stack->start_c_sim(name => "soak$i", cluster => "soakcluster$i", nodes => $n, guests => $g,
        token => "root\@pam!s=soak-token-$i");
    # Its running VMs (t/fakes/pve-sim.pl: guest i is a container when i % 3 == 2, stopped when
    # i % 10 == 9).
    $sim->{vms} = [map { 100 + $_ } grep { $_ % 3 != 2 && $_ % 10 != 9 } 0 .. $g - 1];
    push @sims, $sim;
    my $res = $setup_ua->post($url->('/api/config/nodes') => $auth => json => { type => 'pve',
        name => "soak$i", host => $sim->{url}, tokenName => 'root@pam!s', tokenValue => "soak-token-$i",
        fingerprint => $sim->{fingerprint} })->result;
    is($res->code, 201, "cluster soak$i added ($n nodes, $g guests)") or diag $res->body;
    push @instances, $stack->psql("SELECT id FROM pulse.instances WHERE name = 'soak$i'");
}
my $sink = $stack->start_webhook_sink;
$stack->alerts_to_webhook($sink, name => 'soak', cooldown => 1);

my $state = $stack->wait_state(sub { @{ $_[0]{nodes} } == $nodes && @{ $_[0]{vms} } + @{ $_[0]{containers} } >= $guests },
    ($long ? 600 : 60), "all $nodes nodes and $guests guests polled");
my @node_ids = map { $_->{id} } @{ $state->{nodes} };
# History is read for running guests: a stopped one has none (404 resource_not_found).
my @guest_ids = map { $_->{id} } grep { ($_->{status} // '') eq 'running' } @{ $state->{vms} }, @{ $state->{containers} };
my @storage_ids = map { $_->{id} } @{ $state->{storage} // [] };

# --- the load ----------------------------------------------------------------------------
my $ua;
# A new user agent: the old one's kept-alive connections close (before a snapshot, so that
# nginx's descriptors are counted without them).
sub fresh_ua {
    $ua = Mojo::UserAgent->new(insecure => 1, connect_timeout => 10, request_timeout => 120,
        inactivity_timeout => 120, max_redirects => 0);
}
fresh_ua();
my (%count, @unexpected, $n5xx, $nfailed, @tokens, @alert_ids, $seq);
($n5xx, $nfailed, $seq) = (0, 0, 0);

# Records an answer: its status against the expected ones.
sub record {
    my ($op, $tx, @expect) = @_;
    my $code = $tx->res->code // 0;
    $count{$op}{$code}++;
    $n5xx++ if $code >= 500;
    $nfailed++ if !$code;
    return $code if grep { $_ == $code } @expect;
    push @unexpected, "$op: $code " . substr($tx->res->body // ($tx->error // {})->{message} // '', 0, 200)
        if @unexpected < 20;
    $count{_unexpected}++;
    return $code;
}

my $pick = sub { $_[int rand @_] };
# Each operation: (weight, code that starts it and calls done when its last answer is in).
my @ops = (
    [30, sub { my $d = shift;
        $ua->get($url->('/api/state') => $auth => sub { record('state', $_[1], 200); $d->() }) }],
    [4, sub { my $d = shift;
        $ua->get($url->('/api/health') => sub { record('health', $_[1], 200); $d->() }) }],
    [8, sub { my $d = shift;
        $ua->get($url->('/api/alerts/active') => $auth => sub {
            my $tx = $_[1];
            if (record('alerts', $tx, 200) == 200) {
                @alert_ids = map { $_->{id} } grep { !$_->{acknowledged} } @{ (eval { $tx->res->json }) || [] };
            }
            $d->();
        }) }],
    [4, sub { my $d = shift;
        $ua->get($url->('/api/config/nodes') => $auth => sub { record('nodes', $_[1], 200); $d->() }) }],
    [3, sub { my $d = shift;
        $ua->get($url->('/api/security/tokens') => $auth => sub { record('tokens', $_[1], 200); $d->() }) }],
    [4, sub { my $d = shift;
        $ua->get($url->('/api/resources') => $auth => sub { record('resources', $_[1], 200); $d->() }) }],
    # All guests' charts: with 5,000 guests only the 5-minute range (tens of MB), and seldom.
    [$long ? 1 : 3, sub { my $d = shift;
        $ua->get($url->('/api/charts?range=' . ($long ? '5m' : $pick->(qw(5m 15m 1h)))) => $auth => sub {
            record('charts', $_[1], 200); $d->() }) }],
    [2, sub { my $d = shift;
        $ua->get($url->('/api/storage-charts?range=1h') => $auth => sub { record('storage-charts', $_[1], 200); $d->() }) }],
    [6, sub { my $d = shift;
        my ($type, $id) = rand() < 0.5 ? ('node', $pick->(@node_ids)) : ('guest', $pick->(@guest_ids));
        ($type, $id) = ('storage', $pick->(@storage_ids)) if @storage_ids && rand() < 0.15;
        $ua->get($url->("/api/metrics-store/history?resourceType=$type&resourceId=$id&range=" . $pick->(qw(1h 4h)))
            => $auth => sub { record('history', $_[1], 200); $d->() }) }],
    [2, sub { my $d = shift;
        $ua->get($url->('/api/metrics-store/stats') => $auth => sub { record('metrics-stats', $_[1], 200); $d->() }) }],
    # A token created, used at once, later deleted; a deleted one is refused at once.
    [6, sub { my $d = shift;
        $seq++;
        $ua->post($url->('/api/security/tokens') => $auth => json => { name => "soak-$seq",
            scopes => ['monitoring:read'] } => sub {
            my $tx = $_[1];
            return $d->() unless record('token-create', $tx, 200) == 200;
            my $tok = eval { $tx->res->json } // {};
            push @tokens, { id => $tok->{record}{id}, token => $tok->{token} };
            $ua->get($url->('/api/state') => { 'X-API-Token' => $tok->{token} } => sub {
                record('state-new-token', $_[1], 200); $d->() });
        }) }],
    [5, sub { my $d = shift;
        my $t = @tokens > 2 ? shift @tokens : undef;
        return Mojo::IOLoop->next_tick($d) unless $t;
        $ua->delete($url->("/api/security/tokens/$t->{id}") => $auth => sub {
            return $d->() unless record('token-delete', $_[1], 204) == 204;
            $ua->get($url->('/api/state') => { 'X-API-Token' => $t->{token} } => sub {
                record('state-deleted-token', $_[1], 401); $d->() });
        }) }],
    [3, sub { my $d = shift;
        $seq++;
        $ua->put($url->('/api/config/nodes/' . $pick->(@instances)) => $auth => json => {
            guestURL => "https://soak$seq.example" } => sub { record('node-update', $_[1], 200); $d->() }) }],
    # An alert that resolved since it was listed answers 404.
    [2, sub { my $d = shift;
        return Mojo::IOLoop->next_tick($d) unless @alert_ids;
        $ua->post($url->('/api/alerts/acknowledge') => $auth => json => { id => $pick->(@alert_ids) } => sub {
            record('alert-ack', $_[1], 200, 404); $d->() }) }],
);
my $total_weight = sum0(map { $_->[0] } @ops);
sub next_op {
    my $r = rand $total_weight;
    for my $op (@ops) { return $op->[1] if ($r -= $op->[0]) < 0 }
    return $ops[-1][1];
}

# A login with the admin's password (its own cookie jar), a read with the session, a logout.
# Logins are limited to 10 a minute per address: one every 10 s.
sub login_chain {
    my ($d) = @_;
    my $lua = Mojo::UserAgent->new(insecure => 1, connect_timeout => 10, request_timeout => 60, max_redirects => 0);
    my $cred = $stack->{admin};
    $lua->post($url->('/api/login') => json => { username => $cred->{user}, password => $cred->{password},
        rememberMe => false } => sub {
        my $tx = $_[1];
        # The closures hold the agent until the chain ends.
        my $done = sub { Mojo::IOLoop->next_tick(sub { undef $lua }); $d->() };
        return $done->() unless record('login', $tx, 200) == 200;
        my $csrf = $tx->res->headers->header('X-CSRF-Token');
        $lua->get($url->('/api/alerts/active') => sub {
            record('session-read', $_[1], 200);
            $lua->post($url->('/api/logout') => { 'X-CSRF-Token' => $csrf } => sub {
                record('logout', $_[1], 200); $done->() });
        });
    });
}

# Every 2 polling intervals, in each cluster: node1's CPU goes up or down, and the CPU of the
# next running VM in turn goes up while the one before it comes down. Alerts are raised and
# resolved, with their notifications.
my $cpu_high = 0;
my %hot;    # simulator name -> index into its running VMs
sub toggle_cpu {
    $cpu_high = !$cpu_high;
    for my $sim (@sims) {
        my @vms = @{ $sim->{vms} };
        my @set = ([node => 'node1', cpu => $cpu_high ? 0.95 + rand(0.04) : 0.10]);
        if (@vms) {
            my $i = $hot{ $sim->{name} } // -1;
            push @set, [vmid => $vms[$i], cpu => 0.05] if $i >= 0;
            $i = ($i + 1) % @vms;
            $hot{ $sim->{name} } = $i;
            push @set, [vmid => $vms[$i], cpu => 0.95 + rand(0.04)];
        }
        for my $m (@set) {
            my $r = eval { $stack->sim_metrics($sim, @$m) };
            diag('simulator metrics: ' . ($@ || $r->code)) unless $r && $r->is_success;
        }
    }
}

# Runs the load for secs seconds; returns when every request started is answered.
sub run_load {
    my ($secs) = @_;
    my $end = time + $secs;
    my ($inflight, $next_at) = (0, time);
    my ($lane, $go);
    $go = sub {
        return if time >= $end;
        $inflight++;
        next_op()->(sub { $inflight--; Mojo::IOLoop->next_tick($lane) });
    };
    # Each lane takes the next free start slot: $rate operations a second in all.
    $lane = sub {
        return $go->() unless $rate;
        my $slot = $next_at > time ? $next_at : time;
        $next_at = $slot + 1 / $rate;
        my $wait = $slot - time;
        Mojo::IOLoop->timer(($wait > 0 ? $wait : 0) => $go);
    };
    $lane->() for 1 .. $lanes;
    my $logging_in = 0;
    my @timers = (
        Mojo::IOLoop->recurring(10 => sub {
            return if $logging_in || time >= $end;
            $logging_in = 1;
            $inflight++;
            login_chain(sub { $inflight--; $logging_in = 0 });
        }),
        Mojo::IOLoop->recurring(2 * $interval => sub { toggle_cpu() if time < $end }),
        Mojo::IOLoop->recurring(0.2 => sub { Mojo::IOLoop->stop if time >= $end && !$inflight }),
    );
    Mojo::IOLoop->start;
    Mojo::IOLoop->remove($_) for @timers;
    undef $lane;
    undef $go;
}

# --- what is measured -----------------------------------------------------------------------
# A process's resident kB: in all (VmRSS) or its own (RssAnon: not shared memory or files).
sub proc_rss_kb {
    my ($pid, $field) = @_;
    $field //= 'VmRSS';
    open my $fh, '<', "/proc/$pid/status" or return 0;
    while (my $line = <$fh>) { return $1 if $line =~ /^$field:\s+(\d+)/ }
    return 0;
}
sub proc_fds {
    my ($pid) = @_;
    opendir my $d, "/proc/$pid/fd" or return 0;    # gone since it was listed (autovacuum)
    return scalar grep { /^\d+$/ } readdir $d;
}
sub children_of {
    my ($ppid) = @_;
    opendir my $d, '/proc' or return ();
    my @kids;
    for my $pid (grep { /^\d+$/ } readdir $d) {
        open my $fh, '<', "/proc/$pid/stat" or next;
        my $stat = <$fh> // '';
        push @kids, $pid if $stat =~ /\) \S+ (\d+) / && $1 == $ppid;
    }
    return sort { $a <=> $b } @kids;
}
sub count_lines {
    my ($file, $re) = @_;
    open my $fh, '<', $stack->log_dir . "/$file" or return 0;
    my $n = 0;
    while (my $line = <$fh>) { $n++ if $line =~ $re }
    return $n;
}

# Per process group: pids, resident kB, descriptors.
sub snapshot {
    fresh_ua();
    sleep 1;
    my %g;
    $g{"fcgi-$_"} = [$stack->pid_of("fcgi-$_")] for 1 .. $responders;
    $g{'worker-1'} = [$stack->pid_of('worker-1')];
    my $nginx = $stack->pid_of('nginx');
    $g{nginx} = [$nginx, children_of($nginx)];
    my $pg = $stack->pg_pid;
    $g{postgresql} = [$pg, children_of($pg)];
    # The backends serving our programs (of the processes above).
    $g{'pg-backends'} = [split /\n/, $stack->psql(q{SELECT pid FROM pg_stat_activity WHERE datname = 'pulse'
        AND pid <> pg_backend_pid() ORDER BY pid})];
    my %s;
    for my $name (keys %g) {
        my @pids = grep { $_ } @{ $g{$name} };
        # Descriptors: the least of five counts 0.2 s apart, so that a connection of the
        # moment (the worker's to a simulator) does not count; a leaked one stays.
        my $fds = min(map { sleep 0.2 if $_ > 1; sum0(map { proc_fds($_) } @pids) } 1 .. 5);
        $s{$name} = { pids => join(',', @pids), n => scalar @pids, rss => 1e12, anon => 1e12, fds => $fds };
    }
    # Memory: the least of samples 0.25 s apart over three polling intervals and a second, so
    # that it is read between the worker's cycles (what it keeps), not in the middle of one
    # (what a cycle holds for a moment): the cycles of the simulated clusters drift against
    # each other and, on a busy machine, may leave only short moments with none in flight.
    # A leak raises the least as well.
    for my $k (0 .. 4 * (3 * $interval + 1)) {
        sleep 0.25 if $k;
        for my $name (keys %g) {
            my @pids = grep { $_ } @{ $g{$name} };
            $s{$name}{rss} = min($s{$name}{rss}, sum0(map { proc_rss_kb($_) } @pids));
            $s{$name}{anon} = min($s{$name}{anon}, sum0(map { proc_rss_kb($_, 'RssAnon') } @pids));
        }
    }
    $s{pg_conn} = $stack->psql(q{SELECT count(*) FROM pg_stat_activity WHERE datname = 'pulse'
        AND pid <> pg_backend_pid()});
    $s{pg_conn_by} = $stack->psql(q{SELECT string_agg(app || '=' || n, ' ' ORDER BY app) FROM
        (SELECT regexp_replace(application_name, ':.*', '') app, count(*) n FROM pg_stat_activity
        WHERE datname = 'pulse' AND pid <> pg_backend_pid() GROUP BY 1) x});
    $s{pg_started} = $stack->psql(q{SELECT pg_postmaster_start_time()});
    my $ours = qr/level=error/;
    $s{errors} = sum0(map { count_lines("$_.log", $ours) } map { "fcgi-$_" } 1 .. $responders) + count_lines('worker-1.log', $ours);
    $s{warnings} = sum0(map { count_lines("$_.log", qr/level=warn/) } map { "fcgi-$_" } 1 .. $responders)
        + count_lines('worker-1.log', qr/level=warn/);
    $s{nginx_errors} = count_lines('nginx-error.log', qr/\[(?:error|crit|alert|emerg)\]/);
    $s{pg_errors} = count_lines('postgresql.log', qr/\b(?:ERROR|FATAL|PANIC):/);
    $s{deliveries} = $ua->get("$sink->{url}/__sink/stats")->result->json->{delivered} // 0;
    $s{requests} = sum0(map { sum0(values %{ $count{$_} }) } grep { !/^_/ } keys %count);
    $s{at} = time;
    return \%s;
}
# What the soak prints before and after its quiet minutes is printed at its end: prove -j2,
# having read a test's diag (standard error), waits for that test's next line on standard
# output, and a soak quiet for minutes after a diag held prove's other job slot with it.
my @held;
sub say_later { push @held, @_ }
sub show {
    my ($when, $s) = @_;
    my $say = $when eq 'start' ? \&say_later : \&diag;
    for my $name ((map { "fcgi-$_" } 1 .. $responders), 'worker-1', 'nginx', 'postgresql', 'pg-backends') {
        $say->(sprintf('%-5s %-11s %2d process%s  VmRSS %8.1f MB (RssAnon %7.1f MB)  fds %4d', $when, $name,
            $s->{$name}{n}, $s->{$name}{n} == 1 ? ' ' : 'es', $s->{$name}{rss} / 1024, $s->{$name}{anon} / 1024,
            $s->{$name}{fds}));
    }
    $say->(sprintf('%-5s PostgreSQL connections %d (%s); error lines: ours %d (warnings %d), nginx %d, '
        . 'PostgreSQL %d; 5xx %d; requests %d; webhook deliveries %d', $when, $s->{pg_conn}, $s->{pg_conn_by},
        $s->{errors}, $s->{warnings},
        $s->{nginx_errors}, $s->{pg_errors}, $n5xx, $s->{requests}, $s->{deliveries}));
}

# --- the soak ---------------------------------------------------------------------------
say_later(sprintf('soak: %d simulated clusters, %d nodes, %d guests, polling every %d s; %d requests in '
    . 'flight, a login every 10 s; warm-up %d s, then %g min', $nsims, $nodes, $guests, $interval, $lanes,
    $warmup, $minutes));
run_load($warmup);
my $start = snapshot();
show('start', $start);
my $since = $stack->psql('SELECT now()');
run_load($minutes * 60);
my $end = snapshot();
diag($_) for @held;
show('end', $end);

my $secs = $end->{at} - $start->{at};
diag(sprintf('%d requests in %.0f s (%.1f a second) after the warm-up', $end->{requests} - $start->{requests},
    $secs, ($end->{requests} - $start->{requests}) / ($secs || 1)));
diag('answers: ' . join(' ', map { my $op = $_; "$op=" . join('/', map { "$_:$count{$op}{$_}" } sort keys %{ $count{$op} }) }
    sort grep { !/^_/ } keys %count));
my @growth;
for my $name ((map { "fcgi-$_" } 1 .. $responders), 'worker-1', 'nginx', 'postgresql', 'pg-backends') {
    my ($a, $b) = ($start->{$name}{rss}, $end->{$name}{rss});
    my $pct = $a ? 100 * ($b - $a) / $a : 0;
    # PostgreSQL's resident memory counts the shared buffers each process has touched so far:
    # printed, not a measure of a leak.
    push @growth, [$name, $pct] unless $name eq 'postgresql' || $name eq 'pg-backends';
    my ($c, $d) = ($start->{$name}{anon}, $end->{$name}{anon});
    diag(sprintf('memory growth after the warm-up: %-11s VmRSS %+6.1f %% (%.1f -> %.1f MB), RssAnon %+6.1f %%',
        $name, $pct, $a / 1024, $b / 1024, $c ? 100 * ($d - $c) / $c : 0));
}
my $queue = $stack->psql(q{SELECT string_agg(status || '=' || n, ' ' ORDER BY status) FROM
    (SELECT status, count(*) n FROM pulse.notification_queue GROUP BY 1) x});
diag('notification queue: ' . ($queue || 'empty'));

# --- what must hold on any machine -------------------------------------------------------------
is($n5xx, 0, 'no 5xx answer');
is($nfailed, 0, 'no request without an answer');
is($count{_unexpected} // 0, 0, 'every answer has the expected status') or diag join("\n", @unexpected);
is($end->{errors}, 0, 'no level=error line in the responders\' and the worker\'s logs')
    or diag join('', grep { /level=error/ } map { $stack->log_tail($_, 100000) } 'worker-1', map { "fcgi-$_" } 1 .. $responders);
is($end->{nginx_errors}, 0, 'no error line in nginx\'s log') or diag $stack->log_tail('nginx-error', 20);
is($end->{pg_errors}, 0, 'no ERROR, FATAL or PANIC line in PostgreSQL\'s log')
    or diag join('', grep { /\b(?:ERROR|FATAL|PANIC):/ } split /^/, $stack->log_tail('postgresql', 100000));
for my $name ((map { "fcgi-$_" } 1 .. $responders), 'worker-1') {
    ok($stack->alive($name), "$name still runs");
}
is($end->{nginx}{pids}, $start->{nginx}{pids}, 'nginx: the same master and workers');
is($end->{pg_started}, $start->{pg_started}, 'PostgreSQL was not restarted');
# The worker's descriptors include its connections to the simulators.
for my $name ((map { "fcgi-$_" } 1 .. $responders), 'worker-1') {
    ok($end->{$name}{fds} <= $start->{$name}{fds} + ($name eq 'worker-1' ? 16 : 4), "$name: descriptors flat ($start->{$name}{fds} -> $end->{$name}{fds})");
}
ok($end->{nginx}{fds} <= $start->{nginx}{fds} + 8, "nginx: descriptors flat ($start->{nginx}{fds} -> $end->{nginx}{fds})");
ok($end->{pg_conn} <= $start->{pg_conn} + 2, "PostgreSQL connections flat ($start->{pg_conn} -> $end->{pg_conn})");
is($stack->psql("SELECT count(*) FROM pulse.poll_status WHERE last_success > '$since'"), scalar @instances,
    'every cluster was polled during the soak');
SKIP: {
    # The CPU goes up and down every 2 polling intervals; a shorter soak may see no change.
    skip 'a soak too short for an alert to come and go', 1 if $minutes * 60 < 8 * $interval;
    ok($end->{deliveries} > $start->{deliveries}, 'notifications were delivered during the soak');
}
if ($long) {
    for my $g (@growth) {
        ok($g->[1] <= 25, sprintf('%s: memory growth %.1f %% within the generous bound of 25 %% (target 5 %%)', @$g));
    }
}
done_testing;
