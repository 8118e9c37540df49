-- 0024_setup_discovery.sql: the one-time setup codes POST /api/setup-script-url mints for
-- the Proxmox setup script (state-proxmox.md §12, security.md §3: five minutes, single use,
-- stored hashed so that every responder can check them), and the last network discovery's
-- result that GET /api/discover answers (one row).
CREATE TABLE pulse.setup_codes (
    -- hex(SHA3-256(code)), as the original hashes them; the code itself is never stored.
    code_hash   text PRIMARY KEY CHECK (code_hash ~ '^[0-9a-f]{64}$'),
    type        text NOT NULL CHECK (type IN ('pve', 'pbs')),
    host        text NOT NULL DEFAULT '',
    created_by  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX setup_codes_expires ON pulse.setup_codes (expires_at);
COMMENT ON TABLE pulse.setup_codes IS 'One-time setup codes for /api/auto-register: hashes, five minutes, single use.';

CREATE TABLE pulse.discovery_result (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    -- {"servers":[...],"errors":[...]} as GET /api/discover answers them
    result      jsonb NOT NULL CHECK (jsonb_typeof(result) = 'object'),
    subnet      text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pulse.discovery_result IS 'The last network discovery scan (POST /api/discover).';
