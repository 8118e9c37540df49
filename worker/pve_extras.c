/* pve_extras.c: the parts of a PVE poll beyond nodes, guests and storage (state-proxmox.md
 * §2.5 rows 4j, 6, 7a, 7b): physical disks (every physicalDiskPollingMinutes, default 5,
 * kept for nodes not asked), ZFS pool health for zfspool storage (every sixth cycle), Ceph
 * when the cluster has Ceph storage (every cycle), storage replication jobs with their status
 * (every cycle). poll_pve.c calls the hooks; the parsing and JSON are pve_detail.h's. */
#include "config.h"

#include "log.h"
#include "poller.h"
#include "pve_detail.h"
#include "state.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZFS_EVERY 6			/* cycles */
#define MAX_NODES_X 256			/* node index range in a ZFS detail request */
#define MAX_REPL 256

/* A kept JSON document by key (node, or node/storage). */
struct kept {
	char key[200];
	struct st_disk_row *rows;	/* physical disks of a node */
	int nrows;
	struct json_object *doc;	/* a storage's zfsPool */
};

struct pve_extras {
	double disks_at;		/* wall time of the last disk poll, 0: never */
	struct kept *disks;		/* per node */
	int ndisks;
	struct kept *zfs;		/* per node/storage */
	int nzfs;
	unsigned cycles;
	struct st_ceph_row ceph;	/* the last Ceph cluster seen (doc NULL: none) */
	struct st_repl_row *repl;	/* the replication jobs last written */
	int nrepl;
};

struct node_x {
	char node[64];
	struct st_disk_row *rows;	/* this cycle's disks, NULL: not asked or failed */
	int nrows, have_disks;
	struct pve_zfs_pool *pools;	/* this cycle's ZFS pools (ZFS cycles) */
	int npools, pending_zfs, have_zfs;
	struct { char storage[128], type[32]; } zfs_storage[32];
	int nzfs_storage;
};

struct pve_extras_cycle {
	int disk_cycle, zfs_cycle;
	struct node_x *nodes;
	int nnodes;
	int ceph_asked;
	struct json_object *ceph_status, *ceph_df;
	struct pve_replication_job *jobs;
	int njobs, repl_listed, repl_status_asked;
	int repl_failed;		/* the job list could not be read: the last one stands */
	struct json_object **job_status;
	unsigned char *job_status_failed;	/* asked and not answered: the job's last status */
};

struct pve_extras *
pve_extras_new(void)
{
	return xcalloc(1, sizeof(struct pve_extras));
}

static void
free_rows(struct st_disk_row *rows, int n)
{
	for (int i = 0; i < n; i++)
		json_object_put(rows[i].doc);
	free(rows);
}

static void
free_repl(struct st_repl_row *rows, int n)
{
	for (int i = 0; i < n; i++)
		json_object_put(rows[i].doc);
	free(rows);
}

void
pve_extras_free(struct pve_extras *x)
{
	if (x == NULL)
		return;
	for (int i = 0; i < x->ndisks; i++)
		free_rows(x->disks[i].rows, x->disks[i].nrows);
	for (int i = 0; i < x->nzfs; i++)
		json_object_put(x->zfs[i].doc);
	free(x->disks);
	free(x->zfs);
	if (x->ceph.doc)
		json_object_put(x->ceph.doc);
	free_repl(x->repl, x->nrepl);
	free(x);
}

struct pve_extras_cycle *
pve_extras_cycle_new(const struct instance_cfg *cfg, struct pve_extras *x, double now)
{
	struct pve_extras_cycle *xc = xcalloc(1, sizeof(*xc));
	int minutes = cfg->physical_disk_polling_minutes > 0 ? cfg->physical_disk_polling_minutes : 5;

	xc->disk_cycle = cfg->monitor_physical_disks != 0 && now - x->disks_at >= minutes * 60.0;
	xc->zfs_cycle = cfg->monitor_storage && x->cycles % ZFS_EVERY == 0;
	x->cycles++;
	return xc;
}

void
pve_extras_cycle_free(struct pve_extras_cycle *xc)
{
	if (xc == NULL)
		return;
	for (int i = 0; i < xc->nnodes; i++) {
		free_rows(xc->nodes[i].rows, xc->nodes[i].nrows);
		pve_zfs_pools_free(xc->nodes[i].pools, xc->nodes[i].npools);
	}
	free(xc->nodes);
	if (xc->ceph_status)
		json_object_put(xc->ceph_status);
	if (xc->ceph_df)
		json_object_put(xc->ceph_df);
	for (int i = 0; i < xc->njobs; i++)
		if (xc->job_status[i])
			json_object_put(xc->job_status[i]);
	free(xc->job_status);
	free(xc->job_status_failed);
	free(xc->jobs);
	free(xc);
}

