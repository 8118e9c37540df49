/* collect.c: reads the machine (/proc, /sys, statfs, getifaddrs, smartctl) into a report,
 * through the pure parsers; HOST_PROC, HOST_SYS and HOST_ETC move the roots (§9.1). */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "util.h"

extern char **environ;

#define READ_FILE_MAX ((size_t)4 * 1024 * 1024)

char *
agent_read_file(const char *path)
{
	struct strbuf sb = {0};
	char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	while ((n = read(fd, buf, sizeof(buf))) > 0 && sb.len < READ_FILE_MAX)
		sb_append(&sb, buf, (size_t)n);
	close(fd);
	if (n < 0) {
		sb_free(&sb);
		return NULL;
	}
	if (!sb.data)
		sb_puts(&sb, "");
	return sb.data;
}

/* A path under the root kind ("PROC", "SYS", "ETC"), honouring HOST_<kind>. */
static void
host_path(char *out, size_t len, const char *kind, const char *rel)
{
	char var[16];
	const char *root;

	snprintf(var, sizeof(var), "HOST_%s", kind);
	root = getenv(var);
	if (!root || !*root)
		root = strcmp(kind, "PROC") == 0 ? "/proc" : strcmp(kind, "SYS") == 0 ? "/sys" : "/etc";
	snprintf(out, len, "%s/%s", root, rel);
}

static char *
read_host(const char *kind, const char *rel)
{
	char path[1024];

	host_path(path, sizeof(path), kind, rel);
	return agent_read_file(path);
}

/* Runs argv without a shell, stdin /dev/null, stderr dropped; its output (at most 1 MiB) is a
 * new string, *status its exit status (-1 when killed or not run). Killed at timeout. */
static char *
run_capture(char *const argv[], double timeout, int *status)
{
	posix_spawn_file_actions_t fa;
	struct strbuf sb = {0};
	double deadline = clock_monotonic() + timeout;
	int pipefd[2], wstatus = 0;
	pid_t pid;

	*status = -1;
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(pipefd[0]);
		close(pipefd[1]);
		return NULL;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	for (;;) {
		struct pollfd pfd = { pipefd[0], POLLIN, 0 };
		double left = deadline - clock_monotonic();
		char buf[8192];
		ssize_t n;

		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&pfd, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
			break;
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		if ((n = read(pipefd[0], buf, sizeof(buf))) <= 0)
			break;
		if (sb.len < 1024 * 1024)
			sb_append(&sb, buf, (size_t)n);
	}
	close(pipefd[0]);
	/* a child that closed its output may still run: it too has until the deadline */
	for (;;) {
		pid_t w = waitpid(pid, &wstatus, WNOHANG);
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (w == 0 && clock_monotonic() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
				;
			wstatus = -1;
			break;
		}
		nanosleep(&ts, NULL);
	}
	if (wstatus != -1 && WIFEXITED(wstatus))
		*status = WEXITSTATUS(wstatus);
	return sb.data;
}

/* A program on PATH or in the directories the original also looks in; "" when absent. */
static void
find_program(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char *copy = xasprintf("%s:/usr/sbin:/sbin:/usr/local/sbin:/usr/local/bin:/opt/zfs/bin:/usr/bin",
	    path ? path : "/bin");
	char *save = NULL;

	*out = '\0';
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char p[512];

		snprintf(p, sizeof(p), "%.200s/%.100s", dir, name);
		if (*dir == '/' && access(p, X_OK) == 0) {
			snprintf(out, len, "%.*s", (int)(len - 1), p);
			break;
		}
	}
	free(copy);
}

static void
collect_cpu(struct agent_report *r, double sample)
{
	struct agent_cpu_times a, b;
	char *s1 = read_host("PROC", "stat"), *s2, *cpuinfo = read_host("PROC", "cpuinfo");
	struct timespec ts = { (time_t)sample, (long)((sample - (double)(time_t)sample) * 1e9) };

	r->cpu_count = agent_parse_cpu_count(cpuinfo, s1);
	nanosleep(&ts, NULL);
	s2 = read_host("PROC", "stat");
	if (agent_parse_stat_cpu(s1, &a) == 0 && agent_parse_stat_cpu(s2, &b) == 0)
		r->cpu_percent = agent_cpu_percent(&a, &b);
	free(s1);
	free(s2);
	free(cpuinfo);
}

