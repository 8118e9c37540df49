-- 0014_alert_lifecycle.sql: what alerts need between raising and notifying (issue 12):
-- dispatch bookkeeping on the alert rows, the grouping buffer, and incidents with notes.

-- Dispatch bookkeeping (alerts-notifications.md §4): the times dispatch was attempted inside
-- the flapping window, the time until which the alert is held back (flapping), and whether
-- the last dispatch was refused by a gate (so the next poll retries it).
ALTER TABLE pulse.alerts
    ADD COLUMN dispatch_times   timestamptz[] NOT NULL DEFAULT '{}',
    ADD COLUMN suppressed_until timestamptz,
    ADD COLUMN flapping         boolean NOT NULL DEFAULT false;

-- The grouping buffer (§7.1-7.2): alerts waiting for the group window to close. One row per
-- alert id (a second dispatch of the same alert in one window replaces the first: QUIRK 4).
-- flush_at is the same for every row of one group; the worker that flushes takes the rows
-- with DELETE ... RETURNING, so each alert goes out once.
CREATE TABLE pulse.notification_group (
    alert_id   text PRIMARY KEY,
    alert      jsonb NOT NULL CHECK (jsonb_typeof(alert) = 'object'),
    channels   text NOT NULL DEFAULT 'all',   -- 'all', 'email', 'webhook', 'apprise'
    added_at   timestamptz NOT NULL DEFAULT now(),
    flush_at   timestamptz NOT NULL
);
CREATE INDEX notification_group_flush ON pulse.notification_group (flush_at);

-- Incidents (§6 "Incident object"): one per alert occurrence (alert id + start time), with a
-- timeline of events. Kept 90 days, at most 500 incidents and 120 events each.
CREATE TABLE pulse.incidents (
    id             text PRIMARY KEY,
    alert_id       text NOT NULL,
    alert_type     text NOT NULL,
    level          text NOT NULL,
    resource_id    text NOT NULL,
    resource_name  text NOT NULL DEFAULT '',
    resource_type  text NOT NULL DEFAULT '',
    node           text NOT NULL DEFAULT '',
    instance       text NOT NULL DEFAULT '',
    message        text NOT NULL DEFAULT '',
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    opened_at      timestamptz NOT NULL,
    closed_at      timestamptz,
    acknowledged   boolean NOT NULL DEFAULT false,
    ack_user       text,
    ack_time       timestamptz,
    UNIQUE (alert_id, opened_at)
);
CREATE INDEX incidents_resource ON pulse.incidents (resource_id, opened_at);
CREATE INDEX incidents_opened ON pulse.incidents (opened_at);

CREATE TABLE pulse.incident_events (
    seq          bigserial PRIMARY KEY,
    incident_id  text NOT NULL REFERENCES pulse.incidents (id) ON DELETE CASCADE,
    id           text NOT NULL,
    type         text NOT NULL CHECK (type IN ('alert_fired', 'alert_acknowledged',
                     'alert_unacknowledged', 'alert_resolved', 'ai_analysis', 'command',
                     'runbook', 'note')),
    at           timestamptz NOT NULL DEFAULT now(),
    summary      text NOT NULL DEFAULT '',
    details      jsonb
);
CREATE INDEX incident_events_incident ON pulse.incident_events (incident_id, seq);
