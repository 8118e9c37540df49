/* api_monitoring.c: GET /api/monitoring/scheduler/health (metrics-reporting.md §4.1), from
 * what the workers record in pulse.poll_status. */
#include "config.h"

#include "conf.h"
#include "handlers.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Times come as epoch seconds to the microsecond, written as Go writes a time.Time
 * (timefmt_rfc3339_nano: trailing fraction zeros dropped). */
#define EPOCH_OF(col) "extract(epoch FROM " col ")"

static const struct db_stmt stmt_health = {
	"scheduler_health",
	"SELECT i.type, i.name, i.host, " EPOCH_OF("p.last_success") ", " EPOCH_OF("p.last_error_at") ", "
	"coalesce(p.last_error, ''), coalesce(p.error_category, ''), "
	"coalesce(p.consecutive_failures, 0), " EPOCH_OF("p.first_failure_at") ", "
	"coalesce(p.breaker_state, 'closed'), " EPOCH_OF("p.breaker_since") ", " EPOCH_OF("p.retry_at") ", "
	"coalesce(p.worker_id, ''), "
	"CASE WHEN p.last_success IS NULL THEN 1 ELSE least(1, extract(epoch FROM now() - p.last_success) / 300) END, "
	"(p.retry_at IS NULL OR p.retry_at <= now() + interval '12 seconds'), "
	EPOCH_OF("now()") ", " EPOCH_OF("p.last_attempt") " "
	"FROM pulse.instances i LEFT JOIN pulse.poll_status p ON p.instance_id = i.id "
	"ORDER BY i.type, i.name",
	0,
};

/* The columns of stmt_health. */
enum {
	H_TYPE, H_NAME, H_HOST, H_LAST_SUCCESS, H_LAST_ERROR_AT, H_LAST_ERROR, H_CATEGORY,
	H_FAILURES, H_FIRST_FAILURE, H_BREAKER, H_BREAKER_SINCE, H_RETRY_AT, H_WORKER, H_SCORE,
	H_DUE, H_NOW, H_LAST_ATTEMPT,
};

/* A time column as the wire has it, into buf (TIMEFMT_LEN). */
static const char *
time_of(PGresult *res, int row, int col, char *buf)
{
	return timefmt_rfc3339_nano(strtod(PQgetvalue(res, row, col), NULL), buf, TIMEFMT_LEN);
}

static void
add_opt_time(struct json_object *o, const char *k, PGresult *res, int row, int col)
{
	char buf[TIMEFMT_LEN];

	if (!PQgetisnull(res, row, col))
		jsonwrite_str(o, k, time_of(res, row, col, buf));
}

/* A time column, or Go's zero time when it is NULL (or when unset is set); buf as time_of. */
static const char *
time_or_zero(PGresult *res, int row, int col, int unset, char *buf)
{
	return unset || PQgetisnull(res, row, col) ? TIMEFMT_ZERO : time_of(res, row, col, buf);
}

/* One instance's entry: its poll status, breaker and (never used) dead letter. */
static struct json_object *
instance_entry(PGresult *res, int i)
{
	const char *type = PQgetvalue(res, i, H_TYPE), *name = PQgetvalue(res, i, H_NAME);
	const char *state = PQgetvalue(res, i, H_BREAKER);
	int failures = (int)strtol(PQgetvalue(res, i, H_FAILURES), NULL, 10);
	struct json_object *in = json_object_new_object(), *ps = json_object_new_object(),
	    *br = json_object_new_object(), *d = json_object_new_object();
	char key[192];

	snprintf(key, sizeof(key), "%s::%s", type, name);
	jsonwrite_str(in, "key", key);
	jsonwrite_str(in, "type", type);
	jsonwrite_str(in, "instance", name);
	jsonwrite_str(in, "displayName", name);
	jsonwrite_str(in, "connection", PQgetvalue(res, i, H_HOST));
	add_opt_time(ps, "lastSuccess", res, i, H_LAST_SUCCESS);
	if (!PQgetisnull(res, i, H_LAST_ERROR_AT) && PQgetvalue(res, i, H_LAST_ERROR)[0]) {
		struct json_object *le = json_object_new_object();
		const char *category = PQgetvalue(res, i, H_CATEGORY);
		add_opt_time(le, "at", res, i, H_LAST_ERROR_AT);
		jsonwrite_str(le, "message", PQgetvalue(res, i, H_LAST_ERROR));
		jsonwrite_str(le, "category", category[0] ? category : "transient");
		json_object_object_add(ps, "lastError", le);
	}
	jsonwrite_int(ps, "consecutiveFailures", failures);
	if (failures > 0)
		add_opt_time(ps, "firstFailureAt", res, i, H_FIRST_FAILURE);
	json_object_object_add(in, "pollStatus", ps);
	jsonwrite_str(br, "state", state);
	add_opt_time(br, "since", res, i, H_BREAKER_SINCE);
	add_opt_time(br, "lastTransition", res, i, H_BREAKER_SINCE);
	if (strcmp(state, "closed") != 0)
		add_opt_time(br, "retryAt", res, i, H_RETRY_AT);
	jsonwrite_int(br, "failureCount", failures);
	json_object_object_add(in, "breaker", br);
	jsonwrite_bool(d, "present", 0);
	json_object_object_add(in, "deadLetter", d);
	jsonwrite_opt_str(in, "worker", PQgetvalue(res, i, H_WORKER));
	return in;
}

