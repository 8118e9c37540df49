/* alerts.c: the alert evaluation after each poll (alerts-notifications.md §3): a source's
 * active alerts and pending conditions loaded, evaluated against the fresh state (with the
 * Backup Servers' and Mail Gateways' backups the database holds), and what changed written
 * (src/alert_engine.c, src/alert_store.c). Nothing is kept in memory between
 * polls: any worker may evaluate any source. */
#include "config.h"

#include "worker.h"
#include "alert_actions.h"
#include "alert_agents.h"
#include "alert_config.h"
#include "alert_dispatch.h"
#include "alert_engine.h"
#include "alert_store.h"
#include "log.h"
#include "state.h"
#include "state_servers.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
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

/* The backups the backup-age check takes from the Backup Servers and Mail Gateways
 * (§3.6), as their pollers last wrote them: the newest of each group per datastore (PBS),
 * each file (PMG). Columns: server name, datastore or node, type, id or file name, time. */
static const struct db_stmt stmt_pbs_guest_backups = {
	"alert_pbs_guest_backups",
	"SELECT i.name, b.datastore, b.backup_type, b.backup_id, "
	"extract(epoch FROM max(b.backup_time)) FROM pulse.pbs_backups b "
	"JOIN pulse.instances i ON i.id = b.instance_id "
	"WHERE b.backup_type IN ('vm', 'ct') AND NOT b.mock GROUP BY 1, 2, 3, 4",
	0,
};

static const struct db_stmt stmt_pbs_backups = {
	"alert_pbs_backups",
	"SELECT i.name, b.datastore, b.backup_type, b.backup_id, "
	"extract(epoch FROM max(b.backup_time)) FROM pulse.pbs_backups b "
	"JOIN pulse.instances i ON i.id = b.instance_id WHERE b.instance_id = $1 "
	"GROUP BY 1, 2, 3, 4",
	1,
};

static const struct db_stmt stmt_pmg_backups = {
	"alert_pmg_backups",
	"SELECT i.name, b.node, '', b.filename, extract(epoch FROM b.backup_time) "
	"FROM pulse.pmg_backups b JOIN pulse.instances i ON i.id = b.instance_id "
	"WHERE b.instance_id = $1",
	1,
};

/* The VMIDs that claim a Backup Server's vm and ct backups: every PVE guest's. */
static const struct db_stmt stmt_guest_vmids = {
	"alert_guest_vmids",
	"SELECT DISTINCT vmid FROM pulse.guests WHERE NOT mock",
	0,
};

/* Fills *out (empty) from one of the backup statements. Returns 0 or -1. */
static int
load_backups(struct db *db, const struct db_stmt *stmt, const char *source,
    struct alert_backup_list *out)
{
	const char *params[1] = {source};
	PGresult *res = db_exec_stmt(db, stmt, stmt->nparams ? params : NULL);

	memset(out, 0, sizeof(*out));
	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct alert_backup_item *it = alert_backup_list_add(out);
		snprintf(it->server, sizeof(it->server), "%s", PQgetvalue(res, i, 0));
		snprintf(it->place, sizeof(it->place), "%s", PQgetvalue(res, i, 1));
		snprintf(it->type, sizeof(it->type), "%s", PQgetvalue(res, i, 2));
		snprintf(it->id, sizeof(it->id), "%s", PQgetvalue(res, i, 3));
		it->time = db_value_double(res, i, 4);
	}
	PQclear(res);
	return 0;
}

static int
load_guest_vmids(struct db *db, int64_t **out, int *n)
{
	PGresult *res = db_exec_stmt(db, &stmt_guest_vmids, NULL);

	*out = NULL;
	*n = 0;
	if (res == NULL)
		return -1;
	*out = xcalloc((size_t)PQntuples(res) + 1, sizeof(**out));
	for (int i = 0; i < PQntuples(res); i++)
		if (parse_int64(PQgetvalue(res, i, 0), 0, INT32_MAX, &(*out)[*n]) == 0)
			(*n)++;
	PQclear(res);
	return 0;
}

struct pve_input {
	const struct st_instance *s;
	const struct st_backups *b;
	const struct alert_backup_list *pbs;
};

