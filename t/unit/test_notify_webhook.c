/* test_notify_webhook.c: webhook payloads: every service's template for a warning, a critical
 * alert and a group of three, parsed back and checked; generic and recovery payloads; the
 * Telegram chat_id rules; bad custom templates. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "notify_webhook.h"
#include "tap.h"

#define NOW 1767225600.0	/* 2026-01-01T00:00:00Z */

static struct alert alerts[3];
static struct json_object *meta;
static char err[WEBHOOK_ERR_LEN];

static void
make_alerts(void)
{
	static const char *const names[] = { "web-01", "db-02", "cache-03" };

	meta = json_object_new_object();
	json_object_object_add(meta, "resourceType", json_object_new_string("VM"));
	json_object_object_add(meta, "monitorOnly", json_object_new_boolean(0));
	for (int i = 0; i < 3; i++) {
		struct alert *a = &alerts[i];

		memset(a, 0, sizeof(*a));
		snprintf(a->id, sizeof(a->id), "pve1-node1-10%d-cpu", i);
		snprintf(a->type, sizeof(a->type), "%s", i == 2 ? "diskRead" : "cpu");
		snprintf(a->level, sizeof(a->level), "warning");
		snprintf(a->resource_id, sizeof(a->resource_id), "pve1-node1-10%d", i);
		snprintf(a->resource_name, sizeof(a->resource_name), "%s", names[i]);
		snprintf(a->node, sizeof(a->node), "node1");
		snprintf(a->instance, sizeof(a->instance), "pve1");
		/* quotes, a backslash and a newline: must not break any JSON template */
		snprintf(a->message, sizeof(a->message), "VM CPU at %d%% \"hot\" \\ now\nsecond", 91 + i);
		a->value = 91.26 + i;
		a->threshold = 90;
		a->start_time = NOW - 3725;	/* 1h 2m */
		a->last_seen = NOW;
		a->metadata = meta;
	}
}

/* The member at path ("a.0.b": keys and array indexes) of o, or NULL. */
static struct json_object *
get(struct json_object *o, const char *path)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *tok = strtok_r(buf, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)atoi(tok));
		else if (!json_object_object_get_ex(o, tok, &o))
			o = NULL;
	}
	return o;
}

static const char *
get_str(struct json_object *o, const char *path)
{
	struct json_object *v = get(o, path);

	return v ? json_object_get_string(v) : "(missing)";
}

/* Renders service over alerts[0..n) and parses the result (NULL on failure). */
static struct json_object *
render(const char *service, const char *tpl, size_t n, const char *url)
{
	static const struct webhook_kv custom[] = {
		{ "routing_key", "R0UT1NG" }, { "app_token", "APPTOK" }, { "user_token", "USERTOK" }
	};
	struct webhook w = { "hook", url, service, tpl, NULL, 0, custom, ARRAY_LEN(custom) };
	struct strbuf sb = {0};
	struct json_object *o;
	int plain;

	if (notify_webhook_payload(&w, alerts, n, 1, "https://pulse.example/", NOW, &sb, &plain,
	    err, sizeof(err)) < 0) {
		sb_free(&sb);
		return NULL;
	}
	o = json_tokener_parse(sb.data);
	sb_free(&sb);
	return o;
}

struct service_check {
	const char *service;
	const char *path;	/* a member that depends on the level */
	const char *warning, *critical;
	const char *message_path;	/* where the message goes */
};

static const struct service_check checks[] = {
	{ "discord", "embeds.0.color", "15105570", "15158332", "embeds.0.description" },
	{ "telegram", "text", NULL, NULL, "text" },
	{ "slack", "text", "Pulse Alert: Warning - web-01", "Pulse Alert: Critical - web-01",
	  "blocks.1.text.text" },
	{ "teams", "themeColor", "FFA500", "FF0000", "sections.0.activitySubtitle" },
	{ "teams-adaptive", "attachments.0.content.body.0.color", "Warning", "Attention",
	  "attachments.0.content.body.1.text" },
	{ "pagerduty", "payload.severity", "warning", "critical", "payload.summary" },
	{ "pushover", "priority", "0", "1", "message" },
	{ "gotify", "priority", "5", "10", "message" },
};

