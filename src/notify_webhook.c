/* notify_webhook.c: webhook payloads for alerts: template data, built-in service templates,
 * payload selection, recovery payloads, Telegram chat ids (alerts-notifications.md §8.2). */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "jsonwrite.h"
#include "notify_webhook.h"
#include "timefmt.h"

/* ---- the built-in service templates ------------------------------------------------------
 * Written for this project from the structure each service expects. Every JSON one is run
 * with TPL_ESCAPE_JSON, so inserted values cannot break out of their strings; text that is
 * part of the template uses JSON escapes itself (\n). */

#define LEVEL_WORD "{{.Level | title}}"
#define BY_LEVEL(crit, warn, other) \
	"{{if eq .Level \"critical\"}}" crit "{{else if eq .Level \"warning\"}}" warn \
	"{{else}}" other "{{end}}"

static const char discord_payload[] =
	"{\"username\":\"Pulse Monitoring\",\"embeds\":[{"
	"\"title\":\"Pulse Alert: " LEVEL_WORD "\","
	"\"description\":\"{{.Message}}\","
	"\"color\":" BY_LEVEL("15158332", "15105570", "3447003") ","
	"\"fields\":["
	"{\"name\":\"Resource\",\"value\":\"{{.ResourceName}}\",\"inline\":true},"
	"{\"name\":\"Node\",\"value\":\"{{.Node}}\",\"inline\":true},"
	"{\"name\":\"Type\",\"value\":\"{{.Type}}\",\"inline\":true},"
	"{\"name\":\"Value\",\"value\":\"{{.ValueFormatted}}\",\"inline\":true},"
	"{\"name\":\"Threshold\",\"value\":\"{{.ThresholdFormatted}}\",\"inline\":true},"
	"{\"name\":\"Duration\",\"value\":\"{{.Duration}}\",\"inline\":true}],"
	"\"timestamp\":\"{{.Timestamp}}\",\"footer\":{\"text\":\"Pulse Monitoring\"}}]}";

static const char telegram_payload[] =
	"{\"chat_id\":\"{{.ChatID}}\","
	"\"text\":\"*Pulse " LEVEL_WORD " alert: {{.ResourceName}}*\\n\\n{{.Message}}\\n\\n"
	"- Resource: {{.ResourceName}}\\n- Node: {{.Node}}\\n- Type: {{.Type}}\\n"
	"- Value: {{.ValueFormatted}} (threshold {{.ThresholdFormatted}})\\n"
	"- Duration: {{.Duration}}"
	"{{if .Instance}}\\n\\n[View in Pulse]({{.Instance}}){{end}}\","
	"\"parse_mode\":\"Markdown\",\"disable_web_page_preview\":true}";

static const char slack_payload[] =
	"{\"text\":\"Pulse Alert: " LEVEL_WORD " - {{.ResourceName}}\",\"blocks\":["
	"{\"type\":\"header\",\"text\":{\"type\":\"plain_text\","
	"\"text\":\"Pulse Alert: " LEVEL_WORD " - {{.ResourceName}}\"}},"
	"{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":\"{{.Message}}\"}},"
	"{\"type\":\"section\",\"fields\":["
	"{\"type\":\"mrkdwn\",\"text\":\"*Resource:*\\n{{.ResourceName}}\"},"
	"{\"type\":\"mrkdwn\",\"text\":\"*Node:*\\n{{.Node}}\"},"
	"{\"type\":\"mrkdwn\",\"text\":\"*Type:*\\n{{.Type}}\"},"
	"{\"type\":\"mrkdwn\",\"text\":\"*Value:*\\n{{.ValueFormatted}}\"},"
	"{\"type\":\"mrkdwn\",\"text\":\"*Threshold:*\\n{{.ThresholdFormatted}}\"},"
	"{\"type\":\"mrkdwn\",\"text\":\"*Duration:*\\n{{.Duration}}\"}]},"
	"{\"type\":\"context\",\"elements\":[{\"type\":\"mrkdwn\",\"text\":\""
	"{{if .Instance}}<{{.Instance}}|Proxmox> | {{end}}Alert ID: {{.ID}}\"}]}]}";

#define TEAMS_FACT(name, value) "{\"name\":\"" name "\",\"value\":\"" value "\"}"

