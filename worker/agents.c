/* agents.c: the worker's side of host and Docker agents (agents.md §12): each stored report
 * evaluated for alerts, agents silent beyond their window marked offline and evaluated as
 * offline, and the alerts of removed ones resolved; each report's figures recorded in the
 * metrics history (types "host", "dockerHost", "dockerContainer"); Docker removal blocks
 * dropped after 24 hours. The responder only stores (pulse.agent_hosts, pulse.docker_hosts). */
#include "config.h"

#include "agent_alerts_json.h"
#include "alert_agents.h"
#include "jsonutil.h"
#include "log.h"
#include "state_rows.h"
#include "util.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* At most 100 reports claimed per run (every second): the rest wait for the next. Claimed
 * by one worker: SKIP LOCKED lets several workers share the queue. The flag is
 * cleared before the evaluation, so a worker that dies in between loses that evaluation
 * only; the host's next report (or the offline check) evaluates it again. */
static const struct db_stmt stmt_claim = {
	"agent_hosts_claim",
	"UPDATE pulse.agent_hosts h SET needs_eval = false FROM (SELECT id FROM pulse.agent_hosts "
	"WHERE needs_eval AND NOT mock ORDER BY received_at LIMIT 100 FOR UPDATE SKIP LOCKED) c "
	"WHERE h.id = c.id RETURNING h.id, h.report::text, h.display_name, "
	"extract(epoch FROM h.received_at), h.cpu_usage, h.memory_usage, h.disk_usage, "
	"h.disk_read_rate, h.disk_write_rate, h.net_in_rate, h.net_out_rate",
	0,
};

static const struct db_stmt stmt_online = {
	"agent_hosts_online",
	"SELECT id, interval_seconds, extract(epoch FROM now() - received_at) FROM pulse.agent_hosts "
	"WHERE status = 'online' AND NOT mock",
	0,
};

static const struct db_stmt stmt_set_offline = {
	"agent_hosts_set_offline",
	"UPDATE pulse.agent_hosts SET status = 'offline' WHERE id = $1 AND status = 'online'",
	1,
};

static const struct db_stmt stmt_offline = {
	"agent_hosts_offline",
	"SELECT id, report::text FROM pulse.agent_hosts WHERE status = 'offline' AND NOT mock "
	"ORDER BY id",
	0,
};

/* Sources of host alerts still active whose host is gone (DELETE /api/agents/host/{id}). */
static const struct db_stmt stmt_orphans = {
	"agent_hosts_orphans",
	"SELECT DISTINCT a.source FROM pulse.alerts a WHERE a.source LIKE 'host:%' AND "
	"a.resolved_at IS NULL AND NOT EXISTS (SELECT 1 FROM pulse.agent_hosts h WHERE "
	"'host:' || h.id = a.source)",
	0,
};

static const struct db_stmt stmt_docker_claim = {
	"docker_hosts_claim",
	"UPDATE pulse.docker_hosts h SET needs_eval = false FROM (SELECT id FROM "
	"pulse.docker_hosts WHERE needs_eval AND NOT mock ORDER BY received_at LIMIT 100 "
	"FOR UPDATE SKIP LOCKED) c WHERE h.id = c.id RETURNING h.id, h.report::text, "
	"coalesce(nullif(h.custom_display_name, ''), h.display_name), "
	"extract(epoch FROM h.received_at), h.cpu_usage, h.memory_usage, h.disk_usage",
	0,
};

static const struct db_stmt stmt_docker_containers = {
	"docker_hosts_containers",
	"SELECT id, name, cpu_percent, memory_percent, CASE WHEN (doc->>'rootFilesystemBytes')"
	"::float8 > 0 THEN least(100, coalesce((doc->>'writableLayerBytes')::float8, 0) * 100 / "
	"(doc->>'rootFilesystemBytes')::float8) END, block_read_rate, block_write_rate "
	"FROM pulse.docker_containers WHERE host_id = $1",
	1,
};

static const struct db_stmt stmt_docker_online = {
	"docker_hosts_online",
	"SELECT id, interval_seconds, extract(epoch FROM now() - received_at) FROM "
	"pulse.docker_hosts WHERE status = 'online' AND NOT mock",
	0,
};

static const struct db_stmt stmt_docker_set_offline = {
	"docker_hosts_set_offline",
	"UPDATE pulse.docker_hosts SET status = 'offline' WHERE id = $1 AND status = 'online'",
	1,
};

static const struct db_stmt stmt_docker_offline = {
	"docker_hosts_offline",
	"SELECT id, report::text FROM pulse.docker_hosts WHERE status = 'offline' AND NOT mock "
	"ORDER BY id",
	0,
};

