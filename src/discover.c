/* discover.c: network discovery (discover.h). Two phases under one deadline: non-blocking
 * connects, at most scan->concurrency in flight, each given dial_ms; then, for the open
 * ports only, GET /api2/json/version over HTTPS without verification (a discovered server's
 * certificate is not known yet) through http_multi, at most as many in flight. A Proxmox API
 * answers it 401 without credentials, or 200 {"data":{"version":...}} when it asks for none;
 * anything else (another web server, no TLS) is not a Proxmox server. */
#include "config.h"

#include "discover.h"

#include "http.h"
#include "jsonutil.h"
#include "netaddr.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
discover_parse_cidr(const char *cidr, uint32_t max_hosts, struct discover_scan *scan,
    char *err, size_t errlen)
{
	struct cidr c;
	uint32_t base, mask;
	uint64_t size;

	if (cidr == NULL || cidr_parse(cidr, &c) != 0) {
		snprintf(err, errlen, "Invalid subnet: expected an IPv4 CIDR such as 192.168.1.0/24");
		return -1;
	}
	if (c.base.v6) {
		snprintf(err, errlen, "Invalid subnet: only IPv4 subnets can be scanned");
		return -1;
	}
	base = (uint32_t)c.base.bytes[0] << 24 | (uint32_t)c.base.bytes[1] << 16 |
	    (uint32_t)c.base.bytes[2] << 8 | c.base.bytes[3];
	mask = c.prefix == 0 ? 0 : 0xffffffffu << (32 - c.prefix);
	size = (uint64_t)1 << (32 - c.prefix);
	base &= mask;
	if (c.prefix <= 30) {
		base++;
		size -= 2;
	}
	if (size > max_hosts) {
		snprintf(err, errlen, "Subnet too large: %llu addresses, at most %u per scan",
		    (unsigned long long)size, max_hosts);
		return -1;
	}
	scan->first = base;
	scan->count = (uint32_t)size;
	return 0;
}

/* --- phase 1: connects ------------------------------------------------------------------- */

struct target {
	uint32_t addr;
	int port;			/* index into scan->ports */
	int open;
};

struct slot {
	int fd;
	size_t target;
	double started;
};

static int
connect_start(const struct discover_scan *scan, struct target *t)
{
	struct sockaddr_in sa = {0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)scan->ports[t->port].port);
	sa.sin_addr.s_addr = htonl(t->addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		t->open = 1;
		close(fd);
		return -1;
	}
	if (errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Marks the targets that accept a connection; returns how many were not tried before the
 * deadline. */
static size_t
sweep(const struct discover_scan *scan, struct target *targets, size_t ntargets, double deadline)
{
	int cap = scan->concurrency > 0 ? scan->concurrency : 1;
	struct slot *slots = xcalloc((size_t)cap, sizeof(*slots));
	struct pollfd *pfd = xcalloc((size_t)cap, sizeof(*pfd));
	size_t next = 0;
	int active = 0;

	for (;;) {
		double now = clock_monotonic();
		int wait_ms;

		while (active < cap && next < ntargets && now < deadline) {
			int fd = connect_start(scan, &targets[next]);

			if (fd >= 0) {
				slots[active].fd = fd;
				slots[active].target = next;
				slots[active].started = now;
				active++;
			}
			next++;
		}
		if (active == 0)
			break;
		wait_ms = 50;
		for (int i = 0; i < active; i++) {
			pfd[i].fd = slots[i].fd;
			pfd[i].events = POLLOUT;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)active, wait_ms) < 0 && errno != EINTR)
			break;
		now = clock_monotonic();
		for (int i = 0; i < active; i++) {
			int done = 0;

			if (pfd[i].revents & (POLLOUT | POLLERR | POLLHUP)) {
				int soerr = 0;
				socklen_t len = sizeof(soerr);

				if (getsockopt(slots[i].fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 &&
				    soerr == 0)
					targets[slots[i].target].open = 1;
				done = 1;
			} else if ((now - slots[i].started) * 1000 >= scan->dial_ms || now >= deadline) {
				done = 1;
			}
			if (done) {
				close(slots[i].fd);
				slots[i] = slots[--active];
				pfd[i] = pfd[active];
				i--;
			}
		}
	}
	for (int i = 0; i < active; i++)
		close(slots[i].fd);
	free(slots);
	free(pfd);
	return ntargets - next;
}

