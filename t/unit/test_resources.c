/* test_resources.c: the unified resource conversions (src/resources.c) from state documents,
 * the filter words and their refusals, matching and statistics, without a database. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jsonutil.h"
#include "resources.h"
#include "tap.h"

#define NOW 1767225600.0	/* 2026-01-01T00:00:00Z */

static struct json_object *
parse(const char *text)
{
	char err[128];
	struct json_object *o = jsonutil_parse(text, strlen(text), err, sizeof(err));

	if (o == NULL)
		printf("# parse: %s\n", err);
	return o;
}

/* Converts one document; returns the array (the caller puts it). */
static struct json_object *
convert(enum resources_source src, const char *text, int *n)
{
	struct json_object *doc = parse(text), *out = json_object_new_array();

	*n = resources_append(out, src, doc, NOW);
	json_object_put(doc);
	return out;
}

static const char *
get_str(struct json_object *o, const char *path)
{
	struct json_object *v = o;
	char key[64];

	while (*path && v) {
		size_t len = strcspn(path, ".");
		snprintf(key, sizeof(key), "%.*s", (int)len, path);
		if (!json_object_object_get_ex(v, key, &v))
			return NULL;
		path += len + (path[len] == '.');
	}
	return v ? json_object_get_string(v) : NULL;
}

static void
test_filters(void)
{
	struct resources_filter f = {0};
	char err[160];

	ok(resources_filter_set(&f, "type", " vm , ,container", err, sizeof(err)) == 0, "type list with blanks");
	ok(f.types != 0, "types set");
	ok(resources_filter_set(&f, "type", "vm,virtual", err, sizeof(err)) == -1, "unknown type refused");
	ok(strstr(err, "virtual") != NULL, "the message names the word: %s", err);
	ok(resources_filter_set(&f, "platform", "proxmox-pbs", err, sizeof(err)) == 0, "platform");
	ok(resources_filter_set(&f, "platform", "aws", err, sizeof(err)) == -1, "unknown platform refused");
	ok(resources_filter_set(&f, "status", "sleeping", err, sizeof(err)) == -1, "unknown status refused");
	ok(resources_filter_set(&f, "type", "docker-host,k8s-node,pmg", err, sizeof(err)) == 0,
	    "words this server has no resources for yet are accepted");
	ok(resources_filter_set(&f, "alerts", "maybe", err, sizeof(err)) == -1, "alerts=maybe refused");
	ok(resources_filter_set(&f, "infrastructure", "true", err, sizeof(err)) == 0 && f.infrastructure,
	    "infrastructure=true");
	ok(resources_filter_set(&f, "infrastructure", "false", err, sizeof(err)) == 0 && !f.infrastructure,
	    "infrastructure=false");
	ok(resources_filter_set(&f, "type", "", err, sizeof(err)) == 0, "an empty value sets nothing");
	ok(resources_filter_set(&f, "colour", "red", err, sizeof(err)) == -1, "an unknown filter name");
}

static void
test_node(void)
{
	int n;
	struct json_object *a = convert(RESOURCES_NODE,
	    "{\"id\":\"c-n1\",\"name\":\"n1\",\"displayName\":\"c (n1)\",\"instance\":\"c\",\"status\":\"online\","
	    "\"cpu\":0.25,\"memory\":{\"total\":100,\"used\":40,\"free\":60,\"usage\":40},\"uptime\":7,"
	    "\"lastSeen\":1767225601000,\"isClusterMember\":true,\"clusterName\":\"prod\",\"loadAverage\":[1,2,3],"
	    "\"temperature\":{\"available\":true,\"hasCPU\":true,\"cpuPackage\":0,\"cores\":[{\"temp\":40},{\"temp\":50}]}}",
	    &n), *r = json_object_array_get_idx(a, 0);

	is_int(n, 1, "one node");
	is_str(get_str(r, "type"), "node", "type node");
	is_str(get_str(r, "cpu.current"), "25", "CPU fraction becomes a percent");
	is_str(get_str(r, "memory.used"), "40", "memory used");
	ok(get_str(r, "disk") == NULL, "no disk metric without a total");
	is_str(get_str(r, "clusterId"), "pve-cluster/prod", "clusterId");
	is_str(get_str(r, "temperature"), "45", "temperature: the mean of the cores without a package reading");
	is_str(get_str(r, "lastSeen"), "2026-01-01T00:00:01Z", "lastSeen in RFC 3339");
	is_str(get_str(r, "identity.hostname"), "n1", "identity hostname");
	is_str(get_str(r, "platformData.clusterName"), "prod", "platformData");
	is_str(get_str(r, "schemaVersion"), "1", "schemaVersion");
	json_object_put(a);

	a = convert(RESOURCES_NODE, "{\"id\":\"c-n2\",\"name\":\"n2\",\"status\":\"weird\"}", &n);
	is_str(get_str(json_object_array_get_idx(a, 0), "status"), "unknown", "an unknown node status");
	ok(get_str(json_object_array_get_idx(a, 0), "clusterId") == NULL, "no clusterId outside a cluster");
	json_object_put(a);
	a = convert(RESOURCES_NODE, "{\"name\":\"no id\"}", &n);
	is_int(n, 0, "a document without an id gives nothing");
	json_object_put(a);
}