static const struct db_stmt stmt_docker_orphans = {
	"docker_hosts_orphans",
	"SELECT DISTINCT a.source FROM pulse.alerts a WHERE a.source LIKE 'docker:%' AND "
	"a.resolved_at IS NULL AND NOT EXISTS (SELECT 1 FROM pulse.docker_hosts h WHERE "
	"'docker:' || h.id = a.source)",
	0,
};

/* A removal block lasts 24 hours (agents.md §4.2). */
static const struct db_stmt stmt_docker_unblock = {
	"docker_hosts_unblock",
	"DELETE FROM pulse.docker_removed_hosts WHERE removed_at <= now() - interval '24 hours' "
	"RETURNING id",
	0,
};

/* A stored report of agent id read by read_fn into out (0), or -1 after a log line (what
 * names the kind): the report is then skipped. *report is the caller's to put. */
static int
read_stored(const char *what, const char *id, const char *text, struct json_object **report,
    int (*read_fn)(struct json_object *, void *), void *out)
{
	char err[160];

	*report = jsonutil_parse(text, strlen(text), err, sizeof(err));
	if (*report != NULL && read_fn(*report, out) == 0)
		return 0;
	log_warn("msg=\"stored %s report unreadable\" host=\"%s\" error=\"%s\"", what, id,
	    *report ? "no identity" : err);
	return -1;
}

static int
read_host(struct json_object *report, void *out)
{
	return agent_host_from_json(report, out);
}

static int
read_docker(struct json_object *report, void *out)
{
	return agent_docker_from_json(report, out);
}

/* Evaluates one stored report of host id, online or not. */
static int
evaluate(struct worker *w, const char *id, const char *report_text, int online, double now)
{
	struct json_object *report;
	struct agent_host h;
	int rc = 0;

	if (read_stored("host", id, report_text, &report, read_host, &h) == 0) {
		/* The alerts are the server's host id's, not the agent's own. */
		snprintf(h.id, sizeof(h.id), "%s", id);
		h.online = online;
		rc = alerts_evaluate_host(w, &h, now);
		agent_host_free(&h);
	}
	json_object_put(report);
	return rc;
}

/* Evaluates one stored report of Docker host id, online or not. */
static int
evaluate_docker(struct worker *w, const char *id, const char *report_text, int online,
    double now)
{
	struct json_object *report;
	struct agent_docker d;
	int rc = 0;

	if (read_stored("docker", id, report_text, &report, read_docker, &d) == 0) {
		snprintf(d.id, sizeof(d.id), "%s", id);
		d.online = online;
		rc = alerts_evaluate_docker(w, &d, now);
		agent_docker_free(&d);
	}
	json_object_put(report);
	return rc;
}

/* A report's figures into the metrics history (type "host": cpu, memory and disk in
 * percent, I/O in bytes per second), at the time the server received it. */
static void
record_metrics(const PGresult *res, int row)
{
	static const char *const metrics[] = {"cpu", "memory", "disk", "diskread", "diskwrite",
	    "netin", "netout"};
	const char *id = PQgetvalue(res, row, 0), *name = PQgetvalue(res, row, 2);
	double ts = strtod(PQgetvalue(res, row, 3), NULL);

	for (int m = 0; m < 7; m++)
		if (!PQgetisnull(res, row, 4 + m))
			metrics_record("host", id, name, metrics[m], ts,
			    strtod(PQgetvalue(res, row, 4 + m), NULL));
}

/* A Docker report's figures into the metrics history: the host's (type "dockerHost": cpu,
 * memory, disk in percent, as the original's) and each container's (type "dockerContainer":
 * cpu, memory and disk (writable layer of the root filesystem, when known) in percent, block
 * I/O in bytes per second), at the time it was received. */
static int
record_docker_metrics(struct worker *w, const PGresult *res, int row)
{
	static const char *const host_metrics[] = {"cpu", "memory", "disk"};
	static const char *const metrics[] = {"cpu", "memory", "disk", "diskread", "diskwrite"};
	const char *id = PQgetvalue(res, row, 0);
	const char *params[1] = {id};
	double ts = strtod(PQgetvalue(res, row, 3), NULL);
	PGresult *c;

	for (int m = 0; m < 3; m++)
		if (!PQgetisnull(res, row, 4 + m))
			metrics_record("dockerHost", id, PQgetvalue(res, row, 2), host_metrics[m], ts,
			    strtod(PQgetvalue(res, row, 4 + m), NULL));
	if ((c = db_exec_stmt(w->db, &stmt_docker_containers, params)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(c); i++)
		for (int m = 0; m < 5; m++)
			if (!PQgetisnull(c, i, 2 + m))
				metrics_record("dockerContainer", PQgetvalue(c, i, 0), PQgetvalue(c, i, 1),
				    metrics[m], ts, strtod(PQgetvalue(c, i, 2 + m), NULL));
	PQclear(c);
	return 0;
}

int
job_agent_eval(struct worker *w, struct job *job)
{
	PGresult *res;
	double now = clock_wall();
	int rc = 0, n;

	(void)job;
	if ((res = db_exec_stmt(w->db, &stmt_claim, NULL)) == NULL)
		return -1;
	n = PQntuples(res);
	for (int i = 0; i < n && rc == 0; i++) {
		record_metrics(res, i);
		rc = evaluate(w, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), 1, now);
	}
	PQclear(res);
	if (rc != 0 || (res = db_exec_stmt(w->db, &stmt_docker_claim, NULL)) == NULL)
		return -1;
	n = PQntuples(res);
	for (int i = 0; i < n && rc == 0; i++) {
		rc = record_docker_metrics(w, res, i);
		if (rc == 0)
			rc = evaluate_docker(w, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), 1, now);
	}
	PQclear(res);
	return rc;
}

