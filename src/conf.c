/* conf.c: the settings table, file parser and environment overrides. */
#include "config.h"

#include "conf.h"
#include "util.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/local/share/pulse"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#ifndef BINDIR
#define BINDIR "/usr/local/bin"
#endif
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

/* Keep docs/CONFIGURATION.md in step: a test checks that it names every key below. */
const struct conf_key conf_keys[] = {
	{"database_url", CFG_STRING, "dbname=pulse", 0, 0, 1,
	    "libpq connection string or URI; may list several hosts"},
	{"db_connect_timeout", CFG_INT, "5", 1, 300, 0,
	    "seconds to wait for one connection attempt"},
	{"db_statement_timeout", CFG_INT, "30000", 0, 3600000, 0,
	    "milliseconds a single statement may run (0 = no limit)"},
	{"listen", CFG_STRING, RUNSTATEDIR "/pulse/fcgi.sock", 0, 0, 0,
	    "Unix socket the responder binds; empty to use the socket it inherits"},
	{"socket_mode", CFG_MODE, "0660", 0, 0777, 0,
	    "permissions of the responder socket"},
	{"socket_group", CFG_STRING, "", 0, 0, 0,
	    "group given to the responder socket (the web server's group)"},
	{"fastcgi_peers", CFG_STRING, "", 0, 0, 0,
	    "web servers the responder believes: user names (Unix socket) and addresses (TCP)"},
	{"threads", CFG_INT, "4", 1, 256, 0,
	    "responder threads, each with one PostgreSQL connection"},
	{"body_limit", CFG_SIZE, "16M", 1024, (int64_t)1 << 32, 0,
	    "largest request body the responder reads"},
	{"access_log", CFG_BOOL, "true", 0, 0, 0,
	    "write one log line per request"},
	{"prometheus_interval", CFG_INT, "15", 0, 3600, 0,
	    "seconds between publications of this process's Prometheus counters (0: not counted)"},
	{"log_level", CFG_LEVEL, "info", 0, 0, 0,
	    "lowest level written: debug, info, warn, error"},
	{"log_file", CFG_STRING, "", 0, 0, 0,
	    "file to append log lines to; empty for standard error"},
	{"data_dir", CFG_STRING, LOCALSTATEDIR "/lib/pulse", 0, 0, 0,
	    "directory for the key file and the bootstrap token"},
	{"sql_dir", CFG_STRING, PKGDATADIR "/sql", 0, 0, 0,
	    "directory holding the numbered migrations"},
	{"worker_id", CFG_STRING, "", 0, 0, 0,
	    "stable name of this worker; empty for host name and process id"},
	{"heartbeat_interval", CFG_INT, "10", 1, 3600, 0,
	    "seconds between worker heartbeats"},
	{"deployment_type", CFG_STRING, "", 0, 0, 0,
	    "how this server was installed (deb, systemd, source, docker, container, manual); "
	    "empty: detected"},
	{"update_feed_url", CFG_STRING, "", 0, 0, 0,
	    "release feed checked for server updates (GitHub releases JSON or Atom); empty: none"},
	{"update_atom_url", CFG_STRING, "", 0, 0, 0,
	    "Atom feed tried when update_feed_url answers 403 or 429 (rate limited); empty: none"},
	{"update_timeout", CFG_INT, "10", 1, 300, 0,
	    "seconds a release feed or checksum request may take"},
	{"update_feed_max_bytes", CFG_INT, "2097152", 1024, 67108864, 0,
	    "largest release feed answer read, in bytes"},
	{"update_download_timeout", CFG_INT, "300", 1, 3600, 0,
	    "seconds the download of an update may take"},
	{"update_download_max_bytes", CFG_INT, "268435456", 1024, 1073741824, 0,
	    "largest update file downloaded, in bytes"},
	{"update_install_command", CFG_STRING, "", 0, 0, 0,
	    "shell command the worker runs with the verified update file as $1; empty: updates "
	    "are manual"},
	{"update_install_timeout", CFG_INT, "900", 1, 86400, 0,
	    "seconds update_install_command may run before it is killed"},
	{"update_stage_delay_ms", CFG_INT, "0", 0, 10000, 0,
	    "pause after each update stage (tests and demonstrations)"},
	{"trusted_proxies", CFG_STRING, "", 0, 0, 0,
	    "comma list of CIDRs whose X-Forwarded-For / X-Real-IP is believed"},
	{"trusted_networks", CFG_STRING, "", 0, 0, 0,
	    "comma list of CIDRs reported as trusted by /api/security/status (default: private)"},
	{"proxy_auth_secret", CFG_STRING, "", 0, 0, 1,
	    "shared secret an authenticating proxy sends in X-Proxy-Secret; empty disables"},
	{"proxy_auth_user_header", CFG_STRING, "", 0, 0, 0,
	    "header holding the proxy-authenticated user name"},
	{"proxy_auth_role_header", CFG_STRING, "", 0, 0, 0,
	    "header holding the user's roles"},
	{"proxy_auth_role_separator", CFG_STRING, "|", 0, 0, 0,
	    "separator between roles in the role header"},
	{"proxy_auth_admin_role", CFG_STRING, "admin", 0, 0, 0,
	    "role that makes a proxy-authenticated user an administrator"},
	{"proxy_auth_logout_url", CFG_STRING, "", 0, 0, 0,
	    "where the UI sends a proxy-authenticated user to log out"},
	{"auth_hide_local_login", CFG_BOOL, "false", 0, 0, 0,
	    "tell the UI to hide the password form (OIDC users sign in through their provider)"},
	{"oidc_allowed_private_cidrs", CFG_STRING, "", 0, 0, 0,
	    "private or loopback addresses the OIDC provider may be reached at (comma list of CIDRs)"},
	{"allow_unprotected_export", CFG_BOOL, "false", 0, 0, 0,
	    "allow configuration export without an API token (reported by security status)"},
	{"audit_log", CFG_BOOL, "true", 0, 0, 0,
	    "record security events in pulse.audit_events"},
	{"audit_retention_days", CFG_INT, "90", 1, 36500, 0,
	    "days security events are kept in pulse.audit_events"},
	{"license_public_key", CFG_STRING, "", 0, 0, 0,
	    "Ed25519 public key (base64, 32 bytes) that Pulse Pro licence keys are verified with"},
	{"pve_polling_interval", CFG_INT, "10", 1, 3600, 0,
	    "seconds between polls of each Proxmox instance"},
	{"pbs_polling_interval", CFG_INT, "60", 1, 3600, 0,
	    "seconds between polls of each Proxmox Backup Server"},
	{"pmg_polling_interval", CFG_INT, "60", 1, 3600, 0,
	    "seconds between polls of each Proxmox Mail Gateway"},
	{"pve_timeout", CFG_INT, "30", 1, 600, 0,
	    "seconds one request to a Proxmox server may take"},
	{"node_offline_grace", CFG_INT, "60", 0, 3600, 0,
	    "seconds a node (or a whole instance) that stops answering still shows its last state"},
	{"backup_polling_cycles", CFG_INT, "10", 0, 10000, 0,
	    "poll backups, backup tasks and snapshots every this many cycles (0: never)"},
	{"backup_polling_interval", CFG_INT, "0", 0, 604800, 0,
	    "seconds between backup polls; 0: every backup_polling_cycles cycles instead"},
	{"backup_polling_enabled", CFG_BOOL, "true", 0, 0, 0,
	    "poll backups, backup tasks and snapshots at all"},
	{"poll_backoff_max", CFG_INT, "60", 1, 3600, 0,
	    "longest wait between retries of an instance that keeps failing"},
	{"demo_mode", CFG_BOOL, "false", 0, 0, 0,
	    "start in mock mode while no real node is configured (./quickstart run sets it)"},
	{"temperature_monitoring_enabled", CFG_BOOL, "true", 0, 0, 0,
	    "collect and show node temperatures; a node's own setting overrides it"},
	{"metrics_retention_raw_hours", CFG_INT, "2", 1, 720, 0,
	    "hours raw metric samples are kept"},
	{"metrics_retention_minute_hours", CFG_INT, "24", 1, 8760, 0,
	    "hours 1-minute metric aggregates are kept"},
	{"metrics_retention_hourly_days", CFG_INT, "7", 1, 3650, 0,
	    "days 1-hour metric aggregates are kept"},
	{"metrics_retention_daily_days", CFG_INT, "90", 1, 36500, 0,
	    "days 1-day metric aggregates are kept"},
	{"metrics_flush_interval", CFG_INT, "5", 1, 300, 0,
	    "seconds between writes of polled metric samples"},
	{"metrics_buffer_samples", CFG_INT, "1000000", 1000, 100000000, 0,
	    "samples a worker keeps while PostgreSQL is unreachable (then the oldest go)"},
	{"worker_stale_after", CFG_INT, "60", 5, 86400, 0,
	    "seconds without a heartbeat after which a worker counts as gone"},
	{"allowed_origins", CFG_STRING, "", 0, 0, 0,
	    "CORS: the origin (or *) answers allow; empty: same-origin only"},
	{"public_url", CFG_STRING, "", 0, 0, 0,
	    "the URL users reach Pulse at, for links in notifications (wins over the learnt one)"},
	{"fence_after", CFG_INT, "20", 0, 3600, 0,
	    "seconds without a heartbeat after which other workers end a worker's sessions; 0: never"},
	{"smtp_ca_file", CFG_STRING, "", 0, 0, 0,
	    "a PEM file of CA certificates trusted for SMTP servers besides the system store"},
	{"notify_senders", CFG_INT, "4", 0, 64, 0,
	    "notification sender threads per worker, each with its own database connection (0: none)"},
	{"notify_batch", CFG_INT, "20", 1, 200, 0,
	    "queued notifications a sender claims at once"},
	{"notify_timeout", CFG_INT, "30", 1, 300, 0,
	    "seconds one webhook delivery may take, redirects included"},
	{"notify_rate_limit", CFG_INT, "10", 0, 100000, 0,
	    "webhook requests per URL per minute from one worker (0: no limit)"},
	{"notify_lease_margin", CFG_INT, "15", 1, 600, 0,
	    "seconds a claimed notification's lease adds to its sends before another worker takes it"},
	{"notify_rate_window", CFG_INT, "60", 1, 3600, 0,
	    "seconds of the window notify_rate_limit counts in (a minute unless a test shortens it)"},
	{"agent_binary_dir", CFG_STRING, BINDIR, 0, 0, 0,
	    "where /download/pulse-agent finds pulse-agent (this machine's architecture) and "
	    "pulse-agent-<os>-<arch> files for others"},
	{"agent_script_dir", CFG_STRING, PKGDATADIR "/agent", 0, 0, 0,
	    "where /install.sh, /install.ps1 and the legacy installer scripts are served from"},
	{"openapi_file", CFG_STRING, PKGDATADIR "/openapi.json", 0, 0, 0,
	    "the OpenAPI document GET /api/openapi.json serves (made at build time)"},
	{"disable_docker_update_actions", CFG_BOOL, "false", 0, 0, 0,
	    "refuse POST /api/agents/docker/containers/update (403 docker_updates_disabled)"},
};
const int conf_key_count = (int)ARRAY_LEN(conf_keys);

