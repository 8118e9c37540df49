/* mock.c: mock mode (state-proxmox.md §6): a generated estate (a five-node cluster with one
 * node offline, two standalone nodes, their VMs, containers and storage, their backups and
 * snapshots, one or two Backup Servers with backups, one or two Mail Gateways, and the agents
 * of src/agent_mock.c: generic hosts, Docker hosts, Kubernetes clusters) whose figures
 * drift like real ones, written through the same state tables as real polling, so every
 * endpoint and the UI work on it. A singleton job: one worker writes it. */
#include "config.h"

#include "agent_mock.h"
#include "alert_engine.h"
#include "conf.h"
#include "jsonutil.h"
#include "log.h"
#include "mockmode.h"
#include "poller.h"
#include "pve_detail.h"
#include "state.h"
#include "state_servers.h"
#include "util.h"
#include "worker.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct {
	int generated;
	char config_text[1024];		/* the config the estate was made from */
	struct st_instance cluster, standalone;	/* the estate, fluctuated in place */
	struct st_backups backups;	/* PVE backups, tasks and snapshots */
	struct st_pbs pbs[2];
	struct st_pbs_backups pbs_backups[2];
	int npbs;
	struct st_pmg pmg[2];
	struct st_pmg_backups pmg_backups[2];
	int npmg;
	struct agent_mock agents;	/* host agents, Docker hosts, Kubernetes clusters */
	int servers_due;		/* PBS/PMG rows (and all backups) must be written */
	unsigned ticks;
	double recorded_at;		/* when metrics samples were last recorded */
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

static void gen_extras(void);

static int
high_load(const struct mockmode_config *c, const char *node)
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

/* Sensor readings of an online node (§6.2): the CPU package at 40-75 °C (now and then
 * hotter), each core within 5 °C of it, 0-2 NVMe drives; about one node in ten has no
 * sensors. Generated whatever the setting, so the estate is the same either way; shown only
 * while the temperatureMonitoringEnabled setting is on. */
static void
gen_temperature(struct st_node *n, int offline)
{
	struct st_temperature *t = &n->temperature;
	int sensors = rnd() >= 0.1;

	memset(t, 0, sizeof(*t));
	t->cpu_package = 40 + rnd() * 35;
	if (rnd() < 0.1)
		t->cpu_package = 75 + rnd() * 15;
	t->ncores = (int)(n->cpu_cores < (int64_t)ARRAY_LEN(t->cores) ? n->cpu_cores :
	    (int64_t)ARRAY_LEN(t->cores));
	for (int i = 0; i < t->ncores; i++)
		t->cores[i] = t->cpu_package + (rnd() - 0.5) * 10;
	t->nnvme = (int)between(0, 2);
	for (int i = 0; i < t->nnvme; i++)
		t->nvme[i] = 35 + rnd() * 40;
	t->available = sensors && !offline && poll_settings.temperature_enabled;
}

/* The hottest reading is cpuMax; readings stamped now. */
static void
temperature_settle(struct st_temperature *t, double now)
{
	t->cpu_max = t->cpu_package;
	for (int i = 0; i < t->ncores; i++)
		if (t->cores[i] > t->cpu_max)
			t->cpu_max = t->cores[i];
	t->last_update = now;
}

/* Bytes per second of a running guest: mostly quiet, a few busy, never exactly 0 (some
 * traffic always flows); containers about half a VM's. */
static int64_t
io_rate(double max_mib)
{
	double r = rnd();

	return 4096 + (int64_t)(r * r * r * max_mib * 1048576);
}

static void
gen_io(struct st_guest *g, int qemu)
{
	double scale = qemu ? 1 : 0.5;

	g->disk_read = io_rate(24 * scale);
	g->disk_write = io_rate(8 * scale);
	g->net_in = io_rate(12 * scale);
	g->net_out = io_rate(6 * scale);
}

