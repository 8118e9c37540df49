/* test_notify_email.c: the email channel's configuration, the grouped, single and recovery
 * messages (subjects, text and HTML bodies), the MIME structure, HTML escaping, refused
 * header injection, and a send that cannot connect. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "crypto.h"
#include "notify_email.h"
#include "tap.h"

#define NOW 1767225600.0	/* 2026-01-01T00:00:00Z, a Thursday */

static struct alert alerts[3];
static char err[EMAIL_ERR_LEN];

static void
make_alerts(void)
{
	static const char *const names[] = { "web-01", "db-<02>", "sensor-03" };
	static const char *const types[] = { "cpu", "memory", "temperature" };

	for (int i = 0; i < 3; i++) {
		struct alert *a = &alerts[i];

		memset(a, 0, sizeof(*a));
		snprintf(a->id, sizeof(a->id), "pve1-node1-10%d-%s", i, types[i]);
		snprintf(a->type, sizeof(a->type), "%s", types[i]);
		snprintf(a->level, sizeof(a->level), "%s", i == 1 ? "critical" : "warning");
		snprintf(a->resource_id, sizeof(a->resource_id), "pve1-node1-10%d", i);
		snprintf(a->resource_name, sizeof(a->resource_name), "%s", names[i]);
		snprintf(a->node, sizeof(a->node), "node1");
		snprintf(a->instance, sizeof(a->instance), "pve1");
		snprintf(a->message, sizeof(a->message), "%s is high & \"rising\"", types[i]);
		a->value = 91.25 + i;
		a->threshold = 90;
		a->start_time = NOW - 300;
	}
}

static struct email_config
make_config(void)
{
	struct email_config c;
	struct json_object *o = json_tokener_parse("{\"enabled\":true,\"server\":\"smtp.example\","
	    "\"from\":\"pulse@example.org\",\"to\":[\" ops@example.org \",\"\",\"b@example.org\"]}");

	if (notify_email_config_parse(o, &c, err, sizeof(err)) != 0)
		printf("# %s\n", err);
	json_object_put(o);
	return c;
}

/* The decoded body of the part with content type type, a new string, or NULL. */
static char *
part_body(const char *msg, const char *type)
{
	char hdr[128], *enc, *p, *end, *out;
	unsigned char *dec;
	size_t declen, n = 0;

	snprintf(hdr, sizeof(hdr), "Content-Type: %s; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n", type);
	p = strstr(msg, hdr);
	if (p == NULL)
		return NULL;
	p += strlen(hdr);
	end = strstr(p, "\r\n--");
	enc = xmalloc((size_t)(end - p) + 1);
	for (; p < end; p++)
		if (*p != '\r' && *p != '\n')
			enc[n++] = *p;
	enc[n] = '\0';
	if (base64_decode(enc, &dec, &declen) != 0) {
		free(enc);
		return NULL;
	}
	out = xstrndup((const char *)dec, declen);
	free(dec);
	free(enc);
	return out;
}

