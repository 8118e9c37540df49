-- 0023_updates.sql: the server's own updates (metrics-reporting.md §6): the release feed's
-- answer cached per channel for every responder, the update status the UI follows, and the
-- update jobs, which are also the update history.

-- The last check of each channel: the answer of GET /api/updates/check as it was sent.
-- Responders answer from it for five minutes and /api/version reads updateAvailable from it.
CREATE TABLE pulse.update_checks (
    channel     text PRIMARY KEY CHECK (channel IN ('stable', 'rc')),
    checked_at  timestamptz NOT NULL DEFAULT now(),
    result      jsonb NOT NULL
);

-- One row: what /api/updates/status and /api/updates/stream report (§6.5).
CREATE TABLE pulse.update_status (
    id          int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    status      text NOT NULL DEFAULT 'idle',
    progress    int NOT NULL DEFAULT 0,
    message     text NOT NULL DEFAULT '',
    error       text,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO pulse.update_status (id) VALUES (1);

-- An update asked for through POST /api/updates/apply: queued by a responder, claimed and run
-- by one worker, kept as history (§6.7). At most one is in progress at a time.
CREATE TABLE pulse.update_jobs (
    event_id        text PRIMARY KEY,
    created_at      timestamptz NOT NULL DEFAULT now(),
    action          text NOT NULL DEFAULT 'update' CHECK (action IN ('update', 'rollback')),
    channel         text NOT NULL,
    version_from    text NOT NULL,
    version_to      text NOT NULL,
    deployment_type text NOT NULL,
    initiated_by    text NOT NULL CHECK (initiated_by IN ('user', 'auto', 'api')),
    initiated_via   text NOT NULL CHECK (initiated_via IN ('ui', 'api', 'cli', 'script', 'webhook')),
    download_url    text NOT NULL,
    status          text NOT NULL DEFAULT 'in_progress'
                    CHECK (status IN ('in_progress', 'success', 'failed', 'rolled_back', 'cancelled')),
    claimed_by      text,
    started_at      timestamptz,
    finished_at     timestamptz,
    duration_ms     bigint NOT NULL DEFAULT 0,
    download_bytes  bigint,
    log_path        text,
    error_message   text,
    error_code      text
);
CREATE UNIQUE INDEX update_jobs_one_in_progress ON pulse.update_jobs ((true))
    WHERE status = 'in_progress';
CREATE INDEX update_jobs_created ON pulse.update_jobs (created_at DESC);
