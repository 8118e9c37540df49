/* test_pve_derive.c: the PVE derivations (state-proxmox.md §2.6-§2.9, §1.7) on the recorded
 * PVE 7 and 9 answers, parsed by pve.c as the poller parses them, and on the variations of
 * them that each rule is about. The recordings are required: without them this fails. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "fixtures.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "pve.h"
#include "pve_derive.h"
#include "state.h"
#include "tap.h"
#include "util.h"

#define GIB 1073741824LL

static int
near(double a, double b)
{
	return fabs(a - b) < 1e-9 * (fabs(b) > 1 ? fabs(b) : 1);
}

static void
config(struct instance_cfg *cfg, const char *name, int is_cluster, const char *cluster_name)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->name, sizeof(cfg->name), "%s", name);
	snprintf(cfg->host, sizeof(cfg->host), "https://%s:8006", name);
	snprintf(cfg->cluster_name, sizeof(cfg->cluster_name), "%s", cluster_name);
	cfg->is_cluster = is_cluster;
}

/* Node n of the recorded /nodes list; 0 when it is there. */
static int
recorded_node(const char *version, int n, struct pve_node_facts *f)
{
	struct json_object *root = load(version, "nodes.json");
	struct pve_node_item items[8];
	int count = root ? pve_parse_nodes(data_of(root), items, 8) : 0;

	json_object_put(root);
	memset(f, 0, sizeof(*f));
	if (!ok(count > n, "%s /nodes lists node %d", version, n))
		return -1;
	f->item = items[n];
	f->online = strcmp(items[n].status, "online") == 0;
	return 0;
}

/* The recorded node status, with extra members put into its "memory" (JSON text, or
 * NULL); 0 when it parsed. */
static int
recorded_status(const char *version, const char *memory_extra, struct pve_node_facts *f)
{
	struct json_object *root = load(version, "nodes/node1/status.json"), *mem = NULL;
	int rc = -1;

	if (root == NULL)
		return -1;
	if (memory_extra && json_object_object_get_ex(data_of(root), "memory", &mem)) {
		struct json_object *extra = jsonutil_parse(memory_extra, strlen(memory_extra), NULL, 0);
		json_object_object_foreach(extra, k, v)
			json_object_object_add(mem, k, json_object_get(v));
		json_object_put(extra);
	}
	if (pve_parse_node_status(data_of(root), &f->status) == 0) {
		f->have_status = 1;
		rc = 0;
	}
	json_object_put(root);
	return rc;
}

/* --- node memory (§2.6) --------------------------------------------------------------- */

