/* mock.c: mock mode (state-proxmox.md §6): a generated estate (a five-node cluster with one
 * node offline, two standalone nodes, their VMs, containers and storage) whose figures drift
 * like real ones, written through the same state tables as real polling, so every endpoint
 * and the UI work on it. A singleton job: one worker writes it. */
#include "config.h"

#include "conf.h"
#include "jsonutil.h"
#include "log.h"
#include "state.h"
#include "util.h"
#include "worker.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mock_config {
	int node_count, vms_per_node, lxcs_per_node, random_metrics;
	double stopped_percent;
	char high_load[8][64];
	int nhigh;
};

static struct {
	int generated;
	char config_text[1024];		/* the config the estate was made from */
	struct st_instance cluster, standalone;	/* the estate, fluctuated in place */
	unsigned seed;
	int written;			/* mock rows may exist in the database */
	int cleared_once;		/* leftovers of an earlier worker were removed */
} M;

static double
rnd(void)
{
	/* A small LCG: the estate is reproducible from its seed, and no global rand() state
	 * is shared with anything else. */
	M.seed = M.seed * 1103515245u + 12345u;
	return (double)((M.seed >> 8) & 0xffffff) / (double)0x1000000;
}

static int64_t
between(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd() * (double)(hi - lo + 1));
}

static void
parse_config(const char *text, struct mock_config *c)
{
	char err[64];
	struct json_object *o = jsonutil_parse(text, strlen(text), err, sizeof(err)), *hl;
	int64_t v;
	double d;

	memset(c, 0, sizeof(*c));
	c->node_count = 7;
	c->vms_per_node = 5;
	c->lxcs_per_node = 8;
	c->random_metrics = 1;
	c->stopped_percent = 0.2;
	if (o == NULL)
		return;
	if (jsonutil_get_int(o, "nodeCount", 1, 1000, &v) == JSONUTIL_OK)
		c->node_count = (int)v;
	if (jsonutil_get_int(o, "vmsPerNode", 0, 1000, &v) == JSONUTIL_OK)
		c->vms_per_node = (int)v;
	if (jsonutil_get_int(o, "lxcsPerNode", 0, 1000, &v) == JSONUTIL_OK)
		c->lxcs_per_node = (int)v;
	if (jsonutil_get_bool(o, "randomMetrics", &c->random_metrics) != JSONUTIL_OK)
		c->random_metrics = 1;
	if (jsonutil_get_double(o, "stoppedPercent", &d) == JSONUTIL_OK && d >= 0 && d <= 1)
		c->stopped_percent = d;
	if (jsonutil_get_array(o, "highLoadNodes", &hl) == JSONUTIL_OK) {
		for (size_t i = 0; i < json_object_array_length(hl) && c->nhigh < 8; i++) {
			struct json_object *s = json_object_array_get_idx(hl, i);
			if (json_object_is_type(s, json_type_string))
				snprintf(c->high_load[c->nhigh++], 64, "%s", json_object_get_string(s));
		}
	}
	json_object_put(o);
}

static int
high_load(const struct mock_config *c, const char *node)
{
	for (int i = 0; i < c->nhigh; i++)
		if (strcmp(c->high_load[i], node) == 0)
			return 1;
	return 0;
}

static void
add_storage(struct st_instance *s, const char *inst, const char *node, const char *name,
    const char *type, const char *content, int64_t total, double used_fraction, int shared)
{
	struct st_storage *st = st_add_storage(s);

	if (shared)
		snprintf(st->id, sizeof(st->id), "%s-cluster-%s", inst, name);
	else if (strcmp(inst, node) == 0)
		snprintf(st->id, sizeof(st->id), "%s-%s", node, name);
	else
		snprintf(st->id, sizeof(st->id), "%s-%s-%s", inst, node, name);
	snprintf(st->name, sizeof(st->name), "%s", name);
	snprintf(st->node, sizeof(st->node), "%s", shared ? "cluster" : node);
	snprintf(st->instance, sizeof(st->instance), "%s", inst);
	snprintf(st->type, sizeof(st->type), "%s", type);
	snprintf(st->content, sizeof(st->content), "%s", content);
	snprintf(st->status, sizeof(st->status), "available");
	st->total = total;
	st->used = (int64_t)((double)total * used_fraction);
	st->avail = total - st->used;
	st->shared = shared;
	st->enabled = st->active = 1;
}

