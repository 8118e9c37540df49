#!/usr/bin/perl
# 68-agent-config.t: what host agents get from the server besides their reports, through the
# real stack (agents.md §6.5, §6.6, §7, §9.4, §9.10): GET /api/agent/version; the remote
# configuration GET|PATCH /api/agents/host/{id}/config with its token checks and bad bodies;
# profiles and assignments, and a profile's settings in the assigned host's configuration;
# pulse-agent reading its configuration at start (interval and log level from a profile,
# commandsEnabled from the override); POST /api/auto-register adding a PVE server (pve-sim)
# that the worker then polls, de-duplicated on a second registration, with its bad input,
# and a node of an already configured cluster merged into that cluster's instance (one of an
# unconfigured cluster added with its members); the node linked to a host agent of its name
# showing linkedHostAgentId and the agent's temperatures, and its physical disks the agent's
# SMART temperatures; a host agent in a VM linked to the VM.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempdir);
use Mojo::JSON qw(true false encode_json decode_json);
use Test::More;
use AgentHarness qw(spawn stop wait_for slurp);
use PulseStack;
use PulseTest;
use WireContract;

my $stack = PulseStack->new(settings => { pve_polling_interval => 2,
    license_public_key => PulseStack::licence_public_key() })->start;
$stack->setup_admin;
$stack->activate_licence(tier => 'pro');	# agent profiles are a Pro feature
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $wc = WireContract->new;
my $dir = tempdir(CLEANUP => 1);

sub new_token {
    my ($name, @scopes) = @_;
    my $res = $ua->post($stack->url('/api/security/tokens') => $auth => json => { name => $name, scopes => \@scopes })->result;
    is($res->code, 200, "token $name created") or diag $res->body;
    return { raw => $res->json->{token}, id => $res->json->{record}{id} };
}
my $rep = new_token('agent-a', 'host-agent:report');
my $rep2 = new_token('agent-b', 'host-agent:report');
my $manager = new_token('manager', 'host-agent:manage');
# As the original's agent install command makes them: report and manage.
my $both = new_token('proxmox-agent', 'host-agent:report', 'host-agent:manage');
my $reader = new_token('reader', 'monitoring:read');
my $writer = new_token('settings', 'settings:write');
sub tok { { 'X-API-Token' => $_[0]{raw} } }

