/* pve_cluster.c: a PVE cluster's members, from its /cluster/status, checked and pinned before
 * they become endpoints (state-proxmox.md §2.3). */
#include "config.h"

#include "pve_cluster.h"
#include "http.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "log.h"
#include "netaddr.h"
#include "timefmt.h"
#include "uri.h"
#include "util.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
pve_cluster_status_parse(struct json_object *data, struct pve_cluster_status *out)
{
	int n = jsonread_array_len(data);

	memset(out, 0, sizeof(*out));
	out->name = "";
	if (!json_object_is_type(data, json_type_array))
		return -1;
	for (int i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(data, i);
		const char *type = jsonread_string(e, "type", "");

		if (strcmp(type, "cluster") == 0) {
			out->has_cluster_entry = 1;
			out->name = jsonread_string(e, "name", "");
		} else if (strcmp(type, "node") == 0) {
			out->nodes++;
			/* A real cluster has far fewer; a hostile server must not cause
			 * thousands of probes. */
			if (out->nmembers < PVE_CLUSTER_MAX_MEMBERS) {
				struct pve_cluster_member *m = &out->member[out->nmembers++];
				m->id = jsonread_string(e, "id", "");
				m->name = jsonread_string(e, "name", "");
				m->ip = jsonread_string(e, "ip", "");
				m->online = jsonread_int(e, "online", 0) != 0;
				m->nodeid = (int)jsonread_int(e, "nodeid", 0);
				m->local = jsonread_int(e, "local", 0) != 0;
			}
		}
	}
	return 0;
}

int
pve_cluster_status_is_cluster(const struct pve_cluster_status *s)
{
	return s->nodes > 1;
}

/* --- management network (§2.3 step 5) --- */

/* The address the instance is reached at: its host when an address, else resolved. */
static int
connect_address(const char *base, struct ipaddr *out)
{
	char host[256], port[8];
	struct addrinfo hints, *res = NULL;
	int rc = -1;

	if (uri_split_host_port(base, "8006", host, sizeof(host), port, sizeof(port)) != 0)
		return -1;
	if (ip_parse(host, out) == 0)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) == 0 && res) {
		char buf[64];
		if (getnameinfo(res->ai_addr, res->ai_addrlen, buf, sizeof(buf), NULL, 0, NI_NUMERICHOST) == 0)
			rc = ip_parse(buf, out);
		freeaddrinfo(res);
	}
	return rc;
}

/* Whether b is near a: the same /24, /20 or /16 (IPv6: /64 or /48). */
static int
same_network(const struct ipaddr *a, const struct ipaddr *b)
{
	static const int v4[] = {24, 20, 16}, v6[] = {64, 48};
	const int *p = a->v6 ? v6 : v4;
	int n = a->v6 ? 2 : 3;

	for (int i = 0; i < n; i++) {
		struct cidr r = {.base = *a, .prefix = p[i]};
		if (cidr_contains(&r, b))
			return 1;
	}
	return 0;
}

/* A member whose cluster address is far from the address Pulse reaches the cluster at (a
 * separate corosync network): its first active interface address near that one, from
 * GET /nodes/{name}/network, becomes its IP override. */
static void
prefer_management_addresses(struct proxmox_conn *c, struct json_object *members)
{
	struct ipaddr here;
	size_t n = json_object_array_length(members);

	if (connect_address(c->base, &here) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(members, i), *net;
		const char *name = jsonread_string(e, "nodeName", "");
		struct ipaddr ip;
		char err[128], path[300], *en;

		if (*jsonread_string(e, "ipOverride", "") || ip_parse(jsonread_string(e, "ip", ""), &ip) != 0 ||
		    same_network(&here, &ip) || *name == '\0')
			continue;
		en = http_escape(name);
		snprintf(path, sizeof(path), "/nodes/%s/network", en);
		free(en);
		net = proxmox_get(c, path, 2000, err, sizeof(err), NULL);
		if (net == NULL)
			continue;
		for (size_t k = 0; json_object_is_type(net, json_type_array) &&
		    k < json_object_array_length(net); k++) {
			struct json_object *ifc = json_object_array_get_idx(net, k);
			const char *addr = jsonread_string(ifc, here.v6 ? "address6" : "address", "");
			struct ipaddr a;
			if (jsonread_int(ifc, "active", 0) != 1 || ip_parse(addr, &a) != 0 || !same_network(&here, &a))
				continue;
			json_object_object_add(e, "ipOverride", json_object_new_string(addr));
			break;
		}
		json_object_put(net);
	}
}

