/* alert_config.c: the alert configuration: defaults, JSON in and out, normalisation, storage. */
#include "config.h"

#include "alert_config.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "timefmt.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

static const char *const metric_keys[ALERT_METRIC_COUNT] = {
	"cpu", "memory", "disk", "diskRead", "diskWrite", "networkIn", "networkOut", "usage",
	"temperature", "diskTemperature",
};
static const char *const legacy_keys[ALERT_LEGACY_COUNT] = {
	"cpuLegacy", "memoryLegacy", "diskLegacy", "diskReadLegacy", "diskWriteLegacy",
	"networkInLegacy", "networkOutLegacy",
};
static const char *const pmg_keys[ALERT_PMG_COUNT] = {
	"queueTotalWarning", "queueTotalCritical", "oldestMessageWarnMins",
	"oldestMessageCritMins", "deferredQueueWarn", "deferredQueueCritical", "holdQueueWarn",
	"holdQueueCritical", "quarantineSpamWarn", "quarantineSpamCritical",
	"quarantineVirusWarn", "quarantineVirusCritical", "quarantineGrowthWarnPct",
	"quarantineGrowthWarnMin", "quarantineGrowthCritPct", "quarantineGrowthCritMin",
};
static const int64_t pmg_defaults[ALERT_PMG_COUNT] = {
	500, 1000, 30, 60, 200, 500, 100, 300, 2000, 5000, 2000, 5000, 25, 250, 50, 500,
};
static const char *const day_keys[7] = {
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
};

/* --- flat fields, described once for reading and writing ------------------------------ */

enum field_type {
	F_BOOL,		/* int */
	F_INT,		/* int64_t */
	F_NUM,		/* double */
	F_OPT_BOOL,	/* int, omitted when false */
	F_OPT_INT,	/* int64_t, omitted when 0 */
	F_OPT_NUM,	/* double, omitted when 0 */
};

struct field {
	const char *key;
	enum field_type type;
	size_t offset;
};

#define FIELD(key, type, st, member) {key, type, offsetof(struct st, member)}

static const struct field config_fields[] = {
	FIELD("enabled", F_BOOL, alert_config, enabled),
	FIELD("observationWindowHours", F_OPT_INT, alert_config, observation_window_hours),
	FIELD("disableAllNodes", F_BOOL, alert_config, disable_all_nodes),
	FIELD("disableAllGuests", F_BOOL, alert_config, disable_all_guests),
	FIELD("disableAllHosts", F_BOOL, alert_config, disable_all_hosts),
	FIELD("disableAllStorage", F_BOOL, alert_config, disable_all_storage),
	FIELD("disableAllPBS", F_BOOL, alert_config, disable_all_pbs),
	FIELD("disableAllPMG", F_BOOL, alert_config, disable_all_pmg),
	FIELD("disableAllDockerHosts", F_BOOL, alert_config, disable_all_docker_hosts),
	FIELD("disableAllDockerContainers", F_BOOL, alert_config, disable_all_docker_containers),
	FIELD("disableAllDockerServices", F_BOOL, alert_config, disable_all_docker_services),
	FIELD("disableAllNodesOffline", F_BOOL, alert_config, disable_all_nodes_offline),
	FIELD("disableAllGuestsOffline", F_BOOL, alert_config, disable_all_guests_offline),
	FIELD("disableAllHostsOffline", F_BOOL, alert_config, disable_all_hosts_offline),
	FIELD("disableAllPBSOffline", F_BOOL, alert_config, disable_all_pbs_offline),
	FIELD("disableAllPMGOffline", F_BOOL, alert_config, disable_all_pmg_offline),
	FIELD("disableAllDockerHostsOffline", F_BOOL, alert_config,
	    disable_all_docker_hosts_offline),
	FIELD("minimumDelta", F_NUM, alert_config, minimum_delta),
	FIELD("suppressionWindow", F_INT, alert_config, suppression_window),
	FIELD("hysteresisMargin", F_NUM, alert_config, hysteresis_margin),
	FIELD("timeThreshold", F_INT, alert_config, time_threshold),
	FIELD("maxAlertAgeDays", F_INT, alert_config, max_alert_age_days),
	FIELD("maxAcknowledgedAgeDays", F_INT, alert_config, max_acknowledged_age_days),
	FIELD("autoAcknowledgeAfterHours", F_INT, alert_config, auto_acknowledge_after_hours),
	FIELD("flappingEnabled", F_BOOL, alert_config, flapping_enabled),
	FIELD("flappingWindowSeconds", F_INT, alert_config, flapping_window_seconds),
	FIELD("flappingThreshold", F_INT, alert_config, flapping_threshold),
	FIELD("flappingCooldownMinutes", F_INT, alert_config, flapping_cooldown_minutes),
};

static const struct field docker_fields[] = {
	FIELD("restartCount", F_INT, alert_docker, restart_count),
	FIELD("restartWindow", F_INT, alert_docker, restart_window),
	FIELD("memoryWarnPct", F_INT, alert_docker, memory_warn_pct),
	FIELD("memoryCriticalPct", F_INT, alert_docker, memory_critical_pct),
	FIELD("serviceWarnGapPercent", F_INT, alert_docker, service_warn_gap_percent),
	FIELD("serviceCriticalGapPercent", F_INT, alert_docker, service_critical_gap_percent),
	FIELD("stateDisableConnectivity", F_OPT_BOOL, alert_docker, state_disable_connectivity),
	FIELD("updateAlertDelayHours", F_OPT_INT, alert_docker, update_alert_delay_hours),
};

static const struct field snapshot_fields[] = {
	FIELD("enabled", F_BOOL, alert_snapshot, enabled),
	FIELD("warningDays", F_INT, alert_snapshot, warning_days),
	FIELD("criticalDays", F_INT, alert_snapshot, critical_days),
	FIELD("warningSizeGiB", F_OPT_NUM, alert_snapshot, warning_size_gib),
	FIELD("criticalSizeGiB", F_OPT_NUM, alert_snapshot, critical_size_gib),
};

static const struct field backup_fields[] = {
	FIELD("enabled", F_BOOL, alert_backup, enabled),
	FIELD("warningDays", F_INT, alert_backup, warning_days),
	FIELD("criticalDays", F_INT, alert_backup, critical_days),
	FIELD("freshHours", F_INT, alert_backup, fresh_hours),
	FIELD("staleHours", F_INT, alert_backup, stale_hours),
};

static const struct field schedule_fields[] = {
	FIELD("cooldown", F_INT, alert_schedule, cooldown),
	FIELD("groupingWindow", F_OPT_INT, alert_schedule, grouping_window),
	FIELD("maxAlertsHour", F_INT, alert_schedule, max_alerts_hour),
	FIELD("notifyOnResolve", F_BOOL, alert_schedule, notify_on_resolve),
};

static const struct field quiet_fields[] = {
	FIELD("enabled", F_BOOL, alert_schedule, quiet.enabled),
};

static const struct field suppress_fields[] = {
	FIELD("performance", F_BOOL, alert_schedule, quiet.suppress_performance),
	FIELD("storage", F_BOOL, alert_schedule, quiet.suppress_storage),
	FIELD("offline", F_BOOL, alert_schedule, quiet.suppress_offline),
};

static const struct field grouping_fields[] = {
	FIELD("enabled", F_BOOL, alert_schedule, grouping_enabled),
	FIELD("window", F_INT, alert_schedule, grouping_window_seconds),
	FIELD("byNode", F_BOOL, alert_schedule, grouping_by_node),
	FIELD("byGuest", F_BOOL, alert_schedule, grouping_by_guest),
};

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* --- reading --------------------------------------------------------------------------- */

/* Where a value sits ("guestDefaults.cpu"), for error messages. */
struct path {
	const struct path *up;
	const char *key;
};

