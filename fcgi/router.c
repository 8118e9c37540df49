/* router.c: route matching and the pipeline every request goes through. */
#include "config.h"

#include "router.h"
#include "auth.h"
#include "conf.h"
#include "jsonwrite.h"
#include "license.h"
#include "live_settings.h"
#include "log.h"
#include "ratelimit.h"
#include "responder.h"
#include "session.h"
#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SEGMENTS 16

static int
split_pattern(const char *pattern, char segs[MAX_SEGMENTS][64])
{
	int n = 0;
	const char *p = pattern;

	if (*p != '/')
		return -1;
	while (*p == '/') {
		const char *start = ++p;
		while (*p && *p != '/')
			p++;
		if (p == start || n == MAX_SEGMENTS || (size_t)(p - start) >= 64)
			return -1;
		memcpy(segs[n], start, (size_t)(p - start));
		segs[n][p - start] = '\0';
		n++;
	}
	return *p == '\0' ? n : -1;
}

int
router_init(char *err, size_t errlen)
{
	char a[MAX_SEGMENTS][64];

	for (size_t i = 0; i < route_count; i++) {
		const struct route *rt = &route_table[i];
		int params = 0, n = split_pattern(rt->pattern, a);

		if (n < 0) {
			snprintf(err, errlen, "route %s: malformed pattern", rt->pattern);
			return -1;
		}
		for (int s = 0; s < n; s++)
			if (a[s][0] == '{')
				params++;
		if (params > REQUEST_MAX_PATH_PARAMS || rt->handler == NULL || rt->methods == 0 ||
		    rt->rate >= RATE_CLASS_COUNT ||
		    (rt->feature && license_feature_name(rt->feature) == NULL)) {
			snprintf(err, errlen, "route %s: bad definition", rt->pattern);
			return -1;
		}
		/* Whoever may call a route without a scope must not be able to make it parse
		 * much: small bodies for public and scope-free routes. */
		if (((rt->flags & ROUTE_PUBLIC) || rt->scope == NULL) &&
		    (rt->body_limit == 0 || rt->body_limit > ROUTE_SMALL_BODY)) {
			snprintf(err, errlen, "route %s: public or scope-free with a body limit above "
			    "%d bytes", rt->pattern, ROUTE_SMALL_BODY);
			return -1;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(route_table[j].pattern, rt->pattern) == 0 &&
			    (route_table[j].methods & rt->methods)) {
				snprintf(err, errlen, "route %s: declared twice for one method",
				    rt->pattern);
				return -1;
			}
		}
	}
	return 0;
}

/* Matches one pattern against the path segments; on success records path parameters. */
static int
pattern_matches(struct request *r, const char *pattern, char **segments, int nsegments)
{
	const char *p = pattern;
	int i = 0, np = 0;

	while (*p == '/') {
		const char *start = ++p;
		size_t len;

		while (*p && *p != '/')
			p++;
		len = (size_t)(p - start);
		if (i >= nsegments)
			return 0;
		if (start[0] == '{') {
			if (segments[i][0] == '\0')
				return 0;
			r->path_param_names[np] = arena_strndup(r->arena, start + 1, len - 2);
			r->path_params[np] = segments[i];
			np++;
		} else if (strlen(segments[i]) != len || memcmp(segments[i], start, len) != 0) {
			return 0;
		}
		i++;
	}
	if (i != nsegments)
		return 0;
	r->npath_params = np;
	return 1;
}