static void
test_guests(void)
{
	int n;
	struct json_object *a = convert(RESOURCES_GUEST,
	    "{\"id\":\"c:n1:100\",\"vmid\":100,\"name\":\"web\",\"node\":\"n1\",\"instance\":\"c\",\"type\":\"qemu\","
	    "\"status\":\"running\",\"cpu\":0.5,\"networkIn\":10,\"networkOut\":20,\"tags\":\"a,b\",\"lastBackup\":1767225600000}",
	    &n), *r = json_object_array_get_idx(a, 0);

	is_str(get_str(r, "type"), "vm", "a VM");
	is_str(get_str(r, "parentId"), "c-n1", "parent: the node id form");
	is_str(get_str(r, "cpu.current"), "50", "CPU percent");
	is_str(get_str(r, "network.txBytes"), "20", "network");
	is_int(json_object_array_length(json_object_object_get(r, "tags")), 2, "tags split");
	is_str(get_str(r, "platformData.lastBackup"), "2026-01-01T00:00:00Z", "lastBackup RFC 3339");
	json_object_put(a);
	a = convert(RESOURCES_GUEST, "{\"id\":\"c:n1:101\",\"type\":\"lxc\",\"isOci\":true,\"status\":\"stopped\"}", &n);
	r = json_object_array_get_idx(a, 0);
	is_str(get_str(r, "type"), "oci-container", "an OCI container");
	is_str(get_str(r, "platformData.isOci"), "true", "isOci");
	ok(get_str(r, "tags") == NULL, "no tags");
	json_object_put(a);
}

static void
test_storage_and_servers(void)
{
	int n;
	struct json_object *a = convert(RESOURCES_STORAGE,
	    "{\"id\":\"c-n1-local\",\"name\":\"local\",\"node\":\"n1\",\"instance\":\"c\",\"active\":true,"
	    "\"enabled\":false,\"total\":10,\"used\":4,\"free\":6,\"usage\":40}", &n), *r;

	r = json_object_array_get_idx(a, 0);
	is_str(get_str(r, "status"), "stopped", "storage active but disabled: stopped");
	is_str(get_str(r, "lastSeen"), "2026-01-01T00:00:00Z", "storage lastSeen: now");
	ok(get_str(r, "cpu") == NULL, "no CPU for storage");
	json_object_put(a);

	a = convert(RESOURCES_PBS,
	    "{\"id\":\"pbs-b\",\"name\":\"b\",\"host\":\"https://b:8007\",\"status\":\"online\",\"connectionHealth\":\"healthy\","
	    "\"cpu\":12.5,\"memory\":50,\"memoryTotal\":8,\"memoryUsed\":4,\"lastSeen\":\"2026-01-01T00:00:02Z\","
	    "\"datastores\":[{\"name\":\"d1\",\"total\":10,\"used\":5,\"free\":5,\"usage\":50,\"status\":\"available\"},"
	    "{\"name\":\"d2\",\"status\":\"available\",\"error\":\"timeout\"}]}", &n);
	is_int(n, 3, "PBS and two datastores");
	r = json_object_array_get_idx(a, 0);
	is_str(get_str(r, "cpu.current"), "12.5", "PBS CPU as stored");
	ok(get_str(r, "memory.free") == NULL, "PBS memory has no free");
	is_str(get_str(json_object_array_get_idx(a, 1), "id"), "pbs-b/datastore/d1", "datastore id");
	is_str(get_str(json_object_array_get_idx(a, 1), "status"), "online", "available: online");
	is_str(get_str(json_object_array_get_idx(a, 2), "status"), "degraded", "an error: degraded");
	is_str(get_str(json_object_array_get_idx(a, 2), "lastSeen"), "2026-01-01T00:00:02Z", "the server's lastSeen");
	json_object_put(a);

	a = convert(RESOURCES_PMG,
	    "{\"id\":\"pmg-m\",\"name\":\"m\",\"status\":\"online\",\"connectionHealth\":\"unhealthy\","
	    "\"nodes\":[{\"uptime\":5,\"queueStatus\":{\"active\":1,\"total\":3}},{\"uptime\":9,\"queueStatus\":{\"total\":2}}]}", &n);
	r = json_object_array_get_idx(a, 0);
	is_str(get_str(r, "status"), "degraded", "PMG with an unhealthy connection: degraded");
	is_str(get_str(r, "uptime"), "9", "the longest uptime of its nodes");
	is_str(get_str(r, "platformData.queueTotal"), "5", "queues summed");
	json_object_put(a);
}