static void
gen_node(struct st_instance *s, const char *inst, const char *cluster, const char *name,
    int offline, int index, const struct mock_config *c, int *vmid)
{
	static const int64_t cores[] = {4, 8, 12, 16, 24, 32, 48, 64};
	struct st_node *n = st_add_node(s);
	int64_t memtotal = between(32, 127) * ((int64_t)1 << 30);
	int vms, lxcs;

	snprintf(n->id, sizeof(n->id), "%s-%s", inst, name);
	snprintf(n->node, sizeof(n->node), "%s", name);
	snprintf(n->instance, sizeof(n->instance), "%s", inst);
	snprintf(n->host, sizeof(n->host), "https://%s.local:8006", name);
	if (cluster)
		snprintf(n->display_name, sizeof(n->display_name), "%s (%s)", cluster, name);
	else
		snprintf(n->display_name, sizeof(n->display_name), "%s", name);
	snprintf(n->type, sizeof(n->type), "node");
	snprintf(n->status, sizeof(n->status), "%s", offline ? "offline" : "online");
	snprintf(n->connection_health, sizeof(n->connection_health), "%s",
	    offline ? "error" : cluster ? "degraded" : "healthy");
	if (cluster) {
		n->is_cluster_member = 1;
		snprintf(n->cluster_name, sizeof(n->cluster_name), "%s", cluster);
	}
	n->cpu_cores = cores[between(0, 7)];
	n->cpu_sockets = n->cpu_cores >= 8 ? n->cpu_cores / 4 : 1;
	n->cpu_mhz = 2400;
	snprintf(n->cpu_model, sizeof(n->cpu_model), "Intel(R) Xeon(R) Gold 6%02d",
	    (int)between(10, 99));
	snprintf(n->kernel_version, sizeof(n->kernel_version), "Linux 6.8.12-%d-pve", (int)between(1, 9));
	snprintf(n->pve_version, sizeof(n->pve_version), "pve-manager/8.%d.%d/mock",
	    (int)between(0, 3), (int)between(0, 9));
	if (!offline) {
		n->cpu = (high_load(c, name) ? 70 : between(5, 40)) / 100.0;
		st_memory_set(&n->memory, memtotal, (int64_t)((double)memtotal * between(30, 70) / 100.0));
		st_disk_set(&n->disk, between(500, 2499) * ((int64_t)1 << 30), 0);
		st_disk_set(&n->disk, n->disk.total, (int64_t)((double)n->disk.total * between(10, 60) / 100.0));
		n->uptime = between(86400, 86400 * 120);
		n->nload = 3;
		for (int i = 0; i < 3; i++)
			n->load[i] = (double)between(10, 300) / 100.0;
	}
	add_storage(s, inst, name, "local", "dir", "iso,vztmpl", 500LL << 30,
	    (double)between(10, 60) / 100.0, 0);
	add_storage(s, inst, name, "local-zfs", "zfspool", "images,rootdir", 1000LL << 30,
	    (double)between(10, 80) / 100.0, 0);

	vms = index == 0 ? c->vms_per_node : (int)between(c->vms_per_node / 2, c->vms_per_node + 2);
	lxcs = index == 0 ? c->lxcs_per_node : (int)between(c->lxcs_per_node / 2, c->lxcs_per_node + 3);
	for (int k = 0; k < vms + lxcs; k++) {
		struct st_guest *g = st_add_guest(s);
		int qemu = k < vms, stopped = offline || rnd() < c->stopped_percent;
		int64_t mem = qemu ? between(4, 31) * ((int64_t)1 << 30) : between(512, 8192) * ((int64_t)1 << 20);

		g->vmid = (*vmid)++;
		snprintf(g->type, sizeof(g->type), "%s", qemu ? "qemu" : "lxc");
		snprintf(g->id, sizeof(g->id), "%s:%s:%lld", inst, name, (long long)g->vmid);
		snprintf(g->name, sizeof(g->name), "%s-%s-%lld", qemu ? "vm" : "ct",
		    qemu ? "app" : "svc", (long long)g->vmid);
		snprintf(g->node, sizeof(g->node), "%s", name);
		snprintf(g->instance, sizeof(g->instance), "%s", inst);
		snprintf(g->status, sizeof(g->status), "%s", stopped ? "stopped" : "running");
		g->cpus = qemu ? between(1, 8) : between(1, 4);
		st_memory_set(&g->memory, mem, stopped ? 0 : (int64_t)((double)mem * between(30, 65) / 100.0));
		st_disk_set(&g->disk, between(8, 200) * ((int64_t)1 << 30), 0);
		if (!stopped) {
			st_disk_set(&g->disk, g->disk.total, (int64_t)((double)g->disk.total * between(10, 80) / 100.0));
			g->cpu = (qemu ? between(0, 25) : between(0, 12)) / 100.0;
			g->uptime = between(3600, 86400 * 60);
			if (qemu && rnd() < 0.1)
				g->disk.usage = -1;	/* agent not running */
		} else {
			g->disk.usage = offline ? -1 : 0;
		}
		if (!qemu) {
			struct st_disk root = g->disk;
			snprintf(root.mountpoint, sizeof(root.mountpoint), "/");
			snprintf(root.type, sizeof(root.type), "rootfs");
			st_guest_add_disk(g, &root);
		}
		snprintf(g->tags, sizeof(g->tags), "%s", rnd() < 0.3 ? "production" : "");
	}
}

