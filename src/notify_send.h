/* notify_send.h: delivers one claimed queue row to its channel (alerts-notifications.md §8):
 * webhooks here, email and apprise through their channels (notify_email, notify_apprise);
 * every outbound HTTP request of a channel (webhooks, the apprise API) goes through
 * notify_send_http: the SSRF guard, the address pinned, redirects followed by hand. */
#ifndef PULSE_NOTIFY_SEND_H
#define PULSE_NOTIFY_SEND_H

#include "db.h"
#include "notify_queue.h"
#include "notify_webhook.h"

#include <json-c/json.h>

#define NOTIFY_SEND_MAX_REDIRECTS 3
#define NOTIFY_SEND_MAX_RESPONSE ((size_t)1024 * 1024)
#define NOTIFY_SEND_USER_AGENT "Pulse-Monitoring/2.0"

/* What a send needs besides the row: settings read from pulse.system_settings once per
 * batch, and the worker's limits. */
struct notify_send_ctx {
	char allowlist[2048];	/* webhookAllowedPrivateCIDRs */
	char public_url[512];	/* publicURL, for links in payloads */
	long timeout_ms;	/* a whole delivery, redirects included */
	long connect_timeout_ms;
	int rate_limit;		/* requests per URL per window; 0: none */
	int rate_window_s;	/* the window's seconds; 0: a minute */
	/* A connection cache (http_share_new) kept by one sender thread, so that its requests
	 * to a receiver reuse the connection and the TLS session; NULL: a new connection each. */
	void *share;
};

/* Reads webhookAllowedPrivateCIDRs and publicURL (JSON strings) into ctx. 0 or -1. */
int notify_send_settings_load(struct db *db, struct notify_send_ctx *ctx);

/* Delivers row by its type (webhook, email, apprise, and their _resolved forms, which send
 * the recovery content); fills res (success, status, error, target, size). Returns 0 on
 * success, -1 on failure. An email row is sent once (the queue retries) with the
 * smtp_ca_file option and X-Pulse-Delivery = the row id. */
int notify_send_row(const struct nq_row *row, const struct notify_send_ctx *ctx,
    struct nq_result *res);

/* How a webhook is sent besides its configuration. */
struct notify_send_how {
	int resolved;			/* the recovery payload(s) */
	int single;			/* the single-alert payload (tests), not the grouped one */
	int test;			/* a test send: ntfy gets Title, Priority and Tags headers */
	const char *delivery_key;	/* X-Pulse-Delivery, or NULL */
	const char *user_agent;		/* NULL: NOTIFY_SEND_USER_AGENT */
	struct strbuf *response;	/* the last answer's body is appended when not NULL */
};

/* A webhook (a WebhookConfig JSON object) sent now over alerts[0..n) (n >= 1), the queue's
 * way: payload, Telegram chat_id, rate limit, notify_send_http. Fills res; 0 or -1. */
int notify_send_webhook_config(struct json_object *cfg, const struct alert *alerts, size_t n,
    const struct notify_send_how *how, const struct notify_send_ctx *ctx,
    struct nq_result *res);

/* One outbound request of a channel. */
struct notify_http {
	const char *label;		/* starts the error texts: "webhook", "apprise server" */
	const char *method;		/* NULL: POST */
	const char *body;		/* may be NULL */
	const char *content_type;
	const struct webhook_kv *headers;	/* a value holding "{{" is not sent */
	size_t header_count;
	const char *delivery_key;	/* X-Pulse-Delivery, or NULL */
	const char *user_agent;		/* NULL: NOTIFY_SEND_USER_AGENT */
	int tls_insecure;		/* https without certificate checks */
	long status;			/* out: the last HTTP status, 0 when none */
	struct strbuf *response;	/* out when not NULL: the last answer's body, appended */
};

/* Sends h to url within ctx->timeout_ms: urlguard_check with ctx->allowlist before each hop
 * and the checked address pinned (no second DNS answer), at most NOTIFY_SEND_MAX_REDIRECTS
 * redirects (each checked again; 301-303 go on as GET). Returns 0 on a 2xx answer, or -1
 * with a message in err ("<label> returned HTTP <code>: <body>", "<label> URL refused: ..."). */
int notify_send_http(const char *url, struct notify_http *h, const struct notify_send_ctx *ctx,
    char *err, size_t errlen);

/* The per-URL limit of per_window requests in a fixed window of window_s seconds (0: 60),
 * shared by the threads of this process (not across workers). 1 when a request may go now
 * (and counts it), 0 when the limit is reached, with the seconds until the window ends in
 * *wait_s (when not NULL). */
int notify_send_rate_take(const char *url, int per_window, int window_s, double now,
    double *wait_s);

#endif
