#!/usr/bin/perl
# 02-errors.t: every error the foundation produces is JSON with a stable code: unknown path,
# wrong method (with Allow), body over the limit (from nginx, Apache and the responder
# itself), bad paths, a schema that does not match, and no responder at all.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Mojo::JSON qw(decode_json);
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(apache => 1, settings => { body_limit => '64k' })->start;
my $ua = $stack->ua;

my $res = $ua->get($stack->url('/api/no-such-endpoint'))->result;
json_error_ok($res, 404, 'not_found', 'unknown path');
security_headers_ok($res, '404');

$res = $ua->get($stack->url('/api/health/extra'))->result;
json_error_ok($res, 404, 'not_found', 'path longer than a route');

for my $m (qw(POST PUT DELETE PATCH)) {
    my $tx = $ua->start($ua->build_tx($m => $stack->url('/api/version')));
    json_error_ok($tx->result, 405, 'method_not_allowed', "$m /api/version");
    is($tx->result->headers->header('Allow'), 'GET, HEAD, OPTIONS', "$m: Allow header lists GET");
}

my $tx = $ua->start($ua->build_tx(OPTIONS => $stack->url('/api/health')));
is($tx->result->code, 204, 'OPTIONS answers 204');
is($tx->result->headers->header('Allow'), 'GET, HEAD, OPTIONS', 'OPTIONS lists the methods');

# Paths that try to climb out: nginx resolves dot segments itself, so /api/%2e%2e/health
# never reaches the API; a NUL is refused at the edge; the responder refuses what it gets.
$res = $ua->get($stack->url('/api/%2e%2e/health'))->result;
unlike($res->body, qr/"status":"healthy"/, 'nginx: encoded .. does not reach the API');
$res = $ua->get($stack->url('/api/health%00'))->result;
json_error_ok($res, 400, 'bad_request', 'nginx: encoded NUL', no_timestamp => 1);
$res = $ua->get($stack->url('/api/hea%2Fth'))->result;
json_error_ok($res, 400, 'invalid_path', 'encoded slash inside a segment');
for my $uri ('/api/../api/health', '/api/%2e%2e/api/health', '/api/./health', '/api/health%00',
    '/api/he%zzalth', 'api/health') {
    my ($s, undef, $b) = $stack->fcgi_request(uri => $uri);
    is($s, 400, "responder: $uri is a 400");
    is((eval { decode_json($b) } // {})->{code}, 'invalid_path', "responder: $uri code invalid_path");
}

# Body over the limit: nginx refuses it first, with the same JSON shape.
my $big = 'x' x (100 * 1024);
$res = $ua->post($stack->url('/api/config/nodes') => { 'Content-Type' => 'application/json' } => $big)->result;
json_error_ok($res, 413, 'payload_too_large', 'nginx: body over the limit', no_timestamp => 1);
$res = $ua->post($stack->apache_url('/api/config/nodes') => { 'Content-Type' => 'application/json' } => $big)->result;
json_error_ok($res, 413, 'payload_too_large', 'apache: body over the limit', no_timestamp => 1);

# The responder enforces its own limit for whoever reaches its socket directly.
my ($status, $headers, $body) = $stack->fcgi_request(method => 'POST', uri => '/api/config/nodes', body => $big);
is($status, 413, 'responder: 413 for a body over body_limit');
my $err = eval { decode_json($body) } // {};
is($err->{code}, 'payload_too_large', 'responder: code payload_too_large');
like($err->{error}, qr/65536/, 'responder: message states the limit');

($status, $headers, $body) = $stack->fcgi_request(method => 'GET', uri => '/api/version',
    env => { CONTENT_LENGTH => 'abc' });
is($status, 400, 'responder: malformed Content-Length is a 400');
is((eval { decode_json($body) } // {})->{code}, 'bad_request', 'responder: code bad_request');

($status, $headers, $body) = $stack->fcgi_request(method => 'BREW', uri => '/api/version');
is($status, 405, 'responder: unknown method is a 405');
like($headers->{allow} // '', qr/GET/, 'responder: Allow sent for an unknown method');

# A responder pointed at a database without the schema answers 503 with the reason, and
# becomes healthy without a restart once the migrations ran.
$stack->psql('CREATE DATABASE pulse_empty');
(my $empty = $stack->conninfo) =~ s/dbname=pulse/dbname=pulse_empty/;
$stack->start_responder(9, PULSE_DATABASE_URL => $empty);
($status, $headers, $body) = $stack->fcgi_request(socket => $stack->socket_path(9), uri => '/api/health');
is($status, 503, 'unmigrated database: health 503');
my $h = eval { decode_json($body) } // {};
is($h->{status}, 'unhealthy', 'unmigrated database: unhealthy');
is($h->{database}{status}, 'schema_mismatch', 'unmigrated database: schema_mismatch');
is($h->{database}{schemaVersion}, 0, 'unmigrated database: version 0');
is($headers->{'retry-after'}, '5', 'unmigrated database: Retry-After');
my ($rc, $out) = $stack->migrate(PULSE_DATABASE_URL => $empty);
is($rc, 0, 'migrating the empty database works') or diag $out;
$stack->wait_for(sub {
    my ($s) = $stack->fcgi_request(socket => $stack->socket_path(9), uri => '/api/health');
    $s == 200;
}, 10, 'the responder to see the migrated schema');
pass('responder became healthy after migration, without a restart');
$stack->stop_program('fcgi-9', 'TERM');

# No responder at all: nginx answers with a JSON 502.
$stack->stop_program('fcgi-1', 'TERM');
$res = $ua->get($stack->url('/api/health'))->result;
json_error_ok($res, 502, 'responder_unavailable', 'nginx with no responder', no_timestamp => 1);
$res = $ua->get($stack->apache_url('/api/health'))->result;
ok($res->code == 502 || $res->code == 503, 'apache with no responder: 502/503');
is((eval { decode_json($res->body) } // {})->{code}, 'responder_unavailable', 'apache: JSON error page');

done_testing;
