/* notify_channels.c: the email, apprise and webhook configurations: checks, normalisation,
 * masked forms, and their sealed storage in pulse.notification_channels. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "http.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "notify_apprise.h"
#include "notify_email.h"
#include "notify_channels.h"
#include "urlguard.h"
#include "uri.h"
#include "util.h"

#define SEAL_CONTEXT "notification_channels.config"

/* --- strict reading of a body's fields ------------------------------------------------ */

/* A string member within max bytes and without NUL: 1 and *out when present, 0 when absent
 * or null (*out untouched), -1 with a message in err. */
static int
get_text(struct json_object *obj, const char *key, size_t max, const char **out, char *err,
    size_t errlen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "%s must be a string", key);
		return -1;
	}
	if ((size_t)json_object_get_string_len(v) > max ||
	    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
		snprintf(err, errlen, "%s is longer than %zu bytes or holds a NUL", key, max);
		return -1;
	}
	*out = json_object_get_string(v);
	return 1;
}

static int
get_bool(struct json_object *obj, const char *key, int *out, char *err, size_t errlen)
{
	switch (jsonutil_get_bool(obj, key, out)) {
	case JSONUTIL_OK:
		return 1;
	case JSONUTIL_MISSING:
		return 0;
	default:
		snprintf(err, errlen, "%s must be a boolean", key);
		return -1;
	}
}

static int
get_int(struct json_object *obj, const char *key, int64_t min, int64_t max, int64_t *out,
    char *err, size_t errlen)
{
	switch (jsonutil_get_int(obj, key, min, max, out)) {
	case JSONUTIL_OK:
		return 1;
	case JSONUTIL_MISSING:
		return 0;
	default:
		snprintf(err, errlen, "%s must be an integer from %lld to %lld", key, (long long)min,
		    (long long)max);
		return -1;
	}
}

/* A list of strings (null or absent: empty), each within NOTIFY_TEXT_MAX and without CR or
 * LF, at most NOTIFY_MAX_RECIPIENTS of them. Returns a new array, or NULL with a message in
 * err. */
static struct json_object *
get_strings(struct json_object *obj, const char *key, char *err, size_t errlen)
{
	struct json_object *in = NULL, *out;
	enum jsonutil_result rc = jsonutil_get_array(obj, key, &in);
	size_t n;

	if (rc == JSONUTIL_WRONG_TYPE) {
		snprintf(err, errlen, "%s must be an array of strings", key);
		return NULL;
	}
	out = json_object_new_array();
	n = rc == JSONUTIL_OK ? json_object_array_length(in) : 0;
	if (n > NOTIFY_MAX_RECIPIENTS) {
		snprintf(err, errlen, "%s holds more than %d entries", key, NOTIFY_MAX_RECIPIENTS);
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(in, i);

		if (!json_object_is_type(v, json_type_string) ||
		    (size_t)json_object_get_string_len(v) > NOTIFY_TEXT_MAX) {
			snprintf(err, errlen, "%s must be an array of strings of at most %d bytes",
			    key, NOTIFY_TEXT_MAX);
			goto fail;
		}
		if (strpbrk(json_object_get_string(v), "\r\n") != NULL) {
			snprintf(err, errlen, "%s: an entry must not hold CR or LF", key);
			goto fail;
		}
		json_object_array_add(out, json_object_get(v));
	}
	return out;
fail:
	json_object_put(out);
	return NULL;
}

