/* pve-sim.c: the generated cluster of t/fakes/pve-sim.pl in C, for the scale benchmarks: the
 * same answers for the paths the worker and the node configuration ask, served over HTTPS
 * with keep-alive from one thread, fast enough for 20,000 guests in a 10 s interval.
 *
 *   pve-sim --listen https://127.0.0.1:8006 --cert C --key K --nodes N --guests M
 *           [--token 'user@realm!id=secret'] [--cluster NAME] [--drift]
 *
 * --drift (not in pve-sim.pl, off for the comparison): the guests' CPU, memory, I/O rates and
 * uptime change every 5 s, as a live estate's do between two polls (the UI benchmark).
 *
 * The data, authentication and answers follow pve-sim.pl (t/api/58 compares the two path by
 * path). Not here: --replay, --password, --ceph, --member-ips, --mgmt-ips and the
 * fault modes; POST /__sim/metrics ({"node" or "vmid", "cpu", "status"}) and GET /__sim/stats
 * ({"requests": N}) are. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define GIB ((int64_t)1 << 30)
#define MAX_REQUEST (64 * 1024)

struct guest {
	int64_t vmid;
	int is_ct, node, running, agent, gone;
	double cpu;			/* < 0: the default */
	char name[16], ip[20], mac[24], os[8];
	int static_ip, oci, mount;
	int64_t maxmem;
};

struct node {
	char name[16];
	double cpu;			/* < 0: the default */
};

static struct {
	struct node *nodes;
	int nnodes;
	struct guest *guests;
	int nguests;
	double started;
	char token[256];		/* the Authorization header wanted, or empty */
	char cluster[64];		/* the cluster's name in /cluster/status */
	char fingerprint[100];		/* AB:CD:... of our certificate */
	long requests;
	int drift;			/* --drift: guests' values change every DRIFT_S seconds */
} S;

static double
now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* --- the estate --------------------------------------------------------------------- */

static void
make_estate(int nnodes, int nguests)
{
	int cts = 0;

	S.nodes = xcalloc((size_t)(nnodes > 0 ? nnodes : 1), sizeof(*S.nodes));
	S.nnodes = nnodes;
	for (int n = 0; n < nnodes; n++) {
		snprintf(S.nodes[n].name, sizeof(S.nodes[n].name), "node%d", n + 1);
		S.nodes[n].cpu = -1;
	}
	S.guests = xcalloc((size_t)(nguests > 0 ? nguests : 1), sizeof(*S.guests));
	S.nguests = nguests;
	for (int i = 0; i < nguests; i++) {
		struct guest *g = &S.guests[i];
		g->vmid = 100 + i;
		g->is_ct = i % 3 == 2;
		g->node = i % nnodes;
		g->running = i % 10 != 9;
		g->agent = !g->is_ct && i % 4 == 0;
		g->cpu = -1;
		g->maxmem = (g->is_ct ? 1 : 4) * GIB;
		snprintf(g->name, sizeof(g->name), "%s%lld", g->is_ct ? "ct" : "vm", (long long)g->vmid);
		snprintf(g->ip, sizeof(g->ip), "10.0.%d.%d", 1 + i / 200, 10 + i % 200);
		snprintf(g->mac, sizeof(g->mac), "BC:24:11:%02X:%02X:%02X", (int)((g->vmid >> 16) & 255),
		    (int)((g->vmid >> 8) & 255), (int)(g->vmid & 255));
		snprintf(g->os, sizeof(g->os), "%s", g->vmid % 2 ? "ubuntu" : "debian");
		if (g->is_ct) {
			cts++;
			g->static_ip = cts == 1;
			g->oci = cts == 2;
			g->mount = cts == 3;
		}
	}
}

static struct node *
node_named(const char *name, size_t len)
{
	for (int n = 0; n < S.nnodes; n++)
		if (strlen(S.nodes[n].name) == len && memcmp(S.nodes[n].name, name, len) == 0)
			return &S.nodes[n];
	return NULL;
}

static struct guest *
guest_of(int64_t vmid)
{
	int64_t i = vmid - 100;

	if (i < 0 || i >= S.nguests || S.guests[i].gone)
		return NULL;
	return &S.guests[i];
}

static int
node_index(const struct node *n)
{
	return (int)(n - S.nodes) + 1;
}

/* --drift: a guest's values move as a live estate's do, to a new level every DRIFT_S seconds
 * (so every poll sees them changed): a number in [0, 1) from the guest, the time slot and
 * which value it is. */
#define DRIFT_S 5
static long
drift_slot(void)
{
	return (long)((now() - S.started) / DRIFT_S);
}

static double
drift(const struct guest *g, int which)
{
	uint64_t x = (uint64_t)g->vmid * 0x9E3779B97F4A7C15ULL ^ (uint64_t)drift_slot() * 0xBF58476D1CE4E5B9ULL ^
	    (uint64_t)which * 0x94D049BB133111EBULL;

	x ^= x >> 31;
	x *= 0xD6E8FEB86659FD93ULL;
	x ^= x >> 29;
	return (double)(x >> 11) / 9007199254740992.0;
}

static double
guest_cpu(const struct guest *g)
{
	if (g->cpu >= 0)
		return g->cpu;
	return S.drift ? 0.02 + 0.55 * drift(g, 1) : 0.25;
}

static long long
guest_mem(const struct guest *g)
{
	if (!g->running)
		return 0;
	return S.drift ? (long long)((double)g->maxmem * (0.2 + 0.7 * drift(g, 2))) : g->maxmem / 2;
}

static int
guest_uptime(const struct guest *g)
{
	if (!g->running)
		return 0;
	return S.drift ? 500 + (int)(now() - S.started) : 500;
}

/* Counters grow with time at a fixed rate per guest, as pve-sim.pl's; with --drift the rate
 * moves with the slot (the count stays monotonic: slot + a fraction below 1). */
static void
counters(struct strbuf *b, const struct guest *g)
{
	double t = now() - S.started, k = (double)g->vmid;
	double burst = S.drift ? (double)drift_slot() + drift(g, 3) : 0;

	sb_printf(b, "\"diskread\":%lld,\"diskwrite\":%lld,\"netin\":%lld,\"netout\":%lld",
	    (long long)(1000 * k * t + 3000 * k * burst), (long long)(500 * k * t + 1500 * k * burst),
	    (long long)(2000 * k * t + 6000 * k * burst), (long long)(100 * k * t + 300 * k * burst));
}

/* A number as Perl prints it: integers without a point. */
static void
num(struct strbuf *b, double v)
{
	if (v == floor(v) && fabs(v) < 1e15)
		sb_printf(b, "%lld", (long long)v);
	else
		sb_printf(b, "%.15g", v);
}

/* The link-local address of a guest, leading zeros of each group dropped as pve-sim.pl's
 * s/:0+(\w)/:$1/g does. */