const struct route *
router_match(struct request *r, char **segments, int nsegments, unsigned *allowed)
{
	const struct route *found = NULL;
	unsigned method = r->method == REQ_METHOD_HEAD ? REQ_METHOD_GET : r->method;
	int best = -1;

	/* The most specific patterns win: /api/config/nodes/test-connection is not a node id.
	 * Only the routes of the winning pattern shape decide between 200 and 405. */
	*allowed = 0;
	for (size_t i = 0; i < route_count; i++) {
		const struct route *rt = &route_table[i];
		int literals;

		if (!pattern_matches(r, rt->pattern, segments, nsegments))
			continue;
		literals = nsegments - r->npath_params;
		if (literals < best)
			continue;
		if (literals > best) {
			best = literals;
			*allowed = 0;
			found = NULL;
		}
		*allowed |= rt->methods;
		if (found == NULL && (rt->methods & method))
			found = rt;
	}
	r->npath_params = 0;
	if (found != NULL)
		(void)pattern_matches(r, found->pattern, segments, nsegments);
	return found;
}

/* Splits the raw path into percent-decoded segments. Returns the count, or -1 for a path
 * that is not acceptable ("..", ".", bad escapes). */
static int
split_path(struct request *r, char ***out)
{
	const char *p = r->raw_path;
	char **segs;
	int n = 0, cap = MAX_SEGMENTS + 1;

	if (*p != '/')
		return -1;
	segs = arena_alloc(r->arena, sizeof(char *) * (size_t)cap);
	while (*p == '/') {
		const char *start = ++p;
		char *seg;

		while (*p && *p != '/')
			p++;
		/* A trailing slash names the same resource: /api/backups/ is /api/backups. */
		if (p == start && *p == '\0' && n > 0)
			break;
		if (n == cap)
			return -2;
		seg = uri_decode(r->arena, start, (size_t)(p - start), 0);
		if (seg == NULL || strcmp(seg, "..") == 0 || strcmp(seg, ".") == 0 ||
		    strchr(seg, '/') != NULL)
			return -1;
		segs[n++] = seg;
	}
	*out = segs;
	return n;
}

static int
read_body(struct request *r, int64_t length)
{
	char *buf = arena_alloc(r->arena, (size_t)length + 1);
	int64_t got = 0;

	while (got < length) {
		int want = length - got > (1 << 20) ? (1 << 20) : (int)(length - got);
		int n = FCGX_GetStr(buf + got, want, r->fcgx->in);
		if (n <= 0)
			break;
		got += n;
	}
	if (got != length)
		return -1;
	buf[got] = '\0';
	r->body = buf;
	r->body_len = (size_t)got;
	return 0;
}

int64_t
route_body_limit(const struct route *rt)
{
	int64_t setting = responder_process.body_limit;

	if (rt == NULL || rt->body_limit == 0 || (int64_t)rt->body_limit > setting)
		return setting;
	return (int64_t)rt->body_limit;
}

/* Whether a Content-Type names JSON: "application/json", any case, parameters allowed. */
static int
is_json_type(const char *ctype)
{
	size_t n = strlen("application/json");

	if (ctype == NULL)
		return 0;
	while (*ctype == ' ')
		ctype++;
	if (strncasecmp(ctype, "application/json", n) != 0)
		return 0;
	ctype += n;
	while (*ctype == ' ')
		ctype++;
	return *ctype == '\0' || *ctype == ';';
}

static int
is_state_changing(unsigned method)
{
	return method != REQ_METHOD_GET && method != REQ_METHOD_HEAD && method != REQ_METHOD_OPTIONS;
}

static int
has_credentials(struct request *r)
{
	const char *cookie = req_header(r, "Cookie");

	return req_header(r, "X-API-Token") || req_header(r, "Authorization") ||
	    req_header(r, "X-Proxy-Secret") || (cookie && strstr(cookie, SESSION_COOKIE "=")) ||
	    (r->query && strstr(r->query, "token="));
}

/* The first authenticated (or direct loopback) request whose Host is usable teaches the
 * public URL (alerts-notifications.md §8.5), unless the public_url option sets it: once per
 * process, one statement that writes only when nothing is stored. */
static void
public_url_learn(struct request *r)
{
	static int done;	/* atomic */

	if (__atomic_load_n(&done, __ATOMIC_RELAXED) || (r->route->flags & ROUTE_NO_DB) ||
	    (r->auth.method == AUTH_METHOD_NONE && !r->direct_loopback))
		return;
	if (conf_str("public_url")[0] != '\0' ||
	    settings_learn_public_url(r->db, r->https, req_param(r, "HTTP_HOST")) == 1)
		__atomic_store_n(&done, 1, __ATOMIC_RELAXED);
}