/* A string of cfg, "" when absent. */
static const char *
cfg_str(struct json_object *cfg, const char *key)
{
	struct json_object *v;

	if (json_object_object_get_ex(cfg, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return "";
}

static int
cfg_bool(struct json_object *cfg, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(cfg, key, &v) && json_object_get_boolean(v);
}

/* A deep copy of obj (a configuration). */
static struct json_object *
copy_of(struct json_object *obj)
{
	struct json_object *out = NULL;

	if (json_object_deep_copy(obj, &out, NULL) != 0)
		abort();
	return out;
}

/* --- email ---------------------------------------------------------------------------- */

struct json_object *
notify_email_defaults(void)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_bool(o, "enabled", 0);
	jsonwrite_str(o, "provider", "");
	jsonwrite_str(o, "server", "");
	jsonwrite_int(o, "port", 587);
	jsonwrite_str(o, "username", "");
	jsonwrite_str(o, "password", "");
	jsonwrite_str(o, "from", "");
	json_object_object_add(o, "to", json_object_new_array());
	jsonwrite_bool(o, "tls", 1);
	jsonwrite_bool(o, "startTLS", 0);
	return o;
}

struct json_object *
notify_email_from_json(struct json_object *body, struct json_object *stored, char *err,
    size_t errlen)
{
	struct email_config c;
	struct json_object *o;

	/* The email channel's reader: types, sizes, recipients, no CR or LF. */
	if (notify_email_config_parse(body, &c, err, errlen) != 0) {
		notify_email_config_clear(&c);
		return NULL;
	}
	/* An empty password keeps the stored one: GET never shows it. */
	if (c.password[0] == '\0' && stored != NULL)
		snprintf(c.password, sizeof(c.password), "%s", cfg_str(stored, "password"));
	o = notify_email_config_to_json(&c);
	notify_email_config_clear(&c);
	return o;
}

struct json_object *
notify_email_public(struct json_object *cfg)
{
	struct json_object *o = copy_of(cfg);

	jsonwrite_str(o, "password", "");
	return o;
}

/* --- apprise -------------------------------------------------------------------------- */

struct json_object *
notify_apprise_defaults(void)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_bool(o, "enabled", 0);
	jsonwrite_str(o, "mode", "cli");
	json_object_object_add(o, "targets", json_object_new_array());
	jsonwrite_str(o, "cliPath", "apprise");
	jsonwrite_int(o, "timeoutSeconds", 15);
	jsonwrite_str(o, "serverUrl", "");
	jsonwrite_str(o, "configKey", "");
	jsonwrite_str(o, "apiKey", "");
	jsonwrite_str(o, "apiKeyHeader", "X-API-KEY");
	jsonwrite_bool(o, "skipTlsVerify", 0);
	return o;
}

struct json_object *
notify_apprise_from_json(struct json_object *body, struct json_object *stored, char *err,
    size_t errlen)
{
	static const struct {
		const char *key;
		size_t max;
	} texts[] = {
		{"mode", 16}, {"cliPath", NOTIFY_TEXT_MAX}, {"serverUrl", NOTIFY_URL_MAX},
		{"configKey", NOTIFY_TEXT_MAX}, {"apiKey", NOTIFY_TEXT_MAX},
		{"apiKeyHeader", NOTIFY_NAME_MAX},
	};
	struct json_object *o = notify_apprise_defaults(), *targets;
	struct apprise_config c;
	const char *s;
	int64_t timeout = 0;
	int b;

	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		s = "";
		if (get_text(body, texts[i].key, texts[i].max, &s, err, errlen) < 0)
			goto fail;
		if (strcmp(texts[i].key, "apiKey") == 0 && strcmp(s, NOTIFY_REDACTED) == 0)
			s = stored != NULL ? cfg_str(stored, "apiKey") : "";
		jsonwrite_str(o, texts[i].key, s);
	}
	if (strpbrk(cfg_str(o, "apiKeyHeader"), "\r\n:") != NULL ||
	    strpbrk(cfg_str(o, "apiKey"), "\r\n") != NULL) {
		snprintf(err, errlen, "apiKeyHeader and apiKey must not hold CR, LF (or ':' in the name)");
		goto fail;
	}
	b = 0;
	if (get_bool(body, "enabled", &b, err, errlen) < 0)
		goto fail;
	jsonwrite_bool(o, "enabled", b);
	b = 0;
	if (get_bool(body, "skipTlsVerify", &b, err, errlen) < 0)
		goto fail;
	jsonwrite_bool(o, "skipTlsVerify", b);
	if (get_int(body, "timeoutSeconds", INT32_MIN, INT32_MAX, &timeout, err, errlen) < 0)
		goto fail;
	jsonwrite_int(o, "timeoutSeconds", timeout);
	if ((targets = get_strings(body, "targets", err, errlen)) == NULL)
		goto fail;
	json_object_object_add(o, "targets", targets);
	/* The normalisation of §8.4 is the apprise channel's own reader's. */
	if (notify_apprise_config_parse(o, &c, err, errlen) != 0) {
		notify_apprise_config_free(&c);
		goto fail;
	}
	json_object_put(o);
	o = notify_apprise_config_to_json(&c);
	notify_apprise_config_free(&c);
	return o;
