/* config.c: the agent's flags and environment as the original reads them (agents.md §9.1):
 * flag over environment over default, Go's flag syntax, Go durations, CSV lists. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent.h"
#include "jsonread.h"
#include "util.h"

enum flag_kind { FLAG_STRING, FLAG_BOOL, FLAG_LIST };

enum flag_id {
	F_URL, F_TOKEN, F_TOKEN_FILE, F_INTERVAL, F_HOSTNAME, F_AGENT_ID, F_INSECURE,
	F_LOG_LEVEL, F_ENABLE_HOST, F_ENABLE_COMMANDS, F_DISABLE_COMMANDS, F_DISK_EXCLUDE,
	F_REPORT_IP, F_TAG, F_HEALTH_ADDR, F_VERSION, F_SELF_TEST, F_ENABLE_DOCKER, F_DOCKER_RUNTIME, F_DISABLE_DOCKER_UPDATE_CHECKS,
	F_ENABLE_KUBERNETES, F_KUBECONFIG, F_KUBE_CONTEXT, F_KUBE_INCLUDE_NS, F_KUBE_EXCLUDE_NS,
	F_KUBE_ALL_PODS, F_KUBE_ALL_DEPLOYMENTS, F_KUBE_MAX_PODS,
	F_UNSUPPORTED,
};

struct flag_def {
	const char *name;
	enum flag_kind kind;
	const char *env;
	enum flag_id id;
};

static const struct flag_def flags[] = {
	{ "url", FLAG_STRING, "PULSE_URL", F_URL },
	{ "token", FLAG_STRING, NULL, F_TOKEN },
	{ "token-file", FLAG_STRING, NULL, F_TOKEN_FILE },
	{ "interval", FLAG_STRING, "PULSE_INTERVAL", F_INTERVAL },
	{ "hostname", FLAG_STRING, "PULSE_HOSTNAME", F_HOSTNAME },
	{ "agent-id", FLAG_STRING, "PULSE_AGENT_ID", F_AGENT_ID },
	{ "insecure", FLAG_BOOL, "PULSE_INSECURE_SKIP_VERIFY", F_INSECURE },
	{ "log-level", FLAG_STRING, "LOG_LEVEL", F_LOG_LEVEL },
	{ "enable-host", FLAG_BOOL, "PULSE_ENABLE_HOST", F_ENABLE_HOST },
	{ "enable-commands", FLAG_BOOL, "PULSE_ENABLE_COMMANDS", F_ENABLE_COMMANDS },
	{ "disable-commands", FLAG_BOOL, "PULSE_DISABLE_COMMANDS", F_DISABLE_COMMANDS },
	{ "disk-exclude", FLAG_LIST, "PULSE_DISK_EXCLUDE", F_DISK_EXCLUDE },
	{ "report-ip", FLAG_STRING, "PULSE_REPORT_IP", F_REPORT_IP },
	{ "tag", FLAG_LIST, "PULSE_TAGS", F_TAG },
	{ "health-addr", FLAG_STRING, "PULSE_HEALTH_ADDR", F_HEALTH_ADDR },
	{ "version", FLAG_BOOL, NULL, F_VERSION },
	{ "self-test", FLAG_BOOL, NULL, F_SELF_TEST },
	{ "enable-docker", FLAG_BOOL, "PULSE_ENABLE_DOCKER", F_ENABLE_DOCKER },
	{ "docker-runtime", FLAG_STRING, "PULSE_DOCKER_RUNTIME", F_DOCKER_RUNTIME },
	/* this agent checks no registry, so there is nothing to turn off */
	{ "disable-docker-update-checks", FLAG_BOOL, "PULSE_DISABLE_DOCKER_UPDATE_CHECKS",
	  F_DISABLE_DOCKER_UPDATE_CHECKS },
	{ "enable-kubernetes", FLAG_BOOL, "PULSE_ENABLE_KUBERNETES", F_ENABLE_KUBERNETES },
	/* kubeconfig files are not read: the in-cluster service account only (kube.c) */
	{ "kubeconfig", FLAG_STRING, "PULSE_KUBECONFIG", F_KUBECONFIG },
	{ "kube-context", FLAG_STRING, "PULSE_KUBE_CONTEXT", F_KUBE_CONTEXT },
	{ "kube-include-namespace", FLAG_LIST, "PULSE_KUBE_INCLUDE_NAMESPACES", F_KUBE_INCLUDE_NS },
	{ "kube-exclude-namespace", FLAG_LIST, "PULSE_KUBE_EXCLUDE_NAMESPACES", F_KUBE_EXCLUDE_NS },
	{ "kube-include-all-pods", FLAG_BOOL, "PULSE_KUBE_INCLUDE_ALL_PODS", F_KUBE_ALL_PODS },
	{ "kube-include-all-deployments", FLAG_BOOL, "PULSE_KUBE_INCLUDE_ALL_DEPLOYMENTS",
	  F_KUBE_ALL_DEPLOYMENTS },
	{ "kube-max-pods", FLAG_STRING, "PULSE_KUBE_MAX_PODS", F_KUBE_MAX_PODS },
	/* the other modules of the unified agent: accepted, logged once at start */
	{ "enable-proxmox", FLAG_BOOL, "PULSE_ENABLE_PROXMOX", F_UNSUPPORTED },
	{ "proxmox-type", FLAG_STRING, "PULSE_PROXMOX_TYPE", F_UNSUPPORTED },
	{ "disable-auto-update", FLAG_BOOL, "PULSE_DISABLE_AUTO_UPDATE", F_UNSUPPORTED },
	{ "disable-ceph", FLAG_BOOL, "PULSE_DISABLE_CEPH", F_UNSUPPORTED },
};

