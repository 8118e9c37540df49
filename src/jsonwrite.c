/* jsonwrite.c: members added to json-c objects in the encodings of the original's JSON. */
#include "config.h"

#include "jsonwrite.h"
#include "jsonutil.h"
#include "timefmt.h"

#include <math.h>

void
jsonwrite_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

void
jsonwrite_opt_str(struct json_object *o, const char *k, const char *v)
{
	if (v && *v)
		jsonwrite_str(o, k, v);
}

void
jsonwrite_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

void
jsonwrite_opt_int(struct json_object *o, const char *k, int64_t v)
{
	if (v != 0)
		jsonwrite_int(o, k, v);
}

void
jsonwrite_num(struct json_object *o, const char *k, double v)
{
	json_object_object_add(o, k, jsonutil_new_double(isfinite(v) ? v : 0));
}

void
jsonwrite_bool(struct json_object *o, const char *k, int v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

void
jsonwrite_true_if(struct json_object *o, const char *k, int v)
{
	if (v)
		jsonwrite_bool(o, k, 1);
}

void
jsonwrite_ms(struct json_object *o, const char *k, double t)
{
	jsonwrite_int(o, k, timefmt_unix_ms(t));
}

void
jsonwrite_time(struct json_object *o, const char *k, double t)
{
	char buf[TIMEFMT_LEN];

	jsonwrite_str(o, k, timefmt_rfc3339(t, buf, sizeof(buf)));
}
