/* metrics_read.c: see metrics_read.h. */
#include "config.h"

#include "metrics_read.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "util.h"

#define RAW_CHUNK 1000		/* series per raw read */

struct met_reader {
	struct db *db;
	int tier;
	double a, b;		/* the window: (a, b] */
	double done[MET_NTIERS];	/* how far each tier is rolled up, NAN: not at all */
	int32_t maxs;
	int max_points;		/* per rolled-up series; 0: not thinned */
	int32_t *owner;		/* by series id: -1 not wanted (a history: its index in ids) */
	struct met_points *pts;	/* by series id */
	struct met_buckets *hb;	/* history: buckets by index among the wanted, not points */
	int32_t next, chunk;	/* met_reader_next: the next chunk's first series, its size */
	int pipelined;		/* raw chunks: the next one's query runs while this one is used */
	int pending;		/* a raw query is out */
};

/* --- pure parts: the tier, the plan, the thinning ---------------------------------------- */

int
met_tier_pick(const double *retention, int n, double range)
{
	for (int i = 0; i < n && i < MET_DAY; i++)
		if (range <= retention[i])
			return i;
	return MET_DAY;
}

int
met_plan(const double done[MET_NTIERS], int t, double a, double b,
    struct met_span spans[MET_NTIERS])
{
	int n = 0;

	for (; t > MET_RAW; t--) {
		double rolled = isnan(done[t]) ? a : done[t], upto = rolled < b ? rolled : b;
		if (upto > a)
			spans[n++] = (struct met_span){t, a, upto};
		if (rolled >= b)
			return n;
		if (rolled > a)
			a = rolled;
	}
	spans[n++] = (struct met_span){MET_RAW, a, b};
	return n;
}

static void
points_add(struct met_points *sp, double t, double v)
{
	if (sp->n == sp->cap) {
		sp->cap = sp->cap ? sp->cap * 2 : 64;
		sp->p = xrealloc(sp->p, sizeof(*sp->p) * (size_t)sp->cap);
	}
	sp->p[sp->n].t = t;
	sp->p[sp->n].v = v;
	sp->n++;
}

static void
buckets_add(struct met_buckets *sb, double t, const struct met_acc *a)
{
	if (sb->n == sb->cap) {
		sb->cap = sb->cap ? sb->cap * 2 : 64;
		sb->b = xrealloc(sb->b, sizeof(*sb->b) * (size_t)sb->cap);
	}
	sb->b[sb->n].t = t;
	sb->b[sb->n++].a = *a;
}

void
met_thin(const struct met_acc *row, int nb, double origin, double step, int max,
    struct met_points *out)
{
	double *t = xmalloc(sizeof(double) * (size_t)(nb > 0 ? nb : 1));
	double *v = xmalloc(sizeof(double) * (size_t)(nb > 0 ? nb : 1));
	int *keep = xmalloc(sizeof(int) * (size_t)(nb > 0 ? nb : 1));
	int n = 0, m;

	for (int k = 0; k < nb; k++) {
		if (row[k].n == 0)
			continue;
		t[n] = origin + k * step;
		v[n++] = met_acc_avg(&row[k]);
	}
	m = met_lttb(t, v, n, max, keep);
	for (int i = 0; i < m; i++)
		points_add(out, t[keep[i]], v[keep[i]]);
	free(t);
	free(v);
	free(keep);
}

/* --- the database parts ------------------------------------------------------------------ */

static const struct db_stmt stmt_retention = {
	"metrics_retention_read",
	"SELECT extract(epoch FROM retention) FROM pulse.metric_tiers ORDER BY ord",
	0,
};

int
met_tier_for(struct db *db, double range)
{
	PGresult *res = db_exec_stmt(db, &stmt_retention, NULL);
	double retention[MET_NTIERS];
	int n = 0;

	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res) && n < MET_NTIERS; i++)
		retention[n++] = strtod(PQgetvalue(res, i, 0), NULL);
	PQclear(res);
	return met_tier_pick(retention, n, range);
}

static const struct db_stmt stmt_done = {
	"charts_done",
	"SELECT t.ord, extract(epoch FROM r.done_until) FROM pulse.metric_rollup r "
	"JOIN pulse.metric_tiers t USING (tier)",
	0,
};

