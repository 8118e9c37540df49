/* metrics.c: see metrics.h. */
#include "config.h"

#include "metrics.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

const struct met_tier_info met_tiers[MET_NTIERS] = {
	{"raw", "pulse.metric_raw", 0, 0, 1},
	{"minute", "pulse.metric_minute", 60, 3600, 60},
	{"hour", "pulse.metric_hour", 3600, 86400, 24},
	{"day", "pulse.metric_day", 86400, 86400, 1},
};

#define PG_EPOCH 946684800.0	/* 2000-01-01 in Unix seconds */
#define OID_INT4 23
#define OID_FLOAT8 701

int
met_tier_parse(const char *name)
{
	for (int i = 0; i < MET_NTIERS; i++)
		if (strcmp(met_tiers[i].name, name) == 0)
			return i;
	return -1;
}

void
met_acc_add(struct met_acc *a, double v)
{
	if (a->n == 0) {
		a->min = a->max = v;
		a->sum = 0;
	} else {
		if (v < a->min)
			a->min = v;
		if (v > a->max)
			a->max = v;
	}
	a->sum += v;
	a->n++;
}

void
met_acc_merge(struct met_acc *a, int32_t n, double avg, double min, double max)
{
	if (n <= 0)
		return;
	if (a->n == 0) {
		a->min = min;
		a->max = max;
		a->sum = 0;
	} else {
		if (min < a->min)
			a->min = min;
		if (max > a->max)
			a->max = max;
	}
	a->sum += avg * n;
	a->n += n;
}