static void
gen_node(struct st_instance *s, const char *inst, const char *cluster, const char *name,
    int offline, int index, const struct mockmode_config *c, int *vmid)
{
	static const int64_t cores[] = {4, 8, 12, 16, 24, 32, 48, 64};
	struct st_node *n = st_add_node(s);
	int64_t memtotal = between(32, 127) * ((int64_t)1 << 30);
	int vms, lxcs;

	snprintf(n->id, sizeof(n->id), "%s-%s", inst, name);
	snprintf(n->node, sizeof(n->node), "%s", name);
	snprintf(n->instance, sizeof(n->instance), "%s", inst);
	snprintf(n->host, sizeof(n->host), "https://%s.local:8006", name);
	/* The original's mock sets no label: a node is shown by its name. */
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
	gen_temperature(n, offline);
	temperature_settle(&n->temperature, clock_wall());
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
		g->id = st_textf(s, "%s:%s:%lld", inst, name, (long long)g->vmid);
		g->name = st_textf(s, "%s-%s-%lld", qemu ? "vm" : "ct",
		    qemu ? "app" : "svc", (long long)g->vmid);
		snprintf(g->node, sizeof(g->node), "%s", name);
		g->instance = st_instance_name(s, inst);
		snprintf(g->status, sizeof(g->status), "%s", stopped ? "stopped" : "running");
		g->cpus = qemu ? between(1, 8) : between(1, 4);
		st_memory_set(&g->memory, mem, stopped ? 0 : (int64_t)((double)mem * between(30, 65) / 100.0));
		st_space_set(&g->disk, between(8, 200) * ((int64_t)1 << 30), 0);
		if (!stopped) {
			st_space_set(&g->disk, g->disk.total, (int64_t)((double)g->disk.total * between(10, 80) / 100.0));
			g->cpu = (qemu ? between(0, 25) : between(0, 12)) / 100.0;
			g->uptime = between(3600, 86400 * 60);
			gen_io(g, qemu);
			if (qemu && rnd() < 0.1)
				st_guest_disk_unknown(g, "agent-not-running");
		} else if (qemu) {
			st_guest_disk_unknown(g, "vm-stopped");
		}	/* a stopped container: nothing used, as the real poller shows it */
		if (!qemu && g->disk.usage >= 0) {
			struct st_disk root = {0};
			st_disk_figures(&root, &g->disk);
			snprintf(root.mountpoint, sizeof(root.mountpoint), "/");
			snprintf(root.type, sizeof(root.type), "rootfs");
			st_guest_add_disk(g, &root);
		}
		g->tags = rnd() < 0.3 ? "production" : NULL;	/* a literal: it outlives s */
	}
}

static void
generate(const struct mockmode_config *c)
{
	int vmid = 100;
	int cluster_nodes = c->node_count > 2 ? c->node_count - 2 : c->node_count;
	char name[64];

	st_instance_free(&M.cluster);
	st_instance_free(&M.standalone);
	M.seed = 20260109u;
	snprintf(M.cluster.instance_id, sizeof(M.cluster.instance_id), "mock");
	M.cluster.mock = 1;
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
	gen_extras();
	/* A seed of their own: the agents leave the Proxmox estate as it was. */
	agent_mock_generate(&M.agents, 20260112u, clock_wall());
	M.generated = 1;
}

/* A random walk with a pull toward a centre, clamped (§6.3). */
static double
drift(double v, double step, double pull, double centre, double lo, double hi)
{
	v += (rnd() * 2 - 1) * step + (centre - v) * pull;
	return v < lo ? lo : v > hi ? hi : v;
}

/* A few resources above the default alert thresholds, so that mock mode shows alerts of its
 * own: the first node's memory at 92 %, the first storage at 90 % (the stopped guests give
 * powered-off alerts). */
static void
pin_alerting(void)
{
	struct st_instance *s = &M.cluster;

	if (s->nnodes > 0 && strcmp(s->nodes[0].status, "online") == 0)
		st_memory_set(&s->nodes[0].memory, s->nodes[0].memory.total,
		    (int64_t)((double)s->nodes[0].memory.total * 0.92));
	for (int i = 0; i < s->nstorage; i++)
		if (s->storage[i].total > 0) {
			s->storage[i].used = (int64_t)((double)s->storage[i].total * 0.90);
			s->storage[i].avail = s->storage[i].total - s->storage[i].used;
			break;
		}
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
		if (n->temperature.ncores > 0) {
			struct st_temperature *t = &n->temperature;
			double was = t->cpu_package;
			t->cpu_package = drift(t->cpu_package, 0.8, 0.02, 55, 35, 92);
			for (int k = 0; k < t->ncores; k++)
				t->cores[k] = drift(t->cores[k] + t->cpu_package - was, 0.3, 0.05,
				    t->cpu_package, t->cpu_package - 5, t->cpu_package + 5);
			for (int k = 0; k < t->nnvme; k++)
				t->nvme[k] = drift(t->nvme[k], 0.5, 0.02, 50, 30, 85);
			temperature_settle(t, now);
		}
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
			st_space_set(&g->disk, g->disk.total, (int64_t)((double)g->disk.total *
			    drift(g->disk.usage, 0.15, 0, g->disk.usage, 10, 90) / 100.0));
		if (rnd() < 0.15)
			gen_io(g, qemu);
		g->uptime += 2;
	}
}

/* --- backups, Backup Servers, Mail Gateways -------------------------------------------- */

static void
stamp(double t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, len, "%Y_%m_%d-%H_%M_%S", &tm);
}

