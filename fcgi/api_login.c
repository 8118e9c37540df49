/* api_login.c: POST /api/login and POST /api/logout (security.md §2.8). */
#include "config.h"

#include "audit.h"
#include "crypto.h"
#include "handlers.h"
#include "jsonwrite.h"
#include "log.h"
#include "ratelimit.h"
#include "security.h"
#include "session.h"
#include "timefmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SESSION_HOURS_DEFAULT 24
#define SESSION_DAYS_REMEMBER 30

static void
answer_locked(struct request *r, double until)
{
	struct json_object *extra = resp_object(r);
	char when[TIMEFMT_LEN], msg[160];
	long minutes = (long)floor((until - clock_wall()) / 60.0);

	if (minutes < 1)
		minutes = 1;
	timefmt_rfc3339(until, when, sizeof(when));
	snprintf(msg, sizeof(msg), "Too many failed attempts. Account is locked for %ld more minutes.",
	    minutes);
	jsonwrite_str(extra, "message", msg);
	jsonwrite_str(extra, "lockedUntil", when);
	jsonwrite_int(extra, "remainingMinutes", minutes);
	resp_error_with(r, 403, "account_locked", "account_locked", extra);
}

/* A wrong password: how many attempts are left, or that this one locked the account. */
static void
answer_bad_password(struct request *r, int attempts, double until)
{
	struct json_object *extra = resp_object(r);
	char msg[160];

	if (until > 0) {
		snprintf(msg, sizeof(msg), "Invalid username or password. Account is now locked "
		    "for %d minutes.", LOCKOUT_MINUTES);
		jsonwrite_bool(extra, "locked", 1);
		jsonwrite_str(extra, "lockoutDuration", "15 minutes");
	} else {
		int remaining = LOCKOUT_MAX_FAILURES - attempts;
		if (remaining < 0)
			remaining = 0;
		snprintf(msg, sizeof(msg), "Invalid username or password. You have %d attempts "
		    "remaining.", remaining);
		jsonwrite_int(extra, "attempts", attempts);
		jsonwrite_int(extra, "remaining", remaining);
		jsonwrite_int(extra, "maxAttempts", LOCKOUT_MAX_FAILURES);
	}
	jsonwrite_str(extra, "message", msg);
	resp_error_with(r, 401, "invalid_credentials", "invalid_credentials", extra);
}

void
api_login(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *obj;
	const char *user = NULL, *password = NULL;
	char stored[SECURITY_HASH_MAX];
	int remember = 0, found;
	double until = 0;

	if (body == NULL)
		return;
	if (req_body_string(r, body, "username", 1, 128, &user) < 0 ||
	    req_body_string(r, body, "password", 1, 1024, &password) < 0 ||
	    req_body_bool(r, body, "rememberMe", 0, &remember) < 0)
		return;
	switch (lockout_password_locked(r, user, &until)) {
	case -1:
		resp_db_unavailable(r);
		return;
	case 1:
		audit_anonymous(r, "login", user, "Account locked");
		answer_locked(r, until);
		return;
	}
	if (ratelimit_named(r, "login", 10, 60) != 0)
		return;
	found = security_password_of(r->db, user, stored);
	if (found < 0) {
		resp_db_unavailable(r);
		return;
	}
	/* An unknown user costs one bcrypt too, against a dummy hash. */
	if (!password_verify(password, found ? stored : NULL)) {
		int attempts = lockout_password_failed(r, user, &until);
		audit_anonymous(r, "login", user, "Invalid credentials");
		answer_bad_password(r, attempts, until);
		return;
	}
	lockout_password_ok(r, user);
	if (session_create(r, user, remember ? SESSION_DAYS_REMEMBER * 86400L :
	    SESSION_HOURS_DEFAULT * 3600L) != 0) {
		resp_db_unavailable_msg(r, "Could not create the session");
		return;
	}
	audit_record(r->db, "login", user, r->client_ip, r->raw_path, 1, "Successful login");
	obj = resp_object(r);
	jsonwrite_bool(obj, "success", 1);
	jsonwrite_str(obj, "message", "Successfully logged in");
	resp_json(r, 200, obj);
}

void
api_logout(struct request *r)
{
	struct json_object *obj;

	if (r->auth.method == AUTH_METHOD_SESSION && session_delete(r, r->auth.session_hash) != 0) {
		resp_db_unavailable_msg(r, "Could not end the session");
		return;
	}
	session_clear_cookies(r);
	audit_record(r->db, "logout", r->auth.username, r->client_ip, r->raw_path, 1, "Logged out");
	obj = resp_object(r);
	jsonwrite_bool(obj, "success", 1);
	jsonwrite_str(obj, "message", "Successfully logged out");
	resp_json(r, 200, obj);
}
