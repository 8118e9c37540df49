/* poll.c: polling Proxmox VE instances: claiming them (one worker per instance), one cycle
 * per interval with every request in flight at once through the curl multi interface, the
 * node/VM/container derivations of state-proxmox.md §2.6-§2.9, and one transaction per
 * instance for the result. */
#include "config.h"

#include "conf.h"
#include "http.h"
#include "instances.h"
#include "jsonutil.h"
#include "log.h"
#include "pve.h"
#include "state.h"
#include "util.h"
#include "worker.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_NODES 256
#define MAX_GUESTS 20000
#define MAX_STORAGE 4096
#define AUTH_FAILURE_LIMIT 5
#define CYCLE_TIMEOUT_S 120.0

/* Counter samples per guest for rates (§2.9). */
struct rate_memo {
	char id[224];
	int64_t c[4];			/* diskread, diskwrite, netin, netout */
	double at;
	int64_t rate[4];
	int have_rate;
	int seen;			/* in the last cycle */
};

/* What one node looked like, remembered across cycles. */
struct node_memo {
	char node[64];
	double last_online;		/* wall time it was last online */
	struct st_memory memory;	/* kept when a status call fails */
};

struct guest_work {
	struct pve_guest_item item;
	struct pve_vm_status vm;
	int have_vm;
	struct pve_fs *fs;		/* from the guest agent, allocated when it answered */
	int nfs, have_fs;
	double rrd_available, rrd_used;
	int have_rrd_available, have_rrd_used;
	struct pve_snapshot *snaps;	/* backup cycles only */
	int nsnaps;
};

struct node_work {
	struct pve_node_item item;
	struct pve_node_status status;
	int have_status, online;
	struct pve_storage_item *storage;
	int nstorage, have_storage;
	struct pve_task *tasks;		/* backup cycles only */
	int ntasks, have_tasks;
};

/* One storage's backup volumes, asked for in a backup cycle. */
struct content_work {
	int node;
	char storage[128], type[32];
	struct pve_content *items;
	int n, ok;
};

/* One poll of one instance, from the first request to the write. */
struct cycle {
	unsigned gen;
	double started;
	int pending;
	int failed;			/* the essential /nodes call failed */
	int auth_failed;
	char error[256];
	struct node_work nodes[MAX_NODES];
	int nnodes;
	struct guest_work *guests;
	int nguests, have_guests;
	struct pve_storage_item *cluster_storage;
	int ncluster_storage, have_cluster_storage;
	int backup_cycle;
	struct content_work *contents;
	int ncontents, capcontents;
};

struct run {
	struct instance_cfg cfg;
	struct pve_conn conn;
	int conn_ok;
	void *share;			/* this connection's own connection cache */
	struct cycle *cycle;
	unsigned gen;
	double next_poll;		/* monotonic */
	double last_success;		/* wall */
	int consecutive_failures, auth_failures;
	struct rate_memo *rates;	/* sorted by id up to nsorted, new ones after */
	int nrates, caprates, nsorted;
	struct node_memo nodes[MAX_NODES];
	int nnode_memos;
	int keep;			/* still configured and claimed (mark and sweep) */
	unsigned cycles;		/* completed cycles, for the backup cadence */
	struct st_backups backups;	/* the last written, kept for failed storages */
	struct { int64_t vmid; double t; } *last_backup;	/* newest backup per VMID */
	int nlast_backup;
};

struct request_ctx {
	struct run *run;
	unsigned gen;
	int kind;
	int index;			/* node or guest index */
	struct http_request *req;
	struct request_ctx *prev, *next;	/* the requests in flight */
};

static struct request_ctx *in_flight;


static void
track(struct request_ctx *ctx, struct http_request *req)
{
	ctx->req = req;
	ctx->next = in_flight;
	if (in_flight)
		in_flight->prev = ctx;
	in_flight = ctx;
}

static void
untrack(struct request_ctx *ctx)
{
	if (ctx->prev)
		ctx->prev->next = ctx->next;
	else
		in_flight = ctx->next;
	if (ctx->next)
		ctx->next->prev = ctx->prev;
}

enum { REQ_TICKET, REQ_NODES, REQ_NODE_STATUS, REQ_RESOURCES, REQ_VM_STATUS, REQ_FSINFO,
    REQ_CT_RRD, REQ_STORAGE, REQ_NODE_STORAGE, REQ_TASKS, REQ_CONTENT, REQ_SNAPSHOTS };

static struct {
	struct http_multi *multi;
	struct run **runs;
	int nruns;
	int config_dirty;
	double next_claim;		/* monotonic */
	double interval;
	double grace;			/* seconds a silent node keeps its last state */
	double backoff_max;		/* the breaker's longest wait */
	int backup_cycles;		/* backups every this many cycles */
	long timeout_ms;
} P;

/* Requests wait here until there is room in the multi handle: libcurl walks every handle it
 * holds on each call, so thousands at once would cost quadratic time. */
#define MAX_IN_FLIGHT 32
static struct request_ctx **waiting;
static size_t nwaiting, capwaiting, waiting_head;
static int running_now;

static void
pump(void)
{
	while (running_now < MAX_IN_FLIGHT && waiting_head < nwaiting) {
		struct request_ctx *ctx = waiting[waiting_head++];
		running_now++;
		http_multi_add(P.multi, ctx->req);
	}
	if (waiting_head == nwaiting)
		waiting_head = nwaiting = 0;
}

static void
enqueue(struct request_ctx *ctx)
{
	if (nwaiting == capwaiting) {
		capwaiting = capwaiting ? capwaiting * 2 : 256;
		waiting = xrealloc(waiting, sizeof(*waiting) * capwaiting);
	}
	waiting[nwaiting++] = ctx;
	pump();
}

static void start_requests_after_nodes(struct run *run);
static void request_contents(struct run *run, int node);
static void finish_cycle(struct worker *w, struct run *run);
static struct worker *the_worker;

/* --- requests --------------------------------------------------------------------- */

static void on_done(struct http_request *req, void *arg);

static void
submit(struct run *run, const char *path, int kind, int index)
{
	struct http_request *req = pve_request(&run->conn, path);
	struct request_ctx *ctx = xcalloc(1, sizeof(*ctx));

	ctx->run = run;
	ctx->gen = run->gen;
	ctx->kind = kind;
	ctx->index = index;
	req->timeout_ms = P.timeout_ms;
	req->share = run->share;
	req->done = on_done;
	req->arg = ctx;
	run->cycle->pending++;
	track(ctx, req);
	enqueue(ctx);
}

static struct json_object *
data_of(struct run *run, struct http_request *req, int essential)
{
	char err[256];
	int rc;
	struct json_object *data = pve_response_data(req, &rc, err, sizeof(err));

	if (data == NULL && rc != 0) {
		if (pve_is_auth_failure(req)) {
			run->cycle->auth_failed = 1;
			if (run->cycle->error[0] == '\0')
				snprintf(run->cycle->error, sizeof(run->cycle->error), "%s", err);
		}
		if (essential) {
			run->cycle->failed = 1;
			snprintf(run->cycle->error, sizeof(run->cycle->error), "%s", err);
		}
		log_debug("msg=\"request failed\" instance=%s url_path=\"%.120s\" error=\"%s\"",
		    run->cfg.name, req->url + strlen(run->conn.base), err);
	}
	return data;
}

