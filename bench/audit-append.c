/* audit-append.c: the audit chain's append cost for `make bench` (bench/run-bench.pl drives
 * it).
 *
 *   audit-append CONNINFO DATA_DIR ROWS THREADS
 *
 * THREADS threads, each on its own connection, append ROWS audit rows between them through
 * audit_record (src/audit.c: the head row locked, the MAC over the predecessor's, the row
 * and the head written in one transaction), so that the appends contend for the chain's head
 * as responders do. Then the whole chain is verified. Prints "seconds <elapsed> rows <n>
 * verified <0|1>". DATA_DIR holds the encryption key that seals the chain's key. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "util.h"

static const char *conninfo;
static int per_thread;

static void *
appender(void *arg)
{
	struct db *db = db_new(conninfo, "audit-append", 5);
	char details[64];

	for (int i = 0; i < per_thread; i++) {
		snprintf(details, sizeof(details), "bench row %d of thread %ld", i, (long)(intptr_t)arg);
		audit_record(db, "bench", "bench", "127.0.0.1", "/bench", 1, details);
	}
	db_free(db);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t threads[64];
	struct audit_chain_report rep;
	char err[512];
	int64_t rows, nthreads;
	struct db *db;
	double t0, elapsed;
	int rc;

	if (argc != 5 || parse_int64(argv[3], 1, 10000000, &rows) != 0 ||
	    parse_int64(argv[4], 1, 64, &nthreads) != 0) {
		fprintf(stderr, "usage: audit-append CONNINFO DATA_DIR ROWS THREADS\n");
		return 2;
	}
	log_init("audit-append", LOGL_WARN);
	if (conf_load("/dev/null", 0, err, sizeof(err)) != 0 ||
	    secrets_init(argv[2], 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "audit-append: %s\n", err);
		return 2;
	}
	conninfo = argv[1];
	per_thread = (int)(rows / nthreads);
	t0 = clock_monotonic();
	for (long i = 0; i < nthreads; i++)
		pthread_create(&threads[i], NULL, appender, (void *)(intptr_t)i);
	for (long i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	elapsed = clock_monotonic() - t0;
	db = db_new(conninfo, "audit-append", 5);
	rc = audit_verify_chain(db, &rep);
	db_free(db);
	printf("seconds %.3f rows %lld verified %d\n", elapsed, (long long)(per_thread * nthreads),
	    rc == 0);
	return rc < 0 ? 1 : 0;
}
