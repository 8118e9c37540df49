#!/usr/bin/perl
# 45-alert-config.t: the alert configuration (GET and PUT /api/alerts/config) and activation
# (POST /api/alerts/activate): the defaults of a fresh install, a round trip, normalisation,
# the activation state, bad input and the scopes.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false encode_json);
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $cfg = $stack->url('/api/alerts/config');
my $json = { %$auth, 'Content-Type' => 'application/json' };
my $rows = sub { $stack->psql('SELECT count(*) FROM pulse.alert_config') };

# A fresh install answers the built-in defaults (QUIRK 1: set A) and stores nothing.
my $res = $ua->get($cfg => $auth)->result;
is($res->code, 200, 'GET on a fresh install');
my $d = json_body($res, 'defaults');
is($d->{enabled}, true, 'enabled');
is($d->{activationState}, 'pending_review', 'pending review');
ok(!exists $d->{activationTime}, 'no activation time');
is_deeply($d->{pbsDefaults}{cpu}, { trigger => 80, clear => 75 }, 'PBS cpu on');
is_deeply($d->{dockerDefaults}{cpu}, { trigger => 80, clear => 75 }, 'Docker cpu on');
is($d->{schedule}{cooldown}, 5, 'cooldown 5');
is($d->{schedule}{maxAlertsHour}, 10, 'maxAlertsHour 10');
is($d->{schedule}{notifyOnResolve}, true, 'notifyOnResolve');
is($d->{schedule}{grouping}{window}, 30, 'grouping 30 s');
is($d->{flappingEnabled}, true, 'flapping on');
is_deeply($d->{overrides}, {}, 'no overrides');
is($d->{metricTimeThresholds}, undef, 'metricTimeThresholds null');
is($rows->(), 0, 'nothing stored by a GET');

# PUT then GET round-trips; normalisation shows.
my %put = %$d;
delete $put{activationState};
$put{guestDefaults} = { cpu => { trigger => 70, clear => 90 }, memory => { trigger => 85, clear => 80 } };
$put{storageDefault} = { trigger => 75, clear => 0 };
$put{schedule} = { %{ $d->{schedule} }, cooldown => 20, groupingWindow => 0 };
$put{unknownTopLevel} = { anything => [1] };
$put{dockerIgnoredContainerPrefixes} = [' web', 'WEB', ''];
$res = $ua->put($cfg => $json => json => \%put)->result;
is($res->code, 200, 'PUT accepted') or diag $res->body;
is_deeply(json_body($res, 'PUT answer'),
    { success => true, message => 'Alert configuration updated successfully' }, 'PUT answer as the original');
is($rows->(), 1, 'one row stored');
my $g = json_body($ua->get($cfg => $auth)->result, 'after PUT');
is_deeply($g->{guestDefaults}{cpu}, { trigger => 70, clear => 65 }, 'clear >= trigger fixed to trigger - 5');
is_deeply($g->{storageDefault}, { trigger => 75, clear => 70 }, 'storage clear 0 -> trigger - 5');
is($g->{schedule}{cooldown}, 20, 'cooldown saved');
is_deeply($g->{dockerIgnoredContainerPrefixes}, ['web'], 'prefixes trimmed and de-duplicated');
ok(!exists $g->{unknownTopLevel}, 'an unknown key is ignored');
is($g->{activationState}, 'pending_review', 'absent activationState keeps the current one');
my $again = $ua->put($cfg => $json => json => $g)->result;
is($again->code, 200, 'the GET answer PUT back');
is_deeply(json_body($ua->get($cfg => $auth)->result, 'second GET'), $g, 'GET -> PUT -> GET is stable');
is($stack->psql("SELECT doc->'schedule'->>'cooldown' FROM pulse.alert_config"), '20', 'stored as jsonb');

# Activation: first active with a time, then "already".
my $act = $stack->url('/api/alerts/activate');
$res = $ua->post($act => $auth)->result;
is($res->code, 200, 'activate');
my $a1 = json_body($res, 'activate');
is($a1->{message}, 'Alert notifications activated', 'activated');
is($a1->{state}, 'active', 'state active');
like($a1->{activationTime} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'activation time RFC 3339');
my $a2 = json_body($ua->post($act => $auth)->result, 'activate again');
is($a2->{message}, 'Alerts already activated', 'second: already');
is($a2->{activationTime}, $a1->{activationTime}, 'same activation time');
$g = json_body($ua->get($cfg => $auth)->result, 'after activate');
is($g->{activationState}, 'active', 'config says active');
delete $g->{activationState};
delete $g->{activationTime};
is($ua->put($cfg => $json => json => $g)->result->code, 200, 'PUT without activationState');
$g = json_body($ua->get($cfg => $auth)->result, 'after that PUT');
is($g->{activationState}, 'active', 'absent activationState keeps active');
is($g->{activationTime}, $a1->{activationTime}, 'and its time');

