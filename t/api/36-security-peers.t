#!/usr/bin/perl
# 36-security-peers.t: regression tests for the findings of the first security review that
# concern what reaches a responder and what it leaves on disk
# (../shared/reviews/security-review-1.md): H2 (small bodies on public and scope-free routes,
# checked before parsing; JSON bounded in values), H3 (the FastCGI peer: fastcgi_peers, TCP
# refused without it, Unix-socket peers by their user), L6 (?token= in no log, nginx's and
# Apache's error logs included), L7 (the bootstrap token file) and the Info item on the key
# file's permissions. Each test's description starts with its finding.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use IPC::Open2;
use Mojo::JSON qw(decode_json encode_json);
use Mojo::UserAgent;
use POSIX ();
use Test::More;
use PulseStack;
use PulseTest;

plan skip_all => 'the FastCGI peer tests run other users\' processes: they need root (CI runs as root)'
    unless $> == 0;

# L7 first: before the worker starts, .bootstrap_token is a symlink to a file of an
# attacker's holding a token of the attacker's choice, and the predictable temporary names
# of the old code (.bootstrap_token.<pid>) for the next pids are symlinks to a second one.
my $stack = PulseStack->new(workers => 0, apache => 1);
$stack->prepare_dirs;
my $data = $stack->dir . '/data';
my ($bait, $bait2) = map { $stack->dir . "/$_" } qw(bait bait2);
my $chosen = 'c' x 48;
{ open my $fh, '>', $bait or die $!; print {$fh} "$chosen\n"; close $fh }
{ open my $fh, '>', $bait2 or die $!; close $fh }
chmod 0666, $bait, $bait2;
symlink $bait, "$data/.bootstrap_token" or die $!;
$stack->start;
my $next = do { open my $fh, '<', '/proc/sys/kernel/ns_last_pid' or die $!; <$fh> + 0 };
symlink $bait2, "$data/.bootstrap_token.$_" for $next + 1 .. $next + 3000;
$stack->start_worker(1);
$stack->wait_for(sub { !-l "$data/.bootstrap_token" && -s "$data/.bootstrap_token" }, 20, 'a new bootstrap token', 'worker-1');
my $token = $stack->bootstrap_token;
ok(!-l "$data/.bootstrap_token" && -f _, 'L7: the bootstrap token file is a regular file, not the planted symlink');
is((stat "$data/.bootstrap_token")[2] & 07777, 0600, 'L7: mode 0600');
isnt($token, $chosen, 'L7: the token planted behind a symlink was not adopted');
is(-s $bait2, 0, 'L7: nothing was written through a planted temporary name');
unlink glob("$data/.bootstrap_token.*");

my $ua = Mojo::UserAgent->new(insecure => 1, max_redirects => 0);
my $url = sub { $stack->url(shift) };
my $json = { 'Content-Type' => 'application/json' };

# --- H2: bodies of public and scope-free routes are small, refused before parsing ----
{
    my $amp = '[' . join(',', ('{}') x 5000) . ']';    # 10 KB; json-c would spend 4 MB on it
    for my $path ('/api/login', '/api/security/quick-setup', '/api/security/validate-bootstrap-token',
        '/api/security/recovery') {
        json_error_ok($ua->post($url->($path) => $json => $amp)->result, 413, 'payload_too_large',
            "H2: POST $path with 10 KB is refused before it is read");
    }
    my $small = '[' . join(',', ('{}') x 2000) . ']';
    json_error_ok($ua->post($url->('/api/login') => $json => $small)->result, 400, 'invalid_json',
        'H2: within 8 KiB it is parsed and refused as not an object');
    my $admin = $stack->setup_admin(token => 'h2-admin-token-' . ('x' x 20));
    my $mon = $ua->post($url->('/api/security/tokens') => $stack->token_headers => json => { scopes => ['monitoring:read'] })
        ->result->json->{token};
    json_error_ok($ua->post($url->('/api/security/change-password') => { %$json, 'X-API-Token' => $mon } => $amp)->result,
        413, 'payload_too_large', 'H2: a scope-free route (change-password) takes a small body from any token');
    json_error_ok($ua->post($url->('/api/security/change-password') => $json => $amp)->result,
        413, 'payload_too_large', 'H2: without credentials too: the length is judged before anything else');
    my @routes = map { decode_json($_) } split /\n/, qx{@{[ $stack->bin('pulse-fcgi') ]} --list-routes};
    my @open = grep { $_->{public} || !defined $_->{scope} } @routes;
    ok(@open >= 8, scalar(@open) . ' public or scope-free routes');
    is_deeply([grep { !defined $_->{bodyLimit} || $_->{bodyLimit} > 8192 } @open], [], 'H2: every one of them reads at most 8 KiB');
    # Through nginx a 16 MB body is refused at the edge; straight to the responder the
    # declared length is enough to refuse it, nothing is read.
    my ($s, undef, $b) = $stack->fcgi_request(method => 'POST', uri => '/api/login', body => 'x' x 9000,
        env => { CONTENT_TYPE => 'application/json' });
    is($s, 413, 'H2: the responder itself refuses it (a peer that skips nginx)');
}

