/* arena.h: memory owned by one request (or one job run), released all at once. */
#ifndef PULSE_ARENA_H
#define PULSE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

/* A new arena; its first block is kept across arena_clear() so a thread that serves many
 * requests allocates nothing per request in the common case. */
struct arena *arena_new(void);

/* Memory that lives until the next arena_clear()/arena_free(); aligned for any type,
 * never NULL (allocation failure aborts). */
void *arena_alloc(struct arena *a, size_t size);
void *arena_zalloc(struct arena *a, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t len);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Runs fn(ptr) when the arena is cleared, last registered first: ties objects from other
 * allocators (json-c, libpq results) to the request's lifetime. */
void arena_defer(struct arena *a, void (*fn)(void *), void *ptr);

/* Runs the deferred calls and releases everything but the first block. */
void arena_clear(struct arena *a);
void arena_free(struct arena *a);

/* Bytes handed out since the last clear (for tests and diagnostics). */
size_t arena_used(const struct arena *a);

#endif
