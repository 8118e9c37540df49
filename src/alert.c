/* alert.c: an alert's JSON in the original's field names (alerts-notifications.md §1.1). */
#include "config.h"

#include "alert.h"
#include "jsonread.h"
#include "jsonwrite.h"
#include "timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

struct json_object *
alert_to_json(const struct alert *a)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_str(o, "id", a->id);
	jsonwrite_str(o, "type", a->type);
	jsonwrite_str(o, "level", a->level);
	jsonwrite_str(o, "resourceId", a->resource_id);
	jsonwrite_str(o, "resourceName", a->resource_name);
	jsonwrite_str(o, "node", a->node);
	jsonwrite_str(o, "instance", a->instance);
	jsonwrite_str(o, "message", a->message);
	jsonwrite_num(o, "value", a->value);
	jsonwrite_num(o, "threshold", a->threshold);
	jsonwrite_time(o, "startTime", a->start_time);
	jsonwrite_time(o, "lastSeen", a->last_seen);
	jsonwrite_bool(o, "acknowledged", a->acknowledged);
	if (a->ack_time > 0)
		jsonwrite_time(o, "ackTime", a->ack_time);
	jsonwrite_opt_str(o, "ackUser", a->ack_user);
	if (a->metadata != NULL && json_object_is_type(a->metadata, json_type_object) &&
	    json_object_object_length(a->metadata) > 0)
		json_object_object_add(o, "metadata", json_object_get(a->metadata));
	if (a->last_notified > 0)
		jsonwrite_time(o, "lastNotified", a->last_notified);
	jsonwrite_opt_int(o, "lastEscalation", a->last_escalation);
	if (a->escalation_count > 0) {
		struct json_object *times = json_object_new_array();

		for (int i = 0; i < a->escalation_count && i < ALERT_MAX_ESCALATIONS; i++) {
			char buf[TIMEFMT_LEN];

			json_object_array_add(times, json_object_new_string(
			    timefmt_rfc3339(a->escalation_times[i], buf, sizeof(buf))));
		}
		json_object_object_add(o, "escalationTimes", times);
	}
	return o;
}

/* An RFC 3339 member of o in unix seconds; 0 when absent or unreadable. */
static double
time_member(struct json_object *o, const char *key)
{
	const char *s = jsonread_string(o, key, NULL);
	double t;

	return s != NULL && timefmt_parse_rfc3339(s, &t) == 0 ? t : 0;
}

void
alert_from_json(struct json_object *o, struct alert *a)
{
	struct json_object *times;

	memset(a, 0, sizeof(*a));
	jsonread_copy(a->id, sizeof(a->id), jsonread_string(o, "id", ""));
	jsonread_copy(a->type, sizeof(a->type), jsonread_string(o, "type", ""));
	jsonread_copy(a->level, sizeof(a->level), jsonread_string(o, "level", ""));
	jsonread_copy(a->resource_id, sizeof(a->resource_id), jsonread_string(o, "resourceId", ""));
	jsonread_copy(a->resource_name, sizeof(a->resource_name),
	    jsonread_string(o, "resourceName", ""));
	jsonread_copy(a->node, sizeof(a->node), jsonread_string(o, "node", ""));
	jsonread_copy(a->instance, sizeof(a->instance), jsonread_string(o, "instance", ""));
	jsonread_copy(a->message, sizeof(a->message), jsonread_string(o, "message", ""));
	jsonread_copy(a->ack_user, sizeof(a->ack_user), jsonread_string(o, "ackUser", ""));
	a->value = jsonread_number(o, "value", 0);
	a->threshold = jsonread_number(o, "threshold", 0);
	a->acknowledged = jsonread_bool(o, "acknowledged", 0);
	a->start_time = time_member(o, "startTime");
	a->last_seen = time_member(o, "lastSeen");
	a->ack_time = time_member(o, "ackTime");
	a->last_notified = time_member(o, "lastNotified");
	a->last_escalation = (int)jsonread_int(o, "lastEscalation", 0);
	times = jsonread_member(o, "escalationTimes");
	for (int i = 0; i < jsonread_array_len(times) && i < ALERT_MAX_ESCALATIONS; i++) {
		struct json_object *v = json_object_array_get_idx(times, i);
		double t;

		if (json_object_is_type(v, json_type_string) &&
		    timefmt_parse_rfc3339(json_object_get_string(v), &t) == 0)
			a->escalation_times[a->escalation_count++] = t;
	}
	a->metadata = jsonread_member(o, "metadata");
	if (!jsonread_is_object(a->metadata))
		a->metadata = NULL;
	else
		a->resolved_time = time_member(a->metadata, "resolvedAt");
}

void
alert_key(const char *in, char *out, size_t len)
{
	size_t o = 0;
	int dash = 0;

	if (len == 0)
		return;
	if (strcmp(in, "/") == 0) {
		snprintf(out, len, "root");
		return;
	}
	for (const unsigned char *p = (const unsigned char *)in; *p && o + 2 < len; p++) {
		int c = tolower(*p);
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.') {
			if (dash && o > 0)
				out[o++] = '-';
			dash = 0;
			out[o++] = (char)c;
		} else {
			dash = 1;
		}
	}
	while (o > 0 && (out[o - 1] == '-' || out[o - 1] == '.'))
		o--;
	out[o] = '\0';
	{
		size_t s = 0;
		while (out[s] == '.')
			s++;
		memmove(out, out + s, o - s + 1);
	}
	if (out[0] == '\0')
		snprintf(out, len, "disk");
}
