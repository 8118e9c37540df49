#!/usr/bin/perl
# 58-pve-sim-c.t: the C simulator of the scale benchmarks (bench/pve-sim) answers as
# t/fakes/pve-sim.pl does for the same generated cluster: every path the worker polls and
# the node configuration asks, per node and per guest, including the refusals (status,
# reason and body), compared value by value and type by type (a number stays a number);
# only what moves with time (counters, uptimes, timestamps) is compared by type alone.
# Authentication and /__sim/metrics as well. Then a worker polls the C simulator and shows
# the whole estate.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use JSON::PP;
use Mojo::UserAgent;
use Test::More;
use PulseStack;
no warnings 'experimental::builtin';
use builtin qw(created_as_number);

my ($nodes, $guests) = (3, 40);
my $token = 'root@pam!t=sim-secret';
my $s = PulseStack->new->start;
my $perl = $s->start_sim(nodes => $nodes, guests => $guests, token => $token);
# The same certificate (the fingerprints it reports match), another process.
my $c = $s->start_c_sim(cert_of => $perl->{name}, nodes => $nodes, guests => $guests, token => $token);
my $ua = Mojo::UserAgent->new(insecure => 1, request_timeout => 20, max_redirects => 0);
my %auth = (Authorization => "PVEAPIToken=$token");

# Values that move with time: compared by type.
my %moving = map { $_ => 1 } qw(diskread diskwrite netin netout uptime time starttime endtime ctime
    snaptime last_sync last_try next_sync notbefore notafter rx-bytes tx-bytes rx-packets tx-packets);

sub kind {
    my $v = shift;
    return 'null' unless defined $v;
    return 'bool' if JSON::PP::is_bool($v);
    return ref $v if ref $v;
    return created_as_number($v) ? 'number' : 'string';
}

# The differences between two decoded answers, as "path: what" lines.
sub diff {
    my ($a, $b, $where, $key) = @_;
    my ($ka, $kb) = (kind($a), kind($b));
    return ("$where: $ka vs $kb") if $ka ne $kb;
    if ($ka eq 'HASH') {
        my @d;
        my %keys = map { $_ => 1 } keys %$a, keys %$b;
        for my $k (sort keys %keys) {
            if (!exists $a->{$k} || !exists $b->{$k}) {
                push @d, "$where.$k: only in " . (exists $a->{$k} ? 'perl' : 'C');
                next;
            }
            push @d, diff($a->{$k}, $b->{$k}, "$where.$k", $k);
        }
        return @d;
    }
    if ($ka eq 'ARRAY') {
        return ("$where: " . @$a . ' vs ' . @$b . ' items') if @$a != @$b;
        return map { diff($a->[$_], $b->[$_], "$where\[$_]", $key) } 0 .. $#$a;
    }
    return () if $ka eq 'null' || (defined $key && $moving{$key});
    return () if $ka eq 'bool' ? (!!$a == !!$b) : $ka eq 'number' ? $a == $b : $a eq $b;
    return ("$where: '$a' vs '$b'");
}

sub get {
    my ($sim, $path, %h) = @_;
    my $res = $ua->get("$sim->{url}/api2/json$path" => { %auth, %h })->result;
    my $body = eval { JSON::PP->new->decode($res->body) };
    return ($res->code, $res->message, $body, $res->body);
}

my @paths = ('/nodes', '/cluster/resources?type=vm', '/cluster/resources', '/cluster/status', '/storage',
    '/cluster/replication', '/cluster/replication/100-0', '/cluster/replication/101-0',
    '/cluster/replication/none', '/version', '/nodes/node1/nothing');
for my $n (map { "node$_" } 1 .. $nodes, 9) {
    push @paths, map { "/nodes/$n/$_" } qw(status network rrddata?cf=AVERAGE&timeframe=hour qemu lxc storage
        tasks?typefilter=vzdump&limit=500 storage/local/content?content=backup certificates/info disks/list
        disks/zfs disks/zfs/rpool disks/zfs/tank disks/zfs/other replication replication/100-0/status
        replication/101-0/status);
}
for my $i (0 .. $guests - 1, 900) {
    my $vmid = 100 + $i;
    my $type = $i % 3 == 2 ? 'lxc' : 'qemu';
    my $node = 'node' . (1 + $i % $nodes);
    my $other = 'node' . (1 + ($i + 1) % $nodes);
    push @paths, map { "/nodes/$node/$type/$vmid/$_" } qw(snapshot status/current);
    push @paths, "/nodes/$node/qemu/$vmid/status/current", "/nodes/$node/lxc/$vmid/rrddata?cf=AVERAGE&timeframe=hour";
    push @paths, map { ("/nodes/$node/qemu/$vmid/agent/$_", "/nodes/$other/qemu/$vmid/agent/$_") }
        qw(get-fsinfo network-get-interfaces get-osinfo info other);
    push @paths, map { ("/nodes/$node/lxc/$vmid/$_", "/nodes/$other/lxc/$vmid/$_") }
        qw(status/current config interfaces);
}

