/* api_security.c: the /api/security endpoints: status, API tokens, first-run setup,
 * password change, lockout reset and recovery (security.md §2.3, §2.8-§2.9, §5). */
#include "config.h"

#include "audit.h"
#include "auth.h"
#include "conf.h"
#include "crypto.h"
#include "handlers.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "netaddr.h"
#include "ratelimit.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOKEN_NAME_MAX 128
#define PASSWORD_MIN 12
#define PASSWORD_MAX 72		/* bcrypt's limit, in bytes */
#define SETUP_TOKEN_MIN 24

static void
answer_success(struct request *r, int status, const char *message)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "success", json_object_new_boolean(1));
	json_object_object_add(obj, "message", json_object_new_string(message));
	resp_json(r, status, obj);
	json_object_put(obj);
}

/* Whether s is a canonical UUID (the only form of token id we hand out). */
static int
is_uuid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(s) != sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/* --- API tokens --------------------------------------------------------------------- */

static const struct db_stmt stmt_tokens_list = {
	"tokens_list",
	"SELECT id, name, prefix, suffix, to_char(created_at AT TIME ZONE 'UTC', "
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), coalesce(to_char(last_used_at AT TIME ZONE 'UTC', "
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), array_to_string(scopes, ',') "
	"FROM pulse.api_tokens ORDER BY created_at DESC, id",
	0,
};

static const struct db_stmt stmt_token_insert = {
	"tokens_insert",
	"INSERT INTO pulse.api_tokens (id, name, hash, prefix, suffix, scopes) "
	"VALUES ($1, $2, $3, $4, $5, string_to_array($6, ',')) "
	"RETURNING to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
	6,
};

static const struct db_stmt stmt_token_delete = {
	"tokens_delete",
	"DELETE FROM pulse.api_tokens WHERE id = $1 RETURNING name",
	1,
};

static struct json_object *
token_record(const char *id, const char *name, const char *prefix, const char *suffix,
    const char *created, const char *last_used, struct json_object *scopes)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "name", json_object_new_string(name));
	if (*prefix)
		json_object_object_add(o, "prefix", json_object_new_string(prefix));
	if (*suffix)
		json_object_object_add(o, "suffix", json_object_new_string(suffix));
	json_object_object_add(o, "createdAt", json_object_new_string(created));
	if (last_used && *last_used)
		json_object_object_add(o, "lastUsedAt", json_object_new_string(last_used));
	json_object_object_add(o, "scopes", scopes);
	return o;
}

/* A comma list of the scope names in mask, for storage. */
static char *
scopes_csv(struct request *r, unsigned mask)
{
	struct json_object *a = scopes_to_json(mask);
	struct strbuf sb = {0};
	char *out;

	for (size_t i = 0; i < json_object_array_length(a); i++) {
		if (i)
			sb_puts(&sb, ",");
		sb_puts(&sb, json_object_get_string(json_object_array_get_idx(a, i)));
	}
	json_object_put(a);
	out = arena_strdup(r->arena, sb.data ? sb.data : "");
	sb_free(&sb);
	return out;
}

/* Stores a new token with the raw value given; returns its record (caller puts) or NULL
 * (a duplicate value answers 409, a database error 503). */
static struct json_object *
token_store(struct request *r, const char *raw, const char *name, unsigned scopes)
{
	char id[37], hash[65], prefix[7] = "", suffix[5] = "";
	const char *csv = scopes_csv(r, scopes);
	const char *params[6] = {id, name, hash, prefix, suffix, csv};
	size_t len = strlen(raw);
	PGresult *res;
	struct json_object *rec;

	crypto_uuid4(id);
	crypto_sha3_256_hex(raw, len, hash);
	if (len >= 10) {
		memcpy(prefix, raw, 6);
		memcpy(suffix, raw + len - 4, 4);
	}
	res = db_exec_stmt(r->db, &stmt_token_insert, params);
	if (res == NULL) {
		if (strcmp(db_sqlstate(r->db), "23505") == 0)
			resp_error(r, 409, "token_exists", "That token is already in use");
		else
			resp_db_unavailable(r);
		return NULL;
	}
	rec = token_record(id, name, prefix, suffix, PQgetvalue(res, 0, 0), NULL, scopes_to_json(scopes));
	PQclear(res);
	return rec;
}

void
api_tokens_list(struct request *r)
{
	PGresult *res = db_exec_stmt(r->db, &stmt_tokens_list, NULL);
	struct json_object *obj, *list;

	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	list = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_object_array_add(list, token_record(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
		    PQgetvalue(res, i, 5), scopes_to_json(scopes_from_list(PQgetvalue(res, i, 6)))));
	PQclear(res);
	obj = json_object_new_object();
	json_object_object_add(obj, "tokens", list);
	resp_json(r, 200, obj);
	json_object_put(obj);
}

/* Validates a requested scope list as the original does (§2.3.6). Returns 0 with the mask,
 * or -1 after answering 400. */
