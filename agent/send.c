/* send.c: the agent's traffic to the server (agents.md §9.4, §9.5): the report POST with the
 * token headers, the bounded buffer of unsent reports, the remote configuration at start. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "agent.h"
#include "http_client.h"
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

/* A request to <url><path> with the agent's headers and TLS mode; url is the caller's to
 * free and req's header lines to clear (agent_http_request_clear). */
static void
agent_request(const struct agent_config *cfg, struct agent_http_request *req, char **url,
    const char *method, const char *path, const char *user_agent)
{
	const char *token = cfg->token ? cfg->token : "";

	*url = xasprintf("%s%s", cfg->url, path);
	agent_http_request_init(req, method, *url);
	req->insecure = cfg->insecure;
	req->timeout_ms = 15000;
	req->connect_timeout_ms = 5000;
	req->max_response = 1024 * 1024;
	req->user_agent = user_agent;
	agent_http_add_header(req, "X-API-Token", "%s", token);
	agent_http_add_header(req, "Authorization", "Bearer %s", token);
	agent_http_add_header(req, "Accept", "application/json");
}

enum agent_send_result
agent_post(const struct agent_config *cfg, const struct agent_channel *ch, const char *body,
    char **response)
{
	struct agent_http_request req;
	struct agent_http_answer ans;
	enum agent_send_result res = AGENT_SEND_FAILED;
	char *url;

	if (response)
		*response = NULL;
	agent_request(cfg, &req, &url, "POST", ch->path, ch->user_agent);
	req.body = body;
	req.content_type = "application/json";
	if (agent_http_perform(&req, &ans) != 0)
		log_warn("%s not sent url=%s error=\"%s\"", ch->what, cfg->url, ans.error);
	else if (ans.status >= 300 && ans.status < 400)
		log_warn("%s not sent: the server redirects (status=%ld); use the https address "
		    "in --url", ch->what, ans.status);
	else if (ans.status == 403) {
		log_error("%s dropped: the token lacks the %s scope status=403", ch->what,
		    ch->scope);
		res = AGENT_SEND_FORBIDDEN;
	} else if (ans.status == 400 && ans.body && strstr(ans.body, "invalid_report") &&
	    strstr(ans.body, "was removed")) {
		log_error("%s refused: the server removed this host; the module stops", ch->what);
		res = AGENT_SEND_REMOVED;
	} else if (ans.status >= 300) {
		struct json_object *o = ans.body ? json_tokener_parse(ans.body) : NULL;

		log_warn("%s not accepted status=%ld error=\"%s\"", ch->what, ans.status,
		    jsonread_string(o, "error", ""));
		json_object_put(o);
	} else {
		res = AGENT_SENT;
		if (response && ans.body)
			*response = xstrdup(ans.body);
	}
	agent_http_answer_free(&ans);
	agent_http_request_clear(&req);
	free(url);
	return res;
}

/*
 * Queues a fresh body behind the kept ones and, unless a retry is not due yet, sends them
 * oldest first until one fails. The fresh one goes last, so the server's lastSeen (the
 * report's timestamp) never moves backwards (agents.md QUIRK 16: the original sends the fresh
 * one first). A 403 drops the body it refused; any other failure keeps the queue and backs
 * off: the interval, doubling, up to AGENT_BACKOFF_MAX.
 */
enum agent_send_result
agent_outbox_deliver(const struct agent_config *cfg, struct agent_outbox *o, char *body)
{
	const char *next;
	int backlog, sent = 0;

	agent_buffer_push(&o->buffer, body);
	if (o->failures > 0 && clock_monotonic() < o->retry_at)
		return AGENT_SEND_FAILED;
	backlog = o->buffer.count - 1;
	while ((next = agent_buffer_peek(&o->buffer)) && !(o->stop && *o->stop)) {
		char *answer = NULL;
		enum agent_send_result res = agent_post(cfg, &o->channel, next,
		    o->on_answer ? &answer : NULL);

		if (res == AGENT_SEND_FAILED) {
			o->failures++;
			o->retry_at = clock_monotonic() + fmin(cfg->interval *
			    pow(2, o->failures > 16 ? 15 : o->failures - 1), AGENT_BACKOFF_MAX);
			log_debug("%ss kept count=%d dropped=%ld", o->channel.what, o->buffer.count,
			    o->buffer.dropped);
			return res;
		}
		if (res == AGENT_SEND_REMOVED) {
			agent_buffer_free(&o->buffer);
			return res;
		}
		agent_buffer_pop(&o->buffer);
		sent += res == AGENT_SENT;
		if (answer)
			o->on_answer(o->answer_arg, answer);
		free(answer);
	}
	if (sent && (o->failures > 0 || o->sent == 0))
		log_info("%s sent url=%s", o->channel.what, cfg->url);
	if (sent && backlog > 0)
		log_info("buffered %ss sent count=%d", o->channel.what, backlog);
	o->failures = 0;
	o->sent += sent;
	return sent ? AGENT_SENT : AGENT_SEND_FORBIDDEN;
}

/* GET path; the answer's JSON (the caller puts it) when the status is below 300, else NULL
 * with *status set (0 when no answer came). */
static struct json_object *
get_json(const struct agent_config *cfg, const char *path, long *status)
{
	struct agent_http_request req;
	struct agent_http_answer ans;
	struct json_object *o = NULL;
	char *url;

	agent_request(cfg, &req, &url, "GET", path, "pulse-agent-config-client");
	req.timeout_ms = 10000;
	*status = 0;
	if (agent_http_perform(&req, &ans) == 0) {
		*status = ans.status;
		if (ans.status < 300 && ans.body)
			o = json_tokener_parse(ans.body);
	} else
		log_warn("remote config: no answer url=%s error=\"%s\"", cfg->url, ans.error);
	agent_http_answer_free(&ans);
	agent_http_request_clear(&req);
	free(url);
	return o;
}

int
agent_fetch_remote_config(struct agent_config *cfg, const char *hostname,
    const char *agent_id)
{
	char *escaped = agent_http_escape(hostname), *path, host_id[256];
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
	escaped = agent_http_escape(host_id);
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
	if (jsonread_member(conf, "settings")) {
		int applied = agent_config_apply_settings(cfg, jsonread_member(conf, "settings"));

		log_info("remote config: profile settings applied=%d interval=%gs", applied,
		    cfg->interval);
	}
	json_object_put(o);
	return commands;
}
