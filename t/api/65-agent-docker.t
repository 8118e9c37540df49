#!/usr/bin/perl
# 65-agent-docker.t: pulse-agent's Docker mode against a fake Docker Engine on a Unix socket
# (t/fakes/docker-engine.pl) and a stand-in server (t/agent/receiver.pl): the docker report's
# fields and types (agents.md §4.1), container figures by §10.8's formulas from the fake's
# numbers, Swarm services and tasks, commands from the report's answer run against the engine
# and acknowledged (§4.4-§4.6, §9.8), and an engine that is missing or answers garbage
# (logged; the host report goes on). No database, no Pulse server.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use Mojo::UserAgent;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use AgentHarness qw(spawn stop wait_for slurp json_lines);
use PulseStack;

my $src = PulseStack::srcdir();
my $agent_bin = PulseStack::builddir() . '/agent/pulse-agent';
plan skip_all => "$agent_bin not built" unless -x $agent_bin;
my $dir = tempdir(CLEANUP => 1);
my $token = 'pulse-docker-test-token-0123456789';
sub write_json {
    my ($file, $data) = @_;
    open my $fh, '>', $file or die "$file: $!";
    print {$fh} JSON::PP->new->canonical->encode($data);
    close $fh;
}

sub start_receiver {
    my ($name, @extra) = @_;
    return start_receiver_on($name, PulseStack::free_port(), @extra);
}

sub start_receiver_on {
    my ($name, $port, @extra) = @_;
    my $pid = spawn("$dir/$name-receiver.log", $^X, "$src/t/agent/receiver.pl",
        '--listen', "http://127.0.0.1:$port", '--out', "$dir/$name.jsonl", @extra);
    my $deadline = time + 20;
    while (time < $deadline) {
        return ($pid, $port) if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        sleep 0.1;
    }
    die "receiver on $port did not start";
}

sub start_engine {
    my ($name, $config, @extra) = @_;
    my $sock = "$dir/$name.sock";
    write_json("$dir/$name-engine.json", $config);
    my $pid = spawn("$dir/$name-engine.err", $^X, "$src/t/fakes/docker-engine.pl",
        '--socket', $sock, '--config', "$dir/$name-engine.json", '--log', "$dir/$name-engine.jsonl",
        @extra);
    wait_for('the fake engine', sub { -S $sock }, 20) or die "the fake engine did not start";
    return ($pid, $sock);
}

sub run_agent {
    my ($name, $port, $sock, @args) = @_;
    local $ENV{DOCKER_HOST} = "unix://$sock";
    local $ENV{PULSE_TOKEN} = $token;
    return spawn("$dir/$name-agent.log", $agent_bin, '--url', "http://127.0.0.1:$port",
        '--interval', '1s', '--health-addr', '', '--hostname', 'docker-test-host',
        '--agent-id', 'agent-docker-1', @args);
}

sub kind { my ($name, $kind) = @_; grep { $_->{kind} eq $kind } json_lines("$dir/$name.jsonl") }

