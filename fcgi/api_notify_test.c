/* api_notify_test.c: the test sends, within the request (alerts-notifications.md §9.1, §9.2):
 * POST /api/notifications/test (email or apprise with a supplied configuration, or the saved
 * email, apprise or webhook configuration) and POST /api/notifications/webhooks/test (an
 * unsaved webhook). Webhooks go through the queue's delivery code (notify_send). And the
 * legacy POST /api/test-notification: a test alert queued to every enabled channel. */
#include "config.h"

#include "handlers.h"
#include "alert_dispatch.h"
#include "conf.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "notify_apprise.h"
#include "notify_channels.h"
#include "notify_email.h"
#include "notify_send.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* A test send runs inside the request: short timeouts, and at most this long for apprise
 * whatever its configured timeout. */
#define TEST_CONNECT_TIMEOUT_MS 5000L
#define TEST_SMTP_TIMEOUT_MS 15000L
#define TEST_SMTP_ATTEMPTS 2
#define TEST_SMTP_RETRY_DELAY_MS 1000L
#define TEST_APPRISE_TIMEOUT_S 30
#define TEST_WEBHOOK_TIMEOUT_MS 10000L

static void
answer_sent(struct request *r)
{
	struct json_object *o = resp_object(r);

	jsonwrite_str(o, "status", "success");
	jsonwrite_str(o, "message", "Test notification sent");
	resp_json(r, 200, o);
}

/* The test alert of §9.1: cpu, warning, value/threshold as given, started at start. */
static void
test_alert(struct alert *a, const char *id, const char *resource, const char *node,
    double value, double threshold, double start)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "%s", id);
	snprintf(a->type, sizeof(a->type), "cpu");
	snprintf(a->level, sizeof(a->level), "warning");
	snprintf(a->resource_id, sizeof(a->resource_id), "%s", id);
	snprintf(a->resource_name, sizeof(a->resource_name), "%s", resource);
	snprintf(a->node, sizeof(a->node), "%s", node);
	snprintf(a->instance, sizeof(a->instance), "%s", node);
	snprintf(a->message, sizeof(a->message),
	    "This is a test alert from Pulse: CPU usage %.1f%% is above %.0f%%", value, threshold);
	a->value = value;
	a->threshold = threshold;
	a->start_time = start;
	a->last_seen = start;
}

/* The stored SMTP password for a supplied configuration whose password is empty (the UI
 * never receives the saved one). 0, or -1 after answering 503. */
static int
notify_test_stored_email_password(struct request *r, struct email_config *c)
{
	struct json_object *stored = NULL;
	const char *pw;

	if (notify_email_load(r->db, &stored) != 0) {
		resp_db_unavailable(r);
		return -1;
	}
	pw = jsonread_string(stored, "password", "");
	snprintf(c->password, sizeof(c->password), "%s", pw);
	json_object_put(stored);
	return 0;
}

/* The settings a test send reads (allowlist, publicURL) and its limits; -1 after 503. */
static int
test_ctx(struct request *r, struct notify_send_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	if (notify_send_settings_load(r->db, ctx) != 0) {
		resp_db_unavailable(r);
		return -1;
	}
	ctx->timeout_ms = TEST_WEBHOOK_TIMEOUT_MS;
	ctx->connect_timeout_ms = TEST_CONNECT_TIMEOUT_MS;
	ctx->rate_limit = 0;
	return 0;
}

static void test_email_config(struct request *r, struct json_object *config, int saved);
static void test_apprise_config(struct request *r, struct json_object *config, int saved);

/* A stored webhook sent now through the queue's delivery code (single-alert payload). We
 * answer a failed delivery with 400 where the original only logs it (docs/COMPATIBILITY.md). */
static void
test_stored_webhook(struct request *r, struct json_object *cfg, const struct alert *a)
{
	struct notify_send_ctx ctx;
	struct notify_send_how how = { .single = 1 };
	struct nq_result res;

	if (test_ctx(r, &ctx) != 0)
		return;
	memset(&res, 0, sizeof(res));
	if (notify_send_webhook_config(cfg, a, 1, &how, &ctx, &res) != 0) {
		log_warn("msg=\"test webhook failed\" target=\"%s\" error=\"%s\"", res.target, res.error);
		resp_error(r, 400, "notification_failed", "failed to send webhook: %s", res.error);
		return;
	}
	answer_sent(r);
}

/* The branches without a supplied configuration (§9.1): the saved email or apprise
 * configuration, a stored webhook by webhookId, the first enabled webhook. */
