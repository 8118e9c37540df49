/* diagnostics.c: GET /api/diagnostics from the database's view of the installation. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "diagnostics.h"
#include "jsonwrite.h"
#include "util.h"

/* Every instance with its credentials' kind (never their values) and its last poll. */
static const struct db_stmt stmt_instances = {
	"diagnostics_instances",
	"SELECT i.id, i.name, i.host, i.type, "
	"  i.token_name <> '' AND i.token_value_enc IS NOT NULL, "
	"  i.username <> '' AND i.password_enc IS NOT NULL, "
	"  coalesce(p.connected, false), p.last_attempt IS NOT NULL, "
	"  coalesce(extract(epoch FROM p.last_success), 0), "
	"  (SELECT count(*) FROM pulse.pve_nodes n WHERE n.instance_id = i.id), "
	"  coalesce((SELECT b.version FROM pulse.pbs_instances b WHERE b.instance_id = i.id), '') "
	"FROM pulse.instances i LEFT JOIN pulse.poll_status p ON p.instance_id = i.id "
	"ORDER BY i.type, i.name, i.id",
	0,
};

static const struct db_stmt stmt_tokens = {
	"diagnostics_tokens",
	"SELECT id::text, name, extract(epoch FROM created_at), "
	"  coalesce(extract(epoch FROM last_used_at), 0) FROM pulse.api_tokens ORDER BY created_at",
	0,
};

static const struct db_stmt stmt_metrics = {
	"diagnostics_metrics",
	"SELECT (SELECT coalesce(sum(pg_total_relation_size(format('pulse.%I', name)::regclass)), 0) "
	"        FROM pulse.metric_partitions) + pg_total_relation_size('pulse.metric_series'), "
	"  (SELECT coalesce(sum(samples), 0) FROM pulse.metric_partitions WHERE tier = 'raw'), "
	"  (SELECT coalesce(sum(samples), 0) FROM pulse.metric_partitions WHERE tier = 'minute'), "
	"  (SELECT coalesce(sum(samples), 0) FROM pulse.metric_partitions WHERE tier = 'hour'), "
	"  (SELECT coalesce(sum(samples), 0) FROM pulse.metric_partitions WHERE tier = 'day'), "
	"  (SELECT coalesce(sum(w.buffered), 0) FROM pulse.metric_writers w "
	"     JOIN pulse.workers k ON k.id = w.worker_id WHERE k.stopped_at IS NULL)",
	0,
};

static int64_t
cell_int(PGresult *res, int row, int col)
{
	int64_t n = 0;

	(void)parse_int64(PQgetvalue(res, row, col), INT64_MIN, INT64_MAX, &n);
	return n;
}

static int
cell_bool(PGresult *res, int row, int col)
{
	return PQgetvalue(res, row, col)[0] == 't';
}

/* nodes (PVE and PMG) and pbs, as the original's NodeDiagnostic and PBSDiagnostic; the
 * connection is the worker's last poll, not a test made now. */
