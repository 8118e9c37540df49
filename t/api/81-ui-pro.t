#!/usr/bin/perl
# 81-ui-pro.t: issue 16's Settings sections in a real browser (t/ui/pro.mjs, run as t/api/70
# runs its script): the Audit Log's 402 note without a licence; a licence minted here
# (PulseStack::mint_licence, the stack trusting its key) activated through Settings → Pulse
# Pro, its status as the API's; the audit events as GET /api/audit answers (over 100: Next
# and Prev), a filter, Verify of a row, a row edited here with psql failing and named by the
# whole-log check; audit webhooks saved and read back here; the OIDC form saved (GET /api/security/oidc has the
# values, never the secret); the configuration exported and imported back through the UI;
# Settings → Reporting (mock mode on for an estate): a node's CPU report downloaded as CSV
# and as PDF; Clear licence and the 402 note again. Screenshots in $PULSE_UI_SHOTS/pro, else
# t/ui/screenshots/pro in the build tree.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(encode_json);
use Test::More;
use PulseStack;
use PulseUI;

PulseUI::require_browser();

my $stack = PulseStack->new(settings => { license_public_key => PulseStack::licence_public_key() })->start;
$stack->setup_admin;
my $shots = PulseUI::shots_dir('pro');
my $h = $stack->token_headers;
my $ua = $stack->ua;
sub get_json { my ($path) = @_; $ua->get($stack->url($path) => $h)->result }

# A public URL, from which the API derives the OIDC redirect URL the form shows.
my $public = 'https://pulse.example.test';
is($ua->post($stack->url('/api/system/settings/update') => $h => json => { publicURL => $public })->result->code, 200,
    'a public URL set');
# More than a page of events (100): the public URL saved again and again.
my $saved = grep { $ua->post($stack->url('/api/system/settings/update') => $h => json => { publicURL => $public })->result->code == 200 } 1 .. 100;
is($saved, 100, 'a hundred settings updates (audit events)');
my $r402 = get_json('/api/audit');
is($r402->code, 402, 'no licence: GET /api/audit is 402');
my $licence = PulseStack::mint_licence(email => 'ui-pro@example.com', exp => time + 30 * 86400);

my $edited;
my %answers = (
    licence => sub { encode_json(get_json('/api/license/status')->json) },
    audit => sub {
        my %q = (map { split /=/, $_, 2 } @_);
        my $j = $ua->get($stack->url('/api/audit') => $h => form => { limit => 100, %q })->result->json;
        encode_json({ total => $j->{total}, ids => [map { $_->{id} } @{ $j->{events} }], first => $j->{events}[0] });
    },
    edit => sub {
        my ($id) = @_;
        return 'error bad id' unless $id =~ /^[0-9a-f-]{36}$/;
        $stack->psql("UPDATE pulse.audit_events SET details = 'edited by 81-ui-pro' WHERE id = '$id'");
        $edited = $id;
        return 'ok';
    },
    hooks => sub { join ' ', @{ get_json('/api/admin/webhooks/audit')->json->{urls} // [] } },
    tokens => sub { scalar @{ get_json('/api/security/tokens')->json->{tokens} // [] } },
);
my @out = PulseUI::run_talking($stack, 'pro.mjs', \%answers, UI_OUT => $shots, UI_LICENCE => $licence,
    UI_402 => $r402->json->{message}, UI_REDIRECT => "$public/api/oidc/callback");
diag($_) for grep { !/^oidc saved$/ } @out;

ok($edited, 'the browser had a row edited');
my $v = get_json('/api/audit/verify')->json;
ok(!$v->{verified}, 'the API too finds the chain broken');

ok((grep { $_ eq 'oidc saved' } @out), 'the OIDC form was saved');
my $res = get_json('/api/security/oidc');
my $o = $res->json;
is($o->{enabled} ? 1 : 0, 1, 'OIDC enabled through the form');
is($o->{issuerUrl}, 'https://sso.example.com/realms/main', '... the issuer');
is($o->{clientId}, 'pulse-ui', '... the client id');
ok($o->{clientSecretSet}, '... a secret set');
unlike($res->body, qr/ui-secret-0123456789/, '... which the API does not show');
is($o->{redirectUrl}, "$public/api/oidc/callback", '... the redirect URL derived from the public URL');
is($o->{logoutUrl}, 'https://sso.example.com/logout', '... the logout URL');
is_deeply($o->{scopes}, [qw(openid profile email groups)], '... the scopes');
is_deeply($o->{allowedDomains}, [qw(example.com example.org)], '... the allowed domains');
is_deeply($o->{adminGroups}, ['pulse-admins'], '... the admin groups');
is($o->{tokenAuthMethod}, 'client_secret_post', '... the token authentication method');
ok(!$o->{envOverrides} || !%{ $o->{envOverrides} }, 'no OIDC_* variable in this stack (the lock was the browser\'s rewrite)');

is_deeply(get_json('/api/admin/webhooks/audit')->code, 402, 'the licence cleared: audit webhooks 402 again');
is(get_json('/api/license/status')->json->{valid} ? 1 : 0, 0, 'no licence at the end');
ok($stack->psql(q{SELECT count(*) FROM pulse.audit_events WHERE event = 'config_import' AND success}) >= 2,
    'the imports through the UI are in the audit log');

done_testing;
