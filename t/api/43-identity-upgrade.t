#!/usr/bin/perl
# 43-identity-upgrade.t: migration 0009 gives a schema-8 database's instances their number as
# a column (the lock key the worker parsed out of "pve-N" before) and every state table a
# `mock` column, filled for the rows already there and for rows written afterwards.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempdir);
use File::Copy qw(copy);
use Test::More;
use PulseStack;

my $old = tempdir(CLEANUP => 1);
copy($_, $old) or die "copy $_: $!" for glob PulseStack::srcdir() . '/sql/000[1-8]_*.sql';
my $s = PulseStack->new(responders => 0, workers => 0, nginx => 0, settings => { sql_dir => $old })->start;
is($s->psql(q{SELECT max(version) FROM pulse.schema_migrations}), 8, 'a database at schema 8');
$s->psql(q{
    INSERT INTO pulse.instances (id, type, name, host) VALUES
        ('pve-3', 'pve', 'lab', 'https://pve.example:8006'),
        ('pbs-12', 'pbs', 'backup', 'https://pbs.example:8007');
    INSERT INTO pulse.connection_health VALUES ('pve-lab', 'pve-3', true),
        ('pve-mock-cluster', 'mock-cluster', true)});

my ($rc, $out) = $s->migrate(PULSE_SQL_DIR => PulseStack::srcdir() . '/sql');
is($rc, 0, 'migrated to the current schema') or diag $out;
is($s->psql(q{SELECT string_agg(id || '=' || number, ',' ORDER BY number) FROM pulse.instances}),
    'pve-3=3,pbs-12=12', 'each instance has its number');
is($s->psql(q{SELECT string_agg(key || '=' || mock, ',' ORDER BY key) FROM pulse.connection_health}),
    'pve-lab=false,pve-mock-cluster=true', 'rows already there: mock from their instance');
$s->psql(q{INSERT INTO pulse.connection_health (key, instance_id, healthy) VALUES ('pbs-x', 'mock-pbs', true)});
is($s->psql(q{SELECT mock FROM pulse.connection_health WHERE key = 'pbs-x'}), 't', 'and rows written afterwards');
is($s->psql(q{SELECT string_agg(table_name, ' ' ORDER BY table_name) FROM information_schema.columns
    WHERE table_schema = 'pulse' AND column_name = 'mock'}), join(' ', qw(agent_hosts agent_kube_clusters agent_kube_removed alerts backup_tasks
    ceph_clusters connection_health docker_containers docker_hosts docker_removed_hosts guest_snapshots guests pbs_backups
    pbs_instances physical_disks pmg_backups pmg_instances pve_nodes replication_jobs storage storage_backups)),
    'every state table (the agents\' too) and pulse.alerts have the column');
ok(!eval { $s->psql(q{INSERT INTO pulse.instances (id, number, type, name, host)
    VALUES ('pve-4', 3, 'pve', 'x', 'https://other.example:8006')}); 1 }, 'a number is never used twice');
$s->stop;

done_testing;
