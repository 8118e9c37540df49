/* auth.h: who is asking: the client address, the credentials of a request (recovery mode,
 * proxy, API token, session cookie, Basic) and the scopes a principal holds.
 *
 * Verified credentials are cached per responder thread (struct auth_cache, owned by the
 * thread: auth_cache_new/free); PostgreSQL notifications on pulse_auth, read before each
 * request, keep the cache honest. The principal a request is authenticated as is the
 * caller's (usually r->auth); strings set on the request (client_ip, messages) are in the
 * request arena. Sessions and CSRF are session.h's, lockout and rate limits ratelimit.h's.
 *
 * Errors: auth_authenticate says what happened in an enum auth_result and leaves the answer
 * to the caller; auth_init and auth_state return 0 or -1 (the message in err, or the
 * database error logged by db.c). resp_missing_scope answers. */
#ifndef PULSE_AUTH_H
#define PULSE_AUTH_H

#include <stddef.h>

#include "principal.h"
#include "request.h"

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

/* Drops cached credentials when PostgreSQL announced a change (or after a reconnect), and
 * passes announced locks to lockout. Called at the start of every request. */
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
/* Writes the scope names of mask as a JSON array (the caller's to put). */
struct json_object *scopes_to_json(unsigned mask);

#endif
