/* agent_kube.c: a Kubernetes agent's report: type check, identity, documents, its write,
 * and the cluster management of agents.md §5.4. */
#include "config.h"

#include "agent_kube.h"
#include "agent_host.h"
#include "crypto.h"
#include "jsonread.h"
#include "jsonwrite.h"
#include "state_rows.h"
#include "timefmt.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the decoder's types (§1.3, §5.1) ---------------------------------------------------- */

static const struct agent_field f_agent[] = {
	AF_S("id"), AF_S("version"), AF_S("type"), AF_I("intervalSeconds"), AF_END,
};
static const struct agent_field f_cluster[] = {
	AF_S("id"), AF_S("name"), AF_S("server"), AF_S("context"), AF_S("version"),
	AF_S("provider"), AF_S("namespace"), AF_END,
};
static const struct agent_field f_resources[] = {
	AF_I("cpuCores"), AF_I("memoryBytes"), AF_I("pods"), AF_END,
};
static const struct agent_field f_node[] = {
	AF_S("uid"), AF_S("name"), AF_B("ready"), AF_B("unschedulable"), AF_S("kubeletVersion"),
	AF_S("containerRuntimeVersion"), AF_S("osImage"), AF_S("kernelVersion"),
	AF_S("architecture"), {"capacity", AF_OBJ, AF_ANY, f_resources},
	{"allocatable", AF_OBJ, AF_ANY, f_resources}, {"roles", AF_LIST, AF_STR, NULL}, AF_END,
};
static const struct agent_field f_container[] = {
	AF_S("name"), AF_S("image"), AF_B("ready"), AF_I("restartCount"), AF_S("state"),
	AF_S("reason"), AF_S("message"), AF_END,
};
static const struct agent_field f_pod[] = {
	AF_S("uid"), AF_S("name"), AF_S("namespace"), AF_S("nodeName"), AF_S("phase"),
	AF_S("reason"), AF_S("message"), AF_S("qosClass"), {"createdAt", AF_TIME, AF_ANY, NULL},
	{"startTime", AF_TIME, AF_ANY, NULL}, AF_I("restarts"),
	{"labels", AF_MAP, AF_STR, NULL}, AF_S("ownerKind"), AF_S("ownerName"),
	{"containers", AF_LIST, AF_OBJ, f_container}, AF_END,
};
static const struct agent_field f_deployment[] = {
	AF_S("uid"), AF_S("name"), AF_S("namespace"), AF_I("desiredReplicas"),
	AF_I("updatedReplicas"), AF_I("readyReplicas"), AF_I("availableReplicas"),
	{"labels", AF_MAP, AF_STR, NULL}, AF_END,
};
static const struct agent_field f_report[] = {
	{"agent", AF_OBJ, AF_ANY, f_agent}, {"cluster", AF_OBJ, AF_ANY, f_cluster},
	{"nodes", AF_LIST, AF_OBJ, f_node}, {"pods", AF_LIST, AF_OBJ, f_pod},
	{"deployments", AF_LIST, AF_OBJ, f_deployment}, {"timestamp", AF_TIME, AF_ANY, NULL},
	AF_END,
};

int
agent_kube_check_types(struct json_object *report, char *err, size_t errlen)
{
	return agent_check_types(report, f_report, "kubernetes", err, errlen);
}

/* --- identity (§5.2) ------------------------------------------------------------------- */

/* The trimmed text of member key of o into dst. */
static const char *
text(char *dst, size_t len, struct json_object *o, const char *key)
{
	return jsonread_copy_trimmed(dst, len, jsonread_string(o, key, ""));
}

void
agent_kube_cluster_id(struct json_object *report, char *out, size_t len)
{
	struct json_object *cluster = jsonread_member(report, "cluster");
	char server[512], context[256], name[256], key[1100], hex[65];

	if (text(out, len, cluster, "id")[0] ||
	    text(out, len, jsonread_member(report, "agent"), "id")[0])
		return;
	text(server, sizeof(server), cluster, "server");
	text(context, sizeof(context), cluster, "context");
	text(name, sizeof(name), cluster, "name");
	if (!server[0] && !context[0] && !name[0])
		return;
	snprintf(key, sizeof(key), "%s|%s|%s", server, context, name);
	crypto_sha256_hex(key, strlen(key), hex);
	snprintf(out, len, "%s", hex);
}

void
agent_kube_version(const char *version, char *out, size_t len)
{
	char buf[128];
	const char *v = jsonread_copy_trimmed(buf, sizeof(buf), version);

	if (*v == 'v' || *v == 'V')
		v++;
	if (*v)
		snprintf(out, len, "v%s", v);
	else if (len)
		out[0] = '\0';
}

