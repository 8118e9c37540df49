/* responder.c: per-thread readiness (database reachable, schema version matching). */
#include "config.h"

#include "responder.h"
#include "live_settings.h"
#include "util.h"

struct responder_process responder_process;

void
responder_forget_schema(struct db *db, void *arg)
{
	struct responder *t = arg;

	(void)db;
	t->schema_checked = 0;
	t->next_schema_check = 0;
	t->auth_stale = 1;
	live_settings_mark_stale();	/* a notification may have been missed */
}

enum readiness
responder_ready(struct responder *t)
{
	double now;
	int v;

	if (db_ensure(t->db, 0) != 0)
		return READY_DB_DOWN;
	if (t->schema_checked)
		return READY_OK;
	now = clock_monotonic();
	if (now < t->next_schema_check)
		return READY_SCHEMA_MISMATCH;
	v = db_schema_version(t->db);
	if (v < 0)
		return db_get_state(t->db) == DB_STATE_OK ? READY_SCHEMA_MISMATCH : READY_DB_DOWN;
	t->schema_seen = v;
	if (v == responder_process.expected_schema) {
		t->schema_checked = 1;
		return READY_OK;
	}
	t->next_schema_check = now + 1.0;
	return READY_SCHEMA_MISMATCH;
}
