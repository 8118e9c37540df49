/* proxmox.h: the API client of Proxmox VE, Backup Server and Mail Gateway: host
 * normalisation, ticket and token authentication, requests, and the {"data": ...} envelope of
 * the answers. The parsers of what the answers hold are per product: pve.h, pbs.h, pmg.h. */
#ifndef PULSE_PROXMOX_H
#define PULSE_PROXMOX_H

#include <json-c/json.h>
#include <stddef.h>

#include "http.h"

enum proxmox_product { PROXMOX_PRODUCT_PVE, PROXMOX_PRODUCT_PBS, PROXMOX_PRODUCT_PMG };

/* A connection to one server: where, how to authenticate, how to trust it. */
struct proxmox_conn {
	enum proxmox_product product;
	char base[512];			/* https://host:port/api2/json */
	char user[160];			/* user@realm (password auth) */
	char *password;			/* owned, scrubbed on free */
	char token_id[256];		/* user@realm!tokenid (token auth) */
	char *token_secret;		/* owned, scrubbed on free */
	enum http_tls_mode tls;
	char pin[65];
	long timeout_ms;
	/* ticket authentication state */
	char *ticket;
	char *csrf;
	double ticket_at;		/* wall time it was issued */
};

void proxmox_conn_clear(struct proxmox_conn *c);

/* Normalises a host as the original does: https:// by default, port 8006 (PVE, PMG) or 8007
 * (PBS) when none, path and query dropped, IPv6 bracketed. Writes "https://host:port" into
 * out. Returns 0, or -1 with a message for an unusable host. */
int proxmox_normalize_host(const char *host, enum proxmox_product product, char *out, size_t outlen,
    char *err, size_t errlen);

/* Whether password authentication needs a (new) ticket before the next request: none yet,
 * or older than 100 minutes (tickets last two hours). */
int proxmox_needs_ticket(const struct proxmox_conn *c);
/* The POST /access/ticket request (form-encoded credentials). */
struct http_request *proxmox_ticket_request(const struct proxmox_conn *c);
/* Takes the ticket and CSRF token from a ticket answer; values with characters a header
 * cannot carry (control characters, space, ';') are refused. Returns 0 or -1 with a
 * message. */
int proxmox_ticket_accept(struct proxmox_conn *c, struct http_request *req, char *err, size_t errlen);

/* A request for path (below /api2/json, starting with '/') with the authentication and TLS
 * settings of c, reading at most HTTP_MAX_RESPONSE bytes, or HTTP_MAX_RESPONSE_LARGE for the
 * answers that grow with the estate (proxmox_path_is_large). A credential that cannot be a
 * header value leaves the request failed and unsendable (http_request_add_header). */
struct http_request *proxmox_request(const struct proxmox_conn *c, const char *path);
int proxmox_path_is_large(const char *path);

/* Parses an answer: status must be 2xx and the body {"data": ...}, within the JSON limits
 * that go with the request's size cap (jsonutil_limits_default for the small answers,
 * jsonutil_limits_upstream for the large ones). Returns the data value
 * (a new reference the caller puts; JSON null gives NULL with rc 0), or sets err and
 * returns NULL with *rc = -1. Error texts never echo credentials. */
struct json_object *proxmox_response_data(struct http_request *req, int *rc, char *err, size_t errlen);
/* The same checks for an answer whose data is a long list: each element is parsed on its
 * own and handed to fn (jsonutil_each_element), so the whole list is never one tree. Returns
 * the number of elements, or -1 with err set when the answer is refused or its data is not
 * a list (proxmox_response_data then says why in its own words). */
long proxmox_response_each(struct http_request *req, void (*fn)(struct json_object *element,
    void *arg), void *arg, char *err, size_t errlen);

/* Blocking use, for the configuration API and cluster discovery: logs in when password
 * authentication needs a ticket (0, or -1 with a message), and GETs path through c (logging
 * in first), returning the data value (a new reference the caller puts; JSON null gives an
 * empty array) or NULL with a message; *latency_ms (when given) is the request's time. Every
 * way of not reaching the server reads "could not connect to scheme://host:port": telling
 * refused, unreachable and silent apart would make the test endpoints a port scanner (L8). */
int proxmox_login(struct proxmox_conn *c, long timeout_ms, char *err, size_t errlen);
struct json_object *proxmox_get(struct proxmox_conn *c, const char *path, long timeout_ms, char *err,
    size_t errlen, double *latency_ms);

/* Whether a failed answer is an authentication failure (401, 403, 595 on auth). */
int proxmox_is_auth_failure(const struct http_request *req);

/* The newest non-null value of key in an rrddata list (every product has them); returns 0
 * and sets *out, or -1. */
int proxmox_rrd_last(struct json_object *data, const char *key, double *out);

#endif
