#!/usr/bin/perl
# 77-licence.t: the Pulse Pro licence (security.md §11) with a test key pair minted by
# t/tools/mint-licence: activation, status, features and clear with the original's bodies;
# keys expired within and past the 7-day grace, a bad signature, another public key (the
# environment's PULSE_LICENSE_PUBLIC_KEY wins over the setting), garbage, the three-parts
# rule and trimmed whitespace; 402 license_required on a gated route without the licence
# and 200 with it; the licence kept across a restart of the stack, sealed in the database.
use strict;
use warnings;
use File::Temp;
use FindBin;
use POSIX ();
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(encode_json);
use MIME::Base64 qw(encode_base64url);
use Test::More;
use PulseStack;
use PulseTest;

my $mint = PulseStack::srcdir() . '/t/tools/mint-licence';
my $dir = File::Temp::tempdir(CLEANUP => 1);
chomp(my $pub = qx{'$mint' keygen '$dir/test.pem'});
chomp(my $other_pub = qx{'$mint' keygen '$dir/other.pem'});
like($pub, qr{^[A-Za-z0-9+/]{43}=$}, 'a test key pair');

sub mint {
    my ($claims, $key) = @_;
    my $json = ref $claims ? encode_json($claims) : $claims;
    $json =~ s/'/'\\''/g;
    chomp(my $lic = qx{'$mint' sign '$dir/@{[ $key // 'test' ]}.pem' '$json'});
    return $lic;
}

my $stack = PulseStack->new(settings => { license_public_key => $pub })->start;
my $admin = $stack->setup_admin;
my $ua = $stack->ua;
my $h = $stack->token_headers;
my $now = time;
my $day = 86400;

sub activate {
    my ($key) = @_;
    return $ua->post($stack->url('/api/license/activate') => $h => json => { license_key => $key })->result;
}
sub status { $ua->get($stack->url('/api/license/status') => $h)->result }

# No licence: the original's bodies.
my $res = status();
is($res->code, 200, 'status without a licence');
is_deeply($res->json, { valid => Mojo::JSON::false, tier => 'free', is_lifetime => Mojo::JSON::false,
    days_remaining => 0, features => undef }, 'status without a licence: the original body (features null)');
$res = $ua->get($stack->url('/api/license/features') => $h)->result;
is($res->json->{license_status}, 'none', 'features: none');
is_deeply($res->json->{features}, { map { $_ => Mojo::JSON::false } qw(ai_patrol ai_alerts ai_autofix
    kubernetes_ai update_alerts agent_profiles) }, 'features: all false without a licence');
is($res->json->{upgrade_url}, 'https://pulse.sh/pro', 'features: upgrade_url');

# 402 on a gated route without a licence, with the original's body.
$res = $ua->get($stack->url('/api/admin/profiles') => $h)->result;
is($res->code, 402, 'agent profiles without a licence: 402');
is_deeply($res->json, { error => 'license_required', feature => 'agent_profiles',
    message => 'feature not included in license: Centralized Agent Profiles requires Pulse Pro',
    upgrade_url => 'https://pulse.sh/pro' }, '402 body as the original');

# Refusals.
is_deeply(activate('')->json, { success => Mojo::JSON::false, message => 'License key is required' },
    'empty key');
$res = $ua->post($stack->url('/api/license/activate') => { %$h, 'Content-Type' => 'application/json' } => '{nope')->result;
is($res->code, 400, 'bad JSON: 400');
is_deeply($res->json, { success => Mojo::JSON::false, message => 'Invalid request body' }, 'bad JSON: message');
$res = $ua->post($stack->url('/api/license/activate') => $h => json => { license_key => 5 })->result;
is($res->json->{message}, 'Invalid request body', 'a key that is not a string');

