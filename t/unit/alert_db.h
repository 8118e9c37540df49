/* alert_db.h: for the alert unit tests, the database as alert_store would leave it after
 * each evaluation, in memory: db holds the active alerts, pending entries and "recent"
 * (resolved) records; db_apply applies a change list to it; last holds the latest changes.
 * Header-only like tap.h: include it once per test program. */
#ifndef PULSE_TEST_ALERT_DB_H
#define PULSE_TEST_ALERT_DB_H

#include <stdio.h>
#include <string.h>

#include "alert_engine.h"

static struct alert_prev db;
static struct alert_changes last;

static const struct alert *
active(const char *id)
{
	for (int i = 0; i < db.nalerts; i++)
		if (strcmp(db.alerts[i].id, id) == 0)
			return &db.alerts[i];
	return NULL;
}

static void
db_remove_alert(const char *id)
{
	for (int i = 0; i < db.nalerts; i++)
		if (strcmp(db.alerts[i].id, id) == 0) {
			json_object_put(db.alerts[i].metadata);
			db.alerts[i] = db.alerts[--db.nalerts];
			return;
		}
}

static void
db_remove_pending(const char *id)
{
	for (int i = 0; i < db.npending; i++)
		if (strcmp(db.pending[i].id, id) == 0) {
			db.pending[i] = db.pending[--db.npending];
			return;
		}
}

/* The id's resolved row as the store keeps it: the "recent" record of §3.2b. */
static void
db_remove_recent(const char *id)
{
	for (int i = 0; i < db.nrecent; i++)
		if (strcmp(db.recent[i].id, id) == 0) {
			db.recent[i] = db.recent[--db.nrecent];
			return;
		}
}

static void
db_apply(const struct alert_changes *ch)
{
	for (int i = 0; i < ch->n; i++) {
		const struct alert_change *c = &ch->v[i];
		switch (c->kind) {
		case ALERT_RAISED:
		case ALERT_UPDATED:
			db_remove_recent(c->alert.id);
			db_remove_alert(c->alert.id);
			*alert_prev_add(&db) = c->alert;
			db.alerts[db.nalerts - 1].metadata = json_object_get(c->alert.metadata);
			break;
		case ALERT_RESOLVED: {
			struct alert_recent *rc;
			const struct alert *a = active(c->alert.id);
			db_remove_recent(c->alert.id);
			rc = alert_prev_add_recent(&db);
			snprintf(rc->id, sizeof(rc->id), "%s", c->alert.id);
			rc->start_time = a ? a->start_time : c->alert.start_time;
			rc->value = a ? a->value : c->alert.value;
			db_remove_alert(c->alert.id);
			break;
		}
		case ALERT_PENDING_SET:
			db_remove_pending(c->pending.id);
			*alert_prev_add_pending(&db) = c->pending;
			break;
		case ALERT_PENDING_DELETE:
			db_remove_pending(c->pending.id);
			break;
		}
	}
	alert_prev_index(&db);
}

/* Empties db and last. */
static inline void
db_reset(void)
{
	alert_changes_free(&last);
	alert_prev_free(&db);
	memset(&db, 0, sizeof(db));
}

#endif
