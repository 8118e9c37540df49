-- 0004_servers.sql: live state of Proxmox Backup Server and Mail Gateway instances: the
-- instance itself, PBS datastores and backup snapshots, PMG cluster nodes and configuration
-- backups. Like the PVE state: UNLOGGED (refilled by the next poll after a crash), replaced
-- per instance in one transaction, `doc` holding the exact /api/state JSON object. The mock
-- estate uses instance ids starting with 'mock' ("mock", "mock-pbs-main", ...); the views
-- show configured instances only.

CREATE OR REPLACE VIEW pulse.v_nodes AS
    SELECT n.id, n.instance_id, i.name AS instance, n.node, n.status, n.cpu * 100 AS cpu_percent,
           n.mem_used, n.mem_total,
           CASE WHEN n.mem_total > 0 THEN n.mem_used * 100.0 / n.mem_total END AS mem_percent,
           n.disk_used, n.disk_total, n.uptime, n.last_seen
    FROM pulse.pve_nodes n JOIN pulse.instances i ON i.id = n.instance_id;

CREATE OR REPLACE VIEW pulse.v_guests AS
    SELECT g.id, g.instance_id, i.name AS instance, g.node, g.vmid, g.name, g.type, g.status,
           g.cpu * 100 AS cpu_percent, g.cpus, g.mem_used, g.mem_total,
           CASE WHEN g.mem_total > 0 THEN g.mem_used * 100.0 / g.mem_total END AS mem_percent,
           g.disk_used, g.disk_total, NULLIF(g.disk_usage, -1) AS disk_percent,
           g.net_in AS net_in_bps, g.net_out AS net_out_bps, g.disk_read AS disk_read_bps,
           g.disk_write AS disk_write_bps, g.uptime, g.tags, g.last_seen
    FROM pulse.guests g JOIN pulse.instances i ON i.id = g.instance_id;

CREATE OR REPLACE VIEW pulse.v_storage AS
    SELECT s.id, s.instance_id, i.name AS instance, s.node, s.name, s.type, s.status,
           s.used, s.total, s.avail,
           CASE WHEN s.total > 0 THEN s.used * 100.0 / s.total END AS used_percent,
           s.shared, s.content
    FROM pulse.storage s JOIN pulse.instances i ON i.id = s.instance_id;

CREATE UNLOGGED TABLE pulse.pbs_instances (
    instance_id       text PRIMARY KEY,
    name              text NOT NULL,
    status            text NOT NULL,             -- online, offline
    version           text NOT NULL DEFAULT '',
    cpu               double precision NOT NULL DEFAULT 0,   -- fraction as PBS reports it
    mem_used          bigint NOT NULL DEFAULT 0,
    mem_total         bigint NOT NULL DEFAULT 0,
    uptime            bigint NOT NULL DEFAULT 0,
    connection_health text NOT NULL,             -- healthy, unhealthy, error
    last_seen         timestamptz NOT NULL,
    doc               json NOT NULL
);

CREATE UNLOGGED TABLE pulse.pbs_datastores (
    id                text PRIMARY KEY,          -- pbs-{instance name}-{datastore}
    instance_id       text NOT NULL,
    name              text NOT NULL,
    status            text NOT NULL,
    total             bigint NOT NULL DEFAULT 0,
    used              bigint NOT NULL DEFAULT 0,
    avail             bigint NOT NULL DEFAULT 0,
    dedup_factor      double precision,          -- NULL: unknown
    error             text NOT NULL DEFAULT ''
);
CREATE INDEX pbs_datastores_instance ON pulse.pbs_datastores (instance_id);

CREATE UNLOGGED TABLE pulse.pbs_backups (
    id                text PRIMARY KEY,
    instance_id       text NOT NULL,
    datastore         text NOT NULL,
    namespace         text NOT NULL DEFAULT '',  -- '' is the root namespace
    backup_type       text NOT NULL,             -- vm, ct, host
    backup_id         text NOT NULL,             -- the VMID for vm and ct
    backup_time       timestamptz NOT NULL,
    size              bigint NOT NULL DEFAULT 0,
    protected         boolean NOT NULL DEFAULT false,
    verified          boolean NOT NULL DEFAULT false,
    owner             text NOT NULL DEFAULT '',
    doc               json NOT NULL
);
CREATE INDEX pbs_backups_instance ON pulse.pbs_backups (instance_id);
CREATE INDEX pbs_backups_guest ON pulse.pbs_backups (backup_id, backup_time DESC);

