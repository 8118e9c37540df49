/* poll_pve.c: polling one Proxmox VE instance (state-proxmox.md §2): the requests of a
 * cycle, one handler per request kind for what each answer adds to it, and the write of the
 * result in one transaction. The derivations (§2.6-§2.9) are pve_derive.c's, the backups
 * (every few cycles) pve_backups.c's; the scheduling around it is poll.c's. */
#include "config.h"

#include "conf.h"
#include "arena.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "log.h"
#include "poller.h"
#include "pve_poll.h"
#include "pve.h"
#include "pve_cluster.h"
#include "pve_derive.h"
#include "pve_detail.h"
#include "state.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NODES PVE_MAX_NODES
#define MAX_GUESTS 20000
#define MAX_STORAGE 4096

/* What one node looked like, remembered across cycles. */
struct node_memo {
	char node[64];
	double rrd_at;			/* when the RRD memory was last read (30 s cache) */
	double rrd_available, rrd_used;
	int have_rrd_available, have_rrd_used;
	struct pve_node_seen seen;	/* last online, last memory */
};

/* What the poller remembers of an instance across cycles. */
struct pve_run {
	struct pve_endpoints eps;	/* where the instance can be reached (§2.2) */
	struct pve_rates rates;		/* guests' counters (§2.9) */
	struct node_memo nodes[MAX_NODES];
	int nnode_memos;
	struct pve_backups backups;	/* the last written, the newest per VMID */
	struct pve_meta_cache *meta;	/* guests' own details */
	double cluster_checked_at;	/* standalone: last look for a cluster */
	char joined_cluster[128];	/* a cluster found: recorded with the next write */
	struct pve_extras *x;		/* disks, ZFS, Ceph */
	int guests_seen;		/* guests listed in the last cycle: room made for them */
};

#define CYCLE(run) ((struct pve_cycle *)(run)->cycle)
#define PV(run) ((struct pve_run *)(run)->priv)

static struct node_memo *node_memo(struct run *run, const char *node);

/* The node a guest is on now, for replication status requests. */
static const char *
guest_node_of(struct run *run, int64_t vmid)
{
	return run->cycle ? pve_cycle_guest_node(CYCLE(run), vmid) : NULL;
}

/* A guest's detail answers, once used. */
static void
meta_release(struct guest_work *gw)
{
	struct json_object **held[] = {&gw->m_net, &gw->m_os, &gw->m_info, &gw->m_status,
	    &gw->m_config, &gw->m_ifaces};

	for (size_t k = 0; k < ARRAY_LEN(held); k++) {
		if (*held[k])
			json_object_put(*held[k]);
		*held[k] = NULL;
	}
}

/* A container's detail answers are all in: keep what is shown. */
static void
ct_meta_done(struct run *run, struct guest_work *gw)
{
	struct st_disk aggregate;

	memset(&aggregate, 0, sizeof(aggregate));
	st_disk_set(&aggregate, gw->f.item.maxdisk, gw->f.item.disk);
	pve_meta_ct(PV(run)->meta, gw->f.item.vmid, strcmp(gw->f.item.status, "running") == 0,
	    gw->m_status, gw->m_config, gw->m_ifaces, &aggregate, clock_wall());
	meta_release(gw);
}

/* Asks a guest's details: path below /nodes/{node}/{qemu|lxc}/{vmid}/. */
static void
submit_guest(struct run *run, int index, const char *what, int kind)
{
	struct guest_work *gw = &((struct pve_cycle *)run->cycle)->guests[index];
	char path[512];

	snprintf(path, sizeof(path), "/nodes/%s/%s/%lld/%s", gw->f.item.node, gw->f.item.type,
	    (long long)gw->f.item.vmid, what);
	poll_submit(run, path, kind, index);
}

static void start_requests_after_nodes(struct run *run);
static void write_endpoints(struct worker *w, struct run *run, double now);
static void record_joined_cluster(struct worker *w, struct run *run);

/* /nodes failed: the cycle fails with the reason. */
static void
nodes_failed(struct run *run, struct http_request *req)
{
	char err[256];
	int rc;
	struct json_object *d = proxmox_response_data(req, &rc, err, sizeof(err));

	if (d)
		json_object_put(d);
	CYCLE(run)->base.conn_failed = pve_endpoint_failure(req);
	poll_fail(run, "%s", rc != 0 ? err : "no data");
}

/* A cluster member that does not answer: mark it and ask /nodes of the next one in this
 * same cycle. Returns 1 when the request went out again. */
static int
failover(struct run *run, struct http_request *req)
{
	struct pve_cycle *c = CYCLE(run);
	struct pve_endpoints *e = &PV(run)->eps;
	int next;

	if (!pve_endpoint_failure(req) || e->n < 2)
		return 0;
	pve_endpoints_mark(e, c->ep, 0, req->error[0] ? req->error : "no answer", clock_wall());
	c->tried |= 1u << c->ep;
	next = pve_endpoints_pick(e, clock_wall());
	if (next < 0 || (c->tried & (1u << next))) {
		/* Every healthy one was tried: try those not tried in this cycle at all. */
		next = -1;
		for (int i = 0; i < e->n && next < 0; i++)
			if (!(c->tried & (1u << i)) && !e->ep[i].untrusted)
				next = i;
		if (next < 0)
			return 0;
		e->current = next;
	}
	c->ep = next;
	pve_endpoints_apply(e, next, &run->cfg, &run->conn);
	log_info("msg=\"trying the next cluster endpoint\" instance=%s url=\"%s\"", run->cfg.name,
	    e->ep[next].url);
	poll_submit(run, "/nodes", PVE_REQ_NODES, 0);
	return 1;
}
static void request_contents(struct run *run, int node);

