/* agent_alerts_json.c: an agent report's JSON to the structs of the agent alert checks. */
#include "config.h"

#include <string.h>

#include "agent_alerts_json.h"
#include "agent_kube.h"
#include "jsonread.h"
#include "util.h"

/* Copies the trimmed text of member key of o into dst. */
static void
text(char *dst, size_t len, struct json_object *o, const char *key)
{
	jsonread_copy_trimmed(dst, len, jsonread_string(o, key, ""));
}

/* The first of the members that has text, into dst; returns whether one had. */
static int
first_text(char *dst, size_t len, struct json_object *a, const char *ka,
    struct json_object *b, const char *kb, struct json_object *c, const char *kc)
{
	text(dst, len, a, ka);
	if (!dst[0] && b)
		text(dst, len, b, kb);
	if (!dst[0] && c)
		text(dst, len, c, kc);
	return dst[0] != '\0';
}

static int
clamp_int(int64_t v)
{
	return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int)v;
}

/* The number of entries of array member key of o to read, at most max; *arr the array. */
static int
entries(struct json_object *o, const char *key, int max, struct json_object **arr)
{
	int n;

	*arr = jsonread_member(o, key);
	n = jsonread_array_len(*arr);
	return n > max ? max : n;
}

int
agent_host_from_json(struct json_object *report, struct agent_host *out)
{
	struct json_object *agent = jsonread_member(report, "agent");
	struct json_object *host = jsonread_member(report, "host");
	struct json_object *metrics = jsonread_member(report, "metrics");
	struct json_object *sensors = jsonread_member(report, "sensors");
	struct json_object *arr;
	int n;

	memset(out, 0, sizeof(*out));
	if (!jsonread_is_object(report))
		return -1;
	if (!first_text(out->id, sizeof(out->id), host, "id", agent, "id", host, "machineId") &&
	    !first_text(out->id, sizeof(out->id), host, "hostname", NULL, NULL, NULL, NULL))
		return -1;
	text(out->hostname, sizeof(out->hostname), host, "hostname");
	first_text(out->display_name, sizeof(out->display_name), host, "displayName", host,
	    "hostname", NULL, NULL);
	text(out->platform, sizeof(out->platform), host, "platform");
	text(out->os_name, sizeof(out->os_name), host, "osName");
	text(out->os_version, sizeof(out->os_version), host, "osVersion");
	out->cpu = jsonread_number(metrics, "cpuUsagePercent", 0);
	{
		struct json_object *mem = jsonread_member(metrics, "memory");
		double total = jsonread_number(mem, "totalBytes", 0);

		out->memory = jsonread_number(mem, "usage", 0);
		if (!(out->memory > 0) && total > 0)
			out->memory = jsonread_number(mem, "usedBytes", 0) / total * 100.0;
	}

	n = entries(report, "disks", AGENT_MAX_DISKS, &arr);
	out->disks = xcalloc((size_t)n + 1, sizeof(*out->disks));
	for (int i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(arr, (size_t)i);
		struct agent_disk *o = &out->disks[out->ndisks++];
		text(o->mountpoint, sizeof(o->mountpoint), d, "mountpoint");
		text(o->device, sizeof(o->device), d, "device");
		first_text(o->type, sizeof(o->type), d, "type", d, "filesystem", NULL, NULL);
		o->total = jsonread_int(d, "totalBytes", 0);
		o->used = jsonread_int(d, "usedBytes", 0);
		o->usage = jsonread_number(d, "usage", 0);
	}
	n = entries(sensors, "smart", AGENT_MAX_SMART, &arr);
	out->smart = xcalloc((size_t)n + 1, sizeof(*out->smart));
	for (int i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(arr, (size_t)i);
		struct agent_smart *o = &out->smart[out->nsmart++];
		text(o->device, sizeof(o->device), d, "device");
		text(o->model, sizeof(o->model), d, "model");
		o->temperature = clamp_int(jsonread_int(d, "temperature", 0));
		o->standby = jsonread_bool(d, "standby", 0);
	}
	n = entries(report, "raid", AGENT_MAX_RAID, &arr);
	out->raid = xcalloc((size_t)n + 1, sizeof(*out->raid));
	for (int i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(arr, (size_t)i);
		struct agent_raid *o = &out->raid[out->nraid++];
		text(o->device, sizeof(o->device), d, "device");
		text(o->level, sizeof(o->level), d, "level");
		text(o->state, sizeof(o->state), d, "state");
		o->failed_devices = clamp_int(jsonread_int(d, "failedDevices", 0));
		o->rebuild_percent = jsonread_number(d, "rebuildPercent", 0);
	}
	return 0;
}

