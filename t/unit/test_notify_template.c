/* test_notify_template.c: the webhook template interpreter: fields, conditions, range, pipes,
 * functions, JSON escaping, and templates that try to break it. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify_template.h"
#include "tap.h"
#include "util.h"

static struct tpl_value *data;
static char out_text[4096];
static char err[TPL_ERR_LEN];

/* Renders text over data; returns its output (or "ERR" with the message in err). */
static const char *
render_flags(const char *text, int flags)
{
	struct strbuf sb = {0};

	err[0] = '\0';
	if (notify_template_render(text, data, flags, &sb, err, sizeof(err)) < 0) {
		sb_free(&sb);
		return "ERR";
	}
	snprintf(out_text, sizeof(out_text), "%s", sb.data ? sb.data : "");
	sb_free(&sb);
	return out_text;
}

static const char *
render(const char *text)
{
	return render_flags(text, 0);
}

static void
build_data(void)
{
	struct tpl_value *cf, *alerts, *a;

	data = tpl_map_new();
	tpl_map_str(data, "Level", "critical");
	tpl_map_str(data, "ResourceName", "web-01");
	tpl_map_str(data, "Message", "CPU \"high\"\nnow");
	tpl_map_num(data, "Value", 91.5);
	tpl_map_num(data, "Threshold", 90);
	tpl_map_bool(data, "Acknowledged", 0);
	tpl_map_str(data, "Empty", "");
	cf = tpl_map_map(data, "CustomFields");
	tpl_map_str(cf, "routing_key", "abc");
	alerts = tpl_map_list(data, "Alerts");
	a = tpl_list_map(alerts);
	tpl_map_str(a, "ResourceName", "a1");
	a = tpl_list_map(alerts);
	tpl_map_str(a, "ResourceName", "a2");
	tpl_map_num(data, "AlertCount", 2);
}

static void
test_basics(void)
{
	is_str(render("plain"), "plain", "text only");
	is_str(render(""), "", "empty template");
	is_str(render("{{.ResourceName}}"), "web-01", "field");
	is_str(render("{{.Value}}/{{.Threshold}}"), "91.5/90", "numbers as Go prints them");
	is_str(render("{{.Acknowledged}}"), "false", "bool");
	is_str(render("{{.CustomFields.routing_key}}"), "abc", "map key");
	is_str(render("{{.CustomFields.nope}}"), "<no value>", "missing map key prints as Go does");
	is_str(render("{{.Nope}}"), "ERR", "unknown field is an error");
	ok(strstr(err, "Nope") != NULL, "the message names the field: %s", err);
	is_str(render("{{\"lit\"}} {{`raw`}} {{42}} {{true}}"), "lit raw 42 true", "literals");
	is_str(render("{{/* note */}}x"), "x", "comment");
	is_str(render("a  {{- .Level -}}  b"), "acriticalb", "trim markers");
	is_str(render("{{$.Level}}"), "critical", "root");
}

static void
test_control(void)
{
	is_str(render("{{if eq .Level \"critical\"}}C{{else if eq .Level \"warning\"}}W{{else}}I{{end}}"),
	    "C", "if/else if chain");
	is_str(render("{{if eq .Level \"x\"}}C{{else if eq .Level \"critical\"}}W{{else}}I{{end}}"),
	    "W", "else if taken");
	is_str(render("{{if .Empty}}y{{else}}n{{end}}"), "n", "empty string is false");
	is_str(render("{{if .CustomFields.nope}}y{{else}}n{{end}}"), "n", "missing key is false");
	is_str(render("{{if or (eq .Level \"warning\") (eq .Level \"critical\")}}y{{end}}"), "y",
	    "or over parenthesised eq");
	is_str(render("{{if and .Value (not .Acknowledged)}}y{{end}}"), "y", "and, not");
	is_str(render("{{or .Empty \"fallback\"}}"), "fallback", "or returns the first true");
	is_str(render("{{if eq .Level \"a\" \"critical\"}}y{{end}}"), "y", "eq with several");
	is_str(render("{{if ne .Level \"a\"}}y{{end}}"), "y", "ne");
	is_str(render("{{range .Alerts}}[{{.ResourceName}}]{{end}}"), "[a1][a2]", "range");
	is_str(render("{{range .Alerts}}{{$.Level}}{{end}}"), "criticalcritical", "root in range");
	is_str(render("{{range .CustomFields.none}}x{{else}}none{{end}}"), "none", "range else");
	is_str(render("{{len .Alerts}}"), "2", "len");
}

