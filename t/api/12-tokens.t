#!/usr/bin/perl
# 12-tokens.t: API tokens: created (shown once, stored as SHA3-256), listed, used through
# X-API-Token, Bearer and ?token=, revoked at once on every responder, scope lists validated
# as the original does, no escalation, regenerate and validate-token.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Test::More;
use Time::HiRes qw(sleep);
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(responders => 2)->start;
my $admin = $stack->setup_admin;
my $ua = $stack->ua;
my $tokens_url = $stack->url('/api/security/tokens');
my $auth = $stack->token_headers;

# Create.
my $res = $ua->post($tokens_url => $auth => json => { name => 'ansible-script', scopes => ['settings:read', 'monitoring:read', 'settings:read'] })->result;
is($res->code, 200, 'create: 200');
my $created = json_body($res, 'create');
like($created->{token}, qr/^[0-9a-f]{64}$/, 'create: the raw token is 32 random bytes in hex');
my $rec = $created->{record};
like($rec->{id}, qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'create: id is a UUID v4');
is($rec->{name}, 'ansible-script', 'create: name');
is_deeply($rec->{scopes}, ['monitoring:read', 'settings:read'], 'create: scopes de-duplicated and sorted');
is($rec->{prefix}, substr($created->{token}, 0, 6), 'create: prefix hint');
is($rec->{suffix}, substr($created->{token}, -4), 'create: suffix hint');
like($rec->{createdAt}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'create: createdAt RFC 3339');
ok(!exists $rec->{hash} && !exists $rec->{lastUsedAt}, 'create: no hash, no lastUsedAt yet');
is($stack->psql("SELECT hash FROM pulse.api_tokens WHERE id = '$rec->{id}'"), $stack->sha3_hex($created->{token}),
    'stored: SHA3-256 of the token only');

$res = $ua->post($tokens_url => $auth => json => {})->result;
is_deeply($res->json->{record}{scopes}, ['*'], 'scopes omitted: full access');
is($res->json->{record}{name}, 'API token', 'name omitted: "API token"');
$res = $ua->post($tokens_url => $auth => '')->result;
is($res->code, 200, 'an empty body is allowed');

# Scope validation, as the original's messages.
for my $case ([[], qr/select at least one scope/], [[' '], qr/cannot be blank/],
    [['monitoring:reed'], qr/unknown scope "monitoring:reed"/], [['*', 'monitoring:read'], qr/wildcard/],
    ['monitoring:read', qr/array of strings/], [[1], qr/array of strings/]) {
    my ($scopes, $msg) = @$case;
    $res = $ua->post($tokens_url => $auth => json => { scopes => $scopes })->result;
    my $b = json_error_ok($res, 400, 'invalid_scopes', 'bad scopes ' . Mojo::JSON::encode_json($scopes));
    like($b->{error}, $msg, 'message: ' . $b->{error});
}
json_error_ok($ua->post($tokens_url => $auth => json => { name => [1] })->result, 400, 'invalid_field', 'name of the wrong type');
json_error_ok($ua->post($tokens_url => $auth => json => { name => 'n' x 129 })->result, 400, 'invalid_field', 'name too long');

# List: newest first, never the raw token or its hash.
$res = $ua->get($tokens_url => $auth)->result;
my $list = json_body($res, 'list')->{tokens};
ok(@$list >= 4, 'list has the tokens');
my @created = map { $_->{createdAt} } @$list;
is_deeply(\@created, [sort { $b cmp $a } @created], 'list: newest first');
unlike($res->body, qr/$created->{token}/, 'list: raw token never shown again');
unlike($res->body, qr/"hash"/, 'list: no hash');

# The three ways to present a token; scopes apply.
my $t = $created->{token};
my $settings = $stack->url('/api/security/tokens');
is($ua->get($settings => { 'X-API-Token' => $t })->result->code, 200, 'X-API-Token works');
is($ua->get($settings => { Authorization => "Bearer $t" })->result->code, 200, 'Authorization: Bearer works');
is($ua->get($settings => { Authorization => "bearer $t" })->result->code, 200, 'the Bearer scheme is case-insensitive');
is($ua->get("$settings?token=$t")->result->code, 200, '?token= works');
json_error_ok($ua->post($settings => { 'X-API-Token' => $t } => json => {})->result, 403, 'missing_scope',
    'a read token cannot write');