static void
read_container(struct json_object *c, struct agent_container *o)
{
	struct json_object *update = jsonread_member(c, "updateStatus");

	text(o->id, sizeof(o->id), c, "id");
	text(o->name, sizeof(o->name), c, "name");
	text(o->image, sizeof(o->image), c, "image");
	text(o->state, sizeof(o->state), c, "state");
	text(o->status, sizeof(o->status), c, "status");
	text(o->health, sizeof(o->health), c, "health");
	o->restart_count = clamp_int(jsonread_int(c, "restartCount", 0));
	o->exit_code = clamp_int(jsonread_int(c, "exitCode", 0));
	o->cpu = jsonread_number(c, "cpuPercent", 0);
	o->memory_percent = jsonread_number(c, "memoryPercent", 0);
	o->memory_usage = jsonread_int(c, "memoryUsageBytes", 0);
	o->memory_limit = jsonread_int(c, "memoryLimitBytes", 0);
	o->writable_layer = jsonread_int(c, "writableLayerBytes", 0);
	o->root_filesystem = jsonread_int(c, "rootFilesystemBytes", 0);
	if (jsonread_is_object(update)) {
		o->has_update_status = 1;
		o->update_available = jsonread_bool(update, "updateAvailable", 0);
		text(o->update_error, sizeof(o->update_error), update, "error");
	}
}

int
agent_docker_from_json(struct json_object *report, struct agent_docker *out)
{
	struct json_object *agent = jsonread_member(report, "agent");
	struct json_object *host = jsonread_member(report, "host");
	struct json_object *arr;
	int n;

	memset(out, 0, sizeof(*out));
	if (!jsonread_is_object(report) ||
	    !first_text(out->id, sizeof(out->id), agent, "id", host, "machineId", host,
	    "hostname"))
		return -1;
	text(out->hostname, sizeof(out->hostname), host, "hostname");
	first_text(out->display_name, sizeof(out->display_name), host, "name", host, "hostname",
	    NULL, NULL);
	n = entries(report, "containers", AGENT_MAX_CONTAINERS, &arr);
	out->containers = xcalloc((size_t)n + 1, sizeof(*out->containers));
	for (int i = 0; i < n; i++)
		read_container(json_object_array_get_idx(arr, (size_t)i),
		    &out->containers[out->ncontainers++]);
	n = entries(report, "services", AGENT_MAX_SERVICES, &arr);
	out->services = xcalloc((size_t)n + 1, sizeof(*out->services));
	for (int i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(arr, (size_t)i);
		struct agent_service *o = &out->services[out->nservices++];
		text(o->id, sizeof(o->id), s, "id");
		text(o->name, sizeof(o->name), s, "name");
		o->desired_tasks = clamp_int(jsonread_int(s, "desiredTasks", 0));
		o->running_tasks = clamp_int(jsonread_int(s, "runningTasks", 0));
		text(o->update_state, sizeof(o->update_state), jsonread_member(s, "updateStatus"),
		    "state");
	}
	return 0;
}

int
agent_kubernetes_from_json(struct json_object *report, struct agent_kubernetes *out)
{
	struct json_object *cluster = jsonread_member(report, "cluster");
	struct json_object *arr;
	int n;

	memset(out, 0, sizeof(*out));
	if (!jsonread_is_object(report))
		return -1;
	agent_kube_cluster_id(report, out->id, sizeof(out->id));
	if (!out->id[0])
		return -1;
	text(out->name, sizeof(out->name), cluster, "name");
	n = entries(report, "deployments", AGENT_MAX_DEPLOYMENTS, &arr);
	out->deployments = xcalloc((size_t)n + 1, sizeof(*out->deployments));
	for (int i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(arr, (size_t)i);
		struct agent_deployment *o = &out->deployments[out->ndeployments++];
		text(o->namespace_, sizeof(o->namespace_), d, "namespace");
		text(o->name, sizeof(o->name), d, "name");
		o->desired = clamp_int(jsonread_int(d, "desiredReplicas", 0));
		o->available = clamp_int(jsonread_int(d, "availableReplicas", 0));
	}
	return 0;
}
