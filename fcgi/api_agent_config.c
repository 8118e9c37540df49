/* api_agent_config.c: what the server tells and takes from host agents beyond their reports:
 * the remote configuration GET|PATCH /api/agents/host/{id}/config (agents.md §6.5) and
 * POST /api/auto-register (§9.10), which adds the Proxmox server an agent set up. */
#include "config.h"

#include "agent_config.h"
#include "agent_config_register.h"
#include "agent_host.h"
#include "audit.h"
#include "auth.h"
#include "handlers.h"
#include "jsonread.h"
#include "jsonwrite.h"
#include "log.h"
#include "mockmode.h"
#include "setup.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/* The {id} of the path, trimmed, or NULL after answering 400. */
static const char *
path_host_id(struct request *r)
{
	char *id = arena_alloc(r->arena, AGENT_HOST_ID_MAX);

	jsonread_copy_trimmed(id, AGENT_HOST_ID_MAX, req_path_param(r, "id"));
	if (!id[0]) {
		resp_error(r, 400, "missing_host_id", "Host ID is required");
		return NULL;
	}
	return id;
}

/* A token that may read only its own hosts' configuration (§6.5): one without
 * host-agent:manage, settings:write or "*". */
static int
owner_only(const struct request *r)
{
	return r->auth.method == AUTH_METHOD_TOKEN &&
	    !(r->auth.scopes & (SCOPE_HOST_AGENT_MANAGE | SCOPE_SETTINGS_WRITE | SCOPE_WILDCARD));
}

void
api_agents_host_config_get(struct request *r)
{
	const char *id = path_host_id(r);
	struct agent_config_view v;

	if (id == NULL)
		return;
	if (agent_config_read(r->db, id, &v) != 0) {
		resp_db_unavailable(r);
		return;
	}
	if (owner_only(r) && !v.host_exists)
		resp_error(r, 404, "host_not_found", "Host has not registered with Pulse yet");
	else if (owner_only(r) && strcmp(v.host_token, r->auth.token_id) != 0)
		resp_error(r, 403, "host_lookup_forbidden",
		    "Host does not belong to the token used for this request");
	else
		api_agents_answer_with(r, "hostId", id, "config", agent_config_json(&v));
	agent_config_view_clear(&v);
}

void
api_agents_host_config_patch(struct request *r)
{
	const char *id = path_host_id(r);
	struct json_object *body, *config;
	char err[256];
	int value = -1, rc;

	if (id == NULL || (body = req_body_object(r, 0)) == NULL ||
	    (rc = req_body_bool(r, body, "commandsEnabled", 0, &value)) < 0)
		return;
	if (rc == 0)
		value = -1;	/* null (or absent) clears the override */
	if (agent_config_set_commands(r->db, id, value, err, sizeof(err)) != 0) {
		log_error("msg=\"host config not stored\" host=\"%s\" error=\"%s\"", id, err);
		resp_db_unavailable_msg(r, "Failed to update the host configuration");
		return;
	}
	audit_record(r->db, "agent_config_updated", r->auth.username, r->client_ip, r->raw_path, 1,
	    arena_printf(r->arena, "Host %.100s: commandsEnabled %s", id,
	    value < 0 ? "cleared" : value ? "true" : "false"));
	config = json_object_new_object();
	json_object_object_add(config, "commandsEnabled",
	    value < 0 ? NULL : json_object_new_boolean(value));
	api_agents_answer_with(r, "hostId", id, "config", config);
}

/* --- POST /api/auto-register ------------------------------------------------------------ */

/* A member of the body, trimmed (absent or null: ""); -1 after answering 400. */
static int
body_text(struct request *r, struct json_object *body, const char *key, size_t max,
    const char **out)
{
	const char *v = NULL;
	char *t;

	if (req_body_string(r, body, key, 0, max, &v) < 0)
		return -1;
	t = arena_strdup(r->arena, v ? v : "");
	*out = jsonread_copy_trimmed(t, strlen(t) + 1, t);
	return 0;
}

/* The route table's rule of POST /api/config/nodes (admin, settings:write), for a
 * registration without a setup code; -1 after answering 401 or 403. */
