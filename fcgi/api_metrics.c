/* api_metrics.c: metrics history endpoints (metrics-reporting.md §1.10, §1.11, §2.2, §2.3):
 * /api/metrics-store/stats, /api/metrics-store/history, /api/charts, /api/storage-charts.
 * They read through src/metrics_read.c; the answers are written here, charts streamed as
 * their series come in. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "jsonutil.h"
#include "log.h"
#include "metrics.h"
#include "metrics_read.h"
#include "timefmt.h"

#define HISTORY_MAX_POINTS 1000	/* default cap of points per series */
#define CHART_MAX_POINTS 500	/* points per chart series beyond the raw tier */

/* A Go time for JSON: RFC 3339 in UTC, or Go's zero time. */
static struct json_object *
go_time(PGresult *res, int row, int col)
{
	char buf[TIMEFMT_LEN];

	if (PQgetisnull(res, row, col))
		return json_object_new_string(TIMEFMT_ZERO);
	timefmt_rfc3339(strtod(PQgetvalue(res, row, col), NULL), buf, sizeof(buf));
	return json_object_new_string(buf);
}

/* --- GET /api/metrics-store/stats ------------------------------------------------------ */

static const struct db_stmt stmt_stats = {
	"metrics_stats",
	"SELECT (SELECT coalesce(sum(pg_total_relation_size(format('pulse.%I', name)::regclass)), 0) "
	"        FROM pulse.metric_partitions) + pg_total_relation_size('pulse.metric_series'), "
	"  (SELECT coalesce(sum(samples), 0) FROM pulse.metric_partitions WHERE tier = 'raw'), "
	"  (SELECT coalesce(sum(samples), 0) FROM pulse.metric_partitions WHERE tier = 'minute'), "
	"  (SELECT coalesce(sum(samples), 0) FROM pulse.metric_partitions WHERE tier = 'hour'), "
	"  (SELECT coalesce(sum(samples), 0) FROM pulse.metric_partitions WHERE tier = 'day'), "
	"  (SELECT coalesce(sum(total_writes), 0) FROM pulse.metric_writers), "
	"  (SELECT coalesce(sum(w.buffered), 0) FROM pulse.metric_writers w "
	"     JOIN pulse.workers k ON k.id = w.worker_id WHERE k.stopped_at IS NULL), "
	"  (SELECT extract(epoch FROM max(last_flush)) FROM pulse.metric_writers), "
	"  (SELECT extract(epoch FROM max(last_run)) FROM pulse.metric_rollup), "
	"  (SELECT extract(epoch FROM last_run) FROM pulse.metric_jobs WHERE job = 'retention')",
	0,
};

void
api_metrics_stats(struct request *r)
{
	/* The first seven columns, in order. */
	static const char *const counts[] = {"dbSize", "rawCount", "minuteCount", "hourlyCount",
	    "dailyCount", "totalWrites", "bufferSize"};
	PGresult *res = req_result(r, db_exec_stmt(r->db, &stmt_stats, NULL));
	struct json_object *o;

	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	o = json_object_new_object();
	req_json(r, o);
	json_object_object_add(o, "enabled", json_object_new_boolean(1));
	for (int i = 0; i < 7; i++) {
		int64_t n = 0;
		(void)parse_int64(PQgetvalue(res, 0, i), INT64_MIN, INT64_MAX, &n);
		json_object_object_add(o, counts[i], json_object_new_int64(n));
	}
	json_object_object_add(o, "lastFlush", go_time(res, 0, 7));
	json_object_object_add(o, "lastRollup", go_time(res, 0, 8));
	json_object_object_add(o, "lastRetention", go_time(res, 0, 9));
	resp_json(r, 200, o);
}

/* --- ranges and tiers ------------------------------------------------------------------ */

