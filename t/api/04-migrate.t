#!/usr/bin/perl
# 04-migrate.t: migrations apply in order and once, also when two workers run them at the
# same moment; a changed, missing or newer migration stops the run with a clear message.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempdir);
use Test::More;
use PulseStack;

my $stack = PulseStack->new(nginx => 0, responders => 0, workers => 0)->start;
my $src = PulseStack::srcdir() . '/sql';
my @shipped = sort glob("$src/[0-9][0-9][0-9][0-9]_*.sql");
ok(@shipped >= 1, 'migrations are shipped');

# A copy of the shipped files plus a slow one, so two runs really overlap.
my $dir = tempdir(CLEANUP => 1);
system('cp', @shipped, $dir) == 0 or die;
my $slow = sprintf '%s/%04d_slow_once.sql', $dir, @shipped + 1;
open my $fh, '>', $slow or die;
print {$fh} "CREATE TABLE pulse.applied_once (n integer);\n"
    . "INSERT INTO pulse.applied_once VALUES (1);\nSELECT pg_sleep(1.5);\n";
close $fh;

$stack->psql('CREATE DATABASE pulse_race');
(my $race = $stack->conninfo) =~ s/dbname=pulse\b/dbname=pulse_race/;
my %env = (PULSE_CONFIG => $stack->conf_path, PULSE_DATABASE_URL => $race, PULSE_SQL_DIR => $dir);
my @runs;
for my $i (1, 2) {
    my $out = "$dir/run-$i.log";
    my $pid = fork // die;
    if (!$pid) {
        %ENV = (%ENV, %env);
        open STDOUT, '>', $out;
        open STDERR, '>&', \*STDOUT;
        exec $stack->bin('pulse-worker'), '--migrate';
    }
    push @runs, [$pid, $out];
}
for my $run (@runs) {
    waitpid $run->[0], 0;
    is($? >> 8, 0, "concurrent migration run exits 0");
}
my $logs = join '', map { local (@ARGV, $/) = $_->[1]; <> } @runs;
my $total = @shipped + 1;
my $applied = () = $logs =~ /applying migration/g;
is($applied, $total, "each of the $total migrations was applied once across both runs");
like($logs, qr/applied=0/, 'one run found nothing left to do');
(my $conninfo_race = $race);
my $psql = sub {
    my $sql = shift;
    my $out = qx{psql -X -q -h @{[ $stack->pg_sock ]} -p $stack->{pg_port} -U pulse -d pulse_race -tAc "$sql" 2>&1};
    chomp $out;
    return $out;
};
is($psql->('SELECT count(*) FROM pulse.schema_migrations'), $total, 'one row per migration');
is($psql->('SELECT count(*) FROM pulse.applied_once'), 1, 'the slow migration ran once');
is($psql->('SELECT string_agg(version::text, \',\' ORDER BY version) FROM pulse.schema_migrations'),
    join(',', 1 .. $total), 'versions recorded in order');

# Running again changes nothing.
local %ENV = (%ENV, %env);
my $out = qx{@{[ $stack->bin('pulse-worker') ]} --migrate 2>&1};
is($? >> 8, 0, 'a third run exits 0');
like($out, qr/applied=0 schema=$total/, 'and applies nothing');

# A file changed after it was applied is refused.
open $fh, '>>', $slow or die;
print {$fh} "-- edited\n";
close $fh;
$out = qx{@{[ $stack->bin('pulse-worker') ]} --migrate 2>&1};
isnt($? >> 8, 0, 'a changed migration fails the run');
like($out, qr/was changed after it was applied/, 'with a message naming the problem');
like($out, qr/slow_once/, 'and the file');

# A database newer than the files of this build is refused.
unlink $slow;
$out = qx{@{[ $stack->bin('pulse-worker') ]} --migrate 2>&1};
isnt($? >> 8, 0, 'a database newer than the build fails the run');
like($out, qr/newer than the/, 'with a message saying so');

# A gap in the numbering is refused before touching the database.
my $gap = tempdir(CLEANUP => 1);
system('cp', @shipped, $gap);
open $fh, '>', sprintf('%s/%04d_gap.sql', $gap, @shipped + 2) or die;
print {$fh} "SELECT 1;\n";
close $fh;
$ENV{PULSE_SQL_DIR} = $gap;
$out = qx{@{[ $stack->bin('pulse-worker') ]} --migrate 2>&1};
isnt($? >> 8, 0, 'a gap in the numbering fails the run');
like($out, qr/without gaps/, 'with a message saying so');

# A failing migration leaves nothing half applied.
$stack->psql('CREATE DATABASE pulse_broken');
(my $broken = $stack->conninfo) =~ s/dbname=pulse\b/dbname=pulse_broken/;
my $bad = tempdir(CLEANUP => 1);
system('cp', @shipped, $bad);
open $fh, '>', sprintf('%s/%04d_broken.sql', $bad, @shipped + 1) or die;
print {$fh} "CREATE TABLE pulse.half (n integer);\nSELECT no_such_function();\n";
close $fh;
$ENV{PULSE_SQL_DIR} = $bad;
$ENV{PULSE_DATABASE_URL} = $broken;
$out = qx{@{[ $stack->bin('pulse-worker') ]} --migrate 2>&1};
isnt($? >> 8, 0, 'a failing migration fails the run');
like($out, qr/broken\.sql failed/, 'naming the file');
my $tables = qx{psql -X -q -h @{[ $stack->pg_sock ]} -p $stack->{pg_port} -U pulse -d pulse_broken -tAc "SELECT count(*) FROM pg_tables WHERE tablename = 'half'"};
chomp $tables;
is($tables, 0, 'its partial work was rolled back');

done_testing;
