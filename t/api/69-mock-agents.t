#!/usr/bin/perl
# 69-mock-agents.t: mock mode's agents (state-proxmox.md §6.2, issue 14): four generic hosts,
# three Docker hosts of twelve containers (the third one Podman) and two Kubernetes clusters
# of four nodes, thirty pods and twelve deployments in /api/state, each in the original's wire
# format, with their connectionHealth keys; their figures drift from tick to tick; the
# management routes leave them alone; a real host agent's report lives beside them and
# survives mock mode off, which removes every mock agent row.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Test::More;
use PulseStack;
use PulseTest;
use WireContract;

my $stack = PulseStack->new->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $wc = WireContract->new;
my $mm = $stack->url('/api/system/mock-mode');
sub state { $ua->get($stack->url('/api/state') => $auth)->result->json }
sub count { $stack->psql($_[0]) }

# --- a real host agent first ----------------------------------------------------------------
my $tok = $stack->agent_token('real-agent', 'host-agent:report');
my $real = { agent => { id => 'real-agent-1', version => '5.0.4', type => 'unified', intervalSeconds => 30 },
    host => { id => 'real-host-1', hostname => 'real-01', platform => 'debian', osName => 'debian', osVersion => '12',
        cpuCount => 4, uptimeSeconds => 1000 },
    metrics => { cpuUsagePercent => 12.5, memory => { totalBytes => 8e9, usedBytes => 2e9, usage => 25 } },
    disks => [{ device => '/dev/sda1', mountpoint => '/', type => 'ext4', totalBytes => 1e11, usedBytes => 4e10, usage => 40 }] };
my $res = $ua->post($stack->url('/api/agents/host/report') => $tok->{headers} => json => $real)->result;
is($res->code, 200, 'a real host reports') or diag $res->body;
my $real_id = $res->json->{hostId};
is($real_id, 'real-host-1', 'its id');
my $st = $stack->wait_state(sub { @{ $_[0]{hosts} } == 1 }, 20, 'the real host');
is($st->{connectionHealth}{"host-$real_id"}, true, 'connectionHealth host-<id> of the real host');

# --- mock mode on -------------------------------------------------------------------------------
$res = $ua->put($mm => $auth => json => { enabled => true })->result;
is($res->code, 200, 'mock mode on') or diag $res->body;
my $cfg = $res->json->{config};
is_deeply([@$cfg{qw(GenericHostCount DockerHostCount DockerContainersPerHost K8sClusterCount K8sNodesPerCluster
    K8sPodsPerCluster K8sDeploymentsPerCluster)}], [4, 3, 12, 2, 4, 30, 12], 'the agent counts in the config answer');
$st = $stack->wait_state(sub { @{ $_[0]{nodes} } == 7 && @{ $_[0]{hosts} } == 4 && @{ $_[0]{dockerHosts} } == 3
    && @{ $_[0]{kubernetesClusters} } == 2 }, 40, 'the mock agents');

