/* api_license.c: the Pulse Pro licence, /api/license/... (security.md §11.5): status,
 * features, activate and clear, with the original's bodies and messages. */
#include "config.h"

#include "audit.h"
#include "handlers.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "license.h"

#include <json-c/json.h>
#include <string.h>
#include <time.h>

/* The activated licence: 1 loaded, 0 none, or -1 after answering 503. */
static int
load(struct request *r, struct license *l)
{
	int rc = license_load(r->db, l);

	if (rc < 0)
		resp_db_unavailable(r);
	return rc;
}

void
api_license_status(struct request *r)
{
	struct license l;
	int rc = load(r, &l);

	if (rc >= 0)
		resp_json(r, 200, req_json(r, license_status_json(rc ? &l : NULL, time(NULL))));
}

void
api_license_features(struct request *r)
{
	struct license l;
	int rc = load(r, &l);

	if (rc >= 0)
		resp_json(r, 200, req_json(r, license_features_json(rc ? &l : NULL, time(NULL))));
}

/* {"success": false, "message": message} with status 400, as the original. */
static void
refuse(struct request *r, const char *message)
{
	struct json_object *o = resp_object(r);

	jsonwrite_bool(o, "success", 0);
	jsonwrite_str(o, "message", message);
	resp_json(r, 400, o);
}

void
api_license_activate(struct request *r)
{
	struct json_object *body = NULL, *o;
	const char *key = NULL;
	struct license l;
	char err[256];
	int64_t now = time(NULL);
	int rc;

	if (r->body != NULL)
		body = req_json(r, jsonutil_parse(r->body, r->body_len, err, sizeof(err)));
	if (body == NULL || !json_object_is_type(body, json_type_object) ||
	    jsonutil_get_string(body, "license_key", &key) == JSONUTIL_WRONG_TYPE) {
		refuse(r, "Invalid request body");
		return;
	}
	if (key == NULL || key[0] == '\0') {
		refuse(r, "License key is required");
		return;
	}
	rc = license_activate(r->db, key, now, &l, err, sizeof(err));
	if (rc == -2) {
		resp_db_unavailable(r);
		return;
	}
	audit_record(r->db, "license_activate", r->auth.username, r->client_ip, r->raw_path,
	    rc == 0, rc == 0 ? l.lid : err);
	if (rc != 0) {
		refuse(r, err);
		return;
	}
	o = resp_object(r);
	jsonwrite_bool(o, "success", 1);
	jsonwrite_str(o, "message", "License activated successfully");
	json_object_object_add(o, "status", license_status_json(&l, now));
	resp_json(r, 200, o);
}

void
api_license_clear(struct request *r)
{
	struct json_object *o;

	if (license_clear(r->db) != 0) {
		resp_db_unavailable(r);
		return;
	}
	audit_record(r->db, "license_clear", r->auth.username, r->client_ip, r->raw_path, 1,
	    "License cleared");
	o = resp_object(r);
	jsonwrite_bool(o, "success", 1);
	jsonwrite_str(o, "message", "License cleared");
	resp_json(r, 200, o);
}
