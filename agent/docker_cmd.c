/* docker_cmd.c: the commands a docker report's answer carries (agents.md §4.4, §4.6, §9.8):
 * stop, check_updates and update_container (recreate on a freshly pulled image, with a
 * backup and a rollback), each acknowledged at /api/agents/docker/commands/{id}/ack. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "agent.h"
#include "http_client.h"
#include "jsonread.h"
#include "jsonwrite.h"
#include "log.h"
#include "util.h"

/* How long a new container must stay up before the update counts (§9.8). */
#define UPDATE_VERIFY_SECONDS 5

struct command {
	const struct agent_config *cfg;
	struct docker_engine *engine;
	const char *agent_id;
	const char *id;
};

/* POSTs {"hostId","status","message"} to the command's ack path; failures are logged. */
static void
ack(const struct command *c, const char *status, const char *message)
{
	struct json_object *o = json_object_new_object();
	char *escaped = agent_http_escape(c->id);
	char *path = xasprintf("/api/agents/docker/commands/%s/ack", escaped);
	struct agent_channel ch = { "command ack", path, "pulse-docker-agent/" PACKAGE_VERSION,
	    "docker:report" };

	jsonwrite_str(o, "hostId", c->agent_id);
	jsonwrite_str(o, "status", status);
	jsonwrite_opt_str(o, "message", message);
	if (agent_post(c->cfg, &ch, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	    NULL) == AGENT_SENT)
		log_info("docker: command acknowledged id=%s status=%s", c->id, status);
	json_object_put(o);
	free(path);
	free(escaped);
}

/* An engine call that must succeed (2xx); logs and fills err otherwise. */
static int
engine_ok(const struct command *c, const char *method, const char *path, const char *body,
    struct json_object **answer, char *err, size_t errlen)
{
	struct json_object *o = NULL;
	long status = docker_engine_call(c->engine, method, path, body, &o);

	if (status >= 200 && status < 300) {
		if (answer)
			*answer = o;
		else
			json_object_put(o);
		return 0;
	}
	snprintf(err, errlen, "%s %s: %s (status %ld)", method, path,
	    jsonread_string(o, "message", status ? "engine error" : "no answer"), status);
	log_warn("docker: update step failed error=\"%s\"", err);
	json_object_put(o);
	if (answer)
		*answer = NULL;
	return -1;
}

/* The create body of a container like inspect's: its Config, HostConfig and first network. */
static char *
create_body(struct json_object *inspect, const char **first_net)
{
	struct json_object *body = json_object_new_object(), *cfg, *host, *nets;
	char *out;

	cfg = jsonread_member(inspect, "Config");
	json_object_object_foreach(cfg, k, v)
		json_object_object_add(body, k, json_object_get(v));
	host = jsonread_member(inspect, "HostConfig");
	if (host)
		json_object_object_add(body, "HostConfig", json_object_get(host));
	nets = jsonread_member(jsonread_member(inspect, "NetworkSettings"), "Networks");
	*first_net = NULL;
	if (jsonread_is_object(nets)) {
		json_object_object_foreach(nets, name, ep) {
			struct json_object *nc = json_object_new_object();
			struct json_object *eps = json_object_new_object();
			struct json_object *e = json_object_new_object();

			if (jsonread_member(ep, "Aliases"))
				json_object_object_add(e, "Aliases",
				    json_object_get(jsonread_member(ep, "Aliases")));
			json_object_object_add(eps, name, e);
			json_object_object_add(nc, "EndpointsConfig", eps);
			json_object_object_add(body, "NetworkingConfig", nc);
			*first_net = name;
			break;
		}
	}
	out = xstrdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
	json_object_put(body);
	return out;
}

