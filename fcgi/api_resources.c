/* api_resources.c: GET /api/resources, /api/resources/stats and /api/resources/{id}: the
 * unified resources (src/resources.c) the original's web client gets over its WebSocket. */
#include "config.h"

#include "handlers.h"
#include "resources.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>

/* Every resource of the current state, or NULL after answering 503. */
static struct json_object *
load(struct request *r, double now)
{
	char err[256];
	struct json_object *all = resources_collect(r->db, now, err, sizeof(err));

	if (all == NULL)
		resp_db_unavailable(r);
	return req_json(r, all);
}

static void
answer(struct request *r, struct json_object *o)
{
	resp_json(r, 200, req_json(r, o));
}

void
api_resources_list(struct request *r)
{
	struct resources_filter f = {0};
	struct json_object *all;
	double now = clock_wall();
	char err[160];

	for (const char *const *p = resources_filter_params; *p; p++) {
		if (resources_filter_set(&f, *p, req_query(r, *p), err, sizeof(err)) != 0) {
			resp_error(r, 400, "invalid_filter", "%s", err);
			return;
		}
	}
	if ((all = load(r, now)) == NULL)
		return;
	answer(r, resources_list(all, &f, now));
}

void
api_resources_stats(struct request *r)
{
	double now = clock_wall();
	struct json_object *all = load(r, now);

	if (all == NULL)
		return;
	answer(r, resources_stats(all, now));
}

/* /api/resources/{id}, and /api/resources/{pbs}/datastore/{name} for a datastore, whose id
 * holds slashes as the original's does. */
void
api_resources_get(struct request *r)
{
	const char *id = req_path_param(r, "id"), *pbs = req_path_param(r, "pbs");
	struct json_object *all, *found;
	double now = clock_wall();

	if (pbs != NULL)
		id = arena_printf(r->arena, "%s/datastore/%s", pbs, req_path_param(r, "name"));
	if ((all = load(r, now)) == NULL)
		return;
	found = resources_find(all, id);
	if (found != NULL)
		resp_json(r, 200, found);
	else
		resp_error(r, 404, "resource_not_found", "Resource '%.200s' not found", id);
}