static void
path_format(const struct path *p, char *buf, size_t len)
{
	const char *keys[16];
	int n = 0;
	size_t at = 0;

	for (; p != NULL && n < 16; p = p->up)
		keys[n++] = p->key;
	buf[0] = '\0';
	while (n-- > 0 && at < len) {
		int w = snprintf(buf + at, len - at, "%s%s", at > 0 ? "." : "", keys[n]);

		if (w < 0)
			break;
		at += (size_t)w;
	}
}

static int
fail(char *err, size_t errlen, const struct path *p, const char *key, const char *what)
{
	char where[512];
	struct path here = {p, key};

	path_format(&here, where, sizeof(where));
	snprintf(err, errlen, "%s: %s", where, what);
	return -1;
}

/* A member as Go matches a field: the exact key, else one equal in any case. NULL when
 * absent or null. */
static struct json_object *
member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (json_object_object_get_ex(o, key, &v))
		return v;
	json_object_object_foreach(o, k, val) {
		if (strcasecmp(k, key) == 0)
			return val;
	}
	return NULL;
}

static int
want_object(struct json_object *v, char *err, size_t errlen, const struct path *p,
    const char *key)
{
	if (json_object_is_type(v, json_type_object))
		return 0;
	return fail(err, errlen, p, key, "must be an object");
}

static int
read_value(struct json_object *v, enum field_type type, void *dst, char *err, size_t errlen,
    const struct path *p, const char *key)
{
	switch (type) {
	case F_BOOL:
	case F_OPT_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return fail(err, errlen, p, key, "must be a boolean");
		*(int *)dst = json_object_get_boolean(v);
		return 0;
	case F_INT:
	case F_OPT_INT:
		if (!json_object_is_type(v, json_type_int))
			return fail(err, errlen, p, key, "must be an integer");
		*(int64_t *)dst = json_object_get_int64(v);
		return 0;
	case F_NUM:
	case F_OPT_NUM:
		if (!json_object_is_type(v, json_type_int) &&
		    !json_object_is_type(v, json_type_double))
			return fail(err, errlen, p, key, "must be a number");
		*(double *)dst = json_object_get_double(v);
		if (!isfinite(*(double *)dst))
			return fail(err, errlen, p, key, "must be a finite number");
		return 0;
	}
	return -1;
}

static int
read_fields(struct json_object *o, const struct field *f, size_t n, void *base, char *err,
    size_t errlen, const struct path *p)
{
	struct json_object *v;
	size_t i;

	for (i = 0; i < n; i++) {
		v = member(o, f[i].key);
		if (v != NULL && read_value(v, f[i].type, (char *)base + f[i].offset, err, errlen,
		    p, f[i].key) != 0)
			return -1;
	}
	return 0;
}

/* A string member into buf; absent or null leaves buf empty. */
static int
read_str(struct json_object *o, const char *key, char *buf, size_t len, char *err,
    size_t errlen, const struct path *p)
{
	struct json_object *v = member(o, key);
	const char *s;

	buf[0] = '\0';
	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return fail(err, errlen, p, key, "must be a string");
	s = json_object_get_string(v);
	if (strlen(s) >= len)
		return fail(err, errlen, p, key, "is too long");
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

static int
read_threshold(struct json_object *v, struct alert_threshold *t, char *err, size_t errlen,
    const struct path *p, const char *key)
{
	struct path here = {p, key};

	if (want_object(v, err, errlen, p, key) != 0)
		return -1;
	t->set = 1;
	if (member(v, "trigger") != NULL && read_value(member(v, "trigger"), F_NUM, &t->trigger,
	    err, errlen, &here, "trigger") != 0)
		return -1;
	if (member(v, "clear") != NULL && read_value(member(v, "clear"), F_NUM, &t->clear, err,
	    errlen, &here, "clear") != 0)
		return -1;
	return 0;
}

/* A member that must be an object (absent: *out NULL). */
static int
sub_object(struct json_object *o, const char *key, struct json_object **out, char *err,
    size_t errlen, const struct path *p)
{
	*out = member(o, key);
	if (*out == NULL)
		return 0;
	return want_object(*out, err, errlen, p, key);
}

static int
read_fields_of(struct json_object *o, const char *key, const struct field *f, size_t n,
    void *base, char *err, size_t errlen, const struct path *p)
{
	struct json_object *sub;
	struct path here = {p, key};

	if (sub_object(o, key, &sub, err, errlen, p) != 0)
		return -1;
	return sub == NULL ? 0 : read_fields(sub, f, n, base, err, errlen, &here);
}

static int
read_thresholds(struct json_object *o, struct alert_thresholds *t, char *err, size_t errlen,
    const struct path *p)
{
	static const struct field flags[] = {
		FIELD("disabled", F_BOOL, alert_thresholds, disabled),
		FIELD("disableConnectivity", F_BOOL, alert_thresholds, disable_connectivity),
	};
	struct json_object *v;
	int i;

	if (read_fields(o, flags, NFIELDS(flags), t, err, errlen, p) != 0 ||
	    read_str(o, "poweredOffSeverity", t->powered_off_severity,
	    sizeof(t->powered_off_severity), err, errlen, p) != 0 ||
	    read_str(o, "note", t->note, sizeof(t->note), err, errlen, p) != 0)
		return -1;
	for (i = 0; i < ALERT_METRIC_COUNT; i++) {
		v = member(o, metric_keys[i]);
		if (v != NULL && read_threshold(v, &t->metric[i], err, errlen, p,
		    metric_keys[i]) != 0)
			return -1;
	}
	for (i = 0; i < ALERT_LEGACY_COUNT; i++) {
		v = member(o, legacy_keys[i]);
		if (v != NULL && read_value(v, F_NUM, &t->legacy[i], err, errlen, p,
		    legacy_keys[i]) != 0)
			return -1;
	}
	t->has_backup = member(o, "backup") != NULL;
	t->has_snapshot = member(o, "snapshot") != NULL;
	if (read_fields_of(o, "backup", backup_fields, NFIELDS(backup_fields), &t->backup, err,
	    errlen, p) != 0)
		return -1;
	return read_fields_of(o, "snapshot", snapshot_fields, NFIELDS(snapshot_fields),
	    &t->snapshot, err, errlen, p);
}

static int
read_thresholds_of(struct json_object *o, const char *key, struct alert_thresholds *t,
    char *err, size_t errlen, const struct path *p)
{
	struct json_object *sub;
	struct path here = {p, key};

	if (sub_object(o, key, &sub, err, errlen, p) != 0)
		return -1;
	return sub == NULL ? 0 : read_thresholds(sub, t, err, errlen, &here);
}

/* An array member of at most max elements that must be arrays' of the given type check. */
static int
array_of(struct json_object *o, const char *key, int max, struct json_object **out,
    char *err, size_t errlen, const struct path *p)
{
	*out = member(o, key);
	if (*out == NULL)
		return 0;
	if (!json_object_is_type(*out, json_type_array))
		return fail(err, errlen, p, key, "must be an array");
	if ((int)json_object_array_length(*out) > max)
		return fail(err, errlen, p, key, "has too many entries");
	return 0;
}

static int
read_strings(struct json_object *o, const char *key, struct alert_strings *s, char *err,
    size_t errlen, const struct path *p)
{
	struct json_object *a, *v;
	struct path here = {p, key};
	int i, n;

	if (array_of(o, key, ALERT_MAX_LIST, &a, err, errlen, p) != 0)
		return -1;
	if (a == NULL)
		return 0;
	n = (int)json_object_array_length(a);
	s->present = 1;
	s->v = xcalloc((size_t)n + 1, sizeof(*s->v));
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(a, (size_t)i);
		if (!json_object_is_type(v, json_type_string))
			return fail(err, errlen, &here, "[]", "must be a string");
		if (strlen(json_object_get_string(v)) >= ALERT_STR_MAX)
			return fail(err, errlen, &here, "[]", "is too long");
		strcpy(s->v[s->n++], json_object_get_string(v));
	}
	return 0;
}

