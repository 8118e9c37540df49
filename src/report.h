/* report.h: metrics reports (metrics-reporting.md §3): a resource's series over a window,
 * read through the metrics history (src/metrics_read.h, the tier for the window's length),
 * summed up per metric and written as CSV (§3.4) or as a PDF typeset with cairo and pango
 * (§3.5, src/report_pdf.c). Nothing here knows of requests. */
#ifndef PULSE_REPORT_H
#define PULSE_REPORT_H

#include "metrics_read.h"
#include "util.h"

struct db;

enum report_format { REPORT_PDF, REPORT_CSV };

/* A report's bounds: the longest window (the history's longest range) and the most points
 * read for one report (what keeps the responder under its memory budget). */
#define REPORT_MAX_RANGE (3650.0 * 86400)
#define REPORT_MAX_POINTS 200000

/* One metric of a report: its points (bucket averages for rolled-up tiers, in time order)
 * and their summary (§3.3). */
struct report_metric {
	const char *key;		/* stored metric name */
	const struct met_bucket *b;
	int n;
	double min, max, avg, cur;
};

struct report {
	const char *type, *id, *title;	/* title: never empty */
	double start, end, generated;	/* unix seconds */
	int tier;			/* read from (met_tiers) */
	int nmetrics;			/* with at least one point, by key */
	struct report_metric m[MET_HISTORY_MAX_SERIES];
	long total;			/* points of all metrics */
	struct met_history h;		/* what the points belong to */
};

enum report_status { REPORT_OK = 0, REPORT_DB_ERROR = -1, REPORT_TOO_LARGE = 1 };

/* Reads the report of resource id of type (a name met_stored_types knows), one metric or
 * all ("" or NULL), over [start, end], titled title (NULL or "": "<type> Report: <id>").
 * The strings must outlive rep; report_free (for arena_defer) frees what rep holds, also
 * after a failure. REPORT_TOO_LARGE when the window may hold more than REPORT_MAX_POINTS
 * points, found before they are read (rep->total: at most how many; a rolled-up tier's
 * buckets, the raw rows of the series' blocks) or after (rep->total: how many). */
enum report_status report_open(struct db *db, const char *type, const char *id,
    const char *metric, const char *title, double start, double end, double now,
    struct report *rep);
void report_free(void *rep);

/* The display names and units of §3.3: a resource type's, a metric's (unknown ones as they
 * are) and a metric's unit ("%", "bytes" or ""). */
const char *report_type_name(const char *type);
const char *report_metric_name(const char *metric);
const char *report_metric_unit(const char *metric);

/* A value as the summary shows it: bytes in binary units ("1.50 KiB", "512 B"), anything
 * else with two decimals. Returns out. */
const char *report_value(double v, const char *unit, char *out, size_t len);

/* Distinct whole seconds across the metrics' points, ascending: call with *cursor zeroed
 * (an array of rep->nmetrics ints) and it returns 1 with *sec the next second and vals[i]
 * the value of metric i at it (NAN: none; the last point of the second), or 0 at the end. */
int report_next_second(const struct report *rep, int *cursor, double *sec, double *vals);

/* The report as CSV (§3.4) or PDF (§3.5) appended to out. report_pdf returns 0, or -1 when
 * cairo fails (out then holds nothing usable). */
void report_csv(const struct report *rep, struct strbuf *out);
int report_pdf(const struct report *rep, struct strbuf *out);

/* The file name a download gets: report-<id>-<YYYYMMDD>.<csv|pdf>, the id's characters
 * outside [A-Za-z0-9._-] as "_". Returns out. */
const char *report_filename(const char *id, double now, enum report_format f, char *out,
    size_t len);

#endif
