/* test_agent_alerts_json.c: src/agent_alerts_json.c reads the documented report shapes
 * (agents.md §3.1 host, §4.1 Docker, §5.1 Kubernetes) into the alert checks' structs:
 * identities and their fallbacks, disks, SMART, RAID, containers with updateStatus,
 * services, deployments; wrong types read as missing; arrays are bounded. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_alerts_json.h"
#include "tap.h"
#include "util.h"

static const char host_report[] =
    "{\"agent\":{\"id\":\"agent-1\",\"version\":\"5.0.4\",\"type\":\"unified\","
    "\"intervalSeconds\":30,\"hostname\":\"nas01\"},"
    "\"host\":{\"id\":\"3f2a9c1e-0d4b-4c1a-9e77-51a2b3c4d5e6\",\"hostname\":\" nas01 \","
    "\"displayName\":\"NAS one\",\"platform\":\"debian\",\"osName\":\"debian\","
    "\"osVersion\":\"12\",\"cpuCount\":8},"
    "\"metrics\":{\"cpuUsagePercent\":7.5,\"memory\":{\"totalBytes\":16777216000,"
    "\"usedBytes\":4194304000,\"usage\":25.0}},"
    "\"disks\":[{\"device\":\"/dev/sda2\",\"mountpoint\":\"/\",\"filesystem\":\"ext4\","
    "\"type\":\"ext4\",\"totalBytes\":100000000000,\"usedBytes\":96000000000,"
    "\"freeBytes\":4000000000,\"usage\":96.0}],"
    "\"sensors\":{\"temperatureCelsius\":{\"cpu_package\":48},\"smart\":["
    "{\"device\":\"sda\",\"model\":\"WDC WD40\",\"type\":\"sata\",\"temperature\":61,"
    "\"health\":\"PASSED\"},{\"device\":\"sdb\",\"temperature\":0,\"standby\":true}]},"
    "\"raid\":[{\"device\":\"/dev/md2\",\"name\":\"nas01:2\",\"level\":\"raid1\","
    "\"state\":\"clean, degraded\",\"totalDevices\":2,\"activeDevices\":1,"
    "\"failedDevices\":1,\"devices\":[{\"device\":\"/dev/sdb3\",\"state\":\"faulty\","
    "\"slot\":-1}],\"rebuildPercent\":0}],"
    "\"timestamp\":\"2026-01-12T10:15:30Z\"}";

static const char docker_report[] =
    "{\"agent\":{\"id\":\"dock-agent\",\"version\":\"5.0.4\",\"intervalSeconds\":30},"
    "\"host\":{\"hostname\":\"dock1\",\"name\":\"docker-one\",\"machineId\":\"m-1\"},"
    "\"containers\":[{\"id\":\"0123abcd\",\"name\":\"web\",\"image\":\"nginx:1\","
    "\"state\":\"exited\",\"status\":\"Exited (137) 1 minute ago\",\"health\":\"\","
    "\"cpuPercent\":0,\"memoryUsageBytes\":1048576,\"memoryLimitBytes\":2097152,"
    "\"memoryPercent\":50,\"restartCount\":7,\"exitCode\":137,"
    "\"writableLayerBytes\":10,\"rootFilesystemBytes\":100,"
    "\"updateStatus\":{\"updateAvailable\":true,\"lastChecked\":\"2026-01-12T10:00:00Z\","
    "\"error\":\"rate limited\"}},"
    "{\"id\":\"4567\",\"name\":\"db\",\"state\":\"running\",\"restartCount\":\"x\"}],"
    "\"services\":[{\"id\":\"svc1\",\"name\":\"api\",\"desiredTasks\":3,\"runningTasks\":1,"
    "\"updateStatus\":{\"state\":\"rollback_paused\"}}]}";

static const char k8s_report[] =
    "{\"agent\":{\"id\":\"k-agent\",\"version\":\"v5.0.4\",\"intervalSeconds\":30},"
    "\"cluster\":{\"id\":\"abc123\",\"name\":\"prod\",\"server\":\"https://k:6443\"},"
    "\"deployments\":[{\"uid\":\"u1\",\"name\":\"api\",\"namespace\":\"default\","
    "\"desiredReplicas\":3,\"updatedReplicas\":3,\"readyReplicas\":1,"
    "\"availableReplicas\":1}]}";

static struct json_object *
parse(const char *s)
{
	struct json_object *o = json_tokener_parse(s);

	ok(o != NULL, "sample parses");
	return o;
}

static void
test_host(void)
{
	struct json_object *o = parse(host_report);
	struct agent_host h;

	is_int(agent_host_from_json(o, &h), 0, "host report read");
	is_str(h.id, "3f2a9c1e-0d4b-4c1a-9e77-51a2b3c4d5e6", "host.id first");
	is_str(h.hostname, "nas01", "hostname trimmed");
	is_str(h.display_name, "NAS one", "displayName");
	is_str(h.platform, "debian", "platform");
	ok(h.online == 0, "online is the caller's");
	ok(h.cpu == 7.5 && h.memory == 25.0, "cpu and memory usage");
	is_int(h.ndisks, 1, "one disk");
	is_str(h.disks[0].mountpoint, "/", "mountpoint");
	is_str(h.disks[0].type, "ext4", "type");
	ok(h.disks[0].total == 100000000000LL && h.disks[0].usage == 96.0, "sizes");
	is_int(h.nsmart, 2, "two SMART disks");
	is_int(h.smart[0].temperature, 61, "temperature");
	is_str(h.smart[0].model, "WDC WD40", "model");
	ok(h.smart[1].standby == 1, "standby");
	is_int(h.nraid, 1, "one array");
	is_str(h.raid[0].state, "clean, degraded", "state");
	is_int(h.raid[0].failed_devices, 1, "failedDevices");
	agent_host_free(&h);
	json_object_put(o);

	/* fallbacks: agent.id, then hostname; no identity at all: -1 */
	o = parse("{\"agent\":{\"id\":\"a9\"},\"host\":{\"hostname\":\"x\"},\"disks\":7,"
	    "\"metrics\":{\"memory\":{\"totalBytes\":200,\"usedBytes\":50}}}");
	is_int(agent_host_from_json(o, &h), 0, "agent.id");
	is_str(h.id, "a9", "agent.id when host.id is absent");
	is_str(h.display_name, "x", "displayName falls back to hostname");
	is_int(h.ndisks, 0, "disks not an array: none");
	ok(h.memory == 25.0, "memory usage from used / total when usage is absent");
	agent_host_free(&h);
	json_object_put(o);
	o = parse("{\"host\":{\"hostname\":\"only\"}}");
	agent_host_from_json(o, &h);
	is_str(h.id, "only", "hostname last");
	agent_host_free(&h);
	json_object_put(o);
	o = parse("{\"host\":{\"hostname\":\"  \"}}");
	is_int(agent_host_from_json(o, &h), -1, "no identity: -1");
	json_object_put(o);
	o = parse("[1]");
	is_int(agent_host_from_json(o, &h), -1, "not an object: -1");
	json_object_put(o);
}

