/* updates.c: the worker's update jobs (metrics-reporting.md §6.4, §6.9): queued updates run to
 * the end on a thread of their own, and the release feed checked on the autoUpdate settings'
 * schedule. */
#include "config.h"

#include "worker.h"
#include "conf.h"
#include "log.h"
#include "updates.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

/* An update runs on its own thread and connection: its download and install command take
 * minutes, and polls go on meanwhile. One at a time per worker. */
static atomic_int update_running;

static void *
update_thread(void *arg)
{
	char *worker_id = arg;
	struct db *db = db_new(conf_str("database_url"), "pulse-worker:update", 30.0);

	db_set_timeouts(db, (int)conf_int("db_connect_timeout"),
	    (int)conf_int("db_statement_timeout"));
	if (db_ensure(db, 1) != 0 || updates_run_pending(db, worker_id) < 0)
		log_warn("msg=\"update job failed\" error=\"%s\"", db_error(db));
	db_free(db);
	free(worker_id);
	atomic_store(&update_running, 0);
	return NULL;
}

/* Any worker may run a queued update: the claim (FOR UPDATE SKIP LOCKED) gives it to one. */
int
job_update_apply(struct worker *w, struct job *job)
{
	pthread_attr_t attr;
	pthread_t thread;
	char *id;
	int waiting;

	(void)job;
	if (atomic_load(&update_running))
		return 0;
	if ((waiting = updates_waiting(w->db)) <= 0)
		return waiting < 0 ? -1 : 0;
	atomic_store(&update_running, 1);
	id = xstrdup(w->id);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&thread, &attr, update_thread, id) != 0) {
		log_error("msg=\"cannot start the update thread\"");
		free(id);
		atomic_store(&update_running, 0);
		pthread_attr_destroy(&attr);
		return -1;
	}
	pthread_attr_destroy(&attr);
	return 0;
}

int
job_update_check(struct worker *w, struct job *job)
{
	(void)job;
	return updates_background_check(w->db);
}
