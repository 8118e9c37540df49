-- 0007_metric_blocks.sql: raw samples stored as packed doubles rather than float8[].
--
-- pulse.metric_raw.vals becomes a bytea of big-endian IEEE 754 doubles, one per slot of
-- the block (the series id/200 = blk, at byte 8 × (id % 200)), NaN where a series has no
-- sample; a block may be shorter than 200 slots (its series ids end there). It takes the
-- same room as the array, but PostgreSQL sends a bytea with one copy, where it sends an
-- array element by element through the float8 send function: reading an hour of raw
-- samples for 1,000 guests cost about 240 ms of server time as arrays and 27 ms as bytea,
-- and the same holds for the rollup reading raw samples.
--
-- For SQL: pulse.metric_value(vals, slot) is one sample (NULL: none), metric_unpack and
-- metric_pack convert a block to and from float8[]; the views read through metric_value.

-- The sample in slot (0-based) of a block, or NULL: past the block's end or NaN. Written as
-- one expression on get_byte so that PostgreSQL inlines it into the views (a STRICT or
-- multi-statement function would be called row by row, ten times slower), with a
-- standard SQL body, stored parsed, so that inlining does not parse it again for every
-- query. Exact for every double, subnormals included.
CREATE FUNCTION pulse.metric_value(vals bytea, slot integer) RETURNS float8
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN slot < 0 OR octet_length(vals) < 8 * slot + 8 THEN NULL::float8
    ELSE CASE ((get_byte(vals, 8 * slot) & 127) << 4) | (get_byte(vals, 8 * slot + 1) >> 4)
        WHEN 2047 THEN NULL::float8
        ELSE (CASE WHEN get_byte(vals, 8 * slot) > 127 THEN -1::float8 ELSE 1::float8 END)
            * ((get_byte(vals, 8 * slot + 1) & 15) * 281474976710656::float8
               + get_byte(vals, 8 * slot + 2) * 1099511627776::float8
               + get_byte(vals, 8 * slot + 3) * 4294967296::float8
               + get_byte(vals, 8 * slot + 4) * 16777216::float8
               + get_byte(vals, 8 * slot + 5) * 65536::float8
               + get_byte(vals, 8 * slot + 6) * 256::float8
               + get_byte(vals, 8 * slot + 7)
               -- the implicit leading bit of a normal number
               + CASE WHEN ((get_byte(vals, 8 * slot) & 127) << 4)
                           | (get_byte(vals, 8 * slot + 1) >> 4) = 0
                      THEN 0::float8 ELSE 4503599627370496::float8 END)
            * 2::float8 ^ (greatest(((get_byte(vals, 8 * slot) & 127) << 4)
                                    | (get_byte(vals, 8 * slot + 1) >> 4), 1) - 1075)
        END
    END;

-- A float8[] as a block (NULL elements become NaN: no sample) and back.
CREATE FUNCTION pulse.metric_pack(vals float8[]) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(coalesce(float8send(v), '\x7ff8000000000000'::bytea), ''::bytea
                               ORDER BY o), ''::bytea)
    FROM unnest(vals) WITH ORDINALITY AS u(v, o)
$$;

CREATE FUNCTION pulse.metric_unpack(vals bytea) RETURNS float8[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(pulse.metric_value(vals, i) ORDER BY i), '{}'::float8[])
    FROM generate_series(0, octet_length(vals) / 8 - 1) AS i
$$;

-- The view is the only thing reading vals: it reads nothing while the column changes.
CREATE OR REPLACE VIEW pulse.metrics_raw AS
SELECT s.id AS series, s.resource_type, s.resource_id, s.resource_name, s.metric,
       'raw'::text AS tier, r.ts AS time,
       NULL::float8 AS value, NULL::float8 AS avg, NULL::float8 AS min, NULL::float8 AS max,
       1 AS samples
FROM pulse.metric_series s
JOIN pulse.metric_raw r ON r.blk = s.id / 200
WHERE false;

ALTER TABLE pulse.metric_raw ALTER COLUMN vals TYPE bytea USING pulse.metric_pack(vals);

-- One decoding per sample (OFFSET 0 keeps the planner from copying the expression into
-- every column that uses it).
CREATE OR REPLACE VIEW pulse.metrics_raw AS
SELECT s.id AS series, s.resource_type, s.resource_id, s.resource_name, s.metric,
       'raw'::text AS tier, r.ts AS time,
       v.value, v.value AS avg, v.value AS min, v.value AS max, 1 AS samples