static void
collect_system(struct agent_report *r, const struct agent_config *cfg)
{
	struct utsname u;
	char *text;

	if ((text = read_host("PROC", "meminfo")))
		agent_parse_meminfo(text, &r->mem);
	free(text);
	if ((text = read_host("PROC", "loadavg")))
		agent_parse_loadavg(text, r->load);
	free(text);
	if ((text = read_host("PROC", "uptime")))
		agent_parse_uptime(text, &r->uptime);
	free(text);
	if ((text = read_host("ETC", "os-release")) || (text = agent_read_file("/usr/lib/os-release")))
		agent_parse_os_release(text, r);
	free(text);
	if (uname(&u) == 0) {
		snprintf(r->kernel, sizeof(r->kernel), "%s", u.release);
		snprintf(r->arch, sizeof(r->arch), "%s", u.machine);
	}
	if (cfg->hostname && *cfg->hostname)
		snprintf(r->hostname, sizeof(r->hostname), "%s", cfg->hostname);
	else if (gethostname(r->hostname, sizeof(r->hostname)) != 0 || !*r->hostname)
		snprintf(r->hostname, sizeof(r->hostname), "unknown-host");
	r->hostname[sizeof(r->hostname) - 1] = '\0';
}

/* Depth of a mountpoint ("/" 0, "/tank" 1, "/tank/a" 2). */
static int
path_depth(const char *p)
{
	int d = 0;

	for (; *p; p++)
		d += *p == '/' && p[1];
	return d;
}

/* A filesystem's sizes from statvfs (the original's formulas, §10.2 step 3). */
static void
fs_set_sizes(struct agent_fs *d, const struct statvfs *st)
{
	d->total = (int64_t)st->f_blocks * (int64_t)st->f_frsize;
	d->free = (int64_t)st->f_bavail * (int64_t)st->f_frsize;
	d->used = ((int64_t)st->f_blocks - (int64_t)st->f_bfree) * (int64_t)st->f_frsize;
	d->usage = d->used + d->free > 0 ? (double)d->used / (double)(d->used + d->free) * 100 : 0;
}

/* ZFS datasets as one entry per pool: the shallowest mountpoint (the pool's root dataset
 * where it is mounted), the largest dataset's sizes (zpool_sizes then applies the pool's). */
static void
add_zfs(struct agent_fs **list, size_t *n, size_t *cap, const struct agent_mount *m,
    const struct statvfs *st)
{
	char pool[256];
	const char *slash = strchr(m->device, '/');
	size_t i;

	snprintf(pool, sizeof(pool), "%.*s", slash ? (int)(slash - m->device) : (int)strlen(m->device), m->device);
	for (i = 0; i < *n; i++)
		if (strcmp((*list)[i].fstype, "zfs") == 0 && strcmp((*list)[i].device, pool) == 0)
			break;
	if (i == *n) {
		GROW(*list, *n, *cap);
		(*n)++;
		snprintf((*list)[i].device, sizeof((*list)[i].device), "%s", pool);
		snprintf((*list)[i].fstype, sizeof((*list)[i].fstype), "zfs");
		snprintf((*list)[i].mountpoint, sizeof((*list)[i].mountpoint), "%s", m->mountpoint);
	} else if (path_depth(m->mountpoint) < path_depth((*list)[i].mountpoint))
		snprintf((*list)[i].mountpoint, sizeof((*list)[i].mountpoint), "%s", m->mountpoint);
	if ((int64_t)st->f_blocks * (int64_t)st->f_frsize > (*list)[i].total)
		fs_set_sizes(&(*list)[i], st);
}

