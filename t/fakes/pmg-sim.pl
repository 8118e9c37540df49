#!/usr/bin/perl
# pmg-sim.pl: a Proxmox Mail Gateway API simulator over HTTPS, for tests and benchmarks.
#
#   pmg-sim.pl --listen https://127.0.0.1:8006 --cert C --key K [--nodes N] [--seed S] [--now EPOCH]
#              [--token 'user@realm!tokenid:secret'] [--password 'user@realm:password']
#
# SYNTHETIC DATA. Neither a PMG API schema nor recorded PMG responses are available to this
# project, so the answers are made up from the field lists of the reference notes
# (../shared/reference/state-proxmox.md §4: the paths Pulse polls and the fields it reads).
# Every response carries the header `X-Pulse-Sim: synthetic (reference notes)`. Where the
# notes say nothing (extra fields, the exact shape of a standalone node's cluster entry)
# this is our guess, not PMG's documented behaviour.
#
# Served under /api2/json, wrapped as {"data": ...}, GET only:
#   /version                                   {version, release, repoid}
#   /config/cluster/status[?list_single_node=1] [{cid, name, type, ip, fingerprint}]
#   /nodes/{node}/postfix/queue                {active, deferred, hold, incoming, oldest_age}
#   /nodes/{node}/backup                       [{filename, size, timestamp}]
#   /statistics/mail                           {count, count_in, ..., avptime (seconds)}
#   /statistics/mailcount[?timespan=S]         one point per hour of S (default 3600):
#                                              [{index, time, count, count_in, ...}]
#   /statistics/spamscores                     [{level, count, ratio}]
#   /quarantine/spamstatus                     {count, avgbytes, avgspam, mbytes}
#   /quarantine/virusstatus                    {count, avgbytes, mbytes}
# Some numbers come as JSON strings, always the same fields (count_in, count_out, bytes_in,
# bytes_out, glcount, avptime, deferred, avgbytes, mbytes), as Proxmox's Perl API often
# sends numbers it read from a database. The mail statistics are the sums of the last 24
# hourly points, the spam score counts add up to the incoming mail.
# --nodes N (default 1): one standalone node pmg1 (the cluster status lists it, without a
# cid, only with list_single_node=1); N > 1 is a cluster: pmg1 type master (cid 1) and pmg2..
# pmgN type node. Values derive from --seed and the names; times are relative to the start.
# Authentication, fault modes and test control are those every simulator shares
# (t/lib/ProxmoxSim.pm), named PMG: with --token the header
# `Authorization: PMGAPIToken=user@realm!id:secret`, with --password a ticket from
# POST /access/ticket (JSON or form body) sent as the cookie `PMGAuthCookie` (plus
# CSRFPreventionToken for a non-GET); neither: open. Else 401.
# Test control, on the same port and without authentication: POST /__sim/mode
# {"mode":"normal|slow|error|truncated|garbage|huge|amplify|evil-ticket|evil-csrf|
# offline-node","delay":s,"node":"name"} and GET /__sim/stats (ProxmoxSim.pm says what each
# does). offline-node: /nodes/{node}/... of the named node (every node when none is named)
# answers 500 while /version and the cluster-wide paths answer.
# POST /__sim/metrics sets generated values until the simulator ends: {"node":"pmg2",
# "active":N,"deferred":N,"hold":N,"incoming":N,"oldest_age":S} a node's Postfix queue;
# {"quarantine_spam":N,"quarantine_virus":N} the quarantine counts; {"hours":{"spamcount_in":N,
# ...}} a counter of every hourly point (and so of the day's statistics). Answers what is set.
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);
use FindBin;
use List::Util qw(sum0);
use Mojolicious::Lite -signatures;
use POSIX qw(strftime);
use Time::HiRes qw(time);
use lib "$FindBin::Bin/../lib";
use ProxmoxSim qw(refusal);

my %opt = (nodes => 1, seed => 1);
my $sim = ProxmoxSim->new('PMG', \%opt, 'nodes=i', 'seed=s', 'now=i');
$opt{nodes} = 1 if $opt{nodes} < 1;
my $mode = $sim->mode;
my $anchor = $opt{now} // int time;

sub rnd (@k) { hex substr(md5_hex(join "\0", $opt{seed}, @k), 0, 8) }
sub fingerprint ($k) { join ':', map { uc substr(md5_hex($k, $_), 0, 2) } 1 .. 32 }

