/* alert_config.h: the alert configuration (alerts-notifications.md §2): its typed form, the
 * built-in defaults, reading it from the API's JSON, normalising it, writing it back in the
 * original's field names, and keeping it in pulse.alert_config.
 *
 * Ownership: a struct alert_config holds heap arrays (overrides, rules, lists); whoever fills
 * one (alert_config_defaults, alert_config_from_json, alert_config_load) gives it to the
 * caller, who releases it with alert_config_free. */
#ifndef PULSE_ALERT_CONFIG_H
#define PULSE_ALERT_CONFIG_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* Bounds on what one configuration may hold; more is refused (400), never cut. */
#define ALERT_MAX_OVERRIDES 500
#define ALERT_MAX_RULES 100
#define ALERT_MAX_FILTERS 50	/* per custom rule */
#define ALERT_MAX_LIST 200	/* entries of a prefix, tag or recipient list */
#define ALERT_MAX_LEVELS 20	/* escalation levels */
#define ALERT_MAX_DELAYS 32	/* timeThresholds entries */
#define ALERT_MAX_METRIC_DELAYS 128	/* metricTimeThresholds entries, all types together */
#define ALERT_STR_MAX 256	/* ids, names, list entries, filter values (bytes with NUL) */
#define ALERT_TEXT_MAX 2048	/* notes, descriptions, webhook URLs */
#define ALERT_KEY_MAX 64	/* map keys of timeThresholds and metricTimeThresholds */

/* The metrics of a ThresholdConfig, each an optional {trigger, clear}. */
enum alert_metric {
	ALERT_CPU, ALERT_MEMORY, ALERT_DISK, ALERT_DISK_READ, ALERT_DISK_WRITE,
	ALERT_NETWORK_IN, ALERT_NETWORK_OUT, ALERT_USAGE, ALERT_TEMPERATURE,
	ALERT_DISK_TEMPERATURE, ALERT_METRIC_COUNT
};
#define ALERT_LEGACY_COUNT 7	/* cpuLegacy .. networkOutLegacy: the first seven metrics */

struct alert_threshold {
	int set;		/* present (a pointer in the original) */
	double trigger, clear;
};

struct alert_snapshot {
	int enabled;
	int64_t warning_days, critical_days;
	double warning_size_gib, critical_size_gib;
};

struct alert_backup {
	int enabled;
	int64_t warning_days, critical_days, fresh_hours, stale_hours;
};

/* ThresholdConfig: the defaults of a resource type, an override, a custom rule's. */
struct alert_thresholds {
	int disabled, disable_connectivity;
	char powered_off_severity[16];
	struct alert_threshold metric[ALERT_METRIC_COUNT];
	int has_backup, has_snapshot;
	struct alert_backup backup;
	struct alert_snapshot snapshot;
	char note[ALERT_TEXT_MAX];
	double legacy[ALERT_LEGACY_COUNT];
};

struct alert_docker {
	struct alert_threshold cpu, memory, disk;	/* .set unused: always written */
	int64_t restart_count, restart_window, memory_warn_pct, memory_critical_pct;
	int64_t service_warn_gap_percent, service_critical_gap_percent;
	int state_disable_connectivity;
	char state_powered_off_severity[16];
	int64_t update_alert_delay_hours;
};

#define ALERT_PMG_COUNT 16
struct alert_pmg {
	int64_t v[ALERT_PMG_COUNT];	/* in the order of alert_config.c's pmg_keys */
};

/* A list of strings; present tells null (or absent) from []. */
struct alert_strings {
	char (*v)[ALERT_STR_MAX];
	int n, present;
};

struct alert_override {
	char resource_id[ALERT_STR_MAX];
	struct alert_thresholds t;
};

struct alert_filter {
	char type[16], field[ALERT_STR_MAX], op[16];
	char value_json[ALERT_STR_MAX];	/* the value as JSON text; "" when absent */
	char raw_text[ALERT_STR_MAX];
};

struct alert_rule {
	char id[ALERT_STR_MAX], name[ALERT_STR_MAX], description[ALERT_TEXT_MAX];
	struct alert_filter *filters;
	int n_filters, has_filters;
	char logical_operator[16];
	struct alert_thresholds t;
	int64_t priority;
	int enabled;
	int has_email, email_enabled;
	struct alert_strings recipients;
	int has_webhook, webhook_enabled;
	char webhook_url[ALERT_TEXT_MAX];
	double created_at, updated_at;	/* unix seconds; 0 is Go's zero time */
};

struct alert_delay {
	char type[ALERT_KEY_MAX], metric[ALERT_KEY_MAX];	/* metric "" in timeThresholds */
	int64_t seconds;
};