static int
add_instances(struct db *db, struct json_object *o)
{
	PGresult *res = db_exec_stmt(db, &stmt_instances, NULL);
	struct json_object *nodes, *pbs;

	if (res == NULL)
		return -1;
	nodes = json_object_new_array();
	pbs = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		const char *type = PQgetvalue(res, i, 3);
		int is_pbs = strcmp(type, "pbs") == 0, token = cell_bool(res, i, 4),
		    password = cell_bool(res, i, 5), connected = cell_bool(res, i, 6),
		    polled = cell_bool(res, i, 7);
		double last = db_value_double(res, i, 8);
		struct json_object *d = json_object_new_object(), *details;

		/* The id is the name, as the original's. */
		jsonwrite_str(d, "id", PQgetvalue(res, i, 1));
		jsonwrite_str(d, "name", PQgetvalue(res, i, 1));
		jsonwrite_str(d, "host", PQgetvalue(res, i, 2));
		if (!is_pbs) {
			jsonwrite_str(d, "type", type);
			jsonwrite_str(d, "authMethod", token ? "api_token" : password ?
			    "username_password" : "none");
		}
		jsonwrite_bool(d, "connected", connected);
		if (!is_pbs && !token && !password)
			jsonwrite_str(d, "error", "No authentication configured");
		else if (!connected && polled)
			jsonwrite_str(d, "error", is_pbs ? "Connection established but version check "
			    "failed" : "Failed to connect to Proxmox API");
		else if (!polled)
			jsonwrite_str(d, "error", "Not polled yet");
		details = json_object_new_object();
		if (is_pbs) {
			jsonwrite_opt_str(details, "version", PQgetvalue(res, i, 10));
		} else if (cell_int(res, i, 9) > 0) {
			jsonwrite_int(details, "node_count", cell_int(res, i, 9));
		}
		if (json_object_object_length(details) > 0)
			json_object_object_add(d, "details", details);
		else
			json_object_put(details);
		if (!is_pbs && last > 0)
			jsonwrite_time(d, "lastPoll", last);
		if (!is_pbs && strcmp(type, "pve") == 0 && cell_int(res, i, 9) > 0) {
			struct json_object *cluster = json_object_new_object();
			jsonwrite_int(cluster, "nodes", cell_int(res, i, 9));
			json_object_object_add(d, "clusterInfo", cluster);
		}
		json_object_array_add(is_pbs ? pbs : nodes, d);
	}
	PQclear(res);
	json_object_object_add(o, "nodes", nodes);
	json_object_object_add(o, "pbs", pbs);
	return 0;
}

/* The original's APITokenDiagnostic without the token hint: names and times only. */
static int
add_tokens(struct db *db, struct json_object *o)
{
	PGresult *res = db_exec_stmt(db, &stmt_tokens, NULL);
	struct json_object *t, *tokens, *notes;
	int n, unused = 0;

	if (res == NULL)
		return -1;
	n = PQntuples(res);
	t = json_object_new_object();
	tokens = json_object_new_array();
	notes = json_object_new_array();
	for (int i = 0; i < n; i++) {
		struct json_object *e = json_object_new_object();
		double used = db_value_double(res, i, 3);
		jsonwrite_str(e, "id", PQgetvalue(res, i, 0));
		jsonwrite_str(e, "name", PQgetvalue(res, i, 1));
		jsonwrite_time(e, "createdAt", db_value_double(res, i, 2));
		if (used > 0)
			jsonwrite_time(e, "lastUsedAt", used);
		else
			unused++;
		jsonwrite_str(e, "source", "user");
		json_object_array_add(tokens, e);
	}
	PQclear(res);
	if (n == 0)
		json_object_array_add(notes, json_object_new_string(
		    "No API tokens are configured. Create one for agents and automation."));
	jsonwrite_bool(t, "enabled", n > 0);
	jsonwrite_int(t, "tokenCount", n);
	jsonwrite_bool(t, "recommendTokenSetup", n == 0);
	if (unused > 0)
		jsonwrite_int(t, "unusedTokenCount", unused);
	json_object_object_add(t, "notes", notes);
	json_object_object_add(t, "tokens", tokens);
	json_object_object_add(t, "usage", json_object_new_array());
	json_object_object_add(o, "apiTokens", t);
	return 0;
}

