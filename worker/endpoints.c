/* endpoints.c: the endpoints of a PVE cluster instance and their health (state-proxmox.md
 * §2.2). A cluster is reached through its configured host or any of its members; the poller
 * stays on one that answers (the configured host first), moves to the next when it stops
 * answering, probes the others now and then, and reports healthy (all answer), degraded
 * (some) or error (none). The health is written to
 * pulse.endpoint_health for the node configuration API. */
#include "config.h"

#include "jsonread.h"
#include "jsonutil.h"
#include "log.h"
#include "netaddr.h"
#include "poller.h"
#include "uri.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether a host looks reachable by others: an address, or a name with a dot. */
static int
addressable(const char *host)
{
	struct ipaddr ip;

	return strchr(host, '.') != NULL || ip_parse(host, &ip) == 0;
}

/* Adds an endpoint; untrusted (why it is, or NULL) ones are listed unreachable and never
 * contacted. */
static void
add(struct pve_endpoints *e, const char *url, const char *node, const char *pin,
    const char *untrusted)
{
	struct pve_endpoint *ep;

	for (int i = 0; i < e->n; i++) {
		if (strcmp(e->ep[i].url, url) == 0) {
			/* The configured host is one of the members: name it, but keep the
			 * instance's own TLS settings for it (a fingerprint the operator set
			 * wins over one seen when the members were checked). */
			if (e->ep[i].node[0] == '\0')
				snprintf(e->ep[i].node, sizeof(e->ep[i].node), "%s", node);
			return;
		}
	}
	if (e->n == PVE_MAX_ENDPOINTS)
		return;
	ep = &e->ep[e->n++];
	memset(ep, 0, sizeof(*ep));
	snprintf(ep->url, sizeof(ep->url), "%s", url);
	snprintf(ep->node, sizeof(ep->node), "%s", node);
	snprintf(ep->pin, sizeof(ep->pin), "%s", pin ? pin : "");
	ep->untrusted = untrusted != NULL;
	ep->healthy = untrusted == NULL;
	snprintf(ep->error, sizeof(ep->error), "%s", untrusted ? untrusted : "");
}

void
pve_endpoints_sync(struct pve_endpoints *e, const struct instance_cfg *cfg)
{
	char key[sizeof(e->key)], err[64], port[8], bare_host[256];
	struct json_object *list;
	int usable = 0;
	size_t n;

	snprintf(key, sizeof(key), "%s|%s|%d|%d|%s", cfg->host, cfg->fingerprint, cfg->verify_ssl,
	    cfg->is_cluster, cfg->cluster_endpoints ? cfg->cluster_endpoints : "");
	if (e->n > 0 && strcmp(key, e->key) == 0)
		return;
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->n = 0;
	e->current = 0;
	e->dirty = 1;
	e->gen++;
	/* The configured host first: the operator chose it, and it answered when the instance
	 * was added. The members are the alternatives. */
	add(e, cfg->host, "", "", NULL);
	(void)uri_split_host_port(cfg->host, "8006", bare_host, sizeof(bare_host), port, sizeof(port));
	list = cfg->is_cluster && cfg->cluster_endpoints ?
	    jsonutil_parse(cfg->cluster_endpoints, strlen(cfg->cluster_endpoints), err, sizeof(err)) : NULL;
	n = list && json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(list, i);
		const char *host = jsonread_string(o, "host", ""), *ip = jsonread_string(o, "ipOverride", "");
		char url[300], name[256];

		if (*ip == '\0')
			ip = jsonread_string(o, "ip", "");
		/* Verified TLS needs the name the certificate carries; otherwise the address. */
		if (cfg->verify_ssl && cfg->fingerprint[0] == '\0' && *host) {
			snprintf(url, sizeof(url), "%s", host);
			snprintf(name, sizeof(name), "%s", host);
		} else if (*ip) {
			snprintf(url, sizeof(url), strchr(ip, ':') ? "https://[%s]:%s" : "https://%s:%s", ip, port);
			snprintf(name, sizeof(name), "%s", ip);
		} else if (*host) {
			snprintf(url, sizeof(url), "%s", host);
			snprintf(name, sizeof(name), "%s", host);
		} else {
			continue;
		}
		{
			/* The host decides whether others can reach it: the address itself, or the
			 * host part of the member's URL. */
			char bare[256], p[8];
			if (strcmp(name, ip) == 0)
				snprintf(bare, sizeof(bare), "%s", ip);
			else
				(void)uri_split_host_port(name, port, bare, sizeof(bare), p, sizeof(p));
			usable |= addressable(bare);
		}
		{
			/* A pinned instance trusts only pins its primary told (M4): older lists
			 * hold fingerprints seen on first contact. */
			const char *pin = jsonread_string(o, "fingerprint", "");
			int from_primary = strcmp(jsonread_string(o, "fingerprintSource", ""), "primary") == 0;
			char norm[65];

			if (jsonread_int(o, "unconfirmed", 0))
				add(e, url, jsonread_string(o, "nodeName", ""), "", "member added from another node's "
				    "configuration: not contacted until refresh-cluster");
			else if (cfg->fingerprint[0] && (!from_primary ||
			    http_normalize_fingerprint(pin, norm) != 0))
				add(e, url, jsonread_string(o, "nodeName", ""), "",
				    "certificate fingerprint unknown: not contacted");
			else
				add(e, url, jsonread_string(o, "nodeName", ""), pin, NULL);
		}
	}
	if (list)
		json_object_put(list);
	/* Only names no one else can resolve: the configured host alone. */
	if (!usable) {
		e->n = 1;
		e->ep[0].node[0] = '\0';
	}
}