static void
free_extras(void)
{
	st_backups_free(&M.backups);
	for (int i = 0; i < M.npbs; i++) {
		st_pbs_free(&M.pbs[i]);
		st_pbs_backups_free(&M.pbs_backups[i]);
	}
	for (int i = 0; i < M.npmg; i++) {
		st_pmg_free(&M.pmg[i]);
		st_pmg_backups_free(&M.pmg_backups[i]);
	}
	memset(M.pbs, 0, sizeof(M.pbs));
	memset(M.pbs_backups, 0, sizeof(M.pbs_backups));
	memset(M.pmg, 0, sizeof(M.pmg));
	memset(M.pmg_backups, 0, sizeof(M.pmg_backups));
	M.npbs = M.npmg = 0;
}

/* Local backups for ~60 % of guests (1-3 within 30 days, the newest with its vzdump task)
 * and snapshots for ~40 % of VMs (1-3 within 90 days). */
static void
gen_pve_backups(double now)
{
	snprintf(M.backups.instance_id, sizeof(M.backups.instance_id), "mock");
	M.backups.mock = 1;
	for (int i = 0; i < M.cluster.nguests; i++) {
		struct st_guest *g = &M.cluster.guests[i];
		int qemu = strcmp(g->type, "qemu") == 0;

		if (rnd() < 0.6) {
			int n = (int)between(1, 3);
			double newest = 0;
			for (int k = 0; k < n; k++) {
				struct st_storage_backup *b = st_add_storage_backup(&M.backups);
				double t = now - (double)between(3600, 30 * 86400);
				char when[32];
				stamp(t, when, sizeof(when));
				b->volid = st_btextf(&M.backups, "local:backup/vzdump-%s-%lld-%s.%s",
				    qemu ? "qemu" : "lxc", (long long)g->vmid, when, qemu ? "vma.zst" : "tar.zst");
				b->id = st_btextf(&M.backups, "%s-%s", g->instance, b->volid);
				b->storage = "local";
				snprintf(b->node, sizeof(b->node), "%s", g->node);
				b->instance = st_btext(&M.backups, g->instance);
				snprintf(b->type, sizeof(b->type), "%s", g->type);
				snprintf(b->format, sizeof(b->format), "%s", qemu ? "vma.zst" : "tar.zst");
				b->vmid = g->vmid;
				b->ctime = t;
				b->size = (int64_t)((double)g->disk.total * (0.1 + rnd() * 0.4));
				b->protected_ = rnd() < 0.1;
				if (t > newest)
					newest = t;
			}
			{
				struct st_backup_task *t = st_add_task(&M.backups);
				t->id = st_btextf(&M.backups, "%s-UPID:%s:%08X:%08X:%08X:vzdump:%lld:root@pam:",
				    g->instance, g->node, (unsigned)between(1000, 99999), (unsigned)between(1, 1 << 30),
				    (unsigned)newest, (long long)g->vmid);
				snprintf(t->node, sizeof(t->node), "%s", g->node);
				t->instance = st_btext(&M.backups, g->instance);
				t->status = rnd() < 0.9 ? "OK" :
				    "ERROR: backup write data failed: No space left on device";
				t->vmid = g->vmid;
				t->start = newest;
				t->end = newest + (double)between(30, 1800);
			}
		}
		if (qemu && rnd() < 0.4) {
			int n = (int)between(1, 3);
			static const char *const names[] = {"before-upgrade", "weekly", "pre-migration"};
			for (int k = 0; k < n; k++) {
				struct st_snapshot *sn = st_add_snapshot(&M.backups);
				sn->name = names[k];
				sn->id = st_btextf(&M.backups, "%s-%s-%lld-%s", g->instance, g->node,
				    (long long)g->vmid, sn->name);
				snprintf(sn->node, sizeof(sn->node), "%s", g->node);
				sn->instance = st_btext(&M.backups, g->instance);
				snprintf(sn->type, sizeof(sn->type), "qemu");
				sn->description = st_btextf(&M.backups, "mock snapshot %d", k + 1);
				if (k > 0)
					sn->parent = names[k - 1];
				sn->vmid = g->vmid;
				sn->time = now - (double)between(3600, 90 * 86400);
				sn->vmstate = 1;
			}
		}
	}
}