static int
parse_scopes(struct request *r, struct json_object *body, unsigned *mask)
{
	struct json_object *arr;
	enum jsonutil_result jr = jsonutil_get_array(body, "scopes", &arr);
	size_t n;

	*mask = 0;
	if (jr == JSONUTIL_MISSING) {
		*mask = SCOPE_WILDCARD;
		return 0;
	}
	if (jr == JSONUTIL_WRONG_TYPE) {
		resp_error(r, 400, "invalid_scopes", "scopes must be an array of strings");
		return -1;
	}
	n = json_object_array_length(arr);
	if (n == 0) {
		resp_error(r, 400, "invalid_scopes",
		    "select at least one scope or omit the field for full access");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		const char *name;
		unsigned bit;

		if (!json_object_is_type(v, json_type_string)) {
			resp_error(r, 400, "invalid_scopes", "scopes must be an array of strings");
			return -1;
		}
		name = json_object_get_string(v);
		while (*name == ' ')
			name++;
		if (*name == '\0') {
			resp_error(r, 400, "invalid_scopes", "scope identifiers cannot be blank");
			return -1;
		}
		if (scope_from_name(name, &bit) != 0) {
			resp_error(r, 400, "invalid_scopes", "unknown scope \"%.64s\"", name);
			return -1;
		}
		*mask |= bit;
	}
	if ((*mask & SCOPE_WILDCARD) && *mask != SCOPE_WILDCARD) {
		resp_error(r, 400, "invalid_scopes", "wildcard '*' cannot be combined with other scopes");
		return -1;
	}
	return 0;
}

/* A token may hand out only what it holds itself: no escalation through token creation. */
static int
may_grant(struct request *r, unsigned mask)
{
	const struct principal *p = &r->auth;

	if (p->method != AUTH_METHOD_TOKEN || (p->scopes & SCOPE_WILDCARD))
		return 1;
	if ((mask & SCOPE_WILDCARD) || (mask & ~p->scopes)) {
		resp_error(r, 403, "forbidden", "An API token cannot grant scopes it does not hold");
		return 0;
	}
	return 1;
}

void
api_tokens_create(struct request *r)
{
	struct json_object *body = req_body_object(r, 1), *rec, *obj;
	const char *name = NULL;
	unsigned mask;
	char *raw, details[200];

	if (body == NULL)
		return;
	if (req_body_string(r, body, "name", 0, TOKEN_NAME_MAX, &name) < 0 ||
	    parse_scopes(r, body, &mask) != 0)
		return;
	if (name == NULL || *name == '\0')
		name = "API token";
	if (!may_grant(r, mask))
		return;
	raw = crypto_random_hex(32);
	rec = token_store(r, raw, name, mask);
	if (rec == NULL) {
		explicit_bzero(raw, strlen(raw));
		free(raw);
		return;
	}
	snprintf(details, sizeof(details), "Token created: %.64s (%s)", name,
	    json_object_get_string(json_object_object_get(rec, "id")));
	audit_record(r->db, "token_created", r->auth.username, r->client_ip, r->raw_path, 1, details);
	obj = json_object_new_object();
	json_object_object_add(obj, "token", json_object_new_string(raw));
	json_object_object_add(obj, "record", rec);
	resp_json(r, 200, obj);
	json_object_put(obj);
	explicit_bzero(raw, strlen(raw));
	free(raw);
}

void
api_tokens_delete(struct request *r)
{
	const char *id = req_path_param(r, "id");
	const char *params[1] = {id};
	PGresult *res;
	char details[200];

	if (id == NULL || !is_uuid(id)) {
		resp_error(r, 404, "not_found", "Token not found");
		return;
	}
	res = db_exec_stmt(r->db, &stmt_token_delete, params);
	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		resp_error(r, 404, "not_found", "Token not found");
		return;
	}
	snprintf(details, sizeof(details), "Token deleted: %.64s (%s)", PQgetvalue(res, 0, 0), id);
	PQclear(res);
	audit_record(r->db, "token_deleted", r->auth.username, r->client_ip, r->raw_path, 1, details);
	resp_no_content(r);
}

static const struct db_stmt stmt_token_primary_delete = {
	"tokens_primary_delete",
	"DELETE FROM pulse.api_tokens WHERE id = (SELECT id FROM pulse.api_tokens "
	"ORDER BY created_at DESC, id LIMIT 1)",
	0,
};

