/* test_uri.c: the host and port of a URL: IPv4, IPv6 with and without a port, names, no
 * scheme, trailing paths, and garbage. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "uri.h"

static char host[64], port[8];

static int
split(const char *url)
{
	return uri_split_host_port(url, "8006", host, sizeof(host), port, sizeof(port));
}

/* url splits into want_host and want_port. */
static void
splits(const char *url, const char *want_host, const char *want_port)
{
	ok(split(url) == 0, "%s: split", url);
	is_str(host, want_host, "%s: host", url);
	is_str(port, want_port, "%s: port", url);
}

/* url is refused, leaving no host and the default port. */
static void
refused(const char *url)
{
	ok(split(url) == -1, "%s: refused", url);
	is_str(host, "", "%s: no host", url);
	is_str(port, "8006", "%s: the default port", url);
}

int
main(void)
{
	char small[4], tiny_port[3];

	splits("https://10.0.0.5:8006", "10.0.0.5", "8006");
	splits("https://10.0.0.5:8007/api2/json", "10.0.0.5", "8007");
	splits("https://10.0.0.5", "10.0.0.5", "8006");
	splits("http://10.0.0.5:80?x=1", "10.0.0.5", "80");
	splits("https://[2001:db8::5]:8443/api2/json", "2001:db8::5", "8443");
	splits("https://[2001:db8::5]", "2001:db8::5", "8006");
	splits("https://[fe80::1]/x", "fe80::1", "8006");
	splits("https://pve1.example.com:8006/", "pve1.example.com", "8006");
	splits("pve1:8006", "pve1", "8006");
	splits("pve1", "pve1", "8006");
	splits("10.0.0.5/path:with:colons", "10.0.0.5", "8006");
	splits("https://pve1:/", "pve1", "8006");
	splits("https://pve1#frag", "pve1", "8006");

	refused("");
	refused("https://");
	refused("https://:8006");
	refused("https://[2001:db8::5:8006");
	refused("https://[]:8006");
	refused("https://[::1]x");
	refused("https://pve1:http");
	refused("https://pve1:0");
	refused("https://pve1:65536");
	refused("https://pve1:+80");
	refused("https://pve1: 80");
	refused("https://pve1:123456789");
	refused("fe80::1");

	ok(uri_split_host_port("https://long-name:8006", "8006", small, sizeof(small), port,
	    sizeof(port)) == -1, "a host longer than its buffer is refused");
	ok(uri_split_host_port("https://h:8006", "8006", host, sizeof(host), tiny_port,
	    sizeof(tiny_port)) == 0 && strcmp(tiny_port, "80") == 0, "a short port buffer truncates");
	return done_testing();
}
