/* api_alert_actions.c: what a user does to alerts (alerts-notifications.md §5, §6):
 * acknowledge, unacknowledge and clear (JSON body or the legacy path forms), bulk forms, the
 * history, and incidents with notes. */
#include "config.h"

#include "handlers.h"
#include "alert_actions.h"
#include "jsonwrite.h"
#include "log.h"
#include "timefmt.h"
#include "util.h"

#include <string.h>

/* Longest string field read from a body; longer ids then fail the §1.3 check. */
#define FIELD_MAX 4096

/* {"success":true} */
static void
resp_success(struct request *r)
{
	struct json_object *obj = resp_object(r);

	jsonwrite_bool(obj, "success", 1);
	resp_json(r, 200, obj);
}

/* The answer to one action on id, checked as §1.3 says. */
static void
action_answer(struct request *r, enum alert_action act, const char *id)
{
	int rc;

	if (!alert_id_valid(id)) {
		resp_error(r, 400, "invalid_field", "Invalid alert ID");
		return;
	}
	rc = alert_action_apply(r->db, act, id, r->auth.username);
	if (rc < 0) {
		resp_db_unavailable(r);
	} else if (rc == 0) {
		if (act == ALERT_CLEAR)
			resp_error(r, 404, "alert_not_found", "Alert not found");
		else
			resp_error(r, 404, "alert_not_found", "alert not found: %.500s", id);
	} else {
		resp_success(r);
		log_info("msg=\"alert %s\" alert=\"%.200s\" user=\"%s\"", act == ALERT_ACK ?
		    "acknowledged" : act == ALERT_UNACK ? "unacknowledged" : "cleared", id,
		    r->auth.username);
	}
}

/* {"id": "<alert id>"} */
static void
action_body(struct request *r, enum alert_action act)
{
	struct json_object *body = req_body_object(r, 0);
	const char *id = NULL;

	if (body == NULL || req_body_string(r, body, "id", 0, FIELD_MAX, &id) < 0)
		return;
	if (id == NULL || *id == '\0') {
		resp_error(r, 400, "invalid_field", "Alert ID is required");
		return;
	}
	action_answer(r, act, id);
}

void
api_alert_acknowledge(struct request *r)
{
	action_body(r, ALERT_ACK);
}

void
api_alert_unacknowledge(struct request *r)
{
	action_body(r, ALERT_UNACK);
}

void
api_alert_clear(struct request *r)
{
	action_body(r, ALERT_CLEAR);
}

/* The legacy forms: the id percent-decoded from the path. */
void
api_alert_acknowledge_path(struct request *r)
{
	action_answer(r, ALERT_ACK, req_path_param(r, "id"));
}

void
api_alert_unacknowledge_path(struct request *r)
{
	action_answer(r, ALERT_UNACK, req_path_param(r, "id"));
}

void
api_alert_clear_path(struct request *r)
{
	action_answer(r, ALERT_CLEAR, req_path_param(r, "id"));
}

/* {"alertIds": [...]} -> {"results": [{"alertId", "success", "error"?}]}, each id on its own. */
static void
bulk(struct request *r, enum alert_action act)
{
	struct json_object *body = req_body_object(r, 0), *ids, *obj, *results;
	size_t n;

	if (body == NULL)
		return;
	if (!json_object_object_get_ex(body, "alertIds", &ids) || json_object_is_type(ids,
	    json_type_null) || (json_object_is_type(ids, json_type_array) &&
	    json_object_array_length(ids) == 0)) {
		resp_error(r, 400, "invalid_field", "No alert IDs provided");
		return;
	}
	if (!json_object_is_type(ids, json_type_array)) {
		resp_error(r, 400, "invalid_field", "alertIds must be an array of strings");
		return;
	}
	n = json_object_array_length(ids);
	for (size_t i = 0; i < n; i++) {
		if (!json_object_is_type(json_object_array_get_idx(ids, i), json_type_string)) {
			resp_error(r, 400, "invalid_field", "alertIds must be an array of strings");
			return;
		}
	}
	obj = resp_object(r);
	results = json_object_new_array();
	json_object_object_add(obj, "results", results);
	for (size_t i = 0; i < n; i++) {
		const char *id = json_object_get_string(json_object_array_get_idx(ids, i));
		struct json_object *res = json_object_new_object();
		int rc = alert_id_valid(id) ?
		    alert_action_apply(r->db, act, id, r->auth.username) : -2;

		if (rc == -1) {
			json_object_put(res);
			resp_db_unavailable(r);
			return;
		}
		jsonwrite_str(res, "alertId", id);
		jsonwrite_bool(res, "success", rc == 1);
		if (rc == -2)
			jsonwrite_str(res, "error", "invalid alert ID");
		else if (rc == 0)
			jsonwrite_str(res, "error", "alert not found");
		json_object_array_add(results, res);
	}
	resp_json(r, 200, obj);
}

