/* security.c: the worker's security jobs: the first-run bootstrap token, the secrets key
 * fingerprint every host must share, and pruning of expired sessions, counters and tokens. */
#include "config.h"

#include "audit.h"
#include "conf.h"
#include "crypto.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BOOTSTRAP_FILE ".bootstrap_token"

static const struct db_stmt stmt_credentials = {
	"bootstrap_credentials",
	"SELECT (SELECT count(*) FROM pulse.users) + (SELECT count(*) FROM pulse.api_tokens), "
	"(SELECT value FROM pulse.security_state WHERE key = 'bootstrap_token_hash'), "
	"(SELECT value FROM pulse.security_state WHERE key = 'bootstrap_token_host')",
	0,
};
static const struct db_stmt stmt_bootstrap_claim = {
	"bootstrap_claim",
	"INSERT INTO pulse.security_state (key, value) VALUES ('bootstrap_token_hash', $1), "
	"('bootstrap_token_host', $2) ON CONFLICT (key) DO NOTHING RETURNING key",
	2,
};
static const struct db_stmt stmt_bootstrap_replace = {
	"bootstrap_replace",
	"UPDATE pulse.security_state SET value = $1, updated_at = now() "
	"WHERE key = 'bootstrap_token_hash'",
	1,
};
static const struct db_stmt stmt_bootstrap_clear = {
	"bootstrap_clear",
	"DELETE FROM pulse.security_state WHERE key IN ('bootstrap_token_hash', 'bootstrap_token_host')",
	0,
};

/* Reads the token file; returns a new string without the newline, or NULL. Only a regular
 * file of ours that nobody else can read or write counts: a symlink or a file someone else
 * placed may hold a token of their choosing. */
static char *
read_token_file(const char *path)
{
	char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		close(fd);
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf[0] ? xstrdup(buf) : NULL;
}

/* Writes token to path, mode 0600, replacing it atomically. The temporary file gets a
 * name nobody can guess and is created new (mkostemp: O_EXCL, mode 0600), so nothing placed
 * in data_dir beforehand (a symlink, a file with looser permissions) is followed or kept. */