void
api_regenerate_token(struct request *r)
{
	struct json_object *rec, *obj;
	char *raw;

	if (r->auth.method == AUTH_METHOD_TOKEN && !(r->auth.scopes & SCOPE_WILDCARD)) {
		resp_error(r, 403, "forbidden", "Only a full-access token can regenerate the primary token");
		return;
	}
	if (ratelimit_named(r, "token_admin", 10, 60) != 0)
		return;
	/* The primary (newest) token is replaced; every other token keeps working. */
	if (db_begin(r->db) != 0) {
		resp_db_unavailable(r);
		return;
	}
	if (db_exec_stmt_ok(r->db, &stmt_token_primary_delete, NULL) != 0) {
		db_rollback(r->db);
		resp_db_unavailable(r);
		return;
	}
	raw = crypto_random_hex(32);
	rec = token_store(r, raw, "Regenerated token", SCOPE_WILDCARD);
	if (rec == NULL || db_commit(r->db) != 0) {
		db_rollback(r->db);
		if (rec)
			json_object_put(rec);
		if (!r->responded)
			resp_db_unavailable(r);
		explicit_bzero(raw, strlen(raw));
		free(raw);
		return;
	}
	json_object_put(rec);
	audit_record(r->db, "token_regenerated", r->auth.username, r->client_ip, r->raw_path, 1,
	    "Primary API token regenerated");
	obj = json_object_new_object();
	json_object_object_add(obj, "success", json_object_new_boolean(1));
	json_object_object_add(obj, "token", json_object_new_string(raw));
	json_object_object_add(obj, "deploymentType", json_object_new_string(conf_str("deployment_type")));
	json_object_object_add(obj, "requiresRestart", json_object_new_boolean(0));
	json_object_object_add(obj, "message", json_object_new_string("New API token generated and "
	    "active immediately! Save this token - it won't be shown again."));
	resp_json(r, 200, obj);
	json_object_put(obj);
	explicit_bzero(raw, strlen(raw));
	free(raw);
}

static const struct db_stmt stmt_token_exists = {
	"tokens_exists",
	"SELECT (SELECT count(*) FROM pulse.api_tokens), "
	"EXISTS (SELECT 1 FROM pulse.api_tokens WHERE hash = $1)",
	1,
};

void
api_validate_token(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *obj;
	const char *token = NULL;
	char hash[65];
	const char *params[1] = {hash};
	PGresult *res;
	int valid;

	if (body == NULL)
		return;
	if (req_body_string(r, body, "token", 0, 4096, &token) < 0)
		return;
	if (ratelimit_named(r, "token_admin", 10, 60) != 0)
		return;
	obj = json_object_new_object();
	if (token == NULL || *token == '\0') {
		json_object_object_add(obj, "valid", json_object_new_boolean(0));
		json_object_object_add(obj, "message", json_object_new_string("Token is required"));
		resp_json(r, 400, obj);
		json_object_put(obj);
		return;
	}
	crypto_sha3_256_hex(token, strlen(token), hash);
	res = db_exec_stmt(r->db, &stmt_token_exists, params);
	if (res == NULL) {
		json_object_put(obj);
		resp_db_unavailable(r);
		return;
	}
	valid = PQgetvalue(res, 0, 1)[0] == 't';
	json_object_object_add(obj, "valid", json_object_new_boolean(valid));
	json_object_object_add(obj, "message", json_object_new_string(
	    strcmp(PQgetvalue(res, 0, 0), "0") == 0 ? "API token authentication is not configured" :
	    valid ? "Token is valid" : "Token is invalid"));
	PQclear(res);
	resp_json(r, 200, obj);
	json_object_put(obj);
}

/* --- bootstrap token and first-run setup -------------------------------------------- */

static const struct db_stmt stmt_bootstrap_hash = {
	"bootstrap_hash",
	"SELECT value FROM pulse.security_state WHERE key = 'bootstrap_token_hash'",
	0,
};

/* 1 when token is the active bootstrap token, 0 when not, -2 when none is active, -1 on a
 * database error. */
static int
bootstrap_matches(struct request *r, const char *token)
{
	PGresult *res = db_exec_stmt(r->db, &stmt_bootstrap_hash, NULL);
	char hash[65];
	int rc;
	size_t len;

	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return -2;
	}
	/* Surrounding whitespace from a copied file is forgiven. */
	while (*token == ' ' || *token == '\n' || *token == '\t')
		token++;
	len = strlen(token);
	while (len > 0 && strchr(" \n\r\t", token[len - 1]))
		len--;
	crypto_sha3_256_hex(token, len, hash);
	rc = ct_equal(hash, 64, PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)));
	PQclear(res);
	return rc;
}

void
api_validate_bootstrap_token(struct request *r)
{
	const char *token = req_header(r, "X-Setup-Token");
	struct json_object *body;

	if (token == NULL || *token == '\0') {
		body = req_body_object(r, 0);
		if (body == NULL)
			return;
		if (req_body_string(r, body, "token", 0, 4096, &token) < 0)
			return;
	}
	if (token == NULL || *token == '\0') {
		resp_error(r, 400, "missing_token", "Bootstrap token is required");
		return;
	}
	switch (bootstrap_matches(r, token)) {
	case -1:
		resp_db_unavailable(r);
		return;
	case -2:
		resp_error(r, 409, "bootstrap_unavailable",
		    "Bootstrap token unavailable. Reload the page or restart Pulse.");
		return;
	case 0:
		resp_error(r, 401, "invalid_bootstrap_token", "Invalid bootstrap setup token");
		return;
	}
	resp_no_content(r);
}

static const struct db_stmt stmt_recovery_consume = {
	"recovery_consume",
	"UPDATE pulse.recovery_tokens SET used_at = now() WHERE hash = $1 AND used_at IS NULL "
	"AND expires_at > now() RETURNING hash",
	1,
};

static const struct db_stmt stmt_recovery_peek = {
	"recovery_peek",
	"SELECT 1 FROM pulse.recovery_tokens WHERE hash = $1 AND used_at IS NULL "
	"AND expires_at > now()",
	1,
};

