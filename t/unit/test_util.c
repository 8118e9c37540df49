/* test_util.c: bounded parsers, string buffers, constant-time compare, the time formats. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "tap.h"
#include "log.h"
#include "timefmt.h"
#include "util.h"

/* Each encoding the wire and the database use, at the edges the callers can reach and past. */
static const struct {
	const char *(*format)(double t, char *out, size_t len);
	double t;
	const char *want, *what;
} time_cases[] = {
	/* Whole seconds, as the original writes a time without a fraction. */
	{timefmt_rfc3339, 1736458538, "2025-01-09T21:35:38Z", "rfc3339: whole seconds"},
	{timefmt_rfc3339, 1736458538.999, "2025-01-09T21:35:38Z",
	    "rfc3339: the fraction is cut off, not rounded"},
	{timefmt_rfc3339, 1.9999999995, "1970-01-01T00:00:01Z",
	    "rfc3339: .9999999995 stays in its second"},
	{timefmt_rfc3339, 0.5, "1970-01-01T00:00:00Z", "rfc3339: half a second after the epoch"},
	{timefmt_rfc3339, 951782400, "2000-02-29T00:00:00Z", "rfc3339: a leap day"},
	{timefmt_rfc3339, 0, "0001-01-01T00:00:00Z", "rfc3339: 0 is Go's zero time"},
	{timefmt_rfc3339, -1, "0001-01-01T00:00:00Z", "rfc3339: negative is the zero time"},
	{timefmt_rfc3339, NAN, "0001-01-01T00:00:00Z", "rfc3339: not a number is the zero time"},
	{timefmt_rfc3339, INFINITY, "0001-01-01T00:00:00Z", "rfc3339: infinity is the zero time"},
	{timefmt_rfc3339, 253402300799, "9999-12-31T23:59:59Z", "rfc3339: the last second of 9999"},
	{timefmt_rfc3339, 253402300800, "10000-01-01T00:00:00Z",
	    "rfc3339: past year 9999 the year grows a digit"},
	{timefmt_rfc3339, 1e17, "0001-01-01T00:00:00Z",
	    "rfc3339: beyond any calendar is the zero time"},

	/* RFC3339Nano: the microseconds a double holds, trailing zeros dropped. */
	{timefmt_rfc3339_nano, 1715500800, "2024-05-12T08:00:00Z",
	    "nano: whole seconds without a fraction"},
	{timefmt_rfc3339_nano, 1715500800.5, "2024-05-12T08:00:00.5Z",
	    "nano: fraction without trailing zeros"},
	{timefmt_rfc3339_nano, 1736458538.123, "2025-01-09T21:35:38.123Z",
	    "nano: a clock reading to the microsecond"},
	{timefmt_rfc3339_nano, 1736458538.000001, "2025-01-09T21:35:38.000001Z",
	    "nano: one microsecond keeps its leading zeros"},
	{timefmt_rfc3339_nano, 0.0000005, "1970-01-01T00:00:00.000001Z",
	    "nano: half a microsecond rounds up"},
	{timefmt_rfc3339_nano, 0.0000004999, "1970-01-01T00:00:00Z",
	    "nano: less than half a microsecond rounds down to whole"},
	{timefmt_rfc3339_nano, 1.9999999995, "1970-01-01T00:00:02Z",
	    "nano: .9999999995 rounds into the next second"},
	{timefmt_rfc3339_nano, 1704067199.9999996, "2024-01-01T00:00:00Z",
	    "nano: rounding carries over a year's end"},
	{timefmt_rfc3339_nano, 0, "0001-01-01T00:00:00Z", "nano: zero time"},
	{timefmt_rfc3339_nano, -1.5, "0001-01-01T00:00:00Z", "nano: negative is the zero time"},
	{timefmt_rfc3339_nano, NAN, "0001-01-01T00:00:00Z", "nano: not a number"},
	{timefmt_rfc3339_nano, 253402300799, "9999-12-31T23:59:59Z",
	    "nano: the last second Go can marshal"},
	{timefmt_rfc3339_nano, 253402300799.5, "0001-01-01T00:00:00Z",
	    "nano: past year 9999 (Go refuses it) is the zero time"},

	/* timestamptz literals for the COPY rows: milliseconds, cut off. */
	{timefmt_pg, 1736458538.123456, "2025-01-09 21:35:38.123+00", "pg: milliseconds"},
	{timefmt_pg, 1736458538, "2025-01-09 21:35:38.000+00", "pg: whole seconds"},
	{timefmt_pg, 1.9999999995, "1970-01-01 00:00:01.999+00",
	    "pg: .9999999995 is cut off, never rounded into the next second"},
	{timefmt_pg, 0, "1970-01-01 00:00:00.000+00", "pg: 0 is the epoch"},
	{timefmt_pg, -1, "1969-12-31 23:59:59.000+00", "pg: a second before the epoch"},
	{timefmt_pg, -1.5, "1969-12-31 23:59:58.500+00",
	    "pg: a fraction before the epoch counts from the earlier second"},
	{timefmt_pg, 253402300800, "10000-01-01 00:00:00.000+00",
	    "pg: past year 9999 (PostgreSQL takes it)"},
	{timefmt_pg, NAN, "1970-01-01 00:00:00.000+00", "pg: not a number is the epoch"},
	{timefmt_pg, 1e19, "1970-01-01 00:00:00.000+00", "pg: beyond any calendar is the epoch"},
};

