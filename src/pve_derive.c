/* pve_derive.c: Proxmox VE answers to state rows (state-proxmox.md §2.6-§2.9, §1.7). */
#include "config.h"

#include "pve_derive.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- rates from counters (§2.9) ------------------------------------------------------- */

struct pve_rate_memo {
	char *id;			/* allocated: 88 bytes a guest, not 304 */
	int64_t c[4];			/* diskread, diskwrite, netin, netout */
	double at;
	int64_t rate[4];
	int have_rate;
	int seen;			/* since the last sweep */
};

static int
rate_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pve_rate_memo *)a)->id, ((const struct pve_rate_memo *)b)->id);
}

/* bsearch: the key is the id itself. */
static int
rate_cmp_id(const void *id, const void *m)
{
	return strcmp(id, ((const struct pve_rate_memo *)m)->id);
}

static struct pve_rate_memo *
rate_find(struct pve_rates *r, const char *id)
{
	struct pve_rate_memo *m;

	m = r->nsorted > 0 ? bsearch(id, r->v, (size_t)r->nsorted, sizeof(*r->v), rate_cmp_id) : NULL;
	if (m)
		return m;
	for (int i = r->nsorted; i < r->n; i++)
		if (strcmp(r->v[i].id, id) == 0)
			return &r->v[i];
	return NULL;
}

void
pve_rates_sweep(struct pve_rates *r)
{
	int o = 0;

	for (int i = 0; i < r->n; i++) {
		if (r->v[i].seen) {
			r->v[i].seen = 0;
			r->v[o++] = r->v[i];
		} else {
			free(r->v[i].id);
		}
	}
	r->n = o;
	if (r->n > 0)
		qsort(r->v, (size_t)r->n, sizeof(*r->v), rate_cmp);
	r->nsorted = r->n;
}

void
pve_rates_free(struct pve_rates *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->v[i].id);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

void
pve_rates_update(struct pve_rates *r, const char *id, const int64_t counters[4], double at,
    int64_t out[4])
{
	struct pve_rate_memo *m = rate_find(r, id);

	if (m == NULL) {
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 64;
			r->v = xrealloc(r->v, sizeof(*r->v) * (size_t)r->cap);
		}
		m = &r->v[r->n++];
		memset(m, 0, sizeof(*m));
		m->id = xstrdup(id);
		memcpy(m->c, counters, sizeof(m->c));
		m->at = at;
		m->seen = 1;
		memset(out, 0, sizeof(int64_t) * 4);
		return;
	}
	m->seen = 1;
	if (memcmp(m->c, counters, sizeof(m->c)) == 0 || at - m->at <= 0) {
		for (int k = 0; k < 4; k++)
			out[k] = m->have_rate ? m->rate[k] : 0;
		return;
	}
	for (int k = 0; k < 4; k++) {
		int64_t d = counters[k] - m->c[k];
		m->rate[k] = d > 0 ? (int64_t)((double)d / (at - m->at)) : 0;
		out[k] = m->rate[k];
	}
	m->have_rate = 1;
	memcpy(m->c, counters, sizeof(m->c));
	m->at = at;
}

/* --- nodes (§2.6) --------------------------------------------------------------------- */

void
pve_node_id(const struct instance_cfg *cfg, const char *node, char *out, size_t len)
{
	snprintf(out, len, "%s-%s", cfg->is_cluster && cfg->cluster_name[0] ? cfg->cluster_name :
	    cfg->name, node);
}

void
pve_derive_node_memory(const struct pve_node_facts *f, const struct pve_node_seen *seen,
    struct st_memory *out)
{
	const struct pve_node_status *s = &f->status;
	int64_t total = f->item.maxmem, used = f->item.mem, avail = 0;

	if (f->have_status && s->mem_total > 0) {
		total = s->mem_total;
		if (s->mem_available > 0)
			avail = s->mem_available;
		else if (s->mem_avail > 0)
			avail = s->mem_avail;
		else if (s->has_buffers || s->has_cached) {
			int64_t a = s->mem_free + s->mem_buffers + s->mem_cached;
			int64_t b = s->mem_total - s->mem_used;
			avail = a > b ? a : b;
			if (avail > total)
				avail = total;
		}
		if (avail <= 0 && f->have_rrd_available && f->rrd_available > 0)
			avail = (int64_t)f->rrd_available;
		if (avail > 0 && avail <= total)
			used = total - avail;
		else if (f->have_rrd_used && f->rrd_used > 0)
			used = (int64_t)f->rrd_used;
		else
			used = s->mem_used;
	} else if (!f->have_status && f->online && seen && seen->memory.total > 0) {
		/* Status failed this time: keep what the last poll saw, within the list's total. */
		total = f->item.maxmem > 0 ? f->item.maxmem : seen->memory.total;
		used = seen->memory.used;
	}
	st_memory_set(out, total, used);
}

