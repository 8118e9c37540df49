/* resources.c: the unified resources of GET /api/resources, converted from the state
 * documents (docs/COMPATIBILITY.md, "Unified resources", has the original's source for each
 * rule), with the filters and statistics of the original's REST handler. */
#include "config.h"

#include "resources.h"

#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "timefmt.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The original's vocabularies (internal/resources/resource.go); a filter names words from
 * these, whether or not this server produces such resources yet. */
static const char *const type_words[] = {
	"node", "host", "docker-host", "k8s-cluster", "k8s-node", "truenas",
	"vm", "container", "oci-container", "docker-container", "pod", "jail",
	"docker-service", "k8s-deployment", "k8s-service",
	"storage", "datastore", "pool", "dataset", "pbs", "pmg",
};
static const char *const platform_words[] = {
	"proxmox-pve", "proxmox-pbs", "proxmox-pmg", "docker", "kubernetes", "truenas",
	"host-agent",
};
static const char *const status_words[] = {
	"online", "offline", "running", "stopped", "degraded", "paused", "unknown",
};

/* IsInfrastructure / IsWorkload of the original. */
static const char *const infrastructure_types[] = {
	"node", "host", "docker-host", "k8s-cluster", "k8s-node", "truenas",
};
static const char *const workload_types[] = {
	"vm", "container", "oci-container", "docker-container", "pod", "jail",
};

const char *const resources_filter_params[] = {
	"type", "platform", "status", "parent", "infrastructure", "workloads", "alerts", NULL,
};

#define SCHEMA_VERSION 1

static int
word_index(const char *const *words, size_t n, const char *w, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(words[i]) == len && memcmp(words[i], w, len) == 0)
			return (int)i;
	return -1;
}

static int
in_list(const char *const *words, size_t n, const char *w)
{
	return w != NULL && word_index(words, n, w, strlen(w)) >= 0;
}

/* Parses a comma list into a bit set over words; blanks around and between are ignored. */
static int
parse_words(const char *name, const char *value, const char *const *words, size_t n,
    uint32_t *set, char *err, size_t errlen)
{
	const char *p = value;

	while (*p) {
		const char *start, *end;
		int i;

		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && isspace((unsigned char)end[-1]))
			end--;
		i = word_index(words, n, start, (size_t)(end - start));
		if (i < 0) {
			snprintf(err, errlen, "Unknown %s '%.*s'", name,
			    (int)((end - start) > 64 ? 64 : end - start), start);
			return -1;
		}
		*set |= 1u << i;
	}
	return 0;
}

int
resources_filter_set(struct resources_filter *f, const char *name, const char *value,
    char *err, size_t errlen)
{
	int b;

	if (value == NULL || *value == '\0')
		return 0;
	if (strcmp(name, "type") == 0)
		return parse_words(name, value, type_words, ARRAY_LEN(type_words), &f->types, err, errlen);
	if (strcmp(name, "platform") == 0)
		return parse_words(name, value, platform_words, ARRAY_LEN(platform_words),
		    &f->platforms, err, errlen);
	if (strcmp(name, "status") == 0)
		return parse_words(name, value, status_words, ARRAY_LEN(status_words), &f->statuses,
		    err, errlen);
	if (strcmp(name, "parent") == 0) {
		f->parent = value;
		return 0;
	}
	if (strcmp(name, "infrastructure") != 0 && strcmp(name, "workloads") != 0 &&
	    strcmp(name, "alerts") != 0) {
		snprintf(err, errlen, "Unknown filter '%.64s'", name);
		return -1;
	}
	if (parse_bool(value, &b) != 0) {
		snprintf(err, errlen, "%s must be true or false", name);
		return -1;
	}
	if (strcmp(name, "infrastructure") == 0)
		f->infrastructure = b;
	else if (strcmp(name, "workloads") == 0)
		f->workloads = b;
	else
		f->alerts = b;
	return 0;
}

/* --- reading the documents ------------------------------------------------------------- */

/* Copies doc's key into o under the same name when present and not null. */
static void
copy_field(struct json_object *o, struct json_object *doc, const char *key)
{
	struct json_object *v = jsonread_member(doc, key);

	if (v != NULL)
		json_object_object_add(o, key, json_object_get(v));
}

