/* notify_send.c: one queue row to its channel. Webhooks: payload from notify_webhook, the
 * URL checked by urlguard before each hop and the checked address pinned, at most three
 * redirects followed by hand, a per-URL rate limit. */
#include "config.h"

#include "notify_send.h"
#include "alert.h"
#include "audit.h"
#include "conf.h"
#include "http.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "log.h"
#include "notify_apprise.h"
#include "notify_email.h"
#include "notify_webhook.h"
#include "settings.h"
#include "urlguard.h"
#include "util.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_ALERTS 1000
#define MAX_KV 32

static const struct db_stmt st_settings = {"ns_settings",
	"SELECT key, value #>> '{}' FROM pulse.system_settings "
	"WHERE key IN ('webhookAllowedPrivateCIDRs', 'publicURL') AND jsonb_typeof(value) = 'string'", 0};

int
notify_send_settings_load(struct db *db, struct notify_send_ctx *ctx)
{
	PGresult *res = db_exec_stmt(db, &st_settings, NULL);

	ctx->allowlist[0] = '\0';
	ctx->public_url[0] = '\0';
	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *k = PQgetvalue(res, i, 0), *v = PQgetvalue(res, i, 1);
		if (strcmp(k, "webhookAllowedPrivateCIDRs") == 0)
			snprintf(ctx->allowlist, sizeof(ctx->allowlist), "%s", v);
		else
			snprintf(ctx->public_url, sizeof(ctx->public_url), "%s", v);
	}
	PQclear(res);
	/* The public_url option (PULSE_PUBLIC_URL) wins over the stored setting. */
	if (conf_str("public_url")[0] != '\0') {
		static int warned;
		char err[128];

		if (settings_check_public_url(conf_str("public_url"), err, sizeof(err)) == 0)
			snprintf(ctx->public_url, sizeof(ctx->public_url), "%s", conf_str("public_url"));
		else if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
			log_warn("msg=\"public_url option ignored\" error=\"%s\"", err);
	}
	return 0;
}

/* --- rate limit ------------------------------------------------------------------------- */

struct rate_slot {
	char url[512];
	double window;
	int count;
};

static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rate_slot rate_slots[256];

int
notify_send_rate_take(const char *url, int per_window, int window_s, double now,
    double *wait_s)
{
	double window = window_s > 0 ? window_s : 60;
	struct rate_slot *slot = NULL, *oldest = &rate_slots[0];
	int ok;

	if (per_window <= 0)
		return 1;
	pthread_mutex_lock(&rate_lock);
	for (size_t i = 0; i < ARRAY_LEN(rate_slots); i++) {
		if (strncmp(rate_slots[i].url, url, sizeof(rate_slots[i].url) - 1) == 0 &&
		    rate_slots[i].url[0]) {
			slot = &rate_slots[i];
			break;
		}
		if (rate_slots[i].window < oldest->window)
			oldest = &rate_slots[i];
	}
	if (slot == NULL) {
		/* A new URL takes the slot whose window started longest ago. */
		slot = oldest;
		snprintf(slot->url, sizeof(slot->url), "%s", url);
		slot->window = now;
		slot->count = 0;
	}
	if (now - slot->window >= window) {
		slot->window = now;
		slot->count = 0;
	}
	ok = slot->count < per_window;
	if (ok)
		slot->count++;
	else if (wait_s != NULL)
		*wait_s = window - (now - slot->window);
	pthread_mutex_unlock(&rate_lock);
	return ok;
}

/* Name/value pairs of a JSON object of strings (borrowed from it). */
static size_t
kv_from_json(struct json_object *obj, struct webhook_kv *kv, size_t max)
{
	size_t n = 0;

	if (!jsonread_is_object(obj))
		return 0;
	json_object_object_foreach(obj, k, v) {
		if (n == max || !json_object_is_type(v, json_type_string))
			continue;
		kv[n].key = k;
		kv[n].value = json_object_get_string(v);
		n++;
	}
	return n;
}

/* --- HTTP ----------------------------------------------------------------------------- */

