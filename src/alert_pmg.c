/* alert_pmg.c: the Mail Gateway alert checks beyond the cluster totals (alerts-notifications.md
 * §3.8): per-node queues, quarantine size and growth, mail-rate anomalies. */
#include "config.h"

#include "alert_pmg.h"
#include "alert_engine.h"
#include "pmg.h"
#include "state_servers.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const pmg_rate_names[PMG_RATE_COUNT] = {"spamIn", "spamOut", "virusIn", "virusOut"};

/* Indexes of struct alert_pmg.v (the order of alert_config.c's pmg_keys). */
enum {
	T_QUEUE_WARN, T_QUEUE_CRIT, T_AGE_WARN_MIN, T_AGE_CRIT_MIN, T_DEFERRED_WARN,
	T_DEFERRED_CRIT, T_HOLD_WARN, T_HOLD_CRIT, T_SPAM_WARN, T_SPAM_CRIT, T_VIRUS_WARN,
	T_VIRUS_CRIT, T_GROWTH_WARN_PCT, T_GROWTH_WARN_MIN, T_GROWTH_CRIT_PCT, T_GROWTH_CRIT_MIN
};

#define HOUR 3600.0
#define GROWTH_SPAN (2 * HOUR)		/* growth is measured against this far back */
#define GROWTH_TOLERANCE 900.0		/* ... give or take 15 minutes */
#define MAIL_GAP (90 * 60.0)		/* a longer gap between hours restarts the series */
#define BASELINE_HOURS 24
#define BASELINE_MIN 12
#define ANOMALY_STALE (2 * HOUR)	/* newest hour ended longer ago: nothing to judge */

/* --- history --------------------------------------------------------------------------- */

int
alert_pmg_add_quarantine(struct pmg_history *h, const struct pmg_quarantine_sample *s,
    double now)
{
	int keep = 0;

	while (keep < h->nquarantine && h->quarantine[keep].time <= now - PMG_QUARANTINE_KEEP)
		keep++;
	if (keep > 0) {
		h->nquarantine -= keep;
		memmove(h->quarantine, h->quarantine + keep,
		    (size_t)h->nquarantine * sizeof(*h->quarantine));
	}
	if (h->nquarantine > 0 &&
	    s->time - h->quarantine[h->nquarantine - 1].time < PMG_QUARANTINE_SPACING)
		return 0;
	if (h->nquarantine == PMG_QUARANTINE_SAMPLES) {
		h->nquarantine--;
		memmove(h->quarantine, h->quarantine + 1,
		    (size_t)h->nquarantine * sizeof(*h->quarantine));
	}
	h->quarantine[h->nquarantine++] = *s;
	return 1;
}

const struct pmg_quarantine_sample *
alert_pmg_two_hours_ago(const struct pmg_history *h, double now)
{
	const struct pmg_quarantine_sample *best = NULL;
	double best_diff = GROWTH_TOLERANCE;

	for (int i = 0; i < h->nquarantine; i++) {
		double diff = fabs(h->quarantine[i].time - (now - GROWTH_SPAN));
		if (diff < best_diff) {
			best_diff = diff;
			best = &h->quarantine[i];
		}
	}
	return best;
}

int
alert_pmg_add_mail(struct pmg_history *h, const struct pmg_mail_sample *s)
{
	int rc = 1;

	if (h->nmail > 0) {
		double last = h->mail[h->nmail - 1].time;
		if (s->time <= last)
			return 0;
		if (s->time - last > MAIL_GAP) {
			h->nmail = 0;
			rc = 2;
		}
	}
	if (h->nmail == PMG_MAIL_SAMPLES) {
		h->nmail--;
		memmove(h->mail, h->mail + 1, (size_t)h->nmail * sizeof(*h->mail));
	}
	h->mail[h->nmail++] = *s;
	return rc;
}

int
alert_pmg_mail_sample(const struct st_pmg *p, double now, struct pmg_mail_sample *out)
{
	const struct st_pmg_point *best = NULL;

	/* The newest point is the hour under way: its counts are not complete yet. */
	for (int i = 0; i < p->npoints; i++)
		if (p->points[i].time + HOUR <= now && (best == NULL || p->points[i].time > best->time))
			best = &p->points[i];
	if (best == NULL)
		return -1;
	out->time = best->time;
	out->v[PMG_RATE_SPAM_IN] = best->v[PMG_SPAM_IN];
	out->v[PMG_RATE_SPAM_OUT] = best->v[PMG_SPAM_OUT];
	out->v[PMG_RATE_VIRUS_IN] = best->v[PMG_VIRUS_IN];
	out->v[PMG_RATE_VIRUS_OUT] = best->v[PMG_VIRUS_OUT];
	return 0;
}

