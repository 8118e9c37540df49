-- 0016_agent_hosts.sql: hosts that report through a host agent (agents.md §3), one row each,
-- replaced whole by each report in one transaction. The responder stores; the worker
-- evaluates (needs_eval) and marks hosts offline after agents.md §12's window.
CREATE TABLE pulse.agent_hosts (
    id               text PRIMARY KEY CHECK (id <> ''),
    -- 'agent' for reported hosts, 'mock' for mock mode's (as pulse.alerts.source).
    source           text NOT NULL DEFAULT 'agent' CHECK (source IN ('agent', 'mock')),
    mock             boolean NOT NULL GENERATED ALWAYS AS (source = 'mock') STORED,
    hostname         text NOT NULL,
    display_name     text NOT NULL,
    platform         text NOT NULL DEFAULT '',
    os_name          text NOT NULL DEFAULT '',
    os_version       text NOT NULL DEFAULT '',
    agent_version    text NOT NULL DEFAULT '',
    -- The API token the host reported with (agents.md §3.2 token binding); no foreign key:
    -- a revoked token leaves its hosts as they were.
    token_id         text,
    status           text NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'offline')),
    last_seen        timestamptz NOT NULL,          -- the report's timestamp (the original's lastSeen)
    received_at      timestamptz NOT NULL DEFAULT now(),  -- when the server stored it
    interval_seconds integer NOT NULL DEFAULT 0,
    cpu_usage        double precision NOT NULL DEFAULT 0,    -- percent
    memory_usage     double precision NOT NULL DEFAULT 0,    -- percent
    disk_usage       double precision,              -- percent of "/" (else the first disk), NULL: none
    -- The report's cumulative counters summed (network without lo; diskIO), and the rates
    -- from the previous report in bytes per second (NULL: no previous report, or a counter
    -- went back: a reboot).
    net_in_total     numeric NOT NULL DEFAULT 0,
    net_out_total    numeric NOT NULL DEFAULT 0,
    disk_read_total  numeric NOT NULL DEFAULT 0,
    disk_write_total numeric NOT NULL DEFAULT 0,
    net_in_rate      double precision,
    net_out_rate     double precision,
    disk_read_rate   double precision,
    disk_write_rate  double precision,
    -- The server-side commandsEnabled override (agents.md §6.5), NULL when none.
    commands_enabled boolean,
    -- Set by POST /api/agents/host/unlink: the next reports do not link the host again.
    unlinked         boolean NOT NULL DEFAULT false,
    report           json NOT NULL,                 -- the last report, disks filtered
    doc              json NOT NULL,                 -- the host as /api/state shows it
    -- A report the worker has not evaluated yet (claimed FOR UPDATE SKIP LOCKED).
    needs_eval       boolean NOT NULL DEFAULT true
);
CREATE INDEX agent_hosts_binding ON pulse.agent_hosts (token_id, hostname);
CREATE INDEX agent_hosts_needs_eval ON pulse.agent_hosts (received_at) WHERE needs_eval;

COMMENT ON TABLE pulse.agent_hosts IS 'Hosts reporting through a host agent (POST /api/agents/host/report), with their last report.';
COMMENT ON COLUMN pulse.agent_hosts.mock IS 'true for rows of the mock estate (mock mode), false for reported ones';
