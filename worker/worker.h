/* worker.h: the state of one pulse-worker process, its scheduler and its claims. */
#ifndef PULSE_WORKER_H
#define PULSE_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct worker;
struct job;

/* A job returns 0 on success or -1 after logging what failed; it is run again after its
 * interval either way. */
typedef int (*job_fn)(struct worker *w, struct job *job);

enum job_flags {
	JOB_SINGLETON = 1 << 0,	/* run by one worker at a time: the one holding its lock */
	JOB_BACKOFF = 1 << 1,	/* failing again and again: 2, 4, then 8 intervals apart (60 s at most) */
};

struct job {
	const char *name;
	job_fn run;
	double interval;	/* seconds */
	unsigned flags;
	int32_t lock_key;	/* for JOB_SINGLETON: key in DB_LOCK_SINGLETON */
	double next_run;	/* monotonic */
	double last_duration;
	int consecutive_failures;
};

struct claim {
	enum db_lock_class cls;
	int32_t key;
};

#define WORKER_MAX_JOBS 32

/* The keys in DB_LOCK_SINGLETON, all in this one list so that no two jobs share one: the
 * fencing lock is a transaction lock that a frozen worker holding the same key as a
 * session lock would keep from ever being taken (t/api/57). */
enum { LOCK_KEY_WORKER_PRUNE = 1, LOCK_KEY_AUTH_PRUNE = 2, LOCK_KEY_BOOTSTRAP = 3,
	LOCK_KEY_MOCK = 4, LOCK_KEY_METRICS_ROLLUP = 5, LOCK_KEY_METRICS_MAINTAIN = 6,
	LOCK_KEY_ALERT_RETENTION = 7, LOCK_KEY_NOTIFY_MAINTAIN = 8,
	LOCK_KEY_ALERT_ESCALATE = 9, LOCK_KEY_FENCE = 10, LOCK_KEY_AGENT_OFFLINE = 11,
	LOCK_KEY_UPDATE_CHECK = 12 };

struct worker {
	struct db *db;
	char *id;		/* stable name in pulse.workers */
	char *host;
	double started_wall;
	int schema_ok;		/* the database schema matches this build */
	double next_schema_check;

	struct job jobs[WORKER_MAX_JOBS];
	int njobs;

	struct claim *claims;	/* advisory locks this worker's session holds */
	int nclaims, capclaims;
	unsigned session_gen;	/* bumped at every (re)connect of db */
	int fenced;		/* the session is read-only until the lost claims' work is dropped */
};

/* scheduler.c */
void scheduler_add(struct worker *w, const char *name, double interval, job_fn fn,
    unsigned flags, int32_t lock_key);
/* Seconds until the next job is due (0 when one is due now). */
double scheduler_next_due(const struct worker *w);
/* Runs every due job; singleton jobs only when this worker holds (or takes) their lock. */
void scheduler_run_due(struct worker *w);
/* Makes the named job due now. Returns 0, or -1 for an unknown name. */
int scheduler_trigger(struct worker *w, const char *name);

/* claim.c: advisory locks held on this worker's session, for work that exactly one worker
 * may do (an instance to poll, a singleton job). A dead worker's claims end with its
 * session, so another worker's next claim_try succeeds. */
int claim_try(struct worker *w, enum db_lock_class cls, int32_t key);	/* 1, 0 or -1 */
int claim_holds(const struct worker *w, enum db_lock_class cls, int32_t key);
int claim_release(struct worker *w, enum db_lock_class cls, int32_t key);
/* Forgets every claim: called when the session was lost (the locks went with it). */
void claim_forget_all(struct worker *w);
/* Called for every new session (db's on_connect): forgets the claims of the old one and
 * makes the new one read-only, so that a write begun under the old session's claims (a
 * cycle that was in flight while this worker was frozen or cut off) is refused by
 * PostgreSQL. */
void claim_session_new(struct worker *w);
/* Called from the main loop, outside any job or cycle: drops the work of the lost claims
 * (poll_drop_unclaimed) and lets the session write again. Returns 0 when it may write, -1
 * while it stays read-only (tried again on the next call). */
int claim_session_settle(struct worker *w);

/* security.c */
int job_bootstrap_token(struct worker *w, struct job *job);
int job_auth_prune(struct worker *w, struct job *job);
/* 0 when this host's secrets key is the installation's, 1 when it differs, -1 on error. */
int worker_check_secrets_key(struct worker *w);

/* poll.c: Proxmox VE polling (the HTTP multi handle is driven by the main loop) */
struct http_multi;
void poll_init(struct worker *w);
double poll_tick(struct worker *w);
void poll_config_changed(void);
/* The system settings changed (a pulse_settings notification, or a new session that may
 * have missed one): the next tick reads them again and applies them (sysconfig.h). */