# Generic hosts.
my @hosts = @{ $st->{hosts} };
ok(!(grep { $_->{id} eq $real_id } @hosts), 'the real host is not in the mock state');
my @bad = grep { $_->{id} !~ /^host-(linux|windows|macos)-[1-4]$/ || $_->{platform} ne $1 } @hosts;
ok(!@bad, 'host ids host-{platform}-{n}, platform linux, windows or macos') or diag explain [map { "$_->{id} $_->{platform}" } @hosts];
is(scalar(keys %{ { map { $_->{id} => 1 } @hosts } }), 4, 'four distinct hosts');
@bad = grep { $_->{status} ne 'online' || !($_->{cpuUsage} > 0) || !$_->{memory}{total} || !@{ $_->{disks} // [] }
    || $_->{intervalSeconds} != 30 || !$_->{osName} || $_->{isLegacy} } @hosts;
ok(!@bad, 'each online, with cpu, memory, disks, an OS, a 30 s interval, a unified agent') or diag explain \@bad;
ok(!(grep { exists $_->{tokenId} } @hosts), 'no token on a mock host');
$wc->check('Host', $_, "mock host $_->{id}") for @hosts;

# Docker hosts.
my @docker = @{ $st->{dockerHosts} };
is_deeply([map { $_->{id} } @docker], ['docker-host-1-mock', 'docker-host-2-mock', 'podman-host-3-mock'],
    'Docker host ids {hostname}-mock, sorted by hostname');
is_deeply([map { $_->{runtime} } @docker], [qw(docker docker podman)], 'every third host runs Podman');
@bad = grep { @{ $_->{containers} } != 12 } @docker;
ok(!@bad, 'twelve containers each') or diag explain [map { "$_->{id}: " . scalar @{ $_->{containers} } } @docker];
my @containers = map { @{ $_->{containers} } } @docker;
ok((grep { $_->{state} eq 'running' } @containers) >= 24, 'most containers running');
@bad = grep { $_->{id} !~ /^[0-9a-f]{64}$/ || !$_->{image} || !$_->{name} || !$_->{status} } @containers;
ok(!@bad, 'each with a 64-hex id, a name, an image and a status') or diag explain \@bad;
@bad = grep { $_->{status} ne 'online' || $_->{intervalSeconds} != 30 || !($_->{cpuUsagePercent} > 0)
    || !$_->{memory}{total} || $_->{agentVersion} ne 'v5.0.4' } @docker;
ok(!@bad, 'each online, 30 s interval, cpu and memory, agent version v5.0.4') or diag explain \@bad;
$wc->check('DockerHost', $_, "mock Docker host $_->{id}") for @docker;

# Kubernetes clusters.
my @kube = @{ $st->{kubernetesClusters} };
for my $c (@kube) {
    is(scalar @{ $c->{nodes} // [] }, 4, "$c->{id}: four nodes");
    is(scalar @{ $c->{pods} // [] }, 30, "$c->{id}: thirty pods");
    is(scalar @{ $c->{deployments} // [] }, 12, "$c->{id}: twelve deployments");
    is($c->{status}, 'online', "$c->{id}: online");
    my %nodes = map { $_->{name} => 1 } @{ $c->{nodes} };
    ok(!(grep { !$nodes{ $_->{nodeName} // '' } } @{ $c->{pods} }), "$c->{id}: every pod on one of its nodes");
    $wc->check('KubernetesCluster', $c, "mock cluster $c->{id}");
}
is(scalar(keys %{ { map { $_->{id} => 1 } @kube } }), 2, 'two distinct clusters');

is_deeply([$wc->problems], [], 'every mock agent object matches the wire contract') or diag explain [$wc->problems];
ok($wc->seen('DockerContainer') >= 36 && $wc->seen('KubernetesPod') >= 60 && $wc->seen('KubernetesNode') >= 8,
    'containers, pods and nodes checked too');

# connectionHealth.
my $health = $st->{connectionHealth};
@bad = grep { ($health->{$_} // '') ne true } (map { "host-$_->{id}" } @hosts), (map { "docker-$_->{id}" } @docker),
    map { "kubernetes-$_->{id}" } @kube;
ok(!@bad, 'connectionHealth host-, docker- and kubernetes-<id> true for each') or diag explain [\@bad, $health];
ok(!exists $health->{"host-$real_id"}, 'not the real host\'s key in the mock state');

# The rows: mock ones beside the real one.
is(count(q{SELECT count(*) FROM pulse.agent_hosts WHERE mock}), 4, 'four mock host rows');
is(count(q{SELECT count(*) FROM pulse.docker_containers WHERE mock}), 36, '36 mock container rows');
is(count(q{SELECT string_agg(id || ':' || source, ',') FROM pulse.agent_hosts WHERE NOT mock}),
    "$real_id:agent", 'the real host row is still there, source agent');

# --- the figures drift ------------------------------------------------------------------------
my %cpu = map { $_->{id} => $_->{cpuUsage} } @hosts;
my %ccpu = map { $_->{id} => $_->{cpuPercent} } @containers;
my %seen = map { $_->{id} => $_->{lastSeen} } @docker;
my $st2 = $stack->wait_state(sub {
    my $s = shift;
    (grep { $_->{cpuUsage} != ($cpu{ $_->{id} } // -1) } @{ $s->{hosts} })
        && (grep { $_->{cpuPercent} != ($ccpu{ $_->{id} } // -1) } map { @{ $_->{containers} } } @{ $s->{dockerHosts} })
        && !(grep { $_->{lastSeen} <= ($seen{ $_->{id} } // 0) } @{ $s->{dockerHosts} })
}, 30, 'the next tick');
pass('host cpu, container cpu and lastSeen move between ticks');
my ($h1) = grep { $_->{id} eq $hosts[0]{id} } @{ $st2->{hosts} };
is($h1->{hostname}, $hosts[0]{hostname}, 'the same hosts, regenerated in place');
my @mem = grep { $_->{memory}{usage} < 0 || $_->{memory}{usage} > 100 } @{ $st2->{hosts} }, @{ $st2->{dockerHosts} };
ok(!@mem, 'memory usage stays a percentage');

# --- management routes on mock ids: as for unknown ids ------------------------------------------
my $mock_host = $hosts[0]{id};
$res = $ua->delete($stack->url("/api/agents/host/$mock_host") => $auth)->result;
is($res->code, 200, 'DELETE of a mock host: 200 as for an unknown id');
$res = $ua->put($stack->url("/api/agents/docker/hosts/$docker[0]{id}/pending-uninstall") => $auth)->result;
is($res->code, 404, 'pending-uninstall of a mock Docker host: 404');
$res = $ua->put($stack->url("/api/agents/kubernetes/clusters/$kube[0]{id}/display-name") => $auth
    => json => { displayName => 'x' })->result;
is($res->code, 404, 'display-name of a mock cluster: 404');
is(count(q{SELECT count(*) FROM pulse.agent_hosts WHERE mock}), 4, 'the mock hosts stay');

# A real report whose host id is a mock host's: stored under an id of its own.
my $clash = { %$real, host => { %{ $real->{host} }, id => $mock_host, hostname => 'clash-01' },
    agent => { %{ $real->{agent} }, id => 'clash-agent' } };
$res = $ua->post($stack->url('/api/agents/host/report') => $tok->{headers} => json => $clash)->result;
is($res->code, 200, 'a real report with a mock host\'s id') or diag $res->body;
my $clash_id = $res->json->{hostId} // '';
isnt($clash_id, $mock_host, 'it gets an id of its own') and like($clash_id, qr/^\Q$mock_host\E-[0-9a-f]+$/, 'the id with a suffix');
is(count(qq{SELECT source || ':' || hostname FROM pulse.agent_hosts WHERE id = '$mock_host'}), "mock:$hosts[0]{hostname}",
    'the mock row is untouched');
is(count(qq{SELECT source FROM pulse.agent_hosts WHERE id = '$clash_id'}), 'agent', 'the real one is a real row');
$res = $ua->delete($stack->url("/api/agents/host/$clash_id") => $auth)->result;
is($res->code, 200, 'the clashing real host removed again');
is(count(q{SELECT count(*) FROM pulse.docker_hosts WHERE mock AND NOT pending_uninstall}), 3, 'the mock Docker hosts unchanged');

# --- mock mode off ----------------------------------------------------------------------------
$res = $ua->put($mm => $auth => json => { enabled => false })->result;
is($res->code, 200, 'mock mode off') or diag $res->body;
$st = $stack->wait_state(sub { @{ $_[0]{hosts} } == 1 && !@{ $_[0]{nodes} } }, 40, 'the real state');
is($st->{hosts}[0]{id}, $real_id, 'the real host is back');
is($st->{hosts}[0]{cpuUsage}, 12.5, 'with its own figures');
is(scalar @{ $st->{dockerHosts} }, 0, 'no Docker host');
is(scalar @{ $st->{kubernetesClusters} }, 0, 'no Kubernetes cluster');
is($st->{connectionHealth}{"host-$real_id"}, true, 'the real host\'s connectionHealth');
ok(!(grep { /^(docker|kubernetes)-/ || ($_ =~ /^host-/ && $_ ne "host-$real_id") } keys %{ $st->{connectionHealth} }),
    'no mock agent key left') or diag explain $st->{connectionHealth};
$stack->wait_for(sub { count(q{SELECT (SELECT count(*) FROM pulse.agent_hosts WHERE mock)
    + (SELECT count(*) FROM pulse.docker_hosts WHERE mock) + (SELECT count(*) FROM pulse.docker_containers WHERE mock)
    + (SELECT count(*) FROM pulse.agent_kube_clusters WHERE mock)}) == 0 }, 20, 'mock agent rows removed', 'worker-1');
pass('every mock agent row removed');
is(count(q{SELECT count(*) FROM pulse.agent_hosts WHERE NOT mock}), 1, 'the real host row stays');

# Back on: the same agents again.
$res = $ua->put($mm => $auth => json => { enabled => true })->result;
$st = $stack->wait_state(sub { @{ $_[0]{hosts} } == 4 && @{ $_[0]{dockerHosts} } == 3 }, 40, 'the mock agents again');
is_deeply([sort map { $_->{id} } @{ $st->{hosts} }], [sort map { $_->{id} } @hosts], 'the same mock hosts');
$ua->put($mm => $auth => json => { enabled => false });

done_testing;
