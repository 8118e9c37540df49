#!/usr/bin/perl
# 27-pbs-pmg-poll.t: Proxmox Backup Server and Mail Gateway polled through the whole stack
# against the simulators (synthetic data): pbs[], datastores in storage[], pbsBackups with
# the group cache, PMG nodes/queues/mail statistics/backups, lastBackup of PVE guests from
# PBS, failures shown offline after the grace period, password login, deletion.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Mojo::UserAgent;
use Test::More;
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { pve_polling_interval => 1, pbs_polling_interval => 1,
    pmg_polling_interval => 1, backup_polling_cycles => 2, node_offline_grace => 3 })->start;
$stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;

my $pbs = $stack->start_pbs_sim(name => 'pbs1', token => 'pulse@pbs!mon:s3cret-pbs-token', datastores => 2,
    groups => 5, namespaces => 1);
my $pmg = $stack->start_pmg_sim(name => 'pmg1', token => 'pulse@pmg!mon:s3cret-pbs-token', nodes => 2);

# What the simulators answer, read directly.
my $direct = Mojo::UserAgent->new(insecure => 1);
sub sim_get {
    my ($sim, $scheme, $token, $path) = @_;
    my $res = $direct->get("$sim->{url}/api2/json$path" => { Authorization => "$scheme=$token" })->result;
    die "sim $path: " . $res->code unless $res->is_success;
    return $res->json->{data};
}
sub pbs_get { sim_get($pbs, 'PBSAPIToken', 'pulse@pbs!mon:s3cret-pbs-token', @_) }
sub pmg_get { sim_get($pmg, 'PMGAPIToken', 'pulse@pmg!mon:s3cret-pbs-token', @_) }
sub add_node {
    my ($body) = @_;
    my $res = $ua->post($stack->url('/api/config/nodes') => $auth => json => $body)->result;
    is($res->code, 201, "add $body->{type} $body->{name}") or diag $res->body;
    return (grep { $_->{name} eq $body->{name} }
        @{ $ua->get($stack->url('/api/config/nodes') => $auth)->result->json })[0]{id};
}

my $pbs_id = add_node({ type => 'pbs', name => 'backup1', host => $pbs->{url}, tokenName => 'pulse@pbs!mon',
    tokenValue => 's3cret-pbs-token', fingerprint => $pbs->{fingerprint}, monitorDatastores => true });
my $pmg_id = add_node({ type => 'pmg', name => 'mail1', host => $pmg->{url}, tokenName => 'pulse@pmg!mon',
    tokenValue => 's3cret-pbs-token', fingerprint => $pmg->{fingerprint} });