/* --- requests --------------------------------------------------------------------- */

/* One guest of a list answer (cluster/resources shape) joins the cycle, unless it is a
 * template or of a kind not monitored. */
static void
add_guest(struct json_object *o, void *arg)
{
	struct run *run = arg;
	struct pve_cycle *c = CYCLE(run);
	struct pve_guest_item item;

	if (c->text == NULL)
		c->text = arena_new();
	if (c->nguests >= MAX_GUESTS || !pve_parse_guest(o, &item, c->text) || item.template)
		return;
	if (strcmp(item.type, "qemu") == 0 ? !run->cfg.monitor_vms : !run->cfg.monitor_containers)
		return;
	GROW(c->guests, c->nguests, c->capguests);
	c->guests[c->nguests++].f.item = item;
}

/* The guests are known: ask each one what the cycle needs of it. */
static void
guests_listed(struct run *run)
{
	struct pve_cycle *c = CYCLE(run);
	char path[512];

	if (c->guests == NULL)
		c->guests = xcalloc(1, sizeof(*c->guests));
	c->have_guests = 1;
	PV(run)->guests_seen = c->nguests;
	c->resources_at = clock_wall();
	c->guests_known = 1;
	pve_extras_guests_known(run, c->xc, guest_node_of);
	for (int i = 0; i < c->nguests; i++) {
		struct pve_guest_item *g = &c->guests[i].f.item;
		if (c->base.backup_cycle) {
			snprintf(path, sizeof(path), "/nodes/%s/%s/%lld/snapshot", g->node, g->type,
			    (long long)g->vmid);
			poll_submit(run, path, PVE_REQ_SNAPSHOTS, i);
		}
		if (strcmp(g->type, "lxc") == 0 && pve_meta_due(PV(run)->meta, g->vmid, 1, c->resources_at)) {
			/* Addresses, mounts, OS and OCI nature (§2.5 4g-4i). */
			struct guest_work *gw = &c->guests[i];
			gw->meta_ct = 1;
			gw->meta_pending = 1;
			submit_guest(run, i, "config", PVE_REQ_CT_CONFIG);
			if (strcmp(g->status, "running") == 0) {
				gw->meta_pending++;
				submit_guest(run, i, "status/current", PVE_REQ_CT_STATUS);
			}
		}
		if (strcmp(g->status, "running") != 0)
			continue;
		if (strcmp(g->type, "qemu") == 0) {
			snprintf(path, sizeof(path), "/nodes/%s/qemu/%lld/status/current", g->node,
			    (long long)g->vmid);
			poll_submit(run, path, PVE_REQ_VM_STATUS, i);
		} else {
			snprintf(path, sizeof(path), "/nodes/%s/lxc/%lld/rrddata?cf=AVERAGE&timeframe=hour",
			    g->node, (long long)g->vmid);
			poll_submit(run, path, PVE_REQ_CT_RRD, i);
		}
	}
}

/* --- answers: one handler per request kind ------------------------------------------ */

/* A list answer parsed into a new array sized by what came (at most max items): n items at
 * items, the cycle's to free. */
#define PARSE_LIST(data, max, parse, items, n) do { \
	int cap_ = poll_list_len((data), (max)); \
	(items) = xcalloc((size_t)cap_, sizeof(*(items))); \
	(n) = parse((data), (items), cap_); \
} while (0)

/* A member's /version probe. Detached (no cycle needed); index is the list's generation and
 * the endpoint. Any HTTP answer below 500 means the member's API is up. */
static void
on_ep_probe(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct pve_endpoints *e = &PV(run)->eps;
	int i = index % PVE_MAX_ENDPOINTS;
	char why[256];

	(void)c;
	(void)kind;
	if ((unsigned)(index / PVE_MAX_ENDPOINTS) != (e->gen & 0xffffff) || i >= e->n)
		return;
	e->ep[i].probing = 0;
	snprintf(why, sizeof(why), "%s", req->error[0] ? req->error : "HTTP error");
	if (req->status >= 500)
		snprintf(why, sizeof(why), "HTTP %ld", req->status);
	pve_endpoints_mark(e, i, req->status > 0 && req->status < 500, why, clock_wall());
}

