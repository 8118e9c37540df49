#!/usr/bin/perl
# pbs-sim.pl: a Proxmox Backup Server API simulator over HTTPS, for tests and benchmarks.
#
#   pbs-sim.pl --listen https://127.0.0.1:8007 --cert C --key K
#              [--datastores N] [--groups M] [--namespaces] [--seed S] [--now EPOCH]
#              [--advance SECONDS] [--token 'user@realm!tokenid:secret'] [--password 'user@realm:password']
#              [--hostname NAME] [--snapshot-files objects|names]
#
# SYNTHETIC DATA. No recorded Proxmox Backup Server responses are published anywhere we could
# find (see ../shared/fixtures/README.md), so every answer here is made up, shaped after the
# `returns` schema of its path in the PBS API schema (fixtures/proxmox-schema/pbs-apidoc.js):
# the same property names, types, nesting, enums and patterns. Every response carries the
# header `X-Pulse-Sim: synthetic (pbs-apidoc.js)` so nobody mistakes it for a real server.
# Where the schema and the real server disagree the real wire format wins, and it is said:
#   - snapshot `files`: the schema declares archive-name strings, but PBS serialises its
#     BackupContent structs, objects {filename, crypt-mode, size}; --snapshot-files names
#     gives the strings instead (what PBS 1.0-era servers sent).
#   - the datastore RRD's schema is `null` (undocumented); we answer the usual RRD list of
#     points {time, total, used, available, read_bytes, ...} plus `dedup_factor`, which is
#     what Pulse reads from the last point. Points without data carry only `time`.
#
# Served under /api2/json, wrapped as {"data": ...}, GET only but for the DELETE below:
#   /version, /nodes/{localhost|hostname}/status, /admin/datastore,
#   /admin/datastore/{store}/status[?verbose=1], /admin/datastore/{store}/rrd?cf=&timeframe=,
#   /admin/datastore/{store}/gc, /admin/datastore/{store}/namespace,
#   /admin/datastore/{store}/groups[?ns=], /admin/datastore/{store}/snapshots[?backup-type=
#   &backup-id=][&ns=]; POST /access/ticket (JSON or form body) when --password is given;
#   DELETE /admin/datastore/{store}/snapshots?backup-type=&backup-id=&backup-time=[&ns=]
#   forgets a snapshot, as PBS does (a group whose last snapshot is forgotten is no longer
#   listed), whatever the test control mode below.
# The data: N datastores store1..storeN; M backup groups in each root namespace (vm, ct, vm,
# host, ...); with --namespaces also the namespaces prod, prod/db and dev with two groups
# each. Every group holds 2..6 daily snapshots, the newest 10 min..12 h before the simulator
# started; --advance S adds one snapshot to every group every S seconds. All values derive
# from --seed (default 1) and the group names: two runs with one seed answer alike, except
# for times, which are relative to the start (--now EPOCH pins that too).
# Authentication, fault modes and test control are those every simulator shares
# (t/lib/ProxmoxSim.pm), named PBS: with --token the header
# `Authorization: PBSAPIToken=user@realm!id:secret` is required; with --password a ticket from
# POST /access/ticket, sent as the cookie `PBSAuthCookie` (and, for a non-GET, the header
# CSRFPreventionToken). Without either, everything is open. Failing auth answers 401.
# Test control, on the same port and without authentication: POST /__sim/mode
# {"mode":"normal|slow|error|truncated|garbage|huge|amplify|evil-ticket|evil-csrf|
# offline-node","delay":seconds} and GET /__sim/stats (ProxmoxSim.pm says what each does),
# POST /__sim/snapshot {"store","ns","type","id","time"} (adds a snapshot to a generated
# group), POST /__sim/cpu {"cpu":0.125} (the node status's cpu, a fraction as PBS reports it,
# from then on; null: back to the default that wanders with time). offline-node: every
# /admin/datastore call answers 500 while /version and the node status still answer (a
# datastore disk gone, the daemon up).
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);
use FindBin;
use JSON::PP;
use Mojolicious::Lite -signatures;
use Time::HiRes qw(time);
use lib "$FindBin::Bin/../lib";
use ProxmoxSim qw(refusal verbatim);

