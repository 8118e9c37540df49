/* router.h: the route table (method + path pattern -> handler and its access rule) and the
 * request pipeline in front of every handler. */
#ifndef PULSE_ROUTER_H
#define PULSE_ROUTER_H

#include <stddef.h>

#include "request.h"

typedef void (*route_handler)(struct request *r);

enum route_flags {
	ROUTE_PUBLIC = 1 << 0,	/* answers without credentials */
	ROUTE_ADMIN = 1 << 1,	/* needs an admin (session or proxy admin, or a token) */
	ROUTE_NO_DB = 1 << 2,	/* answers without the database being ready */
	ROUTE_NO_CSRF = 1 << 3,	/* state-changing but exempt from the CSRF check */
};

struct route {
	unsigned methods;	/* enum http_method bits; GET implies HEAD */
	const char *pattern;	/* "/api/config/nodes/{id}"; {name} matches one segment */
	route_handler handler;
	unsigned flags;
	const char *scope;	/* scope an API token needs, or NULL */
};

/* The table, in fcgi/routes.c: the only place a route and its protection are declared. */
extern const struct route route_table[];
extern const size_t route_count;

/* Checks the table (patterns well-formed, no duplicate method+pattern). Returns 0, or -1
 * with a message. Call once before serving. */
int router_init(char *err, size_t errlen);

/* Finds the route for a decoded path split in segments. Returns the route, or NULL with
 * *allowed set to the methods other routes of that path accept (0: unknown path). Path
 * parameters are stored in r. */
const struct route *router_match(struct request *r, char **segments, int nsegments,
    unsigned *allowed);

/* Serves one request: path checks, routing (404/405), body limit (413), database
 * readiness (503), access control, body reading, then the handler. */
void router_handle(struct request *r);

#endif
