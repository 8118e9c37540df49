-- 0013_notification_queue.sql: the notification queue (issue 12, alerts-notifications.md §10),
-- drained by every worker with SELECT ... FOR UPDATE SKIP LOCKED.

-- One row per message to one channel. alerts is the alert list as JSON; config is the channel
-- configuration at enqueue time inside the secrets envelope (it holds secrets; answers show
-- it redacted). status: pending -> sending -> sent | pending (retry) | dlq; cancelled.
-- A row in 'sending' whose lease has passed belongs to a worker that died: it is pending again.
CREATE TABLE pulse.notification_queue (
    id            text PRIMARY KEY,
    type          text NOT NULL CHECK (type IN ('email', 'webhook', 'apprise', 'email_resolved',
                      'webhook_resolved', 'apprise_resolved')),
    channel_id    text NOT NULL DEFAULT '',      -- the webhook id, '' for email and apprise
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent',
                      'failed', 'dlq', 'cancelled')),
    alerts        jsonb NOT NULL CHECK (jsonb_typeof(alerts) = 'array'),
    alert_ids     text[] NOT NULL DEFAULT '{}',
    config        text NOT NULL CHECK (config LIKE 'enc:v1:%'),
    attempts      integer NOT NULL DEFAULT 0,
    max_attempts  integer NOT NULL DEFAULT 3,
    last_attempt  timestamptz,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    next_retry_at timestamptz,
    completed_at  timestamptz,
    lease_until   timestamptz,
    worker_id     text,
    payload_bytes integer
);
CREATE INDEX notification_queue_ready ON pulse.notification_queue (created_at)
    WHERE status = 'pending';
CREATE INDEX notification_queue_status ON pulse.notification_queue (status);
CREATE INDEX notification_queue_completed ON pulse.notification_queue (completed_at);
CREATE INDEX notification_queue_alert_ids ON pulse.notification_queue USING gin (alert_ids)
    WHERE status IN ('pending', 'sending');

-- One row per delivery attempt. delivery_key is the idempotency key sent with the message
-- (X-Pulse-Delivery): the same for every attempt of one queue row, so a receiver can drop a
-- repeat. The attempt is recorded before the queue row is finished.
CREATE TABLE pulse.notification_deliveries (
    seq           bigserial PRIMARY KEY,
    notification_id text NOT NULL,
    delivery_key  text NOT NULL,
    type          text NOT NULL,
    channel_id    text NOT NULL DEFAULT '',
    channel_name  text NOT NULL DEFAULT '',
    target        text NOT NULL DEFAULT '',      -- the URL or server, secrets redacted
    alert_ids     text[] NOT NULL DEFAULT '{}',
    attempt       integer NOT NULL,
    success       boolean NOT NULL,
    status_code   integer,
    error         text,
    payload_bytes integer,
    worker_id     text,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_deliveries_at ON pulse.notification_deliveries (at);
CREATE INDEX notification_deliveries_notification ON pulse.notification_deliveries (notification_id);
