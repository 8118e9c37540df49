#!/usr/bin/perl
# 62-agent-host.t: host agents' reports through the real stack (agents.md §3, §6.1-§6.4,
# §12): the original's example body stored and answered, the host in /api/state field by
# field and against the wire contract, the decoder's type errors, bounded arrays, the body
# limit, auth and scope, identity and token binding (one token for two hosts, two tokens
# for one id), lookup, linking to a PVE node and an unlink that stays, linking to a VM or a
# container (nodes first, short names, never the mock estate), uninstall, removal
# that revokes the token (the removed host's next report is refused), alerts raised by the
# worker from a stored report, a host going offline (its last report made to look old), the
# removed host's alerts resolved, metrics history with I/O rates, text PostgreSQL could
# refuse (invalid UTF-8, NUL).
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

my $stack = PulseStack->new(settings => { metrics_flush_interval => 1 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $wc = WireContract->new;

# Tokens: two reporters, one of the wrong scope, one manager.
sub new_token {
    my ($name, @scopes) = @_;
    my $res = $ua->post($stack->url('/api/security/tokens') => $auth => json => { name => $name, scopes => \@scopes })->result;
    is($res->code, 200, "token $name created") or diag $res->body;
    my $j = $res->json;
    return { raw => $j->{token}, id => $j->{record}{id} };
}
my $rep = new_token('agent-a', 'host-agent:report');
my $rep2 = new_token('agent-b', 'host-agent:report');
my $reader = new_token('reader', 'monitoring:read');
my $manager = new_token('manager', 'host-agent:manage');
# As the agents send them: both headers.
sub agent_headers { my $t = shift; { 'X-API-Token' => $t->{raw}, Authorization => "Bearer $t->{raw}" } }

# The example body of agents.md §3.1.
my $example = decode_json(<<'JSON');
{"agent":{"id":"3f2a9c1e-0d4b-4c1a-9e77-51a2b3c4d5e6","version":"5.0.4","type":"unified","intervalSeconds":30,"hostname":"nas01"},
 "host":{"id":"3f2a9c1e-0d4b-4c1a-9e77-51a2b3c4d5e6","hostname":"nas01","displayName":"nas01","machineId":"3f2a9c1e-0d4b-4c1a-9e77-51a2b3c4d5e6","platform":"debian","osName":"debian","osVersion":"12","kernelVersion":"6.1.0-18-amd64","architecture":"x86_64","cpuCount":8,"uptimeSeconds":86400,"loadAverage":[0.4,0.3,0.2]},
 "metrics":{"cpuUsagePercent":7.5,"memory":{"totalBytes":16777216000,"usedBytes":4194304000,"freeBytes":2097152000,"usage":25.0,"swapTotalBytes":2147483648,"swapUsedBytes":0}},
 "disks":[{"device":"/dev/sda2","mountpoint":"/","filesystem":"ext4","type":"ext4","totalBytes":100000000000,"usedBytes":40000000000,"freeBytes":55000000000,"usage":42.1}],
 "diskIO":[{"device":"sda","readBytes":123456,"writeBytes":654321,"readOps":10,"writeOps":20,"readTimeMs":5,"writeTimeMs":9,"ioTimeMs":12}],
 "network":[{"name":"eth0","mac":"52:54:00:12:34:56","addresses":["192.168.1.20/24"],"rxBytes":1000,"txBytes":2000}],
 "sensors":{"temperatureCelsius":{"cpu_package":48,"cpu_core_0":46},"smart":[{"device":"sda","model":"X","type":"sata","temperature":33,"health":"PASSED"}]},
 "timestamp":"2026-01-12T10:15:30Z"}
JSON

sub report {
    my ($body, $headers) = @_;
    my $tx = $ua->build_tx(POST => $stack->url('/api/agents/host/report') => { %{ $headers // agent_headers($rep) },
        'Content-Type' => 'application/json' } => ref $body ? encode_json($body) : $body);
    return $ua->start($tx)->result;
}
sub clone { decode_json(encode_json($_[0])) }
sub state_hosts { $ua->get($stack->url('/api/state') => $auth)->result->json->{hosts} }

# --- the example report -------------------------------------------------------------------
my $res = report($example);
is($res->code, 200, 'example report stored') or diag $res->body;
my $ans = $res->json;
is_deeply($ans, { success => true, hostId => '3f2a9c1e-0d4b-4c1a-9e77-51a2b3c4d5e6',
    lastSeen => '2026-01-12T10:15:30Z', platform => 'debian', osName => 'debian', osVersion => '12' },
    'answer: id from host.id, lastSeen the report time, no config without an override');
$wc->check('HostReportResponse', $ans, 'report answer');

my ($h) = @{ state_hosts() };
ok($h, 'the host is in /api/state') or BAIL_OUT('no host stored');
is($h->{id}, $ans->{hostId}, 'state: id');
is($h->{$_->[0]}, $_->[1], "state: $_->[0]") for ['hostname', 'nas01'], ['displayName', 'nas01'],
    ['platform', 'debian'], ['osName', 'debian'], ['osVersion', '12'], ['kernelVersion', '6.1.0-18-amd64'],
    ['architecture', 'x86_64'], ['cpuCount', 8], ['cpuUsage', 7.5], ['status', 'online'],
    ['uptimeSeconds', 86400], ['intervalSeconds', 30], ['agentVersion', '5.0.4'],
    ['lastSeen', 1768212930000], ['tokenId', $rep->{id}], ['tokenName', 'agent-a'];
is_deeply($h->{loadAverage}, [0.4, 0.3, 0.2], 'state: loadAverage');
is_deeply($h->{memory}, { total => 16777216000, used => 4194304000, free => 2097152000, usage => 25,
    swapTotal => 2147483648 }, 'state: memory in bytes, swapUsed 0 left out');
is_deeply($h->{disks}, [{ total => 100000000000, used => 40000000000, free => 55000000000, usage => 42.1,
    mountpoint => '/', type => 'ext4', device => '/dev/sda2' }], 'state: disks');
is_deeply($h->{diskIO}, $example->{diskIO}, 'state: diskIO as reported');
is_deeply($h->{networkInterfaces}, $example->{network}, 'state: networkInterfaces');
is_deeply($h->{sensors}, { temperatureCelsius => { cpu_package => 48, cpu_core_0 => 46 },
    smart => [{ device => 'sda', model => 'X', type => 'sata', temperature => 33, health => 'PASSED' }] },
    'state: sensors');
like($h->{tokenHint} // '', qr/^\w+…\w+$/, 'state: tokenHint prefix, ellipsis, suffix');
like($h->{tokenLastUsedAt} // '', qr/^\d{13}$/, 'state: tokenLastUsedAt in epoch ms');
ok(!exists $h->{$_}, "state: $_ left out") for qw(isLegacy commandsEnabled tags linkedNodeId raid);
$wc->check('Host', $h, 'state host');

# A legacy agent's report with the server's filters and defaults.
my $legacy = clone($example);
$legacy->{agent} = { version => ' 4.1 ', commandsEnabled => true };
$legacy->{host} = { hostname => ' web-01.example.com ', platform => 'Ubuntu', machineId => 'M-1' };
$legacy->{metrics} = { memory => { totalBytes => 1000, usedBytes => 250 } };
$legacy->{disks} = [map { { mountpoint => $_->[0], type => $_->[1], totalBytes => 10, usedBytes => 5 } }
    ['/', 'xfs'], ['/run', 'tmpfs'], ['/boot/efi', 'vfat'], ['/mnt/nfs', 'nfs4'], ['/snap/core', 'squashfs'], ['/data', 'btrfs']];
$legacy->{tags} = ['prod', ' ', 'db'];
delete $legacy->{timestamp};
$res = report($legacy);
is($res->code, 200, 'legacy report stored') or diag $res->body;
is($res->json->{hostId}, 'm-1', 'id: machineId sanitised');
is($res->json->{platform}, 'ubuntu', 'platform lower-cased');
like($res->json->{lastSeen}, qr/^\d{4}-\d\d-\d\dT[\d:.]+Z$/, 'no timestamp: the server time, RFC 3339');
($h) = grep { $_->{id} eq 'm-1' } @{ state_hosts() };
is($h->{hostname}, 'web-01.example.com', 'hostname trimmed');
is($h->{displayName}, 'web-01.example.com', 'displayName falls back to hostname');
is($h->{memory}{usage}, 25, 'memory usage from used / total');
is_deeply([map { $_->{mountpoint} } @{ $h->{disks} }], ['/', '/data'], 'tmpfs, /run, /boot/efi, nfs and squashfs dropped');
is_deeply($h->{tags}, ['prod', 'db'], 'tags kept, blank ones dropped');
ok($h->{isLegacy} && $h->{commandsEnabled}, 'isLegacy (type not unified), commandsEnabled from the agent');
is($h->{agentVersion}, '4.1', 'agentVersion trimmed');
$wc->check('Host', $h, 'legacy host');
is(scalar @{ state_hosts() }, 2, 'two hosts');

# --- what the decoder refuses --------------------------------------------------------------
for my $case (
    ['{"host":', 'malformed JSON'],
    ['[1,2]', 'an array'],
    [sub { $_[0]{host}{cpuCount} = '8' }, 'cpuCount as a string'],
    [sub { $_[0]{host}{cpuCount} = 8.5 }, 'cpuCount with a fraction'],
    [sub { $_[0]{host}{hostname} = 7 }, 'hostname as a number'],
    [sub { $_[0]{metrics}{memory} = [] }, 'memory as an array'],
    [sub { $_[0]{disks} = {} }, 'disks as an object'],
    [sub { $_[0]{diskIO}[0]{readBytes} = -1 }, 'a negative counter'],
    [sub { $_[0]{sensors}{temperatureCelsius}{x} = 'hot' }, 'a temperature as text'],
    [sub { $_[0]{timestamp} = '' }, 'an empty timestamp'],
    [sub { $_[0]{timestamp} = 'yesterday' }, 'a timestamp that is not RFC 3339'],
    [sub { $_[0]{tags} = [1] }, 'a tag as a number'],
    [sub { $_[0]{agent}{commandsEnabled} = 'yes' }, 'a boolean as text'],
    [sub { $_[0]{ceph} = { pgMap => { numPgs => 'many' } } }, 'a Ceph figure as text'],
) {
    my ($change, $name) = @$case;
    my $body = $change;
    if (ref $change) { $body = clone($example); $change->($body) }
    my $err = json_error_ok(report($body), 400, 'invalid_json', $name);
    ok(length($err->{details}{error} // ''), "$name: the decoder's message in details.error")
        if ref $change;
}
my $nohost = clone($example);
$nohost->{host}{hostname} = '  ';
json_error_ok(report($nohost), 400, 'invalid_report', 'blank hostname');
my $nulls = clone($example);
$nulls->{$_} = undef for qw(disks diskIO network sensors raid ceph tags timestamp metrics);
$nulls->{host}{loadAverage} = undef;
$nulls->{unknownField} = { anything => [1, 'x'] };
is(report($nulls)->code, 200, 'null members and unknown fields are accepted');

# Bounded: a body at the original's 256 KiB limit, arrays cut to 256 entries.
my $big = clone($example);
$big->{diskIO} = [map { { device => "sd$_", readBytes => $_ } } 1 .. 5000];
ok(length(encode_json($big)) < 256 * 1024, 'a body of 5,000 diskIO entries fits the limit');
is(report($big)->code, 200, 'huge arrays accepted');
($h) = grep { $_->{id} eq $ans->{hostId} } @{ state_hosts() };
is(scalar @{ $h->{diskIO} }, 256, 'diskIO cut to 256 entries');
$big->{diskIO} = [map { { device => "sd$_", readBytes => $_ } } 1 .. 20000];
json_error_ok(report($big), 413, 'payload_too_large', 'a body over 256 KiB');
is(report($example)->code, 200, 'the example again');

# --- auth and scope ------------------------------------------------------------------------
json_error_ok(report($example, {}), 401, 'unauthorized', 'no credentials');
my $e = json_error_ok(report($example, agent_headers($reader)), 403, 'missing_scope', 'token without host-agent:report');
is($e->{requiredScope}, 'host-agent:report', 'requiredScope named');
is(report($example, $auth)->code, 200, 'the admin token (all scopes) may report (a host of its own: another token)');

# --- identity: one token for two hosts, two tokens for one id -----------------------------
my $other = clone($example);
$other->{host}{hostname} = 'nas02';
$res = report($other);
is($res->code, 200, 'same id, other hostname, same token');
my $collide = $res->json->{hostId};
like($collide, qr/^3f2a9c1e-0d4b-4c1a-9e77-51a2b3c4d5e6-[0-9a-f]{8}$/, 'the id collides: base + hash');
is(report($other)->json->{hostId}, $collide, 'the binding keeps the collision id');
is(report($example)->json->{hostId}, $ans->{hostId}, 'and the first host keeps its id');
$res = report($example, agent_headers($rep2));
like($res->json->{hostId}, qr/-[0-9a-f]{8}$/, 'another token with the same identity gets its own id');
isnt($res->json->{hostId}, $collide, 'different from the other collision');
my $rep2_host = $res->json->{hostId};
is(scalar @{ state_hosts() }, 5, 'five hosts: nas01 and nas02 of one token, one each of rep2, the admin token, m-1');

# --- lookup --------------------------------------------------------------------------------
sub lookup { $ua->get($stack->url("/api/agents/host/lookup?$_[0]") => ($_[1] // agent_headers($rep)))->result }
$res = lookup("id=$ans->{hostId}");
is($res->code, 200, 'lookup by id') or diag $res->body;
$wc->check('HostLookupResponse', $res->json, 'lookup');
is_deeply([@{ $res->json->{host} }{qw(id hostname displayName status connected agentVersion)}],
    [$ans->{hostId}, 'nas01', 'nas01', 'online', true, '5.0.4'], 'lookup: the host');
like($res->json->{host}{lastSeen}, qr/^2026-01-12T10:15:30Z$/, 'lookup: lastSeen RFC 3339');
is(lookup('hostname=WEB-01.EXAMPLE.COM')->json->{host}{id}, 'm-1', 'lookup by hostname, any case');
is(lookup('hostname=web-01.other')->json->{host}{id}, 'm-1', 'lookup by short name');
json_error_ok(lookup('hostname=nothere'), 404, 'host_not_found', 'lookup of an unknown host');
json_error_ok(lookup(''), 400, 'missing_lookup_param', 'lookup without a parameter');
json_error_ok(lookup("id=$rep2_host"), 403, 'host_lookup_forbidden', "lookup of another token's host");

# --- unlink, uninstall, delete ---------------------------------------------------------------
sub post_json { my ($path, $body, $h) = @_; $ua->post($stack->url($path) => ($h // $auth) => json => $body)->result }
json_error_ok(post_json('/api/agents/host/unlink', { hostId => 'm-1' }), 404, 'unlink_failed', 'unlink of a host with no node');
json_error_ok(post_json('/api/agents/host/unlink', {}), 400, 'missing_host_id', 'unlink without hostId');
json_error_ok(post_json('/api/agents/host/unlink', { hostId => 5 }), 400, 'invalid_field', 'unlink with hostId a number');
json_error_ok(post_json('/api/agents/host/unlink', { hostId => 'm-1' }, agent_headers($rep)), 403, 'missing_scope', 'unlink needs host-agent:manage');
json_error_ok(post_json('/api/agents/host/uninstall', { hostId => ' ' }, agent_headers($rep)), 400, 'missing_host_id', 'uninstall without hostId');
$res = post_json('/api/agents/host/uninstall', { hostId => 'never-seen' }, agent_headers($rep));
is_deeply($res->json, { success => true, hostId => 'never-seen', message => 'Host unregistered successfully' }, 'uninstall of an unknown host: 200');

# Deleting the hosts of rep2's token revokes it: the host cannot report again.
$res = $ua->delete($stack->url("/api/agents/host/$rep2_host") => agent_headers($manager))->result;
is_deeply($res->json, { success => true, hostId => $rep2_host, message => 'Host removed' }, 'delete: 200');
ok(!grep({ $_->{id} eq $rep2_host } @{ state_hosts() }), 'delete: gone from the state');
json_error_ok(report($example, agent_headers($rep2)), 401, 'unauthorized', 'the removed host reports again: its token is revoked');
json_error_ok($ua->delete($stack->url("/api/agents/host/m-1") => agent_headers($rep))->result, 403, 'missing_scope', 'delete needs host-agent:manage');
# A token other hosts still use stays.
$res = $ua->delete($stack->url("/api/agents/host/$collide") => agent_headers($manager))->result;
is($res->code, 200, 'delete of one of two hosts of a token');
is(report($example)->code, 200, 'the token still reports for its other host');
is($ua->delete($stack->url('/api/agents/host/unknown-id') => agent_headers($manager))->result->code, 200, 'delete of an unknown id: 200');

# --- linking to a PVE node by hostname (§6.6) and an unlink that stays (the QUIRK fixed) ----
{
    $stack->psql(q{INSERT INTO pulse.pve_nodes (id, instance_id, node, status, last_seen, doc)
        VALUES ('lab-pve1', 'pve-77', 'PVE1', 'online', now(), '{}')});
    my $n = clone($example);
    $n->{host}{id} = $n->{host}{machineId} = $n->{agent}{id} = 'node-host';
    $n->{host}{hostname} = 'pve1.example.com';
    is(report($n)->code, 200, 'a host named as a node (short name, any case)');
    my ($x) = grep { $_->{id} eq 'node-host' } @{ state_hosts() };
    is($x->{linkedNodeId}, 'lab-pve1', 'linked to the node');
    $res = post_json('/api/agents/host/unlink', { hostId => 'node-host' });
    is_deeply($res->json, { success => true, hostId => 'node-host', message => 'Host agent unlinked from PVE node' }, 'unlink: 200');
    ($x) = grep { $_->{id} eq 'node-host' } @{ state_hosts() };
    ok(!exists $x->{linkedNodeId}, 'unlinked in the state');
    is(report($n)->code, 200, 'the host reports again');
    ($x) = grep { $_->{id} eq 'node-host' } @{ state_hosts() };
    ok(!exists $x->{linkedNodeId}, 'and stays unlinked (the original links it again)');
    json_error_ok(post_json('/api/agents/host/unlink', { hostId => 'node-host' }), 404, 'unlink_failed', 'a second unlink');
    is($ua->delete($stack->url('/api/agents/host/node-host') => agent_headers($manager))->result->code, 200, 'node host removed');
    $stack->psql(q{DELETE FROM pulse.pve_nodes WHERE id = 'lab-pve1'});
}

# --- linking to a VM or a container by name (§6.6): nodes first, then VMs, then containers;
# the short names either way; the mock estate's guests never -----------------------------------
{
    $stack->psql(q{INSERT INTO pulse.pve_nodes (id, instance_id, node, status, last_seen, doc)
        VALUES ('lab-pve3', 'pve-77', 'pve3', 'online', now(), '{"id":"lab-pve3"}')});
    $stack->psql(q{INSERT INTO pulse.guests (id, instance_id, node, vmid, name, type, status, last_seen, doc) VALUES
        ('pve-77:pve3:101', 'pve-77', 'pve3', 101, 'Web01', 'qemu', 'running', now(), '{}'),
        ('pve-77:pve3:105', 'pve-77', 'pve3', 105, 'web01', 'lxc', 'running', now(), '{}'),
        ('pve-77:pve3:102', 'pve-77', 'pve3', 102, 'db01.lan', 'lxc', 'running', now(), '{}'),
        ('pve-77:pve3:103', 'pve-77', 'pve3', 103, 'PVE3', 'qemu', 'running', now(), '{}'),
        ('mock-cluster:pve1:104', 'mock-cluster', 'pve1', 104, 'ghost', 'qemu', 'running', now(), '{}'),
        ('mock-cluster:pve1:106', 'mock-cluster', 'pve1', 106, 'spook', 'lxc', 'running', now(), '{}')});
    my %links;
    for my $case (['web-host', 'WEB01.example.com'], ['db-host', 'db01'], ['pve3-host', 'pve3.lan'],
        ['ghost-host', 'ghost'], ['spook-host', 'spook.example.com']) {
        my ($id, $hostname) = @$case;
        my $n = clone($example);
        $n->{host}{id} = $n->{host}{machineId} = $n->{agent}{id} = $id;
        $n->{host}{hostname} = $hostname;
        is(report($n)->code, 200, "$id ($hostname) reports");
    }
    my %x = map { $_->{id} => $_ } @{ state_hosts() };
    my $links = sub { my $h = $x{ $_[0] }; +{ map { exists $h->{$_} ? ($_ => $h->{$_}) : () } qw(linkedNodeId linkedVmId linkedContainerId) } };
    is_deeply($links->('web-host'), { linkedVmId => 'pve-77:pve3:101' },
        'a host named as a VM (its short name, any case) is linked to the VM, not the container of the same name');
    is_deeply($links->('db-host'), { linkedContainerId => 'pve-77:pve3:102' },
        "a host named as a container's short name is linked to the container");
    is_deeply($links->('pve3-host'), { linkedNodeId => 'lab-pve3' }, 'a node beats a VM of the same name; one link only');
    is_deeply($links->('ghost-host'), {}, "the mock estate's VMs are never linked");
    is_deeply($links->('spook-host'), {}, "nor its containers");
    $wc->check('Host', $x{'web-host'}, 'host linked to a VM');
    $wc->check('Host', $x{'db-host'}, 'host linked to a container');
    my ($node) = grep { $_->{id} eq 'lab-pve3' } @{ $ua->get($stack->url('/api/state') => $auth)->result->json->{nodes} };
    is($node->{linkedHostAgentId}, 'pve3-host', 'the node names the host linked to it');
    # The VM goes: the next report links the host to the container of that name.
    $stack->psql(q{DELETE FROM pulse.guests WHERE id = 'pve-77:pve3:101'});
    my $n = clone($example);
    $n->{host}{id} = $n->{host}{machineId} = $n->{agent}{id} = 'web-host';
    $n->{host}{hostname} = 'WEB01.example.com';
    is(report($n)->code, 200, 'web-host reports again');
    %x = map { $_->{id} => $_ } @{ state_hosts() };
    is_deeply($links->('web-host'), { linkedContainerId => 'pve-77:pve3:105' }, 'the link follows: now the container');
    is($ua->delete($stack->url("/api/agents/host/$_") => agent_headers($manager))->result->code, 200, "$_ removed")
        for qw(web-host db-host pve3-host ghost-host spook-host);
    $stack->psql(q{DELETE FROM pulse.guests WHERE instance_id IN ('pve-77', 'mock-cluster') AND vmid BETWEEN 101 AND 106});
    $stack->psql(q{DELETE FROM pulse.pve_nodes WHERE id = 'lab-pve3'});
}

# --- alerts: the worker evaluates each stored report; a silent host goes offline ----------------
is($ua->post($stack->url('/api/alerts/activate') => $auth)->result->code, 200, 'alerts activated');
sub active_alerts { +{ map { ($_->{id} => $_) } @{ $ua->get($stack->url('/api/alerts/active') => $auth)->result->json // [] } } }
my $hot = clone($example);
$hot->{host}{id} = $hot->{host}{machineId} = $hot->{agent}{id} = 'hot-host';
$hot->{host}{hostname} = 'hot';
delete $hot->{timestamp};
$hot->{raid} = [{ device => '/dev/md2', level => 'raid1', state => 'clean, degraded', totalDevices => 2,
    activeDevices => 1, workingDevices => 1, failedDevices => 1, spareDevices => 0, devices => [], rebuildPercent => 0 }];
# Reported again until the alert's time threshold has passed (as an agent does every interval).
$stack->wait_for(sub { report($hot)->code == 200 or return 0;
    $stack->psql(q{SELECT count(*) FROM pulse.alerts WHERE id = 'host-hot-host-raid-md2' AND resolved_at IS NULL}) == 1 },
    60, 'the degraded array raised by the worker', 'worker-1');
my $al = active_alerts();
ok($al->{'host-hot-host-raid-md2'}, 'raid alert from a stored report, under the server host id')
    or diag explain [sort keys %$al];

# A clean report resolves it.
$hot->{raid}[0]{state} = 'clean';
$hot->{raid}[0]{failedDevices} = 0;
is(report($hot)->code, 200, 'healthy report');
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.alerts WHERE id = 'host-hot-host-raid-md2' AND resolved_at IS NULL}) == 0 },
    30, 'the array alert resolved', 'worker-1');
pass('healthy report resolves the raid alert');

# Silence: the host's last report made to look 20 minutes old (beyond any window, 600 s at most).
$stack->psql(q{UPDATE pulse.agent_hosts SET received_at = now() - interval '20 minutes' WHERE id = 'hot-host'});
my $st = $stack->wait_state(sub { my ($x) = grep { $_->{id} eq 'hot-host' } @{ $_[0]{hosts} }; $x && $x->{status} eq 'offline' },
    40, 'the silent host offline');
($h) = grep { $_->{id} eq 'hot-host' } @{ $st->{hosts} };
is($h->{status}, 'offline', 'silent host: status offline in /api/state');
$wc->check('Host', $h, 'offline host');
$res = lookup('id=hot-host');
is($res->json->{host}{connected}, false, 'lookup: not connected');
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.alerts WHERE id = 'host-offline-hot-host' AND resolved_at IS NULL}) == 1 },
    60, 'host-offline after three offline evaluations', 'worker-1');
pass('host-offline raised');
is(report($hot)->code, 200, 'the host reports again');
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.alerts WHERE id = 'host-offline-hot-host' AND resolved_at IS NULL}) == 0 },
    30, 'host-offline resolved', 'worker-1');
($h) = grep { $_->{id} eq 'hot-host' } @{ state_hosts() };
is($h->{status}, 'online', 'online again');

# A removed host's alerts resolve.
$hot->{raid}[0]{state} = 'clean, degraded';
$stack->wait_for(sub { report($hot);
    $stack->psql(q{SELECT count(*) FROM pulse.alerts WHERE id = 'host-hot-host-raid-md2' AND resolved_at IS NULL}) == 1 },
    60, 'raised again', 'worker-1');
is($ua->delete($stack->url('/api/agents/host/hot-host') => agent_headers($manager))->result->code, 200, 'hot host removed');
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.alerts WHERE source = 'host:hot-host' AND resolved_at IS NULL}) == 0 },
    40, "the removed host's alerts resolved", 'worker-1');
