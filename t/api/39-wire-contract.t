#!/usr/bin/perl
# 39-wire-contract.t: every object of every kind our answers contain, checked against the
# original web client's contract (t/contract/wire-contract.json, see t/lib/WireContract.pm):
# field names, JSON types, nullability, required fields, and the units the contract states.
# The answers come from mock mode and from the PVE, PBS and PMG simulators (a cluster whose
# configured name differs from its own, with Ceph, guest agents, backups; recorded answers of
# PVE 7, 8 and 9 replayed; an instance that fails). Deliberate differences are in t/contract/allowlist.json, each with its reason,
# and that list is mirrored in docs/COMPATIBILITY.md; the contract's kinds we do not serve
# yet are listed there too, so a kind that starts being served must be checked.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::File qw(path);
use Mojo::JSON qw(true false);
use Test::More;
use PulseStack;
use PulseTest;
use WireContract;

my $wc = WireContract->new;

# The checker itself finds each kind of difference.
{
    my $c = WireContract->new;
    my $json = Mojo::JSON::decode_json(q({"cpuPackage": "55", "cpuMax": 60.5, "available": true,
        "hasCPU": true, "hasGPU": false, "hasNVMe": false, "hasSMART": false, "lastUpdate": "yesterday",
        "cores": [{"core": 0.5, "temp": 50}], "surprise": 1, "nvme": null}));
    $c->check('Temperature', $json, 't');
    my $p = join "\n", $c->problems;
    like($p, qr/Temperature\.cpuPackage: type \(expected number, got string\)/, 'checker: a number sent as a string');
    like($p, qr/Temperature\.lastUpdate: type/, 'checker: a time that is not RFC 3339');
    like($p, qr/CoreTemp\.core: type \(expected integer, got number\)/, 'checker: a fraction where an integer belongs, nested');
    like($p, qr/Temperature\.surprise: extra/, 'checker: a field the original lacks');
    like($p, qr/Temperature\.nvme: null/, 'checker: null where the original never writes null');
    like($p, qr/Temperature\.(cpuMin|cores)?\w*: missing/, 'checker: a required field missing');
    $c->clear_problems;
    $c->check('Memory', Mojo::JSON::decode_json(q({"total":1,"used":1,"free":0,"usage":140})), 'm');
    like(join("\n", $c->problems), qr/Memory\.usage: unit \(140 is not percent 0-100\)/, 'checker: a unit broken');
    $c->clear_problems;
    $c->check('Health', Mojo::JSON::decode_json(q({"status":"healthy","timestamp":1700000000,"uptime":1,
        "proxyInstallScriptAvailable":true,"devModeSSH":false})), 'h');
    like(join("\n", $c->problems), qr/proxyInstallScriptAvailable: value true, the allowlist documents false/,
        'checker: a documented value that differs');
    ok($c->seen('CoreTemp') == 1 && $c->seen('Temperature') == 1, 'checker: objects counted by kind');
}

