/* sysconfig.h: the system settings of the original's Settings → System page
 * (metrics-reporting.md §5): the values in effect (a pulse.conf key as the baseline, what
 * POST /api/system/settings/update stored in pulse.system_settings over it, a PULSE_*
 * environment variable pinning it), the checks and merge rules of that update, and the
 * JSON of GET /api/system/settings and GET /api/config/system. */
#ifndef PULSE_SYSCONFIG_H
#define PULSE_SYSCONFIG_H

#include <json-c/json.h>
#include <stddef.h>

#include "db.h"

/* Every write of pulse.system_settings is announced on this channel (settings.c), so that
 * responders and workers apply a change without a restart. */
#define SYSCONFIG_CHANNEL "pulse_settings"

/* What the responders and workers act on. */
struct sysconfig {
	int pve_interval, pbs_interval, pmg_interval;	/* seconds between polls */
	int backup_enabled;
	int backup_interval;		/* seconds; 0: every backup_cycles poll cycles */
	int backup_cycles;
	int connection_timeout;		/* seconds one request to a Proxmox server may take */
	int temperature_enabled;
	int hide_local_login;
	int disable_docker_updates;
	int allow_embedding;
	char allowed_origins[1024];	/* CORS; empty: none */
	char embed_origins[2048];	/* frame-ancestors when embedding is allowed */
};

/* The values in effect: the configuration's, with the stored settings over them where no
 * environment variable pins the key. Returns 0, or -1 (database) with the configuration's
 * values in *out. */
int sysconfig_load(struct db *db, struct sysconfig *out);
/* The configuration's values alone. */
void sysconfig_from_conf(struct sysconfig *out);

/* The answer of GET /api/system/settings (§5.4), or with older set that of GET
 * /api/config/system (§5.8: envOverrides holds only hideLocalLogin). A new object, or NULL
 * (database). */
struct json_object *sysconfig_settings_json(struct db *db, int older);

/* The answer of GET /api/config (state-proxmox.md §9): {"csrfProtection": false,
 * "autoUpdateEnabled", "updateChannel"} (the stored channel, else "stable"). A new object,
 * or NULL (database). */
struct json_object *sysconfig_client_json(struct db *db);

/* POST /api/system/settings/update (§5.5): checks body as the original does, then writes
 * the keys it takes under the merge rules of §5.2 in one transaction (announced on
 * SYSCONFIG_CHANNEL at commit). Returns 0 with the names of the keys taken in changed
 * (comma list, cut to changedlen), 1 for bad input (the original's message in err; nothing
 * written), or -1 (database). */
int sysconfig_update(struct db *db, struct json_object *body, char *err, size_t errlen,
    char *changed, size_t changedlen);

#endif
