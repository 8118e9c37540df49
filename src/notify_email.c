/* notify_email.c: the email channel: configuration, the §8.1 messages as MIME, SMTP sending
 * through libcurl. */
#include "config.h"

#include "notify_email.h"
#include "crypto.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "notify_webhook.h"
#include "timefmt.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- configuration ------------------------------------------------------------------ */

int
notify_cfg_string(struct json_object *cfg, const char *key, char *dst, size_t len, char *err,
    size_t errlen)
{
	const char *s;

	switch (jsonutil_get_string(cfg, key, &s)) {
	case JSONUTIL_MISSING:
		return 0;
	case JSONUTIL_WRONG_TYPE:
		snprintf(err, errlen, "%s must be a string", key);
		return -1;
	case JSONUTIL_OK:
		break;
	}
	if (strlen(s) >= len) {
		snprintf(err, errlen, "%s is too long", key);
		return -1;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

int
notify_cfg_bool(struct json_object *cfg, const char *key, int *dst, char *err, size_t errlen)
{
	if (jsonutil_get_bool(cfg, key, dst) == JSONUTIL_WRONG_TYPE) {
		snprintf(err, errlen, "%s must be a boolean", key);
		return -1;
	}
	return 0;
}

int
notify_email_config_parse(const struct json_object *cfg_const, struct email_config *out,
    char *err, size_t errlen)
{
	struct json_object *cfg = (struct json_object *)cfg_const, *to;
	int64_t port = 587;

	memset(out, 0, sizeof(*out));
	out->port = 587;
	out->tls = 1;
	if (!json_object_is_type(cfg, json_type_object)) {
		snprintf(err, errlen, "email configuration must be an object");
		return -1;
	}
	if (notify_cfg_bool(cfg, "enabled", &out->enabled, err, errlen) != 0 ||
	    notify_cfg_bool(cfg, "tls", &out->tls, err, errlen) != 0 ||
	    notify_cfg_bool(cfg, "startTLS", &out->start_tls, err, errlen) != 0 ||
	    notify_cfg_string(cfg, "provider", out->provider, sizeof(out->provider), err, errlen) ||
	    notify_cfg_string(cfg, "server", out->server, sizeof(out->server), err, errlen) ||
	    notify_cfg_string(cfg, "username", out->username, sizeof(out->username), err, errlen) ||
	    notify_cfg_string(cfg, "password", out->password, sizeof(out->password), err, errlen) ||
	    notify_cfg_string(cfg, "from", out->from, sizeof(out->from), err, errlen))
		return -1;
	{
		/* They go into SMTP commands and mail headers. */
		static const char *const texts[] = {"provider", "server", "username", "password",
			"from"};
		const char *const vals[] = {out->provider, out->server, out->username,
			out->password, out->from};

		for (size_t i = 0; i < ARRAY_LEN(texts); i++)
			if (strpbrk(vals[i], "\r\n") != NULL) {
				snprintf(err, errlen, "%s must not hold CR or LF", texts[i]);
				return -1;
			}
	}
	if (jsonutil_get_int(cfg, "port", 0, 65535, &port) == JSONUTIL_WRONG_TYPE) {
		snprintf(err, errlen, "port must be an integer from 0 to 65535");
		return -1;
	}
	out->port = port == 0 ? 587 : (int)port;
	switch (jsonutil_get_array(cfg, "to", &to)) {
	case JSONUTIL_MISSING:
		return 0;
	case JSONUTIL_WRONG_TYPE:
		snprintf(err, errlen, "to must be an array of strings");
		return -1;
	case JSONUTIL_OK:
		break;
	}
	for (size_t i = 0; i < json_object_array_length(to); i++) {
		struct json_object *v = json_object_array_get_idx(to, i);
		const char *s = json_object_get_string(v);

		if (!json_object_is_type(v, json_type_string)) {
			snprintf(err, errlen, "to must be an array of strings");
			return -1;
		}
		if (strlen(s) >= EMAIL_ADDRESS_LEN) {
			snprintf(err, errlen, "to holds an address that is too long");
			return -1;
		}
		if (strpbrk(s, "\r\n") != NULL) {
			snprintf(err, errlen, "to: an entry must not hold CR or LF");
			return -1;
		}
		if (out->to_count == EMAIL_MAX_RECIPIENTS) {
			snprintf(err, errlen, "to holds more than %d addresses",
			    EMAIL_MAX_RECIPIENTS);
			return -1;
		}
		jsonread_copy_trimmed(out->to[out->to_count], EMAIL_ADDRESS_LEN, s);
		if (out->to[out->to_count][0] != '\0')
			out->to_count++;
	}
	return 0;
}

struct json_object *
notify_email_config_to_json(const struct email_config *c)
{
	struct json_object *o = json_object_new_object(), *to = json_object_new_array();

	jsonwrite_bool(o, "enabled", c->enabled);
	jsonwrite_str(o, "provider", c->provider);
	jsonwrite_str(o, "server", c->server);
	jsonwrite_int(o, "port", c->port);
	jsonwrite_str(o, "username", c->username);
	jsonwrite_str(o, "password", c->password);
	jsonwrite_str(o, "from", c->from);
	for (size_t i = 0; i < c->to_count; i++)
		json_object_array_add(to, json_object_new_string(c->to[i]));
	json_object_object_add(o, "to", to);
	jsonwrite_bool(o, "tls", c->tls);
	jsonwrite_bool(o, "startTLS", c->start_tls);
	return o;
}

void
notify_email_config_clear(struct email_config *c)
{
	explicit_bzero(c->password, sizeof(c->password));
}

const char *
notify_email_auth_user(const struct email_config *c)
{
	if (c->username[0] != '\0')
		return c->username;
	if (strcasecmp(c->provider, "SendGrid") == 0)
		return "apikey";
	if (strcasecmp(c->provider, "SparkPost") == 0)
		return "SMTP_Injection";
	if (strcasecmp(c->provider, "Resend") == 0)
		return "resend";
	if (strcasecmp(c->provider, "Postmark") == 0)
		return c->password;
	return "";
}

/* ---- content -------------------------------------------------------------------------- */

void
notify_email_html_escape(struct strbuf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': sb_puts(out, "&amp;"); break;
		case '<': sb_puts(out, "&lt;"); break;
		case '>': sb_puts(out, "&gt;"); break;
		case '"': sb_puts(out, "&#34;"); break;
		case '\'': sb_puts(out, "&#39;"); break;
		default: sb_append(out, s, 1); break;
		}
	}
}

