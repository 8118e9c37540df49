/* alert_store.c: the alerts in PostgreSQL; see alert_store.h. */
#include "config.h"

#include "alert_store.h"
#include "jsonutil.h"
#include "log.h"
#include "prom.h"
#include "state_rows.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_stmt stmt_load_alerts = {
	"alert_load",
	"SELECT " ALERT_STORE_COLUMNS " FROM pulse.alerts WHERE source = $1 AND resolved_at IS NULL",
	1,
};

static const struct db_stmt stmt_load_pending = {
	"alert_load_pending",
	"SELECT id, extract(epoch FROM first_seen), count FROM pulse.alert_pending "
	"WHERE source = $1",
	1,
};

/* The "recent" records of §3.2b: the id's row keeps the last raise's start and value once
 * resolved, until the retention job drops it an hour later. */
static const struct db_stmt stmt_load_recent = {
	"alert_load_recent",
	"SELECT id, extract(epoch FROM start_time), value FROM pulse.alerts "
	"WHERE source = $1 AND resolved_at IS NOT NULL",
	1,
};

/* A raise reuses the id's row: an active one keeps its start and acknowledgement (§5.1), a
 * resolved one comes back acknowledged when it was and resolved less than an hour ago. */
#define ACK_KEPT "(pulse.alerts.acknowledged AND (pulse.alerts.resolved_at IS NULL OR " \
	"pulse.alerts.resolved_at > now() - interval '1 hour'))"
static const struct db_stmt stmt_raise = {
	"alert_raise",
	"INSERT INTO pulse.alerts (id, type, level, resource_id, resource_name, node, instance, "
	"message, value, threshold, start_time, last_seen, metadata, source) VALUES ($1, $2, $3, "
	"$4, $5, $6, $7, $8, $9, $10, to_timestamp($11), to_timestamp($12), $13::jsonb, $14) "
	"ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, level = EXCLUDED.level, "
	"resource_id = EXCLUDED.resource_id, resource_name = EXCLUDED.resource_name, "
	"node = EXCLUDED.node, instance = EXCLUDED.instance, message = EXCLUDED.message, "
	"value = EXCLUDED.value, threshold = EXCLUDED.threshold, "
	"start_time = CASE WHEN pulse.alerts.resolved_at IS NULL THEN pulse.alerts.start_time "
	"ELSE EXCLUDED.start_time END, last_seen = EXCLUDED.last_seen, "
	"metadata = EXCLUDED.metadata, source = EXCLUDED.source, "
	"acknowledged = " ACK_KEPT ", "
	"ack_time = CASE WHEN " ACK_KEPT " THEN pulse.alerts.ack_time END, "
	"ack_user = CASE WHEN " ACK_KEPT " THEN pulse.alerts.ack_user END, "
	"last_notified = CASE WHEN pulse.alerts.resolved_at IS NULL "
	"THEN pulse.alerts.last_notified END, "
	"last_escalation = CASE WHEN pulse.alerts.resolved_at IS NULL "
	"THEN pulse.alerts.last_escalation ELSE 0 END, "
	"escalation_times = CASE WHEN pulse.alerts.resolved_at IS NULL "
	"THEN pulse.alerts.escalation_times ELSE '{}' END, "
	"resolved_at = NULL, updated_at = now()",
	14,
};

static const struct db_stmt stmt_history = {
	"alert_history_add",
	"INSERT INTO pulse.alert_history (alert_id, level, resource_id, start_time, alert) "
	"VALUES ($1, $2, $3, to_timestamp($4), $5::jsonb)",
	5,
};

static const struct db_stmt stmt_update = {
	"alert_update",
	"UPDATE pulse.alerts SET level = $2, value = $3, threshold = $4, message = $5, "
	"last_seen = to_timestamp($6), metadata = $7::jsonb, updated_at = now() "
	"WHERE id = $1 AND resolved_at IS NULL",
	7,
};

static const struct db_stmt stmt_resolve = {
	"alert_resolve",
	"UPDATE pulse.alerts SET resolved_at = to_timestamp($2), updated_at = now() "
	"WHERE id = $1 AND source = $3 AND resolved_at IS NULL",
	3,
};

static const struct db_stmt stmt_pending_set = {
	"alert_pending_set",
	"INSERT INTO pulse.alert_pending (id, source, first_seen, count) "
	"VALUES ($1, $2, to_timestamp($3), $4::integer) ON CONFLICT (id) DO UPDATE SET "
	"source = EXCLUDED.source, first_seen = EXCLUDED.first_seen, count = EXCLUDED.count, "
	"updated_at = now()",
	4,
};

static const struct db_stmt stmt_pending_delete = {
	"alert_pending_delete",
	"DELETE FROM pulse.alert_pending WHERE id = $1 AND source = $2",
	2,
};

