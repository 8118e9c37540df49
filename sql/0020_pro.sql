-- 0020_pro.sql: the Pro licence (security.md §11) and the audit log's hash chain (§9). The
-- licence is one row, its key sealed (secrets_seal, context "license"), read by every
-- responder on each gated request. Each audit row carries an HMAC-SHA256 over its content
-- and its predecessor's MAC (seq orders the chain); pulse.audit_chain holds the sealed key,
-- the chain's head (appenders lock this row, which serialises them) and the anchor left by
-- the last retention cut.
CREATE TABLE pulse.license (
    id                integer PRIMARY KEY CHECK (id = 1),
    key_sealed        text NOT NULL,
    grace_period_end  timestamptz,
    activated_at      timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE pulse.audit_events ADD COLUMN seq bigint UNIQUE;
ALTER TABLE pulse.audit_events ADD COLUMN mac text NOT NULL DEFAULT '';
CREATE INDEX audit_events_user ON pulse.audit_events (username, ts);

CREATE TABLE pulse.audit_chain (
    id          integer PRIMARY KEY CHECK (id = 1),
    key_sealed  text,                          -- 32 random bytes, sealed; made by the first writer
    last_seq    bigint NOT NULL DEFAULT 0,     -- the newest row's seq and MAC
    last_mac    text NOT NULL DEFAULT '',
    anchor_seq  bigint NOT NULL DEFAULT 0,     -- rows up to here were cut by retention
    anchor_mac  text NOT NULL DEFAULT '',      -- the MAC of the last row cut
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO pulse.audit_chain (id) VALUES (1);

-- GET/POST /api/admin/webhooks/audit: the URLs as a sealed JSON array (a URL may hold a
-- token).
CREATE TABLE pulse.audit_webhooks (
    id           integer PRIMARY KEY CHECK (id = 1),
    urls_sealed  text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Audit webhooks are delivered through the notification queue (one row per event and URL).
ALTER TABLE pulse.notification_queue DROP CONSTRAINT notification_queue_type_check;
ALTER TABLE pulse.notification_queue ADD CONSTRAINT notification_queue_type_check
    CHECK (type IN ('email', 'webhook', 'apprise', 'email_resolved', 'webhook_resolved',
    'apprise_resolved', 'audit_webhook'));

COMMENT ON TABLE pulse.license IS 'The activated Pulse Pro licence key (sealed), one row.';
COMMENT ON TABLE pulse.audit_chain IS 'The audit hash chain: sealed HMAC key, head and retention anchor.';
COMMENT ON TABLE pulse.audit_webhooks IS 'Audit webhook URLs (sealed JSON array), one row.';
