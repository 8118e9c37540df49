/* auth.h: authentication of a request (proxy, token, session, Basic), the client address,
 * CSRF, scopes, lockout and rate limits, with a per-thread cache that PostgreSQL
 * notifications keep honest. */
#ifndef PULSE_AUTH_H
#define PULSE_AUTH_H

#include <stddef.h>

#include "principal.h"
#include "request.h"
#include "router.h"

#define SESSION_COOKIE "pulse_session"
#define CSRF_COOKIE "pulse_csrf"
#define LOCKOUT_MAX_FAILURES 5
#define LOCKOUT_MINUTES 15
#define LOCKOUT_ID_MAX 200

enum auth_result {
	AUTH_OK,
	AUTH_NO_CREDENTIALS,	/* nothing presented */
	AUTH_INVALID,		/* presented and wrong */
	AUTH_LOCKED,		/* Basic auth for a locked user or address */
	AUTH_THROTTLED,		/* too many wrong API tokens from this address */
	AUTH_UNAVAILABLE,	/* the database failed */
};

/* Reads the settings (trusted proxies, proxy auth). Once, before threads start. */
int auth_init(char *err, size_t errlen);

/* Each responder thread keeps its own cache of verified credentials. */
struct auth_cache;
struct auth_cache *auth_cache_new(void);
void auth_cache_free(struct auth_cache *cache);

/* Sets r->client_ip (the peer; behind trusted proxies, the rightmost address of
 * X-Forwarded-For that is not one of them), r->client_key, r->direct_loopback (needs
 * r->web_server) and r->https. */
void auth_resolve_client(struct request *r);

/* Drops cached credentials when PostgreSQL announced a change (or after a reconnect).
 * Called at the start of every request. */
void auth_check_invalidations(struct request *r);

/* Authenticates in the original's order: recovery mode (direct loopback), proxy, API token
 * (X-API-Token, Bearer, ?token=), session cookie, Basic. Fills *p on AUTH_OK; *message
 * gets the text for a 401. */
enum auth_result auth_authenticate(struct request *r, struct principal *p, const char **message);

/* The state of authentication as a whole (cached per thread): whether a local admin exists,
 * how many API tokens, whether recovery mode is on. -1 on a database error. */
int auth_state(struct request *r, int *has_user, int *token_count, int *recovery_mode);
/* Makes the next auth_state() read the database (for decisions that must not be stale). */
void auth_state_forget(struct request *r);

/* Scopes. */
int scope_from_name(const char *name, unsigned *bit);
/* A stored comma list of scope names as a mask: empty means everything ("*"), names this
 * build does not know grant nothing. */
unsigned scopes_from_list(const char *list);
const char *scope_name(unsigned bit);
int principal_has_scope(const struct principal *p, const char *scope);
/* Answers 403 missing_scope naming the scope (requiredScope), as the original. */
void resp_missing_scope(struct request *r, const char *scope);
/* Writes the scope names of mask as a JSON array. */
struct json_object *scopes_to_json(unsigned mask);

/* CSRF: checks X-CSRF-Token against the session's token. On failure rotates the token,
 * answers 403 and returns -1. */
int csrf_check(struct request *r, const struct principal *p);
/* Issues a CSRF token for the session (new cookie and X-CSRF-Token header). */
int csrf_issue(struct request *r, const char *session_hash, long max_age);

/* Sessions. Creates one for username, sets the cookies; returns 0 or -1. */
int session_create(struct request *r, const char *username, long lifetime_s);
/* Deletes the session with this hash (logout). */
int session_delete(struct request *r, const char *session_hash);
/* Expires the session and CSRF cookies in the answer. */
void session_clear_cookies(struct request *r);

/* A proxy-authenticated change must come from our own pages or from no browser at all
 * (Sec-Fetch-Site, Origin). On failure answers 403 and returns -1. */
int origin_check(struct request *r, const struct principal *p);

/* Lockout. Failures are counted per identifier: the client's address, a user name at that
 * address, or API tokens from that address (an address is an IPv4 address or an IPv6 /64). */
enum lockout_kind { LOCKOUT_ADDRESS, LOCKOUT_USER, LOCKOUT_TOKEN };
void lockout_identifier(struct request *r, enum lockout_kind kind, const char *user, char *out,
    size_t outlen);
/* 1 when identifier is locked (with *until), 0 when not, -1 on a database error. */
int lockout_locked_until(struct request *r, const char *identifier, double *until);
/* Records a failure; returns the failure count and sets *until when now locked. */
int lockout_record_failure(struct request *r, const char *identifier, double *until);
void lockout_clear(struct request *r, const char *identifier);
/* A password check for user from this client: whether it is locked (the user at this
 * address, or the address), recording a failure (returns the larger count), a success. */
int lockout_password_locked(struct request *r, const char *user, double *until);
int lockout_password_failed(struct request *r, const char *user, double *until);
void lockout_password_ok(struct request *r, const char *user);
/* Clears every lock naming subject (a user name or an address); returns how many, or -1. */
int lockout_reset(struct request *r, const char *subject);

/* Rate limits: the route's class (security.md §2.10) for every request; answers 429 and
 * returns -1 when over. Direct loopback clients are exempt. */
int ratelimit_class(struct request *r, enum rate_class rc);
/* A named limit of its own (login attempts ...), for every client. */
int ratelimit_named(struct request *r, const char *bucket, int limit, int window_s);

/* Records a failed security event of an unauthenticated client (a wrong password, a denied
 * recovery), unless this client has already caused many such rows this minute. */
void audit_anonymous(struct request *r, const char *event, const char *username,
    const char *details);

#endif