static char *conf_values[ARRAY_LEN(conf_keys)];

static int
key_index(const char *key)
{
	for (int i = 0; i < conf_key_count; i++)
		if (strcmp(conf_keys[i].name, key) == 0)
			return i;
	return -1;
}

static int
validate(const struct conf_key *k, const char *value, char *err, int errlen)
{
	int64_t n;
	int b;
	enum log_level lvl;
	char *end;

	switch (k->type) {
	case CFG_STRING:
		return 0;
	case CFG_INT:
		if (parse_int64(value, k->min, k->max, &n) == 0)
			return 0;
		snprintf(err, errlen, "%s: expected an integer from %lld to %lld", k->name,
		    (long long)k->min, (long long)k->max);
		return -1;
	case CFG_SIZE:
		if (parse_size(value, &n) == 0 && n >= k->min && n <= k->max)
			return 0;
		snprintf(err, errlen, "%s: expected a size from %lld to %lld bytes (k, M, G allowed)",
		    k->name, (long long)k->min, (long long)k->max);
		return -1;
	case CFG_BOOL:
		if (parse_bool(value, &b) == 0)
			return 0;
		snprintf(err, errlen, "%s: expected true or false", k->name);
		return -1;
	case CFG_MODE:
		errno = 0;
		n = strtol(value, &end, 8);
		if (*value && *end == '\0' && errno == 0 && n >= 0 && n <= 0777)
			return 0;
		snprintf(err, errlen, "%s: expected an octal mode such as 0660", k->name);
		return -1;
	case CFG_LEVEL:
		if (log_parse_level(value, &lvl) == 0)
			return 0;
		snprintf(err, errlen, "%s: expected debug, info, warn or error", k->name);
		return -1;
	}
	return -1;
}

