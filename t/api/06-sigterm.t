#!/usr/bin/perl
# 06-sigterm.t: SIGTERM lets the requests in flight finish: a request whose body is still
# arriving when the signal comes is answered in full, then the responder exits cleanly and
# its socket is gone; nginx sends new requests to the other responder meanwhile.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use IPC::Open2;
use Mojo::JSON qw(decode_json);
use Test::More;
use Time::HiRes qw(sleep);
use PulseStack;

my $stack = PulseStack->new(responders => 2)->start;
my $sock = $stack->socket_path(1);

# A GET with a body: the responder reads the body before it answers, so it is busy with this
# request while the second half is held back.
my $body = 'x' x 8000;    # within the route's body limit (8 KiB)
local %ENV = (%ENV, REQUEST_METHOD => 'GET', REQUEST_URI => '/api/version', QUERY_STRING => '',
    CONTENT_LENGTH => length $body, REMOTE_ADDR => '127.0.0.1');
my $pid = open2(my $out, my $in, 'cgi-fcgi', '-bind', '-connect', $sock);
$in->autoflush(1);
print {$in} substr($body, 0, 4000);
sleep 0.5;

kill 'TERM', $stack->pid_of('fcgi-1');
sleep 0.5;
ok($stack->alive('fcgi-1'), 'the responder waits for the request in flight');
ok(!-e $sock, 'its socket is already gone, so no new connection reaches it');
my $res = $stack->ua->get($stack->url('/api/health'))->result;
is($res->code, 200, 'nginx serves new requests through the other responder meanwhile');

print {$in} substr($body, 4000);
close $in;
my $raw = do { local $/; <$out> };
waitpid $pid, 0;
my ($status, $headers, $json) = PulseStack::_parse_cgi($raw);
is($status, 200, 'the request in flight was answered in full');
my $v = eval { decode_json($json) } // {};
like($v->{version} // '', qr/^\d+\.\d+\.\d+/, 'with the complete version body');

my $exit = $stack->stop_program('fcgi-1', 0, 15);
is($exit, 0, 'the responder then exited with status 0');
like($stack->log_tail('fcgi-1', 20), qr/responder stopped/, 'and logged its stop');

done_testing;
