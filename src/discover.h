/* discover.h: network discovery of Proxmox servers in an IPv4 subnet the admin gives
 * (POST /api/discover): a bounded TCP connect sweep of the Proxmox ports, then a short HTTPS
 * probe of /api2/json/version on each open one through the guarded client (src/http.h); the
 * last result kept in pulse.discovery_result for GET /api/discover. */
#ifndef PULSE_DISCOVER_H
#define PULSE_DISCOVER_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "db.h"

#define DISCOVER_MAX_HOSTS 1024		/* metrics-reporting.md §5.3 max_hosts_per_scan */
#define DISCOVER_MAX_CONCURRENT 50	/* §5.3 max_concurrent */
#define DISCOVER_DIAL_MS 1000		/* §5.3 dial_timeout_ms */
#define DISCOVER_HTTP_MS 2000		/* §5.3 http_timeout_ms */
#define DISCOVER_DEADLINE_MS 30000	/* the whole scan: what a request may wait */
#define DISCOVER_MAX_PORTS 4

/* A port to probe and the product a Proxmox answer on it is taken for. */
struct discover_port {
	int port;
	char type[4];			/* "pve" or "pbs" */
};

struct discover_scan {
	uint32_t first;			/* host order: the first address scanned */
	uint32_t count;			/* addresses */
	struct discover_port ports[DISCOVER_MAX_PORTS];
	int nports;
	int concurrency;		/* connections in flight at most */
	long dial_ms, http_ms, deadline_ms;
};

/* Parses an IPv4 CIDR ("192.168.1.0/24"; a bare address is a /32) into scan->first and
 * scan->count: the network and broadcast addresses are left out when the prefix is 30 or
 * shorter. Returns 0, or -1 with the reason in err (not a CIDR; more than max_hosts
 * addresses). */
int discover_parse_cidr(const char *cidr, uint32_t max_hosts, struct discover_scan *scan,
    char *err, size_t errlen);

/* Runs a scan (blocking, at most deadline_ms plus one HTTP timeout): the answer
 * {"servers":[{"ip","port","type","version","hostname"}],"errors":[...]}, a new object. */
struct json_object *discover_run(const struct discover_scan *scan);

/* Stores result (not taken) as the last scan of subnet. 0 or -1. */
int discover_store(struct db *db, const char *subnet, struct json_object *result);

/* The last scan: a new object with servers, errors, subnet, updated (Unix seconds; 0 when
 * none ran yet) and scanning false; NULL on a database error. */
struct json_object *discover_load(struct db *db);

#endif
