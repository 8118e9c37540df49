/* agent_mock.c: mock mode's host agents, Docker hosts and Kubernetes clusters: generated
 * reports, their drift, and their mock rows in the agent tables. */
#include "config.h"

#include "agent_alerts_json.h"
#include "agent_docker.h"
#include "agent_host.h"
#include "agent_kube.h"
#include "agent_mock.h"
#include "alert_agents.h"
#include "jsonread.h"
#include "jsonwrite.h"
#include "state_rows.h"
#include "timefmt.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* --- figures ----------------------------------------------------------------------------- */

/* The generator's own LCG (as worker/mock.c's): reproducible from the seed. */
static double
rnd(struct agent_mock *m)
{
	m->seed = m->seed * 1103515245u + 12345u;
	return (double)((m->seed >> 8) & 0xffffff) / (double)0x1000000;
}

static int64_t
between(struct agent_mock *m, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd(m) * (double)(hi - lo + 1));
}

/* A random walk with a pull toward a centre, clamped (state-proxmox.md §6.3). */
static double
drift(struct agent_mock *m, double v, double step, double pull, double centre, double lo,
    double hi)
{
	v += (rnd(m) * 2 - 1) * step + (centre - v) * pull;
	return v < lo ? lo : v > hi ? hi : v;
}

static void
put_time(struct json_object *o, const char *key, double t)
{
	char buf[48];

	jsonwrite_str(o, key, timefmt_rfc3339(t, buf, sizeof(buf)));
}

static void
put_strings(struct json_object *o, const char *key, const char *const *values)
{
	struct json_object *a = json_object_new_array();

	for (; *values; values++)
		json_object_array_add(a, json_object_new_string(*values));
	json_object_object_add(o, key, a);
}

static void
put_load(struct agent_mock *m, struct json_object *o, double scale)
{
	struct json_object *a = json_object_new_array();

	for (int i = 0; i < 3; i++)
		json_object_array_add(a, json_object_new_double((double)between(m, 5, 150) / 100.0 *
		    scale));
	json_object_object_add(o, "loadAverage", a);
}

/* A memory object with usage in percent of total (agents.md §3.1). */
static void
put_memory(struct json_object *mem, int64_t total, double usage)
{
	int64_t used = (int64_t)((double)total * usage / 100.0);

	jsonwrite_int(mem, "totalBytes", total);
	jsonwrite_int(mem, "usedBytes", used);
	jsonwrite_int(mem, "freeBytes", total - used);
	jsonwrite_num(mem, "usage", usage);
}

static struct json_object *
new_disk(const char *device, const char *mountpoint, const char *type, int64_t total,
    double usage)
{
	struct json_object *d = json_object_new_object();
	int64_t used = (int64_t)((double)total * usage / 100.0);

	jsonwrite_str(d, "device", device);
	jsonwrite_str(d, "mountpoint", mountpoint);
	jsonwrite_str(d, "filesystem", type);
	jsonwrite_str(d, "type", type);
	jsonwrite_int(d, "totalBytes", total);
	jsonwrite_int(d, "usedBytes", used);
	jsonwrite_int(d, "freeBytes", total - used);
	jsonwrite_num(d, "usage", usage);
	return d;
}

static struct json_object *
new_interface(struct agent_mock *m, const char *name, int n)
{
	struct json_object *o = json_object_new_object();
	char mac[32], addr[48];
	const char *addrs[2] = {addr, NULL};

	snprintf(mac, sizeof(mac), "52:54:00:%02x:%02x:%02x", n & 0xff, (int)between(m, 0, 255),
	    (int)between(m, 0, 255));
	snprintf(addr, sizeof(addr), "192.168.%d.%d/24", 10 + n / 200, 20 + n % 200);
	jsonwrite_str(o, "name", name);
	jsonwrite_str(o, "mac", mac);
	put_strings(o, "addresses", addrs);
	jsonwrite_int(o, "rxBytes", between(m, 1, 900) << 20);
	jsonwrite_int(o, "txBytes", between(m, 1, 400) << 20);
	return o;
}

/* A counter of member key of o grown by up to max bytes. */
static void
grow(struct agent_mock *m, struct json_object *o, const char *key, double max)
{
	jsonwrite_int(o, key, jsonread_int(o, key, 0) + (int64_t)(rnd(m) * rnd(m) * max));
}

static void
new_agent(struct json_object *report, const char *id, const char *version)
{
	struct json_object *a = json_object_new_object();

	jsonwrite_str(a, "id", id);
	jsonwrite_str(a, "version", version);
	jsonwrite_str(a, "type", "unified");
	jsonwrite_int(a, "intervalSeconds", AGENT_MOCK_INTERVAL);
	json_object_object_add(report, "agent", a);
}

/* --- generic hosts (agents.md §3.1) --------------------------------------------------------- */

static const struct host_profile {
	const char *platform, *os_name, *os_version, *kernel, *arch, *prefix;
} host_profiles[] = {
	{"linux", "Ubuntu", "24.04", "6.8.0-45-generic", "x86_64", ""},
	{"linux", "Debian GNU/Linux", "12", "6.1.0-26-amd64", "x86_64", ""},
	{"linux", "Rocky Linux", "9.4", "5.14.0-427.el9.x86_64", "x86_64", ""},
	{"windows", "Microsoft Windows Server 2022 Standard", "10.0.20348", "10.0.20348",
	    "amd64", "win-"},
	{"macos", "macOS", "14.6.1", "23.6.0", "arm64", "mac-"},
};
static const char *const host_roles[] = {"web", "db", "files", "build", "media", "backup",
    "gateway", "dev"};