my $stack = PulseStack->new(settings => { demo_mode => 'true', pve_polling_interval => 1,
    pbs_polling_interval => 1, pmg_polling_interval => 1, backup_polling_cycles => 2 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;

# GETs an answer and checks it as $kind ('[Kind]' for a bare list, '{Kind}' for a map of
# them); with $envelope ({key => [keys]}), the answer is an object of exactly those keys and
# the part checked is the one under key.
sub capture {
    my ($kind, $path, $where, $envelope) = @_;
    my $res = $ua->get($stack->url($path) => $auth)->result;
    is($res->code, 200, "$where: GET $path") or return diag $res->body;
    my $json = $res->json;
    if ($envelope) {
        my ($key) = keys %$envelope;
        is_deeply([sort keys %$json], [sort @{ $envelope->{$key} }], "$where: $path keys");
        $json = $json->{$key};
    }
    if ($kind =~ /^\[(\w+)\]$/) {
        $wc->check_list($1, $json, "$where $path");
    } elsif ($kind =~ /^\{(\w+)\}$/) {
        ok(ref $json eq 'HASH', "$where: $path is a map") or return;
        $wc->check($1, $json->{$_}, "$where $path\{$_}") for sort keys %$json;
    } else {
        $wc->check($kind, $json, "$where $path");
    }
    return $json;
}

# The answers every scenario has.
sub capture_all {
    my ($where, $st) = @_;
    capture('State', '/api/state', $where);
    capture('[AlertsAPIAlert]', '/api/alerts/active', $where);
    capture('Health', '/api/health', $where);
    capture('Version', '/api/version', $where);
    capture('SecurityStatus', '/api/security/status', $where);
    capture('SchedulerHealth', '/api/monitoring/scheduler/health', $where);
    capture('MetricsStoreStats', '/api/metrics-store/stats', $where);
    capture('BackupsUnified', '/api/backups/unified', $where);
    capture('BackupsUnified', '/api/backups', $where);
    capture('[ConfigNode]', '/api/config/nodes', $where);
    capture('[StorageBackup]', '/api/backups/pve', $where, { backups => ['backups'] });
    capture('[PBSInstance]', '/api/backups/pbs', $where, { instances => ['instances'] });
    capture('[GuestSnapshot]', '/api/snapshots', $where, { snapshots => ['snapshots'] });
    capture('ChartsResponse', "/api/charts?range=$_", $where) for qw(5m 1h);
    capture('{StorageChartSeries}', '/api/storage-charts?range=60', $where);
    my $resources = capture('ResourcesResponse', '/api/resources', $where);
    capture('StoreStats', '/api/resources/stats', $where);
    capture('Resource', "/api/resources/$_->{id}", $where) for grep { $_->{type} =~ /^(node|pbs|datastore)$/ }
        @{ $resources->{resources} };
    my ($node) = grep { $_->{status} eq 'online' } @{ $st->{nodes} };
    my ($vm) = grep { $_->{status} eq 'running' } @{ $st->{vms} };
    my ($storage) = @{ $st->{storage} };
    for my $r (['node', $node], ['vm', $vm], ['storage', $storage]) {
        next unless $r->[1];
        my $q = "resourceType=$r->[0]&resourceId=$r->[1]{id}&range=1h";
        capture('MetricsHistorySingle', "/api/metrics-store/history?$q&metric=" . ($r->[0] eq 'storage' ? 'usage' : 'cpu'), $where);
        capture('MetricsHistoryAll', "/api/metrics-store/history?$q", $where);
    }
}

# --- mock mode ---
my $st = $stack->wait_state(sub { @{ $_[0]{nodes} } == 7 && @{ $_[0]{pmg} } && @{ $_[0]{pbs} } }, 30, 'the demo estate');
$stack->wait_for(sub { $stack->psql(q{SELECT count(DISTINCT ts) FROM pulse.metric_raw}) >= 2 }, 40,
    'two mock samples written', 'worker-1');
$stack->wait_state(sub { @{ $_[0]{activeAlerts} } }, 40, 'mock alerts');
capture_all('mock', $st);

# --- the alert configuration: the defaults, one with a custom rule, and the activate answer ---
my $alert_config = capture('AlertConfig', '/api/alerts/config', 'alerts');
$alert_config->{customRules} = [{ id => 'rule-1', name => 'busy web', description => 'web guests',
    filterConditions => { filters => [{ type => 'metric', field => 'cpu', operator => '>', value => 50 },
        { type => 'raw', rawText => 'web' }], logicalOperator => 'AND' },
    thresholds => { cpu => { trigger => 95, clear => 90 } }, priority => 2, enabled => Mojo::JSON::true,
    notifications => { email => { enabled => Mojo::JSON::true, recipients => ['ops@example.org'] },
        webhook => { enabled => Mojo::JSON::false, url => 'https://hooks.example.org/x' } },
    createdAt => '2026-01-01T00:00:00Z', updatedAt => '2026-01-02T00:00:00Z' }];
$alert_config->{overrides} = { 'mock-cluster-pve1-100' => { cpu => { trigger => 90, clear => 85 },
    snapshot => { enabled => Mojo::JSON::true, warningDays => 3, criticalDays => 5 } } };
is($ua->put($stack->url('/api/alerts/config') => $auth => json => $alert_config)->result->code, 200,
    'alerts: PUT a configuration with a custom rule');
capture('AlertConfig', '/api/alerts/config', 'alerts');
for my $n (1, 2) {
    my $r = $ua->post($stack->url('/api/alerts/activate') => $auth)->result;
    is($r->code, 200, "alerts: POST /api/alerts/activate ($n)");
    $wc->check('AlertActivateResponse', $r->json, "alerts POST /api/alerts/activate ($n)");
}

# --- the alert lifecycle: an incident with its timeline, the bulk answers ---
# The worker is held still meanwhile: its mock evaluation resolves any mock alert it did not
# raise itself, the two inserted below included, which raced with the acknowledgement.
my $worker = $stack->pid_of('worker-1');
kill 'STOP', $worker;
$stack->psql(q{INSERT INTO pulse.alerts (id, type, level, resource_id, resource_name, node, instance, message,
    value, threshold, start_time, source) VALUES ('wc:node1:101-cpu', 'cpu', 'warning', 'wc:node1:101', 'web1',
    'node1', 'wc', 'CPU at 95%', 95, 80, '2026-02-01T08:00:00Z', 'mock'),
    ('wc:node1:102-cpu', 'cpu', 'warning', 'wc:node1:102', 'web2', 'node1', 'wc', 'CPU at 91%', 91, 80,
    '2026-02-01T08:00:00Z', 'mock')});
$stack->psql(q{INSERT INTO pulse.incidents (id, alert_id, alert_type, level, resource_id, resource_name,
    resource_type, node, instance, message, opened_at) VALUES ('wc-inc', 'wc:node1:101-cpu', 'cpu', 'warning',
    'wc:node1:101', 'web1', 'guest', 'node1', 'wc', 'CPU at 95%', '2026-02-01T08:00:00Z')});
is($ua->post($stack->url('/api/alerts/acknowledge') => $auth => json => { id => 'wc:node1:101-cpu' })->result->code,
    200, 'alerts: acknowledge');
is($ua->post($stack->url('/api/alerts/incidents/note') => $auth => json => { incident_id => 'wc-inc',
    note => 'looked at it' })->result->code, 200, 'alerts: a note');
capture('Incident', '/api/alerts/incidents?alert_id=wc:node1:101-cpu', 'alerts');
capture('[Incident]', '/api/alerts/incidents?resource_id=wc:node1:101', 'alerts');
for my $action (qw(acknowledge clear)) {
    my $r = $ua->post($stack->url("/api/alerts/bulk/$action") => $auth =>
        json => { alertIds => ['wc:node1:102-cpu', 'wc:unknown'] })->result;
    is($r->code, 200, "alerts: POST /api/alerts/bulk/$action");
    $wc->check('AlertBulkResponse', $r->json, "alerts POST /api/alerts/bulk/$action");
}
kill 'CONT', $worker;

# --- notification configuration: email, apprise, webhooks, templates, providers, history, health ---
capture('EmailConfig', '/api/notifications/email', 'notifications');
capture('AppriseConfig', '/api/notifications/apprise', 'notifications');
for my $body ({ enabled => Mojo::JSON::true, server => 'smtp.example.org', port => 587, from => 'p@example.org',
        to => ['o@example.org'], password => 'pw' }) {
    is($ua->put($stack->url('/api/notifications/email') => $auth => json => $body)->result->code, 200, 'PUT email');
}
capture('EmailConfig', '/api/notifications/email', 'notifications');
my $apprise = $ua->put($stack->url('/api/notifications/apprise') => $auth => json => { enabled => Mojo::JSON::true,
    mode => 'http', serverUrl => 'https://apprise.example.org', apiKey => 'k', targets => ['a://b'] })->result;
is($apprise->code, 200, 'PUT apprise');
$wc->check('AppriseConfig', $apprise->json, 'notifications PUT /api/notifications/apprise');
capture('AppriseConfig', '/api/notifications/apprise', 'notifications');
my $hook = $ua->post($stack->url('/api/notifications/webhooks') => $auth => json => { name => 'h',
    url => 'https://198.51.100.10/x', service => 'slack', enabled => Mojo::JSON::true, headers => { A => 'b' },
    customFields => { c => 'd' }, template => '{"text":"{{.Message}}"}' })->result;
is($hook->code, 200, 'POST webhook');
$wc->check('Webhook', $hook->json, 'notifications POST /api/notifications/webhooks');
$ua->post($stack->url('/api/notifications/webhooks') => $auth => json => { name => 'plain', url => 'https://198.51.100.12/' });
capture('[Webhook]', '/api/notifications/webhooks', 'notifications');
capture('[WebhookTemplate]', '/api/notifications/webhook-templates', 'notifications');
capture('[EmailProvider]', '/api/notifications/email-providers', 'notifications');
$stack->psql(q{INSERT INTO pulse.notification_deliveries (notification_id, delivery_key, type, channel_name, target,
    alert_ids, attempt, success, status_code, error, payload_bytes) VALUES
    ('n1', 'k1', 'webhook', 'h', 'https://hooks.example.org/x', '{a1}', 1, true, 200, NULL, 10),
    ('n2', 'k2', 'webhook_resolved', 'h', 'https://hooks.example.org/x', '{a1}', 2, false, 500, 'HTTP 500', 10)});
capture('[WebhookDelivery]', '/api/notifications/webhook-history', 'notifications');
capture('NotificationHealth', '/api/notifications/health', 'notifications');
# The queue: one dead letter (its configuration sealed under another key reads as {}) and the
# statistics over it.
$stack->psql(q{INSERT INTO pulse.notification_queue (id, type, status, alerts, alert_ids, config,
        attempts, last_attempt, last_error, completed_at)
    VALUES ('webhook-1767225600000000000-wc', 'webhook', 'dlq',
        '[{"id":"wc:node1:101-cpu","type":"cpu","level":"warning","resourceId":"wc:node1:101",
           "resourceName":"vm101","node":"node1","instance":"wc","message":"VM cpu at 95.0%",
           "value":95,"threshold":80,"startTime":"2026-01-01T00:00:00Z",
           "lastSeen":"2026-01-01T00:01:00Z","acknowledged":false}]',
        '{wc:node1:101-cpu}', 'enc:v1:AAAA', 3, now(), 'webhook returned HTTP 500: no', now())});
