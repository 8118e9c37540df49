#!/usr/bin/perl
# 86-pulse-admin.t: pulse-admin against the real stack, with the stack's settings file: usage
# and exit statuses; schema-version; create-user (the password from stdin, never the command
# line) and a login through the API with it and with the token it prints; a second one
# refused; reset-password (the old session and password refused, the new one accepted);
# tokens and revoke-token (a revoked token refused by the API at once); export and import of
# the configuration bundle (a deleted node comes back, a wrong passphrase changes nothing);
# verify-audit on the intact chain (with pulse-admin's own events) and on an edited one.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempdir);
use Mojo::UserAgent;
use Test::More;
use PulseStack;

my $stack = PulseStack->new->start;
my $ua = $stack->ua;
my $bin = PulseStack::builddir() . '/worker/pulse-admin';
my $tmp = tempdir(CLEANUP => 1);

# Runs pulse-admin with the stack's settings and stdin; returns (exit status, stdout+stderr).
sub admin {
    my ($stdin, @args) = @_;
    open my $fh, '>', "$tmp/stdin" or die $!;
    print {$fh} $stdin // '';
    close $fh;
    my $cmd = join ' ', map { my $s = $_; $s =~ s/'/'\\''/g; "'$s'" } $bin, @args;
    my $out = qx{PULSE_CONFIG='@{[ $stack->conf_path ]}' $cmd < '$tmp/stdin' 2>&1};
    return ($? >> 8, $out);
}

# --- usage --------------------------------------------------------------------------------
my ($rc, $out) = admin(undef);
is($rc, 2, 'no command: exit 2');
like($out, qr/^usage: pulse-admin/m, 'no command: the usage');
($rc, $out) = admin(undef, '--help');
is($rc, 0, '--help: exit 0');
like($out, qr/create-user NAME.*reset-password NAME.*tokens.*revoke-token ID.*schema-version.*export.*import FILE.*verify-audit/s,
    '--help names every command');
($rc, $out) = admin(undef, 'frobnicate');
is($rc, 2, 'an unknown command: exit 2');
like($out, qr/unknown command frobnicate/, 'an unknown command: named');
($rc, $out) = admin(undef, 'create-user');
is($rc, 2, 'a missing argument: exit 2');
($rc, $out) = admin(undef, 'tokens', 'extra');
is($rc, 2, 'an extra argument: exit 2');
($rc, $out) = admin(undef, '-c', "$tmp/none.conf", 'tokens');
is($rc, 2, 'a missing settings file: exit 2');
like($out, qr/configuration error/, 'a missing settings file: said');

# --- schema-version -----------------------------------------------------------------------
my $schema = $stack->psql('SELECT max(version) FROM pulse.schema_migrations');
($rc, $out) = admin(undef, 'schema-version');
is($rc, 0, 'schema-version: exit 0 when the database is this build\'s');
like($out, qr/^database schema $schema, this build $schema$/m, "schema-version: $schema");

# --- create-user --------------------------------------------------------------------------
my $pw = 'correct horse battery staple';
($rc, $out) = admin("short\n", 'create-user', 'admin');
is($rc, 1, 'create-user: a short password refused (exit 1)');
like($out, qr/password must be at least 12 characters long/, 'create-user: the API\'s message');
($rc, $out) = admin("$pw\n", 'create-user', 'bad name');
is($rc, 1, 'create-user: a user name with a space refused');
($rc, $out) = admin("", 'create-user', 'admin');
is($rc, 1, 'create-user: no password on stdin refused');
is($stack->psql('SELECT count(*) FROM pulse.users'), 0, 'nothing created by the refusals');

($rc, $out) = admin("$pw\n", 'create-user', 'admin');
is($rc, 0, 'create-user: exit 0') or diag $out;
like($out, qr/^administrator admin created$/m, 'create-user: says so');
my ($token) = $out =~ /store it now\): ([0-9a-f]{64})$/m;
ok($token, 'create-user: the new API token printed once');
unlike($out, qr/\Q$pw\E/, 'the password is not echoed');
ok(!-e $stack->dir . '/data/.bootstrap_token', 'the bootstrap token is gone');
$stack->{admin} = { user => 'admin', password => $pw, token => $token };

my ($sess, $csrf) = eval { $stack->login };
ok($sess, 'the API logs the new administrator in') or diag $@;
is($ua->get($stack->url('/api/state') => $stack->token_headers)->result->code, 200,
    'the printed token is accepted by the API');
is($ua->get($stack->url('/api/state') => $stack->token_headers('0' x 64))->result->code, 401,
    'another token is not');
my $res = $ua->get($stack->url('/api/security/status'))->result;
is($res->json->{hasAuthentication} ? 1 : 0, 1, 'the API reports authentication configured') or diag $res->body;
($rc, $out) = admin("$pw\n", 'create-user', 'other');
is($rc, 1, 'create-user: a second administrator refused');
like($out, qr/an administrator exists already/, 'create-user: says why');

# --- reset-password -----------------------------------------------------------------------
my $pw2 = 'another horse battery staple';
is($sess->get($stack->url('/api/state'))->result->code, 200, 'the session works before the reset');
($rc, $out) = admin("$pw2\n", 'reset-password', 'nobody');
is($rc, 1, 'reset-password: an unknown user refused');
($rc, $out) = admin("tiny\n", 'reset-password', 'admin');
is($rc, 1, 'reset-password: a short password refused');
($rc, $out) = admin("$pw2\n", 'reset-password', 'admin');
is($rc, 0, 'reset-password: exit 0') or diag $out;
is($sess->get($stack->url('/api/state'))->result->code, 401, 'the old session is ended');
ok(!eval { $stack->login; 1 }, 'the old password is refused');
$stack->{admin}{password} = $pw2;
ok(eval { $stack->login; 1 }, 'the new password logs in') or diag $@;

