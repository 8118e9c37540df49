/* http_parse.c: the agent HTTP client's pure parts (URL, answer framing, escaping), apart from
 * its sockets so that the unit tests and the fuzz loop reach them without a network. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_client.h"
#include "util.h"

char *
agent_http_escape(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(3 * n + 1), *o = out;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-_.~", c))
			*o++ = (char)c;
		else
			o += sprintf(o, "%%%02X", c);
	}
	*o = '\0';
	return out;
}

int
agent_http_split_url(const char *url, int *tls, char *host, size_t hostlen, int *port,
    const char **path)
{
	const char *h, *end, *p;
	size_t n;
	long v;

	if (strncasecmp(url, "https://", 8) == 0)
		*tls = 1, h = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		*tls = 0, h = url + 7;
	else
		return -1;
	*port = *tls ? 443 : 80;
	*path = h + strcspn(h, "/?#");
	if (**path == '#')
		return -1;
	if (*h == '[') {
		if ((end = memchr(h, ']', (size_t)(*path - h))) == NULL)
			return -1;
		n = (size_t)(end - h - 1), h++, p = end + 1;
	} else {
		end = memchr(h, ':', (size_t)(*path - h));
		p = end ? end : *path;
		n = (size_t)(p - h);
	}
	if (n == 0 || n >= hostlen || memchr(h, '@', n))
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	if (*p == ':') {
		char *stop;

		errno = 0;
		v = strtol(p + 1, &stop, 10);
		if (errno || stop == p + 1 || stop != *path || v < 1 || v > 65535)
			return -1;
		*port = (int)v;
	} else if (p != *path)
		return -1;
	for (const char *c = *path; *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f)
			return -1;
	if (**path == '\0')
		*path = "/";
	return 0;
}

static enum agent_http_parse
bad(struct agent_http_answer *ans, const char *why)
{
	snprintf(ans->error, sizeof(ans->error), "bad answer: %s", why);
	return AGENT_HTTP_PARSE_BAD;
}

/* The end of the line starting at p (at its CR), or NULL when no CRLF is there yet. A bare LF
 * is taken as a line end too (lenient, as most clients are). */
static const char *
line_end(const char *p, const char *end, size_t *eol)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));

	if (lf == NULL)
		return NULL;
	*eol = lf > p && lf[-1] == '\r' ? 2 : 1;
	return lf + 1 - *eol;
}

/* Whether the value of a header line (after "Name:") lists token, comma separated. */
static int
value_has(const char *v, const char *vend, const char *token)
{
	size_t n = strlen(token);

	while (v < vend) {
		const char *c = memchr(v, ',', (size_t)(vend - v));
		const char *e = c ? c : vend;

		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - v) == n && strncasecmp(v, token, n) == 0)
			return 1;
		v = c ? c + 1 : vend;
	}
	return 0;
}

struct head {
	long status;
	int http11, chunked, close, has_length;
	uint64_t length;
	size_t size;			/* bytes of status line and headers, blank line included */
};

/* Parses the head at buf: 1 when whole (h filled), 0 when more is needed, -1 bad. */
static int
parse_head(const char *buf, size_t len, struct head *h, struct agent_http_answer *ans,
    enum agent_http_parse *res)
{
	const char *p = buf, *end = buf + len, *e;
	size_t eol;

