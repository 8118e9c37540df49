#!/usr/bin/perl
# recorder.pl: a listener that writes down whatever reaches it and answers 401, for tests
# that must show what Pulse sends (or never sends) to a server it should not trust.
#
#   recorder.pl --listen 127.0.0.3:8006 --out FILE [--cert C --key K]
#
# With --cert/--key it speaks TLS with that certificate (a "member" presenting another
# certificate than expected); without, plain HTTP. Each connection appends to FILE a line
# "== connection" followed by the bytes of the request head (up to 64 KiB, 2 s at most), or
# "== handshake failed: ..." when the TLS handshake did not complete.
use strict;
use warnings;
use Getopt::Long;
use IO::Socket::INET;
use IO::Socket::SSL;
use IO::Select;

my %opt;
GetOptions(\%opt, 'listen=s', 'out=s', 'cert=s', 'key=s') or die "bad options\n";
my ($addr, $port) = $opt{listen} =~ /^(.*):(\d+)$/ or die "--listen host:port\n";
my $server = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port, Listen => 16,
    ReuseAddr => 1, Proto => 'tcp') or die "listen $opt{listen}: $!\n";
$| = 1;

sub note {
    my ($text) = @_;
    open my $fh, '>>', $opt{out} or die "$opt{out}: $!\n";
    print {$fh} $text;
    close $fh;
}

while (my $c = $server->accept) {
    my $sock = $c;
    if ($opt{cert}) {
        $sock = IO::Socket::SSL->start_SSL($c, SSL_server => 1, SSL_cert_file => $opt{cert},
            SSL_key_file => $opt{key}, Timeout => 2);
        if (!$sock) {
            note("== handshake failed: $SSL_ERROR\n");
            close $c;
            next;
        }
    }
    note("== connection\n");
    my ($head, $deadline) = ('', time + 2);
    my $sel = IO::Select->new($sock);
    while (length $head < 65536 && index($head, "\r\n\r\n") < 0 && time < $deadline) {
        next unless ($sock->can('pending') && $sock->pending) || $sel->can_read(0.2);
        my $n = sysread($sock, my $buf, 4096);
        last unless $n;
        $head .= $buf;
    }
    note($head . "\n");
    print {$sock} "HTTP/1.1 401 no\r\nContent-Type: application/json\r\nContent-Length: 13\r\n"
        . "Connection: close\r\n\r\n{\"data\":null}";
    close $sock;
}
