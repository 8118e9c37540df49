#!/usr/bin/perl
# 80-config-export.t: POST /api/config/export and /api/config/import (security.md §10): a
# configuration exported from one stack, decrypted here with the documented parameters
# (python3-cryptography), imported into a second stack with its nodes, alerts, channels,
# settings, tokens and OIDC settings (an old token still works, the worker polls the imported
# nodes, the OIDC client secret travels in clear inside the bundle and is sealed again; a
# bundle without oidc deletes them and ends the OIDC sessions; OIDC_* variables still win); a
# bundle built here in the original's field names imports; every refusal (wrong passphrase,
# truncated, another passphrase, wrong types, empty nodes over existing ones, a bad part late
# in the bundle, oversized, no or wrong credentials, a proxy user who is not an admin) is a
# 4xx that leaves the database as it was; audit rows for both, no secret in any log.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempfile);
use Mojo::JSON qw(true false encode_json decode_json);
use Mojo::UserAgent;
use Test::More;
use PulseStack;
use PulseTest;

# The documented cipher, written independently of the server: PBKDF2-HMAC-SHA256 (100,000
# iterations, 32-byte salt), AES-256-GCM (12-byte nonce), base64(salt | nonce | ct | tag).
my $cipher = <<'PY';
import base64, os, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
mode, passphrase, path = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
data = open(path, 'rb').read()
def key(salt):
    return PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=100000).derive(passphrase)
if mode == 'enc':
    salt, nonce = os.urandom(32), os.urandom(12)
    sys.stdout.write(base64.b64encode(salt + nonce + AESGCM(key(salt)).encrypt(nonce, data, None)).decode())
else:
    raw = base64.b64decode(data, validate=True)
    assert len(raw) >= 32 + 12 + 16
    salt, nonce, ct = raw[:32], raw[32:44], raw[44:]
    sys.stdout.buffer.write(AESGCM(key(salt)).decrypt(nonce, ct, None))
PY
sub run_cipher {
    my ($mode, $pass, $input) = @_;
    my ($fh, $file) = tempfile(UNLINK => 1);
    binmode $fh;
    print {$fh} $input;
    close $fh;
    # A wrong key is an expected failure: its traceback is not shown.
    open my $saved, '>&', \*STDERR or die "dup: $!";
    open STDERR, '>', '/dev/null' or die "/dev/null: $!";
    open my $py, '-|', 'python3', '-c', $cipher, $mode, $pass, $file or die "python3: $!";
    open STDERR, '>&', $saved or die "restore: $!";
    local $/;
    my $out = <$py>;
    close $py;
    return $? == 0 ? $out : undef;
}
sub encrypt_doc { run_cipher('enc', $_[0], ref $_[1] ? encode_json($_[1]) : $_[1]) }
sub decrypt_doc { my $t = run_cipher('dec', @_); defined $t ? decode_json($t) : undef }

my $pass = 'a long enough passphrase';
my $proxy_secret = 'proxy-secret-' . join('', map { sprintf '%02x', int rand 256 } 1 .. 12);

# --- stack A: a configuration to move ----------------------------------------------------
# A trusted proxy on 127.0.0.2 (for the rate limit: plain loopback clients are exempt).
my $a = PulseStack->new(settings => { trusted_proxies => '127.0.0.2' })->start;
$a->setup_admin;
my $ua = $a->ua;
my $auth_a = $a->token_headers;
my $monitor = $a->agent_token('read only', 'monitoring:read');
my $writer = $a->agent_token('settings writer', 'settings:write');
is($ua->post($a->url('/api/system/settings/update') => $auth_a => json => {
    webhookAllowedPrivateCIDRs => '127.0.0.1/32', publicURL => 'https://pulse.example.test' })->result->code,
    200, 'A: system settings set');
my @nodes = (
    { type => 'pve', name => 'pve-lab', host => 'https://127.0.0.1:9', tokenName => 'root@pam!pulse',
      tokenValue => 'pve-token-secret-1111', monitorBackups => false, guestURL => 'https://guests.example.test' },
    { type => 'pbs', name => 'pbs-lab', host => 'https://127.0.0.1:11', user => 'backup@pbs',
      password => 'pbs-password-secret-2222', monitorDatastores => true },
    { type => 'pmg', name => 'pmg-lab', host => 'https://127.0.0.1:13', tokenName => 'api@pmg!t',
      tokenValue => 'pmg-token-secret-3333', monitorQueues => true },
);
for my $n (@nodes) {
    my $res = $ua->post($a->url('/api/config/nodes') => $auth_a => json => $n)->result;
    is($res->code, 201, "A: node $n->{name} added") or diag $res->body;
}
my $alerts = $ua->get($a->url('/api/alerts/config') => $auth_a)->result->json;
$alerts->{hysteresisMargin} = 7.5;
$alerts->{guestDefaults}{cpu} = { trigger => 91, clear => 81 };
is($ua->put($a->url('/api/alerts/config') => $auth_a => json => $alerts)->result->code, 200, 'A: alert config saved');
is($ua->put($a->url('/api/notifications/email') => $auth_a => json => {
    enabled => true, server => 'smtp.example.test', port => 2525, username => 'mailer',
    password => 'smtp-password-secret-4444', from => 'pulse@example.test', to => ['ops@example.test'] })->result->code,
    200, 'A: email saved');
my $res;
my $hook = $ua->post($a->url('/api/notifications/webhooks') => $auth_a => json => {
    name => 'hook', url => 'http://127.0.0.1:9/hooks/webhook-url-secret-5555', enabled => true,
    headers => { Authorization => 'Bearer header-secret-6666' } })->result;