static void
generate(const struct mock_config *c)
{
	int vmid = 100;
	int cluster_nodes = c->node_count > 2 ? c->node_count - 2 : c->node_count;
	char name[64];

	st_instance_free(&M.cluster);
	st_instance_free(&M.standalone);
	M.seed = 20260109u;
	snprintf(M.cluster.instance_id, sizeof(M.cluster.instance_id), "mock");
	for (int i = 0; i < cluster_nodes; i++) {
		snprintf(name, sizeof(name), "pve%d", i + 1);
		gen_node(&M.cluster, "mock-cluster", "mock-cluster", name, i == 2, i, c, &vmid);
	}
	if (cluster_nodes > 1) {
		add_storage(&M.cluster, "mock-cluster", "cluster", "cephfs-shared", "cephfs",
		    "backup,iso,vztmpl", 4000LL << 30, 0.35, 1);
		add_storage(&M.cluster, "mock-cluster", "cluster", "ceph-rbd-pool", "rbd",
		    "images,rootdir", 8000LL << 30, 0.45, 1);
		add_storage(&M.cluster, "mock-cluster", "cluster", "shared-storage", "nfs",
		    "backup,images", 2000LL << 30, 0.55, 1);
		for (int i = 0; i < M.cluster.nstorage; i++) {
			struct st_storage *st = &M.cluster.storage[i];
			if (!st->shared)
				continue;
			for (int k = 0; k < cluster_nodes; k++) {
				char id[160];
				snprintf(name, sizeof(name), "pve%d", k + 1);
				snprintf(id, sizeof(id), "mock-cluster-%s", name);
				st_storage_add_node(st, name, id);
			}
		}
	}
	st_add_health(&M.cluster, "mock-cluster", 1);
	for (int i = cluster_nodes; i < c->node_count; i++) {
		snprintf(name, sizeof(name), "standalone%d", i - cluster_nodes + 1);
		gen_node(&M.cluster, name, NULL, name, 0, i, c, &vmid);
		st_add_health(&M.cluster, name, 1);
	}
	M.generated = 1;
}

/* A random walk with a pull toward a centre, clamped (§6.3). */
static double
drift(double v, double step, double pull, double centre, double lo, double hi)
{
	v += (rnd() * 2 - 1) * step + (centre - v) * pull;
	return v < lo ? lo : v > hi ? hi : v;
}