/* A recovery token from X-Recovery-Token: 1 valid (and consumed when consume is set),
 * 0 absent or invalid, -1 database error. */
static int
recovery_token(struct request *r, int consume)
{
	const char *token = req_header(r, "X-Recovery-Token");
	char hash[65];
	const char *params[1] = {hash};
	PGresult *res;
	int ok;

	if (token == NULL || *token == '\0')
		return 0;
	crypto_sha256_hex(token, strlen(token), hash);
	res = db_exec_stmt(r->db, consume ? &stmt_recovery_consume : &stmt_recovery_peek, params);
	if (res == NULL)
		return -1;
	ok = PQntuples(res) == 1;
	PQclear(res);
	return ok;
}

static const struct db_stmt stmt_setup_lock = {
	"setup_lock",
	"SELECT pg_advisory_xact_lock(1347747844, 0), (SELECT count(*) FROM pulse.users)",
	0,
};
static const struct db_stmt stmt_setup_users_delete = {
	"setup_users_delete", "DELETE FROM pulse.users", 0,
};
static const struct db_stmt stmt_setup_user_insert = {
	"setup_user_insert",
	"INSERT INTO pulse.users (username, password_hash) VALUES ($1, $2)",
	2,
};
static const struct db_stmt stmt_setup_bootstrap_delete = {
	"setup_bootstrap_delete",
	"DELETE FROM pulse.security_state WHERE key IN ('bootstrap_token_hash', 'bootstrap_token_host')",
	0,
};
static const struct db_stmt stmt_sessions_delete_others = {
	"sessions_delete_others",
	"DELETE FROM pulse.sessions WHERE key_hash <> $1",
	1,
};

/* Whether p may replace the admin and mint a "*" token (quick-setup with force): the
 * admin's own session or Basic login, recovery mode, a proxy user with the admin role, or
 * a full-access token. Answers 403 and returns 0 otherwise. */
static int
may_replace_admin(struct request *r, const struct principal *p)
{
	switch (p->method) {
	case AUTH_METHOD_SESSION:
	case AUTH_METHOD_BASIC:
	case AUTH_METHOD_RECOVERY:
		return 1;
	case AUTH_METHOD_PROXY:
		if (p->admin)
			return 1;
		resp_error(r, 403, "forbidden", "Admin privileges required");
		return 0;
	case AUTH_METHOD_TOKEN:
		if (p->scopes & SCOPE_WILDCARD)
			return 1;
		resp_missing_scope(r, "*");
		return 0;
	default:
		resp_error(r, 401, "unauthorized", "Authentication required");
		return 0;
	}
}

static int
password_acceptable(struct request *r, const char *password, const char *code)
{
	if (strlen(password) < PASSWORD_MIN) {
		resp_error(r, 400, code, "password must be at least %d characters long", PASSWORD_MIN);
		return 0;
	}
	if (strlen(password) > PASSWORD_MAX) {
		resp_error(r, 400, code, "password must be at most %d bytes long", PASSWORD_MAX);
		return 0;
	}
	return 1;
}

static int
username_acceptable(struct request *r, const char *user)
{
	for (const unsigned char *p = (const unsigned char *)user; *p; p++) {
		if (*p < 0x21 || *p == 0x7f || *p == ':') {
			resp_error(r, 400, "invalid_username",
			    "username must not contain spaces, control characters or ':'");
			return 0;
		}
	}
	return 1;
}