struct alert_level {
	int64_t after;
	char notify[16];
};

struct alert_schedule {
	struct {
		int enabled;
		char start[16], end[16], timezone[ALERT_KEY_MAX];
		int has_days;
		unsigned days_given, days_on;	/* bit i: weekday i of alert_config.c's day_keys */
		int suppress_performance, suppress_storage, suppress_offline;
	} quiet;
	int64_t cooldown, grouping_window, max_alerts_hour;
	int notify_on_resolve;
	int escalation_enabled, has_levels, n_levels;
	struct alert_level levels[ALERT_MAX_LEVELS];
	int grouping_enabled, grouping_by_node, grouping_by_guest;
	int64_t grouping_window_seconds;
};

struct alert_config {
	int enabled;
	char activation_state[16];	/* "" until normalised */
	int64_t observation_window_hours;
	double activation_time;		/* unix seconds; 0: none */
	struct alert_thresholds guest, node, host, pbs;
	struct alert_threshold storage;
	struct alert_docker docker;
	struct alert_pmg pmg;
	struct alert_snapshot snapshot;
	struct alert_backup backup;
	struct alert_strings docker_ignored_prefixes, ignored_guest_prefixes;
	struct alert_strings tag_whitelist, tag_blacklist;
	struct alert_override *overrides;
	int n_overrides, has_overrides;
	struct alert_rule *rules;
	int n_rules;
	struct alert_schedule schedule;
	int disable_all_nodes, disable_all_guests, disable_all_hosts, disable_all_storage;
	int disable_all_pbs, disable_all_pmg, disable_all_docker_hosts;
	int disable_all_docker_containers, disable_all_docker_services;
	int disable_all_nodes_offline, disable_all_guests_offline, disable_all_hosts_offline;
	int disable_all_pbs_offline, disable_all_pmg_offline, disable_all_docker_hosts_offline;
	double minimum_delta, hysteresis_margin;
	int64_t suppression_window, time_threshold;
	struct alert_delay delays[ALERT_MAX_DELAYS];
	int n_delays;
	struct alert_delay metric_delays[ALERT_MAX_METRIC_DELAYS];
	int n_metric_delays;
	int64_t max_alert_age_days, max_acknowledged_age_days, auto_acknowledge_after_hours;
	int flapping_enabled;
	int64_t flapping_window_seconds, flapping_threshold, flapping_cooldown_minutes;
};

/* The built-in defaults (set A of §2.7, docs/COMPATIBILITY.md): what a fresh install uses.
 * Not yet normalised (no activation state). */
void alert_config_defaults(struct alert_config *c);

/* Reads a PUT body (a JSON object) into *out as Go decodes into a zero struct: an absent or
 * null field is zero, an unknown key is ignored, a key matches in any case. An absent
 * activationState keeps current's state and time (current may be NULL). Returns 0, or -1
 * with a message for a 400 in err (wrong type, too long, too many); *out is then empty. */
int alert_config_from_json(struct json_object *obj, const struct alert_config *current,
    struct alert_config *out, char *err, size_t errlen);

/* Every rule of §2.8 that concerns the configuration itself, with now (unix seconds) for an
 * activation the migration makes. Idempotent. */
void alert_config_normalize(struct alert_config *c, double now);

/* The configuration as the original writes it (field names, omitempty, null). The object is
 * the caller's (json_object_put). */
struct json_object *alert_config_to_json(const struct alert_config *c);

/* Releases the arrays of c and empties it. */
void alert_config_free(struct alert_config *c);

/* The stored configuration, normalised; the defaults when none was saved (or the stored
 * one cannot be read, which is logged). Returns 0, or -1 on a database error. */
int alert_config_load(struct db *db, double now, struct alert_config *out);

/* Stores c (one upsert). Returns 0 or -1 on a database error. */
int alert_config_save(struct db *db, const struct alert_config *c);

/* PUT /api/alerts/config in one transaction, writers one at a time: loads the stored
 * configuration into current, reads body into out (alert_config_from_json), normalises and
 * stores it. Returns 0, 1 for bad input (a message for a 400 in err, nothing written), or -1
 * on a database error (nothing written). */
int alert_config_update(struct db *db, struct json_object *body, double now,
    struct alert_config *current, struct alert_config *out, char *err, size_t errlen);

/* POST /api/alerts/activate: sets the state to active with activation time now unless it
 * is active already (*already = 1, nothing written), in one transaction as
 * alert_config_update. *out gets the resulting configuration. Returns 0 or -1 on a database
 * error. */
int alert_config_activate(struct db *db, double now, struct alert_config *out, int *already);

#endif