my $hex = sub { my $c = shift; $c x (64 / length $c) };
my ($web_id, $worker_id, $oom_id, $backup_id) = ($hex->('a1'), $hex->('b2'), $hex->('c3'), $hex->('d4'));
my $started = time - 3600;
my $started_iso = POSIX::strftime('%Y-%m-%dT%H:%M:%S.123456789Z', gmtime $started);
my %engine = (
    info => { Swarm => { NodeID => 'node-1', LocalNodeState => 'active', ControlAvailable => JSON::PP::true,
        Cluster => { ID => 'cluster-1', Spec => { Name => 'default' } }, Error => '' } },
    containers => [
        { id => $web_id, name => 'web', image => 'nginx:1.25', state => 'running', health => 'healthy',
          restartCount => 2, startedAt => $started_iso, created => 1767225600,
          env => ['DB_PASSWORD=hunter2', 'API_KEY=k', 'PLAIN=1'], labels => { 'com.example.tier' => 'front' },
          ports => [{ IP => '0.0.0.0', PrivatePort => 80, PublicPort => 8080, Type => 'tcp' },
                    { PrivatePort => 443, Type => 'tcp' }],
          networks => { frontend => { IPAddress => '172.18.0.5', GlobalIPv6Address => 'fd00::5' },
                        backend => { IPAddress => '172.19.0.5' } },
          mounts => [{ Type => 'volume', Name => 'webdata', Source => '/var/lib/docker/volumes/webdata/_data',
              Destination => '/data', Driver => 'local', Mode => 'z', RW => JSON::PP::true, Propagation => '' }],
          # cgroup v1, both samples in the answer: 5e8 / 2e9 * 4 * 100 = 100 %
          stats => { precpu => 1, cpuTotal => 1e9, cpuStep => 5e8, system => 1e11, systemStep => 2e9,
              onlineCpus => 4, memUsage => 314572800, cache => 104857600, memLimit => 1073741824,
              blkRead => 4096, blkWrite => 8192 } },
        { id => $worker_id, name => 'worker', image => 'example/worker:2', state => 'running',
          health => 'unhealthy', startedAt => $started_iso,
          # cgroup v2, one-shot answers: 0 at first, then 2.5e8 / 1e9 * 2 * 100 = 50 % between reports
          stats => { cpuTotal => 1e9, cpuStep => 2.5e8, system => 1e11, systemStep => 1e9, onlineCpus => 2,
              memUsage => 500000000, inactiveFile => 50000000, memLimit => 2147483648 } },
        { id => $oom_id, name => 'oom', image => 'example/hog:1', state => 'exited', exitCode => 137,
          oomKilled => 1, restartCount => 5, status => 'Exited (137) 5 minutes ago',
          startedAt => '2026-01-01T00:00:00Z', finishedAt => '2026-01-01T01:00:00Z' },
        { id => $backup_id, name => 'web_pulse_backup_20260101_000000', image => 'nginx:1.24',
          state => 'exited' },
    ],
    services => [{ ID => 'svc-1', CreatedAt => '2026-01-01T00:00:00Z', UpdatedAt => '2026-01-02T00:00:00Z',
        Spec => { Name => 'app_api', Labels => { 'com.docker.stack.namespace' => 'app' },
            TaskTemplate => { ContainerSpec => { Image => 'example/api:3' } },
            Mode => { Replicated => { Replicas => 3 } } },
        Endpoint => { Ports => [{ Name => 'http', Protocol => 'tcp', TargetPort => 80, PublishedPort => 8081,
            PublishMode => 'ingress' }] },
        ServiceStatus => { RunningTasks => 2, DesiredTasks => 3, CompletedTasks => 0 } }],
    tasks => [{ ID => 'task-1', ServiceID => 'svc-1', Slot => 1, NodeID => 'node-1', DesiredState => 'running',
        CreatedAt => '2026-01-01T00:00:00Z', UpdatedAt => '2026-01-01T00:00:05Z',
        Status => { State => 'running', Message => 'started', Timestamp => '2026-01-01T00:00:04Z',
            ContainerStatus => { ContainerID => $web_id } } }],
);

# --- the report ------------------------------------------------------------------------------------

