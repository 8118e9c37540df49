#!/usr/bin/perl
# 31-metrics.t: metrics history end to end. A simulated cluster is polled and its samples
# land in pulse.metric_raw as polled; 49 hours of synthetic samples are rolled up by the
# worker and every tier matches a brute-force aggregate of the raw samples; rolling up again
# and with two workers changes nothing; a late sample lands in its bucket; the charts,
# storage-charts, metrics-store history and stats endpoints answer from PostgreSQL, and
# bad ranges, types, metrics and ids get 4xx.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Mojo::JSON qw(true false);
use Test::More;
use Time::HiRes qw(sleep time);
use PulseStack;
use PulseTest;

my $stack = PulseStack->new(settings => { pve_polling_interval => 2, metrics_flush_interval => 1 })->start;
my $admin = $stack->setup_admin;
my $ua = $stack->ua;
my $auth = $stack->token_headers;
my $get = sub { $ua->get($stack->url($_[0]) => $auth)->result };

# --- a simulated estate, polled ---------------------------------------------------------
my $sim = $stack->start_sim(name => 'gen', nodes => 3, guests => 12, token => 'root@pam!pulse=secret',
    cluster => 'lab');
my $res = $ua->post($stack->url('/api/config/nodes') => $auth => json => {
    type => 'pve', name => 'lab', host => $sim->{url}, tokenName => 'root@pam!pulse',
    tokenValue => 'secret', fingerprint => $sim->{fingerprint} })->result;
is($res->code, 201, 'simulated cluster added');
my $st = $stack->wait_state(sub { @{ $_[0]{nodes} } == 3 && @{ $_[0]{vms} } }, 30, 'the cluster in /api/state');
$stack->wait_for(sub { $stack->psql(q{SELECT count(DISTINCT ts) FROM pulse.metric_raw}) >= 3 }, 30,
    'three polls written', 'worker-1');

my ($node) = grep { $_->{status} eq 'online' } @{ $st->{nodes} };
my ($vm) = grep { $_->{status} eq 'running' } @{ $st->{vms} };
my ($ct) = grep { $_->{status} eq 'running' } @{ $st->{containers} };
my ($storage) = grep { $_->{total} > 0 } @{ $st->{storage} };
my $series = $stack->psql(qq{SELECT string_agg(resource_type || ' ' || metric, ',' ORDER BY metric)
    FROM pulse.metric_series WHERE resource_id = '$vm->{id}'});
is($series, join(',', map { "vm $_" } sort qw(cpu memory disk diskread diskwrite netin netout)),
    'a running VM: seven series') if $vm->{disk}{total} > 0;
like($stack->psql(qq{SELECT string_agg(metric, ',' ORDER BY metric) FROM pulse.metric_series
    WHERE resource_id = '$node->{id}' AND resource_type = 'node'}), qr/^cpu,(disk,)?memory$/, 'a node: cpu, memory, disk');
is($stack->psql(qq{SELECT string_agg(metric, ',' ORDER BY metric) FROM pulse.metric_series
    WHERE resource_id = '$storage->{id}'}), 'avail,total,usage,used', 'a storage: usage, used, total, avail');
is($stack->psql(qq{SELECT resource_name FROM pulse.metric_series WHERE resource_id = '$vm->{id}' LIMIT 1}),
    $vm->{name}, 'series carry the resource name');
