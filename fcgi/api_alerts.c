/* api_alerts.c: the alert configuration (GET and PUT /api/alerts/config), activation
 * (POST /api/alerts/activate) and the active alerts (GET /api/alerts/active),
 * alerts-notifications.md §2 and §6. */
#include "config.h"

#include "audit.h"
#include "handlers.h"
#include "alert_config.h"
#include "alert_dispatch.h"
#include "alert_store.h"
#include "arena.h"
#include "jsonwrite.h"
#include "log.h"
#include "mockmode.h"
#include "timefmt.h"
#include "util.h"

#include <stdio.h>

static void
config_release(void *c)
{
	alert_config_free(c);
}

/* An empty configuration owned by the request: its arrays are freed with the arena on any
 * path. */
static struct alert_config *
config_owned(struct request *r)
{
	struct alert_config *c = arena_zalloc(r->arena, sizeof(*c));

	arena_defer(r->arena, config_release, c);
	return c;
}

void
api_alerts_config_get(struct request *r)
{
	struct alert_config *c = config_owned(r);

	if (alert_config_load(r->db, clock_wall(), c) != 0) {
		resp_db_unavailable(r);
		return;
	}
	resp_json(r, 200, req_json(r, alert_config_to_json(c)));
}

void
api_alerts_config_put(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *obj;
	struct alert_config *current = config_owned(r), *c = config_owned(r);
	char err[256];
	int rc;

	if (body == NULL)
		return;
	rc = alert_config_update(r->db, body, clock_wall(), current, c, err, sizeof(err));
	if (rc > 0) {
		resp_error(r, 400, "invalid_field", "%s", err);
		return;
	}
	if (rc < 0) {
		resp_db_unavailable(r);
		return;
	}
	obj = resp_object(r);
	jsonwrite_bool(obj, "success", 1);
	jsonwrite_str(obj, "message", "Alert configuration updated successfully");
	resp_json(r, 200, obj);
	audit_record(r->db, "alert_config_updated", r->auth.username, r->client_ip, r->raw_path, 1,
	    "Alert configuration updated");
	log_info("msg=\"alert configuration updated\" state=%s", c->activation_state);
}

void
api_alerts_activate(struct request *r)
{
	struct alert_config *c = config_owned(r);
	struct json_object *obj;
	char when[TIMEFMT_LEN];
	int already;

	if (alert_config_activate(r->db, clock_wall(), c, &already) != 0) {
		resp_db_unavailable_msg(r, "Failed to save configuration");
		return;
	}
	if (!already) {
		log_info("msg=\"alert notifications activated\"");
		audit_record(r->db, "alert_config_updated", r->auth.username, r->client_ip,
		    r->raw_path, 1, "Alert notifications activated");
	}
	if (!already && alert_dispatch_activate(r->db, clock_wall()) < 0)
		log_warn("msg=\"alerts not dispatched on activation\"");
	obj = resp_object(r);
	jsonwrite_bool(obj, "success", 1);
	jsonwrite_str(obj, "message", already ? "Alerts already activated" :
	    "Alert notifications activated");
	jsonwrite_str(obj, "state", c->activation_state);
	json_object_object_add(obj, "activationTime", c->activation_time > 0 ?
	    json_object_new_string(timefmt_rfc3339_nano(c->activation_time, when, sizeof(when))) :
	    NULL);
	resp_json(r, 200, obj);
}

static const struct db_stmt stmt_active = {
	"alerts_active",
	"SELECT " ALERT_STORE_COLUMNS " FROM pulse.alerts "
	"WHERE resolved_at IS NULL AND mock = $1::boolean ORDER BY start_time, id",
	1,
};

/* GET /api/alerts/active: the full alerts (§1.1) of the estate the mock mode shows. */
void
api_alerts_active(struct request *r)
{
	struct json_object *arr;
	const char *params[1];
	PGresult *res;
	int mock;

	if (mockmode_read(r->db, &mock, NULL) != 0) {
		resp_db_unavailable(r);
		return;
	}
	params[0] = mock ? "t" : "f";
	if ((res = db_exec_stmt(r->db, &stmt_active, params)) == NULL) {
		resp_db_unavailable(r);
		return;
	}
	arr = req_json(r, json_object_new_array());
	for (int i = 0; i < PQntuples(res); i++) {
		struct alert a;
		alert_store_row(res, i, &a);
		json_object_array_add(arr, alert_to_json(&a));
		json_object_put(a.metadata);
	}
	PQclear(res);
	resp_json(r, 200, arr);
}