/* The list answer of the resources in all, as a client would parse it. */
static struct json_object *
list_of(struct json_object *all, const struct resources_filter *f)
{
	struct strbuf out = {0};
	struct resources_list l;
	struct json_object *o;

	resources_list_begin(&l, f, &out);
	for (size_t i = 0; i < json_object_array_length(all); i++)
		resources_list_add(json_object_array_get_idx(all, i), &l);
	resources_list_end(&l, NOW);
	o = json_tokener_parse(out.data);
	sb_free(&out);
	return o;
}

static void
test_match_and_stats(void)
{
	int n;
	struct resources_filter f = {0};
	char err[128];
	struct json_object *all = json_object_new_array(), *doc, *list, *stats;
	struct resources_stats st;

	doc = parse("{\"id\":\"c-n1\",\"name\":\"n1\",\"instance\":\"c\",\"status\":\"online\"}");
	resources_append(all, RESOURCES_NODE, doc, NOW);
	json_object_put(doc);
	doc = parse("{\"id\":\"c:n1:100\",\"node\":\"n1\",\"instance\":\"c\",\"type\":\"qemu\",\"status\":\"stopped\"}");
	resources_append(all, RESOURCES_GUEST, doc, NOW);
	json_object_put(doc);
	n = (int)json_object_array_length(all);
	is_int(n, 2, "two resources");

	resources_filter_set(&f, "workloads", "true", err, sizeof(err));
	list = list_of(all, &f);
	is_str(get_str(list, "count"), "1", "workloads: one");
	json_object_object_get_ex(list, "resources", &doc);
	is_int((int)json_object_array_length(doc), 1, "workloads: the guest listed");
	is_str(get_str(json_object_array_get_idx(doc, 0), "id"), "c:n1:100",
	    "workloads: the guest's id");
	is_str(get_str(list, "stats.totalResources"), "2", "stats of all");
	json_object_put(list);
	memset(&f, 0, sizeof(f));
	list = list_of(all, &f);
	is_str(get_str(list, "count"), "2", "no filter: both");
	json_object_put(list);
	resources_filter_set(&f, "parent", "c-n1", err, sizeof(err));
	ok(!resources_match(&f, json_object_array_get_idx(all, 0)) && resources_match(&f,
	    json_object_array_get_idx(all, 1)), "parent matches the guest only");
	resources_stats_init(&st);
	for (size_t i = 0; i < json_object_array_length(all); i++)
		resources_stats_add(&st, json_object_array_get_idx(all, i));
	stats = resources_stats_finish(&st, NOW);
	is_str(get_str(stats, "byType.vm"), "1", "byType");
	is_str(get_str(stats, "byStatus.stopped"), "1", "byStatus");
	is_str(get_str(stats, "byPlatform.proxmox-pve"), "2", "byPlatform");
	json_object_put(stats);
	json_object_put(all);
}

int
main(void)
{
	test_filters();
	test_node();
	test_guests();
	test_storage_and_servers();
	test_match_and_stats();
	return done_testing();
}
