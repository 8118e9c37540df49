/* instances.h: configured PVE/PBS/PMG connections (pulse.instances): the monitor flags
 * declared once (INSTANCE_FLAGS), loading them, the INSERT/UPDATE of a cfg and a mask of
 * fields, turning one into a connection with its secrets opened, and a new node of a configured
 * cluster merged into that instance. */
#ifndef PULSE_INSTANCES_H
#define PULSE_INSTANCES_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "db.h"
#include "proxmox.h"

/* The monitor flags, declared once: JSON name, column (also the field of struct
 * instance_cfg), default on add, and the types that have it (INSTANCE_TYPE_*). Everything
 * else about them (the struct fields, INSTANCE_COLUMNS, reading a row, the node API's body,
 * answer and SQL) is derived from this list. */
#define INSTANCE_FLAGS(X) \
	X(monitorVMs, monitor_vms, INSTANCE_FLAG_ON, INSTANCE_TYPE_PVE) \
	X(monitorContainers, monitor_containers, INSTANCE_FLAG_ON, INSTANCE_TYPE_PVE) \
	X(monitorStorage, monitor_storage, INSTANCE_FLAG_ON, INSTANCE_TYPE_PVE) \
	X(monitorBackups, monitor_backups, INSTANCE_FLAG_ON, INSTANCE_TYPE_PVE | INSTANCE_TYPE_PBS) \
	X(monitorDatastores, monitor_datastores, INSTANCE_FLAG_OFF, INSTANCE_TYPE_PBS) \
	X(monitorSyncJobs, monitor_sync_jobs, INSTANCE_FLAG_OFF, INSTANCE_TYPE_PBS) \
	X(monitorVerifyJobs, monitor_verify_jobs, INSTANCE_FLAG_OFF, INSTANCE_TYPE_PBS) \
	X(monitorPruneJobs, monitor_prune_jobs, INSTANCE_FLAG_OFF, INSTANCE_TYPE_PBS) \
	X(monitorGarbageJobs, monitor_garbage_jobs, INSTANCE_FLAG_OFF, INSTANCE_TYPE_PBS) \
	X(monitorMailStats, monitor_mail_stats, INSTANCE_FLAG_UNLESS_OTHERS, INSTANCE_TYPE_PMG) \
	X(monitorQueues, monitor_queues, INSTANCE_FLAG_OFF, INSTANCE_TYPE_PMG) \
	X(monitorQuarantine, monitor_quarantine, INSTANCE_FLAG_OFF, INSTANCE_TYPE_PMG) \
	X(monitorDomainStats, monitor_domain_stats, INSTANCE_FLAG_OFF, INSTANCE_TYPE_PMG)

enum instance_type_bit { INSTANCE_TYPE_PVE = 1, INSTANCE_TYPE_PBS = 2, INSTANCE_TYPE_PMG = 4 };

/* A flag's default. UNLESS_OTHERS: on unless another flag of its type is on (PMG mail
 * statistics: the original monitors them when nothing else of a PMG is chosen). */
enum instance_flag_default { INSTANCE_FLAG_OFF, INSTANCE_FLAG_ON, INSTANCE_FLAG_UNLESS_OTHERS };

struct instance_cfg {
	char id[32], type[8], name[128], host[256], guest_url[256];
	char username[128], token_name[256], fingerprint[65], cluster_name[128];
	char *password_enc, *token_value_enc;	/* sealed values, owned */
	int verify_ssl;
#define INSTANCE_FLAG_FIELD(json, column, def, types) int column;
	INSTANCE_FLAGS(INSTANCE_FLAG_FIELD)
#undef INSTANCE_FLAG_FIELD
	int monitor_physical_disks;		/* -1: unset (enabled) */
	int physical_disk_polling_minutes;
	int temperature_monitoring;		/* -1: unset */
	int is_cluster;
	char *cluster_endpoints;		/* JSON text, owned */
	int number;				/* pulse.instances.number: the advisory-lock key */
};

/* One monitor flag, as INSTANCE_FLAGS declares it. */
struct instance_flag {
	const char *json, *column;
	enum instance_flag_default def;
	unsigned types;				/* INSTANCE_TYPE_* bits */
	size_t offset;				/* of its field in struct instance_cfg */
};

#define INSTANCE_FLAG_COUNT(json, column, def, types) +1
enum { INSTANCE_NFLAGS = 0 INSTANCE_FLAGS(INSTANCE_FLAG_COUNT) };
#undef INSTANCE_FLAG_COUNT

extern const struct instance_flag instance_flags[INSTANCE_NFLAGS];

/* The INSTANCE_TYPE_* bit of a type name ("pve", "pbs", "pmg"), 0 for another. */
unsigned instance_type_bit(const char *type);
/* Flag i (of instance_flags) of c. */
int instance_flag_get(const struct instance_cfg *c, int i);
void instance_flag_set(struct instance_cfg *c, int i, int value);
/* Flag i's value as the node API shows it: an UNLESS_OTHERS flag is on when no flag of its
 * type is. */