pass("removed host's alerts resolved");

# --- metrics history: each report's figures, I/O as rates between consecutive reports -------
{
    my $m = clone($example);
    $m->{host}{id} = $m->{host}{machineId} = $m->{agent}{id} = 'metrics-host';
    $m->{host}{hostname} = 'metrics';
    $m->{network} = [{ name => 'lo', rxBytes => 1e9, txBytes => 1e9 }, { name => 'eth0', rxBytes => 1000, txBytes => 2000 }];
    $m->{diskIO} = [{ device => 'sda', readBytes => 5000, writeBytes => 7000 }];
    is(report($m)->code, 200, 'metrics host: first report');
    is($stack->psql(q{SELECT count(*) FROM pulse.agent_hosts WHERE id = 'metrics-host' AND net_in_rate IS NULL AND net_in_total = 1000}), 1,
        'first report: totals without lo, no rate yet');
    sleep 1;
    $m->{network}[1]{rxBytes} = 1000 + 100000;
    $m->{diskIO}[0]{writeBytes} = 7000 + 50000;
    is(report($m)->code, 200, 'metrics host: second report');
    my $rates = $stack->psql(q{SELECT net_in_rate > 0 AND net_out_rate = 0 AND disk_write_rate > 0 AND disk_read_rate = 0 AND disk_usage = 42.1 FROM pulse.agent_hosts WHERE id = 'metrics-host'});
    is($rates, 't', 'second report: rates from the counters, disk usage of /');
    my $hist;
    $stack->wait_for(sub {
        $hist = $ua->get($stack->url('/api/metrics-store/history?resourceType=host&resourceId=metrics-host&range=1h') => $auth)->result->json;
        $hist && $hist->{metrics} && @{ $hist->{metrics}{cpu} // [] } >= 2 && @{ $hist->{metrics}{netin} // [] } }, 30, 'host metrics written', 'worker-1');
    is($hist->{metrics}{cpu}[-1]{value}, 7.5, 'history: cpu');
    is($hist->{metrics}{memory}[-1]{value}, 25, 'history: memory');
    ok($hist->{metrics}{netin}[0]{value} > 0, 'history: netin in bytes per second');
    $res = $ua->get($stack->url('/api/metrics-store/history?resourceType=host&resourceId=metrics-host&metric=disk&range=1h') => $auth)->result;
    is($res->json->{points}[-1]{value}, 42.1, 'history of one metric: disk');
    $m->{network}[1]{rxBytes} = 10;
    is(report($m)->code, 200, 'metrics host: counters reset (a reboot)');
    is($stack->psql(q{SELECT count(*) FROM pulse.agent_hosts WHERE id = 'metrics-host' AND net_in_rate IS NULL AND disk_write_rate = 0}), 1,
        'a counter that went back gives no rate');
}

# Text the database could refuse: invalid UTF-8 is refused as JSON (400); a NUL inside a string is
# cut from what is shown; the state keeps answering.
{
    my $bad = encode_json($example);
    $bad =~ s/"nas01"/"nas\xff01"/;
    json_error_ok(report($bad), 400, 'invalid_json', 'invalid UTF-8');
    my $nul = clone($example);
    $nul->{host}{id} = $nul->{host}{machineId} = $nul->{agent}{id} = 'nul-host';
    $nul->{host}{hostname} = "nul";
    $nul->{host}{kernelVersion} = "6.1\x{0}evil";
    $nul->{sensors}{temperatureCelsius} = { "a\x{0}b" => 1 };
    is(report($nul)->code, 200, 'a NUL inside strings: stored');
    $stack->psql(q{UPDATE pulse.agent_hosts SET received_at = now() - interval '20 minutes' WHERE id = 'nul-host'});
    $stack->wait_state(sub { my ($x) = grep { $_->{id} eq 'nul-host' } @{ $_[0]{hosts} }; $x && $x->{status} eq 'offline' },
        40, 'the NUL host offline');
    my ($x) = grep { $_->{id} eq 'nul-host' } @{ state_hosts() };
    is($x->{kernelVersion}, '6.1', 'the text cut at the NUL');
    is($ua->delete($stack->url('/api/agents/host/nul-host') => agent_headers($manager))->result->code, 200, 'NUL host removed');
}

is_deeply([$wc->problems], [], 'every answer matches the wire contract') or diag join "\n", $wc->problems;

done_testing;