/* A Go duration ("90m", "2h30m", "1.5h", "300s"), in seconds; -1 when it is not one. */
static double
parse_go_duration(const char *s)
{
	static const struct { const char *unit; double secs; } units[] = {
		{"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60},
		{"h", 3600},
	};
	double total = 0;

	if (*s == '\0')
		return -1;
	while (*s) {
		char *end;
		double v;
		size_t best = 0;
		int u = -1;
		if (!isdigit((unsigned char)*s) && *s != '.')
			return -1;
		v = strtod(s, &end);
		if (end == s)
			return -1;
		s = end;
		for (int i = 0; i < (int)ARRAY_LEN(units); i++) {
			size_t l = strlen(units[i].unit);
			if (strncmp(s, units[i].unit, l) == 0 && l > best)
				best = l, u = i;
		}
		if (u < 0)
			return -1;
		s += best;
		total += v * units[u].secs;
	}
	return total;
}

/* The history range (§1.11): the named ones, else a Go duration. Seconds, or -1. */
static double
history_range(const char *s)
{
	static const struct { const char *name; double secs; } named[] = {
		{"1h", 3600}, {"6h", 21600}, {"12h", 43200}, {"24h", 86400}, {"1d", 86400},
		{"7d", 604800}, {"30d", 2592000}, {"90d", 7776000},
	};
	double d;

	if (s == NULL || *s == '\0')
		return 86400;
	for (size_t i = 0; i < ARRAY_LEN(named); i++)
		if (strcmp(s, named[i].name) == 0)
			return named[i].secs;
	d = parse_go_duration(s);
	if (!(d >= 1) || d > 3650.0 * 86400)
		return -1;
	return d;
}

/* --- GET /api/metrics-store/history ---------------------------------------------------- */

/* --- GET /api/charts --------------------------------------------------------------------- */

#define MS_CACHE 4096

/* The head of a point, ',{"timestamp":<ms>,"value":', by its time. */
struct ms_text {
	int64_t ms;
	uint8_t len;
	char text[47];
};

/* The answer of /api/charts as it is written: guests stream out, nodes, storage and Docker
 * wait in their own sections. Its memory is the request's (chart_out_free is deferred). */
struct chart_out {
	struct request *r;
	struct met_charts *ch;	/* the points to write, and the reads to keep going meanwhile */
	struct ms_text *ms_cache;	/* MS_CACHE point heads */
	struct strbuf out, nodes, storage, docker, docker_hosts;
	struct strbuf *section[MET_CHART_KINDS];	/* by enum met_chart_kind */
	int first[MET_CHART_KINDS];	/* no resource in the section yet */
	int64_t oldest_ms;
	int started, client_gone;
	/* Our additions (docs/API.md): points > 0 averages each series into that many
	 * buckets of step seconds from `from`; metrics is the mask of met_chart_metrics sent. */
	int points;
	double from, step;
	unsigned metrics;
	struct chart_bucket { double sum, t; int n; } *acc;
};

static void
chart_out_free(void *p)
{
	struct chart_out *c = p;

	sb_free(&c->out);
	sb_free(&c->nodes);
	sb_free(&c->storage);
	sb_free(&c->docker);
	sb_free(&c->docker_hosts);
}

/* An answer's writer, freed with the request. */
static struct chart_out *
chart_out_new(struct request *r, int64_t now_ms)
{
	struct chart_out *c = arena_zalloc(r->arena, sizeof(*c));

	arena_defer(r->arena, chart_out_free, c);
	c->r = r;
	c->ms_cache = arena_zalloc(r->arena, sizeof(*c->ms_cache) * MS_CACHE);
	c->oldest_ms = now_ms;
	c->section[MET_CHART_GUEST] = &c->out;
	c->section[MET_CHART_NODE] = &c->nodes;
	c->section[MET_CHART_STORAGE] = &c->storage;
	c->section[MET_CHART_DOCKER] = &c->docker;
	c->section[MET_CHART_DOCKER_HOST] = &c->docker_hosts;
	for (int k = 0; k < MET_CHART_KINDS; k++)
		c->first[k] = 1;
	return c;
}

static void
out_flush(struct chart_out *c, int force)
{
	if (c->out.len < 65536 && !force)
		return;
	if (!c->client_gone && resp_stream_write(c->r, c->out.data, c->out.len) != 0)
		c->client_gone = 1;
	sb_reset(&c->out);
	/* Take the next chunk's rows off the socket, so that the server keeps sending. */
	met_charts_pump(c->ch);
}

/* An integer in decimal; returns its length. */
static size_t
fmt_i64(int64_t v, char *buf)
{
	char tmp[24];
	size_t n = 0, len = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		buf[len++] = '-';
	while (n)
		buf[len++] = tmp[--n];
	buf[len] = '\0';
	return len;
}

/* The head of a point at ms into buf, with its leading comma unless first; returns its
 * length. From a small cache: every series of a poll has the same instants. */
static size_t
point_head(struct chart_out *c, int64_t ms, int first, char *buf)
{
	struct ms_text *e = &c->ms_cache[(uint64_t)ms / 1000 % MS_CACHE];

	if (e->ms != ms || e->len == 0) {
		size_t n;
		e->ms = ms;
		memcpy(e->text, ",{\"timestamp\":", 14);
		n = 14 + fmt_i64(ms, e->text + 14);
		memcpy(e->text + n, ",\"value\":", 9);
		e->len = (uint8_t)(n + 9);
	}
	memcpy(buf, e->text + first, (size_t)(e->len - first));
	return (size_t)(e->len - first);
}

/* Values as sent: six decimals below 1e9, whole numbers above (bytes). Averages carry no
 * meaning beyond that, and short numbers keep the answers small and quick to write
 * (docs/COMPATIBILITY.md). */
static void
out_num(struct strbuf *sb, double v)
{
	char buf[40];

	sb_append(sb, buf, jsonutil_format_rounded(v, buf));
}

static void
out_str(struct strbuf *sb, const char *value)
{
	struct json_object *s = json_object_new_string(value);

	sb_puts(sb, json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(s);
}

static void
out_key(struct strbuf *sb, const char *key)
{
	out_str(sb, key);
	sb_append(sb, ":", 1);
}

/* A series averaged into c->points buckets: each bucket that holds samples as one point,
 * at the mean time of its samples. */
static void
out_buckets(struct chart_out *c, struct strbuf *sb, const struct met_points *sp)
{
	int first = 1;

	memset(c->acc, 0, sizeof(*c->acc) * (size_t)c->points);
	for (int i = 0; i < sp->n; i++) {
		double k = floor((sp->p[i].t - c->from) / c->step);
		int b = k < 0 ? 0 : k >= c->points ? c->points - 1 : (int)k;
		c->acc[b].sum += sp->p[i].v;
		c->acc[b].t += sp->p[i].t;
		c->acc[b].n++;
	}
	for (int b = 0; b < c->points; b++) {
		int64_t ms;
		char *p;
		if (c->acc[b].n == 0)
			continue;
		ms = timefmt_unix_ms(floor(c->acc[b].t / c->acc[b].n));
		if (ms < c->oldest_ms)
			c->oldest_ms = ms;
		sb_reserve(sb, 96);
		p = sb->data + sb->len;
		p += point_head(c, ms, first, p);
		p += jsonutil_format_rounded(c->acc[b].sum / c->acc[b].n, p);
		*p++ = '}';
		*p = '\0';
		sb->len = (size_t)(p - sb->data);
		first = 0;
	}
	if (sb == &c->out && sb->len >= 65536)
		out_flush(c, 0);
}

/* One metric's points: its history, or (none) the current value at now. */
static void
out_series(struct chart_out *c, struct strbuf *sb, const char *name, int32_t s, double cur,
    int fallback, int64_t now_ms)
{
	const struct met_points *sp = met_charts_points(c->ch, s);

	out_key(sb, name);
	sb_append(sb, "[", 1);
	if (fallback) {
		sb_printf(sb, "{\"timestamp\":%lld,\"value\":", (long long)now_ms);
		out_num(sb, cur);
		sb_append(sb, "}", 1);
	} else if (c->points > 0) {
		out_buckets(c, sb, sp);
	} else {
		for (int i = 0; i < sp->n; i++) {
			int64_t ms = timefmt_unix_ms(sp->p[i].t);
			char *p;
			if (ms < c->oldest_ms)
				c->oldest_ms = ms;
			/* At most 14 + 20 + 9 + 40 + 1 bytes: written in place. */
			sb_reserve(sb, 96);
			p = sb->data + sb->len;
			p += point_head(c, ms, i == 0, p);
			p += jsonutil_format_rounded(sp->p[i].v, p);
			*p++ = '}';
			*p = '\0';
			sb->len = (size_t)(p - sb->data);
			if (sb == &c->out && sb->len >= 65536)
				out_flush(c, 0);
		}
	}
	sb_append(sb, "]", 1);
}

static int
has_points(const struct chart_out *c, int32_t s)
{
	return met_charts_points(c->ch, s)->n > 0;
}

/* One resource into its section: guests stream out, the others wait in their
 * own buffers. Its points are freed. */
static void
out_resource(struct chart_out *c, const struct met_chart_item *it, int64_t now_ms)
{
	struct strbuf *sb = c->section[it->kind];

	if (!c->first[it->kind])
		sb_append(sb, ",", 1);
	c->first[it->kind] = 0;
	out_key(sb, it->id);
	sb_append(sb, "{", 1);
	if (it->kind == MET_CHART_STORAGE) {
		out_series(c, sb, "disk", it->series[0], it->cur[0],
		    !has_points(c, it->series[0]), now_ms);
	} else {
		/* A guest (or Docker container or host) without cpu history: every metric becomes
		 * the current value (§2.2). */
		int whole = it->kind == MET_CHART_GUEST || it->kind == MET_CHART_DOCKER ||
		    it->kind == MET_CHART_DOCKER_HOST;
		int guest_fallback = whole && !has_points(c, it->series[0]), first = 1;
		for (int m = 0; m < it->nmetrics; m++) {
			if (!(c->metrics & (1u << m)))
				continue;
			if (!first)
				sb_append(sb, ",", 1);
			first = 0;
			out_series(c, sb, met_chart_metrics[m], it->series[m], it->cur[m],
			    whole ? guest_fallback :
			    !has_points(c, it->series[m]), now_ms);
		}
	}
	sb_append(sb, "}", 1);
	met_charts_forget(c->ch, it);
}

/* The sections after the guests', and the guests' types. */
static void
out_tail(struct chart_out *c, int64_t now_ms)
{
	const struct met_chart_item *items;
	int n, first = 1;

	items = met_charts_items(c->ch, &n);
	sb_puts(&c->out, "},\"nodeData\":{");
	sb_append(&c->out, c->nodes.data ? c->nodes.data : "", c->nodes.len);
	sb_puts(&c->out, "},\"storageData\":{");
	sb_append(&c->out, c->storage.data ? c->storage.data : "", c->storage.len);
	sb_puts(&c->out, "},\"dockerData\":{");
	sb_append(&c->out, c->docker.data ? c->docker.data : "", c->docker.len);
	sb_puts(&c->out, "},\"dockerHostData\":{");
	sb_append(&c->out, c->docker_hosts.data ? c->docker_hosts.data : "", c->docker_hosts.len);
	sb_puts(&c->out, "},\"guestTypes\":{");
	for (int i = 0; i < n; i++) {
		if (items[i].kind != MET_CHART_GUEST)
			continue;
		sb_puts(&c->out, first ? "" : ",");
		first = 0;
		out_key(&c->out, items[i].id);
		sb_puts(&c->out, items[i].vm ? "\"vm\"" : "\"container\"");
	}
	sb_printf(&c->out, "},\"timestamp\":%lld,\"stats\":{\"oldestDataTimestamp\":%lld}}",
	    (long long)now_ms, (long long)c->oldest_ms);
	out_flush(c, 1);
}

static void
out_begin(struct chart_out *c)
{
	if (c->started)
		return;
	resp_stream_begin(c->r, 200, "application/json");
	sb_puts(&c->out, "{\"data\":{");
	c->started = 1;
}

/* Our optional query keys: points (2-500: each series averaged into buckets of range/points
 * seconds, at most points + 1 of them) and metrics (a comma list of cpu, memory, disk, diskread, diskwrite, netin,
 * netout: only those are sent). 0, or -1 with the 400 sent. */
static int
chart_options(struct request *r, struct chart_out *c, double range, double now)
{
	const char *points = req_query(r, "points"), *metrics = req_query(r, "metrics");
	int64_t n;

	c->metrics = (1u << MET_CHART_METRICS) - 1;
	if (points && *points) {
		if (parse_int64(points, 2, CHART_MAX_POINTS, &n) != 0) {
			resp_error(r, 400, "invalid_points", "points must be a whole number from 2 to %d",
			    CHART_MAX_POINTS);
			return -1;
		}
		/* Buckets at whole multiples of the step since 1970, so that a client bucketing
		 * by time the same way finds one point per bucket: points + 1 of them, the first
		 * and the last cut by the window. */
		c->step = range / (double)n;
		c->from = floor((now - range) / c->step) * c->step;
		c->points = (int)n + 1;
		c->acc = arena_zalloc(r->arena, sizeof(*c->acc) * (size_t)c->points);
	}
	if (metrics && *metrics) {
		c->metrics = 0;
		for (const char *p = metrics; *p;) {
			size_t len = strcspn(p, ",");
			int m = 0;
			while (m < MET_CHART_METRICS && (strlen(met_chart_metrics[m]) != len ||
			    strncmp(met_chart_metrics[m], p, len) != 0))
				m++;
			if (m == MET_CHART_METRICS) {
				resp_error(r, 400, "invalid_metrics", "Unknown metric '%.*s': use cpu, memory, "
				    "disk, diskread, diskwrite, netin or netout", (int)(len > 32 ? 32 : len), p);
				return -1;
			}
			c->metrics |= 1u << m;
			p += len + (p[len] == ',');
		}
	}
	return 0;
}

void
api_charts(struct request *r)
{
	static const struct { const char *name; double secs; } ranges[] = {
		{"5m", 300}, {"15m", 900}, {"30m", 1800}, {"1h", 3600}, {"4h", 14400},
		{"12h", 43200}, {"24h", 86400}, {"7d", 604800},
	};
	const char *range_s = req_query(r, "range");
	double range = -1, now = floor(clock_wall()), t_start = clock_monotonic();
	int64_t now_ms = timefmt_unix_ms(now);
	const struct met_chart_item *const *ready;
	struct chart_out *c;
	int rc, n;

	if (range_s == NULL || *range_s == '\0')
		range = 3600;
	for (size_t i = 0; i < ARRAY_LEN(ranges) && range < 0; i++)
		if (strcmp(range_s, ranges[i].name) == 0)
			range = ranges[i].secs;
	if (range < 0) {
		resp_error(r, 400, "invalid_range", "Invalid range '%.64s': use 5m, 15m, 30m, 1h, "
		    "4h, 12h, 24h or 7d", range_s);
		return;
	}
	c = chart_out_new(r, now_ms);
	if (chart_options(r, c, range, now) != 0)
		return;
	if ((c->ch = met_charts_open(r->db, range, now, CHART_MAX_POINTS)) == NULL) {
		resp_db_unavailable(r);
		return;
	}
	arena_defer(r->arena, met_charts_free, c->ch);
	while ((rc = met_charts_next(c->ch, &ready, &n)) > 0) {
		out_begin(c);
		for (int i = 0; i < n; i++)
			out_resource(c, ready[i], now_ms);
		out_flush(c, 0);
	}
	met_charts_end(c->ch, rc == 0 || c->started);
	if (rc < 0 && !c->started) {
		resp_db_unavailable(r);
		return;
	}
	if (rc < 0) {
		/* The head is out: all that can be done is to stop short. */
		log_error("msg=\"charts read failed mid-answer\" error=\"%s\"", db_error(r->db));
		c->client_gone = 1;
	}
	out_begin(c);
	out_tail(c, now_ms);
	log_debug("msg=\"charts written\" ms=%.1f bytes=%lu", (clock_monotonic() - t_start) * 1000,
	    (unsigned long)r->bytes_out);
}

/* --- GET /api/storage-charts ------------------------------------------------------------- */

/* The storage-charts range: minutes, read as scanf's %d would (leading digits win, so "1h"
 * is one minute, as in the original). -1 when there are no digits or it is out of range. */
static long
storage_range_minutes(const char *s)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return 60;
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || errno != 0 || v < 1 || v > 90L * 24 * 60)
		return -1;
	return v;
}