/* The pools' own sizes from `zpool list -Hp` when zpool is installed (§10.2 step 4). */
static void
zpool_sizes(struct agent_collector *c, struct agent_fs *list, size_t n)
{
	char *argv[8 + 64] = { c->zpool, "list", "-Hp", "-o", "name,size,allocated,free" };
	struct agent_zpool *pools = NULL;
	int argc = 5, status, np;
	char *out;

	for (size_t i = 0; i < n && argc < (int)ARRAY_LEN(argv) - 1; i++)
		if (strcmp(list[i].fstype, "zfs") == 0)
			argv[argc++] = list[i].device;
	if (argc == 5)
		return;
	if (!c->zpool_checked) {
		c->zpool_checked = 1;
		find_program("zpool", c->zpool, sizeof(c->zpool));
	}
	if (!*c->zpool)
		return;
	argv[argc] = NULL;
	out = run_capture(argv, 5, &status);
	np = agent_parse_zpool_list(out, &pools);
	for (int k = 0; k < np; k++)
		for (size_t i = 0; i < n; i++)
			if (strcmp(list[i].fstype, "zfs") == 0 && strcmp(list[i].device, pools[k].name) == 0)
				agent_zfs_apply_pool(&list[i], &pools[k]);
	free(pools);
	free(out);
}

static void
collect_disks(struct agent_collector *c, struct agent_report *r)
{
	const struct agent_config *cfg = c->cfg;
	struct agent_mount *mounts;
	struct agent_fs *list = NULL;
	size_t n = 0, cap = 0;
	char *text = read_host("PROC", "1/mountinfo");
	int nm;

	if (!text || !*text) {
		free(text);
		text = read_host("PROC", "self/mountinfo");
	}
	nm = agent_parse_mountinfo(text, &mounts);
	free(text);
	for (int i = 0; i < nm; i++) {
		const struct agent_mount *m = &mounts[i];
		struct statvfs st;
		int seen = 0, zfs;

		for (int k = 0; k < i; k++)
			seen |= strcmp(mounts[k].mountpoint, m->mountpoint) == 0;
		if (seen || agent_disk_excluded(cfg->disk_exclude, cfg->ndisk_exclude, m->mountpoint))
			continue;
		zfs = strcmp(m->fstype, "zfs") == 0 || strcmp(m->fstype, "fuse.zfs") == 0;
		/* the filter first: a network mount is never statfs'd (an NFS server away would
		 * hang the report); overlay, the one rule that needs sizes, is a virtual type */
		if (!zfs && agent_fs_skip(m->fstype, m->mountpoint, 0, 0))
			continue;
		if (statvfs(m->mountpoint, &st) != 0 || (int64_t)st.f_blocks * (int64_t)st.f_frsize <= 0)
			continue;
		if (zfs) {
			add_zfs(&list, &n, &cap, m, &st);
			continue;
		}
		GROW(list, n, cap);
		snprintf(list[n].device, sizeof(list[n].device), "%s", m->device);
		snprintf(list[n].mountpoint, sizeof(list[n].mountpoint), "%s", m->mountpoint);
		snprintf(list[n].fstype, sizeof(list[n].fstype), "%s", m->fstype);
		fs_set_sizes(&list[n], &st);
		n++;
	}
	agent_mounts_free(mounts, nm > 0 ? nm : 0);
	zpool_sizes(c, list, n);
	r->ndisks = agent_disks_dedup(list, n);
	r->disks = list;
}

static int
iface_cmp(const void *a, const void *b)
{
	return strcmp(((const struct agent_iface *)a)->name, ((const struct agent_iface *)b)->name);
}

/* A CIDR string of an address and its netmask. */
static int
cidr(const struct ifaddrs *ifa, char *out, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	int bits = 0;

	if (ifa->ifa_addr->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)ifa->ifa_addr)->sin_addr, addr, sizeof(addr));
		if (ifa->ifa_netmask)
			bits = __builtin_popcount(((struct sockaddr_in *)(void *)ifa->ifa_netmask)->sin_addr.s_addr);
	} else if (ifa->ifa_addr->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)ifa->ifa_addr)->sin6_addr, addr, sizeof(addr));
		if (ifa->ifa_netmask)
			for (int i = 0; i < 16; i++)
				bits += __builtin_popcount(((struct sockaddr_in6 *)(void *)ifa->ifa_netmask)->sin6_addr.s6_addr[i]);
	} else
		return -1;
	snprintf(out, len, "%s/%d", addr, bits);
	return 0;
}