/* --- the documents (the original's Kubernetes*Frontend) -------------------------------- */

static void
copy_opt_ints(struct json_object *dst, struct json_object *src, const char *const *keys)
{
	for (; *keys; keys++)
		jsonwrite_opt_int(dst, *keys, jsonread_int(src, *keys, 0));
}

/* A map of strings (at most AGENT_KUBE_MAX_ITEMS keys), NULL when it has none. */
static struct json_object *
labels_doc(struct json_object *map)
{
	return agent_map(map, AGENT_KUBE_MAX_ITEMS, agent_string_value);
}

static struct json_object *
node_doc(struct json_object *n)
{
	static const char *const strs[] = {"kubeletVersion", "containerRuntimeVersion", "osImage",
	    "kernelVersion", "architecture", NULL};
	struct json_object *o = json_object_new_object();
	struct json_object *cap = jsonread_member(n, "capacity");
	struct json_object *alloc = jsonread_member(n, "allocatable");

	agent_doc_str(o, "uid", n, "uid", 0);
	agent_doc_str(o, "name", n, "name", 0);
	jsonwrite_bool(o, "ready", jsonread_bool(n, "ready", 0));
	jsonwrite_true_if(o, "unschedulable", jsonread_bool(n, "unschedulable", 0));
	agent_doc_opt_strs(o, n, strs);
	jsonwrite_opt_int(o, "capacityCpuCores", jsonread_int(cap, "cpuCores", 0));
	jsonwrite_opt_int(o, "capacityMemoryBytes", jsonread_int(cap, "memoryBytes", 0));
	jsonwrite_opt_int(o, "capacityPods", jsonread_int(cap, "pods", 0));
	jsonwrite_opt_int(o, "allocatableCpuCores", jsonread_int(alloc, "cpuCores", 0));
	jsonwrite_opt_int(o, "allocatableMemoryBytes", jsonread_int(alloc, "memoryBytes", 0));
	jsonwrite_opt_int(o, "allocatablePods", jsonread_int(alloc, "pods", 0));
	agent_doc_add(o, "roles", agent_string_list(jsonread_member(n, "roles"),
	    AGENT_KUBE_MAX_ITEMS));
	return o;
}

static struct json_object *
container_doc(struct json_object *c)
{
	static const char *const strs[] = {"state", "reason", "message", NULL};
	struct json_object *o = json_object_new_object();

	agent_doc_str(o, "name", c, "name", 0);
	agent_doc_str(o, "image", c, "image", 1);
	jsonwrite_bool(o, "ready", jsonread_bool(c, "ready", 0));
	jsonwrite_opt_int(o, "restartCount", jsonread_int(c, "restartCount", 0));
	agent_doc_opt_strs(o, c, strs);
	return o;
}

/* A time member as epoch milliseconds, omitted when absent or Go's zero time. */
static void
opt_time(struct json_object *dst, struct json_object *src, const char *key)
{
	double t;

	if (timefmt_parse_rfc3339(jsonread_string(src, key, ""), &t) == 0 && t > 0)
		jsonwrite_ms(dst, key, t);
}

static struct json_object *list_doc(struct json_object *arr, int max,
    struct json_object *(*one)(struct json_object *));

static struct json_object *
pod_doc(struct json_object *p)
{
	static const char *const strs[] = {"nodeName", "phase", "reason", "message", "qosClass",
	    NULL};
	struct json_object *o = json_object_new_object(), *containers;

	agent_doc_str(o, "uid", p, "uid", 0);
	agent_doc_str(o, "name", p, "name", 0);
	agent_doc_str(o, "namespace", p, "namespace", 0);
	agent_doc_opt_strs(o, p, strs);
	opt_time(o, p, "createdAt");
	opt_time(o, p, "startTime");
	jsonwrite_opt_int(o, "restarts", jsonread_int(p, "restarts", 0));
	agent_doc_add(o, "labels", labels_doc(jsonread_member(p, "labels")));
	agent_doc_str(o, "ownerKind", p, "ownerKind", 1);
	agent_doc_str(o, "ownerName", p, "ownerName", 1);
	containers = list_doc(jsonread_member(p, "containers"), AGENT_KUBE_MAX_ITEMS,
	    container_doc);
	if (json_object_array_length(containers) > 0)
		json_object_object_add(o, "containers", containers);
	else
		json_object_put(containers);
	return o;
}

