/* metrics_read.c: see metrics_read.h. */
#include "config.h"

#include "metrics_read.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "util.h"

#define RAW_CHUNK 1000		/* series per raw read */

/* A chart read: the points of the wanted series among 0..maxs over the window (a, b]; raw
 * samples as they are, the buckets of a rolled-up tier thinned to max_points. It is opened
 * inside the caller's REPEATABLE READ transaction (it reads how far each tier is rolled up),
 * and met_reader_next reads a chunk of series at a time. On the raw tier the next chunk's
 * rows come while the caller writes this one's (met_reader_pump keeps them coming), and
 * met_reader_close waits for a read still out, as must be done before the transaction ends.
 * A history reads its series' buckets, not thinned, in a snapshot of its own. */
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

static void met_reader_close(struct met_reader *rd);

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

static struct met_reader *
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

static void
met_reader_free(void *p)
{
	struct met_reader *rd = p;

	if (rd == NULL)
		return;
	reader_release(rd);
	free(rd);
}

static void
met_reader_want(struct met_reader *rd, int32_t s)
{
	if (s >= 0 && s <= rd->maxs)
		rd->owner[s] = 0;
}

static int
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

static void
met_reader_pump(struct met_reader *rd)
{
	if (rd->pending)
		(void)db_consume(rd->db);
}

static const struct met_points *
met_reader_points(const struct met_reader *rd, int32_t s)
{
	static const struct met_points none;

	return s >= 0 && s <= rd->maxs ? &rd->pts[s] : &none;
}

static void
met_reader_forget(struct met_reader *rd, int32_t s)
{
	if (s < 0 || s > rd->maxs)
		return;
	free(rd->pts[s].p);
	memset(&rd->pts[s], 0, sizeof(rd->pts[s]));
}

static void
met_reader_close(struct met_reader *rd)
{
	if (rd && rd->pending) {
		PQclear(met_wait_raw(rd->db));
		rd->pending = 0;
	}
}

/* --- the resources charts show ---------------------------------------------------------- */

const char *const met_chart_metrics[MET_CHART_METRICS] = {"cpu", "memory", "disk", "diskread",
	"diskwrite", "netin", "netout"};

struct met_charts {
	struct db *db;
	struct met_reader *rd;
	PGresult *resources, *series;	/* item ids point into resources */
	struct met_chart_item *items;
	const struct met_chart_item **order;	/* by last series */
	int n, next;
};

static const struct db_stmt stmt_chart_resources = {
	"charts_resources",
	"WITH m AS (SELECT enabled FROM pulse.mock_mode WHERE id = 1) "
	"SELECT * FROM ("
	"SELECT g.id, 0 AS kind, g.type = 'qemu', coalesce((g.doc->>'cpu')::float8, 0) * 100, "
	"  coalesce((g.doc->'memory'->>'usage')::float8, 0), "
	"  coalesce((g.doc->'disk'->>'usage')::float8, 0), g.disk_read, g.disk_write, g.net_in, "
	"  g.net_out FROM pulse.guests g, m WHERE g.mock = m.enabled "
	"UNION ALL "
	"SELECT n.id, 1, false, coalesce((n.doc->>'cpu')::float8, 0) * 100, "
	"  coalesce((n.doc->'memory'->>'usage')::float8, 0), "
	"  coalesce((n.doc->'disk'->>'usage')::float8, 0), 0, 0, 0, 0 "
	"  FROM pulse.pve_nodes n, m WHERE n.mock = m.enabled "
	"UNION ALL "
	"SELECT s.id, 2, false, CASE WHEN s.total > 0 THEN s.used * 100.0 / s.total ELSE 0 END, "
	"  0, 0, 0, 0, 0, 0 FROM pulse.storage s, m WHERE s.mock = m.enabled "
	"UNION ALL "
	"SELECT c.id, 3, false, c.cpu_percent, c.memory_percent, "
	"  CASE WHEN (c.doc->>'rootFilesystemBytes')::float8 > 0 THEN least(100, "
	"  coalesce((c.doc->>'writableLayerBytes')::float8, 0) * 100 / "
	"  (c.doc->>'rootFilesystemBytes')::float8) ELSE 0 END, 0, 0, 0, 0 "
	"  FROM pulse.docker_containers c JOIN pulse.docker_hosts h ON h.id = c.host_id, m "
	"  WHERE c.mock = m.enabled AND NOT h.hidden "
	"UNION ALL "
	"SELECT h.id, 4, false, h.cpu_usage, h.memory_usage, coalesce(h.disk_usage, 0), "
	"  0, 0, 0, 0 FROM pulse.docker_hosts h, m WHERE h.mock = m.enabled AND NOT h.hidden "
	") x ORDER BY id COLLATE \"C\", kind",
	0,
};

