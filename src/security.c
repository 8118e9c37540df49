/* security.c: the statements and transactions behind /api/security and /api/login. */
#include "config.h"

#include "conf.h"
#include "crypto.h"
#include "security.h"
#include "timefmt.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- API tokens --------------------------------------------------------------------- */

static const struct db_stmt stmt_token_insert = {
	"tokens_insert",
	"INSERT INTO pulse.api_tokens (id, name, hash, prefix, suffix, scopes) "
	"VALUES ($1, $2, $3, $4, $5, string_to_array($6, ',')) "
	"RETURNING extract(epoch FROM created_at)",
	6,
};

static const struct db_stmt stmt_tokens_list = {
	"tokens_list",
	"SELECT id, name, prefix, suffix, extract(epoch FROM created_at), "
	"extract(epoch FROM last_used_at), array_to_string(scopes, ',') "
	"FROM pulse.api_tokens ORDER BY created_at DESC, id",
	0,
};

static const struct db_stmt stmt_token_delete = {
	"tokens_delete",
	"DELETE FROM pulse.api_tokens WHERE id::text = lower($1) RETURNING name",
	1,
};

static const struct db_stmt stmt_token_primary_delete = {
	"tokens_primary_delete",
	"DELETE FROM pulse.api_tokens WHERE id = (SELECT id FROM pulse.api_tokens "
	"ORDER BY created_at DESC, id LIMIT 1)",
	0,
};

PGresult *
security_tokens_list(struct db *db)
{
	return db_exec_stmt(db, &stmt_tokens_list, NULL);
}

