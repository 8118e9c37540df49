#!/usr/bin/perl
# pve-sim.pl: a Proxmox VE API simulator over HTTPS, for tests and benchmarks.
#
#   pve-sim.pl --listen https://127.0.0.1:8006 --cert C --key K
#              (--replay DIR | --nodes N --guests M [--ceph])
#              [--token 'user@realm!id=secret'] [--password 'user@realm:password']
#              [--cluster NAME] [--member-ips 10.99.0.1,...] [--mgmt-ips 127.0.0.2,...]
#
# --replay serves the recorded responses of one PVE version (../shared/fixtures/
# proxmox-recorded/pveNx, with its MANIFEST.json); --nodes/--guests generates a cluster whose
# counters advance with time. Either way the token header or the ticket cookie is checked.
# A generated cluster also answers the detail calls, shaped as the recordings: guest agent
# network/OS/version of the VMs whose agent is on (others get the 500 PVE gives), container
# status, config (one container is an OCI image, one has a static address and a mount point)
# and interfaces, per node three disks, ZFS pools rpool and tank (tank on node1 DEGRADED with a
# faulted disk), replication of the first two VMs when there are two nodes or more, and with
# --ceph the Ceph status and df (df as {stats, pools}, the shape Ceph prints; status shaped as
# PVE 8's /cluster/ceph/status recording: monitors in monmap and quorum_names, managers in
# mgrmap, and the servicemap holding only what registers there, here one RGW daemon; the
# last monitor of three or more is out of quorum). Pools' percent_used is a fraction, as in
# Ceph since Luminous.
# Guest agent: get-fsinfo, network-get-interfaces, get-osinfo and info answer for running VMs
# whose agent is on; others get the 500 PVE gives. POST /__sim/agent {"vmid":N,"fault":F}
# makes one VM's agent misbehave as PVE reports it: F = not-running (500 "QEMU guest agent
# is not running"), timeout (500 "... got timeout"), denied (403 permission check failed),
# no-fs (get-fsinfo answers an empty list), special-fs (only tmpfs) or none.
# Backups: every fifth guest (vmid % 5 == 0) has one vzdump volume on its node's storage
# "local"; DELETE /nodes/{node}/storage/local/content/{volid} removes a volume as PVE does
# (answers a UPID), and POST /__sim/backup {"vmid":N,"ctime":EPOCH} adds one (answers
# {"volid","node"}), so tests can make a guest's backups newer or older as time passes.
# Authentication, fault modes and test control are those every simulator shares
# (t/lib/ProxmoxSim.pm), named PVE: the header `Authorization: PVEAPIToken=user@realm!id=secret`
# with --token; with --password a ticket from POST /access/ticket sent as the cookie
# `PVEAuthCookie` (plus CSRFPreventionToken for a non-GET); neither: open. Else 401. The only
# write is the DELETE of a backup volume below; others answer 501.
# Test control, on the same port: POST /__sim/mode {"mode":"normal|slow|error|truncated|
# garbage|huge|amplify|evil-ticket|evil-csrf|offline-node|no-resources|joined-cluster",
# "delay":seconds,"node":"name","path":path,"mb":megabytes} and GET /__sim/stats
# (ProxmoxSim.pm says what the shared modes do and what the stats count; offline-node: the
# named node is offline in /nodes and its guests stopped; no-resources: /cluster/resources
# answers 500, the per-node guest lists still work; joined-cluster: /cluster/status shows
# the cluster entry of a one-node cluster, and from its second answer on a second member).
# GET /nodes/{node}/certificates/info of a generated cluster lists pve-ssl.pem with this
# simulator's own certificate fingerprint for every node, or the one set by
# POST /__sim/certs {"node2": "AB:CD:..."} (members served by other simulators).
# POST /__sim/metrics {"node":"node1","cpu":0.97} sets a node's CPU (a fraction);
# {"vmid":N,"cpu":F,"status":"stopped"|"running","gone":1} a guest's CPU or status, or removes it.
# POST /__sim/guest {"vmid":N,"type":"qemu"|"lxc","node":"node1","name":"web1"} adds a running
# guest shaped as the generated ones (400 for a vmid in use or an unknown node).
# POST /__sim/ceph {"health":"HEALTH_OK"|"HEALTH_WARN"|"HEALTH_ERR","osds_down":N} sets the
# Ceph health (HEALTH_OK without checks, HEALTH_ERR with an inactive-PG check) and how many OSDs
# are down; POST /__sim/replication {"job":"101-0","fail_count":N,"error":"text"} sets a job's
# status (fail_count 0 and no error: its last run succeeded); {"broken":"list" or a job id,
# "on":1} makes /cluster/replication or that job's status call answer 500 ("on":0 mends it).
# Without them, the defaults above.
use strict;
use warnings;
use FindBin;
use JSON::PP;
use Mojolicious::Lite -signatures;
use POSIX qw(strftime);
use Time::HiRes qw(time);
use Digest::SHA qw(sha256_hex);
use MIME::Base64 qw(decode_base64);
use lib "$FindBin::Bin/../lib";
use ProxmoxSim qw(refusal verbatim);

my %opt = (nodes => 0, guests => 0);
my $sim = ProxmoxSim->new('PVE', \%opt, 'replay=s', 'manifest=s', 'nodes=i', 'guests=i', 'cluster=s',
    'member-ips=s', 'mgmt-ips=s', 'ceph');
# --member-ips: the addresses /cluster/status gives the generated nodes (failover tests run
# one simulator per address).
my @member_ips = split /,/, $opt{'member-ips'} // '';
# --mgmt-ips: the addresses the nodes' /nodes/{n}/network shows on vmbr0 (a management
# network apart from the cluster network of --member-ips).
my @mgmt_ips = split /,/, $opt{'mgmt-ips'} // '';
my $mode = $sim->mode;
my %member_certs;    # node name -> fingerprint, from POST /__sim/certs
my $cluster_status_asked = 0;    # joined-cluster: the second member joins after the first answer
my %agent_fault;     # vmid -> fault, from POST /__sim/agent
my %ceph_set;        # health, osds_down: from POST /__sim/ceph
my %repl_set;        # job id -> {fail_count, error}: from POST /__sim/replication
my %repl_broken;     # 'list' or a job id -> 1: that replication call answers 500

