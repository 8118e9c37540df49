#!/usr/bin/perl
# 63-agent-program.t: the pulse-agent program against a stand-in server (t/agent/receiver.pl):
# the report's fields and types (agents.md §3.1), its figures against the machine's own
# (/proc/cpuinfo, free -b, df -B1 /) and a recorded machine's (t/agent/proc, t/agent/sys, a
# smartctl stand-in), the token headers, the remote configuration at start,
# the health server, buffering while the server is away and the flush when it returns, a
# refused token (403) dropping reports, and bad flags. No database, no Pulse server.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempdir);
use JSON::PP;
use Mojo::UserAgent;
use Test::More;
use Time::HiRes qw(sleep time);
use AgentHarness qw(spawn stop wait_for slurp json_lines);
use PulseStack;

my $src = PulseStack::srcdir();
my $agent_bin = PulseStack::builddir() . '/agent/pulse-agent';
plan skip_all => "$agent_bin not built" unless -x $agent_bin;
my $dir = tempdir(CLEANUP => 1);
my $token = 'pulse-agent-test-token-0123456789';
my ($port, $health) = (PulseStack::free_port(), PulseStack::free_port());
my $out = "$dir/received.jsonl";
sub start_receiver {
    my ($p, $file, @extra) = @_;
    my $pid = spawn("$dir/receiver.log", $^X, "$src/t/agent/receiver.pl",
        '--listen', "http://127.0.0.1:$p", '--out', $file, @extra);
    my $deadline = time + 20;
    while (time < $deadline) {
        return $pid if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$p");
        sleep 0.1;
    }
    die "receiver on $p did not start";
}

sub received { json_lines(@_) }

sub reports { grep { $_->{kind} eq 'report' } received(@_) }

sub run_agent {
    my ($log, %env) = @_;
    my @args = @{ delete $env{args} // [] };
    local @ENV{keys %env} = values %env;
    return spawn($log, $agent_bin, @args);
}

# --- bad flags ----------------------------------------------------------------------------------

{
    my $o = `$agent_bin --no-such-flag 2>&1`;
    is($? >> 8, 2, 'an unknown flag: exit 2');
    like($o, qr/no-such-flag/, 'the message names it');
    $o = `env -u PULSE_TOKEN $agent_bin --url http://127.0.0.1:1 2>&1`;
    is($? >> 8, 2, 'no token: exit 2') if !-r '/var/lib/pulse-agent/token';
    like($o, qr/token/, 'the message says a token is missing');
    $o = `$agent_bin --token t --interval 30 2>&1`;
    is($? >> 8, 2, 'a bare number is not an interval');
    $o = `$agent_bin --version 2>&1`;
    like($o, qr/^pulse-agent \S+$/m, '--version');
    $o = `$agent_bin --self-test --token t --enable-proxmox --kubeconfig /x 2>&1`;
    is($? >> 8, 0, '--self-test exits 0');
    like($o, qr/not supported.*flag=--enable-proxmox/, 'an unsupported flag is logged');
    like($o, qr/flag=--kubeconfig/, 'each of them');
    unlike($o, qr/\bt\b.*token|token=t\b/, 'the token is not logged');
}

# --- reports --------------------------------------------------------------------------------------

my $recv = start_receiver($port, $out);
my $agent = run_agent("$dir/agent.log", PULSE_TOKEN => $token, PULSE_TAGS => 'lab, db ,lab',
    args => ['--url', "http://127.0.0.1:$port/", '--interval', '1s',
        '--health-addr', "127.0.0.1:$health", '--hostname', 'agent-test-host',
        '--report-ip', '192.0.2.77']);
ok(wait_for('three reports', sub { reports($out) >= 3 }), 'three reports arrive');
my @got = received($out);
my ($report) = grep { $_->{kind} eq 'report' } @got;
my $r = $report->{body};
is(ref $r, 'HASH', 'the body is a JSON object');

is($report->{x_api_token}, $token, 'X-API-Token carries the token');
is($report->{authorization}, "Bearer $token", 'Authorization: Bearer too');
like($report->{user_agent}, qr{^pulse-host-agent/\S+$}, 'User-Agent');
like($report->{content_type}, qr{^application/json}, 'Content-Type');
ok((grep { $_->{kind} eq 'lookup' && $_->{query} eq 'hostname=agent-test-host' } @got),
    'remote config: the host lookup by hostname at start');
ok((grep { $_->{kind} eq 'config' } @got), 'remote config: then the config, both 404, not fatal');

my $num = qr/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
my $int = qr/^-?\d+$/;
my $uuid = qr/^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mac-[0-9a-f]{12}|.{8,})$/;
my $ag = $r->{agent};
like($ag->{id}, $uuid, 'agent.id: the machine id');
is($ag->{type}, 'unified', 'agent.type');
is($ag->{intervalSeconds}, 1, 'agent.intervalSeconds');
like($ag->{version}, qr/\S/, 'agent.version');
my $h = $r->{host};
is($h->{hostname}, 'agent-test-host', 'host.hostname from --hostname');
is($h->{displayName}, 'agent-test-host', 'host.displayName = hostname');
is($h->{id}, $ag->{id}, 'host.id = the machine id');
is($h->{machineId}, $ag->{id}, 'host.machineId');
is($h->{reportIp}, '192.0.2.77', 'host.reportIp');
chomp(my $kernel = `uname -r`);
chomp(my $arch = `uname -m`);
is($h->{kernelVersion}, $kernel, 'kernelVersion = uname -r');
is($h->{architecture}, $arch, 'architecture = uname -m');
like($h->{platform}, qr/^[a-z0-9._-]+$/, 'platform: lowercase os-release ID');
like($h->{uptimeSeconds}, $int, 'uptimeSeconds integer');
is(scalar @{ $h->{loadAverage} }, 3, 'loadAverage: three numbers');
like($_, $num, 'load is a number') for @{ $h->{loadAverage} };
my $cpus = () = `cat /proc/cpuinfo` =~ /^processor\s*:/mg;
is($h->{cpuCount}, $cpus, "cpuCount = /proc/cpuinfo's processors ($cpus)");