/* The original's MetricsStoreDiagnostic from the metrics tiers. */
static int
add_metrics(struct db *db, struct json_object *o)
{
	PGresult *res = db_exec_stmt(db, &stmt_metrics, NULL);
	struct json_object *m, *notes;
	int64_t raw, minute, hour, day, total, buffered;
	const char *status = "healthy";

	if (res == NULL)
		return -1;
	m = json_object_new_object();
	notes = json_object_new_array();
	raw = cell_int(res, 0, 1);
	minute = cell_int(res, 0, 2);
	hour = cell_int(res, 0, 3);
	day = cell_int(res, 0, 4);
	buffered = cell_int(res, 0, 5);
	total = raw + minute + hour + day;
	if (total == 0 && buffered > 0) {
		status = "buffering";
		json_object_array_add(notes, json_object_new_string(
		    "Metrics are buffered but not yet flushed"));
	} else if (total == 0) {
		status = "empty";
		json_object_array_add(notes, json_object_new_string(
		    "No historical metrics written yet"));
	}
	jsonwrite_bool(m, "enabled", 1);
	jsonwrite_str(m, "status", status);
	jsonwrite_opt_int(m, "dbSize", cell_int(res, 0, 0));
	jsonwrite_opt_int(m, "rawCount", raw);
	jsonwrite_opt_int(m, "minuteCount", minute);
	jsonwrite_opt_int(m, "hourlyCount", hour);
	jsonwrite_opt_int(m, "dailyCount", day);
	jsonwrite_opt_int(m, "totalPoints", total);
	jsonwrite_opt_int(m, "bufferSize", buffered);
	json_object_object_add(m, "notes", notes);
	PQclear(res);
	json_object_object_add(o, "metricsStore", m);
	return 0;
}

/* The architecture as Go names it (GOARCH), from the kernel's machine name. */
static const char *
go_arch(const char *machine)
{
	static const char *const map[][2] = {
		{"x86_64", "amd64"}, {"aarch64", "arm64"}, {"armv7l", "arm"}, {"armv6l", "arm"},
		{"i686", "386"}, {"i386", "386"},
	};

	for (size_t i = 0; i < ARRAY_LEN(map); i++)
		if (strcmp(machine, map[i][0]) == 0)
			return map[i][1];
	return machine;
}

/* This process's resident memory in MiB (the original: the Go heap in use). */
static int64_t
resident_mb(void)
{
	FILE *fp = fopen("/proc/self/statm", "re");
	unsigned long size = 0, resident = 0;

	if (fp == NULL)
		return 0;
	if (fscanf(fp, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(fp);
	return (int64_t)((double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0));
}

static void
add_system(struct json_object *o, const struct diagnostics_process *p)
{
	struct json_object *s = json_object_new_object();
	struct utsname u;

	if (uname(&u) != 0) {
		snprintf(u.sysname, sizeof(u.sysname), "linux");
		snprintf(u.machine, sizeof(u.machine), "unknown");
	}
	for (char *c = u.sysname; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
	jsonwrite_str(s, "os", u.sysname);
	jsonwrite_str(s, "arch", go_arch(u.machine));
	jsonwrite_str(s, "goVersion", "C (" __VERSION__ ")");
	jsonwrite_int(s, "numCPU", sysconf(_SC_NPROCESSORS_ONLN));
	jsonwrite_int(s, "numGoroutine", p->threads);
	jsonwrite_int(s, "memoryMB", resident_mb());
	json_object_object_add(o, "system", s);
}

struct json_object *
diagnostics_json(struct db *db, const struct diagnostics_process *p)
{
	struct json_object *o = json_object_new_object(), *alerts;
	static const char *const empty[] = {"errors", "nodeSnapshots", "guestSnapshots",
		"memorySources", "memorySourceBreakdown"};

	jsonwrite_str(o, "version", PACKAGE_VERSION);
	jsonwrite_str(o, "runtime", "c");
	jsonwrite_num(o, "uptime", p->uptime);
	if (add_instances(db, o) != 0) {
		json_object_put(o);
		return NULL;
	}
	add_system(o, p);
	if (add_metrics(db, o) != 0 || add_tokens(db, o) != 0) {
		json_object_put(o);
		return NULL;
	}
	/* The alert configuration has no older form to migrate here. */
	alerts = json_object_new_object();
	jsonwrite_bool(alerts, "missingCooldown", 0);
	jsonwrite_bool(alerts, "missingGroupingWindow", 0);
	json_object_object_add(alerts, "notes", json_object_new_array());
	json_object_object_add(o, "alerts", alerts);
	for (size_t i = 0; i < ARRAY_LEN(empty); i++)
		json_object_object_add(o, empty[i], json_object_new_array());
	return o;
}