my %opt = (datastores => 2, groups => 5, seed => 1, advance => 0, hostname => 'pbs',
    'snapshot-files' => 'objects');
my $sim = ProxmoxSim->new('PBS', \%opt, 'datastores=i', 'groups=i', 'namespaces', 'seed=s', 'advance=i',
    'now=i', 'hostname=s', 'snapshot-files=s');
die "--snapshot-files is objects or names\n" unless $opt{'snapshot-files'} =~ /^(objects|names)$/;
my $mode = $sim->mode;
my $started = time;
my $anchor = $opt{now} // int $started;    # "now" for the generated history
use constant { GiB => 2**30, TiB => 2**40 };

# A deterministic number in 0 .. 2^32-1 from the seed and the given keys.
sub rnd (@k) { hex substr(md5_hex(join "\0", $opt{seed}, @k), 0, 8) }

# --- the generated server -----------------------------------------------------------------

# Archives per backup type: [name, share of the group's base size, or fixed bytes for blobs].
my %FILES = (
    vm   => [['qemu-server.conf.blob', 0, 700], ['drive-scsi0.img.fidx', 0.97], ['drive-efidisk0.img.fidx', 0, 540],
             ['index.json.blob', 0, 480], ['client.log.blob', 0, 3100]],
    ct   => [['pct.conf.blob', 0, 420], ['root.pxar.didx', 0.95], ['catalog.pcat1.didx', 0.004],
             ['index.json.blob', 0, 460], ['client.log.blob', 0, 2900]],
    host => [['root.pxar.didx', 0.97], ['catalog.pcat1.didx', 0.003], ['index.json.blob', 0, 430]],
);
my %BASE_SIZE = (vm => 32 * GiB, ct => 4 * GiB, host => 2 * GiB);

my @stores;
my %store_by_name;
for my $d (1 .. $opt{datastores}) {
    my $name = "store$d";
    my %s = (
        name    => $name,
        comment => $d == 1 ? 'Primary backups' : "Simulated datastore $d",
        total   => (2 + rnd($name, 'total') % 7) * TiB,
        dedup   => (150 + rnd($name, 'dedup') % 600) / 100,
        ns      => [''],
        groups  => {},
    );
    $s{used} = int($s{total} * (15 + rnd($name, 'used') % 70) / 100);
    push @{ $s{ns} }, 'prod', 'prod/db', 'dev' if $opt{namespaces};
    for my $ns (@{ $s{ns} }) {
        my $count = $ns eq '' ? $opt{groups} : 2;
        my $first = $ns eq '' ? 100 : $ns eq 'prod' ? 500 : $ns eq 'prod/db' ? 600 : 700;
        my @g;
        for my $i (0 .. $count - 1) {
            my $type = (qw(vm ct vm host))[$i % 4];
            my $id = $type eq 'host' ? "backup-client$i" : $first + $i;
            my $key = "$name/$ns/$type/$id";
            push @g, {
                type      => $type,
                id        => "$id",
                key       => $key,
                base      => 2 + rnd($key, 'count') % 5,
                offset    => 600 + rnd($key, 'offset') % 43200,
                owner     => rnd($key, 'owner') % 3 ? 'root@pam' : 'sync@pbs!pulse',
                comment   => rnd($key, 'comment') % 2 ? "$type $id nightly" : undef,
                encrypted => rnd($key, 'crypt') % 5 == 0,
            };
        }
        $s{groups}{$ns} = \@g;
    }
    push @stores, \%s;
    $store_by_name{$name} = \%s;
}

sub upid ($wtype, $wid, $t) {
    return sprintf 'UPID:%s:%08X:%08X:%08X:%08X:%s:%s:root@pam:', $opt{hostname}, 1000 + $t % 60000,
        $t % 2**31, $t % 4096, $t, $wtype, $wid;
}

sub fingerprint ($k) { join ':', map { substr(md5_hex($k, $_), 0, 2) } 1 .. 32 }

# Snapshots forgotten through the API: "{group key}/{backup-time}"; snapshots added by
# POST /__sim/snapshot: group key => [backup-time, ...].
my (%forgotten, %added);
my $pinned_cpu;    # POST /__sim/cpu

