/* test_router.c: route table sanity, matching, 405 method sets, URL decoding. */
#include "config.h"

#include <string.h>

#include "arena.h"
#include "auth.h"
#include "request.h"
#include "license.h"
#include "router.h"
#include "tap.h"

static const struct route *
match(struct request *r, const char *method, const char *path, unsigned *allowed)
{
	char *copy = arena_strdup(r->arena, path), *segs[16], *save = NULL;
	int n = 0;

	r->method = req_method_parse(method);
	for (char *s = strtok_r(copy, "/", &save); s && n < 16; s = strtok_r(NULL, "/", &save))
		segs[n++] = s;
	return router_match(r, segs, n, allowed);
}

int
main(void)
{
	struct request r;
	unsigned allowed;
	char err[256];
	const struct route *rt;

	memset(&r, 0, sizeof(r));
	r.arena = arena_new();
	is_int(router_init(err, sizeof(err)), 0, "route table is well formed");

	rt = match(&r, "GET", "/api/health", &allowed);
	ok(rt != NULL && strcmp(rt->pattern, "/api/health") == 0, "GET /api/health routes");
	ok(rt && (rt->flags & ROUTE_PUBLIC), "health is public");
	rt = match(&r, "HEAD", "/api/version", &allowed);
	ok(rt != NULL, "HEAD is served by a GET route");
	rt = match(&r, "POST", "/api/health", &allowed);
	ok(rt == NULL, "POST /api/health has no route");
	is_int(allowed, REQ_METHOD_GET, "and GET is the allowed method");
	is_str(req_methods_string(&r, allowed | REQ_METHOD_HEAD | REQ_METHOD_OPTIONS),
	    "GET, HEAD, OPTIONS", "Allow header text");
	rt = match(&r, "GET", "/api/nothing-here", &allowed);
	ok(rt == NULL && allowed == 0, "unknown path: no route, nothing allowed");
	rt = match(&r, "GET", "/api/health/extra", &allowed);
	ok(rt == NULL && allowed == 0, "longer path does not match");

	/* L4: only an empty list means everything; names this build does not know grant
	 * nothing, alone or beside known ones. */
	is_int(scopes_from_list(""), SCOPE_WILDCARD, "L4: an empty scope list is full access");
	is_int(scopes_from_list("audit:read"), 0, "L4: an unknown scope grants nothing");
	is_int(scopes_from_list("audit:read,ai:execute"), 0, "L4: unknown scopes grant nothing");
	is_int(scopes_from_list("audit:read,monitoring:read"), SCOPE_MONITORING_READ,
	    "L4: an unknown scope beside a known one adds nothing");
	is_int(scopes_from_list("*"), SCOPE_WILDCARD, "the wildcard");
	is_int(scopes_from_list("monitoring:read,settings:read"),
	    SCOPE_MONITORING_READ | SCOPE_SETTINGS_READ, "two scopes");

	for (size_t i = 0; i < route_count; i++) {
		const struct route *a = &route_table[i];
		ok(!((a->flags & ROUTE_PUBLIC) || a->scope == NULL) ||
		    (a->body_limit > 0 && a->body_limit <= ROUTE_SMALL_BODY),
		    "H2: %s, public or without a scope, reads a small body", a->pattern);
		/* /metrics has a location of its own in the templates (loopback only) */
		ok(strncmp(a->pattern, "/api/", 5) == 0 || strncmp(a->pattern, "/download/", 10) == 0 ||
		    strncmp(a->pattern, "/install", 8) == 0 || strncmp(a->pattern, "/uninstall", 10) == 0 ||
		    strcmp(a->pattern, "/metrics") == 0,
		    "route %s is under a forwarded prefix", a->pattern);
		ok(a->feature == NULL || (license_feature_name(a->feature) != NULL &&
		    !(a->flags & ROUTE_PUBLIC)), "route %s: no licence feature, or a known one on a "
		    "route with credentials", a->pattern);
	}

	is_str(uri_decode(r.arena, "a%20b%2Fc", 9, 0), "a b/c", "percent decoding");
	is_str(uri_decode(r.arena, "a+b", 3, 1), "a b", "plus in a form value");
	is_str(uri_decode(r.arena, "a+b", 3, 0), "a+b", "plus kept in a path");
	ok(uri_decode(r.arena, "bad%2", 5, 0) == NULL, "truncated escape refused");
	ok(uri_decode(r.arena, "bad%zz", 6, 0) == NULL, "non-hex escape refused");
	ok(uri_decode(r.arena, "nul%00", 6, 0) == NULL, "NUL escape refused");
	is_int(req_method_parse("PATCH"), REQ_METHOD_PATCH, "PATCH parses");
	is_int(req_method_parse("BREW"), 0, "unknown method");
	arena_free(r.arena);
	return done_testing();
}
