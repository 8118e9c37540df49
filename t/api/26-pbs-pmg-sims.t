#!/usr/bin/perl
# 26-pbs-pmg-sims.t: the Proxmox Backup Server and Mail Gateway simulators themselves
# (t/fakes/pbs-sim.pl, t/fakes/pmg-sim.pl), before anything polls them: token and ticket
# authentication; every PBS answer validated against the `returns` schema of its path in
# the PBS API schema (pbs-apidoc.js); the PMG answers carry the fields of the reference
# notes (§4); the data is consistent and deterministic; each fault mode does what it says.
# Only the simulators run: no database, no Pulse programs.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use IO::Socket::SSL;
use JSON::PP;
use List::Util qw(max sum0 first);
use Mojo::UserAgent;
use Storable qw(dclone);
use Test::More;
use Time::HiRes qw(time);
use PulseStack;
no warnings 'experimental::builtin';
use builtin qw(created_as_number created_as_string);

my $stack = PulseStack->new;
my $now = time - 3600;
my ($pbs_token, $pmg_token) = ('pulse@pbs!monitor:pbs-secret-0001', 'pulse@pmg!monitor:pmg-secret-0001');
my %pbs_data = (datastores => 2, groups => 5, namespaces => 1, seed => 7, now => int $now);
my $pbs = $stack->start_pbs_sim(token => $pbs_token, %pbs_data);
my $pbs_pw = $stack->start_pbs_sim(name => 'pbs-pw', password => 'admin@pbs:pbs-password-1', %pbs_data);
my $pbs_names = $stack->start_pbs_sim(name => 'pbs-names', snapshot_files => 'names', advance => 1,
    datastores => 1, groups => 2);
my $pmg = $stack->start_pmg_sim(token => $pmg_token, nodes => 3);
my $pmg_pw = $stack->start_pmg_sim(name => 'pmg-pw', password => 'admin@pmg:pmg-password-1');
my $ua = Mojo::UserAgent->new(insecure => 1, request_timeout => 20, max_redirects => 0);
my %pbs_auth = (Authorization => "PBSAPIToken=$pbs_token");
my %pmg_auth = (Authorization => "PMGAPIToken=$pmg_token");

# Every answer is marked as synthetic; counted here, checked at the end.
my %unmarked;
$ua->on(start => sub {
    my ($ua, $tx) = @_;
    $tx->on(finish => sub {
        my $tx = shift;
        my $h = $tx->res->headers->header('X-Pulse-Sim') // '';
        $unmarked{ $tx->req->url->path }++ unless $h =~ /^synthetic \((pbs-apidoc\.js|reference notes)\)$/;
    });
});

sub get { my ($sim, $path, %h) = @_; $ua->get("$sim->{url}/api2/json$path" => \%h)->result }

sub data_of {
    my ($res) = @_;
    my $body = eval { JSON::PP->new->decode($res->body) };
    return ref $body eq 'HASH' ? $body->{data} : undef;
}

# --- the certificates ------------------------------------------------------------------------