int
security_token_delete(struct db *db, const char *id, char *name, size_t namelen)
{
	const char *params[1] = {id};
	PGresult *res = db_exec_stmt(db, &stmt_token_delete, params);
	int found;

	if (res == NULL)
		return -1;
	found = PQntuples(res) == 1;
	if (found && name != NULL && namelen > 0)
		snprintf(name, namelen, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return found;
}

int
security_token_insert(struct db *db, const char *raw, const char *name, const char *scopes_csv,
    struct security_token *rec)
{
	char hash[65];
	const char *params[6] = {rec->id, name, hash, rec->prefix, rec->suffix, scopes_csv};
	size_t len = strlen(raw);
	PGresult *res;

	memset(rec, 0, sizeof(*rec));
	crypto_uuid4(rec->id);
	crypto_sha3_256_hex(raw, len, hash);
	if (len >= 10) {
		memcpy(rec->prefix, raw, 6);
		memcpy(rec->suffix, raw + len - 4, 4);
	}
	res = db_exec_stmt(db, &stmt_token_insert, params);
	if (res == NULL)
		return strcmp(db_sqlstate(db), "23505") == 0 ? SECURITY_DUPLICATE : SECURITY_DB_ERROR;
	timefmt_rfc3339(strtod(PQgetvalue(res, 0, 0), NULL), rec->created, sizeof(rec->created));
	PQclear(res);
	return SECURITY_OK;
}

int
security_token_regenerate(struct db *db, const char *raw, const char *name,
    const char *scopes_csv, struct security_token *rec)
{
	int rc;

	if (db_begin(db) != 0)
		return SECURITY_DB_ERROR;
	if (db_exec_stmt_ok(db, &stmt_token_primary_delete, NULL) != 0) {
		db_rollback(db);
		return SECURITY_DB_ERROR;
	}
	rc = security_token_insert(db, raw, name, scopes_csv, rec);
	if (rc == SECURITY_OK && db_commit(db) != 0)
		rc = SECURITY_DB_ERROR;
	if (rc != SECURITY_OK)
		db_rollback(db);
	return rc;
}

/* --- bootstrap and recovery tokens -------------------------------------------------- */

static const struct db_stmt stmt_bootstrap_hash = {
	"bootstrap_hash",
	"SELECT value FROM pulse.security_state WHERE key = 'bootstrap_token_hash'",
	0,
};

int
security_bootstrap_matches(struct db *db, const char *token)
{
	PGresult *res = db_exec_stmt(db, &stmt_bootstrap_hash, NULL);
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

int
security_recovery_valid(struct db *db, const char *token, int consume)
{
	char hash[65];
	const char *params[1] = {hash};
	PGresult *res;
	int ok;

	if (token == NULL || *token == '\0')
		return 0;
	crypto_sha256_hex(token, strlen(token), hash);
	res = db_exec_stmt(db, consume ? &stmt_recovery_consume : &stmt_recovery_peek, params);
	if (res == NULL)
		return -1;
	ok = PQntuples(res) == 1;
	PQclear(res);
	return ok;
}

char *
security_recovery_token_new(struct db *db, int minutes, const char *client_ip)
{
	char text[16], hash[65];
	const char *params[3] = {hash, text, client_ip};
	char *token = crypto_random_hex(32);

	crypto_sha256_hex(token, strlen(token), hash);
	snprintf(text, sizeof(text), "%d", minutes);
	if (db_exec_stmt_ok(db, &stmt_recovery_insert, params) != 0) {
		secret_free(token);
		return NULL;
	}
	return token;
}

int
security_recovery_mode(struct db *db)
{
	PGresult *res = db_exec_stmt(db, &stmt_recovery_mode, NULL);
	int on;

	if (res == NULL)
		return -1;
	on = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return on;
}

int
security_recovery_mode_set(struct db *db, int on, const char *note)
{
	const char *params[1] = {note};

	return db_exec_stmt_ok(db, on ? &stmt_recovery_mode_on : &stmt_recovery_mode_off,
	    on ? params : NULL);
}

/* --- first-run setup ---------------------------------------------------------------- */

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

/* The statements of a setup, inside the transaction the caller opened. */
static int
setup_statements(struct db *db, const struct security_setup *s, struct security_token *rec)
{
	const char *user[2] = {s->user, s->password_hash};
	const char *keep[1] = {s->keep_session};
	PGresult *res = db_exec_stmt(db, &stmt_setup_lock, NULL);
	int done, rc;

	if (res == NULL)
		return SECURITY_DB_ERROR;
	done = strcmp(PQgetvalue(res, 0, 1), "0") != 0;
	PQclear(res);
	if (done && !s->replacing)
		return SECURITY_CONFLICT;
	if (db_exec_stmt_ok(db, &stmt_setup_users_delete, NULL) != 0 ||
	    db_exec_stmt_ok(db, &stmt_setup_user_insert, user) != 0)
		return SECURITY_DB_ERROR;
	rc = security_token_insert(db, s->api_token, "Primary token", "*", rec);
	if (rc != SECURITY_OK)
		return rc;
	if (db_exec_stmt_ok(db, &stmt_setup_bootstrap_delete, NULL) != 0)
		return SECURITY_DB_ERROR;
	/* A new password ends every session but the caller's own. */
	if (s->replacing && db_exec_stmt_ok(db, &stmt_sessions_delete_others, keep) != 0)
		return SECURITY_DB_ERROR;
	return SECURITY_OK;
}

int
security_setup_apply(struct db *db, const struct security_setup *s, struct security_token *rec)
{
	char *path;
	int rc;

	if (db_begin(db) != 0)
		return SECURITY_DB_ERROR;
	rc = setup_statements(db, s, rec);
	if (rc == SECURITY_OK && db_commit(db) != 0)
		rc = SECURITY_DB_ERROR;
	if (rc != SECURITY_OK) {
		db_rollback(db);
		return rc;
	}
	/* The bootstrap file, when it is on this host; the worker removes it elsewhere. */
	path = xasprintf("%s/.bootstrap_token", conf_str("data_dir"));
	(void)unlink(path);
	free(path);
	return SECURITY_OK;
}

/* --- the administrator's password --------------------------------------------------- */

const char *
security_password_problem(const char *password)
{
	if (strlen(password) < SECURITY_PASSWORD_MIN)
		return "password must be at least 12 characters long";
	if (strlen(password) > SECURITY_PASSWORD_MAX)
		return "password must be at most 72 bytes long";
	return NULL;
}

const char *
security_username_problem(const char *user)
{
	if (*user == '\0')
		return "username is required";
	for (const unsigned char *p = (const unsigned char *)user; *p; p++) {
		if (*p < 0x21 || *p == 0x7f || *p == ':')
			return "username must not contain spaces, control characters or ':'";
	}
	return NULL;
}

static const struct db_stmt stmt_admin_user = {
	"security_admin_user",
	"SELECT username, password_hash FROM pulse.users ORDER BY created_at LIMIT 1",
	0,
};
static const struct db_stmt stmt_password_hash = {
	"login_password_hash",
	"SELECT password_hash FROM pulse.users WHERE username = $1",
	1,
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

int
security_admin(struct db *db, char user[SECURITY_USER_MAX], char hash[SECURITY_HASH_MAX])
{
	PGresult *res = db_exec_stmt(db, &stmt_admin_user, NULL);
	int found;

	if (res == NULL)
		return -1;
	found = PQntuples(res) == 1;
	if (found) {
		snprintf(user, SECURITY_USER_MAX, "%s", PQgetvalue(res, 0, 0));
		snprintf(hash, SECURITY_HASH_MAX, "%s", PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return found;
}

int
security_password_of(struct db *db, const char *user, char hash[SECURITY_HASH_MAX])
{
	const char *params[1] = {user};
	PGresult *res = db_exec_stmt(db, &stmt_password_hash, params);
	int found;

	if (res == NULL)
		return -1;
	found = PQntuples(res) == 1;
	if (found)
		snprintf(hash, SECURITY_HASH_MAX, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return found;
}

int
security_password_replace(struct db *db, const char *user, const char *hash,
    const char *keep_session)
{
	const char *update[2] = {user, hash};
	const char *sessions[2] = {user, keep_session};

	if (db_begin(db) != 0)
		return -1;
	if (db_exec_stmt_ok(db, &stmt_password_update, update) != 0 ||
	    db_exec_stmt_ok(db, &stmt_sessions_delete_user_others, sessions) != 0 ||
	    db_commit(db) != 0) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

/* --- status ------------------------------------------------------------------------- */

static const struct db_stmt stmt_status = {
	"security_status",
	"SELECT (SELECT username FROM pulse.users ORDER BY created_at LIMIT 1), "
	"(SELECT extract(epoch FROM updated_at) "
	"  FROM pulse.users ORDER BY created_at LIMIT 1), "
	"(SELECT count(*) FROM pulse.api_tokens), "
	"(SELECT prefix || '...' || suffix FROM pulse.api_tokens ORDER BY created_at DESC, id LIMIT 1), "
	"(SELECT left(hash, 4) || '...' || right(hash, 4) FROM pulse.api_tokens "
	"  ORDER BY created_at DESC, id LIMIT 1), "
	"EXISTS (SELECT 1 FROM pulse.security_state WHERE key = 'bootstrap_token_hash')",
	0,
};

int
security_status_read(struct db *db, struct security_status *st)
{
	PGresult *res = db_exec_stmt(db, &stmt_status, NULL);
	int64_t tokens = 0;
	int prefixed;

	memset(st, 0, sizeof(*st));
	if (res == NULL)
		return -1;
	st->has_user = !PQgetisnull(res, 0, 0);
	snprintf(st->user, sizeof(st->user), "%s", PQgetvalue(res, 0, 0));
	if (!PQgetisnull(res, 0, 1))
		timefmt_rfc3339(strtod(PQgetvalue(res, 0, 1), NULL), st->user_modified,
		    sizeof(st->user_modified));
	(void)parse_int64(PQgetvalue(res, 0, 2), 0, INT32_MAX, &tokens);
	st->tokens = (int)tokens;
	/* A token too short for a prefix is hinted at by its hash. */
	prefixed = !PQgetisnull(res, 0, 3) && strcmp(PQgetvalue(res, 0, 3), "...") != 0;
	snprintf(st->token_hint, sizeof(st->token_hint), "%s", PQgetvalue(res, 0, prefixed ? 3 : 4));
	st->bootstrap = PQgetvalue(res, 0, 5)[0] == 't';
	PQclear(res);
	return 0;
}
