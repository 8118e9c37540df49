/* api_state.c: GET /api/state (state-proxmox.md §1). The body is assembled once per change
 * of state from the JSON documents the workers store with each entity, kept in memory for
 * every thread of this process, and served with an ETag (If-None-Match gives 304). */
#include "config.h"

#include "live_settings.h"
#include "conf.h"
#include "handlers.h"
#include "log.h"
#include "mockmode.h"
#include "responder.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct state_body {
	int64_t version;
	int mock;
	char etag[48];
	char *data;
	size_t len;
	int refs;
};

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static struct state_body *current;	/* under state_lock */

static void
body_release(struct state_body *b)
{
	int last;

	pthread_mutex_lock(&state_lock);
	last = --b->refs == 0;
	pthread_mutex_unlock(&state_lock);
	if (last) {
		free(b->data);
		free(b);
	}
}

static const struct db_stmt stmt_version = {
	"state_version",
	"SELECT v.version, m.enabled, (extract(epoch FROM v.updated_at) * 1000)::bigint "
	"FROM pulse.state_version v, pulse.mock_mode m WHERE v.id = 1 AND m.id = 1",
	0,
};

/* The lists the answers are made of: one query each, with the mock filter as $1 ('t' for
 * the mock estate). Each gives one json column: a row per entity (written as an array), or
 * for an object list one object (NULL written as {}). */
enum state_list {
	L_NONE = -1,
	L_NODES, L_VMS, L_CONTAINERS, L_STORAGE, L_HEALTH, L_TASKS, L_STORAGE_BACKUPS,
	L_SNAPSHOTS, L_CEPH, L_DISKS, L_REPLICATION, L_PBS, L_PMG, L_PBS_BACKUPS, L_PMG_BACKUPS,
	L_ALERTS, L_RESOLVED, L_HOSTS, L_DOCKER, L_DOCKER_REMOVED, L_KUBE, L_KUBE_REMOVED,
	L_NLISTS,
	L_PVE_BACKUPS = L_NLISTS,	/* not a query: pve_backups_layout */
};

#define DOCS(table, where, order) \
	"SELECT doc FROM pulse." table " WHERE " where "mock = $1::boolean ORDER BY " order