static void
collect_network(struct agent_report *r)
{
	struct ifaddrs *all, *ifa;
	struct agent_iface *list = NULL;
	struct agent_netdev *counters = NULL;
	size_t n = 0, cap = 0;
	char *text;
	int nc;

	if (getifaddrs(&all) != 0)
		return;
	for (ifa = all; ifa; ifa = ifa->ifa_next) {
		char addr[64];
		size_t i;

		if (!ifa->ifa_addr || (ifa->ifa_flags & IFF_LOOPBACK) || cidr(ifa, addr, sizeof(addr)) != 0)
			continue;
		for (i = 0; i < n; i++)
			if (strcmp(list[i].name, ifa->ifa_name) == 0)
				break;
		if (i == n) {
			GROW(list, n, cap);
			snprintf(list[n].name, sizeof(list[n].name), "%s", ifa->ifa_name);
			n++;
		}
		if (list[i].naddresses < (int)ARRAY_LEN(list[i].addresses))
			snprintf(list[i].addresses[list[i].naddresses++], sizeof(list[i].addresses[0]), "%s", addr);
	}
	freeifaddrs(all);
	text = read_host("PROC", "net/dev");
	nc = agent_parse_net_dev(text, &counters);
	free(text);
	for (size_t i = 0; i < n; i++) {
		char rel[128], *mac;

		for (int k = 0; k < nc; k++)
			if (strcmp(counters[k].name, list[i].name) == 0) {
				list[i].rx_bytes = counters[k].rx_bytes;
				list[i].tx_bytes = counters[k].tx_bytes;
			}
		snprintf(rel, sizeof(rel), "class/net/%s/address", list[i].name);
		if ((mac = read_host("SYS", rel))) {
			mac[strcspn(mac, "\n")] = '\0';
			if (strcmp(mac, "00:00:00:00:00:00") != 0)
				snprintf(list[i].mac, sizeof(list[i].mac), "%s", mac);
		}
		free(mac);
	}
	free(counters);
	if (n > 1)
		qsort(list, n, sizeof(*list), iface_cmp);
	r->ifaces = list;
	r->nifaces = n;
}

/* One hwmon chip's tempN and fanN inputs as readings. */
static void
hwmon_chip(const char *dir, const char *chip, struct agent_sensor_reading **r, size_t *n,
    size_t *cap)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[1400], label_path[1400], *val, *label;
		int idx, fan = strncmp(de->d_name, "fan", 3) == 0, len = 0;

		if (sscanf(de->d_name, fan ? "fan%d_input%n" : "temp%d_input%n", &idx, &len) != 1 ||
		    de->d_name[len] != '\0')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!(val = agent_read_file(path)))
			continue;
		snprintf(label_path, sizeof(label_path), "%s/%s%d_label", dir, fan ? "fan" : "temp", idx);
		label = agent_read_file(label_path);
		GROW(*r, *n, *cap);
		snprintf((*r)[*n].chip, sizeof((*r)[*n].chip), "%s", chip);
		if (label && *label) {
			label[strcspn(label, "\n")] = '\0';
			snprintf((*r)[*n].sensor, sizeof((*r)[*n].sensor), "%s", label);
		} else
			snprintf((*r)[*n].sensor, sizeof((*r)[*n].sensor), "%s%d", fan ? "fan" : "temp", idx);
		(*r)[*n].fan = fan;
		(*r)[*n].value = strtod(val, NULL) / (fan ? 1 : 1000);
		(*n)++;
		free(val);
		free(label);
	}
	closedir(d);
}

