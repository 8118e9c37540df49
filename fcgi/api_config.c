/* api_config.c: POST /api/config/export and /api/config/import (security.md §10): the whole
 * configuration as the original's passphrase-encrypted bundle, and back. */
#include "config.h"

#include "audit.h"
#include "config_bundle.h"
#include "crypto.h"
#include "handlers.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "mockmode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT "config_export"	/* the audit events */
#define IMPORT "config_import"

/* Answers a refusal (or a failure) and records it in the audit trail; message never holds
 * a secret (the import's reasons name fields, positions, ids and scope names). */
static void
refuse(struct request *r, const char *event, int status, const char *code, const char *message)
{
	audit_record(r->db, event, r->auth.username, r->client_ip, r->raw_path, 0,
	    arena_printf(r->arena, "Refused (%d): %.200s", status, message));
	resp_error(r, status, code, "%s", message);
}

/* The original's rule for both routes (§10.2): a session, an API token in X-API-Token (not
 * Bearer, not ?token=), or an admin of the authenticating proxy. Returns 0, or -1 after
 * answering (and auditing the refusal). */
static int
check_caller(struct request *r, const char *event)
{
	const struct principal *p = &r->auth;

	if (p->method == AUTH_METHOD_PROXY && !p->admin) {
		refuse(r, event, 403, "forbidden", "Admin privileges required for export/import");
		return -1;
	}
	if (p->method == AUTH_METHOD_SESSION || p->method == AUTH_METHOD_PROXY ||
	    (p->method == AUTH_METHOD_TOKEN && req_header(r, "X-API-Token") != NULL))
		return 0;
	refuse(r, event, 401, "unauthorized", "Unauthorized - please log in or provide API token");
	return -1;
}

/* The passphrase of a body: NULL after answering 400 in the original's words. */
static const char *
passphrase_of(struct request *r, const char *event, struct json_object *body)
{
	struct json_object *v;

	if (!json_object_object_get_ex(body, "passphrase", &v) || v == NULL ||
	    (json_object_is_type(v, json_type_string) && json_object_get_string_len(v) == 0)) {
		refuse(r, event, 400, "missing_passphrase", "Passphrase is required");
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
		refuse(r, event, 400, "invalid_request", "Invalid request body");
		return NULL;
	}
	return json_object_get_string(v);
}

/* The body as an object, or NULL after answering the original's 400. */
static struct json_object *
body_of(struct request *r, const char *event)
{
	struct json_object *body = NULL;
	char err[128];

	if (r->body != NULL)
		body = req_json(r, jsonutil_parse(r->body, r->body_len, err, sizeof(err)));
	if (body == NULL || !json_object_is_type(body, json_type_object)) {
		refuse(r, event, 400, "invalid_request", "Invalid request body");
		return NULL;
	}
	return body;
}

void
api_config_export(struct request *r)
{
	struct json_object *body, *doc = NULL, *obj;
	const char *passphrase, *text;
	char err[256], *data;

	if (check_caller(r, EXPORT) != 0 || (body = body_of(r, EXPORT)) == NULL ||
	    (passphrase = passphrase_of(r, EXPORT, body)) == NULL)
		return;
	if (strlen(passphrase) < BUNDLE_MIN_PASSPHRASE) {
		refuse(r, EXPORT, 400, "weak_passphrase",
		    "Passphrase must be at least 12 characters long");
		return;
	}
	if (config_export(r->db, &doc, err, sizeof(err)) != 0) {
		log_error("msg=\"configuration export failed\" error=\"%s\"", err);
		refuse(r, EXPORT, 500, "export_failed", "Failed to export configuration");
		return;
	}
	req_json(r, doc);
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	data = bundle_encrypt(passphrase, text, strlen(text));
	/* The clear text holds every secret: do not leave it in freed memory. */
	explicit_bzero((char *)text, strlen(text));
	if (data == NULL) {
		refuse(r, EXPORT, 500, "export_failed", "Failed to export configuration");
		return;
	}
	audit_record(r->db, EXPORT, r->auth.username, r->client_ip, r->raw_path, 1,
	    "Configuration exported");
	obj = resp_object(r);
	jsonwrite_str(obj, "status", "success");
	jsonwrite_str(obj, "data", data);
	free(data);
	resp_json(r, 200, obj);
}

