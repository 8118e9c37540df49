/* poller.h: what the product pollers (poll_pve.c, poll_pbs.c, poll_pmg.c) share with the
 * scheduling core (poll.c). The core claims instances, runs one cycle per instance at a time
 * with every request in flight through one curl multi handle, handles password logins and
 * the circuit breaker, and records poll status; a product says which requests a cycle makes,
 * what to do with each answer and how to write the result. */
#ifndef PULSE_POLLER_H
#define PULSE_POLLER_H

#include "http.h"
#include "instances.h"
#include "pve.h"
#include "worker.h"

#include <json-c/json.h>

/* After this many failed logins in a row an instance shows as failed (§2.4). */
#define AUTH_FAILURE_LIMIT 5

/* What every cycle has; a product's cycle starts with it. */
struct poll_cycle {
	unsigned gen;
	double started;			/* monotonic */
	int pending;			/* requests not yet answered */
	int failed;			/* an essential request failed: the cycle failed */
	int auth_failed;
	char error[256];
	int backup_cycle;		/* this cycle also polls backups */
};

struct run;

struct poll_ops {
	const char *type;		/* pulse.instances.type: pve, pbs, pmg */
	double (*interval)(void);	/* seconds between cycles */
	/* A new zeroed cycle (its poll_cycle filled in by the core afterwards). */
	struct poll_cycle *(*cycle_new)(struct run *run);
	/* Submits the cycle's first requests (after a login when one was needed). */
	void (*begin)(struct run *run);
	/* One answer of the current cycle. */
	void (*handle)(struct run *run, int kind, int index, struct http_request *req);
	/* The cycle succeeded: write its state. Returns 0, or -1 with a message in err. */
	int (*write_ok)(struct worker *w, struct run *run, double now, char *err, size_t errlen);
	/* The cycle failed (after run->consecutive_failures and auth_failures were counted). */
	void (*write_failed)(struct worker *w, struct run *run, double now);
	void (*cycle_free)(struct poll_cycle *c);
	void (*priv_free)(void *priv);
};

struct run {
	const struct poll_ops *ops;
	struct instance_cfg cfg;
	struct pve_conn conn;
	int conn_ok;
	void *share;			/* this connection's own connection cache */
	struct poll_cycle *cycle;	/* the cycle in progress, or NULL */
	unsigned gen;
	double next_poll;		/* monotonic */
	double last_success;		/* wall */
	int consecutive_failures, auth_failures;
	int keep;			/* still configured and claimed (mark and sweep) */
	unsigned cycles;		/* completed cycles, for the backup cadence */
	void *priv;			/* the product's memory across cycles */
};

/* Settings every poller reads (poll_init fills them from the configuration). */
struct poll_settings {
	double grace;			/* seconds a silent node keeps its last state */
	double backoff_max;		/* the breaker's longest wait */
	int backup_cycles;		/* PVE backups every this many cycles (0: never) */
	long timeout_ms;		/* one request */
	double pve_interval, pbs_interval, pmg_interval;
};
extern struct poll_settings poll_settings;

extern const struct poll_ops poll_pve_ops, poll_pbs_ops, poll_pmg_ops;

/* Queues a GET of path (below /api2/json) for the run's current cycle; the answer comes to
 * ops->handle with kind and index. */
void poll_submit(struct run *run, const char *path, int kind, int index);

/* The data value of an answer (a new reference), or NULL. A failure of an essential request
 * fails the cycle with its message; an authentication failure is noted either way. */
struct json_object *poll_data(struct run *run, struct http_request *req, int essential);

/* Marks the current cycle failed with a message. */
void poll_fail(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