# The SHA-256 of this simulator's certificate, as PVE writes fingerprints (AB:CD:...).
my $own_fingerprint = '';
if ($opt{cert}) {
    my $pem = do { local (@ARGV, $/) = $opt{cert}; <> };
    if ($pem =~ /-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----/s) {
        $own_fingerprint = join ':', map { uc } (sha256_hex(decode_base64($1)) =~ /(..)/g);
    }
}
my $started = time;

# --- recorded responses -------------------------------------------------------------------

my @routes;    # [regex, file, status]
if ($opt{replay}) {
    my $manifest = $opt{manifest} // "$opt{replay}/../MANIFEST.json";
    my $entries = decode_json(do { local (@ARGV, $/) = $manifest; <> });
    (my $version = $opt{replay}) =~ s{.*/}{};
    for my $e (@$entries) {
        next unless $e->{file} =~ m{^\Q$version\E/GET/};
        push @routes, [qr/$e->{path_regex}/, "$opt{replay}/../$e->{file}", $e->{status}];
    }
}

sub recorded ($path) {
    my @hits = grep { $path =~ $_->[0] } @routes;
    return unless @hits;
    # The most specific recording wins: anchored at the end, then the longest pattern; among
    # several recordings of one path, a success, then the richest (largest file).
    my $score = sub ($r) {
        my $re = "$r->[0]";
        return (substr($re, -2) eq '$)' ? 1 : 0), length $re, $r->[2] < 400 ? 1 : 0, -s $r->[1];
    };
    my ($best) = sort {
        my @x = $score->($a);
        my @y = $score->($b);
        $y[0] <=> $x[0] || $y[1] <=> $x[1] || $y[2] <=> $x[2] || $y[3] <=> $x[3]
    } @hits;
    my $data = decode_json(do { local (@ARGV, $/) = $best->[1]; <> });
    return ($best->[2], $data);
}

# --- a generated cluster ------------------------------------------------------------------

my (@nodes, @guests, %guest_by_vmid, %node_by_name);
if ($opt{nodes}) {
    for my $n (1 .. $opt{nodes}) {
        push @nodes, { node => "node$n", maxcpu => 16, maxmem => 64 * 2**30, maxdisk => 500 * 2**30 };
    }
    for my $i (0 .. $opt{guests} - 1) {
        my $type = $i % 3 == 2 ? 'lxc' : 'qemu';
        push @guests, {
            vmid => 100 + $i, type => $type, node => $nodes[$i % @nodes]{node},
            name => ($type eq 'qemu' ? 'vm' : 'ct') . (100 + $i),
            status => $i % 10 == 9 ? 'stopped' : 'running',
            maxmem => ($type eq 'qemu' ? 4 : 1) * 2**30, maxdisk => 32 * 2**30, maxcpu => 2,
            agent => $type eq 'qemu' && $i % 4 == 0 ? 1 : 0,
        };
    }
    %guest_by_vmid = map { $_->{vmid} => $_ } @guests;
    %node_by_name = map { $_->{node} => $_ } @nodes;
    # Detail that the list calls do not show: addresses, OS, and a few special containers.
    my $cts = 0;
    for my $g (@guests) {
        my $k = $g->{vmid} - 100;
        $g->{ip} = '10.0.' . (1 + int($k / 200)) . '.' . (10 + $k % 200);
        $g->{mac} = sprintf 'BC:24:11:%02X:%02X:%02X', ($g->{vmid} >> 16) & 255, ($g->{vmid} >> 8) & 255,
            $g->{vmid} & 255;
        $g->{os} = $g->{vmid} % 2 ? 'ubuntu' : 'debian';
        next unless $g->{type} eq 'lxc';
        $cts++;
        $g->{static_ip} = 1 if $cts == 1;
        $g->{oci} = 1 if $cts == 2;
        $g->{mount} = 1 if $cts == 3;
    }
    for my $i (0 .. $#nodes) {
        $nodes[$i]{index} = $i + 1;
    }
}

# Counters grow with time at a fixed rate per guest: rates are predictable.
sub counters ($g) {
    my $t = time - $started;
    my $k = $g->{vmid};
    return (diskread => int(1000 * $k * $t), diskwrite => int(500 * $k * $t),
        netin => int(2000 * $k * $t), netout => int(100 * $k * $t));
}

# Backup volumes added by POST /__sim/backup ({vmid, ctime}) and volids deleted through the API.
my (@added_backups, %deleted_volumes);

sub backup_volume ($g, $ctime, $stamp) {
    my $kind = $g->{type} eq 'qemu' ? 'qemu' : 'lxc';
    my $format = $kind eq 'qemu' ? 'vma.zst' : 'tar.zst';
    return { volid => "local:backup/vzdump-$kind-$g->{vmid}-$stamp.$format", content => 'backup',
        vmid => $g->{vmid}, format => $format, size => 1_000_000 * $g->{vmid}, ctime => $ctime,
        notes => "nightly $g->{name}", protected => $g->{vmid} % 10 == 0 ? 1 : 0,
        verification => { state => 'ok' } };
}

# The backup volumes on a node's storage "local" now.
sub backup_volumes ($node) {
    my @v = map { backup_volume($_, int($started) - 7000 + $_->{vmid}, '2026_01_01-00_00_00') }
        grep { $_->{node} eq $node && $_->{vmid} % 5 == 0 } @guests;
    push @v, map { backup_volume($guest_by_vmid{ $_->{vmid} }, $_->{ctime}, strftime('%Y_%m_%d-%H_%M_%S', gmtime $_->{ctime})) }
        grep { $guest_by_vmid{ $_->{vmid} }{node} eq $node } @added_backups;
    return grep { !$deleted_volumes{ $_->{volid} } } @v;
}

sub node_online ($name) {
    return !($mode->{mode} eq 'offline-node' && $mode->{node} eq $name);
}