# The fields sent as strings.
my %STRINGY = map { $_ => 1 } qw(count_in count_out bytes_in bytes_out glcount avptime deferred avgbytes mbytes);
sub typed ($h) { return { map { $_ => $STRINGY{$_} && defined $h->{$_} ? "$h->{$_}" : $h->{$_} } keys %$h } }

my @nodes = map { "pmg$_" } 1 .. $opt{nodes};
my %is_node = map { $_ => 1 } @nodes;

# --- the generated mail gateway -----------------------------------------------------------

my @COUNTERS = qw(count_in count_out spamcount_in spamcount_out viruscount_in viruscount_out bounces_in
    bounces_out rbl_rejects pregreet_rejects glcount);

# One hour's counters (numbers), the hour starting at $t.
my (%queue_set, %quarantine_set, %hour_set);    # from POST /__sim/metrics

sub hour_counts ($t) {
    my $hour = (gmtime $t)[2];
    my $base = 20 + rnd('volume', $t) % 40;
    my $day = $hour >= 7 && $hour <= 19 ? 3 : 1;    # office hours are busier
    my %c;
    $c{count_in} = $base * $day + $opt{nodes} * 5;
    $c{count_out} = int($c{count_in} * (25 + rnd('out', $t) % 20) / 100);
    $c{spamcount_in} = int($c{count_in} * (10 + rnd('spam', $t) % 25) / 100);
    $c{spamcount_out} = rnd('spamout', $t) % 7 == 0 ? 1 : 0;
    $c{viruscount_in} = rnd('virus', $t) % 5 == 0 ? 1 + rnd('virus2', $t) % 2 : 0;
    $c{viruscount_out} = 0;
    $c{bounces_in} = rnd('bin', $t) % 3;
    $c{bounces_out} = rnd('bout', $t) % 2;
    $c{rbl_rejects} = rnd('rbl', $t) % 15;
    $c{pregreet_rejects} = rnd('pre', $t) % 6;
    $c{glcount} = rnd('grey', $t) % 25;
    $c{$_} = $hour_set{$_} for keys %hour_set;
    $c{count} = $c{count_in} + $c{count_out};
    return \%c;
}

sub mailcount ($span) {
    my $n = int($span / 3600);
    $n = 1 if $n < 1;
    my $first = int($anchor / 3600) * 3600 - ($n - 1) * 3600;
    my @p;
    for my $i (0 .. $n - 1) {
        my $t = $first + $i * 3600;
        push @p, { index => 0 + $i, time => 0 + $t, %{ hour_counts($t) } };
    }
    return @p;
}

sub mail_stats {
    my %s = map { $_ => 0 } 'count', @COUNTERS;
    for my $p (mailcount(86400)) { $s{$_} += $p->{$_} for keys %s }
    $s{bytes_in} = $s{count_in} * (30_000 + rnd('bytes') % 40_000);
    $s{bytes_out} = $s{count_out} * (20_000 + rnd('bytesout') % 30_000);
    $s{junk_in} = int($s{spamcount_in} / 3);
    $s{avptime} = (50 + rnd('avp') % 250) / 100;    # seconds
    return \%s;
}

