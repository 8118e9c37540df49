-- 0002_auth.sql: local admin, API tokens, sessions, lockout, rate limits, bootstrap and
-- recovery tokens, proxy-auth free settings, and the audit trail. No secret is stored in
-- clear: passwords are bcrypt hashes, tokens and session ids are SHA3-256/SHA-256 hashes.

-- The local administrator (one row today; the key leaves room for more users).
CREATE TABLE pulse.users (
    username       text PRIMARY KEY CHECK (length(username) BETWEEN 1 AND 128),
    password_hash  text NOT NULL CHECK (password_hash LIKE '$2%' AND length(password_hash) = 60),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- API tokens: only hex(SHA3-256(token)) is kept, so hashes from the original's export
-- bundles keep working.
CREATE TABLE pulse.api_tokens (
    id            uuid PRIMARY KEY,
    name          text NOT NULL,
    hash          text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
    prefix        text NOT NULL DEFAULT '',
    suffix        text NOT NULL DEFAULT '',
    scopes        text[] NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz
);
CREATE INDEX api_tokens_created ON pulse.api_tokens (created_at DESC);

-- Browser sessions: the cookie value is never stored, only hex(SHA-256(value)); likewise
-- for the session's CSRF token. Expiry slides by duration on use.
CREATE TABLE pulse.sessions (
    key_hash          text PRIMARY KEY CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    username          text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    duration          interval NOT NULL,
    user_agent        text NOT NULL DEFAULT '',
    client_ip         text NOT NULL DEFAULT '',
    csrf_hash         text,
    csrf_expires_at   timestamptz
);
CREATE INDEX sessions_expires ON pulse.sessions (expires_at);
CREATE INDEX sessions_username ON pulse.sessions (username);

-- Failed logins per identifier (a username or a client address), shared by all responders.
CREATE TABLE pulse.login_failures (
    identifier    text PRIMARY KEY,
    failures      integer NOT NULL,
    last_failure  timestamptz NOT NULL,
    locked_until  timestamptz
);

-- Rate-limit windows: counters only, rebuilt within a minute after a crash, so unlogged
-- (no WAL for a write on every request).
CREATE UNLOGGED TABLE pulse.rate_limit_hits (
    bucket        text NOT NULL,
    client        text NOT NULL,
    window_start  bigint NOT NULL,
    hits          integer NOT NULL,
    PRIMARY KEY (bucket, client, window_start)
);

-- Single-value security state: the bootstrap token hash, recovery mode, the secrets key id.
CREATE TABLE pulse.security_state (
    key         text PRIMARY KEY,
    value       text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Recovery tokens: single use, expiring, hashed.
CREATE TABLE pulse.recovery_tokens (
    hash        text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    client_ip   text NOT NULL DEFAULT ''
);

-- The audit trail: who did what, when, from where, and whether it worked.
CREATE TABLE pulse.audit_events (
    id          uuid PRIMARY KEY,
    ts          timestamptz NOT NULL DEFAULT now(),
    event       text NOT NULL,
    username    text NOT NULL DEFAULT '',
    client_ip   text NOT NULL DEFAULT '',
    path        text NOT NULL DEFAULT '',
    success     boolean NOT NULL,
    details     text NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_ts ON pulse.audit_events (ts);
CREATE INDEX audit_events_event ON pulse.audit_events (event, ts);

COMMENT ON TABLE pulse.users IS 'Local administrators; password_hash is bcrypt ($2b$, cost 12).';
COMMENT ON TABLE pulse.api_tokens IS 'API tokens by hex(SHA3-256(token)); scopes as in the original.';
COMMENT ON TABLE pulse.sessions IS 'Browser sessions by hex(SHA-256(cookie)); sliding expiry.';
COMMENT ON TABLE pulse.login_failures IS 'Lockout counters for usernames and client addresses.';
COMMENT ON TABLE pulse.rate_limit_hits IS 'Per-minute request counters per limit class and client.';
COMMENT ON TABLE pulse.audit_events IS 'Security events: logins, tokens, setup, recovery, lockouts.';

-- Every change to credentials is announced, so responders drop what they cached.
CREATE FUNCTION pulse.notify_auth_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pulse_auth', TG_TABLE_NAME);
    RETURN NULL;
END $$;

CREATE TRIGGER api_tokens_changed AFTER INSERT OR DELETE OR UPDATE OF hash, scopes ON pulse.api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION pulse.notify_auth_change();
CREATE TRIGGER sessions_changed AFTER DELETE OR UPDATE OF csrf_hash ON pulse.sessions
    FOR EACH STATEMENT EXECUTE FUNCTION pulse.notify_auth_change();
CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE ON pulse.users
    FOR EACH STATEMENT EXECUTE FUNCTION pulse.notify_auth_change();
CREATE TRIGGER security_state_changed AFTER INSERT OR UPDATE OR DELETE ON pulse.security_state
    FOR EACH STATEMENT EXECUTE FUNCTION pulse.notify_auth_change();
