/* request.c: reading a FastCGI request and writing its answer. */
#include "config.h"

#include "request.h"
#include "jsonutil.h"
#include "log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The headers every answer carries (security.md §12.1) while no settings are attached to
 * the request (live_settings.c makes them from the embedding and CORS settings). */
static const char security_headers[] =
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "X-XSS-Protection: 1; mode=block\r\n"
    "Content-Security-Policy: default-src 'self'; script-src 'self' 'unsafe-inline' "
    "'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self' ws: wss:; font-src 'self' data:; frame-ancestors 'none'\r\n"
    "Referrer-Policy: strict-origin-when-cross-origin\r\n"
    "Permissions-Policy: geolocation=(), microphone=(), camera=()\r\n"
    "Cache-Control: no-store\r\n";

const char *
resp_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 423: return "Locked";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

static const struct {
	const char *name;
	unsigned bit;
} methods[] = {
	{"GET", REQ_METHOD_GET}, {"HEAD", REQ_METHOD_HEAD}, {"POST", REQ_METHOD_POST},
	{"PUT", REQ_METHOD_PUT}, {"PATCH", REQ_METHOD_PATCH}, {"DELETE", REQ_METHOD_DELETE},
	{"OPTIONS", REQ_METHOD_OPTIONS},
};

unsigned
req_method_parse(const char *name)
{
	if (name == NULL)
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(methods); i++)
		if (strcmp(name, methods[i].name) == 0)
			return methods[i].bit;
	return 0;
}

const char *
req_methods_string(struct request *r, unsigned mask)
{
	char buf[96];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_LEN(methods); i++) {
		if (!(mask & methods[i].bit))
			continue;
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", o ? ", " : "",
		    methods[i].name);
	}
	return arena_strdup(r->arena, buf);
}

const char *
req_param(struct request *r, const char *name)
{
	return FCGX_GetParam(name, r->fcgx->envp);
}

const char *
req_header(struct request *r, const char *name)
{
	char key[128];
	size_t o = 5;

	memcpy(key, "HTTP_", 5);
	for (const char *p = name; *p && o < sizeof(key) - 1; p++)
		key[o++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	key[o] = '\0';
	/* The web server passes Content-Type and Content-Length without the HTTP_ prefix. */
	if (strcmp(key, "HTTP_CONTENT_TYPE") == 0 || strcmp(key, "HTTP_CONTENT_LENGTH") == 0)
		return FCGX_GetParam(key + 5, r->fcgx->envp);
	return FCGX_GetParam(key, r->fcgx->envp);
}

const char *
req_cookie(struct request *r, const char *name)
{
	const char *h = req_param(r, "HTTP_COOKIE");
	size_t nlen = strlen(name);

	while (h && *h) {
		const char *end, *eq;

		while (*h == ' ' || *h == ';')
			h++;
		end = strchr(h, ';');
		if (end == NULL)
			end = h + strlen(h);
		eq = memchr(h, '=', (size_t)(end - h));
		if (eq && (size_t)(eq - h) == nlen && memcmp(h, name, nlen) == 0) {
			const char *v = eq + 1, *ve = end;
			while (ve > v && ve[-1] == ' ')
				ve--;
			if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
				v++;
				ve--;
			}
			return arena_strndup(r->arena, v, (size_t)(ve - v));
		}
		h = end;
	}
	return NULL;
}

static void
parse_query(struct request *r)
{
	const char *q = r->query ? r->query : "";
	int count = 0, n = 0;

	for (const char *p = q; *p; p++)
		if (*p == '&')
			count++;
	r->query_params = arena_alloc(r->arena, sizeof(struct query_param) * (size_t)(count + 1));
	while (*q) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		size_t nlen = eq ? (size_t)(eq - q) : len;

		if (len > 0) {
			char *name = uri_decode(r->arena, q, nlen, 1);
			char *value = eq ? uri_decode(r->arena, eq + 1, len - nlen - 1, 1) :
			    arena_strdup(r->arena, "");
			if (name && value) {
				r->query_params[n].name = name;
				r->query_params[n].value = value;
				n++;
			}
		}
		q += len;
		if (*q == '&')
			q++;
	}
	r->nquery_params = n;
}

const char *
req_query(struct request *r, const char *name)
{
	if (r->nquery_params < 0)
		parse_query(r);
	for (int i = 0; i < r->nquery_params; i++)
		if (strcmp(r->query_params[i].name, name) == 0)
			return r->query_params[i].value;
	return NULL;
}

