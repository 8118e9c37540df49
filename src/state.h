/* state.h: the live state of one monitored instance (nodes, guests, storage, connection
 * health) as the poller and the mock generator produce it, its JSON (the exact objects
 * /api/state serves), and writing it to PostgreSQL in one transaction. */
#ifndef PULSE_STATE_H
#define PULSE_STATE_H

#include <json-c/json.h>
#include <stdint.h>

#include "db.h"

struct arena;

struct st_memory {
	int64_t total, used, free;
	double usage;			/* percent */
	int64_t balloon, swap_used, swap_total;
};

struct st_disk {
	int64_t total, used, free;
	double usage;			/* percent, or -1 when unknown */
	char mountpoint[256], type[32], device[128];
};

/* A node's temperatures in degrees Celsius (the original's Temperature): written into the
 * node only when available. */
struct st_temperature {
	int available;
	double cpu_package, cpu_max;
	double cores[64];
	int ncores;
	double nvme[4];
	int nnvme;
	double last_update;		/* unix seconds */
};

struct st_node {
	char id[192], node[64], display_name[160], instance[128], host[256];
	char status[16], type[8], connection_health[16], cluster_name[128];
	double cpu;			/* fraction 0..1 */
	struct st_memory memory;
	struct st_disk disk;
	int64_t uptime;
	double load[3];
	int nload;			/* -1: null */
	char kernel_version[160], pve_version[160];
	char cpu_model[160];
	int64_t cpu_cores, cpu_sockets;
	double cpu_mhz;
	struct st_temperature temperature;
	double last_seen;		/* unix seconds */
	int is_cluster_member;
};

/* A guest's disk as a whole: figures only (no mountpoint, type or device). */
struct st_space {
	int64_t total, used, free;
	double usage;			/* percent, or -1 when unknown */
};

/* A guest row: 10,000 of them are held at once, so its text is a pointer into the
 * instance's text arena instead of a fixed array (NULL: none, where a guest may lack it). */
struct st_guest {
	/* In the instance's text (st_str, st_textf), never NULL ("" until set). */
	const char *id, *name, *instance;
	char node[64], status[32], type[8];
	int64_t vmid;
	double cpu;
	int64_t cpus;
	struct st_memory memory;
	struct st_space disk;
	struct st_disk *disks;
	int ndisks;
	const char *disk_status_reason;	/* a static string, set exactly when disk.usage is -1 */
	/* In the instance's text (st_text), or NULL. */
	const char *os_name, *os_version, *agent_version, *os_template;
	char **ip_addresses;
	int nip;
	int64_t net_in, net_out, disk_read, disk_write;	/* bytes per second */
	int64_t uptime;
	double last_backup;		/* unix seconds, 0: none */
	const char *tags;		/* comma-separated, in the instance's text (st_text), or NULL */
	char lock[32];
	int is_oci;
	struct json_object *net_ifaces;	/* networkInterfaces (a held reference), or NULL */
	double last_seen;
};

struct st_storage {
	char id[320], name[128], node[64], instance[128], type[32], status[16], content[256];
	char **nodes;			/* shared storage: the nodes reporting it */
	int nnodes;
	char **node_ids;
	int64_t total, used, avail;
	int shared, enabled, active;
	struct json_object *zfs_pool;	/* zfsPool of /api/storage/{id} (held), or NULL */
};

struct st_health {
	char key[160];
	int healthy;
};

/* Rows whose JSON comes ready-made from the parsers (pve_detail.h): a held document and the
 * columns SQL users query. */
struct st_disk_row {
	char id[400], node[64], dev_path[128], model[128], serial[128], type[16], health[32];
	int64_t size;
	int wearout;
	struct json_object *doc;
};

struct st_ceph_row {
	char id[200], fsid[64], health[32];
	int64_t total, used;
	int num_osds, num_osds_up;
	struct json_object *doc;
};

struct st_repl_row {
	char id[240], job_id[96], source[64], target[64], state[64], error[512];
	int64_t guest_id;		/* 0: none */
	double last_sync, next_sync;	/* unix seconds, 0: unknown */
	int fail_count;
	int sort;			/* position in the original's order (§1.13) */
	struct json_object *doc;
};

struct st_instance {
	char instance_id[64];		/* pulse.instances id, or a mock estate id */
	int mock;			/* of the mock estate: no configuration row */
	struct st_node *nodes;
	int nnodes, capnodes;
	struct st_guest *guests;
	int nguests, capguests;
	struct st_storage *storage;
	int nstorage, capstorage;
	struct st_health *health;
	int nhealth, caphealth;
	struct st_disk_row *disks;
	int ndisks, capdisks;
	struct st_ceph_row *ceph;
	int nceph, capceph;
	struct st_repl_row *repl;
	int nrepl, caprepl;
	struct arena *text;		/* the guests' rarer text (st_text), or NULL */
	const char *guest_instance;	/* the guests' instance, once (st_instance_name) */
};

/* Backups of one instance (state-proxmox.md §1.12), polled every few cycles and written on
 * their own: a cycle without a backup poll leaves them as they are. */
/* The backup lists are kept between cycles (thousands of rows at 10,000 guests): their
 * longer text is in the lists' arena (st_btext), never NULL ("" when empty). */
struct st_backup_task {
	const char *id, *instance, *status;
	char node[64];
	int64_t vmid;
	double start, end;		/* unix seconds; end 0 while running */
};

struct st_storage_backup {
	const char *id, *storage, *instance, *notes, *volid;
	char node[64], type[16], format[32], verification[32];
	int64_t vmid, size;
	double ctime;
	int protected_, is_pbs, verified;
};

