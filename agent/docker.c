/* docker.c: the agent's Docker module (agents.md §4.1, §9.5, §9.7): finds the engine's Unix
 * socket, reads the daemon, its containers and (on a Swarm manager) services and tasks, and
 * sends POST /api/agents/docker/report with the host report's buffer and retry. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agent.h"
#include "http_client.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "timefmt.h"
#include "util.h"

/* Finding the engine: the first wait, doubling up to the longest (§9.2). */
#define ENGINE_RETRY_FIRST 5.0
#define ENGINE_RETRY_MAX 300.0
/* At most this many containers' CPU samples are kept between reports. */
#define CPU_SAMPLES_MAX 4096
/* An updated container's backup is removed this long after the update (§9.8). */
#define BACKUP_KEEP_SECONDS 300.0

struct cpu_slot {
	char id[72];
	struct agent_docker_cpu_sample sample;
	int seen;		/* in the last report */
};

struct dockeragent {
	const struct agent_config *cfg;
	struct docker_engine engine;
	char agent_id[256], hostname[256], machine_id[128];
	double retry_at, retry_wait;	/* finding the engine */
	int engine_logged;		/* "no engine" said once until it changes */
	struct agent_outbox out;
	struct cpu_slot *cpu;
	size_t ncpu;
	struct json_object *pending;	/* commands from the answers of this cycle's sends */
	char backup[128];	/* an update's backup container, "" when none */
	double backup_remove_at;	/* monotonic */
};

/* Keeps the commands of each accepted report's answer for the end of the cycle. */
static void
on_answer(void *arg, const char *answer)
{
	struct dockeragent *d = arg;

	dockeragent_take_commands(d->pending, answer);
}

struct dockeragent *
dockeragent_new(const struct agent_config *cfg, const char *agent_id, const char *hostname,
    const char *machine_id, const volatile sig_atomic_t *stop)
{
	struct dockeragent *d = xcalloc(1, sizeof(*d));

	d->cfg = cfg;
	snprintf(d->agent_id, sizeof(d->agent_id), "%s", agent_id);
	snprintf(d->hostname, sizeof(d->hostname), "%s", hostname);
	snprintf(d->machine_id, sizeof(d->machine_id), "%s", machine_id);
	d->out.channel = (struct agent_channel){ "docker report", "/api/agents/docker/report",
	    "pulse-docker-agent/" PACKAGE_VERSION, "docker:report" };
	d->out.stop = stop;
	d->out.on_answer = on_answer;
	d->out.answer_arg = d;
	d->pending = json_object_new_array();
	d->retry_wait = ENGINE_RETRY_FIRST;
	return d;
}

void
dockeragent_free(struct dockeragent *d)
{
	if (!d)
		return;
	agent_buffer_free(&d->out.buffer);
	json_object_put(d->pending);
	free(d->cpu);
	free(d);
}

/* The kept CPU sample of a container, a new one when it has none (NULL when full). */
static struct agent_docker_cpu_sample *
cpu_sample(struct dockeragent *d, const char *id)
{
	for (size_t i = 0; i < d->ncpu; i++)
		if (strcmp(d->cpu[i].id, id) == 0) {
			d->cpu[i].seen = 1;
			return &d->cpu[i].sample;
		}
	if (d->ncpu == CPU_SAMPLES_MAX)
		return NULL;
	d->cpu = xrealloc(d->cpu, (d->ncpu + 1) * sizeof(*d->cpu));
	memset(&d->cpu[d->ncpu], 0, sizeof(*d->cpu));
	snprintf(d->cpu[d->ncpu].id, sizeof(d->cpu[d->ncpu].id), "%s", id);
	d->cpu[d->ncpu].seen = 1;
	return &d->cpu[d->ncpu++].sample;
}

/* Forgets the samples of containers the last report did not see. */
static void
cpu_sweep(struct dockeragent *d)
{
	size_t k = 0;

	for (size_t i = 0; i < d->ncpu; i++)
		if (d->cpu[i].seen) {
			d->cpu[k] = d->cpu[i];
			d->cpu[k++].seen = 0;
		}
	d->ncpu = k;
}