/* Disk: the status's rootfs, else the list's disk, else the node's "local" storage, else
 * "local-lvm" (§2.5 row 3). */
static void
node_disk(const struct pve_node_facts *f, struct st_disk *disk)
{
	static const char *const names[] = {"local", "local-lvm"};

	if (f->have_status && f->status.rootfs_total > 0) {
		st_disk_set(disk, f->status.rootfs_total, f->status.rootfs_used);
		return;
	}
	if (f->item.maxdisk > 0) {
		st_disk_set(disk, f->item.maxdisk, f->item.disk);
		return;
	}
	for (size_t k = 0; k < ARRAY_LEN(names) && disk->total == 0; k++)
		for (int j = 0; j < f->nstorage; j++)
			if (strcmp(f->storage[j].storage, names[k]) == 0 && f->storage[j].total > 0)
				st_disk_set(disk, f->storage[j].total, f->storage[j].used);
}

void
pve_derive_node(const struct pve_node_context *ctx, const struct pve_node_facts *f,
    struct pve_node_seen *seen, double now, struct st_node *n)
{
	const struct instance_cfg *cfg = ctx->cfg;
	const char *inst = cfg->name;

	snprintf(n->node, sizeof(n->node), "%s", f->item.node);
	pve_node_id(cfg, f->item.node, n->id, sizeof(n->id));
	snprintf(n->instance, sizeof(n->instance), "%s", inst);
	snprintf(n->host, sizeof(n->host), "%s", cfg->host);
	if (!cfg->is_cluster && ctx->nnodes == 1)
		snprintf(n->display_name, sizeof(n->display_name), "%s", inst);
	else
		snprintf(n->display_name, sizeof(n->display_name), "%s", f->item.node);
	snprintf(n->type, sizeof(n->type), "node");
	/* A node that just dropped out is still shown online for a grace period (§2.4). */
	if (f->online) {
		if (seen)
			seen->last_online = now;
		snprintf(n->status, sizeof(n->status), "online");
	} else if (seen && seen->last_online > 0 && now - seen->last_online < ctx->grace) {
		snprintf(n->status, sizeof(n->status), "online");
	} else {
		snprintf(n->status, sizeof(n->status), "%s", f->item.status[0] ? f->item.status : "offline");
	}
	n->cpu = f->item.cpu;
	n->uptime = f->item.uptime;
	pve_derive_node_memory(f, seen, &n->memory);
	if (seen)
		seen->memory = n->memory;
	node_disk(f, &n->disk);
	if (f->have_status) {
		n->nload = f->status.nload;
		memcpy(n->load, f->status.load, sizeof(n->load));
		snprintf(n->kernel_version, sizeof(n->kernel_version), "%s", f->status.kversion);
		snprintf(n->pve_version, sizeof(n->pve_version), "%s", f->status.pveversion);
		snprintf(n->cpu_model, sizeof(n->cpu_model), "%s", f->status.cpu_model);
		n->cpu_sockets = f->status.cpu_sockets;
		n->cpu_mhz = f->status.cpu_mhz;
		if (f->status.uptime > 0)
			n->uptime = f->status.uptime;
	}
	n->cpu_cores = f->item.maxcpu > 0 ? f->item.maxcpu :
	    f->have_status ? f->status.cpu_cpus ? f->status.cpu_cpus : f->status.cpu_cores : 0;
	n->last_seen = now;
	snprintf(n->connection_health, sizeof(n->connection_health), "%s", ctx->health);
	if (ctx->url)
		snprintf(n->host, sizeof(n->host), "%s", ctx->url);
	n->is_cluster_member = cfg->is_cluster;
	snprintf(n->cluster_name, sizeof(n->cluster_name), "%s", cfg->cluster_name);
}

/* --- guests (§2.7, §2.8) -------------------------------------------------------------- */

void
pve_derive_vm_memory(const struct pve_guest_facts *f, struct st_memory *m)
{
	const struct pve_vm_status *v = &f->vm;
	int64_t total = f->item.maxmem, used = f->item.mem;

	if (f->have_vm) {
		if (v->maxmem > 0)
			total = v->maxmem;
		if (v->balloon > 0 && v->balloon < total)
			total = v->balloon;
		if (v->has_meminfo && (v->meminfo_available > 0 ||
		    v->meminfo_free + v->meminfo_buffers + v->meminfo_cached > 0)) {
			int64_t avail = v->meminfo_available > 0 ? v->meminfo_available :
			    v->meminfo_free + v->meminfo_buffers + v->meminfo_cached;
			if (avail > total)
				avail = total;
			used = total - avail;
		} else if (v->freemem > 0 && v->freemem <= total) {
			used = total - v->freemem;
		} else if (v->mem > 0) {
			used = v->mem;
		}
	}
	st_memory_set(m, total, used);
	if (f->have_vm && v->balloon > 0)
		m->balloon = v->balloon;
}