static void
test_services(void)
{
	const char *url = "https://api.telegram.org/botX/sendMessage?chat_id=-100123";

	for (size_t i = 0; i < ARRAY_LEN(checks); i++) {
		const struct service_check *c = &checks[i];
		struct json_object *o;

		for (int crit = 0; crit < 2; crit++) {
			snprintf(alerts[0].level, sizeof(alerts[0].level), crit ? "critical" : "warning");
			o = render(c->service, NULL, 1, url);
			ok(o != NULL, "%s %s: valid JSON (%s)", c->service, alerts[0].level,
			    o ? "" : err);
			if (c->warning != NULL)
				is_str(get_str(o, c->path), crit ? c->critical : c->warning,
				    "%s %s: %s", c->service, alerts[0].level, c->path);
			ok(strstr(get_str(o, c->message_path), "\"hot\" \\ now\nsecond") != NULL,
			    "%s: message with quotes and newline intact", c->service);
			json_object_put(o);
		}
		snprintf(alerts[0].level, sizeof(alerts[0].level), "warning");
		o = render(c->service, NULL, 3, url);
		ok(o != NULL, "%s group: valid JSON", c->service);
		if (strcmp(c->service, "discord") == 0)
			ok(strstr(get_str(o, c->message_path),
			    " | 3 alerts: \xe2\x80\xa2 web-01: 91.3%, \xe2\x80\xa2 db-02: 92.3%, "
			    "\xe2\x80\xa2 cache-03: 93.3 MB/s") != NULL, "discord group on one line");
		else
			ok(strstr(get_str(o, c->message_path), "\n\nAll 3 alerts:\n\xe2\x80\xa2 web-01: "
			    "91.3%\n\xe2\x80\xa2 db-02: 92.3%\n\xe2\x80\xa2 cache-03: 93.3 MB/s") != NULL,
			    "%s group list in the message", c->service);
		json_object_put(o);
	}
	/* Service specifics. */
	{
		struct json_object *o = render("telegram", NULL, 1, url);

		is_str(get_str(o, "chat_id"), "-100123", "telegram chat_id from the URL");
		is_str(get_str(o, "parse_mode"), "Markdown", "telegram parse_mode");
		ok(strstr(get_str(o, "text"), "[View in Pulse](https://pulse.example)") != NULL,
		    "telegram link to the public URL, trailing slash trimmed");
		json_object_put(o);
		o = render("pagerduty", NULL, 1, NULL);
		is_str(get_str(o, "routing_key"), "R0UT1NG", "pagerduty routing_key");
		is_str(get_str(o, "event_action"), "trigger", "pagerduty trigger");
		is_str(get_str(o, "dedup_key"), "pve1-node1-100-cpu", "pagerduty dedup_key");
		is_str(get_str(o, "payload.custom_details.resource_type"), "VM", "resource type");
		is_str(get_str(o, "payload.custom_details.duration"), "1h 2m", "duration");
		is_str(get_str(o, "payload.source"), "node1", "source is the node");
		json_object_put(o);
		o = render("pushover", NULL, 1, NULL);
		is_str(get_str(o, "token"), "APPTOK", "pushover token from app_token");
		is_str(get_str(o, "user"), "USERTOK", "pushover user from user_token");
		is_str(get_str(o, "sound"), "tugboat", "pushover warning sound");
		is_str(get_str(o, "timestamp"), "1767225600", "pushover unix timestamp");
		json_object_put(o);
		o = render("gotify", NULL, 1, NULL);
		is_str(get_str(o, "extras.pulse::alert.value"), "91.3", "gotify value rounded");
		is_str(get_str(o, "extras.client::display.contentType"), "text/markdown", "markdown");
		json_object_put(o);
		o = render("discord", NULL, 1, NULL);
		is_str(get_str(o, "embeds.0.fields.3.value"), "91.3%", "discord value formatted");
		is_str(get_str(o, "embeds.0.fields.4.value"), "90%", "discord threshold formatted");
		is_str(get_str(o, "embeds.0.timestamp"), "2026-01-01T00:00:00Z", "timestamp");
		json_object_put(o);
		o = render("generic", NULL, 1, NULL);
		is_int(json_object_get_int(get(o, "count")), 1, "service generic: grouped JSON");
		is_str(get_str(o, "alerts.0.id"), "pve1-node1-100-cpu", "generic alert id");
		json_object_put(o);
		o = render("nosuch", NULL, 3, NULL);
		is_int(json_object_get_int(get(o, "count")), 3, "unknown service: generic JSON");
		is_str(get_str(o, "source"), "pulse-monitoring", "generic source");
		ok(json_object_get_boolean(get(o, "grouped")), "generic grouped");
		is_str(get_str(o, "alerts.2.resourceName"), "cache-03", "generic third alert");
		is_str(get_str(o, "alerts.0.metadata.resourceType"), "VM", "generic metadata");
		json_object_put(o);
	}
}

