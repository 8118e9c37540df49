/* metrics.h: the metrics history layout shared by the worker (ingest, rollups) and the
 * responders (charts, history): tiers, blocks of series, bucket accumulation, the binary
 * forms PostgreSQL sends and takes for arrays and COPY, and downsampling. The tables are
 * described in sql/0006_metrics.sql and sql/0007_metric_blocks.sql. */
#ifndef PULSE_METRICS_H
#define PULSE_METRICS_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define MET_BLOCK 200		/* series per metric_raw row: pulse.metric_block_size() */

enum met_tier { MET_RAW, MET_MINUTE, MET_HOUR, MET_DAY, MET_NTIERS };

struct met_tier_info {
	const char *name;	/* raw, minute, hour, day */
	const char *table;	/* pulse.metric_<name> */
	int bucket;		/* seconds per bucket (raw: 0) */
	int win;		/* seconds per row's window (raw: 0) */
	int nbuckets;		/* buckets per row */
};

extern const struct met_tier_info met_tiers[MET_NTIERS];

/* Looks up a tier by name: its index, or -1. */
int met_tier_parse(const char *name);

/* One bucket's aggregate. A sample is a bucket with n = 1. */
struct met_acc {
	int32_t n;
	double sum, min, max;
};

void met_acc_add(struct met_acc *a, double v);
/* Adds a bucket of n samples with average avg (the sum is n × avg). */
void met_acc_merge(struct met_acc *a, int32_t n, double avg, double min, double max);
static inline double met_acc_avg(const struct met_acc *a) { return a->sum / a->n; }

/* A PostgreSQL binary int4. */
int32_t met_i4_from_pg(const char *bin);

/* Seconds since 1970 from a PostgreSQL binary timestamptz and back. */
double met_ts_from_pg(const char *bin);
int64_t met_ts_to_pg(double unix_s);

/* A binary float8[] or int4[] value: its elements into out (NAN / 0 for NULL), at most max.
 * Returns the count, or -1 when it is not such an array. */
int met_array_f8(const char *bin, int len, double *out, int max);
int met_array_i4(const char *bin, int len, int32_t *out, int max);

/* A block of pulse.metric_raw: a bytea of big-endian IEEE 754 doubles, NaN where a series
 * has no sample. Its values into out, at most max; returns the count, or -1 when its
 * length is not a multiple of 8. */
int met_block_f8(const char *bin, int len, double *out, int max);

/* A row of pulse.metric_raw read in binary (blk, ts, vals): its block and time, and the
 * block's values (NAN: no sample) into vals. Returns the values' count, or -1. */
int met_raw_row(PGresult *res, int row, int32_t *blk, double *ts, double vals[MET_BLOCK]);

/* A row of a rolled-up tier read in binary (series, t0, n, avg, min, max). */
struct met_window {
	int32_t series;
	double t0;
	int nb;			/* buckets */
	int32_t n[64];
	double avg[64], min[64], max[64];
};

/* Returns 0, or -1 when the row is not such a window (arrays of differing lengths). */
int met_window_row(PGresult *res, int row, struct met_window *w);

/* --- reading and folding the stored rows ---------------------------------------------------
 * The rollup (worker) and the charts (responders) read the same two row shapes and fold
 * them the same way: through these, with one statement per shape and tier. */
struct db;

/* The raw rows (blk, ts, vals; binary) of the blocks that hold series [lo, hi), with ts in
 * [a, b). A result the caller must PQclear, or NULL on failure (logged by the db layer). */
PGresult *met_read_raw(struct db *db, double a, double b, int32_t lo, int32_t hi);

/* The same read sent without waiting (0 or -1), and its result once it is wanted (NULL on
 * failure, logged); meanwhile the caller may do other work, taking what came with
 * db_consume. Through db_send_stmt/db_wait: the same prepared statement, in the caller's
 * session and transaction, never retried on a lost connection. */
int met_send_raw(struct db *db, double a, double b, int32_t lo, int32_t hi);
PGresult *met_wait_raw(struct db *db);

/* The rows (series, t0, n, avg, min, max; binary) of rolled-up tier t (minute, hour or
 * day) for series [lo, hi) whose windows hold buckets in [a, b). Windows start at
 * multiples of their length, as the rollup writes them. A result to PQclear, or NULL. */
PGresult *met_read_windows(struct db *db, int t, double a, double b, int32_t lo, int32_t hi);

/* Buckets of series [lo, hi) in time: bucket k of series s covers [origin + k*step,
 * origin + (k+1)*step), 0 <= k < nb, and is cells[(s - lo)*series_stride +
 * k*bucket_stride], so that each caller lays the grid out as it reads it back. */
struct met_grid {
	struct met_acc *cells;
	int32_t lo, hi;
	double origin, step;
	int nb;
	size_t series_stride, bucket_stride;
};

/* The row indexes of raw rows (as met_read_raw gives them) in time order; the array is the
 * caller's to free. Rows come in storage order. */
int *met_raw_order(PGresult *res);

/* Adds the samples of raw rows to g's buckets, in time order (so that sums do not depend on
 * the order the rows came in); samples outside the grid are left out. */
void met_fold_raw(PGresult *res, const struct met_grid *g);

/* Merges the buckets of tier t's window rows that start in [a, b) into g's buckets. */
void met_fold_windows(PGresult *res, int t, double a, double b, const struct met_grid *g);

/* Reads tier t's rows of g's series over [a, b) (raw samples, or the buckets of rolled-up
 * windows) and folds them into g. Returns 0, or -1 on a database error. */
int met_fold(struct db *db, int t, double a, double b, const struct met_grid *g);

/* COPY ... (FORMAT binary): the header, a row's field count, fields, the trailer. */
void met_copy_header(struct strbuf *sb);
void met_copy_row(struct strbuf *sb, int16_t nfields);
void met_copy_i4(struct strbuf *sb, int32_t v);
void met_copy_ts(struct strbuf *sb, double unix_s);
/* A float8[] with NAN as NULL, and an int4[]. */
void met_copy_f8_array(struct strbuf *sb, const double *v, int n);
void met_copy_i4_array(struct strbuf *sb, const int32_t *v, int n);
/* A block of raw samples as metric_raw.vals (bytea, see met_block_f8); NAN: no sample. */
void met_copy_f8_block(struct strbuf *sb, const double *v, int n);
void met_copy_trailer(struct strbuf *sb);

/* Downsampling to at most max points, keeping peaks visible: largest-triangle-three-
 * buckets over (t, v), first and last point kept. Writes the chosen indexes into keep and
 * returns their count (n when n <= max). */
int met_lttb(const double *t, const double *v, int n, int max, int *keep);

#endif
