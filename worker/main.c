/* main.c: pulse-worker, the daemon that runs periodic jobs and migrations. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "audit.h"
#include "conf.h"
#include "daemon.h"
#include "http.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "prom.h"
#include "schema.h"
#include "sysconfig.h"
#include "util.h"
#include "worker.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

/* Channel on which NOTIFY pulse_jobs, '<job name>' runs that job now. */
#define JOBS_CHANNEL "pulse_jobs"
/* Configuration changes (instances, mock mode), announced by triggers. */
#define CONFIG_CHANNEL "pulse_config"

static void
on_connect(struct db *db, void *arg)
{
	struct worker *w = arg;

	(void)db;
	claim_session_new(w);
	poll_claims_lost();
	poll_settings_changed();	/* a notification may have been missed */
	w->schema_ok = 0;
	w->next_schema_check = 0;
}

static void
on_notify(const char *channel, const char *payload, void *arg)
{
	struct worker *w = arg;

	if (strcmp(channel, CONFIG_CHANNEL) == 0) {
		poll_config_changed();
		(void)scheduler_trigger(w, "mock");
		return;
	}
	if (strcmp(channel, SYSCONFIG_CHANNEL) == 0) {
		poll_settings_changed();
		return;
	}
	if (strcmp(channel, JOBS_CHANNEL) != 0)
		return;
	if (scheduler_trigger(w, payload) == 0)
		log_info("msg=\"job triggered by notification\" job=%.64s", payload);
	else
		log_warn("msg=\"notification names no job\" channel=%s payload=\"%.64s\"", channel,
		    payload);
}

/* Whether jobs may run: the database is reachable and its schema is this build's. */
static int
worker_ready(struct worker *w)
{
	static double last_warning;
	double now;
	int v;

	if (db_ensure(w->db, 0) != 0 || claim_session_settle(w) != 0)
		return 0;
	if (w->schema_ok)
		return 1;
	now = clock_monotonic();
	if (now < w->next_schema_check)
		return 0;
	w->next_schema_check = now + 2.0;
	v = db_schema_version(w->db);
	if (v == PULSE_SCHEMA_VERSION) {
		if (worker_check_secrets_key(w) != 0)
			return 0;
		w->schema_ok = 1;
		log_info("msg=\"database ready\" schema=%d", v);
		return 1;
	}
	if (v >= 0 && now - last_warning > 60) {
		log_warn("msg=\"waiting for the database schema\" found=%d expected=%d "
		    "hint=\"run pulse-worker --migrate\"", v, PULSE_SCHEMA_VERSION);
		last_warning = now;
	}
	return 0;
}

/* How often a worker looks for frozen ones: a quarter of fence_after (1-5 s), so that a
 * frozen worker is fenced at most that long after its heartbeat turned fence_after old. */
static double
fence_check_interval(void)
{
	double every = (double)conf_int("fence_after") / 4;

	return every < 1 ? 1 : every > 5 ? 5 : every;
}

static int
run_migrations(void)
{
	struct db *db = db_new(conf_str("database_url"), "pulse-worker migrate", 5.0);
	char err[1024];
	int applied = 0, version = 0, rc;

	db_set_timeouts(db, (int)conf_int("db_connect_timeout"), 0);
	rc = migrate_run(db, conf_str("sql_dir"), &applied, &version, err, sizeof(err));
	if (rc != 0)
		log_error("msg=\"migration failed\" error=\"%s\"", err);
	else
		log_info("msg=\"migrations done\" applied=%d schema=%d", applied, version);
	db_free(db);
	return rc == 0 ? 0 : 1;
}

/* pulse-worker --verify-audit: walks the audit hash chain and says whether it is intact.
 * Exit status 0 intact, 1 broken (the first broken row printed), 2 when it could not be
 * checked (database, or the encryption key that seals the chain's key). */
static int
verify_audit(void)
{
	struct db *db = db_new(conf_str("database_url"), "pulse-worker verify-audit", 5.0);
	struct audit_chain_report rep;
	char err[512];
	int rc;

	if (secrets_init(conf_str("data_dir"), 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "pulse-worker: secrets key unavailable: %s\n", err);
		db_free(db);
		return 2;
	}
	db_set_timeouts(db, (int)conf_int("db_connect_timeout"), 0);
	rc = db_ensure(db, 1) == 0 ? audit_verify_chain(db, &rep) : -1;
	if (rc < 0) {
		fprintf(stderr, "pulse-worker: audit log not verified: %s\n", db_error(db));
		db_free(db);
		return 2;
	}
	if (rc == 0)
		printf("audit log intact: %lld rows, seq %lld to %lld\n", (long long)rep.rows,
		    (long long)rep.anchor_seq + 1, (long long)rep.last_seq);
	else
		printf("audit log broken at seq %lld%s%s: %s\n", (long long)rep.broken_seq,
		    rep.broken_id[0] ? " id " : "", rep.broken_id, rep.reason);
	db_free(db);
	return rc == 0 ? 0 : 1;
}

