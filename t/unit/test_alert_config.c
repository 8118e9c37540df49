/* test_alert_config.c: the alert configuration: defaults, reading, normalisation, writing. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alert_config.h"
#include "jsonread.h"
#include "tap.h"

#define NOW 1767225600.0	/* 2026-01-01T00:00:00Z */

/* Reads text (a JSON object) into c; returns from_json's result with the message in err. */
static int
parse(const char *text, const struct alert_config *current, struct alert_config *c, char *err,
    size_t errlen)
{
	struct json_object *o = json_tokener_parse(text);
	int rc;

	err[0] = '\0';
	rc = alert_config_from_json(o, current, c, err, errlen);
	json_object_put(o);
	return rc;
}

/* Parses and normalises text; returns 0 or -1 as parse. */
static int
normalized(const char *text, struct alert_config *c)
{
	char err[256];

	if (parse(text, NULL, c, err, sizeof(err)) != 0)
		return -1;
	alert_config_normalize(c, NOW);
	return 0;
}

/* The JSON text of c (static buffer). */
static const char *
text_of(const struct alert_config *c)
{
	static char buf[65536];
	struct json_object *o = alert_config_to_json(c);

	snprintf(buf, sizeof(buf), "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return buf;
}

static void
test_defaults(void)
{
	struct alert_config c;
	char err[256];

	alert_config_defaults(&c);
	alert_config_normalize(&c, NOW);
	ok(c.enabled, "defaults: enabled");
	is_str(c.activation_state, "pending_review", "defaults: pending review, no overrides");
	ok(c.pbs.metric[ALERT_CPU].set && c.pbs.metric[ALERT_CPU].trigger == 80,
	    "defaults: PBS cpu on (QUIRK 1, set A)");
	ok(c.docker.cpu.trigger == 80 && c.docker.memory.trigger == 85 && c.docker.disk.trigger == 85,
	    "defaults: Docker metric thresholds on");
	ok(c.schedule.cooldown == 5 && c.schedule.max_alerts_hour == 10 &&
	    c.schedule.notify_on_resolve && c.schedule.grouping_window_seconds == 30 &&
	    c.schedule.grouping_enabled, "defaults: cooldown 5, 10 an hour, resolve, grouping 30 s");
	ok(c.flapping_enabled && c.flapping_window_seconds == 300 && c.flapping_threshold == 5 &&
	    c.flapping_cooldown_minutes == 15, "defaults: flapping on");
	ok(c.max_alert_age_days == 7 && c.max_acknowledged_age_days == 1 &&
	    c.auto_acknowledge_after_hours == 24, "defaults: retention");
	ok(c.schedule.quiet.days_on == 0x1f && !c.schedule.quiet.enabled, "defaults: quiet hours off, Mon-Fri");
	ok(strstr(text_of(&c), "\"overrides\":{}") != NULL, "defaults: overrides an empty map");
	ok(strstr(text_of(&c), "\"metricTimeThresholds\":null") != NULL, "defaults: no metric delays");
	ok(strstr(text_of(&c), "\"timeThresholds\":{\"guest\":5,\"node\":5,\"pbs\":5,\"storage\":5}")
	    != NULL, "defaults: four delays of 5 s");
	/* round trip of the defaults */
	{
		struct alert_config back;
		char first[65536];

		snprintf(first, sizeof(first), "%s", text_of(&c));
		is_int(parse(first, NULL, &back, err, sizeof(err)), 0, "defaults read back");
		alert_config_normalize(&back, NOW);
		is_str(text_of(&back), first, "defaults: to_json(from_json(x)) == x");
		alert_config_free(&back);
	}
	alert_config_free(&c);
}

static void
test_normalize(void)
{
	struct alert_config c;

	normalized("{}", &c);
	ok(c.storage.trigger == 0 && c.storage.clear == 0, "empty: storage absent is 0: off");
	alert_config_free(&c);
	normalized("{\"storageDefault\":{\"trigger\":-1,\"clear\":0}}", &c);
	ok(c.storage.trigger == 85 && c.storage.clear == 80, "storage: negative -> 85/80");
	alert_config_free(&c);
	normalized("{\"storageDefault\":{\"trigger\":0,\"clear\":30}}", &c);
	ok(c.storage.trigger == 0 && c.storage.clear == 0, "storage: 0 -> off, clear 0");
	alert_config_free(&c);
	normalized("{\"storageDefault\":{\"trigger\":70,\"clear\":0}}", &c);
	ok(c.storage.clear == 65, "storage: clear <= 0 -> trigger - 5");
	alert_config_free(&c);
	normalized("{\"storageDefault\":{\"trigger\":70,\"clear\":90}}", &c);
	ok(c.storage.clear == 65, "storage: clear >= trigger -> trigger - 5");
	alert_config_free(&c);
	normalized("{\"dockerDefaults\":{\"cpu\":{\"trigger\":-1},\"memory\":{\"trigger\":0},"
	    "\"disk\":{\"trigger\":50,\"clear\":60},\"serviceWarnGapPercent\":30,"
	    "\"serviceCriticalGapPercent\":20,\"statePoweredOffSeverity\":\"loud\"}}", &c);
	ok(c.docker.cpu.trigger == 80 && c.docker.cpu.clear == 75, "docker: negative -> default");
	ok(c.docker.memory.trigger == 0, "docker: 0 stays off");
	ok(c.docker.disk.clear == 45, "docker: clear >= trigger -> trigger - 5");
	ok(c.docker.restart_count == 3 && c.docker.restart_window == 300 &&
	    c.docker.memory_warn_pct == 90 && c.docker.memory_critical_pct == 95,
	    "docker: counts <= 0 -> defaults");
	ok(c.docker.service_critical_gap_percent == 30, "docker: critical gap < warning -> warning");
	is_str(c.docker.state_powered_off_severity, "warning", "docker: severity normalised");
	is_int(c.docker.update_alert_delay_hours, 24, "docker: update delay 0 -> 24");
	ok(c.pmg.v[0] == 500 && c.pmg.v[15] == 500, "pmg: <= 0 -> defaults");
	alert_config_free(&c);
	normalized("{\"dockerDefaults\":{\"updateAlertDelayHours\":-1}}", &c);
	is_int(c.docker.update_alert_delay_hours, -1, "docker: negative update delay = disabled");
	alert_config_free(&c);
	normalized("{\"snapshotDefaults\":{\"warningDays\":50,\"criticalDays\":40,"
	    "\"warningSizeGiB\":-3,\"criticalSizeGiB\":0},\"backupDefaults\":{\"warningDays\":-1,"
	    "\"criticalDays\":5,\"freshHours\":0,\"staleHours\":0}}", &c);
	ok(c.snapshot.warning_days == 40 && c.snapshot.critical_days == 40,
	    "snapshot: warning > critical -> critical");
	ok(c.snapshot.warning_size_gib == 0, "snapshot: negative size -> 0");
	ok(c.backup.warning_days == 0 && c.backup.fresh_hours == 24 && c.backup.stale_hours == 72,
	    "backup: negative -> 0, fresh/stale defaults");
	alert_config_free(&c);
	normalized("{\"snapshotDefaults\":{\"warningDays\":10},\"backupDefaults\":{\"freshHours\":"
	    "100,\"staleHours\":50}}", &c);
	is_int(c.snapshot.critical_days, 10, "snapshot: critical 0, warning > 0 -> critical = warning");
	is_int(c.backup.stale_hours, 100, "backup: stale < fresh -> fresh");
	alert_config_free(&c);
	normalized("{\"nodeDefaults\":{\"temperature\":{\"trigger\":3,\"clear\":0},\"cpu\":"
	    "{\"trigger\":80,\"clear\":80}},\"hostDefaults\":{\"cpu\":{\"trigger\":-5}}}", &c);
	ok(c.node.metric[ALERT_TEMPERATURE].clear == 0,
	    "node temperature: clear 75 above trigger 3 -> max(0, trigger - 5)");
	ok(c.node.metric[ALERT_CPU].clear == 75, "node cpu: clear >= trigger -> trigger - 5");
	ok(c.host.metric[ALERT_CPU].trigger == 80 && c.host.metric[ALERT_MEMORY].trigger == 85 &&
	    c.host.metric[ALERT_DISK].trigger == 90 &&
	    c.host.metric[ALERT_DISK_TEMPERATURE].trigger == 55, "host: missing or negative -> defaults");
	ok(c.node.metric[ALERT_TEMPERATURE].set, "node temperature set");
	alert_config_free(&c);
	normalized("{\"nodeDefaults\":{}}", &c);
	ok(c.node.metric[ALERT_TEMPERATURE].trigger == 80 &&
	    c.node.metric[ALERT_TEMPERATURE].clear == 75, "node temperature: missing -> 80/75");
	ok(c.minimum_delta == 2 && c.suppression_window == 5 && c.hysteresis_margin == 5 &&
	    c.observation_window_hours == 24 && c.time_threshold == 5, "scalars <= 0 -> defaults");
	is_str(c.guest.powered_off_severity, "warning", "guest severity normalised");
	alert_config_free(&c);
	normalized("{\"timeThresholds\":{\"guest\":-3,\"node\":0,\"all\":-1,\"docker\":9},"
	    "\"metricTimeThresholds\":{\"Guest\":{\"CPU\":10,\"memory\":-1}}}", &c);
	ok(strstr(text_of(&c), "\"timeThresholds\":{\"all\":5,\"docker\":9,\"guest\":5,\"node\":0,"
	    "\"pbs\":5,\"storage\":5}") != NULL, "delays: negative/missing -> 5, 0 kept");
	ok(strstr(text_of(&c), "\"metricTimeThresholds\":{\"guest\":{\"cpu\":10}}") != NULL,
	    "metric delays: lower-cased, negative dropped");
	alert_config_free(&c);
	normalized("{\"metricTimeThresholds\":{\"guest\":{\"cpu\":-1}}}", &c);
	ok(strstr(text_of(&c), "\"metricTimeThresholds\":null") != NULL, "metric delays: empty -> null");
	alert_config_free(&c);
	normalized("{\"dockerIgnoredContainerPrefixes\":[\" Foo \",\"\",\"foo\",\"bar\",\"  \"]}", &c);
	ok(strstr(text_of(&c), "\"dockerIgnoredContainerPrefixes\":[\"Foo\",\"bar\"]") != NULL,
	    "prefixes: trimmed, empty dropped, de-duplicated in any case");
	alert_config_free(&c);
	normalized("{\"schedule\":{\"quietHours\":{\"enabled\":true,\"timezone\":\"Nowhere/Atlantis\"}}}",
	    &c);
	ok(!c.schedule.quiet.enabled, "quiet hours: unloadable timezone -> off");
	alert_config_free(&c);
	normalized("{\"schedule\":{\"quietHours\":{\"enabled\":true,\"timezone\":\"UTC\"}}}", &c);
	ok(c.schedule.quiet.enabled, "quiet hours: UTC loads");
	alert_config_free(&c);
	normalized("{\"schedule\":{\"groupingWindow\":120}}", &c);
	ok(c.schedule.grouping_window_seconds == 120 && c.schedule.grouping_window == 0,
	    "groupingWindow moved into grouping.window");
	alert_config_free(&c);
	normalized("{\"overrides\":{\"vm-2\":{\"poweredOffSeverity\":\"CRITICAL\"},\"vm-1\":{}}}", &c);
	is_str(c.activation_state, "active", "activation: overrides -> active");
	ok(c.activation_time == NOW, "activation: time now");
	is_str(c.overrides[0].resource_id, "vm-1", "overrides sorted by id");
	is_str(c.overrides[1].t.powered_off_severity, "critical", "override severity normalised");
	is_str(c.overrides[0].t.powered_off_severity, "warning", "override severity defaulted");
	alert_config_free(&c);
	normalized("{\"overrides\":{\"vm-9\":null}}", &c);
	ok(c.n_overrides == 1 && strstr(text_of(&c), "\"overrides\":{\"vm-9\":{\"poweredOffSeverity\":"
	    "\"warning\"}}") != NULL, "a null override is a zero one, kept");
	alert_config_free(&c);
	normalized("{\"activationState\":\"snoozed\"}", &c);
	is_str(c.activation_state, "snoozed", "a given state stays");
	alert_config_free(&c);
}

static void
test_round_trip(void)
{
	static const char *const doc = "{\"enabled\":true,\"activationState\":\"active\","
	    "\"activationTime\":\"2026-01-02T03:04:05.5+01:00\","
	    "\"guestDefaults\":{\"disableConnectivity\":true,\"cpu\":{\"trigger\":91.5,\"clear\":80},"
	    "\"note\":\"n\",\"cpuLegacy\":70,\"backup\":{\"enabled\":true,\"warningDays\":1,"
	    "\"criticalDays\":2,\"freshHours\":3,\"staleHours\":4}},"
	    "\"overrides\":{\"pve1:n1/101\":{\"disabled\":true,\"snapshot\":{\"enabled\":true,"
	    "\"warningDays\":1,\"criticalDays\":2,\"warningSizeGiB\":1.5}}},"
	    "\"customRules\":[{\"id\":\"r1\",\"name\":\"big\",\"filterConditions\":{\"filters\":"
	    "[{\"type\":\"metric\",\"field\":\"cpu\",\"operator\":\">\",\"value\":50},"
	    "{\"type\":\"text\",\"field\":\"name\",\"value\":\"web\"}],\"logicalOperator\":\"AND\"},"
	    "\"thresholds\":{\"cpu\":{\"trigger\":95,\"clear\":90}},\"priority\":3,\"enabled\":true,"
	    "\"notifications\":{\"email\":{\"enabled\":true,\"recipients\":[\"a@b.c\"]}},"
	    "\"createdAt\":\"2026-01-01T00:00:00Z\",\"updatedAt\":\"0001-01-01T00:00:00Z\"}],"
	    "\"guestTagBlacklist\":[\"x\"],"
	    "\"schedule\":{\"quietHours\":{\"enabled\":false,\"start\":\"23:00\",\"end\":\"07:00\","
	    "\"timezone\":\"UTC\",\"days\":{\"monday\":true,\"sunday\":false},\"suppress\":"
	    "{\"performance\":true}},\"cooldown\":15,\"maxAlertsHour\":3,\"notifyOnResolve\":true,"
	    "\"escalation\":{\"enabled\":true,\"levels\":[{\"after\":10,\"notify\":\"all\"}]},"
	    "\"grouping\":{\"enabled\":true,\"window\":60}}}";
	struct alert_config c, back;
	char err[256], first[65536];

	is_int(normalized(doc, &c), 0, "a full document reads");
	snprintf(first, sizeof(first), "%s", text_of(&c));
	ok(strstr(first, "\"activationTime\":\"2026-01-02T02:04:05.5Z\"") != NULL,
	    "activation time in UTC, fraction kept");
	ok(strstr(first, "\"value\":50") != NULL && strstr(first, "\"value\":\"web\"") != NULL,
	    "filter values keep their JSON type");
	ok(strstr(first, "\"updatedAt\":\"0001-01-01T00:00:00Z\"") != NULL, "zero time stays zero");
	ok(strstr(first, "\"days\":{\"monday\":true,\"sunday\":false}") != NULL, "days as given");
	ok(strstr(first, "\"cpuLegacy\":70") != NULL, "legacy scalar kept");
	ok(strstr(first, "\"customRules\":[") != NULL && strstr(first, "\"webhook\"") == NULL,
	    "rule written, absent webhook omitted");
	is_int(parse(first, NULL, &back, err, sizeof(err)), 0, "its JSON reads back");
	alert_config_normalize(&back, NOW);
	is_str(text_of(&back), first, "to_json(from_json(x)) == x");
	alert_config_free(&back);
	alert_config_free(&c);

	normalized("{\"overrides\":null,\"customRules\":[]}", &c);
	ok(strstr(text_of(&c), "\"overrides\":null") != NULL, "overrides null when omitted");
	ok(strstr(text_of(&c), "customRules") == NULL, "no rules: customRules omitted");
	alert_config_free(&c);
	normalized("{\"ENABLED\":true,\"unknownKey\":[1,2],\"flapping\":{\"enabled\":true}}", &c);
	ok(c.enabled && !c.flapping_enabled, "keys match in any case, unknown keys ignored");
	alert_config_free(&c);
}

static void
test_activation_kept(void)
{
	struct alert_config cur, c;
	char err[256];

	alert_config_defaults(&cur);
	strcpy(cur.activation_state, "active");
	cur.activation_time = NOW - 60;
	is_int(parse("{\"enabled\":true}", &cur, &c, err, sizeof(err)), 0, "absent state reads");
	ok(strcmp(c.activation_state, "active") == 0 && c.activation_time == NOW - 60,
	    "absent activationState keeps the current state and time");
	alert_config_free(&c);
	is_int(parse("{\"activationState\":\"pending_review\"}", &cur, &c, err, sizeof(err)), 0,
	    "given state reads");
	ok(strcmp(c.activation_state, "pending_review") == 0 && c.activation_time == 0,
	    "a given state replaces the current one");
	alert_config_free(&c);
	alert_config_free(&cur);
}

static void
test_errors(void)
{
	static const struct {
		const char *doc, *err;
	} cases[] = {
		{"{\"enabled\":1}", "enabled: must be a boolean"},
		{"{\"cooldown\":5,\"schedule\":{\"cooldown\":\"5\"}}", "schedule.cooldown: must be an integer"},
		{"{\"schedule\":{\"cooldown\":5.5}}", "schedule.cooldown: must be an integer"},
		{"{\"guestDefaults\":{\"cpu\":{\"trigger\":\"80\"}}}",
		    "guestDefaults.cpu.trigger: must be a number"},
		{"{\"guestDefaults\":[]}", "guestDefaults: must be an object"},
		{"{\"overrides\":{\"vm1\":{\"memory\":5}}}", "overrides.vm1.memory: must be an object"},
		{"{\"ignoredGuestPrefixes\":\"a\"}", "ignoredGuestPrefixes: must be an array"},
		{"{\"ignoredGuestPrefixes\":[1]}", "ignoredGuestPrefixes.[]: must be a string"},
		{"{\"activationState\":\"on\"}",
		    "activationState: must be pending_review, active or snoozed"},
		{"{\"activationState\":\"active\",\"activationTime\":\"yesterday\"}",
		    "activationTime: must be an RFC 3339 time"},
		{"{\"customRules\":[{\"createdAt\":5}]}", "customRules.[].createdAt: must be a string"},
		{"{\"customRules\":[{\"filterConditions\":{\"filters\":[7]}}]}",
		    "customRules.[].filterConditions.filters.[]: must be an object"},
		{"{\"schedule\":{\"quietHours\":{\"days\":[1,2]}}}",
		    "schedule.quietHours.days: must be an object"},
		{"{\"timeThresholds\":{\"guest\":true}}", "timeThresholds.guest: must be an integer"},
		{"{\"pmgDefaults\":{\"holdQueueWarn\":1.5}}", "pmgDefaults.holdQueueWarn: must be an integer"},
		{"[]", "the alert configuration must be a JSON object"},
	};
	struct alert_config c;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		is_int(parse(cases[i].doc, NULL, &c, err, sizeof(err)), -1, "refused: %s", cases[i].doc);
		is_str(err, cases[i].err, "message for %s", cases[i].doc);
		ok(c.overrides == NULL && c.rules == NULL, "nothing kept after an error");
	}
}

