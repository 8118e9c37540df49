#!/usr/bin/perl
# 40-value-conventions.t: the value conventions of what the poller writes for real Proxmox
# data, as the original's web client reads them, through the whole stack with the
# simulators: a cluster "orchard" configured under another name ("orchard-lab"), with Ceph
# and VMs whose guest agent is off, failing or fine, and a Backup Server.
#  - storage[].nodeIds of shared storage are ids of nodes[] (<cluster name>-<node>);
#  - a VM's disk usage is -1 when unknown, with diskStatusReason saying why (stopped, agent
#    disabled, not running, timed out, denied, no filesystems), used 0 and free = total;
#  - VMs whose agent answers carry disks[] from get-fsinfo, addresses, interfaces, OS;
#  - pbs[].cpu and cephClusters[].pools[].percentUsed in percent (0-100);
#  - cephClusters[].services from the monitor and manager maps, agreeing with numMons/numMgrs.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { pve_polling_interval => 1, pbs_polling_interval => 1 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;

# 25 guests on 3 nodes: VMs 100, 104, 112, 116 and 124 have the agent on, 101 has it off,
# 109 and 119 are stopped (t/fakes/pve-sim.pl).
my $sim = $stack->start_sim(name => 'orchard', nodes => 3, guests => 25, ceph => 1, cluster => 'orchard',
    token => 'root@pam!v=values-token-1');
my %fault = (104 => 'not-running', 112 => 'timeout', 116 => 'denied', 124 => 'no-fs');
for my $vmid (sort keys %fault) {
    $ua->post("$sim->{url}/__sim/agent" => json => { vmid => $vmid, fault => $fault{$vmid} })->result->is_success
        or BAIL_OUT("sim agent fault $vmid");
}
my $pbs = $stack->start_pbs_sim(name => 'pbs1', token => 'pulse@pbs!mon:values-pbs-token', datastores => 1, groups => 1);
# A fraction, as PBS reports it, that the default simulation never gives.
$ua->post("$pbs->{url}/__sim/cpu" => json => { cpu => 0.125 })->result->is_success or BAIL_OUT('sim cpu');

for my $body ({ type => 'pve', name => 'orchard-lab', host => $sim->{url}, tokenName => 'root@pam!v',
        tokenValue => 'values-token-1', fingerprint => $sim->{fingerprint} },
    { type => 'pbs', name => 'backup1', host => $pbs->{url}, tokenName => 'pulse@pbs!mon',
        tokenValue => 'values-pbs-token', fingerprint => $pbs->{fingerprint} }) {
    my $res = $ua->post($stack->url('/api/config/nodes') => $auth => json => $body)->result;
    is($res->code, 201, "added $body->{type} $body->{name}") or diag $res->body;
}

sub vm { my ($st, $vmid) = @_; (grep { $_->{vmid} == $vmid } @{ $st->{vms} })[0] }

# Everything polled at least once, the agent's details included; then one more full cycle.
my $st = $stack->wait_state(sub { my $v = vm($_[0], 100);
    $v && $v->{agentVersion} && @{ $_[0]{nodes} } == 3 && @{ $_[0]{cephClusters} } && @{ $_[0]{pbs} }
    && vm($_[0], 124) }, 60, 'the cluster, its agents, Ceph and the Backup Server');
my $seen = vm($st, 100)->{lastSeen};
$st = $stack->wait_state(sub { my $v = vm($_[0], 100); $v->{lastSeen} > $seen }, 20, 'one more cycle');

