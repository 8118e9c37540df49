/* agent_config_register.h: POST /api/auto-register (agents.md §9.10): a Proxmox VE or Backup
 * Server that a host agent set up (user, API token) added as a configured instance, its
 * token updated when the host is known, or merged into its configured cluster, through
 * src/instances.h. */
#ifndef PULSE_AGENT_CONFIG_REGISTER_H
#define PULSE_AGENT_CONFIG_REGISTER_H

#include <stddef.h>

#include "db.h"

/* A registration as the agent sends it (strings trimmed by the caller). */
struct agent_register {
	const char *type;		/* "pve" or "pbs" */
	const char *host;		/* as sent: normalised by agent_register_check */
	const char *server_name;	/* the machine's hostname; the instance's name */
	const char *token_id;		/* user@realm!name */
	const char *token_value;
	const char *source;		/* "agent", "script" or "" */
};

/* Checks a registration and normalises its host into host_norm (https://host:port). 0, or
 * -1 with the reason in err (for a 400). */
int agent_register_check(const struct agent_register *reg, char *host_norm, size_t len,
    char *err, size_t errlen);

/* What a registration did. */
struct agent_register_result {
	char id[32];			/* the instance's id */
	char name[128];			/* its name */
	int added;			/* 1 added, 0 an existing instance's token updated */
	int merged;			/* 1: a node of the configured cluster id (name):
					 * its members merged in, nothing else stored */
	char cluster[128];		/* when merged: the cluster's name */
};

/* Stores a checked registration (host_norm from agent_register_check; fingerprint: the
 * server's certificate SHA-256 to pin, or "" to verify it as usual). An instance of the type
 * with the same host, or with the same name and token id (a new address from DHCP, as the
 * original), gets the new token (and host) in place. Otherwise a PVE server is asked for its
 * cluster with the registration's token (state-proxmox.md §2.3): a node of a cluster already
 * configured has its members merged into that instance (instances_merge_cluster; the
 * registration's token is not stored, the instance keeps its own); else a new instance is
 * added, with its cluster members when it is a cluster's node, the original's monitor flags
 * for a registration and a name made unique by its host. 0, or -1 on a database error (err
 * says what, never the token). */
int agent_register_store(struct db *db, const struct agent_register *reg, const char *host_norm,
    const char *fingerprint, struct agent_register_result *out, char *err, size_t errlen);

/* The certificate SHA-256 the server at host_norm shows (trust on first use, as the
 * original's registration); "" in out when it cannot be read in timeout_ms. */
void agent_register_fingerprint(const char *host_norm, long timeout_ms, char out[65]);

#endif