int
notify_send_http(const char *url0, struct notify_http *h, const struct notify_send_ctx *ctx,
    char *err, size_t errlen)
{
	char *url = xstrdup(url0), reason[256], line[400];
	const char *method = h->method ? h->method : "POST";
	const char *body = h->body;
	double deadline = clock_monotonic() + (double)ctx->timeout_ms / 1000.0;
	int rc = -1;

	h->status = 0;
	for (int hop = 0; hop <= NOTIFY_SEND_MAX_REDIRECTS; hop++) {
		struct urlguard_target t;
		struct http_request *req;
		long left = (long)((deadline - clock_monotonic()) * 1000);

		if (urlguard_check(url, ctx->allowlist, &t, reason, sizeof(reason)) != 0) {
			snprintf(err, errlen, "%s URL refused: %s", hop ? "redirect" : h->label, reason);
			break;
		}
		if (left <= 0) {
			snprintf(err, errlen, "%s timed out", h->label);
			break;
		}
		req = http_request_new(url);
		urlguard_resolve_line(&t, line, sizeof(line));
		if (line[0])
			req->resolve = xstrdup(line);
		req->method = method;
		req->body = body ? xstrdup(body) : NULL;
		req->content_type = body ? h->content_type : NULL;
		req->max_response = NOTIFY_SEND_MAX_RESPONSE;
		req->timeout_ms = left;
		req->connect_timeout_ms = ctx->connect_timeout_ms < left ? ctx->connect_timeout_ms : left;
		req->tls = h->tls_insecure && t.https ? HTTP_TLS_INSECURE : HTTP_TLS_VERIFY;
		req->share = ctx->share;
		http_request_add_header(req, "User-Agent: %s",
		    h->user_agent ? h->user_agent : NOTIFY_SEND_USER_AGENT);
		for (size_t i = 0; i < h->header_count; i++) {
			/* A value still holding a template is not sent (§8.2). */
			if (strstr(h->headers[i].value, "{{") || !h->headers[i].key[0] ||
			    strpbrk(h->headers[i].key, ": \t\r\n"))
				continue;
			http_request_add_header(req, "%s: %s", h->headers[i].key, h->headers[i].value);
		}
		if (h->delivery_key)
			http_request_add_header(req, "X-Pulse-Delivery: %s", h->delivery_key);
		(void)http_perform(req);
		h->status = req->status;
		if (req->status >= 200 && req->status < 300 &&
		    (req->failure == HTTP_OK || req->failure == HTTP_FAIL_TOO_LARGE)) {
			rc = 0;
		} else if (req->status >= 300 && req->status < 400 && req->location &&
		    req->failure == HTTP_OK) {
			free(url);
			url = xstrdup(req->location);
			/* As browsers and Go do: 301, 302 and 303 go on as GET without the body. */
			if (req->status <= 303 && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
				method = "GET";
				body = NULL;
			}
			http_request_free(req);
			if (hop == NOTIFY_SEND_MAX_REDIRECTS)
				snprintf(err, errlen, "stopped after %d redirects", NOTIFY_SEND_MAX_REDIRECTS);
			continue;
		} else if (req->status > 0 && req->failure == HTTP_OK) {
			snprintf(err, errlen, "%s returned HTTP %ld: %.200s", h->label, req->status,
			    req->response.data ? req->response.data : "");
		} else {
			snprintf(err, errlen, "%s request failed: %s", h->label, req->error);
		}
		if (h->response && req->response.data)
			sb_append(h->response, req->response.data, req->response.len);
		http_request_free(req);
		break;
	}
	free(url);
	return rc;
}

/* The config members a webhook row holds (the original's WebhookConfig). */
struct webhook_row {
	struct webhook w;
	const char *method;
	struct webhook_kv headers[MAX_KV], fields[MAX_KV];
};

static void
webhook_from_json(struct json_object *cfg, struct webhook_row *wr)
{
	memset(wr, 0, sizeof(*wr));
	wr->w.name = jsonread_string(cfg, "name", "");
	wr->w.url = jsonread_string(cfg, "url", "");
	wr->w.service = jsonread_string(cfg, "service", "");
	wr->w.template = jsonread_string(cfg, "template", "");
	wr->method = jsonread_string(cfg, "method", "");
	if (!wr->method[0])
		wr->method = "POST";
	wr->w.header_count = kv_from_json(jsonread_member(cfg, "headers"), wr->headers, MAX_KV);
	wr->w.headers = wr->headers;
	wr->w.custom_field_count = kv_from_json(jsonread_member(cfg, "customFields"), wr->fields,
	    MAX_KV);
	wr->w.custom_fields = wr->fields;
}