static const struct db_stmt stmt_chart_series = {
	"charts_series",
	"SELECT id, resource_type, resource_id, metric FROM pulse.metric_series "
	"WHERE resource_type IN ('vm', 'container', 'node', 'storage', 'dockerContainer', "
	"'dockerHost') "
	"ORDER BY resource_id COLLATE \"C\"",
	0,
};

/* The resources of the state, in the order of stmt_chart_resources, with no series yet. */
static void
chart_items(struct met_charts *ch)
{
	PGresult *rows = ch->resources;

	ch->n = PQntuples(rows);
	ch->items = xcalloc((size_t)(ch->n ? ch->n : 1), sizeof(*ch->items));
	for (int i = 0; i < ch->n; i++) {
		struct met_chart_item *it = &ch->items[i];
		it->id = PQgetvalue(rows, i, 0);
		it->kind = (enum met_chart_kind)db_value_int32(rows, i, 1);
		it->vm = PQgetvalue(rows, i, 2)[0] == 't';
		it->nmetrics = it->kind == MET_CHART_GUEST ? 7 : it->kind == MET_CHART_STORAGE ? 1 : 3;
		it->last = -1;
		for (int m = 0; m < MET_CHART_METRICS; m++) {
			it->cur[m] = strtod(PQgetvalue(rows, i, 3 + m), NULL);
			it->series[m] = -1;
		}
	}
}

/* Matches series to the resources (both sorted by id, bytewise), and wants those read. */
static void
chart_match(struct met_charts *ch, int32_t maxs)
{
	PGresult *series = ch->series;
	int i = 0;

	for (int row = 0; row < PQntuples(series); row++) {
		const char *id = PQgetvalue(series, row, 2), *type = PQgetvalue(series, row, 1);
		const char *metric = PQgetvalue(series, row, 3);
		int32_t s = db_value_int32(series, row, 0);
		enum met_chart_kind kind = strcmp(type, "node") == 0 ? MET_CHART_NODE :
		    strcmp(type, "storage") == 0 ? MET_CHART_STORAGE :
		    strcmp(type, "dockerContainer") == 0 ? MET_CHART_DOCKER :
		    strcmp(type, "dockerHost") == 0 ? MET_CHART_DOCKER_HOST : MET_CHART_GUEST;
		while (i < ch->n && strcmp(ch->items[i].id, id) < 0)
			i++;
		for (int j = i; j < ch->n && strcmp(ch->items[j].id, id) == 0; j++) {
			struct met_chart_item *it = &ch->items[j];
			if (it->kind != kind || s < 0 || s > maxs)
				continue;
			for (int m = 0; m < it->nmetrics; m++) {
				const char *want = kind == MET_CHART_STORAGE ? "usage" :
				    met_chart_metrics[m];
				if (strcmp(metric, want) == 0) {
					it->series[m] = s;
					met_reader_want(ch->rd, s);
				}
			}
		}
	}
}

static int
cmp_last(const void *a, const void *b)
{
	int32_t x = (*(const struct met_chart_item *const *)a)->last;
	int32_t y = (*(const struct met_chart_item *const *)b)->last;

	return (x > y) - (x < y);
}

