#!/usr/bin/perl
# 67-agent-kubernetes.t: Kubernetes agents' reports through the real stack (agents.md §5,
# §12): empty arrays before any cluster, an example body stored and answered, the cluster
# in /api/state field by field and against the wire contract, the decoder's type errors,
# the identifier's fallbacks, bounded arrays, the body limit, auth and scope, one agent per
# token, the management endpoints (display name, pending uninstall, unhide, allow-reenroll,
# removal that revokes the token and blocks the cluster), a removed cluster reporting
# again; the worker: a deployment alert raised by a report, a silent cluster offline and its
# offline alert, a removed cluster's alerts resolved, old removal blocks dropped; the
# end-to-end run: pulse-agent's Kubernetes mode reads t/fakes/kube-api.pl over HTTPS with a
# service account (token, CA file) and its report appears in /api/state.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Digest::SHA qw(sha256_hex);
use File::Copy qw(copy);
use File::Path qw(make_path);
use Mojo::JSON qw(true false encode_json decode_json);
use Test::More;
use PulseStack;
use PulseTest;
use WireContract;

my $stack = PulseStack->new->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $wc = WireContract->new;

my $rep = $stack->agent_token('kube-a', 'kubernetes:report');
my $rep2 = $stack->agent_token('kube-b', 'kubernetes:report');
my $reader = $stack->agent_token('reader', 'monitoring:read');
my $host_rep = $stack->agent_token('host-only', 'host-agent:report');
my $manager = $stack->agent_token('kube-manager', 'kubernetes:manage');
sub agent_headers { $_[0]{headers} }

sub state { $ua->get($stack->url('/api/state') => $auth)->result->json }
sub cluster_in_state { my $id = shift; my ($c) = grep { $_->{id} eq $id } @{ state()->{kubernetesClusters} }; $c }
sub clone { decode_json(encode_json($_[0])) }

