#!/usr/bin/perl
# 64-agent-downloads.t: the agent's downloads and installers through nginx (agents.md §8):
# /download/pulse-agent byte for byte with its sha256 (GET and HEAD), arch names, another
# architecture's file when one is present and 404 when not, the legacy download paths, the
# download rate limit (60 a minute per client, 429 beyond), /install.sh served and run in a
# scratch root with a fake systemctl (install and --uninstall), /install.ps1 and the other
# scripts, /api/install/* behind credentials, and the retired temperature-proxy routes (§11:
# 410 with the original's body).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Digest::SHA qw(sha256_hex);
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Mojo::Server::Daemon;
use Mojolicious;
use Mojo::UserAgent;
use Test::More;
use Time::HiRes qw(sleep time);
use PulseStack;
use PulseTest;

my $agent_bin = PulseStack::builddir() . '/agent/pulse-agent';
my $scripts = PulseStack::srcdir() . '/agent';
plan skip_all => "$agent_bin not built" unless -x $agent_bin;

sub slurp { open my $fh, '<:raw', $_[0] or die "$_[0]: $!"; local $/; <$fh> }
sub spew { open my $fh, '>:raw', $_[0] or die "$_[0]: $!"; print {$fh} $_[1]; close $fh }

# The binaries' directory: the built agent, and a file for one other architecture.
my $own = { x86_64 => 'linux-amd64', aarch64 => 'linux-arm64' }->{ (POSIX::uname())[4] } // 'linux-amd64';
my $other = $own eq 'linux-arm64' ? 'linux-amd64' : 'linux-arm64';
my $missing = 'linux-armv6';
my $bindir = tempdir(CLEANUP => 1);
chmod 0755, $bindir;
copy($agent_bin, "$bindir/pulse-agent") or die "copy: $!";
spew("$bindir/pulse-agent-$other", "\x7fELF pretend $other agent\n");
chmod 0644, "$bindir/pulse-agent", "$bindir/pulse-agent-$other";

my $stack = PulseStack->new(apache => 1,
    settings => { trusted_proxies => '127.0.0.2', agent_binary_dir => $bindir })->start;
my $admin = $stack->setup_admin;
my $ua = $stack->ua;
my $built = slurp($agent_bin);
my $sha = sha256_hex($built);