static void
link_local(const struct guest *g, char *out, size_t outlen)
{
	char raw[64];
	size_t o = 0;

	snprintf(raw, sizeof(raw), "fe80::be24:11ff:fe%02x:%02x%02x", (int)((g->vmid >> 16) & 255),
	    (int)((g->vmid >> 8) & 255), (int)(g->vmid & 255));
	for (size_t i = 0; raw[i] && o + 1 < outlen; i++) {
		out[o++] = raw[i];
		if (raw[i] == ':' && raw[i + 1] == '0') {
			size_t z = 0;
			while (raw[i + 1 + z] == '0')
				z++;
			if (raw[i + 1 + z] && (raw[i + 1 + z] == '_' || isalnum((unsigned char)raw[i + 1 + z])))
				i += z;
			else if (z >= 2)
				i += z - 1;
		}
	}
	out[o] = '\0';
}

/* --- answers ------------------------------------------------------------------------ */

enum { ANSWER_DATA, ANSWER_REFUSED, ANSWER_NONE };

struct answer {
	int kind;
	int status;
	char message[256];
};

static void
refuse(struct answer *a, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
refuse(struct answer *a, int status, const char *fmt, ...)
{
	va_list ap;

	a->kind = ANSWER_REFUSED;
	a->status = status;
	va_start(ap, fmt);
	vsnprintf(a->message, sizeof(a->message), fmt, ap);
	va_end(ap);
}

static void
nodes_list(struct strbuf *b)
{
	double up = 1000 + floor(now() - S.started);

	sb_puts(b, "[");
	for (int n = 0; n < S.nnodes; n++) {
		struct node *nd = &S.nodes[n];
		int idx = n + 1;
		sb_printf(b, "%s{\"node\":\"%s\",\"status\":\"online\",\"cpu\":", n ? "," : "", nd->name);
		num(b, nd->cpu >= 0 ? nd->cpu : 0.1);
		sb_printf(b, ",\"maxcpu\":16,\"mem\":%lld,\"maxmem\":%lld,\"disk\":%lld,\"maxdisk\":%lld,"
		    "\"uptime\":%.0f,\"type\":\"node\",\"id\":\"node/%s\",\"level\":\"\"}",
		    (long long)(16 * GIB), (long long)(64 * GIB), idx == 3 ? 0LL : (long long)(50 * GIB),
		    idx == 3 ? 0LL : (long long)(500 * GIB), up, nd->name);
	}
	sb_puts(b, "]");
}

static void
node_status(struct strbuf *b, struct node *nd)
{
	int idx = node_index(nd);
	int64_t mm = 64 * GIB;

	sb_puts(b, "{\"cpu\":");
	num(b, nd->cpu >= 0 ? nd->cpu : 0.1);
	sb_printf(b, ",\"uptime\":%.0f,\"loadavg\":[\"0.50\",\"0.40\",\"0.30\"],"
	    "\"kversion\":\"Linux 6.8.12-1-pve\",\"pveversion\":\"pve-manager/8.2.4/faa83925c9641325\","
	    "\"cpuinfo\":{\"model\":\"Simulated CPU\",\"cores\":8,\"cpus\":16,\"sockets\":2,"
	    "\"mhz\":\"2400.000\"},\"memory\":{\"total\":%lld,\"used\":%lld,\"free\":%lld",
	    1000 + floor(now() - S.started), (long long)mm, (long long)(mm / 2), (long long)(mm / 2));
	if (idx != 2)
		sb_printf(b, ",\"available\":%lld", (long long)((double)mm * 0.6));
	sb_puts(b, "}");
	if (idx != 3)
		sb_printf(b, ",\"rootfs\":{\"total\":%lld,\"used\":%lld,\"avail\":%lld}",
		    (long long)(100 * GIB), (long long)(20 * GIB), (long long)(80 * GIB));
	sb_puts(b, "}");
}

static void
node_network(struct strbuf *b)
{
	sb_puts(b, "[{\"iface\":\"vmbr0\",\"type\":\"bridge\",\"active\":1,\"autostart\":1,"
	    "\"method\":\"static\",\"address\":\"127.0.0.1\",\"netmask\":\"24\",\"cidr\":\"127.0.0.1/24\","
	    "\"bridge_ports\":\"eno1\",\"families\":[\"inet\"]},{\"iface\":\"ens19\",\"type\":\"eth\","
	    "\"active\":1,\"autostart\":1,\"method\":\"static\",\"address\":\"127.0.0.1\","
	    "\"netmask\":\"24\",\"families\":[\"inet\"]},{\"iface\":\"eno2\",\"type\":\"eth\","
	    "\"active\":0,\"method\":\"manual\",\"families\":[\"inet\"]}]");
}

/* A guest in a list: the cluster view (with id, type, node, maxcpu, template) or a node's
 * own (cpus instead). */
static void
guest_item(struct strbuf *b, const struct guest *g, int cluster_view)
{
	const char *type = g->is_ct ? "lxc" : "qemu";

	if (cluster_view)
		sb_printf(b, "{\"id\":\"%s/%lld\",\"type\":\"%s\",\"node\":\"%s\",\"maxcpu\":2,"
		    "\"template\":0,", type, (long long)g->vmid, type, S.nodes[g->node].name);
	else
		sb_puts(b, "{\"cpus\":2,");
	sb_printf(b, "\"vmid\":%lld,\"name\":\"%s\",\"status\":\"%s\",\"cpu\":", (long long)g->vmid,
	    g->name, g->running ? "running" : "stopped");
	num(b, g->running ? guest_cpu(g) : 0);
	sb_printf(b, ",\"mem\":%lld,\"maxmem\":%lld,\"disk\":%lld,\"maxdisk\":%lld,\"uptime\":%d,"
	    "\"tags\":\"sim;test\",", guest_mem(g), (long long)g->maxmem,
	    (long long)(g->is_ct ? 8 * GIB : 0), (long long)(32 * GIB), guest_uptime(g));
	counters(b, g);
	sb_puts(b, "}");
}

/* The cluster view (node NULL), or one node's own list of one kind. */
static void
guest_list(struct strbuf *b, const char *node, int want_ct)
{
	int first = 1;

	sb_puts(b, "[");
	for (int i = 0; i < S.nguests; i++) {
		const struct guest *g = &S.guests[i];
		if (g->gone || (node && (strcmp(S.nodes[g->node].name, node) != 0 || g->is_ct != want_ct)))
			continue;
		if (!first)
			sb_puts(b, ",");
		first = 0;
		guest_item(b, g, node == NULL);
	}
	sb_puts(b, "]");
}

static void
vm_status(struct strbuf *b, const struct guest *g)
{
	sb_printf(b, "{\"status\":\"%s\",\"cpu\":", g->running ? "running" : "stopped");
	num(b, guest_cpu(g));
	sb_printf(b, ",\"cpus\":2,\"maxmem\":%lld,\"mem\":%lld,\"balloon\":%lld,\"freemem\":%lld,"
	    "\"disk\":0,\"maxdisk\":%lld,\"uptime\":%d,\"agent\":%d,", (long long)g->maxmem,
	    (long long)(S.drift ? guest_mem(g) : g->maxmem / 2), (long long)g->maxmem, (long long)(g->maxmem / 4),
	    (long long)(32 * GIB), S.drift ? guest_uptime(g) : 500, g->agent);
	counters(b, g);
	sb_puts(b, "}");
}

/* The refusal PVE answers to a guest-agent call, or 0 when the agent answers. */
static int
agent_refused(struct answer *a, const struct guest *g)
{
	if (!g->agent) {
		refuse(a, 500, "No QEMU guest agent configured");
		return 1;
	}
	if (!g->running) {
		refuse(a, 500, "VM %lld is not running", (long long)g->vmid);
		return 1;
	}
	return 0;
}

static void
agent_fsinfo(struct strbuf *b)
{
	sb_printf(b, "{\"result\":[{\"name\":\"sda1\",\"mountpoint\":\"/\",\"type\":\"ext4\","
	    "\"total-bytes\":%lld,\"used-bytes\":%lld,\"disk\":[{\"dev\":\"/dev/sda\"}]},"
	    "{\"name\":\"tmpfs\",\"mountpoint\":\"/run\",\"type\":\"tmpfs\",\"total-bytes\":%lld,"
	    "\"used-bytes\":1}]}", (long long)(20 * GIB), (long long)(5 * GIB), (long long)GIB);
}

static void
agent_network(struct strbuf *b, const struct guest *g)
{
	double t = now() - S.started, k = (double)g->vmid;
	long long in = (long long)(2000 * k * t), out = (long long)(100 * k * t);
	char ll[64], mac[24];

	link_local(g, ll, sizeof(ll));
	for (size_t i = 0; i <= strlen(g->mac); i++)
		mac[i] = (char)tolower((unsigned char)g->mac[i]);
	sb_printf(b, "{\"result\":[{\"name\":\"lo\",\"hardware-address\":\"00:00:00:00:00:00\","
	    "\"ip-addresses\":[{\"ip-address\":\"127.0.0.1\",\"ip-address-type\":\"ipv4\",\"prefix\":8},"
	    "{\"ip-address\":\"::1\",\"ip-address-type\":\"ipv6\",\"prefix\":128}],"
	    "\"statistics\":{\"rx-bytes\":4096,\"tx-bytes\":4096,\"rx-packets\":40,\"tx-packets\":40,"
	    "\"rx-errs\":0,\"tx-errs\":0,\"rx-dropped\":0,\"tx-dropped\":0}},"
	    "{\"name\":\"eth0\",\"hardware-address\":\"%s\",\"ip-addresses\":["
	    "{\"ip-address\":\"%s\",\"ip-address-type\":\"ipv4\",\"prefix\":24},"
	    "{\"ip-address\":\"fd00::%lld\",\"ip-address-type\":\"ipv6\",\"prefix\":64},"
	    "{\"ip-address\":\"%s\",\"ip-address-type\":\"ipv6\",\"prefix\":64}],"
	    "\"statistics\":{\"rx-bytes\":%lld,\"tx-bytes\":%lld,\"rx-packets\":%lld,\"tx-packets\":%lld,"
	    "\"rx-errs\":0,\"tx-errs\":0,\"rx-dropped\":0,\"tx-dropped\":0}}]}", mac, g->ip,
	    (long long)g->vmid, ll, in, out, in / 1000, out / 1000);
}

static void
agent_osinfo(struct strbuf *b, const struct guest *g)
{
	if (strcmp(g->os, "debian") == 0)
		sb_puts(b, "{\"result\":{\"id\":\"debian\",\"name\":\"Debian GNU/Linux\","
		    "\"pretty-name\":\"Debian GNU/Linux 12 (bookworm)\",\"version\":\"12 (bookworm)\","
		    "\"version-id\":\"12\",\"machine\":\"x86_64\",\"kernel-release\":\"6.1.0-18-amd64\","
		    "\"kernel-version\":\"#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1\"}}");
	else
		sb_puts(b, "{\"result\":{\"id\":\"ubuntu\",\"name\":\"Ubuntu\","
		    "\"pretty-name\":\"Ubuntu 24.04.1 LTS\",\"version\":\"24.04.1 LTS (Noble Numbat)\","
		    "\"version-id\":\"24.04\",\"machine\":\"x86_64\",\"kernel-release\":\"6.8.0-45-generic\","
		    "\"kernel-version\":\"#45-Ubuntu SMP PREEMPT_DYNAMIC\"}}");
}

static void
agent_info(struct strbuf *b)
{
	sb_puts(b, "{\"result\":{\"version\":\"7.2.0\",\"supported_commands\":["
	    "{\"name\":\"guest-ping\",\"enabled\":true,\"success-response\":true},"
	    "{\"name\":\"guest-get-osinfo\",\"enabled\":true,\"success-response\":true},"
	    "{\"name\":\"guest-network-get-interfaces\",\"enabled\":true,\"success-response\":true}]}}");
}

static void
node_rrd(struct strbuf *b)
{
	long long t = (long long)floor(now() / 60) * 60, mm = 64 * GIB;

	sb_printf(b, "[{\"time\":%lld,\"memtotal\":%lld,\"memused\":%lld,\"memavailable\":%lld},"
	    "{\"time\":%lld,\"memtotal\":%lld,\"memused\":%lld,\"memavailable\":%lld},{\"time\":%lld}]",
	    t - 60, mm, (long long)((double)mm * 0.35), (long long)((double)mm * 0.65), t, mm,
	    (long long)((double)mm * 0.3), (long long)((double)mm * 0.7), t + 60);
}

static void
ct_rrd(struct strbuf *b, const struct guest *g)
{
	long long t = (long long)floor(now());

	sb_printf(b, "[{\"time\":%lld,\"memavailable\":%lld,\"memused\":%lld},"
	    "{\"time\":%lld,\"memavailable\":null}]", t - 60, (long long)((double)g->maxmem * 0.7),
	    (long long)((double)g->maxmem * 0.3), t);
}

static void
node_tasks(struct strbuf *b, const char *node)
{
	long long st = (long long)floor(S.started);

	sb_puts(b, "[");
	for (int i = 0; i < S.nguests; i++) {
		const struct guest *g = &S.guests[i];
		if (g->gone || strcmp(S.nodes[g->node].name, node) != 0 || g->vmid % 5 != 0)
			continue;
		sb_printf(b, "{\"upid\":\"UPID:%s:0000AAAA:00BBBBBB:65000000:vzdump:%lld:root@pam:\","
		    "\"node\":\"%s\",\"type\":\"vzdump\",\"id\":\"%lld\",\"user\":\"root@pam\","
		    "\"status\":\"OK\",\"starttime\":%lld,\"endtime\":%lld},", node, (long long)g->vmid,
		    node, (long long)g->vmid, st - 7200 + g->vmid, st - 7000 + g->vmid);
	}
	sb_printf(b, "{\"upid\":\"UPID:%s:0000CCCC:00DDDDDD:65000001:qmstart:100:root@pam:\","
	    "\"node\":\"%s\",\"type\":\"qmstart\",\"id\":\"100\",\"status\":\"OK\",\"starttime\":%lld,"
	    "\"endtime\":%lld}]", node, node, st - 100, st - 99);
}

static void
node_backups(struct strbuf *b, const char *node)
{
	long long st = (long long)floor(S.started);

	sb_puts(b, "[{\"volid\":\"local:vztmpl/debian-12.tar.zst\",\"content\":\"vztmpl\","
	    "\"format\":\"tzst\",\"size\":123456,\"ctime\":1700000000}");
	for (int i = 0; i < S.nguests; i++) {
		const struct guest *g = &S.guests[i];
		const char *kind = g->is_ct ? "lxc" : "qemu", *format = g->is_ct ? "tar.zst" : "vma.zst";
		if (g->gone || strcmp(S.nodes[g->node].name, node) != 0 || g->vmid % 5 != 0)
			continue;
		sb_printf(b, ",{\"volid\":\"local:backup/vzdump-%s-%lld-2026_01_01-00_00_00.%s\","
		    "\"content\":\"backup\",\"vmid\":%lld,\"format\":\"%s\",\"size\":%lld,\"ctime\":%lld,"
		    "\"notes\":\"nightly %s\",\"protected\":%d,\"verification\":{\"state\":\"ok\"}}", kind,
		    (long long)g->vmid, format, (long long)g->vmid, format, (long long)(1000000 * g->vmid),
		    st - 7000 + g->vmid, g->name, g->vmid % 10 == 0);
	}
	sb_puts(b, "]");
}

static void
snapshots(struct strbuf *b, const struct guest *g)
{
	sb_puts(b, "[");
	if (g->vmid % 7 == 0)
		sb_printf(b, "{\"name\":\"before-upgrade\",\"description\":\"before the upgrade\","
		    "\"snaptime\":%lld,\"vmstate\":0},", (long long)floor(S.started) - 86400);
	sb_puts(b, "{\"name\":\"current\",\"description\":\"You are here!\",\"running\":1}]");
}

static void
storage_config(struct strbuf *b)
{
	sb_puts(b, "[{\"storage\":\"local\",\"type\":\"dir\",\"content\":\"vztmpl,iso,backup\"},"
	    "{\"storage\":\"ceph-pool\",\"type\":\"rbd\",\"content\":\"images,rootdir\",\"shared\":1},"
	    "{\"storage\":\"tank\",\"type\":\"zfspool\",\"content\":\"images,rootdir\",\"pool\":\"tank\","
	    "\"sparse\":1}]");
}

static void
node_storage(struct strbuf *b)
{
	sb_printf(b, "[{\"storage\":\"local\",\"type\":\"dir\",\"content\":\"vztmpl,iso,backup\","
	    "\"total\":%lld,\"used\":%lld,\"avail\":%lld,\"active\":1,\"enabled\":1,\"shared\":0},"
	    "{\"storage\":\"ceph-pool\",\"type\":\"rbd\",\"content\":\"rootdir,images\",\"total\":%lld,"
	    "\"used\":%lld,\"avail\":%lld,\"active\":1,\"enabled\":1,\"shared\":1},"
	    "{\"storage\":\"tank\",\"type\":\"zfspool\",\"content\":\"rootdir,images\",\"total\":%lld,"
	    "\"used\":%lld,\"avail\":%lld,\"active\":1,\"enabled\":1,\"shared\":0}]",
	    (long long)(100 * GIB), (long long)(40 * GIB), (long long)(60 * GIB),
	    (long long)(1000 * GIB), (long long)(250 * GIB), (long long)(750 * GIB),
	    (long long)(3600 * GIB), (long long)(1200 * GIB), (long long)(2400 * GIB));
}

static void
certificates(struct strbuf *b, const struct node *nd)
{
	long long st = (long long)floor(S.started);

	sb_printf(b, "[{\"filename\":\"/etc/pve/nodes/%s/pve-ssl.pem\",\"fingerprint\":\"%s\","
	    "\"issuer\":\"Proxmox Virtual Environment\",\"subject\":\"%s.sim\",\"san\":[\"DNS:%s\"],"
	    "\"notbefore\":%lld,\"notafter\":%lld}]", nd->name, S.fingerprint, nd->name, nd->name,
	    st - 86400, st + 86400LL * 365);
}

static void
cluster_status(struct strbuf *b)
{
	sb_puts(b, "[");
	if (S.nnodes > 1)
		sb_printf(b, "{\"type\":\"cluster\",\"name\":\"%s\",\"nodes\":%d,\"quorate\":1}%s",
		    S.cluster, S.nnodes, S.nnodes ? "," : "");
	for (int n = 0; n < S.nnodes; n++)
		sb_printf(b, "%s{\"type\":\"node\",\"name\":\"%s\",\"id\":\"node/%s\",\"ip\":\"127.0.0.1\","
		    "\"online\":1,\"nodeid\":%d}", n ? "," : "", S.nodes[n].name, S.nodes[n].name, n + 1);
	sb_puts(b, "]");
}

static void
ct_status(struct strbuf *b, const struct guest *g)
{
	sb_printf(b, "{\"vmid\":%lld,\"status\":\"%s\",\"name\":\"%s\",\"type\":\"lxc\",\"cpus\":2,"
	    "\"cpu\":", (long long)g->vmid, g->running ? "running" : "stopped", g->name);
	num(b, g->running ? guest_cpu(g) : 0);
	sb_printf(b, ",\"maxmem\":%lld,\"mem\":%lld,\"maxswap\":%lld,\"swap\":0,\"maxdisk\":%lld,"
	    "\"disk\":%lld,\"uptime\":%d,\"tags\":\"sim;test\",\"ha\":{\"managed\":0},",
	    (long long)g->maxmem, (long long)(g->running ? g->maxmem / 2 : 0), 512LL << 20,
	    (long long)(32 * GIB), (long long)(8 * GIB), g->running ? 500 : 0);
	if (g->running)
		sb_printf(b, "\"pid\":%lld,", (long long)(1000 + g->vmid));
	counters(b, g);
	sb_puts(b, "}");
}

static void
ct_config(struct strbuf *b, const struct guest *g)
{
	char ip[64];

	if (g->static_ip)
		snprintf(ip, sizeof(ip), "ip=%s/24,gw=10.0.1.1", g->ip);
	else
		snprintf(ip, sizeof(ip), "ip=dhcp");
	sb_printf(b, "{\"arch\":\"amd64\",\"cores\":2,\"hostname\":\"%s\",\"memory\":%lld,\"swap\":512,"
	    "\"ostype\":\"%s\",\"rootfs\":\"local-lvm:vm-%lld-disk-0,size=32G\","
	    "\"net0\":\"name=eth0,bridge=vmbr0,firewall=1,hwaddr=%s,%s,type=veth\","
	    "\"tags\":\"sim;test\",\"unprivileged\":1,\"digest\":\"%040llx\"", g->name,
	    (long long)(g->maxmem >> 20), g->oci ? "unmanaged" : g->os, (long long)g->vmid, g->mac, ip,
	    (long long)g->vmid);
	if (g->mount)
		sb_printf(b, ",\"mp0\":\"local-lvm:vm-%lld-disk-1,mp=/srv/data,size=4G\"", (long long)g->vmid);
	if (g->oci)
		sb_puts(b, ",\"cmode\":\"console\",\"entrypoint\":\"/docker-entrypoint.sh nginx\","
		    "\"env\":\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
		    "\"lxc\":[[\"lxc.init.cwd\",\"/\"],[\"lxc.signal.halt\",\"SIGTERM\"]]");
	sb_puts(b, "}");
}

static void
ct_interfaces(struct strbuf *b, const struct guest *g)
{
	char ll[64], mac[24];

	link_local(g, ll, sizeof(ll));
	for (size_t i = 0; i <= strlen(g->mac); i++)
		mac[i] = (char)tolower((unsigned char)g->mac[i]);
	sb_printf(b, "[{\"name\":\"lo\",\"hwaddr\":\"00:00:00:00:00:00\",\"inet\":\"127.0.0.1/8\","
	    "\"inet6\":\"::1/128\"},{\"name\":\"eth0\",\"hwaddr\":\"%s\",\"inet\":\"%s/24\","
	    "\"inet6\":\"%s/64\"}]", mac, g->ip, ll);
}

static void
node_disks(struct strbuf *b, int i)
{
	sb_printf(b, "[{\"devpath\":\"/dev/sda\",\"type\":\"ssd\",\"model\":\"Samsung SSD 870 EVO 1TB\","
	    "\"serial\":\"S6PTNX0T%d00001\",\"size\":1000204886016,\"health\":\"PASSED\",\"wearout\":97,"
	    "\"rpm\":0,\"used\":\"LVM\",\"vendor\":\"ATA\",\"wwn\":\"0x5002538f4230e%03x\",\"gpt\":1,"
	    "\"osdid\":-1,\"osdid-list\":null,"
	    "\"by_id_link\":\"/dev/disk/by-id/ata-Samsung_SSD_870_EVO_1TB_S6PTNX0T%d00001\"},"
	    "{\"devpath\":\"/dev/sdb\",\"type\":\"hdd\",\"model\":\"ST4000VN008-2DR166\","
	    "\"serial\":\"ZGY%d0002\",\"size\":4000787030016,\"health\":\"PASSED\",\"wearout\":\"N/A\","
	    "\"rpm\":5980,\"used\":\"ZFS\",\"vendor\":\"ATA\",\"wwn\":\"0x5000c500c3a6e%03x\",\"gpt\":1,"
	    "\"osdid\":-1,\"osdid-list\":null,"
	    "\"by_id_link\":\"/dev/disk/by-id/ata-ST4000VN008-2DR166_ZGY%d0002\"},"
	    "{\"devpath\":\"/dev/nvme0n1\",\"type\":\"nvme\",\"model\":\"Samsung SSD 980 PRO 1TB\","
	    "\"serial\":\"S5GXNF0R%d0003\",\"size\":1000204886016,\"health\":\"PASSED\",\"wearout\":99,"
	    "\"rpm\":0,\"used\":\"ZFS\",\"vendor\":\"unknown\",\"wwn\":\"eui.002538b%d11b0003\",\"gpt\":1,"
	    "\"osdid\":-1,\"osdid-list\":null,"
	    "\"by_id_link\":\"/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5GXNF0R%d0003\"}]",
	    i, i, i, i, i, i, i, i, i);
}

static void
zfs_list(struct strbuf *b, int i)
{
	sb_printf(b, "[{\"name\":\"rpool\",\"health\":\"ONLINE\",\"size\":996432412672,\"alloc\":%lld,"
	    "\"free\":%lld,\"frag\":3,\"dedup\":1},{\"name\":\"tank\",\"health\":\"%s\","
	    "\"size\":3985729650688,\"alloc\":%lld,\"free\":%lld,\"frag\":11,\"dedup\":1}]",
	    (long long)(102 * GIB), 996432412672LL - 102 * GIB, i == 1 ? "DEGRADED" : "ONLINE",
	    (long long)(1200 * GIB), 3985729650688LL - 1200 * GIB);
}

#define SCAN "scrub repaired 0B in 00:12:34 with 0 errors on Sun Jan  4 00:36:35 2026"

static int
zfs_detail(struct strbuf *b, int i, const char *pool)
{
	int bad = i == 1;

	if (strcmp(pool, "rpool") == 0) {
		sb_printf(b, "{\"name\":\"rpool\",\"state\":\"ONLINE\",\"status\":\"\",\"action\":\"\","
		    "\"scan\":\"" SCAN "\",\"errors\":\"No known data errors\",\"children\":["
		    "{\"name\":\"mirror-0\",\"state\":\"ONLINE\",\"read\":0,\"write\":0,\"cksum\":0,\"msg\":\"\","
		    "\"leaf\":0,\"children\":["
		    "{\"name\":\"nvme-Samsung_SSD_980_PRO_1TB_S5GXNF0R%d0003-part3\",\"state\":\"ONLINE\","
		    "\"read\":0,\"write\":0,\"cksum\":0,\"msg\":\"\",\"leaf\":1},"
		    "{\"name\":\"ata-Samsung_SSD_870_EVO_1TB_S6PTNX0T%d00001-part3\",\"state\":\"ONLINE\","
		    "\"read\":0,\"write\":0,\"cksum\":0,\"msg\":\"\",\"leaf\":1}]}]}", i, i);
		return 1;
	}
	if (strcmp(pool, "tank") != 0)
		return 0;
	sb_printf(b, "{\"name\":\"tank\",\"state\":\"%s\",\"status\":\"%s\",\"action\":\"%s\","
	    "\"scan\":\"" SCAN "\",\"errors\":\"No known data errors\",\"children\":["
	    "{\"name\":\"mirror-0\",\"state\":\"%s\",\"read\":0,\"write\":0,\"cksum\":0,\"msg\":\"\","
	    "\"leaf\":0,\"children\":["
	    "{\"name\":\"ata-ST4000VN008-2DR166_ZGY%d0002\",\"state\":\"%s\",\"read\":0,\"write\":%d,"
	    "\"cksum\":%d,\"msg\":\"%s\",\"leaf\":1},"
	    "{\"name\":\"ata-ST4000VN008-2DR166_ZGY%d0004\",\"state\":\"ONLINE\",\"read\":0,\"write\":0,"
	    "\"cksum\":0,\"msg\":\"\",\"leaf\":1}]}]}",
	    bad ? "DEGRADED" : "ONLINE",
	    bad ? "One or more devices are faulted in response to persistent errors.\\nSufficient "
	    "replicas exist for the pool to continue functioning in a\\ndegraded state." : "",
	    bad ? "Replace the faulted device, or use 'zpool clear' to mark the device\\nrepaired." : "",
	    bad ? "DEGRADED" : "ONLINE", i, bad ? "FAULTED" : "ONLINE", bad ? 3 : 0, bad ? 42 : 0,
	    bad ? "too many errors" : "", i);
	return 1;
}

/* Replication of the first two VMs to the next node (two nodes or more). */
struct repl_job {
	const struct guest *g;
	int k;
	char id[32];
	const char *source, *target;
};

static int
repl_jobs(struct repl_job jobs[2])
{
	int n = 0;

	if (S.nnodes < 2)
		return 0;
	for (int i = 0; i < S.nguests && n < 2; i++) {
		const struct guest *g = &S.guests[i];
		if (g->gone || g->is_ct)
			continue;
		jobs[n].g = g;
		jobs[n].k = n;
		snprintf(jobs[n].id, sizeof(jobs[n].id), "%lld-0", (long long)g->vmid);
		jobs[n].source = S.nodes[g->node].name;
		jobs[n].target = S.nodes[(g->node + 1) % S.nnodes].name;
		n++;
	}
	return n;
}

static void
repl_job(struct strbuf *b, const struct repl_job *j)
{
	sb_printf(b, "{\"id\":\"%s\",\"type\":\"local\",\"guest\":%lld,\"jobnum\":0,\"source\":\"%s\","
	    "\"target\":\"%s\",\"schedule\":\"%s\"", j->id, (long long)j->g->vmid, j->source, j->target,
	    j->k ? "*/30" : "*/15");
	if (j->k)
		sb_puts(b, ",\"rate\":50,\"comment\":\"offsite copy\"");
}

static void
repl_status(struct strbuf *b, const struct repl_job *j)
{
	long long st = (long long)floor(S.started);

	repl_job(b, j);
	sb_printf(b, ",\"last_sync\":%lld,\"last_try\":%lld,\"next_sync\":%lld,\"duration\":%s,"
	    "\"fail_count\":%d,\"state\":\"%s\"", st - 600 - 300 * j->k, st - 300, st + 300 + 600 * j->k,
	    j->k ? "12.5" : "3.52", j->k ? 2 : 0, j->k ? "error" : "idle");
	if (j->k)
		sb_printf(b, ",\"error\":\"command 'set -o pipefail && pvesm export local-zfs:vm-%lld-disk-0 "
		    "zfs - -with-snapshots 1' failed: exit code 255\"", (long long)j->g->vmid);
	sb_puts(b, "}");
}

/* Splits path into at most 8 segments at '/'. Returns their number. */
static int
segments(char *path, char *seg[8])
{
	int n = 0;

	for (char *s = strtok(path, "/"); s && n < 8; s = strtok(NULL, "/"))
		seg[n++] = s;
	return n;
}

static int
is_number(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* The answer to GET path (below /api2/json, query removed) into b. */
static void
answer(const char *path, struct strbuf *b, struct answer *a)
{
	char copy[1024], *seg[8];
	int n;
	struct node *nd = NULL;
	struct guest *g = NULL;
	struct repl_job jobs[2];
	int njobs;

	a->kind = ANSWER_DATA;
	snprintf(copy, sizeof(copy), "%s", path);
	n = segments(copy, seg);
	if (n == 0) {
		a->kind = ANSWER_NONE;
		return;
	}
	if (n >= 2 && strcmp(seg[0], "nodes") == 0)
		nd = node_named(seg[1], strlen(seg[1]));
	if (n >= 4 && strcmp(seg[0], "nodes") == 0 && is_number(seg[3]))
		g = guest_of(strtoll(seg[3], NULL, 10));
	if (n == 1 && strcmp(seg[0], "nodes") == 0)
		return nodes_list(b);
	if (n == 1 && strcmp(seg[0], "storage") == 0)
		return storage_config(b);
	if (n == 2 && strcmp(seg[0], "cluster") == 0 && strcmp(seg[1], "resources") == 0)
		return guest_list(b, NULL, 0);
	if (n == 2 && strcmp(seg[0], "cluster") == 0 && strcmp(seg[1], "status") == 0)
		return cluster_status(b);
	njobs = repl_jobs(jobs);
	if (n >= 2 && strcmp(seg[0], "cluster") == 0 && strcmp(seg[1], "replication") == 0) {
		if (n == 2) {
			sb_puts(b, "[");
			for (int j = 0; j < njobs; j++) {
				sb_puts(b, j ? "," : "");
				repl_job(b, &jobs[j]);
				sb_puts(b, "}");
			}
			sb_puts(b, "]");
			return;
		}
		for (int j = 0; n == 3 && j < njobs; j++)
			if (strcmp(jobs[j].id, seg[2]) == 0) {
				repl_job(b, &jobs[j]);
				sb_puts(b, "}");
				return;
			}
		a->kind = ANSWER_NONE;
		return;
	}
	if (strcmp(seg[0], "nodes") != 0 || n < 3) {
		a->kind = ANSWER_NONE;
		return;
	}
	/* /nodes/{node}/... */
	if (n == 3 && strcmp(seg[2], "storage") == 0)
		return node_storage(b);
	if (n == 3 && strcmp(seg[2], "replication") == 0) {
		int first = 1;
		sb_puts(b, "[");
		for (int j = 0; j < njobs; j++) {
			if (strcmp(jobs[j].source, seg[1]) != 0)
				continue;
			sb_puts(b, first ? "" : ",");
			first = 0;
			repl_status(b, &jobs[j]);
		}
		sb_puts(b, "]");
		return;
	}
	if (n == 5 && strcmp(seg[2], "replication") == 0 && strcmp(seg[4], "status") == 0) {
		for (int j = 0; j < njobs; j++)
			if (strcmp(jobs[j].id, seg[3]) == 0 && strcmp(jobs[j].source, seg[1]) == 0)
				return repl_status(b, &jobs[j]);
		a->kind = ANSWER_NONE;
		return;
	}
	if (nd && n == 3 && strcmp(seg[2], "status") == 0)
		return node_status(b, nd);
	if (nd && n == 3 && strcmp(seg[2], "network") == 0)
		return node_network(b);
	if (nd && n == 3 && strcmp(seg[2], "rrddata") == 0)
		return node_rrd(b);
	if (n == 3 && (strcmp(seg[2], "qemu") == 0 || strcmp(seg[2], "lxc") == 0))
		return guest_list(b, seg[1], strcmp(seg[2], "lxc") == 0);
	if (n == 3 && strcmp(seg[2], "tasks") == 0)
		return node_tasks(b, seg[1]);
	if (n == 5 && strcmp(seg[2], "storage") == 0 && strcmp(seg[3], "local") == 0 &&
	    strcmp(seg[4], "content") == 0)
		return node_backups(b, seg[1]);
	if (nd && n == 4 && strcmp(seg[2], "certificates") == 0 && strcmp(seg[3], "info") == 0)
		return certificates(b, nd);
	if (nd && n == 4 && strcmp(seg[2], "disks") == 0 && strcmp(seg[3], "list") == 0)
		return node_disks(b, node_index(nd));
	if (nd && n == 4 && strcmp(seg[2], "disks") == 0 && strcmp(seg[3], "zfs") == 0)
		return zfs_list(b, node_index(nd));
	if (nd && n == 5 && strcmp(seg[2], "disks") == 0 && strcmp(seg[3], "zfs") == 0) {
		if (!zfs_detail(b, node_index(nd), seg[4]))
			a->kind = ANSWER_NONE;
		return;
	}
	if (g && n == 5 && (strcmp(seg[2], "qemu") == 0 || strcmp(seg[2], "lxc") == 0) &&
	    strcmp(seg[4], "snapshot") == 0)
		return snapshots(b, g);
	if (g && n == 6 && strcmp(seg[2], "qemu") == 0 && strcmp(seg[4], "status") == 0 &&
	    strcmp(seg[5], "current") == 0)
		return vm_status(b, g);
	if (g && n == 5 && strcmp(seg[2], "lxc") == 0 && strcmp(seg[4], "rrddata") == 0)
		return ct_rrd(b, g);
	/* The detail calls check the guest's kind and node. */
	if (g && strcmp(S.nodes[g->node].name, seg[1]) != 0)
		g = NULL;
	if (g && !g->is_ct && n == 6 && strcmp(seg[2], "qemu") == 0 && strcmp(seg[4], "agent") == 0) {
		const char *what = seg[5];
		if (strcmp(what, "get-fsinfo") && strcmp(what, "network-get-interfaces") &&
		    strcmp(what, "get-osinfo") && strcmp(what, "info")) {
			a->kind = ANSWER_NONE;
			return;
		}
		if (agent_refused(a, g))
			return;
		if (strcmp(what, "get-fsinfo") == 0)
			return agent_fsinfo(b);
		if (strcmp(what, "network-get-interfaces") == 0)
			return agent_network(b, g);
		if (strcmp(what, "get-osinfo") == 0)
			return agent_osinfo(b, g);
		return agent_info(b);
	}
	if (g && g->is_ct && strcmp(seg[2], "lxc") == 0) {
		if (n == 6 && strcmp(seg[4], "status") == 0 && strcmp(seg[5], "current") == 0)
			return ct_status(b, g);
		if (n == 5 && strcmp(seg[4], "config") == 0)
			return ct_config(b, g);
		if (n == 5 && strcmp(seg[4], "interfaces") == 0) {
			if (!g->running)
				return refuse(a, 500, "CT %lld not running", (long long)g->vmid);
			return ct_interfaces(b, g);
		}
	}
	a->kind = ANSWER_NONE;
}

/* --- HTTP over TLS ------------------------------------------------------------------ */

struct conn {
	int fd;
	SSL *ssl;
	int handshaken;
	struct strbuf in, out;
	size_t out_at;
	int closing;
};

static void
reply(struct conn *c, int status, const char *reason, const char *body, size_t len)
{
	sb_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: application/json;charset=UTF-8\r\n"
	    "Content-Length: %zu\r\n\r\n", status, reason, len);
	sb_append(&c->out, body, len);
}

static void
sim_metrics(struct conn *c, const char *body, size_t len)
{
	struct json_object *m = json_tokener_parse(body && len ? body : "{}"), *v;
	struct strbuf b = {0};
	double *cpu = NULL;
	struct guest *g = NULL;
	struct node *nd = NULL;

	if (m && json_object_object_get_ex(m, "node", &v))
		nd = node_named(json_object_get_string(v), strlen(json_object_get_string(v)));
	else if (m && json_object_object_get_ex(m, "vmid", &v))
		g = guest_of(json_object_get_int64(v));
	if (nd == NULL && g == NULL) {
		const char *e = "{\"error\":\"node or vmid of a generated one needed\"}";
		reply(c, 400, "Bad Request", e, strlen(e));
		json_object_put(m);
		return;
	}
	cpu = nd ? &nd->cpu : &g->cpu;
	if (json_object_object_get_ex(m, "cpu", &v))
		*cpu = json_object_get_double(v);
	if (g && json_object_object_get_ex(m, "status", &v))
		g->running = strcmp(json_object_get_string(v), "running") == 0;
	if (g && json_object_object_get_ex(m, "gone", &v) && json_object_get_boolean(v))
		g->gone = 1;
	sb_puts(&b, "{\"cpu\":");
	num(&b, *cpu);
	sb_puts(&b, "}");
	reply(c, 200, "OK", b.data, b.len);
	sb_free(&b);
	json_object_put(m);
}

/* One whole request (head and body) in c->in: answered into c->out. */
static void
handle(struct conn *c, char *head, const char *body, size_t blen)
{
	char method[16] = "", target[1024] = "", *q, *auth;
	struct strbuf b = {0};
	struct answer a = {0};

	if (sscanf(head, "%15s %1023s", method, target) != 2) {
		c->closing = 1;
		return reply(c, 400, "Bad Request", "{}", 2);
	}
	if (strcasestr(head, "\r\nConnection: close"))
		c->closing = 1;
	if ((q = strchr(target, '?')) != NULL)
		*q = '\0';
	if (strcmp(target, "/__sim/stats") == 0) {
		sb_printf(&b, "{\"requests\":%ld}", S.requests);
		reply(c, 200, "OK", b.data, b.len);
		return sb_free(&b);
	}
	if (strcmp(target, "/__sim/metrics") == 0 && strcmp(method, "POST") == 0)
		return sim_metrics(c, body, blen);
	if (strncmp(target, "/api2/json/", 11) != 0)
		return reply(c, 404, "Not Found", "{\"data\":null}", 13);
	S.requests++;
	auth = strcasestr(head, "\r\nAuthorization: ");
	if (S.token[0] && (auth == NULL || strncmp(auth + 17, S.token, strlen(S.token)) != 0 ||
	    (auth[17 + strlen(S.token)] != '\r')))
		return reply(c, 401, "Unauthorized", "{\"data\":null}", 13);
	if (strcmp(method, "GET") != 0) {
		sb_printf(&b, "{\"data\":null,\"message\":\"Method '%s %s' not implemented\"}", method,
		    target + 10);
		reply(c, 501, "Not Implemented", b.data, b.len);
		return sb_free(&b);
	}
	sb_puts(&b, "{\"data\":");
	answer(target + 10, &b, &a);
	if (a.kind == ANSWER_DATA) {
		sb_puts(&b, "}");
		reply(c, 200, "OK", b.data, b.len);
	} else if (a.kind == ANSWER_NONE) {
		const char *e = "{\"data\":null,\"errors\":{\"path\":\"not recorded\"}}";
		reply(c, 404, "Not Found", e, strlen(e));
	} else {
		sb_reset(&b);
		sb_printf(&b, "{\"data\":null,\"message\":\"%s\\n\"}", a.message);
		reply(c, a.status, a.message, b.data, b.len);
	}
	sb_free(&b);
}

/* Answers every whole request buffered in c->in. */
static void
process(struct conn *c)
{
	while (!c->closing) {
		char *end = c->in.len ? memmem(c->in.data, c->in.len, "\r\n\r\n", 4) : NULL, *cl;
		size_t headlen, blen = 0, total;

		if (end == NULL) {
			if (c->in.len > MAX_REQUEST)
				c->closing = 1;
			return;
		}
		headlen = (size_t)(end - c->in.data) + 4;
		end[2] = '\0';	/* the head ends in one CRLF, as a string */
		cl = strcasestr(c->in.data, "\r\nContent-Length:");
		if (cl)
			blen = strtoul(cl + 17, NULL, 10);
		if (blen > MAX_REQUEST) {
			c->closing = 1;
			return;
		}
		total = headlen + blen;
		if (c->in.len < total) {
			end[2] = '\r';
			return;
		}
		{
			char *body = xmalloc(blen + 1);
			memcpy(body, c->in.data + headlen, blen);
			body[blen] = '\0';
			handle(c, c->in.data, body, blen);
			free(body);
		}
		memmove(c->in.data, c->in.data + total, c->in.len - total);
		c->in.len -= total;
	}
}

static void
conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	SSL_free(c->ssl);
	close(c->fd);
	sb_free(&c->in);
	sb_free(&c->out);
	free(c);
}

