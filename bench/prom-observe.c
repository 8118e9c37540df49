/* prom-observe.c: what counting one request costs a responder, for `make bench`
 * (bench/run-bench.pl, BENCH_ONLY=prom drives it).
 *
 *   prom-observe CALLS THREADS
 *
 * THREADS threads call prom_http_observe (src/prom.c: the route label, the label set, one
 * lock, a hash lookup, a histogram and two counters) CALLS times between them, over a mix of
 * 40 label sets as a responder serving the UI sees; then the same loop with counting off.
 * Prints "on_ns <per call> off_ns <per call>". */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "prom.h"
#include "util.h"

static long per_thread;

static const char *const paths[] = {"/api/state", "/api/health", "/api/charts",
    "/api/alerts/active", "/api/storage/pve1-local", "/api/config/nodes/42",
    "/api/metrics-store/history", "/api/resources/0b8e3c1a-9d47-4e4b-8f7a-1c2d3e4f5a6b"};
static const int statuses[] = {200, 200, 200, 304, 404};

static void *
observer(void *arg)
{
	unsigned seed = (unsigned)(size_t)arg;

	for (long i = 0; i < per_thread; i++) {
		seed = seed * 1103515245u + 12345u;
		prom_http_observe("GET", paths[(seed >> 8) % ARRAY_LEN(paths)], 1,
		    statuses[(seed >> 16) % ARRAY_LEN(statuses)], 0.001 * (double)((seed >> 4) % 200));
	}
	return NULL;
}

static double
run(int threads)
{
	pthread_t t[64];
	double start = clock_monotonic();

	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, observer, (void *)(size_t)(i + 1)) != 0)
			return -1;
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return (clock_monotonic() - start) * 1e9 / ((double)per_thread * threads);
}

int
main(int argc, char **argv)
{
	long calls;
	int threads;
	double on, off;

	if (argc != 3 || (calls = strtol(argv[1], NULL, 10)) <= 0 ||
	    (threads = atoi(argv[2])) <= 0 || threads > 64) {
		fprintf(stderr, "usage: prom-observe CALLS THREADS\n");
		return 2;
	}
	log_init("prom-observe", LOGL_WARN);
	per_thread = calls / threads;
	prom_init("prom-observe", 15);
	on = run(threads);
	prom_init("prom-observe", 0);
	off = run(threads);
	printf("on_ns %.1f off_ns %.1f\n", on, off);
	return 0;
}
