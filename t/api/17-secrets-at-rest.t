#!/usr/bin/perl
# 17-secrets-at-rest.t: after setup, logins, tokens, recovery tokens and a bootstrap token,
# a pg_dump of the database holds none of the secrets in clear, and the key file is 0600.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::UserAgent;
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new->start;
my $bootstrap = $stack->bootstrap_token;
my $admin = $stack->setup_admin(password => 'a password to find in the dump');
my $ua = Mojo::UserAgent->new(insecure => 1, max_redirects => 0);
my @secrets = ($bootstrap, $admin->{password}, $admin->{token});

my $created = $ua->post($stack->url('/api/security/tokens') => $stack->token_headers => json => {})->result->json;
push @secrets, $created->{token};
my ($session, $csrf) = $stack->login;
my ($cookie) = map { $_->value } grep { $_->name eq 'pulse_session' } @{ $session->cookie_jar->all };
push @secrets, $cookie, $csrf;
push @secrets, $ua->post($stack->url('/api/security/recovery') => json => { action => 'generate_token' })->result->json->{token};
push @secrets, $ua->post($stack->url('/api/security/regenerate-token') => $stack->token_headers => json => {})->result->json->{token};
is(scalar(grep { defined && length >= 16 } @secrets), 8, 'eight secrets in play') or diag explain \@secrets;

my $dump = qx{pg_dump -h @{[ $stack->pg_sock ]} -p $stack->{pg_port} -U pulse -d pulse --data-only --inserts 2>&1};
is($? >> 8, 0, 'pg_dump ran');
like($dump, qr/INSERT INTO pulse\.api_tokens/, 'the dump holds the token rows');
like($dump, qr/INSERT INTO pulse\.sessions/, 'and the session rows');
for my $s (@secrets) {
    ok(index($dump, $s) < 0, 'not in the dump: ' . substr($s, 0, 4) . '...');
}
like($dump, qr/\$2b\$12\$/, 'the password is there only as a bcrypt hash');

my $key = $stack->dir . '/data/.encryption.key';
is((stat $key)[2] & 07777, 0600, 'the secrets key file is mode 0600');
open my $fh, '<', $key or die;
my $b64 = <$fh>;
chomp $b64;
ok(length $b64 >= 43, 'the key file holds a base64 key');
ok(index($dump, $b64) < 0, 'the key is not in the database');
like($stack->psql(q{SELECT value FROM pulse.security_state WHERE key = 'secrets_key_id'}), qr/^[0-9a-f]{16}$/,
    'the database records only a fingerprint of the key');

no_secret_in_logs($stack, @secrets, $b64);
done_testing;