# A group's snapshot times, oldest first.
sub snapshot_times ($g) {
    my $newest = $anchor - $g->{offset};
    my @t = map { $newest - $_ * 86400 } reverse 0 .. $g->{base} - 1;
    if ($opt{advance} > 0) {
        my $extra = int((time - $started) / $opt{advance});
        push @t, map { $newest + $_ * $opt{advance} } 1 .. $extra;
    }
    @t = sort { $a <=> $b } @t, @{ $added{ $g->{key} } // [] };
    return grep { !$forgotten{"$g->{key}/$_"} } @t;
}

# The groups of a namespace that hold a snapshot.
sub listed_groups ($store, $ns) { grep { scalar snapshot_times($_) } @{ $store->{groups}{$ns} } }

sub snapshot ($store, $ns, $g, $t, $newest, $pos) {
    my $k = "$g->{key}/$t";
    # Protection and verification by the snapshot's place in its group, not its time: the
    # variety the tests look for is then the same in every run.
    my $v = "$g->{key}/#$pos";
    my $scale = 0.5 + (rnd($k, 'size') % 1000) / 1000;
    my (@files, $size);
    for my $f (@{ $FILES{ $g->{type} } }) {
        my $bytes = $f->[1] ? int($BASE_SIZE{ $g->{type} } * $f->[1] * $scale) : $f->[2] + rnd($k, $f->[0]) % 200;
        $size += $bytes;
        my $crypt = !$g->{encrypted} ? 'none' : $f->[0] eq 'index.json.blob' ? 'sign-only' : 'encrypt';
        push @files, $opt{'snapshot-files'} eq 'names' ? $f->[0]
            : { filename => $f->[0], 'crypt-mode' => $crypt, size => $bytes };
    }
    my %s = ('backup-type' => $g->{type}, 'backup-id' => $g->{id}, 'backup-time' => 0 + $t,
        files => \@files, size => $size, protected => rnd($v, 'protected') % 11 == 0 ? JSON::PP::true : JSON::PP::false,
        owner => $g->{owner});
    $s{comment} = $g->{comment} if defined $g->{comment};
    $s{fingerprint} = fingerprint($g->{key}) if $g->{encrypted};
    # The newest snapshot is sometimes not verified yet; one in seventeen failed.
    unless ($newest && rnd($v, 'unverified') % 3 == 0) {
        $s{verification} = { state => rnd($v, 'verify') % 17 == 0 ? 'failed' : 'ok',
            upid => upid('verify', "$store->{name}", $t + 3600) };
    }
    return \%s;
}

sub snapshots ($store, $ns, $g) {
    my @t = snapshot_times($g);
    return map { snapshot($store, $ns, $g, $t[$_], $_ == $#t, $_) } 0 .. $#t;
}

sub group_item ($store, $ns, $g) {
    my @s = snapshots($store, $ns, $g);
    my %i = ('backup-type' => $g->{type}, 'backup-id' => $g->{id}, 'backup-count' => scalar @s,
        'last-backup' => $s[-1]{'backup-time'}, owner => $g->{owner},
        files => [map { ref $_ ? $_->{filename} : $_ } @{ $s[-1]{files} }]);
    $i{comment} = $g->{comment} if defined $g->{comment};
    return \%i;
}

sub gc_numbers ($store) {
    my $disk = int($store->{used} * 0.95);
    my $n = $store->{name};
    return ('index-data-bytes' => int($disk * $store->{dedup}), 'index-file-count' => 40 + rnd($n, 'idx') % 400,
        'disk-bytes' => $disk, 'disk-chunks' => int($disk / (4 * 2**20)), 'pending-bytes' => rnd($n, 'pb') % 2**20,
        'pending-chunks' => rnd($n, 'pc') % 8, 'removed-bad' => 0, 'removed-bytes' => rnd($n, 'rb') % GiB,
        'removed-chunks' => rnd($n, 'rc') % 256, 'still-bad' => 0,
        upid => upid('garbage_collection', $n, $anchor - 7200));
}

# DELETE .../snapshots: forgets the one snapshot named by type, id and time (answers null).
sub forget ($c, $store, $ns, @g) {
    my $t = $c->param('backup-time') // '';
    return refusal(400, "parameter verification failed - 'backup-type', 'backup-id', 'backup-time': property is missing")
        unless defined $c->param('backup-type') && defined $c->param('backup-id') && $t =~ /^\d+$/;
    my ($g) = grep { my $x = $_; grep { $_ == $t } snapshot_times($x) } @g;
    return refusal(400, "backup dir does not exist") unless $g;
    $forgotten{"$g->{key}/$t"} = 1;
    return verbatim(200, { data => undef });
}

sub generated ($c, $path) {
    return { version => '3.4.1', release => '3.4', repoid => 'f5d8ff2d1a1ea3c3b5d2dbe3fe1e1dfbd0d0c6b2' }
        if $path eq '/version';
    if ($path =~ m{^/nodes/([^/]+)/status$}) {
        return refusal(400, "no such node '$1'") unless $1 eq 'localhost' || $1 eq $opt{hostname};
        my $mem = 64 * GiB;
        return {
            cpu => $pinned_cpu // 0.02 + (rnd('cpu', int time / 10) % 100) / 1000, wait => 0.001,
            loadavg => [0.42, 0.37, 0.3], uptime => 3 * 86400 + int(time - $started),
            memory => { total => $mem, used => int($mem * 0.31), free => $mem - int($mem * 0.31) },
            swap => { total => 8 * GiB, used => 0, free => 8 * GiB },
            root => { total => 100 * GiB, used => 12 * GiB, avail => 88 * GiB },
            kversion => 'Linux 6.8.12-9-pve #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-9 (2025-03-16T19:18Z)',
            'current-kernel' => { sysname => 'Linux', release => '6.8.12-9-pve',
                version => '#1 SMP PREEMPT_DYNAMIC PMX 6.8.12-9 (2025-03-16T19:18Z)', machine => 'x86_64' },
            cpuinfo => { model => 'Simulated Xeon CPU @ 2.40GHz', cpus => 16, sockets => 1 },
            info => { fingerprint => fingerprint("node/$opt{hostname}") },
            'boot-info' => { mode => 'efi', secureboot => JSON::PP::false },
        };
    }
    return unless $path =~ m{^/admin/datastore(?:/([^/]+)(?:/([^/]+))?)?$};
    my ($name, $what) = ($1, $2);
    return refusal(500, "unable to open chunk store at \"/mnt/datastore\" - EIO") if $mode->{mode} eq 'offline-node';
    if (!defined $name) {
        return [map { { store => $_->{name}, comment => $_->{comment}, 'mount-status' => 'nonremovable',
            'backend-type' => 'filesystem' } } @stores];
    }
    my $store = $store_by_name{$name} or return refusal(400, "datastore '$name' does not exist");
    return [{ subdir => 'status' }, { subdir => 'rrd' }, { subdir => 'gc' }, { subdir => 'namespace' },
        { subdir => 'groups' }, { subdir => 'snapshots' }] unless defined $what;
    my $ns = $c->param('ns') // '';
    if ($what =~ /^(groups|snapshots)$/ && !grep { $_ eq $ns } @{ $store->{ns} }) {
        return refusal(400, "namespace '$ns' does not exist");
    }
    if ($what eq 'status') {
        my %s = (total => $store->{total}, used => $store->{used}, avail => $store->{total} - $store->{used},
            'backend-type' => 'filesystem');
        if ($c->param('verbose') && $c->param('verbose') =~ /^(1|true|yes|on)$/) {
            my %counts;
            for my $g (map { listed_groups($store, $_) } @{ $store->{ns} }) {
                $counts{ $g->{type} }{groups}++;
                $counts{ $g->{type} }{snapshots} += scalar snapshot_times($g);
            }
            $s{counts} = \%counts;
            my %gc = gc_numbers($store);
            $s{'gc-status'} = \%gc;
        }
        return \%s;
    }
    if ($what eq 'rrd') {
        my ($cf, $tf) = ($c->param('cf') // '', $c->param('timeframe') // '');
        return refusal(400, "parameter verification failed - 'cf': value '$cf' is not defined in the enumeration.")
            unless $cf =~ /^(MAX|AVERAGE)$/;
        return refusal(400, "parameter verification failed - 'timeframe': value '$tf' is not defined in the enumeration.")
            unless $tf =~ /^(hour|day|week|month|year|decade)$/;
        my %step = (hour => 60, day => 1800, week => 10800, month => 43200, year => 604800, decade => 6048000);
        my $step = $step{$tf};
        my $end = int(time / $step) * $step;
        my @p;
        for my $i (reverse 0 .. 69) {
            my $t = $end - $i * $step;
            # The oldest points predate the datastore's statistics: time only.
            if ($i > 65) { push @p, { time => 0 + $t }; next }
            my $used = $store->{used} - $i * 2**20;
            push @p, { time => 0 + $t, total => 0 + $store->{total}, used => $used, available => $store->{total} - $used,
                read_bytes => (rnd($name, $t, 'r') % 5000) * 1000.5, write_bytes => (rnd($name, $t, 'w') % 9000) * 1000.25,
                read_ios => (rnd($name, $t, 'ri') % 500) / 2, write_ios => (rnd($name, $t, 'wi') % 800) / 2,
                io_ticks => (rnd($name, $t, 'io') % 100) / 10, dedup_factor => 0 + $store->{dedup} };
        }
        return \@p;
    }
    if ($what eq 'gc') {
        return { store => $name, gc_numbers($store), schedule => 'daily', 'last-run-state' => 'ok',
            'last-run-endtime' => $anchor - 7000, duration => 200, 'next-run' => $anchor - $anchor % 86400 + 86400 };
    }
    if ($what eq 'namespace') {
        return [map { my %n = (ns => $_); $n{comment} = "namespace $_" if length; \%n } @{ $store->{ns} }];
    }
    if ($what eq 'groups') {
        return [map { group_item($store, $ns, $_) } listed_groups($store, $ns)];
    }
    if ($what eq 'snapshots') {
        my ($type, $id) = ($c->param('backup-type'), $c->param('backup-id'));
        return refusal(400, "parameter verification failed - 'backup-type': value '$type' is not defined in the enumeration.")
            if defined $type && $type !~ /^(vm|ct|host)$/;
        my @g = grep { (!defined $type || $_->{type} eq $type) && (!defined $id || $_->{id} eq $id) }
            @{ $store->{groups}{$ns} };
        return forget($c, $store, $ns, @g) if $c->req->method eq 'DELETE';
        return [map { snapshots($store, $ns, $_) } @g];
    }
    return;
}

# --- control --------------------------------------------------------------------------------

post '/__sim/cpu' => sub ($c) {
    my $cpu = ($c->req->json // {})->{cpu};
    return $c->render(status => 400, json => { error => 'cpu: a fraction 0..1 or null' })
        if defined $cpu && !($cpu =~ /^\d+(?:\.\d+)?$/ && $cpu <= 1);
    $pinned_cpu = defined $cpu ? 0 + $cpu : undef;
    $c->render(json => { cpu => $pinned_cpu });
};
post '/__sim/snapshot' => sub ($c) {
    my $s = $c->req->json // {};
    my $store = $store_by_name{ $s->{store} // '' };
    my ($g) = grep { $_->{type} eq ($s->{type} // '') && $_->{id} eq ($s->{id} // '') }
        @{ $store ? $store->{groups}{ $s->{ns} // '' } // [] : [] };
    return $c->render(status => 400, json => { error => 'store, ns, type and id of a generated group and time needed' })
        unless $g && ($s->{time} // '') =~ /^\d+$/;
    push @{ $added{ $g->{key} } }, 0 + $s->{time};
    delete $forgotten{"$g->{key}/$s->{time}"};
    $c->render(json => { 'backup-count' => scalar snapshot_times($g) });
};

# --- the API --------------------------------------------------------------------------------

# A test's DELETE of a snapshot; no other write.
sub writes ($c, $path) {
    return unless $c->req->method eq 'DELETE' && $path =~ m{^/admin/datastore/[^/]+/snapshots$};
    return generated($c, $path);
}

$sim->serve(app, marker => 'synthetic (pbs-apidoc.js)', answer => \&generated, writes => \&writes);
