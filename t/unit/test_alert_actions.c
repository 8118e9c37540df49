/* test_alert_actions.c: the alert actions: alert id validation (§1.3) and the history query
 * parameters (§6); against a server when PULSE_TEST_DSN names one (t/api/50-alert-lifecycle.t
 * runs it so), the incidents of raised alerts, their retention, and the actions. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert_actions.h"
#include "log.h"
#include "tap.h"
#include "timefmt.h"

static void
test_alert_id(void)
{
	char buf[ALERT_ID_MAX + 2];

	ok(alert_id_valid("pve1:node1:101-cpu"), "a guest metric id");
	ok(alert_id_valid("host:abc/disk:root-disk"), "a host disk id with a slash");
	ok(alert_id_valid("x"), "one character");
	ok(alert_id_valid("a b"), "an inner space");
	ok(alert_id_valid("~!%25{}"), "printable punctuation");
	ok(!alert_id_valid(NULL), "NULL");
	ok(!alert_id_valid(""), "empty");
	ok(!alert_id_valid(" x"), "a leading space");
	ok(!alert_id_valid("x "), "a trailing space");
	ok(!alert_id_valid("a/../b"), "../ inside");
	ok(!alert_id_valid("../b"), "../ first");
	ok(!alert_id_valid("a/.."), "/.. last");
	ok(alert_id_valid("a..b/c"), "two dots not next to a slash");
	ok(!alert_id_valid("a\tb"), "a tab");
	ok(!alert_id_valid("a\x7f"), "DEL");
	ok(!alert_id_valid("caf\xc3\xa9"), "UTF-8 beyond ASCII");
	memset(buf, 'a', sizeof(buf));
	buf[ALERT_ID_MAX] = '\0';
	ok(alert_id_valid(buf), "500 characters");
	buf[ALERT_ID_MAX] = 'a';
	buf[ALERT_ID_MAX + 1] = '\0';
	ok(!alert_id_valid(buf), "501 characters");
}

/* Parses the parameters; returns the result with the message (or "") in *msg. */
static int
parse(struct alert_history_query *q, const char *limit, const char *offset, const char *start,
    const char *end, const char *severity, const char *rid, const char **msg)
{
	*msg = "";
	return alert_history_query_parse(q, limit, offset, start, end, severity, rid, msg);
}

static void
test_history_query(void)
{
	struct alert_history_query q;
	const char *msg;

	is_int(parse(&q, NULL, NULL, NULL, NULL, NULL, NULL, &msg), 0, "no parameters");
	is_int(q.limit, 100, "limit defaults to 100");
	is_int(q.offset, 0, "offset 0");
	ok(q.start == NULL && q.end == NULL && q.severity == NULL && q.resource_id == NULL,
	    "no filters");

	parse(&q, "0", NULL, NULL, NULL, NULL, NULL, &msg);
	is_int(q.limit, 0, "limit 0 is all");
	parse(&q, "25", "5", NULL, NULL, NULL, NULL, &msg);
	is_int(q.limit, 25, "limit 25");
	is_int(q.offset, 5, "offset 5");
	parse(&q, "10001", NULL, NULL, NULL, NULL, NULL, &msg);
	is_int(q.limit, 10000, "limit over 10000 capped");
	parse(&q, "99999999999999999999", NULL, NULL, NULL, NULL, NULL, &msg);
	is_int(q.limit, 100, "a limit beyond int64 is not a number: ignored");
	is_int(parse(&q, "ten", "x", NULL, NULL, NULL, NULL, &msg), 0, "non-numeric accepted");
	is_int(q.limit, 100, "non-numeric limit ignored");
	is_int(q.offset, 0, "non-numeric offset ignored");
	parse(&q, "1.5", NULL, NULL, NULL, NULL, NULL, &msg);
	is_int(q.limit, 100, "a fraction is not a number here");

	is_int(parse(&q, "-1", NULL, NULL, NULL, NULL, NULL, &msg), -1, "negative limit");
	is_str(msg, "limit must be non-negative", "its message");
	is_int(parse(&q, NULL, "-3", NULL, NULL, NULL, NULL, &msg), -1, "negative offset");
	is_str(msg, "offset must be non-negative", "its message");

	is_int(parse(&q, NULL, NULL, "2026-01-09T21:25:38Z", "2026-01-10T00:00:00.5+01:00", NULL,
	    NULL, &msg), 0, "both bounds");
	is_str(q.start, "2026-01-09T21:25:38Z", "start kept as given");
	is_str(q.end, "2026-01-10T00:00:00.5+01:00", "end kept as given");
	is_int(parse(&q, NULL, NULL, "yesterday", NULL, NULL, NULL, &msg), -1, "bad start");
	is_str(msg, "invalid startTime parameter", "its message");
	is_int(parse(&q, NULL, NULL, NULL, "2026-13-01T00:00:00Z", NULL, NULL, &msg), -1,
	    "bad end");
	is_str(msg, "invalid endTime parameter", "its message");
	is_int(parse(&q, NULL, NULL, "2026-01-10T00:00:00Z", "2026-01-09T00:00:00Z", NULL, NULL,
	    &msg), -1, "end before start");
	is_str(msg, "endTime must be after startTime", "its message");
	is_int(parse(&q, NULL, NULL, "2026-01-10T00:00:00Z", "2026-01-10T00:00:00Z", NULL, NULL,
	    &msg), 0, "end equal to start");
	is_int(parse(&q, NULL, NULL, "2026-01-10T01:00:00+01:00", "2026-01-10T00:00:00Z", NULL,
	    NULL, &msg), 0, "the same instant in two zones");
	is_int(parse(&q, NULL, NULL, "", "", NULL, NULL, &msg), 0, "empty bounds ignored");
	ok(q.start == NULL && q.end == NULL, "no bounds");

	parse(&q, NULL, NULL, NULL, NULL, "critical", "pve1:node1:101", &msg);
	is_str(q.severity, "critical", "severity critical");
	is_str(q.resource_id, "pve1:node1:101", "resource id");
	parse(&q, NULL, NULL, NULL, NULL, "warning", "", &msg);
	is_str(q.severity, "warning", "severity warning");
	ok(q.resource_id == NULL, "empty resource id: no filter");
	parse(&q, NULL, NULL, NULL, NULL, "all", NULL, &msg);
	ok(q.severity == NULL, "all: no filter");
	parse(&q, NULL, NULL, NULL, NULL, "CRITICAL", NULL, &msg);
	ok(q.severity == NULL, "other text: no filter");
}

