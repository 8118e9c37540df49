/* report.c: see report.h; the reading, the summaries and the CSV. The PDF is report_pdf.c. */
#include "config.h"

#include "report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

static const struct { const char *key, *name; } type_names[] = {
	{"node", "Node"}, {"vm", "Virtual Machine"}, {"container", "LXC Container"},
	{"dockerHost", "Docker Host"}, {"dockerContainer", "Docker Container"},
	{"storage", "Storage"},
};

static const struct { const char *key, *name, *unit; } metric_names[] = {
	{"cpu", "CPU Usage", "%"}, {"memory", "Memory Usage", "%"}, {"disk", "Disk Usage", "%"},
	{"usage", "Storage Usage", "%"}, {"used", "Used Space", "bytes"},
	{"total", "Total Space", "bytes"}, {"avail", "Available Space", "bytes"},
};

const char *
report_type_name(const char *type)
{
	for (size_t i = 0; i < ARRAY_LEN(type_names); i++)
		if (strcmp(type, type_names[i].key) == 0)
			return type_names[i].name;
	return type;
}

const char *
report_metric_name(const char *metric)
{
	for (size_t i = 0; i < ARRAY_LEN(metric_names); i++)
		if (strcmp(metric, metric_names[i].key) == 0)
			return metric_names[i].name;
	return metric;
}

const char *
report_metric_unit(const char *metric)
{
	for (size_t i = 0; i < ARRAY_LEN(metric_names); i++)
		if (strcmp(metric, metric_names[i].key) == 0)
			return metric_names[i].unit;
	return "";
}

const char *
report_value(double v, const char *unit, char *out, size_t len)
{
	static const char prefixes[] = "KMGTPE";
	double div = 1024;
	int exp = 0;

	if (strcmp(unit, "bytes") != 0) {
		snprintf(out, len, "%.2f", v);
		return out;
	}
	if (v < 1024) {
		snprintf(out, len, "%.0f B", v);
		return out;
	}
	for (double n = v / 1024; n >= 1024 && exp < 5; n /= 1024) {
		div *= 1024;
		exp++;
	}
	snprintf(out, len, "%.2f %ciB", v / div, prefixes[exp]);
	return out;
}

/* --- reading ----------------------------------------------------------------------------- */

static void
summarize(struct report_metric *m)
{
	double sum = 0;

	m->min = m->max = met_acc_avg(&m->b[0].a);
	for (int i = 0; i < m->n; i++) {
		double v = met_acc_avg(&m->b[i].a);
		sum += v;
		if (v < m->min)
			m->min = v;
		if (v > m->max)
			m->max = v;
	}
	m->avg = sum / m->n;
	m->cur = met_acc_avg(&m->b[m->n - 1].a);
}

enum report_status
report_open(struct db *db, const char *type, const char *id, const char *metric,
    const char *title, double start, double end, double now, struct report *rep)
{
	const char *types = met_stored_types(type);

	memset(rep, 0, sizeof(*rep));
	rep->type = type;
	rep->id = id;
	rep->title = title;
	rep->start = start;
	rep->end = end;
	rep->generated = now;
	/* Both ends inclusive (§1.9): the history reads (a, b]. */
	if (met_history_window(db, types ? types : "{}", id, metric ? metric : "", start - 1e-6,
	    end, REPORT_MAX_POINTS, &rep->h) != 0)
		return REPORT_DB_ERROR;
	rep->tier = rep->h.tier;
	if (rep->h.bound > REPORT_MAX_POINTS) {
		rep->total = rep->h.bound;
		return REPORT_TOO_LARGE;
	}
	for (int i = 0; i < rep->h.n; i++) {
		struct report_metric *m = &rep->m[rep->nmetrics];
		if (rep->h.buckets == NULL || rep->h.buckets[i].n == 0)
			continue;
		m->key = met_history_metric(&rep->h, i);
		m->b = rep->h.buckets[i].b;
		m->n = rep->h.buckets[i].n;
		summarize(m);
		rep->total += m->n;
		rep->nmetrics++;
	}
	return rep->total > REPORT_MAX_POINTS ? REPORT_TOO_LARGE : REPORT_OK;
}

void
report_free(void *p)
{
	struct report *rep = p;

	met_history_free(&rep->h);
}

