/* auth.c: who is asking: the client address, the credentials (proxy, API token, session,
 * Basic) with the per-thread cache that verifies them, and scopes. */
#include "config.h"

#include "auth.h"
#include "conf.h"
#include "crypto.h"
#include "live_settings.h"
#include "netaddr.h"
#include "ratelimit.h"
#include "responder.h"
#include "session.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Cached credentials are re-read at least this often, even without a notification. */
#define CACHE_TTL 30.0
/* last_used_at and sliding session expiry are written at most this often per credential. */
#define TOUCH_INTERVAL 60.0
#define CACHE_SLOTS 128

static struct cidr *trusted_proxies;
static int ntrusted_proxies;
static unsigned char basic_pepper[32];

enum cache_kind { CACHE_EMPTY, CACHE_TOKEN, CACHE_SESSION, CACHE_BASIC };

struct cache_entry {
	enum cache_kind kind;
	char key[65];
	double cached_at;	/* monotonic */
	double touched_at;	/* monotonic: last last_used_at / expiry write */
	double expires_wall;	/* sessions */
	struct principal p;
};

struct auth_cache {
	struct cache_entry slot[CACHE_SLOTS];
	int state_loaded;
	double state_at;
	int has_user, token_count, recovery_mode;
};

struct auth_cache *
auth_cache_new(void)
{
	return xcalloc(1, sizeof(struct auth_cache));
}

void
auth_cache_free(struct auth_cache *c)
{
	secret_free_n(c, sizeof(*c));
}

/* Forgets every cached credential and the state of authentication. The locks this thread
 * heard of are lockout's (ratelimit.c) and stay. */
static void
cache_flush(struct auth_cache *c)
{
	memset(c->slot, 0, sizeof(c->slot));
	c->state_loaded = 0;
}

/* The one slot key may live in: key is a lowercase hex digest, its first six digits pick. */
static struct cache_entry *
cache_slot(struct auth_cache *c, const char *key)
{
	unsigned h = 0;

	for (int i = 0; i < 6 && key[i]; i++)
		h = h * 16 + (unsigned)(isdigit((unsigned char)key[i]) ? key[i] - '0' : key[i] - 'a' + 10);
	return &c->slot[h % CACHE_SLOTS];
}

/* The cached entry of this kind for key, or NULL (an entry older than CACHE_TTL is
 * dropped). */
static struct cache_entry *
cache_find(struct auth_cache *c, enum cache_kind kind, const char *key)
{
	struct cache_entry *e = cache_slot(c, key);

	if (e->kind != kind || strcmp(e->key, key) != 0)
		return NULL;
	if (clock_monotonic() - e->cached_at > CACHE_TTL) {
		e->kind = CACHE_EMPTY;
		return NULL;
	}
	return e;
}

/* Caches p under key (replacing what held the slot); returns the entry for the caller to
 * add to. */
static struct cache_entry *
cache_put(struct auth_cache *c, enum cache_kind kind, const char *key, const struct principal *p)
{
	struct cache_entry *e = cache_slot(c, key);

	memset(e, 0, sizeof(*e));
	e->kind = kind;
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->cached_at = e->touched_at = clock_monotonic();
	e->p = *p;
	return e;
}

int
auth_init(char *err, size_t errlen)
{
	int bad = cidr_list_parse(conf_str("trusted_proxies"), &trusted_proxies, &ntrusted_proxies);

	if (bad > 0) {
		snprintf(err, errlen, "trusted_proxies: %d entries are not addresses or CIDR ranges", bad);
		return -1;
	}
	crypto_random(basic_pepper, sizeof(basic_pepper));
	return 0;
}

/* --- client address ----------------------------------------------------------------- */

/* The client behind a chain of trusted proxies: X-Forwarded-For read from the right (each
 * proxy appends the address it saw), skipping our own proxies. The leftmost entries are
 * whatever the client wrote, so they count only when every entry after them is a trusted
 * proxy. NULL when the list holds something that is not an address before that point. */
