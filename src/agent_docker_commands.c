/* agent_docker_commands.c: a Docker host's command slot (agents.md §4.5, §4.6) and its
 * management (§4.7): queue, dispatch, ack, removal with its block, flags and name. */
#include "config.h"

#include "agent_docker.h"
#include "agent_host.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "state_rows.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ACTIVE "('queued', 'dispatched', 'acknowledged', 'in_progress')"

static const struct db_stmt stmt_expire = {
	"docker_cmd_expire",
	"UPDATE pulse.docker_commands SET status = 'expired', updated_at = now(), "
	"failure_reason = 'command expired before agent acknowledged it' WHERE host_id = $1 AND "
	"status IN " ACTIVE " AND expires_at <= now()",
	1,
};

/* Sent again until acknowledged (the answer that carried it may have been lost); never once
 * acknowledged (agents.md §4.5 QUIRK 5: docs/COMPATIBILITY.md). */
static const struct db_stmt stmt_dispatch = {
	"docker_cmd_dispatch",
	"UPDATE pulse.docker_commands SET status = 'dispatched', updated_at = now(), "
	"dispatched_at = coalesce(dispatched_at, now()) WHERE host_id = $1 AND status IN "
	"('queued', 'dispatched') RETURNING id, type, coalesce(payload::text, '')",
	1,
};

int
agent_docker_command_for_report(struct db *db, const char *host_id, struct json_object **out)
{
	const char *params[1] = {host_id};
	PGresult *res;
	struct json_object *cmd, *payload;

	*out = NULL;
	if (db_exec_stmt_ok(db, &stmt_expire, params) != 0 ||
	    (res = db_exec_stmt(db, &stmt_dispatch, params)) == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		cmd = json_object_new_object();
		jsonwrite_str(cmd, "id", PQgetvalue(res, 0, 0));
		jsonwrite_str(cmd, "type", PQgetvalue(res, 0, 1));
		payload = PQgetvalue(res, 0, 2)[0] ? json_tokener_parse(PQgetvalue(res, 0, 2)) :
		    NULL;
		if (payload && json_object_object_length(payload) > 0)
			json_object_object_add(cmd, "payload", payload);
		else
			json_object_put(payload);
		*out = cmd;
	}
	PQclear(res);
	return 0;
}

/* --- queueing (§4.5) ------------------------------------------------------------------- */

static const struct db_stmt stmt_host = {
	"docker_cmd_host",
	"SELECT status FROM pulse.docker_hosts WHERE id = $1 AND NOT mock FOR UPDATE",
	1,
};

/* A new command takes the slot unless the one there is under way (check_updates also waits
 * for one in progress) and not past its time. */
static const struct db_stmt stmt_queue = {
	"docker_cmd_queue",
	"INSERT INTO pulse.docker_commands AS c (host_id, id, type, status, message, payload) "
	"VALUES ($1, gen_random_uuid()::text || CASE WHEN $3 <> '' THEN ':' || $3 ELSE '' END, $2, "
	"'queued', $4, nullif($5, '')::json) ON CONFLICT (host_id) DO UPDATE SET id = EXCLUDED.id, "
	"type = EXCLUDED.type, status = 'queued', message = EXCLUDED.message, "
	"payload = EXCLUDED.payload, created_at = now(), updated_at = now(), dispatched_at = NULL, "
	"acknowledged_at = NULL, completed_at = NULL, failed_at = NULL, "
	"expires_at = now() + interval '10 minutes', failure_reason = '' "
	"WHERE c.expires_at <= now() "
	"OR NOT (c.status IN ('queued', 'dispatched', 'acknowledged') OR "
	"(EXCLUDED.type = 'check_updates' AND c.status = 'in_progress')) "
	"RETURNING pulse.docker_command_doc(c)::text",
	5,
};

static const struct db_stmt stmt_pending = {
	"docker_cmd_pending",
	"UPDATE pulse.docker_hosts SET pending_uninstall = true WHERE id = $1",
	1,
};

static const char *const type_names[] = {
	[AGENT_DOCKER_STOP] = "stop", [AGENT_DOCKER_UPDATE_CONTAINER] = "update_container",
	[AGENT_DOCKER_CHECK_UPDATES] = "check_updates",
};

