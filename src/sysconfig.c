/* sysconfig.c: the system settings in effect, the checks and merge of their update, and the
 * JSON the settings endpoints answer (metrics-reporting.md §5). */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "jsonread.h"
#include "jsonwrite.h"
#include "netaddr.h"
#include "settings.h"
#include "sysconfig.h"
#include "util.h"

/* --- where a value comes from ----------------------------------------------------------- */

/* A pulse.conf key whose PULSE_* environment variable pins the setting: the API still
 * stores a change, but the variable's value stays in effect (as the original's environment
 * overrides do). names are the keys reported in envOverrides: the original's name of the
 * override where it has one. public_url pins when set at all (file or environment): it
 * always won over the learnt and the stored URL. */
static const struct pin {
	const char *conf_key;
	const char *names[2];
	int pins_when_set;
} pins[] = {
	{"pve_polling_interval", {"PVE_POLLING_INTERVAL", NULL}, 0},
	{"pbs_polling_interval", {"pbsPollingInterval", NULL}, 0},
	{"pmg_polling_interval", {"pmgPollingInterval", NULL}, 0},
	{"backup_polling_interval", {"BACKUP_POLLING_INTERVAL", NULL}, 0},
	{"backup_polling_cycles", {"BACKUP_POLLING_CYCLES", NULL}, 0},
	{"backup_polling_enabled", {"ENABLE_BACKUP_POLLING", NULL}, 0},
	{"pve_timeout", {"connectionTimeout", NULL}, 0},
	{"allowed_origins", {"ALLOWED_ORIGINS", "allowedOrigins"}, 0},
	{"temperature_monitoring_enabled", {"temperatureMonitoringEnabled", NULL}, 0},
	{"auth_hide_local_login", {"PULSE_AUTH_HIDE_LOCAL_LOGIN", NULL}, 0},
	{"disable_docker_update_actions",
	    {"PULSE_DISABLE_DOCKER_UPDATE_ACTIONS", "disableDockerUpdateActions"}, 0},
	{"log_level", {"logLevel", NULL}, 0},
	{"public_url", {"publicURL", NULL}, 1},
};

static int
pinned(const char *conf_key)
{
	char env[96];

	for (size_t i = 0; i < ARRAY_LEN(pins); i++) {
		if (strcmp(pins[i].conf_key, conf_key) != 0)
			continue;
		if (pins[i].pins_when_set && conf_str(conf_key)[0] != '\0')
			return 1;
		conf_env_name(conf_key, env, sizeof(env));
		return getenv(env) != NULL;
	}
	return 0;
}

static const struct db_stmt stmt_settings_all = {
	"sysconfig_all", "SELECT key, value::text FROM pulse.system_settings", 0,
};

/* Every stored setting as one object (a new reference), or NULL (database). */
static struct json_object *
stored_settings(struct db *db)
{
	PGresult *res = db_exec_stmt(db, &stmt_settings_all, NULL);
	struct json_object *all;

	if (res == NULL)
		return NULL;
	all = json_object_new_object();
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *v = json_tokener_parse(PQgetvalue(res, i, 1));
		if (v != NULL)
			json_object_object_add(all, PQgetvalue(res, i, 0), v);
	}
	PQclear(res);
	return all;
}

/* A stored integer (a JSON number, whole), or def. */
static int64_t
stored_int(struct json_object *all, const char *key, int64_t def)
{
	struct json_object *v = jsonread_member(all, key);

	if (v == NULL || !(json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)))
		return def;
	return (int64_t)json_object_get_double(v);
}

static int
stored_bool(struct json_object *all, const char *key, int def)
{
	struct json_object *v = jsonread_member(all, key);

	return v != NULL && json_object_is_type(v, json_type_boolean) ?
	    json_object_get_boolean(v) : def;
}

static const char *
stored_str(struct json_object *all, const char *key, const char *def)
{
	struct json_object *v = jsonread_member(all, key);

	return v != NULL && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : def;
}

