/* test_agent_host.c: src/agent_host.c without a database: the decoder's type check (§1.3),
 * the id sanitiser and its fallbacks (§3.2), collision ids, the server's filesystem filter
 * (§10.2) and the HostFrontend document with its omissions and bounds. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_alerts_json.h"
#include "agent_host.h"
#include "jsonread.h"
#include "tap.h"
#include "util.h"

static struct json_object *
parse(const char *text)
{
	return json_tokener_parse(text);
}

/* The type check of a report text: 0 accepted, -1 refused. */
static int
check(const char *text, char *err, size_t errlen)
{
	struct json_object *o = parse(text);
	int rc = agent_host_check_types(o, err, errlen);

	json_object_put(o);
	return rc;
}

static void
test_types(void)
{
	char err[256];

	is_int(check("{\"host\":{\"hostname\":\"a\",\"cpuCount\":8,\"loadAverage\":[1,0.5,2]},"
	    "\"unknown\":[1,\"x\"],\"disks\":null,\"timestamp\":\"2026-01-12T10:15:30.5Z\"}", err,
	    sizeof(err)), 0, "a report with unknown members, nulls and a fractional time");
	is_int(check("{\"host\":{\"cpuCount\":\"8\"}}", err, sizeof(err)), -1, "string for an int");
	is_str(err, "json: cannot unmarshal string into Go struct field Report.host.cpuCount of "
	    "type int64", "the decoder's words");
	is_int(check("{\"host\":{\"cpuCount\":8.5}}", err, sizeof(err)), -1, "fraction for an int");
	ok(strstr(err, "number 8.5") != NULL, "names the number: %s", err);
	is_int(check("{\"diskIO\":[{\"readBytes\":-1}]}", err, sizeof(err)), -1,
	    "negative for a uint64");
	is_int(check("{\"timestamp\":\"\"}", err, sizeof(err)), -1, "empty time");
	is_int(check("{\"sensors\":{\"fanRpm\":{\"a\":true}}}", err, sizeof(err)), -1,
	    "a map of numbers with a boolean");
	is_int(check("{\"ceph\":{\"health\":{\"checks\":{\"X\":{\"detail\":[1]}}}}}", err,
	    sizeof(err)), -1, "deep in Ceph");
	is_int(check("{\"raid\":{}}", err, sizeof(err)), -1, "object for a list");
	is_int(check("[]", err, sizeof(err)), -1, "not an object");
	is_str(err, "json: cannot unmarshal array into Go value of type host.Report", "top level");
	is_int(check("{\"metrics\":{\"cpuUsagePercent\":7}}", err, sizeof(err)), 0,
	    "an integer for a float");
}

static void
test_ids(void)
{
	char out[AGENT_HOST_ID_MAX];
	struct json_object *r;

	agent_host_sanitize("  My Host_01.example.COM  ", out, sizeof(out));
	is_str(out, "my-host-01-example-com", "sanitised");
	agent_host_sanitize("--a--", out, sizeof(out));
	is_str(out, "a", "dashes trimmed");
	agent_host_sanitize("!!!", out, sizeof(out));
	is_str(out, "", "nothing left");
	agent_host_sanitize("hôte", out, sizeof(out));
	is_str(out, "hôte", "non-ASCII kept whole");
	agent_host_sanitize("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", out,
	    sizeof(out));
	is_int((int)strlen(out), 48, "cut at 48");

	r = parse("{\"host\":{\"id\":\"  \",\"machineId\":\"M-1\"},\"agent\":{\"id\":\"A\"}}");
	agent_host_base_id(r, "h", out, sizeof(out));
	is_str(out, "m-1", "machineId after an empty host.id");
	json_object_put(r);
	r = parse("{\"agent\":{\"id\":\"A.B\"}}");
	agent_host_base_id(r, "h", out, sizeof(out));
	is_str(out, "a-b", "agent.id next");
	json_object_put(r);
	r = parse("{}");
	agent_host_base_id(r, "web01", out, sizeof(out));
	is_str(out, "web01", "the hostname last");
	agent_host_base_id(r, "***", out, sizeof(out));
	ok(strncmp(out, "host-", 5) == 0 && strlen(out) == 17, "a hash when nothing is left: %s",
	    out);
	json_object_put(r);

	agent_host_collision_id("0123456789012345678901234567890123456789-tail", "tok", "h", out,
	    sizeof(out));
	ok(strncmp(out, "0123456789012345678901234567890123456789-", 41) == 0 &&
	    strlen(out) == 49, "collision: 40 characters, '-', 8 hex: %s", out);
}

