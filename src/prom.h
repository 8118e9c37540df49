/* prom.h: Prometheus metrics (metrics-reporting.md §7): the original's request, poll and alert
 * counters and histograms, counted in memory by each process, published to
 * pulse.prom_series (sql/0022_prometheus.sql) and summed over every process by GET /metrics,
 * which adds the monitored estate as gauges read from the state tables (prom_estate.c). */
#ifndef PULSE_PROM_H
#define PULSE_PROM_H

#include <stddef.h>

#include "db.h"
#include "util.h"

/* The families a process counts. The order is the table's in prom.c. */
enum prom_family {
	PROM_HTTP_DURATION,	/* histogram: method, route, status */
	PROM_HTTP_REQUESTS,	/* counter: method, route, status */
	PROM_HTTP_ERRORS,	/* counter: method, route, status_class */
	PROM_POLL_DURATION,	/* histogram: instance_type, instance */
	PROM_POLL_TOTAL,	/* counter: instance_type, instance, result */
	PROM_POLL_ERRORS,	/* counter: instance_type, instance, error_type */
	PROM_ALERTS_FIRED,	/* counter: level, type */
	PROM_ALERTS_RESOLVED,	/* counter: type */
	PROM_ALERTS_ACKNOWLEDGED,	/* counter: no labels */
	PROM_FAMILY_COUNT
};

/* At most this many series per process: beyond, new label sets are not counted (logged
 * once), so that no stream of odd requests can grow a process without bound. */
#define PROM_MAX_SERIES 4096

/* Names this process ("pulse-fcgi", "pulse-worker") and sets the publication interval in
 * seconds (the prometheus_interval setting); 0 turns counting and publication off. Call once
 * before any thread counts. */
void prom_init(const char *program, int interval);
/* Whether counting is on. */
int prom_enabled(void);
/* The publication interval in seconds (0: off). */
int prom_interval(void);

/* Adds v to a counter, or observes v in a histogram, of the series with these label values
 * (as many as the family has labels, in its order; trimmed, "" counts as "unknown").
 * Thread-safe; nothing is allocated once the series exists. */
void prom_add(enum prom_family f, const char *const *values, double v);

/* One answered request: counts it in the three http families with the original's route
 * normalisation (prom_route). matched is 0 for a path no route knows: its route label is
 * "unmatched", so that nobody can mint series with made-up paths. */
void prom_http_observe(const char *method, const char *path, int matched, int status,
    double seconds);

/* One finished poll of an instance: type "pve", "pbs" or "pmg"; error_type "none" on
 * success, else the category. */
void prom_poll_observe(const char *type, const char *instance, int ok, const char *error_type,
    double seconds);

/* The original's route label: at most 5 segments; a numeric segment becomes ":id", a UUID
 * ":uuid", one longer than 32 characters ":token". Writes into out (always terminated). */
void prom_route(const char *path, char *out, size_t outlen);

/* Publishes what this process counted since its last publication, and its process_*
 * figures, in one statement. Serialised within the process. Returns 0, or -1 with the
 * error logged (the counts stay in memory for the next attempt). */
int prom_flush(struct db *db);
/* prom_flush when the interval has passed since the last one (at most one thread does it);
 * 0 when nothing was due. */
int prom_flush_due(struct db *db);

/* Seconds since this process last published (or started). */
double prom_since_flush(void);

/* Folds the counters of processes unseen for gone_after seconds into the rows of process ''
 * and drops their absolute values. Returns the processes folded, or -1. */
int prom_fold_gone(struct db *db, int gone_after);

/* Receives the exposition text piece by piece; returns 0, or -1 to stop (the client left). */
typedef int (*prom_write_fn)(void *arg, const char *data, size_t len);

/* The exposition text (format 0.0.4) of every process's published series, summed, followed
 * by the estate gauges, given to write in pieces of about 64 KiB (a large estate's text is
 * megabytes: it is never held whole). Every query runs before the first piece is written.
 * Returns 0 (also when write stopped it), or -1 when the database failed: nothing was
 * written then. */
int prom_render(struct db *db, prom_write_fn write, void *arg);

/* Appends a label value escaped for the exposition format (\\, \", \n). */
void prom_escape(struct strbuf *out, const char *value);

/* prom_estate.c: the monitored estate as gauges (docs/API.md lists them): the queries
 * (prom_estate_query: 0, or -1 with nothing kept), then the text, appended to out and given
 * to write whenever out holds PROM_CHUNK bytes (prom_estate_render: 0, or -1 once write
 * refused), then the results freed (prom_estate_free; also after a failed render). */
#define PROM_CHUNK 65536
struct prom_estate;
struct prom_estate *prom_estate_query(struct db *db);
int prom_estate_render(struct prom_estate *e, struct strbuf *out, prom_write_fn write, void *arg);
void prom_estate_free(struct prom_estate *e);

#endif
