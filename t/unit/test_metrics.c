/* test_metrics.c: the binary forms of metrics arrays (COPY out, results in), bucket
 * accumulation and downsampling (src/metrics.c); the fold of raw and window rows that the
 * rollup and the charts share, on hand-made results; the tier choice, the read plan and the
 * thinning of chart reads (src/metrics_read.c). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "metrics_read.h"
#include "tap.h"

/* A COPY field (int32 length + data) back as the array bytes PostgreSQL would send. */
static const char *
field(const struct strbuf *sb, size_t *off, int *len)
{
	const unsigned char *p = (const unsigned char *)sb->data + *off;

	*len = (int)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
	*off += 4 + (size_t)*len;
	return (const char *)p + 4;
}

/* An empty binary result of ncols columns, as the server would send one. */
static PGresult *
result(int ncols)
{
	PGresAttDesc att[6];
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);

	memset(att, 0, sizeof(att));
	for (int i = 0; i < ncols; i++) {
		att[i].name = (char *)"c";
		att[i].format = 1;
	}
	PQsetResultAttrs(res, ncols, att);
	return res;
}

/* The COPY fields in sb (each a length, then the value) as the fields of row; sb is
 * emptied. */
static void
set_fields(PGresult *res, int row, struct strbuf *sb)
{
	size_t off = 0;

	for (int col = 0; off < sb->len; col++) {
		int len;
		const char *f = field(sb, &off, &len);
		PQsetvalue(res, row, col, (char *)f, len);
	}
	sb_reset(sb);
}

/* A raw row: block blk at ts, with the values of its first n slots. */
static void
raw_row(PGresult *res, int row, int32_t blk, double ts, const double *vals, int n)
{
	struct strbuf sb = {0};

	met_copy_i4(&sb, blk);
	met_copy_ts(&sb, ts);
	met_copy_f8_block(&sb, vals, n);
	set_fields(res, row, &sb);
	sb_free(&sb);
}

/* A window row of series s from t0: nb buckets of n samples each averaging avg[k], with
 * minima avg - 1 and maxima avg + 1. */
static void
window_row(PGresult *res, int row, int32_t s, double t0, const int32_t *n, const double *avg,
    int nb)
{
	struct strbuf sb = {0};
	double mn[64], mx[64];

	for (int k = 0; k < nb; k++)
		mn[k] = avg[k] - 1, mx[k] = avg[k] + 1;
	met_copy_i4(&sb, s);
	met_copy_ts(&sb, t0);
	met_copy_i4_array(&sb, n, nb);
	met_copy_f8_array(&sb, avg, nb);
	met_copy_f8_array(&sb, mn, nb);
	met_copy_f8_array(&sb, mx, nb);
	set_fields(res, row, &sb);
	sb_free(&sb);
}

#define T0 1700000000.0		/* a whole hour */

