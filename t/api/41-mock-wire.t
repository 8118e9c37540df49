#!/usr/bin/perl
# 41-mock-wire.t: value conventions of the mock estate as the original's mock writes them (issue
# 10): node displayName, VM I/O rates, unknown disks (-1 with used 0, free = total and a reason),
# PBS cpu and Ceph pool usage in percent, node temperatures, and the temperature_monitoring_enabled
# setting behind /api/state's temperatureMonitoringEnabled and the mock's temperatures.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { demo_mode => 'true' })->start;
my $admin = $stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $rfc3339 = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

my $st = $stack->wait_state(sub { @{ $_[0]{nodes} } == 7 && @{ $_[0]{pbs} } && @{ $_[0]{cephClusters} } },
    30, 'the mock estate');

# Node names: the original's mock leaves displayName to default to the node name.
my @named = grep { $_->{displayName} ne $_->{name} } @{ $st->{nodes} };
ok(!@named, 'every mock node\'s displayName is its name')
    or diag explain [map { "$_->{name}: $_->{displayName}" } @named];

# I/O rates: running VMs move data, stopped guests none.
my @vms = @{ $st->{vms} };
my @running = grep { $_->{status} eq 'running' } @vms;
my @stopped = grep { $_->{status} ne 'running' } @vms;
ok(@running >= 5 && @stopped >= 2, scalar(@running) . ' running and ' . scalar(@stopped) . ' stopped VMs');
my @rates = qw(networkIn networkOut diskRead diskWrite);
my @idle = grep { my $v = $_; grep { !($v->{$_} > 0) } @rates } @running;
ok(!@idle, 'every running VM has networkIn, networkOut, diskRead and diskWrite above 0')
    or diag explain [map { my $v = $_; "$v->{id}: " . join(' ', map { "$_=$v->{$_}" } @rates) } @idle];
my @moving = grep { my $v = $_; grep { $v->{$_} != 0 } @rates } @stopped, grep { $_->{status} ne 'running' } @{ $st->{containers} };
ok(!@moving, 'stopped guests have no I/O') or diag explain [map { $_->{id} } @moving];

