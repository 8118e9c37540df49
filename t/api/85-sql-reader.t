#!/usr/bin/perl
# 85-sql-reader.t: the pulse_reader role (sql/0022) and the Grafana dashboard
# (share/pulse/grafana/pulse.json). A LOGIN role granted pulse_reader reads every documented
# view through psql and is refused every other relation of the schema (walked in pg_class,
# so a table added later is checked too) and every write; then every query of the dashboard
# (panels and variables) runs as that role against the polled simulator, with Grafana's
# macros expanded as docs/SQL.md says, and the time series return rows.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempdir);
use Mojo::File qw(path);
use Mojo::JSON qw(decode_json);
use POSIX qw(strftime);
use Test::More;
use PulseStack;

# The views pulse_reader may read (docs/SQL.md "The pulse_reader role").
my @views = qw(v_instances v_nodes v_guests v_storage v_physical_disks v_replication_jobs
    v_pbs_datastores v_pmg_queues v_backup_tasks v_storage_backups v_guest_snapshots
    v_pbs_backups v_pmg_backups v_guest_backups metrics metrics_raw metrics_minute metrics_hour
    metrics_day v_metric_tiers active_alerts v_alert_history);
my $tmp = tempdir(CLEANUP => 1);
# Views the polled simulator fills.
my @filled = qw(v_instances v_nodes v_guests v_storage v_backup_tasks v_storage_backups
    v_guest_backups metrics metrics_raw metrics_minute metrics_hour metrics_day v_metric_tiers
    active_alerts v_alert_history);

my $stack = PulseStack->new(settings => { pve_polling_interval => 1, backup_polling_cycles => 2,
    metrics_flush_interval => 1 })->start;
$stack->setup_admin;
my $auth = $stack->token_headers;
my $sim = $stack->start_sim(nodes => 2, guests => 6, token => 'root@pam!t=x');
my $res = $stack->ua->post($stack->url('/api/config/nodes') => $auth => json => { type => 'pve',
    name => 'gf', host => $sim->{url}, tokenName => 'root@pam!t', tokenValue => 'x',
    fingerprint => $sim->{fingerprint} })->result;
ok($res->is_success, 'a PVE instance added') or diag $res->body;
$stack->wait_state(sub { @{ $_[0]{pveBackups}{storageBackups} } > 0 }, 30, 'backups polled');
$stack->wait_for(sub { $stack->psql(q{SELECT count(DISTINCT time) FROM pulse.metrics_raw
    WHERE resource_type = 'node'}) >= 2 }, 30, 'two polls of metrics', 'worker-1');
# An alert and its history, under a source no evaluation owns.
$stack->psql(q{INSERT INTO pulse.alerts (id, type, level, resource_id, resource_name, node,
    instance, message, value, threshold, start_time, source)
    VALUES ('gf-node1-cpu', 'cpu', 'warning', 'simcluster-node1', 'node1', 'node1', 'gf',
            'Node cpu at 91%', 91, 90, now() - interval '5 minutes', 'sqltest');
    INSERT INTO pulse.alert_history (alert_id, level, resource_id, start_time, alert)
    VALUES ('gf-node1-cpu', 'warning', 'simcluster-node1', now() - interval '5 minutes',
            '{"type": "cpu", "resourceName": "node1", "message": "Node cpu at 91%"}')});

