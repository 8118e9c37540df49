#!/usr/bin/perl
# docker-engine.pl: a stand-in Docker Engine (API v1.43 shapes) on a Unix socket, for
# t/api/65-agent-docker.t: /info, /version, /containers/json, /containers/{id}/json and
# /stats, Swarm /services and /tasks, and the update's calls (images/create, stop, rename,
# containers/create, start, networks/{n}/connect, DELETE). An optional /vX.Y prefix is
# accepted. Every request is logged as one JSON line to --log.
#
#   docker-engine.pl --socket PATH --config FILE --log FILE [--garbage]
#
# The config (JSON): {"info":{...merged into /info}, "containers":[C...], "services":[...],
# "tasks":[...]}; C is {"id","name","image","state","status","health","restartCount",
# "exitCode","oomKilled","startedAt","finishedAt","created","env":[...],"labels":{...},
# "ports":[...],"networks":{name:{...}},"mounts":[...],"stats":S}; S is {"cpuTotal",
# "cpuStep","system","systemStep","onlineCpus","precpu":bool,"memUsage","memLimit","cache"
# or "inactiveFile","blkRead","blkWrite"}. With "precpu" the stats answer holds both samples
# (total/system and total+step/system+step); without it cpu_stats moves on by the steps at
# every call and precpu_stats is empty, as a one-shot answer is.
# --garbage answers every request with 200 and a body that is not JSON.
use strict;
use warnings;
use Getopt::Long;
use IO::Handle;
use IO::Socket::UNIX;
use JSON::PP;
use POSIX qw(strftime);
use Mojo::Util qw(url_unescape);

my ($socket_path, $config_file, $log_file, $garbage);
GetOptions('socket=s' => \$socket_path, 'config=s' => \$config_file, 'log=s' => \$log_file,
    'garbage' => \$garbage)
    or die "usage: $0 --socket PATH --config FILE --log FILE [--garbage]\n";
die "--socket and --log are required\n" unless $socket_path && $log_file;
my $json = JSON::PP->new->canonical;
my $conf = {};
if ($config_file) {
    open my $cf, '<', $config_file or die "$config_file: $!\n";
    local $/;
    $conf = decode_json(<$cf>);
}
open my $log, '>>', $log_file or die "$log_file: $!\n";
$log->autoflush(1);

my @containers = @{ $conf->{containers} || [] };
my %calls;    # stats calls per container id
my $created_seq = 0;

unlink $socket_path;
my $server = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $socket_path, Listen => 16)
    or die "listen $socket_path: $!\n";
$SIG{TERM} = sub { unlink $socket_path; exit 0 };

sub iso { strftime('%Y-%m-%dT%H:%M:%S.000000000Z', gmtime($_[0])) }

sub find_container {
    my ($ref) = @_;
    for my $c (@containers) {
        return $c if $c->{id} eq $ref || $c->{name} eq $ref
            || (length($ref) >= 12 && index($c->{id}, $ref) == 0);
    }
    return undef;
}

sub networks_of {
    my ($c) = @_;
    my $n = $c->{networks} || { bridge => { IPAddress => '172.17.0.2' } };
    return { map { $_ => { NetworkID => "net-$_", IPAddress => '', GlobalIPv6Address => '',
        %{ $n->{$_} } } } sort keys %$n };
}

sub list_entry {
    my ($c) = @_;
    return {
        Id => $c->{id}, Names => ["/$c->{name}"], Image => $c->{image},
        ImageID => $c->{imageId} // 'sha256:' . ('ab' x 32), Command => '/entrypoint',
        Created => $c->{created} // 1767225600, State => $c->{state},
        Status => $c->{status} // ($c->{state} eq 'running' ? 'Up 3 hours' : 'Exited (0) 1 hour ago'),
        Ports => $c->{ports} || [], Labels => $c->{labels} || {},
        SizeRw => 0, HostConfig => { NetworkMode => 'bridge' },
        NetworkSettings => { Networks => networks_of($c) }, Mounts => $c->{mounts} || [],
    };
}