static void
test_config(void)
{
	struct email_config c;
	struct json_object *o;

	o = json_tokener_parse("{}");
	ok(notify_email_config_parse(o, &c, err, sizeof(err)) == 0, "empty config parses");
	is_int(c.port, 587, "default port 587");
	is_int(c.tls, 1, "default tls true");
	is_int((long long)c.to_count, 0, "no recipients");
	json_object_put(o);

	c = make_config();
	is_int((long long)c.to_count, 2, "empty recipients dropped");
	is_str(c.to[0], "ops@example.org", "recipient trimmed");

	o = json_tokener_parse("{\"port\":\"25\"}");
	ok(notify_email_config_parse(o, &c, err, sizeof(err)) != 0, "port as string refused");
	json_object_put(o);
	o = json_tokener_parse("{\"to\":\"a@b\"}");
	ok(notify_email_config_parse(o, &c, err, sizeof(err)) != 0, "to as string refused");
	json_object_put(o);
	o = json_tokener_parse("{\"tls\":1}");
	ok(notify_email_config_parse(o, &c, err, sizeof(err)) != 0, "tls as number refused");
	json_object_put(o);
	o = json_tokener_parse("[]");
	ok(notify_email_config_parse(o, &c, err, sizeof(err)) != 0, "array refused");
	json_object_put(o);
	o = json_tokener_parse("{\"server\":\"smtp.x\\r\\nRCPT TO:<x>\"}");
	ok(notify_email_config_parse(o, &c, err, sizeof(err)) != 0, "CR LF in server refused");
	is_str(err, "server must not hold CR or LF", "says which");
	json_object_put(o);
	o = json_tokener_parse("{\"enabled\":true,\"port\":0,\"to\":[\" a@x \",\"\",\"b@y\"],"
	    "\"password\":\"pw\"}");
	ok(notify_email_config_parse(o, &c, err, sizeof(err)) == 0, "parses");
	json_object_put(o);
	o = notify_email_config_to_json(&c);
	is_str(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	    "{\"enabled\":true,\"provider\":\"\",\"server\":\"\",\"port\":587,\"username\":\"\","
	    "\"password\":\"pw\",\"from\":\"\",\"to\":[\"a@x\",\"b@y\"],\"tls\":true,"
	    "\"startTLS\":false}", "to_json: every member; port 0 is 587; recipients trimmed");
	json_object_put(o);
	notify_email_config_clear(&c);

	memset(&c, 0, sizeof(c));
	snprintf(c.password, sizeof(c.password), "key-123");
	snprintf(c.provider, sizeof(c.provider), "SendGrid");
	is_str(notify_email_auth_user(&c), "apikey", "SendGrid user default");
	snprintf(c.provider, sizeof(c.provider), "SparkPost");
	is_str(notify_email_auth_user(&c), "SMTP_Injection", "SparkPost user default");
	snprintf(c.provider, sizeof(c.provider), "Resend");
	is_str(notify_email_auth_user(&c), "resend", "Resend user default");
	snprintf(c.provider, sizeof(c.provider), "Postmark");
	is_str(notify_email_auth_user(&c), "key-123", "Postmark user is the password");
	snprintf(c.username, sizeof(c.username), "me");
	is_str(notify_email_auth_user(&c), "me", "a set username wins");
	notify_email_config_clear(&c);
	is_str(c.password, "", "clear wipes the password");
}

static void
test_subjects(void)
{
	struct email_content ct = { 0 };

	notify_email_grouped_content(alerts, 3, NOW, &ct);
	is_str(ct.subject.data, "[Pulse Alert] 1 Critical, 2 Warning alerts", "mixed subject");
	ok(strstr(ct.text.data, "db-<02> (pve1-node1-101)") != NULL, "text names resource and id");
	ok(strstr(ct.text.data, "Value: 92.2% (threshold 90%)") != NULL ||
	    strstr(ct.text.data, "Value: 92.3% (threshold 90%)") != NULL, "text value and threshold");
	ok(strstr(ct.text.data, "71.0") == NULL, "no stray value");
	ok(strstr(ct.text.data, "93.2\u00b0C") != NULL || strstr(ct.text.data, "93.3\u00b0C"),
	    "temperature in degrees");
	ok(strstr(ct.text.data, "Active for: 5m") != NULL, "age in the text");
	ok(strstr(ct.html.data, "db-&lt;02&gt;") != NULL, "resource escaped in HTML");
	ok(strstr(ct.html.data, "db-<02>") == NULL, "no raw resource in HTML");
	ok(strstr(ct.html.data, "high &amp; &#34;rising&#34;") != NULL, "message escaped");
	ok(strstr(ct.html.data, "<table") != NULL && strstr(ct.html.data, "<th>Duration</th>"),
	    "HTML table");
	notify_email_content_free(&ct);

	memset(&ct, 0, sizeof(ct));
	notify_email_grouped_content(&alerts[1], 1, NOW, &ct);
	is_str(ct.subject.data, "[Pulse Alert] 1 Critical alert", "one critical");
	notify_email_content_free(&ct);
	memset(&ct, 0, sizeof(ct));
	notify_email_grouped_content(&alerts[2], 1, NOW, &ct);
	is_str(ct.subject.data, "[Pulse Alert] 1 Warning alert", "one warning");
	notify_email_content_free(&ct);

	memset(&ct, 0, sizeof(ct));
	notify_email_single_content(&alerts[0], NOW, &ct);
	is_str(ct.subject.data, "[Pulse Alert] Warning: CPU on web-01", "single subject");
	notify_email_content_free(&ct);
	memset(&ct, 0, sizeof(ct));
	notify_email_single_content(&alerts[2], NOW, &ct);
	is_str(ct.subject.data, "[Pulse Alert] Warning: Temperature on sensor-03",
	    "single subject, title-cased type");
	notify_email_content_free(&ct);
}

