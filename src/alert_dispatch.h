/* alert_dispatch.h: from an alert to queued notifications (alerts-notifications.md §4, §7):
 * the dispatch gates (acknowledged, flapping, activation, quiet hours, monitorOnly, the
 * per-hour cap), reminders, the grouping buffer (pulse.notification_group) and its flush,
 * escalation, activation and the recovery notification. Every bit of state is in PostgreSQL
 * (pulse.alerts.last_notified, dispatch_times, flapping, suppressed_until, last_escalation),
 * so the worker that polls, the one that flushes and the responder that activates may all be
 * different processes.
 *
 * The pure parts (quiet hours, flapping window, reminder and escalation decisions) come
 * first; the database parts below them. */
#ifndef PULSE_ALERT_DISPATCH_H
#define PULSE_ALERT_DISPATCH_H

#include <stdint.h>

#include "alert.h"
#include "alert_config.h"
#include "alert_engine.h"
#include "db.h"

/* Quiet-hours categories (§4.3). */
enum alert_category {
	ALERT_CATEGORY_NONE,	/* critical alerts of this type are never held */
	ALERT_CATEGORY_PERFORMANCE,
	ALERT_CATEGORY_STORAGE,
	ALERT_CATEGORY_OFFLINE,
};

enum alert_category alert_dispatch_category(const char *type);

/* A local time in the quiet-hours zone: wday 0 = Monday .. 6 = Sunday, minute of the day. */
struct alert_local_time {
	int wday, minute;
};

/* Whether t is inside a quiet window of c: start <= t < end on an enabled day; a window
 * whose end is before its start runs over midnight and belongs to the day it started
 * (QUIRK 12). start == end, or a start or end that is not HH:MM: no window. */
int alert_quiet_active(const struct alert_config *c, const struct alert_local_time *t);

/* Whether quiet hours hold alert a back at t: any non-critical alert, and a critical one
 * whose category's suppress flag is on. */
int alert_quiet_holds(const struct alert_config *c, const struct alert_local_time *t,
    const struct alert *a);

/* The flapping window (§4.2): the times of times[0..n) not older than window_s before now,
 * then now, into out (n + 1 entries at most). Returns how many are in out. */
int alert_flap_window(const double *times, int n, double now, int64_t window_s, double *out);

/* Whether alert a is due for a notification at now: never notified (a first dispatch, or
 * one a gate refused: retried); its level just went up to critical (to_critical); or a
 * metric alert (§3.2) whose last notification is cooldown minutes old (a reminder; cooldown
 * <= 0: no reminders). Acknowledged alerts are never due. */
int alert_reminder_due(const struct alert_config *c, const struct alert *a, int to_critical,
    double now);

/* The highest escalation level (1-based) a has reached at now (now >= start + after
 * minutes), or 0 for none; the caller compares it with a->last_escalation. Disabled
 * escalation: 0. */
int alert_escalation_reached(const struct alert_config *c, const struct alert *a, double now);

/* Channel kinds as a mask: which enabled channels a notification goes to. */
enum {
	ALERT_TO_EMAIL = 1,
	ALERT_TO_WEBHOOK = 2,
	ALERT_TO_APPRISE = 4,
	ALERT_TO_ALL = 7,
};
/* An escalation level's notify ("email", "webhook", "all"; anything else: all). */
int alert_escalation_channels(const char *notify);

/* --- database ---------------------------------------------------------------------------- */

/* After an evaluation of source was stored: the recovery path for every resolved alert,
 * flapping bookkeeping for every raised one, then every active unacknowledged alert of the
 * source that is due (alert_reminder_due; ch's to_critical flags) through the gates, and out
 * (grouped or queued) when they pass. Writes only when something is sent or a gate's state
 * changes. Returns 0, or -1 on a database error (logged). */
int alert_dispatch_source(struct db *db, const struct alert_config *cfg, const char *source,
    const struct alert_changes *ch, double now);

/* The resolution path of alert a (§7.4): it leaves the grouping buffer and the queued firing
 * rows (alert_actions_on_resolved); then, when notifyOnResolve is on, the firing notification
 * went out (a->last_notified set and the firing message was not still waiting), activation is
 * active and quiet hours do not hold a, one recovery row per enabled channel at once. Runs in
 * the caller's transaction or alone. Returns 0 or -1. */
int alert_dispatch_resolved(struct db *db, const struct alert_config *cfg,
    const struct alert *a, double now);

/* The same for an alert cleared by hand: the row of alert_id and the configuration are read
 * first. Returns 0 or -1. */
int alert_dispatch_cleared(struct db *db, const char *alert_id, double now);

/* After POST /api/alerts/activate: every active unacknowledged critical alert not notified
 * within the cooldown goes through the gates. Returns how many were sent, or -1. */
int alert_dispatch_activate(struct db *db, double now);

/* A test alert to every enabled channel, through the queue but past every gate, grouping and
 * cooldown (POST /api/test-notification). Returns the queue rows written, or -1. */
int alert_dispatch_test(struct db *db, const struct alert *a, double now);

/* The group flush (§7.2): the buffered alerts whose window closed, taken with DELETE ...
 * RETURNING, grouped by channel set (and node or resource when grouping.byNode/byGuest), one
 * queue row per enabled channel and group. Returns how many alerts went out, or -1. */
int alert_dispatch_flush(struct db *db);

/* Escalation (§4.6): every active unacknowledged alert that reached a new level gets
 * last_escalation and its times, and a notification to the level's channels only, through
 * the gates but not the cooldown. Returns how many escalated, or -1. */
int alert_dispatch_escalate(struct db *db, double now);

#endif
