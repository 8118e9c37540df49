/* http.h: HTTP requests over libcurl, one at a time (responders) or many in flight from one
 * thread (the worker's multi interface), with TLS verification, a pinned leaf certificate
 * fingerprint, or no verification; explicit timeouts and a bounded response size. */
#ifndef PULSE_HTTP_H
#define PULSE_HTTP_H

#include <stddef.h>

#include "util.h"

/* Answers are buffered whole: a request reads at most max_response bytes, HTTP_MAX_RESPONSE
 * unless the caller sets another; the answers that grow with the estate may take up to
 * HTTP_MAX_RESPONSE_LARGE. */
#define HTTP_MAX_RESPONSE ((size_t)8 * 1024 * 1024)
#define HTTP_MAX_RESPONSE_LARGE ((size_t)64 * 1024 * 1024)

enum http_tls_mode {
	HTTP_TLS_VERIFY,	/* CA chain and host name */
	HTTP_TLS_PIN,		/* only the leaf certificate's SHA-256 must match */
	HTTP_TLS_INSECURE,	/* no verification (the operator said so) */
};

/* What went wrong, for messages and for the scheduler's error categories. */
enum http_failure {
	HTTP_OK,
	HTTP_FAIL_CONNECT,	/* refused, unreachable, DNS */
	HTTP_FAIL_TIMEOUT,
	HTTP_FAIL_TLS,		/* handshake or verification */
	HTTP_FAIL_PIN,		/* the certificate is not the pinned one */
	HTTP_FAIL_TOO_LARGE,
	HTTP_FAIL_HEADER,	/* refused before sending: a header value held a control character */
	HTTP_FAIL_OTHER,
};

struct http_request;
typedef void (*http_done_fn)(struct http_request *req, void *arg);

struct http_request {
	/* set by the caller */
	char *url;			/* owned */
	const char *method;		/* "GET" by default */
	char *body;			/* owned, may be NULL */
	const char *content_type;
	char *headers[24];		/* owned "Name: value" lines */
	int nheaders;
	size_t max_response;		/* bytes; HTTP_MAX_RESPONSE by default */
	long timeout_ms;
	long connect_timeout_ms;
	enum http_tls_mode tls;
	char pin[65];			/* lower-case hex SHA-256 for HTTP_TLS_PIN */
	char *resolve;			/* owned "host:port:addr", or NULL: the address to connect
					 * to for that host, with no DNS lookup (CURLOPT_RESOLVE) */
	char *ca_file;			/* owned PEM file path, or NULL: the trust anchors for
					 * HTTP_TLS_VERIFY instead of the system's */
	char *unix_socket;		/* owned path, or NULL: connect to this Unix socket instead
					 * of the URL's host (CURLOPT_UNIX_SOCKET_PATH; the agent's
					 * Docker Engine); every other limit stays */
	http_done_fn done;
	void *arg;

	/* results */
	long status;			/* HTTP status, 0 when none */
	struct strbuf response;
	enum http_failure failure;
	char error[256];		/* readable, never holds a credential */
	char peer_fingerprint[65];	/* leaf certificate SHA-256 seen, when TLS */
	char *location;			/* owned: where a 3xx answer redirects to (absolute), or
					 * NULL. Redirects are never followed: a caller that follows
					 * one checks the target first. */
	double elapsed;			/* seconds */

	void *share;			/* a connection cache from http_share_new, or NULL */
	void *easy;			/* internal: the curl handle */
	void *header_list;		/* internal: its header list */
	void *resolve_list;		/* internal: the CURLOPT_RESOLVE list */
	int refused;			/* internal: a header was refused, nothing is sent */
	struct http_request *next_refused;	/* internal: http_multi's list of those */
};

/* Once per process, before threads start. */
void http_global_init(void);

/* A request for url (copied); free with http_request_free. */
struct http_request *http_request_new(const char *url);
/* Adds a "Name: value" line. A line holding CR, LF, NUL or another control character (tab
 * aside), or one too many, is not added: the call returns -1 and marks the request failed
 * (HTTP_FAIL_HEADER), so that http_perform and http_multi_add never send it and report the
 * failure as for any other; 0 otherwise. */
int http_request_add_header(struct http_request *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Whether s can stand in a header value: no control character but tab. */
int http_header_value_ok(const char *s);
/* Whether s is a header name: one or more RFC 9110 token characters (ASCII letters, digits
 * and !#$%&'*+-.^_`|~), so no space, colon, CR or LF. */
int http_header_name_ok(const char *s);
void http_request_free(struct http_request *req);

/* Runs one request to completion (the calling thread blocks up to its timeout). Returns 0
 * when an HTTP answer arrived (any status), -1 otherwise (see failure and error). */
int http_perform(struct http_request *req);

/* Many requests in flight from one thread. */
struct http_multi;
struct http_multi *http_multi_new(int max_per_host, int max_total);
void http_multi_free(struct http_multi *m);
/* Starts req; its done callback runs from http_multi_run when it completes (the callback
 * owns req then). A request refused before sending (HTTP_FAIL_HEADER) completes at the next
 * http_multi_run without any traffic. */
void http_multi_add(struct http_multi *m, struct http_request *req);
/* Waits up to timeout_ms for transfer activity or for one of the extra descriptors, then
 * drives transfers and runs completion callbacks. Sets readable[i] for extra descriptors
 * that became readable. Returns the number of transfers still running. */
int http_multi_run(struct http_multi *m, const int *extra_fds, int *readable, int nextra,
    int timeout_ms);
int http_multi_running(const struct http_multi *m);
/* Takes an unfinished request out of m (its callback will not run); the caller frees it. */
void http_multi_remove(struct http_multi *m, struct http_request *req);

/* A connection cache of its own, for requests that must not reuse connections made with
 * other settings (set http_request.share). Free only when no request using it is left. */
void *http_share_new(void);
void http_share_free(void *share);

/* Percent-encodes s for a URL path segment or form value: a new string. */
char *http_escape(const char *s);

/* Normalises a fingerprint as written by people ("AB:CD:..." or "abcd...") to 64 lower-case
 * hex digits; returns 0, or -1 when it is not a SHA-256. */
int http_normalize_fingerprint(const char *in, char out[65]);

#endif