static int
read_overrides(struct json_object *o, struct alert_config *c, char *err, size_t errlen)
{
	struct json_object *m;
	struct path here = {NULL, "overrides"};

	if (sub_object(o, "overrides", &m, err, errlen, NULL) != 0)
		return -1;
	if (m == NULL)
		return 0;
	c->has_overrides = 1;
	if (json_object_object_length(m) > ALERT_MAX_OVERRIDES)
		return fail(err, errlen, NULL, "overrides", "has too many entries");
	c->overrides = xcalloc((size_t)json_object_object_length(m) + 1, sizeof(*c->overrides));
	json_object_object_foreach(m, k, v) {
		struct alert_override *ov = &c->overrides[c->n_overrides];

		if (strlen(k) >= sizeof(ov->resource_id))
			return fail(err, errlen, &here, k, "resource id is too long");
		struct path at = {&here, k};

		if (v != NULL && want_object(v, err, errlen, &here, k) != 0)
			return -1;
		strcpy(ov->resource_id, k);
		c->n_overrides++;
		/* null is a zero ThresholdConfig, as Go decodes it */
		if (v != NULL && read_thresholds(v, &ov->t, err, errlen, &at) != 0)
			return -1;
	}
	return 0;
}

static int
read_time(struct json_object *o, const char *key, double *out, char *err, size_t errlen,
    const struct path *p)
{
	char buf[64];

	*out = 0;
	if (read_str(o, key, buf, sizeof(buf), err, errlen, p) != 0)
		return -1;
	if (buf[0] != '\0' && timefmt_parse_rfc3339(buf, out) != 0)
		return fail(err, errlen, p, key, "must be an RFC 3339 time");
	if (buf[0] == '\0' && member(o, key) != NULL)
		return fail(err, errlen, p, key, "must be an RFC 3339 time");
	return 0;
}

static int
read_filter(struct json_object *v, struct alert_filter *f, char *err, size_t errlen,
    const struct path *p)
{
	struct json_object *value;
	const char *text;

	if (want_object(v, err, errlen, p, "[]") != 0)
		return -1;
	if (read_str(v, "type", f->type, sizeof(f->type), err, errlen, p) != 0 ||
	    read_str(v, "field", f->field, sizeof(f->field), err, errlen, p) != 0 ||
	    read_str(v, "operator", f->op, sizeof(f->op), err, errlen, p) != 0 ||
	    read_str(v, "rawText", f->raw_text, sizeof(f->raw_text), err, errlen, p) != 0)
		return -1;
	value = member(v, "value");
	if (value == NULL)
		return 0;
	text = json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN);
	if (strlen(text) >= sizeof(f->value_json))
		return fail(err, errlen, p, "value", "is too long");
	strcpy(f->value_json, text);
	return 0;
}

static int
read_rule_notifications(struct json_object *o, struct alert_rule *r, char *err, size_t errlen,
    const struct path *p)
{
	struct json_object *n, *email, *hook;
	struct path here = {p, "notifications"}, at_email = {&here, "email"},
	    at_hook = {&here, "webhook"};

	if (sub_object(o, "notifications", &n, err, errlen, p) != 0)
		return -1;
	if (n == NULL)
		return 0;
	if (sub_object(n, "email", &email, err, errlen, &here) != 0 ||
	    sub_object(n, "webhook", &hook, err, errlen, &here) != 0)
		return -1;
	if (email != NULL) {
		r->has_email = 1;
		if ((member(email, "enabled") != NULL && read_value(member(email, "enabled"),
		    F_BOOL, &r->email_enabled, err, errlen, &at_email, "enabled") != 0) ||
		    read_strings(email, "recipients", &r->recipients, err, errlen, &at_email) != 0)
			return -1;
	}
	if (hook != NULL) {
		r->has_webhook = 1;
		if ((member(hook, "enabled") != NULL && read_value(member(hook, "enabled"), F_BOOL,
		    &r->webhook_enabled, err, errlen, &at_hook, "enabled") != 0) ||
		    read_str(hook, "url", r->webhook_url, sizeof(r->webhook_url), err, errlen,
		    &at_hook) != 0)
			return -1;
	}
	return 0;
}

static int
read_rule(struct json_object *v, struct alert_rule *r, char *err, size_t errlen,
    const struct path *p)
{
	static const struct field fields[] = {
		FIELD("priority", F_INT, alert_rule, priority),
		FIELD("enabled", F_BOOL, alert_rule, enabled),
	};
	struct json_object *fc, *filters;
	struct path at_fc = {p, "filterConditions"}, at_filters = {&at_fc, "filters"};
	int i;

	if (want_object(v, err, errlen, p->up, p->key) != 0)
		return -1;
	if (read_str(v, "id", r->id, sizeof(r->id), err, errlen, p) != 0 ||
	    read_str(v, "name", r->name, sizeof(r->name), err, errlen, p) != 0 ||
	    read_str(v, "description", r->description, sizeof(r->description), err, errlen,
	    p) != 0 ||
	    read_fields(v, fields, NFIELDS(fields), r, err, errlen, p) != 0 ||
	    read_thresholds_of(v, "thresholds", &r->t, err, errlen, p) != 0 ||
	    read_rule_notifications(v, r, err, errlen, p) != 0 ||
	    read_time(v, "createdAt", &r->created_at, err, errlen, p) != 0 ||
	    read_time(v, "updatedAt", &r->updated_at, err, errlen, p) != 0 ||
	    sub_object(v, "filterConditions", &fc, err, errlen, p) != 0)
		return -1;
	if (fc == NULL)
		return 0;
	if (read_str(fc, "logicalOperator", r->logical_operator, sizeof(r->logical_operator),
	    err, errlen, &at_fc) != 0 ||
	    array_of(fc, "filters", ALERT_MAX_FILTERS, &filters, err, errlen, &at_fc) != 0)
		return -1;
	if (filters == NULL)
		return 0;
	r->has_filters = 1;
	r->filters = xcalloc(json_object_array_length(filters) + 1, sizeof(*r->filters));
	for (i = 0; i < (int)json_object_array_length(filters); i++) {
		r->n_filters++;
		if (read_filter(json_object_array_get_idx(filters, (size_t)i), &r->filters[i], err,
		    errlen, &at_filters) != 0)
			return -1;
	}
	return 0;
}

static int
read_rules(struct json_object *o, struct alert_config *c, char *err, size_t errlen)
{
	struct json_object *a;
	struct path here = {NULL, "customRules"}, at = {&here, "[]"};
	int i;

	if (array_of(o, "customRules", ALERT_MAX_RULES, &a, err, errlen, NULL) != 0)
		return -1;
	if (a == NULL)
		return 0;
	c->rules = xcalloc(json_object_array_length(a) + 1, sizeof(*c->rules));
	for (i = 0; i < (int)json_object_array_length(a); i++) {
		c->n_rules++;
		if (read_rule(json_object_array_get_idx(a, (size_t)i), &c->rules[i], err, errlen,
		    &at) != 0)
			return -1;
	}
	return 0;
}

static int
read_delay_key(const char *k, char *dst, char *err, size_t errlen, const struct path *p)
{
	if (strlen(k) >= ALERT_KEY_MAX)
		return fail(err, errlen, p, k, "key is too long");
	strcpy(dst, k);
	return 0;
}