capture('[NotificationDLQEntry]', '/api/notifications/dlq', 'notifications');
capture('NotificationQueueStats', '/api/notifications/queue/stats', 'notifications');

# --- simulators: a cluster "orchard" configured as "orchard-lab", with Ceph and guest agents ---
my $res = $ua->post($stack->url('/api/system/mock-mode') => $auth => json => { enabled => false })->result;
is($res->code, 200, 'mock mode off');
$stack->wait_state(sub { !@{ $_[0]{nodes} } }, 20, 'the mock estate gone');

my $pve = $stack->start_sim(nodes => 3, guests => 16, ceph => 1, cluster => 'orchard',
    token => 'root@pam!wc=wire-contract-token-1');
my $pbs = $stack->start_pbs_sim(name => 'pbs1', token => 'pulse@pbs!mon:wire-contract-pbs', datastores => 2,
    groups => 4, namespaces => 1);
my $pmg = $stack->start_pmg_sim(name => 'pmg1', token => 'pulse@pmg!mon:wire-contract-pmg', nodes => 2);
sub add_node {
    my ($body) = @_;
    my $r = $ua->post($stack->url('/api/config/nodes') => $auth => json => $body)->result;
    is($r->code, 201, "add $body->{type} $body->{name}") or diag $r->body;
}
add_node({ type => 'pve', name => 'orchard-lab', host => $pve->{url}, tokenName => 'root@pam!wc',
    tokenValue => 'wire-contract-token-1', fingerprint => $pve->{fingerprint} });