static int
require_node_writer(struct request *r)
{
	if (r->auth.method == AUTH_METHOD_NONE) {
		resp_error(r, 401, "unauthorized", "Authentication required");
		return -1;
	}
	if (!r->auth.admin) {
		resp_error(r, 403, "forbidden", "Admin privileges required");
		return -1;
	}
	if (!principal_has_scope(&r->auth, "settings:write")) {
		resp_missing_scope(r, "settings:write");
		return -1;
	}
	return 0;
}

void
api_auto_register(struct request *r)
{
	struct agent_register reg;
	struct agent_register_result done;
	struct json_object *body, *out;
	const char *code;
	char host[300], fingerprint[65], err[256];
	int mock, used;

	if ((body = req_body_object(r, 0)) == NULL ||
	    body_text(r, body, "type", 16, &reg.type) != 0 ||
	    body_text(r, body, "host", 255, &reg.host) != 0 ||
	    body_text(r, body, "serverName", 127, &reg.server_name) != 0 ||
	    body_text(r, body, "tokenId", 255, &reg.token_id) != 0 ||
	    body_text(r, body, "tokenValue", 512, &reg.token_value) != 0 ||
	    body_text(r, body, "source", 16, &reg.source) != 0)
		return;
	if (body_text(r, body, "setupCode", 64, &code) != 0 ||
	    (*code == '\0' && body_text(r, body, "authToken", 64, &code) != 0))
		return;
	/* The body first, as the original: a bad one uses no code up. */
	if (agent_register_check(&reg, host, sizeof(host), err, sizeof(err)) != 0) {
		resp_error(r, 400, "invalid_request", "%s", err);
		return;
	}
	/* Without a code: the privilege of POST /api/config/nodes, as the route table would
	 * declare it (the route is public for the code's sake). */
	if (*code == '\0' && require_node_writer(r) != 0)
		return;
	if ((mock = mockmode_blocks_changes(r->db)) != 0) {
		if (mock < 0)
			resp_db_unavailable(r);
		else
			resp_error(r, 403, "mock_mode",
			    "Node configuration is disabled while mock mode is on");
		return;
	}
	/* The code is used only for a well-formed registration, and only once. */
	if (*code != '\0' && (used = setup_code_use(r->db, code, reg.type)) != 1) {
		if (used < 0)
			resp_db_unavailable(r);
		else
			resp_error(r, 401, "invalid_setup_code", "Invalid or expired setup code");
		return;
	}
	agent_register_fingerprint(host, 5000, fingerprint);
	if (agent_register_store(r->db, &reg, host, fingerprint, &done, err, sizeof(err)) != 0) {
		log_error("msg=\"auto-register not stored\" host=\"%s\" error=\"%s\"", host, err);
		resp_db_unavailable_msg(r, "Failed to save configuration");
		return;
	}
	if (done.added)
		(void)mockmode_demo_off(r->db);	/* as for a node added by hand */
	audit_record(r->db, done.added ? "node_added" : "node_updated",
	    *code ? "setup-code" : r->auth.username,
	    r->client_ip, r->raw_path, 1, done.merged ? arena_printf(r->arena,
	    "Node %s by auto-register merged into cluster %s: %s", reg.host, done.cluster,
	    done.id) : arena_printf(r->arena, "Node %s by auto-register: %s (%s)",
	    done.added ? "added" : "updated", done.id, reg.type));
	out = resp_object(r);
	jsonwrite_str(out, "status", "success");
	jsonwrite_str(out, "message", arena_printf(r->arena, "Node %s auto-registered successfully",
	    reg.host));
	jsonwrite_str(out, "nodeId", reg.host);
	/* Ours: which configured cluster took the node in (docs/API.md). */
	if (done.merged) {
		jsonwrite_bool(out, "merged", 1);
		jsonwrite_str(out, "cluster", done.cluster);
		jsonwrite_str(out, "existingNode", done.name);
		jsonwrite_str(out, "existingNodeId", done.id);
	}
	resp_json(r, 200, out);
}