static int
read_delays(struct json_object *o, struct alert_config *c, char *err, size_t errlen)
{
	struct json_object *m, *inner;
	struct path here = {NULL, "timeThresholds"}, mhere = {NULL, "metricTimeThresholds"};

	if (sub_object(o, "timeThresholds", &m, err, errlen, NULL) != 0)
		return -1;
	if (m != NULL) {
		json_object_object_foreach(m, k, v) {
			struct alert_delay *d = &c->delays[c->n_delays];

			if (v == NULL)
				continue;
			if (c->n_delays == ALERT_MAX_DELAYS)
				return fail(err, errlen, NULL, "timeThresholds", "has too many entries");
			if (read_delay_key(k, d->type, err, errlen, &here) != 0 ||
			    read_value(v, F_INT, &d->seconds, err, errlen, &here, k) != 0)
				return -1;
			c->n_delays++;
		}
	}
	if (sub_object(o, "metricTimeThresholds", &m, err, errlen, NULL) != 0)
		return -1;
	if (m == NULL)
		return 0;
	json_object_object_foreach(m, type, metrics) {
		struct path at = {&mhere, type};

		if (metrics == NULL)
			continue;
		if (want_object(metrics, err, errlen, &mhere, type) != 0)
			return -1;
		inner = metrics;
		json_object_object_foreach(inner, metric, v) {
			struct alert_delay *d = &c->metric_delays[c->n_metric_delays];

			if (v == NULL)
				continue;
			if (c->n_metric_delays == ALERT_MAX_METRIC_DELAYS)
				return fail(err, errlen, NULL, "metricTimeThresholds",
				    "has too many entries");
			if (read_delay_key(type, d->type, err, errlen, &mhere) != 0 ||
			    read_delay_key(metric, d->metric, err, errlen, &at) != 0 ||
			    read_value(v, F_INT, &d->seconds, err, errlen, &at, metric) != 0)
				return -1;
			c->n_metric_delays++;
		}
	}
	return 0;
}

static int
read_schedule(struct json_object *o, struct alert_schedule *s, char *err, size_t errlen)
{
	struct json_object *sch, *qh, *days, *esc, *levels, *lv;
	struct path here = {NULL, "schedule"}, at_qh = {&here, "quietHours"},
	    at_esc = {&here, "escalation"}, at_lv = {&at_esc, "levels"};
	int i;

	if (sub_object(o, "schedule", &sch, err, errlen, NULL) != 0)
		return -1;
	if (sch == NULL)
		return 0;
	if (read_fields(sch, schedule_fields, NFIELDS(schedule_fields), s, err, errlen,
	    &here) != 0 ||
	    read_fields_of(sch, "grouping", grouping_fields, NFIELDS(grouping_fields), s, err,
	    errlen, &here) != 0 ||
	    sub_object(sch, "quietHours", &qh, err, errlen, &here) != 0 ||
	    sub_object(sch, "escalation", &esc, err, errlen, &here) != 0)
		return -1;
	if (qh != NULL) {
		if (read_fields(qh, quiet_fields, NFIELDS(quiet_fields), s, err, errlen,
		    &at_qh) != 0 ||
		    read_str(qh, "start", s->quiet.start, sizeof(s->quiet.start), err, errlen,
		    &at_qh) != 0 ||
		    read_str(qh, "end", s->quiet.end, sizeof(s->quiet.end), err, errlen,
		    &at_qh) != 0 ||
		    read_str(qh, "timezone", s->quiet.timezone, sizeof(s->quiet.timezone), err,
		    errlen, &at_qh) != 0 ||
		    read_fields_of(qh, "suppress", suppress_fields, NFIELDS(suppress_fields), s,
		    err, errlen, &at_qh) != 0 ||
		    sub_object(qh, "days", &days, err, errlen, &at_qh) != 0)
			return -1;
		if (days != NULL) {
			struct path at_days = {&at_qh, "days"};

			s->quiet.has_days = 1;
			for (i = 0; i < 7; i++) {
				int on = 0;

				lv = member(days, day_keys[i]);
				if (lv == NULL)
					continue;
				if (read_value(lv, F_BOOL, &on, err, errlen, &at_days, day_keys[i]) != 0)
					return -1;
				s->quiet.days_given |= 1u << i;
				if (on)
					s->quiet.days_on |= 1u << i;
			}
		}
	}
	if (esc == NULL)
		return 0;
	if ((member(esc, "enabled") != NULL && read_value(member(esc, "enabled"), F_BOOL,
	    &s->escalation_enabled, err, errlen, &at_esc, "enabled") != 0) ||
	    array_of(esc, "levels", ALERT_MAX_LEVELS, &levels, err, errlen, &at_esc) != 0)
		return -1;
	if (levels == NULL)
		return 0;
	s->has_levels = 1;
	for (i = 0; i < (int)json_object_array_length(levels); i++) {
		struct alert_level *l = &s->levels[s->n_levels++];

		lv = json_object_array_get_idx(levels, (size_t)i);
		if (want_object(lv, err, errlen, &at_lv, "[]") != 0 ||
		    (member(lv, "after") != NULL && read_value(member(lv, "after"), F_INT,
		    &l->after, err, errlen, &at_lv, "after") != 0) ||
		    read_str(lv, "notify", l->notify, sizeof(l->notify), err, errlen, &at_lv) != 0)
			return -1;
	}
	return 0;
}

static int
read_docker(struct json_object *o, struct alert_docker *d, char *err, size_t errlen)
{
	struct json_object *sub;
	struct path here = {NULL, "dockerDefaults"};

	if (sub_object(o, "dockerDefaults", &sub, err, errlen, NULL) != 0)
		return -1;
	if (sub == NULL)
		return 0;
	if (read_fields(sub, docker_fields, NFIELDS(docker_fields), d, err, errlen, &here) != 0 ||
	    read_str(sub, "statePoweredOffSeverity", d->state_powered_off_severity,
	    sizeof(d->state_powered_off_severity), err, errlen, &here) != 0)
		return -1;
	if ((member(sub, "cpu") != NULL && read_threshold(member(sub, "cpu"), &d->cpu, err,
	    errlen, &here, "cpu") != 0) ||
	    (member(sub, "memory") != NULL && read_threshold(member(sub, "memory"), &d->memory,
	    err, errlen, &here, "memory") != 0) ||
	    (member(sub, "disk") != NULL && read_threshold(member(sub, "disk"), &d->disk, err,
	    errlen, &here, "disk") != 0))
		return -1;
	return 0;
}

static int
read_pmg(struct json_object *o, struct alert_pmg *pmg, char *err, size_t errlen)
{
	struct json_object *sub, *v;
	struct path here = {NULL, "pmgDefaults"};
	int i;

	if (sub_object(o, "pmgDefaults", &sub, err, errlen, NULL) != 0)
		return -1;
	for (i = 0; sub != NULL && i < ALERT_PMG_COUNT; i++) {
		v = member(sub, pmg_keys[i]);
		if (v != NULL && read_value(v, F_INT, &pmg->v[i], err, errlen, &here,
		    pmg_keys[i]) != 0)
			return -1;
	}
	return 0;
}

static int
read_activation(struct json_object *o, const struct alert_config *current,
    struct alert_config *c, char *err, size_t errlen)
{
	static const char *const states[] = {"pending_review", "active", "snoozed"};
	size_t i;

	if (member(o, "activationState") == NULL) {
		if (current != NULL) {
			memcpy(c->activation_state, current->activation_state,
			    sizeof(c->activation_state));
			c->activation_time = current->activation_time;
		}
		return 0;
	}
	if (read_str(o, "activationState", c->activation_state, sizeof(c->activation_state),
	    err, errlen, NULL) != 0 ||
	    read_time(o, "activationTime", &c->activation_time, err, errlen, NULL) != 0)
		return -1;
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		if (strcmp(c->activation_state, states[i]) == 0)
			return 0;
	}
	if (c->activation_state[0] == '\0')
		return 0;
	return fail(err, errlen, NULL, "activationState",
	    "must be pending_review, active or snoozed");
}