# A request with a raw body (text) or JSON (a reference).
sub call {
    my ($method, $path, $body, $headers) = @_;
    my $tx = $ua->build_tx($method => $stack->url($path) => { %{ $headers // $auth },
        'Content-Type' => 'application/json' } => defined $body ? (ref $body ? encode_json($body) : $body) : '');
    return $ua->start($tx)->result;
}

# A host report (agents.md §3.1) of hostname with the given temperatures.
sub report {
    my ($id, $hostname, $token, $temps) = @_;
    return call(POST => '/api/agents/host/report', {
        agent => { id => $id, version => '5.0.4', type => 'unified', intervalSeconds => 30 },
        host => { id => $id, hostname => $hostname, platform => 'debian', osName => 'debian', osVersion => '12' },
        metrics => { cpuUsagePercent => 5 },
        sensors => { temperatureCelsius => $temps // {} },
    }, tok($token));
}

# --- GET /api/agent/version ------------------------------------------------------------------
{
    my $res = $ua->get($stack->url('/api/agent/version'))->result;
    is($res->code, 200, 'agent version: public');
    my $v = $ua->get($stack->url('/api/version'))->result->json->{version};
    is_deeply($res->json, { version => $v }, 'agent version: the server version');
    $res = $ua->head($stack->url('/api/agent/version'))->result;
    is($res->code, 200, 'agent version: HEAD');
}

# --- remote configuration (§6.5) ----------------------------------------------------------------
my $host = report('cfg-host-1', 'cfg-host-1', $rep)->json->{hostId};
is($host, 'cfg-host-1', 'a host reported with token agent-a');
{
    my $res = call(GET => "/api/agents/host/$host/config", undef, tok($rep));
    is($res->code, 200, 'config: its own token reads it');
    is_deeply($res->json, { success => true, hostId => $host, config => {} }, 'config: nothing set');
    json_error_ok(call(GET => "/api/agents/host/$host/config", undef, tok($rep2)), 403,
        'host_lookup_forbidden', 'config: another report token');
    json_error_ok(call(GET => '/api/agents/host/nobody/config', undef, tok($rep)), 404,
        'host_not_found', 'config: a report token and an unknown host');
    $res = call(GET => '/api/agents/host/nobody/config', undef, tok($both));
    is_deeply($res->json, { success => true, hostId => 'nobody', config => {} },
        'config: a token with host-agent:manage too reads any id');
    json_error_ok(call(GET => "/api/agents/host/$host/config", undef, tok($manager)), 403, 'missing_scope',
        'config: a manage-only token lacks host-agent:report');
    is(call(GET => "/api/agents/host/$host/config")->code, 200, 'config: the admin token reads it');
    json_error_ok(call(GET => "/api/agents/host/$host/config", undef, {}), 401, 'unauthorized', 'config: no credentials');
    json_error_ok(call(GET => "/api/agents/host/$host/config", undef, tok($reader)), 403, 'missing_scope',
        'config: a monitoring:read token');

    $res = call(PATCH => "/api/agents/host/$host/config", { commandsEnabled => true }, tok($manager));
    is($res->code, 200, 'PATCH: 200') or diag $res->body;
    is_deeply($res->json, { success => true, hostId => $host, config => { commandsEnabled => true } }, 'PATCH: the answer');
    is_deeply(call(GET => "/api/agents/host/$host/config", undef, tok($rep))->json->{config},
        { commandsEnabled => true }, 'config: the override');
    my ($h) = grep { $_->{id} eq $host } @{ $ua->get($stack->url('/api/state') => $auth)->result->json->{hosts} };
    is($h->{commandsEnabled}, true, 'state: the host shows the override');
    is_deeply(report('cfg-host-1', 'cfg-host-1', $rep)->json->{config}, { commandsEnabled => true },
        'the next report is answered with it');
    json_error_ok(call(PATCH => "/api/agents/host/$host/config", { commandsEnabled => false }, tok($rep)), 403,
        'missing_scope', 'PATCH: a report token');
    json_error_ok(call(PATCH => "/api/agents/host/$host/config", '{"commandsEnabled":', tok($manager)), 400,
        'invalid_json', 'PATCH: malformed JSON');
    json_error_ok(call(PATCH => "/api/agents/host/$host/config", { commandsEnabled => 'yes' }, tok($manager)), 400,
        'invalid_field', 'PATCH: a string');
    json_error_ok(call(PATCH => "/api/agents/host/$host/config", [true], tok($manager)), 400,
        'invalid_json', 'PATCH: an array');
    json_error_ok(call(PATCH => "/api/agents/host/$host/config", '{"x":"' . ('a' x 17000) . '"}', tok($manager)),
        413, 'payload_too_large', 'PATCH: over 16 KiB');
    $res = call(PATCH => "/api/agents/host/$host/config", { commandsEnabled => undef }, tok($manager));
    is_deeply($res->json->{config}, { commandsEnabled => undef }, 'PATCH null: cleared');
    is_deeply(call(GET => "/api/agents/host/$host/config")->json->{config}, {}, 'config: no override left');
    ($h) = grep { $_->{id} eq $host } @{ $ua->get($stack->url('/api/state') => $auth)->result->json->{hosts} };
    ok(!exists $h->{commandsEnabled}, 'state: commandsEnabled left out again');

    # Kept for an id no host has yet, and given to the host that reports under it.
    is(call(PATCH => '/api/agents/host/later-host/config', { commandsEnabled => false })->code, 200,
        'PATCH for a host that has not reported');
    is_deeply(report('later-host', 'later-host', $rep)->json->{config}, { commandsEnabled => false },
        'its first report is answered with it');
}

# --- profiles and assignments (§7) -----------------------------------------------------------------
my $profile;
{
    my $res = call(GET => '/api/admin/profiles');
    is($res->code, 200, 'profiles: 200');
    is_deeply($res->json, [], 'profiles: none');
    is_deeply(call(GET => '/api/admin/profiles/')->json, [], 'profiles: with the trailing slash');
    $res = call(POST => '/api/admin/profiles', { name => 'Fast', config => { interval => '2s', log_level => 'debug',
        enable_kubernetes => false }, id => 'mine', created_at => '2000-01-01T00:00:00Z' });
    is($res->code, 200, 'create: 200 as the original') or diag $res->body;
    $profile = $res->json;
    like($profile->{id}, qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'create: a UUIDv4 of the server');
    like($profile->{$_}, qr/^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, "create: $_ the server's") for qw(created_at updated_at);
    is_deeply($profile->{config}, { interval => '2s', log_level => 'debug', enable_kubernetes => false }, 'create: config');
    is_deeply(call(GET => '/api/admin/profiles')->json, [$profile], 'list: the profile');

    json_error_ok(call(POST => '/api/admin/profiles', { config => {} }), 400, 'missing_name', 'create: no name');
    json_error_ok(call(POST => '/api/admin/profiles', { name => '' }), 400, 'missing_name', 'create: empty name');
    json_error_ok(call(POST => '/api/admin/profiles', { name => 5 }), 400, 'invalid_field', 'create: a number for a name');
    json_error_ok(call(POST => '/api/admin/profiles', { name => 'x', config => [1] }), 400, 'invalid_field', 'create: config an array');
    json_error_ok(call(POST => '/api/admin/profiles', '{"name":'), 400, 'invalid_json', 'create: malformed JSON');
    json_error_ok(call(POST => '/api/admin/profiles', '"text"'), 400, 'invalid_json', 'create: not an object');
    json_error_ok(call(POST => '/api/admin/profiles', { name => 'big', config => { x => 'a' x 9000 } }), 413,
        'payload_too_large', 'create: over 8 KiB');
    json_error_ok(call(GET => '/api/admin/profiles', undef, {}), 401, 'unauthorized', 'profiles: no credentials');
    json_error_ok(call(GET => '/api/admin/profiles', undef, tok($rep)), 403, 'missing_scope',
        'profiles: a report token does not read them (settings:read)');
    json_error_ok(call(POST => '/api/admin/profiles', { name => 'sneaky', config => { commandsEnabled => true } },
        tok($writer)), 403, 'missing_scope', 'create: settings:write is not enough (host-agent:manage)');
    json_error_ok(call(POST => '/api/admin/profiles/assignments', { agent_id => 'x', profile_id => 'y' }, tok($reader)),
        403, 'missing_scope', 'assign: a monitoring:read token');
    is(call(GET => '/api/admin/profiles/assignments', undef, tok($reader))->code, 403, 'assignments: monitoring:read is not settings:read');
    my $mres = call(POST => '/api/admin/profiles', { name => 'by-manager' }, tok($manager));
    is($mres->code, 200, 'create: a host-agent:manage token');
    is(call(DELETE => "/api/admin/profiles/" . $mres->json->{id}, undef, tok($manager))->code, 200, 'delete: a host-agent:manage token');

    $res = call(PUT => "/api/admin/profiles/$profile->{id}", { name => 'Faster', config => { interval => '3s', log_level => 'debug' } });
    is($res->code, 200, 'replace: 200');
    is($res->json->{name}, 'Faster', 'replace: name');
    is($res->json->{created_at}, $profile->{created_at}, 'replace: created_at kept');
    $profile = $res->json;
    json_error_ok(call(PUT => '/api/admin/profiles/no-such', { name => 'x' }), 404, 'profile_not_found', 'replace: unknown id');
    json_error_ok(call(PUT => "/api/admin/profiles/$profile->{id}", { name => 'x', config => 'y' }), 400,
        'invalid_field', 'replace: config a string');
    json_error_ok(call(DELETE => '/api/admin/profiles/no-such'), 404, 'profile_not_found', 'delete: unknown id');

    $res = call(POST => '/api/admin/profiles/assignments', { agent_id => $host, profile_id => $profile->{id} });
    is($res->code, 200, 'assign: 200');
    is($res->json->{agent_id}, $host, 'assign: agent_id');
    is($res->json->{profile_id}, $profile->{id}, 'assign: profile_id');
    is(call(POST => '/api/admin/profiles/assignments', { agent_id => 'ghost', profile_id => 'not-a-profile' })->code, 200,
        'assign: the profile is not checked (as the original)');
    json_error_ok(call(POST => '/api/admin/profiles/assignments', { agent_id => $host }), 400, 'missing_fields',
        'assign: no profile_id');
    json_error_ok(call(POST => '/api/admin/profiles/assignments', { agent_id => 1, profile_id => 'p' }), 400,
        'invalid_field', 'assign: a number for agent_id');
    json_error_ok(call(POST => '/api/admin/profiles/assignments', '['), 400, 'invalid_json', 'assign: malformed');
    is_deeply([map { $_->{agent_id} } @{ call(GET => '/api/admin/profiles/assignments')->json }],
        ['cfg-host-1', 'ghost'], 'assignments: both');
    is_deeply(call(GET => "/api/agents/host/$host/config", undef, tok($rep))->json->{config},
        { settings => { interval => '3s', log_level => 'debug' } }, "config: the assigned profile's settings");
    $res = call(DELETE => '/api/admin/profiles/assignments/ghost');
    is($res->code, 204, 'unassign: 204');
    is(call(DELETE => '/api/admin/profiles/assignments/ghost')->code, 204, 'unassign again: 204');
}

# --- pulse-agent reads its configuration at start (§9.4) ------------------------------------------
SKIP: {
    my $agent_bin = PulseStack::builddir() . '/agent/pulse-agent';
    skip "$agent_bin not built", 6 unless -x $agent_bin;
    my $src = PulseStack::srcdir();
    my $run = sub {
        my ($log) = @_;
        local @ENV{qw(PULSE_TOKEN HOST_PROC HOST_SYS)} = ($rep->{raw}, "$src/t/agent/proc", "$src/t/agent/sys");
        return spawn($log, $agent_bin, '--url', $stack->url(''), '--interval', '30s', '--health-addr', '',
            '--hostname', 'agent-cfg-host', '--agent-id', 'agent-cfg-host', '--enable-docker=false',
            '--insecure');
    };
    my $state_host = sub {
        my ($x) = grep { $_->{hostname} eq 'agent-cfg-host' } @{ $ua->get($stack->url('/api/state') => $auth)->result->json->{hosts} };
        return $x;
    };
    # First start: the host is unknown, the local configuration is used.
    my $pid = $run->("$dir/agent1.log");
    ok(wait_for('the first report', sub { $state_host->() }), 'the agent reports')
        or diag slurp("$dir/agent1.log");
    stop($pid);
    skip 'the agent did not report', 5 unless $state_host->();
    my $id = $state_host->()->{id};
    is($state_host->()->{intervalSeconds}, 30, 'the local interval');
    is(call(POST => '/api/admin/profiles/assignments', { agent_id => $id, profile_id => $profile->{id} })->code, 200,
        'the profile assigned to the agent\'s host');
    is(call(PATCH => "/api/agents/host/$id/config", { commandsEnabled => true })->code, 200, 'commands enabled for it');
    # Second start: lookup, then its configuration.
    $pid = $run->("$dir/agent2.log");
    ok(wait_for('a report with the profile\'s interval', sub { ($state_host->()->{intervalSeconds} // 0) == 3 }),
        "the profile's interval (3s) is the agent's") or diag slurp("$dir/agent2.log");
    stop($pid);
    my $log = slurp("$dir/agent2.log");
    like($log, qr/profile settings applied=2 interval=3s/, 'the agent logs the settings it applied');
    like($log, qr/remote config applied commandsEnabled=true/, 'and the commandsEnabled override');
}

# --- profile deletion takes its assignments ---------------------------------------------------------
{
    my $res = call(DELETE => "/api/admin/profiles/$profile->{id}");
    is($res->code, 200, 'delete: 200');
    is($res->body, '', 'delete: empty body, as the original');
    is_deeply(call(GET => '/api/admin/profiles/assignments')->json, [], 'delete: its assignments gone');
    is_deeply(call(GET => "/api/agents/host/$host/config")->json->{config}, {}, 'config: no settings left');
}

# --- POST /api/auto-register (§9.10) ------------------------------------------------------------------
my $sim = $stack->start_sim(name => 'reg', nodes => 1, guests => 1, token => 'pulse-monitor@pam!pulse-1=reg-secret-1');
my %reg = (type => 'pve', host => $sim->{url}, serverName => 'regnode', tokenId => 'pulse-monitor@pam!pulse-1',
    tokenValue => 'reg-secret-1', source => 'agent');
{
    json_error_ok(call(POST => '/api/auto-register', \%reg, {}), 401, 'unauthorized', 'register: no token');
    json_error_ok(call(POST => '/api/auto-register', \%reg, tok($reader)), 403, 'missing_scope', 'register: a monitoring:read token');
    json_error_ok(call(POST => '/api/auto-register', \%reg, tok($rep)), 403, 'missing_scope',
        'register: a host-agent:report token (adding a server takes settings:write)');
    json_error_ok(call(POST => '/api/auto-register', \%reg, { 'X-API-Token' => 'not-a-token' }), 401, 'unauthorized',
        'register: an unknown token');
    json_error_ok(call(POST => '/api/auto-register', '{"type":', tok($writer)), 400, 'invalid_json', 'register: malformed JSON');
    json_error_ok(call(POST => '/api/auto-register', { %reg, host => 5 }, tok($writer)), 400, 'invalid_field', 'register: host a number');
    json_error_ok(call(POST => '/api/auto-register', { %reg, type => 'pmg' }, tok($writer)), 400, 'invalid_request', 'register: type pmg');
    json_error_ok(call(POST => '/api/auto-register', { %reg, tokenValue => '' }, tok($writer)), 400, 'invalid_request', 'register: no token value');
    json_error_ok(call(POST => '/api/auto-register', { %reg, tokenId => 'pulse-1' }, tok($writer)), 400, 'invalid_request',
        'register: a token id without user@realm!');
    json_error_ok(call(POST => '/api/auto-register', { %reg, source => 'x' }, tok($writer)), 400, 'invalid_request', 'register: bad source');
    json_error_ok(call(POST => '/api/auto-register', { %reg, pad => 'a' x 9000 }, tok($writer)), 413, 'payload_too_large',
        'register: over 8 KiB');
    is($stack->psql('SELECT count(*) FROM pulse.instances'), '0', 'nothing added by bad registrations');

    my $res = call(POST => '/api/auto-register', \%reg, tok($writer));
    is($res->code, 200, 'register: 200 with a settings:write token') or diag $res->body;
    is_deeply($res->json, { status => 'success', message => "Node $sim->{url} auto-registered successfully",
        nodeId => $sim->{url} }, 'register: the original\'s answer');
    my $nodes = call(GET => '/api/config/nodes')->json;
    is(scalar @$nodes, 1, 'one node configured');
    is($nodes->[0]{name}, 'regnode', 'named after serverName');
    is($nodes->[0]{host}, $sim->{url}, 'its host');
    is($nodes->[0]{tokenName}, 'pulse-monitor@pam!pulse-1', 'its token id');
    is($stack->psql("SELECT fingerprint FROM pulse.instances"), $sim->{fingerprint}, 'the server\'s certificate pinned');
    unlike($stack->psql("SELECT token_value_enc FROM pulse.instances"), qr/reg-secret/, 'the token value sealed');

    $res = call(POST => '/api/auto-register', { %reg, tokenValue => 'reg-secret-2' }, tok($writer));
    is($res->code, 200, 'register again with a settings:write token');
    is($stack->psql('SELECT count(*) FROM pulse.instances'), '1', 'de-duplicated by host');
    # The simulator still takes only the first secret: put it back.
    is(call(POST => '/api/auto-register', \%reg, tok($writer))->code, 200, 'register with the right secret again');
}
my $state = $stack->wait_state(sub { grep { $_->{instance} eq 'regnode' } @{ $_[0]{nodes} } }, 60,
    'the registered server polled');
my ($node) = grep { $_->{instance} eq 'regnode' } @{ $state->{nodes} };
ok($node, "the worker polls the registered server: node $node->{name}");
ok(!exists $node->{linkedHostAgentId}, 'no host agent linked yet');

# --- linking (§6.6) ---------------------------------------------------------------------------------
{
    my $res = report('node-agent', uc($node->{name}) . '.example.com', $rep,
        { cpu_package => 52.5, cpu_core_0 => 50, cpu_core_1 => 55, nvme0 => 41 });
    is($res->code, 200, 'a host agent on the node reports');
    my ($x) = grep { $_->{id} eq 'node-agent' } @{ $ua->get($stack->url('/api/state') => $auth)->result->json->{hosts} };
    is($x->{linkedNodeId}, $node->{id}, 'the host is linked to the node');
    $state = $ua->get($stack->url('/api/state') => $auth)->result->json;
    my ($n) = grep { $_->{id} eq $node->{id} } @{ $state->{nodes} };
    is($n->{linkedHostAgentId}, 'node-agent', 'the node names its host agent');
    my $t = $n->{temperature};
    ok($t, 'the node has a temperature') or diag explain $n;
    is($t->{cpuPackage}, 52.5, 'temperature: the package reading');
    is($t->{cpuMax}, 55, 'temperature: the hottest core');
    is_deeply($t->{cores}, [{ core => 0, temp => 50 }, { core => 1, temp => 55 }], 'temperature: cores');
    is_deeply($t->{nvme}, [{ device => 'nvme0', temp => 41 }], 'temperature: NVMe');
    is($t->{available}, true, 'temperature: available');
    $wc->check('Node', $n, 'linked node');
    $wc->check('Temperature', $t, 'linked node temperature');

    # The node's physical disks take their temperatures from the agent's SMART readings
    # (by device path, or by serial), when Proxmox gives none.
    $state = $stack->wait_state(sub { grep { $_->{node} eq $node->{name} } @{ $_[0]{physicalDisks} } }, 60,
        'the node\'s physical disks');
    my @disks = grep { $_->{node} eq $node->{name} } @{ $state->{physicalDisks} };
    my ($sda) = grep { $_->{devPath} eq '/dev/sda' } @disks;
    my ($sdb) = grep { $_->{devPath} eq '/dev/sdb' } @disks;
    is($sda->{temperature}, 0, 'disk: no temperature from Proxmox');
    $res = call(POST => '/api/agents/host/report', {
        agent => { id => 'node-agent', version => '5.0.4', type => 'unified', intervalSeconds => 30 },
        host => { id => 'node-agent', hostname => uc($node->{name}) . '.example.com' },
        sensors => { temperatureCelsius => { cpu_package => 52.5 }, smart => [
            { device => 'sda', model => 'm', type => 'sata', temperature => 36 },
            { device => 'sdx', serial => $sdb->{serial}, type => 'sata', temperature => 31 },
            { device => 'nvme0n1', temperature => 44, standby => true } ] } }, tok($rep));
    is($res->code, 200, 'the agent reports its SMART disks');
    $state = $ua->get($stack->url('/api/state') => $auth)->result->json;
    my %t = map { $_->{devPath} => $_->{temperature} } grep { $_->{node} eq $node->{name} } @{ $state->{physicalDisks} };
    is($t{'/dev/sda'}, 36, 'disk: temperature by device path');
    is($t{'/dev/sdb'}, 31, 'disk: temperature by serial');
    is($t{'/dev/nvme0n1'}, 0, 'disk: a disk in standby gives none');
    ($n) = grep { $_->{id} eq $node->{id} } @{ $state->{nodes} };
    is($n->{temperature}{hasSMART}, true, 'temperature: hasSMART');
    $wc->check('Temperature', $n->{temperature}, 'linked node temperature with SMART');
    $wc->check('DiskTemp', $_, 'SMART temperature') for @{ $n->{temperature}{smart} };

    # Temperatures turned off for the node's instance: the link stays, the readings go.
    $stack->psql(q{UPDATE pulse.instances SET temperature_monitoring_enabled = false});
    report('node-agent', uc($node->{name}) . '.example.com', $rep, { cpu_package => 53 });
    ($n) = grep { $_->{id} eq $node->{id} } @{ $ua->get($stack->url('/api/state') => $auth)->result->json->{nodes} };
    is($n->{linkedHostAgentId}, 'node-agent', 'temperatures off: still linked');
    ok(!exists $n->{temperature} || !$n->{temperature}{cpuPackage} || $n->{temperature}{cpuPackage} != 53,
        'temperatures off: not the agent\'s');
    $stack->psql(q{UPDATE pulse.instances SET temperature_monitoring_enabled = NULL});

    is(call(POST => '/api/agents/host/unlink', { hostId => 'node-agent' }, tok($manager))->code, 200, 'unlinked');
    ($n) = grep { $_->{id} eq $node->{id} } @{ $ua->get($stack->url('/api/state') => $auth)->result->json->{nodes} };
    ok(!exists $n->{linkedHostAgentId}, 'the node no longer names it');
}

# A host agent inside one of the simulator's VMs is linked to that VM (§6.6), by the id
# /api/state gives it.
{
    my $st = $stack->wait_state(sub { grep { $_->{instance} eq 'regnode' } @{ $_[0]{vms} } }, 60,
        'the registered server\'s VM');
    my ($vm) = grep { $_->{instance} eq 'regnode' } @{ $st->{vms} };
    is(report('vm-agent', uc($vm->{name}) . '.lan', $rep)->code, 200, "a host agent in VM $vm->{name} reports");
    my ($x) = grep { $_->{id} eq 'vm-agent' } @{ $ua->get($stack->url('/api/state') => $auth)->result->json->{hosts} };
    is($x->{linkedVmId}, $vm->{id}, 'the host is linked to the VM');
    ok(!exists $x->{linkedNodeId} && !exists $x->{linkedContainerId}, 'and to nothing else');
    $wc->check('Host', $x, 'host linked to a VM');
}

# --- auto-register of a node of a configured cluster (state-proxmox.md §2.3 step 6) ------------------
{
    my $nodes = call(GET => '/api/config/nodes')->json;
    ok(!$nodes->[0]{isCluster}, 'the standalone server registered above is no cluster');
    my $c1 = $stack->start_sim(name => 'regc1', nodes => 2, cluster => 'regcluster', token => 'root@pam!cl=cluster-secret');
    my $res = call(POST => '/api/config/nodes', { type => 'pve', name => 'clusterA', host => $c1->{url},
        tokenName => 'root@pam!cl', tokenValue => 'cluster-secret', fingerprint => $c1->{fingerprint} });
    is($res->code, 201, 'a cluster configured by hand') or diag $res->body;
    my $cid = $res->json->{id};
    my $count = $stack->psql('SELECT count(*) FROM pulse.instances');
    # Another node of that cluster (which has since grown a third member) registers itself.
    my $c2 = $stack->start_sim(name => 'regc2', nodes => 3, cluster => 'regcluster',
        token => 'pulse-monitor@pam!pulse-2=reg-secret-2');
    my %r2 = (%reg, host => $c2->{url}, serverName => 'node3', tokenId => 'pulse-monitor@pam!pulse-2',
        tokenValue => 'reg-secret-2');
    $res = call(POST => '/api/auto-register', \%r2, tok($writer));
    is($res->code, 200, 'register a node of the configured cluster') or diag $res->body;
    is_deeply($res->json, { status => 'success', message => "Node $c2->{url} auto-registered successfully",
        nodeId => $c2->{url}, merged => true, cluster => 'regcluster', existingNode => 'clusterA', existingNodeId => $cid },
        'the answer names the cluster instance it was merged into');
    is($stack->psql('SELECT count(*) FROM pulse.instances'), $count, 'no second instance of the cluster');
    my ($cfg) = grep { $_->{id} eq $cid } @{ call(GET => '/api/config/nodes')->json };
    is_deeply([sort map { $_->{NodeName} } @{ $cfg->{clusterEndpoints} }], [qw(node1 node2 node3)],
        'the new member merged into the cluster instance');
    is($stack->psql("SELECT token_name FROM pulse.instances WHERE id = '$cid'"), 'root@pam!cl',
        'the cluster instance keeps its own token');
    is(call(POST => '/api/auto-register', \%r2, tok($writer))->json->{existingNodeId}, $cid, 'registering again: merged again');
    is($stack->psql('SELECT count(*) FROM pulse.instances'), $count, 'still no second instance');
    is(scalar @{ (grep { $_->{id} eq $cid } @{ call(GET => '/api/config/nodes')->json })[0]{clusterEndpoints} }, 3,
        'and no member listed twice');

    # A node of a cluster that is not configured yet is added as that cluster's instance.
    my $c3 = $stack->start_sim(name => 'regc3', nodes => 2, cluster => 'othercluster',
        token => 'pulse-monitor@pam!pulse-3=reg-secret-3');
    $res = call(POST => '/api/auto-register', { %reg, host => $c3->{url}, serverName => 'other1',
        tokenId => 'pulse-monitor@pam!pulse-3', tokenValue => 'reg-secret-3' }, tok($writer));
    is_deeply($res->json, { status => 'success', message => "Node $c3->{url} auto-registered successfully",
        nodeId => $c3->{url} }, 'a node of an unconfigured cluster: the usual answer');
    my ($new) = grep { $_->{host} eq $c3->{url} } @{ call(GET => '/api/config/nodes')->json };
    ok($new, 'added as a new instance');
    is($new->{isCluster}, true, 'marked a cluster');
    is($new->{clusterName}, 'othercluster', 'with its name');
    is(scalar @{ $new->{clusterEndpoints} // [] }, 2, 'and its members');
    $stack->stop_program("sim-$_") for qw(regc1 regc2 regc3);
}

is_deeply([$wc->problems], [], 'every answer matches the wire contract') or diag join "\n", $wc->problems;
done_testing();