static void
test_node_memory(void)
{
	struct pve_node_facts f;
	struct pve_node_seen seen;
	struct st_memory m;
	const int64_t total = 8 * GIB;	/* the PVE 9 recording: 8 GiB, 2 GiB used */

	/* Only total/used/free: no available, buffers or cached, and no RRD yet: status used. */
	if (recorded_node("pve9x", 0, &f) == 0 && recorded_status("pve9x", NULL, &f) == 0) {
		ok(!f.status.has_available && !f.status.has_avail && !f.status.has_buffers &&
		    !f.status.has_cached, "pve9x status has none of available/avail/buffers/cached");
		pve_derive_node_memory(&f, NULL, &m);
		is_int(m.total, total, "total from the status, not the list's maxmem");
		is_int(m.used, 2 * GIB, "used from the status without RRD");
		is_int(m.free, 6 * GIB, "free = total - used");
		ok(near(m.usage, 25.0), "usage 25%%");

		/* The RRD's memavailable is what the poller asks for then. */
		f.have_rrd_available = 1;
		f.rrd_available = (double)(5 * GIB);
		pve_derive_node_memory(&f, NULL, &m);
		is_int(m.used, 3 * GIB, "used = total - RRD memavailable");
		/* Without memavailable, memused. */
		f.have_rrd_available = 0;
		f.have_rrd_used = 1;
		f.rrd_used = (double)(3 * GIB + 12345);
		pve_derive_node_memory(&f, NULL, &m);
		is_int(m.used, 3 * GIB + 12345, "used = RRD memused");
		/* An available beyond the total is not believed: RRD memused, else status used. */
		f.have_rrd_available = 1;
		f.rrd_available = (double)(9 * GIB);
		pve_derive_node_memory(&f, NULL, &m);
		is_int(m.used, 3 * GIB + 12345, "available beyond total: RRD memused");
	}

	/* available wins over everything. */
	if (recorded_node("pve9x", 0, &f) == 0 &&
	    recorded_status("pve9x", "{\"available\": 4294967296, \"avail\": 1, \"buffers\": 1}", &f) == 0) {
		pve_derive_node_memory(&f, NULL, &m);
		is_int(m.used, 4 * GIB, "used = total - available");
	}
	/* avail when there is no available. */
	if (recorded_node("pve9x", 0, &f) == 0 && recorded_status("pve9x", "{\"avail\": 7516192768}", &f) == 0) {
		pve_derive_node_memory(&f, NULL, &m);
		is_int(m.used, 1 * GIB, "used = total - avail");
	}
	/* buffers/cached: available = max(free+buffers+cached, total-used). */
	if (recorded_node("pve9x", 0, &f) == 0 &&
	    recorded_status("pve9x", "{\"buffers\": 536870912, \"cached\": 536870912}", &f) == 0) {
		pve_derive_node_memory(&f, NULL, &m);
		is_int(m.used, 1 * GIB, "free+buffers+cached (7 GiB) beats total-used (6 GiB)");
	}
	if (recorded_node("pve9x", 0, &f) == 0 && recorded_status("pve9x", "{\"cached\": 0}", &f) == 0) {
		pve_derive_node_memory(&f, NULL, &m);
		is_int(m.used, 2 * GIB, "cached present but 0: max(free+cached, total-used) is 6 GiB");
	}

	/* The PVE 7 recording: a 64 GB host, used from its status. */
	if (recorded_node("pve7x", 0, &f) == 0 && recorded_status("pve7x", NULL, &f) == 0) {
		pve_derive_node_memory(&f, NULL, &m);
		is_int(m.total, 65919459328LL, "pve7x total");
		is_int(m.used, 8095399936LL, "pve7x used");
	}

	/* The status call failed: the list's figures, or the last poll's memory when there was
	 * one (within the list's total). */
	if (recorded_node("pve9x", 0, &f) == 0) {
		pve_derive_node_memory(&f, NULL, &m);
		is_int(m.total, 33568288768LL, "no status: the list's maxmem");
		is_int(m.used, 11508809728LL, "no status: the list's mem");
		memset(&seen, 0, sizeof(seen));
		st_memory_set(&seen.memory, 8 * GIB, 3 * GIB);
		pve_derive_node_memory(&f, &seen, &m);
		is_int(m.total, 33568288768LL, "no status, seen before: total still the list's");
		is_int(m.used, 3 * GIB, "no status, seen before: the last poll's used");
		f.online = 0;
		pve_derive_node_memory(&f, &seen, &m);
		is_int(m.used, 11508809728LL, "offline: the list's mem, not the memory");
	}
}

/* --- node rows -------------------------------------------------------------------------- */

