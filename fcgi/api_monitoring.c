/* api_monitoring.c: GET /api/monitoring/scheduler/health (metrics-reporting.md §4.1), from
 * what the workers record in pulse.poll_status. */
#include "config.h"

#include "conf.h"
#include "handlers.h"
#include "jsonutil.h"
#include "log.h"
#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

static const struct db_stmt stmt_health = {
	"scheduler_health",
	"SELECT i.type, i.name, i.host, " TS("p.last_success") ", " TS("p.last_error_at") ", "
	"coalesce(p.last_error, ''), coalesce(p.error_category, ''), "
	"coalesce(p.consecutive_failures, 0), " TS("p.first_failure_at") ", "
	"coalesce(p.breaker_state, 'closed'), " TS("p.breaker_since") ", " TS("p.retry_at") ", "
	"coalesce(p.worker_id, ''), "
	"CASE WHEN p.last_success IS NULL THEN 1 ELSE least(1, extract(epoch FROM now() - p.last_success) / 300) END, "
	"(p.retry_at IS NULL OR p.retry_at <= now() + interval '12 seconds'), "
	TS("now()") ", " TS("p.last_attempt") " "
	"FROM pulse.instances i LEFT JOIN pulse.poll_status p ON p.instance_id = i.id "
	"ORDER BY i.type, i.name",
	0,
};

static void
add_opt_time(struct json_object *o, const char *k, PGresult *res, int row, int col)
{
	if (!PQgetisnull(res, row, col))
		json_object_object_add(o, k, json_object_new_string(PQgetvalue(res, row, col)));
}

