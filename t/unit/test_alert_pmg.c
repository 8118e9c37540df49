/* test_alert_pmg.c: the Mail Gateway checks of src/alert_pmg.c: scaled node thresholds,
 * medians and outliers, the quarantine and hourly sample windows, the trimmed baseline, the
 * anomaly levels, and whole evaluations (per node, quarantine growth, two anomalous hours). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_engine.h"
#include "alert_db.h"
#include "alert_pmg.h"
#include "state_servers.h"
#include "tap.h"

#define NOW 1767225600.0	/* 2026-01-01T00:00:00Z, an hour's start */

static void
evaluate(const struct alert_config *c, const struct st_pmg *p, double now)
{
	struct alert_eval e;

	alert_changes_free(&last);
	alert_eval_begin(&e, c, &db, now, &last);
	alert_eval_pmg(&e, p);
	alert_eval_finish(&e);
	db_apply(&last);
}

/* The defaults: PMG level alerts have no time thresholds. */
static void
config(struct alert_config *c)
{
	alert_config_defaults(c);
	alert_config_normalize(c, NOW);
}

static void
gateway(struct st_pmg *m)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->name, "mail");
	strcpy(m->status, "online");
	strcpy(m->health, "healthy");
}

static void
add_node(struct st_pmg *m, const char *name, int64_t total, int64_t deferred, int64_t age)
{
	struct st_pmg_node *n = st_pmg_add_node(m);

	snprintf(n->name, sizeof(n->name), "%s", name);
	n->has_queue = 1;
	n->queue.total = total;
	n->queue.deferred = deferred;
	n->queue.oldest_age = age;
}

static void
test_numbers(void)
{
	int64_t odd[] = {9, 1, 5}, even[] = {10, 1, 4, 7}, zeros[] = {0, 0, 3};
	double v[48], base = -1;

	is_int(alert_pmg_scale(500, 0.6), 300, "500 x 0.6 = 300");
	is_int(alert_pmg_scale(1000, 0.8), 800, "1000 x 0.8 = 800");
	is_int(alert_pmg_scale(3, 0.6), 2, "3 x 0.6 = 1.8: ceil 2");
	is_int(alert_pmg_scale(1, 0.6), 1, "1 x 0.6: at least 1");
	is_int(alert_pmg_scale(0, 0.6), 0, "off stays off");
	is_int(alert_pmg_scale(-5, 0.8), 0, "negative: off");
	is_int(alert_pmg_median(odd, 3), 5, "median of three");
	is_int(alert_pmg_median(even, 4), 5, "median of four: (4 + 7) / 2 in integers");
	is_int(odd[0], 9, "the values are not sorted in place");
	is_int(alert_pmg_median(zeros, 3), 0, "median 0");
	is_int(alert_pmg_median(NULL, 0), 0, "no values: 0");
	ok(alert_pmg_outlier(141, 100), "141 over a median of 100: outlier");
	ok(!alert_pmg_outlier(140, 100), "140: exactly 40%% above, not an outlier");
	ok(alert_pmg_outlier(1, 0), "anything over a median of 0");
	ok(!alert_pmg_outlier(0, 0), "0 over 0: no");

	for (int i = 0; i < 48; i++)
		v[i] = 10;
	is_int(alert_pmg_baseline(v, 11, &base), -1, "11 hours: no baseline yet");
	v[0] = 22;
	is_int(alert_pmg_baseline(v, 12, &base), 0, "12 hours: a baseline");
	ok(base == 11, "12 to 23 hours: the mean (%g)", base);
	/* 24 hours: 20 of 100, two of 0, two of 10000: the extremes dropped. */
	for (int i = 0; i < 24; i++)
		v[i] = 100;
	v[3] = v[4] = 0;
	v[7] = v[9] = 10000;
	alert_pmg_baseline(v, 24, &base);
	ok(base == 100, "24 hours: mean without 2 high and 2 low (%g)", base);
	/* Half of the hours busy: the trimmed mean is far from the median, the median wins. */
	for (int i = 0; i < 24; i++)
		v[i] = i < 11 ? 10 : 1000;
	alert_pmg_baseline(v, 24, &base);
	ok(base == 1000, "trimmed mean > 40%% from the median: the median (%g)", base);
	for (int i = 0; i < 24; i++)
		v[i] = i < 3 ? 50 : 0;
	alert_pmg_baseline(v, 24, &base);
	ok(base == 0, "median 0: baseline 0 (%g)", base);

	ok(alert_pmg_anomaly_level(69, 10) == NULL, "low baseline 10: 69 is no anomaly");
	is_str(alert_pmg_anomaly_level(70, 10), "warning", "baseline + 60: warning");
	is_str(alert_pmg_anomaly_level(130, 10), "critical", "baseline + 120: critical");
	ok(alert_pmg_anomaly_level(249, 100) == NULL, "baseline 100: 249 (< +150)");
	is_str(alert_pmg_anomaly_level(250, 100), "warning", "2.5x and +150: warning");
	ok(alert_pmg_anomaly_level(399, 100) == NULL || strcmp(alert_pmg_anomaly_level(399, 100),
	    "warning") == 0, "399: not critical (< +300)");
	is_str(alert_pmg_anomaly_level(400, 100), "critical", "4x and +300: critical");
	ok(alert_pmg_anomaly_level(700, 400) == NULL, "baseline 400: 700 is 1.75x");
	is_str(alert_pmg_anomaly_level(720, 400), "warning", "1.8x and +320: warning");
	is_str(alert_pmg_anomaly_level(1000, 400), "critical", "2.5x and +600: critical");
}

