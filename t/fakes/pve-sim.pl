#!/usr/bin/perl
# pve-sim.pl: a Proxmox VE API simulator over HTTPS, for tests and benchmarks.
#
#   pve-sim.pl --listen https://127.0.0.1:8006 --cert C --key K
#              (--replay DIR | --nodes N --guests M)
#              [--token 'user@realm!id=secret'] [--password 'user@realm:password']
#              [--cluster NAME] [--member-ips 127.0.0.2,127.0.0.3]
#
# --replay serves the recorded responses of one PVE version (../shared/fixtures/
# proxmox-recorded/pveNx, with its MANIFEST.json); --nodes/--guests generates a cluster whose
# counters advance with time. Either way the token header or the ticket cookie is checked.
# Test control, on the same port: POST /__sim/mode {"mode":"normal|slow|error|truncated|
# garbage|huge|offline-node","delay":seconds,"node":"name"} and GET /__sim/stats.
use strict;
use warnings;
use Getopt::Long;
use JSON::PP;
use Mojolicious::Lite -signatures;
use Mojo::IOLoop;
use Time::HiRes qw(time);

my %opt = (nodes => 0, guests => 0);
GetOptions(\%opt, 'listen=s', 'cert=s', 'key=s', 'replay=s', 'manifest=s', 'nodes=i', 'guests=i',
    'token=s', 'password=s', 'cluster=s', 'member-ips=s') or die "bad options\n";
my $json = JSON::PP->new->canonical;
# --member-ips: the addresses /cluster/status gives the generated nodes (failover tests run
# one simulator per address).
my @member_ips = split /,/, $opt{'member-ips'} // '';
my %mode = (mode => 'normal', delay => 0, node => '');
my %stats = (requests => 0, by_path => {});
my $started = time;
my %tickets;

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
}

# Counters grow with time at a fixed rate per guest: rates are predictable.
sub counters ($g) {
    my $t = time - $started;
    my $k = $g->{vmid};
    return (diskread => int(1000 * $k * $t), diskwrite => int(500 * $k * $t),
        netin => int(2000 * $k * $t), netout => int(100 * $k * $t));
}

sub node_online ($name) {
    return !($mode{mode} eq 'offline-node' && $mode{node} eq $name);
}

