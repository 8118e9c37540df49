/* jsonutil.c: JSON helpers over json-c. */
#include "config.h"

#include "jsonutil.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A request body or a stored document: 200,000 values (keys count) and 32 MiB, so that 4
 * responder threads parsing at once stay well within a small host. */
const struct jsonutil_limits jsonutil_limits_default = {200000, 32u << 20};
/* /cluster/resources of 20,000 guests is some 900,000 values and 130 MiB by this estimate. */
const struct jsonutil_limits jsonutil_limits_upstream = {2000000, 256u << 20};

/* What json-c 0.16 allocates on amd64 (measured with mallinfo2): an object with its hash
 * table about 784 bytes, each key another ~48, an array 152, a scalar 72-104, a string
 * 88 plus its text. The estimate errs high. */
#define COST_OBJECT 800
#define COST_ARRAY 160
#define COST_SCALAR 112

int
jsonutil_check_limits(const char *buf, size_t len, const struct jsonutil_limits *lim,
    char *err, size_t errlen)
{
	size_t values = 0, memory = 0, i = 0;
	char prev = '\0';	/* the last structural character outside strings */

	while (i < len) {
		char c = buf[i];

		if (c == '"') {
			size_t start = ++i;
			while (i < len && buf[i] != '"')
				i += buf[i] == '\\' ? 2 : 1;
			values++;
			memory += COST_SCALAR + (i - start);
			i++;
			prev = 's';
		} else if (c == '{' || c == '[') {
			values++;
			memory += c == '{' ? COST_OBJECT : COST_ARRAY;
			prev = c;
			i++;
		} else if (c == ',' || c == ':' || c == '}' || c == ']') {
			prev = c;
			i++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			i++;
		} else {
			/* A number or a literal: one value per run of such characters that starts
			 * where a value may start. */
			if (prev == '\0' || prev == '[' || prev == ',' || prev == ':') {
				values++;
				memory += COST_SCALAR;
			}
			prev = 'v';
			do
				i++;
			while (i < len && memchr(" \t\r\n,:{}[]\"", buf[i], 11) == NULL);
		}
		if (values > lim->max_values) {
			snprintf(err, errlen, "more than %lu JSON values", (unsigned long)lim->max_values);
			return -1;
		}
		if (memory > lim->max_memory) {
			snprintf(err, errlen, "JSON too large to parse (more than %lu KiB once parsed)",
			    (unsigned long)(lim->max_memory >> 10));
			return -1;
		}
	}
	return 0;
}

struct json_object *
jsonutil_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	return jsonutil_parse_limited(buf, len, &jsonutil_limits_default, NULL, err, errlen);
}

struct json_object *
jsonutil_parse_limited(const char *buf, size_t len, const struct jsonutil_limits *lim,
    int *too_large, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t used, i;

	if (too_large)
		*too_large = len > INT32_MAX;
	if (len > INT32_MAX) {
		snprintf(err, errlen, "body too large to parse");
		return NULL;
	}
	if (jsonutil_check_limits(buf, len, lim, err, errlen) != 0) {
		if (too_large)
			*too_large = 1;
		return NULL;
	}
	for (i = 0; i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
	    buf[i] == '\n'); i++)
		;
	if (i == len) {
		snprintf(err, errlen, "empty body: a JSON value is required");
		return NULL;
	}
	tok = json_tokener_new_ex(JSONUTIL_MAX_DEPTH);
	if (tok == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	if (obj == NULL && jerr == json_tokener_continue) {
		/* A number or literal at the very end is only complete at end of input. */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		used = len;
	}
	if (obj == NULL) {
		snprintf(err, errlen, "malformed JSON at byte %lu: %s", (unsigned long)used,
		    jerr == json_tokener_continue ? "unexpected end of input" :
		    json_tokener_error_desc(jerr));
		json_tokener_free(tok);
		return NULL;
	}
	for (i = used; i < len; i++) {
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' && buf[i] != '\n') {
			snprintf(err, errlen, "malformed JSON at byte %lu: unexpected data after the value",
			    (unsigned long)i);
			json_object_put(obj);
			json_tokener_free(tok);
			return NULL;
		}
	}
	json_tokener_free(tok);
	return obj;
}

static size_t
skip_space(const char *buf, size_t len, size_t i)
{
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	return i;
}