my (%codes, @bad);
for my $path (@paths) {
    my @p = get($perl, $path);
    my @c = get($c, $path);
    $codes{ $p[0] }++;
    my @d;
    push @d, "status $p[0] vs $c[0]" if $p[0] != $c[0];
    push @d, "reason '$p[1]' vs '$c[1]'" if $p[0] >= 400 && $p[1] ne $c[1];
    push @d, 'not JSON' unless defined $p[2] && defined $c[2];
    push @d, diff($p[2], $c[2], 'body') if defined $p[2] && defined $c[2];
    push @bad, map { "$path: $_" } @d;
}
is(scalar @bad, 0, scalar(@paths) . ' paths answered alike (' . join(', ', map { "$codes{$_} x $_" } sort keys %codes) . ')')
    or diag(join "\n", @bad[0 .. ($#bad < 30 ? $#bad : 30)]);
ok($codes{200} > 250 && $codes{404} && $codes{500}, 'answers, unknown paths and refusals among them');

# What moves, moves alike: a guest's counters grow at the same rate in both.
my @r1 = map { (get($_, '/nodes/node1/qemu/103/status/current'))[2]{data}{netin} } $perl, $c;
sleep 1;
my @r2 = map { (get($_, '/nodes/node1/qemu/103/status/current'))[2]{data}{netin} } $perl, $c;
ok($r2[1] > $r1[1] && abs(($r2[1] - $r1[1]) - ($r2[0] - $r1[0])) < 0.5 * ($r2[0] - $r1[0]) + 1,
    "counters advance at the same rate ($r1[1] -> $r2[1])");

# Authentication: none, or another token, is a 401 in both.
for my $h ({ Authorization => '' }, { Authorization => "PVEAPIToken=${token}x" }) {
    my @p = get($perl, '/nodes', %$h);
    my @q = get($c, '/nodes', %$h);
    is_deeply([$q[0], $q[2]], [$p[0], $p[2]], "refused alike: '$h->{Authorization}'");
}

# /__sim/metrics: a guest's CPU and status, a node's CPU.
for my $sim ($perl, $c) {
    $ua->post("$sim->{url}/__sim/metrics" => json => { vmid => 103, cpu => 0.97 });
    $ua->post("$sim->{url}/__sim/metrics" => json => { vmid => 106, status => 'stopped' });
    $ua->post("$sim->{url}/__sim/metrics" => json => { node => 'node2', cpu => 0.5 });
}
for my $path ('/cluster/resources', '/nodes', '/nodes/node1/qemu/103/status/current') {
    my @p = get($perl, $path);
    my @q = get($c, $path);
    is_deeply([diff($p[2], $q[2], 'body')], [], "after /__sim/metrics: $path alike");
}
is($ua->post("$c->{url}/__sim/metrics" => json => { vmid => 99999 })->result->code, 400, 'unknown guest: 400');

# A worker polls the C simulator: the whole estate shows.
$s->stop_program("sim-$perl->{name}", 'TERM', 10);
$s->setup_admin;
my $res = $s->ua->post($s->url('/api/config/nodes') => $s->token_headers => json => { type => 'pve',
    name => 'csim', host => $c->{url}, tokenName => 'root@pam!t', tokenValue => 'sim-secret',
    fingerprint => $c->{fingerprint} })->result;
is($res->code, 201, 'node added against the C simulator') or diag $res->body;
my $st = $s->wait_state(sub { @{ $_[0]{vms} } + @{ $_[0]{containers} } == $guests && @{ $_[0]{nodes} } == $nodes },
    60, 'the whole estate');
is(scalar(grep { $_->{status} eq 'running' } @{ $st->{vms} }, @{ $st->{containers} }), 35, 'running guests as generated');

$s->stop;
done_testing;
