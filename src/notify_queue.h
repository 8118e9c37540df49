/* notify_queue.h: the persistent notification queue in pulse.notification_queue
 * (alerts-notifications.md §10): enqueue, batch claims with leases, one statement that
 * records a delivery attempt and finishes the row, lease recovery, cancellation on resolve,
 * retention, and the statistics and dead-letter operations of the queue API. */
#ifndef PULSE_NOTIFY_QUEUE_H
#define PULSE_NOTIFY_QUEUE_H

#include <stddef.h>

#include "db.h"

struct json_object;

/* Channel NOTIFYed on every enqueue: the senders wake up. */
#define NOTIFY_QUEUE_CHANNEL "pulse_notify"
/* The secrets context of the queued channel configuration. */
#define NOTIFY_QUEUE_CONFIG_CONTEXT "notification_queue.config"
#define NOTIFY_QUEUE_ERR_LEN 512

/* One claimed row. config is the opened channel configuration (it holds secrets). */
struct nq_row {
	char id[128];
	char type[24];
	char channel_id[208];
	char *alerts;		/* JSON array */
	char *config;		/* JSON object, opened */
	int attempts;		/* this attempt's number (1 for the first) */
	int max_attempts;
};

/* The outcome of one delivery attempt. */
struct nq_result {
	int success;
	int status_code;	/* HTTP status, 0 when none */
	char error[NOTIFY_QUEUE_ERR_LEN];
	char channel_name[128];
	char target[512];	/* URL or server, secrets redacted */
	int payload_bytes;
	double defer_s;		/* > 0: nothing was sent (a rate limit); retry after this long */
};

/* Queues a message: type is one of email, webhook, apprise and their _resolved forms;
 * alerts_json a JSON array of alerts (their "id" members give alert_ids); config_json the
 * channel configuration (sealed before it is stored). Sends NOTIFY pulse_notify. Returns 0
 * with the new id in id (at least 64 bytes), or -1 with a message in err. */
int notify_queue_enqueue(struct db *db, const char *type, const char *channel_id,
    const char *alerts_json, const char *config_json, char *id, size_t idlen, char *err,
    size_t errlen);

/* Claims up to limit ready rows for worker_id: status 'sending', attempts + 1, and a lease of
 * lease_s seconds per row ahead in the batch plus margin_s (the k-th row waits for k-1
 * sends; the margin covers the work around a send). A row whose configuration cannot be opened comes with config NULL (its send fails
 * and it ends in the DLQ). Returns the number claimed
 * (rows in *out, free with notify_queue_rows_free), or -1. */
int notify_queue_claim(struct db *db, const char *worker_id, int limit, int lease_s,
    int margin_s, struct nq_row **out);
void notify_queue_rows_free(struct nq_row *rows, int n);

/* Milliseconds until the earliest pending row's retry is due, at most max_ms (also when
 * none waits, or on a database error): how long an idle sender may sleep. */
int notify_queue_next_due_ms(struct db *db, int max_ms);

/* Records the attempt in pulse.notification_deliveries (delivery_key = the row id) and
 * finishes the row in one statement: sent; or dlq once attempts reach max_attempts; or
 * pending again after 2^attempts s (60 s at most), last_error kept. A row no longer held by
 * this attempt (its lease ran out and another worker took it, or it was cancelled) is left
 * alone. Returns 0 or -1. */
int notify_queue_finish(struct db *db, const struct nq_row *row, const char *worker_id,
    const struct nq_result *res);

/* Gives claimed rows that were not sent back (a clean stop, or a rate limit that holds them
 * delay_s seconds): pending, attempt not counted, ready again after delay_s (0: at once). */
int notify_queue_release(struct db *db, const struct nq_row *rows, int n, const char *worker_id,
    double delay_s);

/* Rows in 'sending' whose lease has passed are pending again. Returns how many, or -1. */
int notify_queue_recover_leases(struct db *db);

/* An alert was resolved: it is removed from the firing rows (pending or sending, not the
 * recovery rows) that hold it, and a row left without any alert is cancelled ("Alert
 * resolved"; QUIRK 6). Returns rows changed, or -1. */
int notify_queue_cancel_alert(struct db *db, const char *alert_id);

/* Deletes sent, failed and cancelled rows completed over 7 days ago, dlq rows over 30 days,
 * and delivery records over 30 days. Returns rows deleted, or -1. */
int notify_queue_retention(struct db *db);

/* {"status": count, ...} over rows not completed or completed in the last 24 h; NULL on a
 * database error. */
struct json_object *notify_queue_stats(struct db *db);

/* The dlq rows, newest first, at most limit, with every secret of config redacted (an
 * array, empty when none); NULL on a database error. */
struct json_object *notify_queue_dlq(struct db *db, int limit);

/* DLQ retry (pending, attempts 0, ready now; NOTIFY pulse_notify) and delete (the row goes).
 * Both act on dlq rows only: 1 when done, 0 when no dlq row has that id, -1 on a database
 * error. */
int notify_queue_dlq_retry(struct db *db, const char *id);
int notify_queue_dlq_delete(struct db *db, const char *id);

/* Replaces the secrets of a channel configuration in place with "***REDACTED***": password,
 * apiKey, token-like keys, every header and custom field value, and the query and user
 * information of URLs. */
void notify_queue_redact(struct json_object *config);

/* The same for a URL: a new string without user information and with every query value
 * redacted (Telegram bot tokens and Slack/Discord path tokens live in paths: the path after
 * the first segment is redacted too). */
char *notify_queue_redact_url(const char *url);

#endif