static void
test_node_row(void)
{
	struct instance_cfg cfg;
	struct pve_node_facts f;
	struct pve_node_seen seen;
	struct st_instance s;
	struct st_node *n;
	struct pve_node_context ctx = {.cfg = &cfg, .nnodes = 1, .grace = 60, .health = "healthy"};

	memset(&s, 0, sizeof(s));
	memset(&seen, 0, sizeof(seen));
	config(&cfg, "pve-main", 0, "");
	if (recorded_node("pve9x", 0, &f) != 0 || recorded_status("pve9x", NULL, &f) != 0)
		return;
	n = st_add_node(&s);
	pve_derive_node(&ctx, &f, &seen, 1000, n);
	is_str(n->id, "pve-main-node1", "standalone id: <instance>-<node>");
	is_str(n->display_name, "pve-main", "a lone standalone node is shown by the instance's name");
	is_str(n->status, "online", "online");
	is_str(n->host, "https://pve-main:8006", "host: the configured URL");
	is_int(n->cpu_cores, 12, "cores: the list's maxcpu");
	is_int(n->uptime, 86400, "uptime: the status's");
	is_int(n->nload, 3, "three load averages");
	ok(near(n->load[2], 0.30), "load average from numeric strings");
	is_str(n->kernel_version, "Linux 6.11.0-1-pve", "kernel version");
	is_str(n->pve_version, "pve-manager/9.1-1/9a1b2c3d", "PVE version");
	is_int(n->disk.total, 940743983104LL, "no rootfs in the status: the list's maxdisk");
	is_int(n->disk.used, 2310930432LL, "and its disk");
	ok(near(seen.last_online, 1000), "the time it was online is remembered");
	is_int(seen.memory.used, n->memory.used, "and its memory");
	is_int(n->is_cluster_member, 0, "not a cluster member");

	/* A cluster member: <cluster>-<node>, its own name, its own endpoint. */
	config(&cfg, "pve-main", 1, "prod");
	ctx.nnodes = 4;
	ctx.url = "https://10.0.0.1:8006";
	ctx.health = "degraded";
	n = st_add_node(&s);
	pve_derive_node(&ctx, &f, NULL, 1000, n);
	is_str(n->id, "prod-node1", "cluster id: <cluster>-<node>");
	is_str(n->display_name, "node1", "a member is shown by its node name");
	is_str(n->host, "https://10.0.0.1:8006", "host: the member's endpoint");
	is_str(n->connection_health, "degraded", "health as given");
	is_str(n->cluster_name, "prod", "cluster name");
	is_int(n->is_cluster_member, 1, "a cluster member");

	/* Dropped out: online within the grace period, then what the list says. */
	f.online = 0;
	snprintf(f.item.status, sizeof(f.item.status), "offline");
	f.have_status = 0;
	n = st_add_node(&s);
	pve_derive_node(&ctx, &f, &seen, 1030, n);
	is_str(n->status, "online", "offline for 30 s of a 60 s grace: still online");
	n = st_add_node(&s);
	pve_derive_node(&ctx, &f, &seen, 1061, n);
	is_str(n->status, "offline", "after the grace: offline");
	is_int(n->nload, 0, "no status: no load read");

	/* Neither rootfs nor maxdisk: the node's local storage, else local-lvm. */
	{
		struct pve_storage_item st[2];
		memset(st, 0, sizeof(st));
		snprintf(st[0].storage, sizeof(st[0].storage), "local-lvm");
		st[0].total = 100;
		st[0].used = 40;
		snprintf(st[1].storage, sizeof(st[1].storage), "local");
		st[1].total = 200;
		st[1].used = 50;
		f.item.maxdisk = 0;
		f.storage = st;
		f.nstorage = 2;
		n = st_add_node(&s);
		pve_derive_node(&ctx, &f, NULL, 2000, n);
		is_int(n->disk.total, 200, "disk from 'local' first");
		st[1].total = 0;
		n = st_add_node(&s);
		pve_derive_node(&ctx, &f, NULL, 2000, n);
		is_int(n->disk.total, 100, "then 'local-lvm'");
		f.storage = NULL;
	}
	st_instance_free(&s);
}

/* --- guests (§2.7-§2.9) ------------------------------------------------------------------ */

/* The guests' tags of every parse in this file: freed at the end. */
static struct arena *tags_text;