/* A document with n entries of a list member: "{key:[...]}" or "{key:{...}}". */
static char *
many(const char *key, int n, int map)
{
	static char buf[1 << 20];
	size_t at;
	int i;

	at = (size_t)snprintf(buf, sizeof(buf), "{\"%s\":%c", key, map ? '{' : '[');
	for (i = 0; i < n; i++)
		at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s%s\"k%d\"%s", i ? "," : "",
		    "", i, map ? ":{}" : "");
	snprintf(buf + at, sizeof(buf) - at, "%c}", map ? '}' : ']');
	return buf;
}

static void
test_limits(void)
{
	struct alert_config c;
	char err[256], doc[8192];

	is_int(parse(many("overrides", ALERT_MAX_OVERRIDES, 1), NULL, &c, err, sizeof(err)), 0,
	    "overrides at the bound");
	is_int(c.n_overrides, ALERT_MAX_OVERRIDES, "all kept");
	alert_config_free(&c);
	is_int(parse(many("overrides", ALERT_MAX_OVERRIDES + 1, 1), NULL, &c, err, sizeof(err)), -1,
	    "one override too many");
	is_str(err, "overrides: has too many entries", "message");
	is_int(parse(many("guestTagWhitelist", ALERT_MAX_LIST, 0), NULL, &c, err, sizeof(err)), 0,
	    "a list at the bound");
	alert_config_free(&c);
	is_int(parse(many("guestTagWhitelist", ALERT_MAX_LIST + 1, 0), NULL, &c, err, sizeof(err)),
	    -1, "a list too long");
	is_int(parse(many("timeThresholds", ALERT_MAX_DELAYS + 1, 1), NULL, &c, err, sizeof(err)),
	    -1, "too many delays");
	{
		char *d = many("customRules", ALERT_MAX_RULES + 1, 0);

		is_int(parse(d, NULL, &c, err, sizeof(err)), -1, "too many rules");
		is_str(err, "customRules: has too many entries", "rules message");
	}
	memset(doc, 'a', sizeof(doc));
	memcpy(doc, "{\"guestDefaults\":{\"note\":\"", 26);
	memcpy(doc + ALERT_TEXT_MAX + 26, "\"}}", 4);
	is_int(parse(doc, NULL, &c, err, sizeof(err)), -1, "a note too long");
	is_str(err, "guestDefaults.note: is too long", "note message");
}

int
main(void)
{
	test_defaults();
	test_normalize();
	test_round_trip();
	test_activation_kept();
	test_errors();
	test_limits();
	return done_testing();
}
