/* state_rows.h: the plumbing of a state write, shared by state.c (PVE) and state_servers.c
 * (PBS, PMG): the write transaction, COPY rows, the row sets an instance owns, and the state
 * version. It knows no kind of state, so neither module depends on the other through it. */
#ifndef PULSE_STATE_ROWS_H
#define PULSE_STATE_ROWS_H

#include <json-c/json.h>
#include <stdint.h>

#include "db.h"
#include "util.h"

/* COPY text fields: a number, an integer, and the JSON document (put after use) as the row's
 * field, last ending the row. A timestamp is timefmt_pg's. */
const char *sr_num(char *buf, size_t len, double v);
const char *sr_i64(char *buf, size_t len, int64_t v);
void sr_doc(struct strbuf *row, struct json_object *o, int last);

/* COPYs n items of size bytes through row() with the given COPY statement. */
int st_copy_list(struct db *db, const char *sql, const char *instance_id, const void *items,
    int n, size_t size, void (*row)(struct strbuf *, const char *, const void *));

/* Begins a state write for instance_id: 0 (in a transaction, the instance row share-locked),
 * 1 when the instance is gone (no transaction left open: write nothing), -1 on an error. The
 * mock estate (mock set) has no configuration row to lock. */
int st_begin(struct db *db, const char *instance_id, int mock);

/* Moves the state version and notifies readers (inside the write's transaction). */
int st_bump_version(struct db *db);

/* Ends a write's transaction: the version moved first when changed, then committed. On a
 * failure the transaction is rolled back and -1 returned. */
int st_commit(struct db *db, int changed);

/* The rows of an instance, by the write that replaces them. Every state table is in exactly
 * one set; st_clear (state.h) deletes them all. */
enum st_rowset {
	ST_ROWS_PVE,		/* nodes, guests, storage, health, disks, Ceph, replication */
	ST_ROWS_PVE_BACKUPS,	/* backup tasks, storage backups, snapshots */
	ST_ROWS_PBS,
	ST_ROWS_PBS_BACKUPS,
	ST_ROWS_PMG,
	ST_ROWS_PMG_BACKUPS,
	ST_NROWSETS
};

/* Deletes one row set of instance_id (inside the write's transaction). */
int st_delete_rows(struct db *db, enum st_rowset set, const char *instance_id);

#endif