# docs/SQL.md names the same views.
{
    my $md = path(PulseStack::srcdir() . '/docs/SQL.md')->slurp;
    my ($para) = $md =~ /^## The pulse_reader role.*?\n\n(.*?)The views run with/ms;
    my @doc = ($para // '') =~ /`(v_\w+|metrics\w*|active_alerts)`/g;
    is_deeply([sort @doc], [sort @views], 'docs/SQL.md lists the views pulse_reader reads');
}

# --- the role ----------------------------------------------------------------------------
is($stack->psql(q{SELECT rolcanlogin FROM pg_roles WHERE rolname = 'pulse_reader'}), 'f',
    'pulse_reader exists and cannot log in');
$stack->psql(q{DROP ROLE IF EXISTS grafana_test; CREATE ROLE grafana_test LOGIN IN ROLE pulse_reader});

# Runs SQL as grafana_test; returns (exit status, output with errors).
sub reader {
    my ($sql, @opt) = @_;
    return $stack->run_cmd('/usr/lib/postgresql/15/bin/psql', '-X', '-q', '-h', $stack->pg_sock,
        '-p', $stack->{pg_port}, '-U', 'grafana_test', '-d', 'pulse', '-v', 'ON_ERROR_STOP=1',
        @opt, '-c', $sql);
}

is((reader('SELECT current_user', '-tA'))[1] =~ s/\s+$//r, 'grafana_test', 'psql logs in as the reader');
# One statement for all of them (one psql); a view refused fails it, then each is tried.
my ($rc, $out) = reader(join(' UNION ALL ', map { "SELECT '$_', count(*) FROM pulse.$_" } @views), '-tA');
my %count = $rc == 0 ? map { split /\|/ } split /\n/, $out : ();
for my $v (@views) {
    ($rc, $out) = exists $count{$v} ? (0, $count{$v}) : reader("SELECT count(*) FROM pulse.$v", '-tA');
    is($rc, 0, "reader: SELECT on pulse.$v") or diag $out;
    ok($out > 0, "pulse.$v has rows ($out)") if grep { $_ eq $v } @filled;
}
($rc, $out) = reader(q{SELECT instance, node, mem_percent FROM pulse.v_nodes ORDER BY node}, '-tA');
like($out, qr/^gf\|node1\|[\d.]+\ngf\|node2\|[\d.]+$/, 'the nodes as the reader sees them');

# Every relation of the schema: the documented views are readable, everything else refused.
my $walk = <<'SQL';
DO $$
DECLARE r record; readable text[] := '{}'; denied text[] := '{}'; refused integer := 0;
    total integer := 0;
BEGIN
    FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'pulse' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
             ORDER BY c.relname LOOP
        total := total + 1;
        BEGIN
            EXECUTE format('SELECT 1 FROM pulse.%I LIMIT 1', r.relname);
            readable := readable || r.relname::text;
        EXCEPTION WHEN insufficient_privilege THEN
            refused := refused + 1;
            denied := denied || r.relname::text;
        END;
    END LOOP;
    RAISE NOTICE 'walk total=% refused=% readable=% denied=%', total, refused,
        array_to_string(readable, ','), array_to_string(denied, ',');
END $$;
SQL
($rc, $out) = reader($walk);
is($rc, 0, 'the walk ran as the reader') or diag $out;
my ($total, $refused, $readable, $denied) = $out =~ /walk total=(\d+) refused=(\d+) readable=(\S*) denied=(\S*)/;
my %denied = map { $_ => 1 } split /,/, $denied // '';
my $relations = $stack->psql(q{SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'pulse' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')});
is($total, $relations, "the reader walked every relation of the schema ($relations)");
is_deeply([split /,/, $readable // ''], [sort @views], 'readable: the documented views, nothing else');
is($refused, $relations - @views, "refused: the other $refused");
ok($refused > 80, "tables, partitions, sequences and undocumented views among them ($refused)");
# The secrets and the tables behind the views among them, by name.
for my $t (qw(users api_tokens sessions oidc_config oidc_states security_state audit_events
        audit_chain audit_webhooks recovery_tokens license notification_channels notification_queue
        notification_deliveries system_settings instances guests metric_raw metric_series alerts)) {
    ok($denied{$t}, "pulse.$t refused");
}
($rc, $out) = reader('SELECT * FROM pulse.api_tokens LIMIT 1');
like($out, qr/permission denied for table api_tokens/, 'as PostgreSQL says it');
for my $w (q{UPDATE pulse.active_alerts SET message = 'x'}, q{DELETE FROM pulse.v_alert_history},
        q{INSERT INTO pulse.v_metric_tiers (tier) VALUES ('x')},
        q{CREATE TABLE pulse.mine (x int)}, q{SELECT pulse.reader_grant()},
        q{SELECT * FROM pulse.metric_maintain()}) {
    ($rc, $out) = reader($w);
    like($out, qr/permission denied/, "refused: $w");
}
# A table created later stays closed until a migration names it.
$stack->psql('CREATE TABLE pulse.zz_later (x int); CREATE VIEW pulse.zz_later_v AS SELECT 1 AS x');
for my $t (qw(zz_later zz_later_v)) {
    ($rc, $out) = reader("SELECT * FROM pulse.$t");
    like($out, qr/permission denied/, "a relation created later ($t) is refused");
}
$stack->psql('DROP VIEW pulse.zz_later_v; DROP TABLE pulse.zz_later');
is($stack->psql(q{SELECT count(*) FROM pg_default_acl WHERE defaclacl::text LIKE '%pulse_reader%'}), 0,
    'no default privileges for pulse_reader');
is($stack->psql('SELECT pulse.reader_grant()'), 't', 'reader_grant() runs again (a DBA after creating the role)');

# A second database of the cluster, migrated by a role that may not create roles (the usual
# `createuser pulse`): the role exists already (roles are the cluster's), the migration
# grants on its own views, and the reader reads there too and nothing else.
$stack->psql('DROP DATABASE IF EXISTS second');
$stack->psql('DROP ROLE IF EXISTS plain_owner');
$stack->psql('CREATE ROLE plain_owner LOGIN NOCREATEROLE NOSUPERUSER');
$stack->psql('CREATE DATABASE second OWNER plain_owner');
($rc, $out) = $stack->migrate(PULSE_DATABASE_URL => 'host=' . $stack->pg_sock . " port=$stack->{pg_port} dbname=second user=plain_owner");
is($rc, 0, 'a role without CREATEROLE migrates a second database') or diag $out;
my @second = ('/usr/lib/postgresql/15/bin/psql', '-X', '-q', '-h', $stack->pg_sock, '-p',
    $stack->{pg_port}, '-U', 'grafana_test', '-d', 'second', '-tA', '-c');
($rc, $out) = $stack->run_cmd(@second, 'SELECT count(*) FROM pulse.v_nodes');
is("$rc $out", "0 0\n", 'there too: the reader reads the views');
($rc, $out) = $stack->run_cmd(@second, 'SELECT count(*) FROM pulse.users');
like($out, qr/permission denied for table users/, 'there too: the tables are refused');

# --- the Grafana dashboard ---------------------------------------------------------------
my $dash = decode_json(path(PulseStack::srcdir() . '/share/pulse/grafana/pulse.json')->slurp);
is($dash->{__inputs}[0]{pluginId}, 'grafana-postgresql-datasource', 'a PostgreSQL data source input');

# Grafana's macros as its PostgreSQL data source expands them (docs/SQL.md): the range is
# now - $secs .. now, $__interval is the range over 300 points in whole seconds.
sub expand {
    my ($sql, $secs, $vars) = @_;
    my $to = time;
    my $from = $to - $secs;
    my $ts = sub { "'" . strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $_[0]) . "'" };
    my $iv = int($secs / 300) || 1;
    $sql =~ s/\$__interval_ms\b/$iv * 1000/ge;
    $sql =~ s/\$__interval\b/${iv}s/g;
    $sql =~ s/\$\{(\w+)\}/\$$1/g;
    for my $v (sort { length $b <=> length $a } keys %$vars) {
        my $list = join ',', map { "'" . s/'/''/gr . "'" } @{ $vars->{$v} };
        $sql =~ s/\$\Q$v\E\b/$list/g;
    }
    my %unit = (s => 1, m => 60, h => 3600, d => 86400);
    my $group = sub {
        my ($col, $int) = @_;
        my ($n, $u) = $int =~ /^'?(\d+)([smhd])'?$/ or die "interval $int";
        my $s = $n * $unit{$u};
        return "floor(extract(epoch from $col)/$s)*$s";
    };
    $sql =~ s{\$(__\w+)\(([^)]*)\)}{
        my ($m, @a) = ($1, map { s/^\s+|\s+$//gr } split /,/, $2);
        $m eq '__timeFilter' ? "$a[0] BETWEEN " . $ts->($from) . ' AND ' . $ts->($to)
        : $m eq '__timeFrom' ? $ts->($from)
        : $m eq '__timeTo' ? $ts->($to)
        : $m eq '__time' ? qq{$a[0] AS "time"}
        : $m eq '__timeEpoch' ? qq{extract(epoch from $a[0]) as "time"}
        : $m eq '__timeGroup' ? $group->(@a)
        : $m eq '__timeGroupAlias' ? $group->(@a) . ' AS "time"'
        : $m eq '__unixEpochFilter' ? "$a[0] >= $from AND $a[0] <= $to"
        : die "unknown macro \$$m"
    }ge;
    return $sql;
}

# The variables in order, each from its query (All selected: every value).
my %vars;
for my $v (@{ $dash->{templating}{list} }) {
    my $q = expand($v->{query}, 3600, \%vars);
    ($rc, $out) = reader($q, '-tA');
    is($rc, 0, "variable $v->{name}: its query runs") or diag "$q\n$out";
    $vars{ $v->{name} } = [split /\n/, $out];
    ok(@{ $vars{ $v->{name} } }, "variable $v->{name}: values (@{ $vars{ $v->{name} } })");
}
is_deeply($vars{instance}, ['gf'], 'the instance variable lists the polled instance');

my @panels = map { $_->{type} eq 'row' ? @{ $_->{panels} // [] } : $_ } @{ $dash->{panels} };
my @queries = map { my $p = $_; map { [$p, $_] } @{ $p->{targets} // [] } } @panels;
ok(@queries >= 12, scalar(@queries) . ' panel queries');
# The dashboard's range, an hour (raw tier) and 30 days (day tier), every query in one psql
# session (a marker line before each answer); if that fails, each alone to show which.
my @runs = map { my $pq = $_; map { [@$pq, $_, expand($pq->[1]{rawSql}, $_, \%vars)] }
    86400, 3600, 30 * 86400 } @queries;
my $script = "$tmp/panels.sql";
path($script)->spurt(join '', map { "\\echo @@@ $_\n$runs[$_][3];\n" } 0 .. $#runs);
($rc, $out) = $stack->run_cmd('/usr/lib/postgresql/15/bin/psql', '-X', '-q', '-h', $stack->pg_sock,
    '-p', $stack->{pg_port}, '-U', 'grafana_test', '-d', 'pulse', '-v', 'ON_ERROR_STOP=1',
    '--csv', '-f', $script);
my %answer = $rc == 0 ? (split /^@@@ (\d+)\n/m, $out)[1 .. 2 * @runs] : ();
my %kinds;
for my $i (0 .. $#runs) {
    my ($p, $t, $secs, $sql) = @{ $runs[$i] };
    if ($secs == 86400) {
        $kinds{ $p->{type} }++;
        ok($t->{rawSql} && $t->{rawQuery}, "$p->{title}: raw SQL");
        unlike($t->{rawSql}, qr/\bpulse\.(?!v_|metrics\b|metrics_|active_alerts\b|metric_tier_for\()/,
            "$p->{title}: reads views only");
    }
    ($rc, $out) = exists $answer{$i} ? (0, $answer{$i}) : reader($sql, '--csv');
    is($rc, 0, "$p->{title} ($secs s): runs as the reader") or diag "$sql\n$out";
    my ($head, @rows) = split /\n/, $out;
    if ($t->{format} eq 'time_series') {
        like($head, qr/^time,/, "$p->{title} ($secs s): a time column first");
        # The simulator's backups are a few hours old: an hour's range may hold none.
        ok(@rows > 0, "$p->{title} ($secs s): rows (" . scalar(@rows) . ')') or diag $sql
            if $secs != 3600 || $t->{rawSql} =~ /\bpulse\.metrics\b/;
        my @bad = grep { !/^\d+(\.\d+)?,.*,-?[\d.e+-]+$/ } @rows;
        ok(!@bad, "$p->{title} ($secs s): epoch times and numeric values") or diag explain \@bad;
    } else {
        ok(@rows > 0, "$p->{title}: rows (" . scalar(@rows) . ')') if $secs == 86400;
    }
}
ok(keys %answer == @runs, 'every query answered in the one session');
ok($kinds{timeseries} && $kinds{table}, 'time series and tables');
is_deeply([sort grep { $_ } map { $_->{title} } grep { $_->{type} eq 'row' } @{ $dash->{panels} }],
    [sort qw(Nodes Guests Storage Backups Alerts)], 'rows for nodes, guests, storage, backups, alerts');

# A cluster without the role and a migrating role that may not create it: the migration
# says so and grants nothing; a DBA creates the role and runs pulse.reader_grant().
$stack->psql('DROP DATABASE second');
$stack->psql('DROP OWNED BY pulse_reader');	# its grants in this database
$stack->psql('DROP ROLE pulse_reader');
$stack->psql('CREATE DATABASE third OWNER plain_owner');
my $third = 'host=' . $stack->pg_sock . " port=$stack->{pg_port} dbname=third";
($rc, $out) = $stack->migrate(PULSE_DATABASE_URL => "$third user=plain_owner");
is($rc, 0, 'without the role, a role without CREATEROLE still migrates') or diag $out;
like($out, qr/role pulse_reader is missing and plain_owner may not create it/, 'the migration says what to do');
is($stack->psql_at("$third user=plain_owner", 'SELECT pulse.reader_grant()'), 'f', 'reader_grant(): false without the role');
$stack->psql('CREATE ROLE pulse_reader NOLOGIN; GRANT pulse_reader TO grafana_test');
is($stack->psql_at("$third user=pulse", 'SELECT pulse.reader_grant()'), 't', 'a DBA creates the role and grants');
my @third = ('/usr/lib/postgresql/15/bin/psql', '-X', '-q', '-h', $stack->pg_sock, '-p',
    $stack->{pg_port}, '-U', 'grafana_test', '-d', 'third', '-tA', '-c');
($rc, $out) = $stack->run_cmd(@third, 'SELECT count(*) FROM pulse.metrics_hour');
is("$rc $out", "0 0\n", 'then the reader reads the views');
($rc, $out) = $stack->run_cmd(@third, 'SELECT count(*) FROM pulse.sessions');
like($out, qr/permission denied for table sessions/, 'and is refused the tables');

$stack->psql('DROP DATABASE third');
$stack->psql('DROP ROLE plain_owner');
$stack->psql('DROP ROLE grafana_test');
done_testing;