static void
check_nothing(struct alert_eval *e, const void *arg)
{
	(void)e;
	(void)arg;
}

/* The agent tables the offline job walks: which rows are online, how one goes offline, the
 * offline ones with their last report, the sources of alerts whose agent is gone. */
struct agent_table {
	enum agent_kind kind;
	const char *what;		/* for the log */
	const struct db_stmt *online, *set_offline, *offline, *orphans;
	int (*evaluate)(struct worker *w, const char *id, const char *report_text, int online,
	    double now);
};

static const struct agent_table agent_tables[] = {
	{AGENT_HOST, "host agent", &stmt_online, &stmt_set_offline, &stmt_offline, &stmt_orphans,
	    evaluate},
	{AGENT_DOCKER, "docker host", &stmt_docker_online, &stmt_docker_set_offline,
	    &stmt_docker_offline, &stmt_docker_orphans, evaluate_docker},
};

/* Marks the agents of t silent beyond their window offline (one transaction, the state
 * version moved when any changed). */
static int
mark_offline(struct worker *w, const struct agent_table *t)
{
	PGresult *res;
	int changed = 0;

	if (db_begin(w->db) != 0)
		return -1;
	if ((res = db_exec_stmt(w->db, t->online, NULL)) == NULL)
		goto rollback;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *params[1] = {PQgetvalue(res, i, 0)};
		int64_t interval = 0;
		double silent = strtod(PQgetvalue(res, i, 2), NULL);

		(void)parse_int64(PQgetvalue(res, i, 1), INT32_MIN, INT32_MAX, &interval);
		if (silent <= alert_agent_offline_window(t->kind, (int)interval))
			continue;
		if (db_exec_stmt_ok(w->db, t->set_offline, params) != 0) {
			PQclear(res);
			goto rollback;
		}
		log_info("msg=\"%s offline\" host=\"%s\" silent=%.0f", t->what, params[0], silent);
		changed = 1;
	}
	PQclear(res);
	if ((changed && st_bump_version(w->db) != 0) || db_commit(w->db) != 0)
		goto rollback;
	return 0;
rollback:
	db_rollback(w->db);
	return -1;
}

/* Docker removal blocks older than 24 hours dropped (the state version moved when any). */
static int
expire_blocks(struct worker *w)
{
	PGresult *res;
	int n;

	if (db_begin(w->db) != 0)
		return -1;
	if ((res = db_exec_stmt(w->db, &stmt_docker_unblock, NULL)) == NULL)
		goto rollback;
	n = PQntuples(res);
	PQclear(res);
	if ((n > 0 && st_bump_version(w->db) != 0) || db_commit(w->db) != 0)
		goto rollback;
	return 0;
rollback:
	db_rollback(w->db);
	return -1;
}

/* The offline check of one agent table. */
static int
offline_table(struct worker *w, const struct agent_table *t, double now)
{
	PGresult *res;
	int rc = 0;

	if (mark_offline(w, t) != 0 || (res = db_exec_stmt(w->db, t->offline, NULL)) == NULL)
		return -1;
	/* Each offline agent counts one more offline evaluation (offline after three). */
	for (int i = 0; i < PQntuples(res) && rc == 0; i++)
		rc = t->evaluate(w, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), 0, now);
	PQclear(res);
	if (rc != 0 || (res = db_exec_stmt(w->db, t->orphans, NULL)) == NULL)
		return -1;
	/* A removed agent's alerts resolve: an evaluation that sees nothing. */
	for (int i = 0; i < PQntuples(res) && rc == 0; i++)
		rc = alerts_evaluate(w, PQgetvalue(res, i, 0), check_nothing, NULL, 0, now);
	PQclear(res);
	return rc;
}

int
job_agent_offline(struct worker *w, struct job *job)
{
	double now = clock_wall();

	(void)job;
	for (size_t i = 0; i < sizeof(agent_tables) / sizeof(agent_tables[0]); i++)
		if (offline_table(w, &agent_tables[i], now) != 0)
			return -1;
	return expire_blocks(w);
}
