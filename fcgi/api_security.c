/* api_security.c: the /api/security endpoints: status, API tokens, first-run setup,
 * password change, lockout reset and recovery (security.md §2.3, §2.8-§2.9, §5). The
 * statements and transactions are src/security.c's; these parse, check and answer. */
#include "config.h"

#include "live_settings.h"
#include "audit.h"
#include "auth.h"
#include "conf.h"
#include "crypto.h"
#include "handlers.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "timefmt.h"
#include "log.h"
#include "netaddr.h"
#include "oidc.h"
#include "ratelimit.h"
#include "security.h"
#include "update_version.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOKEN_NAME_MAX 128
#define SETUP_TOKEN_MIN 24

static void
answer_success(struct request *r, int status, const char *message)
{
	struct json_object *obj = resp_object(r);

	jsonwrite_bool(obj, "success", 1);
	jsonwrite_str(obj, "message", message);
	resp_json(r, status, obj);
}

/* A new random token of 32 bytes in hex, wiped and freed with the request. */
static char *
new_secret(struct request *r)
{
	char *raw = crypto_random_hex(32);

	arena_defer(r->arena, secret_free, raw);
	return raw;
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

static const struct db_stmt stmt_token_exists = {
	"tokens_exists",
	"SELECT (SELECT count(*) FROM pulse.api_tokens), "
	"EXISTS (SELECT 1 FROM pulse.api_tokens WHERE hash = $1)",
	1,
};

/* A token's record as the API shows it; a new object the caller adds somewhere. */
static struct json_object *
token_record(const char *id, const char *name, const char *prefix, const char *suffix,
    const char *created, const char *last_used, unsigned scopes)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_str(o, "id", id);
	jsonwrite_str(o, "name", name);
	jsonwrite_opt_str(o, "prefix", prefix);
	jsonwrite_opt_str(o, "suffix", suffix);
	jsonwrite_str(o, "createdAt", created);
	jsonwrite_opt_str(o, "lastUsedAt", last_used);
	json_object_object_add(o, "scopes", scopes_to_json(scopes));
	return o;
}

/* A comma list of the scope names in mask, for storage; in the request arena. */
static const char *
scopes_csv(struct request *r, unsigned mask)
{
	struct json_object *a = scopes_to_json(mask);
	struct strbuf sb = {0};
	const char *out;

	req_json(r, a);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		if (i)
			sb_puts(&sb, ",");
		sb_puts(&sb, json_object_get_string(json_object_array_get_idx(a, i)));
	}
	out = arena_strdup(r->arena, sb.data ? sb.data : "");
	sb_free(&sb);
	return out;
}

/* The answer when a token could not be stored. */
static void
answer_token_failure(struct request *r, int rc)
{
	if (rc == SECURITY_DUPLICATE)
		resp_error(r, 409, "token_exists", "That token is already in use");
	else
		resp_db_unavailable(r);
}

void
api_tokens_list(struct request *r)
{
	PGresult *res = req_result(r, security_tokens_list(r->db));
	struct json_object *obj = resp_object(r), *list;

	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	list = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		char created[TIMEFMT_LEN], used[TIMEFMT_LEN] = "";

		timefmt_rfc3339(strtod(PQgetvalue(res, i, 4), NULL), created, sizeof(created));
		if (!PQgetisnull(res, i, 5))
			timefmt_rfc3339(strtod(PQgetvalue(res, i, 5), NULL), used, sizeof(used));
		json_object_array_add(list, token_record(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), created, used,
		    scopes_from_list(PQgetvalue(res, i, 6))));
	}
	json_object_object_add(obj, "tokens", list);
	resp_json(r, 200, obj);
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
	struct json_object *body = req_body_object(r, 1), *obj;
	struct security_token rec;
	const char *name = NULL;
	unsigned mask;
	char *raw, details[200];
	int rc;

	if (body == NULL)
		return;
	if (req_body_string(r, body, "name", 0, TOKEN_NAME_MAX, &name) < 0 ||
	    parse_scopes(r, body, &mask) != 0)
		return;
	if (name == NULL || *name == '\0')
		name = "API token";
	if (!may_grant(r, mask))
		return;
	raw = new_secret(r);
	rc = security_token_insert(r->db, raw, name, scopes_csv(r, mask), &rec);
	if (rc != SECURITY_OK) {
		answer_token_failure(r, rc);
		return;
	}
	snprintf(details, sizeof(details), "Token created: %.64s (%s)", name, rec.id);
	audit_record(r->db, "token_created", r->auth.username, r->client_ip, r->raw_path, 1, details);
	obj = resp_object(r);
	jsonwrite_str(obj, "token", raw);
	json_object_object_add(obj, "record", token_record(rec.id, name, rec.prefix, rec.suffix,
	    rec.created, NULL, mask));
	resp_json(r, 200, obj);
}