/* An RFC 3339 time from epoch milliseconds (the state documents' encoding), as Go writes a
 * time.Time; buf holds at least TIMEFMT_LEN bytes. */
static const char *
time_from_ms(int64_t ms, char *buf, size_t len)
{
	return timefmt_rfc3339((double)(ms / 1000), buf, len);
}

/* --- the resource object ----------------------------------------------------------------- */

/* MetricValue from a state {total, used, free, usage} object; NULL unless total > 0, as the
 * original leaves the metric out then. */
static struct json_object *
metric_from_usage(struct json_object *m, int with_free)
{
	struct json_object *o;

	if (m == NULL || jsonread_int(m, "total", 0) <= 0)
		return NULL;
	o = json_object_new_object();
	jsonwrite_num(o, "current", jsonread_number(m, "usage", 0));
	jsonwrite_int(o, "total", jsonread_int(m, "total", 0));
	jsonwrite_int(o, "used", jsonread_int(m, "used", 0));
	if (with_free)
		jsonwrite_int(o, "free", jsonread_int(m, "free", 0));
	return o;
}

static struct json_object *
metric_current(double v)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_num(o, "current", v);
	return o;
}

/* The parts every resource has, in the original's field order up to status. */
static struct json_object *
resource_new(const char *id, const char *type, const char *name, const char *display_name,
    const char *platform_id, const char *platform_type, const char *parent_id,
    const char *cluster_id, const char *status)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_str(o, "id", id);
	jsonwrite_str(o, "type", type);
	jsonwrite_str(o, "name", name);
	jsonwrite_str(o, "displayName", display_name);
	jsonwrite_str(o, "platformId", platform_id);
	jsonwrite_str(o, "platformType", platform_type);
	jsonwrite_str(o, "sourceType", "api");
	jsonwrite_opt_str(o, "parentId", parent_id);
	jsonwrite_opt_str(o, "clusterId", cluster_id);
	jsonwrite_str(o, "status", status);
	return o;
}

static void
add_opt(struct json_object *o, const char *key, struct json_object *v)
{
	if (v != NULL)
		json_object_object_add(o, key, v);
}

/* The fields after the metrics: lastSeen, platformData, identity, schemaVersion. */
static void
resource_finish(struct json_object *o, const char *last_seen, struct json_object *platform,
    struct json_object *identity)
{
	jsonwrite_str(o, "lastSeen", last_seen);
	json_object_object_add(o, "platformData", platform);
	add_opt(o, "identity", identity);
	jsonwrite_int(o, "schemaVersion", SCHEMA_VERSION);
}

static const char *
map_word(const char *status, const char *const *accepted, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(status, accepted[i]) == 0)
			return accepted[i];
	return "unknown";
}

static const char *
node_status(const char *s)
{
	static const char *const w[] = {"online", "offline"};
	return map_word(s, w, ARRAY_LEN(w));
}

static const char *
guest_status(const char *s)
{
	static const char *const w[] = {"running", "stopped", "paused"};
	return map_word(s, w, ARRAY_LEN(w));
}

/* PBS and PMG: degraded whenever the connection is not healthy. */
static const char *
server_status(const char *s, const char *health)
{
	return strcmp(health, "healthy") != 0 ? "degraded" : node_status(s);
}

static const char *
datastore_status(const char *s, const char *error)
{
	static const char *const online[] = {"available", "online", "ok", "active"};
	static const char *const degraded[] = {"degraded", "warning"};
	static const char *const offline[] = {"offline", "unavailable", "error"};

	for (const char *p = error; *p; p++)
		if (!isspace((unsigned char)*p))
			return "degraded";
	if (strcmp(map_word(s, online, ARRAY_LEN(online)), "unknown") != 0)
		return "online";
	if (strcmp(map_word(s, degraded, ARRAY_LEN(degraded)), "unknown") != 0)
		return "degraded";
	if (strcmp(map_word(s, offline, ARRAY_LEN(offline)), "unknown") != 0)
		return "offline";
	return "unknown";
}

/* The node's temperature: the CPU package, else the mean of the cores; none without CPU
 * readings. */
