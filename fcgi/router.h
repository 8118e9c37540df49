/* router.h: the route table (method + path pattern -> handler and its access rule) and the
 * request pipeline in front of every handler. */
#ifndef PULSE_ROUTER_H
#define PULSE_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"

typedef void (*route_handler)(struct request *r);

enum route_flags {
	ROUTE_PUBLIC = 1 << 0,	/* answers without credentials */
	ROUTE_ADMIN = 1 << 1,	/* needs an admin (session or proxy admin, or a token) */
	ROUTE_NO_DB = 1 << 2,	/* answers without the database being ready */
	ROUTE_NO_CSRF = 1 << 3,	/* state-changing but exempt from the CSRF check */
	ROUTE_ANY_BODY = 1 << 4,	/* its body need not be application/json */
};

/* The rate class a route's requests count in, per client address (security.md §2.10); the
 * limits are in ratelimit.c. Requests that match no route count as RATE_GENERAL. */
enum rate_class {
	RATE_GENERAL,		/* 500 a minute */
	RATE_NONE,		/* not limited: the live state the UI polls */
	RATE_AUTH,		/* 10 a minute: login, logout, password change */
	RATE_RECOVERY,		/* 3 in 10 minutes */
	RATE_EXPORT,		/* 5 in 5 minutes */
	RATE_CONFIG_WRITE,	/* 30 a minute */
	RATE_CONFIG_READ,	/* 1,000 a minute */
	RATE_UPDATES,		/* 60 a minute */
	RATE_PUBLIC,		/* 1,000 a minute */
	RATE_DOWNLOAD,		/* 60 a minute: agent downloads and installer scripts */
	RATE_CLASS_COUNT
};

/* Routes that answer without credentials, or to any credential whatever its scope, read at
 * most this much of a body: a login needs a few hundred bytes, and json-c spends up to 260
 * times a text's size on it. router_init refuses such a route with a larger limit. */
#define ROUTE_SMALL_BODY 8192

struct route {
	unsigned methods;	/* enum req_method bits; GET implies HEAD */
	const char *pattern;	/* "/api/config/nodes/{id}"; {name} matches one segment */
	route_handler handler;
	unsigned flags;
	const char *scope;	/* scope an API token needs, or NULL */
	enum rate_class rate;
	size_t body_limit;	/* bytes; 0: the body_limit setting */
	const char *feature;	/* licence feature it needs (402 without), or NULL */
};

/* The table, in fcgi/routes.c: the only place a route and its protection are declared. */
extern const struct route route_table[];
extern const size_t route_count;

/* Checks the table (patterns well-formed, no duplicate method+pattern, small body limits
 * where no scope guards a route). Returns 0, or -1 with a message. Call once before
 * serving. */
int router_init(char *err, size_t errlen);

/* Finds the route for a decoded path split in segments. Returns the route, or NULL with
 * *allowed set to the methods other routes of that path accept (0: unknown path). Path
 * parameters are stored in r. */
const struct route *router_match(struct request *r, char **segments, int nsegments,
    unsigned *allowed);

/* The largest body a route reads: its own limit or the body_limit setting. */
int64_t route_body_limit(const struct route *rt);

/* Serves one request: path checks, routing (404/405), the route's rate class (429), body
 * limit (413), database readiness (503), access control (admin, then the licence feature:
 * 402, then the token's scope), content type (415), body reading, then the handler. */
void router_handle(struct request *r);

#endif
