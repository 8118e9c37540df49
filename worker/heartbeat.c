/* heartbeat.c: the worker's row in pulse.workers, pruning of rows long gone, fencing of
 * workers whose heartbeat stopped, and the publication of its Prometheus counters. */
#include "config.h"

#include "worker.h"
#include "conf.h"
#include "log.h"
#include "prom.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct db_stmt stmt_heartbeat = {
	"worker_heartbeat",
	"INSERT INTO pulse.workers (id, host, pid, version, started_at, last_seen) "
	"VALUES ($1, $2, $3, $4, to_timestamp($5::double precision), now()) "
	"ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, "
	"version = EXCLUDED.version, started_at = EXCLUDED.started_at, last_seen = now(), "
	"stopped_at = NULL",
	5,
};

static const struct db_stmt stmt_stopped = {
	"worker_stopped",
	"UPDATE pulse.workers SET stopped_at = now(), last_seen = now() WHERE id = $1 AND pid = $2",
	2,
};

/* Rows of workers unseen for a day are history nobody reads. */
static const struct db_stmt stmt_prune = {
	"worker_prune",
	"DELETE FROM pulse.workers WHERE last_seen < now() - interval '1 day'",
	0,
};

/* The sessions of workers whose heartbeat is older than $2 seconds, ended. A worker's
 * sessions are named after its id (main.c: pulse-worker:<id>, notify.c: pulse-notify:<id>:<n>;
 * PostgreSQL keeps 63 bytes of a name). A session younger than the limit is spared: its
 * worker reconnected after an outage and has not written its heartbeat yet. The transaction
 * lock makes one worker at a time do it (terminating twice would be harmless, only logged
 * twice); it is not a session lock, which a frozen worker could be holding. pg_terminate_backend
 * waits (up to 5 s) until the session is gone, with its advisory locks. */
static const struct db_stmt stmt_fence = {
	"worker_fence",
	"SELECT s.id, a.pid, a.application_name, "
	"  round(extract(epoch FROM now() - s.last_seen))::int, pg_terminate_backend(a.pid, 5000) "
	"FROM pulse.workers s JOIN pg_stat_activity a ON a.datname = current_database() "
	"  AND (a.application_name = left('pulse-worker:' || s.id, 63) "
	"    OR starts_with(a.application_name, left('pulse-notify:' || s.id || ':', 63))) "
	"WHERE s.id <> $1 AND s.stopped_at IS NULL "
	"  AND greatest(s.last_seen, a.backend_start) < now() - make_interval(secs => $2::int) "
	"  AND pg_try_advisory_xact_lock($3::int4, $4::int4)",
	4,
};

int
job_fence(struct worker *w, struct job *job)
{
	char after[16], cls[16], key[16];
	const char *params[4] = {w->id, after, cls, key};
	PGresult *res;
	int fenced = 0;

	(void)job;
	snprintf(after, sizeof(after), "%ld", (long)conf_int("fence_after"));
	snprintf(cls, sizeof(cls), "%d", (int)DB_LOCK_SINGLETON);
	snprintf(key, sizeof(key), "%d", LOCK_KEY_FENCE);
	res = db_exec_stmt(w->db, &stmt_fence, params);
	if (res == NULL) {
		log_warn("msg=\"fence check failed\" error=\"%s\"", db_error(w->db));
		return -1;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		int ended = strcmp(PQgetvalue(res, i, 4), "t") == 0;
		log_warn("msg=\"%s\" worker=%s pid=%s session=\"%s\" heartbeat_age_s=%s",
		    ended ? "fenced a worker without heartbeat: session ended" :
		    "fencing a worker without heartbeat: session not ended yet",
		    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
		    PQgetvalue(res, i, 3));
		fenced += ended;
	}
	PQclear(res);
	/* Its instances are free now: every worker looks at its claims again. */
	if (fenced > 0) {
		poll_config_changed();
		(void)db_exec(w->db, "NOTIFY pulse_config");
	}
	return 0;
}

int
job_heartbeat(struct worker *w, struct job *job)
{
	char pid[16], started[32];
	const char *params[5] = {w->id, w->host, pid, PACKAGE_VERSION, started};
	PGresult *res;

	(void)job;
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	snprintf(started, sizeof(started), "%.6f", w->started_wall);
	res = db_exec_stmt(w->db, &stmt_heartbeat, params);
	if (res == NULL) {
		log_warn("msg=\"heartbeat not written\" error=\"%s\"", db_error(w->db));
		return -1;
	}
	PQclear(res);
	return 0;
}

/* Publishes this worker's Prometheus counters, then folds those of processes gone for five
 * minutes (or ten intervals) into the rows every scrape sums: any worker may do it, the
 * statement deletes what it folds. */
int
job_prom_publish(struct worker *w, struct job *job)
{
	int gone_after = prom_interval() * 10 > 300 ? prom_interval() * 10 : 300, folded;

	(void)job;
	if (prom_flush(w->db) != 0)
		return -1;
	folded = prom_fold_gone(w->db, gone_after);
	if (folded < 0) {
		log_warn("msg=\"prometheus fold failed\" error=\"%s\"", db_error(w->db));
		return -1;
	}
	if (folded > 0)
		log_info("msg=\"prometheus counters of gone processes folded\" processes=%d", folded);
	return 0;
}

int
job_worker_prune(struct worker *w, struct job *job)
{
	PGresult *res;

	(void)job;
	res = db_exec_stmt(w->db, &stmt_prune, NULL);
	if (res == NULL) {
		log_warn("msg=\"worker prune failed\" error=\"%s\"", db_error(w->db));
		return -1;
	}
	if (*PQcmdTuples(res) && PQcmdTuples(res)[0] != '0')
		log_info("msg=\"pruned workers unseen for a day\" rows=%s", PQcmdTuples(res));
	PQclear(res);
	return 0;
}

void
heartbeat_stopped(struct worker *w)
{
	char pid[16];
	const char *params[2] = {w->id, pid};

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	if (db_get_state(w->db) != DB_STATE_OK)
		return;
	db_exec_stmt_ok(w->db, &stmt_stopped, params);
}
