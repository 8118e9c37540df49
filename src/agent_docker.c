/* agent_docker.c: a Docker agent's report: type check, identity, documents, and its write. */
#include "config.h"

#include "agent_docker.h"
#include "agent_host.h"
#include "alert_agents.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "state_rows.h"
#include "timefmt.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- the decoder's types (§1.3, §4.1) ---------------------------------------------------- */

static const struct agent_field f_agent[] = {
	AF_S("id"), AF_S("version"), AF_S("type"), AF_I("intervalSeconds"), AF_END,
};
static const struct agent_field f_swarm[] = {
	AF_S("nodeId"), AF_S("nodeRole"), AF_S("localState"),
	AF_B("controlAvailable"), AF_S("clusterId"), AF_S("clusterName"),
	AF_S("scope"), AF_S("error"), AF_END,
};
static const struct agent_field f_host[] = {
	AF_S("hostname"), AF_S("name"), AF_S("machineId"), AF_S("os"),
	AF_S("runtime"), AF_S("runtimeVersion"), AF_S("dockerVersion"),
	AF_S("kernelVersion"), AF_S("architecture"), AF_I("totalCpu"),
	AF_I("totalMemoryBytes"), AF_I("uptimeSeconds"),
	{"swarm", AF_OBJ, AF_ANY, f_swarm}, AF_N("cpuUsagePercent"),
	{"loadAverage", AF_LIST, AF_NUM, NULL},
	{"memory", AF_OBJ, AF_ANY, agent_fields_memory},
	{"disks", AF_LIST, AF_OBJ, agent_fields_disk},
	{"network", AF_LIST, AF_OBJ, agent_fields_net}, AF_END,
};
static const struct agent_field f_port[] = {
	AF_I("privatePort"), AF_I("publicPort"), AF_S("protocol"), AF_S("ip"),
	AF_END,
};
static const struct agent_field f_cnet[] = {
	AF_S("name"), AF_S("ipv4"), AF_S("ipv6"), AF_END,
};
static const struct agent_field f_blockio[] = {
	AF_U("readBytes"), AF_U("writeBytes"), AF_END,
};
static const struct agent_field f_mount[] = {
	AF_S("type"), AF_S("source"), AF_S("destination"), AF_S("mode"),
	AF_B("rw"), AF_S("propagation"), AF_S("name"), AF_S("driver"), AF_END,
};
static const char *const podman_strings[] = {"podName", "podId", "composeProject",
    "composeService", "composeWorkdir", "composeConfigHash", "autoUpdatePolicy",
    "autoUpdateRestart", "userNamespace", NULL};
static const struct agent_field f_podman[] = {
	AF_S("podName"), AF_S("podId"), AF_B("infra"), AF_S("composeProject"),
	AF_S("composeService"), AF_S("composeWorkdir"), AF_S("composeConfigHash"),
	AF_S("autoUpdatePolicy"), AF_S("autoUpdateRestart"), AF_S("userNamespace"),
	AF_END,
};
static const struct agent_field f_update[] = {
	AF_B("updateAvailable"), AF_S("currentDigest"), AF_S("latestDigest"),
	AF_T("lastChecked"), AF_S("error"), AF_END,
};
static const struct agent_field f_container[] = {
	AF_S("id"), AF_S("name"), AF_S("image"), AF_S("imageDigest"),
	AF_T("createdAt"), AF_S("state"), AF_S("status"), AF_S("health"),
	AF_N("cpuPercent"), AF_I("memoryUsageBytes"), AF_I("memoryLimitBytes"),
	AF_N("memoryPercent"), AF_I("uptimeSeconds"), AF_I("restartCount"),
	AF_I("exitCode"), AF_T("startedAt"), AF_T("finishedAt"),
	{"ports", AF_LIST, AF_OBJ, f_port}, {"labels", AF_MAP, AF_STR, NULL},
	{"env", AF_LIST, AF_STR, NULL}, {"networks", AF_LIST, AF_OBJ, f_cnet},
	AF_I("writableLayerBytes"), AF_I("rootFilesystemBytes"),
	{"blockIo", AF_OBJ, AF_ANY, f_blockio},
	{"mounts", AF_LIST, AF_OBJ, f_mount},
	{"podman", AF_OBJ, AF_ANY, f_podman},
	{"updateStatus", AF_OBJ, AF_ANY, f_update}, AF_END,
};
static const struct agent_field f_sport[] = {
	AF_S("name"), AF_S("protocol"), AF_U("targetPort"), AF_U("publishedPort"),
	AF_S("publishMode"), AF_END,
};
static const struct agent_field f_supdate[] = {
	AF_S("state"), AF_S("message"), AF_T("completedAt"), AF_END,
};
static const struct agent_field f_service[] = {
	AF_S("id"), AF_S("name"), AF_S("stack"), AF_S("image"), AF_S("mode"),
	AF_I("desiredTasks"), AF_I("runningTasks"), AF_I("completedTasks"),
	{"labels", AF_MAP, AF_STR, NULL},
	{"endpointPorts", AF_LIST, AF_OBJ, f_sport},
	{"updateStatus", AF_OBJ, AF_ANY, f_supdate}, AF_T("createdAt"),
	AF_T("updatedAt"), AF_END,
};
static const char *const task_strings[] = {"serviceId", "serviceName", "nodeId", "nodeName",
    "desiredState", "currentState", "error", "message", "containerId", "containerName", NULL};