/* The end of the string starting at buf[i] (a quote): the index past its closing quote, or
 * 0 when it does not end. */
static size_t
skip_string(const char *buf, size_t len, size_t i)
{
	for (i++; i < len && buf[i] != '"'; i += buf[i] == '\\' ? 2 : 1)
		;
	return i < len ? i + 1 : 0;
}

/* The end of the value starting at buf[i], found by its brackets and quotes alone (the
 * parse of the slice checks its form), or 0 when it does not end or is empty. */
static size_t
skip_value(const char *buf, size_t len, size_t i)
{
	size_t start = i;
	int depth = 0;

	if (i >= len)
		return 0;
	if (buf[i] == '"')
		return skip_string(buf, len, i);
	if (buf[i] != '{' && buf[i] != '[') {
		while (i < len && memchr(" \t\r\n,:{}[]\"", buf[i], 11) == NULL)
			i++;
		return i > start ? i : 0;
	}
	while (i < len) {
		if (buf[i] == '"') {
			if ((i = skip_string(buf, len, i)) == 0)
				return 0;
			continue;
		}
		if (buf[i] == '{' || buf[i] == '[')
			depth++;
		else if ((buf[i] == '}' || buf[i] == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return 0;
}

/* json-c parses null to NULL, as it does a failure. */
static int
is_null(const char *text, size_t len)
{
	return len == 4 && memcmp(text, "null", 4) == 0;
}

long
jsonutil_each_element(const char *buf, size_t len, const char *key,
    const struct jsonutil_limits *lim, void (*fn)(struct json_object *element, void *arg),
    void *arg, int *found, int *too_large, char *err, size_t errlen)
{
	size_t keylen = strlen(key), i, end;
	long n = 0;

	*found = 0;
	*too_large = len > INT32_MAX;
	if (*too_large) {
		snprintf(err, errlen, "body too large to parse");
		return -1;
	}
	if (jsonutil_check_limits(buf, len, lim, err, errlen) != 0) {
		*too_large = 1;
		return -1;
	}
	i = skip_space(buf, len, 0);
	if (i == len || buf[i] != '{') {
		snprintf(err, errlen, "unexpected answer: not an object");
		return -1;
	}
	i = skip_space(buf, len, i + 1);
	if (i < len && buf[i] == '}')
		goto tail;
	for (;;) {
		size_t ks;
		int wanted;

		if (i == len || buf[i] != '"')
			goto malformed;
		ks = i + 1;
		if ((end = skip_string(buf, len, i)) == 0)
			goto malformed;
		wanted = !*found && end - 1 - ks == keylen && memcmp(buf + ks, key, keylen) == 0;
		i = skip_space(buf, len, end);
		if (i == len || buf[i] != ':')
			goto malformed;
		i = skip_space(buf, len, i + 1);
		if (wanted && i < len && buf[i] == '[') {
			*found = 1;
			i = skip_space(buf, len, i + 1);
			if (i < len && buf[i] == ']') {
				i++;
			} else {
				for (;;) {
					struct json_object *el;
					if ((end = skip_value(buf, len, i)) == 0)
						goto malformed;
					el = is_null(buf + i, end - i) ? NULL : jsonutil_parse_limited(buf + i,
					    end - i, lim, too_large, err, errlen);
					if (el == NULL && !is_null(buf + i, end - i))
						return -1;
					fn(el, arg);
					json_object_put(el);
					n++;
					i = skip_space(buf, len, end);
					if (i < len && buf[i] == ',') {
						i = skip_space(buf, len, i + 1);
						continue;
					}
					if (i < len && buf[i] == ']') {
						i++;
						break;
					}
					goto malformed;
				}
			}
		} else {
			struct json_object *other;
			if ((end = skip_value(buf, len, i)) == 0)
				goto malformed;
			/* Parsed only to hold it to the same form as the rest. */
			other = is_null(buf + i, end - i) ? NULL : jsonutil_parse_limited(buf + i,
			    end - i, lim, too_large, err, errlen);
			if (other == NULL && !is_null(buf + i, end - i))
				return -1;
			json_object_put(other);
			i = end;
		}
		i = skip_space(buf, len, i);
		if (i < len && buf[i] == ',') {
			i = skip_space(buf, len, i + 1);
			continue;
		}
		if (i < len && buf[i] == '}')
			break;
		goto malformed;
	}
tail:
	if (skip_space(buf, len, i + 1) != len) {
		i = skip_space(buf, len, i + 1);
		goto malformed;
	}
	return n;
malformed:
	snprintf(err, errlen, "malformed JSON at byte %lu", (unsigned long)i);
	return -1;
}

static struct json_object *
field(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;	/* NULL for JSON null */
}

enum jsonutil_result
jsonutil_get_string(struct json_object *obj, const char *key, const char **out)
{
	struct json_object *v = field(obj, key);

	if (v == NULL)
		return JSONUTIL_MISSING;
	if (!json_object_is_type(v, json_type_string))
		return JSONUTIL_WRONG_TYPE;
	*out = json_object_get_string(v);
	return JSONUTIL_OK;
}

enum jsonutil_result
jsonutil_get_bool(struct json_object *obj, const char *key, int *out)
{
	struct json_object *v = field(obj, key);

	if (v == NULL)
		return JSONUTIL_MISSING;
	if (!json_object_is_type(v, json_type_boolean))
		return JSONUTIL_WRONG_TYPE;
	*out = json_object_get_boolean(v) ? 1 : 0;
	return JSONUTIL_OK;
}

enum jsonutil_result
jsonutil_get_int(struct json_object *obj, const char *key, int64_t min, int64_t max,
    int64_t *out)
{
	struct json_object *v = field(obj, key);
	int64_t n;

	if (v == NULL)
		return JSONUTIL_MISSING;
	if (json_object_is_type(v, json_type_int)) {
		n = json_object_get_int64(v);
		/* json-c saturates values beyond int64 at the limits. */
		if (n == INT64_MAX || n == INT64_MIN)
			return JSONUTIL_WRONG_TYPE;
	} else if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);
		if (!isfinite(d) || d != floor(d) || d < -9007199254740992.0 ||
		    d > 9007199254740992.0)
			return JSONUTIL_WRONG_TYPE;
		n = (int64_t)d;
	} else {
		return JSONUTIL_WRONG_TYPE;
	}
	if (n < min || n > max)
		return JSONUTIL_WRONG_TYPE;
	*out = n;
	return JSONUTIL_OK;
}

enum jsonutil_result
jsonutil_get_double(struct json_object *obj, const char *key, double *out)
{
	struct json_object *v = field(obj, key);

	if (v == NULL)
		return JSONUTIL_MISSING;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return JSONUTIL_WRONG_TYPE;
	*out = json_object_get_double(v);
	return isfinite(*out) ? JSONUTIL_OK : JSONUTIL_WRONG_TYPE;
}

static enum jsonutil_result
get_typed(struct json_object *obj, const char *key, enum json_type type,
    struct json_object **out)
{
	struct json_object *v = field(obj, key);

	if (v == NULL)
		return JSONUTIL_MISSING;
	if (!json_object_is_type(v, type))
		return JSONUTIL_WRONG_TYPE;
	*out = v;
	return JSONUTIL_OK;
}

enum jsonutil_result
jsonutil_get_array(struct json_object *obj, const char *key, struct json_object **out)
{
	return get_typed(obj, key, json_type_array, out);
}

enum jsonutil_result
jsonutil_get_object(struct json_object *obj, const char *key, struct json_object **out)
{
	return get_typed(obj, key, json_type_object, out);
}

/* The fast path for values with few decimals (integers, percentages rounded on ingest):
 * the smallest k <= 8 for which value is exactly the double nearest to m / 10^k. The
 * division of two exactly represented doubles is correctly rounded, so it equals what
 * strtod makes of the decimal m / 10^k: that decimal is then the shortest repr, printed
 * without an exponent as Go does for 1e-4 <= |value| < 1e21. Returns 0 when it does not
 * apply. */
static int
format_short_fixed(double value, char *buf)
{
	static const double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
	double mag = fabs(value);
	char digits[24];
	int64_t m = 0;
	int k, n = 0, neg = value < 0;
	char *p = buf;

	if (!(mag >= 1e-4 && mag < 1e15))
		return 0;
	for (k = 0; k <= 8; k++) {
		double scaled = mag * pow10[k];
		if (scaled >= 9007199254740992.0)
			return 0;
		m = (int64_t)scaled;		/* positive, below 2^53: the difference is exact */
		if (scaled - (double)m >= 0.5)
			m++;
		if ((double)m / pow10[k] == mag)
			break;
	}
	if (k > 8)
		return 0;
	do {
		digits[n++] = (char)('0' + m % 10);
		m /= 10;
	} while (m > 0);
	while (n <= k)			/* 0.05: at least one digit before the point */
		digits[n++] = '0';
	if (neg)
		*p++ = '-';
	for (int i = n - 1; i >= 0; i--) {
		*p++ = digits[i];
		if (i == k && k > 0)
			*p++ = '.';
	}
	*p = '\0';
	return 1;
}

void
jsonutil_format_double(double value, char *buf, size_t buflen)
{
	double mag = fabs(value);
	int prec, exp10, digits;
	char *e, *dot;

	if (!isfinite(value)) {
		snprintf(buf, buflen, "null");
		return;
	}
	if (value == 0) {
		snprintf(buf, buflen, "0");
		return;
	}
	if (buflen >= 32 && format_short_fixed(value, buf))
		return;
	/* Any decimal of up to 15 significant digits survives a round trip through a double,
	 * so when 15 digits read back exactly they are also the shortest; else 16, else 17. */
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, buflen, "%.*g", prec, value);
		if (strtod(buf, NULL) == value)
			break;
	}
	if (prec == 17)
		snprintf(buf, buflen, "%.17g", value);
	e = strchr(buf, 'e');
	if (mag < 1e-6 || mag >= 1e21 || e == NULL)
		return;		/* Go's exponent form matches C's; plain numbers are already plain */
	/* %g chose an exponent where Go writes plain decimals: keep the digits, drop the
	 * exponent. */
	exp10 = (int)strtol(e + 1, NULL, 10);
	dot = strchr(buf, '.');
	digits = dot && dot < e ? (int)(e - dot - 1) + 1 : 1;
	snprintf(buf, buflen, "%.*f", digits - 1 - exp10 > 0 ? digits - 1 - exp10 : 0, value);
}