/* An engine timestamp when it is one and not Go's zero time. */
static void
opt_time_str(struct json_object *o, const char *k, const char *v)
{
	double t;

	if (v && *v && timefmt_parse_rfc3339(v, &t) == 0 && t > 0)
		jsonwrite_str(o, k, v);
}

/* Copies a string-to-string map, left out when empty. */
static void
opt_labels(struct json_object *o, const char *k, struct json_object *labels)
{
	struct json_object *m;

	if (!jsonread_is_object(labels) || json_object_object_length(labels) == 0)
		return;
	m = json_object_new_object();
	json_object_object_foreach(labels, key, val)
		json_object_object_add(m, key, json_object_new_string(
		    json_object_is_type(val, json_type_string) ? json_object_get_string(val) : ""));
	json_object_object_add(o, k, m);
}

/* One element of the report from one element of the engine's answer. */
typedef struct json_object *(*convert_fn)(struct json_object *from);

/* o[k] = the converted elements of the array src, left out when src is empty. */
static void
add_mapped(struct json_object *o, const char *k, struct json_object *src, convert_fn convert)
{
	struct json_object *a;

	if (jsonread_array_len(src) == 0)
		return;
	a = json_object_new_array();
	for (int i = 0; i < jsonread_array_len(src); i++)
		json_object_array_add(a, convert(json_object_array_get_idx(src, (size_t)i)));
	json_object_object_add(o, k, a);
}

/* A member of the report copied from one of the engine's, by kind. */
enum copy_kind { COPY_STR, COPY_OPT_STR, COPY_INT, COPY_OPT_INT, COPY_BOOL };
struct copy_field {
	const char *to, *from;
	enum copy_kind kind;
};

/* A new object holding the n fields of src that map says, in the map's order. */
static struct json_object *
copy_fields(struct json_object *src, const struct copy_field *map, size_t n)
{
	struct json_object *e = json_object_new_object();

	for (size_t i = 0; i < n; i++) {
		const struct copy_field *f = &map[i];

		switch (f->kind) {
		case COPY_STR: jsonwrite_str(e, f->to, jsonread_string(src, f->from, "")); break;
		case COPY_OPT_STR:
			jsonwrite_opt_str(e, f->to, jsonread_string(src, f->from, ""));
			break;
		case COPY_INT: jsonwrite_int(e, f->to, jsonread_int(src, f->from, 0)); break;
		case COPY_OPT_INT: jsonwrite_opt_int(e, f->to, jsonread_int(src, f->from, 0)); break;
		case COPY_BOOL: jsonwrite_bool(e, f->to, jsonread_bool(src, f->from, 0)); break;
		}
	}
	return e;
}

static struct json_object *
port_json(struct json_object *p)
{
	static const struct copy_field map[] = {
		{ "privatePort", "PrivatePort", COPY_INT },
		{ "publicPort", "PublicPort", COPY_OPT_INT },
		{ "protocol", "Type", COPY_STR },
		{ "ip", "IP", COPY_OPT_STR },
	};

	return copy_fields(p, map, ARRAY_LEN(map));
}

static struct json_object *
mount_json(struct json_object *m)
{
	static const struct copy_field map[] = {
		{ "type", "Type", COPY_OPT_STR },
		{ "source", "Source", COPY_OPT_STR },
		{ "destination", "Destination", COPY_OPT_STR },
		{ "mode", "Mode", COPY_OPT_STR },
		{ "rw", "RW", COPY_BOOL },
		{ "propagation", "Propagation", COPY_OPT_STR },
		{ "name", "Name", COPY_OPT_STR },
		{ "driver", "Driver", COPY_OPT_STR },
	};

	return copy_fields(m, map, ARRAY_LEN(map));
}

static struct json_object *
endpoint_port_json(struct json_object *p)
{
	static const struct copy_field map[] = {
		{ "name", "Name", COPY_OPT_STR },
		{ "protocol", "Protocol", COPY_OPT_STR },
		{ "targetPort", "TargetPort", COPY_OPT_INT },
		{ "publishedPort", "PublishedPort", COPY_OPT_INT },
		{ "publishMode", "PublishMode", COPY_OPT_STR },
	};

	return copy_fields(p, map, ARRAY_LEN(map));
}

