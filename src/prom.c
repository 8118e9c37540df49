/* prom.c: Prometheus counters and histograms counted in memory, published to the database,
 * and the exposition text of every process's series summed. */
#include "config.h"

#include "prom.h"
#include "jsonutil.h"
#include "log.h"

#include <ctype.h>
#include <dirent.h>
#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_LABELS 4
#define MAX_BUCKETS 12

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM };

struct family {
	const char *name;
	enum prom_type type;
	const char *help;
	const char *labels[MAX_LABELS];	/* NULL-terminated */
	double buckets[MAX_BUCKETS];	/* ascending, 0-terminated; +Inf is implied */
};

/* The original's families (metrics-reporting.md §7), with its names, labels and buckets. */
static const struct family families[PROM_FAMILY_COUNT] = {
	[PROM_HTTP_DURATION] = {"pulse_http_request_duration_seconds", PROM_HISTOGRAM,
	    "HTTP request latency in seconds.", {"method", "route", "status"},
	    {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}},
	[PROM_HTTP_REQUESTS] = {"pulse_http_requests_total", PROM_COUNTER,
	    "Total number of HTTP requests.", {"method", "route", "status"}, {0}},
	[PROM_HTTP_ERRORS] = {"pulse_http_request_errors_total", PROM_COUNTER,
	    "Total number of HTTP errors surfaced to clients.", {"method", "route", "status_class"},
	    {0}},
	[PROM_POLL_DURATION] = {"pulse_monitor_poll_duration_seconds", PROM_HISTOGRAM,
	    "Duration of polling operations per instance.", {"instance_type", "instance"},
	    {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30}},
	[PROM_POLL_TOTAL] = {"pulse_monitor_poll_total", PROM_COUNTER,
	    "Total polling attempts partitioned by result.", {"instance_type", "instance", "result"},
	    {0}},
	[PROM_POLL_ERRORS] = {"pulse_monitor_poll_errors_total", PROM_COUNTER,
	    "Polling failures grouped by error type.", {"instance_type", "instance", "error_type"},
	    {0}},
	[PROM_ALERTS_FIRED] = {"pulse_alerts_fired_total", PROM_COUNTER,
	    "Total number of alerts fired.", {"level", "type"}, {0}},
	[PROM_ALERTS_RESOLVED] = {"pulse_alerts_resolved_total", PROM_COUNTER,
	    "Total number of alerts resolved.", {"type"}, {0}},
	[PROM_ALERTS_ACKNOWLEDGED] = {"pulse_alerts_acknowledged_total", PROM_COUNTER,
	    "Total number of alert acknowledgments.", {NULL}, {0}},
};

/* Published by every process as absolute values, labelled with the process's name (the
 * Go runtime's go_* have no equivalent). */
static const struct family process_families[] = {
	{"process_cpu_seconds_total", PROM_COUNTER, "Total user and system CPU time spent in "
	    "seconds.", {"process"}, {0}},
	{"process_open_fds", PROM_GAUGE, "Number of open file descriptors.", {"process"}, {0}},
	{"process_resident_memory_bytes", PROM_GAUGE, "Resident memory size in bytes.",
	    {"process"}, {0}},
	{"process_start_time_seconds", PROM_GAUGE, "Start time of the process since unix epoch "
	    "in seconds.", {"process"}, {0}},
	{"process_virtual_memory_bytes", PROM_GAUGE, "Virtual memory size in bytes.",
	    {"process"}, {0}},
};

/* One label set of one family. Counters use value; histograms the buckets (per bucket, not
 * cumulative; the last is +Inf), sum and count. The flushed_* fields hold what the database
 * has been given. */
struct series {
	enum prom_family family;
	char *labels;		/* as written in the exposition format */
	double value, flushed_value;
	uint64_t buckets[MAX_BUCKETS + 1], flushed_buckets[MAX_BUCKETS + 1];
	double sum, flushed_sum;
};

#define TABLE_SIZE (PROM_MAX_SERIES * 2)

