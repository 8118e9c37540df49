/* session.c: browser sessions: their cookies, creation and deletion, CSRF tokens and the
 * origin check of proxy-authenticated changes. */
#include "config.h"

#include "session.h"
#include "audit.h"
#include "crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Adds a Set-Cookie header (Path=/, SameSite=Lax; Secure when the client came over TLS); a
 * negative max_age expires the cookie. value must be cookie-safe (hex, base64url). */
static void
set_cookie(struct request *r, const char *name, const char *value, long max_age, int http_only)
{
	char *v = arena_printf(r->arena, "%s=%s; Path=/; Max-Age=%ld%s%s; SameSite=Lax", name, value,
	    max_age, http_only ? "; HttpOnly" : "", r->https ? "; Secure" : "");
	resp_header(r, "Set-Cookie", v);
}

static const struct db_stmt stmt_csrf_set = {
	"auth_csrf_set",
	"UPDATE pulse.sessions SET csrf_hash = $2 WHERE key_hash = $1 "
	"RETURNING extract(epoch FROM expires_at - now())",
	2,
};

int
csrf_issue(struct request *r, const char *session_hash, long max_age)
{
	unsigned char raw[32];
	char *token, hash[65];
	const char *params[2] = {session_hash, hash};
	PGresult *res;

	crypto_random(raw, sizeof(raw));
	token = base64_encode(raw, sizeof(raw), 1, 1);
	crypto_sha256_hex(token, strlen(token), hash);
	res = db_exec_stmt(r->db, &stmt_csrf_set, params);
	if (res == NULL || PQntuples(res) != 1) {
		if (res)
			PQclear(res);
		free(token);
		return -1;
	}
	if (max_age <= 0)
		max_age = (long)strtod(PQgetvalue(res, 0, 0), NULL);
	PQclear(res);
	set_cookie(r, CSRF_COOKIE, token, max_age, 0);
	resp_header(r, "X-CSRF-Token", token);
	free(token);
	return 0;
}

static const struct db_stmt stmt_csrf_current = {
	"auth_csrf_current",
	"SELECT csrf_hash FROM pulse.sessions WHERE key_hash = $1 AND expires_at > now()",
	1,
};

/* Whether hash is the session's CSRF token hash in the database now (a rotation on another
 * thread may be newer than the cached session). A database error counts as no. */
static int
csrf_current(struct request *r, const char *session_hash, const char *hash)
{
	const char *params[1] = {session_hash};
	PGresult *res = db_exec_stmt(r->db, &stmt_csrf_current, params);
	int ok;

	if (res == NULL)
		return 0;
	ok = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
	    ct_equal(hash, 64, PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)));
	PQclear(res);
	return ok;
}

int
csrf_check(struct request *r, const struct principal *p)
{
	const char *given = req_header(r, "X-CSRF-Token");
	char hash[65];

	if (given && *given) {
		crypto_sha256_hex(given, strlen(given), hash);
		if (p->csrf_hash[0] && ct_equal(hash, 64, p->csrf_hash, strlen(p->csrf_hash)))
			return 0;
		/* The cached session may predate a rotation on another thread whose notification
		 * has not arrived yet: ask the database before refusing. */
		if (csrf_current(r, p->session_hash, hash))
			return 0;
	}
	/* Rotate: the client retries once with the token it receives here. */
	(void)csrf_issue(r, p->session_hash, 0);
	audit_record(r->db, "csrf_failure", p->username, r->client_ip, r->raw_path, 0,
	    given && *given ? "CSRF token mismatch" : "CSRF token missing");
	resp_error(r, 403, "csrf_failed", "CSRF token validation failed");
	return -1;
}

/* The host[:port] of an Origin ("https://pulse.example:7655"), or NULL for "null" and
 * anything that is not scheme://host. */
static const char *
origin_host(const char *origin)
{
	const char *p = strstr(origin, "://");

	if (p == NULL || p[3] == '\0' || strchr(p + 3, '/') != NULL)
		return NULL;
	return p + 3;
}

int
origin_check(struct request *r, const struct principal *p)
{
	const char *site = req_header(r, "Sec-Fetch-Site");
	const char *origin = req_header(r, "Origin");
	const char *host = req_header(r, "Host");
	const char *why = NULL, *oh;

	/* Browsers say where a request comes from; other clients say nothing and are let
	 * through (their credentials are the proxy's, not a cookie). */
	if (site != NULL) {
		if (strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
			why = "cross-site request (Sec-Fetch-Site)";
	} else if (origin != NULL) {
		oh = origin_host(origin);
		if (oh == NULL || host == NULL || strcasecmp(oh, host) != 0)
			why = "cross-origin request (Origin)";
	}
	if (why == NULL)
		return 0;
	audit_record(r->db, "csrf_failure", p->username, r->client_ip, r->raw_path, 0, why);
	resp_error(r, 403, "csrf_failed", "Cross-site request refused: %s", why);
	return -1;
}

static const struct db_stmt stmt_session_insert = {
	"auth_session_insert",
	"INSERT INTO pulse.sessions (key_hash, username, expires_at, duration, user_agent, client_ip, "
	"admin, oidc_issuer) "
	"VALUES ($1, $2, now() + make_interval(secs => $3::double precision), "
	"make_interval(secs => $3::double precision), $4, $5, $6, $7)",
	7,
};

int
session_create(struct request *r, const char *username, long lifetime_s)
{
	return session_create_as(r, username, lifetime_s, 1, NULL);
}

int
session_create_as(struct request *r, const char *username, long lifetime_s, int admin,
    const char *oidc_issuer)
{
	char *token = crypto_random_hex(32), hash[65], life[24];
	const char *ua = req_header(r, "User-Agent");
	char *ua_short = arena_strndup(r->arena, ua ? ua : "", ua && strlen(ua) > 256 ? 256 : (ua ? strlen(ua) : 0));
	const char *params[7] = {hash, username, life, ua_short, r->client_ip,
	    admin ? "true" : "false", oidc_issuer};
	PGresult *res;

	crypto_sha256_hex(token, strlen(token), hash);
	snprintf(life, sizeof(life), "%ld", lifetime_s);
	res = db_exec_stmt(r->db, &stmt_session_insert, params);
	if (res == NULL) {
		secret_free(token);
		return -1;
	}
	PQclear(res);
	set_cookie(r, SESSION_COOKIE, token, lifetime_s, 1);
	secret_free(token);
	return csrf_issue(r, hash, lifetime_s);
}

static const struct db_stmt stmt_session_delete = {
	"auth_session_delete",
	"DELETE FROM pulse.sessions WHERE key_hash = $1",
	1,
};

int
session_delete(struct request *r, const char *session_hash)
{
	const char *params[1] = {session_hash};

	return db_exec_stmt_ok(r->db, &stmt_session_delete, params);
}

void
session_clear_cookies(struct request *r)
{
	set_cookie(r, SESSION_COOKIE, "", -1, 1);
	set_cookie(r, CSRF_COOKIE, "", -1, 0);
}
