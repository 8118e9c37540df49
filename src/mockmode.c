/* mockmode.c: mock mode's switch and settings, and clearing the mock estate. */
#include "config.h"

#include "agent_mock.h"
#include "jsonutil.h"
#include "mockmode.h"
#include "state.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* The mock estate's instance ids; their rows are marked by the generated mock column. */
static const char *const mock_ids[] = {"mock", "mock-pbs-main", "mock-pbs-secondary",
    "mock-pmg-main", "mock-pmg-edge"};

void
mockmode_config_from_json(struct json_object *o, struct mockmode_config *c)
{
	struct json_object *hl;
	int64_t v;
	double d;

	memset(c, 0, sizeof(*c));
	c->node_count = MOCKMODE_NODES;
	c->vms_per_node = MOCKMODE_VMS_PER_NODE;
	c->lxcs_per_node = MOCKMODE_LXCS_PER_NODE;
	c->random_metrics = 1;
	c->stopped_percent = MOCKMODE_STOPPED_PERCENT;
	if (o == NULL)
		return;
	if (jsonutil_get_int(o, "nodeCount", 1, 1000, &v) == JSONUTIL_OK)
		c->node_count = (int)v;
	if (jsonutil_get_int(o, "vmsPerNode", 0, 1000, &v) == JSONUTIL_OK)
		c->vms_per_node = (int)v;
	if (jsonutil_get_int(o, "lxcsPerNode", 0, 1000, &v) == JSONUTIL_OK)
		c->lxcs_per_node = (int)v;
	if (jsonutil_get_bool(o, "randomMetrics", &c->random_metrics) != JSONUTIL_OK)
		c->random_metrics = 1;
	if (jsonutil_get_double(o, "stoppedPercent", &d) == JSONUTIL_OK && d >= 0 && d <= 1)
		c->stopped_percent = d;
	if (jsonutil_get_array(o, "highLoadNodes", &hl) == JSONUTIL_OK) {
		for (size_t i = 0; i < json_object_array_length(hl) && c->nhigh < 8; i++) {
			struct json_object *s = json_object_array_get_idx(hl, i);
			if (json_object_is_type(s, json_type_string))
				snprintf(c->high_load[c->nhigh++], 64, "%s", json_object_get_string(s));
		}
	}
}

void
mockmode_config_parse(const char *text, struct mockmode_config *c)
{
	char err[64];
	struct json_object *o = jsonutil_parse(text, strlen(text), err, sizeof(err));

	mockmode_config_from_json(o, c);
	if (o)
		json_object_put(o);
}

int64_t
mockmode_config_guests(const struct mockmode_config *c)
{
	return (int64_t)c->node_count * (c->vms_per_node + c->lxcs_per_node);
}

/* The first setting in changes that is not acceptable, as a message; NULL when all are. */
static const char *
config_problem(struct json_object *changes)
{
	struct json_object *v;
	int64_t n;
	double d;

	if (json_object_object_get_ex(changes, "nodeCount", &v) &&
	    jsonutil_get_int(changes, "nodeCount", 1, 1000, &n) != JSONUTIL_OK)
		return "nodeCount must be greater than zero";
	if (json_object_object_get_ex(changes, "vmsPerNode", &v) &&
	    jsonutil_get_int(changes, "vmsPerNode", 0, 1000, &n) != JSONUTIL_OK)
		return "vmsPerNode cannot be negative";
	if (json_object_object_get_ex(changes, "lxcsPerNode", &v) &&
	    jsonutil_get_int(changes, "lxcsPerNode", 0, 1000, &n) != JSONUTIL_OK)
		return "lxcsPerNode cannot be negative";
	if (json_object_object_get_ex(changes, "stoppedPercent", &v) &&
	    (jsonutil_get_double(changes, "stoppedPercent", &d) != JSONUTIL_OK || d < 0 || d > 1))
		return "stoppedPercent must be between 0 and 1";
	if (json_object_object_get_ex(changes, "randomMetrics", &v) &&
	    !json_object_is_type(v, json_type_boolean))
		return "randomMetrics must be true or false";
	if (json_object_object_get_ex(changes, "highLoadNodes", &v) && v != NULL) {
		int ok = json_object_is_type(v, json_type_array);
		for (size_t i = 0; ok && i < json_object_array_length(v); i++)
			ok = json_object_is_type(json_object_array_get_idx(v, i), json_type_string);
		if (!ok)
			return "highLoadNodes must be a list of node names";
	}
	return NULL;
}

