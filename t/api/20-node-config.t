#!/usr/bin/perl
# 20-node-config.t: /api/config/nodes: every field validated with a message, duplicates 409,
# secrets sealed in the database and never returned, stable ids, updates, deletes, the test
# endpoints, a wrong fingerprint refused.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { pve_polling_interval => 2 })->start;
my $admin = $stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $nodes = $stack->url('/api/config/nodes');
my $sim = $stack->start_sim(replay => 'pve8x', token => 'root@pam!pulse=s3cr3t-token-value');
my %good = (type => 'pve', name => 'lab', host => $sim->{url}, tokenName => 'root@pam!pulse',
    tokenValue => 's3cr3t-token-value', fingerprint => uc join(':', $sim->{fingerprint} =~ /(..)/g));

# Every bad field gets a 400 naming it.
my @bad = (
    [{ %good, name => '' }, 'name', qr/Name is required/],
    [{ %good, type => '' }, 'type', qr/Type is required/],
    [{ %good, type => 'vmware' }, 'type', qr/Invalid node type/],
    [{ %good, host => '' }, 'host', qr/Host is required/],
    [{ %good, host => 'https://999.1.1.1' }, 'host', qr/Invalid IP address/],
    [{ %good, host => 'https://[zz::1]:8006' }, 'host', qr/Invalid IPv6 address/],
    [{ %good, host => 'ftp://x' }, 'host', qr/Invalid host format/],
    [{ %good, host => 'https://bad host' }, 'host', qr/Invalid hostname/],
    [{ %good, host => 'https://pve:70000' }, 'host', qr/Invalid port number/],
    [{ %good, tokenValue => '' }, 'credentials', qr/credentials required/],
    [{ %good, tokenName => 'no-realm' }, 'tokenName', qr/user\@realm!tokenid/],
    [{ %good, fingerprint => 'abc' }, 'fingerprint', qr/SHA-256/],
    [{ %good, guestURL => 'javascript:alert(1)' }, 'guestURL', qr/http/],
    [{ %good, verifySSL => 'yes' }, 'verifySSL', qr/true or false/],
    [{ %good, monitorVMs => 1 }, 'monitorVMs', qr/true or false/],
    [{ %good, physicalDiskPollingMinutes => -3 }, 'physicalDiskPollingMinutes', qr/integer/],
    [{ %good, monitorPhysicalDisks => 'on' }, 'monitorPhysicalDisks', qr/true, false or null/],
    [{ %good, name => 'x' x 200 }, 'name', qr/too long/],
    [{ %good, name => 7 }, 'name', qr/must be a string/],
);
for my $case (@bad) {
    my ($body, $field, $msg) = @$case;
    my $res = $ua->post($nodes => $auth => json => $body)->result;
    my $b = json_error_ok($res, 400, 'validation_failed', "bad $field");
    like($b->{fields}{$field} // '', $msg, "the message names the problem with $field: " . ($b->{fields}{$field} // ''));
}
my $b = json_error_ok($ua->post($nodes => $auth => json => { type => 'pve' })->result, 400, 'validation_failed', 'several bad fields');
ok(exists $b->{fields}{name} && exists $b->{fields}{host} && exists $b->{fields}{credentials}, 'every bad field is named at once');
json_error_ok($ua->post($nodes => { %$auth, 'Content-Type' => 'application/json' } => '{"type":')->result, 400,
    'invalid_json', 'malformed JSON');
is($stack->psql('SELECT count(*) FROM pulse.instances'), 0, 'nothing was stored by the refusals');

# Add.
my $res = $ua->post($nodes => $auth => json => \%good)->result;
is($res->code, 201, 'add: 201');
is($res->json->{status}, 'success', 'add: status success');
my $id = $res->json->{id};
like($id, qr/^pve-\d+$/, "add: id $id");
json_error_ok($ua->post($nodes => $auth => json => { %good, name => 'again' })->result, 409, 'duplicate_host', 'the same host again');
json_error_ok($ua->post($nodes => $auth => json => { %good, name => 'again', host => "$sim->{url}/some/path" })->result,
    409, 'duplicate_host', 'the same host written differently');

# Stored sealed, never returned.
my $row = $stack->psql("SELECT token_value_enc FROM pulse.instances WHERE id = '$id'");
like($row, qr/^enc:v1:/, 'the token secret is stored in the secrets envelope');
unlike($row, qr/s3cr3t/, 'and not in clear');
my $dump = qx{pg_dump -h @{[ $stack->pg_sock ]} -p $stack->{pg_port} -U pulse -d pulse --data-only};
unlike($dump, qr/s3cr3t-token-value/, 'pg_dump holds no node secret');
my $list = $ua->get($nodes => $auth)->result;
is($list->code, 200, 'list: 200');
unlike($list->body, qr/s3cr3t/, 'list never shows the secret');
my ($n) = @{ $list->json };
is($n->{id}, $id, 'list: id');
is($n->{hasToken}, true, 'list: hasToken');
is($n->{hasPassword}, false, 'list: hasPassword');
is($n->{fingerprint}, $sim->{fingerprint}, 'list: fingerprint normalised to lower-case hex');
is($n->{host}, $sim->{url}, 'list: host normalised');
is($n->{verifySSL}, true, 'list: verifySSL defaults to true');
is($n->{monitorVMs}, true, 'list: monitorVMs default');
is($n->{isCluster}, true, 'cluster detected from /cluster/status');
is($n->{clusterName}, 'clustername', 'cluster name from the recording');
is(scalar @{ $n->{clusterEndpoints} }, 4, 'four cluster members');
ok(exists $n->{clusterEndpoints}[0]{NodeName}, 'endpoints in the original\'s PascalCase');
$stack->wait_for(sub { $ua->get($nodes => $auth)->result->json->[0]{status} eq 'connected' }, 20, 'the node to be polled');
pass('status becomes connected once polled');

# Host normalisation: scheme and port added.
$res = $ua->post($nodes => $auth => json => { %good, type => 'pbs', name => 'backup', host => '10.0.0.9' })->result;
is($res->code, 201, 'a PBS node with a bare address');
my $pbs = $res->json->{id};
my ($p) = grep { $_->{id} eq $pbs } @{ $ua->get($nodes => $auth)->result->json };
is($p->{host}, 'https://10.0.0.9:8007', 'PBS gets https:// and port 8007');
$res = $ua->post($nodes => $auth => json => { type => 'pve', name => 'pw', host => 'pve.example:8443', user => 'monitor', password => 'a password' })->result;
is($res->code, 201, 'a password node');
my $pw = $res->json->{id};
($p) = grep { $_->{id} eq $pw } @{ $ua->get($nodes => $auth)->result->json };
is($p->{user}, 'monitor@pam', 'PVE users get @pam');
like($stack->psql("SELECT password_enc FROM pulse.instances WHERE id = '$pw'"), qr/^enc:v1:/, 'password sealed');

# Ids are stable: deleting one does not renumber the others.
is($ua->delete("$nodes/$pbs" => $auth)->result->code, 200, 'delete PBS');
($p) = grep { $_->{id} eq $pw } @{ $ua->get($nodes => $auth)->result->json };
ok($p, "the password node keeps its id $pw after a delete");
$res = $ua->post($nodes => $auth => json => { %good, type => 'pmg', name => 'mail', host => 'mail.example' })->result;
isnt($res->json->{id} =~ s/\D//gr, $pbs =~ s/\D//gr, 'a deleted id number is not reused');
json_error_ok($ua->delete("$nodes/$pbs" => $auth)->result, 404, 'not_found', 'delete an unknown id');
json_error_ok($ua->put("$nodes/pve-999" => $auth => json => {})->result, 404, 'not_found', 'update an unknown id');
json_error_ok($ua->put("$nodes/%27%3B--" => $auth => json => {})->result, 404, 'not_found', 'an id with SQL in it');

# Update: only given fields change; guestURL/fingerprint always taken.
$res = $ua->put("$nodes/$pw" => $auth => json => { name => 'renamed', guestURL => 'https://pve.example', monitorVMs => false })->result;
is($res->code, 200, 'update: 200');
($p) = grep { $_->{id} eq $pw } @{ $ua->get($nodes => $auth)->result->json };
is($p->{name}, 'renamed', 'update: name');
is($p->{guestURL}, 'https://pve.example', 'update: guestURL');
ok(!exists $p->{monitorVMs}, 'update: monitorVMs off (omitted when false)');
is($p->{user}, 'monitor@pam', 'update: user untouched');
$res = $ua->put("$nodes/$pw" => $auth => json => { tokenName => 'monitor@pam!t', tokenValue => 'new-token-secret' })->result;
($p) = grep { $_->{id} eq $pw } @{ $ua->get($nodes => $auth)->result->json };
is($p->{hasToken}, true, 'update: switched to a token');
is($p->{hasPassword}, false, 'update: the password is gone');
json_error_ok($ua->put("$nodes/$pw" => $auth => json => { type => 'pbs' })->result, 400, 'validation_failed', 'the type cannot change');

# temperatureTransport: always written, as the original does; "disabled" for every node, with
# temperature monitoring on or off, since no collector reads real nodes' sensors
# (docs/COMPATIBILITY.md).
$res = $ua->put("$nodes/$pw" => $auth => json => { temperatureMonitoringEnabled => true })->result;
is($res->code, 200, 'temperature monitoring on for one node');
$res = $ua->put("$nodes/$id" => $auth => json => { temperatureMonitoringEnabled => false })->result;
is($res->code, 200, 'and off for another');
my @all = @{ $ua->get($nodes => $auth)->result->json };
is_deeply([sort map { $_->{type} } @all], [qw(pmg pve pve)], 'PVE and PMG entries listed');
($p) = grep { $_->{id} eq $pw } @all;
is($p->{temperatureMonitoringEnabled}, true, 'the node says monitoring is on');
my @wrong = grep { ($_->{temperatureTransport} // 'absent') ne 'disabled' } @all;
ok(!@wrong, 'temperatureTransport "disabled" on every entry')
    or diag explain [map { "$_->{id}: " . ($_->{temperatureTransport} // 'absent') } @wrong];
like($ua->get($nodes => $auth)->result->body, qr/"temperatureMonitoringEnabled":true,"temperatureTransport":"disabled"/,
    'right after temperatureMonitoringEnabled, as in the original');
$res = $ua->put("$nodes/$pw" => $auth => json => { temperatureMonitoringEnabled => undef })->result;
($p) = grep { $_->{id} eq $pw } @{ $ua->get($nodes => $auth)->result->json };
ok(!exists $p->{temperatureMonitoringEnabled} && $p->{temperatureTransport} eq 'disabled',
    'back to the global setting: the flag omitted, the transport still written');
json_error_ok($ua->put("$nodes/$pw" => $auth => json => { host => $sim->{url}, tokenValue => 'new-token-secret' })->result,
    409, 'duplicate_host', 'update onto another node\'s host (with the secret again, as a host change needs: M3)');

# The test endpoints.
$res = $ua->post("$nodes/test-connection" => $auth => json => \%good)->result;
is($res->code, 200, 'test-connection: 200');
like($res->json->{message}, qr/Successfully connected to 4 node/, 'test-connection: message');
is($res->json->{isCluster}, true, 'test-connection: isCluster');
$res = $ua->post("$nodes/test-connection" => $auth => json => { %good, tokenValue => 'wrong' })->result;
json_error_ok($res, 400, 'connection_failed', 'test-connection with a wrong secret');
like($res->json->{error}, qr/401/, 'the failure says why');
$res = $ua->post("$nodes/test-connection" => $auth => json => { %good, fingerprint => 'ab' x 32 })->result;
json_error_ok($res, 400, 'connection_failed', 'test-connection with a wrong fingerprint');
like($res->json->{error}, qr/fingerprint/i, 'a wrong fingerprint is named as such');
$res = $ua->post("$nodes/test-connection" => $auth => json => { %good, fingerprint => undef, verifySSL => true })->result;
json_error_ok($res, 400, 'connection_failed', 'a self-signed certificate without a pin and with verification');
$res = $ua->post("$nodes/test-config" => $auth => json => \%good)->result;
is($res->json->{status}, 'success', 'test-config: success');
ok(defined $res->json->{latency}, 'test-config: latency');
$res = $ua->post("$nodes/$id/test" => $auth => json => {})->result;
is($res->json->{status}, 'success', 'saved node test: success');
$res = $ua->post("$nodes/$pw/test" => $auth => json => {})->result;
is($res->code, 400, 'saved node test against an unreachable host: 400');
is($res->json->{status}, 'error', 'saved node test: status error');
$res = $ua->post("$nodes/$id/refresh-cluster" => $auth => json => {})->result;
is($res->code, 200, 'refresh-cluster: 200');
is($res->json->{newNodeCount}, 4, 'refresh-cluster: members');

# A change reaches the worker at once; a delete removes the state.
$stack->wait_state(sub { @{ $_[0]{nodes} } == 4 }, 20, 'the cluster in /api/state');
is($ua->delete("$nodes/$id" => $auth)->result->code, 200, 'delete the polled node');
my $st = $stack->wait_state(sub { @{ $_[0]{nodes} } == 0 }, 10, 'its state to go');
is(scalar @{ $st->{vms} }, 0, 'its guests went too');
like($stack->psql(q{SELECT string_agg(DISTINCT event, ',') FROM pulse.audit_events WHERE event LIKE 'node_%'}),
    qr/node_added.*node_deleted.*node_updated/, 'node changes audited');

no_secret_in_logs($stack, 's3cr3t-token-value', 'new-token-secret', 'a password');
done_testing;
