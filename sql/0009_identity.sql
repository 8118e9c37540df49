-- 0009_identity.sql: facts that were carried in strings become columns (structure review:
-- "identity is carried in strings").

-- An instance's number (the N of "pve-N", from pulse.instance_number) is its advisory-lock
-- key and its order; it was parsed back out of the id.
ALTER TABLE pulse.instances ADD COLUMN number bigint;
UPDATE pulse.instances SET number = split_part(id, '-', 2)::bigint;
ALTER TABLE pulse.instances ALTER COLUMN number SET NOT NULL,
    ADD CONSTRAINT instances_number_key UNIQUE (number);
COMMENT ON COLUMN pulse.instances.number IS
    'The N of the id "<type>-N" (pulse.instance_number, never reused): lock key and order.';

-- Whether a state row belongs to the mock estate. The mock generator names its instances
-- "mock-..."; this is the one place that knows it, and every reader asks the column.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['pve_nodes', 'guests', 'storage', 'connection_health',
        'backup_tasks', 'storage_backups', 'guest_snapshots', 'ceph_clusters', 'physical_disks',
        'replication_jobs', 'pbs_instances', 'pmg_instances', 'pbs_backups', 'pmg_backups'] LOOP
        EXECUTE format('ALTER TABLE pulse.%I ADD COLUMN mock boolean NOT NULL '
            'GENERATED ALWAYS AS (instance_id LIKE ''mock%%'') STORED', t);
        EXECUTE format('COMMENT ON COLUMN pulse.%I.mock IS %L', t,
            'true for rows of the mock estate (mock mode), false for polled ones');
    END LOOP;
END $$;