static struct json_object *
gen_host(struct agent_mock *m, int n, char *id, size_t idlen, double now)
{
	const struct host_profile *p = &host_profiles[between(m, 0,
	    (int64_t)ARRAY_LEN(host_profiles) - 1)];
	struct json_object *r = json_object_new_object(), *host = json_object_new_object();
	struct json_object *metrics = json_object_new_object(), *mem = json_object_new_object();
	struct json_object *disks = json_object_new_array(), *io = json_object_new_array();
	struct json_object *net = json_object_new_array(), *sensors, *temps;
	char hostname[64], machine[48];
	int64_t memtotal = between(m, 4, 64) << 30, swap = strcmp(p->platform, "macos") ? 2LL << 30 : 0;
	int windows = strcmp(p->platform, "windows") == 0, linux_ = strcmp(p->platform, "linux") == 0;

	snprintf(id, idlen, "host-%s-%d", p->platform, n);
	snprintf(hostname, sizeof(hostname), "%s%s-%02d", p->prefix,
	    host_roles[between(m, 0, (int64_t)ARRAY_LEN(host_roles) - 1)], n);
	snprintf(machine, sizeof(machine), "%08x%08x%08x%08x", (unsigned)between(m, 0, 0x7fffffff),
	    (unsigned)between(m, 0, 0x7fffffff), (unsigned)n, (unsigned)between(m, 0, 0x7fffffff));
	new_agent(r, id, "5.0.4");
	jsonwrite_str(host, "id", id);
	jsonwrite_str(host, "hostname", hostname);
	jsonwrite_str(host, "displayName", hostname);
	jsonwrite_str(host, "machineId", machine);
	jsonwrite_str(host, "platform", p->platform);
	jsonwrite_str(host, "osName", p->os_name);
	jsonwrite_str(host, "osVersion", p->os_version);
	jsonwrite_str(host, "kernelVersion", p->kernel);
	jsonwrite_str(host, "architecture", p->arch);
	jsonwrite_int(host, "cpuCount", 2 << between(m, 0, 4));
	jsonwrite_int(host, "uptimeSeconds", between(m, 3600, 86400 * 90));
	if (!windows)
		put_load(m, host, 1);
	json_object_object_add(r, "host", host);
	jsonwrite_num(metrics, "cpuUsagePercent", (double)between(m, 3, 45));
	put_memory(mem, memtotal, (double)between(m, 25, 70));
	if (swap) {
		jsonwrite_int(mem, "swapTotalBytes", swap);
		jsonwrite_int(mem, "swapUsedBytes", between(m, 0, 200) << 20);
	}
	json_object_object_add(metrics, "memory", mem);
	json_object_object_add(r, "metrics", metrics);
	if (windows) {
		json_object_array_add(disks, new_disk("C:", "C:\\", "NTFS", between(m, 120, 500) << 30,
		    (double)between(m, 30, 75)));
		json_object_array_add(disks, new_disk("D:", "D:\\", "NTFS", between(m, 500, 4000) << 30,
		    (double)between(m, 10, 70)));
	} else if (linux_) {
		json_object_array_add(disks, new_disk("/dev/sda2", "/", "ext4", between(m, 40, 500) << 30,
		    (double)between(m, 20, 70)));
		if (rnd(m) < 0.6)
			json_object_array_add(disks, new_disk("/dev/sdb1", "/srv", "xfs",
			    between(m, 500, 8000) << 30, (double)between(m, 10, 80)));
	} else {
		json_object_array_add(disks, new_disk("/dev/disk3s1s1", "/", "apfs",
		    between(m, 250, 2000) << 30, (double)between(m, 20, 65)));
	}
	json_object_object_add(r, "disks", disks);
	{
		struct json_object *d = json_object_new_object();
		jsonwrite_str(d, "device", windows ? "PhysicalDrive0" : linux_ ? "sda" : "disk0");
		jsonwrite_int(d, "readBytes", between(m, 1, 900) << 24);
		jsonwrite_int(d, "writeBytes", between(m, 1, 900) << 24);
		jsonwrite_int(d, "readOps", between(m, 1000, 900000));
		jsonwrite_int(d, "writeOps", between(m, 1000, 900000));
		jsonwrite_int(d, "readTimeMs", between(m, 100, 90000));
		jsonwrite_int(d, "writeTimeMs", between(m, 100, 90000));
		jsonwrite_int(d, "ioTimeMs", between(m, 100, 90000));
		json_object_array_add(io, d);
	}
	json_object_object_add(r, "diskIO", io);
	json_object_array_add(net, new_interface(m, windows ? "Ethernet" : linux_ ? "eth0" : "en0",
	    n));
	json_object_object_add(r, "network", net);
	if (linux_) {
		sensors = json_object_new_object();
		temps = json_object_new_object();
		jsonwrite_num(temps, "cpu_package", (double)between(m, 38, 62));
		jsonwrite_num(temps, "cpu_core_0", (double)between(m, 36, 60));
		jsonwrite_num(temps, "cpu_core_1", (double)between(m, 36, 60));
		json_object_object_add(sensors, "temperatureCelsius", temps);
		json_object_object_add(r, "sensors", sensors);
	}
	if (rnd(m) < 0.5) {
		const char *tags[] = {rnd(m) < 0.5 ? "production" : "lab", NULL};
		put_strings(r, "tags", tags);
	}
	put_time(r, "timestamp", now);
	return r;
}

static void
fluctuate_host(struct agent_mock *m, struct json_object *r, double dt)
{
	struct json_object *host = jsonread_member(r, "host");
	struct json_object *metrics = jsonread_member(r, "metrics");
	struct json_object *mem = jsonread_member(metrics, "memory");
	struct json_object *io = jsonread_member(r, "diskIO"), *net = jsonread_member(r, "network");

	jsonwrite_num(metrics, "cpuUsagePercent", drift(m, jsonread_number(metrics,
	    "cpuUsagePercent", 20), 2, 0.06, 20, 1, 90));
	put_memory(mem, jsonread_int(mem, "totalBytes", 0), drift(m, jsonread_number(mem,
	    "usage", 50), 1, 0.03, 50, 10, 85));
	jsonwrite_int(host, "uptimeSeconds", jsonread_int(host, "uptimeSeconds", 0) + (int64_t)dt);
	if (jsonread_has(host, "loadAverage"))
		put_load(m, host, 1);
	for (int i = 0; i < jsonread_array_len(io); i++) {
		struct json_object *d = json_object_array_get_idx(io, (size_t)i);
		grow(m, d, "readBytes", dt * 8e6);
		grow(m, d, "writeBytes", dt * 4e6);
	}
	for (int i = 0; i < jsonread_array_len(net); i++) {
		struct json_object *d = json_object_array_get_idx(net, (size_t)i);
		grow(m, d, "rxBytes", dt * 6e6);
		grow(m, d, "txBytes", dt * 2e6);
	}
}

/* --- Docker hosts (agents.md §4.1) ---------------------------------------------------------- */

static const struct container_kind {
	const char *name, *image, *health;
	int port, mem_mib;
} container_kinds[] = {
	{"nginx", "nginx:1.27-alpine", "", 80, 64},
	{"postgres", "postgres:16", "healthy", 5432, 512},
	{"redis", "redis:7-alpine", "healthy", 6379, 128},
	{"grafana", "grafana/grafana:11.2.0", "", 3000, 256},
	{"prometheus", "prom/prometheus:v2.54.1", "", 9090, 1024},
	{"traefik", "traefik:v3.1", "healthy", 443, 96},
	{"uptime-kuma", "louislam/uptime-kuma:1", "healthy", 3001, 192},
	{"vaultwarden", "vaultwarden/server:latest", "healthy", 8080, 128},
	{"nextcloud", "nextcloud:29-apache", "", 8081, 768},
	{"mariadb", "mariadb:11", "healthy", 3306, 512},
	{"home-assistant", "ghcr.io/home-assistant/home-assistant:stable", "", 8123, 768},
	{"node-exporter", "prom/node-exporter:v1.8.2", "", 9100, 32},
	{"pihole", "pihole/pihole:latest", "unhealthy", 53, 128},
	{"gitea", "gitea/gitea:1.22", "", 3002, 256},
	{"jellyfin", "jellyfin/jellyfin:10.9", "", 8096, 1024},
	{"watchtower", "containrrr/watchtower:latest", "", 0, 32},
};

/* A container's human status, as docker ps writes it. */
static void
container_status(struct json_object *c)
{
	int64_t up = jsonread_int(c, "uptimeSeconds", 0);
	char buf[64];

	if (strcmp(jsonread_string(c, "state", ""), "running") != 0)
		snprintf(buf, sizeof(buf), "Exited (%lld) %lld hours ago",
		    (long long)jsonread_int(c, "exitCode", 0), (long long)(1 + up / 3600));
	else if (up < 3600)
		snprintf(buf, sizeof(buf), "Up %lld minutes", (long long)(up / 60 ? up / 60 : 1));
	else if (up < 2 * 86400)
		snprintf(buf, sizeof(buf), "Up %lld hours", (long long)(up / 3600));
	else
		snprintf(buf, sizeof(buf), "Up %lld days", (long long)(up / 86400));
	if (strcmp(jsonread_string(c, "health", ""), "") != 0 &&
	    strcmp(jsonread_string(c, "state", ""), "running") == 0)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " (%s)",
		    jsonread_string(c, "health", ""));
	jsonwrite_str(c, "status", buf);
}

