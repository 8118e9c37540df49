/* jsonutil.h: strict parsing of untrusted JSON and typed access over json-c. */
#ifndef PULSE_JSONUTIL_H
#define PULSE_JSONUTIL_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#define JSONUTIL_MAX_DEPTH 32

/* How much a parse may build. json-c spends about 800 bytes on an empty object and 100 on a
 * number: a small text can ask for hundreds of times its size. Both limits are checked by a
 * scan of the text that allocates nothing, before json-c sees it. */
struct jsonutil_limits {
	size_t max_values;	/* values of every kind, containers and object keys included */
	size_t max_memory;	/* estimated bytes the parsed tree would take */
};

/* The limits jsonutil_parse applies: request bodies, stored JSON. */
extern const struct jsonutil_limits jsonutil_limits_default;
/* Answers of Proxmox servers: /cluster/resources of 20,000 guests fits. */
extern const struct jsonutil_limits jsonutil_limits_upstream;

/* Counts the values of the JSON text in buf[0..len) and estimates the memory a parse would
 * take, without validating it. Returns 0 when both are within lim, or -1 with a message in
 * err (nothing of the input echoed). */
int jsonutil_check_limits(const char *buf, size_t len, const struct jsonutil_limits *lim,
    char *err, size_t errlen);

/* Parses exactly one JSON value filling buf[0..len) (surrounding whitespace allowed),
 * nesting at most JSONUTIL_MAX_DEPTH deep and within lim (jsonutil_parse: the default
 * limits). Returns a new reference the caller puts, or NULL with a short message (position
 * and reason, no input echoed) in err; *too_large (when not NULL) is set when the text
 * was refused for its limits rather than for its form. */
struct json_object *jsonutil_parse_limited(const char *buf, size_t len,
    const struct jsonutil_limits *lim, int *too_large, char *err, size_t errlen);
struct json_object *jsonutil_parse(const char *buf, size_t len, char *err, size_t errlen);

/* Walks the JSON object text buf[0..len) and, for its member key when that is an array,
 * parses each element on its own and calls fn(element, arg) with a reference fn does not
 * keep (it is put after the call; NULL for a JSON null): a large array never becomes one tree, only one element
 * at a time. The whole text is checked against lim first, as jsonutil_parse_limited would;
 * every element and every other member is parsed strictly. Returns the number of elements
 * (0 when the member is absent or not an array: *found says which), or -1 with a message in
 * err and *too_large as jsonutil_parse_limited sets them; fn may have been called for some
 * elements before an error further on. */
long jsonutil_each_element(const char *buf, size_t len, const char *key,
    const struct jsonutil_limits *lim, void (*fn)(struct json_object *element, void *arg),
    void *arg, int *found, int *too_large, char *err, size_t errlen);

enum jsonutil_result {
	JSONUTIL_OK,
	JSONUTIL_MISSING,	/* key absent or null */
	JSONUTIL_WRONG_TYPE,	/* present with another type, or out of range */
};

/* Typed field access on an object. Strings stay owned by obj. */
enum jsonutil_result jsonutil_get_string(struct json_object *obj, const char *key,
    const char **out);
enum jsonutil_result jsonutil_get_bool(struct json_object *obj, const char *key, int *out);
/* Accepts only integral JSON numbers (no strings, no fractions) within [min, max]. */
enum jsonutil_result jsonutil_get_int(struct json_object *obj, const char *key, int64_t min,
    int64_t max, int64_t *out);
enum jsonutil_result jsonutil_get_double(struct json_object *obj, const char *key, double *out);
enum jsonutil_result jsonutil_get_array(struct json_object *obj, const char *key,
    struct json_object **out);
enum jsonutil_result jsonutil_get_object(struct json_object *obj, const char *key,
    struct json_object **out);

/* A double that serialises as Go's encoding/json does: the shortest form that reads back
 * exactly, plain decimals between 1e-6 and 1e21, exponent form outside; NaN and infinities
 * become null. */
struct json_object *jsonutil_new_double(double value);

/* Writes the shortest exact text of value into buf (at least 32 bytes). */
void jsonutil_format_double(double value, char *buf, size_t buflen);

/* Writes value rounded to six decimals (to a whole number from 1e9 up) as
 * jsonutil_format_double writes that, quickly: metric values, of which a chart answer holds
 * millions. buf holds at least 40 bytes; returns the length. */
size_t jsonutil_format_rounded(double value, char *buf);
/* The same as a JSON number (NULL, which json-c writes as null, for NaN and infinities). */
struct json_object *jsonutil_new_rounded(double value);

/* Compact serialisation without escaped slashes; the string belongs to obj. */
const char *jsonutil_to_string(struct json_object *obj, size_t *len);

/* json_object_put as a void (*)(void *) for arena_defer. */
void jsonutil_put(void *obj);

#endif
