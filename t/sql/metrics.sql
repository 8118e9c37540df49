-- metrics.sql: pgTAP tests of the metrics history schema (sql/0006_metrics.sql): the views
-- for DBAs against brute-force aggregates of the raw samples, before and after windows are
-- rolled up (nothing missing, nothing counted twice), the partition upkeep and retention, and
-- the helper functions. Run in its own database by t/api/30-metrics-sql.t, in one
-- transaction that is rolled back.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only on
\pset pager off
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
BEGIN;
SELECT plan(43);

-- The objects DBAs use.
SELECT has_view('pulse', v, 'view pulse.' || v) FROM unnest(ARRAY['metrics_raw', 'metrics_minute',
    'metrics_hour', 'metrics_day', 'metrics']) v;
SELECT columns_are('pulse', 'metrics_hour', ARRAY['series', 'resource_type', 'resource_id',
    'resource_name', 'metric', 'tier', 'time', 'value', 'avg', 'min', 'max', 'samples'],
    'the views share their columns');
SELECT has_function('pulse', 'metric_maintain', ARRAY['timestamp with time zone'],
    'pulse.metric_maintain(timestamptz)');
SELECT is(pulse.metric_block_size(), 200, 'blocks of 200 series');

-- A fixture: 5 series in block 0 and one in block 1, samples every 10 s (with gaps and
-- jitter) over 50 hours from a fixed start, so that whole days lie inside.
CREATE TEMP TABLE fx_clock AS SELECT timestamptz '2026-01-10 00:00:00+00' AS t0;
INSERT INTO pulse.metric_series (id, resource_type, resource_id, metric, resource_name) VALUES
    (0, 'vm', 'pve:n1:101', 'cpu', 'web'), (1, 'vm', 'pve:n1:101', 'memory', 'web'),
    (2, 'node', 'pve-n1', 'cpu', 'n1'), (3, 'storage', 'pve-n1-local', 'usage', 'local'),
    (4, 'container', 'pve:n1:200', 'cpu', 'ct'), (205, 'vm', 'pve:n1:102', 'cpu', 'db');
SELECT setval(pg_get_serial_sequence('pulse.metric_series', 'id'), 205);
SELECT count(pulse.metric_partition_ensure('raw', t)) AS partitions
    FROM fx_clock, generate_series(t0, t0 + interval '50 hours', interval '1 hour') t;
CREATE TEMP TABLE fx_samples AS
SELECT s.id AS series, k.t AS ts,
       round((abs(hashint4(s.id * 100003 + k.n)) % 100000)::numeric / 1000, 3)::float8 AS v
FROM fx_clock,
     generate_series(0, 50 * 360 - 1) AS k0(n),
     LATERAL (SELECT k0.n AS n, t0 + k0.n * interval '10 s' + (k0.n % 3) * interval '1.5 s' AS t) k,
     pulse.metric_series s
WHERE abs(hashint4(s.id * 7 + k.n)) % 23 <> 0;       -- about 4 % of the samples missing
CREATE INDEX ON fx_samples (series, ts);
ANALYZE fx_samples;
INSERT INTO pulse.metric_raw (ts, blk, vals)
SELECT t.ts, t.blk, pulse.metric_pack(array_agg(x.v ORDER BY sl.slot))
FROM (SELECT ts, series / 200 AS blk, max(series % 200) AS top FROM fx_samples GROUP BY 1, 2) t
CROSS JOIN LATERAL generate_series(0, t.top) AS sl(slot)
LEFT JOIN fx_samples x ON x.ts = t.ts AND x.series = t.blk * 200 + sl.slot
GROUP BY t.ts, t.blk;

SELECT is((SELECT count(*) FROM pulse.metrics_raw), (SELECT count(*) FROM fx_samples),
    'metrics_raw: every sample, no other');
SELECT is_empty($$SELECT series, time, value FROM pulse.metrics_raw
    EXCEPT SELECT series, ts, v FROM fx_samples$$, 'metrics_raw: the samples as written');
SELECT is((SELECT resource_name FROM pulse.metrics_raw WHERE series = 205 LIMIT 1), 'db',
    'metrics_raw: block 1 maps to its series');

-- Brute force, by bucket.
CREATE FUNCTION pg_temp.brute(step interval) RETURNS TABLE (series integer, t timestamptz,
    n bigint, a numeric, mn float8, mx float8) LANGUAGE sql AS $$
    SELECT series, date_bin(step, ts, timestamptz 'epoch'), count(*), round(avg(v)::numeric, 9),
           min(v), max(v) FROM fx_samples GROUP BY 1, 2 $$;