static int
fail(struct nq_result *res, const char *msg)
{
	snprintf(res->error, sizeof(res->error), "%s", msg);
	res->success = 0;
	return -1;
}

/* Ntfy's Title, Priority and Tags headers of a test send (§8.2: only tests add them). */
static size_t
ntfy_test_headers(const struct alert *a, struct webhook_kv *kv, char *title, size_t tlen,
    char *tags, size_t glen)
{
	char level[16];
	size_t k;
	int critical = strcmp(a->level, "critical") == 0;

	snprintf(level, sizeof(level), "%s", a->level);
	for (k = 0; level[k]; k++)
		level[k] = (char)(level[k] >= 'a' && level[k] <= 'z' ? level[k] - 32 : level[k]);
	snprintf(title, tlen, "%s: %s", level, a->resource_name);
	snprintf(tags, glen, "%s,pulse,%s", critical ? "rotating_light" : "warning", a->type);
	kv[0].key = "Title";
	kv[0].value = title;
	kv[1].key = "Priority";
	kv[1].value = critical ? "urgent" : strcmp(a->level, "warning") == 0 ? "high" : "default";
	kv[2].key = "Tags";
	kv[2].value = tags;
	return 3;
}

int
notify_send_webhook_config(struct json_object *cfg, const struct alert *alerts, size_t n,
    const struct notify_send_how *how, const struct notify_send_ctx *ctx,
    struct nq_result *res)
{
	struct webhook_row wr;
	struct strbuf body = {0}, stripped = {0};
	struct notify_http h;
	struct webhook_kv headers[MAX_KV + 3];
	char err[WEBHOOK_ERR_LEN], chat_id[32], title[300], tags[100];
	const char *url;
	int plain = 0, rc = -1;
	double now = clock_wall();

	webhook_from_json(cfg, &wr);
	url = wr.w.url;
	snprintf(res->channel_name, sizeof(res->channel_name), "%s", wr.w.name);
	{
		char *t = notify_queue_redact_url(wr.w.url);
		snprintf(res->target, sizeof(res->target), "%s", t);
		free(t);
	}
	if (n == 0)
		return fail(res, "no alerts to send");
	/* Telegram: the chat id goes in the body, the request to the URL without it. */
	if (strcasecmp(wr.w.service, "telegram") == 0 &&
	    notify_webhook_telegram_chat_id(url, chat_id, sizeof(chat_id), &stripped) == 0 &&
	    stripped.data)
		url = stripped.data;
	if (!notify_send_rate_take(wr.w.url, ctx->rate_limit, ctx->rate_window_s, clock_monotonic(),
	    &res->defer_s)) {
		/* Not an attempt: the row waits for the next window (docs/COMPATIBILITY.md). */
		snprintf(res->error, sizeof(res->error), "rate limit exceeded for webhook %.200s",
		    wr.w.name);
		if (res->defer_s < 1)
			res->defer_s = 1;
		goto done;
	}
	memset(&h, 0, sizeof(h));
	h.label = "webhook";
	h.method = wr.method;
	memcpy(headers, wr.headers, wr.w.header_count * sizeof(headers[0]));
	h.headers = headers;
	h.header_count = wr.w.header_count;
	h.delivery_key = how->delivery_key;
	h.user_agent = how->user_agent;
	h.response = how->response;
	if (!how->resolved) {
		if (notify_webhook_payload(&wr.w, alerts, n, !how->single, ctx->public_url, now, &body,
		    &plain, err, sizeof(err)) != 0) {
			fail(res, err);
			goto done;
		}
		if (how->test && strcasecmp(wr.w.service, "ntfy") == 0)
			h.header_count += ntfy_test_headers(&alerts[0], headers + h.header_count, title,
			    sizeof(title), tags, sizeof(tags));
		h.body = body.data ? body.data : "";
		h.content_type = plain ? "text/plain" : "application/json";
		res->payload_bytes = (int)body.len;
		rc = notify_send_http(url, &h, ctx, res->error, sizeof(res->error));
		res->status_code = (int)h.status;
	} else {
		size_t count = notify_webhook_recovery_count(&wr.w, n);

		rc = 0;
		for (size_t k = 0; k < count && rc == 0; k++) {
			sb_reset(&body);
			if (notify_webhook_recovery(&wr.w, alerts, n, k, ctx->public_url, now, &body, err,
			    sizeof(err)) != 0) {
				rc = fail(res, err);
				break;
			}
			h.body = body.data ? body.data : "";
			h.content_type = "application/json";
			res->payload_bytes += (int)body.len;
			rc = notify_send_http(url, &h, ctx, res->error, sizeof(res->error));
			res->status_code = (int)h.status;
		}
	}
done:
	res->success = rc == 0;
	if (rc == 0)
		res->error[0] = '\0';
	sb_free(&body);
	sb_free(&stripped);
	return rc;
}

