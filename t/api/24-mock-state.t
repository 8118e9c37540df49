#!/usr/bin/perl
# 24-mock-state.t: mock mode: the demo estate of a fresh installation, its drifting values,
# /api/system/mock-mode with its validation, refusals of node changes while it is on, the
# switch to real state when a real node is added; and /api/state's ETag and 304.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Test::More;
use Time::HiRes qw(sleep);
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { demo_mode => 'true', pve_polling_interval => 1 })->start;
my $admin = $stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $mm = $stack->url('/api/system/mock-mode');

my $st = $stack->wait_state(sub { @{ $_[0]{nodes} } == 7 && @{ $_[0]{pmg} } }, 20, 'the demo estate');
is_deeply([map { $_->{node} } @{ $st->{nodes} }], [qw(pve1 pve2 pve3 pve4 pve5 standalone1 standalone2)],
    'seven nodes sorted by name');
my ($pve3) = grep { $_->{node} eq 'pve3' } @{ $st->{nodes} };
is($pve3->{status}, 'offline', 'pve3 is offline, as in the original\'s mock');
ok(@{ $st->{vms} } > 10 && @{ $st->{containers} } > 10, scalar(@{ $st->{vms} }) . ' VMs and ' . scalar(@{ $st->{containers} }) . ' containers');
ok((grep { $_->{shared} && $_->{node} eq 'cluster' } @{ $st->{storage} }) == 3, 'three shared cluster storages');
my @vmids = map { $_->{vmid} } @{ $st->{vms} };
is_deeply(\@vmids, [sort { $a <=> $b } @vmids], 'VMs sorted by VMID');
is($st->{connectionHealth}{'mock-cluster'}, true, 'connectionHealth for the mock cluster');
my $res = $ua->get($mm => $auth)->result;
is($res->json->{enabled}, true, 'mock mode on for a demo installation');
is($res->json->{config}{NodeCount}, 7, 'config in PascalCase, as the original');