is($hook->code, 200, 'A: webhook created') or diag $hook->body;
# OIDC settings (no provider needed: they are only saved and moved).
my %oidc = (enabled => true, issuerUrl => 'https://sso.example.test/realms/main', clientId => 'pulse-a',
    clientSecret => 'oidc-client-secret-abab', redirectUrl => 'https://pulse.example.test/api/oidc/callback',
    logoutUrl => 'https://sso.example.test/logout', scopes => [qw(openid profile email groups)],
    groupsClaim => 'groups', allowedGroups => [qw(staff ops)], allowedDomains => ['example.test'],
    adminGroups => ['pulse-admins'], tokenAuthMethod => 'client_secret_post');
$res = $ua->put($a->url('/api/security/oidc') => $auth_a => json => \%oidc)->result;
is($res->code, 200, 'A: OIDC settings saved') or diag $res->body;
my $oidc_a = $res->json;
my @secrets = ('oidc-client-secret-abab', 'pve-token-secret-1111', 'pbs-password-secret-2222', 'pmg-token-secret-3333',
    'smtp-password-secret-4444', 'webhook-url-secret-5555', 'header-secret-6666', $pass, $a->{admin}{token},
    $monitor->{raw});

# --- export ------------------------------------------------------------------------------
my $export = $a->url('/api/config/export');
$res = $ua->post($export => $auth_a => json => { passphrase => $pass })->result;
is($res->code, 200, 'export with X-API-Token: 200');
is($res->json->{status}, 'success', 'export: status success');
my $bundle = $res->json->{data};
like($bundle, qr{^[A-Za-z0-9+/]+=*$}, 'export: data is standard base64');
ok(length($bundle) % 4 == 0, 'export: padded');
unlike($res->body, qr/pve-token-secret/, 'export: no secret in clear in the answer');

my $doc = decrypt_doc($pass, $bundle);
ok($doc, 'our bundle decrypts with the documented parameters, independently') or BAIL_OUT('no bundle');
is(run_cipher('dec', 'another passphrase!', $bundle), undef, 'and not with another passphrase');
is($doc->{version}, '4.1', 'bundle version 4.1');
like($doc->{exportedAt}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'exportedAt in RFC 3339');
is_deeply([sort keys %{ $doc->{nodes} }], [qw(pbsInstances pmgInstances pveInstances)], 'nodes: the three lists');
my ($pve) = @{ $doc->{nodes}{pveInstances} };
is($pve->{Name}, 'pve-lab', 'PVE: Name (the original\'s Go field names)');
is($pve->{Host}, 'https://127.0.0.1:9', 'PVE: Host');
is($pve->{TokenName}, 'root@pam!pulse', 'PVE: TokenName');
is($pve->{TokenValue}, 'pve-token-secret-1111', 'PVE: TokenValue in clear');
is($pve->{GuestURL}, 'https://guests.example.test', 'PVE: GuestURL');
is($pve->{MonitorBackups}, false, 'PVE: MonitorBackups as set');
is($pve->{MonitorVMs}, true, 'PVE: MonitorVMs default');
ok(exists $pve->{MonitorPhysicalDisks} && !defined $pve->{MonitorPhysicalDisks}, 'PVE: MonitorPhysicalDisks null');
my ($pbs) = @{ $doc->{nodes}{pbsInstances} };
is($pbs->{User}, 'backup@pbs', 'PBS: User');
is($pbs->{Password}, 'pbs-password-secret-2222', 'PBS: Password in clear');
is($pbs->{MonitorDatastores}, true, 'PBS: MonitorDatastores');
my ($pmg) = @{ $doc->{nodes}{pmgInstances} };
is($pmg->{TokenValue}, 'pmg-token-secret-3333', 'PMG: TokenValue in clear');
is($pmg->{MonitorQueues}, true, 'PMG: MonitorQueues');
is($doc->{alerts}{hysteresisMargin}, 7.5, 'alerts: our configuration in the original\'s JSON');
is($doc->{alerts}{guestDefaults}{cpu}{trigger}, 91, 'alerts: guest CPU trigger');
is($doc->{email}{password}, 'smtp-password-secret-4444', 'email: password in clear');
is($doc->{email}{server}, 'smtp.example.test', 'email: server');
is(scalar @{ $doc->{webhooks} }, 1, 'webhooks: one');
is($doc->{webhooks}[0]{url}, 'http://127.0.0.1:9/hooks/webhook-url-secret-5555', 'webhooks: URL in clear');
is($doc->{webhooks}[0]{headers}{Authorization}, 'Bearer header-secret-6666', 'webhooks: headers in clear');
ok(exists $doc->{apprise}{enabled}, 'apprise: present');
is($doc->{system}{webhookAllowedPrivateCIDRs}, '127.0.0.1/32', 'system: webhook allowlist');
is($doc->{system}{publicURL}, 'https://pulse.example.test', 'system: publicURL');
is($doc->{system}{pvePollingInterval}, 10, 'system: pvePollingInterval from pulse.conf');
is($doc->{system}{temperatureMonitoringEnabled}, true, 'system: temperatureMonitoringEnabled from pulse.conf');
my $o = $doc->{oidc};
is($o->{clientSecret}, 'oidc-client-secret-abab', 'oidc: the client secret in clear');
is_deeply([@$o{qw(enabled issuerUrl clientId redirectUrl logoutUrl groupsClaim)}],
    [true, @oidc{qw(issuerUrl clientId redirectUrl logoutUrl groupsClaim)}], 'oidc: the original\'s field names');