static const struct agent_field f_task[] = {
	AF_S("id"), AF_S("serviceId"), AF_S("serviceName"), AF_I("slot"),
	AF_S("nodeId"), AF_S("nodeName"), AF_S("desiredState"), AF_S("currentState"),
	AF_S("error"), AF_S("message"), AF_S("containerId"), AF_S("containerName"),
	AF_T("createdAt"), AF_T("updatedAt"), AF_T("startedAt"), AF_T("completedAt"),
	AF_END,
};
static const struct agent_field f_report[] = {
	{"agent", AF_OBJ, AF_ANY, f_agent}, {"host", AF_OBJ, AF_ANY, f_host},
	{"containers", AF_LIST, AF_OBJ, f_container},
	{"services", AF_LIST, AF_OBJ, f_service},
	{"tasks", AF_LIST, AF_OBJ, f_task}, AF_T("timestamp"), AF_END,
};

int
agent_docker_check_types(struct json_object *report, char *err, size_t errlen)
{
	return agent_check_types(report, f_report, "docker", err, errlen);
}

/* --- identity (§4.2) ------------------------------------------------------------------- */

static void
trimmed(char *dst, size_t len, struct json_object *o, const char *key)
{
	jsonread_copy_trimmed(dst, len, jsonread_string(o, key, ""));
}

void
agent_docker_agent_key(struct json_object *report, char *out, size_t len)
{
	struct json_object *agent = jsonread_member(report, "agent");
	struct json_object *host = jsonread_member(report, "host");

	trimmed(out, len, agent, "id");
	if (!out[0])
		trimmed(out, len, host, "machineId");
	if (!out[0])
		trimmed(out, len, host, "hostname");
}

/* hex6 of the suffix candidates' values joined by "|". */
static void
candidates_hash(struct json_object *report, const char *token_id, char *hex)
{
	struct json_object *agent = jsonread_member(report, "agent");
	struct json_object *host = jsonread_member(report, "host");
	const char *parts[5] = {token_id ? token_id : "", jsonread_string(agent, "id", ""),
	    jsonread_string(host, "machineId", ""), jsonread_string(host, "hostname", ""),
	    jsonread_string(host, "name", "")};
	struct strbuf sb = {0};

	for (int i = 0; i < 5; i++) {
		char buf[256];

		jsonread_copy_trimmed(buf, sizeof(buf), parts[i]);
		if (!buf[0])
			continue;
		if (sb.len)
			sb_puts(&sb, "|");
		sb_puts(&sb, buf);
	}
	agent_sha1_hex(sb.len ? sb.data : "", 3, hex);
	sb_free(&sb);
}

void
agent_docker_suffix(struct json_object *report, const char *token_id, int n, char *out,
    size_t len)
{
	struct json_object *agent = jsonread_member(report, "agent");
	struct json_object *host = jsonread_member(report, "host");
	static const char *const prefixes[] = {"token", "agent", "machine", "host", "name"};
	const char *values[5] = {token_id ? token_id : "", jsonread_string(agent, "id", ""),
	    jsonread_string(host, "machineId", ""), jsonread_string(host, "hostname", ""),
	    jsonread_string(host, "name", "")};
	char clean[AGENT_HOST_ID_MAX], hex[16];

	out[0] = '\0';
	if (n < 5) {
		agent_host_sanitize(values[n], clean, sizeof(clean));
		if (clean[0])
			snprintf(out, len, "%s-%s", prefixes[n], clean);
		return;
	}
	if (n == 5) {
		candidates_hash(report, token_id, hex);
		snprintf(out, len, "hash-%s", hex);
		return;
	}
	snprintf(out, len, "%d", n - 4);
}

const char *
agent_docker_runtime(const char *reported)
{
	char buf[32];

	jsonread_copy_trimmed(buf, sizeof(buf), reported);
	return strcasecmp(buf, "podman") == 0 ? "podman" : "docker";
}

void
agent_docker_version(const char *reported, char *out, size_t len)
{
	char buf[128];
	const char *p = buf;

	jsonread_copy_trimmed(buf, sizeof(buf), reported);
	while (*p == 'v' || *p == 'V')
		p++;
	if (!*p)
		out[0] = '\0';
	else
		snprintf(out, len, "v%s", p);
}

double
agent_docker_rate(int64_t prev_total, double prev_time, int64_t total, double time)
{
	if (prev_total < 0 || total < prev_total || !(time > prev_time))
		return -1;
	return (double)(total - prev_total) / (time - prev_time);
}

/* --- documents (DockerHostFrontend, DockerContainerFrontend) ---------------------------- */

/* Go's zero time in epoch ms: what the original writes for a container without createdAt. */
#define GO_ZERO_TIME_MS (-62135596800000LL)

/* Member key of o as epoch ms into dst key: when it is a time after Go's zero; always
 * (zero_ms then) when required. */
static void
time_ms(struct json_object *dst, const char *key, struct json_object *o, int required,
    int64_t zero_ms)
{
	double t;

	if (timefmt_parse_rfc3339(jsonread_string(o, key, ""), &t) == 0 && t > -62135596800.0)
		jsonwrite_int(dst, key, timefmt_unix_ms(t));
	else if (required)
		jsonwrite_int(dst, key, zero_ms);
}

/* A map of strings (at most AGENT_DOCKER_MAX_ITEMS); NULL when empty. */
static struct json_object *
string_map(struct json_object *map)
{
	return agent_map(map, AGENT_DOCKER_MAX_ITEMS, agent_string_value);
}

static struct json_object *
port_doc(struct json_object *p)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_int(o, "privatePort", jsonread_int(p, "privatePort", 0));
	jsonwrite_opt_int(o, "publicPort", jsonread_int(p, "publicPort", 0));
	agent_doc_str(o, "protocol", p, "protocol", 0);
	agent_doc_str(o, "ip", p, "ip", 1);
	return o;
}

