#!/usr/bin/perl
# 07-launchers.t: pulse-fcgi under spawn-fcgi (socket on descriptor 0) and under systemd
# socket activation (LISTEN_FDS): it serves on the inherited socket, stops cleanly on
# SIGTERM and leaves the socket, which is not its own, in place.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(decode_json);
use Test::More;
use PulseStack;

my $stack = PulseStack->new(nginx => 0, responders => 0, workers => 0)->start;
my $fcgi = $stack->bin('pulse-fcgi');

my %launchers = (
    'spawn-fcgi' => sub { my $s = shift; ('spawn-fcgi', '-n', '-s', $s, '-M', '0600', '--', $fcgi) },
    # systemd-socket-activate passes on only the variables named with -E.
    'systemd-socket-activate' => sub { my $s = shift; ('systemd-socket-activate', '-l', $s,
        '-E', 'PULSE_CONFIG', '-E', 'PULSE_LISTEN', $fcgi) },
);
for my $name (sort keys %launchers) {
    my $sock = $stack->run_dir . "/$name.sock";
    # systemd-socket-activate starts the program at the first connection and hands it the
    # socket; spawn-fcgi execs it at once with the socket on descriptor 0.
    $stack->spawn($name, { $stack->program_env, PULSE_LISTEN => '' }, $launchers{$name}->($sock));
    $stack->wait_for(sub { -S $sock }, 10, "$name socket", $name);
    my ($status, undef, $body) = $stack->fcgi_request(socket => $sock, uri => '/api/version');
    is($status, 200, "$name: the responder serves on the inherited socket");
    like((eval { decode_json($body) } // {})->{version} // '', qr/^\d+\.\d+/, "$name: version body");
    ($status) = $stack->fcgi_request(socket => $sock, uri => '/api/health');
    is($status, 200, "$name: health with the database");
    like($stack->log_tail($name, 20), qr/listen="\(inherited\)"/, "$name: logged an inherited socket");
    is($stack->stop_program($name, 'TERM', 15), 0, "$name: SIGTERM stops it with status 0");
    ok(-S $sock, "$name: the inherited socket is left in place");
}

done_testing;
