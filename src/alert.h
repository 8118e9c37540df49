/* alert.h: one alert (alerts-notifications.md §1.1) in its plain form, and its JSON both ways. */
#ifndef PULSE_ALERT_H
#define PULSE_ALERT_H

#include <json-c/json.h>
#include <stddef.h>

#define ALERT_MAX_ESCALATIONS 20

/*
 * An alert as the engine keeps it and the notifiers read it. Times are unix seconds, 0 when
 * unset. metadata is a JSON object or NULL; the struct borrows it (whoever fills the alert
 * keeps it alive and releases it).
 */
struct alert {
	char id[256];
	char type[64];
	char level[16];		/* "warning" or "critical" */
	char resource_id[256];
	char resource_name[256];
	char node[128];
	char instance[256];
	char message[1024];
	double value, threshold;
	double start_time, last_seen;
	int acknowledged;
	double ack_time;
	char ack_user[64];
	struct json_object *metadata;
	double last_notified;
	int last_escalation;
	double escalation_times[ALERT_MAX_ESCALATIONS];
	int escalation_count;
	double resolved_time;	/* set once the alert resolved */
};

/* A new JSON object with the alert's fields in the original's names, order and omitempty
 * rules (§1.1); the caller owns it. */
struct json_object *alert_to_json(const struct alert *a);

/* Fills a from o, an alert as alert_to_json writes it (queued rows, the original's JSON):
 * what is absent or of another type is left empty or 0, as are times that are not RFC 3339;
 * strings too long for their field are cut. resolved_time comes from metadata.resolvedAt.
 * a->metadata borrows o's metadata object: o must outlive a. */
void alert_from_json(struct json_object *o, struct alert *a);

/* sanitizeAlertKey (§1.4): lower case, [a-z0-9.] kept, other runs one '-', '-' and '.'
 * trimmed; "/" alone is "root", nothing left is "disk". */
void alert_key(const char *in, char *out, size_t len);

#endif
