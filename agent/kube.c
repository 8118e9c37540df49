/* kube.c: the agent's Kubernetes mode (agents.md §5.1, §9.1, §9.5): the API server read
 * with the pod's service account, its nodes, pods and deployments made into the report the
 * server takes, problem pods and deployments kept, sent through an outbox of its own. */
#include "config.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "crypto.h"
#include "http_client.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "timefmt.h"
#include "util.h"

/* --- quantities, namespaces, problems ---------------------------------------------------- */

int
agent_kube_quantity(const char *s, double scale, int64_t *out)
{
	static const struct { const char *suffix; double factor; } suffixes[] = {
		{ "Ki", 1024.0 }, { "Mi", 1048576.0 }, { "Gi", 1073741824.0 },
		{ "Ti", 1099511627776.0 }, { "Pi", 1125899906842624.0 },
		{ "Ei", 1152921504606846976.0 }, { "n", 1e-9 }, { "u", 1e-6 }, { "m", 1e-3 },
		{ "k", 1e3 }, { "M", 1e6 }, { "G", 1e9 }, { "T", 1e12 }, { "P", 1e15 },
		{ "E", 1e18 }, { "", 1 },
	};
	char *end;
	double v;

	if (s == NULL || !*s)
		return -1;
	v = strtod(s, &end);
	if (end == s || !isfinite(v))
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
		if (strcmp(end, suffixes[i].suffix) != 0)
			continue;
		v = v * suffixes[i].factor * scale;
		if (!(v > -9.2e18 && v < 9.2e18))
			return -1;
		*out = (int64_t)v;
		return 0;
	}
	return -1;
}

static int
glob_any(char *const *globs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(globs[i], name, 0) == 0)
			return 1;
	return 0;
}

int
agent_kube_namespace_wanted(const struct agent_config *cfg, const char *ns)
{
	if (glob_any(cfg->kube_exclude, cfg->nkube_exclude, ns))
		return 0;
	return cfg->nkube_include == 0 || glob_any(cfg->kube_include, cfg->nkube_include, ns);
}

/* The state a container status is in: running, waiting, terminated or unknown. */
static const char *
container_state(struct json_object *status, struct json_object **detail)
{
	static const char *const states[] = { "running", "waiting", "terminated" };
	struct json_object *state = jsonread_member(status, "state");

	for (size_t i = 0; i < ARRAY_LEN(states); i++)
		if (jsonread_is_object(*detail = jsonread_member(state, states[i])))
			return states[i];
	*detail = NULL;
	return "unknown";
}

int
agent_kube_pod_problem(struct json_object *pod)
{
	struct json_object *status = jsonread_member(pod, "status"), *arr, *detail;
	const char *phase = jsonread_string(status, "phase", "");

	if (strcmp(phase, "Pending") == 0 || strcmp(phase, "Failed") == 0 ||
	    strcmp(phase, "Unknown") == 0)
		return 1;
	arr = jsonread_member(status, "initContainerStatuses");
	for (int i = 0; i < jsonread_array_len(arr); i++) {
		struct json_object *c = json_object_array_get_idx(arr, (size_t)i);
		const char *state = container_state(c, &detail);

		if (strcmp(state, "terminated") == 0) {
			if (jsonread_int(detail, "exitCode", 0) != 0)
				return 1;
			continue;
		}
		if (strcmp(state, "waiting") == 0 ||
		    (!jsonread_bool(c, "ready", 0) && strcmp(state, "running") != 0))
			return 1;
	}
	arr = jsonread_member(status, "containerStatuses");
	for (int i = 0; i < jsonread_array_len(arr); i++) {
		struct json_object *c = json_object_array_get_idx(arr, (size_t)i);
		const char *state = container_state(c, &detail);

		if (strcmp(state, "waiting") == 0 || strcmp(state, "terminated") == 0 ||
		    !jsonread_bool(c, "ready", 0))
			return 1;
	}
	return 0;
}

int
agent_kube_deployment_problem(struct json_object *deployment)
{
	struct json_object *status = jsonread_member(deployment, "status");
	int64_t desired = jsonread_int(jsonread_member(deployment, "spec"), "replicas", 0);

	return desired > 0 && (jsonread_int(status, "availableReplicas", 0) < desired ||
	    jsonread_int(status, "readyReplicas", 0) < desired ||
	    jsonread_int(status, "updatedReplicas", 0) < desired);
}