# --- /download/pulse-agent ----------------------------------------------------------------
my $res = $ua->get($stack->url('/download/pulse-agent'))->result;
is($res->code, 200, 'GET /download/pulse-agent');
ok($res->body eq $built, 'the download is the built agent byte for byte');
is($res->headers->header('X-Checksum-Sha256'), $sha, 'X-Checksum-Sha256 is its sha256');
is($res->headers->content_length, length $built, 'Content-Length');
is($res->headers->content_type, 'application/octet-stream', 'Content-Type');
is($res->headers->header('Pragma'), 'no-cache', 'no-cache headers');
like($res->headers->header('Last-Modified') // '', qr/GMT$/, 'Last-Modified');

for my $arch ($own, ($own eq 'linux-amd64' ? ('amd64', 'x86_64', 'X86_64') : ('arm64', 'aarch64')), 'sparc64') {
    $res = $ua->get($stack->url("/download/pulse-agent?arch=$arch"))->result;
    ok($res->code == 200 && $res->body eq $built, "arch=$arch serves this machine's agent"
        . ($arch eq 'sparc64' ? ' (an unknown name counts as none, as the original)' : ''));
}
$res = $ua->get($stack->url("/download/pulse-agent?arch=$other"))->result;
is($res->code, 200, "arch=$other: its file is present");
is($res->body, slurp("$bindir/pulse-agent-$other"), "arch=$other serves pulse-agent-$other");
is($res->headers->header('X-Checksum-Sha256'), sha256_hex($res->body), "arch=$other: its own checksum");
# The checksum is remembered per file until the file changes.
spew("$bindir/pulse-agent-$other.new", "\x7fELF a newer $other agent, longer than before\n");
rename "$bindir/pulse-agent-$other.new", "$bindir/pulse-agent-$other" or die "rename: $!";
$res = $ua->get($stack->url("/download/pulse-agent?arch=$other"))->result;
is($res->body, slurp("$bindir/pulse-agent-$other"), 'a replaced file is served at once');
is($res->headers->header('X-Checksum-Sha256'), sha256_hex($res->body), '... with its new checksum');
for my $alias ($other eq 'linux-arm64' ? qw(arm64 aarch64 AArch64) : qw(amd64 x86_64)) {
    $res = $ua->get($stack->url("/download/pulse-agent?arch=$alias"))->result;
    is($res->body, slurp("$bindir/pulse-agent-$other"), "arch=$alias is $other");
}
for my $alias (qw(armv6 linux-armv6 i686 386 armhf macos-arm64 windows-amd64)) {
    is($ua->get($stack->url("/download/pulse-agent?arch=$alias"))->result->code, 404,
        "arch=$alias: a known name without a file, 404 (no fallback to this machine's agent)");
}
$res = $ua->get($stack->url("/download/pulse-agent?arch=$missing"))->result;
is($res->code, 404, "arch=$missing: no file, 404");
like($res->headers->content_type, qr{^text/plain}, '404 in plain text, as the original');
like($res->body, qr/^Agent binary not found/, 'the original\'s message');

my $tx = $ua->build_tx(HEAD => $stack->url('/download/pulse-agent?arch=' . $own));
$res = $ua->start($tx)->result;
is($res->code, 200, 'HEAD /download/pulse-agent');
is($res->body, '', 'HEAD has no body');
is($res->headers->content_length, length $built, 'HEAD: Content-Length of the file');
is($res->headers->header('X-Checksum-Sha256'), $sha, 'HEAD: X-Checksum-Sha256');

is($ua->post($stack->url('/download/pulse-agent') => json => {})->result->code, 405, 'POST: 405');
is($ua->get($stack->url('/download/pulse-agent') => { 'Content-Type' => 'application/json' } => 'x' x 9000)
    ->result->code, 413, 'a body over the small limit: 413');

# Both shipped web server configurations route these paths to the responders.
for my $path ('/download/pulse-agent', '/install.sh', '/install-host-agent.ps1', '/uninstall-host-agent.sh') {
    $res = $ua->start($ua->build_tx(HEAD => $stack->apache_url($path)))->result;
    is($res->code, 200, "Apache: HEAD $path reaches the responders");
}

# --- legacy downloads ---------------------------------------------------------------------
$res = $ua->get($stack->url('/download/pulse-host-agent'))->result;
ok($res->code == 200 && $res->body eq $built, '/download/pulse-host-agent: our agent takes its place');
ok(!defined $res->headers->header('X-Checksum-Sha256'), '... without a checksum header, as the original');
(my $arch_short = $own) =~ s/^linux-//;
$res = $ua->get($stack->url("/download/pulse-host-agent?platform=linux&arch=$arch_short"))->result;
ok($res->code == 200 && $res->body eq $built, "platform=linux&arch=$arch_short");
$res = $ua->get($stack->url("/download/pulse-host-agent.sha256?platform=linux&arch=$arch_short"))->result;
is($res->code, 200, '/download/pulse-host-agent.sha256');
is($res->body, "$sha\n", '... is "<hex>\n"');
$res = $ua->get($stack->url('/download/pulse-host-agent?platform=windows&arch=amd64'))->result;
is($res->code, 404, 'no Windows host agent: 404');
$res = $ua->get($stack->url('/download/pulse-host-agent?platform=linux%3Bx&arch=amd64'))->result;
is($res->code, 400, 'a platform outside [A-Za-z0-9-]: 400');
$res = $ua->get($stack->url('/download/pulse-docker-agent?arch=' . ($own eq 'linux-amd64' ? 'x86-64' : 'aarch64')))->result;
ok($res->code == 200 && $res->body eq $built, '/download/pulse-docker-agent: our agent');
is($res->headers->header('X-Checksum-Sha256'), $sha, '... with its checksum');

# --- installer scripts --------------------------------------------------------------------
$res = $ua->get($stack->url('/install.sh'))->result;
is($res->code, 200, 'GET /install.sh');
is($res->headers->content_type, 'text/x-shellscript', 'as text/x-shellscript');
is($res->headers->header('Content-Disposition'), 'inline; filename="install.sh"', 'Content-Disposition');
is($res->body, slurp("$scripts/install.sh"), 'served verbatim');
my $dir = tempdir(CLEANUP => 1);
spew("$dir/install.sh", $res->body);
is(system('bash', '-n', "$dir/install.sh"), 0, 'it passes bash -n');

$res = $ua->get($stack->url('/install.ps1'))->result;
is($res->code, 200, 'GET /install.ps1');
like($res->headers->content_type, qr{^text/plain}, 'as text/plain');
like($res->body, qr/Windows agent is not available from this server/, 'it says there is no Windows agent');
like($res->body, qr/^exit 1$/m, '... and exits non-zero');

my %legacy = ('/install-host-agent.sh' => 'install.sh', '/install-container-agent.sh' => 'install.sh',
    '/install-docker-agent.sh' => 'install-docker-agent.sh', '/uninstall-host-agent.sh' => 'uninstall-host-agent.sh',
    '/install-host-agent.ps1' => 'install.ps1', '/uninstall-host-agent.ps1' => 'install.ps1');
for my $path (sort keys %legacy) {
    $res = $ua->get($stack->url($path))->result;
    ok($res->code == 200 && $res->body eq slurp("$scripts/$legacy{$path}"), "$path serves $legacy{$path}");
    if ($path =~ /\.sh$/) {
        spew("$dir/legacy.sh", $res->body);
        is(system('bash', '-n', "$dir/legacy.sh"), 0, "$path passes bash -n");
    }
}
for my $name (qw(install.sh install.ps1)) {
    json_error_ok($ua->get($stack->url("/api/install/$name"))->result, 401, 'unauthorized',
        "/api/install/$name without credentials");
    $res = $ua->get($stack->url("/api/install/$name") => $stack->token_headers)->result;
    ok($res->code == 200 && $res->body eq slurp("$scripts/$name"), "/api/install/$name with a token");
}

# --- install.sh run in a scratch root -------------------------------------------------------
my $root = "$dir/root";
mkdir "$dir/bin";
spew("$dir/bin/systemctl", "#!/bin/sh\necho \"\$*\" >> '$dir/systemctl.log'\n");
chmod 0755, "$dir/bin/systemctl";
local $ENV{PATH} = "$dir/bin:$ENV{PATH}";
my $token = 'ab' x 24;
my $base = $stack->base_url;
my $out = qx{bash '$dir/install.sh' --root '$root' --url '$base/' --token $token --interval 45 --insecure --enable-commands --agent-id test-agent --disk-exclude '/mnt/*' --disk-exclude '*backup*' 2>&1};
is($?, 0, 'install.sh --root installs') or diag $out;
ok(-f "$root/usr/local/bin/pulse-agent" && slurp("$root/usr/local/bin/pulse-agent") eq $built,
    'the binary is the built agent');
is((stat "$root/usr/local/bin/pulse-agent")[2] & 07777, 0755, 'mode 0755');
is(slurp("$root/var/lib/pulse-agent/token"), $token, 'the token in /var/lib/pulse-agent/token');
is((stat "$root/var/lib/pulse-agent/token")[2] & 07777, 0600, 'mode 0600');
is((stat "$root/var/lib/pulse-agent")[2] & 07777, 0700, 'its directory 0700');
my $env = slurp("$root/etc/default/pulse-agent");
like($env, qr/^PULSE_URL="\Q$base\E"$/m, 'the environment: the URL, its trailing / dropped');
like($env, qr/^PULSE_INTERVAL="45s"$/m, 'a bare number of seconds becomes a Go duration');
like($env, qr/^PULSE_INSECURE_SKIP_VERIFY="true"$/m, '--insecure');
like($env, qr/^PULSE_ENABLE_COMMANDS="true"$/m, '--enable-commands');
like($env, qr/^PULSE_AGENT_ID="test-agent"$/m, '--agent-id');
like($env, qr{^PULSE_DISK_EXCLUDE="/mnt/\*,\*backup\*"$}m, '--disk-exclude, repeated');
unlike($env, qr/\Q$token\E/, 'the token is not in the environment file');
my $unit = slurp("$root/etc/systemd/system/pulse-agent.service");
like($unit, qr{^ExecStart=/usr/local/bin/pulse-agent$}m, 'the unit starts the agent');
like($unit, qr{^EnvironmentFile=-/etc/default/pulse-agent$}m, '... with the environment');
unlike($unit, qr/\Q$token\E/, 'the token is not in the unit');
like(slurp("$dir/systemctl.log"), qr/^--root=\Q$root\E enable pulse-agent\.service$/m,
    'systemctl --root enables the unit');
# The installed agent reads what was written.
$out = qx{env -i PATH=/usr/bin:/bin bash -c 'set -a; . "\$1"; exec "\$2" --token-file "\$3" --self-test' x '$root/etc/default/pulse-agent' '$root/usr/local/bin/pulse-agent' '$root/var/lib/pulse-agent/token' 2>&1};
is($?, 0, 'the installed agent takes the written settings (--self-test)') or diag $out;

$out = qx{bash '$dir/install.sh' --root '$root' --url '$base' --token not-hex 2>&1};
isnt($?, 0, 'a token that is not hex is refused');
$out = qx{bash '$dir/install.sh' --root '$root' --url '$base' --token $token --bogus 2>&1};
isnt($?, 0, 'an unknown flag is refused');
like($out, qr/unknown flag: --bogus/, '... and named');
$out = qx{bash '$dir/install.sh' --root '$root' --url '$base' --token $token --interval 5x 2>&1};
isnt($?, 0, 'a bad interval is refused');
$out = qx{bash '$dir/install.sh' --root '$root' --token $token 2>&1};
isnt($?, 0, 'no --url: refused');

# A download whose checksum is not the one announced is not installed.
my $app = Mojolicious->new;
$app->log->level('fatal');
my $liar = Mojo::Server::Daemon->new(app => $app, silent => 1,
    listen => ['http://127.0.0.1:' . (my $liar_port = PulseStack::free_port())]);
$app->routes->get('/download/pulse-agent' => sub {
    my $c = shift;
    $c->res->headers->header('X-Checksum-Sha256' => '0' x 64);
    $c->render(data => $built);
});
my $liar_pid = fork // die "fork: $!";
if (!$liar_pid) { $liar->run; exit 0 }
my $up = 0;
for (1 .. 100) { last if ($up = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$liar_port")); sleep 0.1 }
$out = qx{bash '$dir/install.sh' --root '$dir/root2' --url http://127.0.0.1:$liar_port --token $token 2>&1};
isnt($?, 0, 'a download that fails its X-Checksum-Sha256 stops install.sh');
like($out, qr/checksum mismatch/, '... and says so');
ok(!-e "$dir/root2/usr/local/bin/pulse-agent", '... and installs nothing');
kill 'TERM', $liar_pid;
waitpid $liar_pid, 0;

# Told to tell the server, --uninstall goes on when the server does not know the host.
$out = qx{bash '$dir/install.sh' --root '$root' --uninstall --url '$base' --token $token --insecure 2>&1};
is($?, 0, 'install.sh --uninstall') or diag $out;
ok(!-e "$root/usr/local/bin/pulse-agent" && !-e "$root/var/lib/pulse-agent"
    && !-e "$root/etc/default/pulse-agent" && !-e "$root/etc/systemd/system/pulse-agent.service",
    'binary, state, environment and unit removed');
like(slurp("$dir/systemctl.log"), qr/^--root=\Q$root\E disable pulse-agent\.service$/m, 'the unit disabled');

# --- the temperature proxy (§11) -------------------------------------------------------------
for my $case (['POST', '/api/temperature-proxy/register', {}], ['GET', '/api/temperature-proxy/authorized-nodes', {}],
    ['GET', '/api/install/install-sensor-proxy.sh', {}], ['GET', '/api/install/pulse-sensor-proxy?arch=amd64', {}],
    ['GET', '/api/temperature-proxy/host-status', $stack->token_headers],
    ['DELETE', '/api/temperature-proxy/unregister?hostname=x', $stack->token_headers]) {
    my ($method, $path, $hdr) = @$case;
    $res = $ua->start($ua->build_tx($method => $stack->url($path) => $hdr))->result;
    my $b = json_error_ok($res, 410, 'sensor_proxy_disabled', "$method $path");
    is($b->{error}, 'pulse-sensor-proxy is deprecated and disabled by default in v5', "$path: the original's message");
    like($b->{details}{migration} // '', qr/--enable-proxmox/, "$path: details.migration");
    ok(defined $b->{details}{enable_env}, "$path: details.enable_env");
    like($res->headers->header('Warning') // '', qr/^299 - "pulse-sensor-proxy is deprecated/, "$path: Warning header");
}
json_error_ok($ua->get($stack->url('/api/temperature-proxy/host-status'))->result, 401, 'unauthorized',
    'an admin route of the proxy still asks for credentials first');

# --- the download rate limit ----------------------------------------------------------------
# A client behind the trusted proxy (direct loopback clients are not limited). The limit is
# a sliding estimate over two fixed windows: start early in a window so the 61 requests
# fall in one.
my $proxy = Mojo::UserAgent->new(insecure => 1, max_redirects => 0, socket_options => { LocalAddr => '127.0.0.2' });
my $fwd = { 'X-Forwarded-For' => '198.51.100.40' };
sleep(60 - time % 60 + 0.5) if time % 60 > 40;
my @codes = map { $proxy->start($proxy->build_tx(HEAD => $stack->url('/download/pulse-agent') => $fwd))->result->code } 1 .. 60;
is_deeply(\@codes, [(200) x 60], 'sixty downloads in a minute pass');
$res = $proxy->get($stack->url('/install.sh') => $fwd)->result;
is($res->code, 429, 'the 61st (any download or script) is refused with 429');
is($res->headers->header('Retry-After'), 60, 'Retry-After: the window');
is($proxy->get($stack->url('/download/pulse-agent') => { 'X-Forwarded-For' => '198.51.100.41' })->result->code, 200,
    'another client has its own budget');
is($proxy->get($stack->url('/api/install/install.sh') => { %$fwd, %{ $stack->token_headers } })->result->code, 200,
    '/api/install/install.sh is not counted');
is($stack->psql(q{SELECT sum(hits) FROM pulse.rate_limit_hits WHERE bucket = 'download' AND client = '198.51.100.40'}),
    61, 'counted in the download class');

no_secret_in_logs($stack, $admin->{token}, $admin->{password}, $token);
done_testing;
