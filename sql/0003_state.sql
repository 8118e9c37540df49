-- 0003_state.sql: monitored instances (node configuration), their poll status, and the live
-- state the workers write: PVE nodes, guests, storage, connection health. Each entity has
-- relational columns for SQL users and `doc`, the exact JSON object /api/state serves for it,
-- written by the same code that fills the columns.

-- Configured Proxmox VE / Backup Server / Mail Gateway connections. Ids look like the
-- original's ("pve-3") but the number is never reused, so an id stays valid after deletes.
CREATE SEQUENCE pulse.instance_number;

CREATE TABLE pulse.instances (
    id                  text PRIMARY KEY,
    type                text NOT NULL CHECK (type IN ('pve', 'pbs', 'pmg')),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    host                text NOT NULL,
    guest_url           text NOT NULL DEFAULT '',
    username            text NOT NULL DEFAULT '',
    password_enc        text,               -- secrets envelope (enc:v1:...), never clear
    token_name          text NOT NULL DEFAULT '',
    token_value_enc     text,               -- secrets envelope
    fingerprint         text NOT NULL DEFAULT '',
    verify_ssl          boolean NOT NULL DEFAULT true,
    monitor_vms         boolean NOT NULL DEFAULT true,
    monitor_containers  boolean NOT NULL DEFAULT true,
    monitor_storage     boolean NOT NULL DEFAULT true,
    monitor_backups     boolean NOT NULL DEFAULT true,
    monitor_physical_disks boolean,         -- NULL: enabled
    physical_disk_polling_minutes integer NOT NULL DEFAULT 0,
    temperature_monitoring_enabled boolean, -- NULL: the global setting
    monitor_datastores  boolean NOT NULL DEFAULT false,
    monitor_sync_jobs   boolean NOT NULL DEFAULT false,
    monitor_verify_jobs boolean NOT NULL DEFAULT false,
    monitor_prune_jobs  boolean NOT NULL DEFAULT false,
    monitor_garbage_jobs boolean NOT NULL DEFAULT false,
    monitor_mail_stats  boolean NOT NULL DEFAULT true,
    monitor_queues      boolean NOT NULL DEFAULT false,
    monitor_quarantine  boolean NOT NULL DEFAULT false,
    monitor_domain_stats boolean NOT NULL DEFAULT false,
    is_cluster          boolean NOT NULL DEFAULT false,
    cluster_name        text NOT NULL DEFAULT '',
    cluster_endpoints   jsonb NOT NULL DEFAULT '[]',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (type, host)
);
COMMENT ON TABLE pulse.instances IS
    'Configured PVE/PBS/PMG connections; passwords and token secrets only in the secrets envelope.';

-- What the worker polling an instance last saw (scheduler health reads it).
CREATE TABLE pulse.poll_status (
    instance_id          text PRIMARY KEY REFERENCES pulse.instances (id) ON DELETE CASCADE,
    worker_id            text NOT NULL DEFAULT '',
    last_attempt         timestamptz,
    last_success         timestamptz,
    last_error_at        timestamptz,
    last_error           text NOT NULL DEFAULT '',
    error_category       text NOT NULL DEFAULT '',
    consecutive_failures integer NOT NULL DEFAULT 0,
    first_failure_at     timestamptz,
    breaker_state        text NOT NULL DEFAULT 'closed',
    breaker_since        timestamptz,
    retry_at             timestamptz,
    last_duration_ms     double precision,
    connected            boolean NOT NULL DEFAULT false
);

-- Live state. instance_id 'mock' holds the mock estate; everything of one instance is
-- replaced in one transaction per poll.
CREATE UNLOGGED TABLE pulse.pve_nodes (
    id           text PRIMARY KEY,
    instance_id  text NOT NULL,
    node         text NOT NULL,
    status       text NOT NULL,
    cpu          double precision NOT NULL DEFAULT 0,
    mem_total    bigint NOT NULL DEFAULT 0,
    mem_used     bigint NOT NULL DEFAULT 0,
    disk_total   bigint NOT NULL DEFAULT 0,
    disk_used    bigint NOT NULL DEFAULT 0,
    uptime       bigint NOT NULL DEFAULT 0,
    last_seen    timestamptz NOT NULL,
    doc          json NOT NULL
);
CREATE INDEX pve_nodes_instance ON pulse.pve_nodes (instance_id);