int
agent_env_truthy(const char *s)
{
	static const char *const yes[] = { "1", "true", "yes", "y", "on" };

	for (size_t i = 0; s && i < ARRAY_LEN(yes); i++)
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
	return 0;
}

int
agent_parse_duration(const char *s, double *out)
{
	static const struct { const char *unit; double secs; } units[] = {
		{ "ns", 1e-9 }, { "us", 1e-6 }, { "µs", 1e-6 }, { "ms", 1e-3 }, { "s", 1 },
		{ "m", 60 }, { "h", 3600 },
	};
	double total = 0;

	if (!s || !*s)
		return -1;
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	while (*s) {
		char *end;
		double v;
		size_t best = 0, blen = 0;

		if (!isdigit((unsigned char)*s) && *s != '.')
			return -1;
		errno = 0;
		v = strtod(s, &end);
		if (end == s || errno)
			return -1;
		for (size_t i = 0; i < ARRAY_LEN(units); i++) {
			size_t ul = strlen(units[i].unit);

			if (strncmp(end, units[i].unit, ul) == 0 && ul > blen) {
				best = i;
				blen = ul;
			}
		}
		if (blen == 0)
			return -1;
		total += v * units[best].secs;
		s = end + blen;
	}
	*out = total;
	return 0;
}

/* Appends the trimmed, non-empty, not yet present items of a comma list. */
static void
list_add_csv(char ***list, size_t *n, const char *csv)
{
	const char *p = csv;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *s = p, *e = p + len;
		int dup = 0;

		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		for (size_t i = 0; i < *n && e > s; i++)
			if (strlen((*list)[i]) == (size_t)(e - s) && strncmp((*list)[i], s, (size_t)(e - s)) == 0)
				dup = 1;
		if (e > s && !dup) {
			*list = xrealloc(*list, (*n + 1) * sizeof(**list));
			(*list)[(*n)++] = xstrndup(s, (size_t)(e - s));
		}
		p = comma ? comma + 1 : NULL;
	}
}

static void
list_free(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* Empties a list the environment filled, before the flags give theirs. */
static void
list_reset(char ***list, size_t *n)
{
	list_free(*list, *n);
	*list = NULL;
	*n = 0;
}

static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

static void
note_unsupported(struct agent_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nunsupported; i++)
		if (strcmp(cfg->unsupported[i], name) == 0)
			return;
	cfg->unsupported = xrealloc(cfg->unsupported, (cfg->nunsupported + 1) * sizeof(char *));
	cfg->unsupported[cfg->nunsupported++] = xstrdup(name);
}