my $m = $r->{metrics};
my $cpu = $m->{cpuUsagePercent} // 0;
ok($cpu >= 0 && $cpu <= 100, "cpuUsagePercent within 0..100 ($cpu)");
my ($mem_total, $mem_used) = `free -b` =~ /^Mem:\s+(\d+)\s+(\d+)/m;
my $mem = $m->{memory};
is($mem->{totalBytes}, $mem_total, 'memory.totalBytes = free -b total');
ok(abs($mem->{usedBytes} - $mem_used) < 0.05 * $mem_total,
    "memory.usedBytes near free -b used ($mem->{usedBytes} vs $mem_used)");
ok(abs($mem->{usage} - 100 * $mem->{usedBytes} / $mem->{totalBytes}) < 1e-6, 'memory.usage = used/total');
like($mem->{freeBytes}, $int, 'memory.freeBytes integer');
ok(!exists $mem->{swapTotalBytes} || $mem->{swapTotalBytes} =~ $int, 'swapTotalBytes integer when present');

my ($fs_type, $df_total, $df_used) = `df -T -B1 /` =~ /^\S+\s+(\S+)\s+(\d+)\s+(\d+)/m;
my ($root) = grep { $_->{mountpoint} eq '/' } @{ $r->{disks} // [] };
SKIP: {
    skip "/ is $fs_type, which the original's filter leaves out", 3
        if $fs_type =~ /^(overlay|tmpfs|squashfs|fuse|nfs)/;
    ok($root, 'the root filesystem is in disks');
    is($root->{totalBytes}, $df_total, 'root totalBytes = df -B1 total');
    ok(abs($root->{usedBytes} - $df_used) < 0.01 * $df_total + 200e6,
        "root usedBytes near df used ($root->{usedBytes} vs $df_used)");
}
for my $d (@{ $r->{disks} // [] }) {
    like($d->{$_}, $int, "disk $d->{mountpoint}: $_ integer") for qw(totalBytes usedBytes);
    is($d->{type}, $d->{filesystem}, "disk $d->{mountpoint}: type = filesystem");
    unlike($d->{mountpoint}, qr{^/(proc|sys|dev|run)(/|$)}, "disk $d->{mountpoint}: not a system path");
    unlike($d->{filesystem}, qr/^(tmpfs|devtmpfs|proc|sysfs|overlay|cgroup2?)$/, "disk $d->{mountpoint}: not virtual");
}
for my $io (@{ $r->{diskIO} // [] }) {
    unlike($io->{device}, qr/^(loop|ram|dm-)|^(sd|vd|hd|xvd)[a-z]+\d+$|^nvme\d+n\d+p\d+$/, "diskIO $io->{device}: a whole disk");
    like($io->{$_}, $int, "diskIO $io->{device}: $_") for qw(readBytes writeBytes readOps writeOps readTimeMs writeTimeMs ioTimeMs);
}
for my $n (@{ $r->{network} // [] }) {
    isnt($n->{name}, 'lo', "network $n->{name}: not loopback");
    like($_, qr{^[0-9a-fA-F.:]+/\d+$}, "network $n->{name}: CIDR address $_") for @{ $n->{addresses} };
    like($n->{mac}, qr/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, "network $n->{name}: mac") if exists $n->{mac};
}
is(ref $r->{sensors}, 'HASH', 'sensors: always an object');
is_deeply($r->{tags}, ['lab', 'db'], 'tags from PULSE_TAGS, trimmed and deduplicated');
like($r->{timestamp}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'timestamp: RFC 3339 in UTC');
ok(!exists $r->{sequenceId}, 'sequenceId never set');

# --- health --------------------------------------------------------------------------------------

my $ua = Mojo::UserAgent->new(request_timeout => 5);
my $res = $ua->get("http://127.0.0.1:$health/healthz")->result;
is($res->code, 200, '/healthz 200');
is($res->body, 'ok', '/healthz ok');
is($ua->get("http://127.0.0.1:$health/readyz")->result->code, 200, '/readyz 200 once started');
like($ua->get("http://127.0.0.1:$health/metrics")->result->body, qr/^pulse_agent_up 1$/m, '/metrics: up');
is($ua->get("http://127.0.0.1:$health/nothing")->result->code, 404, 'anything else: 404');

# --- the server goes away, then returns -------------------------------------------------------

stop($recv);
my $down_at = time;
my $before = () = reports($out);
sleep 4;
my $back_at = time;
$recv = start_receiver($port, $out);
# The kept reports go out one after another: wait for two of them and for the line the agent
# logs once the whole buffer is sent.
ok(wait_for('the buffered reports', sub {
    2 <= grep { my $t = ts($_->{body}{timestamp}); $t > $down_at + 0.5 && $t < $back_at - 0.5 } reports($out)
}, 40), 'reports made while the server was down arrive after it returns');
my @after = reports($out);
my @gap = grep { my $t = ts($_->{body}{timestamp}); $t > $down_at && $t < $back_at } @after;
ok(@gap >= 2, scalar(@gap) . ' reports from the down window delivered');
my @gap_ts = map { ts($_->{body}{timestamp}) } @gap;
is_deeply([@gap_ts], [sort { $a <=> $b } @gap_ts], 'the buffer is flushed oldest first');
my @all_ts = map { ts($_->{body}{timestamp}) } @after;
is_deeply([@all_ts], [sort { $a <=> $b } @all_ts],
    'the fresh report goes after the kept ones: the timestamps arrive in order (QUIRK 16)');
ok(wait_for('the flush in the log', sub { slurp("$dir/agent.log") =~ /buffered reports sent count=\d+/ }, 20),
    'the agent logs the flush');
unlike(slurp("$dir/agent.log"), qr/\Q$token\E/, 'the token never appears in the log');
is(stop($agent) >> 8, 0, 'SIGTERM: the agent exits 0');
stop($recv);

# --- a token without the scope: reports dropped, not buffered ---------------------------------

my $out403 = "$dir/forbidden.jsonl";
my $port403 = PulseStack::free_port();
$recv = start_receiver($port403, $out403, '--status', 403);
$agent = run_agent("$dir/agent403.log", PULSE_TOKEN => $token,
    args => ['--url', "http://127.0.0.1:$port403", '--interval', '1s', '--health-addr', '']);
ok(wait_for('three refused reports', sub { reports($out403) >= 3 }), 'refused reports are sent each tick');
my @ts403 = map { $_->{body}{timestamp} } reports($out403);
my %seen;
ok(!(grep { $seen{$_}++ } @ts403), 'no report sent twice: a 403 drops it');
like(slurp("$dir/agent403.log"), qr/lacks the host-agent:report scope/, 'the agent says why');
is(stop($agent) >> 8, 0, 'the agent stops');
stop($recv);

# --- no server at start: the remote config is logged, the agent goes on ----------------------

my $outlate = "$dir/late.jsonl";
my $portlate = PulseStack::free_port();
$agent = run_agent("$dir/agent-late.log", PULSE_TOKEN => $token,
    args => ['--url', "http://127.0.0.1:$portlate", '--interval', '1s', '--health-addr', '']);
ok(wait_for('the agent to give up on the remote config', sub { slurp("$dir/agent-late.log") =~ /report not sent/ }),
    'no server at start: reports are kept');
like(slurp("$dir/agent-late.log"), qr/remote config: no answer/, 'the missing remote config is logged');
ok(kill(0, $agent), 'the agent runs on');
$recv = start_receiver($portlate, $outlate);
ok(wait_for('the first reports', sub { reports($outlate) >= 2 }, 40), 'its reports arrive once the server is up');
is(stop($agent) >> 8, 0, 'the agent stops');
stop($recv);

# --- a recorded machine: HOST_PROC and HOST_SYS over t/agent/, smartctl stand-in on PATH ---------

my $outrec = "$dir/recorded.jsonl";
my $portrec = PulseStack::free_port();
my $smart_args = "$dir/smartctl-args";
$recv = start_receiver($portrec, $outrec);
$agent = run_agent("$dir/agent-recorded.log", PULSE_TOKEN => $token, HOST_PROC => "$src/t/agent/proc",
    HOST_SYS => "$src/t/agent/sys", PATH => "$src/t/agent/bin:$ENV{PATH}",
    SMARTCTL_ARGS_FILE => $smart_args,
    args => ['--url', "http://127.0.0.1:$portrec", '--interval', '1s', '--health-addr', '']);
ok(wait_for('a report of the recorded machine', sub { reports($outrec) >= 1 }), 'the recorded machine reports');
is(stop($agent) >> 8, 0, 'the agent stops');
stop($recv);
my ($rec) = map { $_->{body} } reports($outrec);
is($rec->{host}{cpuCount}, 2, 'recorded: cpuCount from cpuinfo');
is_deeply($rec->{host}{loadAverage}, [0.25, 0.5, 0.75], 'recorded: loadavg');
is($rec->{host}{uptimeSeconds}, 123456, 'recorded: uptime in whole seconds');
ok(!exists $rec->{metrics}{cpuUsagePercent}, 'recorded: /proc/stat did not move, 0 is omitted');
is_deeply($rec->{metrics}{memory}, { totalBytes => 8000000 * 1024, usedBytes => 3000000 * 1024,
    freeBytes => 1000000 * 1024, usage => 37.5, swapTotalBytes => 1000000 * 1024,
    swapUsedBytes => 250000 * 1024 }, 'recorded: memory by the original formulas');
is(scalar @{ $rec->{disks} }, 1, 'recorded: one filesystem (proc and tmpfs left out)');
is($rec->{disks}[0]{device}, '/dev/recorded-root', 'recorded: the mount source');
is_deeply($rec->{diskIO}, [{ device => 'sda', readBytes => 20000 * 512, writeBytes => 40000 * 512,
    readOps => 1000, writeOps => 2000, readTimeMs => 500, writeTimeMs => 900, ioTimeMs => 1200 }],
    'recorded: diskIO of the whole disk only');
my $md = $rec->{raid}[0];
is($md->{device}, '/dev/md0', 'recorded: md0');
is($md->{level}, 'raid1', 'recorded: raid1');
is($md->{state}, 'clean, degraded, recovering', 'recorded: degraded and recovering');
is($md->{rebuildPercent}, 7.5, 'recorded: rebuild percent');
is($md->{rebuildSpeed}, '120000K/sec', 'recorded: rebuild speed');
is_deeply([map { $_->{device} } @{ $md->{devices} }], ['/dev/sdb1', '/dev/sda1'], 'recorded: members');
is_deeply($rec->{sensors}{temperatureCelsius}, { cpu_package => 52, cpu_core_0 => 50 }, 'recorded: CPU temperatures from hwmon');
is_deeply($rec->{sensors}{fanRpm}, { nct6798_fan1 => 1500 }, 'recorded: a turning fan, a stopped one left out');
is_deeply($rec->{sensors}{additional}, { nct6798_systin => 31 }, 'recorded: other temperatures');
is_deeply($rec->{sensors}{smart}, [{ device => 'sda', model => 'Recorded SSD 860', serial => 'S3Z1NB0K000001',
    wwn => '5-2538-e409b3cf1', type => 'sata', temperature => 34, health => 'PASSED' }],
    'recorded: SMART from smartctl --json');
like(slurp($smart_args), qr{^-n standby -i -A -H --json=o /dev/sda$}m, 'smartctl asked without waking a sleeping disk');
unlike(slurp($smart_args), qr/loop0/, 'loop devices are not asked');

# --- resource use (figures, not assertions) ----------------------------------------------------

sub ts {
    my ($s) = @_;
    my ($y, $mo, $d, $hh, $mi, $ss, $frac) = $s =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)(\.\d+)?Z$/ or return 0;
    require Time::Local;
    return Time::Local::timegm($ss, $mi, $hh, $d, $mo - 1, $y) + ($frac // 0);
}

done_testing;