void
api_tokens_delete(struct request *r)
{
	const char *id = req_path_param(r, "id");
	char name[TOKEN_NAME_MAX + 8], details[200];
	int found;

	if (id == NULL || !is_uuid(id)) {
		resp_error(r, 404, "not_found", "Token not found");
		return;
	}
	found = security_token_delete(r->db, id, name, sizeof(name));
	if (found < 0) {
		resp_db_unavailable(r);
		return;
	}
	if (!found) {
		resp_error(r, 404, "not_found", "Token not found");
		return;
	}
	snprintf(details, sizeof(details), "Token deleted: %.64s (%s)", name, id);
	audit_record(r->db, "token_deleted", r->auth.username, r->client_ip, r->raw_path, 1, details);
	resp_no_content(r);
}

void
api_regenerate_token(struct request *r)
{
	struct security_token rec;
	struct json_object *obj;
	char *raw;
	int rc;

	if (r->auth.method == AUTH_METHOD_TOKEN && !(r->auth.scopes & SCOPE_WILDCARD)) {
		resp_error(r, 403, "forbidden", "Only a full-access token can regenerate the primary token");
		return;
	}
	if (ratelimit_named(r, "token_admin", 10, 60) != 0)
		return;
	raw = new_secret(r);
	rc = security_token_regenerate(r->db, raw, "Regenerated token", scopes_csv(r, SCOPE_WILDCARD),
	    &rec);
	if (rc != SECURITY_OK) {
		answer_token_failure(r, rc);
		return;
	}
	audit_record(r->db, "token_regenerated", r->auth.username, r->client_ip, r->raw_path, 1,
	    "Primary API token regenerated");
	obj = resp_object(r);
	jsonwrite_bool(obj, "success", 1);
	jsonwrite_str(obj, "token", raw);
	jsonwrite_str(obj, "deploymentType", update_build_current()->deployment);
	jsonwrite_bool(obj, "requiresRestart", 0);
	jsonwrite_str(obj, "message", "New API token generated and active immediately! Save this "
	    "token - it won't be shown again.");
	resp_json(r, 200, obj);
}

void
api_validate_token(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *obj;
	const char *token = NULL;
	char hash[65];
	const char *params[1] = {hash};
	PGresult *res;
	int valid, configured;

	if (body == NULL)
		return;
	if (req_body_string(r, body, "token", 0, 4096, &token) < 0)
		return;
	if (ratelimit_named(r, "token_admin", 10, 60) != 0)
		return;
	obj = resp_object(r);
	if (token == NULL || *token == '\0') {
		jsonwrite_bool(obj, "valid", 0);
		jsonwrite_str(obj, "message", "Token is required");
		resp_json(r, 400, obj);
		return;
	}
	crypto_sha3_256_hex(token, strlen(token), hash);
	res = req_result(r, db_exec_stmt(r->db, &stmt_token_exists, params));
	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	configured = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	valid = PQgetvalue(res, 0, 1)[0] == 't';
	jsonwrite_bool(obj, "valid", valid);
	jsonwrite_str(obj, "message", !configured ? "API token authentication is not configured" :
	    valid ? "Token is valid" : "Token is invalid");
	resp_json(r, 200, obj);
}