/* Tags: ';' separated in the answer, ',' in ours, absent is NULL, cut at PVE_TAGS_MAX. */
static void
test_guest_tags(void)
{
	struct pve_guest_item g;
	struct json_object *o;
	char long_tags[700], *want;

	o = json_tokener_parse("{\"type\":\"qemu\",\"node\":\"n1\",\"vmid\":100,\"tags\":\"prod;web;pulse-relaxed\"}");
	is_int(pve_parse_guest(o, &g, tags_text), 1, "a tagged guest parses");
	is_str(g.tags ? g.tags : "(null)", "prod,web,pulse-relaxed", "its tags are ',' separated");
	json_object_put(o);
	o = json_tokener_parse("{\"type\":\"lxc\",\"node\":\"n1\",\"vmid\":101,\"tags\":\"\"}");
	is_int(pve_parse_guest(o, &g, tags_text), 1, "an untagged guest parses");
	ok(g.tags == NULL, "empty tags are none");
	json_object_put(o);
	memset(long_tags, 'a', sizeof(long_tags) - 1);
	long_tags[sizeof(long_tags) - 1] = '\0';
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("qemu"));
	json_object_object_add(o, "node", json_object_new_string("n1"));
	json_object_object_add(o, "vmid", json_object_new_int(102));
	json_object_object_add(o, "tags", json_object_new_string(long_tags));
	pve_parse_guest(o, &g, tags_text);
	want = xstrndup(long_tags, PVE_TAGS_MAX);
	is_str(g.tags ? g.tags : "(null)", want, "a longer tag list is cut at PVE_TAGS_MAX bytes");
	free(want);
	json_object_put(o);
}

/* Guest vmid of the recorded cluster/resources list; 0 when it is there. */
static int
recorded_guest(int64_t vmid, struct pve_guest_facts *f)
{
	struct json_object *root = load("pve9x", "cluster/resources.2.json");
	struct pve_guest_item items[32];
	int n = root ? pve_parse_guests(data_of(root), items, 32, tags_text) : 0;

	json_object_put(root);
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < n; i++)
		if (items[i].vmid == vmid) {
			f->item = items[i];
			return 0;
		}
	return ok(0, "cluster/resources lists guest %lld", (long long)vmid) ? 0 : -1;
}

/* A recorded VM status (with agent, balloon and freemem), with extra members (JSON text or
 * NULL). */
static int
recorded_vm_status(const char *extra, struct pve_guest_facts *f)
{
	struct json_object *root = load("pve9x", "nodes/node1/qemu/101/status/current.json");
	int rc;

	if (root == NULL)
		return -1;
	if (extra) {
		struct json_object *x = jsonutil_parse(extra, strlen(extra), NULL, 0);
		json_object_object_foreach(x, k, v)
			json_object_object_add(data_of(root), k, json_object_get(v));
		json_object_put(x);
	}
	rc = pve_parse_vm_status(data_of(root), &f->vm);
	json_object_put(root);
	f->have_vm = rc == 0;
	return rc;
}