fail:
	json_object_put(o);
	return NULL;
}

struct json_object *
notify_apprise_public(struct json_object *cfg)
{
	struct json_object *o = copy_of(cfg);

	if (cfg_str(o, "apiKey")[0] != '\0')
		jsonwrite_str(o, "apiKey", NOTIFY_REDACTED);
	return o;
}

/* --- webhooks ------------------------------------------------------------------------- */

int
webhook_url_allowed(const char *url, const char *allowlist, char *err, size_t errlen)
{
	char host[256], port[8];
	const char *rest, *end;

	if (url == NULL || url[0] == '\0') {
		snprintf(err, errlen, "URL is empty");
		return 0;
	}
	if (strlen(url) > NOTIFY_URL_MAX) {
		snprintf(err, errlen, "URL is longer than %d bytes", NOTIFY_URL_MAX);
		return 0;
	}
	for (const char *p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			snprintf(err, errlen, "URL holds white space or control characters");
			return 0;
		}
	if (strncasecmp(url, "http://", 7) == 0)
		rest = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		rest = url + 8;
	else {
		snprintf(err, errlen, "URL scheme must be http or https");
		return 0;
	}
	end = rest + strcspn(rest, "/?#");
	if (memchr(rest, '@', (size_t)(end - rest)) != NULL) {
		snprintf(err, errlen, "URL must not hold user information");
		return 0;
	}
	if (uri_split_host_port(url, "", host, sizeof(host), port, sizeof(port)) != 0 ||
	    host[0] == '\0') {
		snprintf(err, errlen, "URL must name a host");
		return 0;
	}
	/* the address rules of §8.3 (a name must resolve); the send checks them again */
	return urlguard_check(url, allowlist, NULL, err, errlen) == 0;
}

/* A map of strings (key), at most NOTIFY_MAX_HEADERS entries; headers have token names and
 * values without CR or LF. A map holding NOTIFY_REDACTED is replaced by the stored one.
 * Returns a new object (absent: empty), or NULL with a message in err. */
static struct json_object *
get_map(struct json_object *body, const char *key, int headers, struct json_object *stored,
    char *err, size_t errlen)
{
	struct json_object *in = NULL, *out, *prev;
	enum jsonutil_result rc = jsonutil_get_object(body, key, &in);
	int redacted = 0;

	if (rc == JSONUTIL_WRONG_TYPE) {
		snprintf(err, errlen, "%s must be an object of strings", key);
		return NULL;
	}
	out = json_object_new_object();
	if (rc != JSONUTIL_OK)
		return out;
	if (json_object_object_length(in) > NOTIFY_MAX_HEADERS) {
		snprintf(err, errlen, "%s holds more than %d entries", key, NOTIFY_MAX_HEADERS);
		goto fail;
	}
	json_object_object_foreach(in, k, v) {
		const char *s = json_object_get_string(v);

		if (!json_object_is_type(v, json_type_string) || strlen(k) > NOTIFY_NAME_MAX ||
		    (size_t)json_object_get_string_len(v) > NOTIFY_TEXT_MAX || strlen(s) !=
		    (size_t)json_object_get_string_len(v)) {
			snprintf(err, errlen, "%s must map names of at most %d bytes to strings of at "
			    "most %d bytes", key, NOTIFY_NAME_MAX, NOTIFY_TEXT_MAX);
			goto fail;
		}
		if (headers && (!http_header_name_ok(k) || strpbrk(s, "\r\n") != NULL)) {
			snprintf(err, errlen, "%s: a header name must be a token and a value must not "
			    "hold CR or LF", key);
			goto fail;
		}
		if (strcmp(s, NOTIFY_REDACTED) == 0)
			redacted = 1;
		json_object_object_add(out, k, json_object_new_string(s));
	}
	if (redacted) {
		json_object_put(out);
		if (stored != NULL && json_object_object_get_ex(stored, key, &prev) &&
		    json_object_is_type(prev, json_type_object))
			return copy_of(prev);
		return json_object_new_object();
	}
	return out;
fail:
	json_object_put(out);
	return NULL;
}

/* An id a path can carry: letters, digits and ._:- */
static int
webhook_id_ok(const char *id)
{
	if (strlen(id) > NOTIFY_NAME_MAX)
		return 0;
	for (; *id != '\0'; id++)
		if (!isalnum((unsigned char)*id) && strchr("._:-", *id) == NULL)
			return 0;
	return 1;
}