static void
check_pve(struct alert_eval *e, const void *arg)
{
	const struct pve_input *in = arg;

	alert_eval_pve(e, in->s);
	alert_eval_backups(e, in->s, in->b, in->pbs);
}

int
alerts_evaluate_pve(struct worker *w, const char *source, const struct st_instance *s,
    const struct st_backups *b, int partial, double now)
{
	struct alert_backup_list pbs = {0};
	struct pve_input in = {s, b, &pbs};
	int rc;

	/* Without the Backup Servers' backups the guests' backup alerts would move: no
	 * evaluation this time. A partial one evaluates no backups. */
	if (!partial && load_backups(w->db, &stmt_pbs_guest_backups, NULL, &pbs) != 0)
		return -1;
	rc = alerts_evaluate(w, source, check_pve, &in, partial, now);
	alert_backup_list_free(&pbs);
	return rc;
}

struct server_input {
	const void *server;		/* struct st_pbs or struct st_pmg */
	const struct alert_backup_list *backups;
	const int64_t *vmids;
	int nvmids;
};

static void
check_pbs(struct alert_eval *e, const void *arg)
{
	const struct server_input *in = arg;

	alert_eval_pbs(e, in->server);
	alert_eval_pbs_backups(e, in->backups, in->vmids, in->nvmids);
}

static void
check_pmg(struct alert_eval *e, const void *arg)
{
	const struct server_input *in = arg;

	alert_eval_pmg(e, in->server);
	alert_eval_pmg_backups(e, in->backups);
}

int
alerts_evaluate_pbs(struct worker *w, const char *source, const struct st_pbs *p, int partial,
    double now)
{
	struct alert_backup_list backups = {0};
	struct server_input in = {p, &backups, NULL, 0};
	int64_t *vmids = NULL;
	int rc = -1;

	if (!partial && (load_backups(w->db, &stmt_pbs_backups, source, &backups) != 0 ||
	    load_guest_vmids(w->db, &vmids, &in.nvmids) != 0))
		goto out;
	in.vmids = vmids;
	rc = alerts_evaluate(w, source, check_pbs, &in, partial, now);
out:
	free(vmids);
	alert_backup_list_free(&backups);
	return rc;
}

int
alerts_evaluate_pmg(struct worker *w, const char *source, const struct st_pmg *p, int partial,
    double now)
{
	struct alert_backup_list backups = {0};
	struct server_input in = {p, &backups, NULL, 0};
	int rc;

	if (!partial && load_backups(w->db, &stmt_pmg_backups, source, &backups) != 0)
		return -1;
	rc = alerts_evaluate(w, source, check_pmg, &in, partial, now);
	alert_backup_list_free(&backups);
	return rc;
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

/* --- agents (issue 14 feeds these from the reports it stores) ---------------------------- */

static void
check_host(struct alert_eval *e, const void *arg)
{
	alert_eval_host(e, arg);
}

static void
check_docker(struct alert_eval *e, const void *arg)
{
	alert_eval_docker_host(e, arg);
}

static void
check_kubernetes(struct alert_eval *e, const void *arg)
{
	alert_eval_kubernetes(e, arg);
}

/* The evaluation of one agent under the source "<kind>:<id>". */
static int
evaluate_agent(struct worker *w, const char *kind, const char *id, alerts_check_fn check,
    const void *arg, double now)
{
	char source[200];

	snprintf(source, sizeof(source), "%s:%s", kind, id);
	return alerts_evaluate(w, source, check, arg, 0, now);
}

int
alerts_evaluate_host(struct worker *w, const struct agent_host *h, double now)
{
	return evaluate_agent(w, "host", h->id, check_host, h, now);
}

int
alerts_evaluate_docker(struct worker *w, const struct agent_docker *d, double now)
{
	return evaluate_agent(w, "docker", d->id, check_docker, d, now);
}

int
alerts_evaluate_kubernetes(struct worker *w, const struct agent_kubernetes *k, double now)
{
	return evaluate_agent(w, "kubernetes", k->id, check_kubernetes, k, now);
}
