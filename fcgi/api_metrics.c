/* api_metrics.c: metrics history endpoints (metrics-reporting.md §1.10, §1.11, §2.2, §2.3):
 * /api/metrics-store/stats, /api/metrics-store/history, /api/charts, /api/storage-charts.
 * Charts and history read through src/metrics_read.c, storage charts the documented views;
 * the answers are written here as text, charts streamed as their series come in. */
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

/* An int4 column as a number; 0 when it is NULL, as none of the queries here give. */
static int32_t
column_int32(const PGresult *res, int row, int col)
{
	int64_t v = 0;

	(void)parse_int64(PQgetvalue(res, row, col), INT32_MIN, INT32_MAX, &v);
	return (int32_t)v;
}

/* A result freed with the request. */
static void
clear_result(void *res)
{
	PQclear(res);
}

static PGresult *
request_result(struct request *r, PGresult *res)
{
	if (res)
		arena_defer(r->arena, clear_result, res);
	return res;
}

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
	PGresult *res = request_result(r, db_exec_stmt(r->db, &stmt_stats, NULL));
	struct json_object *o;

	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	o = json_object_new_object();
	arena_defer(r->arena, jsonutil_put, o);
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

static const char *const known_metrics[] = {"cpu", "memory", "disk", "diskread", "diskwrite",
	"netin", "netout", "usage", "used", "total", "avail"};

/* The stored types a requested type stands for: the stored names and the names the docs
 * use (guest: VMs and containers; docker: Docker containers). NULL when unknown. */