/* The rows of one series in an answer ordered by series: found once for all series (a walk
 * of the rows, then a binary search per series), not by a scan of every row per series,
 * which grew with the square of the estate (security review L2). */
struct series_run {
	long series;
	int from, to;
};

static struct series_run *
series_runs(struct request *r, PGresult *res, int *count)
{
	int n = PQntuples(res), k = 0;
	struct series_run *runs = arena_alloc(r->arena, sizeof(*runs) * (size_t)(n + 1));

	for (int row = 0; row < n; row++) {
		long series = strtol(PQgetvalue(res, row, 0), NULL, 10);
		if (k > 0 && runs[k - 1].series == series) {
			runs[k - 1].to = row + 1;
			continue;
		}
		runs[k].series = series;
		runs[k].from = row;
		runs[k].to = row + 1;
		k++;
	}
	*count = k;
	return runs;
}

static void
series_rows(const struct series_run *runs, int count, long series, int *from, int *to)
{
	int lo = 0, hi = count;

	*from = *to = -1;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (runs[mid].series < series)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < count && runs[lo].series == series) {
		*from = runs[lo].from;
		*to = runs[lo].to;
	}
}

/* The answer: every storage of the state, with the points of its series, grouped to at
 * most HISTORY_MAX_POINTS per series. */