/* --- the report's objects (§5.1) --------------------------------------------------------- */

static void
copy_member(struct json_object *dst, const char *dk, struct json_object *src, const char *sk)
{
	jsonwrite_opt_str(dst, dk, jsonread_string(src, sk, ""));
}

/* A map of strings (labels) copied, or NULL when it has none. */
static struct json_object *
labels(struct json_object *map)
{
	struct json_object *out = NULL;

	if (!jsonread_is_object(map))
		return NULL;
	json_object_object_foreach(map, key, val) {
		if (!json_object_is_type(val, json_type_string))
			continue;
		if (out == NULL)
			out = json_object_new_object();
		json_object_object_add(out, key, json_object_new_string(json_object_get_string(val)));
	}
	return out;
}

static void
add_opt(struct json_object *o, const char *key, struct json_object *v)
{
	if (v)
		json_object_object_add(o, key, v);
}

/* {cpuCores, memoryBytes, pods} of a capacity or allocatable map. */
static struct json_object *
resources(struct json_object *r)
{
	struct json_object *o = json_object_new_object();
	int64_t milli = 0, memory = 0, pods = 0;

	(void)agent_kube_quantity(jsonread_string(r, "cpu", ""), 1000, &milli);
	(void)agent_kube_quantity(jsonread_string(r, "memory", ""), 1, &memory);
	(void)agent_kube_quantity(jsonread_string(r, "pods", ""), 1, &pods);
	jsonwrite_int(o, "cpuCores", milli / 1000);
	jsonwrite_int(o, "memoryBytes", memory);
	jsonwrite_int(o, "pods", pods);
	return o;
}

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The node-role.kubernetes.io/<role> labels (an empty role is "master") and the
 * kubernetes.io/role label, deduplicated and sorted; NULL when none. */
static struct json_object *
roles(struct json_object *node_labels)
{
	static const char prefix[] = "node-role.kubernetes.io/";
	const char *found[64];
	size_t n = 0;
	struct json_object *out;

	if (!jsonread_is_object(node_labels))
		return NULL;
	json_object_object_foreach(node_labels, key, val) {
		const char *role = NULL;

		if (strncmp(key, prefix, sizeof(prefix) - 1) == 0)
			role = key[sizeof(prefix) - 1] ? key + sizeof(prefix) - 1 : "master";
		else if (strcmp(key, "kubernetes.io/role") == 0 &&
		    json_object_is_type(val, json_type_string) && *json_object_get_string(val))
			role = json_object_get_string(val);
		if (role && n < ARRAY_LEN(found))
			found[n++] = role;
	}
	if (n == 0)
		return NULL;
	qsort(found, n, sizeof(found[0]), compare_strings);
	out = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(found[i], found[i - 1]) != 0)
			json_object_array_add(out, json_object_new_string(found[i]));
	return out;
}

struct json_object *
agent_kube_node(struct json_object *node)
{
	static const char *const info_keys[] = { "kubeletVersion", "containerRuntimeVersion",
	    "osImage", "kernelVersion", "architecture" };
	struct json_object *meta = jsonread_member(node, "metadata");
	struct json_object *status = jsonread_member(node, "status");
	struct json_object *info = jsonread_member(status, "nodeInfo");
	struct json_object *conditions = jsonread_member(status, "conditions");
	struct json_object *o = json_object_new_object();
	int ready = 0;

	for (int i = 0; i < jsonread_array_len(conditions); i++) {
		struct json_object *c = json_object_array_get_idx(conditions, (size_t)i);

		if (strcmp(jsonread_string(c, "type", ""), "Ready") == 0)
			ready = strcmp(jsonread_string(c, "status", ""), "True") == 0;
	}
	copy_member(o, "uid", meta, "uid");
	copy_member(o, "name", meta, "name");
	jsonwrite_bool(o, "ready", ready);
	jsonwrite_true_if(o, "unschedulable",
	    jsonread_bool(jsonread_member(node, "spec"), "unschedulable", 0));
	for (size_t i = 0; i < ARRAY_LEN(info_keys); i++)
		copy_member(o, info_keys[i], info, info_keys[i]);
	json_object_object_add(o, "capacity", resources(jsonread_member(status, "capacity")));
	json_object_object_add(o, "allocatable",
	    resources(jsonread_member(status, "allocatable")));
	add_opt(o, "roles", roles(jsonread_member(meta, "labels")));
	return o;
}