/* --- statistics ------------------------------------------------------------------------ */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int
alert_pmg_baseline(const double *v, int n, double *baseline)
{
	double sorted[PMG_MAIL_SAMPLES], sum = 0, median, trimmed;

	if (n < BASELINE_MIN || n > PMG_MAIL_SAMPLES)
		return -1;
	if (n < BASELINE_HOURS) {
		for (int i = 0; i < n; i++)
			sum += v[i];
		*baseline = sum / n;
		return 0;
	}
	memcpy(sorted, v, (size_t)n * sizeof(*v));
	qsort(sorted, (size_t)n, sizeof(*sorted), cmp_double);
	median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
	for (int i = 2; i < n - 2; i++)
		sum += sorted[i];
	trimmed = sum / (n - 4);
	/* A median of 0: the mean is either 0 too or infinitely far from it; 0 either way. */
	if (median == 0)
		*baseline = 0;
	else
		*baseline = fabs(trimmed - median) / median * 100 > 40 ? median : trimmed;
	return 0;
}

const char *
alert_pmg_anomaly_level(double current, double baseline)
{
	double ratio;

	if (baseline < 40) {
		/* Quiet gateways: a ratio would fire on a handful of messages. */
		if (current >= baseline + 120)
			return "critical";
		return current >= baseline + 60 ? "warning" : NULL;
	}
	ratio = current / baseline;
	if (ratio >= 2.5 && current >= baseline + 300)
		return "critical";
	return ratio >= 1.8 && current >= baseline + 150 ? "warning" : NULL;
}

int64_t
alert_pmg_scale(int64_t threshold, double factor)
{
	int64_t scaled;

	if (threshold <= 0)
		return 0;
	scaled = (int64_t)ceil((double)threshold * factor);
	return scaled < 1 ? 1 : scaled;
}

int64_t
alert_pmg_median(const int64_t *v, int n)
{
	int64_t *sorted, median;

	if (n <= 0)
		return 0;
	sorted = xcalloc((size_t)n, sizeof(*sorted));
	memcpy(sorted, v, (size_t)n * sizeof(*v));
	qsort(sorted, (size_t)n, sizeof(*sorted), cmp_int64);
	median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
	free(sorted);
	return median;
}

int
alert_pmg_outlier(int64_t value, int64_t median)
{
	if (median == 0)
		return value > 0;
	return (double)(value - median) / (double)median * 100 > 40;
}

/* The level v reaches against warn and crit (<= 0: off), and the threshold reached. */
static const char *
reached(double v, int64_t warn, int64_t crit, int64_t *threshold)
{
	const char *level = NULL;

	*threshold = 0;
	if (warn > 0 && v >= (double)warn) {
		level = "warning";
		*threshold = warn;
	}
	if (crit > 0 && v >= (double)crit) {
		level = "critical";
		*threshold = crit;
	}
	return level;
}

/* --- per-node queues --------------------------------------------------------------------- */

struct node_queue {
	const char *suffix, *noun;
	int warn, crit;
};

static const struct node_queue node_queues[] = {
	{"queue-total", "total messages in queue", T_QUEUE_WARN, T_QUEUE_CRIT},
	{"queue-deferred", "deferred messages", T_DEFERRED_WARN, T_DEFERRED_CRIT},
	{"queue-hold", "held messages", T_HOLD_WARN, T_HOLD_CRIT},
};

static int64_t
queue_value(const struct st_pmg_queue *q, int which)
{
	return which == 0 ? q->total : which == 1 ? q->deferred : q->hold;
}

