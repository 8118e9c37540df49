/* alert_actions.c: acknowledge, unacknowledge and clear, the history, and incidents
 * (alerts-notifications.md §5, §6). */
#include "config.h"

#include "alert_actions.h"
#include "alert_dispatch.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "prom.h"
#include "notify_queue.h"
#include "state_rows.h"
#include "timefmt.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
alert_id_valid(const char *id)
{
	size_t n;

	if (id == NULL)
		return 0;
	n = strlen(id);
	if (n == 0 || n > ALERT_ID_MAX || id[0] == ' ' || id[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)id[i] < 32 || (unsigned char)id[i] > 126)
			return 0;
	return strstr(id, "../") == NULL && strstr(id, "/..") == NULL;
}

/* --- acknowledge, unacknowledge, clear -------------------------------------------------- */

static const struct db_stmt stmt_ack = {"alert_ack",
	"UPDATE pulse.alerts SET acknowledged = true, ack_time = now(), ack_user = $2, "
	"updated_at = now() WHERE id = $1 AND resolved_at IS NULL RETURNING id", 2};
static const struct db_stmt stmt_unack = {"alert_unack",
	"UPDATE pulse.alerts SET acknowledged = false, ack_time = NULL, ack_user = NULL, "
	"updated_at = now() WHERE id = $1 AND resolved_at IS NULL RETURNING id", 1};
/* The ack fields stay: the engine decides on them when it raises the id again (§5.1). */
static const struct db_stmt stmt_clear = {"alert_clear",
	"UPDATE pulse.alerts SET resolved_at = now(), updated_at = now() "
	"WHERE id = $1 AND resolved_at IS NULL RETURNING id", 1};

/* The open incident of an alert takes an event and, for an ack, unack or resolve, the new
 * state. $1 alert id, $2 event type, $3 user, $4 summary, $5 details. */
static const struct db_stmt stmt_incident_event = {"incident_event",
	"WITH inc AS (UPDATE pulse.incidents SET "
	"acknowledged = CASE $2::text WHEN 'alert_acknowledged' THEN true "
	"WHEN 'alert_unacknowledged' THEN false ELSE acknowledged END, "
	"ack_user = CASE $2::text WHEN 'alert_acknowledged' THEN $3::text "
	"WHEN 'alert_unacknowledged' THEN NULL ELSE ack_user END, "
	"ack_time = CASE $2::text WHEN 'alert_acknowledged' THEN now() "
	"WHEN 'alert_unacknowledged' THEN NULL ELSE ack_time END, "
	"status = CASE $2::text WHEN 'alert_resolved' THEN 'resolved' ELSE status END, "
	"closed_at = CASE $2::text WHEN 'alert_resolved' THEN now() ELSE closed_at END "
	"WHERE id = (SELECT id FROM pulse.incidents WHERE alert_id = $1 AND status = 'open' "
	"ORDER BY opened_at DESC LIMIT 1) RETURNING id) "
	"INSERT INTO pulse.incident_events (incident_id, id, type, summary, details) "
	"SELECT id, gen_random_uuid()::text, $2::text, $4::text, $5::jsonb FROM inc "
	"RETURNING incident_id", 5};

/* At most INCIDENT_MAX_EVENTS (120) events per incident: the oldest go. */
static const struct db_stmt stmt_incident_trim = {"incident_trim",
	"DELETE FROM pulse.incident_events WHERE incident_id = $1 AND seq <= "
	"(SELECT seq FROM pulse.incident_events WHERE incident_id = $1 "
	"ORDER BY seq DESC OFFSET 120 LIMIT 1)", 1};

/* Trims the incidents named by the first column of res. */
static int
incident_trim(struct db *db, PGresult *res)
{
	for (int i = 0; i < PQntuples(res); i++) {
		const char *p[] = {PQgetvalue(res, i, 0)};

		if (db_exec_stmt_ok(db, &stmt_incident_trim, p) != 0)
			return -1;
	}
	return 0;
}

/* Adds an action's event to the alert's open incident and trims it. */
static int
incident_event(struct db *db, const char *const *params)
{
	PGresult *res = db_exec_stmt(db, &stmt_incident_event, params);
	int rc;

	if (res == NULL)
		return -1;
	rc = incident_trim(db, res);
	PQclear(res);
	return rc;
}

/* Ends a change begun with db_begin: rc 1 (done) moves the state version and commits; 0
 * (nothing to change) and -1 roll back. Returns rc, or -1 when the commit fails. */