void
sysconfig_from_conf(struct sysconfig *c)
{
	memset(c, 0, sizeof(*c));
	c->pve_interval = (int)conf_int("pve_polling_interval");
	c->pbs_interval = (int)conf_int("pbs_polling_interval");
	c->pmg_interval = (int)conf_int("pmg_polling_interval");
	c->backup_enabled = conf_bool("backup_polling_enabled");
	c->backup_interval = (int)conf_int("backup_polling_interval");
	c->backup_cycles = (int)conf_int("backup_polling_cycles");
	c->connection_timeout = (int)conf_int("pve_timeout");
	c->temperature_enabled = conf_bool("temperature_monitoring_enabled");
	c->hide_local_login = conf_bool("auth_hide_local_login");
	c->disable_docker_updates = conf_bool("disable_docker_update_actions");
	jsonread_copy(c->allowed_origins, sizeof(c->allowed_origins), conf_str("allowed_origins"));
}

/* The stored values over the configuration's, where no variable pins them. */
static void
effective(struct json_object *all, struct sysconfig *c)
{
	int64_t n;
	const char *s;

	sysconfig_from_conf(c);
	/* The original applies an interval only when it is above 0, and never below 10 s. */
	if (!pinned("pve_polling_interval") && (n = stored_int(all, "pvePollingInterval", 0)) > 0)
		c->pve_interval = n < 10 ? 10 : n > 3600 ? 3600 : (int)n;
	if (!pinned("pbs_polling_interval") && (n = stored_int(all, "pbsPollingInterval", 0)) > 0)
		c->pbs_interval = n < 10 ? 10 : n > 3600 ? 3600 : (int)n;
	if (!pinned("pmg_polling_interval") && (n = stored_int(all, "pmgPollingInterval", 0)) > 0)
		c->pmg_interval = n < 10 ? 10 : n > 3600 ? 3600 : (int)n;
	if (!pinned("backup_polling_interval") && jsonread_has(all, "backupPollingInterval")) {
		n = stored_int(all, "backupPollingInterval", 0);
		c->backup_interval = n <= 0 ? 0 : n > 604800 ? 604800 : (int)n;
	}
	if (!pinned("backup_polling_enabled"))
		c->backup_enabled = stored_bool(all, "backupPollingEnabled", c->backup_enabled);
	if (!pinned("pve_timeout") && (n = stored_int(all, "connectionTimeout", 0)) > 0)
		c->connection_timeout = n > 300 ? 300 : (int)n;
	if (!pinned("temperature_monitoring_enabled"))
		c->temperature_enabled = stored_bool(all, "temperatureMonitoringEnabled",
		    c->temperature_enabled);
	if (!pinned("auth_hide_local_login"))
		c->hide_local_login = stored_bool(all, "hideLocalLogin", c->hide_local_login);
	if (!pinned("disable_docker_update_actions"))
		c->disable_docker_updates = stored_bool(all, "disableDockerUpdateActions",
		    c->disable_docker_updates);
	c->allow_embedding = stored_bool(all, "allowEmbedding", 0);
	if (!pinned("allowed_origins") && (s = stored_str(all, "allowedOrigins", ""))[0] != '\0')
		jsonread_copy(c->allowed_origins, sizeof(c->allowed_origins), s);
	jsonread_copy(c->embed_origins, sizeof(c->embed_origins),
	    stored_str(all, "allowedEmbedOrigins", ""));
}

int
sysconfig_load(struct db *db, struct sysconfig *c)
{
	struct json_object *all = stored_settings(db);

	if (all == NULL) {
		sysconfig_from_conf(c);
		return -1;
	}
	effective(all, c);
	json_object_put(all);
	return 0;
}

/* --- discoveryConfig (§5.3) ------------------------------------------------------------- */

static const char *const discovery_environments[] = {
	"auto", "native", "docker_host", "docker_bridge", "lxc_privileged", "lxc_unprivileged",
};

#define DISCOVERY_BLOCKLIST "169.254.0.0/16"

/* The member of a discoveryConfig object under its wire name or its camel-case alias. */
static struct json_object *
discovery_member(struct json_object *cfg, const char *name, const char *alias, int *present)
{
	struct json_object *v = NULL;

	*present = json_object_object_get_ex(cfg, name, &v) ||
	    json_object_object_get_ex(cfg, alias, &v);
	return v;
}

/* A CIDR list trimmed, without blanks or duplicates; the default when it ends up empty and
 * def is given. A new array. */