static struct json_object *
network_doc(struct json_object *n)
{
	static const char *const addresses[] = {"ipv4", "ipv6", NULL};
	struct json_object *o = json_object_new_object();

	agent_doc_str(o, "name", n, "name", 0);
	agent_doc_opt_strs(o, n, addresses);
	return o;
}

static struct json_object *
mount_doc(struct json_object *m)
{
	static const char *const keys[] = {"type", "source", "destination", "mode", NULL};
	static const char *const tail[] = {"propagation", "name", "driver", NULL};
	struct json_object *o = json_object_new_object();

	agent_doc_opt_strs(o, m, keys);
	jsonwrite_bool(o, "rw", jsonread_bool(m, "rw", 0));
	agent_doc_opt_strs(o, m, tail);
	return o;
}

static struct json_object *
block_io_doc(struct json_object *b, const struct agent_docker_rates *rates)
{
	struct json_object *o;

	if (!jsonread_is_object(b))
		return NULL;
	o = json_object_new_object();
	jsonwrite_opt_int(o, "readBytes", jsonread_int(b, "readBytes", 0));
	jsonwrite_opt_int(o, "writeBytes", jsonread_int(b, "writeBytes", 0));
	if (rates && rates->read >= 0)
		jsonwrite_num(o, "readRateBytesPerSecond", rates->read);
	if (rates && rates->write >= 0)
		jsonwrite_num(o, "writeRateBytesPerSecond", rates->write);
	return o;
}

