/* alert_store.h: the alerts in PostgreSQL (sql/0011_alerts.sql): a source's active alerts and
 * pending conditions as the engine's input, a change list written in one transaction, the
 * alerts the API serves, and retention. */
#ifndef PULSE_ALERT_STORE_H
#define PULSE_ALERT_STORE_H

#include "alert_engine.h"
#include "db.h"

#include <libpq-fe.h>

/* Fills *out (empty) with source's active alerts, pending entries (suppressions among them)
 * and resolved alerts (the "recent" records of §3.2b), indexed. Returns 0, or -1 on a
 * database error (*out then empty). */
int alert_store_load(struct db *db, const char *source, struct alert_prev *out);

/* Writes ch for source in one transaction: raised alerts inserted (a resolved row of the same
 * id reused, acknowledged again when it was acknowledged and resolved less than an hour ago,
 * §5.1) with a history row, updates, resolutions, pending upserts and deletes; the state
 * version moves when an alert changed. Nothing to write: no transaction. Returns 0 or -1. */
int alert_store_apply(struct db *db, const char *source, const struct alert_changes *ch);

/* The columns alert_store_row reads, for a SELECT over pulse.alerts. */
#define ALERT_STORE_COLUMNS \
	"id, type, level, resource_id, resource_name, node, instance, message, value, " \
	"threshold, extract(epoch FROM start_time), extract(epoch FROM last_seen), " \
	"acknowledged, extract(epoch FROM ack_time), ack_user, metadata::text, " \
	"extract(epoch FROM last_notified), last_escalation, " \
	"extract(epoch FROM resolved_at)"

/* Row i of a result of ALERT_STORE_COLUMNS into *a; a->metadata is a new reference (or
 * NULL) the caller releases. */
void alert_store_row(const PGresult *res, int i, struct alert *a);

/* Retention: resolved rows older than an hour, history older than 30 days or beyond the
 * newest 50,000 rows, pending rows not touched for a day; the active alerts and pending rows
 * of a deleted instance resolved and dropped. Moves the state version when a resolved alert
 * left the five minutes of recentlyResolved or one was resolved. Returns 0 or -1. */
int alert_store_retention(struct db *db);

#endif
