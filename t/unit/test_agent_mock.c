/* test_agent_mock.c: src/agent_mock.c without a database: the generated agents' counts and
 * ids (state-proxmox.md §6.2), their reports accepted by the real decoders' type checks and
 * shaped by the real document builders, the same agents from the same seed, and the drift
 * of a tick. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "agent_docker.h"
#include "agent_host.h"
#include "agent_kube.h"
#include "agent_mock.h"
#include "jsonread.h"
#include "tap.h"

#define NOW 1768212930.0

static const char *
plain(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static void
test_generated(void)
{
	struct agent_mock m = {0}, again = {0};
	char err[256];
	int podman = 0, running = 0;

	agent_mock_generate(&m, 7u, NOW);
	for (int i = 0; i < AGENT_MOCK_HOSTS; i++) {
		const char *platform = jsonread_string(jsonread_member(m.hosts[i], "host"), "platform",
		    "");
		char want[64];

		snprintf(want, sizeof(want), "host-%s-%d", platform, i + 1);
		is_str(m.host_ids[i], want, "host %d: id host-{platform}-{n}", i + 1);
		ok(strcmp(platform, "linux") == 0 || strcmp(platform, "windows") == 0 ||
		    strcmp(platform, "macos") == 0, "host %d: platform %s", i + 1, platform);
		is_int(agent_host_check_types(m.hosts[i], err, sizeof(err)), 0,
		    "host %d: the host decoder takes the report", i + 1);
	}
	for (int i = 0; i < AGENT_MOCK_DOCKER_HOSTS; i++) {
		struct json_object *host = jsonread_member(m.docker[i], "host");
		struct json_object *containers = jsonread_member(m.docker[i], "containers");
		char want[96];

		snprintf(want, sizeof(want), "%s-mock", jsonread_string(host, "hostname", ""));
		is_str(m.docker_ids[i], want, "Docker host %d: id {hostname}-mock", i + 1);
		is_int(jsonread_array_len(containers), AGENT_MOCK_CONTAINERS,
		    "Docker host %d: twelve containers", i + 1);
		is_int(agent_docker_check_types(m.docker[i], err, sizeof(err)), 0,
		    "Docker host %d: the Docker decoder takes the report", i + 1);
		podman += strcmp(jsonread_string(host, "runtime", ""), "podman") == 0;
		for (int k = 0; k < jsonread_array_len(containers); k++)
			running += strcmp(jsonread_string(json_object_array_get_idx(containers,
			    (size_t)k), "state", ""), "running") == 0;
	}
	is_int(podman, 1, "one Podman host in three");
	ok(strcmp(jsonread_string(jsonread_member(m.docker[2], "host"), "runtime", ""), "podman")
	    == 0, "the third one");
	ok(running >= 2 * AGENT_MOCK_CONTAINERS, "%d containers running", running);
	for (int i = 0; i < AGENT_MOCK_KUBE_CLUSTERS; i++) {
		struct json_object *nodes = agent_kube_nodes_doc(m.kube[i]);
		struct json_object *pods = agent_kube_pods_doc(m.kube[i]);
		struct json_object *deployments = agent_kube_deployments_doc(m.kube[i]);
		char id[AGENT_KUBE_ID_MAX];

		is_int(agent_kube_check_types(m.kube[i], err, sizeof(err)), 0,
		    "cluster %d: the Kubernetes decoder takes the report", i + 1);
		agent_kube_cluster_id(m.kube[i], id, sizeof(id));
		is_str(id, m.kube_ids[i], "cluster %d: the id a real report would get", i + 1);
		is_int(json_object_array_length(nodes), 4, "cluster %d: four nodes", i + 1);
		is_int(json_object_array_length(pods), 30, "cluster %d: thirty pods", i + 1);
		is_int(json_object_array_length(deployments), 12, "cluster %d: twelve deployments",
		    i + 1);
		json_object_put(nodes);
		json_object_put(pods);
		json_object_put(deployments);
	}
	ok(strcmp(m.kube_ids[0], m.kube_ids[1]) != 0, "two distinct clusters");

	agent_mock_generate(&again, 7u, NOW);
	is_str(plain(again.docker[1]), plain(m.docker[1]), "the same seed, the same agents");
	agent_mock_free(&again);
	agent_mock_free(&m);
	ok(m.hosts[0] == NULL && m.host_ids[0][0] == '\0', "freed: empty");
}

static int recorded_containers, recorded_rates, recorded_hosts;

static void
count_record(const char *type, const char *id, const char *name, const char *metric, double ts,
    double value)
{
	(void)id;
	(void)name;
	(void)ts;
	(void)value;
	if (strcmp(type, "dockerContainer") == 0 && strcmp(metric, "cpu") == 0)
		recorded_containers++;
	if (strcmp(type, "dockerContainer") == 0 && strcmp(metric, "diskread") == 0)
		recorded_rates++;
	if (strcmp(type, "host") == 0 && strcmp(metric, "cpu") == 0)
		recorded_hosts++;
}

static void
test_drift(void)
{
	struct agent_mock m = {0};
	struct json_object *c0;
	double cpu, ccpu = 0;
	int64_t rx, read = 0;
	int moved = 0;

	agent_mock_generate(&m, 11u, NOW);
	c0 = json_object_array_get_idx(jsonread_member(m.docker[0], "containers"), 0);
	for (int k = 0; strcmp(jsonread_string(c0, "state", ""), "running") != 0; k++)
		c0 = json_object_array_get_idx(jsonread_member(m.docker[0], "containers"),
		    (size_t)k + 1);
	ok(m.rates[0][0][0] < 0, "no block I/O rate before a second sample");
	for (int t = 1; t <= 5; t++) {
		cpu = jsonread_number(jsonread_member(m.hosts[0], "metrics"), "cpuUsagePercent", 0);
		ccpu = jsonread_number(c0, "cpuPercent", 0);
		rx = jsonread_int(json_object_array_get_idx(jsonread_member(m.hosts[0], "network"),
		    0), "rxBytes", 0);
		read = jsonread_int(jsonread_member(c0, "blockIo"), "readBytes", 0);
		agent_mock_fluctuate(&m, NOW + 2 * t);
		moved += cpu != jsonread_number(jsonread_member(m.hosts[0], "metrics"),
		    "cpuUsagePercent", 0) && ccpu != jsonread_number(c0, "cpuPercent", 0);
		ok(jsonread_int(json_object_array_get_idx(jsonread_member(m.hosts[0], "network"), 0),
		    "rxBytes", 0) >= rx, "tick %d: counters never go back", t);
	}
	ok(moved >= 4, "host and container CPU move tick by tick (%d of 5)", moved);
	ok(jsonread_int(jsonread_member(c0, "blockIo"), "readBytes", 0) >= read,
	    "container block I/O grows");
	is_str(jsonread_string(m.hosts[0], "timestamp", ""), "2026-01-12T10:15:40Z",
	    "reports stamped with the tick");
	for (int i = 0; i < AGENT_MOCK_HOSTS; i++) {
		double u = jsonread_number(jsonread_member(jsonread_member(m.hosts[i], "metrics"),
		    "memory"), "usage", -1);
		ok(u >= 10 && u <= 85, "host %d: memory usage %.1f within 10-85 %%", i + 1, u);
	}
	agent_mock_record(&m, NOW + 10, count_record);
	is_int(recorded_containers, AGENT_MOCK_DOCKER_HOSTS * AGENT_MOCK_CONTAINERS,
	    "metrics recorded for every container");
	is_int(recorded_hosts, AGENT_MOCK_HOSTS, "and every host");
	ok(recorded_rates > 0 && recorded_rates <= recorded_containers,
	    "block I/O rates once there are two samples (%d)", recorded_rates);
	agent_mock_free(&m);
}

int
main(void)
{
	test_generated();
	test_drift();
	return done_testing();
}