void
notify_email_content_free(struct email_content *content)
{
	sb_free(&content->subject);
	sb_free(&content->text);
	sb_free(&content->html);
}

/* A name to show for an alert: its resource name, else its resource id. */
static const char *
alert_name(const struct alert *a)
{
	return a->resource_name[0] != '\0' ? a->resource_name : a->resource_id;
}

static int
is_critical(const struct alert *a)
{
	return strcmp(a->level, "critical") == 0;
}

/* The level in capitals ("CRITICAL") or title case ("Critical"). */
static void
level_text(const struct alert *a, int upper, char *buf, size_t len)
{
	const char *l = is_critical(a) ? "critical" : "warning";

	snprintf(buf, len, "%s", l);
	for (size_t i = 0; buf[i] != '\0'; i++)
		if (upper || i == 0)
			buf[i] = (char)toupper((unsigned char)buf[i]);
}

/* The metric as the single-alert subject names it. */
static void
type_text(const char *type, char *buf, size_t len)
{
	static const char *const io[] = { "io", "diskRead", "diskWrite", "networkIn", "networkOut" };

	if (strcmp(type, "cpu") == 0) {
		snprintf(buf, len, "CPU");
		return;
	}
	for (size_t i = 0; i < ARRAY_LEN(io); i++)
		if (strcmp(type, io[i]) == 0) {
			snprintf(buf, len, "I/O");
			return;
		}
	snprintf(buf, len, "%s", type);
	if (buf[0] != '\0')
		buf[0] = (char)toupper((unsigned char)buf[0]);
}

/* What the text and the HTML show of an alert. */
struct alert_display {
	char level[16], value[64], threshold[64], age[32];
};

static void
alert_display(const struct alert *a, double now, struct alert_display *d)
{
	level_text(a, 1, d->level, sizeof(d->level));
	notify_format_value(a->type, a->value, 0, d->value, sizeof(d->value));
	notify_format_value(a->type, a->threshold, 1, d->threshold, sizeof(d->threshold));
	notify_format_duration(now - a->start_time, d->age, sizeof(d->age));
}

