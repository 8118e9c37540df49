/* test_jsonutil.c: strict parsing of untrusted JSON, typed getters, Go-like doubles, and the
 * tolerant reader and the writers built on them (jsonread, jsonwrite). */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "tap.h"

/* jsonutil_each_element: the elements of one member, one tree at a time. */
struct seen {
	int n;
	char text[256];
};

static void
collect(struct json_object *el, void *arg)
{
	struct seen *s = arg;
	size_t used = strlen(s->text);

	s->n++;
	snprintf(s->text + used, sizeof(s->text) - used, "%s%s", used ? "|" : "",
	    json_object_to_json_string_ext(el, JSON_C_TO_STRING_PLAIN));
}

static long
each(const char *text, struct seen *s, int *found, int *too_large, const struct jsonutil_limits *lim)
{
	char err[160];

	memset(s, 0, sizeof(*s));
	return jsonutil_each_element(text, strlen(text), "data", lim ? lim : &jsonutil_limits_upstream,
	    collect, s, found, too_large, err, sizeof(err));
}

static void
test_each_element(void)
{
	struct seen s;
	int found, large;
	const struct jsonutil_limits tiny = {10, 1u << 20};
	const char *bad[] = {
		"", "[1]", "{", "{\"data\":[1,2}", "{\"data\":[1,2", "{\"data\":[1 2]}",
		"{\"data\":[1,]}", "{\"data\":[{\"a\":1}]} x", "{\"data\":[\"abc]}",
		"{\"x\":tru,\"data\":[]}", "{\"data\":[{\"a\":01}]}", "{\"data\" [1]}",
		"{\"data\":[1],}", "{\"data\":[\"\xff\"]}", "{data:[1]}",
	};

	is_int(each(" { \"data\" : [ {\"a\":1} , {\"b\":[2,\"]}\"]} ] } ", &s, &found, &large, NULL), 2,
	    "two elements");
	ok(found && !large, "found, not too large");
	is_str(s.text, "{\"a\":1}|{\"b\":[2,\"]}\"]}", "each element whole, brackets in strings kept");
	is_int(each("{\"other\":{\"data\":[1]},\"data\":[\"x\\\"y\",3,null,true],\"z\":1}", &s, &found,
	    &large, NULL), 4, "other members skipped, the top-level one walked");
	is_str(s.text, "\"x\\\"y\"|3|null|true", "scalars and escaped quotes");
	is_int(each("{\"data\":[]}", &s, &found, &large, NULL), 0, "an empty array");
	ok(found && s.n == 0, "found, nothing called");
	is_int(each("{\"data\":null}", &s, &found, &large, NULL), 0, "null data");
	ok(!found, "not found when not an array");
	is_int(each("{}", &s, &found, &large, NULL), 0, "an empty object");
	ok(!found, "not found when absent");
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		is_int(each(bad[i], &s, &found, &large, NULL), -1, "refused: bad text %zu", i);
		ok(!large, "for its form, not its size (%zu)", i);
	}
	is_int(each("{\"data\":[1,2,3,4,5,6,7,8,9,10,11]}", &s, &found, &large, &tiny), -1,
	    "the whole text is held to the limits");
	ok(large && s.n == 0, "too large, before any element");
}

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

/* Parses s, which the test knows is valid. */
static struct json_object *
doc(const char *s)
{
	char err[160];

	return jsonutil_parse(s, strlen(s), err, sizeof(err));
}