static const char teams_payload[] =
	"{\"@type\":\"MessageCard\",\"@context\":\"https://schema.org/extensions\","
	"\"themeColor\":\"" BY_LEVEL("FF0000", "FFA500", "00FF00") "\","
	"\"summary\":\"Pulse Alert: " LEVEL_WORD " - {{.ResourceName}}\","
	"\"sections\":[{\"activityTitle\":\"Pulse Alert: " LEVEL_WORD " - {{.ResourceName}}\","
	"\"activitySubtitle\":\"{{.Message}}\",\"facts\":["
	TEAMS_FACT("Resource", "{{.ResourceName}}") ","
	TEAMS_FACT("Node", "{{.Node}}") ","
	TEAMS_FACT("Type", "{{.Type}}") ","
	TEAMS_FACT("Value", "{{.ValueFormatted}}") ","
	TEAMS_FACT("Threshold", "{{.ThresholdFormatted}}") ","
	TEAMS_FACT("Duration", "{{.Duration}}") ","
	TEAMS_FACT("Instance", "{{.Instance}}") "],"
	"\"markdown\":true}]"
	"{{if .Instance}},\"potentialAction\":[{\"@type\":\"OpenUri\",\"name\":\"View in Pulse\","
	"\"targets\":[{\"os\":\"default\",\"uri\":\"{{.Instance}}\"}]}]{{end}}}";

#define CARD_FACT(title, value) "{\"title\":\"" title "\",\"value\":\"" value "\"}"

static const char teams_adaptive_payload[] =
	"{\"type\":\"message\",\"attachments\":[{"
	"\"contentType\":\"application/vnd.microsoft.card.adaptive\",\"content\":{"
	"\"$schema\":\"http://adaptivecards.io/schemas/adaptive-card.json\","
	"\"type\":\"AdaptiveCard\",\"version\":\"1.4\",\"body\":["
	"{\"type\":\"TextBlock\",\"size\":\"Large\",\"weight\":\"Bolder\",\"wrap\":true,"
	"\"color\":\"" BY_LEVEL("Attention", "Warning", "Good") "\","
	"\"text\":\"Pulse Alert: " LEVEL_WORD " - {{.ResourceName}}\"},"
	"{\"type\":\"TextBlock\",\"wrap\":true,\"text\":\"{{.Message}}\"},"
	"{\"type\":\"FactSet\",\"facts\":["
	CARD_FACT("Resource", "{{.ResourceName}}") ","
	CARD_FACT("Node", "{{.Node}}") ","
	CARD_FACT("Type", "{{.Type}}") ","
	CARD_FACT("Current Value", "{{.ValueFormatted}}") ","
	CARD_FACT("Threshold", "{{.ThresholdFormatted}}") ","
	CARD_FACT("Duration", "{{.Duration}}") ","
	CARD_FACT("Alert ID", "{{.ID}}") "]}]"
	"{{if .Instance}},\"actions\":[{\"type\":\"Action.OpenUrl\",\"title\":\"View in Pulse\","
	"\"url\":\"{{.Instance}}\"}]{{end}}}}]}";

static const char pagerduty_payload[] =
	"{\"routing_key\":\"{{or .CustomFields.routing_key \"\"}}\","
	"\"event_action\":\"trigger\",\"dedup_key\":\"{{.ID}}\","
	"\"payload\":{\"summary\":\"Pulse " LEVEL_WORD ": {{.ResourceName}} - {{.Message}}\","
	"\"timestamp\":\"{{.Timestamp}}\","
	"\"severity\":\"" BY_LEVEL("critical", "warning", "info") "\","
	"\"source\":\"{{or .Node .ResourceName \"pulse\"}}\",\"component\":\"{{.ResourceName}}\","
	"\"group\":\"{{.Type}}\",\"class\":\"{{.Type}}\",\"custom_details\":{"
	"\"alert_id\":\"{{.ID}}\",\"resource_type\":\"{{.ResourceType}}\","
	"\"current_value\":\"{{.ValueFormatted}}\",\"threshold\":\"{{.ThresholdFormatted}}\","
	"\"duration\":\"{{.Duration}}\",\"instance\":\"{{.Instance}}\"}},"
	"\"client\":\"Pulse Monitoring\""
	"{{if .Instance}},\"client_url\":\"{{.Instance}}\","
	"\"links\":[{\"href\":\"{{.Instance}}\",\"text\":\"View in Pulse\"}]{{end}}}";