static struct json_object *
gen_container(struct agent_mock *m, const char *hostname, int k, int podman, double now)
{
	const struct container_kind *kind = &container_kinds[(k + (int)between(m, 0, 3)) %
	    (int)ARRAY_LEN(container_kinds)];
	struct json_object *c = json_object_new_object(), *labels = json_object_new_object();
	struct json_object *nets = json_object_new_array(), *net = json_object_new_object();
	struct json_object *io = json_object_new_object();
	char id[72], name[96], addr[32];
	int running = rnd(m) >= 0.12;
	int64_t limit = (int64_t)kind->mem_mib * 4 << 20;
	double created = now - (double)between(m, 86400, 86400 * 200);

	for (int i = 0; i < 8; i++)
		snprintf(id + i * 8, sizeof(id) - (size_t)i * 8, "%08x", (unsigned)between(m, 0,
		    0xffffffffLL));
	snprintf(name, sizeof(name), "%s-%d", kind->name, k + 1);
	jsonwrite_str(c, "id", id);
	jsonwrite_str(c, "name", name);
	jsonwrite_str(c, "image", kind->image);
	put_time(c, "createdAt", created);
	jsonwrite_str(c, "state", running ? "running" : "exited");
	jsonwrite_str(c, "health", running ? kind->health : "");
	jsonwrite_num(c, "cpuPercent", running ? (double)between(m, 0, 250) / 10.0 : 0);
	jsonwrite_int(c, "memoryLimitBytes", limit);
	jsonwrite_int(c, "memoryUsageBytes", running ? (int64_t)((double)limit *
	    (double)between(m, 15, 60) / 100.0) : 0);
	jsonwrite_num(c, "memoryPercent", running ? (double)jsonread_int(c, "memoryUsageBytes", 0) *
	    100.0 / (double)limit : 0);
	jsonwrite_int(c, "uptimeSeconds", running ? between(m, 600, (int64_t)(now - created)) : 0);
	jsonwrite_int(c, "restartCount", rnd(m) < 0.15 ? between(m, 1, 3) : 0);
	jsonwrite_int(c, "exitCode", running ? 0 : rnd(m) < 0.5 ? 0 : 137);
	if (running) {
		put_time(c, "startedAt", now - (double)jsonread_int(c, "uptimeSeconds", 0));
	} else {
		put_time(c, "startedAt", created + 60);
		put_time(c, "finishedAt", now - (double)between(m, 3600, 86400 * 3));
	}
	if (kind->port) {
		struct json_object *ports = json_object_new_array(), *p = json_object_new_object();
		jsonwrite_int(p, "privatePort", kind->port);
		jsonwrite_int(p, "publicPort", kind->port);
		jsonwrite_str(p, "protocol", kind->port == 53 ? "udp" : "tcp");
		jsonwrite_str(p, "ip", "0.0.0.0");
		json_object_array_add(ports, p);
		json_object_object_add(c, "ports", ports);
	}
	jsonwrite_str(labels, podman ? "io.podman.compose.project" : "com.docker.compose.project",
	    hostname);
	jsonwrite_str(labels, podman ? "io.podman.compose.service" : "com.docker.compose.service",
	    kind->name);
	json_object_object_add(c, "labels", labels);
	jsonwrite_str(net, "name", podman ? "podman" : "bridge");
	snprintf(addr, sizeof(addr), "172.18.0.%d", k + 2);
	if (running)
		jsonwrite_str(net, "ipv4", addr);
	json_object_array_add(nets, net);
	json_object_object_add(c, "networks", nets);
	jsonwrite_int(io, "readBytes", between(m, 1, 500) << 20);
	jsonwrite_int(io, "writeBytes", between(m, 1, 200) << 20);
	json_object_object_add(c, "blockIo", io);
	if (podman) {
		struct json_object *p = json_object_new_object();
		jsonwrite_str(p, "composeProject", hostname);
		jsonwrite_str(p, "composeService", kind->name);
		json_object_object_add(c, "podman", p);
	}
	if (rnd(m) < 0.25) {
		struct json_object *u = json_object_new_object();
		jsonwrite_bool(u, "updateAvailable", rnd(m) < 0.5);
		put_time(u, "lastChecked", now - (double)between(m, 600, 86400));
		json_object_object_add(c, "updateStatus", u);
	}
	container_status(c);
	return c;
}

static struct json_object *
gen_docker(struct agent_mock *m, int n, char *id, size_t idlen, double now)
{
	/* Every third host runs Podman, when there is more than one (§6.2). */
	int podman = AGENT_MOCK_DOCKER_HOSTS > 1 && n % 3 == 0;
	struct json_object *r = json_object_new_object(), *host = json_object_new_object();
	struct json_object *mem = json_object_new_object(), *disks = json_object_new_array();
	struct json_object *net = json_object_new_array(), *containers = json_object_new_array();
	char hostname[64], machine[48];
	int64_t memtotal = between(m, 8, 64) << 30;

	snprintf(hostname, sizeof(hostname), "%s-%d", podman ? "podman-host" : "docker-host", n);
	snprintf(id, idlen, "%s-mock", hostname);
	snprintf(machine, sizeof(machine), "%08x-0000-4000-8000-%012x", (unsigned)between(m, 0,
	    0x7fffffff), (unsigned)n);
	new_agent(r, id, "5.0.4");
	jsonwrite_str(host, "hostname", hostname);
	jsonwrite_str(host, "name", hostname);
	jsonwrite_str(host, "machineId", machine);
	jsonwrite_str(host, "os", podman ? "Fedora Linux 40 (Server Edition)" : "Ubuntu 24.04.1 LTS");
	jsonwrite_str(host, "runtime", podman ? "podman" : "docker");
	jsonwrite_str(host, "runtimeVersion", podman ? "5.2.2" : "27.3.1");
	jsonwrite_str(host, "dockerVersion", podman ? "5.2.2" : "27.3.1");
	jsonwrite_str(host, "kernelVersion", podman ? "6.10.11-200.fc40.x86_64" : "6.8.0-45-generic");
	jsonwrite_str(host, "architecture", "x86_64");
	jsonwrite_int(host, "totalCpu", 2 << between(m, 1, 3));
	jsonwrite_int(host, "totalMemoryBytes", memtotal);
	jsonwrite_int(host, "uptimeSeconds", between(m, 86400, 86400 * 60));
	jsonwrite_num(host, "cpuUsagePercent", (double)between(m, 5, 40));
	put_load(m, host, 2);
	put_memory(mem, memtotal, (double)between(m, 30, 70));
	json_object_object_add(host, "memory", mem);
	json_object_array_add(disks, new_disk("/dev/sda1", "/", "ext4", between(m, 100, 1000) << 30,
	    (double)between(m, 20, 70)));
	json_object_object_add(host, "disks", disks);
	json_object_array_add(net, new_interface(m, "eth0", 100 + n));
	json_object_object_add(host, "network", net);
	json_object_object_add(r, "host", host);
	for (int k = 0; k < AGENT_MOCK_CONTAINERS; k++)
		json_object_array_add(containers, gen_container(m, hostname, k, podman, now));
	json_object_object_add(r, "containers", containers);
	put_time(r, "timestamp", now);
	return r;
}

