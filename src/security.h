/* security.h: the statements and transactions behind /api/security and /api/login: API
 * tokens, the bootstrap and recovery tokens, first-run setup, the administrator's password
 * and the security status.
 *
 * Every function takes the caller's database connection and returns what it read in the
 * caller's buffers: no result, object or allocation outlives a call unless it says so.
 * Errors: SECURITY_DB_ERROR (-1) when a statement failed (logged by db.c; a transaction is
 * rolled back), or one of the other negative codes below where the caller answers
 * differently. Secrets (raw tokens, passwords) are hashed here and never logged. */
#ifndef PULSE_SECURITY_H
#define PULSE_SECURITY_H

#include <stddef.h>

#include "db.h"

enum security_rc {
	SECURITY_OK = 0,
	SECURITY_DB_ERROR = -1,
	SECURITY_DUPLICATE = -2,	/* a token with that value exists */
	SECURITY_CONFLICT = -3,		/* setup was completed by another request */
};

/* Room for a stored password hash (bcrypt's is 60 bytes). */
#define SECURITY_HASH_MAX 128
/* Room for a user name (the API takes at most 128 bytes). */
#define SECURITY_USER_MAX 136

/* A stored API token as the API shows it: prefix and suffix are empty for a token shorter
 * than 10 characters; created is RFC 3339 in UTC to the second. */
struct security_token {
	char id[37];
	char prefix[7];
	char suffix[5];
	char created[32];
};

/* Stores a token of the raw value given (only its SHA3-256 is kept) under a new id, with the
 * comma list of scope names scopes_csv. Returns SECURITY_OK with *rec filled,
 * SECURITY_DUPLICATE or SECURITY_DB_ERROR. */
int security_token_insert(struct db *db, const char *raw, const char *name,
    const char *scopes_csv, struct security_token *rec);

/* Every stored token, newest first: a result the caller clears (NULL on a database error)
 * with the columns id, name, prefix, suffix, created_at and last_used_at (unix seconds; NULL
 * never used) and scopes (a comma list; empty means every scope). */
PGresult *security_tokens_list(struct db *db);

/* Deletes (revokes) the token with this id; its name into name. Returns 1 deleted, 0 none
 * with that id, -1 on a database error. The responders hear of it at once (NOTIFY
 * pulse_auth, sent by the table's trigger). */
int security_token_delete(struct db *db, const char *id, char *name, size_t namelen);

/* Replaces the primary (newest) token by one of the raw value given, in one transaction:
 * every other token keeps working. Returns as security_token_insert. */
int security_token_regenerate(struct db *db, const char *raw, const char *name,
    const char *scopes_csv, struct security_token *rec);

/* 1 when token (surrounding whitespace forgiven) is the active bootstrap token, 0 when not,
 * -2 when no bootstrap token is active, -1 on a database error. */
int security_bootstrap_matches(struct db *db, const char *token);

/* 1 when token is an unused, unexpired recovery token (then used up when consume is set),
 * 0 when it is not (or NULL or empty), -1 on a database error. */
int security_recovery_valid(struct db *db, const char *token, int consume);

/* A new recovery token valid for minutes, recorded as asked from client_ip: the raw value
 * is the caller's to wipe and free (secret_free), NULL on a database error. */
char *security_recovery_token_new(struct db *db, int minutes, const char *client_ip);

/* 1 when recovery mode is on, 0 when off, -1 on a database error. */
int security_recovery_mode(struct db *db);
/* Switches recovery mode on (with note, e.g. where from) or off. Returns 0 or -1. */
int security_recovery_mode_set(struct db *db, int on, const char *note);

/* First-run setup (or its forced replay): everything or nothing. */
struct security_setup {
	const char *user;
	const char *password_hash;	/* password_hash()'s output */
	const char *api_token;		/* raw; stored as a full-access token */
	int replacing;			/* an administrator existed when the request began */
	const char *keep_session;	/* a session hash that survives a replacement ("" none) */
};

/* Replaces the administrator, stores the primary token and ends the bootstrap token in one
 * transaction; a replacement also ends every session but keep_session. Setups are
 * serialised, and whether an administrator exists is read again inside: a first-run setup
 * that finds one returns SECURITY_CONFLICT. On success the bootstrap file in data_dir is
 * removed when it is on this host. Returns SECURITY_OK with *rec, or a code above. */
int security_setup_apply(struct db *db, const struct security_setup *s,
    struct security_token *rec);

/* The administrator (the first user created): 1 with its name and password hash, 0 when
 * there is none, -1 on a database error. */
int security_admin(struct db *db, char user[SECURITY_USER_MAX], char hash[SECURITY_HASH_MAX]);

/* user's password hash: 1 with it, 0 for an unknown user, -1 on a database error. */
int security_password_of(struct db *db, const char *user, char hash[SECURITY_HASH_MAX]);

/* Sets user's password hash and ends user's other sessions (all but keep_session) in one
 * transaction. Returns 0 or -1. */
int security_password_replace(struct db *db, const char *user, const char *hash,
    const char *keep_session);

/* A new administrator password's limits (bcrypt reads at most 72 bytes). */
#define SECURITY_PASSWORD_MIN 12
#define SECURITY_PASSWORD_MAX 72

/* Why a new password is refused (the API's message), or NULL when it is acceptable. */
const char *security_password_problem(const char *password);

/* Why a user name is refused (the API's message), or NULL when it is acceptable. */
const char *security_username_problem(const char *user);

/* What GET /api/security/status reports of the stored state. */
struct security_status {
	int has_user;
	char user[SECURITY_USER_MAX];
	char user_modified[32];		/* RFC 3339 in UTC, "" without a user */
	int tokens;			/* API tokens stored */
	char token_hint[80];		/* the primary token's "abcdef...wxyz", "" without one */
	int bootstrap;			/* a bootstrap token is active */
};

/* Reads the status in one statement. Returns 0 or -1. */
int security_status_read(struct db *db, struct security_status *st);

#endif