static const char pushover_payload[] =
	"{\"token\":\"{{or .CustomFields.token \"\"}}\",\"user\":\"{{or .CustomFields.user \"\"}}\","
	"\"title\":\"Pulse " LEVEL_WORD ": {{.ResourceName}}\","
	"\"message\":\"{{.Message}}\\n\\n- Node: {{.Node}}\\n- Type: {{.Type}}\\n"
	"- Value: {{.ValueFormatted}} (threshold {{.ThresholdFormatted}})\\n"
	"- Duration: {{.Duration}}\","
	"\"priority\":{{if .CustomFields.priority}}{{.CustomFields.priority}}{{else}}"
	BY_LEVEL("1", "0", "-1") "{{end}},"
	"\"sound\":\"{{if .CustomFields.sound}}{{.CustomFields.sound}}{{else}}"
	BY_LEVEL("siren", "tugboat", "pushover") "{{end}}\","
	"{{if .CustomFields.device}}\"device\":\"{{.CustomFields.device}}\",{{end}}"
	"{{if .Instance}}\"url\":\"{{.Instance}}\",\"url_title\":\"View in Pulse\",{{end}}"
	"\"timestamp\":{{.TimestampUnix}}}";

static const char gotify_payload[] =
	"{\"title\":\"{{.ResourceName}} - {{.Type}} {{.Level | upper}} Alert\","
	"\"message\":\"**{{.Message}}**\\n\\n- Resource: {{.ResourceName}}\\n- Node: {{.Node}}\\n"
	"- Value: {{.ValueFormatted}} (threshold {{.ThresholdFormatted}})\\n"
	"- Duration: {{.Duration}}{{if .Instance}}\\n\\n[View in Pulse]({{.Instance}}){{end}}\","
	"\"priority\":" BY_LEVEL("10", "5", "2") ","
	"\"extras\":{\"client::display\":{\"contentType\":\"text/markdown\"},"
	"\"pulse::alert\":{\"id\":\"{{.ID}}\",\"level\":\"{{.Level}}\",\"type\":\"{{.Type}}\","
	"\"resource_name\":\"{{.ResourceName}}\",\"node\":\"{{.Node}}\","
	"\"value\":{{.Value}},\"threshold\":{{.Threshold}},\"duration\":\"{{.Duration}}\","
	"\"instance\":\"{{.Instance}}\"}}}";

static const char ntfy_payload[] =
	"{{.Level | upper}}: {{.ResourceName}} on {{.Node}}\n\n"
	"{{.Message}}\n\n"
	"Alert Details:\n"
	"- Resource: {{.ResourceName}}\n"
	"- Node: {{.Node}}\n"
	"- Type: {{.Type}}\n"
	"- Current: {{.ValueFormatted}}\n"
	"- Threshold: {{.ThresholdFormatted}}\n"
	"- Duration: {{.Duration}}\n"
	"- Alert ID: {{.ID}}"
	"{{if .Instance}}\n\nView in Pulse: {{.Instance}}{{end}}";

static const char generic_payload[] =
	"{\"alert\":{\"id\":\"{{.ID}}\",\"level\":\"{{.Level}}\",\"type\":\"{{.Type}}\","
	"\"resource_name\":\"{{.ResourceName}}\",\"node\":\"{{.Node}}\","
	"\"message\":\"{{.Message}}\",\"value\":{{.Value}},\"threshold\":{{.Threshold}},"
	"\"start_time\":\"{{.StartTime}}\",\"duration\":\"{{.Duration}}\"},"
	"\"timestamp\":\"{{.Timestamp}}\",\"source\":\"pulse-monitoring\"}";

#define TEAMS_URL "https://{tenant}.webhook.office.com/webhookb2/{webhook_path}"

