/* oidc.c: OIDC sign-in: configuration, logins in flight, the provider's documents and the
 * ID token's checks (security.md §7). */
#include "config.h"

#include "oidc.h"
#include "conf.h"
#include "crypto.h"
#include "http.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "jwt.h"
#include "log.h"
#include "urlguard.h"
#include "util.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SECRET_CONTEXT "oidc.client_secret"
#define NONCE_CONTEXT "oidc.nonce"
#define VERIFIER_CONTEXT "oidc.code_verifier"
#define FETCH_TIMEOUT_MS 15000
#define DOC_MAX (64 * 1024)		/* discovery document, token answer */
#define DISCOVERY_TTL 3600.0		/* seconds a discovery document is kept */
#define JWKS_REFRESH_MIN 10.0		/* seconds between two fetches of the keys for a new kid */
#define URL_MAX 2048

/* --- configuration ------------------------------------------------------------------- */

static const char *const list_fields[] = {"scopes", "allowedGroups", "allowedDomains",
    "allowedEmails", "adminGroups"};
static const char *const string_fields[] = {"issuerUrl", "clientId", "redirectUrl",
    "logoutUrl", "usernameClaim", "emailClaim", "groupsClaim", "caBundle", "tokenAuthMethod"};

/* s without its leading and trailing white space: a new string. */
static char *
trimmed(const char *s)
{
	static const char ws[] = " \t\r\n";
	size_t len;

	s += strspn(s, ws);
	len = strlen(s);
	while (len > 0 && strchr(ws, s[len - 1]))
		len--;
	return xstrndup(s, len);
}

/* Kept by a PUT that does not name them. */
static const char *const kept_fields[] = {"caBundle", "adminGroups", "tokenAuthMethod"};

/* The original's OIDC_* variables (and two for our own fields): each one set overrides its
 * field, and any of them locks the settings against PUT. */
enum env_kind { ENV_STRING, ENV_BOOL, ENV_LIST, ENV_SECRET };
static const struct {
	const char *name, *field;
	enum env_kind kind;
} env_vars[] = {
	{"OIDC_ENABLED", "enabled", ENV_BOOL},
	{"OIDC_ISSUER_URL", "issuerUrl", ENV_STRING},
	{"OIDC_CLIENT_ID", "clientId", ENV_STRING},
	{"OIDC_CLIENT_SECRET", "clientSecret", ENV_SECRET},
	{"OIDC_REDIRECT_URL", "redirectUrl", ENV_STRING},
	{"OIDC_LOGOUT_URL", "logoutUrl", ENV_STRING},
	{"OIDC_SCOPES", "scopes", ENV_LIST},
	{"OIDC_USERNAME_CLAIM", "usernameClaim", ENV_STRING},
	{"OIDC_EMAIL_CLAIM", "emailClaim", ENV_STRING},
	{"OIDC_GROUPS_CLAIM", "groupsClaim", ENV_STRING},
	{"OIDC_ALLOWED_GROUPS", "allowedGroups", ENV_LIST},
	{"OIDC_ALLOWED_DOMAINS", "allowedDomains", ENV_LIST},
	{"OIDC_ALLOWED_EMAILS", "allowedEmails", ENV_LIST},
	{"OIDC_CA_BUNDLE", "caBundle", ENV_STRING},
	{"OIDC_ADMIN_GROUPS", "adminGroups", ENV_LIST},
	{"OIDC_TOKEN_AUTH_METHOD", "tokenAuthMethod", ENV_STRING},
};

int
oidc_env_locked(void)
{
	for (size_t i = 0; i < ARRAY_LEN(env_vars); i++)
		if (getenv(env_vars[i].name) != NULL)
			return 1;
	return 0;
}

/* A list from the environment: entries separated by commas or white space. */
static struct json_object *
env_list(const char *s)
{
	struct json_object *a = json_object_new_array();

	while (*s) {
		size_t n = strcspn(s, ", \t\r\n");
		if (n > 0)
			json_object_array_add(a, json_object_new_string_len(s, (int)n));
		s += n;
		s += strspn(s, ", \t\r\n");
	}
	return a;
}

/* Applies the OIDC_* variables to cfg (before defaults); the names of the fields they set
 * go in a new "envOverrides" object (NULL when none), the secret in *secret. */