enum agent_docker_cmd_result
agent_docker_command_queue(struct db *db, const char *host_id, enum agent_docker_cmd_type type,
    const char *container_id, const char *container_name, struct json_object **status)
{
	const char *params[5] = {host_id, type_names[type], "", "", ""};
	struct json_object *payload = NULL;
	char message[320];
	PGresult *res;
	enum agent_docker_cmd_result rc = AGENT_DOCKER_CMD_ERROR;

	*status = NULL;
	switch (type) {
	case AGENT_DOCKER_STOP:
		snprintf(message, sizeof(message), "Stopping agent");
		break;
	case AGENT_DOCKER_UPDATE_CONTAINER:
		snprintf(message, sizeof(message), "Updating container %s", container_name);
		payload = json_object_new_object();
		jsonwrite_str(payload, "containerId", container_id);
		jsonwrite_str(payload, "containerName", container_name);
		params[2] = container_id;
		params[4] = json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN);
		break;
	case AGENT_DOCKER_CHECK_UPDATES:
		snprintf(message, sizeof(message), "Checking for container updates");
		break;
	}
	params[3] = message;
	if (db_begin(db) != 0)
		goto out;
	if ((res = db_exec_stmt(db, &stmt_host, params)) == NULL)
		goto rollback;
	if (PQntuples(res) == 0) {
		PQclear(res);
		rc = AGENT_DOCKER_CMD_NO_HOST;
		goto rollback;
	}
	PQclear(res);
	if ((res = db_exec_stmt(db, &stmt_queue, params)) == NULL)
		goto rollback;
	if (PQntuples(res) == 0) {
		PQclear(res);
		rc = AGENT_DOCKER_CMD_BUSY;
		goto rollback;
	}
	*status = json_tokener_parse(PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((type == AGENT_DOCKER_STOP && db_exec_stmt_ok(db, &stmt_pending, params) != 0) ||
	    st_bump_version(db) != 0 || db_commit(db) != 0)
		goto rollback;
	rc = AGENT_DOCKER_CMD_OK;
	goto out;
rollback:
	db_rollback(db);
	json_object_put(*status);
	*status = NULL;
out:
	json_object_put(payload);
	return rc;
}

/* --- ack (§4.6) ------------------------------------------------------------------------ */

const char *
agent_docker_ack_status(const char *alias)
{
	static const struct {
		const char *alias, *status;
	} map[] = {
		{"", "acknowledged"}, {"ack", "acknowledged"}, {"acknowledged", "acknowledged"},
		{"in_progress", "in_progress"}, {"progress", "in_progress"},
		{"success", "completed"}, {"completed", "completed"}, {"complete", "completed"},
		{"fail", "failed"}, {"failed", "failed"}, {"error", "failed"},
	};
	char buf[32];

	jsonread_copy_trimmed(buf, sizeof(buf), alias ? alias : "");
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasecmp(buf, map[i].alias) == 0)
			return map[i].status;
	return NULL;
}

static const struct db_stmt stmt_ack_find = {
	"docker_cmd_ack_find",
	"SELECT c.host_id, h.agent_id, c.status IN " ACTIVE ", c.expires_at <= now(), c.type "
	"FROM pulse.docker_commands c JOIN pulse.docker_hosts h ON h.id = c.host_id "
	"WHERE c.id = $1 AND NOT h.mock FOR UPDATE OF c",
	1,
};

static const struct db_stmt stmt_ack = {
	"docker_cmd_ack",
	"UPDATE pulse.docker_commands c SET status = $2, updated_at = now(), "
	"message = CASE WHEN $3 <> '' AND $2 <> 'failed' THEN $3 ELSE c.message END, "
	"acknowledged_at = CASE WHEN $2 IN ('acknowledged', 'in_progress', 'completed') "
	"THEN coalesce(c.acknowledged_at, now()) ELSE c.acknowledged_at END, "
	"completed_at = CASE WHEN $2 = 'completed' THEN now() ELSE c.completed_at END, "
	"failed_at = CASE WHEN $2 = 'failed' THEN now() ELSE c.failed_at END, "
	"failure_reason = CASE WHEN $2 = 'failed' THEN $3 ELSE c.failure_reason END "
	"WHERE c.id = $1 RETURNING pulse.docker_command_doc(c)::text",
	3,
};