static void
test_docker(void)
{
	struct json_object *o = parse(docker_report);
	struct agent_docker d;

	is_int(agent_docker_from_json(o, &d), 0, "docker report read");
	is_str(d.id, "dock-agent", "agent.id");
	is_str(d.display_name, "docker-one", "host.name is the display name");
	is_int(d.ncontainers, 2, "two containers");
	is_str(d.containers[0].state, "exited", "state");
	is_int(d.containers[0].exit_code, 137, "exitCode");
	is_int(d.containers[0].restart_count, 7, "restartCount");
	ok(d.containers[0].memory_limit == 2097152, "memoryLimitBytes");
	ok(d.containers[0].writable_layer == 10 && d.containers[0].root_filesystem == 100,
	    "sizes");
	ok(d.containers[0].has_update_status && d.containers[0].update_available,
	    "updateStatus");
	is_str(d.containers[0].update_error, "rate limited", "update error");
	ok(!d.containers[1].has_update_status, "no updateStatus");
	is_int(d.containers[1].restart_count, 0, "a wrong type reads as 0");
	is_int(d.nservices, 1, "one service");
	is_int(d.services[0].desired_tasks, 3, "desiredTasks");
	is_str(d.services[0].update_state, "rollback_paused", "updateStatus.state");
	agent_docker_free(&d);
	json_object_put(o);
}

static void
test_kubernetes_and_bounds(void)
{
	struct json_object *o = parse(k8s_report), *arr;
	struct agent_kubernetes k;
	struct agent_docker d;

	is_int(agent_kubernetes_from_json(o, &k), 0, "kubernetes report read");
	is_str(k.id, "abc123", "cluster.id");
	is_str(k.name, "prod", "cluster.name");
	is_int(k.ndeployments, 1, "one deployment");
	is_str(k.deployments[0].namespace_, "default", "namespace");
	ok(k.deployments[0].desired == 3 && k.deployments[0].available == 1, "replicas");
	agent_kubernetes_free(&k);
	json_object_put(o);
	o = parse("{\"cluster\":{}}");
	is_int(agent_kubernetes_from_json(o, &k), -1, "no cluster id nor agent id: -1");
	json_object_put(o);

	o = parse("{\"agent\":{\"id\":\"many\"}}");
	arr = json_object_new_array();
	for (int i = 0; i < AGENT_MAX_CONTAINERS + 10; i++) {
		struct json_object *c = json_object_new_object();
		json_object_object_add(c, "id", json_object_new_string("c"));
		json_object_array_add(arr, c);
	}
	json_object_object_add(o, "containers", arr);
	agent_docker_from_json(o, &d);
	is_int(d.ncontainers, AGENT_MAX_CONTAINERS, "containers bounded");
	agent_docker_free(&d);
	json_object_put(o);
}

int
main(void)
{
	test_host();
	test_docker();
	test_kubernetes_and_bounds();
	return done_testing();
}
