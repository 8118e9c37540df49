#!/usr/bin/perl
# 66-agent-docker.t: Docker agents' reports through the real stack (agents.md §4, §12): a
# report in the shape §4.1 describes stored and answered, the host and its containers in
# /api/state field by field and against the wire contract, the decoder's type errors, bounded
# arrays, the body limit, auth and scope, identity (matching rules, "::" suffixes) and one
# token per agent, block I/O rates, commands queued, delivered in a report's answer, acked
# (the agent id accepted) and expired, the management routes with unknown ids, removal with
# its 24-hour block (the removed host's next report refused) and re-enrolment, alerts raised by
# the worker from a container over a threshold, a host going offline after silence, and the
# containers' metrics history; end to end, our pulse-agent in Docker mode against the fake
# Docker Engine (t/fakes/docker-engine.pl) reporting to the stack, a command acknowledged.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false encode_json decode_json);
use Test::More;
use PulseStack;
use PulseTest;
use WireContract;
use AgentHarness qw(agent_token agent_headers spawn stop);
use File::Temp qw(tempdir);
use JSON::PP ();

my $stack = PulseStack->new(settings => { metrics_flush_interval => 1 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $wc = WireContract->new;

my ($rep, $rep2, $rep3) = map { agent_token($stack, "docker-$_", 'docker:report') } qw(a b c);
my $reader = agent_token($stack, 'reader', 'monitoring:read');
my $manager = agent_token($stack, 'manager', 'docker:manage');

# A report as agents.md §4.1 describes it (every member of the host and of a container).
my $example = decode_json(<<'JSON');
{"agent":{"id":"7d1c2b3a-aaaa-4bbb-8ccc-0123456789ab","version":"5.0.4","type":"unified","intervalSeconds":30},
 "host":{"hostname":"docker01","name":"docker01-daemon","machineId":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0","os":"Debian GNU/Linux 12 (bookworm)",
   "runtime":"auto","dockerVersion":"26.1.4","kernelVersion":"6.1.0-18-amd64","architecture":"x86_64","totalCpu":4,"totalMemoryBytes":8000000000,
   "uptimeSeconds":7200,"cpuUsagePercent":12.5,"loadAverage":[0.5,0.4,0.3],
   "memory":{"totalBytes":8000000000,"usedBytes":2000000000,"freeBytes":6000000000,"usage":25,"swapTotalBytes":1000,"swapUsedBytes":10},
   "disks":[{"device":"/dev/vda1","mountpoint":"/","filesystem":"ext4","type":"ext4","totalBytes":1000,"usedBytes":400,"freeBytes":600,"usage":40},
            {"device":"overlay","mountpoint":"/var/lib/docker/overlay2/x/merged","type":"overlay","totalBytes":10,"usedBytes":5,"freeBytes":5,"usage":50}],
   "network":[{"name":"eth0","mac":"52:54:00:00:00:02","addresses":["192.0.2.8/24"],"rxBytes":100,"txBytes":200}],
   "swarm":{"nodeId":"n1","nodeRole":"manager","localState":"active","controlAvailable":true,"clusterId":"c1","clusterName":"prod","scope":"cluster"}},
 "containers":[
  {"id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","name":"web","image":"nginx:1.27","imageDigest":"sha256:abc",
   "createdAt":"2026-01-10T08:00:00Z","state":"running","status":"Up 2 hours","health":"healthy","cpuPercent":3.5,
   "memoryUsageBytes":50000000,"memoryLimitBytes":1000000000,"memoryPercent":5,"uptimeSeconds":7200,"restartCount":1,"exitCode":0,
   "startedAt":"2026-01-12T08:15:30Z","ports":[{"privatePort":80,"publicPort":8080,"protocol":"tcp","ip":"0.0.0.0"}],
   "labels":{"com.docker.compose.project":"site"},"env":["PASSWORD=***"],"networks":[{"name":"bridge","ipv4":"172.17.0.2"}],
   "blockIo":{"readBytes":1000,"writeBytes":2000},
   "mounts":[{"type":"volume","source":"/var/lib/docker/volumes/v/_data","destination":"/data","mode":"z","rw":true,"propagation":"","name":"v","driver":"local"}],
   "podman":{"podName":"p","infra":false},
   "updateStatus":{"updateAvailable":true,"currentDigest":"sha256:abc","latestDigest":"sha256:def","lastChecked":"2026-01-12T10:00:00Z"}},
  {"id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","name":"job","image":"busybox","createdAt":"2026-01-11T08:00:00Z",
   "state":"exited","status":"Exited (1) 3 hours ago","cpuPercent":0,"memoryUsageBytes":0,"memoryLimitBytes":0,"memoryPercent":0,
   "uptimeSeconds":0,"restartCount":0,"exitCode":1,"finishedAt":"2026-01-12T07:15:30Z"}],
 "services":[{"id":"s1","name":"site_web","stack":"site","image":"nginx:1.27","mode":"replicated","desiredTasks":2,"runningTasks":2,
   "labels":{"a":"b"},"endpointPorts":[{"protocol":"tcp","targetPort":80,"publishedPort":8080,"publishMode":"ingress"}],
   "updateStatus":{"state":"completed","completedAt":"2026-01-12T09:00:00Z"},"createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-02T00:00:00Z"}],
 "tasks":[{"id":"t1","serviceId":"s1","serviceName":"site_web","slot":1,"nodeId":"n1","nodeName":"docker01","desiredState":"running",
   "currentState":"running","containerId":"aaaa","containerName":"web","createdAt":"2026-01-12T08:00:00Z","startedAt":"2026-01-12T08:15:30Z"}],
 "timestamp":"2026-01-12T10:15:30Z"}
JSON

sub report {
    my ($body, $headers) = @_;
    my $tx = $ua->build_tx(POST => $stack->url('/api/agents/docker/report') => { %{ $headers // agent_headers($rep) },
        'Content-Type' => 'application/json' } => ref $body ? encode_json($body) : $body);
    return $ua->start($tx)->result;
}
sub clone { decode_json(encode_json($_[0])) }
sub state { $ua->get($stack->url('/api/state') => $auth)->result->json }
sub docker_host { my $id = shift; my ($h) = grep { $_->{id} eq $id } @{ state()->{dockerHosts} }; $h }

# --- the example report -------------------------------------------------------------------
is_deeply(state()->{dockerHosts}, [], 'no Docker hosts: an empty array');
is_deeply(state()->{removedDockerHosts}, [], 'no removed Docker hosts: an empty array');
my $res = report($example);
is($res->code, 200, 'example report stored') or diag $res->body;
my $ans = $res->json;
is_deeply($ans, { success => true, hostId => '7d1c2b3a-aaaa-4bbb-8ccc-0123456789ab', containers => 2,
    lastSeen => '2026-01-12T10:15:30Z' }, 'answer: id the agent id, two containers, lastSeen the report time, no commands');
$wc->check('DockerReportResponse', $ans, 'report answer');
my $id = $ans->{hostId};

my $h = docker_host($id);
ok($h, 'the host is in /api/state') or BAIL_OUT('no Docker host stored');
is($h->{$_->[0]}, $_->[1], "state: $_->[0]") for ['agentId', $id], ['hostname', 'docker01'],
    ['displayName', 'docker01-daemon'], ['machineId', '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'],
    ['os', 'Debian GNU/Linux 12 (bookworm)'], ['kernelVersion', '6.1.0-18-amd64'], ['architecture', 'x86_64'],
    ['runtime', 'docker'], ['runtimeVersion', '26.1.4'], ['dockerVersion', '26.1.4'], ['cpus', 4],
    ['totalMemoryBytes', 8000000000], ['uptimeSeconds', 7200], ['cpuUsagePercent', 12.5], ['status', 'online'],
    ['lastSeen', 1768212930000], ['intervalSeconds', 30], ['agentVersion', 'v5.0.4'], ['tokenId', $rep->{id}],
    ['tokenName', 'docker-a'];
is($h->{pendingUninstall}, false, 'state: pendingUninstall false');
is_deeply($h->{loadAverage}, [0.5, 0.4, 0.3], 'state: loadAverage');
is_deeply($h->{memory}, { total => 8000000000, used => 2000000000, free => 6000000000, usage => 25, swapTotal => 1000, swapUsed => 10 },
    'state: memory');
is(scalar @{ $h->{disks} }, 2, 'state: disks not filtered (agents.md §4.1)');
is_deeply($h->{networkInterfaces}, $example->{host}{network}, 'state: networkInterfaces');
is_deeply($h->{swarm}, $example->{host}{swarm}, 'state: swarm');
like($h->{tokenHint} // '', qr/^\w+…\w+$/, 'state: tokenHint');
ok(!exists $h->{$_}, "state: $_ left out") for qw(command customDisplayName hidden isLegacy);
is(scalar @{ $h->{containers} }, 2, 'state: two containers, in the report order');
my ($web, $job) = @{ $h->{containers} };
is_deeply($web, { id => 'a' x 64, name => 'web', image => 'nginx:1.27', state => 'running', status => 'Up 2 hours',
    health => 'healthy', cpuPercent => 3.5, memoryUsageBytes => 50000000, memoryLimitBytes => 1000000000, memoryPercent => 5,
    uptimeSeconds => 7200, restartCount => 1, exitCode => 0, createdAt => 1768032000000, startedAt => 1768205730000,
    ports => [{ privatePort => 80, publicPort => 8080, protocol => 'tcp', ip => '0.0.0.0' }],
    labels => { 'com.docker.compose.project' => 'site' }, networks => [{ name => 'bridge', ipv4 => '172.17.0.2' }],
    blockIo => { readBytes => 1000, writeBytes => 2000 },
    mounts => [{ type => 'volume', source => '/var/lib/docker/volumes/v/_data', destination => '/data', mode => 'z', rw => true,
        name => 'v', driver => 'local' }],
    podman => { podName => 'p' },
    updateStatus => { updateAvailable => true, currentDigest => 'sha256:abc', latestDigest => 'sha256:def', lastChecked => 1768212000000 } },
    'state: the first container field by field (env and imageDigest not kept, no rate without a previous sample)');
is($job->{finishedAt}, 1768202130000, 'state: finishedAt in epoch ms');
ok(!exists $job->{$_}, "state: the exited container has no $_") for qw(startedAt health blockIo ports);
is_deeply($h->{services}, [{ id => 's1', name => 'site_web', stack => 'site', image => 'nginx:1.27', mode => 'replicated',
    desiredTasks => 2, runningTasks => 2, labels => { a => 'b' },
    endpointPorts => [{ protocol => 'tcp', targetPort => 80, publishedPort => 8080, publishMode => 'ingress' }],
    updateStatus => { state => 'completed', completedAt => 1768208400000 }, createdAt => 1767225600000, updatedAt => 1767312000000 }],
    'state: services');
is_deeply($h->{tasks}, [{ id => 't1', serviceId => 's1', serviceName => 'site_web', slot => 1, nodeId => 'n1', nodeName => 'docker01',
    desiredState => 'running', currentState => 'running', containerId => 'aaaa', containerName => 'web',
    createdAt => 1768204800000, startedAt => 1768205730000 }], 'state: tasks');
$wc->check('DockerHost', $h, 'state Docker host');
is($stack->psql(q{SELECT count(*) FROM pulse.docker_hosts WHERE report::text LIKE '%PASSWORD%'}), 0,
    "containers' environments are not stored");

# Block I/O rates from the previous report, over the reports' timestamps.
my $next = clone($example);
$next->{timestamp} = '2026-01-12T10:15:40Z';
$next->{containers}[0]{blockIo} = { readBytes => 11000, writeBytes => 2000 };
is(report($next)->code, 200, 'a second report ten seconds later');
($web) = @{ docker_host($id)->{containers} };
is_deeply($web->{blockIo}, { readBytes => 11000, writeBytes => 2000, readRateBytesPerSecond => 1000, writeRateBytesPerSecond => 0 },
    'block I/O rates from the counters');
is(docker_host($id)->{lastSeen}, 1768212940000, 'lastSeen moved');

# A minimal report: defaults, runtime normalised, no timestamp.
my $min = { agent => { id => 'min-agent', version => 'V2.0' }, host => { hostname => ' tiny ', runtime => 'Podman', runtimeVersion => '5.0' },
    containers => undef };
$res = report($min, agent_headers($rep2));
is($res->code, 200, 'a minimal report') or diag $res->body;
is($res->json->{containers}, 0, 'no containers');
like($res->json->{lastSeen}, qr/^\d{4}-\d\d-\d\dT[\d:.]+Z$/, 'no timestamp: the server time');
$h = docker_host('min-agent');
is_deeply([@$h{qw(hostname displayName runtime runtimeVersion dockerVersion agentVersion cpus)}],
    ['tiny', 'tiny', 'podman', '5.0', '5.0', 'v2.0', 0], 'defaults: displayName the hostname, versions filled from each other');
is_deeply($h->{containers}, [], 'containers: an empty array');
$wc->check('DockerHost', $h, 'minimal Docker host');

# --- what the decoder refuses --------------------------------------------------------------
for my $case (
    ['{"host":', 'malformed JSON'],
    ['"text"', 'a string'],
    [sub { $_[0]{host}{totalCpu} = '4' }, 'totalCpu as a string'],
    [sub { $_[0]{host}{hostname} = 7 }, 'hostname as a number'],
    [sub { $_[0]{containers} = {} }, 'containers as an object'],
    [sub { $_[0]{containers}[0]{cpuPercent} = 'high' }, 'cpuPercent as text'],
    [sub { $_[0]{containers}[0]{restartCount} = 1.5 }, 'restartCount with a fraction'],
    [sub { $_[0]{containers}[0]{createdAt} = '' }, 'an empty createdAt'],
    [sub { $_[0]{containers}[0]{labels}{x} = 1 }, 'a label as a number'],
    [sub { $_[0]{containers}[0]{blockIo}{readBytes} = -1 }, 'a negative counter'],
    [sub { $_[0]{containers}[0]{mounts}[0]{rw} = 'yes' }, 'rw as text'],
    [sub { $_[0]{services}[0]{desiredTasks} = 'two' }, 'desiredTasks as text'],
    [sub { $_[0]{tasks}[0]{slot} = [] }, 'slot as an array'],
    [sub { $_[0]{host}{swarm} = 'manager' }, 'swarm as text'],
    [sub { $_[0]{timestamp} = 'now' }, 'a timestamp that is not RFC 3339'],
) {
    my ($change, $name) = @$case;
    my $body = $change;
    if (ref $change) { $body = clone($example); $change->($body) }
    my $err = json_error_ok(report($body), 400, 'invalid_json', $name);
    ok(length($err->{details}{error} // ''), "$name: the decoder's message in details.error") if ref $change;
}
my $nohost = clone($example);
$nohost->{host}{hostname} = '  ';
my $e = json_error_ok(report($nohost), 400, 'invalid_report', 'blank hostname');
is($e->{error}, 'docker report missing hostname', 'the original text');
my $nulls = clone($example);
$nulls->{$_} = undef for qw(services tasks timestamp);
$nulls->{containers}[0]{$_} = undef for qw(ports labels mounts blockIo updateStatus startedAt);
$nulls->{somethingNew} = { x => [1] };
is(report($nulls)->code, 200, 'null members and unknown fields are accepted');

# Bounded: the original's 512 KiB body limit; containers cut at 4,096.
my $big = clone($example);
$big->{containers} = [map { { id => "c$_", name => "n$_", state => 'running' } } 1 .. 5000];
ok(length(encode_json($big)) < 512 * 1024, 'a body of 5,000 containers fits the limit');
$res = report($big);
is($res->code, 200, 'huge arrays accepted') or diag $res->body;
is($res->json->{containers}, 4096, 'containers cut to 4,096');
$big->{containers} = [map { { id => "c$_", name => "container-name-$_", image => 'registry.example.org/x:1', state => 'running' } } 1 .. 9000];
json_error_ok(report($big), 413, 'payload_too_large', 'a body over 512 KiB');
is(report($example)->code, 200, 'the example again');

# --- auth and scope ------------------------------------------------------------------------
json_error_ok(report($example, {}), 401, 'unauthorized', 'no credentials');
$e = json_error_ok(report($example, agent_headers($reader)), 403, 'missing_scope', 'token without docker:report');
is($e->{requiredScope}, 'docker:report', 'requiredScope named');

# --- identity: matching, suffixes, one token per agent -------------------------------------
my $other_agent = clone($example);
$other_agent->{agent}{id} = 'another-agent';
$e = json_error_ok(report($other_agent), 400, 'invalid_report', 'a second agent on the same token');
like($e->{error}, qr/^API token \(\w+…\w+\) is already in use by agent "\Q$id\E" \(host: docker01-daemon\)\. Each Docker agent must use a unique API token/,
    'the original text names the bound agent and its host');
$res = report($example, agent_headers($rep3));
is($res->code, 200, 'the same agent id with another token') or diag $res->body;
is($res->json->{hostId}, "$id\::token-" . lc($rep3->{id} =~ s/[^0-9a-zA-Z]+/-/gr), 'the id taken: "::token-<token id>"');
my $suffixed = $res->json->{hostId};
is(report($example, agent_headers($rep3))->json->{hostId}, $suffixed, 'the suffixed host is matched again');
my $renamed = clone($example);
$renamed->{agent}{id} = $id;
$renamed->{host}{hostname} = 'docker01-renamed';
is(report($renamed)->json->{hostId}, $id, 'a new hostname: matched by agent id and token');
my $anon = { agent => { id => '' }, host => { hostname => 'anon-host', machineId => 'mid-1' }, containers => [] };
$res = report($anon, $auth);
is($res->json->{hostId}, 'mid-1', 'no agent id: the machine id') or diag $res->body;

is_deeply([map { $_->{id} } grep { $_->{id} ne 'mid-1' } @{ state()->{dockerHosts} }], [$suffixed, $id, 'min-agent'],
    'hosts sorted by hostname');
$wc->check('DockerHost', $_, 'state Docker host') for @{ state()->{dockerHosts} };

# --- commands (agents.md §4.4-§4.6) ----------------------------------------------------------
sub manage { my ($method, $path, $body, $headers) = @_;
    my $tx = $ua->build_tx($method => $stack->url($path) => { %{ $headers // agent_headers($manager) } } => $body ? (json => $body) : ());
    $ua->start($tx)->result }
sub ack { my ($cmd, $body, $headers) = @_;
    $ua->post($stack->url("/api/agents/docker/commands/$cmd/ack") => { %{ $headers // agent_headers($rep) } } => json => $body)->result }

$res = manage(POST => '/api/agents/docker/containers/update', { hostId => $id, containerId => 'a' x 64, containerName => 'web' });
is($res->code, 200, 'a container update queued') or diag $res->body;
my $upd = $res->json;
like($upd->{commandId}, qr/^[0-9a-f-]{36}:a{64}$/, 'the command id: a UUID and the container id');
is_deeply([@$upd{qw(success hostId)}, $upd->{container}], [true, $id, { id => 'a' x 64, name => 'web' }], 'the answer names host and container');
ok($upd->{message} && $upd->{note}, 'message and note');
json_error_ok(manage(POST => '/api/agents/docker/containers/update', { hostId => $id, containerId => 'x' }), 409,
    'docker_command_in_progress', 'a second command while one is queued');
json_error_ok(manage(POST => '/api/agents/docker/containers/update', { containerId => 'x' }), 400, 'missing_host_id', 'update without hostId');
json_error_ok(manage(POST => '/api/agents/docker/containers/update', { hostId => $id }), 400, 'missing_container_id', 'update without containerId');
json_error_ok(manage(POST => '/api/agents/docker/containers/update', { hostId => 'nope', containerId => 'x' }), 404,
    'docker_host_not_found', 'update on an unknown host');
is(docker_host($id)->{command}{status}, 'queued', 'state: the command queued');
$wc->check('DockerHostCommand', docker_host($id)->{command}, 'queued command');

$res = report($example);
is_deeply($res->json->{commands}, [{ id => $upd->{commandId}, type => 'update_container',
    payload => { containerId => 'a' x 64, containerName => 'web' } }], 'the report answer carries the command and its payload');
$wc->check('DockerReportResponse', $res->json, 'report answer with a command');
my $cmd = docker_host($id)->{command};
is($cmd->{status}, 'dispatched', 'state: dispatched');
like($cmd->{dispatchedAt} // '', qr/^\d{13}$/, 'dispatchedAt in epoch ms');
is($cmd->{message}, 'Updating container web', 'the original message');
is($cmd->{expiresAt} - $cmd->{createdAt}, 600000, 'expires ten minutes after creation');
is(scalar @{ report($example)->json->{commands} // [] }, 1, 'sent again until acknowledged');

json_error_ok(ack($upd->{commandId}, { hostId => $id, status => 'maybe' }), 400, 'invalid_status', 'an unknown status');
json_error_ok(ack('no-such-command', { hostId => $id, status => 'ack' }), 400, 'docker_command_ack_failed', 'an unknown command');
json_error_ok(ack($upd->{commandId}, { hostId => 'min-agent', status => 'ack' }), 400, 'docker_command_ack_failed', 'another host');
json_error_ok(ack($upd->{commandId}, { hostId => 5 }), 400, 'invalid_field', 'hostId as a number');
json_error_ok(ack($upd->{commandId}, '[1]'), 400, 'invalid_json', 'a body that is not an object');
$res = ack($upd->{commandId}, { hostId => $id, status => 'IN_PROGRESS', message => 'pulling' });
is($res->code, 200, 'ack in progress') or diag $res->body;
is_deeply([@{ $res->json }{qw(success hostId)}, $res->json->{command}{status}, $res->json->{command}{message}],
    [true, $id, 'in_progress', 'pulling'], 'the answer: the command in progress');
ok(!exists report($example)->json->{commands}, 'an acknowledged command is not sent again');
$res = ack($upd->{commandId}, { hostId => $id, status => 'success' });
is($res->json->{command}{status}, 'completed', 'completed');
ok($res->json->{command}{completedAt} && $res->json->{command}{acknowledgedAt}, 'completedAt and acknowledgedAt');
$wc->check('DockerHostCommand', $res->json->{command}, 'completed command');
json_error_ok(ack($upd->{commandId}, { hostId => $id, status => 'ack' }), 400, 'docker_command_ack_failed', 'a command that has ended');
ok(!exists report($example)->json->{commands}, 'a completed command is not sent again (QUIRK 5)');

# check-updates on the host whose id has a "::" suffix, acknowledged with the agent's own id (QUIRK 6).
$res = manage(POST => "/api/agents/docker/hosts/$suffixed/check-updates");
is($res->code, 200, 'check-updates queued') or diag $res->body;
is($res->json->{hostId}, $suffixed, 'on the suffixed host');
$res = report($example, agent_headers($rep3));
is($res->json->{commands}[0]{type}, 'check_updates', 'delivered');
ok(!exists $res->json->{commands}[0]{payload}, 'without a payload');
$res = ack($res->json->{commands}[0]{id}, { hostId => $id, status => 'failed', message => 'registry down' }, agent_headers($rep3));
is($res->code, 200, "the agent's id for a \"::\" host is accepted") or diag $res->body;
is_deeply([@{ $res->json->{command} }{qw(status failureReason)}], ['failed', 'registry down'], 'failed, with its reason');
ok($res->json->{command}{failedAt}, 'failedAt');

# Expiry: a command older than its ten minutes is marked expired, not sent.
is(manage(POST => '/api/agents/docker/hosts/min-agent/check-updates')->code, 200, 'a command for the minimal host');
$stack->psql(q{UPDATE pulse.docker_commands SET expires_at = now() - interval '1 second' WHERE host_id = 'min-agent'});
ok(!exists report($min, agent_headers($rep2))->json->{commands}, 'an expired command is not sent');
$cmd = docker_host('min-agent')->{command};
is_deeply([@$cmd{qw(status failureReason)}], ['expired', 'command expired before agent acknowledged it'], 'state: expired, with the reason');
is(manage(POST => '/api/agents/docker/hosts/min-agent/check-updates')->code, 200, 'the slot is free again');

# --- management (agents.md §4.7) ------------------------------------------------------------
for my $case ([PUT => 'unhide'], [PUT => 'pending-uninstall'], [PUT => 'display-name', { displayName => 'x' }], [POST => 'check-updates']) {
    my ($m, $action, $body) = @$case;
    json_error_ok(manage($m => "/api/agents/docker/hosts/nope/$action", $body), 404, 'docker_host_not_found', "$action on an unknown host");
}
json_error_ok(manage(DELETE => '/api/agents/docker/hosts/nope'), 404, 'docker_host_not_found', 'DELETE of an unknown host');
json_error_ok(manage(DELETE => '/api/agents/docker/hosts/nope?hide=true'), 404, 'docker_host_not_found', 'hide of an unknown host');
$res = manage(DELETE => '/api/agents/docker/hosts/nope?force=true');
is_deeply($res->json, { success => true, hostId => 'nope', message => 'Docker host already removed' }, 'forced DELETE of an unknown host');
is_deeply(manage(POST => '/api/agents/docker/hosts/nope/allow-reenroll')->json, { success => true, hostId => 'nope' },
    'allow-reenroll of a host that was not blocked');
$stack->psql(q{INSERT INTO pulse.docker_removed_hosts (id) VALUES ('nameless')});
my ($nameless) = grep { $_->{id} eq 'nameless' } @{ state()->{removedDockerHosts} };
ok($nameless && !exists $nameless->{hostname} && !exists $nameless->{displayName}, 'a removed host without names: members left out');
$wc->check('RemovedDockerHost', $nameless, 'removed host without names');
is(manage(POST => '/api/agents/docker/hosts/nameless/allow-reenroll')->code, 200, 'and its block cleared');
json_error_ok(manage(PUT => "/api/agents/docker/hosts/$id/display-name", { displayName => [] }), 400, 'invalid_field', 'displayName as an array');
json_error_ok(manage(PUT => "/api/agents/docker/hosts/$id/unhide", undef, agent_headers($reader)), 403, 'missing_scope', 'a token without docker:manage');
json_error_ok(manage(PUT => "/api/agents/docker/hosts/$id/unhide", undef, {}), 401, 'unauthorized', 'no credentials');
json_error_ok(manage(GET => "/api/agents/docker/hosts/$id/unhide"), 405, 'method_not_allowed', 'another method');

is(manage(PUT => "/api/agents/docker/hosts/$id/display-name", { displayName => ' Front door ' })->code, 200, 'display name set');
is(docker_host($id)->{customDisplayName}, 'Front door', 'state: customDisplayName, trimmed');
is(manage(PUT => "/api/agents/docker/hosts/$id/display-name", { displayName => '' })->code, 200, 'display name cleared');
ok(!exists docker_host($id)->{customDisplayName}, 'state: customDisplayName gone');

is(manage(DELETE => "/api/agents/docker/hosts/$id?hide=true")->json->{message}, 'Docker host hidden', 'hidden');
ok(!docker_host($id), 'a hidden host is not in the state');
is(report($example)->code, 200, 'a hidden host keeps reporting');
is(manage(PUT => "/api/agents/docker/hosts/$id/unhide")->json->{message}, 'Docker host unhidden', 'unhidden');
ok(docker_host($id), 'back in the state');

is(manage(PUT => "/api/agents/docker/hosts/$id/pending-uninstall")->json->{message}, 'Docker host marked as pending uninstall',
    'pending uninstall');
is(docker_host($id)->{pendingUninstall}, true, 'state: pendingUninstall');
report($example);
is(docker_host($id)->{pendingUninstall}, false, 'the next report clears it');

# DELETE of an online host queues a stop; the stop's completion removes the host without a block.
my $stopper = agent_token($stack, 'docker-stop', 'docker:report');
my $stop_body = clone($example);
$stop_body->{agent}{id} = 'stop-agent';
$stop_body->{host}{hostname} = 'stop-host';
$stop_body->{host}{machineId} = 'stop-machine';
is(report($stop_body, agent_headers($stopper))->json->{hostId}, 'stop-agent', 'a host to stop');
$res = manage(DELETE => '/api/agents/docker/hosts/stop-agent');
is($res->code, 200, 'DELETE of an online host') or diag $res->body;
is_deeply([@{ $res->json }{qw(success hostId message)}, $res->json->{command}{type}, $res->json->{command}{message}],
    [true, 'stop-agent', 'Stop command queued', 'stop', 'Stopping agent'], 'a stop command queued');
$res = report($stop_body, agent_headers($stopper));
is($res->json->{commands}[0]{type}, 'stop', 'the stop delivered');
is(docker_host('stop-agent')->{pendingUninstall}, true, 'pendingUninstall stays while the stop is under way');
is(ack($res->json->{commands}[0]{id}, { hostId => 'stop-agent', status => 'completed' }, agent_headers($stopper))->code, 200,
    'the stop acknowledged completed');
ok(!docker_host('stop-agent'), 'the stopped host is gone');
ok(!grep({ $_->{id} eq 'stop-agent' } @{ state()->{removedDockerHosts} }), 'without a removal block');
json_error_ok(report($stop_body, agent_headers($stopper)), 401, 'unauthorized', 'its token went with it (the original revokes it)');
$stopper = agent_token($stack, 'docker-stop-2', 'docker:report');
is(report($stop_body, agent_headers($stopper))->code, 200, 'with a new token it may enroll again');

# Removal with force: the block, removedDockerHosts, the token revoked, re-enrolment.
$res = manage(DELETE => '/api/agents/docker/hosts/stop-agent?mode=force');
is_deeply($res->json, { success => true, hostId => 'stop-agent', message => 'Docker host removed' }, 'removed at once');
my ($gone) = grep { $_->{id} eq 'stop-agent' } @{ state()->{removedDockerHosts} };
ok($gone, 'listed in removedDockerHosts') or diag explain state()->{removedDockerHosts};
is_deeply([@$gone{qw(hostname displayName)}], ['stop-host', 'docker01-daemon'], 'with its names');
like($gone->{removedAt}, qr/^\d{13}$/, 'removedAt in epoch ms');
$wc->check('RemovedDockerHost', $gone, 'removed host');
json_error_ok(report($stop_body, agent_headers($stopper)), 401, 'unauthorized', 'the removed host\'s token is revoked');
$stopper = agent_token($stack, 'docker-stop-3', 'docker:report');
$e = json_error_ok(report($stop_body, agent_headers($stopper)), 400, 'invalid_report', 'a removed host reporting again');
like($e->{error}, qr/^docker host "stop-agent" was removed at \d{4}-\d\d-\d\dT[\d:]+Z and cannot report again\./,
    'the text the agent recognises ("was removed")');
my $legacy = clone($stop_body);
$legacy->{agent}{id} = '';
$legacy->{host}{machineId} = '';
$legacy->{host}{hostname} = 'stop-agent';
json_error_ok(report($legacy, agent_headers($stopper)), 400, 'invalid_report', 'blocked by a legacy identity (the hostname)');
ok(!docker_host('stop-agent'), 'nothing written');
is(manage(POST => '/api/agents/docker/hosts/stop-agent/allow-reenroll')->code, 200, 'allow re-enroll');
ok(!grep({ $_->{id} eq 'stop-agent' } @{ state()->{removedDockerHosts} }), 'the block cleared');
is(report($stop_body, agent_headers($stopper))->code, 200, 'the host reports again');

# An offline host is removed at once by a plain DELETE.
$stack->psql(q{UPDATE pulse.docker_hosts SET status = 'offline' WHERE id = 'stop-agent'});
is(manage(DELETE => '/api/agents/docker/hosts/stop-agent')->json->{message}, 'Docker host removed', 'an offline host removed without a stop');

# --- the worker: alerts from a stored report, offline after silence, metrics history --------
is($ua->post($stack->url('/api/alerts/activate') => $auth)->result->code, 200, 'alerts activated');
my $hot_token = agent_token($stack, 'docker-hot', 'docker:report');
my $hot = clone($example);
$hot->{agent}{id} = $hot->{host}{machineId} = 'hot-docker';
$hot->{host}{hostname} = 'hot-docker';
delete $hot->{timestamp};
$hot->{containers} = [$hot->{containers}[0]];
$hot->{containers}[0]{cpuPercent} = 95;
my $cpu_alert = q{SELECT count(*) FROM pulse.alerts WHERE resource_id = 'docker:hot-docker/} . ('a' x 64)
    . q{' AND type = 'cpu' AND resolved_at IS NULL};
# Reported again until the alert's time threshold has passed (as an agent does every interval).
$stack->wait_for(sub { report($hot, agent_headers($hot_token))->code == 200 or return 0; $stack->psql($cpu_alert) == 1 },
    60, 'a container over the cpu threshold raised by the worker', 'worker-1');
pass('container cpu alert raised from a stored report');
$hot->{containers}[0]{cpuPercent} = 1;
is(report($hot, agent_headers($hot_token))->code, 200, 'a calm report');
$stack->wait_for(sub { $stack->psql($cpu_alert) == 0 }, 30, 'the cpu alert resolved', 'worker-1');
pass('a calm report resolves it');

# Metrics history: the host's and the container's figures per report.
my $hist;
$stack->wait_for(sub {
    $hist = $ua->get($stack->url('/api/metrics-store/history?resourceType=dockerContainer&resourceId=' . ('a' x 64) . '&range=1h') => $auth)->result->json;
    $hist && $hist->{metrics} && @{ $hist->{metrics}{cpu} // [] } >= 1 }, 30, 'container metrics written', 'worker-1');
ok((grep { $_->{value} == 95 } @{ $hist->{metrics}{cpu} }), 'history: the container cpu');
ok(@{ $hist->{metrics}{memory} // [] }, 'history: the container memory');
ok(@{ $hist->{metrics}{diskread} // [] }, 'history: the container block reads in bytes per second');
$res = $ua->get($stack->url('/api/metrics-store/history?resourceType=docker&resourceId=' . ('a' x 64) . '&metric=cpu&range=1h') => $auth)->result;
ok(@{ $res->json->{points} // [] }, 'resourceType=docker serves the containers');
$stack->wait_for(sub {
    my $j = $ua->get($stack->url('/api/metrics-store/history?resourceType=dockerHost&resourceId=hot-docker&metric=cpu&range=1h') => $auth)->result->json;
    $j && @{ $j->{points} // [] } }, 30, 'Docker host metrics written', 'worker-1');
pass('history: the Docker host cpu');

my $charts = $ua->get($stack->url('/api/charts?range=1h') => $auth)->result->json;
ok(@{ $charts->{dockerData}{'a' x 64}{cpu} // [] }, '/api/charts: the container in dockerData');
is_deeply([sort keys %{ $charts->{dockerData}{'a' x 64} // {} }], [qw(cpu disk memory)], 'dockerData: cpu, memory, disk');
ok(@{ $charts->{dockerHostData}{'hot-docker'}{cpu} // [] }, '/api/charts: the host in dockerHostData');
$wc->check('ChartsResponse', $charts, 'charts with Docker');

# Silence: the host's last report made to look 20 minutes old (beyond any window, 600 s at most).
$stack->psql(q{UPDATE pulse.docker_hosts SET received_at = now() - interval '20 minutes' WHERE id = 'hot-docker'});
my $st = $stack->wait_state(sub { my ($x) = grep { $_->{id} eq 'hot-docker' } @{ $_[0]{dockerHosts} }; $x && $x->{status} eq 'offline' },
    40, 'the silent Docker host offline');
($h) = grep { $_->{id} eq 'hot-docker' } @{ $st->{dockerHosts} };
is($h->{status}, 'offline', 'silent Docker host: status offline in /api/state');
$wc->check('DockerHost', $h, 'offline Docker host');
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.alerts WHERE id = 'docker-host-offline-hot-docker' AND resolved_at IS NULL}) == 1 },
    60, 'docker-host-offline after three offline evaluations', 'worker-1');
pass('docker-host-offline raised');
is(report($hot, agent_headers($hot_token))->code, 200, 'the host reports again');
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.alerts WHERE id = 'docker-host-offline-hot-docker' AND resolved_at IS NULL}) == 0 },
    30, 'docker-host-offline resolved', 'worker-1');
is(docker_host('hot-docker')->{status}, 'online', 'online again');

# A removed host's alerts resolve; a removal block lapses after 24 hours.
# (Another value: the same one again within the suppression window is not a new alert.)
$hot->{containers}[0]{cpuPercent} = 180;
$stack->wait_for(sub { report($hot, agent_headers($hot_token)); $stack->psql($cpu_alert) == 1 }, 60, 'raised again', 'worker-1');
is(manage(DELETE => '/api/agents/docker/hosts/hot-docker?force=true')->code, 200, 'hot host removed');
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.alerts WHERE resource_id LIKE 'docker:hot-docker%' AND resolved_at IS NULL}) == 0 },
    40, "the removed host's alerts resolved", 'worker-1');
pass("removed Docker host's alerts resolved");
$stack->psql(q{UPDATE pulse.docker_removed_hosts SET removed_at = now() - interval '25 hours' WHERE id = 'hot-docker'});
ok(!grep({ $_->{id} eq 'hot-docker' } @{ state()->{removedDockerHosts} }), 'a lapsed block is not in the state');
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.docker_removed_hosts WHERE id = 'hot-docker'}) == 0 },
    40, 'the lapsed block dropped', 'worker-1');
pass('the worker dropped the lapsed block');
$hot_token = agent_token($stack, 'docker-hot-2', 'docker:report');
is(report($hot, agent_headers($hot_token))->code, 200, 'a host whose block lapsed may report again');

# One transaction per report: a report refused half-way leaves nothing behind.
is($stack->psql(q{SELECT count(*) FROM pulse.docker_containers c WHERE NOT EXISTS (SELECT 1 FROM pulse.docker_hosts h WHERE h.id = c.host_id)}), 0,
    'no container without its host');

# --- end to end: pulse-agent (Docker mode) -> nginx -> responder -> PostgreSQL -> /api/state ----
SKIP: {
    my $agent_bin = PulseStack::builddir() . '/agent/pulse-agent';
    skip "$agent_bin not built", 8 unless -x $agent_bin;
    my $dir = tempdir(CLEANUP => 1);
    my $src = PulseStack::srcdir();
    my $cid = 'e2' x 32;
    open my $fh, '>', "$dir/engine.json" or die $!;
    print {$fh} JSON::PP->new->encode({ containers => [{ id => $cid, name => 'e2e-web', image => 'nginx:1.27', state => 'running',
        health => 'healthy', created => 1767225600, startedAt => '2026-01-01T00:00:00Z',
        stats => { precpu => 1, cpuTotal => 1e9, cpuStep => 5e8, system => 1e11, systemStep => 2e9, onlineCpus => 4,
            memUsage => 314572800, cache => 104857600, memLimit => 1073741824, blkRead => 4096, blkWrite => 8192 } }] });
    close $fh;
    my $sock = "$dir/engine.sock";
    my $engine = spawn("$dir/engine.err", $^X, "$src/t/fakes/docker-engine.pl", '--socket', $sock,
        '--config', "$dir/engine.json", '--log', "$dir/engine.jsonl");
    $stack->wait_for(sub { -S $sock }, 20, 'the fake engine');
    my $e2e = agent_token($stack, 'e2e-agent', 'docker:report', 'host-agent:report');
    my $agent = do {
        local $ENV{DOCKER_HOST} = "unix://$sock";
        local $ENV{PULSE_TOKEN} = $e2e->{raw};
        spawn("$dir/agent.log", $agent_bin, '--url', $stack->url(''), '--interval', '1s', '--health-addr', '',
            '--hostname', 'e2e-docker-host', '--agent-id', 'e2e-agent', '--enable-docker', '--insecure');
    };
    my $e2e_host;
    eval { $stack->wait_state(sub { ($e2e_host) = grep { $_->{id} eq 'e2e-agent' } @{ $_[0]{dockerHosts} };
        $e2e_host && @{ $e2e_host->{containers} } }, 40, "the agent's Docker host in /api/state") };
    ok($e2e_host, "our agent's Docker report is in /api/state") or diag `tail -20 $dir/agent.log`;
    is($e2e_host->{hostname}, 'e2e-docker-host', 'its hostname');
    my ($c) = @{ $e2e_host->{containers} // [] };
    is_deeply([@{ $c // {} }{qw(id name image state health)}], [$cid, 'e2e-web', 'nginx:1.27', 'running', 'healthy'],
        'its container');
    ok(($c->{memoryUsageBytes} // 0) == 314572800 - 104857600, 'memory usage without the cache (§10.8)');
    $wc->check('DockerHost', $e2e_host, 'the agent\'s Docker host');
    ok((grep { $_->{hostname} eq 'e2e-docker-host' } @{ state()->{hosts} }), 'and its host report in hosts');
    is(manage(POST => '/api/agents/docker/hosts/e2e-agent/check-updates')->code, 200, 'a command for the agent');
    $stack->wait_state(sub { my ($x) = grep { $_->{id} eq 'e2e-agent' } @{ $_[0]{dockerHosts} };
        $x && $x->{command} && $x->{command}{status} eq 'completed' }, 30, 'the agent acknowledged it');
    is((grep { $_->{id} eq 'e2e-agent' } @{ state()->{dockerHosts} })[0]{command}{status}, 'completed',
        'the agent took the command from the answer and acknowledged it completed');
    stop($agent);
    stop($engine);
}

# --- disable_docker_update_actions: container updates refused (a stack of its own) ----------
{
    my $locked = PulseStack->new(settings => { disable_docker_update_actions => 'true' })->start;
    $locked->setup_admin;
    my $r = $locked->ua->post($locked->url('/api/agents/docker/containers/update') => $locked->token_headers
        => json => { hostId => 'h', containerId => 'c', containerName => 'n' })->result;
    json_error_ok($r, 403, 'docker_updates_disabled', 'container updates disabled by the setting');
    $locked->stop;
}

is_deeply([$wc->problems], [], 'every answer matches the wire contract') or diag join "\n", $wc->problems;

done_testing;
