/* pve_derive.h: what turns parsed Proxmox VE answers into our state rows (state-proxmox.md
 * §2.6-§2.9): node memory with the available/cache rules, guest memory with balloon and agent
 * meminfo, rates from counters, node, guest and storage rows. No I/O and no database: the
 * poller (worker/poll_pve.c) gathers the answers and calls these. */
#ifndef PULSE_PVE_DERIVE_H
#define PULSE_PVE_DERIVE_H

#include <stddef.h>
#include <stdint.h>

#include "instances.h"
#include "pve.h"
#include "state.h"

/* What one poll cycle learned of a node: its /nodes entry, its status, RRD memory, storage
 * and (backup cycles) backup tasks. The storage and tasks arrays are the holder's to free. */
struct pve_node_facts {
	struct pve_node_item item;
	struct pve_node_status status;
	int have_status, online;
	double rrd_available, rrd_used;	/* RRD memory, when the status lacks the detail */
	int have_rrd_available, have_rrd_used;
	struct pve_storage_item *storage;
	int nstorage, have_storage;
	struct pve_task *tasks;		/* backup cycles only */
	int ntasks, have_tasks;
};

/* What a node looked like in earlier cycles (kept by the caller per node name). */
struct pve_node_seen {
	double last_online;		/* wall time it was last online, 0: never */
	struct st_memory memory;	/* kept when a status call fails */
};

/* What one poll cycle learned of a guest: its cluster/resources entry and, for a running
 * one, the VM status and agent filesystems or the container's RRD memory. fs is the
 * holder's to free. */
struct pve_guest_facts {
	struct pve_guest_item item;
	struct pve_vm_status vm;
	int have_vm;
	double vm_at;			/* when the VM status arrived (its counters' time) */
	struct pve_fs *fs;		/* from the guest agent, when it answered */
	int nfs, have_fs;
	int fs_listed;			/* filesystems the agent listed, before the filters */
	const char *fs_failure;		/* diskStatusReason when get-fsinfo failed, or NULL */
	double rrd_available, rrd_used;
	int have_rrd_available, have_rrd_used;
	double resources_at;		/* when the cluster/resources answer arrived, 0: unknown */
};

/* The I/O and network counters of each guest across cycles, by guest id (§2.9). */
struct pve_rate_memo;
struct pve_rates {
	struct pve_rate_memo *v;	/* sorted by id up to nsorted, new ones after */
	int n, cap, nsorted;
};

/* The rates of id's four counters (diskread, diskwrite, netin, netout) read at time at,
 * into out: the first sample gives 0, unchanged counters (PVE caches them) or no time
 * passed repeat the last rates, a counter that went back gives 0. */
void pve_rates_update(struct pve_rates *r, const char *id, const int64_t counters[4], double at,
    int64_t out[4]);
/* Forgets the guests not updated since the last sweep. */
void pve_rates_sweep(struct pve_rates *r);
void pve_rates_free(struct pve_rates *r);

/* A node's id, "<cluster name>-<node>" for a cluster member, else "<instance>-<node>": the
 * one spelling for nodes[].id and the nodeIds of shared storage, which clients match. */
void pve_node_id(const struct instance_cfg *cfg, const char *node, char *out, size_t len);

/* Cache-aware node memory (§2.6); seen (or NULL) gives the last poll's memory when the
 * status call failed. */
void pve_derive_node_memory(const struct pve_node_facts *f, const struct pve_node_seen *seen,
    struct st_memory *out);

/* What a node row needs beyond its facts. */
struct pve_node_context {
	const struct instance_cfg *cfg;
	int nnodes;			/* nodes the instance listed this cycle */
	double grace;			/* seconds a node that dropped out is still shown online */
	const char *health;		/* the connectionHealth of every node */
	const char *url;		/* the node's own endpoint URL, or NULL: the configured host */
};

/* The node row of f, at now. seen (or NULL) is read and updated: when the node was last
 * online and its memory. */
void pve_derive_node(const struct pve_node_context *ctx, const struct pve_node_facts *f,
    struct pve_node_seen *seen, double now, struct st_node *n);

/* VM memory: balloon-aware total, guest agent meminfo, then freemem, then mem (§2.7). */
void pve_derive_vm_memory(const struct pve_guest_facts *f, struct st_memory *m);

/* Why a VM's disk use is unknown when the agent gave no filesystems to count (the
 * original's diskStatusReason). A static string. */
const char *pve_vm_disk_reason(const struct pve_guest_facts *f, int running);

/* The guest row of f for instance, at now; its rates come from (and update) rates. */
void pve_derive_guest(struct st_instance *s, const char *instance, const struct pve_guest_facts *f, struct pve_rates *rates,
    double now, struct st_guest *g);

/* The storage rows of the nodes' storage lists into s: shared storage once for the
 * instance (cluster lists its nodes), the rest per node (§1.7). cluster: /storage, whose
 * shared flag counts too. */
void pve_derive_storage(const struct instance_cfg *cfg, const struct pve_node_facts *nodes, int nnodes,
    const struct pve_storage_item *cluster, int ncluster, struct st_instance *s);

#endif