CREATE UNLOGGED TABLE pulse.pmg_instances (
    instance_id       text PRIMARY KEY,
    name              text NOT NULL,
    status            text NOT NULL,
    version           text NOT NULL DEFAULT '',
    connection_health text NOT NULL,
    mail_in           double precision,          -- mail statistics of the last day; NULL
    mail_out          double precision,          -- when they could not be read
    spam_in           double precision,
    virus_in          double precision,
    quarantine_spam   integer,
    quarantine_virus  integer,
    last_seen         timestamptz NOT NULL,
    doc               json NOT NULL
);

CREATE UNLOGGED TABLE pulse.pmg_nodes (
    instance_id       text NOT NULL,
    name              text NOT NULL,
    status            text NOT NULL,
    role              text NOT NULL DEFAULT '',
    queue_active      integer,                   -- NULL: queue not read
    queue_deferred    integer,
    queue_hold        integer,
    queue_incoming    integer,
    queue_total       integer,
    queue_oldest_age  bigint,                    -- seconds
    PRIMARY KEY (instance_id, name)
);

CREATE UNLOGGED TABLE pulse.pmg_backups (
    id                text PRIMARY KEY,          -- pmg-{instance}-{node}-{unix time}
    instance_id       text NOT NULL,
    node              text NOT NULL,
    filename          text NOT NULL,
    backup_time       timestamptz NOT NULL,
    size              bigint NOT NULL DEFAULT 0,
    doc               json NOT NULL
);
CREATE INDEX pmg_backups_instance ON pulse.pmg_backups (instance_id);

CREATE VIEW pulse.v_pbs_datastores AS
    SELECT d.id, d.instance_id, i.name AS instance, d.name, d.status, d.used, d.total, d.avail,
           CASE WHEN d.total > 0 THEN d.used * 100.0 / d.total END AS used_percent,
           d.dedup_factor, d.error
    FROM pulse.pbs_datastores d JOIN pulse.instances i ON i.id = d.instance_id;

CREATE VIEW pulse.v_pbs_backups AS
    SELECT b.instance_id, i.name AS instance, b.datastore, b.namespace, b.backup_type,
           b.backup_id, b.backup_time, b.size, b.protected, b.verified, b.owner
    FROM pulse.pbs_backups b JOIN pulse.instances i ON i.id = b.instance_id;

CREATE VIEW pulse.v_pmg_queues AS
    SELECT n.instance_id, i.name AS instance, n.name AS node, n.status, n.role,
           n.queue_active, n.queue_deferred, n.queue_hold, n.queue_incoming, n.queue_total,
           n.queue_oldest_age
    FROM pulse.pmg_nodes n JOIN pulse.instances i ON i.id = n.instance_id;

COMMENT ON VIEW pulse.v_pbs_datastores IS 'PBS datastores now; used_percent 0..100, NULL without a total.';
COMMENT ON VIEW pulse.v_pbs_backups IS 'Backup snapshots on PBS datastores; backup_id is the VMID for vm and ct backups.';
COMMENT ON VIEW pulse.v_pmg_queues IS 'Postfix queues of each PMG node; NULL where the queue could not be read.';

-- How each endpoint of a PVE cluster answers the worker polling it (the node configuration
-- API shows it as PulseReachable / LastPulseCheck / PulseError).
CREATE TABLE pulse.endpoint_health (
    instance_id       text NOT NULL REFERENCES pulse.instances (id) ON DELETE CASCADE,
    url               text NOT NULL,
    node_name         text NOT NULL DEFAULT '',  -- '' for the configured host
    reachable         boolean NOT NULL,
    last_check        timestamptz,
    error             text NOT NULL DEFAULT '',
    PRIMARY KEY (instance_id, url)
);