static void
test_vm_memory(void)
{
	struct pve_guest_facts f;
	struct st_memory m;

	if (recorded_guest(100, &f) != 0)
		return;
	memset(&m, 0, sizeof(m));
	pve_derive_vm_memory(&f, &m);
	is_int(m.total, 1073741824LL, "no VM status: the list's maxmem");
	is_int(m.used, 842551296LL, "no VM status: the list's mem");
	is_int(m.balloon, 0, "no balloon");

	if (recorded_vm_status(NULL, &f) != 0)
		return;
	memset(&m, 0, sizeof(m));
	pve_derive_vm_memory(&f, &m);
	is_int(m.total, 2097152000LL, "total: the status's maxmem (balloon equal to it)");
	is_int(m.used, 2097152000LL - 887222272LL, "used = total - freemem");
	is_int(m.balloon, 2097152000LL, "balloon copied");

	if (recorded_vm_status("{\"balloon\": 1048576000}", &f) == 0) {
		pve_derive_vm_memory(&f, &m);
		is_int(m.total, 1048576000LL, "a balloon below maxmem is the total");
		is_int(m.used, 1048576000LL - 887222272LL, "used = balloon - freemem");
	}
	if (recorded_vm_status("{\"meminfo\": {\"available\": 1097152000, \"free\": 5}}", &f) == 0) {
		pve_derive_vm_memory(&f, &m);
		is_int(m.used, 1000000000LL, "agent meminfo available first");
	}
	if (recorded_vm_status("{\"meminfo\": {\"free\": 100000000, \"buffers\": 200000000, "
	    "\"cached\": 300000000}}", &f) == 0) {
		pve_derive_vm_memory(&f, &m);
		is_int(m.used, 2097152000LL - 600000000LL, "else free + buffers + cached");
	}
	if (recorded_vm_status("{\"meminfo\": {\"available\": 9097152000}}", &f) == 0) {
		pve_derive_vm_memory(&f, &m);
		is_int(m.used, 0, "available capped at the total");
	}
	if (recorded_vm_status("{\"freemem\": 0}", &f) == 0) {
		pve_derive_vm_memory(&f, &m);
		is_int(m.used, 1127792640LL, "no freemem: the status's mem");
	}
}

static void
test_rates(void)
{
	struct pve_rates r = {0};
	int64_t c[4] = {1000, 2000, 3000, 4000}, out[4];

	pve_rates_update(&r, "a", c, 100, out);
	ok(out[0] == 0 && out[3] == 0, "first sample: no rate");
	c[0] = 2000;
	c[1] = 2500;
	c[2] = 2000;			/* went back: a reset */
	c[3] = 14000;
	pve_rates_update(&r, "a", c, 110, out);
	is_int(out[0], 100, "diskread: 1000 bytes in 10 s");
	is_int(out[1], 50, "diskwrite: 500 bytes in 10 s");
	is_int(out[2], 0, "a counter that went back gives 0");
	is_int(out[3], 1000, "netout");
	pve_rates_update(&r, "a", c, 120, out);
	is_int(out[0], 100, "unchanged counters repeat the last rates");
	c[0] = 3000;
	pve_rates_update(&r, "a", c, 110, out);
	is_int(out[0], 100, "no time passed: the last rates");
	pve_rates_update(&r, "b", c, 110, out);
	is_int(out[0], 0, "another guest starts afresh");
	pve_rates_sweep(&r);
	is_int(r.n, 2, "both seen: both kept");
	pve_rates_update(&r, "b", c, 130, out);
	pve_rates_sweep(&r);
	is_int(r.n, 1, "one not seen since the sweep: forgotten");
	pve_rates_update(&r, "a", c, 140, out);
	is_int(out[0], 0, "a forgotten guest starts afresh");
	pve_rates_free(&r);
}

