/* api_agents.c: the host agents' endpoints (agents.md §3, §6.1-§6.4): the report, lookup,
 * uninstall, unlink and removal. The report is stored here; the worker evaluates it. Also
 * what the host, Docker and Kubernetes agents' endpoints share (api_agents_*). */
#include "config.h"

#include "agent_host.h"
#include "arena.h"
#include "auth.h"
#include "handlers.h"
#include "jsonread.h"
#include "jsonwrite.h"
#include "log.h"
#include "timefmt.h"
#include "util.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct json_object *
api_agents_answer_head(struct request *r, const char *id_key, const char *id)
{
	struct json_object *out = resp_object(r);

	jsonwrite_bool(out, "success", 1);
	jsonwrite_str(out, id_key, id);
	return out;
}

void
api_agents_answer_with(struct request *r, const char *id_key, const char *id,
    const char *member, struct json_object *value)
{
	struct json_object *out = api_agents_answer_head(r, id_key, id);

	if (value != NULL)
		json_object_object_add(out, member, value);
	resp_json(r, 200, out);
}

void
api_agents_answer(struct request *r, const char *id_key, const char *id, const char *message)
{
	api_agents_answer_with(r, id_key, id, "message",
	    message ? json_object_new_string(message) : NULL);
}

const char *
api_agents_request_token(struct request *r)
{
	return r->auth.method == AUTH_METHOD_TOKEN && r->auth.token_id[0] ? r->auth.token_id : NULL;
}

void
api_agents_decode_error(struct request *r, const char *message)
{
	struct json_object *extra = json_object_new_object(), *details = json_object_new_object();

	jsonwrite_str(details, "error", message);
	json_object_object_add(extra, "details", details);
	resp_error_with(r, 400, "invalid_json", "Failed to decode request body", extra);
	json_object_put(extra);
}

struct json_object *
api_agents_report_body(struct request *r, int (*check)(struct json_object *, char *, size_t))
{
	struct json_object *report = req_body_json(r);
	char err[512];

	if (report != NULL && check(report, err, sizeof(err)) != 0) {
		api_agents_decode_error(r, err);
		return NULL;
	}
	return report;
}

struct json_object *
api_agents_report_answer(struct request *r, const char *id_key, const char *id,
    double last_seen)
{
	struct json_object *out = api_agents_answer_head(r, id_key, id);
	char when[48];

	jsonwrite_str(out, "lastSeen", timefmt_rfc3339_nano(last_seen, when, sizeof(when)));
	return out;
}

void
api_agents_host_report(struct request *r)
{
	struct json_object *report = api_agents_report_body(r, agent_host_check_types), *out, *config;
	struct agent_host_token tok = {api_agents_request_token(r)};
	struct agent_host_stored stored;
	char err[256];

	if (report == NULL)
		return;
	switch (agent_host_store(r->db, report, &tok, clock_wall(), &stored, err, sizeof(err))) {
	case AGENT_HOST_OK:
		break;
	case AGENT_HOST_NO_HOSTNAME:
		resp_error(r, 400, "invalid_report", "host report missing hostname");
		return;
	case AGENT_HOST_ERROR:
		log_error("msg=\"host report not stored\" error=\"%s\"", err);
		resp_db_unavailable_msg(r, "Failed to store the host report");
		return;
	}
	out = api_agents_report_answer(r, "hostId", stored.id, stored.last_seen);
	jsonwrite_str(out, "platform", stored.platform);
	jsonwrite_str(out, "osName", stored.os_name);
	jsonwrite_str(out, "osVersion", stored.os_version);
	if (stored.commands_enabled >= 0) {
		config = json_object_new_object();
		jsonwrite_bool(config, "commandsEnabled", stored.commands_enabled);
		json_object_object_add(out, "config", config);
	}
	resp_json(r, 200, out);
}

/* §6.1: by id, then hostname or display name (any case), then short name. */
static const struct db_stmt stmt_lookup = {
	"agent_host_lookup",
	"SELECT id, hostname, display_name, status, extract(epoch FROM last_seen), agent_version, "
	"coalesce(token_id, '') FROM pulse.agent_hosts WHERE NOT mock AND (id = $1 OR ($2 <> '' "
	"AND (lower(hostname) = lower($2) OR lower(display_name) = lower($2) OR "
	"split_part(lower(hostname), '.', 1) = split_part(lower($2), '.', 1)))) "
	"ORDER BY CASE WHEN id = $1 THEN 0 WHEN lower(hostname) = lower($2) OR "
	"lower(display_name) = lower($2) THEN 1 ELSE 2 END, hostname, id LIMIT 1",
	2,
};