static void
fluctuate(double now)
{
	struct st_instance *s = &M.cluster;

	for (int i = 0; i < s->nnodes; i++) {
		struct st_node *n = &s->nodes[i];
		n->last_seen = now;
		if (strcmp(n->status, "online") != 0)
			continue;
		n->cpu = drift(n->cpu * 100, 1.5, 0.05, 20, 5, 85) / 100.0;
		st_memory_set(&n->memory, n->memory.total, (int64_t)((double)n->memory.total *
		    drift(n->memory.usage, 1, 0.03, 50, 10, 85) / 100.0));
		n->uptime += 2;
	}
	for (int i = 0; i < s->nguests; i++) {
		struct st_guest *g = &s->guests[i];
		int qemu = strcmp(g->type, "qemu") == 0;
		g->last_seen = now;
		if (strcmp(g->status, "running") != 0)
			continue;
		g->cpu = drift(g->cpu * 100, qemu ? 2 : 1, qemu ? 0.08 : 0.10, qemu ? 15 : 8, 1,
		    qemu ? 85 : 75) / 100.0;
		st_memory_set(&g->memory, g->memory.total, (int64_t)((double)g->memory.total *
		    drift(g->memory.usage, qemu ? 1.5 : 1, 0.04, qemu ? 50 : 55, 10, 85) / 100.0));
		if (g->disk.usage >= 0 && rnd() < 0.05)
			st_disk_set(&g->disk, g->disk.total, (int64_t)((double)g->disk.total *
			    drift(g->disk.usage, 0.15, 0, g->disk.usage, 10, 90) / 100.0));
		if (rnd() < 0.15) {
			double r = rnd();
			g->disk_read = r < 0.6 ? 0 : (int64_t)(rnd() * 24 * 1048576);
			g->disk_write = r < 0.6 ? 0 : (int64_t)(rnd() * 8 * 1048576);
			g->net_in = rnd() < 0.5 ? 0 : (int64_t)(rnd() * 12 * 1048576);
			g->net_out = rnd() < 0.5 ? 0 : (int64_t)(rnd() * 6 * 1048576);
		}
		g->uptime += 2;
	}
}

static const struct db_stmt stmt_mock = {
	"mock_read", "SELECT enabled, config::text FROM pulse.mock_mode WHERE id = 1", 0,
};

static const struct db_stmt stmt_demo = {
	"mock_demo",
	"UPDATE pulse.mock_mode SET enabled = true, source = 'auto', updated_at = now() "
	"WHERE id = 1 AND source = 'initial' AND NOT EXISTS (SELECT 1 FROM pulse.instances)",
	0,
};

int
job_mock(struct worker *w, struct job *job)
{
	PGresult *res;
	int enabled;
	char err[256];
	struct mock_config c;

	(void)job;
	if (conf_bool("demo_mode")) {
		res = db_exec_stmt(w->db, &stmt_demo, NULL);
		if (res)
			PQclear(res);
	}
	res = db_exec_stmt(w->db, &stmt_mock, NULL);
	if (res == NULL)
		return -1;
	enabled = PQgetvalue(res, 0, 0)[0] == 't';
	if (!enabled) {
		PQclear(res);
		/* Once after a switch off, and once at start for rows an earlier worker left. */
		if (M.written || !M.cleared_once) {
			if (st_clear(w->db, "mock", err, sizeof(err)) != 0)
				return -1;
			M.written = 0;
			M.cleared_once = 1;
		}
		return 0;
	}
	if (!M.generated || strcmp(M.config_text, PQgetvalue(res, 0, 1)) != 0) {
		snprintf(M.config_text, sizeof(M.config_text), "%s", PQgetvalue(res, 0, 1));
		parse_config(M.config_text, &c);
		generate(&c);
		log_info("msg=\"mock estate generated\" nodes=%d guests=%d storage=%d", M.cluster.nnodes,
		    M.cluster.nguests, M.cluster.nstorage);
	} else {
		parse_config(M.config_text, &c);
		if (c.random_metrics)
			fluctuate(clock_wall());
	}
	PQclear(res);
	for (int i = 0; i < M.cluster.nnodes; i++)
		M.cluster.nodes[i].last_seen = clock_wall();
	for (int i = 0; i < M.cluster.nguests; i++)
		M.cluster.guests[i].last_seen = clock_wall();
	if (st_write(w->db, &M.cluster, err, sizeof(err)) != 0) {
		log_warn("msg=\"mock state write failed\" error=\"%s\"", err);
		return -1;
	}
	M.written = 1;
	return 0;
}

void
mock_free(void)
{
	st_instance_free(&M.cluster);
	st_instance_free(&M.standalone);
}