void
api_quick_setup(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *rec, *obj;
	const char *user = NULL, *password = NULL, *api_token = NULL, *setup_token = NULL;
	int force = 0, ignored, has_user, tokens, recovery, authorised = 0, via_recovery = 0, rc;
	char hash[64];
	const char *params[2];
	PGresult *res;

	if (body == NULL)
		return;
	if (req_body_string(r, body, "username", 0, 128, &user) < 0 ||
	    req_body_string(r, body, "password", 0, 1024, &password) < 0 ||
	    req_body_string(r, body, "apiToken", 0, 512, &api_token) < 0 ||
	    req_body_string(r, body, "setupToken", 0, 4096, &setup_token) < 0 ||
	    req_body_bool(r, body, "force", 0, &force) < 0 ||
	    req_body_bool(r, body, "enableNotifications", 0, &ignored) < 0 ||
	    req_body_bool(r, body, "darkMode", 0, &ignored) < 0)
		return;
	if (ratelimit_named(r, "quick_setup", 10, 60) != 0)
		return;
	/* Whether an admin exists decides what is required: never from a stale cache. */
	auth_state_forget(r);
	if (auth_state(r, &has_user, &tokens, &recovery) != 0) {
		resp_db_unavailable(r);
		return;
	}
	rc = recovery_token(r, 1);
	if (rc < 0) {
		resp_db_unavailable(r);
		return;
	}
	if (rc == 1) {
		authorised = via_recovery = 1;
	} else if (has_user) {
		if (r->auth.method == AUTH_METHOD_NONE) {
			resp_error(r, 401, "unauthorized",
			    "Authentication required to modify existing security settings");
			return;
		}
		authorised = 1;
	} else {
		const char *given = req_header(r, "X-Setup-Token");
		if (given == NULL || *given == '\0')
			given = setup_token;
		rc = given && *given ? bootstrap_matches(r, given) : 0;
		if (rc == -1) {
			resp_db_unavailable(r);
			return;
		}
		if (rc == -2) {
			resp_error(r, 503, "bootstrap_unavailable", "Bootstrap token unavailable; restart "
			    "pulse-worker or inspect its data directory");
			return;
		}
		if (rc == 0) {
			resp_error(r, 401, "invalid_bootstrap_token", "A valid bootstrap token is required "
			    "(header X-Setup-Token or field setupToken). Read it with: cat %s/.bootstrap_token",
			    conf_str("data_dir"));
			return;
		}
	}
	/* Replacing the admin and minting a full-access token needs what it grants: a
	 * recovery token, or a caller who is already a full admin. */
	if (has_user && force && authorised && !via_recovery &&
	    !may_replace_admin(r, &r->auth))
		return;
	if (!principal_has_scope(&r->auth, "settings:write")) {
		resp_missing_scope(r, "settings:write");
		return;
	}
	if (has_user && !(force && authorised)) {
		obj = json_object_new_object();
		json_object_object_add(obj, "success", json_object_new_boolean(1));
		json_object_object_add(obj, "skipped", json_object_new_boolean(1));
		json_object_object_add(obj, "message", json_object_new_string("Password authentication "
		    "is already configured. Please remove existing security first if you want to "
		    "reconfigure."));
		resp_json(r, 200, obj);
		json_object_put(obj);
		return;
	}
	if (user == NULL || *user == '\0' || password == NULL || *password == '\0' ||
	    api_token == NULL || *api_token == '\0') {
		resp_error(r, 400, "missing_fields", "Username, password, and API token are required");
		return;
	}
	if (!username_acceptable(r, user) || !password_acceptable(r, password, "invalid_password"))
		return;
	if (strlen(api_token) < SETUP_TOKEN_MIN) {
		resp_error(r, 400, "invalid_token", "apiToken must be at least %d characters long",
		    SETUP_TOKEN_MIN);
		return;
	}
	if (password_hash(password, hash, sizeof(hash)) != 0) {
		resp_error(r, 400, "invalid_password", "password cannot be hashed");
		return;
	}

	/* Everything or nothing: the admin, the token and the end of the bootstrap token.
	 * Setups are serialised, and whether an admin exists is read again inside: two
	 * first-run setups racing with the same bootstrap token cannot both win. */
	if (db_begin(r->db) != 0) {
		resp_db_unavailable(r);
		return;
	}
	res = db_exec_stmt(r->db, &stmt_setup_lock, NULL);
	if (res == NULL)
		goto db_err;
	if (strcmp(PQgetvalue(res, 0, 1), "0") != 0 && !has_user) {
		PQclear(res);
		db_rollback(r->db);
		resp_error(r, 409, "setup_done", "Setup was completed by another request");
		return;
	}
	PQclear(res);
	params[0] = user;
	params[1] = hash;
	if (db_exec_stmt_ok(r->db, &stmt_setup_users_delete, NULL) != 0)
		goto db_err;
	if (db_exec_stmt_ok(r->db, &stmt_setup_user_insert, params) != 0)
		goto db_err;
	rec = token_store(r, api_token, "Primary token", SCOPE_WILDCARD);
	if (rec == NULL) {
		db_rollback(r->db);
		return;
	}
	json_object_put(rec);
	if (db_exec_stmt_ok(r->db, &stmt_setup_bootstrap_delete, NULL) != 0)
		goto db_err;
	if (has_user) {
		/* A new password ends every session but the caller's own. */
		params[0] = r->auth.method == AUTH_METHOD_SESSION ? r->auth.session_hash : "";
		if (db_exec_stmt_ok(r->db, &stmt_sessions_delete_others, params) != 0)
			goto db_err;
	}
	if (db_commit(r->db) != 0)
		goto db_err;
	{
		/* The bootstrap file, when it is on this host; the worker removes it elsewhere. */
		char *path = xasprintf("%s/.bootstrap_token", conf_str("data_dir"));
		(void)unlink(path);
		free(path);
	}
	audit_record(r->db, "setup", user, r->client_ip, r->raw_path, 1,
	    has_user ? "Security settings replaced" : "First-run setup completed");
	obj = json_object_new_object();
	json_object_object_add(obj, "success", json_object_new_boolean(1));
	json_object_object_add(obj, "method", json_object_new_string("database"));
	json_object_object_add(obj, "deploymentType", json_object_new_string(conf_str("deployment_type")));
	json_object_object_add(obj, "requiresManualRestart", json_object_new_boolean(0));
	json_object_object_add(obj, "message", json_object_new_string(
	    "Security enabled immediately! Your settings are saved and active."));
	resp_json(r, 200, obj);
	json_object_put(obj);
	return;
db_err:
	db_rollback(r->db);
	resp_db_unavailable(r);
}

/* --- password and lockout ----------------------------------------------------------- */

