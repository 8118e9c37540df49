#!/usr/bin/perl
# 42-resources.t: the unified resources over REST (GET /api/resources, /api/resources/stats,
# /api/resources/{id}), for the mock estate and for a simulated PVE cluster: every node,
# guest and storage of /api/state once, with the same id and the original's conversions;
# PBS with its datastores and PMG; the filters and their refusals; statistics that add up;
# one resource by id, 404 for an unknown one; 401/403; and every object of every answer
# against t/contract/resources-contract.json.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use List::Util qw(sum0);
use Mojo::JSON qw(true false);
use Test::More;
use PulseStack;
use PulseTest;
use WireContract;

my $wc = WireContract->new;

# Every difference between obj (of kind) and the contracts (t/contract/*.json).
sub contract_problems {
    my ($obj, $kind, $where) = @_;
    $wc->clear_problems;
    $wc->check($kind, $obj, $where);
    return $wc->problems;
}
sub resource_contract_ok { my ($r) = @_; contract_problems($r, 'Resource', $r->{id} // '?') }

my $stack = PulseStack->new(settings => { demo_mode => 'true' })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
sub get_json { my ($p, $h) = @_; my $res = $ua->get($stack->url($p) => ($h // $auth))->result; ($res, $res->json) }

# /api/state and /api/resources of one state version: the state before and after must carry
# the same ETag, else the mock figures moved in between and the pair is read again.
sub consistent_pair {
    for (1 .. 20) {
        my $s1 = $ua->get($stack->url('/api/state') => $auth)->result;
        my ($res, $list) = get_json('/api/resources');
        my $s2 = $ua->get($stack->url('/api/state') => $auth)->result;
        return ($s1->json, $res, $list) if $s1->headers->etag eq $s2->headers->etag;
    }
    die "the state kept changing under /api/resources\n";
}

sub near { my ($a, $b) = @_; abs(($a // 0) - ($b // 0)) <= 1e-9 * (1 + abs($b // 0)) }

# Every node, guest and storage of the state appears once with the original's conversions.
sub compare_with_state {
    my ($st, $list, $label) = @_;
    my (%by_id, %seen, @wrong);
    for my $r (@{ $list->{resources} }) { $seen{ $r->{id} }++; $by_id{ $r->{id} } = $r }
    my @dups = grep { $seen{$_} > 1 } sort keys %seen;
    ok(!@dups, "$label: no id twice") or diag explain \@dups;
    my %node_status = (online => 'online', offline => 'offline');
    for my $n (@{ $st->{nodes} }) {
        my $r = $by_id{ $n->{id} } or push(@wrong, "node $n->{id} missing"), next;
        my @w = grep { $_ } (
            $r->{type} ne 'node' && 'type', $r->{name} ne $n->{name} && 'name',
            ($r->{displayName} // '') ne ($n->{displayName} // '') && 'displayName',
            $r->{status} ne ($node_status{ $n->{status} } // 'unknown') && 'status',
            $r->{platformType} ne 'proxmox-pve' && 'platformType', $r->{platformId} ne $n->{instance} && 'platformId',
            !near($r->{cpu}{current}, $n->{cpu} * 100) && 'cpu',
            ($n->{memory} ? !near($r->{memory}{current}, $n->{memory}{usage}) || $r->{memory}{total} != $n->{memory}{total}
                || $r->{memory}{used} != $n->{memory}{used} || $r->{memory}{free} != $n->{memory}{free} : exists $r->{memory}) && 'memory',
            $r->{uptime} != $n->{uptime} && 'uptime',
            ($r->{identity}{hostname} // '') ne $n->{name} && 'identity',
            ($n->{isClusterMember} && $n->{clusterName} ? ($r->{clusterId} // '') ne "pve-cluster/$n->{clusterName}"
                : exists $r->{clusterId}) && 'clusterId',
            $r->{platformData}{pveVersion} ne $n->{pveVersion} && 'pveVersion');
        push @wrong, "node $n->{id}: @w" if @w;
    }
    my %guest_status = (running => 'running', stopped => 'stopped', paused => 'paused');
    for my $g (@{ $st->{vms} }, @{ $st->{containers} }) {
        my $r = $by_id{ $g->{id} } or push(@wrong, "guest $g->{id} missing"), next;
        my $want_type = $g->{type} eq 'qemu' ? 'vm' : $g->{isOci} ? 'oci-container' : 'container';
        my @w = grep { $_ } ($r->{type} ne $want_type && "type $r->{type}", $r->{name} ne $g->{name} && 'name',
            $r->{status} ne ($guest_status{ $g->{status} } // 'unknown') && 'status',
            ($r->{parentId} // '') ne "$g->{instance}-$g->{node}" && 'parentId',
            !near($r->{cpu}{current}, $g->{cpu} * 100) && 'cpu',
            ($g->{memory} ? !near($r->{memory}{current}, $g->{memory}{usage}) || $r->{memory}{total} != $g->{memory}{total} : exists $r->{memory}) && 'memory',
            ($g->{disk} ? $r->{disk}{total} != $g->{disk}{total} || $r->{disk}{used} != $g->{disk}{used} : exists $r->{disk}) && 'disk',
            ($r->{network}{rxBytes} != $g->{networkIn} || $r->{network}{txBytes} != $g->{networkOut}) && 'network',
            $r->{uptime} != $g->{uptime} && 'uptime',
            join(',', @{ $r->{tags} // [] }) ne ($g->{tags} // '') && 'tags',
            $r->{platformData}{vmid} != $g->{vmid} && 'vmid', $r->{platformData}{node} ne $g->{node} && 'node',
            (defined $g->{lastBackup}) != (defined $r->{platformData}{lastBackup}) && 'lastBackup');
        push @wrong, "guest $g->{id}: @w" if @w;
    }
    for my $s (@{ $st->{storage} }) {
        my $r = $by_id{ $s->{id} } or push(@wrong, "storage $s->{id} missing"), next;
        my $want = !$s->{active} ? 'offline' : !$s->{enabled} ? 'stopped' : 'online';
        my @w = grep { $_ } ($r->{type} ne 'storage' && 'type', $r->{status} ne $want && 'status',
            ($r->{parentId} // '') ne "$s->{instance}-$s->{node}" && 'parentId',
            ($s->{total} > 0 ? $r->{disk}{total} != $s->{total} || $r->{disk}{used} != $s->{used}
                || $r->{disk}{free} != $s->{free} || !near($r->{disk}{current}, $s->{usage}) : exists $r->{disk}) && 'disk',
            ($r->{platformData}{shared} ? 1 : 0) != ($s->{shared} ? 1 : 0) && 'shared',
            exists $r->{cpu} && 'cpu');
        push @wrong, "storage $s->{id}: @w" if @w;
    }
    ok(!@wrong, "$label: every node, guest and storage of /api/state, converted as the original does")
        or diag explain \@wrong;
    my $n = @{ $st->{nodes} } + @{ $st->{vms} } + @{ $st->{containers} } + @{ $st->{storage} };
    my @others = grep { $_->{type} !~ /^(node|vm|container|oci-container|storage)$/ } @{ $list->{resources} };
    is(scalar @{ $list->{resources} }, $n + @others, "$label: nothing else but PBS, datastores and PMG ("
        . scalar(@others) . ')');
    ok(!(grep { $_->{type} !~ /^(pbs|datastore|pmg)$/ } @others), "$label: the others are PBS, datastores, PMG");
    return \%by_id;
}

sub contract_ok {
    my ($list, $label) = @_;
    my @bad = contract_problems($list, 'ResourcesResponse', 'answer');
    ok(!@bad, "$label: every object matches resources-contract.json") or diag explain [@bad[0 .. ($#bad > 20 ? 20 : $#bad)]];
}

# --- the mock estate ---
my $st = $stack->wait_state(sub { @{ $_[0]{nodes} } == 7 && @{ $_[0]{pmg} } && @{ $_[0]{pbs} } }, 30, 'the demo estate');
my ($st1, $res, $list) = consistent_pair();
is($res->code, 200, 'GET /api/resources');
like($res->headers->content_type, qr{^application/json}, 'JSON');
contract_ok($list, 'mock');
is($list->{count}, scalar @{ $list->{resources} }, 'count is the number listed');
my $by_id = compare_with_state($st1, $list, 'mock');

# Nodes: CPU percent, a cluster member's cluster id; an offline node.
my ($pve1) = grep { $_->{node} eq 'pve1' } @{ $st1->{nodes} };
ok($by_id->{ $pve1->{id} }{cpu}{current} > 1, "a node's CPU is a percent ($by_id->{$pve1->{id}}{cpu}{current})");
my ($pve3) = grep { $_->{node} eq 'pve3' } @{ $st1->{nodes} };
is($by_id->{ $pve3->{id} }{status}, 'offline', 'pve3 offline');
is($by_id->{ $pve1->{id} }{schemaVersion}, 1, 'schemaVersion 1');
is($by_id->{ $pve1->{id} }{sourceType}, 'api', 'sourceType api');
# Guests: parent is the node's id.
my %node_ids = map { $_->{id} => 1 } @{ $st1->{nodes} };
my @orphans = grep { !$node_ids{ $_->{parentId} } } grep { $_->{type} =~ /^(vm|container)$/ } @{ $list->{resources} };
ok(!@orphans, "every guest's parentId is a node's id") or diag explain [map { $_->{parentId} } @orphans];

# PBS with its datastores, PMG.
my ($pbs) = @{ $st1->{pbs} };
my $rp = $by_id->{ $pbs->{id} };
ok($rp && $rp->{type} eq 'pbs' && $rp->{platformType} eq 'proxmox-pbs', "PBS $pbs->{id}");
is($rp->{status}, $pbs->{connectionHealth} eq 'healthy' ? 'online' : 'degraded', 'its status');
ok(near($rp->{cpu}{current}, $pbs->{cpu}), 'its CPU as the state has it (FromPBSInstance copies it)');
is($rp->{platformData}{numDatastores}, scalar @{ $pbs->{datastores} }, 'numDatastores');
for my $ds (@{ $pbs->{datastores} }) {
    my $d = $by_id->{"$pbs->{id}/datastore/$ds->{name}"};
    ok($d && $d->{type} eq 'datastore' && $d->{parentId} eq $pbs->{id}, "datastore $ds->{name}") or next;
    is($d->{disk}{total}, $ds->{total}, "$ds->{name}: total");
    is($d->{platformData}{pbsInstanceName}, $pbs->{name}, "$ds->{name}: pbsInstanceName");
}
my ($pmg) = @{ $st1->{pmg} };
my $rm = $by_id->{ $pmg->{id} };
ok($rm && $rm->{type} eq 'pmg' && $rm->{platformType} eq 'proxmox-pmg', "PMG $pmg->{id}");
is($rm->{platformData}{nodeCount}, scalar @{ $pmg->{nodes} // [] }, 'its node count');

# --- statistics ---
my $stats = $list->{stats};
is($stats->{totalResources}, scalar @{ $list->{resources} }, 'stats: total');
for my $k (qw(byType byPlatform byStatus)) {
    is(sum0(values %{ $stats->{$k} }), $stats->{totalResources}, "stats: $k adds up");
}
is($stats->{byType}{vm}, scalar @{ $st1->{vms} }, 'stats: VMs');
is($stats->{byType}{node}, 7, 'stats: nodes');
is($stats->{withAlerts}, 0, 'stats: no alerts');
($res, my $sj) = get_json('/api/resources/stats');
is($res->code, 200, 'GET /api/resources/stats');
my @bad = contract_problems($sj, 'StoreStats', 'stats');
ok(!@bad, 'stats match the contract') or diag explain \@bad;
is($sj->{totalResources}, $stats->{totalResources}, 'the same total as the list');

# --- filters ---
my %by_type;
push @{ $by_type{ $_->{type} } }, $_ for @{ $list->{resources} };
sub ids { join ',', sort map { $_->{id} } @{ $_[0] } }
sub filtered { my ($q) = @_; my ($r, $j) = get_json("/api/resources?$q"); is($r->code, 200, "?$q"); $j }
my $f = filtered('type=vm');
is(ids($f->{resources}), ids($by_type{vm}), 'type=vm: the VMs');
is($f->{count}, scalar @{ $by_type{vm} }, 'type=vm: count');
is($f->{stats}{totalResources}, $stats->{totalResources}, 'stats stay those of all resources');
$f = filtered('type=%20node%20,,storage');
is(ids($f->{resources}), ids([@{ $by_type{node} }, @{ $by_type{storage} }]), 'a list with blanks: nodes and storage');
$f = filtered('platform=proxmox-pbs');
is(ids($f->{resources}), ids([@{ $by_type{pbs} }, @{ $by_type{datastore} }]), 'platform=proxmox-pbs: server and datastores');
$f = filtered('status=offline');
ok((grep { $_->{id} eq $pve3->{id} } @{ $f->{resources} }) && !(grep { $_->{status} ne 'offline' } @{ $f->{resources} }),
    'status=offline');
$f = filtered('type=vm&status=running');
is(ids($f->{resources}), ids([grep { $_->{status} eq 'running' } @{ $by_type{vm} }]), 'type and status together');
$f = filtered('parent=' . $pve1->{id});
is(ids($f->{resources}), ids([grep { ($_->{parentId} // '') eq $pve1->{id} } @{ $list->{resources} }]), 'parent=pve1');
ok(@{ $f->{resources} } > 0, 'pve1 has children');
$f = filtered('infrastructure=true');
is(ids($f->{resources}), ids($by_type{node}), 'infrastructure=true: the nodes');
$f = filtered('workloads=true');
is(ids($f->{resources}), ids([@{ $by_type{vm} }, @{ $by_type{container} // [] }, @{ $by_type{'oci-container'} // [] }]),
    'workloads=true: VMs and containers');
$f = filtered('workloads=false&infrastructure=false&alerts=false');
is($f->{count}, scalar @{ $list->{resources} }, 'false filters filter nothing');
$f = filtered('alerts=true');
is_deeply($f->{resources}, [], 'alerts=true: none (no alerts)');
$f = filtered('type=docker-host');
is_deeply([$f->{count}, $f->{resources}], [0, []], 'a known type this server has none of: an empty list');

for my $q ('type=bogus', 'type=vm,vms', 'platform=aws', 'status=sleeping', 'infrastructure=maybe', 'alerts=2') {
    my $body = json_error_ok($ua->get($stack->url("/api/resources?$q") => $auth)->result, 400, 'invalid_filter', "?$q");
    my ($word) = $q =~ /=(?:vm,)?(.*)/;
    like($body->{error}, qr/\Q$word\E|true or false/, "?$q: the message names it");
}

# --- one resource ---
($res, my $one) = get_json('/api/resources/' . $pve1->{id});
is($res->code, 200, 'GET /api/resources/{node id}');
is($one->{id}, $pve1->{id}, 'the node');
@bad = resource_contract_ok($one);
ok(!@bad, 'matches the contract') or diag explain \@bad;
my ($vm0) = @{ $by_type{vm} };
(undef, $one) = get_json('/api/resources/' . $vm0->{id});
is_deeply([@$one{qw(id type name parentId)}], [@$vm0{qw(id type name parentId)}], 'a VM by id');
my $ds0 = $by_type{datastore}[0];
($res, $one) = get_json("/api/resources/$ds0->{id}");
is($res->code, 200, "a datastore by its id with slashes ($ds0->{id})");
is($one->{id}, $ds0->{id}, 'the datastore');
json_error_ok($ua->get($stack->url('/api/resources/no-such-resource') => $auth)->result, 404, 'resource_not_found', 'an unknown id');
json_error_ok($ua->get($stack->url('/api/resources/pbs-x/datastore/none') => $auth)->result, 404, 'resource_not_found',
    'an unknown datastore');
$res = $ua->head($stack->url('/api/resources') => $auth)->result;
is($res->code, 200, 'HEAD /api/resources');
is($res->body, '', 'without a body');

# --- authentication and scope ---
json_error_ok($ua->get($stack->url($_))->result, 401, 'unauthorized', "$_ without credentials")
    for '/api/resources', '/api/resources/stats', "/api/resources/$pve1->{id}";
my %tok;
for my $scope (qw(settings:read monitoring:read)) {
    $res = $ua->post($stack->url('/api/security/tokens') => $auth => json => { name => "only $scope", scopes => [$scope] })->result;
    $tok{$scope} = $res->json->{token};
}
for my $p ('/api/resources', '/api/resources/stats', "/api/resources/$pve1->{id}") {
    my $body = json_error_ok($ua->get($stack->url($p) => { 'X-API-Token' => $tok{'settings:read'} })->result, 403,
        'missing_scope', "$p without monitoring:read");
    is($body->{requiredScope}, 'monitoring:read', "$p: requires monitoring:read");
    is($ua->get($stack->url($p) => { 'X-API-Token' => $tok{'monitoring:read'} })->result->code, 200,
        "$p with monitoring:read");
}

# --- a simulated PVE cluster: the real state replaces the demo ---
my $sim = $stack->start_sim(nodes => 3, guests => 9, token => 'root@pam!r=resources-token-1');
$res = $ua->post($stack->url('/api/config/nodes') => $auth => json => { type => 'pve', name => 'rs',
    host => $sim->{url}, tokenName => 'root@pam!r', tokenValue => 'resources-token-1', fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'a simulated cluster added');
$stack->wait_state(sub { @{ $_[0]{nodes} } == 3 && @{ $_[0]{vms} } + @{ $_[0]{containers} } == 9 && @{ $_[0]{storage} } },
    40, 'the simulated cluster');
($st1, $res, $list) = consistent_pair();
is($res->code, 200, 'GET /api/resources of the cluster');
contract_ok($list, 'cluster');
$by_id = compare_with_state($st1, $list, 'cluster');
ok(!(grep { $_->{id} =~ /^mock/ || $_->{platformId} =~ /^mock/ } @{ $list->{resources} }), 'no mock resource left');
my $cn = $st1->{nodes}[0];
if ($cn->{isClusterMember}) {
    is($by_id->{ $cn->{id} }{clusterId}, "pve-cluster/$cn->{clusterName}", 'clusterId of a cluster member');
} else {
    ok(!exists $by_id->{ $cn->{id} }{clusterId}, 'no clusterId outside a cluster');
}
is($list->{stats}{byType}{node}, 3, 'three nodes counted');
is($list->{stats}{byPlatform}{'proxmox-pve'}, scalar @{ $list->{resources} }, 'all of them proxmox-pve');
my $host = $by_id->{ (@{ $st1->{vms} }, @{ $st1->{containers} })[0]{id} }{parentId};
$f = filtered('type=vm,container&parent=' . $host);
is(ids($f->{resources}), ids([grep { ($_->{parentId} // '') eq $host && $_->{type} =~ /^(vm|container)$/ }
    @{ $list->{resources} }]), 'the guests of one node');
ok(@{ $f->{resources} } > 0, 'there are some');
done_testing;
