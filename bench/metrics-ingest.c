/* metrics-ingest.c: the ingest part of `make bench` (bench/run-bench.pl drives it).
 *
 *   metrics-ingest ours CONNINFO GUESTS INSTANTS INTERVAL START
 *   metrics-ingest bare CONNINFO GUESTS INSTANTS INTERVAL START
 *
 * "ours" records GUESTS x 7 samples per instant through the worker's write path
 * (worker/metrics_writer.c: buffer, series ids, block rows, COPY in binary, bookkeeping) and
 * writes after each instant, as the worker does after each poll; "bare" COPYs the same
 * samples, one text row (series, ts, value) each, into a plain table pulse_bench.samples.
 * Instants are INTERVAL seconds apart from START (Unix seconds). The series are created
 * before the clock starts. Prints "seconds <elapsed> samples <n>". */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "db.h"
#include "log.h"
#include "util.h"
#include "worker.h"

static const char *const metrics[7] = {"cpu", "memory", "disk", "diskread", "diskwrite",
	"netin", "netout"};

static double
value(int g, int m, int i)
{
	uint32_t h = (uint32_t)(g * 2654435761u) ^ (uint32_t)(m * 40503u) ^ (uint32_t)(i * 97u);

	h ^= h >> 13;
	h *= 0x5bd1e995u;
	h ^= h >> 15;
	return m < 3 ? (double)(h % 100000) / 1000.0 : (double)(h % 50000000);
}

static int
ours(struct worker *w, int guests, int instants, double interval, double start)
{
	char id[64], name[32];
	double t0;

	/* The series exist before timing, as they do after a worker's first poll. */
	for (int g = 0; g < guests; g++) {
		snprintf(id, sizeof(id), "bench:n%d:%d", g / 100, 1000 + g);
		snprintf(name, sizeof(name), "vm%d", g);
		for (int m = 0; m < 7; m++)
			metrics_record("vm", id, name, metrics[m], start - interval, value(g, m, -1));
	}
	if (metrics_flush(w) != 0)
		return -1;
	t0 = clock_monotonic();
	for (int i = 0; i < instants; i++) {
		double ts = start + i * interval;
		for (int g = 0; g < guests; g++) {
			snprintf(id, sizeof(id), "bench:n%d:%d", g / 100, 1000 + g);
			snprintf(name, sizeof(name), "vm%d", g);
			for (int m = 0; m < 7; m++)
				metrics_record("vm", id, name, metrics[m], ts, value(g, m, i));
		}
		if (metrics_flush(w) != 0)
			return -1;
	}
	printf("seconds %.4f samples %ld\n", clock_monotonic() - t0, (long)instants * guests * 7);
	return 0;
}

static int
bare(struct worker *w, int guests, int instants, double interval, double start)
{
	struct strbuf sb = {0};
	double t0;

	if (db_exec(w->db, "CREATE SCHEMA IF NOT EXISTS pulse_bench; "
	    "CREATE TABLE IF NOT EXISTS pulse_bench.samples (series integer, ts timestamptz, "
	    "value float8)") != 0)
		return -1;
	t0 = clock_monotonic();
	for (int i = 0; i < instants; i++) {
		long long us = llround((start + i * interval) * 1e6);
		time_t secs = (time_t)(us / 1000000);
		struct tm tm;
		char ts[48];

		gmtime_r(&secs, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
		sb_reset(&sb);
		for (int g = 0; g < guests; g++)
			for (int m = 0; m < 7; m++)
				sb_printf(&sb, "%d\t%s.%06lld+00\t%.17g\n", g * 7 + m, ts, us % 1000000,
				    value(g, m, i));
		if (db_begin(w->db) != 0 ||
		    db_copy_begin(w->db, "COPY pulse_bench.samples FROM STDIN WITH (FORMAT text)") != 0 ||
		    db_copy_put(w->db, sb.data, sb.len) != 0 || db_copy_end(w->db) != 0 ||
		    db_commit(w->db) != 0)
			return -1;
	}
	printf("seconds %.4f samples %ld\n", clock_monotonic() - t0, (long)instants * guests * 7);
	sb_free(&sb);
	return 0;
}

int
main(int argc, char **argv)
{
	struct worker w;
	char err[256];
	int rc;

	if (argc != 7) {
		fprintf(stderr, "usage: metrics-ingest ours|bare CONNINFO GUESTS INSTANTS INTERVAL START\n");
		return 2;
	}
	log_init("metrics-ingest", LOGL_WARN);
	if (conf_load("/dev/null", 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	memset(&w, 0, sizeof(w));
	w.id = "bench";
	w.db = db_new(argv[2], "metrics-ingest", 5);
	if (db_ensure(w.db, 1) != 0) {
		fprintf(stderr, "cannot connect\n");
		return 1;
	}
	if (strcmp(argv[1], "ours") == 0)
		rc = ours(&w, atoi(argv[3]), atoi(argv[4]), atof(argv[5]), atof(argv[6]));
	else
		rc = bare(&w, atoi(argv[3]), atoi(argv[4]), atof(argv[5]), atof(argv[6]));
	if (rc != 0)
		fprintf(stderr, "failed: %s\n", db_error(w.db));
	metrics_writer_free();
	db_free(w.db);
	return rc ? 1 : 0;
}
