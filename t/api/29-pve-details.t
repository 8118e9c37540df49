#!/usr/bin/perl
# 29-pve-details.t: what a generated cluster tells beyond nodes and guests, through the whole
# stack: guest-agent interfaces, addresses, OS and agent version of VMs; containers'
# addresses (status, config, interfaces), OS name and OCI nature; physical disks; the ZFS
# pool behind a storage (a DEGRADED mirror); Ceph; replication jobs with their status.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { pve_polling_interval => 1 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $sim = $stack->start_sim(nodes => 2, guests => 12, ceph => 1, token => 'root@pam!d=detail-token-1');
my $res = $ua->post($stack->url('/api/config/nodes') => $auth => json => { type => 'pve', name => 'dt',
    host => $sim->{url}, tokenName => 'root@pam!d', tokenValue => 'detail-token-1', fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'added');
sub guest { my ($st, $vmid) = @_; (grep { $_->{vmid} == $vmid } @{ $st->{vms} }, @{ $st->{containers} })[0] }

my $st = $stack->wait_state(sub { my $v = guest($_[0], 100); my $c = guest($_[0], 105);
    $v && $v->{agentVersion} && $c && $c->{ipAddresses} && @{ $_[0]{physicalDisks} } && @{ $_[0]{cephClusters} }
    && @{ $_[0]{replicationJobs} } }, 40, 'the details');
my $inst = $st->{nodes}[0]{clusterName} || 'dt';

# --- node memory: status without "available" falls back to the RRD (§2.5 2b, §2.6) ---
my ($n1) = grep { $_->{node} eq 'node1' } @{ $st->{nodes} };
my ($n2) = grep { $_->{node} eq 'node2' } @{ $st->{nodes} };
is($n1->{memory}{used}, 64 * 2**30 - int(64 * 2**30 * 0.6), 'node1: used = total - available');
is($n2->{memory}{used}, 64 * 2**30 - int(64 * 2**30 * 0.7), 'node2 (no available): used = total - RRD memavailable');

# --- VMs: guest agent (§2.5 4c-4e) ---
my $vm = guest($st, 100);
is_deeply($vm->{ipAddresses}, ['10.0.1.10', 'fd00::100'], 'VM addresses: sorted, loopback and link-local left out');
is(scalar @{ $vm->{networkInterfaces} }, 1, 'one interface (lo left out)');
my $if = $vm->{networkInterfaces}[0];
is($if->{name}, 'eth0', 'interface name');
is_deeply($if->{addresses}, ['10.0.1.10', 'fd00::100'], 'its addresses');
ok($if->{rxBytes} > 0 && $if->{txBytes} > 0, 'traffic counters');
ok($if->{mac}, "mac $if->{mac}");
is($vm->{osName}, 'Debian GNU/Linux', 'osName from get-osinfo');
is($vm->{osVersion}, '12 (bookworm)', 'osVersion');
is($vm->{agentVersion}, '7.2.0', 'agentVersion from agent/info');
my $noagent = guest($st, 101);
ok(!exists $noagent->{agentVersion} && !exists $noagent->{networkInterfaces}, 'a VM without the agent has none of it');

# --- containers (§2.5 4g-4i, §2.8) ---
my $ct = guest($st, 102);
is_deeply($ct->{ipAddresses}, ['10.0.1.12'], 'container address from its config (static)');
is($ct->{osName}, 'Debian', 'container osName from ostype');
is($ct->{type}, 'lxc', 'type lxc');
my $oci = guest($st, 105);
is($oci->{type}, 'oci', 'an OCI container has type oci');
is($oci->{isOci}, true, 'and isOci');
is_deeply($oci->{ipAddresses}, ['10.0.1.15'], 'address from the interfaces call (DHCP)');
ok((grep { $_->{mountpoint} eq '/' } @{ guest($st, 108)->{disks} }), 'container root disk');

# --- physical disks (§1.9) ---
my @d = grep { $_->{node} eq 'node1' } @{ $st->{physicalDisks} };
is(scalar @d, 3, 'three disks on node1');
my ($sda) = grep { $_->{devPath} eq '/dev/sda' } @d;
is($sda->{id}, 'dt-node1--dev-sda', 'id {instance}-{node}-{devpath}');
is($sda->{wearout}, 97, 'wearout');
is($sda->{type}, 'ssd', 'type');
my ($sdb) = grep { $_->{devPath} eq '/dev/sdb' } @d;
is($sdb->{wearout}, -1, 'wearout N/A is -1');
is($sdb->{rpm}, 5980, 'rpm');
like($sda->{lastChecked}, qr/^\d{4}-\d\d-\d\dT/, 'lastChecked RFC 3339');
my @order = map { "$_->{node} $_->{devPath}" } @{ $st->{physicalDisks} };
is_deeply(\@order, [sort @order], 'sorted by node and device');

# --- ZFS pool of a storage (§1.7, §9: only in /api/storage/{id}) ---
my ($tank) = grep { $_->{name} eq 'tank' && $_->{node} eq 'node1' } @{ $st->{storage} };
ok($tank, 'tank storage') or diag explain [map { $_->{id} } @{ $st->{storage} }];
ok(!exists $tank->{zfsPool}, 'no zfsPool in /api/state');
my $detail = $ua->get($stack->url("/api/storage/$tank->{id}") => $auth)->result->json->{data};
my $pool = $detail->{zfsPool};
is($pool->{state}, 'DEGRADED', 'zfsPool state DEGRADED');
is($pool->{checksumErrors}, 42, 'checksum errors summed');
is(scalar(grep { $_->{state} eq 'FAULTED' } @{ $pool->{devices} }), 1, 'the faulted device listed');

# --- Ceph (§1.8) ---
my ($c) = @{ $st->{cephClusters} };
like($c->{id}, qr/b1a5c0de-5eed-4c3e-9a11-0123456789ab$/, 'ceph id ends with the fsid');
is($c->{health}, 'HEALTH_WARN', 'health');
like($c->{healthMessage}, qr/nearfull/, 'health message');
is($c->{numOsds}, 4, 'OSDs');
is($c->{totalBytes}, 3000 * 2**30, 'total from df');
ok(@{ $c->{pools} } == 2, 'pools');

# --- replication (§1.13) ---
my @r = @{ $st->{replicationJobs} };
is(scalar @r, 2, 'two replication jobs');
my ($bad) = grep { $_->{jobId} eq '101-0' } @r;
is($bad->{state}, 'error', 'state from the job status');
is($bad->{failCount}, 2, 'failCount');
like($bad->{error}, qr/exit code 255/, 'error');
is($bad->{guestName}, 'vm101', 'guest name');
ok($bad->{lastSyncUnix} > 0 && $bad->{nextSyncUnix} > $bad->{lastSyncUnix}, 'last and next sync');
is_deeply([map { $_->{guestId} } @r], [100, 101], 'sorted by guest');

# /cluster/resources failing: the guests come from each node's own lists (§2.5 5).
my $before = guest($st, 100)->{lastSeen};
$stack->sim_mode($sim, mode => 'no-resources');
$st = $stack->wait_state(sub { my $v = guest($_[0], 100); $v && $v->{lastSeen} > $before + 1000 }, 20,
    'a cycle without cluster/resources');
is(scalar(@{ $st->{vms} }) + scalar(@{ $st->{containers} }), 12, 'all guests from the node lists');
is(guest($st, 100)->{cpus}, 2, 'cpus from the node list');
is(guest($st, 100)->{node}, 'node1', 'node from the list asked');
$stack->sim_mode($sim, mode => 'normal');

# SQL views.
is($stack->psql(q{SELECT count(*) FROM pulse.v_physical_disks WHERE wearout IS NULL AND instance = 'dt'}), 2,
    'v_physical_disks: unknown wearout as NULL');
is($stack->psql(q{SELECT fail_count FROM pulse.v_replication_jobs WHERE job_id = '101-0'}), 2, 'v_replication_jobs');
no_secret_in_logs($stack, 'detail-token-1');
done_testing;
