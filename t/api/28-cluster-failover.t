#!/usr/bin/perl
# 28-cluster-failover.t: a PVE cluster of two members, one simulator per member address
# (127.0.0.2 and 127.0.0.3, same port). Their cluster addresses (10.99.0.x) are on another
# network than the one Pulse uses, so adding it looks up each member's management address
# (IP override), validates the members there and pins each one's certificate as the primary
# tells it; when the configured member goes away the worker keeps polling through the other,
# reports the cluster degraded and the member unreachable in the node configuration; when
# it comes back, healthy again. Also: a standalone node that has since formed a cluster with
# another node.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { pve_polling_interval => 1, pve_timeout => 3 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
# A standalone node that has since created a cluster, which another node joined, is found to
# be a member (§2.3 step 7; a one-node cluster stays standalone: docs/COMPATIBILITY.md).
my $solo = $stack->start_sim(name => 'solo', nodes => 1, guests => 2, token => 'root@pam!s=solo-token-123',
    cluster => 'newcluster');
$stack->sim_mode($solo, mode => 'joined-cluster');
my $r = $ua->post($stack->url('/api/config/nodes') => $auth => json => { type => 'pve', name => 'solo',
    host => $solo->{url}, tokenName => 'root@pam!s', tokenValue => 'solo-token-123',
    fingerprint => $solo->{fingerprint} })->result;
is($r->code, 201, 'a standalone node added');
my $solo_id = $r->json->{id};
$stack->wait_for(sub { my ($s) = grep { $_->{id} eq $solo_id } @{ $ua->get($stack->url('/api/config/nodes') => $auth)->result->json };
    $s->{isCluster} }, 20, 'the worker to notice the cluster');
my ($solo_cfg) = grep { $_->{id} eq $solo_id } @{ $ua->get($stack->url('/api/config/nodes') => $auth)->result->json };
is($solo_cfg->{clusterName}, 'newcluster', 'marked as a member of its cluster');
is($ua->delete($stack->url("/api/config/nodes/$solo_id") => $auth)->result->code, 200, 'removed again');

my $port = PulseStack::free_port();
my @ips = ('127.0.0.2', '127.0.0.3');
my %common = (nodes => 2, guests => 6, token => 'root@pam!fo=secret-fo-token', cluster => 'focluster',
    member_ips => ['10.99.0.1', '10.99.0.2'], mgmt_ips => \@ips, port => $port);
my $a = $stack->start_sim(%common, name => 'member-a', host => $ips[0]);
my $b = $stack->start_sim(%common, name => 'member-b', host => $ips[1]);
# Each member's certificate as the cluster knows it (GET /nodes/{node}/certificates/info):
# members are pinned with what the primary tells, never with what they present (M4).
my %certs = (node1 => $a->{fingerprint}, node2 => uc join(':', $b->{fingerprint} =~ /(..)/g));
$ua->post("$_->{url}/__sim/certs" => json => \%certs)->result->is_success or die 'sim certs' for $a, $b;

my $res = $ua->post($stack->url('/api/config/nodes') => $auth => json => { type => 'pve', name => 'fo',
    host => $a->{url}, tokenName => 'root@pam!fo', tokenValue => 'secret-fo-token',
    fingerprint => $a->{fingerprint} })->result;
is($res->code, 201, 'cluster added') or diag $res->body;
my $id = $res->json->{id};

