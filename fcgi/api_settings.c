/* api_settings.c: the system settings (metrics-reporting.md §5): GET /api/system/settings,
 * POST /api/system/settings/update and the older GET /api/config/system. */
#include "config.h"

#include "audit.h"
#include "handlers.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "sysconfig.h"

static void
answer_settings(struct request *r, int older)
{
	struct json_object *o = req_json(r, sysconfig_settings_json(r->db, older));

	if (o == NULL) {
		resp_db_unavailable_msg(r, "Failed to load settings");
		return;
	}
	resp_json(r, 200, o);
}

/* GET /api/system/settings (§5.4): the settings in effect, and which ones the environment
 * pins. */
void
api_system_settings_get(struct request *r)
{
	answer_settings(r, 0);
}

/* GET /api/config/system (§5.8): the same shape; envOverrides names hideLocalLogin only. */
void
api_config_system(struct request *r)
{
	answer_settings(r, 1);
}

/* POST /api/system/settings/update (§5.5): every field checked with the original's
 * messages, taken under its merge rules, in one transaction; responders and workers apply
 * the change when its notification reaches them. */
void
api_system_settings_update(struct request *r)
{
	struct json_object *body, *obj;
	char err[512] = "", changed[1024];
	int too_large = 0, rc;

	/* The original answers any body it cannot decode with the same words. */
	body = jsonutil_parse_limited(r->body ? r->body : "", r->body_len, &jsonutil_limits_default,
	    &too_large, err, sizeof(err));
	if (body == NULL || !json_object_is_type(body, json_type_object)) {
		json_object_put(body);
		if (too_large)
			resp_error(r, 413, "payload_too_large", "Request body too large: %s", err);
		else
			resp_error(r, 400, "invalid_json", "Invalid request body");
		return;
	}
	req_json(r, body);
	rc = sysconfig_update(r->db, body, err, sizeof(err), changed, sizeof(changed));
	if (rc > 0) {
		resp_error(r, 400, "invalid_field", "%s", err);
		return;
	}
	if (rc < 0) {
		resp_db_unavailable_msg(r, "Failed to save settings");
		return;
	}
	log_info("msg=\"system settings updated\" keys=\"%s\"", changed);
	audit_record(r->db, "settings_updated", r->auth.username, r->client_ip, r->raw_path, 1,
	    arena_printf(r->arena, "System settings updated: %s", changed[0] ? changed : "none"));
	obj = resp_object(r);
	jsonwrite_bool(obj, "success", 1);
	resp_json(r, 200, obj);
}