static struct json_object *
cidr_list_normalised(struct json_object *list, const char *def)
{
	struct json_object *out = json_object_new_array();
	char entry[128];

	for (int i = 0; i < jsonread_array_len(list); i++) {
		struct json_object *e = json_object_array_get_idx(list, (size_t)i);
		int dup = 0;
		if (!json_object_is_type(e, json_type_string))
			continue;
		jsonread_copy_trimmed(entry, sizeof(entry), json_object_get_string(e));
		if (entry[0] == '\0')
			continue;
		for (size_t j = 0; j < json_object_array_length(out); j++)
			dup |= strcmp(json_object_get_string(json_object_array_get_idx(out, j)), entry) == 0;
		if (!dup)
			json_object_array_add(out, json_object_new_string(entry));
	}
	if (json_object_array_length(out) == 0 && def != NULL)
		json_object_array_add(out, json_object_new_string(def));
	return out;
}

/* The whole number a value holds (json-c int or a float), or def when it is none or ≤ 0. */
static int64_t
positive_or(struct json_object *v, int64_t def)
{
	double d;

	if (v == NULL || !(json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)))
		return def;
	d = json_object_get_double(v);
	return d >= 1 && d < 1e15 ? (int64_t)d : def;
}

static int
bool_or(struct json_object *v, int def)
{
	return v != NULL && json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) :
	    def;
}

/* The normalised discovery configuration (§5.3) from a stored or merged object (NULL: the
 * defaults), in snake_case. A new object. */
static struct json_object *
discovery_normalised(struct json_object *cfg)
{
	struct json_object *out = json_object_new_object(), *v;
	char env[32];
	int present, known = 0;

	v = discovery_member(cfg, "environment_override", "environmentOverride", &present);
	jsonread_copy_trimmed(env, sizeof(env), json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : "");
	for (char *p = env; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (size_t i = 0; i < ARRAY_LEN(discovery_environments); i++)
		known |= strcmp(env, discovery_environments[i]) == 0;
	jsonwrite_str(out, "environment_override", known ? env : "auto");
	json_object_object_add(out, "subnet_allowlist", cidr_list_normalised(
	    discovery_member(cfg, "subnet_allowlist", "subnetAllowlist", &present), NULL));
	json_object_object_add(out, "subnet_blocklist", cidr_list_normalised(
	    discovery_member(cfg, "subnet_blocklist", "subnetBlocklist", &present),
	    DISCOVERY_BLOCKLIST));
	jsonwrite_int(out, "max_hosts_per_scan", positive_or(
	    discovery_member(cfg, "max_hosts_per_scan", "maxHostsPerScan", &present), 1024));
	jsonwrite_int(out, "max_concurrent", positive_or(
	    discovery_member(cfg, "max_concurrent", "maxConcurrent", &present), 50));
	jsonwrite_bool(out, "enable_reverse_dns", bool_or(
	    discovery_member(cfg, "enable_reverse_dns", "enableReverseDns", &present), 1));
	jsonwrite_bool(out, "scan_gateways", bool_or(
	    discovery_member(cfg, "scan_gateways", "scanGateways", &present), 1));
	jsonwrite_int(out, "dial_timeout_ms", positive_or(
	    discovery_member(cfg, "dial_timeout_ms", "dialTimeoutMs", &present), 1000));
	jsonwrite_int(out, "http_timeout_ms", positive_or(
	    discovery_member(cfg, "http_timeout_ms", "httpTimeoutMs", &present), 2000));
	return out;
}

static int
is_number(struct json_object *v)
{
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

/* A CIDR as Go's net.ParseCIDR takes one: an address, '/', a prefix length. */
static int
is_cidr(const char *s)
{
	struct cidr c;

	return strchr(s, '/') != NULL && strpbrk(s, " \t\r\n") == NULL && cidr_parse(s, &c) == 0;
}

static int
check_cidr_list(struct json_object *v, const char *name, char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_array)) {
		snprintf(err, errlen, "discoveryConfig.%s must be an array of CIDR strings", name);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string)) {
			snprintf(err, errlen, "discoveryConfig.%s entries must be strings", name);
			return -1;
		}
		if (!is_cidr(json_object_get_string(e))) {
			snprintf(err, errlen, "invalid CIDR in discoveryConfig.%s: %.200s", name,
			    json_object_get_string(e));
			return -1;
		}
	}
	return 0;
}

