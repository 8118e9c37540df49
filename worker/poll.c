/* poll.c: the scheduling core of polling: claiming instances (one worker per instance, a
 * fair share each), one cycle per instance and interval with every request in flight at once
 * through the curl multi interface, password logins, the circuit breaker and the poll
 * status. What a cycle asks and writes is the product's (poll_pve.c, poll_pbs.c,
 * poll_pmg.c). */
#include "config.h"

#include "conf.h"
#include "http.h"
#include "instances.h"
#include "log.h"
#include "prom.h"
#include "poller.h"
#include "pve.h"
#include "state.h"
#include "sysconfig.h"
#include "util.h"
#include "worker.h"

#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CYCLE_TIMEOUT_S 120.0

struct request_ctx {
	struct run *run;
	unsigned gen;
	int kind;
	int index;			/* node or guest index */
	int detached;			/* not part of the cycle */
	struct http_request *req;	/* NULL while a cycle's request waits (path below) */
	char *path;			/* a waiting cycle request: made from the run's connection
					 * when it leaves the queue, so thousands waiting cost a few
					 * hundred KB rather than a request each (~1 KB) */
	long timeout_ms;
	struct request_ctx *prev, *next;	/* the requests in flight */
};

static struct request_ctx *in_flight;


static void
track(struct request_ctx *ctx, struct http_request *req)
{
	ctx->req = req;
	ctx->next = in_flight;
	if (in_flight)
		in_flight->prev = ctx;
	in_flight = ctx;
}

static void
untrack(struct request_ctx *ctx)
{
	if (ctx->prev)
		ctx->prev->next = ctx->next;
	else
		in_flight = ctx->next;
	if (ctx->next)
		ctx->next->prev = ctx->prev;
}

struct poll_settings poll_settings;

static const struct poll_ops *const products[] = {&poll_pve_ops, &poll_pbs_ops, &poll_pmg_ops};

static struct {
	struct http_multi *multi;
	struct run **runs;
	int nruns;
	int config_dirty;
	int settings_dirty;		/* the system settings are to be read again */
	double next_claim;		/* monotonic */
	int trim_due;			/* a cycle finished since the heap was trimmed */
	double last_trim;		/* monotonic */
} P;

/* Requests wait here until there is room in the multi handle: libcurl walks every handle it
 * holds on each call, so thousands at once would cost quadratic time. */
#define MAX_IN_FLIGHT 32
static struct request_ctx **waiting;
static size_t nwaiting, capwaiting, waiting_head;
static int running_now;

static struct http_request *make_request(struct run *run, const struct proxmox_conn *conn,
    const char *path, struct request_ctx *ctx);

static void
pump(void)
{
	while (running_now < MAX_IN_FLIGHT && waiting_head < nwaiting) {
		struct request_ctx *ctx = waiting[waiting_head++];
		if (ctx->req == NULL) {
			struct run *run = ctx->run;
			/* Its cycle ended while it waited: on_done would drop the answer. */
			if (run->cycle == NULL || ctx->gen != run->gen) {
				untrack(ctx);
				free(ctx->path);
				free(ctx);
				continue;
			}
			ctx->req = make_request(run, &run->conn, ctx->path, ctx);
			free(ctx->path);
			ctx->path = NULL;
		}
		running_now++;
		http_multi_add(P.multi, ctx->req);
	}
	if (waiting_head == nwaiting)
		waiting_head = nwaiting = 0;
}

static void
enqueue(struct request_ctx *ctx)
{
	if (nwaiting == capwaiting) {
		capwaiting = capwaiting ? capwaiting * 2 : 256;
		waiting = xrealloc(waiting, sizeof(*waiting) * capwaiting);
	}
	waiting[nwaiting++] = ctx;
	pump();
}

static void finish_cycle(struct worker *w, struct run *run);
static struct worker *the_worker;

/* --- requests --------------------------------------------------------------------- */