/* The row's configuration and alerts (at most MAX_ALERTS), or -1 with res failed. */
static int
row_open(const struct nq_row *row, struct nq_result *res, struct json_object **cfg,
    struct json_object **alerts_json, struct alert **alerts, size_t *n)
{
	*cfg = *alerts_json = NULL;
	*alerts = NULL;
	*n = 0;
	if (row->config == NULL)
		return fail(res, "the channel configuration cannot be decrypted (another secrets key?)");
	*cfg = jsonutil_parse(row->config, strlen(row->config), NULL, 0);
	*alerts_json = jsonutil_parse(row->alerts, strlen(row->alerts), NULL, 0);
	if (!jsonread_is_object(*cfg) || !jsonread_is_array(*alerts_json)) {
		json_object_put(*cfg);
		json_object_put(*alerts_json);
		*cfg = *alerts_json = NULL;
		return fail(res, "the queued row is not readable JSON");
	}
	*n = json_object_array_length(*alerts_json);
	if (*n > MAX_ALERTS)
		*n = MAX_ALERTS;
	if (*n > 0) {
		*alerts = xcalloc(*n, sizeof(**alerts));
		for (size_t i = 0; i < *n; i++)
			alert_from_json(json_object_array_get_idx(*alerts_json, i), &(*alerts)[i]);
	}
	return 0;
}

int
notify_send_row(const struct nq_row *row, const struct notify_send_ctx *ctx,
    struct nq_result *res)
{
	struct json_object *cfg, *alerts_json;
	struct alert *alerts;
	size_t n;
	int resolved = strstr(row->type, "_resolved") != NULL, rc = -1;

	/* An audit event for an audit webhook (src/audit.c): its own payload and headers. */
	if (strcmp(row->type, AUDIT_WEBHOOK_TYPE) == 0)
		return audit_webhook_send(row, ctx, res);
	memset(res, 0, sizeof(*res));
	if (row_open(row, res, &cfg, &alerts_json, &alerts, &n) != 0)
		return -1;
	if (strncmp(row->type, "webhook", 7) == 0) {
		struct notify_send_how how = { .resolved = resolved, .delivery_key = row->id };

		rc = notify_send_webhook_config(cfg, alerts, n, &how, ctx, res);
	} else if (strncmp(row->type, "email", 5) == 0) {
		struct notify_email_opts opts = {
			.connect_timeout_ms = ctx->connect_timeout_ms,
			.timeout_ms = ctx->timeout_ms,
			.ca_file = conf_str("smtp_ca_file"),
			.attempts = 1,	/* the queue retries */
		};

		snprintf(res->channel_name, sizeof(res->channel_name), "email");
		snprintf(res->target, sizeof(res->target), "%s", jsonread_string(cfg, "server", ""));
		rc = notify_email_send(cfg, alerts, n, resolved, ctx->public_url, row->id, &opts,
		    res->error, sizeof(res->error));
	} else if (strncmp(row->type, "apprise", 7) == 0) {
		snprintf(res->channel_name, sizeof(res->channel_name), "apprise");
		snprintf(res->target, sizeof(res->target), "%s",
		    jsonread_string(cfg, "mode", "cli"));
		rc = notify_apprise_send(cfg, alerts, n, resolved, ctx->public_url, ctx->allowlist,
		    res->error, sizeof(res->error));
	} else {
		fail(res, "unknown notification type");
	}
	res->success = rc == 0;
	if (rc == 0)
		res->error[0] = '\0';
	free(alerts);
	json_object_put(cfg);
	json_object_put(alerts_json);
	return rc;
}
