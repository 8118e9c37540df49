#!/usr/bin/perl
# 19-deploy.t: the README's deployment path, step by step, as far as a machine without
# systemd allows. Each step's commands must appear in README.md word for word; the test runs
# them with the machine's directories moved into a scratch root: `make install DESTDIR=`,
# the service user the way `make install` creates it, the role and database created by
# `postgres` in a private cluster with peer authentication, the settings, the certificate,
# the migration as the service user, both daemons run the way their installed units say
# (user, groups, directories, environment, commands), copies of Debian's nginx and Apache
# configurations with the sites rendered from the installed templates, first-run setup with
# the bootstrap token from data_dir, then GET /api/state with the token through nginx and
# Apache. Also: nginx answers a too-large body over HTTP/2 with our JSON 413, Apache's
# ServerName is the operator's and its 503 says 503, `make uninstall` leaves /etc/pulse.
# Outside the scratch root it creates one thing, as make install does: the system user pulse
# when there is none (one that exists is used as it is).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Path qw(make_path);
use Mojo::JSON qw(decode_json);
use Test::More;
use PulseStack;

plan skip_all => 'needs root: runs programs as the users pulse, postgres and www-data' if $> != 0;
for my $tool (qw(setpriv runuser curl nginx apache2 a2enmod openssl)) {
    plan skip_all => "$tool not found" unless grep { -x "$_/$tool" } split /:/, "$ENV{PATH}:/usr/sbin:/sbin";
}

my $src = PulseStack::srcdir();
my $build = PulseStack::builddir();
my $readme = do { local (@ARGV, $/) = "$src/README.md"; <> };
# A scratch directory from the harness (removed at the end, with what runs in it stopped).
my $stack = PulseStack->new(nginx => 0);
my $dir = $stack->dir;
chmod 0755, $dir;
my $root = "$dir/root";    # the machine's / for this test
make_path("$root/etc", "$root/run", "$root/var/lib", "$root/var/log/nginx", "$root/var/log/apache2",
    $stack->log_dir, $stack->run_dir);
chmod 0755, $root, "$root/etc", "$root/run", "$root/var", "$root/var/lib";
my ($nginx_port, $apache_port, $pg_port) = map { PulseStack::free_port() } 1 .. 3;
my $pg_sock = "$dir/pg/socket";

# The build's installation directories, from its Makefile (make distcheck uses its own).
my %make_var;
{
    open my $fh, '<', "$build/Makefile" or die "$build/Makefile: $!";
    while (<$fh>) { $make_var{$1} = $2 if /^(\w+) = (.*?)\s*$/ }
}
sub make_dir {
    my $v = $make_var{ $_[0] } // die "no $_[0] in the Makefile";
    1 while $v =~ s/\$[({](\w+)[)}]/$make_var{$1} \/\/ die "no $1 in the Makefile"/e;
    return $v;
}
my %installed = map { $_ => make_dir($_) } qw(prefix bindir pkgdatadir docdir systemdunitdir);
$installed{sysusersdir} = eval { make_dir('sysusersdir') } // "$installed{prefix}/lib/sysusers.d";

# The README's paths, moved into the scratch root (one pass: a replacement is never replaced
# again). Steps add their own replacements (ports, the database's socket).
my %moved = (
    '/usr/local/bin/'             => "$root$installed{bindir}/",
    '/usr/local/share/pulse/'     => "$root$installed{pkgdatadir}/",
    '/usr/local/share/doc/pulse/' => "$root$installed{docdir}/",
    '/etc/pulse'                  => "$root/etc/pulse",
    '/etc/nginx/'                 => "$root/etc/nginx/",
    '/etc/apache2/'               => "$root/etc/apache2/",
    '/run/pulse/'                 => "$root/run/pulse/",
    '/var/lib/pulse'              => "$root/var/lib/pulse",
    '/var/log/nginx/'             => "$root/var/log/nginx/",
    '/var/log/apache2/'           => "$root/var/log/apache2/",
    'pulse.example.com'           => 'localhost',
);
sub localize {
    my ($text, %extra) = @_;
    my %map = (%moved, %extra);
    my $re = join '|', map { quotemeta } sort { length $b <=> length $a } keys %map;
    $text =~ s/($re)/$map{$1}/g;
    return $text;
}