/* GET /nodes/{node}/{what}[/{arg}{tail}], names escaped. */
static void
submit_node(struct run *run, int kind, int index, const char *node, const char *what,
    const char *arg, const char *tail)
{
	char *en = http_escape(node), *ea = arg ? http_escape(arg) : NULL, path[800];

	snprintf(path, sizeof(path), "/nodes/%s/%s%s%s%s", en, what, ea ? "/" : "", ea ? ea : "",
	    tail ? tail : "");
	poll_submit(run, path, kind, index);
	free(en);
	free(ea);
}

void
pve_extras_begin(struct run *run, struct pve_extras_cycle *xc, const char *const *nodes,
    const int *online, int n)
{
	xc->nodes = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*xc->nodes));
	xc->nnodes = n;
	for (int i = 0; i < n; i++) {
		snprintf(xc->nodes[i].node, sizeof(xc->nodes[i].node), "%s", nodes[i]);
		if (online[i] && xc->disk_cycle)
			submit_node(run, PVE_REQ_DISKS, i, nodes[i], "disks/list", NULL, NULL);
	}
	poll_submit(run, "/cluster/replication", PVE_REQ_REPL, 0);
}

static int
is_zfs(const struct pve_storage_item *st)
{
	return strcmp(st->type, "zfspool") == 0 || strcmp(st->type, "zfs") == 0 ||
	    strcmp(st->storage, "local-zfs") == 0;
}

void
pve_extras_node_storage(struct run *run, struct pve_extras_cycle *xc, int node,
    const struct pve_storage_item *st, int n)
{
	struct node_x *nx;

	if (!xc->zfs_cycle || node >= xc->nnodes)
		return;
	nx = &xc->nodes[node];
	for (int i = 0; i < n && nx->nzfs_storage < 32; i++) {
		if (!is_zfs(&st[i]))
			continue;
		snprintf(nx->zfs_storage[nx->nzfs_storage].storage, sizeof(nx->zfs_storage[0].storage),
		    "%s", st[i].storage);
		snprintf(nx->zfs_storage[nx->nzfs_storage].type, sizeof(nx->zfs_storage[0].type), "%s",
		    st[i].type);
		nx->nzfs_storage++;
	}
	if (nx->nzfs_storage > 0)
		submit_node(run, PVE_REQ_ZFS_LIST, node, nx->node, "disks/zfs", NULL, NULL);
}

void
pve_extras_storage_types(struct run *run, struct pve_extras_cycle *xc,
    const struct pve_storage_item *st, int n)
{
	/* Ceph only where the cluster has Ceph storage (§2.5 7b). */
	for (int i = 0; i < n && !xc->ceph_asked; i++) {
		if (strcmp(st[i].type, "rbd") == 0 || strcmp(st[i].type, "cephfs") == 0 ||
		    strcmp(st[i].type, "ceph") == 0) {
			xc->ceph_asked = 1;
			poll_submit(run, "/cluster/ceph/status", PVE_REQ_CEPH_STATUS, 0);
			poll_submit(run, "/cluster/ceph/df", PVE_REQ_CEPH_DF, 0);
		}
	}
}

/* Replication status: the job's source node, else the guest's node (the original asks only
 * when the configuration names a source, which PVE rarely writes, so it shows no status). */
void
pve_extras_guests_known(struct run *run, struct pve_extras_cycle *xc,
    const char *(*guest_node)(struct run *run, int64_t vmid))
{
	if (!xc->repl_listed || xc->repl_status_asked)
		return;
	xc->repl_status_asked = 1;
	for (int i = 0; i < xc->njobs; i++) {
		const char *node = pve_replication_status_node(&xc->jobs[i]);
		int64_t vmid = xc->jobs[i].guest_id;
		char id[200];

		if (node == NULL && vmid <= 0)
			(void)parse_int64(xc->jobs[i].guest, 1, INT32_MAX, &vmid);
		if (node == NULL && vmid > 0 && guest_node)
			node = guest_node(run, vmid);
		if (node == NULL || *node == '\0' || xc->jobs[i].id[0] == '\0')
			continue;
		snprintf(id, sizeof(id), "%s", xc->jobs[i].id);
		submit_node(run, PVE_REQ_REPL_STATUS, i, node, "replication", id, "/status");
	}
}