static void on_done(struct http_request *req, void *arg);

/* Queues a request for the run. One of the cycle's requests counts in its pending total,
 * which the cycle waits for; a detached one does not. */
static struct http_request *
make_request(struct run *run, const struct proxmox_conn *conn, const char *path,
    struct request_ctx *ctx)
{
	struct http_request *req = proxmox_request(conn, path);

	req->timeout_ms = ctx->timeout_ms;
	req->share = run->share;
	req->done = on_done;
	req->arg = ctx;
	return req;
}

static void
submit(struct run *run, const struct proxmox_conn *conn, const char *path, int kind, int index,
    int detached, long timeout_ms)
{
	struct request_ctx *ctx = xcalloc(1, sizeof(*ctx));

	ctx->run = run;
	ctx->gen = run->gen;
	ctx->kind = kind;
	ctx->index = index;
	ctx->detached = detached;
	ctx->timeout_ms = timeout_ms;
	if (!detached)
		run->cycle->pending++;
	/* A cycle's request on the run's own connection waits as its path; others (a
	 * member's probe, on a connection of the moment) are made now. */
	if (!detached && conn == &run->conn)
		ctx->path = xstrdup(path);
	track(ctx, ctx->path ? NULL : make_request(run, conn, path, ctx));
	enqueue(ctx);
}

void
poll_submit_conn(struct run *run, const struct proxmox_conn *conn, const char *path, int kind,
    int index)
{
	submit(run, conn, path, kind, index, 0, poll_settings.timeout_ms);
}

void
poll_submit_detached(struct run *run, const struct proxmox_conn *conn, const char *path, int kind,
    int index, long timeout_ms)
{
	submit(run, conn, path, kind, index, 1, timeout_ms);
}

void
poll_submit(struct run *run, const char *path, int kind, int index)
{
	poll_submit_conn(run, &run->conn, path, kind, index);
}

int
poll_list_len(struct json_object *data, int max)
{
	size_t n = data && json_object_is_type(data, json_type_array) ? json_object_array_length(data) : 1;

	if (n < 1)
		n = 1;
	return n > (size_t)max ? max : (int)n;
}

void
poll_fail(struct run *run, const char *fmt, ...)
{
	va_list ap;

	run->cycle->failed = 1;
	va_start(ap, fmt);
	vsnprintf(run->cycle->error, sizeof(run->cycle->error), fmt, ap);
	va_end(ap);
}

/* The path of a request below the API base (the whole URL when it went elsewhere, as a
 * cluster member's probe does). */
static const char *
poll_url_path(const struct http_request *req)
{
	const char *api = strstr(req->url, "/api2/json");

	return api ? api + strlen("/api2/json") : req->url;
}

struct json_object *
poll_data(struct run *run, struct http_request *req, int essential)
{
	char err[256];
	int rc;
	struct json_object *data = proxmox_response_data(req, &rc, err, sizeof(err));

	if (data == NULL && rc != 0) {
		if (proxmox_is_auth_failure(req)) {
			run->cycle->auth_failed = 1;
			if (run->cycle->error[0] == '\0')
				snprintf(run->cycle->error, sizeof(run->cycle->error), "%s", err);
		}
		if (essential) {
			run->cycle->failed = 1;
			snprintf(run->cycle->error, sizeof(run->cycle->error), "%s", err);
		}
		/* An answer refused for its size or shape is the server's doing (H2): said
		 * louder than a request that merely failed. */
		if (req->failure == HTTP_FAIL_TOO_LARGE || req->failure == HTTP_FAIL_HEADER ||
		    (req->failure == HTTP_OK && req->status >= 200 && req->status < 300))
			log_warn("msg=\"upstream answer refused\" instance=%s url_path=\"%.120s\" "
			    "error=\"%s\"", run->cfg.name, poll_url_path(req), err);
		else
			log_debug("msg=\"request failed\" instance=%s url_path=\"%.120s\" error=\"%s\"",
			    run->cfg.name, poll_url_path(req), err);
	}
	return data;
}