sub report {
    my ($body, $headers) = @_;
    my $tx = $ua->build_tx(POST => $stack->url('/api/agents/kubernetes/report') => { %{ $headers // agent_headers($rep) },
        'Content-Type' => 'application/json' } => ref $body ? encode_json($body) : $body);
    return $ua->start($tx)->result;
}

# --- before any report ----------------------------------------------------------------------
my $st = state();
is_deeply($st->{kubernetesClusters}, [], 'state: kubernetesClusters empty');
is_deeply($st->{removedKubernetesClusters}, [], 'state: removedKubernetesClusters empty');

# The shape of agents.md §5.1, as the original's agent sends it.
my $example = decode_json(<<'JSON');
{"agent":{"id":"kube-agent-1","version":"5.0.4","type":"unified","intervalSeconds":30},
 "cluster":{"id":"c0ffee","name":"prod","server":"https://10.0.0.1:6443","context":"prod","version":"v1.30.2","provider":"k3s","namespace":"pulse"},
 "nodes":[{"uid":"n-1","name":"node-1","ready":true,"kubeletVersion":"v1.30.2","containerRuntimeVersion":"containerd://1.7.13","osImage":"Ubuntu 24.04 LTS","kernelVersion":"6.8.0-31-generic","architecture":"amd64",
   "capacity":{"cpuCores":4,"memoryBytes":8232370176,"pods":110},"allocatable":{"cpuCores":4,"memoryBytes":8127512576,"pods":110},"roles":["control-plane"]},
  {"uid":"n-2","name":"node-2","ready":false,"unschedulable":true,"capacity":{"cpuCores":2,"memoryBytes":4000000000,"pods":110},"allocatable":{"cpuCores":2,"memoryBytes":3900000000,"pods":100}}],
 "pods":[{"uid":"p-1","name":"api-7d9f-abcde","namespace":"shop","nodeName":"node-1","phase":"Running","qosClass":"Burstable","createdAt":"2026-01-12T09:00:00Z","startTime":"2026-01-12T09:00:02Z",
   "restarts":7,"labels":{"app":"api","tier":"backend"},"ownerKind":"ReplicaSet","ownerName":"api-7d9f",
   "containers":[{"name":"api","image":"ghcr.io/shop/api:1.4","ready":false,"restartCount":7,"state":"waiting","reason":"CrashLoopBackOff","message":"back-off 5m0s restarting failed container"}]},
  {"uid":"p-2","name":"batch-x","namespace":"jobs","phase":"Pending","reason":"Unschedulable","message":"0/2 nodes are available","createdAt":"2026-01-12T10:00:00Z","containers":[{"name":"batch","ready":false}]}],
 "deployments":[{"uid":"d-1","name":"api","namespace":"shop","desiredReplicas":3,"updatedReplicas":3,"readyReplicas":1,"availableReplicas":1,"labels":{"app":"api"}}],
 "timestamp":"2026-01-12T10:15:30Z"}
JSON

# --- the example report ---------------------------------------------------------------------
my $res = report($example);
is($res->code, 200, 'example report stored') or diag $res->body;
my $ans = $res->json;
is_deeply($ans, { success => true, clusterId => 'c0ffee', nodes => 2, pods => 2, deployments => 1,
    lastSeen => '2026-01-12T10:15:30Z' }, 'answer: cluster id, counts, lastSeen the report time');
$wc->check('KubernetesReportResponse', $ans, 'report answer');

my $c = cluster_in_state('c0ffee');
ok($c, 'the cluster is in /api/state') or BAIL_OUT('no cluster stored');
is($c->{$_->[0]}, $_->[1], "state: $_->[0]") for ['agentId', 'kube-agent-1'], ['name', 'prod'], ['displayName', 'prod'],
    ['server', 'https://10.0.0.1:6443'], ['context', 'prod'], ['version', 'v1.30.2'], ['status', 'online'],
    ['lastSeen', 1768212930000], ['intervalSeconds', 30], ['agentVersion', 'v5.0.4'], ['tokenId', $rep->{id}],
    ['tokenName', 'kube-a'];
is(state()->{connectionHealth}{'kubernetes-c0ffee'}, true, 'state: connectionHealth kubernetes-<id> healthy');
is($c->{hidden}, false, 'state: hidden written, false');
is($c->{pendingUninstall}, false, 'state: pendingUninstall written, false');
like($c->{tokenHint} // '', qr/^\w+…\w+$/, 'state: tokenHint prefix, ellipsis, suffix');
ok(!exists $c->{$_}, "state: $_ left out") for qw(customDisplayName provider namespace);
is_deeply($c->{nodes}, [
    { uid => 'n-1', name => 'node-1', ready => true, kubeletVersion => 'v1.30.2', containerRuntimeVersion => 'containerd://1.7.13',
      osImage => 'Ubuntu 24.04 LTS', kernelVersion => '6.8.0-31-generic', architecture => 'amd64', capacityCpuCores => 4,
      capacityMemoryBytes => 8232370176, capacityPods => 110, allocatableCpuCores => 4, allocatableMemoryBytes => 8127512576,
      allocatablePods => 110, roles => ['control-plane'] },
    { uid => 'n-2', name => 'node-2', ready => false, unschedulable => true, capacityCpuCores => 2, capacityMemoryBytes => 4000000000,
      capacityPods => 110, allocatableCpuCores => 2, allocatableMemoryBytes => 3900000000, allocatablePods => 100 },
], 'state: nodes, capacity and allocatable flattened');
is_deeply($c->{pods}, [
    { uid => 'p-1', name => 'api-7d9f-abcde', namespace => 'shop', nodeName => 'node-1', phase => 'Running', qosClass => 'Burstable',
      createdAt => 1768208400000, startTime => 1768208402000, restarts => 7, labels => { app => 'api', tier => 'backend' },
      ownerKind => 'ReplicaSet', ownerName => 'api-7d9f',
      containers => [{ name => 'api', image => 'ghcr.io/shop/api:1.4', ready => false, restartCount => 7, state => 'waiting',
          reason => 'CrashLoopBackOff', message => 'back-off 5m0s restarting failed container' }] },
    { uid => 'p-2', name => 'batch-x', namespace => 'jobs', phase => 'Pending', reason => 'Unschedulable',
      message => '0/2 nodes are available', createdAt => 1768212000000, containers => [{ name => 'batch', ready => false }] },
], 'state: pods, times in epoch ms, zero values left out');
is_deeply($c->{deployments}, [{ uid => 'd-1', name => 'api', namespace => 'shop', desiredReplicas => 3, updatedReplicas => 3,
    readyReplicas => 1, availableReplicas => 1, labels => { app => 'api' } }], 'state: deployments');
$wc->check('KubernetesCluster', $c, 'state cluster');
is($stack->psql(q{SELECT node_count || ' ' || nodes_ready || ' ' || pod_count || ' ' || deployment_count FROM pulse.agent_kube_clusters WHERE id = 'c0ffee'}),
    '2 1 2 1', 'SQL: counts of nodes, ready nodes, pods, deployments');

# --- the decoder's types ----------------------------------------------------------------------
decode_errors_ok(\&report, $example,
    ['{"cluster":', 'malformed JSON'],
    ['[1,2]', 'an array, not an object'],
    [sub { $_[0]{cluster}{id} = 7 }, 'cluster.id as a number'],
    [sub { $_[0]{agent}{intervalSeconds} = '30' }, 'intervalSeconds as a string'],
    [sub { $_[0]{agent}{intervalSeconds} = 2.5 }, 'intervalSeconds with a fraction'],
    [sub { $_[0]{nodes} = {} }, 'nodes as an object'],
    [sub { $_[0]{nodes}[0]{ready} = 'yes' }, 'ready as text'],
    [sub { $_[0]{nodes}[0]{capacity}{memoryBytes} = '8G' }, 'a capacity as text'],
    [sub { $_[0]{nodes}[0]{roles} = [1] }, 'a role as a number'],
    [sub { $_[0]{pods}[0]{labels}{app} = 1 }, 'a label value as a number'],
    [sub { $_[0]{pods}[0]{containers}[0]{restartCount} = 'many' }, 'restartCount as text'],
    [sub { $_[0]{pods}[0]{createdAt} = '' }, 'an empty createdAt'],
    [sub { $_[0]{deployments}[0]{desiredReplicas} = true }, 'desiredReplicas as a boolean'],
    [sub { $_[0]{timestamp} = 'yesterday' }, 'a timestamp that is not RFC 3339'],
);
my $nulls = clone($example);
$nulls->{$_} = undef for qw(nodes pods deployments timestamp);
$nulls->{unknownField} = { anything => [1, 'x'] };
$nulls->{cluster}{alsoUnknown} = 1;
$res = report($nulls);
is($res->code, 200, 'null members and unknown fields are accepted') or diag $res->body;
like($res->json->{lastSeen}, qr/^\d{4}-\d\d-\d\dT[\d:.]+Z$/, 'no timestamp: the server time, RFC 3339');
$c = cluster_in_state('c0ffee');
ok(!exists $c->{$_}, "no $_: left out of the state") for qw(nodes pods deployments);

# --- identity -----------------------------------------------------------------------------------
my $noid = clone($example);
delete $noid->{agent}{id};
$noid->{cluster} = { id => '  ', server => ' ', version => 'v1' };
my $e = json_error_ok(report($noid, agent_headers($rep2)), 400, 'invalid_report', 'no cluster identifier');
is($e->{error}, 'kubernetes report missing cluster identifier', 'the original\'s message');
my $hashed = clone($example);
$hashed->{agent} = { version => 'V5.0.5' };
$hashed->{cluster} = { name => ' lab ', server => 'https://lab:6443', context => 'lab' };
$res = report($hashed, agent_headers($rep2));
is($res->code, 200, 'identifier from server|context|name') or diag $res->body;
my $hashed_id = sha256_hex('https://lab:6443|lab|lab');
is($res->json->{clusterId}, $hashed_id, 'id: hex SHA-256 of the trimmed server|context|name');
$c = cluster_in_state($hashed_id);
is($c->{agentId}, $hashed_id, 'agentId: the cluster id without agent.id');
is($c->{agentVersion}, 'v5.0.5', 'agentVersion: one leading v');
is($c->{displayName}, 'lab', 'displayName: the trimmed name');

# One agent per token: rep2 now reports for the hashed cluster's agent.
$res = report($example, agent_headers($rep2));
$e = json_error_ok($res, 400, 'invalid_report', 'a second agent on the same token');
like($e->{error}, qr/^API token \(\w+…\w+\) is already in use by agent "\Q$hashed_id\E"/, 'the original\'s message names the bound agent');

# --- bounded arrays and the body limit -----------------------------------------------------------
my $big = clone($example);
$big->{pods} = [map { { uid => "u$_", name => "p$_", namespace => 'ns' } } 1 .. 5000];
ok(length(encode_json($big)) < 2 * 1024 * 1024, 'a body of 5,000 pods fits the limit');
$res = report($big);
is($res->code, 200, 'huge arrays accepted') or diag $res->body;
is($res->json->{pods}, 1000, 'answer: pods cut to 1,000');
is(scalar @{ cluster_in_state('c0ffee')->{pods} }, 1000, 'state: pods cut to 1,000');
$big->{pods} = [map { { uid => "u$_", name => "pod-with-a-longer-name-$_", namespace => 'namespace' } } 1 .. 40000];
ok(length(encode_json($big)) > 2 * 1024 * 1024, 'a body over 2 MiB');
json_error_ok(report($big), 413, 'payload_too_large', 'a body over 2 MiB');
is(report($example)->code, 200, 'the example again');

# --- auth and scope -----------------------------------------------------------------------------
json_error_ok(report($example, {}), 401, 'unauthorized', 'no credentials');
$e = json_error_ok(report($example, agent_headers($reader)), 403, 'missing_scope', 'token without kubernetes:report');
is($e->{requiredScope}, 'kubernetes:report', 'requiredScope named');
json_error_ok(report($example, agent_headers($host_rep)), 403, 'missing_scope', 'a host agent token');

# --- management (§5.4) --------------------------------------------------------------------------
sub manage {
    my ($method, $path, $headers, $body) = @_;
    my $tx = $ua->build_tx($method => $stack->url("/api/agents/kubernetes/clusters/$path") =>
        { %{ $headers // agent_headers($manager) }, ($body ? ('Content-Type' => 'application/json') : ()) } => $body // '');
    return $ua->start($tx)->result;
}
$e = json_error_ok(manage(PUT => 'c0ffee/unhide', agent_headers($rep)), 403, 'missing_scope', 'management with a report token');
is($e->{requiredScope}, 'kubernetes:manage', 'management needs kubernetes:manage');
json_error_ok(manage(PUT => 'c0ffee/unhide', {}), 401, 'unauthorized', 'management without credentials');

$res = manage(PUT => 'c0ffee/display-name', undef, encode_json({ displayName => '  Production  ' }));
is($res->code, 200, 'display name set') or diag $res->body;
is_deeply($res->json, { success => true, clusterId => 'c0ffee', message => 'Kubernetes cluster custom display name updated' },
    'display name: the original\'s answer');
is(cluster_in_state('c0ffee')->{customDisplayName}, 'Production', 'state: customDisplayName trimmed');
json_error_ok(manage(PUT => 'c0ffee/display-name', undef, '{"displayName":5}'), 400, 'invalid_field', 'display name as a number');
json_error_ok(manage(PUT => 'c0ffee/display-name', undef, '{"displayName":'), 400, 'invalid_json', 'display name: malformed JSON');
json_error_ok(manage(PUT => 'nope/display-name', undef, '{"displayName":"x"}'), 404, 'kubernetes_cluster_not_found', 'display name of an unknown cluster');
json_error_ok(manage(PUT => 'c0ffee/display-name', undef, encode_json({ displayName => 'x' x 9000 })), 413, 'payload_too_large',
    'display name body over 8 KiB');

$res = manage(PUT => 'c0ffee/pending-uninstall');
is_deeply($res->json, { success => true, clusterId => 'c0ffee', message => 'Kubernetes cluster marked as pending uninstall' },
    'pending uninstall: the original\'s answer');
is(report($example)->code, 200, 'a report after pending uninstall');
$c = cluster_in_state('c0ffee');
ok($c->{pendingUninstall}, 'pendingUninstall kept by the next report');
is($c->{customDisplayName}, 'Production', 'customDisplayName kept by the next report');
json_error_ok(manage(PUT => 'nope/pending-uninstall'), 404, 'kubernetes_cluster_not_found', 'pending uninstall of an unknown cluster');
is_deeply(manage(PUT => 'c0ffee/unhide')->json, { success => true, clusterId => 'c0ffee', message => 'Kubernetes cluster unhidden' },
    'unhide: the original\'s answer');
json_error_ok(manage(PUT => 'nope/unhide'), 404, 'kubernetes_cluster_not_found', 'unhide of an unknown cluster');
is_deeply(manage(POST => 'nope/allow-reenroll')->json, { success => true, clusterId => 'nope' }, 'allow-reenroll of an unknown cluster: 200');
is_deeply(manage(DELETE => 'never-seen')->json, { success => true, clusterId => 'never-seen', message => 'Kubernetes cluster removed' },
    'removal of an unknown cluster: 200');

# Removal: the token revoked, the cluster blocked for a day, listed as removed.
$res = manage(DELETE => 'c0ffee');
is($res->code, 200, 'cluster removed') or diag $res->body;
$st = state();
ok(!grep({ $_->{id} eq 'c0ffee' } @{ $st->{kubernetesClusters} }), 'state: the removed cluster is gone');
my ($gone) = grep { $_->{id} eq 'c0ffee' } @{ $st->{removedKubernetesClusters} };
ok($gone, 'state: in removedKubernetesClusters') or diag explain $st->{removedKubernetesClusters};
is($gone->{name}, 'prod', 'removed: name');
is($gone->{displayName}, 'prod', 'removed: the display name (the name, not the custom one)');
like($gone->{removedAt} // '', qr/^\d{13}$/, 'removed: removedAt in epoch ms');
$wc->check('RemovedKubernetesCluster', $_, 'removed cluster') for @{ $st->{removedKubernetesClusters} };
json_error_ok(report($example), 401, 'unauthorized', 'the removed cluster\'s token is revoked');
my $rep3 = $stack->agent_token('kube-c', 'kubernetes:report');
$e = json_error_ok(report($example, agent_headers($rep3)), 400, 'invalid_report', 'the removed cluster reporting again');
like($e->{error}, qr/^kubernetes cluster "c0ffee" was removed at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ and cannot report again/,
    'refused: "was removed", the agent\'s signal to stop');
is_deeply(manage(POST => 'c0ffee/allow-reenroll')->json, { success => true, clusterId => 'c0ffee' }, 'allow-reenroll');
ok(!grep({ $_->{id} eq 'c0ffee' } @{ state()->{removedKubernetesClusters} }), 'state: no longer listed as removed');
is(report($example, agent_headers($rep3))->code, 200, 'the cluster reports again after allow-reenroll');
$c = cluster_in_state('c0ffee');
ok(!exists $c->{customDisplayName} && !$c->{pendingUninstall}, 'a re-enrolled cluster starts afresh');
is($c->{tokenName}, 'kube-c', 'state: the new token');
$wc->check('KubernetesCluster', $c, 're-enrolled cluster');

# A cluster whose removal block is older than a day reports again.
is(manage(DELETE => $hashed_id)->code, 200, 'the hashed cluster removed');
$stack->psql(qq{UPDATE pulse.agent_kube_removed SET removed_at = now() - interval '25 hours' WHERE id = '$hashed_id'});
my $rep4 = $stack->agent_token('kube-d', 'kubernetes:report');
is(report($hashed, agent_headers($rep4))->code, 200, 'a block older than 24 h no longer refuses');

# --- the worker: alerts from stored reports, a silent cluster offline ---------------------------
is($ua->post($stack->url('/api/alerts/activate') => $auth)->result->code, 200, 'alerts activated');
my $hot_token = $stack->agent_token('kube-hot', 'kubernetes:report');
my $hot = clone($example);
$hot->{cluster}{id} = $hot->{agent}{id} = 'hot-cluster';
delete $hot->{timestamp};
my $dep_alert = q{SELECT count(*) FROM pulse.alerts WHERE source = 'kubernetes:hot-cluster' AND resolved_at IS NULL AND id LIKE 'kubernetes-deployment-%'};
# Reported again until the alert's time threshold has passed (as an agent does every interval).
$stack->wait_for(sub { report($hot, agent_headers($hot_token))->code == 200 or return 0; $stack->psql($dep_alert) == 1 },
    60, 'the short deployment raised by the worker', 'worker-1');
my ($alert) = grep { $_->{id} =~ /^kubernetes-deployment-kubernetes:hot-cluster/ } @{ $ua->get($stack->url('/api/alerts/active') => $auth)->result->json // [] };
is($alert->{id} // '', 'kubernetes-deployment-kubernetes:hot-cluster/deployment/shop/api', 'deployment alert under the cluster id');
$hot->{deployments}[0]{availableReplicas} = 3;
is(report($hot, agent_headers($hot_token))->code, 200, 'the deployment whole again');
$stack->wait_for(sub { $stack->psql($dep_alert) == 0 }, 30, 'the deployment alert resolved', 'worker-1');
pass('a whole deployment resolves its alert');

# Silence: the last report made to look 20 minutes old (beyond any window, 600 s at most).
$stack->psql(q{UPDATE pulse.agent_kube_clusters SET received_at = now() - interval '20 minutes' WHERE id = 'hot-cluster'});
$st = $stack->wait_state(sub { my ($x) = grep { $_->{id} eq 'hot-cluster' } @{ $_[0]{kubernetesClusters} }; $x && $x->{status} eq 'offline' },
    40, 'the silent cluster offline');
($c) = grep { $_->{id} eq 'hot-cluster' } @{ $st->{kubernetesClusters} };
is($c->{status}, 'offline', 'silent cluster: status offline in /api/state');
$wc->check('KubernetesCluster', $c, 'offline cluster');
is($st->{connectionHealth}{'kubernetes-hot-cluster'}, false, 'silent cluster: connectionHealth false');
my $offline_alert = q{SELECT count(*) FROM pulse.alerts WHERE id = 'kubernetes-cluster-offline-hot-cluster' AND resolved_at IS NULL};
$stack->wait_for(sub { $stack->psql($offline_alert) == 1 }, 60, 'kubernetes-cluster-offline after three offline evaluations', 'worker-1');
pass('kubernetes-cluster-offline raised');
is(report($hot, agent_headers($hot_token))->code, 200, 'the cluster reports again');
$stack->wait_for(sub { $stack->psql($offline_alert) == 0 }, 30, 'kubernetes-cluster-offline resolved', 'worker-1');
is(cluster_in_state('hot-cluster')->{status}, 'online', 'online again');

# A removed cluster's alerts resolve.
$hot->{deployments}[0]{availableReplicas} = 0;
$stack->wait_for(sub { report($hot, agent_headers($hot_token)); $stack->psql($dep_alert) == 1 }, 60, 'raised again', 'worker-1');
is(manage(DELETE => 'hot-cluster')->code, 200, 'hot cluster removed');
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.alerts WHERE source = 'kubernetes:hot-cluster' AND resolved_at IS NULL}) == 0 },
    40, "the removed cluster's alerts resolved", 'worker-1');
pass("removed cluster's alerts resolved");

# The worker drops blocks older than a day (they no longer refuse either: above).
$stack->psql(q{UPDATE pulse.agent_kube_removed SET removed_at = now() - interval '25 hours' WHERE id = 'hot-cluster'});
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.agent_kube_removed WHERE id = 'hot-cluster'}) == 0 },
    40, 'the old block dropped', 'worker-1');
