/* scheduler.c: periodic jobs, each with its own interval. */
#include "config.h"

#include "worker.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

void
scheduler_add(struct worker *w, const char *name, double interval, job_fn fn, unsigned flags,
    int32_t lock_key)
{
	struct job *job;

	if (w->njobs == WORKER_MAX_JOBS)
		log_fatal("msg=\"too many jobs\" job=%s", name);
	job = &w->jobs[w->njobs++];
	memset(job, 0, sizeof(*job));
	job->name = name;
	job->run = fn;
	job->interval = interval;
	job->flags = flags;
	job->lock_key = lock_key;
	job->next_run = clock_monotonic();	/* first run at start */
}

double
scheduler_next_due(const struct worker *w)
{
	double now = clock_monotonic(), next = 3600;

	for (int i = 0; i < w->njobs; i++) {
		double in = w->jobs[i].next_run - now;
		if (in < next)
			next = in;
	}
	return next > 0 ? next : 0;
}

static void
run_job(struct worker *w, struct job *job)
{
	double start = clock_monotonic();
	int rc;

	if (job->flags & JOB_SINGLETON) {
		int held = claim_try(w, DB_LOCK_SINGLETON, job->lock_key);
		if (held <= 0) {
			if (held == 0)
				log_debug("msg=\"singleton job held by another worker\" job=%s", job->name);
			return;
		}
	}
	rc = job->run(w, job);
	job->last_duration = clock_monotonic() - start;
	if (rc == 0) {
		if (job->consecutive_failures > 0)
			log_info("msg=\"job recovered\" job=%s after_failures=%d", job->name,
			    job->consecutive_failures);
		job->consecutive_failures = 0;
	} else {
		job->consecutive_failures++;
		log_warn("msg=\"job failed\" job=%s consecutive_failures=%d", job->name,
		    job->consecutive_failures);
		/* A job failing on a slow database (a lock, a statement timeout) blocks the loop
		 * each time it runs: run less often, so that polls go on meanwhile. */
		if (job->flags & JOB_BACKOFF) {
			int k = job->consecutive_failures - 1 < 3 ? job->consecutive_failures - 1 : 3;
			double delay = job->interval * (double)(1 << k);
			if (delay > 60 && job->interval < 60)
				delay = 60;
			job->next_run = clock_monotonic() + (delay > job->interval ? delay : job->interval);
		}
	}
	log_debug("msg=\"job ran\" job=%s duration_ms=%.1f rc=%d", job->name,
	    job->last_duration * 1000, rc);
}

void
scheduler_run_due(struct worker *w)
{
	for (int i = 0; i < w->njobs; i++) {
		struct job *job = &w->jobs[i];
		double now = clock_monotonic();

		if (job->next_run > now)
			continue;
		/* Schedule from now, not from the missed slot: no burst after an outage. */
		job->next_run = now + job->interval;
		run_job(w, job);
	}
}

int
scheduler_trigger(struct worker *w, const char *name)
{
	for (int i = 0; i < w->njobs; i++) {
		if (strcmp(w->jobs[i].name, name) == 0) {
			w->jobs[i].next_run = clock_monotonic();
			return 0;
		}
	}
	return -1;
}