/* The HTML table of alerts[0..n): resource (with its message), level, value, duration. */
static void
html_table(struct strbuf *h, const struct alert *alerts, size_t n, double now)
{
	struct alert_display d;

	sb_puts(h, "<table border=\"1\" cellpadding=\"6\" style=\"border-collapse:collapse\">\n"
	    "<tr><th>Resource</th><th>Level</th><th>Value</th><th>Duration</th></tr>\n");
	for (size_t i = 0; i < n; i++) {
		const struct alert *a = &alerts[i];

		alert_display(a, now, &d);
		sb_puts(h, "<tr><td>");
		notify_email_html_escape(h, alert_name(a));
		sb_puts(h, "<br><small>");
		notify_email_html_escape(h, a->message);
		sb_printf(h, "</small></td><td style=\"color:%s\">%s</td><td>",
		    is_critical(a) ? "#c62828" : "#ef6c00", d.level);
		notify_email_html_escape(h, d.value);
		sb_puts(h, " (");
		notify_email_html_escape(h, d.threshold);
		sb_puts(h, ")</td><td>");
		notify_email_html_escape(h, d.age);
		sb_puts(h, "</td></tr>\n");
	}
	sb_puts(h, "</table>\n<p>Sent by Pulse Monitoring</p>\n</body></html>\n");
}

/* The text summary of alerts[0..n). */
static void
text_summary(struct strbuf *t, const struct alert *alerts, size_t n, double now)
{
	struct alert_display d;

	for (size_t i = 0; i < n; i++) {
		const struct alert *a = &alerts[i];

		alert_display(a, now, &d);
		sb_printf(t, "%s (%s)\n  Level: %s  Type: %s\n  Value: %s (threshold %s)\n",
		    alert_name(a), a->resource_id, d.level, a->type, d.value, d.threshold);
		if (a->node[0] != '\0')
			sb_printf(t, "  Node: %s\n", a->node);
		sb_printf(t, "  Active for: %s\n  %s\n\n", d.age, a->message);
	}
	sb_puts(t, "Sent by Pulse Monitoring\n");
}

static void
html_open(struct strbuf *h, const char *title)
{
	sb_puts(h, "<!DOCTYPE html>\n<html><head><meta charset=\"UTF-8\"><title>");
	notify_email_html_escape(h, title);
	sb_puts(h, "</title></head>\n<body style=\"font-family:sans-serif\">\n<h2>");
	notify_email_html_escape(h, title);
	sb_puts(h, "</h2>\n");
}

void
notify_email_grouped_content(const struct alert *alerts, size_t n, double now,
    struct email_content *content)
{
	size_t critical = 0, warning;

	for (size_t i = 0; i < n; i++)
		critical += is_critical(&alerts[i]);
	warning = n - critical;
	if (critical > 0 && warning > 0)
		sb_printf(&content->subject, "[Pulse Alert] %zu Critical, %zu Warning alerts",
		    critical, warning);
	else if (critical > 0)
		sb_printf(&content->subject, "[Pulse Alert] %zu Critical alert%s", critical,
		    critical == 1 ? "" : "s");
	else
		sb_printf(&content->subject, "[Pulse Alert] %zu Warning alert%s", warning,
		    warning == 1 ? "" : "s");

	sb_printf(&content->text, "%s\n\n", content->subject.data);
	text_summary(&content->text, alerts, n, now);
	html_open(&content->html, content->subject.data);
	html_table(&content->html, alerts, n, now);
}

void
notify_email_single_content(const struct alert *a, double now, struct email_content *content)
{
	char level[16], type[64];

	level_text(a, 0, level, sizeof(level));
	type_text(a->type, type, sizeof(type));
	sb_printf(&content->subject, "[Pulse Alert] %s: %s on %s", level, type, alert_name(a));
	sb_printf(&content->text, "%s\n\n", content->subject.data);
	text_summary(&content->text, a, 1, now);
	html_open(&content->html, content->subject.data);
	html_table(&content->html, a, 1, now);
}