static void
handle(struct run *run, struct request_ctx *ctx, struct http_request *req)
{
	struct cycle *c = run->cycle;
	struct json_object *data;
	char err[256], path[512];

	switch (ctx->kind) {
	case REQ_TICKET:
		if (pve_ticket_accept(&run->conn, req, err, sizeof(err)) != 0) {
			c->failed = 1;
			c->auth_failed = pve_is_auth_failure(req) || req->status == 0 ? pve_is_auth_failure(req) : 1;
			snprintf(c->error, sizeof(c->error), "login failed: %.200s", err);
			return;
		}
		submit(run, "/nodes", REQ_NODES, 0);
		return;
	case REQ_NODES:
		data = data_of(run, req, 1);
		if (data == NULL)
			return;
		c->nnodes = 0;
		{
			struct pve_node_item items[MAX_NODES];
			int n = pve_parse_nodes(data, items, MAX_NODES);
			for (int i = 0; i < n; i++) {
				memset(&c->nodes[i], 0, sizeof(c->nodes[i]));
				c->nodes[i].item = items[i];
				c->nodes[i].online = strcmp(items[i].status, "online") == 0;
			}
			c->nnodes = n;
		}
		json_object_put(data);
		if (c->nnodes == 0) {
			c->failed = 1;
			snprintf(c->error, sizeof(c->error), "no nodes in the answer");
			return;
		}
		start_requests_after_nodes(run);
		return;
	case REQ_NODE_STATUS:
		data = data_of(run, req, 0);
		if (data && pve_parse_node_status(data, &c->nodes[ctx->index].status) == 0)
			c->nodes[ctx->index].have_status = 1;
		if (data)
			json_object_put(data);
		return;
	case REQ_RESOURCES:
		data = data_of(run, req, 0);
		if (data == NULL)
			return;
		{
			struct pve_guest_item *items = xcalloc(MAX_GUESTS, sizeof(*items));
			int n = pve_parse_guests(data, items, MAX_GUESTS);
			c->guests = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*c->guests));
			for (int i = 0; i < n; i++) {
				if (items[i].template)
					continue;
				if (strcmp(items[i].type, "qemu") == 0 ? !run->cfg.monitor_vms :
				    !run->cfg.monitor_containers)
					continue;
				c->guests[c->nguests++].item = items[i];
			}
			free(items);
		}
		json_object_put(data);
		c->have_guests = 1;
		for (int i = 0; i < c->nguests; i++) {
			struct pve_guest_item *g = &c->guests[i].item;
			if (c->backup_cycle) {
				snprintf(path, sizeof(path), "/nodes/%s/%s/%lld/snapshot", g->node, g->type,
				    (long long)g->vmid);
				submit(run, path, REQ_SNAPSHOTS, i);
			}
			if (strcmp(g->status, "running") != 0)
				continue;
			if (strcmp(g->type, "qemu") == 0) {
				snprintf(path, sizeof(path), "/nodes/%s/qemu/%lld/status/current", g->node,
				    (long long)g->vmid);
				submit(run, path, REQ_VM_STATUS, i);
			} else {
				snprintf(path, sizeof(path), "/nodes/%s/lxc/%lld/rrddata?cf=AVERAGE&timeframe=hour",
				    g->node, (long long)g->vmid);
				submit(run, path, REQ_CT_RRD, i);
			}
		}
		return;
	case REQ_VM_STATUS:
		data = data_of(run, req, 0);
		if (data && pve_parse_vm_status(data, &c->guests[ctx->index].vm) == 0) {
			struct guest_work *gw = &c->guests[ctx->index];
			gw->have_vm = 1;
			if (gw->vm.agent) {
				snprintf(path, sizeof(path), "/nodes/%s/qemu/%lld/agent/get-fsinfo", gw->item.node,
				    (long long)gw->item.vmid);
				submit(run, path, REQ_FSINFO, ctx->index);
			}
		}
		if (data)
			json_object_put(data);
		return;
	case REQ_FSINFO:
		data = data_of(run, req, 0);
		if (data) {
			struct guest_work *gw = &c->guests[ctx->index];
			struct pve_fs fs[32];
			gw->nfs = pve_parse_fsinfo(data, fs, (int)ARRAY_LEN(fs));
			if (gw->nfs > 0) {
				gw->fs = xmalloc(sizeof(*gw->fs) * (size_t)gw->nfs);
				memcpy(gw->fs, fs, sizeof(*gw->fs) * (size_t)gw->nfs);
			}
			gw->have_fs = 1;
			json_object_put(data);
		}
		return;
	case REQ_CT_RRD:
		data = data_of(run, req, 0);
		if (data) {
			struct guest_work *gw = &c->guests[ctx->index];
			gw->have_rrd_available = pve_rrd_last(data, "memavailable", &gw->rrd_available) == 0;
			gw->have_rrd_used = pve_rrd_last(data, "memused", &gw->rrd_used) == 0;
			json_object_put(data);
		}
		return;
	case REQ_STORAGE:
		data = data_of(run, req, 0);
		if (data) {
			c->cluster_storage = xcalloc(MAX_STORAGE, sizeof(*c->cluster_storage));
			c->ncluster_storage = pve_parse_storage(data, c->cluster_storage, MAX_STORAGE);
			c->have_cluster_storage = 1;
			json_object_put(data);
		}
		return;
	case REQ_NODE_STORAGE:
		data = data_of(run, req, 0);
		if (data) {
			struct node_work *nw = &c->nodes[ctx->index];
			nw->storage = xcalloc(512, sizeof(*nw->storage));
			nw->nstorage = pve_parse_storage(data, nw->storage, 512);
			nw->have_storage = 1;
			json_object_put(data);
			if (c->backup_cycle)
				request_contents(run, ctx->index);
		}
		return;
	case REQ_TASKS:
		data = data_of(run, req, 0);
		if (data) {
			struct node_work *nw = &c->nodes[ctx->index];
			nw->tasks = xcalloc(500, sizeof(*nw->tasks));
			nw->ntasks = pve_parse_tasks(data, nw->tasks, 500);
			nw->have_tasks = 1;
			json_object_put(data);
		}
		return;
	case REQ_CONTENT:
		data = data_of(run, req, 0);
		if (data) {
			struct content_work *cw = &c->contents[ctx->index];
			cw->items = xcalloc(4096, sizeof(*cw->items));
			cw->n = pve_parse_content(data, cw->items, 4096);
			cw->ok = 1;
			json_object_put(data);
		}
		return;
	case REQ_SNAPSHOTS:
		data = data_of(run, req, 0);
		if (data) {
			struct guest_work *gw = &c->guests[ctx->index];
			struct pve_snapshot snaps[64];
			gw->nsnaps = pve_parse_snapshots(data, snaps, (int)ARRAY_LEN(snaps));
			if (gw->nsnaps > 0) {
				gw->snaps = xmalloc(sizeof(*gw->snaps) * (size_t)gw->nsnaps);
				memcpy(gw->snaps, snaps, sizeof(*gw->snaps) * (size_t)gw->nsnaps);
			}
			json_object_put(data);
		}
		return;
	}
}

