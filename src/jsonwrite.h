/* jsonwrite.h: members added to json-c objects in the encodings of the original's JSON. */
#ifndef PULSE_JSONWRITE_H
#define PULSE_JSONWRITE_H

#include <json-c/json.h>
#include <stdint.h>

/*
 * Each adds member k to object o (which owns the new value; a member of the same name is
 * replaced). Members come out in the order they are added, so a builder's order of calls is
 * the order of the JSON the API serves.
 */

/* A string; NULL writes "". */
void jsonwrite_str(struct json_object *o, const char *k, const char *v);
/* A string, left out when v is NULL or empty (Go's omitempty). */
void jsonwrite_opt_str(struct json_object *o, const char *k, const char *v);
void jsonwrite_int(struct json_object *o, const char *k, int64_t v);
/* An integer, left out when 0 (omitempty). */
void jsonwrite_opt_int(struct json_object *o, const char *k, int64_t v);
/* A number written as Go writes a float64 (jsonutil_new_double); NaN and infinities as 0. */
void jsonwrite_num(struct json_object *o, const char *k, double v);
void jsonwrite_bool(struct json_object *o, const char *k, int v);
/* true when v is non-zero; nothing otherwise (an omitempty boolean). */
void jsonwrite_true_if(struct json_object *o, const char *k, int v);
/* Epoch milliseconds of the whole second of unix time t (timefmt_unix_ms), as the original's
 * frontend conversion writes. */
void jsonwrite_ms(struct json_object *o, const char *k, double t);
/* RFC 3339 of unix time t as Go writes a time.Time (timefmt_rfc3339; 0: Go's zero time). */
void jsonwrite_time(struct json_object *o, const char *k, double t);

#endif
