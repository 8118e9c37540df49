/* ratelimit.h: rate limits per client, and the lockout of clients that guess credentials.
 *
 * Counts live in PostgreSQL (pulse.rate_limit_hits, pulse.login_failures), so every
 * responder sees the same ones. A client is counted by its key (request.h client_key: the
 * address, an IPv6 address by its /64), made from r->client_ip: auth_resolve_client must
 * have run. Each responder thread also keeps the locks it has heard of in a lockout_cache
 * it owns (struct responder), so that a locked client is refused before any cached
 * credential could answer it; a trigger announces every new lock (sql/0008).
 *
 * Errors: ratelimit_class and ratelimit_named answer 429 and return -1 when the client is
 * over the limit, and fail open (return 0) when the database fails: the request meets the
 * database again and is answered there. The lockout queries return -1 on a database error
 * (logged by db.c) and leave answering to the caller. */
#ifndef PULSE_RATELIMIT_H
#define PULSE_RATELIMIT_H

#include <stddef.h>

#include "request.h"
#include "router.h"

#define LOCKOUT_MAX_FAILURES 5
#define LOCKOUT_MINUTES 15
#define LOCKOUT_ID_MAX 200

/* The route's class (security.md §2.10), counted for every request; direct loopback
 * clients are exempt. */
int ratelimit_class(struct request *r, enum rate_class rc);
/* A named limit of its own (login attempts ...), for every client. */
int ratelimit_named(struct request *r, const char *bucket, int limit, int window_s);
/* The name of a rate class ("auth"), for the route listing and logs. */
const char *rate_class_name(enum rate_class rc);

/* Records a failed security event of an unauthenticated client (a wrong password, a denied
 * recovery), unless this client has already caused many such rows lately. */
void audit_anonymous(struct request *r, const char *event, const char *username,
    const char *details);

/* The locks a responder thread has heard of; one per thread, freed (and wiped) with
 * lockout_cache_free. */
struct lockout_cache;
struct lockout_cache *lockout_cache_new(void);
void lockout_cache_free(struct lockout_cache *cache);
/* Takes a pulse_auth notification: "lock <epoch> <identifier>" is remembered, "unlock"
 * forgets every lock. Returns 1 when the payload was one of these, 0 when it is not
 * lockout's (the name of a credentials table that changed). */
int lockout_notice(struct lockout_cache *cache, const char *payload);

/* Failures are counted per identifier: the client's address, a user name at that address,
 * or API tokens from that address. lockout_identifier writes this client's identifier of
 * that kind (user only for LOCKOUT_USER) into out, at most LOCKOUT_ID_MAX bytes wanted. */
enum lockout_kind { LOCKOUT_ADDRESS, LOCKOUT_USER, LOCKOUT_TOKEN };
void lockout_identifier(struct request *r, enum lockout_kind kind, const char *user, char *out,
    size_t outlen);
/* 1 with *until when this thread has heard that identifier is locked, else 0; no query. */
int lockout_known(struct request *r, const char *identifier, double *until);
/* 1 when identifier is locked (with *until), 0 when not, -1 on a database error. */
int lockout_locked_until(struct request *r, const char *identifier, double *until);
/* Records a failure; returns the failure count (-1 on a database error) and sets *until
 * when that locks the identifier. */
int lockout_record_failure(struct request *r, const char *identifier, double *until);
/* Forgets identifier's failures (a database error is only logged). */
void lockout_clear(struct request *r, const char *identifier);

/* A password check for user from this client counts under two identifiers: the user at
 * this address, and the address. Whether this thread has heard of a lock of either (no
 * query); whether either is locked (-1 on a database error); a failure recorded under
 * both (returns the larger count); a success, which clears both. */
int lockout_password_known(struct request *r, const char *user, double *until);
int lockout_password_locked(struct request *r, const char *user, double *until);
int lockout_password_failed(struct request *r, const char *user, double *until);
void lockout_password_ok(struct request *r, const char *user);
/* Clears every lock naming subject (a user name or an address); returns how many, or -1. */
int lockout_reset(struct request *r, const char *subject);

#endif
