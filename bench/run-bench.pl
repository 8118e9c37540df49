#!/usr/bin/perl
# run-bench.pl: `make bench`. Measures GET /api/health through nginx against a bare libfcgi
# responder returning the same bytes behind an identical nginx, side by side in one run with
# wrk, and prints requests/s, p99 and the ratio; then the responder's idle memory.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use File::Path qw(make_path);
use PulseStack;
use Time::HiRes qw(sleep time);
use Mojo::JSON ();
use List::Util qw(sum0);
use POSIX qw(strftime);

my $duration = $ENV{BENCH_SECONDS} // 8;
my $connections = $ENV{BENCH_CONNECTIONS} // 32;
my $rounds = $ENV{BENCH_ROUNDS} // 3;

# BENCH_ONLY=agent runs only the agent part (no wrk, no stack): pulse-agent beside
# node_exporter (issue 14's targets).
if (($ENV{BENCH_ONLY} // '') eq 'agent') {
    agent_bench();
    exit 0;
}
system('which wrk >/dev/null 2>&1') == 0 or die "wrk is not installed (apt-get install wrk)\n";
# BENCH_ONLY=poll runs only the polling and /api/state part.
if (($ENV{BENCH_ONLY} // '') eq 'poll') {
    poll_bench();
    exit 0;
}
# BENCH_ONLY=scale runs only the worker's figures at 1,000 to 20,000 guests side by side.
if (($ENV{BENCH_ONLY} // '') eq 'scale') {
    scale_bench();
    exit 0;
}
# BENCH_ONLY=metrics runs only the metrics history part.
if (($ENV{BENCH_ONLY} // '') eq 'metrics') {
    metrics_bench();
    exit 0;
}
# BENCH_ONLY=alerts-latency runs only the alert-to-webhook latency part.
if (($ENV{BENCH_ONLY} // '') eq 'alerts-latency') {
    alerts_latency_bench($_) for qw(lean mojo);
    exit 0;
}
# BENCH_ONLY=agents runs only the agents' report load (issue 14).
if (($ENV{BENCH_ONLY} // '') eq 'agents') {
    agents_load_bench();
    exit 0;
}
# BENCH_ONLY=ui runs only the web UI's figures in headless Chromium (issue 15).
if (($ENV{BENCH_ONLY} // '') eq 'ui') {
    ui_bench();
    exit 0;
}
# BENCH_ONLY=audit runs only the audit log's cost (issue 16): a login with audit on and off.
if (($ENV{BENCH_ONLY} // '') eq 'audit') {
    audit_bench();
    exit 0;
}
# BENCH_ONLY=report runs only the 30-day PDF report of one guest (issue 17).
if (($ENV{BENCH_ONLY} // '') eq 'report') {
    report_bench();
    exit 0;
}
# BENCH_ONLY=prom runs only the Prometheus part (issue 17): GET /metrics with 5,000 guests,
# and what counting costs a request.
if (($ENV{BENCH_ONLY} // '') eq 'prom') {
    prom_bench();
    exit 0;
}
# BENCH_ONLY=amplification runs only the oversized-body part (security review H2).
if (($ENV{BENCH_ONLY} // '') eq 'amplification') {
    amplification_bench();
    exit 0;
}

my $stack = PulseStack->new(responders => 1, threads => 4, workers => 1,
    settings => {})->start;

# Memory of an idle responder, before any load.
sleep 1;
my %idle = memory($stack->pid_of('fcgi-1'));

# The baseline: bare libfcgi, same thread count, the same bytes, behind its own nginx
# rendered from the same site template.
my $body = $stack->ua->get($stack->url('/api/health'))->result->body;
my $dir = $stack->dir . '/bare';
make_path($dir);
open my $fh, '>', "$dir/body.json" or die;
print {$fh} $body;
close $fh;
my $bare_sock = "$dir/bare.sock";
my $bare_pid = $stack->spawn('bare-fcgi', {}, PulseStack::builddir() . '/bench/bare-fcgi', $bare_sock, 4,
    "$dir/body.json");
$stack->wait_for(sub { -S $bare_sock }, 10, 'the bare responder');
my $bare_port = start_bare_nginx($stack, $bare_sock, $dir);

my %url = (pulse => $stack->url('/api/health'), bare => "https://127.0.0.1:$bare_port/api/health");
my %runs = (pulse => [], bare => []);
wrk($url{$_}, 2) for qw(pulse bare);    # warm up TLS sessions and caches
for my $round (1 .. $rounds) {
    for my $which (qw(pulse bare)) {
        push @{ $runs{$which} }, wrk($url{$which}, $duration);
    }
}
my %loaded = memory($stack->pid_of('fcgi-1'));

# Authenticated GET /api/version: an API token and a session, beside the anonymous request,
# against the same responder. The token check is a SHA3-256 and a cache lookup (a hash
# lookup in PostgreSQL on a miss), never a scan of all tokens.
my $admin = $stack->setup_admin;
for my $i (1 .. 200) {    # many tokens: the lookup must not depend on their number
    $stack->ua->post($stack->url('/api/security/tokens') => $stack->token_headers => json => { name => "bench $i" });
}
my (undef, undef, $login) = $stack->login;
my ($cookie) = map { /^(pulse_session=[0-9a-f]+)/ ? $1 : () } @{ $login->headers->every_header('Set-Cookie') };
my $version = $stack->url('/api/version');
my %auth_runs = (anonymous => [], token => [], session => []);
my %auth_header = (anonymous => '', token => "X-API-Token: $admin->{token}", session => "Cookie: $cookie");
wrk($version, 2, $auth_header{$_}) for qw(anonymous token session);
for my $round (1 .. $rounds) {
    push @{ $auth_runs{$_} }, wrk($version, $duration, $auth_header{$_}) for qw(anonymous token session);
}
my %arps = map { $_ => median(map { $_->{rps} } @{ $auth_runs{$_} }) } keys %auth_runs;
my %ap99 = map { $_ => median(map { $_->{p99} } @{ $auth_runs{$_} }) } keys %auth_runs;

sub median {
    my @v = sort { $a <=> $b } @_;
    return $v[int(@v / 2)];
}
my %rps = map { $_ => median(map { $_->{rps} } @{ $runs{$_} }) } qw(pulse bare);
my %p99 = map { $_ => median(map { $_->{p99} } @{ $runs{$_} }) } qw(pulse bare);

print "\n== GET /api/health through nginx (wrk -t2 -c$connections, ${duration}s x $rounds rounds, median) ==\n";
printf "%-28s %12s %10s\n", '', 'requests/s', 'p99 ms';
printf "%-28s %12.0f %10.2f\n", 'pulse-fcgi (4 threads)', $rps{pulse}, $p99{pulse};
printf "%-28s %12.0f %10.2f\n", 'bare libfcgi (4 threads)', $rps{bare}, $p99{bare};
printf "%-28s %12.2f %10.2f   (target: throughput >= 0.80)\n", 'ratio pulse / bare',
    $rps{pulse} / $rps{bare}, $p99{pulse} / ($p99{bare} || 1);
print "\n== GET /api/version with credentials (201 tokens stored; same wrk settings, median) ==\n";
printf "%-28s %12s %10s %10s\n", '', 'requests/s', 'p99 ms', 'ratio';
for my $k (qw(anonymous token session)) {
    printf "%-28s %12.0f %10.2f %10.2f%s\n", $k eq 'anonymous' ? 'no credentials' : $k eq 'token' ? 'X-API-Token' : 'session cookie',
        $arps{$k}, $ap99{$k}, $arps{$k} / $arps{anonymous}, $k eq 'anonymous' ? '' : '   (target: >= 0.80)';
}
print "\n== pulse-fcgi memory (4 threads, 4 PostgreSQL connections) ==\n";
printf "%-28s %8.1f MB resident  %6.1f MB private   (target: <= 12 / <= 4)\n", 'idle', $idle{rss}, $idle{private};
printf "%-28s %8.1f MB resident  %6.1f MB private\n", 'after the load', $loaded{rss}, $loaded{private};

$stack->stop_program('bare-fcgi', 'TERM', 5) // $stack->stop_program('bare-fcgi', 'KILL', 5);
kill 'TERM', $stack->{bare_nginx_pid} if $stack->{bare_nginx_pid};
$stack->stop;

amplification_bench() unless ($ENV{BENCH_SKIP_AMPLIFICATION} // '') eq '1';
audit_bench() unless ($ENV{BENCH_SKIP_AUDIT} // '') eq '1';
report_bench() unless ($ENV{BENCH_SKIP_REPORT} // '') eq '1';
poll_bench() unless ($ENV{BENCH_SKIP_POLL} // '') eq '1';
metrics_bench() unless ($ENV{BENCH_SKIP_METRICS} // '') eq '1';
unless (($ENV{BENCH_SKIP_ALERTS_LATENCY} // '') eq '1') { alerts_latency_bench($_) for qw(lean mojo) }
alerts_benches() unless ($ENV{BENCH_SKIP_ALERTS} // '') eq '1';
agents_load_bench() unless ($ENV{BENCH_SKIP_AGENTS} // '') eq '1';
ui_bench() unless ($ENV{BENCH_SKIP_UI} // '') eq '1';
exit 0;

# One worker polling a simulated 100 nodes with 5,000 guests every 10 s: its CPU per cycle
# and memory beside the simulator's; then GET /api/state of that estate against a bare
# responder sending the same bytes, full body and 304.
sub poll_bench {
    my $nodes = $ENV{BENCH_NODES} // 100;
    my $guests = $ENV{BENCH_GUESTS} // 5000;
    my $interval = 10;
    my $cycles = $ENV{BENCH_CYCLES} // 3;
    my $s = PulseStack->new(responders => 1, threads => 4, settings => { pve_polling_interval => $interval,
        log_level => 'warn' })->start;
    my $admin = $s->setup_admin;
    my $which = $ENV{BENCH_SIM} // 'perl';
    my $sim = bench_sim($s, $nodes, $guests, $which);
    my $res = $s->ua->post($s->url('/api/config/nodes') => $s->token_headers => json => { type => 'pve',
        name => 'bench', host => $sim->{url}, tokenName => 'root@pam!b', tokenValue => 'bench',
        fingerprint => $sim->{fingerprint} })->result;
    die 'node add failed: ' . $res->body unless $res->code == 201;
    $s->wait_state(sub { @{ $_[0]{vms} } + @{ $_[0]{containers} } == $guests }, 120, 'the whole estate');
    my $wpid = $s->pid_of('worker-1');
    my $spid = $s->pid_of('sim-sim');
    my $count = sub { $s->psql(q{SELECT extract(epoch FROM last_success) FROM pulse.poll_status}) };
    # Align on a cycle boundary, then measure whole cycles.
    my $last = $count->();
    $s->wait_for(sub { $count->() ne $last }, 30, 'a cycle');
    my ($w0, $s0) = (cpu_seconds($wpid), cpu_seconds($spid));
    my $t0 = time;
    for (1 .. $cycles) {
        $last = $count->();
        $s->wait_for(sub { $count->() ne $last }, 60, 'a cycle');
    }
    my $elapsed = time - $t0;
    my ($w1, $s1) = (cpu_seconds($wpid), cpu_seconds($spid));
    my %wm = memory($wpid);
    my %sm = memory($spid);
    my $ms = $s->psql(q{SELECT round(last_duration_ms) FROM pulse.poll_status});
    my $per = ($w1 - $w0) / $cycles;
    printf "\n== one worker polling %d nodes / %d guests every %d s (%d cycles, %.0f s) ==\n",
        $nodes, $guests, $interval, $cycles, $elapsed;
    printf "%-28s %12s %14s %14s\n", '', 'CPU/cycle s', '% of one core', 'resident MB';
    printf "%-28s %12.3f %14.1f %14.1f   (target: < 25 %% and < 64 MB)\n", 'pulse-worker', $per,
        100 * ($w1 - $w0) / $elapsed, $wm{rss};
    printf "%-28s %12.3f %14.1f %14.1f\n", $which eq 'c' ? 'simulator (C)' : 'simulator (Perl)', ($s1 - $s0) / $cycles,
        100 * ($s1 - $s0) / $elapsed, $sm{rss};
    printf "%-28s %12s\n", 'last cycle, wall', "$ms ms";

    state_against_bare($s, $admin, sub { 'for that estate' });
    $s->stop;
}

# GET /api/state of what $s holds against a bare responder sending the same bytes behind an
# identical nginx: full body, and the 304 path. The worker is stopped first so that the state
# stays as written. $what->(decoded state) says what the state holds, for the title.
sub state_against_bare {
    my ($s, $admin, $what) = @_;
    $s->stop_program('worker-1', 'TERM', 20);
    my $state = $s->ua->get($s->url('/api/state') => $s->token_headers)->result;
    die '/api/state: ' . $state->code unless $state->code == 200;
    my $etag = $state->headers->etag;
    my $dir = $s->dir . '/bare';
    make_path($dir);
    open my $fh, '>', "$dir/body.json" or die;
    print {$fh} $state->body;
    close $fh;
    my $bare_sock = "$dir/bare.sock";
    $s->spawn('bare-fcgi', {}, PulseStack::builddir() . '/bench/bare-fcgi', $bare_sock, 4, "$dir/body.json");
    $s->wait_for(sub { -S $bare_sock }, 10, 'the bare responder');
    my $bport = start_bare_nginx($s, $bare_sock, $dir);
    my $token = "X-API-Token: $admin->{token}";
    my %r;
    for my $round (1 .. $rounds) {
        push @{ $r{full} }, wrk_conns($s->url('/api/state'), $duration, $token, 8);
        push @{ $r{bare} }, wrk_conns("https://127.0.0.1:$bport/api/health", $duration, '', 8);
        push @{ $r{n304} }, wrk_conns($s->url('/api/state'), $duration, $token, 8, "If-None-Match: $etag");
    }
    my %med = map { my $k = $_; $k => median(map { $_->{rps} } @{ $r{$k} }) } keys %r;
    my %p99 = map { my $k = $_; $k => median(map { $_->{p99} } @{ $r{$k} }) } keys %r;
    printf "\n== GET /api/state %s (%.1f MB body, wrk -t2 -c8, %ds x %d rounds, median) ==\n",
        $what->($state->json), length($state->body) / 1048576, $duration, $rounds;
    printf "%-28s %12s %10s\n", '', 'requests/s', 'p99 ms';
    printf "%-28s %12.1f %10.2f\n", 'pulse-fcgi, full body', $med{full}, $p99{full};
    printf "%-28s %12.1f %10.2f\n", 'bare libfcgi, same bytes', $med{bare}, $p99{bare};
    printf "%-28s %12.2f %10s   (target: >= 0.70)\n", 'ratio full / bare', $med{full} / $med{bare}, '';
    printf "%-28s %12.1f %10.2f\n", 'pulse-fcgi, 304 path', $med{n304}, $p99{n304};
    $s->stop_program('bare-fcgi', 'TERM', 5);
    kill 'TERM', $s->{bare_nginx_pid} if $s->{bare_nginx_pid};
}

sub cpu_seconds {
    my $pid = shift;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my @f = split ' ', scalar <$fh>;
    return ($f[13] + $f[14]) / 100;    # utime + stime in clock ticks (USER_HZ 100)
}

sub wrk {
    my ($url, $secs, $header) = @_;
    return wrk_conns($url, $secs, $header, $connections);
}

sub wrk_conns {
    my ($url, $secs, $header, $conns, $header2) = @_;
    my $h = join ' ', map { "-H '$_'" } grep { $_ } $header, $header2;
    my $out = qx{wrk -t2 -c$conns -d${secs}s --latency $h $url 2>&1};
    my ($rps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
    my ($p99, $unit) = $out =~ /^\s+99%\s+([\d.]+)(us|ms|s)\b/m;
    die "wrk failed: $out" unless defined $rps && defined $p99;
    $p99 /= 1000 if $unit eq 'us';
    $p99 *= 1000 if $unit eq 's';
    my ($non2xx) = $out =~ /Non-2xx or 3xx responses:\s+(\d+)/;
    # A 304 run counts its answers as 3xx: only a missing 304 would be an error there.
    die "wrk saw $non2xx error answers from $url\n$out" if $non2xx && !($header2 // '') =~ /If-None-Match/;
    return { rps => $rps, p99 => $p99 };
}

sub memory {
    my $pid = shift;
    my %kb;
    open my $fh, '<', "/proc/$pid/smaps_rollup" or die "smaps_rollup: $!";
    while (<$fh>) { $kb{$1} = $2 if /^(\w+):\s+(\d+) kB/ }
    return (rss => $kb{Rss} / 1024, private => ($kb{Private_Clean} + $kb{Private_Dirty}) / 1024);
}

sub start_bare_nginx {
    my ($stack, $sock, $dir) = @_;
    my $port = PulseStack::free_port();
    my $src = PulseStack::srcdir() . '/nginx';
    system('cp', "$src/pulse-fastcgi.inc", "$dir/pulse-fastcgi.inc");
    # The same site template; only the upstream, port and a separate TLS cache name differ.
    $stack->render("$src/pulse-site.conf.in", {
        LISTEN => "127.0.0.1:$port", CERT => $stack->{cert}, KEY => $stack->{key},
        UI_ROOT => $stack->dir . '/www', UPSTREAM_SERVERS => "server unix:$sock;",
        BODY_LIMIT => $stack->body_limit_bytes, FASTCGI_INC => "$dir/pulse-fastcgi.inc",
        ACCESS_LOG => "$dir/access.log",
    }, "$dir/site.conf");
    my $site = do { local (@ARGV, $/) = "$dir/site.conf"; <> };
    $site =~ s/pulse_fcgi/bare_fcgi/g;
    $site =~ s/pulse_tls/bare_tls/g;
    $site =~ s/pulse_noquery/bare_noquery/g;
    open my $out, '>', "$dir/site.conf" or die;
    print {$out} $site;
    close $out;
    my $inc = do { local (@ARGV, $/) = "$dir/pulse-fastcgi.inc"; <> };
    $inc =~ s/pulse_fcgi/bare_fcgi/g;
    open $out, '>', "$dir/pulse-fastcgi.inc" or die;
    print {$out} $inc;
    close $out;
    $stack->render("$src/pulse-nginx.conf.in", {
        USER_LINE => $> == 0 ? 'user www-data;' : '', RUN_DIR => $dir, LOG_DIR => $dir,
        SITE_CONF => "$dir/site.conf",
    }, "$dir/nginx.conf");
    chmod 0777, $dir;
    system('nginx', '-c', "$dir/nginx.conf", '-p', $dir, '-e', "$dir/nginx-error.log") == 0
        or die "bare nginx did not start\n";
    $stack->wait_for(sub { -s "$dir/nginx.pid" }, 10, 'bare nginx');
    $stack->{bare_nginx_pid} = do { local (@ARGV) = "$dir/nginx.pid"; my $p = <>; chomp $p; $p };
    $stack->wait_for(sub { PulseStack::_port_open($port) }, 10, 'bare nginx port');
    return $port;
}

# Metrics history (issue 5): ingest through the worker's write path against a bare COPY of
# the same samples, the bytes of WAL and table each sample costs, reads of one series
# through SQL and the API, /api/charts for 1,000 guests, and a rollup of one hour for 5,000
# guests x 7 metrics.
sub metrics_bench {
    my $guests = $ENV{BENCH_METRIC_GUESTS} // 1000;
    my ($instants, $interval) = (60, 10);
    my $ingest = PulseStack::builddir() . '/bench/metrics-ingest';
    my $s = PulseStack->new(responders => 1, threads => 4, workers => 1,
        settings => { log_level => ($ENV{BENCH_LOG_LEVEL} // 'warn') })->start;
    my $admin = $s->setup_admin;
    # Nothing else writes while the WAL is measured.
    $s->stop_program('worker-1', 'TERM', 20);
    my $ci = $s->conninfo;
    my $start = int(time) - 15 * 60;
    my $lsn = sub { $s->psql(q{SELECT pg_current_wal_lsn()}) };
    my $walsince = sub { $s->psql(qq{SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$_[0]')}) };
    my $rawsize = sub { $s->psql(q{SELECT coalesce(sum(pg_total_relation_size(format('pulse.%I', name)::regclass)), 0)
        FROM pulse.metric_partitions WHERE tier = 'raw'}) };
    my $baresize = sub { $s->psql(q{SELECT coalesce(pg_total_relation_size(to_regclass('pulse_bench.samples')), 0)}) };
    my $run = sub {
        my $out = qx{$ingest $_[0] '$ci' $guests $instants $interval $start 2>&1};
        my ($secs, $n) = $out =~ /seconds ([\d.]+) samples (\d+)/ or die "metrics-ingest $_[0]: $out";
        return ($secs, $n);
    };
    # Ours: the series are created first (not timed), then 60 instants, written after each.
    $s->psql(q{CHECKPOINT});
    my ($l0, $z0) = ($lsn->(), $rawsize->());
    my ($osecs, $n) = $run->('ours');
    my ($owal, $ogrow) = ($walsince->($l0), $rawsize->() - $z0);
    $s->psql(q{CHECKPOINT});
    ($l0, $z0) = ($lsn->(), $baresize->());
    my ($bsecs) = $run->('bare');
    my ($bwal, $bgrow) = ($walsince->($l0), $baresize->() - $z0);
    $s->psql(q{CREATE INDEX ON pulse_bench.samples (series, ts); CHECKPOINT});
    ($l0, $z0) = ($lsn->(), $baresize->());
    my ($isecs) = $run->('bare');
    my ($iwal, $igrow) = ($walsince->($l0), $baresize->() - $z0);
    printf "\n== metrics ingest: %d guests x 7 metrics every %d s, %d instants (%d samples), written after each ==\n",
        $guests, $interval, $instants, $n;
    printf "%-34s %12s %14s %12s %12s\n", '', 'samples/s', 'WAL B/sample', 'table B/s.', 'total B/s.';
    printf "%-34s %12.0f %14.1f %12.1f %12.1f   (target: total <= 60)\n", 'pulse (blocks of 200, COPY binary)',
        $n / $osecs, $owal / $n, $ogrow / $n, ($owal + $ogrow) / $n;
    printf "%-34s %12.0f %14.1f %12.1f %12.1f\n", 'bare COPY, a row per sample', $n / $bsecs, $bwal / $n, $bgrow / $n,
        ($bwal + $bgrow) / $n;
    printf "%-34s %12.0f %14.1f %12.1f %12.1f\n", 'bare COPY, row per sample + index', $n / $isecs, $iwal / $n,
        $igrow / $n, ($iwal + $igrow) / $n;
    printf "%-34s %12.2f   (target: >= 0.5)\n", 'ratio pulse / bare COPY', $bsecs / $osecs;

    # Reads. The minute tier is complete up to D, the start of the previous hour, the hour
    # tier up to today; raw samples cover the two hours before now; the partitions are those
    # the workers would keep (no more: each one costs every query). In operation the minute
    # view takes the last 0 to 62 minutes from raw: the SQL queries end at D + 30 min (the
    # mean) and, for the worst case, at D + 60 min, so that what they read does not depend
    # on the time of day the benchmark runs.
    $s->psql(q{
        SELECT count(pulse.metric_partition_ensure('raw', t))
            FROM generate_series(date_trunc('hour', now() - interval '2 hours'), now(), interval '1 hour') t;
        INSERT INTO pulse.metric_raw (ts, blk, vals)
            SELECT r.ts - k * interval '10 min', r.blk, r.vals FROM pulse.metric_raw r, generate_series(1, 11) k
            WHERE r.ts - k * interval '10 min' >= date_trunc('hour', now() - interval '2 hours')
            ON CONFLICT DO NOTHING;
        SELECT count(pulse.metric_partition_ensure('minute', w))
            FROM generate_series(date_trunc('hour', now()) - interval '26 hours', date_trunc('hour', now()) - interval '2 hours', interval '1 hour') w;
        SELECT count(pulse.metric_partition_ensure('hour', w))
            FROM generate_series(date_trunc('day', now()) - interval '8 days', date_trunc('day', now()) - interval '1 day', interval '1 day') w;
        INSERT INTO pulse.metric_minute (series, t0, n, avg, min, max)
            SELECT s.id, w, array_fill(6, ARRAY[60]), a.v, a.v, a.v FROM pulse.metric_series s,
                generate_series(date_trunc('hour', now()) - interval '26 hours', date_trunc('hour', now()) - interval '2 hours', interval '1 hour') w,
                (SELECT array_agg(random() * 100) v FROM generate_series(1, 60)) a;
        INSERT INTO pulse.metric_hour (series, t0, n, avg, min, max)
            SELECT s.id, w, array_fill(360, ARRAY[24]), a.v, a.v, a.v FROM pulse.metric_series s,
                generate_series(date_trunc('day', now()) - interval '8 days', date_trunc('day', now()) - interval '1 day', interval '1 day') w,
                (SELECT array_agg(random() * 100) v FROM generate_series(1, 24)) a;
        UPDATE pulse.metric_rollup SET done_until = CASE tier WHEN 'minute' THEN date_trunc('hour', now()) - interval '1 hour'
            ELSE date_trunc('day', now()) END WHERE tier IN ('minute', 'hour');
        SELECT count(*) FROM pulse.metric_maintain(now());   -- the partitions a worker keeps
        DROP SCHEMA pulse_bench CASCADE});
    # Vacuumed and checkpointed now, so that neither autovacuum nor a checkpoint writing the
    # data just made takes a core or the disk in the middle of the timings.
    $s->psql(q{VACUUM ANALYZE});
    $s->psql(q{CHECKPOINT});
    my $sid = $s->psql(q{SELECT id FROM pulse.metric_series WHERE resource_id = 'bench:n5:1500' AND metric = 'cpu'});
    my ($mean_end, $worst_end) = split /\|/, $s->psql(q{SELECT done_until + interval '30 min', done_until + interval '60 min'
        FROM pulse.metric_rollup WHERE tier = 'minute'});
    # Through SQL: pgbench (the server and the protocol; psql's timing would add its own
    # table formatting, a millisecond or two for the 1,440 rows of a day of minutes). Each
    # query 70 times on one connection, in three rounds taken in turn (this machine's speed
    # drifts over seconds), the median latency of the 210. For scale, as many rows of four
    # columns from no table at all.
    my %sql;
    my @reads = ([day => "SELECT time, avg, min, max FROM pulse.metrics_minute WHERE series = $sid AND time >= timestamptz '$mean_end' - interval '24 hours' AND time < '$mean_end'"],
                 [worst => "SELECT time, avg, min, max FROM pulse.metrics_minute WHERE series = $sid AND time >= timestamptz '$worst_end' - interval '24 hours' AND time < '$worst_end'"],
                 [week => "SELECT time, avg, min, max FROM pulse.metrics_hour WHERE series = $sid AND time >= timestamptz '$mean_end' - interval '7 days' AND time < '$mean_end'"]);
    $sql{"$_->[0]_rows"} = $s->psql("SELECT count(*) FROM ($_->[1]) x") for @reads;
    push @reads, [scale => "SELECT now() + i * interval '1 min', random(), random(), random() FROM generate_series(1, $sql{day_rows}) i"];
    my %lat;
    for my $round (1 .. 3) {
        for my $q (@reads) {
            my $dir = $s->dir . "/pgbench-$q->[0]-$round";
            make_path($dir);
            open my $fh, '>', "$dir/q.sql" or die;
            print {$fh} "$q->[1];\n";
            close $fh;
            my ($rc, $out) = $s->run_cmd('/usr/lib/postgresql/15/bin/pgbench', '-n', '-t', 70, '-f', "$dir/q.sql",
                '--log', "--log-prefix=$dir/log", '-h', $s->pg_sock, '-p', $s->{pg_port}, '-U', 'pulse', 'pulse');
            die "pgbench: $out" if $rc;
            for my $log (glob "$dir/log.*") {
                open my $lf, '<', $log or die;
                push @{ $lat{ $q->[0] } }, map { (split)[2] / 1000 } <$lf>;
            }
        }
    }
    $sql{$_} = median(@{ $lat{$_} }) for keys %lat;
    my $ua = $s->ua;
    my %api;
    # curl, one connection reused: the time of each transfer.
    my $curl = sub {
        my ($url, $n) = @_;
        my $cmd = "curl -sk -H 'X-API-Token: $admin->{token}' -w '%{http_code} %{time_total}\\n' " .
            join(' ', map { "-o /dev/null '$url'" } 1 .. $n);
        my $out = qx{$cmd};
        my @t = map { /^200 ([\d.]+)/ ? $1 * 1000 : die 'curl: ' . substr($_, 0, 200) } split /\n/, $out;
        return @t[1 .. $#t];
    };
    for my $q ([day => '24h'], [week => '7d']) {
        my $url = $s->url("/api/metrics-store/history?resourceType=vm&resourceId=bench:n5:1500&metric=cpu&range=$q->[1]");
        $api{ $q->[0] } = median($curl->($url, 21));
        $api{"$q->[0]_points"} = @{ $ua->get($url => $s->token_headers)->result->json->{points} };
    }
    $api{version} = median($curl->($s->url('/api/version'), 21));
    print "\n== metrics reads: one series ($guests guests x 7 metrics stored); SQL: pgbench, median of 3 x 70, 30 min of raw; API: curl, median of 20 ==\n";
    printf "%-34s %10s %10s %10s %10s\n", '', 'SQL ms', 'API ms', 'SQL rows', 'API points';
    printf "%-34s %10.2f %10.2f %10d %10d   (target: <= 5 / <= 10)\n", '24 h at minute resolution', $sql{day}, $api{day},
        $sql{day_rows}, $api{day_points};
    printf "%-34s %10.2f %10s %10d   (the last hour from raw: the worst case)\n", '  the same, 60 min of raw', $sql{worst}, '',
        $sql{worst_rows};
    printf "%-34s %10.2f %10.2f %10d %10d   (target: <= 5 / <= 10)\n", '7 d at hour resolution', $sql{week}, $api{week},
        $sql{week_rows}, $api{week_points};
    printf "%-34s %10.2f %10s %10d   (as many rows of four columns, no table)\n", 'for scale: generate_series', $sql{scale}, '',
        $sql{day_rows};
    printf "%-34s %10s %10.2f   (the same connection: nginx, TLS, no database)\n", 'for scale: GET /api/version', '', $api{version};

    # /api/charts?range=1h for those guests, in the live state.
    $s->psql(qq{INSERT INTO pulse.guests (id, instance_id, node, vmid, name, type, status, cpu, last_seen, doc)
        SELECT 'bench:n' || (g / 100) || ':' || (1000 + g), 'bench', 'n' || (g / 100), 1000 + g, 'vm' || g, 'qemu',
               'running', 0.1, now(), '{"cpu":0.1,"memory":{"usage":40},"disk":{"usage":20}}'
        FROM generate_series(0, $guests - 1) g});
    my $fpid = $s->pid_of('fcgi-1');
    my $url = $s->url('/api/charts?range=1h');
    $ua->inactivity_timeout(120);
    # The responder's CPU time per answer (user + system), from /proc: steadier on a
    # shared machine than wall time.
    my $cputime = sub { open my $fh, '<', "/proc/$fpid/stat" or die; my @f = split ' ', <$fh>; ($f[13] + $f[14]) / 100 };
    my $c0 = $cputime->();
    my @ct = $curl->($url, 8);
    my $cpu_ms = ($cputime->() - $c0) * 1000 / 8;
    my $body = $ua->get($url => $s->token_headers)->result->body;
    my $len = length $body;
    # The same bytes from a bare libfcgi responder behind the same nginx: the floor set by
    # nginx, TLS and the client on this machine.
    my $dir = $s->dir . '/bare';
    make_path($dir);
    open my $bfh, '>', "$dir/body.json" or die;
    print {$bfh} $body;
    close $bfh;
    undef $body;
    my $bare_sock = "$dir/bare.sock";
    $s->spawn('bare-fcgi', {}, PulseStack::builddir() . '/bench/bare-fcgi', $bare_sock, 4, "$dir/body.json");
    $s->wait_for(sub { -S $bare_sock }, 10, 'the bare responder');
    my $bport = start_bare_nginx($s, $bare_sock, $dir);
    my @bt = $curl->("https://127.0.0.1:$bport/api/health", 8);
    my $hwm = do { open my $fh, '<', "/proc/$fpid/status" or die; my ($k) = map { /^VmHWM:\s+(\d+)/ ? $1 : () } <$fh>; $k / 1024 };
    print "\n== GET /api/charts?range=1h, $guests guests x 7 metrics at 10 s (curl, 7 requests) ==\n";
    printf "%-34s %10.0f ms   (target: <= 500)\n", 'p50', median(@ct);
    printf "%-34s %10.0f ms\n", 'responder CPU per answer', $cpu_ms;
    printf "%-34s %10.0f ms   (ratio %.2f)\n", 'bare libfcgi, same bytes, p50', median(@bt), median(@ct) / median(@bt);
    printf "%-34s %10.1f MB\n", 'body', $len / 1048576;
    printf "%-34s %10.1f MB\n", 'responder peak resident (VmHWM)', $hwm;
    print grep { /charts (read|written)/ } split /^/, $s->log_text('fcgi-1') if $ENV{BENCH_LOG_LEVEL};
    $s->stop_program('bare-fcgi', 'TERM', 5);
    kill 'TERM', $s->{bare_nginx_pid} if $s->{bare_nginx_pid};
    if ($ENV{BENCH_PAUSE}) {
        open my $fh, '>', ($ENV{BENCH_STACK_FILE} // '/tmp/bench-stack.txt');
        print {$fh} $s->url('/api/charts?range=1h') . "\n$admin->{token}\n";
        close $fh;
        sleep $ENV{BENCH_PAUSE};
    }
    $s->stop;

    # A rollup of one hour for 5,000 guests x 7 metrics (35,000 series, 12.6 M samples).
    my $r = PulseStack->new(responders => 0, workers => 0, nginx => 0, settings => { log_level => 'debug' })->start;
    my $hour = int(time / 3600) * 3600 - 3 * 3600;
    $r->psql(qq{
        INSERT INTO pulse.metric_series (resource_type, resource_id, metric)
            SELECT 'vm', 'roll:' || g, m FROM generate_series(1, 5000) g,
                unnest(ARRAY['cpu', 'memory', 'disk', 'diskread', 'diskwrite', 'netin', 'netout']) m;
        SELECT pulse.metric_partition_ensure('raw', to_timestamp($hour));
        INSERT INTO pulse.metric_raw (ts, blk, vals)
            SELECT to_timestamp($hour) + k * interval '10 s', b, v.v
            FROM generate_series(0, 359) k, generate_series(0, 174) b,
                 (SELECT pulse.metric_pack(array_agg(random() * 100)) v FROM generate_series(1, 200)) v;
        UPDATE pulse.metric_partitions SET samples = 12600000 WHERE tier = 'raw' AND lo = to_timestamp($hour)});
    $r->start_worker(1);
    $r->wait_for(sub { $r->log_text('worker-1') =~ /rolled up" tier=minute window=$hour buckets=\d+ replaced=0 ms=([\d.]+)/ }, 120,
        'the rollup', 'worker-1');
    my ($buckets, $ms) = $r->log_text('worker-1') =~ /rolled up" tier=minute window=$hour buckets=(\d+) replaced=0 ms=([\d.]+)/;
    print "\n== rollup of one hour, raw to minute: 5,000 guests x 7 metrics (12.6 M samples) ==\n";
    printf "%-34s %10.2f s   (target: <= 2)   %d buckets\n", 'pulse-worker', $ms / 1000, $buckets;
    $r->stop;
}

# Security review H2: bodies that json-c would blow up ("[{},{},...]", 15 MB, which it would
# turn into some 3.7 GB) sent 32 at a time, unauthenticated or with a monitoring token, to
# every public and scope-free route through nginx, and straight to the responder's socket as
# a peer that skips nginx would; the responder's peak resident memory (VmHWM) before and
# after, beside what json-c would have allocated for one such body.
# The audit log's cost (issue 16): two responders on one database, fcgi-1 with audit_log on
# and fcgi-2 (not behind nginx) with it off, asked in turn request by request over FastCGI
# (cgi-fcgi, as t/api does), so that a neighbour's load falls on both alike; BENCH_AUDIT_N
# requests each: POST /api/login (bcrypt, a session, one audit row) and POST
# /api/system/settings/update (one audit row and little else, so the row's own cost shows).
# Median and p90 of each, and the ratio on/off (target for the login: <= 1.10). The login
# rate limit's counters are cleared before each login, outside the timing. Then
# bench/audit-append: BENCH_AUDIT_ROWS rows appended by 1 and by 8 threads on their own
# connections (contending for the chain head), rows/s and the time per row, and the chain
# verified afterwards.
sub audit_bench {
    my $n = $ENV{BENCH_AUDIT_N} // 40;
    my $s = PulseStack->new(responders => 1, threads => 4, workers => 1,
        settings => { log_level => 'warn', access_log => 'false' })->start;
    my $admin = $s->setup_admin;
    $s->start_responder(2, PULSE_AUDIT_LOG => 'false');
    my %sock = (on => $s->socket_path(1), off => $s->socket_path(2));
    my $login = Mojo::JSON::encode_json({ username => $admin->{user}, password => $admin->{password} });
    my %t;
    for my $i (1 .. $n) {
        for my $mode ($i % 2 ? qw(on off) : qw(off on)) {
            $s->psql('DELETE FROM pulse.rate_limit_hits');
            my $t0 = time;
            my ($st) = $s->fcgi_request(socket => $sock{$mode}, method => 'POST', uri => '/api/login',
                body => $login);
            push @{ $t{$mode}{login} }, time - $t0;
            die "login failed: $st" unless $st == 200;
            $t0 = time;
            ($st) = $s->fcgi_request(socket => $sock{$mode}, method => 'POST', uri => '/api/system/settings/update',
                body => '{"publicURL":"https://bench.example.com"}', env => { HTTP_X_API_TOKEN => $admin->{token} });
            push @{ $t{$mode}{settings} }, time - $t0;
            die "settings failed: $st" unless $st == 200;
        }
    }
    my %append;
    my $tool = PulseStack::builddir() . '/bench/audit-append';
    my $nrows = $ENV{BENCH_AUDIT_ROWS} // 4000;
    for my $threads (1, 8) {
        my $out = qx{'$tool' '@{[ $s->conninfo ]}' '@{[ $s->dir ]}/data' $nrows $threads};
        my ($secs, $n, $ok) = $out =~ /seconds ([\d.]+) rows (\d+) verified (\d)/ or die "audit-append: $out";
        $append{$threads} = [$n / $secs, 1e6 * $secs / $n, $ok];
    }
    my $rows = $s->psql('SELECT count(*) FROM pulse.audit_events');
    my $chain = $s->psql('SELECT last_seq FROM pulse.audit_chain');
    $s->stop;
    my $q = sub {
        my ($v, $p) = @_;
        my @s = sort { $a <=> $b } @$v;
        return 1000 * $s[int($p * $#s + 0.5)];
    };
    print "\n== Audit log: the same requests with audit_log on and off, in turn ($n each, FastCGI) ==\n";
    printf "%-44s %10s %10s %10s %10s %8s\n", '', 'on p50 ms', 'off p50', 'on p90', 'off p90', 'ratio';
    for my $k (qw(login settings)) {
        my ($on, $off) = ($q->($t{on}{$k}, 0.5), $q->($t{off}{$k}, 0.5));
        printf "%-44s %10.2f %10.2f %10.2f %10.2f %8.3f%s\n",
            $k eq 'login' ? 'POST /api/login (bcrypt + session + row)' : 'POST /api/system/settings/update',
            $on, $off, $q->($t{on}{$k}, 0.9), $q->($t{off}{$k}, 0.9), $on / ($off || 1),
            $k eq 'login' ? '   (target: <= 1.10)' : '';
    }
    for my $threads (1, 8) {
        printf "%-44s %10.0f rows/s %8.0f us/row   chain %s\n", "audit-append, $threads thread(s)",
            $append{$threads}[0], $append{$threads}[1], $append{$threads}[2] ? 'verified' : 'BROKEN';
    }
    printf "%-44s %d rows, chain head %d\n", 'audit rows written', $rows, $chain;
}

# GET /metrics with BENCH_PROM_GUESTS (5,000) guests polled from bench/pve-sim, through nginx
# as Prometheus asks (gzip) and plain, then straight from the responder; the per-request cost
# of counting from bench/prom-observe (4 threads, the lock shared); and GET /api/version under
# wrk with prometheus_interval 15 and 0 (counting off) on the same responder, restarted in turn.
sub prom_bench {
    require Mojo::UserAgent;
    my $guests = $ENV{BENCH_PROM_GUESTS} // 5000;
    my $n = $ENV{BENCH_PROM_SCRAPES} // 20;
    my $s = PulseStack->new(responders => 1, threads => 4, workers => 1,
        settings => { log_level => 'warn', access_log => 'false', pve_polling_interval => 30 })->start;
    $s->setup_admin;
    my $nodes = int($guests / 50) || 1;
    my $sim = bench_sim($s, $nodes, $guests, 'c');
    my $res = $s->ua->post($s->url('/api/config/nodes') => $s->token_headers => json => { type => 'pve',
        name => 'bench', host => $sim->{url}, tokenName => 'root@pam!b', tokenValue => 'bench',
        fingerprint => $sim->{fingerprint} })->result;
    die 'node add failed: ' . $res->body unless $res->code == 201;
    $s->wait_for(sub { $s->psql(q{SELECT count(*) FROM pulse.guests}) == $guests }, 300, 'the whole estate');
    my $ms = sub {
        my @v = sort { $a <=> $b } @_;
        return (1000 * $v[int($#v / 2)], 1000 * $v[int(0.9 * $#v + 0.5)]);
    };
    my (%t, %size);
    my $ua = Mojo::UserAgent->new(insecure => 1, request_timeout => 30);
    for my $how (qw(gzip identity)) {
        for my $i (0 .. $n) {
            my $t0 = time;
            my $r = $ua->get($s->url('/metrics') => { 'Accept-Encoding' => $how })->result;
            die "GET /metrics: " . $r->code unless $r->code == 200;
            push @{ $t{$how} }, time - $t0 if $i;    # the first one warms up
            $size{$how} = length $r->body;
            $size{lines} = () = $r->body =~ /\n/g if $how eq 'identity';
        }
    }
    # CPU per scrape, which a busy machine does not inflate as it does wall time: the
    # responder's, and PostgreSQL's (every child of the postmaster).
    my $pg = $s->pg_pid;
    my $pg_cpu = sub {
        my $sum = 0;
        for my $stat (glob '/proc/[0-9]*/stat') {
            open my $fh, '<', $stat or next;
            my $line = <$fh> // next;
            my @f = split ' ', substr($line, rindex($line, ')') + 2);
            $sum += ($f[11] + $f[12]) / 100 if $f[1] == $pg;
        }
        return $sum;
    };
    my ($fcpu0, $pcpu0) = (cpu_seconds($s->pid_of('fcgi-1')), $pg_cpu->());
    for my $i (0 .. $n) {
        my $t0 = time;
        my ($st) = $s->fcgi_request(uri => '/metrics');
        die "GET /metrics (FastCGI): $st" unless $st == 200;
        push @{ $t{fcgi} }, time - $t0 if $i;
    }
    my ($fcpu, $pcpu) = map { 1000 * $_ / ($n + 1) } cpu_seconds($s->pid_of('fcgi-1')) - $fcpu0,
        $pg_cpu->() - $pcpu0;
    my $load = loadavg();
    my $observe = qx{@{[ PulseStack::builddir() ]}/bench/prom-observe 4000000 4};
    my ($on_ns, $off_ns) = $observe =~ /on_ns ([\d.]+) off_ns ([\d.]+)/ or die "prom-observe: $observe";
    $s->stop_program('worker-1');    # no polling meanwhile
    my $url = $s->url('/api/version');
    my %rps = (on => [], off => []);
    for my $round (1 .. $rounds) {
        for my $mode (qw(on off)) {
            $s->stop_program('fcgi-1');
            $s->start_responder(1, PULSE_PROMETHEUS_INTERVAL => $mode eq 'on' ? 15 : 0);
            wrk($url, 1);
            push @{ $rps{$mode} }, wrk($url, $duration)->{rps};
        }
    }
    $s->stop;
    print "\n== Prometheus: GET /metrics with $guests guests ($n scrapes each; target <= 100 ms) ==\n";
    printf "%-44s %10s %10s %12s\n", '', 'p50 ms', 'p90 ms', 'bytes';
    printf "%-44s %10.1f %10.1f %12d\n", 'through nginx, Accept-Encoding: gzip', $ms->(@{ $t{gzip} }), $size{gzip};
    printf "%-44s %10.1f %10.1f %12d\n", 'through nginx, plain', $ms->(@{ $t{identity} }), $size{identity};
    printf "%-44s %10.1f %10.1f %12s\n", 'straight to the responder (cgi-fcgi)', $ms->(@{ $t{fcgi} }), '';
    printf "%-44s %d samples and comments\n", 'lines', $size{lines};
    printf "%-44s %10.1f ms responder + %.1f ms PostgreSQL (load average %s)\n",
        'CPU per scrape (straight to the responder)', $fcpu, $pcpu, $load;
    print "\n== Prometheus: the cost of counting a request ==\n";
    printf "%-44s %10.0f ns (off: %.0f ns)\n", 'prom_http_observe, 4 threads on one lock', $on_ns, $off_ns;
    my ($on, $off) = (median(@{ $rps{on} }), median(@{ $rps{off} }));
    printf "%-44s %10.0f req/s on, %.0f off, ratio %.3f\n", 'GET /api/version under wrk (median of ' . $rounds . ')',
        $on, $off, $on / ($off || 1);
}

sub amplification_bench {
    require Mojo::Promise;
    require Mojo::UserAgent;
    require IPC::Open3;
    my $concurrent = $ENV{BENCH_AMP_CONCURRENT} // 32;
    my $rounds = $ENV{BENCH_AMP_ROUNDS} // 2;
    my $s = PulseStack->new(responders => 1, threads => 4, workers => 1,
        settings => { log_level => 'warn', access_log => 'false' })->start;
    my $admin = $s->setup_admin;
    my $mon = $s->ua->post($s->url('/api/security/tokens') => $s->token_headers =>
        json => { scopes => ['monitoring:read'] })->result->json->{token};
    my $objects = 5_000_000;
    my $body = '[' . join(',', ('{}') x $objects) . ']';
    my $file = $s->dir . '/amplification.json';
    open my $fh, '>', $file or die "$file: $!";
    print {$fh} $body;
    close $fh;
    my $pid = $s->pid_of('fcgi-1');
    my $hwm = sub {
        open my $st, '<', "/proc/$pid/status" or die;
        while (<$st>) { return $1 / 1024 if /^VmHWM:\s+(\d+) kB/ }
        return 0;
    };
    my $before = $hwm->();
    my $ua = Mojo::UserAgent->new(insecure => 1, max_redirects => 0, request_timeout => 300,
        inactivity_timeout => 300);
    my $remote = { 'X-Forwarded-For' => '198.51.100.7', 'Content-Type' => 'application/json' };
    my @targets = (
        ['POST /%61pi/login (the review\'s spelling)', '/%61pi/login', $remote],
        ['POST /api/security/quick-setup', '/api/security/quick-setup', $remote],
        ['POST /api/security/validate-bootstrap-token', '/api/security/validate-bootstrap-token', $remote],
        ['POST /api/security/recovery', '/api/security/recovery', { 'Content-Type' => 'application/json' }],
        ['POST /api/security/change-password (monitoring token)', '/api/security/change-password',
            { %$remote, 'X-API-Token' => $mon }],
    );
    my @rows;
    for my $t (@targets) {
        my %codes;
        for (1 .. $rounds) {
            # The limits of the rate classes would answer 429 before the body matters:
            # cleared so that every request reaches the body check.
            $s->psql('DELETE FROM pulse.rate_limit_hits');
            my @p = map { $ua->post_p($s->url($t->[1]) => $t->[2] => $body) } 1 .. $concurrent;
            Mojo::Promise->all(@p)->then(sub { $codes{ $_->[0]->res->code // 0 }++ for @_ })->catch(sub { $codes{error}++ })->wait;
        }
        push @rows, [$t->[0], \%codes];
    }
    # Straight to the socket: no nginx in front, the body streamed as fast as cgi-fcgi can.
    my %direct;
    for (1 .. $rounds) {
        my @kids;
        for (1 .. $concurrent) {
            local %ENV = (%ENV, REQUEST_METHOD => 'POST', REQUEST_URI => '/api/login', QUERY_STRING => '',
                CONTENT_TYPE => 'application/json', CONTENT_LENGTH => length $body, REMOTE_ADDR => '198.51.100.9');
            open my $in, '<', $file or die;
            my $k = IPC::Open3::open3('<&' . fileno($in), my $out, undef, 'cgi-fcgi', '-bind', '-connect', $s->socket_path(1));
            push @kids, [$k, $out];
        }
        for my $k (@kids) {
            my $text = do { local $/; readline $k->[1] } // '';
            waitpid $k->[0], 0;
            my ($code) = $text =~ /^Status: (\d+)/m;
            $direct{ $code // 'none' }++;
        }
    }
    push @rows, ['POST /api/login straight to the socket', \%direct];
    my $after = $hwm->();
    my $alive = kill 0, $pid;
    print "\n== Oversized JSON bodies (security review H2): $concurrent at a time x $rounds rounds per target ==\n";
    printf "one body: %.1f MB of [{},{},...] (%d objects); json-c would allocate about %.1f GB for it\n",
        length($body) / 1e6, $objects, $objects * 784 / 1e9;
    printf "%-58s %s\n", 'target', 'answers';
    for my $row (@rows) {
        my $c = $row->[1];
        printf "%-58s %s\n", $row->[0], join(', ', map { "$_ x$c->{$_}" } sort keys %$c);
    }
    printf "responder peak resident memory (VmHWM): %.1f MB before, %.1f MB after%s   (target: <= 64)\n",
        $before, $after, $alive ? '' : ' (the responder died)';
    $s->stop;
}

# Threshold crossed -> webhook received: 1,000 guests cross their CPU threshold in one poll
# (the guest CPU trigger is lowered below the simulated 25 % in one configuration change),
# activation active, no delay, no grouping, one generic webhook to the local sink. For each
# alert: receipt at the sink minus the end of the poll that crossed
# (pulse.poll_status.last_success); p50 and p99 printed, not asserted.
# Two receivers, one run each: t/fakes/lean-sink.py (asyncio, little CPU per request, as a
# remote receiver costs this machine nothing) and t/fakes/webhook-sink.pl (Mojolicious, the
# tests' receiver, about a millisecond of CPU per request on this 2-core machine).
sub alerts_latency_bench {
    my ($kind) = @_;
    my $guests = $ENV{BENCH_ALERT_GUESTS} // 1000;
    # The default polling interval: the next poll does not run during the drain.
    my $interval = $ENV{BENCH_ALERT_INTERVAL} // 10;
    my $s = PulseStack->new(responders => 1, threads => 4, settings => { pve_polling_interval => $interval,
        notify_rate_limit => 0, log_level => 'warn' })->start;
    $s->setup_admin;
    my $ua = $s->ua;
    my $h = $s->token_headers;
    my $sim = $s->start_sim(nodes => 10, guests => $guests, token => 'root@pam!b=bench');
    my $sink = $kind eq 'lean' ? $s->start_lean_sink : $s->start_webhook_sink;
    my $res = $ua->post($s->url('/api/config/nodes') => $h => json => { type => 'pve', name => 'lat',
        host => $sim->{url}, tokenName => 'root@pam!b', tokenValue => 'bench',
        fingerprint => $sim->{fingerprint} })->result;
    die 'node add failed: ' . $res->body unless $res->code == 201;
    $ua->post($s->url('/api/system/settings/update') => $h => json => { webhookAllowedPrivateCIDRs => '127.0.0.1' });
    $res = $ua->post($s->url('/api/notifications/webhooks') => $h => json => { name => 'lat',
        url => "$sink->{url}/lat", service => 'generic', enabled => \1 })->result;
    die 'webhook add failed: ' . $res->body unless $res->is_success;
    my $cfg = $ua->get($s->url('/api/alerts/config') => $h)->result->json;
    $cfg->{timeThresholds} = { guest => 0, node => 0, storage => 0, pbs => 0 };
    $cfg->{activationState} = 'active';
    $cfg->{flappingEnabled} = \0;
    $cfg->{schedule}{grouping} = { enabled => \0, window => 0, byNode => \0, byGuest => \0 };
    $cfg->{schedule}{maxAlertsHour} = 0;
    $cfg->{schedule}{quietHours}{enabled} = \0;
    $res = $ua->put($s->url('/api/alerts/config') => $h => json => $cfg)->result;
    die 'config failed: ' . $res->body unless $res->code == 200;
    $s->wait_state(sub { @{ $_[0]{vms} } + @{ $_[0]{containers} } == $guests }, 120, 'the whole estate');
    my $polled = sub { $s->psql(q{SELECT extract(epoch FROM last_success) FROM pulse.poll_status}) || 0 };
    my $last = $polled->();
    $s->wait_for(sub { $polled->() != $last }, 30, 'a poll');
    my $sink_pid = $s->{pids}{"sim-$sink->{name}"};
    my $sink_cpu0 = cpu_seconds($sink_pid);
    # The crossing: every guest's CPU (25 %) above a 20 % trigger from the next poll on.
    $cfg->{guestDefaults}{cpu} = { trigger => 20, clear => 15 };
    $res = $ua->put($s->url('/api/alerts/config') => $h => json => $cfg)->result;
    die 'config failed: ' . $res->body unless $res->code == 200;
    # The crossing poll: its evaluation time is the alerts' startTime, its end the first
    # last_success after it (polls are $interval s apart).
    my $start = sub { $s->psql(q{SELECT coalesce(extract(epoch FROM min(start_time)), 0) FROM pulse.alerts WHERE type = 'cpu'}) || 0 };
    # Read every 0.25 s (each read is a psql process: reading faster would take CPU from the
    # worker and the sink while they work); the times read are the database's own.
    my $slow_wait = sub { my ($cond, $limit, $what) = @_; my $t = time;
        until ($cond->()) { die "timed out waiting for $what\n" if time - $t > $limit; sleep 0.25 } };
    $slow_wait->(sub { $start->() > 0 }, 60, 'the first alerts');
    my $eval_at = $start->();
    my $poll_end = 0;
    $slow_wait->(sub { my $t = $polled->(); $poll_end = $t if $t > $eval_at; $poll_end > 0 }, 30, 'the end of that poll');
    my $raised = $s->psql(q{SELECT count(*) FROM pulse.alerts WHERE type = 'cpu' AND resolved_at IS NULL});
    # The first receipt of each CPU alert id (the simulator's disks and pools raise a few
    # others); any further one is a duplicate.
    my (%first, $copies, @got);
    my ($t0, $seen) = (time, -1);
    while (time - $t0 < 120) {
        # The cheap counter first: the list of every request is read (and serialised by
        # the sink, which would delay the receipts still coming) only once the count is
        # reached and has stopped moving.
        my $count = $ua->get("$sink->{url}/__sink/stats")->result->json->{requests} // 0;
        if ($count < $raised || $count != $seen) {
            $seen = $count;
            sleep 0.5;
            next;
        }
        @got = grep { $_->{path} eq '/lat' } @{ $ua->get("$sink->{url}/__sink/requests")->result->json };
        (%first, $copies) = ();
        for my $r (@got) {
            my $b = eval { Mojo::JSON::decode_json($r->{body}) } // {};
            for my $a (grep { ($_->{type} // '') eq 'cpu' } @{ $b->{alerts} // [] }) {
                $copies++;
                $first{ $a->{id} } = $r->{at} if !defined $first{ $a->{id} } || $r->{at} < $first{ $a->{id} };
            }
        }
        last if keys %first >= $raised;
        sleep 0.5;
    }
    my $sink_cpu = cpu_seconds($sink_pid) - $sink_cpu0;
    my @lat = sort { $a <=> $b } map { $_ - $poll_end } values %first;
    my @from_eval = sort { $a <=> $b } map { $_ - $eval_at } values %first;
    my $pct = sub { my ($v, $p) = @_; @$v ? $v->[int($p * $#$v + 0.5)] : 0 };
    printf "\n== alert -> webhook latency: %d guests crossing in one poll (every %d s), zero delay, no grouping, %s receiver ==\n",
        $guests, $interval, $kind eq 'lean' ? 'lean (lean-sink.py)' : 'Mojolicious (webhook-sink.pl)';
    printf "%-34s %8d of %d raised (%d requests, %d duplicates)\n", 'alerts received', scalar @lat, $raised,
        scalar @got, ($copies // 0) - scalar @lat;
    printf "%-34s %8.3f s\n", 'p50 after the poll ended', $pct->(\@lat, 0.50);
    printf "%-34s %8.3f s   (target: p99 <= 1 s)\n", 'p99 after the poll ended', $pct->(\@lat, 0.99);
    printf "%-34s %8.3f s / %.3f s\n", 'p50 / p99 after the evaluation', $pct->(\@from_eval, 0.50),
        $pct->(\@from_eval, 0.99);
    printf "%-34s %8.3f s / %.3f s   (the receiver's CPU time over the first to last receipt)\n",
        'receipts spread / receiver CPU', (@from_eval ? $from_eval[-1] - $from_eval[0] : 0), $sink_cpu;
    print "(a poll evaluates, stores, queues the notifications, records incidents and only then\n"
        . " writes last_success, so receipts may precede it; the last line counts from the poll's\n"
        . " evaluation time, the alerts' startTime)\n";
    $s->stop;
}
# --- issue 12: alerts and notifications ---------------------------------------------------
# BENCH_ONLY=alerts-eval, alerts-wal or queue runs only that part (before the rest: INIT).
INIT {
    my %only = ('alerts-eval' => \&alerts_eval_bench, 'alerts-wal' => \&alerts_wal_bench,
        queue => \&queue_bench);
    if (my $b = $only{ $ENV{BENCH_ONLY} // '' }) {
        $b->();
        exit 0;
    }
}

sub alerts_benches {
    alerts_eval_bench();
    alerts_wal_bench();
    queue_bench();
}

# The poll_bench estate (one worker, BENCH_NODES / BENCH_GUESTS every 10 s) with a realistic
# alert configuration: the defaults, some guest overrides, a tighter guest CPU default.
# Returns the stack, the simulator, the worker's pid and a sub that waits for n cycles.
sub alerts_estate {
    my $nodes = $ENV{BENCH_NODES} // 100;
    my $guests = $ENV{BENCH_GUESTS} // 5000;
    my $s = PulseStack->new(responders => 1, threads => 2, settings => { pve_polling_interval => 10,
        log_level => 'warn' })->start;
    $s->setup_admin;
    my $sim = $s->start_sim(nodes => $nodes, guests => $guests, token => 'root@pam!b=bench');
    my $res = $s->ua->post($s->url('/api/config/nodes') => $s->token_headers => json => { type => 'pve',
        name => 'bench', host => $sim->{url}, tokenName => 'root@pam!b', tokenValue => 'bench',
        fingerprint => $sim->{fingerprint} })->result;
    die 'node add failed: ' . $res->body unless $res->code == 201;
    my $st = $s->wait_state(sub { @{ $_[0]{vms} } + @{ $_[0]{containers} } == $guests }, 180, 'the whole estate');
    my $cfg = $s->ua->get($s->url('/api/alerts/config') => $s->token_headers)->result->json;
    $cfg->{enabled} = Mojo::JSON::true();
    $cfg->{guestDefaults}{cpu} = { trigger => 85, clear => 75 };
    $cfg->{timeThresholds} = { guest => 0, node => 0, storage => 0, pbs => 0 };
    my @vms = @{ $st->{vms} };
    for my $i (0 .. 49) {    # 50 guest overrides: thresholds, and a few disabled
        my $g = $vms[$i * int(@vms / 50)] or last;
        $cfg->{overrides}{ $g->{id} } = $i % 10 == 0 ? { disabled => Mojo::JSON::true() }
            : { cpu => { trigger => 95, clear => 90 }, memory => { trigger => 92, clear => 85 } };
    }
    $res = $s->ua->put($s->url('/api/alerts/config') => $s->token_headers => json => $cfg)->result;
    die 'alert config: ' . $res->body unless $res->code == 200;
    my $last_poll = sub { $s->psql(q{SELECT coalesce(max(extract(epoch FROM last_success)), 0) FROM pulse.poll_status}) };
    my $cycles = sub {
        for (1 .. shift) {
            my $was = $last_poll->();
            $s->wait_for(sub { $last_poll->() ne $was }, 60, 'a cycle');
        }
    };
    my $enable = sub {
        my $c = $s->ua->get($s->url('/api/alerts/config') => $s->token_headers)->result->json;
        $c->{enabled} = $_[0] ? Mojo::JSON::true() : Mojo::JSON::false();
        my $r = $s->ua->put($s->url('/api/alerts/config') => $s->token_headers => json => $c)->result;
        die 'alert config: ' . $r->body unless $r->code == 200;
    };
    return ($s, $sim, $st, $cycles, $enable);
}

# alerts-eval: the worker's CPU per cycle and resident memory with alerts enabled and with
# enabled:false, same stack, alternating phases of BENCH_CYCLES cycles (one settling cycle
# after each switch).
sub alerts_eval_bench {
    my $cycles = $ENV{BENCH_CYCLES} // 3;
    my $rounds_ = $ENV{BENCH_ALERT_ROUNDS} // 2;
    my ($s, $sim, $st, $wait, $enable) = alerts_estate();
    my $wpid = $s->pid_of('worker-1');
    my (%cpu, %rss, %n);
    for my $round (1 .. $rounds_) {
        for my $mode (qw(on off)) {
            $enable->($mode eq 'on');
            $wait->(1);
            my $c0 = cpu_seconds($wpid);
            $wait->($cycles);
            $cpu{$mode} += cpu_seconds($wpid) - $c0;
            $n{$mode} += $cycles;
            my %m = memory($wpid);
            $rss{$mode} = $m{rss};
        }
    }
    my %per = map { $_ => $cpu{$_} / $n{$_} } qw(on off);
    printf "\n== alerts-eval: one worker, %d guests every 10 s, alerts on vs enabled:false (%d x %d cycles each, alternating) ==\n",
        scalar(@{ $st->{vms} }) + scalar(@{ $st->{containers} }), $rounds_, $cycles;
    printf "%-28s %12s %14s\n", '', 'CPU/cycle s', 'resident MB';
    printf "%-28s %12.3f %14.1f\n", 'alerts enabled', $per{on}, $rss{on};
    printf "%-28s %12.3f %14.1f\n", 'alerts disabled', $per{off}, $rss{off};
    printf "%-28s %12.3f %14.1f   (target: <= 1.10 CPU, <= +8 MB)\n", 'ratio on / off; MB on - off',
        $per{on} / ($per{off} || 1e-9), $rss{on} - $rss{off};
    $s->stop;
}

# alerts-wal: the same estate with BENCH_HELD (200) guests held above their CPU threshold,
# the alerts in steady state (a fresh install's activation is pending: nothing dispatched;
# and acknowledged): WAL bytes per hour (pg_current_wal_lsn) with alerts on vs off over
# BENCH_WAL_CYCLES cycles (32), each phase starting after a CHECKPOINT, and the row writes
# of pulse.alerts, alert_pending, alert_history (pg_stat_user_tables).
sub alerts_wal_bench {
    # At least five minutes a phase: an alert's lastSeen/value refresh is due every 5 minutes.
    my $cycles = $ENV{BENCH_WAL_CYCLES} // 32;
    my $held = $ENV{BENCH_HELD} // 200;
    my ($s, $sim, $st, $wait, $enable) = alerts_estate();
    my @vms = grep { !$_->{template} } @{ $st->{vms} };
    my $step = int(@vms / $held) || 1;
    my @hot = map { $vms[$_ * $step] } 0 .. ($held < @vms ? $held : scalar @vms) - 1;
    for my $g (@hot) {
        my $r = $s->ua->post("$sim->{url}/__sim/metrics" => json => { vmid => $g->{vmid}, cpu => 0.99 })->result;
        die 'sim: ' . $r->body unless $r->is_success;
    }
    $wait->(3);
    my $active = $s->ua->get($s->url('/api/alerts/active') => $s->token_headers)->result->json;
    my @ids = map { $_->{id} } @$active;
    $s->ua->post($s->url('/api/alerts/bulk/acknowledge') => $s->token_headers => json => { alertIds => \@ids, user => 'bench' });
    $wait->(1);
    my $lsn = sub { $s->psql('SELECT pg_current_wal_lsn()') };
    my $writes = sub { $s->psql(q{SELECT pg_stat_force_next_flush()}); sleep 1.2;
        $s->psql(q{SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables
            WHERE schemaname = 'pulse' AND relname IN ('alerts', 'alert_pending', 'alert_history')}) };
    # The WAL records that touch the alert tables or their indexes (pg_walinspect, PostgreSQL
    # 15 contrib): the bytes alert state itself writes, apart from the metrics' WAL.
    my $inspect = eval { $s->psql('CREATE EXTENSION IF NOT EXISTS pg_walinspect'); 1 };
    my $alert_wal = sub {
        my ($from, $to, $by_kind) = @_;
        my $what = $by_kind ? q{string_agg(k, ', ') FROM (SELECT resource_manager || '/' || record_type || ' '
            || sum(record_length) AS k FROM r WHERE block_ref IS NOT NULL AND EXISTS (SELECT 1 FROM rels WHERE
            r.block_ref ~ ('rel [0-9]+/[0-9]+/' || rels.fn || '( |$)')) GROUP BY resource_manager, record_type
            ORDER BY sum(record_length) DESC LIMIT 4) x} : undef;
        return $s->psql(qq{WITH t AS (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'pulse'::regnamespace
                AND c.relname IN ('alerts', 'alert_pending', 'alert_history', 'notification_group',
                    'incidents', 'incident_events')),
            rels AS (SELECT pg_relation_filenode(oid)::text AS fn FROM t
                UNION SELECT pg_relation_filenode(indexrelid)::text FROM pg_index WHERE indrelid IN (SELECT oid FROM t)),
            r AS (SELECT resource_manager, record_type, record_length, block_ref FROM pg_get_wal_records_info('$from', '$to'))
            SELECT } . ($what // q{coalesce(sum(record_length), 0) FROM r WHERE block_ref IS NOT NULL AND EXISTS
                (SELECT 1 FROM rels WHERE r.block_ref ~ ('rel [0-9]+/[0-9]+/' || rels.fn || '( |$)'))}));
    };
    my (%wal, %secs, %rows, %own, %kinds);
    for my $mode (qw(on off)) {
        $enable->($mode eq 'on');
        $wait->(2);
        # Both phases start just after a vacuum of the alert tables (the set-up's raises and
        # acknowledgements left dead rows, whose clean-up by autovacuum is not steady state)
        # and a checkpoint: the same full-page images to write.
        eval { $s->psql('VACUUM pulse.alerts, pulse.alert_pending, pulse.alert_history') };
        eval { $s->psql('CHECKPOINT') };
        # A physical slot keeps the phase's WAL until pg_walinspect has read it (the metrics
        # write more than max_wal_size in 32 cycles).
        my $slot = $inspect && eval { $s->psql(q{SELECT pg_create_physical_replication_slot('bench_alert_wal', true)}); 1 };
        my ($l0, $w0, $t0) = ($lsn->(), $writes->(), time);
        $wait->($cycles);
        my ($l1, $w1) = ($lsn->(), $writes->());
        $secs{$mode} = time - $t0;
        $wal{$mode} = $s->psql("SELECT pg_wal_lsn_diff('$l1', '$l0')");
        $rows{$mode} = $w1 - $w0;
        $own{$mode} = $slot ? $alert_wal->($l0, $l1) : undef;
        $kinds{$mode} = $slot ? $alert_wal->($l0, $l1, 1) : '';
        eval { $s->psql(q{SELECT pg_drop_replication_slot('bench_alert_wal')}) } if $slot;
    }
    my %ph = map { $_ => $wal{$_} / $secs{$_} * 3600 } qw(on off);
    my %rh = map { $_ => $rows{$_} / $secs{$_} * 3600 } qw(on off);
    printf "\n== alerts-wal: %d guests held above threshold (%d active alerts, acknowledged, activation pending), %d cycles each ==\n",
        scalar @hot, scalar @ids, $cycles;
    printf "%-28s %14s %18s\n", '', 'WAL KB/hour', 'alert rows/hour';
    printf "%-28s %14.0f %18.0f\n", 'alerts enabled', $ph{on} / 1024, $rh{on};
    printf "%-28s %14.0f %18.0f\n", 'alerts disabled', $ph{off} / 1024, $rh{off};
    printf "%-28s %14.0f %18.0f\n", 'difference (on - off)',
        ($ph{on} - $ph{off}) / 1024, $rh{on} - $rh{off};
    printf "%-28s %14.1f %18s   (target: <= 50 KB/hour)\n", 'alert tables, alerts on',
        $own{on} / $secs{on} * 3600 / 1024, '(pg_walinspect)' if defined $own{on};
    printf "%-28s %14.1f %18s\n", 'alert tables, alerts off', $own{off} / $secs{off} * 3600 / 1024,
        '(pg_walinspect)' if defined $own{off};
    printf "alert tables' WAL by record kind (bytes), on: %s; off: %s\n", $kinds{on} || 'none',
        $kinds{off} || 'none';
    print "(the WAL of the whole database moves with the metrics between phases; the last line\n"
        . " counts only WAL records that touch the alert tables and their indexes)\n";
    $s->stop;
}

# queue: t/tools/notify-bench.pl (N webhooks queued, drained by two workers into the webhook
# sink); its figures beside the targets.
sub queue_bench {
    my $n = $ENV{BENCH_QUEUE_N} // 10000;
    my $out = qx{'$^X' '$FindBin::Bin/../t/tools/notify-bench.pl' $n 2>&1};
    my ($dt, $rate) = $out =~ /drained \d+ in ([\d.]+) s: (\d+)\/s/;
    my ($keys, $dups) = $out =~ /received keys (\d+) duplicates (\d+)/;
    print "\n== queue: $n webhooks drained by two workers into the sink ==\n";
    if (!defined $rate) {
        print "notify-bench failed:\n$out";
        return;
    }
    printf "%-28s %12s %12s %12s\n", '', 'seconds', 'per second', 'duplicates';
    printf "%-28s %12.1f %12d %12d   (target: >= 500/s, 0 duplicates)\n", 'two workers', $dt, $rate, $dups;
    printf "%-28s %12d\n", 'keys at the receiver', $keys;
}

# --- issue 13, item 5: scale ------------------------------------------------------------
# The simulator of the polling benchmarks: BENCH_SIM=c (bench/pve-sim, the default for
# scale) or perl (t/fakes/pve-sim.pl, the default for poll). Returns the simulator's hash.
sub bench_sim {
    my ($s, $nodes, $guests, $which, %more) = @_;
    my %o = (nodes => $nodes, guests => $guests, token => 'root@pam!b=bench', %more);
    return $which eq 'c' ? $s->start_c_sim(name => 'sim', %o) : $s->start_sim(%o);
}

# Resident now and at its highest (VmRSS, VmHWM), in MB.
sub rss_hwm {
    my $pid = shift;
    my %kb;
    open my $fh, '<', "/proc/$pid/status" or return (0, 0);
    while (<$fh>) { $kb{$1} = $2 if /^(VmRSS|VmHWM):\s+(\d+) kB/ }
    return (($kb{VmRSS} // 0) / 1024, ($kb{VmHWM} // 0) / 1024);
}

sub loadavg { open my $fh, '<', '/proc/loadavg' or return '?'; join ' ', (split ' ', scalar <$fh>)[0 .. 2] }

# One worker polling BENCH_SCALE_GUESTS (1,000, 5,000, 10,000 and 20,000) guests every 10 s,
# 50 guests a node (250 nodes at most), a fresh stack for each size: CPU per cycle and per
# guest, resident memory (highest over the measured cycles, lowest, and the peak since
# start), the simulator's CPU, the last cycle's wall time.
sub scale_bench {
    my @sizes = split /,/, $ENV{BENCH_SCALE_GUESTS} // '1000,5000,10000,20000';
    my $cycles = $ENV{BENCH_CYCLES} // 3;
    my $which = $ENV{BENCH_SIM} // 'c';
    my @rows;
    my $load0 = loadavg();
    for my $guests (@sizes) {
        my $nodes = int($guests / 50) || 1;
        $nodes = 250 if $nodes > 250;
        my $s = PulseStack->new(responders => 1, threads => 2, settings => { pve_polling_interval => 10,
            log_level => 'warn' })->start;
        $s->setup_admin;
        my $sim = bench_sim($s, $nodes, $guests, $which);
        my $res = $s->ua->post($s->url('/api/config/nodes') => $s->token_headers => json => { type => 'pve',
            name => 'bench', host => $sim->{url}, tokenName => 'root@pam!b', tokenValue => 'bench',
            fingerprint => $sim->{fingerprint} })->result;
        die 'node add failed: ' . $res->body unless $res->code == 201;
        $s->wait_for(sub { $s->psql(q{SELECT count(*) FROM pulse.guests}) == $guests }, 300, 'the whole estate');
        my ($wpid, $spid) = ($s->pid_of('worker-1'), $s->pid_of('sim-sim'));
        my $polled = sub { $s->psql(q{SELECT extract(epoch FROM last_success) FROM pulse.poll_status}) };
        my $last = $polled->();
        $s->wait_for(sub { $polled->() ne $last }, 60, 'a cycle');
        my (undef, $hwm0) = rss_hwm($wpid);
        # The peak of the measured cycles alone: writing 5 to clear_refs resets VmHWM (Linux 4.0).
        my $reset = 0;
        if (open my $cr, '>', "/proc/$wpid/clear_refs") { $reset = print({$cr} "5\n") && close($cr) }
        my ($w0, $s0, $t0) = (cpu_seconds($wpid), cpu_seconds($spid), time);
        my ($max, $min) = (0, 1e9);
        for (1 .. $cycles) {
            $last = $polled->();
            $s->wait_for(sub {
                my ($rss) = rss_hwm($wpid);
                $max = $rss if $rss > $max;
                $min = $rss if $rss < $min;
                sleep 0.15;
                $polled->() ne $last }, 120, 'a cycle');
        }
        my $elapsed = time - $t0;
        my ($w1, $s1) = (cpu_seconds($wpid), cpu_seconds($spid));
        my (undef, $steady) = rss_hwm($wpid);
        $steady = 0 unless $reset;
        my $hwm = $steady > $hwm0 ? $steady : $hwm0;
        my $ms = $s->psql(q{SELECT round(last_duration_ms) FROM pulse.poll_status});
        push @rows, { guests => $guests, nodes => $nodes, cpu => ($w1 - $w0) / $cycles,
            core => 100 * ($w1 - $w0) / $elapsed, max => $max, min => $min, hwm => $hwm, steady => $steady,
            sim => ($s1 - $s0) / $cycles, wall => $ms };
        $s->stop;
    }
    printf "\n== one worker, 10 s interval, %d cycles per size, simulator %s (load average %s at start, %s at end) ==\n",
        $cycles, $which eq 'c' ? 'bench/pve-sim (C)' : 't/fakes/pve-sim.pl', $load0, loadavg();
    printf "%-24s" . ('%12s' x @rows) . "\n", 'guests (nodes)', map { "$_->{guests} ($_->{nodes})" } @rows;
    my @lines = (['CPU per cycle, s', '%12.3f', sub { $_[0]{cpu} }],
        ['CPU per guest, ms', '%12.3f', sub { 1000 * $_[0]{cpu} / $_[0]{guests} }],
        ['% of one core', '%12.1f', sub { $_[0]{core} }],
        ['peak of these cycles MB', '%12.1f', sub { $_[0]{steady} }],
        ['resident, highest MB', '%12.1f', sub { $_[0]{max} }],
        ['resident, lowest MB', '%12.1f', sub { $_[0]{min} }],
        ['peak since start MB', '%12.1f', sub { $_[0]{hwm} }],
        ['peak KB per guest', '%12.2f', sub { 1024 * $_[0]{hwm} / $_[0]{guests} }],
        ['cycle wall, ms', '%12d', sub { $_[0]{wall} }],
        ['simulator CPU/cycle s', '%12.3f', sub { $_[0]{sim} }]);
    for my $l (@lines) {
        printf "%-24s" . ($l->[1] x @rows) . "\n", $l->[0], map { $l->[2]->($_) } @rows;
    }
    print "(peak of these cycles: VmHWM over the measured cycles alone, reset before them; resident:\n"
        . " sampled every 0.2 s over them; peak since start: VmHWM, the first cycles included;\n"
        . " target at 10,000 guests: <= 64 MB)\n";
}

# pulse-agent in host mode against t/agent/receiver.pl with a short interval: after a first
# report (start-up is not counted), the CPU it spends over BENCH_AGENT_REPORTS (100) reports
# and its resident memory; beside it Debian's prometheus-node-exporter on a free port,
# scraped as many times: its CPU per scrape and its memory. Issue 14's targets: <= 4 MB
# resident, <= 5 ms of CPU per report.
sub agent_bench {
    require AgentHarness;
    AgentHarness->import(qw(spawn stop wait_for json_lines));
    require File::Temp;
    require IO::Socket::INET;
    require Mojo::UserAgent;
    my $n = $ENV{BENCH_AGENT_REPORTS} // 100;
    my $exporter = $ENV{NODE_EXPORTER} // '/usr/bin/prometheus-node-exporter';
    my $agent_bin = PulseStack::builddir() . '/agent/pulse-agent';
    -x $agent_bin or die "$agent_bin is not built (make all)\n";
    -x $exporter or die "$exporter is missing (apt-get install prometheus-node-exporter)\n";
    my $dir = File::Temp::tempdir('pulse-bench-agent-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $wait_port = sub {
        my $port = shift;
        my $deadline = time + 20;
        while (time < $deadline) {
            return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
            sleep 0.1;
        }
        die "nothing listens on 127.0.0.1:$port\n";
    };
    my $mem = sub {
        my $pid = shift;
        my %kb;
        open my $fh, '<', "/proc/$pid/status" or return {};
        while (<$fh>) { $kb{$1} = $2 / 1024 if /^(VmRSS|RssAnon|RssFile|VmHWM):\s+(\d+) kB/ }
        return \%kb;
    };

    # pulse-agent, over http and over https (the receiver's built-in certificate, --insecure)
    my %agent;
    for my $scheme (qw(http https)) {
        my ($rport, $out) = (PulseStack::free_port(), "$dir/received-$scheme.jsonl");
        my $recv = spawn("$dir/receiver.log", $^X, PulseStack::srcdir() . '/t/agent/receiver.pl',
            '--listen', "$scheme://127.0.0.1:$rport", '--out', $out);
        $wait_port->($rport);
        my $reports = sub { scalar grep { $_->{kind} eq 'report' } json_lines($out) };
        my $agent = spawn("$dir/agent.log", $agent_bin, '--url', "$scheme://127.0.0.1:$rport",
            '--token', 'bench-token', '--interval', '200ms', '--health-addr', '',
            '--enable-docker=false', '--log-level', 'warn', $scheme eq 'https' ? '--insecure' : ());
        wait_for("the first $scheme report", sub { $reports->() >= 1 }, 30)
            or die "the agent sent nothing over $scheme\n";
        my ($c0, $r0) = (cpu_seconds($agent), $reports->());
        wait_for("$n reports", sub { $reports->() >= $r0 + $n }, 20 + $n)
            or die "the agent sent too few reports over $scheme\n";
        my ($c1, $r1) = (cpu_seconds($agent), $reports->());
        $agent{$scheme} = { mem => $mem->($agent), ms => ($c1 - $c0) * 1000 / ($r1 - $r0),
            reports => $r1 - $r0 };
        stop($agent);
        stop($recv);
    }

    # node_exporter
    my $eport = PulseStack::free_port();
    my $ne = spawn("$dir/node-exporter.log", $exporter, "--web.listen-address=127.0.0.1:$eport");
    $wait_port->($eport);
    my $ua = Mojo::UserAgent->new;
    my $scrape = sub {
        my $res = $ua->get("http://127.0.0.1:$eport/metrics")->result;
        die "node_exporter answered " . $res->code . "\n" unless $res->is_success;
    };
    $scrape->();
    my $e0 = cpu_seconds($ne);
    $scrape->() for 1 .. $n;
    my $e1 = cpu_seconds($ne);
    my $em = $mem->($ne);
    stop($ne);
    my $ne_ms = ($e1 - $e0) * 1000 / $n;

    printf "\n== agent: pulse-agent (host mode, %d reports) beside node_exporter (%d scrapes) ==\n",
        $agent{http}{reports}, $n;
    printf "%-32s %10s %10s %10s %14s\n", '', 'VmRSS MB', 'RssAnon MB', 'RssFile MB', 'CPU ms/report';
    for my $scheme (qw(http https)) {
        printf "%-32s %10.2f %10.2f %10.2f %14.2f\n", "pulse-agent, $scheme",
            @{ $agent{$scheme}{mem} }{qw(VmRSS RssAnon RssFile)}, $agent{$scheme}{ms};
    }
    printf "%-32s %10.2f %10.2f %10.2f %14.2f  (per scrape)\n", 'prometheus-node-exporter',
        @$em{qw(VmRSS RssAnon RssFile)}, $ne_ms;
    printf "%-32s %10s %10s %10s %14s\n", 'target (pulse-agent)', '<= 4', '', '', '<= 5';
    for my $scheme (qw(http https)) {
        my $r = $agent{$scheme};
        printf "pulse-agent, %s: %s\n", $scheme,
            ($r->{mem}{VmRSS} <= 4 && $r->{ms} <= 5) ? 'within both targets' : 'OVER a target';
    }
    print "CPU: utime+stime from /proc/<pid>/stat (10 ms ticks) over the run; memory: /proc/<pid>/status at its end\n";
    print `ldd $agent_bin` =~ /libcurl|libpq/ ? "pulse-agent links libcurl or libpq\n" :
        "pulse-agent links neither libcurl nor libpq\n";
}

# The agents' report load of issue 14: BENCH_AGENT_HOSTS (1,000) host agents, BENCH_DOCKER_HOSTS
# (200) Docker hosts of BENCH_CONTAINERS (50) containers and BENCH_KUBE_CLUSTERS (10)
# Kubernetes clusters of BENCH_PODS (100) pods, each reporting every BENCH_AGENT_INTERVAL (30) s
# as the original's agents do, spread evenly over the interval, through nginx to two
# responders (4 threads each) and one worker. One interval registers them all (not counted);
# the next BENCH_AGENT_CYCLES (3) are measured: report latency as the sender saw it (p50,
# p99, max), the responders' CPU (utime+stime of both) and each one's resident memory. Then
# GET /api/state of that estate against a bare responder sending the same bytes.
sub agents_load_bench {
    require Mojo::IOLoop;
    require Digest::SHA;
    require POSIX;
    my %n = (host => $ENV{BENCH_AGENT_HOSTS} // 1000, docker => $ENV{BENCH_DOCKER_HOSTS} // 200,
        kube => $ENV{BENCH_KUBE_CLUSTERS} // 10);
    my $containers = $ENV{BENCH_CONTAINERS} // 50;
    my $pods = $ENV{BENCH_PODS} // 100;
    my $interval = 0 + ($ENV{BENCH_AGENT_INTERVAL} // 30);    # a number in the JSON
    my $cycles = $ENV{BENCH_AGENT_CYCLES} // 3;
    my $s = PulseStack->new(responders => 2, threads => 4, workers => 1,
        settings => { log_level => 'warn' })->start;
    my $admin = $s->setup_admin;
    my $ua = $s->ua;
    my $token = sub {
        my ($name, $scope) = @_;
        my $res = $ua->post($s->url('/api/security/tokens') => $s->token_headers
            => json => { name => $name, scopes => [$scope] })->result;
        die "token $name: " . $res->body unless $res->is_success;
        return $res->json->{token};
    };
    # One token serves many host agents (a binding per hostname); a Docker or Kubernetes
    # agent needs a token of its own (agents.md §4.2, §5.2).
    my $host_token = $token->('bench hosts', 'host-agent:report');
    my @agents;
    for my $i (1 .. $n{host}) {
        push @agents, { kind => 'host', token => $host_token, path => '/api/agents/host/report',
            body => bench_host_report($i, $interval) };
    }
    for my $i (1 .. $n{docker}) {
        push @agents, { kind => 'docker', token => $token->("bench docker $i", 'docker:report'),
            path => '/api/agents/docker/report', body => bench_docker_report($i, $containers, $interval) };
    }
    for my $i (1 .. $n{kube}) {
        push @agents, { kind => 'kube', token => $token->("bench kube $i", 'kubernetes:report'),
            path => '/api/agents/kubernetes/report', body => bench_kube_report($i, $pods, $interval) };
    }
    # Interleave the kinds, as agents started at random moments would be.
    @agents = map { $_->[1] } sort { $a->[0] cmp $b->[0] } map { [Digest::SHA::sha1_hex($_->{path} . $_->{body}), $_] } @agents;
    my $bytes = 0;
    $bytes += length $_->{body} for @agents;

    my @fcgi = map { $s->pid_of("fcgi-$_") } 1 .. 2;
    my $wpid = $s->pid_of('worker-1');
    my $lua = Mojo::UserAgent->new(insecure => 1, max_connections => 64, connect_timeout => 10, request_timeout => 30);
    my (%lat, %fail, $inflight, $cpu0, $w0, $self0, $t0);
    my $start = time;
    my $end = $start + $interval * (1 + $cycles);
    my $measure_from = $start + $interval;
    my $next = 0;
    my $sent = 0;
    my $per = $interval / @agents;
    my $tick;
    $tick = Mojo::IOLoop->recurring(0.005 => sub {
        my $now = time;
        if (!defined $t0 && $now >= $measure_from) {
            $t0 = $now;
            $cpu0 = 0;
            $cpu0 += cpu_seconds($_) for @fcgi;
            $w0 = cpu_seconds($wpid);
            $self0 = cpu_seconds($$);
        }
        if ($now >= $end) {
            Mojo::IOLoop->remove($tick);
            my $wait;
            $wait = Mojo::IOLoop->recurring(0.05 => sub {
                return if $inflight;
                Mojo::IOLoop->remove($wait);
                Mojo::IOLoop->stop;
            });
            return;
        }
        while ($start + $sent * $per <= $now) {
            my $a = $agents[$next];
            $next = ($next + 1) % @agents;
            $sent++;
            my $body = $a->{body};
            my $ts = POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $now);
            my $cpu = sprintf '%.1f', 5 + rand 60;
            $body =~ s/"__TS__"/"$ts"/g;
            $body =~ s/"__CPU__"/$cpu/g;
            my $counted = defined $t0;
            my $sent_at = time;
            $inflight++;
            $lua->post($s->url($a->{path}) => { 'X-API-Token' => $a->{token},
                'Content-Type' => 'application/json' } => $body => sub {
                my ($ua, $tx) = @_;
                $inflight--;
                my $code = $tx->res->code // 0;
                if ($code != 200) {
                    $fail{"$a->{kind} $code"}++;
                    warn "$a->{kind} report: $code " . substr($tx->res->body // '', 0, 200) . "\n"
                        if $fail{"$a->{kind} $code"} <= 3;
                    return;
                }
                push @{ $lat{ $a->{kind} } }, (time - $sent_at) * 1000 if $counted;
            });
        }
    });
    Mojo::IOLoop->start;
    my $elapsed = time - $t0;
    my $cpu1 = 0;
    $cpu1 += cpu_seconds($_) for @fcgi;
    my $w1 = cpu_seconds($wpid);
    my $self1 = cpu_seconds($$);
    my @mem = map { +{ memory($_) } } @fcgi;
    my $pct = sub {
        my ($v, $p) = @_;
        return 0 unless @$v;
        return $v->[ int($p / 100 * $#$v + 0.5) ];
    };
    $lat{all} = [map { @{ $lat{$_} // [] } } qw(host docker kube)];
    $lat{$_} = [sort { $a <=> $b } @{ $lat{$_} // [] }] for keys %lat;

    printf "\n== agents' reports: %d hosts, %d Docker hosts x %d containers, %d Kubernetes clusters x %d pods, "
        . "every %d s (%.1f MB a round), through nginx to 2 responders x 4 threads and 1 worker; "
        . "%d rounds measured after one (%.0f s) ==\n",
        $n{host}, $n{docker}, $containers, $n{kube}, $pods, $interval, $bytes / 1048576, $cycles, $elapsed;
    printf "%-28s %9s %9s %9s %9s\n", 'report latency', 'reports', 'p50 ms', 'p99 ms', 'max ms';
    for my $k (qw(host docker kube all)) {
        my $v = $lat{$k};
        printf "%-28s %9d %9.2f %9.2f %9.2f%s\n", $k eq 'kube' ? 'kubernetes' : $k, scalar @$v,
            $pct->($v, 50), $pct->($v, 99), $v->[-1] // 0, $k eq 'all' ? '   (target: p99 <= 50)' : '';
    }
    printf "%-28s %9s\n", 'failed reports', join(' ', map { "$_:$fail{$_}" } sort keys %fail) || 'none';
    printf "%-28s %8.1f %% of one core   (target: <= 25 %%)\n", 'responders CPU, both',
        100 * ($cpu1 - $cpu0) / $elapsed;
    printf "%-28s %8.1f %% of one core\n", 'worker CPU', 100 * ($w1 - $w0) / $elapsed;
    printf "%-28s %8.1f %% of one core\n", 'load generator CPU (Perl)', 100 * ($self1 - $self0) / $elapsed;
    printf "%-28s %8.1f MB resident  %6.1f MB private   (target: <= 32 MB each)\n", "responder $_",
        $mem[$_ - 1]{rss}, $mem[$_ - 1]{private} for 1 .. 2;
    print "latency: from the request's start to its answer, as the sender saw it (Mojo::UserAgent, keep-alive)\n";

    state_against_bare($s, $admin, sub {
        my $st = shift;
        sprintf 'with them (%d hosts, %d Docker hosts, %d containers, %d clusters)', scalar @{ $st->{hosts} },
            scalar @{ $st->{dockerHosts} }, sum0(map { scalar @{ $_->{containers} // [] } } @{ $st->{dockerHosts} }),
            scalar @{ $st->{kubernetesClusters} };
    });
    $s->stop;
}

# A host agent's report (agents.md §3.1) as a JSON template: "__TS__" and "__CPU__" are
# replaced at each send.
sub bench_host_report {
    my ($i, $interval) = @_;
    my $id = sprintf 'b0000000-0000-4000-8000-%012d', $i;
    my $name = sprintf 'bench-host-%04d', $i;
    return Mojo::JSON::encode_json({
        agent => { id => $id, version => '5.0.4', type => 'unified', intervalSeconds => $interval, hostname => $name },
        host => { id => $id, hostname => $name, displayName => $name, machineId => $id, platform => 'debian',
            osName => 'debian', osVersion => '12', kernelVersion => '6.1.0-18-amd64', architecture => 'x86_64',
            cpuCount => 8, uptimeSeconds => 86400 + $i, loadAverage => [0.4, 0.3, 0.2] },
        metrics => { cpuUsagePercent => '__CPU__', memory => { totalBytes => 16777216000, usedBytes => 4194304000 + $i,
            freeBytes => 2097152000, usage => 25.0, swapTotalBytes => 2147483648, swapUsedBytes => 0 } },
        disks => [map { { device => "/dev/sda$_", mountpoint => $_ == 1 ? '/' : "/srv/d$_", filesystem => 'ext4',
            type => 'ext4', totalBytes => 100000000000, usedBytes => 40000000000 + $_, freeBytes => 55000000000,
            usage => 42.1 } } 1 .. 3],
        diskIO => [map { { device => "sd$_", readBytes => 123456, writeBytes => 654321, readOps => 10, writeOps => 20,
            readTimeMs => 5, writeTimeMs => 9, ioTimeMs => 12 } } qw(a b)],
        network => [map { { name => "eth$_", mac => sprintf('52:54:00:%02x:%02x:%02x', $_, int($i / 256), $i % 256),
            addresses => ["10.$_." . int($i / 250) . '.' . ($i % 250 + 1) . '/16'], rxBytes => 1000 * $i, txBytes => 2000 * $i } } 0 .. 1],
        sensors => { temperatureCelsius => { cpu_package => 48, cpu_core_0 => 46, cpu_core_1 => 47 },
            smart => [{ device => 'sda', model => 'X', type => 'sata', temperature => 33, health => 'PASSED' }] },
        timestamp => '__TS__',
    });
}

# A Docker agent's report (agents.md §4.1) with $n containers.
sub bench_docker_report {
    my ($i, $n, $interval) = @_;
    my $name = sprintf 'bench-docker-%03d', $i;
    my $id = sprintf 'd0000000-0000-4000-8000-%012d', $i;
    return Mojo::JSON::encode_json({
        agent => { id => $id, version => '5.0.4', type => 'unified', intervalSeconds => $interval },
        host => { hostname => $name, name => "$name-daemon", machineId => $id, os => 'Debian GNU/Linux 12 (bookworm)',
            runtime => 'docker', dockerVersion => '26.1.4', kernelVersion => '6.1.0-18-amd64', architecture => 'x86_64',
            totalCpu => 8, totalMemoryBytes => 32000000000, uptimeSeconds => 7200, cpuUsagePercent => '__CPU__',
            loadAverage => [0.5, 0.4, 0.3],
            memory => { totalBytes => 32000000000, usedBytes => 12000000000, freeBytes => 20000000000, usage => 37.5 },
            disks => [{ device => '/dev/vda1', mountpoint => '/', filesystem => 'ext4', type => 'ext4',
                totalBytes => 100000000000, usedBytes => 40000000000, freeBytes => 60000000000, usage => 40 }],
            network => [{ name => 'eth0', mac => '52:54:00:00:00:02', addresses => ['192.0.2.8/24'], rxBytes => 100,
                txBytes => 200 }] },
        containers => [map {
            my $k = $_;
            { id => Digest::SHA::sha256_hex("$i-$k"), name => "app-$k", image => "registry.example/app-$k:1.$k",
              imageDigest => 'sha256:' . Digest::SHA::sha256_hex("img-$k"), createdAt => '2026-01-10T08:00:00Z',
              state => $k % 10 ? 'running' : 'exited', status => $k % 10 ? 'Up 2 hours' : 'Exited (0) 1 hour ago',
              health => 'healthy', cpuPercent => '__CPU__', memoryUsageBytes => 50000000 + $k,
              memoryLimitBytes => 1000000000, memoryPercent => 5, uptimeSeconds => 7200, restartCount => 0,
              exitCode => 0, startedAt => '2026-01-12T08:15:30Z',
              ports => [{ privatePort => 8000 + $k, publicPort => 18000 + $k, protocol => 'tcp', ip => '0.0.0.0' }],
              labels => { 'com.docker.compose.project' => 'bench', 'com.docker.compose.service' => "app-$k" },
              networks => [{ name => 'bridge', ipv4 => "172.17.0.$k" }],
              blockIo => { readBytes => 1000 * $k, writeBytes => 2000 * $k },
              mounts => [{ type => 'volume', source => "/var/lib/docker/volumes/v$k/_data", destination => '/data',
                  mode => 'z', rw => Mojo::JSON::true, propagation => '', name => "v$k", driver => 'local' }] }
        } 1 .. $n],
        timestamp => '__TS__',
    });
}

# A Kubernetes agent's report (agents.md §5.1): $n pods over 5 nodes, a deployment per 5 pods.
sub bench_kube_report {
    my ($i, $n, $interval) = @_;
    my $cid = sprintf 'bench-cluster-%02d', $i;
    return Mojo::JSON::encode_json({
        agent => { id => "$cid-agent", version => '5.0.4', type => 'unified', intervalSeconds => $interval },
        cluster => { id => $cid, name => $cid, server => "https://10.9.$i.1:6443", context => $cid, version => 'v1.30.2',
            provider => 'k3s', namespace => 'pulse' },
        nodes => [map { { uid => "$cid-n$_", name => "node-$_", ready => Mojo::JSON::true, kubeletVersion => 'v1.30.2',
            containerRuntimeVersion => 'containerd://1.7.13', osImage => 'Ubuntu 24.04 LTS', kernelVersion => '6.8.0-31-generic',
            architecture => 'amd64', capacity => { cpuCores => 8, memoryBytes => 32000000000, pods => 110 },
            allocatable => { cpuCores => 8, memoryBytes => 31000000000, pods => 110 }, roles => ['worker'] } } 1 .. 5],
        pods => [map {
            my $k = $_;
            my $d = int(($k - 1) / 5);
            { uid => "$cid-p$k", name => "svc$d-7d9f-$k", namespace => 'apps', nodeName => 'node-' . (1 + $k % 5),
              phase => 'Running', qosClass => 'Burstable', createdAt => '2026-01-12T09:00:00Z',
              startTime => '2026-01-12T09:00:02Z', restarts => 0, labels => { app => "svc$d" },
              ownerKind => 'ReplicaSet', ownerName => "svc$d-7d9f",
              containers => [{ name => "svc$d", image => "ghcr.io/bench/svc$d:1.0", ready => Mojo::JSON::true,
                  restartCount => 0, state => 'running' }] }
        } 1 .. $n],
        deployments => [map { { uid => "$cid-d$_", name => "svc$_", namespace => 'apps', desiredReplicas => 5,
            updatedReplicas => 5, readyReplicas => 5, availableReplicas => 5, labels => { app => "svc$_" } } }
            0 .. int(($n - 1) / 5)],
        timestamp => '__TS__',
    });
}

# --- issue 15: the web UI in headless Chromium ------------------------------------------
# The Proxmox overview of a simulated 100 nodes / 5,000 guests (BENCH_NODES, BENCH_GUESTS),
# polled every 10 s, loaded by t/ui/bench.mjs in Debian's chromium: first contentful paint,
# every guest in the table, bytes on the wire (cold cache, then warm), the main-thread time
# of a refresh after the state changed, the page's heap.
sub ui_bench {
    my $nodes = $ENV{BENCH_NODES} // 100;
    my $guests = $ENV{BENCH_GUESTS} // 5000;
    my $src = PulseStack::srcdir();
    my $chromium = $ENV{PULSE_CHROMIUM} // '/usr/bin/chromium';
    unless (-x $chromium && -f "$src/t/ui/node_modules/playwright-core/package.json") {
        print "\n== web UI: skipped: needs $chromium and t/ui/node_modules (cd t/ui && npm ci) ==\n";
        return;
    }
    my $s = PulseStack->new(responders => 2, threads => 4, settings => { pve_polling_interval => 10,
        log_level => 'warn' })->start;
    my $admin = $s->setup_admin;
    # The guests' values change between two polls, as a live estate's do (the C simulator's
    # --drift), so that each refresh redraws what a real one would.
    my $sim = bench_sim($s, $nodes, $guests, 'c', drift => 1);
    my $res = $s->ua->post($s->url('/api/config/nodes') => $s->token_headers => json => { type => 'pve',
        name => 'bench', host => $sim->{url}, tokenName => 'root@pam!b', tokenValue => 'bench',
        fingerprint => $sim->{fingerprint} })->result;
    die 'node add failed: ' . $res->body unless $res->code == 201;
    $s->wait_state(sub { @{ $_[0]{vms} } + @{ $_[0]{containers} } == $guests }, 120, 'the whole estate');
    my $state = $s->ua->get($s->url('/api/state') => $s->token_headers => { 'Accept-Encoding' => 'gzip' })->result;
    local @ENV{qw(UI_URL UI_USER UI_PASSWORD UI_CHROMIUM UI_GUESTS)} =
        ($s->base_url, $admin->{user}, $admin->{password}, $chromium, $guests);
    my %f;
    open my $out, '-|', "cd '$src/t/ui' && node bench.mjs 2>&1" or die "node: $!";
    while (<$out>) {
        if (/^figure (\S+) (\S+)$/) { $f{$1} = $2 } else { print "# $_" }
    }
    close $out;
    $s->stop;
    printf "\n== web UI: the Proxmox overview of %d nodes / %d guests in headless Chromium ==\n", $nodes, $guests;
    printf "%-44s %10s %10s\n", '', 'cold cache', 'warm';
    printf "%-44s %10s %10s   (target: <= 1000)\n", 'first contentful paint, ms', $f{cold_fcp_ms} // '?', $f{warm_fcp_ms} // '?';
    printf "%-44s %10s %10s   (target: <= 1500)\n", "every guest in the table, ms", $f{cold_rows_ms} // '?', $f{warm_rows_ms} // '?';
    printf "%-44s %10s %10s   (target: <= 150, cold)\n", 'transfer without /api/state, KB', $f{cold_transfer_kb} // '?',
        $f{warm_transfer_kb} // '?';
    printf "%-44s %10s %10s\n", 'requests without /api/state', $f{cold_requests} // '?', $f{warm_requests} // '?';
    printf "%-44s %10s\n", '/api/state body, KB (as sent; gzip not asked)', sprintf('%.0f', length($state->body) / 1024);
    printf "%-44s %10s %10s\n", 'refresh after a change (median of 3)', 'page top', 'guests';
    printf "%-44s %10s %10s   (target: <= 50)\n", '  main thread, task time ms', map { $f{"${_}refresh_ms_median"} // '?' } '', 'scrolled_';
    printf "%-44s %10s %10s\n", '  main thread, task time ms (max of 3)', map { $f{"${_}refresh_ms_max"} // '?' } '', 'scrolled_';
    printf "%-44s %10s %10s\n", '  main thread, CPU ms', map { $f{"${_}refresh_cpu_ms"} // '?' } '', 'scrolled_';
    printf "%-44s %10s %10s\n", '  other threads (state worker ...), CPU ms', map { $f{"${_}refresh_other_threads_ms"} // '?' } '', 'scrolled_';
    printf "%-44s %10s %10s\n", '  of which the patch applied, ms', map { $f{"${_}refresh_patch_ms"} // '?' } '', 'scrolled_';
    printf "%-44s %10s %10s\n", '  of which the redraw, ms', map { $f{"${_}refresh_render_ms"} // '?' } '', 'scrolled_';
    for my $k (qw(ScriptDuration LayoutDuration RecalcStyleDuration)) {
        printf "%-44s %10s %10s\n", "  $k, ms", map { $f{"${_}refresh_$k"} // '?' } '', 'scrolled_';
    }
    printf "%-44s %10s\n", 'JavaScript heap, MB', $f{heap_mb} // '?';
}

# The 30-day report of one guest (7 metrics) as a running server holds its history: the
# day tier complete up to today, the hour tier up to this hour, raw samples every 10 s over
# the last two hours. The time of GET /api/admin/reports/generate through nginx (the first,
# which loads the fonts, and the median of the rest), and the responder's peak resident
# memory over those requests (VmHWM, reset before them through clear_refs).
sub report_bench {
    my $runs = $ENV{BENCH_REPORT_RUNS} // 9;
    my $s = PulseStack->new(responders => 1, threads => 4, workers => 1,
        settings => { log_level => 'warn', license_public_key => PulseStack::licence_public_key() })->start;
    $s->setup_admin;
    $s->activate_licence;
    # Nothing rolls up or drops what is seeded here.
    $s->stop_program('worker-1', 'TERM', 20);
    $s->psql(q{
        CREATE TEMP TABLE b_ids AS WITH i AS (
            INSERT INTO pulse.metric_series (resource_type, resource_id, metric, resource_name)
            SELECT 'vm', 'bench:report:1', m, 'report-guest'
            FROM unnest(ARRAY['cpu', 'memory', 'disk', 'diskread', 'diskwrite', 'netin', 'netout']) m
            RETURNING id, metric)
        SELECT * FROM i;
        SELECT count(pulse.metric_partition_ensure('day', t))
            FROM generate_series(date_trunc('day', now()) - interval '32 days', now(), interval '1 day') t;
        SELECT count(pulse.metric_partition_ensure('hour', t))
            FROM generate_series(date_trunc('day', now()) - interval '1 day', now(), interval '1 hour') t;
        SELECT count(pulse.metric_partition_ensure('raw', t))
            FROM generate_series(now() - interval '3 hours', now() + interval '1 hour', interval '30 min') t;
        INSERT INTO pulse.metric_day (series, t0, n, avg, min, max)
            SELECT id, d, ARRAY[8640], ARRAY[20 + 10 * sin(extract(epoch FROM d) / 86400 + id)],
                   ARRAY[5 + id::float8], ARRAY[60 + id::float8]
            FROM b_ids, generate_series(date_trunc('day', now()) - interval '31 days',
                                        date_trunc('day', now()) - interval '1 day', interval '1 day') d;
        INSERT INTO pulse.metric_hour (series, t0, n, avg, min, max)
            SELECT id, date_trunc('day', now()), array_agg(360 ORDER BY h),
                   array_agg(20 + 10 * sin(h / 3.0 + id) ORDER BY h), array_agg(5::float8 ORDER BY h),
                   array_agg(60::float8 ORDER BY h)
            FROM b_ids, generate_series(0, 23) h GROUP BY id;
        INSERT INTO pulse.metric_raw (ts, blk, vals)
            SELECT t, blk, pulse.metric_pack(array_agg(v ORDER BY slot)) FROM (
                SELECT t, s / 200 AS blk, s % 200 AS slot,
                       CASE WHEN b.id IS NULL THEN NULL ELSE 20 + 10 * sin(extract(epoch FROM t) / 600 + s) END AS v
                FROM generate_series(date_trunc('minute', now()) - interval '2 hours', now(), interval '10 s') t,
                     generate_series((SELECT min(id) / 200 * 200 FROM b_ids), (SELECT max(id) FROM b_ids)) s
                LEFT JOIN b_ids b ON b.id = s) x
            GROUP BY t, blk
            ON CONFLICT (blk, ts) DO NOTHING;
        UPDATE pulse.metric_rollup SET done_until = date_trunc('day', now()) WHERE tier = 'day';
        UPDATE pulse.metric_rollup SET done_until = date_trunc('hour', now()) WHERE tier IN ('hour', 'minute');
    });
    my $pid = $s->pid_of('fcgi-1');
    my $q = '/api/admin/reports/generate?resourceType=vm&resourceId=bench:report:1&start='
        . strftime('%Y-%m-%dT%H:%M:%SZ', gmtime(time - 30 * 86400)) . '&end=' . strftime('%Y-%m-%dT%H:%M:%SZ', gmtime);
    my (undef, $hwm0) = rss_hwm($pid);
    my $reset = 0;
    if (open my $cr, '>', "/proc/$pid/clear_refs") { $reset = print({$cr} "5\n") && close($cr) }
    my (@pdf, @csv, $len, $pages, $points);
    for my $i (0 .. $runs) {
        for my $fmt (qw(pdf csv)) {
            my $t0 = time;
            my $res = $s->ua->get($s->url("$q&format=$fmt") => $s->token_headers)->result;
            my $dt = time - $t0;
            die "report $fmt: " . $res->code . ' ' . substr($res->body, 0, 200) unless $res->code == 200;
            push @{ $fmt eq 'pdf' ? \@pdf : \@csv }, $dt;
            if ($fmt eq 'pdf') {
                $len = length $res->body;
                $pages = () = $res->body =~ m{/Type\s*/Page\b}g;
            } else {
                ($points) = $res->body =~ /^# Total Data Points:,(\d+)/m;
            }
        }
    }
    my ($rss, $hwm) = rss_hwm($pid);
    my $first = shift @pdf;
    shift @csv;
    print "\n== 30-day report of one guest (7 metrics, day tier: $points points), through nginx ==\n";
    printf "%-34s %10.0f ms\n", 'PDF, first (fonts loaded)', $first * 1000;
    printf "%-34s %10.0f ms   (target: <= 1000)\n", 'PDF, median of ' . scalar(@pdf), median(@pdf) * 1000;
    printf "%-34s %10.0f ms\n", 'CSV, median of ' . scalar(@csv), median(@csv) * 1000;
    printf "%-34s %10.1f kB, %d pages\n", 'PDF size', $len / 1024, $pages;
    printf "%-34s %10.1f MB   (target: <= 32)\n", 'responder peak resident (VmHWM)', $hwm;
    printf "%-34s %10.1f MB%s\n", 'responder peak before the reports', $hwm0,
        $reset ? '' : ' (clear_refs refused: the peak above includes it)';
    printf "%-34s %10.1f MB\n", 'responder resident after', $rss;
    $s->stop;
}
