/* agents.c: the worker's side of host, Docker and Kubernetes agents (agents.md §12): each
 * stored report evaluated for alerts, agents silent beyond their window marked offline and
 * evaluated as offline, and the alerts of removed ones resolved; each host and Docker report's
 * figures recorded in the metrics history (types "host", "dockerHost", "dockerContainer");
 * Docker and Kubernetes removal blocks dropped after 24 hours. One table descriptor per kind
 * drives it all. The responder only stores (pulse.agent_hosts, pulse.docker_hosts,
 * pulse.agent_kube_clusters). */
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

/* The same for Kubernetes clusters (sql/0018_agent_kubernetes.sql). */
static const struct db_stmt stmt_kube_claim = {
	"agent_kube_claim",
	"UPDATE pulse.agent_kube_clusters k SET needs_eval = false FROM (SELECT id FROM "
	"pulse.agent_kube_clusters WHERE needs_eval AND NOT mock ORDER BY received_at LIMIT 100 "
	"FOR UPDATE SKIP LOCKED) c WHERE k.id = c.id RETURNING k.id, k.report::text",
	0,
};

static const struct db_stmt stmt_kube_online = {
	"agent_kube_online",
	"SELECT id, interval_seconds, extract(epoch FROM now() - received_at) "
	"FROM pulse.agent_kube_clusters WHERE status = 'online' AND NOT mock",
	0,
};

static const struct db_stmt stmt_kube_set_offline = {
	"agent_kube_set_offline",
	"UPDATE pulse.agent_kube_clusters SET status = 'offline' WHERE id = $1 AND status = 'online'",
	1,
};

static const struct db_stmt stmt_kube_offline = {
	"agent_kube_offline",
	"SELECT id, report::text FROM pulse.agent_kube_clusters WHERE status = 'offline' AND "
	"NOT mock ORDER BY id",
	0,
};

static const struct db_stmt stmt_kube_orphans = {
	"agent_kube_orphans",
	"SELECT DISTINCT a.source FROM pulse.alerts a WHERE a.source LIKE 'kubernetes:%' AND "
	"a.resolved_at IS NULL AND NOT EXISTS (SELECT 1 FROM pulse.agent_kube_clusters k WHERE "
	"'kubernetes:' || k.id = a.source)",
	0,
};

/* Removal blocks last a day (agents.md §5.2); the state lists them as long. */
static const struct db_stmt stmt_kube_unblock = {
	"agent_kube_unblock",
	"DELETE FROM pulse.agent_kube_removed WHERE removed_at <= now() - interval '24 hours' "
	"RETURNING id",
	0,
};

/* The same for Docker hosts (sql/0019_agent_docker.sql). */
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

/* A Docker removal block lasts 24 hours too (agents.md §4.2). */
static const struct db_stmt stmt_docker_unblock = {
	"docker_hosts_unblock",
	"DELETE FROM pulse.docker_removed_hosts WHERE removed_at <= now() - interval '24 hours' "
	"RETURNING id",
	0,
};

/* The stored report text of agent id parsed and given to eval (which returns 1 when the
 * report has no identity): eval's result, or 0 after a log line when the report is
 * unreadable (it is skipped). */
static int
evaluate_stored(struct worker *w, const char *what, const char *id, const char *text,
    int online, double now,
    int (*eval)(struct worker *, struct json_object *, const char *, int, double))
{
	struct json_object *report;
	char err[160];
	int rc;

	report = jsonutil_parse(text, strlen(text), err, sizeof(err));
	rc = report ? eval(w, report, id, online, now) : 1;
	json_object_put(report);
	if (rc != 1)
		return rc;
	log_warn("msg=\"stored %s report unreadable\" id=\"%s\" error=\"%s\"", what, id,
	    report ? "no identity" : err);
	return 0;
}

/* The evaluation of one report of a kind, online or not, under the server's id (the alerts
 * are the server's id's, not the agent's own): 1 when the report has no identity, else the
 * evaluation's result. One body for the three kinds, whose structs differ. */
#define AGENT_EVAL(name, type, from_json, evaluate_fn, free_fn)				\
	static int									\
	name(struct worker *w, struct json_object *report, const char *id, int online,	\
	    double now)									\
	{										\
		struct type a;								\
		int rc;									\
											\
		if (from_json(report, &a) != 0)						\
			return 1;							\
		snprintf(a.id, sizeof(a.id), "%s", id);					\
		a.online = online;							\
		rc = evaluate_fn(w, &a, now);						\
		free_fn(&a);								\
		return rc;								\
	}

AGENT_EVAL(eval_host, agent_host, agent_host_from_json, alerts_evaluate_host, agent_host_free)
AGENT_EVAL(eval_docker, agent_docker, agent_docker_from_json, alerts_evaluate_docker,
    agent_docker_free)
AGENT_EVAL(eval_kube, agent_kubernetes, agent_kubernetes_from_json, alerts_evaluate_kubernetes,
    agent_kubernetes_free)

/* A host report's figures into the metrics history (type "host": cpu, memory and disk in
 * percent, I/O in bytes per second), at the time the server received it. */