static struct json_object *
deployment_doc(struct json_object *d)
{
	static const char *const ints[] = {"desiredReplicas", "updatedReplicas", "readyReplicas",
	    "availableReplicas", NULL};
	struct json_object *o = json_object_new_object();

	agent_doc_str(o, "uid", d, "uid", 0);
	agent_doc_str(o, "name", d, "name", 0);
	agent_doc_str(o, "namespace", d, "namespace", 0);
	copy_opt_ints(o, d, ints);
	agent_doc_add(o, "labels", labels_doc(jsonread_member(d, "labels")));
	return o;
}

/* Each object of arr through one(), at most max of them. */
static struct json_object *
list_doc(struct json_object *arr, int max, struct json_object *(*one)(struct json_object *))
{
	struct json_object *out = json_object_new_array();

	for (int i = 0; i < jsonread_array_len(arr) && (int)json_object_array_length(out) < max;
	    i++) {
		struct json_object *v = json_object_array_get_idx(arr, (size_t)i);

		if (jsonread_is_object(v))
			json_object_array_add(out, one(v));
	}
	return out;
}

struct json_object *
agent_kube_nodes_doc(struct json_object *report)
{
	return list_doc(jsonread_member(report, "nodes"), AGENT_KUBE_MAX_NODES, node_doc);
}

struct json_object *
agent_kube_pods_doc(struct json_object *report)
{
	return list_doc(jsonread_member(report, "pods"), AGENT_KUBE_MAX_PODS, pod_doc);
}

struct json_object *
agent_kube_deployments_doc(struct json_object *report)
{
	return list_doc(jsonread_member(report, "deployments"), AGENT_KUBE_MAX_DEPLOYMENTS,
	    deployment_doc);
}

/* --- the write ------------------------------------------------------------------------- */

/* A removal block younger than 24 h (older ones are dropped by the worker, and ignored). */
static const struct db_stmt stmt_blocked = {
	"agent_kube_blocked",
	"SELECT extract(epoch FROM removed_at) FROM pulse.agent_kube_removed WHERE id = $1 AND "
	"removed_at > now() - make_interval(secs => $2::double precision)",
	2,
};

/* The agent another cluster of this token reports for (the binding of §5.2). */
static const struct db_stmt stmt_binding = {
	"agent_kube_binding",
	"SELECT agent_id FROM pulse.agent_kube_clusters WHERE token_id = $1 AND agent_id <> $2 "
	"AND NOT mock ORDER BY received_at, id LIMIT 1",
	2,
};

/* The previous row's custom display name, hidden and pending uninstall stay; so does its
 * agent version when the report has none. */
static const struct db_stmt stmt_upsert = {
	"agent_kube_upsert",
	"INSERT INTO pulse.agent_kube_clusters AS c (id, agent_id, name, display_name, server, "
	"context, version, agent_version, token_id, status, last_seen, received_at, "
	"interval_seconds, node_count, pod_count, deployment_count, nodes_ready, nodes, pods, "
	"deployments, report, needs_eval) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, nullif($9, ''), "
	"'online', to_timestamp($10::double precision), now(), $11, json_array_length($13::json), "
	"json_array_length($14::json), json_array_length($15::json), (SELECT count(*) FROM "
	"json_array_elements($13::json) e WHERE (e->>'ready')::boolean), $13::json, $14::json, "
	"$15::json, $12::json, true) ON CONFLICT (id) DO UPDATE SET agent_id = EXCLUDED.agent_id, "
	"name = EXCLUDED.name, display_name = EXCLUDED.display_name, server = EXCLUDED.server, "
	"context = EXCLUDED.context, version = EXCLUDED.version, agent_version = "
	"coalesce(nullif(EXCLUDED.agent_version, ''), c.agent_version), token_id = "
	"coalesce(EXCLUDED.token_id, c.token_id), status = 'online', last_seen = "
	"EXCLUDED.last_seen, received_at = now(), interval_seconds = EXCLUDED.interval_seconds, "
	"node_count = EXCLUDED.node_count, pod_count = EXCLUDED.pod_count, deployment_count = "
	"EXCLUDED.deployment_count, nodes_ready = EXCLUDED.nodes_ready, nodes = EXCLUDED.nodes, "
	"pods = EXCLUDED.pods, deployments = EXCLUDED.deployments, report = EXCLUDED.report, "
	"needs_eval = true WHERE NOT c.mock",
	15,
};

/* The report as stored for the worker: the arrays cut to what is kept. */
static void
bound_arrays(struct json_object *report)
{
	static const struct {
		const char *key;
		int max;
	} lists[] = {
		{"nodes", AGENT_KUBE_MAX_NODES}, {"pods", AGENT_KUBE_MAX_PODS},
		{"deployments", AGENT_KUBE_MAX_DEPLOYMENTS},
	};

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct json_object *arr = jsonread_member(report, lists[i].key);
		int n = jsonread_array_len(arr);

		if (n > lists[i].max)
			json_object_array_del_idx(arr, (size_t)lists[i].max,
			    (size_t)(n - lists[i].max));
	}
}

