/* notify.c: the notification queue's senders. Sender threads, each with its own PostgreSQL
 * connection, claim batches of queued rows, deliver them (a blocking HTTP request each, with
 * timeouts) and finish them; the main loop (polling) never waits for a webhook. They wake on
 * NOTIFY pulse_notify, when the earliest retry is due, and every 5 s. Lease recovery and retention are a singleton job. */
#include "config.h"

#include "worker.h"
#include "conf.h"
#include "http.h"
#include "log.h"
#include "notify_queue.h"
#include "notify_send.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WAKE_INTERVAL_MS 5000
#define RETENTION_INTERVAL 3600.0

struct sender {
	pthread_t thread;
	int index;
	struct db *db;
	int started;
};

static struct {
	struct sender *senders;
	int count;
	int stop_pipe[2];	/* readable once the senders must stop */
	int stop;		/* atomic */
	int ready;		/* atomic: the main loop found the database and schema usable */
	char *worker_id;
	int batch, lease_s, lease_margin_s, rate_limit, rate_window_s;
	long timeout_ms;
} pool = {.stop_pipe = {-1, -1}};

static int
stopping(void)
{
	return __atomic_load_n(&pool.stop, __ATOMIC_ACQUIRE);
}

static void
ignore_notify(const char *channel, const char *payload, void *arg)
{
	(void)channel;
	(void)payload;
	(void)arg;
}

/* Waits up to ms for a NOTIFY on the sender's connection or for the stop signal. */
static void
sender_wait(struct sender *s, int ms)
{
	struct pollfd fds[2] = {{pool.stop_pipe[0], POLLIN, 0}, {db_socket(s->db), POLLIN, 0}};
	int n = fds[1].fd >= 0 ? 2 : 1;

	if (poll(fds, (nfds_t)n, ms) > 0 && n == 2 && (fds[1].revents & (POLLIN | POLLERR | POLLHUP)))
		(void)db_drain_notifies(s->db, ignore_notify, NULL);
}

/* Sends the claimed rows in order; at a stop the ones not started go back to the queue. */
static void
send_batch(struct sender *s, struct nq_row *rows, int n, const struct notify_send_ctx *ctx)
{
	for (int i = 0; i < n; i++) {
		struct nq_result res;

		if (stopping()) {
			if (notify_queue_release(s->db, rows + i, n - i, pool.worker_id, 0) != 0)
				log_warn("msg=\"claimed notifications not released; their lease will\" "
				    "rows=%d", n - i);
			return;
		}
		(void)notify_send_row(&rows[i], ctx, &res);
		if (!res.success && res.defer_s > 0) {
			/* Held by the per-URL rate limit: not an attempt, back in the queue. */
			if (notify_queue_release(s->db, &rows[i], 1, pool.worker_id, res.defer_s) != 0)
				log_warn("msg=\"rate-limited notification not released; its lease will\" "
				    "id=%s", rows[i].id);
			continue;
		}
		if (!res.success)
			log_warn("msg=\"notification delivery failed\" id=%s type=%s attempt=%d/%d "
			    "error=\"%.300s\"", rows[i].id, rows[i].type, rows[i].attempts,
			    rows[i].max_attempts, res.error);
		if (notify_queue_finish(s->db, &rows[i], pool.worker_id, &res) != 0)
			log_warn("msg=\"notification outcome not recorded; the lease will return it\" "
			    "id=%s error=\"%s\"", rows[i].id, db_error(s->db));
	}
}

static void *
sender_main(void *arg)
{
	struct sender *s = arg;
	struct notify_send_ctx ctx;
	char allowlist[sizeof(ctx.allowlist)] = "";

	memset(&ctx, 0, sizeof(ctx));
	ctx.timeout_ms = pool.timeout_ms;
	ctx.connect_timeout_ms = pool.timeout_ms < 10000 ? pool.timeout_ms : 10000;
	ctx.rate_limit = pool.rate_limit;
	ctx.share = http_share_new();
	ctx.rate_window_s = pool.rate_window_s;
	while (!stopping()) {
		struct nq_row *rows = NULL;
		int n;

		if (!__atomic_load_n(&pool.ready, __ATOMIC_ACQUIRE) || db_ensure(s->db, 0) != 0) {
			sender_wait(s, 1000);
			continue;
		}
		if (notify_send_settings_load(s->db, &ctx) != 0) {
			sender_wait(s, 1000);
			continue;
		}
		/* A kept connection goes to the address checked when it opened: when the
		 * allowlist changes, none is kept (an address it no longer allows is not reused). */
		if (strcmp(allowlist, ctx.allowlist) != 0) {
			http_share_free(ctx.share);
			ctx.share = http_share_new();
			snprintf(allowlist, sizeof(allowlist), "%s", ctx.allowlist);
		}
		n = notify_queue_claim(s->db, pool.worker_id, pool.batch, pool.lease_s,
		    pool.lease_margin_s, &rows);
		if (n < 0) {
			log_warn("msg=\"notification claim failed\" sender=%d error=\"%s\"", s->index,
			    db_error(s->db));
			sender_wait(s, 1000);
			continue;
		}
		send_batch(s, rows, n, &ctx);
		notify_queue_rows_free(rows, n);
		/* A full batch: more may be waiting. Otherwise sleep until an enqueue or the
		 * earliest retry that is due. */
		if (n < pool.batch)
			sender_wait(s, notify_queue_next_due_ms(s->db, WAKE_INTERVAL_MS));
	}
	http_share_free(ctx.share);
	return NULL;
}

