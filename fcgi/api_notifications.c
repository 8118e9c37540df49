/* api_notifications.c: the notification configuration endpoints (alerts-notifications.md §9):
 * email, apprise and webhooks (GET/PUT, CRUD), the built-in webhook templates, the email
 * provider presets, the webhook delivery history and the notification health. */
#include "config.h"

#include "audit.h"
#include "handlers.h"
#include "arena.h"
#include "crypto.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "notify_channels.h"
#include "notify_webhook.h"
#include "settings.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Answers what an update returned when it is not NOTIFY_OK; returns 1 when it answered. */
static int
answer_failure(struct request *r, enum notify_result rc, const char *id, const char *err)
{
	switch (rc) {
	case NOTIFY_OK:
		return 0;
	case NOTIFY_BAD_INPUT:
		resp_error(r, 400, "invalid_field", "%s", err);
		break;
	case NOTIFY_NOT_FOUND:
		resp_error(r, 404, "not_found", "webhook not found: %.200s", id);
		break;
	case NOTIFY_DB_ERROR:
		resp_db_unavailable(r);
		break;
	}
	return 1;
}

static void
answer_success(struct request *r)
{
	struct json_object *obj = resp_object(r);

	jsonwrite_str(obj, "status", "success");
	resp_json(r, 200, obj);
}

/* GET of the email or apprise configuration: as public shows it. */
static void
single_get(struct request *r, int (*load)(struct db *, struct json_object **),
    struct json_object *(*public)(struct json_object *))
{
	struct json_object *cfg;

	if (load(r->db, &cfg) != 0) {
		resp_db_unavailable(r);
		return;
	}
	req_json(r, cfg);
	resp_json(r, 200, req_json(r, public(cfg)));
}

void
api_notify_email_get(struct request *r)
{
	single_get(r, notify_email_load, notify_email_public);
}

void
api_notify_apprise_get(struct request *r)
{
	single_get(r, notify_apprise_load, notify_apprise_public);
}

/* PUT of the email or apprise configuration; *cfg is the saved one (the request's), NULL
 * after answering a failure. */
static struct json_object *
single_put(struct request *r, enum notify_result (*update)(struct db *, struct json_object *,
    struct json_object **, char *, size_t), const char *what)
{
	struct json_object *body = req_body_object(r, 0), *cfg = NULL;
	char err[256] = "";

	if (body == NULL)
		return NULL;
	if (answer_failure(r, update(r->db, body, &cfg, err, sizeof(err)), NULL, err))
		return NULL;
	log_info("msg=\"%s configuration updated\"", what);
	return req_json(r, cfg);
}

void
api_notify_email_put(struct request *r)
{
	if (single_put(r, notify_email_update, "email") != NULL) {
		audit_record(r->db, "notification_config_updated", r->auth.username, r->client_ip,
		    r->raw_path, 1, "Email configuration updated");
		answer_success(r);
	}
}

void
api_notify_apprise_put(struct request *r)
{
	struct json_object *cfg = single_put(r, notify_apprise_update, "apprise");

	if (cfg != NULL) {
		audit_record(r->db, "notification_config_updated", r->auth.username, r->client_ip,
		    r->raw_path, 1, "Apprise configuration updated");
		resp_json(r, 200, req_json(r, notify_apprise_public(cfg)));
	}
}

void
api_notify_webhooks_list(struct request *r)
{
	struct json_object *list, *out;
	size_t n;

	if (notify_webhooks_list(r->db, &list) != 0) {
		resp_db_unavailable(r);
		return;
	}
	req_json(r, list);
	out = req_json(r, json_object_new_array());
	n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++)
		json_object_array_add(out, notify_webhook_public(json_object_array_get_idx(list, i)));
	resp_json(r, 200, out);
}

/* The allowlist of private addresses webhooks may reach, into buf; -1 after answering. */
static int
allowlist_read(struct request *r, char *buf, size_t len)
{
	if (settings_get_string(r->db, SETTINGS_WEBHOOK_CIDRS, buf, len) != 0) {
		resp_db_unavailable(r);
		return -1;
	}
	return 0;
}

/* The answer of a create or update: the webhook as the list shows it (secrets masked). */
static void
answer_webhook(struct request *r, struct json_object *cfg, const char *what)
{
	const char *id = json_object_get_string(json_object_object_get(cfg, "id"));

	req_json(r, cfg);
	log_info("msg=\"webhook %s\" id=%s", what, id);
	audit_record(r->db, "notification_config_updated", r->auth.username, r->client_ip,
	    r->raw_path, 1, arena_printf(r->arena, "Webhook %s: %.100s", what, id ? id : ""));
	resp_json(r, 200, req_json(r, notify_webhook_public(cfg)));
}

void
api_notify_webhooks_create(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *cfg = NULL;
	char err[256] = "", allow[4096];

	if (body == NULL || allowlist_read(r, allow, sizeof(allow)) != 0)
		return;
	if (answer_failure(r, notify_webhook_create(r->db, body, allow, &cfg, err, sizeof(err)),
	    NULL, err))
		return;
	answer_webhook(r, cfg, "created");
}

