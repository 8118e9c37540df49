/* uri.c: percent-decoding of URI paths and query strings, and the host and port of a URL. */
#include "config.h"

#include "uri.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

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
uri_decode(struct arena *a, const char *src, size_t len, int form)
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

int
uri_split_host_port(const char *url, const char *default_port, char *host, size_t hostlen,
    char *port, size_t portlen)
{
	const char *p = strstr(url, "://"), *name, *digits = "";
	size_t namelen, ndigits = 0;
	int64_t number;

	snprintf(host, hostlen, "%s", "");
	snprintf(port, portlen, "%s", default_port);
	p = p ? p + 3 : url;
	if (*p == '[') {
		const char *close = strchr(p, ']');
		if (close == NULL)
			return -1;
		name = p + 1;
		namelen = (size_t)(close - name);
		p = close + 1;
	} else {
		name = p;
		namelen = strcspn(p, ":/?#");
		p += namelen;
	}
	if (*p == ':') {
		digits = p + 1;
		ndigits = strcspn(digits, "/?#");
		p = digits + ndigits;
	}
	if (namelen == 0 || namelen >= hostlen || (*p != '\0' && *p != '/' && *p != '?' && *p != '#'))
		return -1;
	if (ndigits > 0) {
		char buf[8];
		if (ndigits >= sizeof(buf) || strspn(digits, "0123456789") < ndigits)
			return -1;
		snprintf(buf, sizeof(buf), "%.*s", (int)ndigits, digits);
		if (parse_int64(buf, 1, 65535, &number) != 0)
			return -1;
		snprintf(port, portlen, "%s", buf);
	}
	snprintf(host, hostlen, "%.*s", (int)namelen, name);
	return 0;
}
