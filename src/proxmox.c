/* proxmox.c: the API client of Proxmox VE, Backup Server and Mail Gateway: hosts, logins,
 * requests and the {"data": ...} envelope of their answers. */
#include "config.h"

#include "proxmox.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TICKET_REFRESH_S (100 * 60)

void
proxmox_conn_clear(struct proxmox_conn *c)
{
	char **secrets[] = {&c->password, &c->token_secret, &c->ticket, &c->csrf};

	for (size_t i = 0; i < ARRAY_LEN(secrets); i++) {
		if (*secrets[i]) {
			explicit_bzero(*secrets[i], strlen(*secrets[i]));
			free(*secrets[i]);
			*secrets[i] = NULL;
		}
	}
}

int
proxmox_normalize_host(const char *host, enum proxmox_product product, char *out, size_t outlen,
    char *err, size_t errlen)
{
	char scheme[8] = "https", name[256] = "", port[8] = "";
	const char *p = host, *end;
	int64_t portnum;

	while (*p == ' ')
		p++;
	if (strncasecmp(p, "https://", 8) == 0) {
		p += 8;
	} else if (strncasecmp(p, "http://", 7) == 0) {
		snprintf(scheme, sizeof(scheme), "http");
		p += 7;
	} else if (strstr(p, "://")) {
		snprintf(err, errlen, "Invalid host format");
		return -1;
	}
	if (*p == '[') {
		struct in6_addr a6;
		end = strchr(p, ']');
		if (end == NULL || (size_t)(end - p - 1) >= sizeof(name)) {
			snprintf(err, errlen, "Invalid IPv6 address");
			return -1;
		}
		memcpy(name, p + 1, (size_t)(end - p - 1));
		name[end - p - 1] = '\0';
		if (inet_pton(AF_INET6, name, &a6) != 1) {
			snprintf(err, errlen, "Invalid IPv6 address");
			return -1;
		}
		p = end + 1;
	} else {
		size_t n = strcspn(p, ":/?#");
		if (n == 0 || n >= sizeof(name)) {
			snprintf(err, errlen, "Invalid host format");
			return -1;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		for (char *q = name; *q; q++) {
			if (!(isalnum((unsigned char)*q) || *q == '.' || *q == '-' || *q == '_')) {
				snprintf(err, errlen, "Invalid hostname");
				return -1;
			}
		}
		if (isdigit((unsigned char)name[0]) && strspn(name, "0123456789.") == strlen(name)) {
			struct in_addr a4;
			if (inet_pton(AF_INET, name, &a4) != 1) {
				snprintf(err, errlen, "Invalid IP address");
				return -1;
			}
		}
	}
	if (*p == ':') {
		size_t n = strcspn(p + 1, "/?#");
		if (n == 0 || n >= sizeof(port)) {
			snprintf(err, errlen, "Invalid port number");
			return -1;
		}
		memcpy(port, p + 1, n);
		port[n] = '\0';
		if (parse_int64(port, 1, 65535, &portnum) != 0) {
			snprintf(err, errlen, "Invalid port number");
			return -1;
		}
	} else if (*p != '\0' && *p != '/' && *p != '?' && *p != '#') {
		snprintf(err, errlen, "Invalid host format");
		return -1;
	} else {
		snprintf(port, sizeof(port), "%s", product == PROXMOX_PRODUCT_PBS ? "8007" : "8006");
	}
	snprintf(out, outlen, "%s://%s%s%s:%s", scheme, strchr(name, ':') ? "[" : "", name,
	    strchr(name, ':') ? "]" : "", port);
	return 0;
}

int
proxmox_needs_ticket(const struct proxmox_conn *c)
{
	if (c->token_id[0])
		return 0;
	return c->ticket == NULL || clock_wall() - c->ticket_at > TICKET_REFRESH_S;
}

static void
set_tls(struct http_request *req, const struct proxmox_conn *c)
{
	req->tls = c->tls;
	memcpy(req->pin, c->pin, sizeof(req->pin));
	req->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 30000;
}

struct http_request *
proxmox_ticket_request(const struct proxmox_conn *c)
{
	char url[600];
	char *u = http_escape(c->user), *pw = http_escape(c->password ? c->password : "");
	struct http_request *req;

	snprintf(url, sizeof(url), "%s/access/ticket", c->base);
	req = http_request_new(url);
	set_tls(req, c);
	req->method = "POST";
	req->content_type = "application/x-www-form-urlencoded";
	req->body = xasprintf("username=%s&password=%s", u, pw);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	free(u);
	return req;
}

/* Whether a value from a login answer can go into a header as one cookie or token: visible
 * ASCII only (no space, no control character) and no ';' that would start another cookie. */
static int
ticket_value_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == ';')
			return 0;
	return 1;
}