/* The resources in the order their last series is read: each goes out once its series are
 * all in. */
static void
chart_order(struct met_charts *ch)
{
	ch->order = xcalloc((size_t)(ch->n ? ch->n : 1), sizeof(*ch->order));
	for (int i = 0; i < ch->n; i++) {
		struct met_chart_item *it = &ch->items[i];
		for (int m = 0; m < MET_CHART_METRICS; m++)
			if (it->series[m] > it->last)
				it->last = it->series[m];
		ch->order[i] = it;
	}
	qsort(ch->order, (size_t)ch->n, sizeof(*ch->order), cmp_last);
}

struct met_charts *
met_charts_open(struct db *db, double range, double now, int max_points)
{
	struct met_charts *ch = xcalloc(1, sizeof(*ch));
	int tier = met_tier_for(db, range);
	int32_t maxs = -1;

	ch->db = db;
	/* One snapshot for everything read: a rollup committing meanwhile is not seen twice. */
	if (tier < 0 || db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") != 0)
		goto err;
	ch->resources = db_exec_stmt(db, &stmt_chart_resources, NULL);
	ch->series = ch->resources ? db_exec_stmt(db, &stmt_chart_series, NULL) : NULL;
	if (ch->series == NULL)
		goto err;
	for (int i = 0; i < PQntuples(ch->series); i++) {
		int32_t s = db_value_int32(ch->series, i, 0);
		if (s > maxs)
			maxs = s;
	}
	ch->rd = met_reader_open(db, tier, now - range, now + 1, maxs, max_points);
	if (ch->rd == NULL)
		goto err;
	chart_items(ch);
	chart_match(ch, maxs);
	chart_order(ch);
	return ch;
err:
	db_rollback(db);
	met_charts_free(ch);
	return NULL;
}

void
met_charts_free(void *p)
{
	struct met_charts *ch = p;

	if (ch == NULL)
		return;
	met_reader_free(ch->rd);
	PQclear(ch->resources);
	PQclear(ch->series);
	free(ch->items);
	free(ch->order);
	free(ch);
}

const struct met_chart_item *
met_charts_items(const struct met_charts *ch, int *n)
{
	*n = ch->n;
	return ch->items;
}

int
met_charts_next(struct met_charts *ch, const struct met_chart_item *const **ready, int *n)
{
	int32_t below;
	int rc = met_reader_next(ch->rd, &below), from = ch->next;

	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (ch->next == ch->n)
			return 0;
		below = INT32_MAX;	/* the rest: resources without series */
	}
	while (ch->next < ch->n && ch->order[ch->next]->last < below)
		ch->next++;
	*ready = ch->order + from;
	*n = ch->next - from;
	return 1;
}

const struct met_points *
met_charts_points(const struct met_charts *ch, int32_t s)
{
	return met_reader_points(ch->rd, s);
}

void
met_charts_forget(struct met_charts *ch, const struct met_chart_item *it)
{
	for (int m = 0; m < it->nmetrics; m++)
		met_reader_forget(ch->rd, it->series[m]);
}

void
met_charts_pump(struct met_charts *ch)
{
	met_reader_pump(ch->rd);
}

void
met_charts_end(struct met_charts *ch, int ok)
{
	met_reader_close(ch->rd);
	if (ok)
		(void)db_exec(ch->db, "COMMIT");
	else
		db_rollback(ch->db);
}

/* --- history ----------------------------------------------------------------------------- */

/* The buckets of series ids[0..n) over (a, b] in tier into out[0..n) (by index; each
 * out[i].b is the caller's to free, none is left on failure), in a snapshot of its own.
 * Returns 0, or -1 on a database error. */
static int
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

/* --- storage charts and history: the series of resources ----------------------------------- */