static void
add_networks(struct json_object *o, struct json_object *networks)
{
	struct json_object *a;

	if (!jsonread_is_object(networks) || json_object_object_length(networks) == 0)
		return;
	a = json_object_new_array();
	json_object_object_foreach(networks, name, n) {
		struct json_object *e = json_object_new_object();

		jsonwrite_str(e, "name", name);
		jsonwrite_opt_str(e, "ipv4", jsonread_string(n, "IPAddress", ""));
		jsonwrite_opt_str(e, "ipv6", jsonread_string(n, "GlobalIPv6Address", ""));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "networks", a);
}

/* Config.Env with the values of secret-looking names as "***" (§4.1). */
static void
add_env(struct json_object *o, struct json_object *env)
{
	struct json_object *a;

	if (jsonread_array_len(env) == 0)
		return;
	a = json_object_new_array();
	for (int i = 0; i < jsonread_array_len(env); i++) {
		const char *kv = json_object_get_string(json_object_array_get_idx(env, (size_t)i));
		const char *eq = kv ? strchr(kv, '=') : NULL;

		if (!kv)
			continue;
		if (eq) {
			char name[256];

			snprintf(name, sizeof(name), "%.*s", (int)(eq - kv), kv);
			if (agent_docker_env_secret(name)) {
				char *masked = xasprintf("%s=***", name);

				json_object_array_add(a, json_object_new_string(masked));
				free(masked);
				continue;
			}
		}
		json_object_array_add(a, json_object_new_string(kv));
	}
	json_object_object_add(o, "env", a);
}

/* The figures of a running or paused container from its stats; logged and left at zero
 * when the engine gives none. */
static void
add_stats(struct dockeragent *d, struct json_object *o, const char *id, int host_cpus)
{
	struct agent_docker_cpu_sample *prev = cpu_sample(d, id), scratch = {0};
	struct agent_docker_figures f;
	struct json_object *stats;
	char *path = xasprintf("/containers/%s/stats?stream=false&one-shot=true", id);
	long status;

	stats = docker_engine_get(&d->engine, path, &status);
	free(path);
	if (!stats) {
		log_warn("docker: no stats container=%.12s status=%ld", id, status);
		return;
	}
	agent_docker_stats_figures(stats, host_cpus, clock_monotonic(), prev ? prev : &scratch,
	    &f);
	json_object_put(stats);
	jsonwrite_num(o, "cpuPercent", f.cpu_percent);
	jsonwrite_int(o, "memoryUsageBytes", f.mem_usage);
	jsonwrite_int(o, "memoryLimitBytes", f.mem_limit);
	jsonwrite_num(o, "memoryPercent", f.mem_percent);
	if (f.blk_read || f.blk_write) {
		struct json_object *b = json_object_new_object();

		jsonwrite_opt_int(b, "readBytes", (int64_t)f.blk_read);
		jsonwrite_opt_int(b, "writeBytes", (int64_t)f.blk_write);
		json_object_object_add(o, "blockIo", b);
	}
}

/* One container of /containers/json, with its inspect answer and stats; NULL when it is
 * one of the update's backups. */
