-- 0021_oidc.sql: OIDC sign-in (security.md §7): the provider configuration (one row; the
-- client secret sealed by the responder, never in clear), the login attempts in flight
-- (state, nonce and PKCE verifier shared by every responder: single use, ten minutes), and
-- which sessions an OIDC login made and whether they hold admin rights.
CREATE TABLE pulse.oidc_config (
    id             boolean PRIMARY KEY DEFAULT true CHECK (id),
    -- The original's OIDC JSON (issuerUrl, clientId, ...) without clientSecret.
    config         jsonb NOT NULL CHECK (jsonb_typeof(config) = 'object'),
    -- secrets_seal("oidc.client_secret", ...); NULL: no secret (a public client).
    client_secret  text,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pulse.oidc_config IS 'OIDC provider settings; the client secret sealed.';

-- A login started by /api/oidc/login: the state is stored as hex(SHA-256(state)), the
-- nonce and the PKCE verifier sealed; the callback deletes the row it uses (single use).
-- browser_hash binds the login to the browser that started it (hex(SHA-256) of its
-- pulse_oidc cookie), so that a callback link made by someone else signs nobody in.
CREATE TABLE pulse.oidc_states (
    state_hash     text PRIMARY KEY CHECK (state_hash ~ '^[0-9a-f]{64}$'),
    browser_hash   text NOT NULL CHECK (browser_hash ~ '^[0-9a-f]{64}$'),
    nonce          text NOT NULL,
    code_verifier  text NOT NULL,
    return_to      text NOT NULL DEFAULT '',
    redirect_uri   text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL
);
CREATE INDEX oidc_states_expires ON pulse.oidc_states (expires_at);
COMMENT ON TABLE pulse.oidc_states IS 'OIDC logins in flight: state hash, sealed nonce and PKCE verifier.';

-- Sessions an OIDC login made carry the issuer; an OIDC user outside the admin groups gets
-- a session without admin rights (local logins stay admins, as in the original).
ALTER TABLE pulse.sessions ADD COLUMN admin boolean NOT NULL DEFAULT true;
ALTER TABLE pulse.sessions ADD COLUMN oidc_issuer text;