static const char *
rightmost_untrusted(struct request *r, const char *xff)
{
	const char *end = xff + strlen(xff), *last = NULL;

	while (end > xff) {
		const char *start = end;
		char *cand;
		struct ipaddr ip;
		size_t len;

		while (start > xff && start[-1] != ',')
			start--;
		len = (size_t)(end - start);
		while (len > 0 && (*start == ' ' || *start == '\t')) {
			start++;
			len--;
		}
		while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
			len--;
		cand = arena_strndup(r->arena, start, len);
		if (ip_parse(cand, &ip) != 0)
			return last;
		last = cand;
		if (!cidr_list_contains(trusted_proxies, ntrusted_proxies, &ip))
			return cand;
		while (end > xff && end[-1] != ',')
			end--;
		if (end > xff)
			end--;	/* the comma */
	}
	return last;
}

/* The request headers that decide who the client is, found in one pass over the FastCGI
 * parameters (this runs for every request, health checks included). */
enum client_header {
	HDR_FORWARDED_FOR, HDR_REAL_IP, HDR_FORWARDED_PROTO, HDR_FORWARDED, HDR_CF_CONNECTING_IP,
	HDR_TRUE_CLIENT_IP, HDR_CLIENT_IP, HDR_ORIGINAL_FORWARDED_FOR, HDR_COUNT
};

struct client_headers {
	const char *value[HDR_COUNT];
	const char *https;	/* the HTTPS parameter of the web server */
	int forwarded;		/* a header by which a proxy says it forwards someone else */
};

/* Fills h from the FastCGI parameters; the values point into the request's parameters. */
static void
read_client_headers(struct request *r, struct client_headers *h)
{
	static const struct {
		const char *name;	/* after "HTTP_", with the '=' */
		size_t len;
		int forwarding;
	} names[HDR_COUNT] = {
#define H(i, s, f) [i] = {s "=", sizeof(s), f}
		H(HDR_FORWARDED_FOR, "X_FORWARDED_FOR", 1), H(HDR_REAL_IP, "X_REAL_IP", 1),
		H(HDR_FORWARDED_PROTO, "X_FORWARDED_PROTO", 0), H(HDR_FORWARDED, "FORWARDED", 1),
		H(HDR_CF_CONNECTING_IP, "CF_CONNECTING_IP", 1), H(HDR_TRUE_CLIENT_IP, "TRUE_CLIENT_IP", 1),
		H(HDR_CLIENT_IP, "X_CLIENT_IP", 1), H(HDR_ORIGINAL_FORWARDED_FOR, "X_ORIGINAL_FORWARDED_FOR", 1),
#undef H
	};

	memset(h, 0, sizeof(*h));
	for (char **env = r->fcgx->envp; *env; env++) {
		const char *e = *env;

		if (strncmp(e, "HTTPS=", 6) == 0) {
			h->https = e + 6;
			continue;
		}
		if (strncmp(e, "HTTP_", 5) != 0)
			continue;
		e += 5;
		for (int i = 0; i < HDR_COUNT; i++) {
			if (strncmp(e, names[i].name, names[i].len) == 0) {
				h->value[i] = e + names[i].len;
				h->forwarded |= names[i].forwarding;
				break;
			}
		}
	}
}

void
auth_resolve_client(struct request *r)
{
	struct client_headers h;
	struct ipaddr peer;
	int peer_ok = ip_parse(r->peer_ip, &peer) == 0;
	int trusted = peer_ok && ntrusted_proxies > 0 &&
	    cidr_list_contains(trusted_proxies, ntrusted_proxies, &peer);

	read_client_headers(r, &h);
	r->client_ip = r->peer_ip;
	if (trusted) {
		const char *xff = h.value[HDR_FORWARDED_FOR], *real = h.value[HDR_REAL_IP];
		const char *c = xff ? rightmost_untrusted(r, xff) : NULL;
		struct ipaddr tmp;
		if (c)
			r->client_ip = c;
		else if (real && ip_parse(real, &tmp) == 0)
			r->client_ip = real;
	}
	/* Loopback privileges (recovery) need a web server we trust to vouch for the address,
	 * and no proxy in between: a trusted proxy on this host is not the operator's shell. */
	r->direct_loopback = r->web_server && peer_ok && ip_is_loopback(&peer) && !trusted &&
	    !h.forwarded;
	r->client_key[0] = '\0';	/* made when a limit or a lockout needs it */
	r->https = h.https && (strcasecmp(h.https, "on") == 0 || strcmp(h.https, "1") == 0);
	if (!r->https && trusted)
		r->https = h.value[HDR_FORWARDED_PROTO] &&
		    strcasecmp(h.value[HDR_FORWARDED_PROTO], "https") == 0;
}

