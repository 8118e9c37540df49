/* api_state.c: GET /api/state (state-proxmox.md §1). The body is assembled once per change
 * of state from the JSON documents the workers store with each entity, kept in memory for
 * every thread of this process, and served with an ETag (If-None-Match gives 304). */
#include "config.h"

#include "conf.h"
#include "handlers.h"
#include "log.h"
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

/* The arrays of /api/state, in order: key, query (one json column), with the mock filter as
 * $1 ('t' for the mock estate). */
static const struct db_stmt stmt_nodes = {
	"state_nodes",
	"SELECT doc FROM pulse.pve_nodes WHERE mock = $1::boolean "
	"ORDER BY node, id", 1,
};
static const struct db_stmt stmt_vms = {
	"state_vms",
	"SELECT doc FROM pulse.guests WHERE type = 'qemu' AND mock = $1::boolean "
	"ORDER BY vmid, id", 1,
};
static const struct db_stmt stmt_containers = {
	"state_containers",
	"SELECT doc FROM pulse.guests WHERE type <> 'qemu' AND mock = $1::boolean "
	"ORDER BY vmid, id", 1,
};
static const struct db_stmt stmt_storage = {
	"state_storage",
	"SELECT doc FROM pulse.storage WHERE mock = $1::boolean "
	"ORDER BY sort_instance, name, id", 1,
};
static const struct db_stmt stmt_health = {
	"state_health",
	"SELECT json_object_agg(key, healthy ORDER BY key)::text FROM pulse.connection_health "
	"WHERE mock = $1::boolean", 1,
};

static const struct db_stmt stmt_tasks = {
	"state_backup_tasks",
	"SELECT doc FROM pulse.backup_tasks WHERE mock = $1::boolean "
	"ORDER BY start_time DESC NULLS LAST, id", 1,
};
static const struct db_stmt stmt_storage_backups = {
	"state_storage_backups",
	"SELECT doc FROM pulse.storage_backups WHERE mock = $1::boolean "
	"ORDER BY ctime DESC, id", 1,
};
static const struct db_stmt stmt_snapshots = {
	"state_snapshots",
	"SELECT doc FROM pulse.guest_snapshots WHERE mock = $1::boolean "
	"ORDER BY snaptime DESC, id", 1,
};

static const struct db_stmt stmt_ceph = {
	"state_ceph",
	"SELECT doc FROM pulse.ceph_clusters WHERE mock = $1::boolean "
	"ORDER BY id", 1,
};
static const struct db_stmt stmt_disks = {
	"state_disks",
	"SELECT doc FROM pulse.physical_disks WHERE mock = $1::boolean "
	"ORDER BY node, dev_path, id", 1,
};
static const struct db_stmt stmt_replication = {
	"state_replication",
	"SELECT doc FROM pulse.replication_jobs WHERE mock = $1::boolean "
	"ORDER BY instance_id, sort_key, id", 1,
};
static const struct db_stmt stmt_pbs = {
	"state_pbs",
	"SELECT doc FROM pulse.pbs_instances WHERE mock = $1::boolean "
	"ORDER BY name, instance_id", 1,
};
static const struct db_stmt stmt_pmg = {
	"state_pmg",
	"SELECT doc FROM pulse.pmg_instances WHERE mock = $1::boolean "
	"ORDER BY name, instance_id", 1,
};
static const struct db_stmt stmt_pbs_backups = {
	"state_pbs_backups",
	"SELECT doc FROM pulse.pbs_backups WHERE mock = $1::boolean "
	"ORDER BY backup_time DESC, id", 1,
};
static const struct db_stmt stmt_pmg_backups = {
	"state_pmg_backups",
	"SELECT doc FROM pulse.pmg_backups WHERE mock = $1::boolean "
	"ORDER BY backup_time DESC, id", 1,
};

/* Appends [doc, doc, ...] from a one-column query. */
static int
append_docs(struct request *r, struct strbuf *sb, const struct db_stmt *stmt,
    const char *const *params)
{
	PGresult *res = db_exec_stmt(r->db, stmt, params);

	if (res == NULL)
		return -1;
	sb_append(sb, "[", 1);
	for (int i = 0; i < PQntuples(res); i++) {
		if (i)
			sb_append(sb, ",", 1);
		sb_append(sb, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0));
	}
	sb_append(sb, "]", 1);
	PQclear(res);
	return 0;
}