sub config {
    my ($n) = grep { $_->{id} eq $id } @{ $ua->get($stack->url('/api/config/nodes') => $auth)->result->json };
    return $n;
}
my $n = config();
is($n->{isCluster}, true, 'a cluster');
is($n->{clusterName}, 'focluster', 'its name');
my %ep = map { $_->{NodeName} => $_ } @{ $n->{clusterEndpoints} };
is_deeply([sort keys %ep], ['node1', 'node2'], 'both members validated');
is($ep{node1}{IP}, '10.99.0.1', 'member 1 cluster address');
is($ep{node2}{IP}, '10.99.0.2', 'member 2 cluster address');
is($ep{node1}{IPOverride}, $ips[0], 'member 1 management address found on its network (IP override)');
is($ep{node2}{IPOverride}, $ips[1], 'member 2 management address');
is($ep{node1}{Fingerprint}, $a->{fingerprint}, 'member 1 certificate pinned as its primary tells');
is($ep{node2}{Fingerprint}, $b->{fingerprint}, 'member 2 certificate pinned as its primary tells (normalised)');
is($ep{node2}{Host}, "https://node2:$port", 'Host by node name, as the original');

my $st = $stack->wait_state(sub { @{ $_[0]{nodes} } == 2 && $_[0]{nodes}[0]{connectionHealth} eq 'healthy' }, 30,
    'the cluster, healthy');
is($st->{nodes}[0]{id}, 'focluster-node1', 'node ids by cluster name');
$stack->wait_for(sub { my $c = config(); my @r = grep { defined $_->{PulseReachable} } @{ $c->{clusterEndpoints} };
    @r == 2 }, 40, 'both endpoints checked');
$n = config();
ok((!grep { !$_->{PulseReachable} } @{ $n->{clusterEndpoints} }), 'both reachable');
like($n->{clusterEndpoints}[0]{LastPulseCheck}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'LastPulseCheck RFC 3339');

# The configured member goes away: polling continues through the other.
$stack->stop_program('sim-member-a', 'KILL');
my $t0 = time;
$st = $stack->wait_state(sub { ($_[0]{nodes}[0]{connectionHealth} // '') eq 'degraded' }, 40, 'degraded');
my $seen = $st->{nodes}[0]{lastSeen};
$st = $stack->wait_state(sub { $_[0]{nodes}[0]{lastSeen} > $seen }, 20, 'still polled');
pass('state keeps coming through the other member ' . (time - $t0) . ' s after the first went away');
is($st->{connectionHealth}{fo}, true, 'connectionHealth[fo] stays true while degraded');
is(scalar(grep { $_->{status} eq 'online' } @{ $st->{nodes} }), 2, 'both nodes online');
$stack->wait_for(sub { my $c = config(); my ($e) = grep { $_->{NodeName} eq 'node1' } @{ $c->{clusterEndpoints} };
    $e && defined $e->{PulseReachable} && !$e->{PulseReachable} }, 40, 'member 1 shown unreachable');
($n) = grep { $_->{NodeName} eq 'node1' } @{ config()->{clusterEndpoints} };
ok(length $n->{PulseError}, "PulseError: $n->{PulseError}");
my $h = $ua->get($stack->url('/api/monitoring/scheduler/health') => $auth)->result->json;
my ($fo) = grep { $_->{instance} eq 'fo' } @{ $h->{instances} };
is($fo->{pollStatus}{consecutiveFailures}, 0, 'no failed cycle: the failover happened within the cycle');

# It comes back.
$a = $stack->start_sim(%common, name => 'member-a', host => $ips[0]);
$ua->post("$a->{url}/__sim/certs" => json => \%certs);
$st = $stack->wait_state(sub { ($_[0]{nodes}[0]{connectionHealth} // '') eq 'healthy' }, 60, 'healthy again');
pass('healthy again when the member answers');
$stack->wait_for(sub { my $c = config(); !grep { !$_->{PulseReachable} } @{ $c->{clusterEndpoints} } }, 60,
    'both reachable again');
pass('both endpoints reachable again');

# Both gone: the cycle fails and, after the grace period, the nodes show offline.
$stack->stop_program('sim-member-a', 'KILL');
$stack->stop_program('sim-member-b', 'KILL');
$stack->wait_state(sub { !$_[0]{connectionHealth}{fo} }, 60, 'unhealthy');
pass('no member answers: connectionHealth[fo] false');
no_secret_in_logs($stack, 'secret-fo-token');
done_testing;