int
alert_config_from_json(struct json_object *obj, const struct alert_config *current,
    struct alert_config *out, char *err, size_t errlen)
{
	struct json_object *storage;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(err, errlen, "the alert configuration must be a JSON object");
		return -1;
	}
	if (read_fields(obj, config_fields, NFIELDS(config_fields), out, err, errlen, NULL) != 0 ||
	    read_activation(obj, current, out, err, errlen) != 0 ||
	    read_thresholds_of(obj, "guestDefaults", &out->guest, err, errlen, NULL) != 0 ||
	    read_thresholds_of(obj, "nodeDefaults", &out->node, err, errlen, NULL) != 0 ||
	    read_thresholds_of(obj, "hostDefaults", &out->host, err, errlen, NULL) != 0 ||
	    read_thresholds_of(obj, "pbsDefaults", &out->pbs, err, errlen, NULL) != 0 ||
	    read_docker(obj, &out->docker, err, errlen) != 0 ||
	    read_pmg(obj, &out->pmg, err, errlen) != 0 ||
	    read_fields_of(obj, "snapshotDefaults", snapshot_fields, NFIELDS(snapshot_fields),
	    &out->snapshot, err, errlen, NULL) != 0 ||
	    read_fields_of(obj, "backupDefaults", backup_fields, NFIELDS(backup_fields),
	    &out->backup, err, errlen, NULL) != 0 ||
	    read_strings(obj, "dockerIgnoredContainerPrefixes", &out->docker_ignored_prefixes,
	    err, errlen, NULL) != 0 ||
	    read_strings(obj, "ignoredGuestPrefixes", &out->ignored_guest_prefixes, err, errlen,
	    NULL) != 0 ||
	    read_strings(obj, "guestTagWhitelist", &out->tag_whitelist, err, errlen, NULL) != 0 ||
	    read_strings(obj, "guestTagBlacklist", &out->tag_blacklist, err, errlen, NULL) != 0 ||
	    read_overrides(obj, out, err, errlen) != 0 ||
	    read_rules(obj, out, err, errlen) != 0 ||
	    read_schedule(obj, &out->schedule, err, errlen) != 0 ||
	    read_delays(obj, out, err, errlen) != 0)
		goto err;
	storage = member(obj, "storageDefault");
	if (storage != NULL && read_threshold(storage, &out->storage, err, errlen, NULL,
	    "storageDefault") != 0)
		goto err;
	return 0;
err:
	alert_config_free(out);
	return -1;
}

/* --- defaults -------------------------------------------------------------------------- */

static void
set_threshold(struct alert_threshold *t, double trigger, double clear)
{
	t->set = 1;
	t->trigger = trigger;
	t->clear = clear;
}

void
alert_config_defaults(struct alert_config *c)
{
	static const char *const delay_types[] = {"guest", "node", "storage", "pbs"};
	int i;

	memset(c, 0, sizeof(*c));
	c->enabled = 1;
	c->observation_window_hours = 24;
	set_threshold(&c->guest.metric[ALERT_CPU], 80, 75);
	set_threshold(&c->guest.metric[ALERT_MEMORY], 85, 80);
	set_threshold(&c->guest.metric[ALERT_DISK], 90, 85);
	for (i = ALERT_DISK_READ; i <= ALERT_NETWORK_OUT; i++)
		set_threshold(&c->guest.metric[i], 0, 0);
	strcpy(c->guest.powered_off_severity, "warning");
	set_threshold(&c->node.metric[ALERT_CPU], 80, 75);
	set_threshold(&c->node.metric[ALERT_MEMORY], 85, 80);
	set_threshold(&c->node.metric[ALERT_DISK], 90, 85);
	set_threshold(&c->node.metric[ALERT_TEMPERATURE], 80, 75);
	strcpy(c->node.powered_off_severity, "warning");
	set_threshold(&c->host.metric[ALERT_CPU], 80, 75);
	set_threshold(&c->host.metric[ALERT_MEMORY], 85, 80);
	set_threshold(&c->host.metric[ALERT_DISK], 90, 85);
	set_threshold(&c->host.metric[ALERT_DISK_TEMPERATURE], 55, 50);
	/* QUIRK 1 (§13): the original's fresh install leaves these off; set A has them. */
	set_threshold(&c->pbs.metric[ALERT_CPU], 80, 75);
	set_threshold(&c->pbs.metric[ALERT_MEMORY], 85, 80);
	set_threshold(&c->storage, 85, 80);
	set_threshold(&c->docker.cpu, 80, 75);
	set_threshold(&c->docker.memory, 85, 80);
	set_threshold(&c->docker.disk, 85, 80);
	c->docker.restart_count = 3;
	c->docker.restart_window = 300;
	c->docker.memory_warn_pct = 90;
	c->docker.memory_critical_pct = 95;
	c->docker.service_warn_gap_percent = 10;
	c->docker.service_critical_gap_percent = 50;
	strcpy(c->docker.state_powered_off_severity, "warning");
	c->docker.update_alert_delay_hours = 24;
	memcpy(c->pmg.v, pmg_defaults, sizeof(pmg_defaults));
	c->snapshot = (struct alert_snapshot){.warning_days = 30, .critical_days = 45};
	c->backup = (struct alert_backup){.warning_days = 7, .critical_days = 14,
	    .fresh_hours = 24, .stale_hours = 72};
	c->has_overrides = 1;
	c->time_threshold = 5;
	for (i = 0; i < 4; i++) {
		strcpy(c->delays[i].type, delay_types[i]);
		c->delays[i].seconds = 5;
	}
	c->n_delays = 4;
	c->minimum_delta = 2;
	c->suppression_window = 5;
	c->hysteresis_margin = 5;
	strcpy(c->schedule.quiet.start, "22:00");
	strcpy(c->schedule.quiet.end, "08:00");
	strcpy(c->schedule.quiet.timezone, "America/New_York");
	c->schedule.quiet.has_days = 1;
	c->schedule.quiet.days_given = 0x7f;
	c->schedule.quiet.days_on = 0x1f;	/* Monday to Friday */
	c->schedule.cooldown = 5;
	c->schedule.max_alerts_hour = 10;
	c->schedule.notify_on_resolve = 1;
	c->schedule.has_levels = 1;
	c->schedule.n_levels = 3;
	c->schedule.levels[0] = (struct alert_level){15, "email"};
	c->schedule.levels[1] = (struct alert_level){30, "webhook"};
	c->schedule.levels[2] = (struct alert_level){60, "all"};
	c->schedule.grouping_enabled = 1;
	c->schedule.grouping_window_seconds = 30;
	c->schedule.grouping_by_node = 1;
	c->max_alert_age_days = 7;
	c->max_acknowledged_age_days = 1;
	c->auto_acknowledge_after_hours = 24;
	c->flapping_enabled = 1;
	c->flapping_window_seconds = 300;
	c->flapping_threshold = 5;
	c->flapping_cooldown_minutes = 15;
}

/* --- normalisation (§2.8) -------------------------------------------------------------- */

static double
max0(double v)
{
	return v > 0 ? v : 0;
}

/* clear >= trigger -> trigger - 5, not below 0: a clear level must lie below its trigger. */
static void
sane_hysteresis(struct alert_threshold *t)
{
	if (t->set && t->clear >= t->trigger)
		t->clear = max0(t->trigger - 5);
}

/* The storage and Docker pattern: negative -> the default, 0 -> off, clear <= 0 -> trigger-5. */
static void
norm_defaulted(struct alert_threshold *t, double trigger, double clear)
{
	if (t->trigger < 0)
		set_threshold(t, trigger, clear);
	else if (t->trigger == 0)
		t->clear = 0;
	else if (t->clear <= 0)
		t->clear = max0(t->trigger - 5);
	t->set = 1;
}