static uint32_t
get32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static uint64_t
get64(const char *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

int32_t
met_i4_from_pg(const char *bin)
{
	return (int32_t)get32(bin);
}

double
met_ts_from_pg(const char *bin)
{
	return (double)(int64_t)get64(bin) / 1e6 + PG_EPOCH;
}

int64_t
met_ts_to_pg(double unix_s)
{
	return llround((unix_s - PG_EPOCH) * 1e6);
}

/* The header of a one-dimensional binary array of element type oid: the element count
 * and where the elements start, or -1. */
static int
array_header(const char *bin, int len, uint32_t oid, int *count)
{
	int ndim;

	if (len < 12)
		return -1;
	ndim = (int)get32(bin);
	if (ndim == 0) {
		*count = 0;
		return 12;
	}
	if (ndim != 1 || len < 20 || get32(bin + 8) != oid)
		return -1;
	*count = (int)get32(bin + 12);
	return *count < 0 ? -1 : 20;
}

int
met_array_f8(const char *bin, int len, double *out, int max)
{
	int count, off = array_header(bin, len, OID_FLOAT8, &count), n = 0;

	if (off < 0)
		return -1;
	for (int i = 0; i < count && n < max; i++) {
		int32_t el;
		uint64_t u;
		if (off + 4 > len)
			return -1;
		el = (int32_t)get32(bin + off);
		off += 4;
		if (el == -1) {
			out[n++] = NAN;
			continue;
		}
		if (el != 8 || off + 8 > len)
			return -1;
		u = get64(bin + off);
		memcpy(&out[n++], &u, 8);
		off += 8;
	}
	return n;
}

int
met_block_f8(const char *bin, int len, double *out, int max)
{
	int n = len / 8;

	if (len < 0 || len % 8 != 0)
		return -1;
	if (n > max)
		n = max;
	for (int i = 0; i < n; i++) {
		uint64_t u = get64(bin + 8 * i);
		memcpy(&out[i], &u, 8);
	}
	return n;
}

int
met_array_i4(const char *bin, int len, int32_t *out, int max)
{
	int count, off = array_header(bin, len, OID_INT4, &count), n = 0;

	if (off < 0)
		return -1;
	for (int i = 0; i < count && n < max; i++) {
		int32_t el;
		if (off + 4 > len)
			return -1;
		el = (int32_t)get32(bin + off);
		off += 4;
		if (el == -1) {
			out[n++] = 0;
			continue;
		}
		if (el != 4 || off + 4 > len)
			return -1;
		out[n++] = (int32_t)get32(bin + off);
		off += 4;
	}
	return n;
}

int
met_raw_row(PGresult *res, int row, int32_t *blk, double *ts, double vals[MET_BLOCK])
{
	*blk = met_i4_from_pg(PQgetvalue(res, row, 0));
	*ts = met_ts_from_pg(PQgetvalue(res, row, 1));
	return met_block_f8(PQgetvalue(res, row, 2), PQgetlength(res, row, 2), vals, MET_BLOCK);
}

int
met_window_row(PGresult *res, int row, struct met_window *w)
{
	w->series = met_i4_from_pg(PQgetvalue(res, row, 0));
	w->t0 = met_ts_from_pg(PQgetvalue(res, row, 1));
	w->nb = met_array_i4(PQgetvalue(res, row, 2), PQgetlength(res, row, 2), w->n, 64);
	if (w->nb < 0 ||
	    met_array_f8(PQgetvalue(res, row, 3), PQgetlength(res, row, 3), w->avg, 64) != w->nb ||
	    met_array_f8(PQgetvalue(res, row, 4), PQgetlength(res, row, 4), w->min, 64) != w->nb ||
	    met_array_f8(PQgetvalue(res, row, 5), PQgetlength(res, row, 5), w->max, 64) != w->nb)
		return -1;
	return 0;
}

/* --- reading and folding ----------------------------------------------------------------- */

static const struct db_stmt stmt_raw = {
	"metrics_read_raw",
	"SELECT blk, ts, vals FROM pulse.metric_raw "
	"WHERE ts >= to_timestamp($1) AND ts < to_timestamp($2) AND blk >= $3 AND blk < $4",
	4,
};

#define READ_WINDOWS(t) \
	"SELECT series, t0, n, avg, min, max FROM pulse.metric_" t " " \
	"WHERE t0 >= to_timestamp($1) AND t0 < to_timestamp($2) AND series >= $3 " \
	"AND series < $4"

static const struct db_stmt stmt_windows[MET_NTIERS] = {
	[MET_MINUTE] = {"metrics_read_minute", READ_WINDOWS("minute"), 4},
	[MET_HOUR] = {"metrics_read_hour", READ_WINDOWS("hour"), 4},
	[MET_DAY] = {"metrics_read_day", READ_WINDOWS("day"), 4},
};

/* The parameters of both reads: times in whole microseconds, as they are stored. */
struct read_params {
	char a[32], b[32], lo[16], hi[16];
	const char *p[4];
};

static const char *const *
read_params(struct read_params *rp, double a, double b, int32_t lo, int32_t hi)
{
	snprintf(rp->a, sizeof(rp->a), "%.6f", a);
	snprintf(rp->b, sizeof(rp->b), "%.6f", b);
	snprintf(rp->lo, sizeof(rp->lo), "%d", lo);
	snprintf(rp->hi, sizeof(rp->hi), "%d", hi);
	rp->p[0] = rp->a;
	rp->p[1] = rp->b;
	rp->p[2] = rp->lo;
	rp->p[3] = rp->hi;
	return rp->p;
}

/* The raw read's parameters: the blocks that hold series [lo, hi). */
static const char *const *
raw_params(struct read_params *rp, double a, double b, int32_t lo, int32_t hi)
{
	return read_params(rp, a, b, lo / MET_BLOCK, (hi + MET_BLOCK - 1) / MET_BLOCK);
}

PGresult *
met_read_raw(struct db *db, double a, double b, int32_t lo, int32_t hi)
{
	struct read_params rp;

	return db_exec_stmt_binary(db, &stmt_raw, raw_params(&rp, a, b, lo, hi));
}

int
met_send_raw(struct db *db, double a, double b, int32_t lo, int32_t hi)
{
	struct read_params rp;

	return db_send_stmt(db, &stmt_raw, raw_params(&rp, a, b, lo, hi), 1);
}

PGresult *
met_wait_raw(struct db *db)
{
	PGresult *res = db_wait(db);

	if (res == NULL)
		log_warn("msg=\"charts read failed\" error=\"%s\"", db_error(db));
	return res;
}

PGresult *
met_read_windows(struct db *db, int t, double a, double b, int32_t lo, int32_t hi)
{
	double win = met_tiers[t].win;
	struct read_params rp;

	/* The first window that can hold a bucket at or after a. */
	return db_exec_stmt_binary(db, &stmt_windows[t],
	    read_params(&rp, floor(a / win) * win, b, lo, hi));
}

struct rowref {
	double ts;
	int row;
};

static int
cmp_rowref(const void *a, const void *b)
{
	double x = ((const struct rowref *)a)->ts, y = ((const struct rowref *)b)->ts;

	return (x > y) - (x < y);
}

int *
met_raw_order(PGresult *res)
{
	int nrows = PQntuples(res), sorted = 1;
	struct rowref *ref = xmalloc(sizeof(*ref) * (size_t)(nrows ? nrows : 1));
	int *order = xmalloc(sizeof(*order) * (size_t)(nrows ? nrows : 1));

	for (int i = 0; i < nrows; i++) {
		ref[i].ts = met_ts_from_pg(PQgetvalue(res, i, 1));
		ref[i].row = i;
		sorted &= i == 0 || ref[i].ts >= ref[i - 1].ts;
	}
	if (!sorted)
		qsort(ref, (size_t)nrows, sizeof(*ref), cmp_rowref);
	for (int i = 0; i < nrows; i++)
		order[i] = ref[i].row;
	free(ref);
	return order;
}

static struct met_acc *
grid_cell(const struct met_grid *g, int32_t s, int k)
{
	return &g->cells[(size_t)(s - g->lo) * g->series_stride + (size_t)k * g->bucket_stride];
}

void
met_fold_raw(PGresult *res, const struct met_grid *g)
{
	int *order = met_raw_order(res);
	double vals[MET_BLOCK];

	for (int i = 0; i < PQntuples(res); i++) {
		int32_t blk;
		double ts;
		int n = met_raw_row(res, order[i], &blk, &ts, vals);
		int k = (int)floor((ts - g->origin) / g->step);
		if (k < 0 || k >= g->nb)
			continue;
		for (int j = 0; j < n; j++) {
			int32_t s = blk * MET_BLOCK + j;
			if (!isnan(vals[j]) && s >= g->lo && s < g->hi)
				met_acc_add(grid_cell(g, s, k), vals[j]);
		}
	}
	free(order);
}

void
met_fold_windows(PGresult *res, int t, double a, double b, const struct met_grid *g)
{
	double bucket = met_tiers[t].bucket;

	for (int row = 0; row < PQntuples(res); row++) {
		struct met_window mw;
		if (met_window_row(res, row, &mw) != 0 || mw.series < g->lo || mw.series >= g->hi)
			continue;
		for (int j = 0; j < mw.nb; j++) {
			double bt = mw.t0 + (double)j * bucket;
			int k = (int)floor((bt - g->origin) / g->step);
			if (mw.n[j] <= 0 || bt < a || bt >= b || k < 0 || k >= g->nb)
				continue;
			met_acc_merge(grid_cell(g, mw.series, k), mw.n[j], mw.avg[j], mw.min[j],
			    mw.max[j]);
		}
	}
}

int
met_fold(struct db *db, int t, double a, double b, const struct met_grid *g)
{
	PGresult *res = t == MET_RAW ? met_read_raw(db, a, b, g->lo, g->hi) :
	    met_read_windows(db, t, a, b, g->lo, g->hi);

	if (res == NULL)
		return -1;
	if (t == MET_RAW)
		met_fold_raw(res, g);
	else
		met_fold_windows(res, t, a, b, g);
	PQclear(res);
	return 0;
}

static void
put32(struct strbuf *sb, uint32_t v)
{
	v = htonl(v);
	sb_append(sb, &v, 4);
}

static void
put64(struct strbuf *sb, uint64_t v)
{
	put32(sb, (uint32_t)(v >> 32));
	put32(sb, (uint32_t)v);
}

void
met_copy_header(struct strbuf *sb)
{
	static const char sig[11] = "PGCOPY\n\377\r\n";	/* with its NUL: 11 bytes */

	sb_append(sb, sig, 11);
	put32(sb, 0);		/* flags */
	put32(sb, 0);		/* header extension length */
}

void
met_copy_row(struct strbuf *sb, int16_t nfields)
{
	uint16_t v = htons((uint16_t)nfields);

	sb_append(sb, &v, 2);
}

void
met_copy_i4(struct strbuf *sb, int32_t v)
{
	put32(sb, 4);
	put32(sb, (uint32_t)v);
}

void
met_copy_ts(struct strbuf *sb, double unix_s)
{
	put32(sb, 8);
	put64(sb, (uint64_t)met_ts_to_pg(unix_s));
}

/* Writes into sb's reserved space: the arrays are the bulk of a rollup's COPY. */
static inline unsigned char *
w32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return p + 4;
}