static struct json_object *
node_temperature(struct json_object *t)
{
	struct json_object *cores;
	double sum = 0;
	size_t n;

	if (t == NULL || !jsonread_bool(t, "available", 0) || !jsonread_bool(t, "hasCPU", 0))
		return NULL;
	if (jsonread_number(t, "cpuPackage", 0) > 0)
		return jsonutil_new_double(jsonread_number(t, "cpuPackage", 0));
	cores = jsonread_member(t, "cores");
	if (cores == NULL || !json_object_is_type(cores, json_type_array) ||
	    (n = json_object_array_length(cores)) == 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		sum += jsonread_number(json_object_array_get_idx(cores, i), "temp", 0);
	return jsonutil_new_double(sum / (double)n);
}

static void
from_node(struct json_object *out, struct json_object *doc)
{
	char cluster[192] = "", seen[TIMEFMT_LEN];
	struct json_object *o, *p, *cpu_info, *id;
	const char *name = jsonread_string(doc, "name", "");

	if (jsonread_bool(doc, "isClusterMember", 0) && *jsonread_string(doc, "clusterName", ""))
		snprintf(cluster, sizeof(cluster), "pve-cluster/%s", jsonread_string(doc, "clusterName", ""));
	o = resource_new(jsonread_string(doc, "id", ""), "node", name, jsonread_string(doc, "displayName", ""),
	    jsonread_string(doc, "instance", ""), "proxmox-pve", NULL, cluster, node_status(jsonread_string(doc, "status", "")));
	json_object_object_add(o, "cpu", metric_current(jsonread_number(doc, "cpu", 0) * 100));
	add_opt(o, "memory", metric_from_usage(jsonread_member(doc, "memory"), 1));
	add_opt(o, "disk", metric_from_usage(jsonread_member(doc, "disk"), 1));
	add_opt(o, "temperature", node_temperature(jsonread_member(doc, "temperature")));
	jsonwrite_int(o, "uptime", jsonread_int(doc, "uptime", 0));

	p = json_object_new_object();
	jsonwrite_str(p, "instance", jsonread_string(doc, "instance", ""));
	jsonwrite_str(p, "host", jsonread_string(doc, "host", ""));
	jsonwrite_str(p, "guestURL", jsonread_string(doc, "guestURL", ""));
	jsonwrite_str(p, "pveVersion", jsonread_string(doc, "pveVersion", ""));
	jsonwrite_str(p, "kernelVersion", jsonread_string(doc, "kernelVersion", ""));
	cpu_info = json_object_new_object();
	jsonwrite_str(cpu_info, "model", jsonread_string(jsonread_member(doc, "cpuInfo"), "model", ""));
	jsonwrite_int(cpu_info, "cores", jsonread_int(jsonread_member(doc, "cpuInfo"), "cores", 0));
	jsonwrite_int(cpu_info, "sockets", jsonread_int(jsonread_member(doc, "cpuInfo"), "sockets", 0));
	json_object_object_add(p, "cpuInfo", cpu_info);
	json_object_object_add(p, "loadAverage", json_object_get(jsonread_member(doc, "loadAverage")));
	json_object_object_add(p, "isClusterMember",
	    json_object_new_boolean(jsonread_bool(doc, "isClusterMember", 0)));
	jsonwrite_str(p, "clusterName", jsonread_string(doc, "clusterName", ""));
	jsonwrite_str(p, "connectionHealth", jsonread_string(doc, "connectionHealth", ""));

	id = json_object_new_object();
	jsonwrite_opt_str(id, "hostname", name);
	resource_finish(o, time_from_ms(jsonread_int(doc, "lastSeen", 0), seen, sizeof(seen)), p, id);
	json_object_array_add(out, o);
}

/* The original's models.VM.Tags is a list; the state document carries it comma-joined. */
static struct json_object *
tags_list(const char *joined)
{
	struct json_object *a;
	const char *p = joined;

	if (*joined == '\0')
		return NULL;
	a = json_object_new_array();
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > 0)
			json_object_array_add(a, json_object_new_string_len(p, (int)len));
		p += len;
		if (*p == ',')
			p++;
	}
	return a;
}