# --- H3: who may speak FastCGI to a responder ----------------------------------------
my $gen = encode_json({ action => 'generate_token' });
# One request straight to a socket or host:port, as user (with group) through cgi-fcgi.
my $fcgi_as = sub {
    my ($user, $group, $target, $remote) = @_;
    my @env = (REQUEST_METHOD => 'POST', REQUEST_URI => '/api/security/recovery', QUERY_STRING => '',
        CONTENT_TYPE => 'application/json', CONTENT_LENGTH => length $gen, REMOTE_ADDR => $remote // '127.0.0.1');
    my @cmd = ('runuser', '-u', $user, (defined $group ? ('-g', $group) : ()), '--', 'env',
        (map { "$env[2 * $_]=$env[2 * $_ + 1]" } 0 .. $#env / 2), 'cgi-fcgi', '-bind', '-connect', $target);
    open my $null, '>', '/dev/null';
    local *STDERR = $null;
    my $pid = open2(my $out, my $in, @cmd);
    print {$in} $gen;
    close $in;
    local $/;
    my $raw = <$out> // '';
    waitpid $pid, 0;
    return PulseStack::_parse_cgi($raw);
};
{
    my $sock = $stack->socket_path(1);
    my ($s, undef, $b) = $fcgi_as->('www-data', undef, $sock);
    is($s, 200, 'H3: the web server\'s user (in fastcgi_peers) is believed when it says loopback') or diag $b;
    ($s, undef, $b) = $fcgi_as->('nobody', 'www-data', $sock);
    is($s, 403, 'H3: another user who can open the socket (its group) gets no loopback rights');
    like($b, qr/requires localhost access/, 'H3: recovery refused to it');
    like($stack->log_tail('fcgi-1', 50), qr/not in fastcgi_peers.*peer=uid:\d+/, 'H3: the responder logged that peer once');

    # TCP: refused without fastcgi_peers, and then only the listed addresses are served.
    my $port = PulseStack::free_port();
    my %env = ($stack->program_env);
    my $pid = $stack->spawn('fcgi-tcp', { %env, PULSE_FASTCGI_PEERS => '' }, $stack->bin('pulse-fcgi'),
        '--socket', "127.0.0.1:$port");
    $stack->wait_for(sub { waitpid($pid, POSIX::WNOHANG()) == $pid }, 20, 'the TCP responder to refuse to start');
    isnt($? >> 8, 0, 'H3: a TCP listener without fastcgi_peers does not start');
    like($stack->log_tail('fcgi-tcp', 5), qr/listening on TCP needs fastcgi_peers/, 'H3: and says why');

    $pid = $stack->spawn('fcgi-tcp2', { %env, PULSE_FASTCGI_PEERS => '192.0.2.1' }, $stack->bin('pulse-fcgi'),
        '--socket', "127.0.0.1:$port");
    $stack->wait_for(sub { PulseStack::_port_open($port) }, 20, 'the TCP responder', 'fcgi-tcp2');
    ($s, undef, $b) = $fcgi_as->('root', undef, "127.0.0.1:$port");
    is($s, 403, 'H3: a TCP peer not in fastcgi_peers is refused');
    like($b, qr/peer_not_allowed/, 'H3: with code peer_not_allowed');
    $stack->stop_program('fcgi-tcp2');

    $stack->spawn('fcgi-tcp3', { %env, PULSE_FASTCGI_PEERS => 'www-data, 127.0.0.0/8' }, $stack->bin('pulse-fcgi'),
        '--socket', "127.0.0.1:$port");
    $stack->wait_for(sub { PulseStack::_port_open($port) }, 20, 'the TCP responder', 'fcgi-tcp3');
    ($s, undef, $b) = $fcgi_as->('nobody', undef, "127.0.0.1:$port");
    is($s, 200, 'H3: a listed TCP peer is served and believed') or diag $b;
    $stack->stop_program('fcgi-tcp3');

    my $bad = $stack->spawn('fcgi-bad', { %env, PULSE_FASTCGI_PEERS => 'no-such-user-here' }, $stack->bin('pulse-fcgi'),
        '--socket', $stack->run_dir . '/bad.sock');
    $stack->wait_for(sub { waitpid($bad, POSIX::WNOHANG()) == $bad }, 20, 'the misconfigured responder to stop');
    like($stack->log_tail('fcgi-bad', 5), qr/fastcgi_peers: "no-such-user-here" is neither/, 'H3: an unknown name is a start-up error');
}

# --- Info: the key file must be private -----------------------------------------------
{
    chmod 0644, "$data/.encryption.key";
    my $pid = $stack->spawn('fcgi-key', { $stack->program_env }, $stack->bin('pulse-fcgi'), '--socket',
        $stack->run_dir . '/key.sock');
    $stack->wait_for(sub { waitpid($pid, POSIX::WNOHANG()) == $pid }, 20, 'the responder to refuse the key');
    like($stack->log_tail('fcgi-key', 5), qr/must be a regular file only its owner can read.*chmod 600/,
        'Info: a key file others can read is refused, with the fix');
    chmod 0600, "$data/.encryption.key";
}

# --- L6: a token in the query string reaches no log line ---------------------------------
{
    my $secret = sub { 'query-token-' . shift() . '-' . ('q' x 24) };
    my $big = 'x' x (17 * 1024 * 1024);
    # nginx refuses a body over its limit and logs the request line at "error".
    is($ua->post($url->('/api/state?token=' . $secret->(1)) => $json => $big)->result->code, 413,
        'L6: nginx: a body over the limit with ?token=');
    is($ua->post($stack->apache_url('/api/config/nodes?token=' . $secret->(2)) => $json => $big)->result->code, 413,
        'L6: apache: the same');
    is($ua->get($url->('/api/state?token=' . $stack->{admin}{token}))->result->code, 200,
        'L6: ?token= still signs a request in through nginx');
    is($ua->get($url->('/no/such/file.js?token=' . $secret->(3)))->result->code, 200,
        'L6: a static path that does not exist (the UI answers)');
    # With no responder, both web servers log the failed upstream.
    $stack->stop_program('fcgi-1', 'TERM', 20);
    like($ua->get($url->('/api/state?token=' . $secret->(4)))->result->code, qr/^50[234]$/,
        'L6: nginx: no responder, ?token=');
    like($ua->get($stack->apache_url('/api/state?token=' . $secret->(5)))->result->code, qr/^50[234]$/,
        'L6: apache: no responder, ?token=');
    like($ua->get($url->('/api/state'))->result->code, qr/^50[234]$/, 'L6: nginx: and without one');
    my $errors = do { local (@ARGV, $/) = ($stack->log_dir . '/nginx-error.log'); <> } // '';
    like($errors, qr/connect\(\) to unix:.*failed/, 'L6: nginx logged the failed upstream (the log is read)');
    no_secret_in_logs($stack, map { $secret->($_) } 1 .. 5);
}

done_testing;
