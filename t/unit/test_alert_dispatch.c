/* test_alert_dispatch.c: the pure parts of the dispatch (alerts-notifications.md §4): quiet
 * hours (overnight windows, day boundaries, categories, critical against warning), the
 * flapping window, the reminder decision and escalation levels. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alert_dispatch.h"
#include "log.h"
#include "tap.h"

enum { MON, TUE, WED, THU, FRI, SAT, SUN };

static struct alert_local_time
at(int wday, int h, int m)
{
	struct alert_local_time t = {wday, h * 60 + m};
	return t;
}

static void
quiet(struct alert_config *c, const char *start, const char *end, unsigned days)
{
	memset(&c->schedule.quiet, 0, sizeof(c->schedule.quiet));
	c->schedule.quiet.enabled = 1;
	snprintf(c->schedule.quiet.start, sizeof(c->schedule.quiet.start), "%s", start);
	snprintf(c->schedule.quiet.end, sizeof(c->schedule.quiet.end), "%s", end);
	c->schedule.quiet.days_on = days;
}

static struct alert
alert_of(const char *type, const char *level)
{
	struct alert a;

	memset(&a, 0, sizeof(a));
	snprintf(a.id, sizeof(a.id), "x-%s", type);
	snprintf(a.type, sizeof(a.type), "%s", type);
	snprintf(a.level, sizeof(a.level), "%s", level);
	return a;
}

static void
test_quiet_hours(void)
{
	struct alert_config c;
	struct alert_local_time t;

	memset(&c, 0, sizeof(c));
	quiet(&c, "09:00", "17:00", 1u << MON);
	t = at(MON, 10, 0);
	ok(alert_quiet_active(&c, &t), "day window: inside on an enabled day");
	t = at(MON, 9, 0);
	ok(alert_quiet_active(&c, &t), "day window: the start minute is inside");
	t = at(MON, 17, 0);
	ok(!alert_quiet_active(&c, &t), "day window: the end minute is outside");
	t = at(TUE, 10, 0);
	ok(!alert_quiet_active(&c, &t), "day window: a disabled day");
	c.schedule.quiet.enabled = 0;
	t = at(MON, 10, 0);
	ok(!alert_quiet_active(&c, &t), "disabled: never");

	/* Overnight, Friday only: Friday 22:00 to Saturday 06:00 (QUIRK 12). */
	quiet(&c, "22:00", "06:00", 1u << FRI);
	t = at(FRI, 23, 0);
	ok(alert_quiet_active(&c, &t), "overnight: Friday evening");
	t = at(SAT, 3, 0);
	ok(alert_quiet_active(&c, &t), "overnight: Saturday morning belongs to Friday's window");
	t = at(FRI, 3, 0);
	ok(!alert_quiet_active(&c, &t), "overnight: Friday morning belongs to Thursday (off)");
	t = at(SAT, 23, 0);
	ok(!alert_quiet_active(&c, &t), "overnight: Saturday evening (off)");
	t = at(SAT, 6, 0);
	ok(!alert_quiet_active(&c, &t), "overnight: the end minute is outside");
	t = at(FRI, 21, 59);
	ok(!alert_quiet_active(&c, &t), "overnight: before the start");
	/* Sunday's window runs into Monday. */
	quiet(&c, "23:30", "01:00", 1u << SUN);
	t = at(MON, 0, 30);
	ok(alert_quiet_active(&c, &t), "overnight over the week's end: Monday 00:30 is Sunday's");
	t = at(SUN, 0, 30);
	ok(!alert_quiet_active(&c, &t), "Sunday 00:30 is Saturday's (off)");

	quiet(&c, "10:00", "10:00", 0x7f);
	t = at(MON, 10, 0);
	ok(!alert_quiet_active(&c, &t), "start == end: no window");
	quiet(&c, "25:00", "10:00", 0x7f);
	ok(!alert_quiet_active(&c, &t), "a bad start: no window");
	quiet(&c, "9:00", "xx", 0x7f);
	ok(!alert_quiet_active(&c, &t), "a bad end: no window");

	/* What is held: every warning, a critical only by its category's flag. */
	quiet(&c, "00:00", "23:59", 0x7f);
	c.schedule.quiet.suppress_performance = 1;
	t = at(WED, 12, 0);
	{
		struct alert w = alert_of("usage", "warning"), cpu = alert_of("cpu", "critical");
		struct alert use = alert_of("usage", "critical"), off = alert_of("offline", "critical");
		struct alert none = alert_of("backup-age", "critical");

		ok(alert_quiet_holds(&c, &t, &w), "a warning is held");
		ok(alert_quiet_holds(&c, &t, &cpu), "a critical cpu is held (performance on)");
		ok(!alert_quiet_holds(&c, &t, &use), "a critical usage goes out (storage off)");
		ok(!alert_quiet_holds(&c, &t, &off), "a critical offline goes out (offline off)");
		c.schedule.quiet.suppress_storage = 1;
		c.schedule.quiet.suppress_offline = 1;
		ok(alert_quiet_holds(&c, &t, &use), "storage on: usage held");
		ok(alert_quiet_holds(&c, &t, &off), "offline on: offline held");
		ok(!alert_quiet_holds(&c, &t, &none), "a type without category: never held");
		t = at(WED, 23, 59);
		ok(!alert_quiet_holds(&c, &t, &w), "outside the window: nothing held");
	}
	is_int(alert_dispatch_category("docker-container-oom-kill"), ALERT_CATEGORY_PERFORMANCE,
	    "docker-container-*: performance");
	is_int(alert_dispatch_category("docker-container-state"), ALERT_CATEGORY_OFFLINE,
	    "docker-container-state: offline");
	is_int(alert_dispatch_category("zfs-device"), ALERT_CATEGORY_STORAGE, "zfs-device: storage");
	is_int(alert_dispatch_category("raid"), ALERT_CATEGORY_NONE, "raid: none");
	is_int(alert_dispatch_category("ceph-health"), ALERT_CATEGORY_STORAGE, "ceph-health: storage");
	is_int(alert_dispatch_category("ceph-osd-down"), ALERT_CATEGORY_STORAGE, "ceph-osd-down: storage");
	is_int(alert_dispatch_category("replication"), ALERT_CATEGORY_STORAGE, "replication: storage");
}