static void
test_guest_row(void)
{
	struct pve_guest_facts f;
	struct pve_rates r = {0};
	struct st_instance s;
	struct st_guest *g;

	memset(&s, 0, sizeof(s));
	if (recorded_guest(100, &f) != 0)
		return;
	/* Running, no VM status: the list's counters, the disk unknown. */
	f.resources_at = 500;
	g = st_add_guest(&s);
	pve_derive_guest(&s, "pve-main", &f, &r, 600, g);
	is_str(g->id, "pve-main:node2:100", "id: <instance>:<node>:<vmid>");
	is_str(g->name, "server1", "name");
	is_int(g->cpus, 1, "cpus: maxcpu");
	ok(near(g->cpu, 0.0249060195469461), "cpu: the list's fraction");
	ok(g->disk.usage == -1, "disk unknown");
	is_str(g->disk_status_reason, "no-status", "reason: no VM status");
	is_int(g->disk.total, 34359738368LL, "the allocated size kept");
	is_int(g->net_in, 0, "first sample: no rates");

	/* The next cycle, 10 s later with more traffic. */
	f.item.netin += 10000;
	f.resources_at = 510;
	g = st_add_guest(&s);
	pve_derive_guest(&s, "pve-main", &f, &r, 610, g);
	is_int(g->net_in, 1000, "rate over the time between the answers");

	/* With a VM status and the agent's filesystems. */
	if (recorded_vm_status(NULL, &f) == 0) {
		struct pve_fs fs[2];
		memset(fs, 0, sizeof(fs));
		snprintf(fs[0].mountpoint, sizeof(fs[0].mountpoint), "/");
		fs[0].total = 1000;
		fs[0].used = 250;
		snprintf(fs[1].mountpoint, sizeof(fs[1].mountpoint), "/data");
		fs[1].total = 3000;
		fs[1].used = 750;
		f.fs = fs;
		f.nfs = 2;
		f.have_fs = 1;
		f.vm_at = 700;
		g = st_add_guest(&s);
		pve_derive_guest(&s, "pve-main", &f, &r, 720, g);
		is_int(g->ndisks, 2, "a disk per filesystem");
		is_int(g->disk.total, 4000, "disk: the sum of the filesystems");
		ok(near(g->disk.usage, 25.0), "disk usage 25%%");
		f.nfs = 0;
		f.fs_listed = 3;
		ok(strcmp(pve_vm_disk_reason(&f, 1), "special-filesystems-only") == 0,
		    "only special filesystems listed");
		f.fs_listed = 0;
		ok(strcmp(pve_vm_disk_reason(&f, 1), "no-filesystems") == 0, "none listed");
		f.have_fs = 0;
		f.fs_failure = "agent-timeout";
		ok(strcmp(pve_vm_disk_reason(&f, 1), "agent-timeout") == 0, "get-fsinfo's failure");
		f.fs_failure = NULL;
		ok(strcmp(pve_vm_disk_reason(&f, 1), "agent-error") == 0, "asked, no answer");
		f.vm.agent = 0;
		ok(strcmp(pve_vm_disk_reason(&f, 1), "agent-disabled") == 0, "agent disabled");
		ok(strcmp(pve_vm_disk_reason(&f, 0), "vm-stopped") == 0, "stopped");
		f.fs = NULL;
	}

	/* Stopped: every live figure zero. */
	if (recorded_guest(101, &f) == 0) {
		g = st_add_guest(&s);
		pve_derive_guest(&s, "pve-main", &f, &r, 800, g);
		is_str(g->status, "stopped", "stopped");
		is_int(g->memory.used, 0, "stopped: memory used 0");
		is_int(g->memory.free, 16777216000LL, "free = total");
		ok(g->disk.usage == -1, "a stopped VM's disk is unknown");
		is_str(g->disk_status_reason, "vm-stopped", "reason vm-stopped");
	}

	/* A container: RRD memory when running, a root disk entry. */
	memset(&f, 0, sizeof(f));
	snprintf(f.item.type, sizeof(f.item.type), "lxc");
	snprintf(f.item.node, sizeof(f.item.node), "node1");
	snprintf(f.item.status, sizeof(f.item.status), "running");
	f.item.vmid = 200;
	f.item.maxmem = 1073741824;
	f.item.mem = 270000000;
	f.item.maxdisk = 8589934592LL;
	f.item.disk = 2147483648LL;
	g = st_add_guest(&s);
	pve_derive_guest(&s, "pve-main", &f, &r, 900, g);
	is_int(g->memory.used, 270000000, "no RRD: the list's mem");
	is_int(g->ndisks, 1, "a root disk entry");
	ok(g->ndisks == 1 && strcmp(g->disks[0].mountpoint, "/") == 0 &&
	    strcmp(g->disks[0].type, "rootfs") == 0, "mounted at /, type rootfs");
	ok(near(g->disk.usage, 25.0), "container disk usage from the list");
	f.have_rrd_available = 1;
	f.rrd_available = 73741824;
	g = st_add_guest(&s);
	pve_derive_guest(&s, "pve-main", &f, &r, 910, g);
	is_int(g->memory.used, 1000000000, "used = total - RRD memavailable");
	f.rrd_available = 2e9;
	f.have_rrd_used = 1;
	f.rrd_used = 123456789;
	g = st_add_guest(&s);
	pve_derive_guest(&s, "pve-main", &f, &r, 920, g);
	is_int(g->memory.used, 123456789, "memavailable beyond total: RRD memused");
	snprintf(f.item.status, sizeof(f.item.status), "stopped");
	g = st_add_guest(&s);
	pve_derive_guest(&s, "pve-main", &f, &r, 930, g);
	is_int(g->memory.used, 0, "stopped container: memory 0");
	ok(g->disk.usage == 0, "stopped container: disk usage 0");

	st_instance_free(&s);
	pve_rates_free(&r);
}