int
report_next_second(const struct report *rep, int *cursor, double *sec, double *vals)
{
	double next = INFINITY;

	for (int i = 0; i < rep->nmetrics; i++)
		if (cursor[i] < rep->m[i].n && floor(rep->m[i].b[cursor[i]].t) < next)
			next = floor(rep->m[i].b[cursor[i]].t);
	if (isinf(next))
		return 0;
	for (int i = 0; i < rep->nmetrics; i++) {
		const struct report_metric *m = &rep->m[i];
		vals[i] = NAN;
		while (cursor[i] < m->n && floor(m->b[cursor[i]].t) == next)
			vals[i] = met_acc_avg(&m->b[cursor[i]++].a);
	}
	*sec = next;
	return 1;
}

const char *
report_filename(const char *id, double now, enum report_format f, char *out, size_t len)
{
	struct strbuf sb = {0};
	time_t t = (time_t)now;
	struct tm tm;
	char day[16];

	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	sb_puts(&sb, "report-");
	for (const char *p = id; *p && sb.len < 128; p++) {
		char c = *p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-';
		sb_append(&sb, ok ? &c : "_", 1);
	}
	sb_printf(&sb, "-%s.%s", day, f == REPORT_CSV ? "csv" : "pdf");
	snprintf(out, len, "%s", sb.data);
	sb_free(&sb);
	return out;
}

/* --- CSV --------------------------------------------------------------------------------- */

/* A field under Go's encoding/csv rules: quoted when it holds a comma, a quote or a line
 * break, or starts with a space; quotes doubled. */
static void
csv_field(struct strbuf *out, const char *s, int first)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL || s[0] == ' ' || s[0] == '\t' ||
	    strcmp(s, "\\.") == 0;

	if (!first)
		sb_append(out, ",", 1);
	if (!quote) {
		sb_puts(out, s);
		return;
	}
	sb_append(out, "\"", 1);
	for (; *s; s++)
		sb_append(out, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1);
	sb_append(out, "\"", 1);
}

static void
csv_pair(struct strbuf *out, const char *label, const char *value)
{
	csv_field(out, label, 1);
	csv_field(out, value, 0);
	sb_append(out, "\n", 1);
}

void
report_csv(const struct report *rep, struct strbuf *out)
{
	char a[TIMEFMT_LEN], b[TIMEFMT_LEN], num[64];
	int cursor[MET_HISTORY_MAX_SERIES] = {0};
	double sec, vals[MET_HISTORY_MAX_SERIES];
	struct strbuf cell = {0};

	sb_puts(out, "# Pulse Metrics Report\n");
	csv_pair(out, "# Title:", rep->title);
	csv_pair(out, "# Resource Type:", report_type_name(rep->type));
	csv_pair(out, "# Resource ID:", rep->id);
	sb_printf(&cell, "%s to %s", timefmt_rfc3339(rep->start, a, sizeof(a)),
	    timefmt_rfc3339(rep->end, b, sizeof(b)));
	csv_pair(out, "# Period:", cell.data);
	csv_pair(out, "# Generated:", timefmt_rfc3339(rep->generated, a, sizeof(a)));
	snprintf(num, sizeof(num), "%ld", rep->total);
	csv_pair(out, "# Total Data Points:", num);
	sb_puts(out, "\n# SUMMARY\nMetric,Count,Min,Max,Average,Current,Unit\n");
	for (int i = 0; i < rep->nmetrics; i++) {
		const struct report_metric *m = &rep->m[i];
		const char *unit = report_metric_unit(m->key);
		csv_field(out, report_metric_name(m->key), 1);
		sb_printf(out, ",%d", m->n);
		csv_field(out, report_value(m->min, unit, num, sizeof(num)), 0);
		csv_field(out, report_value(m->max, unit, num, sizeof(num)), 0);
		csv_field(out, report_value(m->avg, unit, num, sizeof(num)), 0);
		csv_field(out, report_value(m->cur, unit, num, sizeof(num)), 0);
		csv_field(out, unit, 0);
		sb_append(out, "\n", 1);
	}
	sb_puts(out, "\n# DATA\nTimestamp");
	for (int i = 0; i < rep->nmetrics; i++) {
		const char *unit = report_metric_unit(rep->m[i].key);
		sb_reset(&cell);
		sb_puts(&cell, report_metric_name(rep->m[i].key));
		if (*unit)
			sb_printf(&cell, " (%s)", unit);
		csv_field(out, cell.data, 0);
	}
	sb_append(out, "\n", 1);
	while (report_next_second(rep, cursor, &sec, vals)) {
		sb_puts(out, timefmt_rfc3339(sec, a, sizeof(a)));
		for (int i = 0; i < rep->nmetrics; i++) {
			if (isnan(vals[i]))
				sb_append(out, ",", 1);
			else
				sb_printf(out, ",%.2f", vals[i]);
		}
		sb_append(out, "\n", 1);
	}
	sb_free(&cell);
}