CREATE FUNCTION pg_temp.view_rows(tier text) RETURNS TABLE (series integer, t timestamptz,
    n bigint, a numeric, mn float8, mx float8) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT series, time, samples::bigint, round(avg::numeric, 9), min, max
        FROM pulse.metrics_%s', tier);
END $$;

-- Nothing rolled up yet: every tier is computed from raw.
SELECT set_eq('SELECT * FROM pg_temp.view_rows(''minute'')',
    'SELECT * FROM pg_temp.brute(''1 minute'')', 'minute view, nothing rolled up: the brute force');
SELECT set_eq('SELECT * FROM pg_temp.view_rows(''hour'')',
    'SELECT * FROM pg_temp.brute(''1 hour'')', 'hour view, nothing rolled up: the brute force');
SELECT set_eq('SELECT * FROM pg_temp.view_rows(''day'')',
    'SELECT * FROM pg_temp.brute(''1 day'')', 'day view, nothing rolled up: the brute force');

-- Roll up by hand, as pulse-worker does (whole windows, done_until after them): minute
-- windows for the first 30 hours, hour windows for the first day, the day window.
CREATE FUNCTION pg_temp.roll(tbl text, step interval, win interval, nb int, a timestamptz,
    b timestamptz) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pulse.metric_partition_ensure(substr(tbl, 8), w)
        FROM generate_series(a, b - win, win) w;
    EXECUTE format($q$
        INSERT INTO pulse.%I (series, t0, n, avg, min, max)
        SELECT series, w, array_agg(coalesce(c, 0) ORDER BY i), array_agg(av ORDER BY i),
               array_agg(mn ORDER BY i), array_agg(mx ORDER BY i)
        FROM (SELECT s.series, w.w, i, x.c, x.av, x.mn, x.mx
              FROM (SELECT DISTINCT series FROM fx_samples) s
              CROSS JOIN generate_series($1, $2 - $3, $3) w(w)
              CROSS JOIN generate_series(1, $4) i
              LEFT JOIN LATERAL (SELECT count(*)::int c, avg(v) av, min(v) mn, max(v) mx
                                 FROM fx_samples f WHERE f.series = s.series
                                 AND f.ts >= w.w + (i - 1) * $5 AND f.ts < w.w + i * $5
                                 HAVING count(*) > 0) x ON true) q
        GROUP BY series, w HAVING sum(coalesce(c, 0)) > 0 $q$, tbl) USING a, b, win, nb, step;
END $$;
SELECT pg_temp.roll('metric_minute', '1 minute', '1 hour', 60, t0, t0 + interval '30 hours') FROM fx_clock;
SELECT pg_temp.roll('metric_hour', '1 hour', '1 day', 24, t0, t0 + interval '1 day') FROM fx_clock;
SELECT pg_temp.roll('metric_day', '1 day', '1 day', 1, t0, t0 + interval '1 day') FROM fx_clock;
UPDATE pulse.metric_rollup SET done_until = (SELECT t0 FROM fx_clock) + CASE tier
    WHEN 'minute' THEN interval '30 hours' ELSE interval '1 day' END;

SELECT set_eq('SELECT * FROM pg_temp.view_rows(''minute'')',
    'SELECT * FROM pg_temp.brute(''1 minute'')',
    'minute view, 30 hours rolled up: the brute force (no bucket missing or counted twice)');
SELECT set_eq('SELECT * FROM pg_temp.view_rows(''hour'')',
    'SELECT * FROM pg_temp.brute(''1 hour'')', 'hour view, a day rolled up: the brute force');
SELECT set_eq('SELECT * FROM pg_temp.view_rows(''day'')',
    'SELECT * FROM pg_temp.brute(''1 day'')', 'day view, a day rolled up: the brute force');
SELECT is((SELECT count(*) FROM pulse.metrics WHERE series = 2),
    (SELECT count(*) FROM pulse.metrics_raw WHERE series = 2) +
    (SELECT count(*) FROM pulse.metrics_minute WHERE series = 2) +
    (SELECT count(*) FROM pulse.metrics_hour WHERE series = 2) +
    (SELECT count(*) FROM pulse.metrics_day WHERE series = 2), 'metrics: the four tiers');