/* The members with a default: what the Proxmox parsers read. */
static void
test_read_members(void)
{
	struct json_object *o = doc("{\"s\":\" a \",\"i\":12,\"d\":0.5,\"t\":true,\"f\":false,"
	    "\"n\":null,\"o\":{},\"a\":[1,2,3],\"comma\":\"1,234\",\"pct\":\"85%\","
	    "\"quoted\":\"\\\"3\\\"\",\"neg\":-2.7,\"big\":1e300,\"word\":\"yes\",\"empty\":\"\","
	    "\"x\":\"12abc\",\"hex\":\"0x10\",\"half\":\"2.5\"}");
	const char *const keys[] = {"missing", "word", "comma"};
	struct json_object *arr = jsonread_member(o, "a");

	ok(jsonread_member(o, "s") != NULL, "member: present");
	ok(jsonread_member(o, "n") == NULL, "member: null is missing");
	ok(jsonread_member(o, "nope") == NULL, "member: absent");
	ok(jsonread_member(NULL, "s") == NULL, "member: of NULL");
	ok(jsonread_member(arr, "s") == NULL, "member: of an array");
	ok(jsonread_has(o, "t") && !jsonread_has(o, "n"), "has: true present, null not");
	ok(jsonread_first(o, keys, 3) == jsonread_member(o, "word"), "first: skips the absent key");
	ok(JSONREAD_FIRST(o, "n", "nope") == NULL, "first: none");
	ok(jsonread_is_object(jsonread_member(o, "o")) && !jsonread_is_object(arr), "is_object");
	ok(jsonread_is_array(arr) && !jsonread_is_array(NULL), "is_array");
	is_int(jsonread_array_len(arr), 3, "array_len");
	is_int(jsonread_array_len(o), 0, "array_len: of an object");

	is_str(jsonread_string(o, "s", "def"), " a ", "string: as sent (not trimmed)");
	is_str(jsonread_string(o, "i", "def"), "12", "string: an integer's text");
	is_str(jsonread_string(o, "d", "def"), "0.5", "string: a float's text");
	is_str(jsonread_string(o, "t", "def"), "def", "string: a boolean is the default");
	is_str(jsonread_string(o, "n", "def"), "def", "string: null is the default");
	is_str(jsonread_string(o, "o", "def"), "def", "string: an object is the default");

	ok(jsonread_number(o, "d", -1) == 0.5, "number: float");
	ok(jsonread_number(o, "i", -1) == 12, "number: integer");
	ok(jsonread_number(o, "t", -1) == 1 && jsonread_number(o, "f", -1) == 0,
	    "number: booleans are 1 and 0");
	ok(jsonread_number(o, "comma", -1) == 1234, "number: thousands separator dropped");
	ok(jsonread_number(o, "pct", -1) == 85, "number: percent sign dropped");
	ok(jsonread_number(o, "quoted", -1) == 3, "number: quotes dropped");
	ok(jsonread_number(o, "x", -1) == -1, "number: trailing garbage is the default");
	ok(jsonread_number(o, "empty", -1) == -1, "number: empty string is the default");
	ok(jsonread_number(o, "word", -1) == -1, "number: a word is the default");
	ok(jsonread_number(o, "hex", -1) == 16, "number: strtod's hex form is read");
	ok(isnan(jsonread_number(o, "n", NAN)), "number: null is the default");

	ok(jsonread_int(o, "i", -1) == 12, "int: integer");
	ok(jsonread_int(o, "neg", 0) == -2, "int: a float cut toward zero");
	ok(jsonread_int(o, "half", 0) == 2, "int: a numeric string cut toward zero");
	ok(jsonread_int(o, "t", 0) == 1, "int: true is 1");
	ok(jsonread_int(o, "big", -1) == -1, "int: beyond int64 is the default");
	ok(jsonread_int(o, "word", -1) == -1, "int: \"yes\" is the default");

	ok(jsonread_bool(o, "t", 0) == 1 && jsonread_bool(o, "f", 1) == 0, "bool: booleans");
	ok(jsonread_bool(o, "i", 0) == 1, "bool: a non-zero number is true");
	ok(jsonread_bool(o, "word", 0) == 1, "bool: \"yes\" is true");
	ok(jsonread_bool(o, "o", -1) == -1 && jsonread_bool(o, "missing", -1) == -1,
	    "bool: an object or a missing key is the default");

	ok(jsonread_number_first(o, keys, 3) == 1234, "number_first: a word is skipped");
	ok(jsonread_number_first(o, keys, 2) == 0, "number_first: none gives 0");
	json_object_put(o);
}

