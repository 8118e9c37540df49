/* test_util.c: bounded parsers, string buffers, constant-time compare. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "tap.h"
#include "log.h"
#include "util.h"

int
main(void)
{
	int64_t v = 7;
	int b = -1;
	struct strbuf sb = {0};

	is_int(parse_int64("42", 0, 100, &v), 0, "parse_int64 accepts 42");
	is_int(v, 42, "parse_int64 value");
	is_int(parse_int64("-5", -10, 10, &v), 0, "negative within range");
	is_int(v, -5, "negative value");
	v = 7;
	is_int(parse_int64("", 0, 100, &v), -1, "empty string refused");
	is_int(parse_int64(" 1", 0, 100, &v), -1, "leading space refused");
	is_int(parse_int64("1 ", 0, 100, &v), -1, "trailing space refused");
	is_int(parse_int64("12abc", 0, 100, &v), -1, "trailing garbage refused");
	is_int(parse_int64("101", 0, 100, &v), -1, "above max refused");
	is_int(parse_int64("99999999999999999999", INT64_MIN, INT64_MAX, &v), -1,
	    "overflow refused");
	is_int(parse_int64(NULL, 0, 1, &v), -1, "NULL refused");
	is_int(v, 7, "failed parses leave the value alone");

	is_int(parse_size("512", &v), 0, "plain size");
	is_int(v, 512, "plain size value");
	is_int(parse_size("16M", &v), 0, "size with M");
	is_int(v, 16 * 1024 * 1024, "16M is 16 MiB");
	is_int(parse_size("2k", &v), 0, "size with k");
	is_int(v, 2048, "2k value");
	is_int(parse_size("1G", &v), 0, "size with G");
	is_int(parse_size("M", &v), -1, "suffix alone refused");
	is_int(parse_size("-1", &v), -1, "negative size refused");
	is_int(parse_size("10T", &v), -1, "unknown suffix refused");

	is_int(parse_bool("Yes", &b), 0, "Yes is a bool");
	is_int(b, 1, "Yes is true");
	is_int(parse_bool("off", &b), 0, "off is a bool");
	is_int(b, 0, "off is false");
	is_int(parse_bool("maybe", &b), -1, "maybe is not a bool");

	sb_puts(&sb, "abc");
	sb_printf(&sb, "-%d-%s", 12, "x");
	is_str(sb.data, "abc-12-x", "strbuf appends and formats");
	for (int i = 0; i < 1000; i++)
		sb_puts(&sb, "0123456789");
	is_int(sb.len, 8 + 10000, "strbuf grows");
	sb_reset(&sb);
	is_str(sb.data, "", "strbuf reset");
	sb_free(&sb);

	ok(ct_equal("secret", 6, "secret", 6), "ct_equal equal");
	ok(!ct_equal("secret", 6, "secreT", 6), "ct_equal different byte");
	ok(!ct_equal("secret", 6, "secret!", 7), "ct_equal different length");
	ok(!ct_equal("secret", 6, "secretsecret", 12), "Info: ct_equal: a repetition of the secret "
	    "is not equal");
	ok(!ct_equal("secret", 6, "", 0) && !ct_equal("", 0, "x", 1) && ct_equal("", 0, "", 0),
	    "Info: ct_equal: empty values");

	{
		char q[64];
		is_str(log_quote(q, sizeof(q), "x\" level=error msg=\"forged"),
		    "x\\\" level=error msg=\\\"forged", "Info: a quote in a logged value is escaped");
		is_str(log_quote(q, 8, "a\\b\"cdefgh"), "a\\\\b\\\"", "Info: a backslash too; cut to fit");
	}

	char *s = xasprintf("%s=%d", "n", 5);
	is_str(s, "n=5", "xasprintf");
	free(s);
	ok(clock_monotonic() > 0, "monotonic clock runs");
	return done_testing();
}