/* --- invalidation and the state of authentication ------------------------------------ */

/* A pulse_auth notification: a lock or unlock (lockout's, sql/0008), or the name of a
 * credentials table that changed. */
static void
auth_notice(const char *channel, const char *payload, void *arg)
{
	struct responder *t = arg;

	if (strcmp(channel, SYSCONFIG_CHANNEL) == 0) {
		live_settings_mark_stale();
		return;
	}
	if (strcmp(channel, "pulse_auth") != 0)
		return;
	if (!lockout_notice(t->lockout_cache, payload))
		cache_flush(t->auth_cache);
}

void
auth_check_invalidations(struct request *r)
{
	struct responder *t = r->thread;

	if (t->auth_stale) {
		cache_flush(t->auth_cache);
		t->auth_stale = 0;
	}
	/* A lost connection is marked down there; the next statement answers for it. */
	(void)db_drain_notifies(r->db, auth_notice, t);
}

static const struct db_stmt stmt_state = {
	"auth_state",
	"SELECT (SELECT count(*) FROM pulse.users), (SELECT count(*) FROM pulse.api_tokens), "
	"EXISTS (SELECT 1 FROM pulse.security_state WHERE key = 'auth_recovery')",
	0,
};

void
auth_state_forget(struct request *r)
{
	r->thread->auth_cache->state_loaded = 0;
}

int
auth_state(struct request *r, int *has_user, int *token_count, int *recovery_mode)
{
	struct auth_cache *c = r->thread->auth_cache;
	PGresult *res;
	int64_t users = 0, tokens = 0;

	auth_check_invalidations(r);
	if (!c->state_loaded || clock_monotonic() - c->state_at > CACHE_TTL) {
		res = db_exec_stmt(r->db, &stmt_state, NULL);
		if (res == NULL)
			return -1;
		(void)parse_int64(PQgetvalue(res, 0, 0), 0, INT64_MAX, &users);
		(void)parse_int64(PQgetvalue(res, 0, 1), 0, INT64_MAX, &tokens);
		c->has_user = users > 0;
		c->token_count = (int)tokens;
		c->recovery_mode = PQgetvalue(res, 0, 2)[0] == 't';
		c->state_loaded = 1;
		c->state_at = clock_monotonic();
		PQclear(res);
	}
	*has_user = c->has_user;
	*token_count = c->token_count;
	*recovery_mode = c->recovery_mode;
	return 0;
}

/* --- scopes ------------------------------------------------------------------------- */

/* In ascending order of name: the order tokens list their scopes in. */
static const struct {
	const char *name;
	unsigned bit;
} scope_names[] = {
	{"*", SCOPE_WILDCARD},
	{"docker:manage", SCOPE_DOCKER_MANAGE},
	{"docker:report", SCOPE_DOCKER_REPORT},
	{"host-agent:manage", SCOPE_HOST_AGENT_MANAGE},
	{"host-agent:report", SCOPE_HOST_AGENT_REPORT},
	{"kubernetes:manage", SCOPE_KUBERNETES_MANAGE},
	{"kubernetes:report", SCOPE_KUBERNETES_REPORT},
	{"monitoring:read", SCOPE_MONITORING_READ},
	{"monitoring:write", SCOPE_MONITORING_WRITE},
	{"settings:read", SCOPE_SETTINGS_READ},
	{"settings:write", SCOPE_SETTINGS_WRITE},
};