static void
test_recovery(void)
{
	struct email_content ct = { 0 };

	alerts[0].resolved_time = NOW - 60;
	notify_email_recovery_content(alerts, 1, "https://pulse.example/", NOW, &ct);
	is_str(ct.subject.data, "Pulse alert resolved: web-01", "one resolved");
	ok(strncmp(ct.text.data, "Resolved at 2026-01-01T00:00:00Z\n", 33) == 0, "resolved at");
	ok(strstr(ct.text.data, "[WARNING] web-01\n") != NULL, "level and name");
	ok(strstr(ct.text.data, "Started: 2025-12-31T23:55:00Z") != NULL, "started");
	ok(strstr(ct.text.data, "Cleared: 2025-12-31T23:59:00Z") != NULL, "cleared");
	ok(strstr(ct.text.data, "Node: node1\nInstance: pve1\n") != NULL, "node and instance");
	ok(strstr(ct.text.data, "Last value 91.2% (threshold 90%)") != NULL ||
	    strstr(ct.text.data, "Last value 91.3% (threshold 90%)") != NULL, "last value");
	ok(strstr(ct.text.data, "Dashboard: https://pulse.example/") != NULL, "dashboard");
	ok(strstr(ct.html.data, "<pre>Resolved at") != NULL, "HTML is the text in pre");
	notify_email_content_free(&ct);
	memset(&ct, 0, sizeof(ct));
	notify_email_recovery_content(alerts, 3, NULL, NOW, &ct);
	is_str(ct.subject.data, "Pulse alerts resolved (3)", "several resolved");
	ok(strstr(ct.html.data, "db-&lt;02&gt;") != NULL, "recovery HTML escaped");
	ok(strstr(ct.text.data, "Dashboard") == NULL, "no dashboard without a URL");
	notify_email_content_free(&ct);
	alerts[0].resolved_time = 0;
}

static void
test_message(void)
{
	struct email_config c = make_config();
	struct email_content ct = { 0 };
	struct strbuf msg = { 0 };
	char *text, *html;

	notify_email_grouped_content(alerts, 3, NOW, &ct);
	ok(notify_email_message(&c, &ct, NOW, "row-17:2", &msg, err, sizeof(err)) == 0,
	    "message built");
	ok(strncmp(msg.data, "From: pulse@example.org\r\nTo: ops@example.org, b@example.org\r\n"
	    "Subject: [Pulse Alert] 1 Critical, 2 Warning alerts\r\n", 107) == 0, "From, To, Subject");
	ok(strstr(msg.data, "\r\nDate: Thu, 01 Jan 2026 00:00:00 +0000\r\n") != NULL, "Date");
	ok(strstr(msg.data, "\r\nMessage-ID: <1767225600000000000.") != NULL &&
	    strstr(msg.data, "@pulse-monitoring>\r\n") != NULL, "Message-ID");
	ok(strstr(msg.data, "\r\nMIME-Version: 1.0\r\n") != NULL, "MIME-Version");
	ok(strstr(msg.data, "\r\nX-Mailer: Pulse Monitoring System\r\n") != NULL, "X-Mailer");
	ok(strstr(msg.data, "\r\nX-Pulse-Delivery: row-17:2\r\n") != NULL, "delivery key");
	ok(strstr(msg.data, "Content-Type: multipart/alternative; boundary=\"pulse-") != NULL,
	    "multipart/alternative");
	ok(strstr(msg.data, "text/plain") < strstr(msg.data, "text/html"), "text before HTML");
	text = part_body(msg.data, "text/plain");
	html = part_body(msg.data, "text/html");
	ok(text != NULL && strcmp(text, ct.text.data) == 0, "text part decodes to the text");
	ok(html != NULL && strcmp(html, ct.html.data) == 0, "HTML part decodes to the HTML");
	free(text);
	free(html);
	for (const char *p = msg.data; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80) {
			ok(0, "message is 7-bit");
			break;
		}
	ok(strstr(msg.data, "\r\n.\r\n") == NULL, "no lone dot line");
	sb_free(&msg);
	notify_email_content_free(&ct);

	/* header injection through the subject (a resource name): stripped */
	memset(&ct, 0, sizeof(ct));
	sb_puts(&ct.subject, "x\r\nBcc: victim@example.org");
	ok(notify_email_message(&c, &ct, NOW, NULL, &msg, err, sizeof(err)) == 0, "built");
	ok(strstr(msg.data, "\r\nBcc:") == NULL, "no injected header");
	ok(strstr(msg.data, "Subject: x  Bcc: victim@example.org\r\n") != NULL, "CR/LF blanked");
	ok(strstr(msg.data, "X-Pulse-Delivery") == NULL, "no key, no header");
	sb_free(&msg);
	notify_email_content_free(&ct);

	/* non-ASCII subject: RFC 2047 */
	memset(&ct, 0, sizeof(ct));
	sb_puts(&ct.subject, "Temp 71.0\u00b0C on s\u00e9rveur-with-a-rather-long-name-to-split-it");
	ok(notify_email_message(&c, &ct, NOW, NULL, &msg, err, sizeof(err)) == 0, "built");
	ok(strstr(msg.data, "Subject: =?UTF-8?B?") != NULL, "encoded word");
	ok(strstr(msg.data, "?=\r\n =?UTF-8?B?") != NULL, "folded into several words");
	sb_free(&msg);

	/* injection through addresses and the key: refused */
	snprintf(c.from, sizeof(c.from), "a@b\r\nBcc: x@y");
	ok(notify_email_message(&c, &ct, NOW, NULL, &msg, err, sizeof(err)) != 0, "from refused");
	snprintf(c.from, sizeof(c.from), "pulse@example.org");
	snprintf(c.to[1], sizeof(c.to[1]), "b@example.org\nBcc: x@y");
	ok(notify_email_message(&c, &ct, NOW, NULL, &msg, err, sizeof(err)) != 0, "to refused");
	snprintf(c.to[1], sizeof(c.to[1]), "Name <b@example.org>");
	ok(notify_email_message(&c, &ct, NOW, NULL, &msg, err, sizeof(err)) != 0,
	    "display name form refused");
	snprintf(c.to[1], sizeof(c.to[1]), "b@example.org");
	ok(notify_email_message(&c, &ct, NOW, "k\r\nX: y", &msg, err, sizeof(err)) != 0,
	    "key refused");
	c.from[0] = '\0';
	ok(notify_email_message(&c, &ct, NOW, NULL, &msg, err, sizeof(err)) != 0,
	    "empty from refused");
	sb_free(&msg);
	notify_email_content_free(&ct);

	/* no recipient: To is From */
	c = make_config();
	c.to_count = 0;
	memset(&ct, 0, sizeof(ct));
	sb_puts(&ct.subject, "s");
	ok(notify_email_message(&c, &ct, NOW, NULL, &msg, err, sizeof(err)) == 0, "built");
	ok(strstr(msg.data, "\r\nTo: pulse@example.org\r\n") != NULL, "to empty: to from");
	sb_free(&msg);
	notify_email_content_free(&ct);
}