static struct {
	pthread_mutex_t lock;		/* the table and the series' counts */
	pthread_mutex_t flush_lock;	/* one publication at a time */
	struct series *table[TABLE_SIZE];
	struct series *list[PROM_MAX_SERIES];
	int nseries;
	int full_logged;
	char *process, *program;
	double started;
	int interval;
	atomic_llong last_flush_ms;
} P = {.lock = PTHREAD_MUTEX_INITIALIZER, .flush_lock = PTHREAD_MUTEX_INITIALIZER};

void
prom_init(const char *program, int interval)
{
	char host[256];

	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	free(P.process);
	free(P.program);
	P.program = xstrdup(program);
	P.process = xasprintf("%s@%s:%ld", program, host, (long)getpid());
	P.started = clock_wall();
	P.interval = interval;
	atomic_store(&P.last_flush_ms, (long long)(clock_monotonic() * 1000.0));
}

int
prom_enabled(void)
{
	return P.interval > 0 && P.process != NULL;
}

int
prom_interval(void)
{
	return P.interval;
}

void
prom_escape(struct strbuf *out, const char *value)
{
	const char *s = value, *run = value;

	for (; *s; s++) {
		const char *rep = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
		if (rep == NULL)
			continue;
		sb_append(out, run, (size_t)(s - run));
		sb_puts(out, rep);
		run = s + 1;
	}
	sb_append(out, run, (size_t)(s - run));
}

/* Writes name="value",... into buf (bounded, escaped, trimmed; "" becomes "unknown").
 * Returns the length, or -1 when it does not fit. */
static int
labels_render(const struct family *f, const char *const *values, char *buf, size_t len)
{
	size_t n = 0;

	for (int i = 0; i < MAX_LABELS && f->labels[i]; i++) {
		const char *v = values[i] ? values[i] : "";
		size_t vlen;
		int w;

		v = str_trimmed(v, &vlen);
		if (vlen == 0) {
			v = "unknown";
			vlen = strlen(v);
		}
		/* No snprintf: this runs for every request. */
		w = (int)strlen(f->labels[i]);
		if (n + (size_t)w + 3 >= len)
			return -1;
		if (i)
			buf[n++] = ',';
		memcpy(buf + n, f->labels[i], (size_t)w);
		n += (size_t)w;
		buf[n++] = '=';
		buf[n++] = '"';
		for (size_t j = 0; j < vlen; j++) {
			char c = v[j];
			if (n + 3 >= len)
				return -1;
			if (c == '\\' || c == '"' || c == '\n') {
				buf[n++] = '\\';
				c = c == '\n' ? 'n' : c;
			}
			buf[n++] = c;
		}
		if (n + 2 >= len)
			return -1;
		buf[n++] = '"';
	}
	buf[n] = '\0';
	return (int)n;
}