void
api_agents_host_lookup(struct request *r)
{
	const char *id = req_query(r, "id"), *hostname = req_query(r, "hostname");
	char qid[AGENT_HOST_ID_MAX], qname[256], when[48];
	const char *params[2] = {qid, qname};
	const char *token = api_agents_request_token(r), *status;
	struct json_object *out, *host;
	PGresult *res;

	jsonread_copy_trimmed(qid, sizeof(qid), id);
	jsonread_copy_trimmed(qname, sizeof(qname), hostname);
	if (!qid[0] && !qname[0]) {
		resp_error(r, 400, "missing_lookup_param", "Provide id or hostname");
		return;
	}
	if ((res = req_result(r, db_exec_stmt(r->db, &stmt_lookup, params))) == NULL) {
		resp_db_unavailable(r);
		return;
	}
	if (PQntuples(res) != 1) {
		resp_error(r, 404, "host_not_found", "Host has not registered with Pulse yet");
		return;
	}
	if (token && PQgetvalue(res, 0, 6)[0] && strcmp(token, PQgetvalue(res, 0, 6)) != 0) {
		resp_error(r, 403, "host_lookup_forbidden",
		    "Host does not belong to the token used for this request");
		return;
	}
	status = PQgetvalue(res, 0, 3);
	out = resp_object(r);
	jsonwrite_bool(out, "success", 1);
	host = json_object_new_object();
	jsonwrite_str(host, "id", PQgetvalue(res, 0, 0));
	jsonwrite_str(host, "hostname", PQgetvalue(res, 0, 1));
	jsonwrite_str(host, "displayName", PQgetvalue(res, 0, 2));
	jsonwrite_str(host, "status", status);
	jsonwrite_bool(host, "connected", strcasecmp(status, "online") == 0 ||
	    strcasecmp(status, "running") == 0 || strcasecmp(status, "healthy") == 0);
	jsonwrite_str(host, "lastSeen", timefmt_rfc3339(strtod(PQgetvalue(res, 0, 4), NULL), when,
	    sizeof(when)));
	jsonwrite_str(host, "agentVersion", PQgetvalue(res, 0, 5));
	json_object_object_add(out, "host", host);
	resp_json(r, 200, out);
}

/* The "hostId" of the body, trimmed, or NULL after answering 400. */
static const char *
body_host_id(struct request *r)
{
	struct json_object *body = req_body_object(r, 0);
	const char *id = NULL;
	char *trimmed;

	if (body == NULL || req_body_string(r, body, "hostId", 0, AGENT_HOST_ID_MAX - 1, &id) < 0)
		return NULL;
	trimmed = arena_strdup(r->arena, id ? id : "");
	jsonread_copy_trimmed(trimmed, strlen(trimmed) + 1, trimmed);
	if (!trimmed[0]) {
		resp_error(r, 400, "missing_host_id", "hostId is required");
		return NULL;
	}
	return trimmed;
}

/* Removes a host and answers message (§6.2, §6.4: 200 whether or not it was known). */
static void
remove_and_answer(struct request *r, const char *id, const char *message)
{
	char err[256];
	int revoked;

	if (agent_host_remove(r->db, id, &revoked, err, sizeof(err)) != 0) {
		log_error("msg=\"host removal failed\" host=\"%s\" error=\"%s\"", id, err);
		resp_db_unavailable_msg(r, "Failed to remove the host");
		return;
	}
	if (revoked)
		log_info("msg=\"host agent removed, its token revoked\" host=\"%s\"", id);
	api_agents_answer(r, "hostId", id, message);
}

void
api_agents_host_uninstall(struct request *r)
{
	const char *id = body_host_id(r);

	if (id)
		remove_and_answer(r, id, "Host unregistered successfully");
}

void
api_agents_host_delete(struct request *r)
{
	char id[AGENT_HOST_ID_MAX];

	jsonread_copy_trimmed(id, sizeof(id), req_path_param(r, "id"));
	if (!id[0]) {
		resp_error(r, 400, "missing_host_id", "Host ID is required");
		return;
	}
	remove_and_answer(r, id, "Host removed");
}

void
api_agents_host_unlink(struct request *r)
{
	const char *id = body_host_id(r);

	if (id == NULL)
		return;
	switch (agent_host_unlink(r->db, id)) {
	case 1:
		break;
	case 0:
		resp_error(r, 404, "unlink_failed", "host not found or not linked to a node");
		return;
	default:
		resp_db_unavailable(r);
		return;
	}
	api_agents_answer(r, "hostId", id, "Host agent unlinked from PVE node");
}
