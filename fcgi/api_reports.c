/* api_reports.c: GET /api/admin/reports/generate (metrics-reporting.md §3.2), a resource's
 * metrics report as CSV or PDF from the metrics tiers (src/report.c). Gated on the licence
 * feature advanced_reporting in the route table. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "handlers.h"
#include "report.h"
#include "timefmt.h"
#include "util.h"

#define REPORT_DEFAULT_RANGE 86400.0
#define REPORT_MAX_TITLE 256

/* An RFC 3339 query parameter into *t (left as it is when absent or empty). Returns 0, or
 * -1 when it is there but not such a time. */
static int
time_param(struct request *r, const char *name, double *t)
{
	const char *v = req_query(r, name);

	if (v == NULL || *v == '\0')
		return 0;
	return timefmt_parse_rfc3339(v, t);
}

void
api_reports_generate(struct request *r)
{
	const char *type = req_query(r, "resourceType"), *id = req_query(r, "resourceId");
	const char *metric = req_query(r, "metricType"), *format = req_query(r, "format");
	const char *title = req_query(r, "title");
	double now = clock_wall(), end = now, start = NAN;
	enum report_format f = REPORT_PDF;
	struct report *rep;
	struct strbuf *out;
	char name[192];

	if (type == NULL || *type == '\0' || id == NULL || *id == '\0') {
		resp_error(r, 400, "missing_parameters", "resourceType and resourceId are required");
		return;
	}
	/* The id goes to PostgreSQL as text and both into the report: UTF-8 only. */
	if (!str_utf8_valid(id) || (title != NULL && !str_utf8_valid(title))) {
		resp_error(r, 400, "invalid_encoding", "resourceId and title must be UTF-8 text");
		return;
	}
	if (met_stored_types(type) == NULL) {
		resp_error(r, 400, "invalid_resource_type", "Unknown resourceType '%.64s'", type);
		return;
	}
	if (metric == NULL)
		metric = "";
	if (*metric && !met_known_metric(metric)) {
		resp_error(r, 400, "invalid_metric", "Unknown metricType '%.64s'", metric);
		return;
	}
	if (format != NULL && strcmp(format, "csv") == 0) {
		f = REPORT_CSV;
	} else if (format != NULL && *format && strcmp(format, "pdf") != 0) {
		resp_error(r, 400, "unsupported_format",
		    "Failed to generate report: unsupported format: %.32s", format);
		return;
	}
	if (time_param(r, "end", &end) != 0 || time_param(r, "start", &start) != 0) {
		resp_error(r, 400, "invalid_time", "start and end must be RFC 3339 times "
		    "(such as 2026-01-09T21:25:38Z)");
		return;
	}
	if (isnan(start))
		start = end - REPORT_DEFAULT_RANGE;
	if (!(end > start)) {
		resp_error(r, 400, "invalid_range", "end must be after start");
		return;
	}
	if (end - start > REPORT_MAX_RANGE) {
		resp_error(r, 400, "range_too_large",
		    "Report range too large: at most %.0f days", REPORT_MAX_RANGE / 86400);
		return;
	}
	if (title == NULL || *title == '\0')
		title = arena_printf(r->arena, "%s Report: %s", type, id);
	if (strlen(title) > REPORT_MAX_TITLE) {
		resp_error(r, 400, "invalid_title", "title must be at most %d bytes",
		    REPORT_MAX_TITLE);
		return;
	}
	rep = arena_zalloc(r->arena, sizeof(*rep));
	arena_defer(r->arena, report_free, rep);
	switch (report_open(r->db, type, id, metric, title, start, end, now, rep)) {
	case REPORT_OK:
		break;
	case REPORT_TOO_LARGE:
		resp_error(r, 400, "report_too_large", "Report too large: up to %ld data points "
		    "in the range (at most %d): choose a shorter range or one metric", rep->total,
		    REPORT_MAX_POINTS);
		return;
	default:
		resp_db_unavailable(r);
		return;
	}
	out = arena_zalloc(r->arena, sizeof(*out));
	arena_defer(r->arena, sb_free_deferred, out);
	if (f == REPORT_CSV) {
		report_csv(rep, out);
	} else if (report_pdf(rep, out) != 0) {
		resp_error(r, 500, "report_failed", "Failed to generate report: PDF output failed");
		return;
	}
	resp_header(r, "Content-Disposition", arena_printf(r->arena,
	    "attachment; filename=\"%s\"", report_filename(id, now, f, name, sizeof(name))));
	resp_raw(r, 200, f == REPORT_CSV ? "text/csv" : "application/pdf", out->data, out->len);
}