void
alert_store_row(const PGresult *res, int i, struct alert *a)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "%s", PQgetvalue(res, i, 0));
	snprintf(a->type, sizeof(a->type), "%s", PQgetvalue(res, i, 1));
	snprintf(a->level, sizeof(a->level), "%s", PQgetvalue(res, i, 2));
	snprintf(a->resource_id, sizeof(a->resource_id), "%s", PQgetvalue(res, i, 3));
	snprintf(a->resource_name, sizeof(a->resource_name), "%s", PQgetvalue(res, i, 4));
	snprintf(a->node, sizeof(a->node), "%s", PQgetvalue(res, i, 5));
	snprintf(a->instance, sizeof(a->instance), "%s", PQgetvalue(res, i, 6));
	snprintf(a->message, sizeof(a->message), "%s", PQgetvalue(res, i, 7));
	a->value = db_value_double(res, i, 8);
	a->threshold = db_value_double(res, i, 9);
	a->start_time = db_value_double(res, i, 10);
	a->last_seen = db_value_double(res, i, 11);
	a->acknowledged = strcmp(PQgetvalue(res, i, 12), "t") == 0;
	a->ack_time = db_value_double(res, i, 13);
	snprintf(a->ack_user, sizeof(a->ack_user), "%s", PQgetvalue(res, i, 14));
	if (!PQgetisnull(res, i, 15))
		a->metadata = json_tokener_parse(PQgetvalue(res, i, 15));
	a->last_notified = db_value_double(res, i, 16);
	a->last_escalation = (int)db_value_double(res, i, 17);
	a->resolved_time = db_value_double(res, i, 18);
}

int
alert_store_load(struct db *db, const char *source, struct alert_prev *out)
{
	const char *params[1] = {source};
	PGresult *res = db_exec_stmt(db, &stmt_load_alerts, params);

	memset(out, 0, sizeof(*out));
	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++)
		alert_store_row(res, i, alert_prev_add(out));
	PQclear(res);
	if ((res = db_exec_stmt(db, &stmt_load_pending, params)) == NULL) {
		alert_prev_free(out);
		return -1;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		struct alert_pending *p = alert_prev_add_pending(out);
		snprintf(p->id, sizeof(p->id), "%s", PQgetvalue(res, i, 0));
		p->first_seen = db_value_double(res, i, 1);
		p->count = (int)db_value_double(res, i, 2);
	}
	PQclear(res);
	if ((res = db_exec_stmt(db, &stmt_load_recent, params)) == NULL) {
		alert_prev_free(out);
		return -1;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		struct alert_recent *rc = alert_prev_add_recent(out);
		snprintf(rc->id, sizeof(rc->id), "%s", PQgetvalue(res, i, 0));
		rc->start_time = db_value_double(res, i, 1);
		rc->value = db_value_double(res, i, 2);
	}
	PQclear(res);
	alert_prev_index(out);
	return 0;
}

/* The text of a number parameter. */
static const char *
num(char *buf, size_t len, double v)
{
	return sr_num(buf, len, v);
}

static int
write_raise(struct db *db, const char *source, const struct alert *a)
{
	char v[32], t[32], st[32], ls[32];
	const char *md = a->metadata ? jsonutil_to_string(a->metadata, NULL) : NULL;
	const char *params[14] = {a->id, a->type, a->level, a->resource_id, a->resource_name,
	    a->node, a->instance, a->message, num(v, sizeof(v), a->value),
	    num(t, sizeof(t), a->threshold), num(st, sizeof(st), a->start_time),
	    num(ls, sizeof(ls), a->last_seen), md, source};
	struct json_object *snap;
	int rc;

	if (db_exec_stmt_ok(db, &stmt_raise, params) != 0)
		return -1;
	/* No history for offline alerts of PBS, PMG and storage, nor for PMG's alerts (§5.3). */
	if (strcmp(a->type, "offline") == 0 || strncmp(a->resource_id, "pmg-", 4) == 0)
		return 0;
	snap = alert_to_json(a);
	{
		const char *hp[5] = {a->id, a->level, a->resource_id, st,
		    jsonutil_to_string(snap, NULL)};
		rc = db_exec_stmt_ok(db, &stmt_history, hp);
	}
	json_object_put(snap);
	return rc;
}

