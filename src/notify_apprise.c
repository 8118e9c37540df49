/* notify_apprise.c: the apprise channel: configuration, message, CLI and API delivery. */
#include "config.h"

#include "notify_apprise.h"
#include "http.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "notify_email.h"
#include "notify_send.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- configuration ---------------------------------------------------------------------- */

/* Adds target t (trimmed) unless it is empty or already there in another case. */
static void
add_target(struct apprise_config *c, const char *t)
{
	char buf[2048];

	jsonread_copy_trimmed(buf, sizeof(buf), t);
	if (buf[0] == '\0')
		return;
	for (size_t i = 0; i < c->target_count; i++)
		if (strcasecmp(c->targets[i], buf) == 0)
			return;
	c->targets = xrealloc(c->targets, sizeof(*c->targets) * (c->target_count + 1));
	c->targets[c->target_count++] = xstrdup(buf);
}

int
notify_apprise_config_parse(const struct json_object *cfg_const, struct apprise_config *out,
    char *err, size_t errlen)
{
	struct json_object *cfg = (struct json_object *)cfg_const, *targets;
	char mode[17] = "";
	int64_t timeout = 0;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(cfg, json_type_object)) {
		snprintf(err, errlen, "apprise configuration must be an object");
		return -1;
	}
	if (notify_cfg_bool(cfg, "enabled", &out->enabled, err, errlen) != 0 ||
	    notify_cfg_bool(cfg, "skipTlsVerify", &out->skip_tls_verify, err, errlen) != 0 ||
	    notify_cfg_string(cfg, "mode", mode, sizeof(mode), err, errlen) != 0 ||
	    notify_cfg_string(cfg, "cliPath", out->cli_path, sizeof(out->cli_path), err,
	    errlen) != 0 ||
	    notify_cfg_string(cfg, "serverUrl", out->server_url, sizeof(out->server_url), err,
	    errlen) != 0 ||
	    notify_cfg_string(cfg, "configKey", out->config_key, sizeof(out->config_key), err,
	    errlen) != 0 ||
	    notify_cfg_string(cfg, "apiKey", out->api_key, sizeof(out->api_key), err,
	    errlen) != 0 ||
	    notify_cfg_string(cfg, "apiKeyHeader", out->api_key_header,
	    sizeof(out->api_key_header), err, errlen) != 0)
		return -1;
	if (jsonutil_get_int(cfg, "timeoutSeconds", INT32_MIN, INT32_MAX, &timeout) ==
	    JSONUTIL_WRONG_TYPE) {
		snprintf(err, errlen, "timeoutSeconds must be an integer");
		return -1;
	}
	switch (jsonutil_get_array(cfg, "targets", &targets)) {
	case JSONUTIL_WRONG_TYPE:
		snprintf(err, errlen, "targets must be an array of strings");
		return -1;
	case JSONUTIL_OK:
		for (size_t i = 0; i < json_object_array_length(targets); i++) {
			struct json_object *v = json_object_array_get_idx(targets, i);

			if (!json_object_is_type(v, json_type_string)) {
				snprintf(err, errlen, "targets must be an array of strings");
				return -1;
			}
			add_target(out, json_object_get_string(v));
		}
		break;
	case JSONUTIL_MISSING:
		break;
	}
	out->http_mode = strcasecmp(mode, "http") == 0;
	jsonread_copy_trimmed(out->cli_path, sizeof(out->cli_path), out->cli_path);
	if (out->cli_path[0] == '\0')
		snprintf(out->cli_path, sizeof(out->cli_path), "apprise");
	out->timeout_seconds = timeout <= 0 ? 15 : timeout < 5 ? 5 : timeout > 120 ? 120 :
	    (int)timeout;
	jsonread_copy_trimmed(out->server_url, sizeof(out->server_url), out->server_url);
	len = strlen(out->server_url);
	while (len > 0 && out->server_url[len - 1] == '/')
		out->server_url[--len] = '\0';
	jsonread_copy_trimmed(out->api_key_header, sizeof(out->api_key_header),
	    out->api_key_header);
	if (out->api_key_header[0] == '\0')
		snprintf(out->api_key_header, sizeof(out->api_key_header), "X-API-KEY");
	if (out->http_mode ? out->server_url[0] == '\0' : out->target_count == 0)
		out->enabled = 0;
	return 0;
}

