-- 0010_alert_config.sql: the alert configuration (issue 12), one JSON document.

-- The whole AlertConfig as the API writes it (the original's field names), normalised before
-- it is stored. One row, id 1; there is no row until the first save, and a missing row means
-- the built-in defaults (docs/COMPATIBILITY.md, "Alert configuration on a fresh install").
CREATE TABLE pulse.alert_config (
    id         integer PRIMARY KEY CHECK (id = 1),
    doc        jsonb NOT NULL CHECK (jsonb_typeof(doc) = 'object'),
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pulse.alert_config IS
    'The alert configuration (GET/PUT /api/alerts/config): one row, id 1, absent until saved.';