struct json_object *
notify_webhook_from_json(struct json_object *body, struct json_object *stored,
    const char *allowlist, char *err, size_t errlen)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH"};
	struct json_object *o = json_object_new_object(), *map;
	const char *id = "", *name = "", *url = "", *method = "", *service = "", *tmpl = "";
	char reason[160], upper[8];
	int enabled = 0;
	size_t i;

	if (get_text(body, "id", NOTIFY_NAME_MAX, &id, err, errlen) < 0 ||
	    get_text(body, "name", NOTIFY_NAME_MAX, &name, err, errlen) < 0 ||
	    get_text(body, "url", NOTIFY_URL_MAX, &url, err, errlen) < 0 ||
	    get_text(body, "method", 7, &method, err, errlen) < 0 ||
	    get_text(body, "service", 64, &service, err, errlen) < 0 ||
	    get_text(body, "template", NOTIFY_TEMPLATE_MAX, &tmpl, err, errlen) < 0 ||
	    get_bool(body, "enabled", &enabled, err, errlen) < 0)
		goto fail;
	if (stored != NULL)
		id = cfg_str(stored, "id");
	if (!webhook_id_ok(id)) {
		snprintf(err, errlen, "id may hold only letters, digits and ._:-");
		goto fail;
	}
	if (!webhook_url_allowed(url, allowlist, reason, sizeof(reason))) {
		snprintf(err, errlen, "Invalid webhook URL: %s", reason);
		goto fail;
	}
	for (i = 0; method[i] != '\0'; i++)
		upper[i] = (char)toupper((unsigned char)method[i]);
	upper[i] = '\0';
	if (upper[0] == '\0')
		strcpy(upper, "POST");
	for (i = 0; i < ARRAY_LEN(methods) && strcmp(methods[i], upper) != 0; i++)
		;
	if (i == ARRAY_LEN(methods)) {
		snprintf(err, errlen, "method must be GET, POST, PUT or PATCH");
		goto fail;
	}
	jsonwrite_str(o, "id", id);
	jsonwrite_str(o, "name", name);
	jsonwrite_str(o, "url", url);
	jsonwrite_str(o, "method", upper);
	jsonwrite_bool(o, "enabled", enabled);
	jsonwrite_str(o, "service", service);
	if ((map = get_map(body, "headers", 1, stored, err, errlen)) == NULL)
		goto fail;
	json_object_object_add(o, "headers", map);
	if ((map = get_map(body, "customFields", 0, stored, err, errlen)) == NULL)
		goto fail;
	json_object_object_add(o, "customFields", map);
	jsonwrite_str(o, "template", tmpl);
	return o;
fail:
	json_object_put(o);
	return NULL;
}

/* A copy of map with every value NOTIFY_REDACTED, added to o as key when not empty. */
static void
add_redacted_map(struct json_object *o, const char *key, struct json_object *map)
{
	struct json_object *out;

	if (map == NULL || !json_object_is_type(map, json_type_object) ||
	    json_object_object_length(map) == 0)
		return;
	out = json_object_new_object();
	json_object_object_foreach(map, k, v) {
		(void)v;
		json_object_object_add(out, k, json_object_new_string(NOTIFY_REDACTED));
	}
	json_object_object_add(o, key, out);
}

struct json_object *
notify_webhook_public(struct json_object *cfg)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_str(o, "id", cfg_str(cfg, "id"));
	jsonwrite_str(o, "name", cfg_str(cfg, "name"));
	jsonwrite_str(o, "url", cfg_str(cfg, "url"));
	jsonwrite_str(o, "method", cfg_str(cfg, "method"));
	jsonwrite_bool(o, "enabled", cfg_bool(cfg, "enabled"));
	jsonwrite_str(o, "service", cfg_str(cfg, "service"));
	add_redacted_map(o, "headers", json_object_object_get(cfg, "headers"));
	add_redacted_map(o, "customFields", json_object_object_get(cfg, "customFields"));
	jsonwrite_opt_str(o, "template", cfg_str(cfg, "template"));
	return o;
}

