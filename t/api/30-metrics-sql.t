#!/usr/bin/perl
# 30-metrics-sql.t: the pgTAP tests of the metrics schema (t/sql/metrics.sql: views against
# brute-force aggregates, retention, partition upkeep) in a migrated database with no program
# running, each pgTAP result reported as a test here.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PulseStack;

my $stack = PulseStack->new(responders => 0, workers => 0, nginx => 0)->start;
my $file = PulseStack::srcdir() . '/t/sql/metrics.sql';
my ($rc, $out) = $stack->run_cmd('/usr/lib/postgresql/15/bin/psql', '-X', '-q', '-h', $stack->pg_sock,
    '-p', $stack->{pg_port}, '-U', 'pulse', '-d', 'pulse', '-f', $file);
is($rc, 0, 'pgTAP file ran') or diag $out;
my ($planned) = $out =~ /^1\.\.(\d+)$/m;
ok($planned, "pgTAP plan: $planned tests") or diag $out;
my $seen = 0;
for my $line (split /\n/, $out) {
    if ($line =~ /^(not )?ok (\d+)(?: - (.*))?/) {
        $seen++;
        ok(!$1, "pgTAP: " . ($3 // "test $2"));
    } elsif ($line =~ /^\s*#/) {
        diag $line;
    }
}
is($seen, $planned, 'every planned pgTAP test ran');
done_testing;