static void
on_done(struct http_request *req, void *arg)
{
	struct request_ctx *ctx = arg;
	struct run *run = ctx->run;

	untrack(ctx);
	running_now--;
	/* A request of a cycle that was given up (timeout, instance removed) is dropped. */
	if (run != NULL && run->cycle != NULL && ctx->gen == run->gen) {
		handle(run, ctx, req);
		if (--run->cycle->pending == 0)
			finish_cycle(the_worker, run);
	}
	free(ctx);
	http_request_free(req);
	pump();
}

/* Storage that holds backups and can be asked: enabled, and active. */
static void
request_contents(struct run *run, int node)
{
	struct cycle *c = run->cycle;
	struct node_work *nw = &c->nodes[node];
	char path[512];

	for (int j = 0; j < nw->nstorage; j++) {
		struct pve_storage_item *it = &nw->storage[j];
		struct content_work *cw;

		if (!strstr(it->content, "backup") || !it->enabled || !it->active)
			continue;
		if (c->ncontents == c->capcontents) {
			c->capcontents = c->capcontents ? c->capcontents * 2 : 32;
			c->contents = xrealloc(c->contents, sizeof(*c->contents) * (size_t)c->capcontents);
		}
		cw = &c->contents[c->ncontents];
		memset(cw, 0, sizeof(*cw));
		cw->node = node;
		snprintf(cw->storage, sizeof(cw->storage), "%s", it->storage);
		snprintf(cw->type, sizeof(cw->type), "%s", it->type);
		snprintf(path, sizeof(path), "/nodes/%s/storage/%s/content?content=backup", nw->item.node,
		    it->storage);
		submit(run, path, REQ_CONTENT, c->ncontents++);
	}
}

static void
start_requests_after_nodes(struct run *run)
{
	struct cycle *c = run->cycle;
	char path[256];

	for (int i = 0; i < c->nnodes; i++) {
		if (!c->nodes[i].online)
			continue;
		snprintf(path, sizeof(path), "/nodes/%s/status", c->nodes[i].item.node);
		submit(run, path, REQ_NODE_STATUS, i);
		if (run->cfg.monitor_storage || c->backup_cycle) {
			snprintf(path, sizeof(path), "/nodes/%s/storage", c->nodes[i].item.node);
			submit(run, path, REQ_NODE_STORAGE, i);
		}
		if (c->backup_cycle) {
			snprintf(path, sizeof(path), "/nodes/%s/tasks?typefilter=vzdump&limit=500",
			    c->nodes[i].item.node);
			submit(run, path, REQ_TASKS, i);
		}
	}
	if (run->cfg.monitor_vms || run->cfg.monitor_containers)
		submit(run, "/cluster/resources?type=vm", REQ_RESOURCES, 0);
	if (run->cfg.monitor_storage)
		submit(run, "/storage", REQ_STORAGE, 0);
}

/* --- derivations ---------------------------------------------------------------------- */

static struct node_memo *
node_memo(struct run *run, const char *node)
{
	for (int i = 0; i < run->nnode_memos; i++)
		if (strcmp(run->nodes[i].node, node) == 0)
			return &run->nodes[i];
	if (run->nnode_memos == MAX_NODES)
		return NULL;
	memset(&run->nodes[run->nnode_memos], 0, sizeof(run->nodes[0]));
	snprintf(run->nodes[run->nnode_memos].node, sizeof(run->nodes[0].node), "%s", node);
	return &run->nodes[run->nnode_memos++];
}

/* Rates from counters: the first sample gives none, unchanged counters repeat the last rates
 * (PVE caches them), a counter that went back gives 0. */
static int
rate_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rate_memo *)a)->id, ((const struct rate_memo *)b)->id);
}

static struct rate_memo *
rate_find(struct run *run, const char *id)
{
	struct rate_memo key, *m;

	snprintf(key.id, sizeof(key.id), "%s", id);
	m = bsearch(&key, run->rates, (size_t)run->nsorted, sizeof(*run->rates), rate_cmp);
	if (m)
		return m;
	for (int i = run->nsorted; i < run->nrates; i++)
		if (strcmp(run->rates[i].id, id) == 0)
			return &run->rates[i];
	return NULL;
}

/* Drops the counters of guests not seen in this cycle and sorts the rest for lookups. */
static void
rates_sweep(struct run *run)
{
	int o = 0;

	for (int i = 0; i < run->nrates; i++) {
		if (run->rates[i].seen) {
			run->rates[i].seen = 0;
			run->rates[o++] = run->rates[i];
		}
	}
	run->nrates = o;
	qsort(run->rates, (size_t)run->nrates, sizeof(*run->rates), rate_cmp);
	run->nsorted = run->nrates;
}

/* Rates from counters: the first sample gives none, unchanged counters repeat the last rates
 * (PVE caches them), a counter that went back gives 0. */
static void
rates(struct run *run, const char *id, const int64_t now_c[4], double now, int64_t out[4])
{
	struct rate_memo *m = rate_find(run, id);

	if (m == NULL) {
		if (run->nrates == run->caprates) {
			run->caprates = run->caprates ? run->caprates * 2 : 64;
			run->rates = xrealloc(run->rates, sizeof(*run->rates) * (size_t)run->caprates);
		}
		m = &run->rates[run->nrates++];
		memset(m, 0, sizeof(*m));
		snprintf(m->id, sizeof(m->id), "%s", id);
		memcpy(m->c, now_c, sizeof(m->c));
		m->at = now;
		m->seen = 1;
		memset(out, 0, sizeof(int64_t) * 4);
		return;
	}
	m->seen = 1;
	if (memcmp(m->c, now_c, sizeof(m->c)) == 0 || now - m->at <= 0) {
		for (int k = 0; k < 4; k++)
			out[k] = m->have_rate ? m->rate[k] : 0;
		return;
	}
	for (int k = 0; k < 4; k++) {
		int64_t d = now_c[k] - m->c[k];
		m->rate[k] = d > 0 ? (int64_t)((double)d / (now - m->at)) : 0;
		out[k] = m->rate[k];
	}
	m->have_rate = 1;
	memcpy(m->c, now_c, sizeof(m->c));
	m->at = now;
}

/* Cache-aware node memory (§2.6). */
static void
node_memory(const struct node_work *nw, struct node_memo *memo, struct st_memory *out)
{
	const struct pve_node_status *s = &nw->status;
	int64_t total = nw->item.maxmem, used = nw->item.mem, avail = 0;

	if (nw->have_status && s->mem_total > 0) {
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
		if (avail > 0 && avail <= total)
			used = total - avail;
		else
			used = s->mem_used;
	} else if (!nw->have_status && nw->online && memo && memo->memory.total > 0) {
		/* Status failed this time: keep what the last poll saw, within the list's total. */
		total = nw->item.maxmem > 0 ? nw->item.maxmem : memo->memory.total;
		used = memo->memory.used;
	}
	st_memory_set(out, total, used);
}