const char *
pve_vm_disk_reason(const struct pve_guest_facts *f, int running)
{
	if (!running)
		return "vm-stopped";
	if (!f->have_vm)
		return "no-status";
	if (!f->vm.agent)
		return "agent-disabled";
	if (f->fs_failure != NULL)
		return f->fs_failure;
	if (f->have_fs)
		return f->fs_listed == 0 ? "no-filesystems" : "special-filesystems-only";
	return "agent-error";		/* asked, but no answer came back */
}

/* A VM's memory and disks (the agent's filesystems when it gave some); its counters. */
static void
vm_figures(const struct pve_guest_facts *f, int running, struct st_guest *g, int64_t counters[4])
{
	const struct pve_guest_item *it = &f->item;

	pve_derive_vm_memory(f, &g->memory);
	st_space_set(&g->disk, it->maxdisk, it->disk);
	if (running && f->have_fs && f->nfs > 0) {
		int64_t total = 0, used = 0;
		for (int i = 0; i < f->nfs; i++) {
			struct st_disk d;
			memset(&d, 0, sizeof(d));
			st_disk_set(&d, f->fs[i].total, f->fs[i].used);
			snprintf(d.mountpoint, sizeof(d.mountpoint), "%s", f->fs[i].mountpoint);
			snprintf(d.type, sizeof(d.type), "%s", f->fs[i].type);
			snprintf(d.device, sizeof(d.device), "%s", f->fs[i].device);
			st_guest_add_disk(g, &d);
			total += f->fs[i].total;
			used += f->fs[i].used;
		}
		st_space_set(&g->disk, total, used);
	} else if (it->maxdisk > 0) {
		/* Only the allocated size is known. */
		st_guest_disk_unknown(g, pve_vm_disk_reason(f, running));
	}
	counters[0] = f->have_vm ? f->vm.diskread : it->diskread;
	counters[1] = f->have_vm ? f->vm.diskwrite : it->diskwrite;
	counters[2] = f->have_vm ? f->vm.netin : it->netin;
	counters[3] = f->have_vm ? f->vm.netout : it->netout;
}

/* A container's memory (RRD when running) and root disk; its counters. */
static void
ct_figures(const struct pve_guest_facts *f, int running, struct st_guest *g, int64_t counters[4])
{
	const struct pve_guest_item *it = &f->item;
	int64_t total = it->maxmem, used = it->mem;
	struct st_disk root = {0};

	if (running && f->have_rrd_available && f->rrd_available <= (double)total)
		used = total - (int64_t)f->rrd_available;
	else if (running && f->have_rrd_used)
		used = (int64_t)f->rrd_used;
	st_memory_set(&g->memory, total, running ? used : 0);
	st_space_set(&g->disk, it->maxdisk, it->disk);
	st_disk_figures(&root, &g->disk);
	snprintf(root.mountpoint, sizeof(root.mountpoint), "/");
	snprintf(root.type, sizeof(root.type), "rootfs");
	if (root.total > 0)
		st_guest_add_disk(g, &root);
	counters[0] = it->diskread;
	counters[1] = it->diskwrite;
	counters[2] = it->netin;
	counters[3] = it->netout;
}

void
pve_derive_guest(struct st_instance *s, const char *instance, const struct pve_guest_facts *f,
    struct pve_rates *rates, double now, struct st_guest *g)
{
	const struct pve_guest_item *it = &f->item;
	int running = strcmp(it->status, "running") == 0;
	int is_vm = strcmp(it->type, "qemu") == 0;
	int64_t counters[4], r[4];

	g->id = st_textf(s, "%s:%s:%lld", instance, it->node, (long long)it->vmid);
	g->name = st_str(s, it->name);
	snprintf(g->node, sizeof(g->node), "%s", it->node);
	g->instance = st_instance_name(s, instance);
	snprintf(g->status, sizeof(g->status), "%s", it->status);
	snprintf(g->type, sizeof(g->type), "%s", it->type);
	snprintf(g->lock, sizeof(g->lock), "%s", it->lock);
	g->vmid = it->vmid;
	g->cpus = it->maxcpu;
	g->cpu = running ? it->cpu : 0;
	g->uptime = it->uptime;
	g->last_seen = now;

