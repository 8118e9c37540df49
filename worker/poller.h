/* poller.h: what the product pollers (poll_pve.c, poll_pbs.c, poll_pmg.c) share with the
 * scheduling core (poll.c). The core claims instances, runs one cycle per instance at a time
 * with every request in flight through one curl multi handle, handles password logins and
 * the circuit breaker, and records poll status; a product says which requests a cycle makes,
 * what to do with each answer and how to write the result. */
#ifndef PULSE_POLLER_H
#define PULSE_POLLER_H

#include "http.h"
#include "instances.h"
#include "proxmox.h"
#include "pve.h"
#include "worker.h"

#include <json-c/json.h>

/* After this many failed logins in a row an instance shows as failed (§2.4). */
#define AUTH_FAILURE_LIMIT 5

/* What every cycle has; a product's cycle starts with it. */
struct poll_cycle {
	unsigned gen;
	double started;			/* monotonic */
	int pending;			/* requests not yet answered */
	int failed;			/* an essential request failed: the cycle failed */
	int auth_failed;
	char error[256];
	int backup_cycle;		/* this cycle also polls backups */
	int conn_failed;		/* the server (endpoint) did not answer at all */
};

struct run;

struct poll_ops {
	const char *type;		/* pulse.instances.type: pve, pbs, pmg */
	double (*interval)(void);	/* seconds between cycles */
	/* A new zeroed cycle (its poll_cycle filled in by the core afterwards). */
	struct poll_cycle *(*cycle_new)(struct run *run);
	/* Optional: called before the cycle's first request (a login included), to choose
	 * where to send it. */
	void (*prepare)(struct run *run);
	/* Submits the cycle's first requests (after a login when one was needed). */
	void (*begin)(struct run *run);
	/* One answer of the current cycle. */
	void (*handle)(struct run *run, int kind, int index, struct http_request *req);
	/* The cycle succeeded: write its state. Returns 0, or -1 with a message in err. */
	int (*write_ok)(struct worker *w, struct run *run, double now, char *err, size_t errlen);
	/* The cycle failed (after run->consecutive_failures and auth_failures were counted;
	 * run->cycle is still the failed cycle). */
	void (*write_failed)(struct worker *w, struct run *run, double now);
	void (*cycle_free)(struct poll_cycle *c);
	void (*priv_free)(void *priv);
};

struct run {
	const struct poll_ops *ops;
	struct instance_cfg cfg;
	struct proxmox_conn conn;
	int conn_ok;
	void *share;			/* this connection's own connection cache */
	struct poll_cycle *cycle;	/* the cycle in progress, or NULL */
	unsigned gen;
	double next_poll;		/* monotonic */
	double last_success;		/* wall */
	int consecutive_failures, auth_failures;
	int keep;			/* still configured and claimed (mark and sweep) */
	int released;			/* given up: answers still in flight are dropped */
	unsigned cycles;		/* completed cycles, for the backup cadence */
	double last_backup;		/* monotonic: when a cycle last polled backups */
	void *priv;			/* the product's memory across cycles */
};

/* Settings every poller reads (poll_init fills them from the configuration). */
struct poll_settings {
	double grace;			/* seconds a silent node keeps its last state */
	double backoff_max;		/* the breaker's longest wait */
	int backup_cycles;		/* PVE backups every this many cycles (0: never) */
	long timeout_ms;		/* one request */
	double pve_interval, pbs_interval, pmg_interval;
	int backup_enabled;		/* backups polled at all */
	double backup_interval;		/* > 0: backups this often instead of by cycles */
	int temperature_enabled;
};
extern struct poll_settings poll_settings;

extern const struct poll_ops poll_pve_ops, poll_pbs_ops, poll_pmg_ops;

/* Whether the cycle starting now polls backups (metrics-reporting.md §5.7): never while
 * backup polling is off; with a backup interval, once that long has passed since the last
 * time; otherwise on the first cycle and every every_cycles-th after it (0: never). */
int poll_backup_due(struct run *run, unsigned every_cycles);

/* Queues a GET of path (below /api2/json) for the run's current cycle; the answer comes to
 * ops->handle with kind and index. */
void poll_submit(struct run *run, const char *path, int kind, int index);
/* The same through another connection setting (another endpoint of a cluster). */
void poll_submit_conn(struct run *run, const struct proxmox_conn *conn, const char *path, int kind,
    int index);