static const struct db_stmt state_lists[L_NLISTS] = {
	/* Nodes with the host agent linked to them (agents.md §6.6): its id, and while it
	 * reports its temperatures, unless the node's instance turned temperatures off. */
	[L_NODES] = {"state_nodes", "SELECT CASE WHEN h.id IS NULL THEN n.doc::text ELSE "
	    "(n.doc::jsonb || jsonb_build_object('linkedHostAgentId', h.id) || CASE WHEN "
	    "h.node_temperature IS NOT NULL AND h.status = 'online' AND "
	    "i.temperature_monitoring_enabled IS NOT FALSE THEN jsonb_build_object('temperature', "
	    "h.node_temperature) ELSE '{}' END)::text END FROM pulse.pve_nodes n "
	    "LEFT JOIN LATERAL (SELECT id, status, node_temperature FROM pulse.agent_hosts WHERE "
	    "NOT mock AND doc->>'linkedNodeId' IS NOT NULL AND doc->>'linkedNodeId' = n.id "
	    "ORDER BY received_at DESC, id LIMIT 1) h ON NOT n.mock "
	    "LEFT JOIN pulse.instances i ON i.id = n.instance_id "
	    "WHERE n.mock = $1::boolean ORDER BY n.node, n.id", 1},
	[L_VMS] = {"state_vms", DOCS("guests", "type = 'qemu' AND ", "vmid, id"), 1},
	[L_CONTAINERS] = {"state_containers", DOCS("guests", "type <> 'qemu' AND ", "vmid, id"), 1},
	[L_STORAGE] = {"state_storage", DOCS("storage", "", "sort_instance, name, id"), 1},
	/* The agents count as connections too ("host-<id>", "docker-<id>", "kubernetes-<id>",
	 * agents.md §3.2, §5.2, §12): healthy while online. */
	[L_HEALTH] = {"state_health", "SELECT json_object_agg(key, healthy ORDER BY key)::text "
	    "FROM (SELECT key, healthy FROM pulse.connection_health WHERE mock = $1::boolean "
	    "UNION ALL SELECT 'host-' || id, status = 'online' FROM pulse.agent_hosts "
	    "WHERE mock = $1::boolean "
	    "UNION ALL SELECT 'docker-' || id, status = 'online' FROM pulse.docker_hosts "
	    "WHERE mock = $1::boolean "
	    "UNION ALL SELECT 'kubernetes-' || id, status = 'online' FROM pulse.agent_kube_clusters "
	    "WHERE mock = $1::boolean) h", 1},
	[L_TASKS] = {"state_backup_tasks",
	    DOCS("backup_tasks", "", "start_time DESC NULLS LAST, id"), 1},
	[L_STORAGE_BACKUPS] = {"state_storage_backups",
	    DOCS("storage_backups", "", "ctime DESC, id"), 1},
	[L_SNAPSHOTS] = {"state_snapshots", DOCS("guest_snapshots", "", "snaptime DESC, id"), 1},
	[L_CEPH] = {"state_ceph", DOCS("ceph_clusters", "", "id"), 1},
	/* A disk without a temperature takes it from the SMART readings of the host agent
	 * linked to its node (agents.md §6.6), matched by device path or serial. */
	[L_DISKS] = {"state_disks", "SELECT CASE WHEN t.temp IS NULL THEN d.doc::text ELSE "
	    "jsonb_set(d.doc::jsonb, '{temperature}', to_jsonb(t.temp))::text END "
	    "FROM pulse.physical_disks d LEFT JOIN LATERAL (SELECT (s->>'temperature')::int AS temp "
	    "FROM pulse.pve_nodes n JOIN pulse.agent_hosts h ON NOT h.mock AND "
	    "h.status = 'online' AND h.doc->>'linkedNodeId' IS NOT NULL AND "
	    "h.doc->>'linkedNodeId' = n.id, json_array_elements(h.node_temperature->'smart') s "
	    "WHERE n.instance_id = d.instance_id AND n.node = d.node AND NOT n.mock AND "
	    "(s->>'device' = d.dev_path OR (d.serial <> '' AND s->>'serial' = d.serial)) AND "
	    "(s->>'temperature')::int > 0 LIMIT 1) t ON NOT d.mock AND "
	    "coalesce((d.doc->>'temperature')::int, 0) = 0 "
	    "WHERE d.mock = $1::boolean ORDER BY d.node, d.dev_path, d.id", 1},
	[L_REPLICATION] = {"state_replication",
	    DOCS("replication_jobs", "", "instance_id, sort_key, id"), 1},
	[L_PBS] = {"state_pbs", DOCS("pbs_instances", "", "name, instance_id"), 1},
	[L_PMG] = {"state_pmg", DOCS("pmg_instances", "", "name, instance_id"), 1},
	[L_PBS_BACKUPS] = {"state_pbs_backups", DOCS("pbs_backups", "", "backup_time DESC, id"), 1},
	[L_PMG_BACKUPS] = {"state_pmg_backups", DOCS("pmg_backups", "", "backup_time DESC, id"), 1},
	/* Alerts (sql/0011_alerts.sql): the reduced shape; resolved ones for five minutes
	 * (the body is rebuilt when one leaves them: alert_store_retention). */
	[L_ALERTS] = {"state_alerts", "SELECT pulse.alert_state_doc(a) FROM pulse.alerts a "
	    "WHERE resolved_at IS NULL AND mock = $1::boolean ORDER BY start_time, id", 1},
	[L_RESOLVED] = {"state_resolved", "SELECT pulse.alert_state_doc(a) FROM pulse.alerts a "
	    "WHERE resolved_at > now() - interval '5 minutes' AND mock = $1::boolean "
	    "ORDER BY resolved_at DESC, id", 1},
	/* Host agents (sql/0016_agent_hosts.sql): the document with the status the worker
	 * keeps (offline after agents.md §12's window), sorted by hostname as the original. */
	[L_HOSTS] = {"state_hosts", "SELECT CASE WHEN status = 'online' THEN doc::text ELSE "
	    "jsonb_set(doc::jsonb, '{status}', to_jsonb(status))::text END FROM pulse.agent_hosts "
	    "WHERE mock = $1::boolean ORDER BY lower(hostname), id", 1},
	/* Docker hosts (sql/0019_agent_docker.sql) with their containers and command; hidden
	 * ones are left out (agents.md §4.7). */
	[L_DOCKER] = {"state_docker_hosts", "SELECT pulse.docker_host_doc(h)::text FROM "
	    "pulse.docker_hosts h WHERE NOT hidden AND mock = $1::boolean "
	    "ORDER BY lower(hostname), id", 1},
	[L_DOCKER_REMOVED] = {"state_docker_removed", "SELECT json_strip_nulls(json_build_object("
	    "'id', id, 'hostname', nullif(hostname, ''), 'displayName', nullif(display_name, ''), "
	    "'removedAt', (extract(epoch FROM removed_at) * 1000)::bigint))::text "
	    "FROM pulse.docker_removed_hosts WHERE removed_at > now() - interval '24 hours' AND "
	    "mock = $1::boolean ORDER BY removed_at DESC, id", 1},
	/* Kubernetes clusters (sql/0018_agent_kubernetes.sql): the document is made here, with
	 * the token's name and hint; removed clusters while their 24 h block lasts. */
	[L_KUBE] = {"state_kube", "SELECT pulse.agent_kube_cluster_doc(c, t.name, CASE WHEN "
	    "t.prefix <> '' OR t.suffix <> '' THEN t.prefix || '\u2026' || t.suffix END, "
	    "t.last_used_at)::text FROM pulse.agent_kube_clusters c LEFT JOIN pulse.api_tokens t "
	    "ON t.id::text = c.token_id WHERE c.mock = $1::boolean "
	    "ORDER BY lower(c.display_name), c.id", 1},
	[L_KUBE_REMOVED] = {"state_kube_removed", "SELECT json_strip_nulls(json_build_object("
	    "'id', id, 'name', nullif(name, ''), 'displayName', nullif(display_name, ''), "
	    "'removedAt', (extract(epoch FROM removed_at) * 1000)::bigint))::text "
	    "FROM pulse.agent_kube_removed WHERE mock = $1::boolean AND "
	    "removed_at > now() - interval '24 hours' ORDER BY removed_at DESC, id", 1},
};

