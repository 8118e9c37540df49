#!/usr/bin/perl
# 21-poll-recorded.t: a simulator replaying recorded PVE 7, 8 and 9 responses is polled
# through the whole stack; /api/state shows the recorded nodes, guests and storage with the
# recorded numbers, in the original's shapes, sorted and with its ids.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use JSON::PP qw(decode_json);
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { pve_polling_interval => 2 })->start;
my $admin = $stack->setup_admin;
my $fx = PulseStack::fixtures_dir() . '/proxmox-recorded';
sub fixture { my $f = shift; decode_json(do { local (@ARGV, $/) = $f; <> })->{data} }

my @top = qw(nodes vms containers dockerHosts removedDockerHosts kubernetesClusters
    removedKubernetesClusters hosts storage cephClusters physicalDisks pbs pmg pbsBackups pmgBackups
    backups replicationJobs activeAlerts metrics pveBackups performance connectionHealth stats
    lastUpdate temperatureMonitoringEnabled recentlyResolved);

for my $version (qw(pve7x pve8x pve9x)) {
    my $name = "lab-$version";
    my $sim = $stack->start_sim(name => $version, replay => $version, token => 'root@pam!pulse=secret',
        cluster => "cluster-$version");
    my $res = $stack->ua->post($stack->url('/api/config/nodes') => $stack->token_headers => json => {
        type => 'pve', name => $name, host => $sim->{url}, tokenName => 'root@pam!pulse',
        tokenValue => 'secret', fingerprint => $sim->{fingerprint} })->result;
    is($res->code, 201, "$version: node added");
    my $id = $res->json->{id};
    my $st = $stack->wait_state(sub { grep { $_->{instance} eq $name } @{ $_[0]{nodes} } }, 30, "$version in /api/state");

    # Top-level keys in the original's order.
    my $raw = $stack->ua->get($stack->url('/api/state') => $stack->token_headers)->result->body;
    is_deeply([top_level_keys($raw)], \@top, "$version: top-level keys in order");

    my @nodes = grep { $_->{instance} eq $name } @{ $st->{nodes} };
    my $rec_nodes = fixture("$fx/$version/GET/nodes.json");
    is(scalar @nodes, scalar @$rec_nodes, "$version: every recorded node");
    is_deeply([map { $_->{node} } @nodes], [sort map { $_->{node} } @$rec_nodes], "$version: nodes sorted by name");
    for my $rn (@$rec_nodes) {
        my ($n) = grep { $_->{node} eq $rn->{node} } @nodes;
        is($n->{cpu}, $rn->{cpu}, "$version $rn->{node}: cpu is the recorded fraction");
        is($n->{status}, $rn->{status}, "$version $rn->{node}: status");
        is($n->{id}, "cluster-$version-$rn->{node}", "$version $rn->{node}: id {clusterName}-{node}");
        like($n->{lastSeen}, qr/^\d{10}000$/, "$version $rn->{node}: lastSeen in whole-second milliseconds");
        my $sf = "$fx/$version/GET/nodes/$rn->{node}/status.json";
        if (-f $sf) {
            my $s = fixture($sf);
            is($n->{kernelVersion}, $s->{kversion}, "$version $rn->{node}: kernel from node status");
            is($n->{pveVersion}, $s->{pveversion}, "$version $rn->{node}: pveVersion");
            is($n->{memory}{total}, $s->{memory}{total}, "$version $rn->{node}: memory total from node status");
            is($n->{cpuInfo}{model}, $s->{cpuinfo}{model}, "$version $rn->{node}: cpu model");
            is(scalar @{ $n->{loadAverage} }, 3, "$version $rn->{node}: load average parsed from strings");
        } else {
            is($n->{maxmem}, $rn->{maxmem}, "$version $rn->{node}: memory from the node list without a status");
            is($n->{uptime}, $rn->{uptime}, "$version $rn->{node}: uptime");
        }
    }

    my $resources = fixture("$fx/$version/GET/cluster/resources.2.json");
    my @rec_vms = sort { $a->{vmid} <=> $b->{vmid} } grep { $_->{type} eq 'qemu' && !$_->{template} } @$resources;
    my @vms = grep { $_->{instance} eq $name } @{ $st->{vms} };
    is_deeply([map { $_->{vmid} } @vms], [map { $_->{vmid} } @rec_vms], "$version: VMs (templates skipped), sorted by VMID");
    for my $rv (@rec_vms) {
        my ($v) = grep { $_->{vmid} == $rv->{vmid} } @vms;
        is($v->{id}, "$name:$rv->{node}:$rv->{vmid}", "$version vm $rv->{vmid}: id instance:node:vmid");
        is($v->{name}, $rv->{name}, "$version vm $rv->{vmid}: name");
        is($v->{status}, $rv->{status}, "$version vm $rv->{vmid}: status");
        is($v->{type}, 'qemu', "$version vm $rv->{vmid}: type");
        is($v->{cpus}, $rv->{maxcpu}, "$version vm $rv->{vmid}: cpus");
        is($v->{cpu}, $rv->{status} eq 'running' ? $rv->{cpu} : 0, "$version vm $rv->{vmid}: cpu (0 when stopped)");
        is($v->{maxmem}, $rv->{maxmem}, "$version vm $rv->{vmid}: maxmem");
        is($v->{template}, JSON::PP::false, "$version vm $rv->{vmid}: template false");
        ok(defined $v->{networkIn} && $v->{networkIn} >= 0, "$version vm $rv->{vmid}: rate never negative");
    }

    my $sf = "$fx/$version/GET/nodes/node1/storage.json";
    for my $rs (@{ fixture($sf) }) {
        my ($s) = grep { $_->{name} eq $rs->{storage} && $_->{node} eq 'node1' && $_->{id} =~ /^\Q$name\E-/ } @{ $st->{storage} };
        ok($s, "$version storage $rs->{storage} on node1") or next;
        is($s->{id}, "$name-node1-$rs->{storage}", "$version storage $rs->{storage}: id");
        is($s->{total}, $rs->{total}, "$version storage $rs->{storage}: total");
        is($s->{used}, $rs->{used}, "$version storage $rs->{storage}: used");
        is($s->{free}, $rs->{avail}, "$version storage $rs->{storage}: free = avail");
        is($s->{content}, join(',', sort split /,/, $rs->{content}), "$version storage $rs->{storage}: content sorted");
        is($s->{status}, 'available', "$version storage $rs->{storage}: available");
        is(sprintf('%.6f', $s->{usage}), sprintf('%.6f', $rs->{used} * 100 / $rs->{total}), "$version storage $rs->{storage}: usage percent");
    }
    is($st->{connectionHealth}{$name}, JSON::PP::true, "$version: connectionHealth keyed by the bare instance name");
    like($st->{lastUpdate}, qr/^\d{10}000$/, "$version: lastUpdate in milliseconds");
}

done_testing;
