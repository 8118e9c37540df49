/* state_servers.h: the live state of Proxmox Backup Server and Mail Gateway instances
 * (state-proxmox.md §1.10-§1.12), its JSON, and its one-transaction writes. */
#ifndef PULSE_STATE_SERVERS_H
#define PULSE_STATE_SERVERS_H

#include <json-c/json.h>
#include <stdint.h>

#include "db.h"
#include "pbs.h"
#include "pmg.h"

struct st_pbs_namespace {
	char path[256], parent[256];
	int depth;
};

struct st_pbs_datastore {
	char name[128], status[32], error[256];
	int64_t total, used, avail;
	double dedup;			/* 0: unknown */
	struct st_pbs_namespace *ns;	/* NULL with nns 0: namespaces not read */
	int nns, capns;
};

struct st_pbs {
	char instance_id[64];
	int mock;			/* as st_instance.mock */
	char name[128], host[256], guest_url[256], status[16], version[64], health[16];
	double cpu;			/* percent 0-100, as pbs[].cpu */
	double memory_usage;		/* percent */
	int64_t memory_used, memory_total, uptime;
	struct st_pbs_datastore *ds;
	int nds, capds;
	int have_datastores;		/* 0: "datastores": null */
	double last_seen;
};

struct st_pbs_backup {
	char id[800], instance[128], datastore[128], ns[256], backup_type[8], backup_id[128],
	    comment[256], owner[128];
	double backup_time;
	int64_t size;
	int protected_, verified;
	char **files;
	int nfiles;
};

struct st_pbs_backups {
	char instance_id[64];
	int mock;			/* as st_instance.mock */
	struct st_pbs_backup *items;
	int n, cap;
};

struct st_pmg_queue {
	int64_t active, deferred, hold, incoming, total, oldest_age;
	double updated;
};

struct st_pmg_node {
	char name[128], status[32], role[32];
	int has_queue;
	struct st_pmg_queue queue;
};

struct st_pmg_point {
	double time;
	double v[PMG_NSTATS];		/* count .. greylist as in a mailcount point */
	int index;
};

struct st_pmg_spam {
	char score[32];
	double count;
};

struct pmg_history;

struct st_pmg {
	char instance_id[64];
	int mock;			/* as st_instance.mock */
	char name[128], host[256], guest_url[256], status[16], version[64], health[16];
	struct st_pmg_node *nodes;
	int nnodes, capnodes;
	int has_mail;
	double mail[PMG_NSTATS];
	double mail_updated;
	struct st_pmg_point *points;
	int npoints, cappoints;
	struct st_pmg_spam *spam;
	int nspam, capspam;
	int has_quarantine;
	int64_t q_spam, q_virus, q_attachment, q_blacklisted;
	double last_seen, last_updated;
	/* Samples of earlier polls for the alert checks (src/alert_pmg.h), or NULL; not owned. */
	const struct pmg_history *history;
};

struct st_pmg_backup {
	char id[400], instance[128], node[128], filename[256];
	double time;
	int64_t size;
};

struct st_pmg_backups {
	char instance_id[64];
	struct st_pmg_backup *items;
	int n, cap;
};

struct st_pbs_datastore *st_pbs_add_datastore(struct st_pbs *p);
void st_pbs_datastore_add_ns(struct st_pbs_datastore *d, const char *path, const char *parent);
void st_pbs_free(struct st_pbs *p);
struct st_pbs_backup *st_pbs_add_backup(struct st_pbs_backups *b);
void st_pbs_backup_add_file(struct st_pbs_backup *b, const char *file);
void st_pbs_backups_free(struct st_pbs_backups *b);
struct st_pmg_node *st_pmg_add_node(struct st_pmg *p);
struct st_pmg_point *st_pmg_add_point(struct st_pmg *p);
struct st_pmg_spam *st_pmg_add_spam(struct st_pmg *p);
void st_pmg_free(struct st_pmg *p);
struct st_pmg_backup *st_pmg_add_backup(struct st_pmg_backups *b);
void st_pmg_backups_free(struct st_pmg_backups *b);

/* The /api/state objects; new references. */
struct json_object *st_pbs_json(const struct st_pbs *p);
struct json_object *st_pbs_backup_json(const struct st_pbs_backup *b);
struct json_object *st_pmg_json(const struct st_pmg *p);
struct json_object *st_pmg_backup_json(const struct st_pmg_backup *b);

/* Replaces everything of the instance in one transaction: the PBS row, its datastores, the
 * datastores' rows in pulse.storage (when store_rows), and connection health "pbs-{name}". */
int st_write_pbs(struct db *db, const struct st_pbs *p, int store_rows, char *err, size_t errlen);
int st_write_pbs_backups(struct db *db, const struct st_pbs_backups *b, char *err, size_t errlen);
/* The PMG row, its nodes, connection health "pmg-{name}" and (when b is not NULL) its
 * backups. */
int st_write_pmg(struct db *db, const struct st_pmg *p, const struct st_pmg_backups *b, char *err,
    size_t errlen);

#endif