const struct webhook_service webhook_services[] = {
	{ "discord", "Discord Webhook",
	  "https://discord.com/api/webhooks/{webhook_id}/{webhook_token}", NULL, discord_payload, 0 },
	{ "telegram", "Telegram Bot", "https://api.telegram.org/bot{bot_token}/sendMessage", NULL,
	  telegram_payload, 0 },
	{ "slack", "Slack Incoming Webhook", "https://hooks.slack.com/services/{webhook_path}",
	  NULL, slack_payload, 0 },
	{ "teams", "Microsoft Teams", TEAMS_URL, NULL, teams_payload, 0 },
	{ "pagerduty", "PagerDuty Events API v2", "https://events.pagerduty.com/v2/enqueue",
	  "application/vnd.pagerduty+json;version=2", pagerduty_payload, 0 },
	{ "teams-adaptive", "Microsoft Teams (Adaptive Card)", TEAMS_URL, NULL,
	  teams_adaptive_payload, 0 },
	{ "pushover", "Pushover", "https://api.pushover.net/1/messages.json", NULL,
	  pushover_payload, 0 },
	{ "gotify", "Gotify", "https://{your-gotify-server}/message?token={your-app-token}", NULL,
	  gotify_payload, 0 },
	{ "ntfy", "ntfy.sh", "https://ntfy.sh/{topic}", NULL, ntfy_payload, 1 },
	{ "generic", "Generic JSON Webhook", "", NULL, generic_payload, 0 },
};
const size_t webhook_service_count = ARRAY_LEN(webhook_services);

const struct webhook_service *
notify_webhook_service(const char *service)
{
	if (service == NULL)
		return NULL;
	for (size_t i = 0; i < webhook_service_count; i++)
		if (strcmp(webhook_services[i].service, service) == 0)
			return &webhook_services[i];
	return NULL;
}

/* ---- display helpers ---------------------------------------------------------------- */

static int
type_in(const char *type, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(type, list[i]) == 0)
			return 1;
	return 0;
}

void
notify_format_value(const char *type, double v, int threshold, char *buf, size_t len)
{
	static const char *const rates[] = { "diskRead", "diskWrite", "networkIn", "networkOut" };
	static const char *const temps[] = { "temperature", "diskTemperature" };
	static const char *const percents[] = { "cpu", "memory", "disk", "usage" };
	int decimals = threshold ? 0 : 1;

	if (type_in(type, rates, ARRAY_LEN(rates)))
		snprintf(buf, len, "%.*f MB/s", decimals, v);
	else if (type_in(type, temps, ARRAY_LEN(temps)))
		snprintf(buf, len, "%.1f\u00b0C", v);
	else if (type_in(type, percents, ARRAY_LEN(percents)))
		snprintf(buf, len, "%.*f%%", decimals, v);
	else
		snprintf(buf, len, "%.*f", decimals, v);
}

void
notify_format_duration(double seconds, char *buf, size_t len)
{
	long long s = seconds > 0 && seconds < 9e15 ? (long long)seconds : 0;

	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd %lldh", s / 86400, s % 86400 / 3600);
}

/* ---- template data ------------------------------------------------------------------ */

/* The value of key in a configured list (custom fields, headers), or NULL. */
static const char *
kv_lookup(const struct webhook_kv *list, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].key, key) == 0)
			return list[i].value;
	return NULL;
}

#define custom_field(w, key) kv_lookup((w)->custom_fields, (w)->custom_field_count, (key))
#define header_value(w, key) kv_lookup((w)->headers, (w)->header_count, (key))

/* .Instance: the public URL without a trailing '/', else the alert's instance when it is a
 * URL, else "". */
static void
instance_url(const struct alert *a, const char *public_url, struct strbuf *sb)
{
	if (public_url != NULL && public_url[0] != '\0') {
		size_t n = strlen(public_url);

		while (n > 0 && public_url[n - 1] == '/')
			n--;
		sb_append(sb, public_url, n);
	} else if (strncmp(a->instance, "http://", 7) == 0 ||
	    strncmp(a->instance, "https://", 8) == 0) {
		sb_puts(sb, a->instance);
	} else {
		sb_puts(sb, "");
	}
}

static double
round1(double v)
{
	return isfinite(v) ? round(v * 10) / 10 : 0;
}

/* Copies a JSON object's members into map m: strings, numbers and booleans as themselves,
 * anything else as its JSON text. */
