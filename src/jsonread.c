/* jsonread.c: tolerant reading of JSON others wrote (Proxmox answers, stored documents). */
#include "config.h"

#include "jsonread.h"
#include "jsonutil.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct json_object *
jsonread_member(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	json_object_object_get_ex(obj, key, &v);
	return v;
}

int
jsonread_has(struct json_object *obj, const char *key)
{
	return jsonread_member(obj, key) != NULL;
}

struct json_object *
jsonread_first(struct json_object *obj, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = jsonread_member(obj, keys[i]);
		if (v != NULL)
			return v;
	}
	return NULL;
}

int
jsonread_is_object(struct json_object *v)
{
	return v != NULL && json_object_is_type(v, json_type_object);
}

int
jsonread_is_array(struct json_object *v)
{
	return v != NULL && json_object_is_type(v, json_type_array);
}

int
jsonread_array_len(struct json_object *a)
{
	return jsonread_is_array(a) ? (int)json_object_array_length(a) : 0;
}

/* --- members with a default ----------------------------------------------------------- */

const char *
jsonread_string(struct json_object *obj, const char *key, const char *def)
{
	struct json_object *v = jsonread_member(obj, key);

	if (v == NULL)
		return def;
	if (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double))
		return json_object_get_string(v);
	return def;
}

double
jsonread_number(struct json_object *obj, const char *key, double def)
{
	struct json_object *v = jsonread_member(obj, key);
	char buf[64];
	const char *s;
	size_t o = 0;
	char *end;
	double d;

	if (v == NULL)
		return def;
	switch (json_object_get_type(v)) {
	case json_type_int:
		return (double)json_object_get_int64(v);
	case json_type_double:
		d = json_object_get_double(v);
		return isfinite(d) ? d : def;
	case json_type_boolean:
		return json_object_get_boolean(v) ? 1 : 0;
	case json_type_string:
		s = json_object_get_string(v);
		for (; *s && o < sizeof(buf) - 1; s++) {
			if (*s == ',' || *s == '"' || *s == ' ' || *s == '%')
				continue;
			buf[o++] = *s;
		}
		buf[o] = '\0';
		if (o == 0)
			return def;
		d = strtod(buf, &end);
		return *end == '\0' && isfinite(d) ? d : def;
	default:
		return def;
	}
}

int64_t
jsonread_int(struct json_object *obj, const char *key, int64_t def)
{
	struct json_object *v = jsonread_member(obj, key);
	double d;

	if (v && json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	d = jsonread_number(obj, key, NAN);
	if (isnan(d) || d > 9.2e18 || d < -9.2e18)
		return def;
	return (int64_t)d;
}

int
jsonread_bool(struct json_object *obj, const char *key, int def)
{
	int b;

	return jsonread_value_bool(jsonread_member(obj, key), &b) ? b : def;
}

double
jsonread_number_first(struct json_object *obj, const char *const *keys, int n)
{
	for (int i = 0; i < n; i++) {
		double v = jsonread_number(obj, keys[i], NAN);
		if (!isnan(v))
			return v;
	}
	return 0;
}

/* --- values as the original's *FromAny helpers read them -------------------------------- */

char *
jsonread_value_text(struct json_object *v, char *buf, size_t len)
{
	char num[64];

	buf[0] = '\0';
	if (v == NULL)
		return buf;
	switch (json_object_get_type(v)) {
	case json_type_string:
		return jsonread_copy_trimmed(buf, len, json_object_get_string(v));
	case json_type_int:
		snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(v));
		return jsonread_copy_trimmed(buf, len, num);
	case json_type_double:
		if (!isfinite(json_object_get_double(v)))
			return buf;
		jsonutil_format_double(json_object_get_double(v), num, sizeof(num));
		return jsonread_copy_trimmed(buf, len, num);
	case json_type_boolean:
		return jsonread_copy_trimmed(buf, len, json_object_get_boolean(v) ? "true" : "false");
	default:
		return buf;
	}
}

/* A double rounded to an int64, refusing what does not fit. */
static int
round_int64(double d, int64_t *out)
{
	if (!isfinite(d) || d >= 9.2e18 || d <= -9.2e18)
		return 0;
	*out = (int64_t)llround(d);
	return 1;
}

int
jsonread_value_int(struct json_object *v, int64_t *out)
{
	char buf[64], *end;
	double d;

	if (v == NULL)
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_int:
		*out = json_object_get_int64(v);
		return 1;
	case json_type_double:
		return round_int64(json_object_get_double(v), out);
	case json_type_string:
		jsonread_copy_trimmed(buf, sizeof(buf), json_object_get_string(v));
		if (buf[0] == '\0')
			return 0;
		if (parse_int64(buf, INT64_MIN, INT64_MAX, out) == 0)
			return 1;
		d = strtod(buf, &end);
		return *end == '\0' && round_int64(d, out);
	default:
		return 0;
	}
}

int
jsonread_value_number(struct json_object *v, double *out)
{
	char buf[64], *end;
	double d;

	if (v == NULL)
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_int:
		*out = (double)json_object_get_int64(v);
		return 1;
	case json_type_double:
		d = json_object_get_double(v);
		break;
	case json_type_string:
		jsonread_copy_trimmed(buf, sizeof(buf), json_object_get_string(v));
		if (buf[0] == '\0')
			return 0;
		d = strtod(buf, &end);
		if (*end != '\0')
			return 0;
		break;
	default:
		return 0;
	}
	if (!isfinite(d))
		return 0;
	*out = d;
	return 1;
}

int
jsonread_value_bool(struct json_object *v, int *out)
{
	static const char *const yes[] = {"true", "yes", "1", "on", "enabled"};
	static const char *const no[] = {"false", "no", "0", "off", "disabled"};
	char buf[16];
	int64_t i;

	if (v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v) != 0;
		return 1;
	}
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		if (!jsonread_value_int(v, &i))
			return 0;
		*out = i != 0;
		return 1;
	}
	if (!json_object_is_type(v, json_type_string))
		return 0;
	jsonread_copy_trimmed(buf, sizeof(buf), json_object_get_string(v));
	for (char *p = buf; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (size_t k = 0; k < ARRAY_LEN(yes); k++) {
		if (strcmp(buf, yes[k]) == 0) {
			*out = 1;
			return 1;
		}
		if (strcmp(buf, no[k]) == 0) {
			*out = 0;
			return 1;
		}
	}
	return 0;
}

/* --- copies into fixed buffers ----------------------------------------------------------- */

void
jsonread_copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

char *
jsonread_copy_trimmed(char *dst, size_t len, const char *src)
{
	size_t n;

	if (len == 0)
		return dst;
	if (src == NULL)
		src = "";
	while (*src && isspace((unsigned char)*src))
		src++;
	n = strlen(src);
	while (n > 0 && isspace((unsigned char)src[n - 1]))
		n--;
	if (n >= len) {
		/* Never end inside a UTF-8 sequence: src[n] must start a character. */
		n = len - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memmove(dst, src, n);	/* src may lie inside dst */
	dst[n] = '\0';
	return dst;
}