void
api_notify_webhook_update(struct request *r)
{
	const char *id = req_path_param(r, "id");
	struct json_object *body = req_body_object(r, 0), *cfg = NULL;
	char err[256] = "", allow[4096];

	if (body == NULL || allowlist_read(r, allow, sizeof(allow)) != 0)
		return;
	if (answer_failure(r, notify_webhook_update(r->db, id, body, allow, &cfg, err,
	    sizeof(err)), id, err))
		return;
	answer_webhook(r, cfg, "updated");
}

void
api_notify_webhook_delete(struct request *r)
{
	const char *id = req_path_param(r, "id");

	if (answer_failure(r, notify_webhook_delete(r->db, id), id, NULL))
		return;
	log_info("msg=\"webhook deleted\" id=%.200s", id);
	audit_record(r->db, "notification_config_updated", r->auth.username, r->client_ip,
	    r->raw_path, 1, arena_printf(r->arena, "Webhook deleted: %.100s", id));
	answer_success(r);
}

/* Setup hints for the built-in templates, in our own words, by service. */
static const struct {
	const char *service, *text;
} template_instructions[] = {
	{"discord", "In the Discord channel settings open Integrations, then Webhooks, create a "
	    "webhook and paste its URL here."},
	{"telegram", "Create a bot with @BotFather and use its token in the URL. Add "
	    "?chat_id=<numeric chat id> to the URL; the id of a group starts with '-'."},
	{"slack", "Add the Incoming Webhooks app to your Slack workspace, pick a channel and paste "
	    "the webhook URL it gives you."},
	{"teams", "In the Teams channel add the Incoming Webhook connector (or a Workflows "
	    "webhook) and paste its URL."},
	{"pagerduty", "Add an Events API v2 integration to a PagerDuty service and put its "
	    "integration key in a custom field (or header) named routing_key."},
	{"teams-adaptive", "As for Microsoft Teams; the message is sent as an Adaptive Card, which "
	    "Workflows webhooks expect."},
	{"pushover", "Create an application at pushover.net and set the custom fields app_token "
	    "(the application token) and user_token (your user key)."},
	{"gotify", "Create an application in Gotify and put your server's address and the "
	    "application token in the URL."},
	{"ntfy", "Choose a topic name and put it at the end of the URL; use your own server's "
	    "address if you host ntfy yourself."},
	{"generic", "Any endpoint that accepts a JSON POST: the alert is sent as JSON; add "
	    "headers for its authentication."},
};

static const char *
instructions_of(const char *service)
{
	for (size_t i = 0; i < ARRAY_LEN(template_instructions); i++)
		if (strcmp(template_instructions[i].service, service) == 0)
			return template_instructions[i].text;
	return "";
}

void
api_notify_webhook_templates(struct request *r)
{
	struct json_object *out = req_json(r, json_object_new_array());

	for (size_t i = 0; i < webhook_service_count; i++) {
		const struct webhook_service *s = &webhook_services[i];
		struct json_object *o = json_object_new_object(), *headers;

		jsonwrite_str(o, "service", s->service);
		jsonwrite_str(o, "name", s->name);
		jsonwrite_str(o, "urlPattern", s->url_pattern);
		jsonwrite_str(o, "method", "POST");
		headers = json_object_new_object();
		jsonwrite_str(headers, "Content-Type", s->plain_text ? "text/plain" :
		    "application/json");
		if (s->accept != NULL)
			jsonwrite_str(headers, "Accept", s->accept);
		json_object_object_add(o, "headers", headers);
		jsonwrite_str(o, "payloadTemplate", s->payload);
		jsonwrite_str(o, "instructions", instructions_of(s->service));
		json_object_array_add(out, o);
	}
	resp_json(r, 200, out);
}

/* The SMTP presets of §8.1; the hints are our own. */
static const struct {
	const char *name, *host, *text;
} email_providers[] = {
	{"Gmail / Google Workspace", "smtp.gmail.com", "Turn on 2-step verification, create an "
	    "app password and use it with your full email address as the username."},
	{"SendGrid", "smtp.sendgrid.net", "The username is the word apikey; the password is a "
	    "SendGrid API key allowed to send mail."},
	{"Mailgun", "smtp.mailgun.org", "Use the SMTP credentials of your sending domain; for the "
	    "EU region the host is smtp.eu.mailgun.org."},
	{"Amazon SES (US East)", "email-smtp.us-east-1.amazonaws.com", "Create SES SMTP "
	    "credentials (not your AWS keys); other regions have their own host names."},
	{"Microsoft 365 / Outlook", "smtp.office365.com", "Use an app password; an administrator "
	    "may have to allow authenticated SMTP for the mailbox."},
	{"Brevo (formerly Sendinblue)", "smtp-relay.brevo.com", "Use your account's email "
	    "address and the SMTP key from the Brevo settings."},
	{"Postmark", "smtp.postmarkapp.com", "Use a server API token as both the username and the "
	    "password."},
	{"SparkPost", "smtp.sparkpostmail.com", "The username is SMTP_Injection and the password "
	    "an API key with sending rights; EU accounts use the EU host."},
	{"Resend", "smtp.resend.com", "The username is resend and the password a Resend API "
	    "key."},
	{"SMTP2GO", "mail.smtp2go.com", "Use an SMTP user created in the SMTP2GO console."},
	{"Custom SMTP Server", "", "Enter your server: port 25 for plain SMTP, 587 for STARTTLS, "
	    "465 for implicit TLS."},
};