/* The route's licence feature (security.md §11.6): 0 when the activated licence grants it,
 * else -1 after answering 402 with the original's body (or 503). */
static int
check_license(struct request *r, const char *feature)
{
	struct json_object *o;
	const char *name;
	int rc = license_feature_granted(r->db, feature);

	if (rc > 0)
		return 0;
	if (rc < 0) {
		resp_db_unavailable(r);
		return -1;
	}
	name = license_feature_name(feature);
	o = resp_object(r);
	jsonwrite_str(o, "error", "license_required");
	jsonwrite_str(o, "message", arena_printf(r->arena, "feature not included in license: %s "
	    "requires Pulse Pro", name ? name : feature));
	jsonwrite_str(o, "feature", feature);
	jsonwrite_str(o, "upgrade_url", LICENSE_UPGRADE_URL);
	r->error_code = "license_required";
	resp_json(r, 402, o);
	return -1;
}

/* Authenticates and applies the route's rule (public, admin, licence feature, scope, in the
 * original's order: a token without the scope on an unlicensed route gets 402), then CSRF
 * for session requests. Returns 0 to go on, -1 after answering. */
static int
check_access(struct request *r)
{
	const struct route *rt = r->route;
	struct principal *p = &r->auth;
	const char *message;
	enum auth_result rc;

	/* A public route looks at credentials only when some are presented (so that an
	 * anonymous health check costs no query); they can only add to the answer. */
	if ((rt->flags & ROUTE_PUBLIC) && !has_credentials(r))
		return 0;
	auth_check_invalidations(r);
	rc = auth_authenticate(r, p, &message);
	if (rt->flags & ROUTE_PUBLIC) {
		if (rc != AUTH_OK)
			memset(p, 0, sizeof(*p));
	} else if (rc == AUTH_UNAVAILABLE) {
		resp_db_unavailable(r);
		return -1;
	} else if (rc == AUTH_LOCKED) {
		resp_error(r, 403, "account_locked", "%s", message);
		return -1;
	} else if (rc == AUTH_THROTTLED) {
		if (r->retry_after > 0)
			resp_header(r, "Retry-After", arena_printf(r->arena, "%ld", r->retry_after));
		resp_error(r, 429, "too_many_failures", "%s", message);
		return -1;
	} else if (rc != AUTH_OK) {
		resp_error(r, 401, "unauthorized", "%s", message);
		return -1;
	}
	if (p->method != AUTH_METHOD_NONE) {
		static const char *const names[] = {"none", "proxy", "api_token", "session", "basic",
		    "recovery"};
		resp_header(r, "X-Authenticated-User", p->username);
		/* The original names a session an OIDC login made "oidc". */
		resp_header(r, "X-Auth-Method", p->method == AUTH_METHOD_SESSION && p->oidc ? "oidc" :
		    names[p->method]);
	}
	if (rc != AUTH_OK)
		return 0;
	if ((rt->flags & ROUTE_ADMIN) && !p->admin) {
		resp_error(r, 403, "forbidden", "Admin privileges required");
		return -1;
	}
	if (rt->feature != NULL && check_license(r, rt->feature) != 0)
		return -1;
	if (!principal_has_scope(p, rt->scope)) {
		resp_missing_scope(r, rt->scope);
		return -1;
	}
	/* A proxy's SSO cookie signs in whatever the browser sends: a change must come from
	 * our own pages (or from no browser at all). */
	if (p->method == AUTH_METHOD_PROXY && is_state_changing(r->method) &&
	    !(rt->flags & ROUTE_NO_CSRF))
		return origin_check(r, p);
	if (p->method == AUTH_METHOD_SESSION) {
		if (is_state_changing(r->method) && !(rt->flags & ROUTE_NO_CSRF))
			return csrf_check(r, p);
		/* A session without a CSRF token gets one on a read. One that has a token keeps
		 * it even if the cookie is missing: re-issuing on every read would rotate it
		 * under the feet of the session's other tabs (a failed check hands out a new
		 * one anyway). */
		if (!is_state_changing(r->method) && p->csrf_hash[0] == '\0')
			(void)csrf_issue(r, p->session_hash, 0);
	}
	return 0;
}

