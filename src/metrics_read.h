/* metrics_read.h: metrics history as charts read it: the points of many series over a
 * window, from the tier chosen for the window's length, with the part a tier has not
 * rolled up yet taken from the tiers below, and rolled-up series thinned to a number of
 * points. The reads run on the caller's connection and know nothing of requests or JSON;
 * src/metrics.h has the tables, the statements and the fold they share with the rollup. */
#ifndef PULSE_METRICS_READ_H
#define PULSE_METRICS_READ_H

#include <stdint.h>

#include "metrics.h"

struct db;

/* A series' points, in time order. */
struct met_point {
	double t, v;
};

struct met_points {
	struct met_point *p;
	int n, cap;
};

/* A series' buckets, in time order; a raw sample is a bucket of one. */
struct met_bucket {
	double t;
	struct met_acc a;
};

struct met_buckets {
	struct met_bucket *b;
	int n, cap;
};

/* The tier that holds a window of range seconds: the first of the n tiers (by order) whose
 * retention (seconds) covers it; the day tier when none does. */
int met_tier_pick(const double *retention, int n, double range);

/* The same with the retentions of pulse.metric_tiers. -1 on a database error. */
int met_tier_for(struct db *db, double range);

/* What covers [a, b) from tier t down: tier t up to where it is rolled up (done[t]: NAN
 * when not at all), the rest from the tiers below, the raw tier last. */
struct met_span {
	int tier;
	double a, b;		/* [a, b) */
};

/* Writes the reads in order into spans; returns their count (at most MET_NTIERS). */
int met_plan(const double done[MET_NTIERS], int t, double a, double b,
    struct met_span spans[MET_NTIERS]);

/* A series' row of nb buckets, step seconds apart from origin, as points appended to out:
 * the averages of its buckets that hold samples, thinned to at most max points with LTTB
 * (met_lttb: the peaks stay). */
void met_thin(const struct met_acc *row, int nb, double origin, double step, int max,
    struct met_points *out);

/* --- charts: the resources of the state and their series ---------------------------------
 * What /api/charts shows: the guests, nodes, storage, Docker containers and Docker hosts of
 * the live estate (mock or not), each
 * with its current values and the series of its metrics, read in one REPEATABLE READ
 * snapshot and handed out as their series come in. */
enum met_chart_kind {
	MET_CHART_GUEST, MET_CHART_NODE, MET_CHART_STORAGE,
	MET_CHART_DOCKER, MET_CHART_DOCKER_HOST,	/* Docker containers and hosts: cpu memory disk */
	MET_CHART_KINDS,
};

#define MET_CHART_METRICS 7	/* guests: cpu memory disk diskread diskwrite netin netout */

/* Their stored metric names, in the order of cur and series (storage: "usage"). */
extern const char *const met_chart_metrics[MET_CHART_METRICS];

struct met_chart_item {
	const char *id;
	enum met_chart_kind kind;
	int vm;			/* guests: a VM (else a container) */
	int nmetrics;		/* guests 7, nodes 3 (cpu memory disk), storage 1 (usage) */
	double cur[MET_CHART_METRICS];	/* current values, for series without history */
	int32_t series[MET_CHART_METRICS];	/* -1: none */
	int32_t last;		/* the last of its series, -1: none */
};

struct met_charts;

/* Begins a chart read of the window (now - range, now + 1]: the tier for range, a snapshot
 * (a transaction on db until met_charts_end), the resources and their series. NULL on a
 * database error (nothing left open). met_charts_free (for arena_defer) frees it. */
struct met_charts *met_charts_open(struct db *db, double range, double now, int max_points);
void met_charts_free(void *ch);

/* The resources, by id (bytewise) then kind. */
const struct met_chart_item *met_charts_items(const struct met_charts *ch, int *n);

/* Reads on and hands out the resources whose series are all in now (*ready[0..*n)), in the
 * order their last series is read, each once. Returns 1, 0 when all were handed out, or -1
 * on a database error. Their points are met_charts_points'; met_charts_forget frees them. */
int met_charts_next(struct met_charts *ch, const struct met_chart_item *const **ready, int *n);
const struct met_points *met_charts_points(const struct met_charts *ch, int32_t s);
void met_charts_forget(struct met_charts *ch, const struct met_chart_item *it);

/* On the raw tier the next chunk's rows come while the caller writes this one's: call this
 * now and then so that the server keeps sending. */
void met_charts_pump(struct met_charts *ch);

/* Ends the read and its snapshot: committed when ok, else rolled back. */
void met_charts_end(struct met_charts *ch, int ok);

/* Storage charts: every storage of the state with the ids of its series (id, series or
 * NULL, metric; by id bytewise), and the stored rows of those series since now - range in
 * the tier for range (series, time, avg, min, max, samples; by series and time). Both are
 * the caller's to PQclear. Returns 0, or -1 on a database error (nothing left). */
int met_read_storage(struct db *db, double range, double now, PGresult **list,
    PGresult **points);

/* The stored types a requested resource type stands for (a Postgres text array such as
 * "{vm,container}"): the stored names and the names the docs use (guest: VMs and
 * containers; docker: Docker containers). NULL when unknown. */
const char *met_stored_types(const char *type);

/* 1 when metric is one of the stored metric names (cpu, memory, ..., avail), else 0. */
int met_known_metric(const char *metric);

/* A resource's history: the series of resource id among the stored types (a Postgres text
 * array such as "{vm,container}"), metric's alone unless it is "", by metric name. */
#define MET_HISTORY_MAX_SERIES 64

struct met_history {
	PGresult *series;	/* id, metric */
	int n;			/* series read, at most MET_HISTORY_MAX_SERIES */
	int known;		/* 0: no series and no such resource in the state */
	int tier;		/* read from */
	int32_t ids[MET_HISTORY_MAX_SERIES];
	struct met_buckets *buckets;	/* by series, over (now - range, now] */
	long bound;		/* met_history_window with a limit: at most this many points */
};

/* Fills h (met_history_free, for arena_defer, frees what it holds, also after a failure).
 * Returns 0 (see h->known), or -1 on a database error. */
int met_history_open(struct db *db, const char *types, const char *id, const char *metric,
    double range, double now, struct met_history *h);
/* The same over the window (a, b] (the tier for b - a), as reports read it. With limit > 0
 * the points are bounded before they are read: h->bound is at most how many there are (a
 * rolled-up tier: its buckets in the window; raw: the rows of the series' blocks), and
 * when it exceeds limit nothing is read (h->buckets stays NULL). */
int met_history_window(struct db *db, const char *types, const char *id, const char *metric,
    double a, double b, long limit, struct met_history *h);
const char *met_history_metric(const struct met_history *h, int i);
void met_history_free(void *h);

#endif