/* --- bootstrap token and first-run setup -------------------------------------------- */

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
	switch (security_bootstrap_matches(r->db, token)) {
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
	const char *why = security_password_problem(password);

	if (why != NULL) {
		resp_error(r, 400, code, "%s", why);
		return 0;
	}
	return 1;
}

static int
username_acceptable(struct request *r, const char *user)
{
	const char *why = *user ? security_username_problem(user) : NULL;

	if (why != NULL) {
		resp_error(r, 400, "invalid_username", "%s", why);
		return 0;
	}
	return 1;
}

/* A first-run setup needs the bootstrap token, from X-Setup-Token or the body's setupToken.
 * Returns 0, or -1 after answering. */
static int
setup_bootstrap_check(struct request *r, const char *setup_token)
{
	const char *given = req_header(r, "X-Setup-Token");
	int rc;

	if (given == NULL || *given == '\0')
		given = setup_token;
	rc = given && *given ? security_bootstrap_matches(r->db, given) : 0;
	if (rc == -1) {
		resp_db_unavailable(r);
		return -1;
	}
	if (rc == -2) {
		resp_error(r, 503, "bootstrap_unavailable", "Bootstrap token unavailable; restart "
		    "pulse-worker or inspect its data directory");
		return -1;
	}
	if (rc == 0) {
		resp_error(r, 401, "invalid_bootstrap_token", "A valid bootstrap token is required "
		    "(header X-Setup-Token or field setupToken). Read it with: cat %s/.bootstrap_token",
		    conf_str("data_dir"));
		return -1;
	}
	return 0;
}

/* Who may run a setup: a recovery token holder, anyone authenticated once an admin exists,
 * the bootstrap token's holder before. Sets *has_user and *replace (the admin is to be
 * replaced); returns 0, 1 when the setup is skipped (answered), or -1 after answering. */
static int
setup_authorise(struct request *r, const char *setup_token, int force, int *has_user,
    int *replace)
{
	int tokens, recovery, authorised = 0, via_recovery = 0, rc;
	struct json_object *obj;

	/* Whether an admin exists decides what is required: never from a stale cache. */
	auth_state_forget(r);
	if (auth_state(r, has_user, &tokens, &recovery) != 0) {
		resp_db_unavailable(r);
		return -1;
	}
	rc = security_recovery_valid(r->db, req_header(r, "X-Recovery-Token"), 1);
	if (rc < 0) {
		resp_db_unavailable(r);
		return -1;
	}
	if (rc == 1) {
		authorised = via_recovery = 1;
	} else if (*has_user) {
		if (r->auth.method == AUTH_METHOD_NONE) {
			resp_error(r, 401, "unauthorized",
			    "Authentication required to modify existing security settings");
			return -1;
		}
		authorised = 1;
	} else if (setup_bootstrap_check(r, setup_token) != 0) {
		return -1;
	}
	/* Replacing the admin and minting a full-access token needs what it grants: a
	 * recovery token, or a caller who is already a full admin. */
	if (*has_user && force && authorised && !via_recovery && !may_replace_admin(r, &r->auth))
		return -1;
	if (!principal_has_scope(&r->auth, "settings:write")) {
		resp_missing_scope(r, "settings:write");
		return -1;
	}
	*replace = force && authorised;
	if (*has_user && !*replace) {
		obj = resp_object(r);
		jsonwrite_bool(obj, "success", 1);
		jsonwrite_bool(obj, "skipped", 1);
		jsonwrite_str(obj, "message", "Password authentication is already configured. Please "
		    "remove existing security first if you want to reconfigure.");
		resp_json(r, 200, obj);
		return 1;
	}
	return 0;
}