void poll_settings_changed(void);
void poll_claims_lost(void);
/* Parks every run whose claim this worker no longer holds: its cycle's answers are dropped. */
void poll_drop_unclaimed(struct worker *w);
struct http_multi *poll_multi(void);
void poll_shutdown(struct worker *w);

/* alerts.c: the alert evaluation after a poll. check evaluates the source's resources
 * (alert_eval_pve, or an agent's own over alert_eval_metric/alert_eval_state), all of them in
 * one call: what it does not see resolves; partial for a failed poll (alert_engine.h).
 * Returns 0, or -1 on a database error (logged). */
struct alert_eval;
struct st_instance;
typedef void (*alerts_check_fn)(struct alert_eval *e, const void *arg);
int alerts_evaluate(struct worker *w, const char *source, alerts_check_fn check, const void *arg,
    int partial, double now);
struct st_backups;
/* An instance's state, with its backup lists (snapshots; NULL: none known). */
int alerts_evaluate_pve(struct worker *w, const char *source, const struct st_instance *s,
    const struct st_backups *b, int partial, double now);
struct st_pbs;
struct st_pmg;
int alerts_evaluate_pbs(struct worker *w, const char *source, const struct st_pbs *p, int partial,
    double now);
int alerts_evaluate_pmg(struct worker *w, const char *source, const struct st_pmg *p, int partial,
    double now);
/* A failed poll of a Backup Server (pmg 0) or Mail Gateway (pmg 1) named name: counts toward
 * its offline alert, nothing else changes. */
int alerts_server_failed(struct worker *w, const char *source, const char *name, int pmg,
    double now);
/* An agent's report (src/alert_agents.h) under the source "host:<id>", "docker:<id>" or
 * "kubernetes:<id>": evaluated, stored and dispatched like a poll. The caller sets the
 * report's online flag (alert_agent_offline_window); an agent gone silent is evaluated with
 * its last report and online 0. Returns 0 or -1 on a database error. */
struct agent_host;
struct agent_docker;
struct agent_kubernetes;
int alerts_evaluate_host(struct worker *w, const struct agent_host *h, double now);
int alerts_evaluate_docker(struct worker *w, const struct agent_docker *d, double now);
int alerts_evaluate_kubernetes(struct worker *w, const struct agent_kubernetes *k, double now);
int job_alert_retention(struct worker *w, struct job *job);

/* agents.c: the stored host and Docker reports evaluated and their figures recorded (any
 * worker, every second); agents silent beyond agents.md §12's window marked offline and
 * evaluated as offline, removed agents' alerts resolved, Docker removal blocks dropped after
 * 24 hours (one worker, every 10 s). */
int job_agent_eval(struct worker *w, struct job *job);
int job_agent_offline(struct worker *w, struct job *job);
/* The grouping buffer's flush (any worker, every second) and escalation (one worker). */
int job_alert_flush(struct worker *w, struct job *job);
int job_alert_escalate(struct worker *w, struct job *job);

/* mock.c */
int job_mock(struct worker *w, struct job *job);
void mock_free(void);

/* metrics_writer.c: samples polled, written by job_metrics_flush */
struct st_instance;
struct st_pbs;
void metrics_record(const char *type, const char *id, const char *name, const char *metric,
    double ts, double v);
void metrics_record_instance(const struct st_instance *s, double ts);
void metrics_record_pbs(const struct st_pbs *p, double ts);
size_t metrics_buffered(void);
/* Writes the buffered samples: 0 when written (or nothing to write), -1 when they stay. */
int metrics_flush(struct worker *w);
int job_metrics_flush(struct worker *w, struct job *job);
void metrics_writer_free(void);

/* metrics_rollup.c */
int metrics_rollup_run(struct worker *w, double now);
int job_metrics_rollup(struct worker *w, struct job *job);
int job_metrics_maintain(struct worker *w, struct job *job);
void metrics_rollup_free(void);

/* notify.c: the notification senders (threads with their own connections) */
void notify_start(struct worker *w);
/* Told by the main loop whether the database and schema are usable. */
void notify_set_ready(int ready);
/* Senders finish their current delivery, give unsent rows back and stop. */
void notify_stop(void);
/* Singleton: expired leases back to pending; hourly retention. */
int job_notify_maintain(struct worker *w, struct job *job);

/* updates.c: a queued server update run on a thread of its own (any worker; one claims it),
 * and the release feed checked when autoUpdateEnabled is on (one worker). */
int job_update_apply(struct worker *w, struct job *job);
int job_update_check(struct worker *w, struct job *job);

/* heartbeat.c */
int job_heartbeat(struct worker *w, struct job *job);
int job_prom_publish(struct worker *w, struct job *job);
int job_worker_prune(struct worker *w, struct job *job);
/* Ends the database sessions of workers whose heartbeat is older than fence_after (frozen or
 * cut off), so that their claims can be taken over. */
int job_fence(struct worker *w, struct job *job);
/* Records a clean stop in pulse.workers. */
void heartbeat_stopped(struct worker *w);

#endif
