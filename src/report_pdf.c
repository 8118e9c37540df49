/* report_pdf.c: a report as a PDF (metrics-reporting.md §3.5), typeset with pango and drawn
 * with cairo on A4 pages in millimetres: the header box, the summary table, a line chart
 * per metric and a sample of the data, the footer on the last page. */
#include "config.h"

#include "report.h"

#include <cairo-pdf.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

#define PAGE_W 210.0
#define PAGE_H 297.0
#define MARGIN 15.0
#define CONTENT_W (PAGE_W - 2 * MARGIN)
#define PT_PER_MM (72.0 / 25.4)
#define CHART_POINTS 1000	/* a chart's line: at most this many points (LTTB keeps peaks) */
#define SAMPLE_ROWS 50

struct pdf {
	cairo_surface_t *surface;
	cairo_t *cr;
	PangoLayout *layout;
	double y;		/* the cursor, mm from the top */
	int pages;
};

enum align { LEFT, CENTER, RIGHT };

/* One font map for the process, used by one report at a time: pango's default is one per
 * thread, each with its own copy of the fonts (megabytes a responder thread would keep),
 * and a font map is not for two threads at once. Drawing a report takes milliseconds. */
static pthread_mutex_t fontmap_lock = PTHREAD_MUTEX_INITIALIZER;
static PangoFontMap *fontmap;

static cairo_status_t
pdf_write(void *closure, const unsigned char *data, unsigned int len)
{
	sb_append(closure, data, len);
	return CAIRO_STATUS_SUCCESS;
}

static void
rgb(struct pdf *p, int r, int g, int b)
{
	cairo_set_source_rgb(p->cr, r / 255.0, g / 255.0, b / 255.0);
}

/* Text in a box of width w at (x, y), one line, cut with an ellipsis when too long; the
 * font "Sans" at size points, style "Bold", "Italic" or "". Returns the line's height. */
static double
text(struct pdf *p, double x, double y, double w, enum align al, double size,
    const char *style, const char *s)
{
	char font[64];
	PangoFontDescription *fd;
	PangoRectangle ink, logical;
	double tw;

	/* A title or an id from the query may be any bytes: pango takes UTF-8 only. */
	char *valid = g_utf8_validate(s, -1, NULL) ? NULL : g_utf8_make_valid(s, -1);

	if (valid)
		s = valid;
	snprintf(font, sizeof(font), "Sans %s %.1f", style, size);
	fd = pango_font_description_from_string(font);
	pango_layout_set_font_description(p->layout, fd);
	pango_font_description_free(fd);
	pango_layout_set_text(p->layout, s, -1);
	pango_layout_set_width(p->layout, (int)(w * PANGO_SCALE));
	pango_layout_set_ellipsize(p->layout, PANGO_ELLIPSIZE_END);
	pango_layout_get_extents(p->layout, &ink, &logical);
	tw = (double)logical.width / PANGO_SCALE;
	if (al == CENTER)
		x += (w - tw) / 2;
	else if (al == RIGHT)
		x += w - tw;
	cairo_move_to(p->cr, x, y);
	pango_cairo_show_layout(p->cr, p->layout);
	g_free(valid);
	return (double)logical.height / PANGO_SCALE;
}

static void
new_page(struct pdf *p)
{
	cairo_show_page(p->cr);
	p->pages++;
	p->y = MARGIN;
}

static void
fill_rect(struct pdf *p, double x, double y, double w, double h)
{
	cairo_rectangle(p->cr, x, y, w, h);
	cairo_fill(p->cr);
}

/* Times are shown in UTC, as everywhere else on our wire (docs/COMPATIBILITY.md). */
static const char *utc_text(double t, const char *fmt, char *out, size_t len)
    __attribute__((format(strftime, 2, 0)));