static void
collect_temperatures(struct agent_report *r)
{
	struct agent_sensor_reading *readings = NULL;
	size_t n = 0, cap = 0;
	char root[512];
	DIR *d;
	struct dirent *de;

	host_path(root, sizeof(root), "SYS", "class/hwmon");
	if ((d = opendir(root))) {
		while ((de = readdir(d))) {
			char dir[1024], rel[1024], chip[64], *name;

			if (strncmp(de->d_name, "hwmon", 5) != 0)
				continue;
			snprintf(dir, sizeof(dir), "%s/%s", root, de->d_name);
			snprintf(rel, sizeof(rel), "class/hwmon/%s/name", de->d_name);
			if (!(name = read_host("SYS", rel)))
				continue;
			name[strcspn(name, "\n")] = '\0';
			/* lm-sensors names chips "<name>-<bus>-<addr>"; the directory keeps them apart */
			snprintf(chip, sizeof(chip), "%.40s-%.20s", name, de->d_name);
			free(name);
			hwmon_chip(dir, chip, &readings, &n, &cap);
		}
		closedir(d);
	}
	if (n == 0) {
		char *t = read_host("SYS", "class/thermal/thermal_zone0/temp");

		if (t) {
			GROW(readings, n, cap);
			snprintf(readings[0].chip, sizeof(readings[0].chip), "cpu_thermal-virtual-0");
			snprintf(readings[0].sensor, sizeof(readings[0].sensor), "temp1");
			readings[0].value = strtod(t, NULL) / 1000;	/* millidegrees (QUIRK) */
			n = 1;
		}
		free(t);
	}
	agent_sensors_classify(readings, n, &r->sensors);
	free(readings);
}


static void
collect_smart(struct agent_collector *c, struct agent_report *r)
{
	static const char *const skip[] = { "loop", "ram", "dm-", "zd", "sr", "md", "nbd", "zram",
		"fd" };
	char root[512];
	DIR *d;
	struct dirent *de;
	size_t cap = 0;

	if (!c->smartctl_checked) {
		c->smartctl_checked = 1;
		find_program("smartctl", c->smartctl, sizeof(c->smartctl));
	}
	host_path(root, sizeof(root), "SYS", "block");
	if (!*c->smartctl || !(d = opendir(root)))
		return;
	while ((de = readdir(d))) {
		char dev[300], devpath[1100], *out;
		char *argv[] = { c->smartctl, "-n", "standby", "-i", "-A", "-H", "--json=o", dev, NULL };
		struct agent_smart_disk s;
		struct stat st;
		int status, skipped = de->d_name[0] == '.';

		for (size_t i = 0; i < ARRAY_LEN(skip) && !skipped; i++)
			skipped = strncmp(de->d_name, skip[i], strlen(skip[i])) == 0;
		snprintf(devpath, sizeof(devpath), "%s/%s/device", root, de->d_name);
		snprintf(dev, sizeof(dev), "/dev/%s", de->d_name);
		if (skipped || stat(devpath, &st) != 0 ||
		    agent_disk_excluded(c->cfg->disk_exclude, c->cfg->ndisk_exclude, de->d_name) ||
		    agent_disk_excluded(c->cfg->disk_exclude, c->cfg->ndisk_exclude, dev))
			continue;
		out = run_capture(argv, 10, &status);
		if ((out && *out) || (status >= 0 && (status & 2))) {
			if (agent_parse_smartctl(out, status, de->d_name, &s) == 0) {
				GROW(r->sensors.smart, r->sensors.nsmart, cap);
				r->sensors.smart[r->sensors.nsmart++] = s;
			}
		}
		free(out);
	}
	closedir(d);
}

void
agent_collect(struct agent_collector *c, struct agent_report *r, double cpu_sample)
{
	char *text;
	struct agent_diskio *io = NULL;
	int n;

	collect_system(r, c->cfg);
	collect_cpu(r, cpu_sample);
	collect_disks(c, r);
	text = read_host("PROC", "diskstats");
	if ((n = agent_parse_diskstats(text, &io)) > 0) {
		r->diskio = io;
		r->ndiskio = (size_t)n;
	} else
		free(io);
	free(text);
	collect_network(r);
	collect_temperatures(r);
	collect_smart(c, r);
	text = read_host("PROC", "mdstat");
	if ((n = agent_parse_mdstat(text, &r->raid)) > 0)
		r->nraid = (size_t)n;
	free(text);
	r->timestamp = clock_wall();
}