/* An answer's layout: text, then a list (L_NONE: none), and so on to a NULL text. */
struct piece {
	const char *text;
	enum state_list list;
};

/* The PVE backups, {"backupTasks":[...],"storageBackups":[...],"guestSnapshots":[...]}: in
 * /api/state twice and in /api/backups twice. */
static const struct piece pve_backups_layout[] = {
	{"{\"backupTasks\":", L_TASKS},
	{",\"storageBackups\":", L_STORAGE_BACKUPS},
	{",\"guestSnapshots\":", L_SNAPSHOTS},
	{"}", L_NONE},
	{NULL, L_NONE},
};

/* /api/state up to connectionHealth; lastUpdate and the rest follow (build()). */
static const struct piece state_layout[] = {
	{"{\"nodes\":", L_NODES},
	{",\"vms\":", L_VMS},
	{",\"containers\":", L_CONTAINERS},
	{",\"dockerHosts\":", L_DOCKER},
	{",\"removedDockerHosts\":", L_DOCKER_REMOVED},
	{",\"kubernetesClusters\":", L_KUBE},
	{",\"removedKubernetesClusters\":", L_KUBE_REMOVED},
	{",\"hosts\":", L_HOSTS},
	{",\"storage\":", L_STORAGE},
	{",\"cephClusters\":", L_CEPH},
	{",\"physicalDisks\":", L_DISKS},
	{",\"pbs\":", L_PBS},
	{",\"pmg\":", L_PMG},
	{",\"pbsBackups\":", L_PBS_BACKUPS},
	{",\"pmgBackups\":", L_PMG_BACKUPS},
	{",\"backups\":{\"pve\":", L_PVE_BACKUPS},
	{",\"pbs\":", L_PBS_BACKUPS},
	{",\"pmg\":", L_PMG_BACKUPS},
	{"},\"replicationJobs\":", L_REPLICATION},
	{",\"activeAlerts\":", L_ALERTS},
	{",\"metrics\":{},\"pveBackups\":", L_PVE_BACKUPS},
	{",\"performance\":{},\"connectionHealth\":", L_HEALTH},
	{NULL, L_NONE},
};

