#!/usr/bin/perl
# 34-metrics-upgrade.t: migration 0007 turns the raw blocks of a schema-6 database (float8[])
# into packed doubles (bytea) and keeps every sample: short blocks, missing samples and all.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempdir);
use File::Copy qw(copy);
use Test::More;
use PulseStack;

my $old = tempdir(CLEANUP => 1);
copy($_, $old) or die "copy $_: $!" for glob PulseStack::srcdir() . '/sql/000[1-6]_*.sql';
my $s = PulseStack->new(responders => 0, workers => 0, nginx => 0, settings => { sql_dir => $old })->start;
is($s->psql(q{SELECT max(version) FROM pulse.schema_migrations}), 6, 'a database at schema 6');
$s->psql(q{
    INSERT INTO pulse.metric_series (resource_type, resource_id, metric)
        SELECT 'vm', 'u:' || g, 'cpu' FROM generate_series(1, 450) g;
    SELECT pulse.metric_partition_ensure('raw', now());
    SELECT pulse.metric_partition_ensure('raw', now() - interval '10 min');
    INSERT INTO pulse.metric_raw
        SELECT date_trunc('second', now()) - k * interval '10 s', b,
               (SELECT array_agg(CASE WHEN (i + k) % 7 = 0 THEN NULL ELSE i * 1.5 + k / 3.0 END ORDER BY i)
                FROM generate_series(1, CASE b WHEN 2 THEN 50 ELSE 200 END) i)
        FROM generate_series(0, 20) k, generate_series(0, 2) b;
    CREATE TABLE public.before AS SELECT series, time, value FROM pulse.metrics_raw});
my $n = $s->psql(q{SELECT count(*) FROM public.before});
ok($n > 8000, "$n samples in float8[] blocks, some missing, one block short");

my ($rc, $out) = $s->migrate(PULSE_SQL_DIR => PulseStack::srcdir() . '/sql');
is($rc, 0, 'migrated to the current schema') or diag $out;
is($s->psql(q{SELECT format_type(atttypid, atttypmod) FROM pg_attribute
    WHERE attrelid = 'pulse.metric_raw'::regclass AND attname = 'vals'}), 'bytea', 'blocks are bytea now');
is($s->psql(q{SELECT count(*) FROM ((SELECT * FROM public.before EXCEPT ALL SELECT series, time, value FROM pulse.metrics_raw)
    UNION ALL (SELECT series, time, value FROM pulse.metrics_raw EXCEPT ALL SELECT * FROM public.before)) d}), 0,
    'every sample kept, exactly, and nothing added');
is($s->psql(q{SELECT count(*) FROM pulse.metric_raw WHERE blk = 2 AND octet_length(vals) <> 400}), 0,
    'a short block stays short (50 slots, 400 bytes)');
$s->stop;
done_testing;