/* The values as the original's *FromAny helpers read them. */
static void
test_read_values(void)
{
	struct json_object *o = doc("{\"s\":\" a b \",\"i\":-7,\"d\":2.5,\"d2\":-2.5,\"t\":true,"
	    "\"f\":false,\"n\":null,\"a\":[],\"is\":\" 42 \",\"ds\":\"3.6\",\"comma\":\"1,234\","
	    "\"big\":1e300,\"tiny\":0.4,\"yes\":\" YES \",\"on\":\"on\",\"dis\":\"Disabled\","
	    "\"one\":\"1\",\"zero\":\"0\",\"maybe\":\"maybe\",\"inf\":\"inf\",\"long\":1e21}");
	char buf[32], small[4];
	int64_t i = 99;
	double d = 99;
	int b = 99;

	is_str(jsonread_value_text(jsonread_member(o, "s"), buf, sizeof(buf)), "a b", "text: trimmed");
	is_str(jsonread_value_text(jsonread_member(o, "i"), buf, sizeof(buf)), "-7", "text: integer");
	is_str(jsonread_value_text(jsonread_member(o, "d"), buf, sizeof(buf)), "2.5", "text: float");
	is_str(jsonread_value_text(jsonread_member(o, "long"), buf, sizeof(buf)), "1e+21",
	    "text: a float in Go's shortest form");
	is_str(jsonread_value_text(jsonread_member(o, "t"), buf, sizeof(buf)), "true", "text: boolean");
	is_str(jsonread_value_text(jsonread_member(o, "a"), buf, sizeof(buf)), "", "text: array empty");
	is_str(jsonread_value_text(NULL, buf, sizeof(buf)), "", "text: missing empty");
	is_str(jsonread_value_text(jsonread_member(o, "s"), small, sizeof(small)), "a b",
	    "text: cut to fit");

	ok(jsonread_value_int(jsonread_member(o, "i"), &i) && i == -7, "value_int: integer");
	ok(jsonread_value_int(jsonread_member(o, "d"), &i) && i == 3, "value_int: 2.5 rounds up");
	ok(jsonread_value_int(jsonread_member(o, "d2"), &i) && i == -3,
	    "value_int: -2.5 rounds away from zero");
	ok(jsonread_value_int(jsonread_member(o, "is"), &i) && i == 42, "value_int: trimmed string");
	ok(jsonread_value_int(jsonread_member(o, "ds"), &i) && i == 4, "value_int: float string rounds");
	i = 99;
	ok(!jsonread_value_int(jsonread_member(o, "comma"), &i) && i == 99,
	    "value_int: no thousands separators");
	ok(!jsonread_value_int(jsonread_member(o, "t"), &i), "value_int: a boolean is not a number");
	ok(!jsonread_value_int(jsonread_member(o, "big"), &i), "value_int: beyond int64 refused");
	ok(!jsonread_value_int(NULL, &i), "value_int: missing");

	ok(jsonread_value_number(jsonread_member(o, "ds"), &d) && d == 3.6, "value_number: string");
	ok(jsonread_value_number(jsonread_member(o, "i"), &d) && d == -7, "value_number: integer");
	ok(!jsonread_value_number(jsonread_member(o, "inf"), &d), "value_number: not finite refused");
	ok(!jsonread_value_number(jsonread_member(o, "t"), &d), "value_number: boolean refused");
	ok(!jsonread_value_number(jsonread_member(o, "comma"), &d), "value_number: separators refused");

	ok(jsonread_value_bool(jsonread_member(o, "t"), &b) && b == 1, "value_bool: true");
	ok(jsonread_value_bool(jsonread_member(o, "f"), &b) && b == 0, "value_bool: false");
	ok(jsonread_value_bool(jsonread_member(o, "i"), &b) && b == 1, "value_bool: non-zero integer");
	ok(jsonread_value_bool(jsonread_member(o, "tiny"), &b) && b == 0, "value_bool: 0.4 rounds to 0");
	ok(jsonread_value_bool(jsonread_member(o, "yes"), &b) && b == 1, "value_bool: \" YES \"");
	ok(jsonread_value_bool(jsonread_member(o, "on"), &b) && b == 1, "value_bool: on");
	ok(jsonread_value_bool(jsonread_member(o, "dis"), &b) && b == 0, "value_bool: Disabled");
	ok(jsonread_value_bool(jsonread_member(o, "one"), &b) && b == 1, "value_bool: \"1\"");
	ok(jsonread_value_bool(jsonread_member(o, "zero"), &b) && b == 0, "value_bool: \"0\"");
	ok(!jsonread_value_bool(jsonread_member(o, "maybe"), &b), "value_bool: another word refused");
	ok(!jsonread_value_bool(jsonread_member(o, "n"), &b), "value_bool: null is missing");
	json_object_put(o);
}

