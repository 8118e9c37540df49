/* test_notify_channels.c: the notification channel configurations (checks, normalisation,
 * masked forms, URL redaction) and the checks of the system settings. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify_channels.h"
#include "notify_email.h"
#include "settings.h"
#include "tap.h"
#include "util.h"

typedef struct json_object *(*reader)(struct json_object *, struct json_object *, char *,
    size_t);

/* The JSON text of what fn reads from text over stored_text (NULL: none), or "ERR: msg".
 * A static buffer. */
static const char *
read_text(reader fn, const char *text, const char *stored_text)
{
	static char buf[8192];
	struct json_object *body = json_tokener_parse(text), *stored = NULL, *out;
	char err[256] = "";

	if (stored_text != NULL)
		stored = json_tokener_parse(stored_text);
	out = fn(body, stored, err, sizeof(err));
	if (out == NULL)
		snprintf(buf, sizeof(buf), "ERR: %s", err);
	else
		snprintf(buf, sizeof(buf), "%s", json_object_to_json_string_ext(out,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	json_object_put(body);
	json_object_put(stored);
	return buf;
}

static struct json_object *
webhook_reader(struct json_object *body, struct json_object *stored, char *err, size_t errlen)
{
	return notify_webhook_from_json(body, stored, NULL, err, errlen);
}

/* The public form made by fn of the configuration text. */
static const char *
public_text(struct json_object *(*fn)(struct json_object *), const char *text)
{
	static char buf[4096];
	struct json_object *cfg = json_tokener_parse(text), *out = fn(cfg);

	snprintf(buf, sizeof(buf), "%s", json_object_to_json_string_ext(out,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	json_object_put(cfg);
	return buf;
}

static void
test_email(void)
{
	struct json_object *d = notify_email_defaults();

	is_str(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN),
	    "{\"enabled\":false,\"provider\":\"\",\"server\":\"\",\"port\":587,\"username\":\"\","
	    "\"password\":\"\",\"from\":\"\",\"to\":[],\"tls\":true,\"startTLS\":false}",
	    "email defaults: disabled, 587, tls, to []");
	json_object_put(d);
	is_str(read_text(notify_email_from_json, "{\"enabled\":true,\"server\":\"smtp.x\","
	    "\"port\":465,\"password\":\"\",\"to\":[\"a@x\"],\"tls\":false}",
	    "{\"password\":\"old-secret\"}"),
	    "{\"enabled\":true,\"provider\":\"\",\"server\":\"smtp.x\",\"port\":465,\"username\":\"\","
	    "\"password\":\"old-secret\",\"from\":\"\",\"to\":[\"a@x\"],\"tls\":false,"
	    "\"startTLS\":false}", "email: an empty password keeps the stored one");
	ok(strstr(read_text(notify_email_from_json, "{\"password\":\"new\"}",
	    "{\"password\":\"old\"}"), "\"password\":\"new\"") != NULL, "email: a new password wins");
	is_str(read_text(notify_email_from_json, "{\"port\":\"25\"}", NULL),
	    "ERR: port must be an integer from 0 to 65535", "email: a port as a string");
	is_str(read_text(notify_email_from_json, "{\"port\":70000}", NULL),
	    "ERR: port must be an integer from 0 to 65535", "email: a port out of range");
	is_str(read_text(notify_email_from_json, "{\"to\":\"a@x\"}", NULL),
	    "ERR: to must be an array of strings", "email: to as a string");
	is_str(read_text(notify_email_from_json, "{\"from\":\"a@x\\r\\nBcc: b@y\"}", NULL),
	    "ERR: from must not hold CR or LF", "email: CR LF in from");
	is_str(read_text(notify_email_from_json, "{\"to\":[\"a@x\\nBcc: b@y\"]}", NULL),
	    "ERR: to: an entry must not hold CR or LF", "email: LF in a recipient");
	is_str(read_text(notify_email_from_json, "{\"tls\":1}", NULL),
	    "ERR: tls must be a boolean", "email: tls as a number");
	ok(strstr(read_text(notify_email_from_json, "{}", NULL), "\"tls\":true") != NULL,
	    "email: tls absent stays true");
	{
		char body[2048] = "{\"to\":[";

		for (int i = 0; i < EMAIL_MAX_RECIPIENTS + 1; i++)
			snprintf(body + strlen(body), sizeof(body) - strlen(body), "%s\"r%d@x\"",
			    i ? "," : "", i);
		strcat(body, "]}");
		is_str(read_text(notify_email_from_json, body, NULL),
		    "ERR: to holds more than 32 addresses",
		    "email: more recipients than the sender takes are refused when saved");
	}
	is_str(public_text(notify_email_public, "{\"server\":\"s\",\"password\":\"p\"}"),
	    "{\"server\":\"s\",\"password\":\"\"}", "email: the public form has no password");
}

static void
test_apprise(void)
{
	is_str(read_text(notify_apprise_from_json, "{\"enabled\":true,\"mode\":\"HTTP\","
	    "\"targets\":[\" a://x \",\"A://X\",\"\",\"b://y\"],\"timeoutSeconds\":0,"
	    "\"serverUrl\":\" https://apprise.lan/// \",\"apiKey\":\"k\"}", NULL),
	    "{\"enabled\":true,\"mode\":\"http\",\"targets\":[\"a://x\",\"b://y\"],\"cliPath\":"
	    "\"apprise\",\"timeoutSeconds\":15,\"serverUrl\":\"https://apprise.lan\",\"configKey\":"
	    "\"\",\"apiKey\":\"k\",\"apiKeyHeader\":\"X-API-KEY\",\"skipTlsVerify\":false}",
	    "apprise: http mode, targets trimmed and de-duplicated, defaults");
	ok(strstr(read_text(notify_apprise_from_json, "{\"enabled\":true,\"mode\":\"other\"}",
	    NULL), "\"enabled\":false,\"mode\":\"cli\"") != NULL,
	    "apprise: an unknown mode is cli; no targets disables");
	ok(strstr(read_text(notify_apprise_from_json, "{\"enabled\":true,\"mode\":\"http\","
	    "\"targets\":[\"a://x\"]}", NULL), "\"enabled\":false") != NULL,
	    "apprise: http without a server URL disables");
	ok(strstr(read_text(notify_apprise_from_json, "{\"timeoutSeconds\":2}", NULL),
	    "\"timeoutSeconds\":5") != NULL, "apprise: timeout clamped up to 5");
	ok(strstr(read_text(notify_apprise_from_json, "{\"timeoutSeconds\":999}", NULL),
	    "\"timeoutSeconds\":120") != NULL, "apprise: timeout clamped down to 120");
	ok(strstr(read_text(notify_apprise_from_json, "{\"timeoutSeconds\":-3}", NULL),
	    "\"timeoutSeconds\":15") != NULL, "apprise: a negative timeout is 15");
	ok(strstr(read_text(notify_apprise_from_json, "{\"apiKey\":\"***REDACTED***\"}",
	    "{\"apiKey\":\"stored-key\"}"), "\"apiKey\":\"stored-key\"") != NULL,
	    "apprise: the mask sent back keeps the stored key");
	is_str(read_text(notify_apprise_from_json, "{\"targets\":[1]}", NULL),
	    "ERR: targets must be an array of strings of at most 1024 bytes",
	    "apprise: a number in targets");
	is_str(read_text(notify_apprise_from_json, "{\"apiKeyHeader\":\"X\\r\\nY\"}", NULL),
	    "ERR: apiKeyHeader and apiKey must not hold CR, LF (or ':' in the name)",
	    "apprise: CR LF in the header name");
	is_str(public_text(notify_apprise_public, "{\"apiKey\":\"k\"}"),
	    "{\"apiKey\":\"***REDACTED***\"}", "apprise: the key masked");
	is_str(public_text(notify_apprise_public, "{\"apiKey\":\"\"}"), "{\"apiKey\":\"\"}",
	    "apprise: no key, no mask");
}

static void
test_urls(void)
{
	static const struct {
		const char *url;
		int allowed;
		const char *allowlist;
	} cases[] = {
		{"https://198.51.100.7/x", 1, NULL}, {"http://10.0.0.1:8080/p?q=1", 1, "10.0.0.0/8"},
		{"http://10.0.0.1:8080/p?q=1", 0, NULL}, {"http://10.0.0.1/", 0, "192.168.0.0/16"},
		{"http://127.0.0.1:9/", 0, NULL}, {"http://127.0.0.1:9/", 1, "127.0.0.1"},
		{"http://169.254.169.254/latest", 0, "169.254.0.0/16"},
		{"https://[2001:db8::1]/x", 1, NULL}, {"HTTPS://203.0.113.5", 1, NULL},
		{"https://name.invalid/", 0, NULL},
		{"ftp://example.org/", 0, NULL}, {"https://", 0, NULL}, {"https:///path", 0, NULL},
		{"https://user:pw@example.org/", 0, NULL}, {"https://exa mple.org/", 0, NULL},
		{"example.org/x", 0, NULL}, {"", 0, NULL}, {"https://example.org:99999/", 0, NULL},
	};
	char err[160], *long_url;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(webhook_url_allowed(cases[i].url, cases[i].allowlist, err, sizeof(err)),
		    cases[i].allowed, "URL '%s' (allowlist %s)", cases[i].url,
		    cases[i].allowlist ? cases[i].allowlist : "none");
	long_url = calloc(1, NOTIFY_URL_MAX + 2);
	memcpy(long_url, "https://a.example/", 18);
	memset(long_url + 18, 'x', NOTIFY_URL_MAX - 17);
	is_int(webhook_url_allowed(long_url, NULL, err, sizeof(err)), 0, "URL over 2048 bytes");
	free(long_url);
}

static void
test_webhooks(void)
{
	const char *stored = "{\"id\":\"webhook-1\",\"headers\":{\"Authorization\":\"Bearer s\"},"
	    "\"customFields\":{\"app_token\":\"t\"}}";
	char big[NOTIFY_TEMPLATE_MAX + 64];

	is_str(read_text(webhook_reader, "{\"name\":\"n\",\"url\":\"https://198.51.100.9/x\"}", NULL),
	    "{\"id\":\"\",\"name\":\"n\",\"url\":\"https://198.51.100.9/x\",\"method\":\"POST\","
	    "\"enabled\":false,\"service\":\"\",\"headers\":{},\"customFields\":{},\"template\":\"\"}",
	    "webhook: defaults");
	ok(strstr(read_text(webhook_reader, "{\"url\":\"https://198.51.100.9/\",\"method\":\"put\"}",
	    NULL), "\"method\":\"PUT\"") != NULL, "webhook: method upper-cased");
	is_str(read_text(webhook_reader, "{\"url\":\"https://198.51.100.9/\",\"method\":\"TRACE\"}",
	    NULL), "ERR: method must be GET, POST, PUT or PATCH", "webhook: TRACE refused");
	is_str(read_text(webhook_reader, "{\"url\":\"ftp://198.51.100.9/\"}", NULL),
	    "ERR: Invalid webhook URL: URL scheme must be http or https", "webhook: ftp refused");
	is_str(read_text(webhook_reader, "{\"url\":\"https://198.51.100.9/\",\"headers\":"
	    "{\"X-A\":\"a\\r\\nInjected: 1\"}}", NULL),
	    "ERR: headers: a header name must be a token and a value must not hold CR or LF",
	    "webhook: CR LF in a header value");
	is_str(read_text(webhook_reader, "{\"url\":\"https://198.51.100.9/\",\"headers\":"
	    "{\"Bad Name\":\"a\"}}", NULL),
	    "ERR: headers: a header name must be a token and a value must not hold CR or LF",
	    "webhook: a space in a header name");
	is_str(read_text(webhook_reader, "{\"url\":\"https://198.51.100.9/\",\"headers\":[1]}", NULL),
	    "ERR: headers must be an object of strings", "webhook: headers as an array");
	is_str(read_text(webhook_reader, "{\"url\":\"https://198.51.100.9/\",\"id\":\"a/b\"}", NULL),
	    "ERR: id may hold only letters, digits and ._:-", "webhook: a slash in the id");
	ok(strstr(read_text(webhook_reader, "{\"url\":\"https://198.51.100.9/\",\"enabled\":\"yes\"}",
	    NULL), "ERR: enabled must be a boolean") != NULL, "webhook: enabled as a string");
	snprintf(big, sizeof(big), "{\"url\":\"https://198.51.100.9/\",\"template\":\"%0*d\"}",
	    NOTIFY_TEMPLATE_MAX + 1, 0);
	ok(strncmp(read_text(webhook_reader, big, NULL), "ERR: template is longer", 23) == 0,
	    "webhook: template over 32 KiB");
	{
		struct strbuf sb = {0};

		sb_puts(&sb, "{\"url\":\"https://198.51.100.9/\",\"customFields\":{");
		for (int i = 0; i <= NOTIFY_MAX_CUSTOM_FIELDS; i++)
			sb_printf(&sb, "%s\"f%d\":\"v\"", i ? "," : "", i);
		sb_puts(&sb, "}}");
		is_str(read_text(webhook_reader, sb.data, NULL),
		    "ERR: customFields holds more than 50 entries", "webhook: 51 custom fields");
		sb_free(&sb);
	}
	/* Update: the id stays; masked maps keep the stored ones. */
	is_str(read_text(webhook_reader, "{\"id\":\"other\",\"url\":\"https://198.51.100.9/\","
	    "\"headers\":{\"Authorization\":\"***REDACTED***\"},\"customFields\":"
	    "{\"app_token\":\"***REDACTED***\",\"extra\":\"e\"}}", stored),
	    "{\"id\":\"webhook-1\",\"name\":\"\",\"url\":\"https://198.51.100.9/\",\"method\":\"POST\","
	    "\"enabled\":false,\"service\":\"\",\"headers\":{\"Authorization\":\"Bearer s\"},"
	    "\"customFields\":{\"app_token\":\"t\"},\"template\":\"\"}",
	    "webhook update: masked headers and custom fields keep the stored maps");
	ok(strstr(read_text(webhook_reader, "{\"url\":\"https://198.51.100.9/\",\"headers\":"
	    "{\"Authorization\":\"Bearer new\"}}", stored), "Bearer new") != NULL,
	    "webhook update: new header values replace");
	ok(strstr(read_text(webhook_reader, "{\"url\":\"https://198.51.100.9/\"}", stored),
	    "\"headers\":{}") != NULL, "webhook update: absent headers clear them");
	is_str(public_text(notify_webhook_public, "{\"id\":\"w\",\"name\":\"n\",\"url\":\"u\","
	    "\"method\":\"POST\",\"enabled\":true,\"service\":\"slack\",\"headers\":{\"A\":\"s\"},"
	    "\"customFields\":{},\"template\":\"\"}"),
	    "{\"id\":\"w\",\"name\":\"n\",\"url\":\"u\",\"method\":\"POST\",\"enabled\":true,"
	    "\"service\":\"slack\",\"headers\":{\"A\":\"***REDACTED***\"}}",
	    "webhook public: values masked, empty maps and template left out");
}

static void
test_redact(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"https://api.telegram.org/bot123:ABC/sendMessage?chat_id=5",
		    "https://api.telegram.org/botREDACTED/sendMessage?chat_id=5"},
		{"https://g.example/message?token=abc&x=1", "https://g.example/message?token=REDACTED&x=1"},
		{"https://198.51.100.9/?a=1&API_KEY=s&password=p#f",
		    "https://198.51.100.9/?a=1&API_KEY=REDACTED&password=REDACTED#f"},
		{"https://198.51.100.9/plain", "https://198.51.100.9/plain"},
		{"https://198.51.100.9/?keyring=1", "https://198.51.100.9/?keyring=1"},
		{"https://bot.example/x?a=1", "https://bot.example/x?a=1"},
		{"", ""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = notify_redact_url(cases[i].in);

		is_str(got, cases[i].want, "redact '%s'", cases[i].in);
		free(got);
	}
}

static void
test_settings(void)
{
	char out[256], err[256];

	is_int(settings_check_cidrs(" 10.0.0.0/8, ,192.168.1.5,fd00::/8 ", out, sizeof(out), err,
	    sizeof(err)), 0, "CIDRs: valid list");
	is_str(out, "10.0.0.0/8,192.168.1.5,fd00::/8", "CIDRs: trimmed and re-joined");
	is_int(settings_check_cidrs("", out, sizeof(out), err, sizeof(err)), 0, "CIDRs: empty");
	is_str(out, "", "CIDRs: empty clears");
	is_int(settings_check_cidrs("10.0.0.0/8, nonsense, 10.0.0.0/33", out, sizeof(out), err,
	    sizeof(err)), -1, "CIDRs: invalid entries");
	is_str(err, "Invalid webhook allowed private CIDRs: nonsense, 10.0.0.0/33",
	    "CIDRs: the invalid entries named");
	is_int(settings_check_public_url("", err, sizeof(err)), 0, "publicURL: empty");
	is_int(settings_check_public_url("https://pulse.example:8443/", err, sizeof(err)), 0,
	    "publicURL: https with a port");
	is_int(settings_check_public_url("pulse.example", err, sizeof(err)), -1,
	    "publicURL: no scheme");
	is_int(settings_check_public_url("javascript:alert(1)", err, sizeof(err)), -1,
	    "publicURL: another scheme");
}

int
main(void)
{
	test_email();
	test_apprise();
	test_urls();
	test_webhooks();
	test_redact();
	test_settings();
	return done_testing();
}