static struct json_object *
container_json(struct dockeragent *d, struct json_object *c, int host_cpus, double now)
{
	const char *id = jsonread_string(c, "Id", "");
	struct json_object *names = jsonread_member(c, "Names"), *o, *inspect, *st;
	const char *name = jsonread_array_len(names) > 0 ?
	    json_object_get_string(json_object_array_get_idx(names, 0)) : "";
	const char *state;
	char *path;
	long status;
	int running;

	if (!name)
		name = "";
	if (*name == '/')
		name++;
	if (strstr(name, "_pulse_backup_"))
		return NULL;
	if (!docker_engine_ref_ok(id)) {
		log_warn("docker: a container with an unusable id left out name=%s", name);
		return NULL;
	}
	path = xasprintf("/containers/%s/json", id);
	inspect = docker_engine_get(&d->engine, path, &status);
	free(path);
	st = jsonread_member(inspect, "State");
	state = jsonread_string(c, "State", jsonread_string(st, "Status", ""));
	running = strcmp(state, "running") == 0;

	o = json_object_new_object();
	jsonwrite_str(o, "id", id);
	jsonwrite_str(o, "name", name);
	jsonwrite_str(o, "image", jsonread_string(c, "Image", ""));
	jsonwrite_opt_str(o, "imageDigest", jsonread_string(c, "ImageID", ""));
	jsonwrite_time(o, "createdAt", (double)jsonread_int(c, "Created", 0));
	jsonwrite_str(o, "state", state);
	jsonwrite_str(o, "status", jsonread_string(c, "Status", ""));
	jsonwrite_opt_str(o, "health", jsonread_string(jsonread_member(st, "Health"), "Status",
	    ""));
	if (running || strcmp(state, "paused") == 0)
		add_stats(d, o, id, host_cpus);
	if (running) {
		double started;

		if (timefmt_parse_rfc3339(jsonread_string(st, "StartedAt", ""), &started) == 0 &&
		    started > 0 && now > started)
			jsonwrite_int(o, "uptimeSeconds", (int64_t)(now - started));
	}
	jsonwrite_opt_int(o, "restartCount", jsonread_int(inspect, "RestartCount", 0));
	jsonwrite_opt_int(o, "exitCode", jsonread_int(st, "ExitCode", 0));
	opt_time_str(o, "startedAt", jsonread_string(st, "StartedAt", ""));
	if (!running)
		opt_time_str(o, "finishedAt", jsonread_string(st, "FinishedAt", ""));
	add_mapped(o, "ports", jsonread_member(c, "Ports"), port_json);
	opt_labels(o, "labels", jsonread_member(c, "Labels"));
	add_env(o, jsonread_member(jsonread_member(inspect, "Config"), "Env"));
	add_networks(o, jsonread_member(jsonread_member(c, "NetworkSettings"), "Networks"));
	add_mapped(o, "mounts", jsonread_member(c, "Mounts"), mount_json);
	json_object_put(inspect);
	return o;
}

static struct json_object *
swarm_json(struct json_object *info)
{
	struct json_object *s = jsonread_member(info, "Swarm"), *o;
	struct json_object *cluster = jsonread_member(s, "Cluster");
	const char *node = jsonread_string(s, "NodeID", "");
	int manager = jsonread_bool(s, "ControlAvailable", 0);

	if (!s || (!*node && !*jsonread_string(s, "LocalNodeState", "")))
		return NULL;
	o = json_object_new_object();
	jsonwrite_opt_str(o, "nodeId", node);
	if (*node)
		jsonwrite_str(o, "nodeRole", manager ? "manager" : "worker");
	jsonwrite_opt_str(o, "localState", jsonread_string(s, "LocalNodeState", ""));
	jsonwrite_true_if(o, "controlAvailable", manager);
	jsonwrite_opt_str(o, "clusterId", jsonread_string(cluster, "ID", ""));
	jsonwrite_opt_str(o, "clusterName", jsonread_string(jsonread_member(cluster, "Spec"),
	    "Name", ""));
	if (*node)
		jsonwrite_str(o, "scope", manager ? "cluster" : "node");
	jsonwrite_opt_str(o, "error", jsonread_string(s, "Error", ""));
	return o;
}

static const char *
service_mode(struct json_object *mode)
{
	if (jsonread_member(mode, "Global"))
		return "global";
	if (jsonread_member(mode, "ReplicatedJob"))
		return "replicated-job";
	if (jsonread_member(mode, "GlobalJob"))
		return "global-job";
	return "replicated";
}