char *
notify_redact_url(const char *url)
{
	static const char *const secret_params[] = {"token", "apikey", "api_key", "key",
	    "secret", "password"};
	struct strbuf sb = {0};
	const char *p = url, *path = strstr(url, "://"), *q = strchr(url, '?'), *bot;

	/* "/bot" of the path only: a host named bot.example stays. */
	path = path != NULL ? path + 3 + strcspn(path + 3, "/?#") : url;
	bot = strstr(path, "/bot");
	if (bot != NULL && (q == NULL || bot < q)) {
		sb_append(&sb, url, (size_t)(bot - url) + 4);
		sb_puts(&sb, "REDACTED");
		p = bot + 4 + strcspn(bot + 4, "/?#");
	}
	if (q == NULL) {
		sb_puts(&sb, p);
		return sb.data != NULL ? sb.data : xstrdup("");
	}
	sb_append(&sb, p, (size_t)(q - p));
	p = q;
	while (*p == '?' || *p == '&') {
		const char *name = p + 1, *eq, *end;
		size_t i, nlen;

		sb_append(&sb, p, 1);
		end = name + strcspn(name, "&#");
		eq = memchr(name, '=', (size_t)(end - name));
		nlen = (size_t)((eq != NULL ? eq : end) - name);
		for (i = 0; i < ARRAY_LEN(secret_params); i++)
			if (strlen(secret_params[i]) == nlen &&
			    strncasecmp(name, secret_params[i], nlen) == 0)
				break;
		if (eq != NULL && i < ARRAY_LEN(secret_params)) {
			sb_append(&sb, name, nlen + 1);
			sb_puts(&sb, "REDACTED");
		} else
			sb_append(&sb, name, (size_t)(end - name));
		p = end;
	}
	sb_puts(&sb, p);
	return sb.data;
}

/* --- storage -------------------------------------------------------------------------- */

static const struct db_stmt stmt_channel_read = {
	"notify_channel_read",
	"SELECT config FROM pulse.notification_channels WHERE kind = $1 AND id = $2", 2,
};
static const struct db_stmt stmt_channel_save = {
	"notify_channel_save",
	"INSERT INTO pulse.notification_channels (kind, id, enabled, name, service, config) "
	"VALUES ($1, $2, $3::boolean, $4, $5, $6) ON CONFLICT (kind, id) DO UPDATE SET "
	"enabled = EXCLUDED.enabled, name = EXCLUDED.name, service = EXCLUDED.service, "
	"config = EXCLUDED.config, updated_at = now()", 6,
};
static const struct db_stmt stmt_webhooks_read = {
	"notify_webhooks_read",
	"SELECT config FROM pulse.notification_channels WHERE kind = 'webhook' ORDER BY position",
	0,
};
static const struct db_stmt stmt_webhook_delete = {
	"notify_webhook_delete",
	"DELETE FROM pulse.notification_channels WHERE kind = 'webhook' AND id = $1", 1,
};
static const struct db_stmt stmt_webhook_count = {
	"notify_webhook_count",
	"SELECT count(*) FROM pulse.notification_channels WHERE kind = 'webhook'", 0,
};
static const struct db_stmt stmt_channels_enabled = {
	"notify_channels_enabled",
	"SELECT kind, id, name, config FROM pulse.notification_channels WHERE enabled "
	"ORDER BY kind = 'webhook', kind, position", 0,
};
static const struct db_stmt stmt_webhook_counts = {
	"notify_webhook_counts",
	"SELECT count(*), count(*) FILTER (WHERE enabled) FROM pulse.notification_channels "
	"WHERE kind = 'webhook'", 0,
};

/* Opens a sealed configuration; NULL (logged, without the value) when it cannot be. */
static struct json_object *
config_open(const char *kind, const char *id, const char *sealed)
{
	struct json_object *cfg = NULL;
	char *plain = NULL;
	size_t len = 0;

	if (secrets_open(SEAL_CONTEXT, sealed, &plain, &len) == 0) {
		cfg = json_tokener_parse(plain);
		secret_free_n(plain, len);
	}
	if (cfg == NULL || !json_object_is_type(cfg, json_type_object)) {
		log_warn("msg=\"stored notification channel unreadable\" kind=%s id=%s", kind, id);
		json_object_put(cfg);
		return NULL;
	}
	return cfg;
}