static int
write_change(struct db *db, const char *source, const struct alert_change *c)
{
	const struct alert *a = &c->alert;
	char n1[32], n2[32], n3[32];

	switch (c->kind) {
	case ALERT_RAISED: {
		const char *labels[2] = {a->level, a->type};
		if (write_raise(db, source, a) != 0)
			return -1;
		prom_add(PROM_ALERTS_FIRED, labels, 1);
		return 0;
	}
	case ALERT_UPDATED: {
		const char *params[7] = {a->id, a->level, num(n1, sizeof(n1), a->value),
		    num(n2, sizeof(n2), a->threshold), a->message,
		    num(n3, sizeof(n3), a->last_seen),
		    a->metadata ? jsonutil_to_string(a->metadata, NULL) : NULL};
		return db_exec_stmt_ok(db, &stmt_update, params);
	}
	case ALERT_RESOLVED: {
		const char *params[3] = {a->id, num(n1, sizeof(n1), a->resolved_time), source};
		const char *labels[1] = {a->type};
		if (db_exec_stmt_ok(db, &stmt_resolve, params) != 0)
			return -1;
		prom_add(PROM_ALERTS_RESOLVED, labels, 1);
		return 0;
	}
	case ALERT_PENDING_SET: {
		char count[16];
		const char *params[4] = {c->pending.id, source,
		    num(n1, sizeof(n1), c->pending.first_seen), count};
		snprintf(count, sizeof(count), "%d", c->pending.count);
		return db_exec_stmt_ok(db, &stmt_pending_set, params);
	}
	case ALERT_PENDING_DELETE: {
		const char *params[2] = {c->pending.id, source};
		return db_exec_stmt_ok(db, &stmt_pending_delete, params);
	}
	}
	return 0;
}

int
alert_store_apply(struct db *db, const char *source, const struct alert_changes *ch)
{
	int alerts_changed = 0, rc = 0;

	if (ch->n == 0)
		return 0;
	if (db_begin(db) != 0)
		return -1;
	/* Writes only: pipelined, a few round trips for the whole list. */
	rc = db_pipeline_begin(db);
	for (int i = 0; i < ch->n && rc == 0; i++) {
		rc = write_change(db, source, &ch->v[i]);
		if (ch->v[i].kind <= ALERT_RESOLVED)
			alerts_changed = 1;
	}
	if (db_pipeline_end(db) != 0)
		rc = -1;
	if (rc == 0 && alerts_changed)
		rc = st_bump_version(db);
	if (rc != 0 || db_commit(db) != 0) {
		log_warn("msg=\"alert write failed\" source=%s error=\"%s\"", source, db_error(db));
		db_rollback(db);
		return -1;
	}
	return 0;
}

/* A source that is an instance (not the mock estate, not an agent's "kind:id") and whose
 * instance is gone. */
#define GONE(t) t ".source <> 'mock' AND position(':' IN " t ".source) = 0 AND NOT EXISTS " \
	"(SELECT 1 FROM pulse.instances i WHERE i.id = " t ".source)"

static const struct db_stmt stmt_retention[] = {
	{"alert_retention_resolved", "DELETE FROM pulse.alerts "
	    "WHERE resolved_at < now() - interval '1 hour'", 0},
	{"alert_retention_history_age", "DELETE FROM pulse.alert_history "
	    "WHERE recorded_at < now() - interval '30 days'", 0},
	{"alert_retention_history_count", "DELETE FROM pulse.alert_history WHERE seq <= "
	    "(SELECT seq FROM pulse.alert_history ORDER BY seq DESC OFFSET 50000 LIMIT 1)", 0},
	{"alert_retention_pending", "DELETE FROM pulse.alert_pending "
	    "WHERE updated_at < now() - interval '1 day'", 0},
	{"alert_retention_gone_pending", "DELETE FROM pulse.alert_pending p WHERE " GONE("p"), 0},
};

/* Active alerts of an instance that was deleted: nobody evaluates them any more. */
static const struct db_stmt stmt_resolve_gone = {
	"alert_resolve_gone",
	"UPDATE pulse.alerts a SET resolved_at = now(), updated_at = now() "
	"WHERE resolved_at IS NULL AND " GONE("a") " RETURNING 1",
	0,
};

/* Resolved alerts that left recentlyResolved since the previous run (a minute apart). */
static const struct db_stmt stmt_left_recent = {
	"alert_left_recent",
	"SELECT 1 FROM pulse.alerts WHERE resolved_at <= now() - interval '5 minutes' "
	"AND resolved_at > now() - interval '7 minutes' LIMIT 1",
	0,
};

int
alert_store_retention(struct db *db)
{
	PGresult *res;
	int left;

	for (size_t i = 0; i < ARRAY_LEN(stmt_retention); i++)
		if (db_exec_stmt_ok(db, &stmt_retention[i], NULL) != 0)
			return -1;
	if ((res = db_exec_stmt(db, &stmt_left_recent, NULL)) == NULL)
		return -1;
	left = PQntuples(res) > 0;
	PQclear(res);
	if ((res = db_exec_stmt(db, &stmt_resolve_gone, NULL)) == NULL)
		return -1;
	left |= PQntuples(res) > 0;
	PQclear(res);
	return left ? st_bump_version(db) : 0;
}
