#!/usr/bin/perl
# 14-rate-limits.t: per-class limits counted in PostgreSQL, so two responders share one
# budget; 429 with Retry-After and X-RateLimit headers; the client address taken from
# X-Forwarded-For only when the peer is a trusted proxy; direct loopback clients exempt
# from the universal limit but not from the login limit.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::UserAgent;
use Test::More;
use PulseStack;
use PulseTest;

# The trusted proxy is a client on 127.0.0.2; plain requests from 127.0.0.1 stay direct
# loopback clients (a trusted proxy's own requests never are).
my $stack = PulseStack->new(responders => 2, settings => { trusted_proxies => '127.0.0.2' })->start;
my $admin = $stack->setup_admin;
my $ua = Mojo::UserAgent->new(insecure => 1, max_redirects => 0);
my $proxy = Mojo::UserAgent->new(insecure => 1, max_redirects => 0, socket_options => { LocalAddr => '127.0.0.2' });
my $cp = $stack->url('/api/security/change-password');

# The auth class allows 10 a minute per client; nginx spreads the requests over both
# responders, which count in one table.
my $fwd = { 'X-Forwarded-For' => '198.51.100.20' };
my @codes = map { $proxy->post($cp => $fwd => json => {})->result->code } 1 .. 10;
is_deeply(\@codes, [(401) x 10], 'ten requests pass the limit (and are refused for lack of credentials)');
like($stack->log_tail('fcgi-1', 100), qr/change-password/, 'responder 1 served some');
like($stack->log_tail('fcgi-2', 100), qr/change-password/, 'responder 2 served some');
my $res = $proxy->post($cp => $fwd => json => {})->result;
my $b = json_error_ok($res, 429, 'rate_limited', 'the eleventh in the minute');
is($res->headers->header('Retry-After'), 60, 'Retry-After: the window');
is($res->headers->header('X-RateLimit-Limit'), 10, 'X-RateLimit-Limit');
is($res->headers->header('X-RateLimit-Remaining'), 0, 'X-RateLimit-Remaining');
like($res->headers->header('X-RateLimit-Reset'), qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'X-RateLimit-Reset');
is($stack->psql(q{SELECT sum(hits) FROM pulse.rate_limit_hits WHERE bucket = 'auth' AND client = '198.51.100.20'}),
    11, 'one shared counter, keyed by the forwarded client address');

# Another client is not affected; another class is not affected.
is($proxy->post($cp => { 'X-Forwarded-For' => '198.51.100.21' } => json => {})->result->code, 401,
    'another client address has its own budget');
is($proxy->get($stack->url('/api/security/status') => $fwd)->result->code, 200, 'other classes have their own budget');

# X-Forwarded-For from an untrusted peer is ignored: the responder, reached directly as if
# from 192.0.2.5, counts that address, not the header.
for my $i (1 .. 11) {
    my ($s) = $stack->fcgi_request(method => 'POST', uri => '/api/security/change-password', body => '{}',
        remote_addr => '192.0.2.5', env => { HTTP_X_FORWARDED_FOR => '198.51.100.99' },
        socket => $stack->socket_path($i % 2 + 1));
    push @codes, $s;
}
is($stack->psql(q{SELECT count(*) FROM pulse.rate_limit_hits WHERE client = '198.51.100.99'}), 0,
    'a forwarded address from an untrusted peer is not believed');
is($stack->psql(q{SELECT sum(hits) FROM pulse.rate_limit_hits WHERE client = '192.0.2.5'}), 11,
    'the peer address is counted instead, across both responders');
is($codes[-1], 429, 'and the eleventh direct request is refused too');

# Direct loopback clients are exempt from the universal limit ...
@codes = map { $ua->post($cp => json => {})->result->code } 1 .. 15;
is_deeply([grep { $_ == 429 } @codes], [], 'a direct loopback client is not limited by class');
# ... but not from the login limit of 10 a minute per address.
my $login = $stack->url('/api/login');
# (The lockout of the address is reset after each failure so that only the limit speaks.)
my $rl = $stack->url('/api/security/reset-lockout');
@codes = map {
    my $c = $ua->post($login => json => { username => "user$_", password => 'x' x 12 })->result->code;
    $ua->post($rl => $stack->token_headers => json => { identifier => '127.0.0.1' });
    $c;
} 1 .. 11;
is($codes[-1], 429, 'the eleventh login attempt in a minute is refused');
is_deeply([@codes[0 .. 9]], [(401) x 10], 'the ten before it were judged');

# quick-setup has its own limit of 10 a minute.
my $qs = $stack->url('/api/security/quick-setup');
@codes = map { $ua->post($qs => json => {})->result->code } 1 .. 11;
is($codes[-1], 429, 'the eleventh quick-setup attempt in a minute is refused');

no_secret_in_logs($stack, $admin->{token}, $admin->{password});
done_testing;