/* --- phase 2: the Proxmox probe ----------------------------------------------------------- */

struct probe {
	const struct discover_scan *scan;
	const struct target *t;
	struct json_object *servers;
};

static void
ip_text(uint32_t addr, char out[INET_ADDRSTRLEN])
{
	struct in_addr in = {htonl(addr)};

	inet_ntop(AF_INET, &in, out, INET_ADDRSTRLEN);
}

/* The address's name by reverse DNS, or "" (§5.3 enable_reverse_dns). */
static void
reverse_name(uint32_t addr, char *out, size_t outlen)
{
	struct sockaddr_in sa = {0};

	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(addr);
	if (getnameinfo((struct sockaddr *)&sa, sizeof(sa), out, (socklen_t)outlen, NULL, 0,
	    NI_NAMEREQD) != 0)
		out[0] = '\0';
}

static void
probe_done(struct http_request *req, void *arg)
{
	struct probe *p = arg;
	const char *version = NULL;
	struct json_object *doc = NULL, *data, *v, *o;
	char ip[INET_ADDRSTRLEN], name[256], perr[96];
	int proxmox = 0;

	if (req->failure == HTTP_OK && req->status == 401) {
		proxmox = 1;		/* an API that wants credentials */
	} else if (req->failure == HTTP_OK && req->status == 200 &&
	    (doc = jsonutil_parse(req->response.data ? req->response.data : "", req->response.len,
	    perr, sizeof(perr))) != NULL && json_object_object_get_ex(doc, "data", &data) &&
	    json_object_object_get_ex(data, "version", &v) && json_object_is_type(v, json_type_string)) {
		proxmox = 1;
		version = json_object_get_string(v);
	}
	if (proxmox) {
		ip_text(p->t->addr, ip);
		reverse_name(p->t->addr, name, sizeof(name));
		o = json_object_new_object();
		json_object_object_add(o, "ip", json_object_new_string(ip));
		json_object_object_add(o, "port", json_object_new_int(p->scan->ports[p->t->port].port));
		json_object_object_add(o, "type", json_object_new_string(p->scan->ports[p->t->port].type));
		json_object_object_add(o, "version", json_object_new_string(version ? version : "Unknown"));
		json_object_object_add(o, "hostname", json_object_new_string(name));
		json_object_array_add(p->servers, o);
	}
	json_object_put(doc);
	http_request_free(req);
}

static int
by_ip_port(const void *a, const void *b)
{
	struct json_object *x = *(struct json_object *const *)a, *y = *(struct json_object *const *)b;
	struct json_object *v;
	struct in_addr ix = {0}, iy = {0};
	int px = 0, py = 0;

	if (json_object_object_get_ex(x, "ip", &v))
		inet_pton(AF_INET, json_object_get_string(v), &ix);
	if (json_object_object_get_ex(y, "ip", &v))
		inet_pton(AF_INET, json_object_get_string(v), &iy);
	if (ntohl(ix.s_addr) != ntohl(iy.s_addr))
		return ntohl(ix.s_addr) < ntohl(iy.s_addr) ? -1 : 1;
	if (json_object_object_get_ex(x, "port", &v))
		px = json_object_get_int(v);
	if (json_object_object_get_ex(y, "port", &v))
		py = json_object_get_int(v);
	return px - py;
}