static struct json_object *
container(struct json_object *status)
{
	struct json_object *o = json_object_new_object(), *detail;
	const char *state = container_state(status, &detail);

	copy_member(o, "name", status, "name");
	copy_member(o, "image", status, "image");
	jsonwrite_bool(o, "ready", jsonread_bool(status, "ready", 0));
	jsonwrite_opt_int(o, "restartCount", jsonread_int(status, "restartCount", 0));
	jsonwrite_str(o, "state", state);
	copy_member(o, "reason", detail, "reason");
	copy_member(o, "message", detail, "message");
	return o;
}

/* The controller among the owner references, else the first. */
static struct json_object *
owner(struct json_object *meta)
{
	struct json_object *refs = jsonread_member(meta, "ownerReferences");

	for (int i = 0; i < jsonread_array_len(refs); i++) {
		struct json_object *r = json_object_array_get_idx(refs, (size_t)i);

		if (jsonread_bool(r, "controller", 0))
			return r;
	}
	return jsonread_array_len(refs) > 0 ? json_object_array_get_idx(refs, 0) : NULL;
}

struct json_object *
agent_kube_pod(struct json_object *pod)
{
	static const char *const status_keys[] = { "phase", "reason", "message", "qosClass" };
	struct json_object *meta = jsonread_member(pod, "metadata");
	struct json_object *status = jsonread_member(pod, "status");
	struct json_object *statuses = jsonread_member(status, "containerStatuses");
	struct json_object *o = json_object_new_object(), *containers = NULL, *own;
	int64_t restarts = 0;

	copy_member(o, "uid", meta, "uid");
	copy_member(o, "name", meta, "name");
	copy_member(o, "namespace", meta, "namespace");
	copy_member(o, "nodeName", jsonread_member(pod, "spec"), "nodeName");
	for (size_t i = 0; i < ARRAY_LEN(status_keys); i++)
		copy_member(o, status_keys[i], status, status_keys[i]);
	copy_member(o, "createdAt", meta, "creationTimestamp");
	copy_member(o, "startTime", status, "startTime");
	for (int i = 0; i < jsonread_array_len(statuses); i++) {
		struct json_object *c = json_object_array_get_idx(statuses, (size_t)i);

		restarts += jsonread_int(c, "restartCount", 0);
		if (containers == NULL)
			containers = json_object_new_array();
		json_object_array_add(containers, container(c));
	}
	jsonwrite_opt_int(o, "restarts", restarts);
	add_opt(o, "labels", labels(jsonread_member(meta, "labels")));
	if ((own = owner(meta)) != NULL) {
		copy_member(o, "ownerKind", own, "kind");
		copy_member(o, "ownerName", own, "name");
	}
	add_opt(o, "containers", containers);
	return o;
}

struct json_object *
agent_kube_deployment(struct json_object *deployment)
{
	static const char *const status_keys[] = { "updatedReplicas", "readyReplicas",
	    "availableReplicas" };
	struct json_object *meta = jsonread_member(deployment, "metadata");
	struct json_object *status = jsonread_member(deployment, "status");
	struct json_object *o = json_object_new_object();

	copy_member(o, "uid", meta, "uid");
	copy_member(o, "name", meta, "name");
	copy_member(o, "namespace", meta, "namespace");
	jsonwrite_opt_int(o, "desiredReplicas",
	    jsonread_int(jsonread_member(deployment, "spec"), "replicas", 0));
	for (size_t i = 0; i < ARRAY_LEN(status_keys); i++)
		jsonwrite_opt_int(o, status_keys[i], jsonread_int(status, status_keys[i], 0));
	add_opt(o, "labels", labels(jsonread_member(meta, "labels")));
	return o;
}