static const struct db_stmt stmt_storage_series = {
	"storage_charts_series",
	"WITH m AS (SELECT enabled FROM pulse.mock_mode WHERE id = 1) "
	"SELECT s.id, x.id, x.metric FROM pulse.storage s CROSS JOIN m "
	"LEFT JOIN pulse.metric_series x ON x.resource_type = 'storage' AND x.resource_id = s.id "
	"  AND x.metric IN ('usage', 'used', 'total', 'avail') "
	"WHERE s.mock = m.enabled ORDER BY s.id COLLATE \"C\", x.id",
	0,
};

#define STORAGE_SQL(t) \
	"SELECT series, extract(epoch FROM time), avg, min, max, samples FROM pulse.metrics_" t \
	" WHERE series = ANY($1::int[]) AND time > to_timestamp($2) ORDER BY series, time"

static const struct db_stmt stmt_storage_points[MET_NTIERS] = {
	{"storage_charts_raw", STORAGE_SQL("raw"), 2},
	{"storage_charts_minute", STORAGE_SQL("minute"), 2},
	{"storage_charts_hour", STORAGE_SQL("hour"), 2},
	{"storage_charts_day", STORAGE_SQL("day"), 2},
};

int
met_read_storage(struct db *db, double range, double now, PGresult **list, PGresult **points)
{
	struct strbuf ids = {0};
	char since[32];
	int tier;

	*points = NULL;
	*list = db_exec_stmt(db, &stmt_storage_series, NULL);
	if (*list == NULL || (tier = met_tier_for(db, range)) < 0)
		goto err;
	sb_puts(&ids, "{");
	for (int i = 0, k = 0; i < PQntuples(*list); i++)
		if (!PQgetisnull(*list, i, 1))
			sb_printf(&ids, "%s%s", k++ ? "," : "", PQgetvalue(*list, i, 1));
	sb_puts(&ids, "}");
	snprintf(since, sizeof(since), "%.3f", now - range);
	{
		const char *p[2] = {ids.data, since};
		*points = db_exec_stmt(db, &stmt_storage_points[tier], p);
	}
	sb_free(&ids);
	if (*points != NULL)
		return 0;
err:
	PQclear(*list);
	*list = NULL;
	return -1;
}

static const struct db_stmt stmt_series_of = {
	"metrics_series_of",
	"SELECT id, metric FROM pulse.metric_series "
	"WHERE resource_type = ANY($1::text[]) AND resource_id = $2 AND ($3 = '' OR metric = $3) "
	"ORDER BY metric",
	3,
};

/* Resources of the live state, for telling an unknown id from one without history. */
static const struct db_stmt stmt_resource_known = {
	"metrics_resource_known",
	"SELECT 1 FROM pulse.guests WHERE id = $1 UNION ALL "
	"SELECT 1 FROM pulse.pve_nodes WHERE id = $1 UNION ALL "
	"SELECT 1 FROM pulse.storage WHERE id = $1 UNION ALL "
	"SELECT 1 FROM pulse.metric_series WHERE resource_id = $1 LIMIT 1",
	1,
};

static const char *const known_metrics[] = {"cpu", "memory", "disk", "diskread", "diskwrite",
	"netin", "netout", "usage", "used", "total", "avail"};

const char *
met_stored_types(const char *t)
{
	static const struct { const char *asked, *stored; } map[] = {
		{"node", "{node}"}, {"vm", "{vm}"}, {"container", "{container}"},
		{"guest", "{vm,container}"}, {"storage", "{storage}"}, {"dockerHost", "{dockerHost}"},
		{"dockerContainer", "{dockerContainer}"}, {"docker", "{dockerContainer}"},
		{"pbsDatastore", "{pbsDatastore}"},
		{"host", "{host}"},	/* host agents (our addition) */
	};

	for (size_t i = 0; i < ARRAY_LEN(map); i++)
		if (strcmp(t, map[i].asked) == 0)
			return map[i].stored;
	return NULL;
}