static int
change_end(struct db *db, int rc)
{
	if (rc == 1 && (st_bump_version(db) != 0 || db_commit(db) != 0))
		rc = -1;
	if (rc != 1)
		db_rollback(db);
	return rc;
}

/* The statements of one action inside its transaction: 1, 0 (not active) or -1. */
static int
action_run(struct db *db, enum alert_action act, const char *id, const char *user)
{
	static const struct {
		const struct db_stmt *stmt;
		const char *event, *summary;
	} acts[] = {
		[ALERT_ACK] = {&stmt_ack, "alert_acknowledged", "Alert acknowledged"},
		[ALERT_UNACK] = {&stmt_unack, "alert_unacknowledged", "Alert unacknowledged"},
		[ALERT_CLEAR] = {&stmt_clear, "alert_resolved", "Alert cleared manually"},
	};
	const char *p[] = {id, user};	/* the user for an acknowledgement only */
	char details[256];
	struct json_object *d;
	PGresult *res = db_exec_stmt(db, acts[act].stmt, p);
	int found;

	if (res == NULL)
		return -1;
	found = PQntuples(res) > 0;
	PQclear(res);
	if (!found)
		return 0;
	d = json_object_new_object();
	jsonwrite_str(d, "user", user);
	snprintf(details, sizeof(details), "%s", json_object_to_json_string(d));
	json_object_put(d);
	{
		const char *ep[] = {id, acts[act].event, user, acts[act].summary, details};

		if (incident_event(db, ep) != 0)
			return -1;
	}
	/* The resolution path with its recovery notification (alert_dispatch.h). */
	if (act == ALERT_CLEAR && alert_dispatch_cleared(db, id, clock_wall()) != 0)
		return -1;
	return 1;
}

int
alert_action_apply(struct db *db, enum alert_action act, const char *id, const char *user)
{
	int rc;

	if (db_begin(db) != 0)
		return -1;
	rc = change_end(db, action_run(db, act, id, user));
	if (rc == 1 && act == ALERT_ACK)
		prom_add(PROM_ALERTS_ACKNOWLEDGED, NULL, 1);
	return rc;
}

static const struct db_stmt stmt_group_drop = {"alert_group_drop",
	"DELETE FROM pulse.notification_group WHERE alert_id = $1", 1};

int
alert_actions_on_resolved(struct db *db, const char *alert_id)
{
	const char *p[] = {alert_id};

	if (db_exec_stmt_ok(db, &stmt_group_drop, p) != 0)
		return -1;
	return notify_queue_cancel_alert(db, alert_id) < 0 ? -1 : 0;
}

/* --- history ---------------------------------------------------------------------------- */

/* A non-negative count, or -2 for a negative one, -1 for text that is not a number. */
static long
query_count(const char *s)
{
	int64_t v;

	if (s == NULL || parse_int64(s, INT64_MIN, INT64_MAX, &v) != 0)
		return -1;
	if (v < 0)
		return -2;
	return v > ALERT_HISTORY_LIMIT_MAX * 1000L ? ALERT_HISTORY_LIMIT_MAX * 1000L : (long)v;
}

int
alert_history_query_parse(struct alert_history_query *q, const char *limit,
    const char *offset, const char *start, const char *end, const char *severity,
    const char *resource_id, const char **err)
{
	long n;
	double ts = 0, te = 0;

	memset(q, 0, sizeof(*q));
	q->limit = ALERT_HISTORY_LIMIT_DEFAULT;
	n = query_count(limit);
	if (n == -2) {
		*err = "limit must be non-negative";
		return -1;
	}
	if (n >= 0)
		q->limit = n > ALERT_HISTORY_LIMIT_MAX ? ALERT_HISTORY_LIMIT_MAX : n;
	n = query_count(offset);
	if (n == -2) {
		*err = "offset must be non-negative";
		return -1;
	}
	if (n >= 0)
		q->offset = n;
	if (start != NULL && *start != '\0') {
		if (timefmt_parse_rfc3339(start, &ts) != 0) {
			*err = "invalid startTime parameter";
			return -1;
		}
		q->start = start;
	}
	if (end != NULL && *end != '\0') {
		if (timefmt_parse_rfc3339(end, &te) != 0) {
			*err = "invalid endTime parameter";
			return -1;
		}
		q->end = end;
	}
	if (q->start != NULL && q->end != NULL && te < ts) {
		*err = "endTime must be after startTime";
		return -1;
	}
	if (severity != NULL && (strcmp(severity, "warning") == 0 ||
	    strcmp(severity, "critical") == 0))
		q->severity = severity;
	if (resource_id != NULL && *resource_id != '\0')
		q->resource_id = resource_id;
	return 0;
}