my @stopped = grep { $_->{status} ne 'running' } @{ $st->{vms} }, @{ $st->{containers} };
is($stack->psql(q{SELECT count(*) FROM pulse.metric_series WHERE resource_id IN (} .
    join(',', map { "'$_->{id}'" } @stopped, { id => 'none' }) . ')'), 0, 'stopped guests have no samples');

# The last sample is what /api/state shows for the same poll.
$stack->wait_for(sub {
    my $now = $stack->ua->get($stack->url('/api/state') => $auth)->result->json;
    my ($n) = grep { $_->{id} eq $node->{id} } @{ $now->{nodes} };
    my $last = $stack->psql(qq{SELECT value FROM pulse.metrics_raw WHERE resource_id = '$node->{id}'
        AND resource_type = 'node' AND metric = 'memory' ORDER BY time DESC LIMIT 1});
    return abs($last - $n->{memory}{usage}) < 1e-9;
}, 20, 'the last memory sample equals the state');
pass('the last node memory sample equals /api/state');

# History of the polled node, raw tier.
$res = $get->("/api/metrics-store/history?resourceType=node&resourceId=$node->{id}&metric=cpu&range=1h");
is($res->code, 200, 'history: 200');
my $h = $res->json;
is($h->{$_}, { resourceType => 'node', resourceId => $node->{id}, metric => 'cpu', range => '1h' }->{$_}, "history: $_")
    for qw(resourceType resourceId metric range);
is($h->{tier}, 'raw', 'history 1h: raw tier');
ok(@{ $h->{points} } >= 3, scalar(@{ $h->{points} }) . ' points');
like($h->{points}[0]{timestamp}, qr/^\d{13}$/, 'point timestamps in ms');
ok($h->{end} - $h->{start} == 3600_000, 'start and end an hour apart, in ms');
my @raw = split /\n/, $stack->psql(qq{SELECT floor(extract(epoch FROM time)) * 1000 || ' ' || value FROM pulse.metrics_raw
    WHERE resource_id = '$node->{id}' AND resource_type = 'node' AND metric = 'cpu' ORDER BY time});
my @hp = map { "$_->{timestamp} $_->{value}" } @{ $h->{points} };
is_deeply([@hp[0 .. 2]], [@raw[0 .. 2]], 'history points are the raw samples');
ok(!grep({ $_->{min} != $_->{value} || $_->{max} != $_->{value} } @{ $h->{points} }), 'raw points: min = max = value');
$res = $get->("/api/metrics-store/history?resourceType=guest&resourceId=$vm->{id}");
is($res->code, 200, 'history by the docs\' type name guest');
is_deeply([sort keys %{ $res->json->{metrics} }], [sort qw(cpu memory disk diskread diskwrite netin netout)],
    'all metrics of the VM') if $vm->{disk}{total} > 0;
is($res->json->{tier}, 'minute', 'default range 24h: minute tier (from raw until rolled up)');
$res = $get->("/api/metrics-store/history?resourceType=node&resourceId=$node->{id}&range=1h&maxPoints=2");
ok(@{ $res->json->{metrics}{cpu} } <= 2, 'maxPoints caps the points');
$res = $get->("/api/metrics-store/history?resourceType=storage&resourceId=$storage->{id}&metric=used&range=90m");
is($res->code, 200, 'a Go duration range');
is($res->json->{points}[-1]{value}, $storage->{used}, 'storage used bytes');

# --- errors -------------------------------------------------------------------------------
json_error_ok($get->('/api/metrics-store/history?resourceType=node'), 400, 'missing_parameters', 'history without id');
json_error_ok($get->("/api/metrics-store/history?resourceType=bogus&resourceId=$node->{id}"), 400,
    'invalid_resource_type', 'history of an unknown type');
json_error_ok($get->("/api/metrics-store/history?resourceType=node&resourceId=$node->{id}&metric=temp"), 400,
    'invalid_metric', 'history of an unknown metric');
json_error_ok($get->("/api/metrics-store/history?resourceType=node&resourceId=$node->{id}&range=$_"), 400,
    'invalid_range', "history range '$_'") for qw(3y 0s -1h 1hx);
json_error_ok($get->("/api/metrics-store/history?resourceType=node&resourceId=$node->{id}&maxPoints=$_"), 400,
    'invalid_max_points', "maxPoints $_") for qw(1 x 100001);
json_error_ok($get->('/api/metrics-store/history?resourceType=node&resourceId=no-such-node'), 404,
    'resource_not_found', 'history of an unknown id');
json_error_ok($get->('/api/metrics-store/history?resourceType=node&resourceId=%FFnode'), 400,
    'invalid_encoding', 'history of an id that is not UTF-8 (PostgreSQL would refuse it)');
json_error_ok($get->("/api/charts?range=$_"), 400, 'invalid_range', "charts range '$_'") for qw(2h 1d x);
json_error_ok($get->("/api/storage-charts?range=$_"), 400, 'invalid_range', "storage-charts range '$_'")
    for qw(x 0 -5 999999999);
is($ua->get($stack->url('/api/charts'))->result->code, 401, 'charts without credentials: 401');
is($ua->get($stack->url('/api/metrics-store/stats'))->result->code, 401, 'stats without credentials: 401');

# --- charts -------------------------------------------------------------------------------
$res = $get->('/api/charts?range=1h');
is($res->code, 200, 'charts: 200');
my $c = $res->json;
is_deeply([sort keys %$c], [sort qw(data nodeData storageData dockerData dockerHostData guestTypes timestamp stats)],
    'charts: the keys of §2.2');
is(scalar keys %{ $c->{data} }, @{ $st->{vms} } + @{ $st->{containers} }, 'every guest in data');
is($c->{guestTypes}{$vm->{id}}, 'vm', 'guestTypes: vm');
is($c->{guestTypes}{$ct->{id}}, 'container', 'guestTypes: container') if $ct;
is_deeply([sort keys %{ $c->{data}{$vm->{id}} }], [sort qw(cpu memory disk diskread diskwrite netin netout)],
    'a guest: seven metrics');
ok(@{ $c->{data}{$vm->{id}}{cpu} } >= 3, 'a running guest: its cpu history');
is_deeply([map { $_->{value} } @{ $c->{nodeData}{$node->{id}}{cpu} }[0 .. 2]], [map { (split / /)[1] } @raw[0 .. 2]],
    'node cpu points are the samples');
my ($stopped) = grep { $_->{type} eq 'qemu' } @stopped;
if ($stopped) {
    my $sd = $c->{data}{$stopped->{id}};
    is(scalar @{ $sd->{cpu} }, 1, 'a stopped guest: one point of current values');
    is($sd->{cpu}[0]{timestamp}, $c->{timestamp}, 'at the answer\'s timestamp');
}
is_deeply([keys %{ $c->{storageData}{$storage->{id}} }], ['disk'], 'storage: disk only');
ok($c->{stats}{oldestDataTimestamp} <= $c->{timestamp} && $c->{stats}{oldestDataTimestamp} >= $c->{timestamp} - 3600_000,
    'oldestDataTimestamp within the hour');
is($ua->head($stack->url('/api/charts') => $auth)->result->code, 200, 'HEAD /api/charts');

# Our additions: points (each series averaged into that many buckets of the range) and
# metrics (only those sent): what the UI's sparklines ask for.
json_error_ok($get->("/api/charts?points=$_"), 400, 'invalid_points', "charts points '$_'") for qw(1 501 x -3);
json_error_ok($get->("/api/charts?metrics=$_"), 400, 'invalid_metrics', "charts metrics '$_'") for ('cpu,bogus', ',cpu', 'CPU');
$res = $get->('/api/charts?range=1h&points=2&metrics=cpu,disk');
is($res->code, 200, 'charts with points=2 and metrics=cpu,disk: 200');
my $bk = $res->json;
is_deeply([sort keys %{ $bk->{data}{$vm->{id}} }], [qw(cpu disk)], 'a guest: only cpu and disk');
is_deeply([sort keys %{ $bk->{nodeData}{$node->{id}} }], [qw(cpu disk)], 'a node: only cpu and disk');
is_deeply([keys %{ $bk->{storageData}{$storage->{id}} }], ['disk'], 'storage: still its disk');
{
    # The node's cpu samples of the hour, averaged per half hour since 1970 as the answer's
    # buckets are (each point at the mean time of its samples, so in its own bucket).
    # All of them, asked just after: those up to the first answer's time count.
    my $full = [grep { $_->{timestamp} <= $bk->{timestamp} } @{ $get->('/api/charts?range=1h')->json->{nodeData}{$node->{id}}{cpu} }];
    my $pts = $bk->{nodeData}{$node->{id}}{cpu};
    my (%sum, %n);
    for my $p (@$full) {
        my $k = int($p->{timestamp} / 1800_000);
        $sum{$k} += $p->{value}; $n{$k}++;
    }
    ok(@$pts >= 1 && @$pts <= 3, 'points=2: at most three points for the node cpu (' . scalar(@$pts) . ')');
    my @bad = grep { my $k = int($_->{timestamp} / 1800_000);
        !$n{$k} || abs($_->{value} - $sum{$k} / $n{$k}) > 0.01 * (1 + abs($_->{value})) } @$pts;
    ok(!@bad, 'each point is the mean of its half hour\'s samples') or diag explain { points => $pts, sum => \%sum, n => \%n };
}

$res = $get->('/api/storage-charts');
is($res->code, 200, 'storage-charts: 200');
is_deeply([sort keys %{ $res->json->{$storage->{id}} }], [qw(avail total usage used)], 'storage-charts: four series');
like($res->json->{$storage->{id}}{used}[0]{timestamp}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/,
    'storage-charts: RFC 3339 times');
is($get->('/api/storage-charts?range=1h')->code, 200, 'storage-charts range 1h is read as 1 minute');

# --- rollups against brute force ---------------------------------------------------------
# 49 hours of samples for 30 VMs x 7 metrics (2 blocks), every 20 s with jitter and gaps,
# ending at the last whole hour.
my $gen = <<'SQL';
CREATE TEMP TABLE fx AS SELECT date_trunc('hour', now()) - interval '49 hours' AS t0;
-- From the start of a block, so that a block's array holds only these series.
SELECT setval(pg_get_serial_sequence('pulse.metric_series', 'id'),
              (SELECT (max(id) / 200 + 1) * 200 - 1 FROM pulse.metric_series));
INSERT INTO pulse.metric_series (resource_type, resource_id, metric, resource_name)
SELECT 'vm', 'synthetic:n1:' || g, m, 'syn' || g FROM generate_series(1, 30) g,
       unnest(ARRAY['cpu', 'memory', 'disk', 'diskread', 'diskwrite', 'netin', 'netout']) m ORDER BY g, m;
CREATE TEMP TABLE fx_ids AS SELECT id FROM pulse.metric_series WHERE resource_id LIKE 'synthetic:%';
SELECT count(pulse.metric_partition_ensure('raw', t)) FROM fx, generate_series(t0, t0 + interval '49 hours', interval '1 hour') t;
-- Every series at every instant, NULL where a sample is missing.
CREATE TEMP TABLE fx_g AS
SELECT i.id AS series, fx.t0 + k * interval '20 s' + (k % 4) * interval '0.7 s' AS ts,
       CASE WHEN abs(hashint4(i.id + k * 31)) % 19 <> 0
            THEN (abs(hashint4(i.id * 100003 + k)) % 1000000)::float8 / 7 END AS v
FROM fx, generate_series(0, 49 * 180 - 1) k, fx_ids i;
CREATE TEMP TABLE fx_s AS SELECT * FROM fx_g WHERE v IS NOT NULL;
INSERT INTO pulse.metric_raw (ts, blk, vals)
SELECT ts, series / 200, pulse.metric_pack(array_agg(v ORDER BY series)) FROM fx_g GROUP BY 1, 2
ON CONFLICT (blk, ts) DO UPDATE SET vals = pulse.metric_merge(pulse.metric_raw.vals, EXCLUDED.vals);
UPDATE pulse.metric_partitions p SET samples = samples + c FROM
    (SELECT date_trunc('hour', ts) h, count(*) c FROM fx_s GROUP BY 1) x WHERE p.tier = 'raw' AND p.lo = x.h;
SELECT count(*) FROM fx_s;
SQL
my $nsamples = (split /\n/, $stack->psql($gen))[-1];
ok($nsamples > 250_000, "$nsamples synthetic samples written");

# The worker rolls them up (a run does up to 96 windows a tier; NOTIFY runs it at once).
# Runs the rollup (NOTIFY) until done() holds.
sub rollup_until {
    my ($what, $secs, $done) = @_;
    $stack->wait_for(sub {
        $stack->psql(q{NOTIFY pulse_jobs, 'metrics_rollup'});
        sleep 0.5;
        $done->();
    }, $secs, $what, 'worker-1');
}
my $no_dirty = sub { $stack->psql(q{SELECT count(*) FROM pulse.metric_dirty}) == 0 };
rollup_until('the rollups', 120, sub {
    $stack->psql(q{SELECT count(*) FROM pulse.metric_rollup WHERE tier = 'day'
        AND done_until >= date_trunc('day', now()) - interval '1 day'}) == 1
        && $stack->psql(q{SELECT done_until >= date_trunc('hour', now()) - interval '1 hour'
        FROM pulse.metric_rollup WHERE tier = 'minute'}) eq 't';
});
pass('minute, hour and day tiers rolled up');

# Every bucket of every tier before done_until equals the aggregate of the raw samples.
my $check = sub {
    my ($tier, $step) = @_;
    return $stack->psql(qq{
        WITH b AS (SELECT series, date_bin('$step', time, timestamptz 'epoch') t, count(*) n, avg(value) a,
                          min(value) mn, max(value) mx
                   FROM pulse.metrics_raw WHERE series IN (SELECT id FROM pulse.metric_series
                        WHERE resource_id LIKE 'synthetic:%')
                   AND time < (SELECT done_until FROM pulse.metric_rollup WHERE tier = '$tier')
                   GROUP BY 1, 2),
             r AS (SELECT m.series, m.t0 + (i - 1) * interval '$step' t, m.n[i] n, m.avg[i] a, m.min[i] mn,
                          m.max[i] mx
                   FROM pulse.metric_$tier m, generate_subscripts(m.n, 1) i WHERE m.n[i] > 0
                   AND m.series IN (SELECT id FROM pulse.metric_series WHERE resource_id LIKE 'synthetic:%'))
        SELECT count(*) || ' ' || count(*) FILTER (WHERE b.n IS NULL OR r.n IS NULL OR b.n <> r.n
               OR b.mn <> r.mn OR b.mx <> r.mx OR abs(b.a - r.a) > 1e-9 * greatest(1, abs(b.a)))
        FROM b FULL JOIN r USING (series, t)});
};
my %buckets;
for ([minute => '1 minute'], [hour => '1 hour'], [day => '1 day']) {
    my ($all, $bad) = split / /, $check->(@$_);
    $buckets{ $_->[0] } = $all;
    ok($all > 0, "$_->[0] tier: $all buckets");
    is($bad, 0, "$_->[0] tier: every bucket equals the brute-force aggregate of the raw samples");
}
# A digest of the synthetic series' buckets before each tier's done_until as it was at the
# first digest: the regular rollup goes on adding windows of the live series (and of the
# synthetic ones' last hour) meanwhile, and those are not what is compared.
my $until = $stack->psql(q{SELECT string_agg(tier || '=' || extract(epoch FROM done_until)::bigint, ',' ORDER BY tier)
    FROM pulse.metric_rollup});
my %until = map { split /=/ } split /,/, $until;
my $sum = sub {
    my @parts = map {
        my ($tier, $step) = @$_;
        qq{SELECT '$tier' || m.series || ' ' || (m.t0 + (i - 1) * interval '$step') || ' ' || m.n[i]::text || ' '
                  || m.avg[i]::text || ' ' || m.min[i]::text || ' ' || m.max[i]::text x
           FROM pulse.metric_$tier m, generate_subscripts(m.n, 1) i
           WHERE m.n[i] > 0 AND m.t0 + (i - 1) * interval '$step' < to_timestamp($until{$tier})
           AND m.series IN (SELECT id FROM pulse.metric_series WHERE resource_id LIKE 'synthetic:%')}
    } [minute => '1 minute'], [hour => '1 hour'], [day => '1 day'];
    $stack->psql(q{SELECT md5(string_agg(x, ';' ORDER BY x)) || ' ' || count(*) FROM (}
        . join(' UNION ALL ', @parts) . q{) q});
};
my $before = $sum->();
ok((split / /, $before)[1] > 100_000, 'the digest covers ' . (split / /, $before)[1] . ' buckets');

# Rolling every window up again changes nothing.
$stack->psql(q{INSERT INTO pulse.metric_dirty (tier, t0) SELECT DISTINCT 'minute', t0 FROM pulse.metric_minute});
rollup_until('the windows rolled up again', 120, $no_dirty);
is($sum->(), $before, 'rolling every window up again (minute, then the hours and days above): the same rows');

# A second worker: the rollup is a singleton; whichever runs it, nothing changes.
$stack->start_worker(2);
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.workers WHERE stopped_at IS NULL}) == 2 }, 30,
    'the second worker', 'worker-2');
