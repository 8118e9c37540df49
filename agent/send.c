/* send.c: the agent's traffic to the server (agents.md §9.4, §9.5): the report POST with the
 * token headers, the bounded buffer of unsent reports, the remote configuration at start. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "agent.h"
#include "http.h"
#include "jsonread.h"
#include "log.h"
#include "util.h"

void
agent_buffer_push(struct agent_buffer *b, char *body)
{
	if (b->count == AGENT_BUFFER_MAX) {
		free(b->items[b->head]);
		b->head = (b->head + 1) % AGENT_BUFFER_MAX;
		b->count--;
		b->dropped++;
	}
	b->items[(b->head + b->count) % AGENT_BUFFER_MAX] = body;
	b->count++;
}

const char *
agent_buffer_peek(const struct agent_buffer *b)
{
	return b->count ? b->items[b->head] : NULL;
}

void
agent_buffer_pop(struct agent_buffer *b)
{
	if (!b->count)
		return;
	free(b->items[b->head]);
	b->items[b->head] = NULL;
	b->head = (b->head + 1) % AGENT_BUFFER_MAX;
	b->count--;
}

void
agent_buffer_free(struct agent_buffer *b)
{
	while (b->count)
		agent_buffer_pop(b);
}

/* A request to <url><path> with the agent's headers and TLS mode; the caller frees it. */
static struct http_request *
agent_request(const struct agent_config *cfg, const char *path, const char *user_agent)
{
	char *url = xasprintf("%s%s", cfg->url, path);
	struct http_request *req = http_request_new(url);

	free(url);
	req->tls = cfg->insecure ? HTTP_TLS_INSECURE : HTTP_TLS_VERIFY;
	req->timeout_ms = 15000;
	req->connect_timeout_ms = 5000;
	req->max_response = 1024 * 1024;
	http_request_add_header(req, "X-API-Token: %s", cfg->token ? cfg->token : "");
	http_request_add_header(req, "Authorization: Bearer %s", cfg->token ? cfg->token : "");
	http_request_add_header(req, "User-Agent: %s", user_agent);
	http_request_add_header(req, "Accept: application/json");
	return req;
}

enum agent_send_result
agent_send_report(const struct agent_config *cfg, const char *body)
{
	struct http_request *req = agent_request(cfg, "/api/agents/host/report",
	    "pulse-host-agent/" PACKAGE_VERSION);
	enum agent_send_result res = AGENT_SEND_FAILED;

	req->method = "POST";
	req->body = xstrdup(body);
	req->content_type = "application/json";
	if (http_perform(req) != 0)
		log_warn("report not sent url=%s error=\"%s\"", cfg->url, req->error);
	else if (req->status >= 300 && req->status < 400)
		log_warn("report not sent: the server redirects (status=%ld); use the https address "
		    "in --url", req->status);
	else if (req->status == 403) {
		log_error("report dropped: the token lacks the host-agent:report scope status=403");
		res = AGENT_SEND_FORBIDDEN;
	} else if (req->status >= 300)
		log_warn("report not accepted status=%ld", req->status);
	else
		res = AGENT_SENT;
	http_request_free(req);
	return res;
}

/* GET path; the answer's JSON (the caller puts it) when the status is below 300, else NULL
 * with *status set (0 when no answer came). */
static struct json_object *
get_json(const struct agent_config *cfg, const char *path, long *status)
{
	struct http_request *req = agent_request(cfg, path, "pulse-agent-config-client");
	struct json_object *o = NULL;

	req->timeout_ms = 10000;
	*status = 0;
	if (http_perform(req) == 0) {
		*status = req->status;
		if (req->status < 300 && req->response.data)
			o = json_tokener_parse(req->response.data);
	} else
		log_warn("remote config: no answer url=%s error=\"%s\"", cfg->url, req->error);
	http_request_free(req);
	return o;
}

int
agent_fetch_remote_config(const struct agent_config *cfg, const char *hostname,
    const char *agent_id)
{
	char *escaped = http_escape(hostname), *path, host_id[256];
	struct json_object *o, *conf;
	long status;
	int commands = -1;

	snprintf(host_id, sizeof(host_id), "%s", agent_id);
	path = xasprintf("/api/agents/host/lookup?hostname=%s", escaped);
	free(escaped);
	o = get_json(cfg, path, &status);
	free(path);
	if (o && jsonread_bool(o, "success", 0)) {
		struct json_object *host = jsonread_member(o, "host");

		if (*jsonread_string(host, "id", ""))
			jsonread_copy(host_id, sizeof(host_id), jsonread_string(host, "id", ""));
	} else if (status != 404 && status != 0)
		log_warn("remote config: host lookup failed status=%ld", status);
	json_object_put(o);
	if (status == 0)
		return -1;
	escaped = http_escape(host_id);
	path = xasprintf("/api/agents/host/%s/config", escaped);
	free(escaped);
	o = get_json(cfg, path, &status);
	free(path);
	if (!o) {
		log_info("remote config: none, using the local configuration status=%ld", status);
		return -1;
	}
	conf = jsonread_member(o, "config");
	if (jsonread_has(conf, "commandsEnabled"))
		commands = jsonread_bool(conf, "commandsEnabled", 0);
	if (jsonread_member(conf, "settings"))
		log_info("remote config: settings received; this agent does not apply profile "
		    "settings yet");
	json_object_put(o);
	return commands;
}