/* A request outside the cycle (the cycle does not wait for it): its answer comes to
 * ops->handle with run->cycle possibly NULL or a later cycle, unless the run was released. */
void poll_submit_detached(struct run *run, const struct proxmox_conn *conn, const char *path,
    int kind, int index, long timeout_ms);

/* The data value of an answer (a new reference), or NULL. A failure of an essential request
 * fails the cycle with its message; an authentication failure is noted either way. */
struct json_object *poll_data(struct run *run, struct http_request *req, int essential);

/* How many items a list answer has, at most max and at least 1: the size to allocate for
 * parsing it (answers are sized by what came, not by the largest possible). */
int poll_list_len(struct json_object *data, int max);

/* Marks the current cycle failed with a message. */
void poll_fail(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- endpoints of a PVE cluster (endpoints.c) --- */

#define PVE_MAX_ENDPOINTS 32

struct pve_endpoint {
	char url[300];			/* https://host:port */
	char node[64];			/* the member's node name; "" for the configured host */
	char pin[72];			/* the member's own certificate fingerprint, or "" */
	int untrusted;			/* its certificate cannot be checked: never contacted */
	int healthy;
	double last_check;		/* wall, 0: never */
	char error[200];
	int probing;			/* a probe is in flight */
};

struct pve_endpoints {
	char key[8192];			/* the settings they were built from */
	struct pve_endpoint ep[PVE_MAX_ENDPOINTS];
	int n, current;
	unsigned gen;			/* moves when the list is rebuilt */
	int dirty;			/* health changed since written */
	double written_at;
};

/* (Re)builds the list when the instance's settings changed: the configured host, then for a
 * cluster each member's URL (its name when TLS is verified, else its address). A member of
 * a pinned instance whose fingerprint was not learned from the primary (fingerprintSource
 * "primary") is listed untrusted and unreachable, and never contacted (M4). */
void pve_endpoints_sync(struct pve_endpoints *e, const struct instance_cfg *cfg);
/* The endpoint to use: the current one while it answers, else the next that does, else
 * the one tried longest ago; never an untrusted one. */
int pve_endpoints_pick(struct pve_endpoints *e, double now);
/* Points conn at endpoint i with the instance's TLS policy: verified stays verified, pinned
 * uses the member's learned pin (the instance's own for the configured host), and only an
 * instance without verification goes without (a member pin, when one is stored, still
 * applies). */
void pve_endpoints_apply(const struct pve_endpoints *e, int i, const struct instance_cfg *cfg,
    struct proxmox_conn *conn);
/* A connection for probing endpoint i: no credential at all, the TLS of apply. */
void pve_endpoints_probe_conn(const struct pve_endpoints *e, int i, const struct instance_cfg *cfg,
    const struct proxmox_conn *from, struct proxmox_conn *probe);
void pve_endpoints_mark(struct pve_endpoints *e, int i, int healthy, const char *error, double now);
/* healthy (all answer), degraded (some), error (none). */
const char *pve_endpoints_health(const struct pve_endpoints *e);
/* Whether a failed request says the endpoint itself is unusable (no answer, gateway errors). */
int pve_endpoint_failure(const struct http_request *req);
/* Replaces the instance's rows in pulse.endpoint_health. Returns 0 or -1. */
int pve_endpoints_write(struct db *db, const char *instance_id, struct pve_endpoints *e);

/* --- the request kinds of a PVE cycle --- */

/* Every request carries a kind that says which handler its answer goes to. The core's login
 * is POLL_REQ_TICKET; a product numbers its own kinds from 0 in one enum (PBS and PMG each in
 * their poller, PVE here because poll_pve.c and pve_extras.c share it). */
#define POLL_REQ_TICKET (-1)

enum pve_request {
	PVE_REQ_EP_PROBE, PVE_REQ_NODES, PVE_REQ_NODE_STATUS, PVE_REQ_NODE_RRD, PVE_REQ_RESOURCES,
	PVE_REQ_NODE_QEMU, PVE_REQ_NODE_LXC, PVE_REQ_CLUSTER_CHECK, PVE_REQ_VM_STATUS,
	PVE_REQ_FSINFO, PVE_REQ_CT_RRD, PVE_REQ_STORAGE, PVE_REQ_NODE_STORAGE, PVE_REQ_TASKS,
	PVE_REQ_CONTENT, PVE_REQ_SNAPSHOTS, PVE_REQ_AG_NET, PVE_REQ_AG_OS, PVE_REQ_AG_INFO,
	PVE_REQ_CT_STATUS, PVE_REQ_CT_CONFIG, PVE_REQ_CT_IFACES,
	/* pve_extras.c's, from PVE_REQ_EXTRAS_FROM on */
	PVE_REQ_DISKS, PVE_REQ_ZFS_LIST, PVE_REQ_ZFS_DETAIL, PVE_REQ_CEPH_STATUS, PVE_REQ_CEPH_DF,
	PVE_REQ_REPL, PVE_REQ_REPL_STATUS,
	PVE_REQ_EXTRAS_FROM = PVE_REQ_DISKS
};

/* --- disks, ZFS, Ceph, replication of a PVE instance (pve_extras.c) --- */

struct pve_extras;
struct pve_extras_cycle;
struct pve_storage_item;
struct st_instance;

struct pve_extras *pve_extras_new(void);
void pve_extras_free(struct pve_extras *x);
/* This cycle's plan: physical disks when due, ZFS every sixth cycle. */
struct pve_extras_cycle *pve_extras_cycle_new(const struct instance_cfg *cfg, struct pve_extras *x,
    double now);
void pve_extras_cycle_free(struct pve_extras_cycle *xc);
/* After /nodes: disks of the online nodes, and the replication list. */
void pve_extras_begin(struct run *run, struct pve_extras_cycle *xc, const char *const *nodes,
    const int *online, int n);
/* A node's storage list arrived: its ZFS pools on ZFS cycles. */
void pve_extras_node_storage(struct run *run, struct pve_extras_cycle *xc, int node,
    const struct pve_storage_item *st, int n);
/* Storage types known (cluster or node lists): Ceph when there is Ceph storage. */
void pve_extras_storage_types(struct run *run, struct pve_extras_cycle *xc,
    const struct pve_storage_item *st, int n);
/* Guests known (or not monitored): replication status requests can name their nodes. */
void pve_extras_guests_known(struct run *run, struct pve_extras_cycle *xc,
    const char *(*guest_node)(struct run *run, int64_t vmid));
/* An answer of kind >= PVE_REQ_EXTRAS_FROM: returns 1 when it was one of the extras'. */
int pve_extras_handle(struct run *run, struct pve_extras_cycle *xc, int kind, int index,
    struct http_request *req, double now);
/* Adds disks, Ceph and replication rows to s, and zfsPool to its storage. */
void pve_extras_write(struct run *run, struct pve_extras *x, struct pve_extras_cycle *xc,
    struct st_instance *s, double now);

/* --- what guests say about themselves (pve_meta.c) --- */

struct pve_meta_cache;
struct st_guest;
struct st_disk;

struct pve_meta_cache *pve_meta_new(void);
void pve_meta_free(struct pve_meta_cache *c);
/* Whether guest vmid's details should be asked this cycle (marks it seen either way). */
int pve_meta_due(struct pve_meta_cache *c, int64_t vmid, int is_ct, double now);
/* A VM's guest-agent answers (each NULL when it failed): network-get-interfaces, get-osinfo,
 * info. */
void pve_meta_vm(struct pve_meta_cache *c, int64_t vmid, struct json_object *net,
    struct json_object *osinfo, struct json_object *info, double now);
/* A container's status/current, config and interfaces answers (NULL when not asked or
 * failed); aggregate: its disk from cluster/resources, for the root entry. */
void pve_meta_ct(struct pve_meta_cache *c, int64_t vmid, int running, struct json_object *status,
    struct json_object *config, struct json_object *ifaces, const struct st_disk *aggregate,
    double now);
/* Whether a running container's interfaces must be asked (no address known otherwise). */
int pve_meta_ct_wants_interfaces(struct json_object *status, struct json_object *config);
/* Copies what is known of g (by VMID) into it: interfaces, addresses, OS, agent version,
 * container template, OCI type, per-mount disks. */
void pve_meta_apply(struct pve_meta_cache *c, struct st_instance *s, struct st_guest *g);
/* Forgets guests not seen since the last sweep. */
void pve_meta_sweep(struct pve_meta_cache *c);

#endif