int
mockmode_config_merge(struct json_object *stored, struct json_object *changes, char *err,
    size_t errlen)
{
	static const char *const keys[] = {"nodeCount", "vmsPerNode", "lxcsPerNode",
	    "stoppedPercent", "randomMetrics", "highLoadNodes"};
	const char *problem = config_problem(changes);
	struct mockmode_config c;
	struct json_object *v;

	if (problem != NULL) {
		snprintf(err, errlen, "%s", problem);
		return -1;
	}
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		if (json_object_object_get_ex(changes, keys[i], &v))
			json_object_object_add(stored, keys[i], json_object_get(v));
	mockmode_config_from_json(stored, &c);
	if (mockmode_config_guests(&c) > MOCKMODE_MAX_GUESTS) {
		snprintf(err, errlen, "nodeCount x (vmsPerNode + lxcsPerNode) must not exceed %d "
		    "guests", MOCKMODE_MAX_GUESTS);
		return -1;
	}
	return 0;
}

/* --- the switch ---------------------------------------------------------------------- */

static const struct db_stmt stmt_mock_read = {
	"mock_read", "SELECT enabled, config::text, source FROM pulse.mock_mode WHERE id = 1", 0,
};
static const struct db_stmt stmt_mock_set = {
	"mock_set",
	"UPDATE pulse.mock_mode SET enabled = $1::boolean, config = $2::jsonb, source = 'api', "
	"updated_at = now() WHERE id = 1",
	2,
};
static const struct db_stmt stmt_mock_demo_on = {
	"mock_demo",
	"UPDATE pulse.mock_mode SET enabled = true, source = 'auto', updated_at = now() "
	"WHERE id = 1 AND source = 'initial' AND NOT EXISTS (SELECT 1 FROM pulse.instances)",
	0,
};
static const struct db_stmt stmt_mock_demo_off = {
	"mock_demo_off",
	"UPDATE pulse.mock_mode SET enabled = false, updated_at = now() WHERE id = 1 "
	"AND enabled AND source = 'auto'",
	0,
};

/* The row of pulse.mock_mode (the migration creates it): NULL on a database error. */
static PGresult *
read_row(struct db *db)
{
	PGresult *res = db_exec_stmt(db, &stmt_mock_read, NULL);

	if (res != NULL && PQntuples(res) != 1) {
		PQclear(res);
		return NULL;
	}
	return res;
}

int
mockmode_read(struct db *db, int *enabled, char **config)
{
	PGresult *res = read_row(db);

	if (res == NULL)
		return -1;
	*enabled = PQgetvalue(res, 0, 0)[0] == 't';
	if (config != NULL)
		*config = xstrdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

int
mockmode_set(struct db *db, int enabled, const char *config)
{
	const char *params[2] = {enabled ? "true" : "false", config};

	return db_exec_stmt_ok(db, &stmt_mock_set, params);
}

int
mockmode_blocks_changes(struct db *db)
{
	PGresult *res = db_exec_stmt(db, &stmt_mock_read, NULL);
	int blocked;

	if (res == NULL)
		return -1;
	blocked = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't' &&
	    strcmp(PQgetvalue(res, 0, 2), "api") == 0;
	PQclear(res);
	return blocked;
}

int
mockmode_demo_on(struct db *db)
{
	return db_exec_stmt_ok(db, &stmt_mock_demo_on, NULL);
}

int
mockmode_demo_off(struct db *db)
{
	return db_exec_stmt_ok(db, &stmt_mock_demo_off, NULL);
}

int
mockmode_clear(struct db *db, int servers_only, char *err, size_t errlen)
{
	for (size_t i = servers_only ? 1 : 0; i < ARRAY_LEN(mock_ids); i++)
		if (st_clear(db, mock_ids[i], err, errlen) != 0)
			return -1;
	return servers_only ? 0 : agent_mock_clear(db, err, errlen);
}