/* The original's checks of a discoveryConfig object, in its order. */
static int
check_discovery(struct json_object *cfg, char *err, size_t errlen)
{
	static const struct { const char *name, *alias; int kind; } nums[] = {
		{"max_hosts_per_scan", "maxHostsPerScan", 0},
		{"max_concurrent", "maxConcurrent", 1},
	};
	struct json_object *v;
	int present;
	double d;

	v = discovery_member(cfg, "environment_override", "environmentOverride", &present);
	if (present) {
		char trimmed[64];
		int known;
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(err, errlen, "discoveryConfig.environment_override must be a string");
			return -1;
		}
		/* Empty (automatic) or one of the names, in any case. */
		jsonread_copy_trimmed(trimmed, sizeof(trimmed), json_object_get_string(v));
		known = trimmed[0] == '\0';
		for (size_t i = 0; i < ARRAY_LEN(discovery_environments); i++)
			known |= strcasecmp(trimmed, discovery_environments[i]) == 0;
		if (!known) {
			snprintf(err, errlen, "invalid discovery environment override: %.100s",
			    json_object_get_string(v));
			return -1;
		}
	}
	v = discovery_member(cfg, "subnet_allowlist", "subnetAllowlist", &present);
	if (present && check_cidr_list(v, "subnet_allowlist", err, errlen) != 0)
		return -1;
	v = discovery_member(cfg, "subnet_blocklist", "subnetBlocklist", &present);
	if (present && check_cidr_list(v, "subnet_blocklist", err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(nums); i++) {
		v = discovery_member(cfg, nums[i].name, nums[i].alias, &present);
		if (!present)
			continue;
		if (!is_number(v)) {
			snprintf(err, errlen, "discoveryConfig.%s must be a number", nums[i].name);
			return -1;
		}
		d = json_object_get_double(v);
		if (nums[i].kind == 0 && d <= 0) {
			snprintf(err, errlen, "discoveryConfig.%s must be greater than zero",
			    nums[i].name);
			return -1;
		}
		if (nums[i].kind == 1 && (d <= 0 || d > 1000 || d != floor(d))) {
			snprintf(err, errlen, "discoveryConfig.%s must be a whole number between 1 and "
			    "1000", nums[i].name);
			return -1;
		}
	}
	v = discovery_member(cfg, "enable_reverse_dns", "enableReverseDns", &present);
	if (present && !json_object_is_type(v, json_type_boolean)) {
		snprintf(err, errlen, "discoveryConfig.enable_reverse_dns must be a boolean");
		return -1;
	}
	v = discovery_member(cfg, "scan_gateways", "scanGateways", &present);
	if (present && !json_object_is_type(v, json_type_boolean)) {
		snprintf(err, errlen, "discoveryConfig.scan_gateways must be a boolean");
		return -1;
	}
	v = discovery_member(cfg, "dial_timeout_ms", "dialTimeoutMs", &present);
	if (present && !is_number(v)) {
		snprintf(err, errlen, "discoveryConfig.dial_timeout_ms must be a number");
		return -1;
	}
	if (present && json_object_get_double(v) <= 0) {
		snprintf(err, errlen, "discoveryConfig.dial_timeout_ms must be greater than zero");
		return -1;
	}
	v = discovery_member(cfg, "http_timeout_ms", "httpTimeoutMs", &present);
	if (present && !is_number(v)) {
		snprintf(err, errlen, "discoveryConfig.http_timeout_ms must be a number");
		return -1;
	}
	if (present && json_object_get_double(v) <= 0) {
		snprintf(err, errlen, "discoveryConfig.http_timeout_ms must be greater than zero");
		return -1;
	}
	return 0;
}

/* The stored discovery configuration with the given keys of upd over it, normalised. */
static struct json_object *
discovery_merged(struct json_object *stored, struct json_object *upd)
{
	static const char *const keys[][2] = {
		{"environment_override", "environmentOverride"},
		{"subnet_allowlist", "subnetAllowlist"},
		{"subnet_blocklist", "subnetBlocklist"},
		{"max_hosts_per_scan", "maxHostsPerScan"},
		{"max_concurrent", "maxConcurrent"},
		{"enable_reverse_dns", "enableReverseDns"},
		{"scan_gateways", "scanGateways"},
		{"dial_timeout_ms", "dialTimeoutMs"},
		{"http_timeout_ms", "httpTimeoutMs"},
	};
	struct json_object *cur = discovery_normalised(stored), *v, *out;
	int present;

	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		v = discovery_member(upd, keys[i][0], keys[i][1], &present);
		if (present)
			json_object_object_add(cur, keys[i][0], json_object_get(v));
	}
	out = discovery_normalised(cur);
	json_object_put(cur);
	return out;
}