/* The answer to a password login: on success the cycle's own requests follow. */
static void
ticket_answer(struct run *run, struct http_request *req)
{
	char err[256];

	if (proxmox_ticket_accept(&run->conn, req, err, sizeof(err)) != 0) {
		/* No answer at all is a connection problem, anything else a refused login. */
		run->cycle->auth_failed = req->status != 0 && req->status < 500;
		run->cycle->conn_failed = req->status == 0 || req->status >= 500;
		poll_fail(run, "login failed: %.200s", err);
		return;
	}
	run->ops->begin(run);
}

static void
on_done(struct http_request *req, void *arg)
{
	struct request_ctx *ctx = arg;
	struct run *run = ctx->run;

	untrack(ctx);
	running_now--;
	/* A request of a cycle that was given up (timeout, instance removed) is dropped. */
	if (ctx->detached) {
		if (run != NULL && !run->released)
			run->ops->handle(run, ctx->kind, ctx->index, req);
	} else if (run != NULL && run->cycle != NULL && ctx->gen == run->gen) {
		if (ctx->kind == POLL_REQ_TICKET)
			ticket_answer(run, req);
		else
			run->ops->handle(run, ctx->kind, ctx->index, req);
		if (--run->cycle->pending == 0)
			finish_cycle(the_worker, run);
	}
	free(ctx);
	http_request_free(req);
	pump();
}

/* --- the cycle ------------------------------------------------------------------------ */

static const struct db_stmt stmt_poll_ok = {
	"poll_status_ok",
	"INSERT INTO pulse.poll_status (instance_id, worker_id, last_attempt, last_success, "
	"consecutive_failures, connected, last_duration_ms, breaker_state) "
	"VALUES ($1, $2, now(), now(), 0, true, $3, 'closed') ON CONFLICT (instance_id) DO UPDATE SET "
	"worker_id = EXCLUDED.worker_id, last_attempt = now(), last_success = now(), "
	"consecutive_failures = 0, first_failure_at = NULL, connected = true, "
	"last_duration_ms = EXCLUDED.last_duration_ms, breaker_state = 'closed', retry_at = NULL",
	3,
};

static const struct db_stmt stmt_poll_fail = {
	"poll_status_fail",
	"INSERT INTO pulse.poll_status (instance_id, worker_id, last_attempt, last_error_at, "
	"last_error, error_category, consecutive_failures, first_failure_at, connected, "
	"last_duration_ms, breaker_state, breaker_since, retry_at) "
	"VALUES ($1, $2, now(), now(), $3, $4, 1, now(), false, $5, $6, now(), "
	"now() + make_interval(secs => $7::double precision)) "
	"ON CONFLICT (instance_id) DO UPDATE SET worker_id = EXCLUDED.worker_id, "
	"last_attempt = now(), last_error_at = now(), last_error = EXCLUDED.last_error, "
	"error_category = EXCLUDED.error_category, "
	"consecutive_failures = pulse.poll_status.consecutive_failures + 1, "
	"first_failure_at = coalesce(pulse.poll_status.first_failure_at, now()), connected = false, "
	"last_duration_ms = EXCLUDED.last_duration_ms, "
	"breaker_since = CASE WHEN pulse.poll_status.breaker_state = EXCLUDED.breaker_state "
	"  THEN pulse.poll_status.breaker_since ELSE now() END, "
	"breaker_state = EXCLUDED.breaker_state, retry_at = EXCLUDED.retry_at",
	7,
};

/* The circuit breaker: after three failures in a row the instance is retried only after a
 * delay doubling from 5 s up to poll_backoff_max (default one minute; the original allows 5
 * minutes, but a monitor should notice a recovery sooner). Returns the delay (0: closed). */
