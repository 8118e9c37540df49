/* ratelimit.c: rate limits per client and route class, lockout of clients that guess
 * credentials, and the locks each responder thread has heard of. */
#include "config.h"

#include "ratelimit.h"
#include "audit.h"
#include "log.h"
#include "netaddr.h"
#include "responder.h"
#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- locks this thread knows of ----------------------------------------------------- */

/* Locks this thread knows of (from a notification or a lookup), checked before the cache:
 * a locked client must not get a guess answered because the right credential was cached. */
#define LOCKED_SLOTS 32

struct known_lock {
	char identifier[LOCKOUT_ID_MAX];
	double until;		/* wall clock */
};

struct lockout_cache {
	struct known_lock locked[LOCKED_SLOTS];
	int locked_next;
};

struct lockout_cache *
lockout_cache_new(void)
{
	return xcalloc(1, sizeof(struct lockout_cache));
}

void
lockout_cache_free(struct lockout_cache *c)
{
	secret_free_n(c, sizeof(*c));
}

/* Remembers that identifier is locked until then (wall clock), in its slot if it has one,
 * else in the oldest. */
static void
lock_remember(struct lockout_cache *c, const char *identifier, double until)
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

/* 1 with *until when identifier is remembered as locked now, else 0. */
static int
lock_known(struct lockout_cache *c, const char *identifier, double *until)
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

int
lockout_notice(struct lockout_cache *c, const char *payload)
{
	char *end;
	double until;

	if (strncmp(payload, "lock ", 5) == 0) {
		until = strtod(payload + 5, &end);
		if (end != payload + 5 && *end == ' ')
			lock_remember(c, end + 1, until);
		return 1;
	}
	if (strcmp(payload, "unlock") == 0) {
		memset(c->locked, 0, sizeof(c->locked));
		return 1;
	}
	return 0;
}

int
lockout_known(struct request *r, const char *identifier, double *until)
{
	return lock_known(r->thread->lockout_cache, identifier, until);
}

/* --- the client's key --------------------------------------------------------------- */

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

/* The two keys a password check for user counts under: the user at this client's address,
 * and the address. */
static void
password_keys(struct request *r, const char *user, char keys[2][LOCKOUT_ID_MAX])
{
	lockout_identifier(r, LOCKOUT_USER, user, keys[0], LOCKOUT_ID_MAX);
	lockout_identifier(r, LOCKOUT_ADDRESS, NULL, keys[1], LOCKOUT_ID_MAX);
}

int
lockout_password_known(struct request *r, const char *user, double *until)
{
	struct lockout_cache *c = r->thread->lockout_cache;
	char keys[2][LOCKOUT_ID_MAX];

	password_keys(r, user, keys);
	return lock_known(c, keys[0], until) || lock_known(c, keys[1], until);
}

int
lockout_locked_until(struct request *r, const char *identifier, double *until)
{
	const char *params[1] = {identifier};
	PGresult *res;
	int locked;

	if (lock_known(r->thread->lockout_cache, identifier, until))
		return 1;
	res = db_exec_stmt(r->db, &stmt_lock_status, params);
	if (res == NULL)
		return -1;
	locked = PQntuples(res) == 1;
	if (locked) {
		*until = strtod(PQgetvalue(res, 0, 0), NULL);
		lock_remember(r->thread->lockout_cache, identifier, *until);
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

/* Runs check (a lookup or a recorded failure) under both keys of a password check for
 * user: *until is the later time either gave, the result the larger. A check's -1 (a
 * database error) is the result at once when stop_on_error is set, else passed over. */
static int
password_both(struct request *r, const char *user, double *until,
    int (*check)(struct request *, const char *, double *), int stop_on_error)
{
	char keys[2][LOCKOUT_ID_MAX];
	int most = 0;

	password_keys(r, user, keys);
	*until = 0;
	for (int i = 0; i < 2; i++) {
		double u = 0;
		int rc = check(r, keys[i], &u);
		if (rc < 0 && stop_on_error)
			return -1;
		if (rc > most)
			most = rc;
		if (u > *until)
			*until = u;
	}
	return most;
}

int
lockout_password_locked(struct request *r, const char *user, double *until)
{
	return password_both(r, user, until, lockout_locked_until, 1);
}

int
lockout_password_failed(struct request *r, const char *user, double *until)
{
	return password_both(r, user, until, lockout_record_failure, 0);
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
	[RATE_DOWNLOAD] = {"download", 60, 60},	/* agents.md §2 */
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

/* Counts one hit against rl; over the limit, answers 429 with Retry-After and the
 * X-RateLimit headers, logs it and returns -1; else returns 0. */
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