static void
metadata_to_map(struct json_object *meta, struct tpl_value *m)
{
	if (meta == NULL || !json_object_is_type(meta, json_type_object))
		return;
	json_object_object_foreach(meta, key, val) {
		switch (json_object_get_type(val)) {
		case json_type_string: tpl_map_str(m, key, json_object_get_string(val)); break;
		case json_type_int:
		case json_type_double: tpl_map_num(m, key, json_object_get_double(val)); break;
		case json_type_boolean: tpl_map_bool(m, key, json_object_get_boolean(val)); break;
		case json_type_null: break;
		default: tpl_map_str(m, key, json_object_to_json_string_ext(val,
		    JSON_C_TO_STRING_PLAIN));
		}
	}
}

/* The per-alert fields of the §8.2 table into map m. */
static void
alert_fields(struct tpl_value *m, const struct alert *a, const char *public_url, double now)
{
	char buf[TIMEFMT_LEN], fmt[64];
	struct strbuf inst = {0};
	struct json_object *rt = NULL;

	tpl_map_str(m, "ID", a->id);
	tpl_map_str(m, "Level", a->level);
	tpl_map_str(m, "Type", a->type);
	tpl_map_str(m, "ResourceName", a->resource_name);
	tpl_map_str(m, "ResourceID", a->resource_id);
	tpl_map_str(m, "Node", a->node);
	tpl_map_str(m, "Message", a->message);
	instance_url(a, public_url, &inst);
	tpl_map_str(m, "Instance", inst.data);
	sb_free(&inst);
	tpl_map_num(m, "Value", round1(a->value));
	tpl_map_num(m, "Threshold", round1(a->threshold));
	notify_format_value(a->type, a->value, 0, fmt, sizeof(fmt));
	tpl_map_str(m, "ValueFormatted", fmt);
	notify_format_value(a->type, a->threshold, 1, fmt, sizeof(fmt));
	tpl_map_str(m, "ThresholdFormatted", fmt);
	tpl_map_str(m, "StartTime", timefmt_rfc3339(a->start_time, buf, sizeof(buf)));
	notify_format_duration(now - a->start_time, fmt, sizeof(fmt));
	tpl_map_str(m, "Duration", fmt);
	if (a->metadata != NULL)
		json_object_object_get_ex(a->metadata, "resourceType", &rt);
	tpl_map_str(m, "ResourceType", rt != NULL && json_object_is_type(rt, json_type_string) ?
	    json_object_get_string(rt) : "");
	tpl_map_bool(m, "Acknowledged", a->acknowledged);
	tpl_map_str(m, "AckTime", a->ack_time > 0 ? timefmt_rfc3339(a->ack_time, buf,
	    sizeof(buf)) : "");
	tpl_map_str(m, "AckUser", a->ack_user);
	metadata_to_map(a->metadata, tpl_map_map(m, "Metadata"));
}

struct tpl_value *
notify_webhook_data(const struct webhook *w, const struct alert *alerts, size_t n,
    const char *public_url, double now, const char *chat_id)
{
	struct tpl_value *d = tpl_map_new(), *cf, *list;
	char buf[TIMEFMT_LEN];
	const char *v;

	alert_fields(d, &alerts[0], public_url, now);
	tpl_map_str(d, "Timestamp", timefmt_rfc3339(now, buf, sizeof(buf)));
	tpl_map_num(d, "TimestampUnix", floor(now));
	cf = tpl_map_map(d, "CustomFields");
	for (size_t i = 0; i < w->custom_field_count; i++)
		tpl_map_str(cf, w->custom_fields[i].key, w->custom_fields[i].value);
	if (w->service != NULL && strcmp(w->service, "pagerduty") == 0 &&
	    (v = header_value(w, "routing_key")) != NULL && custom_field(w, "routing_key") == NULL)
		tpl_map_str(cf, "routing_key", v);
	if (w->service != NULL && strcmp(w->service, "pushover") == 0) {
		if (custom_field(w, "token") == NULL && (v = custom_field(w, "app_token")) != NULL)
			tpl_map_str(cf, "token", v);
		if (custom_field(w, "user") == NULL && (v = custom_field(w, "user_token")) != NULL)
			tpl_map_str(cf, "user", v);
	}
	tpl_map_num(d, "AlertCount", (double)n);
	list = tpl_map_list(d, "Alerts");
	for (size_t i = 0; i < n; i++)
		alert_fields(tpl_list_map(list), &alerts[i], public_url, now);
	tpl_map_str(d, "ChatID", chat_id ? chat_id : "");
	return d;
}