# The datastores' entries in the unified storage view come with the same poll but are written
# apart from the instance: wait for those too (under load a state between the two was read).
my $st = $stack->wait_state(sub { @{ $_[0]{pbs} } && @{ $_[0]{pbsBackups} } && @{ $_[0]{pmg} }
    && @{ $_[0]{pmgBackups} } && @{ $_[0]{pbs}[0]{datastores} // [] } == 2
    && (grep { ($_->{type} // '') eq 'pbs' } @{ $_[0]{storage} // [] }) == 2 }, 30, 'PBS and PMG polled');

# --- PBS instance (§1.10) ---
my ($p) = @{ $st->{pbs} };
is_deeply([sort keys %$p], [sort qw(id name host status version cpu memory memoryUsed memoryTotal uptime
    datastores backupJobs syncJobs verifyJobs pruneJobs garbageJobs connectionHealth lastSeen)], 'pbs keys');
is($p->{id}, 'pbs-backup1', 'id pbs-{name}');
is($p->{status}, 'online', 'online');
is($p->{connectionHealth}, 'healthy', 'healthy');
is($p->{version}, pbs_get('/version')->{version}, 'version from /version');
my $ns = pbs_get('/nodes/localhost/status');
is($p->{memoryTotal}, $ns->{memory}{total}, 'memoryTotal');
is($p->{memoryUsed}, $ns->{memory}{used}, 'memoryUsed');
cmp_ok(abs($p->{memory} - $ns->{memory}{used} * 100 / $ns->{memory}{total}), '<', 1e-6, 'memory percent');
# The simulator's fraction is 0.02-0.119: in percent 2-11.9.
ok($p->{cpu} >= 2 && $p->{cpu} < 12, 'cpu in percent (PBS reports a fraction)') or diag "cpu $p->{cpu}";
ok($p->{uptime} >= 3 * 86400, 'uptime');
is($p->{$_}, undef, "$_ null (jobs are not polled)") for qw(backupJobs syncJobs verifyJobs pruneJobs garbageJobs);
like($p->{lastSeen}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'lastSeen RFC 3339');

my @ds = @{ $p->{datastores} };
is_deeply([map { $_->{name} } @ds], [map { $_->{store} } @{ pbs_get('/admin/datastore') }], 'datastores in order');
for my $d (@ds) {
    my $s = pbs_get("/admin/datastore/$d->{name}/status");
    is($d->{total}, $s->{total}, "$d->{name} total");
    is($d->{used}, $s->{used}, "$d->{name} used");
    is($d->{free}, $s->{avail}, "$d->{name} free");
    cmp_ok(abs($d->{usage} - $s->{used} * 100 / $s->{total}), '<', 1e-6, "$d->{name} usage");
    is($d->{status}, 'available', "$d->{name} status");
    my $rrd = pbs_get("/admin/datastore/$d->{name}/rrd?cf=AVERAGE&timeframe=hour");
    cmp_ok(abs($d->{deduplicationFactor} - $rrd->[-1]{dedup_factor}), '<', 1e-9, "$d->{name} dedup from the RRD");
    is_deeply([map { $_->{path} } @{ $d->{namespaces} }], ['', 'prod', 'prod/db', 'dev'], "$d->{name} namespaces, root first");
    is_deeply([map { $_->{depth} } @{ $d->{namespaces} }], [0, 0, 1, 0], "$d->{name} namespace depths");
}

# Datastores in the unified storage view (§3 step 4).
my @pbs_storage = grep { $_->{type} eq 'pbs' } @{ $st->{storage} };
is(scalar @pbs_storage, 2, 'two pbs storage entries');
my ($s1) = grep { $_->{name} eq 'store1' } @pbs_storage;
is($s1->{id}, 'pbs-backup1-store1', 'storage id pbs-{name}-{store}');
is($s1->{node}, 'backup1', 'node: the PBS name');
is($s1->{instance}, 'pbs-backup1', 'instance: pbs-{name}');
is($s1->{content}, 'backup', 'content');
ok($s1->{shared} && $s1->{enabled} && $s1->{active}, 'shared, enabled, active');
is($s1->{total}, $ds[0]{total}, 'storage total = datastore total');
ok($st->{connectionHealth}{'pbs-backup1'}, 'connectionHealth pbs-backup1');

# --- PBS backups (§1.12) ---
my @expected;
for my $d (map { $_->{store} } @{ pbs_get('/admin/datastore') }) {
    for my $n (map { $_->{ns} } @{ pbs_get("/admin/datastore/$d/namespace") }) {
        my $q = $n eq '' ? '' : "?ns=$n";
        for my $s (@{ pbs_get("/admin/datastore/$d/snapshots$q") }) {
            push @expected, { %$s, store => $d, ns => $n };
        }
    }
}
my $pb = $st->{pbsBackups};
is(scalar @$pb, scalar @expected, 'every snapshot of every namespace is a backup');
my @times = map { $_->{backupTime} } @$pb;
is_deeply(\@times, [sort { $b cmp $a } @times], 'newest first');
my ($e) = grep { $_->{'backup-type'} eq 'vm' && $_->{ns} eq 'prod' } @expected;
my $id = "pbs-backup1-$e->{store}-prod-vm-$e->{'backup-id'}-$e->{'backup-time'}";
my ($bk) = grep { $_->{id} eq $id } @$pb;
ok($bk, "backup id $id") or diag explain [map { $_->{id} } @$pb[0 .. 3]];
is($bk->{instance}, 'backup1', 'backup instance');
is($bk->{datastore}, $e->{store}, 'datastore');
is($bk->{namespace}, 'prod', 'namespace');
is($bk->{backupType}, 'vm', 'backupType');
is($bk->{vmid}, "$e->{'backup-id'}", 'vmid is the backup id (a string)');
is($bk->{size}, $e->{size}, 'size');
is($bk->{protected}, $e->{protected} ? true : false, 'protected');
is($bk->{verified}, (($e->{verification} // {})->{state} // '') eq 'ok' ? true : false, 'verified');
is_deeply($bk->{files}, [map { $_->{filename} } @{ $e->{files} }], 'file names');
is($bk->{owner}, $e->{owner}, 'owner');
is_deeply($st->{backups}{pbs}, $pb, 'backups.pbs is pbsBackups');
my $host = grep { $_->{backupType} eq 'host' } @$pb;
ok($host, 'host backups too');

# Unchanged groups are not read again (the group cache).
sub snapshot_calls {
    my $s = $direct->get("$pbs->{url}/__sim/stats")->result->json;
    my $n = 0;
    $n += $s->{by_path}{$_} for grep { m{/snapshots$} } keys %{ $s->{by_path} };
    return $n;
}
my $calls = snapshot_calls();
my $groups_calls = sub { my $s = $direct->get("$pbs->{url}/__sim/stats")->result->json;
    my $n = 0; $n += $s->{by_path}{$_} for grep { m{/groups$} } keys %{ $s->{by_path} }; $n };
my $g0 = $groups_calls->();
$stack->wait_for(sub { $groups_calls->() >= $g0 + 8 }, 20, 'another backup cycle');
is(snapshot_calls(), $calls, 'no snapshot listing for unchanged groups');

# /api/backups/pbs: PBS instances (§9, §12.3).
my $inst = $ua->get($stack->url('/api/backups/pbs') => $auth)->result->json;
is_deeply([map { $_->{id} } @{ $inst->{instances} }], ['pbs-backup1'], '/api/backups/pbs lists instances');
my $all = $ua->get($stack->url('/api/backups') => $auth)->result->json;
ok(@{ $all->{pbsBackups} } == @$pb && @{ $all->{backups}{pbs} } == @$pb, '/api/backups has the PBS backups');

# --- PMG (§1.11) ---
my ($m) = @{ $st->{pmg} };
is($m->{id}, 'pmg-mail1', 'pmg id');
is($m->{status}, 'online', 'pmg online');
is($m->{connectionHealth}, 'healthy', 'pmg healthy');
is($m->{version}, pmg_get('/version')->{version}, 'pmg version');
is_deeply([map { [$_->{name}, $_->{status}, $_->{role}] } @{ $m->{nodes} }],
    [['pmg1', 'master', 'master'], ['pmg2', 'node', 'node']], 'nodes: status is the lower-case cluster role');
my $q = pmg_get('/nodes/pmg2/postfix/queue');
my $qs = $m->{nodes}[1]{queueStatus};
is($qs->{deferred}, $q->{deferred}, 'queue deferred (sent as a string)');
is($qs->{total}, $q->{active} + $q->{deferred} + $q->{hold} + $q->{incoming}, 'queue total');
is($qs->{oldestAge}, $q->{oldest_age}, 'oldest age');
my $mail = pmg_get('/statistics/mail');
my $ms = $m->{mailStats};
is($ms->{timeframe}, 'day', 'mail timeframe');
is($ms->{countIn}, $mail->{count_in}, 'countIn');
is($ms->{spamIn}, $mail->{spamcount_in}, 'spamIn');
is($ms->{bytesIn}, $mail->{bytes_in}, 'bytesIn');
cmp_ok(abs($ms->{averageProcessTimeMs} - $mail->{avptime} * 1000), '<', 1e-6, 'average process time in ms');
is($ms->{greylistCount}, $mail->{glcount}, 'greylist');
my $points = pmg_get('/statistics/mailcount?timespan=86400');
is(scalar @{ $m->{mailCount} }, scalar @$points, '24 hourly points');
is($m->{mailCount}[0]{timeframe}, 'hour', 'point timeframe');
is($m->{mailCount}[0]{windowEnd}, '0001-01-01T00:00:00Z', 'windowEnd: the zero time, as the original');
is($m->{mailCount}[5]{countIn}, $points->[5]{count_in}, 'point counters');
is_deeply([map { $_->{score} } @{ $m->{spamDistribution} }], [map { $_->{level} } @{ pmg_get('/statistics/spamscores') }],
    'spam distribution');
is($m->{quarantine}{spam}, pmg_get('/quarantine/spamstatus')->{count}, 'quarantine spam');
is($m->{quarantine}{virus}, pmg_get('/quarantine/virusstatus')->{count}, 'quarantine virus');
my @pmgb = @{ $st->{pmgBackups} };
is(scalar @pmgb, 6, 'three backups per node');
my $nb = pmg_get('/nodes/pmg1/backup')->[-1];
my ($mb) = grep { $_->{id} eq "pmg-mail1-pmg1-$nb->{timestamp}" } @pmgb;
ok($mb, 'pmg backup id pmg-{instance}-{node}-{time}');
is($mb->{filename}, $nb->{filename}, 'filename');
is($mb->{size}, $nb->{size}, 'size');
is_deeply($st->{backups}{pmg}, \@pmgb, 'backups.pmg is pmgBackups');
ok($st->{connectionHealth}{'pmg-mail1'}, 'connectionHealth pmg-mail1');

# SQL views.
is($stack->psql(q{SELECT count(*) FROM pulse.v_pbs_datastores WHERE instance = 'backup1'}), 2, 'v_pbs_datastores');
is($stack->psql(q{SELECT count(*) FROM pulse.v_pbs_backups WHERE instance = 'backup1'}), scalar @expected, 'v_pbs_backups');
is($stack->psql(q{SELECT sum(queue_total) FROM pulse.v_pmg_queues WHERE instance = 'mail1'}),
    $m->{nodes}[0]{queueStatus}{total} + $qs->{total}, 'v_pmg_queues');

# --- PVE guests' lastBackup includes PBS backups by VMID ---
my $pve = $stack->start_sim(nodes => 1, guests => 6, token => 'root@pam!t=x');
add_node({ type => 'pve', name => 'pve1', host => $pve->{url}, tokenName => 'root@pam!t', tokenValue => 'x',
    fingerprint => $pve->{fingerprint} });
$st = $stack->wait_state(sub { my ($g) = grep { $_->{vmid} == 101 } @{ $_[0]{containers} }, @{ $_[0]{vms} };
    $g && $g->{lastBackup} }, 30, 'lastBackup from PBS');
my ($g101) = grep { $_->{vmid} == 101 } @{ $st->{containers} }, @{ $st->{vms} };
my ($newest) = sort { $b <=> $a } map { $_->{'backup-time'} } grep { $_->{'backup-id'} eq '101' } @expected;
is($g101->{lastBackup}, $newest * 1000, 'guest 101: newest PBS backup of VMID 101 (any instance), in ms');

# --- failures: offline after the grace period, back when answering ---
$stack->sim_mode($pbs, mode => 'error');
$stack->sim_mode($pmg, mode => 'error');
$st = $stack->wait_state(sub { ($_[0]{pbs}[0]{status} // '') eq 'offline' && ($_[0]{pmg}[0]{status} // '') eq 'offline' },
    30, 'PBS and PMG offline');
is($st->{pbs}[0]{connectionHealth}, 'error', 'pbs connectionHealth error');
is($st->{pbs}[0]{version}, 'unknown', 'pbs version unknown');
is(scalar @{ $st->{pbs}[0]{datastores} }, 2, 'datastores as last seen');
ok(!$st->{connectionHealth}{'pbs-backup1'}, 'pbs-backup1 unhealthy');
ok(!(grep { $_->{type} eq 'pbs' && $_->{active} } @{ $st->{storage} }), 'pbs storage inactive');
is(scalar @{ $st->{pbsBackups} }, scalar @expected, 'pbs backups kept');
is($st->{pmg}[0]{connectionHealth}, 'unhealthy', 'pmg unhealthy');
is(scalar @{ $st->{pmgBackups} }, 6, 'pmg backups kept');
my $health = $ua->get($stack->url('/api/monitoring/scheduler/health') => $auth)->result->json;
my ($ph) = grep { $_->{instance} eq 'backup1' } @{ $health->{instances} };
ok($ph && $ph->{pollStatus}{consecutiveFailures} > 0, 'scheduler health counts PBS failures');
$stack->sim_mode($pbs, mode => 'normal');
$stack->sim_mode($pmg, mode => 'normal');
$st = $stack->wait_state(sub { ($_[0]{pbs}[0]{status} // '') eq 'online' && ($_[0]{pmg}[0]{status} // '') eq 'online' },
    30, 'back online');
ok($st->{connectionHealth}{'pbs-backup1'} && $st->{connectionHealth}{'pmg-mail1'}, 'healthy again');

# A datastore failure with /version answering: the instance stays online, datastores kept.
$stack->sim_mode($pbs, mode => 'offline-node');
sleep 3;
$st = $stack->wait_state(sub { 1 }, 5, 'state');
is($st->{pbs}[0]{status}, 'online', 'PBS with failing datastores is still online');
is(scalar @{ $st->{pbs}[0]{datastores} }, 2, 'datastores as last seen');
$stack->sim_mode($pbs, mode => 'normal');

# --- password login, and monitorDatastores off ---
my $pbs2 = $stack->start_pbs_sim(name => 'pbs2', password => 'monitor@pbs:pw', datastores => 1, groups => 2);
my $pbs2_id = add_node({ type => 'pbs', name => 'backup2', host => $pbs2->{url}, user => 'monitor@pbs',
    password => 'pw', fingerprint => $pbs2->{fingerprint} });
$st = $stack->wait_state(sub { grep { $_->{name} eq 'backup2' && $_->{status} eq 'online' } @{ $_[0]{pbs} } },
    30, 'password login');
my ($p2) = grep { $_->{name} eq 'backup2' } @{ $st->{pbs} };
is($p2->{datastores}, undef, 'monitorDatastores off: datastores null');
ok(!(grep { $_->{instance} eq 'backup2' } @{ $st->{pbsBackups} }), 'and no backups');
ok(!(grep { $_->{id} =~ /^pbs-backup2-/ } @{ $st->{storage} }), 'and no storage entries');
is_deeply([map { $_->{name} } @{ $st->{pbs} }], ['backup1', 'backup2'], 'pbs sorted by name');

# --- deleting takes everything of the instance out ---
is($ua->delete($stack->url("/api/config/nodes/$pbs_id") => $auth)->result->code, 200, 'delete PBS');
is($ua->delete($stack->url("/api/config/nodes/$pmg_id") => $auth)->result->code, 200, 'delete PMG');
sleep 2;
$st = $stack->wait_state(sub { !grep { $_->{name} eq 'backup1' } @{ $_[0]{pbs} } }, 10, 'deleted');
ok(!@{ $st->{pmg} }, 'no pmg');
ok(!(grep { $_->{instance} eq 'backup1' } @{ $st->{pbsBackups} }), 'its backups are gone');
ok(!@{ $st->{pmgBackups} }, 'pmg backups gone');
ok(!(grep { $_->{id} =~ /^pbs-backup1-/ } @{ $st->{storage} }), 'its storage is gone');
ok(!exists $st->{connectionHealth}{'pbs-backup1'}, 'its connection health is gone');
is($stack->psql(q{SELECT count(*) FROM pulse.pbs_backups b WHERE NOT EXISTS
    (SELECT 1 FROM pulse.instances i WHERE i.id = b.instance_id)}), 0, 'no orphan rows');

no_secret_in_logs($stack, 's3cret-pbs-token');
done_testing;