static void
test_windows(void)
{
	struct pmg_history *h = calloc(1, sizeof(*h));
	struct pmg_quarantine_sample q = {0};
	struct pmg_mail_sample s = {0};
	const struct pmg_quarantine_sample *old;
	struct st_pmg m;

	for (int i = 0; i < 60; i++) {
		q.time = NOW + i * 60.0;
		q.spam = i;
		alert_pmg_add_quarantine(h, &q, q.time);
	}
	is_int(h->nquarantine, 12, "one sample per 5 minutes: 12 in an hour");
	q.time = NOW + 3300 + 10;
	is_int(alert_pmg_add_quarantine(h, &q, q.time), 0, "10 s after the last: not added");
	for (int i = 0; i < 100; i++) {
		q.time = NOW + 3600 + i * 300.0;
		alert_pmg_add_quarantine(h, &q, q.time);
	}
	ok(h->nquarantine <= PMG_QUARANTINE_SAMPLES, "bounded (%d)", h->nquarantine);
	ok(h->quarantine[0].time > q.time - 3 * 3600, "nothing older than 3 hours kept");
	old = alert_pmg_two_hours_ago(h, q.time);
	ok(old != NULL && old->time == q.time - 7200, "the sample of 2 hours ago");
	old = alert_pmg_two_hours_ago(h, q.time + 1000);
	ok(old != NULL && old->time == q.time - 6300, "the nearest within 15 minutes");
	h->nquarantine = 1;
	h->quarantine[0].time = NOW;
	ok(alert_pmg_two_hours_ago(h, NOW + 7200 + 900) == NULL, "15 minutes off: none");
	ok(alert_pmg_two_hours_ago(h, NOW + 7200 + 899) != NULL, "just inside 15 minutes");

	for (int i = 0; i < 50; i++) {
		s.time = NOW + i * 3600.0;
		s.v[0] = i;
		is_int(alert_pmg_add_mail(h, &s), 1, "hour %d appended", i);
	}
	is_int(h->nmail, 48, "a ring of 48 hours");
	ok(h->mail[0].v[0] == 2 && h->mail[47].v[0] == 49, "the oldest dropped");
	is_int(alert_pmg_add_mail(h, &s), 0, "the same hour again: nothing");
	s.time -= 3600;
	is_int(alert_pmg_add_mail(h, &s), 0, "an older hour: nothing");
	s.time += 3600 + 2 * 3600;
	is_int(alert_pmg_add_mail(h, &s), 2, "a gap of 2 hours: the series starts again");
	is_int(h->nmail, 1, "with this hour only");

	gateway(&m);
	for (int i = 0; i < 3; i++) {
		struct st_pmg_point *pt = st_pmg_add_point(&m);
		pt->time = NOW - (2 - i) * 3600.0;
		pt->v[PMG_SPAM_IN] = 10 + i;
		pt->v[PMG_VIRUS_OUT] = 20 + i;
	}
	is_int(alert_pmg_mail_sample(&m, NOW + 1800, &s), 0, "a completed hour");
	ok(s.time == NOW - 3600 && s.v[PMG_RATE_SPAM_IN] == 11 && s.v[PMG_RATE_VIRUS_OUT] == 21,
	    "the newest completed hour, not the one under way");
	is_int(alert_pmg_mail_sample(&m, NOW - 7200 + 10, &s), -1, "none completed yet");
	st_pmg_free(&m);
	free(h);
}