/* --- the update (§5.5) ------------------------------------------------------------------- */

enum field_type { F_INT, F_BOOL, F_STRING };

/* Every field of the original's settings struct: a value of another JSON type fails its
 * decoding ("Invalid request body") before any check runs, whether or not the field can be
 * updated; null decodes to nothing and is left to the checks. */
static const struct { const char *key; enum field_type type; } fields[] = {
	{"pvePollingInterval", F_INT}, {"pbsPollingInterval", F_INT},
	{"pmgPollingInterval", F_INT}, {"backupPollingInterval", F_INT},
	{"backupPollingEnabled", F_BOOL}, {"adaptivePollingEnabled", F_BOOL},
	{"adaptivePollingBaseInterval", F_INT}, {"adaptivePollingMinInterval", F_INT},
	{"adaptivePollingMaxInterval", F_INT}, {"backendPort", F_INT}, {"frontendPort", F_INT},
	{"allowedOrigins", F_STRING}, {"connectionTimeout", F_INT}, {"updateChannel", F_STRING},
	{"autoUpdateEnabled", F_BOOL}, {"autoUpdateCheckInterval", F_INT},
	{"autoUpdateTime", F_STRING}, {"logLevel", F_STRING}, {"discoveryEnabled", F_BOOL},
	{"discoverySubnet", F_STRING}, {"theme", F_STRING}, {"allowEmbedding", F_BOOL},
	{"allowedEmbedOrigins", F_STRING}, {"temperatureMonitoringEnabled", F_BOOL},
	{"dnsCacheTimeout", F_INT}, {"sshPort", F_INT}, {"webhookAllowedPrivateCIDRs", F_STRING},
	{"hideLocalLogin", F_BOOL}, {"publicURL", F_STRING},
	{"metricsRetentionRawHours", F_INT}, {"metricsRetentionMinuteHours", F_INT},
	{"metricsRetentionHourlyDays", F_INT}, {"metricsRetentionDailyDays", F_INT},
	{"disableDockerUpdateActions", F_BOOL},
};

static int
decodes_as(struct json_object *v, enum field_type type)
{
	double d;

	if (v == NULL)
		return 1;
	switch (type) {
	case F_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case F_STRING:
		return json_object_is_type(v, json_type_string);
	case F_INT:
		if (json_object_is_type(v, json_type_int))
			return 1;
		if (!json_object_is_type(v, json_type_double))
			return 0;
		d = json_object_get_double(v);
		return d == floor(d) && fabs(d) < 9.2e18;
	}
	return 0;
}

/* A number field's check (null or another type: "<what> must be a number"). */
struct range_check {
	const char *key, *what;
	double min_positive;	/* > 0: the "must be positive" / "at least" floor */
	int zero_allowed;	/* 0 means "not set" */
	double max;
	const char *at_least, *most;
};

static const struct range_check interval_checks[] = {
	{"pvePollingInterval", "PVE polling interval", 10, 0, 3600,
	    "must be at least 10 seconds", "cannot exceed 3600 seconds (1 hour)"},
	{"pbsPollingInterval", "PBS polling interval", 10, 0, 3600,
	    "must be at least 10 seconds", "cannot exceed 3600 seconds (1 hour)"},
	{"pmgPollingInterval", "PMG polling interval", 10, 0, 3600,
	    "must be at least 10 seconds", "cannot exceed 3600 seconds (1 hour)"},
	{"backupPollingInterval", "backup polling interval", 10, 1, 604800,
	    "must be at least 10 seconds", "cannot exceed 604800 seconds (7 days)"},
};

static int
check_range(struct json_object *body, const struct range_check *c, char *err, size_t errlen)
{
	struct json_object *v;
	double d;

	if (!json_object_object_get_ex(body, c->key, &v))
		return 0;
	if (!is_number(v)) {
		snprintf(err, errlen, "%s must be a number", c->what);
		return -1;
	}
	d = json_object_get_double(v);
	if (!c->zero_allowed && d <= 0) {
		snprintf(err, errlen, "%s must be positive (minimum 10 seconds)", c->what);
		return -1;
	}
	if (c->zero_allowed && d < 0) {
		snprintf(err, errlen, "%s cannot be negative", c->what);
		return -1;
	}
	if (d > 0 && d < c->min_positive) {
		snprintf(err, errlen, "%s %s", c->what, c->at_least);
		return -1;
	}
	if (d > c->max) {
		snprintf(err, errlen, "%s %s", c->what, c->most);
		return -1;
	}
	return 0;
}