int
scope_from_name(const char *name, unsigned *bit)
{
	for (size_t i = 0; i < ARRAY_LEN(scope_names); i++) {
		if (strcmp(scope_names[i].name, name) == 0) {
			*bit = scope_names[i].bit;
			return 0;
		}
	}
	return -1;
}

const char *
scope_name(unsigned bit)
{
	for (size_t i = 0; i < ARRAY_LEN(scope_names); i++)
		if (scope_names[i].bit == bit)
			return scope_names[i].name;
	return "";
}

struct json_object *
scopes_to_json(unsigned mask)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < ARRAY_LEN(scope_names); i++)
		if (mask & scope_names[i].bit)
			json_object_array_add(a, json_object_new_string(scope_names[i].name));
	return a;
}

unsigned
scopes_from_list(const char *list)
{
	unsigned mask = 0, bit;
	char name[64];

	/* Only an empty list means everything: names this build does not know (a token from
	 * a newer version, a row written by hand) grant nothing. */
	if (list == NULL || *list == '\0')
		return SCOPE_WILDCARD;
	while (*list) {
		const char *end = strchr(list, ',');
		size_t len = end ? (size_t)(end - list) : strlen(list);
		if (len < sizeof(name)) {
			memcpy(name, list, len);
			name[len] = '\0';
			if (scope_from_name(name, &bit) == 0)
				mask |= bit;
		}
		if (end == NULL)
			break;
		list = end + 1;
	}
	return mask;
}

int
principal_has_scope(const struct principal *p, const char *scope)
{
	unsigned bit;

	if (scope == NULL || p->method != AUTH_METHOD_TOKEN)
		return 1;	/* only API tokens are scope-checked */
	if (p->scopes & SCOPE_WILDCARD)
		return 1;
	return scope_from_name(scope, &bit) == 0 && (p->scopes & bit);
}

void
resp_missing_scope(struct request *r, const char *scope)
{
	struct json_object *extra = json_object_new_object();

	json_object_object_add(extra, "requiredScope", json_object_new_string(scope));
	resp_error_with(r, 403, "missing_scope", "missing_scope", extra);
	json_object_put(extra);
}

/* --- the credential sources --------------------------------------------------------- */

static const struct db_stmt stmt_token = {
	"auth_token",
	"SELECT id, array_to_string(scopes, ','), "
	"(last_used_at IS NULL OR last_used_at < now() - interval '60 seconds') "
	"FROM pulse.api_tokens WHERE hash = $1",
	1,
};

static const struct db_stmt stmt_token_used = {
	"auth_token_used",
	"UPDATE pulse.api_tokens SET last_used_at = now() WHERE id = $1",
	1,
};

/* Records that token id was used now (last_used_at); a failure is only logged. */
static void
touch_token(struct request *r, const char *id)
{
	const char *params[1] = {id};
	PGresult *res = db_exec_stmt(r->db, &stmt_token_used, params);

	if (res)
		PQclear(res);
}

/* Verifies an API token (cache first, then the database), counting wrong ones against this
 * client's token lockout. AUTH_THROTTLED sets *until to the end of the lock. */