static struct json_object *
storage_json(struct request *r, PGresult *list, PGresult *res)
{
	static const char *const names[] = {"usage", "used", "total", "avail"};
	struct json_object *o = json_object_new_object();
	struct series_run *runs;
	int nruns;

	req_json(r, o);
	runs = series_runs(r, res, &nruns);
	for (int i = 0; i < PQntuples(list); i++) {
		const char *id = PQgetvalue(list, i, 0);
		struct json_object *st;
		if (json_object_object_get_ex(o, id, NULL))
			continue;
		st = json_object_new_object();
		for (int m = 0; m < 4; m++)
			json_object_object_add(st, names[m], NULL);
		json_object_object_add(o, id, st);
	}
	for (int i = 0; i < PQntuples(list); i++) {
		const char *id = PQgetvalue(list, i, 0), *metric = PQgetvalue(list, i, 2);
		const char *s = PQgetvalue(list, i, 1);
		struct json_object *st = NULL, *arr = json_object_new_array();
		int from = -1, to = -1, group;
		if (PQgetisnull(list, i, 1)) {
			json_object_put(arr);
			continue;
		}
		series_rows(runs, nruns, strtol(s, NULL, 10), &from, &to);
		group = from < 0 ? 1 : (to - from + HISTORY_MAX_POINTS - 1) / HISTORY_MAX_POINTS;
		for (int row = from; from >= 0 && row < to; row += group) {
			struct met_acc a = {0};
			struct json_object *p = json_object_new_object();
			char ts[TIMEFMT_LEN];
			for (int j = row; j < to && j < row + group; j++)
				met_acc_merge(&a, db_value_int32(res, j, 5), strtod(PQgetvalue(res, j, 2), NULL),
				    strtod(PQgetvalue(res, j, 3), NULL), strtod(PQgetvalue(res, j, 4), NULL));
			timefmt_rfc3339(strtod(PQgetvalue(res, row, 1), NULL), ts, sizeof(ts));
			json_object_object_add(p, "value", jsonutil_new_rounded(met_acc_avg(&a)));
			json_object_object_add(p, "timestamp", json_object_new_string(ts));
			json_object_array_add(arr, p);
		}
		json_object_object_get_ex(o, id, &st);
		/* A storage with history has all four arrays. */
		for (int m = 0; m < 4; m++) {
			struct json_object *cur = NULL;
			json_object_object_get_ex(st, names[m], &cur);
			if (cur == NULL)
				json_object_object_add(st, names[m], json_object_new_array());
		}
		json_object_object_add(st, metric, arr);
	}
	return o;
}