static unsigned char *
array_head(struct strbuf *sb, size_t len, int nulls, uint32_t oid, int n)
{
	unsigned char *p;

	sb_reserve(sb, len + 4);
	p = (unsigned char *)sb->data + sb->len;
	p = w32(p, (uint32_t)len);
	p = w32(p, 1);
	p = w32(p, (uint32_t)nulls);
	p = w32(p, oid);
	p = w32(p, (uint32_t)n);
	return w32(p, 1);
}

void
met_copy_f8_array(struct strbuf *sb, const double *v, int n)
{
	int nulls = 0;
	size_t len = 20;
	unsigned char *p;

	for (int i = 0; i < n; i++) {
		if (isnan(v[i]))
			nulls = 1, len += 4;
		else
			len += 12;
	}
	p = array_head(sb, len, nulls, OID_FLOAT8, n);
	for (int i = 0; i < n; i++) {
		uint64_t u;
		if (isnan(v[i])) {
			p = w32(p, 0xffffffffu);
			continue;
		}
		memcpy(&u, &v[i], 8);
		p = w32(p, 8);
		p = w32(p, (uint32_t)(u >> 32));
		p = w32(p, (uint32_t)u);
	}
	sb->len += len + 4;
	sb->data[sb->len] = '\0';
}

void
met_copy_f8_block(struct strbuf *sb, const double *v, int n)
{
	static const double missing = NAN;
	unsigned char *p;

	sb_reserve(sb, 4 + 8 * (size_t)n);
	p = w32((unsigned char *)sb->data + sb->len, 8 * (uint32_t)n);
	for (int i = 0; i < n; i++) {
		uint64_t u;
		/* One NaN for every missing sample: the SQL side tests the exponent only. */
		memcpy(&u, isnan(v[i]) ? &missing : &v[i], 8);
		p = w32(p, (uint32_t)(u >> 32));
		p = w32(p, (uint32_t)u);
	}
	sb->len += 4 + 8 * (size_t)n;
	sb->data[sb->len] = '\0';
}