sub spamscores {
    my $total = mail_stats()->{count_in};
    my @share = (62, 9, 5, 4, 3, 3, 2, 2, 2, 2, 6);    # levels 0..10, per cent
    my @c = map { int($total * $_ / 100) } @share;
    $c[0] += $total - sum0(@c);    # the rounding remainder scored 0
    return [map { { level => "$_", count => 0 + $c[$_], ratio => $total ? $c[$_] / $total : 0 } } 0 .. $#c];
}

sub generated ($c, $path) {
    return { version => '8.2.1', release => '8.2', repoid => 'b2ad1c5e7d' } if $path eq '/version';
    if ($path eq '/config/cluster/status') {
        if (@nodes == 1) {
            return [] unless ($c->param('list_single_node') // '') =~ /^(1|true|yes|on)$/;
            return [{ name => $nodes[0], type => 'node', ip => '192.0.2.10', fingerprint => fingerprint($nodes[0]) }];
        }
        return [map { { cid => $_ + 1, name => $nodes[$_], type => $_ == 0 ? 'master' : 'node',
            ip => '192.0.2.' . (10 + $_), fingerprint => fingerprint($nodes[$_]) } } 0 .. $#nodes];
    }
    if ($path =~ m{^/nodes/([^/]+)/(postfix/queue|backup)$}) {
        my ($node, $what) = ($1, $2);
        return refusal(500, "no such cluster node '$node'") unless $is_node{$node};
        return refusal(500, "proxy handler failed: Connection refused")
            if $mode->{mode} eq 'offline-node' && ($mode->{node} eq '' || $mode->{node} eq $node);
        if ($what eq 'postfix/queue') {
            my %q = (active => rnd($node, 'active') % 4, deferred => 2 + rnd($node, 'deferred') % 20,
                hold => rnd($node, 'hold') % 2, incoming => rnd($node, 'incoming') % 3);
            $q{oldest_age} = 120 + rnd($node, 'age') % 7200;
            %q = (%q, %{ $queue_set{$node} // {} });
            return typed(\%q);
        }
        # A nightly backup around 02:00 UTC, the last three kept.
        my $newest = int($anchor / 86400) * 86400 + 7200 + rnd($node, 'backup') % 600;
        $newest -= 86400 if $newest > $anchor;
        my @b;
        for my $d (reverse 0 .. 2) {
            my $t = $newest - $d * 86400;
            push @b, { filename => sprintf('pmg-backup_%s_%08X.tgz', strftime('%Y_%m_%d', gmtime $t), $t),
                size => 180_000 + rnd($node, $d) % 60_000, timestamp => 0 + $t };
        }
        return \@b;
    }
    return typed(mail_stats()) if $path eq '/statistics/mail';
    if ($path eq '/statistics/mailcount') {
        my $span = $c->param('timespan') // 3600;
        return refusal(400, "parameter verification failed - 'timespan': value must be an integer between 3600 and 31622400")
            unless $span =~ /^\d+$/ && $span >= 3600 && $span <= 31622400;
        $span = 31 * 86400 if $span > 31 * 86400;
        return [map { typed($_) } mailcount($span)];
    }
    return spamscores() if $path eq '/statistics/spamscores';
    if ($path eq '/quarantine/spamstatus') {
        my $count = $quarantine_set{spam} // 40 + rnd('qspam') % 300;
        return typed({ count => $count, avgbytes => 12_000 + rnd('qspambytes') % 30_000,
            avgspam => (800 + rnd('avgspam') % 900) / 100, mbytes => sprintf('%.2f', $count * 25_000 / 2**20) + 0 });
    }
    if ($path eq '/quarantine/virusstatus') {
        my $count = $quarantine_set{virus} // rnd('qvirus') % 12;
        return typed({ count => $count, avgbytes => $count ? 60_000 + rnd('qvirusbytes') % 90_000 : 0,
            mbytes => sprintf('%.2f', $count * 90_000 / 2**20) + 0 });
    }
    return;
}

# --- test control -------------------------------------------------------------------------

my %QUEUE_FIELD = map { $_ => 1 } qw(active deferred hold incoming oldest_age);
my %COUNTER = map { $_ => 1 } @COUNTERS;
post '/__sim/metrics' => sub ($c) {
    my $m = $c->req->json;
    my $bad = sub ($why) { $c->render(status => 400, json => { error => $why }) };
    return $bad->('a JSON object needed') unless ref $m eq 'HASH';
    my $count = qr/^\d{1,9}$/;
    if (defined $m->{node}) {
        return $bad->("no such node '$m->{node}'") unless $is_node{ $m->{node} };
        for my $f (grep { $QUEUE_FIELD{$_} } keys %$m) {
            return $bad->("$f: a count needed") unless $m->{$f} =~ $count;
            $queue_set{ $m->{node} }{$f} = 0 + $m->{$f};
        }
    }
    for my $k (qw(spam virus)) {
        my $v = $m->{"quarantine_$k"} // next;
        return $bad->("quarantine_$k: a count needed") unless $v =~ $count;
        $quarantine_set{$k} = 0 + $v;
    }
    for my $f (keys %{ ref $m->{hours} eq 'HASH' ? $m->{hours} : {} }) {
        return $bad->("hours.$f: a counter and a count needed")
            unless $COUNTER{$f} && $m->{hours}{$f} =~ $count;
        $hour_set{$f} = 0 + $m->{hours}{$f};
    }
    $c->render(json => { queues => \%queue_set, quarantine => \%quarantine_set, hours => \%hour_set });
};

# --- the API --------------------------------------------------------------------------------

$sim->serve(app, marker => 'synthetic (reference notes)', answer => \&generated);