/* The new admin's fields: present and acceptable. Returns 0, or -1 after answering 400. */
static int
setup_fields_check(struct request *r, const char *user, const char *password,
    const char *api_token)
{
	if (user == NULL || *user == '\0' || password == NULL || *password == '\0' ||
	    api_token == NULL || *api_token == '\0') {
		resp_error(r, 400, "missing_fields", "Username, password, and API token are required");
		return -1;
	}
	if (!username_acceptable(r, user) || !password_acceptable(r, password, "invalid_password"))
		return -1;
	if (strlen(api_token) < SETUP_TOKEN_MIN) {
		resp_error(r, 400, "invalid_token", "apiToken must be at least %d characters long",
		    SETUP_TOKEN_MIN);
		return -1;
	}
	return 0;
}

void
api_quick_setup(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *obj;
	const char *user = NULL, *password = NULL, *api_token = NULL, *setup_token = NULL;
	int force = 0, ignored, has_user, replace, rc;
	char hash[64];
	struct security_token rec;
	struct security_setup setup;

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
	if (setup_authorise(r, setup_token, force, &has_user, &replace) != 0 ||
	    setup_fields_check(r, user, password, api_token) != 0)
		return;
	if (password_hash(password, hash, sizeof(hash)) != 0) {
		resp_error(r, 400, "invalid_password", "password cannot be hashed");
		return;
	}
	setup = (struct security_setup){.user = user, .password_hash = hash, .api_token = api_token,
	    .replacing = has_user,
	    .keep_session = r->auth.method == AUTH_METHOD_SESSION ? r->auth.session_hash : ""};
	rc = security_setup_apply(r->db, &setup, &rec);
	if (rc == SECURITY_CONFLICT) {
		resp_error(r, 409, "setup_done", "Setup was completed by another request");
		return;
	}
	if (rc != SECURITY_OK) {
		answer_token_failure(r, rc);
		return;
	}
	audit_record(r->db, "setup", user, r->client_ip, r->raw_path, 1,
	    has_user ? "Security settings replaced" : "First-run setup completed");
	obj = resp_object(r);
	jsonwrite_bool(obj, "success", 1);
	jsonwrite_str(obj, "method", "database");
	jsonwrite_str(obj, "deploymentType", update_build_current()->deployment);
	jsonwrite_bool(obj, "requiresManualRestart", 0);
	jsonwrite_str(obj, "message", "Security enabled immediately! Your settings are saved and active.");
	resp_json(r, 200, obj);
}

/* --- password and lockout ----------------------------------------------------------- */

