/* docker_stats.c: a container's figures from the Docker Engine's stats answer (agents.md
 * §10.8): CPU percent, memory without the page cache, block I/O; and the env-masking rule. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "agent.h"
#include "jsonread.h"
#include "util.h"

static uint64_t
counter(struct json_object *o, const char *key)
{
	int64_t v = jsonread_int(o, key, 0);

	return v > 0 ? (uint64_t)v : 0;
}

/* online_cpus, else the length of percpu_usage, else the host's count. */
static int
cpu_count(struct json_object *cpu_stats, int host_cpus)
{
	int64_t n = jsonread_int(cpu_stats, "online_cpus", 0);

	if (n <= 0)
		n = jsonread_array_len(jsonread_member(jsonread_member(cpu_stats, "cpu_usage"),
		    "percpu_usage"));
	if (n <= 0)
		n = host_cpus;
	return n > 0 ? (int)n : 1;
}

/* Percent between two samples: by the system counter's advance, or by wall time when the
 * system counter stood still. */
static double
cpu_between(uint64_t total0, uint64_t sys0, uint64_t total1, uint64_t sys1, double elapsed,
    int cpus)
{
	double dtotal, dsys;

	if (total1 < total0)
		return 0;
	dtotal = (double)(total1 - total0);
	dsys = sys1 > sys0 ? (double)(sys1 - sys0) : 0;
	if (dsys > 0)
		return dtotal / dsys * cpus * 100.0;
	if (elapsed > 0)
		return dtotal / (elapsed * cpus * 1e9) * 100.0;
	return 0;
}

void
agent_docker_stats_figures(struct json_object *stats, int host_cpus, double now,
    struct agent_docker_cpu_sample *prev, struct agent_docker_figures *out)
{
	struct json_object *cpu = jsonread_member(stats, "cpu_stats");
	struct json_object *pre = jsonread_member(stats, "precpu_stats");
	struct json_object *mem = jsonread_member(stats, "memory_stats");
	struct json_object *mstats = jsonread_member(mem, "stats");
	struct json_object *blk = jsonread_member(jsonread_member(stats, "blkio_stats"),
	    "io_service_bytes_recursive");
	uint64_t total = counter(jsonread_member(cpu, "cpu_usage"), "total_usage");
	uint64_t system = counter(cpu, "system_cpu_usage");
	uint64_t pre_total = counter(jsonread_member(pre, "cpu_usage"), "total_usage");
	uint64_t pre_system = counter(pre, "system_cpu_usage");
	int cpus = cpu_count(cpu, host_cpus);
	uint64_t cache;

	memset(out, 0, sizeof(*out));
	if (pre_system > 0 && pre_total > 0)
		out->cpu_percent = cpu_between(pre_total, pre_system, total, system, 0, cpus);
	else if (prev->have)
		out->cpu_percent = cpu_between(prev->total, prev->system, total, system,
		    now - prev->at, cpus);
	prev->total = total;
	prev->system = system;
	prev->at = now;
	prev->have = 1;

	out->mem_usage = jsonread_int(mem, "usage", 0);
	out->mem_limit = jsonread_int(mem, "limit", 0);
	cache = jsonread_has(mstats, "cache") ? counter(mstats, "cache") :
	    counter(mstats, "inactive_file");
	if (out->mem_usage > 0 && cache < (uint64_t)out->mem_usage)
		out->mem_usage -= (int64_t)cache;
	if (out->mem_usage < 0)
		out->mem_usage = 0;
	if (out->mem_limit > 0)
		out->mem_percent = (double)out->mem_usage / (double)out->mem_limit * 100.0;

	for (int i = 0; i < jsonread_array_len(blk); i++) {
		struct json_object *e = json_object_array_get_idx(blk, (size_t)i);
		const char *op = jsonread_string(e, "op", "");

		if (strcasecmp(op, "read") == 0)
			out->blk_read += counter(e, "value");
		else if (strcasecmp(op, "write") == 0)
			out->blk_write += counter(e, "value");
	}
}

int
agent_docker_env_secret(const char *name)
{
	static const char *const words[] = {
		"password", "passwd", "secret", "key", "token", "credential", "auth", "api_key",
		"apikey", "private", "access_token", "refresh_token", "database_url",
		"connection_string", "encryption",
	};

	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (strcasestr(name, words[i]))
			return 1;
	return 0;
}
