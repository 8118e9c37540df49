/* http_client.h: the agent's own small HTTP/1.1 client on sockets and OpenSSL (http://,
 * https://, a Unix socket), so that pulse-agent links neither libcurl nor what it drags in.
 * The server keeps src/http.c; see docs/ARCHITECTURE.md "The agent's HTTP client". */
#ifndef PULSE_AGENT_HTTP_CLIENT_H
#define PULSE_AGENT_HTTP_CLIENT_H

#include <stddef.h>

#define AGENT_HTTP_MAX_HEADERS 8
/* The most an answer's status line and header lines may take together. */
#define AGENT_HTTP_MAX_HEAD ((size_t)64 * 1024)

/* One request. The caller sets what it needs after agent_http_request_init; the strings are
 * borrowed (the caller keeps them alive until agent_http_perform returns), except the
 * header lines added with agent_http_add_header, which the request owns and wipes. */
struct agent_http_request {
	const char *method;		/* "GET" by default */
	const char *url;		/* http://host[:port]/path or https://... */
	const char *unix_socket;	/* connect here instead of the URL's host, or NULL */
	const char *body;		/* sent with its Content-Length, or NULL */
	const char *content_type;	/* for body, or NULL */
	const char *user_agent;		/* "pulse-agent" by default */
	const char *ca_file;		/* PEM trust anchors instead of the system's, or NULL */
	int insecure;			/* no certificate or host name check (the operator said so) */
	size_t max_response;		/* bytes of body; 1 MiB by default */
	long timeout_ms;		/* the whole exchange, connecting included; 30 s */
	long connect_timeout_ms;	/* connecting and the TLS handshake; 10 s */
	char *headers[AGENT_HTTP_MAX_HEADERS];	/* owned "Name: value" lines */
	int nheaders;
	int refused;			/* a header was refused: the request is never sent */
};

/* An answer: status 0 when none came. body is NUL-terminated (NULL when empty) and the
 * caller's to free with agent_http_answer_free; error names no header value. */
struct agent_http_answer {
	long status;
	char *body;
	size_t len;
	char error[200];
};

void agent_http_request_init(struct agent_http_request *req, const char *method,
    const char *url);
/* Adds "Name: value" (value from fmt); a name that is not a token, a value holding CR, LF or
 * another control character (tab aside), or one line too many, is not added: -1, and the
 * request is refused (agent_http_perform fails without sending anything). 0 otherwise. */
int agent_http_add_header(struct agent_http_request *req, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Wipes and frees the header lines. */
void agent_http_request_clear(struct agent_http_request *req);

/* Runs req. Connections are kept alive per target (scheme, host, port, socket, TLS settings
 * and proxy) from one call to the next; the agent uses them from one thread only. The proxy
 * variables are read as Go reads them (http_client.c proxy_for). Returns 0
 * when an answer arrived (any status), -1 otherwise with ans->error set. */
int agent_http_perform(struct agent_http_request *req, struct agent_http_answer *ans);
void agent_http_answer_free(struct agent_http_answer *ans);
/* Closes every kept connection. */
void agent_http_close_all(void);

/* Percent-encodes s for a URL path segment or query value: a new string. */
char *agent_http_escape(const char *s);

/* The answer parser, public for the unit tests. It looks at the bytes received so far
 * (buf, len; eof when the peer closed) and returns AGENT_HTTP_PARSE_MORE until a whole
 * answer is there (*need: the length to wait for before asking again), then
 * AGENT_HTTP_PARSE_DONE with ans filled (*used: the bytes the answer took; *keep: whether
 * the connection may serve another request), or AGENT_HTTP_PARSE_BAD / _TOO_LARGE with
 * ans->error set. head_only: the request was a HEAD (no body follows). */
enum agent_http_parse {
	AGENT_HTTP_PARSE_MORE,
	AGENT_HTTP_PARSE_DONE,
	AGENT_HTTP_PARSE_BAD,
	AGENT_HTTP_PARSE_TOO_LARGE,
};
enum agent_http_parse agent_http_parse_answer(const char *buf, size_t len, int eof,
    size_t max_body, int head_only, struct agent_http_answer *ans, size_t *need, size_t *used,
    int *keep);

/* Splits an http(s) URL; 0, or -1 when it is not one this client speaks. host gets an IPv6
 * address without its brackets; path is "/" when the URL has none. */
int agent_http_split_url(const char *url, int *tls, char *host, size_t hostlen, int *port,
    const char **path);

#endif