static const struct db_stmt stmt_admin_user = {
	"security_admin_user",
	"SELECT username, password_hash FROM pulse.users ORDER BY created_at LIMIT 1",
	0,
};
static const struct db_stmt stmt_password_update = {
	"security_password_update",
	"UPDATE pulse.users SET password_hash = $2, updated_at = now() WHERE username = $1",
	2,
};
static const struct db_stmt stmt_sessions_delete_user_others = {
	"sessions_delete_user_others",
	"DELETE FROM pulse.sessions WHERE username = $1 AND key_hash <> $2",
	2,
};

void
api_change_password(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *obj;
	const char *current = NULL, *next = NULL;
	char user[136], stored[64], hash[64];
	const char *params[2];
	double until;
	PGresult *res;

	if (body == NULL)
		return;
	if (r->auth.method == AUTH_METHOD_PROXY && !r->auth.admin) {
		resp_error(r, 403, "forbidden", "Admin privileges required");
		return;
	}
	if (req_body_string(r, body, "currentPassword", 0, 1024, &current) < 0 ||
	    req_body_string(r, body, "newPassword", 1, 1024, &next) < 0)
		return;
	if (!password_acceptable(r, next, "invalid_password"))
		return;
	if (current == NULL || *current == '\0') {
		resp_error(r, 401, "unauthorized", "Current password required");
		return;
	}
	res = db_exec_stmt(r->db, &stmt_admin_user, NULL);
	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error(r, 409, "no_password_auth", "No local administrator is configured");
		return;
	}
	snprintf(user, sizeof(user), "%s", PQgetvalue(res, 0, 0));
	snprintf(stored, sizeof(stored), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	if (lockout_password_locked(r, user, &until) > 0) {
		resp_error(r, 403, "account_locked", "Account temporarily locked");
		return;
	}
	if (!password_verify(current, stored)) {
		(void)lockout_password_failed(r, user, &until);
		audit_record(r->db, "password_change", r->auth.username, r->client_ip, r->raw_path, 0,
		    "Current password incorrect");
		resp_error(r, 401, "unauthorized", "Current password is incorrect");
		return;
	}
	if (password_hash(next, hash, sizeof(hash)) != 0) {
		resp_error(r, 400, "invalid_password", "password cannot be hashed");
		return;
	}
	if (db_begin(r->db) != 0) {
		resp_db_unavailable(r);
		return;
	}
	params[0] = user;
	params[1] = hash;
	if (db_exec_stmt_ok(r->db, &stmt_password_update, params) != 0)
		goto db_err;
	params[1] = r->auth.method == AUTH_METHOD_SESSION ? r->auth.session_hash : "";
	if (db_exec_stmt_ok(r->db, &stmt_sessions_delete_user_others, params) != 0)
		goto db_err;
	if (db_commit(r->db) != 0)
		goto db_err;
	lockout_password_ok(r, user);
	audit_record(r->db, "password_change", r->auth.username, r->client_ip, r->raw_path, 1,
	    "Password changed; other sessions ended");
	obj = json_object_new_object();
	json_object_object_add(obj, "success", json_object_new_boolean(1));
	json_object_object_add(obj, "message", json_object_new_string(
	    "Password changed. Other sessions have been signed out."));
	json_object_object_add(obj, "requiresRestart", json_object_new_boolean(0));
	resp_json(r, 200, obj);
	json_object_put(obj);
	return;
db_err:
	db_rollback(r->db);
	resp_db_unavailable(r);
}

void
api_reset_lockout(struct request *r)
{
	struct json_object *body = req_body_object(r, 0);
	const char *id = NULL;
	char msg[200];

	if (body == NULL)
		return;
	if (req_body_string(r, body, "identifier", 0, 256, &id) < 0)
		return;
	if (id == NULL || *id == '\0') {
		resp_error(r, 400, "missing_identifier", "identifier is required");
		return;
	}
	if (lockout_reset(r, id) < 0) {
		resp_db_unavailable(r);
		return;
	}
	snprintf(msg, sizeof(msg), "Lockout reset for %.128s", id);
	audit_record(r->db, "lockout_reset", r->auth.username, r->client_ip, r->raw_path, 1, msg);
	answer_success(r, 200, msg);
}

/* --- recovery ----------------------------------------------------------------------- */

static const struct db_stmt stmt_recovery_insert = {
	"recovery_insert",
	"INSERT INTO pulse.recovery_tokens (hash, expires_at, client_ip) "
	"VALUES ($1, now() + make_interval(mins => $2::int), $3)",
	3,
};
static const struct db_stmt stmt_recovery_mode_on = {
	"recovery_mode_on",
	"INSERT INTO pulse.security_state (key, value) VALUES ('auth_recovery', $1) "
	"ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
	1,
};
static const struct db_stmt stmt_recovery_mode_off = {
	"recovery_mode_off",
	"DELETE FROM pulse.security_state WHERE key = 'auth_recovery'",
	0,
};
static const struct db_stmt stmt_recovery_mode = {
	"recovery_mode",
	"SELECT EXISTS (SELECT 1 FROM pulse.security_state WHERE key = 'auth_recovery')",
	0,
};

