/* api_audit.c: the audit log (security.md §9): GET /api/audit with the original's filters and
 * paging, GET /api/audit/{id}/verify, the whole-chain GET /api/audit/verify, and the audit
 * webhooks GET/POST/PUT /api/admin/webhooks/audit. All gated on audit_logging in the route
 * table. */
#include "config.h"

#include "audit.h"
#include "handlers.h"
#include "jsonread.h"
#include "jsonwrite.h"
#include "timefmt.h"
#include "util.h"

#include <json-c/json.h>
#include <math.h>
#include <string.h>

/* An RFC 3339 query parameter as unix seconds; NAN when absent or not such a time (ignored,
 * as the original). */
static double
time_param(struct request *r, const char *name)
{
	const char *v = req_query(r, name);
	double t;

	if (v == NULL || !*v || timefmt_parse_rfc3339(v, &t) != 0)
		return NAN;
	return t;
}

void
api_audit_list(struct request *r)
{
	struct audit_query q = {.limit = 100, .success = -1};
	const char *v;
	int64_t n;

	if ((v = req_query(r, "limit")) != NULL)
		q.limit = parse_int64(v, 1, INT64_MAX, &n) == 0 ? n : 0;
	if ((v = req_query(r, "offset")) != NULL && parse_int64(v, 0, INT64_MAX, &n) == 0)
		q.offset = n;
	if ((v = req_query(r, "event")) != NULL && *v)
		q.event = v;
	if ((v = req_query(r, "user")) != NULL && *v)
		q.user = v;
	q.start = time_param(r, "startTime");
	q.end = time_param(r, "endTime");
	if ((v = req_query(r, "success")) != NULL && *v)
		q.success = strcmp(v, "true") == 0;
	{
		struct json_object *o = req_json(r, audit_list(r->db, &q));
		if (o == NULL)
			resp_error(r, 500, "query_failed", "Failed to query audit events");
		else
			resp_json(r, 200, o);
	}
}

void
api_audit_verify_event(struct request *r)
{
	struct json_object *o;
	enum audit_verdict v = audit_verify_event(r->db, req_path_param(r, "id"));

	if (v == AUDIT_NOT_FOUND) {
		resp_error(r, 404, "not_found", "Audit event not found");
		return;
	}
	if (v != AUDIT_VERIFIED && v != AUDIT_BROKEN) {
		resp_db_unavailable(r);
		return;
	}
	o = resp_object(r);
	jsonwrite_bool(o, "available", 1);
	jsonwrite_bool(o, "verified", v == AUDIT_VERIFIED);
	jsonwrite_str(o, "message", v == AUDIT_VERIFIED ? "Event signature verified" :
	    "Event signature verification failed");
	resp_json(r, 200, o);
}

void
api_audit_verify_chain(struct request *r)
{
	struct audit_chain_report rep;
	int rc = audit_verify_chain(r->db, &rep);

	if (rc < 0)
		resp_db_unavailable(r);
	else
		resp_json(r, 200, req_json(r, audit_chain_report_json(&rep, rc)));
}

void
api_audit_webhooks_get(struct request *r)
{
	struct json_object *o = req_json(r, audit_webhooks_get(r->db));

	if (o == NULL)
		resp_db_unavailable(r);
	else
		resp_json(r, 200, o);
}

void
api_audit_webhooks_set(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *urls;
	char err[160];
	int rc;

	if (body == NULL)
		return;
	urls = jsonread_member(body, "urls");
	if (urls == NULL)
		urls = req_json(r, json_object_new_array());
	rc = audit_webhooks_set(r->db, urls, err, sizeof(err));
	if (rc == -1) {
		resp_error(r, 400, "invalid_field", "%s", err);
		return;
	}
	if (rc != 0) {
		resp_db_unavailable(r);
		return;
	}
	audit_record(r->db, "audit_webhooks_updated", r->auth.username, r->client_ip, r->raw_path,
	    1, arena_printf(r->arena, "%d URLs", jsonread_array_len(urls)));
	resp_no_content(r);
}