/* --- member validation (§2.3 step 4) --- */

struct member_probe {
	struct http_request *req;	/* the probe, or NULL when the member is not contacted */
	int done;
	char pin[65];			/* its certificate as the primary knows it, or "" */
};

static void
member_probe_done(struct http_request *req, void *arg)
{
	(void)req;
	((struct member_probe *)arg)->done = 1;
}

/* A completion callback that leaves the request to its owner. */
static void
keep_request(struct http_request *req, void *arg)
{
	(void)req;
	(void)arg;
}

/* The port of a connection's base URL (8006 when it names none). */
static void
base_port(const char *base, char *port, size_t len)
{
	char host[256];

	(void)uri_split_host_port(base, "8006", host, sizeof(host), port, len);
}

/* The member of a previous endpoint list with this node name, or NULL. */
static struct json_object *
previous_member(struct json_object *prev, const char *node)
{
	size_t n = prev && json_object_is_type(prev, json_type_array) ? json_object_array_length(prev) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(prev, i);
		if (strcmp(jsonread_string(e, "nodeName", ""), node) == 0)
			return e;
	}
	return NULL;
}

/* The fingerprint of the certificate a node's API presents, from its
 * /nodes/{node}/certificates/info list: the custom one (pveproxy-ssl.pem) when there is one,
 * else the node's own (pve-ssl.pem). Returns 0 with out filled, or -1. */
static int
served_certificate_pin(struct json_object *list, char out[65])
{
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	static const char *const files[] = {"/pveproxy-ssl.pem", "/pve-ssl.pem"};

	for (size_t f = 0; f < ARRAY_LEN(files); f++) {
		for (size_t i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(list, i);
			const char *name = jsonread_string(e, "filename", "");
			size_t len = strlen(name), flen = strlen(files[f]);

			if (len >= flen && strcmp(name + len - flen, files[f]) == 0 &&
			    http_normalize_fingerprint(jsonread_string(e, "fingerprint", ""), out) == 0)
				return 0;
		}
	}
	return -1;
}

/* For a pinned instance: each member's certificate fingerprint, asked of the primary over
 * the pinned, authenticated connection c (never taken from what a member presents: M4).
 * Fills probes[i].pin where the primary tells it. */
static void
learn_member_pins(struct proxmox_conn *c, struct json_object *endpoints, struct member_probe *probes,
    size_t n)
{
	struct http_request **reqs;
	struct http_multi *m;
	char err[200];

	if (proxmox_login(c, 5000, err, sizeof(err)) != 0) {
		log_warn("msg=\"member certificates not learned\" error=\"%s\"", err);
		return;
	}
	reqs = xcalloc(n > 0 ? n : 1, sizeof(*reqs));
	m = http_multi_new(4, 16);
	for (size_t i = 0; i < n; i++) {
		const char *name = jsonread_string(json_object_array_get_idx(endpoints, i), "nodeName", "");
		char path[300], *en;

		if (*name == '\0')
			continue;
		en = http_escape(name);
		snprintf(path, sizeof(path), "/nodes/%s/certificates/info", en);
		free(en);
		reqs[i] = proxmox_request(c, path);
		reqs[i]->timeout_ms = 5000;
		reqs[i]->connect_timeout_ms = 2000;
		reqs[i]->done = keep_request;
		http_multi_add(m, reqs[i]);
	}
	while (http_multi_run(m, NULL, NULL, 0, 100) > 0)
		;
	for (size_t i = 0; i < n; i++) {
		struct json_object *data;
		int rc;

		if (reqs[i] == NULL)
			continue;
		data = proxmox_response_data(reqs[i], &rc, err, sizeof(err));
		if (data == NULL || served_certificate_pin(data, probes[i].pin) != 0)
			log_info("msg=\"cluster member certificate unknown: it will not be contacted\" "
			    "member=\"%.64s\" error=\"%s\"",
			    jsonread_string(json_object_array_get_idx(endpoints, i), "nodeName", ""),
			    data == NULL ? err : "no certificate fingerprint in the answer");
		if (data)
			json_object_put(data);
		http_request_free(reqs[i]);
	}
	free(reqs);
	http_multi_free(m);
}