void
router_handle(struct request *r)
{
	const char *cl = req_param(r, "CONTENT_LENGTH");
	char **segments = NULL;
	unsigned allowed = 0;
	int64_t length = 0, limit;
	int nseg;

	if (cl && *cl && parse_int64(cl, 0, INT64_MAX, &length) != 0) {
		resp_error(r, 400, "bad_request", "Invalid Content-Length");
		return;
	}
	live_settings_attach(r);
	auth_resolve_client(r);
	/* The rate class comes from the route the decoded path matches (a path that matches
	 * none counts as general): no spelling of a path escapes its class. */
	nseg = split_path(r, &segments);
	if (nseg >= 0)
		r->route = router_match(r, segments, nseg, &allowed);
	if (ratelimit_class(r, r->route ? r->route->rate : RATE_GENERAL) != 0)
		return;
	if (nseg == -2) {
		resp_error(r, 404, "not_found", "Not found");
		return;
	}
	if (nseg < 0) {
		resp_error(r, 400, "invalid_path", "Invalid path");
		return;
	}
	if (r->route == NULL) {
		if (allowed == 0) {
			resp_error(r, 404, "not_found", "Not found");
			return;
		}
		allowed |= (allowed & REQ_METHOD_GET) ? REQ_METHOD_HEAD : 0;
		resp_header(r, "Allow", req_methods_string(r, allowed | REQ_METHOD_OPTIONS));
		if (r->method == REQ_METHOD_OPTIONS) {
			resp_no_content(r);
			return;
		}
		resp_error(r, 405, "method_not_allowed", "Method %s not allowed",
		    r->method ? r->method_name : "(unknown)");
		return;
	}
	/* Before anything is read: the body is refused on its declared length. */
	limit = route_body_limit(r->route);
	if (length > limit) {
		resp_error(r, 413, "payload_too_large", "Request body too large (limit %lld bytes)",
		    (long long)limit);
		return;
	}
	if (!(r->route->flags & ROUTE_NO_DB)) {
		switch (responder_ready(r->thread)) {
		case READY_OK:
			live_settings_refresh(r);
			break;
		case READY_DB_DOWN:
			resp_db_unavailable(r);
			return;
		case READY_SCHEMA_MISMATCH:
			resp_header(r, "Retry-After", "5");
			resp_error(r, 503, "schema_mismatch",
			    "Database schema version %d does not match the expected %d: run "
			    "pulse-worker --migrate", r->thread->schema_seen,
			    responder_process.expected_schema);
			return;
		}
	}
	if (check_access(r) != 0)
		return;
	public_url_learn(r);
	/* A body a web page could send without asking (a form, text/plain) is never taken for
	 * JSON: cross-origin JSON needs a CORS preflight, granted only to the allowedOrigins
	 * setting's origin. */
	if (length > 0 && is_state_changing(r->method) && !(r->route->flags & ROUTE_ANY_BODY) &&
	    !is_json_type(req_param(r, "CONTENT_TYPE"))) {
		resp_error(r, 415, "unsupported_media_type", "Content-Type must be application/json");
		return;
	}
	if (length > 0 && read_body(r, length) != 0) {
		resp_error(r, 400, "bad_request", "Request body shorter than Content-Length");
		return;
	}
	r->route->handler(r);
	if (!r->responded) {
		log_error("msg=\"handler returned without an answer\" route=%s", r->route->pattern);
		resp_error(r, 500, "internal_error", "An unexpected error occurred");
	}
}