/* The stored configuration of (kind, id): 1 with *out, 0 when none (or unreadable), -1. */
static int
channel_read(struct db *db, const char *kind, const char *id, struct json_object **out)
{
	const char *params[2] = {kind, id};
	PGresult *res = db_exec_stmt(db, &stmt_channel_read, params);

	*out = NULL;
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1)
		*out = config_open(kind, id, PQgetvalue(res, 0, 0));
	PQclear(res);
	return *out != NULL;
}

static int
channel_save(struct db *db, const char *kind, const char *id, struct json_object *cfg)
{
	const char *text = json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN);
	char *sealed = secrets_seal(SEAL_CONTEXT, text, strlen(text));
	const char *params[6] = {kind, id, cfg_bool(cfg, "enabled") ? "true" : "false",
	    cfg_str(cfg, "name"), cfg_str(cfg, "service"), sealed};
	int rc = db_exec_stmt_ok(db, &stmt_channel_save, params);

	free(sealed);
	return rc;
}

static int
single_load(struct db *db, const char *kind, struct json_object *(*defaults)(void),
    struct json_object **out)
{
	int rc = channel_read(db, kind, "", out);

	if (rc < 0)
		return -1;
	if (rc == 0)
		*out = defaults();
	return 0;
}

int
notify_email_load(struct db *db, struct json_object **out)
{
	return single_load(db, "email", notify_email_defaults, out);
}

int
notify_apprise_load(struct db *db, struct json_object **out)
{
	return single_load(db, "apprise", notify_apprise_defaults, out);
}

/* Begins a writer's transaction: writers of channels one at a time. */
static int
writer_begin(struct db *db)
{
	if (db_begin(db) != 0)
		return -1;
	if (db_exec(db, "LOCK TABLE pulse.notification_channels IN SHARE ROW EXCLUSIVE MODE")
	    != 0) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

/* Commits, or rolls back and says so. */
static enum notify_result
writer_end(struct db *db, enum notify_result rc)
{
	if (rc == NOTIFY_OK && db_commit(db) == 0)
		return NOTIFY_OK;
	db_rollback(db);
	return rc == NOTIFY_OK ? NOTIFY_DB_ERROR : rc;
}

/* How an update reads a body over the stored configuration (NULL: none). */
typedef struct json_object *(*config_reader)(struct json_object *body, struct json_object *stored,
    const char *allowlist, char *err, size_t errlen);

static struct json_object *
email_reader(struct json_object *body, struct json_object *stored, const char *allowlist,
    char *err, size_t errlen)
{
	(void)allowlist;
	return notify_email_from_json(body, stored, err, errlen);
}

static struct json_object *
apprise_reader(struct json_object *body, struct json_object *stored, const char *allowlist,
    char *err, size_t errlen)
{
	(void)allowlist;
	return notify_apprise_from_json(body, stored, err, errlen);
}

/* Reads body over the stored configuration of (kind, id) and saves it, in one writer's
 * transaction. A webhook must exist (NOTIFY_NOT_FOUND); email and apprise start from none. */
static enum notify_result
channel_update(struct db *db, const char *kind, const char *id, config_reader read,
    struct json_object *body, const char *allowlist, struct json_object **out, char *err,
    size_t errlen)
{
	enum notify_result rc = NOTIFY_DB_ERROR;
	struct json_object *stored = NULL;
	int found;

	*out = NULL;
	if (writer_begin(db) != 0)
		return NOTIFY_DB_ERROR;
	if ((found = channel_read(db, kind, id, &stored)) < 0)
		goto done;
	if (found == 0 && id[0] != '\0') {
		rc = NOTIFY_NOT_FOUND;
		goto done;
	}
	*out = read(body, stored, allowlist, err, errlen);
	if (*out == NULL)
		rc = NOTIFY_BAD_INPUT;
	else if (channel_save(db, kind, id, *out) == 0)
		rc = NOTIFY_OK;
done:
	json_object_put(stored);
	rc = writer_end(db, rc);
	if (rc != NOTIFY_OK) {
		json_object_put(*out);
		*out = NULL;
	}
	return rc;
}

enum notify_result
notify_email_update(struct db *db, struct json_object *body, struct json_object **out, char *err,
    size_t errlen)
{
	return channel_update(db, "email", "", email_reader, body, NULL, out, err, errlen);
}

enum notify_result
notify_apprise_update(struct db *db, struct json_object *body, struct json_object **out,
    char *err, size_t errlen)
{
	return channel_update(db, "apprise", "", apprise_reader, body, NULL, out, err, errlen);
}

int
notify_webhooks_list(struct db *db, struct json_object **out)
{
	PGresult *res = db_exec_stmt(db, &stmt_webhooks_read, NULL);
	struct json_object *cfg;

	*out = NULL;
	if (res == NULL)
		return -1;
	*out = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++)
		if ((cfg = config_open("webhook", "?", PQgetvalue(res, i, 0))) != NULL)
			json_object_array_add(*out, cfg);
	PQclear(res);
	return 0;
}

