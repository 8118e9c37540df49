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

my $duration = $ENV{BENCH_SECONDS} // 8;
my $connections = $ENV{BENCH_CONNECTIONS} // 32;
my $rounds = $ENV{BENCH_ROUNDS} // 3;

system('which wrk >/dev/null 2>&1') == 0 or die "wrk is not installed (apt-get install wrk)\n";
# BENCH_ONLY=poll runs only the polling and /api/state part.
if (($ENV{BENCH_ONLY} // '') eq 'poll') {
    poll_bench();
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

poll_bench() unless ($ENV{BENCH_SKIP_POLL} // '') eq '1';
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
    my $sim = $s->start_sim(nodes => $nodes, guests => $guests, token => 'root@pam!b=bench');
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
    printf "%-28s %12.3f %14.1f %14.1f\n", 'simulator (Perl)', ($s1 - $s0) / $cycles,
        100 * ($s1 - $s0) / $elapsed, $sm{rss};
    printf "%-28s %12s\n", 'last cycle, wall', "$ms ms";

    # /api/state of that estate against a bare responder with the same bytes.
    my $state = $s->ua->get($s->url('/api/state') => $s->token_headers)->result;
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
    # The state must not move while measuring: stop polling (the state stays as written).
    $s->stop_program('worker-1', 'TERM', 20);
    my $token = "X-API-Token: $admin->{token}";
    my %r;
    for my $round (1 .. $rounds) {
        push @{ $r{full} }, wrk_conns($s->url('/api/state'), $duration, $token, 8);
        push @{ $r{bare} }, wrk_conns("https://127.0.0.1:$bport/api/health", $duration, '', 8);
        push @{ $r{n304} }, wrk_conns($s->url('/api/state'), $duration, $token, 8, "If-None-Match: $etag");
    }
    my %med = map { my $k = $_; $k => median(map { $_->{rps} } @{ $r{$k} }) } keys %r;
    my %p99 = map { my $k = $_; $k => median(map { $_->{p99} } @{ $r{$k} }) } keys %r;
    printf "\n== GET /api/state for that estate (%.1f MB body, wrk -t2 -c8, %ds x %d rounds, median) ==\n",
        length($state->body) / 1048576, $duration, $rounds;
    printf "%-28s %12s %10s\n", '', 'requests/s', 'p99 ms';
    printf "%-28s %12.1f %10.2f\n", 'pulse-fcgi, full body', $med{full}, $p99{full};
    printf "%-28s %12.1f %10.2f\n", 'bare libfcgi, same bytes', $med{bare}, $p99{bare};
    printf "%-28s %12.2f %10s   (target: >= 0.70)\n", 'ratio full / bare', $med{full} / $med{bare}, '';
    printf "%-28s %12.1f %10.2f\n", 'pulse-fcgi, 304 path', $med{n304}, $p99{n304};
    $s->stop_program('bare-fcgi', 'TERM', 5);
    kill 'TERM', $s->{bare_nginx_pid} if $s->{bare_nginx_pid};
    $s->stop;
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
