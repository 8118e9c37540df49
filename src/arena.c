/* arena.c: a bump allocator in linked blocks, with deferred cleanups. */
#include "config.h"

#include "arena.h"
#include "util.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK (16 * 1024)
#define ARENA_ALIGN (alignof(max_align_t))

struct block {
	struct block *next;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

struct cleanup {
	struct cleanup *next;
	void (*fn)(void *);
	void *ptr;
};

struct arena {
	struct block *first;	/* kept across clears */
	struct block *cur;	/* where small allocations bump */
	struct block *extra;	/* every block but the first, freed on clear */
	struct cleanup *cleanups;
	size_t total;
};

static struct block *
block_new(size_t size)
{
	struct block *b = xmalloc(sizeof(*b) + size);
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct arena *
arena_new(void)
{
	struct arena *a = xcalloc(1, sizeof(*a));
	a->first = a->cur = block_new(ARENA_BLOCK);
	return a;
}

static struct block *
arena_add_block(struct arena *a, size_t size)
{
	struct block *b = block_new(size);
	b->next = a->extra;
	a->extra = b;
	return b;
}

void *
arena_alloc(struct arena *a, size_t size)
{
	size_t need = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	struct block *b = a->cur;
	void *p;

	if (need == 0)
		need = ARENA_ALIGN;
	if (b->size - b->used < need) {
		if (need > ARENA_BLOCK / 4) {
			/* A large allocation gets a block of its own; the current block keeps
			 * serving the small ones. */
			b = arena_add_block(a, need);
			b->used = need;
			a->total += size;
			return b->data;
		}
		b = a->cur = arena_add_block(a, ARENA_BLOCK);
	}
	p = b->data + b->used;
	b->used += need;
	a->total += size;
	return p;
}

void *
arena_zalloc(struct arena *a, size_t size)
{
	void *p = arena_alloc(a, size);
	memset(p, 0, size);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

char *
arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list copy;
	char small[256];
	int n;

	va_copy(copy, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n < 0) {
		va_end(copy);
		return arena_strdup(a, "");
	}
	char *p = arena_alloc(a, (size_t)n + 1);
	if ((size_t)n < sizeof(small))
		memcpy(p, small, (size_t)n + 1);
	else
		vsnprintf(p, (size_t)n + 1, fmt, copy);
	va_end(copy);
	return p;
}

void
arena_defer(struct arena *a, void (*fn)(void *), void *ptr)
{
	struct cleanup *c = arena_alloc(a, sizeof(*c));
	c->fn = fn;
	c->ptr = ptr;
	c->next = a->cleanups;
	a->cleanups = c;
}

void
arena_clear(struct arena *a)
{
	/* Cleanups live in the arena itself: run them all before releasing any block. */
	for (struct cleanup *c = a->cleanups; c; c = c->next)
		c->fn(c->ptr);
	a->cleanups = NULL;
	while (a->extra != NULL) {
		struct block *b = a->extra;
		a->extra = b->next;
		free(b);
	}
	a->cur = a->first;
	a->first->used = 0;
	a->total = 0;
}

void
arena_free(struct arena *a)
{
	if (a == NULL)
		return;
	arena_clear(a);
	free(a->first);
	free(a);
}

size_t
arena_used(const struct arena *a)
{
	return a->total;
}
