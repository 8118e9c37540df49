/* test_pve_cluster.c: reading /cluster/status answers, and the one rule for what is a
 * cluster: standalone, a one-node cluster, three nodes, too many, malformed. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "jsonutil.h"
#include "pve_cluster.h"
#include "tap.h"
#include "util.h"

static struct json_object *
parse(const char *text)
{
	char err[64];
	return jsonutil_parse(text, strlen(text), err, sizeof(err));
}

/* The answer st points into: kept until the next one is read. */
static struct json_object *current;

/* Parses text and says whether it is a cluster (-1: not a list). */
static int
is_cluster(const char *text, struct pve_cluster_status *st)
{
	if (current)
		json_object_put(current);
	current = parse(text);
	return pve_cluster_status_parse(current, st) == 0 ? pve_cluster_status_is_cluster(st) : -1;
}

int
main(void)
{
	struct pve_cluster_status st;
	struct json_object *data;

	is_int(is_cluster("[{\"type\":\"node\",\"name\":\"pve\",\"id\":\"node/pve\",\"ip\":\"10.0.0.5\","
	    "\"online\":1,\"nodeid\":0,\"local\":1}]", &st), 0, "a standalone node is no cluster");
	is_int(st.nodes, 1, "standalone: one node entry");
	is_int(st.has_cluster_entry, 0, "standalone: no cluster entry");
	is_str(st.name, "", "standalone: no cluster name");

	is_int(is_cluster("[{\"type\":\"cluster\",\"name\":\"solo\",\"nodes\":1,\"quorate\":1},"
	    "{\"type\":\"node\",\"name\":\"pve\",\"id\":\"node/pve\",\"ip\":\"10.0.0.5\",\"online\":1,"
	    "\"nodeid\":1,\"local\":1}]", &st), 0,
	    "a one-node cluster is standalone: no second endpoint to fail over to");
	is_int(st.has_cluster_entry, 1, "one-node cluster: its cluster entry is seen");

	data = parse("{\"data\":[{\"type\":\"cluster\",\"version\":4,\"quorate\":1,\"name\":\"clustername\","
	    "\"id\":\"cluster\",\"nodes\":3},"
	    "{\"name\":\"node2\",\"nodeid\":2,\"id\":\"node/node2\",\"online\":1,\"type\":\"node\","
	    "\"ip\":\"192.168.1.2\",\"local\":0,\"level\":\"\"},"
	    "{\"name\":\"node3\",\"nodeid\":3,\"type\":\"node\",\"ip\":\"192.168.1.3\",\"local\":0,"
	    "\"id\":\"node/node3\",\"online\":0,\"level\":\"\"},"
	    "{\"name\":\"node1\",\"nodeid\":\"1\",\"online\":1,\"id\":\"node/node1\",\"local\":1,"
	    "\"ip\":\"192.168.1.1\",\"type\":\"node\",\"level\":\"\"}]}");
	ok(pve_cluster_status_parse(json_object_object_get(data, "data"), &st) == 0, "three nodes: read");
	ok(pve_cluster_status_is_cluster(&st), "three nodes: a cluster");
	is_str(st.name, "clustername", "three nodes: the cluster's name");
	is_int(st.nodes, 3, "three node entries");
	is_int(st.nmembers, 3, "three members read");
	is_str(st.member[0].name, "node2", "member order as listed");
	is_str(st.member[0].id, "node/node2", "member id");
	is_str(st.member[0].ip, "192.168.1.2", "member address");
	is_int(st.member[0].nodeid, 2, "member nodeid");
	is_int(st.member[1].online, 0, "an offline member");
	is_int(st.member[2].nodeid, 1, "a nodeid sent as a string");
	is_int(st.member[2].local, 1, "the local member");
	json_object_put(data);

	{
		/* More members than are read: counted, not all kept. */
		char text[16384];
		size_t len = 0;
		len += (size_t)snprintf(text + len, sizeof(text) - len, "[");
		for (int i = 0; i < PVE_CLUSTER_MAX_MEMBERS + 6; i++)
			len += (size_t)snprintf(text + len, sizeof(text) - len,
			    "%s{\"type\":\"node\",\"name\":\"n%d\"}", i ? "," : "", i);
		snprintf(text + len, sizeof(text) - len, "]");
		is_int(is_cluster(text, &st), 1, "a big cluster");
		is_int(st.nodes, PVE_CLUSTER_MAX_MEMBERS + 6, "every node entry counted");
		is_int(st.nmembers, PVE_CLUSTER_MAX_MEMBERS, "at most the limit read");
	}

	/* Malformed answers: never a cluster, never a crash. */
	is_int(is_cluster("{\"type\":\"cluster\"}", &st), -1, "an object is not a status list");
	is_int(st.nodes, 0, "nothing read from an object");
	is_str(st.name, "", "no name from an object");
	is_int(is_cluster("\"cluster\"", &st), -1, "a string is not a status list");
	ok(pve_cluster_status_parse(NULL, &st) == -1, "no answer is not a status list");
	is_int(is_cluster("[]", &st), 0, "an empty list: standalone");
	is_int(is_cluster("[1, null, \"node\", [], {\"type\":3}, {\"type\":\"node\",\"name\":7,\"ip\":null}]",
	    &st), 0, "entries of the wrong shape are skipped or read tolerantly");
	is_int(st.nodes, 1, "the one node entry counted");
	is_str(st.member[0].name, "7", "a name sent as a number is read as its text");
	is_str(st.member[0].ip, "", "a null address reads empty");
	is_int(is_cluster("[{\"type\":\"cluster\",\"name\":\"c\"},{\"type\":\"node\"},{\"type\":\"node\"}]",
	    &st), 1, "two bare node entries: a cluster");
	json_object_put(current);
	return done_testing();
}