# Backups, Backup Servers and Mail Gateways of the estate (§6.2).
my @pbs = map { $_->{name} } @{ $st->{pbs} };
is($pbs[0], 'pbs-main', 'pbs-main') or diag explain \@pbs;
my ($pm) = @{ $st->{pbs} };
is_deeply([map { $_->{name} } @{ $pm->{datastores} }], [qw(backup-store offsite-backup)], 'its datastores');
is($pm->{datastores}[0]{total}, 10e12, 'backup-store: 10 TB');
ok($pm->{cpu} > 1 && $pm->{cpu} <= 100, "PBS cpu in percent, as the original's: $pm->{cpu}");
ok((grep { $_->{id} eq 'pbs-pbs-main-backup-store' && $_->{type} eq 'pbs' } @{ $st->{storage} }), 'datastores in storage');
is($st->{pmg}[0]{name}, 'pmg-main', 'pmg-main');
is(scalar @{ $st->{pmg}[0]{mailCount} }, 24, '24 hourly mail points');
ok($st->{pmg}[0]{mailStats}{countIn} > 0, 'mail statistics');
ok(@{ $st->{pbsBackups} } > 10, scalar(@{ $st->{pbsBackups} }) . ' PBS backups');
ok(@{ $st->{pmgBackups} } >= 3, 'PMG backups');
ok(@{ $st->{pveBackups}{storageBackups} } > 10, 'local backups');
ok(@{ $st->{pveBackups}{guestSnapshots} } > 3, 'snapshots');
ok(@{ $st->{pveBackups}{backupTasks} } > 3, 'backup tasks');
ok((grep { $_->{lastBackup} } @{ $st->{vms} }, @{ $st->{containers} }) > 10, 'guests with lastBackup');
# Each guest's lastBackup is the newest of the backups the estate lists for it: volumes of its
# instance and VMID, PBS snapshots of its VMID; none without.
my (%newest, @wrong);
for my $b (@{ $st->{pveBackups}{storageBackups} }) {
    my $k = "$b->{instance}/$b->{vmid}";
    $newest{$k} = $b->{ctime} * 1000 if ($newest{$k} // 0) < $b->{ctime} * 1000;
}
for my $g (@{ $st->{vms} }, @{ $st->{containers} }) {
    my $want = $newest{"$g->{instance}/$g->{vmid}"};
    for my $b (grep { $_->{vmid} eq $g->{vmid} && $_->{backupType} ne 'host' } @{ $st->{pbsBackups} }) {
        my ($t) = $b->{id} =~ /-(\d+)$/;
        $want = $t * 1000 if ($want // 0) < $t * 1000;
    }
    push @wrong, "$g->{id}: " . ($g->{lastBackup} // 'none') . ' for ' . ($want // 'none')
        unless ($g->{lastBackup} // 0) == ($want // 0);
}
ok(!@wrong, 'lastBackup of every mock guest is the newest of its listed backups') or diag explain \@wrong;
ok($st->{connectionHealth}{'pbs-pbs-main'} && $st->{connectionHealth}{'pmg-pmg-main'}, 'their connection health');
is($stack->psql(q{SELECT count(*) FROM pulse.v_guests}), 0, 'the views leave the mock estate out');
ok(@{ $st->{physicalDisks} } >= 7, scalar(@{ $st->{physicalDisks} }) . ' physical disks');
is(scalar @{ $st->{cephClusters} }, 1, 'a Ceph cluster');
ok(@{ $st->{replicationJobs} } >= 1 && @{ $st->{replicationJobs} } <= 8,
    scalar(@{ $st->{replicationJobs} }) . ' replication jobs');

# Values drift.
my ($vm0) = grep { $_->{status} eq 'running' } @{ $st->{vms} };
my $moved = 0;
for (1 .. 10) {
    sleep 1;
    my $s2 = $ua->get($stack->url('/api/state') => $auth)->result->json;
    my ($v) = grep { $_->{id} eq $vm0->{id} } @{ $s2->{vms} };
    $moved = 1, last if $v->{cpu} != $vm0->{cpu};
}
ok($moved, 'the mock figures fluctuate');

# ETag: unchanged state answers 304; each change gives a new tag.
$res = $ua->get($stack->url('/api/state') => $auth)->result;
my $etag = $res->headers->etag;
like($etag, qr/state-\d+/, "ETag $etag");
my $r304 = $ua->get($stack->url('/api/state') => { %$auth, 'If-None-Match' => $etag })->result;
ok($r304->code == 304 || $r304->headers->etag ne $etag, '304 for the same tag (unless the state moved meanwhile)');
is($r304->body, '', '304 has no body') if $r304->code == 304;
sleep 2.5;
my $later = $ua->get($stack->url('/api/state') => $auth)->result->headers->etag;
isnt($later, $etag, 'the tag changes with the state');
is($ua->get($stack->url('/api/state') => { %$auth, 'If-None-Match' => "\"nope\", $later" })->result->code, 304,
    'a matching tag in a list answers 304');

# Validation of the mock-mode request.
for my $case ([{ config => { nodeCount => 0 } }, qr/nodeCount must be greater than zero/],
    [{ config => { vmsPerNode => -1 } }, qr/vmsPerNode cannot be negative/],
    [{ config => { lxcsPerNode => -2 } }, qr/lxcsPerNode cannot be negative/],
    [{ config => { stoppedPercent => 1.5 } }, qr/stoppedPercent must be between 0 and 1/],
    [{ config => { randomMetrics => 'yes' } }, qr/randomMetrics/],
    [{ config => { highLoadNodes => [1] } }, qr/highLoadNodes/],
    [{ config => 'big' }, qr/config must be an object/],
    [{ enabled => 'on' }, qr/enabled/]) {
    my $r = $ua->post($mm => $auth => json => $case->[0])->result;
    is($r->code, 400, 'mock-mode: ' . Mojo::JSON::encode_json($case->[0]) . ' is a 400');
    like($r->json->{error}, $case->[1], 'with the reason');
}
$res = $ua->put($mm => $auth => json => { enabled => true, config => { nodeCount => 3, vmsPerNode => 2, lxcsPerNode => 1 } })->result;
is($res->code, 200, 'mock-mode: a smaller estate through the API');
$st = $stack->wait_state(sub { @{ $_[0]{nodes} } == 3 }, 15, 'three mock nodes');
pass('the estate follows the config');

# The mock estate's metrics history: recorded every 10 s, served from PostgreSQL.
$stack->wait_for(sub { $stack->psql(q{SELECT count(DISTINCT ts) FROM pulse.metric_raw r JOIN pulse.metric_series s
    ON s.id / 200 = r.blk WHERE s.resource_id LIKE 'mock-%'}) >= 2 }, 40, 'two mock samples written', 'worker-1');
my ($mnode) = grep { $_->{status} eq 'online' } @{ $st->{nodes} };
my ($mvm) = grep { $_->{status} eq 'running' } @{ $st->{vms} };
$res = $ua->get($stack->url('/api/charts?range=5m') => $auth)->result;
is($res->code, 200, 'charts of the mock estate');
my $cpu = $res->json->{data}{$mvm->{id}}{cpu};
ok(@$cpu >= 2 && $cpu->[0]{timestamp} < $res->json->{timestamp}, 'a running mock VM has cpu history');
ok(@{ $res->json->{nodeData}{$mnode->{id}}{memory} } >= 2, 'a mock node has memory history');
$res = $ua->get($stack->url("/api/metrics-store/history?resourceType=node&resourceId=$mnode->{id}&metric=cpu&range=1h") => $auth)->result;
ok(@{ $res->json->{points} } >= 2, 'metrics-store history of a mock node');

# Switched on through the API, mock mode refuses node changes.
json_error_ok($ua->post($stack->url('/api/config/nodes') => $auth => json => { type => 'pve', name => 'x',
    host => 'pve.example', user => 'root', password => 'x' })->result, 403, 'mock_mode', 'node add while mock mode is on');
$res = $ua->post($mm => $auth => json => { enabled => false })->result;
is($res->json->{enabled}, false, 'mock mode off');
$st = $stack->wait_state(sub { @{ $_[0]{nodes} } == 0 }, 15, 'real (empty) state');
is($stack->psql(q{SELECT count(*) FROM pulse.guests WHERE instance_id LIKE 'mock%'}), 0, 'the mock rows are gone');
ok(!@{ $st->{pbs} } && !@{ $st->{pmg} } && !@{ $st->{pbsBackups} } && !@{ $st->{pveBackups}{storageBackups} },
    'and the mock servers and backups');

# A demo installation switches to real state when the first real node is added.
$stack->psql(q{UPDATE pulse.mock_mode SET enabled = true, source = 'auto'});
# (the servers' rows and their backups are written one after the other: wait for both)
$st = $stack->wait_state(sub { @{ $_[0]{nodes} } == 3 && @{ $_[0]{pbs} } && @{ $_[0]{pbsBackups} } }, 15,
    'the demo again, with its servers and backups');
pass('the demo comes back with its servers and backups');
my $sim = $stack->start_sim(nodes => 2, guests => 4, token => 'root@pam!t=x');
$res = $ua->post($stack->url('/api/config/nodes') => $auth => json => { type => 'pve', name => 'real',
    host => $sim->{url}, tokenName => 'root@pam!t', tokenValue => 'x', fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'adding a real node in a demo installation is allowed');
$st = $stack->wait_state(sub { @{ $_[0]{nodes} } == 2 && $_[0]{nodes}[0]{instance} eq 'real' }, 20, 'the real cluster');
pass('the real cluster replaces the demo');
is($ua->get($mm => $auth)->result->json->{enabled}, false, 'mock mode went off by itself');
done_testing;