	if (is_vm)
		vm_figures(f, running, g, counters);
	else
		ct_figures(f, running, g, counters);
	/* Rates over the time between the answers that carried the counters, not between
	 * cycle ends: a slow cycle must not read as less traffic. */
	pve_rates_update(rates, g->id, counters, f->have_vm && is_vm ? f->vm_at :
	    f->resources_at > 0 ? f->resources_at : now, r);
	if (running) {
		g->disk_read = r[0];
		g->disk_write = r[1];
		g->net_in = r[2];
		g->net_out = r[3];
	} else {
		/* Stopped: every live figure is zero (§2.7); a VM's disk stays unknown (-1,
		 * "vm-stopped") as the original shows it. */
		g->memory.used = 0;
		g->memory.usage = 0;
		g->memory.free = g->memory.total;
		if (!is_vm)
			g->disk.usage = 0;
	}
}

/* --- storage (§1.7) ------------------------------------------------------------------- */

/* Storage types that are shared whatever the flag says. */
static int
inherently_shared(const char *type)
{
	static const char *const shared[] = {"rbd", "cephfs", "pbs", "glusterfs", "nfs", "cifs",
	    "smb", "iscsi", "iscsidirect"};

	for (size_t i = 0; i < ARRAY_LEN(shared); i++)
		if (strcmp(type, shared[i]) == 0)
			return 1;
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The content list sorted alphabetically ("backup,images,iso"). */
static void
sorted_content(const char *in, char *out, size_t len)
{
	char copy[256], *parts[32], *save = NULL;
	int n = 0;
	size_t o = 0;

	snprintf(copy, sizeof(copy), "%s", in);
	for (char *t = strtok_r(copy, ",", &save); t && n < 32; t = strtok_r(NULL, ",", &save))
		parts[n++] = t;
	qsort(parts, (size_t)n, sizeof(char *), by_name);
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, len > o ? len - o : 0, "%s%s", i ? "," : "", parts[i]);
}

/* The row of one node's storage item: the instance's shared row (found or added, the node
 * listed in it), or a row of the node's own. */
static struct st_storage *
storage_row(const struct instance_cfg *cfg, const char *storage_instance, const char *node,
    const struct pve_storage_item *it, int shared, struct st_instance *s)
{
	struct st_storage *st = NULL;
	char nid[200];

	pve_node_id(cfg, node, nid, sizeof(nid));
	if (!shared) {
		st = st_add_storage(s);
		if (strcmp(cfg->name, node) == 0)
			snprintf(st->id, sizeof(st->id), "%s-%s", node, it->storage);
		else
			snprintf(st->id, sizeof(st->id), "%s-%s-%s", cfg->name, node, it->storage);
		snprintf(st->node, sizeof(st->node), "%s", node);
		return st;
	}
	{
		char id[320];
		snprintf(id, sizeof(id), "%s-cluster-%s", storage_instance, it->storage);
		for (int k = 0; k < s->nstorage; k++)
			if (strcmp(s->storage[k].id, id) == 0)
				st = &s->storage[k];
		if (st != NULL) {
			st_storage_add_node(st, node, nid);
			return NULL;		/* already filled in from another node */
		}
		st = st_add_storage(s);
		snprintf(st->id, sizeof(st->id), "%s", id);
	}
	snprintf(st->node, sizeof(st->node), "cluster");
	st_storage_add_node(st, node, nid);
	return st;
}

void
pve_derive_storage(const struct instance_cfg *cfg, const struct pve_node_facts *nodes, int nnodes,
    const struct pve_storage_item *cluster, int ncluster, struct st_instance *s)
{
	const char *storage_instance = cfg->is_cluster && cfg->cluster_name[0] ?
	    cfg->cluster_name : cfg->name;

	for (int i = 0; i < nnodes; i++) {
		const struct pve_node_facts *nf = &nodes[i];

		for (int j = 0; j < nf->nstorage; j++) {
			const struct pve_storage_item *it = &nf->storage[j];
			int shared = it->shared || inherently_shared(it->type);
			struct st_storage *st;

			/* The cluster-wide config holds the shared flag for some types. */
			for (int k = 0; k < ncluster; k++)
				if (strcmp(cluster[k].storage, it->storage) == 0 && cluster[k].shared)
					shared = 1;
			st = storage_row(cfg, storage_instance, nf->item.node, it, shared, s);
			if (st == NULL)
				continue;
			snprintf(st->name, sizeof(st->name), "%s", it->storage);
			snprintf(st->instance, sizeof(st->instance), "%s", storage_instance);
			snprintf(st->type, sizeof(st->type), "%s", it->type);
			sorted_content(it->content, st->content, sizeof(st->content));
			st->total = it->total;
			st->used = it->used;
			st->avail = it->avail;
			st->shared = shared;
			st->enabled = it->enabled;
			st->active = it->active;
			snprintf(st->status, sizeof(st->status), "%s", !it->enabled ? "disabled" :
			    it->active ? "available" : "inactive");
		}
	}
}
