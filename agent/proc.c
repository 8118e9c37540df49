/* proc.c: pure parsers of /proc texts: CPU times and count, memory, load, uptime, disk I/O
 * counters and network counters (agents.md §10.1, §10.3, §10.4). */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "util.h"

/* The line starting with key (followed by a blank), or NULL. */
static const char *
line_starting(const char *text, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && (p[kl] == ' ' || p[kl] == '\t'))
			return p + kl;
	return NULL;
}

int
agent_next_line(const char **p, char *line, size_t len)
{
	const char *eol;
	size_t n;

	if (!*p || !**p)
		return 0;
	eol = strchr(*p, '\n');
	n = eol ? (size_t)(eol - *p) : strlen(*p);
	snprintf(line, len, "%.*s", (int)(n < len ? n : len - 1), *p);
	*p += n + (eol ? 1 : 0);
	return 1;
}

int
agent_parse_stat_cpu(const char *text, struct agent_cpu_times *out)
{
	const char *p = text ? line_starting(text, "cpu") : NULL;
	uint64_t v[8] = {0};
	int n;

	if (!p)
		return -1;
	n = sscanf(p, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
	    " %" SCNu64 " %" SCNu64, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	if (n < 4)
		return -1;
	*out = (struct agent_cpu_times){ v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7] };
	return 0;
}

static uint64_t
cpu_total(const struct agent_cpu_times *t)
{
	/* guest and guest_nice are inside user and nice already */
	return t->user + t->nice + t->system + t->idle + t->iowait + t->irq + t->softirq +
	    t->steal;
}

double
agent_cpu_percent(const struct agent_cpu_times *a, const struct agent_cpu_times *b)
{
	uint64_t ta = cpu_total(a), tb = cpu_total(b);
	uint64_t busy_a = ta - a->idle - a->iowait, busy_b = tb - b->idle - b->iowait;
	double pct;

	if (busy_b <= busy_a)
		return 0;
	if (tb <= ta)
		return 100;
	pct = (double)(busy_b - busy_a) / (double)(tb - ta) * 100.0;
	return pct < 0 ? 0 : pct > 100 ? 100 : pct;
}

int
agent_parse_cpu_count(const char *cpuinfo, const char *stat)
{
	int n = 0;

	for (const char *p = cpuinfo; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, "processor", 9) == 0 && (p[9] == ' ' || p[9] == '\t' || p[9] == ':'))
			n++;
	if (n > 0)
		return n;
	for (const char *p = stat; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, "cpu", 3) == 0 && isdigit((unsigned char)p[3]))
			n++;
	return n;
}

/* A "Key:   123 kB" line of /proc/meminfo in bytes; -1 when absent. */
static int64_t
meminfo_bytes(const char *text, const char *key)
{
	char k[64];
	const char *p;
	long long v;

	snprintf(k, sizeof(k), "%s:", key);
	p = line_starting(text, k);
	if (!p || sscanf(p, "%lld", &v) != 1 || v < 0)
		return -1;
	return (int64_t)v * 1024;
}

int
agent_parse_meminfo(const char *text, struct agent_memory *out)
{
	int64_t total, free_b, avail, swap_total, swap_free;

	memset(out, 0, sizeof(*out));
	if (!text || (total = meminfo_bytes(text, "MemTotal")) < 0)
		return -1;
	free_b = meminfo_bytes(text, "MemFree");
	avail = meminfo_bytes(text, "MemAvailable");
	if (avail < 0) {
		int64_t cached = meminfo_bytes(text, "Cached"), srec = meminfo_bytes(text, "SReclaimable");

		avail = (cached > 0 ? cached : 0) + (srec > 0 ? srec : 0) + (free_b > 0 ? free_b : 0);
	}
	swap_total = meminfo_bytes(text, "SwapTotal");
	swap_free = meminfo_bytes(text, "SwapFree");
	out->total = total;
	out->free = free_b > 0 ? free_b : 0;
	out->used = total - avail > 0 ? total - avail : 0;
	out->usage = total > 0 ? (double)out->used / (double)total * 100.0 : 0;
	out->swap_total = swap_total > 0 ? swap_total : 0;
	if (swap_total > 0 && swap_free >= 0 && swap_total > swap_free)
		out->swap_used = swap_total - swap_free;
	return 0;
}