/* A reader of series 0..maxs with nothing wanted yet; -1 on a database error. */
static int
reader_init(struct met_reader *rd, struct db *db, int tier, double a, double b, int32_t maxs)
{
	PGresult *done = db_exec_stmt(db, &stmt_done, NULL);
	size_t nseries = (size_t)(maxs + 1 > 0 ? maxs + 1 : 1);

	if (done == NULL)
		return -1;
	rd->db = db;
	rd->tier = tier;
	rd->a = a;
	rd->b = b;
	rd->maxs = maxs;
	for (int t = 0; t < MET_NTIERS; t++)
		rd->done[t] = NAN;
	for (int i = 0; i < PQntuples(done); i++) {
		int64_t t = -1;
		(void)parse_int64(PQgetvalue(done, i, 0), 0, MET_NTIERS, &t);
		if (t > 0 && t < MET_NTIERS && !PQgetisnull(done, i, 1))
			rd->done[t] = strtod(PQgetvalue(done, i, 1), NULL);
	}
	PQclear(done);
	rd->owner = xmalloc(sizeof(*rd->owner) * nseries);
	for (size_t s = 0; s < nseries; s++)
		rd->owner[s] = -1;
	return 0;
}

static void
reader_release(struct met_reader *rd)
{
	met_reader_close(rd);
	if (rd->pts)
		for (int32_t s = 0; s <= rd->maxs; s++)
			free(rd->pts[s].p);
	free(rd->pts);
	free(rd->owner);
}

/* The raw samples of wanted series [lo, hi) as points (buckets of one for a history). */
static int
read_raw(struct met_reader *rd, int32_t lo, int32_t hi)
{
	/* The window is (a, b] here, as charts have always read raw samples: in the whole
	 * microseconds they are stored in, [a + 1 us, b + 1 us). */
	double a = rd->a + 1e-6, b = rd->b + 1e-6, vals[MET_BLOCK];
	PGresult *res;
	int *order;

	if (rd->pipelined) {
		if (!rd->pending && met_send_raw(rd->db, a, b, lo, hi) != 0)
			return -1;
		res = met_wait_raw(rd->db);
		rd->pending = 0;
		if (res == NULL)
			return -1;
		/* The next chunk's query now: its rows come while this chunk is used. */
		if (hi <= rd->maxs) {
			if (met_send_raw(rd->db, a, b, hi, hi + (hi - lo)) != 0) {
				PQclear(res);
				return -1;
			}
			rd->pending = 1;
		}
	} else if ((res = met_read_raw(rd->db, a, b, lo, hi)) == NULL) {
		return -1;
	}
	/* Rows in time order, so that points are appended in order: one sort of the rows, not
	 * one per series. */
	order = met_raw_order(res);
	for (int i = 0; i < PQntuples(res); i++) {
		int32_t blk;
		double ts;
		int n = met_raw_row(res, order[i], &blk, &ts, vals);
		for (int j = 0; j < n; j++) {
			int32_t s = blk * MET_BLOCK + j;
			if (isnan(vals[j]) || s < lo || s >= hi || s > rd->maxs || rd->owner[s] < 0)
				continue;
			if (rd->hb)
				buckets_add(&rd->hb[rd->owner[s]], ts,
				    &(struct met_acc){1, vals[j], vals[j], vals[j]});
			else
				points_add(&rd->pts[s], ts, vals[j]);
		}
	}
	free(order);
	PQclear(res);
	return 0;
}

/* The points of wanted series [lo, hi): raw samples as they are, the buckets of a rolled-up
 * tier thinned (or, for a history, as buckets). */
