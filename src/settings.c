/* settings.c: the system settings in pulse.system_settings, and the checks of the keys the
 * settings update accepts. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonread.h"
#include "netaddr.h"
#include "settings.h"
#include "sysconfig.h"
#include "uri.h"
#include "util.h"

static const struct db_stmt stmt_settings_read = {
	"settings_read", "SELECT value::text FROM pulse.system_settings WHERE key = $1", 1,
};
/* Each write is announced (at commit) to the responders and workers that apply settings
 * live (sysconfig.h). */
static const struct db_stmt stmt_settings_save = {
	"settings_save",
	"WITH s AS (INSERT INTO pulse.system_settings (key, value) VALUES ($1, $2::jsonb) "
	"ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now() RETURNING key) "
	"SELECT pg_notify('" SYSCONFIG_CHANNEL "', key) FROM s", 2,
};
static const struct db_stmt stmt_settings_delete = {
	"settings_delete",
	"WITH s AS (DELETE FROM pulse.system_settings WHERE key = $1 RETURNING key) "
	"SELECT pg_notify('" SYSCONFIG_CHANNEL "', key) FROM s", 1,
};

int
settings_get(struct db *db, const char *key, struct json_object **out)
{
	const char *params[1] = {key};
	PGresult *res = db_exec_stmt(db, &stmt_settings_read, params);

	*out = NULL;
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1)
		*out = json_tokener_parse(PQgetvalue(res, 0, 0));
	PQclear(res);
	return *out != NULL;
}

int
settings_get_string(struct db *db, const char *key, char *buf, size_t len)
{
	struct json_object *v;

	buf[0] = '\0';
	if (settings_get(db, key, &v) < 0)
		return -1;
	if (json_object_is_type(v, json_type_string))
		jsonread_copy(buf, len, json_object_get_string(v));
	json_object_put(v);
	return 0;
}

int
settings_set(struct db *db, const char *key, struct json_object *value)
{
	const char *params[2] = {key, NULL};

	if (value == NULL)
		return db_exec_stmt_ok(db, &stmt_settings_delete, params);
	params[1] = json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN);
	return db_exec_stmt_ok(db, &stmt_settings_save, params);
}

int
settings_check_cidrs(const char *csv, char *out, size_t outlen, char *err, size_t errlen)
{
	struct strbuf good = {0}, bad = {0};
	struct cidr *ranges = NULL, c;
	char *copy = xstrdup(csv), *save = NULL, entry[256];
	int count = 0, invalid = cidr_list_parse(csv, &ranges, &count);

	free(ranges);
	for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		jsonread_copy_trimmed(entry, sizeof(entry), tok);
		if (entry[0] == '\0')
			continue;
		if (cidr_parse(entry, &c) == 0 && strlen(tok) < sizeof(entry) - 1)
			sb_printf(&good, "%s%s", good.len > 0 ? "," : "", entry);
		else {
			sb_printf(&bad, "%s%s", bad.len > 0 ? ", " : "", entry);
			invalid = invalid > 0 ? invalid : 1;
		}
	}
	free(copy);
	if (invalid > 0 || good.len >= outlen) {
		snprintf(err, errlen, "Invalid webhook allowed private CIDRs: %s",
		    bad.len > 0 ? bad.data : "the list is too long");
		sb_free(&good);
		sb_free(&bad);
		return -1;
	}
	jsonread_copy(out, outlen, good.data);
	sb_free(&good);
	sb_free(&bad);
	return 0;
}

int
settings_check_public_url(const char *url, char *err, size_t errlen)
{
	char host[256], port[8];

	if (url[0] == '\0')
		return 0;
	if ((strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) ||
	    strlen(url) > 2048 || strpbrk(url, " \t\r\n@") != NULL ||
	    uri_split_host_port(url, "", host, sizeof(host), port, sizeof(port)) != 0 ||
	    host[0] == '\0') {
		snprintf(err, errlen, "publicURL must be an http or https URL with a host");
		return -1;
	}
	return 0;
}

/* Stores text under key, or removes key when text is empty. */
static int
set_string(struct db *db, const char *key, const char *text)
{
	struct json_object *v = text[0] != '\0' ? json_object_new_string(text) : NULL;
	int rc = settings_set(db, key, v);

	json_object_put(v);
	return rc;
}

int
settings_apply(struct db *db, const char *cidrs, const char *public_url, char *err,
    size_t errlen)
{
	char list[4096], url[2049];

	if (cidrs != NULL && settings_check_cidrs(cidrs, list, sizeof(list), err, errlen) != 0)
		return 1;
	if (public_url != NULL) {
		jsonread_copy_trimmed(url, sizeof(url), public_url);
		if (strlen(public_url) > 2048 || settings_check_public_url(url, err, errlen) != 0) {
			snprintf(err, errlen, "publicURL must be an http or https URL with a host");
			return 1;
		}
		/* Kept without a trailing '/', as templates and "Dashboard:" lines use it. */
		for (size_t n = strlen(url); n > 0 && url[n - 1] == '/'; n--)
			url[n - 1] = '\0';
	}
	if ((cidrs != NULL && set_string(db, SETTINGS_WEBHOOK_CIDRS, list) != 0) ||
	    (public_url != NULL && set_string(db, SETTINGS_PUBLIC_URL, url) != 0))
		return -1;
	return 0;
}

int
settings_update(struct db *db, const char *cidrs, const char *public_url, char *err,
    size_t errlen)
{
	int rc;

	if (cidrs == NULL && public_url == NULL)
		return 0;
	if (db_begin(db) != 0)
		return -1;
	rc = settings_apply(db, cidrs, public_url, err, errlen);
	if (rc != 0 || db_commit(db) != 0) {
		db_rollback(db);
		return rc > 0 ? 1 : -1;
	}
	return 0;
}

static const struct db_stmt stmt_learn_public_url = {"settings_learn_public_url",
	"INSERT INTO pulse.system_settings (key, value) VALUES ('" SETTINGS_PUBLIC_URL "', "
	"to_jsonb($1::text)) ON CONFLICT (key) DO NOTHING", 1};

/* A Host header worth keeping: a name or address, an optional port, nothing else. */
static int
host_learnable(const char *host)
{
	char name[256], port[8], url[300];
	struct ipaddr ip;

	if (host == NULL || host[0] == '\0' || strlen(host) > 255 ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
	    strlen(host))
		return 0;
	snprintf(url, sizeof(url), "https://%s", host);
	if (uri_split_host_port(url, "", name, sizeof(name), port, sizeof(port)) != 0 ||
	    name[0] == '\0')
		return 0;
	if (strcasecmp(name, "localhost") == 0 || (strlen(name) > 10 &&
	    strcasecmp(name + strlen(name) - 10, ".localhost") == 0))
		return 0;
	return !(ip_parse(name, &ip) == 0 && ip_is_loopback(&ip));
}

int
settings_learn_public_url(struct db *db, int https, const char *host)
{
	char url[300];
	const char *p[] = {url};

	if (!host_learnable(host))
		return 0;
	snprintf(url, sizeof(url), "%s://%s", https ? "https" : "http", host);
	return db_exec_stmt_ok(db, &stmt_learn_public_url, p) == 0 ? 1 : -1;
}