static void
notify_test_saved_config(struct request *r, const char *method, const char *webhook_id)
{
	struct json_object *cfg = NULL;
	struct alert a;

	if (strcmp(method, "email") == 0 || strcmp(method, "apprise") == 0) {
		int email = method[0] == 'e';

		if ((email ? notify_email_load(r->db, &cfg) : notify_apprise_load(r->db, &cfg)) != 0) {
			resp_db_unavailable(r);
			return;
		}
		req_json(r, cfg);
		if (email)
			test_email_config(r, cfg, 1);
		else
			test_apprise_config(r, cfg, 1);
		return;
	}
	if (webhook_id != NULL && webhook_id[0] != '\0') {
		char id[160];

		switch (notify_webhook_get(r->db, webhook_id, &cfg)) {
		case NOTIFY_OK:
			break;
		case NOTIFY_NOT_FOUND:
			resp_error(r, 404, "not_found", "Webhook not found");
			return;
		default:
			resp_db_unavailable(r);
			return;
		}
		req_json(r, cfg);
		snprintf(id, sizeof(id), "test-webhook-%.140s", webhook_id);
		test_alert(&a, id, "Test Alert", "pve-node-01", 85.5, 80, clock_wall() - 300);
		test_stored_webhook(r, cfg, &a);
		return;
	}
	{
		struct json_object *list = NULL, *first = NULL;
		size_t n;

		if (notify_webhooks_list(r->db, &list) != 0) {
			resp_db_unavailable(r);
			return;
		}
		req_json(r, list);
		n = json_object_array_length(list);
		for (size_t i = 0; i < n && first == NULL; i++) {
			struct json_object *w = json_object_array_get_idx(list, i);

			if (jsonread_bool(w, "enabled", 0))
				first = w;
		}
		if (first == NULL) {
			resp_error(r, 400, "not_configured", "%s", n == 0 ? "no webhooks configured" :
			    "no enabled webhooks found");
			return;
		}
		test_alert(&a, "test-alert", "Test Resource", "pve-node-01", 95.5, 90,
		    clock_wall() - 300);
		test_stored_webhook(r, first, &a);
	}
}

static void
email_config_release(void *c)
{
	notify_email_config_clear(c);
}

static void
test_email_config(struct request *r, struct json_object *config, int saved)
{
	struct email_config *c = arena_zalloc(r->arena, sizeof(*c));
	struct notify_email_opts opts = {
		.connect_timeout_ms = TEST_CONNECT_TIMEOUT_MS,
		.timeout_ms = TEST_SMTP_TIMEOUT_MS,
		.ca_file = conf_str("smtp_ca_file"),
		.attempts = TEST_SMTP_ATTEMPTS,
		.retry_delay_ms = TEST_SMTP_RETRY_DELAY_MS,
	};
	char err[EMAIL_ERR_LEN];
	struct alert a;
	int rc;

	arena_defer(r->arena, email_config_release, c);
	if (notify_email_config_parse(config, c, err, sizeof(err)) != 0) {
		resp_error(r, 400, "invalid_field", "invalid email configuration: %s", err);
		return;
	}
	if (!c->enabled) {
		resp_error(r, 400, "not_enabled", "email notifications are not enabled%s",
		    saved ? "" : " in the provided configuration");
		return;
	}
	if (c->server[0] == '\0' || c->from[0] == '\0') {
		resp_error(r, 400, "incomplete_config", "email configuration is incomplete: "
		    "SMTP host and from address are required");
		return;
	}
	if (!saved && c->password[0] == '\0' && notify_test_stored_email_password(r, c) != 0)
		return;
	if (saved)
		test_alert(&a, "test-alert", "Test Resource", "pve-node-01", 95.5, 90,
		    clock_wall() - 300);
	else
		test_alert(&a, "test-alert", "Email Configuration Test", "", 85.5, 80, clock_wall());
	rc = notify_email_send_test(c, &a, &opts, err, sizeof(err));
	if (rc != 0) {
		log_warn("test email failed: server=%s port=%d: %s", c->server, c->port, err);
		resp_error(r, 400, "notification_failed", "failed to send email: %s", err);
		return;
	}
	answer_sent(r);
}

static void
apprise_config_release(void *c)
{
	notify_apprise_config_free(c);
}

static void
test_apprise_config(struct request *r, struct json_object *config, int saved)
{
	struct apprise_config *c = arena_zalloc(r->arena, sizeof(*c));
	struct notify_send_ctx ctx;
	char err[APPRISE_ERR_LEN];
	struct alert a;
	int rc;

	arena_defer(r->arena, apprise_config_release, c);
	rc = notify_apprise_config_parse(config, c, err, sizeof(err));
	if (rc != 0) {
		resp_error(r, 400, "invalid_field", "invalid apprise configuration: %s", err);
		return;
	}
	if (saved && !c->enabled) {
		resp_error(r, 400, "not_enabled", "apprise notifications are not enabled");
		return;
	}
	if (!c->enabled) {
		resp_error(r, 400, "not_enabled", "apprise notifications are not enabled in the "
		    "provided configuration%s", c->http_mode && c->server_url[0] == '\0' ?
		    ": server URL is required for API mode" : !c->http_mode &&
		    c->target_count == 0 ? ": at least one target is required for CLI mode" : "");
		return;
	}
	if (c->timeout_seconds > TEST_APPRISE_TIMEOUT_S)
		c->timeout_seconds = TEST_APPRISE_TIMEOUT_S;
	if (test_ctx(r, &ctx) != 0)
		return;
	test_alert(&a, "test-alert", "Test Resource", "pve-node-01", 95.5, 90,
	    clock_wall() - 300);
	if (notify_apprise_send_config(c, &a, 1, 0, NULL, ctx.allowlist, err, sizeof(err)) != 0) {
		log_warn("test apprise notification failed: mode=%s: %s",
		    c->http_mode ? "http" : "cli", err);
		resp_error(r, 400, "notification_failed", "failed to send apprise notification: %s",
		    err);
		return;
	}
	answer_sent(r);
}