void
notify_email_recovery_text(const struct alert *alerts, size_t n, const char *public_url,
    double now, struct strbuf *out)
{
	char when[TIMEFMT_LEN], level[16], v[64], t[64];

	sb_printf(out, "Resolved at %s\n", timefmt_rfc3339(now, when, sizeof(when)));
	for (size_t i = 0; i < n; i++) {
		const struct alert *a = &alerts[i];

		level_text(a, 1, level, sizeof(level));
		sb_printf(out, "\n[%s] %s\n", level, alert_name(a));
		if (a->message[0] != '\0')
			sb_printf(out, "%s\n", a->message);
		sb_printf(out, "Started: %s\n", timefmt_rfc3339(a->start_time, when, sizeof(when)));
		sb_printf(out, "Cleared: %s\n", timefmt_rfc3339(a->resolved_time > 0 ?
		    a->resolved_time : now, when, sizeof(when)));
		if (a->node[0] != '\0')
			sb_printf(out, "Node: %s\n", a->node);
		if (a->instance[0] != '\0' && strcmp(a->instance, a->node) != 0)
			sb_printf(out, "Instance: %s\n", a->instance);
		if (a->value != 0 || a->threshold != 0) {
			notify_format_value(a->type, a->value, 0, v, sizeof(v));
			notify_format_value(a->type, a->threshold, 1, t, sizeof(t));
			sb_printf(out, "Last value %s (threshold %s)\n", v, t);
		}
	}
	if (public_url != NULL && public_url[0] != '\0')
		sb_printf(out, "\nDashboard: %s\n", public_url);
}

void
notify_email_recovery_content(const struct alert *alerts, size_t n, const char *public_url,
    double now, struct email_content *content)
{
	if (n == 1)
		sb_printf(&content->subject, "Pulse alert resolved: %s", alert_name(&alerts[0]));
	else
		sb_printf(&content->subject, "Pulse alerts resolved (%zu)", n);
	notify_email_recovery_text(alerts, n, public_url, now, &content->text);
	html_open(&content->html, content->subject.data);
	sb_puts(&content->html, "<pre>");
	notify_email_html_escape(&content->html, content->text.data);
	sb_puts(&content->html, "</pre>\n</body></html>\n");
}

/* ---- the message ------------------------------------------------------------------------ */

/* Whether s can be an address in a header and an SMTP envelope: printable, no white space,
 * none of the characters that would end or split it. */
static int
address_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch <= ' ' || ch == 0x7f || strchr("<>,;\"()[]\\", ch) != NULL)
			return 0;
	}
	return 1;
}

static int
ascii_only(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* The Subject header's value: control characters become spaces (a resource name cannot add
 * a header), then RFC 2047 base64 words of whole UTF-8 characters when it is not ASCII. */
static void
subject_header(struct strbuf *out, const char *subject)
{
	char *clean = xstrdup(subject);
	size_t len = strlen(clean), start = 0;

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)clean[i] < ' ' || clean[i] == 0x7f)
			clean[i] = ' ';
	if (ascii_only(clean)) {
		sb_puts(out, clean);
		free(clean);
		return;
	}
	while (start < len) {
		size_t end = start + 45 < len ? start + 45 : len;
		char *word;

		while (end < len && ((unsigned char)clean[end] & 0xc0) == 0x80)
			end--;
		word = base64_encode((const unsigned char *)clean + start, end - start, 0, 1);
		sb_printf(out, "%s=?UTF-8?B?%s?=", start > 0 ? "\r\n " : "", word);
		free(word);
		start = end;
	}
	free(clean);
}

/* A body part in base64, lines of 76. */
static void
body_part(struct strbuf *out, const char *boundary, const char *type, const struct strbuf *b)
{
	char *enc = base64_encode((const unsigned char *)(b->data ? b->data : ""), b->len, 0, 1);
	size_t len = strlen(enc);

	sb_printf(out, "--%s\r\nContent-Type: %s; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n", boundary, type);
	for (size_t i = 0; i < len; i += 76) {
		sb_append(out, enc + i, len - i < 76 ? len - i : 76);
		sb_puts(out, "\r\n");
	}
	free(enc);
}