static double
breaker_delay(int failures)
{
	double d;

	if (failures < 3)
		return 0;
	d = 5.0 * pow(2, failures - 3);
	return d > poll_settings.backoff_max ? poll_settings.backoff_max : d;
}

static void
record_status(struct worker *w, struct run *run, int ok, double ms, const char *error,
    const char *category)
{
	char d[32], delay[32];
	double wait = breaker_delay(run->consecutive_failures);
	const char *p_ok[3] = {run->cfg.id, w->id, d};
	const char *p_fail[7] = {run->cfg.id, w->id, error, category, d,
	    wait > 0 ? "open" : "closed", delay};

	snprintf(d, sizeof(d), "%.1f", ms);
	snprintf(delay, sizeof(delay), "%.1f", wait > 0 ? wait : run->ops->interval());
	db_exec_stmt_ok(w->db, ok ? &stmt_poll_ok : &stmt_poll_fail, ok ? p_ok : p_fail);
	/* The original's error types: a refused login is auth, a state we could not store
	 * internal, anything else on the way connection. */
	prom_poll_observe(run->cfg.type, run->cfg.name, ok, ok ? "none" :
	    strcmp(category, "permanent") == 0 ? "auth" :
	    strcmp(error, "state write failed") == 0 ? "internal" : "connection", ms / 1000.0);
}

static void
finish_cycle(struct worker *w, struct run *run)
{
	struct poll_cycle *c = run->cycle;
	double now = clock_wall(), ms = (clock_monotonic() - c->started) * 1000.0;
	char err[256];
	unsigned session_gen = w->session_gen;

	run->cycle = NULL;
	run->gen++;
	if (c->auth_failed) {
		/* A ticket the server no longer knows (restarted, expired early): log in again
		 * next time. */
		free(run->conn.ticket);
		run->conn.ticket = NULL;
	}
	if (c->failed) {
		run->consecutive_failures++;
		if (c->auth_failed)
			run->auth_failures++;
		log_warn("msg=\"poll failed\" instance=%s consecutive=%d error=\"%s\"", run->cfg.name,
		    run->consecutive_failures, c->error);
		if (breaker_delay(run->consecutive_failures) > run->ops->interval())
			run->next_poll = c->started + breaker_delay(run->consecutive_failures);
		record_status(w, run, 0, ms, c->error, c->auth_failed ? "permanent" : "transient");
		run->cycle = c;		/* the product may look at what failed */
		run->ops->write_failed(w, run, now);
		run->cycle = NULL;
		run->ops->cycle_free(c);
		return;
	}
	if (run->consecutive_failures > 0)
		log_info("msg=\"poll recovered\" instance=%s after_failures=%d", run->cfg.name,
		    run->consecutive_failures);
	run->consecutive_failures = 0;
	run->auth_failures = 0;
	run->last_success = now;
	run->cycle = c;		/* the product reads what the cycle gathered */
	if (run->ops->write_ok(w, run, now, err, sizeof(err)) != 0) {
		log_warn("msg=\"state write failed\" instance=%s error=\"%s\"", run->cfg.name, err);
		record_status(w, run, 0, ms, "state write failed", "transient");
	} else {
		record_status(w, run, 1, ms, "", "");
	}
	/* The session was replaced during the write: whatever came after was refused (the new
	 * session is read-only until this run is dropped), and the claim may be another's. */
	if (w->session_gen != session_gen)
		log_warn("msg=\"claim lost with the database session: cycle not written\" "
		    "instance=%s", run->cfg.name);
	run->cycle = NULL;
	run->cycles++;
	run->ops->cycle_free(c);
	P.trim_due = 1;
}

/* Shares still used by requests in flight are freed once the multi handle is idle. */
static void **retired_shares;
static int nretired;

static void
retire_share(void *share)
{
	retired_shares = xrealloc(retired_shares, sizeof(void *) * (size_t)(nretired + 1));
	retired_shares[nretired++] = share;
}

