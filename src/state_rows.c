/* state_rows.c: the plumbing of a state write (see state_rows.h). */
#include "config.h"

#include "state_rows.h"
#include "state.h"
#include "jsonutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* --- COPY ------------------------------------------------------------------------------ */

const char *
sr_num(char *buf, size_t len, double v)
{
	jsonutil_format_double(isfinite(v) ? v : 0, buf, len);
	return buf;
}

const char *
sr_i64(char *buf, size_t len, int64_t v)
{
	snprintf(buf, len, "%lld", (long long)v);
	return buf;
}

void
sr_doc(struct strbuf *row, struct json_object *o, int last)
{
	db_copy_field(row, jsonutil_to_string(o, NULL), last);
	json_object_put(o);
}

/* Sends buffered rows once they are large enough, or all of them when flush is set. */
static int
flush_rows(struct db *db, struct strbuf *rows, int flush)
{
	if (rows->len == 0 || (!flush && rows->len < 256 * 1024))
		return 0;
	if (db_copy_put(db, rows->data, rows->len) != 0)
		return -1;
	sb_reset(rows);
	return 0;
}

int
st_copy_list(struct db *db, const char *sql, const char *instance_id, const void *items, int n,
    size_t size, void (*row)(struct strbuf *, const char *, const void *))
{
	struct strbuf rows = {0};
	int rc = 0;

	if (n == 0)
		return 0;
	if (db_copy_begin(db, sql) != 0)
		return -1;
	for (int i = 0; i < n && rc == 0; i++) {
		row(&rows, instance_id, (const char *)items + (size_t)i * size);
		rc = flush_rows(db, &rows, 0);
	}
	if (rc == 0)
		rc = flush_rows(db, &rows, 1);
	sb_free(&rows);
	if (db_copy_end(db) != 0)
		rc = -1;
	return rc;
}

/* --- the transaction -------------------------------------------------------------------- */

int
st_begin(struct db *db, const char *instance_id, int mock)
{
	const char *params[1] = {instance_id};
	PGresult *res;
	int gone;

	if (db_begin(db) != 0)
		return -1;
	if (mock)
		return 0;
	/* A poll that ends just as its instance is deleted must not bring its rows back: the
	 * share lock waits for a delete in progress, and then finds no row. */
	res = db_exec_params(db, "SELECT 1 FROM pulse.instances WHERE id = $1 FOR SHARE", 1, params);
	if (res == NULL)
		return -1;
	gone = PQntuples(res) == 0;
	PQclear(res);
	if (gone) {
		db_rollback(db);
		return 1;
	}
	return 0;
}

int
st_bump_version(struct db *db)
{
	PGresult *res = db_exec_params(db, "UPDATE pulse.state_version SET version = version + 1, "
	    "updated_at = now() WHERE id = 1 RETURNING version", 0, NULL);

	if (res == NULL)
		return -1;
	PQclear(res);
	return db_exec(db, "NOTIFY pulse_state");
}

int
st_commit(struct db *db, int changed)
{
	if ((changed && st_bump_version(db) != 0) || db_commit(db) != 0) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

/* --- row sets --------------------------------------------------------------------------- */

/* The tables of each set; order within a set is the order of deletion. */
static const char *const rowset_tables[ST_NROWSETS][8] = {
	[ST_ROWS_PVE] = {"physical_disks", "ceph_clusters", "replication_jobs", "pve_nodes", "guests",
	    "storage", "connection_health"},
	[ST_ROWS_PVE_BACKUPS] = {"backup_tasks", "storage_backups", "guest_snapshots"},
	[ST_ROWS_PBS] = {"pbs_instances", "pbs_datastores"},
	[ST_ROWS_PBS_BACKUPS] = {"pbs_backups"},
	[ST_ROWS_PMG] = {"pmg_instances", "pmg_nodes"},
	[ST_ROWS_PMG_BACKUPS] = {"pmg_backups"},
};

int
st_delete_rows(struct db *db, enum st_rowset set, const char *instance_id)
{
	const char *params[1] = {instance_id};

	for (size_t i = 0; i < ARRAY_LEN(rowset_tables[set]) && rowset_tables[set][i]; i++) {
		char sql[128];
		PGresult *res;

		snprintf(sql, sizeof(sql), "DELETE FROM pulse.%s WHERE instance_id = $1",
		    rowset_tables[set][i]);
		res = db_exec_params(db, sql, 1, params);
		if (res == NULL)
			return -1;
		PQclear(res);
	}
	return 0;
}

int
st_clear(struct db *db, const char *instance_id, char *err, size_t errlen)
{
	int rc = db_begin(db);

	for (int set = 0; set < ST_NROWSETS && rc == 0; set++)
		rc = st_delete_rows(db, (enum st_rowset)set, instance_id);
	if (rc != 0 || st_bump_version(db) != 0 || db_commit(db) != 0) {
		snprintf(err, errlen, "%s", db_error(db));
		db_rollback(db);
		return -1;
	}
	return 0;
}
