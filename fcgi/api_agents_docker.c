/* api_agents_docker.c: the Docker agents' endpoints (agents.md §4): the report, the command
 * ack, and the management routes (§4.7). src/agent_docker*.c store; the worker evaluates. */
#include "config.h"

#include "live_settings.h"
#include "agent_docker.h"
#include "arena.h"
#include "conf.h"
#include "handlers.h"
#include "jsonread.h"
#include "jsonwrite.h"
#include "log.h"
#include "timefmt.h"
#include "util.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

void
api_agents_docker_report(struct request *r)
{
	struct json_object *report = api_agents_report_body(r, agent_docker_check_types), *out;
	struct agent_docker_token tok = {api_agents_request_token(r)};
	struct agent_docker_stored stored;
	struct json_object *commands;
	enum agent_docker_result rc;
	char msg[1024];

	if (report == NULL)
		return;
	rc = agent_docker_store(r->db, report, &tok, clock_wall(), &stored, msg, sizeof(msg));
	if (rc == AGENT_DOCKER_REFUSED) {
		resp_error(r, 400, "invalid_report", "%s", msg);
		return;
	}
	if (rc != AGENT_DOCKER_OK) {
		log_error("msg=\"docker report not stored\" error=\"%s\"", msg);
		resp_db_unavailable_msg(r, "Failed to store the Docker report");
		return;
	}
	out = api_agents_report_answer(r, "hostId", stored.id, stored.last_seen);
	jsonwrite_int(out, "containers", stored.containers);
	if (stored.command) {
		commands = json_object_new_array();
		json_object_array_add(commands, stored.command);
		json_object_object_add(out, "commands", commands);
	}
	resp_json(r, 200, out);
}

/* s (NULL: "") trimmed, in the request's arena. */
static const char *
trimmed_copy(struct request *r, const char *s)
{
	char *copy = arena_strdup(r->arena, s ? s : "");

	return jsonread_copy_trimmed(copy, strlen(copy) + 1, copy);
}

/* The string member key of the body, trimmed (arena), "" when absent; NULL after a 400. */
static const char *
body_text(struct request *r, struct json_object *body, const char *key, size_t max)
{
	const char *v = NULL;

	if (req_body_string(r, body, key, 0, max, &v) < 0)
		return NULL;
	return trimmed_copy(r, v);
}

void
api_agents_docker_ack(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *status;
	const char *id = req_path_param(r, "commandId"), *host_id, *alias, *message, *canonical;
	char host[AGENT_DOCKER_ID_MAX];

	if (body == NULL)
		return;
	if ((host_id = body_text(r, body, "hostId", AGENT_DOCKER_ID_MAX - 1)) == NULL ||
	    (alias = body_text(r, body, "status", 64)) == NULL ||
	    (message = body_text(r, body, "message", 4096)) == NULL)
		return;
	if (id == NULL || !id[0]) {
		resp_error(r, 400, "missing_command_id", "Command ID is required");
		return;
	}
	if ((canonical = agent_docker_ack_status(alias)) == NULL) {
		resp_error(r, 400, "invalid_status", "Invalid command status");
		return;
	}
	switch (agent_docker_command_ack(r->db, id, host_id, canonical, message, host, &status)) {
	case AGENT_DOCKER_CMD_OK:
		break;
	case AGENT_DOCKER_CMD_UNKNOWN:
		resp_error(r, 400, "docker_command_ack_failed", "docker command %s not found", id);
		return;
	case AGENT_DOCKER_CMD_OTHER_HOST:
		resp_error(r, 400, "docker_command_ack_failed",
		    "docker command %s does not belong to host %s", id, host_id);
		return;
	case AGENT_DOCKER_CMD_INACTIVE:
		resp_error(r, 400, "docker_command_ack_failed", "docker command %s is not active",
		    id);
		return;
	default:
		resp_db_unavailable(r);
		return;
	}
	api_agents_answer_with(r, "hostId", host, "command",
	    status ? status : json_object_new_object());
}

/* The {id} of a management path, trimmed (arena); NULL after a 400. */
static const char *
path_host_id(struct request *r)
{
	const char *id = trimmed_copy(r, req_path_param(r, "id"));

	if (!id[0]) {
		resp_error(r, 400, "missing_host_id", "Docker host ID is required");
		return NULL;
	}
	return id;
}

static void
host_not_found(struct request *r, const char *id)
{
	resp_error(r, 404, "docker_host_not_found", "docker host %s not found", id);
}

/* The answer of a change of host id: rc 1 done (message), 0 unknown host (404 unless
 * any_host), else the database failed. */
static void
answer_change(struct request *r, const char *id, int rc, const char *message, int any_host)
{
	if (rc == 0 && !any_host)
		host_not_found(r, id);
	else if (rc < 0)
		resp_db_unavailable(r);
	else
		api_agents_answer(r, "hostId", id, message);
}

/* Queues a command, answering the failures; 0 with *status set, or -1 after answering. */
static int
queue(struct request *r, const char *id, enum agent_docker_cmd_type type,
    const char *container_id, const char *container_name, struct json_object **status)
{
	switch (agent_docker_command_queue(r->db, id, type, container_id, container_name, status)) {
	case AGENT_DOCKER_CMD_OK:
		return 0;
	case AGENT_DOCKER_CMD_NO_HOST:
		host_not_found(r, id);
		return -1;
	case AGENT_DOCKER_CMD_BUSY:
		resp_error(r, 409, "docker_command_in_progress",
		    "docker host \"%s\" already has a command in progress", id);
		return -1;
	default:
		resp_db_unavailable(r);
		return -1;
	}
}