/* /nodes: the nodes of the cycle, and the requests that follow from them. */
static void
on_nodes(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct json_object *data = poll_data(run, req, 0);
	struct pve_node_item items[MAX_NODES];
	const char *names[MAX_NODES];
	int online[MAX_NODES];
	int n;

	(void)kind;
	(void)index;
	if (data == NULL) {
		if (failover(run, req))
			return;
		nodes_failed(run, req);
		return;
	}
	pve_endpoints_mark(&PV(run)->eps, c->ep, 1, NULL, clock_wall());
	n = pve_parse_nodes(data, items, MAX_NODES);
	for (int i = 0; i < n; i++) {
		memset(&c->nodes[i], 0, sizeof(c->nodes[i]));
		c->nodes[i].item = items[i];
		c->nodes[i].online = strcmp(items[i].status, "online") == 0;
	}
	c->nnodes = n;
	json_object_put(data);
	if (c->nnodes == 0) {
		poll_fail(run, "no nodes in the answer");
		return;
	}
	start_requests_after_nodes(run);
	for (int i = 0; i < c->nnodes; i++) {
		names[i] = c->nodes[i].item.node;
		online[i] = c->nodes[i].online;
	}
	pve_extras_begin(run, c->xc, names, online, c->nnodes);
	if (!run->cfg.monitor_vms && !run->cfg.monitor_containers)
		c->guests_known = 1;
}

/* A node's status. Without available/buffers/cached the RRD tells the real use (§2.5 2b);
 * it is read at most every 30 s per node. */
static void
on_node_status(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct pve_node_facts *nw = &c->nodes[index];
	struct node_memo *memo = node_memo(run, nw->item.node);
	struct json_object *data = poll_data(run, req, 0);
	char path[512];

	(void)kind;
	if (data && pve_parse_node_status(data, &nw->status) == 0)
		nw->have_status = 1;
	if (data)
		json_object_put(data);
	if (!nw->have_status || nw->status.has_available || nw->status.has_avail ||
	    nw->status.has_buffers || nw->status.has_cached || memo == NULL)
		return;
	if (clock_wall() - memo->rrd_at >= 30) {
		snprintf(path, sizeof(path), "/nodes/%s/rrddata?cf=AVERAGE&ds=memavailable,memused,"
		    "memtotal&timeframe=hour", nw->item.node);
		poll_submit(run, path, PVE_REQ_NODE_RRD, index);
	} else {
		nw->rrd_available = memo->rrd_available;
		nw->rrd_used = memo->rrd_used;
		nw->have_rrd_available = memo->have_rrd_available;
		nw->have_rrd_used = memo->have_rrd_used;
	}
}

/* A node's RRD memory, remembered for 30 s. */
static void
on_node_rrd(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct pve_node_facts *nw = &c->nodes[index];
	struct node_memo *memo = node_memo(run, nw->item.node);
	struct json_object *data = poll_data(run, req, 0);

	(void)kind;
	if (data) {
		nw->have_rrd_available = proxmox_rrd_last(data, "memavailable", &nw->rrd_available) == 0;
		nw->have_rrd_used = proxmox_rrd_last(data, "memused", &nw->rrd_used) == 0;
		json_object_put(data);
	}
	if (memo) {
		memo->rrd_at = clock_wall();
		memo->rrd_available = nw->rrd_available;
		memo->rrd_used = nw->rrd_used;
		memo->have_rrd_available = nw->have_rrd_available;
		memo->have_rrd_used = nw->have_rrd_used;
	}
}

/* /cluster/resources: the guests. When the cluster view failed, each online node's own
 * lists instead (§2.5 5). */
static void
on_resources(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct json_object *data;
	char path[512], err[256];
	int before = c->nguests;

	(void)kind;
	(void)index;
	/* The list is read one guest at a time: at 10,000 guests its tree would be some 34 MB
	 * (3 MB of text); into room for as many as last time. */
	if (c->capguests < PV(run)->guests_seen) {
		c->guests = xrealloc(c->guests, sizeof(*c->guests) * (size_t)PV(run)->guests_seen);
		c->capguests = PV(run)->guests_seen;
	}
	if (proxmox_response_each(req, add_guest, run, err, sizeof(err)) >= 0) {
		guests_listed(run);
		return;
	}
	/* Refused: poll_data says why, as for any answer; a list cut short is dropped. */
	c->nguests = before;
	data = poll_data(run, req, 0);
	if (data == NULL) {
		for (int i = 0; i < c->nnodes; i++) {
			if (!c->nodes[i].online)
				continue;
			snprintf(path, sizeof(path), "/nodes/%s/qemu", c->nodes[i].item.node);
			poll_submit(run, path, PVE_REQ_NODE_QEMU, i);
			snprintf(path, sizeof(path), "/nodes/%s/lxc", c->nodes[i].item.node);
			poll_submit(run, path, PVE_REQ_NODE_LXC, i);
			c->fallback_pending += 2;
		}
		if (c->fallback_pending == 0)
			guests_listed(run);
		return;
	}
	json_object_put(data);	/* data that is not a list: no guests */
	guests_listed(run);
}

/* A standalone instance's /cluster/status: has it joined a cluster (§2.3 step 7)? */
static void
on_cluster_check(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct json_object *data;

	(void)c;
	(void)kind;
	(void)index;
	data = poll_data(run, req, 0);
	if (data) {
		struct pve_cluster_status st;
		if (pve_cluster_status_parse(data, &st) == 0 && pve_cluster_status_is_cluster(&st))
			snprintf(PV(run)->joined_cluster, sizeof(PV(run)->joined_cluster), "%s",
			    *st.name ? st.name : run->cfg.name);
		json_object_put(data);
	}
}