static void
fluctuate_docker(struct agent_mock *m, int h, double dt)
{
	struct json_object *host = jsonread_member(m->docker[h], "host");
	struct json_object *mem = jsonread_member(host, "memory");
	struct json_object *containers = jsonread_member(m->docker[h], "containers");

	jsonwrite_num(host, "cpuUsagePercent", drift(m, jsonread_number(host, "cpuUsagePercent",
	    20), 1.5, 0.05, 25, 2, 85));
	put_memory(mem, jsonread_int(mem, "totalBytes", 0), drift(m, jsonread_number(mem,
	    "usage", 50), 1, 0.03, 50, 10, 85));
	jsonwrite_int(host, "uptimeSeconds", jsonread_int(host, "uptimeSeconds", 0) + (int64_t)dt);
	put_load(m, host, 2);
	for (int k = 0; k < jsonread_array_len(containers) && k < AGENT_MOCK_CONTAINERS; k++) {
		struct json_object *c = json_object_array_get_idx(containers, (size_t)k);
		struct json_object *io = jsonread_member(c, "blockIo");
		int64_t limit = jsonread_int(c, "memoryLimitBytes", 0), rd, wr;

		if (strcmp(jsonread_string(c, "state", ""), "running") != 0) {
			m->rates[h][k][0] = m->rates[h][k][1] = dt > 0 ? 0 : -1;
			continue;
		}
		jsonwrite_num(c, "cpuPercent", drift(m, jsonread_number(c, "cpuPercent", 5), 1.5, 0.08,
		    8, 0.1, 80));
		jsonwrite_num(c, "memoryPercent", drift(m, jsonread_number(c, "memoryPercent", 40), 1,
		    0.04, 40, 5, 80));
		jsonwrite_int(c, "memoryUsageBytes", (int64_t)((double)limit *
		    jsonread_number(c, "memoryPercent", 0) / 100.0));
		jsonwrite_int(c, "uptimeSeconds", jsonread_int(c, "uptimeSeconds", 0) + (int64_t)dt);
		rd = jsonread_int(io, "readBytes", 0);
		wr = jsonread_int(io, "writeBytes", 0);
		grow(m, io, "readBytes", dt * 2e6);
		grow(m, io, "writeBytes", dt * 1e6);
		if (dt > 0) {
			m->rates[h][k][0] = (double)(jsonread_int(io, "readBytes", 0) - rd) / dt;
			m->rates[h][k][1] = (double)(jsonread_int(io, "writeBytes", 0) - wr) / dt;
		}
		container_status(c);
	}
}

/* --- Kubernetes clusters (agents.md §5.1) --------------------------------------------------- */

static const char *const kube_names[] = {"production", "staging", "edge", "lab"};
static const char *const kube_apps[] = {"frontend", "api", "worker", "cache", "ingress-nginx",
    "cert-manager", "prometheus", "grafana", "loki", "coredns", "metrics-server", "postgres"};
static const char *const kube_namespaces[] = {"default", "apps", "monitoring", "kube-system"};

static void
put_labels(struct json_object *o, const char *app)
{
	struct json_object *l = json_object_new_object();

	jsonwrite_str(l, "app", app);
	json_object_object_add(o, "labels", l);
}

static void
put_uid(struct agent_mock *m, struct json_object *o)
{
	char uid[48];

	snprintf(uid, sizeof(uid), "%08x-%04x-4%03x-8%03x-%012llx", (unsigned)between(m, 0,
	    0x7fffffff), (unsigned)between(m, 0, 0xffff), (unsigned)between(m, 0, 0xfff),
	    (unsigned)between(m, 0, 0xfff), (unsigned long long)between(m, 0, 0x7fffffffffffLL));
	jsonwrite_str(o, "uid", uid);
}

static struct json_object *
gen_kube_node(struct agent_mock *m, const char *cluster, int k)
{
	struct json_object *n = json_object_new_object(), *cap = json_object_new_object();
	struct json_object *alloc = json_object_new_object();
	const char *control[] = {"control-plane", NULL}, *worker[] = {"worker", NULL};
	char name[96];
	int64_t cores = 4 << between(m, 0, 2), mem = between(m, 16, 64) << 30;

	if (k == 0)
		snprintf(name, sizeof(name), "%s-control-1", cluster);
	else
		snprintf(name, sizeof(name), "%s-worker-%d", cluster, k);
	put_uid(m, n);
	jsonwrite_str(n, "name", name);
	jsonwrite_bool(n, "ready", 1);
	jsonwrite_str(n, "kubeletVersion", "v1.30.4");
	jsonwrite_str(n, "containerRuntimeVersion", "containerd://1.7.20");
	jsonwrite_str(n, "osImage", "Ubuntu 24.04.1 LTS");
	jsonwrite_str(n, "kernelVersion", "6.8.0-45-generic");
	jsonwrite_str(n, "architecture", "amd64");
	jsonwrite_int(cap, "cpuCores", cores);
	jsonwrite_int(cap, "memoryBytes", mem);
	jsonwrite_int(cap, "pods", 110);
	jsonwrite_int(alloc, "cpuCores", cores);
	jsonwrite_int(alloc, "memoryBytes", mem - (1LL << 30));
	jsonwrite_int(alloc, "pods", 110);
	json_object_object_add(n, "capacity", cap);
	json_object_object_add(n, "allocatable", alloc);
	put_strings(n, "roles", k == 0 ? control : worker);
	return n;
}

static struct json_object *
gen_kube_deployment(struct agent_mock *m, int k)
{
	struct json_object *d = json_object_new_object();
	int64_t desired = between(m, 1, 3);
	/* About one in six short of its replicas, as a real cluster now and then is. */
	int64_t ready = rnd(m) < 0.17 ? desired - 1 : desired;

	put_uid(m, d);
	jsonwrite_str(d, "name", kube_apps[k % (int)ARRAY_LEN(kube_apps)]);
	jsonwrite_str(d, "namespace", kube_namespaces[k % (int)ARRAY_LEN(kube_namespaces)]);
	jsonwrite_int(d, "desiredReplicas", desired);
	jsonwrite_int(d, "updatedReplicas", desired);
	jsonwrite_int(d, "readyReplicas", ready);
	jsonwrite_int(d, "availableReplicas", ready);
	put_labels(d, kube_apps[k % (int)ARRAY_LEN(kube_apps)]);
	return d;
}