/* Applies one value (from a flag or the environment); returns 0, or -1 with err. */
static int
apply(struct agent_config *cfg, const struct flag_def *f, const char *v, int from_env,
    char **token_file, char *err, size_t errlen)
{
	int b = 0;

	if (f->kind == FLAG_BOOL) {
		if (from_env)
			b = agent_env_truthy(v);
		else if (!v)
			b = 1;		/* a bare --flag */
		else if (parse_bool(v, &b) != 0) {
			snprintf(err, errlen, "invalid boolean value for --%s", f->name);
			return -1;
		}
	}
	switch (f->id) {
	case F_URL: set_str(&cfg->url, v); break;
	case F_TOKEN: set_str(&cfg->token, v); break;
	case F_TOKEN_FILE: set_str(token_file, v); break;
	case F_INTERVAL: {
		double secs;

		if (agent_parse_duration(v, &secs) != 0 || secs <= 0) {
			if (from_env)	/* the original ignores an unparsable PULSE_INTERVAL */
				break;
			snprintf(err, errlen, "invalid duration for --interval (e.g. 30s, 1m)");
			return -1;
		}
		cfg->interval = secs;
		break;
	}
	case F_HOSTNAME: set_str(&cfg->hostname, v); break;
	case F_AGENT_ID: set_str(&cfg->agent_id, v); break;
	case F_INSECURE: cfg->insecure = b; break;
	case F_LOG_LEVEL: set_str(&cfg->log_level, v); break;
	case F_ENABLE_HOST: cfg->enable_host = b; break;
	case F_ENABLE_COMMANDS: cfg->enable_commands = b; break;
	case F_DISABLE_COMMANDS: cfg->enable_commands = !b; break;
	case F_DISK_EXCLUDE: list_add_csv(&cfg->disk_exclude, &cfg->ndisk_exclude, v); break;
	case F_REPORT_IP: set_str(&cfg->report_ip, v); break;
	case F_TAG: list_add_csv(&cfg->tags, &cfg->ntags, v); break;
	case F_HEALTH_ADDR: set_str(&cfg->health_addr, v); break;
	case F_VERSION: cfg->show_version = b; break;
	case F_SELF_TEST: cfg->self_test = b; break;
	case F_ENABLE_DOCKER: cfg->enable_docker = b; cfg->docker_given = 1; break;
	case F_DOCKER_RUNTIME:
		if (strcmp(v ? v : "", "auto") != 0 && strcmp(v ? v : "", "docker") != 0 &&
		    strcmp(v ? v : "", "podman") != 0) {
			snprintf(err, errlen, "invalid --docker-runtime (auto, docker or podman)");
			return -1;
		}
		set_str(&cfg->docker_runtime, v);
		break;
	case F_DISABLE_DOCKER_UPDATE_CHECKS: break;
	case F_ENABLE_KUBERNETES: cfg->enable_kubernetes = b; break;
	case F_KUBECONFIG:
	case F_KUBE_CONTEXT:
		if (v && *v)
			note_unsupported(cfg, f->name);
		break;
	case F_KUBE_INCLUDE_NS: list_add_csv(&cfg->kube_include, &cfg->nkube_include, v); break;
	case F_KUBE_EXCLUDE_NS: list_add_csv(&cfg->kube_exclude, &cfg->nkube_exclude, v); break;
	case F_KUBE_ALL_PODS: cfg->kube_all_pods = b; break;
	case F_KUBE_ALL_DEPLOYMENTS: cfg->kube_all_deployments = b; break;
	case F_KUBE_MAX_PODS: {
		int64_t n;

		if (parse_int64(v ? v : "", 0, 100000, &n) != 0) {
			if (from_env)
				break;
			snprintf(err, errlen, "invalid --kube-max-pods (a number, 0 for no limit)");
			return -1;
		}
		cfg->kube_max_pods = (int)n;
		break;
	}
	case F_UNSUPPORTED:
		if (f->kind != FLAG_BOOL || b)
			note_unsupported(cfg, f->name);
		break;
	}
	return 0;
}

static const struct flag_def *
find_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_LEN(flags); i++)
		if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
			return &flags[i];
	return NULL;
}

/* The environment, for every flag that has a variable; lists from the environment are
 * replaced when the same flag is given. */
static void
read_env(struct agent_config *cfg, agent_env_fn env_get, char **token_file)
{
	char err[8];

	for (size_t i = 0; i < ARRAY_LEN(flags); i++) {
		const char *v = flags[i].env ? env_get(flags[i].env) : NULL;

		if (v && *v)
			apply(cfg, &flags[i], v, 1, token_file, err, sizeof(err));
	}
	if (!env_get("PULSE_KUBE_INCLUDE_ALL_PODS") &&
	    agent_env_truthy(env_get("PULSE_KUBE_INCLUDE_ALL_POD_FILES")))
		cfg->kube_all_pods = 1;
}

/* Reads the token from a file: its first line, trimmed. NULL when unreadable or empty. */
static char *
token_from_file(const char *path)
{
	char *text = agent_read_file(path), *s, *e;

	if (!text)
		return NULL;
	for (s = text; isspace((unsigned char)*s); s++)
		;
	for (e = s; *e && *e != '\n' && *e != '\r'; e++)
		;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*e = '\0';
	s = *s ? xstrdup(s) : NULL;
	secret_free(text);
	return s;
}

