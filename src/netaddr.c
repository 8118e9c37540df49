/* netaddr.c: address and range parsing with inet_pton. */
#include "config.h"

#include "netaddr.h"
#include "util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
ip_parse(const char *s, struct ipaddr *out)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	unsigned char buf[16];

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return -1;
	if (inet_pton(AF_INET, s, buf) == 1) {
		memcpy(out->bytes, buf, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, buf) == 1) {
		if (memcmp(buf, mapped, 12) == 0) {
			memcpy(out->bytes, buf + 12, 4);
			return 0;
		}
		out->v6 = 1;
		memcpy(out->bytes, buf, 16);
		return 0;
	}
	return -1;
}

int
cidr_parse(const char *s, struct cidr *out)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	int64_t prefix;

	if (len == 0 || len >= sizeof(addr))
		return -1;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (ip_parse(addr, &out->base) != 0)
		return -1;
	if (slash == NULL) {
		out->prefix = out->base.v6 ? 128 : 32;
		return 0;
	}
	if (parse_int64(slash + 1, 0, out->base.v6 ? 128 : 32, &prefix) != 0)
		return -1;
	out->prefix = (int)prefix;
	return 0;
}

int
cidr_list_parse(const char *csv, struct cidr **out, int *count)
{
	char *copy = xstrdup(csv ? csv : ""), *save = NULL;
	int bad = 0, n = 0;
	struct cidr *list = NULL;

	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct cidr c;
		while (*tok == ' ' || *tok == '\t')
			tok++;
		size_t l = strlen(tok);
		while (l > 0 && (tok[l - 1] == ' ' || tok[l - 1] == '\t'))
			tok[--l] = '\0';
		if (l == 0)
			continue;
		if (cidr_parse(tok, &c) != 0) {
			bad++;
			continue;
		}
		list = xrealloc(list, sizeof(*list) * (size_t)(n + 1));
		list[n++] = c;
	}
	free(copy);
	*out = list;
	*count = n;
	return bad;
}

int
cidr_contains(const struct cidr *range, const struct ipaddr *ip)
{
	int full, rest;

	if (range->base.v6 != ip->v6)
		return 0;
	full = range->prefix / 8;
	rest = range->prefix % 8;
	if (memcmp(range->base.bytes, ip->bytes, (size_t)full) != 0)
		return 0;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));
		if ((range->base.bytes[full] & mask) != (ip->bytes[full] & mask))
			return 0;
	}
	return 1;
}

int
cidr_list_contains(const struct cidr *ranges, int count, const struct ipaddr *ip)
{
	for (int i = 0; i < count; i++)
		if (cidr_contains(&ranges[i], ip))
			return 1;
	return 0;
}

static int
in_any(const char *const *ranges, size_t n, const struct ipaddr *ip)
{
	for (size_t i = 0; i < n; i++) {
		struct cidr c;
		if (cidr_parse(ranges[i], &c) == 0 && cidr_contains(&c, ip))
			return 1;
	}
	return 0;
}

int
ip_is_loopback(const struct ipaddr *ip)
{
	static const char *const loop[] = {"127.0.0.0/8", "::1/128"};
	return in_any(loop, ARRAY_LEN(loop), ip);
}

int
ip_is_private(const struct ipaddr *ip)
{
	static const char *const priv[] = {"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12",
	    "192.168.0.0/16", "169.254.0.0/16", "::1/128", "fc00::/7", "fe80::/10"};
	return in_any(priv, ARRAY_LEN(priv), ip);
}

void
ip_client_key(const struct ipaddr *ip, char *out, size_t outlen)
{
	unsigned char net[16];
	char text[INET6_ADDRSTRLEN];

	if (!ip->v6) {
		inet_ntop(AF_INET, ip->bytes, text, sizeof(text));
		snprintf(out, outlen, "%s", text);
		return;
	}
	/* One holder of an IPv6 /64 has 2^64 addresses: counting them one by one would count
	 * nothing. */
	memset(net, 0, sizeof(net));
	memcpy(net, ip->bytes, 8);
	inet_ntop(AF_INET6, net, text, sizeof(text));
	snprintf(out, outlen, "%s/64", text);
}