static void
from_guest(struct json_object *out, struct json_object *doc)
{
	char parent[320], seen[TIMEFMT_LEN];
	struct json_object *o, *p, *net;
	int vm = strcmp(jsonread_string(doc, "type", ""), "qemu") == 0, oci = !vm && jsonread_bool(doc, "isOci", 0);

	snprintf(parent, sizeof(parent), "%s-%s", jsonread_string(doc, "instance", ""), jsonread_string(doc, "node", ""));
	o = resource_new(jsonread_string(doc, "id", ""), vm ? "vm" : oci ? "oci-container" : "container",
	    jsonread_string(doc, "name", ""), "", jsonread_string(doc, "instance", ""), "proxmox-pve", parent, NULL,
	    guest_status(jsonread_string(doc, "status", "")));
	json_object_object_add(o, "cpu", metric_current(jsonread_number(doc, "cpu", 0) * 100));
	add_opt(o, "memory", metric_from_usage(jsonread_member(doc, "memory"), 1));
	add_opt(o, "disk", metric_from_usage(jsonread_member(doc, "disk"), 1));
	net = json_object_new_object();
	jsonwrite_int(net, "rxBytes", jsonread_int(doc, "networkIn", 0));
	jsonwrite_int(net, "txBytes", jsonread_int(doc, "networkOut", 0));
	json_object_object_add(o, "network", net);
	jsonwrite_int(o, "uptime", jsonread_int(doc, "uptime", 0));
	add_opt(o, "tags", tags_list(jsonread_string(doc, "tags", "")));

	p = json_object_new_object();
	jsonwrite_int(p, "vmid", jsonread_int(doc, "vmid", 0));
	jsonwrite_str(p, "node", jsonread_string(doc, "node", ""));
	jsonwrite_str(p, "instance", jsonread_string(doc, "instance", ""));
	if (!vm)
		jsonwrite_opt_str(p, "type", jsonread_string(doc, "type", ""));
	jsonwrite_int(p, "cpus", jsonread_int(doc, "cpus", 0));
	jsonwrite_bool(p, "template", jsonread_bool(doc, "template", 0));
	jsonwrite_opt_str(p, "lock", jsonread_string(doc, "lock", ""));
	if (vm)
		jsonwrite_opt_str(p, "agentVersion", jsonread_string(doc, "agentVersion", ""));
	jsonwrite_opt_str(p, "osName", jsonread_string(doc, "osName", ""));
	if (vm)
		jsonwrite_opt_str(p, "osVersion", jsonread_string(doc, "osVersion", ""));
	copy_field(p, doc, "ipAddresses");
	if (oci)
		jsonwrite_bool(p, "isOci", 1);
	if (!vm)
		jsonwrite_opt_str(p, "osTemplate", jsonread_string(doc, "osTemplate", ""));
	jsonwrite_int(p, "networkIn", jsonread_int(doc, "networkIn", 0));
	jsonwrite_int(p, "networkOut", jsonread_int(doc, "networkOut", 0));
	jsonwrite_int(p, "diskRead", jsonread_int(doc, "diskRead", 0));
	jsonwrite_int(p, "diskWrite", jsonread_int(doc, "diskWrite", 0));
	if (jsonread_int(doc, "lastBackup", 0) > 0)
		jsonwrite_str(p, "lastBackup", time_from_ms(jsonread_int(doc, "lastBackup", 0), seen, sizeof(seen)));
	resource_finish(o, time_from_ms(jsonread_int(doc, "lastSeen", 0), seen, sizeof(seen)), p, NULL);
	json_object_array_add(out, o);
}