int
pve_endpoints_pick(struct pve_endpoints *e, double now)
{
	int best = -1;

	if (e->n == 0)
		return -1;
	if (e->current < e->n && e->ep[e->current].healthy && !e->ep[e->current].untrusted)
		return e->current;
	for (int k = 1; k <= e->n; k++) {
		int i = (e->current + k) % e->n;
		if (e->ep[i].healthy && !e->ep[i].untrusted) {
			e->current = i;
			return i;
		}
	}
	/* None known to answer: the one tried longest ago. */
	for (int i = 0; i < e->n; i++)
		if (!e->ep[i].untrusted && (best < 0 || e->ep[i].last_check < e->ep[best].last_check))
			best = i;
	(void)now;
	e->current = best;
	return best;
}

void
pve_endpoints_apply(const struct pve_endpoints *e, int i, const struct instance_cfg *cfg,
    struct proxmox_conn *conn)
{
	const struct pve_endpoint *ep = &e->ep[i];

	snprintf(conn->base, sizeof(conn->base), "%s/api2/json", ep->url);
	if (cfg->fingerprint[0]) {
		/* Pinned: the member's pin from the primary (sync kept no other), else the
		 * instance's; an untrusted member is never picked. */
		conn->tls = HTTP_TLS_PIN;
		if (ep->pin[0] == '\0' || http_normalize_fingerprint(ep->pin, conn->pin) != 0)
			snprintf(conn->pin, sizeof(conn->pin), "%s", cfg->fingerprint);
	} else if (cfg->verify_ssl) {
		/* Verified: a stored fingerprint never replaces the CA and name check. */
		conn->tls = HTTP_TLS_VERIFY;
	} else if (ep->pin[0] && http_normalize_fingerprint(ep->pin, conn->pin) == 0) {
		conn->tls = HTTP_TLS_PIN;
	} else {
		conn->tls = HTTP_TLS_INSECURE;
	}
}

void
pve_endpoints_probe_conn(const struct pve_endpoints *e, int i, const struct instance_cfg *cfg,
    const struct proxmox_conn *from, struct proxmox_conn *probe)
{
	memset(probe, 0, sizeof(*probe));
	probe->product = from->product;
	probe->timeout_ms = from->timeout_ms;
	pve_endpoints_apply(e, i, cfg, probe);
}

