#!/usr/bin/perl
# 46-alert-engine.t: the alert engine through the whole stack (alerts-notifications.md §3):
# a simulated node above its CPU threshold raises an alert seen in /api/alerts/active and
# /api/state; below the clear threshold it resolves into recentlyResolved; a time threshold
# holds it back; a stopped guest is powered-off after two polls; an offline node loses
# connectivity after three; a disabled type resolves its alerts; history rows; a steady poll
# writes nothing; a guest that disappears resolves its alerts; ZFS pool alerts; PBS and PMG
# offline after three failed polls; mock mode has alerts of its own; a deleted instance's
# alerts resolve;
# GET /api/alerts/active refuses a token without monitoring:read.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { pve_polling_interval => 1, pbs_polling_interval => 1,
    pmg_polling_interval => 1, node_offline_grace => 2 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $sim = $stack->start_sim(nodes => 2, guests => 6, token => 'root@pam!a=alert-token-1');
my $res = $ua->post($stack->url('/api/config/nodes') => $auth => json => { type => 'pve', name => 'al',
    host => $sim->{url}, tokenName => 'root@pam!a', tokenValue => 'alert-token-1', fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'instance added');
my $id = $res->json->{id} // $stack->psql(q{SELECT id FROM pulse.instances WHERE name = 'al'});

sub put_config {
    my (%change) = @_;
    my $cfg = $ua->get($stack->url('/api/alerts/config') => $auth)->result->json;
    $cfg->{$_} = $change{$_} for keys %change;
    my $r = $ua->put($stack->url('/api/alerts/config') => $auth => json => $cfg)->result;
    is($r->code, 200, 'config saved: ' . join(',', sort keys %change)) or diag $r->body;
}

sub sim_set {
    my (%m) = @_;
    my $r = $ua->post("$sim->{url}/__sim/metrics" => json => \%m)->result;
    ok($r->is_success, 'sim: ' . join(',', map { "$_=$m{$_}" } sort keys %m)) or diag $r->body;
}

# Waits for n more successful polls of the instance.
sub polls {
    my ($n) = @_;
    for (1 .. $n) {
        my $was = $stack->psql("SELECT coalesce(extract(epoch FROM last_success), 0) FROM pulse.poll_status WHERE instance_id = '$id'") || 0;
        $stack->wait_for(sub {
            ($stack->psql("SELECT coalesce(extract(epoch FROM last_success), 0) FROM pulse.poll_status WHERE instance_id = '$id'") || 0) > $was
        }, 20, 'a poll', 'worker-1');
    }
}

sub active {
    my $r = $ua->get($stack->url('/api/alerts/active') => $auth)->result;
    die 'GET /api/alerts/active: ' . $r->code . ' ' . $r->body unless $r->code == 200;
    return $r->json;
}
sub find_alert { my ($list, $aid) = @_; (grep { $_->{id} eq $aid } @$list)[0] }
sub state { $ua->get($stack->url('/api/state') => $auth)->result->json }

# No delays: an alert on the first poll that sees the condition.
put_config(timeThresholds => { guest => 0, node => 0, storage => 0, pbs => 0 });
my $st = $stack->wait_state(sub { @{ $_[0]{nodes} } == 2 && @{ $_[0]{vms} } }, 40, 'the instance polled');
my ($n1) = grep { $_->{node} eq 'node1' } @{ $st->{nodes} };
my $cpu_id = "$n1->{id}-cpu";
polls(2);
is_deeply([grep { $_->{type} !~ /^(zfs-|disk-|replication$)/ } @{ active() }], [], 'nothing above a threshold: no metric alert');

# --- the simulator's DEGRADED pool tank on node1 (§3.9) ---
my ($tank) = grep { $_->{name} eq 'tank' && $_->{node} eq 'node1' } @{ $st->{storage} };
ok($tank, 'tank storage') or diag explain [map { $_->{id} } @{ $st->{storage} }];
$stack->wait_for(sub { find_alert(active(), "zfs-pool-state-$tank->{id}") }, 30, 'the ZFS alert', 'worker-1');
my $z = find_alert(active(), "zfs-pool-state-$tank->{id}");
is($z->{resourceId}, $tank->{id}, 'zfs-pool-state: resourceId is the storage id');
is($z->{level}, 'warning', 'DEGRADED: warning');
ok((grep { $_->{type} eq 'zfs-device' && $_->{level} eq 'critical' } @{ active() }), 'the faulted device: critical');

# --- a node over its CPU threshold ---
sim_set(node => 'node1', cpu => 0.85);
polls(2);
my $a = find_alert(active(), $cpu_id);
ok($a, "alert $cpu_id") or diag explain active();
is($a->{type}, 'cpu', 'type cpu');
is($a->{level}, 'warning', '85 %: warning');
is($a->{resourceId}, $n1->{id}, 'resourceId is the node id of /api/state');
is($a->{resourceName}, 'node1', 'resourceName');
is($a->{message}, 'Node cpu at 85.0%', 'message');
is($a->{threshold}, 80, 'threshold');
is($a->{metadata}{resourceType}, 'node', 'metadata.resourceType');
is($a->{metadata}{clearThreshold}, 75, 'metadata.clearThreshold');
is($a->{acknowledged}, false, 'not acknowledged');
like($a->{startTime}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'startTime RFC 3339');
ok($a->{lastSeen}, 'lastSeen');
my $sa = find_alert(state()->{activeAlerts}, $cpu_id);
ok($sa, '/api/state activeAlerts has it');
ok($sa && !exists $sa->{metadata} && !exists $sa->{lastSeen}, 'the reduced shape');
is($stack->psql("SELECT count(*) FROM pulse.alert_history WHERE alert_id = '$cpu_id'"), 1, 'one history row');

# --- a steady poll writes nothing ---
my $before = $stack->psql("SELECT xmin::text || updated_at::text FROM pulse.alerts WHERE id = '$cpu_id'");
my $version = $stack->psql('SELECT version FROM pulse.state_version');
polls(2);
is($stack->psql("SELECT xmin::text || updated_at::text FROM pulse.alerts WHERE id = '$cpu_id'"), $before,
    'two steady polls: the row is not rewritten');
is($stack->psql("SELECT count(*) FROM pulse.alert_pending"), 0, 'nothing pending');

# --- critical at trigger + 10 ---
sim_set(node => 'node1', cpu => 0.95);
polls(2);
is(find_alert(active(), $cpu_id)->{level}, 'critical', '95 %: critical at once');
is($stack->psql("SELECT count(*) FROM pulse.alert_history WHERE alert_id = '$cpu_id'"), 1, 'a level change adds no history row');

# Acknowledged (as the acknowledge endpoint will write it): comes back acknowledged when raised
# again within the hour (§5.1).
$stack->psql("UPDATE pulse.alerts SET acknowledged = true, ack_time = now(), ack_user = 'admin' WHERE id = '$cpu_id'");

# --- between clear and trigger it stays; at clear it resolves ---
sim_set(node => 'node1', cpu => 0.77);
polls(2);
ok(find_alert(active(), $cpu_id), '77 % (between 75 and 80): still active');
sim_set(node => 'node1', cpu => 0.10);
polls(2);
ok(!find_alert(active(), $cpu_id), '10 %: resolved');
$st = state();
ok(!find_alert($st->{activeAlerts}, $cpu_id), 'gone from activeAlerts');
my $rr = find_alert($st->{recentlyResolved} // [], $cpu_id);
ok($rr && $rr->{resolvedTime}, 'in recentlyResolved with resolvedTime') or diag explain $st->{recentlyResolved};

# --- a time threshold holds the alert back ---
put_config(timeThresholds => { guest => 0, node => 3600, storage => 0, pbs => 0 });
sim_set(node => 'node1', cpu => 0.90);
polls(3);
ok(!find_alert(active(), $cpu_id), 'node delay of an hour: no alert yet');
is($stack->psql("SELECT count(*) FROM pulse.alert_pending WHERE id = '$cpu_id'"), 1, 'pending row kept');
put_config(timeThresholds => { guest => 0, node => 0, storage => 0, pbs => 0 });
polls(2);
ok(find_alert(active(), $cpu_id), 'delay removed: raised');
is(find_alert(active(), $cpu_id)->{acknowledged}, true, 'acknowledged and resolved less than an hour ago: back acknowledged');
is(find_alert(active(), $cpu_id)->{ackUser}, 'admin', 'with its ackUser');
is($stack->psql("SELECT count(*) FROM pulse.alert_pending WHERE id = '$cpu_id'"), 0, 'pending row gone');
is($stack->psql("SELECT count(*) FROM pulse.alerts WHERE id = '$cpu_id'"), 1, 'the resolved row was reused');

# --- a disabled type resolves ---
put_config(disableAllNodes => true);
polls(2);
ok(!find_alert(active(), $cpu_id), 'disableAllNodes: the node alert resolves');
put_config(disableAllNodes => false);
sim_set(node => 'node1', cpu => 0.10);

# --- a stopped guest: powered-off after two polls ---
my ($vm) = grep { $_->{vmid} == 100 } @{ $st->{vms} };
my $po = "guest-powered-off-$vm->{id}";
sim_set(vmid => 100, status => 'stopped');
$stack->wait_for(sub { find_alert(active(), $po) }, 30, 'powered-off', 'worker-1');
my $p = find_alert(active(), $po);
is($p->{type}, 'powered-off', 'type powered-off');
is($p->{level}, 'warning', 'default severity warning');
is($p->{resourceId}, $vm->{id}, 'the guest id');
is($p->{message}, "VM '$vm->{name}' is powered off", 'message');
is($stack->psql("SELECT count(*) FROM pulse.alert_history WHERE alert_id = '$po'"), 1, 'history row');

# --- the guest disappears: its alert resolves ---
sim_set(vmid => 100, gone => 1);
$stack->wait_for(sub { !find_alert(active(), $po) }, 30, 'the alert of a gone guest resolved', 'worker-1');
pass('gone guest: alert resolved');

# --- an offline node: connectivity after three polls ---
$stack->sim_mode($sim, mode => 'offline-node', node => 'node2');
my ($n2) = grep { $_->{node} eq 'node2' } @{ $st->{nodes} };
my $conn = "node-offline-$n2->{id}";
$stack->wait_state(sub { my ($n) = grep { $_->{node} eq 'node2' } @{ $_[0]{nodes} }; $n && $n->{status} eq 'offline' },
    30, 'node2 offline');
ok(!find_alert(active(), $conn), 'offline once: not yet');
$stack->wait_for(sub { find_alert(active(), $conn) }, 30, 'connectivity', 'worker-1');
my $c = find_alert(active(), $conn);
is($c->{type}, 'connectivity', 'type connectivity');
is($c->{level}, 'critical', 'critical');
$stack->sim_mode($sim, mode => 'normal');
$stack->wait_for(sub { !find_alert(active(), $conn) }, 30, 'connectivity resolved', 'worker-1');
pass('node back: connectivity resolved');

# --- Backup Server and Mail Gateway: offline after three failed polls ---
my $pbs = $stack->start_pbs_sim(name => 'pbs1', token => 'pulse@pbs!mon:s3cret-pbs-token', datastores => 1, groups => 1);
my $pmg = $stack->start_pmg_sim(name => 'pmg1', token => 'pulse@pmg!mon:s3cret-pbs-token', nodes => 1);
for my $b ({ type => 'pbs', name => 'backup1', host => $pbs->{url}, tokenName => 'pulse@pbs!mon',
        tokenValue => 's3cret-pbs-token', fingerprint => $pbs->{fingerprint} },
    { type => 'pmg', name => 'mail1', host => $pmg->{url}, tokenName => 'pulse@pmg!mon',
        tokenValue => 's3cret-pbs-token', fingerprint => $pmg->{fingerprint} }) {
    is($ua->post($stack->url('/api/config/nodes') => $auth => json => $b)->result->code, 201, "add $b->{type}");
}
$stack->wait_state(sub { @{ $_[0]{pbs} } && @{ $_[0]{pmg} } }, 30, 'PBS and PMG polled');
ok(!(grep { $_->{type} eq 'offline' } @{ active() }), 'answering: no offline alert');
$stack->sim_mode($pbs, mode => 'error');
$stack->sim_mode($pmg, mode => 'error');
$stack->wait_for(sub { my $l = active(); find_alert($l, 'pbs-offline-pbs-backup1') && find_alert($l, 'pmg-offline-pmg-mail1') },
    40, 'PBS and PMG offline alerts', 'worker-1');
is(find_alert(active(), 'pbs-offline-pbs-backup1')->{level}, 'critical', 'PBS offline: critical');
is($stack->psql(q{SELECT count(*) FROM pulse.alert_history WHERE alert_id IN ('pbs-offline-pbs-backup1', 'pmg-offline-pmg-mail1')}),
    0, 'no history rows for PBS/PMG offline (§5.3)');
$stack->sim_mode($pbs, mode => 'normal');
$stack->sim_mode($pmg, mode => 'normal');
$stack->wait_for(sub { !(grep { $_->{type} eq 'offline' } @{ active() }) }, 40, 'offline alerts resolved', 'worker-1');
pass('answering again: offline alerts resolved');

# --- scope and the wire ---
my $tok = $ua->post($stack->url('/api/security/tokens') => $auth => json => { name => 'noread', scopes => ['settings:read'] })->result;
if ($tok->code == 200 || $tok->code == 201) {
    my $t = $tok->json->{token};
    my $r = $ua->get($stack->url('/api/alerts/active') => { 'X-API-Token' => $t })->result;
    is($r->code, 403, 'no monitoring:read: 403');
    is($r->json->{error}, 'missing_scope', 'missing_scope');
} else {
    fail('token created') or diag $tok->body;
}
is($ua->get($stack->url('/api/alerts/active'))->result->code, 401, 'no credentials: 401');

# --- mock mode raises alerts of its own ---
$res = $ua->put($stack->url('/api/system/mock-mode') => $auth => json => { enabled => true })->result;
ok($res->is_success, 'mock mode on') or diag $res->body;
$stack->wait_for(sub { my $l = active(); grep { $_->{type} eq 'memory' } @$l }, 40, 'mock alerts', 'worker-1');
my $mock = active();
ok((grep { $_->{type} eq 'usage' } @$mock), 'mock storage usage alert');
ok(!(grep { $_->{id} eq $cpu_id } @$mock), 'the real estate\'s alerts are not shown in mock mode');
$stack->wait_for(sub { grep { $_->{type} eq 'powered-off' } @{ active() } }, 40, 'mock powered-off', 'worker-1');
pass('mock powered-off alerts');
ok(@{ state()->{activeAlerts} } > 0, 'mock /api/state activeAlerts');
$res = $ua->put($stack->url('/api/system/mock-mode') => $auth => json => { enabled => false })->result;
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.alerts WHERE source = 'mock' AND resolved_at IS NULL}) == 0 },
    40, 'mock alerts resolved when mock mode is off', 'worker-1');
pass('mock mode off: its alerts resolve');

# --- an instance deleted: its alerts resolve (the retention job, once a minute) ---
ok($stack->psql("SELECT count(*) FROM pulse.alerts WHERE source = '$id' AND resolved_at IS NULL") > 0,
    'the instance has active alerts (its ZFS pool)');
is($ua->delete($stack->url("/api/config/nodes/$id") => $auth)->result->code, 200, 'instance deleted');
$stack->wait_for(sub { $stack->psql("SELECT count(*) FROM pulse.alerts WHERE source = '$id' AND resolved_at IS NULL") == 0 },
    100, 'the deleted instance\'s alerts resolved', 'worker-1');
pass('deleted instance: alerts resolved');

done_testing;