const char *
req_path_param(struct request *r, const char *name)
{
	for (int i = 0; i < r->npath_params; i++)
		if (strcmp(r->path_param_names[i], name) == 0)
			return r->path_params[i];
	return NULL;
}

struct json_object *
req_body_json(struct request *r)
{
	struct json_object *obj;
	char err[160];
	int too_large;

	/* A body within its size limit may still describe more than we build (json-c spends
	 * up to 260 times a text's size): that is a 413 too, decided before anything is
	 * allocated. */
	obj = jsonutil_parse_limited(r->body ? r->body : "", r->body_len, &jsonutil_limits_default,
	    &too_large, err, sizeof(err));
	if (obj == NULL) {
		if (too_large)
			resp_error(r, 413, "payload_too_large", "Request body too large: %s", err);
		else
			resp_error(r, 400, "invalid_json", "Invalid JSON body: %s", err);
		return NULL;
	}
	return req_json(r, obj);
}

struct json_object *
req_json(struct request *r, struct json_object *obj)
{
	if (obj != NULL)
		arena_defer(r->arena, jsonutil_put, obj);
	return obj;
}

static void
result_clear(void *res)
{
	PQclear(res);
}

PGresult *
req_result(struct request *r, PGresult *res)
{
	if (res != NULL)
		arena_defer(r->arena, result_clear, res);
	return res;
}

struct json_object *
req_body_object(struct request *r, int empty_ok)
{
	struct json_object *obj;
	size_t i;

	for (i = 0; i < r->body_len && (r->body[i] == ' ' || r->body[i] == '\t' ||
	    r->body[i] == '\r' || r->body[i] == '\n'); i++)
		;
	if (empty_ok && i == r->body_len)
		return resp_object(r);
	obj = req_body_json(r);
	if (obj == NULL)
		return NULL;
	if (!json_object_is_type(obj, json_type_object)) {
		resp_error(r, 400, "invalid_json", "The request body must be a JSON object");
		return NULL;
	}
	return obj;
}

static int
field_error(struct request *r, const char *key, const char *what)
{
	struct json_object *extra = json_object_new_object();
	char msg[200];

	snprintf(msg, sizeof(msg), "Field '%.64s' %s", key, what);
	json_object_object_add(extra, "field", json_object_new_string(key));
	resp_error_with(r, 400, "invalid_field", msg, extra);
	json_object_put(extra);
	return -1;
}

int
req_body_string(struct request *r, struct json_object *obj, const char *key, int required,
    size_t max_len, const char **out)
{
	switch (jsonutil_get_string(obj, key, out)) {
	case JSONUTIL_OK:
		if (max_len && strlen(*out) > max_len) {
			char what[64];
			snprintf(what, sizeof(what), "is longer than %lu characters", (unsigned long)max_len);
			return field_error(r, key, what);
		}
		return 1;
	case JSONUTIL_MISSING:
		return required ? field_error(r, key, "is required") : 0;
	case JSONUTIL_WRONG_TYPE:
		break;
	}
	return field_error(r, key, "must be a string");
}

int
req_body_bool(struct request *r, struct json_object *obj, const char *key, int required, int *out)
{
	switch (jsonutil_get_bool(obj, key, out)) {
	case JSONUTIL_OK:
		return 1;
	case JSONUTIL_MISSING:
		return required ? field_error(r, key, "is required") : 0;
	case JSONUTIL_WRONG_TYPE:
		break;
	}
	return field_error(r, key, "must be true or false");
}

int
req_body_int(struct request *r, struct json_object *obj, const char *key, int required,
    int64_t min, int64_t max, int64_t *out)
{
	char what[96];

	switch (jsonutil_get_int(obj, key, min, max, out)) {
	case JSONUTIL_OK:
		return 1;
	case JSONUTIL_MISSING:
		return required ? field_error(r, key, "is required") : 0;
	case JSONUTIL_WRONG_TYPE:
		break;
	}
	snprintf(what, sizeof(what), "must be an integer from %lld to %lld", (long long)min,
	    (long long)max);
	return field_error(r, key, what);
}

void
resp_header(struct request *r, const char *name, const char *value)
{
	if (strpbrk(name, "\r\n") || strpbrk(value, "\r\n")) {
		log_error("msg=\"refused header with a line break\" name=%s", name);
		return;
	}
	sb_printf(&r->extra_headers, "%s: %s\r\n", name, value);
}