# Bad input: 4xx JSON, nothing written.
my $before = $stack->psql('SELECT doc::text FROM pulse.alert_config');
my @bad = (
    ['{"enabled":', 400, 'invalid_json', 'malformed JSON'],
    ['[1,2]', 400, undef, 'an array'],
    ['{"enabled":"yes"}', 400, 'invalid_field', 'a string for a boolean'],
    ['{"schedule":{"cooldown":1.5}}', 400, 'invalid_field', 'a fraction for an integer'],
    ['{"guestDefaults":{"cpu":{"trigger":"high"}}}', 400, 'invalid_field', 'a string for a number'],
    ['{"activationState":"bogus"}', 400, 'invalid_field', 'an unknown activation state'],
    ['{"overrides":{' . join(',', map { qq("vm$_":{}) } 1 .. 501) . '}}', 400, 'invalid_field',
        'too many overrides'],
);
for my $b (@bad) {
    my ($body, $status, $code, $name) = @$b;
    $res = $ua->put($cfg => $json => $body)->result;
    if (defined $code) {
        my $e = json_error_ok($res, $status, $code, $name);
        like($e->{error}, qr/\S/, "$name: says what: $e->{error}");
    } else {
        is($res->code, $status, "$name: $status");
        like($res->headers->content_type // '', qr{^application/json}, "$name: JSON");
    }
}
my $big = '{"note":"' . ('x' x (64 * 1024)) . '"}';
$res = $ua->put($cfg => $json => $big)->result;
json_error_ok($res, 413, 'payload_too_large', '64 KiB + 1');
is($stack->psql('SELECT doc::text FROM pulse.alert_config'), $before, 'nothing written by bad input');

# Credentials and scopes.
json_error_ok($ua->get($cfg)->result, 401, 'unauthorized', 'GET without credentials');
my %tok;
for my $scope (qw(monitoring:read monitoring:write)) {
    $res = $ua->post($stack->url('/api/security/tokens') => $auth =>
        json => { name => "alerts $scope", scopes => [$scope] })->result;
    $tok{$scope} = $res->json->{token};
}
my $ro = { 'X-API-Token' => $tok{'monitoring:read'} };
is($ua->get($cfg => $ro)->result->code, 200, 'a read token reads');
my $e = json_error_ok($ua->put($cfg => { %$ro, 'Content-Type' => 'application/json' } => '{}')->result,
    403, 'missing_scope', 'PUT with a read token');
is($e->{requiredScope}, 'monitoring:write', 'requiredScope monitoring:write');
$e = json_error_ok($ua->post($act => $ro)->result, 403, 'missing_scope', 'activate with a read token');
is($e->{requiredScope}, 'monitoring:write', 'activate: requiredScope');
json_error_ok($ua->put($cfg => { 'Content-Type' => 'application/json' } => '{}')->result, 401,
    'unauthorized', 'PUT without credentials');
my $wo = { 'X-API-Token' => $tok{'monitoring:write'} };
is(json_error_ok($ua->get($cfg => $wo)->result, 403, 'missing_scope', 'GET with a write-only token')
    ->{requiredScope}, 'monitoring:read', 'GET needs monitoring:read');
# A session needs its CSRF token to write, as for every other write.
my ($sua, $csrf) = $stack->login;
is($sua->get($cfg)->result->code, 200, 'a session reads');
json_error_ok($sua->put($cfg => { 'Content-Type' => 'application/json' } => '{}')->result, 403,
    'csrf_failed', 'PUT with a session and no X-CSRF-Token');
json_error_ok($sua->post($stack->url('/api/alerts/activate'))->result, 403, 'csrf_failed',
    'activate with a session and no X-CSRF-Token');
is($stack->psql('SELECT doc::text FROM pulse.alert_config'), $before, 'nothing written by refused calls');

done_testing;
