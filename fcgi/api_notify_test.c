/* api_notify_test.c: POST /api/notifications/test (alerts-notifications.md §9.1): a test
 * notification through email or apprise with a supplied configuration, sent within the
 * request; the saved-configuration branches go to notify_test_saved_config. */
#include "config.h"

#include "handlers.h"
#include "conf.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "notify_apprise.h"
#include "notify_email.h"
#include "notify_send.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* A test send runs inside the request: short timeouts, and at most this long for apprise
 * whatever its configured timeout. */
#define TEST_CONNECT_TIMEOUT_MS 5000L
#define TEST_SMTP_TIMEOUT_MS 15000L
#define TEST_SMTP_ATTEMPTS 2
#define TEST_SMTP_RETRY_DELAY_MS 1000L
#define TEST_APPRISE_TIMEOUT_S 30

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
 * never receives the saved one). Left to the notification configuration: until it fills
 * this, the test is sent without AUTH. */
static void
notify_test_stored_email_password(struct request *r, struct email_config *c)
{
	(void)r;
	(void)c;
}

/* The branches without a supplied configuration (saved email or apprise configuration, a
 * stored webhook by webhookId, the first enabled webhook). Left to the notification
 * configuration, which owns what is saved; until then they answer 400. */
static void
notify_test_saved_config(struct request *r, const char *method, const char *webhook_id)
{
	(void)webhook_id;
	resp_error(r, 400, "not_configured", "%s notifications are not configured", method);
}

static void
email_config_release(void *c)
{
	notify_email_config_clear(c);
}

static void
test_email_config(struct request *r, struct json_object *config)
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
		resp_error(r, 400, "not_enabled",
		    "email notifications are not enabled in the provided configuration");
		return;
	}
	if (c->server[0] == '\0' || c->from[0] == '\0') {
		resp_error(r, 400, "incomplete_config", "email configuration is incomplete: "
		    "SMTP host and from address are required");
		return;
	}
	if (c->password[0] == '\0')
		notify_test_stored_email_password(r, c);
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
test_apprise_config(struct request *r, struct json_object *config)
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
	if (!c->enabled) {
		resp_error(r, 400, "not_enabled", "apprise notifications are not enabled in the "
		    "provided configuration%s", c->http_mode && c->server_url[0] == '\0' ?
		    ": server URL is required for API mode" : !c->http_mode &&
		    c->target_count == 0 ? ": at least one target is required for CLI mode" : "");
		return;
	}
	if (c->timeout_seconds > TEST_APPRISE_TIMEOUT_S)
		c->timeout_seconds = TEST_APPRISE_TIMEOUT_S;
	if (notify_send_settings_load(r->db, &ctx) != 0) {
		resp_db_unavailable(r);
		return;
	}
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
		test_email_config(r, config);
	else if (config != NULL && strcmp(method, "apprise") == 0)
		test_apprise_config(r, config);
	else
		notify_test_saved_config(r, method, webhook_id);
}