static void
test_filter(void)
{
	ok(!agent_host_skip_filesystem("ext4", "/", 10, 5), "ext4 / kept");
	ok(!agent_host_skip_filesystem("zfs", "/tank", 10, 5), "zfs kept");
	ok(agent_host_skip_filesystem("tmpfs", "/tmp", 10, 5), "tmpfs dropped");
	ok(agent_host_skip_filesystem("ext4", "/run/media", 10, 5), "/run dropped");
	ok(agent_host_skip_filesystem("vfat", "/boot/efi", 10, 5), "/boot/efi dropped");
	ok(agent_host_skip_filesystem("fuse.sshfs", "/mnt/x", 10, 5), "fuse dropped");
	ok(agent_host_skip_filesystem("SquashFS", "/x", 10, 5), "squashfs dropped, any case");
	ok(agent_host_skip_filesystem("xfs", "/var/lib/containers/storage/overlay/x/merged", 10, 5),
	    "container storage dropped");
	ok(agent_host_skip_filesystem("ext4", "/mnt/.ix-apps/docker/x", 10, 5), "TrueNAS apps");
}

static void
test_doc(void)
{
	struct json_object *r = parse("{\"agent\":{\"version\":\"5\",\"type\":\"unified\"},"
	    "\"host\":{\"hostname\":\"h1\",\"platform\":\"Debian\"},"
	    "\"metrics\":{\"memory\":{\"totalBytes\":100,\"usedBytes\":50}},"
	    "\"disks\":[{\"mountpoint\":\"/\",\"type\":\"ext4\",\"totalBytes\":4,\"usedBytes\":1},"
	    "{\"mountpoint\":\"/dev/shm\",\"type\":\"tmpfs\",\"totalBytes\":4}],"
	    "\"sensors\":{\"powerWatts\":{\"cpu\":4}},\"tags\":[\"a\",\"\",\"b\"]}");
	struct agent_host_doc_meta m = {.id = "h1", .last_seen = 1768212930.7,
	    .commands_enabled = -1};
	struct agent_host h;
	struct json_object *doc, *v;

	ok(agent_host_from_json(r, &h) == 0, "read");
	doc = agent_host_doc(r, &h, &m);
	is_str(jsonread_string(doc, "displayName", ""), "h1", "displayName from hostname");
	ok(jsonread_int(doc, "lastSeen", 0) == 1768212930000LL, "lastSeen in ms of the second");
	v = jsonread_member(doc, "memory");
	is_int((int)jsonread_number(v, "usage", 0), 50, "memory usage from used / total");
	is_int(jsonread_array_len(jsonread_member(doc, "disks")), 1, "tmpfs dropped");
	is_int(jsonread_array_len(jsonread_member(r, "disks")), 1, "from the report too");
	is_int((int)jsonread_number(json_object_array_get_idx(jsonread_member(doc, "disks"), 0),
	    "usage", 0), 25, "disk usage computed");
	ok(!jsonread_has(doc, "sensors"), "power readings alone: no sensors");
	is_int(jsonread_array_len(jsonread_member(doc, "tags")), 2, "blank tag dropped");
	ok(!jsonread_has(doc, "isLegacy") && !jsonread_has(doc, "cpuUsage") &&
	    !jsonread_has(doc, "diskIO") && !jsonread_has(doc, "tokenId"), "omitempty members");
	is_str(jsonread_string(doc, "status", ""), "online", "online");
	ok(!jsonread_has(doc, "linkedNodeId") && !jsonread_has(doc, "linkedVmId") &&
	    !jsonread_has(doc, "linkedContainerId"), "no link: no link members");
	json_object_put(doc);
	m.linked_container_id = "pve1:node1:102";
	doc = agent_host_doc(r, &h, &m);
	is_str(jsonread_string(doc, "linkedContainerId", ""), "pve1:node1:102",
	    "a container link written");
	ok(!jsonread_has(doc, "linkedNodeId") && !jsonread_has(doc, "linkedVmId"),
	    "and only that one");
	m.linked_container_id = NULL;
	json_object_put(doc);
	agent_host_free(&h);
	json_object_put(r);

	/* Bounds. */
	r = parse("{\"host\":{\"hostname\":\"h\"}}");
	{
		struct json_object *arr = json_object_new_array();

		for (int i = 0; i < AGENT_HOST_MAX_LIST + 50; i++)
			json_object_array_add(arr, parse("{\"name\":\"eth\"}"));
		json_object_object_add(r, "network", arr);
	}
	agent_host_from_json(r, &h);
	doc = agent_host_doc(r, &h, &m);
	is_int(jsonread_array_len(jsonread_member(doc, "networkInterfaces")), AGENT_HOST_MAX_LIST,
	    "network bounded");
	json_object_put(doc);
	agent_host_free(&h);
	json_object_put(r);
}