static struct json_object *
service_json(struct json_object *s)
{
	struct json_object *o = json_object_new_object(), *spec = jsonread_member(s, "Spec");
	struct json_object *labels = jsonread_member(spec, "Labels");
	struct json_object *st = jsonread_member(s, "ServiceStatus");
	struct json_object *ports = jsonread_member(jsonread_member(s, "Endpoint"), "Ports");
	struct json_object *up = jsonread_member(s, "UpdateStatus");

	jsonwrite_str(o, "id", jsonread_string(s, "ID", ""));
	jsonwrite_str(o, "name", jsonread_string(spec, "Name", ""));
	jsonwrite_opt_str(o, "stack", jsonread_string(labels, "com.docker.stack.namespace", ""));
	jsonwrite_opt_str(o, "image", jsonread_string(jsonread_member(jsonread_member(spec,
	    "TaskTemplate"), "ContainerSpec"), "Image", ""));
	jsonwrite_str(o, "mode", service_mode(jsonread_member(spec, "Mode")));
	jsonwrite_opt_int(o, "desiredTasks", jsonread_int(st, "DesiredTasks", 0));
	jsonwrite_opt_int(o, "runningTasks", jsonread_int(st, "RunningTasks", 0));
	jsonwrite_opt_int(o, "completedTasks", jsonread_int(st, "CompletedTasks", 0));
	opt_labels(o, "labels", labels);
	add_mapped(o, "endpointPorts", ports, endpoint_port_json);
	if (up) {
		struct json_object *u = json_object_new_object();

		jsonwrite_opt_str(u, "state", jsonread_string(up, "State", ""));
		jsonwrite_opt_str(u, "message", jsonread_string(up, "Message", ""));
		opt_time_str(u, "completedAt", jsonread_string(up, "CompletedAt", ""));
		json_object_object_add(o, "updateStatus", u);
	}
	opt_time_str(o, "createdAt", jsonread_string(s, "CreatedAt", ""));
	opt_time_str(o, "updatedAt", jsonread_string(s, "UpdatedAt", ""));
	return o;
}

/* The name of the service whose ID is id in the services answer, or "". */
static const char *
service_name(struct json_object *services, const char *id)
{
	for (int i = 0; i < jsonread_array_len(services); i++) {
		struct json_object *s = json_object_array_get_idx(services, (size_t)i);

		if (strcmp(jsonread_string(s, "ID", ""), id) == 0)
			return jsonread_string(jsonread_member(s, "Spec"), "Name", "");
	}
	return "";
}

static struct json_object *
task_json(struct json_object *t, struct json_object *services, struct json_object *info)
{
	struct json_object *o = json_object_new_object(), *st = jsonread_member(t, "Status");
	const char *service = jsonread_string(t, "ServiceID", "");
	const char *node = jsonread_string(t, "NodeID", "");
	const char *state = jsonread_string(st, "State", "");
	const char *when = jsonread_string(st, "Timestamp", "");
	double created;

	jsonwrite_str(o, "id", jsonread_string(t, "ID", ""));
	jsonwrite_str(o, "serviceId", service);
	jsonwrite_opt_str(o, "serviceName", service_name(services, service));
	jsonwrite_opt_int(o, "slot", jsonread_int(t, "Slot", 0));
	jsonwrite_opt_str(o, "nodeId", node);
	if (*node && strcmp(node, jsonread_string(jsonread_member(info, "Swarm"), "NodeID",
	    "")) == 0)
		jsonwrite_opt_str(o, "nodeName", jsonread_string(info, "Name", ""));
	jsonwrite_opt_str(o, "desiredState", jsonread_string(t, "DesiredState", ""));
	jsonwrite_opt_str(o, "currentState", state);
	jsonwrite_opt_str(o, "error", jsonread_string(st, "Err", ""));
	jsonwrite_opt_str(o, "message", jsonread_string(st, "Message", ""));
	jsonwrite_opt_str(o, "containerId", jsonread_string(jsonread_member(st,
	    "ContainerStatus"), "ContainerID", ""));
	if (timefmt_parse_rfc3339(jsonread_string(t, "CreatedAt", ""), &created) != 0)
		created = 0;
	jsonwrite_time(o, "createdAt", created);
	opt_time_str(o, "updatedAt", jsonread_string(t, "UpdatedAt", ""));
	if (strcmp(state, "running") == 0)
		opt_time_str(o, "startedAt", when);
	else if (strcmp(state, "complete") == 0)
		opt_time_str(o, "completedAt", when);
	return o;
}