static void
sender_connected(struct db *db, void *arg)
{
	(void)db;
	(void)arg;
}

void
notify_start(struct worker *w)
{
	int n = (int)conf_int("notify_senders");

	pool.count = 0;
	if (n <= 0)
		return;
	if (pipe2(pool.stop_pipe, O_CLOEXEC) != 0)
		log_fatal("msg=\"pipe failed\" error=\"%s\"", strerror(errno));
	pool.worker_id = xstrdup(w->id);
	pool.batch = (int)conf_int("notify_batch");
	pool.timeout_ms = conf_int("notify_timeout") * 1000;
	/* One row's lease: a whole delivery, then a margin (notify_queue_claim adds it). */
	pool.lease_s = (int)conf_int("notify_timeout");
	pool.lease_margin_s = (int)conf_int("notify_lease_margin");
	pool.rate_limit = (int)conf_int("notify_rate_limit");
	pool.rate_window_s = (int)conf_int("notify_rate_window");
	pool.senders = xcalloc((size_t)n, sizeof(*pool.senders));
	for (int i = 0; i < n; i++) {
		struct sender *s = &pool.senders[i];
		char appname[96];

		s->index = i;
		/* Not "pulse-worker:...": that names one worker each (fair shares count them). */
		snprintf(appname, sizeof(appname), "pulse-notify:%s:%d", w->id, i);
		s->db = db_new(conf_str("database_url"), appname, 30.0);
		db_set_timeouts(s->db, (int)conf_int("db_connect_timeout"),
		    (int)conf_int("db_statement_timeout"));
		db_set_on_connect(s->db, sender_connected, s);
		(void)db_listen(s->db, NOTIFY_QUEUE_CHANNEL);
		if (pthread_create(&s->thread, NULL, sender_main, s) != 0)
			log_fatal("msg=\"cannot start a notification sender\"");
		s->started = 1;
		pool.count++;
	}
	log_info("msg=\"notification senders started\" senders=%d batch=%d timeout_s=%ld", n,
	    pool.batch, pool.timeout_ms / 1000);
}

void
notify_set_ready(int ready)
{
	__atomic_store_n(&pool.ready, ready, __ATOMIC_RELEASE);
}

void
notify_stop(void)
{
	if (pool.senders == NULL)
		return;
	__atomic_store_n(&pool.stop, 1, __ATOMIC_RELEASE);
	(void)!write(pool.stop_pipe[1], "x", 1);
	for (int i = 0; i < pool.count; i++) {
		if (pool.senders[i].started)
			pthread_join(pool.senders[i].thread, NULL);
		db_free(pool.senders[i].db);
	}
	free(pool.senders);
	pool.senders = NULL;
	free(pool.worker_id);
	close(pool.stop_pipe[0]);
	close(pool.stop_pipe[1]);
	log_info("msg=\"notification senders stopped\"");
}

int
job_notify_maintain(struct worker *w, struct job *job)
{
	static double last_retention;
	double now = clock_monotonic();
	int n;

	(void)job;
	n = notify_queue_recover_leases(w->db);
	if (n < 0)
		return -1;
	if (n > 0)
		log_warn("msg=\"notifications of a stopped sender are queued again\" rows=%d", n);
	if (last_retention == 0 || now - last_retention >= RETENTION_INTERVAL) {
		n = notify_queue_retention(w->db);
		if (n < 0)
			return -1;
		last_retention = now;
		if (n > 0)
			log_info("msg=\"notification queue retention\" deleted=%d", n);
	}
	return 0;
}