static void
free_retired_shares(void)
{
	for (int i = 0; i < nretired; i++)
		http_share_free(retired_shares[i]);
	free(retired_shares);
	retired_shares = NULL;
	nretired = 0;
}

static void
start_cycle(struct worker *w, struct run *run)
{
	char err[200];

	(void)w;
	if (!run->conn_ok) {
		if (instance_connect_params(&run->cfg, &run->conn, err, sizeof(err)) != 0) {
			log_warn("msg=\"instance not usable\" instance=%s error=\"%s\"", run->cfg.name, err);
			record_status(w, run, 0, 0, err, "permanent");
			return;
		}
		run->conn_ok = 1;
		/* Connections are reused only within one connection setting: a changed host,
		 * pin or credential never rides on a connection verified for the old one. */
		if (run->share)
			retire_share(run->share);
		run->share = http_share_new();
	}
	run->cycle = run->ops->cycle_new(run);
	run->cycle->started = clock_monotonic();
	run->cycle->gen = run->gen;
	if (run->ops->prepare)
		run->ops->prepare(run);
	if (proxmox_needs_ticket(&run->conn)) {
		struct http_request *req = proxmox_ticket_request(&run->conn);
		struct request_ctx *ctx = xcalloc(1, sizeof(*ctx));
		req->timeout_ms = poll_settings.timeout_ms;
		req->share = run->share;
		ctx->run = run;
		ctx->gen = run->gen;
		ctx->kind = POLL_REQ_TICKET;
		req->done = on_done;
		req->arg = ctx;
		run->cycle->pending++;
		track(ctx, req);
		enqueue(ctx);
		return;
	}
	run->ops->begin(run);
}

/* --- claims and configuration ------------------------------------------------------- */

static void
run_free(struct worker *w, struct run *run, int clear_state)
{
	char err[200];

	if (run->cycle) {
		/* In-flight answers for it are dropped by their generation check. */
		run->gen++;
		run->ops->cycle_free(run->cycle);
		run->cycle = NULL;
	}
	(void)claim_release(w, DB_LOCK_INSTANCE, run->cfg.number);
	if (clear_state && st_clear(w->db, run->cfg.id, err, sizeof(err)) != 0)
		log_warn("msg=\"state not cleared\" instance=%s error=\"%s\"", run->cfg.id, err);
	proxmox_conn_clear(&run->conn);
	if (run->share)
		retire_share(run->share);
	instance_cfg_clear(&run->cfg);
	run->ops->priv_free(run->priv);
	free(run);
}

/* Requests still in flight hold a pointer to their run: a run is only freed between
 * cycles, after bumping its generation, and its context pointer is checked first. To keep
 * that simple, runs are never freed while a request of theirs is outstanding: they are
 * parked here and freed when the multi handle is idle. */
static struct run **parked;
static int nparked;

static void
park(struct run *run)
{
	run->released = 1;
	parked = xrealloc(parked, sizeof(*parked) * (size_t)(nparked + 1));
	parked[nparked++] = run;
}

static void
sweep_parked(struct worker *w)
{
	if (http_multi_running(P.multi) != 0)
		return;
	for (int i = 0; i < nparked; i++)
		run_free(w, parked[i], 0);
	nparked = 0;
	free_retired_shares();
}

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Whether the connection settings are unchanged (a password login can then be kept). */
static int
same_connection(const struct instance_cfg *a, const struct instance_cfg *b)
{
	return strcmp(a->host, b->host) == 0 && strcmp(a->username, b->username) == 0 &&
	    strcmp(a->token_name, b->token_name) == 0 && strcmp(a->fingerprint, b->fingerprint) == 0 &&
	    a->verify_ssl == b->verify_ssl && same_str(a->password_enc, b->password_enc) &&
	    same_str(a->token_value_enc, b->token_value_enc);
}