	memset(h, 0, sizeof(*h));
	if ((e = line_end(p, end, &eol)) == NULL) {
		if (len >= AGENT_HTTP_MAX_HEAD)
			return *res = bad(ans, "status line too long"), -1;
		return 0;
	}
	if (e - p < 12 || strncmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
	    p[8] != ' ' || !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11]) || (e - p > 12 && p[12] != ' ') || p[9] == '0')
		return *res = bad(ans, "no HTTP/1.x status line"), -1;
	h->http11 = p[7] == '1';
	h->close = !h->http11;
	h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	for (p = e + eol; ; p = e + eol) {
		const char *colon, *v;

		if ((e = line_end(p, end, &eol)) == NULL) {
			if (len >= AGENT_HTTP_MAX_HEAD)
				return *res = bad(ans, "header too long"), -1;
			return 0;
		}
		if ((size_t)(e + eol - buf) > AGENT_HTTP_MAX_HEAD)
			return *res = bad(ans, "header too long"), -1;
		if (e == p)
			break;
		if (memchr(p, '\0', (size_t)(e - p)) || (colon = memchr(p, ':', (size_t)(e - p))) ==
		    NULL || colon == p || *p == ' ' || *p == '\t')
			return *res = bad(ans, "malformed header line"), -1;
		for (v = colon + 1; v < e && (*v == ' ' || *v == '\t'); v++)
			;
		if (colon - p == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
			uint64_t n = 0;
			const char *d = v;

			for (; d < e && isdigit((unsigned char)*d); d++) {
				if (n > (UINT64_MAX - 9) / 10)
					return *res = bad(ans, "Content-Length too big"), -1;
				n = n * 10 + (uint64_t)(*d - '0');
			}
			while (d < e && (*d == ' ' || *d == '\t'))
				d++;
			if (d == v || d != e || (h->has_length && h->length != n))
				return *res = bad(ans, "bad Content-Length"), -1;
			h->has_length = 1;
			h->length = n;
		} else if (colon - p == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
			if (!value_has(v, e, "chunked") || value_has(v, e, "gzip") ||
			    value_has(v, e, "deflate") || value_has(v, e, "compress"))
				return *res = bad(ans, "unsupported Transfer-Encoding"), -1;
			h->chunked = 1;
		} else if (colon - p == 10 && strncasecmp(p, "Connection", 10) == 0) {
			if (value_has(v, e, "close"))
				h->close = 1;
			else if (value_has(v, e, "keep-alive"))
				h->close = 0;
		}
	}
	h->size = (size_t)(e + eol - buf);
	if (h->chunked && h->has_length)
		h->close = 1;	/* a suspicious framing: read it chunked, then do not reuse */
	return 1;
}

/* Walks the chunks of a body at buf (len bytes of it so far). copy NULL: checks the framing,
 * sets *need and the decoded size; else copies the data there. */
static enum agent_http_parse
walk_chunks(const char *buf, size_t len, size_t max_body, char *copy, size_t *decoded,
    size_t *need, size_t *used, struct agent_http_answer *ans)
{
	const char *p = buf, *end = buf + len, *e;
	size_t eol;

	*decoded = 0;
	for (;;) {
		uint64_t size = 0;
		const char *d = p;

		if ((e = line_end(p, end, &eol)) == NULL) {
			if ((size_t)(end - p) > 1024)
				return bad(ans, "chunk size line too long");
			*need = len + 1;
			return AGENT_HTTP_PARSE_MORE;
		}
		for (; d < e && isxdigit((unsigned char)*d); d++) {
			if (size > ((uint64_t)1 << 40))
				return bad(ans, "chunk size too big");
			size = size * 16 + (uint64_t)(isdigit((unsigned char)*d) ? *d - '0' :
			    (tolower((unsigned char)*d) - 'a' + 10));
		}
		while (d < e && (*d == ' ' || *d == '\t'))
			d++;
		if (d == p || (d < e && *d != ';'))
			return bad(ans, "bad chunk size");
		p = e + eol;
		if (size == 0)
			break;
		if (size > max_body || *decoded > max_body - size) {
			snprintf(ans->error, sizeof(ans->error), "answer larger than %zu bytes",
			    max_body);
			return AGENT_HTTP_PARSE_TOO_LARGE;
		}
		if ((size_t)(end - p) < size + 2) {
			*need = (size_t)(p - buf) + size + 2;
			return AGENT_HTTP_PARSE_MORE;
		}
		if (copy)
			memcpy(copy + *decoded, p, size);
		*decoded += size;
		p += size;
		if (p[0] == '\r' && p[1] == '\n')
			p += 2;
		else if (p[0] == '\n')
			p += 1;
		else
			return bad(ans, "chunk not followed by CRLF");
	}
	/* Trailer lines, then the blank line. */
	for (;;) {
		const char *start = p;

		if ((e = line_end(p, end, &eol)) == NULL) {
			if ((size_t)(end - p) > AGENT_HTTP_MAX_HEAD)
				return bad(ans, "trailer too long");
			*need = len + 1;
			return AGENT_HTTP_PARSE_MORE;
		}
		p = e + eol;
		if (e == start)
			break;
	}
	*used = (size_t)(p - buf);
	return AGENT_HTTP_PARSE_DONE;
}

