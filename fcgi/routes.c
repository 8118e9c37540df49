/* routes.c: the route table. Every route and its protection are declared here and nowhere
 * else; a test walks this table through the API (t/api) so no route can forget its check. */
#include "config.h"

#include "handlers.h"
#include "router.h"
#include "util.h"

#define GET HTTP_GET
#define POST HTTP_POST
#define PUT HTTP_PUT
#define PATCH HTTP_PATCH
#define DELETE HTTP_DELETE

const struct route route_table[] = {
	/* api_system.c */
	{GET, "/api/health", api_health, ROUTE_PUBLIC | ROUTE_NO_DB, NULL},
	{GET, "/api/version", api_version, ROUTE_PUBLIC | ROUTE_NO_DB, NULL},
};

const size_t route_count = ARRAY_LEN(route_table);
