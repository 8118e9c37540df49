/* test_notify_queue.c: what the queue shows of a channel configuration (secrets redacted) and
 * the per-URL webhook rate limit; the statements are exercised by t/api/47-notify-queue.t. */
#include "config.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "notify_queue.h"
#include "notify_send.h"
#include "tap.h"

static const char *
redacted_url(const char *url)
{
	static char buf[512];
	char *s = notify_queue_redact_url(url);

	snprintf(buf, sizeof(buf), "%s", s);
	free(s);
	return buf;
}

/* limit requests to url from t0 on, one a second, then one more refused until the window
 * of window_s seconds (0: a minute) ends, then a new window. */
static void
rate_window_case(const char *url, int limit, int window_s, double t0)
{
	double len = window_s > 0 ? window_s : 60, wait = 0, want = len - (limit + 1);

	for (int i = 0; i < limit; i++)
		ok(notify_send_rate_take(url, limit, window_s, t0 + i, NULL), "%s: request %d within the limit",
		    url, i + 1);
	ok(!notify_send_rate_take(url, limit, window_s, t0 + limit + 1, &wait), "%s: one more is refused", url);
	ok(wait > want - 0.1 && wait < want + 0.1, "%s: until the window ends: %.1f s", url, wait);
	ok(notify_send_rate_take(url, limit, window_s, t0 + len, NULL), "%s: a new window after %.0f s", url, len);
}

int
main(void)
{
	const char *cfg = "{\"name\":\"ops\",\"url\":\"https://u:pw@hooks.example/api/T1/B2/secret?token=abc&x=1\","
	    "\"headers\":{\"Authorization\":\"Bearer s3cret\",\"X-Other\":\"v\"},"
	    "\"customFields\":{\"app_token\":\"tok\"},\"password\":\"smtp-pass\",\"apiKey\":\"k1\","
	    "\"smtpPort\":587,\"enabled\":true,\"targets\":[\"tgram://bot123/chat\"],\"from\":\"a@b\"}";
	struct json_object *o = jsonutil_parse(cfg, strlen(cfg), NULL, 0);
	const char *text;

	is_str(redacted_url("https://hooks.slack.com/services/T0/B0/XYZ"),
	    "https://hooks.slack.com/services/***REDACTED***", "path after the first segment");
	is_str(redacted_url("https://api.telegram.org/bot123:ABC/sendMessage?chat_id=42"),
	    "https://api.telegram.org/bot123:ABC/***REDACTED***?chat_id=***REDACTED***",
	    "query values");
	is_str(redacted_url("http://user:pw@h.example:8080/x"),
	    "http://***REDACTED***@h.example:8080/x", "user information");
	is_str(redacted_url("http://h.example"), "http://h.example", "a bare host stays");
	is_str(redacted_url("http://h.example/?a&b=2#f"), "http://h.example/?a&b=***REDACTED***",
	    "a key without value stays, the fragment goes");
	is_str(redacted_url(""), "", "empty stays empty");
	is_str(redacted_url("no scheme"), "***REDACTED***", "unparsable: all of it");

	ok(o != NULL, "config parsed");
	notify_queue_redact(o);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	ok(strstr(text, "s3cret") == NULL, "header value gone");
	ok(strstr(text, "\"X-Other\":\"***REDACTED***\"") != NULL, "every header value redacted");
	ok(strstr(text, "\"tok\"") == NULL, "custom field gone");
	ok(strstr(text, "smtp-pass") == NULL, "password gone");
	ok(strstr(text, "\"apiKey\":\"***REDACTED***\"") != NULL, "apiKey redacted");
	ok(strstr(text, "pw@") == NULL && strstr(text, "abc") == NULL, "URL secrets gone");
	ok(strstr(text, "bot123") == NULL, "apprise target tokens gone");
	ok(strstr(text, "\"name\":\"ops\"") != NULL, "name kept");
	ok(strstr(text, "\"smtpPort\":587") != NULL, "numbers kept");
	ok(strstr(text, "\"from\":\"a@b\"") != NULL, "plain fields kept");
	json_object_put(o);

	rate_window_case("http://a.example/", 3, 0, 100.0);
	ok(notify_send_rate_take("http://b.example/", 3, 0, 104.0, NULL), "another URL has its own count");
	ok(notify_send_rate_take("http://a.example/", 0, 0, 161.0, NULL), "0: no limit");
	/* A shorter window (notify_rate_window), as the short API test runs it. */
	rate_window_case("http://c.example/", 2, 10, 500.0);
	return done_testing();
}