sub generated ($c, $path) {
    if ($path eq '/nodes') {
        return [map { { node => $_->{node}, status => node_online($_->{node}) ? 'online' : 'offline',
            cpu => 0.1, maxcpu => $_->{maxcpu}, mem => int($_->{maxmem} / 4), maxmem => $_->{maxmem},
            disk => int($_->{maxdisk} / 10), maxdisk => $_->{maxdisk}, uptime => 1000 + int(time - $started),
            type => 'node', id => "node/$_->{node}", level => '' } } @nodes];
    }
    if ($path =~ m{^/nodes/([^/]+)/status$}) {
        my $n = $node_by_name{$1} or return;
        return { cpu => 0.1, uptime => 1000 + int(time - $started), loadavg => ['0.50', '0.40', '0.30'],
            kversion => 'Linux 6.8.12-1-pve', pveversion => 'pve-manager/8.2.4/faa83925c9641325',
            cpuinfo => { model => 'Simulated CPU', cores => 8, cpus => $n->{maxcpu}, sockets => 2, mhz => '2400.000' },
            memory => { total => $n->{maxmem}, used => int($n->{maxmem} / 2), free => int($n->{maxmem} / 2),
                available => int($n->{maxmem} * 0.6) },
            rootfs => { total => 100 * 2**30, used => 20 * 2**30, avail => 80 * 2**30 } };
    }
    if ($path eq '/cluster/resources') {
        return [map {
            my $g = $_;
            my $run = $g->{status} eq 'running' && node_online($g->{node});
            { id => "$g->{type}/$g->{vmid}", type => $g->{type}, vmid => $g->{vmid}, node => $g->{node},
              name => $g->{name}, status => $run ? 'running' : 'stopped', cpu => $run ? 0.25 : 0,
              maxcpu => $g->{maxcpu}, mem => $run ? int($g->{maxmem} / 2) : 0, maxmem => $g->{maxmem},
              disk => $g->{type} eq 'lxc' ? 8 * 2**30 : 0, maxdisk => $g->{maxdisk},
              uptime => $run ? 500 : 0, template => 0, tags => 'sim;test', counters($g) }
        } @guests];
    }
    if ($path =~ m{^/nodes/([^/]+)/qemu/(\d+)/status/current$}) {
        my $g = $guest_by_vmid{$2} or return;
        return { status => $g->{status}, cpu => 0.25, cpus => $g->{maxcpu}, maxmem => $g->{maxmem},
            mem => int($g->{maxmem} / 2), balloon => $g->{maxmem}, freemem => int($g->{maxmem} / 4),
            disk => 0, maxdisk => $g->{maxdisk}, uptime => 500, agent => $g->{agent}, counters($g) };
    }
    if ($path =~ m{^/nodes/([^/]+)/qemu/(\d+)/agent/get-fsinfo$}) {
        return { result => [
            { name => 'sda1', mountpoint => '/', type => 'ext4', 'total-bytes' => 20 * 2**30,
              'used-bytes' => 5 * 2**30, disk => [{ dev => '/dev/sda' }] },
            { name => 'tmpfs', mountpoint => '/run', type => 'tmpfs', 'total-bytes' => 2**30, 'used-bytes' => 1 } ] };
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
        my @c = ({ volid => 'local:vztmpl/debian-12.tar.zst', content => 'vztmpl', format => 'tzst',
            size => 123456, ctime => 1700000000 });
        for my $g (grep { $_->{node} eq $node && $_->{vmid} % 5 == 0 } @guests) {
            my $kind = $g->{type} eq 'qemu' ? 'qemu' : 'lxc';
            push @c, { volid => "local:backup/vzdump-$kind-$g->{vmid}-2026_01_01-00_00_00." .
                ($kind eq 'qemu' ? 'vma.zst' : 'tar.zst'), content => 'backup', vmid => $g->{vmid},
                format => $kind eq 'qemu' ? 'vma.zst' : 'tar.zst', size => 1_000_000 * $g->{vmid},
                ctime => int($started) - 7000 + $g->{vmid}, notes => "nightly $g->{name}",
                protected => $g->{vmid} % 10 == 0 ? 1 : 0, verification => { state => 'ok' } };
        }
        return \@c;
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
            { storage => 'ceph-pool', type => 'rbd', content => 'images,rootdir', shared => 1 }];
    }
    if ($path =~ m{^/nodes/([^/]+)/storage$}) {
        return [{ storage => 'local', type => 'dir', content => 'vztmpl,iso,backup', total => 100 * 2**30,
                  used => 40 * 2**30, avail => 60 * 2**30, active => 1, enabled => 1, shared => 0 },
            { storage => 'ceph-pool', type => 'rbd', content => 'rootdir,images', total => 1000 * 2**30,
              used => 250 * 2**30, avail => 750 * 2**30, active => 1, enabled => 1, shared => 1 }];
    }
    if ($path eq '/cluster/status') {
        return [{ type => 'cluster', name => $opt{cluster} // 'simcluster', nodes => scalar @nodes, quorate => 1 },
            map { { type => 'node', name => $nodes[$_]{node}, id => "node/$nodes[$_]{node}",
                ip => $member_ips[$_] // '127.0.0.1', online => 1, nodeid => $_ + 1 } } 0 .. $#nodes];
    }
    return;
}

# --- authentication -----------------------------------------------------------------------

sub authorised ($c) {
    my $auth = $c->req->headers->authorization // '';
    if ($opt{token}) {
        return 1 if $auth eq "PVEAPIToken=$opt{token}";
    }
    if ($opt{password}) {
        my $cookie = $c->req->cookie('PVEAuthCookie');
        return 1 if $cookie && $tickets{ $cookie->value };
    }
    return !$opt{token} && !$opt{password};
}

post '/api2/json/access/ticket' => sub ($c) {
    my ($user, $pass) = split /:/, $opt{password} // '', 2;
    my $p = $c->req->params->to_hash;
    if (!$opt{password} || ($p->{username} // '') ne $user || ($p->{password} // '') ne $pass) {
        return $c->render(status => 401, json => { data => undef });
    }
    my $ticket = 'PVE:' . $user . ':' . sprintf('%08X', int time) . '::' . join('', map { int rand 10 } 1 .. 32);
    $tickets{$ticket} = 1;
    $c->render(json => { data => { ticket => $ticket, CSRFPreventionToken => 'csrf' . int(rand 1e9), username => $user } });
};

# --- control --------------------------------------------------------------------------------

post '/__sim/mode' => sub ($c) {
    my $m = $c->req->json // {};
    %mode = (mode => $m->{mode} // 'normal', delay => $m->{delay} // 0, node => $m->{node} // '');
    $c->render(json => \%mode);
};
get '/__sim/stats' => sub ($c) { $c->render(json => \%stats) };

# --- the API --------------------------------------------------------------------------------

any '/api2/json/*rest' => sub ($c) {
    my $path = '/' . $c->stash('rest');
    $stats{requests}++;
    $stats{by_path}{$path}++;
    return $c->render(status => 401, json => { data => undef }) unless authorised($c);
    my $m = $mode{mode};
    my $answer = sub {
        if ($m eq 'error') {
            return $c->render(status => 500, json => { data => undef, message => 'simulated failure' });
        }
        my ($status, $data);
        if ($opt{replay}) {
            ($status, $data) = recorded($path);
            # --cluster renames the recorded cluster (several recordings in one test).
            if (defined $data && $path eq '/cluster/status' && $opt{cluster}) {
                $_->{name} = $opt{cluster} for grep { ($_->{type} // '') eq 'cluster' } @{ $data->{data} // [] };
            }
            if (defined $data && $path eq '/cluster/resources' && (my $type = $c->param('type'))) {
                my @keep = grep { $type eq 'vm' ? ($_->{type} // '') =~ /^(qemu|lxc)$/ : ($_->{type} // '') eq $type }
                    @{ $data->{data} // [] };
                $data = { data => \@keep };
            }
        } else {
            my $d = generated($c, $path);
            ($status, $data) = defined $d ? (200, { data => $d }) : ();
        }
        return $c->render(status => 404, json => { data => undef, errors => { path => 'not recorded' } })
            unless defined $data;
        my $body = $json->encode($data);
        if ($m eq 'truncated') { $body = substr($body, 0, int(length($body) / 2)) }
        elsif ($m eq 'garbage') { $body = "<html>\x00\xff not json {{{" }
        elsif ($m eq 'huge') { $body = '{"data":[' . join(',', ('{"node":"x"}') x 7_000_000) . ']}' }
        $c->res->headers->content_type('application/json;charset=UTF-8');
        $c->render(status => $status, data => $body);
    };
    if ($m eq 'slow' && $mode{delay} > 0) {
        $c->render_later;
        Mojo::IOLoop->timer($mode{delay} => $answer);
        return;
    }
    $answer->();
};

app->log->level('warn');
my $listen = $opt{listen} // 'https://127.0.0.1:8006';
$listen .= ($listen =~ /\?/ ? '&' : '?') . "cert=$opt{cert}&key=$opt{key}" if $opt{cert};
app->start('daemon', '-l', $listen);
