/* api_profiles.c: agent profiles and their assignments, /api/admin/profiles (agents.md §7):
 * list, create, replace and delete profiles; list, set and remove assignments. A Pro feature:
 * the route table gates them on the licence feature agent_profiles. */
#include "config.h"

#include "agent_profile.h"
#include "audit.h"
#include "handlers.h"
#include "jsonread.h"

#include <json-c/json.h>
#include <string.h>

/* The {id} (or {agent_id}) of the path, trimmed, or NULL after answering 404. */
static const char *
path_id(struct request *r, const char *name, const char *what)
{
	char *id = arena_alloc(r->arena, AGENT_PROFILE_ID_MAX);

	jsonread_copy_trimmed(id, AGENT_PROFILE_ID_MAX, req_path_param(r, name));
	if (!id[0]) {
		resp_error(r, 404, "not_found", "%s not found", what);
		return NULL;
	}
	return id;
}

/* Answers a library result: the JSON (the request's now), or 503 when it is NULL. */
static void
answer(struct request *r, struct json_object *result)
{
	if (req_json(r, result) == NULL)
		resp_db_unavailable(r);
	else
		resp_json(r, 200, result);
}

/* A library result about one profile: 1 found (nothing answered yet); 0 after answering 404,
 * or 503 for a database error. */
static int
found(struct request *r, int rc)
{
	if (rc == 0)
		resp_error(r, 404, "profile_not_found", "Profile not found");
	else if (rc < 0)
		resp_db_unavailable(r);
	return rc == 1;
}

/* Records a change of agent configuration in the audit log. */
static void
record(struct request *r, const char *event, const char *what)
{
	audit_record(r->db, event, r->auth.username, r->client_ip, r->raw_path, 1,
	    arena_printf(r->arena, "%.200s", what));
}

void
api_profiles_list(struct request *r)
{
	answer(r, agent_profile_list(r->db));
}

/* A profile's body: {"name": text, "config": object}, the name required. 0, or -1 after
 * answering 400. */
static int
profile_body(struct request *r, const char **name, struct json_object **config)
{
	struct json_object *body = req_body_object(r, 0);

	*name = NULL;
	if (body == NULL || req_body_string(r, body, "name", 0, AGENT_PROFILE_NAME_MAX, name) < 0)
		return -1;
	*config = jsonread_member(body, "config");
	if (*config && !jsonread_is_object(*config)) {
		resp_error(r, 400, "invalid_field", "config must be an object");
		return -1;
	}
	/* The original checks the name only when creating; an empty name would make a profile
	 * nobody can tell apart, so a replacement needs one too (docs/COMPATIBILITY.md). */
	if (*name == NULL || !**name) {
		resp_error(r, 400, "missing_name", "Name is required");
		return -1;
	}
	return 0;
}

void
api_profiles_create(struct request *r)
{
	const char *name;
	struct json_object *config;

	struct json_object *profile;

	if (profile_body(r, &name, &config) != 0)
		return;
	profile = agent_profile_create(r->db, name, config);
	if (profile != NULL)
		record(r, "agent_profile_created", name);
	answer(r, profile);
}

void
api_profiles_update(struct request *r)
{
	const char *id = path_id(r, "id", "Profile"), *name;
	struct json_object *config, *out = NULL;

	if (id == NULL || profile_body(r, &name, &config) != 0)
		return;
	if (found(r, agent_profile_update(r->db, id, name, config, &out))) {
		if (out != NULL)
			record(r, "agent_profile_updated", id);
		answer(r, out);
	}
}

void
api_profiles_delete(struct request *r)
{
	const char *id = path_id(r, "id", "Profile");

	if (id && found(r, agent_profile_delete(r->db, id))) {
		record(r, "agent_profile_deleted", id);
		resp_raw(r, 200, "application/json", "", 0);	/* empty, as the original */
	}
}

void
api_profiles_assignments(struct request *r)
{
	answer(r, agent_profile_assignments(r->db));
}

void
api_profiles_assign(struct request *r)
{
	struct json_object *body = req_body_object(r, 0);
	const char *agent = NULL, *profile = NULL;

	if (body == NULL ||
	    req_body_string(r, body, "agent_id", 0, AGENT_PROFILE_ID_MAX - 1, &agent) < 0 ||
	    req_body_string(r, body, "profile_id", 0, AGENT_PROFILE_ID_MAX - 1, &profile) < 0)
		return;
	if (agent == NULL || profile == NULL || !*agent || !*profile) {
		resp_error(r, 400, "missing_fields", "AgentID and ProfileID are required");
		return;
	}
	{
		struct json_object *done = agent_profile_assign(r->db, agent, profile);
		if (done != NULL)
			record(r, "agent_profile_assigned", arena_printf(r->arena, "%s -> %s", agent,
			    profile));
		answer(r, done);
	}
}

void
api_profiles_unassign(struct request *r)
{
	const char *agent = path_id(r, "agent_id", "Assignment");

	if (agent == NULL)
		return;
	if (agent_profile_unassign(r->db, agent) != 0) {
		resp_db_unavailable(r);
		return;
	}
	record(r, "agent_profile_unassigned", agent);
	resp_no_content(r);
}
