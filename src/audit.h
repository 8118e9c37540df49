/* audit.h: the security audit trail in pulse.audit_events (security.md §9), as a hash chain:
 * each row carries HMAC-SHA256 over its content and its predecessor's MAC, under a key kept
 * sealed in pulse.audit_chain; verification of one row or of the whole chain; the listing of
 * GET /api/audit; retention with an anchor; audit webhooks through the notification queue. */
#ifndef PULSE_AUDIT_H
#define PULSE_AUDIT_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct nq_row;
struct nq_result;
struct notify_send_ctx;

/* The notification queue's type for an audit webhook delivery. */
#define AUDIT_WEBHOOK_TYPE "audit_webhook"
#define AUDIT_WEBHOOK_USER_AGENT "Pulse-Audit-Webhook/1.0"
#define AUDIT_WEBHOOKS_MAX 16

/* Records one event (login, logout, token_created, ...) at the chain's head, and queues it
 * for the audit webhooks, in one transaction (the caller's when it has one open). Never
 * fails the caller: a lost event is logged as a warning. details must not hold a secret. */
void audit_record(struct db *db, const char *event, const char *username, const char *client_ip,
    const char *path, int success, const char *details);

/* GET /api/audit's filters (security.md §9.4). */
struct audit_query {
	int64_t limit;		/* 0: no limit */
	int64_t offset;
	const char *event;	/* NULL: any */
	const char *user;	/* NULL: any */
	double start, end;	/* unix seconds, inclusive at 1 s; NAN: unbounded */
	int success;		/* -1: any */
};

/* {"events": [...] newest first, "total": n, "persistentLogging": true}: a new reference, or
 * NULL on a database error. */
struct json_object *audit_list(struct db *db, const struct audit_query *q);

enum audit_verdict {
	AUDIT_VERIFIED,
	AUDIT_BROKEN,		/* its MAC, or its predecessor's, does not check (or it has none) */
	AUDIT_NOT_FOUND,
	AUDIT_ERROR,		/* database error, or the key cannot be opened */
};

/* Verifies the event with this id: its MAC over its content and its predecessor's MAC, and
 * its predecessor's MAC the same way (so that an edited or deleted predecessor shows). */
enum audit_verdict audit_verify_event(struct db *db, const char *id);

/* The outcome of a whole-chain verification. */
struct audit_chain_report {
	int64_t rows;		/* rows checked */
	int64_t anchor_seq;	/* the last row a retention cut removed (0: none) */
	int64_t last_seq;	/* the chain head's */
	int64_t broken_seq;	/* the first row that fails (0: none; -1: not a chain row) */
	char broken_id[40];
	char reason[160];
};

/* Walks every row from the anchor to the head: contiguous seq, each MAC, the head's MAC, and
 * no row outside the chain. Returns 0 intact, 1 broken (the first failure in rep), -1 on a
 * database error or a key that cannot be opened. */
int audit_verify_chain(struct db *db, struct audit_chain_report *rep);

/* The report as JSON (GET /api/audit/verify): a new reference. */
struct json_object *audit_chain_report_json(const struct audit_chain_report *rep, int rc);

/* Retention: deletes the rows older than days, records the cut's anchor (the MAC of the last
 * row removed) in the same transaction, then records an audit_cleanup event. Returns the
 * rows deleted, or -1. */
long audit_prune(struct db *db, int days);

/* The audit webhooks: {"urls": [...], "signingSecret": "..."}: a new reference, or NULL on a
 * database error. */
struct json_object *audit_webhooks_get(struct db *db);

/* Replaces the URLs (a JSON array of http(s) URL strings). Returns 0, -1 with a message in
 * err (bad input), or -2 on a database error. */
int audit_webhooks_set(struct db *db, struct json_object *urls, char *err, size_t errlen);

/* Delivers a queued audit webhook row (the notification sender calls it for type
 * AUDIT_WEBHOOK_TYPE): POST of the event with the original's headers and X-Pulse-Signature,
 * through notify_send_http (SSRF guard). Returns 0 or -1, res filled. */
int audit_webhook_send(const struct nq_row *row, const struct notify_send_ctx *ctx,
    struct nq_result *res);

#endif