static void
test_functions(void)
{
	is_str(render("{{.Level | upper}}"), "CRITICAL", "pipe upper");
	is_str(render("{{.Level | title}}"), "Critical", "title");
	is_str(render("{{\"ABC\" | lower}}"), "abc", "lower");
	is_str(render("{{printf \"%.1f%%\" .Value}}"), "91.5%", "printf one decimal");
	is_str(render("{{printf \"%.0f\" .Threshold}}"), "90", "printf no decimal");
	is_str(render("{{printf \"%s=%d\" .Level 3}}"), "critical=3", "printf string and integer");
	is_str(render("{{printf \"%d\" .Value}}"), "%!d(float64=91.5)", "printf integer verb of a fraction");
	is_str(render("{{printf \"%s %s\" .Level}}"), "critical %!s(MISSING)", "missing argument");
	is_str(render("{{printf \"%999999f\" .Value}}"), "%!(BADWIDTH)", "huge width refused");
	is_str(render("{{.Value | printf \"%.2f\"}}"), "91.50", "piped into printf");
	is_str(render("{{urlquery \"a b&c/d\"}}"), "a+b%26c%2Fd", "urlquery");
	is_str(render("{{\"a b&c/d\" | urlencode}}"), "a+b%26c%2Fd", "urlencode");
	is_str(render("{{urlpath \"a b&c/d\"}}"), "a%20b&c%2Fd", "urlpath");
	is_str(render("{{pathescape \"x?y\"}}"), "x%3Fy", "pathescape");
	is_str(render("{{nosuch .Level}}"), "ERR", "unknown function");
	ok(strstr(err, "nosuch") != NULL, "message names it: %s", err);
	is_str(render("{{upper}}"), "ERR", "upper without argument");
}

static void
test_escape(void)
{
	is_str(render_flags("{\"m\":\"{{.Message}}\"}", TPL_ESCAPE_JSON),
	    "{\"m\":\"CPU \\\"high\\\"\\nnow\"}", "values escaped for JSON");
	is_str(render_flags("\"{{.Message}}\"\n", 0), "\"CPU \"high\"\nnow\"\n", "raw without flag");
	is_str(render_flags("{\"v\":{{.Value}}}", TPL_ESCAPE_JSON), "{\"v\":91.5}",
	    "numbers unchanged");
}