/* The 200 answer: the original's message, and what was written (docs/COMPATIBILITY.md). */
static void
answer_imported(struct request *r, const struct config_import_counts *c)
{
	struct json_object *obj = resp_object(r), *imported = json_object_new_object();

	jsonwrite_str(obj, "status", "success");
	jsonwrite_str(obj, "message", "Configuration imported successfully");
	jsonwrite_int(imported, "pveInstances", c->pve);
	jsonwrite_int(imported, "pbsInstances", c->pbs);
	jsonwrite_int(imported, "pmgInstances", c->pmg);
	jsonwrite_int(imported, "webhooks", c->webhooks);
	if (c->api_tokens >= 0)
		jsonwrite_int(imported, "apiTokens", c->api_tokens);
	jsonwrite_int(imported, "systemSettings", c->system_settings);
	jsonwrite_bool(imported, "alerts", 1);
	jsonwrite_bool(imported, "email", 1);
	jsonwrite_bool(imported, "apprise", 1);
	jsonwrite_bool(imported, "oidc", c->oidc);
	json_object_object_add(obj, "imported", imported);
	resp_json(r, 200, obj);
}

void
api_config_import(struct request *r)
{
	struct json_object *body, *v = NULL, *doc;
	struct config_import_counts counts;
	enum config_import_result rc;
	const char *passphrase, *details;
	char err[512], why[200], *plain = NULL;
	size_t len = 0;
	int rc_mock;

	if (check_caller(r, IMPORT) != 0 || (body = body_of(r, IMPORT)) == NULL ||
	    (passphrase = passphrase_of(r, IMPORT, body)) == NULL)
		return;
	if (json_object_object_get_ex(body, "data", &v) && v != NULL &&
	    !json_object_is_type(v, json_type_string)) {
		refuse(r, IMPORT, 400, "invalid_request", "Invalid request body");
		return;
	}
	if (v == NULL || json_object_get_string_len(v) == 0) {
		refuse(r, IMPORT, 400, "missing_data", "Import data is required");
		return;
	}
	/* As the node API: no node change while mock mode is on (the original saves the rest
	 * and silently drops the nodes; an import here is all or nothing). */
	if ((rc_mock = mockmode_blocks_changes(r->db)) != 0) {
		if (rc_mock < 0) {
			resp_db_unavailable(r);
			return;
		}
		refuse(r, IMPORT, 403, "mock_mode",
		    "Configuration import is disabled while mock mode is on");
		return;
	}
	if (bundle_decrypt(json_object_get_string(v), passphrase, &plain, &len, err,
	    sizeof(err)) != 0)
		goto refused;
	doc = req_json(r, jsonutil_parse(plain, len, why, sizeof(why)));
	secret_free_n(plain, len + 1);
	if (doc == NULL) {
		snprintf(err, sizeof(err), "failed to unmarshal import data: %s", why);
		goto refused;
	}
	rc = config_import(r->db, doc, &counts, err, sizeof(err));
	if (rc == CONFIG_IMPORT_DB_ERROR) {
		audit_record(r->db, IMPORT, r->auth.username, r->client_ip, r->raw_path, 0,
		    "Failed: the database");
		resp_db_unavailable_msg(r, "Failed to import configuration");
		return;
	}
	if (rc == CONFIG_IMPORT_BAD_INPUT)
		goto refused;
	/* The quickstart's demo estate gives way to imported nodes, as to an added one. */
	if (counts.pve + counts.pbs + counts.pmg > 0)
		(void)mockmode_demo_off(r->db);
	details = arena_printf(r->arena, "Configuration imported: %d PVE, %d PBS, %d PMG, "
	    "%d webhooks, %d API tokens", counts.pve, counts.pbs, counts.pmg, counts.webhooks,
	    counts.api_tokens < 0 ? 0 : counts.api_tokens);
	audit_record(r->db, IMPORT, r->auth.username, r->client_ip, r->raw_path, 1, details);
	answer_imported(r, &counts);
	return;
refused:
	refuse(r, IMPORT, 400, "import_failed", arena_printf(r->arena,
	    "Failed to import configuration: %s", err));
}