static void
test_ntfy_and_single(void)
{
	struct webhook w = { "n", "https://ntfy.sh/t", "ntfy", "", NULL, 0, NULL, 0 };
	struct strbuf sb = {0};
	int plain = 0;

	ok(notify_webhook_payload(&w, alerts, 1, 1, NULL, NOW, &sb, &plain, err, sizeof(err)) == 0,
	    "ntfy renders");
	ok(plain, "ntfy is plain text");
	ok(strncmp(sb.data, "WARNING: web-01 on node1\n\nVM CPU at 91% \"hot\" \\ now\nsecond", 56) == 0,
	    "ntfy text unescaped");
	ok(strstr(sb.data, "View in Pulse") == NULL, "no link without a URL");
	sb_reset(&sb);
	w.service = "";
	ok(notify_webhook_payload(&w, alerts, 1, 0, NULL, NOW, &sb, &plain, err, sizeof(err)) == 0,
	    "single generic");
	{
		struct json_object *o = json_tokener_parse(sb.data);

		is_str(get_str(o, "alert.id"), "pve1-node1-100-cpu", "single: alert");
		is_str(get_str(o, "timestamp"), "1767225600", "single: unix timestamp");
		ok(get(o, "grouped") == NULL && get(o, "count") == NULL, "single: no count");
		json_object_put(o);
	}
	sb_free(&sb);
}

static void
test_custom(void)
{
	struct json_object *o;

	o = render("slack", "{\"m\":\"{{.Message}}\",\"n\":{{.AlertCount}},\"k\":\"{{.CustomFields.routing_key}}\"}",
	    3, NULL);
	ok(o != NULL, "custom template over a service");
	ok(strstr(get_str(o, "m"), "\n\nAll 3 alerts:") != NULL, "custom: group message");
	is_str(get_str(o, "n"), "3", "custom: AlertCount");
	is_str(get_str(o, "k"), "R0UT1NG", "custom fields");
	json_object_put(o);
	ok(render("slack", "{{.Nope}}", 1, NULL) == NULL, "unknown field fails");
	ok(strstr(err, "Nope") != NULL, "message: %s", err);
	ok(render("slack", "{{if .Level}}", 1, NULL) == NULL, "unclosed if fails");
	ok(render("slack", "not json {{.Level}}", 1, NULL) == NULL, "not JSON fails");
	ok(strstr(err, "invalid JSON") != NULL, "message: %s", err);
	o = render("slack", "   ", 1, NULL);
	ok(o != NULL, "blank custom template: the service's");
	json_object_put(o);
	ok(render("telegram", NULL, 1, "https://api.telegram.org/botX/sendMessage") == NULL,
	    "telegram without chat_id fails");
	ok(strstr(err, "chat_id") != NULL, "message: %s", err);
}

