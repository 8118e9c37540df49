/* test_netaddr.c: addresses, CIDR ranges, loopback and private networks. */
#include "config.h"

#include <stdlib.h>

#include "netaddr.h"
#include "tap.h"

static int
contains(const char *range, const char *ip)
{
	struct cidr c;
	struct ipaddr a;
	return cidr_parse(range, &c) == 0 && ip_parse(ip, &a) == 0 && cidr_contains(&c, &a);
}

static int
is_private(const char *s)
{
	struct ipaddr a;
	return ip_parse(s, &a) == 0 && ip_is_private(&a);
}

/* The rate-limit and lockout key of an address (a static buffer). */
static const char *
key_of(const char *addr)
{
	static char key[64];
	struct ipaddr ip;

	if (ip_parse(addr, &ip) != 0)
		return "unparsable";
	ip_client_key(&ip, key, sizeof(key));
	return key;
}

int
main(void)
{
	struct ipaddr a;
	struct cidr *list;
	int n, bad;

	ok(ip_parse("192.0.2.1", &a) == 0 && !a.v6, "IPv4");
	ok(ip_parse("2001:db8::1", &a) == 0 && a.v6, "IPv6");
	ok(ip_parse("::ffff:127.0.0.1", &a) == 0 && !a.v6 && ip_is_loopback(&a), "mapped IPv4 is IPv4");
	ok(ip_parse("300.1.1.1", &a) != 0, "bad IPv4 refused");
	ok(ip_parse("", &a) != 0 && ip_parse(NULL, &a) != 0, "empty and NULL refused");
	ok(ip_parse("127.0.0.1 ", &a) != 0, "trailing space refused");
	ok(contains("10.0.0.0/8", "10.200.3.4"), "inside /8");
	ok(!contains("10.0.0.0/8", "11.0.0.1"), "outside /8");
	ok(contains("172.16.0.0/12", "172.31.255.255"), "inside /12");
	ok(!contains("172.16.0.0/12", "172.32.0.0"), "outside /12");
	ok(contains("192.0.2.7", "192.0.2.7") && !contains("192.0.2.7", "192.0.2.8"), "bare address is /32");
	ok(contains("0.0.0.0/0", "8.8.8.8"), "/0 holds everything v4");
	ok(!contains("0.0.0.0/0", "::1"), "but not v6");
	ok(contains("fe80::/10", "fe80::1234"), "IPv6 range");
	ok(!contains("10.0.0.0/33", "10.0.0.1"), "prefix too long refused");
	ok(!contains("10.0.0.0/x", "10.0.0.1"), "prefix not a number refused");
	ok(is_private("127.0.0.1") && is_private("10.1.2.3") && is_private("192.168.1.1") &&
	    is_private("169.254.1.1") && is_private("::1") && is_private("fd00::1"), "private ranges");
	ok(!is_private("8.8.8.8") && !is_private("2001:db8::1") && !is_private("172.32.0.1"),
	    "public addresses");
	bad = cidr_list_parse(" 10.0.0.0/8, ,nonsense, ::1 ,192.0.2.0/24", &list, &n);
	is_int(n, 3, "list: three ranges");
	is_int(bad, 1, "list: one invalid entry reported");
	ok(ip_parse("192.0.2.9", &a) == 0 && cidr_list_contains(list, n, &a), "list membership");
	free(list);
	bad = cidr_list_parse("", &list, &n);
	ok(bad == 0 && n == 0, "empty list");
	free(list);
	is_str(key_of("192.0.2.9"), "192.0.2.9", "L1: an IPv4 client counts by its address");
	is_str(key_of("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64",
	    "L1: an IPv6 client counts by its /64");
	is_str(key_of("2001:db8:1:2::7"), "2001:db8:1:2::/64",
	    "L1: another address of the same /64 counts the same");
	is_str(key_of("::ffff:192.0.2.9"), "192.0.2.9", "an IPv4-mapped address counts as IPv4");
	return done_testing();
}