# Unknown disks: usage -1 always with used 0, free = total, and (VMs) the reason.
my @unknown = grep { $_->{disk} && $_->{disk}{usage} == -1 } @vms, @{ $st->{containers} };
ok(@unknown >= @stopped, scalar(@unknown) . ' guests with an unknown disk');
my @bad = grep { $_->{disk}{used} != 0 || $_->{disk}{free} != $_->{disk}{total} } @unknown;
ok(!@bad, 'each has used 0 and free = total') or diag explain [map { { $_->{id} => $_->{disk} } } @bad];
@bad = grep { $_->{type} eq 'qemu' && !($_->{diskStatusReason} // '') } @unknown;
ok(!@bad, 'each VM among them says why (diskStatusReason)') or diag explain [map { $_->{id} } @bad];
@bad = grep { !$_->{disk} || $_->{disk}{usage} != -1 || ($_->{diskStatusReason} // '') ne 'vm-stopped' } @stopped;
ok(!@bad, 'every stopped VM: disk usage -1 with diskStatusReason vm-stopped')
    or diag explain [map { { $_->{id} => [$_->{disk}, $_->{diskStatusReason}] } } @bad];
# A stopped container has no reason field: its disk is not "unknown" but unused (0), as the
# real poller shows it.
my @stopped_ct = grep { $_->{status} ne 'running' } @{ $st->{containers} };
ok(@stopped_ct >= 1, scalar(@stopped_ct) . ' stopped containers');
@bad = grep { !$_->{disk} || $_->{disk}{usage} != 0 || $_->{disk}{used} != 0 || $_->{disk}{free} != $_->{disk}{total} }
    @stopped_ct;
ok(!@bad, 'every stopped container: disk usage 0, used 0, free = total') or diag explain [map { $_->{id} } @bad];
my @agentless = grep { $_->{disk}{usage} == -1 } @running;
ok(@agentless >= 1, scalar(@agentless) . ' running VMs whose agent gives no disk figures');
@bad = grep { ($_->{diskStatusReason} // '') ne 'agent-not-running' } @agentless;
ok(!@bad, 'their reason: agent-not-running, as in the original\'s mock') or diag explain [map { $_->{id} } @bad];
@bad = grep { $_->{diskStatusReason} && $_->{disk}{usage} != -1 } @vms;
ok(!@bad, 'no reason on a VM whose disk is known') or diag explain [map { $_->{id} } @bad];

# Percentages: PBS cpu and Ceph pools' percentUsed are 0-100, as the original's client shows them.
my @cpu = map { $_->{cpu} } @{ $st->{pbs} };
ok(!(grep { $_ < 0 || $_ > 100 } @cpu), 'PBS cpu within 0-100: ' . join(', ', @cpu));
ok((grep { $_ > 1 } @cpu), 'a busy PBS shows more than 1 (percent, not a fraction)');
my @pools = map { @{ $_->{pools} // [] } } @{ $st->{cephClusters} };
ok(@pools >= 1, scalar(@pools) . ' Ceph pools');
my @pct = map { $_->{percentUsed} } @pools;
ok(!(grep { $_ < 0 || $_ > 100 } @pct), 'Ceph percentUsed within 0-100: ' . join(', ', @pct));
ok((grep { $_ > 1 } @pct), 'a used pool shows more than 1 (percent, not a fraction)');

# Ceph services: the ones numMons and numMgrs count.
for my $c (@{ $st->{cephClusters} }) {
    my %svc = map { $_->{type} => $_ } @{ $c->{services} // [] };
    ok($svc{mon} && $svc{mon}{total} == $c->{numMons} && $svc{mgr} && $svc{mgr}{total} == $c->{numMgrs},
        "Ceph $c->{id}: services mon $c->{numMons} and mgr $c->{numMgrs}") or diag explain $c->{services};
}

# Temperatures: on by default.
is($st->{temperatureMonitoringEnabled}, true, 'temperatureMonitoringEnabled follows the setting (default on)');
my @warm = grep { $_->{temperature} } @{ $st->{nodes} };
ok(@warm >= 4, scalar(@warm) . ' nodes report temperatures');
ok(!(grep { $_->{status} ne 'online' } @warm), 'only online nodes have temperatures');
for my $n (@warm) {
    my $t = $n->{temperature};
    is($t->{available}, true, "$n->{name}: available");
    is($t->{hasCPU}, true, "$n->{name}: hasCPU");
    ok($t->{cpuPackage} > 20 && $t->{cpuPackage} < 100, "$n->{name}: cpuPackage $t->{cpuPackage} °C");
    ok($t->{cpuMax} >= $t->{cpuPackage}, "$n->{name}: cpuMax is the hottest reading");
    is(scalar @{ $t->{cores} }, $n->{cpuInfo}{cores}, "$n->{name}: one reading per core");
    ok(!(grep { $_->{core} !~ /^\d+$/ || !($_->{temp} > 20 && $_->{temp} <= $t->{cpuMax}) } @{ $t->{cores} }),
        "$n->{name}: cores are {core, temp} within range");
    is(ref $t->{nvme} ? 'ARRAY' : 'none', $t->{hasNVMe} ? 'ARRAY' : 'none', "$n->{name}: hasNVMe says whether nvme is listed");
    ok(!(grep { $_->{device} !~ /^nvme\d$/ || !($_->{temp} > 20) } @{ $t->{nvme} // [] }), "$n->{name}: nvme readings");
    is($t->{$_}, false, "$n->{name}: $_ false") for qw(hasGPU hasSMART);
    like($t->{$_}, $rfc3339, "$n->{name}: $_ is RFC 3339") for qw(lastUpdate minRecorded maxRecorded);
}
my $body = $ua->get($stack->url('/api/state') => $auth)->result->body;
like($body, qr/"cpuInfo":\{[^{}]*\},"temperature":\{/, 'temperature sits after cpuInfo, as in the original');

# Temperatures follow them over time.
my ($hot) = @warm;
my $moved = 0;
for (1 .. 15) {
    sleep 1;
    my ($n) = grep { $_->{id} eq $hot->{id} } @{ $ua->get($stack->url('/api/state') => $auth)->result->json->{nodes} };
    $moved = 1, last if $n->{temperature}{cpuPackage} != $hot->{temperature}{cpuPackage};
}
ok($moved, 'the mock temperatures drift');

# The setting off: /api/state says so and the mock nodes carry no temperature.
for my $p (qw(worker-1 fcgi-1)) {
    is($stack->stop_program($p, 'TERM', 20), 0, "$p stopped");
}
$stack->start_responder(1, PULSE_TEMPERATURE_MONITORING_ENABLED => 'false');
$stack->start_worker(1, PULSE_TEMPERATURE_MONITORING_ENABLED => 'false');
$st = $stack->wait_state(sub { @{ $_[0]{nodes} } == 7 && !(grep { $_->{temperature} } @{ $_[0]{nodes} }) }, 30,
    'the mock nodes without temperatures');
is($st->{temperatureMonitoringEnabled}, false, 'temperatureMonitoringEnabled false with the setting off');
is(scalar(grep { $_->{status} eq 'online' } @{ $st->{nodes} }), 6, 'the nodes are still there, online');
done_testing;