/* Reads, answers and writes what it can; returns -1 when the connection is done. */
static int
serve(int ep, struct conn *c)
{
	char buf[16384];
	struct epoll_event ev = {0};
	int r;

	if (!c->handshaken) {
		r = SSL_accept(c->ssl);
		if (r <= 0) {
			int e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				ev.events = e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				return 0;
			}
			return -1;
		}
		c->handshaken = 1;
	}
	for (;;) {
		r = SSL_read(c->ssl, buf, sizeof(buf));
		if (r > 0) {
			sb_append(&c->in, buf, (size_t)r);
			continue;
		}
		r = SSL_get_error(c->ssl, r);
		if (r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE)
			break;
		if (c->out.len == c->out_at)
			return -1;	/* closed or failed, nothing left to send */
		c->closing = 1;
		break;
	}
	process(c);
	while (c->out_at < c->out.len) {
		r = SSL_write(c->ssl, c->out.data + c->out_at, (int)(c->out.len - c->out_at));
		if (r > 0) {
			c->out_at += (size_t)r;
			continue;
		}
		r = SSL_get_error(c->ssl, r);
		if (r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE)
			break;
		return -1;
	}
	if (c->out_at == c->out.len) {
		c->out.len = c->out_at = 0;
		if (c->closing)
			return -1;
	}
	ev.events = EPOLLIN | (c->out_at < c->out.len ? EPOLLOUT : 0);
	ev.data.ptr = c;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	return 0;
}

