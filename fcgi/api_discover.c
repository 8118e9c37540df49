/* api_discover.c: GET /api/discover (the last scan) and POST /api/discover (a scan of the
 * IPv4 subnet the admin gives, src/discover.c). The scan runs in the request, under a
 * deadline (DISCOVER_DEADLINE_MS, well inside nginx's fastcgi_read_timeout): it is bounded
 * (DISCOVER_MAX_HOSTS addresses, DISCOVER_MAX_CONCURRENT connections), the admin waits for
 * its answer as with the original, and one advisory lock lets one scan run at a time over
 * every responder. */
#include "config.h"

#include "discover.h"
#include "handlers.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

#define DISCOVER_LOCK_KEY 0x44495343	/* "DISC": DB_LOCK_SINGLETON key of a running scan */

void
api_discover_get(struct request *r)
{
	struct json_object *out = req_json(r, discover_load(r->db));

	if (out == NULL) {
		resp_db_unavailable(r);
		return;
	}
	resp_json(r, 200, out);
}

/* The body's ports: [{"port":N,"type":"pve"|"pbs"}, ...] (ours: the simulators of the tests
 * listen on random ports); the default 8006 pve and 8007 pbs. -1 after answering 400. */
static int
read_ports(struct request *r, struct json_object *body, struct discover_scan *scan)
{
	struct json_object *ports;

	scan->nports = 0;
	if (!json_object_object_get_ex(body, "ports", &ports) || ports == NULL) {
		scan->ports[0] = (struct discover_port){8006, "pve"};
		scan->ports[1] = (struct discover_port){8007, "pbs"};
		scan->nports = 2;
		return 0;
	}
	if (!json_object_is_type(ports, json_type_array) || json_object_array_length(ports) == 0 ||
	    json_object_array_length(ports) > DISCOVER_MAX_PORTS) {
		resp_error(r, 400, "invalid_ports", "ports must be an array of 1 to %d entries",
		    DISCOVER_MAX_PORTS);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		struct json_object *e = json_object_array_get_idx(ports, i), *p, *t;
		const char *type;
		int port;

		if (!json_object_is_type(e, json_type_object) ||
		    !json_object_object_get_ex(e, "port", &p) || !json_object_is_type(p, json_type_int) ||
		    (port = json_object_get_int(p)) < 1 || port > 65535 ||
		    !json_object_object_get_ex(e, "type", &t) || !json_object_is_type(t, json_type_string) ||
		    (strcmp(type = json_object_get_string(t), "pve") != 0 && strcmp(type, "pbs") != 0)) {
			resp_error(r, 400, "invalid_ports", "each port must be {\"port\": 1-65535, "
			    "\"type\": \"pve\" or \"pbs\"}");
			return -1;
		}
		scan->ports[scan->nports].port = port;
		snprintf(scan->ports[scan->nports].type, sizeof(scan->ports[0].type), "%s", type);
		scan->nports++;
	}
	return 0;
}

void
api_discover_scan(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *result, *out, *v;
	struct discover_scan scan = {0};
	const char *subnet = NULL;
	char err[160];
	int locked;

	if (body == NULL || req_body_string(r, body, "subnet", 1, 64, &subnet) < 0 ||
	    read_ports(r, body, &scan) != 0)
		return;
	if (discover_parse_cidr(subnet, DISCOVER_MAX_HOSTS, &scan, err, sizeof(err)) != 0) {
		resp_error(r, 400, "invalid_subnet", "%s", err);
		return;
	}
	scan.concurrency = DISCOVER_MAX_CONCURRENT;
	scan.dial_ms = DISCOVER_DIAL_MS;
	scan.http_ms = DISCOVER_HTTP_MS;
	scan.deadline_ms = DISCOVER_DEADLINE_MS;
	if ((locked = db_try_lock(r->db, DB_LOCK_SINGLETON, DISCOVER_LOCK_KEY)) <= 0) {
		if (locked < 0)
			resp_db_unavailable(r);
		else
			resp_error(r, 409, "scan_running", "A discovery scan is already running");
		return;
	}
	log_info("msg=\"discovery scan\" subnet=\"%s\" addresses=%u ports=%d user=\"%s\"", subnet,
	    scan.count, scan.nports, r->auth.username);
	result = req_json(r, discover_run(&scan));
	if (discover_store(r->db, subnet, result) != 0)
		log_error("msg=\"discovery result not stored\" subnet=\"%s\"", subnet);
	(void)db_unlock(r->db, DB_LOCK_SINGLETON, DISCOVER_LOCK_KEY);
	out = resp_object(r);
	json_object_object_get_ex(result, "servers", &v);
	json_object_object_add(out, "servers", json_object_get(v));
	json_object_object_get_ex(result, "errors", &v);
	json_object_object_add(out, "errors", json_object_get(v));
	json_object_object_add(out, "subnet", json_object_new_string(subnet));
	json_object_object_add(out, "scanning", json_object_new_boolean(0));
	resp_json(r, 200, out);
}