void
api_change_password(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *obj;
	const char *current = NULL, *next = NULL;
	char user[SECURITY_USER_MAX], stored[SECURITY_HASH_MAX], hash[64];
	double until;
	int found;

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
	found = security_admin(r->db, user, stored);
	if (found <= 0) {
		if (found < 0)
			resp_db_unavailable(r);
		else
			resp_error(r, 409, "no_password_auth", "No local administrator is configured");
		return;
	}
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
	if (security_password_replace(r->db, user, hash,
	    r->auth.method == AUTH_METHOD_SESSION ? r->auth.session_hash : "") != 0) {
		resp_db_unavailable(r);
		return;
	}
	lockout_password_ok(r, user);
	audit_record(r->db, "password_change", r->auth.username, r->client_ip, r->raw_path, 1,
	    "Password changed; other sessions ended");
	obj = resp_object(r);
	jsonwrite_bool(obj, "success", 1);
	jsonwrite_str(obj, "message", "Password changed. Other sessions have been signed out.");
	jsonwrite_bool(obj, "requiresRestart", 0);
	resp_json(r, 200, obj);
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

static void
recovery_status(struct request *r)
{
	int on = security_recovery_mode(r->db);
	struct json_object *obj;

	if (on < 0) {
		resp_db_unavailable(r);
		return;
	}
	obj = resp_object(r);
	jsonwrite_bool(obj, "recovery_mode", on);
	jsonwrite_str(obj, "message", "Recovery endpoint accessible from localhost only");
	resp_json(r, 200, obj);
}

static void
recovery_generate(struct request *r, int64_t minutes)
{
	struct json_object *obj;
	char text[16], msg[120];
	char *token;

	if (!r->direct_loopback) {
		resp_error(r, 403, "forbidden", "Token generation only allowed from localhost");
		return;
	}
	token = security_recovery_token_new(r->db, (int)minutes, r->client_ip);
	if (token == NULL) {
		resp_db_unavailable(r);
		return;
	}
	arena_defer(r->arena, secret_free, token);
	snprintf(text, sizeof(text), "%lld", (long long)minutes);
	audit_record(r->db, "recovery_token_generated", "", r->client_ip, r->raw_path, 1, text);
	snprintf(msg, sizeof(msg), "Recovery token generated. Valid for %lld minutes.",
	    (long long)minutes);
	obj = resp_object(r);
	jsonwrite_bool(obj, "success", 1);
	jsonwrite_str(obj, "token", token);
	jsonwrite_int(obj, "expires_in_minutes", minutes);
	jsonwrite_str(obj, "message", msg);
	resp_json(r, 200, obj);
}

static void
recovery_switch(struct request *r, int disable)
{
	char note[160];

	snprintf(note, sizeof(note), "enabled from %.64s", r->client_ip);
	if (security_recovery_mode_set(r->db, disable, note) != 0) {
		resp_db_unavailable(r);
		return;
	}
	audit_record(r->db, disable ? "recovery_disable_auth" : "recovery_enable_auth", "",
	    r->client_ip, r->raw_path, 1, disable ? "Recovery mode enabled" : "Recovery mode disabled");
	answer_success(r, 200, disable ? "Recovery mode enabled. Auth disabled for localhost. "
	    "Use enable_auth to re-enable." : "Recovery mode disabled. Authentication re-enabled.");
}

void
api_recovery(struct request *r)
{
	struct json_object *body, *obj;
	const char *action = NULL, *ctype;
	int64_t duration = 15;
	int rc;

	/* Direct loopback, or a recovery token: single use for actions, only checked for a
	 * status read. */
	rc = r->direct_loopback ? 1 : security_recovery_valid(r->db,
	    req_header(r, "X-Recovery-Token"), r->method == REQ_METHOD_POST);
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
		recovery_status(r);
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
	if (body == NULL || req_body_string(r, body, "action", 1, 64, &action) < 0)
		return;
	if (jsonutil_get_int(body, "duration", 1, 60, &duration) != JSONUTIL_OK)
		duration = 15;
	if (strcmp(action, "generate_token") == 0) {
		recovery_generate(r, duration);
	} else if (strcmp(action, "disable_auth") == 0 || strcmp(action, "enable_auth") == 0) {
		recovery_switch(r, action[0] == 'd');
	} else {
		obj = resp_object(r);
		jsonwrite_bool(obj, "success", 0);
		jsonwrite_str(obj, "code", "invalid_action");
		jsonwrite_str(obj, "message",
		    "Invalid action. Use 'generate_token', 'disable_auth' or 'enable_auth'");
		resp_json(r, 400, obj);
	}
}

/* --- status ------------------------------------------------------------------------- */

/* The primary token's hint is for those who manage tokens: a session, or a token that may
 * read settings. A monitoring token learns nothing of another token. */
static int
may_see_hint(const struct principal *p)
{
	return p->method == AUTH_METHOD_SESSION || (p->method == AUTH_METHOD_TOKEN &&
	    (p->scopes & (SCOPE_WILDCARD | SCOPE_SETTINGS_READ)));
}

/* Whether the client is on a private network, and on a trusted one (the configured
 * trusted_networks, the private ranges when none are). */
static void
client_network(struct request *r, int *priv, int *trusted)
{
	struct ipaddr ip;
	struct cidr *nets = NULL;
	int nnets = 0;

	*priv = ip_parse(r->client_ip, &ip) == 0 && ip_is_private(&ip);
	(void)cidr_list_parse(conf_str("trusted_networks"), &nets, &nnets);
	*trusted = nnets ? ip_parse(r->client_ip, &ip) == 0 && cidr_list_contains(nets, nnets, &ip) :
	    *priv;
	free(nets);
}

/* The fields present only while a bootstrap token is active. */
static void
status_bootstrap(struct request *r, struct json_object *o)
{
	jsonwrite_str(o, "bootstrapTokenPath", arena_printf(r->arena, "%s/.bootstrap_token",
	    conf_str("data_dir")));
	jsonwrite_bool(o, "isDocker", access("/.dockerenv", F_OK) == 0);
	jsonwrite_bool(o, "inContainer", access("/.dockerenv", F_OK) == 0 ||
	    access("/run/systemd/container", F_OK) == 0);
}

void
api_security_status(struct request *r)
{
	struct security_status st;
	struct sysconfig settings;
	struct json_object *o, *oidc;
	const struct principal *p = &r->auth;
	int oidc_on, authenticated = p->method == AUTH_METHOD_SESSION || p->method == AUTH_METHOD_TOKEN;
	int proxy = *conf_str("proxy_auth_secret") != '\0';
	int unprotected = conf_bool("allow_unprotected_export"), priv, trusted, guarded;
	const char *host = req_header(r, "Host");

	if (security_status_read(r->db, &st) != 0) {
		resp_db_unavailable(r);
		return;
	}
	if (oidc_config_load(r->db, "", &oidc, NULL, NULL) < 0) {
		resp_db_unavailable(r);
		return;
	}
	req_json(r, oidc);
	oidc_on = oidc_enabled(oidc);
	client_network(r, &priv, &trusted);
	guarded = st.tokens > 0 || st.has_user || proxy || oidc_on;
	o = resp_object(r);
	jsonwrite_bool(o, "apiTokenConfigured", st.tokens > 0);
	jsonwrite_str(o, "apiTokenHint", may_see_hint(p) && st.tokens > 0 ? st.token_hint : "");
	jsonwrite_bool(o, "requiresAuth", guarded);
	jsonwrite_bool(o, "exportProtected", st.tokens > 0 || !unprotected);
	jsonwrite_bool(o, "unprotectedExportAllowed", unprotected);
	jsonwrite_bool(o, "hasAuthentication", guarded);
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
	jsonwrite_str(o, "authUsername", authenticated && st.has_user ? st.user : "");
	jsonwrite_str(o, "authLastModified", authenticated && st.has_user ? st.user_modified : "");
	jsonwrite_str(o, "oidcUsername", oidc_on && p->method == AUTH_METHOD_SESSION && p->oidc ?
	    p->username : "");
	live_settings_get(&settings);
	jsonwrite_bool(o, "hideLocalLogin", settings.hide_local_login);
	jsonwrite_str(o, "agentUrl", host ? arena_printf(r->arena, "%s://%s", r->https ? "https" : "http", host) : "");
	if (p->method == AUTH_METHOD_TOKEN)
		json_object_object_add(o, "tokenScopes", scopes_to_json(p->scopes));
	jsonwrite_bool(o, "oidcEnabled", oidc_on);
	jsonwrite_str(o, "oidcIssuer", jsonread_string(oidc, "issuerUrl", ""));
	jsonwrite_str(o, "oidcClientId", jsonread_string(oidc, "clientId", ""));
	jsonwrite_str(o, "oidcLogoutURL", jsonread_string(oidc, "logoutUrl", ""));
	if (jsonread_member(oidc, "envOverrides"))
		json_object_object_add(o, "oidcEnvOverrides",
		    json_object_get(jsonread_member(oidc, "envOverrides")));
	if (st.bootstrap)
		status_bootstrap(r, o);
	resp_json(r, 200, o);
}

/* The RBAC routes (security.md §8): the original's open-source build has no role manager and
 * answers them, once the licence grants rbac (the route table's gate), with 501
 * rbac_unavailable. We have none either (docs/COMPATIBILITY.md). */
void
api_rbac_unavailable(struct request *r)
{
	resp_error(r, 501, "rbac_unavailable", "RBAC management is not available");
}
