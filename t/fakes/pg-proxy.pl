#!/usr/bin/perl
# pg-proxy.pl: a byte-for-byte relay between database clients and PostgreSQL, which a test
# stops (SIGSTOP) to cut every connection through it without closing any: a network that
# hangs.
#
#   pg-proxy.pl --listen ADDR --to ADDR
#
# An ADDR is a Unix socket path (e.g. DIR/.s.PGSQL.5432, what libpq opens for host=DIR
# port=5432) or host:port for TCP. Each accepted connection gets its own connection to --to;
# when either side closes, so does the other. SIGSTOP freezes every relayed connection (both
# directions) and SIGCONT resumes them with whatever the other side did meanwhile (a
# session ended by PostgreSQL reaches the client only then).
use strict;
use warnings;
use Getopt::Long;
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);

my %opt;
GetOptions(\%opt, 'listen=s', 'to=s') or die "bad options\n";
die "usage: pg-proxy.pl --listen ADDR --to ADDR\n" unless $opt{listen} && $opt{to};

sub is_tcp { $_[0] =~ /^[^\/]*:\d+$/ }

sub listener {
    my ($addr) = @_;
    if (is_tcp($addr)) {
        my ($host, $port) = $addr =~ /^(.*):(\d+)$/;
        my $s = IO::Socket::INET->new(LocalAddr => $host, LocalPort => $port, Listen => 64,
            ReuseAddr => 1, Proto => 'tcp') or die "listen $addr: $!\n";
        return $s;
    }
    unlink $addr;
    my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $addr, Listen => 64)
        or die "listen $addr: $!\n";
    return $s;
}

sub connect_to {
    my ($addr) = @_;
    return IO::Socket::INET->new(PeerAddr => $addr, Proto => 'tcp') if is_tcp($addr);
    return IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $addr);
}

my $server = listener($opt{listen});
my $sel = IO::Select->new($server);
my %peer;    # socket => the socket it relays to

sub close_pair {
    my ($s) = @_;
    my $p = delete $peer{$s};
    for my $x (grep { defined } $s, $p) {
        delete $peer{$x};
        $sel->remove($x);
        close $x;
    }
}

$SIG{TERM} = $SIG{INT} = sub { unlink $opt{listen} unless is_tcp($opt{listen}); exit 0 };
$SIG{PIPE} = 'IGNORE';

for (;;) {
    for my $s ($sel->can_read) {
        if ($s == $server) {
            my $c = $server->accept or next;
            my $u = connect_to($opt{to});
            if (!$u) {
                close $c;
                next;
            }
            $peer{$c} = $u;
            $peer{$u} = $c;
            $sel->add($c, $u);
            next;
        }
        next unless $peer{$s};
        my $n = sysread($s, my $buf, 65536);
        if (!$n) {
            close_pair($s);
            next;
        }
        my $to = $peer{$s};
        my $off = 0;
        while ($off < $n) {
            my $w = syswrite($to, $buf, $n - $off, $off);
            if (!defined $w) {
                close_pair($s);
                last;
            }
            $off += $w;
        }
    }
}