static void
gen_pbs(const char *name, const char *const *stores, const int64_t *sizes, int nstores, double now)
{
	struct st_pbs *p = &M.pbs[M.npbs];
	struct st_pbs_backups *pb = &M.pbs_backups[M.npbs];

	memset(p, 0, sizeof(*p));
	snprintf(p->instance_id, sizeof(p->instance_id), "mock-%s", name);
	p->mock = 1;
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->host, sizeof(p->host), "https://%s.mock.lan:8007", name);
	snprintf(p->status, sizeof(p->status), "online");
	snprintf(p->version, sizeof(p->version), "3.%d.%d", (int)between(2, 4), (int)between(1, 9));
	snprintf(p->health, sizeof(p->health), "healthy");
	p->cpu = (double)between(10, 35);	/* percent, as the original's */
	p->memory_total = between(32, 128) * ((int64_t)1 << 30);
	p->memory_used = (int64_t)((double)p->memory_total * between(20, 70) / 100.0);
	p->memory_usage = (double)p->memory_used * 100.0 / (double)p->memory_total;
	p->uptime = between(86400, 86400 * 200);
	p->last_seen = now;
	p->have_datastores = 1;
	for (int i = 0; i < nstores; i++) {
		struct st_pbs_datastore *d = st_pbs_add_datastore(p);
		snprintf(d->name, sizeof(d->name), "%s", stores[i]);
		snprintf(d->status, sizeof(d->status), "available");
		d->total = sizes[i];
		d->used = (int64_t)((double)d->total * between(20, 75) / 100.0);
		d->avail = d->total - d->used;
		d->dedup = (double)between(120, 900) / 100.0;
		st_pbs_datastore_add_ns(d, "", "");
	}
	/* Backups of about half the guests, 2-4 each, in the first datastore. */
	snprintf(pb->instance_id, sizeof(pb->instance_id), "mock-%s", name);
	pb->mock = 1;
	for (int i = 0; i < M.cluster.nguests; i++) {
		struct st_guest *g = &M.cluster.guests[i];
		int qemu = strcmp(g->type, "qemu") == 0, n;
		if (rnd() >= 0.5)
			continue;
		n = (int)between(2, 4);
		for (int k = 0; k < n; k++) {
			struct st_pbs_backup *b = st_pbs_add_backup(pb);
			double t = (double)((int64_t)(now - (double)between(3600, 30 * 86400)));
			snprintf(b->backup_type, sizeof(b->backup_type), "%s", qemu ? "vm" : "ct");
			snprintf(b->backup_id, sizeof(b->backup_id), "%lld", (long long)g->vmid);
			snprintf(b->id, sizeof(b->id), "pbs-%s-%s--%s-%s-%lld", name, stores[0], b->backup_type,
			    b->backup_id, (long long)t);
			snprintf(b->instance, sizeof(b->instance), "%s", name);
			snprintf(b->datastore, sizeof(b->datastore), "%s", stores[0]);
			snprintf(b->owner, sizeof(b->owner), "root@pam");
			b->backup_time = t;
			b->size = (int64_t)((double)g->disk.total * (0.1 + rnd() * 0.4));
			b->verified = rnd() < 0.9;
			b->protected_ = rnd() < 0.05;
			st_pbs_backup_add_file(b, "index.json.blob");
			st_pbs_backup_add_file(b, qemu ? "drive-scsi0.img.fidx" : "root.pxar.didx");
		}
	}
	M.npbs++;
}

static void
pmg_counts(struct st_pmg *p, double now)
{
	double day_in = (double)between(2000, 20000);

	p->has_mail = 1;
	p->mail[PMG_IN] = day_in;
	p->mail[PMG_OUT] = floor(day_in * (double)between(20, 45) / 100.0);
	p->mail[PMG_COUNT] = p->mail[PMG_IN] + p->mail[PMG_OUT];
	p->mail[PMG_SPAM_IN] = floor(day_in * (double)between(10, 35) / 100.0);
	p->mail[PMG_SPAM_OUT] = (double)between(0, 5);
	p->mail[PMG_VIRUS_IN] = (double)between(0, 20);
	p->mail[PMG_BOUNCES_IN] = (double)between(0, 50);
	p->mail[PMG_BOUNCES_OUT] = (double)between(0, 30);
	p->mail[PMG_BYTES_IN] = day_in * (double)between(20000, 80000);
	p->mail[PMG_BYTES_OUT] = p->mail[PMG_OUT] * (double)between(15000, 50000);
	p->mail[PMG_GREYLIST] = (double)between(50, 600);
	p->mail[PMG_JUNK_IN] = floor(p->mail[PMG_SPAM_IN] / 3);
	p->mail[PMG_AVG_MS] = (double)between(400, 3000);
	p->mail[PMG_RBL] = (double)between(20, 400);
	p->mail[PMG_PREGREET] = (double)between(5, 120);
	p->mail_updated = now;
}

