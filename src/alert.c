/* alert.c: an alert's JSON in the original's field names (alerts-notifications.md §1.1). */
#include "config.h"

#include "alert.h"
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
