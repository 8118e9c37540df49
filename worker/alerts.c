/* alerts.c: the alert evaluation after each poll (alerts-notifications.md §3): a source's
 * active alerts and pending conditions loaded, evaluated against the fresh state, and what
 * changed written (src/alert_engine.c, src/alert_store.c). Nothing is kept in memory between
 * polls: any worker may evaluate any source. */
#include "config.h"

#include "worker.h"
#include "alert_config.h"
#include "alert_engine.h"
#include "alert_store.h"
#include "log.h"
#include "state.h"
#include "util.h"

int
alerts_evaluate(struct worker *w, const char *source, alerts_check_fn check, const void *arg,
    int partial, double now)
{
	struct alert_config cfg;
	struct alert_prev prev;
	struct alert_changes changes = {0};
	struct alert_eval e;
	int rc;

	if (alert_config_load(w->db, now, &cfg) != 0)
		return -1;
	if (alert_store_load(w->db, source, &prev) != 0) {
		alert_config_free(&cfg);
		return -1;
	}
	alert_eval_begin(&e, &cfg, &prev, now, &changes);
	e.partial = partial;
	check(&e, arg);
	alert_eval_finish(&e);
	rc = alert_store_apply(w->db, source, &changes);
	if (rc == 0 && changes.n > 0)
		log_debug("msg=\"alerts evaluated\" source=%s changes=%d", source, changes.n);
	/* The change list is where notification dispatch starts (issue 12, lead). */
	alert_changes_free(&changes);
	alert_prev_free(&prev);
	alert_config_free(&cfg);
	return rc;
}

static void
check_pve(struct alert_eval *e, const void *arg)
{
	alert_eval_pve(e, arg);
}

int
alerts_evaluate_pve(struct worker *w, const char *source, const struct st_instance *s,
    int partial, double now)
{
	return alerts_evaluate(w, source, check_pve, s, partial, now);
}

int
job_alert_retention(struct worker *w, struct job *job)
{
	(void)job;
	return alert_store_retention(w->db);
}