void
api_recovery(struct request *r)
{
	struct json_object *body, *obj;
	const char *action = NULL, *ctype;
	int64_t duration = 15;
	int rc;
	PGresult *res;

	/* Direct loopback, or a recovery token: single use for actions, only checked for a
	 * status read. */
	rc = r->direct_loopback ? 1 : recovery_token(r, r->method == REQ_METHOD_POST);
	if (rc < 0) {
		resp_db_unavailable(r);
		return;
	}
	if (rc == 0) {
		audit_anonymous(r, "recovery", "", "Recovery access denied");
		resp_error(r, 403, "forbidden",
		    "Recovery endpoint requires localhost access or valid recovery token");
		return;
	}
	if (r->method != REQ_METHOD_POST) {
		res = db_exec_stmt(r->db, &stmt_recovery_mode, NULL);
		if (res == NULL) {
			resp_db_unavailable(r);
			return;
		}
		obj = json_object_new_object();
		json_object_object_add(obj, "recovery_mode",
		    json_object_new_boolean(PQgetvalue(res, 0, 0)[0] == 't'));
		json_object_object_add(obj, "message",
		    json_object_new_string("Recovery endpoint accessible from localhost only"));
		PQclear(res);
		resp_json(r, 200, obj);
		json_object_put(obj);
		return;
	}
	/* A form or text/plain POST from a web page cannot carry this content type without
	 * a CORS preflight: loopback privileges cannot be borrowed by another site. */
	ctype = req_header(r, "Content-Type");
	if (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0) {
		resp_error(r, 415, "unsupported_media_type", "Content-Type must be application/json");
		return;
	}
	body = req_body_object(r, 0);
	if (body == NULL)
		return;
	if (req_body_string(r, body, "action", 1, 64, &action) < 0)
		return;
	if (jsonutil_get_int(body, "duration", 1, 60, &duration) != JSONUTIL_OK)
		duration = 15;

	if (strcmp(action, "generate_token") == 0) {
		char minutes[16], hash[65], msg[120];
		char *token;
		const char *params[3] = {hash, minutes, r->client_ip};

		if (!r->direct_loopback) {
			resp_error(r, 403, "forbidden", "Token generation only allowed from localhost");
			return;
		}
		token = crypto_random_hex(32);
		crypto_sha256_hex(token, strlen(token), hash);
		snprintf(minutes, sizeof(minutes), "%lld", (long long)duration);
		if (db_exec_stmt_ok(r->db, &stmt_recovery_insert, params) != 0) {
			explicit_bzero(token, strlen(token));
			free(token);
			resp_db_unavailable(r);
			return;
		}
		audit_record(r->db, "recovery_token_generated", "", r->client_ip, r->raw_path, 1, minutes);
		snprintf(msg, sizeof(msg), "Recovery token generated. Valid for %lld minutes.",
		    (long long)duration);
		obj = json_object_new_object();
		json_object_object_add(obj, "success", json_object_new_boolean(1));
		json_object_object_add(obj, "token", json_object_new_string(token));
		json_object_object_add(obj, "expires_in_minutes", json_object_new_int64(duration));
		json_object_object_add(obj, "message", json_object_new_string(msg));
		resp_json(r, 200, obj);
		json_object_put(obj);
		explicit_bzero(token, strlen(token));
		free(token);
		return;
	}
	if (strcmp(action, "disable_auth") == 0 || strcmp(action, "enable_auth") == 0) {
		int disable = action[0] == 'd';
		char note[160];
		const char *params[1] = {note};

		snprintf(note, sizeof(note), "enabled from %.64s", r->client_ip);
		if (db_exec_stmt_ok(r->db, disable ? &stmt_recovery_mode_on : &stmt_recovery_mode_off,
		    disable ? params : NULL) != 0) {
			resp_db_unavailable(r);
			return;
		}
		audit_record(r->db, disable ? "recovery_disable_auth" : "recovery_enable_auth", "",
		    r->client_ip, r->raw_path, 1, disable ? "Recovery mode enabled" : "Recovery mode disabled");
		answer_success(r, 200, disable ? "Recovery mode enabled. Auth disabled for localhost. "
		    "Use enable_auth to re-enable." : "Recovery mode disabled. Authentication re-enabled.");
		return;
	}
	obj = json_object_new_object();
	json_object_object_add(obj, "success", json_object_new_boolean(0));
	json_object_object_add(obj, "code", json_object_new_string("invalid_action"));
	json_object_object_add(obj, "message", json_object_new_string(
	    "Invalid action. Use 'generate_token', 'disable_auth' or 'enable_auth'"));
	resp_json(r, 400, obj);
	json_object_put(obj);
}

/* --- status ------------------------------------------------------------------------- */

static const struct db_stmt stmt_status = {
	"security_status",
	"SELECT (SELECT username FROM pulse.users ORDER BY created_at LIMIT 1), "
	"(SELECT to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
	"  FROM pulse.users ORDER BY created_at LIMIT 1), "
	"(SELECT count(*) FROM pulse.api_tokens), "
	"(SELECT prefix || '...' || suffix FROM pulse.api_tokens ORDER BY created_at DESC, id LIMIT 1), "
	"(SELECT left(hash, 4) || '...' || right(hash, 4) FROM pulse.api_tokens "
	"  ORDER BY created_at DESC, id LIMIT 1), "
	"EXISTS (SELECT 1 FROM pulse.security_state WHERE key = 'bootstrap_token_hash')",
	0,
};