/* --- storage (§1.7) ---------------------------------------------------------------------- */

static void
test_storage(void)
{
	struct json_object *root = load("pve9x", "nodes/node1/storage.json");
	struct pve_storage_item items[8], cluster[1];
	struct pve_node_facts nodes[2];
	struct instance_cfg cfg;
	struct st_instance s;
	int n;

	if (root == NULL)
		return;
	n = pve_parse_storage(data_of(root), items, 8);
	json_object_put(root);
	if (!is_int(n, 2, "two storages recorded (local, local-lvm)"))
		return;
	memset(nodes, 0, sizeof(nodes));
	memset(&s, 0, sizeof(s));
	snprintf(nodes[0].item.node, sizeof(nodes[0].item.node), "node1");
	snprintf(nodes[1].item.node, sizeof(nodes[1].item.node), "node2");
	nodes[0].storage = nodes[1].storage = items;
	nodes[0].nstorage = nodes[1].nstorage = n;
	/* local-lvm marked shared by the cluster config. */
	memset(cluster, 0, sizeof(cluster));
	snprintf(cluster[0].storage, sizeof(cluster[0].storage), "local-lvm");
	cluster[0].shared = 1;
	config(&cfg, "pve-main", 1, "prod");
	pve_derive_storage(&cfg, nodes, 2, cluster, 1, &s);
	if (is_int(s.nstorage, 3, "local per node, local-lvm once")) {
		is_str(s.storage[0].id, "pve-main-node1-local", "per node: <instance>-<node>-<storage>");
		is_str(s.storage[0].content, "backup,images,iso,rootdir,snippets,vztmpl", "content sorted");
		is_str(s.storage[0].status, "available", "enabled and active: available");
		is_str(s.storage[0].instance, "prod", "instance: the cluster's name");
		is_str(s.storage[1].id, "prod-cluster-local-lvm", "shared: <cluster>-cluster-<storage>");
		is_str(s.storage[1].node, "cluster", "shared: node 'cluster'");
		is_int(s.storage[1].nnodes, 2, "shared: both nodes listed");
		ok(s.storage[1].nnodes == 2 && strcmp(s.storage[1].node_ids[1], "prod-node2") == 0,
		    "with their node ids");
		is_int(s.storage[1].total, 120000000000LL, "shared: sizes");
		is_str(s.storage[2].id, "pve-main-node2-local", "node2's own local");
	}
	st_instance_free(&s);

	/* A standalone node named as its instance; a disabled storage. */
	memset(&s, 0, sizeof(s));
	config(&cfg, "node1", 0, "");
	items[1].enabled = 0;
	pve_derive_storage(&cfg, nodes, 1, NULL, 0, &s);
	if (is_int(s.nstorage, 2, "standalone: both storages")) {
		is_str(s.storage[0].id, "node1-local", "node named as the instance: <node>-<storage>");
		is_str(s.storage[1].status, "disabled", "disabled");
	}
	st_instance_free(&s);
}

