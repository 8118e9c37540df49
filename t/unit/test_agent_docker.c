/* test_agent_docker.c: the Docker mode's pure parts: a container's figures from a stats
 * answer (agent/docker_stats.c, agents.md §10.8), the env-masking rule and the Podman test
 * of /info (agent/docker_engine.c). */
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/agent.h"
#include "jsonread.h"
#include "tap.h"

static struct json_object *
parse(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	if (!o)
		abort();
	return o;
}

static int
near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

/* Two samples in one answer (stream=false without one-shot), cgroup v1. */
static void
test_precpu(void)
{
	struct json_object *s = parse("{"
	    "\"cpu_stats\":{\"cpu_usage\":{\"total_usage\":1500000000},"
	    "\"system_cpu_usage\":102000000000,\"online_cpus\":4},"
	    "\"precpu_stats\":{\"cpu_usage\":{\"total_usage\":1000000000},"
	    "\"system_cpu_usage\":100000000000},"
	    "\"memory_stats\":{\"usage\":314572800,\"limit\":1073741824,"
	    "\"stats\":{\"cache\":104857600,\"inactive_file\":1}},"
	    "\"blkio_stats\":{\"io_service_bytes_recursive\":["
	    "{\"op\":\"Read\",\"value\":4096},{\"op\":\"write\",\"value\":8192},"
	    "{\"op\":\"read\",\"value\":4},{\"op\":\"Total\",\"value\":99999}]}}");
	struct agent_docker_cpu_sample prev = {0};
	struct agent_docker_figures f;

	agent_docker_stats_figures(s, 8, 10.0, &prev, &f);
	ok(near(f.cpu_percent, 100.0), "CPU from precpu: 5e8 / 2e9 * 4 online CPUs * 100 (%g)",
	    f.cpu_percent);
	is_int(f.mem_usage, 209715200, "memory: usage - cache (v1 wins over inactive_file)");
	is_int(f.mem_limit, 1073741824, "memory limit");
	ok(near(f.mem_percent, 209715200.0 / 1073741824.0 * 100), "memory percent");
	is_int((long long)f.blk_read, 4100, "block read: the read entries, any case");
	is_int((long long)f.blk_write, 8192, "block write; Total and others left out");
	ok(prev.have && prev.total == 1500000000ULL, "the sample is kept");
	json_object_put(s);
}

/* One-shot answers: no precpu; the agent's previous sample; cgroup v2. */
static void
test_between_reports(void)
{
	struct json_object *a = parse("{\"cpu_stats\":{\"cpu_usage\":{\"total_usage\":1000000000,"
	    "\"percpu_usage\":[1,2]},\"system_cpu_usage\":100000000000},\"precpu_stats\":{"
	    "\"cpu_usage\":{\"total_usage\":0}},\"memory_stats\":{\"usage\":500000000,"
	    "\"limit\":2147483648,\"stats\":{\"inactive_file\":50000000}}}");
	struct json_object *b = parse("{\"cpu_stats\":{\"cpu_usage\":{\"total_usage\":1250000000,"
	    "\"percpu_usage\":[1,2]},\"system_cpu_usage\":101000000000},\"precpu_stats\":{}}");
	struct json_object *c = parse("{\"cpu_stats\":{\"cpu_usage\":{\"total_usage\":1750000000},"
	    "\"system_cpu_usage\":101000000000},\"precpu_stats\":{}}");
	struct agent_docker_cpu_sample prev = {0};
	struct agent_docker_figures f;

	agent_docker_stats_figures(a, 8, 100.0, &prev, &f);
	ok(near(f.cpu_percent, 0), "the first one-shot sample: 0");
	is_int(f.mem_usage, 450000000, "memory: usage - inactive_file (v2)");
	ok(near(f.mem_percent, 450000000.0 / 2147483648.0 * 100), "memory percent (v2)");
	agent_docker_stats_figures(b, 8, 101.0, &prev, &f);
	ok(near(f.cpu_percent, 50.0), "between reports: 2.5e8 / 1e9 * 2 (percpu length) * 100 (%g)",
	    f.cpu_percent);
	is_int(f.mem_usage, 0, "no memory_stats: 0");
	ok(near(f.mem_percent, 0), "no limit: percent 0");
	agent_docker_stats_figures(c, 4, 103.0, &prev, &f);
	ok(near(f.cpu_percent, 5e8 / (2.0 * 4 * 1e9) * 100),
	    "system counter still: by wall time over the host's CPUs (%g)", f.cpu_percent);
	json_object_put(a);
	json_object_put(b);
	json_object_put(c);
}

