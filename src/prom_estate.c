/* prom_estate.c: the monitored estate as Prometheus gauges, read from the state tables at
 * each scrape (nodes, guests, storage, backups, alerts, poll status), so that a Prometheus
 * can scrape Pulse instead of a separate PVE exporter. docs/API.md lists the names. */
#include "config.h"

#include "prom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gauge {
	const char *name;
	const char *type;	/* "gauge" or "counter" */
	const char *help;
};

/* One statement: its first nlabels columns are the labels (named in labels), each further
 * column the value of one family in gauges (NULL: no sample for that row). */
struct estate_table {
	struct db_stmt stmt;
	const char *labels[8];
	int nlabels;
	struct gauge gauges[20];
	int ngauges;
};

#define INSTANCE_NAME(alias) "coalesce(i.name, " alias ".instance_id)"
/* What /api/state shows: the demo estate in mock mode, the real one otherwise. */
#define MOCK_FILTER(alias) alias ".mock = (SELECT enabled FROM pulse.mock_mode WHERE id = 1)"

static const struct estate_table tables[] = {
	{{"prom_estate_nodes",
	    "SELECT " INSTANCE_NAME("n") ", n.node, "
	    "  (n.status = 'online')::int, n.cpu, n.mem_used, n.mem_total, n.disk_used, "
	    "  n.disk_total, n.uptime "
	    "FROM pulse.pve_nodes n LEFT JOIN pulse.instances i ON i.id = n.instance_id "
	    "WHERE " MOCK_FILTER("n"), 0},
	    {"instance", "node"}, 2, {
		{"pulse_node_up", "gauge", "Whether the Proxmox VE node is online (1) or not (0)."},
		{"pulse_node_cpu_usage_ratio", "gauge", "CPU usage of the node, 0 to 1."},
		{"pulse_node_memory_used_bytes", "gauge", "Memory used on the node."},
		{"pulse_node_memory_total_bytes", "gauge", "Memory of the node."},
		{"pulse_node_disk_used_bytes", "gauge", "Root disk used on the node."},
		{"pulse_node_disk_total_bytes", "gauge", "Root disk size of the node."},
		{"pulse_node_uptime_seconds", "gauge", "Uptime of the node."},
	    }, 7},
	{{"prom_estate_guests",
	    "SELECT " INSTANCE_NAME("g") ", g.node, g.vmid::text, g.name, g.type, "
	    "  (g.status = 'running')::int, g.cpu, g.cpus, g.mem_used, g.mem_total, g.disk_used, "
	    "  g.disk_total, g.net_in, g.net_out, g.disk_read, g.disk_write, g.uptime, "
	    "  extract(epoch FROM g.last_backup), extract(epoch FROM now() - g.last_backup) "
	    "FROM pulse.guests g LEFT JOIN pulse.instances i ON i.id = g.instance_id "
	    "WHERE " MOCK_FILTER("g"), 0},
	    {"instance", "node", "vmid", "name", "type"}, 5, {
		{"pulse_guest_up", "gauge", "Whether the guest is running (1) or not (0)."},
		{"pulse_guest_cpu_usage_ratio", "gauge", "CPU usage of the guest, 0 to 1 of its CPUs."},
		{"pulse_guest_cpus", "gauge", "CPUs given to the guest."},
		{"pulse_guest_memory_used_bytes", "gauge", "Memory used by the guest."},
		{"pulse_guest_memory_total_bytes", "gauge", "Memory given to the guest."},
		{"pulse_guest_disk_used_bytes", "gauge", "Disk used by the guest."},
		{"pulse_guest_disk_total_bytes", "gauge", "Disk size of the guest."},
		{"pulse_guest_network_receive_bytes_total", "counter",
		    "Bytes the guest received (as Proxmox reports it; resets when the guest starts)."},
		{"pulse_guest_network_transmit_bytes_total", "counter",
		    "Bytes the guest sent (as Proxmox reports it; resets when the guest starts)."},
		{"pulse_guest_disk_read_bytes_total", "counter", "Bytes the guest read from disk."},
		{"pulse_guest_disk_written_bytes_total", "counter", "Bytes the guest wrote to disk."},
		{"pulse_guest_uptime_seconds", "gauge", "Uptime of the guest."},
		{"pulse_guest_last_backup_timestamp_seconds", "gauge",
		    "Time of the guest's newest backup (guests with a backup only)."},
		{"pulse_guest_backup_age_seconds", "gauge",
		    "Seconds since the guest's newest backup (guests with a backup only)."},
	    }, 14},
	{{"prom_estate_storage",
	    "SELECT " INSTANCE_NAME("s") ", s.node, s.name, s.type, s.shared::text, "
	    "  (s.status = 'available')::int, s.used, s.total, s.avail "
	    "FROM pulse.storage s LEFT JOIN pulse.instances i ON i.id = s.instance_id "
	    "WHERE " MOCK_FILTER("s"), 0},
	    {"instance", "node", "storage", "type", "shared"}, 5, {
		{"pulse_storage_up", "gauge", "Whether the storage is available (1) or not (0)."},
		{"pulse_storage_used_bytes", "gauge", "Bytes used on the storage."},
		{"pulse_storage_total_bytes", "gauge", "Size of the storage."},
		{"pulse_storage_available_bytes", "gauge", "Bytes free on the storage."},
	    }, 4},
	/* The original's gauges, computed from the poll status instead of kept per process. */
	{{"prom_estate_polls",
	    "SELECT i.type, i.name, extract(epoch FROM ps.last_success), "
	    "  CASE WHEN ps.last_success IS NULL THEN -1 WHEN ps.connected THEN 0 "
	    "    ELSE extract(epoch FROM now() - ps.last_success) END, "
	    "  CASE coalesce(ps.breaker_state, 'closed') WHEN 'closed' THEN 0 "
	    "    WHEN 'half-open' THEN 1 WHEN 'open' THEN 2 ELSE -1 END, "
	    "  coalesce(ps.consecutive_failures, 0), "
	    "  greatest(coalesce(extract(epoch FROM ps.retry_at - now()), 0), 0) "
	    "FROM pulse.instances i LEFT JOIN pulse.poll_status ps ON ps.instance_id = i.id "
	    "ORDER BY 1, 2", 0},
	    {"instance_type", "instance"}, 2, {
		{"pulse_monitor_poll_last_success_timestamp", "gauge",
		    "Unix timestamp of the last successful poll."},
		{"pulse_monitor_poll_staleness_seconds", "gauge",
		    "Seconds since the last successful poll (0 when the last poll succeeded, -1 "
		    "when none did)."},
		{"pulse_scheduler_breaker_state", "gauge",
		    "Circuit breaker state: 0 closed, 1 half-open, 2 open, -1 unknown."},
		{"pulse_scheduler_breaker_failure_count", "gauge",
		    "Consecutive failures counted by the circuit breaker."},
		{"pulse_scheduler_breaker_retry_seconds", "gauge",
		    "Seconds until the circuit breaker retries."},
	    }, 5},
	{{"prom_estate_alerts",
	    "SELECT level, type, count(*) FROM pulse.alerts a WHERE resolved_at IS NULL AND "
	    MOCK_FILTER("a") " GROUP BY 1, 2 ORDER BY 1, 2", 0},
	    {"level", "type"}, 2, {
		{"pulse_alerts_active", "gauge", "Number of currently active alerts."},
	    }, 1},
};

