/* agent_profile.c: agent profiles and their assignments (agents.md §7) in PostgreSQL. The
 * original keeps them in two JSON files; here they are two tables, written one statement (or
 * one transaction) at a time. */
#include "config.h"

#include "agent_profile.h"
#include "crypto.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "timefmt.h"

#include <stdlib.h>
#include <string.h>

static void
add_time(struct json_object *o, const char *key, double t)
{
	char when[48];

	jsonwrite_str(o, key, timefmt_rfc3339_nano(t, when, sizeof(when)));
}

struct json_object *
agent_profile_json(const char *id, const char *name, const char *config_text, double created_at,
    double updated_at)
{
	struct json_object *o = json_object_new_object(), *config;
	char err[64];

	config = jsonutil_parse(config_text, strlen(config_text), err, sizeof(err));
	if (!jsonread_is_object(config)) {
		json_object_put(config);
		config = json_object_new_object();
	}
	jsonwrite_str(o, "id", id);
	jsonwrite_str(o, "name", name);
	json_object_object_add(o, "config", config);
	add_time(o, "created_at", created_at);
	add_time(o, "updated_at", updated_at);
	return o;
}

struct json_object *
agent_profile_assignment_json(const char *agent_id, const char *profile_id, double updated_at)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_str(o, "agent_id", agent_id);
	jsonwrite_str(o, "profile_id", profile_id);
	add_time(o, "updated_at", updated_at);
	return o;
}

#define PROFILE_COLUMNS \
	"id, name, config::text, extract(epoch FROM created_at), extract(epoch FROM updated_at)"
#define ASSIGNMENT_COLUMNS "agent_id, profile_id, extract(epoch FROM updated_at)"

static struct json_object *
profile_row(PGresult *res, int row)
{
	return agent_profile_json(PQgetvalue(res, row, 0), PQgetvalue(res, row, 1),
	    PQgetvalue(res, row, 2), db_value_double(res, row, 3), db_value_double(res, row, 4));
}

static struct json_object *
assignment_row(PGresult *res, int row)
{
	return agent_profile_assignment_json(PQgetvalue(res, row, 0), PQgetvalue(res, row, 1),
	    db_value_double(res, row, 2));
}

/* Every row of a statement through row_json, as an array; NULL on a database error. */
static struct json_object *
list_rows(struct db *db, const struct db_stmt *stmt, const char *const *params,
    struct json_object *(*row_json)(PGresult *, int))
{
	PGresult *res = db_exec_stmt(db, stmt, params);
	struct json_object *a;

	if (res == NULL)
		return NULL;
	a = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_object_array_add(a, row_json(res, i));
	PQclear(res);
	return a;
}

/* The first element of a one-row statement's list, or NULL (none, or a database error:
 * *found says which). */
static struct json_object *
one_row(struct db *db, const struct db_stmt *stmt, const char *const *params,
    struct json_object *(*row_json)(PGresult *, int), int *found)
{
	struct json_object *a = list_rows(db, stmt, params, row_json), *o = NULL;

	*found = a ? json_object_array_length(a) > 0 : -1;
	if (*found == 1)
		o = json_object_get(json_object_array_get_idx(a, 0));
	json_object_put(a);
	return o;
}

static const char *
config_text(struct json_object *config)
{
	return jsonread_is_object(config) ? jsonutil_to_string(config, NULL) : "{}";
}

/* The two lists, each a statement without parameters and its row's JSON. */
static const struct db_stmt stmt_lists[2] = {
	{"agent_profile_list",
	    "SELECT " PROFILE_COLUMNS " FROM pulse.agent_profiles ORDER BY created_at, id", 0},
	{"agent_profile_assignments", "SELECT " ASSIGNMENT_COLUMNS
	    " FROM pulse.agent_profile_assignments ORDER BY agent_id", 0},
};

struct json_object *
agent_profile_list(struct db *db)
{
	return list_rows(db, &stmt_lists[0], NULL, profile_row);
}

struct json_object *
agent_profile_assignments(struct db *db)
{
	return list_rows(db, &stmt_lists[1], NULL, assignment_row);
}

static const struct db_stmt stmt_create = {
	"agent_profile_create",
	"INSERT INTO pulse.agent_profiles (id, name, config) VALUES ($1, $2, $3::jsonb) "
	"RETURNING " PROFILE_COLUMNS,
	3,
};

struct json_object *
agent_profile_create(struct db *db, const char *name, struct json_object *config)
{
	char id[37];
	const char *params[3] = {id, name, config_text(config)};
	int found;

	crypto_uuid4(id);
	return one_row(db, &stmt_create, params, profile_row, &found);
}

static const struct db_stmt stmt_update = {
	"agent_profile_update",
	"UPDATE pulse.agent_profiles SET name = $2, config = $3::jsonb, updated_at = now() "
	"WHERE id = $1 RETURNING " PROFILE_COLUMNS,
	3,
};

int
agent_profile_update(struct db *db, const char *id, const char *name, struct json_object *config,
    struct json_object **out)
{
	const char *params[3] = {id, name, config_text(config)};
	int found;

	*out = one_row(db, &stmt_update, params, profile_row, &found);
	return found;
}

static const struct db_stmt stmt_delete = {
	"agent_profile_delete",
	"WITH gone AS (DELETE FROM pulse.agent_profiles WHERE id = $1 RETURNING id), "
	"unassigned AS (DELETE FROM pulse.agent_profile_assignments WHERE profile_id IN "
	"(SELECT id FROM gone)) SELECT count(*) FROM gone",
	1,
};

int
agent_profile_delete(struct db *db, const char *id)
{
	const char *params[1] = {id};
	PGresult *res = db_exec_stmt(db, &stmt_delete, params);
	int found;

	if (res == NULL)
		return -1;
	found = db_value_int32(res, 0, 0) > 0;
	PQclear(res);
	return found;
}

static const struct db_stmt stmt_assign = {
	"agent_profile_assign",
	"INSERT INTO pulse.agent_profile_assignments (agent_id, profile_id) VALUES ($1, $2) "
	"ON CONFLICT (agent_id) DO UPDATE SET profile_id = EXCLUDED.profile_id, "
	"updated_at = now() RETURNING " ASSIGNMENT_COLUMNS,
	2,
};

struct json_object *
agent_profile_assign(struct db *db, const char *agent_id, const char *profile_id)
{
	const char *params[2] = {agent_id, profile_id};
	int found;

	return one_row(db, &stmt_assign, params, assignment_row, &found);
}

static const struct db_stmt stmt_unassign = {
	"agent_profile_unassign",
	"DELETE FROM pulse.agent_profile_assignments WHERE agent_id = $1", 1,
};

int
agent_profile_unassign(struct db *db, const char *agent_id)
{
	const char *params[1] = {agent_id};

	return db_exec_stmt_ok(db, &stmt_unassign, params);
}