/* By namespace, then name (report objects). */
static int
compare_objects(const void *a, const void *b)
{
	struct json_object *x = *(struct json_object *const *)a;
	struct json_object *y = *(struct json_object *const *)b;
	int c = strcmp(jsonread_string(x, "namespace", ""), jsonread_string(y, "namespace", ""));

	return c ? c : strcmp(jsonread_string(x, "name", ""), jsonread_string(y, "name", ""));
}

/* The items of a list answer that are wanted, converted and sorted, at most max (0: all). */
static struct json_object *
items(const struct agent_config *cfg, struct json_object *list, int (*problem)(
    struct json_object *), int all, struct json_object *(*convert)(struct json_object *),
    int max)
{
	struct json_object *arr = jsonread_member(list, "items"), *out = json_object_new_array();

	for (int i = 0; i < jsonread_array_len(arr); i++) {
		struct json_object *it = json_object_array_get_idx(arr, (size_t)i);
		const char *ns = jsonread_string(jsonread_member(it, "metadata"), "namespace", "");

		if (!jsonread_is_object(it) || (problem && !agent_kube_namespace_wanted(cfg, ns)) ||
		    (problem && !all && !problem(it)))
			continue;
		json_object_array_add(out, convert(it));
	}
	json_object_array_sort(out, compare_objects);
	if (max > 0 && (int)json_object_array_length(out) > max)
		json_object_array_del_idx(out, (size_t)max, json_object_array_length(out) -
		    (size_t)max);
	return out;
}

void
agent_kube_cluster_identity(const char *server, const char *context, const char *name,
    char *id, size_t len)
{
	char key[1024], hex[65];

	snprintf(key, sizeof(key), "%s|%s|%s", server, context, name);
	crypto_sha256_hex(key, strlen(key), hex);
	snprintf(id, len, "%s", hex);
}

struct json_object *
agent_kube_report(const struct agent_config *cfg, const struct agent_kube_answers *a,
    const char *server, double now)
{
	struct json_object *r = json_object_new_object(), *agent, *cluster;
	char id[65], when[48];
	const char *name = "in-cluster";

	agent_kube_cluster_identity(server, "", name, id, sizeof(id));
	agent = json_object_new_object();
	jsonwrite_str(agent, "id", cfg->agent_id && *cfg->agent_id ? cfg->agent_id : id);
	jsonwrite_str(agent, "version", PACKAGE_VERSION);
	jsonwrite_str(agent, "type", "unified");
	jsonwrite_int(agent, "intervalSeconds", (int64_t)lround(cfg->interval));
	json_object_object_add(r, "agent", agent);
	cluster = json_object_new_object();
	jsonwrite_str(cluster, "id", id);
	jsonwrite_str(cluster, "name", name);
	jsonwrite_str(cluster, "server", server);
	jsonwrite_opt_str(cluster, "version", jsonread_string(a->version, "gitVersion", ""));
	json_object_object_add(r, "cluster", cluster);
	json_object_object_add(r, "nodes", items(cfg, a->nodes, NULL, 1, agent_kube_node, 0));
	json_object_object_add(r, "pods", items(cfg, a->pods, agent_kube_pod_problem,
	    cfg->kube_all_pods, agent_kube_pod, cfg->kube_max_pods));
	json_object_object_add(r, "deployments", items(cfg, a->deployments,
	    agent_kube_deployment_problem, cfg->kube_all_deployments, agent_kube_deployment, 0));
	jsonwrite_str(r, "timestamp", timefmt_rfc3339_nano(now, when, sizeof(when)));
	return r;
}

/* --- the API server (in-cluster service account) ----------------------------------------- */

#define KUBE_SERVICE_ACCOUNT "/var/run/secrets/kubernetes.io/serviceaccount"
#define KUBE_TIMEOUT_MS 20000
/* The lists grow with the cluster (the server's large-answer cap). */
#define KUBE_MAX_RESPONSE ((size_t)64 * 1024 * 1024)

struct kubeagent {
	const struct agent_config *cfg;
	char server[300];		/* https://host:port, "" when not in a cluster */
	char account[512];		/* the service account's directory */
	struct agent_outbox out;
};

