/* urlguard.c: webhook URL checks (§8.3) over libcurl's URL parser (the one that will send the
 * request reads the URL the same way) and getaddrinfo. */
#include "config.h"

#include "urlguard.h"
#include "netaddr.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Ranges refused unless allowlisted, beyond ip_is_private: "this network" and carrier-grade
 * NAT (the original lets both through; see docs/COMPATIBILITY.md), and the unspecified v6. */
static const char *const extra_blocked = "0.0.0.0/8,100.64.0.0/10,::/128";
/* Link-local: never, allowlist or not (cloud metadata lives there). */
static const char *const never = "169.254.0.0/16,fe80::/10";

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
in_csv(const char *csv, const struct ipaddr *ip)
{
	struct cidr *ranges = NULL;
	int n = 0, hit;

	(void)cidr_list_parse(csv, &ranges, &n);
	hit = cidr_list_contains(ranges, n, ip);
	free(ranges);
	return hit;
}

/* Whether an address of the target needs the allowlist (1), is refused always (2), or is
 * public (0). */
static int
classify(const struct ipaddr *ip)
{
	if (in_csv(never, ip))
		return 2;
	if (ip_is_private(ip) || in_csv(extra_blocked, ip))
		return 1;
	return 0;
}

static int
host_is_loopback_name(const char *h)
{
	return strcmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 || strncmp(h, "127.", 4) == 0 ||
	    (strlen(h) > 10 && strcmp(h + strlen(h) - 10, ".localhost") == 0);
}

static int
host_is_metadata(const char *h)
{
	return strcmp(h, "169.254.169.254") == 0 || strcmp(h, "metadata.google.internal") == 0 ||
	    strcmp(h, "metadata.goog") == 0 || strncmp(h, "169.254.", 8) == 0 ||
	    strncmp(h, "fe80:", 5) == 0;
}

/* Resolves host and checks every address; the first one is the address to connect to. */
static int
check_addresses(const char *host, const struct cidr *allow, int nallow,
    struct urlguard_target *out, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	char first[64] = "";
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || res == NULL)
		return fail(err, errlen, "failed to resolve hostname %s", host);
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		char text[INET6_ADDRSTRLEN] = "";
		struct ipaddr ip;
		int kind;

		if (ai->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, text, sizeof(text));
		else if (ai->ai_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, text,
			    sizeof(text));
		else
			continue;
		if (ip_parse(text, &ip) != 0)
			continue;
		kind = classify(&ip);
		if (kind == 2) {
			freeaddrinfo(res);
			return fail(err, errlen, "resolves to link-local address %s (never allowed)", text);
		}
		if (kind == 1 && !cidr_list_contains(allow, nallow, &ip)) {
			freeaddrinfo(res);
			return fail(err, errlen, "resolves to private IP %s: configure the allowlist "
			    "(webhookAllowedPrivateCIDRs) in System Settings", text);
		}
		if (!first[0]) {
			/* The numeric text of an IPv4-mapped address is the plain IPv4. */
			if (!ip.v6)
				inet_ntop(AF_INET, ip.bytes, first, sizeof(first));
			else
				snprintf(first, sizeof(first), "%s", text);
		}
	}
	freeaddrinfo(res);
	if (!first[0])
		return fail(err, errlen, "no usable address for %s", host);
	if (out)
		snprintf(out->addr, sizeof(out->addr), "%s", first);
	return 0;
}

int
urlguard_check(const char *url, const char *allowlist_csv, struct urlguard_target *out,
    char *err, size_t errlen)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *user = NULL, *pass = NULL, *port = NULL;
	struct cidr *allow = NULL;
	struct ipaddr loop;
	char h[256];
	size_t hl;
	int nallow = 0, rc = -1;

	if (url == NULL || *url == '\0')
		return fail(err, errlen, "URL is empty");
	u = curl_url();
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
		curl_url_cleanup(u);
		return fail(err, errlen, "URL cannot be parsed");
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
		fail(err, errlen, "scheme must be http or https");
		goto done;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK) {
		fail(err, errlen, "credentials in the URL are not allowed (use a header)");
		goto done;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
		fail(err, errlen, "URL has no host");
		goto done;
	}
	/* The host as compared: without IPv6 brackets, zone or trailing dot, in lower case. */
	snprintf(h, sizeof(h), "%s", host[0] == '[' ? host + 1 : host);
	hl = strlen(h);
	if (host[0] == '[' && hl > 0 && h[hl - 1] == ']')
		h[--hl] = '\0';
	while (hl > 0 && h[hl - 1] == '.')
		h[--hl] = '\0';
	for (size_t i = 0; i < hl; i++)
		h[i] = (char)tolower((unsigned char)h[i]);
	if (hl == 0) {
		fail(err, errlen, "URL has no host");
		goto done;
	}
	if (host_is_metadata(h)) {
		fail(err, errlen, "link-local and cloud metadata addresses are not allowed (%s)", h);
		goto done;
	}
	(void)cidr_list_parse(allowlist_csv ? allowlist_csv : "", &allow, &nallow);
	(void)ip_parse("127.0.0.1", &loop);
	if (host_is_loopback_name(h) && !cidr_list_contains(allow, nallow, &loop)) {
		fail(err, errlen, "localhost URLs are not allowed unless 127.0.0.1 is in the "
		    "allowlist (%s)", h);
		goto done;
	}
	if (check_addresses(h, allow, nallow, out, err, errlen) != 0)
		goto done;
	if (out) {
		snprintf(out->host, sizeof(out->host), "%s", host[0] == '[' ? host + 1 : host);
		if (host[0] == '[' && strchr(out->host, ']'))
			*strchr(out->host, ']') = '\0';
		out->https = strcasecmp(scheme, "https") == 0;
		out->port = out->https ? 443 : 80;
		if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
			out->port = atoi(port);
	}
	rc = 0;
done:
	free(allow);
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(pass);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

void
urlguard_resolve_line(const struct urlguard_target *t, char *buf, size_t len)
{
	struct ipaddr ip;

	/* A literal address is connected to as it is: nothing to pin. */
	if (ip_parse(t->host, &ip) == 0)
		buf[0] = '\0';
	else if (strchr(t->addr, ':'))
		snprintf(buf, len, "%s:%d:[%s]", t->host, t->port, t->addr);
	else
		snprintf(buf, len, "%s:%d:%s", t->host, t->port, t->addr);
}