sub inspect {
    my ($c) = @_;
    my $running = $c->{state} eq 'running';
    my %state = (
        Status => $c->{state}, Running => $running ? JSON::PP::true : JSON::PP::false,
        Paused => $c->{state} eq 'paused' ? JSON::PP::true : JSON::PP::false,
        Restarting => JSON::PP::false,
        OOMKilled => $c->{oomKilled} ? JSON::PP::true : JSON::PP::false,
        Dead => JSON::PP::false, Pid => $running ? 4242 : 0, ExitCode => $c->{exitCode} // 0,
        Error => '', StartedAt => $c->{startedAt} // '0001-01-01T00:00:00Z',
        FinishedAt => $c->{finishedAt} // '0001-01-01T00:00:00Z',
    );
    $state{Health} = { Status => $c->{health}, FailingStreak => 0, Log => [] } if $c->{health};
    return {
        Id => $c->{id}, Created => iso($c->{created} // 1767225600), Path => '/entrypoint',
        Args => [], State => \%state, Image => $c->{imageId} // 'sha256:' . ('ab' x 32),
        Name => "/$c->{name}", RestartCount => $c->{restartCount} // 0, Driver => 'overlay2',
        Platform => 'linux', MountLabel => '', ProcessLabel => '', AppArmorProfile => '',
        HostConfig => { Memory => $c->{stats} ? $c->{stats}{memLimit} // 0 : 0,
            RestartPolicy => { Name => 'unless-stopped', MaximumRetryCount => 0 },
            NetworkMode => 'bridge' },
        Config => { Hostname => substr($c->{id}, 0, 12), Image => $c->{image},
            Env => $c->{env} || [], Labels => $c->{labels} || {}, Cmd => undef },
        NetworkSettings => { Networks => networks_of($c) }, Mounts => $c->{mounts} || [],
    };
}

sub stats {
    my ($c) = @_;
    my $s = $c->{stats} || {};
    my $n = $calls{ $c->{id} }++;
    my ($total, $system, %pre);
    my $cpus = $s->{onlineCpus} // 2;
    if ($s->{precpu}) {
        $total = ($s->{cpuTotal} // 0) + ($s->{cpuStep} // 0);
        $system = ($s->{system} // 0) + ($s->{systemStep} // 0);
        %pre = (cpu_usage => { total_usage => $s->{cpuTotal} // 0, usage_in_kernelmode => 0,
            usage_in_usermode => 0 }, system_cpu_usage => $s->{system} // 0,
            online_cpus => $cpus, throttling_data => { periods => 0, throttled_periods => 0,
            throttled_time => 0 });
    } else {
        $total = ($s->{cpuTotal} // 0) + $n * ($s->{cpuStep} // 0);
        $system = ($s->{system} // 0) + $n * ($s->{systemStep} // 0);
        %pre = (cpu_usage => { total_usage => 0, usage_in_kernelmode => 0,
            usage_in_usermode => 0 }, throttling_data => { periods => 0,
            throttled_periods => 0, throttled_time => 0 });
    }
    my %mstats = (active_anon => 1024, file => 4096);
    $mstats{cache} = $s->{cache} if defined $s->{cache};
    $mstats{inactive_file} = $s->{inactiveFile} if defined $s->{inactiveFile};
    my @blk;
    push @blk, { major => 8, minor => 0, op => 'read', value => $s->{blkRead} } if $s->{blkRead};
    push @blk, { major => 8, minor => 0, op => 'write', value => $s->{blkWrite} } if $s->{blkWrite};
    push @blk, { major => 8, minor => 0, op => 'Sync', value => 999 }, { major => 8, minor => 0, op => 'Total', value => 999 } if @blk;
    return {
        read => iso(time), preread => '0001-01-01T00:00:00Z', name => "/$c->{name}",
        id => $c->{id}, num_procs => 0, pids_stats => { current => 3 },
        cpu_stats => { cpu_usage => { total_usage => $total, usage_in_kernelmode => 0,
            usage_in_usermode => $total }, system_cpu_usage => $system, online_cpus => $cpus,
            throttling_data => { periods => 0, throttled_periods => 0, throttled_time => 0 } },
        precpu_stats => \%pre,
        memory_stats => { usage => $s->{memUsage} // 0, limit => $s->{memLimit} // 0,
            stats => \%mstats },
        blkio_stats => { io_service_bytes_recursive => @blk ? \@blk : undef },
        networks => { eth0 => { rx_bytes => 1000, tx_bytes => 2000, rx_packets => 10,
            tx_packets => 20 } },
    };
}

sub info {
    return {
        ID => 'FAKE:ENGINE', Name => 'fake-engine', NCPU => 4, MemTotal => 8 * 1024**3,
        OperatingSystem => 'Debian GNU/Linux 12 (bookworm)', OSType => 'linux',
        KernelVersion => '6.1.0-fake', Architecture => 'x86_64', ServerVersion => '24.0.7',
        Containers => scalar(@containers),
        ContainersRunning => scalar(grep { $_->{state} eq 'running' } @containers),
        Driver => 'overlay2', DriverStatus => [['Backing Filesystem', 'extfs']],
        SecurityOptions => ['name=seccomp,profile=builtin'], InitBinary => 'docker-init',
        Swarm => { NodeID => '', LocalNodeState => 'inactive', ControlAvailable => JSON::PP::false,
            Error => '', RemoteManagers => undef },
        %{ $conf->{info} || {} },
    };
}

# Returns (status, body as a Perl structure or undef).
sub route {
    my ($method, $path, $query, $body) = @_;
    my %q = map { my ($k, $v) = split /=/, $_, 2; (url_unescape($k // ''), url_unescape($v // '')) }
        grep { length } split /&/, $query // '';
    $path =~ s{^/v\d+\.\d+}{};
    return (200, info()) if $method eq 'GET' && $path eq '/info';
    return (200, { Version => '24.0.7', ApiVersion => '1.43', MinAPIVersion => '1.12',
        Os => 'linux', Arch => 'amd64', KernelVersion => '6.1.0-fake', GoVersion => 'go1.20.10' })
        if $method eq 'GET' && $path eq '/version';
    return (200, 'OK') if $path eq '/_ping';
    if ($method eq 'GET' && $path eq '/containers/json') {
        my @list = $q{all} ? @containers : grep { $_->{state} eq 'running' } @containers;
        return (200, [map { list_entry($_) } @list]);
    }
    return (200, $conf->{services} || []) if $method eq 'GET' && $path eq '/services';
    return (200, $conf->{tasks} || []) if $method eq 'GET' && $path eq '/tasks';
    if ($method eq 'POST' && $path eq '/images/create') {
        return (200, { status => "Pulling from $q{fromImage}" });
    }
    if ($method eq 'POST' && $path eq '/containers/create') {
        my $req = eval { decode_json($body // '') } || {};
        my $id = sprintf('%064x', 0xfeed0000 + ++$created_seq);
        push @containers, { id => $id, name => $q{name}, image => $req->{Image} // '',
            state => 'created', env => $req->{Env}, labels => $req->{Labels},
            stats => { memLimit => ($req->{HostConfig} || {})->{Memory} // 0 },
            health => $conf->{newHealth}, fresh => 1 };
        return (201, { Id => $id, Warnings => [] });
    }
    if ($method eq 'POST' && $path =~ m{^/networks/([^/]+)/connect$}) {
        return (200, undef);
    }
    if ($path =~ m{^/containers/([^/]+)(?:/(\w+))?$}) {
        my ($ref, $action) = ($1, $2 // '');
        my $c = find_container($ref)
            or return (404, { message => "No such container: $ref" });
        return (200, inspect($c)) if $method eq 'GET' && $action eq 'json';
        return (200, stats($c)) if $method eq 'GET' && $action eq 'stats';
        if ($method eq 'POST' && $action eq 'stop') {
            return (304, undef) if $c->{state} ne 'running';
            $c->{state} = 'exited';
            return (204, undef);
        }
        if ($method eq 'POST' && $action eq 'start') {
            $c->{state} = ($c->{fresh} && $conf->{newState}) || 'running'
                if $c->{state} ne 'running';
            $c->{startedAt} = iso(time);
            return (204, undef);
        }
        if ($method eq 'POST' && $action eq 'rename') {
            return (409, { message => "Conflict. The container name \"/$q{name}\" is already in use" })
                if grep { $_->{name} eq $q{name} && $_ != $c } @containers;
            $c->{name} = $q{name};
            return (204, undef);
        }
        if ($method eq 'DELETE' && $action eq '') {
            @containers = grep { $_ != $c } @containers;
            return (204, undef);
        }
    }
    return (404, { message => "page not found" });
}

sub respond {
    my ($conn, $status, $body) = @_;
    my $text = !defined $body ? '' : ref $body ? $json->encode($body) : "$body";
    $text = "<html>this is not json" if $garbage;
    $status = 200 if $garbage;
    my $ctype = $garbage ? 'text/html' : 'application/json';
    print {$conn} "HTTP/1.1 $status X\r\nContent-Type: $ctype\r\nApi-Version: 1.43\r\n",
        "Server: Docker/24.0.7 (linux)\r\nContent-Length: ", length($text),
        "\r\nConnection: close\r\n\r\n", $text;
}

while (my $conn = $server->accept) {
    local $/ = "\r\n";
    my $line = <$conn>;
    next unless defined $line;
    my ($method, $target) = $line =~ m{^(\S+)\s+(\S+)};
    my $len = 0;
    while (my $h = <$conn>) {
        last if $h eq "\r\n";
        $len = $1 if $h =~ /^Content-Length:\s*(\d+)/i;
    }
    my $body = '';
    read($conn, $body, $len) if $len > 0 && $len < 1024 * 1024;
    my ($path, $query) = split /\?/, $target // '/', 2;
    my ($status, $answer) = route($method // 'GET', $path, $query, $body);
    print {$log} $json->encode({ method => $method, path => $path, query => $query // '',
        body => $body, status => $status }), "\n";
    respond($conn, $status, $answer);
    close $conn;
}