/* Live workers are those with a database session now: a killed worker's session ends at
 * once, while its heartbeat row would still look fresh for a while. */
static const struct db_stmt stmt_alive_workers = {
	"poll_alive_workers",
	"SELECT count(DISTINCT application_name) FROM pg_stat_activity "
	"WHERE datname = current_database() AND application_name LIKE 'pulse-worker:%'",
	0,
};

/* How many instances this worker should hold: a fair share of the live workers. */
static int
fair_share(struct worker *w, int total)
{
	PGresult *res = db_exec_stmt(w->db, &stmt_alive_workers, NULL);
	int alive = 1;

	if (res) {
		alive = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}
	if (alive < 1)
		alive = 1;
	return (total + alive - 1) / alive;
}

static const struct poll_ops *
product_of(const char *type)
{
	for (size_t i = 0; i < ARRAY_LEN(products); i++)
		if (strcmp(products[i]->type, type) == 0)
			return products[i];
	return NULL;
}

static void
reconcile(struct worker *w)
{
	struct instance_cfg *cfgs;
	int n = instances_load(w->db, &cfgs), share, held = 0;

	if (n < 0)
		return;
	for (int i = 0; i < P.nruns; i++)
		P.runs[i]->keep = 0;
	/* Keep what is still configured (taking in its new settings), drop the rest. */
	for (int j = 0; j < n; j++) {
		for (int i = 0; i < P.nruns; i++) {
			struct run *run = P.runs[i];
			if (strcmp(run->cfg.id, cfgs[j].id) != 0 || product_of(cfgs[j].type) != run->ops)
				continue;
			run->keep = 1;
			if (!claim_holds(w, DB_LOCK_INSTANCE, run->cfg.number)) {
				run->keep = 0;	/* the session was lost: the claim went with it */
				continue;
			}
			if (!same_connection(&run->cfg, &cfgs[j])) {
				proxmox_conn_clear(&run->conn);
				run->conn_ok = 0;
			}
			instance_cfg_clear(&run->cfg);
			run->cfg = cfgs[j];
			memset(&cfgs[j], 0, sizeof(cfgs[j]));
			held++;
		}
	}
	for (int i = 0; i < P.nruns; i++) {
		if (!P.runs[i]->keep) {
			struct run *run = P.runs[i];
			log_info("msg=\"instance released\" instance=%s", run->cfg.id);
			(void)claim_release(w, DB_LOCK_INSTANCE, run->cfg.number);
			run->gen++;
			park(run);
			P.runs[i--] = P.runs[--P.nruns];
		}
	}
	/* Claim more up to a fair share; give back any excess (a new worker came up). */
	share = fair_share(w, n);
	for (int j = 0; j < n && held < share; j++) {
		int mine = 0;
		if (cfgs[j].id[0] == '\0' || product_of(cfgs[j].type) == NULL)
			continue;
		for (int i = 0; i < P.nruns; i++)
			if (strcmp(P.runs[i]->cfg.id, cfgs[j].id) == 0)
				mine = 1;
		if (mine || claim_try(w, DB_LOCK_INSTANCE, cfgs[j].number) != 1)
			continue;
		struct run *run = xcalloc(1, sizeof(*run));
		run->ops = product_of(cfgs[j].type);
		run->cfg = cfgs[j];
		memset(&cfgs[j], 0, sizeof(cfgs[j]));
		run->next_poll = clock_monotonic();
		P.runs = xrealloc(P.runs, sizeof(*P.runs) * (size_t)(P.nruns + 1));
		P.runs[P.nruns++] = run;
		held++;
		log_info("msg=\"instance claimed\" instance=%s name=%s", run->cfg.id, run->cfg.name);
	}
	while (held > share && P.nruns > 0) {
		struct run *run = P.runs[--P.nruns];
		log_info("msg=\"instance handed over\" instance=%s", run->cfg.id);
		(void)claim_release(w, DB_LOCK_INSTANCE, run->cfg.number);
		run->gen++;
		park(run);
		held--;
	}
	for (int j = 0; j < n; j++)
		instance_cfg_clear(&cfgs[j]);
	free(cfgs);
}