static int
read_chunk(struct met_reader *rd, int32_t lo, int32_t hi)
{
	struct met_span spans[MET_NTIERS];
	struct met_grid g;
	int nspans;

	if (rd->tier == MET_RAW)
		return read_raw(rd, lo, hi);
	g.step = met_tiers[rd->tier].bucket;
	g.origin = floor(rd->a / g.step) * g.step;
	g.nb = (int)ceil((rd->b - g.origin) / g.step) + 1;
	g.lo = lo;
	g.hi = hi;
	g.series_stride = (size_t)g.nb;
	g.bucket_stride = 1;
	/* Not xcalloc: a history's grid spans the ids of its series, which the data decides; a
	 * span too large fails the request, not the responder. */
	g.cells = calloc((size_t)(hi - lo) * (size_t)g.nb, sizeof(*g.cells));
	if (g.cells == NULL)
		return -1;
	nspans = met_plan(rd->done, rd->tier, g.origin, rd->b, spans);
	for (int i = 0; i < nspans; i++) {
		if (met_fold(rd->db, spans[i].tier, spans[i].a, spans[i].b, &g) != 0) {
			free(g.cells);
			return -1;
		}
	}
	for (int32_t s = lo; s < hi && s <= rd->maxs; s++) {
		const struct met_acc *row = &g.cells[(size_t)(s - lo) * g.series_stride];
		if (rd->owner[s] < 0)
			continue;
		if (rd->hb == NULL) {
			met_thin(row, g.nb, g.origin, g.step, rd->max_points, &rd->pts[s]);
			continue;
		}
		for (int k = 0; k < g.nb; k++)
			if (row[k].n > 0)
				buckets_add(&rd->hb[rd->owner[s]], g.origin + k * g.step, &row[k]);
	}
	free(g.cells);
	return 0;
}

/* --- charts ------------------------------------------------------------------------------ */

struct met_reader *
met_reader_open(struct db *db, int tier, double a, double b, int32_t maxs, int max_points)
{
	struct met_reader *rd = xcalloc(1, sizeof(*rd));

	if (reader_init(rd, db, tier, a, b, maxs) != 0) {
		free(rd);
		return NULL;
	}
	rd->pts = xcalloc((size_t)(maxs + 1 > 0 ? maxs + 1 : 1), sizeof(*rd->pts));
	rd->max_points = max_points;
	rd->chunk = tier == MET_RAW ? RAW_CHUNK : MET_BLOCK;
	rd->pipelined = tier == MET_RAW;
	return rd;
}

void
met_reader_free(void *p)
{
	struct met_reader *rd = p;

	if (rd == NULL)
		return;
	reader_release(rd);
	free(rd);
}

void
met_reader_want(struct met_reader *rd, int32_t s)
{
	if (s >= 0 && s <= rd->maxs)
		rd->owner[s] = 0;
}

int
met_reader_next(struct met_reader *rd, int32_t *below)
{
	int32_t lo = rd->next, hi = lo + rd->chunk;

	if (lo > rd->maxs)
		return 0;
	if (read_chunk(rd, lo, hi) != 0)
		return -1;
	rd->next = hi;
	*below = hi;
	return 1;
}

void
met_reader_pump(struct met_reader *rd)
{
	if (rd->pending)
		(void)db_consume(rd->db);
}

const struct met_points *
met_reader_points(const struct met_reader *rd, int32_t s)
{
	static const struct met_points none;

	return s >= 0 && s <= rd->maxs ? &rd->pts[s] : &none;
}

void
met_reader_forget(struct met_reader *rd, int32_t s)
{
	if (s < 0 || s > rd->maxs)
		return;
	free(rd->pts[s].p);
	memset(&rd->pts[s], 0, sizeof(rd->pts[s]));
}

void
met_reader_close(struct met_reader *rd)
{
	if (rd && rd->pending) {
		PQclear(met_wait_raw(rd->db));
		rd->pending = 0;
	}
}

/* --- history ----------------------------------------------------------------------------- */

int
met_read_history(struct db *db, int tier, const int32_t *ids, int n, double a, double b,
    struct met_buckets *out)
{
	struct met_reader rd;
	int32_t lo = INT32_MAX, hi = 0;
	int rc;

	memset(out, 0, sizeof(*out) * (size_t)(n > 0 ? n : 0));
	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++) {
		if (ids[i] < lo)
			lo = ids[i];
		if (ids[i] + 1 > hi)
			hi = ids[i] + 1;
	}
	memset(&rd, 0, sizeof(rd));
	if (db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") != 0)
		return -1;
	if (reader_init(&rd, db, tier, a, b, hi - 1) != 0) {
		db_rollback(db);
		return -1;
	}
	for (int i = 0; i < n; i++)
		rd.owner[ids[i]] = i;
	rd.hb = out;
	rc = read_chunk(&rd, lo, hi);
	(void)db_exec(db, rc == 0 ? "COMMIT" : "ROLLBACK");
	reader_release(&rd);
	if (rc != 0) {
		for (int i = 0; i < n; i++) {
			free(out[i].b);
			memset(&out[i], 0, sizeof(out[i]));
		}
	}
	return rc;
}
