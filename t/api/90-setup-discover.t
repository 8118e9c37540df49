#!/usr/bin/perl
# 90-setup-discover.t: adding a Proxmox server from the server (state-proxmox.md §12): POST
# /api/setup-script-url minting a one-time setup code (admin and settings:write only, stored
# hashed), GET /api/setup-script answering a POSIX sh script (sh -n, shellcheck) whose values
# are checked and shell-quoted (hostile type, host, pulse_url and code refused), the script run
# against the stack with a fake pveum that records its commands: it creates the user, the
# role and the token and registers the host through POST /api/auto-register with the code,
# the node then configured and polled (the PVE simulator takes the token); a reused, wrong,
# expired or other-type code refused. GET and POST /api/discover: admin only, a CIDR too large or
# malformed refused, a scan of 127.0.0.0/28 finding the PVE and PBS simulators on the ports
# the body names (and not the stack's nginx), its result cached.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempdir);
use Mojo::JSON qw(true false encode_json decode_json);
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { pve_polling_interval => 2 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $dir = tempdir(CLEANUP => 1);

sub call {
    my ($method, $path, $body, $headers) = @_;
    my $tx = $ua->build_tx($method => $stack->url($path) => { %{ $headers // $auth },
        'Content-Type' => 'application/json' } => defined $body ? (ref $body ? encode_json($body) : $body) : '');
    return $ua->start($tx)->result;
}
sub new_token {
    my ($name, @scopes) = @_;
    my $res = $ua->post($stack->url('/api/security/tokens') => $auth => json => { name => $name, scopes => \@scopes })->result;
    is($res->code, 200, "token $name created") or diag $res->body;
    return { 'X-API-Token' => $res->json->{token} };
}
my $reader = new_token('reader', 'settings:read');
my $writer = new_token('writer', 'settings:write');

(my $pulse = $stack->base_url) =~ s{/$}{};
(my $slug = $pulse) =~ s{^https?://}{};
$slug =~ s/[^A-Za-z0-9]+/-/g;
my $token_name = "pulse-$slug";
my $secret = 'setup-secret-' . int(rand(1e9));
my $sim = $stack->start_sim(name => 'setup', nodes => 1, guests => 1,
    token => "pulse-monitor\@pam!$token_name=$secret");

# --- POST /api/setup-script-url ------------------------------------------------------------------
json_error_ok(call(POST => '/api/setup-script-url', { type => 'pve' }, {}), 401, 'unauthorized', 'url: no credentials');
json_error_ok(call(POST => '/api/setup-script-url', { type => 'pve' }, $reader), 403, 'missing_scope', 'url: a settings:read token');
json_error_ok(call(POST => '/api/setup-script-url', { type => 'pmg' }), 400, 'invalid_type', 'url: type pmg');
json_error_ok(call(POST => '/api/setup-script-url', { }), 400, 'invalid_field', 'url: no type');
json_error_ok(call(POST => '/api/setup-script-url', { type => 'pve', host => "x'\$(id)" }), 400, 'invalid_host', 'url: a hostile host');
json_error_ok(call(POST => '/api/setup-script-url', '{"type":'), 400, 'invalid_json', 'url: malformed JSON');

my $res = call(POST => '/api/setup-script-url', { type => 'pve', host => $sim->{url}, backupPerms => true }, $writer);
is($res->code, 200, 'url: minted with a settings:write token') or diag $res->body;
my $mint = $res->json;
is($mint->{type}, 'pve', 'url: type');
is($mint->{host}, $sim->{url}, 'url: host normalised');
like($mint->{setupCode}, qr/^[A-Z2-9]{16}$/, 'url: a 16-character code');
ok($mint->{expires} > time + 240 && $mint->{expires} <= time + 301, 'url: expires in five minutes');
like($mint->{url}, qr{^\Q$pulse\E/api/setup-script\?type=pve&host=https%3A%2F%2F127\.0\.0\.1%3A\d+&pulse_url=.*&backup_perms=true$},
    'url: the script URL');
unlike($mint->{url}, qr/\Q$mint->{setupCode}\E/, 'url: the code is not in the URL');
like($mint->{command}, qr/PULSE_SETUP_CODE=\Q$mint->{setupCode}\E sh$/, 'url: the command passes the code in the environment');
is($stack->psql("SELECT count(*) FROM pulse.setup_codes WHERE code_hash = '$mint->{setupCode}' OR host LIKE '%$mint->{setupCode}%'"), '0',
    'the code itself is not stored');
is($stack->psql('SELECT count(*) FROM pulse.setup_codes WHERE used_at IS NULL'), '1', 'one code stored (hashed)');

# --- GET /api/setup-script: hostile values -------------------------------------------------------
for my $q ("type=evil", "type=pve'", "host=x", "type=pve&host=" . uri("a'b"), "type=pve&host=" . uri('a$(touch /tmp/pwn)'),
    "type=pve&host=" . uri("a\nb"), "type=pve&host=" . uri('a`id`'), "type=pve&host=" . uri('a b'),
    "type=pbs&pulse_url=" . uri("http://x/'\$(id)'"), "type=pbs&pulse_url=" . uri('http://x/";id;"'),
    "type=pve&setup_code=" . uri("AB'CD"), "type=pve&setup_code=" . uri('AB$(id)'), "type=pve&auth_token=" . uri("A\nB")) {
    my $r = $ua->get($stack->url("/api/setup-script?$q"))->result;
    is($r->code, 400, "script: 400 for $q");
}
ok(!-e '/tmp/pwn', 'nothing ran');
sub uri { my $s = shift; $s =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge; $s }

# --- the script, fetched and run ------------------------------------------------------------------
my $script = $ua->get($mint->{url})->result;
is($script->code, 200, 'script: 200 without credentials');
like($script->headers->content_type, qr{^text/x-shellscript}, 'script: a shell script');
my $text = $script->body;
like($text, qr/^#!\/bin\/sh\n/, 'script: POSIX sh');
like($text, qr/^PULSE_URL='\Q$pulse\E'$/m, 'script: Pulse URL quoted');
like($text, qr/^SERVER_HOST='\Q$sim->{url}\E'$/m, 'script: host quoted');
like($text, qr/^BACKUP_PERMS='1'$/m, 'script: backup permissions');
unlike($text, qr/\Q$mint->{setupCode}\E/, 'script: no code embedded');
open(my $fh, '>', "$dir/setup.sh") or die; print $fh $text; close $fh;
is(system('sh', '-n', "$dir/setup.sh"), 0, 'script: sh -n');
is(system('shellcheck', '-s', 'sh', "$dir/setup.sh"), 0, 'script: shellcheck');
my $pbs = $ua->get($stack->url('/api/setup-script?type=pbs&host=pbs1&setup_code=ABC234'))->result;
like($pbs->body, qr/proxmox-backup-manager acl update \/ Audit/, 'pbs script: Audit on /');
like($pbs->body, qr/^SERVER_HOST='https:\/\/pbs1:8007'$/m, 'pbs script: host with the PBS port');
like($pbs->body, qr/^EMBEDDED_CODE='ABC234'$/m, 'pbs script: code embedded when given');
open($fh, '>', "$dir/pbs.sh") or die; print $fh $pbs->body; close $fh;
is(system('shellcheck', '-s', 'sh', "$dir/pbs.sh"), 0, 'pbs script: shellcheck');

# A fake pveum recording its commands, and a fake hostname.
mkdir "$dir/bin";
open($fh, '>', "$dir/bin/pveum") or die;
print $fh <<"SH";
#!/bin/sh
printf '%s\\n' "\$*" >> '$dir/pveum.log'
case "\$*" in
"user token add "*) printf '{"full-tokenid":"%s!%s","info":{"privsep":"0"},"value":"%s"}\\n' "\$4" "\$5" '$secret' ;;
esac
exit 0
SH
close $fh;
open($fh, '>', "$dir/bin/hostname") or die; print $fh "#!/bin/sh\necho setupnode\n"; close $fh;
chmod 0755, "$dir/bin/pveum", "$dir/bin/hostname";

sub run_script {
    my ($code) = @_;
    local $ENV{PATH} = "$dir/bin:$ENV{PATH}";
    local $ENV{PULSE_SETUP_CODE} = $code;
    local $ENV{PULSE_INSECURE} = 1;
    local $ENV{PULSE_SETUP_ANY_USER} = 1;
    my $out = `sh '$dir/setup.sh' 2>&1 </dev/null`;
    return ($? >> 8, $out);
}

# A wrong code: the script says so, nothing is added.
my ($rc, $out) = run_script('WRONGCODE2345678');
is($rc, 1, 'a wrong code: the script fails') or diag $out;
like($out, qr/HTTP 401/, 'a wrong code: Pulse refused it');
like($out, qr/token id:\s+pulse-monitor\@pam!\Q$token_name\E/, 'a wrong code: the token shown for a manual add');
is($stack->psql('SELECT count(*) FROM pulse.instances'), '0', 'a wrong code: nothing added');

unlink "$dir/pveum.log";
($rc, $out) = run_script($mint->{setupCode});
is($rc, 0, 'the script registers the host') or diag $out;
like($out, qr/Registered with Pulse/, 'the script says so');
open($fh, '<', "$dir/pveum.log") or die; my @cmds = map { chomp; $_ } <$fh>; close $fh;
is_deeply(\@cmds, [
    "user add pulse-monitor\@pam --comment Pulse monitoring service",
    "aclmod / -user pulse-monitor\@pam -role PVEAuditor",
    "aclmod /storage -user pulse-monitor\@pam -role PVEDatastoreAdmin",
    "role add PulseProbeVMMonitor -privs VM.Monitor",
    "role delete PulseProbeVMMonitor",
    "role modify PulseMonitor -privs Sys.Audit,VM.Monitor",
    "aclmod / -user pulse-monitor\@pam -role PulseMonitor",
    "user token remove pulse-monitor\@pam $token_name",
    "user token add pulse-monitor\@pam $token_name --privsep 0 --output-format json",
], 'pveum: the user, PVEAuditor, backup rights, the PulseMonitor role and a token') or diag explain \@cmds;

my $nodes = call(GET => '/api/config/nodes')->json;
is(scalar @$nodes, 1, 'one node configured');
is($nodes->[0]{name}, 'setupnode', 'named after the host');
is($nodes->[0]{host}, $sim->{url}, 'its host');
is($nodes->[0]{tokenName}, "pulse-monitor\@pam!$token_name", 'its token id');
is($stack->psql('SELECT count(*) FROM pulse.setup_codes WHERE used_at IS NOT NULL'), '1', 'the code is used');
like($stack->psql("SELECT username FROM pulse.audit_events WHERE event = 'node_added' ORDER BY ts DESC LIMIT 1"),
    qr/setup-code/, 'audited as a setup-code registration');

my $state = $stack->wait_state(sub { grep { $_->{instance} eq 'setupnode' } @{ $_[0]{nodes} } }, 60,
    'the registered server polled');
ok($state, 'the worker polls the registered server');

# --- codes: reused, wrong, expired, other type --------------------------------------------------------
my %reg = (type => 'pve', host => $sim->{url}, serverName => 'setupnode', tokenId => "pulse-monitor\@pam!$token_name",
    tokenValue => $secret, source => 'script');
json_error_ok(call(POST => '/api/auto-register', { %reg, setupCode => $mint->{setupCode} }, {}), 401, 'invalid_setup_code',
    'register: a used code');
json_error_ok(call(POST => '/api/auto-register', { %reg, setupCode => 'NOPE' }, {}), 401, 'invalid_setup_code',
    'register: a wrong code');
json_error_ok(call(POST => '/api/auto-register', { %reg, setupCode => "A'B" }, {}), 401, 'invalid_setup_code',
    'register: a malformed code');
json_error_ok(call(POST => '/api/auto-register', \%reg, {}), 401, 'unauthorized', 'register: neither code nor credentials');
json_error_ok(call(POST => '/api/auto-register', \%reg, $reader), 403, 'missing_scope', 'register: a settings:read token');
my $pbscode = call(POST => '/api/setup-script-url', { type => 'pbs' })->json->{setupCode};
json_error_ok(call(POST => '/api/auto-register', { %reg, setupCode => $pbscode }, {}), 401, 'invalid_setup_code',
    'register: a PBS code for a PVE server');
my $late = call(POST => '/api/setup-script-url', { type => 'pve' })->json->{setupCode};
$stack->psql("UPDATE pulse.setup_codes SET expires_at = now() - interval '1 second' WHERE used_at IS NULL");
json_error_ok(call(POST => '/api/auto-register', { %reg, setupCode => $late }, {}), 401, 'invalid_setup_code',
    'register: an expired code');
my $fresh = call(POST => '/api/setup-script-url', { type => 'pve' })->json->{setupCode};
json_error_ok(call(POST => '/api/auto-register', { %reg, tokenId => 'bad', setupCode => $fresh }, {}), 400, 'invalid_request',
    'register: a bad body with a good code');
is(call(POST => '/api/auto-register', { %reg, setupCode => lc $fresh }, {})->code, 200,
    'register: the code still good after the bad body (small letters too)');
json_error_ok(call(POST => '/api/auto-register', { %reg, setupCode => $fresh }, {}), 401, 'invalid_setup_code',
    'register: that code once only');
is($stack->psql('SELECT count(*) FROM pulse.instances'), '1', 'still one node');

# --- discovery -------------------------------------------------------------------------------------
# The simulators listen on random ports of 127.0.0.1: the body names the ports to probe. The
# PVE simulator wants a token (401 without), the PBS one is open (200 with its version); the
# stack's own nginx port answers, but not as a Proxmox API.
my $pbs_sim = $stack->start_pbs_sim(name => 'discpbs');
my @ports = ({ port => $sim->{port}, type => 'pve' }, { port => $pbs_sim->{port}, type => 'pbs' },
    { port => $stack->port, type => 'pve' });
json_error_ok(call(POST => '/api/discover', { subnet => '127.0.0.0/28' }, {}), 401, 'unauthorized', 'discover: no credentials');
json_error_ok(call(POST => '/api/discover', { subnet => '127.0.0.0/28' }, $reader), 403, 'missing_scope', 'discover: a settings:read token');
json_error_ok(call(GET => '/api/discover', undef, {}), 401, 'unauthorized', 'discover GET: no credentials');
json_error_ok(call(POST => '/api/discover', { subnet => '10.0.0.0/21' }), 400, 'invalid_subnet', 'discover: 2046 addresses is too many');
json_error_ok(call(POST => '/api/discover', { subnet => '0.0.0.0/0' }), 400, 'invalid_subnet', 'discover: the whole internet');
for my $bad ('10.0.0.0/33', 'nonsense', '10.0.0/24', '2001:db8::/120', "10.0.0.0/24'") {
    json_error_ok(call(POST => '/api/discover', { subnet => $bad }), 400, 'invalid_subnet', "discover: bad CIDR $bad");
}
json_error_ok(call(POST => '/api/discover', {}), 400, 'invalid_field', 'discover: no subnet');
json_error_ok(call(POST => '/api/discover', { subnet => '127.0.0.1', ports => [{ port => 70000, type => 'pve' }] }), 400,
    'invalid_ports', 'discover: a bad port');
json_error_ok(call(POST => '/api/discover', { subnet => '127.0.0.1', ports => [{ port => 8006, type => 'pmg' }] }), 400,
    'invalid_ports', 'discover: a bad type');
json_error_ok(call(POST => '/api/discover', { subnet => '127.0.0.1', ports => [map { { port => 1, type => 'pve' } } 1 .. 5] }), 400,
    'invalid_ports', 'discover: too many ports');
is_deeply(call(GET => '/api/discover')->json, { servers => [], errors => [], subnet => '', updated => 0, scanning => false },
    'discover GET: nothing scanned yet');

$res = call(POST => '/api/discover', { subnet => '127.0.0.0/28', ports => \@ports }, $writer);
is($res->code, 200, 'discover: 200 with a settings:write token') or diag $res->body;
my $found = $res->json;
# Sorted by address then port (random ports here): compared by type.
my @servers = sort { $a->{type} cmp $b->{type} } map { { %$_, hostname => 'x' } } @{ $found->{servers} };
is_deeply([map { $_->{port} } @{ $found->{servers} }], [sort { $a <=> $b } map { $_->{port} } @{ $found->{servers} }],
    'discover: sorted by port');
is_deeply(\@servers, [
    { ip => '127.0.0.1', port => $pbs_sim->{port}, type => 'pbs', version => $servers[0]{version}, hostname => 'x' },
    { ip => '127.0.0.1', port => $sim->{port}, type => 'pve', version => 'Unknown', hostname => 'x' },
], 'discover: the two simulators, not nginx') or diag($res->body);
like($servers[0]{version} // '', qr/^\d+\.\d+/, 'discover: the open PBS answers its version');
is_deeply($found->{errors}, [], 'discover: no errors');
my $cached = call(GET => '/api/discover')->json;
is_deeply($cached->{servers}, $found->{servers}, 'discover GET: the cached result');
is($cached->{subnet}, '127.0.0.0/28', 'discover GET: its subnet');
ok($cached->{updated} >= time - 60, 'discover GET: when');

no_secret_in_logs($stack, $secret, $mint->{setupCode}, $fresh);
done_testing();