int
met_known_metric(const char *metric)
{
	for (size_t i = 0; i < ARRAY_LEN(known_metrics); i++)
		if (strcmp(metric, known_metrics[i]) == 0)
			return 1;
	return 0;
}

int
met_history_open(struct db *db, const char *types, const char *id, const char *metric,
    double range, double now, struct met_history *h)
{
	return met_history_window(db, types, id, metric, now - range, now, 0, h);
}

static const struct db_stmt stmt_raw_rows = {
	"metrics_raw_rows",
	"SELECT blk, count(*) FROM pulse.metric_raw WHERE blk = ANY($1::int[]) "
	"AND ts > to_timestamp($2) AND ts <= to_timestamp($3) GROUP BY blk",
	3,
};

/* At most how many points h's series have over (a, b] in h->tier, into h->bound; -1 on a
 * database error. */
static int
history_bound(struct db *db, double a, double b, struct met_history *h)
{
	struct strbuf blks = {0};
	char as[32], bs[32];
	PGresult *res;

	if (h->tier != MET_RAW) {
		h->bound = (long)h->n * ((long)ceil((b - a) / met_tiers[h->tier].bucket) + 1);
		return 0;
	}
	sb_puts(&blks, "{");
	for (int i = 0; i < h->n; i++)
		sb_printf(&blks, "%s%d", i ? "," : "", h->ids[i] / MET_BLOCK);
	sb_puts(&blks, "}");
	snprintf(as, sizeof(as), "%.6f", a);
	snprintf(bs, sizeof(bs), "%.6f", b);
	{
		const char *p[3] = {blks.data, as, bs};
		res = db_exec_stmt(db, &stmt_raw_rows, p);
	}
	sb_free(&blks);
	if (res == NULL)
		return -1;
	/* A block's row holds a sample of each of its series, or none. */
	h->bound = 0;
	for (int r = 0; r < PQntuples(res); r++) {
		long rows = strtol(PQgetvalue(res, r, 1), NULL, 10);
		int32_t blk = (int32_t)strtol(PQgetvalue(res, r, 0), NULL, 10);
		for (int i = 0; i < h->n; i++)
			if (h->ids[i] / MET_BLOCK == blk)
				h->bound += rows;
	}
	PQclear(res);
	return 0;
}

int
met_history_window(struct db *db, const char *types, const char *id, const char *metric,
    double a, double b, long limit, struct met_history *h)
{
	const char *p[3] = {types, id, metric};

	memset(h, 0, sizeof(*h));
	h->tier = -1;
	h->known = 1;
	if ((h->series = db_exec_stmt(db, &stmt_series_of, p)) == NULL)
		return -1;
	h->n = PQntuples(h->series) < MET_HISTORY_MAX_SERIES ? PQntuples(h->series) :
	    MET_HISTORY_MAX_SERIES;
	if (h->n == 0) {
		PGresult *known = db_exec_stmt(db, &stmt_resource_known, p + 1);
		if (known == NULL)
			return -1;
		h->known = PQntuples(known) > 0;
		PQclear(known);
		if (!h->known)
			return 0;
	}
	for (int i = 0; i < h->n; i++)
		h->ids[i] = db_value_int32(h->series, i, 0);
	if ((h->tier = met_tier_for(db, b - a)) < 0)
		return -1;
	if (h->n == 0)
		return 0;
	if (limit > 0) {
		if (history_bound(db, a, b, h) != 0)
			return -1;
		if (h->bound > limit)
			return 0;
	}
	h->buckets = xcalloc((size_t)h->n, sizeof(*h->buckets));
	return met_read_history(db, h->tier, h->ids, h->n, a, b, h->buckets);
}

const char *
met_history_metric(const struct met_history *h, int i)
{
	return PQgetvalue(h->series, i, 1);
}

void
met_history_free(void *p)
{
	struct met_history *h = p;

	PQclear(h->series);
	for (int i = 0; h->buckets && i < h->n; i++)
		free(h->buckets[i].b);
	free(h->buckets);
}
