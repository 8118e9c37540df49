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
-- multi-statement function would be called row by row, ten times slower). Exact for every
-- double, subnormals included.
CREATE FUNCTION pulse.metric_value(vals bytea, slot integer) RETURNS float8
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN slot < 0 OR octet_length(vals) < 8 * slot + 8 THEN NULL::float8
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
    END
$$;

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