static void
eval_node_queue(struct alert_eval *e, const struct alert_resource *node_r, const char *node,
    int which, int64_t value, int64_t median)
{
	const struct node_queue *nq = &node_queues[which];
	const int64_t *t = e->cfg->pmg.v;
	int64_t warn = alert_pmg_scale(t[nq->warn], 0.6), crit = alert_pmg_scale(t[nq->crit], 0.8);
	int64_t th;
	const char *level = reached((double)value, warn, crit, &th);
	char id[256], msg[400];

	if (level == NULL)
		return;			/* resolved by alert_eval_finish */
	snprintf(id, sizeof(id), "%.100s-%.120s-%s", node_r->id, node, nq->suffix);
	snprintf(msg, sizeof(msg), "PMG node %s on %s has %lld %s (threshold: %lld%s)", node,
	    node_r->name, (long long)value, nq->noun, (long long)th,
	    alert_pmg_outlier(value, median) ? ", outlier" : "");
	alert_eval_level(e, node_r, id, nq->suffix, level, (double)value, (double)th, msg);
}

static void
eval_node_age(struct alert_eval *e, const struct alert_resource *node_r, const char *node,
    int64_t oldest_age)
{
	const int64_t *t = e->cfg->pmg.v;
	int64_t minutes = oldest_age / 60, th;
	const char *level = reached((double)minutes, alert_pmg_scale(t[T_AGE_WARN_MIN], 0.6),
	    alert_pmg_scale(t[T_AGE_CRIT_MIN], 0.8), &th);
	char id[256], msg[400];

	if (level == NULL || oldest_age <= 0)
		return;
	snprintf(id, sizeof(id), "%.100s-%.120s-oldest-message", node_r->id, node);
	snprintf(msg, sizeof(msg), "PMG node %s on %s has messages queued for %lld minutes "
	    "(threshold: %lld min, node-specific)", node, node_r->name, (long long)minutes,
	    (long long)th);
	alert_eval_level(e, node_r, id, "message-age", level, (double)minutes, (double)th, msg);
}

/* Each metric of each node on its own (the original skipped a node's other queues once its
 * total was below the threshold: COMPATIBILITY.md). */
static void
eval_nodes(struct alert_eval *e, const struct alert_resource *r, const struct st_pmg *p)
{
	int64_t median[3], *values;
	int n = 0;

	if (p->nnodes == 0)
		return;
	values = xcalloc((size_t)p->nnodes, sizeof(*values));
	for (int which = 0; which < 3; which++) {
		n = 0;
		for (int i = 0; i < p->nnodes; i++)
			if (p->nodes[i].has_queue)
				values[n++] = queue_value(&p->nodes[i].queue, which);
		median[which] = alert_pmg_median(values, n);
	}
	free(values);
	for (int i = 0; i < p->nnodes; i++) {
		const struct st_pmg_node *nd = &p->nodes[i];
		struct alert_resource node_r = *r;
		if (!nd->has_queue)
			continue;
		node_r.node = nd->name;
		for (int which = 0; which < 3; which++)
			eval_node_queue(e, &node_r, nd->name, which, queue_value(&nd->queue, which),
			    median[which]);
		eval_node_age(e, &node_r, nd->name, nd->queue.oldest_age);
	}
}

/* --- quarantine ---------------------------------------------------------------------------- */

static int
growth_reaches(int64_t growth, double pct, int64_t min_pct, int64_t min_count)
{
	return (min_pct > 0 || min_count > 0) && pct >= (double)min_pct && growth >= min_count;
}

/* One quarantine: absolute size first; growth since `before` (a count, 0: none) raises a
 * warning to critical or stands in for no absolute level. Without history the growth is
 * unknown: an alert below the absolute thresholds stays as it is. */
