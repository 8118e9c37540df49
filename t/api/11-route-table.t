#!/usr/bin/perl
# 11-route-table.t: walks the whole route table (pulse-fcgi --list-routes): every route
# that is not public answers 401 without credentials, and every route with a scope answers
# 403 missing_scope to a token without it and lets a token with it through the check; every
# public route answers without credentials; every route counts in the rate class it declares
# and refuses a body over its limit (small for public and scope-free routes); every route
# with a licence feature answers 402 license_required without a licence, before the scope
# check (the original's order), and goes on to the scope check with one. A new route cannot
# forget its protection.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(decode_json);
use Test::More;
use PulseStack;
use PulseTest;

# A test licence key pair (t/tools/mint-licence): the licence is activated once the gated
# routes have been walked without it.
my $stack = PulseStack->new(settings => { license_public_key => PulseStack::licence_public_key() })->start;
my $admin = $stack->setup_admin;
my $ua = $stack->ua;
my @routes = map { decode_json($_) } split /\n/, qx{@{[ $stack->bin('pulse-fcgi') ]} --list-routes};
ok(@routes >= 15, scalar(@routes) . ' routes listed');
my @gated = grep { defined $_->{feature} } @routes;
ok(@gated >= 7, scalar(@gated) . ' routes gated by a licence feature');
ok(!(grep { $_->{public} } @gated), 'no public route is gated');

# One token per scope, each holding only that scope.
my %scoped;
for my $scope (qw(monitoring:read monitoring:write settings:read settings:write host-agent:report
    host-agent:manage docker:report docker:manage kubernetes:report kubernetes:manage)) {
    my $res = $ua->post($stack->url('/api/security/tokens') => $stack->token_headers =>
        json => { name => "only $scope", scopes => [$scope] })->result;
    is($res->code, 200, "token with only $scope created");
    $scoped{$scope} = $res->json->{token};
}