void
api_alerts_bulk_acknowledge(struct request *r)
{
	bulk(r, ALERT_ACK);
}

void
api_alerts_bulk_clear(struct request *r)
{
	bulk(r, ALERT_CLEAR);
}

void
api_alerts_history_get(struct request *r)
{
	struct alert_history_query q;
	struct json_object *arr;
	const char *err;

	if (alert_history_query_parse(&q, req_query(r, "limit"), req_query(r, "offset"),
	    req_query(r, "startTime"), req_query(r, "endTime"), req_query(r, "severity"),
	    req_query(r, "resourceId"), &err) != 0) {
		resp_error(r, 400, "invalid_parameter", "%s", err);
		return;
	}
	arr = req_json(r, alert_history_fetch(r->db, &q));
	if (arr == NULL) {
		resp_db_unavailable(r);
		return;
	}
	resp_json(r, 200, arr);
}

void
api_alerts_history_delete(struct request *r)
{
	struct json_object *obj;

	if (alert_history_clear(r->db) != 0) {
		resp_db_unavailable(r);
		return;
	}
	obj = resp_object(r);
	jsonwrite_str(obj, "status", "success");
	jsonwrite_str(obj, "message", "Alert history cleared");
	resp_json(r, 200, obj);
	log_info("msg=\"alert history cleared\" user=\"%s\"", r->auth.username);
}

void
api_alerts_incidents(struct request *r)
{
	const char *alert_id = req_query(r, "alert_id"), *resource_id = req_query(r, "resource_id");
	struct json_object *out;

	if (alert_id != NULL && *alert_id != '\0') {
		const char *at = req_query(r, "started_at");
		double t;

		if (at == NULL || *at == '\0')
			at = req_query(r, "start_time");
		if (at != NULL && *at == '\0')
			at = NULL;
		if (!alert_id_valid(alert_id)) {
			resp_error(r, 400, "invalid_parameter", "Invalid alert ID");
			return;
		}
		if (at != NULL && timefmt_parse_rfc3339(at, &t) != 0) {
			resp_error(r, 400, "invalid_parameter", "Invalid started_at time");
			return;
		}
		if (incident_get(r->db, alert_id, at, &out) != 0) {
			resp_db_unavailable_msg(r, "Incident store unavailable");
			return;
		}
		if (out == NULL)
			resp_raw(r, 200, "application/json", "null", 4);
		else
			resp_json(r, 200, req_json(r, out));
		return;
	}
	if (resource_id != NULL && *resource_id != '\0') {
		const char *ls = req_query(r, "limit");
		int64_t limit = 0;

		if (strlen(resource_id) > ALERT_ID_MAX) {
			resp_error(r, 400, "invalid_parameter", "Invalid resource ID");
			return;
		}
		if (ls != NULL && parse_int64(ls, 0, INCIDENT_MAX, &limit) != 0)
			limit = 0;
		out = req_json(r, incident_list_resource(r->db, resource_id, (long)limit));
		if (out == NULL) {
			resp_db_unavailable_msg(r, "Incident store unavailable");
			return;
		}
		resp_json(r, 200, out);
		return;
	}
	resp_error(r, 400, "invalid_parameter", "Missing alert_id or resource_id");
}

/* {"alert_id"?, "incident_id"?, "note", "user"?}; the note is recorded for the caller. */
void
api_alerts_incident_note(struct request *r)
{
	struct json_object *body = req_body_object(r, 0);
	const char *alert_id = NULL, *incident_id = NULL, *note = NULL;
	int rc;

	if (body == NULL ||
	    req_body_string(r, body, "alert_id", 0, FIELD_MAX, &alert_id) < 0 ||
	    req_body_string(r, body, "incident_id", 0, FIELD_MAX, &incident_id) < 0 ||
	    req_body_string(r, body, "note", 0, FIELD_MAX, &note) < 0)
		return;
	if (alert_id != NULL && *alert_id == '\0')
		alert_id = NULL;
	if (incident_id != NULL && *incident_id == '\0')
		incident_id = NULL;
	if (alert_id == NULL && incident_id == NULL) {
		resp_error(r, 400, "invalid_field", "alert_id or incident_id is required");
		return;
	}
	if (alert_id != NULL && !alert_id_valid(alert_id)) {
		resp_error(r, 400, "invalid_field", "Invalid alert ID");
		return;
	}
	if (note == NULL || note[strspn(note, " \t\r\n")] == '\0') {
		resp_error(r, 400, "invalid_field", "note is required");
		return;
	}
	rc = incident_add_note(r->db, incident_id, alert_id, note, r->auth.username);
	if (rc < 0)
		resp_db_unavailable_msg(r, "Incident store unavailable");
	else if (rc == 0)
		resp_error(r, 404, "incident_not_found", "Failed to save note: no such incident");
	else
		resp_success(r);
}