$stack->psql(q{INSERT INTO pulse.metric_dirty (tier, t0) SELECT DISTINCT 'hour', t0 FROM pulse.metric_hour});
$stack->psql(q{NOTIFY pulse_jobs, 'metrics_rollup'}) for 1 .. 3;
rollup_until('the hour windows rolled up again', 120, $no_dirty);
is($sum->(), $before, 'two workers, rollups run again: the same rows');
is($check->('hour', '1 hour') =~ s/^\d+ //r, 0, 'hour tier still equals the brute force');

# The views DBAs use agree with the tables.
is($stack->psql(q{SELECT count(*) FROM pulse.metrics_day WHERE resource_id LIKE 'synthetic:%'
    AND time < (SELECT done_until FROM pulse.metric_rollup WHERE tier = 'day')}), $buckets{day},
    'metrics_day: one row per rolled-up bucket');

# History and charts over rolled-up tiers.
$res = $get->('/api/metrics-store/history?resourceType=vm&resourceId=synthetic:n1:1&metric=cpu&range=7d');
is($res->json->{tier}, 'hour', 'history 7d: hour tier');
my $sid = $stack->psql(q{SELECT id FROM pulse.metric_series WHERE resource_id = 'synthetic:n1:1' AND metric = 'cpu'});
my $exp = $stack->psql(qq{SELECT count(*) FROM pulse.metrics_hour WHERE series = $sid AND time >= now() - interval '7 days'});
is(scalar @{ $res->json->{points} }, $exp, "history 7d: $exp hourly points (rolled up, then from minutes and raw)");
my $total = 0;
$total += 0 for @{ $res->json->{points} };
$res = $get->('/api/metrics-store/history?resourceType=vm&resourceId=synthetic:n1:1&metric=cpu&range=24h&maxPoints=100');
ok(@{ $res->json->{points} } <= 100, 'history 24h capped at maxPoints');
my $peak = $stack->psql(qq{SELECT max(value) FROM pulse.metrics_raw WHERE series = $sid AND time >= now() - interval '24 hours'});
my ($hmax) = sort { $b <=> $a } map { $_->{max} } @{ $res->json->{points} };
ok(abs($hmax - $peak) < 1e-6 * $peak, 'the peak survives downsampling (in max)');
$res = $get->('/api/charts?range=24h');
is($res->code, 200, 'charts 24h: 200');
ok(!exists $res->json->{data}{'synthetic:n1:1'}, 'charts: only guests of the state');
$res = $get->('/api/charts?range=7d');
is($res->code, 200, 'charts 7d: 200');

# --- a late sample lands in its bucket ----------------------------------------------------
# Pretend the minute rollup is ahead of the poller: what is written next is late.
my $done = $stack->psql(q{SELECT done_until FROM pulse.metric_rollup WHERE tier = 'minute'});
$stack->psql(q{UPDATE pulse.metric_rollup SET done_until = date_trunc('hour', now()) + interval '1 hour' WHERE tier = 'minute'});
$stack->wait_for(sub { $stack->psql(q{SELECT count(*) FROM pulse.metric_dirty WHERE tier = 'minute'
    AND t0 = date_trunc('hour', now())}) == 1 }, 20, 'the late window marked', 'worker-1');
pass('samples older than the rollup mark their window');
rollup_until('the late window rolled up', 30, sub {
    $stack->psql(qq{SELECT count(*) FROM pulse.metric_minute m JOIN pulse.metric_series s ON s.id = m.series
        WHERE s.resource_id = '$node->{id}' AND m.t0 = date_trunc('hour', now())}) > 0;
});
pass('and the window is rolled up again with them');

# --- stats ----------------------------------------------------------------------------------
$res = $get->('/api/metrics-store/stats');
is($res->code, 200, 'stats: 200');
my $s = $res->json;
is($s->{enabled}, true, 'stats: enabled');
ok($s->{dbSize} > 1_000_000, "stats: dbSize $s->{dbSize}");
ok($s->{rawCount} >= $nsamples, "stats: rawCount $s->{rawCount}");
is($s->{minuteCount}, $stack->psql(q{SELECT count(*) FROM pulse.metric_minute m, unnest(m.n) x WHERE x > 0}),
    'stats: minuteCount = minute buckets held');
ok($s->{hourlyCount} > 0 && $s->{dailyCount} > 0, 'stats: hourly and daily counts');
ok($s->{totalWrites} > 0, 'stats: totalWrites counts what the workers wrote');
like($s->{$_}, qr/^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, "stats: $_ is set") for qw(lastFlush lastRollup lastRetention);
ok(exists $s->{bufferSize}, 'stats: bufferSize');

unlike($stack->log_text('worker-1') . $stack->log_text('worker-2'), qr/level=error/, 'no error logged by the workers');
done_testing;