/* The node temperature and host pattern: missing or negative -> the default, 0 -> off,
 * clear <= 0 -> trigger-5 and the default clear if that is not above 0. */
static void
norm_host_like(struct alert_threshold *t, double trigger, double clear)
{
	if (!t->set || t->trigger < 0) {
		set_threshold(t, trigger, clear);
	} else if (t->trigger == 0) {
		t->clear = 0;
	} else if (t->clear <= 0) {
		t->clear = t->trigger - 5;
		if (t->clear <= 0)
			t->clear = clear;
	}
}

static void
norm_severity(char *s, size_t len)
{
	snprintf(s, len, "%s", strcasecmp(s, "critical") == 0 ? "critical" : "warning");
}

static void
le0_default(int64_t *v, int64_t def)
{
	if (*v <= 0)
		*v = def;
}

static void
norm_docker(struct alert_docker *d)
{
	norm_defaulted(&d->cpu, 80, 75);
	norm_defaulted(&d->memory, 85, 80);
	norm_defaulted(&d->disk, 85, 80);
	sane_hysteresis(&d->cpu);
	sane_hysteresis(&d->memory);
	sane_hysteresis(&d->disk);
	le0_default(&d->restart_count, 3);
	le0_default(&d->restart_window, 300);
	le0_default(&d->memory_warn_pct, 90);
	le0_default(&d->memory_critical_pct, 95);
	le0_default(&d->service_warn_gap_percent, 10);
	le0_default(&d->service_critical_gap_percent, 50);
	if (d->service_critical_gap_percent < d->service_warn_gap_percent)
		d->service_critical_gap_percent = d->service_warn_gap_percent;
	norm_severity(d->state_powered_off_severity, sizeof(d->state_powered_off_severity));
	if (d->update_alert_delay_hours == 0)
		d->update_alert_delay_hours = 24;
}

static void
norm_age_pair(int64_t *warning, int64_t *critical, int fill_critical)
{
	if (*warning < 0)
		*warning = 0;
	if (*critical < 0)
		*critical = 0;
	if (*critical > 0 && *warning > *critical)
		*warning = *critical;
	if (fill_critical && *critical == 0 && *warning > 0)
		*critical = *warning;
}

static void
norm_snapshot(struct alert_snapshot *s)
{
	norm_age_pair(&s->warning_days, &s->critical_days, 1);
	s->warning_size_gib = max0(s->warning_size_gib);
	s->critical_size_gib = max0(s->critical_size_gib);
	if (s->critical_size_gib > 0 && s->warning_size_gib > s->critical_size_gib)
		s->warning_size_gib = s->critical_size_gib;
	if (s->critical_size_gib == 0 && s->warning_size_gib > 0)
		s->critical_size_gib = s->warning_size_gib;
}

static void
norm_backup(struct alert_backup *b)
{
	norm_age_pair(&b->warning_days, &b->critical_days, 0);
	le0_default(&b->fresh_hours, 24);
	le0_default(&b->stale_hours, 72);
	if (b->stale_hours < b->fresh_hours)
		b->stale_hours = b->fresh_hours;
}

/* Trimmed, empty ones dropped, duplicates in any case dropped (the first spelling kept). */
static void
norm_prefixes(struct alert_strings *s)
{
	int i, j, n = 0, dup;
	char buf[ALERT_STR_MAX];

	for (i = 0; i < s->n; i++) {
		jsonread_copy_trimmed(buf, sizeof(buf), s->v[i]);
		dup = buf[0] == '\0';
		for (j = 0; j < n && !dup; j++)
			dup = strcasecmp(s->v[j], buf) == 0;
		if (!dup)
			strcpy(s->v[n++], buf);
	}
	s->n = n;
}

/* Whether Go's time.LoadLocation would load name: "", UTC, Local, or a zoneinfo file. */
static int
timezone_loadable(const char *name)
{
	char path[128];
	struct stat st;
	const char *p;

	if (name[0] == '\0' || strcmp(name, "UTC") == 0 || strcmp(name, "Local") == 0)
		return 1;
	if (name[0] == '/' || strstr(name, "..") != NULL)
		return 0;
	for (p = name; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && strchr("/_+-", *p) == NULL)
			return 0;
	}
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static struct alert_delay *
find_delay(struct alert_config *c, const char *type)
{
	int i;

	for (i = 0; i < c->n_delays; i++) {
		if (strcmp(c->delays[i].type, type) == 0)
			return &c->delays[i];
	}
	return NULL;
}