CREATE UNLOGGED TABLE pulse.guests (
    id           text PRIMARY KEY,
    instance_id  text NOT NULL,
    node         text NOT NULL,
    vmid         integer NOT NULL,
    name         text NOT NULL,
    type         text NOT NULL CHECK (type IN ('qemu', 'lxc', 'oci')),
    status       text NOT NULL,
    cpu          double precision NOT NULL DEFAULT 0,
    cpus         integer NOT NULL DEFAULT 0,
    mem_total    bigint NOT NULL DEFAULT 0,
    mem_used     bigint NOT NULL DEFAULT 0,
    disk_total   bigint NOT NULL DEFAULT 0,
    disk_used    bigint NOT NULL DEFAULT 0,
    disk_usage   double precision NOT NULL DEFAULT 0,
    net_in       bigint NOT NULL DEFAULT 0,
    net_out      bigint NOT NULL DEFAULT 0,
    disk_read    bigint NOT NULL DEFAULT 0,
    disk_write   bigint NOT NULL DEFAULT 0,
    uptime       bigint NOT NULL DEFAULT 0,
    tags         text NOT NULL DEFAULT '',
    last_seen    timestamptz NOT NULL,
    doc          json NOT NULL
);
CREATE INDEX guests_instance ON pulse.guests (instance_id);
CREATE INDEX guests_vmid ON pulse.guests (vmid);

CREATE UNLOGGED TABLE pulse.storage (
    id           text PRIMARY KEY,
    instance_id  text NOT NULL,
    node         text NOT NULL,
    name         text NOT NULL,
    type         text NOT NULL,
    status       text NOT NULL,
    total        bigint NOT NULL DEFAULT 0,
    used         bigint NOT NULL DEFAULT 0,
    avail        bigint NOT NULL DEFAULT 0,
    shared       boolean NOT NULL DEFAULT false,
    content      text NOT NULL DEFAULT '',
    sort_instance text NOT NULL DEFAULT '',
    doc          json NOT NULL,
    detail       json NOT NULL            -- the /api/storage/{id} object (with zfsPool)
);
CREATE INDEX storage_instance ON pulse.storage (instance_id);

-- Backups (state-proxmox.md §1.12): vzdump tasks, backup volumes on storage, snapshots.
CREATE UNLOGGED TABLE pulse.backup_tasks (
    id           text PRIMARY KEY,
    instance_id  text NOT NULL,
    node         text NOT NULL,
    vmid         integer NOT NULL,
    status       text NOT NULL,
    start_time   timestamptz,
    end_time     timestamptz,
    doc          json NOT NULL
);
CREATE INDEX backup_tasks_instance ON pulse.backup_tasks (instance_id);

CREATE UNLOGGED TABLE pulse.storage_backups (
    id           text PRIMARY KEY,
    instance_id  text NOT NULL,
    node         text NOT NULL,
    storage      text NOT NULL,
    vmid         integer NOT NULL,
    type         text NOT NULL,
    ctime        timestamptz NOT NULL,
    size         bigint NOT NULL,
    volid        text NOT NULL,
    doc          json NOT NULL
);
CREATE INDEX storage_backups_instance ON pulse.storage_backups (instance_id);
CREATE INDEX storage_backups_vmid ON pulse.storage_backups (vmid, ctime DESC);

CREATE UNLOGGED TABLE pulse.guest_snapshots (
    id           text PRIMARY KEY,
    instance_id  text NOT NULL,
    node         text NOT NULL,
    vmid         integer NOT NULL,
    name         text NOT NULL,
    snaptime     timestamptz NOT NULL,
    doc          json NOT NULL
);
CREATE INDEX guest_snapshots_instance ON pulse.guest_snapshots (instance_id);