/* Records a member's certificate pin in its endpoint object: learned from the primary, or
 * none. */
static void
set_member_pin(struct json_object *ep, const char *pin)
{
	json_object_object_add(ep, "fingerprint", json_object_new_string(pin));
	if (*pin)
		json_object_object_add(ep, "fingerprintSource", json_object_new_string("primary"));
	else
		json_object_object_del(ep, "fingerprintSource");
}

/* Checks which members' APIs are there: an unauthenticated GET /version of each (2 s, all
 * at once), counting 401/403 as an answer. No credential ever goes to a member here (M4).
 * TLS follows the instance: verified stays verified (members by name); pinned is pinned
 * with each member's fingerprint as the primary knows it (learn_member_pins), and a member
 * whose fingerprint is unknown is not contacted but listed unverified, without a pin; only
 * an instance set to no verification probes without it. The members that answer, and
 * those listed unverified, become the endpoints; when none answers all stay, unvalidated.
 * IP overrides and guest URLs of a previous list are kept. */
static void
validate_members(struct proxmox_conn *c, struct json_object **endpoints, const char *previous)
{
	size_t n = json_object_array_length(*endpoints);
	struct member_probe *probes = xcalloc(n > 0 ? n : 1, sizeof(*probes));
	struct http_multi *m = http_multi_new(4, 64);
	struct json_object *valid = json_object_new_array(), *prev = NULL;
	int verify = c->tls == HTTP_TLS_VERIFY, pinned = c->tls == HTTP_TLS_PIN, nvalid = 0;
	char port[16], err[64], now[40];

	base_port(c->base, port, sizeof(port));
	if (previous && *previous)
		prev = jsonutil_parse(previous, strlen(previous), err, sizeof(err));
	/* An override the operator kept wins; otherwise a management address is looked for. */
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(*endpoints, i);
		struct json_object *old = previous_member(prev, jsonread_string(e, "nodeName", ""));
		if (*jsonread_string(old, "ipOverride", ""))
			json_object_object_add(e, "ipOverride", json_object_new_string(jsonread_string(old, "ipOverride", "")));
	}
	prefer_management_addresses(c, *endpoints);
	if (pinned)
		learn_member_pins(c, *endpoints, probes, n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(*endpoints, i);
		const char *ip = jsonread_string(e, "ipOverride", ""), *name = jsonread_string(e, "nodeName", "");
		struct http_request *req;
		char url[600];
		const char *h;

		if (pinned && probes[i].pin[0] == '\0')
			continue;
		if (*ip == '\0')
			ip = jsonread_string(e, "ip", "");
		h = verify || *ip == '\0' ? name : ip;
		snprintf(url, sizeof(url), strchr(h, ':') ? "https://[%s]:%s/api2/json/version" :
		    "https://%s:%s/api2/json/version", h, port);
		req = http_request_new(url);
		req->tls = c->tls;
		memcpy(req->pin, probes[i].pin, sizeof(req->pin));
		req->timeout_ms = 2000;
		req->connect_timeout_ms = 2000;
		req->max_response = 64 * 1024;
		req->done = member_probe_done;
		req->arg = &probes[i];
		probes[i].req = req;
		http_multi_add(m, req);
	}
	while (http_multi_run(m, NULL, NULL, 0, 100) > 0)
		;
	timefmt_rfc3339(clock_wall(), now, sizeof(now));
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(*endpoints, i), *ep, *old;
		long st = probes[i].req ? probes[i].req->status : 0;
		int answered = probes[i].done && ((st >= 200 && st < 300) || st == 401 || st == 403);
		const char *name = jsonread_string(e, "nodeName", "");
		char host[300];

		if (!answered && !(pinned && probes[i].pin[0] == '\0'))
			continue;
		ep = json_object_new_object();
		snprintf(host, sizeof(host), "https://%s:%s", name, port);
		json_object_object_add(ep, "nodeId", json_object_new_string(jsonread_string(e, "nodeId", "")));
		json_object_object_add(ep, "nodeName", json_object_new_string(name));
		json_object_object_add(ep, "host", json_object_new_string(host));
		json_object_object_add(ep, "ip", json_object_new_string(jsonread_string(e, "ip", "")));
		old = previous_member(prev, name);
		json_object_object_add(ep, "ipOverride", json_object_new_string(*jsonread_string(old, "ipOverride", "") ?
		    jsonread_string(old, "ipOverride", "") : jsonread_string(e, "ipOverride", "")));
		json_object_object_add(ep, "guestURL", json_object_new_string(jsonread_string(old, "guestURL", "")));
		set_member_pin(ep, probes[i].pin);
		json_object_object_add(ep, "online", json_object_new_int(jsonread_int(e, "online", 0) != 0));
		json_object_object_add(ep, "lastSeen", json_object_new_string(now));
		json_object_array_add(valid, ep);
		nvalid += answered;
	}
	for (size_t i = 0; i < n; i++)
		http_request_free(probes[i].req);
	http_multi_free(m);
	if (nvalid > 0) {
		json_object_put(*endpoints);
		*endpoints = valid;
	} else {
		/* Nobody answered: keep them all, unvalidated, with what a previous list knew. */
		for (size_t i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(*endpoints, i);
			struct json_object *old = previous_member(prev, jsonread_string(e, "nodeName", ""));
			if (*jsonread_string(old, "ipOverride", ""))
				json_object_object_add(e, "ipOverride", json_object_new_string(jsonread_string(old, "ipOverride", "")));
			else if (!json_object_object_get_ex(e, "ipOverride", NULL))
				json_object_object_add(e, "ipOverride", json_object_new_string(""));
			json_object_object_add(e, "guestURL", json_object_new_string(jsonread_string(old, "guestURL", "")));
			set_member_pin(e, probes[i].pin);
		}
		json_object_put(valid);
	}
	free(probes);
	if (prev)
		json_object_put(prev);
}