static int
check_bool(struct json_object *body, const char *key, char *err, size_t errlen)
{
	struct json_object *v;

	if (json_object_object_get_ex(body, key, &v) && !json_object_is_type(v, json_type_boolean)) {
		snprintf(err, errlen, "%s must be a boolean", key);
		return -1;
	}
	return 0;
}

/* The original's validateSystemSettings, in its order. */
static int
check_body(struct json_object *body, struct json_object *discovery, int discovery_given,
    char *err, size_t errlen)
{
	static const char *const bools[] = {
		"autoUpdateEnabled", "discoveryEnabled", "allowEmbedding", "backupPollingEnabled",
		"temperatureMonitoringEnabled",
	};
	static const struct range_check update_interval = {"autoUpdateCheckInterval",
		"auto-update check interval", 1, 1, 168, "must be at least 1 hour",
		"cannot exceed 168 hours (7 days)"};
	static const struct range_check connection_timeout = {"connectionTimeout",
		"connection timeout", 1, 1, 300, "must be at least 1 second",
		"cannot exceed 300 seconds (5 minutes)"};
	struct json_object *v;

	for (size_t i = 0; i < ARRAY_LEN(interval_checks); i++)
		if (check_range(body, &interval_checks[i], err, errlen) != 0)
			return -1;
	for (size_t i = 0; i < ARRAY_LEN(bools); i++)
		if (check_bool(body, bools[i], err, errlen) != 0)
			return -1;
	if (check_range(body, &update_interval, err, errlen) != 0)
		return -1;
	if (discovery_given) {
		if (!json_object_is_type(discovery, json_type_object)) {
			snprintf(err, errlen, "discoveryConfig must be an object");
			return -1;
		}
		if (check_discovery(discovery, err, errlen) != 0)
			return -1;
	}
	if (check_range(body, &connection_timeout, err, errlen) != 0)
		return -1;
	if (json_object_object_get_ex(body, "theme", &v)) {
		const char *t = json_object_get_string(v);
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(err, errlen, "theme must be a string");
			return -1;
		}
		if (t[0] != '\0' && strcmp(t, "light") != 0 && strcmp(t, "dark") != 0) {
			snprintf(err, errlen, "theme must be 'light', 'dark', or empty");
			return -1;
		}
	}
	if (json_object_object_get_ex(body, "updateChannel", &v)) {
		const char *ch = json_object_get_string(v);
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(err, errlen, "update channel must be a string");
			return -1;
		}
		if (ch[0] != '\0' && strcmp(ch, "stable") != 0 && strcmp(ch, "rc") != 0) {
			snprintf(err, errlen, "update channel must be 'stable' or 'rc'");
			return -1;
		}
	}
	return 0;
}

/* How a present field is taken (§5.2 "Upd."). */
enum take { TAKE_PRESENT, TAKE_NONEMPTY };

static const struct { const char *key; enum take take; } takes[] = {
	{"pvePollingInterval", TAKE_PRESENT}, {"pbsPollingInterval", TAKE_PRESENT},
	{"pmgPollingInterval", TAKE_PRESENT}, {"backupPollingInterval", TAKE_PRESENT},
	{"allowedOrigins", TAKE_NONEMPTY}, {"connectionTimeout", TAKE_PRESENT},
	{"updateChannel", TAKE_NONEMPTY}, {"autoUpdateCheckInterval", TAKE_PRESENT},
	{"autoUpdateTime", TAKE_NONEMPTY}, {"theme", TAKE_NONEMPTY},
	{"discoverySubnet", TAKE_NONEMPTY}, {"allowedEmbedOrigins", TAKE_PRESENT},
	{"autoUpdateEnabled", TAKE_PRESENT}, {"discoveryEnabled", TAKE_PRESENT},
	{"allowEmbedding", TAKE_PRESENT}, {"hideLocalLogin", TAKE_PRESENT},
	{"backupPollingEnabled", TAKE_PRESENT}, {"temperatureMonitoringEnabled", TAKE_PRESENT},
	{"disableDockerUpdateActions", TAKE_PRESENT},
};

