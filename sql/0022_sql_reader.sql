-- 0022_sql_reader.sql: read-only SQL access for DBAs and Grafana (issue 17, part 7).
--
-- pulse_reader is a NOLOGIN role that a DBA grants to login roles: USAGE on the schema and
-- SELECT on the documented views (live state, metrics tiers, backups, alerts), nothing else.
-- The views run with their owner's rights, so the tables behind them stay closed: tokens,
-- sessions, users, secrets, queue rows and audit keys are never readable by it. Nothing here
-- grants on ALL TABLES, and no default privileges grant anything, so a table or view added
-- later is closed to pulse_reader until a migration names it (t/api/85 checks every relation
-- of the schema).
--
-- Roles belong to the cluster, not to the database: the role is created only when it is
-- missing and the migrating role may create roles (a superuser, or CREATEROLE). Otherwise a
-- DBA creates it and runs SELECT pulse.reader_grant() (docs/SQL.md).

-- Views over tables the documentation named without one.
CREATE VIEW pulse.v_instances AS
    SELECT i.id AS instance_id, i.name AS instance, i.type, i.host,
           p.last_attempt, p.last_success, p.last_error_at, p.last_error,
           p.consecutive_failures, p.breaker_state, p.connected
    FROM pulse.instances i LEFT JOIN pulse.poll_status p ON p.instance_id = i.id;

CREATE VIEW pulse.v_backup_tasks AS
    SELECT t.id, t.instance_id, i.name AS instance, t.node, t.vmid, t.status, t.start_time,
           t.end_time, extract(epoch FROM t.end_time - t.start_time) AS duration_seconds
    FROM pulse.backup_tasks t JOIN pulse.instances i ON i.id = t.instance_id;

CREATE VIEW pulse.v_storage_backups AS
    SELECT b.id, b.instance_id, i.name AS instance, b.node, b.storage, b.vmid, b.type,
           b.ctime, b.size, b.volid
    FROM pulse.storage_backups b JOIN pulse.instances i ON i.id = b.instance_id;

CREATE VIEW pulse.v_guest_snapshots AS
    SELECT s.id, s.instance_id, i.name AS instance, s.node, s.vmid, s.name, s.snaptime
    FROM pulse.guest_snapshots s JOIN pulse.instances i ON i.id = s.instance_id;

CREATE VIEW pulse.v_pmg_backups AS
    SELECT b.id, b.instance_id, i.name AS instance, b.node, b.filename, b.backup_time, b.size
    FROM pulse.pmg_backups b JOIN pulse.instances i ON i.id = b.instance_id;

-- Every backup of a guest, wherever it lies: backup volumes on PVE storage and VM or
-- container snapshots on a PBS datastore (whose backup_id is the VMID).
CREATE VIEW pulse.v_guest_backups AS
    SELECT b.instance, 'pve'::text AS source, b.storage AS location, b.vmid,
           CASE b.type WHEN 'qemu' THEN 'vm' WHEN 'lxc' THEN 'ct' ELSE b.type END AS guest_type,
           b.ctime AS backup_time, b.size, NULL::boolean AS verified
    FROM pulse.v_storage_backups b
    UNION ALL
    SELECT p.instance, 'pbs', p.datastore,
           CASE WHEN p.backup_id ~ '^[0-9]{1,9}$' THEN p.backup_id::integer END, p.backup_type,
           p.backup_time,
           p.size, p.verified
    FROM pulse.v_pbs_backups p
    WHERE p.backup_type IN ('vm', 'ct') AND p.backup_id ~ '^[0-9]{1,9}$';

CREATE VIEW pulse.v_alert_history AS
    SELECT h.seq, h.alert_id, h.recorded_at, h.level, h.resource_id, h.start_time,
           h.alert->>'type' AS type, h.alert->>'resourceName' AS resource_name,
           h.alert->>'node' AS node, h.alert->>'instance' AS instance,
           h.alert->>'message' AS message
    FROM pulse.alert_history h;

CREATE VIEW pulse.v_metric_tiers AS
    SELECT tier, ord, bucket, retention FROM pulse.metric_tiers;

-- The tier a history query from p_from to now reads: the finest whose retention still holds
-- p_from (what the API's charts do), else the day tier. For Grafana panels:
-- tier = pulse.metric_tier_for($__timeFrom()).
CREATE FUNCTION pulse.metric_tier_for(p_from timestamptz) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT tier FROM pulse.v_metric_tiers
                     WHERE p_from >= now() - retention ORDER BY ord LIMIT 1), 'day')
$$;

COMMENT ON VIEW pulse.v_instances IS 'Configured PVE/PBS/PMG connections and how their polling goes; no credentials.';
COMMENT ON VIEW pulse.v_guest_backups IS 'Guest backups on PVE storage and on PBS datastores, one row per backup.';
COMMENT ON VIEW pulse.v_alert_history IS 'Alerts as they were raised, newest last (pulse.alert_history).';

-- The grants, in a function so that a DBA who creates the role after this migration can
-- apply them: SELECT pulse.reader_grant(). Does nothing while the role is missing.
CREATE FUNCTION pulse.reader_grant() RETURNS boolean
    LANGUAGE plpgsql AS $$
DECLARE
    v text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pulse_reader') THEN
        RETURN false;
    END IF;
    GRANT USAGE ON SCHEMA pulse TO pulse_reader;
    FOREACH v IN ARRAY ARRAY[
        -- live state
        'v_instances', 'v_nodes', 'v_guests', 'v_storage', 'v_physical_disks',
        'v_replication_jobs', 'v_pbs_datastores', 'v_pmg_queues',
        -- backups
        'v_backup_tasks', 'v_storage_backups', 'v_guest_snapshots', 'v_pbs_backups',
        'v_pmg_backups', 'v_guest_backups',
        -- metrics tiers
        'metrics', 'metrics_raw', 'metrics_minute', 'metrics_hour', 'metrics_day',
        'v_metric_tiers',
        -- alerts
        'active_alerts', 'v_alert_history'] LOOP
        EXECUTE format('GRANT SELECT ON pulse.%I TO pulse_reader', v);
    END LOOP;
    RETURN true;
END $$;
REVOKE EXECUTE ON FUNCTION pulse.reader_grant() FROM PUBLIC;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pulse_reader') THEN
        IF (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
            CREATE ROLE pulse_reader NOLOGIN;
        ELSE
            RAISE NOTICE 'role pulse_reader is missing and % may not create it: a DBA runs CREATE ROLE pulse_reader NOLOGIN, then SELECT pulse.reader_grant() in this database',
                current_user;
        END IF;
    END IF;
    PERFORM pulse.reader_grant();
END $$;
