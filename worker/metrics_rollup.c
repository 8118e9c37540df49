/* metrics_rollup.c: the metrics rollup and retention jobs (singletons).
 *
 * A rolled-up tier (minute, hour, day) is written one window at a time, once the window is
 * complete in the tier below: minute windows (an hour of 1-minute buckets) from raw samples
 * two minutes after the hour ends, hour windows (a day of 1-hour buckets) once the minute
 * tier has the whole day, day windows once the hour tier has it. Each window is written in
 * one transaction that also advances pulse.metric_rollup.done_until, so a window is written
 * once; a window that got late samples (pulse.metric_dirty) is computed again from scratch,
 * replacing what was there. Averages are weighted by sample counts, min and max taken over
 * the source's min and max: nothing is counted twice, nothing is lost. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "util.h"
#include "worker.h"

#define GRACE 120		/* seconds after a raw window ends before it is rolled up */
#define CHUNK_SERIES 4000	/* series aggregated per query */
#define MAX_WINDOWS 96		/* windows per run and tier; the next run goes on */

static const struct db_stmt stmt_lock = {
	"rollup_lock",
	"SELECT extract(epoch FROM done_until) FROM pulse.metric_rollup WHERE tier = $1 "
	"FOR UPDATE",
	1,
};

static const struct db_stmt stmt_max_series = {
	"rollup_max_series",
	"SELECT coalesce(max(id), -1) FROM pulse.metric_series",
	0,
};

static const struct db_stmt stmt_ensure = {
	"rollup_partition_ensure",
	"SELECT pulse.metric_partition_ensure($1, to_timestamp($2))",
	2,
};

static const struct db_stmt stmt_count = {
	"rollup_partition_count",
	"UPDATE pulse.metric_partitions SET samples = greatest(samples + $3, 0) "
	"WHERE tier = $1 AND lo <= to_timestamp($2) AND hi > to_timestamp($2)",
	3,
};

static const struct db_stmt stmt_advance = {
	"rollup_advance",
	"UPDATE pulse.metric_rollup SET done_until = to_timestamp($2), last_run = now(), "
	"last_ms = $3 WHERE tier = $1",
	3,
};

static const struct db_stmt stmt_touch = {
	"rollup_touch",
	"UPDATE pulse.metric_rollup SET last_run = now(), last_ms = $2 WHERE tier = $1",
	2,
};

static const struct db_stmt stmt_undirty = {
	"rollup_undirty",
	"DELETE FROM pulse.metric_dirty WHERE tier = $1 AND t0 = to_timestamp($2)",
	2,
};

static const struct db_stmt stmt_mark_up = {
	"rollup_mark_up",
	"INSERT INTO pulse.metric_dirty (tier, t0) "
	"SELECT $1, date_bin($3::interval, to_timestamp($2), timestamptz 'epoch') "
	"FROM pulse.metric_rollup WHERE tier = $1 AND done_until > to_timestamp($2) "
	"ON CONFLICT DO NOTHING",
	3,
};

static const char *const delete_sql[MET_NTIERS] = {
	NULL,
	"WITH d AS (DELETE FROM pulse.metric_minute WHERE t0 = to_timestamp($1) RETURNING n) "
	"SELECT coalesce(sum((SELECT count(*) FROM unnest(d.n) x WHERE x > 0)), 0) FROM d",
	"WITH d AS (DELETE FROM pulse.metric_hour WHERE t0 = to_timestamp($1) RETURNING n) "
	"SELECT coalesce(sum((SELECT count(*) FROM unnest(d.n) x WHERE x > 0)), 0) FROM d",
	"WITH d AS (DELETE FROM pulse.metric_day WHERE t0 = to_timestamp($1) RETURNING n) "
	"SELECT coalesce(sum((SELECT count(*) FROM unnest(d.n) x WHERE x > 0)), 0) FROM d",
};

static const char *const copy_sql[MET_NTIERS] = {
	NULL,
	"COPY pulse.metric_minute (series, t0, n, avg, min, max) FROM STDIN (FORMAT binary)",
	"COPY pulse.metric_hour (series, t0, n, avg, min, max) FROM STDIN (FORMAT binary)",
	"COPY pulse.metric_day (series, t0, n, avg, min, max) FROM STDIN (FORMAT binary)",
};

