#!/usr/bin/perl
# 44-db-layer.t: the database layer's unit test (t/unit/test_db, plain and under ASan/UBSan)
# against a real PostgreSQL: the part of it that needs a server (asynchronous statements,
# binary results, SQLSTATEs, transactions, LISTEN/NOTIFY) runs here, with the stack's database.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PulseStack;

my $s = PulseStack->new(responders => 0, workers => 0, nginx => 0)->start;
for my $bin (qw(test_db test_db_asan)) {
    my $path = PulseStack::builddir() . "/t/unit/$bin";
    ok(-x $path, "$bin is built") or next;
    local $ENV{PULSE_TEST_DSN} = $s->conninfo;
    my $out = `$path 2>&1`;
    is($? >> 8, 0, "$bin exits 0") or diag $out;
    my @lines = split /\n/, $out;
    my ($plan) = map { /^1\.\.(\d+)$/ ? $1 : () } @lines;
    my @ok = grep { /^ok \d+/ } @lines;
    ok($plan && $plan > 13 && @ok == $plan, "$bin: all $plan checks pass, the server part included")
        or diag $out;
    ok(!grep({ /# SKIP/ } @lines), "$bin: nothing skipped") or diag $out;
    ok((grep { /connects to PULSE_TEST_DSN/ } @ok), "$bin: it talked to the server");
}
done_testing();