void
met_copy_i4_array(struct strbuf *sb, const int32_t *v, int n)
{
	size_t len = 20 + 8 * (size_t)n;
	unsigned char *p = array_head(sb, len, 0, OID_INT4, n);

	for (int i = 0; i < n; i++) {
		p = w32(p, 4);
		p = w32(p, (uint32_t)v[i]);
	}
	sb->len += len + 4;
	sb->data[sb->len] = '\0';
}

void
met_copy_trailer(struct strbuf *sb)
{
	uint16_t v = 0xffff;

	sb_append(sb, &v, 2);
}

int
met_lttb(const double *t, const double *v, int n, int max, int *keep)
{
	int k = 0, a = 0;
	double every;

	if (n <= max || max < 3) {
		int m = n <= max ? n : max;
		for (int i = 0; i < m; i++)
			keep[i] = n <= max ? i : (int)((double)i * (n - 1) / (m > 1 ? m - 1 : 1));
		return m;
	}
	every = (double)(n - 2) / (max - 2);
	keep[k++] = 0;
	for (int i = 0; i < max - 2; i++) {
		int lo = (int)(i * every) + 1, hi = (int)((i + 1) * every) + 1;
		int nlo = hi, nhi = (int)((i + 2) * every) + 1, best = lo;
		double at = 0, av = 0, area = -1;

		if (hi > n - 1)
			hi = n - 1;
		if (nhi > n)
			nhi = n;
		/* The average of the next bucket (the last point for the last bucket). */
		if (nlo >= nhi) {
			at = t[n - 1];
			av = v[n - 1];
		} else {
			for (int j = nlo; j < nhi; j++)
				at += t[j], av += v[j];
			at /= nhi - nlo;
			av /= nhi - nlo;
		}
		for (int j = lo; j < hi; j++) {
			double ar = fabs((t[a] - at) * (v[j] - v[a]) - (t[a] - t[j]) * (av - v[a]));
			if (ar > area)
				area = ar, best = j;
		}
		keep[k++] = best;
		a = best;
	}
	keep[k++] = n - 1;
	return k;
}
