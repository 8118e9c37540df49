#!/usr/bin/perl
# 73-ui-detail.t: the Proxmox sub-pages and the detail views in a real browser (t/ui/detail.mjs):
# a stack polling a PVE simulator (two nodes, Ceph, replication, backups, snapshots), a PBS
# and a PMG simulator, and one host agent's reports; once the worker has written metrics
# history, the browser checks the section nav, storage (pools and disks), Ceph, replication,
# the mail gateway and backups pages against the API's answers, a guest's, a node's, a
# storage's and a host's detail view with charts whose points are the history's, the range
# picker in the URL, the backups filters, day headings and pages (120 backups added to the
# simulator), the node summary of the storage and backups pages (counts, sort, a click
# filtering the page, Escape), and no console error. Screenshots in light and one
# in dark go to $PULSE_UI_SHOTS/detail, else t/ui/screenshots/detail in the build tree.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempfile);
use Mojo::JSON qw(encode_json true);
use Test::More;
use PulseStack;
use PulseUI;

PulseUI::require_browser();

my $stack = PulseStack->new(settings => { pve_polling_interval => 2, pbs_polling_interval => 2,
    pmg_polling_interval => 2, backup_polling_cycles => 1, metrics_flush_interval => 1 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $shots = PulseUI::shots_dir('detail');
sub api { my $r = $ua->get($stack->url($_[0]) => $auth)->result; die "$_[0]: " . $r->code unless $r->is_success; $r->json }

# The estate: a PVE cluster of two nodes with Ceph, a PBS, a PMG, an agent host.
my $sim = $stack->start_sim(nodes => 2, guests => 10, token => 'root@pam!ui=ui-detail-token', cluster => 'lab', ceph => 1);
my $pbs = $stack->start_pbs_sim(name => 'pbs1', token => 'pulse@pbs!mon:pbs-detail-token', datastores => 1, groups => 4);
my $pmg = $stack->start_pmg_sim(name => 'pmg1', token => 'pulse@pmg!mon:pmg-detail-token', nodes => 2);
for my $node ({ type => 'pve', name => 'lab', host => $sim->{url}, tokenName => 'root@pam!ui',
        tokenValue => 'ui-detail-token', fingerprint => $sim->{fingerprint} },
    { type => 'pbs', name => 'backup1', host => $pbs->{url}, tokenName => 'pulse@pbs!mon',
        tokenValue => 'pbs-detail-token', fingerprint => $pbs->{fingerprint}, monitorDatastores => true },
    { type => 'pmg', name => 'mail1', host => $pmg->{url}, tokenName => 'pulse@pmg!mon',
        tokenValue => 'pmg-detail-token', fingerprint => $pmg->{fingerprint} }) {
    my $res = $ua->post($stack->url('/api/config/nodes') => $auth => json => $node)->result;
    is($res->code, 201, "$node->{type} $node->{name} added") or diag $res->body;
}
# More backups than one page of the backups list holds (100): 120 added to three guests, one
# every four hours back over 20 days (the list's day headings and pages).
my $added = 0;
for my $i (0 .. 119) {
    my $res = $ua->post("$sim->{url}/__sim/backup" => json => { vmid => 101 + $i % 3, ctime => time - 600 - $i * 4 * 3600 })->result;
    $added++ if $res->is_success;
}
is($added, 120, '120 backups added to the simulator');
my $agent = $stack->agent_token('ui-host', 'host-agent:report');
sub host_report {
    my ($n) = @_;
    my $res = $ua->post($stack->url('/api/agents/host/report') => $agent->{headers} => json => {
        agent => { id => 'ui-host-1', version => '5.0.4', type => 'unified', intervalSeconds => 30, hostname => 'nas01' },
        host => { id => 'ui-host-1', hostname => 'nas01', platform => 'debian', osName => 'debian', osVersion => '12',
            kernelVersion => '6.1.0', architecture => 'x86_64', cpuCount => 4, uptimeSeconds => 86400 + $n },
        metrics => { cpuUsagePercent => 10 + 5 * $n, memory => { totalBytes => 8 * 2**30, usedBytes => (2 + $n / 4) * 2**30 } },
        disks => [{ device => '/dev/sda2', mountpoint => '/', type => 'ext4', totalBytes => 100 * 2**30, usedBytes => 40 * 2**30 }],
        diskIO => [{ device => 'sda', readBytes => 1_000_000 * $n, writeBytes => 2_000_000 * $n }],
        network => [{ name => 'eth0', rxBytes => 5_000_000 * $n, txBytes => 1_000_000 * $n }] })->result;
    is($res->code, 200, "host report $n") or diag $res->body;
}

my $st = $stack->wait_state(sub { my $s = shift; @{ $s->{nodes} } == 2 && @{ $s->{vms} } + @{ $s->{containers} } == 10
    && @{ $s->{cephClusters} } && @{ $s->{replicationJobs} } && @{ $s->{physicalDisks} } && @{ $s->{pbs} }
    && @{ $s->{pbsBackups} } && @{ $s->{pmg} } && @{ $s->{backups}{pve}{storageBackups} } >= 122
    && @{ $s->{backups}{pve}{guestSnapshots} } }, 60, 'the whole estate in the state');
host_report($_), sleep 1 for 1 .. 3;
# A host agent on node1 too: the node is linked to it and shows its CPU temperature (83 °C,
# above the default alert trigger of 80 °C) in the node summary.
my $res = $ua->post($stack->url('/api/agents/host/report') => $agent->{headers} => json => {
    agent => { id => 'ui-node1', version => '5.0.4', type => 'unified', intervalSeconds => 30 },
    host => { id => 'ui-node1', hostname => 'node1', platform => 'debian', cpuCount => 8 },
    sensors => { temperatureCelsius => { cpu_package => 83, cpu_core_0 => 80 } } })->result;
is($res->code, 200, 'a host agent on node1 reports') or diag $res->body;
# History: a few polls of the cluster written (the worker flushes every second).
$stack->wait_for(sub { $stack->psql(q{SELECT count(DISTINCT ts) FROM pulse.metric_raw}) >= 4 }, 40,
    'four polls in the history', 'worker-1');
$st = api('/api/state');
diag(sprintf 'the estate and its history ready after %d s', time - $^T);
ok(@{ $st->{hosts} } == 2, 'the agent hosts in the state');
my ($node1) = grep { $_->{node} eq 'node1' } @{ $st->{nodes} };
is($node1->{linkedHostAgentId}, 'ui-node1', 'node1 linked to its host agent');
is($node1->{temperature}{cpuPackage}, 83, 'and showing its temperature');

my ($fh, $expect) = tempfile(DIR => $stack->dir, SUFFIX => '.json');
print {$fh} encode_json({ state => $st, backups => api('/api/backups') });
close $fh;
if ($ENV{UI_HOLD}) {
    diag("holding: $ENV{UI_HOLD} s; " . $stack->base_url . " admin token $stack->{admin}{token}; expect $expect");
    sleep $ENV{UI_HOLD};
}
PulseUI::run($stack, 'detail.mjs', UI_OUT => $shots, UI_EXPECT => $expect, UI_TOKEN => $stack->{admin}{token});

my @png = glob("$shots/*.png");
ok(@png >= 10, scalar(@png) . " screenshots in $shots");
diag("screenshots: $shots");

done_testing;