static enum auth_result
check_token(struct request *r, const char *raw, struct principal *p, double *until)
{
	struct auth_cache *c = r->thread->auth_cache;
	struct cache_entry *e;
	char hash[65], lock_id[LOCKOUT_ID_MAX];
	const char *params[1] = {hash};
	PGresult *res;
	int counted = !r->direct_loopback;	/* loopback clients are not rate limited either */

	/* Wrong tokens from one client lock it out of token authentication; a right one does
	 * not clear the count (a holder of one weak token must not reset it between guesses at
	 * another). Locks this thread knows of come first, so a locked client's guess is not
	 * answered from the cache, right or wrong; the database is asked on a cache miss. */
	lockout_identifier(r, LOCKOUT_TOKEN, NULL, lock_id, sizeof(lock_id));
	if (counted && lockout_known(r, lock_id, until))
		return AUTH_THROTTLED;
	crypto_sha3_256_hex(raw, strlen(raw), hash);
	e = cache_find(c, CACHE_TOKEN, hash);
	if (e != NULL) {
		*p = e->p;
		if (clock_monotonic() - e->touched_at > TOUCH_INTERVAL) {
			touch_token(r, p->token_id);
			e->touched_at = clock_monotonic();
		}
		return AUTH_OK;
	}
	if (counted) {
		switch (lockout_locked_until(r, lock_id, until)) {
		case -1:
			return AUTH_UNAVAILABLE;
		case 1:
			return AUTH_THROTTLED;
		}
	}
	res = db_exec_stmt(r->db, &stmt_token, params);
	if (res == NULL)
		return AUTH_UNAVAILABLE;
	if (PQntuples(res) != 1) {
		PQclear(res);
		if (counted)
			(void)lockout_record_failure(r, lock_id, until);
		return AUTH_INVALID;
	}
	memset(p, 0, sizeof(*p));
	p->method = AUTH_METHOD_TOKEN;
	p->admin = 1;
	snprintf(p->token_id, sizeof(p->token_id), "%s", PQgetvalue(res, 0, 0));
	snprintf(p->username, sizeof(p->username), "token:%s", p->token_id);
	p->scopes = scopes_from_list(PQgetvalue(res, 0, 1));
	if (PQgetvalue(res, 0, 2)[0] == 't')
		touch_token(r, p->token_id);
	PQclear(res);
	cache_put(c, CACHE_TOKEN, hash, p);
	return AUTH_OK;
}

static const struct db_stmt stmt_session = {
	"auth_session",
	"SELECT username, extract(epoch FROM expires_at), extract(epoch FROM duration), "
	"coalesce(csrf_hash, ''), admin, oidc_issuer IS NOT NULL FROM pulse.sessions "
	"WHERE key_hash = $1 AND expires_at > now()",
	1,
};

static const struct db_stmt stmt_session_extend = {
	"auth_session_extend",
	"UPDATE pulse.sessions SET expires_at = now() + duration WHERE key_hash = $1 "
	"RETURNING extract(epoch FROM expires_at)",
	1,
};

/* Verifies a session cookie (cache first, then the database) and slides its expiry. */
static enum auth_result
check_session(struct request *r, const char *cookie, struct principal *p)
{
	struct auth_cache *c = r->thread->auth_cache;
	struct cache_entry *e;
	char hash[65];
	const char *params[1] = {hash};
	PGresult *res;
	double expires = 0;

	crypto_sha256_hex(cookie, strlen(cookie), hash);
	e = cache_find(c, CACHE_SESSION, hash);
	if (e == NULL || e->expires_wall <= clock_wall()) {
		res = db_exec_stmt(r->db, &stmt_session, params);
		if (res == NULL)
			return AUTH_UNAVAILABLE;
		if (PQntuples(res) != 1) {
			PQclear(res);
			return AUTH_INVALID;
		}
		struct principal np;
		memset(&np, 0, sizeof(np));
		np.method = AUTH_METHOD_SESSION;
		/* Local logins are admins; an OIDC login outside the admin groups is not. */
		np.admin = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
		np.oidc = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
		snprintf(np.username, sizeof(np.username), "%s", PQgetvalue(res, 0, 0));
		snprintf(np.session_hash, sizeof(np.session_hash), "%s", hash);
		snprintf(np.csrf_hash, sizeof(np.csrf_hash), "%s", PQgetvalue(res, 0, 3));
		expires = strtod(PQgetvalue(res, 0, 1), NULL);
		PQclear(res);
		e = cache_put(c, CACHE_SESSION, hash, &np);
		e->expires_wall = expires;
		e->touched_at = 0;	/* slide the expiry now */
	}
	*p = e->p;
	/* Sliding expiry, written at most once a minute per session and thread. */
	if (clock_monotonic() - e->touched_at > TOUCH_INTERVAL) {
		res = db_exec_stmt(r->db, &stmt_session_extend, params);
		if (res != NULL && PQntuples(res) == 1)
			e->expires_wall = strtod(PQgetvalue(res, 0, 0), NULL);
		if (res)
			PQclear(res);
		e->touched_at = clock_monotonic();
	}
	return AUTH_OK;
}

