-- 0008_security_fixes.sql: lockout keys by kind, locks announced to every responder, and
-- scope names checked (security review 1: M2, L1, L4).

-- Lockout identifiers now say what they count (docs/SQL.md): 'ip:<address>',
-- 'user:<address>|<name>' (a user name at one address), 'token:<address>' (wrong API
-- tokens), an IPv6 address by its /64. Counters of the old form (a bare name or address)
-- would never be read again; they lasted 15 minutes anyway.
DELETE FROM pulse.login_failures;
COMMENT ON TABLE pulse.login_failures IS
    'Lockout counters: ip:<addr>, user:<addr>|<name>, token:<addr> (IPv6 by /64).';

-- A new lock is announced ('lock <epoch> <identifier>'), so that a responder refuses the
-- locked client before it looks at its cache of verified credentials; removing a lock that
-- still held announces 'unlock'.
CREATE FUNCTION pulse.notify_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('pulse_auth', 'unlock');
    ELSE
        PERFORM pg_notify('pulse_auth', 'lock ' || floor(extract(epoch FROM NEW.locked_until))::bigint
            || ' ' || NEW.identifier);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER login_failures_locked AFTER UPDATE OF locked_until ON pulse.login_failures
    FOR EACH ROW WHEN (NEW.locked_until IS NOT NULL
        AND NEW.locked_until IS DISTINCT FROM OLD.locked_until)
    EXECUTE FUNCTION pulse.notify_lock();
CREATE TRIGGER login_failures_unlocked AFTER DELETE ON pulse.login_failures
    FOR EACH ROW WHEN (OLD.locked_until IS NOT NULL AND OLD.locked_until > now())
    EXECUTE FUNCTION pulse.notify_lock();

-- A token holds only scopes this version knows (an empty list is the original's "all").
-- NOT VALID: rows written by hand before stay readable; the responders give unknown names
-- no rights whatever the table holds.
ALTER TABLE pulse.api_tokens ADD CONSTRAINT api_tokens_known_scopes CHECK (scopes <@ ARRAY[
    '*', 'monitoring:read', 'monitoring:write', 'settings:read', 'settings:write',
    'host-agent:report', 'host-agent:manage', 'docker:report', 'docker:manage',
    'kubernetes:report', 'kubernetes:manage']::text[]) NOT VALID;