static struct json_object *
env_apply(struct json_object *cfg, char **secret)
{
	struct json_object *over = NULL;

	for (size_t i = 0; i < ARRAY_LEN(env_vars); i++) {
		const char *v = getenv(env_vars[i].name);
		if (v == NULL)
			continue;
		if (over == NULL)
			over = json_object_new_object();
		jsonwrite_bool(over, env_vars[i].field, 1);
		switch (env_vars[i].kind) {
		case ENV_BOOL:
			jsonwrite_bool(cfg, env_vars[i].field, strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
			break;
		case ENV_LIST:
			json_object_object_add(cfg, env_vars[i].field, env_list(v));
			break;
		case ENV_SECRET:
			if (secret) {
				secret_free(*secret);
				*secret = trimmed(v);
			}
			break;
		case ENV_STRING:
			jsonwrite_str(cfg, env_vars[i].field, v);
			break;
		}
	}
	return over;
}


/* A list trimmed, blanks dropped, duplicates (any case) dropped, order kept: a new array. */
static struct json_object *
normalise_list(struct json_object *in)
{
	struct json_object *out = json_object_new_array();
	int n = jsonread_array_len(in);

	for (int i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(in, (size_t)i);
		char *t;
		int dup = 0;

		if (!json_object_is_type(v, json_type_string))
			continue;
		t = trimmed(json_object_get_string(v));
		for (size_t j = 0; *t && j < json_object_array_length(out); j++)
			dup |= strcasecmp(json_object_get_string(json_object_array_get_idx(out, j)), t) == 0;
		if (*t && !dup)
			json_object_array_add(out, json_object_new_string(t));
		free(t);
	}
	return out;
}

static void
default_redirect(const char *public_url, char *buf, size_t len)
{
	size_t n = public_url ? strlen(public_url) : 0;

	while (n > 0 && public_url[n - 1] == '/')
		n--;
	if (n == 0)
		buf[0] = '\0';
	else
		snprintf(buf, len, "%.*s%s", (int)n, public_url, OIDC_CALLBACK_PATH);
}

/* The original's ApplyDefaults: a new object with every field, from in (may be NULL). */
static struct json_object *
normalise(struct json_object *in, const char *public_url)
{
	struct json_object *o = json_object_new_object(), *l;
	char redirect[URL_MAX];

	jsonwrite_bool(o, "enabled", jsonread_bool(in, "enabled", 0));
	for (size_t i = 0; i < ARRAY_LEN(string_fields); i++) {
		char *t = trimmed(jsonread_string(in, string_fields[i], ""));
		jsonwrite_str(o, string_fields[i], t);
		free(t);
	}
	if (!*jsonread_string(o, "usernameClaim", ""))
		jsonwrite_str(o, "usernameClaim", "preferred_username");
	if (!*jsonread_string(o, "emailClaim", ""))
		jsonwrite_str(o, "emailClaim", "email");
	if (!*jsonread_string(o, "tokenAuthMethod", ""))
		jsonwrite_str(o, "tokenAuthMethod", "client_secret_basic");
	if (!*jsonread_string(o, "redirectUrl", "")) {
		default_redirect(public_url, redirect, sizeof(redirect));
		jsonwrite_str(o, "redirectUrl", redirect);
	}
	for (size_t i = 0; i < ARRAY_LEN(list_fields); i++)
		json_object_object_add(o, list_fields[i],
		    normalise_list(jsonread_member(in, list_fields[i])));
	l = jsonread_member(o, "scopes");
	if (json_object_array_length(l) == 0) {
		json_object_array_add(l, json_object_new_string("openid"));
		json_object_array_add(l, json_object_new_string("profile"));
		json_object_array_add(l, json_object_new_string("email"));
	}
	return o;
}

/* Go's url.ParseRequestURI as the original uses it, narrowed to what we can fetch: an
 * absolute http(s) URL with a host. */
static int
url_ok(const char *u)
{
	const char *h;

	if (strncasecmp(u, "https://", 8) == 0)
		h = u + 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		h = u + 7;
	else
		return 0;
	if (*h == '\0' || *h == '/' || *h == '?' || *h == '#')
		return 0;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

static int
validate(struct json_object *c, char *err, size_t errlen)
{
	const char *issuer = jsonread_string(c, "issuerUrl", "");
	const char *redirect = jsonread_string(c, "redirectUrl", "");
	const char *method = jsonread_string(c, "tokenAuthMethod", "");
	const char *logout = jsonread_string(c, "logoutUrl", "");

	if (strcmp(method, "client_secret_basic") != 0 && strcmp(method, "client_secret_post") != 0) {
		snprintf(err, errlen, "tokenAuthMethod must be client_secret_basic or client_secret_post");
		return -1;
	}
	if (*logout && !url_ok(logout)) {
		snprintf(err, errlen, "invalid oidc logout url");
		return -1;
	}
	if (!jsonread_bool(c, "enabled", 0))
		return 0;
	if (*issuer == '\0') {
		snprintf(err, errlen, "oidc issuer url is required when OIDC is enabled");
		return -1;
	}
	if (!url_ok(issuer)) {
		snprintf(err, errlen, "invalid oidc issuer url: must be an absolute http(s) URL");
		return -1;
	}
	if (!*jsonread_string(c, "clientId", "")) {
		snprintf(err, errlen, "oidc client id is required when OIDC is enabled");
		return -1;
	}
	if (*redirect == '\0') {
		snprintf(err, errlen, "oidc redirect url is required when OIDC is enabled (set PUBLIC_URL "
		    "environment variable or provide redirect URL manually)");
		return -1;
	}
	if (!url_ok(redirect)) {
		snprintf(err, errlen, "invalid oidc redirect url: must be an absolute http(s) URL");
		return -1;
	}
	return 0;
}

static const struct db_stmt stmt_config_get = {
	"oidc_config_get",
	"SELECT config::text, client_secret FROM pulse.oidc_config",
	0,
};

/* The stored row: 1 with the parsed config (NULL if unreadable) and the sealed secret (a new
 * string or NULL), 0 when none, -1. */
static int
config_row(struct db *db, struct json_object **cfg, char **sealed)
{
	PGresult *res = db_exec_stmt(db, &stmt_config_get, NULL);
	char err[128];
	int found;

	*cfg = NULL;
	*sealed = NULL;
	if (res == NULL)
		return -1;
	found = PQntuples(res) == 1;
	if (found) {
		*cfg = jsonutil_parse(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), err,
		    sizeof(err));
		if (!PQgetisnull(res, 0, 1))
			*sealed = xstrdup(PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return found;
}

int
oidc_config_load(struct db *db, const char *public_url, struct json_object **cfg, char **secret,
    int *secret_set)
{
	struct json_object *stored, *over;
	char *sealed, *plain = NULL;
	size_t len;
	int found = config_row(db, &stored, &sealed);

	*cfg = NULL;
	if (secret)
		*secret = NULL;
	if (found < 0)
		return -1;
	if (sealed && secret) {
		if (secrets_open(SECRET_CONTEXT, sealed, &plain, &len) == 0)
			*secret = plain;
		else
			log_warn("oidc: the stored client secret cannot be opened (another key?)");
	}
	/* clientSecretSet is asked of the row, not of whether it opens. */
	if (secret_set)
		*secret_set = sealed != NULL || getenv("OIDC_CLIENT_SECRET") != NULL;
	if (stored == NULL)
		stored = json_object_new_object();
	over = env_apply(stored, secret);
	*cfg = normalise(stored, public_url);
	json_object_put(stored);
	if (over)
		json_object_object_add(*cfg, "envOverrides", over);
	free(sealed);
	return found;
}

int
oidc_enabled(struct json_object *cfg)
{
	return jsonread_bool(cfg, "enabled", 0);
}

struct json_object *
oidc_config_view(struct json_object *cfg, int secret_set, const char *public_url)
{
	struct json_object *o = json_object_new_object();
	char redirect[URL_MAX];
	static const char *const order[] = {"issuerUrl", "clientId", "redirectUrl", "logoutUrl"};
	static const char *const claims[] = {"usernameClaim", "emailClaim", "groupsClaim"};

	jsonwrite_bool(o, "enabled", oidc_enabled(cfg));
	for (size_t i = 0; i < ARRAY_LEN(order); i++)
		jsonwrite_str(o, order[i], jsonread_string(cfg, order[i], ""));
	json_object_object_add(o, "scopes", json_object_get(jsonread_member(cfg, "scopes")));
	for (size_t i = 0; i < ARRAY_LEN(claims); i++)
		jsonwrite_str(o, claims[i], jsonread_string(cfg, claims[i], ""));
	json_object_object_add(o, "allowedGroups", json_object_get(jsonread_member(cfg, "allowedGroups")));
	json_object_object_add(o, "allowedDomains", json_object_get(jsonread_member(cfg, "allowedDomains")));
	json_object_object_add(o, "allowedEmails", json_object_get(jsonread_member(cfg, "allowedEmails")));
	jsonwrite_str(o, "caBundle", jsonread_string(cfg, "caBundle", ""));
	jsonwrite_bool(o, "clientSecretSet", secret_set);
	default_redirect(public_url, redirect, sizeof(redirect));
	jsonwrite_str(o, "defaultRedirect", redirect);
	/* Ours: the admin groups and how the client authenticates at the token endpoint. */
	json_object_object_add(o, "adminGroups", json_object_get(jsonread_member(cfg, "adminGroups")));
	jsonwrite_str(o, "tokenAuthMethod", jsonread_string(cfg, "tokenAuthMethod", ""));
	if (jsonread_member(cfg, "envOverrides"))
		json_object_object_add(o, "envOverrides", json_object_get(jsonread_member(cfg, "envOverrides")));
	return o;
}

static const struct db_stmt stmt_config_put = {
	"oidc_config_put",
	"INSERT INTO pulse.oidc_config (id, config, client_secret) VALUES (true, $1::jsonb, $2) "
	"ON CONFLICT (id) DO UPDATE SET config = EXCLUDED.config, "
	"client_secret = EXCLUDED.client_secret, updated_at = now()",
	2,
};

/* Sessions of a provider no longer configured end: all OIDC sessions when disabled. */
static const struct db_stmt stmt_sessions_end = {
	"oidc_sessions_end",
	"DELETE FROM pulse.sessions WHERE oidc_issuer IS NOT NULL AND "
	"(NOT $1::boolean OR oidc_issuer <> $2)",
	2,
};

/* Whether a PUT body's members have the types the original decodes into (strings, string
 * arrays, booleans): a wrong type is the client's 400. */
static int
body_types_ok(struct json_object *body, char *err, size_t errlen)
{
	static const char *const bools[] = {"enabled", "clearClientSecret"};

	json_object_object_foreach(body, key, v) {
		int is_list = 0, is_string = strcmp(key, "clientSecret") == 0, is_bool = 0;
		for (size_t i = 0; i < ARRAY_LEN(list_fields); i++)
			is_list |= strcmp(key, list_fields[i]) == 0;
		for (size_t i = 0; i < ARRAY_LEN(string_fields); i++)
			is_string |= strcmp(key, string_fields[i]) == 0;
		for (size_t i = 0; i < ARRAY_LEN(bools); i++)
			is_bool |= strcmp(key, bools[i]) == 0;
		if (v == NULL)
			continue;
		if ((is_string && !json_object_is_type(v, json_type_string)) ||
		    (is_bool && !json_object_is_type(v, json_type_boolean)) ||
		    (is_list && !json_object_is_type(v, json_type_array))) {
			snprintf(err, errlen, "invalid type for %.40s", key);
			return -1;
		}
		for (int i = 0; is_list && i < jsonread_array_len(v); i++)
			if (!json_object_is_type(json_object_array_get_idx(v, (size_t)i), json_type_string)) {
				snprintf(err, errlen, "%.40s must be a list of strings", key);
				return -1;
			}
		if (is_string && json_object_get_string_len(v) > URL_MAX) {
			snprintf(err, errlen, "%.40s is too long", key);
			return -1;
		}
	}
	return 0;
}

int
oidc_config_update(struct db *db, struct json_object *body, const char *public_url,
    struct json_object **out, int *secret_set, char *err, size_t errlen)
{
	struct json_object *stored, *merged, *norm, *v;
	char *sealed = NULL;
	const char *params[2];
	int found, rc = -1;

	*out = NULL;
	if (body_types_ok(body, err, errlen) != 0)
		return 1;
	found = config_row(db, &stored, &sealed);
	if (found < 0)
		return -1;
	if (oidc_env_locked()) {
		if (stored)
			json_object_put(stored);
		free(sealed);
		snprintf(err, errlen, "OIDC settings are managed via environment variables and cannot be "
		    "changed at runtime");
		return 2;
	}
	/* As the original, a PUT replaces the settings (an absent field takes its default),
	 * but for the secret and the CA bundle, and for our own fields, which the original's
	 * client does not know and so never sends: absent, they are kept. */
	merged = json_object_new_object();
	for (size_t i = 0; i < ARRAY_LEN(kept_fields); i++) {
		v = jsonread_member(stored, kept_fields[i]);
		if (v && !jsonread_has(body, kept_fields[i]))
			json_object_object_add(merged, kept_fields[i], json_object_get(v));
	}
	if (stored)
		json_object_put(stored);
	json_object_object_foreach(body, key, val) {
		if (strcmp(key, "clientSecret") == 0 || strcmp(key, "clearClientSecret") == 0 ||
		    strcmp(key, "groupRoleMappings") == 0 || strcmp(key, "clientSecretSet") == 0 ||
		    strcmp(key, "defaultRedirect") == 0 || strcmp(key, "envOverrides") == 0)
			continue;
		json_object_object_add(merged, key, json_object_get(val));
	}
	norm = normalise(merged, public_url);
	json_object_put(merged);
	if (validate(norm, err, errlen) != 0) {
		json_object_put(norm);
		free(sealed);
		return 1;
	}
	if (jsonread_bool(body, "clearClientSecret", 0)) {
		free(sealed);
		sealed = NULL;
	}
	v = jsonread_member(body, "clientSecret");
	if (v && json_object_is_type(v, json_type_string)) {
		char *t = trimmed(json_object_get_string(v));
		if (*t) {
			free(sealed);
			sealed = secrets_seal(SECRET_CONTEXT, t, strlen(t));
		}
		secret_free(t);
	}
	params[0] = json_object_to_json_string_ext(norm, JSON_C_TO_STRING_PLAIN);
	params[1] = sealed;
	if (db_exec_stmt_ok(db, &stmt_config_put, params) == 0) {
		const char *p2[2] = {oidc_enabled(norm) ? "true" : "false",
		    jsonread_string(norm, "issuerUrl", "")};
		(void)db_exec_stmt_ok(db, &stmt_sessions_end, p2);
		*secret_set = sealed != NULL;
		*out = norm;
		rc = 0;
	} else {
		json_object_put(norm);
	}
	free(sealed);
	return rc;
}

/* --- the configuration bundle ------------------------------------------------------- */

static void
add_list_unless_empty(struct json_object *o, struct json_object *cfg, const char *key)
{
	struct json_object *l = jsonread_member(cfg, key);

	if (jsonread_array_len(l) > 0)
		json_object_object_add(o, key, json_object_get(l));
}

static void
add_string_unless_empty(struct json_object *o, struct json_object *cfg, const char *key)
{
	const char *v = jsonread_string(cfg, key, "");

	if (*v)
		jsonwrite_str(o, key, v);
}

int
oidc_config_export(struct db *db, struct json_object **out, char *err, size_t errlen)
{
	struct json_object *stored, *cfg, *o;
	char *sealed, *plain = NULL;
	size_t len = 0;
	int found = config_row(db, &stored, &sealed);

	*out = NULL;
	if (found <= 0) {
		if (found < 0)
			snprintf(err, errlen, "the OIDC settings could not be read");
		return found;
	}
	if (sealed && secrets_open(SECRET_CONTEXT, sealed, &plain, &len) != 0) {
		snprintf(err, errlen, "the OIDC client secret cannot be opened with this server's key");
		if (stored)
			json_object_put(stored);
		free(sealed);
		return -1;
	}
	free(sealed);
	/* As stored (no OIDC_* variable: they are this server's, not its settings), every field
	 * there; the redirect URL stays as saved ("" when it was the default then). */
	cfg = normalise(stored, "");
	if (stored)
		json_object_put(stored);
	/* The original's OIDCConfig, its omitempty fields left out when empty. */
	o = json_object_new_object();
	jsonwrite_bool(o, "enabled", oidc_enabled(cfg));
	jsonwrite_str(o, "issuerUrl", jsonread_string(cfg, "issuerUrl", ""));
	jsonwrite_str(o, "clientId", jsonread_string(cfg, "clientId", ""));
	if (plain != NULL && len > 0)
		json_object_object_add(o, "clientSecret", json_object_new_string_len(plain, (int)len));
	if (plain != NULL)
		secret_free_n(plain, len + 1);
	jsonwrite_str(o, "redirectUrl", jsonread_string(cfg, "redirectUrl", ""));
	add_string_unless_empty(o, cfg, "logoutUrl");
	add_list_unless_empty(o, cfg, "scopes");
	add_string_unless_empty(o, cfg, "usernameClaim");
	add_string_unless_empty(o, cfg, "emailClaim");
	add_string_unless_empty(o, cfg, "groupsClaim");
	add_list_unless_empty(o, cfg, "allowedGroups");
	add_list_unless_empty(o, cfg, "allowedDomains");
	add_list_unless_empty(o, cfg, "allowedEmails");
	add_string_unless_empty(o, cfg, "caBundle");
	/* Ours, always (the original's decoder skips them). */
	json_object_object_add(o, "adminGroups", json_object_get(jsonread_member(cfg, "adminGroups")));
	jsonwrite_str(o, "tokenAuthMethod", jsonread_string(cfg, "tokenAuthMethod", ""));
	json_object_put(cfg);
	*out = o;
	return 1;
}

/* The member of in named key in any case (Go's decoder: the exact name first). */
static struct json_object *
member_any_case(struct json_object *in, const char *key, int *present)
{
	struct json_object *v = NULL;

	*present = json_object_object_get_ex(in, key, &v);
	if (*present)
		return v;
	json_object_object_foreach(in, k, val) {
		if (strcasecmp(k, key) == 0) {
			*present = 1;
			return val;
		}
	}
	return NULL;
}

/* The bundle's oidc object with the member names this file uses (matched in any case), the
 * fields we do not keep left out; a wrong type is -1 (err set). */
static int
bundle_fields(struct json_object *in, struct json_object *out, char *err, size_t errlen)
{
	static const char *const others[] = {"enabled", "clientSecret"};
	struct json_object *v;
	int present;

	for (size_t i = 0; i < ARRAY_LEN(others) + ARRAY_LEN(string_fields) +
	    ARRAY_LEN(list_fields); i++) {
		const char *key = i < ARRAY_LEN(others) ? others[i] :
		    i < ARRAY_LEN(others) + ARRAY_LEN(string_fields) ?
		    string_fields[i - ARRAY_LEN(others)] :
		    list_fields[i - ARRAY_LEN(others) - ARRAY_LEN(string_fields)];

		v = member_any_case(in, key, &present);
		if (v != NULL)
			json_object_object_add(out, key, json_object_get(v));
	}
	/* groupRoleMappings (map of group to role) has no use here (no roles), but a wrong type
	 * is as wrong as in the original's decoder. */
	v = member_any_case(in, "groupRoleMappings", &present);
	if (v != NULL) {
		if (!json_object_is_type(v, json_type_object)) {
			snprintf(err, errlen, "groupRoleMappings must be an object");
			return -1;
		}
		json_object_object_foreach(v, k, role) {
			(void)k;
			if (role != NULL && !json_object_is_type(role, json_type_string)) {
				snprintf(err, errlen, "groupRoleMappings must map groups to strings");
				return -1;
			}
		}
	}
	return body_types_ok(out, err, errlen);
}

static const struct db_stmt stmt_config_delete = {
	"oidc_config_delete", "DELETE FROM pulse.oidc_config", 0,
};

int
oidc_config_import(struct db *db, struct json_object *in, const char *public_url, char *err,
    size_t errlen)
{
	struct json_object *fields, *norm, *v, *cfg;
	char *sealed = NULL;
	const char *params[2];
	int rc;

	if (in == NULL) {
		if (db_exec_stmt_ok(db, &stmt_config_delete, NULL) != 0)
			return -1;
		goto sessions;
	}
	if (!json_object_is_type(in, json_type_object)) {
		snprintf(err, errlen, "oidc must be an object");
		return 1;
	}
	fields = json_object_new_object();
	if (bundle_fields(in, fields, err, errlen) != 0) {
		json_object_put(fields);
		return 1;
	}
	norm = normalise(fields, public_url);
	if (validate(norm, err, errlen) != 0) {
		json_object_put(norm);
		json_object_put(fields);
		return 1;
	}
	v = jsonread_member(fields, "clientSecret");
	if (v != NULL) {
		char *t = trimmed(json_object_get_string(v));
		if (*t)
			sealed = secrets_seal(SECRET_CONTEXT, t, strlen(t));
		secret_free(t);
	}
	json_object_put(fields);
	params[0] = json_object_to_json_string_ext(norm, JSON_C_TO_STRING_PLAIN);
	params[1] = sealed;
	rc = db_exec_stmt_ok(db, &stmt_config_put, params);
	json_object_put(norm);
	free(sealed);
	if (rc != 0)
		return -1;
sessions:
	/* As a PUT: the sessions of a provider no longer in effect end (with OIDC_* variables,
	 * the one they make). */
	if (oidc_config_load(db, public_url, &cfg, NULL, NULL) < 0)
		return -1;
	params[0] = oidc_enabled(cfg) ? "true" : "false";
	params[1] = jsonread_string(cfg, "issuerUrl", "");
	rc = db_exec_stmt_ok(db, &stmt_sessions_end, params);
	json_object_put(cfg);
	return rc != 0 ? -1 : 0;
}

/* --- the provider's documents -------------------------------------------------------- */

/* What one process knows of the configured provider; guarded by cache_lock. JSON is kept as
 * text so that threads never share a json-c object. */
static struct {
	char issuer[URL_MAX];
	char ca_bundle[URL_MAX];
	double fetched;		/* monotonic; 0: nothing */
	char *authorization_endpoint, *token_endpoint, *jwks_uri;
	char *algs;		/* JSON text of id_token_signing_alg_values_supported, or NULL */
	char *jwks;		/* JSON text of the key set, or NULL */
	double jwks_fetched;
} cache;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static void
cache_reset(void)
{
	free(cache.authorization_endpoint);
	free(cache.token_endpoint);
	free(cache.jwks_uri);
	free(cache.algs);
	free(cache.jwks);
	memset(&cache, 0, sizeof(cache));
}

/* One request to the provider through the URL guard (private and loopback addresses only
 * when oidc_allowed_private_cidrs lists them), pinned to the address checked, TLS verified
 * (with the configured CA bundle when set), no redirect followed. form: a POST body, or
 * NULL for GET. basic_auth: an "Authorization: Basic" value or NULL. Returns the request
 * (caller frees) when an answer came, NULL with a reason in err. */
static struct http_request *
provider_request(const char *url, const char *ca_bundle, const char *form,
    const char *basic_auth, size_t max, char *err, size_t errlen)
{
	struct urlguard_target t;
	struct http_request *req;
	char reason[256], line[400];

	if (urlguard_check(url, conf_str("oidc_allowed_private_cidrs"), &t, reason,
	    sizeof(reason)) != 0) {
		snprintf(err, errlen, "provider URL refused: %s", reason);
		return NULL;
	}
	req = http_request_new(url);
	urlguard_resolve_line(&t, line, sizeof(line));
	if (line[0])
		req->resolve = xstrdup(line);
	if (ca_bundle && *ca_bundle)
		req->ca_file = xstrdup(ca_bundle);
	req->tls = HTTP_TLS_VERIFY;
	req->timeout_ms = FETCH_TIMEOUT_MS;
	req->connect_timeout_ms = 5000;
	req->max_response = max;
	http_request_add_header(req, "Accept: application/json");
	http_request_add_header(req, "User-Agent: Pulse-OIDC");
	if (form) {
		req->method = "POST";
		req->body = xstrdup(form);
		req->content_type = "application/x-www-form-urlencoded";
	}
	if (basic_auth)
		http_request_add_header(req, "Authorization: Basic %s", basic_auth);
	if (http_perform(req) != 0 || req->failure != HTTP_OK) {
		snprintf(err, errlen, "%s", req->failure == HTTP_FAIL_TOO_LARGE ?
		    "answer larger than allowed" : req->error);
		http_request_free(req);
		return NULL;
	}
	return req;
}

/* GETs a JSON object: a new reference, or NULL with a reason. */
static struct json_object *
fetch_json(const char *url, const char *ca_bundle, size_t max, char *err, size_t errlen)
{
	struct http_request *req = provider_request(url, ca_bundle, NULL, NULL, max, err, errlen);
	struct json_object *obj;
	char perr[128];

	if (req == NULL)
		return NULL;
	if (req->status != 200) {
		snprintf(err, errlen, "HTTP %ld from the provider", req->status);
		http_request_free(req);
		return NULL;
	}
	obj = jsonutil_parse(req->response.data ? req->response.data : "", req->response.len,
	    perr, sizeof(perr));
	http_request_free(req);
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		snprintf(err, errlen, "the provider's answer is not a JSON object");
		if (obj)
			json_object_put(obj);
		return NULL;
	}
	return obj;
}

static char *
dup_url(struct json_object *doc, const char *key)
{
	const char *v = jsonread_string(doc, key, "");

	return url_ok(v) && strlen(v) < URL_MAX ? xstrdup(v) : NULL;
}

/* Fetches the key set into the cache (lock held). */
static int
cache_fetch_jwks(char *err, size_t errlen)
{
	struct json_object *jwks = fetch_json(cache.jwks_uri, cache.ca_bundle, OIDC_JWKS_MAX, err,
	    errlen);

	cache.jwks_fetched = clock_monotonic();
	if (jwks == NULL)
		return -1;
	if (!jsonread_is_array(jsonread_member(jwks, "keys"))) {
		snprintf(err, errlen, "the key set has no keys array");
		json_object_put(jwks);
		return -1;
	}
	free(cache.jwks);
	cache.jwks = xstrdup(json_object_to_json_string_ext(jwks, JSON_C_TO_STRING_PLAIN));
	json_object_put(jwks);
	return 0;
}

/* Makes sure the cache holds the discovery document of issuer (lock held). */
static int
cache_discover(const char *issuer, const char *ca_bundle, char *err, size_t errlen)
{
	struct json_object *doc, *algs;
	char url[URL_MAX + 64];
	size_t n = strlen(issuer);

	if (cache.fetched > 0 && strcmp(cache.issuer, issuer) == 0 &&
	    strcmp(cache.ca_bundle, ca_bundle) == 0 &&
	    clock_monotonic() - cache.fetched < DISCOVERY_TTL)
		return 0;
	cache_reset();
	while (n > 0 && issuer[n - 1] == '/')
		n--;
	snprintf(url, sizeof(url), "%.*s/.well-known/openid-configuration", (int)n, issuer);
	doc = fetch_json(url, ca_bundle, DOC_MAX, err, errlen);
	if (doc == NULL)
		return -1;
	/* OpenID Connect Discovery §4.3: the document must name the issuer asked for. */
	if (strcmp(jsonread_string(doc, "issuer", ""), issuer) != 0) {
		snprintf(err, errlen, "the discovery document names another issuer");
		json_object_put(doc);
		return -1;
	}
	cache.authorization_endpoint = dup_url(doc, "authorization_endpoint");
	cache.token_endpoint = dup_url(doc, "token_endpoint");
	cache.jwks_uri = dup_url(doc, "jwks_uri");
	algs = jsonread_member(doc, "id_token_signing_alg_values_supported");
	if (jsonread_is_array(algs))
		cache.algs = xstrdup(json_object_to_json_string_ext(algs, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
	if (!cache.authorization_endpoint || !cache.token_endpoint || !cache.jwks_uri) {
		snprintf(err, errlen, "the discovery document lacks an endpoint");
		cache_reset();
		return -1;
	}
	snprintf(cache.issuer, sizeof(cache.issuer), "%s", issuer);
	snprintf(cache.ca_bundle, sizeof(cache.ca_bundle), "%s", ca_bundle);
	cache.fetched = clock_monotonic();
	return 0;
}

/* The provider's endpoints (new strings, any pointer may be NULL) after discovery. */
struct provider {
	char *authorization_endpoint, *token_endpoint, *algs;
};

static void
provider_free(struct provider *p)
{
	free(p->authorization_endpoint);
	free(p->token_endpoint);
	free(p->algs);
}

static int
discover(struct json_object *cfg, struct provider *p, char *err, size_t errlen)
{
	int rc;

	memset(p, 0, sizeof(*p));
	pthread_mutex_lock(&cache_lock);
	rc = cache_discover(jsonread_string(cfg, "issuerUrl", ""), jsonread_string(cfg, "caBundle", ""),
	    err, errlen);
	if (rc == 0) {
		p->authorization_endpoint = xstrdup(cache.authorization_endpoint);
		p->token_endpoint = xstrdup(cache.token_endpoint);
		p->algs = cache.algs ? xstrdup(cache.algs) : NULL;
	}
	pthread_mutex_unlock(&cache_lock);
	return rc;
}

/* The key set as a new JSON object; fetched when not cached, or again when refresh is set
 * (a kid we do not know) and the last fetch is old enough. NULL with a reason. */
static struct json_object *
jwks_get(int refresh, char *err, size_t errlen)
{
	struct json_object *jwks = NULL;
	char perr[128];

	pthread_mutex_lock(&cache_lock);
	if (cache.jwks_uri == NULL) {
		snprintf(err, errlen, "provider not discovered");
	} else if (cache.jwks == NULL ||
	    (refresh && clock_monotonic() - cache.jwks_fetched >= JWKS_REFRESH_MIN)) {
		if (cache_fetch_jwks(err, errlen) != 0 && cache.jwks == NULL)
			goto out;
	}
	if (cache.jwks)
		jwks = jsonutil_parse(cache.jwks, strlen(cache.jwks), perr, sizeof(perr));
out:
	pthread_mutex_unlock(&cache_lock);
	return jwks;
}

/* --- login ----------------------------------------------------------------------------- */

static char *
random_b64url(void)
{
	unsigned char raw[32];

	crypto_random(raw, sizeof(raw));
	return base64_encode(raw, sizeof(raw), 1, 0);
}

static const struct db_stmt stmt_states_purge = {
	"oidc_states_purge",
	"DELETE FROM pulse.oidc_states WHERE expires_at < now()",
	0,
};

static const struct db_stmt stmt_state_insert = {
	"oidc_state_insert",
	"INSERT INTO pulse.oidc_states (state_hash, nonce, code_verifier, return_to, redirect_uri, "
	"expires_at, browser_hash) VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::int), "
	"$7)",
	7,
};

/* Appends name=escaped(value) to a query or form. */
static void
add_param(struct strbuf *sb, const char *name, const char *value)
{
	char *e = http_escape(value);

	sb_printf(sb, "%s%s=%s", sb->len && sb->data[sb->len - 1] != '?' ? "&" : "", name, e);
	free(e);
}

int
oidc_login_start(struct db *db, struct json_object *cfg, const char *redirect_uri,
    const char *return_to, const char *browser, char **auth_url, char *err, size_t errlen)
{
	struct provider p;
	char *state, *nonce, *verifier, *challenge, *sealed_nonce, *sealed_verifier;
	char state_hash[65], browser_hash[65], ttl[16];
	unsigned char digest[32];
	struct json_object *scopes = jsonread_member(cfg, "scopes");
	struct strbuf url = {0}, scope = {0};
	const char *params[7];
	int rc = -1;

	*auth_url = NULL;
	crypto_sha256_hex(browser, strlen(browser), browser_hash);
	if (discover(cfg, &p, err, errlen) != 0)
		return -1;
	state = random_b64url();
	nonce = random_b64url();
	verifier = random_b64url();
	EVP_Digest(verifier, strlen(verifier), digest, NULL, EVP_sha256(), NULL);
	challenge = base64_encode(digest, sizeof(digest), 1, 0);
	crypto_sha256_hex(state, strlen(state), state_hash);
	sealed_nonce = secrets_seal(NONCE_CONTEXT, nonce, strlen(nonce));
	sealed_verifier = secrets_seal(VERIFIER_CONTEXT, verifier, strlen(verifier));
	snprintf(ttl, sizeof(ttl), "%d", OIDC_STATE_SECONDS);
	params[0] = state_hash;
	params[1] = sealed_nonce;
	params[2] = sealed_verifier;
	params[3] = return_to ? return_to : "";
	params[4] = redirect_uri;
	params[5] = ttl;
	params[6] = browser_hash;
	(void)db_exec_stmt_ok(db, &stmt_states_purge, NULL);
	if (db_exec_stmt_ok(db, &stmt_state_insert, params) != 0) {
		snprintf(err, errlen, "database unavailable");
		goto done;
	}
	for (int i = 0; i < jsonread_array_len(scopes); i++)
		sb_printf(&scope, "%s%s", i ? " " : "",
		    json_object_get_string(json_object_array_get_idx(scopes, (size_t)i)));
	sb_puts(&url, p.authorization_endpoint);
	sb_puts(&url, strchr(p.authorization_endpoint, '?') ? "&" : "?");
	add_param(&url, "client_id", jsonread_string(cfg, "clientId", ""));
	add_param(&url, "redirect_uri", redirect_uri);
	add_param(&url, "response_type", "code");
	add_param(&url, "scope", scope.data ? scope.data : "openid");
	add_param(&url, "state", state);
	add_param(&url, "nonce", nonce);
	add_param(&url, "code_challenge", challenge);
	add_param(&url, "code_challenge_method", "S256");
	*auth_url = url.data;
	url.data = NULL;
	rc = 0;
done:
	provider_free(&p);
	sb_free(&url);
	sb_free(&scope);
	secret_free(state);
	secret_free(nonce);
	secret_free(verifier);
	free(challenge);
	free(sealed_nonce);
	free(sealed_verifier);
	return rc;
}

/* --- callback ---------------------------------------------------------------------------- */

static int
fail(struct oidc_result *res, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct oidc_result *res, const char *code, const char *fmt, ...)
{
	va_list ap;

	res->code = code;
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
	return -1;
}

static const struct db_stmt stmt_state_take = {
	"oidc_state_take",
	"DELETE FROM pulse.oidc_states WHERE state_hash = $1 "
	"RETURNING nonce, code_verifier, return_to, redirect_uri, expires_at > now(), browser_hash",
	1,
};

struct pending {
	char *nonce, *verifier;
	char redirect_uri[URL_MAX];
};

/* Consumes the state: 1 found and fresh (p filled), 0 unknown or expired, 2 issued to
 * another browser, -1. */
static int
state_take(struct db *db, const char *state, const char *browser, struct pending *p,
    struct oidc_result *res)
{
	char hash[65], bhash[65];
	const char *params[1] = {hash};
	PGresult *q;
	size_t len;
	int ok;

	crypto_sha256_hex(state, strlen(state), hash);
	q = db_exec_stmt(db, &stmt_state_take, params);
	if (q == NULL)
		return -1;
	if (PQntuples(q) != 1) {
		PQclear(q);
		return 0;
	}
	snprintf(res->return_to, sizeof(res->return_to), "%s", PQgetvalue(q, 0, 2));
	snprintf(p->redirect_uri, sizeof(p->redirect_uri), "%s", PQgetvalue(q, 0, 3));
	crypto_sha256_hex(browser ? browser : "", browser ? strlen(browser) : 0, bhash);
	if (!ct_equal(PQgetvalue(q, 0, 5), strlen(PQgetvalue(q, 0, 5)), bhash, 64)) {
		PQclear(q);
		return 2;
	}
	ok = strcmp(PQgetvalue(q, 0, 4), "t") == 0 &&
	    secrets_open(NONCE_CONTEXT, PQgetvalue(q, 0, 0), &p->nonce, &len) == 0 &&
	    secrets_open(VERIFIER_CONTEXT, PQgetvalue(q, 0, 1), &p->verifier, &len) == 0;
	PQclear(q);
	return ok;
}

/* Exchanges the code for tokens; the ID token (a new string) or NULL after fail(). */
static char *
exchange(struct json_object *cfg, const char *secret, const struct provider *prov,
    const char *code, const struct pending *p, struct oidc_result *res)
{
	const char *client_id = jsonread_string(cfg, "clientId", "");
	int post = strcmp(jsonread_string(cfg, "tokenAuthMethod", ""), "client_secret_post") == 0;
	struct strbuf form = {0};
	char *basic = NULL, err[256], perr[128];
	struct http_request *req;
	struct json_object *answer = NULL;
	char *id_token = NULL;

	add_param(&form, "grant_type", "authorization_code");
	add_param(&form, "code", code);
	add_param(&form, "redirect_uri", p->redirect_uri);
	add_param(&form, "code_verifier", p->verifier);
	if (secret && *secret && !post) {
		/* RFC 6749 §2.3.1: both parts form-encoded before base64. */
		char *u = http_escape(client_id), *s = http_escape(secret);
		char *pair = xasprintf("%s:%s", u, s);
		basic = base64_encode((const unsigned char *)pair, strlen(pair), 0, 1);
		free(u);
		secret_free(s);
		secret_free(pair);
	} else {
		add_param(&form, "client_id", client_id);
		if (secret && *secret)
			add_param(&form, "client_secret", secret);
	}
	req = provider_request(prov->token_endpoint, jsonread_string(cfg, "caBundle", ""), form.data,
	    basic, DOC_MAX, err, sizeof(err));
	if (form.data)
		explicit_bzero(form.data, form.len);
	sb_free(&form);
	secret_free(basic);
	if (req == NULL) {
		fail(res, "exchange_failed", "Code exchange failed: %s", err);
		return NULL;
	}
	answer = jsonutil_parse(req->response.data ? req->response.data : "", req->response.len,
	    perr, sizeof(perr));
	if (req->status != 200) {
		fail(res, "exchange_failed", "Code exchange failed: HTTP %ld %.80s", req->status,
		    answer ? jsonread_string(answer, "error", "") : "");
	} else if (answer == NULL || !jsonread_is_object(answer)) {
		fail(res, "exchange_failed", "Code exchange failed: the answer is not JSON");
	} else if (!*jsonread_string(answer, "id_token", "")) {
		fail(res, "missing_id_token", "Missing ID token");
	} else {
		id_token = xstrdup(jsonread_string(answer, "id_token", ""));
	}
	if (answer)
		json_object_put(answer);
	http_request_free(req);
	return id_token;
}

/* Whether alg is among the provider's advertised ID token algorithms (RS256 when it
 * advertises none) and one we verify. */
static int
alg_allowed(const char *alg, const char *algs_json)
{
	struct json_object *algs;
	char perr[64];
	int ok = 0;

	if (!jwt_alg_supported(alg))
		return 0;
	if (algs_json == NULL)
		return strcmp(alg, "RS256") == 0;
	algs = jsonutil_parse(algs_json, strlen(algs_json), perr, sizeof(perr));
	for (int i = 0; i < jsonread_array_len(algs); i++)
		ok |= strcmp(json_object_get_string(json_object_array_get_idx(algs, (size_t)i)), alg) == 0;
	if (algs)
		json_object_put(algs);
	return ok;
}

/* A numeric date claim: 1 with *out, 0 absent, -1 not a number. */
static int
num_claim(struct json_object *claims, const char *key, double *out)
{
	struct json_object *v = jsonread_member(claims, key);

	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return -1;
	*out = json_object_get_double(v);
	return 1;
}

/* Verifies the ID token; the claims (a new reference) or NULL after fail(). */
static struct json_object *
verify_id_token(struct json_object *cfg, const struct provider *prov, const char *id_token,
    const struct pending *p, struct oidc_result *res)
{
	const char *client_id = jsonread_string(cfg, "clientId", "");
	const char *issuer = jsonread_string(cfg, "issuerUrl", "");
	struct jwt t;
	struct json_object *jwks, *aud, *claims = NULL;
	char err[200];
	double now = clock_wall(), exp, iat, nbf;
	int rc, aud_ok = 0, naud = 0;
	const char *nonce, *azp;

	if (jwt_parse(id_token, &t, err, sizeof(err)) != 0) {
		fail(res, "invalid_id_token", "ID token verification failed: %s", err);
		return NULL;
	}
	if (!alg_allowed(t.alg, prov->algs)) {
		fail(res, "invalid_id_token", "ID token verification failed: signing algorithm %.20s "
		    "not accepted", t.alg);
		goto done;
	}
	jwks = jwks_get(0, err, sizeof(err));
	rc = jwks ? jwt_verify(&t, jwks, err, sizeof(err)) : -1;
	if (rc == 1) {
		/* An unknown kid: the provider may have rotated its keys. */
		json_object_put(jwks);
		jwks = jwks_get(1, err, sizeof(err));
		rc = jwks ? jwt_verify(&t, jwks, err, sizeof(err)) : -1;
	}
	if (jwks)
		json_object_put(jwks);
	if (rc != 0) {
		fail(res, "invalid_id_token", "ID token verification failed: %s", err);
		goto done;
	}
	if (strcmp(jsonread_string(t.payload, "iss", ""), issuer) != 0) {
		fail(res, "invalid_id_token", "ID token verification failed: issuer does not match");
		goto done;
	}
	aud = jsonread_member(t.payload, "aud");
	if (aud && json_object_is_type(aud, json_type_string)) {
		aud_ok = strcmp(json_object_get_string(aud), client_id) == 0;
		naud = 1;
	} else if (jsonread_is_array(aud)) {
		naud = jsonread_array_len(aud);
		for (int i = 0; i < naud; i++) {
			struct json_object *a = json_object_array_get_idx(aud, (size_t)i);
			aud_ok |= json_object_is_type(a, json_type_string) &&
			    strcmp(json_object_get_string(a), client_id) == 0;
		}
	}
	azp = jsonread_string(t.payload, "azp", NULL);
	if (!aud_ok || (azp && strcmp(azp, client_id) != 0) || (naud > 1 && azp == NULL)) {
		fail(res, "invalid_id_token", "ID token verification failed: audience does not match");
		goto done;
	}
	rc = num_claim(t.payload, "exp", &exp);
	if (rc != 1) {
		fail(res, "invalid_id_token", "ID token verification failed: %s",
		    rc == 0 ? "no exp claim" : "exp is not a number");
		goto done;
	}
	if (exp <= now - OIDC_CLOCK_SKEW) {
		fail(res, "invalid_id_token", "ID token verification failed: token is expired");
		goto done;
	}
	if (num_claim(t.payload, "iat", &iat) < 0 || (num_claim(t.payload, "iat", &iat) == 1 &&
	    iat > now + OIDC_CLOCK_SKEW)) {
		fail(res, "invalid_id_token", "ID token verification failed: issued in the future");
		goto done;
	}
	if (num_claim(t.payload, "nbf", &nbf) < 0 || (num_claim(t.payload, "nbf", &nbf) == 1 &&
	    nbf > now + OIDC_CLOCK_SKEW)) {
		fail(res, "invalid_id_token", "ID token verification failed: token not valid yet");
		goto done;
	}
	/* The original sends a nonce and never checks it (§14 quirk 7): we do. */
	nonce = jsonread_string(t.payload, "nonce", "");
	if (!ct_equal(p->nonce, strlen(p->nonce), nonce, strlen(nonce))) {
		fail(res, "invalid_id_token", "ID token verification failed: nonce does not match");
		goto done;
	}
	claims = json_object_get(t.payload);
done:
	jwt_free(&t);
	return claims;
}

/* A claim as text: a string trimmed, or an array's first string; into buf. */
static void
claim_text(struct json_object *claims, const char *name, char *buf, size_t len)
{
	struct json_object *v = *name ? jsonread_member(claims, name) : NULL;

	buf[0] = '\0';
	if (jsonread_is_array(v) && jsonread_array_len(v) > 0)
		v = json_object_array_get_idx(v, 0);
	if (v && json_object_is_type(v, json_type_string))
		jsonread_copy_trimmed(buf, len, json_object_get_string(v));
}

/* Whether the groups claim (an array of strings, or a string of groups separated by commas
 * or spaces) holds one of list's entries (case-insensitive, trimmed). */
static int
groups_match(struct json_object *claims, const char *claim, struct json_object *list)
{
	struct json_object *g = *claim ? jsonread_member(claims, claim) : NULL;
	char one[256];
	int n = jsonread_array_len(list);

	for (int i = 0; i < n; i++) {
		const char *want = json_object_get_string(json_object_array_get_idx(list, (size_t)i));
		if (jsonread_is_array(g)) {
			for (int j = 0; j < jsonread_array_len(g); j++) {
				struct json_object *e = json_object_array_get_idx(g, (size_t)j);
				if (!json_object_is_type(e, json_type_string))
					continue;
				jsonread_copy_trimmed(one, sizeof(one), json_object_get_string(e));
				if (strcasecmp(one, want) == 0)
					return 1;
			}
		} else if (g && json_object_is_type(g, json_type_string)) {
			const char *s = json_object_get_string(g);
			while (*s) {
				size_t k = strcspn(s, ", \t");
				if (k > 0 && k == strlen(want) && strncasecmp(s, want, k) == 0)
					return 1;
				s += k;
				s += strspn(s, ", \t");
			}
		}
	}
	return 0;
}

static int
list_has(struct json_object *list, const char *value)
{
	for (int i = 0; i < jsonread_array_len(list); i++) {
		char *e = trimmed(json_object_get_string(json_object_array_get_idx(list, (size_t)i)));
		const char *p = e;
		size_t n;
		int hit;

		/* Domains may be written "@example.com". */
		while (*p == '@')
			p++;
		n = strlen(p);
		while (n > 0 && p[n - 1] == '@')
			n--;
		hit = strlen(value) == n && strncasecmp(p, value, n) == 0;
		free(e);
		if (hit)
			return 1;
	}
	return 0;
}

/* Identity and allow-lists from the claims (§7.3 steps 8-9); 0 or -1 after fail(). */
static int
apply_claims(struct json_object *cfg, struct json_object *claims, struct oidc_result *res)
{
	struct json_object *emails = jsonread_member(cfg, "allowedEmails");
	struct json_object *domains = jsonread_member(cfg, "allowedDomains");
	struct json_object *groups = jsonread_member(cfg, "allowedGroups");
	struct json_object *admins = jsonread_member(cfg, "adminGroups");
	const char *groups_claim = jsonread_string(cfg, "groupsClaim", "");
	const char *at;
	int bad = 0;

	claim_text(claims, jsonread_string(cfg, "emailClaim", "email"), res->email, sizeof(res->email));
	claim_text(claims, jsonread_string(cfg, "usernameClaim", ""), res->username,
	    sizeof(res->username));
	if (!res->username[0])
		jsonread_copy(res->username, sizeof(res->username), res->email);
	if (!res->username[0])
		claim_text(claims, "name", res->username, sizeof(res->username));
	if (!res->username[0])
		claim_text(claims, "sub", res->username, sizeof(res->username));
	/* The name goes into headers (X-Authenticated-User): no control character. */
	for (const char *c = res->username; *c; c++)
		bad |= (unsigned char)*c < 0x20 || *c == 0x7f;
	if (bad || !res->username[0])
		return fail(res, "invalid_claims", "Invalid token claims");
	if (jsonread_array_len(emails) > 0 && !list_has(emails, res->email))
		return fail(res, "email_restricted", "Email not permitted");
	if (jsonread_array_len(domains) > 0) {
		at = strrchr(res->email, '@');
		if (at == NULL || !list_has(domains, at + 1))
			return fail(res, "domain_restricted", "Email domain restricted");
	}
	if (jsonread_array_len(groups) > 0 && !groups_match(claims, groups_claim, groups))
		return fail(res, "group_restricted", "Group restriction failed");
	/* As the original, every OIDC user is an admin unless admin groups are configured. */
	res->admin = jsonread_array_len(admins) == 0 || groups_match(claims, groups_claim, admins);
	return 0;
}

int
oidc_callback(struct db *db, struct json_object *cfg, const char *secret, const char *state,
    const char *code, const char *idp_error, const char *browser, struct oidc_result *res)
{
	struct pending p = {0};
	struct provider prov = {0};
	struct json_object *claims = NULL;
	char *id_token = NULL, err[256];
	int rc = -1, found;

	memset(res, 0, sizeof(*res));
	if (state && *state) {
		found = state_take(db, state, browser, &p, res);
		if (found < 0) {
			fail(res, "session_failed", "Database unavailable");
			goto done;
		}
	} else {
		found = 0;
	}
	if (idp_error && *idp_error) {
		fail(res, idp_error, "Provider error: %.200s", idp_error);
		goto done;
	}
	if (state == NULL || *state == '\0') {
		fail(res, "missing_state", "Missing state parameter");
		goto done;
	}
	if (found == 2) {
		/* Login CSRF: a callback link made by someone else, followed by this browser. */
		fail(res, "invalid_state", "Invalid or expired state (started by another browser)");
		goto done;
	}
	if (!found) {
		fail(res, "invalid_state", "Invalid or expired state");
		goto done;
	}
	if (code == NULL || *code == '\0') {
		fail(res, "missing_code", "Missing authorization code");
		goto done;
	}
	if (discover(cfg, &prov, err, sizeof(err)) != 0) {
		fail(res, "exchange_failed", "Code exchange failed: %s", err);
		goto done;
	}
	id_token = exchange(cfg, secret, &prov, code, &p, res);
	if (id_token == NULL)
		goto done;
	claims = verify_id_token(cfg, &prov, id_token, &p, res);
	if (claims == NULL)
		goto done;
	snprintf(res->issuer, sizeof(res->issuer), "%s", jsonread_string(cfg, "issuerUrl", ""));
	rc = apply_claims(cfg, claims, res);
	if (rc == 0)
		snprintf(res->detail, sizeof(res->detail), "OIDC login success");
done:
	if (claims)
		json_object_put(claims);
	provider_free(&prov);
	secret_free(id_token);
	secret_free(p.nonce);
	secret_free(p.verifier);
	return rc;
}