/* 1 when the cluster is under its removal block (out->removed_at set), 0 not, -1 error. */
static int
check_blocked(struct db *db, const char *id, struct agent_kube_stored *out)
{
	char secs[24];
	const char *params[2] = {id, sr_i64(secs, sizeof(secs), AGENT_KUBE_REMOVAL_BLOCK_SECONDS)};
	PGresult *res = db_exec_stmt(db, &stmt_blocked, params);
	int blocked;

	if (res == NULL)
		return -1;
	if ((blocked = PQntuples(res) == 1))
		out->removed_at = strtod(PQgetvalue(res, 0, 0), NULL);
	PQclear(res);
	return blocked;
}

/* 1 when the token reports for another agent (out->bound_agent set), 0 not, -1 error. */
static int
check_binding(struct db *db, const char *token_id, const char *agent_id,
    struct agent_kube_stored *out)
{
	const char *params[2] = {token_id, agent_id};
	PGresult *res;
	int bound;

	if (token_id == NULL || !token_id[0])
		return 0;
	if ((res = db_exec_stmt(db, &stmt_binding, params)) == NULL)
		return -1;
	if ((bound = PQntuples(res) == 1))
		snprintf(out->bound_agent, sizeof(out->bound_agent), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return bound;
}

/* The row's text columns of a report. */
struct kube_row {
	char agent_id[AGENT_KUBE_ID_MAX], name[256], display_name[256], server[512];
	char context[256], version[128], agent_version[128];
};

static void
row_text(struct json_object *report, const char *id, struct kube_row *k)
{
	struct json_object *cluster = jsonread_member(report, "cluster");
	struct json_object *agent = jsonread_member(report, "agent");

	if (!text(k->agent_id, sizeof(k->agent_id), agent, "id")[0])
		snprintf(k->agent_id, sizeof(k->agent_id), "%s", id);
	if (!text(k->name, sizeof(k->name), cluster, "name")[0])
		snprintf(k->display_name, sizeof(k->display_name), "%s", id);
	else
		snprintf(k->display_name, sizeof(k->display_name), "%s", k->name);
	text(k->server, sizeof(k->server), cluster, "server");
	text(k->context, sizeof(k->context), cluster, "context");
	text(k->version, sizeof(k->version), cluster, "version");
	agent_kube_version(jsonread_string(agent, "version", ""), k->agent_version,
	    sizeof(k->agent_version));
}

static int
write_cluster(struct db *db, struct json_object *report, const char *id, const char *token_id,
    double last_seen, struct agent_kube_stored *out)
{
	struct json_object *nodes = agent_kube_nodes_doc(report);
	struct json_object *pods = agent_kube_pods_doc(report);
	struct json_object *deployments = agent_kube_deployments_doc(report);
	struct kube_row k;
	char seen[40], interval[24];
	const char *params[15];
	int rc;

	row_text(report, id, &k);
	bound_arrays(report);
	params[0] = id;
	params[1] = k.agent_id;
	params[2] = k.name;
	params[3] = k.display_name;
	params[4] = k.server;
	params[5] = k.context;
	params[6] = k.version;
	params[7] = k.agent_version;
	params[8] = token_id ? token_id : "";
	params[9] = sr_num(seen, sizeof(seen), last_seen);
	params[10] = sr_i64(interval, sizeof(interval),
	    jsonread_int(jsonread_member(report, "agent"), "intervalSeconds", 0));
	params[11] = json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN);
	params[12] = json_object_to_json_string_ext(nodes, JSON_C_TO_STRING_PLAIN);
	params[13] = json_object_to_json_string_ext(pods, JSON_C_TO_STRING_PLAIN);
	params[14] = json_object_to_json_string_ext(deployments, JSON_C_TO_STRING_PLAIN);
	out->nodes = (int)json_object_array_length(nodes);
	out->pods = (int)json_object_array_length(pods);
	out->deployments = (int)json_object_array_length(deployments);
	rc = db_exec_stmt_ok(db, &stmt_upsert, params);
	json_object_put(nodes);
	json_object_put(pods);
	json_object_put(deployments);
	return rc;
}

enum agent_kube_result
agent_kube_store(struct db *db, struct json_object *report, const char *token_id, double now,
    struct agent_kube_stored *out, char *err, size_t errlen)
{
	enum agent_kube_result rc = AGENT_KUBE_ERROR;
	struct agent_token_info token;
	char agent_id[AGENT_KUBE_ID_MAX];
	int hit;