enum agent_http_parse
agent_http_parse_answer(const char *buf, size_t len, int eof, size_t max_body, int head_only,
    struct agent_http_answer *ans, size_t *need, size_t *used, int *keep)
{
	struct head h;
	enum agent_http_parse res = AGENT_HTTP_PARSE_MORE;
	size_t body_len, skip = 0;
	int r;

	*need = len + 1;
	/* Interim 1xx answers (100 Continue) are skipped. */
	while ((r = parse_head(buf + skip, len - skip, &h, ans, &res)) == 1 && h.status < 200)
		skip += h.size;
	if (r < 0)
		return res;
	if (r == 0) {
		*need = len + 1;
		return eof ? bad(ans, "connection closed before the header ended") :
		    AGENT_HTTP_PARSE_MORE;
	}
	buf += skip, len -= skip;
	ans->status = h.status;
	*keep = !h.close;
	if (head_only || h.status == 204 || h.status == 304) {
		body_len = 0;
		*used = skip + h.size;
	} else if (h.chunked) {
		size_t decoded, chunk_used = 0, chunk_need = 0;

		res = walk_chunks(buf + h.size, len - h.size, max_body, NULL, &decoded, &chunk_need,
		    &chunk_used, ans);
		if (res == AGENT_HTTP_PARSE_MORE) {
			*need = skip + h.size + chunk_need;
			return eof ? bad(ans, "connection closed inside a chunked body") : res;
		}
		if (res != AGENT_HTTP_PARSE_DONE)
			return res;
		ans->body = xmalloc(decoded + 1);
		walk_chunks(buf + h.size, len - h.size, max_body, ans->body, &decoded, &chunk_need,
		    &chunk_used, ans);
		ans->body[decoded] = '\0';
		ans->len = decoded;
		*used = skip + h.size + chunk_used;
		return AGENT_HTTP_PARSE_DONE;
	} else if (h.has_length) {
		if (h.length > max_body) {
			snprintf(ans->error, sizeof(ans->error), "answer larger than %zu bytes",
			    max_body);
			return AGENT_HTTP_PARSE_TOO_LARGE;
		}
		body_len = (size_t)h.length;
		if (len - h.size < body_len) {
			*need = skip + h.size + body_len;
			return eof ? bad(ans, "connection closed inside the body") :
			    AGENT_HTTP_PARSE_MORE;
		}
		*used = skip + h.size + body_len;
	} else {
		/* Delimited by the end of the connection. */
		body_len = len - h.size;
		if (body_len > max_body) {
			snprintf(ans->error, sizeof(ans->error), "answer larger than %zu bytes",
			    max_body);
			return AGENT_HTTP_PARSE_TOO_LARGE;
		}
		if (!eof)
			return AGENT_HTTP_PARSE_MORE;
		*keep = 0;
		*used = skip + h.size + body_len;
	}
	if (body_len) {
		ans->body = xmalloc(body_len + 1);
		memcpy(ans->body, buf + h.size, body_len);
		ans->body[body_len] = '\0';
	}
	ans->len = body_len;
	return AGENT_HTTP_PARSE_DONE;
}