SELECT is((SELECT sum(samples) FROM pulse.metrics_day WHERE series = 0),
    (SELECT count(*) FROM fx_samples WHERE series = 0), 'day buckets count every sample once');

-- The queries docs/SQL.md shows.
SELECT is((SELECT count(*) FROM pulse.metrics_hour WHERE resource_type = 'vm'
    AND resource_id = 'pve:n1:101' AND metric = 'cpu'
    AND time >= (SELECT t0 FROM fx_clock) + interval '2 days' - interval '7 days'), 50::bigint,
    'hourly cpu of one VM over a week: one row per hour');
SELECT is((SELECT resource_name FROM (SELECT resource_name, max(value) m FROM pulse.metrics_day
    WHERE resource_type IN ('vm', 'container') AND metric = 'cpu'
    AND time = (SELECT t0 FROM fx_clock) GROUP BY 1 ORDER BY m DESC LIMIT 1) x),
    (SELECT s.resource_name FROM fx_samples f JOIN pulse.metric_series s ON s.id = f.series
     WHERE s.resource_type IN ('vm', 'container') AND s.metric = 'cpu'
     AND f.ts < (SELECT t0 FROM fx_clock) + interval '1 day'
     GROUP BY 1 ORDER BY avg(f.v) DESC LIMIT 1), 'top guests by cpu on a day');

-- Blocks: packed doubles, exact both ways; NaN, NULL and slots past the end are no sample.
SELECT is(pulse.metric_unpack(pulse.metric_pack(ARRAY[0, -0.0, 1e-310, -4.9e-324, 2.2250738585072014e-308,
        1.7976931348623157e308, -2.5, 0.1, 123456789.123456789, NULL, 'NaN']::float8[])),
    ARRAY[0, -0.0, 1e-310, -4.9e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -2.5, 0.1,
        123456789.123456789, NULL, NULL]::float8[], 'metric_pack and metric_unpack are exact, subnormals too');
SELECT is((SELECT count(*) FROM generate_series(1, 2000) g,
           LATERAL (SELECT (g * 7919.0 / 13)::float8 ^ (g % 40 - 20) AS x) v
           WHERE pulse.metric_value(float8send(x), 0) IS DISTINCT FROM x
              OR pulse.metric_value(float8send(-x), 0) IS DISTINCT FROM -x), 0::bigint,
    'metric_value decodes 4,000 doubles exactly');
SELECT is(pulse.metric_value(pulse.metric_pack(ARRAY[1, 2]::float8[]), 2), NULL,
    'metric_value past the end of a block is NULL');
SELECT is(pulse.metric_value(pulse.metric_pack(ARRAY[1, 2]::float8[]), -1), NULL,
    'metric_value of a negative slot is NULL');
SELECT is(octet_length(pulse.metric_pack(ARRAY[1, NULL, 3]::float8[])), 24, 'a block takes 8 bytes a slot');
-- metric_merge: the newer value where both have one.
SELECT is(pulse.metric_unpack(pulse.metric_merge(pulse.metric_pack(ARRAY[1, NULL, 3]::float8[]),
        pulse.metric_pack(ARRAY[NULL, 2, 4, 5]::float8[]))),
    ARRAY[1, 2, 4, 5]::float8[], 'metric_merge keeps both, the newer wins');
SELECT is(pulse.metric_unpack(pulse.metric_merge(pulse.metric_pack(ARRAY[1, 2, 7]::float8[]),
        pulse.metric_pack(ARRAY[1, 2]::float8[]))),
    ARRAY[1, 2, 7]::float8[], 'metric_merge keeps the older block''s tail and a batch written twice changes nothing');

-- Partitions: ensure is idempotent and names the partition of the hour.
SELECT is(pulse.metric_partition_ensure('raw', (SELECT t0 FROM fx_clock) + interval '10 min'),
    'metric_raw_20260110t0000', 'metric_partition_ensure names the hour''s partition');
SELECT is((SELECT count(*) FROM pulse.metric_partitions WHERE tier = 'raw'
    AND lo = (SELECT t0 FROM fx_clock)), 1::bigint, 'and creates it once');

-- Retention: at t0 + 52 h, raw (2 h) keeps only what the minute rollup has not read.
CREATE TEMP TABLE fx_dropped AS
    SELECT * FROM pulse.metric_maintain((SELECT t0 FROM fx_clock) + interval '52 hours') d;
