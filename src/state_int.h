/* state_int.h: helpers the state modules (state.c, state_servers.c) share: COPY rows and the
 * write plumbing. Not for other callers. */
#ifndef PULSE_STATE_INT_H
#define PULSE_STATE_INT_H

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
 * 1 when the instance is gone (no transaction left open: write nothing), -1 on an error. */
int st_begin(struct db *db, const char *instance_id);

/* Moves the state version and notifies readers (inside the write's transaction). */
int st_bump_version(struct db *db);

/* Runs each "DELETE ... WHERE instance_id = $1" statement for instance_id. */
int st_delete_rows(struct db *db, const char *const *sql, size_t n, const char *instance_id);

struct st_instance;
/* Replaces an instance's nodes, guests, storage and connection health rows (no
 * transaction of its own). */
int st_write_rows(struct db *db, const struct st_instance *s);

/* Deletes the PBS and PMG rows of an instance (state_servers.c). */
int st_clear_servers(struct db *db, const char *instance_id);

#endif