static void
from_storage(struct json_object *out, struct json_object *doc, const char *now)
{
	char parent[320];
	struct json_object *o, *p;
	const char *status = !jsonread_bool(doc, "active", 0) ? "offline" :
	    !jsonread_bool(doc, "enabled", 0) ? "stopped" : "online";

	snprintf(parent, sizeof(parent), "%s-%s", jsonread_string(doc, "instance", ""), jsonread_string(doc, "node", ""));
	o = resource_new(jsonread_string(doc, "id", ""), "storage", jsonread_string(doc, "name", ""), "", jsonread_string(doc, "instance", ""),
	    "proxmox-pve", parent, NULL, status);
	add_opt(o, "disk", metric_from_usage(doc, 1));

	p = json_object_new_object();
	jsonwrite_str(p, "instance", jsonread_string(doc, "instance", ""));
	jsonwrite_str(p, "node", jsonread_string(doc, "node", ""));
	copy_field(p, doc, "nodes");
	jsonwrite_str(p, "type", jsonread_string(doc, "type", ""));
	jsonwrite_str(p, "content", jsonread_string(doc, "content", ""));
	jsonwrite_bool(p, "shared", jsonread_bool(doc, "shared", 0));
	jsonwrite_bool(p, "enabled", jsonread_bool(doc, "enabled", 0));
	jsonwrite_bool(p, "active", jsonread_bool(doc, "active", 0));
	resource_finish(o, now, p, NULL);
	json_object_array_add(out, o);
}

/* A PBS server, then one resource per datastore (id "<server id>/datastore/<name>"). */
static int
from_pbs(struct json_object *out, struct json_object *doc, const char *now)
{
	struct json_object *o, *p, *stores = jsonread_member(doc, "datastores");
	const char *id = jsonread_string(doc, "id", ""), *name = jsonread_string(doc, "name", ""), *host = jsonread_string(doc, "host", "");
	const char *seen = *jsonread_string(doc, "lastSeen", "") ? jsonread_string(doc, "lastSeen", "") : now;
	size_t nds = stores && json_object_is_type(stores, json_type_array) ?
	    json_object_array_length(stores) : 0;

	o = resource_new(id, "pbs", name, "", host, "proxmox-pbs", NULL, NULL,
	    server_status(jsonread_string(doc, "status", ""), jsonread_string(doc, "connectionHealth", "")));
	json_object_object_add(o, "cpu", metric_current(jsonread_number(doc, "cpu", 0)));
	if (jsonread_int(doc, "memoryTotal", 0) > 0) {
		struct json_object *m = json_object_new_object();
		jsonwrite_num(m, "current", jsonread_number(doc, "memory", 0));
		jsonwrite_int(m, "total", jsonread_int(doc, "memoryTotal", 0));
		jsonwrite_int(m, "used", jsonread_int(doc, "memoryUsed", 0));
		json_object_object_add(o, "memory", m);
	}
	jsonwrite_int(o, "uptime", jsonread_int(doc, "uptime", 0));
	p = json_object_new_object();
	jsonwrite_str(p, "host", host);
	jsonwrite_str(p, "version", jsonread_string(doc, "version", ""));
	jsonwrite_str(p, "connectionHealth", jsonread_string(doc, "connectionHealth", ""));
	jsonwrite_int(p, "memoryUsed", jsonread_int(doc, "memoryUsed", 0));
	jsonwrite_int(p, "memoryTotal", jsonread_int(doc, "memoryTotal", 0));
	jsonwrite_int(p, "numDatastores", (int64_t)nds);
	resource_finish(o, seen, p, NULL);
	json_object_array_add(out, o);

	for (size_t i = 0; i < nds; i++) {
		struct json_object *ds = json_object_array_get_idx(stores, i), *d;
		const char *ds_name = *jsonread_string(ds, "name", "") ? jsonread_string(ds, "name", "") : "datastore";
		char *ds_id = xasprintf("%s/datastore/%s", id, ds_name);

		d = resource_new(ds_id, "datastore", ds_name, "", host, "proxmox-pbs", id, NULL,
		    datastore_status(jsonread_string(ds, "status", ""), jsonread_string(ds, "error", "")));
		add_opt(d, "disk", metric_from_usage(ds, 1));
		p = json_object_new_object();
		jsonwrite_str(p, "pbsInstanceId", id);
		jsonwrite_str(p, "pbsInstanceName", *name ? name : id);
		jsonwrite_str(p, "content", "backup");
		jsonwrite_opt_str(p, "error", jsonread_string(ds, "error", ""));
		if (jsonread_number(ds, "deduplicationFactor", 0) != 0)
			jsonwrite_num(p, "deduplicationFactor", jsonread_number(ds, "deduplicationFactor", 0));
		resource_finish(d, seen, p, NULL);
		json_object_array_add(out, d);
		free(ds_id);
	}
	return 1 + (int)nds;
}

