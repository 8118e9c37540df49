/* docker_engine.c: the Docker (or Podman) Engine API over its Unix socket (agents.md §9.7):
 * which socket, and one call at a time through the agent's HTTP client (kept alive). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agent.h"
#include "http_client.h"
#include "jsonread.h"
#include "log.h"
#include "util.h"

/* Every call's limits: the engine is local, but a hung daemon must not hold the agent. */
#define ENGINE_TIMEOUT_MS 10000
#define ENGINE_FIND_TIMEOUT_MS 5000
#define ENGINE_MAX_RESPONSE ((size_t)16 * 1024 * 1024)

static long
perform(const char *socket, const char *method, const char *path,
    const char *body, long timeout_ms, struct json_object **answer)
{
	char *url = xasprintf("http://localhost%s", path);
	struct agent_http_request req;
	struct agent_http_answer ans;
	long status = 0;

	if (answer)
		*answer = NULL;
	agent_http_request_init(&req, method, url);
	req.unix_socket = socket;
	req.timeout_ms = timeout_ms;
	req.connect_timeout_ms = 2000;
	req.max_response = ENGINE_MAX_RESPONSE;
	req.body = body;
	req.content_type = body ? "application/json" : NULL;
	agent_http_add_header(&req, "Accept", "application/json");
	if (agent_http_perform(&req, &ans) == 0) {
		status = ans.status;
		if (answer && ans.body)
			*answer = json_tokener_parse(ans.body);
	} else
		log_debug("docker: no answer socket=%s path=%s error=\"%s\"", socket, path,
		    ans.error);
	agent_http_answer_free(&ans);
	agent_http_request_clear(&req);
	free(url);
	return status;
}

long
docker_engine_call(struct docker_engine *e, const char *method, const char *path,
    const char *body, struct json_object **answer)
{
	return perform(e->socket, method, path, body, ENGINE_TIMEOUT_MS, answer);
}

struct json_object *
docker_engine_get(struct docker_engine *e, const char *path, long *status)
{
	struct json_object *o;

	*status = docker_engine_call(e, "GET", path, NULL, &o);
	if (*status >= 200 && *status < 300 && o)
		return o;
	if (*status >= 200 && *status < 300)
		log_warn("docker: the engine's answer is not JSON path=%s", path);
	json_object_put(o);
	return NULL;
}

int
docker_engine_ref_ok(const char *ref)
{
	size_t n = 0;

	for (const char *p = ref ? ref : ""; *p; p++, n++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return 0;
	return n > 0 && n <= 128 && ref[0] != '.' && ref[0] != '-';
}

int
docker_engine_info_podman(struct json_object *info)
{
	static const char *const keys[] = {
		"InitBinary", "ServerVersion", "DriverStatus", "SecurityOptions",
	};

	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		struct json_object *v = jsonread_member(info, keys[i]);

		if (v && strcasestr(json_object_to_json_string(v), "podman"))
			return 1;
	}
	return 0;
}

/* The path of a unix:// address; NULL for another scheme (tcp:// is not supported). */
static const char *
unix_path(const char *addr)
{
	if (!addr || !*addr)
		return NULL;
	if (strncmp(addr, "unix://", 7) == 0)
		return addr + 7;
	return NULL;
}

/* Whether socket's /info answers; fills e when it does. */
static int
try_socket(struct docker_engine *e, const char *socket)
{
	struct json_object *info;
	long status;

	if (!socket || !*socket || strlen(socket) >= sizeof(e->socket))
		return 0;
	status = perform(socket, "GET", "/info", NULL, ENGINE_FIND_TIMEOUT_MS, &info);
	if (status != 200 || !jsonread_is_object(info)) {
		if (status)
			log_warn("docker: the engine's /info is not usable socket=%s status=%ld",
			    socket, status);
		json_object_put(info);
		return 0;
	}
	snprintf(e->socket, sizeof(e->socket), "%s", socket);
	e->podman = strstr(socket, "podman") || strstr(socket, "libpod") ||
	    docker_engine_info_podman(info);
	json_object_put(info);
	return 1;
}

int
docker_engine_find(struct docker_engine *e, const char *runtime, char *tried, size_t len)
{
	const char *env[] = { "DOCKER_HOST", "CONTAINER_HOST", "PODMAN_HOST" };
	char user_podman[64];
	const char *podman[] = {
		user_podman, "/run/podman/podman.sock", "/var/run/podman/podman.sock",
	};
	const char *cand[8];
	size_t n = 0, off = 0;
	int podman_first = runtime && strcmp(runtime, "podman") == 0;

	e->socket[0] = '\0';
	e->podman = 0;
	snprintf(user_podman, sizeof(user_podman), "/run/user/%u/podman/podman.sock",
	    (unsigned)getuid());
	if (podman_first)
		for (size_t i = 0; i < ARRAY_LEN(podman); i++)
			cand[n++] = podman[i];
	for (size_t i = 0; i < ARRAY_LEN(env); i++) {
		const char *v = getenv(env[i]);

		if (v && *v && !unix_path(v))
			log_warn("docker: only unix:// engine addresses are supported, ignored %s",
			    env[i]);
		else if (unix_path(v))
			cand[n++] = unix_path(v);
	}
	if (!podman_first)
		for (size_t i = 0; i < ARRAY_LEN(podman); i++)
			cand[n++] = podman[i];
	cand[n++] = "/var/run/docker.sock";
	if (len)
		tried[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (try_socket(e, cand[i]))
			return 0;
		if (off < len)
			off += (size_t)snprintf(tried + off, len - off, "%s%s", i ? "," : "",
			    cand[i]);
	}
	return -1;
}