/* Filters in SQL, then order, offset and limit (LIMIT NULL is all). */
static const struct db_stmt stmt_history = {"alert_history",
	"SELECT COALESCE(json_agg(h.alert ORDER BY h.recorded_at DESC, h.seq DESC), '[]')::text "
	"FROM (SELECT seq, recorded_at, alert FROM pulse.alert_history "
	"WHERE ($1::timestamptz IS NULL OR start_time >= $1::timestamptz) "
	"AND ($2::timestamptz IS NULL OR start_time <= $2::timestamptz) "
	"AND ($3::text IS NULL OR level = $3) AND ($4::text IS NULL OR resource_id = $4) "
	"ORDER BY recorded_at DESC, seq DESC LIMIT $5::bigint OFFSET $6::bigint) h", 6};

struct json_object *
alert_history_fetch(struct db *db, const struct alert_history_query *q)
{
	char lim[24], off[24], err[128];
	const char *p[6];
	struct json_object *arr;
	PGresult *res;

	snprintf(lim, sizeof(lim), "%ld", q->limit);
	snprintf(off, sizeof(off), "%ld", q->offset);
	p[0] = q->start;
	p[1] = q->end;
	p[2] = q->severity;
	p[3] = q->resource_id;
	p[4] = q->limit > 0 ? lim : NULL;
	p[5] = off;
	res = db_exec_stmt(db, &stmt_history, p);
	if (res == NULL)
		return NULL;
	arr = jsonutil_parse_limited(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0),
	    &jsonutil_limits_upstream, NULL, err, sizeof(err));
	PQclear(res);
	if (arr == NULL)
		log_warn("msg=\"alert history unreadable\" error=\"%s\"", err);
	return arr;
}

int
alert_history_clear(struct db *db)
{
	int rc;

	if (db_begin(db) != 0)
		return -1;
	rc = db_exec(db, "DELETE FROM pulse.alert_history") == 0 ? 1 : -1;
	return change_end(db, rc) == 1 ? 0 : -1;
}

/* --- incidents -------------------------------------------------------------------------- */

/* An older open incident of the same alert id closes when a new occurrence opens. */
static const struct db_stmt stmt_incident_close_old = {"incident_close_old",
	"UPDATE pulse.incidents SET status = 'resolved', closed_at = to_timestamp($2::float8) "
	"WHERE alert_id = $1 AND status = 'open' AND opened_at < to_timestamp($2::float8)", 2};
static const struct db_stmt stmt_incident_open = {"incident_open",
	"WITH inc AS (INSERT INTO pulse.incidents (id, alert_id, alert_type, level, resource_id, "
	"resource_name, resource_type, node, instance, message, opened_at, acknowledged, "
	"ack_user, ack_time) VALUES (gen_random_uuid()::text, $1, $2, $3, $4, $5, $6, $7, $8, "
	"$9, to_timestamp($10::float8), $11::boolean, $12, to_timestamp($13::float8)) "
	"ON CONFLICT (alert_id, opened_at) DO NOTHING RETURNING id, message) "
	"INSERT INTO pulse.incident_events (incident_id, id, type, summary) "
	"SELECT id, gen_random_uuid()::text, 'alert_fired', message FROM inc", 13};
static const struct db_stmt stmt_incident_retention = {"incident_retention",
	"DELETE FROM pulse.incidents WHERE opened_at < now() - interval '90 days' OR id IN "
	"(SELECT id FROM pulse.incidents ORDER BY opened_at DESC OFFSET 500)", 0};

int
incident_record_raised(struct db *db, const struct alert *a)
{
	char start[32], ack[32];
	const char *rtype = NULL;
	struct json_object *v;

	if (a->metadata != NULL && json_object_object_get_ex(a->metadata, "resourceType", &v) &&
	    json_object_is_type(v, json_type_string))
		rtype = json_object_get_string(v);
	snprintf(start, sizeof(start), "%.6f", a->start_time);
	snprintf(ack, sizeof(ack), "%.6f", a->ack_time);
	{
		const char *pc[] = {a->id, start};
		const char *po[] = {a->id, a->type, a->level, a->resource_id, a->resource_name,
		    rtype ? rtype : "", a->node, a->instance, a->message, start,
		    a->acknowledged ? "true" : "false",
		    a->acknowledged && a->ack_user[0] ? a->ack_user : NULL,
		    a->acknowledged && a->ack_time > 0 ? ack : NULL};

		if (db_exec_stmt_ok(db, &stmt_incident_close_old, pc) != 0 ||
		    db_exec_stmt_ok(db, &stmt_incident_open, po) != 0)
			return -1;
	}
	return 0;
}