/* Services and tasks when this engine is a Swarm manager (not Podman). */
static void
add_swarm(struct dockeragent *d, struct json_object *report, struct json_object *info)
{
	struct json_object *s = jsonread_member(info, "Swarm"), *services, *tasks;
	const char *node = jsonread_string(s, "NodeID", "");
	char *filter, *escaped, *path;
	long status;

	if (d->engine.podman || !jsonread_bool(s, "ControlAvailable", 0) ||
	    strcmp(jsonread_string(s, "LocalNodeState", ""), "active") != 0)
		return;
	services = docker_engine_get(&d->engine, "/services?status=true", &status);
	filter = xasprintf("{\"node\":[\"%s\"]}", node);
	escaped = agent_http_escape(filter);
	path = xasprintf("/tasks?filters=%s", escaped);
	tasks = docker_engine_get(&d->engine, path, &status);
	free(filter);
	free(escaped);
	free(path);
	add_mapped(report, "services", services, service_json);
	if (jsonread_array_len(tasks) > 0) {
		struct json_object *a = json_object_new_array();

		for (int i = 0; i < jsonread_array_len(tasks); i++)
			json_object_array_add(a, task_json(json_object_array_get_idx(tasks,
			    (size_t)i), services, info));
		json_object_object_add(report, "tasks", a);
	}
	json_object_put(services);
	json_object_put(tasks);
}

static struct json_object *
host_json(struct dockeragent *d, const struct agent_report *hr, struct json_object *info,
    struct json_object *version)
{
	struct json_object *o = json_object_new_object(), *load = json_object_new_array();
	struct json_object *swarm = swarm_json(info);
	const char *server = jsonread_string(version, "Version",
	    jsonread_string(info, "ServerVersion", ""));
	const char *hostname = d->cfg->hostname && *d->cfg->hostname ? d->cfg->hostname :
	    *d->hostname ? d->hostname : jsonread_string(info, "Name", "");

	jsonwrite_str(o, "hostname", hostname);
	jsonwrite_opt_str(o, "name", jsonread_string(info, "Name", ""));
	jsonwrite_opt_str(o, "machineId", d->machine_id);
	jsonwrite_opt_str(o, "os", jsonread_string(info, "OperatingSystem", ""));
	jsonwrite_str(o, "runtime", d->engine.podman ? "podman" : "docker");
	jsonwrite_opt_str(o, "runtimeVersion", server);
	jsonwrite_opt_str(o, "dockerVersion", server);
	jsonwrite_opt_str(o, "kernelVersion", jsonread_string(info, "KernelVersion", ""));
	jsonwrite_opt_str(o, "architecture", jsonread_string(info, "Architecture", ""));
	jsonwrite_opt_int(o, "totalCpu", jsonread_int(info, "NCPU", 0));
	jsonwrite_opt_int(o, "totalMemoryBytes", jsonread_int(info, "MemTotal", 0));
	jsonwrite_opt_int(o, "uptimeSeconds", hr->uptime);
	if (swarm)
		json_object_object_add(o, "swarm", swarm);
	if (hr->cpu_percent != 0)
		jsonwrite_num(o, "cpuUsagePercent", hr->cpu_percent);
	for (int i = 0; i < 3; i++)
		json_object_array_add(load, jsonutil_new_double(hr->load[i]));
	json_object_object_add(o, "loadAverage", load);
	json_object_object_add(o, "memory", agent_report_memory_json(hr));
	if (hr->ndisks)
		json_object_object_add(o, "disks", agent_report_disks_json(hr));
	if (hr->nifaces)
		json_object_object_add(o, "network", agent_report_network_json(hr));
	return o;
}