FROM pulse.metric_series s
JOIN pulse.metric_raw r ON r.blk = s.id / 200
CROSS JOIN LATERAL (SELECT pulse.metric_value(r.vals, s.id % 200) AS value OFFSET 0) v
WHERE v.value IS NOT NULL;

-- Keeps the rows of one block: slot by slot, the newer sample where both have one (a batch
-- written twice after a lost commit, or two workers sharing a block at the same instant).
DROP FUNCTION pulse.metric_merge(float8[], float8[]);
CREATE FUNCTION pulse.metric_merge(a bytea, b bytea) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(
               CASE WHEN pulse.metric_value(b, i) IS NOT NULL THEN substring(b FROM 8 * i + 1 FOR 8)
                    WHEN pulse.metric_value(a, i) IS NOT NULL THEN substring(a FROM 8 * i + 1 FOR 8)
                    ELSE '\x7ff8000000000000'::bytea END, ''::bytea ORDER BY i), ''::bytea)
    FROM generate_series(0, greatest(octet_length(a), octet_length(b)) / 8 - 1) AS i
$$;

-- A bucket's time comes with its index from generate_series: computed once, where
-- t0 + (i - 1) * interval was computed for the output and again for each condition on time
-- (interval multiplication was a twentieth of the query).
CREATE OR REPLACE VIEW pulse.metrics_minute AS
SELECT s.id AS series, s.resource_type, s.resource_id, s.resource_name, s.metric,
       'minute'::text AS tier, b.time,
       m.avg[b.i] AS value, m.avg[b.i] AS avg, m.min[b.i] AS min, m.max[b.i] AS max,
       m.n[b.i] AS samples
FROM pulse.metric_series s
JOIN pulse.metric_minute m ON m.series = s.id
CROSS JOIN LATERAL generate_series(m.t0, m.t0 + interval '59 minutes', interval '1 minute')
    WITH ORDINALITY AS b(time, i)
WHERE m.n[b.i] > 0
UNION ALL
SELECT r.series, r.resource_type, r.resource_id, r.resource_name, r.metric, 'minute',
       date_bin('1 minute', r.time, timestamptz 'epoch'),
       avg(r.value), avg(r.value), min(r.value), max(r.value), count(*)::integer
FROM pulse.metrics_raw r
WHERE r.time >= coalesce((SELECT done_until FROM pulse.metric_rollup WHERE tier = 'minute'),
                         '-infinity')
GROUP BY 1, 2, 3, 4, 5, 7;

-- The hour and day views take the part their tier has not rolled up yet straight from the
-- tiers below (each window of the tier below lies in one bucket of the tier above), rather
-- than through the view of the tier below: one level of views and aggregation less for
-- PostgreSQL to plan, and only the windows after the tier's end are read (the index on
-- (series, t0) finds them).
CREATE OR REPLACE VIEW pulse.metrics_hour AS
SELECT s.id AS series, s.resource_type, s.resource_id, s.resource_name, s.metric,
       'hour'::text AS tier, b.time,
       m.avg[b.i] AS value, m.avg[b.i] AS avg, m.min[b.i] AS min, m.max[b.i] AS max,
       m.n[b.i] AS samples
FROM pulse.metric_series s
JOIN pulse.metric_hour m ON m.series = s.id
CROSS JOIN LATERAL generate_series(m.t0, m.t0 + interval '23 hours', interval '1 hour')
    WITH ORDINALITY AS b(time, i)
WHERE m.n[b.i] > 0
UNION ALL
SELECT s.id, s.resource_type, s.resource_id, s.resource_name, s.metric, 'hour', t.time,
       sum(t.avg * t.n) / sum(t.n), sum(t.avg * t.n) / sum(t.n), min(t.min), max(t.max),
       sum(t.n)::integer
FROM (SELECT m.series, m.t0 AS time, u.n, u.avg, u.min, u.max     -- a minute window: one hour
      FROM pulse.metric_minute m
      CROSS JOIN LATERAL unnest(m.n, m.avg, m.min, m.max) AS u(n, avg, min, max)
      WHERE m.t0 >= coalesce((SELECT done_until FROM pulse.metric_rollup WHERE tier = 'hour'),
                             '-infinity')
        AND u.n > 0
      UNION ALL
      SELECT r.series, date_bin('1 hour', r.time, timestamptz 'epoch'), 1, r.value, r.value, r.value
      FROM pulse.metrics_raw r
      WHERE r.time >= coalesce((SELECT done_until FROM pulse.metric_rollup WHERE tier = 'minute'),
                               '-infinity')) t