pass('old removal blocks dropped by the worker');

# --- end to end: pulse-agent's Kubernetes mode against a stand-in API server ---------------------
{
    my $port = PulseStack::free_port();
    my $sa = $stack->dir . '/kube-sa';
    make_path($sa);
    open my $fh, '>', "$sa/token" or die $!;
    print {$fh} "sa-token-123\n";
    close $fh;
    copy($stack->{cert}, "$sa/ca.crt") or die "copy: $!";
    my $api_log = $stack->log_dir . '/kube-api-requests.log';
    $stack->spawn('kube-api', {}, $^X, PulseStack::srcdir() . '/t/fakes/kube-api.pl', '--listen', "https://127.0.0.1:$port",
        '--cert', $stack->{cert}, '--key', $stack->{key}, '--token', 'sa-token-123', '--log', $api_log);
    $stack->wait_for(sub { PulseStack::_port_open($port) }, 20, 'the stand-in API server', 'kube-api');
    my $token = $stack->agent_token('kube-e2e', 'kubernetes:report');
    $stack->spawn('kube-agent', { KUBERNETES_SERVICE_HOST => '127.0.0.1', KUBERNETES_SERVICE_PORT => $port,
        PULSE_KUBE_SERVICE_ACCOUNT_DIR => $sa },
        PulseStack::builddir() . '/agent/pulse-agent', '--url', $stack->base_url, '--token', $token->{raw}, '--insecure',
        '--interval', '2s', '--enable-host=false', '--enable-docker=false', '--enable-kubernetes', '--health-addr', '',
        '--agent-id', 'e2e-agent');
    my $server = "https://127.0.0.1:$port";
    my $id = sha256_hex("$server||in-cluster");
    my $st = $stack->wait_state(sub { grep { $_->{id} eq $id } @{ $_[0]{kubernetesClusters} } }, 40, 'the agent\'s cluster in the state');
    my ($k) = grep { $_->{id} eq $id } @{ $st->{kubernetesClusters} };
    ok($k, 'end to end: the cluster reported by pulse-agent is in /api/state') or diag $stack->log_tail('kube-agent');
    is($k->{$_->[0]}, $_->[1], "end to end: $_->[0]") for ['agentId', 'e2e-agent'], ['name', 'in-cluster'], ['server', $server],
        ['version', 'v1.30.2'], ['status', 'online'], ['intervalSeconds', 2], ['tokenName', 'kube-e2e'];
    like($k->{agentVersion} // '', qr/^v/, 'end to end: agentVersion');
    is_deeply($k->{nodes}, [
        { uid => 'uid-cluster-cp-1', name => 'cp-1', ready => true, kubeletVersion => 'v1.30.2', containerRuntimeVersion => 'containerd://1.7.13',
          osImage => 'Ubuntu 24.04 LTS', kernelVersion => '6.8.0-31-generic', architecture => 'amd64', capacityCpuCores => 4,
          capacityMemoryBytes => 8137116 * 1024, capacityPods => 110, allocatableCpuCores => 3, allocatableMemoryBytes => 7934364 * 1024,
          allocatablePods => 110, roles => ['control-plane'] },
        { uid => 'uid-cluster-worker-1', name => 'worker-1', ready => false, unschedulable => true, kubeletVersion => 'v1.30.2',
          containerRuntimeVersion => 'containerd://1.7.13', osImage => 'Ubuntu 24.04 LTS', kernelVersion => '6.8.0-31-generic',
          architecture => 'arm64', capacityCpuCores => 2, capacityMemoryBytes => 4 * 1024**3, capacityPods => 110,
          allocatableCpuCores => 2, allocatableMemoryBytes => 3900 * 1024**2, allocatablePods => 100, roles => ['worker'] },
    ], 'end to end: nodes (Ready condition, quantities, roles from labels)');
    is_deeply([map { "$_->{namespace}/$_->{name}" } @{ $k->{pods} }], ['jobs/batch-x', 'shop/api-7d9f-abcde'],
        'end to end: only the problem pods, by namespace and name (Succeeded left out by the field selector)');
    my ($api_pod) = grep { $_->{name} eq 'api-7d9f-abcde' } @{ $k->{pods} };
    is_deeply($api_pod, { uid => 'uid-shop-api-7d9f-abcde', name => 'api-7d9f-abcde', namespace => 'shop', nodeName => 'cp-1',
        phase => 'Running', qosClass => 'Burstable', createdAt => 1768208400000, startTime => 1768208402000, restarts => 7,
        labels => { app => 'api' }, ownerKind => 'ReplicaSet', ownerName => 'api-7d9f',
        containers => [{ name => 'api', image => 'ghcr.io/shop/api:1.4', ready => false, restartCount => 7, state => 'waiting',
            reason => 'CrashLoopBackOff', message => 'back-off 5m0s restarting failed container' }] }, 'end to end: a pod field by field');
    is_deeply([map { "$_->{namespace}/$_->{name}" } @{ $k->{deployments} }], ['shop/api'], 'end to end: only the short deployment');
    $wc->check('KubernetesCluster', $k, 'end-to-end cluster');
    my @calls = map { decode_json($_) } grep { /\S/ } split /\n/, do { local (@ARGV, $/) = $api_log; <> };
    ok(@calls >= 4, 'end to end: the agent called the API server') or diag explain \@calls;
    is(scalar(grep { !$_->{auth} } @calls), 0, 'end to end: every call with the service account\'s bearer token');
    ok((grep { $_->{path} eq '/api/v1/pods' && $_->{query} =~ /fieldSelector=status\.phase%21%3DSucceeded/ } @calls),
        'end to end: pods listed without the Succeeded ones');
    is($stack->stop_program('kube-agent'), 0, 'end to end: the agent stops on SIGTERM');

    # A service account token the API server refuses: logged, nothing sent.
    open $fh, '>', "$sa/token" or die $!;
    print {$fh} "not-the-token\n";
    close $fh;
    $stack->spawn('kube-agent-refused', { KUBERNETES_SERVICE_HOST => '127.0.0.1', KUBERNETES_SERVICE_PORT => $port,
        PULSE_KUBE_SERVICE_ACCOUNT_DIR => $sa },
        PulseStack::builddir() . '/agent/pulse-agent', '--url', $stack->base_url, '--token', $token->{raw}, '--insecure',
        '--interval', '1s', '--enable-host=false', '--enable-docker=false', '--enable-kubernetes', '--health-addr', '',
        '--agent-id', 'refused-agent');
    $stack->wait_for(sub { $stack->log_tail('kube-agent-refused', 500) =~ /GET \/version failed status=401/ }, 20,
        'the refused token logged', 'kube-agent-refused');
    pass('end to end: a refused service account token is logged');
    unlike($stack->log_tail('kube-agent-refused', 500), qr/not-the-token/, 'end to end: the token is not in the log');
    ok(!grep({ $_->{agentId} eq 'refused-agent' } @{ state()->{kubernetesClusters} }), 'end to end: nothing reported');
    is($stack->stop_program('kube-agent-refused'), 0, 'end to end: stopped');
    $stack->stop_program('kube-api');
}

done_testing;