/* A node's own qemu or lxc list (the fallback of /cluster/resources). */
static void
on_node_guests(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct json_object *data = poll_data(run, req, 0);

	if (data && json_object_is_type(data, json_type_array)) {
		/* A node's list lacks what the cluster view has: its type and node. */
		for (size_t k = 0; k < json_object_array_length(data); k++) {
			struct json_object *o = json_object_array_get_idx(data, k);
			if (!json_object_is_type(o, json_type_object))
				continue;
			json_object_object_add(o, "type", json_object_new_string(kind == PVE_REQ_NODE_QEMU ?
			    "qemu" : "lxc"));
			json_object_object_add(o, "node", json_object_new_string(c->nodes[index].item.node));
			if (!json_object_object_get_ex(o, "maxcpu", NULL) &&
			    json_object_object_get_ex(o, "cpus", NULL))
				json_object_object_add(o, "maxcpu",
				    json_object_get(json_object_object_get(o, "cpus")));
			add_guest(o, run);
		}
	}
	if (data)
		json_object_put(data);
	if (--c->fallback_pending == 0)
		guests_listed(run);
}

/* A running VM's status; with the agent on, its filesystems and, every five minutes, its
 * interfaces, OS and agent version (§2.4). */
static void
on_vm_status(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct guest_work *gw = &c->guests[index];
	struct json_object *data = poll_data(run, req, 0);
	char path[512];

	(void)kind;
	if (data && pve_parse_vm_status(data, &gw->f.vm) == 0) {
		gw->f.have_vm = 1;
		gw->f.vm_at = clock_wall();
		if (gw->f.vm.agent) {
			snprintf(path, sizeof(path), "/nodes/%s/qemu/%lld/agent/get-fsinfo", gw->f.item.node,
			    (long long)gw->f.item.vmid);
			poll_submit(run, path, PVE_REQ_FSINFO, index);
			if (pve_meta_due(PV(run)->meta, gw->f.item.vmid, 0, gw->f.vm_at)) {
				gw->meta_vm = 1;
				gw->meta_pending = 3;
				submit_guest(run, index, "agent/network-get-interfaces", PVE_REQ_AG_NET);
				submit_guest(run, index, "agent/get-osinfo", PVE_REQ_AG_OS);
				submit_guest(run, index, "agent/info", PVE_REQ_AG_INFO);
			}
		}
	}
	if (data)
		json_object_put(data);
}

/* A VM's filesystems from the guest agent, or why there are none. */
static void
on_fsinfo(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct guest_work *gw = &c->guests[index];
	struct json_object *data = poll_data(run, req, 0), *list;
	struct pve_fs fs[32];

	(void)kind;
	if (data == NULL) {
		gw->f.fs_failure = pve_agent_failure_reason(req->status,
		    req->failure == HTTP_FAIL_TIMEOUT, req->response.data, req->response.len);
		return;
	}
	list = data;
	if (json_object_is_type(data, json_type_object))
		json_object_object_get_ex(data, "result", &list);
	gw->f.fs_listed = list && json_object_is_type(list, json_type_array) ?
	    (int)json_object_array_length(list) : 0;
	gw->f.nfs = pve_parse_fsinfo(data, fs, (int)ARRAY_LEN(fs));
	if (gw->f.nfs > 0) {
		gw->f.fs = xmalloc(sizeof(*gw->f.fs) * (size_t)gw->f.nfs);
		memcpy(gw->f.fs, fs, sizeof(*gw->f.fs) * (size_t)gw->f.nfs);
	}
	gw->f.have_fs = 1;
	json_object_put(data);
}

/* A running container's RRD memory. */
static void
on_ct_rrd(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct guest_work *gw = &c->guests[index];
	struct json_object *data = poll_data(run, req, 0);

	(void)kind;
	if (data == NULL)
		return;
	gw->f.have_rrd_available = proxmox_rrd_last(data, "memavailable", &gw->f.rrd_available) == 0;
	gw->f.have_rrd_used = proxmox_rrd_last(data, "memused", &gw->f.rrd_used) == 0;
	json_object_put(data);
}

/* /storage: the cluster-wide storage configuration. */
static void
on_storage(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct json_object *data = poll_data(run, req, 0);

	(void)kind;
	(void)index;
	if (data == NULL)
		return;
	PARSE_LIST(data, MAX_STORAGE, pve_parse_storage, c->cluster_storage, c->ncluster_storage);
	c->have_cluster_storage = 1;
	pve_extras_storage_types(run, c->xc, c->cluster_storage, c->ncluster_storage);
	json_object_put(data);
}

/* A node's storage; in a backup cycle, the backup volumes of each storage that holds
 * them. */
static void
on_node_storage(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct pve_node_facts *nw = &c->nodes[index];
	struct json_object *data = poll_data(run, req, 0);

	(void)kind;
	if (data == NULL)
		return;
	PARSE_LIST(data, 512, pve_parse_storage, nw->storage, nw->nstorage);
	nw->have_storage = 1;
	pve_extras_node_storage(run, c->xc, index, nw->storage, nw->nstorage);
	pve_extras_storage_types(run, c->xc, nw->storage, nw->nstorage);
	json_object_put(data);
	if (c->base.backup_cycle)
		request_contents(run, index);
}

