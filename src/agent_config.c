/* agent_config.c: a host agent's remote configuration (agents.md §6.5, §7): the override
 * in pulse.agent_host_config, mirrored on the host's row, and the assigned profile's
 * settings, read in one statement. */
#include "config.h"

#include "agent_config.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "state_rows.h"

#include <stdio.h>
#include <string.h>

/* The host (NULL columns when none), the override, and the settings of the profile assigned
 * to the id (the original compares the assignment's agent_id with the host id). */
static const struct db_stmt stmt_read = {
	"agent_config_read",
	"SELECT h.id IS NOT NULL, coalesce(h.token_id, ''), c.commands_enabled, p.config::text "
	"FROM (SELECT $1::text AS id) k "
	"LEFT JOIN pulse.agent_hosts h ON h.id = k.id AND NOT h.mock "
	"LEFT JOIN pulse.agent_host_config c ON c.host_id = k.id "
	"LEFT JOIN pulse.agent_profile_assignments a ON a.agent_id = k.id "
	"LEFT JOIN pulse.agent_profiles p ON p.id = a.profile_id",
	1,
};

int
agent_config_read(struct db *db, const char *host_id, struct agent_config_view *out)
{
	const char *params[1] = {host_id};
	PGresult *res = db_exec_stmt(db, &stmt_read, params);
	char err[64];

	memset(out, 0, sizeof(*out));
	out->commands_enabled = -1;
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		out->host_exists = PQgetvalue(res, 0, 0)[0] == 't';
		snprintf(out->host_token, sizeof(out->host_token), "%s", PQgetvalue(res, 0, 1));
		if (!PQgetisnull(res, 0, 2))
			out->commands_enabled = PQgetvalue(res, 0, 2)[0] == 't';
		if (!PQgetisnull(res, 0, 3))
			out->settings = jsonutil_parse(PQgetvalue(res, 0, 3),
			    (size_t)PQgetlength(res, 0, 3), err, sizeof(err));
	}
	PQclear(res);
	return 0;
}

void
agent_config_view_clear(struct agent_config_view *v)
{
	json_object_put(v->settings);
	v->settings = NULL;
}

struct json_object *
agent_config_json(const struct agent_config_view *v)
{
	struct json_object *o = json_object_new_object(), *copy = NULL;

	if (v->commands_enabled >= 0)
		jsonwrite_bool(o, "commandsEnabled", v->commands_enabled);
	if (jsonread_is_object(v->settings) && json_object_deep_copy(v->settings, &copy, NULL) == 0)
		json_object_object_add(o, "settings", copy);
	return o;
}

static const struct db_stmt stmt_set = {
	"agent_config_set",
	"INSERT INTO pulse.agent_host_config (host_id, commands_enabled) VALUES ($1, $2::boolean) "
	"ON CONFLICT (host_id) DO UPDATE SET commands_enabled = EXCLUDED.commands_enabled, "
	"updated_at = now()",
	2,
};

/* The host's document shows the override, else what its last report said (agent_host_doc). */
static const struct db_stmt stmt_set_host = {
	"agent_config_set_host",
	"UPDATE pulse.agent_hosts SET commands_enabled = $2::boolean, doc = (CASE WHEN "
	"coalesce($2::boolean, (report->'agent'->>'commandsEnabled')::boolean, false) "
	"THEN doc::jsonb || '{\"commandsEnabled\":true}' ELSE doc::jsonb - 'commandsEnabled' "
	"END)::json WHERE id = $1 AND NOT mock",
	2,
};

int
agent_config_set_commands(struct db *db, const char *host_id, int commands_enabled, char *err,
    size_t errlen)
{
	const char *params[2] = {host_id, commands_enabled < 0 ? NULL :
	    commands_enabled ? "true" : "false"};

	if (db_begin(db) != 0)
		goto fail;
	if (db_exec_stmt_ok(db, &stmt_set, params) != 0 ||
	    db_exec_stmt_ok(db, &stmt_set_host, params) != 0 || st_bump_version(db) != 0 ||
	    db_commit(db) != 0) {
		snprintf(err, errlen, "%s", db_error(db));
		db_rollback(db);
		return -1;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s", db_error(db));
	return -1;
}
