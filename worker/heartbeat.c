/* heartbeat.c: the worker's row in pulse.workers, and pruning of rows long gone. */
#include "config.h"

#include "worker.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
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