static void
test_nodes(void)
{
	struct alert_config c;
	struct st_pmg m;
	const struct alert *a;

	config(&c);
	gateway(&m);
	add_node(&m, "n1", 100, 10, 0);
	add_node(&m, "n2", 120, 10, 0);
	add_node(&m, "n3", 350, 130, 3000);
	evaluate(&c, &m, NOW);
	a = active("pmg-mail-n3-queue-total");
	ok(a != NULL, "node queue over 60%% of the total warning: pmg-<name>-<node>-queue-total");
	is_str(a ? a->type : "", "queue-total", "type queue-total");
	is_str(a ? a->level : "", "warning", "350 >= 300: warning");
	is_str(a ? a->node : "", "n3", "node");
	is_str(a ? a->resource_id : "", "pmg-mail", "resourceId is the gateway");
	is_str(a ? a->message : "", "PMG node n3 on mail has 350 total messages in queue "
	    "(threshold: 300, outlier)", "message with the outlier note");
	ok(a && a->threshold == 300, "threshold 300");
	a = active("pmg-mail-n3-queue-deferred");
	is_str(a ? a->message : "", "PMG node n3 on mail has 130 deferred messages "
	    "(threshold: 120, outlier)", "deferred: 130 >= 0.6 x 200");
	a = active("pmg-mail-n3-oldest-message");
	is_str(a ? a->type : "", "message-age", "node message age: type message-age");
	is_str(a ? a->level : "", "critical", "50 minutes >= 0.8 x 60: critical");
	is_str(a ? a->message : "", "PMG node n3 on mail has messages queued for 50 minutes "
	    "(threshold: 48 min, node-specific)", "age message");
	ok(active("pmg-mail-n1-queue-total") == NULL, "n1 below: nothing");
	ok(active("pmg-mail-queue-total") != NULL, "and the cluster total of 570 over 500");

	m.nodes[2].queue.total = 200;
	m.nodes[2].queue.deferred = 200;
	evaluate(&c, &m, NOW + 60);
	ok(active("pmg-mail-n3-queue-total") == NULL, "total below: resolved");
	ok(active("pmg-mail-n3-queue-deferred") != NULL,
	    "deferred still judged on its own although the total is below");
	m.nodes[2].queue.deferred = 400;
	m.nodes[0].queue.total = m.nodes[1].queue.total = 300;
	evaluate(&c, &m, NOW + 120);
	is_str(active("pmg-mail-n3-queue-deferred")->level, "critical", "400 >= 0.8 x 500");
	ok(strstr(active("pmg-mail-n1-queue-total")->message, "outlier") == NULL,
	    "300 at a median of 300: no outlier note");
	st_pmg_free(&m);
	alert_config_free(&c);
	db_reset();
}