/* The Temperature a linked node shows (§6.6). */
static void
test_node_temperature(void)
{
	struct json_object *s = parse("{\"temperatureCelsius\":{\"cpu_core_1\":51,"
	    "\"CPU_Core_0\":47,\"cpu_core_x\":99,\"nvme1\":40,\"nvme0\":38,\"gpu_edge\":60,"
	    "\"gpu_mem\":70,\"gpu_card1\":55,\"amdgpu-pci-0300_edge\":61,\"acpitz\":30},"
	    "\"smart\":[{\"device\":\"sda\",\"model\":\"X\",\"temperature\":33},"
	    "{\"device\":\"sdb\",\"standby\":true}]}");
	struct json_object *t = agent_host_node_temperature(s, 1768212930);

	is_str(json_object_to_json_string_ext(t,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	    "{\"cpuPackage\":51,\"cpuMax\":51,\"minRecorded\":\"0001-01-01T00:00:00Z\","
	    "\"maxRecorded\":\"0001-01-01T00:00:00Z\",\"cores\":[{\"core\":0,\"temp\":47},"
	    "{\"core\":1,\"temp\":51}],\"gpu\":[{\"device\":\"gpu0\",\"edge\":60,\"mem\":70},"
	    "{\"device\":\"card1\",\"edge\":55}],\"nvme\":[{\"device\":\"nvme0\",\"temp\":38},"
	    "{\"device\":\"nvme1\",\"temp\":40}],\"smart\":[{\"device\":\"/dev/sda\","
	    "\"model\":\"X\",\"temperature\":33,\"lastUpdated\":\"2026-01-12T10:15:30Z\"}],"
	    "\"available\":true,\"hasCPU\":true,\"hasGPU\":true,\"hasNVMe\":true,"
	    "\"hasSMART\":true,\"lastUpdate\":\"2026-01-12T10:15:30Z\"}",
	    "cores sorted, the hottest core for a missing package, gpu0 merged, other keys left");
	json_object_put(t);
	json_object_put(s);
	s = parse("{\"temperatureCelsius\":{\"cpu_package\":48,\"cpu_core_0\":46}}");
	t = agent_host_node_temperature(s, 0);
	ok(jsonread_number(t, "cpuPackage", 0) == 48 && jsonread_number(t, "cpuMax", 0) == 46,
	    "the package reading kept, cpuMax from the cores");
	ok(!jsonread_has(t, "smart") && !jsonread_bool(t, "hasSMART", 1), "no SMART: none shown");
	json_object_put(t);
	json_object_put(s);
	s = parse("{\"temperatureCelsius\":{\"acpitz\":30},\"fanRpm\":{\"fan1\":900}}");
	ok(agent_host_node_temperature(s, 0) == NULL, "nothing a node shows: NULL");
	json_object_put(s);
	ok(agent_host_node_temperature(NULL, 0) == NULL, "no sensors: NULL");
}

int
main(void)
{
	test_types();
	test_ids();
	test_filter();
	test_doc();
	test_node_temperature();
	return done_testing();
}