sub generated ($c, $path) {
    if ($path eq '/nodes') {
        return [map { { node => $_->{node}, status => node_online($_->{node}) ? 'online' : 'offline',
            cpu => $_->{cpu} // 0.1, maxcpu => $_->{maxcpu}, mem => int($_->{maxmem} / 4), maxmem => $_->{maxmem},
            # node3 reports no disk at all: its "local" storage stands in (§2.5 row 3).
            disk => $_->{index} == 3 ? 0 : int($_->{maxdisk} / 10), maxdisk => $_->{index} == 3 ? 0 : $_->{maxdisk},
            uptime => 1000 + int(time - $started),
            type => 'node', id => "node/$_->{node}", level => '' } } @nodes];
    }
    if ($path =~ m{^/nodes/([^/]+)/status$}) {
        my $n = $node_by_name{$1} or return;
        return { cpu => $n->{cpu} // 0.1, uptime => 1000 + int(time - $started), loadavg => ['0.50', '0.40', '0.30'],
            kversion => 'Linux 6.8.12-1-pve', pveversion => 'pve-manager/8.2.4/faa83925c9641325',
            cpuinfo => { model => 'Simulated CPU', cores => 8, cpus => $n->{maxcpu}, sockets => 2, mhz => '2400.000' },
            # node2 answers like an older PVE: no "available"; its RRD has memavailable.
            memory => { total => $n->{maxmem}, used => int($n->{maxmem} / 2), free => int($n->{maxmem} / 2),
                $n->{index} == 2 ? () : (available => int($n->{maxmem} * 0.6)) },
            $n->{index} == 3 ? () : (rootfs => { total => 100 * 2**30, used => 20 * 2**30, avail => 80 * 2**30 }) };
    }
    if ($path =~ m{^/nodes/([^/]+)/network$}) {
        my $n = $node_by_name{$1} or return;
        my $i = $n->{index} - 1;
        my $mgmt = $mgmt_ips[$i] // '127.0.0.1';
        return [{ iface => 'vmbr0', type => 'bridge', active => 1, autostart => 1, method => 'static',
                  address => $mgmt, netmask => '24', cidr => "$mgmt/24", bridge_ports => 'eno1', families => ['inet'] },
            { iface => 'ens19', type => 'eth', active => 1, autostart => 1, method => 'static',
              address => $member_ips[$i] // '127.0.0.1', netmask => '24', families => ['inet'] },
            { iface => 'eno2', type => 'eth', active => 0, method => 'manual', families => ['inet'] }];
    }
    if ($path =~ m{^/nodes/([^/]+)/(qemu|lxc)$}) {
        # A node's own guest list: no type or node field, cpus instead of maxcpu.
        my ($node, $type) = ($1, $2);
        return [map {
            my $g = $_;
            my $run = $g->{status} eq 'running' && node_online($g->{node});
            { vmid => $g->{vmid}, name => $g->{name}, status => $run ? 'running' : 'stopped',
              cpu => $run ? ($g->{cpu} // 0.25) : 0, cpus => $g->{maxcpu}, mem => $run ? int($g->{maxmem} / 2) : 0,
              maxmem => $g->{maxmem}, disk => $g->{type} eq 'lxc' ? 8 * 2**30 : 0, maxdisk => $g->{maxdisk},
              uptime => $run ? 500 : 0, tags => 'sim;test', counters($g) }
        } grep { $_->{node} eq $node && $_->{type} eq $type } @guests];
    }
    return refusal(500, 'cluster resources unavailable') if $path eq '/cluster/resources' && $mode->{mode} eq 'no-resources';
    if ($path eq '/cluster/resources') {
        return [map {
            my $g = $_;
            my $run = $g->{status} eq 'running' && node_online($g->{node});
            { id => "$g->{type}/$g->{vmid}", type => $g->{type}, vmid => $g->{vmid}, node => $g->{node},
              name => $g->{name}, status => $run ? 'running' : 'stopped', cpu => $run ? ($g->{cpu} // 0.25) : 0,
              maxcpu => $g->{maxcpu}, mem => $run ? int($g->{maxmem} / 2) : 0, maxmem => $g->{maxmem},
              disk => $g->{type} eq 'lxc' ? 8 * 2**30 : 0, maxdisk => $g->{maxdisk},
              uptime => $run ? 500 : 0, template => 0, tags => 'sim;test', counters($g) }
        } @guests];
    }
    if ($path =~ m{^/nodes/([^/]+)/qemu/(\d+)/status/current$}) {
        my $g = $guest_by_vmid{$2} or return;
        return { status => $g->{status}, cpu => $g->{cpu} // 0.25, cpus => $g->{maxcpu}, maxmem => $g->{maxmem},
            mem => int($g->{maxmem} / 2), balloon => $g->{maxmem}, freemem => int($g->{maxmem} / 4),
            disk => 0, maxdisk => $g->{maxdisk}, uptime => 500, agent => $g->{agent}, counters($g) };
    }
    if ($path =~ m{^/nodes/([^/]+)/qemu/(\d+)/agent/get-fsinfo$}) {
        my $g = $guest_by_vmid{$2};
        return unless $g && $g->{type} eq 'qemu' && $g->{node} eq $1;
        my $refused = agent_refusal($g, 'guest-fsinfo');
        return $refused if $refused;
        my $fault = $agent_fault{ $g->{vmid} } // '';
        return { result => [] } if $fault eq 'no-fs';
        return { result => [{ name => 'tmpfs', mountpoint => '/run', type => 'tmpfs', 'total-bytes' => 2**30,
            'used-bytes' => 1 }] } if $fault eq 'special-fs';
        return { result => [
            { name => 'sda1', mountpoint => '/', type => 'ext4', 'total-bytes' => 20 * 2**30,
              'used-bytes' => 5 * 2**30, disk => [{ dev => '/dev/sda' }] },
            { name => 'tmpfs', mountpoint => '/run', type => 'tmpfs', 'total-bytes' => 2**30, 'used-bytes' => 1 } ] };
    }
    if ($path =~ m{^/nodes/([^/]+)/rrddata$}) {
        my $n = $node_by_name{$1} or return;
        my $t = int(time / 60) * 60;
        return [{ time => $t - 60, memtotal => $n->{maxmem}, memused => int($n->{maxmem} * 0.35),
                  memavailable => int($n->{maxmem} * 0.65) },
            { time => $t, memtotal => $n->{maxmem}, memused => int($n->{maxmem} * 0.3),
              memavailable => int($n->{maxmem} * 0.7) }, { time => $t + 60 }];
    }
    if ($path =~ m{^/nodes/([^/]+)/lxc/(\d+)/rrddata$}) {
        my $g = $guest_by_vmid{$2} or return;
        return [{ time => int(time) - 60, memavailable => int($g->{maxmem} * 0.7), memused => int($g->{maxmem} * 0.3) },
            { time => int(time), memavailable => undef }];
    }
    if ($path =~ m{^/nodes/([^/]+)/tasks$}) {
        my $node = $1;
        my @t;
        for my $g (grep { $_->{node} eq $node && $_->{vmid} % 5 == 0 } @guests) {
            push @t, { upid => "UPID:$node:0000AAAA:00BBBBBB:65000000:vzdump:$g->{vmid}:root\@pam:",
                node => $node, type => 'vzdump', id => "$g->{vmid}", user => 'root@pam', status => 'OK',
                starttime => int($started) - 7200 + $g->{vmid}, endtime => int($started) - 7000 + $g->{vmid} };
        }
        push @t, { upid => "UPID:$node:0000CCCC:00DDDDDD:65000001:qmstart:100:root\@pam:", node => $node,
            type => 'qmstart', id => '100', status => 'OK', starttime => int($started) - 100, endtime => int($started) - 99 };
        return \@t;
    }
    if ($path =~ m{^/nodes/([^/]+)/storage/local/content$}) {
        my $node = $1;
        return [{ volid => 'local:vztmpl/debian-12.tar.zst', content => 'vztmpl', format => 'tzst',
            size => 123456, ctime => 1700000000 }, backup_volumes($node)];
    }
    if ($path =~ m{^/nodes/([^/]+)/(qemu|lxc)/(\d+)/snapshot$}) {
        my $g = $guest_by_vmid{$3} or return;
        my @s = ({ name => 'current', description => 'You are here!', running => 1 });
        unshift @s, { name => 'before-upgrade', description => 'before the upgrade',
            snaptime => int($started) - 86400, vmstate => 0 } if $g->{vmid} % 7 == 0;
        return \@s;
    }
    if ($path eq '/storage') {
        return [{ storage => 'local', type => 'dir', content => 'vztmpl,iso,backup' },
            { storage => 'ceph-pool', type => 'rbd', content => 'images,rootdir', shared => 1 },
            { storage => 'tank', type => 'zfspool', content => 'images,rootdir', pool => 'tank', sparse => 1 }];
    }
    if ($path =~ m{^/nodes/([^/]+)/storage$}) {
        return [{ storage => 'local', type => 'dir', content => 'vztmpl,iso,backup', total => 100 * 2**30,
                  used => 40 * 2**30, avail => 60 * 2**30, active => 1, enabled => 1, shared => 0 },
            { storage => 'ceph-pool', type => 'rbd', content => 'rootdir,images', total => 1000 * 2**30,
              used => 250 * 2**30, avail => 750 * 2**30, active => 1, enabled => 1, shared => 1 },
            { storage => 'tank', type => 'zfspool', content => 'rootdir,images', total => 3600 * 2**30,
              used => 1200 * 2**30, avail => 2400 * 2**30, active => 1, enabled => 1, shared => 0 }];
    }
    if ($path =~ m{^/nodes/([^/]+)/certificates/info$}) {
        my $n = $node_by_name{$1} or return;
        return [{ filename => "/etc/pve/nodes/$n->{node}/pve-ssl.pem",
            fingerprint => $member_certs{ $n->{node} } // $own_fingerprint,
            issuer => 'Proxmox Virtual Environment', subject => "$n->{node}.sim",
            san => ["DNS:$n->{node}"], notbefore => int($started) - 86400, notafter => int($started) + 86400 * 365 }];
    }
    if ($path eq '/cluster/status') {
        # A standalone node lists only itself; "joined-cluster" mode: a node that has just
        # created a cluster (the cluster entry appears), which a second node joins after the
        # first time it is asked (when the node is added): a one-node cluster is standalone.
        my $joined = $mode->{mode} eq 'joined-cluster';
        my @cluster = @nodes > 1 || $joined
            ? ({ type => 'cluster', name => $opt{cluster} // 'simcluster', nodes => scalar @nodes, quorate => 1 }) : ();
        my @joiner = $joined && $cluster_status_asked++ > 0
            ? ({ type => 'node', name => 'joiner', id => 'node/joiner', ip => '127.0.0.9', online => 1,
                 nodeid => @nodes + 1 }) : ();
        return [@cluster,
            (map { { type => 'node', name => $nodes[$_]{node}, id => "node/$nodes[$_]{node}",
                ip => $member_ips[$_] // '127.0.0.1', online => 1, nodeid => $_ + 1 } } 0 .. $#nodes), @joiner];
    }
    return detail($path);
}

# --- the detail calls of a generated cluster ------------------------------------------------

sub agent_network ($g) {
    my %c = counters($g);
    my $mac = lc $g->{mac};
    (my $ll = sprintf 'fe80::be24:11ff:fe%02x:%02x%02x', ($g->{vmid} >> 16) & 255, ($g->{vmid} >> 8) & 255,
        $g->{vmid} & 255) =~ s/:0+(\w)/:$1/g;
    return { result => [
        { name => 'lo', 'hardware-address' => '00:00:00:00:00:00',
          'ip-addresses' => [{ 'ip-address' => '127.0.0.1', 'ip-address-type' => 'ipv4', prefix => 8 },
              { 'ip-address' => '::1', 'ip-address-type' => 'ipv6', prefix => 128 }],
          statistics => { 'rx-bytes' => 4096, 'tx-bytes' => 4096, 'rx-packets' => 40, 'tx-packets' => 40,
              'rx-errs' => 0, 'tx-errs' => 0, 'rx-dropped' => 0, 'tx-dropped' => 0 } },
        { name => 'eth0', 'hardware-address' => $mac,
          'ip-addresses' => [{ 'ip-address' => $g->{ip}, 'ip-address-type' => 'ipv4', prefix => 24 },
              { 'ip-address' => "fd00::$g->{vmid}", 'ip-address-type' => 'ipv6', prefix => 64 },
              { 'ip-address' => $ll, 'ip-address-type' => 'ipv6', prefix => 64 }],
          statistics => { 'rx-bytes' => $c{netin}, 'tx-bytes' => $c{netout}, 'rx-packets' => int($c{netin} / 1000),
              'tx-packets' => int($c{netout} / 1000), 'rx-errs' => 0, 'tx-errs' => 0, 'rx-dropped' => 0,
              'tx-dropped' => 0 } } ] };
}

sub agent_osinfo ($g) {
    return { result => $g->{os} eq 'debian'
        ? { id => 'debian', name => 'Debian GNU/Linux', 'pretty-name' => 'Debian GNU/Linux 12 (bookworm)',
            version => '12 (bookworm)', 'version-id' => '12', machine => 'x86_64',
            'kernel-release' => '6.1.0-18-amd64', 'kernel-version' => '#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1' }
        : { id => 'ubuntu', name => 'Ubuntu', 'pretty-name' => 'Ubuntu 24.04.1 LTS', version => '24.04.1 LTS (Noble Numbat)',
            'version-id' => '24.04', machine => 'x86_64', 'kernel-release' => '6.8.0-45-generic',
            'kernel-version' => '#45-Ubuntu SMP PREEMPT_DYNAMIC' } };
}

sub guest_running ($g) { $g->{status} eq 'running' && node_online($g->{node}) }

# The refusal PVE answers to a guest-agent call (command: the QMP name), or nothing when the
# agent answers.
sub agent_refusal ($g, $command) {
    return refusal(500, 'No QEMU guest agent configured') unless $g->{agent};
    return refusal(500, 'VM ' . $g->{vmid} . ' is not running') unless guest_running($g);
    my $fault = $agent_fault{ $g->{vmid} } // '';
    return refusal(500, 'QEMU guest agent is not running') if $fault eq 'not-running';
    return refusal(500, "VM $g->{vmid} qmp command '$command' failed - got timeout") if $fault eq 'timeout';
    return refusal(403, "Permission check failed (/vms/$g->{vmid}, VM.GuestAgent.Audit)") if $fault eq 'denied';
    return;
}

sub ct_status ($g) {
    my $run = guest_running($g);
    return { vmid => $g->{vmid}, status => $run ? 'running' : 'stopped', name => $g->{name}, type => 'lxc',
        cpus => $g->{maxcpu}, cpu => $run ? ($g->{cpu} // 0.25) : 0, maxmem => $g->{maxmem}, mem => $run ? int($g->{maxmem} / 2) : 0,
        maxswap => 512 * 2**20, swap => 0, maxdisk => $g->{maxdisk}, disk => 8 * 2**30, uptime => $run ? 500 : 0,
        tags => 'sim;test', ha => { managed => 0 }, $run ? (pid => 1000 + $g->{vmid}) : (), counters($g) };
}

sub ct_config ($g) {
    my $ip = $g->{static_ip} ? "ip=$g->{ip}/24,gw=10.0.1.1" : 'ip=dhcp';
    my %c = (arch => 'amd64', cores => $g->{maxcpu}, hostname => $g->{name}, memory => $g->{maxmem} / 2**20,
        swap => 512, ostype => $g->{os}, rootfs => "local-lvm:vm-$g->{vmid}-disk-0,size=32G",
        net0 => "name=eth0,bridge=vmbr0,firewall=1,hwaddr=$g->{mac},$ip,type=veth", tags => 'sim;test',
        unprivileged => 1, digest => sprintf('%040x', $g->{vmid}));
    $c{mp0} = "local-lvm:vm-$g->{vmid}-disk-1,mp=/srv/data,size=4G" if $g->{mount};
    if ($g->{oci}) {
        %c = (%c, ostype => 'unmanaged', cmode => 'console', entrypoint => '/docker-entrypoint.sh nginx',
            env => 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
            lxc => [['lxc.init.cwd', '/'], ['lxc.signal.halt', 'SIGTERM']]);
    }
    return \%c;
}

sub ct_interfaces ($g) {
    (my $ll = sprintf 'fe80::be24:11ff:fe%02x:%02x%02x', ($g->{vmid} >> 16) & 255, ($g->{vmid} >> 8) & 255,
        $g->{vmid} & 255) =~ s/:0+(\w)/:$1/g;
    return [{ name => 'lo', hwaddr => '00:00:00:00:00:00', inet => '127.0.0.1/8', inet6 => '::1/128' },
        { name => 'eth0', hwaddr => lc $g->{mac}, inet => "$g->{ip}/24", inet6 => "$ll/64" }];
}

sub node_disks ($n) {
    my $i = $n->{index};
    return [
        { devpath => '/dev/sda', type => 'ssd', model => 'Samsung SSD 870 EVO 1TB', serial => "S6PTNX0T${i}00001",
          size => 1000204886016, health => 'PASSED', wearout => 97, rpm => 0, used => 'LVM', vendor => 'ATA',
          wwn => sprintf('0x5002538f4230e%03x', $i), gpt => 1, osdid => -1, 'osdid-list' => undef,
          by_id_link => "/dev/disk/by-id/ata-Samsung_SSD_870_EVO_1TB_S6PTNX0T${i}00001" },
        { devpath => '/dev/sdb', type => 'hdd', model => 'ST4000VN008-2DR166', serial => "ZGY${i}0002",
          size => 4000787030016, health => 'PASSED', wearout => 'N/A', rpm => 5980, used => 'ZFS', vendor => 'ATA',
          wwn => sprintf('0x5000c500c3a6e%03x', $i), gpt => 1, osdid => -1, 'osdid-list' => undef,
          by_id_link => "/dev/disk/by-id/ata-ST4000VN008-2DR166_ZGY${i}0002" },
        { devpath => '/dev/nvme0n1', type => 'nvme', model => 'Samsung SSD 980 PRO 1TB', serial => "S5GXNF0R${i}0003",
          size => 1000204886016, health => 'PASSED', wearout => 99, rpm => 0, used => 'ZFS', vendor => 'unknown',
          wwn => "eui.002538b${i}11b0003", gpt => 1, osdid => -1, 'osdid-list' => undef,
          by_id_link => "/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5GXNF0R${i}0003" } ];
}

# tank on node1 is DEGRADED: one mirror half FAULTED with checksum errors.
sub zfs_degraded ($n) { $n->{index} == 1 }

sub zfs_list ($n) {
    return [{ name => 'rpool', health => 'ONLINE', size => 996432412672, alloc => 102 * 2**30, free => 996432412672 - 102 * 2**30,
              frag => 3, dedup => 1.0 },
        { name => 'tank', health => zfs_degraded($n) ? 'DEGRADED' : 'ONLINE', size => 3985729650688,
          alloc => 1200 * 2**30, free => 3985729650688 - 1200 * 2**30, frag => 11, dedup => 1.0 }];
}

sub zfs_detail ($n, $pool) {
    my $i = $n->{index};
    my $scan = 'scrub repaired 0B in 00:12:34 with 0 errors on Sun Jan  4 00:36:35 2026';
    if ($pool eq 'rpool') {
        return { name => 'rpool', state => 'ONLINE', status => '', action => '', scan => $scan,
            errors => 'No known data errors', children => [
                { name => 'mirror-0', state => 'ONLINE', read => 0, write => 0, cksum => 0, msg => '', leaf => 0, children => [
                    { name => "nvme-Samsung_SSD_980_PRO_1TB_S5GXNF0R${i}0003-part3", state => 'ONLINE', read => 0,
                      write => 0, cksum => 0, msg => '', leaf => 1 },
                    { name => "ata-Samsung_SSD_870_EVO_1TB_S6PTNX0T${i}00001-part3", state => 'ONLINE', read => 0,
                      write => 0, cksum => 0, msg => '', leaf => 1 } ] } ] };
    }
    return unless $pool eq 'tank';
    my $bad = zfs_degraded($n);
    return { name => 'tank', state => $bad ? 'DEGRADED' : 'ONLINE',
        status => $bad ? "One or more devices are faulted in response to persistent errors.\nSufficient replicas exist for the pool to continue functioning in a\ndegraded state." : '',
        action => $bad ? "Replace the faulted device, or use 'zpool clear' to mark the device\nrepaired." : '',
        scan => $scan, errors => 'No known data errors', children => [
            { name => 'mirror-0', state => $bad ? 'DEGRADED' : 'ONLINE', read => 0, write => 0, cksum => 0, msg => '',
              leaf => 0, children => [
                { name => "ata-ST4000VN008-2DR166_ZGY${i}0002", state => $bad ? 'FAULTED' : 'ONLINE', read => 0,
                  write => $bad ? 3 : 0, cksum => $bad ? 42 : 0, msg => $bad ? 'too many errors' : '', leaf => 1 },
                { name => "ata-ST4000VN008-2DR166_ZGY${i}0004", state => 'ONLINE', read => 0, write => 0, cksum => 0,
                  msg => '', leaf => 1 } ] } ] };
}

# Replication of the first two VMs to the next node.
sub replication_jobs () {
    return () if @nodes < 2;
    my @vms = (grep { $_->{type} eq 'qemu' } @guests)[0, 1];
    my @jobs;
    for my $k (0, 1) {
        my $g = $vms[$k] or next;
        my $target = $nodes[($node_by_name{ $g->{node} }{index}) % @nodes]{node};
        push @jobs, { id => "$g->{vmid}-0", type => 'local', guest => $g->{vmid}, jobnum => 0, source => $g->{node},
            target => $target, schedule => $k ? '*/30' : '*/15', $k ? (rate => 50, comment => 'offsite copy') : () };
    }
    return @jobs;
}

sub replication_status ($job) {
    my $k = $job->{schedule} eq '*/15' ? 0 : 1;
    my %s = (%$job, last_sync => int($started) - 600 - 300 * $k, last_try => int($started) - 300,
        next_sync => int($started) + 300 + 600 * $k, duration => $k ? 12.5 : 3.52, fail_count => $k ? 2 : 0,
        state => $k ? 'error' : 'idle');
    $s{error} = "command 'set -o pipefail && pvesm export local-zfs:vm-$job->{guest}-disk-0 zfs - -with-snapshots 1' failed: exit code 255" if $k;
    if (my $set = $repl_set{ $job->{id} }) {
        $s{fail_count} = $set->{fail_count};
        if (length $set->{error}) { $s{error} = $set->{error} } else { delete $s{error} }
        $s{state} = $s{fail_count} || exists $s{error} ? 'error' : 'idle';
    }
    return \%s;
}

sub ceph_status () {
    my @names = map { $_->{node} } @nodes;
    # With three monitors or more the last one is down: out of quorum_names, still in monmap.
    my @quorum = grep { !(@names > 2 && $_ == $#names) } 0 .. $#names;
    my @mons = map { { name => $names[$_], rank => $_, addr => "10.99.0." . ($_ + 1) . ":6789/0",
        public_addr => "10.99.0." . ($_ + 1) . ":6789/0", weight => 0, priority => 0 } } 0 .. $#names;
    return { fsid => 'b1a5c0de-5eed-4c3e-9a11-0123456789ab', election_epoch => 42, quorum => \@quorum,
        quorum_names => [map { $names[$_] } @quorum], quorum_age => 86400,
        health => { status => 'HEALTH_WARN', mutes => [], checks => {
            OSD_NEARFULL => { severity => 'HEALTH_WARN', muted => JSON::PP::false,
                summary => { message => '1 nearfull osd(s)', count => 1 }, detail => [{ message => 'osd.1 is near full' }] } } },
        monmap => { epoch => 3, fsid => 'b1a5c0de-5eed-4c3e-9a11-0123456789ab', min_mon_release_name => 'reef',
            mons => \@mons },
        # The active manager on the first node, the others standing by.
        mgrmap => { epoch => 9, available => JSON::PP::true, active_name => $names[0], active_gid => 4100,
            active_addr => '10.99.0.1:6801/1234', standbys => [map { { gid => 4100 + $_, name => $names[$_] } } 1 .. $#names] },
        # Only daemons that register with the manager are here (an RGW); a servicemap entry
        # has metadata, not a status.
        servicemap => { epoch => 7, modified => '2026-01-09T10:00:00.000000+0000', services => {
            rgw => { daemons => { summary => '', '4242' => { start_epoch => 5, start_stamp => '2026-01-09T09:00:00.000000+0000',
                gid => 4242, addr => '10.99.0.1:0/4242', metadata => { hostname => $names[0], id => "$names[0].rgw0" },
                task_status => {} } } } } },
        osdmap => { epoch => 120, num_osds => 2 * @names, num_up_osds => 2 * @names, num_in_osds => 2 * @names,
            num_remapped_pgs => 0 },
        fsmap => { epoch => 1, by_rank => [], up => 0, in => 0, max => 0, 'up:standby' => 0 },
        pgmap => { pgs_by_state => [{ state_name => 'active+clean', count => 129 }], num_pgs => 129, num_pools => 2,
            num_objects => 65536, data_bytes => 250 * 2**30, bytes_used => 750 * 2**30, bytes_avail => 2250 * 2**30,
            bytes_total => 3000 * 2**30 } };
}

# The status with what POST /__sim/ceph set.
sub ceph_status_set () {
    my $st = ceph_status();
    if (my $h = $ceph_set{health}) {
        $st->{health}{status} = $h;
        $st->{health}{checks} = {} if $h eq 'HEALTH_OK';
        $st->{health}{checks}{PG_AVAILABILITY} = { severity => 'HEALTH_ERR', muted => JSON::PP::false,
            summary => { message => 'Reduced data availability: 12 pgs inactive', count => 12 } } if $h eq 'HEALTH_ERR';
    }
    $st->{osdmap}{num_up_osds} -= $ceph_set{osds_down} if $ceph_set{osds_down};
    return $st;
}

sub ceph_df () {
    return { stats => { total_bytes => 3000 * 2**30, total_avail_bytes => 2250 * 2**30, total_used_bytes => 750 * 2**30,
            total_used_raw_bytes => 750 * 2**30, total_used_raw_ratio => 0.25, num_osds => 2 * @nodes },
        pools => [
            { name => '.mgr', id => 1, stats => { stored => 2 * 2**20, objects => 2, kb_used => 6144, bytes_used => 6 * 2**20,
                percent_used => 0.000002, max_avail => 700 * 2**30 } },
            { name => 'ceph-pool', id => 2, stats => { stored => 250 * 2**30, objects => 65534, kb_used => 750 * 2**20,
                bytes_used => 750 * 2**30, percent_used => 0.263, max_avail => 700 * 2**30 } } ] };
}

sub detail ($path) {
    if ($path =~ m{^/nodes/([^/]+)/qemu/(\d+)/agent/(network-get-interfaces|get-osinfo|info)$}) {
        my $g = $guest_by_vmid{$2};
        return unless $g && $g->{type} eq 'qemu' && $g->{node} eq $1;
        my $refused = agent_refusal($g, $3 eq 'info' ? 'guest-info' : "guest-$3");
        return $refused if $refused;
        return agent_network($g) if $3 eq 'network-get-interfaces';
        return agent_osinfo($g) if $3 eq 'get-osinfo';
        return { result => { version => '7.2.0', supported_commands => [
            { name => 'guest-ping', enabled => JSON::PP::true, 'success-response' => JSON::PP::true },
            { name => 'guest-get-osinfo', enabled => JSON::PP::true, 'success-response' => JSON::PP::true },
            { name => 'guest-network-get-interfaces', enabled => JSON::PP::true, 'success-response' => JSON::PP::true } ] } };
    }
    if ($path =~ m{^/nodes/([^/]+)/lxc/(\d+)/(status/current|config|interfaces)$}) {
        my $g = $guest_by_vmid{$2};
        return unless $g && $g->{type} eq 'lxc' && $g->{node} eq $1;
        return ct_status($g) if $3 eq 'status/current';
        return ct_config($g) if $3 eq 'config';
        return refusal(500, "CT $g->{vmid} not running") unless guest_running($g);
        return ct_interfaces($g);
    }
    if ($path =~ m{^/nodes/([^/]+)/disks/(list|zfs)$}) {
        my $n = $node_by_name{$1} or return;
        return $2 eq 'list' ? node_disks($n) : zfs_list($n);
    }
    if ($path =~ m{^/nodes/([^/]+)/disks/zfs/([^/]+)$}) {
        my $n = $node_by_name{$1} or return;
        return zfs_detail($n, $2);
    }
    if ($path eq '/cluster/replication') {
        return refusal(500, 'replication list unavailable') if $repl_broken{list};
        return [replication_jobs()];
    }
    if ($path =~ m{^/cluster/replication/([^/]+)$}) {
        my ($job) = grep { $_->{id} eq $1 } replication_jobs();
        return $job;
    }
    if ($path =~ m{^/nodes/([^/]+)/replication$}) {
        my $node = $1;
        return [map { replication_status($_) } grep { $_->{source} eq $node } replication_jobs()];
    }
    if ($path =~ m{^/nodes/([^/]+)/replication/([^/]+)/status$}) {
        my ($node, $id) = ($1, $2);
        my ($job) = grep { $_->{id} eq $id && $_->{source} eq $node } replication_jobs();
        return refusal(500, 'replication status unavailable') if $job && $repl_broken{$id};
        return $job ? replication_status($job) : undef;
    }
    if ($opt{ceph} && $path eq '/cluster/ceph/status') {
        return ceph_status_set();
    }
    if ($opt{ceph} && $path eq '/cluster/ceph/df') {
        return ceph_df();
    }
    return;
}

# --- control --------------------------------------------------------------------------------

post '/__sim/certs' => sub ($c) {
    my $m = $c->req->json // {};
    $member_certs{$_} = $m->{$_} for keys %$m;
    $c->render(json => \%member_certs);
};
post '/__sim/agent' => sub ($c) {
    my $a = $c->req->json // {};
    my $g = $guest_by_vmid{ $a->{vmid} // '' };
    my $fault = $a->{fault} // '';
    return $c->render(status => 400, json => { error => 'vmid of a generated VM and a known fault needed' })
        unless $g && $g->{type} eq 'qemu' && $fault =~ /^(?:none|not-running|timeout|denied|no-fs|special-fs)$/;
    if ($fault eq 'none') { delete $agent_fault{ $g->{vmid} } } else { $agent_fault{ $g->{vmid} } = $fault }
    $c->render(json => \%agent_fault);
};
post '/__sim/metrics' => sub ($c) {
    my $m = $c->req->json // {};
    my $t = defined $m->{node} ? $node_by_name{ $m->{node} } : $guest_by_vmid{ $m->{vmid} // '' };
    return $c->render(status => 400, json => { error => 'node or vmid of a generated one needed' }) unless $t;
    $t->{cpu} = 0 + $m->{cpu} if defined $m->{cpu};
    $t->{status} = $m->{status} if defined $m->{status} && !defined $m->{node};
    if ($m->{gone} && !defined $m->{node}) {
        @guests = grep { $_ != $t } @guests;
        delete $guest_by_vmid{ $t->{vmid} };
    }
    $c->render(json => { cpu => $t->{cpu}, status => $t->{status} });
};
post '/__sim/guest' => sub ($c) {
    my $m = $c->req->json // {};
    my ($vmid, $type, $node) = ($m->{vmid} // '', $m->{type} // 'qemu', $m->{node} // '');
    return $c->render(status => 400, json => { error => 'a new vmid, type qemu or lxc and a generated node needed' })
        unless $vmid =~ /^[1-9]\d{2,8}$/ && !$guest_by_vmid{$vmid} && $type =~ /^(?:qemu|lxc)$/ && $node_by_name{$node};
    my $g = { vmid => 0 + $vmid, type => $type, node => $node,
        name => $m->{name} // ($type eq 'qemu' ? 'vm' : 'ct') . $vmid, status => 'running',
        maxmem => ($type eq 'qemu' ? 4 : 1) * 2**30, maxdisk => 32 * 2**30, maxcpu => 2, agent => 0,
        ip => '10.9.' . int($vmid / 250) % 250 . '.' . (1 + $vmid % 250), os => 'debian',
        mac => sprintf('BC:24:11:%02X:%02X:%02X', ($vmid >> 16) & 255, ($vmid >> 8) & 255, $vmid & 255) };
    push @guests, $g;
    $guest_by_vmid{$vmid} = $g;
    $c->render(json => { vmid => $g->{vmid}, name => $g->{name}, node => $node, type => $type });
};
post '/__sim/ceph' => sub ($c) {
    my $m = $c->req->json // {};
    return $c->render(status => 400, json => { error => 'health HEALTH_OK, HEALTH_WARN or HEALTH_ERR, osds_down a count' })
        unless ($m->{health} // 'HEALTH_WARN') =~ /^HEALTH_(?:OK|WARN|ERR)$/ && ($m->{osds_down} // 0) =~ /^\d+$/
        && ($m->{osds_down} // 0) <= 2 * @nodes;
    $ceph_set{health} = $m->{health} if defined $m->{health};
    $ceph_set{osds_down} = 0 + $m->{osds_down} if defined $m->{osds_down};
    $c->render(json => \%ceph_set);
};
post '/__sim/replication' => sub ($c) {
    my $m = $c->req->json // {};
    # {"broken": "list" or a job id, "on": 0|1}: the list, or a job's status call, answers 500.
    if (defined $m->{broken}) {
        $m->{on} ? ($repl_broken{ $m->{broken} } = 1) : delete $repl_broken{ $m->{broken} };
        return $c->render(json => \%repl_broken);
    }
    my ($job) = grep { $_->{id} eq ($m->{job} // '') } replication_jobs();
    return $c->render(status => 400, json => { error => 'job of a generated replication job and fail_count needed' })
        unless $job && ($m->{fail_count} // '') =~ /^\d+$/;
    $repl_set{ $job->{id} } = { fail_count => 0 + $m->{fail_count}, error => $m->{error} // '' };
    $c->render(json => \%repl_set);
};
post '/__sim/backup' => sub ($c) {
    my $b = $c->req->json // {};
    my $g = $guest_by_vmid{ $b->{vmid} // '' };
    return $c->render(status => 400, json => { error => 'vmid of a generated guest and ctime needed' })
        unless $g && ($b->{ctime} // '') =~ /^\d+$/;
    push @added_backups, { vmid => $g->{vmid}, ctime => 0 + $b->{ctime} };
    my ($v) = grep { $_->{vmid} == $g->{vmid} && $_->{ctime} == $b->{ctime} } backup_volumes($g->{node});
    $c->render(json => { volid => $v->{volid}, node => $g->{node} });
};

# --- the API --------------------------------------------------------------------------------

# A recorded answer (--replay) or a generated one.
sub answer ($c, $path) {
    return generated($c, $path) unless $opt{replay};
    my ($status, $data) = recorded($path);
    return unless defined $data;
    # --cluster renames the recorded cluster (several recordings in one test).
    if ($path eq '/cluster/status' && $opt{cluster}) {
        $_->{name} = $opt{cluster} for grep { ($_->{type} // '') eq 'cluster' } @{ $data->{data} // [] };
    }
    if ($path eq '/cluster/resources' && (my $type = $c->param('type'))) {
        my @keep = grep { $type eq 'vm' ? ($_->{type} // '') =~ /^(qemu|lxc)$/ : ($_->{type} // '') eq $type }
            @{ $data->{data} // [] };
        $data = { data => \@keep };
    }
    return verbatim($status, $data);
}

# Removing a backup volume of a generated cluster: PVE answers the UPID of an imgdel task.
sub writes ($c, $path) {
    return if $opt{replay} || $c->req->method ne 'DELETE' || $path !~ m{^/nodes/([^/]+)/storage/local/content/(.+)$};
    my ($node, $volid) = ($1, $2);
    return refusal(500, "volume '$volid' does not exist") unless grep { $_->{volid} eq $volid } backup_volumes($node);
    $deleted_volumes{$volid} = 1;
    return sprintf 'UPID:%s:0000EEEE:00FFFFFF:%08X:imgdel:%s:root@pam:', $node, int time, $volid;
}

$sim->serve(app, answer => \&answer, writes => \&writes);