/* RFC 5322 date in UTC, with names that do not depend on the locale. */
static void
date_header(struct strbuf *out, double now)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)now;
	struct tm tm;

	gmtime_r(&t, &tm);
	sb_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday],
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int
notify_email_message(const struct email_config *c, const struct email_content *content,
    double now, const char *delivery_key, struct strbuf *out, char *err, size_t errlen)
{
	char boundary[64], *rnd;

	if (!address_ok(c->from)) {
		snprintf(err, errlen, "the from address is missing or not a plain address");
		return -1;
	}
	for (size_t i = 0; i < c->to_count; i++)
		if (!address_ok(c->to[i])) {
			snprintf(err, errlen, "recipient %zu is not a plain address", i + 1);
			return -1;
		}
	if (delivery_key != NULL && !address_ok(delivery_key)) {
		snprintf(err, errlen, "the delivery key cannot stand in a header");
		return -1;
	}
	rnd = crypto_random_hex(12);
	snprintf(boundary, sizeof(boundary), "pulse-%s", rnd);

	sb_printf(out, "From: %s\r\nTo: ", c->from);
	if (c->to_count == 0)
		sb_puts(out, c->from);
	for (size_t i = 0; i < c->to_count; i++)
		sb_printf(out, "%s%s", i > 0 ? ", " : "", c->to[i]);
	sb_puts(out, "\r\nSubject: ");
	subject_header(out, content->subject.data ? content->subject.data : "");
	sb_puts(out, "\r\n");
	date_header(out, now);
	sb_printf(out, "Message-ID: <%.0f.%s@pulse-monitoring>\r\n", now * 1e9, rnd);
	sb_puts(out, "MIME-Version: 1.0\r\nX-Mailer: Pulse Monitoring System\r\n");
	if (delivery_key != NULL)
		sb_printf(out, "X-Pulse-Delivery: %s\r\n", delivery_key);
	sb_printf(out, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary);
	body_part(out, boundary, "text/plain", &content->text);
	body_part(out, boundary, "text/html", &content->html);
	sb_printf(out, "--%s--\r\n", boundary);
	free(rnd);
	return 0;
}

/* ---- SMTP ------------------------------------------------------------------------------- */

struct smtp_upload {
	const char *data;
	size_t len, pos;
	char last_reply[256];	/* the server's last status line */
};

static size_t
smtp_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct smtp_upload *u = arg;
	size_t n = size * nitems;

	if (n > u->len - u->pos)
		n = u->len - u->pos;
	memcpy(buf, u->data + u->pos, n);
	u->pos += n;
	return n;
}

/* Keeps the server's last reply line that carries a status (what it said when it refused);
 * what we sent (AUTH) is never looked at. */
static int
smtp_debug(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct smtp_upload *u = arg;
	size_t n = 0;

	(void)h;
	if (type != CURLINFO_HEADER_IN || size < 3 || !isdigit((unsigned char)data[0]))
		return 0;
	while (n < size && n < sizeof(u->last_reply) - 1 && data[n] != '\r' && data[n] != '\n') {
		u->last_reply[n] = isprint((unsigned char)data[n]) ? data[n] : '?';
		n++;
	}
	u->last_reply[n] = '\0';
	return 0;
}

/* Replaces every occurrence of secret in s (len bytes of room) with "***". */
static void
scrub_secret(char *s, size_t len, const char *secret)
{
	size_t sl = strlen(secret);
	char *p;

	if (sl == 0)
		return;
	while ((p = strstr(s, secret)) != NULL) {
		memmove(p + 3, p + sl, strlen(p + sl) + 1);
		memcpy(p, "***", 3);
	}
	(void)len;
}

/* One SMTP session. Returns 0, 1 for a failure worth another try, -1 for one that is not. */
static int
smtp_once(const struct email_config *c, const char *message,
    const struct notify_email_opts *opts, char *err, size_t errlen)
{
	struct smtp_upload u = { .data = message, .len = strlen(message) };
	char url[320], from[EMAIL_ADDRESS_LEN + 2], rcpt[EMAIL_ADDRESS_LEN + 2];
	char curl_err[CURL_ERROR_SIZE] = "";
	struct curl_slist *rcpts = NULL;
	int implicit = c->tls || c->port == 465, rc = 0;
	const char *user = notify_email_auth_user(c);
	long code = 0;
	CURL *h = curl_easy_init();
	CURLcode res;

	if (h == NULL) {
		snprintf(err, errlen, "cannot start an SMTP session");
		return -1;
	}
	snprintf(url, sizeof(url), "%s://%s%s%s:%d", implicit ? "smtps" : "smtp",
	    strchr(c->server, ':') != NULL ? "[" : "", c->server,
	    strchr(c->server, ':') != NULL ? "]" : "", c->port);
	snprintf(from, sizeof(from), "<%s>", c->from);
	if (c->to_count == 0) {
		rcpts = curl_slist_append(rcpts, from);
	}
	for (size_t i = 0; i < c->to_count; i++) {
		snprintf(rcpt, sizeof(rcpt), "<%s>", c->to[i]);
		rcpts = curl_slist_append(rcpts, rcpt);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, opts->connect_timeout_ms > 0 ?
	    opts->connect_timeout_ms : 10000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, opts->timeout_ms > 0 ? opts->timeout_ms : 30000L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (opts->ca_file != NULL && opts->ca_file[0] != '\0')
		curl_easy_setopt(h, CURLOPT_CAINFO, opts->ca_file);
	if (!implicit && c->start_tls)
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (user[0] != '\0' && c->password[0] != '\0') {
		curl_easy_setopt(h, CURLOPT_USERNAME, user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
	}
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, smtp_read);
	curl_easy_setopt(h, CURLOPT_READDATA, &u);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, smtp_debug);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, &u);

	res = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (res != CURLE_OK) {
		const char *what = curl_err[0] != '\0' ? curl_err : curl_easy_strerror(res);

		if (u.last_reply[0] != '\0' && (u.last_reply[0] == '4' || u.last_reply[0] == '5'))
			snprintf(err, errlen, "%s (server said: %s)", what, u.last_reply);
		else
			snprintf(err, errlen, "%s", what);
		rc = res == CURLE_COULDNT_CONNECT || res == CURLE_OPERATION_TIMEDOUT ||
		    res == CURLE_COULDNT_RESOLVE_HOST || (code >= 400 && code < 500 &&
		    res != CURLE_LOGIN_DENIED) ? 1 : -1;
		scrub_secret(err, errlen, c->password);
	}
	curl_slist_free_all(rcpts);
	curl_easy_cleanup(h);
	return rc;
}

