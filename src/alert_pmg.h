/* alert_pmg.h: the Mail Gateway checks that look beyond the cluster totals
 * (alerts-notifications.md §3.8): per-node queues with scaled thresholds and an outlier note,
 * quarantine size and growth against the sample about two hours old, and spam/virus mail-rate
 * anomalies against an hourly baseline. Pure like alert_engine.c: the samples of earlier
 * polls come in as a struct pmg_history (src/pmg_history.c keeps them in PostgreSQL). */
#ifndef PULSE_ALERT_PMG_H
#define PULSE_ALERT_PMG_H

#include <stdint.h>

struct alert_eval;
struct alert_resource;
struct st_pmg;

#define PMG_MAIL_SAMPLES 48			/* hourly samples kept */
#define PMG_QUARANTINE_KEEP (3 * 3600)		/* seconds of quarantine samples kept */
#define PMG_QUARANTINE_SPACING 300		/* at most one quarantine sample per 5 min */
#define PMG_QUARANTINE_SAMPLES (PMG_QUARANTINE_KEEP / PMG_QUARANTINE_SPACING + 2)

/* The mail counts the anomaly check follows, in the order of their alert names. */
enum { PMG_RATE_SPAM_IN, PMG_RATE_SPAM_OUT, PMG_RATE_VIRUS_IN, PMG_RATE_VIRUS_OUT,
    PMG_RATE_COUNT };
extern const char *const pmg_rate_names[PMG_RATE_COUNT];	/* "spamIn", ... */

struct pmg_quarantine_sample {
	double time;
	int64_t spam, virus;
};

/* One completed hour of /statistics/mailcount; time is the hour's start. */
struct pmg_mail_sample {
	double time;
	double v[PMG_RATE_COUNT];
};

/* Oldest first in both arrays. */
struct pmg_history {
	struct pmg_quarantine_sample quarantine[PMG_QUARANTINE_SAMPLES];
	int nquarantine;
	struct pmg_mail_sample mail[PMG_MAIL_SAMPLES];
	int nmail;
};

/* Drops the quarantine samples older than 3 hours before now, then appends s unless the
 * newest kept one is less than 5 minutes older. Returns 1 when s was appended, else 0. */
int alert_pmg_add_quarantine(struct pmg_history *h, const struct pmg_quarantine_sample *s,
    double now);
/* The sample nearest to 2 hours before now, within 15 minutes; NULL when there is none. */
const struct pmg_quarantine_sample *alert_pmg_two_hours_ago(const struct pmg_history *h,
    double now);

/* Appends an hourly sample: nothing when it is not newer than the newest one (returns 0);
 * after a gap of more than 90 minutes the older samples are dropped first (returns 2), else
 * appended, the oldest dropped beyond 48 (returns 1). */
int alert_pmg_add_mail(struct pmg_history *h, const struct pmg_mail_sample *s);
/* The newest completed hour of the polled mailcount points of p (time + 3600 <= now) as a
 * sample; returns 0, or -1 when p has none. */
int alert_pmg_mail_sample(const struct st_pmg *p, double now, struct pmg_mail_sample *out);

/* The baseline of n earlier hourly values: fewer than 12 is none (returns -1); 12 to 23 the
 * mean; 24 or more the mean without the 2 highest and 2 lowest, or the median when that mean
 * is more than 40% away from it. Returns 0 with *baseline set. */
int alert_pmg_baseline(const double *v, int n, double *baseline);
/* "critical", "warning" or NULL for a current hourly value against a baseline. */
const char *alert_pmg_anomaly_level(double current, double baseline);

/* A threshold scaled for one node: ceil(threshold * factor), at least 1; 0 when off. */
int64_t alert_pmg_scale(int64_t threshold, double factor);
/* The median of n values (the lower integer mean of the middle two when n is even); 0 for
 * none. v is not changed. */
int64_t alert_pmg_median(const int64_t *v, int n);
/* Whether a node's value is more than 40% above the median of the nodes (any value above a
 * median of 0). */
int alert_pmg_outlier(int64_t value, int64_t median);

/* The checks of this file for the Mail Gateway p, whose resource (id "pmg-{name}") is r:
 * per-node queues always; quarantine size when p has quarantine counts; growth and mail-rate
 * anomalies from p->history. Without history (NULL) those are not judged and their alerts
 * stay as they are (a quarantine alert is still updated when its size alone reaches a level). */
void alert_pmg_eval(struct alert_eval *e, const struct alert_resource *r,
    const struct st_pmg *p);

#endif