static void
test_send_fails(void)
{
	struct email_config c = make_config();
	struct notify_email_opts opts = { .connect_timeout_ms = 2000, .timeout_ms = 3000,
	    .attempts = 2, .retry_delay_ms = 10 };
	struct json_object *o;

	snprintf(c.server, sizeof(c.server), "127.0.0.1");
	c.port = 1;
	c.tls = 0;
	snprintf(c.username, sizeof(c.username), "u");
	snprintf(c.password, sizeof(c.password), "s3cret-pw");
	ok(notify_email_send_test(&c, &alerts[0], &opts, err, sizeof(err)) != 0,
	    "refused connection fails");
	ok(strstr(err, "email failed after 2 attempts") != NULL, "retried: %s", err);
	ok(strstr(err, "s3cret-pw") == NULL, "no password in the error");

	snprintf(c.server, sizeof(c.server), "evil.example/x@y");
	ok(notify_email_send_test(&c, &alerts[0], &opts, err, sizeof(err)) != 0 &&
	    strstr(err, "host name") != NULL, "a server that is not a host refused");
	snprintf(c.server, sizeof(c.server), "::1");
	ok(notify_email_send_test(&c, &alerts[0], &opts, err, sizeof(err)) != 0 &&
	    strstr(err, "host name") == NULL, "an IPv6 address is a host: %s", err);

	o = json_tokener_parse("{\"server\":\"127.0.0.1\",\"port\":1,\"tls\":false,"
	    "\"from\":\"a@b.c\"}");
	opts.attempts = 0;
	ok(notify_email_send(o, alerts, 3, 0, NULL, "k1", &opts, err, sizeof(err)) != 0,
	    "queue send fails too");
	ok(strstr(err, "attempts") == NULL, "one attempt by default: %s", err);
	ok(notify_email_send(o, alerts, 0, 0, NULL, NULL, &opts, err, sizeof(err)) != 0,
	    "no alert refused");
	json_object_put(o);
}

int
main(void)
{
	make_alerts();
	test_config();
	test_subjects();
	test_recovery();
	test_message();
	test_send_fails();
	return done_testing();
}