-- connectionHealth of /api/state: key -> usable.
CREATE UNLOGGED TABLE pulse.connection_health (
    key          text PRIMARY KEY,
    instance_id  text NOT NULL,
    healthy      boolean NOT NULL
);
CREATE INDEX connection_health_instance ON pulse.connection_health (instance_id);

-- One row: bumped by every state write; /api/state is rebuilt when it moves.
CREATE TABLE pulse.state_version (
    id          integer PRIMARY KEY CHECK (id = 1),
    version     bigint NOT NULL,
    updated_at  timestamptz NOT NULL
);
INSERT INTO pulse.state_version VALUES (1, 1, now());

-- Mock mode: the generated estate instead of real state in /api/state. source: 'initial'
-- (never set), 'auto' (a demo installation: on until a real node is added) or 'api'
-- (switched through the API).
CREATE TABLE pulse.mock_mode (
    id          integer PRIMARY KEY CHECK (id = 1),
    enabled     boolean NOT NULL,
    source      text NOT NULL DEFAULT 'initial' CHECK (source IN ('initial', 'auto', 'api')),
    config      jsonb NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO pulse.mock_mode VALUES (1, false, 'initial', '{}', now());

-- A config change makes the workers look at once (NOTIFY pulse_config).
CREATE FUNCTION pulse.notify_config_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pulse_config', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER instances_changed AFTER INSERT OR UPDATE OR DELETE ON pulse.instances
    FOR EACH STATEMENT EXECUTE FUNCTION pulse.notify_config_change();
CREATE TRIGGER mock_mode_changed AFTER INSERT OR UPDATE ON pulse.mock_mode
    FOR EACH STATEMENT EXECUTE FUNCTION pulse.notify_config_change();

-- Views for SQL users: plain columns, readable names.
CREATE VIEW pulse.v_nodes AS
    SELECT n.id, n.instance_id, i.name AS instance, n.node, n.status, n.cpu * 100 AS cpu_percent,
           n.mem_used, n.mem_total,
           CASE WHEN n.mem_total > 0 THEN n.mem_used * 100.0 / n.mem_total END AS mem_percent,
           n.disk_used, n.disk_total, n.uptime, n.last_seen
    FROM pulse.pve_nodes n LEFT JOIN pulse.instances i ON i.id = n.instance_id;

CREATE VIEW pulse.v_guests AS
    SELECT g.id, g.instance_id, i.name AS instance, g.node, g.vmid, g.name, g.type, g.status,
           g.cpu * 100 AS cpu_percent, g.cpus, g.mem_used, g.mem_total,
           CASE WHEN g.mem_total > 0 THEN g.mem_used * 100.0 / g.mem_total END AS mem_percent,
           g.disk_used, g.disk_total, NULLIF(g.disk_usage, -1) AS disk_percent,
           g.net_in AS net_in_bps, g.net_out AS net_out_bps, g.disk_read AS disk_read_bps,
           g.disk_write AS disk_write_bps, g.uptime, g.tags, g.last_seen
    FROM pulse.guests g LEFT JOIN pulse.instances i ON i.id = g.instance_id;

CREATE VIEW pulse.v_storage AS
    SELECT s.id, s.instance_id, i.name AS instance, s.node, s.name, s.type, s.status,
           s.used, s.total, s.avail,
           CASE WHEN s.total > 0 THEN s.used * 100.0 / s.total END AS used_percent,
           s.shared, s.content
    FROM pulse.storage s LEFT JOIN pulse.instances i ON i.id = s.instance_id;

COMMENT ON VIEW pulse.v_nodes IS 'PVE nodes now: one row per node, percentages 0..100.';
COMMENT ON VIEW pulse.v_guests IS 'VMs and containers now; rates in bytes per second; disk_percent NULL when unknown.';
COMMENT ON VIEW pulse.v_storage IS 'Storage now, per node (shared storage once per node reporting it).';
