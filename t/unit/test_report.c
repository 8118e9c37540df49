/* test_report.c: metrics reports (src/report.c, src/report_pdf.c) from reports built here,
 * without a database: the display names, units and values, the file name, the CSV (quoting,
 * the summary, a row per distinct second with empty cells), and PDFs that cairo finishes
 * (with charts, with page breaks, without metrics). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "tap.h"

/* A metric of n raw points at t0, t0 + step, ... with values v0, v0 + dv, ... */
static void
metric(struct report *rep, const char *key, int n, double t0, double step, double v0, double dv)
{
	struct report_metric *m = &rep->m[rep->nmetrics++];
	struct met_bucket *b = calloc((size_t)n, sizeof(*b));
	double sum = 0;

	for (int i = 0; i < n; i++) {
		double v = v0 + dv * i;
		b[i].t = t0 + step * i;
		b[i].a = (struct met_acc){1, v, v, v};
		sum += v;
	}
	m->key = key;
	m->b = b;
	m->n = n;
	m->min = dv >= 0 ? v0 : v0 + dv * (n - 1);
	m->max = dv >= 0 ? v0 + dv * (n - 1) : v0;
	m->avg = sum / n;
	m->cur = v0 + dv * (n - 1);
	rep->total += n;
}

static void
release(struct report *rep)
{
	for (int i = 0; i < rep->nmetrics; i++)
		free((void *)rep->m[i].b);
}

static int
is_pdf(const struct strbuf *sb)
{
	return sb->len > 1000 && memcmp(sb->data, "%PDF-", 5) == 0 &&
	    strstr(sb->data + sb->len - 32, "%%EOF") != NULL;
}

static void
test_values(void)
{
	char out[64];

	is_str(report_value(1536, "bytes", out, sizeof(out)), "1.50 KiB", "1536 bytes");
	is_str(report_value(512, "bytes", out, sizeof(out)), "512 B", "below 1024: bytes");
	is_str(report_value(3.0 * 1024 * 1024 * 1024, "bytes", out, sizeof(out)), "3.00 GiB", "GiB");
	is_str(report_value(2.0 * 1152921504606846976.0, "bytes", out, sizeof(out)), "2.00 EiB",
	    "EiB");
	is_str(report_value(4096.0 * 1152921504606846976.0, "bytes", out, sizeof(out)),
	    "4096.00 EiB", "past EiB: still EiB");
	is_str(report_value(14.5, "%", out, sizeof(out)), "14.50", "percent: two decimals");
	is_str(report_value(-0.004, "", out, sizeof(out)), "-0.00", "no unit: two decimals");
	is_str(report_type_name("vm"), "Virtual Machine", "vm");
	is_str(report_type_name("dockerContainer"), "Docker Container", "dockerContainer");
	is_str(report_type_name("guest"), "guest", "a type without a display name as it is");
	is_str(report_metric_name("avail"), "Available Space", "avail");
	is_str(report_metric_name("netin"), "netin", "netin as it is");
	is_str(report_metric_unit("usage"), "%", "usage in percent");
	is_str(report_metric_unit("total"), "bytes", "total in bytes");
	is_str(report_metric_unit("diskread"), "", "diskread: no unit");
	is_str(report_filename("pve1:node/1 \"x\"", 1767225600, REPORT_CSV, out, sizeof(out)),
	    "report-pve1_node_1__x_-20260101.csv", "file name: the id's odd characters as _");
	is_str(report_filename("vm-100", 1767225599, REPORT_PDF, out, sizeof(out)),
	    "report-vm-100-20251231.pdf", "file name: the UTC day");
}