/* Whether s is a host name or an IP address and nothing else: it goes into the URL libcurl
 * reads, where '/', '@' or '?' would change what is asked. */
static int
host_ok(const char *s)
{
	if (*s == '\0' || *s == '-' || *s == '.')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr(".-:_", *s) == NULL)
			return 0;
	return 1;
}

int
notify_email_smtp(const struct email_config *c, const char *message,
    const struct notify_email_opts *opts, char *err, size_t errlen)
{
	int attempts = opts->attempts > 0 ? opts->attempts : 1, rc = -1, i;
	char last[EMAIL_ERR_LEN] = "";

	if (!host_ok(c->server)) {
		snprintf(err, errlen, "the SMTP server must be a host name or an address");
		return -1;
	}
	for (i = 1; i <= attempts; i++) {
		rc = smtp_once(c, message, opts, last, sizeof(last));
		if (rc <= 0)
			break;
		if (i < attempts && opts->retry_delay_ms > 0) {
			struct timespec ts = { opts->retry_delay_ms / 1000,
			    opts->retry_delay_ms % 1000 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	if (rc == 0)
		return 0;
	if (attempts > 1)
		snprintf(err, errlen, "email failed after %d attempt%s: %s", i > attempts ?
		    attempts : i, (i > attempts ? attempts : i) == 1 ? "" : "s", last);
	else
		snprintf(err, errlen, "%s", last);
	return -1;
}

/* Builds the message for c and content and sends it. */
static int
send_content(const struct email_config *c, const struct email_content *content,
    const char *delivery_key, const struct notify_email_opts *opts, char *err, size_t errlen)
{
	struct strbuf msg = { 0 };
	int rc = notify_email_message(c, content, clock_wall(), delivery_key, &msg, err, errlen);

	if (rc == 0)
		rc = notify_email_smtp(c, msg.data, opts, err, errlen);
	sb_free(&msg);
	return rc;
}

int
notify_email_send(const struct json_object *email_config, const struct alert *alerts,
    size_t n, int resolved, const char *public_url, const char *delivery_key,
    const struct notify_email_opts *opts, char *err, size_t errlen)
{
	struct email_config c;
	struct email_content content = { 0 };
	double now = clock_wall();
	int rc;

	if (n == 0) {
		snprintf(err, errlen, "no alert to send");
		return -1;
	}
	if (notify_email_config_parse(email_config, &c, err, errlen) != 0) {
		notify_email_config_clear(&c);
		return -1;
	}
	if (resolved)
		notify_email_recovery_content(alerts, n, public_url, now, &content);
	else
		notify_email_grouped_content(alerts, n, now, &content);
	rc = send_content(&c, &content, delivery_key, opts, err, errlen);
	notify_email_content_free(&content);
	notify_email_config_clear(&c);
	return rc;
}

int
notify_email_send_test(const struct email_config *c, const struct alert *a,
    const struct notify_email_opts *opts, char *err, size_t errlen)
{
	struct email_content content = { 0 };
	int rc;

	notify_email_single_content(a, clock_wall(), &content);
	rc = send_content(c, &content, NULL, opts, err, errlen);
	notify_email_content_free(&content);
	return rc;
}