static void
test_fold_raw(void)
{
	PGresult *res = result(3);
	double b0[MET_BLOCK], b1[MET_BLOCK];
	struct met_acc cells[2 * 3 * 4];
	/* The rollup's layout: the series of one bucket side by side. */
	struct met_grid g = {
		.cells = cells, .lo = 199, .hi = 202, .origin = T0, .step = 60, .nb = 4,
		.series_stride = 1, .bucket_stride = 3,
	};
	const struct met_acc *c;

	for (int i = 0; i < MET_BLOCK; i++)
		b0[i] = b1[i] = NAN;
	/* Series 199 (block 0, slot 199), 200 and 201 (block 1, slots 0 and 1). */
	b0[199] = 4;
	b1[0] = 10;
	b1[1] = 1e300;		/* series 201: a sample and a NaN at different times */
	raw_row(res, 0, 1, T0 + 70, b1, 2);	/* rows out of time order */
	b1[0] = 30;
	b1[1] = NAN;
	raw_row(res, 1, 1, T0 + 65, b1, 2);
	raw_row(res, 2, 0, T0 + 5, b0, MET_BLOCK);
	b0[199] = 8;
	raw_row(res, 3, 0, T0 + 50, b0, MET_BLOCK);
	raw_row(res, 4, 0, T0 + 240, b0, MET_BLOCK);	/* past the grid */
	raw_row(res, 5, 0, T0 - 1, b0, MET_BLOCK);	/* before it */
	{
		int *order = met_raw_order(res);
		ok(order[0] == 5 && order[1] == 2 && order[2] == 3 && order[3] == 1 && order[4] == 0 &&
		    order[5] == 4, "raw rows: in time order");
		free(order);
	}
	memset(cells, 0, sizeof(cells));
	met_fold_raw(res, &g);
	c = &cells[0 * 3 + 0];
	ok(c->n == 2 && c->min == 4 && c->max == 8 && met_acc_avg(c) == 6,
	    "fold raw: two samples of a series in one bucket");
	c = &cells[1 * 3 + 1];
	ok(c->n == 2 && c->min == 10 && c->max == 30 && met_acc_avg(c) == 20,
	    "fold raw: the next block's first series, its next bucket");
	c = &cells[1 * 3 + 2];
	ok(c->n == 1 && c->sum == 1e300, "fold raw: a missing sample (NaN) is not counted");
	ok(cells[3 * 3 - 1].n == 0 && cells[0 * 3 + 1].n == 0 && cells[2 * 3 + 0].n == 0,
	    "fold raw: samples outside the grid's times are left out");
	/* The charts' layout, and series outside [lo, hi). */
	g.lo = 200;
	g.hi = 201;
	g.series_stride = 4;
	g.bucket_stride = 1;
	memset(cells, 0, sizeof(cells));
	met_fold_raw(res, &g);
	ok(cells[1].n == 2 && met_acc_avg(&cells[1]) == 20 && cells[0].n == 0 && cells[2].n == 0 &&
	    cells[4].n == 0, "fold raw: a series' buckets side by side; other series left out");
	PQclear(res);
}

static void
test_fold_windows(void)
{
	PGresult *res = result(6);
	int32_t n[60];
	double avg[60];
	struct met_acc cells[2 * 3];
	/* Hour buckets from minute windows (an hour of 60 minute buckets). */
	struct met_grid g = {
		.cells = cells, .lo = 7, .hi = 9, .origin = T0, .step = 3600, .nb = 3,
		.series_stride = 3, .bucket_stride = 1,
	};

	for (int k = 0; k < 60; k++)
		n[k] = k == 0 ? 2 : k == 1 ? 1 : k == 2 ? 0 : 6, avg[k] = k == 0 ? 10 : k == 1 ? 40 : 5;
	window_row(res, 0, 7, T0, n, avg, 60);
	window_row(res, 1, 8, T0 + 3600, n, avg, 60);
	window_row(res, 2, 9, T0, n, avg, 60);	/* outside the series */
	window_row(res, 3, 7, T0 + 7200, n, avg, 60);
	memset(cells, 0, sizeof(cells));
	met_fold_windows(res, MET_MINUTE, T0, T0 + 7200 + 60, &g);
	ok(cells[0].n == 2 + 1 + 57 * 6 && cells[0].min == 4 && cells[0].max == 41 &&
	    fabs(met_acc_avg(&cells[0]) - (20.0 + 40 + 57 * 30) / cells[0].n) < 1e-9,
	    "fold windows: an hour of minutes, weighted by counts, empty buckets skipped");
	ok(cells[3 + 1].n == cells[0].n && cells[3 + 0].n == 0,
	    "fold windows: the next series, the next hour");
	ok(cells[2].n == 2 && met_acc_avg(&cells[2]) == 10,
	    "fold windows: only the buckets that start in [a, b)");
	memset(cells, 0, sizeof(cells));
	met_fold_windows(res, MET_MINUTE, T0 + 120, T0 + 3600, &g);
	ok(cells[0].n == 57 * 6 && cells[0].min == 4 && cells[0].max == 6 &&
	    cells[3 + 1].n == 0, "fold windows: buckets before a and from b on are left out");
	PQclear(res);
}

