-- 0012_notification_channels.sql: where notifications go (issue 12): the email, apprise and
-- webhook configurations, and the system settings the notifiers read.

-- One row per channel: kind 'email' and 'apprise' have id '' (one each); webhooks have their
-- own id and keep the order they were created in. config is the whole channel configuration
-- as JSON (the original's field names) inside the secrets envelope (enc:v1:...), because it
-- holds passwords, API keys and URLs with tokens; enabled, name and service are kept in clear
-- for lists and health without decrypting.
CREATE TABLE pulse.notification_channels (
    kind        text NOT NULL CHECK (kind IN ('email', 'apprise', 'webhook')),
    id          text NOT NULL CHECK (length(id) <= 200),
    position    bigserial,
    enabled     boolean NOT NULL DEFAULT false,
    name        text NOT NULL DEFAULT '',
    service     text NOT NULL DEFAULT '',
    config      text NOT NULL CHECK (config LIKE 'enc:v1:%'),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, id),
    CHECK ((kind = 'webhook') = (id <> ''))
);
COMMENT ON TABLE pulse.notification_channels IS
    'Email, apprise and webhook configurations; config is encrypted JSON.';

-- System settings set through the API, one row per key (the original's names), e.g.
-- webhookAllowedPrivateCIDRs (a string of comma-separated CIDRs) and publicURL.
CREATE TABLE pulse.system_settings (
    key         text PRIMARY KEY,
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
