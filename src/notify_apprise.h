/* notify_apprise.h: the apprise channel (alerts-notifications.md §8.4): its configuration
 * and normalisation, the message, and sending it by running the apprise program or by
 * POSTing to an apprise API server. */
#ifndef PULSE_NOTIFY_APPRISE_H
#define PULSE_NOTIFY_APPRISE_H

#include <json-c/json.h>
#include <stddef.h>

#include "alert.h"
#include "util.h"

#define APPRISE_ERR_LEN 512
#define APPRISE_OUTPUT_MAX ((size_t)64 * 1024)

/* An AppriseConfig, normalised (§8.4). targets may hold secrets: never log them. */
struct apprise_config {
	int enabled;
	int http_mode;			/* "http"; anything else is the CLI */
	char **targets;			/* trimmed, no empties, no case-insensitive repeats */
	size_t target_count;
	char cli_path[1025];		/* "apprise" by default */
	int timeout_seconds;		/* 15 by default, within [5, 120] */
	char server_url[2049];		/* trimmed, without a trailing '/' */
	char config_key[1025];
	char api_key[1025];
	char api_key_header[201];	/* "X-API-KEY" by default */
	int skip_tls_verify;
};

/* Reads and normalises an AppriseConfig JSON object: enabled is forced false without a
 * target (CLI) or a server URL (HTTP). A member of the wrong type or a value too long is
 * refused: -1 with a message in err. Free with notify_apprise_config_free either way. */
int notify_apprise_config_parse(const struct json_object *cfg, struct apprise_config *out,
    char *err, size_t errlen);
void notify_apprise_config_free(struct apprise_config *c);
/* The normalised configuration as it is stored and shown (every member; the caller owns
 * it): notify_channels keeps what this gives. The sizes above hold what notify_channels
 * accepts (NOTIFY_TEXT_MAX, NOTIFY_URL_MAX, NOTIFY_NAME_MAX). */
struct json_object *notify_apprise_config_to_json(const struct apprise_config *c);

/* Whether path may be run as the apprise program: an absolute path, or the bare name
 * "apprise" looked up in PATH. A relative path is refused: it would run whatever the
 * responder's working directory holds. */
int notify_apprise_cli_path_ok(const char *path);

/* The title, body and type of §8.4 for alerts[0..n) (resolved: the recovery text, type
 * "info"), appended to title and body; returns the type ("failure", "warning", "info"). */
const char *notify_apprise_content(const struct alert *alerts, size_t n, int resolved,
    const char *public_url, double now, struct strbuf *title, struct strbuf *body);

/* Runs <cli_path> -t title -b body -- targets... (no shell, stdin /dev/null, output read
 * up to APPRISE_OUTPUT_MAX), killed after timeout_seconds. Returns 0 on exit status 0, or
 * -1 with err set (the first line of its error output, targets masked). */
int notify_apprise_run_cli(const struct apprise_config *c, const char *title,
    const char *body, char *err, size_t errlen);

/* POSTs {body,title,urls?,type} to <server_url>/notify[/<config_key>] through
 * notify_send_http: the SSRF rules of §8.3 with allowlist (webhookAllowedPrivateCIDRs; NULL:
 * none), the address pinned, redirects checked. Returns 0 on a 2xx answer, or -1 with err
 * set. */
int notify_apprise_post(const struct apprise_config *c, const char *title, const char *body,
    const char *type, const char *allowlist, char *err, size_t errlen);

/* Sends the notification for alerts[0..n) with c (CLI or HTTP; allowlist as for
 * notify_apprise_post). Returns 0 or -1 with err. */
int notify_apprise_send_config(const struct apprise_config *c, const struct alert *alerts,
    size_t n, int resolved, const char *public_url, const char *allowlist, char *err,
    size_t errlen);

/* What the queue calls for a row: cfg is the row's AppriseConfig JSON. */
int notify_apprise_send(const struct json_object *cfg, const struct alert *alerts, size_t n,
    int resolved, const char *public_url, const char *allowlist, char *err, size_t errlen);

#endif