void
pve_endpoints_mark(struct pve_endpoints *e, int i, int healthy, const char *error, double now)
{
	struct pve_endpoint *ep;

	if (i < 0 || i >= e->n)
		return;
	ep = &e->ep[i];
	if (ep->healthy != healthy || strcmp(ep->error, error ? error : "") != 0)
		e->dirty = 1;
	if (ep->healthy && !healthy)
		log_warn("msg=\"cluster endpoint not answering\" url=\"%s\" error=\"%s\"", ep->url,
		    error ? error : "");
	else if (!ep->healthy && healthy)
		log_info("msg=\"cluster endpoint answering again\" url=\"%s\"", ep->url);
	ep->healthy = healthy;
	ep->last_check = now;
	snprintf(ep->error, sizeof(ep->error), "%s", healthy || !error ? "" : error);
}

const char *
pve_endpoints_health(const struct pve_endpoints *e)
{
	int up = 0;

	for (int i = 0; i < e->n; i++)
		up += e->ep[i].healthy;
	return up == e->n ? "healthy" : up > 0 ? "degraded" : "error";
}

int
pve_endpoint_failure(const struct http_request *req)
{
	if (req->status == 0)
		return req->failure != HTTP_OK;
	/* Gateways and overload: the member (or the proxy in front of it) is in trouble.
	 * 501 and 595 are answers of a working server. */
	return req->status == 502 || req->status == 503 || req->status == 504;
}

static const char *const endpoint_sql[] = {
	"DELETE FROM pulse.endpoint_health WHERE instance_id = $1",
	"INSERT INTO pulse.endpoint_health (instance_id, url, node_name, reachable, last_check, error) "
	"SELECT $1, u, n, r, CASE WHEN c > 0 THEN to_timestamp(c) END, e "
	"FROM unnest($2::text[], $3::text[], $4::boolean[], $5::float8[], $6::text[]) AS t(u, n, r, c, e)",
};

static void
array_text(struct strbuf *sb, const char *const *v, int n)
{
	sb_puts(sb, "{");
	for (int i = 0; i < n; i++) {
		sb_puts(sb, i ? ",\"" : "\"");
		for (const char *c = v[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				sb_append(sb, "\\", 1);
			sb_append(sb, c, 1);
		}
		sb_puts(sb, "\"");
	}
	sb_puts(sb, "}");
}

int
pve_endpoints_write(struct db *db, const char *instance_id, struct pve_endpoints *e)
{
	const char *urls[PVE_MAX_ENDPOINTS], *nodes[PVE_MAX_ENDPOINTS], *errs[PVE_MAX_ENDPOINTS];
	const char *oks[PVE_MAX_ENDPOINTS], *checks[PVE_MAX_ENDPOINTS];
	char checkbuf[PVE_MAX_ENDPOINTS][32];
	struct strbuf a[5] = {{0}};
	const char *params[6];
	PGresult *res;
	int rc = -1;

	for (int i = 0; i < e->n; i++) {
		urls[i] = e->ep[i].url;
		nodes[i] = e->ep[i].node;
		errs[i] = e->ep[i].error;
		oks[i] = e->ep[i].healthy ? "t" : "f";
		snprintf(checkbuf[i], sizeof(checkbuf[i]), "%.3f", e->ep[i].last_check);
		checks[i] = checkbuf[i];
	}
	array_text(&a[0], urls, e->n);
	array_text(&a[1], nodes, e->n);
	array_text(&a[2], oks, e->n);
	array_text(&a[3], checks, e->n);
	array_text(&a[4], errs, e->n);
	params[0] = instance_id;
	for (int i = 0; i < 5; i++)
		params[i + 1] = a[i].data;
	if (db_begin(db) == 0) {
		res = db_exec_params(db, endpoint_sql[0], 1, params);
		if (res) {
			PQclear(res);
			res = db_exec_params(db, endpoint_sql[1], 6, params);
			if (res) {
				PQclear(res);
				rc = db_commit(db);
			}
		}
		if (rc != 0)
			db_rollback(db);
	}
	for (int i = 0; i < 5; i++)
		sb_free(&a[i]);
	if (rc == 0)
		e->dirty = 0;
	return rc;
}