/* The breaker summary of an instance whose breaker is not closed or that is failing. */
static struct json_object *
breaker_entry(PGresult *res, int i)
{
	const char *state = PQgetvalue(res, i, H_BREAKER);
	struct json_object *b = json_object_new_object();
	char buf[TIMEFMT_LEN];

	jsonwrite_str(b, "instance", PQgetvalue(res, i, H_NAME));
	jsonwrite_str(b, "type", PQgetvalue(res, i, H_TYPE));
	jsonwrite_str(b, "state", state);
	jsonwrite_int(b, "failures", strtol(PQgetvalue(res, i, H_FAILURES), NULL, 10));
	jsonwrite_str(b, "retryAt", time_or_zero(res, i, H_RETRY_AT, strcmp(state, "closed") == 0, buf));
	return b;
}

static struct json_object *
staleness_entry(PGresult *res, int i)
{
	struct json_object *s = json_object_new_object();
	char buf[TIMEFMT_LEN];

	jsonwrite_str(s, "instance", PQgetvalue(res, i, H_NAME));
	jsonwrite_str(s, "type", PQgetvalue(res, i, H_TYPE));
	json_object_object_add(s, "score", jsonutil_new_double(strtod(PQgetvalue(res, i, H_SCORE), NULL)));
	jsonwrite_str(s, "lastSuccess", time_or_zero(res, i, H_LAST_SUCCESS, 0, buf));
	jsonwrite_str(s, "lastError", time_or_zero(res, i, H_LAST_ERROR_AT, 0, buf));
	return s;
}

/* The queue: its depth, what is due soon, and how many instances of each type. */
static struct json_object *
queue_summary(PGresult *res)
{
	struct json_object *queue = json_object_new_object(), *per_type = json_object_new_object(), *cnt;
	int n = PQntuples(res), due = 0;

	for (int i = 0; i < n; i++) {
		const char *type = PQgetvalue(res, i, H_TYPE);
		if (PQgetvalue(res, i, H_DUE)[0] == 't')
			due++;
		if (json_object_object_get_ex(per_type, type, &cnt))
			json_object_set_int(cnt, json_object_get_int(cnt) + 1);
		else
			json_object_object_add(per_type, type, json_object_new_int(1));
	}
	jsonwrite_int(queue, "depth", n);
	jsonwrite_int(queue, "dueWithinSeconds", due);
	json_object_object_add(queue, "perType", per_type);
	return queue;
}

void
api_scheduler_health(struct request *r)
{
	PGresult *res = req_result(r, db_exec_stmt(r->db, &stmt_health, NULL));
	struct json_object *o = resp_object(r), *dl, *instances, *breakers, *staleness;
	char now[TIMEFMT_LEN];
	int n;

	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	n = PQntuples(res);
	instances = json_object_new_array();
	breakers = req_json(r, json_object_new_array());
	staleness = req_json(r, json_object_new_array());
	for (int i = 0; i < n; i++) {
		json_object_array_add(instances, instance_entry(res, i));
		if (strcmp(PQgetvalue(res, i, H_BREAKER), "closed") != 0 ||
		    strtol(PQgetvalue(res, i, H_FAILURES), NULL, 10) > 0)
			json_object_array_add(breakers, breaker_entry(res, i));
		json_object_array_add(staleness, staleness_entry(res, i));
	}
	jsonwrite_str(o, "updatedAt", n > 0 ? time_of(res, 0, H_NOW, now) :
	    timefmt_rfc3339(clock_wall(), now, sizeof(now)));
	jsonwrite_bool(o, "enabled", 0);
	json_object_object_add(o, "queue", queue_summary(res));
	dl = json_object_new_object();
	jsonwrite_int(dl, "count", 0);
	json_object_object_add(dl, "tasks", json_object_new_array());
	json_object_object_add(o, "deadLetter", dl);
	if (json_object_array_length(breakers) > 0)
		json_object_object_add(o, "breakers", json_object_get(breakers));
	if (json_object_array_length(staleness) > 0)
		json_object_object_add(o, "staleness", json_object_get(staleness));
	json_object_object_add(o, "instances", instances);
	resp_json(r, 200, o);
}

/* GET /api/storage/{id} (state-proxmox.md §9). */
static const struct db_stmt stmt_storage_one = {
	"storage_one",
	"SELECT s.detail::text FROM pulse.storage s, pulse.mock_mode m WHERE m.id = 1 AND s.id = $1 "
	"AND s.mock = m.enabled",
	1,
};

void
api_storage_get(struct request *r)
{
	const char *id = req_path_param(r, "id");
	const char *params[1] = {id};
	PGresult *res;
	const char *body;

	if (id == NULL || *id == '\0') {
		resp_error(r, 400, "missing_storage_id", "Storage ID is required");
		return;
	}
	res = req_result(r, db_exec_stmt(r->db, &stmt_storage_one, params));
	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	if (PQntuples(res) != 1) {
		resp_error(r, 404, "storage_not_found", "Storage with ID '%.200s' not found", id);
		return;
	}
	body = arena_printf(r->arena, "{\"data\":%s,\"timestamp\":%lld}", PQgetvalue(res, 0, 0),
	    (long long)time(NULL));
	resp_raw(r, 200, "application/json", body, strlen(body));
}

void
api_storage_missing_id(struct request *r)
{
	resp_error(r, 400, "missing_storage_id", "Storage ID is required");
}