add_node({ type => 'pbs', name => 'backup1', host => $pbs->{url}, tokenName => 'pulse@pbs!mon',
    tokenValue => 'wire-contract-pbs', fingerprint => $pbs->{fingerprint}, monitorDatastores => true });
add_node({ type => 'pmg', name => 'mail1', host => $pmg->{url}, tokenName => 'pulse@pmg!mon',
    tokenValue => 'wire-contract-pmg', fingerprint => $pmg->{fingerprint} });
# Real recorded answers of PVE 7, 8 and 9, replayed.
for my $version (qw(pve7x pve8x pve9x)) {
    my $rec = $stack->start_sim(name => $version, replay => $version, token => 'root@pam!wc=wire-contract-token-1',
        cluster => "cluster-$version");
    add_node({ type => 'pve', name => "lab-$version", host => $rec->{url}, tokenName => 'root@pam!wc',
        tokenValue => 'wire-contract-token-1', fingerprint => $rec->{fingerprint} });
}
# An instance that never answers: its scheduler entry carries an error and an open breaker.
add_node({ type => 'pve', name => 'gone', host => 'https://127.0.0.1:' . PulseStack::free_port(),
    tokenName => 'root@pam!wc', tokenValue => 'wire-contract-token-1', verifySSL => false });

$st = $stack->wait_state(sub { my $s = $_[0];
    (grep { $_->{instance} eq 'orchard-lab' } @{ $s->{nodes} }) == 3
    && (grep { $_->{instance} =~ /^lab-pve/ } @{ $s->{vms} }) && @{ $s->{cephClusters} } && @{ $s->{replicationJobs} } && @{ $s->{physicalDisks} }
    && (grep { $_->{agentVersion} } @{ $s->{vms} }) && @{ $s->{pbs} } && @{ $s->{pbsBackups} }
    && @{ $s->{pmg} } && @{ $s->{pmgBackups} } && @{ $s->{pveBackups}{storageBackups} } }, 60, 'the simulated estate');
