/* test_agent_docker_report.c: src/agent_docker.c without a database: the decoder's type
 * check (§1.3, §4.1), the agent key and the "::" suffix candidates (§4.2), runtime and
 * version normalisation, block I/O rates, the ack's status aliases (§4.6) and the
 * DockerContainer and DockerHost documents with their omissions. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "agent_docker.h"
#include "jsonread.h"
#include "tap.h"

static int
check(const char *text, char *err, size_t errlen)
{
	struct json_object *o = json_tokener_parse(text);
	int rc = agent_docker_check_types(o, err, errlen);

	json_object_put(o);
	return rc;
}

static void
test_types(void)
{
	char err[256];

	is_int(check("{\"host\":{\"hostname\":\"a\",\"totalCpu\":4,\"swarm\":null},\"containers\":"
	    "[{\"id\":\"x\",\"labels\":{\"a\":\"b\"},\"blockIo\":{\"readBytes\":1},\"createdAt\":"
	    "\"2026-01-12T10:15:30+02:00\"}],\"whatever\":{}}", err, sizeof(err)), 0,
	    "a report with unknown members, nulls and a local offset");
	is_int(check("{\"containers\":[{\"cpuPercent\":\"5\"}]}", err, sizeof(err)), -1,
	    "cpuPercent as text refused");
	is_str(err, "json: cannot unmarshal string into Go struct field Report.containers.cpuPercent"
	    " of type float64", "the decoder's words");
	is_int(check("{\"containers\":[{\"labels\":{\"a\":1}}]}", err, sizeof(err)), -1,
	    "a label as a number refused");
	is_int(check("{\"tasks\":[{\"slot\":1.5}]}", err, sizeof(err)), -1, "a fractional slot");
	is_int(check("{\"containers\":[{\"blockIo\":{\"writeBytes\":-1}}]}", err, sizeof(err)), -1,
	    "a negative counter");
	is_int(check("{\"services\":[{\"createdAt\":\"\"}]}", err, sizeof(err)), -1,
	    "an empty time");
	is_int(check("[]", err, sizeof(err)), -1, "an array");
	is_str(err, "json: cannot unmarshal array into Go value of type docker.Report",
	    "the decoder's words for the whole");
}

static void
test_identity(void)
{
	struct json_object *r = json_tokener_parse("{\"agent\":{\"id\":\" \"},\"host\":{"
	    "\"hostname\":\"Web 01\",\"machineId\":\"M:1\",\"name\":\"daemon\"}}");
	char out[AGENT_DOCKER_ID_MAX];

	agent_docker_agent_key(r, out, sizeof(out));
	is_str(out, "M:1", "agent key: a blank agent id skipped, the machine id");
	agent_docker_suffix(r, "Tok_1", 0, out, sizeof(out));
	is_str(out, "token-tok-1", "suffix 1: the sanitised token id");
	agent_docker_suffix(r, "Tok_1", 1, out, sizeof(out));
	is_str(out, "", "suffix 2 skipped: no agent id");
	agent_docker_suffix(r, NULL, 2, out, sizeof(out));
	is_str(out, "machine-m-1", "suffix 3: the machine id");
	agent_docker_suffix(r, NULL, 3, out, sizeof(out));
	is_str(out, "host-web-01", "suffix 4: the hostname");
	agent_docker_suffix(r, NULL, 4, out, sizeof(out));
	is_str(out, "name-daemon", "suffix 5: the daemon's name");
	agent_docker_suffix(r, NULL, 5, out, sizeof(out));
	ok(strncmp(out, "hash-", 5) == 0 && strlen(out) == 11, "suffix 6: hash-<hex6> (%s)", out);
	agent_docker_suffix(r, NULL, 6, out, sizeof(out));
	is_str(out, "2", "then 2");
	agent_docker_suffix(r, NULL, 7, out, sizeof(out));
	is_str(out, "3", "then 3");
	json_object_put(r);
	is_str(agent_docker_runtime(" Podman "), "podman", "runtime podman, any case");
	is_str(agent_docker_runtime("auto"), "docker", "auto: docker");
	is_str(agent_docker_runtime("containerd"), "docker", "unknown: docker");
	agent_docker_version(" V5.0.4 ", out, sizeof(out));
	is_str(out, "v5.0.4", "version: one v");
	agent_docker_version("vv", out, sizeof(out));
	is_str(out, "", "version: nothing left");
}

static void
test_rates(void)
{
	ok(agent_docker_rate(1000, 10, 3000, 12) == 1000, "rate: bytes per second");
	ok(agent_docker_rate(-1, 10, 3000, 12) < 0, "rate: no previous sample");
	ok(agent_docker_rate(5000, 10, 3000, 12) < 0, "rate: a counter that went back");
	ok(agent_docker_rate(1000, 12, 3000, 12) < 0, "rate: time did not move");
}

static void
test_ack_status(void)
{
	static const char *const cases[][2] = {
		{"", "acknowledged"}, {" ACK ", "acknowledged"}, {"acknowledged", "acknowledged"},
		{"progress", "in_progress"}, {"In_Progress", "in_progress"}, {"success", "completed"},
		{"complete", "completed"}, {"COMPLETED", "completed"}, {"fail", "failed"},
		{"error", "failed"}, {"failed", "failed"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_str(agent_docker_ack_status(cases[i][0]), cases[i][1], "ack status '%s'",
		    cases[i][0]);
	ok(agent_docker_ack_status("done") == NULL, "an unknown status");
	ok(agent_docker_ack_status(NULL) != NULL, "no status: acknowledged");
}

static void
test_docs(void)
{
	struct json_object *c = json_tokener_parse("{\"id\":\"c1\",\"name\":\"web\",\"image\":\"x\","
	    "\"state\":\"running\",\"status\":\"Up\",\"cpuPercent\":1e999,\"blockIo\":{\"readBytes\":5},"
	    "\"podman\":{\"infra\":false},\"env\":[\"A=B\"],\"updateStatus\":{\"updateAvailable\":false}}");
	struct agent_docker_rates rates = {2.5, -1};
	struct json_object *doc = agent_docker_container_doc(c, &rates), *host, *report;
	struct agent_docker_doc_meta m = {.id = "h::2", .agent_id = "a", .agent_version = "",
	    .last_seen = 1768212930.5};

	ok(doc != NULL, "container document");
	is_int(jsonread_int(doc, "createdAt", 0), -62135596800000LL,
	    "createdAt missing: Go's zero time in ms");
	ok(jsonread_number(doc, "cpuPercent", -1) == 0, "an infinite cpu: 0");
	ok(!jsonread_has(doc, "podman") && !jsonread_has(doc, "env"), "empty podman and env dropped");
	ok(jsonread_number(jsonread_member(doc, "blockIo"), "readRateBytesPerSecond", 0) == 2.5 &&
	    !jsonread_has(jsonread_member(doc, "blockIo"), "writeRateBytesPerSecond"),
	    "the known rate only");
	is_int(jsonread_int(jsonread_member(doc, "updateStatus"), "lastChecked", -1), 0,
	    "lastChecked missing: 0");
	json_object_put(doc);
	json_object_put(c);
	report = json_tokener_parse("{\"host\":{\"hostname\":\"h\",\"totalMemoryBytes\":1000,"
	    "\"dockerVersion\":\"26\"},\"agent\":{\"intervalSeconds\":15}}");
	host = agent_docker_host_doc(report, &m);
	is_str(jsonread_string(host, "displayName", ""), "h", "displayName: the hostname");
	is_str(jsonread_string(host, "runtimeVersion", ""), "26", "runtimeVersion from dockerVersion");
	is_int(jsonread_int(jsonread_member(host, "memory"), "total", 0), 1000,
	    "memory: the daemon's total when the report has none");
	is_int(jsonread_int(host, "lastSeen", 0), 1768212930000LL, "lastSeen in ms of the whole second");
	ok(!jsonread_has(host, "agentVersion") && !jsonread_has(host, "tokenId") &&
	    !jsonread_has(host, "services"), "empty members left out");
	json_object_put(host);
	json_object_put(report);
}

int
main(void)
{
	test_types();
	test_identity();
	test_rates();
	test_ack_status();
	test_docs();
	return done_testing();
}