static const struct db_stmt stmt_not_pending = {
	"docker_cmd_not_pending",
	"UPDATE pulse.docker_hosts SET pending_uninstall = false WHERE id = $1",
	1,
};

static int remove_host(struct db *db, const char *id, int block, int *found);

/* Whether an ack's hostId names the host (id, agent id, or the id before "::"). */
static int
names_host(const char *given, const char *host_id, const char *agent_id)
{
	const char *cut = strstr(host_id, "::");

	if (strcmp(given, host_id) == 0 || strcmp(given, agent_id) == 0)
		return 1;
	return cut && strlen(given) == (size_t)(cut - host_id) &&
	    strncmp(given, host_id, (size_t)(cut - host_id)) == 0;
}

enum agent_docker_cmd_result
agent_docker_command_ack(struct db *db, const char *command_id, const char *host_id,
    const char *status_name, const char *message, char *host_out, struct json_object **status)
{
	const char *params[3] = {command_id, status_name, message ? message : ""};
	enum agent_docker_cmd_result rc = AGENT_DOCKER_CMD_ERROR;
	PGresult *res;
	int active, expired, stop, found;

	*status = NULL;
	host_out[0] = '\0';
	if (db_begin(db) != 0)
		return rc;
	if ((res = db_exec_stmt(db, &stmt_ack_find, params)) == NULL)
		goto rollback;
	if (PQntuples(res) == 0) {
		PQclear(res);
		rc = AGENT_DOCKER_CMD_UNKNOWN;
		goto rollback;
	}
	snprintf(host_out, AGENT_DOCKER_ID_MAX, "%s", PQgetvalue(res, 0, 0));
	active = PQgetvalue(res, 0, 2)[0] == 't';
	expired = PQgetvalue(res, 0, 3)[0] == 't';
	stop = strcmp(PQgetvalue(res, 0, 4), "stop") == 0;
	if (host_id && host_id[0] && !names_host(host_id, host_out, PQgetvalue(res, 0, 1))) {
		PQclear(res);
		rc = AGENT_DOCKER_CMD_OTHER_HOST;
		goto rollback;
	}
	PQclear(res);
	if (!active || expired) {
		rc = AGENT_DOCKER_CMD_INACTIVE;
		goto rollback;
	}
	if ((res = db_exec_stmt(db, &stmt_ack, params)) == NULL)
		goto rollback;
	*status = json_tokener_parse(PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "{}");
	PQclear(res);
	params[0] = host_out;
	if (strcmp(status_name, "failed") == 0 &&
	    db_exec_stmt_ok(db, &stmt_not_pending, params) != 0)
		goto rollback;
	/* A completed stop: the agent has gone; the host goes without a block (it may enroll
	 * again). */
	if (stop && strcmp(status_name, "completed") == 0 &&
	    remove_host(db, host_out, 0, &found) != 0)
		goto rollback;
	if (st_bump_version(db) != 0 || db_commit(db) != 0)
		goto rollback;
	return AGENT_DOCKER_CMD_OK;
rollback:
	db_rollback(db);
	json_object_put(*status);
	*status = NULL;
	return rc;
}

/* --- removal and flags (§4.7) ---------------------------------------------------------- */

static const struct db_stmt stmt_remove = {
	"docker_remove",
	"DELETE FROM pulse.docker_hosts WHERE id = $1 AND NOT mock "
	"RETURNING coalesce(token_id, ''), "
	"hostname, coalesce(nullif(custom_display_name, ''), display_name)",
	1,
};

/* The original revokes the token of a removed Docker host whoever else uses it (QUIRK 2). */
static const struct db_stmt stmt_revoke = {
	"docker_revoke",
	"DELETE FROM pulse.api_tokens WHERE id::text = $1",
	1,
};

static const struct db_stmt stmt_block = {
	"docker_block",
	"INSERT INTO pulse.docker_removed_hosts (id, hostname, display_name) VALUES ($1, $2, $3) "
	"ON CONFLICT (id) DO UPDATE SET hostname = EXCLUDED.hostname, "
	"display_name = EXCLUDED.display_name, removed_at = now()",
	3,
};