static struct json_object *
gen_kube_pod(struct agent_mock *m, struct json_object *nodes, struct json_object *deployments,
    int k, double now)
{
	struct json_object *p = json_object_new_object(), *containers = json_object_new_array();
	struct json_object *c = json_object_new_object();
	struct json_object *d = json_object_array_get_idx(deployments,
	    (size_t)(k % (int)json_object_array_length(deployments)));
	struct json_object *node = json_object_array_get_idx(nodes,
	    (size_t)k % json_object_array_length(nodes));
	const char *app = jsonread_string(d, "name", "app");
	double r = rnd(m), created = now - (double)between(m, 3600, 86400 * 30);
	const char *phase = r < 0.06 ? "Pending" : r < 0.09 ? "Failed" : "Running";
	int running = strcmp(phase, "Running") == 0;
	int64_t restarts = rnd(m) < 0.2 ? between(m, 1, 6) : 0;
	char name[128], image[128], rs[16];

	snprintf(rs, sizeof(rs), "%05x", (unsigned)between(m, 0, 0xfffff));
	snprintf(name, sizeof(name), "%s-%s-%d", app, rs, k);
	snprintf(image, sizeof(image), "registry.example.com/%s:1.%d", app, (int)between(m, 0, 9));
	put_uid(m, p);
	jsonwrite_str(p, "name", name);
	jsonwrite_str(p, "namespace", jsonread_string(d, "namespace", "default"));
	jsonwrite_str(p, "nodeName", jsonread_string(node, "name", ""));
	jsonwrite_str(p, "phase", phase);
	if (!running)
		jsonwrite_str(p, "reason", strcmp(phase, "Pending") == 0 ? "Unschedulable" : "Error");
	jsonwrite_str(p, "qosClass", "Burstable");
	put_time(p, "createdAt", created);
	if (strcmp(phase, "Pending") != 0)
		put_time(p, "startTime", created + 5);
	jsonwrite_int(p, "restarts", restarts);
	put_labels(p, app);
	jsonwrite_str(p, "ownerKind", "ReplicaSet");
	jsonwrite_str(p, "ownerName", app);
	jsonwrite_str(c, "name", app);
	jsonwrite_str(c, "image", image);
	jsonwrite_bool(c, "ready", running);
	jsonwrite_int(c, "restartCount", restarts);
	jsonwrite_str(c, "state", running ? "running" : strcmp(phase, "Pending") == 0 ? "waiting" :
	    "terminated");
	if (!running)
		jsonwrite_str(c, "reason", strcmp(phase, "Pending") == 0 ? "ContainerCreating" :
		    "Error");
	json_object_array_add(containers, c);
	json_object_object_add(p, "containers", containers);
	return p;
}

static struct json_object *
gen_kube(struct agent_mock *m, int n, char *id, size_t idlen, double now)
{
	struct json_object *r = json_object_new_object(), *cluster = json_object_new_object();
	struct json_object *nodes = json_object_new_array(), *pods = json_object_new_array();
	struct json_object *deployments = json_object_new_array();
	const char *name = kube_names[(n - 1) % (int)ARRAY_LEN(kube_names)];
	char server[96];

	snprintf(id, idlen, "mock-k8s-%s", name);
	snprintf(server, sizeof(server), "https://k8s-%s.mock.lan:6443", name);
	new_agent(r, id, "5.0.4");
	jsonwrite_str(cluster, "id", id);
	jsonwrite_str(cluster, "name", name);
	jsonwrite_str(cluster, "server", server);
	jsonwrite_str(cluster, "context", name);
	jsonwrite_str(cluster, "version", "v1.30.4");
	json_object_object_add(r, "cluster", cluster);
	for (int k = 0; k < AGENT_MOCK_KUBE_NODES; k++)
		json_object_array_add(nodes, gen_kube_node(m, name, k));
	for (int k = 0; k < AGENT_MOCK_KUBE_DEPLOYMENTS; k++)
		json_object_array_add(deployments, gen_kube_deployment(m, k));
	for (int k = 0; k < AGENT_MOCK_KUBE_PODS; k++)
		json_object_array_add(pods, gen_kube_pod(m, nodes, deployments, k, now));
	json_object_object_add(r, "nodes", nodes);
	json_object_object_add(r, "pods", pods);
	json_object_object_add(r, "deployments", deployments);
	put_time(r, "timestamp", now);
	return r;
}

/* --- the estate ------------------------------------------------------------------------------ */

void
agent_mock_free(struct agent_mock *m)
{
	for (int i = 0; i < AGENT_MOCK_HOSTS; i++)
		json_object_put(m->hosts[i]);
	for (int i = 0; i < AGENT_MOCK_DOCKER_HOSTS; i++)
		json_object_put(m->docker[i]);
	for (int i = 0; i < AGENT_MOCK_KUBE_CLUSTERS; i++)
		json_object_put(m->kube[i]);
	memset(m, 0, sizeof(*m));
}

void
agent_mock_generate(struct agent_mock *m, unsigned seed, double now)
{
	agent_mock_free(m);
	m->seed = seed;
	for (int i = 0; i < AGENT_MOCK_HOSTS; i++)
		m->hosts[i] = gen_host(m, i + 1, m->host_ids[i], sizeof(m->host_ids[i]), now);
	for (int i = 0; i < AGENT_MOCK_DOCKER_HOSTS; i++)
		m->docker[i] = gen_docker(m, i + 1, m->docker_ids[i], sizeof(m->docker_ids[i]), now);
	for (int i = 0; i < AGENT_MOCK_DOCKER_HOSTS; i++)
		for (int k = 0; k < AGENT_MOCK_CONTAINERS; k++)
			m->rates[i][k][0] = m->rates[i][k][1] = -1;
	for (int i = 0; i < AGENT_MOCK_KUBE_CLUSTERS; i++)
		m->kube[i] = gen_kube(m, i + 1, m->kube_ids[i], sizeof(m->kube_ids[i]), now);
	m->reported_at = now;
}

void
agent_mock_fluctuate(struct agent_mock *m, double now)
{
	double dt = now - m->reported_at;

	if (dt < 0)
		dt = 0;
	for (int i = 0; i < AGENT_MOCK_HOSTS; i++) {
		fluctuate_host(m, m->hosts[i], dt);
		put_time(m->hosts[i], "timestamp", now);
	}
	for (int i = 0; i < AGENT_MOCK_DOCKER_HOSTS; i++) {
		fluctuate_docker(m, i, dt);
		put_time(m->docker[i], "timestamp", now);
	}
	for (int i = 0; i < AGENT_MOCK_KUBE_CLUSTERS; i++)
		put_time(m->kube[i], "timestamp", now);
	m->reported_at = now;
}

/* --- the rows -------------------------------------------------------------------------------- */

/* Mock rows of ids not in $1 (a JSON array) go; real rows ($1 never names them) stay. */
static const struct db_stmt stmt_prune_hosts = {
	"agent_mock_prune_hosts",
	"DELETE FROM pulse.agent_hosts WHERE mock AND id NOT IN "
	"(SELECT json_array_elements_text($1::json))",
	1,
};
static const struct db_stmt stmt_prune_docker = {
	"agent_mock_prune_docker",
	"DELETE FROM pulse.docker_hosts WHERE mock AND id NOT IN "
	"(SELECT json_array_elements_text($1::json))",
	1,
};
static const struct db_stmt stmt_prune_kube = {
	"agent_mock_prune_kube",
	"DELETE FROM pulse.agent_kube_clusters WHERE mock AND id NOT IN "
	"(SELECT json_array_elements_text($1::json))",
	1,
};

/* The columns agent_host_store writes (src/agent_host.c), with source 'mock'; an id a real
 * host holds is not taken over (WHERE h.mock). The rates are the counters' growth since
 * the previous row, as for a report. */
