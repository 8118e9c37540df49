#!/usr/bin/perl
# 60-ceph-replication-alerts.t: our additions to the alert types, through the whole stack with
# the PVE simulator: a Ceph cluster in HEALTH_WARN raises ceph-health (warning, its checks in
# the message), HEALTH_ERR makes it critical, HEALTH_OK resolves it; OSDs down raise
# ceph-osd-down; an override `disabled` on the cluster id resolves its alerts; a failing
# replication job raises replication (warning, critical from the third failure), a
# successful run resolves it; the alerts are in /api/state and keep the wire contract's
# Alert shape; GET /api/alerts/active still refuses a request without credentials.
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
my $sim = $stack->start_sim(nodes => 2, guests => 6, ceph => 1, token => 'root@pam!c=ceph-token-1');
my $res = $ua->post($stack->url('/api/config/nodes') => $auth => json => { type => 'pve', name => 'cr',
    host => $sim->{url}, tokenName => 'root@pam!c', tokenValue => 'ceph-token-1', fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'instance added');

sub put_config {
    my (%change) = @_;
    my $r = $stack->alert_config_change(%change);
    is($r->code, 200, 'config saved: ' . join(',', sort keys %change)) or diag $r->body;
}
sub sim_post {
    my ($what, %m) = @_;
    my $r = $ua->post("$sim->{url}/__sim/$what" => json => \%m)->result;
    ok($r->is_success, "sim $what: " . join(',', map { "$_=$m{$_}" } sort keys %m)) or diag $r->body;
}
sub active { $stack->alerts_active }
sub find_alert { my ($list, $aid) = @_; (grep { $_->{id} eq $aid } @$list)[0] }
sub wait_alert {
    my ($aid, $cond, $what) = @_;
    $stack->wait_for(sub { my $a = find_alert(active(), $aid); $cond->($a) }, 30, $what, 'worker-1');
    return find_alert(active(), $aid);
}

my $st = $stack->wait_state(sub { @{ $_[0]{cephClusters} } && @{ $_[0]{replicationJobs} } == 2 }, 40,
    'Ceph and replication polled');
my $ceph = $st->{cephClusters}[0];
my ($bad) = grep { ($_->{failCount} // 0) > 0 } @{ $st->{replicationJobs} };
my ($good) = grep { !($_->{failCount} // 0) } @{ $st->{replicationJobs} };
ok($bad && $good, 'one failing replication job, one that runs') or diag explain $st->{replicationJobs};

# --- Ceph health ---
my $hid = "ceph-health-$ceph->{id}";
my $a = wait_alert($hid, sub { $_[0] }, 'the ceph-health alert');
ok($a, 'HEALTH_WARN: ceph-health raised');
is($a->{type}, 'ceph-health', 'type');
is($a->{level}, 'warning', 'HEALTH_WARN: warning');
is($a->{resourceId}, $ceph->{id}, 'resourceId: the cephClusters id');
like($a->{message}, qr/^Ceph cluster \Q$ceph->{fsid}\E on .* is HEALTH_WARN: OSD_NEARFULL: 1 nearfull osd\(s\)$/,
    'message: health and check summary');
is($a->{metadata}{fsid}, $ceph->{fsid}, 'metadata.fsid');
is($a->{metadata}{health}, 'HEALTH_WARN', 'metadata.health');
is($a->{metadata}{osdsUp}, 4, 'metadata.osdsUp');
is($a->{metadata}{osdsTotal}, 4, 'metadata.osdsTotal');
ok(!find_alert(active(), "ceph-osd-down-$ceph->{id}"), 'all OSDs up: no ceph-osd-down');
ok(find_alert($ua->get($stack->url('/api/state') => $auth)->result->json->{activeAlerts}, $hid), 'in /api/state activeAlerts');

sim_post('ceph', health => 'HEALTH_ERR', osds_down => 1);
$a = wait_alert($hid, sub { $_[0] && $_[0]{level} eq 'critical' }, 'ceph-health critical');
is($a->{level}, 'critical', 'HEALTH_ERR: critical');
my $o = wait_alert("ceph-osd-down-$ceph->{id}", sub { $_[0] }, 'ceph-osd-down');
is($o->{level}, 'warning', 'an OSD down: ceph-osd-down warning');
like($o->{message}, qr/has 1 of 4 OSDs down$/, 'OSD message');

# An override `disabled` on the cluster id resolves both.
put_config(overrides => { $ceph->{id} => { disabled => true } });
$stack->wait_for(sub { !(grep { $_->{type} =~ /^ceph-/ } @{ active() }) }, 30, 'override: Ceph alerts resolved', 'worker-1');
pass('override disabled: Ceph alerts resolved');
put_config(overrides => {});
wait_alert($hid, sub { $_[0] }, 'override removed: raised again');
pass('override removed: raised again');

sim_post('ceph', health => 'HEALTH_OK', osds_down => 0);
$stack->wait_for(sub { !(grep { $_->{type} =~ /^ceph-/ } @{ active() }) }, 30, 'HEALTH_OK: resolved', 'worker-1');
pass('HEALTH_OK, OSDs up: Ceph alerts resolved');
my $rr = find_alert($ua->get($stack->url('/api/state') => $auth)->result->json->{recentlyResolved} // [], $hid);
ok($rr && $rr->{resolvedTime}, 'ceph-health in recentlyResolved');

# --- replication ---
my $rid = "replication-$bad->{id}";
$a = wait_alert($rid, sub { $_[0] }, 'the replication alert');
is($a->{type}, 'replication', 'type');
is($a->{level}, 'warning', 'two failures: warning');
is($a->{resourceId}, $bad->{id}, 'resourceId: the replicationJobs id');
like($a->{message}, qr/^Replication job \Q$bad->{jobId}\E of .* from \Q$bad->{sourceNode}\E to \Q$bad->{targetNode}\E failed 2 times: .*exit code 255$/,
    'message: job, guest, nodes, count, error');
is($a->{metadata}{failCount}, 2, 'metadata.failCount');
is($a->{metadata}{jobId}, $bad->{jobId}, 'metadata.jobId');
ok(!find_alert(active(), "replication-$good->{id}"), 'the job that runs: no alert');

sim_post('replication', job => $bad->{jobId}, fail_count => 3, error => 'no space left on device');
$a = wait_alert($rid, sub { $_[0] && $_[0]{level} eq 'critical' }, 'replication critical');
is($a->{level}, 'critical', 'three failures: critical');
like($a->{message}, qr/failed 3 times: no space left on device$/, 'the new error in the message');

sim_post('replication', job => $good->{jobId}, fail_count => 1, error => 'connection refused');
my $g = wait_alert("replication-$good->{id}", sub { $_[0] }, 'the second job failing');
is($g->{level}, 'warning', 'the second job: one failure, warning');

# A replication call that fails inside a poll that succeeds says nothing about the jobs: the
# list failing keeps both alerts; then the list answers and the good job's status call fails
# while it has succeeded meanwhile: its alert stays as the last status it read said.
sim_post('replication', broken => 'list', on => 1);
sim_post('replication', job => $bad->{jobId}, fail_count => 0);
sleep 4;    # four polls at 1 s
ok(find_alert(active(), $rid) && find_alert(active(), "replication-$good->{id}"),
    'the job list failing: both alerts kept');
sim_post('replication', broken => $good->{jobId}, on => 1);
sim_post('replication', broken => 'list', on => 0);
sim_post('replication', job => $good->{jobId}, fail_count => 0);
$stack->wait_for(sub { !find_alert(active(), $rid) }, 30, 'the list back: the bad job resolved', 'worker-1');
ok(find_alert(active(), "replication-$good->{id}"), 'its status call failing: the good job keeps its alert');
sim_post('replication', broken => $good->{jobId}, on => 0);
sim_post('replication', job => $bad->{jobId}, fail_count => 0);
sim_post('replication', job => $good->{jobId}, fail_count => 0);
$stack->wait_for(sub { !(grep { $_->{type} eq 'replication' } @{ active() }) }, 30, 'successful runs: resolved', 'worker-1');
pass('successful runs: replication alerts resolved');
is($stack->psql("SELECT count(*) FROM pulse.alert_history WHERE alert_id = '$rid'"), 1, 'one history row for the raise');

# --- bad input: the simulator's control refuses it; the API keeps its rules ---
is($ua->post("$sim->{url}/__sim/ceph" => json => { health => 'HEALTH_MAYBE' })->result->code, 400, 'sim: unknown health refused');
is($ua->post("$sim->{url}/__sim/replication" => json => { job => 'nope', fail_count => 1 })->result->code, 400,
    'sim: unknown job refused');
is($ua->get($stack->url('/api/alerts/active'))->result->code, 401, 'no credentials: 401');

done_testing;