static int
truthy(const char *v)
{
	return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

void
api_agents_docker_host_delete(struct request *r)
{
	const char *id = path_host_id(r), *mode = req_query(r, "mode");
	struct json_object *out, *status;
	int force = truthy(req_query(r, "force")) || (mode && strcmp(mode, "force") == 0);
	int online, found;

	if (id == NULL)
		return;
	if (truthy(req_query(r, "hide"))) {
		answer_change(r, id, agent_docker_change(r->db, id, AGENT_DOCKER_HIDE),
		    "Docker host hidden", 0);
		return;
	}
	if ((online = agent_docker_host_online(r->db, id)) == -1) {
		resp_db_unavailable(r);
		return;
	}
	if (online == -2 && !force) {
		host_not_found(r, id);
		return;
	}
	if (online == 1 && !force) {
		if (queue(r, id, AGENT_DOCKER_STOP, NULL, NULL, &status) != 0)
			return;
		out = api_agents_answer_head(r, "hostId", id);
		json_object_object_add(out, "command", status ? status : json_object_new_object());
		jsonwrite_str(out, "message", "Stop command queued");
		resp_json(r, 200, out);
		return;
	}
	if (agent_docker_remove(r->db, id, &found) != 0) {
		resp_db_unavailable(r);
		return;
	}
	if (found)
		log_info("msg=\"docker host removed, its token revoked\" host=\"%s\"", id);
	api_agents_answer(r, "hostId", id,
	    found ? "Docker host removed" : "Docker host already removed");
}

/* A flag change answered with message (404 for an unknown host unless any_host). */
static void
change(struct request *r, enum agent_docker_change what, const char *message, int any_host)
{
	const char *id = path_host_id(r);

	if (id)
		answer_change(r, id, agent_docker_change(r->db, id, what), message, any_host);
}

void
api_agents_docker_allow_reenroll(struct request *r)
{
	change(r, AGENT_DOCKER_ALLOW_REENROLL, NULL, 1);
}

void
api_agents_docker_unhide(struct request *r)
{
	change(r, AGENT_DOCKER_UNHIDE, "Docker host unhidden", 0);
}

void
api_agents_docker_pending_uninstall(struct request *r)
{
	change(r, AGENT_DOCKER_PENDING_UNINSTALL, "Docker host marked as pending uninstall", 0);
}

void
api_agents_docker_display_name(struct request *r)
{
	struct json_object *body = req_body_object(r, 0);
	const char *id = path_host_id(r), *name;

	if (id == NULL || body == NULL || (name = body_text(r, body, "displayName", 256)) == NULL)
		return;
	answer_change(r, id, agent_docker_set_display_name(r->db, id, name),
	    name[0] ? "Docker host display name updated" : "Docker host display name cleared", 0);
}

/* The answer of a queued container command (§4.7). */
static void
command_answer(struct request *r, const char *id, struct json_object *status,
    struct json_object *container, const char *message, const char *note)
{
	struct json_object *out = api_agents_answer_head(r, "hostId", id);

	jsonwrite_str(out, "commandId", jsonread_string(status, "id", ""));
	if (container)
		json_object_object_add(out, "container", container);
	jsonwrite_str(out, "message", message);
	jsonwrite_str(out, "note", note);
	json_object_put(status);
	resp_json(r, 200, out);
}

void
api_agents_docker_check_updates(struct request *r)
{
	const char *id = path_host_id(r);
	struct json_object *status;

	if (id == NULL || queue(r, id, AGENT_DOCKER_CHECK_UPDATES, NULL, NULL, &status) != 0)
		return;
	command_answer(r, id, status, NULL, "Container update check queued",
	    "The agent checks its containers' images on its next report");
}

void
api_agents_docker_container_update(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *status, *container;
	struct sysconfig settings;
	const char *host_id, *container_id, *name;

	if (body == NULL ||
	    (host_id = body_text(r, body, "hostId", AGENT_DOCKER_ID_MAX - 1)) == NULL ||
	    (container_id = body_text(r, body, "containerId", 255)) == NULL ||
	    (name = body_text(r, body, "containerName", 255)) == NULL)
		return;
	if (!host_id[0]) {
		resp_error(r, 400, "missing_host_id", "hostId is required");
		return;
	}
	if (!container_id[0]) {
		resp_error(r, 400, "missing_container_id", "containerId is required");
		return;
	}
	live_settings_get(&settings);
	if (settings.disable_docker_updates) {
		resp_error(r, 403, "docker_updates_disabled",
		    "Docker container updates are disabled on this server");
		return;
	}
	if (queue(r, host_id, AGENT_DOCKER_UPDATE_CONTAINER, container_id, name, &status) != 0)
		return;
	container = json_object_new_object();
	jsonwrite_str(container, "id", container_id);
	jsonwrite_str(container, "name", name);
	command_answer(r, host_id, status, container, "Container update queued",
	    "The agent pulls the image and recreates the container on its next report");
}