/* The rollup's second connection, for reading the tier below while the first one writes.
 * It sees what writers committed before the rollup row was locked, which is all a window
 * can hold (later samples wait for the lock, then mark the window dirty). */
static struct db *reader_db;

static struct db *
reader(void)
{
	if (reader_db == NULL) {
		/* Not "pulse-worker:...": poll.c counts the live workers by that name. */
		reader_db = db_new(conf_str("database_url"), "pulse-rollup", 30.0);
		db_set_timeouts(reader_db, (int)conf_int("db_connect_timeout"),
		    (int)conf_int("db_statement_timeout"));
	}
	return db_ensure(reader_db, 0) == 0 ? reader_db : NULL;
}

static double
query_double(struct worker *w, const struct db_stmt *st, const char *const *params, int *ok)
{
	PGresult *res = db_exec_stmt(w->db, st, params);
	double v = NAN;

	*ok = res != NULL;
	if (res && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		v = strtod(PQgetvalue(res, 0, 0), NULL);
	PQclear(res);
	return v;
}

/* Aggregates series [lo, hi) of tier t's window w0 from the tier below into acc
 * (nbuckets rows of CHUNK_SERIES: the series of one source row sit side by side). Returns 0
 * or -1. */
static int
aggregate_chunk(struct db *rd, int t, double w0, int32_t lo, int32_t hi, struct met_acc *acc)
{
	const struct met_tier_info *ti = &met_tiers[t];
	struct met_grid g = {
		.cells = acc, .lo = lo, .hi = hi, .origin = w0, .step = ti->bucket,
		.nb = ti->nbuckets, .series_stride = 1, .bucket_stride = CHUNK_SERIES,
	};

	return met_fold(rd, t - 1, w0, w0 + ti->win, &g);
}

/* The COPY rows of a chunk's series that have samples. Returns the buckets written. */
static long
chunk_rows(struct strbuf *sb, int t, double w0, int32_t lo, int32_t hi,
    const struct met_acc *acc)
{
	int nb = met_tiers[t].nbuckets;
	int32_t n[64];
	double avg[64], mn[64], mx[64];
	long buckets = 0;

	for (int32_t s = lo; s < hi; s++) {
		int any = 0;
		for (int k = 0; k < nb; k++) {
			const struct met_acc *b = &acc[(size_t)k * CHUNK_SERIES + (size_t)(s - lo)];
			n[k] = b->n;
			if (b->n > 0) {
				any++;
				avg[k] = met_acc_avg(b);
				mn[k] = b->min;
				mx[k] = b->max;
			} else {
				avg[k] = mn[k] = mx[k] = NAN;
			}
		}
		if (!any)
			continue;
		buckets += any;
		met_copy_row(sb, 6);
		met_copy_i4(sb, s);
		met_copy_ts(sb, w0);
		met_copy_i4_array(sb, n, nb);
		met_copy_f8_array(sb, avg, nb);
		met_copy_f8_array(sb, mn, nb);
		met_copy_f8_array(sb, mx, nb);
	}
	return buckets;
}

/* Writes window w0 of tier t in one transaction. advance: only when done_until is w0,
 * which then moves past it; otherwise (a dirty window) the window is replaced. Returns 1
 * when written, 0 when another run got there first, -1 on failure. */
static int
roll_window(struct worker *w, int t, double w0, int advance)
{
	const struct met_tier_info *ti = &met_tiers[t];
	struct met_acc *acc = NULL;
	struct strbuf sb = {0};
	char a[32], b[32], c[32];
	const char *p[3] = {ti->name, a, b};
	double started = clock_monotonic(), done;
	long buckets = 0, old = 0;
	struct db *rd;
	int32_t maxs;
	int ok;

	if (db_begin(w->db) != 0)
		return -1;
	done = query_double(w, &stmt_lock, p, &ok);
	if (!ok)
		goto fail;
	if (advance && done != w0) {
		db_rollback(w->db);
		return 0;
	}
	snprintf(a, sizeof(a), "%.0f", w0);
	if (db_exec_stmt_ok(w->db, &stmt_ensure, p) != 0)
		goto fail;
	if (!advance) {
		const char *dp[1] = {a};
		PGresult *res = db_exec_params(w->db, delete_sql[t], 1, dp);
		int64_t deleted = 0;
		if (res == NULL)
			goto fail;
		(void)parse_int64(PQgetvalue(res, 0, 0), INT64_MIN, INT64_MAX, &deleted);
		old = (long)deleted;
		PQclear(res);
	}
	maxs = (int32_t)query_double(w, &stmt_max_series, NULL, &ok);
	if (!ok || (rd = reader()) == NULL)
		goto fail;
	/* Chunks are read on the reader connection while this one takes the COPY of the
	 * chunks before: the server stores one while it sends the next. */
	acc = xmalloc(sizeof(*acc) * CHUNK_SERIES * (size_t)ti->nbuckets);
	if (db_copy_begin(w->db, copy_sql[t]) != 0)
		goto fail;
	met_copy_header(&sb);
	for (int32_t lo = 0; lo <= maxs; lo += CHUNK_SERIES) {
		int32_t hi = lo + CHUNK_SERIES;
		memset(acc, 0, sizeof(*acc) * CHUNK_SERIES * (size_t)ti->nbuckets);
		if (aggregate_chunk(rd, t, w0, lo, hi, acc) != 0) {
			(void)db_copy_end(w->db);
			goto fail;
		}
		buckets += chunk_rows(&sb, t, w0, lo, hi, acc);
		if (db_copy_put(w->db, sb.data, sb.len) != 0) {
			(void)db_copy_end(w->db);
			goto fail;
		}
		sb_reset(&sb);
	}
	met_copy_trailer(&sb);
	if (db_copy_put(w->db, sb.data, sb.len) != 0 || db_copy_end(w->db) != 0)
		goto fail;
	snprintf(c, sizeof(c), "%ld", buckets - old);
	{
		const char *cp[3] = {ti->name, a, c};
		if (db_exec_stmt_ok(w->db, &stmt_count, cp) != 0)
			goto fail;
	}
	snprintf(b, sizeof(b), "%.0f", w0 + ti->win);
	snprintf(c, sizeof(c), "%.1f", (clock_monotonic() - started) * 1000);
	if (advance) {
		const char *ap[3] = {ti->name, b, c};
		if (db_exec_stmt_ok(w->db, &stmt_advance, ap) != 0)
			goto fail;
	} else {
		const char *up[2] = {ti->name, a}, *tp[2] = {ti->name, c};
		if (db_exec_stmt_ok(w->db, &stmt_undirty, up) != 0 ||
		    db_exec_stmt_ok(w->db, &stmt_touch, tp) != 0)
			goto fail;
		/* The window above that holds this one was written already: again, too. */
		if (t + 1 < MET_NTIERS) {
			char iv[32];
			const char *mp[3] = {met_tiers[t + 1].name, a, iv};
			snprintf(iv, sizeof(iv), "%d seconds", met_tiers[t + 1].win);
			if (db_exec_stmt_ok(w->db, &stmt_mark_up, mp) != 0)
				goto fail;
		}
	}
	if (db_commit(w->db) != 0)
		goto fail;
	log_debug("msg=\"rolled up\" tier=%s window=%.0f buckets=%ld replaced=%ld ms=%s",
	    ti->name, w0, buckets, old, c);
	free(acc);
	sb_free(&sb);
	return 1;
fail:
	log_warn("msg=\"metrics rollup failed\" tier=%s window=%.0f error=\"%s\"", ti->name, w0,
	    db_error(w->db));
	db_rollback(w->db);
	free(acc);
	sb_free(&sb);
	return -1;
}

static const struct db_stmt stmt_state = {
	"rollup_state",
	"SELECT extract(epoch FROM done_until) FROM pulse.metric_rollup WHERE tier = $1",
	1,
};

static const struct db_stmt stmt_first = {
	"rollup_first",
	"SELECT extract(epoch FROM min(lo)) FROM pulse.metric_partitions "
	"WHERE tier = $1 AND samples > 0",
	1,
};

static const struct db_stmt stmt_init = {
	"rollup_init",
	"UPDATE pulse.metric_rollup SET done_until = to_timestamp($2) "
	"WHERE tier = $1 AND done_until IS NULL",
	2,
};

static const struct db_stmt stmt_dirty_list = {
	"rollup_dirty_list",
	"SELECT extract(epoch FROM t0) FROM pulse.metric_dirty WHERE tier = $1 ORDER BY t0 "
	"LIMIT 96",
	1,
};

/* Rolls up what is due in tier t: dirty windows again, then complete windows in order.
 * Returns 0 or -1. */
static int
rollup_tier(struct worker *w, int t, double now)
{
	const struct met_tier_info *ti = &met_tiers[t];
	const char *p[2] = {ti->name, NULL};
	double done, limit;
	char buf[32];
	PGresult *res;
	int ok, n = 0;

	res = db_exec_stmt(w->db, &stmt_dirty_list, p);
	if (res == NULL)
		return -1;
	for (int r = 0; r < PQntuples(res); r++)
		if (roll_window(w, t, strtod(PQgetvalue(res, r, 0), NULL), 0) < 0) {
			PQclear(res);
			return -1;
		}
	PQclear(res);

	done = query_double(w, &stmt_state, p, &ok);
	if (!ok)
		return -1;
	if (isnan(done)) {
		/* Nothing rolled up yet: from the window of the oldest data below. */
		const char *fp[1] = {met_tiers[t - 1].name};
		double first = query_double(w, &stmt_first, fp, &ok);
		if (!ok)
			return -1;
		if (isnan(first))
			return 0;
		done = floor(first / ti->win) * ti->win;
		snprintf(buf, sizeof(buf), "%.0f", done);
		p[1] = buf;
		if (db_exec_stmt_ok(w->db, &stmt_init, p) != 0)
			return -1;
		done = query_double(w, &stmt_state, p, &ok);
		if (!ok || isnan(done))
			return -1;
	}
	if (t == MET_MINUTE) {
		limit = now - GRACE;
	} else {
		const char *lp[1] = {met_tiers[t - 1].name};
		limit = query_double(w, &stmt_state, lp, &ok);
		if (!ok)
			return -1;
		if (isnan(limit))
			return 0;
	}
	while (done + ti->win <= limit && n < MAX_WINDOWS) {
		int rc = roll_window(w, t, done, 1);
		if (rc < 0)
			return -1;
		if (rc == 0)	/* another worker moved it: read where it is */
			break;
		done += ti->win;
		n++;
	}
	return 0;
}

int
metrics_rollup_run(struct worker *w, double now)
{
	for (int t = MET_MINUTE; t < MET_NTIERS; t++)
		if (rollup_tier(w, t, now) != 0)
			return -1;
	return 0;
}

int
job_metrics_rollup(struct worker *w, struct job *job)
{
	(void)job;
	return metrics_rollup_run(w, clock_wall());
}

static const struct db_stmt stmt_retention = {
	"metrics_retention",
	"UPDATE pulse.metric_tiers SET retention = CASE tier "
	"WHEN 'raw' THEN make_interval(hours => $1::int) "
	"WHEN 'minute' THEN make_interval(hours => $2::int) "
	"WHEN 'hour' THEN make_interval(days => $3::int) "
	"ELSE make_interval(days => $4::int) END",
	4,
};

static const struct db_stmt stmt_maintain = {
	"metrics_maintain",
	"SELECT * FROM pulse.metric_maintain()",
	0,
};

/* Retention from the configuration, partitions ahead, old partitions dropped. */
int
job_metrics_maintain(struct worker *w, struct job *job)
{
	char v[4][24];
	const char *p[4] = {v[0], v[1], v[2], v[3]};
	static const char *const keys[4] = {"metrics_retention_raw_hours",
	    "metrics_retention_minute_hours", "metrics_retention_hourly_days",
	    "metrics_retention_daily_days"};
	PGresult *res;

	(void)job;
	for (int i = 0; i < 4; i++)
		snprintf(v[i], sizeof(v[i]), "%lld", (long long)conf_int(keys[i]));
	if (db_exec_stmt_ok(w->db, &stmt_retention, p) != 0)
		return -1;
	res = db_exec_stmt(w->db, &stmt_maintain, NULL);
	if (res == NULL)
		return -1;
	for (int r = 0; r < PQntuples(res); r++)
		log_info("msg=\"metrics partition dropped\" partition=%s", PQgetvalue(res, r, 0));
	PQclear(res);
	return 0;
}

void
metrics_rollup_free(void)
{
	db_free(reader_db);
	reader_db = NULL;
}