/* st_reserve_guests: room made once, the guests added stay where they were put. */
static void
test_reserve_guests(void)
{
	struct st_instance s;
	struct st_guest *first;

	memset(&s, 0, sizeof(s));
	st_reserve_guests(&s, 1000);
	is_int(s.capguests, 1000, "reserve: room for 1000");
	first = st_add_guest(&s);
	first->name = "first";
	for (int i = 1; i < 1000; i++)
		st_add_guest(&s);
	ok(&s.guests[0] == first, "reserve: 1000 added without moving");
	is_str(s.guests[0].name, "first", "reserve: the first kept");
	st_reserve_guests(&s, 10);
	is_int(s.capguests, 1000, "reserve: less than there is changes nothing");
	st_add_guest(&s);
	ok(s.nguests == 1001 && s.capguests > 1001, "reserve: beyond it, grows as before");
	st_instance_free(&s);
}

/* st_text: a guest's rarer text lives in the instance's arena; none is NULL, and the JSON
 * leaves it out as before. */
static void
test_guest_text(void)
{
	struct st_instance s;
	struct st_guest *g;
	struct json_object *o;
	char big[4096];

	memset(&s, 0, sizeof(s));
	ok(st_text(&s, NULL) == NULL && st_text(&s, "") == NULL, "text: none is NULL");
	ok(s.text == NULL, "text: no arena until there is text");
	g = st_add_guest(&s);
	g->id = "pve:n1:100";
	snprintf(g->type, sizeof(g->type), "qemu");
	{
		char name[16] = "Debian";
		g->os_name = st_text(&s, name);
		snprintf(name, sizeof(name), "changed");
	}
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	g->os_version = st_text(&s, big);
	is_str(g->os_name, "Debian", "text: a copy, not the caller's buffer");
	is_int((long long)strlen(g->os_version), (long long)sizeof(big) - 1, "text: longer than a block");
	st_space_set(&g->disk, 1000, 250);
	o = st_guest_json(g);
	is_str(jsonread_string(o, "osName", ""), "Debian", "json: osName");
	ok(!jsonread_has(o, "agentVersion") && !jsonread_has(o, "diskStatusReason"),
	    "json: text not set is left out");
	is_str(jsonutil_to_string(json_object_object_get(o, "disk"), NULL),
	    "{\"total\":1000,\"used\":250,\"free\":750,\"usage\":25}", "json: disk figures only");
	json_object_put(o);
	st_instance_free(&s);
	ok(s.text == NULL, "text: freed with the instance");
}

/* st_backups_fit: the arrays cut to what they hold; adding more after it still works. */
static void
test_backups_fit(void)
{
	struct st_backups b;

	memset(&b, 0, sizeof(b));
	for (int i = 0; i < 20; i++)
		st_add_task(&b)->vmid = 100 + i;
	st_add_snapshot(&b)->vmid = 7;
	ok(b.captasks > 20, "fit: the doubling left room");
	st_backups_fit(&b);
	is_int(b.captasks, 20, "fit: tasks cut to 20");
	is_int(b.capsnapshots, 1, "fit: snapshots cut to 1");
	ok(b.storage == NULL && b.capstorage == 0, "fit: an empty list stays empty");
	ok(b.tasks[0].vmid == 100 && b.tasks[19].vmid == 119 && b.snapshots[0].vmid == 7,
	    "fit: the elements kept");
	st_add_task(&b)->vmid = 120;
	ok(b.ntasks == 21 && b.captasks >= 21 && b.tasks[20].vmid == 120, "fit: grows again");
	st_backups_free(&b);
}

int
main(void)
{
	if (!ok(find_fixtures() == 0, "the recorded PVE responses are found (set PULSE_FIXTURES)"))
		return done_testing();
	printf("# fixtures: %s\n", fixtures);
	tags_text = arena_new();
	test_guest_tags();
	test_node_memory();
	test_node_row();
	test_vm_memory();
	test_rates();
	test_guest_row();
	test_storage();
	test_reserve_guests();
	test_guest_text();
	test_backups_fit();
	arena_free(tags_text);
	return done_testing();
}