for my $sim ($pbs, $pmg) {
    my $sock = IO::Socket::SSL->new(PeerHost => '127.0.0.1', PeerPort => $sim->{port},
        SSL_verify_mode => SSL_VERIFY_NONE) or die "TLS to $sim->{name}: $SSL_ERROR";
    (my $fp = lc $sock->get_fingerprint('sha256')) =~ s/^sha256\$//;
    $fp =~ s/://g;
    is($sim->{fingerprint}, $fp, "$sim->{name}: the returned fingerprint is the served certificate's");
    like($sim->{url}, qr{^https://127\.0\.0\.1:\d+$}, "$sim->{name}: url");
}

# --- authentication ---------------------------------------------------------------------------

(my $pbs_pve_style = $pbs_token) =~ s/:([^:]+)$/=$1/;
my @auth_cases = (
    [$pbs, {}, 401, 'no credentials'],
    [$pbs, { Authorization => 'PBSAPIToken=pulse@pbs!monitor:wrong-secret' }, 401, 'a wrong secret'],
    [$pbs, { Authorization => 'PBSAPIToken=other@pbs!monitor:pbs-secret-0001' }, 401, 'a wrong user'],
    [$pbs, { Authorization => "PBSAPIToken=$pbs_pve_style" }, 401, "PVE's '=' separator"],
    [$pbs, { Authorization => "PMGAPIToken=$pbs_token" }, 401, 'the PMG header name'],
    [$pbs, \%pbs_auth, 200, 'the right token'],
    [$pmg, {}, 401, 'no credentials'],
    [$pmg, { Authorization => 'PMGAPIToken=pulse@pmg!monitor:wrong-secret' }, 401, 'a wrong secret'],
    [$pmg, { Authorization => "PBSAPIToken=$pmg_token" }, 401, 'the PBS header name'],
    [$pmg, \%pmg_auth, 200, 'the right token'],
);
for my $c (@auth_cases) {
    my ($sim, $h, $status, $what) = @$c;
    is(get($sim, '/version', %$h)->code, $status, "$sim->{name}: $what answers $status");
}
is(get($pbs, '/admin/datastore')->code, 401, 'pbs: a datastore path needs the token too');
is(get($pmg, '/statistics/mail')->code, 401, 'pmg: a statistics path needs the token too');

my $schema = load_schema();

for my $case ([$pbs_pw, 'PBS', 'admin@pbs', 'pbs-password-1'], [$pmg_pw, 'PMG', 'admin@pmg', 'pmg-password-1']) {
    my ($sim, $kind, $user, $pw) = @$case;
    my $n = $sim->{name};
    my $url = "$sim->{url}/api2/json/access/ticket";
    is($ua->post($url => json => { username => $user, password => 'wrong' })->result->code, 401, "$n: a wrong password answers 401");
    is($ua->post($url => form => { username => 'nobody@pam', password => $pw })->result->code, 401, "$n: a wrong user answers 401");
    my %ticket;
    for my $enc (qw(json form)) {
        my $res = $ua->post($url => $enc => { username => $user, password => $pw })->result;
        is($res->code, 200, "$n: login with a $enc body");
        my $d = data_of($res) // {};
        like($d->{ticket} // '', qr/^\Q$kind\E:\Q$user\E:[0-9A-F]{8}::/, "$n: a $kind ticket ($enc)");
        ok(length($d->{CSRFPreventionToken} // '') > 8, "$n: a CSRF token ($enc)");
        is($d->{username}, $user, "$n: the user name ($enc)");
        if ($kind eq 'PBS') {
            my @err = validate(returns_of('/access/ticket', 'POST'), $d);
            ok(!@err, "$n: the ticket answer matches the schema") or diag explain \@err;
        }
        %ticket = %$d;
    }
    my $cookie = "${kind}AuthCookie=$ticket{ticket}";
    is(get($sim, '/version')->code, 401, "$n: without the cookie 401");
    is(get($sim, '/version', Cookie => "${kind}AuthCookie=$kind:$user:00000000::forged")->code, 401, "$n: a forged ticket 401");
    is(get($sim, '/version', Cookie => ($kind eq 'PBS' ? 'PMG' : 'PBS') . "AuthCookie=$ticket{ticket}")->code, 401,
        "$n: the other product's cookie name 401");
    is(get($sim, '/version', Cookie => $cookie)->code, 200, "$n: with the ticket cookie 200");
    is($ua->post("$sim->{url}/api2/json/version" => { Cookie => $cookie })->result->code, 401,
        "$n: a POST without the CSRF token 401");
    is($ua->post("$sim->{url}/api2/json/version" => { Cookie => $cookie, CSRFPreventionToken => $ticket{CSRFPreventionToken} })
        ->result->code, 501, "$n: a POST with the CSRF token passes authentication (and is not implemented)");
}

# --- PBS: every served path against the schema --------------------------------------------------

# pbs-apidoc.js is the API viewer's script: `var apiSchema = [...];` then the viewer's code.
sub load_schema {
    my $file = PulseStack::fixtures_dir() . '/proxmox-schema/pbs-apidoc.js';
    open my $fh, '<', $file or die "$file: $!";
    local $/;
    my $text = <$fh>;
    $text =~ s/^\s*var apiSchema = //;
    $text =~ s/^\];.*\z/]/ms or die "$file: the end of apiSchema not found";
    return JSON::PP->new->decode($text);
}

sub find_node {
    my ($tree, $path) = @_;
    for my $n (@$tree) {
        return $n if ($n->{path} // '') eq $path;
        my $f = find_node($n->{children} // [], $path);
        return $f if $f;
    }
    return;
}

sub returns_of {
    my ($path, $method) = @_;
    my $node = find_node($schema, $path) or die "no schema node for $path";
    return $node->{info}{ $method // 'GET' }{returns} // die "no returns for $method $path";
}

# Checks a decoded JSON value against a Proxmox schema; returns the list of problems.
sub validate {
    my ($s, $v, $at) = @_;
    $at //= 'data';
    my $type = $s->{type} // '';
    return defined $v ? ("$at: a value where the schema says null") : () if $type eq 'null';
    return ("$at: null where $type expected") unless defined $v;
    my @err;
    if ($type eq 'object') {
        return ("$at: not an object") unless ref $v eq 'HASH';
        my $props = $s->{properties} // {};
        for my $k (sort keys %$props) {
            push @err, "$at: no $k" if !$props->{$k}{optional} && !exists $v->{$k};
        }
        for my $k (sort keys %$v) {
            if ($props->{$k}) { push @err, validate($props->{$k}, $v->{$k}, "$at.$k") }
            elsif (exists $s->{additionalProperties} && !$s->{additionalProperties}) { push @err, "$at: $k is not in the schema" }
        }
    } elsif ($type eq 'array') {
        return ("$at: not an array") unless ref $v eq 'ARRAY';
        push @err, validate($s->{items}, $v->[$_], "$at\[$_]") for grep { $s->{items} } 0 .. $#$v;
    } elsif ($type eq 'string') {
        return ("$at: not a string") if ref $v || !created_as_string($v);
        push @err, "$at: '$v' is not one of @{ $s->{enum} }" if $s->{enum} && !grep { $_ eq $v } @{ $s->{enum} };
        push @err, "$at: shorter than $s->{minLength}" if defined $s->{minLength} && length $v < $s->{minLength};
        push @err, "$at: longer than $s->{maxLength}" if defined $s->{maxLength} && length $v > $s->{maxLength};
        if (defined $s->{pattern}) {
            (my $re = $s->{pattern}) =~ s{^/(.*)/$}{$1}s;
            push @err, "$at: '$v' does not match $s->{pattern}" unless $v =~ /$re/;
        }
    } elsif ($type eq 'integer' || $type eq 'number') {
        return ("$at: not a JSON number") if ref $v || !created_as_number($v);
        my $n = $v;    # a copy: comparing must not turn the original into a string
        push @err, "$at: $n is not an integer" if $type eq 'integer' && $n != int $n;
        push @err, "$at: $n below $s->{minimum}" if defined $s->{minimum} && $n < $s->{minimum};
        push @err, "$at: $n above $s->{maximum}" if defined $s->{maximum} && $n > $s->{maximum};
    } elsif ($type eq 'boolean') {
        push @err, "$at: not a JSON boolean" unless ref $v eq 'JSON::PP::Boolean';
    } else {
        push @err, "$at: the schema type '$type' is unknown to this validator";
    }
    return @err;
}

ok(find_node($schema, '/admin/datastore/{store}/snapshots'), 'pbs-apidoc.js parsed, the snapshot path found');

# The validator catches what it should (each body is JSON text, decoded as an answer would be).
{
    my $snap = returns_of('/admin/datastore/{store}/snapshots');
    my $good = '"backup-type":"vm","backup-id":"100","backup-time":1700000000,"files":["index.json.blob"],"protected":false';
    my $check = sub { validate($snap, JSON::PP->new->decode("[{$_[0]}]")) };
    is_deeply([$check->($good)], [], 'validator: a minimal snapshot passes');
    my @bad = (
        ['"backup-type":"vm","backup-id":"100","backup-time":"1700000000","files":[],"protected":false', qr/backup-time: not a JSON number/, 'a number sent as a string'],
        ['"backup-type":"vm","backup-time":1700000000,"files":[],"protected":false', qr/no backup-id/, 'a missing property'],
        ["$good,\"ns\":\"prod\"", qr/ns is not in the schema/, 'a property the schema lacks'],
        ['"backup-type":"lxc","backup-id":"100","backup-time":1700000000,"files":[],"protected":false', qr/not one of/, 'a value outside the enum'],
        ['"backup-type":"vm","backup-id":"no such id!","backup-time":1700000000,"files":[],"protected":false', qr/does not match/, 'a pattern mismatch'],
        ['"backup-type":"vm","backup-id":"100","backup-time":1700000000,"files":[],"protected":0', qr/not a JSON boolean/, '0 for a boolean'],
        ['"backup-type":"vm","backup-id":"100","backup-time":0,"files":[],"protected":false', qr/below 1/, 'under the minimum'],
        ['"backup-type":"vm","backup-id":"100","backup-time":1.5,"files":[],"protected":false', qr/not an integer/, 'a fraction for an integer'],
        ["$good,\"verification\":{\"state\":\"ok\"}", qr/verification: no upid/, 'a missing nested property'],
        ['"backup-type":"vm","backup-id":"100","backup-time":1700000000,"files":[{"filename":"index.json.blob"}],"protected":false',
            qr/files\[0\]: not a string/, 'archive objects where the schema says names'],
    );
    for my $b (@bad) {
        my @err = $check->($b->[0]);
        ok((grep { $_ =~ $b->[1] } @err), "validator: catches $b->[2]") or diag explain \@err;
    }
    like(join(' ', validate($snap, {})), qr/not an array/, 'validator: an object for a list');
}

# The one place the real server departs from its schema: the snapshot list's `files` are
# declared as archive-name strings, but PBS serialises its BackupContent structs (pbs-api-types,
# SnapshotListItem.files: Vec<BackupContent>): objects with filename, crypt-mode and size.
my $snapshots_schema = dclone(returns_of('/admin/datastore/{store}/snapshots'));
my $name_schema = $snapshots_schema->{items}{properties}{files}{items};
$snapshots_schema->{items}{properties}{files}{items} = { type => 'object', additionalProperties => 0, properties => {
    filename => $name_schema,
    'crypt-mode' => { type => 'string', optional => 1, enum => [qw(none encrypt sign-only)] },
    size => { type => 'integer', optional => 1, minimum => 0 } } };

my %checked;
sub schema_ok {
    my ($sim, $path, $schema_path, $auth, $override) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $res = get($sim, $path, %$auth);
    is($res->code, 200, "$sim->{name}: GET $path answers 200") or return;
    like($res->headers->content_type // '', qr{^application/json}, "$sim->{name}: $path is JSON");
    my $body = JSON::PP->new->decode($res->body);
    is_deeply([sort keys %$body], ['data'], "$sim->{name}: $path is wrapped in {data}");
    my @err = validate($override // returns_of($schema_path), $body->{data});
    ok(!@err, "$sim->{name}: $path matches the returns schema of $schema_path")
        or diag join "\n", @err[0 .. ($#err > 9 ? 9 : $#err)];
    $checked{$schema_path}++;
    return $body->{data};
}

schema_ok($pbs, '/version', '/version', \%pbs_auth);
my $node_status = schema_ok($pbs, '/nodes/localhost/status', '/nodes/{node}/status', \%pbs_auth);
schema_ok($pbs, '/nodes/pbs/status', '/nodes/{node}/status', \%pbs_auth);
ok($node_status->{cpu} >= 0 && $node_status->{cpu} < 1, 'pbs: node cpu is a fraction');
is($node_status->{memory}{used} + $node_status->{memory}{free}, $node_status->{memory}{total}, 'pbs: memory adds up');

my $stores = schema_ok($pbs, '/admin/datastore', '/admin/datastore', \%pbs_auth);
is_deeply([map { $_->{store} } @$stores], [qw(store1 store2)], 'pbs: --datastores 2 gives store1, store2');
my (%group_count, $snapshot_total);
for my $store (map { $_->{store} } @$stores) {
    my $base = "/admin/datastore/$store";
    my $st = schema_ok($pbs, "$base/status", '/admin/datastore/{store}/status', \%pbs_auth);
    is($st->{used} + $st->{avail}, $st->{total}, "$store: used + avail = total");
    my $stv = schema_ok($pbs, "$base/status?verbose=1", '/admin/datastore/{store}/status', \%pbs_auth);
    ok($stv->{counts} && $stv->{'gc-status'}, "$store: verbose status has counts and gc-status");
    my $gc = schema_ok($pbs, "$base/gc", '/admin/datastore/{store}/gc', \%pbs_auth);
    is($gc->{store}, $store, "$store: gc names its store");

    # The RRD's schema is `null` (undocumented): the shape Pulse reads is checked by hand.
    my $rrd = get($pbs, "$base/rrd?cf=AVERAGE&timeframe=hour", %pbs_auth);
    is($rrd->code, 200, "$store: rrd answers");
    my $points = data_of($rrd);
    is(scalar @$points, 70, "$store: 70 RRD points");
    ok(!grep({ !created_as_number($_->{time}) } @$points), "$store: every point has a numeric time");
    my ($first_full) = grep { exists $_->{dedup_factor} } @$points;
    ok(exists $points->[0]{time} && !exists $points->[0]{used}, "$store: early points carry only the time");
    my $dedup = $points->[-1]{dedup_factor};
    ok(created_as_number($dedup) && $dedup > 1, "$store: the last point's dedup_factor ($dedup)");
    ok(abs($gc->{'index-data-bytes'} / $gc->{'disk-bytes'} - $dedup) < 0.01, "$store: gc byte counts agree with dedup_factor");
    is(get($pbs, "$base/rrd?cf=MEDIAN&timeframe=hour", %pbs_auth)->code, 400, "$store: an unknown cf answers 400");
    is(get($pbs, "$base/rrd?cf=AVERAGE", %pbs_auth)->code, 400, "$store: a missing timeframe answers 400");

    my $nss = schema_ok($pbs, "$base/namespace", '/admin/datastore/{store}/namespace', \%pbs_auth);
    is_deeply([map { $_->{ns} } @$nss], ['', 'prod', 'prod/db', 'dev'], "$store: the root namespace first, then three");
    is(get($pbs, "$base/groups?ns=nowhere", %pbs_auth)->code, 400, "$store: an unknown namespace answers 400");
    for my $ns (map { $_->{ns} } @$nss) {
        my $q = length $ns ? "ns=$ns" : '';
        my $groups = schema_ok($pbs, "$base/groups" . ($q ? "?$q" : ''), '/admin/datastore/{store}/groups', \%pbs_auth);
        is(scalar @$groups, length $ns ? 2 : 5, "$store/$ns: the number of groups");
        $group_count{$store} += @$groups;
        my @all;
        for my $g (@$groups) {
            my $sq = "backup-type=$g->{'backup-type'}&backup-id=$g->{'backup-id'}" . ($q ? "&$q" : '');
            my $snaps = schema_ok($pbs, "$base/snapshots?$sq", '/admin/datastore/{store}/snapshots', \%pbs_auth,
                $snapshots_schema);
            my $gname = "$store:" . (length $ns ? "$ns:" : '') . "$g->{'backup-type'}/$g->{'backup-id'}";
            is(scalar @$snaps, $g->{'backup-count'}, "$gname: backup-count = the snapshots listed");
            is(max(map { $_->{'backup-time'} } @$snaps), $g->{'last-backup'}, "$gname: last-backup = the newest snapshot");
            my ($newest) = grep { $_->{'backup-time'} == $g->{'last-backup'} } @$snaps;
            is_deeply($g->{files}, [map { $_->{filename} } @{ $newest->{files} }], "$gname: the group's files are the newest snapshot's");
            ok(!grep({ $_->{size} != sum0(map { $_->{size} } @{ $_->{files} }) } @$snaps), "$gname: size = the sum of the archives");
            ok(!grep({ $_->{'backup-type'} ne $g->{'backup-type'} || $_->{'backup-id'} ne $g->{'backup-id'} } @$snaps),
                "$gname: only the asked group's snapshots");
            ok(!grep({ $_->{'backup-time'} > $now } @$snaps), "$gname: no snapshot after 'now'");
            push @all, @$snaps;
        }
        my $every = schema_ok($pbs, "$base/snapshots" . ($q ? "?$q" : ''), '/admin/datastore/{store}/snapshots', \%pbs_auth,
            $snapshots_schema);
        is(scalar @$every, scalar @all, "$store/$ns: without a filter every snapshot of the namespace");
        $snapshot_total += @all;
    }
    my $counted = sum0(map { $_->{groups} } values %{ $stv->{counts} });
    is($counted, $group_count{$store}, "$store: verbose status counts every group");
}
is(get($pbs, '/admin/datastore/nosuch/status', %pbs_auth)->code, 400, 'pbs: an unknown datastore answers 400');
is(get($pbs, '/admin/datastore/store1/snapshots?backup-type=vmx', %pbs_auth)->code, 400, 'pbs: an unknown backup-type answers 400');
is(get($pbs, '/nodes/elsewhere/status', %pbs_auth)->code, 400, 'pbs: an unknown node answers 400');
is(get($pbs, '/no/such/path', %pbs_auth)->code, 404, 'pbs: an unknown path answers 404');
ok($snapshot_total > 40, "pbs: $snapshot_total snapshots in all");
is_deeply([sort keys %checked], [sort((map { "/admin/datastore$_" } '', qw(/{store}/gc /{store}/groups /{store}/namespace
    /{store}/snapshots /{store}/status)), '/nodes/{node}/status', '/version')],
    'every served path with a documented schema was validated (the RRD by hand)');

# Variety the pollers must handle, all present in the generated data.
{
    my @snaps = @{ data_of(get($pbs, '/admin/datastore/store1/snapshots', %pbs_auth)) };
    push @snaps, @{ data_of(get($pbs, "/admin/datastore/store$_/snapshots?ns=prod", %pbs_auth)) } for 1 .. 2;
    push @snaps, @{ data_of(get($pbs, '/admin/datastore/store2/snapshots', %pbs_auth)) };
    my %types = map { $_->{'backup-type'} => 1 } @snaps;
    is_deeply([sort keys %types], [qw(ct host vm)], 'pbs: vm, ct and host backups');
    ok((grep { $_->{protected} } @snaps), 'pbs: some snapshots are protected');
    ok((grep { !exists $_->{verification} } @snaps), 'pbs: some snapshots are not verified');
    ok((grep { ($_->{verification}{state} // '') eq 'ok' } @snaps), 'pbs: some verified ok');
    ok((grep { exists $_->{comment} } @snaps) && (grep { !exists $_->{comment} } @snaps), 'pbs: comments on some');
    ok((grep { ($_->{owner} // '') =~ /!/ } @snaps), 'pbs: some owned by an API token');
}

# Deterministic: a second simulator with the same seed and clock answers alike (through its
# ticket), and the snapshot files as names satisfy the schema as it stands.
{
    my $d = data_of($ua->post("$pbs_pw->{url}/api2/json/access/ticket" => json => { username => 'admin@pbs',
        password => 'pbs-password-1' })->result);
    my %cookie = (Cookie => "PBSAuthCookie=$d->{ticket}");
    for my $p ('/admin/datastore', '/admin/datastore/store2/groups?ns=prod/db', '/admin/datastore/store1/snapshots',
        '/admin/datastore/store2/gc') {
        is(get($pbs_pw, $p, %cookie)->body, get($pbs, $p, %pbs_auth)->body, "pbs: same seed, same answer: $p");
    }
    my $snaps = schema_ok($pbs_names, '/admin/datastore/store1/snapshots', '/admin/datastore/{store}/snapshots', {});
    ok(@$snaps && !ref $snaps->[0]{files}[0], 'pbs --snapshot-files names: archive names as the schema declares');
    my $before = data_of(get($pbs_names, '/admin/datastore/store1/groups'))->[0]{'backup-count'};
    sleep 1.2;
    my $after = data_of(get($pbs_names, '/admin/datastore/store1/groups'))->[0]{'backup-count'};
    ok($after > $before, "pbs --advance 1: the backup count grows ($before, then $after)");
}

# --- PMG: the fields of the reference notes -------------------------------------------------------

sub numeric_ok { my $v = shift; defined $v && !ref $v && $v =~ /^-?\d+(\.\d+)?$/ }

sub fields_ok {
    my ($what, $obj, @fields) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my @missing = grep { !exists $obj->{$_} } @fields;
    ok(!@missing, "pmg: $what has " . join(', ', @fields)) or diag "missing: @missing";
}

my @MAIL = qw(count count_in count_out spamcount_in spamcount_out viruscount_in viruscount_out bounces_in bounces_out
    bytes_in bytes_out glcount junk_in rbl_rejects pregreet_rejects avptime);
my @POINT = qw(index time count count_in count_out spamcount_in spamcount_out viruscount_in viruscount_out bounces_in
    bounces_out rbl_rejects pregreet_rejects glcount);
{
    my $v = data_of(get($pmg, '/version', %pmg_auth));
    fields_ok('/version', $v, qw(version release repoid));
    my $cl = data_of(get($pmg, '/config/cluster/status?list_single_node=1', %pmg_auth));
    is(scalar @$cl, 3, 'pmg --nodes 3: three cluster members');
    fields_ok("cluster member $_->{name}", $_, qw(cid name type ip fingerprint)) for @$cl;
    is_deeply([map { $_->{type} } @$cl], [qw(master node node)], 'pmg: a master and two nodes');
    ok(!grep({ !created_as_number($_->{cid}) } @$cl), 'pmg: cid is a number');
    my $single = data_of(get($pmg_pw, '/config/cluster/status?list_single_node=1',
        Cookie => 'PMGAuthCookie=' . data_of($ua->post("$pmg_pw->{url}/api2/json/access/ticket" =>
            form => { username => 'admin@pmg', password => 'pmg-password-1' })->result)->{ticket}));
    is(scalar @$single, 1, 'pmg standalone: list_single_node=1 lists the one node');
    fields_ok('the standalone node', $single->[0], qw(name type ip fingerprint));

    my $stringy = 0;
    for my $n (map { $_->{name} } @$cl) {
        my $q = data_of(get($pmg, "/nodes/$n/postfix/queue", %pmg_auth));
        fields_ok("$n queue", $q, qw(active deferred hold incoming oldest_age));
        ok(!grep({ !numeric_ok($q->{$_}) } keys %$q), "pmg: $n queue values are numbers or numeric strings");
        $stringy += grep { created_as_string($q->{$_}) } keys %$q;
        my $b = data_of(get($pmg, "/nodes/$n/backup", %pmg_auth));
        is(scalar @$b, 3, "pmg: $n has three backups");
        fields_ok("$n backup $_->{filename}", $_, qw(filename size timestamp)) for @$b;
        like($_->{filename}, qr/^pmg-backup_\d{4}_\d\d_\d\d_[0-9A-F]{8}\.tgz$/, "pmg: backup file name $_->{filename}") for @$b;
        is(scalar(keys %{ { map { $_->{filename} => 1 } @$b } }), 3, "pmg: $n backup names differ");
    }
    is(get($pmg, '/nodes/pmg9/postfix/queue', %pmg_auth)->code, 500, 'pmg: an unknown node fails');

    my $mail = data_of(get($pmg, '/statistics/mail', %pmg_auth));
    fields_ok('/statistics/mail', $mail, @MAIL);
    ok(!grep({ !numeric_ok($mail->{$_}) } @MAIL), 'pmg: mail statistics are numbers or numeric strings');
    $stringy += grep { created_as_string($mail->{$_}) } @MAIL;
    ok($mail->{avptime} > 0 && $mail->{avptime} < 10, 'pmg: avptime in seconds');

    my $points = data_of(get($pmg, '/statistics/mailcount?timespan=86400', %pmg_auth));
    is(scalar @$points, 24, 'pmg: 24 hourly points for a day');
    fields_ok("mailcount point $_->{index}", $_, @POINT) for $points->[0], $points->[-1];
    ok(!grep({ my $p = $_; grep { !exists $p->{$_} } @POINT } @$points), 'pmg: every point has every field');
    is_deeply([map { $_->{index} } @$points], [0 .. 23], 'pmg: indices 0..23');
    ok(!grep({ $points->[$_]{time} - $points->[$_ - 1]{time} != 3600 } 1 .. 23), 'pmg: one point an hour');
    is($points->[0]{time} % 3600, 0, 'pmg: points start on the hour');
    is(sum0(map { $_->{count} } @$points), $mail->{count}, 'pmg: the day\'s count is the sum of the hours');
    is(sum0(map { $_->{spamcount_in} } @$points), $mail->{spamcount_in}, 'pmg: so is spamcount_in');
    is(scalar @{ data_of(get($pmg, '/statistics/mailcount', %pmg_auth)) }, 1, 'pmg: the default timespan is one hour');
    is(get($pmg, '/statistics/mailcount?timespan=abc', %pmg_auth)->code, 400, 'pmg: a bad timespan answers 400');

    my $scores = data_of(get($pmg, '/statistics/spamscores', %pmg_auth));
    ok(@$scores > 1, 'pmg: a spam score distribution');
    fields_ok("spam score level $_->{level}", $_, qw(level count ratio)) for $scores->[0];
    ok(!grep({ my $s = $_; grep { !exists $s->{$_} } qw(level count ratio) } @$scores), 'pmg: every level has level, count, ratio');
    is(sum0(map { $_->{count} } @$scores), $mail->{count_in}, 'pmg: the spam score counts add up to the incoming mail');

    my $spam = data_of(get($pmg, '/quarantine/spamstatus', %pmg_auth));
    fields_ok('/quarantine/spamstatus', $spam, qw(count avgbytes avgspam mbytes));
    my $virus = data_of(get($pmg, '/quarantine/virusstatus', %pmg_auth));
    fields_ok('/quarantine/virusstatus', $virus, qw(count avgbytes mbytes));
    $stringy += grep { created_as_string($_) } values %$spam, values %$virus;
    ok($stringy >= 5, "pmg: some numbers arrive as strings ($stringy seen)");
    is(get($pmg, '/no/such/path', %pmg_auth)->code, 404, 'pmg: an unknown path answers 404');
}

# --- fault modes -------------------------------------------------------------------------------

for my $case ([$pbs, \%pbs_auth, '/admin/datastore'], [$pmg, \%pmg_auth, '/statistics/mail']) {
    my ($sim, $auth, $path) = @$case;
    my $n = $sim->{name};
    my $normal = get($sim, $path, %$auth)->body;
    $stack->sim_mode($sim, mode => 'error');
    is(get($sim, $path, %$auth)->code, 500, "$n error: 500");
    is(get($sim, '/version', %$auth)->code, 500, "$n error: /version too");
    $stack->sim_mode($sim, mode => 'truncated');
    my $res = get($sim, $path, %$auth);
    is($res->code, 200, "$n truncated: still 200");
    ok(!defined eval { JSON::PP->new->decode($res->body) }, "$n truncated: not JSON");
    is($res->body, substr($normal, 0, int(length($normal) / 2)), "$n truncated: the first half of the normal answer");
    $stack->sim_mode($sim, mode => 'garbage');
    $res = get($sim, $path, %$auth);
    like($res->body, qr/^<html>/, "$n garbage: HTML-looking bytes");
    ok(!defined eval { JSON::PP->new->decode($res->body) }, "$n garbage: not JSON");
    $stack->sim_mode($sim, mode => 'huge');
    $res = get($sim, $path, %$auth);
    ok(($res->headers->content_length // 0) > 50_000_000, "$n huge: announced as more than 50 MB");
    is(length $res->body, $res->headers->content_length, "$n huge: and that long");
    like(substr($res->body, 0, 20), qr/^\{"data":\[\{/, "$n huge: a JSON list");
    $stack->sim_mode($sim, mode => 'slow', delay => 1);
    my $t0 = time;
    $res = get($sim, $path, %$auth);
    my $took = time - $t0;
    ok($took >= 0.9, sprintf('%s slow: answered after %.1f s', $n, $took));
    is($res->body, $normal, "$n slow: and the answer is whole");
    $stack->sim_mode($sim, mode => 'normal');
    is(get($sim, $path, %$auth)->body, $normal, "$n normal again: the normal answer");
    is(get($sim, '/version')->code, 401, "$n: faults never bypass authentication");
}

$stack->sim_mode($pbs, mode => 'offline-node');
is(get($pbs, '/version', %pbs_auth)->code, 200, 'pbs offline-node: /version answers');
is(get($pbs, '/nodes/localhost/status', %pbs_auth)->code, 200, 'pbs offline-node: the node status answers');
is(get($pbs, $_, %pbs_auth)->code, 500, "pbs offline-node: $_ fails with 500")
    for '/admin/datastore', '/admin/datastore/store1/status', '/admin/datastore/store1/groups',
    '/admin/datastore/store2/snapshots', '/admin/datastore/store1/rrd?cf=AVERAGE&timeframe=hour';
$stack->sim_mode($pbs, mode => 'normal');
is(get($pbs, '/admin/datastore', %pbs_auth)->code, 200, 'pbs: datastores back');

$stack->sim_mode($pmg, mode => 'offline-node', node => 'pmg2');
is(get($pmg, '/nodes/pmg2/postfix/queue', %pmg_auth)->code, 500, 'pmg offline-node pmg2: its queue fails');
is(get($pmg, '/nodes/pmg2/backup', %pmg_auth)->code, 500, 'pmg offline-node pmg2: its backups fail');
is(get($pmg, '/nodes/pmg1/postfix/queue', %pmg_auth)->code, 200, 'pmg offline-node pmg2: pmg1 answers');
is(get($pmg, '/version', %pmg_auth)->code, 200, 'pmg offline-node: /version answers');
is(scalar @{ data_of(get($pmg, '/config/cluster/status?list_single_node=1', %pmg_auth)) }, 3,
    'pmg offline-node: the cluster status still lists the node');
$stack->sim_mode($pmg, mode => 'offline-node');
is(get($pmg, "/nodes/$_/postfix/queue", %pmg_auth)->code, 500, "pmg offline-node without a name: $_ fails") for qw(pmg1 pmg3);
$stack->sim_mode($pmg, mode => 'normal');
is(get($pmg, '/nodes/pmg2/postfix/queue', %pmg_auth)->code, 200, 'pmg: pmg2 back');

for my $sim ($pbs, $pmg) {
    my $stats = $ua->get("$sim->{url}/__sim/stats")->result->json;
    ok($stats->{requests} > 10, "$sim->{name}: /__sim/stats counts requests ($stats->{requests})");
    ok($stats->{by_path}{'/version'} >= 3, "$sim->{name}: and per path");
}
is_deeply(\%unmarked, {}, 'every answer carried X-Pulse-Sim: synthetic (...)');

$stack->stop;
done_testing;