int
proxmox_ticket_accept(struct proxmox_conn *c, struct http_request *req, char *err, size_t errlen)
{
	int rc;
	struct json_object *data = proxmox_response_data(req, &rc, err, errlen);
	const char *ticket, *csrf;

	if (data == NULL) {
		if (rc == 0)
			snprintf(err, errlen, "login answer without data");
		return -1;
	}
	ticket = jsonread_string(data, "ticket", "");
	csrf = jsonread_string(data, "CSRFPreventionToken", "");
	if (*ticket == '\0') {
		json_object_put(data);
		snprintf(err, errlen, "authentication failed: no ticket in the answer");
		return -1;
	}
	if (!ticket_value_ok(ticket) || !ticket_value_ok(csrf)) {
		/* The server is broken or hostile: what it sent must not become a header. */
		json_object_put(data);
		snprintf(err, errlen, "login answer refused: the ticket or CSRF token holds characters "
		    "a header cannot carry");
		return -1;
	}
	free(c->ticket);
	free(c->csrf);
	c->ticket = xstrdup(ticket);
	c->csrf = xstrdup(csrf);
	c->ticket_at = clock_wall();
	json_object_put(data);
	return 0;
}

/* Whether an answer grows with the estate (every guest, every backup): those may take up
 * to HTTP_MAX_RESPONSE_LARGE; everything else is small. path is below /api2/json, with or
 * without a query. */
