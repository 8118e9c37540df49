/* session.h: browser sessions: their cookies, creation and deletion, CSRF tokens, and the
 * origin check of changes an authenticating proxy vouches for.
 *
 * A session is a row of pulse.sessions keyed by the SHA-256 of its cookie; the cookie and
 * the CSRF token themselves are never stored, logged or kept past the answer that sets
 * them. Reading a session cookie into a principal is authentication's (auth.h).
 *
 * Errors: functions returning int give 0 or -1. csrf_check and origin_check answer 403
 * csrf_failed (and record it in the audit trail) before returning -1; the others leave
 * answering to the caller, a database failure being logged by db.c. */
#ifndef PULSE_SESSION_H
#define PULSE_SESSION_H

#include "principal.h"
#include "request.h"

#define SESSION_COOKIE "pulse_session"
#define CSRF_COOKIE "pulse_csrf"

/* Creates a session for username lasting lifetime_s, sets its cookie and issues its CSRF
 * token. */
int session_create(struct request *r, const char *username, long lifetime_s);
/* The same with the session's rights: admin or not, and the issuer of the OIDC login that
 * made it (NULL: a local login). */
int session_create_as(struct request *r, const char *username, long lifetime_s, int admin,
    const char *oidc_issuer);
/* Deletes the session with this hash (logout). */
int session_delete(struct request *r, const char *session_hash);
/* Expires the session and CSRF cookies in the answer. */
void session_clear_cookies(struct request *r);

/* Issues a new CSRF token for the session (its cookie and the X-CSRF-Token header); max_age
 * 0 means the session's remaining lifetime. */
int csrf_issue(struct request *r, const char *session_hash, long max_age);
/* Checks X-CSRF-Token against the session's token (the cached one, then the database's). On
 * failure rotates the token, answers 403 and returns -1. */
int csrf_check(struct request *r, const struct principal *p);

/* A proxy-authenticated change must come from our own pages or from no browser at all
 * (Sec-Fetch-Site, Origin). On failure answers 403 and returns -1. */
int origin_check(struct request *r, const struct principal *p);

#endif