/* A node's backup tasks (backup cycles). */
static void
on_tasks(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct pve_node_facts *nw = &c->nodes[index];
	struct json_object *data = poll_data(run, req, 0);

	(void)kind;
	if (data == NULL)
		return;
	PARSE_LIST(data, 500, pve_parse_tasks, nw->tasks, nw->ntasks);
	nw->have_tasks = 1;
	json_object_put(data);
}

/* A storage's backup volumes (backup cycles). */
static void
on_content(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct content_work *cw = &c->contents[index];
	struct json_object *data = poll_data(run, req, 0);

	(void)kind;
	if (data == NULL)
		return;
	PARSE_LIST(data, 4096, pve_parse_content, cw->items, cw->n);
	cw->ok = 1;
	json_object_put(data);
}

/* One of a VM's three guest-agent answers; all three in, only what is shown is kept. */
static void
on_agent(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct guest_work *gw = &c->guests[index];
	struct json_object **slot = kind == PVE_REQ_AG_NET ? &gw->m_net : kind == PVE_REQ_AG_OS ?
	    &gw->m_os : &gw->m_info;

	*slot = poll_data(run, req, 0);
	if (--gw->meta_pending == 0) {
		pve_meta_vm(PV(run)->meta, gw->f.item.vmid, gw->m_net, gw->m_os, gw->m_info,
		    clock_wall());
		meta_release(gw);
	}
}

/* A container's status or config. Both in: a running container without a known address is
 * asked its interfaces (§2.5 4i). */
static void
on_ct_meta(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct guest_work *gw = &c->guests[index];

	if (kind == PVE_REQ_CT_STATUS)
		gw->m_status = poll_data(run, req, 0);
	else
		gw->m_config = poll_data(run, req, 0);
	if (--gw->meta_pending > 0)
		return;
	if (gw->m_status && pve_meta_ct_wants_interfaces(gw->m_status, gw->m_config)) {
		gw->meta_pending = 1;
		submit_guest(run, index, "interfaces", PVE_REQ_CT_IFACES);
		return;
	}
	ct_meta_done(run, gw);
}

/* A container's interfaces, the last of its details. */
static void
on_ct_ifaces(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct guest_work *gw = &c->guests[index];

	(void)kind;
	gw->m_ifaces = poll_data(run, req, 0);
	gw->meta_pending = 0;
	ct_meta_done(run, gw);
}

/* A guest's snapshots (backup cycles). */
static void
on_snapshots(struct run *run, struct pve_cycle *c, int kind, int index, struct http_request *req)
{
	struct guest_work *gw = &c->guests[index];
	struct json_object *data = poll_data(run, req, 0);
	struct pve_snapshot snaps[64];

	(void)kind;
	if (data == NULL)
		return;
	gw->nsnaps = pve_parse_snapshots(data, snaps, (int)ARRAY_LEN(snaps));
	if (gw->nsnaps > 0) {
		gw->snaps = xmalloc(sizeof(*gw->snaps) * (size_t)gw->nsnaps);
		memcpy(gw->snaps, snaps, sizeof(*gw->snaps) * (size_t)gw->nsnaps);
	}
	json_object_put(data);
}

typedef void answer_handler(struct run *run, struct pve_cycle *c, int kind, int index,
    struct http_request *req);

/* Who handles the answer of each kind; pve_extras.c's are from PVE_REQ_EXTRAS_FROM on. */
static answer_handler *const handlers[PVE_REQ_EXTRAS_FROM] = {
	[PVE_REQ_EP_PROBE] = on_ep_probe,
	[PVE_REQ_NODES] = on_nodes,
	[PVE_REQ_NODE_STATUS] = on_node_status,
	[PVE_REQ_NODE_RRD] = on_node_rrd,
	[PVE_REQ_RESOURCES] = on_resources,
	[PVE_REQ_NODE_QEMU] = on_node_guests,
	[PVE_REQ_NODE_LXC] = on_node_guests,
	[PVE_REQ_CLUSTER_CHECK] = on_cluster_check,
	[PVE_REQ_VM_STATUS] = on_vm_status,
	[PVE_REQ_FSINFO] = on_fsinfo,
	[PVE_REQ_CT_RRD] = on_ct_rrd,
	[PVE_REQ_STORAGE] = on_storage,
	[PVE_REQ_NODE_STORAGE] = on_node_storage,
	[PVE_REQ_TASKS] = on_tasks,
	[PVE_REQ_CONTENT] = on_content,
	[PVE_REQ_SNAPSHOTS] = on_snapshots,
	[PVE_REQ_AG_NET] = on_agent,
	[PVE_REQ_AG_OS] = on_agent,
	[PVE_REQ_AG_INFO] = on_agent,
	[PVE_REQ_CT_STATUS] = on_ct_meta,
	[PVE_REQ_CT_CONFIG] = on_ct_meta,
	[PVE_REQ_CT_IFACES] = on_ct_ifaces,
};

static void
pve_handle(struct run *run, int kind, int index, struct http_request *req)
{
	struct pve_cycle *c = CYCLE(run);

	if (c == NULL && kind != PVE_REQ_EP_PROBE)
		return;
	if (kind >= PVE_REQ_EXTRAS_FROM) {
		(void)pve_extras_handle(run, c->xc, kind, index, req, clock_wall());
		if (c->guests_known)
			pve_extras_guests_known(run, c->xc, guest_node_of);
		return;
	}
	if (kind >= 0 && handlers[kind] != NULL)
		handlers[kind](run, c, kind, index, req);
}

