-- 0018_agent_kubernetes.sql: Kubernetes clusters that report through an agent (agents.md §5),
-- one row each, replaced whole by each report in one transaction; clusters removed through
-- the API (their 24 h removal block and /api/state's removedKubernetesClusters). The
-- responder stores; the worker evaluates (needs_eval) and marks clusters offline after
-- agents.md §12's window.
CREATE TABLE pulse.agent_kube_clusters (
    id                  text PRIMARY KEY CHECK (id <> ''),
    -- 'agent' for reported clusters, 'mock' for mock mode's (as pulse.agent_hosts).
    source              text NOT NULL DEFAULT 'agent' CHECK (source IN ('agent', 'mock')),
    mock                boolean NOT NULL GENERATED ALWAYS AS (source = 'mock') STORED,
    agent_id            text NOT NULL,                 -- agent.id, else the cluster id
    name                text NOT NULL DEFAULT '',      -- cluster.name (the kubeconfig context)
    display_name        text NOT NULL,                 -- name, else id
    custom_display_name text NOT NULL DEFAULT '',      -- PUT .../display-name
    server              text NOT NULL DEFAULT '',
    context             text NOT NULL DEFAULT '',
    version             text NOT NULL DEFAULT '',      -- the API server's gitVersion
    agent_version       text NOT NULL DEFAULT '',      -- "v" + the agent's version
    -- The API token the cluster reports with: one agent id per token (agents.md §5.2); no
    -- foreign key: a revoked token leaves its cluster as it was.
    token_id            text,
    status              text NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'offline')),
    last_seen           timestamptz NOT NULL,          -- the report's timestamp (the original's lastSeen)
    received_at         timestamptz NOT NULL DEFAULT now(),
    interval_seconds    integer NOT NULL DEFAULT 0,
    hidden              boolean NOT NULL DEFAULT false,
    pending_uninstall   boolean NOT NULL DEFAULT false,
    node_count          integer NOT NULL DEFAULT 0,    -- as stored (bounded), not as reported
    pod_count           integer NOT NULL DEFAULT 0,
    deployment_count    integer NOT NULL DEFAULT 0,
    nodes_ready         integer NOT NULL DEFAULT 0,
    -- The cluster's nodes, pods and deployments as /api/state shows them (arrays of the
    -- original's KubernetesNode, KubernetesPod and KubernetesDeployment objects).
    nodes               json NOT NULL DEFAULT '[]',
    pods                json NOT NULL DEFAULT '[]',
    deployments         json NOT NULL DEFAULT '[]',
    report              json NOT NULL,                 -- the last report (arrays bounded)
    -- A report the worker has not evaluated yet (claimed FOR UPDATE SKIP LOCKED).
    needs_eval          boolean NOT NULL DEFAULT true
);
CREATE INDEX agent_kube_clusters_token ON pulse.agent_kube_clusters (token_id)
    WHERE token_id IS NOT NULL;
CREATE INDEX agent_kube_clusters_needs_eval ON pulse.agent_kube_clusters (received_at)
    WHERE needs_eval;

-- Clusters removed through DELETE /api/agents/kubernetes/clusters/{id}: their reports are
-- refused for 24 h (until allow-reenroll or unhide); shown in removedKubernetesClusters.
CREATE TABLE pulse.agent_kube_removed (
    id           text PRIMARY KEY,
    source       text NOT NULL DEFAULT 'agent' CHECK (source IN ('agent', 'mock')),
    mock         boolean NOT NULL GENERATED ALWAYS AS (source = 'mock') STORED,
    name         text NOT NULL DEFAULT '',
    display_name text NOT NULL DEFAULT '',
    removed_at   timestamptz NOT NULL DEFAULT now()
);

-- A cluster as /api/state shows it (the original's KubernetesClusterFrontend).
CREATE FUNCTION pulse.agent_kube_cluster_doc(c pulse.agent_kube_clusters, token_name text,
    token_hint text, token_last_used timestamptz) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_strip_nulls(json_build_object(
        'id', c.id, 'agentId', c.agent_id, 'name', nullif(c.name, ''),
        'displayName', coalesce(nullif(c.display_name, ''), nullif(c.name, ''), c.id),
        'customDisplayName', nullif(c.custom_display_name, ''),
        'server', nullif(c.server, ''), 'context', nullif(c.context, ''),
        'version', nullif(c.version, ''), 'status', c.status,
        'lastSeen', (extract(epoch FROM c.last_seen) * 1000)::bigint,
        'intervalSeconds', c.interval_seconds,
        'agentVersion', nullif(c.agent_version, ''), 'tokenId', c.token_id,
        'tokenName', nullif(token_name, ''), 'tokenHint', nullif(token_hint, ''),
        'tokenLastUsedAt', (extract(epoch FROM token_last_used) * 1000)::bigint,
        'hidden', c.hidden, 'pendingUninstall', c.pending_uninstall,
        'nodes', CASE WHEN json_array_length(c.nodes) > 0 THEN c.nodes END,
        'pods', CASE WHEN json_array_length(c.pods) > 0 THEN c.pods END,
        'deployments', CASE WHEN json_array_length(c.deployments) > 0 THEN c.deployments END))
$$;

COMMENT ON TABLE pulse.agent_kube_clusters IS 'Kubernetes clusters reporting through an agent (POST /api/agents/kubernetes/report), with their last report.';
COMMENT ON COLUMN pulse.agent_kube_clusters.mock IS 'true for rows of the mock estate (mock mode), false for reported ones';
COMMENT ON COLUMN pulse.agent_kube_removed.mock IS 'true for rows of the mock estate (mock mode), false for reported ones';
COMMENT ON TABLE pulse.agent_kube_removed IS 'Kubernetes clusters removed through the API: refused for 24 hours, listed in removedKubernetesClusters.';