static void
test_odd_answers(void)
{
	struct json_object *s = parse("{\"cpu_stats\":{\"cpu_usage\":{\"total_usage\":5},"
	    "\"system_cpu_usage\":10},\"memory_stats\":{\"usage\":100,\"limit\":400,"
	    "\"stats\":{\"cache\":500}},\"blkio_stats\":{\"io_service_bytes_recursive\":null}}");
	struct agent_docker_cpu_sample prev = { 9, 5, 1.0, 1 };
	struct agent_docker_figures f;

	agent_docker_stats_figures(s, 2, 2.0, &prev, &f);
	ok(near(f.cpu_percent, 0), "a counter that went back (a restart): 0, not negative");
	is_int(f.mem_usage, 100, "a cache larger than the usage is not taken off");
	ok(near(f.mem_percent, 25), "its percent");
	is_int((long long)(f.blk_read + f.blk_write), 0, "null block I/O list: 0");
	json_object_put(s);
	s = parse("[1,2]");
	memset(&prev, 0, sizeof(prev));
	agent_docker_stats_figures(s, 2, 2.0, &prev, &f);
	ok(near(f.cpu_percent, 0) && f.mem_usage == 0, "not an object: all 0");
	json_object_put(s);
	agent_docker_stats_figures(NULL, 2, 2.0, &prev, &f);
	ok(f.mem_limit == 0, "NULL: all 0");
}

static void
test_env_and_podman(void)
{
	static const char *const secret[] = {
		"DB_PASSWORD", "passwd", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "MY_CREDENTIALS",
		"BasicAuth", "PRIVATE_PEM", "DATABASE_URL", "connection_string", "ENCRYPTION_SALT",
		"apikey",
	};
	struct json_object *docker = parse("{\"InitBinary\":\"docker-init\","
	    "\"ServerVersion\":\"24.0.7\",\"DriverStatus\":[[\"Backing Filesystem\",\"extfs\"]]}");
	struct json_object *podman = parse("{\"ServerVersion\":\"4.9.3\",\"SecurityOptions\":"
	    "[\"name=seccomp,profile=/usr/share/containers/seccomp.json\",\"name=rootless\"],"
	    "\"InitBinary\":\"/usr/libexec/podman/catatonit\"}");

	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		ok(agent_docker_env_secret(secret[i]), "secret: %s", secret[i]);
	ok(!agent_docker_env_secret("PATH"), "not secret: PATH");
	ok(!agent_docker_env_secret("TZ"), "not secret: TZ");
	ok(!docker_engine_info_podman(docker), "Docker's /info is not Podman");
	ok(docker_engine_info_podman(podman), "Podman's /info names it");
	json_object_put(docker);
	json_object_put(podman);
	ok(docker_engine_ref_ok("a1b2c3d4e5f6"), "ref: a short id");
	ok(docker_engine_ref_ok("my_app-web.1"), "ref: a name");
	ok(!docker_engine_ref_ok(""), "ref: empty refused");
	ok(!docker_engine_ref_ok(NULL), "ref: NULL refused");
	ok(!docker_engine_ref_ok("../../images/x"), "ref: a path refused");
	ok(!docker_engine_ref_ok("web?force=1"), "ref: a query refused");
	ok(!docker_engine_ref_ok("-rf"), "ref: a leading dash refused");
	ok(!docker_engine_ref_ok("a b"), "ref: a space refused");
}

/* The commands of several answers (a flush of kept reports): each id once, in order. */
static void
test_take_commands(void)
{
	struct json_object *pending = json_object_new_array();

	dockeragent_take_commands(pending, "{\"success\":true,\"commands\":[{\"id\":\"c1\","
	    "\"type\":\"check_updates\"}]}");
	dockeragent_take_commands(pending, "{\"success\":true}");
	dockeragent_take_commands(pending, "not json");
	dockeragent_take_commands(pending, "{\"commands\":[{\"id\":\"c1\",\"type\":"
	    "\"check_updates\"},{\"type\":\"stop\"},{\"id\":\"c2\",\"type\":\"stop\"}]}");
	dockeragent_take_commands(pending, "{\"commands\":{\"id\":\"c3\"}}");
	is_int(jsonread_array_len(pending), 2, "two commands: c1 once, one without an id left out");
	is_str(jsonread_string(json_object_array_get_idx(pending, 1), "id", ""), "c2",
	    "in the order they came");
	json_object_put(pending);
}

int
main(void)
{
	test_take_commands();
	test_precpu();
	test_between_reports();
	test_odd_answers();
	test_env_and_podman();
	return done_testing();
}