/* A string member of body, or NULL; -1 after answering 400 for another type. */
static int
body_string(struct request *r, struct json_object *body, const char *key, const char **out)
{
	*out = NULL;
	if (jsonutil_get_string(body, key, out) == JSONUTIL_WRONG_TYPE) {
		resp_error(r, 400, "invalid_field", "%s must be a string", key);
		return -1;
	}
	return 0;
}

void
api_notifications_test(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *config = NULL;
	const char *method, *type, *webhook_id;

	if (body == NULL)
		return;
	if (body_string(r, body, "method", &method) != 0 ||
	    body_string(r, body, "type", &type) != 0 ||
	    body_string(r, body, "webhookId", &webhook_id) != 0)
		return;
	if (jsonutil_get_object(body, "config", &config) == JSONUTIL_WRONG_TYPE) {
		resp_error(r, 400, "invalid_field", "config must be an object");
		return;
	}
	if (method == NULL || method[0] == '\0')
		method = type != NULL ? type : "";
	if (strcmp(method, "email") != 0 && strcmp(method, "apprise") != 0 &&
	    strcmp(method, "webhook") != 0) {
		resp_error(r, 400, "unknown_method", "unknown notification method: %.64s", method);
		return;
	}
	if (config != NULL && strcmp(method, "email") == 0)
		test_email_config(r, config, 0);
	else if (config != NULL && strcmp(method, "apprise") == 0)
		test_apprise_config(r, config, 0);
	else
		notify_test_saved_config(r, method, webhook_id);
}

/* POST /api/notifications/webhooks/test (§9.2): an unsaved WebhookConfig, checked as a save
 * would check it (§8.3 included), sent once now with the test alert through the queue's
 * delivery code; the receiver's status and answer come back. */
void
api_notify_webhooks_test(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *cfg, *o;
	struct notify_send_ctx ctx;
	struct notify_send_how how = { .single = 1, .test = 1,
		.user_agent = NOTIFY_SEND_USER_AGENT " (Test)" };
	struct strbuf answer = { 0 };
	struct nq_result res;
	struct alert a;
	char err[256] = "", id[64], stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	if (body == NULL || test_ctx(r, &ctx) != 0)
		return;
	if (jsonread_string(body, "service", "")[0] == '\0')
		jsonwrite_str(body, "service", "generic");
	cfg = req_json(r, notify_webhook_from_json(body, NULL, ctx.allowlist, err, sizeof(err)));
	if (cfg == NULL) {
		resp_error(r, 400, "invalid_field", "%s", err);
		return;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(id, sizeof(id), "test-%s", stamp);
	test_alert(&a, id, "Test VM", "pve-node-01", 85.5, 80, clock_wall() - 120);
	how.response = &answer;
	memset(&res, 0, sizeof(res));
	if (notify_send_webhook_config(cfg, &a, 1, &how, &ctx, &res) == 0) {
		o = resp_object(r);
		jsonwrite_int(o, "status", res.status_code);
		jsonwrite_str(o, "response", answer.data ? answer.data : "");
		jsonwrite_bool(o, "success", 1);
		resp_json(r, 200, o);
	} else if (res.status_code >= 200 && res.status_code != 0 &&
	    (res.status_code < 300 || res.status_code >= 400)) {
		struct json_object *extra = req_json(r, json_object_new_object());
		char *msg = xasprintf("Webhook returned HTTP %d: %.1024s", res.status_code,
		    answer.data ? answer.data : "");

		jsonwrite_int(extra, "status", res.status_code);
		jsonwrite_bool(extra, "success", 0);
		resp_error_with(r, 400, "webhook_failed", msg, extra);
		free(msg);
	} else {
		resp_error(r, 400, "webhook_failed", "%s", res.error);
	}
	sb_free(&answer);
}

/* POST /api/test-notification (legacy): the saved-configuration test alert queued to every
 * enabled channel at once, past gates, grouping and cooldown; the queue delivers it like any
 * alert. The original only broadcast a WebSocket event (docs/COMPATIBILITY.md). */
void
api_test_notification(struct request *r)
{
	struct json_object *o;
	struct alert a;
	double now = (double)time(NULL);
	int n;

	test_alert(&a, "test-alert", "Test Resource", "pve-node-01", 95.5, 90, now - 300);
	if ((n = alert_dispatch_test(r->db, &a, now)) < 0) {
		resp_db_unavailable(r);
		return;
	}
	o = resp_object(r);
	jsonwrite_str(o, "status", "notification sent");
	jsonwrite_int(o, "queued", n);
	resp_json(r, 200, o);
}