/* A PMG server: queues summed over its nodes, uptime the longest of them. */
static void
from_pmg(struct json_object *out, struct json_object *doc)
{
	static const char *const queues[] = {"active", "deferred", "hold", "incoming", "total"};
	static const char *const queue_keys[] = {"queueActive", "queueDeferred", "queueHold",
	    "queueIncoming", "queueTotal"};
	int64_t sums[ARRAY_LEN(queues)] = {0}, uptime = 0;
	struct json_object *o, *p, *nodes = jsonread_member(doc, "nodes"), *mail = jsonread_member(doc, "mailStats");
	size_t n = nodes && json_object_is_type(nodes, json_type_array) ?
	    json_object_array_length(nodes) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *node = json_object_array_get_idx(nodes, i);
		struct json_object *q = jsonread_member(node, "queueStatus");

		if (jsonread_int(node, "uptime", 0) > uptime)
			uptime = jsonread_int(node, "uptime", 0);
		for (size_t k = 0; q != NULL && k < ARRAY_LEN(queues); k++)
			sums[k] += jsonread_int(q, queues[k], 0);
	}
	o = resource_new(jsonread_string(doc, "id", ""), "pmg", jsonread_string(doc, "name", ""), "", jsonread_string(doc, "host", ""),
	    "proxmox-pmg", NULL, NULL, server_status(jsonread_string(doc, "status", ""), jsonread_string(doc, "connectionHealth", "")));
	if (uptime > 0)
		jsonwrite_int(o, "uptime", uptime);
	p = json_object_new_object();
	jsonwrite_str(p, "host", jsonread_string(doc, "host", ""));
	jsonwrite_str(p, "version", jsonread_string(doc, "version", ""));
	jsonwrite_str(p, "connectionHealth", jsonread_string(doc, "connectionHealth", ""));
	jsonwrite_int(p, "nodeCount", (int64_t)n);
	for (size_t k = 0; k < ARRAY_LEN(queues); k++)
		jsonwrite_int(p, queue_keys[k], sums[k]);
	if (mail != NULL) {
		jsonwrite_num(p, "mailCountTotal", jsonread_number(mail, "countTotal", 0));
		jsonwrite_num(p, "spamIn", jsonread_number(mail, "spamIn", 0));
		jsonwrite_num(p, "virusIn", jsonread_number(mail, "virusIn", 0));
	}
	jsonwrite_str(p, "lastUpdated", jsonread_string(doc, "lastUpdated", ""));
	resource_finish(o, jsonread_string(doc, "lastSeen", ""), p, NULL);
	json_object_array_add(out, o);
}

int
resources_append(struct json_object *out, enum resources_source src, struct json_object *doc,
    double now)
{
	char now_text[TIMEFMT_LEN];

	if (doc == NULL || !json_object_is_type(doc, json_type_object) || *jsonread_string(doc, "id", "") == '\0')
		return 0;
	timefmt_rfc3339(now, now_text, sizeof(now_text));
	switch (src) {
	case RESOURCES_NODE:
		from_node(out, doc);
		return 1;
	case RESOURCES_GUEST:
		from_guest(out, doc);
		return 1;
	case RESOURCES_PBS:
		return from_pbs(out, doc, now_text);
	case RESOURCES_PMG:
		from_pmg(out, doc);
		return 1;
	case RESOURCES_STORAGE:
		from_storage(out, doc, now_text);
		return 1;
	}
	return 0;
}

/* --- the database ---------------------------------------------------------------------- */

/* The documents of /api/state (fcgi/api_state.c), in the original's order of conversion
 * (PopulateFromSnapshot): nodes, VMs, containers, PBS with datastores, PMG, storage. The
 * mock estate and the real one are never mixed, as in /api/state. */