static void
test_quarantine(void)
{
	struct alert_config c;
	struct st_pmg m;
	struct pmg_history *h = calloc(1, sizeof(*h));
	const struct alert *a;
	struct pmg_quarantine_sample q = {NOW - 7200, 1000, 10};

	config(&c);
	gateway(&m);
	m.has_quarantine = 1;
	m.q_spam = 1400;
	m.q_virus = 10;
	m.history = h;
	alert_pmg_add_quarantine(h, &q, NOW - 7200);
	evaluate(&c, &m, NOW);
	a = active("pmg-mail-quarantine-spam");
	is_str(a ? a->level : "", "warning", "+400 (+40%%) in 2 hours: warning");
	is_str(a ? a->type : "", "quarantine-spam", "type quarantine-spam");
	is_str(a ? a->message : "", "PMG mail spam quarantine growing: +400 messages (+40.0%) "
	    "in 2 hours", "growth message");
	ok(a && a->threshold == 1250, "threshold: the count then + growthWarnMin");
	ok(active("pmg-mail-quarantine-virus") == NULL, "virus unchanged: nothing");
	m.q_spam = 1600;
	evaluate(&c, &m, NOW + 60);
	a = active("pmg-mail-quarantine-spam");
	is_str(a ? a->level : "", "critical", "+600 (+60%%): critical");
	is_str(a ? a->message : "", "PMG mail spam quarantine growing rapidly: +600 messages "
	    "(+60.0%) in 2 hours", "rapid growth message");
	m.q_spam = 2100;
	h->quarantine[0].spam = 1900;
	evaluate(&c, &m, NOW + 120);
	a = active("pmg-mail-quarantine-spam");
	is_str(a ? a->message : "", "PMG mail has 2100 spam messages in quarantine "
	    "(threshold: 2000)", "small growth, over the absolute warning");
	m.q_spam = 5000;
	evaluate(&c, &m, NOW + 180);
	is_str(active("pmg-mail-quarantine-spam")->level, "critical", "absolute critical");
	m.q_spam = 100;
	m.history = NULL;
	evaluate(&c, &m, NOW + 240);
	ok(active("pmg-mail-quarantine-spam") != NULL, "no history: the alert stays");
	m.history = h;
	h->nquarantine = 0;
	evaluate(&c, &m, NOW + 300);
	ok(active("pmg-mail-quarantine-spam") == NULL, "small, nothing to compare: resolved");
	m.q_virus = 6000;
	evaluate(&c, &m, NOW + 360);
	is_str(active("pmg-mail-quarantine-virus")->message, "PMG mail has 6000 virus messages "
	    "in quarantine (threshold: 5000)", "virus absolute");
	st_pmg_free(&m);
	alert_config_free(&c);
	free(h);
	db_reset();
}

static void
test_anomalies(void)
{
	struct alert_config c;
	struct st_pmg m;
	struct pmg_history *h = calloc(1, sizeof(*h));
	struct pmg_mail_sample s = {0};
	const struct alert *a;
	double t = NOW - 30 * 3600.0;

	config(&c);
	gateway(&m);
	m.history = h;
	for (int i = 0; i < 24; i++, t += 3600) {
		s.time = t;
		s.v[PMG_RATE_SPAM_IN] = 100;
		s.v[PMG_RATE_VIRUS_IN] = 2;
		alert_pmg_add_mail(h, &s);
	}
	s.time = t;
	s.v[PMG_RATE_SPAM_IN] = 500;
	alert_pmg_add_mail(h, &s);
	evaluate(&c, &m, t + 3600 + 60);
	ok(active("pmg-mail-anomaly-spamIn") == NULL, "one anomalous hour: not yet");
	s.time = t += 3600;
	alert_pmg_add_mail(h, &s);
	evaluate(&c, &m, t + 3600 + 60);
	a = active("pmg-mail-anomaly-spamIn");
	ok(a != NULL, "the second in a row: pmg-<name>-anomaly-spamIn");
	is_str(a ? a->type : "", "anomaly-spamIn", "type anomaly-spamIn");
	is_str(a ? a->level : "", "critical", "5x baseline and +400: critical");
	/* The baseline of the second hour holds the first anomalous one: 23 x 100 + 500. */
	is_str(a ? a->message : "", "PMG mail anomaly detected: spamIn is 500.0 messages/hour "
	    "(5.0x baseline of 100.0)", "message (trimmed mean)");
	ok(active("pmg-mail-anomaly-virusIn") == NULL, "virusIn steady: nothing");
	evaluate(&c, &m, t + 3600 + 120);
	is_int(last.n, 0, "no new hour: nothing changes");
	m.history = NULL;
	evaluate(&c, &m, t + 3600 + 180);
	ok(active("pmg-mail-anomaly-spamIn") != NULL, "no history this time: kept");
	m.history = h;
	s.time = t += 3600;
	s.v[PMG_RATE_SPAM_IN] = 110;
	alert_pmg_add_mail(h, &s);
	evaluate(&c, &m, t + 3600 + 60);
	ok(active("pmg-mail-anomaly-spamIn") == NULL, "back to normal: resolved");
	s.time = t += 3600;
	s.v[PMG_RATE_SPAM_IN] = 900;
	alert_pmg_add_mail(h, &s);
	evaluate(&c, &m, t + 3 * 3600 + 60);
	ok(active("pmg-mail-anomaly-spamIn") == NULL, "the newest hour ended 3 hours ago: stale");
	st_pmg_free(&m);
	alert_config_free(&c);
	free(h);
	db_reset();
}

int
main(void)
{
	test_numbers();
	test_windows();
	test_nodes();
	test_quarantine();
	test_anomalies();
	return done_testing();
}