static void
test_plan(void)
{
	double done[MET_NTIERS] = {NAN, NAN, NAN, NAN};
	struct met_span sp[MET_NTIERS];
	int n;

	n = met_plan(done, MET_MINUTE, 100, 500, sp);
	ok(n == 1 && sp[0].tier == MET_RAW && sp[0].a == 100 && sp[0].b == 500,
	    "plan: a tier not rolled up at all is read from raw");
	done[MET_MINUTE] = 300;
	n = met_plan(done, MET_MINUTE, 100, 500, sp);
	ok(n == 2 && sp[0].tier == MET_MINUTE && sp[0].a == 100 && sp[0].b == 300 &&
	    sp[1].tier == MET_RAW && sp[1].a == 300 && sp[1].b == 500,
	    "plan: the tier up to where it is rolled up, raw from there");
	done[MET_MINUTE] = 800;
	n = met_plan(done, MET_MINUTE, 100, 500, sp);
	ok(n == 1 && sp[0].tier == MET_MINUTE && sp[0].b == 500, "plan: a tier rolled up past b");
	done[MET_HOUR] = 50;
	done[MET_MINUTE] = 400;
	n = met_plan(done, MET_HOUR, 100, 500, sp);
	ok(n == 2 && sp[0].tier == MET_MINUTE && sp[0].a == 100 && sp[0].b == 400 &&
	    sp[1].tier == MET_RAW && sp[1].a == 400,
	    "plan: a tier rolled up only before a is skipped; the one below goes on");
	done[MET_HOUR] = 200;
	n = met_plan(done, MET_HOUR, 100, 500, sp);
	ok(n == 3 && sp[0].tier == MET_HOUR && sp[0].b == 200 && sp[1].tier == MET_MINUTE &&
	    sp[1].a == 200 && sp[1].b == 400 && sp[2].tier == MET_RAW && sp[2].a == 400 &&
	    sp[2].b == 500, "plan: hour, then minute, then raw");
	n = met_plan(done, MET_RAW, 100, 500, sp);
	ok(n == 1 && sp[0].tier == MET_RAW && sp[0].a == 100, "plan: the raw tier is read as it is");
}

static void
test_tier_and_thin(void)
{
	double retention[MET_NTIERS] = {7200, 86400, 30 * 86400, 365 * 86400};
	struct met_acc row[1000];
	struct met_points pts = {0};
	int peak = 0, ordered = 1;

	is_int(met_tier_pick(retention, MET_NTIERS, 3600), MET_RAW, "tier: an hour from raw");
	is_int(met_tier_pick(retention, MET_NTIERS, 7200), MET_RAW, "tier: retention covers");
	is_int(met_tier_pick(retention, MET_NTIERS, 86400), MET_MINUTE, "tier: a day from minutes");
	is_int(met_tier_pick(retention, MET_NTIERS, 7 * 86400), MET_HOUR, "tier: a week from hours");
	is_int(met_tier_pick(retention, MET_NTIERS, 400 * 86400), MET_DAY,
	    "tier: past every retention, the day tier");
	is_int(met_tier_pick(retention, 0, 60), MET_DAY, "tier: no retention known, the day tier");

	memset(row, 0, sizeof(row));
	for (int k = 0; k < 1000; k++) {
		if (k % 10 == 3)
			continue;	/* no samples */
		met_acc_add(&row[k], k == 501 ? 1000 : sin(k / 20.0));
		met_acc_add(&row[k], k == 501 ? 1000 : sin(k / 20.0));
	}
	met_thin(row, 1000, T0, 60, 50, &pts);
	is_int(pts.n, 50, "thin: 900 buckets with samples to 50 points");
	for (int i = 0; i < pts.n; i++) {
		peak |= pts.p[i].t == T0 + 501 * 60 && pts.p[i].v == 1000;
		ordered &= i == 0 || pts.p[i].t > pts.p[i - 1].t;
	}
	ok(peak && ordered, "thin: the peak stays, times in order");
	ok(pts.p[0].t == T0 && pts.p[pts.n - 1].t == T0 + 999 * 60, "thin: first and last kept");
	free(pts.p);
	memset(&pts, 0, sizeof(pts));
	met_thin(row, 20, T0, 60, 50, &pts);
	ok(pts.n == 18 && pts.p[3].t == T0 + 4 * 60, "thin: fewer than the cap: every bucket with samples");
	free(pts.p);
}