my %pro = (lid => 'lic-1', email => 'ops@example.com', tier => 'pro', iat => $now, exp => $now + 30 * $day);
my $good = mint(\%pro);
for my $case (['garbage', 'not a licence at all', qr/^malformed license key: expected 3 parts, got 1$/],
    ['two parts', 'abc.def', qr/^malformed license key: expected 3 parts, got 2$/],
    ['four parts', "$good.x", qr/^malformed license key: expected 3 parts, got 4$/],
    ['payload not base64', 'a.!!!.b', qr/^malformed license key: failed to decode payload$/],
    ['bad signature', do { (my $k = $good) =~ s/\.([^.]+)$/'.' . encode_base64url('x' x 64)/e; $k },
        qr/^invalid license signature$/],
    ['payload changed', do { my @p = split /\./, $good; $p[1] = encode_base64url(encode_json({ %pro, tier => 'enterprise' })); join '.', @p },
        qr/^invalid license signature$/],
    ['signed by another key', mint(\%pro, 'other'), qr/^invalid license signature$/],
    ['missing email', mint({ %pro, email => '' }), qr/^malformed license key: missing email$/],
    ['claims not JSON', mint('not json'), qr/^malformed license key: failed to parse claims$/],
    ['expired past grace', mint({ %pro, exp => $now - 8 * $day }),
        qr/^license has expired: expired on \d{4}-\d\d-\d\d \(grace period ended \d{4}-\d\d-\d\d\)$/]) {
    my ($name, $key, $re) = @$case;
    $res = activate($key);
    is($res->code, 400, "$name: 400");
    is($res->json->{success}, Mojo::JSON::false, "$name: success false");
    like($res->json->{message} // '', $re, "$name: message");
}
is(status()->json->{valid}, Mojo::JSON::false, 'nothing activated by the refusals');
is($stack->psql('SELECT count(*) FROM pulse.license'), 0, 'nothing stored');
my $exp_day = POSIX::strftime('%Y-%m-%d', gmtime($now - 8 * $day));
my $grace_day = POSIX::strftime('%Y-%m-%d', gmtime($now - $day));
is(activate(mint({ %pro, exp => $now - 8 * $day }))->json->{message},
    "license has expired: expired on $exp_day (grace period ended $grace_day)", 'past grace: the days named');

# A good key, surrounded by whitespace.
$res = activate("  \n$good\t\n");
is($res->code, 200, 'activate (whitespace trimmed)');
is($res->json->{message}, 'License activated successfully', 'activate: message');
my $st = $res->json->{status};
is($st->{valid}, Mojo::JSON::true, 'valid');
is($st->{tier}, 'pro', 'tier');
is($st->{email}, 'ops@example.com', 'email');
is($st->{is_lifetime}, Mojo::JSON::false, 'not lifetime');
ok($st->{days_remaining} == 29 || $st->{days_remaining} == 30, "days_remaining $st->{days_remaining}");
like($st->{expires_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'expires_at RFC 3339');
ok(!exists $st->{in_grace_period}, 'not in grace');
ok((grep { $_ eq 'agent_profiles' } @{ $st->{features} }) && !(grep { $_ eq 'audit_logging' } @{ $st->{features} }),
    'pro features: agent_profiles, not audit_logging');
is_deeply(status()->json, $st, 'GET status says the same');
$res = $ua->get($stack->url('/api/license/features') => $h)->result;
is($res->json->{license_status}, 'active', 'features: active');
is($res->json->{features}{agent_profiles}, Mojo::JSON::true, 'features: agent_profiles');
is($stack->psql("SELECT key_sealed LIKE 'enc:v1:%' AND strpos(key_sealed, 'eyJ') = 0 FROM pulse.license"), 't',
    'the key is sealed in the database');

# The gated route now answers; another licensed feature is not.
$res = $ua->get($stack->url('/api/admin/profiles') => $h)->result;
is($res->code, 200, 'agent profiles with a pro licence: 200');

# RBAC (security.md §8): 402 naming rbac without it (the pro tier has it), then 501 as the
# original's open-source build, whatever the method.
my $rbac = sub { $ua->build_tx($_[0] => $stack->url($_[1]) => $h => json => {}) };
for my $call ([GET => '/api/admin/roles'], [POST => '/api/admin/roles'], [DELETE => '/api/admin/roles/admin'],
    [GET => '/api/admin/users'], [PUT => '/api/admin/users/bob/roles'], [GET => '/api/admin/users/bob/permissions']) {
    $res = $ua->start($rbac->(@$call))->result;
    is($res->code, 501, "$call->[0] $call->[1] with a pro licence: 501");
    is_deeply([@{ $res->json }{qw(code error status_code)}], ['rbac_unavailable', 'RBAC management is not available', 501],
        "$call->[0] $call->[1]: the standard error rbac_unavailable") if $call->[1] eq '/api/admin/roles';
}

# A session sees the same licence (any responder reads it from the database).
my ($sua, $csrf) = $stack->login;
is($sua->get($stack->url('/api/license/features'))->result->json->{license_status}, 'active', 'a session sees it');

# Within grace: valid, features kept, grace fields.
$res = activate(mint({ %pro, exp => $now - 2 * $day }));
is($res->code, 200, 'expired 2 days ago: accepted within grace');
$st = status()->json;
is($st->{valid}, Mojo::JSON::true, 'grace: valid');
is($st->{in_grace_period}, Mojo::JSON::true, 'grace: in_grace_period');
is($st->{days_remaining}, 0, 'grace: 0 days remaining');
like($st->{grace_period_end}, qr/^\d{4}-\d\d-\d\dT/, 'grace: grace_period_end');
is($ua->get($stack->url('/api/license/features') => $h)->result->json->{license_status}, 'grace_period',
    'features: grace_period');
is($ua->get($stack->url('/api/admin/profiles') => $h)->result->code, 200, 'grace still grants the feature');

# Lifetime, explicit features beyond the tier.
$res = activate(mint({ lid => 'lic-2', email => 'x@example.com', tier => 'lifetime', features => ['audit_logging'] }));
is($res->code, 200, 'lifetime activated (replaces the previous)');
$st = $res->json->{status};
is($st->{is_lifetime}, Mojo::JSON::true, 'lifetime');
is($st->{days_remaining}, -1, 'lifetime: -1 days');
ok(!exists $st->{expires_at}, 'lifetime: no expires_at');
ok((grep { $_ eq 'audit_logging' } @{ $st->{features} }), 'explicit feature listed');

# Free tier: no agent profiles.
is(activate(mint({ %pro, tier => 'free' }))->code, 200, 'free tier activated');
is($ua->get($stack->url('/api/admin/profiles') => $h)->result->code, 402, 'free tier: 402');
$res = $ua->get($stack->url('/api/admin/roles') => $h)->result;
is($res->code, 402, 'free tier: RBAC 402');
is($res->json->{feature}, 'rbac', 'naming rbac');
is($res->json->{message}, 'feature not included in license: Role-Based Access Control (RBAC) requires Pulse Pro',
    'with its display name');
is(activate($good)->code, 200, 'pro again');

# Restart of the stack (database, responder, worker): the licence stays.
$stack->stop_program('fcgi-1', 'TERM', 20);
$stack->stop_program('worker-1', 'TERM', 20);
$stack->pg_stop('fast');
$stack->pg_start;
$stack->start_responder(1);
$stack->start_worker(1);
$stack->wait_healthy;
is(status()->json->{tier}, 'pro', 'after a restart: still licensed');
is($ua->get($stack->url('/api/admin/profiles') => $h)->result->code, 200, 'after a restart: gated route 200');

# Another public key in the environment wins over the setting: the stored key no longer
# verifies, and keys are checked against the environment's key.
$stack->stop_program('fcgi-1', 'TERM', 20);
$stack->start_responder(1, PULSE_LICENSE_PUBLIC_KEY => $other_pub);
$stack->wait_healthy;
is(status()->json->{valid}, Mojo::JSON::false, 'another public key: the stored licence does not count');
is($ua->get($stack->url('/api/admin/profiles') => $h)->result->code, 402, 'another public key: 402');
is(activate($good)->json->{message}, 'invalid license signature', 'another public key: our key refused');
is(activate(mint(\%pro, 'other'))->code, 200, "a key signed for the environment's public key");
$stack->stop_program('fcgi-1', 'TERM', 20);
$stack->start_responder(1, PULSE_LICENSE_PUBLIC_KEY => $pub);
$stack->wait_healthy;

# Clear.
is(activate($good)->code, 200, 'activate again');
$res = $ua->post($stack->url('/api/license/clear') => $h)->result;
is($res->code, 200, 'clear');
is_deeply($res->json, { success => Mojo::JSON::true, message => 'License cleared' }, 'clear: body');
is(status()->json->{valid}, Mojo::JSON::false, 'cleared');
is($ua->get($stack->url('/api/admin/profiles') => $h)->result->code, 402, 'cleared: 402 again');
is($stack->psql(q{SELECT string_agg(event || ':' || success, ',' ORDER BY ts) FROM pulse.audit_events
    WHERE event LIKE 'license%' AND success}) =~ /license_activate:true.*license_clear:true/ ? 1 : 0, 1,
    'activation and clearing are audited');

# Access: status is admin, activate needs settings:write.
my $reader = $stack->agent_token('reader', 'settings:read');
$res = $ua->post($stack->url('/api/license/activate') => { 'X-API-Token' => $reader->{raw} } => json => { license_key => $good })->result;
json_error_ok($res, 403, 'missing_scope', 'activate with settings:read only');
is($ua->get($stack->url('/api/license/features') => { 'X-API-Token' => $reader->{raw} })->result->code, 200,
    'features: any credential');

# No public key configured at all.
$stack->stop_program('fcgi-1', 'TERM', 20);
$stack->start_responder(1, PULSE_LICENSE_PUBLIC_KEY => ' ');
$stack->wait_healthy;
is(activate($good)->json->{message}, 'no public key configured for validation: signature verification required',
    'no public key: refused');

done_testing;
