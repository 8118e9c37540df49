/* test_alert.c: an alert survives alert_to_json then alert_from_json; what alert_from_json
 * makes of JSON of the wrong shape. */
#include "config.h"

#include <string.h>

#include "alert.h"
#include "tap.h"

int
main(void)
{
	struct alert a, b;
	struct json_object *o, *meta, *bad;

	memset(&a, 0, sizeof(a));
	snprintf(a.id, sizeof(a.id), "pve1:node1/qemu/100-cpu");
	snprintf(a.type, sizeof(a.type), "cpu");
	snprintf(a.level, sizeof(a.level), "critical");
	snprintf(a.resource_id, sizeof(a.resource_id), "pve1:node1/qemu/100");
	snprintf(a.resource_name, sizeof(a.resource_name), "vm100");
	snprintf(a.node, sizeof(a.node), "node1");
	snprintf(a.instance, sizeof(a.instance), "pve1");
	snprintf(a.message, sizeof(a.message), "VM cpu at 95.5%%");
	snprintf(a.ack_user, sizeof(a.ack_user), "admin");
	a.value = 95.5;
	a.threshold = 80;
	a.start_time = 1767323045;		/* 2026-01-02T03:04:05Z */
	a.last_seen = 1767323105;	/* whole seconds: the JSON has no fraction */
	a.acknowledged = 1;
	a.ack_time = 1767323200;
	a.last_notified = 1767323110;
	a.last_escalation = 2;
	a.escalation_times[0] = 1767323300;
	a.escalation_times[1] = 1767323400;
	a.escalation_count = 2;
	meta = json_object_new_object();
	json_object_object_add(meta, "resolvedAt", json_object_new_string("2026-01-02T04:00:00Z"));
	json_object_object_add(meta, "diskPath", json_object_new_string("/"));
	a.metadata = meta;

	o = alert_to_json(&a);
	alert_from_json(o, &b);
	is_str(b.id, a.id, "round trip: id");
	is_str(b.type, a.type, "type");
	is_str(b.level, a.level, "level");
	is_str(b.resource_id, a.resource_id, "resourceId");
	is_str(b.resource_name, a.resource_name, "resourceName");
	is_str(b.node, a.node, "node");
	is_str(b.instance, a.instance, "instance");
	is_str(b.message, a.message, "message");
	is_str(b.ack_user, a.ack_user, "ackUser");
	ok(b.value == a.value && b.threshold == a.threshold, "value and threshold");
	ok(b.acknowledged == 1, "acknowledged");
	ok(b.start_time == a.start_time, "startTime");
	ok(b.last_seen == a.last_seen, "lastSeen");
	ok(b.ack_time == a.ack_time, "ackTime");
	ok(b.last_notified == a.last_notified, "lastNotified");
	is_int(b.last_escalation, 2, "lastEscalation");
	is_int(b.escalation_count, 2, "escalationTimes: two");
	ok(b.escalation_times[0] == a.escalation_times[0] && b.escalation_times[1] == a.escalation_times[1],
	    "escalationTimes: the times");
	ok(b.metadata != NULL && strcmp(json_object_get_string(json_object_object_get(b.metadata, "diskPath")), "/") == 0,
	    "metadata kept");
	ok(b.resolved_time == 1767326400, "resolved_time from metadata.resolvedAt");
	json_object_put(o);

	/* Zero times and no metadata stay zero and absent both ways. */
	a.ack_time = a.last_notified = 0;
	a.escalation_count = 0;
	a.metadata = NULL;
	o = alert_to_json(&a);
	alert_from_json(o, &b);
	ok(b.ack_time == 0 && b.last_notified == 0 && b.escalation_count == 0, "unset times stay 0");
	ok(b.metadata == NULL && b.resolved_time == 0, "no metadata, no resolved time");
	json_object_put(o);
	json_object_put(meta);

	/* The wrong shapes read as empty, never as garbage. */
	bad = json_tokener_parse("{\"id\":5,\"level\":null,\"value\":\"abc\",\"startTime\":\"yesterday\","
	    "\"acknowledged\":\"maybe\",\"metadata\":[1],\"escalationTimes\":[1,\"x\",\"2026-01-02T03:04:05Z\"]}");
	alert_from_json(bad, &b);
	is_str(b.id, "5", "a number id reads as its text");
	is_str(b.level, "", "null reads as empty");
	ok(b.value == 0, "a non-numeric value reads as 0");
	ok(b.start_time == 0, "an unreadable time reads as 0");
	ok(b.acknowledged == 0, "an unreadable boolean reads as false");
	ok(b.metadata == NULL, "metadata that is not an object is dropped");
	is_int(b.escalation_count, 1, "only readable escalation times are kept");
	json_object_put(bad);
	alert_from_json(NULL, &b);
	is_str(b.id, "", "NULL reads as an empty alert");

	/* A string longer than its field is cut, still terminated. */
	{
		char longname[600];
		memset(longname, 'n', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		bad = json_object_new_object();
		json_object_object_add(bad, "resourceName", json_object_new_string(longname));
		alert_from_json(bad, &b);
		is_int((int)strlen(b.resource_name), (int)sizeof(b.resource_name) - 1, "a long name is cut to the field");
		json_object_put(bad);
	}
	return done_testing();
}