struct st_snapshot {
	const char *id, *name, *instance, *description, *parent;
	char node[64], type[8];
	int64_t vmid;
	double time;
	int vmstate;
};

struct st_backups {
	char instance_id[64];
	int mock;			/* as st_instance.mock */
	struct st_backup_task *tasks;
	int ntasks, captasks;
	struct st_storage_backup *storage;
	int nstorage, capstorage;
	struct st_snapshot *snapshots;
	int nsnapshots, capsnapshots;
	struct arena *text;		/* the rows' text (st_btext), or NULL */
};

struct st_backup_task *st_add_task(struct st_backups *b);
struct st_storage_backup *st_add_storage_backup(struct st_backups *b);
struct st_snapshot *st_add_snapshot(struct st_backups *b);
/* A copy of v (or of the formatted text) that lives as long as b's lists; "" for NULL or
 * empty. */
const char *st_btext(struct st_backups *b, const char *v);
const char *st_btextf(struct st_backups *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds a copy of another list's storage backup to b, its text copied into b's. */
void st_add_storage_backup_copy(struct st_backups *b, const struct st_storage_backup *from);
/* The lists' arrays cut to what they hold (lists kept between cycles: the doubling leaves
 * up to half of an array unused, 1.4 MB of tasks at 10,000 guests). */
void st_backups_fit(struct st_backups *b);
void st_backups_free(struct st_backups *b);
struct json_object *st_task_json(const struct st_backup_task *t);
struct json_object *st_storage_backup_json(const struct st_storage_backup *b);
struct json_object *st_snapshot_json(const struct st_snapshot *s);
/* Replaces the instance's backup rows in one transaction. */
int st_write_backups(struct db *db, const struct st_backups *b, char *err, size_t errlen);

/* Growing the lists: each returns a zeroed new element. */
struct st_node *st_add_node(struct st_instance *s);
struct st_guest *st_add_guest(struct st_instance *s);
/* Room for n guests in all, so that adding them never moves the array (a doubling copy of
 * megabytes at 10,000 guests). */
void st_reserve_guests(struct st_instance *s, int n);
struct st_storage *st_add_storage(struct st_instance *s);
void st_add_health(struct st_instance *s, const char *key, int healthy);
struct st_disk_row *st_add_disk_row(struct st_instance *s);
struct st_ceph_row *st_add_ceph_row(struct st_instance *s);
struct st_repl_row *st_add_repl_row(struct st_instance *s);
void st_guest_add_disk(struct st_guest *g, const struct st_disk *d);
/* A copy of v that lives as long as s (freed by st_instance_free), or NULL when v is NULL or
 * empty: for the text of s's guests. */
const char *st_text(struct st_instance *s, const char *v);
/* The same, but "" (a literal) for NULL or empty: for text a guest always has. */
const char *st_str(struct st_instance *s, const char *v);
/* name in s's text, one copy for all the guests that give the same one. */
const char *st_instance_name(struct st_instance *s, const char *name);
/* A formatted string in s's text. */
const char *st_textf(struct st_instance *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void st_guest_add_ip(struct st_guest *g, const char *ip);
void st_storage_add_node(struct st_storage *st, const char *node, const char *node_id);
void st_instance_free(struct st_instance *s);

/* Memory and disk figures with usage and free derived from total and used. */
void st_memory_set(struct st_memory *m, int64_t total, int64_t used);
void st_disk_set(struct st_disk *d, int64_t total, int64_t used);
void st_space_set(struct st_space *d, int64_t total, int64_t used);
/* d's total, used, free and usage set to sp's (a guest's root disk from its disk figures). */
void st_disk_figures(struct st_disk *d, const struct st_space *sp);
/* A guest's disk whose use is not known (only its allocated size): usage -1, used 0, free =
 * total, and reason as diskStatusReason ("vm-stopped", "agent-disabled", ...), as the
 * original writes it whenever usage is -1; reason is a static string (it is not copied). */
void st_guest_disk_unknown(struct st_guest *g, const char *reason);

/* The original's Memory and Disk objects (also a host agent's, src/agent_host.c); new
 * references. */
struct json_object *st_memory_json(const struct st_memory *m);
struct json_object *st_disk_json(const struct st_disk *d);

/* The frontend JSON objects (state-proxmox.md §1.4-§1.7); new references. */
struct json_object *st_node_json(const struct st_node *n);
struct json_object *st_guest_json(const struct st_guest *g);
struct json_object *st_storage_json(const struct st_storage *st, int detail);

/* Replaces everything the database holds for s->instance_id with s, in one transaction, and
 * moves the state version (readers rebuild /api/state). Returns 0, or -1 with the database's
 * message in err. */
int st_write(struct db *db, const struct st_instance *s, char *err, size_t errlen);

/* Replaces an instance's nodes, guests, storage, health, disk, Ceph and replication rows
 * inside a write begun by st_begin (state_rows.h); the PBS and PMG writes use it for their
 * storage and health rows. */
int st_write_rows(struct db *db, const struct st_instance *s);

/* Sets one connection health entry of an instance (the rest of its state unchanged). */
int st_set_health(struct db *db, const char *instance_id, const char *key, int healthy);

/* A Proxmox VE instance that does not answer: its connection health false at once, and its
 * nodes last seen more than grace seconds ago shown offline; its guests, storage and backups
 * stay as last seen (the original keeps them too). Moves the state version only when a row
 * changed. Returns 0 or -1. */
int st_set_down(struct db *db, const char *instance_id, const char *key, double grace);

/* Removes an instance's state (instance deleted, or no longer polled). */
int st_clear(struct db *db, const char *instance_id, char *err, size_t errlen);

#endif
