/* api_prometheus.c: GET /metrics (metrics-reporting.md §7): the request, poll and alert
 * metrics of every responder and worker, summed, and the monitored estate as gauges, in the
 * Prometheus text format. nginx restricts who may reach it (nginx/pulse-site.conf.in). */
#include "config.h"

#include "handlers.h"
#include "prom.h"

void
api_prometheus_metrics(struct request *r)
{
	struct strbuf out = {0};

	/* This responder's own counts are current; the others' are at most one
	 * prometheus_interval old. A failed publication is logged and retried next time. */
	(void)prom_flush(r->db);
	if (prom_render(r->db, &out) != 0) {
		sb_free(&out);
		resp_db_unavailable(r);
		return;
	}
	resp_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", out.data ? out.data : "",
	    out.len);
	sb_free(&out);
}