int
agent_config_parse(struct agent_config *cfg, int argc, char **argv, agent_env_fn env_get,
    char *err, size_t errlen)
{
	char *token_file = NULL, *env_token;
	int tags_from_flags = 0, excl_from_flags = 0, incl_ns = 0, excl_ns = 0, i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->url = xstrdup(AGENT_DEFAULT_URL);
	cfg->interval = 30;
	cfg->health_addr = xstrdup(AGENT_DEFAULT_HEALTH);
	cfg->log_level = xstrdup("info");
	cfg->enable_host = 1;
	cfg->docker_runtime = xstrdup("auto");
	cfg->kube_max_pods = 200;
	read_env(cfg, env_get, &token_file);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *v = NULL;
		const struct flag_def *f;
		size_t nlen;

		if (strcmp(a, "--") == 0 || a[0] != '-' || a[1] == '\0')
			break;
		name = a + (a[1] == '-' ? 2 : 1);
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		if (!(f = find_flag(name, nlen))) {
			snprintf(err, errlen, "flag provided but not defined: -%.*s", (int)nlen, name);
			goto err;
		}
		if (eq)
			v = eq + 1;
		else if (f->kind != FLAG_BOOL) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "flag needs an argument: -%s", f->name);
				goto err;
			}
			v = argv[++i];
		}
		if (f->id == F_TAG && !tags_from_flags++) {
			list_free(cfg->tags, cfg->ntags);
			cfg->tags = NULL;
			cfg->ntags = 0;
		}
		if (f->id == F_DISK_EXCLUDE && !excl_from_flags++) {
			list_free(cfg->disk_exclude, cfg->ndisk_exclude);
			cfg->disk_exclude = NULL;
			cfg->ndisk_exclude = 0;
		}
		if (f->id == F_KUBE_INCLUDE_NS && !incl_ns++)
			list_reset(&cfg->kube_include, &cfg->nkube_include);
		if (f->id == F_KUBE_EXCLUDE_NS && !excl_ns++)
			list_reset(&cfg->kube_exclude, &cfg->nkube_exclude);
		if (apply(cfg, f, v, 0, &token_file, err, errlen) != 0)
			goto err;
	}
	if (i < argc) {
		snprintf(err, errlen, "unexpected argument: %s", argv[i]);
		goto err;
	}
	while (*cfg->url && cfg->url[strlen(cfg->url) - 1] == '/')
		cfg->url[strlen(cfg->url) - 1] = '\0';
	/* token: --token, --token-file, PULSE_TOKEN, then the installer's file */
	if (!cfg->token && token_file && !(cfg->token = token_from_file(token_file))) {
		snprintf(err, errlen, "cannot read a token from --token-file %s", token_file);
		goto err;
	}
	if (!cfg->token && (env_token = (char *)env_get("PULSE_TOKEN")) && *env_token)
		cfg->token = xstrdup(env_token);
	if (!cfg->token)
		cfg->token = token_from_file(AGENT_TOKEN_FILE);
	if (!cfg->token && !cfg->show_version && !cfg->self_test) {
		snprintf(err, errlen, "no API token: give --token, --token-file or PULSE_TOKEN");
		goto err;
	}
	free(token_file);
	return 0;
err:
	free(token_file);
	agent_config_free(cfg);
	return -1;
}

void
agent_config_free(struct agent_config *cfg)
{
	free(cfg->url);
	secret_free(cfg->token);
	free(cfg->hostname);
	free(cfg->agent_id);
	free(cfg->health_addr);
	free(cfg->report_ip);
	free(cfg->log_level);
	free(cfg->docker_runtime);
	list_free(cfg->tags, cfg->ntags);
	list_free(cfg->disk_exclude, cfg->ndisk_exclude);
	list_free(cfg->kube_include, cfg->nkube_include);
	list_free(cfg->kube_exclude, cfg->nkube_exclude);
	list_free(cfg->unsupported, cfg->nunsupported);
	memset(cfg, 0, sizeof(*cfg));
}

int
agent_config_apply_settings(struct agent_config *cfg, struct json_object *settings)
{
	struct json_object *v;
	double secs;
	int applied = 0, b;

	if (!jsonread_is_object(settings))
		return 0;
	/* interval: a Go duration, or a number of seconds */
	v = jsonread_member(settings, "interval");
	if (json_object_is_type(v, json_type_string) ?
	    agent_parse_duration(json_object_get_string(v), &secs) == 0 :
	    jsonread_value_number(v, &secs) == 1) {
		if (secs > 0 && secs <= 86400) {
			cfg->interval = secs;
			applied++;
		}
	}
	if (json_object_is_type((v = jsonread_member(settings, "log_level")), json_type_string)) {
		set_str(&cfg->log_level, json_object_get_string(v));
		applied++;
	}
	if (json_object_is_type((v = jsonread_member(settings, "report_ip")), json_type_string)) {
		set_str(&cfg->report_ip, json_object_get_string(v));
		applied++;
	}
	if (json_object_is_type((v = jsonread_member(settings, "enable_docker")), json_type_boolean)) {
		b = json_object_get_boolean(v);
		cfg->enable_docker = b;
		cfg->docker_given = 1;
		applied++;
	}
	return applied;
}