static void
norm_delays(struct alert_config *c)
{
	static const char *const required[] = {"guest", "node", "storage", "pbs"};
	struct alert_delay *d;
	int i, n = 0;
	char *p;

	if (c->time_threshold <= 0)
		c->time_threshold = 5;
	for (i = 0; i < 4; i++) {
		d = find_delay(c, required[i]);
		if (d == NULL && c->n_delays < ALERT_MAX_DELAYS) {
			d = &c->delays[c->n_delays++];
			snprintf(d->type, sizeof(d->type), "%s", required[i]);
			d->seconds = -1;
		}
		if (d != NULL && d->seconds < 0)
			d->seconds = 5;
	}
	d = find_delay(c, "all");
	if (d != NULL && d->seconds < 0)
		d->seconds = 5;
	for (i = 0; i < c->n_metric_delays; i++) {
		d = &c->metric_delays[i];
		if (d->seconds < 0)
			continue;
		for (p = d->type; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		for (p = d->metric; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		c->metric_delays[n++] = *d;
	}
	c->n_metric_delays = n;
}

static int
cmp_delay(const void *a, const void *b)
{
	const struct alert_delay *x = a, *y = b;
	int d = strcmp(x->type, y->type);

	return d != 0 ? d : strcmp(x->metric, y->metric);
}

static int
cmp_override(const void *a, const void *b)
{
	return strcmp(((const struct alert_override *)a)->resource_id,
	    ((const struct alert_override *)b)->resource_id);
}

void
alert_config_normalize(struct alert_config *c, double now)
{
	struct alert_schedule *s = &c->schedule;
	int i;

	norm_defaulted(&c->storage, 85, 80);
	norm_docker(&c->docker);
	for (i = 0; i < ALERT_PMG_COUNT; i++)
		le0_default(&c->pmg.v[i], pmg_defaults[i]);
	norm_snapshot(&c->snapshot);
	norm_backup(&c->backup);
	norm_host_like(&c->node.metric[ALERT_TEMPERATURE], 80, 75);
	norm_host_like(&c->host.metric[ALERT_CPU], 80, 75);
	norm_host_like(&c->host.metric[ALERT_MEMORY], 85, 80);
	norm_host_like(&c->host.metric[ALERT_DISK], 90, 85);
	norm_host_like(&c->host.metric[ALERT_DISK_TEMPERATURE], 55, 50);
	if (c->minimum_delta <= 0)
		c->minimum_delta = 2;
	if (c->suppression_window <= 0)
		c->suppression_window = 5;
	if (c->hysteresis_margin <= 0)
		c->hysteresis_margin = 5;
	if (c->observation_window_hours <= 0)
		c->observation_window_hours = 24;
	norm_delays(c);
	norm_severity(c->guest.powered_off_severity, sizeof(c->guest.powered_off_severity));
	norm_severity(c->node.powered_off_severity, sizeof(c->node.powered_off_severity));
	for (i = 0; i < c->n_overrides; i++)
		norm_severity(c->overrides[i].t.powered_off_severity,
		    sizeof(c->overrides[i].t.powered_off_severity));
	norm_prefixes(&c->docker_ignored_prefixes);
	for (i = ALERT_CPU; i <= ALERT_DISK; i++)
		sane_hysteresis(&c->guest.metric[i]);
	sane_hysteresis(&c->node.metric[ALERT_CPU]);
	sane_hysteresis(&c->node.metric[ALERT_MEMORY]);
	sane_hysteresis(&c->node.metric[ALERT_TEMPERATURE]);
	sane_hysteresis(&c->storage);
	if (s->quiet.enabled && !timezone_loadable(s->quiet.timezone))
		s->quiet.enabled = 0;
	if (s->grouping_window != 0 && s->grouping_window_seconds == 0)
		s->grouping_window_seconds = s->grouping_window;
	s->grouping_window = 0;
	if (c->activation_state[0] == '\0') {
		/* No active alerts exist before the engine (issue 12, later slices) does. */
		if (c->n_overrides > 0) {
			strcpy(c->activation_state, "active");
			c->activation_time = now;
		} else {
			strcpy(c->activation_state, "pending_review");
		}
	}
	qsort(c->delays, (size_t)c->n_delays, sizeof(c->delays[0]), cmp_delay);
	qsort(c->metric_delays, (size_t)c->n_metric_delays, sizeof(c->metric_delays[0]),
	    cmp_delay);
	if (c->n_overrides > 0)
		qsort(c->overrides, (size_t)c->n_overrides, sizeof(c->overrides[0]), cmp_override);
}

/* --- writing --------------------------------------------------------------------------- */

static void
write_fields(struct json_object *o, const struct field *f, size_t n, const void *base)
{
	const char *at;
	size_t i;

	for (i = 0; i < n; i++) {
		at = (const char *)base + f[i].offset;
		switch (f[i].type) {
		case F_BOOL: jsonwrite_bool(o, f[i].key, *(const int *)at); break;
		case F_OPT_BOOL: jsonwrite_true_if(o, f[i].key, *(const int *)at); break;
		case F_INT: jsonwrite_int(o, f[i].key, *(const int64_t *)at); break;
		case F_OPT_INT: jsonwrite_opt_int(o, f[i].key, *(const int64_t *)at); break;
		case F_NUM: jsonwrite_num(o, f[i].key, *(const double *)at); break;
		case F_OPT_NUM:
			if (*(const double *)at != 0)
				jsonwrite_num(o, f[i].key, *(const double *)at);
			break;
		}
	}
}

static struct json_object *
fields_object(const struct field *f, size_t n, const void *base)
{
	struct json_object *o = json_object_new_object();

	write_fields(o, f, n, base);
	return o;
}

static struct json_object *
threshold_json(const struct alert_threshold *t)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_num(o, "trigger", t->trigger);
	jsonwrite_num(o, "clear", t->clear);
	return o;
}

static struct json_object *
strings_json(const struct alert_strings *s)
{
	struct json_object *a;
	int i;

	if (!s->present)
		return NULL;
	a = json_object_new_array();
	for (i = 0; i < s->n; i++)
		json_object_array_add(a, json_object_new_string(s->v[i]));
	return a;
}

/* An omitempty list: written when it has entries. */
static void
write_list(struct json_object *o, const char *key, const struct alert_strings *s)
{
	if (s->n > 0)
		json_object_object_add(o, key, strings_json(s));
}

static struct json_object *
thresholds_json(const struct alert_thresholds *t)
{
	struct json_object *o = json_object_new_object();
	int i;

	jsonwrite_true_if(o, "disabled", t->disabled);
	jsonwrite_true_if(o, "disableConnectivity", t->disable_connectivity);
	jsonwrite_opt_str(o, "poweredOffSeverity", t->powered_off_severity);
	for (i = 0; i < ALERT_METRIC_COUNT; i++) {
		if (t->metric[i].set)
			json_object_object_add(o, metric_keys[i], threshold_json(&t->metric[i]));
	}
	if (t->has_backup)
		json_object_object_add(o, "backup", fields_object(backup_fields,
		    NFIELDS(backup_fields), &t->backup));
	if (t->has_snapshot)
		json_object_object_add(o, "snapshot", fields_object(snapshot_fields,
		    NFIELDS(snapshot_fields), &t->snapshot));
	jsonwrite_opt_str(o, "note", t->note);
	for (i = 0; i < ALERT_LEGACY_COUNT; i++) {
		if (t->legacy[i] != 0)
			jsonwrite_num(o, legacy_keys[i], t->legacy[i]);
	}
	return o;
}

static void
write_time(struct json_object *o, const char *key, double t)
{
	char buf[TIMEFMT_LEN];

	jsonwrite_str(o, key, timefmt_rfc3339_nano(t, buf, sizeof(buf)));
}

static struct json_object *
rule_json(const struct alert_rule *r)
{
	struct json_object *o = json_object_new_object(), *fc, *a = NULL, *f, *n, *sub;
	int i;

	jsonwrite_str(o, "id", r->id);
	jsonwrite_str(o, "name", r->name);
	jsonwrite_opt_str(o, "description", r->description);
	fc = json_object_new_object();
	if (r->has_filters) {
		a = json_object_new_array();
		for (i = 0; i < r->n_filters; i++) {
			f = json_object_new_object();
			jsonwrite_str(f, "type", r->filters[i].type);
			jsonwrite_opt_str(f, "field", r->filters[i].field);
			jsonwrite_opt_str(f, "operator", r->filters[i].op);
			if (r->filters[i].value_json[0] != '\0')
				json_object_object_add(f, "value",
				    json_tokener_parse(r->filters[i].value_json));
			jsonwrite_opt_str(f, "rawText", r->filters[i].raw_text);
			json_object_array_add(a, f);
		}
	}
	json_object_object_add(fc, "filters", a);
	jsonwrite_str(fc, "logicalOperator", r->logical_operator);
	json_object_object_add(o, "filterConditions", fc);
	json_object_object_add(o, "thresholds", thresholds_json(&r->t));
	jsonwrite_int(o, "priority", r->priority);
	jsonwrite_bool(o, "enabled", r->enabled);
	n = json_object_new_object();
	if (r->has_email) {
		sub = json_object_new_object();
		jsonwrite_bool(sub, "enabled", r->email_enabled);
		json_object_object_add(sub, "recipients", strings_json(&r->recipients));
		json_object_object_add(n, "email", sub);
	}
	if (r->has_webhook) {
		sub = json_object_new_object();
		jsonwrite_bool(sub, "enabled", r->webhook_enabled);
		jsonwrite_str(sub, "url", r->webhook_url);
		json_object_object_add(n, "webhook", sub);
	}
	json_object_object_add(o, "notifications", n);
	write_time(o, "createdAt", r->created_at);
	write_time(o, "updatedAt", r->updated_at);
	return o;
}

static struct json_object *
schedule_json(const struct alert_schedule *s)
{
	struct json_object *o = fields_object(schedule_fields, NFIELDS(schedule_fields), s);
	struct json_object *qh = fields_object(quiet_fields, NFIELDS(quiet_fields), s), *days = NULL;
	struct json_object *esc, *levels = NULL, *lv;
	int i;

	jsonwrite_str(qh, "start", s->quiet.start);
	jsonwrite_str(qh, "end", s->quiet.end);
	jsonwrite_str(qh, "timezone", s->quiet.timezone);
	if (s->quiet.has_days) {
		days = json_object_new_object();
		for (i = 0; i < 7; i++) {
			if (s->quiet.days_given & (1u << i))
				jsonwrite_bool(days, day_keys[i], (s->quiet.days_on >> i) & 1);
		}
	}
	json_object_object_add(qh, "days", days);
	json_object_object_add(qh, "suppress", fields_object(suppress_fields,
	    NFIELDS(suppress_fields), s));
	json_object_object_add(o, "quietHours", qh);
	esc = json_object_new_object();
	jsonwrite_bool(esc, "enabled", s->escalation_enabled);
	if (s->has_levels) {
		levels = json_object_new_array();
		for (i = 0; i < s->n_levels; i++) {
			lv = json_object_new_object();
			jsonwrite_int(lv, "after", s->levels[i].after);
			jsonwrite_str(lv, "notify", s->levels[i].notify);
			json_object_array_add(levels, lv);
		}
	}
	json_object_object_add(esc, "levels", levels);
	json_object_object_add(o, "escalation", esc);
	json_object_object_add(o, "grouping", fields_object(grouping_fields,
	    NFIELDS(grouping_fields), s));
	return o;
}

static void
write_delays(struct json_object *o, const struct alert_config *c)
{
	struct json_object *m = json_object_new_object(), *mm = NULL, *inner = NULL;
	int i;

	for (i = 0; i < c->n_delays; i++)
		jsonwrite_int(m, c->delays[i].type, c->delays[i].seconds);
	json_object_object_add(o, "timeThresholds", m);
	for (i = 0; i < c->n_metric_delays; i++) {
		const struct alert_delay *d = &c->metric_delays[i];

		if (mm == NULL)
			mm = json_object_new_object();
		if (i == 0 || strcmp(d->type, c->metric_delays[i - 1].type) != 0) {
			inner = json_object_new_object();
			json_object_object_add(mm, d->type, inner);
		}
		jsonwrite_int(inner, d->metric, d->seconds);
	}
	json_object_object_add(o, "metricTimeThresholds", mm);
}

struct json_object *
alert_config_to_json(const struct alert_config *c)
{
	struct json_object *o = json_object_new_object(), *m = NULL, *d, *a;
	int i;

	jsonwrite_bool(o, "enabled", c->enabled);
	jsonwrite_opt_str(o, "activationState", c->activation_state);
	if (c->activation_time > 0)
		write_time(o, "activationTime", c->activation_time);
	json_object_object_add(o, "guestDefaults", thresholds_json(&c->guest));
	json_object_object_add(o, "nodeDefaults", thresholds_json(&c->node));
	json_object_object_add(o, "hostDefaults", thresholds_json(&c->host));
	json_object_object_add(o, "storageDefault", threshold_json(&c->storage));
	d = fields_object(docker_fields, NFIELDS(docker_fields), &c->docker);
	json_object_object_add(d, "cpu", threshold_json(&c->docker.cpu));
	json_object_object_add(d, "memory", threshold_json(&c->docker.memory));
	json_object_object_add(d, "disk", threshold_json(&c->docker.disk));
	jsonwrite_opt_str(d, "statePoweredOffSeverity", c->docker.state_powered_off_severity);
	json_object_object_add(o, "dockerDefaults", d);
	write_list(o, "dockerIgnoredContainerPrefixes", &c->docker_ignored_prefixes);
	write_list(o, "ignoredGuestPrefixes", &c->ignored_guest_prefixes);
	write_list(o, "guestTagWhitelist", &c->tag_whitelist);
	write_list(o, "guestTagBlacklist", &c->tag_blacklist);
	d = json_object_new_object();
	for (i = 0; i < ALERT_PMG_COUNT; i++)
		jsonwrite_int(d, pmg_keys[i], c->pmg.v[i]);
	json_object_object_add(o, "pmgDefaults", d);
	json_object_object_add(o, "pbsDefaults", thresholds_json(&c->pbs));
	json_object_object_add(o, "snapshotDefaults", fields_object(snapshot_fields,
	    NFIELDS(snapshot_fields), &c->snapshot));
	json_object_object_add(o, "backupDefaults", fields_object(backup_fields,
	    NFIELDS(backup_fields), &c->backup));
	if (c->has_overrides) {
		m = json_object_new_object();
		for (i = 0; i < c->n_overrides; i++)
			json_object_object_add(m, c->overrides[i].resource_id,
			    thresholds_json(&c->overrides[i].t));
	}
	json_object_object_add(o, "overrides", m);
	if (c->n_rules > 0) {
		a = json_object_new_array();
		for (i = 0; i < c->n_rules; i++)
			json_object_array_add(a, rule_json(&c->rules[i]));
		json_object_object_add(o, "customRules", a);
	}
	json_object_object_add(o, "schedule", schedule_json(&c->schedule));
	write_fields(o, config_fields, NFIELDS(config_fields), c);
	write_delays(o, c);
	return o;
}

/* --- lifetime and storage -------------------------------------------------------------- */

void
alert_config_free(struct alert_config *c)
{
	int i;

	free(c->docker_ignored_prefixes.v);
	free(c->ignored_guest_prefixes.v);
	free(c->tag_whitelist.v);
	free(c->tag_blacklist.v);
	free(c->overrides);
	for (i = 0; c->rules != NULL && i < c->n_rules; i++) {
		free(c->rules[i].filters);
		free(c->rules[i].recipients.v);
	}
	free(c->rules);
	memset(c, 0, sizeof(*c));
}

static const struct db_stmt stmt_alert_config_read = {
	"alert_config_read", "SELECT doc::text FROM pulse.alert_config WHERE id = 1", 0,
};
static const struct db_stmt stmt_alert_config_save = {
	"alert_config_save",
	"INSERT INTO pulse.alert_config (id, doc, updated_at) VALUES (1, $1::jsonb, now()) "
	"ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, updated_at = EXCLUDED.updated_at",
	1,
};

int
alert_config_load(struct db *db, double now, struct alert_config *out)
{
	PGresult *res = db_exec_stmt(db, &stmt_alert_config_read, NULL);
	struct json_object *doc = NULL;
	char err[256];

	if (res == NULL)
		return -1;
	err[0] = '\0';
	if (PQntuples(res) == 1)
		doc = jsonutil_parse(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), err,
		    sizeof(err));
	PQclear(res);
	if (doc == NULL || alert_config_from_json(doc, NULL, out, err, sizeof(err)) != 0) {
		if (err[0] != '\0')
			log_warn("msg=\"stored alert configuration unreadable, using defaults\" "
			    "error=\"%s\"", err);
		alert_config_defaults(out);
	}
	json_object_put(doc);
	alert_config_normalize(out, now);
	return 0;
}