static void
gen_pmg(const char *name, double now)
{
	struct st_pmg *p = &M.pmg[M.npmg];
	struct st_pmg_backups *pb = &M.pmg_backups[M.npmg];
	struct st_pmg_node *n = NULL;
	double hour = floor(now / 3600) * 3600;

	memset(p, 0, sizeof(*p));
	snprintf(p->instance_id, sizeof(p->instance_id), "mock-%s", name);
	p->mock = 1;
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->host, sizeof(p->host), "https://%s.mock.lan:8006",
	    strcmp(name, "pmg-main") == 0 ? "pmg" : name);
	snprintf(p->status, sizeof(p->status), "online");
	snprintf(p->version, sizeof(p->version), "8.%d", (int)between(0, 2));
	snprintf(p->health, sizeof(p->health), "healthy");
	p->last_seen = p->last_updated = now;
	n = st_pmg_add_node(p);
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->status, sizeof(n->status), "master");
	snprintf(n->role, sizeof(n->role), "master");
	n->has_queue = 1;
	n->queue.active = between(0, 5);
	n->queue.deferred = between(0, 40);
	n->queue.hold = between(0, 2);
	n->queue.incoming = between(0, 3);
	n->queue.total = n->queue.active + n->queue.deferred + n->queue.hold + n->queue.incoming;
	n->queue.oldest_age = n->queue.total ? between(60, 7200) : 0;
	n->queue.updated = now;
	pmg_counts(p, now);
	for (int h = 23; h >= 0; h--) {
		struct st_pmg_point *pt = st_pmg_add_point(p);
		pt->time = hour - h * 3600.0;
		pt->index = 23 - h;
		for (int k = 0; k < PMG_NSTATS; k++)
			pt->v[k] = floor(p->mail[k] / 24.0 * (0.5 + rnd()));
		pt->v[PMG_AVG_MS] = 0;
		pt->v[PMG_BYTES_IN] = pt->v[PMG_BYTES_OUT] = pt->v[PMG_JUNK_IN] = 0;
	}
	for (int sc = 0; sc <= 10; sc++) {
		struct st_pmg_spam *sp = st_pmg_add_spam(p);
		snprintf(sp->score, sizeof(sp->score), "%d", sc);
		sp->count = floor(p->mail[PMG_IN] * (sc == 0 ? 0.6 : 0.04) * (0.5 + rnd()));
	}
	p->has_quarantine = 1;
	p->q_spam = between(20, 400);
	p->q_virus = between(0, 15);
	p->q_attachment = between(0, 30);
	p->q_blacklisted = between(0, 10);
	snprintf(pb->instance_id, sizeof(pb->instance_id), "mock-%s", name);
	/* Nightly at 02:00 UTC, the last three kept. */
	double newest = floor(now / 86400) * 86400 + 7200;
	if (newest > now)
		newest -= 86400;
	for (int d = 0; d < 3; d++) {
		struct st_pmg_backup *b = st_pmg_add_backup(pb);
		double t = newest - d * 86400.0;
		snprintf(b->id, sizeof(b->id), "pmg-%s-%s-%lld", name, name, (long long)t);
		snprintf(b->instance, sizeof(b->instance), "%s", name);
		snprintf(b->node, sizeof(b->node), "%s", name);
		snprintf(b->filename, sizeof(b->filename), "pmg-backup_%lld.tgz", (long long)t);
		b->time = t;
		b->size = between(150000, 250000);
	}
	M.npmg++;
}

/* Physical disks (1-3 a node), the cluster's Ceph and up to eight replication jobs (§6.2),
 * built with the same JSON as polled ones. */