static void
build_node(struct run *run, struct cycle *c, int i, double now, struct st_node *n)
{
	struct node_work *nw = &c->nodes[i];
	struct node_memo *memo = node_memo(run, nw->item.node);
	const char *inst = run->cfg.name;

	snprintf(n->node, sizeof(n->node), "%s", nw->item.node);
	if (run->cfg.is_cluster && run->cfg.cluster_name[0])
		snprintf(n->id, sizeof(n->id), "%s-%s", run->cfg.cluster_name, nw->item.node);
	else
		snprintf(n->id, sizeof(n->id), "%s-%s", inst, nw->item.node);
	snprintf(n->instance, sizeof(n->instance), "%s", inst);
	snprintf(n->host, sizeof(n->host), "%s", run->cfg.host);
	if (!run->cfg.is_cluster && c->nnodes == 1)
		snprintf(n->display_name, sizeof(n->display_name), "%s", inst);
	else
		snprintf(n->display_name, sizeof(n->display_name), "%s", nw->item.node);
	snprintf(n->type, sizeof(n->type), "node");
	/* A node that just dropped out is still shown online for a grace period (§2.4). */
	if (nw->online) {
		if (memo)
			memo->last_online = now;
		snprintf(n->status, sizeof(n->status), "online");
	} else if (memo && memo->last_online > 0 && now - memo->last_online < P.grace) {
		snprintf(n->status, sizeof(n->status), "online");
	} else {
		snprintf(n->status, sizeof(n->status), "%s", nw->item.status[0] ? nw->item.status : "offline");
	}
	n->cpu = nw->item.cpu;
	n->uptime = nw->item.uptime;
	node_memory(nw, memo, &n->memory);
	if (memo)
		memo->memory = n->memory;
	if (nw->have_status && nw->status.rootfs_total > 0)
		st_disk_set(&n->disk, nw->status.rootfs_total, nw->status.rootfs_used);
	else
		st_disk_set(&n->disk, nw->item.maxdisk, nw->item.disk);
	if (nw->have_status) {
		n->nload = nw->status.nload;
		memcpy(n->load, nw->status.load, sizeof(n->load));
		snprintf(n->kernel_version, sizeof(n->kernel_version), "%s", nw->status.kversion);
		snprintf(n->pve_version, sizeof(n->pve_version), "%s", nw->status.pveversion);
		snprintf(n->cpu_model, sizeof(n->cpu_model), "%s", nw->status.cpu_model);
		n->cpu_sockets = nw->status.cpu_sockets;
		n->cpu_mhz = nw->status.cpu_mhz;
		if (nw->status.uptime > 0)
			n->uptime = nw->status.uptime;
	}
	n->cpu_cores = nw->item.maxcpu > 0 ? nw->item.maxcpu :
	    nw->have_status ? nw->status.cpu_cpus ? nw->status.cpu_cpus : nw->status.cpu_cores : 0;
	n->last_seen = now;
	snprintf(n->connection_health, sizeof(n->connection_health), "healthy");
	n->is_cluster_member = run->cfg.is_cluster;
	snprintf(n->cluster_name, sizeof(n->cluster_name), "%s", run->cfg.cluster_name);
}