#define RATE(col) \
	#col "_rate = CASE WHEN EXCLUDED." #col "_total >= h." #col "_total AND now() > " \
	"h.received_at THEN ((EXCLUDED." #col "_total - h." #col "_total) / extract(epoch FROM " \
	"now() - h.received_at))::double precision END, " #col "_total = EXCLUDED." #col "_total"
static const struct db_stmt stmt_host = {
	"agent_mock_host",
	"INSERT INTO pulse.agent_hosts AS h (id, source, hostname, display_name, platform, "
	"os_name, os_version, agent_version, status, last_seen, received_at, interval_seconds, "
	"cpu_usage, memory_usage, report, doc, needs_eval, disk_usage, net_in_total, "
	"net_out_total, disk_read_total, disk_write_total) VALUES ($1, 'mock', $2, $3, $4, $5, $6, "
	"$7, 'online', to_timestamp($8::double precision), now(), $9, $10, $11, $12::json, "
	"$13::json, false, $14, $15, $16, $17, $18) "
	"ON CONFLICT (id) DO UPDATE SET hostname = EXCLUDED.hostname, "
	"display_name = EXCLUDED.display_name, platform = EXCLUDED.platform, "
	"os_name = EXCLUDED.os_name, os_version = EXCLUDED.os_version, "
	"agent_version = EXCLUDED.agent_version, status = 'online', "
	"last_seen = EXCLUDED.last_seen, interval_seconds = EXCLUDED.interval_seconds, "
	"cpu_usage = EXCLUDED.cpu_usage, memory_usage = EXCLUDED.memory_usage, "
	"disk_usage = EXCLUDED.disk_usage, report = EXCLUDED.report, doc = EXCLUDED.doc, "
	RATE(net_in) ", " RATE(net_out) ", " RATE(disk_read) ", " RATE(disk_write) ", "
	"received_at = now() WHERE h.mock",
	18,
};

/* The columns agent_docker_store writes (src/agent_docker.c), with source 'mock'. */
static const struct db_stmt stmt_docker = {
	"agent_mock_docker",
	"INSERT INTO pulse.docker_hosts AS h (id, source, agent_id, hostname, display_name, "
	"machine_id, runtime, agent_version, status, last_seen, received_at, interval_seconds, "
	"cpu_usage, memory_usage, disk_usage, container_count, report, doc, needs_eval) VALUES "
	"($1, 'mock', $2, $3, $4, $5, $6, $7, 'online', to_timestamp($8::double precision), now(), "
	"$9, $10, $11, $12, $13, $14::json, $15::json, false) ON CONFLICT (id) DO UPDATE SET "
	"agent_id = EXCLUDED.agent_id, hostname = EXCLUDED.hostname, "
	"display_name = EXCLUDED.display_name, machine_id = EXCLUDED.machine_id, "
	"runtime = EXCLUDED.runtime, agent_version = EXCLUDED.agent_version, status = 'online', "
	"last_seen = EXCLUDED.last_seen, received_at = now(), "
	"interval_seconds = EXCLUDED.interval_seconds, cpu_usage = EXCLUDED.cpu_usage, "
	"memory_usage = EXCLUDED.memory_usage, disk_usage = EXCLUDED.disk_usage, "
	"container_count = EXCLUDED.container_count, report = EXCLUDED.report, doc = EXCLUDED.doc "
	"WHERE h.mock",
	15,
};

/* A mock host's containers: the ones it no longer has go, the others are upserted; nothing
 * is written under a host that is not a mock row. */
static const struct db_stmt stmt_prune_containers = {
	"agent_mock_prune_containers",
	"DELETE FROM pulse.docker_containers WHERE host_id = $1 AND mock AND id NOT IN "
	"(SELECT r.id FROM json_to_recordset($2::json) AS r(id text))",
	2,
};
static const struct db_stmt stmt_containers = {
	"agent_mock_containers",
	"INSERT INTO pulse.docker_containers AS c (host_id, id, source, position, name, image, "
	"state, health, cpu_percent, memory_percent, memory_bytes, memory_limit, restart_count, "
	"sampled_at, block_read_total, block_write_total, block_read_rate, block_write_rate, doc) "
	"SELECT $1, r.id, 'mock', r.position, r.name, r.image, r.state, r.health, r.cpu, r.mem, "
	"r.mem_bytes, r.mem_limit, r.restarts, to_timestamp($3::double precision), r.read_total, "
	"r.write_total, r.read_rate, r.write_rate, r.doc FROM json_to_recordset($2::json) AS "
	"r(id text, position integer, name text, image text, state text, health text, "
	"cpu double precision, mem double precision, mem_bytes bigint, mem_limit bigint, "
	"restarts integer, read_total numeric, write_total numeric, read_rate double precision, "
	"write_rate double precision, doc json) WHERE EXISTS (SELECT 1 FROM pulse.docker_hosts h "
	"WHERE h.id = $1 AND h.mock) ON CONFLICT (host_id, id) DO UPDATE SET "
	"position = EXCLUDED.position, name = EXCLUDED.name, image = EXCLUDED.image, "
	"state = EXCLUDED.state, health = EXCLUDED.health, cpu_percent = EXCLUDED.cpu_percent, "
	"memory_percent = EXCLUDED.memory_percent, memory_bytes = EXCLUDED.memory_bytes, "
	"memory_limit = EXCLUDED.memory_limit, restart_count = EXCLUDED.restart_count, "
	"sampled_at = EXCLUDED.sampled_at, block_read_total = EXCLUDED.block_read_total, "
	"block_write_total = EXCLUDED.block_write_total, block_read_rate = "
	"EXCLUDED.block_read_rate, block_write_rate = EXCLUDED.block_write_rate, "
	"doc = EXCLUDED.doc WHERE c.mock",
	3,
};

/* The columns agent_kube_store writes (src/agent_kube.c), with source 'mock'. */
static const struct db_stmt stmt_kube = {
	"agent_mock_kube",
	"INSERT INTO pulse.agent_kube_clusters AS c (id, source, agent_id, name, display_name, "
	"server, context, version, agent_version, status, last_seen, received_at, "
	"interval_seconds, node_count, pod_count, deployment_count, nodes_ready, nodes, pods, "
	"deployments, report, needs_eval) VALUES ($1, 'mock', $2, $3, $4, $5, $6, $7, $8, "
	"'online', to_timestamp($9::double precision), now(), $10, json_array_length($12::json), "
	"json_array_length($13::json), json_array_length($14::json), (SELECT count(*) FROM "
	"json_array_elements($12::json) e WHERE (e->>'ready')::boolean), $12::json, $13::json, "
	"$14::json, $11::json, false) ON CONFLICT (id) DO UPDATE SET agent_id = EXCLUDED.agent_id, "
	"name = EXCLUDED.name, display_name = EXCLUDED.display_name, server = EXCLUDED.server, "
	"context = EXCLUDED.context, version = EXCLUDED.version, "
	"agent_version = EXCLUDED.agent_version, status = 'online', "
	"last_seen = EXCLUDED.last_seen, received_at = now(), "
	"interval_seconds = EXCLUDED.interval_seconds, node_count = EXCLUDED.node_count, "
	"pod_count = EXCLUDED.pod_count, deployment_count = EXCLUDED.deployment_count, "
	"nodes_ready = EXCLUDED.nodes_ready, nodes = EXCLUDED.nodes, pods = EXCLUDED.pods, "
	"deployments = EXCLUDED.deployments, report = EXCLUDED.report WHERE c.mock",
	14,
};