void
notify_apprise_config_free(struct apprise_config *c)
{
	for (size_t i = 0; i < c->target_count; i++)
		secret_free(c->targets[i]);
	free(c->targets);
	c->targets = NULL;
	c->target_count = 0;
	explicit_bzero(c->api_key, sizeof(c->api_key));
}

struct json_object *
notify_apprise_config_to_json(const struct apprise_config *c)
{
	struct json_object *o = json_object_new_object(), *t = json_object_new_array();

	jsonwrite_bool(o, "enabled", c->enabled);
	jsonwrite_str(o, "mode", c->http_mode ? "http" : "cli");
	for (size_t i = 0; i < c->target_count; i++)
		json_object_array_add(t, json_object_new_string(c->targets[i]));
	json_object_object_add(o, "targets", t);
	jsonwrite_str(o, "cliPath", c->cli_path);
	jsonwrite_int(o, "timeoutSeconds", c->timeout_seconds);
	jsonwrite_str(o, "serverUrl", c->server_url);
	jsonwrite_str(o, "configKey", c->config_key);
	jsonwrite_str(o, "apiKey", c->api_key);
	jsonwrite_str(o, "apiKeyHeader", c->api_key_header);
	jsonwrite_bool(o, "skipTlsVerify", c->skip_tls_verify);
	return o;
}

int
notify_apprise_cli_path_ok(const char *path)
{
	return path[0] == '/' || strcmp(path, "apprise") == 0;
}

/* ---- content ------------------------------------------------------------------------------ */

const char *
notify_apprise_content(const struct alert *alerts, size_t n, int resolved,
    const char *public_url, double now, struct strbuf *title, struct strbuf *body)
{
	const char *type = "info";
	const char *first = alerts[0].resource_name[0] != '\0' ? alerts[0].resource_name :
	    alerts[0].resource_id;

	if (resolved) {
		if (n == 1)
			sb_printf(title, "Pulse alert resolved: %s", first);
		else
			sb_printf(title, "Pulse alerts resolved (%zu)", n);
		notify_email_recovery_text(alerts, n, public_url, now, body);
		return "info";
	}
	if (n == 1)
		sb_printf(title, "Pulse alert: %s", first);
	else
		sb_printf(title, "Pulse alerts (%zu)", n);
	sb_printf(body, "%s\n", alerts[0].message);
	for (size_t i = 0; i < n; i++) {
		const struct alert *a = &alerts[i];
		char level[16];
		size_t k;

		snprintf(level, sizeof(level), "%s", a->level);
		for (k = 0; level[k] != '\0'; k++)
			level[k] = (char)(level[k] >= 'a' && level[k] <= 'z' ? level[k] - 32 :
			    level[k]);
		sb_printf(body, "\n[%s] %s \u2014 value %.2f (threshold %.2f)\n", level,
		    a->resource_name[0] != '\0' ? a->resource_name : a->resource_id, a->value,
		    a->threshold);
		if (a->node[0] != '\0')
			sb_printf(body, "Node: %s\n", a->node);
		if (a->instance[0] != '\0' && strcmp(a->instance, a->node) != 0)
			sb_printf(body, "Instance: %s\n", a->instance);
		if (strcmp(a->level, "critical") == 0)
			type = "failure";
		else if (strcmp(type, "info") == 0)
			type = "warning";
	}
	if (public_url != NULL && public_url[0] != '\0')
		sb_printf(body, "\nDashboard: %s\n", public_url);
	return type;
}

/* ---- CLI ---------------------------------------------------------------------------------- */

/* Replaces every target in s with "***": the program's error output may repeat one. */
static void
mask_targets(const struct apprise_config *c, char *s)
{
	for (size_t i = 0; i < c->target_count; i++) {
		size_t tl = strlen(c->targets[i]);
		char *p;

		while (tl >= 3 && (p = strstr(s, c->targets[i])) != NULL) {
			memmove(p + 3, p + tl, strlen(p + tl) + 1);
			memcpy(p, "***", 3);
		}
	}
}

/* Reads what is available on fd into out (up to APPRISE_OUTPUT_MAX); returns 0 at end of
 * file, 1 otherwise. */
