/* pve_poll.h: what the PVE poller's files (poll_pve.c, pve_backups.c) share: one cycle's
 * answers as they come in, and the backups remembered across cycles. */
#ifndef PULSE_PVE_POLL_H
#define PULSE_PVE_POLL_H

#include "poller.h"
#include "pve.h"
#include "pve_derive.h"
#include "state.h"

#define PVE_MAX_NODES 256

/* A guest's answers in one cycle. */
struct guest_work {
	struct pve_guest_facts f;	/* what the derivations read */
	struct pve_snapshot *snaps;	/* backup cycles only */
	int nsnaps;
	/* details asked this cycle (pve_meta.c): held answers, NULL when failed */
	int meta_vm, meta_ct, meta_pending;
	struct json_object *m_net, *m_os, *m_info, *m_status, *m_config, *m_ifaces;
};

/* One storage's backup volumes, asked for in a backup cycle. */
struct content_work {
	int node;
	char storage[128], type[32];
	struct pve_content *items;
	int n, ok;
};

/* One poll of one instance, from the first request to the write. */
struct pve_cycle {
	struct poll_cycle base;
	int ep;				/* the endpoint this cycle uses */
	unsigned tried;			/* endpoints tried for /nodes in this cycle (bits) */
	struct pve_node_facts nodes[PVE_MAX_NODES];
	int nnodes;
	struct guest_work *guests;
	int nguests, capguests, have_guests;
	struct arena *text;		/* the guests' tags; NULL until one has some */
	double resources_at;		/* when /cluster/resources arrived */
	struct pve_storage_item *cluster_storage;
	int ncluster_storage, have_cluster_storage;
	struct content_work *contents;
	int ncontents, capcontents;
	struct pve_extras_cycle *xc;	/* disks, ZFS, Ceph, replication */
	int fallback_pending;		/* per-node guest lists still to come (§2.5 5) */
	int guests_known;		/* guests listed (or not monitored) */
};

/* The node guest vmid is on in this cycle, or NULL. */
const char *pve_cycle_guest_node(const struct pve_cycle *c, int64_t vmid);

/* --- backups (pve_backups.c) --- */

struct vmid_time {
	int64_t vmid;
	double t;			/* unix seconds */
};

/* The newest backup time of each VMID in one set of backup lists, sorted by VMID. Rebuilt
 * whole each time its lists are read, so a backup deleted upstream stops counting. */
struct newest_backups {
	struct vmid_time *v;
	int n, cap;
};

/* An instance's backups across cycles (§1.12). */
struct pve_backups {
	struct st_backups lists;	/* the last written, kept for failed storages */
	struct newest_backups storage_newest;	/* of those backups, per VMID */
	struct newest_backups pbs_newest;	/* in the PBS backups as last read, per VMID */
};

/* Builds the backup lists of a backup cycle into b->lists (keeping the previous entries of
 * storage that could not be asked) and the newest backup per VMID. Returns 1 when there is
 * something to write, 0 when no node answered (the previous lists stay). */
int pve_backups_build(struct pve_backups *b, const struct instance_cfg *cfg, const struct pve_cycle *c);
/* Reads the newest PBS backup of each VMID again: what the Backup Server pollers last wrote,
 * so a snapshot forgotten there (or a whole group) no longer counts. When the query fails
 * the previous reading stands. */
void pve_backups_read_pbs(struct pve_backups *b, struct db *db);
/* A guest's lastBackup: the newer of its backups on this instance's storage and those of
 * its VMID on any Backup Server (§1.5), as the lists stand after their last reading; 0
 * when it has none there. */
double pve_backups_last(const struct pve_backups *b, int64_t vmid);
void pve_backups_free(struct pve_backups *b);

#endif