int
proxmox_path_is_large(const char *path)
{
	static const char *const prefixes[] = {"/cluster/resources", "/cluster/tasks",
	    "/cluster/backup"};
	static const char *const last[] = {"content", "tasks", "qemu", "lxc", "snapshots", "groups",
	    "backup"};
	size_t n = strcspn(path, "?");
	const char *slash;

	for (size_t i = 0; i < ARRAY_LEN(prefixes); i++)
		if (strncmp(path, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	/* The last segment: /nodes/{n}/storage/{s}/content, /nodes/{n}/tasks, a node's guest
	 * lists, a PBS datastore's snapshots and groups. */
	for (slash = path + n; slash > path && slash[-1] != '/'; slash--)
		;
	for (size_t i = 0; i < ARRAY_LEN(last); i++)
		if ((size_t)(path + n - slash) == strlen(last[i]) &&
		    strncmp(slash, last[i], strlen(last[i])) == 0)
			return 1;
	return 0;
}

struct http_request *
proxmox_request(const struct proxmox_conn *c, const char *path)
{
	char url[1024];
	struct http_request *req;
	static const char *const token_scheme[] = {"PVEAPIToken", "PBSAPIToken", "PMGAPIToken"};
	static const char *const cookie[] = {"PVEAuthCookie", "PBSAuthCookie", "PMGAuthCookie"};

	snprintf(url, sizeof(url), "%s%s", c->base, path);
	req = http_request_new(url);
	set_tls(req, c);
	if (proxmox_path_is_large(path))
		req->max_response = HTTP_MAX_RESPONSE_LARGE;
	/* A value with a control character fails the request before it is sent (http.h). */
	if (c->token_id[0]) {
		/* PVE separates token id and secret with '=', PBS and PMG with ':'. */
		http_request_add_header(req, "Authorization: %s=%s%c%s", token_scheme[c->product],
		    c->token_id, c->product == PROXMOX_PRODUCT_PVE ? '=' : ':',
		    c->token_secret ? c->token_secret : "");
	} else if (c->ticket) {
		http_request_add_header(req, "Cookie: %s=%s", cookie[c->product], c->ticket);
		if (c->csrf && *c->csrf)
			http_request_add_header(req, "CSRFPreventionToken: %s", c->csrf);
	}
	return req;
}

int
proxmox_is_auth_failure(const struct http_request *req)
{
	return req->status == 401 || req->status == 403;
}

/* An answer that failed, is not 2xx or is HTML: 1 with the reason in err. */
static int
response_refused(const struct http_request *req, char *err, size_t errlen)
{
	if (req->failure != HTTP_OK || req->status == 0) {
		snprintf(err, errlen, "%s", req->error[0] ? req->error : "no answer");
		return 1;
	}
	if (req->status < 200 || req->status > 299) {
		/* PVE puts a reason in the status line and sometimes in {"errors": ...}: the
		 * status is enough and never echoes what we sent. */
		snprintf(err, errlen, "HTTP %ld%s", req->status,
		    req->status == 401 ? " (authentication failed)" :
		    req->status == 403 ? " (permission denied)" :
		    req->status == 595 ? " (node unreachable)" : "");
		return 1;
	}
	if (req->response.len > 0 && req->response.data[0] == '<') {
		snprintf(err, errlen, "HTML instead of JSON (is this the API port, over https?)");
		return 1;
	}
	return 0;
}

/* A small answer is parsed within the limits of a request body; those that grow with the
 * estate within the upstream ones. */
static const struct jsonutil_limits *
response_limits(const struct http_request *req)
{
	return req->max_response > HTTP_MAX_RESPONSE ? &jsonutil_limits_upstream :
	    &jsonutil_limits_default;
}

struct json_object *
proxmox_response_data(struct http_request *req, int *rc, char *err, size_t errlen)
{
	struct json_object *root, *data = NULL;
	char perr[160];

	*rc = -1;
	if (response_refused(req, err, errlen))
		return NULL;
	root = jsonutil_parse_limited(req->response.data ? req->response.data : "",
	    req->response.len, response_limits(req), NULL, perr, sizeof(perr));
	if (root == NULL) {
		snprintf(err, errlen, "invalid JSON: %s", perr);
		return NULL;
	}
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		snprintf(err, errlen, "unexpected answer: not an object");
		return NULL;
	}
	if (json_object_object_get_ex(root, "data", &data))
		data = json_object_get(data);
	json_object_put(root);
	*rc = 0;
	return data;
}

long
proxmox_response_each(struct http_request *req, void (*fn)(struct json_object *element,
    void *arg), void *arg, char *err, size_t errlen)
{
	char perr[160];
	int found = 0, too_large = 0;
	long n;

	if (response_refused(req, err, errlen))
		return -1;
	n = jsonutil_each_element(req->response.data ? req->response.data : "", req->response.len,
	    "data", response_limits(req), fn, arg, &found, &too_large, perr, sizeof(perr));
	if (n < 0) {
		snprintf(err, errlen, "invalid JSON: %s", perr);
		return -1;
	}
	if (!found) {
		snprintf(err, errlen, "no list in the answer");
		return -1;
	}
	return n;
}

/* One message for every way of not reaching a server (refused, unreachable, no answer in
 * time, closed before answering). TLS and HTTP errors stay distinct: a server did answer
 * those. */
static void
plain_connect_error(struct http_request *req, const struct proxmox_conn *c)
{
	const char *api = strstr(c->base, "/api2/json");

	if (req->failure == HTTP_FAIL_CONNECT || req->failure == HTTP_FAIL_TIMEOUT)
		snprintf(req->error, sizeof(req->error), "could not connect to %.*s",
		    api ? (int)(api - c->base) : (int)strlen(c->base), c->base);
}

int
proxmox_login(struct proxmox_conn *c, long timeout_ms, char *err, size_t errlen)
{
	struct http_request *req;
	int rc;

	if (!proxmox_needs_ticket(c))
		return 0;
	req = proxmox_ticket_request(c);
	req->timeout_ms = timeout_ms;
	http_perform(req);
	plain_connect_error(req, c);
	rc = proxmox_ticket_accept(c, req, err, errlen);
	http_request_free(req);
	return rc;
}

struct json_object *
proxmox_get(struct proxmox_conn *c, const char *path, long timeout_ms, char *err, size_t errlen,
    double *latency_ms)
{
	struct http_request *req;
	struct json_object *data;
	int rc;

	if (proxmox_login(c, timeout_ms, err, errlen) != 0)
		return NULL;
	req = proxmox_request(c, path);
	req->timeout_ms = timeout_ms;
	http_perform(req);
	plain_connect_error(req, c);
	if (latency_ms)
		*latency_ms = req->elapsed * 1000.0;
	data = proxmox_response_data(req, &rc, err, errlen);
	if (data == NULL && rc == 0)
		data = json_object_new_array();
	http_request_free(req);
	return data;
}

int
proxmox_rrd_last(struct json_object *data, const char *key, double *out)
{
	for (int i = jsonread_array_len(data) - 1; i >= 0; i--) {
		struct json_object *o = json_object_array_get_idx(data, i);
		double v = jsonread_number(o, key, NAN);
		if (!isnan(v)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}