static void
append_base_headers(struct request *r, struct strbuf *head)
{
	if (r->base_headers != NULL)
		sb_append(head, r->base_headers, r->base_headers_len);
	else
		sb_append(head, security_headers, sizeof(security_headers) - 1);
}

static void
write_answer(struct request *r, int status, const char *content_type, const char *body,
    size_t len)
{
	struct strbuf head = {0};

	if (r->responded) {
		log_error("msg=\"second answer to one request dropped\" path=%s", r->raw_path);
		return;
	}
	r->responded = 1;
	r->status = status;
	sb_printf(&head, "Status: %d %s\r\n", status, resp_status_text(status));
	if (content_type)
		sb_printf(&head, "Content-Type: %s\r\n", content_type);
	if (status != 204 && status != 304)
		sb_printf(&head, "Content-Length: %lu\r\n", (unsigned long)len);
	append_base_headers(r, &head);
	if (r->extra_headers.len)
		sb_append(&head, r->extra_headers.data, r->extra_headers.len);
	sb_append(&head, "\r\n", 2);
	FCGX_PutStr(head.data, (int)head.len, r->fcgx->out);
	if (len > 0 && r->method != REQ_METHOD_HEAD && status != 204 && status != 304) {
		/* FCGX_PutStr takes an int: write large bodies in pieces. */
		size_t off = 0;
		while (off < len) {
			size_t chunk = len - off > (1u << 30) ? (1u << 30) : len - off;
			if (FCGX_PutStr(body + off, (int)chunk, r->fcgx->out) < 0)
				break;
			off += chunk;
		}
		r->bytes_out = len;
	}
	sb_free(&head);
}

void
resp_stream_begin(struct request *r, int status, const char *content_type)
{
	struct strbuf head = {0};

	if (r->responded) {
		log_error("msg=\"second answer to one request dropped\" path=%s", r->raw_path);
		return;
	}
	r->responded = 1;
	r->status = status;
	sb_printf(&head, "Status: %d %s\r\nContent-Type: %s\r\n", status,
	    resp_status_text(status), content_type);
	append_base_headers(r, &head);
	if (r->extra_headers.len)
		sb_append(&head, r->extra_headers.data, r->extra_headers.len);
	sb_append(&head, "\r\n", 2);
	FCGX_PutStr(head.data, (int)head.len, r->fcgx->out);
	sb_free(&head);
}

int
resp_stream_write(struct request *r, const char *data, size_t len)
{
	if (r->method == REQ_METHOD_HEAD || len == 0)
		return 0;
	if (FCGX_PutStr(data, (int)len, r->fcgx->out) < 0)
		return -1;
	r->bytes_out += len;
	return 0;
}

int
resp_stream_flush(struct request *r)
{
	return FCGX_FFlush(r->fcgx->out) < 0 ? -1 : 0;
}

void
resp_raw(struct request *r, int status, const char *content_type, const char *body, size_t len)
{
	write_answer(r, status, content_type, body, len);
}

struct json_object *
resp_object(struct request *r)
{
	return req_json(r, json_object_new_object());
}

void
resp_json(struct request *r, int status, struct json_object *obj)
{
	size_t len;
	const char *s = jsonutil_to_string(obj, &len);

	write_answer(r, status, "application/json", s, len);
}

void
resp_no_content(struct request *r)
{
	write_answer(r, 204, NULL, NULL, 0);
}

void
resp_error_with(struct request *r, int status, const char *code, const char *message,
    struct json_object *extra)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "error", json_object_new_string(message));
	json_object_object_add(obj, "code", json_object_new_string(code));
	json_object_object_add(obj, "status_code", json_object_new_int(status));
	json_object_object_add(obj, "timestamp", json_object_new_int64((int64_t)time(NULL)));
	if (extra) {
		json_object_object_foreach(extra, key, val)
			json_object_object_add(obj, key, json_object_get(val));
	}
	r->error_code = code;
	resp_json(r, status, obj);
	json_object_put(obj);
}

void
resp_error(struct request *r, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp_error_with(r, status, code, msg, NULL);
}

void
resp_db_unavailable(struct request *r)
{
	resp_db_unavailable_msg(r, "Database unavailable");
}

void
resp_db_unavailable_msg(struct request *r, const char *message)
{
	resp_header(r, "Retry-After", "5");
	resp_error(r, 503, "database_unavailable", "%s", message);
}