static void
test_recovery(void)
{
	struct webhook w = { "h", "https://x.example/h", "slack", NULL, NULL, 0, NULL, 0 };
	static const struct webhook_kv pd_custom[] = { { "routing_key", "RK" } };
	struct strbuf sb = {0};
	struct json_object *o;

	alerts[0].resolved_time = NOW - 60;
	is_int((int)notify_webhook_recovery_count(&w, 2), 1, "one recovery body");
	ok(notify_webhook_recovery(&w, alerts, 2, 0, "https://pulse.example", NOW, &sb, err,
	    sizeof(err)) == 0, "recovery renders");
	o = json_tokener_parse(sb.data);
	is_str(get_str(o, "event"), "resolved", "event");
	is_str(get_str(o, "count"), "2", "count");
	is_str(get_str(o, "resolvedAt"), "1767225600", "resolvedAt");
	is_str(get_str(o, "resolvedAtIso"), "2026-01-01T00:00:00Z", "resolvedAtIso");
	is_str(get_str(o, "dashboard"), "https://pulse.example", "dashboard");
	ok(get(o, "alertId") == NULL, "no alertId for two");
	is_str(get_str(o, "alerts.0.metadata.resolvedAt"), "2025-12-31T23:59:00Z", "resolvedAt");
	is_str(get_str(o, "alerts.0.metadata.resourceType"), "VM", "metadata kept");
	ok(!json_object_object_get_ex(meta, "resolvedAt", NULL), "alert's metadata unchanged");
	json_object_put(o);
	sb_reset(&sb);
	ok(notify_webhook_recovery(&w, alerts, 1, 0, NULL, NOW, &sb, err, sizeof(err)) == 0, "one");
	o = json_tokener_parse(sb.data);
	is_str(get_str(o, "alertId"), "pve1-node1-100-cpu", "alertId for one");
	ok(get(o, "dashboard") == NULL, "no dashboard without a URL");
	json_object_put(o);

	w.service = "pagerduty";
	w.custom_fields = pd_custom;
	w.custom_field_count = 1;
	is_int((int)notify_webhook_recovery_count(&w, 3), 3, "pagerduty: one resolve per alert");
	for (size_t k = 0; k < 3; k++) {
		sb_reset(&sb);
		ok(notify_webhook_recovery(&w, alerts, 3, k, NULL, NOW, &sb, err, sizeof(err)) == 0,
		    "pagerduty resolve %zu", k);
		o = json_tokener_parse(sb.data);
		is_str(get_str(o, "event_action"), "resolve", "resolve action");
		is_str(get_str(o, "dedup_key"), alerts[k].id, "dedup_key of alert %zu", k);
		is_str(get_str(o, "routing_key"), "RK", "routing key");
		json_object_put(o);
	}
	ok(notify_webhook_recovery(&w, alerts, 3, 3, NULL, NOW, &sb, err, sizeof(err)) < 0,
	    "index past the end");
	alerts[0].resolved_time = 0;
	sb_free(&sb);
}

static void
test_telegram_chat_id(void)
{
	static const struct {
		const char *url, *id, *stripped;
	} cases[] = {
		{ "https://t/bot1/sendMessage?chat_id=123", "123", "https://t/bot1/sendMessage" },
		{ "https://t/b?chat_id=-100&x=1", "-100", "https://t/b?x=1" },
		{ "https://t/b?x=1&chat_id=5", "5", "https://t/b?x=1" },
		{ "https://t/b?x=1&chat_id=5&y=2", "5", "https://t/b?x=1&y=2" },
		{ "https://t/b?x=1&chat_id=5#f", "5", "https://t/b?x=1#f" },
		{ "https://t/b?chat_id=abc", NULL, NULL },
		{ "https://t/b?chat_id=", NULL, NULL },
		{ "https://t/b?chat_id=-", NULL, NULL },
		{ "https://t/b?chat_id=1-2", NULL, NULL },
		{ "https://t/b?xchat_id=1", NULL, NULL },
		{ "https://t/b/chat_id=1", NULL, NULL },
		{ "https://t/b?x=1#chat_id=1", NULL, NULL },
		{ "https://t/b?chat_id=1234567890123456789012345", NULL, NULL },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char id[32] = "";
		struct strbuf sb = {0};
		int rc = notify_webhook_telegram_chat_id(cases[i].url, id, sizeof(id), &sb);

		if (cases[i].id == NULL) {
			ok(rc < 0, "refused: %s", cases[i].url);
		} else {
			ok(rc == 0, "found: %s", cases[i].url);
			is_str(id, cases[i].id, "chat id of %s", cases[i].url);
			is_str(sb.data, cases[i].stripped, "stripped %s", cases[i].url);
		}
		sb_free(&sb);
	}
}