/* --- entry points from the worker loop ----------------------------------------------- */

void
poll_init(struct worker *w)
{
	the_worker = w;
	http_global_init();
	P.multi = http_multi_new(8, 256);
	poll_settings.pve_interval = (double)conf_int("pve_polling_interval");
	poll_settings.pbs_interval = (double)conf_int("pbs_polling_interval");
	poll_settings.pmg_interval = (double)conf_int("pmg_polling_interval");
	poll_settings.grace = (double)conf_int("node_offline_grace");
	poll_settings.backoff_max = (double)conf_int("poll_backoff_max");
	poll_settings.backup_cycles = (int)conf_int("backup_polling_cycles");
	poll_settings.timeout_ms = (long)conf_int("pve_timeout") * 1000;
	poll_settings.backup_enabled = conf_bool("backup_polling_enabled");
	poll_settings.backup_interval = (double)conf_int("backup_polling_interval");
	poll_settings.temperature_enabled = conf_bool("temperature_monitoring_enabled");
	P.config_dirty = 1;
	P.settings_dirty = 1;
}

void
poll_settings_changed(void)
{
	P.settings_dirty = 1;
}

int
poll_backup_due(struct run *run, unsigned every_cycles)
{
	double now = clock_monotonic();

	if (!poll_settings.backup_enabled)
		return 0;
	if (poll_settings.backup_interval > 0) {
		if (run->last_backup > 0 && now - run->last_backup < poll_settings.backup_interval)
			return 0;
	} else if (every_cycles == 0 || run->cycles % every_cycles != 0) {
		return 0;
	}
	run->last_backup = now;
	return 1;
}

/* Moves the next poll of each run of product ops by the change of its interval, so that a
 * longer interval takes effect now and a shorter one does not wait out the old. */
static void
reschedule(const struct poll_ops *ops, double before, double after)
{
	for (int i = 0; i < P.nruns; i++)
		if (P.runs[i]->ops == ops)
			P.runs[i]->next_poll += after - before;
}

/* Reads the system settings and applies what changed (metrics-reporting.md §5): intervals,
 * the request timeout, backup polling, temperatures. On a database error the settings held
 * stay and the next tick tries again. */
static void
apply_settings(struct worker *w)
{
	struct sysconfig c;
	struct poll_settings old = poll_settings;

	if (sysconfig_load(w->db, &c) != 0)
		return;
	P.settings_dirty = 0;
	poll_settings.pve_interval = c.pve_interval;
	poll_settings.pbs_interval = c.pbs_interval;
	poll_settings.pmg_interval = c.pmg_interval;
	poll_settings.timeout_ms = (long)c.connection_timeout * 1000;
	poll_settings.backup_enabled = c.backup_enabled;
	poll_settings.backup_interval = c.backup_interval;
	poll_settings.backup_cycles = c.backup_cycles;
	poll_settings.temperature_enabled = c.temperature_enabled;
	reschedule(&poll_pve_ops, old.pve_interval, poll_settings.pve_interval);
	reschedule(&poll_pbs_ops, old.pbs_interval, poll_settings.pbs_interval);
	reschedule(&poll_pmg_ops, old.pmg_interval, poll_settings.pmg_interval);
	if (memcmp(&old, &poll_settings, sizeof(old)) != 0)
		log_info("msg=\"settings applied\" pve_polling_interval=%.0f pbs_polling_interval=%.0f "
		    "pmg_polling_interval=%.0f connection_timeout=%ld backup_polling=%s "
		    "backup_polling_interval=%.0f temperature_monitoring=%s",
		    poll_settings.pve_interval, poll_settings.pbs_interval, poll_settings.pmg_interval,
		    poll_settings.timeout_ms / 1000, poll_settings.backup_enabled ? "on" : "off",
		    poll_settings.backup_interval, poll_settings.temperature_enabled ? "on" : "off");
}