static int
drain(int fd, struct strbuf *out)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n == 0)
		return 0;
	if (out->len < APPRISE_OUTPUT_MAX)
		sb_append(out, buf, (size_t)n < APPRISE_OUTPUT_MAX - out->len ? (size_t)n :
		    APPRISE_OUTPUT_MAX - out->len);
	return 1;
}

int
notify_apprise_run_cli(const struct apprise_config *c, const char *title, const char *body,
    char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t signals;
	int out_pipe[2], err_pipe[2], status = 0, rc = -1, open_fds = 2, timed_out = 0;
	struct strbuf out = { 0 }, errout = { 0 };
	char **argv;
	size_t argc = 0;
	pid_t pid;
	double deadline;

	if (!notify_apprise_cli_path_ok(c->cli_path)) {
		snprintf(err, errlen, "cliPath must be an absolute path or \"apprise\"");
		return -1;
	}
	if (c->target_count == 0) {
		snprintf(err, errlen, "at least one target is required for CLI mode");
		return -1;
	}
	if (pipe2(out_pipe, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(err_pipe, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(out_pipe[0]);
		close(out_pipe[1]);
		return -1;
	}
	argv = xcalloc(c->target_count + 7, sizeof(*argv));
	argv[argc++] = (char *)c->cli_path;
	argv[argc++] = (char *)"-t";
	argv[argc++] = (char *)title;
	argv[argc++] = (char *)"-b";
	argv[argc++] = (char *)body;
	argv[argc++] = (char *)"--";	/* a target starting with '-' is not an option */
	for (size_t i = 0; i < c->target_count; i++)
		argv[argc++] = c->targets[i];
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
	/* the child starts with no signal blocked and SIGPIPE at its default, whatever this
	 * thread or the daemon set */
	posix_spawnattr_init(&attr);
	sigemptyset(&signals);
	posix_spawnattr_setsigmask(&attr, &signals);
	sigaddset(&signals, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &signals);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	errno = posix_spawnp(&pid, c->cli_path, &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	close(out_pipe[1]);
	close(err_pipe[1]);
	if (errno != 0) {
		snprintf(err, errlen, "cannot run %s: %s", c->cli_path, strerror(errno));
		close(out_pipe[0]);
		close(err_pipe[0]);
		return -1;
	}

	deadline = clock_monotonic() + c->timeout_seconds;
	while (open_fds > 0) {
		struct pollfd p[2] = { { out_pipe[0], POLLIN, 0 }, { err_pipe[0], POLLIN, 0 } };
		double left = deadline - clock_monotonic();

		if (left <= 0) {
			timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(p, 2, (int)(left * 1000) + 1) < 0 && errno != EINTR)
			break;
		if (p[0].fd >= 0 && p[0].revents != 0 && !drain(out_pipe[0], &out)) {
			open_fds--;
			out_pipe[0] = -(out_pipe[0] + 2);
		}
		if (p[1].fd >= 0 && p[1].revents != 0 && !drain(err_pipe[0], &errout)) {
			open_fds--;
			err_pipe[0] = -(err_pipe[0] + 2);
		}
	}
	/* a closed end was stored as -(fd + 2) so poll skips it; close both either way */
	close(out_pipe[0] >= 0 ? out_pipe[0] : -out_pipe[0] - 2);
	close(err_pipe[0] >= 0 ? err_pipe[0] : -err_pipe[0] - 2);
	if (!timed_out && clock_monotonic() >= deadline) {
		timed_out = 1;
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out) {
		snprintf(err, errlen, "apprise timed out after %d seconds", c->timeout_seconds);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		rc = 0;
	} else {
		const char *line = errout.data != NULL ? errout.data : "";
		size_t n = strcspn(line, "\r\n");

		while (*line == '\n' || *line == '\r') {
			line++;
			n = strcspn(line, "\r\n");
		}
		if (WIFEXITED(status))
			snprintf(err, errlen, "apprise exited with status %d%s%.*s",
			    WEXITSTATUS(status), n > 0 ? ": " : "", (int)(n > 300 ? 300 : n), line);
		else
			snprintf(err, errlen, "apprise was killed by signal %d",
			    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		mask_targets(c, err);
	}
	sb_free(&out);
	sb_free(&errout);
	return rc;
}

/* ---- HTTP --------------------------------------------------------------------------------- */

int
notify_apprise_post(const struct apprise_config *c, const char *title, const char *body,
    const char *type, const char *allowlist, char *err, size_t errlen)
{
	struct json_object *o;
	struct notify_send_ctx ctx;
	struct notify_http h;
	struct webhook_kv headers[2] = { { "Accept", "application/json" },
		{ c->api_key_header, c->api_key } };
	struct strbuf answer = { 0 };
	char *url, *key = NULL, *json;
	int rc;

	if (strncasecmp(c->server_url, "http://", 7) != 0 &&
	    strncasecmp(c->server_url, "https://", 8) != 0) {
		snprintf(err, errlen, "the apprise server URL must start with http:// or https://");
		return -1;
	}
	if (!http_header_name_ok(c->api_key_header)) {
		snprintf(err, errlen, "apiKeyHeader is not a header name");
		return -1;
	}
	if (strpbrk(c->api_key, "\r\n") != NULL) {
		snprintf(err, errlen, "the API key cannot stand in a header");
		return -1;
	}
	if (c->config_key[0] != '\0') {
		key = http_escape(c->config_key);
		url = xasprintf("%s/notify/%s", c->server_url, key);
		free(key);
	} else {
		url = xasprintf("%s/notify", c->server_url);
	}
	o = json_object_new_object();
	jsonwrite_str(o, "body", body);
	jsonwrite_str(o, "title", title);
	if (c->target_count > 0) {
		struct json_object *urls = json_object_new_array();

		for (size_t i = 0; i < c->target_count; i++)
			json_object_array_add(urls, json_object_new_string(c->targets[i]));
		json_object_object_add(o, "urls", urls);
	}
	jsonwrite_str(o, "type", type);
	json = xstrdup(jsonutil_to_string(o, NULL));
	json_object_put(o);

	memset(&ctx, 0, sizeof(ctx));
	snprintf(ctx.allowlist, sizeof(ctx.allowlist), "%s", allowlist ? allowlist : "");
	ctx.timeout_ms = c->timeout_seconds * 1000L;
	ctx.connect_timeout_ms = ctx.timeout_ms < 10000 ? ctx.timeout_ms : 10000;
	memset(&h, 0, sizeof(h));
	h.label = "apprise server";
	h.body = json;
	h.content_type = "application/json";
	h.headers = headers;
	h.header_count = c->api_key[0] != '\0' ? 2 : 1;
	h.tls_insecure = c->skip_tls_verify;
	h.response = &answer;
	rc = notify_send_http(url, &h, &ctx, err, errlen);
	if (rc != 0 && h.status > 0) {
		/* the first line of the answer, as before */
		const char *b2 = answer.data != NULL ? answer.data : "";
		int n = (int)strcspn(b2, "\r\n");

		snprintf(err, errlen, "apprise server returned HTTP %ld%s%.*s", h.status,
		    n > 0 ? ": " : "", n > 200 ? 200 : n, b2);
	}
	sb_free(&answer);
	free(json);
	free(url);
	return rc;
}

/* ---- sending ------------------------------------------------------------------------------ */

int
notify_apprise_send_config(const struct apprise_config *c, const struct alert *alerts,
    size_t n, int resolved, const char *public_url, const char *allowlist, char *err,
    size_t errlen)
{
	struct strbuf title = { 0 }, body = { 0 };
	const char *type;
	int rc;

	if (n == 0) {
		snprintf(err, errlen, "no alert to send");
		return -1;
	}
	type = notify_apprise_content(alerts, n, resolved, public_url, clock_wall(), &title,
	    &body);
	if (c->http_mode)
		rc = notify_apprise_post(c, title.data, body.data, type, allowlist, err, errlen);
	else
		rc = notify_apprise_run_cli(c, title.data, body.data, err, errlen);
	sb_free(&title);
	sb_free(&body);
	return rc;
}

int
notify_apprise_send(const struct json_object *cfg, const struct alert *alerts, size_t n,
    int resolved, const char *public_url, const char *allowlist, char *err, size_t errlen)
{
	struct apprise_config c;
	int rc = notify_apprise_config_parse(cfg, &c, err, errlen);

	if (rc == 0)
		rc = notify_apprise_send_config(&c, alerts, n, resolved, public_url, allowlist, err,
		    errlen);
	notify_apprise_config_free(&c);
	return rc;
}