void
api_notify_email_providers(struct request *r)
{
	struct json_object *out = req_json(r, json_object_new_array());

	for (size_t i = 0; i < ARRAY_LEN(email_providers); i++) {
		struct json_object *o = json_object_new_object();

		jsonwrite_str(o, "name", email_providers[i].name);
		jsonwrite_str(o, "smtpHost", email_providers[i].host);
		jsonwrite_int(o, "smtpPort", 587);
		jsonwrite_bool(o, "tls", 0);
		jsonwrite_bool(o, "startTLS", 1);
		jsonwrite_bool(o, "authRequired", 1);
		jsonwrite_str(o, "instructions", email_providers[i].text);
		json_object_array_add(out, o);
	}
	resp_json(r, 200, out);
}

static const struct db_stmt stmt_webhook_history = {
	"notify_webhook_history",
	"SELECT d.channel_name, d.target, coalesce(c.service, ''), coalesce(d.alert_ids[1], ''), "
	"extract(epoch FROM d.at), coalesce(d.status_code, 0), d.success, coalesce(d.error, ''), "
	"greatest(d.attempt - 1, 0), coalesce(d.payload_bytes, 0) "
	"FROM pulse.notification_deliveries d LEFT JOIN pulse.notification_channels c "
	"ON c.kind = 'webhook' AND c.id = d.channel_id "
	"WHERE d.type IN ('webhook', 'webhook_resolved') ORDER BY d.seq DESC LIMIT 100", 0,
};

void
api_notify_webhook_history(struct request *r)
{
	PGresult *res = req_result(r, db_exec_stmt(r->db, &stmt_webhook_history, NULL));
	struct json_object *out;

	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	out = req_json(r, json_object_new_array());
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *o = json_object_new_object();
		char *url = notify_redact_url(PQgetvalue(res, i, 1));

		jsonwrite_str(o, "webhookName", PQgetvalue(res, i, 0));
		jsonwrite_str(o, "webhookUrl", url);
		free(url);
		jsonwrite_str(o, "service", PQgetvalue(res, i, 2));
		jsonwrite_str(o, "alertId", PQgetvalue(res, i, 3));
		jsonwrite_time(o, "timestamp", strtod(PQgetvalue(res, i, 4), NULL));
		jsonwrite_int(o, "statusCode", db_value_int32(res, i, 5));
		jsonwrite_bool(o, "success", PQgetvalue(res, i, 6)[0] == 't');
		jsonwrite_opt_str(o, "errorMessage", PQgetvalue(res, i, 7));
		jsonwrite_int(o, "retryAttempts", db_value_int32(res, i, 8));
		jsonwrite_int(o, "payloadSize", db_value_int32(res, i, 9));
		json_object_array_add(out, o);
	}
	resp_json(r, 200, out);
}

/* The queue's rows by status over the window of the queue statistics (§10.4): unfinished,
 * or finished within the last 24 hours. */
static const struct db_stmt stmt_queue_counts = {
	"notify_health_queue",
	"SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = "
	"'sending'), count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = "
	"'failed'), count(*) FILTER (WHERE status = 'dlq') FROM pulse.notification_queue "
	"WHERE completed_at IS NULL OR completed_at > now() - interval '24 hours'", 0,
};

void
api_notify_health(struct request *r)
{
	static const char *const statuses[] = {"pending", "sending", "sent", "failed", "dlq"};
	PGresult *res = req_result(r, db_exec_stmt(r->db, &stmt_queue_counts, NULL));
	struct json_object *obj, *o;
	int email_enabled, email_configured, total, enabled;

	if (res == NULL || notify_channels_counts(r->db, &email_enabled, &email_configured,
	    &total, &enabled) != 0) {
		resp_db_unavailable(r);
		return;
	}
	obj = resp_object(r);
	o = json_object_new_object();
	for (size_t i = 0; i < ARRAY_LEN(statuses); i++)
		jsonwrite_int(o, statuses[i], db_value_int32(res, 0, (int)i));
	jsonwrite_bool(o, "healthy", 1);
	json_object_object_add(obj, "queue", o);
	o = json_object_new_object();
	jsonwrite_bool(o, "enabled", email_enabled);
	jsonwrite_bool(o, "configured", email_configured);
	json_object_object_add(obj, "email", o);
	o = json_object_new_object();
	jsonwrite_int(o, "total", total);
	jsonwrite_int(o, "enabled", enabled);
	json_object_object_add(obj, "webhooks", o);
	o = json_object_new_object();
	jsonwrite_bool(o, "enabled", secrets_ready());
	json_object_object_add(obj, "encryption", o);
	jsonwrite_bool(obj, "overall_healthy", 1);
	resp_json(r, 200, obj);
}