	memset(out, 0, sizeof(*out));
	agent_kube_cluster_id(report, out->id, sizeof(out->id));
	if (!out->id[0])
		return AGENT_KUBE_NO_ID;
	if (!text(agent_id, sizeof(agent_id), jsonread_member(report, "agent"), "id")[0])
		snprintf(agent_id, sizeof(agent_id), "%s", out->id);
	out->last_seen = agent_report_time(report, now);
	if (db_begin(db) != 0)
		goto out;
	if ((hit = check_blocked(db, out->id, out)) != 0) {
		rc = hit > 0 ? AGENT_KUBE_REMOVED : AGENT_KUBE_ERROR;
		goto rollback;
	}
	if ((hit = check_binding(db, token_id, agent_id, out)) != 0) {
		if (hit > 0 && agent_token_info(db, token_id, &token) == 0) {
			snprintf(out->token_hint, sizeof(out->token_hint), "%s", token.hint);
			rc = AGENT_KUBE_TOKEN_IN_USE;
		}
		goto rollback;
	}
	if (write_cluster(db, report, out->id, token_id, out->last_seen, out) != 0 ||
	    st_bump_version(db) != 0 || db_commit(db) != 0)
		goto rollback;
	rc = AGENT_KUBE_OK;
	goto out;
rollback:
	db_rollback(db);
out:
	if (rc == AGENT_KUBE_ERROR)
		snprintf(err, errlen, "%s", db_error(db));
	return rc;
}

/* --- management (§5.4) ----------------------------------------------------------------- */

static const struct db_stmt stmt_remove = {
	"agent_kube_remove",
	"WITH gone AS (DELETE FROM pulse.agent_kube_clusters WHERE id = $1 AND NOT mock "
	"RETURNING name, display_name, token_id) INSERT INTO pulse.agent_kube_removed (id, name, "
	"display_name, removed_at) SELECT $1, coalesce((SELECT name FROM gone), ''), "
	"coalesce((SELECT coalesce(nullif(display_name, ''), name) FROM gone), ''), now() "
	"ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, display_name = "
	"EXCLUDED.display_name, removed_at = EXCLUDED.removed_at "
	"RETURNING coalesce((SELECT token_id FROM gone), '')",
	1,
};

/* The token goes whoever else uses it (agents.md §14 item 2). */
static const struct db_stmt stmt_revoke = {
	"agent_kube_revoke",
	"DELETE FROM pulse.api_tokens WHERE id::text = $1 RETURNING id",
	1,
};

int
agent_kube_remove(struct db *db, const char *id, int *revoked, char *err, size_t errlen)
{
	return agent_remove(db, &stmt_remove, &stmt_revoke, id, revoked, err, errlen);
}

static const struct db_stmt stmt_reenroll = {
	"agent_kube_reenroll",
	"DELETE FROM pulse.agent_kube_removed WHERE id = $1 RETURNING id",
	1,
};

/* Unhide also clears the removal block (as the original's). */
static const struct db_stmt stmt_unhide = {
	"agent_kube_unhide",
	"WITH unblock AS (DELETE FROM pulse.agent_kube_removed WHERE id = $1) "
	"UPDATE pulse.agent_kube_clusters SET hidden = false WHERE id = $1 AND NOT mock "
	"RETURNING id",
	1,
};

static const struct db_stmt stmt_pending = {
	"agent_kube_pending",
	"UPDATE pulse.agent_kube_clusters SET pending_uninstall = true WHERE id = $1 AND NOT mock "
	"RETURNING id",
	1,
};

static const struct db_stmt stmt_display_name = {
	"agent_kube_display_name",
	"UPDATE pulse.agent_kube_clusters SET custom_display_name = $2 WHERE id = $1 AND NOT mock "
	"RETURNING id",
	2,
};

int
agent_kube_allow_reenroll(struct db *db, const char *id)
{
	const char *params[1] = {id};

	return agent_change(db, &stmt_reenroll, params, 1);
}

int
agent_kube_unhide(struct db *db, const char *id)
{
	const char *params[1] = {id};

	return agent_change(db, &stmt_unhide, params, 0);
}

int
agent_kube_mark_pending_uninstall(struct db *db, const char *id)
{
	const char *params[1] = {id};

	return agent_change(db, &stmt_pending, params, 0);
}

int
agent_kube_set_display_name(struct db *db, const char *id, const char *display_name)
{
	const char *params[2] = {id, display_name};

	return agent_change(db, &stmt_display_name, params, 0);
}