# The environment of every step: settings from the scratch root (the build's compiled-in
# default is SYSCONFDIR/pulse/pulse.conf), PostgreSQL's client tools aimed at the private
# cluster, Debian's Apache tools at the copy of /etc/apache2.
my %step_env = (
    PULSE_CONFIG           => "$root/etc/pulse/pulse.conf",
    PGHOST                 => $pg_sock,
    PGPORT                 => $pg_port,
    APACHE_CONFDIR         => "$root/etc/apache2",
    APACHE_STATE_DIRECTORY => "$root/var/lib/apache2",
);
delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL)};    # a make of our own, not a sub-make of check's
umask 022;

sub run_sh {
    my ($script, %env) = @_;
    local %ENV = (%ENV, %step_env, %env);
    my $out = qx{bash -e -c @{[ PulseStack::_shq($script) ]} 2>&1};
    return ($? >> 8, $out);
}

# A README step: the commands must be in README.md as they are here; they run moved into the
# scratch root, without the lines that call systemctl (the test does their work itself).
sub step {
    my ($what, $commands, %extra) = @_;
    ok(index($readme, "```sh\n$commands```\n") >= 0, "README.md gives the commands: $what")
        or diag "README.md does not have:\n$commands";
    my $script = localize(join("\n", grep { !/systemctl/ } split /\n/, $commands), %extra);
    my ($rc, $out) = run_sh($script);
    is($rc, 0, $what) or diag "$script\n$out";
    return $out;
}

sub file_text { my $f = shift; open my $fh, '<', $f or return ''; local $/; return <$fh> }

# --- make install, the service user ----------------------------------------------------
my ($rc, $out) = $stack->run_cmd('make', '-C', $build, '--no-print-directory', 'install', "DESTDIR=$root");
is($rc, 0, 'make install DESTDIR=...') or diag $out;
like($out, qr/no service user created \(DESTDIR\)/, 'make install with DESTDIR creates no user');
ok(-x "$root$installed{bindir}/$_", "installed $installed{bindir}/$_") for qw(pulse-fcgi pulse-worker pulse-agent pulse-admin);
ok(-f "$root$installed{pkgdatadir}/grafana/pulse.json", 'the Grafana dashboard is installed');
ok(-f "$root$installed{systemdunitdir}/$_", "installed $installed{systemdunitdir}/$_")
    for qw(pulse-fcgi.service pulse-worker.service pulse-agent.service);
{
    my ($arc, $aout) = $stack->run_cmd("$root$installed{bindir}/pulse-agent", '--version');
    is($arc, 0, 'the installed pulse-agent runs') or diag $aout;
}
ok(-f "$root$installed{docdir}/pulse.conf.example", "pulse.conf.example is in $installed{docdir}");
{
    my $ui = "$root$installed{pkgdatadir}/ui";
    ok(-f "$ui/$_", "the web UI's $_ is installed") for qw(app.js style.css js/overview.js js/state.js);
    like(file_text("$ui/index.html"), qr{src="assets/[0-9a-f]{12}/app\.js"}, 'its index.html is stamped for long-lived caching');
}
ok(-f "$root$installed{sysusersdir}/pulse.conf", "the sysusers.d file is in $installed{sysusersdir}");
like(file_text("$root$installed{sysusersdir}/pulse.conf"), qr/^u pulse - /m, 'it creates the user pulse');
ok(!-e "$root" . make_dir('sysconfdir'), 'make install writes nothing under sysconfdir');
($rc, $out) = $stack->run_cmd('make', '-C', $build, '--no-print-directory', 'install-service-user');
is($rc, 0, 'make install-service-user (what make install runs as root)') or diag $out;
my @pulse = getpwnam('pulse');
ok(@pulse, 'the system user pulse exists') or BAIL_OUT('no user pulse');
ok(defined getgrnam('pulse'), 'the group pulse exists');