static char *
default_worker_id(void)
{
	char host[256] = "localhost";

	(void)gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	return xasprintf("%s-%ld", host, (long)getpid());
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: pulse-worker [-c config] [--migrate] [--verify-audit] [--print-config] "
	    "[--version]\n"
	    "  -c, --config FILE   settings file (default %s/pulse/pulse.conf, or $PULSE_CONFIG)\n"
	    "      --migrate       apply pending schema migrations and exit\n"
	    "      --verify-audit  verify the audit log's hash chain and exit (0 intact, 1 broken)\n"
	    "      --print-config  print the effective settings (secrets masked) and exit\n"
	    "  -V, --version       print the version and exit\n", SYSCONFDIR);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"migrate", no_argument, NULL, 'M'},
		{"verify-audit", no_argument, NULL, 'A'},
		{"print-config", no_argument, NULL, 'P'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = getenv("PULSE_CONFIG");
	int migrate = 0, verify = 0, print_config = 0, ch, sfd;
	struct worker w;
	char err[512], host[256] = "localhost", appname[64];
	sigset_t sigs;

	while ((ch = getopt_long(argc, argv, "c:Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config_path = optarg; break;
		case 'M': migrate = 1; break;
		case 'A': verify = 1; break;
		case 'P': print_config = 1; break;
		case 'V': printf("pulse-worker %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* A cycle's large arrays (guests, answers of megabytes) get pages of their own, given
	 * back when freed: glibc would otherwise raise this threshold to the largest block
	 * freed and carve the next cycle's arrays out of the heap, where a block freed below a
	 * live one stays resident until the heap is trimmed. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	log_init("pulse-worker", LOGL_INFO);
	daemon_load_settings(config_path);
	if (print_config) {
		conf_print();
		return 0;
	}
	daemon_start_logging();
	if (migrate)
		return run_migrations();
	if (verify)
		return verify_audit();
	if (secrets_init(conf_str("data_dir"), 1, err, sizeof(err)) != 0)
		log_fatal("msg=\"secrets key unavailable\" error=\"%s\"", err);

	memset(&w, 0, sizeof(w));
	w.id = *conf_str("worker_id") ? xstrdup(conf_str("worker_id")) : default_worker_id();
	(void)gethostname(host, sizeof(host) - 1);
	w.host = xstrdup(host);
	w.started_wall = clock_wall();
	snprintf(appname, sizeof(appname), "pulse-worker:%s", w.id);
	w.db = db_new(conf_str("database_url"), appname, 30.0);
	db_set_timeouts(w.db, (int)conf_int("db_connect_timeout"),
	    (int)conf_int("db_statement_timeout"));
	db_set_on_connect(w.db, on_connect, &w);

	scheduler_add(&w, "heartbeat", (double)conf_int("heartbeat_interval"), job_heartbeat, 0, 0);
	prom_init("pulse-worker", (int)conf_int("prometheus_interval"));
	if (prom_enabled())
		scheduler_add(&w, "prom_publish", (double)prom_interval(), job_prom_publish,
		    JOB_BACKOFF, 0);
	scheduler_add(&w, "worker_prune", 300, job_worker_prune, JOB_SINGLETON,
	    LOCK_KEY_WORKER_PRUNE);
	scheduler_add(&w, "auth_prune", 60, job_auth_prune, JOB_SINGLETON, LOCK_KEY_AUTH_PRUNE);
	scheduler_add(&w, "bootstrap_token", 30, job_bootstrap_token, JOB_SINGLETON,
	    LOCK_KEY_BOOTSTRAP);
	scheduler_add(&w, "mock", 2, job_mock, JOB_SINGLETON, LOCK_KEY_MOCK);
	scheduler_add(&w, "metrics_maintain", 600, job_metrics_maintain, JOB_SINGLETON,
	    LOCK_KEY_METRICS_MAINTAIN);
	scheduler_add(&w, "metrics_flush", (double)conf_int("metrics_flush_interval"),
	    job_metrics_flush, JOB_BACKOFF, 0);
	scheduler_add(&w, "metrics_rollup", 60, job_metrics_rollup, JOB_SINGLETON,
	    LOCK_KEY_METRICS_ROLLUP);
	scheduler_add(&w, "alert_retention", 60, job_alert_retention, JOB_SINGLETON,
	    LOCK_KEY_ALERT_RETENTION);
	scheduler_add(&w, "notify_maintain", 5, job_notify_maintain, JOB_SINGLETON,
	    LOCK_KEY_NOTIFY_MAINTAIN);
	scheduler_add(&w, "alert_flush", 1, job_alert_flush, 0, 0);
	scheduler_add(&w, "alert_escalate", 60, job_alert_escalate, JOB_SINGLETON,
	    LOCK_KEY_ALERT_ESCALATE);
	scheduler_add(&w, "agent_eval", 1, job_agent_eval, 0, 0);
	scheduler_add(&w, "agent_offline", 10, job_agent_offline, JOB_SINGLETON,
	    LOCK_KEY_AGENT_OFFLINE);
	/* A queued update is announced by NOTIFY pulse_jobs, 'update_apply'; the interval only
	 * catches a missed notification. */
	scheduler_add(&w, "update_apply", 10, job_update_apply, 0, 0);
	scheduler_add(&w, "update_check", 300, job_update_check, JOB_SINGLETON,
	    LOCK_KEY_UPDATE_CHECK);
	/* Not a singleton: a frozen worker may hold a singleton's lock. The check is cheap and
	 * each run looks a few times per fence_after. */
	if (conf_int("fence_after") > 0)
		scheduler_add(&w, "fence", fence_check_interval(), job_fence, 0, 0);
	if (conf_int("fence_after") > 0 && conf_int("fence_after") < 2 * conf_int("heartbeat_interval"))
		log_warn("msg=\"fence_after is less than two heartbeats: a busy worker may be fenced\" "
		    "fence_after=%ld heartbeat_interval=%ld", (long)conf_int("fence_after"),
		    (long)conf_int("heartbeat_interval"));

	daemon_stop_signals(&sigs);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0)
		log_fatal("msg=\"signalfd failed\" error=\"%s\"", strerror(errno));

	log_info("msg=\"worker started\" version=%s id=%s %s", PACKAGE_VERSION, w.id,
	    db_target(w.db));
	(void)db_listen(w.db, JOBS_CHANNEL);
	(void)db_listen(w.db, CONFIG_CHANNEL);
	(void)db_listen(w.db, SYSCONFIG_CHANNEL);
	poll_init(&w);
	notify_start(&w);

	for (;;) {
		int fds[2] = {sfd, db_socket(w.db)}, readable[2] = {0, 0};
		int ready = worker_ready(&w);
		double wait = ready ? scheduler_next_due(&w) : 1.0;

		if (ready) {
			double p = poll_tick(&w);
			if (p < wait)
				wait = p;
		}
		/* One wait for everything: HTTP transfers, signals, database notifications. */
		http_multi_run(poll_multi(), fds, readable, 2, (int)(wait * 1000) + 1);
		if (readable[0]) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					if (log_open_file(conf_str("log_file")) != 0)
						log_error("msg=\"cannot reopen log file\"");
				} else {
					break;
				}
			}
		}
		/* Every turn, not only when the socket is readable: a notification that came
		 * while a job's statement ran was read with its answer and waits in libpq. */
		if (fds[1] >= 0)
			(void)db_drain_notifies(w.db, on_notify, &w);
		ready = worker_ready(&w);
		notify_set_ready(ready);
		if (ready)
			scheduler_run_due(&w);
	}
	log_info("msg=\"stopping\" id=%s", w.id);
	notify_stop();
	poll_shutdown(&w);
	/* What was polled and not written yet: one last try. */
	if (metrics_buffered() > 0 && metrics_flush(&w) != 0)
		log_warn("msg=\"metrics samples not written at stop\" samples=%lu",
		    (unsigned long)metrics_buffered());
	metrics_writer_free();
	metrics_rollup_free();
	mock_free();
	if (w.schema_ok)
		(void)prom_flush(w.db);
	heartbeat_stopped(&w);
	db_free(w.db);
	free(w.claims);
	free(w.id);
	free(w.host);
	close(sfd);
	log_info("msg=\"worker stopped\"");
	return 0;
}