static const struct db_stmt stmt_clear[] = {
	{"agent_mock_clear_hosts", "DELETE FROM pulse.agent_hosts WHERE mock", 0},
	{"agent_mock_clear_containers", "DELETE FROM pulse.docker_containers WHERE mock", 0},
	{"agent_mock_clear_docker", "DELETE FROM pulse.docker_hosts WHERE mock", 0},
	{"agent_mock_clear_docker_removed", "DELETE FROM pulse.docker_removed_hosts WHERE mock", 0},
	{"agent_mock_clear_kube", "DELETE FROM pulse.agent_kube_clusters WHERE mock", 0},
	{"agent_mock_clear_kube_removed", "DELETE FROM pulse.agent_kube_removed WHERE mock", 0},
};

static const char *
ids_json(char ids[][AGENT_MOCK_ID_MAX], int n, struct json_object *arr)
{
	for (int i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(ids[i]));
	return json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN);
}

static int
prune(struct db *db, const struct db_stmt *stmt, char ids[][AGENT_MOCK_ID_MAX], int n)
{
	struct json_object *arr = json_object_new_array();
	const char *params[1] = {ids_json(ids, n, arr)};
	int rc = db_exec_stmt_ok(db, stmt, params);

	json_object_put(arr);
	return rc;
}

/* The sums and the disk usage agent_host_store keeps beside the document. */
static int64_t
sum_of(struct json_object *arr, const char *key)
{
	int64_t sum = 0;

	for (int i = 0; i < jsonread_array_len(arr); i++)
		sum += jsonread_int(json_object_array_get_idx(arr, (size_t)i), key, 0);
	return sum;
}

static int
write_host(struct db *db, struct json_object *report, const char *id)
{
	struct agent_host h;
	struct agent_host_doc_meta meta = {.id = id, .commands_enabled = -1};
	struct json_object *doc, *disks;
	char seen[40], interval[24], cpu[40], mem[40], disk[40], sums[4][24];
	const char *params[18];
	int rc;

	if (agent_host_from_json(report, &h) != 0)
		return -1;
	meta.last_seen = agent_report_time(report, 0);
	doc = agent_host_doc(report, &h, &meta);
	disks = jsonread_member(doc, "disks");
	params[0] = id;
	params[1] = h.hostname;
	params[2] = h.display_name[0] ? h.display_name : h.hostname;
	params[3] = h.platform;
	params[4] = h.os_name;
	params[5] = h.os_version;
	params[6] = jsonread_string(jsonread_member(report, "agent"), "version", "");
	params[7] = sr_num(seen, sizeof(seen), meta.last_seen);
	params[8] = sr_i64(interval, sizeof(interval), AGENT_MOCK_INTERVAL);
	params[9] = sr_num(cpu, sizeof(cpu), agent_finite(h.cpu));
	params[10] = sr_num(mem, sizeof(mem), agent_finite(h.memory));
	params[11] = json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN);
	params[12] = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	params[13] = jsonread_array_len(disks) > 0 ? sr_num(disk, sizeof(disk),
	    jsonread_number(json_object_array_get_idx(disks, 0), "usage", 0)) : NULL;
	params[14] = sr_i64(sums[0], sizeof(sums[0]), sum_of(jsonread_member(report, "network"),
	    "rxBytes"));
	params[15] = sr_i64(sums[1], sizeof(sums[1]), sum_of(jsonread_member(report, "network"),
	    "txBytes"));
	params[16] = sr_i64(sums[2], sizeof(sums[2]), sum_of(jsonread_member(report, "diskIO"),
	    "readBytes"));
	params[17] = sr_i64(sums[3], sizeof(sums[3]), sum_of(jsonread_member(report, "diskIO"),
	    "writeBytes"));
	rc = db_exec_stmt_ok(db, &stmt_host, params);
	json_object_put(doc);
	agent_host_free(&h);
	return rc;
}

/* The container rows of agent_docker_store's container_rows (src/agent_docker.c). */
static struct json_object *
container_rows(struct json_object *report, double rates[][2])
{
	struct json_object *arr = jsonread_member(report, "containers");
	struct json_object *rows = json_object_new_array();

	for (int i = 0; i < jsonread_array_len(arr) && i < AGENT_MOCK_CONTAINERS; i++) {
		struct json_object *c = json_object_array_get_idx(arr, (size_t)i);
		struct agent_docker_rates r = {rates[i][0], rates[i][1]};

		json_object_array_add(rows, agent_docker_container_row(c,
		    jsonread_string(c, "id", ""), i, &r));
	}
	return rows;
}

static int
write_docker(struct db *db, struct json_object *report, const char *id, double rates[][2])
{
	struct json_object *host = jsonread_member(report, "host");
	struct json_object *agent = jsonread_member(report, "agent");
	struct agent_docker_doc_meta meta = {.id = id};
	struct json_object *doc, *rows, *mem, *disks;
	char version[128], seen[40], interval[24], cpu[40], memory[40], disk[40], n[24];
	const char *params[15];
	int rc;

	agent_docker_version(jsonread_string(agent, "version", ""), version, sizeof(version));
	meta.agent_id = jsonread_string(agent, "id", id);
	meta.agent_version = version;
	meta.last_seen = agent_report_time(report, 0);
	doc = agent_docker_host_doc(report, &meta);
	rows = container_rows(report, rates);
	mem = jsonread_member(doc, "memory");
	disks = jsonread_member(doc, "disks");
	params[0] = id;
	params[1] = meta.agent_id;
	params[2] = jsonread_string(host, "hostname", "");
	params[3] = jsonread_string(host, "name", params[2]);
	params[4] = jsonread_string(host, "machineId", "");
	params[5] = agent_docker_runtime(jsonread_string(host, "runtime", ""));
	params[6] = version;
	params[7] = sr_num(seen, sizeof(seen), meta.last_seen);
	params[8] = sr_i64(interval, sizeof(interval), AGENT_MOCK_INTERVAL);
	params[9] = sr_num(cpu, sizeof(cpu), jsonread_number(doc, "cpuUsagePercent", 0));
	params[10] = sr_num(memory, sizeof(memory), jsonread_number(mem, "usage", 0));
	params[11] = jsonread_array_len(disks) > 0 ? sr_num(disk, sizeof(disk),
	    jsonread_number(json_object_array_get_idx(disks, 0), "usage", 0)) : NULL;
	params[12] = sr_i64(n, sizeof(n), (int64_t)json_object_array_length(rows));
	params[13] = json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN);
	params[14] = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	rc = db_exec_stmt_ok(db, &stmt_docker, params);
	if (rc == 0) {
		const char *cp[3] = {id, json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PLAIN),
		    seen};
		rc = db_exec_stmt_ok(db, &stmt_prune_containers, cp) != 0 ||
		    db_exec_stmt_ok(db, &stmt_containers, cp) != 0 ? -1 : 0;
	}
	json_object_put(rows);
	json_object_put(doc);
	return rc;
}

