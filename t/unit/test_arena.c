/* test_arena.c: request memory, cleanups in reverse order, reuse after clear. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "tap.h"

static char order[8];
static int norder;

static void
note(void *p)
{
	order[norder++] = *(char *)p;
}

int
main(void)
{
	struct arena *a = arena_new();
	char *s, *big;
	static char x = 'x', y = 'y';

	s = arena_strdup(a, "hello");
	is_str(s, "hello", "strdup");
	is_str(arena_printf(a, "%d-%s", 3, "z"), "3-z", "printf");
	ok(((uintptr_t)arena_alloc(a, 3) % sizeof(void *)) == 0, "allocations are aligned");
	big = arena_alloc(a, 100000);
	memset(big, 'q', 100000);
	ok(big[99999] == 'q', "a large allocation is usable");
	for (int i = 0; i < 10000; i++)
		arena_alloc(a, 24);
	ok(arena_used(a) >= 100000 + 240000, "usage counted");
	char *zero = arena_zalloc(a, 64);
	int allzero = 1;
	for (int i = 0; i < 64; i++)
		allzero &= zero[i] == 0;
	ok(allzero, "zalloc zeroes");
	is_str(arena_printf(a, "%0500d", 1) + 499, "1", "printf longer than the stack buffer");

	arena_defer(a, note, &x);
	arena_defer(a, note, &y);
	arena_clear(a);
	is_int(norder, 2, "both cleanups ran");
	ok(order[0] == 'y' && order[1] == 'x', "cleanups run last registered first");
	is_int(arena_used(a), 0, "cleared");
	s = arena_strdup(a, "again");
	is_str(s, "again", "usable after clear");
	arena_free(a);
	return done_testing();
}