static void
gen_pve_details(double now)
{
	struct st_instance *s = &M.cluster;
	static const char *const models[] = {"Samsung SSD 870 EVO 1TB", "WDC WD40EFRX-68N32N0",
	    "Samsung SSD 980 PRO 2TB"};
	static const char *const types[] = {"ssd", "hdd", "nvme"};
	int jobs = 0;

	for (int i = 0; i < s->nnodes; i++) {
		struct st_node *n = &s->nodes[i];
		int nd = (int)between(1, 3);
		for (int k = 0; k < nd; k++) {
			struct pve_physical_disk d;
			struct st_disk_row *r = st_add_disk_row(s);
			memset(&d, 0, sizeof(d));
			snprintf(d.dev_path, sizeof(d.dev_path), k == 2 ? "/dev/nvme0n1" : "/dev/sd%c", 'a' + k);
			snprintf(d.model, sizeof(d.model), "%s", models[k]);
			snprintf(d.serial, sizeof(d.serial), "MOCK%s%d%04d", n->node, k, (int)between(0, 9999));
			snprintf(d.type, sizeof(d.type), "%s", types[k]);
			snprintf(d.health, sizeof(d.health), "%s", rnd() < 0.05 ? "FAILED" : "PASSED");
			snprintf(d.used, sizeof(d.used), "%s", k == 0 ? "LVM" : "ZFS");
			d.size = k == 1 ? 4000787030016LL : 1000204886016LL;
			d.wearout = k == 1 ? -1 : (int)between(70, 100);
			d.rpm = k == 1 ? 5400 : 0;
			r->doc = pve_physical_disk_json(&d, n->instance, n->node, now);
			snprintf(r->id, sizeof(r->id), "%s", json_object_get_string(json_object_object_get(r->doc, "id")));
			snprintf(r->node, sizeof(r->node), "%s", n->node);
			snprintf(r->dev_path, sizeof(r->dev_path), "%s", d.dev_path);
			snprintf(r->model, sizeof(r->model), "%s", d.model);
			snprintf(r->serial, sizeof(r->serial), "%s", d.serial);
			snprintf(r->type, sizeof(r->type), "%s", d.type);
			snprintf(r->health, sizeof(r->health), "%s", d.health);
			r->size = d.size;
			r->wearout = d.wearout;
		}
	}
	if (s->nnodes > 2) {
		struct pve_ceph_cluster *c = xcalloc(1, sizeof(*c));
		struct st_ceph_row *r = st_add_ceph_row(s);
		snprintf(c->fsid, sizeof(c->fsid), "5eed0000-0000-4000-8000-00000000%04d", (int)between(0, 9999));
		snprintf(c->health, sizeof(c->health), "HEALTH_OK");
		c->total_bytes = 12000LL << 30;
		c->used_bytes = (int64_t)((double)c->total_bytes * between(20, 60) / 100.0);
		c->available_bytes = c->total_bytes - c->used_bytes;
		c->usage_percent = (double)c->used_bytes * 100.0 / (double)c->total_bytes;
		c->num_mons = 3;
		c->num_mgrs = 2;
		/* the services the counts come from, as a real cluster's (sorted by type) */
		c->nservices = 2;
		snprintf(c->services[0].type, sizeof(c->services[0].type), "mgr");
		c->services[0].running = c->services[0].total = c->num_mgrs;
		snprintf(c->services[1].type, sizeof(c->services[1].type), "mon");
		c->services[1].running = c->services[1].total = c->num_mons;
		c->num_osds = c->num_osds_up = c->num_osds_in = 2 * s->nnodes;
		c->num_pgs = 256;
		c->npools = 2;
		snprintf(c->pools[0].name, sizeof(c->pools[0].name), "ceph-rbd-pool");
		snprintf(c->pools[1].name, sizeof(c->pools[1].name), "cephfs_data");
		for (int k = 0; k < 2; k++) {
			c->pools[k].id = k + 1;
			c->pools[k].stored_bytes = c->used_bytes / 6;
			c->pools[k].available_bytes = c->available_bytes / 3;
			c->pools[k].objects = between(10000, 90000);
			c->pools[k].percent_used = (double)c->pools[k].stored_bytes * 100.0 /
			    (double)(c->pools[k].stored_bytes + c->pools[k].available_bytes);
		}
		r->doc = pve_ceph_cluster_json(c, "mock-cluster", now);
		snprintf(r->id, sizeof(r->id), "%s", json_object_get_string(json_object_object_get(r->doc, "id")));
		snprintf(r->fsid, sizeof(r->fsid), "%s", c->fsid);
		snprintf(r->health, sizeof(r->health), "%s", c->health);
		r->total = c->total_bytes;
		r->used = c->used_bytes;
		r->num_osds = r->num_osds_up = c->num_osds;
		free(c);
	}
	for (int i = 0; i < s->nguests && jobs < 8; i++) {
		struct st_guest *g = &s->guests[i];
		struct pve_replication_job j;
		struct st_repl_row *r;
		if (strcmp(g->type, "qemu") != 0 || strcmp(g->instance, "mock-cluster") != 0 || rnd() > 0.3)
			continue;
		memset(&j, 0, sizeof(j));
		snprintf(j.id, sizeof(j.id), "%lld-0", (long long)g->vmid);
		snprintf(j.guest, sizeof(j.guest), "%lld", (long long)g->vmid);
		snprintf(j.source, sizeof(j.source), "%s", g->node);
		snprintf(j.target, sizeof(j.target), "%s", strcmp(g->node, "pve1") == 0 ? "pve2" : "pve1");
		snprintf(j.schedule, sizeof(j.schedule), "*/15");
		snprintf(j.type, sizeof(j.type), "local");
		snprintf(j.state, sizeof(j.state), "%s", rnd() < 0.1 ? "error" : "idle");
		j.guest_id = g->vmid;
		j.enabled = 1;
		j.last_sync_unix = (int64_t)now - between(60, 900);
		j.next_sync_unix = j.last_sync_unix + 900;
		j.duration_seconds = j.last_sync_duration_seconds = between(2, 60);
		if (strcmp(j.state, "error") == 0) {
			j.fail_count = between(1, 3);
			snprintf(j.error, sizeof(j.error), "import failed: dataset is busy");
		}
		pve_replication_resolve(&j, "mock-cluster", jobs, g->name, g->type, g->node);
		r = st_add_repl_row(s);
		snprintf(r->id, sizeof(r->id), "%s", j.unique_id);
		snprintf(r->job_id, sizeof(r->job_id), "%s", j.job_id);
		snprintf(r->source, sizeof(r->source), "%s", j.source_node);
		snprintf(r->target, sizeof(r->target), "%s", j.target_node);
		snprintf(r->state, sizeof(r->state), "%s", j.state);
		snprintf(r->error, sizeof(r->error), "%s", j.error);
		r->guest_id = j.guest_id;
		r->last_sync = (double)j.last_sync_unix;
		r->next_sync = (double)j.next_sync_unix;
		r->fail_count = (int)j.fail_count;
		r->sort = jobs++;
		r->doc = pve_replication_job_json(&j, now);
	}
}