static void
test_csv(void)
{
	struct report rep = {.type = "storage", .id = "local, lvm", .title = " spaced \"title\"",
	    .start = 1767225600, .end = 1767229200, .generated = 1767229300};
	struct strbuf sb = {0};
	struct met_bucket *b;
	const char *want =
	    "# Pulse Metrics Report\n"
	    "# Title:,\" spaced \"\"title\"\"\"\n"
	    "# Resource Type:,Storage\n"
	    "# Resource ID:,\"local, lvm\"\n"
	    "# Period:,2026-01-01T00:00:00Z to 2026-01-01T01:00:00Z\n"
	    "# Generated:,2026-01-01T01:01:40Z\n"
	    "# Total Data Points:,6\n"
	    "\n"
	    "# SUMMARY\n"
	    "Metric,Count,Min,Max,Average,Current,Unit\n"
	    "Storage Usage,3,10.00,30.00,20.00,30.00,%\n"
	    "Used Space,3,512 B,3.00 KiB,1.50 KiB,3.00 KiB,bytes\n"
	    "\n"
	    "# DATA\n"
	    "Timestamp,Storage Usage (%),Used Space (bytes)\n"
	    "2026-01-01T00:00:00Z,10.00,\n"
	    "2026-01-01T00:00:10Z,20.00,1024.00\n"
	    "2026-01-01T00:00:20Z,30.00,\n"
	    "2026-01-01T00:00:30Z,,3072.00\n";

	metric(&rep, "usage", 3, 1767225600, 10, 10, 10);
	/* Two points in one second: the row shows the last. */
	metric(&rep, "used", 3, 0, 0, 0, 0);
	b = (struct met_bucket *)rep.m[1].b;
	b[0] = (struct met_bucket){1767225610.2, {1, 512, 512, 512}};
	b[1] = (struct met_bucket){1767225610.9, {1, 1024, 1024, 1024}};
	b[2] = (struct met_bucket){1767225630.1, {1, 3072, 3072, 3072}};
	rep.m[1].min = 512;
	rep.m[1].max = rep.m[1].cur = 3072;
	rep.m[1].avg = 1536;
	report_csv(&rep, &sb);
	is_str(sb.data, want, "CSV: the layout, quoting, empty cells, a second's last point");
	sb_free(&sb);
	release(&rep);
}

static void
test_pdf(void)
{
	static const char *const keys[] = {"avail", "cpu", "disk", "diskread", "diskwrite",
	    "memory", "netin", "netout", "total", "usage", "used", "zz-unknown"};
	struct report rep = {.type = "vm", .id = "vm-100", .title = "Ünïcode – report ✓",
	    .start = 1767225600, .end = 1769817600, .generated = 1769817600};
	struct strbuf sb = {0};
	int rc;

	metric(&rep, "cpu", 5000, 1767225600, 518.4, 0, 0.01);
	metric(&rep, "memory", 1, 1767225600, 60, 42, 0);
	metric(&rep, "netin", 3, 1767225600, 60, 7, 0);
	rc = report_pdf(&rep, &sb);
	ok(rc == 0 && is_pdf(&sb), "PDF: a chart of 5,000 points, one of one point, a flat one "
	    "(%zu bytes)", sb.len);
	sb_free(&sb);
	release(&rep);

	memset(&rep, 0, sizeof(rep));
	rep.type = "node";
	rep.id = "pve1";
	rep.title = "every metric";
	rep.start = 1767225600;
	rep.end = 1767229200;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		metric(&rep, keys[i], 60, 1767225600, 60, (double)i, 1.5);
	ok(report_pdf(&rep, &sb) == 0 && is_pdf(&sb), "PDF: twelve charts over pages");
	sb_free(&sb);
	release(&rep);

	memset(&rep, 0, sizeof(rep));
	rep.type = "storage";
	rep.id = "bad \xff\xfe utf-8 \xc3";
	rep.title = "nothing";
	ok(report_pdf(&rep, &sb) == 0 && is_pdf(&sb), "PDF: no metrics, the header and the table; "
	    "an id that is not UTF-8");
	sb_free(&sb);
}

/* fontconfig's caches, filled once when pango first lays out text and never freed, are
 * not this test's leaks (LeakSanitizer asks for this in the ASan build). */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\n";
}

int
main(void)
{
	test_values();
	test_csv();
	test_pdf();
	return done_testing();
}