/* After lastUpdate and temperatureMonitoringEnabled: the original writes recentlyResolved
 * last (the unified resources it has before it are not in our state). */
static const struct piece state_tail[] = {
	{",\"recentlyResolved\":", L_RESOLVED},
	{"}", L_NONE},
	{NULL, L_NONE},
};

/* The lists of a layout, fetched; an entry is NULL when the layout does not use it. */
struct fetched {
	PGresult *res[L_NLISTS];
};

static void
fetched_clear(struct fetched *f)
{
	for (int i = 0; i < L_NLISTS; i++) {
		PQclear(f->res[i]);
		f->res[i] = NULL;
	}
}

/* Runs the queries of the lists layout uses (each once); 0, or -1 with none left. */
static int
fetch(struct request *r, const struct piece *layout, const char *const *params,
    struct fetched *f)
{
	for (const struct piece *p = layout; p->text; p++) {
		if (p->list == L_PVE_BACKUPS) {
			if (fetch(r, pve_backups_layout, params, f) != 0)
				return -1;
			continue;
		}
		if (p->list == L_NONE || f->res[p->list] != NULL)
			continue;
		if ((f->res[p->list] = db_exec_stmt(r->db, &state_lists[p->list], params)) == NULL) {
			fetched_clear(f);
			return -1;
		}
	}
	return 0;
}

/* Appends a fetched list: [doc, doc, ...], or the object (health). */
static void
render_list(struct strbuf *sb, enum state_list list, const PGresult *res)
{
	if (list == L_HEALTH) {
		if (PQgetisnull(res, 0, 0))
			sb_puts(sb, "{}");
		else
			sb_append(sb, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
		return;
	}
	sb_append(sb, "[", 1);
	for (int i = 0; i < PQntuples(res); i++) {
		if (i)
			sb_append(sb, ",", 1);
		sb_append(sb, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0));
	}
	sb_append(sb, "]", 1);
}

static void
render(struct strbuf *sb, const struct piece *layout, const struct fetched *f)
{
	for (const struct piece *p = layout; p->text; p++) {
		sb_puts(sb, p->text);
		if (p->list == L_PVE_BACKUPS)
			render(sb, pve_backups_layout, f);
		else if (p->list != L_NONE)
			render_list(sb, p->list, f->res[p->list]);
	}
}

/* Builds the body for one version; NULL on a database error. */
static struct state_body *
build(struct request *r, int64_t version, int mock, int64_t updated_ms)
{
	const char *params[1] = {mock ? "t" : "f"};
	struct fetched f = {0};
	struct strbuf sb = {0};
	struct sysconfig settings;
	struct state_body *b;

	if (fetch(r, state_layout, params, &f) != 0 || fetch(r, state_tail, params, &f) != 0)
		return NULL;
	sb_reserve(&sb, 64 * 1024);
	render(&sb, state_layout, &f);
	/* The system setting as this responder holds it (the body is rebuilt with the next
	 * state change, at most a poll interval later). */
	live_settings_get(&settings);
	sb_printf(&sb, ",\"stats\":{},\"lastUpdate\":%lld,\"temperatureMonitoringEnabled\":%s",
	    (long long)(updated_ms / 1000 * 1000), settings.temperature_enabled ? "true" : "false");
	render(&sb, state_tail, &f);
	fetched_clear(&f);
	b = xcalloc(1, sizeof(*b));
	b->version = version;
	b->mock = mock;
	snprintf(b->etag, sizeof(b->etag), "\"state-%lld-%d\"", (long long)version, mock);
	b->data = sb.data;
	b->len = sb.len;
	return b;
}

/* Whether If-None-Match names etag (a list, weak or strong, or "*"). */
static int
etag_matches(const char *header, const char *etag)
{
	const char *p = header;
	size_t len = strlen(etag);

	while (p && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p == '*' || strncmp(p, etag, len) == 0)
			return 1;
		p = strchr(p, ',');
	}
	return 0;
}

