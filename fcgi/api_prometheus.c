/* api_prometheus.c: GET /metrics (metrics-reporting.md §7): the request, poll and alert
 * metrics of every responder and worker, summed, and the monitored estate as gauges, in the
 * Prometheus text format. nginx restricts who may reach it (nginx/pulse-site.conf.in). */
#include "config.h"

#include "handlers.h"
#include "prom.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The answer goes out as it is written: the head with the first piece. */
static int
write_piece(void *arg, const char *data, size_t len)
{
	struct request *r = arg;

	if (!r->responded)
		resp_stream_begin(r, 200, CONTENT_TYPE);
	return resp_stream_write(r, data, len);
}

void
api_prometheus_metrics(struct request *r)
{
	/* This responder's own counts are current; the others' are at most one
	 * prometheus_interval old. A failed publication is logged and retried next time. */
	(void)prom_flush(r->db);
	if (prom_render(r->db, write_piece, r) != 0) {
		resp_db_unavailable(r);
		return;
	}
	if (!r->responded)
		resp_raw(r, 200, CONTENT_TYPE, "", 0);
}
