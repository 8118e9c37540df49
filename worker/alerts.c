/* alerts.c: the alert evaluation after each poll (alerts-notifications.md §3): a source's
 * active alerts and pending conditions loaded, evaluated against the fresh state, and what
 * changed written (src/alert_engine.c, src/alert_store.c). Nothing is kept in memory between
 * polls: any worker may evaluate any source. */
#include "config.h"

#include "worker.h"
#include "alert_actions.h"
#include "alert_config.h"
#include "alert_dispatch.h"
#include "alert_engine.h"
#include "alert_store.h"
#include "log.h"
#include "state.h"
#include "state_servers.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* An incident for every raised alert, in one transaction, its writes pipelined; then
 * retention once. */
static int
incidents_raised(struct db *db, const struct alert_changes *ch)
{
	int rc = 0, any = 0;

	for (int i = 0; i < ch->n && !any; i++)
		any = ch->v[i].kind == ALERT_RAISED;
	if (!any)
		return 0;
	if (db_begin(db) != 0)
		return -1;
	rc = db_pipeline_begin(db);
	for (int i = 0; i < ch->n && rc == 0; i++)
		if (ch->v[i].kind == ALERT_RAISED)
			rc = incident_record_raised(db, &ch->v[i].alert);
	if (db_pipeline_end(db) != 0)
		rc = -1;
	if (rc == 0)
		rc = incident_retention(db);
	if (rc != 0 || db_commit(db) != 0) {
		log_warn("msg=\"incidents not recorded\" error=\"%s\"", db_error(db));
		db_rollback(db);
		return -1;
	}
	return 0;
}

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
	/* What was stored goes out: recoveries, raises, level-ups, and the source's reminders
	 * and retries (a steady poll with nothing due reads, but writes nothing). Incidents come
	 * after the notifications, so they do not delay them. */
	if (rc == 0)
		rc = alert_dispatch_source(w->db, &cfg, source, &changes, now);
	if (rc == 0)
		rc = incidents_raised(w->db, &changes);
	alert_changes_free(&changes);
	alert_prev_free(&prev);
	alert_config_free(&cfg);
	return rc;
}

struct pve_input {
	const struct st_instance *s;
	const struct st_backups *b;
};

static void
check_pve(struct alert_eval *e, const void *arg)
{
	const struct pve_input *in = arg;

	alert_eval_pve(e, in->s);
	alert_eval_pve_backups(e, in->s, in->b);
}

int
alerts_evaluate_pve(struct worker *w, const char *source, const struct st_instance *s,
    const struct st_backups *b, int partial, double now)
{
	struct pve_input in = {s, b};

	return alerts_evaluate(w, source, check_pve, &in, partial, now);
}

static void
check_pbs(struct alert_eval *e, const void *arg)
{
	alert_eval_pbs(e, arg);
}

static void
check_pmg(struct alert_eval *e, const void *arg)
{
	alert_eval_pmg(e, arg);
}

int
alerts_evaluate_pbs(struct worker *w, const char *source, const struct st_pbs *p, int partial,
    double now)
{
	return alerts_evaluate(w, source, check_pbs, p, partial, now);
}

int
alerts_evaluate_pmg(struct worker *w, const char *source, const struct st_pmg *p, int partial,
    double now)
{
	return alerts_evaluate(w, source, check_pmg, p, partial, now);
}

int
alerts_server_failed(struct worker *w, const char *source, const char *name, int pmg,
    double now)
{
	struct st_pbs pbs = {0};
	struct st_pmg pm = {0};

	if (pmg) {
		snprintf(pm.name, sizeof(pm.name), "%s", name);
		snprintf(pm.status, sizeof(pm.status), "offline");
		return alerts_evaluate_pmg(w, source, &pm, 1, now);
	}
	snprintf(pbs.name, sizeof(pbs.name), "%s", name);
	snprintf(pbs.status, sizeof(pbs.status), "offline");
	return alerts_evaluate_pbs(w, source, &pbs, 1, now);
}

int
job_alert_retention(struct worker *w, struct job *job)
{
	(void)job;
	return alert_store_retention(w->db);
}

int
job_alert_flush(struct worker *w, struct job *job)
{
	(void)job;
	return alert_dispatch_flush(w->db) < 0 ? -1 : 0;
}

int
job_alert_escalate(struct worker *w, struct job *job)
{
	(void)job;
	return alert_dispatch_escalate(w->db, clock_wall()) < 0 ? -1 : 0;
}