/* Storage that holds backups and can be asked: enabled, and active. */
static void
request_contents(struct run *run, int node)
{
	struct pve_cycle *c = CYCLE(run);
	struct pve_node_facts *nw = &c->nodes[node];
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
		poll_submit(run, path, PVE_REQ_CONTENT, c->ncontents++);
	}
}

static void
start_requests_after_nodes(struct run *run)
{
	struct pve_cycle *c = CYCLE(run);
	char path[256];

	for (int i = 0; i < c->nnodes; i++) {
		if (!c->nodes[i].online)
			continue;
		snprintf(path, sizeof(path), "/nodes/%s/status", c->nodes[i].item.node);
		poll_submit(run, path, PVE_REQ_NODE_STATUS, i);
		if (run->cfg.monitor_storage || c->base.backup_cycle) {
			snprintf(path, sizeof(path), "/nodes/%s/storage", c->nodes[i].item.node);
			poll_submit(run, path, PVE_REQ_NODE_STORAGE, i);
		}
		if (c->base.backup_cycle) {
			snprintf(path, sizeof(path), "/nodes/%s/tasks?typefilter=vzdump&limit=500",
			    c->nodes[i].item.node);
			poll_submit(run, path, PVE_REQ_TASKS, i);
		}
	}
	if (run->cfg.monitor_vms || run->cfg.monitor_containers)
		poll_submit(run, "/cluster/resources?type=vm", PVE_REQ_RESOURCES, 0);
	if (run->cfg.monitor_storage)
		poll_submit(run, "/storage", PVE_REQ_STORAGE, 0);
	/* A standalone node may have joined a cluster since it was added: looked at every five
	 * minutes (§2.3 step 7). */
	if (!run->cfg.is_cluster && clock_wall() - PV(run)->cluster_checked_at >= 300) {
		PV(run)->cluster_checked_at = clock_wall();
		poll_submit(run, "/cluster/status", PVE_REQ_CLUSTER_CHECK, 0);
	}
}

/* --- derivations ---------------------------------------------------------------------- */

static struct node_memo *
node_memo(struct run *run, const char *node)
{
	for (int i = 0; i < PV(run)->nnode_memos; i++)
		if (strcmp(PV(run)->nodes[i].node, node) == 0)
			return &PV(run)->nodes[i];
	if (PV(run)->nnode_memos == MAX_NODES)
		return NULL;
	memset(&PV(run)->nodes[PV(run)->nnode_memos], 0, sizeof(PV(run)->nodes[0]));
	snprintf(PV(run)->nodes[PV(run)->nnode_memos].node, sizeof(PV(run)->nodes[0].node), "%s", node);
	return &PV(run)->nodes[PV(run)->nnode_memos++];
}

/* The node row of node i: the instance's endpoints say its health and URL. */
static void
build_node(struct run *run, struct pve_cycle *c, int i, double now, struct st_node *n)
{
	struct pve_node_facts *nf = &c->nodes[i];
	struct node_memo *memo = node_memo(run, nf->item.node);
	const struct pve_endpoints *e = &PV(run)->eps;
	struct pve_node_context ctx = {
		.cfg = &run->cfg,
		.nnodes = c->nnodes,
		.grace = poll_settings.grace,
		/* A cluster is healthy when every member answers, degraded when some do (§2.2). */
		.health = e->n > 1 ? pve_endpoints_health(e) : "healthy",
	};

	/* The URL this node is reached at: its own endpoint when it is one. */
	for (int k = 0; k < e->n; k++)
		if (strcmp(e->ep[k].node, nf->item.node) == 0)
			ctx.url = e->ep[k].url;
	pve_derive_node(&ctx, nf, memo ? &memo->seen : NULL, now, n);
}

/* What one guest's work holds besides itself. */
static void
release_guest(struct guest_work *gw)
{
	free(gw->f.fs);
	gw->f.fs = NULL;
	free(gw->snaps);
	gw->snaps = NULL;
	meta_release(gw);
}

/* The cycle's guests and what each holds. */
static void
release_guests(struct pve_cycle *c)
{
	for (int i = 0; i < c->nguests; i++)
		release_guest(&c->guests[i]);
	free(c->guests);
	c->guests = NULL;
	c->nguests = c->capguests = 0;
}

/* A backup cycle's task lists and storage contents (3 MB at 10,000 guests), once the
 * backup rows are built from them. */
static void
release_backup_answers(struct pve_cycle *c)
{
	for (int i = 0; i < c->nnodes; i++) {
		free(c->nodes[i].tasks);
		c->nodes[i].tasks = NULL;
		c->nodes[i].ntasks = 0;
	}
	for (int i = 0; i < c->ncontents; i++)
		free(c->contents[i].items);
	free(c->contents);
	c->contents = NULL;
	c->ncontents = c->capcontents = 0;
}