int
conf_set(const char *key, const char *value, char *err, int errlen)
{
	int i = key_index(key);

	if (i < 0) {
		snprintf(err, errlen, "unknown setting '%.64s'", key);
		return -1;
	}
	if (validate(&conf_keys[i], value, err, errlen) != 0)
		return -1;
	free(conf_values[i]);
	conf_values[i] = xstrdup(value);
	return 0;
}

void
conf_reset(void)
{
	for (int i = 0; i < conf_key_count; i++) {
		free(conf_values[i]);
		conf_values[i] = xstrdup(conf_keys[i].default_value);
	}
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Strips one pair of matching quotes, so values may hold leading spaces or '#'. */
static char *
unquote(char *s)
{
	size_t len = strlen(s);

	if (len >= 2 && (s[0] == '"' || s[0] == '\'') && s[len - 1] == s[0]) {
		s[len - 1] = '\0';
		return s + 1;
	}
	return s;
}

static int
load_file(const char *path, int required, char *err, int errlen)
{
	char line[4096], msg[200];
	FILE *fp;
	int lineno = 0, rc = 0;

	fp = fopen(path, "re");
	if (fp == NULL) {
		if (errno == ENOENT && !required)
			return 0;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *p, *eq, *key, *value;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			rc = -1;
			break;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		eq = strchr(p, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%d: expected key = value", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		key = trim(p);
		value = unquote(trim(eq + 1));
		if (conf_set(key, value, msg, sizeof(msg)) != 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			rc = -1;
			break;
		}
	}
	fclose(fp);
	return rc;
}

void
conf_env_name(const char *key, char *out, int outlen)
{
	int o = snprintf(out, outlen, "PULSE_");

	for (const char *p = key; *p && o < outlen - 1; p++)
		out[o++] = (char)toupper((unsigned char)*p);
	out[o < outlen ? o : outlen - 1] = '\0';
}

int
conf_load(const char *path, int required, char *err, int errlen)
{
	char name[96], msg[200];

	conf_reset();
	if (path != NULL && load_file(path, required, err, errlen) != 0)
		return -1;
	for (int i = 0; i < conf_key_count; i++) {
		const char *v;

		conf_env_name(conf_keys[i].name, name, sizeof(name));
		v = getenv(name);
		if (v == NULL)
			continue;
		if (conf_set(conf_keys[i].name, v, msg, sizeof(msg)) != 0) {
			snprintf(err, errlen, "environment %s: %s", name, msg);
			return -1;
		}
	}
	return 0;
}

static const char *
value_of(const char *key)
{
	int i = key_index(key);

	if (i < 0) {
		log_error("msg=\"unknown configuration key requested\" key=%s", key);
		abort();
	}
	if (conf_values[i] == NULL)
		conf_values[i] = xstrdup(conf_keys[i].default_value);
	return conf_values[i];
}

const char *
conf_str(const char *key)
{
	return value_of(key);
}

int64_t
conf_int(const char *key)
{
	const char *v = value_of(key);
	int i = key_index(key);
	int64_t n = 0;

	if (conf_keys[i].type == CFG_SIZE)
		(void)parse_size(v, &n);
	else if (conf_keys[i].type == CFG_MODE)
		n = strtol(v, NULL, 8);
	else
		(void)parse_int64(v, INT64_MIN, INT64_MAX, &n);
	return n;
}

int
conf_bool(const char *key)
{
	int b = 0;

	(void)parse_bool(value_of(key), &b);
	return b;
}

void
conf_print(void)
{
	for (int i = 0; i < conf_key_count; i++) {
		const char *v = value_of(conf_keys[i].name);
		printf("%s = %s\n", conf_keys[i].name,
		    conf_keys[i].secret && *v ? "(set, not shown)" : v);
	}
}