$stack->wait_for(sub {
    my $h = $ua->get($stack->url('/api/monitoring/scheduler/health') => $auth)->result->json;
    grep { $_->{pollStatus}{lastError} } @{ $h->{instances} } }, 30, 'the failing instance recorded', 'worker-1');
$stack->wait_for(sub { $stack->psql(q{SELECT count(DISTINCT ts) FROM pulse.metric_raw r JOIN pulse.metric_series s
    ON s.id / 200 = r.blk WHERE s.resource_id LIKE 'orchard%'}) >= 2 }, 40, 'two samples of the cluster', 'worker-1');
capture_all('simulated', $st);
# /api/storage/{id} adds the ZFS pool behind a storage (the simulator's tank is DEGRADED).
my ($tank) = grep { $_->{name} eq 'tank' } @{ $st->{storage} };
ok($tank, 'a ZFS storage') or diag explain [map { $_->{id} } @{ $st->{storage} }];
my $detail = capture('StorageDetail', "/api/storage/$tank->{id}", 'simulated', { data => [qw(data timestamp)] });
ok($detail->{zfsPool} && @{ $detail->{zfsPool}{devices} }, 'with its pool and devices');

# --- host agents: a report as the original's agent sends it (agents.md §3.1), its answer
# (with a server-side commandsEnabled override, the config member), the host in the state
# and the lookup answer ---
{
    my $report = Mojo::JSON::decode_json(q({"agent":{"id":"wc-agent","version":"5.0.4","type":"unified","intervalSeconds":30},
        "host":{"id":"wc-host","hostname":"wc-host.example.org","platform":"debian","osName":"debian","osVersion":"12","kernelVersion":"6.1.0","architecture":"x86_64","cpuCount":4,"uptimeSeconds":3600,"loadAverage":[0.1,0.2,0.3],"reportIp":"192.0.2.7"},
        "metrics":{"cpuUsagePercent":12.5,"memory":{"totalBytes":8000000000,"usedBytes":2000000000,"freeBytes":6000000000,"usage":25,"swapTotalBytes":1000,"swapUsedBytes":10}},
        "disks":[{"device":"/dev/vda1","mountpoint":"/","filesystem":"ext4","type":"ext4","totalBytes":1000,"usedBytes":500,"freeBytes":500,"usage":50}],
        "diskIO":[{"device":"vda","readBytes":1,"writeBytes":2,"readOps":3,"writeOps":4,"readTimeMs":5,"writeTimeMs":6,"ioTimeMs":7}],
        "network":[{"name":"eth0","mac":"52:54:00:00:00:01","addresses":["192.0.2.7/24","fe80::1/64"],"rxBytes":10,"txBytes":20,"speedMbps":1000}],
        "sensors":{"temperatureCelsius":{"cpu_package":50.5},"fanRpm":{"it8728_fan1":1200},"additional":{"acpitz":40},"powerWatts":{"cpu_package":12},
          "smart":[{"device":"sda","model":"M","serial":"S","wwn":"5-0-1","type":"sata","temperature":30,"health":"PASSED","standby":false}]},
        "raid":[{"device":"/dev/md0","level":"raid1","state":"clean","totalDevices":2,"activeDevices":2,"workingDevices":2,"failedDevices":0,"spareDevices":0,"devices":[{"device":"sda1","state":"active sync","slot":0}],"rebuildPercent":0}],
        "tags":["lab"],"timestamp":"2026-01-12T10:15:30.123456789Z"}));
    my $post = sub { $ua->post($stack->url('/api/agents/host/report') => $auth => json => $report)->result };
    my $r = $post->();
    is($r->code, 200, 'host agents: report stored') or diag $r->body;
    $wc->check('HostReportResponse', $r->json, 'host agents: report answer');
    $stack->psql(q{UPDATE pulse.agent_hosts SET commands_enabled = true WHERE id = 'wc-host'});
    $r = $post->();
    ok($r->json->{config}, 'host agents: config with an override');
    $wc->check('HostReportResponse', $r->json, 'host agents: report answer with config');
    my $state = capture('State', '/api/state', 'host agents');
    is(scalar @{ $state->{hosts} }, 1, 'host agents: one host in the state');
    capture('HostLookupResponse', '/api/agents/host/lookup?id=wc-host', 'host agents');
}