int
pve_extras_handle(struct run *run, struct pve_extras_cycle *xc, int kind, int index,
    struct http_request *req, double now)
{
	struct json_object *data;
	struct node_x *nx = index >= 0 && index < xc->nnodes ? &xc->nodes[index] : NULL;

	if (kind < PVE_REQ_EXTRAS_FROM)
		return 0;
	data = poll_data(run, req, 0);
	switch (kind) {
	case PVE_REQ_DISKS:
		if (data && nx) {
			int cap = poll_list_len(data, PVE_DISKS_MAX);
			struct pve_physical_disk *d = xcalloc((size_t)cap, sizeof(*d));
			int n = pve_parse_disks_list(data, d, cap);
			nx->rows = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*nx->rows));
			for (int i = 0; i < n; i++) {
				struct st_disk_row *r = &nx->rows[nx->nrows++];
				r->doc = pve_physical_disk_json(&d[i], run->cfg.name, nx->node, now);
				snprintf(r->id, sizeof(r->id), "%s", json_object_get_string(
				    json_object_object_get(r->doc, "id")));
				snprintf(r->node, sizeof(r->node), "%s", nx->node);
				snprintf(r->dev_path, sizeof(r->dev_path), "%s", d[i].dev_path);
				snprintf(r->model, sizeof(r->model), "%s", d[i].model);
				snprintf(r->serial, sizeof(r->serial), "%s", d[i].serial);
				snprintf(r->type, sizeof(r->type), "%s", d[i].type);
				snprintf(r->health, sizeof(r->health), "%s", d[i].health);
				r->size = d[i].size;
				r->wearout = d[i].wearout;
			}
			nx->have_disks = 1;
			free(d);
		}
		break;
	case PVE_REQ_ZFS_LIST:
		if (data && nx) {
			int cap = poll_list_len(data, PVE_ZFS_MAX_POOLS);
			nx->pools = xcalloc((size_t)cap, sizeof(*nx->pools));
			nx->npools = pve_parse_zfs_list(data, nx->pools, cap);
			nx->have_zfs = 1;
			for (int i = 0; i < nx->npools; i++)
				submit_node(run, PVE_REQ_ZFS_DETAIL, index + i * MAX_NODES_X, nx->node, "disks/zfs",
				    nx->pools[i].name, NULL);
		}
		break;
	case PVE_REQ_ZFS_DETAIL: {
		int node = index % MAX_NODES_X, pool = index / MAX_NODES_X;
		if (data && node < xc->nnodes && pool < xc->nodes[node].npools)
			(void)pve_parse_zfs_detail(data, &xc->nodes[node].pools[pool]);
		break;
	}
	case PVE_REQ_CEPH_STATUS:
		xc->ceph_status = data;
		return 1;
	case PVE_REQ_CEPH_DF:
		xc->ceph_df = data;
		return 1;
	case PVE_REQ_REPL:
		if (data && json_object_is_type(data, json_type_array) &&
		    json_object_array_length(data) > 0) {
			size_t len = json_object_array_length(data);
			int max = len < MAX_REPL ? (int)len : MAX_REPL;
			xc->jobs = xcalloc((size_t)max, sizeof(*xc->jobs));
			xc->njobs = pve_parse_replication(data, xc->jobs, max);
			xc->job_status = xcalloc((size_t)max, sizeof(*xc->job_status));
			xc->job_status_failed = xcalloc((size_t)max, 1);
		}
		/* 404/501 (no replication here) is an empty list; any other failure is not
		 * knowing, and the last list stands (its alerts neither resolve nor flap). */
		xc->repl_failed = data == NULL && !(req->failure == HTTP_OK &&
		    (req->status == 404 || req->status == 501));
		xc->repl_listed = 1;
		break;
	case PVE_REQ_REPL_STATUS:
		if (data && index < xc->njobs) {
			xc->job_status[index] = data;
			return 1;
		}
		if (index < xc->njobs)
			xc->job_status_failed[index] = 1;
		break;
	}
	if (data)
		json_object_put(data);
	return 1;
}

static struct kept *
kept_find(struct kept **list, int *n, const char *key, int create)
{
	for (int i = 0; i < *n; i++)
		if (strcmp((*list)[i].key, key) == 0)
			return &(*list)[i];
	if (!create)
		return NULL;
	*list = xrealloc(*list, sizeof(**list) * (size_t)(*n + 1));
	memset(&(*list)[*n], 0, sizeof(**list));
	snprintf((*list)[*n].key, sizeof((*list)[0].key), "%s", key);
	return &(*list)[(*n)++];
}