static int
append_array(struct request *r, struct strbuf *sb, const char *key, const struct db_stmt *stmt,
    const char *const *params)
{
	sb_printf(sb, "\"%s\":", key);
	if (append_docs(r, sb, stmt, params) != 0)
		return -1;
	sb_append(sb, ",", 1);
	return 0;
}

/* {"backupTasks":[...],"storageBackups":[...],"guestSnapshots":[...]} */
static int
append_pve_backups(struct request *r, struct strbuf *sb, const char *const *params)
{
	sb_puts(sb, "{");
	if (append_array(r, sb, "backupTasks", &stmt_tasks, params) != 0 ||
	    append_array(r, sb, "storageBackups", &stmt_storage_backups, params) != 0)
		return -1;
	sb_puts(sb, "\"guestSnapshots\":");
	if (append_docs(r, sb, &stmt_snapshots, params) != 0)
		return -1;
	sb_puts(sb, "}");
	return 0;
}

/* Builds the body for one version; NULL on a database error. */
static struct state_body *
build(struct request *r, int64_t version, int mock, int64_t updated_ms)
{
	const char *params[1] = {mock ? "t" : "f"};
	struct strbuf sb = {0};
	struct state_body *b;
	PGresult *res;

	sb_reserve(&sb, 64 * 1024);
	sb_append(&sb, "{", 1);
	if (append_array(r, &sb, "nodes", &stmt_nodes, params) != 0 ||
	    append_array(r, &sb, "vms", &stmt_vms, params) != 0 ||
	    append_array(r, &sb, "containers", &stmt_containers, params) != 0)
		goto err;
	/* Agent-reported hosts arrive with the agent endpoints; until then these are empty. */
	sb_puts(&sb, "\"dockerHosts\":[],\"removedDockerHosts\":[],\"kubernetesClusters\":[],"
	    "\"removedKubernetesClusters\":[],\"hosts\":[],");
	if (append_array(r, &sb, "storage", &stmt_storage, params) != 0)
		goto err;
	{
		/* The backup lists appear twice: in backups{pve,pbs,pmg} and on their own. */
		struct strbuf pve = {0}, pbs = {0}, pmg = {0};
		int ok = append_pve_backups(r, &pve, params) == 0 &&
		    append_docs(r, &pbs, &stmt_pbs_backups, params) == 0 &&
		    append_docs(r, &pmg, &stmt_pmg_backups, params) == 0;

		ok = ok && append_array(r, &sb, "cephClusters", &stmt_ceph, params) == 0 &&
		    append_array(r, &sb, "physicalDisks", &stmt_disks, params) == 0 &&
		    append_array(r, &sb, "pbs", &stmt_pbs, params) == 0 &&
		    append_array(r, &sb, "pmg", &stmt_pmg, params) == 0;
		if (ok) {
			sb_puts(&sb, "\"pbsBackups\":");
			sb_append(&sb, pbs.data, pbs.len);
			sb_puts(&sb, ",\"pmgBackups\":");
			sb_append(&sb, pmg.data, pmg.len);
			sb_puts(&sb, ",\"backups\":{\"pve\":");
			sb_append(&sb, pve.data, pve.len);
			sb_puts(&sb, ",\"pbs\":");
			sb_append(&sb, pbs.data, pbs.len);
			sb_puts(&sb, ",\"pmg\":");
			sb_append(&sb, pmg.data, pmg.len);
			sb_puts(&sb, "},");
			ok = append_array(r, &sb, "replicationJobs", &stmt_replication, params) == 0;
			sb_puts(&sb, "\"activeAlerts\":[],\"metrics\":{},\"pveBackups\":");
			sb_append(&sb, pve.data, pve.len);
			sb_puts(&sb, ",\"performance\":{},");
		}
		sb_free(&pve);
		sb_free(&pbs);
		sb_free(&pmg);
		if (!ok)
			goto err;
	}
	res = db_exec_stmt(r->db, &stmt_health, params);
	if (res == NULL)
		goto err;
	sb_puts(&sb, "\"connectionHealth\":");
	if (PQgetisnull(res, 0, 0))
		sb_puts(&sb, "{}");
	else
		sb_append(&sb, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
	sb_printf(&sb, ",\"stats\":{},\"lastUpdate\":%lld,\"temperatureMonitoringEnabled\":%s}",
	    (long long)(updated_ms / 1000 * 1000),
	    conf_bool("temperature_monitoring_enabled") ? "true" : "false");
	b = xcalloc(1, sizeof(*b));
	b->version = version;
	b->mock = mock;
	snprintf(b->etag, sizeof(b->etag), "\"state-%lld-%d\"", (long long)version, mock);
	b->data = sb.data;
	b->len = sb.len;
	return b;
err:
	sb_free(&sb);
	return NULL;
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
	PGresult *res = db_exec_stmt(r->db, &stmt_version, NULL);
	struct state_body *b = NULL, *fresh;
	int64_t version, updated;
	int mock;
	const char *inm;

	if (res == NULL || PQntuples(res) != 1) {
		PQclear(res);
		resp_db_unavailable(r);
		return;
	}
	version = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	mock = PQgetvalue(res, 0, 1)[0] == 't';
	updated = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	PQclear(res);

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
	PGresult *res = db_exec_params(r->db, "SELECT enabled FROM pulse.mock_mode WHERE id = 1", 0, NULL);

	if (res == NULL)
		return -1;
	*param = PQgetvalue(res, 0, 0)[0] == 't' ? "t" : "f";
	PQclear(res);
	return 0;
}

static void
answer_built(struct request *r, struct strbuf *sb, int ok)
{
	if (!ok) {
		sb_free(sb);
		resp_db_unavailable(r);
		return;
	}
	resp_raw(r, 200, "application/json", sb->data, sb->len);
	sb_free(sb);
}

void
api_backups(struct request *r)
{
	const char *params[1];
	struct strbuf sb = {0}, pve = {0};
	int ok = mock_param(r, params) == 0 && append_pve_backups(r, &pve, params) == 0;

	struct strbuf pbs = {0}, pmg = {0};

	ok = ok && append_docs(r, &pbs, &stmt_pbs_backups, params) == 0 &&
	    append_docs(r, &pmg, &stmt_pmg_backups, params) == 0;
	if (ok) {
		sb_puts(&sb, "{\"backups\":{\"pve\":");
		sb_append(&sb, pve.data, pve.len);
		sb_puts(&sb, ",\"pbs\":");
		sb_append(&sb, pbs.data, pbs.len);
		sb_puts(&sb, ",\"pmg\":");
		sb_append(&sb, pmg.data, pmg.len);
		sb_puts(&sb, "},\"pveBackups\":");
		sb_append(&sb, pve.data, pve.len);
		sb_puts(&sb, ",\"pbsBackups\":");
		sb_append(&sb, pbs.data, pbs.len);
		sb_puts(&sb, ",\"pmgBackups\":");
		sb_append(&sb, pmg.data, pmg.len);
		sb_puts(&sb, ",\"backupTasks\":");
		ok = append_docs(r, &sb, &stmt_tasks, params) == 0;
		sb_puts(&sb, ",\"storageBackups\":");
		ok = ok && append_docs(r, &sb, &stmt_storage_backups, params) == 0;
		sb_puts(&sb, ",\"guestSnapshots\":");
		ok = ok && append_docs(r, &sb, &stmt_snapshots, params) == 0;
		sb_puts(&sb, "}");
	}
	sb_free(&pve);
	sb_free(&pbs);
	sb_free(&pmg);
	answer_built(r, &sb, ok);
}

void
api_backups_pve(struct request *r)
{
	const char *params[1];
	struct strbuf sb = {0};
	int ok = mock_param(r, params) == 0;

	sb_puts(&sb, "{\"backups\":");
	ok = ok && append_docs(r, &sb, &stmt_storage_backups, params) == 0;
	sb_puts(&sb, "}");
	answer_built(r, &sb, ok);
}

/* PBS instances, not backups: the original answers this path so (§12.3). */
void
api_backups_pbs(struct request *r)
{
	const char *params[1];
	struct strbuf sb = {0};
	int ok = mock_param(r, params) == 0;

	sb_puts(&sb, "{\"instances\":");
	ok = ok && append_docs(r, &sb, &stmt_pbs, params) == 0;
	sb_puts(&sb, "}");
	answer_built(r, &sb, ok);
}

void
api_snapshots(struct request *r)
{
	const char *params[1];
	struct strbuf sb = {0};
	int ok = mock_param(r, params) == 0;

	sb_puts(&sb, "{\"snapshots\":");
	ok = ok && append_docs(r, &sb, &stmt_snapshots, params) == 0;
	sb_puts(&sb, "}");
	answer_built(r, &sb, ok);
}