is_deeply([$o->{scopes}, $o->{allowedGroups}, $o->{allowedDomains}, $o->{usernameClaim}, $o->{emailClaim}],
    [$oidc{scopes}, $oidc{allowedGroups}, $oidc{allowedDomains}, 'preferred_username', 'email'], 'oidc: lists and claims');
ok(!exists $o->{allowedEmails} && !exists $o->{caBundle}, 'oidc: empty omitempty fields left out, as the original');
is_deeply([$o->{adminGroups}, $o->{tokenAuthMethod}], [['pulse-admins'], 'client_secret_post'],
    'oidc: our adminGroups and tokenAuthMethod');
ok(!exists $o->{clientSecretSet} && !exists $o->{envOverrides}, 'oidc: no API-only field');
my %hashes = map { $_->{hash} => $_ } @{ $doc->{apiTokens} };
is(scalar keys %hashes, 3, 'apiTokens: all three');
ok($hashes{ $a->sha3_hex($a->{admin}{token}) }, 'apiTokens: the admin token\'s SHA3-256 hash');
my $mon = $hashes{ $a->sha3_hex($monitor->{raw}) };
is_deeply($mon->{scopes}, ['monitoring:read'], 'apiTokens: scopes');
is($mon->{id}, $monitor->{id}, 'apiTokens: id');
is($mon->{name}, 'read only', 'apiTokens: name');
like($mon->{createdAt}, qr/^\d{4}-.*Z$/, 'apiTokens: createdAt');

# A session exports too (with its CSRF token).
my ($sua, $csrf) = $a->login;
$res = $sua->post($export => { 'X-CSRF-Token' => $csrf } => json => { passphrase => $pass })->result;
is($res->code, 200, 'export with a session: 200');
$res = $sua->post($export => json => { passphrase => $pass })->result;
json_error_ok($res, 403, 'csrf_failed', 'export with a session but no CSRF token');
$csrf = $res->headers->header('X-CSRF-Token') // $csrf;    # rotated by the refusal

# Refusals of the export.
json_error_ok($ua->post($export => $auth_a => json => { passphrase => 'short' })->result, 400, 'weak_passphrase',
    'export: passphrase under 12 characters');
is($ua->post($export => $auth_a => json => { passphrase => 'x' x 11 })->result->json->{error},
    'Passphrase must be at least 12 characters long', 'export: the original\'s message');
is($ua->post($export => $auth_a => json => {})->result->json->{error}, 'Passphrase is required',
    'export: missing passphrase');
is($ua->post($export => { %$auth_a, 'Content-Type' => 'application/json' } => '{"passphrase":')->result->json->{error},
    'Invalid request body', 'export: malformed body');
json_error_ok($ua->post($export => $auth_a => json => { passphrase => $pass, pad => 'x' x 9000 })->result, 413,
    'payload_too_large', 'export: body over 8 KiB');
$res = json_error_ok($ua->post($export => json => { passphrase => $pass })->result, 401, 'unauthorized',
    'export: no credentials');
$res = $ua->post($export => { Authorization => "Bearer $a->{admin}{token}" } => json => { passphrase => $pass })->result;
is($res->code, 401, 'export: a Bearer token is not accepted here');
is($res->json->{error}, 'Unauthorized - please log in or provide API token', 'export: the original\'s 401 message');
$res = $ua->post($export . "?token=$a->{admin}{token}" => json => { passphrase => $pass })->result;
is($res->code, 401, 'export: a ?token= is not accepted here');
json_error_ok($ua->post($export => $monitor->{headers} => json => { passphrase => $pass })->result, 403,
    'missing_scope', 'export: a token without settings:write');
is($ua->post($export => { 'X-API-Token' => $writer->{raw} } => json => { passphrase => $pass })->result->code, 200,
    'export: a settings:write token');

# The export class: 5 requests in 5 minutes per client address, export and import together.
my $far = Mojo::UserAgent->new(insecure => 1, max_redirects => 0, socket_options => { LocalAddr => '127.0.0.2' });
my %fwd = (%$auth_a, 'X-Forwarded-For' => '198.51.100.30');
my @codes = map { $far->post($export => \%fwd => json => { passphrase => $pass })->result->code } 1 .. 5;
is_deeply(\@codes, [(200) x 5], 'five exports from one client address pass');
json_error_ok($far->post($export => \%fwd => json => { passphrase => $pass })->result, 429, 'rate_limited',
    'the sixth in five minutes');
json_error_ok($far->post($a->url('/api/config/import') => \%fwd => json => { data => $bundle, passphrase => $pass })->result,
    429, 'rate_limited', 'an import from that client too (one class)');
is($far->post($export => { %fwd, 'X-Forwarded-For' => '198.51.100.31' } => json => { passphrase => $pass })->result->code,
    200, 'another client address has its own budget');

# --- stack B: import ---------------------------------------------------------------------
my $b = PulseStack->new(settings => { proxy_auth_secret => $proxy_secret,
    proxy_auth_user_header => 'X-Remote-User', proxy_auth_role_header => 'X-Remote-Roles',
    proxy_auth_admin_role => 'admin' })->start;
# With proxy authentication there is no first-run setup: B's proxy admin makes B's token.
my %proxy = ('X-Proxy-Secret' => $proxy_secret, 'X-Remote-User' => 'viewer');
my %proxy_admin = (%proxy, 'X-Remote-User' => 'boss', 'X-Remote-Roles' => 'admin');
$res = $ua->post($b->url('/api/security/tokens') => \%proxy_admin => json => { name => 'B admin' })->result;
is($res->code, 200, 'B: a token made by the proxy admin') or diag $res->body;
$b->{admin} = { token => $res->json->{token} };
my $auth_b = $b->token_headers;
my $import = $b->url('/api/config/import');
push @secrets, $b->{admin}{token};

