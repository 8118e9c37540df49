/* api_login.c: POST /api/login and POST /api/logout (security.md §2.8). */
#include "config.h"

#include "audit.h"
#include "crypto.h"
#include "handlers.h"
#include "log.h"
#include "ratelimit.h"
#include "session.h"
#include "timefmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SESSION_HOURS_DEFAULT 24
#define SESSION_DAYS_REMEMBER 30

static const struct db_stmt stmt_password_hash = {
	"login_password_hash",
	"SELECT password_hash FROM pulse.users WHERE username = $1",
	1,
};

static void
answer_locked(struct request *r, double until)
{
	struct json_object *extra = json_object_new_object();
	char when[TIMEFMT_LEN], msg[160];
	long minutes = (long)floor((until - clock_wall()) / 60.0);

	if (minutes < 1)
		minutes = 1;
	timefmt_rfc3339(until, when, sizeof(when));
	snprintf(msg, sizeof(msg), "Too many failed attempts. Account is locked for %ld more minutes.",
	    minutes);
	json_object_object_add(extra, "message", json_object_new_string(msg));
	json_object_object_add(extra, "lockedUntil", json_object_new_string(when));
	json_object_object_add(extra, "remainingMinutes", json_object_new_int64(minutes));
	resp_error_with(r, 403, "account_locked", "account_locked", extra);
	json_object_put(extra);
}

void
api_login(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *extra;
	const char *user = NULL, *password = NULL;
	int remember = 0, ok, attempts;
	double until = 0;
	PGresult *res;
	const char *params[1];
	char msg[160];

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

	params[0] = user;
	res = db_exec_stmt(r->db, &stmt_password_hash, params);
	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	/* An unknown user costs one bcrypt too, against a dummy hash. */
	ok = password_verify(password, PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : NULL);
	PQclear(res);

	if (!ok) {
		attempts = lockout_password_failed(r, user, &until);
		audit_anonymous(r, "login", user, "Invalid credentials");
		extra = json_object_new_object();
		if (until > 0) {
			snprintf(msg, sizeof(msg), "Invalid username or password. Account is now locked "
			    "for %d minutes.", LOCKOUT_MINUTES);
			json_object_object_add(extra, "locked", json_object_new_boolean(1));
			json_object_object_add(extra, "lockoutDuration",
			    json_object_new_string("15 minutes"));
		} else {
			int remaining = LOCKOUT_MAX_FAILURES - attempts;
			if (remaining < 0)
				remaining = 0;
			snprintf(msg, sizeof(msg), "Invalid username or password. You have %d attempts "
			    "remaining.", remaining);
			json_object_object_add(extra, "attempts", json_object_new_int(attempts));
			json_object_object_add(extra, "remaining", json_object_new_int(remaining));
			json_object_object_add(extra, "maxAttempts", json_object_new_int(LOCKOUT_MAX_FAILURES));
		}
		json_object_object_add(extra, "message", json_object_new_string(msg));
		resp_error_with(r, 401, "invalid_credentials", "invalid_credentials", extra);
		json_object_put(extra);
		return;
	}
	lockout_password_ok(r, user);
	if (session_create(r, user, remember ? SESSION_DAYS_REMEMBER * 86400L :
	    SESSION_HOURS_DEFAULT * 3600L) != 0) {
		resp_db_unavailable_msg(r, "Could not create the session");
		return;
	}
	audit_record(r->db, "login", user, r->client_ip, r->raw_path, 1, "Successful login");
	extra = json_object_new_object();
	json_object_object_add(extra, "success", json_object_new_boolean(1));
	json_object_object_add(extra, "message", json_object_new_string("Successfully logged in"));
	resp_json(r, 200, extra);
	json_object_put(extra);
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
	obj = json_object_new_object();
	json_object_object_add(obj, "success", json_object_new_boolean(1));
	json_object_object_add(obj, "message", json_object_new_string("Successfully logged out"));
	resp_json(r, 200, obj);
	json_object_put(obj);
}