# --- Kubernetes agents: a report as the original's agent sends it (agents.md §5.1), its
# answer, the cluster (nodes, pods, containers, deployments) in the state, and a removed
# cluster ---
{
    my $report = Mojo::JSON::decode_json(q({"agent":{"id":"wc-kube-agent","version":"5.0.4","type":"unified","intervalSeconds":30},
        "cluster":{"id":"wc-kube","name":"prod","server":"https://10.0.0.1:6443","context":"prod","version":"v1.30.2"},
        "nodes":[{"uid":"n-1","name":"node-1","ready":true,"unschedulable":true,"kubeletVersion":"v1.30.2","containerRuntimeVersion":"containerd://1.7.0","osImage":"Ubuntu 24.04","kernelVersion":"6.8.0","architecture":"amd64",
          "capacity":{"cpuCores":4,"memoryBytes":8000000000,"pods":110},"allocatable":{"cpuCores":3,"memoryBytes":7000000000,"pods":100},"roles":["control-plane"]}],
        "pods":[{"uid":"p-1","name":"web-1","namespace":"default","nodeName":"node-1","phase":"Pending","reason":"Unschedulable","message":"0/1 nodes","qosClass":"BestEffort",
          "createdAt":"2026-01-12T10:00:00Z","startTime":"2026-01-12T10:00:01Z","restarts":3,"labels":{"app":"web"},"ownerKind":"ReplicaSet","ownerName":"web-5d",
          "containers":[{"name":"web","image":"nginx:1.27","ready":false,"restartCount":3,"state":"waiting","reason":"CrashLoopBackOff","message":"back-off"}]}],
        "deployments":[{"uid":"d-1","name":"web","namespace":"default","desiredReplicas":3,"updatedReplicas":2,"readyReplicas":1,"availableReplicas":1,"labels":{"app":"web"}}],
        "timestamp":"2026-01-12T10:15:30Z"}));
    # One token per cluster (the original binds a token to one agent; removal revokes it).
    my $token = sub {
        $ua->post($stack->url('/api/security/tokens') => $auth => json => { name => $_[0], scopes => ['kubernetes:report'] })
            ->result->json->{token};
    };
    my $post = sub { $ua->post($stack->url('/api/agents/kubernetes/report') => $stack->token_headers($_[0]) => json => $report)->result };
    my $r = $post->($token->('wc-kube'));
    is($r->code, 200, 'kubernetes agents: report stored') or diag $r->body;
    $wc->check('KubernetesReportResponse', $r->json, 'kubernetes agents: report answer');
    $report->{cluster}{id} = 'wc-kube-gone';
    $report->{agent}{id} = 'wc-kube-gone';
    is($post->($token->('wc-kube-gone'))->code, 200, 'kubernetes agents: a second cluster');
    $r = $ua->delete($stack->url('/api/agents/kubernetes/clusters/wc-kube-gone') => $auth)->result;
    is($r->code, 200, 'kubernetes agents: a cluster removed') or diag $r->body;
    my $state = capture('State', '/api/state', 'kubernetes agents');
    is(scalar @{ $state->{kubernetesClusters} }, 1, 'kubernetes agents: one cluster in the state');
    is(scalar @{ $state->{removedKubernetesClusters} }, 1, 'kubernetes agents: one removed cluster in the state');
}

