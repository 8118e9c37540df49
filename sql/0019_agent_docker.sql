-- 0019_agent_docker.sql: Docker hosts that report through a Docker agent (agents.md §4): the
-- host with its last report, its containers, its one command slot (§4.5) and the removal
-- blocks (§4.2, §4.7). Each report replaces a host and its containers in one transaction. The
-- responder stores; the worker evaluates (needs_eval), marks hosts offline after agents.md
-- §12's window and lets removal blocks lapse after 24 hours.
CREATE TABLE pulse.docker_hosts (
    id                  text PRIMARY KEY CHECK (id <> ''),
    -- 'agent' for reported hosts, 'mock' for mock mode's (as pulse.alerts.source).
    source              text NOT NULL DEFAULT 'agent' CHECK (source IN ('agent', 'mock')),
    mock                boolean NOT NULL GENERATED ALWAYS AS (source = 'mock') STORED,
    agent_id            text NOT NULL,                 -- agent.id, else the host id
    hostname            text NOT NULL,
    display_name        text NOT NULL,                 -- host.name, else the hostname
    custom_display_name text NOT NULL DEFAULT '',      -- PUT .../display-name; '' none
    machine_id          text NOT NULL DEFAULT '',
    runtime             text NOT NULL DEFAULT 'docker' CHECK (runtime IN ('docker', 'podman')),
    agent_version       text NOT NULL DEFAULT '',      -- "v" + the agent's version
    -- The API token the host reports with: one token serves one agent (agents.md §4.2); no
    -- foreign key, a revoked token leaves its host as it was.
    token_id            text,
    status              text NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'offline')),
    hidden              boolean NOT NULL DEFAULT false,
    pending_uninstall   boolean NOT NULL DEFAULT false,
    last_seen           timestamptz NOT NULL,          -- the report's timestamp (the original's lastSeen)
    received_at         timestamptz NOT NULL DEFAULT now(),
    interval_seconds    integer NOT NULL DEFAULT 0,
    cpu_usage           double precision NOT NULL DEFAULT 0,   -- percent
    memory_usage        double precision NOT NULL DEFAULT 0,   -- percent
    disk_usage          double precision,              -- percent of the first disk, NULL: none
    container_count     integer NOT NULL DEFAULT 0,
    report              json NOT NULL,                 -- the last report (containers bounded)
    doc                 json NOT NULL,                 -- the host as /api/state shows it, without
                                                       -- status, containers, command (joined)
    -- A report the worker has not evaluated yet (claimed FOR UPDATE SKIP LOCKED).
    needs_eval          boolean NOT NULL DEFAULT true
);
CREATE INDEX docker_hosts_token ON pulse.docker_hosts (token_id) WHERE token_id IS NOT NULL;
CREATE INDEX docker_hosts_agent ON pulse.docker_hosts (agent_id);
CREATE INDEX docker_hosts_needs_eval ON pulse.docker_hosts (received_at) WHERE needs_eval;

-- The containers of each host's last report; the block I/O rates come from the previous
-- report's counters, over the reports' own timestamps (agents.md §4.3).
CREATE TABLE pulse.docker_containers (
    host_id          text NOT NULL REFERENCES pulse.docker_hosts (id) ON DELETE CASCADE,
    id               text NOT NULL,                 -- the container id, else its name
    source           text NOT NULL DEFAULT 'agent' CHECK (source IN ('agent', 'mock')),
    mock             boolean NOT NULL GENERATED ALWAYS AS (source = 'mock') STORED,
    position         integer NOT NULL,              -- its place in the report
    name             text NOT NULL,
    image            text NOT NULL,
    state            text NOT NULL,                 -- running, exited, paused ...
    health           text NOT NULL DEFAULT '',
    cpu_percent      double precision NOT NULL DEFAULT 0,   -- may exceed 100 on several cores
    memory_percent   double precision NOT NULL DEFAULT 0,
    memory_bytes     bigint NOT NULL DEFAULT 0,
    memory_limit     bigint NOT NULL DEFAULT 0,
    restart_count    integer NOT NULL DEFAULT 0,
    sampled_at       timestamptz NOT NULL,          -- the report's timestamp
    block_read_total  numeric,                      -- cumulative bytes; NULL: not reported
    block_write_total numeric,
    block_read_rate   double precision,             -- bytes per second; NULL: no previous sample
    block_write_rate  double precision,
    doc              json NOT NULL,                 -- the DockerContainer of /api/state
    PRIMARY KEY (host_id, id)
);