# --- tokens and revoke-token ----------------------------------------------------------------
my $t = $stack->agent_token('ci-token', 'monitoring:read');
is($ua->get($stack->url('/api/state') => { 'X-API-Token' => $t->{raw} })->result->code, 200,
    'a new token works');
($rc, $out) = admin(undef, 'tokens');
is($rc, 0, 'tokens: exit 0');
like($out, qr/^\Q$t->{id}\E\s+ci-token\s+\S+\.\.\.\S+\s+\S+Z\s+\S+\s+monitoring:read$/m, 'tokens: the new token with its scopes');
like($out, qr/Primary token .* \*$/m, 'tokens: the primary token with every scope');
unlike($out, qr/\Q$t->{raw}\E|\Q$token\E/, 'tokens: no raw token');
($rc, $out) = admin(undef, 'revoke-token', $t->{id});
is($rc, 0, 'revoke-token: exit 0') or diag $out;
is($ua->get($stack->url('/api/state') => { 'X-API-Token' => $t->{raw} })->result->code, 401,
    'the revoked token is refused by the API');
($rc, $out) = admin(undef, 'revoke-token', $t->{id});
is($rc, 1, 'revoke-token: a second time, not found (exit 1)');
($rc, $out) = admin(undef, 'revoke-token', 'not-a-uuid');
is($rc, 1, 'revoke-token: a malformed id, not found');
is($ua->get($stack->url('/api/state') => $stack->token_headers)->result->code, 200, 'the primary token still works');

# --- export and import ----------------------------------------------------------------------
my $sim = $stack->start_sim(nodes => 1, guests => 1, token => 'root@pam!t=x');
$res = $ua->post($stack->url('/api/config/nodes') => $stack->token_headers => json => { type => 'pve',
    name => 'exported', host => $sim->{url}, tokenName => 'root@pam!t', tokenValue => 'x',
    fingerprint => $sim->{fingerprint} })->result;
ok($res->is_success, 'a node to export') or diag $res->body;
my $phrase = 'a passphrase of some length';
($rc, $out) = admin("short\n", 'export', '-o', "$tmp/bundle");
is($rc, 1, 'export: a short passphrase refused');
($rc, $out) = admin("$phrase\n", 'export', '-o', "$tmp/bundle");
is($rc, 0, 'export: exit 0') or diag $out;
my $bundle = do { local (@ARGV, $/) = "$tmp/bundle"; <> };
like($bundle, qr/^[A-Za-z0-9+\/]+=*\n$/, 'export: one line of base64');
unlike($bundle, qr/exported/, 'export: encrypted');
($rc, $out) = admin("$phrase\n", 'export');
is($rc, 0, 'export to stdout: exit 0');
like($out, qr/^[A-Za-z0-9+\/]{100,}=*$/m, 'export to stdout: the bundle');

my $nodes = sub { [map { $_->{name} } @{ $ua->get($stack->url('/api/config/nodes') => $stack->token_headers)->result->json }] };
is_deeply($nodes->(), ['exported'], 'the node is configured');
my ($id) = map { $_->{id} } @{ $ua->get($stack->url('/api/config/nodes') => $stack->token_headers)->result->json };
is($ua->delete($stack->url("/api/config/nodes/$id") => $stack->token_headers)->result->code, 200, 'the node deleted');
is_deeply($nodes->(), [], 'no node now');
($rc, $out) = admin("the wrong passphrase\n", 'import', "$tmp/bundle");
is($rc, 1, 'import: a wrong passphrase refused');
like($out, qr/Failed to import configuration: failed to decrypt/, 'import: the API\'s reason');
is_deeply($nodes->(), [], 'a refused import changes nothing');
($rc, $out) = admin("$phrase\n", 'import', "$tmp/missing");
is($rc, 2, 'import: a missing file, exit 2');
($rc, $out) = admin("$phrase\n", 'import', "$tmp/bundle");
is($rc, 0, 'import: exit 0') or diag $out;
like($out, qr/Configuration imported: 1 PVE/, 'import: what was imported');
is_deeply($nodes->(), ['exported'], 'the imported node is back in the API');
is($ua->get($stack->url('/api/state') => $stack->token_headers)->result->code, 200,
    'the imported tokens include the primary one');

# --- verify-audit ---------------------------------------------------------------------------
($rc, $out) = admin(undef, 'verify-audit');
is($rc, 0, 'verify-audit: exit 0 on an intact chain') or diag $out;
like($out, qr/^audit log intact: \d+ rows/m, 'verify-audit: intact');
my $events = $stack->psql(q{SELECT string_agg(event || ' ' || username, ',' ORDER BY seq)
    FROM pulse.audit_events WHERE path LIKE 'pulse-admin %' AND success});
like($events, qr/^setup admin,password_change admin,token_deleted pulse-admin:\S+,config_export pulse-admin:\S+,config_export pulse-admin:\S+,config_import pulse-admin:\S+$/,
    'pulse-admin\'s own events are in the audit trail');
$stack->psql(q{UPDATE pulse.audit_events SET details = 'edited' WHERE seq = (SELECT min(seq) + 1 FROM pulse.audit_events)});
($rc, $out) = admin(undef, 'verify-audit');
is($rc, 1, 'verify-audit: exit 1 on an edited row');
like($out, qr/^audit log broken at seq \d+/m, 'verify-audit: where it breaks');

# No secret reached the logs.
my $logs = $stack->log_text;
unlike($logs, qr/\Q$pw\E|\Q$pw2\E|\Q$phrase\E/, 'no password or passphrase in the logs');
done_testing;
