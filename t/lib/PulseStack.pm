package PulseStack;
# PulseStack.pm: brings up a private Pulse stack (PostgreSQL, pulse-worker, pulse-fcgi
# responders, nginx and optionally Apache) on free loopback ports, and stops exactly what it
# started. Used by the API tests, the benchmarks and ./quickstart.

use strict;
use warnings;
# Mojo::JSON's own encoder, not Cpanel::JSON::XS's (which writes 2415919104.0 for a number
# computed as a float; the tests' bodies are written for 2415919104). Set before Mojo::JSON
# is loaded; make check sets it for every test (TEST_ENV in Makefile.am).
BEGIN { $ENV{MOJO_NO_JSON_XS} //= 1 }
use Carp qw(croak);
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(:sys_wait_h setsid);
use Test::Builder ();
use Time::HiRes qw(sleep time);

# prove -j reads a test's standard output and error together: once a diag line (standard
# error) has come, it waits for the test's next line on standard output, and the other job
# slot waits with it (the soak, quiet for minutes after printing, held a unit test for 227 s).
# A note (standard output, "# ") after every diag lets prove go on at once in most cases; not
# always (prove may have read the note before the diag), so a test that goes quiet for long
# after printing holds its figures back instead (t/api/59-soak.t).
{
    no warnings 'redefine';
    my $diag = \&Test::Builder::diag;
    *Test::Builder::diag = sub {
        my $r = $diag->(@_);
        $_[0]->note('');
        return $r;
    };
}

my $PG_BIN = do {
    my ($dir) = sort { $b cmp $a } glob('/usr/lib/postgresql/*/bin');
    $dir // croak 'PostgreSQL server binaries not found under /usr/lib/postgresql';
};

sub srcdir { $ENV{PULSE_SRCDIR} // abs_path(dirname(__FILE__) . '/../..') }
sub builddir { $ENV{PULSE_BUILDDIR} // srcdir() }

# A free TCP port on the loopback interface.
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1,
        ReuseAddr => 1) or croak "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# Options: dir (state directory; a temporary one by default, removed at the end unless
# keep), port, bind, responders, threads, workers, nginx, apache, settings (hash of extra
# pulse.conf keys), worker_settings, bindir (where pulse-fcgi and pulse-worker are: an
# installed copy instead of the build tree's).
sub new {
    my ($class, %opt) = @_;
    my $self = bless {
        responders => 1,
        threads    => 4,
        workers    => 1,
        nginx      => 1,
        apache     => 0,
        bind       => '127.0.0.1',
        settings   => {},
        keep       => 0,
        %opt,
        pids       => {},
        owner_pid  => $$,
    }, $class;
    if (!$self->{dir}) {
        $self->{dir} = tempdir('pulse-stack-XXXXXX', TMPDIR => 1, CLEANUP => 0);
        $self->{temporary} = 1;
    }
    $self->{dir} = abs_path($self->{dir});
    $self->{port} //= free_port();
    $self->{pg_port} //= free_port();
    $self->{apache_port} //= free_port() if $self->{apache};
    $self->{pg2_port} //= free_port() if $self->{standby};
    $self->{root} = $> == 0;
    $self->{pg_user} = $self->{root} ? 'postgres' : scalar getpwuid($>);
    $self->{web_user} = $self->{root} ? 'www-data' : undef;
    return $self;
}

sub dir      { $_[0]{dir} }
sub port     { $_[0]{port} }
sub log_dir  { "$_[0]{dir}/log" }
sub run_dir  { "$_[0]{dir}/run" }
sub pg_sock  { "$_[0]{dir}/pg/socket" }
sub conninfo { my $s = shift; return $s->ha_conninfo if $s->{standby}; "host=" . $s->pg_sock . " port=$s->{pg_port} dbname=pulse user=pulse" }
sub base_url { my $s = shift; "https://127.0.0.1:$s->{port}" }
sub apache_url { my ($s, $path) = @_; "https://127.0.0.1:$s->{apache_port}" . ($path // '') }
sub url      { my ($s, $path) = @_; $s->base_url . $path }
sub socket_path { my ($s, $i) = @_; $s->run_dir . "/fcgi-$i.sock" }
sub conf_path { "$_[0]{dir}/pulse.conf" }

sub ua {
    my $self = shift;
    require Mojo::UserAgent;
    $self->{ua} //= Mojo::UserAgent->new(insecure => 1, connect_timeout => 10,
        request_timeout => 60, inactivity_timeout => 60, max_redirects => 0);
    return $self->{ua};
}

sub run_cmd {
    my ($self, @cmd) = @_;
    my $out = qx{@{[ join ' ', map { _shq($_) } @cmd ]} 2>&1};
    return ($? >> 8, $out);
}

sub _shq { my $s = shift; $s =~ s/'/'\\''/g; "'$s'" }

sub as_pg_user {
    my ($self, @cmd) = @_;
    return $self->{root} ? ('runuser', '-u', $self->{pg_user}, '--', @cmd) : @cmd;
}

# Everything, in order. Dies with the log tail when a part does not come up.
sub start {
    my $self = shift;
    $self->prepare_dirs;
    $self->write_conf;
    $self->pg_init unless -f $self->{dir} . '/pg/data/PG_VERSION';
    $self->pg_start;
    $self->standby_start if $self->{standby};
    my ($rc, $out) = $self->migrate;
    croak "migration failed: $out" if $rc;
    $self->start_responder($_) for 1 .. $self->{responders};
    $self->start_worker($_) for 1 .. $self->{workers};
    if ($self->{nginx}) {
        $self->make_cert;
        $self->start_nginx;
    }
    if ($self->{apache}) {
        $self->make_cert;
        $self->start_apache;
    }
    $self->wait_healthy if $self->{nginx};
    return $self;
}

sub prepare_dirs {
    my $self = shift;
    my $d = $self->{dir};
    make_path("$d/log", "$d/run", "$d/data", "$d/pg", "$d/www", "$d/tls");
    # PostgreSQL and the web server's workers run as other users: the state directory must be
    # traversable by them; the secrets inside are protected file by file.
    chmod 0755, $d, "$d/run", "$d/pg", "$d/www", "$d/log";
    chmod 0700, "$d/data", "$d/tls";
    if ($self->{root}) {
        my ($uid, $gid) = (getpwnam($self->{pg_user}))[2, 3];
        croak "user $self->{pg_user} does not exist" unless defined $uid;
        chown $uid, $gid, "$d/pg";
        my $check = system('runuser', '-u', $self->{pg_user}, '--', 'test', '-x', "$d/pg") >> 8;
        croak "$d is not reachable by the $self->{pg_user} user: put the state directory "
            . "under a path every user can traverse" if $check;
    }
    # The UI is copied so the web server's workers need no access to the source tree.
    system('cp', '-R', srcdir() . '/nginx/ui/.', "$d/www/") == 0 or croak 'cannot copy the UI';
    # As make install does: index.html points at assets/<hash>/ (long-lived caching).
    system(srcdir() . '/nginx/ui-stamp', "$d/www") == 0 or croak 'ui-stamp failed';
    system('chmod', '-R', 'a+rX', "$d/www");
}

sub write_conf {
    my $self = shift;
    my %conf = (
        database_url       => $self->conninfo,
        listen             => '',
        socket_mode        => $self->{root} ? '0660' : '0600',
        socket_group       => $self->{root} ? 'www-data' : '',
        # nginx's workers run as www-data when started as root: the web server we believe.
        fastcgi_peers      => $self->{root} ? 'www-data' : '',
        threads            => $self->{threads},
        data_dir           => "$self->{dir}/data",
        sql_dir            => srcdir() . '/sql',
        agent_binary_dir   => builddir() . '/agent',
        agent_script_dir   => srcdir() . '/agent',
        openapi_file       => builddir() . '/openapi/openapi.json',
        log_level          => 'info',
        deployment_type    => 'source',
        heartbeat_interval => 2,
        %{ $self->{settings} },
    );
    open my $fh, '>', $self->conf_path or croak "cannot write pulse.conf: $!";
    print {$fh} "# written by PulseStack for a private stack\n";
    for my $k (sort keys %conf) {
        my $v = $conf{$k};
        print {$fh} "$k = " . ($v =~ /^\s|\s$|#/ ? "\"$v\"" : $v) . "\n";
    }
    close $fh;
    chmod 0600, $self->conf_path;
}

# --- PostgreSQL -----------------------------------------------------------------------

sub pg_init {
    my $self = shift;
    my $data = "$self->{dir}/pg/data";
    my ($rc, $out) = $self->run_cmd($self->as_pg_user("$PG_BIN/initdb", '-D', $data, '-U', 'pulse',
        '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'));
    croak "initdb failed: $out" if $rc;
    open my $fh, '>>', "$data/postgresql.conf" or croak $!;
    print {$fh} join("\n",
        "listen_addresses = ''",
        "port = $self->{pg_port}",
        "unix_socket_directories = '" . $self->pg_sock . "'",
        "unix_socket_permissions = 0700",
        "max_connections = 200",
        "shared_buffers = 128MB",
        "fsync = " . ($self->{pg_fsync} ? 'on' : 'off'),
        "synchronous_commit = " . ($self->{pg_fsync} ? 'on' : 'off'),
        "logging_collector = off",
        "log_min_messages = warning",
        ""), "\n";
    close $fh;
}

sub pg_start {
    my $self = shift;
    make_path($self->pg_sock);
    if ($self->{root}) {
        my ($uid, $gid) = (getpwnam($self->{pg_user}))[2, 3];
        chown $uid, $gid, $self->pg_sock;
    }
    chmod 0700, $self->pg_sock;
    my $log = $self->log_dir . '/postgresql.log';
    unless (-e $log) { open my $t, '>', $log; close $t }
    if ($self->{root}) {
        my ($uid, $gid) = (getpwnam($self->{pg_user}))[2, 3];
        chown $uid, $gid, $log;
    }
    my ($rc, $out) = $self->run_cmd($self->as_pg_user("$PG_BIN/pg_ctl", '-D', "$self->{dir}/pg/data",
        '-l', $log, '-w', '-t', '60', 'start'));
    croak "PostgreSQL did not start: $out" if $rc;
    ($rc, $out) = $self->run_cmd("$PG_BIN/psql", '-X', '-q', '-h', $self->pg_sock, '-p', $self->{pg_port},
        '-U', 'pulse', '-d', 'postgres', '-tAc', q{SELECT 1 FROM pg_database WHERE datname = 'pulse'});
    if ($out !~ /1/) {
        ($rc, $out) = $self->run_cmd("$PG_BIN/createdb", '-h', $self->pg_sock, '-p', $self->{pg_port},
            '-U', 'pulse', 'pulse');
        croak "createdb failed: $out" if $rc;
    }
}

sub pg_stop {
    my ($self, $mode) = @_;
    return unless -f "$self->{dir}/pg/data/postmaster.pid";
    $self->run_cmd($self->as_pg_user("$PG_BIN/pg_ctl", '-D', "$self->{dir}/pg/data", '-m',
        $mode // 'fast', '-w', '-t', '60', 'stop'));
}

# Runs SQL through psql against the stack's database; returns the unaligned output.
# Holds an exclusive lock on a table for secs seconds (writes to it wait, then time out);
# returns when it lets go.
sub hold_lock {
    my ($self, $table, $secs) = @_;
    $self->psql("BEGIN; LOCK TABLE $table IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep($secs); COMMIT;");
}

sub psql {
    my ($self, $sql) = @_;
    return $self->psql_at($self->conninfo, $sql) if $self->{standby};
    my ($rc, $out) = $self->run_cmd("$PG_BIN/psql", '-X', '-q', '-h', $self->pg_sock, '-p',
        $self->{pg_port}, '-U', 'pulse', '-d', 'pulse', '-v', 'ON_ERROR_STOP=1', '-tAc', $sql);
    croak "psql failed: $out" if $rc;
    chomp $out;
    return $out;
}

# --- our programs ---------------------------------------------------------------------

sub bin {
    my ($self, $name) = @_;
    return "$self->{bindir}/$name" if $self->{bindir};
    return builddir() . ($name eq 'pulse-fcgi' ? '/fcgi/' : '/worker/') . $name;
}

sub program_env {
    my $self = shift;
    return (PULSE_CONFIG => $self->conf_path);
}

sub migrate {
    my ($self, %env) = @_;
    local %ENV = (%ENV, $self->program_env, %env);
    return $self->run_cmd($self->bin('pulse-worker'), '--migrate');
}

# Starts a program detached (own session, output to a log file); returns its pid and
# records it under run/<name>.pid so that stop() and ./quickstart stop find it.
sub spawn {
    my ($self, $name, $env, @cmd) = @_;
    my $log = $self->log_dir . "/$name.log";
    my $pid = fork // croak "fork: $!";
    if ($pid == 0) {
        setsid();
        %ENV = (%ENV, %$env);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    $self->{pids}{$name} = $pid;
    open my $fh, '>', $self->run_dir . "/$name.pid" or croak $!;
    print {$fh} "$pid\n";
    close $fh;
    return $pid;
}

sub start_responder {
    my ($self, $i, %extra_env) = @_;
    my $sock = $self->socket_path($i);
    my $pid = $self->spawn("fcgi-$i", { $self->program_env, %extra_env }, $self->bin('pulse-fcgi'),
        '--socket', $sock);
    # A responder that fails at start exits: no need to wait out the timeout.
    $self->wait_for(sub { -S $sock || !$self->alive("fcgi-$i") }, 20, "responder $i socket $sock",
        "fcgi-$i");
    croak "responder $i exited at start\n" . $self->log_tail("fcgi-$i", 10) unless -S $sock;
    return $pid;
}

sub start_worker {
    my ($self, $i, %extra_env) = @_;
    return $self->spawn("worker-$i", { $self->program_env, PULSE_WORKER_ID => "worker-$i", %extra_env },
        $self->bin('pulse-worker'));
}

sub pid_of { my ($self, $name) = @_; $self->{pids}{$name} }

# Sends sig to a started program and waits (up to timeout) for it to exit; returns its exit
# status, or undef when it did not exit.
sub stop_program {
    my ($self, $name, $sig, $timeout) = @_;
    my $pid = $self->{pids}{$name} or return;
    kill $sig // 'TERM', $pid;
    my $deadline = time + ($timeout // 30);
    while (time < $deadline) {
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid || ($r == -1 && !kill(0, $pid))) {
            my $status = $?;
            delete $self->{pids}{$name};
            unlink $self->run_dir . "/$name.pid";
            return $status;
        }
        sleep 0.05;
    }
    return undef;
}

sub alive {
    my ($self, $name) = @_;
    my $pid = $self->{pids}{$name} or return 0;
    return waitpid($pid, WNOHANG) == 0;
}

sub wait_for {
    my ($self, $cond, $timeout, $what, $logname) = @_;
    my $deadline = time + $timeout;
    while (time < $deadline) {
        return 1 if $cond->();
        sleep 0.05;
    }
    my $tail = $logname ? $self->log_tail($logname) : '';
    croak "timed out waiting for $what\n$tail";
}

sub log_tail {
    my ($self, $name, $lines) = @_;
    my $f = $self->log_dir . "/$name.log";
    return '' unless -f $f;
    open my $fh, '<', $f or return '';
    my @l = <$fh>;
    splice @l, 0, @l - ($lines // 30) if @l > ($lines // 30);
    return join '', @l;
}

sub log_text {
    my $self = shift;
    my $all = '';
    for my $f (glob($self->log_dir . '/*.log')) {
        open my $fh, '<', $f or next;
        local $/;
        $all .= <$fh> // '';
    }
    return $all;
}

# --- TLS and web servers --------------------------------------------------------------

sub make_cert {
    my $self = shift;
    my ($crt, $key) = ("$self->{dir}/tls/pulse.crt", "$self->{dir}/tls/pulse.key");
    $self->{cert} = $crt;
    $self->{key} = $key;
    return if -f $crt && -f $key;
    my ($rc, $out) = $self->run_cmd('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
        'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650', '-subj', '/CN=pulse.local',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-addext',
        'basicConstraints=critical,CA:FALSE', '-keyout', $key, '-out', $crt);
    croak "openssl failed: $out" if $rc;
    chmod 0600, $key;
}

sub render {
    my ($self, $template, $vars, $out) = @_;
    open my $in, '<', $template or croak "$template: $!";
    local $/;
    my $text = <$in>;
    close $in;
    # Placeholders are replaced outside comments only (the comments document them).
    my @lines = split /\n/, $text, -1;
    for my $line (@lines) {
        next if $line =~ /^\s*#/;
        $line =~ s/@([A-Z_]+)@/exists $vars->{$1} ? $vars->{$1} : croak "no value for \@$1\@ in $template"/ge;
    }
    $text = join "\n", @lines;
    open my $fh, '>', $out or croak "$out: $!";
    print {$fh} $text;
    close $fh;
}

sub body_limit_bytes {
    my $self = shift;
    my $v = $self->{settings}{body_limit} // '16M';
    my %m = (k => 1024, K => 1024, m => 1 << 20, M => 1 << 20, g => 1 << 30, G => 1 << 30);
    return $v =~ /^(\d+)([kKmMgG]?)$/ ? $1 * ($2 ? $m{$2} : 1) : croak "bad body_limit $v";
}

sub start_nginx {
    my $self = shift;
    my $src = srcdir() . '/nginx';
    my $run = $self->run_dir . '/nginx';
    make_path($run);
    my $site = "$run/pulse-site.conf";
    my $sockets = join "\n    ", map { 'server unix:' . $self->socket_path($_) . ';' } 1 .. $self->{responders};
    $self->render("$src/pulse-site.conf.in", {
        LISTEN           => "$self->{bind}:$self->{port}",
        CERT             => $self->{cert},
        KEY              => $self->{key},
        UI_ROOT          => "$self->{dir}/www",
        UPSTREAM_SERVERS => $sockets,
        BODY_LIMIT       => $self->body_limit_bytes,
        FASTCGI_INC      => "$src/pulse-fastcgi.inc",
        ACCESS_LOG       => $self->log_dir . '/nginx-access.log',
    }, $site);
    # The include file sits in the source tree; copy it next to the config so nginx's
    # workers do not need access there (only the master reads configuration, as root).
    system('cp', "$src/pulse-fastcgi.inc", "$run/pulse-fastcgi.inc");
    my $text = do { local (@ARGV, $/) = $site; <> };
    $text =~ s/\Q$src\E\/pulse-fastcgi\.inc/$run\/pulse-fastcgi.inc/g;
    open my $fh, '>', $site or croak $!;
    print {$fh} $text;
    close $fh;
    $self->render("$src/pulse-nginx.conf.in", {
        USER_LINE => $self->{root} ? "user $self->{web_user};" : '',
        RUN_DIR   => $run,
        LOG_DIR   => $self->log_dir,
        SITE_CONF => $site,
    }, "$run/nginx.conf");
    my ($rc, $out) = $self->run_cmd('nginx', '-c', "$run/nginx.conf", '-p', $run, '-e',
        $self->log_dir . '/nginx-error.log');
    croak "nginx did not start: $out" if $rc;
    $self->wait_for(sub { -s "$run/nginx.pid" }, 10, 'nginx pid file');
    $self->{pids}{nginx} = _read_pid("$run/nginx.pid");
    $self->{nginx_conf} = "$run/nginx.conf";
    system('cp', "$run/nginx.pid", $self->run_dir . '/nginx.pid');
    $self->wait_for(sub { _port_open($self->{port}) }, 10, "nginx on port $self->{port}");
}

sub start_apache {
    my $self = shift;
    my $src = srcdir() . '/nginx';
    my $run = $self->run_dir . '/apache';
    make_path($run);
    chmod 0755, $run;
    my $members = join "\n        ", map {
        'BalancerMember "unix:' . $self->socket_path($_) . "|fcgi://pulse-$_/\" enablereuse=off"
    } 1 .. $self->{responders};
    $self->render("$src/pulse-apache.conf.in", {
        LISTEN           => $self->{apache_port},
        SERVER_NAME      => 'localhost',
        CERT             => $self->{cert},
        KEY              => $self->{key},
        UI_ROOT          => "$self->{dir}/www",
        BALANCER_MEMBERS => $members,
        BODY_LIMIT_BYTES => $self->body_limit_bytes,
        ACCESS_LOG       => $self->log_dir . '/apache-access.log',
    }, "$run/pulse-apache.conf");
    my $mods = '/usr/lib/apache2/modules';
    my @modules = qw(mpm_event authz_core authz_host mime dir headers deflate filter ssl socache_shmcb
        proxy proxy_fcgi proxy_balancer slotmem_shm lbmethod_byrequests rewrite log_config alias
        substitute include);
    open my $fh, '>', "$run/httpd.conf" or croak $!;
    print {$fh} "# written by PulseStack: a private Apache serving only Pulse\n";
    # Modules compiled into Debian's apache2 (log_config, unixd ...) have no .so file.
    print {$fh} "LoadModule ${_}_module $mods/mod_$_.so\n" for grep { -f "$mods/mod_$_.so" } @modules;
    print {$fh} join("\n",
        "ServerRoot $run",
        'ServerName localhost',
        "Listen $self->{bind}:$self->{apache_port} https",
        "PidFile $run/apache.pid",
        "DefaultRuntimeDir $run",
        "Mutex file:$run default",
        "ErrorLog " . $self->log_dir . '/apache-error.log',
        'LogLevel warn',
        'TypesConfig /etc/mime.types',
        "SSLSessionCache shmcb:$run/ssl_scache(512000)",
        ($self->{root} ? ("User $self->{web_user}", "Group $self->{web_user}") : ()),
        "Include $run/pulse-apache.conf",
        ''), "\n";
    close $fh;
    my ($rc, $out) = $self->run_cmd('/usr/sbin/apache2', '-f', "$run/httpd.conf", '-k', 'start');
    croak "apache did not start: $out" if $rc;
    $self->wait_for(sub { -s "$run/apache.pid" }, 10, 'apache pid file', 'apache-error');
    $self->{pids}{apache} = _read_pid("$run/apache.pid");
    system('cp', "$run/apache.pid", $self->run_dir . '/apache.pid');
    $self->wait_for(sub { _port_open($self->{apache_port}) }, 10, "apache on port $self->{apache_port}");
}

sub _read_pid {
    my $f = shift;
    open my $fh, '<', $f or return;
    my $p = <$fh>;
    chomp $p if defined $p;
    return $p;
}

sub _port_open {
    my ($port, $addr) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => $addr // '127.0.0.1', PeerPort => $port, Timeout => 1);
    return $s ? (close($s), 1)[1] : 0;
}

# Waits until GET /api/health (through nginx) answers 200 with the database healthy.
# --- a persistent stack: which parts run (t/lib/pulse-stack, ./quickstart) ----------------

my %PROGRAMS = (fcgi => qr{/pulse-fcgi$}, worker => qr{/pulse-worker$}, nginx => qr{/nginx$},
    apache => qr{/apache2$}, postgresql => qr{/postgres$});

sub _all_pids {
    opendir my $d, '/proc' or return ();
    return grep { /^\d+$/ } readdir $d;
}

# True when pid is a live process (not a zombie: its exe link is gone) of a program whose path
# matches exe_re.
sub process_runs {
    my ($pid, $exe_re) = @_;
    return 0 unless defined $pid && $pid =~ /^\d+$/ && $pid > 0;
    my $exe = readlink("/proc/$pid/exe") // return 0;
    $exe =~ s/ \(deleted\)$//;
    return $exe =~ $exe_re ? 1 : 0;
}

# A process's command line and environment, as one string.
sub _proc_text {
    my $pid = shift;
    my $text = '';
    for my $f ("/proc/$pid/cmdline", "/proc/$pid/environ") {
        open my $fh, '<', $f or next;
        local $/;
        $text .= (<$fh> // '') . "\0";
    }
    return $text;
}

# The pid recorded in run/<name>.pid (fcgi-N, worker-N, nginx, apache) while it still runs
# that program for this stack (its command line or environment names the state directory),
# else 0: a recycled pid, a zombie or another stack's process does not count.
sub recorded_pid {
    my ($self, $name) = @_;
    my ($kind) = $name =~ /^([a-z]+)/;
    my $re = $PROGRAMS{$kind} or return 0;
    my $pid = _read_pid($self->run_dir . "/$name.pid");
    return 0 unless process_runs($pid, $re);
    return index(_proc_text($pid), "$self->{dir}/") >= 0 ? $pid : 0;
}

# The postmaster's pid while PostgreSQL runs on this stack's cluster, else 0. PostgreSQL's
# processes work in their data directory, which tells them from other clusters'.
sub pg_pid {
    my $self = shift;
    my $data = "$self->{dir}/pg/data";
    my $pid = _read_pid("$data/postmaster.pid");
    return 0 unless process_runs($pid, $PROGRAMS{postgresql});
    return (readlink("/proc/$pid/cwd") // '') eq (abs_path($data) // $data) ? $pid : 0;
}

# The processes of a program (fcgi, nginx, ...) that hold file open. The workers of an nginx
# or Apache whose master was killed with SIGKILL go on serving and keep the port: they are
# found by the error log they hold.
sub processes_holding {
    my ($kind, $file) = @_;
    my @pids;
    for my $pid (_all_pids()) {
        next unless process_runs($pid, $PROGRAMS{$kind});
        opendir my $d, "/proc/$pid/fd" or next;
        push @pids, $pid if grep { (readlink("/proc/$pid/fd/$_") // '') eq $file } readdir $d;
    }
    return @pids;
}

# Sends SIGTERM to pids, then SIGKILL to those still there after timeout seconds; returns
# when all are gone (or 5 s after SIGKILL).
sub terminate {
    my ($kind, $timeout, @pids) = @_;
    my $left = sub { grep { process_runs($_, $PROGRAMS{$kind}) } @pids };
    kill 'TERM', @pids;
    my $deadline = time + $timeout;
    sleep 0.05 while $left->() && time < $deadline;
    return unless my @still = $left->();
    kill 'KILL', @still;
    $deadline = time + 5;
    sleep 0.05 while $left->() && time < $deadline;
}

# After PostgreSQL was killed without a shutdown (SIGKILL, the OOM killer), makes its cluster
# startable again. Its server processes notice that their postmaster is gone and exit: this
# waits for them (10 s, then SIGKILL). postmaster.pid and the socket's lock file still name
# the dead postmaster, and PostgreSQL tests that pid with kill(pid, 0), which a zombie or a
# recycled pid passes: such lock files are removed, but never one whose pid runs a postgres.
sub pg_clear_stale {
    my $self = shift;
    my $data = abs_path("$self->{dir}/pg/data") // return;
    return if process_runs(_read_pid("$data/postmaster.pid"), $PROGRAMS{postgresql});
    my @orphans = grep { (readlink("/proc/$_/cwd") // '') eq $data }
        grep { process_runs($_, $PROGRAMS{postgresql}) } _all_pids();
    terminate('postgresql', 10, @orphans) if @orphans;
    for my $lock ("$data/postmaster.pid", glob($self->pg_sock . '/.s.PGSQL.*.lock')) {
        next unless -f $lock;
        unlink $lock unless process_runs(_read_pid($lock), $PROGRAMS{postgresql});
    }
}

sub wait_healthy {
    my ($self, $timeout) = @_;
    $self->wait_for(sub {
        my $res = $self->ua->get($self->url('/api/health'))->res;
        return ($res->code // 0) == 200 && ((eval { $res->json } // {})->{database}{status} // '') eq 'ok';
    }, $timeout // 30, 'GET /api/health to answer 200 with the database healthy', 'fcgi-1');
}

# One request straight to a responder's socket, through libfcgi's cgi-fcgi bridge (no web
# server in between). Returns (status, headers hash, body).
sub fcgi_request {
    my ($self, %r) = @_;
    my $sock = $r{socket} // $self->socket_path(1);
    my $body = $r{body} // '';
    local %ENV = (
        %ENV,
        REQUEST_METHOD => $r{method} // 'GET',
        REQUEST_URI    => $r{uri} // '/',
        QUERY_STRING   => ($r{uri} // '') =~ /\?(.*)/ ? $1 : '',
        CONTENT_LENGTH => length $body,
        (length $body ? (CONTENT_TYPE => 'application/json') : ()),
        REMOTE_ADDR    => $r{remote_addr} // '127.0.0.1',
        %{ $r{env} // {} },
    );
    require IPC::Open2;
    # cgi-fcgi complains on stderr when the socket refuses; the caller sees status 0.
    open my $null, '>', '/dev/null';
    local *STDERR = $null;
    my $pid = IPC::Open2::open2(my $out, my $in, 'cgi-fcgi', '-bind', '-connect', $sock);
    print {$in} $body;
    close $in;
    local $/;
    my $raw = <$out> // '';
    waitpid $pid, 0;
    return _parse_cgi($raw);
}

sub _parse_cgi {
    my $raw = shift;
    my ($head, $body) = split /\r?\n\r?\n/, $raw, 2;
    my %h;
    # CGI's default status is 200, but only for an answer that has a header block.
    my $status = defined $body ? 200 : 0;
    for my $line (split /\r?\n/, $head // '') {
        my ($k, $v) = $line =~ /^([^:]+):\s*(.*)$/ or next;
        if (lc $k eq 'status') { ($status) = $v =~ /^(\d+)/ }
        else { $h{lc $k} = exists $h{lc $k} ? "$h{lc $k}\n$v" : $v }
    }
    return ($status, \%h, $body // '');
}

# --- first-run setup and credentials --------------------------------------------------

# The bootstrap token the worker writes while no credential exists.
sub bootstrap_token {
    my ($self, $timeout) = @_;
    my $file = "$self->{dir}/data/.bootstrap_token";
    $self->wait_for(sub { -s $file }, $timeout // 20, 'the bootstrap token file', 'worker-1');
    open my $fh, '<', $file or croak "$file: $!";
    my $t = <$fh>;
    chomp $t;
    return $t;
}

# Completes first-run setup; returns a hash with user, password and the API token.
sub setup_admin {
    my ($self, %opt) = @_;
    my %cred = (
        user     => $opt{user} // 'admin',
        password => $opt{password} // 'correct horse battery staple',
        token    => $opt{token} // ('setup' . join('', map { sprintf '%02x', int rand 256 } 1 .. 24)),
    );
    my $res = $self->ua->post($self->url('/api/security/quick-setup') =>
        { 'X-Setup-Token' => $self->bootstrap_token } =>
        json => { username => $cred{user}, password => $cred{password}, apiToken => $cred{token} })->result;
    croak 'quick-setup failed: ' . $res->code . ' ' . $res->body unless $res->code == 200;
    $self->{admin} = \%cred;
    return \%cred;
}

# A new user agent (its own cookie jar) logged in as the admin; returns (ua, csrf token).
sub login {
    my ($self, %opt) = @_;
    require Mojo::UserAgent;
    my $ua = Mojo::UserAgent->new(insecure => 1, request_timeout => 60, max_redirects => 0);
    my $cred = $self->{admin} or croak 'no admin set up';
    my $res = $ua->post(($opt{base} // $self->base_url) . '/api/login' =>
        json => { username => $opt{user} // $cred->{user}, password => $opt{password} // $cred->{password},
            rememberMe => $opt{remember} ? Mojo::JSON::true() : Mojo::JSON::false() })->result;
    croak 'login failed: ' . $res->code . ' ' . $res->body unless $res->code == 200;
    return ($ua, $res->headers->header('X-CSRF-Token'), $res);
}

# Headers for the admin's API token.
sub token_headers {
    my ($self, $token) = @_;
    return { 'X-API-Token' => $token // $self->{admin}{token} };
}

# A new API token with the given scopes, made with the admin token: {raw, id, headers} with
# headers as an agent sends them (X-API-Token and Authorization: Bearer).
sub agent_token {
    my ($self, $name, @scopes) = @_;
    my $res = $self->ua->post($self->url('/api/security/tokens') => $self->token_headers
        => json => { name => $name, scopes => \@scopes })->result;
    croak "token $name: " . $res->code . ' ' . $res->body unless $res->code == 200;
    my $raw = $res->json->{token};
    return { raw => $raw, id => $res->json->{record}{id},
        headers => { 'X-API-Token' => $raw, Authorization => "Bearer $raw" } };
}

# Test licences (security.md §11): one throw-away Ed25519 key pair per test process, made by
# t/tools/mint-licence. licence_public_key() is the license_public_key setting to start a
# stack with; mint_licence(%claims) signs a key (lid, email and tier defaulted: an enterprise
# licence that never expires); activate_licence(%claims) activates one with the admin token.
my ($licence_dir, $licence_pub);
sub licence_public_key {
    return $licence_pub if $licence_pub;
    require File::Temp;
    $licence_dir = File::Temp::tempdir(CLEANUP => 1);
    my $mint = srcdir() . '/t/tools/mint-licence';
    chomp($licence_pub = qx{'$mint' keygen '$licence_dir/licence.pem'});
    croak 'mint-licence keygen failed' unless $licence_pub =~ m{^[A-Za-z0-9+/]{43}=$};
    return $licence_pub;
}

sub mint_licence {
    my (%claims) = @_;
    require Mojo::JSON;
    licence_public_key();
    my $json = Mojo::JSON::encode_json({ lid => 'test-licence', email => 'test@example.com',
        tier => 'enterprise', %claims });
    $json =~ s/'/'\\''/g;
    my $mint = srcdir() . '/t/tools/mint-licence';
    chomp(my $key = qx{'$mint' sign '$licence_dir/licence.pem' '$json'});
    croak 'mint-licence sign failed' unless $key =~ /^[\w-]+\.[\w-]+\.[\w-]+$/;
    return $key;
}

sub activate_licence {
    my ($self, %claims) = @_;
    my $res = $self->ua->post($self->url('/api/license/activate') => $self->token_headers
        => json => { license_key => mint_licence(%claims) })->result;
    croak 'licence activation: ' . $res->code . ' ' . $res->body unless $res->code == 200;
    return $res->json->{status};
}

# hex(SHA3-256(s)) through the openssl command (Perl's core has no SHA-3).
sub sha3_hex {
    my ($self, $s) = @_;
    require IPC::Open2;
    my $pid = IPC::Open2::open2(my $out, my $in, 'openssl', 'dgst', '-sha3-256', '-r');
    print {$in} $s;
    close $in;
    my $line = <$out>;
    waitpid $pid, 0;
    my ($hex) = $line =~ /^([0-9a-f]{64})/;
    return $hex;
}

# --- the Proxmox simulator ---------------------------------------------------------------

# The workspace's shared fixtures: ../shared/fixtures beside the checkout (a distcheck build
# sits one level deeper, hence the parent's too), or PULSE_FIXTURES.
sub fixtures_dir {
    my @try = grep { defined } ($ENV{PULSE_FIXTURES}, srcdir() . '/../shared/fixtures',
        srcdir() . '/../../shared/fixtures', '/work/shared/fixtures');
    for my $d (@try) { return abs_path($d) if -d "$d/proxmox-recorded" }
    croak "fixtures not found (tried @try; set PULSE_FIXTURES)";
}

# Starts t/fakes/pve-sim.pl with its own self-signed certificate. Options: name, replay
# (e.g. 'pve8x'), nodes, guests, token ('user@realm!id=secret'), password ('user@realm:pw').
# Returns a hash: url, port, fingerprint (SHA-256 of its certificate), name.
sub start_sim {
    my ($self, %o) = @_;
    my $name = $o{name} // 'sim';
    my $port = $o{port} // free_port();
    my ($crt, $key, $fp) = $self->_sim_cert($name);
    my $addr = $o{host} // '127.0.0.1';
    my @cmd = ($^X, srcdir() . '/t/fakes/pve-sim.pl', '--listen', "https://$addr:$port",
        '--cert', $crt, '--key', $key);
    push @cmd, '--replay', fixtures_dir() . "/proxmox-recorded/$o{replay}" if $o{replay};
    push @cmd, '--nodes', $o{nodes}, '--guests', $o{guests} // 0 if $o{nodes};
    push @cmd, '--token', $o{token} if $o{token};
    push @cmd, '--password', $o{password} if $o{password};
    push @cmd, '--cluster', $o{cluster} if $o{cluster};
    push @cmd, '--member-ips', join(',', @{ $o{member_ips} }) if $o{member_ips};
    push @cmd, '--mgmt-ips', join(',', @{ $o{mgmt_ips} }) if $o{mgmt_ips};
    push @cmd, '--ceph' if $o{ceph};
    $self->spawn("sim-$name", {}, @cmd);
    $self->wait_for(sub { _port_open($port, $addr) }, 20, "simulator $name", "sim-$name");
    return { url => "https://$addr:$port", port => $port, fingerprint => $fp, name => $name };
}

# Starts bench/pve-sim (the C simulator of pve-sim.pl's generated cluster, for the scale
# benchmarks) with its own certificate, or with simulator cert_of's. Options: name (default
# 'csim'), cert_of, port, nodes, guests, token, cluster. Returns the same hash as start_sim.
sub start_c_sim {
    my ($self, %o) = @_;
    my $name = $o{name} // 'csim';
    my $port = $o{port} // free_port();
    my ($crt, $key, $fp) = $self->_sim_cert($o{cert_of} // $name);
    my $prog = builddir() . '/bench/pve-sim';
    croak "$prog is not built (make bench/pve-sim)" unless -x $prog;
    my @cmd = ($prog, '--listen', "https://127.0.0.1:$port", '--cert', $crt, '--key', $key,
        '--nodes', $o{nodes} // 1, '--guests', $o{guests} // 0);
    push @cmd, '--token', $o{token} if $o{token};
    push @cmd, '--cluster', $o{cluster} if $o{cluster};
    push @cmd, '--drift' if $o{drift};
    $self->spawn("sim-$name", {}, @cmd);
    $self->wait_for(sub { _port_open($port) }, 20, "simulator $name", "sim-$name");
    return { url => "https://127.0.0.1:$port", port => $port, fingerprint => $fp, name => $name };
}

# For every simulator: the directories a simulator needs (a stack made with new()
# and never started has none yet), its own self-signed certificate and that certificate's
# SHA-256 fingerprint (lower-case hex without colons). Returns (cert, key, fingerprint).
sub _sim_cert {
    my ($self, $name) = @_;
    make_path($self->log_dir, $self->run_dir, "$self->{dir}/tls");
    chmod 0700, "$self->{dir}/tls";
    my ($crt, $key) = ("$self->{dir}/tls/$name.crt", "$self->{dir}/tls/$name.key");
    unless (-f $crt) {
        my ($rc, $out) = $self->run_cmd('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
            'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30', '-subj', "/CN=$name",
            '-keyout', $key, '-out', $crt);
        croak "openssl: $out" if $rc;
    }
    my ($rc, $fp) = $self->run_cmd('openssl', 'x509', '-in', $crt, '-noout', '-fingerprint', '-sha256');
    croak "openssl: $fp" if $rc;
    $fp =~ s/.*=//s;
    $fp =~ s/[:\s]//g;
    return ($crt, $key, lc $fp);
}

sub _start_fake {
    my ($self, $script, $name, $port, @args) = @_;
    my ($crt, $key, $fp) = $self->_sim_cert($name);
    $self->spawn("sim-$name", {}, $^X, srcdir() . "/t/fakes/$script", '--listen', "https://127.0.0.1:$port",
        '--cert', $crt, '--key', $key, @args);
    $self->wait_for(sub { _port_open($port) }, 20, "simulator $name", "sim-$name");
    return { url => "https://127.0.0.1:$port", port => $port, fingerprint => $fp, name => $name };
}

# Starts t/fakes/pbs-sim.pl (a Proxmox Backup Server with synthetic data) with its own
# self-signed certificate. Options: name (default 'pbs'), port, token
# ('user@realm!tokenid:secret'), password ('user@realm:pw'), datastores, groups, namespaces
# (true: adds namespaces), seed, advance (seconds per new snapshot), snapshot_files
# ('objects' or 'names'), now (epoch the generated history ends at). Works on a stack made
# with new() alone. Returns the same hash as start_sim: url, port, fingerprint, name.
sub start_pbs_sim {
    my ($self, %o) = @_;
    my @args;
    push @args, '--datastores', $o{datastores} if defined $o{datastores};
    push @args, '--groups', $o{groups} if defined $o{groups};
    push @args, '--namespaces' if $o{namespaces};
    push @args, '--seed', $o{seed} if defined $o{seed};
    push @args, '--advance', $o{advance} if $o{advance};
    push @args, '--now', $o{now} if defined $o{now};
    push @args, '--snapshot-files', $o{snapshot_files} if $o{snapshot_files};
    push @args, '--token', $o{token} if $o{token};
    push @args, '--password', $o{password} if $o{password};
    return $self->_start_fake('pbs-sim.pl', $o{name} // 'pbs', $o{port} // free_port(), @args);
}

# Starts t/fakes/pmg-sim.pl (a Proxmox Mail Gateway with synthetic data) likewise. Options:
# name (default 'pmg'), port, token ('user@realm!tokenid:secret'), password ('user@realm:pw'),
# nodes (N > 1: a cluster of a master and N-1 nodes), seed, now. Returns url, port,
# fingerprint, name.
sub start_pmg_sim {
    my ($self, %o) = @_;
    my @args;
    push @args, '--nodes', $o{nodes} if defined $o{nodes};
    push @args, '--seed', $o{seed} if defined $o{seed};
    push @args, '--now', $o{now} if defined $o{now};
    push @args, '--token', $o{token} if $o{token};
    push @args, '--password', $o{password} if $o{password};
    return $self->_start_fake('pmg-sim.pl', $o{name} // 'pmg', $o{port} // free_port(), @args);
}

# Starts t/fakes/webhook-sink.pl, a webhook receiver that records every request (see its head
# comment for the paths and control routes). Options: name (default 'sink'), port, https
# (true: TLS with its own self-signed certificate). Returns url, port, name (and fingerprint
# with https).
sub start_webhook_sink {
    my ($self, %o) = @_;
    my $name = $o{name} // 'sink';
    my $port = $o{port} // free_port();
    return $self->_start_fake('webhook-sink.pl', $name, $port) if $o{https};
    make_path($self->log_dir, $self->run_dir);
    $self->spawn("sim-$name", {}, $^X, srcdir() . '/t/fakes/webhook-sink.pl', '--listen',
        "http://127.0.0.1:$port");
    $self->wait_for(sub { _port_open($port) }, 20, "webhook sink $name", "sim-$name");
    return { url => "http://127.0.0.1:$port", port => $port, name => $name };
}

# Starts t/fakes/release-feed.pl (a release feed and download server whose answers the test
# sets through its /__feed/ routes) on a loopback port. Options: name (default 'feed'), port.
# Returns url, port and name.
sub start_release_feed {
    my ($self, %o) = @_;
    my $name = $o{name} // 'feed';
    my $port = $o{port} // free_port();
    make_path($self->log_dir, $self->run_dir);
    $self->spawn("sim-$name", {}, $^X, srcdir() . '/t/fakes/release-feed.pl', '--listen',
        "http://127.0.0.1:$port");
    $self->wait_for(sub { _port_open($port) }, 20, "release feed $name", "sim-$name");
    return { url => "http://127.0.0.1:$port", port => $port, name => $name };
}

# Starts t/fakes/oidc-provider.mjs, a real OpenID provider (npm's oidc-provider, installed in
# t/oidc/node_modules by ./quickstart test), on a loopback port; its users, clients and test
# controls are described in its head comment. Options: name (default 'oidc'), port, redirect
# (the redirect URI its clients accept; default this stack's /api/oidc/callback), huge_jwks.
# Returns url (the issuer), port and name.
sub start_oidc_provider {
    my ($self, %o) = @_;
    my $name = $o{name} // 'oidc';
    my $port = $o{port} // free_port();
    my $modules = srcdir() . '/t/oidc/node_modules';
    croak "npm's oidc-provider is not installed in $modules (./quickstart test installs it)"
        unless -d "$modules/oidc-provider";
    make_path($self->log_dir, $self->run_dir);
    $self->spawn("sim-$name", {}, 'node', srcdir() . '/t/fakes/oidc-provider.mjs', '--port', $port,
        '--redirect', $o{redirect} // $self->url('/api/oidc/callback'), '--modules', $modules,
        $o{huge_jwks} ? ('--huge-jwks') : ());
    $self->wait_for(sub { _port_open($port) }, 30, "OIDC provider $name", "sim-$name");
    return { url => "http://127.0.0.1:$port", port => $port, name => $name };
}

# Starts an OIDC login as user on this stack (GET /api/oidc/login) and follows the provider's
# redirects and forms (t/fakes/oidc-provider.mjs: any password) with a cookie jar, up to the
# redirect back to the stack. Options: return_to. Returns (user agent, the callback URL not yet
# visited). Mojo's cookie jar drops a cookie whose path is not a prefix of the request's path
# (RFC 6265 has no such rule, and the provider sets /interaction/<uid> cookies from /auth):
# every cookie is kept here.
sub oidc_to_callback {
    my ($self, $user, %o) = @_;
    require Mojo::UserAgent;
    require Mojo::URL;
    require Mojo::Cookie::Response;
    require Mojo::Util;
    my $ua = Mojo::UserAgent->new(insecure => 1, max_redirects => 0, request_timeout => 30);
    my $keep = sub {
        my ($res, $from) = @_;
        $ua->cookie_jar->add(Mojo::Cookie::Response->new(name => $_->name, value => $_->value,
            domain => $from->host, host_only => 1, path => $_->path // '/')) for @{ $res->cookies };
    };
    my $start = '/api/oidc/login' . ($o{return_to} ? '?returnTo=' . Mojo::Util::url_escape($o{return_to}) : '');
    my $res = $ua->get($self->url($start))->result;
    croak 'login start: ' . $res->code . ' ' . $res->body unless $res->code == 302;
    my $loc = Mojo::URL->new($res->headers->location);
    for (1 .. 20) {
        return ($ua, $loc) if index($loc, $self->base_url) == 0;
        $res = $ua->get($loc)->result;
        $keep->($res, $loc);
        if ($res->code >= 300 && $res->code < 400) {
            $loc = Mojo::URL->new($res->headers->location)->to_abs($loc);
            next;
        }
        croak "provider page $loc: " . $res->code . ' ' . substr($res->body, 0, 300) unless $res->code == 200;
        my $form = $res->dom->at('form') or croak "no form at $loc: " . substr($res->body, 0, 300);
        my %f = map { ($_->attr('name') => $_->attr('value') // '') } $form->find('input[type=hidden]')->each;
        @f{qw(login password)} = ($user, 'any password') if $form->at('input[name=login]');
        my $action = Mojo::URL->new($form->attr('action'))->to_abs($loc);
        $res = $ua->post($action => form => \%f)->result;
        $keep->($res, $action);
        croak "form post $action: " . $res->code . ' ' . substr($res->body, 0, 300)
            unless $res->code >= 300 && $res->code < 400;
        $loc = Mojo::URL->new($res->headers->location)->to_abs($action);
    }
    croak 'too many provider pages';
}

# Starts t/fakes/lean-sink.py, a webhook receiver with little CPU per request (for
# benchmarks): every request answered 200 and recorded; GET /__sink/stats and
# /__sink/requests as webhook-sink.pl's. Returns url, port and name.
sub start_lean_sink {
    my ($self, %o) = @_;
    my $name = $o{name} // 'lean-sink';
    my $port = $o{port} // free_port();
    make_path($self->log_dir, $self->run_dir);
    $self->spawn("sim-$name", {}, 'python3', srcdir() . '/t/fakes/lean-sink.py', $port);
    $self->wait_for(sub { _port_open($port) }, 20, "lean sink $name", "sim-$name");
    return { url => "http://127.0.0.1:$port", port => $port, name => $name };
}

# Starts a second nginx standing for an operator's own web site in front of the stack (for
# the UI under a sub-path, docs/UI.md): HTTPS on its own loopback port with the stack's
# certificate, "/" answering a page of its own, any other path 404, and $locations (nginx
# text for its server block, e.g. "location /pulse/ { proxy_pass https://127.0.0.1:PORT/; }")
# added. Runs in the foreground under spawn ("front" in pids), so stop() ends it. Options:
# name (default 'front'). Returns url and port.
sub start_front_proxy {
    my ($self, $locations, %o) = @_;
    my $name = $o{name} // 'front';
    my $port = free_port();
    my $run = $self->run_dir . "/$name";
    make_path($run);
    $self->make_cert;
    open my $fh, '>', "$run/nginx.conf" or croak "$run/nginx.conf: $!";
    print {$fh} join("\n",
        "# written by PulseStack: an operator's own site with Pulse under a sub-path",
        ($self->{root} ? "user $self->{web_user};" : ()),
        'worker_processes 1;', "pid $run/nginx.pid;",
        'error_log ' . $self->log_dir . "/$name-error.log warn;",
        'events { worker_connections 256; }',
        'http {',
        '    include /etc/nginx/mime.types;',
        '    access_log ' . $self->log_dir . "/$name-access.log;",
        (map { "    ${_}_temp_path $run/$_;" } qw(client_body proxy fastcgi uwsgi scgi)),
        '    server {',
        "        listen 127.0.0.1:$port ssl http2;",
        "        ssl_certificate $self->{cert};",
        "        ssl_certificate_key $self->{key};",
        '        location = / { default_type text/html; return 200 "<!doctype html><title>The operator\'s site</title>"; }',
        '        location / { return 404; }',
        $locations,
        '    }',
        '}', ''), "\n";
    close $fh;
    $self->spawn($name, {}, 'nginx', '-c', "$run/nginx.conf", '-p', $run, '-e',
        $self->log_dir . "/$name-error.log", '-g', 'daemon off;');
    $self->wait_for(sub { _port_open($port) }, 10, "the front nginx on port $port", "$name-error");
    return { url => "https://127.0.0.1:$port", port => $port, name => $name };
}

# Tells a simulator to misbehave (POST /__sim/mode): the modes are listed in t/lib/ProxmoxSim.pm
# and, for the product-specific ones, in the simulator's head comment.
sub sim_mode {
    my ($self, $sim, %m) = @_;
    # A kept-alive connection the simulator closes just as it is reused ends in "Premature
    # connection close" (seen under load): one more try on a new connection.
    my $tx = $self->ua->post("$sim->{url}/__sim/mode" => json => \%m);
    $tx = $self->ua->post("$sim->{url}/__sim/mode" => { Connection => 'close' } => json => \%m)
        if !$tx->res->code;
    croak 'sim mode failed: ' . ($tx->error // {})->{message} unless $tx->res->is_success;
}

# Sets a simulated node's or guest's metrics (POST /__sim/metrics, see t/fakes/pve-sim.pl);
# returns the answer (a Mojo::Message::Response).
sub sim_metrics {
    my ($self, $sim, %m) = @_;
    return $self->ua->post("$sim->{url}/__sim/metrics" => json => \%m)->result;
}

# Polls GET /api/state (with the admin token) until cond(state) holds; returns the state.
sub wait_state {
    my ($self, $cond, $timeout, $what) = @_;
    my $state;
    $self->wait_for(sub {
        my $res = $self->ua->get($self->url('/api/state') => $self->token_headers)->result;
        return 0 unless $res->code == 200;
        $state = $res->json;
        return $cond->($state);
    }, $timeout // 30, $what // 'the state', 'worker-1');
    return $state;
}

# --- shutdown -------------------------------------------------------------------------

sub stop {
    my $self = shift;
    return if $self->{stopped}++;
    for my $name (grep { /^(nginx|apache)$/ } keys %{ $self->{pids} }) {
        kill 'TERM', $self->{pids}{$name};
    }
    for my $name (keys %{ $self->{pids} }) {
        next if $name =~ /^(nginx|apache)$/;
        $self->stop_program($name, 'TERM', 20) // $self->stop_program($name, 'KILL', 5);
    }
    for my $name (qw(nginx apache)) {
        my $pid = delete $self->{pids}{$name} or next;
        my $deadline = time + 10;
        sleep 0.05 while kill(0, $pid) && time < $deadline;
        unlink $self->run_dir . "/$name.pid";
    }
    $self->pg_stop;
    $self->standby_stop if $self->{standby};
    remove_tree($self->{dir}) if $self->{temporary} && !$self->{keep} && !$ENV{PULSE_KEEP_STACK};
}

sub DESTROY {
    my $self = shift;
    return unless $self->{owner_pid} == $$;
    local ($?, $@);
    $self->stop;
}


# Alert tests: the alert configuration changed by top-level keys (GET, change, PUT); the PUT
# result. The active alerts (GET /api/alerts/active). n more successful polls of an instance.
sub alert_config_change {
    my ($self, %change) = @_;
    my $cfg = $self->ua->get($self->url('/api/alerts/config') => $self->token_headers)->result->json;
    $cfg->{$_} = $change{$_} for keys %change;
    return $self->ua->put($self->url('/api/alerts/config') => $self->token_headers => json => $cfg)->result;
}

sub alerts_active {
    my $self = shift;
    my $r = $self->ua->get($self->url('/api/alerts/active') => $self->token_headers)->result;
    croak 'GET /api/alerts/active: ' . $r->code unless $r->code == 200;
    return $r->json;
}

sub wait_polls {
    my ($self, $instance_id, $n) = @_;
    my $q = "SELECT coalesce(extract(epoch FROM last_success), 0) FROM pulse.poll_status WHERE instance_id = '$instance_id'";
    for (1 .. $n) {
        my $was = $self->psql($q) || 0;
        $self->wait_for(sub { ($self->psql($q) || 0) > $was }, 20, 'a poll', 'worker-1');
    }
}

# --- a streaming-replication standby: new(standby => 1, sync => 1) ------------------------
#
# standby => 1 gives the stack a second PostgreSQL under pg2/ (a pg_basebackup -R copy of the
# primary streaming through the replication slot pulse_standby, hot standby on its own socket
# and port); sync => 1 makes the primary wait for it at every commit (synchronous_standby_names
# and synchronous_commit = on, set on the primary only, so that a promoted standby does not
# wait for a standby it has not got). Both modes commit with synchronous_commit = on on the
# primary, as a production primary would. Our programs and psql() get both hosts in one
# multi-host conninfo with target_session_attrs=read-write: libpq skips the one in recovery.

sub pg_bin { $PG_BIN }
sub pg2_sock { "$_[0]{dir}/pg2/socket" }
sub pg2_data { "$_[0]{dir}/pg2/data" }

sub ha_conninfo {
    my $s = shift;
    return "host=" . $s->pg_sock . ',' . $s->pg2_sock . " port=$s->{pg_port},$s->{pg2_port} "
        . "dbname=pulse user=pulse target_session_attrs=read-write";
}

# Runs SQL through psql with a conninfo (a single server's, or the multi-host one); returns the
# unaligned output, croaks on failure.
sub psql_at {
    my ($self, $conninfo, $sql) = @_;
    my ($rc, $out) = $self->run_cmd("$PG_BIN/psql", '-X', '-q', '-d', $conninfo, '-v',
        'ON_ERROR_STOP=1', '-tAc', $sql);
    croak "psql failed: $out" if $rc;
    chomp $out;
    return $out;
}

sub primary_conninfo { my $s = shift; "host=" . $s->pg_sock . " port=$s->{pg_port} dbname=postgres user=pulse" }
sub standby_conninfo { my $s = shift; "host=" . $s->pg2_sock . " port=$s->{pg2_port} dbname=postgres user=pulse" }

sub _pg_owned_dir {
    my ($self, $dir, $mode) = @_;
    make_path($dir);
    if ($self->{root}) {
        my ($uid, $gid) = (getpwnam($self->{pg_user}))[2, 3];
        chown $uid, $gid, $dir;
    }
    chmod $mode, $dir;
}

# Makes (once) and starts the standby, waits until it streams, then turns synchronous
# replication on if asked. Called by start() after the primary is up.
sub standby_start {
    my $self = shift;
    my $data = $self->pg2_data;
    $self->psql_at($self->primary_conninfo, q{SELECT pg_create_physical_replication_slot('pulse_standby')
        WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = 'pulse_standby')});
    $self->_pg_owned_dir("$self->{dir}/pg2", 0755);
    unless (-f "$data/PG_VERSION") {
        my ($rc, $out) = $self->run_cmd($self->as_pg_user("$PG_BIN/pg_basebackup", '-h', $self->pg_sock,
            '-p', $self->{pg_port}, '-U', 'pulse', '-D', $data, '-R', '-S', 'pulse_standby', '-X', 'stream',
            '-c', 'fast', '--no-sync'));
        croak "pg_basebackup failed: $out" if $rc;
        open my $fh, '>>', "$data/postgresql.conf" or croak $!;
        print {$fh} "port = $self->{pg2_port}\nunix_socket_directories = '" . $self->pg2_sock . "'\n"
            . "cluster_name = 'pulse_standby'\nhot_standby = on\n";
        close $fh;
    }
    $self->_pg_owned_dir($self->pg2_sock, 0700);
    my $log = $self->log_dir . '/postgresql-standby.log';
    unless (-e $log) { open my $t, '>', $log; close $t }
    if ($self->{root}) {
        my ($uid, $gid) = (getpwnam($self->{pg_user}))[2, 3];
        chown $uid, $gid, $log;
    }
    my ($rc, $out) = $self->run_cmd($self->as_pg_user("$PG_BIN/pg_ctl", '-D', $data, '-l', $log, '-w',
        '-t', '60', 'start'));
    croak "the standby did not start: $out" if $rc;
    $self->wait_for(sub {
        $self->psql_at($self->primary_conninfo, q{SELECT count(*) FROM pg_stat_replication
            WHERE application_name = 'pulse_standby' AND state = 'streaming'}) == 1
    }, 30, 'the standby to stream', 'postgresql-standby');
    $self->psql_at($self->primary_conninfo, "ALTER SYSTEM SET synchronous_commit = 'on'");
    $self->psql_at($self->primary_conninfo, "ALTER SYSTEM SET synchronous_standby_names = 'pulse_standby'")
        if $self->{sync};
    $self->psql_at($self->primary_conninfo, 'SELECT pg_reload_conf()');
    if ($self->{sync}) {
        $self->wait_for(sub {
            $self->psql_at($self->primary_conninfo, q{SELECT sync_state FROM pg_stat_replication
                WHERE application_name = 'pulse_standby'}) eq 'sync'
        }, 30, 'the standby to be synchronous', 'postgresql-standby');
    }
}

sub standby_stop {
    my ($self, $mode) = @_;
    return unless -f $self->pg2_data . '/postmaster.pid';
    $self->run_cmd($self->as_pg_user("$PG_BIN/pg_ctl", '-D', $self->pg2_data, '-m', $mode // 'fast', '-w',
        '-t', '60', 'stop'));
}

# The primary's machine dies: SIGKILL to its postmaster and every server process of its
# cluster at once (none gets to close a connection or send more WAL). Returns how many
# processes were killed once they are gone.
sub kill_primary {
    my $self = shift;
    my $data = abs_path("$self->{dir}/pg/data");
    my @pids = grep { (readlink("/proc/$_/cwd") // '') eq $data }
        grep { process_runs($_, $PROGRAMS{postgresql}) } _all_pids();
    kill 'KILL', @pids;
    $self->wait_for(sub { !grep { process_runs($_, $PROGRAMS{postgresql}) } @pids }, 10,
        'the primary\'s processes to die');
    return scalar @pids;
}

# pg_ctl promote on the standby, waiting until it accepts writes.
sub promote_standby {
    my $self = shift;
    my ($rc, $out) = $self->run_cmd($self->as_pg_user("$PG_BIN/pg_ctl", '-D', $self->pg2_data, '-w',
        '-t', '60', 'promote'));
    croak "promote failed: $out" if $rc;
}

# The standby's replay position has reached the primary's current WAL position.
sub standby_caught_up {
    my $self = shift;
    my $lsn = $self->psql_at($self->primary_conninfo, 'SELECT pg_current_wal_lsn()');
    $self->wait_for(sub {
        $self->psql_at($self->standby_conninfo, "SELECT pg_last_wal_replay_lsn() >= '$lsn'") eq 't'
    }, 30, 'the standby to replay the primary\'s WAL', 'postgresql-standby');
}


# Alerts delivered to a webhook at once (the soak and the drills): loopback allowed as a
# webhook address, a generic webhook to the sink's /name, no time thresholds, flapping off,
# minimumDelta 0.001, no hourly cap, recoveries notified, no grouping, cooldown (minutes,
# default 5); then activated. Croaks when a step fails.
sub alerts_to_webhook {
    my ($self, $sink, %o) = @_;
    require Mojo::JSON;
    my $name = $o{name} // 'alerts';
    my $auth = $self->token_headers;
    my $check = sub {
        my ($what, $res) = @_;
        croak "$what: " . $res->code . ' ' . $res->body unless $res->is_success;
    };
    $check->('webhook allowlist', $self->ua->post($self->url('/api/system/settings/update') => $auth
        => json => { webhookAllowedPrivateCIDRs => '127.0.0.1' })->result);
    $check->('webhook', $self->ua->post($self->url('/api/notifications/webhooks') => $auth => json => {
        name => $name, url => "$sink->{url}/$name", service => 'generic', enabled => Mojo::JSON::true() })->result);
    my $cfg = $self->ua->get($self->url('/api/alerts/config') => $auth)->result->json;
    $cfg->{timeThresholds} = { guest => 0, node => 0, storage => 0, pbs => 0 };
    $cfg->{flappingEnabled} = Mojo::JSON::false();
    $cfg->{minimumDelta} = 0.001;
    $cfg->{schedule}{cooldown} = $o{cooldown} // 5;
    $cfg->{schedule}{maxAlertsHour} = 0;
    $cfg->{schedule}{notifyOnResolve} = Mojo::JSON::true();
    $cfg->{schedule}{grouping} = { enabled => Mojo::JSON::false(), window => 0, byNode => Mojo::JSON::false(),
        byGuest => Mojo::JSON::false() };
    $check->('alert config', $self->ua->put($self->url('/api/alerts/config') => $auth => json => $cfg)->result);
    $check->('alert activation', $self->ua->post($self->url('/api/alerts/activate') => $auth)->result);
}

1;
