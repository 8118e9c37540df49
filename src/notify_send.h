/* notify_send.h: delivers one claimed queue row to its channel (alerts-notifications.md §8):
 * webhooks here, through the SSRF guard with the address pinned and redirects followed by
 * hand; email and apprise are separate channels (notify_send_row's switch). */
#ifndef PULSE_NOTIFY_SEND_H
#define PULSE_NOTIFY_SEND_H

#include "db.h"
#include "notify_queue.h"

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
	int rate_limit;		/* requests per URL per minute; 0: none */
};

/* Reads webhookAllowedPrivateCIDRs and publicURL (JSON strings) into ctx. 0 or -1. */
int notify_send_settings_load(struct db *db, struct notify_send_ctx *ctx);

/* Delivers row by its type; fills res (success, status, error, target, size). Returns 0 on
 * success, -1 on failure. email and apprise rows fail with "channel not built yet" until those
 * channels are wired in. */
int notify_send_row(const struct nq_row *row, const struct notify_send_ctx *ctx,
    struct nq_result *res);

/* The webhook channel alone. */
int notify_send_webhook(const struct nq_row *row, const struct notify_send_ctx *ctx,
    struct nq_result *res);

/* The per-URL limit of ctx->rate_limit requests in a fixed one-minute window, shared by the
 * threads of this process (not across workers). 1 when a request may go now (and counts it),
 * 0 when the limit is reached. */
int notify_send_rate_take(const char *url, int per_minute, double now);

#endif