int
main(void)
{
	struct strbuf sb = {0};
	double in[5] = {1.5, NAN, -3.25, 1e300, 0}, out[8];
	int32_t iin[3] = {7, 0, -2}, iout[4];
	size_t off = 0;
	int len, n;
	const char *f;
	struct met_acc a = {0}, b = {0};
	double t[100], v[100];
	int keep[100], m, peak = 0;

	met_copy_f8_array(&sb, in, 5);
	met_copy_i4_array(&sb, iin, 3);
	f = field(&sb, &off, &len);
	n = met_array_f8(f, len, out, 8);
	is_int(n, 5, "float8[] round trip: 5 elements");
	ok(out[0] == 1.5 && isnan(out[1]) && out[2] == -3.25 && out[3] == 1e300 && out[4] == 0,
	    "values and NULL (as NaN) kept");
	is_int(met_array_f8(f, len, out, 2), 2, "at most max elements");
	f = field(&sb, &off, &len);
	n = met_array_i4(f, len, iout, 4);
	ok(n == 3 && iout[0] == 7 && iout[1] == 0 && iout[2] == -2, "int4[] round trip");
	is_int(met_array_f8(f, len, out, 8), -1, "an int4[] is not a float8[]");
	for (int cut = 0; cut < len; cut++)
		if (met_array_i4(f, cut, iout, 4) > 0 && cut < 20)
			ok(0, "a truncated header is refused (%d bytes)", cut);
	is_int(met_array_i4(f, 19, iout, 4), -1, "a truncated header is refused");
	is_int(met_array_i4(f, len - 1, iout, 4), -1, "a truncated element is refused");
	{
		char empty[12] = {0};
		is_int(met_array_f8(empty, 12, out, 8), 0, "an empty array has no elements");
	}
	/* A block of raw samples: a bytea field of 8 bytes a slot, NaN for none. */
	sb_reset(&sb);
	off = 0;
	met_copy_f8_block(&sb, in, 5);
	f = field(&sb, &off, &len);
	is_int(len, 40, "a block of 5 slots is 40 bytes");
	n = met_block_f8(f, len, out, 8);
	ok(n == 5 && out[0] == 1.5 && isnan(out[1]) && out[2] == -3.25 && out[3] == 1e300 &&
	    out[4] == 0, "block round trip, NaN where no sample");
	ok((unsigned char)f[0] == 0x3f && (unsigned char)f[1] == 0xf8 && f[7] == 0,
	    "big-endian doubles: 1.5 is 3f f8 00 .. 00");
	is_int(met_block_f8(f, len, out, 3), 3, "a block: at most max values");
	is_int(met_block_f8(f, len - 1, out, 8), -1, "a block cut inside a value is refused");

	met_acc_add(&a, 3);
	met_acc_add(&a, 1);
	met_acc_add(&a, 5);
	ok(a.n == 3 && a.min == 1 && a.max == 5 && met_acc_avg(&a) == 3, "samples: n, min, max, avg");
	met_acc_merge(&b, 3, 3, 1, 5);
	met_acc_merge(&b, 1, 7, 7, 7);
	met_acc_merge(&b, 0, 100, 100, 100);
	ok(b.n == 4 && b.min == 1 && b.max == 7 && met_acc_avg(&b) == 4,
	    "buckets merge weighted by their counts; empty ones count for nothing");

	is_int(met_ts_to_pg(946684800.0), 0, "2000-01-01 is PostgreSQL's zero");
	{
		unsigned char be[8];
		int64_t us = met_ts_to_pg(1700000000.25);
		for (int i = 0; i < 8; i++)
			be[i] = (unsigned char)((uint64_t)us >> (56 - 8 * i));
		ok(met_ts_from_pg((const char *)be) == 1700000000.25, "timestamps round trip");
	}

	for (int i = 0; i < 100; i++) {
		t[i] = i;
		v[i] = i == 37 ? 1000 : sin(i / 5.0);
	}
	m = met_lttb(t, v, 100, 20, keep);
	is_int(m, 20, "LTTB: 20 points of 100");
	ok(keep[0] == 0 && keep[m - 1] == 99, "first and last kept");
	for (int i = 0; i < m; i++)
		peak |= keep[i] == 37;
	ok(peak, "the peak is kept");
	for (int i = 1; i < m; i++)
		if (keep[i] <= keep[i - 1])
			ok(0, "indexes increase");
	is_int(met_lttb(t, v, 10, 20, keep), 10, "fewer points than the cap: all");
	is_int(met_tier_parse("hour"), MET_HOUR, "tier names");
	is_int(met_tier_parse("hourly"), -1, "unknown tier");
	test_fold_raw();
	test_fold_windows();
	test_plan();
	test_tier_and_thin();
	sb_free(&sb);
	return done_testing();
}