static int
write_token_file(const char *path, const char *token)
{
	char *tmp = xasprintf("%s.XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC), rc = -1;

	if (fd >= 0) {
		if (write(fd, token, strlen(token)) == (ssize_t)strlen(token) && write(fd, "\n", 1) == 1 &&
		    fsync(fd) == 0 && rename(tmp, path) == 0)
			rc = 0;
		close(fd);
	}
	if (rc != 0) {
		log_error("msg=\"cannot write the bootstrap token file\" path=%s error=\"%s\"", path,
		    strerror(errno));
		if (fd >= 0)
			unlink(tmp);
	}
	free(tmp);
	return rc;
}

/* While no credential exists, a bootstrap token guards first-run setup: 24 random bytes in
 * hex, in <data_dir>/.bootstrap_token (0600) on this host, its SHA3-256 in the database. The
 * token itself is never logged. Once credentials exist, both are removed. */
int
job_bootstrap_token(struct worker *w, struct job *job)
{
	char *path = xasprintf("%s/" BOOTSTRAP_FILE, conf_str("data_dir"));
	char *token = NULL, hash[65];
	const char *params[2];
	PGresult *res;
	int64_t credentials = 0;
	int rc = -1, have_db, ours;

	(void)job;
	res = db_exec_stmt(w->db, &stmt_credentials, NULL);
	if (res == NULL)
		goto out;
	(void)parse_int64(PQgetvalue(res, 0, 0), 0, INT64_MAX, &credentials);
	have_db = !PQgetisnull(res, 0, 1);
	ours = !PQgetisnull(res, 0, 2) && strcmp(PQgetvalue(res, 0, 2), w->host) == 0;
	if (credentials > 0 || *conf_str("proxy_auth_secret")) {
		PQclear(res);
		if (have_db) {
			db_exec_stmt_ok(w->db, &stmt_bootstrap_clear, NULL);
		}
		if (unlink(path) == 0)
			log_info("msg=\"bootstrap token removed: credentials are configured\" path=%s", path);
		rc = 0;
		goto out;
	}
	token = read_token_file(path);
	if (have_db && token) {
		crypto_sha3_256_hex(token, strlen(token), hash);
		if (strcmp(hash, PQgetvalue(res, 0, 1)) == 0) {
			PQclear(res);
			rc = 0;	/* the file here is the active token */
			goto out;
		}
	}
	if (have_db && !ours) {
		/* Another host's worker made the active token; ours would not work. */
		log_info("msg=\"bootstrap token is held by another host\" host=%.64s",
		    PQgetisnull(res, 0, 2) ? "?" : PQgetvalue(res, 0, 2));
		PQclear(res);
		if (token && unlink(path) == 0)
			log_warn("msg=\"stale bootstrap token file removed\" path=%s", path);
		rc = 0;
		goto out;
	}
	PQclear(res);
	/* None yet, or ours was lost (file deleted): make a new one. */
	free(token);
	token = crypto_random_hex(24);
	crypto_sha3_256_hex(token, strlen(token), hash);
	if (write_token_file(path, token) != 0)
		goto out;
	params[0] = hash;
	params[1] = w->host;
	res = db_exec_stmt(w->db, have_db ? &stmt_bootstrap_replace : &stmt_bootstrap_claim, params);
	if (res == NULL) {
		unlink(path);
		goto out;
	}
	if (!have_db && PQntuples(res) == 0) {
		/* Another worker claimed first: its token is the one. */
		unlink(path);
		PQclear(res);
		rc = 0;
		goto out;
	}
	PQclear(res);
	log_warn("msg=\"first-run setup needed: a bootstrap token was written; complete setup with "
	    "POST /api/security/quick-setup\" path=%s", path);
	rc = 0;
out:
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	free(path);
	return rc;
}

static const struct db_stmt stmt_key_claim = {
	"secrets_key_claim",
	"INSERT INTO pulse.security_state (key, value) VALUES ('secrets_key_id', $1) "
	"ON CONFLICT (key) DO NOTHING",
	1,
};
static const struct db_stmt stmt_key_read = {
	"secrets_key_read",
	"SELECT value FROM pulse.security_state WHERE key = 'secrets_key_id'",
	0,
};

int
worker_check_secrets_key(struct worker *w)
{
	char id[17];
	const char *params[1] = {id};
	PGresult *res;
	int rc;

	secrets_key_id(id);
	res = db_exec_stmt(w->db, &stmt_key_claim, params);
	if (res == NULL)
		return -1;
	PQclear(res);
	res = db_exec_stmt(w->db, &stmt_key_read, NULL);
	if (res == NULL)
		return -1;
	rc = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), id) == 0 ? 0 : 1;
	if (rc)
		log_error("msg=\"this host's secrets key differs from the one the database was set up "
		    "with: copy .encryption.key from the first host into data_dir\" key_id=%s expected=%s",
		    id, PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "?");
	PQclear(res);
	return rc;
}

static const char *const prune_sql[] = {
	"DELETE FROM pulse.sessions WHERE expires_at < now()",
	"DELETE FROM pulse.rate_limit_hits WHERE window_start < extract(epoch FROM now()) - 3600",
	"DELETE FROM pulse.recovery_tokens WHERE expires_at < now() - interval '1 day'",
	"DELETE FROM pulse.login_failures WHERE last_failure < now() - interval '1 day' "
	"AND (locked_until IS NULL OR locked_until < now())",
};

int
job_auth_prune(struct worker *w, struct job *job)
{
	long deleted;

	(void)job;
	for (size_t i = 0; i < ARRAY_LEN(prune_sql); i++) {
		if (db_exec(w->db, prune_sql[i]) != 0) {
			log_warn("msg=\"auth prune failed\" error=\"%s\"", db_error(w->db));
			return -1;
		}
	}
	/* Security events older than audit_retention_days go in one cut that anchors the hash
	 * chain (src/audit.c); the cut is itself recorded. */
	deleted = audit_prune(w->db, (int)conf_int("audit_retention_days"));
	if (deleted < 0) {
		log_warn("msg=\"audit prune failed\" error=\"%s\"", db_error(w->db));
		return -1;
	}
	if (deleted > 0)
		log_info("msg=\"audit events pruned\" count=%ld retention_days=%lld", deleted,
		    (long long)conf_int("audit_retention_days"));
	return 0;
}