/* Connects the new container to the old one's other networks. */
static int
connect_networks(const struct command *c, struct json_object *inspect, const char *first,
    const char *new_id, char *err, size_t errlen)
{
	struct json_object *nets = jsonread_member(jsonread_member(inspect, "NetworkSettings"),
	    "Networks");

	if (!jsonread_is_object(nets))
		return 0;
	json_object_object_foreach(nets, name, ep) {
		char *escaped, *path, *body;
		int rc;

		(void)ep;
		if (first && strcmp(name, first) == 0)
			continue;
		escaped = agent_http_escape(name);
		path = xasprintf("/networks/%s/connect", escaped);
		body = xasprintf("{\"Container\":\"%s\"}", new_id);
		rc = engine_ok(c, "POST", path, body, NULL, err, errlen);
		free(escaped);
		free(path);
		free(body);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Whether the new container still runs and is not unhealthy. */
static int
stable(const struct command *c, const char *new_id)
{
	char *path = xasprintf("/containers/%s/json", new_id);
	long status;
	struct json_object *o = docker_engine_get(c->engine, path, &status);
	struct json_object *st = jsonread_member(o, "State");
	int ok = jsonread_bool(st, "Running", 0) &&
	    strcmp(jsonread_string(jsonread_member(st, "Health"), "Status", ""), "unhealthy") != 0;

	free(path);
	json_object_put(o);
	return ok;
}

/* Puts the old container back after a failed step: the new one goes, the backup gets its
 * name back and starts again. */
static void
roll_back(const struct command *c, const char *old_id, const char *name, const char *new_id)
{
	char err[256], *path, *escaped = agent_http_escape(name);

	log_warn("docker: rolling back the update container=%s", name);
	if (new_id && *new_id) {
		path = xasprintf("/containers/%s?force=1", new_id);
		engine_ok(c, "DELETE", path, NULL, NULL, err, sizeof(err));
		free(path);
	}
	path = xasprintf("/containers/%s/rename?name=%s", old_id, escaped);
	engine_ok(c, "POST", path, NULL, NULL, err, sizeof(err));
	free(path);
	path = xasprintf("/containers/%s/start", old_id);
	engine_ok(c, "POST", path, NULL, NULL, err, sizeof(err));
	free(path);
	free(escaped);
}

/* An in_progress ack: "<step> <name>..." or "<step>..." without a name. */
static void
progress(const struct command *c, const char *step, const char *name)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s%s%s...", step, name ? " " : "", name ? name : "");
	ack(c, "in_progress", msg);
}

/*
 * update_container: pull the image again, stop the container, keep it as
 * <name>_pulse_backup_<YYYYMMDD_HHMMSS>, create and start a new one from its configuration,
 * and keep it when it still runs (not unhealthy) after UPDATE_VERIFY_SECONDS; otherwise put
 * the old one back. On success the backup's id goes into backup for removal later.
 */
static void
update_container(const struct command *c, struct json_object *payload, char *backup,
    size_t backup_len)
{
	const char *id = jsonread_string(payload, "containerId", "");
	struct json_object *inspect = NULL, *created = NULL;
	char err[512] = "", name[256], stamp[32], *path = NULL, *escaped = NULL, *body = NULL;
	char new_id[128] = "";
	const char *image, *first_net;
	time_t now = time(NULL);
	struct tm tm;
	int renamed = 0;

	ack(c, "acknowledged", "Starting container update");
	path = xasprintf("/containers/%s/json", id);
	if (!docker_engine_ref_ok(id)) {
		snprintf(err, sizeof(err), "invalid container id");
		goto fail;
	}
	if (engine_ok(c, "GET", path, NULL, &inspect, err, sizeof(err)) != 0)
		goto fail;
	id = jsonread_string(inspect, "Id", id);
	jsonread_copy(name, sizeof(name), jsonread_string(inspect, "Name", ""));
	if (*name == '/')
		memmove(name, name + 1, strlen(name));
	image = jsonread_string(jsonread_member(inspect, "Config"), "Image", "");
	free(path);

	progress(c, "Pulling image", image);
	escaped = agent_http_escape(image);
	path = xasprintf("/images/create?fromImage=%s", escaped);
	free(escaped);
	escaped = NULL;
	if (engine_ok(c, "POST", path, NULL, NULL, err, sizeof(err)) != 0)
		goto fail;
	free(path);

	progress(c, "Stopping container", name);
	path = xasprintf("/containers/%s/stop", id);
	if (engine_ok(c, "POST", path, NULL, NULL, err, sizeof(err)) != 0)
		goto fail;
	free(path);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M%S", &tm);
	escaped = xasprintf("%s_pulse_backup_%s", name, stamp);
	path = xasprintf("/containers/%s/rename?name=%s", id, escaped);
	if (engine_ok(c, "POST", path, NULL, NULL, err, sizeof(err)) != 0)
		goto fail;
	renamed = 1;
	free(path);
	free(escaped);

	progress(c, "Creating new container", name);
	body = create_body(inspect, &first_net);
	escaped = agent_http_escape(name);
	path = xasprintf("/containers/create?name=%s", escaped);
	if (engine_ok(c, "POST", path, body, &created, err, sizeof(err)) != 0)
		goto fail;
	jsonread_copy(new_id, sizeof(new_id), jsonread_string(created, "Id", ""));
	if (!docker_engine_ref_ok(new_id)) {
		snprintf(err, sizeof(err), "the engine gave no id for the new container");
		goto fail;
	}
	if (connect_networks(c, inspect, first_net, new_id, err, sizeof(err)) != 0)
		goto fail;
	free(path);

	progress(c, "Starting container", name);
	path = xasprintf("/containers/%s/start", new_id);
	if (engine_ok(c, "POST", path, NULL, NULL, err, sizeof(err)) != 0)
		goto fail;

	progress(c, "Verifying container stability", NULL);
	sleep(UPDATE_VERIFY_SECONDS);
	if (!stable(c, new_id)) {
		snprintf(err, sizeof(err), "container %s did not stay running after the update",
		    name);
		goto fail;
	}
	snprintf(backup, backup_len, "%s", id);
	snprintf(err, sizeof(err), "Container %s updated successfully", name);
	ack(c, "completed", err);
	log_info("docker: container updated container=%s", name);
	goto out;
fail:
	if (renamed)
		roll_back(c, id, name, new_id);
	ack(c, "failed", err);
out:
	free(path);
	free(escaped);
	free(body);
	json_object_put(created);
	json_object_put(inspect);
}

void
dockeragent_take_commands(struct json_object *pending, const char *answer)
{
	struct json_object *o = json_tokener_parse(answer), *cmds = jsonread_member(o, "commands");

	for (int i = 0; i < jsonread_array_len(cmds); i++) {
		struct json_object *cmd = json_object_array_get_idx(cmds, (size_t)i);
		const char *id = jsonread_string(cmd, "id", "");
		int seen = 0;

		for (int k = 0; *id && k < jsonread_array_len(pending); k++)
			seen |= strcmp(jsonread_string(json_object_array_get_idx(pending, (size_t)k),
			    "id", ""), id) == 0;
		if (*id && !seen)
			json_object_array_add(pending, json_object_get(cmd));
	}
	json_object_put(o);
}

int
dockeragent_run_commands(const struct agent_config *cfg, struct docker_engine *e,
    const char *agent_id, struct json_object *commands, char *backup, size_t backup_len)
{
	for (int i = 0; i < jsonread_array_len(commands); i++) {
		struct json_object *cmd = json_object_array_get_idx(commands, (size_t)i);
		const char *type = jsonread_string(cmd, "type", "");
		struct command c = { cfg, e, agent_id, jsonread_string(cmd, "id", "") };

		log_info("docker: command received id=%s type=%s", c.id, type);
		if (strcmp(type, "stop") == 0) {
			ack(&c, "completed", "Agent shutting down");
			return 1;
		} else if (strcmp(type, "check_updates") == 0)
			ack(&c, "completed", "This agent does not check registries for updates");
		else if (strcmp(type, "update_container") == 0)
			update_container(&c, jsonread_member(cmd, "payload"), backup, backup_len);
		else
			ack(&c, "failed", "unsupported command type");
	}
	return 0;
}