static void
note_changed(char *changed, size_t len, const char *key)
{
	size_t o = strlen(changed);

	if (o < len)
		snprintf(changed + o, len - o, "%s%s", o ? "," : "", key);
}

/* The writes of the update, inside the caller's transaction. */
static int
write_update(struct db *db, struct json_object *body, struct json_object *discovery,
    int discovery_given, char *err, size_t errlen, char *changed, size_t changedlen)
{
	struct json_object *v, *stored, *merged;
	const char *cidrs = NULL, *url = NULL;
	int rc;

	for (size_t i = 0; i < ARRAY_LEN(takes); i++) {
		struct json_object *value = NULL;
		if (!json_object_object_get_ex(body, takes[i].key, &v))
			continue;
		if (takes[i].take == TAKE_NONEMPTY &&
		    (v == NULL || json_object_get_string_len(v) == 0))
			continue;
		/* null decodes to the zero value: false, or an empty string (removed). */
		if (v != NULL && !(json_object_is_type(v, json_type_string) &&
		    json_object_get_string_len(v) == 0))
			value = json_object_is_type(v, json_type_double) ?
			    json_object_new_int64((int64_t)json_object_get_double(v)) : json_object_get(v);
		else if (v == NULL && strcmp(takes[i].key, "allowedEmbedOrigins") != 0)
			value = json_object_new_boolean(0);
		rc = settings_set(db, takes[i].key, value);
		json_object_put(value);
		if (rc != 0)
			return -1;
		note_changed(changed, changedlen, takes[i].key);
	}
	if (discovery_given) {
		if (settings_get(db, "discoveryConfig", &stored) < 0)
			return -1;
		merged = discovery_merged(stored, discovery);
		json_object_put(stored);
		rc = settings_set(db, "discoveryConfig", merged);
		json_object_put(merged);
		if (rc != 0)
			return -1;
		note_changed(changed, changedlen, "discoveryConfig");
	}
	/* The webhook allowlist and the public URL keep their own checks (settings.c). */
	if (json_object_object_get_ex(body, SETTINGS_WEBHOOK_CIDRS, &v)) {
		cidrs = v ? json_object_get_string(v) : "";
		note_changed(changed, changedlen, SETTINGS_WEBHOOK_CIDRS);
	}
	if (json_object_object_get_ex(body, SETTINGS_PUBLIC_URL, &v)) {
		url = v ? json_object_get_string(v) : "";
		note_changed(changed, changedlen, SETTINGS_PUBLIC_URL);
	}
	return settings_apply(db, cidrs, url, err, errlen);
}

int
sysconfig_update(struct db *db, struct json_object *body, char *err, size_t errlen,
    char *changed, size_t changedlen)
{
	struct json_object *discovery = NULL;
	int discovery_given, rc;

	changed[0] = '\0';
	if (!json_object_is_type(body, json_type_object)) {
		snprintf(err, errlen, "Invalid request body");
		return 1;
	}
	for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
		struct json_object *v;
		if (json_object_object_get_ex(body, fields[i].key, &v) &&
		    !decodes_as(v, fields[i].type)) {
			snprintf(err, errlen, "Invalid request body");
			return 1;
		}
	}
	/* discovery_config is the older spelling, taken when discoveryConfig is absent. */
	discovery_given = json_object_object_get_ex(body, "discoveryConfig", &discovery) ||
	    json_object_object_get_ex(body, "discovery_config", &discovery);
	if (check_body(body, discovery, discovery_given, err, errlen) != 0)
		return 1;
	if (db_begin(db) != 0)
		return -1;
	rc = write_update(db, body, discovery, discovery_given, err, errlen, changed, changedlen);
	if (rc != 0 || db_commit(db) != 0) {
		db_rollback(db);
		changed[0] = '\0';
		return rc > 0 ? 1 : -1;
	}
	return 0;
}

/* --- the answers (§5.4, §5.8) ----------------------------------------------------------- */