int
agent_parse_loadavg(const char *text, double load[3])
{
	if (!text || sscanf(text, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
		return -1;
	return 0;
}

int
agent_parse_uptime(const char *text, int64_t *out)
{
	double up;

	if (!text || sscanf(text, "%lf", &up) != 1 || up < 0 || up > 9e15)
		return -1;
	*out = (int64_t)up;
	return 0;
}

/* A partition name as the original tells them apart: NVMe style "...p<digit>" after an 'n',
 * sd/vd/hd/xvd names ending in a digit, zd names with a 'p'. */
static int
is_partition(const char *name)
{
	size_t len = strlen(name);
	const char *lastp = strrchr(name, 'p');

	if (strchr(name, 'n') && lastp && isdigit((unsigned char)lastp[1]))
		return 1;
	if ((strncmp(name, "sd", 2) == 0 || strncmp(name, "vd", 2) == 0 ||
	    strncmp(name, "hd", 2) == 0 || strncmp(name, "xvd", 3) == 0) && len >= 3 &&
	    isdigit((unsigned char)name[len - 1]) && isalnum((unsigned char)name[len - 2]))
		return 1;
	if (strncmp(name, "zd", 2) == 0 && strchr(name, 'p'))
		return 1;
	return 0;
}

int
agent_diskio_skip(const char *name)
{
	return is_partition(name) || strncmp(name, "loop", 4) == 0 ||
	    strncmp(name, "ram", 3) == 0 || strncmp(name, "dm-", 3) == 0;
}

static int
diskio_cmp(const void *a, const void *b)
{
	return strcmp(((const struct agent_diskio *)a)->device,
	    ((const struct agent_diskio *)b)->device);
}

int
agent_parse_diskstats(const char *text, struct agent_diskio **out)
{
	struct agent_diskio *list = NULL;
	int n = 0, cap = 0;
	char line[512];

	*out = NULL;
	if (!text)
		return -1;
	for (const char *p = text; agent_next_line(&p, line, sizeof(line)); ) {
		char name[64];
		unsigned long long f[11] = {0};
		unsigned maj, min;

		if (sscanf(line, "%u %u %63s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		    &maj, &min, name, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7],
		    &f[8], &f[9]) < 13)
			continue;
		if (agent_diskio_skip(name))
			continue;
		if (!f[0] && !f[2] && !f[3] && !f[4] && !f[6] && !f[7] && !f[9])
			continue;
		GROW(list, n, cap);
		snprintf(list[n].device, sizeof(list[n].device), "%s", name);
		list[n].read_ops = f[0];
		list[n].read_bytes = f[2] * 512;
		list[n].read_ms = f[3];
		list[n].write_ops = f[4];
		list[n].write_bytes = f[6] * 512;
		list[n].write_ms = f[7];
		list[n].io_ms = f[9];
		n++;
	}
	if (n > 1)
		qsort(list, (size_t)n, sizeof(*list), diskio_cmp);
	*out = list;
	return n;
}

int
agent_parse_net_dev(const char *text, struct agent_netdev **out)
{
	struct agent_netdev *list = NULL;
	int n = 0, cap = 0;
	char line[512], name[64];
	unsigned long long rx, tx, skip;
	int at;

	for (const char *p = text; p && agent_next_line(&p, line, sizeof(line)); ) {
		/* "  eth0: rx-bytes packets errs drop fifo frame compressed multicast tx-bytes ..."
		 * (the two header lines hold '|') */
		at = -1;
		if (strchr(line, '|') || sscanf(line, " %63[^: ]:%n", name, &at) != 1 || at < 0 ||
		    sscanf(line + at, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &rx, &skip,
		    &skip, &skip, &skip, &skip, &skip, &skip, &tx) != 9)
			continue;
		GROW(list, n, cap);
		snprintf(list[n].name, sizeof(list[n].name), "%s", name);
		list[n].rx_bytes = rx;
		list[n].tx_bytes = tx;
		n++;
	}
	*out = list;
	return text ? n : -1;
}