# --- storage[].nodeIds: ids of nodes[] (review row 1) ---
my %node_id = map { $_->{id} => 1 } @{ $st->{nodes} };
is_deeply([sort keys %node_id], [map { "orchard-node$_" } 1 .. 3], 'nodes[].id is <cluster name>-<node>');
my @shared = grep { $_->{shared} } @{ $st->{storage} };
ok(@shared, 'shared storage listed') or diag explain [map { $_->{id} } @{ $st->{storage} }];
for my $s (@shared) {
    is(scalar @{ $s->{nodeIds} }, scalar @{ $s->{nodes} }, "$s->{id}: one node id a node");
    for my $id (@{ $s->{nodeIds} }) {
        ok($node_id{$id}, "$s->{id}: nodeIds entry $id is a node's id");
    }
    # The original's client strips "<instance>-" from each to find the node.
    is_deeply([map { s/^\Q$s->{instance}\E-//r } @{ $s->{nodeIds} }], $s->{nodes},
        "$s->{id}: nodeIds are <instance>-<node> of its nodes");
}

# --- VM disk when unknown (review rows 4, 5, 13) ---
my %reason = (109 => 'vm-stopped', 119 => 'vm-stopped', 101 => 'agent-disabled', 104 => 'agent-not-running',
    112 => 'agent-timeout', 116 => 'permission-denied', 124 => 'no-filesystems');
for my $vmid (sort keys %reason) {
    my $v = vm($st, $vmid);
    is($v->{diskStatusReason}, $reason{$vmid}, "VM $vmid: diskStatusReason $reason{$vmid}");
    is($v->{disk}{usage}, -1, "VM $vmid: disk usage -1");
    is($v->{disk}{total}, 32 * 2**30, "VM $vmid: total is the allocated size");
}
for my $v (@{ $st->{vms} }) {
    if ($v->{disk}{usage} == -1) {
        ok($v->{diskStatusReason}, "VM $v->{vmid}: usage -1 has a reason");
        is($v->{disk}{used}, 0, "VM $v->{vmid}: usage -1 has used 0");
        is($v->{disk}{free}, $v->{disk}{total}, "VM $v->{vmid}: usage -1 has free = total");
    } else {
        ok(!exists $v->{diskStatusReason}, "VM $v->{vmid}: known usage, no reason");
    }
}

# --- the guest agent's details (review rows 7-9) ---
my $vm = vm($st, 100);
ok(!exists $vm->{diskStatusReason}, 'VM 100 (agent answers): no diskStatusReason');
is_deeply([map { [$_->{mountpoint}, $_->{type}, $_->{device}, $_->{total}, $_->{used}] } @{ $vm->{disks} // [] }],
    [['/', 'ext4', '/dev/sda', 20 * 2**30, 5 * 2**30]], 'VM 100: disks[] from get-fsinfo (tmpfs left out)');
is($vm->{disk}{total}, 20 * 2**30, 'VM 100: disk total from the filesystems');
is($vm->{disk}{used}, 5 * 2**30, 'VM 100: disk used from the filesystems');
is($vm->{disk}{usage}, 25, 'VM 100: disk usage in percent');
ok(@{ $vm->{ipAddresses} // [] } && @{ $vm->{networkInterfaces} // [] }, 'VM 100: addresses and interfaces');
ok($vm->{osName} && $vm->{osVersion} && $vm->{agentVersion}, 'VM 100: OS and agent version');
is($vm->{id}, 'orchard-lab:node1:100', 'guest ids keep the configured name');
for my $vmid (101, 104, 112, 116) {
    ok(!exists vm($st, $vmid)->{disks}, "VM $vmid: no disks[] without filesystems from the agent");
}

# --- pbs[].cpu in percent (review row 2) ---
my ($p) = @{ $st->{pbs} };
ok(abs($p->{cpu} - 12.5) < 1e-9, 'pbs cpu: the fraction 0.125 arrives as 12.5 (percent)') or diag "cpu $p->{cpu}";

# --- Ceph (review rows 3, 10) ---
my ($c) = @{ $st->{cephClusters} };
my %pool = map { $_->{name} => $_ } @{ $c->{pools} // [] };
ok(abs(($pool{'ceph-pool'}{percentUsed} // 0) - 26.3) < 1e-9, 'pool percentUsed: Ceph\'s 0.263 as 26.3 percent')
    or diag explain $c->{pools};
ok(abs(($pool{'.mgr'}{percentUsed} // 1) - 0.0002) < 1e-12, 'pool percentUsed: 0.000002 as 0.0002 percent');
my %svc = map { $_->{type} => $_ } @{ $c->{services} // [] };
is_deeply([sort keys %svc], [qw(mgr mon rgw)], 'services: monitors, managers and the RGW of the service map')
    or diag explain $c;
is($c->{numMons}, 3, 'numMons from the monitor map');
is($c->{numMgrs}, 3, 'numMgrs: the active manager and its standbys');
is($svc{mon}{total}, $c->{numMons}, 'mon service total = numMons');
is($svc{mgr}{total}, $c->{numMgrs}, 'mgr service total = numMgrs');
is($svc{mon}{running}, 2, 'two monitors in quorum');
is($svc{mon}{message}, 'Offline: node3', 'the monitor out of quorum named');
is($svc{mgr}{running}, 3, 'managers all running');
ok(!exists $svc{mgr}{message}, 'no message when all run');
is_deeply([@{ $svc{rgw} }{qw(running total)}], [1, 1], 'a daemon in the service map runs');
is_deeply([map { $_->{type} } @{ $c->{services} }], [sort map { $_->{type} } @{ $c->{services} }],
    'services sorted by type');

# An agent that reports only special filesystems, and one that recovers.
$ua->post("$sim->{url}/__sim/agent" => json => { vmid => 124, fault => 'special-fs' })->result->is_success or die;
$ua->post("$sim->{url}/__sim/agent" => json => { vmid => 112, fault => 'none' })->result->is_success or die;
$st = $stack->wait_state(sub { my $v = vm($_[0], 124); my $w = vm($_[0], 112);
    ($v->{diskStatusReason} // '') eq 'special-filesystems-only' && !exists $w->{diskStatusReason} }, 20,
    'the agents\' new answers');
is(vm($st, 124)->{disk}{usage}, -1, 'VM 124 (special filesystems only): usage -1');
is(vm($st, 124)->{disk}{used}, 0, 'VM 124: used 0');
is(vm($st, 112)->{disk}{usage}, 25, 'VM 112 (agent back): usage from its filesystems');

no_secret_in_logs($stack, 'values-token-1');
no_secret_in_logs($stack, 'values-pbs-token');
done_testing;