int
alert_config_save(struct db *db, const struct alert_config *c)
{
	struct json_object *doc = alert_config_to_json(c);
	const char *params[1] = {json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN)};
	int rc = db_exec_stmt_ok(db, &stmt_alert_config_save, params);

	json_object_put(doc);
	return rc;
}

/* Begins a read-modify-write of the configuration: writers one at a time (readers are not
 * held up), so a PUT and an activation never undo each other. */
static int
writer_begin(struct db *db)
{
	if (db_begin(db) != 0)
		return -1;
	if (db_exec(db, "LOCK TABLE pulse.alert_config IN SHARE ROW EXCLUSIVE MODE") != 0) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

int
alert_config_update(struct db *db, struct json_object *body, double now,
    struct alert_config *current, struct alert_config *out, char *err, size_t errlen)
{
	if (writer_begin(db) != 0)
		return -1;
	if (alert_config_load(db, now, current) != 0)
		goto fail;
	if (alert_config_from_json(body, current, out, err, errlen) != 0) {
		db_rollback(db);
		return 1;
	}
	alert_config_normalize(out, now);
	if (alert_config_save(db, out) != 0 || db_commit(db) != 0)
		goto fail;
	return 0;
fail:
	db_rollback(db);
	return -1;
}

int
alert_config_activate(struct db *db, double now, struct alert_config *out, int *already)
{
	if (writer_begin(db) != 0)
		return -1;
	if (alert_config_load(db, now, out) != 0)
		goto fail;
	*already = strcmp(out->activation_state, "active") == 0;
	if (!*already) {
		strcpy(out->activation_state, "active");
		out->activation_time = now;
		if (alert_config_save(db, out) != 0)
			goto fail;
	}
	if (db_commit(db) != 0)
		goto fail;
	return 0;
fail:
	db_rollback(db);
	return -1;
}