int
incident_retention(struct db *db)
{
	return db_exec_stmt_ok(db, &stmt_incident_retention, NULL);
}

#define INCIDENT_COLUMNS "id, alert_id, alert_type, level, resource_id, resource_name, " \
	"resource_type, node, instance, message, status, extract(epoch FROM opened_at), " \
	"extract(epoch FROM closed_at), acknowledged, ack_user, extract(epoch FROM ack_time)"
#define EVENT_COLUMNS "incident_id, id, type, extract(epoch FROM at), summary, details::text"

/* The occurrence at $2: exactly, or, for a time without a fraction (an alert's startTime is
 * written to the second), the one opened within that second. */
#define INCIDENT_AT "($2::timestamptz IS NULL OR opened_at = $2::timestamptz OR " \
	"(date_trunc('second', $2::timestamptz) = $2::timestamptz AND " \
	"date_trunc('second', opened_at) = $2::timestamptz)) "
static const struct db_stmt stmt_incident_at = {"incident_at",
	"SELECT " INCIDENT_COLUMNS " FROM pulse.incidents WHERE alert_id = $1 "
	"AND " INCIDENT_AT
	"ORDER BY opened_at DESC LIMIT 1", 2};
static const struct db_stmt stmt_incident_events_at = {"incident_events_at",
	"SELECT " EVENT_COLUMNS " FROM pulse.incident_events WHERE incident_id = "
	"(SELECT id FROM pulse.incidents WHERE alert_id = $1 "
	"AND " INCIDENT_AT
	"ORDER BY opened_at DESC LIMIT 1) ORDER BY seq", 2};
static const struct db_stmt stmt_incident_resource = {"incident_resource",
	"SELECT " INCIDENT_COLUMNS " FROM pulse.incidents WHERE resource_id = $1 "
	"ORDER BY opened_at DESC LIMIT $2::bigint", 2};
static const struct db_stmt stmt_incident_events_resource = {"incident_events_resource",
	"SELECT " EVENT_COLUMNS " FROM pulse.incident_events WHERE incident_id IN "
	"(SELECT id FROM pulse.incidents WHERE resource_id = $1 "
	"ORDER BY opened_at DESC LIMIT $2::bigint) ORDER BY seq", 2};

static void
opt_time(struct json_object *o, const char *key, const PGresult *res, int row, int col)
{
	char buf[TIMEFMT_LEN];
	double t;

	if (PQgetisnull(res, row, col))
		return;
	t = strtod(PQgetvalue(res, row, col), NULL);	/* extract(epoch ...) of the server */
	jsonwrite_str(o, key, timefmt_rfc3339_nano(t, buf, sizeof(buf)));
}

static struct json_object *
incident_json(const PGresult *res, int row)
{
	struct json_object *o = json_object_new_object();
	const char *v;

	jsonwrite_str(o, "id", PQgetvalue(res, row, 0));
	jsonwrite_str(o, "alertId", PQgetvalue(res, row, 1));
	jsonwrite_str(o, "alertType", PQgetvalue(res, row, 2));
	jsonwrite_str(o, "level", PQgetvalue(res, row, 3));
	jsonwrite_str(o, "resourceId", PQgetvalue(res, row, 4));
	jsonwrite_str(o, "resourceName", PQgetvalue(res, row, 5));
	jsonwrite_opt_str(o, "resourceType", PQgetvalue(res, row, 6));
	jsonwrite_opt_str(o, "node", PQgetvalue(res, row, 7));
	jsonwrite_opt_str(o, "instance", PQgetvalue(res, row, 8));
	jsonwrite_opt_str(o, "message", PQgetvalue(res, row, 9));
	jsonwrite_str(o, "status", PQgetvalue(res, row, 10));
	opt_time(o, "openedAt", res, row, 11);
	opt_time(o, "closedAt", res, row, 12);
	jsonwrite_bool(o, "acknowledged", PQgetvalue(res, row, 13)[0] == 't');
	v = PQgetisnull(res, row, 14) ? NULL : PQgetvalue(res, row, 14);
	jsonwrite_opt_str(o, "ackUser", v);
	opt_time(o, "ackTime", res, row, 15);
	json_object_object_add(o, "events", json_object_new_array());
	return o;
}