#define MOCK_FILTER "mock = (SELECT enabled FROM pulse.mock_mode WHERE id = 1)"
static const struct {
	struct db_stmt stmt;
	enum resources_source src;
} sources[] = {
	{{"resources_nodes", "SELECT doc FROM pulse.pve_nodes WHERE " MOCK_FILTER
	    " ORDER BY node, id", 0}, RESOURCES_NODE},
	{{"resources_vms", "SELECT doc FROM pulse.guests WHERE type = 'qemu' AND " MOCK_FILTER
	    " ORDER BY vmid, id", 0}, RESOURCES_GUEST},
	{{"resources_containers", "SELECT doc FROM pulse.guests WHERE type <> 'qemu' AND "
	    MOCK_FILTER " ORDER BY vmid, id", 0}, RESOURCES_GUEST},
	{{"resources_pbs", "SELECT doc FROM pulse.pbs_instances WHERE " MOCK_FILTER
	    " ORDER BY name, instance_id", 0}, RESOURCES_PBS},
	{{"resources_pmg", "SELECT doc FROM pulse.pmg_instances WHERE " MOCK_FILTER
	    " ORDER BY name, instance_id", 0}, RESOURCES_PMG},
	{{"resources_storage", "SELECT doc FROM pulse.storage WHERE " MOCK_FILTER
	    " ORDER BY sort_instance, name, id", 0}, RESOURCES_STORAGE},
};

int
resources_each(struct db *db, double now, int (*fn)(struct json_object *resource, void *ctx),
    void *ctx, char *err, size_t errlen)
{
	/* The resources of one document (a PBS document gives several), put after fn saw
	 * them: a request holds one document's objects at a time, not the estate's. */
	struct json_object *some = json_object_new_array();
	int stop = 0;

	for (size_t s = 0; s < ARRAY_LEN(sources) && !stop; s++) {
		PGresult *res = db_exec_stmt(db, &sources[s].stmt, NULL);

		if (res == NULL) {
			snprintf(err, errlen, "%s", db_error(db));
			json_object_put(some);
			return -1;
		}
		for (int i = 0; i < PQntuples(res) && !stop; i++) {
			char perr[128];
			struct json_object *doc = jsonutil_parse_limited(PQgetvalue(res, i, 0),
			    (size_t)PQgetlength(res, i, 0), &jsonutil_limits_upstream, NULL, perr,
			    sizeof(perr));

			/* A document the workers wrote is JSON; one that is not is skipped, as
			 * /api/state could not show it either. */
			if (doc == NULL)
				continue;
			resources_append(some, sources[s].src, doc, now);
			json_object_put(doc);
			for (size_t k = 0; k < json_object_array_length(some) && !stop; k++)
				stop = fn(json_object_array_get_idx(some, k), ctx);
			json_object_array_del_idx(some, 0, json_object_array_length(some));
		}
		PQclear(res);
	}
	json_object_put(some);
	return 0;
}

/* --- filters and statistics ------------------------------------------------------------ */

static int
in_set(uint32_t set, const char *const *words, size_t n, const char *w)
{
	int i = word_index(words, n, w, strlen(w));

	return set == 0 || (i >= 0 && (set & (1u << i)));
}

int
resources_match(const struct resources_filter *f, struct json_object *r)
{
	const char *type = jsonread_string(r, "type", "");
	struct json_object *alerts = jsonread_member(r, "alerts");

	if (!in_set(f->types, type_words, ARRAY_LEN(type_words), type) ||
	    !in_set(f->platforms, platform_words, ARRAY_LEN(platform_words), jsonread_string(r, "platformType", "")) ||
	    !in_set(f->statuses, status_words, ARRAY_LEN(status_words), jsonread_string(r, "status", "")))
		return 0;
	if (f->parent != NULL && strcmp(f->parent, jsonread_string(r, "parentId", "")) != 0)
		return 0;
	if (f->infrastructure && !in_list(infrastructure_types, ARRAY_LEN(infrastructure_types), type))
		return 0;
	if (f->workloads && !in_list(workload_types, ARRAY_LEN(workload_types), type))
		return 0;
	if (f->alerts && (alerts == NULL || json_object_array_length(alerts) == 0))
		return 0;
	return 1;
}

static void
count(struct json_object *map, const char *key)
{
	struct json_object *v;

	if (json_object_object_get_ex(map, key, &v))
		json_object_set_int(v, json_object_get_int(v) + 1);
	else
		json_object_object_add(map, key, json_object_new_int(1));
}