void
api_storage_charts(struct request *r)
{
	long minutes = storage_range_minutes(req_query(r, "range"));
	PGresult *list, *points;

	if (minutes < 0) {
		resp_error(r, 400, "invalid_range", "range must be a number of minutes from 1 to 129600");
		return;
	}
	if (met_read_storage(r->db, (double)minutes * 60, clock_wall(), &list, &points) != 0) {
		resp_db_unavailable(r);
		return;
	}
	req_result(r, list);
	req_result(r, points);
	resp_json(r, 200, storage_json(r, list, points));
}

/* --- GET /api/metrics-store/history ---------------------------------------------------- */

/* Appends n buckets as a JSON array of points, at most max: consecutive buckets are
 * merged in groups (weighted average, min of minima, max of maxima), so peaks stay in max. */
static void
points_json(struct strbuf *sb, const struct met_bucket *b, int n, int max)
{
	int group = (n + max - 1) / max;
	char num[48];

	if (group < 1)
		group = 1;
	sb_append(sb, "[", 1);
	for (int i = 0; i < n; i += group) {
		struct met_acc a = {0};
		for (int j = i; j < n && j < i + group; j++)
			met_acc_merge(&a, b[j].a.n, met_acc_avg(&b[j].a), b[j].a.min, b[j].a.max);
		sb_append(sb, i ? ",{\"timestamp\":" : "{\"timestamp\":", i ? 14 : 13);
		sb_append(sb, num, fmt_i64(timefmt_unix_ms(b[i].t), num));
		sb_append(sb, ",\"value\":", 9);
		out_num(sb, met_acc_avg(&a));
		sb_append(sb, ",\"min\":", 7);
		out_num(sb, a.min);
		sb_append(sb, ",\"max\":", 7);
		out_num(sb, a.max);
		sb_append(sb, "}", 1);
	}
	sb_append(sb, "]", 1);
}