/* The report's JSON, or NULL (logged) when the engine did not answer /info. */
static char *
report_json(struct dockeragent *d, const struct agent_report *hr)
{
	struct json_object *info, *version, *list, *o, *agent, *containers;
	long status;
	double now = clock_wall();
	int host_cpus;
	char *out, ts[TIMEFMT_LEN];

	if (!(info = docker_engine_get(&d->engine, "/info", &status))) {
		log_warn("docker: the engine stopped answering socket=%s status=%ld",
		    d->engine.socket, status);
		return NULL;
	}
	version = docker_engine_get(&d->engine, "/version", &status);
	list = docker_engine_get(&d->engine, "/containers/json?all=1", &status);
	if (!jsonread_is_array(list))
		log_warn("docker: no container list status=%ld", status);
	host_cpus = (int)jsonread_int(info, "NCPU", hr->cpu_count);

	o = json_object_new_object();
	agent = json_object_new_object();
	jsonwrite_str(agent, "id", d->agent_id);
	jsonwrite_str(agent, "version", PACKAGE_VERSION);
	jsonwrite_str(agent, "type", "unified");
	jsonwrite_int(agent, "intervalSeconds", lround(d->cfg->interval) > 0 ?
	    lround(d->cfg->interval) : 30);
	json_object_object_add(o, "agent", agent);
	json_object_object_add(o, "host", host_json(d, hr, info, version));
	containers = json_object_new_array();
	for (int i = 0; i < jsonread_array_len(list); i++) {
		struct json_object *c = container_json(d, json_object_array_get_idx(list,
		    (size_t)i), host_cpus, now);

		if (c)
			json_object_array_add(containers, c);
	}
	cpu_sweep(d);
	json_object_object_add(o, "containers", containers);
	add_swarm(d, o, info);
	jsonwrite_str(o, "timestamp", timefmt_rfc3339_nano(now, ts, sizeof(ts)));
	out = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	json_object_put(info);
	json_object_put(version);
	json_object_put(list);
	return out;
}

/* Connects when not connected and a try is due; returns whether an engine answers. */
static int
ensure_engine(struct dockeragent *d)
{
	char tried[512];

	if (d->engine.socket[0])
		return 1;
	if (clock_monotonic() < d->retry_at)
		return 0;
	if (docker_engine_find(&d->engine, d->cfg->docker_runtime, tried, sizeof(tried)) == 0) {
		log_info("docker: engine found socket=%s runtime=%s", d->engine.socket,
		    d->engine.podman ? "podman" : "docker");
		d->retry_wait = ENGINE_RETRY_FIRST;
		d->engine_logged = 0;
		return 1;
	}
	if (!d->engine_logged)
		log_warn("docker: no engine answers, retrying in the background tried=%s", tried);
	d->engine_logged = 1;
	d->retry_at = clock_monotonic() + d->retry_wait;
	d->retry_wait = fmin(d->retry_wait * 2, ENGINE_RETRY_MAX);
	return 0;
}

/* Removes the kept backup of the last update. */
static void
remove_backup(struct dockeragent *d)
{
	char *path;
	long status;

	if (!*d->backup)
		return;
	path = xasprintf("/containers/%s?force=1", d->backup);
	status = docker_engine_call(&d->engine, "DELETE", path, NULL, NULL);
	if (status < 200 || status >= 300)
		log_warn("docker: backup container not removed id=%.12s status=%ld", d->backup,
		    status);
	free(path);
	d->backup[0] = '\0';
}

int
dockeragent_cycle(struct dockeragent *d, const struct agent_report *hr)
{
	char *body, backup[128] = "";
	int stop;

	if (!ensure_engine(d))
		return 0;
	if (!(body = report_json(d, hr))) {
		d->engine.socket[0] = '\0';	/* look for it again */
		return 0;
	}
	if (agent_outbox_deliver(d->cfg, &d->out, body) == AGENT_SEND_REMOVED)
		return -1;
	stop = dockeragent_run_commands(d->cfg, &d->engine, d->agent_id, d->pending, backup,
	    sizeof(backup));
	json_object_put(d->pending);
	d->pending = json_object_new_array();
	if (*backup) {
		remove_backup(d);	/* an earlier one goes now */
		snprintf(d->backup, sizeof(d->backup), "%s", backup);
		d->backup_remove_at = clock_monotonic() + BACKUP_KEEP_SECONDS;
	}
	if (stop)
		return -1;
	if (*d->backup && clock_monotonic() >= d->backup_remove_at)
		remove_backup(d);
	return 0;
}
