/* auth.c: who is asking: client address, credentials, sessions, CSRF, lockout, rate limits. */
#include "config.h"

#include "auth.h"
#include "audit.h"
#include "conf.h"
#include "crypto.h"
#include "jsonutil.h"
#include "log.h"
#include "netaddr.h"
#include "responder.h"
#include "timefmt.h"

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

/* Locks this thread knows of (from a notification or a lookup), checked before the cache:
 * a locked client must not get a guess answered because the right credential was cached. */
#define LOCKED_SLOTS 32

struct known_lock {
	char identifier[LOCKOUT_ID_MAX];
	double until;		/* wall clock */
};

struct auth_cache {
	struct cache_entry slot[CACHE_SLOTS];
	int state_loaded;
	double state_at;
	int has_user, token_count, recovery_mode;
	struct known_lock locked[LOCKED_SLOTS];
	int locked_next;
};

struct auth_cache *
auth_cache_new(void)
{
	return xcalloc(1, sizeof(struct auth_cache));
}

void
auth_cache_free(struct auth_cache *c)
{
	if (c) {
		explicit_bzero(c, sizeof(*c));
		free(c);
	}
}

static void
cache_flush(struct auth_cache *c)
{
	memset(c->slot, 0, sizeof(c->slot));
	c->state_loaded = 0;
}

static struct cache_entry *
cache_slot(struct auth_cache *c, const char *key)
{
	unsigned h = 0;

	for (int i = 0; i < 6 && key[i]; i++)
		h = h * 16 + (unsigned)(isdigit((unsigned char)key[i]) ? key[i] - '0' : key[i] - 'a' + 10);
	return &c->slot[h % CACHE_SLOTS];
}

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

/* The key rate limits and lockouts count the client by: its address, an IPv6 address by
 * its /64. */
static const char *
client_key(struct request *r)
{
	struct ipaddr client;

	if (r->client_key[0] == '\0') {
		if (ip_parse(r->client_ip, &client) == 0)
			ip_client_key(&client, r->client_key, sizeof(r->client_key));
		else
			snprintf(r->client_key, sizeof(r->client_key), "%.63s", r->client_ip);
	}
	return r->client_key;
}

/* --- invalidation and the state of authentication ------------------------------------ */

static void
lock_remember(struct auth_cache *c, const char *identifier, double until)
{
	struct known_lock *k = NULL;

	for (int i = 0; i < LOCKED_SLOTS && k == NULL; i++)
		if (strcmp(c->locked[i].identifier, identifier) == 0)
			k = &c->locked[i];
	if (k == NULL) {
		k = &c->locked[c->locked_next];
		c->locked_next = (c->locked_next + 1) % LOCKED_SLOTS;
	}
	snprintf(k->identifier, sizeof(k->identifier), "%s", identifier);
	k->until = until;
}

static int
lock_known(struct auth_cache *c, const char *identifier, double *until)
{
	double now = clock_wall();

	for (int i = 0; i < LOCKED_SLOTS; i++) {
		if (c->locked[i].until > now && strcmp(c->locked[i].identifier, identifier) == 0) {
			*until = c->locked[i].until;
			return 1;
		}
	}
	return 0;
}

/* A pulse_auth notification: "lock <epoch> <identifier>" (sql/0008), "unlock", or the
 * name of a credentials table that changed. */
static void
auth_notice(struct auth_cache *c, const char *payload)
{
	char *end;
	double until;

	if (strncmp(payload, "lock ", 5) == 0) {
		until = strtod(payload + 5, &end);
		if (end != payload + 5 && *end == ' ')
			lock_remember(c, end + 1, until);
		return;
	}
	if (strcmp(payload, "unlock") == 0) {
		memset(c->locked, 0, sizeof(c->locked));
		return;
	}
	cache_flush(c);
}

void
auth_check_invalidations(struct request *r)
{
	struct responder *t = r->thread;
	PGconn *conn = db_pgconn(r->db);
	PGnotify *n;

	if (t->auth_stale) {
		cache_flush(t->auth_cache);
		t->auth_stale = 0;
	}
	if (conn == NULL || db_get_state(r->db) != DB_STATE_OK)
		return;
	if (PQconsumeInput(conn) == 0)
		return;		/* the next statement notices the lost connection */
	while ((n = PQnotifies(conn)) != NULL) {
		if (strcmp(n->relname, "pulse_auth") == 0)
			auth_notice(t->auth_cache, n->extra);
		PQfreemem(n);
	}
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

static void
touch_token(struct request *r, const char *id)
{
	const char *params[1] = {id};
	PGresult *res = db_exec_stmt(r->db, &stmt_token_used, params);

	if (res)
		PQclear(res);
}

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
	if (counted && lock_known(c, lock_id, until))
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
	"coalesce(csrf_hash, '') FROM pulse.sessions WHERE key_hash = $1 AND expires_at > now()",
	1,
};