static const struct db_stmt stmt_user_hash = {
	"auth_user_hash",
	"SELECT password_hash FROM pulse.users WHERE username = $1",
	1,
};

/* Verifies a local admin's password; costs one bcrypt whether or not the user exists. */
static enum auth_result
verify_password(struct request *r, const char *user, const char *password)
{
	const char *params[1] = {user};
	PGresult *res = db_exec_stmt(r->db, &stmt_user_hash, params);
	int ok;

	if (res == NULL)
		return AUTH_UNAVAILABLE;
	ok = password_verify(password, PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : NULL);
	PQclear(res);
	return ok ? AUTH_OK : AUTH_INVALID;
}

/* Verifies HTTP Basic credentials of the local admin (cache first, then bcrypt), under the
 * password lockout; *message gets the text when locked. The password is wiped after use. */
static enum auth_result
check_basic(struct request *r, const char *b64, struct principal *p, const char **message)
{
	struct auth_cache *c = r->thread->auth_cache;
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	char *user, *pass, key[65];
	struct cache_entry *e;
	struct strbuf material = {0};
	double until;
	enum auth_result rc;

	if (base64_decode(b64, &raw, &rawlen) != 0)
		return AUTH_INVALID;
	user = arena_strndup(r->arena, (const char *)raw, rawlen);
	explicit_bzero(raw, rawlen);
	free(raw);
	pass = strchr(user, ':');
	if (pass == NULL || strlen(user) != rawlen)
		return AUTH_INVALID;
	*pass++ = '\0';
	/* The cache key is a keyed hash of user and password: never the password itself. */
	sb_append(&material, basic_pepper, sizeof(basic_pepper));
	sb_append(&material, user, strlen(user) + 1);
	sb_append(&material, pass, strlen(pass));
	crypto_sha256_hex(material.data, material.len, key);
	explicit_bzero(material.data, material.len);
	sb_free(&material);
	/* A lock is checked before the cache: a locked client's guess is not answered. */
	if (lockout_password_known(r, user, &until)) {
		explicit_bzero(pass, strlen(pass));
		*message = "Account temporarily locked";
		return AUTH_LOCKED;
	}
	e = cache_find(c, CACHE_BASIC, key);
	if (e != NULL) {
		explicit_bzero(pass, strlen(pass));
		*p = e->p;
		return AUTH_OK;
	}
	if (lockout_password_locked(r, user, &until) > 0) {
		explicit_bzero(pass, strlen(pass));
		*message = "Account temporarily locked";
		return AUTH_LOCKED;
	}
	rc = verify_password(r, user, pass);
	explicit_bzero(pass, strlen(pass));
	if (rc == AUTH_UNAVAILABLE)
		return rc;
	if (rc != AUTH_OK) {
		(void)lockout_password_failed(r, user, &until);
		audit_anonymous(r, "login", user, "Basic auth failed");
		return AUTH_INVALID;
	}
	lockout_password_ok(r, user);
	memset(p, 0, sizeof(*p));
	p->method = AUTH_METHOD_BASIC;
	p->admin = 1;
	snprintf(p->username, sizeof(p->username), "%s", user);
	cache_put(c, CACHE_BASIC, key, p);
	return AUTH_OK;
}

