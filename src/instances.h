/* instances.h: configured PVE/PBS/PMG connections (pulse.instances): loading them, and
 * turning one into a connection with its secrets opened. */
#ifndef PULSE_INSTANCES_H
#define PULSE_INSTANCES_H

#include "db.h"
#include "proxmox.h"

struct instance_cfg {
	char id[32], type[8], name[128], host[256], guest_url[256];
	char username[128], token_name[256], fingerprint[65], cluster_name[128];
	char *password_enc, *token_value_enc;	/* sealed values, owned */
	int verify_ssl;
	int monitor_vms, monitor_containers, monitor_storage, monitor_backups;
	int monitor_physical_disks;		/* -1: unset (enabled) */
	int physical_disk_polling_minutes;
	int temperature_monitoring;		/* -1: unset */
	int monitor_datastores, monitor_sync_jobs, monitor_verify_jobs, monitor_prune_jobs,
	    monitor_garbage_jobs;
	int monitor_mail_stats, monitor_queues, monitor_quarantine, monitor_domain_stats;
	int is_cluster;
	char *cluster_endpoints;		/* JSON text, owned */
	int number;				/* pulse.instances.number: the advisory-lock key */
};

/* The columns instances_from_row() expects, in order. */
#define INSTANCE_COLUMNS \
	"id, type, name, host, guest_url, username, password_enc, token_name, token_value_enc, " \
	"fingerprint, verify_ssl, monitor_vms, monitor_containers, monitor_storage, " \
	"monitor_backups, monitor_physical_disks, physical_disk_polling_minutes, " \
	"temperature_monitoring_enabled, monitor_datastores, monitor_sync_jobs, " \
	"monitor_verify_jobs, monitor_prune_jobs, monitor_garbage_jobs, monitor_mail_stats, " \
	"monitor_queues, monitor_quarantine, monitor_domain_stats, is_cluster, cluster_name, " \
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

/* Envelope contexts: a sealed password cannot be passed off as a token secret. */
#define SECRET_CTX_PASSWORD "pulse.instances.password"
#define SECRET_CTX_TOKEN "pulse.instances.token_value"

#endif
