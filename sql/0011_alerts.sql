-- 0011_alerts.sql: alerts (issue 12): the active and recently resolved alerts, the pending
-- conditions that are not alerts yet, and the history of alerts as they were raised.
--
-- Rows are written when something changes (an alert raised, its level changed, acknowledged,
-- notified, escalated, resolved), never once per poll: a steady estate writes nothing here.

-- One row per alert id (alerts-notifications.md §1.3). resolved_at NULL: active. A resolved
-- row stays a while for /api/state recentlyResolved and so that an acknowledged alert that
-- comes back within an hour comes back acknowledged (§5.1); the same id raised again reuses
-- the row.
CREATE TABLE pulse.alerts (
    id               text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 500),
    type             text NOT NULL,
    level            text NOT NULL CHECK (level IN ('warning', 'critical')),
    resource_id      text NOT NULL,
    resource_name    text NOT NULL DEFAULT '',
    node             text NOT NULL DEFAULT '',
    instance         text NOT NULL DEFAULT '',
    message          text NOT NULL DEFAULT '',
    value            double precision NOT NULL DEFAULT 0,
    threshold        double precision NOT NULL DEFAULT 0,
    start_time       timestamptz NOT NULL,
    last_seen        timestamptz,
    acknowledged     boolean NOT NULL DEFAULT false,
    ack_time         timestamptz,
    ack_user         text,
    metadata         jsonb CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object'),
    last_notified    timestamptz,
    last_escalation  integer NOT NULL DEFAULT 0,
    escalation_times timestamptz[] NOT NULL DEFAULT '{}',
    resolved_at      timestamptz,
    -- who raised it: 'pve-3' for an instance's poll, 'host:<id>' / 'docker:<id>' for agents,
    -- 'mock' for mock mode; the evaluation of that source owns the row.
    source           text NOT NULL,
    mock             boolean GENERATED ALWAYS AS (source = 'mock') STORED,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_active ON pulse.alerts (source) WHERE resolved_at IS NULL;
CREATE INDEX alerts_resolved ON pulse.alerts (resolved_at) WHERE resolved_at IS NOT NULL;
COMMENT ON TABLE pulse.alerts IS
    'Active alerts (resolved_at NULL) and recently resolved ones; one row per alert id.';

-- Conditions seen but not yet alerts: a time threshold still running (§3.3) or a state not
-- yet confirmed by enough polls (§3.5). Deleted when the condition goes or the alert is
-- raised.
CREATE TABLE pulse.alert_pending (
    id          text PRIMARY KEY,
    source      text NOT NULL,
    first_seen  timestamptz NOT NULL,
    count       integer NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_pending_source ON pulse.alert_pending (source);

-- The history (§5.3): a snapshot of each alert as it was raised, newest last. Retention by
-- age and by count (docs/COMPATIBILITY.md).
CREATE TABLE pulse.alert_history (
    seq          bigserial PRIMARY KEY,
    alert_id     text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    level        text NOT NULL,
    resource_id  text NOT NULL,
    start_time   timestamptz NOT NULL,
    alert        jsonb NOT NULL CHECK (jsonb_typeof(alert) = 'object')
);
CREATE INDEX alert_history_recorded ON pulse.alert_history (recorded_at);
CREATE INDEX alert_history_alert ON pulse.alert_history (alert_id, recorded_at);

-- For SQL users: what is firing now.
CREATE VIEW pulse.active_alerts AS
    SELECT id, type, level, resource_id, resource_name, node, instance, message, value,
           threshold, start_time, last_seen, acknowledged, ack_time, ack_user, last_notified
    FROM pulse.alerts WHERE resolved_at IS NULL;

-- An alert's time as the API writes it (RFC 3339 in UTC, whole seconds, Go's zero time for
-- none).
CREATE FUNCTION pulse.alert_time(t timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t IS NULL THEN '0001-01-01T00:00:00Z'
        ELSE to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END
$$;

-- The reduced alert of /api/state activeAlerts and recentlyResolved (§1.1), with
-- resolvedTime for a resolved one.
CREATE FUNCTION pulse.alert_state_doc(a pulse.alerts) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_strip_nulls(json_build_object(
        'id', a.id, 'type', a.type, 'level', a.level, 'resourceId', a.resource_id,
        'resourceName', a.resource_name, 'node', a.node, 'instance', a.instance,
        'message', a.message, 'value', a.value, 'threshold', a.threshold,
        'startTime', pulse.alert_time(a.start_time), 'acknowledged', a.acknowledged,
        'ackTime', CASE WHEN a.ack_time IS NOT NULL THEN pulse.alert_time(a.ack_time) END,
        'ackUser', NULLIF(a.ack_user, ''),
        'resolvedTime', CASE WHEN a.resolved_at IS NOT NULL
            THEN pulse.alert_time(a.resolved_at) END))
$$;
