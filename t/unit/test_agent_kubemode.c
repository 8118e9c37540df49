/* test_agent_kubemode.c: agent/kube.c without an API server: quantities, namespace globs,
 * problem pods and deployments, the API objects made into the report's, and the report. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../agent/agent.h"
#include "crypto.h"
#include "jsonread.h"
#include "tap.h"

static void
test_quantities(void)
{
	int64_t v = 0;

	is_int(agent_kube_quantity("3500m", 1000, &v), 0, "3500m");
	is_int(v, 3500, "3500m in milli-units (scale 1000)");
	agent_kube_quantity("3500m", 1, &v);
	is_int(v, 3, "3500m whole: truncated");
	agent_kube_quantity("4", 1000, &v);
	is_int(v, 4000, "4 cores: 4000 milli");
	agent_kube_quantity("8137116Ki", 1, &v);
	is_int(v, 8137116LL * 1024, "Ki");
	agent_kube_quantity("4Gi", 1, &v);
	is_int(v, 4LL << 30, "Gi");
	agent_kube_quantity("1G", 1, &v);
	is_int(v, 1000000000, "G");
	agent_kube_quantity("1e3", 1, &v);
	is_int(v, 1000, "an exponent");
	is_int(agent_kube_quantity("", 1, &v), -1, "empty");
	is_int(agent_kube_quantity("4 cores", 1, &v), -1, "an unknown suffix");
	is_int(agent_kube_quantity("9Ei", 1000, &v), -1, "beyond int64");
}

static void
test_namespaces(void)
{
	char *include[] = { "shop*", "kube-system" }, *exclude[] = { "shop-test" };
	struct agent_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	ok(agent_kube_namespace_wanted(&cfg, "any"), "no filters: every namespace");
	cfg.kube_include = include;
	cfg.nkube_include = 2;
	ok(agent_kube_namespace_wanted(&cfg, "shop-prod"), "an include glob");
	ok(!agent_kube_namespace_wanted(&cfg, "jobs"), "not included");
	cfg.kube_exclude = exclude;
	cfg.nkube_exclude = 1;
	ok(!agent_kube_namespace_wanted(&cfg, "shop-test"), "exclude wins");
	ok(agent_kube_namespace_wanted(&cfg, "kube-system"), "an exact include");
}

static int
pod_problem(const char *text)
{
	struct json_object *o = json_tokener_parse(text);
	int rc = agent_kube_pod_problem(o);

	json_object_put(o);
	return rc;
}

static void
test_problems(void)
{
	struct json_object *d;

	ok(pod_problem("{\"status\":{\"phase\":\"Pending\"}}"), "Pending");
	ok(!pod_problem("{\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"ready\":true,"
	    "\"state\":{\"running\":{}}}]}}"), "running and ready");
	ok(pod_problem("{\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"ready\":false,"
	    "\"state\":{\"running\":{}}}]}}"), "running, not ready");
	ok(pod_problem("{\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"ready\":true,"
	    "\"state\":{\"waiting\":{}}}]}}"), "waiting");
	ok(!pod_problem("{\"status\":{\"phase\":\"Running\",\"initContainerStatuses\":[{\"ready\":"
	    "false,\"state\":{\"terminated\":{\"exitCode\":0}}}]}}"), "an init container done");
	ok(pod_problem("{\"status\":{\"phase\":\"Running\",\"initContainerStatuses\":[{\"ready\":"
	    "false,\"state\":{\"terminated\":{\"exitCode\":1}}}]}}"), "an init container failed");

	d = json_tokener_parse("{\"spec\":{\"replicas\":3},\"status\":{\"availableReplicas\":3,"
	    "\"readyReplicas\":3,\"updatedReplicas\":2}}");
	ok(agent_kube_deployment_problem(d), "a deployment not fully updated");
	json_object_put(d);
	d = json_tokener_parse("{\"spec\":{\"replicas\":0},\"status\":{}}");
	ok(!agent_kube_deployment_problem(d), "a deployment scaled to zero");
	json_object_put(d);
}

static const char *
plain(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static void
test_objects(void)
{
	struct json_object *in, *out;

	in = json_tokener_parse("{\"metadata\":{\"name\":\"n\",\"uid\":\"u\",\"labels\":{"
	    "\"node-role.kubernetes.io/\":\"\",\"node-role.kubernetes.io/worker\":\"\","
	    "\"kubernetes.io/role\":\"worker\"}},\"status\":{\"capacity\":{\"cpu\":\"1500m\","
	    "\"memory\":\"1Ki\",\"pods\":\"10\"},\"conditions\":[{\"type\":\"Ready\",\"status\":"
	    "\"True\"}]}}");
	out = agent_kube_node(in);
	is_str(plain(out), "{\"uid\":\"u\",\"name\":\"n\",\"ready\":true,\"capacity\":{\"cpuCores\":"
	    "1,\"memoryBytes\":1024,\"pods\":10},\"allocatable\":{\"cpuCores\":0,\"memoryBytes\":0,"
	    "\"pods\":0},\"roles\":[\"master\",\"worker\"]}",
	    "node: Ready, cores truncated, roles deduplicated and sorted (empty: master)");
	json_object_put(out);
	json_object_put(in);

	in = json_tokener_parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\","
	    "\"ownerReferences\":[{\"kind\":\"Job\",\"name\":\"first\"},{\"kind\":\"ReplicaSet\","
	    "\"name\":\"rs\",\"controller\":true}]},\"status\":{\"phase\":\"Running\","
	    "\"containerStatuses\":[{\"name\":\"a\",\"restartCount\":2,\"state\":{\"terminated\":"
	    "{\"reason\":\"OOMKilled\"}}},{\"name\":\"b\",\"restartCount\":3,\"ready\":true,"
	    "\"state\":{}}]}}");
	out = agent_kube_pod(in);
	is_str(plain(out), "{\"name\":\"p\",\"namespace\":\"ns\",\"phase\":\"Running\",\"restarts\":5,"
	    "\"ownerKind\":\"ReplicaSet\",\"ownerName\":\"rs\",\"containers\":[{\"name\":\"a\","
	    "\"ready\":false,\"restartCount\":2,\"state\":\"terminated\",\"reason\":\"OOMKilled\"},"
	    "{\"name\":\"b\",\"ready\":true,\"restartCount\":3,\"state\":\"unknown\"}]}",
	    "pod: restarts summed, the controller owner, container states");
	json_object_put(out);
	json_object_put(in);
}

static void
test_report(void)
{
	struct agent_config cfg;
	struct agent_kube_answers a;
	struct json_object *r, *pods;
	char id[65], want[65];
	const char *key = "https://k:6443||in-cluster";

	memset(&cfg, 0, sizeof(cfg));
	cfg.interval = 30;
	cfg.kube_max_pods = 1;
	a.version = json_tokener_parse("{\"gitVersion\":\"v1.30.2\"}");
	a.nodes = json_tokener_parse("{\"items\":[]}");
	a.pods = json_tokener_parse("{\"items\":[{\"metadata\":{\"name\":\"z\",\"namespace\":\"b\"},"
	    "\"status\":{\"phase\":\"Pending\"}},{\"metadata\":{\"name\":\"y\",\"namespace\":\"a\"},"
	    "\"status\":{\"phase\":\"Failed\"}},{\"metadata\":{\"name\":\"ok\",\"namespace\":\"a\"},"
	    "\"status\":{\"phase\":\"Running\"}}]}");
	a.deployments = json_tokener_parse("{\"items\":7}");
	r = agent_kube_report(&cfg, &a, "https://k:6443", 1768212930);
	agent_kube_cluster_identity("https://k:6443", "", "in-cluster", id, sizeof(id));
	crypto_sha256_hex(key, strlen(key), want);
	is_str(id, want, "cluster id: SHA-256 of server|context|name");
	is_str(jsonread_string(jsonread_member(r, "cluster"), "id", ""), want, "report: cluster.id");
	is_str(jsonread_string(jsonread_member(r, "agent"), "id", ""), want,
	    "report: agent.id is the cluster id without --agent-id");
	is_str(jsonread_string(jsonread_member(r, "cluster"), "version", ""), "v1.30.2", "version");
	pods = jsonread_member(r, "pods");
	is_int(json_object_array_length(pods), 1, "problem pods only, cut to --kube-max-pods");
	is_str(jsonread_string(json_object_array_get_idx(pods, 0), "name", ""), "y",
	    "sorted by namespace, then name");
	is_int(json_object_array_length(jsonread_member(r, "deployments")), 0,
	    "a list answer without items: none");
	is_str(jsonread_string(r, "timestamp", ""), "2026-01-12T10:15:30Z", "timestamp");
	json_object_put(r);
	json_object_put(a.version);
	json_object_put(a.nodes);
	json_object_put(a.pods);
	json_object_put(a.deployments);
}

int
main(void)
{
	test_quantities();
	test_namespaces();
	test_problems();
	test_objects();
	test_report();
	return done_testing();
}