/* Disks of the nodes asked now; the others as last seen (§2.11), nodes gone dropped. */
static void
write_disks(struct pve_extras *x, struct pve_extras_cycle *xc, struct st_instance *s, double now)
{
	for (int i = 0; i < xc->nnodes; i++) {
		struct node_x *nx = &xc->nodes[i];
		struct kept *k;
		if (!nx->have_disks)
			continue;
		k = kept_find(&x->disks, &x->ndisks, nx->node, 1);
		free_rows(k->rows, k->nrows);
		k->rows = nx->rows;
		k->nrows = nx->nrows;
		nx->rows = NULL;
		nx->nrows = 0;
	}
	if (xc->disk_cycle)
		x->disks_at = now;
	for (int i = 0; i < x->ndisks; i++) {
		int present = 0;
		for (int k = 0; k < xc->nnodes && !present; k++)
			present = strcmp(xc->nodes[k].node, x->disks[i].key) == 0;
		if (!present && xc->nnodes > 0) {
			free_rows(x->disks[i].rows, x->disks[i].nrows);
			x->disks[i--] = x->disks[--x->ndisks];
			continue;
		}
		for (int k = 0; k < x->disks[i].nrows; k++) {
			struct st_disk_row *r = st_add_disk_row(s);
			*r = x->disks[i].rows[k];
			r->doc = json_object_get(r->doc);
		}
	}
}

/* zfsPool of each zfs storage: computed on ZFS cycles, kept in between. */
static void
write_zfs(struct pve_extras *x, struct pve_extras_cycle *xc, struct st_instance *s)
{
	char key[200];

	for (int i = 0; i < xc->nnodes; i++) {
		struct node_x *nx = &xc->nodes[i];
		if (!nx->have_zfs)
			continue;
		for (int k = 0; k < nx->nzfs_storage; k++) {
			int p = pve_zfs_pool_for_storage(nx->zfs_storage[k].storage, nx->zfs_storage[k].type,
			    nx->pools, nx->npools);
			struct kept *kp;
			snprintf(key, sizeof(key), "%s/%s", nx->node, nx->zfs_storage[k].storage);
			kp = kept_find(&x->zfs, &x->nzfs, key, 1);
			if (kp->doc)
				json_object_put(kp->doc);
			kp->doc = p >= 0 ? pve_zfs_pool_json(&nx->pools[p]) : NULL;
		}
	}
	for (int i = 0; i < s->nstorage; i++) {
		struct st_storage *st = &s->storage[i];
		struct kept *kp;
		if (strcmp(st->node, "cluster") == 0)
			continue;
		snprintf(key, sizeof(key), "%s/%s", st->node, st->name);
		kp = kept_find(&x->zfs, &x->nzfs, key, 0);
		if (kp && kp->doc)
			st->zfs_pool = json_object_get(kp->doc);
	}
}

static void
write_ceph(struct run *run, struct pve_extras *x, struct pve_extras_cycle *xc,
    struct st_instance *s, double now)
{
	struct pve_ceph_cluster *c;

	if (!xc->ceph_asked) {
		/* No Ceph storage (any more): no Ceph cluster. */
		if (x->ceph.doc)
			json_object_put(x->ceph.doc);
		memset(&x->ceph, 0, sizeof(x->ceph));
		return;
	}
	c = xcalloc(1, sizeof(*c));
	if (xc->ceph_status && pve_parse_ceph_status(xc->ceph_status, c) == 0) {
		if (xc->ceph_df)
			(void)pve_parse_ceph_df(xc->ceph_df, c);
		if (x->ceph.doc)
			json_object_put(x->ceph.doc);
		memset(&x->ceph, 0, sizeof(x->ceph));
		x->ceph.doc = pve_ceph_cluster_json(c, run->cfg.name, now);
		snprintf(x->ceph.id, sizeof(x->ceph.id), "%s", json_object_get_string(
		    json_object_object_get(x->ceph.doc, "id")));
		snprintf(x->ceph.fsid, sizeof(x->ceph.fsid), "%s", c->fsid);
		snprintf(x->ceph.health, sizeof(x->ceph.health), "%s", c->health);
		x->ceph.total = c->total_bytes;
		x->ceph.used = c->used_bytes;
		x->ceph.num_osds = c->num_osds;
		x->ceph.num_osds_up = c->num_osds_up;
	}
	free(c);
	/* A failed status call keeps the last picture. */
	if (x->ceph.doc) {
		struct st_ceph_row *r = st_add_ceph_row(s);
		*r = x->ceph;
		r->doc = json_object_get(x->ceph.doc);
	}
}

