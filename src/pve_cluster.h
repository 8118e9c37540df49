/* pve_cluster.h: a PVE cluster's members, from its /cluster/status, checked and pinned before
 * they become endpoints (state-proxmox.md §2.3). */
#ifndef PULSE_PVE_CLUSTER_H
#define PULSE_PVE_CLUSTER_H

#include <json-c/json.h>

#include "proxmox.h"

/* At most this many members are read from /cluster/status: each costs requests (L8). */
#define PVE_CLUSTER_MAX_MEMBERS 64

/* One "node" entry of /cluster/status. The strings are borrowed from the parsed answer. */
struct pve_cluster_member {
	const char *id, *name, *ip;
	int online, nodeid, local;
};

/* A /cluster/status answer, read. */
struct pve_cluster_status {
	const char *name;		/* the "cluster" entry's name; "" when there is none */
	int has_cluster_entry;
	int nodes;			/* "node" entries listed, all of them */
	int nmembers;			/* of which read into member[] */
	struct pve_cluster_member member[PVE_CLUSTER_MAX_MEMBERS];
};

/* Reads a /cluster/status data value into out; its strings point into data, which must
 * outlive out. Returns 0, or -1 when data is not a list (out then says standalone). */
int pve_cluster_status_parse(struct json_object *data, struct pve_cluster_status *out);

/* The one rule for "is a cluster": more than one node entry. A one-node cluster (a "cluster"
 * entry and one node) has no second endpoint to fail over to, so it stays standalone, at
 * add time and in the worker's re-check alike (docs/COMPATIBILITY.md). */
int pve_cluster_status_is_cluster(const struct pve_cluster_status *s);

/* What discovery found. */
struct pve_cluster {
	int is_cluster;
	char name[128];			/* "" when standalone */
	struct json_object *endpoints;	/* the member list as stored in
					 * pulse.instances.cluster_endpoints; the caller's */
};

/* Asks the server behind c for its cluster (§2.3). For a cluster, the members become
 * endpoints; with validate set they are first checked (each member's API answering, its
 * management address, its certificate pin as the primary tells it), keeping what previous
 * (the instance's earlier endpoint list as JSON text, or NULL) knew of IP overrides and guest
 * URLs. A server that cannot be asked is standalone. */
void pve_cluster_detect(struct proxmox_conn *c, int validate, const char *previous,
    struct pve_cluster *out);

#endif
