/* test_notify_apprise.c: the apprise configuration's normalisation, the title, body and type
 * of a notification, and the CLI run against t/fakes/apprise-cli.sh (arguments, a non-zero
 * exit, a timeout). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "notify_apprise.h"
#include "tap.h"

#define NOW 1767225600.0
#define FAKE TOP_SRCDIR "/t/fakes/apprise-cli.sh"

static char err[APPRISE_ERR_LEN];

static int
parse(const char *json, struct apprise_config *c)
{
	struct json_object *o = json_tokener_parse(json);
	int rc = notify_apprise_config_parse(o, c, err, sizeof(err));

	json_object_put(o);
	return rc;
}

static void
test_config(void)
{
	struct apprise_config c;
	struct json_object *j;

	ok(parse("{\"enabled\":true,\"targets\":[\" mailto://a \",\"\",\"MAILTO://A\","
	    "\"json://h\"]}", &c) == 0, "parses");
	is_int((long long)c.target_count, 2, "trimmed, empties and case repeats dropped");
	is_str(c.targets[0], "mailto://a", "first target trimmed");
	is_int(c.http_mode, 0, "cli by default");
	is_str(c.cli_path, "apprise", "cliPath default");
	is_int(c.timeout_seconds, 15, "timeout default");
	is_str(c.api_key_header, "X-API-KEY", "header default");
	is_int(c.enabled, 1, "enabled with targets");
	j = notify_apprise_config_to_json(&c);
	is_str(jsonutil_to_string(j, NULL),
	    "{\"enabled\":true,\"mode\":\"cli\",\"targets\":[\"mailto://a\",\"json://h\"],"
	    "\"cliPath\":\"apprise\",\"timeoutSeconds\":15,\"serverUrl\":\"\",\"configKey\":\"\","
	    "\"apiKey\":\"\",\"apiKeyHeader\":\"X-API-KEY\",\"skipTlsVerify\":false}",
	    "normalised JSON");
	json_object_put(j);
	notify_apprise_config_free(&c);

	ok(parse("{\"enabled\":true,\"timeoutSeconds\":2}", &c) == 0, "parses");
	is_int(c.enabled, 0, "cli without targets: disabled");
	is_int(c.timeout_seconds, 5, "timeout clamped up");
	notify_apprise_config_free(&c);
	ok(parse("{\"timeoutSeconds\":500,\"mode\":\"HTTP\",\"enabled\":true,"
	    "\"serverUrl\":\" http://x/// \"}", &c) == 0, "parses");
	is_int(c.timeout_seconds, 120, "timeout clamped down");
	is_int(c.http_mode, 1, "mode case-insensitive");
	is_str(c.server_url, "http://x", "server URL trimmed, no trailing slash");
	is_int(c.enabled, 1, "http with a server URL stays enabled");
	notify_apprise_config_free(&c);
	ok(parse("{\"mode\":\"http\",\"enabled\":true}", &c) == 0, "parses");
	is_int(c.enabled, 0, "http without a server URL: disabled");
	notify_apprise_config_free(&c);

	ok(parse("{\"targets\":\"x\"}", &c) != 0, "targets as a string refused");
	notify_apprise_config_free(&c);
	ok(parse("{\"targets\":[1]}", &c) != 0, "a number target refused");
	notify_apprise_config_free(&c);
	ok(parse("{\"timeoutSeconds\":\"5\"}", &c) != 0, "timeout as a string refused");
	notify_apprise_config_free(&c);
	ok(parse("{\"enabled\":\"yes\"}", &c) != 0, "enabled as a string refused");
	notify_apprise_config_free(&c);

	ok(notify_apprise_cli_path_ok("apprise"), "bare apprise allowed");
	ok(notify_apprise_cli_path_ok("/usr/bin/apprise"), "absolute path allowed");
	ok(!notify_apprise_cli_path_ok("bin/apprise"), "relative path refused");
	ok(!notify_apprise_cli_path_ok("python3"), "another bare name refused");
}

static void
make_alerts(struct alert *a)
{
	memset(a, 0, 2 * sizeof(*a));
	snprintf(a[0].resource_name, sizeof(a[0].resource_name), "web-01");
	snprintf(a[0].level, sizeof(a[0].level), "warning");
	snprintf(a[0].type, sizeof(a[0].type), "cpu");
	snprintf(a[0].node, sizeof(a[0].node), "node1");
	snprintf(a[0].instance, sizeof(a[0].instance), "pve1");
	snprintf(a[0].message, sizeof(a[0].message), "CPU at 91%%");
	a[0].value = 91.234;
	a[0].threshold = 90;
	a[0].start_time = NOW - 60;
	a[1] = a[0];
	snprintf(a[1].resource_name, sizeof(a[1].resource_name), "db-02");
	snprintf(a[1].level, sizeof(a[1].level), "critical");
	snprintf(a[1].instance, sizeof(a[1].instance), "node1");
}

static void
test_content(void)
{
	struct alert a[2];
	struct strbuf title = { 0 }, body = { 0 };
	const char *type;

	make_alerts(a);
	type = notify_apprise_content(a, 1, 0, "https://pulse.example", NOW, &title, &body);
	is_str(title.data, "Pulse alert: web-01", "single title");
	is_str(type, "warning", "warning type");
	is_str(body.data, "CPU at 91%\n\n[WARNING] web-01 \u2014 value 91.23 (threshold 90.00)\n"
	    "Node: node1\nInstance: pve1\n\nDashboard: https://pulse.example\n", "single body");
	sb_reset(&title);
	sb_reset(&body);
	type = notify_apprise_content(a, 2, 0, NULL, NOW, &title, &body);
	is_str(title.data, "Pulse alerts (2)", "grouped title");
	is_str(type, "failure", "a critical makes failure");
	ok(strstr(body.data, "[CRITICAL] db-02") != NULL, "second alert listed");
	ok(strstr(body.data, "[CRITICAL] db-02 \u2014 value 91.23 (threshold 90.00)\nNode: node1\n"
	    "\n") != NULL || strstr(body.data, "Instance: node1") == NULL,
	    "instance equal to node left out");
	sb_reset(&title);
	sb_reset(&body);
	type = notify_apprise_content(a, 1, 1, NULL, NOW, &title, &body);
	is_str(title.data, "Pulse alert resolved: web-01", "recovery title");
	is_str(type, "info", "recovery is info");
	ok(strncmp(body.data, "Resolved at ", 12) == 0, "recovery body is the recovery text");
	sb_free(&title);
	sb_free(&body);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_cli(void)
{
	struct apprise_config c;
	char record[] = "/tmp/apprise-record-XXXXXX";
	int fd = mkstemp(record);
	char *got;
	double t0;

	close(fd);
	setenv("APPRISE_FAKE_RECORD", record, 1);
	ok(parse("{\"enabled\":true,\"cliPath\":\"" FAKE "\",\"timeoutSeconds\":5,"
	    "\"targets\":[\"json://127.0.0.1:1/secret-token\",\"-x\"]}", &c) == 0, "parses");
	ok(notify_apprise_run_cli(&c, "T \"1\"", "line1\nline2", err, sizeof(err)) == 0,
	    "fake apprise runs: %s", err);
	got = slurp(record);
	is_str(got, "-t\nT \"1\"\n-b\nline1\nline2\n--\njson://127.0.0.1:1/secret-token\n-x\n",
	    "argv: title, body, end of options, targets");

	setenv("APPRISE_FAKE_EXIT", "3", 1);
	setenv("APPRISE_FAKE_STDERR", "bad target json://127.0.0.1:1/secret-token here", 1);
	ok(notify_apprise_run_cli(&c, "t", "b", err, sizeof(err)) != 0, "non-zero exit fails");
	ok(strstr(err, "status 3") != NULL, "exit status in the error: %s", err);
	ok(strstr(err, "secret-token") == NULL, "target masked in the error");
	unsetenv("APPRISE_FAKE_EXIT");
	unsetenv("APPRISE_FAKE_STDERR");

	setenv("APPRISE_FAKE_SLEEP", "30", 1);
	t0 = clock_monotonic();
	ok(notify_apprise_run_cli(&c, "t", "b", err, sizeof(err)) != 0, "slow apprise fails");
	ok(strstr(err, "timed out") != NULL, "timeout reported: %s", err);
	ok(clock_monotonic() - t0 < 25, "killed at the timeout, not waited for");
	unsetenv("APPRISE_FAKE_SLEEP");
	notify_apprise_config_free(&c);

	ok(parse("{\"enabled\":true,\"cliPath\":\"./apprise\",\"targets\":[\"x://\"]}", &c) == 0,
	    "parses");
	ok(notify_apprise_run_cli(&c, "t", "b", err, sizeof(err)) != 0, "relative path refused");
	notify_apprise_config_free(&c);
	ok(parse("{\"enabled\":true,\"cliPath\":\"/nonexistent/apprise\",\"targets\":[\"x://\"]}",
	    &c) == 0, "parses");
	ok(notify_apprise_run_cli(&c, "t", "b", err, sizeof(err)) != 0, "missing program fails");
	notify_apprise_config_free(&c);
	ok(parse("{\"mode\":\"http\",\"serverUrl\":\"file:///etc/passwd\"}", &c) == 0, "parses");
	ok(notify_apprise_post(&c, "t", "b", "info", NULL, err, sizeof(err)) != 0, "file URL refused");
	notify_apprise_config_free(&c);
	ok(parse("{\"mode\":\"http\",\"serverUrl\":\"http://127.0.0.1:1\","
	    "\"apiKeyHeader\":\"X-Key: a\\r\\nB\"}", &c) == 0, "parses");
	ok(notify_apprise_post(&c, "t", "b", "info", NULL, err, sizeof(err)) != 0, "bad header refused");
	notify_apprise_config_free(&c);
	unlink(record);
}

int
main(void)
{
	test_config();
	test_content();
	test_cli();
	return done_testing();
}