# --- Docker agents: a report with every member of a container (agents.md §4.1), its answer
# carrying a queued command, the host in the state with its command and containers, and a
# removed host in removedDockerHosts ---
{
    my $report = Mojo::JSON::decode_json(q({"agent":{"id":"wc-docker","version":"5.0.4","type":"unified","intervalSeconds":30},
        "host":{"hostname":"wc-docker","name":"wc-daemon","machineId":"m-1","os":"Debian","runtime":"docker","runtimeVersion":"26.1","dockerVersion":"26.1",
          "kernelVersion":"6.1.0","architecture":"x86_64","totalCpu":4,"totalMemoryBytes":8000,"uptimeSeconds":60,"cpuUsagePercent":5.5,"loadAverage":[0.1,0.2,0.3],
          "memory":{"totalBytes":8000,"usedBytes":2000,"freeBytes":6000,"usage":25,"swapTotalBytes":10,"swapUsedBytes":1},
          "disks":[{"device":"/dev/vda1","mountpoint":"/","type":"ext4","totalBytes":1000,"usedBytes":500,"freeBytes":500,"usage":50}],
          "network":[{"name":"eth0","mac":"52:54:00:00:00:03","addresses":["192.0.2.9/24"],"rxBytes":1,"txBytes":2,"speedMbps":1000}],
          "swarm":{"nodeId":"n","nodeRole":"manager","localState":"active","controlAvailable":true,"clusterId":"c","clusterName":"s","scope":"cluster","error":"e"}},
        "containers":[{"id":"c1","name":"web","image":"nginx","createdAt":"2026-01-12T10:00:00Z","state":"running","status":"Up","health":"healthy",
          "cpuPercent":1.5,"memoryUsageBytes":10,"memoryLimitBytes":100,"memoryPercent":10,"uptimeSeconds":60,"restartCount":0,"exitCode":0,
          "startedAt":"2026-01-12T10:00:01Z","finishedAt":"2026-01-12T09:00:00Z","ports":[{"privatePort":80,"publicPort":8080,"protocol":"tcp","ip":"0.0.0.0"}],
          "labels":{"a":"b"},"networks":[{"name":"bridge","ipv4":"172.17.0.2","ipv6":"fe80::2"}],"writableLayerBytes":5,"rootFilesystemBytes":50,
          "blockIo":{"readBytes":1,"writeBytes":2},"mounts":[{"type":"bind","source":"/a","destination":"/b","mode":"rw","rw":true,"propagation":"rprivate","name":"n","driver":"local"}],
          "podman":{"podName":"p","podId":"pi","infra":true,"composeProject":"cp","composeService":"cs","composeWorkdir":"cw","composeConfigHash":"ch",
            "autoUpdatePolicy":"registry","autoUpdateRestart":"true","userNamespace":"keep-id"},
          "updateStatus":{"updateAvailable":true,"currentDigest":"sha256:a","latestDigest":"sha256:b","lastChecked":"2026-01-12T10:00:00Z","error":"rate limited"}}],
        "services":[{"id":"s","name":"svc","stack":"st","image":"nginx","mode":"replicated","desiredTasks":1,"runningTasks":1,"completedTasks":0,"labels":{"a":"b"},
          "endpointPorts":[{"name":"http","protocol":"tcp","targetPort":80,"publishedPort":8080,"publishMode":"ingress"}],
          "updateStatus":{"state":"completed","message":"done","completedAt":"2026-01-12T10:00:00Z"},"createdAt":"2026-01-12T09:00:00Z","updatedAt":"2026-01-12T10:00:00Z"}],
        "tasks":[{"id":"t","serviceId":"s","serviceName":"svc","slot":1,"nodeId":"n","nodeName":"wc-docker","desiredState":"running","currentState":"running",
          "error":"e","message":"m","containerId":"c1","containerName":"web","createdAt":"2026-01-12T09:00:00Z","updatedAt":"2026-01-12T10:00:00Z",
          "startedAt":"2026-01-12T09:00:01Z","completedAt":"2026-01-12T09:30:00Z"}],
        "timestamp":"2026-01-12T10:15:30Z"}));
    my $post = sub { $ua->post($stack->url('/api/agents/docker/report') => $auth => json => $report)->result };
    my $r = $post->();
    is($r->code, 200, 'Docker agents: report stored') or diag $r->body;
    $r = $ua->post($stack->url('/api/agents/docker/containers/update') => $auth
        => json => { hostId => 'wc-docker', containerId => 'c1', containerName => 'web' })->result;
    is($r->code, 200, 'Docker agents: a container update queued') or diag $r->body;
    $r = $post->();
    ok($r->json->{commands}, 'Docker agents: the answer carries the command');
    $wc->check('DockerReportResponse', $r->json, 'Docker agents: report answer with a command');
    $report->{agent}{id} = $report->{host}{hostname} = $report->{host}{machineId} = 'wc-gone';
    my $token = $ua->post($stack->url('/api/security/tokens') => $auth
        => json => { name => 'wc-docker-2', scopes => ['docker:report'] })->result->json->{token};
    $r = $ua->post($stack->url('/api/agents/docker/report') => { 'X-API-Token' => $token } => json => $report)->result;
    is($r->code, 200, 'Docker agents: a second host, with a token of its own (one token, one agent)');
    $r = $ua->delete($stack->url('/api/agents/docker/hosts/wc-gone?force=true') => $auth)->result;
    is($r->code, 200, 'Docker agents: the second host removed');
    my $state = capture('State', '/api/state', 'Docker agents');
    is(scalar @{ $state->{dockerHosts} }, 1, 'Docker agents: one Docker host in the state');
    ok($state->{dockerHosts}[0]{command}, 'Docker agents: with its command');
    is(scalar @{ $state->{removedDockerHosts} }, 1, 'Docker agents: one removed host');
}

