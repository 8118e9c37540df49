/* updates.c: the worker's update jobs (metrics-reporting.md §6.4, §6.9): queued updates run to
 * the end, and the release feed checked on the autoUpdate settings' schedule. */
#include "config.h"

#include "worker.h"
#include "updates.h"

/* Any worker may run a queued update: the claim (FOR UPDATE SKIP LOCKED) gives it to one.
 * The loop waits while it runs; every step has its own timeout. */
int
job_update_apply(struct worker *w, struct job *job)
{
	(void)job;
	return updates_run_pending(w->db, w->id) < 0 ? -1 : 0;
}

int
job_update_check(struct worker *w, struct job *job)
{
	(void)job;
	return updates_background_check(w->db);
}