/* The answer as text: thousands of points through json-c objects cost more than the query. */
static void
history_json(struct strbuf *out, const char *type, const char *id, const char *metric,
    const char *range_s, double range, double now, const struct met_history *h, int max_points)
{
	sb_append(out, "{", 1);
	out_key(out, "resourceType");
	out_str(out, type);
	sb_append(out, ",", 1);
	out_key(out, "resourceId");
	out_str(out, id);
	if (*metric) {
		sb_append(out, ",", 1);
		out_key(out, "metric");
		out_str(out, metric);
	}
	sb_append(out, ",", 1);
	out_key(out, "range");
	out_str(out, range_s ? range_s : "");
	sb_printf(out, ",\"start\":%lld,\"end\":%lld,\"tier\":\"%s\",",
	    (long long)llround((now - range) * 1000), (long long)llround(now * 1000),
	    met_tiers[h->tier].name);
	if (*metric) {
		sb_puts(out, "\"points\":");
		if (h->n > 0)
			points_json(out, h->buckets[0].b, h->buckets[0].n, max_points);
		else
			sb_puts(out, "[]");
	} else {
		int first = 1;
		sb_puts(out, "\"metrics\":{");
		for (int i = 0; i < h->n; i++) {
			if (h->buckets[i].n == 0)
				continue;
			if (!first)
				sb_append(out, ",", 1);
			first = 0;
			out_key(out, met_history_metric(h, i));
			points_json(out, h->buckets[i].b, h->buckets[i].n, max_points);
		}
		sb_puts(out, "}");
	}
	sb_puts(out, "}");
}