SELECT is((SELECT count(*) FROM pulse.metric_partitions WHERE tier = 'raw'
    AND hi <= (SELECT t0 FROM fx_clock) + interval '30 hours'), 0::bigint,
    'raw partitions rolled up and past retention are dropped');
SELECT is((SELECT count(*) FROM pulse.metric_partitions WHERE tier = 'raw'
    AND lo >= (SELECT t0 FROM fx_clock) + interval '30 hours'
    AND lo < (SELECT t0 FROM fx_clock) + interval '50 hours'), 20::bigint,
    'raw partitions not rolled up yet are kept, though past retention');
SELECT is((SELECT count(*) FROM pulse.metrics_raw), (SELECT count(*) FROM fx_samples
    WHERE ts >= (SELECT t0 FROM fx_clock) + interval '30 hours'), 'their samples are all there');
SELECT ok((SELECT count(*) FROM fx_dropped WHERE d LIKE 'metric_raw_%') = 30,
    'metric_maintain returns the partitions it dropped');
SELECT ok(EXISTS (SELECT 1 FROM pulse.metric_partitions WHERE tier = 'raw'
    AND lo = (SELECT t0 FROM fx_clock) + interval '53 hours')
    AND NOT EXISTS (SELECT 1 FROM pulse.metric_partitions WHERE tier = 'raw'
    AND lo > (SELECT t0 FROM fx_clock) + interval '53 hours'), 'raw: partitions made one span ahead, no more');
SELECT ok(EXISTS (SELECT 1 FROM pulse.metric_partitions WHERE tier = 'minute'
    AND lo = (SELECT t0 FROM fx_clock) + interval '3 days')
    AND NOT EXISTS (SELECT 1 FROM pulse.metric_partitions WHERE tier = 'minute'
    AND lo > (SELECT t0 FROM fx_clock) + interval '3 days'), 'minute: partitions made one span ahead, no more');
SELECT is((SELECT count(*) FROM pulse.metric_partitions WHERE tier = 'minute'
    AND lo = (SELECT t0 FROM fx_clock)), 0::bigint,
    'minute: the first day, rolled up into hours and past retention, is dropped');
SELECT is((SELECT count(*) FROM pulse.metric_partitions WHERE tier = 'minute'
    AND lo = (SELECT t0 FROM fx_clock) + interval '1 day'), 1::bigint,
    'minute: the second day stays (within retention)');
SELECT set_eq('SELECT * FROM pg_temp.view_rows(''hour'')',
    'SELECT * FROM pg_temp.brute(''1 hour'')', 'hour view after retention: still the brute force');
SAVEPOINT not_rolled;
UPDATE pulse.metric_rollup SET done_until = (SELECT t0 FROM fx_clock) + interval '1 day'
    WHERE tier = 'hour';
SELECT count(*) AS dropped FROM pulse.metric_maintain((SELECT t0 FROM fx_clock) + interval '80 hours');
SELECT is((SELECT count(*) FROM pulse.metric_partitions WHERE tier = 'minute'
    AND lo = (SELECT t0 FROM fx_clock) + interval '1 day'), 1::bigint,
    'minute: a day past retention stays while the hour rollup has not passed its end');
SELECT ok(EXISTS (SELECT 1 FROM pulse.metric_partitions WHERE tier = 'minute'
    AND lo = (SELECT t0 FROM fx_clock) + interval '2 days'), 'and nothing newer is dropped');
ROLLBACK TO SAVEPOINT not_rolled;
SELECT ok((SELECT min(lo) <= (SELECT t0 FROM fx_clock) + interval '52 hours' - interval '90 days'
    AND max(hi) > (SELECT t0 FROM fx_clock) + interval '52 hours' + interval '30 days'
    AND max(lo) <= (SELECT t0 FROM fx_clock) + interval '52 hours' + interval '30 days'
    FROM pulse.metric_partitions WHERE tier = 'day'),
    'day: partitions from 90 days back to one span ahead');
INSERT INTO pulse.metric_dirty VALUES ('minute', (SELECT t0 FROM fx_clock)),
    ('minute', (SELECT t0 FROM fx_clock) + interval '51 hours');
SELECT count(*) AS dropped FROM pulse.metric_maintain((SELECT t0 FROM fx_clock) + interval '52 hours');
SELECT is((SELECT count(*) FROM pulse.metric_dirty), 1::bigint,
    'dirty marks past retention are forgotten');

SELECT * FROM finish();
ROLLBACK;
