/* util.h: allocation that aborts on failure, bounded number parsing, clocks, string buffers,
 * freeing what held a secret. */
#ifndef PULSE_UTIL_H
#define PULSE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation failure is not recoverable in a responder or worker: these log and abort, so
 * callers never test for NULL. */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);
/* s without the white space (isspace) around it: the first byte kept, and *len bytes from
 * there. */
const char *str_trimmed(const char *s, size_t *len);
/* 1 when s is well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF), else 0: what PostgreSQL and pango accept as text. */
int str_utf8_valid(const char *s);
/* Appends a zeroed element (memset: include <string.h>) to a growing array (arr, count n, capacity cap). */
#define GROW(arr, n, cap) do { \
	if ((n) == (cap)) { \
		(cap) = (cap) ? (cap) * 2 : 16; \
		(arr) = xrealloc((arr), sizeof(*(arr)) * (size_t)(cap)); \
	} \
	memset(&(arr)[(n)], 0, sizeof(*(arr))); \
} while (0)

char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses the whole of s as a base-10 integer within [min, max]. Returns 0 and sets *out, or
 * -1 (empty, trailing garbage, out of range) leaving *out untouched. Never atoi. */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Parses a size such as "1048576", "512k", "8M" or "1G" (powers of 1024). */
int parse_size(const char *s, int64_t *out);

/* Parses "true/false/yes/no/on/off/1/0" (any case). */
int parse_bool(const char *s, int *out);

/* Seconds on the monotonic clock, and wall-clock time. */
double clock_monotonic(void);
double clock_wall(void);

/* Compares two byte strings in time that depends only on blen: pass the secret as a and
 * what a client presented as b. */
int ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Wipes len bytes at p, then frees p (NULL is fine): for memory that held a secret. */
void secret_free_n(void *p, size_t len);
/* The same for a NUL-terminated string; a void * so that arena_defer can take it. */
void secret_free(void *s);

/* A growable string; data is always NUL-terminated once anything was appended. */
struct strbuf {
	char *data;
	size_t len;
	size_t cap;
};

void sb_reserve(struct strbuf *sb, size_t extra);
void sb_append(struct strbuf *sb, const void *data, size_t len);
void sb_puts(struct strbuf *sb, const char *s);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
void sb_reset(struct strbuf *sb);
void sb_free(struct strbuf *sb);
/* sb_free for arena_defer: releases a strbuf's text (the strbuf itself stays). */
void sb_free_deferred(void *sb);

#endif