/* "00" to "99": two digits per division. */
static const char two_digits[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

size_t
jsonutil_format_rounded(double value, char *buf)
{
	double mag = fabs(value);
	uint64_t m;
	uint32_t ip, fp;
	char tmp[12], *p = buf;
	int n = 0;

	if (!(mag < 1e9)) {		/* whole numbers, and NaN and infinities (null) */
		jsonutil_format_double(isfinite(value) ? round(value) : value, buf, 40);
		return strlen(buf);
	}
	/* The decimal of six places nearest to value is also the shortest text of the double
	 * nearest to it: two such decimals lie further apart than the doubles here do. */
	m = (uint64_t)llround(mag * 1e6);
	if (m == 0) {
		memcpy(buf, "0", 2);
		return 1;
	}
	ip = (uint32_t)(m / 1000000);
	fp = (uint32_t)(m % 1000000);
	if (value < 0)
		*p++ = '-';
	/* The whole part, two digits at a time from the right. */
	do {
		if (ip < 10) {
			tmp[sizeof(tmp) - 1 - n++] = (char)('0' + ip);
			break;
		}
		n += 2;
		memcpy(tmp + sizeof(tmp) - n, two_digits + 2 * (ip % 100), 2);
		ip /= 100;
	} while (ip > 0);
	memcpy(p, tmp + sizeof(tmp) - n, (size_t)n);
	p += n;
	if (fp != 0) {
		*p++ = '.';
		memcpy(p, two_digits + 2 * (fp / 10000), 2);
		memcpy(p + 2, two_digits + 2 * (fp / 100 % 100), 2);
		memcpy(p + 4, two_digits + 2 * (fp % 100), 2);
		p += 6;
		while (p[-1] == '0')
			p--;
	}
	*p = '\0';
	return (size_t)(p - buf);
}

struct json_object *
jsonutil_new_rounded(double value)
{
	char repr[40];

	if (!isfinite(value))
		return NULL;
	jsonutil_format_rounded(value, repr);
	return json_object_new_double_s(value, repr);
}

struct json_object *
jsonutil_new_double(double value)
{
	char repr[64];

	if (!isfinite(value))
		return NULL;	/* json-c serialises NULL as null */
	jsonutil_format_double(value, repr, sizeof(repr));
	return json_object_new_double_s(value, repr);
}

const char *
jsonutil_to_string(struct json_object *obj, size_t *len)
{
	return json_object_to_json_string_length(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

void
jsonutil_put(void *obj)
{
	json_object_put(obj);
}