static int
by_ctime_desc(const void *a, const void *b)
{
	double x = ((const struct st_storage_backup *)a)->ctime, y = ((const struct st_storage_backup *)b)->ctime;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* Each guest's lastBackup from the backups the estate holds, as the poller does: its newest
 * volume on its own instance's storage or snapshot of its VMID on a Backup Server, none
 * without either. */
static void
mock_last_backups(void)
{
	for (int i = 0; i < M.cluster.nguests; i++) {
		struct st_guest *g = &M.cluster.guests[i];
		char vmid[24];

		g->last_backup = 0;
		for (int k = 0; k < M.backups.nstorage; k++) {
			const struct st_storage_backup *b = &M.backups.storage[k];
			if (b->vmid == g->vmid && strcmp(b->instance, g->instance) == 0 && b->ctime > g->last_backup)
				g->last_backup = b->ctime;
		}
		snprintf(vmid, sizeof(vmid), "%lld", (long long)g->vmid);
		for (int p = 0; p < M.npbs; p++) {
			for (int k = 0; k < M.pbs_backups[p].n; k++) {
				const struct st_pbs_backup *b = &M.pbs_backups[p].items[k];
				if (strcmp(b->backup_id, vmid) == 0 && strcmp(b->backup_type, "host") != 0 &&
				    b->backup_time > g->last_backup)
					g->last_backup = b->backup_time;
			}
		}
	}
}

static void
gen_extras(void)
{
	double now = clock_wall();
	static const char *const main_stores[] = {"backup-store", "offsite-backup"};
	static const int64_t main_sizes[] = {10LL * 1000 * 1000 * 1000 * 1000, 20LL * 1000 * 1000 * 1000 * 1000};
	static const char *const replica[] = {"replica-store"};
	static const int64_t replica_size[] = {15LL * 1000 * 1000 * 1000 * 1000};

	free_extras();
	gen_pve_details(now);
	gen_pve_backups(now);
	qsort(M.backups.storage, (size_t)M.backups.nstorage, sizeof(*M.backups.storage), by_ctime_desc);
	gen_pbs("pbs-main", main_stores, main_sizes, 2, now);
	if (rnd() < 0.6)
		gen_pbs("pbs-secondary", replica, replica_size, 1, now);
	gen_pmg("pmg-main", now);
	if (rnd() < 0.35)
		gen_pmg("pmg-edge", now);
	mock_last_backups();
	M.servers_due = 1;
}

/* PBS load and mail counters move a little (§6.3). */
static void
fluctuate_servers(double now)
{
	for (int i = 0; i < M.npbs; i++) {
		struct st_pbs *p = &M.pbs[i];
		p->cpu = drift(p->cpu, 2, 0.1, 20, 5, 60);
		p->memory_used = (int64_t)((double)p->memory_total *
		    drift(p->memory_usage, 1, 0.05, 45, 10, 85) / 100.0);
		p->memory_usage = (double)p->memory_used * 100.0 / (double)p->memory_total;
		p->uptime += 30;
		p->last_seen = now;
	}
	for (int i = 0; i < M.npmg; i++) {
		struct st_pmg *p = &M.pmg[i];
		for (int k = 0; k < PMG_NSTATS; k++)
			p->mail[k] = floor(p->mail[k] * (0.95 + rnd() * 0.1));
		p->q_spam = p->q_spam + between(-2, 3) < 0 ? 0 : p->q_spam + between(-2, 3);
		p->mail_updated = p->last_seen = p->last_updated = now;
	}
}

/* Writes the PBS and PMG rows; their backups and the PVE backups with the first write. */
static int
write_servers(struct worker *w, int with_backups, char *err, size_t errlen)
{
	if (with_backups) {
		/* A regenerated estate may have fewer servers: clear them all first. */
		if (mockmode_clear(w->db, 1, err, errlen) != 0)
			return -1;
		if (st_write_backups(w->db, &M.backups, err, errlen) != 0)
			return -1;
	}
	for (int i = 0; i < M.npbs; i++)
		if (st_write_pbs(w->db, &M.pbs[i], 1, err, errlen) != 0 ||
		    (with_backups && st_write_pbs_backups(w->db, &M.pbs_backups[i], err, errlen) != 0))
			return -1;
	for (int i = 0; i < M.npmg; i++)
		if (st_write_pmg(w->db, &M.pmg[i], with_backups ? &M.pmg_backups[i] : NULL, err, errlen) != 0)
			return -1;
	return 0;
}

/* The whole estate is one alert source: evaluated in one pass. */
static void
check_mock(struct alert_eval *e, const void *arg)
{
	(void)arg;
	alert_eval_pve(e, &M.cluster);
	alert_eval_backups(e, &M.cluster, &M.backups, NULL);
	for (int i = 0; i < M.npbs; i++)
		alert_eval_pbs(e, &M.pbs[i]);
	for (int i = 0; i < M.npmg; i++)
		alert_eval_pmg(e, &M.pmg[i]);
	agent_mock_alerts(e, &M.agents);
}

int
job_mock(struct worker *w, struct job *job)
{
	int enabled;
	char err[256], *config;
	struct mockmode_config c;

	(void)job;
	if (conf_bool("demo_mode"))
		(void)mockmode_demo_on(w->db);
	if (mockmode_read(w->db, &enabled, &config) != 0)
		return -1;
	if (!enabled) {
		free(config);
		/* Once after a switch off, and once at start for rows an earlier worker left. */
		if (M.written || !M.cleared_once) {
			struct st_instance none = {0};
			if (mockmode_clear(w->db, 0, err, sizeof(err)) != 0)
				return -1;
			/* The mock estate's alerts resolve with it. */
			(void)alerts_evaluate_pve(w, "mock", &none, NULL, 0, clock_wall());
			M.written = 0;
			M.cleared_once = 1;
			M.servers_due = 1;	/* everything again when switched back on */
		}
		return 0;
	}
	if (!M.generated || strcmp(M.config_text, config) != 0) {
		snprintf(M.config_text, sizeof(M.config_text), "%s", config);
		mockmode_config_parse(M.config_text, &c);
		generate(&c);
		log_info("msg=\"mock estate generated\" nodes=%d guests=%d storage=%d", M.cluster.nnodes,
		    M.cluster.nguests, M.cluster.nstorage);
	} else {
		mockmode_config_parse(M.config_text, &c);
		if (c.random_metrics)
			fluctuate(clock_wall());
		/* The servers every 30 s (15 ticks of 2 s). */
		if (++M.ticks % 15 == 0) {
			if (c.random_metrics)
				fluctuate_servers(clock_wall());
			if (!M.servers_due)
				M.servers_due = 2;
		}
	}
	free(config);
	pin_alerting();
	for (int i = 0; i < M.cluster.nnodes; i++)
		M.cluster.nodes[i].last_seen = M.cluster.nodes[i].temperature.last_update = clock_wall();
	for (int i = 0; i < M.cluster.nguests; i++)
		M.cluster.guests[i].last_seen = clock_wall();
	/* Metrics history every 10 s, like a poll at the default interval. */
	if (clock_wall() - M.recorded_at >= 10) {
		M.recorded_at = clock_wall();
		metrics_record_instance(&M.cluster, M.recorded_at);
		for (int i = 0; i < M.npbs; i++)
			metrics_record_pbs(&M.pbs[i], M.recorded_at);
		agent_mock_record(&M.agents, M.recorded_at, metrics_record);
	}
	if (st_write(w->db, &M.cluster, err, sizeof(err)) != 0) {
		log_warn("msg=\"mock state write failed\" error=\"%s\"", err);
		return -1;
	}
	M.written = 1;
	/* The agents report every tick, whatever randomMetrics says (§6.3). */
	agent_mock_fluctuate(&M.agents, clock_wall());
	if (agent_mock_write(w->db, &M.agents, err, sizeof(err)) != 0) {
		log_warn("msg=\"mock agents write failed\" error=\"%s\"", err);
		return -1;
	}
	(void)alerts_evaluate(w, "mock", check_mock, NULL, 0, clock_wall());
	/* Written after the first time a worker runs the job too: another worker may have
	 * cleared the rows while this one held other jobs. */
	if (M.servers_due || !M.cleared_once) {
		if (write_servers(w, M.servers_due == 1 || !M.cleared_once, err, sizeof(err)) != 0) {
			log_warn("msg=\"mock state write failed\" error=\"%s\"", err);
			return -1;
		}
		M.servers_due = 0;
		M.cleared_once = 1;
	}
	return 0;
}

void
mock_free(void)
{
	st_instance_free(&M.cluster);
	st_instance_free(&M.standalone);
	free_extras();
	agent_mock_free(&M.agents);
}
