/* agent_kube.h: a Kubernetes agent's report on the server (agents.md §5): the types the
 * original's decoder insists on (§1.3), the cluster's identity, removal block and token
 * binding (§5.2), the node, pod and deployment documents /api/state serves, the
 * one-transaction write to pulse.agent_kube_clusters, and the management of §5.4. */
#ifndef PULSE_AGENT_KUBE_H
#define PULSE_AGENT_KUBE_H

#include <json-c/json.h>
#include <stddef.h>

#include "db.h"

/* Bounds of what is kept of one report (more entries are dropped; the body limit, 2 MiB as
 * the original's, bounds the rest). The agent sends at most 200 pods by default. */
#define AGENT_KUBE_MAX_NODES 500
#define AGENT_KUBE_MAX_PODS 1000
#define AGENT_KUBE_MAX_DEPLOYMENTS 1000
#define AGENT_KUBE_MAX_ITEMS 64		/* containers of a pod, roles, labels of an object */

/* The longest cluster id kept (a SHA-256 in hex is 64). */
#define AGENT_KUBE_ID_MAX 256

/* How long a removed cluster's reports are refused (§5.2, §12). */
#define AGENT_KUBE_REMOVAL_BLOCK_SECONDS (24 * 3600)

/* 0 when every member of report that §5.1 declares has the JSON type the original's decoder
 * takes, else -1 with the decoder's message in err (see agent_check_types). */
int agent_kube_check_types(struct json_object *report, char *err, size_t errlen);

/* §5.2's cluster id: cluster.id, else agent.id, else the hex SHA-256 of
 * "server|context|name" (trimmed); "" when the report names none of these. out holds
 * AGENT_KUBE_ID_MAX bytes. */
void agent_kube_cluster_id(struct json_object *report, char *out, size_t len);

/* "v" + version without a leading v or V; "" for an empty version. */
void agent_kube_version(const char *version, char *out, size_t len);

/* The report's nodes, pods and deployments as the original's KubernetesNode, KubernetesPod
 * and KubernetesDeployment objects (a new array each, bounded by the AGENT_KUBE_MAX_*
 * limits; entries that are not objects skipped). */
struct json_object *agent_kube_nodes_doc(struct json_object *report);
struct json_object *agent_kube_pods_doc(struct json_object *report);
struct json_object *agent_kube_deployments_doc(struct json_object *report);

/* What a stored report answers (§5.3), or why it was refused. */
struct agent_kube_stored {
	char id[AGENT_KUBE_ID_MAX];
	double last_seen;		/* unix seconds */
	int nodes, pods, deployments;
	double removed_at;		/* AGENT_KUBE_REMOVED: when */
	char bound_agent[AGENT_KUBE_ID_MAX];	/* AGENT_KUBE_TOKEN_IN_USE: the token's agent */
	char token_hint[128];		/* AGENT_KUBE_TOKEN_IN_USE */
};

enum agent_kube_result {
	AGENT_KUBE_OK = 0,
	AGENT_KUBE_ERROR = -1,		/* database: err says what */
	AGENT_KUBE_NO_ID = -2,		/* no cluster identifier */
	AGENT_KUBE_REMOVED = -3,	/* the cluster is under its removal block */
	AGENT_KUBE_TOKEN_IN_USE = -4,	/* the token reports for another agent */
};

/* Stores one report (checked with agent_kube_check_types) in one transaction: the
 * cluster's id, the removal block and token binding checked, its row (custom display
 * name, hidden and pending uninstall kept), the state version moved. token_id is the API
 * token it came with (NULL: none); now the server's time (unix seconds). */
enum agent_kube_result agent_kube_store(struct db *db, struct json_object *report,
    const char *token_id, double now, struct agent_kube_stored *out, char *err,
    size_t errlen);

/* §5.4 DELETE: removes a cluster, known or not, in one transaction: its row, its token
 * (unconditionally), a removal block and a removedKubernetesClusters entry. *revoked says
 * whether a token went. 0 or -1 (database; err says what). */
int agent_kube_remove(struct db *db, const char *id, int *revoked, char *err, size_t errlen);

/* §5.4's other actions on cluster id. Each returns 1 done, 0 when the cluster is unknown
 * (allow-reenroll: never 0), -1 on a database error. display_name "" clears it. */
int agent_kube_allow_reenroll(struct db *db, const char *id);
int agent_kube_unhide(struct db *db, const char *id);
int agent_kube_mark_pending_uninstall(struct db *db, const char *id);
int agent_kube_set_display_name(struct db *db, const char *id, const char *display_name);

#endif