void
poll_config_changed(void)
{
	P.config_dirty = 1;
}

/* Called when the database session was lost: every claim went with it. */
void
poll_claims_lost(void)
{
	P.config_dirty = 1;
}

void
poll_drop_unclaimed(struct worker *w)
{
	for (int i = 0; i < P.nruns; i++) {
		struct run *run = P.runs[i];
		if (claim_holds(w, DB_LOCK_INSTANCE, run->cfg.number))
			continue;
		log_info("msg=\"instance released: claim lost with the database session\" "
		    "instance=%s", run->cfg.id);
		run->gen++;
		park(run);
		P.runs[i--] = P.runs[--P.nruns];
	}
	P.config_dirty = 1;
}

struct http_multi *
poll_multi(void)
{
	return P.multi;
}

/* Starts due cycles, gives up stuck ones, re-reads the configuration and claims. Returns
 * seconds until it wants to run again. */
double
poll_tick(struct worker *w)
{
	double now = clock_monotonic(), next = 1.0;

	if (P.settings_dirty)
		apply_settings(w);
	if (P.config_dirty || now >= P.next_claim) {
		P.config_dirty = 0;
		reconcile(w);
		/* Unclaimed instances (a dead worker's) are tried again every interval. */
		P.next_claim = now + poll_settings.pve_interval;
	}
	for (int i = 0; i < P.nruns; i++) {
		struct run *run = P.runs[i];
		if (run->cycle && now - run->cycle->started > CYCLE_TIMEOUT_S) {
			log_warn("msg=\"poll cycle timed out\" instance=%s", run->cfg.name);
			run->cycle->failed = 1;
			snprintf(run->cycle->error, sizeof(run->cycle->error), "poll timed out");
			run->cycle->pending = 0;
			finish_cycle(w, run);
		}
		if (run->cycle == NULL && now >= run->next_poll) {
			run->next_poll = now + run->ops->interval();
			start_cycle(w, run);
		}
		if (run->cycle == NULL && run->next_poll - now < next)
			next = run->next_poll - now;
	}
	sweep_parked(w);
	/* A big cycle leaves the heap large and mostly free (answers are parsed and dropped):
	 * give it back once nothing is in flight, or after a cycle at least once an interval
	 * when the cycles of several instances overlap so that something always is (a slow
	 * machine stretches four instances' cycles over the whole interval). A trim costs a few
	 * milliseconds. */
	if (P.trim_due && ((http_multi_running(P.multi) == 0 && nwaiting == 0) ||
	    now - P.last_trim >= poll_settings.pve_interval)) {
		malloc_trim(0);
		P.trim_due = 0;
		P.last_trim = now;
	}
	return next > 0 ? next : 0;
}

void
poll_shutdown(struct worker *w)
{
	for (int i = 0; i < P.nruns; i++) {
		P.runs[i]->gen++;
		park(P.runs[i]);
	}
	P.nruns = 0;
	free(P.runs);
	P.runs = NULL;
	while (in_flight) {
		struct request_ctx *ctx = in_flight;
		untrack(ctx);
		/* Only those already handed to curl are in the multi handle. */
		if (ctx->req && ctx->req->easy)
			http_multi_remove(P.multi, ctx->req);
		http_request_free(ctx->req);
		free(ctx->path);
		free(ctx);
	}
	free(waiting);
	waiting = NULL;
	nwaiting = capwaiting = waiting_head = 0;
	http_multi_free(P.multi);
	P.multi = NULL;
	for (int i = 0; i < nparked; i++)
		run_free(w, parked[i], 0);
	free(parked);
	parked = NULL;
	nparked = 0;
	free_retired_shares();
}