/* Proxy authentication (security.md §6). Returns 1 when the proxy vouches for the request. */
static int
check_proxy(struct request *r, struct principal *p)
{
	const char *secret = conf_str("proxy_auth_secret");
	const char *given = req_header(r, "X-Proxy-Secret");
	const char *user_header = conf_str("proxy_auth_user_header");
	const char *role_header = conf_str("proxy_auth_role_header");
	const char *admin_role = conf_str("proxy_auth_admin_role");
	const char *user = "", *roles;

	if (*secret == '\0' || given == NULL ||
	    !ct_equal(secret, strlen(secret), given, strlen(given)))
		return 0;
	if (*user_header) {
		user = req_header(r, user_header);
		if (user == NULL || *user == '\0')
			return 0;
	}
	memset(p, 0, sizeof(*p));
	p->method = AUTH_METHOD_PROXY;
	snprintf(p->username, sizeof(p->username), "%s", user);
	/* Without roles configured every user the proxy vouches for is an admin. With roles,
	 * only one holding the admin role is: a missing or empty header fails closed. */
	p->admin = *role_header == '\0' || *admin_role == '\0';
	roles = *role_header ? req_header(r, role_header) : NULL;
	if (roles && *roles && *admin_role) {
		const char *sep = conf_str("proxy_auth_role_separator");
		char *copy = arena_strdup(r->arena, roles), *save = NULL;

		for (char *tok = strtok_r(copy, *sep ? sep : "|", &save); tok;
		    tok = strtok_r(NULL, *sep ? sep : "|", &save)) {
			size_t len;
			while (*tok == ' ')
				tok++;
			len = strlen(tok);
			while (len > 0 && tok[len - 1] == ' ')
				tok[--len] = '\0';
			if (strcmp(tok, admin_role) == 0)
				p->admin = 1;
		}
	}
	return 1;
}

/* The answer to a token: the message for a 401, or the lock for a 429. */
static enum auth_result
token_result(struct request *r, const char *token, struct principal *p, const char **message)
{
	double until = 0;
	enum auth_result rc = check_token(r, token, p, &until);

	if (rc == AUTH_INVALID) {
		*message = "Invalid API token";
	} else if (rc == AUTH_THROTTLED) {
		long minutes = (long)ceil((until - clock_wall()) / 60.0);
		*message = arena_printf(r->arena, "Too many invalid API tokens from this address: "
		    "try again in %ld minutes", minutes < 1 ? 1 : minutes);
		r->retry_after = (long)ceil(until - clock_wall());
	}
	return rc;
}

enum auth_result
auth_authenticate(struct request *r, struct principal *p, const char **message)
{
	const char *token, *authz, *cookie;
	int has_user, tokens, recovery;
	enum auth_result rc;

	memset(p, 0, sizeof(*p));
	*message = "Authentication required";
	if (auth_state(r, &has_user, &tokens, &recovery) != 0)
		return AUTH_UNAVAILABLE;
	if (recovery && r->direct_loopback) {
		p->method = AUTH_METHOD_RECOVERY;
		p->admin = 1;
		snprintf(p->username, sizeof(p->username), "recovery");
		return AUTH_OK;
	}
	if (check_proxy(r, p))
		return AUTH_OK;

	authz = req_header(r, "Authorization");
	token = req_header(r, "X-API-Token");
	if (!has_user && tokens > 0) {
		/* API-only mode: the X-API-Token header is the only way in. */
		if (token == NULL || *token == '\0') {
			*message = "API token required via the X-API-Token header";
			return AUTH_NO_CREDENTIALS;
		}
		return token_result(r, token, p, message);
	}
	if (!has_user && tokens == 0) {
		*message = "Authentication required: complete the first-run setup "
		    "(POST /api/security/quick-setup with the bootstrap token)";
		return AUTH_NO_CREDENTIALS;
	}
	if (token == NULL || *token == '\0') {
		token = NULL;
		if (authz && strncasecmp(authz, "Bearer ", 7) == 0)
			token = authz + 7;
		else if (req_query(r, "token"))
			token = req_query(r, "token");
	}
	if (token != NULL) {
		while (*token == ' ')
			token++;
		return token_result(r, token, p, message);
	}
	cookie = req_cookie(r, SESSION_COOKIE);
	if (cookie && *cookie) {
		rc = check_session(r, cookie, p);
		if (rc != AUTH_INVALID)
			return rc;
		/* An expired cookie falls through to Basic, then to 401. */
	}
	if (authz && strncasecmp(authz, "Basic ", 6) == 0) {
		rc = check_basic(r, authz + 6, p, message);
		if (rc == AUTH_INVALID)
			*message = "Invalid username or password";
		return rc;
	}
	return cookie && *cookie ? AUTH_INVALID : AUTH_NO_CREDENTIALS;
}
