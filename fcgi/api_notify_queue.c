/* api_notify_queue.c: the notification queue API (alerts-notifications.md §10.4): queue
 * statistics, the dead-letter queue, and retry and delete of one DLQ row. */
#include "config.h"

#include "handlers.h"
#include "jsonwrite.h"
#include "log.h"
#include "notify_queue.h"
#include "util.h"

#include <json-c/json.h>

#define DLQ_DEFAULT_LIMIT 100
#define DLQ_MAX_LIMIT 1000
#define ID_MAX 200

void
api_notify_queue_stats(struct request *r)
{
	struct json_object *obj = req_json(r, notify_queue_stats(r->db));

	if (obj == NULL) {
		resp_db_unavailable_msg(r, "Failed to retrieve queue statistics");
		return;
	}
	resp_json(r, 200, obj);
}

void
api_notify_queue_dlq(struct request *r)
{
	const char *lim = req_query(r, "limit");
	int64_t limit = DLQ_DEFAULT_LIMIT;
	struct json_object *arr;

	if (lim && *lim && parse_int64(lim, 1, DLQ_MAX_LIMIT, &limit) != 0) {
		resp_error(r, 400, "invalid_field", "limit must be an integer from 1 to %d",
		    DLQ_MAX_LIMIT);
		return;
	}
	arr = req_json(r, notify_queue_dlq(r->db, (int)limit));
	if (arr == NULL) {
		resp_db_unavailable_msg(r, "Failed to retrieve dead letter queue");
		return;
	}
	resp_json(r, 200, arr);
}

/* The "id" of the body, or NULL after answering 400. */
static const char *
body_id(struct request *r)
{
	struct json_object *body = req_body_object(r, 0);
	const char *id = NULL;

	if (body == NULL || req_body_string(r, body, "id", 1, ID_MAX, &id) < 0)
		return NULL;
	if (id == NULL || *id == '\0') {
		resp_error(r, 400, "invalid_field", "Missing notification ID");
		return NULL;
	}
	return id;
}

/* Retry or delete: one DLQ row named by the body's "id". */
static void
dlq_action(struct request *r, int (*fn)(struct db *, const char *), const char *message,
    const char *done)
{
	const char *id = body_id(r);
	struct json_object *obj;
	int rc;

	if (id == NULL)
		return;
	rc = fn(r->db, id);
	if (rc < 0) {
		resp_db_unavailable(r);
		return;
	}
	if (rc == 0) {
		resp_error(r, 404, "not_found", "No dead-letter notification with that id");
		return;
	}
	obj = resp_object(r);
	jsonwrite_bool(obj, "success", 1);
	jsonwrite_str(obj, "message", message);
	jsonwrite_str(obj, "id", id);
	resp_json(r, 200, obj);
	/* A DLQ row's id is one of ours (type, digits, hex): nothing to escape. */
	log_info("msg=\"dlq notification %s\" id=%s", done, id);
}

void
api_notify_queue_dlq_retry(struct request *r)
{
	dlq_action(r, notify_queue_dlq_retry, "Notification scheduled for retry", "retried");
}

void
api_notify_queue_dlq_delete(struct request *r)
{
	dlq_action(r, notify_queue_dlq_delete, "Notification deleted from DLQ", "deleted");
}