# --- after an update check: /api/health also says what it found (Health.latestVersion) ---
{
    $stack->psql(q{INSERT INTO pulse.update_checks (channel, result) SELECT c, '{"available":true,
        "latestVersion":"v90.2.0"}'::jsonb FROM unnest(ARRAY['stable', 'rc']) c
        ON CONFLICT (channel) DO UPDATE SET result = EXCLUDED.result, checked_at = now()});
    $stack->wait_for(sub { ($ua->get($stack->url('/api/health'))->result->json->{latestVersion} // '') eq 'v90.2.0' },
        20, 'the cached update check in /api/health');
    capture('Health', '/api/health', 'after an update check');
}

# --- what the contract test found ---
my @problems = $wc->problems;
is(scalar @problems, 0, 'no difference from the contract outside the allowlist')
    or diag join "\n", @problems[0 .. ($#problems < 80 ? $#problems : 79)];
is_deeply([$wc->unused_allowances], [], 'every allowlist entry is still needed');
diag 'fields the original writes that no answer here carried: ' . join(' ', $wc->never_present)
    if $ENV{WIRE_CONTRACT_VERBOSE};

# Every kind of the contract is either checked or listed as not served, with a reason.
my %not_served = map { $_->{kind} => $_->{reason} } @{ $wc->allowlist->{kinds_not_served} };
for my $kind ($wc->kinds) {
    if ($not_served{$kind}) {
        is($wc->seen($kind), 0, "$kind: not served (allowlisted), none seen");
    } else {
        ok($wc->seen($kind) > 0, "$kind: " . $wc->seen($kind) . ' objects checked');
    }
}
ok($wc->kind_fields($_), "not-served kind $_ is in the contract") for sort keys %not_served;

# The allowlist is mirrored in docs/COMPATIBILITY.md.
my $doc = path(PulseStack::srcdir(), 'docs/COMPATIBILITY.md')->slurp;
my ($section) = $doc =~ /^## Wire contract: allowed differences\n(.*?)(?=^## |\z)/ms;
ok($section, 'docs/COMPATIBILITY.md has the allowlist section') or $section = '';
# Rows name fields (`Kind.field`) or kinds (`Kind`, several to a row) in their first cell.
my %rows;
for my $cell ($section =~ /^\| ([^|\n]*?) \|/mg) {
    $rows{$_}++ for $cell =~ /`([\w.]+)`/g;
}
for my $a (@{ $wc->allowlist->{fields} }) {
    ok(delete $rows{"$a->{kind}.$a->{field}"}, "COMPATIBILITY lists $a->{kind}.$a->{field}");
}
ok(delete $rows{$_}, "COMPATIBILITY lists the kind $_ as not served") for sort keys %not_served;
is_deeply([sort keys %rows], [], 'and nothing that is not in the allowlist');

done_testing;