static struct json_object *
podman_doc(struct json_object *p)
{
	struct json_object *o;

	if (!jsonread_is_object(p))
		return NULL;
	o = json_object_new_object();
	agent_doc_opt_strs(o, p, podman_strings);
	jsonwrite_true_if(o, "infra", jsonread_bool(p, "infra", 0));
	if (json_object_object_length(o) == 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *
update_doc(struct json_object *u)
{
	static const char *const digests[] = {"currentDigest", "latestDigest", NULL};
	static const char *const error[] = {"error", NULL};
	struct json_object *o;

	if (!jsonread_is_object(u))
		return NULL;
	o = json_object_new_object();
	jsonwrite_bool(o, "updateAvailable", jsonread_bool(u, "updateAvailable", 0));
	agent_doc_opt_strs(o, u, digests);
	time_ms(o, "lastChecked", u, 1, 0);
	agent_doc_opt_strs(o, u, error);
	return o;
}

struct json_object *
agent_docker_container_doc(struct json_object *c, const struct agent_docker_rates *rates)
{
	static const char *const texts[] = {"id", "name", "image", "state", "status", NULL};
	struct json_object *o = json_object_new_object();

	for (const char *const *k = texts; *k; k++)
		agent_doc_str(o, *k, c, *k, 0);
	agent_doc_str(o, "health", c, "health", 1);
	jsonwrite_num(o, "cpuPercent", agent_finite(jsonread_number(c, "cpuPercent", 0)));
	jsonwrite_int(o, "memoryUsageBytes", jsonread_int(c, "memoryUsageBytes", 0));
	jsonwrite_int(o, "memoryLimitBytes", jsonread_int(c, "memoryLimitBytes", 0));
	jsonwrite_num(o, "memoryPercent", agent_finite(jsonread_number(c, "memoryPercent", 0)));
	jsonwrite_int(o, "uptimeSeconds", jsonread_int(c, "uptimeSeconds", 0));
	jsonwrite_int(o, "restartCount", jsonread_int(c, "restartCount", 0));
	jsonwrite_int(o, "exitCode", jsonread_int(c, "exitCode", 0));
	time_ms(o, "createdAt", c, 1, GO_ZERO_TIME_MS);
	time_ms(o, "startedAt", c, 0, 0);
	time_ms(o, "finishedAt", c, 0, 0);
	agent_doc_add(o, "ports", agent_doc_list(c, "ports", AGENT_DOCKER_MAX_ITEMS, port_doc));
	agent_doc_add(o, "labels", string_map(jsonread_member(c, "labels")));
	agent_doc_add(o, "networks", agent_doc_list(c, "networks", AGENT_DOCKER_MAX_ITEMS,
	    network_doc));
	jsonwrite_opt_int(o, "writableLayerBytes", jsonread_int(c, "writableLayerBytes", 0));
	jsonwrite_opt_int(o, "rootFilesystemBytes", jsonread_int(c, "rootFilesystemBytes", 0));
	agent_doc_add(o, "blockIo", block_io_doc(jsonread_member(c, "blockIo"), rates));
	agent_doc_add(o, "mounts", agent_doc_list(c, "mounts", AGENT_DOCKER_MAX_ITEMS, mount_doc));
	agent_doc_add(o, "podman", podman_doc(jsonread_member(c, "podman")));
	agent_doc_add(o, "updateStatus", update_doc(jsonread_member(c, "updateStatus")));
	return o;
}

static struct json_object *
service_port_doc(struct json_object *p)
{
	static const char *const names[] = {"name", "protocol", NULL};
	static const char *const mode[] = {"publishMode", NULL};
	struct json_object *o = json_object_new_object();

	agent_doc_opt_strs(o, p, names);
	jsonwrite_opt_int(o, "targetPort", jsonread_int(p, "targetPort", 0));
	jsonwrite_opt_int(o, "publishedPort", jsonread_int(p, "publishedPort", 0));
	agent_doc_opt_strs(o, p, mode);
	return o;
}

static struct json_object *
service_doc(struct json_object *s)
{
	static const char *const texts[] = {"stack", "image", "mode", NULL};
	static const char *const update_texts[] = {"state", "message", NULL};
	struct json_object *o = json_object_new_object(), *u = jsonread_member(s, "updateStatus");

	agent_doc_str(o, "id", s, "id", 0);
	agent_doc_str(o, "name", s, "name", 0);
	agent_doc_opt_strs(o, s, texts);
	jsonwrite_opt_int(o, "desiredTasks", jsonread_int(s, "desiredTasks", 0));
	jsonwrite_opt_int(o, "runningTasks", jsonread_int(s, "runningTasks", 0));
	jsonwrite_opt_int(o, "completedTasks", jsonread_int(s, "completedTasks", 0));
	agent_doc_add(o, "labels", string_map(jsonread_member(s, "labels")));
	agent_doc_add(o, "endpointPorts", agent_doc_list(s, "endpointPorts", AGENT_DOCKER_MAX_ITEMS,
	    service_port_doc));
	if (jsonread_is_object(u)) {
		struct json_object *d = json_object_new_object();

		agent_doc_opt_strs(d, u, update_texts);
		time_ms(d, "completedAt", u, 0, 0);
		json_object_object_add(o, "updateStatus", d);
	}
	time_ms(o, "createdAt", s, 0, 0);
	time_ms(o, "updatedAt", s, 0, 0);
	return o;
}

static struct json_object *
task_doc(struct json_object *t)
{
	static const char *const times[] = {"createdAt", "updatedAt", "startedAt", "completedAt"};
	struct json_object *o = json_object_new_object();

	agent_doc_str(o, "id", t, "id", 0);
	agent_doc_opt_strs(o, t, task_strings);
	jsonwrite_opt_int(o, "slot", jsonread_int(t, "slot", 0));
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		time_ms(o, times[i], t, 0, 0);
	return o;
}

static struct json_object *
swarm_doc(struct json_object *s)
{
	static const char *const head[] = {"nodeId", "nodeRole", "localState", NULL};
	static const char *const tail[] = {"clusterId", "clusterName", "scope", "error", NULL};
	struct json_object *o;

	if (!jsonread_is_object(s))
		return NULL;
	o = json_object_new_object();
	agent_doc_opt_strs(o, s, head);
	jsonwrite_true_if(o, "controlAvailable", jsonread_bool(s, "controlAvailable", 0));
	agent_doc_opt_strs(o, s, tail);
	return o;
}

/* Memory as the original keeps it: the report's when it has a total or a use, else the
 * daemon's total alone; usage from used / total when missing. NULL when nothing is known. */
static struct json_object *
host_memory(struct json_object *host)
{
	struct json_object *mem = jsonread_member(host, "memory"), *copy, *doc;
	int64_t total = jsonread_int(mem, "totalBytes", 0);
	int64_t used = jsonread_int(mem, "usedBytes", 0);
	double usage = agent_finite(jsonread_number(mem, "usage", 0));

	if (total <= 0 && used <= 0) {
		total = jsonread_int(host, "totalMemoryBytes", 0);
		if (total <= 0)
			return NULL;
		copy = json_object_new_object();
		jsonwrite_int(copy, "totalBytes", total);
		doc = agent_doc_memory(copy, 0);
		json_object_put(copy);
		return doc;
	}
	if (usage <= 0 && total > 0)
		usage = (double)used / (double)total * 100.0;
	return agent_doc_memory(mem, usage);
}

struct json_object *
agent_docker_host_doc(struct json_object *report, const struct agent_docker_doc_meta *m)
{
	struct json_object *host = jsonread_member(report, "host");
	struct json_object *agent = jsonread_member(report, "agent");
	struct json_object *o = json_object_new_object();
	static const char *const about[] = {"machineId", "os", "kernelVersion", "architecture",
	    NULL};
	char hostname[256], name[256], runtime_version[128], docker_version[128];

	trimmed(hostname, sizeof(hostname), host, "hostname");
	trimmed(name, sizeof(name), host, "name");
	trimmed(runtime_version, sizeof(runtime_version), host, "runtimeVersion");
	trimmed(docker_version, sizeof(docker_version), host, "dockerVersion");
	jsonwrite_str(o, "id", m->id);
	jsonwrite_str(o, "agentId", m->agent_id);
	jsonwrite_str(o, "hostname", hostname);
	jsonwrite_str(o, "displayName", name[0] ? name : hostname);
	agent_doc_opt_strs(o, host, about);
	jsonwrite_str(o, "runtime", agent_docker_runtime(jsonread_string(host, "runtime", "")));
	jsonwrite_opt_str(o, "runtimeVersion", runtime_version[0] ? runtime_version :
	    docker_version);
	jsonwrite_opt_str(o, "dockerVersion", docker_version[0] ? docker_version :
	    runtime_version);
	jsonwrite_int(o, "cpus", jsonread_int(host, "totalCpu", 0));
	jsonwrite_int(o, "totalMemoryBytes", jsonread_int(host, "totalMemoryBytes", 0));
	jsonwrite_int(o, "uptimeSeconds", jsonread_int(host, "uptimeSeconds", 0));
	jsonwrite_num(o, "cpuUsagePercent", agent_finite(jsonread_number(host, "cpuUsagePercent",
	    0)));
	agent_doc_add(o, "loadAverage", agent_doc_load(jsonread_member(host, "loadAverage")));
	agent_doc_add(o, "memory", host_memory(host));
	/* The original does not filter a Docker host's disks (agents.md §4.1). */
	agent_doc_add(o, "disks", agent_doc_disks(host, 0));
	agent_doc_add(o, "networkInterfaces", agent_doc_list(host, "network", AGENT_HOST_MAX_LIST,
	    agent_doc_network));
	jsonwrite_ms(o, "lastSeen", m->last_seen);
	jsonwrite_int(o, "intervalSeconds", jsonread_int(agent, "intervalSeconds", 0));
	jsonwrite_opt_str(o, "agentVersion", m->agent_version);
	agent_doc_add(o, "services", agent_doc_list(report, "services", AGENT_MAX_SERVICES,
	    service_doc));
	agent_doc_add(o, "tasks", agent_doc_list(report, "tasks", AGENT_DOCKER_MAX_TASKS,
	    task_doc));
	agent_doc_add(o, "swarm", swarm_doc(jsonread_member(host, "swarm")));
	agent_doc_token(o, m->token_id, m->token_name, m->token_hint, m->token_last_used);
	return o;
}

/* --- the write ------------------------------------------------------------------------- */

/* Reports of one token, and of one agent key, are stored one at a time: the binding and the
 * id are decided on what the other stored. */
static const struct db_stmt stmt_lock = {
	"agent_docker_lock",
	"SELECT pg_advisory_xact_lock(hashtext('pulse-docker-token:' || $1)), "
	"pg_advisory_xact_lock(hashtext('pulse-docker-key:' || $2))",
	2,
};

/* §4.2's matching rules, first match wins: $1 agent.id, $2 machineId, $3 hostname, $4 the
 * token ('' none). */
#define RULE1 "($1 <> '' AND agent_id = $1 AND ($4 = '' OR coalesce(token_id, '') = $4))"
#define RULE2 "($2 <> '' AND machine_id = $2 AND hostname = $3 AND " \
	"($4 = '' OR coalesce(token_id, '') = $4))"
#define RULE3 "($4 <> '' AND hostname = $3 AND token_id = $4)"
#define RULE4 "($4 = '' AND token_id IS NULL AND $2 <> '' AND machine_id = $2)"
#define RULE5 "($4 = '' AND token_id IS NULL AND hostname = $3)"
static const struct db_stmt stmt_match = {
	"agent_docker_match",
	"SELECT id FROM pulse.docker_hosts WHERE NOT mock AND (" RULE1 " OR " RULE2 " OR " RULE3
	" OR " RULE4 " OR " RULE5 ") ORDER BY CASE WHEN " RULE1 " THEN 1 WHEN " RULE2 " THEN 2 "
	"WHEN " RULE3 " THEN 3 WHEN " RULE4 " THEN 4 ELSE 5 END, id LIMIT 1",
	4,
};

static const struct db_stmt stmt_taken = {
	"agent_docker_taken",
	"SELECT 1 FROM pulse.docker_hosts WHERE id = $1",
	1,
};

/* The removal block of §4.2: the id, then the legacy fallbacks. */
static const struct db_stmt stmt_removed = {
	"agent_docker_removed",
	"SELECT id, extract(epoch FROM removed_at) FROM pulse.docker_removed_hosts WHERE NOT mock "
	"AND removed_at > now() - interval '24 hours' AND id IN ($1, $2, $3, $4, $5) "
	"ORDER BY id = $1 DESC, removed_at DESC LIMIT 1",
	5,
};

/* Another agent this token reports for (one token, one agent: §4.2). */
static const struct db_stmt stmt_bound = {
	"agent_docker_bound",
	"SELECT agent_id, coalesce(nullif(custom_display_name, ''), nullif(display_name, ''), "
	"hostname) FROM pulse.docker_hosts WHERE NOT mock AND token_id = $1 AND agent_id <> $2 "
	"ORDER BY received_at, id LIMIT 1",
	2,
};

static const struct db_stmt stmt_previous = {
	"agent_docker_previous",
	"SELECT agent_version, coalesce(token_id, '') FROM pulse.docker_hosts WHERE id = $1 "
	"FOR UPDATE",
	1,
};

static const struct db_stmt stmt_prev_containers = {
	"agent_docker_prev_containers",
	"SELECT id, coalesce(block_read_total, -1), coalesce(block_write_total, -1), "
	"extract(epoch FROM sampled_at) FROM pulse.docker_containers WHERE host_id = $1",
	1,
};

/* The pending-uninstall flag stays only while a stop command is under way (agents.md §4.3
 * clears it on any report, even the one that carries the stop: docs/COMPATIBILITY.md). */
static const struct db_stmt stmt_upsert = {
	"agent_docker_upsert",
	"INSERT INTO pulse.docker_hosts AS h (id, agent_id, hostname, display_name, machine_id, "
	"runtime, agent_version, token_id, status, last_seen, received_at, interval_seconds, "
	"cpu_usage, memory_usage, disk_usage, container_count, report, doc, needs_eval) VALUES "
	"($1, $2, $3, $4, $5, $6, $7, nullif($8, ''), 'online', "
	"to_timestamp($9::double precision), now(), $10, $11, $12, $13, $14, $15::json, "
	"$16::json, true) ON CONFLICT (id) DO UPDATE SET "
	"agent_id = EXCLUDED.agent_id, hostname = EXCLUDED.hostname, "
	"display_name = EXCLUDED.display_name, machine_id = EXCLUDED.machine_id, "
	"runtime = EXCLUDED.runtime, agent_version = EXCLUDED.agent_version, "
	"token_id = EXCLUDED.token_id, status = 'online', last_seen = EXCLUDED.last_seen, "
	"received_at = now(), interval_seconds = EXCLUDED.interval_seconds, "
	"cpu_usage = EXCLUDED.cpu_usage, memory_usage = EXCLUDED.memory_usage, "
	"disk_usage = EXCLUDED.disk_usage, container_count = EXCLUDED.container_count, "
	"report = EXCLUDED.report, doc = EXCLUDED.doc, needs_eval = true, "
	"pending_uninstall = h.pending_uninstall AND EXISTS (SELECT 1 FROM pulse.docker_commands c "
	"WHERE c.host_id = h.id AND c.type = 'stop' AND c.status IN ('queued', 'dispatched', "
	"'acknowledged', 'in_progress'))",
	16,
};

static const struct db_stmt stmt_clear_containers = {
	"agent_docker_clear_containers",
	"DELETE FROM pulse.docker_containers WHERE host_id = $1",
	1,
};

/* A report's containers in one statement; a repeated id keeps its first entry. */
static const struct db_stmt stmt_containers = {
	"agent_docker_containers",
	"INSERT INTO pulse.docker_containers (host_id, id, position, name, image, state, health, "
	"cpu_percent, memory_percent, memory_bytes, memory_limit, restart_count, sampled_at, "
	"block_read_total, block_write_total, block_read_rate, block_write_rate, doc) "
	"SELECT $1, r.id, r.position, r.name, r.image, r.state, r.health, r.cpu, r.mem, "
	"r.mem_bytes, r.mem_limit, r.restarts, to_timestamp($2::double precision), r.read_total, "
	"r.write_total, r.read_rate, r.write_rate, r.doc FROM json_to_recordset($3::json) AS "
	"r(id text, position integer, name text, image text, state text, health text, "
	"cpu double precision, mem double precision, mem_bytes bigint, mem_limit bigint, "
	"restarts integer, read_total numeric, write_total numeric, read_rate double precision, "
	"write_rate double precision, doc json) ON CONFLICT (host_id, id) DO NOTHING",
	3,
};

/* What the host's previous record and the report say. */
struct docker_context {
	char id[AGENT_DOCKER_ID_MAX], agent_key[AGENT_DOCKER_ID_MAX], agent_id[AGENT_DOCKER_ID_MAX];
	char agent_raw[256], machine_id[256], hostname[256];
	const char *token;		/* "" none */
	char token_id[64], version[128];
	struct agent_token_info token_info;
	double last_seen;
};

/* 1 when a row holds id, 0 when not, -1 on a database error. */
static int
id_taken(struct db *db, const char *id)
{
	const char *params[1] = {id};
	PGresult *res = db_exec_stmt(db, &stmt_taken, params);
	int taken;

	if (res == NULL)
		return -1;
	taken = PQntuples(res) > 0;
	PQclear(res);
	return taken;
}

/* §4.2: the host id of a report (an existing host's, else the agent key, made unique). */
static int
resolve_id(struct db *db, struct json_object *report, struct docker_context *c)
{
	const char *params[4] = {c->agent_raw, c->machine_id, c->hostname, c->token};
	PGresult *res = db_exec_stmt(db, &stmt_match, params);
	char base[AGENT_DOCKER_ID_MAX], hex[16], suffix[AGENT_HOST_ID_MAX + 16];
	int taken;

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		snprintf(c->id, sizeof(c->id), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		return 0;
	}
	PQclear(res);
	snprintf(base, sizeof(base), "%s", c->agent_key);
	if (!base[0]) {
		candidates_hash(report, c->token, hex);
		snprintf(base, sizeof(base), "docker-host-%s", hex);
	}
	snprintf(c->id, sizeof(c->id), "%s", base);
	for (int n = 0; (taken = id_taken(db, c->id)) == 1; n++) {
		agent_docker_suffix(report, c->token, n, suffix, sizeof(suffix));
		if (suffix[0])
			snprintf(c->id, sizeof(c->id), "%.100s::%.200s", base, suffix);
	}
	return taken;
}

/* 1 (msg says why) when the id or a legacy one was removed within 24 hours, 0, or -1. */
static int
removal_block(struct db *db, const struct docker_context *c, char *msg, size_t msglen)
{
	const char *params[5] = {c->id, c->agent_key, c->agent_raw, c->machine_id, c->hostname};
	PGresult *res = db_exec_stmt(db, &stmt_removed, params);
	char when[48];

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	timefmt_rfc3339(strtod(PQgetvalue(res, 0, 1), NULL), when, sizeof(when));
	snprintf(msg, msglen, "docker host \"%s\" was removed at %s and cannot report again. Use "
	    "Allow re-enroll in Settings -> Agents -> Removed Docker Hosts or rerun the installer "
	    "with a docker:manage token to clear this block", c->id, when);
	PQclear(res);
	return 1;
}

/* 1 (msg says why) when the token already serves another agent, 0, or -1. */
static int
token_in_use(struct db *db, const struct docker_context *c, char *msg, size_t msglen)
{
	const char *params[2] = {c->token, c->agent_id};
	PGresult *res;
	char hint[160] = "";

	if (!c->token[0])
		return 0;
	if ((res = db_exec_stmt(db, &stmt_bound, params)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	if (c->token_info.hint[0])
		snprintf(hint, sizeof(hint), " (%s)", c->token_info.hint);
	snprintf(msg, msglen, "API token%s is already in use by agent \"%s\" (host: %s). Each "
	    "Docker agent must use a unique API token. Generate a new token for this agent", hint,
	    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	PQclear(res);
	return 1;
}

/* The previous agent version and token of the host (kept when the report has none). */
static int
read_previous(struct db *db, struct docker_context *c)
{
	const char *params[1] = {c->id};
	PGresult *res = db_exec_stmt(db, &stmt_previous, params);

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		if (!c->version[0])
			snprintf(c->version, sizeof(c->version), "%s", PQgetvalue(res, 0, 0));
		if (!c->token[0])
			snprintf(c->token_id, sizeof(c->token_id), "%s", PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return 0;
}

struct json_object *
agent_docker_container_row(struct json_object *c, const char *id, int position,
    const struct agent_docker_rates *rates)
{
	struct json_object *row = json_object_new_object();
	struct json_object *io = jsonread_member(c, "blockIo");

	jsonwrite_str(row, "id", id);
	jsonwrite_int(row, "position", position);
	agent_doc_str(row, "name", c, "name", 0);
	agent_doc_str(row, "image", c, "image", 0);
	agent_doc_str(row, "state", c, "state", 0);
	agent_doc_str(row, "health", c, "health", 0);
	jsonwrite_num(row, "cpu", agent_finite(jsonread_number(c, "cpuPercent", 0)));
	jsonwrite_num(row, "mem", agent_finite(jsonread_number(c, "memoryPercent", 0)));
	jsonwrite_int(row, "mem_bytes", jsonread_int(c, "memoryUsageBytes", 0));
	jsonwrite_int(row, "mem_limit", jsonread_int(c, "memoryLimitBytes", 0));
	jsonwrite_int(row, "restarts", jsonread_int(c, "restartCount", 0));
	if (jsonread_is_object(io)) {
		jsonwrite_int(row, "read_total", jsonread_int(io, "readBytes", 0));
		jsonwrite_int(row, "write_total", jsonread_int(io, "writeBytes", 0));
	}
	if (rates->read >= 0)
		jsonwrite_num(row, "read_rate", rates->read);
	if (rates->write >= 0)
		jsonwrite_num(row, "write_rate", rates->write);
	json_object_object_add(row, "doc", agent_docker_container_doc(c, rates));
	return row;
}

/* The rows of the report's containers (at most AGENT_MAX_CONTAINERS) for stmt_containers,
 * with the rates from the previous report's counters (prev: id, read, write, time). */
static struct json_object *
container_rows(struct json_object *report, const PGresult *prev, double t)
{
	struct json_object *arr = jsonread_member(report, "containers");
	struct json_object *rows = json_object_new_array();
	int n = jsonread_array_len(arr);

	for (int i = 0; i < n && i < AGENT_MAX_CONTAINERS; i++) {
		struct json_object *c = json_object_array_get_idx(arr, (size_t)i), *row, *io;
		struct agent_docker_rates rates = {-1, -1};
		char id[256];
		int64_t rd, wr;

		if (!jsonread_is_object(c))
			continue;
		trimmed(id, sizeof(id), c, "id");
		if (!id[0])
			trimmed(id, sizeof(id), c, "name");
		if (!id[0])
			continue;
		io = jsonread_member(c, "blockIo");
		rd = jsonread_int(io, "readBytes", 0);
		wr = jsonread_int(io, "writeBytes", 0);
		for (int p = 0; jsonread_is_object(io) && p < PQntuples(prev); p++) {
			double pt = strtod(PQgetvalue(prev, p, 3), NULL);

			if (strcmp(PQgetvalue(prev, p, 0), id) != 0)
				continue;
			rates.read = agent_docker_rate(strtoll(PQgetvalue(prev, p, 1), NULL, 10),
			    pt, rd, t);
			rates.write = agent_docker_rate(strtoll(PQgetvalue(prev, p, 2), NULL, 10),
			    pt, wr, t);
		}
		row = agent_docker_container_row(c, id, i, &rates);
		json_object_array_add(rows, row);
	}
	return rows;
}

/* The rows of the report's containers, or NULL on a database error. */
static struct json_object *
read_containers(struct db *db, struct json_object *report, const struct docker_context *c)
{
	const char *params[1] = {c->id};
	struct json_object *rows;
	PGresult *prev;

	if ((prev = db_exec_stmt(db, &stmt_prev_containers, params)) == NULL)
		return NULL;
	rows = container_rows(report, prev, c->last_seen);
	PQclear(prev);
	return rows;
}

static int
write_containers(struct db *db, const struct docker_context *c, struct json_object *rows)
{
	const char *params[3] = {c->id, NULL, NULL};
	char t[40];

	params[1] = sr_num(t, sizeof(t), c->last_seen);
	params[2] = json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PLAIN);
	if (db_exec_stmt_ok(db, &stmt_clear_containers, params) != 0)
		return -1;
	if (json_object_array_length(rows) == 0)
		return 0;
	return db_exec_stmt_ok(db, &stmt_containers, params);
}

/* The report with its lists bounded, as the worker's evaluation reads it; containers'
 * environments (which the original ignores, and which may hold secrets an agent did not
 * mask) are not kept. */
static void
bound_report(struct json_object *report)
{
	struct json_object *containers = jsonread_member(report, "containers");

	static const struct {
		const char *key;
		size_t max;
	} lists[] = {{"containers", AGENT_MAX_CONTAINERS}, {"services", AGENT_MAX_SERVICES},
	    {"tasks", AGENT_DOCKER_MAX_TASKS}};

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct json_object *arr = jsonread_member(report, lists[i].key);

		if (jsonread_is_array(arr) && json_object_array_length(arr) > lists[i].max)
			json_object_array_del_idx(arr, lists[i].max,
			    json_object_array_length(arr) - lists[i].max);
	}
	for (int i = 0; i < jsonread_array_len(containers); i++) {
		struct json_object *c = json_object_array_get_idx(containers, (size_t)i);

		if (jsonread_is_object(c))
			json_object_object_del(c, "env");
	}
}

static int
write_host(struct db *db, struct json_object *report, const struct docker_context *c,
    int count)
{
	struct json_object *host = jsonread_member(report, "host");
	struct json_object *agent = jsonread_member(report, "agent");
	struct agent_docker_doc_meta m = {
		.id = c->id, .agent_id = c->agent_id, .agent_version = c->version,
		.last_seen = c->last_seen, .token_id = c->token_id,
		.token_name = c->token_info.name,
		.token_hint = c->token_info.hint, .token_last_used = c->token_info.last_used,
	};
	struct json_object *doc = agent_docker_host_doc(report, &m), *mem, *disks;
	char name[256], seen[40], interval[24], cpu[40], memory[40], disk[40], n[24];
	const char *params[16];
	int rc;

	trimmed(name, sizeof(name), host, "name");
	mem = jsonread_member(doc, "memory");
	disks = jsonread_member(doc, "disks");
	params[0] = c->id;
	params[1] = c->agent_id;
	params[2] = c->hostname;
	params[3] = name[0] ? name : c->hostname;
	params[4] = c->machine_id;
	params[5] = agent_docker_runtime(jsonread_string(host, "runtime", ""));
	params[6] = c->version;
	params[7] = c->token_id;
	params[8] = sr_num(seen, sizeof(seen), c->last_seen);
	params[9] = sr_i64(interval, sizeof(interval), jsonread_int(agent, "intervalSeconds", 0));
	params[10] = sr_num(cpu, sizeof(cpu), jsonread_number(doc, "cpuUsagePercent", 0));
	params[11] = sr_num(memory, sizeof(memory), jsonread_number(mem, "usage", 0));
	params[12] = jsonread_array_len(disks) > 0 ? sr_num(disk, sizeof(disk),
	    jsonread_number(json_object_array_get_idx(disks, 0), "usage", 0)) : NULL;
	params[13] = sr_i64(n, sizeof(n), count);
	params[14] = json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN);
	params[15] = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	rc = db_exec_stmt_ok(db, &stmt_upsert, params);
	json_object_put(doc);
	return rc;
}

/* Fills the context of a report; 0, or -1 when it names no hostname. */
static int
read_context(struct json_object *report, const struct agent_docker_token *tok, double now,
    struct docker_context *c)
{
	struct json_object *host = jsonread_member(report, "host");
	struct json_object *agent = jsonread_member(report, "agent");

	c->token = tok && tok->token_id ? tok->token_id : "";
	snprintf(c->token_id, sizeof(c->token_id), "%s", c->token);
	agent_docker_agent_key(report, c->agent_key, sizeof(c->agent_key));
	trimmed(c->agent_raw, sizeof(c->agent_raw), agent, "id");
	trimmed(c->machine_id, sizeof(c->machine_id), host, "machineId");
	trimmed(c->hostname, sizeof(c->hostname), host, "hostname");
	agent_docker_version(jsonread_string(agent, "version", ""), c->version, sizeof(c->version));
	c->last_seen = agent_report_time(report, now);
	return 0;
}

enum agent_docker_result
agent_docker_store(struct db *db, struct json_object *report,
    const struct agent_docker_token *tok, double now, struct agent_docker_stored *out,
    char *msg, size_t msglen)
{
	struct docker_context *c = xcalloc(1, sizeof(*c));
	struct json_object *rows = NULL;
	const char *lock[2];
	int hit;

	memset(out, 0, sizeof(*out));
	read_context(report, tok, now, c);
	bound_report(report);
	lock[0] = c->token;
	lock[1] = c->agent_key;
	if (db_begin(db) != 0)
		goto fail;
	if (db_exec_stmt_ok(db, &stmt_lock, lock) != 0 || resolve_id(db, report, c) != 0 ||
	    agent_token_info(db, c->token, &c->token_info) != 0)
		goto rollback;
	if ((hit = removal_block(db, c, msg, msglen)) != 0)
		goto refuse;
	snprintf(c->agent_id, sizeof(c->agent_id), "%s", c->agent_raw[0] ? c->agent_raw : c->id);
	if ((hit = token_in_use(db, c, msg, msglen)) != 0)
		goto refuse;
	if (!c->hostname[0]) {
		snprintf(msg, msglen, "docker report missing hostname");
		hit = 1;
		goto refuse;
	}
	if (read_previous(db, c) != 0 ||
	    agent_token_info(db, c->token_id, &c->token_info) != 0 ||
	    (rows = read_containers(db, report, c)) == NULL)
		goto rollback;
	out->containers = (int)json_object_array_length(rows);
	if (write_host(db, report, c, out->containers) != 0 || write_containers(db, c, rows) != 0 ||
	    agent_docker_command_for_report(db, c->id, &out->command) != 0 ||
	    st_bump_version(db) != 0 || db_commit(db) != 0)
		goto rollback;
	snprintf(out->id, sizeof(out->id), "%s", c->id);
	out->last_seen = c->last_seen;
	json_object_put(rows);
	free(c);
	return AGENT_DOCKER_OK;
refuse:
	db_rollback(db);
	free(c);
	if (hit < 0) {
		snprintf(msg, msglen, "%s", db_error(db));
		return AGENT_DOCKER_ERROR;
	}
	return AGENT_DOCKER_REFUSED;
rollback:
	db_rollback(db);
fail:
	snprintf(msg, msglen, "%s", db_error(db));
	json_object_put(out->command);
	out->command = NULL;
	json_object_put(rows);
	free(c);
	return AGENT_DOCKER_ERROR;
}