$stack->wait_for(sub { $stack->psql("SELECT last_used_at IS NOT NULL FROM pulse.api_tokens WHERE id = '$rec->{id}'") eq 't' },
    5, 'last_used_at');
pass('last_used_at recorded');
my $dto = (grep { $_->{id} eq $rec->{id} } @{ $ua->get($tokens_url => $auth)->result->json->{tokens} })[0];
like($dto->{lastUsedAt}, qr/Z$/, 'list shows lastUsedAt');

# A token cannot hand out more than it holds.
my $writer = $ua->post($tokens_url => $auth => json => { scopes => ['settings:write', 'settings:read', 'monitoring:read'] })->result->json->{token};
json_error_ok($ua->post($tokens_url => { 'X-API-Token' => $writer } => json => { scopes => ['*'] })->result,
    403, 'forbidden', 'no wildcard from a scoped token');
json_error_ok($ua->post($tokens_url => { 'X-API-Token' => $writer } => json => { scopes => ['docker:manage'] })->result,
    403, 'forbidden', 'no foreign scope from a scoped token');
is($ua->post($tokens_url => { 'X-API-Token' => $writer } => json => { scopes => ['monitoring:read'] })->result->code,
    200, 'a subset of its own scopes is fine');
json_error_ok($ua->post($stack->url('/api/security/regenerate-token') => { 'X-API-Token' => $writer })->result,
    403, 'forbidden', 'a scoped token cannot regenerate the full-access token');

# Revocation takes effect at once on both responders (their caches hear the NOTIFY).
for my $i (1 .. 10) { $ua->get($settings => { 'X-API-Token' => $t }) }    # warm both caches
$res = $ua->delete("$tokens_url/$rec->{id}" => $auth)->result;
is($res->code, 204, 'delete: 204');
my $after = 0;
for my $i (1 .. 10) { $after++ if $ua->get($settings => { 'X-API-Token' => $t })->result->code == 401 }
is($after, 10, 'the revoked token is refused by every responder at once');
json_error_ok($ua->delete("$tokens_url/$rec->{id}" => $auth)->result, 404, 'not_found', 'delete again: 404');
json_error_ok($ua->delete("$tokens_url/not-a-uuid" => $auth)->result, 404, 'not_found', 'delete a malformed id');
json_error_ok($ua->delete("$tokens_url/'%3B%20DROP%20TABLE%20x" => $auth)->result, 404, 'not_found', 'delete with SQL in the id');
like($stack->psql(q{SELECT string_agg(event, ',') FROM pulse.audit_events WHERE event LIKE 'token_%'}),
    qr/token_created.*token_deleted|token_deleted.*token_created/, 'creation and deletion audited');

# validate-token
my $vt = $stack->url('/api/security/validate-token');
is_deeply($ua->post($vt => $auth => json => { token => $admin->{token} })->result->json,
    { valid => true, message => 'Token is valid' }, 'validate-token: valid');
is($ua->post($vt => $auth => json => { token => 'nope' })->result->json->{valid}, false, 'validate-token: invalid');
is($ua->post($vt => $auth => json => {})->result->code, 400, 'validate-token: empty is 400');

# regenerate: the primary token is replaced, the others keep working.
my $count = $stack->psql('SELECT count(*) FROM pulse.api_tokens');
$res = $ua->post($stack->url('/api/security/regenerate-token') => $auth)->result;
is($res->code, 200, 'regenerate: 200');
my $regen = json_body($res, 'regenerate');
like($regen->{token}, qr/^[0-9a-f]{64}$/, 'regenerate: a new raw token');
is($regen->{success}, true, 'regenerate: success');
is($regen->{requiresRestart}, false, 'regenerate: requiresRestart false');
is($stack->psql('SELECT count(*) FROM pulse.api_tokens'), $count, 'regenerate: one token replaced, none added');
is($ua->get($settings => { 'X-API-Token' => $regen->{token} })->result->code, 200, 'the new token works');
is($ua->get($settings => { 'X-API-Token' => $writer })->result->code, 200, 'other tokens still work');

no_secret_in_logs($stack, $t, $writer, $regen->{token}, $admin->{token}, $admin->{password});
done_testing;
