-- 0005_details.sql: more of a PVE instance's live state: physical disks, Ceph clusters and
-- replication jobs. UNLOGGED like the rest of the live state, replaced with the instance's
-- other rows in one transaction, `doc` the /api/state object.

CREATE UNLOGGED TABLE pulse.physical_disks (
    id           text PRIMARY KEY,          -- {instance}-{node}-{devpath with / as -}
    instance_id  text NOT NULL,
    node         text NOT NULL,
    dev_path     text NOT NULL,
    model        text NOT NULL DEFAULT '',
    serial       text NOT NULL DEFAULT '',
    type         text NOT NULL DEFAULT '',  -- nvme, ssd, hdd, ...
    size         bigint NOT NULL DEFAULT 0,
    health       text NOT NULL DEFAULT '',  -- PASSED, FAILED, UNKNOWN, OK
    wearout      integer NOT NULL DEFAULT -1, -- percent of life left; -1 unknown
    doc          json NOT NULL
);
CREATE INDEX physical_disks_instance ON pulse.physical_disks (instance_id);

CREATE UNLOGGED TABLE pulse.ceph_clusters (
    id           text PRIMARY KEY,          -- {instance}-{fsid}
    instance_id  text NOT NULL,
    fsid         text NOT NULL DEFAULT '',
    health       text NOT NULL,             -- HEALTH_OK, HEALTH_WARN, HEALTH_ERR
    total_bytes  bigint NOT NULL DEFAULT 0,
    used_bytes   bigint NOT NULL DEFAULT 0,
    num_osds     integer NOT NULL DEFAULT 0,
    num_osds_up  integer NOT NULL DEFAULT 0,
    doc          json NOT NULL
);
CREATE INDEX ceph_clusters_instance ON pulse.ceph_clusters (instance_id);

CREATE UNLOGGED TABLE pulse.replication_jobs (
    id           text PRIMARY KEY,          -- {instance}-{jobId}
    instance_id  text NOT NULL,
    job_id       text NOT NULL,
    guest_id     integer,
    source_node  text NOT NULL DEFAULT '',
    target_node  text NOT NULL DEFAULT '',
    state        text NOT NULL DEFAULT '',
    last_sync    timestamptz,
    next_sync    timestamptz,
    fail_count   integer NOT NULL DEFAULT 0,
    error        text NOT NULL DEFAULT '',
    sort_key     integer NOT NULL,          -- the original's order within the instance
    doc          json NOT NULL
);
CREATE INDEX replication_jobs_instance ON pulse.replication_jobs (instance_id);

CREATE VIEW pulse.v_physical_disks AS
    SELECT d.id, d.instance_id, i.name AS instance, d.node, d.dev_path, d.model, d.serial, d.type,
           d.size, d.health, NULLIF(d.wearout, -1) AS wearout
    FROM pulse.physical_disks d JOIN pulse.instances i ON i.id = d.instance_id;

CREATE VIEW pulse.v_replication_jobs AS
    SELECT r.id, r.instance_id, i.name AS instance, r.job_id, r.guest_id, r.source_node,
           r.target_node, r.state, r.last_sync, r.next_sync, r.fail_count, r.error
    FROM pulse.replication_jobs r JOIN pulse.instances i ON i.id = r.instance_id;

COMMENT ON VIEW pulse.v_physical_disks IS 'Physical disks of PVE nodes; wearout is percent of life left (NULL unknown).';
COMMENT ON VIEW pulse.v_replication_jobs IS 'Storage replication jobs of PVE clusters with their last and next sync.';