static void
eval_quarantine_one(struct alert_eval *e, const struct alert_resource *r, const char *what,
    int64_t current, int64_t before, int have_history, int warn, int crit)
{
	const int64_t *t = e->cfg->pmg.v;
	int64_t th, growth = current - before;
	double pct = before > 0 ? (double)growth * 100.0 / (double)before : 0;
	const char *level = reached((double)current, t[warn], t[crit], &th);
	const char *grown = NULL;
	char id[256], msg[400];

	if (before > 0 && growth > 0) {
		if ((level == NULL || strcmp(level, "critical") != 0) &&
		    growth_reaches(growth, pct, t[T_GROWTH_CRIT_PCT], t[T_GROWTH_CRIT_MIN])) {
			level = grown = "critical";
			th = before + t[T_GROWTH_CRIT_MIN];
		} else if (level == NULL &&
		    growth_reaches(growth, pct, t[T_GROWTH_WARN_PCT], t[T_GROWTH_WARN_MIN])) {
			level = grown = "warning";
			th = before + t[T_GROWTH_WARN_MIN];
		}
	}
	snprintf(id, sizeof(id), "%.150s-quarantine-%s", r->id, what);
	if (level == NULL) {
		if (!have_history)
			alert_eval_keep_prefix(e, id);	/* growth not judged this time */
		return;
	}
	if (grown != NULL)
		snprintf(msg, sizeof(msg), "PMG %s %s quarantine growing%s: +%lld messages "
		    "(+%.1f%%) in 2 hours", r->name, what, strcmp(grown, "critical") == 0 ?
		    " rapidly" : "", (long long)growth, pct);
	else
		snprintf(msg, sizeof(msg), "PMG %s has %lld %s messages in quarantine "
		    "(threshold: %lld)", r->name, (long long)current, what, (long long)th);
	alert_eval_level(e, r, id, strcmp(what, "spam") == 0 ? "quarantine-spam" :
	    "quarantine-virus", level, (double)current, (double)th, msg);
}

static void
eval_quarantine(struct alert_eval *e, const struct alert_resource *r, const struct st_pmg *p)
{
	const struct pmg_quarantine_sample *before = p->history != NULL ?
	    alert_pmg_two_hours_ago(p->history, e->now) : NULL;

	eval_quarantine_one(e, r, "spam", p->q_spam, before ? before->spam : 0,
	    p->history != NULL, T_SPAM_WARN, T_SPAM_CRIT);
	eval_quarantine_one(e, r, "virus", p->q_virus, before ? before->virus : 0,
	    p->history != NULL, T_VIRUS_WARN, T_VIRUS_CRIT);
}

/* --- mail-rate anomalies -------------------------------------------------------------------- */

/* The level of hourly sample i of metric m against the up to 24 hours before it, or NULL
 * (also when there is no baseline yet). */
static const char *
rate_level(const struct pmg_history *h, int i, int m, double *baseline)
{
	double v[BASELINE_HOURS];
	int from = i > BASELINE_HOURS ? i - BASELINE_HOURS : 0, n = 0;

	*baseline = 0;
	if (i < 0)
		return NULL;
	for (int k = from; k < i; k++)
		v[n++] = h->mail[k].v[m];
	if (alert_pmg_baseline(v, n, baseline) != 0)
		return NULL;
	return alert_pmg_anomaly_level(h->mail[i].v[m], *baseline);
}

/* The newest hour against its baseline; an anomaly needs the hour before it to have been
 * one too (two samples in a row). */
static void
eval_anomalies(struct alert_eval *e, const struct alert_resource *r, const struct pmg_history *h)
{
	const struct pmg_mail_sample *last;
	char id[256], type[64], msg[400];

	if (h->nmail == 0)
		return;
	last = &h->mail[h->nmail - 1];
	if (e->now - (last->time + HOUR) > ANOMALY_STALE)
		return;
	for (int m = 0; m < PMG_RATE_COUNT; m++) {
		double base, before_base, current = last->v[m];
		const char *level = rate_level(h, h->nmail - 1, m, &base);
		if (level != NULL && rate_level(h, h->nmail - 2, m, &before_base) == NULL)
			level = NULL;
		if (level == NULL)
			continue;
		snprintf(id, sizeof(id), "%.150s-anomaly-%s", r->id, pmg_rate_names[m]);
		snprintf(type, sizeof(type), "anomaly-%s", pmg_rate_names[m]);
		snprintf(msg, sizeof(msg), "PMG %s anomaly detected: %s is %.1f messages/hour "
		    "(%.1fx baseline of %.1f)", r->name, pmg_rate_names[m], current,
		    base > 0 ? current / base : 0.0, base);
		alert_eval_level(e, r, id, type, level, current, base, msg);
	}
}

void
alert_pmg_eval(struct alert_eval *e, const struct alert_resource *r, const struct st_pmg *p)
{
	eval_nodes(e, r, p);
	if (p->has_quarantine)
		eval_quarantine(e, r, p);
	if (p->history != NULL) {
		eval_anomalies(e, r, p->history);
	} else {
		char prefix[200];
		snprintf(prefix, sizeof(prefix), "%.150s-anomaly-", r->id);
		alert_eval_keep_prefix(e, prefix);	/* not judged this time */
	}
}