/* The row last written for a job, or NULL. */
static const struct st_repl_row *
kept_repl(const struct pve_extras *x, const char *unique_id)
{
	for (int i = 0; i < x->nrepl; i++)
		if (strcmp(x->repl[i].id, unique_id) == 0)
			return &x->repl[i];
	return NULL;
}

/* A job whose status call failed keeps the outcome last seen (state, error, failures, sync
 * times): an unanswered call says nothing about the job. */
static void
keep_job_status(const struct pve_extras *x, struct pve_replication_job *j)
{
	const struct st_repl_row *k = kept_repl(x, j->unique_id);

	if (k == NULL)
		return;
	snprintf(j->state, sizeof(j->state), "%s", k->state);
	snprintf(j->error, sizeof(j->error), "%s", k->error);
	j->fail_count = k->fail_count;
	j->last_sync_unix = (int64_t)k->last_sync;
	j->next_sync_unix = (int64_t)k->next_sync;
}

/* Remembers the rows written this cycle (their documents held). */
static void
keep_repl_rows(struct pve_extras *x, const struct st_instance *s)
{
	free_repl(x->repl, x->nrepl);
	x->repl = s->nrepl ? xcalloc((size_t)s->nrepl, sizeof(*x->repl)) : NULL;
	x->nrepl = s->nrepl;
	for (int i = 0; i < s->nrepl; i++) {
		x->repl[i] = s->repl[i];
		x->repl[i].doc = json_object_get(s->repl[i].doc);
	}
}

static void
write_replication(struct run *run, struct pve_extras *x, struct pve_extras_cycle *xc,
    struct st_instance *s, double now)
{
	if (xc->repl_failed) {
		for (int i = 0; i < x->nrepl; i++) {
			struct st_repl_row *r = st_add_repl_row(s);
			*r = x->repl[i];
			r->doc = json_object_get(x->repl[i].doc);
		}
		return;
	}
	for (int i = 0; i < xc->njobs; i++) {
		struct pve_replication_job *j = &xc->jobs[i];
		const struct st_guest *vm = NULL;

		if (xc->job_status[i])
			(void)pve_replication_apply_status(j, xc->job_status[i]);
		/* The original looks the guest up among VMs only. */
		for (int k = 0; k < s->nguests && vm == NULL; k++) {
			char id[32];
			snprintf(id, sizeof(id), "%lld", (long long)s->guests[k].vmid);
			if (strcmp(s->guests[k].type, "qemu") == 0 &&
			    (s->guests[k].vmid == j->guest_id || strcmp(id, j->guest) == 0))
				vm = &s->guests[k];
		}
		pve_replication_resolve(j, run->cfg.name, i, vm ? vm->name : NULL, vm ? vm->type : NULL,
		    vm ? vm->node : NULL);
		if (xc->job_status_failed[i])
			keep_job_status(x, j);
	}
	pve_replication_sort(xc->jobs, xc->njobs);
	for (int i = 0; i < xc->njobs; i++) {
		struct pve_replication_job *j = &xc->jobs[i];
		struct st_repl_row *r = st_add_repl_row(s);
		snprintf(r->id, sizeof(r->id), "%s", j->unique_id);
		snprintf(r->job_id, sizeof(r->job_id), "%s", j->job_id);
		snprintf(r->source, sizeof(r->source), "%s", j->source_node);
		snprintf(r->target, sizeof(r->target), "%s", j->target_node);
		snprintf(r->state, sizeof(r->state), "%s", j->state);
		snprintf(r->error, sizeof(r->error), "%s", j->error);
		r->guest_id = j->guest_id;
		r->last_sync = (double)j->last_sync_unix;
		r->next_sync = (double)j->next_sync_unix;
		r->fail_count = (int)j->fail_count;
		r->sort = i;
		r->doc = pve_replication_job_json(j, now);
	}
	keep_repl_rows(x, s);
}

void
pve_extras_write(struct run *run, struct pve_extras *x, struct pve_extras_cycle *xc,
    struct st_instance *s, double now)
{
	if (run->cfg.monitor_physical_disks != 0)
		write_disks(x, xc, s, now);
	if (run->cfg.monitor_storage)
		write_zfs(x, xc, s);
	write_ceph(run, x, xc, s, now);
	write_replication(run, x, xc, s, now);
}