static int
record_host(struct worker *w, const PGresult *res, int row)
{
	static const char *const metrics[] = {"cpu", "memory", "disk", "diskread", "diskwrite",
	    "netin", "netout"};
	const char *id = PQgetvalue(res, row, 0), *name = PQgetvalue(res, row, 2);
	double ts = strtod(PQgetvalue(res, row, 3), NULL);

	(void)w;
	for (int m = 0; m < 7; m++)
		if (!PQgetisnull(res, row, 4 + m))
			metrics_record("host", id, name, metrics[m], ts,
			    strtod(PQgetvalue(res, row, 4 + m), NULL));
	return 0;
}

/* A Docker report's figures into the metrics history: the host's (type "dockerHost": cpu,
 * memory, disk in percent, as the original's) and each container's (type "dockerContainer":
 * cpu, memory and disk (writable layer of the root filesystem, when known) in percent, block
 * I/O in bytes per second), at the time it was received. */
static int
record_docker(struct worker *w, const PGresult *res, int row)
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

/* What the worker does with one kind of agent's table: the claim of the reports to evaluate
 * (id and report first), their figures recorded (NULL: none), which rows are online, how one
 * goes offline, the offline ones with their last report, the sources of alerts whose agent is
 * gone, and the removal blocks that expire (NULL: none). */
struct agent_table {
	enum agent_kind kind;
	const char *what;			/* for the log */
	const char *report;			/* the report's kind, for the log */
	const struct db_stmt *claim, *online, *set_offline, *offline, *orphans, *unblock;
	int (*eval)(struct worker *w, struct json_object *report, const char *id, int online,
	    double now);
	int (*record)(struct worker *w, const PGresult *res, int row);
};

static const struct agent_table agent_tables[] = {
	{AGENT_HOST, "host agent", "host", &stmt_claim, &stmt_online, &stmt_set_offline,
	    &stmt_offline, &stmt_orphans, NULL, eval_host, record_host},
	{AGENT_DOCKER, "docker host", "docker", &stmt_docker_claim, &stmt_docker_online,
	    &stmt_docker_set_offline, &stmt_docker_offline, &stmt_docker_orphans,
	    &stmt_docker_unblock, eval_docker, record_docker},
	{AGENT_KUBERNETES, "kubernetes cluster", "kubernetes", &stmt_kube_claim,
	    &stmt_kube_online, &stmt_kube_set_offline, &stmt_kube_offline, &stmt_kube_orphans,
	    &stmt_kube_unblock, eval_kube, NULL},
};
#define N_TABLES (sizeof(agent_tables) / sizeof(agent_tables[0]))

static int
evaluate(struct worker *w, const struct agent_table *t, const char *id, const char *text,
    int online, double now)
{
	return evaluate_stored(w, t->report, id, text, online, now, t->eval);
}

/* Table t's claimed reports: figures recorded, each evaluated online. */
static int
eval_claimed(struct worker *w, const struct agent_table *t, double now)
{
	PGresult *res = db_exec_stmt(w->db, t->claim, NULL);
	int rc = 0;

	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		if (t->record)
			rc = t->record(w, res, i);
		if (rc == 0)
			rc = evaluate(w, t, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), 1, now);
	}
	PQclear(res);
	return rc;
}

int
job_agent_eval(struct worker *w, struct job *job)
{
	double now = clock_wall();

	(void)job;
	for (size_t i = 0; i < N_TABLES; i++)
		if (eval_claimed(w, &agent_tables[i], now) != 0)
			return -1;
	return 0;
}

static void
check_nothing(struct alert_eval *e, const void *arg)
{
	(void)e;
	(void)arg;
}

/* Marks the agents of table t silent beyond their window offline (one transaction, the
 * state version moved when any changed). */
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
		log_info("msg=\"%s offline\" id=\"%s\" silent=%.0f", t->what, params[0], silent);
		changed = 1;
	}
	PQclear(res);
	return st_commit(w->db, changed);
rollback:
	db_rollback(w->db);
	return -1;
}

/* Removal blocks older than 24 hours dropped, all tables in one transaction (the state
 * version moved when any went). */
static int
expire_blocks(struct worker *w)
{
	PGresult *res;
	int n = 0;

	if (db_begin(w->db) != 0)
		return -1;
	for (size_t i = 0; i < N_TABLES; i++) {
		if (agent_tables[i].unblock == NULL)
			continue;
		if ((res = db_exec_stmt(w->db, agent_tables[i].unblock, NULL)) == NULL)
			goto rollback;
		n += PQntuples(res);
		PQclear(res);
	}
	return st_commit(w->db, n > 0);
rollback:
	db_rollback(w->db);
	return -1;
}

/* Table t's offline pass: silent agents marked offline, each offline one evaluated once
 * more (its offline alert after three), the alerts of removed ones resolved. */
static int
offline_pass(struct worker *w, const struct agent_table *t, double now)
{
	PGresult *res;
	int rc = 0;

	if (mark_offline(w, t) != 0 || (res = db_exec_stmt(w->db, t->offline, NULL)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++)
		rc = evaluate(w, t, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), 0, now);
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
	for (size_t i = 0; i < N_TABLES; i++)
		if (offline_pass(w, &agent_tables[i], now) != 0)
			return -1;
	return expire_blocks(w);
}