static void
pve_cycle_free(struct poll_cycle *base)
{
	struct pve_cycle *c = (struct pve_cycle *)base;

	if (c == NULL)
		return;
	for (int i = 0; i < c->nnodes; i++)
		free(c->nodes[i].storage);
	release_guests(c);
	if (c->text)
		arena_free(c->text);
	pve_extras_cycle_free(c->xc);
	release_backup_answers(c);
	free(c->cluster_storage);
	free(c);
}

/* A failed cycle: the connection unhealthy at once, the nodes offline after the grace
 * period, the rest as last seen; after repeated authentication failures, a single
 * placeholder node and nothing else (as the original). */
static void
pve_write_failed(struct worker *w, struct run *run, double now)
{
	struct st_instance s;
	char err[256];

	/* The endpoint used did not answer at all: the next cycle starts at another. */
	if (run->cycle && run->cycle->conn_failed && PV(run) && PV(run)->eps.n > 1)
		pve_endpoints_mark(&PV(run)->eps, CYCLE(run)->ep, 0, run->cycle->error, now);
	if (PV(run))
		write_endpoints(w, run, now);

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
		for (int i = 0; i < PV(run)->nnode_memos; i++) {
			struct st_node *n = st_add_node(&s);
			const char *node = PV(run)->nodes[i].node;
			pve_node_id(&run->cfg, node, n->id, sizeof(n->id));
			snprintf(n->node, sizeof(n->node), "%s", node);
			snprintf(n->display_name, sizeof(n->display_name), "%s", node);
			snprintf(n->instance, sizeof(n->instance), "%s", run->cfg.name);
			snprintf(n->status, sizeof(n->status), "offline");
			snprintf(n->type, sizeof(n->type), "node");
			snprintf(n->connection_health, sizeof(n->connection_health), "error");
			n->last_seen = run->last_success;
		}
		/* The connection is shown unusable at once; the nodes go offline once the
		 * grace period has passed since they were last seen (a worker that has just
		 * taken the instance over reads that from the rows), and the guests, storage
		 * and backups stay as last seen. */
		(void)st_set_down(w->db, run->cfg.id, run->cfg.name, poll_settings.grace);
		(void)alerts_evaluate_pve(w, run->cfg.id, &s, NULL, 1, now);
		st_instance_free(&s);
		return;
	}
	if (st_write(w->db, &s, err, sizeof(err)) != 0)
		log_warn("msg=\"state write failed\" instance=%s error=\"%s\"", run->cfg.name, err);
	else
		(void)alerts_evaluate_pve(w, run->cfg.id, &s, NULL, 1, now);
	st_instance_free(&s);
}

/* A standalone instance found to be in a cluster: marked as one (the members are read by
 * POST /api/config/nodes/{id}/refresh-cluster, as in the original). */
static const struct db_stmt stmt_joined = {
	"pve_joined_cluster",
	"UPDATE pulse.instances SET is_cluster = true, cluster_name = $2, updated_at = now() "
	"WHERE id = $1 AND NOT is_cluster",
	2,
};

static void
record_joined_cluster(struct worker *w, struct run *run)
{
	const char *params[2] = {run->cfg.id, PV(run)->joined_cluster};
	PGresult *res = db_exec_stmt(w->db, &stmt_joined, params);

	if (res) {
		log_info("msg=\"instance is now a cluster member\" instance=%s cluster=%s", run->cfg.name,
		    PV(run)->joined_cluster);
		PQclear(res);
		PV(run)->joined_cluster[0] = '\0';
	}
}

/* Endpoint health for the configuration API, when it changed (and once a minute). */
static void
write_endpoints(struct worker *w, struct run *run, double now)
{
	struct pve_endpoints *e = &PV(run)->eps;

	if (!run->cfg.is_cluster || (!e->dirty && now - e->written_at < 60))
		return;
	if (pve_endpoints_write(w->db, run->cfg.id, e) == 0)
		e->written_at = now;
}

/* The guest rows of s, in the cycle's order, built from the last guest to the first: the
 * cycle's work array shrinks behind them every GUEST_SHRINK_EVERY guests, and a row's
 * pages are first touched when it is built, so the rows and the work (424 and 720 bytes a
 * guest) are never both whole (an array of 1 MB or more has
 * pages of its own, main.c, and a shrinking realloc gives them back). The work is gone
 * afterwards. */
#define GUEST_SHRINK_EVERY 512

static void
build_guests(struct run *run, struct pve_cycle *c, struct st_instance *s, double now)
{
	int n = c->nguests;

	st_reserve_guests(s, n);
	for (int i = n - 1; i >= 0; i--) {
		struct st_guest *g = &s->guests[i];
		struct guest_work *gw = &c->guests[i];
		memset(g, 0, sizeof(*g));
		gw->f.resources_at = c->resources_at;
		pve_derive_guest(s, run->cfg.name, &gw->f, &PV(run)->rates, now, g);
		g->tags = st_text(s, gw->f.item.tags);
		pve_meta_apply(PV(run)->meta, s, g);
		g->last_backup = pve_backups_last(&PV(run)->backups, g->vmid);
		release_guest(gw);
		if (i > 0 && i % GUEST_SHRINK_EVERY == 0) {
			c->guests = xrealloc(c->guests, sizeof(*c->guests) * (size_t)i);
			c->nguests = c->capguests = i;
		}
	}
	s->nguests = n;
	release_guests(c);
}