void
api_scheduler_health(struct request *r)
{
	PGresult *res = db_exec_stmt(r->db, &stmt_health, NULL);
	struct json_object *o, *queue, *per_type, *dl, *instances, *breakers, *staleness;
	int n, due = 0;

	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	n = PQntuples(res);
	o = json_object_new_object();
	queue = json_object_new_object();
	per_type = json_object_new_object();
	instances = json_object_new_array();
	breakers = json_object_new_array();
	staleness = json_object_new_array();
	for (int i = 0; i < n; i++) {
		const char *type = PQgetvalue(res, i, 0), *name = PQgetvalue(res, i, 1);
		struct json_object *in = json_object_new_object(), *ps = json_object_new_object(),
		    *br = json_object_new_object(), *d = json_object_new_object(), *cnt;
		int failures = (int)strtol(PQgetvalue(res, i, 7), NULL, 10);
		const char *state = PQgetvalue(res, i, 9);
		char key[192];

		if (PQgetvalue(res, i, 14)[0] == 't')
			due++;
		if (json_object_object_get_ex(per_type, type, &cnt))
			json_object_set_int(cnt, json_object_get_int(cnt) + 1);
		else
			json_object_object_add(per_type, type, json_object_new_int(1));
		snprintf(key, sizeof(key), "%s::%s", type, name);
		json_object_object_add(in, "key", json_object_new_string(key));
		json_object_object_add(in, "type", json_object_new_string(type));
		json_object_object_add(in, "instance", json_object_new_string(name));
		json_object_object_add(in, "displayName", json_object_new_string(name));
		json_object_object_add(in, "connection", json_object_new_string(PQgetvalue(res, i, 2)));
		add_opt_time(ps, "lastSuccess", res, i, 3);
		if (!PQgetisnull(res, i, 4) && PQgetvalue(res, i, 5)[0]) {
			struct json_object *le = json_object_new_object();
			json_object_object_add(le, "at", json_object_new_string(PQgetvalue(res, i, 4)));
			json_object_object_add(le, "message", json_object_new_string(PQgetvalue(res, i, 5)));
			json_object_object_add(le, "category", json_object_new_string(
			    PQgetvalue(res, i, 6)[0] ? PQgetvalue(res, i, 6) : "transient"));
			json_object_object_add(ps, "lastError", le);
		}
		json_object_object_add(ps, "consecutiveFailures", json_object_new_int(failures));
		if (failures > 0)
			add_opt_time(ps, "firstFailureAt", res, i, 8);
		json_object_object_add(in, "pollStatus", ps);
		json_object_object_add(br, "state", json_object_new_string(state));
		add_opt_time(br, "since", res, i, 10);
		add_opt_time(br, "lastTransition", res, i, 10);
		if (strcmp(state, "closed") != 0)
			add_opt_time(br, "retryAt", res, i, 11);
		json_object_object_add(br, "failureCount", json_object_new_int(failures));
		json_object_object_add(in, "breaker", br);
		json_object_object_add(d, "present", json_object_new_boolean(0));
		json_object_object_add(in, "deadLetter", d);
		if (PQgetvalue(res, i, 12)[0])
			json_object_object_add(in, "worker", json_object_new_string(PQgetvalue(res, i, 12)));
		json_object_array_add(instances, in);

		if (strcmp(state, "closed") != 0 || failures > 0) {
			struct json_object *b = json_object_new_object();
			json_object_object_add(b, "instance", json_object_new_string(name));
			json_object_object_add(b, "type", json_object_new_string(type));
			json_object_object_add(b, "state", json_object_new_string(state));
			json_object_object_add(b, "failures", json_object_new_int(failures));
			json_object_object_add(b, "retryAt", json_object_new_string(
			    strcmp(state, "closed") != 0 && !PQgetisnull(res, i, 11) ?
			    PQgetvalue(res, i, 11) : TIMEFMT_ZERO));
			json_object_array_add(breakers, b);
		}
		{
			struct json_object *s = json_object_new_object();
			json_object_object_add(s, "instance", json_object_new_string(name));
			json_object_object_add(s, "type", json_object_new_string(type));
			json_object_object_add(s, "score", jsonutil_new_double(strtod(PQgetvalue(res, i, 13), NULL)));
			json_object_object_add(s, "lastSuccess", json_object_new_string(
			    PQgetisnull(res, i, 3) ? TIMEFMT_ZERO : PQgetvalue(res, i, 3)));
			json_object_object_add(s, "lastError", json_object_new_string(
			    PQgetisnull(res, i, 4) ? TIMEFMT_ZERO : PQgetvalue(res, i, 4)));
			json_object_array_add(staleness, s);
		}
	}
	json_object_object_add(o, "updatedAt", json_object_new_string(n > 0 ? PQgetvalue(res, 0, 15) : ""));
	if (n == 0) {
		char now[TIMEFMT_LEN];
		json_object_object_add(o, "updatedAt",
		    json_object_new_string(timefmt_rfc3339(clock_wall(), now, sizeof(now))));
	}
	json_object_object_add(o, "enabled", json_object_new_boolean(0));
	json_object_object_add(queue, "depth", json_object_new_int(n));
	json_object_object_add(queue, "dueWithinSeconds", json_object_new_int(due));
	json_object_object_add(queue, "perType", per_type);
	json_object_object_add(o, "queue", queue);
	dl = json_object_new_object();
	json_object_object_add(dl, "count", json_object_new_int(0));
	json_object_object_add(dl, "tasks", json_object_new_array());
	json_object_object_add(o, "deadLetter", dl);
	if (json_object_array_length(breakers) > 0)
		json_object_object_add(o, "breakers", breakers);
	else
		json_object_put(breakers);
	if (json_object_array_length(staleness) > 0)
		json_object_object_add(o, "staleness", staleness);
	else
		json_object_put(staleness);
	json_object_object_add(o, "instances", instances);
	PQclear(res);
	resp_json(r, 200, o);
	json_object_put(o);
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
	struct strbuf sb = {0};

	if (id == NULL || *id == '\0') {
		resp_error(r, 400, "missing_storage_id", "Storage ID is required");
		return;
	}
	res = db_exec_stmt(r->db, &stmt_storage_one, params);
	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error(r, 404, "storage_not_found", "Storage with ID '%.200s' not found", id);
		return;
	}
	sb_printf(&sb, "{\"data\":%s,\"timestamp\":%lld}", PQgetvalue(res, 0, 0), (long long)time(NULL));
	PQclear(res);
	resp_raw(r, 200, "application/json", sb.data, sb.len);
	sb_free(&sb);
}

void
api_storage_missing_id(struct request *r)
{
	resp_error(r, 400, "missing_storage_id", "Storage ID is required");
}