/* The label part of each row, rendered once: name="value",... */
static char **
row_labels(const PGresult *res, const struct estate_table *t)
{
	int n = PQntuples(res);
	char **labels = xcalloc((size_t)n + 1, sizeof(char *));
	struct strbuf sb = {0};

	for (int i = 0; i < n; i++) {
		sb_reset(&sb);
		for (int c = 0; c < t->nlabels; c++) {
			const char *v = PQgetvalue(res, i, c);
			sb_printf(&sb, "%s%s=\"", c ? "," : "", t->labels[c]);
			prom_escape(&sb, *v ? v : "unknown");
			sb_puts(&sb, "\"");
		}
		labels[i] = xstrndup(sb.data ? sb.data : "", sb.len);
	}
	sb_free(&sb);
	return labels;
}

struct prom_estate {
	PGresult *res[ARRAY_LEN(tables)];
};

struct prom_estate *
prom_estate_query(struct db *db)
{
	struct prom_estate *e = xcalloc(1, sizeof(*e));

	for (size_t i = 0; i < ARRAY_LEN(tables); i++) {
		if ((e->res[i] = db_exec_stmt(db, &tables[i].stmt, NULL)) == NULL) {
			prom_estate_free(e);
			return NULL;
		}
	}
	return e;
}

void
prom_estate_free(struct prom_estate *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < ARRAY_LEN(tables); i++)
		PQclear(e->res[i]);
	free(e);
}

static int
render_table(const struct estate_table *t, PGresult *res, struct strbuf *out, prom_write_fn write,
    void *arg)
{
	int n = PQntuples(res), rc = 0;
	char **labels = row_labels(res, t);

	for (int g = 0; g < t->ngauges && rc == 0; g++) {
		const char *name = t->gauges[g].name;
		size_t namelen = strlen(name);
		int col = t->nlabels + g, any = 0;

		/* Tens of thousands of lines for a large estate: appended piece by piece, the
		 * values as PostgreSQL wrote them, given away every PROM_CHUNK bytes. */
		for (int i = 0; i < n && rc == 0; i++) {
			if (PQgetisnull(res, i, col))
				continue;
			if (!any)
				sb_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, t->gauges[g].help,
				    name, t->gauges[g].type);
			any = 1;
			sb_append(out, name, namelen);
			sb_append(out, "{", 1);
			sb_puts(out, labels[i]);
			sb_append(out, "} ", 2);
			sb_append(out, PQgetvalue(res, i, col), (size_t)PQgetlength(res, i, col));
			sb_append(out, "\n", 1);
			if (out->len >= PROM_CHUNK) {
				rc = write(arg, out->data, out->len);
				sb_reset(out);
			}
		}
	}
	for (int i = 0; i < n; i++)
		free(labels[i]);
	free(labels);
	return rc;
}

int
prom_estate_render(struct prom_estate *e, struct strbuf *out, prom_write_fn write, void *arg)
{
	for (size_t i = 0; i < ARRAY_LEN(tables); i++)
		if (render_table(&tables[i], e->res[i], out, write, arg) != 0)
			return -1;
	return 0;
}
