/* request.h: one FastCGI request: its parameters, body, path parameters and the answer. */
#ifndef PULSE_REQUEST_H
#define PULSE_REQUEST_H

#include <fcgiapp.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "db.h"
#include "principal.h"
#include "uri.h"
#include "util.h"

/* The request methods as bits: a route's methods are a mask of them. */
enum req_method {
	REQ_METHOD_GET = 1 << 0,
	REQ_METHOD_HEAD = 1 << 1,
	REQ_METHOD_POST = 1 << 2,
	REQ_METHOD_PUT = 1 << 3,
	REQ_METHOD_PATCH = 1 << 4,
	REQ_METHOD_DELETE = 1 << 5,
	REQ_METHOD_OPTIONS = 1 << 6,
};

#define REQUEST_MAX_PATH_PARAMS 4

struct route;
struct responder;

struct query_param {
	const char *name, *value;
};

struct request {
	FCGX_Request *fcgx;
	struct arena *arena;	/* everything below is allocated here or owned by fcgx */
	struct responder *thread;	/* the serving thread: its database connection */
	struct db *db;

	const char *method_name;
	unsigned method;	/* one enum req_method bit, 0 if unknown */
	const char *raw_path;	/* REQUEST_URI up to '?', as sent */
	char *path;		/* percent-decoded path */
	const char *query;	/* raw query string, may be "" */
	struct query_param *query_params;
	int nquery_params;	/* -1 until parsed */
	const char *peer_ip;	/* REMOTE_ADDR: the web server's peer */
	int web_server;		/* the FastCGI peer is a web server we trust (fastcgi_peers) */
	const char *client_ip;	/* the peer, or the forwarded client behind a trusted proxy */
	char client_key[64];	/* what rate limits and lockouts count: the address, or its /64 */
	int direct_loopback;	/* loopback client, no proxy and no forwarding header */
	int https;		/* the client connection is TLS */
	struct principal auth;	/* filled by the router for routes that authenticate */
	long retry_after;	/* seconds, for an answer that refuses for a while (429) */

	const struct route *route;
	const char *path_param_names[REQUEST_MAX_PATH_PARAMS];
	const char *path_params[REQUEST_MAX_PATH_PARAMS];
	int npath_params;

	char *body;		/* NUL-terminated; NULL when there is none */
	size_t body_len;

	/* The answer. */
	int status;
	int responded;
	struct strbuf extra_headers;	/* "Name: value\r\n" lines */
	const char *base_headers;	/* the security and CORS lines of the settings in
					 * effect (live_settings.c); NULL: the defaults */
	size_t base_headers_len;
	size_t bytes_out;
	const char *error_code;	/* for the access log */
	double started;
};

/* A FastCGI parameter (HTTP headers as HTTP_X_API_TOKEN etc.), or NULL. */
const char *req_param(struct request *r, const char *name);

/* A request header by its HTTP name ("X-API-Token"), or NULL. */
const char *req_header(struct request *r, const char *name);

/* A cookie's value from the Cookie header, or NULL. The value is in the request arena. */
const char *req_cookie(struct request *r, const char *name);

/* A query parameter, percent-decoded, or NULL; the first one when repeated. */
const char *req_query(struct request *r, const char *name);

/* A path parameter by name as written in the route pattern ("id"), or NULL. */
const char *req_path_param(struct request *r, const char *name);

/* Parses the body as JSON. Returns the value (owned by the request) or NULL after
 * answering 400 with code invalid_json. */
struct json_object *req_body_json(struct request *r);

/* Typed fields of a JSON body. Each returns 1 when the field is present (and sets *out),
 * 0 when it is absent or null (and it was optional), or -1 after answering 400 with code
 * invalid_field (wrong type, out of range, or a required field missing). */
int req_body_string(struct request *r, struct json_object *obj, const char *key, int required,
    size_t max_len, const char **out);
int req_body_bool(struct request *r, struct json_object *obj, const char *key, int required,
    int *out);
int req_body_int(struct request *r, struct json_object *obj, const char *key, int required,
    int64_t min, int64_t max, int64_t *out);

/* The body must be a JSON object: returns it, or NULL after answering 400. An empty body
 * gives an empty object when empty_ok is set. */
struct json_object *req_body_object(struct request *r, int empty_ok);

/* Gives a json-c value or a PGresult to the request: freed with its arena when the request
 * ends. NULL passes through; the argument is returned, so a call can wrap the allocation. */
struct json_object *req_json(struct request *r, struct json_object *obj);
PGresult *req_result(struct request *r, PGresult *res);

/* Adds a header to the answer; name and value must not contain CR or LF. */
void resp_header(struct request *r, const char *name, const char *value);

/* Answers with a JSON value; obj stays the caller's (use arena_defer or put it). */
void resp_json(struct request *r, int status, struct json_object *obj);

/* A new JSON object owned by the request: released with its arena, so a handler never puts
 * it, on any path. What is added to it belongs to it (never add an arena-owned object to
 * another). */
struct json_object *resp_object(struct request *r);

/* Answers with prepared bytes. */
void resp_raw(struct request *r, int status, const char *content_type, const char *body,
    size_t len);

/* Answers an error in the original's structured form:
 * {"error": message, "code": code, "status_code": status, "timestamp": unix seconds}. */
void resp_error(struct request *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The same with further fields merged into the body (extra stays the caller's). */
void resp_error_with(struct request *r, int status, const char *code, const char *message,
    struct json_object *extra);

/* Answers 503 database_unavailable with Retry-After: 5: a query found the database gone.
 * The _msg form says what could not be done instead of "Database unavailable". */
void resp_db_unavailable(struct request *r);
void resp_db_unavailable_msg(struct request *r, const char *message);

/* A streamed answer: the head (no Content-Length), then the body in pieces of at most
 * INT_MAX bytes (none for HEAD). resp_stream_write returns -1 once the client is gone. */
void resp_stream_begin(struct request *r, int status, const char *content_type);
int resp_stream_write(struct request *r, const char *data, size_t len);
/* Sends what was written so far to the web server now (a server-sent event must not wait
 * in the buffer). Returns -1 once the client is gone. */
int resp_stream_flush(struct request *r);

/* Answers 204 No Content. */
void resp_no_content(struct request *r);

/* The reason phrase of an HTTP status ("Not Found"); "Unknown" for one not listed. */
const char *resp_status_text(int status);
/* The enum req_method bit of a method name ("GET"), 0 for a method not served. */
unsigned req_method_parse(const char *name);
/* "GET, HEAD, POST" for a method mask; the string is in the request's arena. */
const char *req_methods_string(struct request *r, unsigned mask);

#endif