{
my ($recv, $port) = start_receiver('report');
my ($eng, $sock) = start_engine('report', \%engine);
my $health = PulseStack::free_port();
my $agent = run_agent('report', $port, $sock, '--enable-docker', '--health-addr', "127.0.0.1:$health");
ok(wait_for('three docker reports', sub { kind('report', 'docker') >= 3 }), 'docker reports arrive');
like(Mojo::UserAgent->new->get("http://127.0.0.1:$health/metrics")->result->body,
    qr/^pulse_agent_info\{[^}]*host_enabled="true",docker_enabled="true"/m, '/metrics: the Docker module is on');
ok(kind('report', 'report') >= 1, 'the host report goes too');
my @docker = kind('report', 'docker');
my $first = $docker[0];
is($first->{x_api_token}, $token, 'X-API-Token');
is($first->{authorization}, "Bearer $token", 'Authorization: Bearer');
like($first->{user_agent}, qr{^pulse-docker-agent/\S+$}, 'User-Agent pulse-docker-agent/<version>');
like($first->{content_type}, qr{^application/json}, 'Content-Type');

my $r = $first->{body};
my $num = qr/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
my $rfc = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[-+]\d\d:\d\d)$/;
is_deeply([sort keys %$r], [sort qw(agent host containers services tasks timestamp)], 'top-level members');
like($r->{timestamp}, $rfc, 'timestamp RFC 3339');
is($r->{agent}{id}, 'agent-docker-1', 'agent.id is --agent-id');
is($r->{agent}{type}, 'unified', 'agent.type');
is($r->{agent}{intervalSeconds}, 1, 'agent.intervalSeconds');
ok(length $r->{agent}{version}, 'agent.version always sent');
my $h = $r->{host};
is($h->{hostname}, 'docker-test-host', 'host.hostname is --hostname');
is($h->{name}, 'fake-engine', 'host.name is the daemon name');
is($h->{os}, 'Debian GNU/Linux 12 (bookworm)', 'host.os');
is($h->{runtime}, 'docker', 'host.runtime');
is($h->{runtimeVersion}, '24.0.7', 'host.runtimeVersion');
is($h->{dockerVersion}, '24.0.7', 'host.dockerVersion');
is($h->{kernelVersion}, '6.1.0-fake', 'host.kernelVersion');
is($h->{architecture}, 'x86_64', 'host.architecture');
is($h->{totalCpu}, 4, 'host.totalCpu is NCPU');
is($h->{totalMemoryBytes}, 8 * 1024**3, 'host.totalMemoryBytes is MemTotal');
like($h->{uptimeSeconds}, qr/^\d+$/, 'host.uptimeSeconds');
is(scalar @{ $h->{loadAverage} }, 3, 'host.loadAverage');
like($h->{memory}{totalBytes}, qr/^\d+$/, 'host.memory as in the host report');
is_deeply($h->{swarm}, { nodeId => 'node-1', nodeRole => 'manager', localState => 'active',
    controlAvailable => JSON::PP::true, clusterId => 'cluster-1', clusterName => 'default', scope => 'cluster' },
    'host.swarm');

my %c = map { $_->{name} => $_ } @{ $r->{containers} };
is_deeply([sort keys %c], [qw(oom web worker)], 'containers, the update backup left out');
my $web = $c{web};
is($web->{id}, $web_id, 'id: the full id');
is($web->{image}, 'nginx:1.25', 'image');
is($web->{imageDigest}, 'sha256:' . ('ab' x 32), 'imageDigest: the image id');
is($web->{createdAt}, '2026-01-01T00:00:00Z', 'createdAt from Created');
is($web->{state}, 'running', 'state');
is($web->{status}, 'Up 3 hours', 'status');
is($web->{health}, 'healthy', 'health');
is($web->{restartCount}, 2, 'restartCount');
ok(!exists $web->{exitCode}, 'exitCode 0 left out');
is($web->{startedAt}, $started_iso, 'startedAt');
ok(!exists $web->{finishedAt}, 'no finishedAt while running');
ok(abs($web->{uptimeSeconds} - (time - $started)) < 30, 'uptimeSeconds = now - StartedAt');
is($web->{cpuPercent}, 100, 'cpuPercent: (5e8 / 2e9) * 4 CPUs * 100 from precpu_stats');
is($web->{memoryUsageBytes}, 314572800 - 104857600, 'memoryUsageBytes: usage - cache (cgroup v1)');
is($web->{memoryLimitBytes}, 1073741824, 'memoryLimitBytes');
ok(abs($web->{memoryPercent} - 209715200 / 1073741824 * 100) < 1e-9, 'memoryPercent = usage / limit * 100');
is_deeply($web->{blockIo}, { readBytes => 4096, writeBytes => 8192 }, 'blockIo: read and write entries only');
is_deeply($web->{ports}, [{ privatePort => 80, publicPort => 8080, protocol => 'tcp', ip => '0.0.0.0' },
    { privatePort => 443, protocol => 'tcp' }], 'ports');
