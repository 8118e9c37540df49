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

/* The headers every answer carries (security.md §12.1); embedding is off by default. */
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
http_status_text(int status)
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
	{"GET", HTTP_GET}, {"HEAD", HTTP_HEAD}, {"POST", HTTP_POST}, {"PUT", HTTP_PUT},
	{"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE}, {"OPTIONS", HTTP_OPTIONS},
};

unsigned
http_method_parse(const char *name)
{
	if (name == NULL)
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(methods); i++)
		if (strcmp(name, methods[i].name) == 0)
			return methods[i].bit;
	return 0;
}

const char *
http_methods_string(struct request *r, unsigned mask)
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

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *
url_decode(struct arena *a, const char *src, size_t len, int form)
{
	char *out = arena_alloc(a, len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (src[i] == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return NULL;
			hi = hexval((unsigned char)src[i + 1]);
			lo = hexval((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return NULL;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (form && src[i] == '+') {
			out[o++] = ' ';
		} else {
			out[o++] = src[i];
		}
	}
	out[o] = '\0';
	return out;
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
			char *name = url_decode(r->arena, q, nlen, 1);
			char *value = eq ? url_decode(r->arena, eq + 1, len - nlen - 1, 1) :
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

	obj = jsonutil_parse(r->body ? r->body : "", r->body_len, err, sizeof(err));
	if (obj == NULL) {
		resp_error(r, 400, "invalid_json", "Invalid JSON body: %s", err);
		return NULL;
	}
	arena_defer(r->arena, jsonutil_put, obj);
	return obj;
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
	sb_printf(&head, "Status: %d %s\r\n", status, http_status_text(status));
	if (content_type)
		sb_printf(&head, "Content-Type: %s\r\n", content_type);
	if (status != 204 && status != 304)
		sb_printf(&head, "Content-Length: %lu\r\n", (unsigned long)len);
	sb_append(&head, security_headers, sizeof(security_headers) - 1);
	if (r->extra_headers.len)
		sb_append(&head, r->extra_headers.data, r->extra_headers.len);
	sb_append(&head, "\r\n", 2);
	FCGX_PutStr(head.data, (int)head.len, r->fcgx->out);
	if (len > 0 && r->method != HTTP_HEAD && status != 204 && status != 304) {
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
resp_raw(struct request *r, int status, const char *content_type, const char *body, size_t len)
{
	write_answer(r, status, content_type, body, len);
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
resp_error(struct request *r, int status, const char *code, const char *fmt, ...)
{
	struct json_object *obj = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(obj, "error", json_object_new_string(msg));
	json_object_object_add(obj, "code", json_object_new_string(code));
	json_object_object_add(obj, "status_code", json_object_new_int(status));
	json_object_object_add(obj, "timestamp", json_object_new_int64((int64_t)time(NULL)));
	r->error_code = code;
	resp_json(r, status, obj);
	json_object_put(obj);
}