static void
test_timefmt(void)
{
	char t[TIMEFMT_LEN], small[8];

	for (size_t i = 0; i < ARRAY_LEN(time_cases); i++)
		is_str(time_cases[i].format(time_cases[i].t, t, sizeof(t)), time_cases[i].want,
		    "%s", time_cases[i].what);
	is_str(TIMEFMT_ZERO, "0001-01-01T00:00:00Z", "the zero time is Go's");
	is_str(timefmt_rfc3339(1736458538, small, sizeof(small)), "2025-01",
	    "rfc3339: cut to a small buffer");

	/* Epoch milliseconds of the whole second. */
	is_int(timefmt_unix_ms(1736458538.999), 1736458538000LL,
	    "unix_ms: the fraction is cut off");
	is_int(timefmt_unix_ms(1.9999999995), 1000, "unix_ms: .9999999995 stays in its second");
	is_int(timefmt_unix_ms(0), 0, "unix_ms: 0");
	is_int(timefmt_unix_ms(-1), -1000, "unix_ms: a second before the epoch");
	is_int(timefmt_unix_ms(-1.5), -2000,
	    "unix_ms: a fraction before the epoch: the earlier second");
	is_int(timefmt_unix_ms(253402300800.0), 253402300800000LL, "unix_ms: past year 9999");
	is_int(timefmt_unix_ms(NAN), 0, "unix_ms: not a number is 0");
	ok(timefmt_unix_ms(1e300) == INT64_MAX && timefmt_unix_ms(INFINITY) == INT64_MAX,
	    "unix_ms: saturates high");
	ok(timefmt_unix_ms(-1e300) == INT64_MIN && timefmt_unix_ms(-INFINITY) == INT64_MIN,
	    "unix_ms: saturates low");
	ok(timefmt_unix_ms(9.3e15) == INT64_MAX && timefmt_unix_ms(9.2e15) == 9200000000000000000LL,
	    "unix_ms: saturates where seconds * 1000 would overflow");
	is_int(timefmt_ms_from_seconds(1736458538), 1736458538000LL, "ms_from_seconds");
	is_int(timefmt_ms_from_seconds(-5), -5000, "ms_from_seconds: negative");
	ok(timefmt_ms_from_seconds(INT64_MAX / 1000) == INT64_MAX / 1000 * 1000 &&
	    timefmt_ms_from_seconds(INT64_MAX / 1000 + 1) == INT64_MAX &&
	    timefmt_ms_from_seconds(INT64_MIN / 1000 - 1) == INT64_MIN,
	    "ms_from_seconds: saturates at the int64 range");
}

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

	{
		/* Under ASan a leak or a double free here fails the run. */
		char *t = xstrdup("a secret token");
		void *zeroed = xcalloc(1, 32);
		secret_free(NULL);
		secret_free_n(NULL, 16);
		secret_free(t);
		secret_free_n(zeroed, 32);
		ok(1, "secret_free and secret_free_n free (NULL is fine)");
	}

	char *s = xasprintf("%s=%d", "n", 5);
	is_str(s, "n=5", "xasprintf");
	free(s);
	{
		static const struct { const char *s; int valid; const char *name; } utf8[] = {
			{"", 1, "empty"}, {"plain ascii", 1, "ASCII"},
			{"\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 1, "two, three, four bytes"},
			{"\xf4\x8f\xbf\xbf", 1, "U+10FFFF"},
			{"\xff", 0, "0xff"}, {"\xc3\x28", 0, "a bad continuation"},
			{"\xc3", 0, "cut short"}, {"\xc0\xaf", 0, "overlong two bytes"},
			{"\xe0\x80\xaf", 0, "overlong three bytes"}, {"\xed\xa0\x80", 0, "a surrogate"},
			{"\xf4\x90\x80\x80", 0, "past U+10FFFF"}, {"\x80", 0, "a lone continuation"},
		};
		for (size_t i = 0; i < ARRAY_LEN(utf8); i++)
			is_int(str_utf8_valid(utf8[i].s), utf8[i].valid, "str_utf8_valid: %s",
			    utf8[i].name);
	}
	ok(clock_monotonic() > 0, "monotonic clock runs");
	test_timefmt();
	return done_testing();
}