static void
test_malicious(void)
{
	struct strbuf sb = {0};
	char *big;

	is_str(render("{{.Level"), "ERR", "unclosed action");
	is_str(render("{{if .Level}}x"), "ERR", "if without end");
	ok(strstr(err, "end") != NULL, "says end: %s", err);
	is_str(render("{{end}}"), "ERR", "stray end");
	is_str(render("{{else}}"), "ERR", "stray else");
	is_str(render("{{range .Alerts}}{{else if .X}}{{end}}"), "ERR", "else if in range");
	is_str(render("{{\"abc}}"), "ERR", "unterminated string");
	is_str(render("{{/* abc"), "ERR", "unclosed comment");
	is_str(render("{{(.Level}}"), "ERR", "unclosed paren");
	is_str(render("{{.Level)}}"), "ERR", "stray paren");
	is_str(render("{{}}"), "ERR", "empty action");
	is_str(render("{{$x := 1}}"), "ERR", "variables refused");
	is_str(render("{{with .Level}}{{end}}"), "ERR", "with refused");
	is_str(render("{{.Level.x}}"), "ERR", "field of a string");
	is_str(render("{{range .Level}}{{end}}"), "ERR", "range over a string");
	is_str(render("{{.A..B}}"), "ERR", "bad field name");
	is_str(render("{{ .Level | .Level }}"), "ERR", "non-function in pipeline");
	is_str(render("{{#}}"), "ERR", "odd character");
	is_str(render("}} {{ \"}}\" }}"), "}} }}", "braces in text and strings");

	/* Deep nesting of ifs and of parentheses. */
	for (int i = 0; i < 100; i++)
		sb_puts(&sb, "{{if .Level}}");
	for (int i = 0; i < 100; i++)
		sb_puts(&sb, "{{end}}");
	is_str(render(sb.data), "ERR", "100 nested ifs refused");
	ok(strstr(err, "deep") != NULL, "says too deep: %s", err);
	sb_reset(&sb);
	sb_puts(&sb, "{{");
	for (int i = 0; i < 60; i++)
		sb_puts(&sb, "(");
	sb_puts(&sb, ".Level");
	for (int i = 0; i < 60; i++)
		sb_puts(&sb, ")");
	sb_puts(&sb, "}}");
	is_str(render(sb.data), "ERR", "deep parentheses refused");
	sb_reset(&sb);
	for (int i = 0; i < 20; i++)
		sb_puts(&sb, "{{if .Level}}");
	sb_puts(&sb, "ok");
	for (int i = 0; i < 20; i++)
		sb_puts(&sb, "{{end}}");
	is_str(render(sb.data), "ok", "20 nested ifs are fine");

	/* Output growth: each range over a range multiplies. */
	sb_reset(&sb);
	sb_puts(&sb, "{{printf \"%99f\" 1.0}}");
	for (int i = 0; i < 30; i++)
		sb_puts(&sb, "{{range $.Alerts}}");
	sb_puts(&sb, "{{printf \"%99f\" 1.0}}");
	for (int i = 0; i < 30; i++)
		sb_puts(&sb, "{{end}}");
	is_str(render(sb.data), "ERR", "exponential output stopped");
	ok(strstr(err, "larger") != NULL || strstr(err, "steps") != NULL, "bounded: %s", err);

	/* Values made without being written (printf of printf of ... in a condition, in a
	 * range): the run's scratch space is released after each node, so this stays small. */
	sb_reset(&sb);
	sb_puts(&sb, "{{range $.Alerts}}{{range $.Alerts}}{{if ");
	for (int i = 0; i < 9; i++)
		sb_puts(&sb, "(printf \"%s%s%s%s%s%s%s%s\" ");
	sb_puts(&sb, "$.Level");
	for (int i = 0; i < 9; i++)
		sb_puts(&sb, " $.Level $.Level $.Level $.Level $.Level $.Level $.Level)");
	sb_puts(&sb, "}}x{{end}}{{end}}{{end}}");
	is_str(render(sb.data), "xxxx", "nested printf in a condition inside ranges");

	/* Too large a template. */
	big = xmalloc(TPL_MAX_SIZE + 2);
	memset(big, 'x', TPL_MAX_SIZE + 1);
	big[TPL_MAX_SIZE + 1] = '\0';
	is_str(render(big), "ERR", "oversized template");
	free(big);
	sb_free(&sb);
}

static void
test_parse_once(void)
{
	struct notify_template *t = notify_template_parse("{{.Level}}!", err, sizeof(err));
	struct strbuf sb = {0};

	ok(t != NULL, "parsed");
	ok(notify_template_run(t, data, 0, &sb, err, sizeof(err)) == 0, "first run");
	ok(notify_template_run(t, data, 0, &sb, err, sizeof(err)) == 0, "second run appends");
	is_str(sb.data, "critical!critical!", "output of both");
	notify_template_free(t);
	sb_free(&sb);
}

int
main(void)
{
	build_data();
	test_basics();
	test_control();
	test_functions();
	test_escape();
	test_malicious();
	test_parse_once();
	tpl_value_free(data);
	return done_testing();
}