static const char *
utc_text(double t, const char *fmt, char *out, size_t len)
{
	time_t s = (time_t)floor(t);
	struct tm tm;

	gmtime_r(&s, &tm);
	/* fmt is checked at the callers (the attribute above). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	strftime(out, len, fmt, &tm);
#pragma GCC diagnostic pop
	return out;
}

/* --- the sections --------------------------------------------------------------------------- */

static void
header(struct pdf *p, const struct report *rep)
{
	char a[32], b[32], line[512];
	const char *labels[5] = {"Resource Type:", "Resource ID:", "Period:", "Data Points:",
	    "Generated:"};
	const char *values[5];
	char period[80], points[32], generated[32];

	rgb(p, 0, 0, 0);
	p->y += text(p, MARGIN, p->y, CONTENT_W, CENTER, 18, "Bold", "Pulse Metrics Report") + 2;
	rgb(p, 100, 100, 100);
	p->y += text(p, MARGIN, p->y, CONTENT_W, CENTER, 14, "", rep->title) + 4;
	rgb(p, 240, 240, 240);
	fill_rect(p, MARGIN, p->y, CONTENT_W, 35);
	snprintf(period, sizeof(period), "%s to %s",
	    utc_text(rep->start, "%Y-%m-%d %H:%M", a, sizeof(a)),
	    utc_text(rep->end, "%Y-%m-%d %H:%M", b, sizeof(b)));
	snprintf(points, sizeof(points), "%ld", rep->total);
	utc_text(rep->generated, "%Y-%m-%d %H:%M:%S", generated, sizeof(generated));
	values[0] = report_type_name(rep->type);
	values[1] = rep->id;
	values[2] = period;
	values[3] = points;
	values[4] = generated;
	rgb(p, 0, 0, 0);
	for (int i = 0; i < 5; i++) {
		double y = p->y + 3 + i * 6;
		text(p, MARGIN + 5, y, 35, LEFT, 10, "Bold", labels[i]);
		snprintf(line, sizeof(line), "%s", values[i]);
		text(p, MARGIN + 42, y, CONTENT_W - 47, LEFT, 10, "", line);
	}
	p->y += 35 + 8;
}

static void
heading(struct pdf *p, const char *s)
{
	rgb(p, 0, 0, 0);
	p->y += text(p, MARGIN, p->y, CONTENT_W, LEFT, 14, "Bold", s) + 3;
}

static void
summary(struct pdf *p, const struct report *rep)
{
	static const char *const cols[] = {"Metric", "Count", "Min", "Max", "Avg", "Current",
	    "Unit"};
	static const double widths[] = {40, 25, 25, 25, 25, 25, 15};
	const double row_h = 7;

	heading(p, "Summary");
	for (int r = -1; r < rep->nmetrics; r++) {
		const struct report_metric *m = r >= 0 ? &rep->m[r] : NULL;
		const char *unit = m ? report_metric_unit(m->key) : "";
		char cells[7][64];
		double x = MARGIN;
		if (p->y + row_h > PAGE_H - MARGIN)
			new_page(p);
		if (m == NULL)
			rgb(p, 66, 139, 202);
		else if (r % 2)
			rgb(p, 245, 245, 245);
		else
			rgb(p, 255, 255, 255);
		fill_rect(p, MARGIN, p->y, CONTENT_W, row_h);
		if (m) {
			snprintf(cells[0], sizeof(cells[0]), "%s", report_metric_name(m->key));
			snprintf(cells[1], sizeof(cells[1]), "%d", m->n);
			report_value(m->min, unit, cells[2], sizeof(cells[2]));
			report_value(m->max, unit, cells[3], sizeof(cells[3]));
			report_value(m->avg, unit, cells[4], sizeof(cells[4]));
			report_value(m->cur, unit, cells[5], sizeof(cells[5]));
			snprintf(cells[6], sizeof(cells[6]), "%s", unit);
		}
		for (int c = 0; c < 7; c++) {
			if (m)
				rgb(p, 0, 0, 0);
			else
				rgb(p, 255, 255, 255);
			text(p, x + 1.5, p->y + 1.5, widths[c] - 3, c == 0 ? LEFT : CENTER, 9,
			    m ? "" : "Bold", m ? cells[c] : cols[c]);
			x += widths[c];
		}
		rgb(p, 200, 200, 200);
		cairo_set_line_width(p->cr, 0.2);
		cairo_rectangle(p->cr, MARGIN, p->y, CONTENT_W, row_h);
		cairo_stroke(p->cr);
		p->y += row_h;
	}
	p->y += 8;
}

/* A metric's line chart: title, plot box, Y labels (max, min), X labels (first, last). */
static void
chart(struct pdf *p, const struct report_metric *m, int colour)
{
	static const int colours[5][3] = {{66, 139, 202}, {92, 184, 92}, {240, 173, 78},
	    {217, 83, 79}, {153, 102, 204}};
	const double box_h = 50, label_w = 14, px = MARGIN + label_w, pw = CONTENT_W - label_w;
	const char *unit = report_metric_unit(m->key);
	double lo = m->min, hi = m->max, span, t0 = m->b[0].t, t1 = m->b[m->n - 1].t;
	double *t = xmalloc(sizeof(double) * (size_t)m->n), *v = xmalloc(sizeof(double) * (size_t)m->n);
	int *keep = xmalloc(sizeof(int) * (size_t)m->n), nk;
	char title[128], a[32];

	if (p->y > 220)
		new_page(p);
	span = hi - lo;
	if (span < 0.1)
		span = 10;
	lo -= span * 0.1;
	hi += span * 0.1;
	if (lo < 0)
		lo = 0;
	if (hi <= lo)
		hi = lo + 1;
	if (*unit)
		snprintf(title, sizeof(title), "%s (%s)", report_metric_name(m->key), unit);
	else
		snprintf(title, sizeof(title), "%s", report_metric_name(m->key));
	rgb(p, 0, 0, 0);
	p->y += text(p, MARGIN, p->y, CONTENT_W, LEFT, 10, "Bold", title) + 1.5;
	rgb(p, 250, 250, 250);
	fill_rect(p, px, p->y, pw, box_h);
	rgb(p, 200, 200, 200);
	cairo_set_line_width(p->cr, 0.2);
	cairo_rectangle(p->cr, px, p->y, pw, box_h);
	cairo_stroke(p->cr);
	rgb(p, 100, 100, 100);
	snprintf(a, sizeof(a), "%.0f", hi);
	text(p, MARGIN, p->y, label_w - 1.5, RIGHT, 7, "", a);
	snprintf(a, sizeof(a), "%.0f", lo);
	text(p, MARGIN, p->y + box_h - 3, label_w - 1.5, RIGHT, 7, "", a);
	for (int i = 0; i < m->n; i++) {
		t[i] = m->b[i].t;
		v[i] = met_acc_avg(&m->b[i].a);
	}
	nk = met_lttb(t, v, m->n, CHART_POINTS, keep);
	rgb(p, colours[colour % 5][0], colours[colour % 5][1], colours[colour % 5][2]);
	cairo_set_line_width(p->cr, 0.5);
	cairo_set_line_join(p->cr, CAIRO_LINE_JOIN_ROUND);
	for (int i = 0; i < nk; i++) {
		double x = px + (t1 > t0 ? (t[keep[i]] - t0) / (t1 - t0) : 0) * pw;
		double y = p->y + box_h - (v[keep[i]] - lo) / (hi - lo) * box_h;
		if (i == 0)
			cairo_move_to(p->cr, x, y);
		else
			cairo_line_to(p->cr, x, y);
	}
	cairo_stroke(p->cr);
	p->y += box_h + 1;
	rgb(p, 100, 100, 100);
	text(p, px, p->y, 40, LEFT, 7, "", utc_text(t0, "%m/%d %H:%M", a, sizeof(a)));
	text(p, px + pw - 40, p->y, 40, RIGHT, 7, "", utc_text(t1, "%m/%d %H:%M", a, sizeof(a)));
	p->y += 8;
	free(t);
	free(v);
	free(keep);
}

static void
sample_header(struct pdf *p, const struct report *rep, double ts_w, double col_w)
{
	char label[13];

	rgb(p, 66, 139, 202);
	fill_rect(p, MARGIN, p->y, ts_w + col_w * rep->nmetrics, 6);
	rgb(p, 255, 255, 255);
	text(p, MARGIN + 1, p->y + 1, ts_w - 2, LEFT, 8, "Bold", "Timestamp");
	for (int i = 0; i < rep->nmetrics; i++) {
		snprintf(label, sizeof(label), "%s", report_metric_name(rep->m[i].key));
		text(p, MARGIN + ts_w + i * col_w + 1, p->y + 1, col_w - 2, CENTER, 8, "Bold", label);
	}
	p->y += 6;
}

/* The first SAMPLE_ROWS distinct seconds. The columns share the content width (the
 * original's 25 mm minimum runs off the page past five metrics). */
static void
sample(struct pdf *p, const struct report *rep)
{
	const double ts_w = 35, col_w = (CONTENT_W - ts_w) / (rep->nmetrics > 0 ? rep->nmetrics : 1);
	int cursor[MET_HISTORY_MAX_SERIES] = {0};
	double sec, vals[MET_HISTORY_MAX_SERIES];
	char a[32];

	if (p->y > 200)
		new_page(p);
	heading(p, "Data Sample");
	rgb(p, 100, 100, 100);
	p->y += text(p, MARGIN, p->y, CONTENT_W, LEFT, 8, "Italic",
	    "Showing first 50 data points. Export as CSV for complete data.") + 2;
	sample_header(p, rep, ts_w, col_w);
	for (int row = 0; row < SAMPLE_ROWS && report_next_second(rep, cursor, &sec, vals); row++) {
		if (p->y > 270) {
			new_page(p);
			sample_header(p, rep, ts_w, col_w);
		}
		rgb(p, row % 2 ? 245 : 255, row % 2 ? 245 : 255, row % 2 ? 245 : 255);
		fill_rect(p, MARGIN, p->y, ts_w + col_w * rep->nmetrics, 5);
		rgb(p, 0, 0, 0);
		text(p, MARGIN + 1, p->y + 0.8, ts_w - 2, LEFT, 7.5, "",
		    utc_text(sec, "%m/%d %H:%M:%S", a, sizeof(a)));
		for (int i = 0; i < rep->nmetrics; i++) {
			if (isnan(vals[i]))
				snprintf(a, sizeof(a), "-");
			else
				snprintf(a, sizeof(a), "%.2f", vals[i]);
			text(p, MARGIN + ts_w + i * col_w + 1, p->y + 0.8, col_w - 2, CENTER, 7.5, "", a);
		}
		p->y += 5;
	}
}

static void
footer(struct pdf *p, const struct report *rep)
{
	char line[96], ts[TIMEFMT_LEN];

	snprintf(line, sizeof(line), "Generated by Pulse - %s",
	    timefmt_rfc3339(rep->generated, ts, sizeof(ts)));
	rgb(p, 128, 128, 128);
	text(p, MARGIN, PAGE_H - 20, CONTENT_W, CENTER, 8, "Italic", line);
}

int
report_pdf(const struct report *rep, struct strbuf *out)
{
	struct pdf p = {0};
	PangoContext *pc;
	cairo_font_options_t *fo;
	cairo_status_t st;
	char *title;
	int charts = 0;

	p.surface = cairo_pdf_surface_create_for_stream(pdf_write, out, PAGE_W * PT_PER_MM,
	    PAGE_H * PT_PER_MM);
	title = g_utf8_make_valid(rep->title, -1);
	cairo_pdf_surface_set_metadata(p.surface, CAIRO_PDF_METADATA_TITLE, title);
	g_free(title);
	cairo_pdf_surface_set_metadata(p.surface, CAIRO_PDF_METADATA_CREATOR, "Pulse");
	p.cr = cairo_create(p.surface);
	cairo_scale(p.cr, PT_PER_MM, PT_PER_MM);
	pthread_mutex_lock(&fontmap_lock);
	if (fontmap == NULL)
		fontmap = pango_cairo_font_map_new();
	pc = pango_font_map_create_context(fontmap);
	pango_cairo_update_context(p.cr, pc);
	/* Sizes in points on a page in millimetres: 25.4 user units per inch. */
	pango_cairo_context_set_resolution(pc, 25.4);
	/* A unit is a millimetre: glyphs placed on whole units, or hinted to them, would be
	 * spaced out of their words. */
	pango_context_set_round_glyph_positions(pc, FALSE);
	fo = cairo_font_options_create();
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	pango_cairo_context_set_font_options(pc, fo);
	cairo_font_options_destroy(fo);
	p.layout = pango_layout_new(pc);
	pango_layout_context_changed(p.layout);
	p.y = MARGIN;
	p.pages = 1;
	header(&p, rep);
	summary(&p, rep);
	for (int i = 0; i < rep->nmetrics; i++)
		charts += rep->m[i].n >= 2;
	if (rep->nmetrics > 0) {
		if (charts) {
			if (p.y > 220)
				new_page(&p);
			heading(&p, "Charts");
		}
		for (int i = 0, k = 0; i < rep->nmetrics; i++)
			if (rep->m[i].n >= 2)
				chart(&p, &rep->m[i], k++);
		sample(&p, rep);
	}
	footer(&p, rep);
	cairo_show_page(p.cr);
	g_object_unref(p.layout);
	g_object_unref(pc);
	pthread_mutex_unlock(&fontmap_lock);
	st = cairo_status(p.cr);
	cairo_destroy(p.cr);
	cairo_surface_finish(p.surface);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(p.surface);
	cairo_surface_destroy(p.surface);
	return st == CAIRO_STATUS_SUCCESS ? 0 : -1;
}