static void
add_env_overrides(struct json_object *o, int older)
{
	struct json_object *map = json_object_new_object();
	char env[96];

	if (older) {
		conf_env_name("auth_hide_local_login", env, sizeof(env));
		if (getenv(env) != NULL)
			jsonwrite_bool(map, "hideLocalLogin", 1);
	} else {
		for (size_t i = 0; i < ARRAY_LEN(pins); i++) {
			if (!pinned(pins[i].conf_key))
				continue;
			for (int j = 0; j < 2 && pins[i].names[j]; j++)
				jsonwrite_bool(map, pins[i].names[j], 1);
		}
	}
	if (json_object_object_length(map) > 0)
		json_object_object_add(o, "envOverrides", map);
	else
		json_object_put(map);
}

struct json_object *
sysconfig_settings_json(struct db *db, int older)
{
	struct json_object *all = stored_settings(db), *o;
	struct sysconfig c;
	const char *s;
	int64_t n;

	if (all == NULL)
		return NULL;
	effective(all, &c);
	o = json_object_new_object();
	jsonwrite_int(o, "pvePollingInterval", c.pve_interval);
	jsonwrite_int(o, "pbsPollingInterval", c.pbs_interval);
	jsonwrite_int(o, "pmgPollingInterval", c.pmg_interval);
	if (c.backup_interval > 0)
		jsonwrite_int(o, "backupPollingInterval", c.backup_interval);
	jsonwrite_bool(o, "backupPollingEnabled", c.backup_enabled);
	jsonwrite_opt_str(o, "allowedOrigins", c.allowed_origins);
	jsonwrite_int(o, "connectionTimeout", c.connection_timeout);
	jsonwrite_opt_str(o, "updateChannel", stored_str(all, "updateChannel", ""));
	jsonwrite_bool(o, "autoUpdateEnabled", stored_bool(all, "autoUpdateEnabled", 0));
	if ((n = stored_int(all, "autoUpdateCheckInterval", 0)) > 0)
		jsonwrite_int(o, "autoUpdateCheckInterval", n);
	jsonwrite_opt_str(o, "autoUpdateTime", stored_str(all, "autoUpdateTime", ""));
	jsonwrite_str(o, "logLevel", conf_str("log_level"));
	jsonwrite_bool(o, "discoveryEnabled", stored_bool(all, "discoveryEnabled", 0));
	s = stored_str(all, "discoverySubnet", "");
	jsonwrite_str(o, "discoverySubnet", s[0] ? s : "auto");
	json_object_object_add(o, "discoveryConfig",
	    discovery_normalised(jsonread_member(all, "discoveryConfig")));
	jsonwrite_opt_str(o, "theme", stored_str(all, "theme", ""));
	jsonwrite_bool(o, "allowEmbedding", c.allow_embedding);
	jsonwrite_opt_str(o, "allowedEmbedOrigins", c.embed_origins);
	jsonwrite_bool(o, "temperatureMonitoringEnabled", c.temperature_enabled);
	jsonwrite_int(o, "dnsCacheTimeout", 300);
	jsonwrite_opt_str(o, "webhookAllowedPrivateCIDRs",
	    stored_str(all, SETTINGS_WEBHOOK_CIDRS, ""));
	jsonwrite_bool(o, "hideLocalLogin", c.hide_local_login);
	jsonwrite_opt_str(o, "publicURL", conf_str("public_url")[0] ? conf_str("public_url") :
	    stored_str(all, SETTINGS_PUBLIC_URL, ""));
	jsonwrite_int(o, "metricsRetentionRawHours", conf_int("metrics_retention_raw_hours"));
	jsonwrite_int(o, "metricsRetentionMinuteHours", conf_int("metrics_retention_minute_hours"));
	jsonwrite_int(o, "metricsRetentionHourlyDays", conf_int("metrics_retention_hourly_days"));
	jsonwrite_int(o, "metricsRetentionDailyDays", conf_int("metrics_retention_daily_days"));
	jsonwrite_bool(o, "disableDockerUpdateActions", c.disable_docker_updates);
	add_env_overrides(o, older);
	json_object_put(all);
	return o;
}

struct json_object *
sysconfig_client_json(struct db *db)
{
	struct json_object *all = stored_settings(db), *o;
	const char *channel;

	if (all == NULL)
		return NULL;
	o = json_object_new_object();
	channel = stored_str(all, "updateChannel", "");
	jsonwrite_bool(o, "csrfProtection", 0);
	jsonwrite_bool(o, "autoUpdateEnabled", stored_bool(all, "autoUpdateEnabled", 0));
	jsonwrite_str(o, "updateChannel", channel[0] ? channel : "stable");
	json_object_put(all);
	return o;
}