static const struct db_stmt stmt_unblock = {
	"docker_unblock",
	"DELETE FROM pulse.docker_removed_hosts WHERE id = $1 AND NOT mock",
	1,
};

/* Within a transaction: removes host id (containers and command go with it), revokes its
 * token, and blocks it for 24 hours (block) or clears its block. */
static int
remove_host(struct db *db, const char *id, int block, int *found)
{
	const char *params[3] = {id, NULL, NULL};
	char token[64], hostname[256], name[256];
	PGresult *res = db_exec_stmt(db, &stmt_remove, params);

	if (res == NULL)
		return -1;
	*found = PQntuples(res) == 1;
	if (!*found) {
		PQclear(res);
		return 0;
	}
	snprintf(token, sizeof(token), "%s", PQgetvalue(res, 0, 0));
	snprintf(hostname, sizeof(hostname), "%s", PQgetvalue(res, 0, 1));
	snprintf(name, sizeof(name), "%s", PQgetvalue(res, 0, 2));
	PQclear(res);
	params[1] = hostname;
	params[2] = name;
	if (token[0]) {
		const char *tp[1] = {token};

		if (db_exec_stmt_ok(db, &stmt_revoke, tp) != 0)
			return -1;
	}
	return db_exec_stmt_ok(db, block ? &stmt_block : &stmt_unblock, params);
}

int
agent_docker_remove(struct db *db, const char *id, int *found)
{
	*found = 0;
	if (db_begin(db) != 0)
		return -1;
	if (remove_host(db, id, 1, found) != 0) {
		db_rollback(db);
		return -1;
	}
	return st_commit(db, *found);
}

int
agent_docker_host_online(struct db *db, const char *id)
{
	const char *params[1] = {id};
	static const struct db_stmt stmt_status = {
		"docker_host_status",
		"SELECT status = 'online' FROM pulse.docker_hosts WHERE id = $1 AND NOT mock",
		1,
	};
	PGresult *res = db_exec_stmt(db, &stmt_status, params);
	int rc;

	if (res == NULL)
		return -1;
	rc = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0)[0] == 't' : -2;
	PQclear(res);
	return rc;
}

/* Unhide and re-enrolment also clear the removal block (as the original's). */
static const struct db_stmt stmt_changes[] = {
	[AGENT_DOCKER_HIDE] = {"docker_hide",
	    "UPDATE pulse.docker_hosts SET hidden = true WHERE id = $1 AND NOT mock "
	    "RETURNING id", 1},
	[AGENT_DOCKER_UNHIDE] = {"docker_unhide",
	    "WITH unblock AS (DELETE FROM pulse.docker_removed_hosts WHERE id = $1 AND NOT mock) "
	    "UPDATE pulse.docker_hosts SET hidden = false WHERE id = $1 AND NOT mock RETURNING id",
	    1},
	[AGENT_DOCKER_PENDING_UNINSTALL] = {"docker_pending_uninstall",
	    "UPDATE pulse.docker_hosts SET pending_uninstall = true WHERE id = $1 AND NOT mock "
	    "RETURNING id", 1},
	[AGENT_DOCKER_ALLOW_REENROLL] = {"docker_reenroll",
	    "WITH unblock AS (DELETE FROM pulse.docker_removed_hosts WHERE id = $1 AND NOT mock) "
	    "DELETE FROM pulse.docker_commands WHERE host_id = $1 RETURNING host_id", 1},
};

int
agent_docker_change(struct db *db, const char *id, enum agent_docker_change what)
{
	const char *params[1] = {id};

	/* Re-enrolment succeeds for any id (the state moves: a block may have gone). */
	return agent_change(db, &stmt_changes[what], params, what == AGENT_DOCKER_ALLOW_REENROLL);
}

int
agent_docker_set_display_name(struct db *db, const char *id, const char *name)
{
	static const struct db_stmt stmt_name = {
		"docker_display_name",
		"UPDATE pulse.docker_hosts SET custom_display_name = $2 WHERE id = $1 AND NOT mock "
		"RETURNING id",
		2,
	};
	const char *params[2] = {id, name};

	return agent_change(db, &stmt_name, params, 0);
}