void
resources_stats_init(struct resources_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->by_type = json_object_new_object();
	st->by_platform = json_object_new_object();
	st->by_status = json_object_new_object();
}

void
resources_stats_add(struct resources_stats *st, struct json_object *r)
{
	struct json_object *alerts = jsonread_member(r, "alerts");

	st->total++;
	count(st->by_type, jsonread_string(r, "type", ""));
	count(st->by_platform, jsonread_string(r, "platformType", ""));
	count(st->by_status, jsonread_string(r, "status", ""));
	if (alerts != NULL && json_object_array_length(alerts) > 0)
		st->with_alerts++;
}

struct json_object *
resources_stats_finish(struct resources_stats *st, double now)
{
	struct json_object *o = json_object_new_object();
	char updated[TIMEFMT_LEN];

	jsonwrite_int(o, "totalResources", st->total);
	/* Nothing is merged until agents report machines the API also sees. */
	jsonwrite_int(o, "suppressedResources", 0);
	json_object_object_add(o, "byType", st->by_type);
	json_object_object_add(o, "byPlatform", st->by_platform);
	json_object_object_add(o, "byStatus", st->by_status);
	jsonwrite_int(o, "withAlerts", st->with_alerts);
	jsonwrite_str(o, "lastUpdated", timefmt_rfc3339(now, updated, sizeof(updated)));
	st->by_type = st->by_platform = st->by_status = NULL;
	return o;
}

void
resources_list_begin(struct resources_list *l, const struct resources_filter *f,
    struct strbuf *out)
{
	memset(l, 0, sizeof(*l));
	l->f = f;
	l->out = out;
	resources_stats_init(&l->stats);
	sb_puts(out, "{\"resources\":[");
}

int
resources_list_add(struct json_object *r, void *ctx)
{
	struct resources_list *l = ctx;

	resources_stats_add(&l->stats, r);
	if (resources_match(l->f, r)) {
		size_t len;
		const char *text = jsonutil_to_string(r, &len);

		if (l->count++ > 0)
			sb_append(l->out, ",", 1);
		sb_append(l->out, text, len);
	}
	return 0;
}

void
resources_list_end(struct resources_list *l, double now)
{
	struct json_object *stats = resources_stats_finish(&l->stats, now);
	size_t len;
	const char *text = jsonutil_to_string(stats, &len);

	sb_printf(l->out, "],\"count\":%lld,\"stats\":", (long long)l->count);
	sb_append(l->out, text, len);
	sb_append(l->out, "}", 1);
	json_object_put(stats);
}

/* resources_each's fn for resources_find_read: keeps the resource whose id is wanted. */
struct finder {
	const char *id;
	struct json_object *found;
};

static int
find_one(struct json_object *r, void *ctx)
{
	struct finder *fd = ctx;

	if (strcmp(jsonread_string(r, "id", ""), fd->id) != 0)
		return 0;
	fd->found = json_object_get(r);
	return 1;
}

static int
stats_one(struct json_object *r, void *ctx)
{
	resources_stats_add(ctx, r);
	return 0;
}

int
resources_list_read(struct db *db, const struct resources_filter *f, double now,
    struct strbuf *out, char *err, size_t errlen)
{
	struct resources_list l;
	int rc;

	resources_list_begin(&l, f, out);
	rc = resources_each(db, now, resources_list_add, &l, err, errlen);
	resources_list_end(&l, now);
	return rc;
}

struct json_object *
resources_stats_read(struct db *db, double now, char *err, size_t errlen)
{
	struct resources_stats st;
	struct json_object *o;

	resources_stats_init(&st);
	if (resources_each(db, now, stats_one, &st, err, errlen) != 0) {
		o = resources_stats_finish(&st, now);
		json_object_put(o);
		return NULL;
	}
	return resources_stats_finish(&st, now);
}

int
resources_find_read(struct db *db, double now, const char *id, struct json_object **found,
    char *err, size_t errlen)
{
	struct finder fd = {id, NULL};

	*found = NULL;
	if (resources_each(db, now, find_one, &fd, err, errlen) != 0)
		return -1;
	*found = fd.found;
	return 0;
}
