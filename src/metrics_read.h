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

/* A chart read: the points of the wanted series among 0..maxs over the window (a, b].
 * Raw samples come as they are; buckets of a rolled-up tier are thinned to max_points.
 *
 * Open it inside the caller's transaction (REPEATABLE READ, so that a rollup committing
 * meanwhile is not seen twice): it reads how far each tier is rolled up. NULL on a database
 * error. met_reader_free (a void (*)(void *), for arena_defer) frees it and all points. */
struct met_reader;

struct met_reader *met_reader_open(struct db *db, int tier, double a, double b, int32_t maxs,
    int max_points);
void met_reader_free(void *rd);

/* Marks series s (0 <= s <= maxs) as wanted; the others are not kept. */
void met_reader_want(struct met_reader *rd, int32_t s);

/* Reads the next chunk of series, in the order of their ids. Returns 1 with *below set when
 * the points of every series below *below are in, 0 when all are read, -1 on a database
 * error. On the raw tier, the next chunk's rows come while the caller writes this one's:
 * call met_reader_pump now and then so that the server keeps sending. */
int met_reader_next(struct met_reader *rd, int32_t *below);
void met_reader_pump(struct met_reader *rd);

/* Series s's points (none for s < 0); forgetting them frees them. */
const struct met_points *met_reader_points(const struct met_reader *rd, int32_t s);
void met_reader_forget(struct met_reader *rd, int32_t s);

/* Waits for a read still out, as must be done before the caller ends its transaction. NULL
 * is allowed. */
void met_reader_close(struct met_reader *rd);

/* The buckets of series ids[0..n) over (a, b] in tier into out[0..n) (by index; each
 * out[i].b is the caller's to free, none is left on failure), in a snapshot of its own.
 * Buckets of rolled-up tiers are not thinned. Returns 0, or -1 on a database error. */
int met_read_history(struct db *db, int tier, const int32_t *ids, int n, double a, double b,
    struct met_buckets *out);

#endif