static void
test_copies(void)
{
	char small[8];

	is_str(jsonread_copy_trimmed(small, sizeof(small), "  abc  "), "abc", "copy: trimmed");
	is_str(jsonread_copy_trimmed(small, sizeof(small), "abcdefghij"), "abcdefg", "copy: cut to fit");
	is_str(jsonread_copy_trimmed(small, sizeof(small), "abcdef\xc3\xa9"), "abcdef", "copy: not inside a character");
	is_str(jsonread_copy_trimmed(small, sizeof(small), NULL), "", "copy: NULL is empty");
	snprintf(small, sizeof(small), "  ab  ");
	is_str(jsonread_copy_trimmed(small, sizeof(small), small + 1), "ab", "copy: src inside dst");
	jsonread_copy(small, sizeof(small), " abcdefghij");
	is_str(small, " abcdef", "copy untrimmed: cut to fit");
	jsonread_copy(small, sizeof(small), NULL);
	is_str(small, "", "copy untrimmed: NULL is empty");
}

static void
test_write(void)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_str(o, "s", "a/b");
	jsonwrite_str(o, "null", NULL);
	jsonwrite_opt_str(o, "skipped", "");
	jsonwrite_opt_str(o, "skipped2", NULL);
	jsonwrite_opt_str(o, "os", "x");
	jsonwrite_int(o, "i", -3);
	jsonwrite_opt_int(o, "skipped3", 0);
	jsonwrite_opt_int(o, "oi", 4);
	jsonwrite_num(o, "n", 0.1 + 0.2);
	jsonwrite_num(o, "whole", 2);
	jsonwrite_num(o, "nan", NAN);
	jsonwrite_num(o, "inf", -INFINITY);
	jsonwrite_bool(o, "t", 5);
	jsonwrite_bool(o, "f", 0);
	jsonwrite_true_if(o, "skipped4", 0);
	jsonwrite_true_if(o, "ti", 2);
	jsonwrite_ms(o, "ms", 1700000000.9);
	jsonwrite_time(o, "time", 1700000000);
	jsonwrite_time(o, "zero", 0);
	is_str(jsonutil_to_string(o, NULL), "{\"s\":\"a/b\",\"null\":\"\",\"os\":\"x\",\"i\":-3,"
	    "\"oi\":4,\"n\":0.30000000000000004,\"whole\":2,\"nan\":0,\"inf\":0,\"t\":true,"
	    "\"f\":false,\"ti\":true,\"ms\":1700000000000,\"time\":\"2023-11-14T22:13:20Z\","
	    "\"zero\":\"0001-01-01T00:00:00Z\"}", "writers: in order, in the original's encodings");
	json_object_put(o);
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
	test_read_members();
	test_read_values();
	test_copies();
	test_write();
	test_each_element();
	return done_testing();
}