static void
set_fingerprint(const char *cert_file)
{
	FILE *f = fopen(cert_file, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t o = 0;

	if (x && X509_digest(x, EVP_sha256(), md, &n) == 1)
		for (unsigned int i = 0; i < n && o + 4 < sizeof(S.fingerprint); i++)
			o += (size_t)snprintf(S.fingerprint + o, sizeof(S.fingerprint) - o, "%s%02X",
			    i ? ":" : "", md[i]);
	X509_free(x);
	if (f)
		fclose(f);
}

static void
usage(void)
{
	fprintf(stderr, "usage: pve-sim --listen https://ADDR:PORT --cert FILE --key FILE --nodes N "
	    "--guests M [--token TOKEN] [--cluster NAME] [--drift]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'}, {"cert", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'}, {"nodes", required_argument, NULL, 'n'},
		{"guests", required_argument, NULL, 'g'}, {"token", required_argument, NULL, 't'},
		{"cluster", required_argument, NULL, 'C'}, {"drift", no_argument, NULL, 'D'},
		{NULL, 0, NULL, 0},
	};
	const char *listen_url = "https://127.0.0.1:8006", *cert = NULL, *key = NULL;
	int nnodes = 0, nguests = 0, opt, lfd, ep, one = 1, port;
	char host[64];
	struct sockaddr_in sa = {0};
	SSL_CTX *ctx;
	struct epoll_event ev = {0};

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': listen_url = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'n': nnodes = atoi(optarg); break;
		case 'g': nguests = atoi(optarg); break;
		case 'C': snprintf(S.cluster, sizeof(S.cluster), "%s", optarg); break;
		case 'D': S.drift = 1; break;
		case 't': snprintf(S.token, sizeof(S.token), "PVEAPIToken=%s", optarg); break;
		default: usage();
		}
	}
	if (!cert || !key || nnodes < 1 || nguests < 0 ||
	    sscanf(listen_url, "https://%63[^:]:%d", host, &port) != 2)
		usage();
	if (S.cluster[0] == '\0')
		snprintf(S.cluster, sizeof(S.cluster), "simcluster");
	signal(SIGPIPE, SIG_IGN);
	S.started = now();
	make_estate(nnodes, nguests);
	set_fingerprint(cert);
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		usage();
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 512) != 0) {
		fprintf(stderr, "pve-sim: listen %s: %s\n", listen_url, strerror(errno));
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	fprintf(stderr, "pve-sim: %d nodes, %d guests on %s\n", nnodes, nguests, listen_url);
	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c == NULL) {
				int fd;
				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					struct epoll_event cev = {0};
					c = xcalloc(1, sizeof(*c));
					c->fd = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					c->ssl = SSL_new(ctx);
					SSL_set_fd(c->ssl, fd);
					SSL_set_accept_state(c->ssl);
					cev.events = EPOLLIN;
					cev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
				}
				continue;
			}
			if (serve(ep, c) != 0)
				conn_close(ep, c);
		}
	}
}