-- One command slot per host (agents.md §4.5); the row stays after it ends, so the state shows
-- the last command's outcome.
CREATE TABLE pulse.docker_commands (
    host_id          text PRIMARY KEY REFERENCES pulse.docker_hosts (id) ON DELETE CASCADE,
    id               text NOT NULL UNIQUE,          -- a UUID, ":<containerId>" for an update
    type             text NOT NULL CHECK (type IN ('stop', 'update_container', 'check_updates')),
    status           text NOT NULL CHECK (status IN ('queued', 'dispatched', 'acknowledged',
                         'in_progress', 'completed', 'failed', 'expired')),
    message          text NOT NULL DEFAULT '',
    payload          json,                          -- what the agent is sent; NULL: none
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    dispatched_at    timestamptz,
    acknowledged_at  timestamptz,
    completed_at     timestamptz,
    failed_at        timestamptz,
    expires_at       timestamptz NOT NULL DEFAULT now() + interval '10 minutes',
    failure_reason   text NOT NULL DEFAULT ''
);

-- Docker hosts removed by an administrator: their reports are refused for 24 hours (agents.md
-- §4.2) and /api/state lists them as removedDockerHosts.
CREATE TABLE pulse.docker_removed_hosts (
    id           text PRIMARY KEY,
    source       text NOT NULL DEFAULT 'agent' CHECK (source IN ('agent', 'mock')),
    mock         boolean NOT NULL GENERATED ALWAYS AS (source = 'mock') STORED,
    hostname     text NOT NULL DEFAULT '',
    display_name text NOT NULL DEFAULT '',
    removed_at   timestamptz NOT NULL DEFAULT now()
);

-- A command's status object as the original shows it (DockerHostCommand: times in epoch ms,
-- optional members left out).
CREATE FUNCTION pulse.docker_command_doc(c pulse.docker_commands) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_strip_nulls(json_build_object(
        'id', c.id, 'type', c.type, 'status', c.status, 'message', nullif(c.message, ''),
        'createdAt', (extract(epoch FROM c.created_at) * 1000)::bigint,
        'updatedAt', (extract(epoch FROM c.updated_at) * 1000)::bigint,
        'dispatchedAt', (extract(epoch FROM c.dispatched_at) * 1000)::bigint,
        'acknowledgedAt', (extract(epoch FROM c.acknowledged_at) * 1000)::bigint,
        'completedAt', (extract(epoch FROM c.completed_at) * 1000)::bigint,
        'failedAt', (extract(epoch FROM c.failed_at) * 1000)::bigint,
        'failureReason', nullif(c.failure_reason, ''),
        'expiresAt', (extract(epoch FROM c.expires_at) * 1000)::bigint))
$$;

-- A Docker host as /api/state shows it (DockerHost): the stored document with the status the
-- worker keeps, the flags and name set through the management routes, the containers in the
-- report's order and the last command.
CREATE FUNCTION pulse.docker_host_doc(h pulse.docker_hosts) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT (h.doc::jsonb
        || jsonb_build_object('status', h.status, 'pendingUninstall', h.pending_uninstall,
               'containers', coalesce((SELECT jsonb_agg(c.doc::jsonb ORDER BY c.position)
                   FROM pulse.docker_containers c WHERE c.host_id = h.id), '[]'::jsonb))
        || CASE WHEN h.custom_display_name <> ''
               THEN jsonb_build_object('customDisplayName', h.custom_display_name)
               ELSE '{}'::jsonb END
        || coalesce((SELECT jsonb_build_object('command', pulse.docker_command_doc(c))
               FROM pulse.docker_commands c WHERE c.host_id = h.id), '{}'::jsonb))::json
$$;

COMMENT ON TABLE pulse.docker_hosts IS 'Docker hosts reporting through a Docker agent (POST /api/agents/docker/report), with their last report.';
COMMENT ON TABLE pulse.docker_containers IS 'The containers of each Docker host''s last report.';
COMMENT ON TABLE pulse.docker_commands IS 'The one command slot of each Docker host (stop, update_container, check_updates).';
COMMENT ON TABLE pulse.docker_removed_hosts IS 'Removed Docker hosts: reports refused for 24 hours; removedDockerHosts in /api/state.';
COMMENT ON COLUMN pulse.docker_hosts.mock IS 'true for rows of the mock estate (mock mode), false for reported ones';