/* FNV-1a over the family and the labels. */
static uint32_t
series_hash(enum prom_family f, const char *labels)
{
	uint32_t h = 2166136261u ^ (uint32_t)f;

	for (const unsigned char *p = (const unsigned char *)labels; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

/* The series for a label set, created on first use; NULL when the table is full. Called
 * with the lock held. */
static struct series *
series_get(enum prom_family f, const char *labels)
{
	uint32_t i = series_hash(f, labels) & (TABLE_SIZE - 1);
	struct series *s;

	for (; (s = P.table[i]) != NULL; i = (i + 1) & (TABLE_SIZE - 1))
		if (s->family == f && strcmp(s->labels, labels) == 0)
			return s;
	if (P.nseries == PROM_MAX_SERIES) {
		if (!P.full_logged)
			log_warn("msg=\"prometheus series limit reached: new label sets not counted\" "
			    "limit=%d", PROM_MAX_SERIES);
		P.full_logged = 1;
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->family = f;
	s->labels = xstrdup(labels);
	P.table[i] = s;
	P.list[P.nseries++] = s;
	return s;
}

/* Counts v in the series of f with these rendered labels. Called with the lock held. */
static void
add_locked(enum prom_family f, const char *labels, double v)
{
	const struct family *fam = &families[f];
	struct series *s = series_get(f, labels);

	if (s != NULL && fam->type == PROM_HISTOGRAM) {
		int b = 0;
		while (fam->buckets[b] != 0 && v > fam->buckets[b])
			b++;
		s->buckets[b]++;
		s->sum += v;
	} else if (s != NULL) {
		s->value += v;
	}
}

void
prom_add(enum prom_family f, const char *const *values, double v)
{
	char labels[512];

	if (!prom_enabled() || labels_render(&families[f], values, labels, sizeof(labels)) < 0)
		return;
	pthread_mutex_lock(&P.lock);
	add_locked(f, labels, v);
	pthread_mutex_unlock(&P.lock);
}

static int
all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return n > 0;
}

static int
is_uuid(const char *s, size_t n)
{
	if (n != 36)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

void
prom_route(const char *path, char *out, size_t outlen)
{
	size_t n = 0;
	int segments = 0;
	const char *p = path;

	out[0] = '\0';
	while (*p == '/' && segments < 5) {
		const char *start = ++p, *seg;
		size_t len;

		while (*p && *p != '/')
			p++;
		len = (size_t)(p - start);
		if (len == 0)
			continue;
		seg = start;
		if (all_digits(start, len))
			seg = ":id", len = 3;
		else if (is_uuid(start, len))
			seg = ":uuid", len = 5;
		else if (len > 32)
			seg = ":token", len = 6;
		if (n + len + 2 >= outlen)
			break;
		out[n++] = '/';
		memcpy(out + n, seg, len);
		n += len;
		segments++;
	}
	if (n == 0 && outlen > 1)
		out[n++] = '/';
	out[n] = '\0';
}

void
prom_http_observe(const char *method, const char *path, int matched, int status,
    double seconds)
{
	char route[200], code[8], labels[512];
	const char *values[3] = {method, route, code};

	if (!prom_enabled())
		return;
	if (matched)
		prom_route(path, route, sizeof(route));
	else
		strcpy(route, "unmatched");
	if (status >= 100 && status <= 999) {
		code[0] = (char)('0' + status / 100);
		code[1] = (char)('0' + status / 10 % 10);
		code[2] = (char)('0' + status % 10);
		code[3] = '\0';
	} else {
		strcpy(code, "0");
	}
	/* The histogram and the counter share their labels: rendered once, one lock. */
	if (labels_render(&families[PROM_HTTP_REQUESTS], values, labels, sizeof(labels)) < 0)
		return;
	pthread_mutex_lock(&P.lock);
	add_locked(PROM_HTTP_DURATION, labels, seconds);
	add_locked(PROM_HTTP_REQUESTS, labels, 1);
	pthread_mutex_unlock(&P.lock);
	if (status >= 400) {
		values[2] = status >= 500 ? "server_error" : "client_error";
		prom_add(PROM_HTTP_ERRORS, values, 1);
	}
}

void
prom_poll_observe(const char *type, const char *instance, int ok, const char *error_type,
    double seconds)
{
	const char *values[3] = {type, instance, ok ? "success" : "error"};

	if (!prom_enabled())
		return;
	prom_add(PROM_POLL_DURATION, values, seconds);
	prom_add(PROM_POLL_TOTAL, values, 1);
	if (!ok) {
		values[2] = error_type && *error_type ? error_type : "unknown";
		prom_add(PROM_POLL_ERRORS, values, 1);
	}
}

/* --- publication ---------------------------------------------------------------------- */

static const struct db_stmt stmt_publish = {
	"prom_publish",
	"WITH p AS (INSERT INTO pulse.prom_processes (process, program, started_at, seen_at) "
	"  VALUES ($1, $2, to_timestamp($3::double precision), now()) "
	"  ON CONFLICT (process) DO UPDATE SET program = EXCLUDED.program, "
	"  started_at = EXCLUDED.started_at, seen_at = now()) "
	"INSERT INTO pulse.prom_series (process, name, labels, le, value, absolute) "
	"SELECT $1, x.n, x.l, x.le, x.v, x.a "
	"FROM json_to_recordset($4::json) AS x(n text, l text, le float8, v float8, a boolean) "
	"ON CONFLICT (process, name, labels, le) DO UPDATE SET absolute = EXCLUDED.absolute, "
	"value = CASE WHEN EXCLUDED.absolute THEN EXCLUDED.value "
	"  ELSE pulse.prom_series.value + EXCLUDED.value END",
	4,
};

static void
row_add(struct json_object *rows, const char *name, const char *suffix, const char *labels,
    double le, double v, int absolute)
{
	struct json_object *o = json_object_new_object();
	char n[160], les[32];

	snprintf(n, sizeof(n), "%s%s", name, suffix);
	json_object_object_add(o, "n", json_object_new_string(n));
	json_object_object_add(o, "l", json_object_new_string(labels));
	/* A string: float8 input takes "Infinity", JSON has no such number. */
	if (isinf(le))
		strcpy(les, "Infinity");
	else
		snprintf(les, sizeof(les), "%.17g", le);
	json_object_object_add(o, "le", json_object_new_string(les));
	json_object_object_add(o, "v", json_object_new_double(v));
	json_object_object_add(o, "a", json_object_new_boolean(absolute));
	json_object_array_add(rows, o);
}

/* What the process itself costs, from /proc/self. */
static void
process_rows(struct json_object *rows)
{
	char labels[300], buf[1024];
	const char *values[1] = {P.process};
	double v[5] = {0};
	long page = sysconf(_SC_PAGESIZE), ticks = sysconf(_SC_CLK_TCK);
	FILE *fp;
	DIR *d;

	if (labels_render(&process_families[0], values, labels, sizeof(labels)) < 0)
		return;
	if ((fp = fopen("/proc/self/stat", "r")) != NULL) {
		if (fgets(buf, sizeof(buf), fp) != NULL) {
			/* After the command name in parentheses: field 3 onwards. utime and stime
			 * are fields 14 and 15, vsize 23, rss 24. */
			const char *p = strrchr(buf, ')');
			unsigned long long f[24] = {0};
			int k = 3;
			for (p = p ? p + 2 : buf; *p && k <= 24; k++) {
				f[k - 1] = strtoull(p, NULL, 10);
				p = strchr(p, ' ');
				if (p == NULL)
					break;
				p++;
			}
			v[0] = (double)(f[13] + f[14]) / (double)(ticks > 0 ? ticks : 100);
			v[4] = (double)f[22];
			v[2] = (double)f[23] * (double)page;
		}
		fclose(fp);
	}
	if ((d = opendir("/proc/self/fd")) != NULL) {
		struct dirent *e;
		int n = 0;
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				n++;
		closedir(d);
		v[1] = n - 1;	/* the directory's own descriptor */
	}
	v[3] = P.started;
	for (size_t i = 0; i < ARRAY_LEN(process_families); i++)
		row_add(rows, process_families[i].name, "", labels, -1, v[i], 1);
}

/* The rows of what changed since the last publication; snap receives the counts they are
 * based on (one per series, in P.list order), to be marked flushed once stored. */
static struct json_object *
delta_rows(struct series *snap, int *nsnap)
{
	struct json_object *rows = json_object_new_array();

	pthread_mutex_lock(&P.lock);
	*nsnap = P.nseries;
	for (int i = 0; i < P.nseries; i++)
		snap[i] = *P.list[i];
	pthread_mutex_unlock(&P.lock);
	for (int i = 0; i < *nsnap; i++) {
		const struct series *s = &snap[i];
		const struct family *f = &families[s->family];

		if (f->type != PROM_HISTOGRAM) {
			if (s->value != s->flushed_value)
				row_add(rows, f->name, "", s->labels, -1, s->value - s->flushed_value, 0);
			continue;
		}
		uint64_t cum = 0, total = 0;
		int b;
		for (b = 0; b <= MAX_BUCKETS; b++)
			total += s->buckets[b] - s->flushed_buckets[b];
		if (total == 0)
			continue;
		for (b = 0; ; b++) {
			cum += s->buckets[b] - s->flushed_buckets[b];
			row_add(rows, f->name, "_bucket", s->labels, f->buckets[b] ? f->buckets[b] : INFINITY,
			    (double)cum, 0);
			if (f->buckets[b] == 0)
				break;
		}
		row_add(rows, f->name, "_sum", s->labels, -1, s->sum - s->flushed_sum, 0);
		row_add(rows, f->name, "_count", s->labels, -1, (double)total, 0);
	}
	return rows;
}

int
prom_flush(struct db *db)
{
	static struct series snap[PROM_MAX_SERIES];	/* under flush_lock */
	struct json_object *rows;
	char started[32];
	const char *params[4];
	int nsnap = 0, rc;

	if (!prom_enabled())
		return 0;
	pthread_mutex_lock(&P.flush_lock);
	atomic_store(&P.last_flush_ms, (long long)(clock_monotonic() * 1000.0));
	rows = delta_rows(snap, &nsnap);
	process_rows(rows);
	snprintf(started, sizeof(started), "%.3f", P.started);
	params[0] = P.process;
	params[1] = P.program;
	params[2] = started;
	params[3] = jsonutil_to_string(rows, NULL);
	rc = db_exec_stmt_ok(db, &stmt_publish, params);
	json_object_put(rows);
	if (rc == 0) {
		pthread_mutex_lock(&P.lock);
		for (int i = 0; i < nsnap; i++) {
			struct series *s = P.list[i];
			s->flushed_value = snap[i].value;
			s->flushed_sum = snap[i].sum;
			memcpy(s->flushed_buckets, snap[i].buckets, sizeof(s->flushed_buckets));
		}
		pthread_mutex_unlock(&P.lock);
	} else {
		log_warn("msg=\"prometheus publication failed\" error=\"%s\"", db_error(db));
	}
	pthread_mutex_unlock(&P.flush_lock);
	return rc;
}

int
prom_flush_due(struct db *db)
{
	long long now = (long long)(clock_monotonic() * 1000.0);
	long long last = atomic_load(&P.last_flush_ms);

	if (!prom_enabled() || now - last < (long long)P.interval * 1000 ||
	    !atomic_compare_exchange_strong(&P.last_flush_ms, &last, now))
		return 0;
	return prom_flush(db);
}

double
prom_since_flush(void)
{
	return clock_monotonic() - (double)atomic_load(&P.last_flush_ms) / 1000.0;
}

static const struct db_stmt stmt_fold = {
	"prom_fold_gone",
	"WITH gone AS (DELETE FROM pulse.prom_processes "
	"  WHERE seen_at < now() - make_interval(secs => $1::int) RETURNING process), "
	"rows AS (DELETE FROM pulse.prom_series s USING gone WHERE s.process = gone.process "
	"  RETURNING s.name, s.labels, s.le, s.value, s.absolute), "
	"folded AS (INSERT INTO pulse.prom_series (process, name, labels, le, value) "
	"  SELECT '', name, labels, le, sum(value) FROM rows WHERE NOT absolute "
	"  GROUP BY name, labels, le "
	"  ON CONFLICT (process, name, labels, le) "
	"  DO UPDATE SET value = pulse.prom_series.value + EXCLUDED.value) "
	"SELECT count(*) FROM gone",
	1,
};

int
prom_fold_gone(struct db *db, int gone_after)
{
	char after[16];
	const char *params[1] = {after};
	PGresult *res;
	int n;

	snprintf(after, sizeof(after), "%d", gone_after);
	res = db_exec_stmt(db, &stmt_fold, params);
	if (res == NULL)
		return -1;
	n = db_value_int32(res, 0, 0);
	PQclear(res);
	return n;
}

/* --- exposition ----------------------------------------------------------------------- */

/* Every published series summed; absolute values only of processes seen lately. */
static const struct db_stmt stmt_series = {
	"prom_series_sum",
	"SELECT s.name, s.labels, s.le, sum(s.value) "
	"FROM pulse.prom_series s LEFT JOIN pulse.prom_processes p USING (process) "
	"WHERE NOT s.absolute OR p.seen_at > now() - make_interval(secs => $1::int) "
	"GROUP BY s.name, s.labels, s.le ORDER BY s.name, s.labels, s.le",
	1,
};

/* The family a stored name belongs to: its entry and the suffix after its name. */
static const struct family *
family_of(const char *name, const char **suffix)
{
	for (int pass = 0; pass < 2; pass++) {
		const struct family *list = pass ? process_families : families;
		size_t n = pass ? ARRAY_LEN(process_families) : PROM_FAMILY_COUNT;

		for (size_t i = 0; i < n; i++) {
			size_t len = strlen(list[i].name);
			if (strncmp(name, list[i].name, len) != 0)
				continue;
			*suffix = name + len;
			if (**suffix == '\0' || (list[i].type == PROM_HISTOGRAM &&
			    (strcmp(*suffix, "_bucket") == 0 || strcmp(*suffix, "_sum") == 0 ||
			    strcmp(*suffix, "_count") == 0)))
				return &list[i];
		}
	}
	return NULL;
}

static const char *const type_names[] = {"counter", "gauge", "histogram"};

static void
value_put(struct strbuf *out, double v)
{
	if (isinf(v))
		sb_puts(out, v > 0 ? "+Inf" : "-Inf");
	else if (isnan(v))
		sb_puts(out, "NaN");
	else if (v == (double)(long long)v && fabs(v) < 1e15)
		sb_printf(out, "%lld", (long long)v);
	else
		sb_printf(out, "%.15g", v);
}

/* Gives out to write once it holds a chunk (all of it when last). 0, or -1 once refused. */
static int
chunk_out(struct strbuf *out, prom_write_fn write, void *arg, int last)
{
	int rc;

	if (out->len == 0 || (!last && out->len < PROM_CHUNK))
		return 0;
	rc = write(arg, out->data, out->len);
	sb_reset(out);
	return rc;
}

int
prom_render(struct db *db, prom_write_fn write, void *arg)
{
	char live[16];
	const char *params[1] = {live};
	const struct family *current = NULL;
	struct prom_estate *estate;
	struct strbuf out = {0};
	PGresult *res;
	int interval = P.interval > 0 ? P.interval : 15, rc = 0;

	/* A live process publishes every interval: three missed ones and its gauges go. */
	snprintf(live, sizeof(live), "%d", interval * 3 > 30 ? interval * 3 : 30);
	res = db_exec_stmt(db, &stmt_series, params);
	if (res == NULL)
		return -1;
	if ((estate = prom_estate_query(db)) == NULL) {
		PQclear(res);
		return -1;
	}
	sb_reserve(&out, PROM_CHUNK + 4096);
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		const char *name = PQgetvalue(res, i, 0), *labels = PQgetvalue(res, i, 1), *suffix;
		double le = db_value_double(res, i, 2);
		const struct family *f = family_of(name, &suffix);

		if (f == NULL)
			continue;	/* a family of another version */
		if (f != current) {
			sb_printf(&out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
			    type_names[f->type]);
			current = f;
		}
		sb_puts(&out, name);
		if (*labels || le >= 0) {
			sb_puts(&out, "{");
			sb_puts(&out, labels);
			if (le >= 0) {
				sb_puts(&out, *labels ? ",le=\"" : "le=\"");
				if (isinf(le))
					sb_puts(&out, "+Inf");
				else
					sb_printf(&out, "%g", le);
				sb_puts(&out, "\"");
			}
			sb_puts(&out, "}");
		}
		sb_puts(&out, " ");
		value_put(&out, db_value_double(res, i, 3));
		sb_puts(&out, "\n");
		rc = chunk_out(&out, write, arg, 0);
	}
	PQclear(res);
	if (rc == 0)
		rc = prom_estate_render(estate, &out, write, arg);
	if (rc == 0)
		(void)chunk_out(&out, write, arg, 1);
	prom_estate_free(estate);
	sb_free(&out);
	return 0;
}