/* VM memory: balloon-aware total, guest agent meminfo, then freemem, then mem (§2.7). */
static void
vm_memory(const struct guest_work *gw, struct st_memory *m)
{
	const struct pve_vm_status *v = &gw->vm;
	int64_t total = gw->item.maxmem, used = gw->item.mem;

	if (gw->have_vm) {
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
	if (gw->have_vm && v->balloon > 0)
		m->balloon = v->balloon;
}

static void
build_guest(struct run *run, struct guest_work *gw, double now, struct st_guest *g)
{
	const struct pve_guest_item *it = &gw->item;
	int running = strcmp(it->status, "running") == 0;
	int64_t counters[4], r[4];

	snprintf(g->id, sizeof(g->id), "%s:%s:%lld", run->cfg.name, it->node, (long long)it->vmid);
	snprintf(g->name, sizeof(g->name), "%s", it->name);
	snprintf(g->node, sizeof(g->node), "%s", it->node);
	snprintf(g->instance, sizeof(g->instance), "%s", run->cfg.name);
	snprintf(g->status, sizeof(g->status), "%s", it->status);
	snprintf(g->type, sizeof(g->type), "%s", it->type);
	snprintf(g->tags, sizeof(g->tags), "%s", it->tags);
	snprintf(g->lock, sizeof(g->lock), "%s", it->lock);
	g->vmid = it->vmid;
	g->cpus = it->maxcpu;
	g->cpu = running ? it->cpu : 0;
	g->uptime = it->uptime;
	g->last_seen = now;

	if (strcmp(it->type, "qemu") == 0) {
		vm_memory(gw, &g->memory);
		st_disk_set(&g->disk, it->maxdisk, it->disk);
		if (running && it->disk == 0 && it->maxdisk > 0)
			g->disk.usage = -1;
		if (gw->have_fs && gw->nfs > 0) {
			int64_t total = 0, used = 0;
			for (int i = 0; i < gw->nfs; i++) {
				struct st_disk d;
				memset(&d, 0, sizeof(d));
				st_disk_set(&d, gw->fs[i].total, gw->fs[i].used);
				snprintf(d.mountpoint, sizeof(d.mountpoint), "%s", gw->fs[i].mountpoint);
				snprintf(d.type, sizeof(d.type), "%s", gw->fs[i].type);
				snprintf(d.device, sizeof(d.device), "%s", gw->fs[i].device);
				st_guest_add_disk(g, &d);
				total += gw->fs[i].total;
				used += gw->fs[i].used;
			}
			st_disk_set(&g->disk, total, used);
		} else if (running && (!gw->have_vm || !gw->vm.agent)) {
			g->disk.usage = -1;	/* only the allocated size is known */
		}
		counters[0] = gw->have_vm ? gw->vm.diskread : it->diskread;
		counters[1] = gw->have_vm ? gw->vm.diskwrite : it->diskwrite;
		counters[2] = gw->have_vm ? gw->vm.netin : it->netin;
		counters[3] = gw->have_vm ? gw->vm.netout : it->netout;
	} else {
		int64_t total = it->maxmem, used = it->mem;
		if (running && gw->have_rrd_available && gw->rrd_available <= (double)total)
			used = total - (int64_t)gw->rrd_available;
		else if (running && gw->have_rrd_used)
			used = (int64_t)gw->rrd_used;
		st_memory_set(&g->memory, total, running ? used : 0);
		st_disk_set(&g->disk, it->maxdisk, it->disk);
		{
			struct st_disk root = g->disk;
			snprintf(root.mountpoint, sizeof(root.mountpoint), "/");
			snprintf(root.type, sizeof(root.type), "rootfs");
			if (root.total > 0)
				st_guest_add_disk(g, &root);
		}
		counters[0] = it->diskread;
		counters[1] = it->diskwrite;
		counters[2] = it->netin;
		counters[3] = it->netout;
	}
	rates(run, g->id, counters, now, r);
	if (running) {
		g->disk_read = r[0];
		g->disk_write = r[1];
		g->net_in = r[2];
		g->net_out = r[3];
	} else {
		/* Stopped: every live figure is zero (§2.7). */
		g->memory.used = 0;
		g->memory.usage = 0;
		g->memory.free = g->memory.total;
		g->disk.usage = g->disk.total > 0 ? g->disk.usage : 0;
		g->disk.usage = 0;
	}
}

/* Storage types that are shared whatever the flag says (§1.7). */
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

static void
build_storage(struct run *run, struct cycle *c, struct st_instance *s)
{
	const char *inst = run->cfg.name;
	const char *storage_instance = run->cfg.is_cluster && run->cfg.cluster_name[0] ?
	    run->cfg.cluster_name : inst;

	for (int i = 0; i < c->nnodes; i++) {
		struct node_work *nw = &c->nodes[i];

		for (int j = 0; j < nw->nstorage; j++) {
			struct pve_storage_item *it = &nw->storage[j];
			int shared = it->shared || inherently_shared(it->type);
			struct st_storage *st = NULL;
			char node_id[200];

			/* The cluster-wide config holds the shared flag for some types. */
			for (int k = 0; k < c->ncluster_storage; k++)
				if (strcmp(c->cluster_storage[k].storage, it->storage) == 0 &&
				    c->cluster_storage[k].shared)
					shared = 1;
			snprintf(node_id, sizeof(node_id), "%s-%s", inst, nw->item.node);
			if (shared) {
				char id[320];
				snprintf(id, sizeof(id), "%s-cluster-%s", storage_instance, it->storage);
				for (int k = 0; k < s->nstorage; k++)
					if (strcmp(s->storage[k].id, id) == 0)
						st = &s->storage[k];
				if (st != NULL) {
					st_storage_add_node(st, nw->item.node, node_id);
					continue;
				}
				st = st_add_storage(s);
				snprintf(st->id, sizeof(st->id), "%s", id);
				snprintf(st->node, sizeof(st->node), "cluster");
				st_storage_add_node(st, nw->item.node, node_id);
			} else {
				st = st_add_storage(s);
				if (strcmp(inst, nw->item.node) == 0)
					snprintf(st->id, sizeof(st->id), "%s-%s", nw->item.node, it->storage);
				else
					snprintf(st->id, sizeof(st->id), "%s-%s-%s", inst, nw->item.node, it->storage);
				snprintf(st->node, sizeof(st->node), "%s", nw->item.node);
			}
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

/* --- backups (§1.12) ---------------------------------------------------------------- */

/* The guest type of a backup volume, from its volid or format; VMID 0 is a host backup. */
static const char *
backup_type(const struct pve_content *it)
{
	if (it->vmid == 0)
		return "host";
	if (strstr(it->volid, "/vm/") || strstr(it->volid, "qemu") || strcmp(it->format, "pbs-vm") == 0)
		return "qemu";
	if (strstr(it->volid, "/ct/") || strstr(it->volid, "lxc") || strcmp(it->format, "pbs-ct") == 0)
		return "lxc";
	return "unknown";
}

/* The node a guest lives on now (backups follow their guest), or NULL. */
static const char *
guest_node(struct cycle *c, int64_t vmid)
{
	for (int i = 0; i < c->nguests; i++)
		if (c->guests[i].item.vmid == vmid)
			return c->guests[i].item.node;
	return NULL;
}

static void
note_last_backup(struct run *run, int64_t vmid, double t)
{
	for (int i = 0; i < run->nlast_backup; i++) {
		if (run->last_backup[i].vmid == vmid) {
			if (t > run->last_backup[i].t)
				run->last_backup[i].t = t;
			return;
		}
	}
	run->last_backup = xrealloc(run->last_backup, sizeof(*run->last_backup) *
	    (size_t)(run->nlast_backup + 1));
	run->last_backup[run->nlast_backup].vmid = vmid;
	run->last_backup[run->nlast_backup++].t = t;
}

static double
last_backup_of(const struct run *run, int64_t vmid)
{
	for (int i = 0; i < run->nlast_backup; i++)
		if (run->last_backup[i].vmid == vmid)
			return run->last_backup[i].t;
	return 0;
}

static int
by_time_desc(const void *a, const void *b)
{
	double x = ((const struct st_storage_backup *)a)->ctime, y = ((const struct st_storage_backup *)b)->ctime;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* Builds the backup lists of a backup cycle into run->backups (keeping the previous entries
 * of storage that could not be asked) and the newest backup per VMID. Returns 1 when there
 * is something to write, 0 when no node answered (the previous lists stay). */
static int
build_backups(struct run *run, struct cycle *c)
{
	struct st_backups b;
	const char *inst = run->cfg.name;
	int answered = 0;

	memset(&b, 0, sizeof(b));
	snprintf(b.instance_id, sizeof(b.instance_id), "%s", run->cfg.id);
	for (int i = 0; i < c->nnodes; i++) {
		struct node_work *nw = &c->nodes[i];
		if (!nw->have_tasks)
			continue;
		answered = 1;
		for (int k = 0; k < nw->ntasks; k++) {
			struct pve_task *t = &nw->tasks[k];
			struct st_backup_task *bt = st_add_task(&b);
			int64_t v = 0;
			snprintf(bt->id, sizeof(bt->id), "%s-%s", inst, t->upid);
			snprintf(bt->node, sizeof(bt->node), "%s", t->node[0] ? t->node : nw->item.node);
			snprintf(bt->instance, sizeof(bt->instance), "%s", inst);
			snprintf(bt->status, sizeof(bt->status), "%s", t->status);
			(void)parse_int64(t->id, 0, INT32_MAX, &v);
			bt->vmid = v;
			bt->start = (double)t->starttime;
			bt->end = (double)t->endtime;
		}
	}
	for (int i = 0; i < c->ncontents; i++) {
		struct content_work *cw = &c->contents[i];
		const char *node = c->nodes[cw->node].item.node;

		if (!cw->ok) {
			/* Keep what this storage held last time (§2.11). */
			for (int k = 0; k < run->backups.nstorage; k++) {
				struct st_storage_backup *old = &run->backups.storage[k];
				if (strcmp(old->storage, cw->storage) == 0)
					*st_add_storage_backup(&b) = *old;
			}
			continue;
		}
		answered = 1;
		for (int k = 0; k < cw->n; k++) {
			struct pve_content *it = &cw->items[k];
			struct st_storage_backup *sb;
			const char *gnode = guest_node(c, it->vmid);
			int dup = 0;

			for (int m = 0; m < b.nstorage && !dup; m++)
				dup = strcmp(b.storage[m].volid, it->volid) == 0;
			if (dup)
				continue;	/* shared storage lists the same volume on every node */
			sb = st_add_storage_backup(&b);
			snprintf(sb->id, sizeof(sb->id), "%s-%s", inst, it->volid);
			snprintf(sb->storage, sizeof(sb->storage), "%s", cw->storage);
			snprintf(sb->node, sizeof(sb->node), "%s", gnode ? gnode : node);
			snprintf(sb->instance, sizeof(sb->instance), "%s", inst);
			snprintf(sb->type, sizeof(sb->type), "%s", backup_type(it));
			snprintf(sb->format, sizeof(sb->format), "%s", it->format);
			snprintf(sb->notes, sizeof(sb->notes), "%s", it->notes);
			snprintf(sb->volid, sizeof(sb->volid), "%s", it->volid);
			snprintf(sb->verification, sizeof(sb->verification), "%s", it->verification);
			sb->vmid = it->vmid;
			sb->size = it->size;
			sb->ctime = (double)it->ctime;
			sb->protected_ = it->protected_;
			sb->verified = it->verified;
			sb->is_pbs = strcmp(cw->type, "pbs") == 0 || strncmp(cw->storage, "pbs-", 4) == 0;
		}
	}
	qsort(b.storage, (size_t)b.nstorage, sizeof(*b.storage), by_time_desc);
	for (int i = 0; i < c->nguests; i++) {
		struct guest_work *gw = &c->guests[i];
		for (int k = 0; k < gw->nsnaps; k++) {
			struct st_snapshot *sn = st_add_snapshot(&b);
			snprintf(sn->id, sizeof(sn->id), "%s-%s-%lld-%s", inst, gw->item.node,
			    (long long)gw->item.vmid, gw->snaps[k].name);
			snprintf(sn->name, sizeof(sn->name), "%s", gw->snaps[k].name);
			snprintf(sn->node, sizeof(sn->node), "%s", gw->item.node);
			snprintf(sn->instance, sizeof(sn->instance), "%s", inst);
			snprintf(sn->type, sizeof(sn->type), "%s", gw->item.type);
			snprintf(sn->description, sizeof(sn->description), "%s", gw->snaps[k].description);
			snprintf(sn->parent, sizeof(sn->parent), "%s", gw->snaps[k].parent);
			sn->vmid = gw->item.vmid;
			sn->time = (double)gw->snaps[k].snaptime;
			sn->vmstate = strcmp(gw->item.type, "qemu") == 0;
		}
	}
	if (!answered) {
		st_backups_free(&b);
		return 0;
	}
	st_backups_free(&run->backups);
	run->backups = b;
	for (int k = 0; k < b.nstorage; k++)
		note_last_backup(run, b.storage[k].vmid, b.storage[k].ctime);
	return 1;
}

/* --- the cycle ------------------------------------------------------------------------ */

static const struct db_stmt stmt_poll_ok = {
	"poll_status_ok",
	"INSERT INTO pulse.poll_status (instance_id, worker_id, last_attempt, last_success, "
	"consecutive_failures, connected, last_duration_ms, breaker_state) "
	"VALUES ($1, $2, now(), now(), 0, true, $3, 'closed') ON CONFLICT (instance_id) DO UPDATE SET "
	"worker_id = EXCLUDED.worker_id, last_attempt = now(), last_success = now(), "
	"consecutive_failures = 0, first_failure_at = NULL, connected = true, "
	"last_duration_ms = EXCLUDED.last_duration_ms, breaker_state = 'closed', retry_at = NULL",
	3,
};

static const struct db_stmt stmt_poll_fail = {
	"poll_status_fail",
	"INSERT INTO pulse.poll_status (instance_id, worker_id, last_attempt, last_error_at, "
	"last_error, error_category, consecutive_failures, first_failure_at, connected, "
	"last_duration_ms, breaker_state, breaker_since, retry_at) "
	"VALUES ($1, $2, now(), now(), $3, $4, 1, now(), false, $5, $6, now(), "
	"now() + make_interval(secs => $7::double precision)) "
	"ON CONFLICT (instance_id) DO UPDATE SET worker_id = EXCLUDED.worker_id, "
	"last_attempt = now(), last_error_at = now(), last_error = EXCLUDED.last_error, "
	"error_category = EXCLUDED.error_category, "
	"consecutive_failures = pulse.poll_status.consecutive_failures + 1, "
	"first_failure_at = coalesce(pulse.poll_status.first_failure_at, now()), connected = false, "
	"last_duration_ms = EXCLUDED.last_duration_ms, "
	"breaker_since = CASE WHEN pulse.poll_status.breaker_state = EXCLUDED.breaker_state "
	"  THEN pulse.poll_status.breaker_since ELSE now() END, "
	"breaker_state = EXCLUDED.breaker_state, retry_at = EXCLUDED.retry_at",
	7,
};

/* The circuit breaker: after three failures in a row the instance is retried only after a
 * delay doubling from 5 s up to poll_backoff_max (default one minute; the original allows 5
 * minutes, but a monitor should notice a recovery sooner). Returns the delay (0: closed). */
static double
breaker_delay(int failures)
{
	double d;

	if (failures < 3)
		return 0;
	d = 5.0 * pow(2, failures - 3);
	return d > P.backoff_max ? P.backoff_max : d;
}

static void
record_status(struct worker *w, struct run *run, int ok, double ms, const char *error,
    const char *category)
{
	char d[32], delay[32];
	double wait = breaker_delay(run->consecutive_failures);
	const char *p_ok[3] = {run->cfg.id, w->id, d};
	const char *p_fail[7] = {run->cfg.id, w->id, error, category, d,
	    wait > 0 ? "open" : "closed", delay};
	PGresult *res;

	snprintf(d, sizeof(d), "%.1f", ms);
	snprintf(delay, sizeof(delay), "%.1f", wait > 0 ? wait : P.interval);
	res = db_exec_stmt(w->db, ok ? &stmt_poll_ok : &stmt_poll_fail, ok ? p_ok : p_fail);
	if (res)
		PQclear(res);
}

static void
free_cycle(struct cycle *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < c->nnodes; i++)
		free(c->nodes[i].storage);
	for (int i = 0; i < c->nguests; i++) {
		free(c->guests[i].fs);
		free(c->guests[i].snaps);
	}
	for (int i = 0; i < c->nnodes; i++)
		free(c->nodes[i].tasks);
	for (int i = 0; i < c->ncontents; i++)
		free(c->contents[i].items);
	free(c->contents);
	free(c->guests);
	free(c->cluster_storage);
	free(c);
}

/* A failed cycle: keep the last state within the grace period, then show the instance's
 * nodes offline; after repeated authentication failures, a single placeholder node. */
static void
write_failed(struct worker *w, struct run *run, double now)
{
	struct st_instance s;
	char err[256];

	memset(&s, 0, sizeof(s));
	snprintf(s.instance_id, sizeof(s.instance_id), "%s", run->cfg.id);
	st_add_health(&s, run->cfg.name, 0);
	if (run->auth_failures >= AUTH_FAILURE_LIMIT) {
		struct st_node *n = st_add_node(&s);
		snprintf(n->id, sizeof(n->id), "%s-failed", run->cfg.name);
		snprintf(n->node, sizeof(n->node), "%.63s", run->cfg.name);
		snprintf(n->instance, sizeof(n->instance), "%s", run->cfg.name);
		snprintf(n->status, sizeof(n->status), "offline");
		snprintf(n->type, sizeof(n->type), "node");
		snprintf(n->connection_health, sizeof(n->connection_health), "error");
		n->nload = -1;
		n->last_seen = now;
	} else {
		/* Within the grace period the previous rows stay as they are. */
		if (run->last_success > 0 && now - run->last_success < P.grace) {
			st_instance_free(&s);
			return;
		}
		for (int i = 0; i < run->nnode_memos; i++) {
			struct st_node *n = st_add_node(&s);
			const char *node = run->nodes[i].node;
			if (run->cfg.is_cluster && run->cfg.cluster_name[0])
				snprintf(n->id, sizeof(n->id), "%s-%s", run->cfg.cluster_name, node);
			else
				snprintf(n->id, sizeof(n->id), "%s-%s", run->cfg.name, node);
			snprintf(n->node, sizeof(n->node), "%s", node);
			snprintf(n->display_name, sizeof(n->display_name), "%s", node);
			snprintf(n->instance, sizeof(n->instance), "%s", run->cfg.name);
			snprintf(n->status, sizeof(n->status), "offline");
			snprintf(n->type, sizeof(n->type), "node");
			snprintf(n->connection_health, sizeof(n->connection_health), "error");
			n->last_seen = run->last_success;
		}
	}
	if (st_write(w->db, &s, err, sizeof(err)) != 0)
		log_warn("msg=\"state write failed\" instance=%s error=\"%s\"", run->cfg.name, err);
	st_instance_free(&s);
}

static void
finish_cycle(struct worker *w, struct run *run)
{
	struct cycle *c = run->cycle;
	double now = clock_wall(), ms = (clock_monotonic() - c->started) * 1000.0;
	struct st_instance s;
	char err[256];

	run->cycle = NULL;
	run->gen++;
	if (c->auth_failed) {
		/* A ticket the server no longer knows (restarted, expired early): log in again
		 * next time. */
		free(run->conn.ticket);
		run->conn.ticket = NULL;
	}
	if (c->failed) {
		run->consecutive_failures++;
		if (c->auth_failed)
			run->auth_failures++;
		log_warn("msg=\"poll failed\" instance=%s consecutive=%d error=\"%s\"", run->cfg.name,
		    run->consecutive_failures, c->error);
		if (breaker_delay(run->consecutive_failures) > P.interval)
			run->next_poll = c->started + breaker_delay(run->consecutive_failures);
		record_status(w, run, 0, ms, c->error, c->auth_failed ? "permanent" : "transient");
		write_failed(w, run, now);
		free_cycle(c);
		return;
	}
	if (run->consecutive_failures > 0)
		log_info("msg=\"poll recovered\" instance=%s after_failures=%d", run->cfg.name,
		    run->consecutive_failures);
	run->consecutive_failures = 0;
	run->auth_failures = 0;
	run->last_success = now;

	if (c->backup_cycle && build_backups(run, c) &&
	    st_write_backups(w->db, &run->backups, err, sizeof(err)) != 0)
		log_warn("msg=\"backup write failed\" instance=%s error=\"%s\"", run->cfg.name, err);
	run->cycles++;

	memset(&s, 0, sizeof(s));
	snprintf(s.instance_id, sizeof(s.instance_id), "%s", run->cfg.id);
	for (int i = 0; i < c->nnodes; i++)
		build_node(run, c, i, now, st_add_node(&s));
	for (int i = 0; i < c->nguests; i++) {
		struct st_guest *g = st_add_guest(&s);
		build_guest(run, &c->guests[i], now, g);
		g->last_backup = last_backup_of(run, g->vmid);
	}
	/* Forget the counters of guests that are gone. */
	rates_sweep(run);
	if (run->cfg.monitor_storage)
		build_storage(run, c, &s);
	st_add_health(&s, run->cfg.name, 1);
	if (st_write(w->db, &s, err, sizeof(err)) != 0) {
		log_warn("msg=\"state write failed\" instance=%s error=\"%s\"", run->cfg.name, err);
		record_status(w, run, 0, ms, "state write failed", "transient");
	} else {
		record_status(w, run, 1, ms, "", "");
		log_debug("msg=\"polled\" instance=%s nodes=%d guests=%d storage=%d ms=%.0f", run->cfg.name,
		    s.nnodes, s.nguests, s.nstorage, ms);
	}
	st_instance_free(&s);
	free_cycle(c);
}

/* Shares still used by requests in flight are freed once the multi handle is idle. */
static void **retired_shares;
static int nretired;

static void
retire_share(void *share)
{
	retired_shares = xrealloc(retired_shares, sizeof(void *) * (size_t)(nretired + 1));
	retired_shares[nretired++] = share;
}

static void
free_retired_shares(void)
{
	for (int i = 0; i < nretired; i++)
		http_share_free(retired_shares[i]);
	free(retired_shares);
	retired_shares = NULL;
	nretired = 0;
}

static void
start_cycle(struct worker *w, struct run *run)
{
	char err[200];

	(void)w;
	if (!run->conn_ok) {
		if (instance_connect_params(&run->cfg, &run->conn, err, sizeof(err)) != 0) {
			log_warn("msg=\"instance not usable\" instance=%s error=\"%s\"", run->cfg.name, err);
			record_status(w, run, 0, 0, err, "permanent");
			return;
		}
		run->conn_ok = 1;
		/* Connections are reused only within one connection setting: a changed host,
		 * pin or credential never rides on a connection verified for the old one. */
		if (run->share)
			retire_share(run->share);
		run->share = http_share_new();
	}
	run->cycle = xcalloc(1, sizeof(*run->cycle));
	run->cycle->started = clock_monotonic();
	run->cycle->gen = run->gen;
	/* Backups on the first cycle and every backup_polling_cycles-th after it. */
	run->cycle->backup_cycle = run->cfg.monitor_backups && P.backup_cycles > 0 &&
	    run->cycles % (unsigned)P.backup_cycles == 0;
	if (pve_needs_ticket(&run->conn)) {
		struct http_request *req = pve_ticket_request(&run->conn);
		struct request_ctx *ctx = xcalloc(1, sizeof(*ctx));
		req->timeout_ms = P.timeout_ms;
		req->share = run->share;
		ctx->run = run;
		ctx->gen = run->gen;
		ctx->kind = REQ_TICKET;
		req->done = on_done;
		req->arg = ctx;
		run->cycle->pending++;
		track(ctx, req);
		enqueue(ctx);
		return;
	}
	submit(run, "/nodes", REQ_NODES, 0);
}

/* --- claims and configuration ------------------------------------------------------- */

static void
run_free(struct worker *w, struct run *run, int clear_state)
{
	char err[200];

	if (run->cycle) {
		/* In-flight answers for it are dropped by their generation check. */
		run->gen++;
		free_cycle(run->cycle);
		run->cycle = NULL;
	}
	(void)claim_release(w, DB_LOCK_INSTANCE, run->cfg.number);
	if (clear_state && st_clear(w->db, run->cfg.id, err, sizeof(err)) != 0)
		log_warn("msg=\"state not cleared\" instance=%s error=\"%s\"", run->cfg.id, err);
	pve_conn_clear(&run->conn);
	if (run->share)
		retire_share(run->share);
	instance_cfg_clear(&run->cfg);
	free(run->rates);
	st_backups_free(&run->backups);
	free(run->last_backup);
	free(run);
}

/* Requests still in flight hold a pointer to their run: a run is only freed between
 * cycles, after bumping its generation, and its context pointer is checked first. To keep
 * that simple, runs are never freed while a request of theirs is outstanding: they are
 * parked here and freed when the multi handle is idle. */
static struct run **parked;
static int nparked;

static void
park(struct run *run)
{
	parked = xrealloc(parked, sizeof(*parked) * (size_t)(nparked + 1));
	parked[nparked++] = run;
}

static void
sweep_parked(struct worker *w)
{
	if (http_multi_running(P.multi) != 0)
		return;
	for (int i = 0; i < nparked; i++)
		run_free(w, parked[i], 0);
	nparked = 0;
	free_retired_shares();
}

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Whether the connection settings are unchanged (a password login can then be kept). */
static int
same_connection(const struct instance_cfg *a, const struct instance_cfg *b)
{
	return strcmp(a->host, b->host) == 0 && strcmp(a->username, b->username) == 0 &&
	    strcmp(a->token_name, b->token_name) == 0 && strcmp(a->fingerprint, b->fingerprint) == 0 &&
	    a->verify_ssl == b->verify_ssl && same_str(a->password_enc, b->password_enc) &&
	    same_str(a->token_value_enc, b->token_value_enc);
}

/* Live workers are those with a database session now: a killed worker's session ends at
 * once, while its heartbeat row would still look fresh for a while. */
static const struct db_stmt stmt_alive_workers = {
	"poll_alive_workers",
	"SELECT count(DISTINCT application_name) FROM pg_stat_activity "
	"WHERE datname = current_database() AND application_name LIKE 'pulse-worker:%'",
	0,
};

/* How many instances this worker should hold: a fair share of the live workers. */
static int
fair_share(struct worker *w, int total)
{
	PGresult *res = db_exec_stmt(w->db, &stmt_alive_workers, NULL);
	int alive = 1;

	if (res) {
		alive = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}
	if (alive < 1)
		alive = 1;
	return (total + alive - 1) / alive;
}

static void
reconcile(struct worker *w)
{
	struct instance_cfg *cfgs;
	int n = instances_load(w->db, &cfgs), share, held = 0;

	if (n < 0)
		return;
	for (int i = 0; i < P.nruns; i++)
		P.runs[i]->keep = 0;
	/* Keep what is still configured (taking in its new settings), drop the rest. */
	for (int j = 0; j < n; j++) {
		for (int i = 0; i < P.nruns; i++) {
			struct run *run = P.runs[i];
			if (strcmp(run->cfg.id, cfgs[j].id) != 0 || strcmp(cfgs[j].type, "pve") != 0)
				continue;
			run->keep = 1;
			if (!claim_holds(w, DB_LOCK_INSTANCE, run->cfg.number)) {
				run->keep = 0;	/* the session was lost: the claim went with it */
				continue;
			}
			if (!same_connection(&run->cfg, &cfgs[j])) {
				pve_conn_clear(&run->conn);
				run->conn_ok = 0;
			}
			instance_cfg_clear(&run->cfg);
			run->cfg = cfgs[j];
			memset(&cfgs[j], 0, sizeof(cfgs[j]));
			held++;
		}
	}
	for (int i = 0; i < P.nruns; i++) {
		if (!P.runs[i]->keep) {
			struct run *run = P.runs[i];
			log_info("msg=\"instance released\" instance=%s", run->cfg.id);
			(void)claim_release(w, DB_LOCK_INSTANCE, run->cfg.number);
			run->gen++;
			park(run);
			P.runs[i--] = P.runs[--P.nruns];
		}
	}
	/* Claim more up to a fair share; give back any excess (a new worker came up). */
	share = fair_share(w, n);
	for (int j = 0; j < n && held < share; j++) {
		int mine = 0;
		if (cfgs[j].id[0] == '\0' || strcmp(cfgs[j].type, "pve") != 0)
			continue;
		for (int i = 0; i < P.nruns; i++)
			if (strcmp(P.runs[i]->cfg.id, cfgs[j].id) == 0)
				mine = 1;
		if (mine || claim_try(w, DB_LOCK_INSTANCE, cfgs[j].number) != 1)
			continue;
		struct run *run = xcalloc(1, sizeof(*run));
		run->cfg = cfgs[j];
		memset(&cfgs[j], 0, sizeof(cfgs[j]));
		run->next_poll = clock_monotonic();
		P.runs = xrealloc(P.runs, sizeof(*P.runs) * (size_t)(P.nruns + 1));
		P.runs[P.nruns++] = run;
		held++;
		log_info("msg=\"instance claimed\" instance=%s name=%s", run->cfg.id, run->cfg.name);
	}
	while (held > share && P.nruns > 0) {
		struct run *run = P.runs[--P.nruns];
		log_info("msg=\"instance handed over\" instance=%s", run->cfg.id);
		(void)claim_release(w, DB_LOCK_INSTANCE, run->cfg.number);
		run->gen++;
		park(run);
		held--;
	}
	for (int j = 0; j < n; j++)
		instance_cfg_clear(&cfgs[j]);
	free(cfgs);
}

/* --- entry points from the worker loop ----------------------------------------------- */

void
poll_init(struct worker *w)
{
	the_worker = w;
	http_global_init();
	P.multi = http_multi_new(8, 256);
	P.interval = (double)conf_int("pve_polling_interval");
	P.grace = (double)conf_int("node_offline_grace");
	P.backoff_max = (double)conf_int("poll_backoff_max");
	P.backup_cycles = (int)conf_int("backup_polling_cycles");
	P.timeout_ms = (long)conf_int("pve_timeout") * 1000;
	P.config_dirty = 1;
}

void
poll_config_changed(void)
{
	P.config_dirty = 1;
}

/* Called when the database session was lost: every claim went with it. */
void
poll_claims_lost(void)
{
	P.config_dirty = 1;
}

struct http_multi *
poll_multi(void)
{
	return P.multi;
}

/* Starts due cycles, gives up stuck ones, re-reads the configuration and claims. Returns
 * seconds until it wants to run again. */
double
poll_tick(struct worker *w)
{
	double now = clock_monotonic(), next = 1.0;

	if (P.config_dirty || now >= P.next_claim) {
		P.config_dirty = 0;
		reconcile(w);
		/* Unclaimed instances (a dead worker's) are tried again every interval. */
		P.next_claim = now + P.interval;
	}
	for (int i = 0; i < P.nruns; i++) {
		struct run *run = P.runs[i];
		if (run->cycle && now - run->cycle->started > CYCLE_TIMEOUT_S) {
			log_warn("msg=\"poll cycle timed out\" instance=%s", run->cfg.name);
			run->cycle->failed = 1;
			snprintf(run->cycle->error, sizeof(run->cycle->error), "poll timed out");
			run->cycle->pending = 0;
			finish_cycle(w, run);
		}
		if (run->cycle == NULL && now >= run->next_poll) {
			run->next_poll = now + P.interval;
			start_cycle(w, run);
		}
		if (run->cycle == NULL && run->next_poll - now < next)
			next = run->next_poll - now;
	}
	sweep_parked(w);
	return next > 0 ? next : 0;
}

void
poll_shutdown(struct worker *w)
{
	for (int i = 0; i < P.nruns; i++) {
		P.runs[i]->gen++;
		park(P.runs[i]);
	}
	P.nruns = 0;
	free(P.runs);
	P.runs = NULL;
	while (in_flight) {
		struct request_ctx *ctx = in_flight;
		untrack(ctx);
		/* Only those already handed to curl are in the multi handle. */
		if (ctx->req->easy)
			http_multi_remove(P.multi, ctx->req);
		http_request_free(ctx->req);
		free(ctx);
	}
	free(waiting);
	waiting = NULL;
	nwaiting = capwaiting = waiting_head = 0;
	http_multi_free(P.multi);
	P.multi = NULL;
	for (int i = 0; i < nparked; i++)
		run_free(w, parked[i], 0);
	free(parked);
	parked = NULL;
	nparked = 0;
	free_retired_shares();
}