enum notify_result
notify_webhook_get(struct db *db, const char *id, struct json_object **out)
{
	int rc = channel_read(db, "webhook", id, out);

	return rc < 0 ? NOTIFY_DB_ERROR : rc == 0 ? NOTIFY_NOT_FOUND : NOTIFY_OK;
}

enum notify_result
notify_webhook_create(struct db *db, struct json_object *body, const char *allowlist,
    struct json_object **out, char *err, size_t errlen)
{
	enum notify_result rc = NOTIFY_DB_ERROR;
	struct json_object *existing = NULL;
	PGresult *res;
	char uuid[37], id[48];
	int found;

	*out = notify_webhook_from_json(body, NULL, allowlist, err, errlen);
	if (*out == NULL)
		return NOTIFY_BAD_INPUT;
	if (cfg_str(*out, "id")[0] == '\0') {
		crypto_uuid4(uuid);
		snprintf(id, sizeof(id), "webhook-%s", uuid);
		jsonwrite_str(*out, "id", id);
	}
	if (writer_begin(db) != 0)
		goto fail;
	if ((res = db_exec_stmt(db, &stmt_webhook_count, NULL)) == NULL)
		goto done;
	found = db_value_int32(res, 0, 0);
	PQclear(res);
	if (found >= NOTIFY_MAX_WEBHOOKS) {
		snprintf(err, errlen, "at most %d webhooks can be configured", NOTIFY_MAX_WEBHOOKS);
		rc = NOTIFY_BAD_INPUT;
		goto done;
	}
	if ((found = channel_read(db, "webhook", cfg_str(*out, "id"), &existing)) < 0)
		goto done;
	json_object_put(existing);
	if (found > 0) {
		snprintf(err, errlen, "a webhook with id %s exists", cfg_str(*out, "id"));
		rc = NOTIFY_BAD_INPUT;
		goto done;
	}
	if (channel_save(db, "webhook", cfg_str(*out, "id"), *out) == 0)
		rc = NOTIFY_OK;
done:
	rc = writer_end(db, rc);
	if (rc == NOTIFY_OK)
		return rc;
fail:
	json_object_put(*out);
	*out = NULL;
	return rc;
}

enum notify_result
notify_webhook_update(struct db *db, const char *id, struct json_object *body,
    const char *allowlist, struct json_object **out, char *err, size_t errlen)
{
	if (id == NULL || id[0] == '\0')
		return NOTIFY_NOT_FOUND;
	return channel_update(db, "webhook", id, notify_webhook_from_json, body, allowlist, out,
	    err, errlen);
}

enum notify_result
notify_webhook_delete(struct db *db, const char *id)
{
	const char *params[1] = {id};
	PGresult *res = db_exec_stmt(db, &stmt_webhook_delete, params);
	int64_t n = 0;

	if (res == NULL)
		return NOTIFY_DB_ERROR;
	(void)parse_int64(PQcmdTuples(res), 0, INT64_MAX, &n);
	PQclear(res);
	return n > 0 ? NOTIFY_OK : NOTIFY_NOT_FOUND;
}

static const struct db_stmt stmt_channels_clear = {
	"notify_channels_clear", "DELETE FROM pulse.notification_channels", 0,
};

/* One channel of an import read and saved: NOTIFY_OK, or BAD_INPUT with what prefixed. */
static enum notify_result
replace_one(struct db *db, const char *kind, const char *id, struct json_object *cfg,
    const char *what, char *err, size_t errlen)
{
	char why[256];

	if (cfg == NULL) {
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", what, why);
		return NOTIFY_BAD_INPUT;
	}
	return channel_save(db, kind, id, cfg) == 0 ? NOTIFY_OK : NOTIFY_DB_ERROR;
}

