/* test_jsonutil.c: strict parsing of untrusted JSON, typed getters, Go-like doubles. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#include "jsonutil.h"
#include "tap.h"

static int
parses(const char *s)
{
	char err[160];
	struct json_object *o = jsonutil_parse(s, strlen(s), err, sizeof(err));

	if (o == NULL)
		return 0;
	json_object_put(o);
	return 1;
}

static char limit_err[160];

static int
fits(const char *s, const struct jsonutil_limits *lim)
{
	return jsonutil_check_limits(s, strlen(s), lim, limit_err, sizeof(limit_err)) == 0;
}

static const char *
fmt(double d)
{
	static char buf[64];
	jsonutil_format_double(d, buf, sizeof(buf));
	return buf;
}

int
main(void)
{
	char err[160], deep[200];
	struct json_object *o;
	const char *s = NULL;
	int64_t n;
	double d;
	int b;

	ok(parses("{\"a\":1}"), "object");
	ok(parses("  [1,2,3]\n"), "array with whitespace");
	ok(parses("123"), "bare number at end of input");
	ok(parses("true"), "bare literal");
	ok(!parses(""), "empty refused");
	ok(!parses("   "), "whitespace only refused");
	ok(!parses("{\"a\":1"), "truncated refused");
	ok(!parses("{\"a\":1} x"), "trailing garbage refused");
	ok(!parses("{\"a\":1}{}"), "two values refused");
	ok(!parses("{\"a\":'x'}"), "single-quoted value refused");
	ok(!parses("[1,2,]"), "trailing comma refused");
	ok(!parses("{\"a\":\"\xff\"}"), "invalid UTF-8 refused");
	ok(!parses("nul"), "partial literal refused");
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	ok(!parses("x"), "bare word refused");
	{
		char buf[201];
		memcpy(buf, deep, 200);
		buf[200] = '\0';
		ok(!parses(buf), "nesting of 100 refused");
	}
	/* H2: the value count and the memory estimate are bounded before json-c allocates. */
	{
		static const struct jsonutil_limits few = {5, 1u << 20}, small = {1000, 4000};
		char *amp = xmalloc(3 * 100000 + 2);
		size_t o2 = 0;

		ok(fits("[1,2,3,4]", &few), "five values within five");
		ok(!fits("[1,2,3,4,5]", &few) && strstr(limit_err, "more than 5 JSON values"),
		    "six values over five: %s", limit_err);
		ok(fits("{\"a\":\"b\",\"c\":[]}", &few), "keys count as values: 5");
		ok(!fits("{\"a\":\"b\",\"c\":[1]}", &few), "keys count as values: 6");
		ok(fits("[\"a\\\"],[1,2,3,4,5,6]\"]", &few), "an escaped quote does not end a string");
		ok(fits("[-1.5e3,true,null]", &few), "numbers and literals: one value each");
		ok(jsonutil_check_limits("\"ab\0cd\" 1\0 2", 12, &few, err, sizeof(err)) == 0,
		    "NUL bytes are stepped over");
		ok(!fits("[{},{},{},{},{}]", &small) && strstr(limit_err, "too large"),
		    "five empty objects over 4000 bytes: %s", limit_err);
		amp[o2++] = '[';
		for (int i = 0; i < 100000; i++) {
			if (i)
				amp[o2++] = ',';
			amp[o2++] = '{';
			amp[o2++] = '}';
		}
		amp[o2++] = ']';
		ok(jsonutil_parse(amp, o2, err, sizeof(err)) == NULL && strstr(err, "too large"),
		    "300 KB of empty objects (78 MB once parsed) refused by default: %s", err);
		ok((o = jsonutil_parse_limited(amp, o2, &jsonutil_limits_upstream, NULL, err,
		    sizeof(err))) != NULL, "the same parses within the upstream limits");
		json_object_put(o);
		free(amp);
	}

	o = jsonutil_parse("{\"a\":", 5, err, sizeof(err));
	ok(o == NULL && strstr(err, "malformed JSON") != NULL, "error message says malformed: %s",
	    err);

	{
		static const char sample[] = "{\"s\":\"x\",\"i\":5,\"f\":2.5,\"big\":1e300,"
		    "\"b\":true,\"n\":null,\"a\":[1],\"o\":{},\"whole\":3.0,"
		    "\"huge\":99999999999999999999}";
		o = jsonutil_parse(sample, strlen(sample), err, sizeof(err));
	}
	ok(o != NULL, "sample parses");
	is_int(jsonutil_get_string(o, "s", &s), JSONUTIL_OK, "string ok");
	is_str(s, "x", "string value");
	is_int(jsonutil_get_string(o, "i", &s), JSONUTIL_WRONG_TYPE, "number is not a string");
	is_int(jsonutil_get_string(o, "n", &s), JSONUTIL_MISSING, "null counts as missing");
	is_int(jsonutil_get_string(o, "zz", &s), JSONUTIL_MISSING, "absent key");
	is_int(jsonutil_get_int(o, "i", 0, 10, &n), JSONUTIL_OK, "int ok");
	is_int(n, 5, "int value");
	is_int(jsonutil_get_int(o, "i", 6, 10, &n), JSONUTIL_WRONG_TYPE, "int out of range");
	is_int(jsonutil_get_int(o, "f", 0, 10, &n), JSONUTIL_WRONG_TYPE, "fraction is not an int");
	is_int(jsonutil_get_int(o, "whole", 0, 10, &n), JSONUTIL_OK, "3.0 is an int");
	is_int(jsonutil_get_int(o, "s", 0, 10, &n), JSONUTIL_WRONG_TYPE, "string is not an int");
	is_int(jsonutil_get_int(o, "huge", INT64_MIN, INT64_MAX, &n), JSONUTIL_WRONG_TYPE,
	    "saturated int refused");
	is_int(jsonutil_get_double(o, "f", &d), JSONUTIL_OK, "double ok");
	ok(d == 2.5, "double value");
	is_int(jsonutil_get_bool(o, "b", &b), JSONUTIL_OK, "bool ok");
	is_int(b, 1, "bool value");
	is_int(jsonutil_get_bool(o, "i", &b), JSONUTIL_WRONG_TYPE, "number is not a bool");
	{
		struct json_object *v;
		is_int(jsonutil_get_array(o, "a", &v), JSONUTIL_OK, "array ok");
		is_int(jsonutil_get_object(o, "a", &v), JSONUTIL_WRONG_TYPE, "array is not object");
		is_int(jsonutil_get_object(o, "o", &v), JSONUTIL_OK, "object ok");
	}
	json_object_put(o);
	is_int(jsonutil_get_string(NULL, "x", &s), JSONUTIL_MISSING, "NULL object is safe");

	is_str(fmt(3600.5), "3600.5", "3600.5");
	is_str(fmt(3.0), "3", "whole double prints as integer, as Go does");
	is_str(fmt(0.1), "0.1", "0.1 shortest");
	is_str(fmt(1.0 / 3.0), "0.3333333333333333", "1/3 shortest round trip");
	is_str(fmt(1e21), "1e+21", "1e21 uses exponent");
	is_str(fmt(1e-7), "1e-07", "1e-7 uses exponent");
	is_str(fmt(123456789012.25), "123456789012.25", "large plain");
	is_str(fmt(-0.5), "-0.5", "negative");
	is_str(fmt(0), "0", "zero");
	is_str(fmt(0.00001234), "0.00001234", "small number plain, as Go writes it");
	is_str(fmt(123456789012345678.0), "123456789012345680", "large number plain below 1e21");
	is_str(fmt(1e20), "100000000000000000000", "1e20 plain");
	is_str(fmt(0.1 + 0.2), "0.30000000000000004", "0.1 + 0.2 needs 17 digits");
	is_str(fmt(1.5e300), "1.5e+300", "huge uses exponent");
	is_str(fmt(12.345678901234567), "12.345678901234567", "17 significant digits");
	is_str(fmt(NAN), "null", "NaN is null");
	is_str(fmt(0.05), "0.05", "fast path: leading zero");
	is_str(fmt(45.25), "45.25", "fast path: two decimals");
	is_str(fmt(-3.5), "-3.5", "fast path: negative");
	is_str(fmt(0.0001), "0.0001", "fast path: smallest plain");
	is_str(fmt(100000000000000.5), "100000000000000.5", "fast path: 16 digits");
	is_str(fmt(5824159.0), "5824159", "fast path: integer");
	{
		/* The fast path against the shortest round-trip repr, over values of every kind. */
		unsigned long seed = 12345;
		int bad = 0;
		for (int i = 0; i < 200000; i++) {
			char got[64], want[64];
			double v;
			int prec;
			seed = seed * 6364136223846793005ul + 1442695040888963407ul;
			switch (i % 4) {
			case 0: v = (double)(seed >> 11) / 9007199254740992.0 * 100; break;
			case 1: v = round((double)(seed >> 20) / 1e3) / 1e4; break;
			case 2: v = (double)(seed >> 30); break;
			default: v = (double)(int64_t)(seed >> 12) / 1e6 - 2e9; break;
			}
			jsonutil_format_double(v, got, sizeof(got));
			for (prec = 1; prec <= 17; prec++) {
				snprintf(want, sizeof(want), "%.*g", prec, v);
				if (strtod(want, NULL) == v)
					break;
			}
			if (strtod(got, NULL) != v || strchr(got, 'e') ||
			    strlen(got) > strlen(want) + 8 ||
			    (strchr(want, 'e') == NULL && strcmp(got, want) != 0))
				bad++;
		}
		is_int(bad, 0, "200,000 values: shortest, round-trip, plain");
	}
	{
		/* Rounded to six decimals: the same text as rounding, then the general path. */
		static const double edge[] = {0, -0.0, 5e-7, -5e-7, 4.9e-7, 1e-6, 0.05, -0.05,
		    999999999.9999994, 999999999.9999996, 1e9, -1e9, 1e9 + 0.5, 1e15, 1e22,
		    12.3456, 100, 0.1 + 0.2, NAN, INFINITY, -INFINITY};
		unsigned long seed = 99;
		int bad = 0;
		for (int i = 0; i < 300000 + (int)ARRAY_LEN(edge); i++) {
			char got[64], want[64];
			double v;
			size_t len;
			if (i < (int)ARRAY_LEN(edge)) {
				v = edge[i];
			} else {
				seed = seed * 6364136223846793005ul + 1442695040888963407ul;
				switch (i % 5) {
				case 0: v = (double)(seed >> 11) / 9007199254740992.0 * 100; break;
				case 1: v = round((double)(seed >> 20) / 1e3) / 1e4; break;
				case 2: v = (double)(seed >> 30) / 1e3; break;
				case 3: v = -(double)(seed >> 11) / 9007199254740992.0 * 2e9; break;
				default: v = (double)(seed >> 11) / 9007199254740992.0 * 1e-5; break;
				}
			}
			len = jsonutil_format_rounded(v, got);
			jsonutil_format_double(!isfinite(v) ? v : fabs(v) >= 1e9 ? round(v) :
			    round(v * 1e6) / 1e6, want, sizeof(want));
			if (strcmp(got, want) != 0 || len != strlen(got)) {
				if (bad++ < 5)
					printf("# rounded %.17g: got %s want %s\n", v, got, want);
			}
		}
		is_int(bad, 0, "300,000 values rounded to six decimals: as the general path");
	}
	o = json_object_new_object();
	json_object_object_add(o, "u", jsonutil_new_double(12.75));
	json_object_object_add(o, "p", json_object_new_string("a/b"));
	is_str(jsonutil_to_string(o, NULL), "{\"u\":12.75,\"p\":\"a/b\"}",
	    "serialised compact, slashes unescaped");
	json_object_put(o);
	return done_testing();
}