JOIN pulse.metric_series s ON s.id = t.series
GROUP BY 1, 2, 3, 4, 5, 7;

CREATE OR REPLACE VIEW pulse.metrics_day AS
SELECT s.id AS series, s.resource_type, s.resource_id, s.resource_name, s.metric,
       'day'::text AS tier, m.t0 AS time,
       m.avg[1] AS value, m.avg[1] AS avg, m.min[1] AS min, m.max[1] AS max,
       m.n[1] AS samples
FROM pulse.metric_series s
JOIN pulse.metric_day m ON m.series = s.id
WHERE m.n[1] > 0
UNION ALL
SELECT s.id, s.resource_type, s.resource_id, s.resource_name, s.metric, 'day', t.time,
       sum(t.avg * t.n) / sum(t.n), sum(t.avg * t.n) / sum(t.n), min(t.min), max(t.max),
       sum(t.n)::integer
FROM (SELECT m.series, m.t0 AS time, u.n, u.avg, u.min, u.max     -- an hour window: one day
      FROM pulse.metric_hour m
      CROSS JOIN LATERAL unnest(m.n, m.avg, m.min, m.max) AS u(n, avg, min, max)
      WHERE m.t0 >= coalesce((SELECT done_until FROM pulse.metric_rollup WHERE tier = 'day'),
                             '-infinity')
        AND u.n > 0
      UNION ALL
      SELECT m.series, date_bin('1 day', m.t0, timestamptz 'epoch'), u.n, u.avg, u.min, u.max
      FROM pulse.metric_minute m
      CROSS JOIN LATERAL unnest(m.n, m.avg, m.min, m.max) AS u(n, avg, min, max)
      WHERE m.t0 >= coalesce((SELECT done_until FROM pulse.metric_rollup WHERE tier = 'hour'),
                             '-infinity')
        AND u.n > 0
      UNION ALL
      SELECT r.series, date_bin('1 day', r.time, timestamptz 'epoch'), 1, r.value, r.value, r.value
      FROM pulse.metrics_raw r
      WHERE r.time >= coalesce((SELECT done_until FROM pulse.metric_rollup WHERE tier = 'minute'),
                               '-infinity')) t
JOIN pulse.metric_series s ON s.id = t.series
GROUP BY 1, 2, 3, 4, 5, 7;

-- Partition upkeep as in 0006, but one span ahead of p_now rather than two: every partition
-- is one more relation for PostgreSQL to plan and open in every query of the views (an
-- empty one cost a tenth of a millisecond per query), and one span ahead is plenty, with
-- the workers running this every 10 minutes and the writers and the rollup creating any
-- partition they need before writing to it.
CREATE OR REPLACE FUNCTION pulse.metric_maintain(p_now timestamptz DEFAULT now())
    RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    tr pulse.metric_tiers;
    t timestamptz;
    keep_from timestamptz;
    rolled timestamptz;
    p record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('pulse.metric_partitions'));
    FOR tr IN SELECT * FROM pulse.metric_tiers ORDER BY ord LOOP
        t := date_bin(tr.span, p_now - tr.retention, timestamptz 'epoch');
        WHILE t <= p_now + tr.span LOOP
            PERFORM pulse.metric_partition_ensure(tr.tier, t);
            t := t + tr.span;
        END LOOP;
        keep_from := p_now - tr.retention;
        -- What the next tier has rolled up; the last tier has none.
        SELECT r.done_until INTO rolled FROM pulse.metric_tiers n
            JOIN pulse.metric_rollup r ON r.tier = n.tier WHERE n.ord = tr.ord + 1;
        IF FOUND THEN
            keep_from := least(keep_from, coalesce(rolled, '-infinity'));
        END IF;
        FOR p IN SELECT name FROM pulse.metric_partitions
                 WHERE tier = tr.tier AND hi <= keep_from ORDER BY lo LOOP
            EXECUTE format('DROP TABLE pulse.%I', p.name);
            DELETE FROM pulse.metric_partitions WHERE name = p.name;
            RETURN NEXT p.name;
        END LOOP;
    END LOOP;
    DELETE FROM pulse.metric_dirty d USING pulse.metric_tiers x
        WHERE d.tier = x.tier AND d.t0 < p_now - x.retention;
    UPDATE pulse.metric_jobs SET last_run = now() WHERE job = 'retention';
END
$$;