/* The primary's message for a group: the message, then every alert with its value, on
 * separate lines, or for Discord on one line. Real newlines: they are JSON-escaped when
 * inserted (the original pastes a literal backslash-n instead). */
static void
group_message(const struct alert *alerts, size_t n, int one_line, struct strbuf *sb)
{
	char fmt[64];

	sb_puts(sb, alerts[0].message);
	if (one_line)
		sb_printf(sb, " | %zu alerts: ", n);
	else
		sb_printf(sb, "\n\nAll %zu alerts:", n);
	for (size_t i = 0; i < n; i++) {
		notify_format_value(alerts[i].type, alerts[i].value, 0, fmt, sizeof(fmt));
		if (one_line)
			sb_printf(sb, "%s\u2022 %s: %s", i > 0 ? ", " : "", alerts[i].resource_name,
			    fmt);
		else
			sb_printf(sb, "\n\u2022 %s: %s", alerts[i].resource_name, fmt);
	}
}

/* Replaces the data's top-level Message. */
static void
set_message(struct tpl_value *d, const char *text)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->kids[i]->name, "Message") == 0) {
			free(d->kids[i]->str);
			d->kids[i]->str = xstrdup(text);
		}
}

/* ---- payloads ----------------------------------------------------------------------- */

static int
is_blank(const char *s)
{
	if (s == NULL)
		return 1;
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0';
}

/* Checks that the text from offset start of out is one JSON value. */
static int
check_json(const struct strbuf *out, size_t start, char *err, size_t errlen)
{
	char why[128];
	struct json_object *o = jsonutil_parse(out->data + start, out->len - start, why,
	    sizeof(why));

	if (o == NULL) {
		snprintf(err, errlen, "template produced invalid JSON: %s", why);
		return -1;
	}
	json_object_put(o);
	return 0;
}