void
api_metrics_history(struct request *r)
{
	const char *type = req_query(r, "resourceType"), *id = req_query(r, "resourceId");
	const char *metric = req_query(r, "metric"), *range_s = req_query(r, "range");
	const char *mp = req_query(r, "maxPoints"), *types;
	double range, now = floor(clock_wall() * 1000) / 1000;
	int64_t max_points = HISTORY_MAX_POINTS;
	struct met_history *h;
	struct strbuf out = {0};

	if (type == NULL || *type == '\0' || id == NULL || *id == '\0') {
		resp_error(r, 400, "missing_parameters", "resourceType and resourceId are required");
		return;
	}
	if (!str_utf8_valid(id)) {
		resp_error(r, 400, "invalid_encoding", "resourceId must be UTF-8 text");
		return;
	}
	if ((types = met_stored_types(type)) == NULL) {
		resp_error(r, 400, "invalid_resource_type", "Unknown resourceType '%.64s'", type);
		return;
	}
	if (metric == NULL)
		metric = "";
	if (*metric && !met_known_metric(metric)) {
		resp_error(r, 400, "invalid_metric", "Unknown metric '%.64s'", metric);
		return;
	}
	if ((range = history_range(range_s)) < 0) {
		resp_error(r, 400, "invalid_range", "Invalid range '%.64s': use 1h, 6h, 12h, 24h, "
		    "7d, 30d, 90d or a duration such as 90m", range_s);
		return;
	}
	if (mp && parse_int64(mp, 2, 100000, &max_points) != 0) {
		resp_error(r, 400, "invalid_max_points", "maxPoints must be an integer from 2 to 100000");
		return;
	}
	h = arena_zalloc(r->arena, sizeof(*h));
	arena_defer(r->arena, met_history_free, h);
	if (met_history_open(r->db, types, id, metric, range, now, h) != 0) {
		resp_db_unavailable(r);
		return;
	}
	if (!h->known) {
		resp_error(r, 404, "resource_not_found", "No metrics history for %.64s '%.200s'",
		    type, id);
		return;
	}
	history_json(&out, type, id, metric, range_s, range, now, h, (int)max_points);
	resp_raw(r, 200, "application/json", out.data, out.len);
	sb_free(&out);
}