static int
pve_write_ok(struct worker *w, struct run *run, double now, char *err, size_t errlen)
{
	struct pve_cycle *c = CYCLE(run);
	struct st_instance s;
	int rc;

	int backups_built = 0;

	/* Built before the guests (their lastBackup), written after them: a reader never sees
	 * an instance's backups before its guests. */
	if (c->base.backup_cycle)
		backups_built = pve_backups_build(&PV(run)->backups, &run->cfg, c);
	if (c->base.backup_cycle)
		pve_backups_read_pbs(&PV(run)->backups, w->db);
	release_backup_answers(c);

	memset(&s, 0, sizeof(s));
	snprintf(s.instance_id, sizeof(s.instance_id), "%s", run->cfg.id);
	for (int i = 0; i < c->nnodes; i++)
		build_node(run, c, i, now, st_add_node(&s));
	build_guests(run, c, &s, now);
	/* Forget the counters of guests that are gone. */
	pve_rates_sweep(&PV(run)->rates);
	if (c->have_guests)
		pve_meta_sweep(PV(run)->meta);
	if (run->cfg.monitor_storage)
		pve_derive_storage(&run->cfg, c->nodes, c->nnodes, c->cluster_storage,
		    c->ncluster_storage, &s);
	pve_extras_write(run, PV(run)->x, c->xc, &s, now);
	st_add_health(&s, run->cfg.name, 1);
	metrics_record_instance(&s, now);
	rc = st_write(w->db, &s, err, errlen);
	if (rc == 0)
		(void)alerts_evaluate_pve(w, run->cfg.id, &s, &PV(run)->backups.lists, 0,
		    now);
	if (rc == 0)
		log_debug("msg=\"polled\" instance=%s nodes=%d guests=%d storage=%d", run->cfg.name,
		    s.nnodes, s.nguests, s.nstorage);
	if (backups_built && st_write_backups(w->db, &PV(run)->backups.lists, err, errlen) != 0)
		log_warn("msg=\"backup write failed\" instance=%s error=\"%s\"", run->cfg.name, err);
	write_endpoints(w, run, now);
	if (PV(run)->joined_cluster[0])
		record_joined_cluster(w, run);
	st_instance_free(&s);
	return rc;
}

/* --- the product's entry points ------------------------------------------------------- */

static double
pve_interval(void)
{
	return poll_settings.pve_interval;
}

static struct poll_cycle *
pve_cycle_new(struct run *run)
{
	struct pve_cycle *c = xcalloc(1, sizeof(*c));

	if (run->priv == NULL) {
		run->priv = xcalloc(1, sizeof(struct pve_run));
		PV(run)->meta = pve_meta_new();
		PV(run)->x = pve_extras_new();
	}
	c->xc = pve_extras_cycle_new(&run->cfg, PV(run)->x, clock_wall());
	/* Backups on the first cycle and every backup_polling_cycles-th after it (or by the
	 * backup polling interval). */
	c->base.backup_cycle = run->cfg.monitor_backups &&
	    poll_backup_due(run, (unsigned)poll_settings.backup_cycles);
	return &c->base;
}

static void
pve_prepare(struct run *run)
{
	struct pve_endpoints *e = &PV(run)->eps;
	int i;

	pve_endpoints_sync(e, &run->cfg);
	i = pve_endpoints_pick(e, clock_wall());
	if (i >= 0) {
		CYCLE(run)->ep = i;
		pve_endpoints_apply(e, i, &run->cfg, &run->conn);
	}
}

static void
pve_begin(struct run *run)
{
	struct pve_endpoints *e = &PV(run)->eps;
	double now = clock_wall();

	poll_submit(run, "/nodes", PVE_REQ_NODES, 0);
	/* The other members are probed now and then so the health says who answers: those
	 * down every 10 s, the others every 30 s (§2.2). */
	for (int i = 0; i < e->n && e->n > 1; i++) {
		struct pve_endpoint *ep = &e->ep[i];
		struct proxmox_conn probe;
		if (i == CYCLE(run)->ep || ep->probing || ep->untrusted ||
		    now - ep->last_check < (ep->healthy ? 30 : 10))
			continue;
		/* No credentials: any answer below 500 shows the API is there (M4). */
		pve_endpoints_probe_conn(e, i, &run->cfg, &run->conn, &probe);
		ep->probing = 1;
		poll_submit_detached(run, &probe, "/version", PVE_REQ_EP_PROBE,
		    (int)(e->gen & 0xffffff) * PVE_MAX_ENDPOINTS + i, 5000);
	}
}

static void
pve_priv_free(void *priv)
{
	struct pve_run *p = priv;

	if (p == NULL)
		return;
	pve_rates_free(&p->rates);
	pve_meta_free(p->meta);
	pve_extras_free(p->x);
	pve_backups_free(&p->backups);
	free(p);
}

const struct poll_ops poll_pve_ops = {
	.type = "pve",
	.interval = pve_interval,
	.cycle_new = pve_cycle_new,
	.prepare = pve_prepare,
	.begin = pve_begin,
	.handle = pve_handle,
	.write_ok = pve_write_ok,
	.write_failed = pve_write_failed,
	.cycle_free = pve_cycle_free,
	.priv_free = pve_priv_free,
};