static void
append_json(struct strbuf *out, struct json_object *o)
{
	sb_puts(out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* The generic JSON payloads (§8.2 step 3 and the single-alert form). */
static void
generic_json(const struct alert *alerts, size_t n, int grouped, double now, struct strbuf *out)
{
	struct json_object *o = json_object_new_object();

	if (grouped) {
		struct json_object *list = json_object_new_array();

		for (size_t i = 0; i < n; i++)
			json_object_array_add(list, alert_to_json(&alerts[i]));
		json_object_object_add(o, "alerts", list);
		jsonwrite_int(o, "count", (int64_t)n);
	} else {
		json_object_object_add(o, "alert", alert_to_json(&alerts[0]));
	}
	jsonwrite_int(o, "timestamp", (int64_t)floor(now));
	jsonwrite_str(o, "source", "pulse-monitoring");
	if (grouped)
		jsonwrite_bool(o, "grouped", 1);
	append_json(out, o);
}

int
notify_webhook_payload(const struct webhook *w, const struct alert *alerts, size_t n,
    int grouped, const char *public_url, double now, struct strbuf *out, int *plain_text,
    char *err, size_t errlen)
{
	const struct webhook_service *svc = notify_webhook_service(w->service);
	const char *text;
	char chat_id[32] = "";
	struct tpl_value *d;
	size_t start = out->len;
	int rc;

	*plain_text = 0;
	if (n == 0) {
		snprintf(err, errlen, "no alerts to send");
		return -1;
	}
	if (svc != NULL && strcmp(svc->service, "telegram") == 0 &&
	    notify_webhook_telegram_chat_id(w->url ? w->url : "", chat_id, sizeof(chat_id),
	    NULL) < 0) {
		snprintf(err, errlen, "Telegram webhook URL must include a numeric chat_id parameter");
		return -1;
	}
	if (!is_blank(w->template))
		text = w->template;
	else if (svc != NULL && strcmp(svc->service, "generic") != 0)
		text = svc->payload;
	else {
		generic_json(alerts, n, grouped, now, out);
		return 0;
	}
	*plain_text = svc != NULL && svc->plain_text;
	d = notify_webhook_data(w, alerts, n, public_url, now, chat_id);
	if (n > 1) {
		struct strbuf msg = {0};

		group_message(alerts, n, is_blank(w->template) && svc != NULL &&
		    strcmp(svc->service, "discord") == 0, &msg);
		set_message(d, msg.data);
		sb_free(&msg);
	}
	rc = notify_template_render(text, d, *plain_text ? 0 : TPL_ESCAPE_JSON, out, err, errlen);
	tpl_value_free(d);
	if (rc == 0 && !*plain_text)
		rc = check_json(out, start, err, errlen);
	if (rc < 0)
		out->len = start;
	if (out->data != NULL)
		out->data[out->len] = '\0';
	return rc;
}

static int
is_pagerduty(const struct webhook *w)
{
	return w->service != NULL && strcmp(w->service, "pagerduty") == 0 && is_blank(w->template);
}

size_t
notify_webhook_recovery_count(const struct webhook *w, size_t n)
{
	return is_pagerduty(w) ? n : n > 0;
}

int
notify_webhook_recovery(const struct webhook *w, const struct alert *alerts, size_t n,
    size_t k, const char *public_url, double now, struct strbuf *out, char *err,
    size_t errlen)
{
	struct json_object *o = json_object_new_object(), *list;
	char buf[TIMEFMT_LEN];

	if (k >= notify_webhook_recovery_count(w, n)) {
		json_object_put(o);
		snprintf(err, errlen, "no such recovery payload");
		return -1;
	}
	if (is_pagerduty(w)) {
		const char *key = custom_field(w, "routing_key");

		if (key == NULL)
			key = header_value(w, "routing_key");
		jsonwrite_str(o, "routing_key", key);
		jsonwrite_str(o, "event_action", "resolve");
		jsonwrite_str(o, "dedup_key", alerts[k].id);
		append_json(out, o);
		return 0;
	}
	jsonwrite_str(o, "event", "resolved");
	list = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *a = alert_to_json(&alerts[i]), *meta;

		/* a copy of the metadata, so the alert's own object is not changed */
		meta = NULL;
		if (alerts[i].metadata == NULL ||
		    json_object_deep_copy(alerts[i].metadata, &meta, NULL) != 0 ||
		    !json_object_is_type(meta, json_type_object)) {
			json_object_put(meta);
			meta = json_object_new_object();
		}
		jsonwrite_str(meta, "resolvedAt", timefmt_rfc3339(alerts[i].resolved_time > 0 ?
		    alerts[i].resolved_time : now, buf, sizeof(buf)));
		json_object_object_add(a, "metadata", meta);
		json_object_array_add(list, a);
	}
	json_object_object_add(o, "alerts", list);
	jsonwrite_int(o, "count", (int64_t)n);
	jsonwrite_int(o, "resolvedAt", (int64_t)floor(now));
	jsonwrite_str(o, "resolvedAtIso", timefmt_rfc3339(now, buf, sizeof(buf)));
	jsonwrite_str(o, "source", "pulse-monitoring");
	if (public_url != NULL && public_url[0] != '\0')
		jsonwrite_str(o, "dashboard", public_url);
	if (n == 1)
		jsonwrite_str(o, "alertId", alerts[0].id);
	append_json(out, o);
	return 0;
}

/* ---- Telegram ----------------------------------------------------------------------- */

int
notify_webhook_telegram_chat_id(const char *url, char *chat_id, size_t len,
    struct strbuf *stripped)
{
	const char *query = strchr(url, '?');
	const char *p, *value, *end;
	size_t n;

	if (query == NULL)
		return -1;
	for (p = query + 1; *p != '\0'; p = *end ? end + 1 : end) {
		end = p + strcspn(p, "&#");
		if (strncmp(p, "chat_id=", 8) == 0 && p + 8 <= end)
			break;
		if (*end == '#')
			return -1;
	}
	if (*p == '\0')
		return -1;
	value = p + 8;
	n = (size_t)(end - value);
	if (n == 0 || n >= len || n > 24)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)value[i]) && !(i == 0 && value[i] == '-' && n > 1))
			return -1;
	memcpy(chat_id, value, n);
	chat_id[n] = '\0';
	if (stripped != NULL) {
		/* url without "chat_id=...": the separator before it goes, or the one after */
		const char *cut_from = p, *cut_to = *end == '&' ? end + 1 : end;

		if (*end != '&' && p > query + 1)
			cut_from = p - 1;
		if (cut_from == query + 1 && cut_to == end)
			cut_from = query;	/* the only parameter: drop the '?' too */
		sb_append(stripped, url, (size_t)(cut_from - url));
		sb_puts(stripped, cut_to);
	}
	return 0;
}
