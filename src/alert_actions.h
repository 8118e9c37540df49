/* alert_actions.h: what a user does to alerts (alerts-notifications.md §5, §6): acknowledge,
 * unacknowledge and clear, the history, and incidents with their timeline. Each change runs
 * in one transaction that also moves the state version, so /api/state follows. */
#ifndef PULSE_ALERT_ACTIONS_H
#define PULSE_ALERT_ACTIONS_H

#include <json-c/json.h>

#include "alert.h"
#include "db.h"

#define ALERT_ID_MAX 500

/* §1.3: 1..500 characters of printable ASCII, no "../" or "/..", no space at either end.
 * Returns 1 when id is acceptable. */
int alert_id_valid(const char *id);

enum alert_action {
	ALERT_ACK,
	ALERT_UNACK,
	ALERT_CLEAR,
};

/* Applies one action to the active alert id for user (who acknowledged: the caller's user
 * name). Clearing resolves the row (it stays for recentlyResolved, ack fields kept) and
 * runs alert_actions_on_resolved. The alert's open incident gets the event. Returns 1 when
 * done, 0 when no active alert has that id, -1 on a database error. */
int alert_action_apply(struct db *db, enum alert_action act, const char *id, const char *user);

/* The resolution path (§7.4) inside the caller's transaction: the alert leaves the grouping
 * buffer, and queued rows holding it lose it (notify_queue_cancel_alert). Returns 0 or -1. */
int alert_actions_on_resolved(struct db *db, const char *alert_id);

/* GET /api/alerts/history's filters (§6). limit 0: all. */
struct alert_history_query {
	long limit, offset;
	const char *start, *end;	/* RFC 3339 bounds on the start time, or NULL */
	const char *severity;	/* "warning", "critical" or NULL */
	const char *resource_id;	/* exact, or NULL */
};

#define ALERT_HISTORY_LIMIT_DEFAULT 100
#define ALERT_HISTORY_LIMIT_MAX 10000

/* Reads the query parameters (each NULL when absent) into q. A limit or offset that is not a
 * number is ignored; a limit over 10000 is 10000. Returns 0, or -1 with *err set to the
 * original's message ("limit must be non-negative", "invalid startTime parameter", ...). */
int alert_history_query_parse(struct alert_history_query *q, const char *limit,
    const char *offset, const char *start, const char *end, const char *severity,
    const char *resource_id, const char **err);

/* The history entries matching q, newest first, as a JSON array the caller owns (filters
 * applied in SQL, so limit entries come back when they exist); NULL on a database error. */
struct json_object *alert_history_fetch(struct db *db, const struct alert_history_query *q);

/* Deletes the whole history. Returns 0 or -1. */
int alert_history_clear(struct db *db);

/* Opens the incident of a raised alert (one per alert id and start time; a repeat is a
 * no-op), closes an older open incident of the same id and adds the alert_fired event. Runs
 * inside the caller's transaction or alone, its statements pipelined or not (their rows are
 * not read). Returns 0 or -1. */
int incident_record_raised(struct db *db, const struct alert *a);

/* Incident retention: 90 days, the newest 500. Once after a batch of raises. 0 or -1. */
int incident_retention(struct db *db);

/* The incident of alert_id that opened at opened_at (an RFC 3339 time already checked; NULL:
 * the latest), as a JSON object the caller owns; *out NULL when there is none. Returns 0 or
 * -1. */
int incident_get(struct db *db, const char *alert_id, const char *opened_at,
    struct json_object **out);

/* The incidents of a resource, newest first, at most limit (0: all), as a JSON array the
 * caller owns; NULL on a database error. */
struct json_object *incident_list_resource(struct db *db, const char *resource_id, long limit);

/* Adds a note to an incident: by its id, or the latest of alert_id. Returns 1 when added, 0
 * when there is no such incident, -1 on a database error. */
int incident_add_note(struct db *db, const char *incident_id, const char *alert_id,
    const char *note, const char *user);

#define INCIDENT_MAX 500
#define INCIDENT_MAX_EVENTS 120
#define INCIDENT_RETENTION_DAYS 90

#endif