void
api_state(struct request *r)
{
	PGresult *res;
	struct state_body *b = NULL, *fresh;
	int64_t version, updated;
	int mock;
	const char *inm;

	/* One snapshot for the version and every list: a poll committing between two of the
	 * queries would otherwise give a body that mixes two states (a PBS instance with its
	 * datastores but not yet their storage rows), cached under the older version. */
	if (db_exec(r->db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") != 0) {
		resp_db_unavailable(r);
		return;
	}
	res = req_result(r, db_exec_stmt(r->db, &stmt_version, NULL));
	if (res == NULL || PQntuples(res) != 1) {
		db_rollback(r->db);
		resp_db_unavailable(r);
		return;
	}
	version = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	mock = PQgetvalue(res, 0, 1)[0] == 't';
	updated = strtoll(PQgetvalue(res, 0, 2), NULL, 10);

	pthread_mutex_lock(&state_lock);
	if (current && current->version == version && current->mock == mock) {
		b = current;
		b->refs++;
	}
	pthread_mutex_unlock(&state_lock);
	if (b == NULL) {
		/* Several threads may build the same version at once; the bodies are equal and
		 * the last one is kept. Rare, and cheaper than making requests wait on a lock
		 * held across queries. */
		fresh = build(r, version, mock, updated);
		if (fresh == NULL) {
			db_rollback(r->db);
			resp_db_unavailable(r);
			return;
		}
		fresh->refs = 2;	/* the cache's and ours */
		pthread_mutex_lock(&state_lock);
		if (current && --current->refs == 0) {
			free(current->data);
			free(current);
		}
		current = fresh;
		pthread_mutex_unlock(&state_lock);
		b = fresh;
	}
	db_rollback(r->db);	/* read only: nothing to keep */
	resp_header(r, "ETag", b->etag);
	inm = req_header(r, "If-None-Match");
	if (inm && etag_matches(inm, b->etag))
		resp_raw(r, 304, NULL, NULL, 0);
	else
		resp_raw(r, 200, "application/json", b->data, b->len);
	body_release(b);
}

/* --- /api/backups, /api/snapshots (state-proxmox.md §9) -------------------------------- */

static int
mock_param(struct request *r, const char **param)
{
	int enabled;

	if (mockmode_read(r->db, &enabled, NULL) != 0)
		return -1;
	*param = enabled ? "t" : "f";
	return 0;
}

/* Answers a layout of lists of the estate the mock mode shows. */
static void
answer_layout(struct request *r, const struct piece *layout)
{
	const char *params[1];
	struct fetched f = {0};
	struct strbuf sb = {0};

	if (mock_param(r, params) != 0 || fetch(r, layout, params, &f) != 0) {
		resp_db_unavailable(r);
		return;
	}
	render(&sb, layout, &f);
	fetched_clear(&f);
	resp_raw(r, 200, "application/json", sb.data, sb.len);
	sb_free(&sb);
}

void
api_backups(struct request *r)
{
	static const struct piece layout[] = {
		{"{\"backups\":{\"pve\":", L_PVE_BACKUPS},
		{",\"pbs\":", L_PBS_BACKUPS},
		{",\"pmg\":", L_PMG_BACKUPS},
		{"},\"pveBackups\":", L_PVE_BACKUPS},
		{",\"pbsBackups\":", L_PBS_BACKUPS},
		{",\"pmgBackups\":", L_PMG_BACKUPS},
		{",\"backupTasks\":", L_TASKS},
		{",\"storageBackups\":", L_STORAGE_BACKUPS},
		{",\"guestSnapshots\":", L_SNAPSHOTS},
		{"}", L_NONE},
		{NULL, L_NONE},
	};

	answer_layout(r, layout);
}

void
api_backups_pve(struct request *r)
{
	static const struct piece layout[] = {
		{"{\"backups\":", L_STORAGE_BACKUPS}, {"}", L_NONE}, {NULL, L_NONE},
	};

	answer_layout(r, layout);
}

/* PBS instances, not backups: the original answers this path so (§12.3). */
void
api_backups_pbs(struct request *r)
{
	static const struct piece layout[] = {
		{"{\"instances\":", L_PBS}, {"}", L_NONE}, {NULL, L_NONE},
	};

	answer_layout(r, layout);
}

void
api_snapshots(struct request *r)
{
	static const struct piece layout[] = {
		{"{\"snapshots\":", L_SNAPSHOTS}, {"}", L_NONE}, {NULL, L_NONE},
	};

	answer_layout(r, layout);
}