# The state of every table an import writes, to compare after a refusal.
my $snapshot = sub {
    my $s = shift;
    return $s->psql(q{SELECT concat_ws('|',
        (SELECT string_agg(concat_ws(',', id, type, name, host, username, password_enc, token_name,
            token_value_enc, fingerprint, verify_ssl, monitor_vms, monitor_backups, cluster_endpoints::text),
            ';' ORDER BY id) FROM pulse.instances),
        (SELECT doc::text FROM pulse.alert_config),
        (SELECT string_agg(concat_ws(',', kind, id, enabled, config), ';' ORDER BY kind, id)
            FROM pulse.notification_channels),
        (SELECT string_agg(key || '=' || value::text, ';' ORDER BY key) FROM pulse.system_settings),
        (SELECT string_agg(concat_ws(',', id, hash, scopes::text), ';' ORDER BY id) FROM pulse.api_tokens),
        (SELECT concat_ws(',', config::text, client_secret) FROM pulse.oidc_config),
        (SELECT string_agg(key_hash || ',' || oidc_issuer, ';' ORDER BY key_hash) FROM pulse.sessions
            WHERE oidc_issuer IS NOT NULL))});
};
my $refused = sub {
    my ($s, $body, $headers, $status, $code, $name, $msg) = @_;
    my $before = $snapshot->($s);
    my $r = $ua->post($s->url('/api/config/import') => $headers => json => $body)->result;
    my $e = json_error_ok($r, $status, $code, $name);
    like($e->{error} // '', $msg, "$name: $e->{error}") if $msg;
    is($snapshot->($s), $before, "$name: nothing written");
    return $e;
};

# Something on B first, so that refusals have something to leave alone.
is($ua->post($b->url('/api/config/nodes') => $auth_b => json => { type => 'pbs', name => 'b-own',
    host => 'https://127.0.0.1:15', user => 'root@pam', password => 'b-own-password-7777' })->result->code,
    201, 'B: a node of its own');
push @secrets, 'b-own-password-7777';

$refused->($b, { data => $bundle, passphrase => 'the wrong passphrase' }, $auth_b, 400, 'import_failed',
    'wrong passphrase', qr/^Failed to import configuration: failed to decrypt import data: cipher: message authentication failed$/);
$refused->($b, { data => substr($bundle, 0, int(length($bundle) / 2) & ~3), passphrase => $pass }, $auth_b, 400,
    'import_failed', 'truncated bundle', qr/failed to decrypt import data/);
$refused->($b, { data => 'QUJD', passphrase => $pass }, $auth_b, 400, 'import_failed', 'a bundle of three bytes',
    qr/ciphertext too short/);
$refused->($b, { data => 'not base64 at all!', passphrase => $pass }, $auth_b, 400, 'import_failed',
    'not base64', qr/failed to decode import data/);
$refused->($b, { data => encrypt_doc('another passphrase here', $doc), passphrase => $pass }, $auth_b, 400,
    'import_failed', 're-encrypted with another passphrase', qr/message authentication failed/);
$refused->($b, { data => encrypt_doc($pass, '{"version":"4.1", "nodes": '), passphrase => $pass }, $auth_b, 400,
    'import_failed', 'encrypted text that is not JSON', qr/failed to unmarshal import data/);
my %wrong = (
    'VerifySSL a string' => sub { $_[0]{nodes}{pveInstances}[0]{VerifySSL} = 'yes' },
    'nodes an array' => sub { $_[0]{nodes} = [] },
    'apiTokens a string' => sub { $_[0]{apiTokens} = 'all of them' },
    'alerts an array' => sub { $_[0]{alerts} = [] },
    'email a number' => sub { $_[0]{email} = 7 },
    'a token hash too short' => sub { $_[0]{apiTokens}[0]{hash} = 'abc' },
    'an unknown scope' => sub { $_[0]{apiTokens}[0]{scopes} = ['everything'] },
    'a host that is not one' => sub { $_[0]{nodes}{pbsInstances}[0]{Host} = 'ftp://x' },
    'a webhook to a private address not allowed' => sub { $_[0]{system}{webhookAllowedPrivateCIDRs} = '' },
    'PhysicalDiskPollingMinutes a string' => sub { $_[0]{nodes}{pveInstances}[0]{PhysicalDiskPollingMinutes} = '5' },
    'a cluster member\'s Online a string' => sub { $_[0]{nodes}{pveInstances}[0]{ClusterEndpoints} = [{ NodeName => 'x', Online => 'yes' }] },
    'a token secret with a line feed' => sub { $_[0]{nodes}{pmgInstances}[0]{TokenValue} = "abc\r\nX-Injected: 1" },
    'a name too long' => sub { $_[0]{nodes}{pveInstances}[0]{Name} = 'n' x 200 },
    'the same token twice' => sub { push @{ $_[0]{apiTokens} }, { %{ $_[0]{apiTokens}[0] } } },
    'oidc an array' => sub { $_[0]{oidc} = [] },
    'oidc enabled a string' => sub { $_[0]{oidc}{enabled} = 'true' },
    'oidc scopes a string' => sub { $_[0]{oidc}{scopes} = 'openid' },
    'oidc clientSecret a number' => sub { $_[0]{oidc}{clientSecret} = 42 },
    'oidc groupRoleMappings a list' => sub { $_[0]{oidc}{groupRoleMappings} = ['staff'] },
    'oidc an issuer that is not a URL' => sub { $_[0]{oidc}{issuerUrl} = 'ftp://sso.example.test' },
    'oidc tokenAuthMethod unknown' => sub { $_[0]{oidc}{tokenAuthMethod} = 'private_key_jwt' },
);
for my $case (sort keys %wrong) {
    my $bad = decode_json(encode_json($doc));
    $wrong{$case}->($bad);
    $refused->($b, { data => encrypt_doc($pass, $bad), passphrase => $pass }, $auth_b, 400, 'import_failed',
        "valid bundle, wrong inside: $case", qr/^Failed to import configuration: /);
}
{
    my $empty = decode_json(encode_json($doc));
    $empty->{nodes} = { pveInstances => [], pbsInstances => [], pmgInstances => [] };
    $refused->($b, { data => encrypt_doc($pass, $empty), passphrase => $pass }, $auth_b, 400, 'import_failed',
        'empty nodes over existing ones', qr/refusing to save empty nodes config when 1 nodes exist/);
}
$refused->($b, { passphrase => $pass }, $auth_b, 400, 'missing_data', 'no data', qr/^Import data is required$/);
$refused->($b, { data => 5, passphrase => $pass }, $auth_b, 400, 'invalid_request', 'data not a string',
    qr/^Invalid request body$/);
$refused->($b, { data => $bundle }, $auth_b, 400, 'missing_passphrase', 'no passphrase', qr/^Passphrase is required$/);
{
    my $before = $snapshot->($b);
    json_error_ok($ua->post($import => $auth_b => json => { data => 'A' x (1024 * 1024 + 10), passphrase => $pass })->result,
        413, 'payload_too_large', 'import: body over 1 MiB');
    is($snapshot->($b), $before, 'import over 1 MiB: nothing written');
}
$refused->($b, { data => $bundle, passphrase => $pass }, {}, 401, 'unauthorized', 'import without credentials');
# B has tokens and no local admin: the original's API-only mode, where the gate itself takes
# only X-API-Token (A showed the handler's own message for a Bearer token).
$refused->($b, { data => $bundle, passphrase => $pass }, { Authorization => "Bearer $b->{admin}{token}" }, 401,
    'unauthorized', 'import with a Bearer token', qr/X-API-Token/);
my $b_monitor = $b->agent_token('b read only', 'monitoring:read');
$refused->($b, { data => $bundle, passphrase => $pass }, { 'X-API-Token' => $b_monitor->{raw} }, 403,
    'missing_scope', 'import with a token lacking settings:write');
$refused->($b, { data => $bundle, passphrase => $pass }, { %proxy, 'X-Remote-Roles' => 'viewer' }, 403,
    'forbidden', 'import by a proxy user who is not an admin', qr/^Admin privileges required for export\/import$/);
$res = $ua->post($b->url('/api/config/export') => { %proxy, 'X-Remote-Roles' => 'viewer' } => json => { passphrase => $pass })->result;
json_error_ok($res, 403, 'forbidden', 'export by a proxy user who is not an admin');
$res = $ua->post($b->url('/api/config/export') => \%proxy_admin => json => { passphrase => $pass })->result;
is($res->code, 200, 'export by a proxy admin: 200');
ok(!exists decrypt_doc($pass, $res->json->{data})->{oidc}, 'B\'s bundle has no oidc key: no OIDC settings there');

# Mock mode switched on through the API blocks node changes, and so an import.
is($ua->post($b->url('/api/system/mock-mode') => $auth_b => json => { enabled => true })->result->code, 200, 'B: mock mode on');
$refused->($b, { data => $bundle, passphrase => $pass }, $auth_b, 403, 'mock_mode', 'import while mock mode is on',
    qr/^Configuration import is disabled while mock mode is on$/);
is($ua->post($b->url('/api/system/mock-mode') => $auth_b => json => { enabled => false })->result->code, 200, 'B: mock mode off');

# The real import.
$res = $ua->post($import => $auth_b => json => { data => $bundle, passphrase => $pass })->result;
is($res->code, 200, 'import of A\'s bundle into B: 200') or diag $res->body;
is($res->json->{status}, 'success', 'import: status success');
is($res->json->{message}, 'Configuration imported successfully', 'import: the original\'s message');
is_deeply($res->json->{imported}, { pveInstances => 1, pbsInstances => 1, pmgInstances => 1, webhooks => 1,
    apiTokens => 3, systemSettings => 2, alerts => true, email => true, apprise => true, oidc => true },
    'import: what was written');
# B's own token went with the replaced list; A's tokens work on B now.
is($ua->get($b->url('/api/config/nodes') => $auth_b)->result->code, 401, 'B\'s old token is gone (replaced)');
is($ua->get($b->url('/api/state') => $monitor->{headers})->result->code, 200, 'a token from A authenticates on B');
my $list = $ua->get($b->url('/api/config/nodes') => $auth_a)->result->json;
is_deeply([sort map { "$_->{type}:$_->{name}:$_->{host}" } @$list],
    ['pbs:pbs-lab:https://127.0.0.1:11', 'pmg:pmg-lab:https://127.0.0.1:13', 'pve:pve-lab:https://127.0.0.1:9'],
    'B has A\'s nodes, and only them');
like($b->psql(q{SELECT token_value_enc FROM pulse.instances WHERE type = 'pve'}), qr/^enc:v1:/, 'imported secrets sealed');
my $dump = qx{pg_dump -h @{[ $b->pg_sock ]} -p $b->{pg_port} -U pulse -d pulse --data-only};
unlike($dump, qr/pve-token-secret|smtp-password-secret|header-secret|oidc-client-secret/,
    'pg_dump of B holds no imported secret in clear');
like($b->psql('SELECT client_secret FROM pulse.oidc_config'), qr/^enc:v1:/, 'the OIDC client secret sealed');
is_deeply($ua->get($b->url('/api/security/oidc') => $auth_a)->result->json, $oidc_a,
    'B\'s GET /api/security/oidc is A\'s (clientSecretSet true, no secret)');

# Export B and compare with A's bundle: the same configuration.
$res = $ua->post($b->url('/api/config/export') => $auth_a => json => { passphrase => $pass })->result;
is($res->code, 200, 'B exports');
my $doc_b = decrypt_doc($pass, $res->json->{data});
for my $d ($doc, $doc_b) {
    delete $d->{exportedAt};
    delete $_->{lastUsedAt} for @{ $d->{apiTokens} };
}
for my $part (qw(nodes alerts email webhooks apprise system apiTokens oidc)) {
    is_deeply($doc_b->{$part}, $doc->{$part}, "B's $part are A's");
}

# The worker reacts: the imported nodes are polled.
my %ids = map { $_->{id} => 1 } @$list;
$b->wait_for(sub {
    my $n = $b->psql(q{SELECT count(*) FROM pulse.poll_status WHERE last_attempt IS NOT NULL AND instance_id IN ('}
        . join("','", keys %ids) . q{')});
    $n == 3 }, 60, 'the worker polling the imported nodes', 'worker-1');
pass('the worker polls every imported node');

# Importing the same bundle again keeps the nodes' ids (same type and host), and the
# sessions of the same OIDC provider; those of another issuer end (as a PUT).
my $oidc_session = sub {
    my ($key, $issuer) = @_;
    $b->psql(qq{INSERT INTO pulse.sessions (key_hash, username, expires_at, duration, oidc_issuer)
        VALUES (repeat('$key', 64), 'sso-$key', now() + interval '1 day', interval '1 day', '$issuer')});
};
$oidc_session->('a', $oidc{issuerUrl});
$oidc_session->('b', 'https://old-sso.example.test');
$res = $ua->post($import => $auth_a => json => { data => $bundle, passphrase => $pass })->result;
is($res->code, 200, 'the same bundle again: 200');
is_deeply([sort map { $_->{id} } @{ $ua->get($b->url('/api/config/nodes') => $auth_a)->result->json }],
    [sort keys %ids], 'and the nodes keep their ids');
is($b->psql(q{SELECT string_agg(username, ',' ORDER BY username) FROM pulse.sessions WHERE oidc_issuer IS NOT NULL}),
    'sso-a', 'the OIDC sessions of the imported issuer stay, another issuer\'s end');
# A wrong OIDC part at the end of a good bundle: nothing written, the OIDC settings kept.
for my $case (['oidc allowedEmails a string', sub { $_[0]{oidc}{allowedEmails} = 'x@example.test' }],
              ['oidc enabled without clientId', sub { delete $_[0]{oidc}{clientId} }]) {
    my $bad = decode_json(encode_json($doc));
    $bad->{nodes}{pbsInstances} = [];
    $case->[1]->($bad);
    $refused->($b, { data => encrypt_doc($pass, $bad), passphrase => $pass }, $auth_a, 400, 'import_failed',
        "over OIDC settings: $case->[0]", qr/^Failed to import configuration: failed to import oidc configuration: /);
}

# OIDC_* variables: the import still saves the settings (no 409), the variables win when read.
$b->start_responder(3, OIDC_CLIENT_ID => 'from-env');
my ($st3, undef, $body3) = $b->fcgi_request(socket => $b->socket_path(3), method => 'POST',
    uri => '/api/config/import', env => { HTTP_X_API_TOKEN => $a->{admin}{token} },
    body => encode_json({ data => $bundle, passphrase => $pass }));
is($st3, 200, 'env: an import through a responder with OIDC_CLIENT_ID') or diag $body3;
($st3, undef, $body3) = $b->fcgi_request(socket => $b->socket_path(3), uri => '/api/security/oidc',
    env => { HTTP_X_API_TOKEN => $a->{admin}{token} });
my $envcfg = decode_json($body3);
is_deeply([$envcfg->{clientId}, $envcfg->{issuerUrl}, $envcfg->{envOverrides}],
    ['from-env', $oidc{issuerUrl}, { clientId => true }], 'env: the variable wins, the rest is the bundle\'s');
$b->stop_program('fcgi-3', 'TERM', 20);
is($ua->get($b->url('/api/security/oidc') => $auth_a)->result->json->{clientId}, 'pulse-a',
    'env: the stored settings are the bundle\'s');

# --- a bundle built here, in the original's format ----------------------------------------
my $raw_token = join '', map { sprintf '%02x', int rand 256 } 1 .. 32;
my $raw_scoped = join '', map { sprintf '%02x', int rand 256 } 1 .. 32;
my $orig = {
    version => '4.1',
    exportedAt => '2026-01-09T21:25:38.123456789+01:00',
    nodes => {
        pveInstances => [{ Name => 'orig-pve', Host => '127.0.0.1:17', User => 'root@pam', Password => '',
            TokenName => 'root@pam!orig', TokenValue => 'orig-token-secret-8888', Fingerprint => '',
            VerifySSL => false, MonitorVMs => true, MonitorContainers => false, MonitorStorage => true,
            MonitorBackups => true, MonitorPhysicalDisks => undef, PhysicalDiskPollingMinutes => 0,
            TemperatureMonitoringEnabled => false, SSHPort => 0, TemperatureProxyURL => '',
            TemperatureProxyToken => '', TemperatureProxyControlToken => '', IsCluster => true,
            ClusterName => 'orig-cluster', Source => '', ClusterEndpoints => [
                { NodeID => 'n1', NodeName => 'orig-n1', Host => 'https://127.0.0.1:17', GuestURL => '', IP => '127.0.0.1',
                  IPOverride => '', Fingerprint => '', Online => true, LastSeen => '2026-01-09T21:25:38Z',
                  PulseReachable => true, LastPulseCheck => undef, PulseError => '', TemperatureProxyControlToken => '' },
                { NodeID => 'n2', NodeName => 'orig-n2', Host => 'https://127.0.0.1:19', IP => '', Online => false,
                  LastSeen => '0001-01-01T00:00:00Z' }] }],
        pbsInstances => [],
        # Go's decoder matches member names in any case.
        pmgInstances => [{ name => 'orig-pmg', HOST => 'pmg.orig.test', user => 'root', password => 'orig-pmg-pw-1212' }],
    },
    alerts => { enabled => true, hysteresisMargin => 4, guestDefaults => { cpu => { trigger => 77, clear => 70 } } },
    email => { enabled => false, server => 'mail.orig.test', port => 465, username => 'o', password => 'orig-mail-9999',
        from => 'o@orig.test', to => [], tls => true, startTLS => false },
    webhooks => [],
    apprise => { enabled => false, mode => 'cli', targets => [] },
    system => { pvePollingInterval => 10, webhookAllowedPrivateCIDRs => '', publicURL => 'https://orig.example.test/',
        theme => 'dark' },
    apiTokens => [{ id => 'f47ac10b-58cc-4372-a567-0e02b2c3d479', name => 'from the original',
        hash => uc $b->sha3_hex($raw_scoped), prefix => substr($raw_scoped, 0, 6), suffix => substr($raw_scoped, -4),
        createdAt => '2025-12-01T10:00:00Z', scopes => ['monitoring:read', 'settings:write'] },
        { id => '9b2f0c55-8a0e-4d53-9c1e-2f3c4d5e6f70', name => 'full', hash => $b->sha3_hex($raw_token),
        createdAt => '2025-11-01T09:30:00.5Z', lastUsedAt => '2025-12-02T08:00:00Z' }],
};
push @secrets, 'orig-pmg-pw-1212', 'orig-token-secret-8888', 'orig-mail-9999', $raw_token, $raw_scoped;
$res = $ua->post($import => $auth_a => json => { data => encrypt_doc($pass, $orig), passphrase => $pass })->result;
is($res->code, 200, 'a bundle built here in the original\'s format imports') or diag $res->body;
is($res->json->{imported}{pveInstances}, 1, 'one PVE node');
is($res->json->{imported}{apiTokens}, 2, 'two tokens');
is($res->json->{imported}{oidc}, false, 'no OIDC settings in it');
is($b->psql('SELECT count(*) FROM pulse.oidc_config'), 0, 'a bundle without oidc deletes the OIDC settings (as the original)');
is($b->psql('SELECT count(*) FROM pulse.sessions WHERE oidc_issuer IS NOT NULL'), 0, 'and ends the OIDC sessions');
is($ua->get($b->url('/api/config/nodes') => $auth_a)->result->code, 401, 'A\'s tokens are gone from B now');
my $orig_auth = { 'X-API-Token' => $raw_token };
is($ua->get($b->url('/api/state') => { 'X-API-Token' => $raw_scoped })->result->code, 200,
    'the original\'s token (upper-case hash) authenticates');
is($ua->get($b->url('/api/state') => $orig_auth)->result->code, 200, 'and its full token (no scopes: all)');
$list = $ua->get($b->url('/api/config/nodes') => $orig_auth)->result->json;
is(scalar @$list, 2, 'only the original\'s nodes');
my ($opve) = grep { $_->{type} eq 'pve' } @$list;
is($opve->{name}, 'orig-pve', 'its name');
is($opve->{host}, 'https://127.0.0.1:17', 'its host normalised');
is($opve->{hasToken}, true, 'its token');
ok(!$opve->{monitorContainers}, 'its MonitorContainers false');
is($opve->{isCluster}, true, 'its cluster');
is($opve->{clusterName}, 'orig-cluster', 'its cluster name');
is_deeply([map { "$_->{NodeName} $_->{Host} " . ($_->{Online} ? 'online' : 'offline') } @{ $opve->{clusterEndpoints} }],
    ['orig-n1 https://127.0.0.1:17 online', 'orig-n2 https://127.0.0.1:19 offline'], 'its cluster members');
my $again = decrypt_doc($pass, $ua->post($b->url('/api/config/export') => $orig_auth => json => { passphrase => $pass })
    ->result->json->{data});
my @members = @{ $again->{nodes}{pveInstances}[0]{ClusterEndpoints} // [] };
is_deeply([map { join ' ', @$_{qw(NodeID NodeName Host IP LastSeen)}, $_->{Online} ? 'online' : 'offline' } @members],
    ['n1 orig-n1 https://127.0.0.1:17 127.0.0.1 2026-01-09T21:25:38Z online',
     'n2 orig-n2 https://127.0.0.1:19  0001-01-01T00:00:00Z offline'],
    'exported again: the members in the original\'s ClusterEndpoint fields');
my ($opmg) = grep { $_->{type} eq 'pmg' } @$list;
is("$opmg->{name} $opmg->{host} $opmg->{user}", 'orig-pmg https://pmg.orig.test:8006 root@pmg',
    'a node written with other cases of the member names: name, host (port added), user (realm added)');
is($opmg->{hasPassword}, true, 'and its password');
my $tokens = $ua->get($b->url('/api/security/tokens') => { 'X-API-Token' => $raw_scoped })->result;
is($tokens->code, 403, 'the scoped token has its scopes (no settings:read)');
is($b->psql(q{SELECT string_agg(array_to_string(scopes, ',') || ' ' || name || ' ' || (created_at AT TIME ZONE 'UTC')
, '; ' ORDER BY name) FROM pulse.api_tokens}),
    'monitoring:read,settings:write from the original 2025-12-01 10:00:00;  full 2025-11-01 09:30:00.5',
    'the tokens\' scopes (none: all), names and creation times');
my $oidc_b = $ua->get($b->url('/api/security/oidc') => $orig_auth)->result->json;
is_deeply([$oidc_b->{enabled}, $oidc_b->{clientSecretSet}, $oidc_b->{issuerUrl}], [false, false, ''],
    'GET /api/security/oidc: the defaults');
my $alerts_b = $ua->get($b->url('/api/alerts/config') => $orig_auth)->result->json;
is($alerts_b->{hysteresisMargin}, 4, 'alerts: hysteresisMargin');
is($alerts_b->{guestDefaults}{cpu}{trigger}, 77, 'alerts: guest CPU trigger');
is($ua->get($b->url('/api/notifications/email') => $orig_auth)->result->json->{server}, 'mail.orig.test', 'email: server');
is($ua->get($b->url('/api/notifications/webhooks') => $orig_auth)->result->json && 1, 1, 'webhooks: answered');
is($b->psql(q{SELECT count(*) FROM pulse.notification_channels WHERE kind = 'webhook'}), 0, 'webhooks: none, as the bundle');
is($b->psql(q{SELECT string_agg(key || '=' || (value #>> '{}'), ';' ORDER BY key) FROM pulse.system_settings}),
    'publicURL=https://orig.example.test', 'system: the keys we keep (publicURL, no empty allowlist)');

# A 4.0 bundle leaves the tokens alone; a missing list in 4.1 removes them (as the original).
my $v40 = decode_json(encode_json($orig));
$v40->{version} = '4.0';
delete $v40->{apiTokens};
$res = $ua->post($import => $orig_auth => json => { data => encrypt_doc($pass, $v40), passphrase => $pass })->result;
is($res->code, 200, 'a 4.0 bundle imports');
ok(!exists $res->json->{imported}{apiTokens}, 'and says no tokens were imported');
is($ua->get($b->url('/api/state') => $orig_auth)->result->code, 200, 'the tokens stay');

# A refusal late in the bundle (a bad token after good nodes) writes nothing at all.
my $late = decode_json(encode_json($doc));
$late->{apiTokens}[-1]{hash} = 'zz' x 32;
$refused->($b, { data => encrypt_doc($pass, $late), passphrase => $pass }, $orig_auth, 400, 'import_failed',
    'a bad token after good nodes', qr/apiTokens\[\d\]: hash must be 64 hex digits/);

# A session imports too (A's own bundle back, with the CSRF token).
$res = $sua->post($a->url('/api/config/import') => { 'X-CSRF-Token' => $csrf } => json => { data => $bundle, passphrase => $pass })->result;
is($res->code, 200, 'import with a session: 200') or diag $res->body;

# --- audit and logs ----------------------------------------------------------------------
is($a->psql(q{SELECT count(*) FROM pulse.audit_events WHERE event = 'config_export' AND success}) >= 3, 1,
    'A: exports audited');
is($a->psql(q{SELECT count(*) FROM pulse.audit_events WHERE event = 'config_export' AND NOT success
    AND details = 'Refused (400): Passphrase must be at least 12 characters long'}), 2, 'A: refused exports audited, with why');
is($a->psql(q{SELECT count(*) FROM pulse.audit_events WHERE event = 'config_export' AND NOT success
    AND details LIKE 'Refused (401): Unauthorized%'}), 2, 'A: exports with refused credentials audited');
is($a->psql(q{SELECT username FROM pulse.audit_events WHERE event = 'config_import' AND success}), 'admin',
    'A: the session\'s import audited under its user');
ok($b->psql(q{SELECT count(*) FROM pulse.audit_events WHERE event = 'config_import' AND success}) >= 3,
    'B: imports audited');
ok($b->psql(q{SELECT count(*) FROM pulse.audit_events WHERE event = 'config_import' AND NOT success}) >= 10,
    'B: refused imports audited');
like($b->psql(q{SELECT details FROM pulse.audit_events WHERE event = 'config_import' AND success ORDER BY ts LIMIT 1}),
    qr/^Configuration imported: 1 PVE, 1 PBS, 1 PMG, 1 webhooks, 3 API tokens$/, 'B: what an import wrote, in its audit row');
for my $s ($a, $b) {
    my $audit = $s->psql(q{SELECT string_agg(details, ' ') FROM pulse.audit_events});
    ok(index($audit, $_) < 0, 'no secret in the audit trail') for grep { length >= 8 } @secrets;
}
no_secret_in_logs($a, @secrets);
no_secret_in_logs($b, @secrets);

$b->stop;
$a->stop;
done_testing;