enum notify_result
notify_channels_replace(struct db *db, struct json_object *email, struct json_object *apprise,
    struct json_object *webhooks, const char *allowlist, char *err, size_t errlen)
{
	struct json_object *empty = json_object_new_object(), *cfg, *ids = NULL;
	enum notify_result rc;
	char what[64], uuid[37], id[48];
	int n = webhooks ? (int)json_object_array_length(webhooks) : 0;

	err[0] = '\0';
	if (db_exec_stmt_ok(db, &stmt_channels_clear, NULL) != 0) {
		rc = NOTIFY_DB_ERROR;
		goto done;
	}
	cfg = notify_email_from_json(email ? email : empty, NULL, err, errlen);
	rc = replace_one(db, "email", "", cfg, "email", err, errlen);
	json_object_put(cfg);
	if (rc != NOTIFY_OK)
		goto done;
	cfg = notify_apprise_from_json(apprise ? apprise : empty, NULL, err, errlen);
	rc = replace_one(db, "apprise", "", cfg, "apprise", err, errlen);
	json_object_put(cfg);
	if (rc != NOTIFY_OK)
		goto done;
	if (n > NOTIFY_MAX_WEBHOOKS) {
		snprintf(err, errlen, "webhooks: at most %d webhooks can be configured",
		    NOTIFY_MAX_WEBHOOKS);
		rc = NOTIFY_BAD_INPUT;
		goto done;
	}
	ids = json_object_new_object();
	for (int i = 0; i < n; i++) {
		struct json_object *w = json_object_array_get_idx(webhooks, (size_t)i);

		snprintf(what, sizeof(what), "webhooks[%d]", i);
		if (!json_object_is_type(w, json_type_object)) {
			snprintf(err, errlen, "%s: must be an object", what);
			rc = NOTIFY_BAD_INPUT;
			goto done;
		}
		cfg = notify_webhook_from_json(w, NULL, allowlist, err, errlen);
		if (cfg != NULL && cfg_str(cfg, "id")[0] == '\0') {
			crypto_uuid4(uuid);
			snprintf(id, sizeof(id), "webhook-%s", uuid);
			jsonwrite_str(cfg, "id", id);
		}
		if (cfg != NULL && json_object_object_get_ex(ids, cfg_str(cfg, "id"), NULL)) {
			snprintf(err, errlen, "a webhook with id %s exists", cfg_str(cfg, "id"));
			json_object_put(cfg);
			cfg = NULL;
		}
		if (cfg != NULL)
			json_object_object_add(ids, cfg_str(cfg, "id"), NULL);
		rc = replace_one(db, "webhook", cfg ? cfg_str(cfg, "id") : "", cfg, what, err, errlen);
		json_object_put(cfg);
		if (rc != NOTIFY_OK)
			goto done;
	}
done:
	json_object_put(ids);
	json_object_put(empty);
	return rc;
}

int
notify_channels_enabled(struct db *db, struct json_object **out)
{
	PGresult *res = db_exec_stmt(db, &stmt_channels_enabled, NULL);

	*out = NULL;
	if (res == NULL)
		return -1;
	*out = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		const char *kind = PQgetvalue(res, i, 0), *id = PQgetvalue(res, i, 1);
		struct json_object *cfg = config_open(kind, id, PQgetvalue(res, i, 3)), *ch;

		if (cfg == NULL)
			continue;
		ch = json_object_new_object();
		jsonwrite_str(ch, "kind", kind);
		jsonwrite_str(ch, "id", id);
		jsonwrite_str(ch, "name", PQgetvalue(res, i, 2));
		json_object_object_add(ch, "config", cfg);
		json_object_array_add(*out, ch);
	}
	PQclear(res);
	return 0;
}

int
notify_channels_counts(struct db *db, int *email_enabled, int *email_configured,
    int *webhooks_total, int *webhooks_enabled)
{
	struct json_object *email;
	PGresult *res;

	if (notify_email_load(db, &email) != 0)
		return -1;
	*email_enabled = cfg_bool(email, "enabled");
	*email_configured = cfg_str(email, "server")[0] != '\0';
	json_object_put(email);
	if ((res = db_exec_stmt(db, &stmt_webhook_counts, NULL)) == NULL)
		return -1;
	*webhooks_total = db_value_int32(res, 0, 0);
	*webhooks_enabled = db_value_int32(res, 0, 1);
	PQclear(res);
	return 0;
}
