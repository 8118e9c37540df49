/* health.c: the agent's health server (agents.md §9.6): /healthz, /readyz and /metrics over
 * plain HTTP/1.0, one short connection at a time, in a thread of its own. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "util.h"

static int listen_fd = -1;
static pthread_t thread;
static atomic_int ready, stopping;
static atomic_int host_on = 1, docker_on, kubernetes_on;
static char agent_version[64];

/* Splits "host:port", ":port" or "[v6]:port". Returns 0 or -1. */
static int
split_addr(const char *addr, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon = strrchr(addr, ':');

	if (!colon || !colon[1])
		return -1;
	snprintf(port, plen, "%s", colon + 1);
	if (addr[0] == '[' && colon > addr && colon[-1] == ']')
		snprintf(host, hlen, "%.*s", (int)(colon - addr - 2), addr + 1);
	else
		snprintf(host, hlen, "%.*s", (int)(colon - addr), addr);
	return 0;
}

static void
answer(int fd, int status, const char *ctype, const char *body)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.0 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", status,
	    status == 200 ? "OK" : status == 503 ? "Service Unavailable" : "Not Found", ctype,
	    strlen(body));

	if (write(fd, head, (size_t)n) == n)
		(void)!write(fd, body, strlen(body));
}

/* Reads the request line (bounded, 2 s) and answers it. */
static void
serve(int fd)
{
	char req[1024], path[256] = "";
	size_t len = 0;

	while (len < sizeof(req) - 1) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&pfd, 1, 2000) <= 0 || (n = read(fd, req + len, sizeof(req) - 1 - len)) <= 0)
			break;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[len] = '\0';
	if (sscanf(req, "%*s %255s", path) != 1) {
		answer(fd, 404, "text/plain", "not found\n");
		return;
	}
	path[strcspn(path, "?")] = '\0';
	if (strcmp(path, "/healthz") == 0)
		answer(fd, 200, "text/plain", "ok");
	else if (strcmp(path, "/readyz") == 0)
		answer(fd, ready ? 200 : 503, "text/plain", ready ? "ok" : "not ready");
	else if (strcmp(path, "/metrics") == 0) {
		char body[512];

		snprintf(body, sizeof(body),
		    "# TYPE pulse_agent_info gauge\n"
		    "pulse_agent_info{version=\"%s\",host_enabled=\"%s\",docker_enabled=\"%s\","
		    "kubernetes_enabled=\"%s\"} 1\n"
		    "# TYPE pulse_agent_up gauge\npulse_agent_up %d\n", agent_version,
		    host_on ? "true" : "false", docker_on ? "true" : "false",
		    kubernetes_on ? "true" : "false", ready ? 1 : 0);
		answer(fd, 200, "text/plain; version=0.0.4", body);
	} else
		answer(fd, 404, "text/plain", "not found\n");
}

static void *
health_loop(void *arg)
{
	(void)arg;
	while (!stopping) {
		struct pollfd pfd = { listen_fd, POLLIN, 0 };
		int fd;

		if (poll(&pfd, 1, 500) <= 0)
			continue;
		if ((fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			if (errno == EMFILE || errno == ENFILE)
				usleep(100000);	/* out of descriptors: back off, do not spin */
			continue;
		}
		serve(fd);
		close(fd);
	}
	return NULL;
}

int
agent_health_start(const char *addr, const char *version)
{
	struct addrinfo hints = {0}, *res = NULL, *ai;
	char host[256], port[32];
	int one = 1, rc;

	snprintf(agent_version, sizeof(agent_version), "%s", version);
	if (split_addr(addr, host, sizeof(host), port, sizeof(port)) != 0) {
		log_error("health server: bad address addr=%s (want host:port or :port)", addr);
		return -1;
	}
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(*host ? host : NULL, port, &hints, &res)) != 0) {
		log_error("health server: cannot resolve addr=%s error=\"%s\"", addr, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		listen_fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (listen_fd < 0)
			continue;
		setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(listen_fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(listen_fd, 16) == 0)
			break;
		close(listen_fd);
		listen_fd = -1;
	}
	freeaddrinfo(res);
	if (listen_fd < 0) {
		log_error("health server: cannot listen addr=%s error=\"%s\"", addr, strerror(errno));
		return -1;
	}
	if (pthread_create(&thread, NULL, health_loop, NULL) != 0) {
		close(listen_fd);
		listen_fd = -1;
		log_error("health server: no thread");
		return -1;
	}
	log_info("health server listening addr=%s", addr);
	return 0;
}

void
agent_health_set_modules(int host, int docker, int kubernetes)
{
	host_on = host;
	docker_on = docker;
	kubernetes_on = kubernetes;
}

void
agent_health_set_ready(int r)
{
	ready = r;
}

void
agent_health_stop(void)
{
	if (listen_fd < 0)
		return;
	stopping = 1;
	pthread_join(thread, NULL);
	close(listen_fd);
	listen_fd = -1;
}
