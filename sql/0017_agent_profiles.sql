-- 0017_agent_profiles.sql: what the server tells host agents at their start (agents.md §6.5,
-- §7): the commandsEnabled override of a host id (kept even before the host reports, as the
-- original's host metadata), the agent profiles and which agent id each is assigned to; and
-- what a PVE node linked to a host agent shows of it (§6.6): its temperatures.
CREATE TABLE pulse.agent_host_config (
    host_id          text PRIMARY KEY CHECK (host_id <> ''),
    commands_enabled boolean,                     -- NULL: no override
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pulse.agent_profiles (
    id         text PRIMARY KEY,                  -- a UUIDv4 the server gives
    name       text NOT NULL CHECK (name <> ''),
    config     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One profile per agent id. profile_id is not a foreign key: the original does not check
-- that the profile exists (agents.md §14 item 13); deleting a profile deletes its
-- assignments (agent_profile_delete).
CREATE TABLE pulse.agent_profile_assignments (
    agent_id   text PRIMARY KEY CHECK (agent_id <> ''),
    profile_id text NOT NULL CHECK (profile_id <> ''),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_profile_assignments_profile ON pulse.agent_profile_assignments (profile_id);

-- The Temperature a node linked to the host shows (NULL: not linked, or no sensors), and
-- the index /api/state finds a node's host by.
ALTER TABLE pulse.agent_hosts ADD COLUMN node_temperature json;
CREATE INDEX agent_hosts_linked_node ON pulse.agent_hosts ((doc->>'linkedNodeId'))
    WHERE NOT mock AND doc->>'linkedNodeId' IS NOT NULL;

COMMENT ON TABLE pulse.agent_host_config IS 'The server-side commandsEnabled of a host agent id (PATCH /api/agents/host/{id}/config).';
COMMENT ON TABLE pulse.agent_profiles IS 'Agent profiles: settings host agents apply at their start (/api/admin/profiles).';
COMMENT ON TABLE pulse.agent_profile_assignments IS 'Which profile an agent (host id) gets (/api/admin/profiles/assignments).';
