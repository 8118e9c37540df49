#!/usr/bin/perl
# 16-bad-input.t: the authentication endpoints under hostile input: malformed JSON, wrong
# types, oversized bodies, SQL metacharacters in every field; always a 4xx JSON answer, never
# a 500, nothing written. Unknown and wrong-password logins take the same time.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use List::Util qw(sum);
use Mojo::JSON qw(true false encode_json);
use Mojo::UserAgent;
use Test::More;
use Time::HiRes qw(time);
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { trusted_proxies => '127.0.0.1' })->start;
my $admin = $stack->setup_admin;
my $ua = Mojo::UserAgent->new(insecure => 1, max_redirects => 0, request_timeout => 60);
my $auth = $stack->token_headers;
my $n = 0;
my $ip = sub { { 'X-Forwarded-For' => '198.18.' . int(++$n / 250) . '.' . ($n % 250 + 1) } };

my $tables = q{SELECT (SELECT count(*) FROM pulse.users) || ',' || (SELECT count(*) FROM pulse.api_tokens)
    || ',' || (SELECT count(*) FROM pulse.sessions) || ',' || (SELECT string_agg(password_hash, '') FROM pulse.users)};
my $before = $stack->psql($tables);

my %endpoints = (
    '/api/login'                              => [{}, { username => 'admin', password => 'x' x 12 }],
    '/api/security/quick-setup'               => [{}, { username => 'a', password => 'p' x 12, apiToken => 't' x 20 }],
    '/api/security/tokens'                    => [$auth, { name => 'n', scopes => ['monitoring:read'] }],
    '/api/security/validate-token'            => [$auth, { token => 'x' }],
    '/api/security/reset-lockout'             => [$auth, { identifier => 'x' }],
    '/api/security/change-password'           => [$auth, { currentPassword => 'x' x 12, newPassword => 'y' x 12 }],
    '/api/security/validate-bootstrap-token'  => [{}, { token => 'x' }],
    '/api/security/recovery'                  => [{}, { action => 'enable_auth' }],
);

my @malformed = ('{', '{"a":', '{"a" 1}', 'nul', "{\"a\":\"\xff\"}", '{"a":1}}', '[' x 200 . ']' x 200, "\x00");
my @wrong = (1, 'string', true, [1], { nested => 1 }, -1, 1e308);
for my $path (sort keys %endpoints) {
    my ($headers, $good) = @{ $endpoints{$path} };
    my %h = (%$headers, %{ $ip->() }, 'Content-Type' => 'application/json');
    for my $body (@malformed) {
        my $res = $ua->post($stack->url($path) => \%h => $body)->result;
        ok($res->code >= 400 && $res->code < 500, "$path: malformed body " . encode_json([$body]) . ' is a 4xx (' . $res->code . ')');
        like($res->headers->content_type // '', qr{application/json}, "$path: and JSON");
    }
    for my $field (sort keys %$good) {
        for my $v (@wrong) {
            next if ref $good->{$field} eq 'ARRAY' && ref $v eq 'ARRAY';
            next if !ref $good->{$field} && !ref $v && $v eq 'string';
            my $res = $ua->post($stack->url($path) => { %h, %{ $ip->() } } => json => { %$good, $field => $v })->result;
            ok($res->code >= 400 && $res->code < 500, "$path: $field = " . encode_json([$v]) . ' is a 4xx (' . $res->code . ')');
        }
    }
    # SQL metacharacters in every string field: judged as data, never executed.
    for my $field (grep { !ref $good->{$_} } sort keys %$good) {
        for my $v (q{' OR '1'='1}, q{"; DROP TABLE pulse.users; --}, q{\\'; SELECT pg_sleep(5); --}, "a\x{2028}b\\u0000") {
            my $t0 = time;
            my $res = $ua->post($stack->url($path) => { %h, %{ $ip->() } } => json => { %$good, $field => $v })->result;
            ok($res->code < 500 && time - $t0 < 4, "$path: $field with SQL metacharacters: " . $res->code);
        }
    }
    $stack->psql('DELETE FROM pulse.rate_limit_hits; DELETE FROM pulse.login_failures');
}
is($stack->psql(q{SELECT count(*) FROM pg_tables WHERE schemaname = 'pulse' AND tablename = 'users'}), 1,
    'pulse.users is still there');
my ($users, $tokens, $sessions, $hash) = split /,/, $stack->psql($tables);
my ($users0, $tokens0, $sessions0, $hash0) = split /,/, $before;
is($users, $users0, 'no user was added');
is($hash, $hash0, 'the password was not changed');
is($sessions, $sessions0, 'no session was created');
ok($tokens >= $tokens0, 'tokens were only added by the valid requests');
is($stack->psql(q{SELECT count(*) FROM pulse.api_tokens WHERE name = '"; DROP TABLE pulse.users; --'}), 1,
    'a token name with SQL in it is stored as the text it is');

# Bodies over the limit never reach the responders, and are JSON from nginx.
my $huge = '{"name":"' . ('x' x (17 * 1024 * 1024)) . '"}';
my $res = $ua->post($stack->url('/api/security/tokens') => $auth => $huge)->result;
json_error_ok($res, 413, 'payload_too_large', 'a 17 MB body', no_timestamp => 1);
$res = $ua->post($stack->url('/api/security/tokens') => { %$auth, 'Content-Type' => 'application/json' } => '{"name":"' . ('x' x 7000) . '"}')->result;
json_error_ok($res, 400, 'invalid_field', 'a long name within the body limit');
$res = $ua->post($stack->url('/api/security/tokens') => $auth => '{"name":"' . ('x' x 100000) . '"}')->result;
json_error_ok($res, 413, 'payload_too_large', 'a body over the route\'s own limit (8 KiB)');

like($stack->log_text, qr/msg=access/, 'the responders logged the requests');
unlike($stack->log_text, qr/status=5\d\d/, 'not one 5xx answer in the whole run');

# Unknown user and wrong password cost the same: one bcrypt either way.
my (@unknown, @wrong_pw);
for my $i (1 .. 6) {
    for my $case ([\@unknown, "nobody$i"], [\@wrong_pw, 'admin']) {
        $stack->psql('DELETE FROM pulse.login_failures; DELETE FROM pulse.rate_limit_hits');
        my $t0 = time;
        my $code = $ua->post($stack->url('/api/login') => $ip->() => json => { username => $case->[1], password => "wrong password $i" })->result->code;
        push @{ $case->[0] }, time - $t0;
        die "unexpected $code" unless $code == 401;
    }
}
my $median = sub { my @s = sort { $a <=> $b } @_; ($s[2] + $s[3]) / 2 };
my ($mu, $mw) = ($median->(@unknown), $median->(@wrong_pw));
my $ratio = $mu / $mw;
diag(sprintf 'login timing: unknown user %.1f ms, wrong password %.1f ms (ratio %.2f)', $mu * 1000, $mw * 1000, $ratio);
ok($ratio > 0.75 && $ratio < 1.33, 'an unknown user and a wrong password take the same time');
ok($mu > 0.05, 'both pay for a bcrypt (cost 12)');

no_secret_in_logs($stack, $admin->{token}, $admin->{password});
done_testing;