struct json_object *
discover_run(const struct discover_scan *scan)
{
	struct json_object *out = json_object_new_object(), *servers = json_object_new_array(),
	    *errors = json_object_new_array();
	size_t ntargets = (size_t)scan->count * (size_t)scan->nports, nopen = 0, skipped;
	struct target *targets = xcalloc(ntargets ? ntargets : 1, sizeof(*targets));
	struct probe *probes;
	double deadline = clock_monotonic() + scan->deadline_ms / 1000.0;
	struct http_multi *m;

	for (uint32_t i = 0; i < scan->count; i++)
		for (int j = 0; j < scan->nports; j++) {
			targets[(size_t)i * (size_t)scan->nports + (size_t)j].addr = scan->first + i;
			targets[(size_t)i * (size_t)scan->nports + (size_t)j].port = j;
		}
	skipped = sweep(scan, targets, ntargets, deadline);
	if (skipped > 0) {
		char msg[128];

		snprintf(msg, sizeof(msg), "scan deadline reached: %zu address and port pairs not "
		    "probed", skipped);
		json_object_array_add(errors, json_object_new_string(msg));
	}

	probes = xcalloc(ntargets ? ntargets : 1, sizeof(*probes));
	m = http_multi_new(scan->concurrency, scan->concurrency);
	for (size_t i = 0; i < ntargets; i++) {
		struct http_request *req;
		char ip[INET_ADDRSTRLEN], *url;

		if (!targets[i].open)
			continue;
		nopen++;
		ip_text(targets[i].addr, ip);
		url = xasprintf("https://%s:%d/api2/json/version", ip, scan->ports[targets[i].port].port);
		req = http_request_new(url);
		free(url);
		req->tls = HTTP_TLS_INSECURE;
		req->timeout_ms = scan->http_ms;
		req->connect_timeout_ms = scan->dial_ms;
		req->max_response = 64 * 1024;
		probes[i].scan = scan;
		probes[i].t = &targets[i];
		probes[i].servers = servers;
		req->done = probe_done;
		req->arg = &probes[i];
		http_multi_add(m, req);
	}
	while (nopen > 0 && http_multi_run(m, NULL, NULL, 0, 100) > 0)
		;
	http_multi_free(m);
	json_object_array_sort(servers, by_ip_port);
	json_object_object_add(out, "servers", servers);
	json_object_object_add(out, "errors", errors);
	free(probes);
	free(targets);
	return out;
}

/* --- the stored result ------------------------------------------------------------------- */

static const struct db_stmt stmt_store = {
	"discover_store",
	"INSERT INTO pulse.discovery_result (id, result, subnet, updated_at) "
	"VALUES (true, $1::jsonb, $2, now()) ON CONFLICT (id) DO UPDATE "
	"SET result = EXCLUDED.result, subnet = EXCLUDED.subnet, updated_at = now()",
	2,
};

int
discover_store(struct db *db, const char *subnet, struct json_object *result)
{
	const char *params[2] = {jsonutil_to_string(result, NULL), subnet};

	return db_exec_stmt_ok(db, &stmt_store, params);
}

static const struct db_stmt stmt_load = {
	"discover_load",
	"SELECT result::text, subnet, extract(epoch FROM updated_at)::bigint "
	"FROM pulse.discovery_result",
	0,
};

struct json_object *
discover_load(struct db *db)
{
	PGresult *res = db_exec_stmt(db, &stmt_load, NULL);
	struct json_object *out = NULL, *v;
	char perr[96];

	if (res == NULL)
		return NULL;
	if (PQntuples(res) == 1)
		out = jsonutil_parse(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), perr,
		    sizeof(perr));
	if (out == NULL || !json_object_is_type(out, json_type_object)) {
		json_object_put(out);
		out = json_object_new_object();
	}
	if (!json_object_object_get_ex(out, "servers", &v))
		json_object_object_add(out, "servers", json_object_new_array());
	if (!json_object_object_get_ex(out, "errors", &v))
		json_object_object_add(out, "errors", json_object_new_array());
	json_object_object_add(out, "subnet", json_object_new_string(PQntuples(res) == 1 ?
	    PQgetvalue(res, 0, 1) : ""));
	json_object_object_add(out, "updated", json_object_new_int64(PQntuples(res) == 1 ?
	    strtoll(PQgetvalue(res, 0, 2), NULL, 10) : 0));
	json_object_object_add(out, "scanning", json_object_new_boolean(0));
	PQclear(res);
	return out;
}