/* The members of a cluster as endpoints, not yet validated: reached at their cluster
 * address, else their name, on the port of the connection. */
static struct json_object *
member_endpoints(const struct pve_cluster_status *st, const char *base)
{
	struct json_object *list = json_object_new_array();
	char port[8];

	base_port(base, port, sizeof(port));

	for (int i = 0; i < st->nmembers; i++) {
		const struct pve_cluster_member *m = &st->member[i];
		struct json_object *ep = json_object_new_object();
		char host[300];

		snprintf(host, sizeof(host), "https://%s:%s", *m->ip ? m->ip : m->name, port);
		json_object_object_add(ep, "nodeId", json_object_new_string(m->id));
		json_object_object_add(ep, "nodeName", json_object_new_string(m->name));
		json_object_object_add(ep, "host", json_object_new_string(host));
		json_object_object_add(ep, "ip", json_object_new_string(m->ip));
		json_object_object_add(ep, "online", json_object_new_int(m->online));
		json_object_array_add(list, ep);
	}
	return list;
}

void
pve_cluster_detect(struct proxmox_conn *c, int validate, const char *previous, struct pve_cluster *out)
{
	char err[200];
	struct json_object *data = proxmox_get(c, "/cluster/status", 5000, err, sizeof(err), NULL);
	struct pve_cluster_status status, *st = &status;

	memset(out, 0, sizeof(*out));
	if (data == NULL || pve_cluster_status_parse(data, st) != 0 || !pve_cluster_status_is_cluster(st)) {
		out->endpoints = json_object_new_array();
		goto done;
	}
	if (st->nodes > st->nmembers)
		log_warn("msg=\"cluster lists more members than are read: the rest are "
		    "ignored\" limit=%d", PVE_CLUSTER_MAX_MEMBERS);
	out->is_cluster = 1;
	snprintf(out->name, sizeof(out->name), "%s", *st->name ? st->name : "Unknown Cluster");
	out->endpoints = member_endpoints(st, c->base);
	if (validate)
		validate_members(c, &out->endpoints, previous);
done:
	if (data)
		json_object_put(data);
}