static void
test_format(void)
{
	char buf[64];

	notify_format_value("cpu", 85.26, 0, buf, sizeof(buf));
	is_str(buf, "85.3%", "cpu value");
	notify_format_value("cpu", 85, 1, buf, sizeof(buf));
	is_str(buf, "85%", "cpu threshold");
	notify_format_value("networkIn", 12.34, 0, buf, sizeof(buf));
	is_str(buf, "12.3 MB/s", "network as a rate");
	notify_format_value("temperature", 71, 1, buf, sizeof(buf));
	is_str(buf, "71.0\xc2\xb0" "C", "temperature");
	notify_format_value("offline", 0, 0, buf, sizeof(buf));
	is_str(buf, "0.0", "state alert plain");
	notify_format_duration(45, buf, sizeof(buf));
	is_str(buf, "45s", "seconds");
	notify_format_duration(720, buf, sizeof(buf));
	is_str(buf, "12m", "minutes");
	notify_format_duration(3 * 3600 + 240, buf, sizeof(buf));
	is_str(buf, "3h 4m", "hours");
	notify_format_duration(2 * 86400 + 5 * 3600 + 9, buf, sizeof(buf));
	is_str(buf, "2d 5h", "days");
	notify_format_duration(-5, buf, sizeof(buf));
	is_str(buf, "0s", "a start in the future");
	ok(notify_webhook_service("teams-adaptive") != NULL, "service lookup");
	ok(notify_webhook_service("nope") == NULL, "unknown service");
	is_int((int)webhook_service_count, 10, "ten built-in templates");
	is_str(webhook_services[4].accept, "application/vnd.pagerduty+json;version=2",
	    "pagerduty Accept header");
}

static void
test_alert_json(void)
{
	struct alert a = alerts[0];
	struct json_object *o = alert_to_json(&a);

	is_str(get_str(o, "resourceId"), "pve1-node1-100", "resourceId");
	is_str(get_str(o, "startTime"), "2025-12-31T22:57:55Z", "startTime");
	ok(get(o, "ackTime") == NULL && get(o, "ackUser") == NULL, "no ack: omitted");
	ok(get(o, "lastNotified") == NULL && get(o, "lastEscalation") == NULL &&
	    get(o, "escalationTimes") == NULL, "no notification or escalation: omitted");
	json_object_put(o);
	a.acknowledged = 1;
	a.ack_time = NOW;
	snprintf(a.ack_user, sizeof(a.ack_user), "admin");
	a.last_notified = NOW;
	a.last_escalation = 2;
	a.escalation_times[0] = NOW - 60;
	a.escalation_times[1] = NOW;
	a.escalation_count = 2;
	a.metadata = NULL;
	o = alert_to_json(&a);
	is_str(get_str(o, "ackTime"), "2026-01-01T00:00:00Z", "ackTime");
	is_str(get_str(o, "ackUser"), "admin", "ackUser");
	is_str(get_str(o, "lastEscalation"), "2", "lastEscalation");
	is_str(get_str(o, "escalationTimes.0"), "2025-12-31T23:59:00Z", "escalationTimes");
	ok(get(o, "metadata") == NULL, "no metadata: omitted");
	json_object_put(o);
}

static void
test_pagerduty_header(void)
{
	static const struct webhook_kv headers[] = { { "routing_key", "FROMHEADER" } };
	struct webhook w = { "pd", "https://events.pagerduty.com/v2/enqueue", "pagerduty", NULL,
	    headers, 1, NULL, 0 };
	struct strbuf sb = {0};
	struct json_object *o;
	int plain;

	ok(notify_webhook_payload(&w, alerts, 1, 1, NULL, NOW, &sb, &plain, err, sizeof(err)) == 0,
	    "pagerduty with a routing_key header");
	o = json_tokener_parse(sb.data);
	is_str(get_str(o, "routing_key"), "FROMHEADER", "routing_key copied from the header");
	ok(get(o, "client_url") == NULL, "no client_url without a Pulse URL");
	json_object_put(o);
	sb_free(&sb);
}

int
main(void)
{
	make_alerts();
	test_services();
	test_ntfy_and_single();
	test_custom();
	test_recovery();
	test_telegram_chat_id();
	test_format();
	test_alert_json();
	test_pagerduty_header();
	json_object_put(meta);
	return done_testing();
}
