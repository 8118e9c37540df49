/* jsonread.h: tolerant reading of JSON others wrote (Proxmox answers, stored documents). */
#ifndef PULSE_JSONREAD_H
#define PULSE_JSONREAD_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Nothing here fails or crashes on a value of the wrong shape: a missing object, a member of
 * another type, JSON null and an absent key all read as "missing" (NULL, the default, or a
 * 0 return). Strings returned stay owned by the json-c object they were read from. For a
 * request body, where a wrong type is the client's error, use jsonutil_get_* instead.
 *
 * Two families, because Proxmox answers and the original's parsers need two readings:
 * - Members with a default (jsonread_string, jsonread_number, jsonread_int): what the PVE,
 *   PBS and PMG parsers read. Numbers may come as strings with thousands separators or a
 *   unit ("1,234", "85%"), booleans count as 1 and 0, and integers are cut toward zero.
 * - Values converted as the original's *FromAny helpers do (jsonread_value_*): strings
 *   trimmed, floats rounded to the nearest integer, booleans also from yes/no/on/off words;
 *   a 0 return says the value held nothing usable.
 */

/* The member key of obj; NULL when obj is not an object, or key is absent or null. */
struct json_object *jsonread_member(struct json_object *obj, const char *key);
/* Whether jsonread_member would find something. */
int jsonread_has(struct json_object *obj, const char *key);
/* The first of n keys of obj that jsonread_member finds, or NULL. */
struct json_object *jsonread_first(struct json_object *obj, const char *const *keys, size_t n);
#define JSONREAD_FIRST(obj, ...) \
	jsonread_first((obj), (const char *const[]){__VA_ARGS__}, \
	    sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

int jsonread_is_object(struct json_object *v);
int jsonread_is_array(struct json_object *v);
/* The length of array a; 0 when a is not an array. */
int jsonread_array_len(struct json_object *a);

/* A member as text: a string, or the JSON text of a number; def for anything else. */
const char *jsonread_string(struct json_object *obj, const char *key, const char *def);
/* A member as a finite number: a JSON number, a boolean (1 or 0), or a string that is a
 * number once commas, spaces, quotes and '%' are dropped ("1,234", "85%", "\"3\""); def
 * otherwise. */
double jsonread_number(struct json_object *obj, const char *key, double def);
/* A member as an integer: a JSON integer exactly, anything jsonread_number reads cut toward
 * zero; def when that is missing or beyond what an int64 holds. */
int64_t jsonread_int(struct json_object *obj, const char *key, int64_t def);
/* A member as a boolean as jsonread_value_bool reads one; def otherwise. */
int jsonread_bool(struct json_object *obj, const char *key, int def);
/* The first of n keys that jsonread_number reads, as a number; 0 when none does. */
double jsonread_number_first(struct json_object *obj, const char *const *keys, int n);

/* Go's stringFromAny: a string trimmed, a number in its shortest form, true or false;
 * empty for anything else. Writes into buf (len bytes, cut as jsonread_copy_trimmed cuts)
 * and returns buf. */
char *jsonread_value_text(struct json_object *v, char *buf, size_t len);
/* intFromAny: an integer, a float rounded (half away from zero), or a trimmed string that
 * is one of those. Returns 1 and sets *out, or 0 (nothing usable, or beyond an int64). */
int jsonread_value_int(struct json_object *v, int64_t *out);
/* floatFromAny: a number or a trimmed numeric string, finite only. Returns 1 and sets *out,
 * or 0. */
int jsonread_value_number(struct json_object *v, double *out);
/* boolFromAny: a boolean, a number (non-zero once rounded is true), or a word (any case,
 * trimmed) among true/yes/1/on/enabled and false/no/0/off/disabled. Returns 1 and sets *out,
 * or 0. */
int jsonread_value_bool(struct json_object *v, int *out);

/* Copies src (NULL: empty) into dst of len bytes, cut to fit (perhaps inside a UTF-8
 * character: the parsers that always did so keep doing so). */
void jsonread_copy(char *dst, size_t len, const char *src);
/* Copies src (NULL: empty) without its leading and trailing white space into dst of len
 * bytes, cut to fit but never inside a UTF-8 character. src may lie inside dst. Returns
 * dst. */
char *jsonread_copy_trimmed(char *dst, size_t len, const char *src);

#endif
