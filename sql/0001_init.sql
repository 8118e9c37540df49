-- 0001_init.sql: worker heartbeats.
-- The schema "pulse" and pulse.schema_migrations are created by the migration runner
-- itself (pulse-worker --migrate) before the first file runs.

CREATE TABLE pulse.workers (
    id          text PRIMARY KEY,
    host        text NOT NULL,
    pid         integer NOT NULL,
    version     text NOT NULL,
    started_at  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    stopped_at  timestamptz
);

COMMENT ON TABLE pulse.workers IS
    'One row per pulse-worker process: written by its heartbeat job, read by scheduler health.';
COMMENT ON COLUMN pulse.workers.stopped_at IS
    'Set when the worker stopped cleanly; NULL while running or after a crash.';

CREATE INDEX workers_last_seen ON pulse.workers (last_seen);