static const char *
stored_types(const char *t)
{
	static const struct { const char *asked, *stored; } map[] = {
		{"node", "{node}"}, {"vm", "{vm}"}, {"container", "{container}"},
		{"guest", "{vm,container}"}, {"storage", "{storage}"}, {"dockerHost", "{dockerHost}"},
		{"dockerContainer", "{dockerContainer}"}, {"docker", "{dockerContainer}"},
		{"pbsDatastore", "{pbsDatastore}"},
	};

	for (size_t i = 0; i < ARRAY_LEN(map); i++)
		if (strcmp(t, map[i].asked) == 0)
			return map[i].stored;
	return NULL;
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

/* --- GET /api/charts --------------------------------------------------------------------- */

enum { K_GUEST, K_NODE, K_STORAGE };

static const char *const guest_metrics[] = {"cpu", "memory", "disk", "diskread", "diskwrite",
	"netin", "netout"};

struct resource {
	const char *id;
	int kind;
	int vm;			/* guests: a VM (else a container) */
	double cur[7];		/* current values, for series without history */
	int32_t series[7];	/* -1: none */
};

#define MS_CACHE 4096

/* The head of a point, ',{"timestamp":<ms>,"value":', by its time. */
struct ms_text {
	int64_t ms;
	uint8_t len;
	char text[47];
};

/* The answer of /api/charts as it is written: guests stream out, nodes and storage (few)
 * wait in their own sections. Its memory is the request's (chart_out_free is deferred). */
struct chart_out {
	struct request *r;
	struct met_reader *rd;	/* the points to write, and the reads to keep going meanwhile */
	struct ms_text *ms_cache;	/* MS_CACHE point heads */
	struct strbuf out, nodes, storage;
	int64_t oldest_ms;
	int client_gone;
};

static void
chart_out_free(void *p)
{
	struct chart_out *c = p;

	sb_free(&c->out);
	sb_free(&c->nodes);
	sb_free(&c->storage);
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
	met_reader_pump(c->rd);
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

/* One metric's points: its history, or (none) the current value at now. */
static void
out_series(struct chart_out *c, struct strbuf *sb, const char *name, int32_t s, double cur,
    int fallback, int64_t now_ms)
{
	const struct met_points *sp = met_reader_points(c->rd, s);

	out_key(sb, name);
	sb_append(sb, "[", 1);
	if (fallback) {
		sb_printf(sb, "{\"timestamp\":%lld,\"value\":", (long long)now_ms);
		out_num(sb, cur);
		sb_append(sb, "}", 1);
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
	return met_reader_points(c->rd, s)->n > 0;
}

/* One resource into its section: guests stream out, nodes and storage (few) wait in their
 * own buffers. Its points are freed. */
static void
out_resource(struct chart_out *c, const struct resource *res, struct strbuf *sb, int *first,
    int64_t now_ms)
{
	int nm = res->kind == K_GUEST ? 7 : res->kind == K_NODE ? 3 : 1;

	if (!*first)
		sb_append(sb, ",", 1);
	*first = 0;
	out_key(sb, res->id);
	sb_append(sb, "{", 1);
	if (res->kind == K_GUEST) {
		/* No cpu history: every metric becomes the current value (§2.2). */
		int fallback = !has_points(c, res->series[0]);
		for (int m = 0; m < 7; m++) {
			if (m)
				sb_append(sb, ",", 1);
			out_series(c, sb, guest_metrics[m], res->series[m], res->cur[m], fallback,
			    now_ms);
		}
	} else if (res->kind == K_NODE) {
		for (int m = 0; m < 3; m++) {
			if (m)
				sb_append(sb, ",", 1);
			out_series(c, sb, guest_metrics[m], res->series[m], res->cur[m],
			    !has_points(c, res->series[m]), now_ms);
		}
	} else {
		out_series(c, sb, "disk", res->series[0], res->cur[0],
		    !has_points(c, res->series[0]), now_ms);
	}
	sb_append(sb, "}", 1);
	for (int m = 0; m < nm; m++)
		met_reader_forget(c->rd, res->series[m]);
}

/* A resource in the order of its last series. */
struct by_last {
	int32_t last;
	int res;
};

static int
cmp_last(const void *a, const void *b)
{
	int32_t x = ((const struct by_last *)a)->last, y = ((const struct by_last *)b)->last;

	return (x > y) - (x < y);
}

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
	") x ORDER BY id COLLATE \"C\", kind",
	0,
};

static const struct db_stmt stmt_chart_series = {
	"charts_series",
	"SELECT id, resource_type, resource_id, metric FROM pulse.metric_series "
	"WHERE resource_type IN ('vm', 'container', 'node', 'storage') "
	"ORDER BY resource_id COLLATE \"C\"",
	0,
};

/* The resources of the state, in the order of stmt_chart_resources (by id, bytewise), with
 * no series yet; their ids point into rows. */
static struct resource *
chart_resources(struct request *r, PGresult *rows)
{
	int n = PQntuples(rows);
	struct resource *res = arena_alloc(r->arena, sizeof(*res) * (size_t)(n ? n : 1));

	for (int i = 0; i < n; i++) {
		res[i].id = PQgetvalue(rows, i, 0);
		res[i].kind = column_int32(rows, i, 1);
		res[i].vm = PQgetvalue(rows, i, 2)[0] == 't';
		for (int m = 0; m < 7; m++) {
			res[i].cur[m] = strtod(PQgetvalue(rows, i, 3 + m), NULL);
			res[i].series[m] = -1;
		}
	}
	return res;
}

/* Matches series to the resources of the state (both sorted by id, bytewise), and wants
 * those read. */
static void
match_series(struct met_reader *rd, int32_t maxs, struct resource *all, int nres,
    PGresult *series)
{
	int i = 0;

	for (int row = 0; row < PQntuples(series); row++) {
		const char *id = PQgetvalue(series, row, 2), *type = PQgetvalue(series, row, 1);
		const char *metric = PQgetvalue(series, row, 3);
		int32_t s = column_int32(series, row, 0);
		int kind = strcmp(type, "node") == 0 ? K_NODE :
		    strcmp(type, "storage") == 0 ? K_STORAGE : K_GUEST;
		while (i < nres && strcmp(all[i].id, id) < 0)
			i++;
		for (int j = i; j < nres && strcmp(all[j].id, id) == 0; j++) {
			struct resource *res = &all[j];
			if (res->kind != kind || s < 0 || s > maxs)
				continue;
			for (int m = 0; m < (kind == K_STORAGE ? 1 : 7); m++) {
				const char *want = kind == K_STORAGE ? "usage" : guest_metrics[m];
				if (strcmp(metric, want) == 0) {
					res->series[m] = s;
					met_reader_want(rd, s);
				}
			}
		}
	}
}

/* The resources in the order their last series is read: each goes out once its series are
 * all in, and its points are freed then. */
static struct by_last *
write_order(struct request *r, const struct resource *res, int nres)
{
	struct by_last *order = arena_alloc(r->arena, sizeof(*order) * (size_t)(nres ? nres : 1));

	for (int i = 0; i < nres; i++) {
		order[i].res = i;
		order[i].last = -1;
		for (int m = 0; m < 7; m++)
			if (res[i].series[m] > order[i].last)
				order[i].last = res[i].series[m];
	}
	qsort(order, (size_t)nres, sizeof(*order), cmp_last);
	return order;
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
	struct chart_out *c;
	PGresult *resources, *series;
	struct resource *res;
	struct by_last *order;
	struct strbuf *section[3];
	int firsts[3] = {1, 1, 1};
	int nres, tier, first, rc, started = 0, next = 0;
	int32_t maxs = -1, below;

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
	c = arena_zalloc(r->arena, sizeof(*c));
	arena_defer(r->arena, chart_out_free, c);
	c->r = r;
	c->ms_cache = arena_zalloc(r->arena, sizeof(*c->ms_cache) * MS_CACHE);
	c->oldest_ms = now_ms;
	section[K_GUEST] = &c->out;
	section[K_NODE] = &c->nodes;
	section[K_STORAGE] = &c->storage;
	tier = met_tier_for(r->db, range);
	/* One snapshot for everything read: a rollup committing meanwhile is not seen twice. */
	if (tier < 0 || db_exec(r->db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") != 0)
		goto unavailable;
	resources = request_result(r, db_exec_stmt(r->db, &stmt_chart_resources, NULL));
	series = resources ? request_result(r, db_exec_stmt(r->db, &stmt_chart_series, NULL)) :
	    NULL;
	if (series == NULL)
		goto unavailable;
	for (int i = 0; i < PQntuples(series); i++) {
		int32_t s = column_int32(series, i, 0);
		if (s > maxs)
			maxs = s;
	}
	c->rd = met_reader_open(r->db, tier, now - range, now + 1, maxs, CHART_MAX_POINTS);
	if (c->rd == NULL)
		goto unavailable;
	arena_defer(r->arena, met_reader_free, c->rd);
	nres = PQntuples(resources);
	res = chart_resources(r, resources);
	match_series(c->rd, maxs, res, nres, series);
	order = write_order(r, res, nres);
	while ((rc = met_reader_next(c->rd, &below)) > 0) {
		if (!started) {
			resp_stream_begin(r, 200, "application/json");
			sb_puts(&c->out, "{\"data\":{");
			started = 1;
		}
		for (; next < nres && order[next].last < below; next++) {
			const struct resource *one = &res[order[next].res];
			out_resource(c, one, section[one->kind], &firsts[one->kind], now_ms);
		}
		out_flush(c, 0);
	}
	if (rc < 0 && !started)
		goto unavailable;
	if (rc < 0) {
		/* The head is out: all that can be done is to stop short. */
		log_error("msg=\"charts read failed mid-answer\" error=\"%s\"", db_error(r->db));
		c->client_gone = 1;
	}
	if (!started) {
		resp_stream_begin(r, 200, "application/json");
		sb_puts(&c->out, "{\"data\":{");
	}
	for (; next < nres; next++) {
		const struct resource *one = &res[order[next].res];
		out_resource(c, one, section[one->kind], &firsts[one->kind], now_ms);
	}
	met_reader_close(c->rd);
	(void)db_exec(r->db, "COMMIT");
	sb_puts(&c->out, "},\"nodeData\":{");
	sb_append(&c->out, c->nodes.data ? c->nodes.data : "", c->nodes.len);
	sb_puts(&c->out, "},\"storageData\":{");
	sb_append(&c->out, c->storage.data ? c->storage.data : "", c->storage.len);
	sb_puts(&c->out, "},\"dockerData\":{},\"dockerHostData\":{},\"guestTypes\":{");
	first = 1;
	for (int i = 0; i < nres; i++) {
		if (res[i].kind != K_GUEST)
			continue;
		sb_puts(&c->out, first ? "" : ",");
		first = 0;
		out_key(&c->out, res[i].id);
		sb_puts(&c->out, res[i].vm ? "\"vm\"" : "\"container\"");
	}
	sb_printf(&c->out, "},\"timestamp\":%lld,\"stats\":{\"oldestDataTimestamp\":%lld}}",
	    (long long)now_ms, (long long)c->oldest_ms);
	out_flush(c, 1);
	log_debug("msg=\"charts written\" ms=%.1f bytes=%lu", (clock_monotonic() - t_start) * 1000,
	    (unsigned long)r->bytes_out);
	return;
unavailable:
	met_reader_close(c->rd);
	db_rollback(r->db);
	resp_db_unavailable(r);
}

/* --- GET /api/storage-charts ------------------------------------------------------------- */

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

void
api_storage_charts(struct request *r)
{
	static const char *const names[] = {"usage", "used", "total", "avail"};
	long minutes = storage_range_minutes(req_query(r, "range"));
	double now = clock_wall();
	struct strbuf ids = {0};
	char since[32];
	PGresult *list, *res;
	struct json_object *o;
	struct series_run *runs;
	int tier, nruns;

	if (minutes < 0) {
		resp_error(r, 400, "invalid_range", "range must be a number of minutes from 1 to 129600");
		return;
	}
	list = request_result(r, db_exec_stmt(r->db, &stmt_storage_series, NULL));
	if (list == NULL || (tier = met_tier_for(r->db, (double)minutes * 60)) < 0) {
		resp_db_unavailable(r);
		return;
	}
	sb_puts(&ids, "{");
	for (int i = 0, k = 0; i < PQntuples(list); i++)
		if (!PQgetisnull(list, i, 1))
			sb_printf(&ids, "%s%s", k++ ? "," : "", PQgetvalue(list, i, 1));
	sb_puts(&ids, "}");
	snprintf(since, sizeof(since), "%.3f", now - (double)minutes * 60);
	{
		const char *p[2] = {ids.data, since};
		res = request_result(r, db_exec_stmt(r->db, &stmt_storage_points[tier], p));
	}
	sb_free(&ids);
	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	runs = series_runs(r, res, &nruns);
	o = json_object_new_object();
	arena_defer(r->arena, jsonutil_put, o);
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
				met_acc_merge(&a, column_int32(res, j, 5), strtod(PQgetvalue(res, j, 2), NULL),
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
	resp_json(r, 200, o);
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

void
api_metrics_history(struct request *r)
{
	const char *type = req_query(r, "resourceType"), *id = req_query(r, "resourceId");
	const char *metric = req_query(r, "metric"), *range_s = req_query(r, "range");
	const char *mp = req_query(r, "maxPoints"), *types;
	double range, now = floor(clock_wall() * 1000) / 1000;
	int64_t max_points = HISTORY_MAX_POINTS;
	struct strbuf out = {0};
	struct met_buckets *buckets = NULL;
	int32_t ids[64];
	PGresult *series;
	int tier, nseries;

	if (type == NULL || *type == '\0' || id == NULL || *id == '\0') {
		resp_error(r, 400, "missing_parameters", "resourceType and resourceId are required");
		return;
	}
	if ((types = stored_types(type)) == NULL) {
		resp_error(r, 400, "invalid_resource_type", "Unknown resourceType '%.64s'", type);
		return;
	}
	if (metric && *metric) {
		int known = 0;
		for (size_t i = 0; i < ARRAY_LEN(known_metrics); i++)
			known |= strcmp(metric, known_metrics[i]) == 0;
		if (!known) {
			resp_error(r, 400, "invalid_metric", "Unknown metric '%.64s'", metric);
			return;
		}
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
	{
		const char *p[3] = {types, id, metric ? metric : ""};
		series = request_result(r, db_exec_stmt(r->db, &stmt_series_of, p));
	}
	if (series == NULL)
		goto unavailable;
	nseries = PQntuples(series) < 64 ? PQntuples(series) : 64;
	if (nseries == 0) {
		const char *p[1] = {id};
		PGresult *known = request_result(r, db_exec_stmt(r->db, &stmt_resource_known, p));
		if (known == NULL)
			goto unavailable;
		if (PQntuples(known) == 0) {
			resp_error(r, 404, "resource_not_found",
			    "No metrics history for %.64s '%.200s'", type, id);
			return;
		}
	}
	for (int i = 0; i < nseries; i++)
		ids[i] = column_int32(series, i, 0);
	if ((tier = met_tier_for(r->db, range)) < 0)
		goto unavailable;
	if (nseries > 0) {
		buckets = arena_alloc(r->arena, sizeof(*buckets) * (size_t)nseries);
		if (met_read_history(r->db, tier, ids, nseries, now - range, now, buckets) != 0)
			goto unavailable;
		for (int i = 0; i < nseries; i++)
			arena_defer(r->arena, free, buckets[i].b);
	}
	/* Built as text: thousands of points through json-c objects cost more than the query. */
	sb_append(&out, "{", 1);
	out_key(&out, "resourceType");
	out_str(&out, type);
	sb_append(&out, ",", 1);
	out_key(&out, "resourceId");
	out_str(&out, id);
	if (metric && *metric) {
		sb_append(&out, ",", 1);
		out_key(&out, "metric");
		out_str(&out, metric);
	}
	sb_append(&out, ",", 1);
	out_key(&out, "range");
	out_str(&out, range_s ? range_s : "");
	sb_printf(&out, ",\"start\":%lld,\"end\":%lld,\"tier\":\"%s\",",
	    (long long)llround((now - range) * 1000), (long long)llround(now * 1000),
	    met_tiers[tier].name);
	if (metric && *metric) {
		sb_puts(&out, "\"points\":");
		if (nseries > 0)
			points_json(&out, buckets[0].b, buckets[0].n, (int)max_points);
		else
			sb_puts(&out, "[]");
	} else {
		int first = 1;
		sb_puts(&out, "\"metrics\":{");
		for (int i = 0; i < nseries; i++) {
			if (buckets[i].n == 0)
				continue;
			if (!first)
				sb_append(&out, ",", 1);
			first = 0;
			out_key(&out, PQgetvalue(series, i, 1));
			points_json(&out, buckets[i].b, buckets[i].n, (int)max_points);
		}
		sb_puts(&out, "}");
	}
	sb_puts(&out, "}");
	resp_raw(r, 200, "application/json", out.data, out.len);
	sb_free(&out);
	return;
unavailable:
	resp_db_unavailable(r);
}
