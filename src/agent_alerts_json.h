/* agent_alerts_json.h: what the agent alert checks need (src/alert_agents.h), read from a
 * report's JSON in the original's shape (agents.md §3.1 host, §4.1 Docker, §5.1
 * Kubernetes), tolerantly (src/jsonread.h) and bounded: arrays beyond the AGENT_MAX_*
 * limits are cut. The online flag is the caller's (0 after reading): a report just
 * received is online; an agent silent beyond alert_agent_offline_window is not. */
#ifndef PULSE_AGENT_ALERTS_JSON_H
#define PULSE_AGENT_ALERTS_JSON_H

#include <json-c/json.h>

#include "alert_agents.h"

/* Each fills *out (emptied first; released with agent_*_free) from report and returns 0,
 * or -1 when report is not an object or names no identity (host: host.id, agent.id,
 * host.machineId or host.hostname; Docker: agent.id, host.machineId or host.hostname;
 * Kubernetes: cluster.id, agent.id or the hash of server|context|name as
 * agent_kube_cluster_id), *out then empty. */
int agent_host_from_json(struct json_object *report, struct agent_host *out);
int agent_docker_from_json(struct json_object *report, struct agent_docker *out);
int agent_kubernetes_from_json(struct json_object *report, struct agent_kubernetes *out);

#endif