my $uuid = '00000000-0000-4000-8000-000000000000';
# Without a licence: the admin's token and a token lacking the scope both get 402 with the
# route's feature (licence before scope); no credentials still 401.
for my $rt (@gated) {
    (my $path = $rt->{pattern}) =~ s/\{[^}]+\}/$uuid/g;
    for my $method (@{ $rt->{methods} }) {
        my $name = "$method $rt->{pattern}";
        my ($other) = grep { $_ ne ($rt->{scope} // '') } sort keys %scoped;
        for my $cred (['the admin token', $admin->{token}], ["a token lacking $rt->{scope}", $scoped{$other}]) {
            my $tx = $ua->build_tx($method => $stack->url($path) => { 'X-API-Token' => $cred->[1],
                'Content-Type' => 'application/json' } => '{}');
            my $res = $ua->start($tx)->result;
            is($res->code, 402, "$name without a licence, $cred->[0]: 402");
            my $j = $res->json // {};
            is($j->{error}, 'license_required', "$name: error license_required");
            is($j->{feature}, $rt->{feature}, "$name: feature $rt->{feature}");
            like($j->{message} // '', qr/^feature not included in license: .+ requires Pulse Pro$/, "$name: message");
        }
    }
}
# An enterprise licence grants every feature: the walk below reaches the scope checks.
is($stack->activate_licence(tier => 'enterprise')->{tier}, 'enterprise', 'enterprise licence activated');

# A stream of server-sent events (GET /api/updates/stream) does not end by itself: once its
# head says text/event-stream, the connection is closed and the head is what is checked.
sub close_event_stream {
    my $tx = shift;
    $tx->res->content->on(body => sub {
        return unless ($tx->res->headers->content_type // '') =~ m{^text/event-stream};
        $ua->ioloop->next_tick(sub { my $s = $ua->ioloop->stream($tx->connection // ''); $s->close if $s });
    });
    return $tx;
}

for my $rt (@routes) {
    (my $path = $rt->{pattern}) =~ s/\{[^}]+\}/$uuid/g;
    for my $method (@{ $rt->{methods} }) {
        my $name = "$method $rt->{pattern}";
        my $tx = $ua->build_tx($method => $stack->url($path) => { 'Content-Type' => 'application/json' } => '{}');
        my $res = $ua->start($tx)->result;
        if ($rt->{public}) {
            # A public handler may still refuse (quick-setup once an admin exists), but never
            # with the authentication gate's answer.
            my $j = $res->json;
            my $gate = $res->code == 401 && ref $j eq 'HASH' && ($j->{error} // '') =~ /^Authentication required$/;
            ok(!$gate, "$name is public: the gate lets it through without credentials");
            next;
        }
        json_error_ok($res, 401, 'unauthorized', "$name without credentials");

        next unless defined $rt->{scope};
        # A token holding some other scope is refused with the scope it lacks.
        my ($other) = grep { $_ ne $rt->{scope} } sort keys %scoped;
        $tx = $ua->build_tx($method => $stack->url($path) => { 'X-API-Token' => $scoped{$other},
            'Content-Type' => 'application/json' } => '{}');
        $res = $ua->start($tx)->result;
        my $body = json_error_ok($res, 403, 'missing_scope', "$name with a token lacking $rt->{scope}");
        is($body->{requiredScope}, $rt->{scope}, "$name: requiredScope names $rt->{scope}");
        is($body->{error}, 'missing_scope', "$name: error is missing_scope, as the original");

        # The token holding exactly that scope passes the check (whatever the handler says next).
        $tx = close_event_stream($ua->build_tx($method => $stack->url($path) => { 'X-API-Token' => $scoped{ $rt->{scope} },
            'Content-Type' => 'application/json' } => '{}'));
        $res = $ua->start($tx)->res;
        my $json = $res->json;
        my $code = ref $json eq 'HASH' ? $json->{code} // '' : '';
        ok($res->code != 401 && $code ne 'missing_scope', "$name with a $rt->{scope} token passes "
            . 'the scope check (' . $res->code . ($code ? " $code" : '') . ')');
        # That request cleared the licence: the routes after it are walked with one again.
        $stack->activate_licence(tier => 'enterprise') if $rt->{pattern} eq '/api/license/clear';
    }
}

# Each route counts in the rate class the table declares for it (a client that is not direct
# loopback, so that limits apply), and refuses a body over its limit before anything else.
my %classes = map { $_ => 1 } qw(general none auth recovery export config_write config_read updates public download);
for my $rt (@routes) {
    (my $path = $rt->{pattern}) =~ s/\{[^}]+\}/$uuid/g;
    ok($classes{ $rt->{rate} // '' }, "$rt->{pattern}: rate class $rt->{rate}");
    ok(($rt->{bodyLimit} // 0) > 0, "$rt->{pattern}: body limit $rt->{bodyLimit}");
    ok($rt->{bodyLimit} <= 8192, "$rt->{pattern}: public or scope-free, so at most 8 KiB")
        if $rt->{public} || !defined $rt->{scope};
    for my $method (@{ $rt->{methods} }) {
        my $name = "$method $rt->{pattern}";
        $stack->psql('DELETE FROM pulse.rate_limit_hits');
        my $tx = $ua->build_tx($method => $stack->url($path) => { 'X-Forwarded-For' => '198.51.100.11',
            'Content-Type' => 'application/json' } => '{}');
        $ua->start($tx);
        my $bucket = $stack->psql(q{SELECT coalesce(string_agg(bucket, ','), '') FROM pulse.rate_limit_hits
            WHERE bucket NOT IN ('login', 'quick_setup', 'token_admin', 'audit_anonymous')});
        is($bucket, $rt->{rate} eq 'none' ? '' : $rt->{rate}, "$name counts in its class");
        next if $method eq 'GET';
        $tx = $ua->build_tx($method => $stack->url($path) => { 'Content-Type' => 'application/json' } =>
            '[' . ('0,' x ($rt->{bodyLimit} / 2)) . '0]');
        json_error_ok($ua->start($tx)->result, 413, 'payload_too_large', "$name: a body over $rt->{bodyLimit} bytes");
    }
}
$stack->psql('DELETE FROM pulse.rate_limit_hits; DELETE FROM pulse.login_failures');

# Wrong or revoked credentials are a 401 too, not a pass.
json_error_ok($ua->get($stack->url('/api/security/tokens') => { 'X-API-Token' => 'x' x 64 })->result,
    401, 'unauthorized', 'an unknown token');
json_error_ok($ua->get($stack->url('/api/security/tokens') => { Authorization => 'Bearer ' . 'y' x 64 })->result,
    401, 'unauthorized', 'an unknown bearer token');
json_error_ok($ua->get($stack->url('/api/security/tokens') => { Cookie => 'pulse_session=' . 'a' x 64 })->result,
    401, 'unauthorized', 'an unknown session cookie');

done_testing;