static void
test_rfc3339(void)
{
	double t = -1;

	is_int(timefmt_parse_rfc3339("2026-01-01T00:00:00Z", &t), 0, "RFC 3339 UTC");
	ok(t == 1767225600.0, "its value");
	is_int(timefmt_parse_rfc3339("2026-01-01T01:00:00+01:00", &t), 0, "with an offset");
	ok(t == 1767225600.0, "the same instant");
	is_int(timefmt_parse_rfc3339("2026-01-01 00:00:00Z", &t), -1, "a space is not a T");
	is_int(timefmt_parse_rfc3339("2026-01-01T00:00:00", &t), -1, "no zone");
}

/* The first column of the first row of sql, in a static buffer ("" when none, "ERR"). */
static const char *
value(struct db *db, const char *sql)
{
	static char buf[256];
	PGresult *res = db_exec_params(db, sql, 0, NULL);

	if (res == NULL)
		return "ERR";
	snprintf(buf, sizeof(buf), "%s", PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return buf;
}

static void
with_server(const char *dsn)
{
	struct db *db = db_new(dsn, "test_alert_actions", 1);
	struct alert a;
	struct json_object *inc, *ev, *meta = json_object_new_object();
	char sql[512], want[TIMEFMT_LEN];
	/* Two hours ago on the hour: inside the 90 days retention keeps. */
	const double T0 = (double)(time(NULL) / 3600 * 3600 - 7200);

	ok(db_ensure(db, 1) == 0, "connects to PULSE_TEST_DSN");
	db_exec(db, "DELETE FROM pulse.incidents WHERE alert_id LIKE 'ut-%'");
	memset(&a, 0, sizeof(a));
	snprintf(a.id, sizeof(a.id), "ut-guest-cpu");
	snprintf(a.type, sizeof(a.type), "cpu");
	snprintf(a.level, sizeof(a.level), "critical");
	snprintf(a.resource_id, sizeof(a.resource_id), "ut-guest");
	snprintf(a.resource_name, sizeof(a.resource_name), "web1");
	snprintf(a.node, sizeof(a.node), "node1");
	snprintf(a.message, sizeof(a.message), "CPU at 97%%");
	json_object_object_add(meta, "resourceType", json_object_new_string("guest"));
	a.metadata = meta;
	a.start_time = T0 + 0.25;
	is_int(incident_record_raised(db, &a), 0, "an incident opens for a raised alert");
	is_int(incident_record_raised(db, &a), 0, "the same occurrence again");
	is_str(value(db, "SELECT count(*) || '|' || min(status) || '|' || min(resource_type) "
	    "FROM pulse.incidents WHERE alert_id = 'ut-guest-cpu'"), "1|open|guest",
	    "one open incident for one occurrence");
	is_str(value(db, "SELECT string_agg(e.type || ':' || e.summary, ',') FROM "
	    "pulse.incident_events e JOIN pulse.incidents i ON i.id = e.incident_id "
	    "WHERE i.alert_id = 'ut-guest-cpu'"), "alert_fired:CPU at 97%", "with its fired event");
	is_int(incident_get(db, "ut-guest-cpu", NULL, &inc), 0, "read back");
	ok(inc != NULL && json_object_object_get_ex(inc, "events", &ev) &&
	    json_object_array_length(ev) == 1, "one event");
	timefmt_rfc3339_nano(T0 + 0.25, want, sizeof(want));
	ok(inc && strcmp(json_object_get_string(json_object_object_get(inc, "openedAt")),
	    want) == 0, "openedAt as the start time");
	ok(inc && json_object_object_get(inc, "instance") == NULL, "an empty instance is omitted");
	json_object_put(inc);

	a.start_time = T0 + 3600;
	a.acknowledged = 1;
	a.ack_time = T0 + 3500;
	snprintf(a.ack_user, sizeof(a.ack_user), "admin");
	is_int(incident_record_raised(db, &a), 0, "a later occurrence");
	is_str(value(db, "SELECT string_agg(status || ':' || acknowledged || ':' || "
	    "coalesce(ack_user, '-'), ',' ORDER BY opened_at) FROM pulse.incidents "
	    "WHERE alert_id = 'ut-guest-cpu'"), "resolved:false:-,open:true:admin",
	    "closes the older one; the new one carries the acknowledgement");
	snprintf(sql, sizeof(sql), "%.0f", T0 + 3600);
	is_str(value(db, "SELECT extract(epoch FROM closed_at)::bigint FROM pulse.incidents "
	    "WHERE alert_id = 'ut-guest-cpu' AND status = 'resolved'"), sql,
	    "closed when the new one opened");
	is_int(incident_get(db, "ut-guest-cpu", want, &inc), 0, "the older by its start time");
	ok(inc && strcmp(json_object_get_string(json_object_object_get(inc, "status")),
	    "resolved") == 0, "is resolved");
	json_object_put(inc);
	is_int(incident_get(db, "ut-none", NULL, &inc), 0, "an alert without incidents");
	ok(inc == NULL, "gives none");

	/* Retention: older than 90 days goes; at most 500. */
	db_exec(db, "INSERT INTO pulse.incidents (id, alert_id, alert_type, level, resource_id, "
	    "opened_at) SELECT 'ut-bulk-' || g, 'ut-bulk-' || g, 'cpu', 'warning', 'ut-bulk', "
	    "now() - interval '1 hour' - g * interval '1 second' FROM generate_series(1, 520) g");
	db_exec(db, "INSERT INTO pulse.incidents (id, alert_id, alert_type, level, resource_id, "
	    "opened_at) VALUES ('ut-ancient', 'ut-ancient', 'cpu', 'warning', 'ut-bulk', "
	    "now() - interval '91 days')");
	a.start_time = (double)time(NULL);
	snprintf(a.id, sizeof(a.id), "ut-fresh");
	is_int(incident_record_raised(db, &a), 0, "a fresh occurrence");
	is_int(incident_retention(db), 0, "retention after the batch");
	is_str(value(db, "SELECT count(*) FROM pulse.incidents"), "500", "500 incidents kept");
	is_str(value(db, "SELECT count(*) FROM pulse.incidents WHERE id = 'ut-ancient'"), "0",
	    "the one over 90 days gone");
	is_str(value(db, "SELECT count(*) FROM pulse.incidents WHERE alert_id = 'ut-fresh'"), "1",
	    "the newest kept");
	is_str(value(db, "SELECT count(*) FROM pulse.incidents WHERE id = 'ut-bulk-520'"), "0",
	    "the oldest over 500 gone");

	/* The actions: only an active alert; one transaction each, moving the version. */
	db_exec(db, "INSERT INTO pulse.alerts (id, type, level, resource_id, start_time, source) "
	    "VALUES ('ut-fresh', 'cpu', 'critical', 'ut-guest', now(), 'pve-1') "
	    "ON CONFLICT (id) DO UPDATE SET resolved_at = NULL");
	snprintf(sql, sizeof(sql), "%s", value(db, "SELECT version FROM pulse.state_version"));
	is_int(alert_action_apply(db, ALERT_ACK, "ut-fresh", "token:abc"), 1, "acknowledge");
	ok(strcmp(sql, value(db, "SELECT version FROM pulse.state_version")) != 0,
	    "the state version moved");
	is_int(alert_action_apply(db, ALERT_CLEAR, "ut-fresh", "token:abc"), 1, "clear");
	is_int(alert_action_apply(db, ALERT_UNACK, "ut-fresh", "token:abc"), 0,
	    "a resolved alert is not active");
	is_str(value(db, "SELECT string_agg(e.type, ',' ORDER BY e.seq) "
	    "FROM pulse.incident_events e "
	    "JOIN pulse.incidents i ON i.id = e.incident_id WHERE i.alert_id = 'ut-fresh'"),
	    "alert_fired,alert_acknowledged,alert_resolved", "its incident's timeline");
	is_int(alert_action_apply(db, ALERT_ACK, "ut-nothing", "x"), 0, "an unknown id");

	db_exec(db, "DELETE FROM pulse.incidents WHERE alert_id LIKE 'ut-%'");
	db_exec(db, "DELETE FROM pulse.alerts WHERE id LIKE 'ut-%'");
	json_object_put(meta);
	db_free(db);
}

int
main(void)
{
	const char *dsn = getenv("PULSE_TEST_DSN");

	log_set_level(LOGL_ERROR);
	test_alert_id();
	test_history_query();
	test_rfc3339();
	if (dsn && *dsn)
		with_server(dsn);
	else
		ok(1, "# SKIP no PULSE_TEST_DSN: t/api/50-alert-lifecycle.t runs the server part");
	return done_testing();
}