/* The primary token's hint is for those who manage tokens: a session, or a token that may
 * read settings. A monitoring token learns nothing of another token. */
static int
may_see_hint(const struct principal *p)
{
	return p->method == AUTH_METHOD_SESSION || (p->method == AUTH_METHOD_TOKEN &&
	    (p->scopes & (SCOPE_WILDCARD | SCOPE_SETTINGS_READ)));
}

void
api_security_status(struct request *r)
{
	PGresult *res = db_exec_stmt(r->db, &stmt_status, NULL);
	struct json_object *o;
	const struct principal *p = &r->auth;
	int authenticated = p->method == AUTH_METHOD_SESSION || p->method == AUTH_METHOD_TOKEN;
	int has_user, tokens, bootstrap, proxy = *conf_str("proxy_auth_secret") != '\0';
	int unprotected = conf_bool("allow_unprotected_export"), priv, trusted;
	const char *hint, *host = req_header(r, "Host");
	struct ipaddr ip;
	struct cidr *nets = NULL;
	int nnets = 0;

	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	has_user = !PQgetisnull(res, 0, 0);
	tokens = (int)strtol(PQgetvalue(res, 0, 2), NULL, 10);
	bootstrap = PQgetvalue(res, 0, 5)[0] == 't';
	hint = !PQgetisnull(res, 0, 3) && strcmp(PQgetvalue(res, 0, 3), "...") != 0 ?
	    PQgetvalue(res, 0, 3) : PQgetvalue(res, 0, 4);
	priv = ip_parse(r->client_ip, &ip) == 0 && ip_is_private(&ip);
	(void)cidr_list_parse(conf_str("trusted_networks"), &nets, &nnets);
	trusted = nnets ? ip_parse(r->client_ip, &ip) == 0 && cidr_list_contains(nets, nnets, &ip) : priv;
	free(nets);

	o = json_object_new_object();
	jsonwrite_bool(o, "apiTokenConfigured", tokens > 0);
	jsonwrite_str(o, "apiTokenHint", may_see_hint(p) && tokens > 0 ? hint : "");
	jsonwrite_bool(o, "requiresAuth", tokens > 0 || has_user || proxy);
	jsonwrite_bool(o, "exportProtected", tokens > 0 || !unprotected);
	jsonwrite_bool(o, "unprotectedExportAllowed", unprotected);
	jsonwrite_bool(o, "hasAuthentication", tokens > 0 || has_user || proxy);
	jsonwrite_bool(o, "configuredButPendingRestart", 0);
	jsonwrite_bool(o, "hasAuditLogging", conf_bool("audit_log"));
	jsonwrite_bool(o, "credentialsEncrypted", 1);
	jsonwrite_bool(o, "hasHTTPS", r->https);
	jsonwrite_str(o, "clientIP", r->client_ip);
	jsonwrite_bool(o, "isPrivateNetwork", priv);
	jsonwrite_bool(o, "isTrustedNetwork", trusted);
	jsonwrite_bool(o, "publicAccess", !priv);
	jsonwrite_bool(o, "hasProxyAuth", proxy);
	jsonwrite_str(o, "proxyAuthLogoutURL", conf_str("proxy_auth_logout_url"));
	jsonwrite_str(o, "proxyAuthUsername", p->method == AUTH_METHOD_PROXY ? p->username : "");
	jsonwrite_bool(o, "proxyAuthIsAdmin", p->method == AUTH_METHOD_PROXY && p->admin);
	jsonwrite_str(o, "authUsername", authenticated && has_user ? PQgetvalue(res, 0, 0) : "");
	jsonwrite_str(o, "authLastModified", authenticated && has_user ? PQgetvalue(res, 0, 1) : "");
	jsonwrite_str(o, "oidcUsername", "");
	jsonwrite_bool(o, "hideLocalLogin", 0);
	jsonwrite_str(o, "agentUrl", host ? arena_printf(r->arena, "%s://%s", r->https ? "https" : "http", host) : "");
	if (p->method == AUTH_METHOD_TOKEN)
		json_object_object_add(o, "tokenScopes", scopes_to_json(p->scopes));
	jsonwrite_bool(o, "oidcEnabled", 0);
	jsonwrite_str(o, "oidcIssuer", "");
	jsonwrite_str(o, "oidcClientId", "");
	jsonwrite_str(o, "oidcLogoutURL", "");
	if (bootstrap) {
		jsonwrite_str(o, "bootstrapTokenPath", arena_printf(r->arena, "%s/.bootstrap_token",
		    conf_str("data_dir")));
		jsonwrite_bool(o, "isDocker", access("/.dockerenv", F_OK) == 0);
		jsonwrite_bool(o, "inContainer", access("/.dockerenv", F_OK) == 0 ||
		    access("/run/systemd/container", F_OK) == 0);
	}
	PQclear(res);
	resp_json(r, 200, o);
	json_object_put(o);
}
