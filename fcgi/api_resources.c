/* api_resources.c: GET /api/resources, /api/resources/stats and /api/resources/{id}: the
 * unified resources (src/resources.c) the original's web client gets over its WebSocket. */
#include "config.h"

#include "handlers.h"
#include "resources.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>

void
api_resources_list(struct request *r)
{
	struct resources_filter f = {0};
	struct strbuf *out = arena_zalloc(r->arena, sizeof(*out));
	char err[256];

	for (const char *const *p = resources_filter_params; *p; p++) {
		if (resources_filter_set(&f, *p, req_query(r, *p), err, sizeof(err)) != 0) {
			resp_error(r, 400, "invalid_filter", "%s", err);
			return;
		}
	}
	arena_defer(r->arena, sb_free_deferred, out);
	if (resources_list_read(r->db, &f, clock_wall(), out, err, sizeof(err)) != 0) {
		resp_db_unavailable(r);
		return;
	}
	resp_raw(r, 200, "application/json", out->data, out->len);
}

void
api_resources_stats(struct request *r)
{
	char err[256];
	struct json_object *stats = req_json(r, resources_stats_read(r->db, clock_wall(), err,
	    sizeof(err)));

	if (stats == NULL)
		resp_db_unavailable(r);
	else
		resp_json(r, 200, stats);
}

/* /api/resources/{id}, and /api/resources/{pbs}/datastore/{name} for a datastore, whose id
 * holds slashes as the original's does. */
void
api_resources_get(struct request *r)
{
	const char *id = req_path_param(r, "id"), *pbs = req_path_param(r, "pbs");
	struct json_object *found;
	char err[256];

	if (pbs != NULL)
		id = arena_printf(r->arena, "%s/datastore/%s", pbs, req_path_param(r, "name"));
	if (resources_find_read(r->db, clock_wall(), id, &found, err, sizeof(err)) != 0)
		resp_db_unavailable(r);
	else if (req_json(r, found) != NULL)
		resp_json(r, 200, found);
	else
		resp_error(r, 404, "resource_not_found", "Resource '%.200s' not found", id);
}