# --- PostgreSQL as Debian's: peer authentication on the local socket ---------------------
my $pg_bin = (sort { $b cmp $a } glob('/usr/lib/postgresql/*/bin'))[0];
make_path("$dir/pg");
chown((getpwnam('postgres'))[2, 3], "$dir/pg");
chmod 0755, "$dir/pg";
($rc, $out) = $stack->run_cmd('runuser', '-u', 'postgres', '--', "$pg_bin/initdb", '-D', "$dir/pg/data",
    '--auth-local=peer', '--auth-host=reject', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync');
is($rc, 0, 'initdb as postgres') or diag $out;
{
    open my $fh, '>>', "$dir/pg/data/postgresql.conf" or die $!;
    print {$fh} "listen_addresses = ''\nport = $pg_port\nunix_socket_directories = '$pg_sock'\n",
        "fsync = off\n";
}
like(file_text("$dir/pg/data/pg_hba.conf"), qr/^local\s+all\s+all\s+peer\s*$/m, 'pg_hba: local all all peer');
make_path($pg_sock);
chown((getpwnam('postgres'))[2, 3], $pg_sock);
chmod 0755, $pg_sock;
open my $pglog, '>', "$dir/log/postgresql.log";
close $pglog;
chown((getpwnam('postgres'))[2, 3], "$dir/log/postgresql.log");
($rc, $out) = $stack->run_cmd('runuser', '-u', 'postgres', '--', "$pg_bin/pg_ctl", '-D', "$dir/pg/data",
    '-l', "$dir/log/postgresql.log", '-w', '-t', '60', 'start');
is($rc, 0, 'PostgreSQL starts') or BAIL_OUT("PostgreSQL: $out");
like($readme, qr/peer authentication/, 'README.md explains peer authentication');

step('the role and the database, created by postgres', <<'SH');
runuser -u postgres -- createuser pulse
runuser -u postgres -- createdb -O pulse pulse
SH

# --- settings, certificate ---------------------------------------------------------------
# fastcgi_peers is refused as an unknown key by a responder that does not know it yet.
my $peers_known = `$build/fcgi/pulse-fcgi -c /dev/null --print-config 2>/dev/null` =~ /fastcgi_peers/;
step('the settings', <<'SH', 'database_url = dbname=pulse' => "database_url = host=$pg_sock port=$pg_port dbname=pulse", ($peers_known ? () : ("fastcgi_peers = www-data\n" => '')));
install -d -m 0755 /etc/pulse
cat > /etc/pulse/pulse.conf <<'EOF'
database_url = dbname=pulse
listen = /run/pulse/fcgi.sock
socket_group = www-data
socket_mode = 0660
fastcgi_peers = www-data
data_dir = /var/lib/pulse
EOF
chgrp pulse /etc/pulse/pulse.conf
chmod 0640 /etc/pulse/pulse.conf
SH
# A DESTDIR install: the compiled-in migrations directory is not where they are.
{
    open my $fh, '>>', "$root/etc/pulse/pulse.conf" or die $!;
    print {$fh} "sql_dir = $root$installed{pkgdatadir}/sql\n";
}
my @st = stat "$root/etc/pulse/pulse.conf";
is(sprintf('%o:%d', $st[2] & 07777, $st[5]), sprintf('640:%d', $pulse[3]), 'pulse.conf: mode 0640, group pulse');
like($readme, qr{/usr/local/share/doc/pulse/pulse\.conf\.example}, 'README.md says where pulse.conf.example is');

step('the certificate', <<'SH');
install -d -m 0700 /etc/pulse/tls
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 -subj /CN=pulse.example.com -addext subjectAltName=DNS:pulse.example.com -keyout /etc/pulse/tls/pulse.key -out /etc/pulse/tls/pulse.crt
SH

# --- the schema and the daemons ----------------------------------------------------------
($rc, $out) = run_sh(localize('/usr/local/bin/pulse-worker --migrate'));
isnt($rc, 0, 'the migration as root is refused (peer authentication)');
step('the migration, as the service user', <<'SH');
runuser -u pulse -- /usr/local/bin/pulse-worker --migrate
systemctl enable --now pulse-worker pulse-fcgi
SH

# A unit's settings: key => [values].
sub unit {
    my $file = "$root$installed{systemdunitdir}/$_[0]";
    my %u;
    for (split /\n/, file_text($file)) {
        push @{ $u{$1} }, $2 if /^(\w+)=(.*)$/;
    }
    ok(%u, "installed unit $_[0]");
    return \%u;
}

# Starts a unit's daemon the way systemd would: its directories, its user and groups (the
# user's own and SupplementaryGroups), a clean environment with its Environment= lines,
# ExecStartPre, then ExecStart. Returns the daemon's pid.
sub start_unit {
    my ($name) = @_;
    my $u = unit("$name.service");
    my ($user, $group) = ($u->{User}[0], $u->{Group}[0]);
    my ($uid, $gid, $home) = (getpwnam($user))[2, 3, 7];
    for ([RuntimeDirectory => "$root/run"], [StateDirectory => "$root/var/lib"]) {
        my ($key, $base) = @$_;
        next unless $u->{$key};
        my $d = "$base/$u->{$key}[0]";
        make_path($d);
        chown $uid, (getgrnam($group))[2], $d;
        chmod oct($u->{"${key}Mode"}[0] // '0755'), $d;
    }
    my @groups = ($group, (map { split ' ' } @{ $u->{SupplementaryGroups} // [] }));
    while (my @g = getgrent) { push @groups, $g[0] if grep { $_ eq $user } split ' ', $g[3] }
    endgrent;
    my %env = (PATH => '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        HOME => $home, USER => $user, LOGNAME => $user);
    for (@{ $u->{Environment} // [] }) { $env{$1} = $2 if /^(\w+)=(.*)$/ }
    # The build's SYSCONFDIR is not the README's /etc.
    $env{PULSE_CONFIG} = "$root/etc/pulse/pulse.conf" if $env{PULSE_CONFIG};
    my @as_unit = ('env', '-i', (map { "$_=$env{$_}" } sort keys %env), 'setpriv', "--reuid=$user",
        "--regid=$group", '--groups=' . join(',', @groups), '--');
    my $exec = sub { map { localize($_, $installed{bindir} . '/' => "$root$installed{bindir}/") } split ' ', shift };
    for my $pre (@{ $u->{ExecStartPre} // [] }) {
        my ($prc, $pout) = $stack->run_cmd(@as_unit, $exec->($pre));
        is($prc, 0, "$name: ExecStartPre $pre") or diag $pout;
    }
    return $stack->spawn($name, {}, @as_unit, $exec->($u->{ExecStart}[0]));
}

sub uid_of { my $pid = shift; file_text("/proc/$pid/status") =~ /^Uid:\s+(\d+)/m ? $1 : -1 }

my $worker = start_unit('pulse-worker');
my $fcgi = start_unit('pulse-fcgi');
my $sock = "$root/run/pulse/fcgi.sock";
$stack->wait_for(sub { -S $sock || !$stack->alive('pulse-fcgi') }, 20, 'the responder socket', 'pulse-fcgi');
ok(-S $sock && $stack->alive('pulse-fcgi'), 'pulse-fcgi listens on /run/pulse/fcgi.sock')
    or diag $stack->log_tail('pulse-fcgi');
unlike($stack->log_tail('pulse-fcgi'), qr/chown of socket failed/, 'pulse-fcgi may give its socket to www-data');
@st = stat $sock;
is(sprintf('%o:%s', $st[2] & 0777, scalar getgrgid($st[5] // -1) // ''), '660:www-data', 'the socket: mode 0660, group www-data');
ok($stack->alive('pulse-worker'), 'pulse-worker runs') or diag $stack->log_tail('pulse-worker');
is(uid_of($_), $pulse[2], 'the daemon runs as pulse') for $worker, $fcgi;
my ($status, undef, $body) = $stack->fcgi_request(socket => $sock, uri => '/api/health');
is($status, 200, 'the responder is healthy (the database as role pulse)') or diag $body;

# --- nginx, as Debian's -------------------------------------------------------------------
# A copy of /etc/nginx without the default site (port 80), its paths moved into the root.
system('cp', '-a', '/etc/nginx', "$root/etc/nginx") == 0 or die 'cp /etc/nginx';
unlink "$root/etc/nginx/sites-enabled/default";
{
    my $conf = localize(file_text('/etc/nginx/nginx.conf'), '/run/nginx.pid' => "$root/run/nginx.pid");
    open my $fh, '>', "$root/etc/nginx/nginx.conf" or die $!;
    print {$fh} $conf;
    open $fh, '>', "$root/etc/nginx/conf.d/scratch-temp.conf" or die $!;
    print {$fh} map { "${_}_temp_path $root/var/lib/nginx/$_;\n" } qw(client_body fastcgi proxy uwsgi scgi);
    make_path("$root/var/lib/nginx");
}
step('the nginx site', <<'SH', "s|\@LISTEN\@|7655|" => "s|\@LISTEN\@|127.0.0.1:$nginx_port|");
sed -e 's|@LISTEN@|7655|' -e 's|@CERT@|/etc/pulse/tls/pulse.crt|' -e 's|@KEY@|/etc/pulse/tls/pulse.key|' \
    -e 's|@UI_ROOT@|/usr/local/share/pulse/ui|' -e 's|@UPSTREAM_SERVERS@|server unix:/run/pulse/fcgi.sock;|' \
    -e 's|@BODY_LIMIT@|16m|' -e 's|@FASTCGI_INC@|/usr/local/share/pulse/webserver/pulse-fastcgi.inc|' \
    -e 's|@ACCESS_LOG@|/var/log/nginx/pulse-access.log|' \
    /usr/local/share/pulse/webserver/pulse-site.conf.in > /etc/nginx/sites-available/pulse
ln -s ../sites-available/pulse /etc/nginx/sites-enabled/pulse
nginx -t && systemctl reload nginx
SH
my @nginx = ('nginx', '-c', "$root/etc/nginx/nginx.conf", '-e', "$root/var/log/nginx/error.log");
($rc, $out) = $stack->run_cmd(@nginx, '-t');
is($rc, 0, 'nginx -t') or diag $out;
($rc, $out) = $stack->run_cmd(@nginx);
is($rc, 0, 'nginx starts') or diag $out;
$stack->wait_for(sub { -s "$root/run/nginx.pid" }, 10, 'nginx pid file');
$stack->{pids}{nginx} = PulseStack::_read_pid("$root/run/nginx.pid");

# --- Apache, as Debian's ------------------------------------------------------------------
# A copy of /etc/apache2 with its run, lock and log directories in the root, without the
# machine's Listen lines (ports 80 and 443) and the default site.
system('cp', '-a', '/etc/apache2', "$root/etc/apache2") == 0 or die 'cp /etc/apache2';
unlink "$root/etc/apache2/sites-enabled/000-default.conf";
{
    my $envvars = localize(file_text('/etc/apache2/envvars'), '/var/run/apache2' => "$root/run/apache2",
        '/var/lock/apache2' => "$root/var/lock/apache2", '/var/log/apache2' => "$root/var/log/apache2");
    open my $fh, '>', "$root/etc/apache2/envvars" or die $!;
    print {$fh} $envvars;
    open $fh, '>', "$root/etc/apache2/ports.conf" or die $!;
    print {$fh} "# the machine's own ports are not this test's\n";
    make_path("$root/run/apache2", "$root/var/lock/apache2", "$root/var/lib/apache2");
}
step('the Apache site', <<'SH', "s|\@LISTEN\@|7655|" => "s|\@LISTEN\@|$apache_port|", 'Listen 7655 https' => "Listen 127.0.0.1:$apache_port https");
a2enmod ssl proxy_fcgi proxy_balancer lbmethod_byrequests headers deflate rewrite substitute include
sed -e 's|@LISTEN@|7655|' -e 's|@SERVER_NAME@|pulse.example.com|' -e 's|@CERT@|/etc/pulse/tls/pulse.crt|' \
    -e 's|@KEY@|/etc/pulse/tls/pulse.key|' -e 's|@UI_ROOT@|/usr/local/share/pulse/ui|' \
    -e 's#@BALANCER_MEMBERS@#BalancerMember "unix:/run/pulse/fcgi.sock|fcgi://pulse-1/" enablereuse=off#' \
    -e 's|@BODY_LIMIT_BYTES@|16777216|' -e 's|@ACCESS_LOG@|/var/log/apache2/pulse-access.log|' \
    /usr/local/share/pulse/webserver/pulse-apache.conf.in > /etc/apache2/sites-available/pulse.conf
echo 'Listen 7655 https' >> /etc/apache2/ports.conf
a2ensite pulse
apache2ctl configtest && systemctl restart apache2
SH
my $apache_conf = file_text("$root/etc/apache2/sites-available/pulse.conf");
like($apache_conf, qr/^\s*ServerName localhost$/m, 'Apache: ServerName is the host name given');
ok($apache_conf !~ /^[^#\n]*\@[A-Z_]+\@/m, 'Apache: no placeholder left outside comments');
($rc, $out) = run_sh('apache2ctl configtest');
is($rc, 0, 'apache2ctl configtest') or diag $out;
($rc, $out) = run_sh(". $root/etc/apache2/envvars && exec /usr/sbin/apache2 -d $root/etc/apache2 -k start");
is($rc, 0, 'Apache starts') or diag $out;
$stack->wait_for(sub { -s "$root/run/apache2/apache2.pid" }, 10, 'Apache pid file');
$stack->{pids}{apache} = PulseStack::_read_pid("$root/run/apache2/apache2.pid");
$stack->wait_for(sub { PulseStack::_port_open($apache_port) }, 10, 'Apache on its port');
unlike(file_text("$root/var/log/apache2/error.log"), qr/AH01909/,
    'Apache: no warning that the certificate does not match the ServerName');

# --- first-run setup, then the API with the token ---------------------------------------
my $token_file = "$root/var/lib/pulse/.bootstrap_token";
$stack->wait_for(sub { -s $token_file }, 30, 'the bootstrap token in data_dir', 'pulse-worker');
$out = step('first-run setup with the bootstrap token', <<'SH', 'pulse.example.com:7655' => "localhost:$nginx_port");
PASSWORD=$(openssl rand -base64 18)
TOKEN=$(openssl rand -hex 24)
curl -w '\n' --cacert /etc/pulse/tls/pulse.crt -X POST https://pulse.example.com:7655/api/security/quick-setup \
  -H 'Content-Type: application/json' -H "X-Setup-Token: $(cat /var/lib/pulse/.bootstrap_token)" \
  -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\",\"apiToken\":\"$TOKEN\"}"
curl -w '\n' --cacert /etc/pulse/tls/pulse.crt https://pulse.example.com:7655/api/state -H "X-API-Token: $TOKEN"
echo "admin password: $PASSWORD API token: $TOKEN"
SH
my ($api_token) = $out =~ /API token: ([0-9a-f]{48})$/m;
ok($api_token, 'the README prints the API token') or diag $out;
like($out, qr/^\{"success":true/m, 'quick-setup succeeded') or diag $out;
$stack->wait_for(sub { !-e $token_file }, 30, 'the bootstrap token to be gone', 'pulse-worker');
pass('the bootstrap token is gone after setup');

my $ua = $stack->ua;
for ([nginx => "https://127.0.0.1:$nginx_port"], [Apache => "https://127.0.0.1:$apache_port"]) {
    my ($name, $base) = @$_;
    my $res = $ua->get("$base/api/state" => { 'X-API-Token' => $api_token })->result;
    is($res->code, 200, "$name: GET /api/state with the token") or diag $res->body;
    is(ref(eval { $res->json }), 'HASH', "$name: the state is a JSON object");
    is($ua->get("$base/api/state")->result->code, 401, "$name: GET /api/state without it: 401");
}

# --- the web servers' own errors ----------------------------------------------------------
my $big = "$dir/big-body";
{
    open my $fh, '>', $big or die $!;
    print {$fh} 'x' x (17 << 20);
}
for my $proto ('--http2', '--http1.1') {
    my $res = `curl -sk $proto -o - -w '\\n%{http_code} %{http_version}' -H 'Content-Type: application/json' --data-binary \@$big https://127.0.0.1:$nginx_port/api/version`;
    my ($json, $code, $version) = $res =~ /^(.*)\n(\d+) (\S+)$/s;
    is($code, 413, "nginx $proto: a body over the limit is a 413");
    is($version, $proto eq '--http2' ? '2' : '1.1', "nginx $proto: spoken");
    is((eval { decode_json($json) } // {})->{code}, 'payload_too_large', "nginx $proto: our JSON 413, not nginx's page")
        or diag $json;
}
# Apache hands the request on at once; the responder refuses the route's limit on the
# declared length (a POST route: /api/version is GET only, 405 before any limit).
my $res = `curl -sk -o - -w '\\n%{http_code}' -H 'Content-Type: application/json' --data-binary \@$big https://127.0.0.1:$apache_port/api/config/nodes`;
my ($json, $code) = $res =~ /^(.*)\n(\d+)$/s;
is($code, 413, 'Apache: a body over the limit is a 413');
is((eval { decode_json($json) } // {})->{code}, 'payload_too_large', 'Apache: our JSON 413');

# No responder: each web server's JSON error says the status it is sent with.
is($stack->stop_program('pulse-fcgi', 'TERM', 20), 0, 'pulse-fcgi stops on SIGTERM');
for ([nginx => "https://127.0.0.1:$nginx_port"], [Apache => "https://127.0.0.1:$apache_port"]) {
    my ($name, $base) = @$_;
    my $res = $ua->get("$base/api/health")->result;
    my $err = eval { $res->json } // {};
    ok($res->code == 502 || $res->code == 503, "$name without a responder: 502 or 503") or diag $res->code;
    is($err->{code}, 'responder_unavailable', "$name without a responder: code responder_unavailable");
    is($err->{status_code}, $res->code, "$name without a responder: status_code is the status sent");
}

# --- stop, make uninstall ------------------------------------------------------------------
$stack->stop_program('pulse-worker', 'TERM', 20);
($rc, $out) = $stack->run_cmd('make', '-C', $build, '--no-print-directory', 'uninstall', "DESTDIR=$root");
is($rc, 0, 'make uninstall DESTDIR=...') or diag $out;
my @left = grep { -f } split /\n/, `find $root$installed{prefix} -type f 2>/dev/null`;
is_deeply(\@left, [], 'make uninstall removes every installed file');
ok(-f "$root/etc/pulse/pulse.conf" && -d "$root/etc/pulse/tls", 'make uninstall leaves /etc/pulse alone');
like($readme, qr/`make uninstall`/, 'README.md describes make uninstall');

done_testing;
