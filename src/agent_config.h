/* agent_config.h: a host agent's remote configuration (agents.md §6.5): the server-side
 * commandsEnabled override of a host id and the settings of the profile assigned to it
 * (§7), as GET /api/agents/host/{id}/config answers them; the override's write. */
#ifndef PULSE_AGENT_CONFIG_H
#define PULSE_AGENT_CONFIG_H

#include <json-c/json.h>

#include "db.h"

/* What the server holds for one host id. */
struct agent_config_view {
	int host_exists;		/* a reported (not mock) host has the id */
	char host_token[64];		/* its API token id, "" when none */
	int commands_enabled;		/* the override: -1 none, 0, 1 */
	struct json_object *settings;	/* the assigned profile's config (owned), or NULL */
};

/* Reads the view of host_id. 0, or -1 on a database error. Release with
 * agent_config_view_clear. */
int agent_config_read(struct db *db, const char *host_id, struct agent_config_view *out);
void agent_config_view_clear(struct agent_config_view *v);

/* The answer's "config" member: {"commandsEnabled"?: bool, "settings"?: {...}} (a new
 * object, the caller's; settings are copied). */
struct json_object *agent_config_json(const struct agent_config_view *v);

/* Sets (0, 1) or clears (-1) the commandsEnabled override of host_id, kept even when no
 * host has the id yet, and the stored host's document with it (state version moved), in one
 * transaction. 0, or -1 on a database error (err says what). */
int agent_config_set_commands(struct db *db, const char *host_id, int commands_enabled,
    char *err, size_t errlen);

#endif
