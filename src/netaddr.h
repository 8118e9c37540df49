/* netaddr.h: IP addresses and CIDR ranges: trusted proxies, loopback and private networks. */
#ifndef PULSE_NETADDR_H
#define PULSE_NETADDR_H

#include <stddef.h>

struct ipaddr {
	int v6;			/* 0: IPv4 in bytes[0..3]; 1: IPv6 */
	unsigned char bytes[16];
};

struct cidr {
	struct ipaddr base;
	int prefix;		/* bits */
};

/* Parses a literal IPv4 or IPv6 address (IPv4-mapped IPv6 becomes IPv4). 0 or -1. */
int ip_parse(const char *s, struct ipaddr *out);
/* Parses "addr/len" or a bare address (a host range). 0 or -1. */
int cidr_parse(const char *s, struct cidr *out);
/* Parses a comma list, skipping blanks; returns the number of invalid entries (skipped)
 * and a new array in *out (caller frees) of *count ranges. */
int cidr_list_parse(const char *csv, struct cidr **out, int *count);
int cidr_contains(const struct cidr *range, const struct ipaddr *ip);
int cidr_list_contains(const struct cidr *ranges, int count, const struct ipaddr *ip);

int ip_is_loopback(const struct ipaddr *ip);

/* The key a client is counted by in rate limits and lockouts: an IPv4 address as written,
 * an IPv6 address by its /64 ("2001:db8:1:2::/64"). out holds at least 64 bytes. */
void ip_client_key(const struct ipaddr *ip, char *out, size_t outlen);
/* Loopback, link-local, RFC 1918, unique-local IPv6. */
int ip_is_private(const struct ipaddr *ip);

#endif