static const struct db_stmt stmt_session_extend = {
	"auth_session_extend",
	"UPDATE pulse.sessions SET expires_at = now() + duration WHERE key_hash = $1 "
	"RETURNING extract(epoch FROM expires_at)",
	1,
};

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
		np.admin = 1;
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

/* The two keys a password check for user counts under: the user at this client's address,
 * and the address. */
static void
password_keys(struct request *r, const char *user, char keys[2][LOCKOUT_ID_MAX])
{
	lockout_identifier(r, LOCKOUT_USER, user, keys[0], LOCKOUT_ID_MAX);
	lockout_identifier(r, LOCKOUT_ADDRESS, NULL, keys[1], LOCKOUT_ID_MAX);
}

static enum auth_result
check_basic(struct request *r, const char *b64, struct principal *p, const char **message)
{
	struct auth_cache *c = r->thread->auth_cache;
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	char *user, *pass, key[65], keys[2][LOCKOUT_ID_MAX];
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
	password_keys(r, user, keys);
	if (lock_known(c, keys[0], &until) || lock_known(c, keys[1], &until)) {
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

/* --- cookies, sessions and CSRF ----------------------------------------------------- */

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
	"INSERT INTO pulse.sessions (key_hash, username, expires_at, duration, user_agent, client_ip) "
	"VALUES ($1, $2, now() + make_interval(secs => $3::double precision), "
	"make_interval(secs => $3::double precision), $4, $5)",
	5,
};

int
session_create(struct request *r, const char *username, long lifetime_s)
{
	char *token = crypto_random_hex(32), hash[65], life[24];
	const char *ua = req_header(r, "User-Agent");
	char *ua_short = arena_strndup(r->arena, ua ? ua : "", ua && strlen(ua) > 256 ? 256 : (ua ? strlen(ua) : 0));
	const char *params[5] = {hash, username, life, ua_short, r->client_ip};
	PGresult *res;

	crypto_sha256_hex(token, strlen(token), hash);
	snprintf(life, sizeof(life), "%ld", lifetime_s);
	res = db_exec_stmt(r->db, &stmt_session_insert, params);
	if (res == NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
		return -1;
	}
	PQclear(res);
	set_cookie(r, SESSION_COOKIE, token, lifetime_s, 1);
	explicit_bzero(token, strlen(token));
	free(token);
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
	PGresult *res = db_exec_stmt(r->db, &stmt_session_delete, params);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

void
session_clear_cookies(struct request *r)
{
	set_cookie(r, SESSION_COOKIE, "", -1, 1);
	set_cookie(r, CSRF_COOKIE, "", -1, 0);
}

/* --- lockout ------------------------------------------------------------------------ */

static const struct db_stmt stmt_lock_status = {
	"auth_lock_status",
	"SELECT extract(epoch FROM locked_until) FROM pulse.login_failures "
	"WHERE identifier = $1 AND locked_until > now()",
	1,
};

/* Failures older than the lockout period are forgotten: five failures within it lock. */
static const struct db_stmt stmt_lock_fail = {
	"auth_lock_fail",
	"INSERT INTO pulse.login_failures AS f (identifier, failures, last_failure) "
	"VALUES ($1, 1, now()) ON CONFLICT (identifier) DO UPDATE SET "
	"failures = CASE WHEN f.last_failure < now() - interval '15 minutes' "
	"  AND (f.locked_until IS NULL OR f.locked_until < now()) THEN 1 ELSE f.failures + 1 END, "
	"last_failure = now() "
	"RETURNING failures",
	1,
};

/* Setting locked_until announces the lock to every responder, this session included (a
 * trigger, sql/0008): each thread learns it before its next request. */
static const struct db_stmt stmt_lock_set = {
	"auth_lock_set",
	"UPDATE pulse.login_failures SET locked_until = now() + interval '15 minutes' "
	"WHERE identifier = $1 AND (locked_until IS NULL OR locked_until < now()) "
	"RETURNING extract(epoch FROM locked_until)",
	1,
};

static const struct db_stmt stmt_lock_clear = {
	"auth_lock_clear",
	"DELETE FROM pulse.login_failures WHERE identifier = $1",
	1,
};

/* An operator's reset by a user name or an address: every key that names it. */
static const struct db_stmt stmt_lock_reset = {
	"auth_lock_reset",
	"DELETE FROM pulse.login_failures WHERE identifier IN ('ip:' || $2, 'token:' || $2) "
	"OR (identifier LIKE 'user:%' AND (substr(identifier, strpos(identifier, '|') + 1) = $1 "
	"  OR split_part(identifier, '|', 1) = 'user:' || $2)) "
	"RETURNING identifier",
	2,
};

void
lockout_identifier(struct request *r, enum lockout_kind kind, const char *user, char *out,
    size_t outlen)
{
	/* Prefixed, so that a user name that looks like an address locks nothing but that
	 * name, and the name goes last, after the one '|' an address never holds. */
	switch (kind) {
	case LOCKOUT_ADDRESS:
		snprintf(out, outlen, "ip:%s", client_key(r));
		break;
	case LOCKOUT_TOKEN:
		snprintf(out, outlen, "token:%s", client_key(r));
		break;
	case LOCKOUT_USER:
		snprintf(out, outlen, "user:%s|%.128s", client_key(r), user ? user : "");
		break;
	}
}

int
lockout_locked_until(struct request *r, const char *identifier, double *until)
{
	const char *params[1] = {identifier};
	PGresult *res;
	int locked;

	if (lock_known(r->thread->auth_cache, identifier, until))
		return 1;
	res = db_exec_stmt(r->db, &stmt_lock_status, params);
	if (res == NULL)
		return -1;
	locked = PQntuples(res) == 1;
	if (locked) {
		*until = strtod(PQgetvalue(res, 0, 0), NULL);
		lock_remember(r->thread->auth_cache, identifier, *until);
	}
	PQclear(res);
	return locked;
}

int
lockout_record_failure(struct request *r, const char *identifier, double *until)
{
	const char *params[1] = {identifier};
	PGresult *res = db_exec_stmt(r->db, &stmt_lock_fail, params);
	int64_t n = 0;

	*until = 0;
	if (res == NULL)
		return -1;
	(void)parse_int64(PQgetvalue(res, 0, 0), 0, INT32_MAX, &n);
	PQclear(res);
	if (n >= LOCKOUT_MAX_FAILURES) {
		res = db_exec_stmt(r->db, &stmt_lock_set, params);
		if (res && PQntuples(res) == 1) {
			char shown[LOCKOUT_ID_MAX];
			*until = strtod(PQgetvalue(res, 0, 0), NULL);
			log_warn("msg=\"login locked\" identifier=\"%s\" minutes=%d",
			    log_quote(shown, sizeof(shown), identifier), LOCKOUT_MINUTES);
		}
		if (res)
			PQclear(res);
		if (*until == 0)
			(void)lockout_locked_until(r, identifier, until);
	}
	return (int)n;
}

void
lockout_clear(struct request *r, const char *identifier)
{
	const char *params[1] = {identifier};
	PGresult *res = db_exec_stmt(r->db, &stmt_lock_clear, params);

	if (res)
		PQclear(res);
}

int
lockout_password_locked(struct request *r, const char *user, double *until)
{
	char keys[2][LOCKOUT_ID_MAX];
	int locked = 0;

	password_keys(r, user, keys);
	*until = 0;
	for (int i = 0; i < 2; i++) {
		double u = 0;
		int rc = lockout_locked_until(r, keys[i], &u);
		if (rc < 0)
			return -1;
		locked |= rc;
		if (u > *until)
			*until = u;
	}
	return locked;
}

int
lockout_password_failed(struct request *r, const char *user, double *until)
{
	char keys[2][LOCKOUT_ID_MAX];
	int most = 0;

	password_keys(r, user, keys);
	*until = 0;
	for (int i = 0; i < 2; i++) {
		double u = 0;
		int n = lockout_record_failure(r, keys[i], &u);
		if (n > most)
			most = n;
		if (u > *until)
			*until = u;
	}
	return most;
}

void
lockout_password_ok(struct request *r, const char *user)
{
	char keys[2][LOCKOUT_ID_MAX];

	password_keys(r, user, keys);
	lockout_clear(r, keys[0]);
	lockout_clear(r, keys[1]);
}

int
lockout_reset(struct request *r, const char *subject)
{
	struct ipaddr ip;
	char key[64];
	const char *params[2] = {subject, key};
	PGresult *res;
	int n;

	/* An address is stored by its key (an IPv6 address by its /64). */
	if (ip_parse(subject, &ip) == 0)
		ip_client_key(&ip, key, sizeof(key));
	else
		snprintf(key, sizeof(key), "%.63s", subject);
	res = db_exec_stmt(r->db, &stmt_lock_reset, params);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	return n;	/* the trigger's "unlock" reaches every responder, this one included */
}

/* --- rate limits -------------------------------------------------------------------- */

struct rate_limit {
	const char *bucket;
	int limit;
	int window;		/* seconds */
};

/* Per enum rate_class, as security.md §2.10. */
static const struct rate_limit rate_limits[RATE_CLASS_COUNT] = {
	[RATE_GENERAL] = {"general", 500, 60},
	[RATE_NONE] = {"none", 0, 0},
	[RATE_AUTH] = {"auth", 10, 60},
	[RATE_RECOVERY] = {"recovery", 3, 600},
	[RATE_EXPORT] = {"export", 5, 300},
	[RATE_CONFIG_WRITE] = {"config_write", 30, 60},
	[RATE_CONFIG_READ] = {"config_read", 1000, 60},
	[RATE_UPDATES] = {"updates", 60, 60},
	[RATE_PUBLIC] = {"public", 1000, 60},
};

const char *
rate_class_name(enum rate_class rc)
{
	return rc < RATE_CLASS_COUNT ? rate_limits[rc].bucket : "?";
}

/* One counter per window, and the window before it weighted by how much of it still
 * overlaps the sliding window: a close, cheap estimate of a sliding log. */
static const struct db_stmt stmt_rate_hit = {
	"auth_rate_hit",
	"WITH up AS (INSERT INTO pulse.rate_limit_hits AS h (bucket, client, window_start, hits) "
	"VALUES ($1, $2, $3, 1) ON CONFLICT (bucket, client, window_start) "
	"DO UPDATE SET hits = h.hits + 1 RETURNING hits) "
	"SELECT (SELECT hits FROM up), coalesce((SELECT hits FROM pulse.rate_limit_hits "
	"WHERE bucket = $1 AND client = $2 AND window_start = $4), 0)",
	4,
};

/* Counts one hit of this client against rl; returns 1 when that puts it over the limit.
 * The database being away fails open (it is answered elsewhere). */
static int
rate_over(struct request *r, const struct rate_limit *rl, long *window_start)
{
	double now = clock_wall();
	char cur[24], prev[24];
	const char *params[4] = {rl->bucket, client_key(r), cur, prev};
	PGresult *res;
	int64_t hits = 0, before = 0;
	double weight;

	*window_start = (long)(now / rl->window) * rl->window;
	snprintf(cur, sizeof(cur), "%ld", *window_start);
	snprintf(prev, sizeof(prev), "%ld", *window_start - rl->window);
	res = db_exec_stmt(r->db, &stmt_rate_hit, params);
	if (res == NULL)
		return 0;
	(void)parse_int64(PQgetvalue(res, 0, 0), 0, INT32_MAX, &hits);
	(void)parse_int64(PQgetvalue(res, 0, 1), 0, INT32_MAX, &before);
	PQclear(res);
	weight = 1.0 - (now - (double)*window_start) / rl->window;
	return (double)hits + (double)before * weight > rl->limit;
}

static int
rate_hit(struct request *r, const struct rate_limit *rl)
{
	long window_start;
	char reset[TIMEFMT_LEN], limit[16], path[240];

	if (!rate_over(r, rl, &window_start))
		return 0;
	snprintf(limit, sizeof(limit), "%d", rl->limit);
	timefmt_rfc3339((double)window_start + rl->window, reset, sizeof(reset));
	resp_header(r, "Retry-After", arena_printf(r->arena, "%d", rl->window));
	resp_header(r, "X-RateLimit-Limit", limit);
	resp_header(r, "X-RateLimit-Remaining", "0");
	resp_header(r, "X-RateLimit-Reset", reset);
	resp_error(r, 429, "rate_limited", "Rate limit exceeded. Please try again later.");
	log_warn("msg=\"rate limited\" class=%s client=%.64s path=\"%s\"", rl->bucket,
	    r->client_ip, log_quote(path, sizeof(path), r->raw_path));
	return -1;
}

int
ratelimit_class(struct request *r, enum rate_class rc)
{
	if (r->direct_loopback || rc >= RATE_CLASS_COUNT || rate_limits[rc].limit == 0)
		return 0;
	return rate_hit(r, &rate_limits[rc]);
}

int
ratelimit_named(struct request *r, const char *bucket, int limit, int window_s)
{
	struct rate_limit rl = {bucket, limit, window_s};
	return rate_hit(r, &rl);
}

/* Events anyone can cause without credentials: at most this many rows per client in ten
 * minutes, whatever their source, so that nobody grows the audit trail at the rate of
 * their requests. */
static const struct rate_limit audit_anonymous_limit = {"audit_anonymous", 20, 600};

void
audit_anonymous(struct request *r, const char *event, const char *username, const char *details)
{
	long window_start;

	if (!r->direct_loopback && rate_over(r, &audit_anonymous_limit, &window_start))
		return;
	audit_record(r->db, event, username, r->client_ip, r->raw_path, 0, details);
}