static void
test_flapping(void)
{
	double times[] = {100, 200, 350, 390}, out[5];
	int n;

	n = alert_flap_window(times, 4, 400, 300, out);
	is_int(n, 4, "window 300 s at 400: 200, 350, 390 and now");
	ok(out[0] == 200 && out[3] == 400, "oldest kept 200, now last");
	n = alert_flap_window(times, 4, 400, 10, out);
	is_int(n, 1, "a short window: now only");
	n = alert_flap_window(NULL, 0, 400, 300, out);
	is_int(n, 1, "no history: now");
	n = alert_flap_window(times, 4, 300, 300, out);
	is_int(n, 3, "times after now (a clock step) are dropped");
}

static void
test_reminders(void)
{
	struct alert_config c;
	struct alert a = alert_of("cpu", "warning");

	memset(&c, 0, sizeof(c));
	c.schedule.cooldown = 5;
	ok(alert_reminder_due(&c, &a, 0, 1000), "never notified: due");
	a.last_notified = 1000;
	ok(!alert_reminder_due(&c, &a, 0, 1200), "inside the cooldown: not due");
	ok(alert_reminder_due(&c, &a, 0, 1300), "cooldown passed: a reminder");
	ok(alert_reminder_due(&c, &a, 1, 1010), "level up to critical: due at once");
	a.acknowledged = 1;
	ok(!alert_reminder_due(&c, &a, 1, 5000), "acknowledged: never");
	a.acknowledged = 0;
	c.schedule.cooldown = 0;
	ok(!alert_reminder_due(&c, &a, 0, 99999), "cooldown 0: no reminders");
	c.schedule.cooldown = 5;
	a = alert_of("powered-off", "warning");
	a.last_notified = 1000;
	ok(!alert_reminder_due(&c, &a, 0, 99999), "a state alert has no reminders");
	a.last_notified = 0;
	ok(alert_reminder_due(&c, &a, 0, 1000), "but is retried until it went out");
}

static void
test_escalation(void)
{
	struct alert_config c;
	struct alert a = alert_of("cpu", "critical");

	memset(&c, 0, sizeof(c));
	a.start_time = 1000;
	c.schedule.n_levels = 2;
	c.schedule.levels[0].after = 10;
	snprintf(c.schedule.levels[0].notify, sizeof(c.schedule.levels[0].notify), "email");
	c.schedule.levels[1].after = 30;
	snprintf(c.schedule.levels[1].notify, sizeof(c.schedule.levels[1].notify), "webhook");
	is_int(alert_escalation_reached(&c, &a, 5000), 0, "escalation disabled: 0");
	c.schedule.escalation_enabled = 1;
	is_int(alert_escalation_reached(&c, &a, 1000 + 599), 0, "before 10 min: none");
	is_int(alert_escalation_reached(&c, &a, 1000 + 600), 1, "at 10 min: level 1");
	is_int(alert_escalation_reached(&c, &a, 1000 + 1799), 1, "before 30 min: level 1");
	is_int(alert_escalation_reached(&c, &a, 1000 + 1800), 2, "at 30 min: level 2");
	is_int(alert_escalation_channels("email"), ALERT_TO_EMAIL, "email: email only");
	is_int(alert_escalation_channels("webhook"), ALERT_TO_WEBHOOK, "webhook: webhooks only");
	is_int(alert_escalation_channels("all"), ALERT_TO_ALL, "all: every channel");
	is_int(alert_escalation_channels("pager"), ALERT_TO_ALL, "unknown: every channel");
}

int
main(void)
{
	log_set_level(LOGL_ERROR);
	test_quiet_hours();
	test_flapping();
	test_reminders();
	test_escalation();
	return done_testing();
}