static int
write_kube(struct db *db, struct json_object *report, const char *id)
{
	struct json_object *cluster = jsonread_member(report, "cluster");
	struct json_object *agent = jsonread_member(report, "agent");
	struct json_object *nodes = agent_kube_nodes_doc(report);
	struct json_object *pods = agent_kube_pods_doc(report);
	struct json_object *deployments = agent_kube_deployments_doc(report);
	char version[128], seen[40], interval[24];
	const char *params[14];
	int rc;

	agent_kube_version(jsonread_string(agent, "version", ""), version, sizeof(version));
	params[0] = id;
	params[1] = jsonread_string(agent, "id", id);
	params[2] = jsonread_string(cluster, "name", "");
	params[3] = jsonread_string(cluster, "name", id);
	params[4] = jsonread_string(cluster, "server", "");
	params[5] = jsonread_string(cluster, "context", "");
	params[6] = jsonread_string(cluster, "version", "");
	params[7] = version;
	params[8] = sr_num(seen, sizeof(seen), agent_report_time(report, 0));
	params[9] = sr_i64(interval, sizeof(interval), AGENT_MOCK_INTERVAL);
	params[10] = json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN);
	params[11] = json_object_to_json_string_ext(nodes, JSON_C_TO_STRING_PLAIN);
	params[12] = json_object_to_json_string_ext(pods, JSON_C_TO_STRING_PLAIN);
	params[13] = json_object_to_json_string_ext(deployments, JSON_C_TO_STRING_PLAIN);
	rc = db_exec_stmt_ok(db, &stmt_kube, params);
	json_object_put(nodes);
	json_object_put(pods);
	json_object_put(deployments);
	return rc;
}

int
agent_mock_write(struct db *db, struct agent_mock *m, char *err, size_t errlen)
{
	int rc = db_begin(db);

	if (rc == 0)
		rc = prune(db, &stmt_prune_hosts, m->host_ids, AGENT_MOCK_HOSTS);
	if (rc == 0)
		rc = prune(db, &stmt_prune_docker, m->docker_ids, AGENT_MOCK_DOCKER_HOSTS);
	if (rc == 0)
		rc = prune(db, &stmt_prune_kube, m->kube_ids, AGENT_MOCK_KUBE_CLUSTERS);
	for (int i = 0; i < AGENT_MOCK_HOSTS && rc == 0; i++)
		rc = write_host(db, m->hosts[i], m->host_ids[i]);
	for (int i = 0; i < AGENT_MOCK_DOCKER_HOSTS && rc == 0; i++)
		rc = write_docker(db, m->docker[i], m->docker_ids[i], m->rates[i]);
	for (int i = 0; i < AGENT_MOCK_KUBE_CLUSTERS && rc == 0; i++)
		rc = write_kube(db, m->kube[i], m->kube_ids[i]);
	if (rc != 0 || st_bump_version(db) != 0 || db_commit(db) != 0) {
		snprintf(err, errlen, "%s", db_error(db));
		db_rollback(db);
		return -1;
	}
	return 0;
}

int
agent_mock_clear(struct db *db, char *err, size_t errlen)
{
	int rc = db_begin(db);

	for (size_t i = 0; i < ARRAY_LEN(stmt_clear) && rc == 0; i++)
		rc = db_exec_stmt_ok(db, &stmt_clear[i], NULL);
	if (rc != 0 || st_bump_version(db) != 0 || db_commit(db) != 0) {
		snprintf(err, errlen, "%s", db_error(db));
		db_rollback(db);
		return -1;
	}
	return 0;
}

void
agent_mock_alerts(struct alert_eval *e, const struct agent_mock *m)
{
	for (int i = 0; i < AGENT_MOCK_HOSTS; i++) {
		struct agent_host h;
		if (m->hosts[i] == NULL || agent_host_from_json(m->hosts[i], &h) != 0)
			continue;
		snprintf(h.id, sizeof(h.id), "%s", m->host_ids[i]);
		h.online = 1;
		alert_eval_host(e, &h);
		agent_host_free(&h);
	}
	for (int i = 0; i < AGENT_MOCK_DOCKER_HOSTS; i++) {
		struct agent_docker d;
		if (m->docker[i] == NULL || agent_docker_from_json(m->docker[i], &d) != 0)
			continue;
		snprintf(d.id, sizeof(d.id), "%s", m->docker_ids[i]);
		d.online = 1;
		alert_eval_docker_host(e, &d);
		agent_docker_free(&d);
	}
	for (int i = 0; i < AGENT_MOCK_KUBE_CLUSTERS; i++) {
		struct agent_kubernetes k;
		if (m->kube[i] == NULL || agent_kubernetes_from_json(m->kube[i], &k) != 0)
			continue;
		snprintf(k.id, sizeof(k.id), "%s", m->kube_ids[i]);
		k.online = 1;
		alert_eval_kubernetes(e, &k);
		agent_kubernetes_free(&k);
	}
}

/* The usage of the first disk of list key of o, -1 without one. */
static double
first_disk_usage(struct json_object *o, const char *key)
{
	struct json_object *disks = jsonread_member(o, key);

	return jsonread_array_len(disks) > 0 ?
	    jsonread_number(json_object_array_get_idx(disks, 0), "usage", 0) : -1;
}

void
agent_mock_record(const struct agent_mock *m, double ts, agent_mock_record_fn record)
{
	for (int i = 0; i < AGENT_MOCK_HOSTS && m->hosts[i]; i++) {
		struct json_object *metrics = jsonread_member(m->hosts[i], "metrics");
		const char *name = jsonread_string(jsonread_member(m->hosts[i], "host"), "hostname",
		    "");
		double disk = first_disk_usage(m->hosts[i], "disks");

		record("host", m->host_ids[i], name, "cpu", ts,
		    jsonread_number(metrics, "cpuUsagePercent", 0));
		record("host", m->host_ids[i], name, "memory", ts,
		    jsonread_number(jsonread_member(metrics, "memory"), "usage", 0));
		if (disk >= 0)
			record("host", m->host_ids[i], name, "disk", ts, disk);
	}
	for (int i = 0; i < AGENT_MOCK_DOCKER_HOSTS && m->docker[i]; i++) {
		struct json_object *host = jsonread_member(m->docker[i], "host");
		struct json_object *containers = jsonread_member(m->docker[i], "containers");
		const char *name = jsonread_string(host, "hostname", "");
		double disk = first_disk_usage(host, "disks");

		record("dockerHost", m->docker_ids[i], name, "cpu", ts,
		    jsonread_number(host, "cpuUsagePercent", 0));
		record("dockerHost", m->docker_ids[i], name, "memory", ts,
		    jsonread_number(jsonread_member(host, "memory"), "usage", 0));
		if (disk >= 0)
			record("dockerHost", m->docker_ids[i], name, "disk", ts, disk);
		for (int k = 0; k < jsonread_array_len(containers) && k < AGENT_MOCK_CONTAINERS; k++) {
			struct json_object *c = json_object_array_get_idx(containers, (size_t)k);
			const char *id = jsonread_string(c, "id", ""), *cname = jsonread_string(c,
			    "name", "");

			record("dockerContainer", id, cname, "cpu", ts,
			    jsonread_number(c, "cpuPercent", 0));
			record("dockerContainer", id, cname, "memory", ts,
			    jsonread_number(c, "memoryPercent", 0));
			if (m->rates[i][k][0] >= 0)
				record("dockerContainer", id, cname, "diskread", ts, m->rates[i][k][0]);
			if (m->rates[i][k][1] >= 0)
				record("dockerContainer", id, cname, "diskwrite", ts, m->rates[i][k][1]);
		}
	}
}
