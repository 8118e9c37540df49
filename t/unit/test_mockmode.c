/* test_mockmode.c: mock mode's settings: defaults, reading, the API's checks and merge. */
#include "config.h"

#include <string.h>

#include "jsonutil.h"
#include "mockmode.h"
#include "tap.h"

/* Merges changes (JSON text) into stored (JSON text); returns merge's result, the message in
 * err and the merged settings in c. */
static int
merge(const char *stored_text, const char *changes_text, char *err, size_t errlen,
    struct mockmode_config *c)
{
	char perr[64];
	struct json_object *stored = jsonutil_parse(stored_text, strlen(stored_text), perr, sizeof(perr));
	struct json_object *changes = jsonutil_parse(changes_text, strlen(changes_text), perr,
	    sizeof(perr));
	int rc;

	err[0] = '\0';
	rc = mockmode_config_merge(stored, changes, err, errlen);
	mockmode_config_from_json(stored, c);
	json_object_put(stored);
	json_object_put(changes);
	return rc;
}

int
main(void)
{
	struct mockmode_config c;
	char err[128];

	mockmode_config_parse("{}", &c);
	ok(c.node_count == 7 && c.vms_per_node == 5 && c.lxcs_per_node == 8 && c.random_metrics &&
	    c.stopped_percent == 0.2 && c.nhigh == 0, "an empty configuration gives the defaults");
	is_int(mockmode_config_guests(&c), 7 * 13, "the defaults' guests");
	mockmode_config_parse("not json", &c);
	is_int(c.node_count, 7, "unparseable text gives the defaults");
	mockmode_config_from_json(NULL, &c);
	is_int(c.lxcs_per_node, 8, "no object gives the defaults");

	mockmode_config_parse("{\"nodeCount\":3,\"vmsPerNode\":0,\"lxcsPerNode\":2,"
	    "\"randomMetrics\":false,\"stoppedPercent\":0.5,\"highLoadNodes\":[\"pve1\",4,\"pve2\"]}", &c);
	ok(c.node_count == 3 && c.vms_per_node == 0 && c.lxcs_per_node == 2 && !c.random_metrics &&
	    c.stopped_percent == 0.5, "stored settings are read");
	ok(c.nhigh == 2 && strcmp(c.high_load[0], "pve1") == 0 && strcmp(c.high_load[1], "pve2") == 0,
	    "high-load nodes: the names only");
	mockmode_config_parse("{\"nodeCount\":0,\"stoppedPercent\":2}", &c);
	ok(c.node_count == 7 && c.stopped_percent == 0.2, "a value out of range keeps its default");

	is_int(merge("{\"nodeCount\":2}", "{\"vmsPerNode\":1}", err, sizeof(err), &c), 0,
	    "a good change merges");
	ok(c.node_count == 2 && c.vms_per_node == 1, "the stored setting stays, the given one replaces");
	is_int(merge("{}", "{\"nodeCount\":0}", err, sizeof(err), &c), -1, "nodeCount 0 is refused");
	is_str(err, "nodeCount must be greater than zero", "with the API's message");
	is_int(merge("{}", "{\"vmsPerNode\":-1}", err, sizeof(err), &c), -1, "a negative count");
	is_str(err, "vmsPerNode cannot be negative", "with its message");
	is_int(merge("{}", "{\"stoppedPercent\":1.5}", err, sizeof(err), &c), -1, "a share above 1");
	is_int(merge("{}", "{\"randomMetrics\":1}", err, sizeof(err), &c), -1, "a number for a boolean");
	is_str(err, "randomMetrics must be true or false", "with its message");
	is_int(merge("{}", "{\"highLoadNodes\":[\"a\",1]}", err, sizeof(err), &c), -1,
	    "a node list with a number");
	is_int(merge("{}", "{\"highLoadNodes\":null}", err, sizeof(err), &c), 0, "null clears the list");
	is_int(merge("{}", "{\"nodeCount\":1000,\"vmsPerNode\":20,\"lxcsPerNode\":10}", err,
	    sizeof(err), &c), -1, "more guests than the bound");
	is_str(err, "nodeCount x (vmsPerNode + lxcsPerNode) must not exceed 25000 guests",
	    "with the bound in the message");
	is_int(merge("{}", "{\"nodeCount\":1000,\"vmsPerNode\":20,\"lxcsPerNode\":5}", err,
	    sizeof(err), &c), 0, "exactly the bound is fine");
	return done_testing();
}