/* GET path from the API server with the service account's token (read each time: it is
 * rotated). The answer's JSON, or NULL (logged). */
static struct json_object *
api_get(struct kubeagent *k, const char *path)
{
	char file[600], ca[600], err[160];
	char *token, *p;
	struct agent_http_request req;
	struct agent_http_answer ans;
	struct json_object *answer = NULL;

	snprintf(file, sizeof(file), "%s/token", k->account);
	if ((token = agent_read_file(file)) == NULL) {
		log_warn("kubernetes: no service account token file=%s", file);
		return NULL;
	}
	for (p = token + strlen(token); p > token && (p[-1] == '\n' || p[-1] == ' '); p--)
		p[-1] = '\0';
	snprintf(file, sizeof(file), "%s%s", k->server, path);
	agent_http_request_init(&req, "GET", file);
	agent_http_add_header(&req, "Authorization", "Bearer %s", token);
	agent_http_add_header(&req, "Accept", "application/json");
	secret_free(token);
	snprintf(ca, sizeof(ca), "%s/ca.crt", k->account);
	if (access(ca, R_OK) == 0)
		req.ca_file = ca;
	req.timeout_ms = KUBE_TIMEOUT_MS;
	req.max_response = KUBE_MAX_RESPONSE;
	if (agent_http_perform(&req, &ans) != 0 || ans.status != 200)
		log_warn("kubernetes: GET %s failed status=%ld error=\"%s\"", path, ans.status,
		    ans.error);
	else if ((answer = jsonutil_parse(ans.body ? ans.body : "", ans.len, err,
	    sizeof(err))) == NULL)
		log_warn("kubernetes: GET %s answered no JSON error=\"%s\"", path, err);
	agent_http_answer_free(&ans);
	agent_http_request_clear(&req);
	return answer;
}

struct kubeagent *
kubeagent_new(const struct agent_config *cfg, const volatile sig_atomic_t *stop)
{
	struct kubeagent *k = xcalloc(1, sizeof(*k));
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *account = getenv("PULSE_KUBE_SERVICE_ACCOUNT_DIR");

	k->cfg = cfg;
	snprintf(k->account, sizeof(k->account), "%s", account && *account ? account :
	    KUBE_SERVICE_ACCOUNT);
	if (host && *host)
		snprintf(k->server, sizeof(k->server), strchr(host, ':') ? "https://[%s]:%s" :
		    "https://%s:%s", host, port && *port ? port : "443");
	k->out.channel = (struct agent_channel){ "kubernetes report",
	    "/api/agents/kubernetes/report", "pulse-kubernetes-agent/" PACKAGE_VERSION,
	    "kubernetes:report" };
	k->out.stop = stop;
	log_info("kubernetes module on server=%s service_account=%s", k->server[0] ? k->server :
	    "(not in a cluster: KUBERNETES_SERVICE_HOST unset)", k->account);
	return k;
}

void
kubeagent_free(struct kubeagent *k)
{
	if (k == NULL)
		return;
	agent_buffer_free(&k->out.buffer);
	free(k);
}

int
kubeagent_cycle(struct kubeagent *k)
{
	struct agent_kube_answers a = {0};
	struct json_object *report;
	int rc = 0;

	if (!k->server[0])
		return 0;
	if ((a.version = api_get(k, "/version")) == NULL ||
	    (a.nodes = api_get(k, "/api/v1/nodes")) == NULL ||
	    (a.pods = api_get(k, "/api/v1/pods?fieldSelector=status.phase%21%3DSucceeded")) ==
	    NULL || (a.deployments = api_get(k, "/apis/apps/v1/deployments")) == NULL)
		goto out;
	report = agent_kube_report(k->cfg, &a, k->server, clock_wall());
	if (agent_outbox_deliver(k->cfg, &k->out, xstrdup(json_object_to_json_string_ext(report,
	    JSON_C_TO_STRING_PLAIN))) == AGENT_SEND_REMOVED) {
		log_error("kubernetes: the server removed this cluster: the module stops");
		rc = -1;
	}
	json_object_put(report);
out:
	json_object_put(a.version);
	json_object_put(a.nodes);
	json_object_put(a.pods);
	json_object_put(a.deployments);
	return rc;
}