/* Adds each event row to the "events" of its incident in byid (incident id -> object). */
static void
incident_add_events(struct json_object *byid, const PGresult *res)
{
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *inc, *events, *e;
		char err[64];

		if (!json_object_object_get_ex(byid, PQgetvalue(res, i, 0), &inc) ||
		    !json_object_object_get_ex(inc, "events", &events))
			continue;
		e = json_object_new_object();
		jsonwrite_str(e, "id", PQgetvalue(res, i, 1));
		jsonwrite_str(e, "type", PQgetvalue(res, i, 2));
		opt_time(e, "timestamp", res, i, 3);
		jsonwrite_str(e, "summary", PQgetvalue(res, i, 4));
		if (!PQgetisnull(res, i, 5)) {
			struct json_object *d = jsonutil_parse(PQgetvalue(res, i, 5),
			    (size_t)PQgetlength(res, i, 5), err, sizeof(err));

			if (d != NULL)
				json_object_object_add(e, "details", d);
		}
		json_object_array_add(events, e);
	}
}

/* The incidents of one query with their events, as an array the caller owns. */
static struct json_object *
incident_query(struct db *db, const struct db_stmt *inc, const struct db_stmt *ev,
    const char *const *params)
{
	PGresult *res = db_exec_stmt(db, inc, params), *eres;
	struct json_object *arr, *byid;

	if (res == NULL)
		return NULL;
	eres = db_exec_stmt(db, ev, params);
	if (eres == NULL) {
		PQclear(res);
		return NULL;
	}
	arr = json_object_new_array();
	byid = json_object_new_object();
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *o = incident_json(res, i);

		json_object_array_add(arr, o);
		json_object_object_add(byid, PQgetvalue(res, i, 0), json_object_get(o));
	}
	incident_add_events(byid, eres);
	json_object_put(byid);
	PQclear(res);
	PQclear(eres);
	return arr;
}

int
incident_get(struct db *db, const char *alert_id, const char *opened_at,
    struct json_object **out)
{
	const char *p[] = {alert_id, opened_at};
	struct json_object *arr = incident_query(db, &stmt_incident_at, &stmt_incident_events_at,
	    p);

	*out = NULL;
	if (arr == NULL)
		return -1;
	if (json_object_array_length(arr) > 0)
		*out = json_object_get(json_object_array_get_idx(arr, 0));
	json_object_put(arr);
	return 0;
}

struct json_object *
incident_list_resource(struct db *db, const char *resource_id, long limit)
{
	char lim[24];
	const char *p[] = {resource_id, limit > 0 ? lim : NULL};

	snprintf(lim, sizeof(lim), "%ld", limit);
	return incident_query(db, &stmt_incident_resource, &stmt_incident_events_resource, p);
}

/* The note goes to the incident named, or to the latest of the alert. */
static const struct db_stmt stmt_incident_note = {"incident_note",
	"WITH inc AS (SELECT id FROM pulse.incidents WHERE CASE WHEN $1::text IS NOT NULL "
	"THEN id = $1 ELSE alert_id = $2 END ORDER BY opened_at DESC LIMIT 1) "
	"INSERT INTO pulse.incident_events (incident_id, id, type, summary, details) "
	"SELECT id, gen_random_uuid()::text, 'note', $3::text, "
	"jsonb_build_object('user', $4::text) FROM inc RETURNING incident_id", 4};

/* The note statement inside its transaction: 1, 0 (no such incident) or -1. */
static int
note_run(struct db *db, const char *const *params)
{
	PGresult *res = db_exec_stmt(db, &stmt_incident_note, params);
	int rc;

	if (res == NULL)
		return -1;
	rc = incident_trim(db, res) != 0 ? -1 : PQntuples(res) > 0;
	PQclear(res);
	return rc;
}

int
incident_add_note(struct db *db, const char *incident_id, const char *alert_id,
    const char *note, const char *user)
{
	const char *p[] = {incident_id, alert_id, note, user};

	if (db_begin(db) != 0)
		return -1;
	return change_end(db, note_run(db, p));
}
