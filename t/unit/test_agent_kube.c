/* test_agent_kube.c: src/agent_kube.c without a database: the decoder's type check (§1.3,
 * §5.1), the cluster id and its fallbacks (§5.2), the agent version, and the node, pod and
 * deployment documents with their omissions and bounds. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_kube.h"
#include "crypto.h"
#include "jsonread.h"
#include "tap.h"

/* The type check of a report text: 0 accepted, -1 refused. */
static int
check(const char *text, char *err, size_t errlen)
{
	struct json_object *o = json_tokener_parse(text);
	int rc = agent_kube_check_types(o, err, errlen);

	json_object_put(o);
	return rc;
}

static void
test_types(void)
{
	char err[256];

	is_int(check("{\"cluster\":{\"id\":\"c\",\"x\":1},\"nodes\":[{\"ready\":true,\"capacity\":"
	    "{\"cpuCores\":4},\"roles\":[\"a\"]}],\"pods\":[{\"labels\":{\"a\":\"b\"},\"createdAt\":"
	    "\"2026-01-12T10:15:30Z\",\"startTime\":null,\"containers\":[{\"restartCount\":2}]}],"
	    "\"unknown\":[1],\"deployments\":null}", err, sizeof(err)), 0,
	    "a report with unknown members and nulls");
	is_int(check("{\"nodes\":[{\"ready\":\"yes\"}]}", err, sizeof(err)), -1, "ready as text");
	is_str(err, "json: cannot unmarshal string into Go struct field Report.nodes.ready of type "
	    "bool", "the decoder's words, the field's path");
	is_int(check("{\"pods\":[{\"labels\":{\"a\":1}}]}", err, sizeof(err)), -1,
	    "a label as a number");
	is_int(check("{\"pods\":[{\"containers\":[{\"restartCount\":1.5}]}]}", err, sizeof(err)), -1,
	    "a fraction for an integer");
	is_int(check("{\"deployments\":{}}", err, sizeof(err)), -1, "deployments as an object");
	is_int(check("{\"timestamp\":\"\"}", err, sizeof(err)), -1, "an empty time");
	is_int(check("{\"agent\":{\"intervalSeconds\":\"30\"}}", err, sizeof(err)), -1,
	    "an interval as text");
	is_int(check("[]", err, sizeof(err)), -1, "an array");
	is_str(err, "json: cannot unmarshal array into Go value of type kubernetes.Report",
	    "the report's Go type named");
}

static void
cluster_id(const char *text, char *out, size_t len)
{
	struct json_object *o = json_tokener_parse(text);

	agent_kube_cluster_id(o, out, len);
	json_object_put(o);
}

static void
test_identity(void)
{
	char id[AGENT_KUBE_ID_MAX], want[65], v[64];
	const char *key = "https://k:6443|ctx|name";

	cluster_id("{\"cluster\":{\"id\":\" c1 \"},\"agent\":{\"id\":\"a1\"}}", id, sizeof(id));
	is_str(id, "c1", "cluster.id first, trimmed");
	cluster_id("{\"cluster\":{\"id\":\" \"},\"agent\":{\"id\":\"a1\"}}", id, sizeof(id));
	is_str(id, "a1", "then agent.id");
	cluster_id("{\"cluster\":{\"server\":\" https://k:6443\",\"context\":\"ctx\",\"name\":"
	    "\"name \"}}", id, sizeof(id));
	crypto_sha256_hex(key, strlen(key), want);
	is_str(id, want, "then SHA-256 of the trimmed server|context|name");
	cluster_id("{\"cluster\":{\"version\":\"v1\"},\"agent\":{}}", id, sizeof(id));
	is_str(id, "", "none: empty");
	cluster_id("7", id, sizeof(id));
	is_str(id, "", "not an object: empty");

	agent_kube_version(" 5.0.4 ", v, sizeof(v));
	is_str(v, "v5.0.4", "version: v added");
	agent_kube_version("V5.0.4", v, sizeof(v));
	is_str(v, "v5.0.4", "version: V replaced");
	agent_kube_version("", v, sizeof(v));
	is_str(v, "", "version: empty stays empty");
}

static const char *
plain(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static void
test_docs(void)
{
	struct json_object *r = json_tokener_parse(
	    "{\"nodes\":[{\"uid\":\"u\",\"name\":\" n \",\"ready\":true,\"capacity\":{\"cpuCores\":4,"
	    "\"memoryBytes\":8,\"pods\":0},\"roles\":[\"worker\",\" \",3]},7],"
	    "\"pods\":[{\"name\":\"p\",\"namespace\":\"ns\",\"createdAt\":\"0001-01-01T00:00:00Z\","
	    "\"startTime\":\"2026-01-12T10:15:30Z\",\"restarts\":0,\"labels\":{\"a\":\"b\",\"n\":1},"
	    "\"containers\":[{\"name\":\"c\",\"ready\":true,\"state\":\"running\"}]}],"
	    "\"deployments\":[{\"name\":\"d\",\"desiredReplicas\":2,\"labels\":{}}]}");
	struct json_object *doc, *many;
	char *text;

	doc = agent_kube_nodes_doc(r);
	is_str(plain(doc), "[{\"uid\":\"u\",\"name\":\"n\",\"ready\":true,\"capacityCpuCores\":4,"
	    "\"capacityMemoryBytes\":8,\"roles\":[\"worker\"]}]",
	    "node: trimmed, flattened, zeros and blank roles left out, non-objects skipped");
	json_object_put(doc);
	doc = agent_kube_pods_doc(r);
	is_str(plain(doc), "[{\"uid\":\"\",\"name\":\"p\",\"namespace\":\"ns\",\"startTime\":"
	    "1768212930000,\"labels\":{\"a\":\"b\"},\"containers\":[{\"name\":\"c\",\"ready\":true,"
	    "\"state\":\"running\"}]}]", "pod: Go's zero time and zero restarts left out");
	json_object_put(doc);
	doc = agent_kube_deployments_doc(r);
	is_str(plain(doc), "[{\"uid\":\"\",\"name\":\"d\",\"namespace\":\"\",\"desiredReplicas\":2}]",
	    "deployment: empty labels left out");
	json_object_put(doc);
	json_object_put(r);

	r = json_object_new_object();
	many = json_object_new_array();
	for (int i = 0; i < AGENT_KUBE_MAX_PODS + 50; i++)
		json_object_array_add(many, json_tokener_parse("{\"name\":\"p\"}"));
	json_object_object_add(r, "pods", many);
	doc = agent_kube_pods_doc(r);
	is_int(json_object_array_length(doc), AGENT_KUBE_MAX_PODS, "pods bounded");
	json_object_put(doc);
	json_object_put(r);

	doc = agent_kube_nodes_doc(NULL);
	text = strdup(plain(doc));
	is_str(text, "[]", "no report: empty arrays");
	free(text);
	json_object_put(doc);
}

int
main(void)
{
	test_types();
	test_identity();
	test_docs();
	return done_testing();
}
