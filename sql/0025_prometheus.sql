-- 0025_prometheus.sql: what every responder and worker publishes for GET /metrics
-- (metrics-reporting.md §7): each process counts in memory and adds what it counted since
-- its last flush to its own rows here every prom_flush_interval seconds; the endpoint sums
-- the rows of every process, live or gone, so that a counter never goes backwards.
-- UNLOGGED: after a PostgreSQL crash the counters start again from zero, which Prometheus
-- reads as a counter reset (rate() handles it).

-- One row per publishing process; seen_at moves at every flush. A process unseen for five
-- minutes is gone: its counters are folded into the rows of process '' and its absolute
-- values (gauges, process_*) dropped.
CREATE UNLOGGED TABLE pulse.prom_processes (
    process     text PRIMARY KEY,       -- "pulse-fcgi@host:pid", "pulse-worker@host:pid"
    program     text NOT NULL,
    started_at  timestamptz NOT NULL,
    seen_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per process and series. labels is the series' label set as written in the
-- exposition format (values escaped), without le; le is the upper bound of a histogram
-- bucket ('Infinity' for +Inf), -1 for a series that is not a bucket. absolute: the value
-- replaces the stored one (a gauge, a process_* figure) and counts only while the process
-- is alive; otherwise the flush adds to it.
CREATE UNLOGGED TABLE pulse.prom_series (
    process     text NOT NULL,
    name        text NOT NULL,
    labels      text NOT NULL DEFAULT '',
    le          double precision NOT NULL DEFAULT -1,
    value       double precision NOT NULL,
    absolute    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (process, name, labels, le)
);
COMMENT ON TABLE pulse.prom_series IS
    'Prometheus counters and histograms of every responder and worker, summed by GET /metrics.';

-- The time of each guest's newest backup as a column (also in doc as lastBackup), so that a
-- scrape of thousands of guests reads it without parsing every document. NULL: none known.
ALTER TABLE pulse.guests ADD COLUMN last_backup timestamptz;
UPDATE pulse.guests SET last_backup = to_timestamp((doc->>'lastBackup')::bigint / 1000.0)
    WHERE (doc->>'lastBackup')::bigint > 0;