int instance_flag_shown(const struct instance_cfg *c, int i);
/* Flag i's value on add: the value given (given[i] set), else its default; an UNLESS_OTHERS
 * flag not given is on unless another flag of its type is given as on. */
int instance_flag_on_add(int i, const int *given, const int *value);

#define INSTANCE_FLAG_COLUMN(json, column, def, types) ", " #column

/* The columns instances_from_row() expects, in order. */
#define INSTANCE_COLUMNS \
	"id, type, name, host, guest_url, username, password_enc, token_name, token_value_enc, " \
	"fingerprint, verify_ssl" INSTANCE_FLAGS(INSTANCE_FLAG_COLUMN) ", monitor_physical_disks, " \
	"physical_disk_polling_minutes, temperature_monitoring_enabled, is_cluster, cluster_name, " \
	"cluster_endpoints, number"

void instances_from_row(PGresult *res, int row, struct instance_cfg *out);
void instance_cfg_clear(struct instance_cfg *c);

/* Loads every configured instance (ordered by type then number). Returns the count, or -1
 * on a database error; *out is the caller's (free each with instance_cfg_clear, then free). */
int instances_load(struct db *db, struct instance_cfg **out);

/* A connection for cfg: secrets opened from the envelope (the caller clears the connection
 * with proxmox_conn_clear). Returns 0, or -1 with a message (never holding a secret). */
int instance_connect_params(const struct instance_cfg *cfg, struct proxmox_conn *conn, char *err,
    size_t errlen);

enum proxmox_product instance_product(const char *type);

/* The columns an INSERT or UPDATE of pulse.instances can set, one bit each in a mask of the
 * fields present; flag i of instance_flags is INSTANCE_F_FLAG + i. */
enum instance_field {
	INSTANCE_F_ID, INSTANCE_F_NUMBER, INSTANCE_F_TYPE, INSTANCE_F_NAME, INSTANCE_F_HOST,
	INSTANCE_F_GUEST_URL, INSTANCE_F_TOKEN_NAME, INSTANCE_F_TOKEN_VALUE_ENC, INSTANCE_F_USERNAME,
	INSTANCE_F_PASSWORD_ENC, INSTANCE_F_FINGERPRINT, INSTANCE_F_VERIFY_SSL, INSTANCE_F_FLAG,
	INSTANCE_F_PHYSICAL_DISKS = INSTANCE_F_FLAG + INSTANCE_NFLAGS, INSTANCE_F_TEMPERATURE,
	INSTANCE_F_DISK_MINUTES, INSTANCE_F_IS_CLUSTER, INSTANCE_F_CLUSTER_NAME,
	INSTANCE_F_CLUSTER_ENDPOINTS, INSTANCE_F_COUNT
};
#define INSTANCE_BIT(field) (UINT64_C(1) << (field))

/* A statement built from a cfg: its text and parameters ($1 ... in order). The parameters
 * point into the cfg (which must outlive them) or into this struct; a boolean of -1
 * (monitor_physical_disks, temperature_monitoring) is NULL. */
struct instance_sql {
	const char *value[INSTANCE_F_COUNT];	/* set by the caller before building: a field's
						 * text instead of the cfg's (a request's
						 * value may be longer than the cfg holds) */
	char *text;				/* owned: instance_sql_clear */
	const char *params[INSTANCE_F_COUNT];
	int nparams;
	char number[24], minutes[24];
};

/* INSERT INTO pulse.instances of the fields in present (columns not present take their
 * defaults). out starts zeroed, or with values set. */
void instances_insert_sql(const struct instance_cfg *c, uint64_t present, struct instance_sql *out);
/* UPDATE pulse.instances of the fields in present (at least one) and updated_at, WHERE
 * id = c->id ($1). */
void instances_update_sql(const struct instance_cfg *c, uint64_t present, struct instance_sql *out);
void instance_sql_clear(struct instance_sql *s);

/* --- a node of an already configured cluster (state-proxmox.md §2.3 step 6) -------------- */

struct instance_merge {
	char id[32], name[128];		/* the cluster's instance */
	int total_endpoints;		/* the endpoints it lists after the merge */
};

/* Merges the members a newly added node's server gave (endpoints, as pve_cluster_detect
 * makes them; not changed) into the configured PVE instance of the cluster named cluster, in
 * one transaction: a member the instance does not list by node name yet is added, marked
 * unconfirmed, since the new node's server vouched for it, not the instance's: the worker
 * leaves it alone (no credentials of that instance go there) until refresh-cluster asks its
 * own server (M3, M4). Returns 1 merged (out filled), 0 when no instance of that cluster is
 * configured, -1 on a database error (err says what). */
int instances_merge_cluster(struct db *db, const char *cluster, struct json_object *endpoints,
    struct instance_merge *out, char *err, size_t errlen);

/* Envelope contexts: a sealed password cannot be passed off as a token secret. */
#define SECRET_CTX_PASSWORD "pulse.instances.password"
#define SECRET_CTX_TOKEN "pulse.instances.token_value"

#endif