is_deeply($web->{labels}, { 'com.example.tier' => 'front' }, 'labels');
is_deeply($web->{env}, ['DB_PASSWORD=***', 'API_KEY=***', 'PLAIN=1'], 'env: secret values masked');
is_deeply($web->{networks}, [{ name => 'backend', ipv4 => '172.19.0.5' },
    { name => 'frontend', ipv4 => '172.18.0.5', ipv6 => 'fd00::5' }], 'networks');
is_deeply($web->{mounts}, [{ type => 'volume', name => 'webdata', source => '/var/lib/docker/volumes/webdata/_data',
    destination => '/data', driver => 'local', mode => 'z', rw => JSON::PP::true }], 'mounts');

my $worker = $c{worker};
is($worker->{health}, 'unhealthy', 'an unhealthy container');
is($worker->{cpuPercent}, 0, 'one-shot stats: 0 on the first report');
is($worker->{memoryUsageBytes}, 450000000, 'memoryUsageBytes: usage - inactive_file (cgroup v2)');
ok(abs($worker->{memoryPercent} - 450000000 / 2147483648 * 100) < 1e-9, 'memoryPercent (v2)');
ok(!exists $worker->{blockIo}, 'no blockIo when both are 0');
my ($later) = map { $_->{body} } grep { my %n = map { $_->{name} => $_ } @{ $_->{body}{containers} };
    ($n{worker}{cpuPercent} // 0) != 0 } @docker[1 .. $#docker];
ok($later, 'a later report has the worker\'s CPU');
my ($w2) = grep { $_->{name} eq 'worker' } @{ $later->{containers} // [] };
ok($w2 && abs($w2->{cpuPercent} - 50) < 1e-9, 'cpuPercent between reports: (2.5e8 / 1e9) * 2 CPUs * 100');

my $oom = $c{oom};
is($oom->{state}, 'exited', 'an exited container');
is($oom->{exitCode}, 137, 'exitCode 137 (OOM)');
is($oom->{restartCount}, 5, 'its restartCount');
is($oom->{finishedAt}, '2026-01-01T01:00:00Z', 'finishedAt when not running');
ok(!exists $oom->{cpuPercent} && !exists $oom->{uptimeSeconds}, 'no stats and no uptime when not running');

is_deeply($r->{services}, [{ id => 'svc-1', name => 'app_api', stack => 'app', image => 'example/api:3',
    mode => 'replicated', desiredTasks => 3, runningTasks => 2, labels => { 'com.docker.stack.namespace' => 'app' },
    endpointPorts => [{ name => 'http', protocol => 'tcp', targetPort => 80, publishedPort => 8081,
        publishMode => 'ingress' }], createdAt => '2026-01-01T00:00:00Z', updatedAt => '2026-01-02T00:00:00Z' }],
    'services (a Swarm manager)');
is_deeply($r->{tasks}, [{ id => 'task-1', serviceId => 'svc-1', serviceName => 'app_api', slot => 1,
    nodeId => 'node-1', nodeName => 'fake-engine', desiredState => 'running', currentState => 'running',
    message => 'started', containerId => $web_id, createdAt => '2026-01-01T00:00:00Z',
    updatedAt => '2026-01-01T00:00:05Z', startedAt => '2026-01-01T00:00:04Z' }], 'tasks');

my @calls = json_lines("$dir/report-engine.jsonl");
ok((grep { $_->{path} eq '/containers/json' && $_->{query} eq 'all=1' } @calls), 'the engine: /containers/json?all=1');
ok((grep { $_->{path} eq "/containers/$web_id/stats" && $_->{query} =~ /stream=false/ } @calls), 'stats with stream=false');
ok(!(grep { $_->{path} eq "/containers/$oom_id/stats" } @calls), 'no stats asked of a stopped container');
ok((grep { $_->{path} eq '/tasks' && $_->{query} =~ /node/ } @calls), 'tasks of this node');
ok(!(grep { $_->{method} ne 'GET' } @calls), 'only reads without a command');
is(stop($agent) >> 8, 0, 'the agent stops on SIGTERM, exit 0');
unlike(slurp("$dir/report-agent.log"), qr/\Q$token\E|hunter2/, 'neither the token nor a secret env value in the log');
stop($eng);
stop($recv);
}

# --- commands ------------------------------------------------------------------------------------

{
write_json("$dir/commands.json", [
    { id => 'cmd-check', type => 'check_updates' },
    { id => "cmd-upd:$web_id", type => 'update_container', payload => { containerId => $web_id, containerName => 'web' } },
    { id => 'cmd-stop', type => 'stop' },
]);
my ($recv, $port) = start_receiver('cmd', '--commands', "$dir/commands.json");
my ($eng, $sock) = start_engine('cmd', \%engine);
my $agent = run_agent('cmd', $port, $sock, '--enable-docker');
ok(wait_for('the stop ack', sub { grep { $_->{body}{id} eq 'cmd-stop' } kind('cmd', 'ack') }, 60), 'three commands acknowledged');
my @acks = map { $_->{body} } kind('cmd', 'ack');
my ($check) = grep { $_->{id} eq 'cmd-check' } @acks;
is($check->{body}{hostId}, 'agent-docker-1', 'ack hostId is the agent id');
is($check->{body}{status}, 'completed', 'check_updates: completed');
my @upd = map { $_->{body} } grep { $_->{id} eq "cmd-upd:$web_id" } @acks;
is_deeply([map { $_->{status} } @upd], [qw(acknowledged in_progress in_progress in_progress in_progress in_progress completed)],
    'update_container: acknowledged, five steps, completed');
is($upd[0]{message}, 'Starting container update', 'the first ack says it starts');
is_deeply([map { $_->{message} } @upd[1 .. 5]], ['Pulling image nginx:1.25...', 'Stopping container web...',
    'Creating new container web...', 'Starting container web...', 'Verifying container stability...'], 'the steps');
is($upd[-1]{message}, 'Container web updated successfully', 'the final ack');
my ($stop_ack) = grep { $_->{id} eq 'cmd-stop' } @acks;
is_deeply($stop_ack->{body}, { hostId => 'agent-docker-1', status => 'completed', message => 'Agent shutting down' }, 'stop: completed');
my @calls = grep { $_->{method} ne 'GET' } json_lines("$dir/cmd-engine.jsonl");
is_deeply([map { "$_->{method} $_->{path}" } @calls],
    ['POST /images/create', "POST /containers/$web_id/stop", "POST /containers/$web_id/rename",
     'POST /containers/create', 'POST /networks/frontend/connect', 'POST /containers/' . sprintf('%064x', 0xfeed0001) . '/start'],
    'the update against the engine: pull, stop, rename, create, connect, start')
    or diag explain \@calls;
like($calls[0]{query}, qr/fromImage=nginx%3A1\.25|fromImage=nginx:1\.25/, 'pulls the container\'s image');
like($calls[2]{query}, qr/^name=web_pulse_backup_\d{8}_\d{6}$/, 'the old one becomes the backup');
my $create = decode_json($calls[3]{body});
is($create->{Image}, 'nginx:1.25', 'created from the old configuration');
is_deeply($create->{Env}, ['DB_PASSWORD=hunter2', 'API_KEY=k', 'PLAIN=1'], 'with its environment (unmasked, to the engine only)');
is($calls[3]{query}, 'name=web', 'under the old name');
my $n = kind('cmd', 'docker');
sleep 2.5;
is(kind('cmd', 'docker'), $n, 'after stop no docker report is sent');
my $hosts = kind('cmd', 'report');
ok(wait_for('a host report after the stop', sub { kind('cmd', 'report') > $hosts }), 'the host report goes on');
like(slurp("$dir/cmd-agent.log"), qr/command received id=cmd-stop type=stop/, 'the commands are logged');
is(stop($agent) >> 8, 0, 'exit 0');
stop($eng);
stop($recv);
}

# --- an update that does not hold is rolled back ---------------------------------------------------

{
write_json("$dir/rollback.json", [
    { id => 'cmd-bad', type => 'update_container', payload => { containerId => '../../images/x?force=1' } },
    { id => 'cmd-odd', type => 'reboot_host' },
    { id => 'cmd-none', type => 'update_container', payload => { containerId => 'f' x 64 } },
    { id => 'cmd-rb', type => 'update_container', payload => { containerId => $web_id, containerName => 'web' } }]);
my ($recv, $port) = start_receiver('rb', '--commands', "$dir/rollback.json");
my ($eng, $sock) = start_engine('rb', { %engine, newState => 'exited' });
my $agent = run_agent('rb', $port, $sock, '--enable-docker');
ok(wait_for('the failed ack', sub { grep { $_->{body}{id} eq 'cmd-rb' && $_->{body}{body}{status} eq 'failed' } kind('rb', 'ack') }, 60), 'the update fails');
my %failed = map { $_->{body}{id} => $_->{body}{body}{message} } grep { $_->{body}{body}{status} eq 'failed' } kind('rb', 'ack');
is($failed{'cmd-bad'}, 'invalid container id', 'a container id that is a path: failed, not sent to the engine');
is($failed{'cmd-odd'}, 'unsupported command type', 'an unknown command type: failed');
like($failed{'cmd-none'}, qr/No such container/, 'an unknown container: failed with the engine\'s message');
like($failed{'cmd-rb'}, qr/did not stay running/, 'the update that did not hold: failed, and says why');
ok(!(grep { $_->{path} =~ m{images/x} } json_lines("$dir/rb-engine.jsonl")), 'the engine never saw the bad id');
my @calls = grep { $_->{method} ne 'GET' } json_lines("$dir/rb-engine.jsonl");
is_deeply([map { "$_->{method} $_->{path}" } @calls[-3 .. -1]],
    ['DELETE /containers/' . sprintf('%064x', 0xfeed0001), "POST /containers/$web_id/rename",
     "POST /containers/$web_id/start"], 'rollback: the new one removed, the old one renamed back and started');
is($calls[-2]{query}, 'name=web', 'under its own name');
ok(wait_for('a report after the rollback', sub {
    my @d = kind('rb', 'docker');
    my ($w) = grep { $_->{name} eq 'web' } @{ $d[-1]{body}{containers} };
    $w && $w->{id} eq $web_id && $w->{state} eq 'running' }), 'the old container reports again, running');
stop($agent);
stop($eng);
stop($recv);
}

# --- the server removed the host: the module stops ---------------------------------------------------

{
my ($recv, $port) = start_receiver('removed', '--docker-removed');
my ($eng, $sock) = start_engine('removed', \%engine);
my $agent = run_agent('removed', $port, $sock, '--enable-docker');
ok(wait_for('the refusal', sub { slurp("$dir/removed-agent.log") =~ /removed this host/ }), 'the refusal is logged');
my $n = kind('removed', 'docker');
my $hosts = kind('removed', 'report');
ok(wait_for('host reports', sub { kind('removed', 'report') >= $hosts + 2 }), 'host reports go on');
is(kind('removed', 'docker'), $n, 'no docker report after the refusal');
stop($agent);
stop($eng);
stop($recv);
}

# --- Podman, Docker mode alone ---------------------------------------------------------------------

{
my ($recv, $port) = start_receiver('podman');
my ($eng, $sock) = start_engine('podman', { %engine,
    info => { %{ $engine{info} }, InitBinary => '/usr/libexec/podman/catatonit', ServerVersion => '4.9.3' } });
my $agent = run_agent('podman', $port, $sock, '--enable-docker', '--enable-host=false');
ok(wait_for('two docker reports', sub { kind('podman', 'docker') >= 2 }), 'Docker mode without the host module');
is(kind('podman', 'report'), 0, 'no host report with --enable-host=false');
my ($r) = map { $_->{body} } kind('podman', 'docker');
is($r->{host}{runtime}, 'podman', '/info naming Podman: host.runtime podman');
ok(!exists $r->{services} && !exists $r->{tasks}, 'Podman: no Swarm services or tasks');
ok(!(grep { $_->{path} =~ m{^/(services|tasks)} } json_lines("$dir/podman-engine.jsonl")), 'and none asked');
like($r->{host}{memory}{totalBytes}, qr/^\d+$/, 'the host figures are still collected for the docker report');
is(stop($agent) >> 8, 0, 'exit 0');
stop($eng);
stop($recv);
}

# --- the server away: docker reports kept and sent oldest first ---------------------------------------

{
my $port = PulseStack::free_port();
my ($eng, $sock) = start_engine('away', \%engine);
my $agent = run_agent('away', $port, $sock, '--enable-docker');
ok(wait_for('kept reports', sub { slurp("$dir/away-agent.log") =~ /docker report not sent/ }), 'no server: logged');
sleep 2;
my ($recv) = start_receiver_on('away', $port);
ok(wait_for('the kept docker reports', sub { kind('away', 'docker') >= 3 }, 40), 'kept docker reports arrive');
my @ts = map { $_->{body}{timestamp} } kind('away', 'docker');
is_deeply(\@ts, [sort @ts], 'oldest first, the fresh one last');
stop($agent);
stop($eng);
stop($recv);
}

# --- a missing engine, an engine answering garbage -------------------------------------------------

{
my ($recv, $port) = start_receiver('noeng');
my $agent = run_agent('noeng', $port, "$dir/absent.sock", '--enable-docker');
ok(wait_for('two host reports', sub { kind('noeng', 'report') >= 2 }), 'no engine: host reports go on');
is(kind('noeng', 'docker'), 0, 'no docker report');
like(slurp("$dir/noeng-agent.log"), qr/docker: no engine answers.*absent\.sock/, 'logged, with the sockets tried');
my $count = () = slurp("$dir/noeng-agent.log") =~ /no engine answers/g;
is($count, 1, 'logged once, not at every retry');
# the engine appears later: the module starts on a retry (5 s)
my ($eng, $sock) = start_engine('noeng', \%engine);
rename $sock, "$dir/absent.sock" or die "rename: $!";
ok(wait_for('a docker report once the engine is there', sub { kind('noeng', 'docker') >= 1 }, 30),
    'the engine found on a later try');
is(stop($agent) >> 8, 0, 'exit 0');
stop($eng);

my ($geng, $gsock) = start_engine('garbage', \%engine, '--garbage');
my $before = kind('noeng', 'report');
my $docker_before = kind('noeng', 'docker');
$agent = run_agent('garbage', $port, $gsock, '--enable-docker');
ok(wait_for('host reports', sub { kind('noeng', 'report') >= $before + 2 }), 'garbage: host reports go on');
is(kind('noeng', 'docker'), $docker_before, 'no docker report from garbage');
ok(wait_for('the log line', sub { slurp("$dir/garbage-agent.log") =~ /docker: no engine answers/ }), 'logged');
like(slurp("$dir/garbage-agent.log"), qr/the engine's \/info is not usable/, 'with what was wrong');
ok(kill(0, $agent), 'the agent is still running');
is(stop($agent) >> 8, 0, 'exit 0, no crash');
stop($geng);
stop($recv);
}

# --- flags -------------------------------------------------------------------------------------------

{
my $o = `$agent_bin --self-test --token t --docker-runtime nope 2>&1`;
is($? >> 8, 2, 'a bad --docker-runtime: exit 2');
like($o, qr/docker-runtime/, 'named');
$o = `PATH=/nonexistent $agent_bin --self-test --token t --enable-docker --docker-runtime podman 2>&1`;
is($? >> 8, 0, '--enable-docker and --docker-runtime are accepted');
unlike($o, qr/not supported.*docker/, 'and not called unsupported');
}

done_testing;
