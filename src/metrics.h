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
