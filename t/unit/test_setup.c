/* test_setup.c: what goes into the Proxmox setup script (src/setup.c): URLs checked (hostile
 * ones refused: quotes, $(...), backquotes, spaces, newlines), shell quoting, the token
 * name, and both scripts passing sh -n and, when installed, shellcheck; discovery's subnets
 * (src/discover.c): addresses counted, too large and malformed ones refused. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "discover.h"
#include "setup.h"
#include "tap.h"

static char out[512], err[128];

/* cidr parses into count addresses from first (dotted), or is refused (count 0). */
static void
subnet(const char *cidr, uint32_t count, uint32_t first)
{
	struct discover_scan scan = {0};
	int rc = discover_parse_cidr(cidr, DISCOVER_MAX_HOSTS, &scan, err, sizeof(err));

	if (count == 0) {
		ok(rc == -1, "subnet %s refused (%s)", cidr, err);
		return;
	}
	ok(rc == 0, "subnet %s parsed", cidr);
	is_int(scan.count, count, "subnet %s: %u addresses", cidr, count);
	is_int(scan.first, first, "subnet %s: its first address", cidr);
}

static void
accepted(const char *in, int port, const char *want)
{
	ok(setup_check_url(in, port, out, sizeof(out), err, sizeof(err)) == 0, "%s: accepted", in);
	is_str(out, want, "%s: normalised", in);
}

static void
refused(const char *in, int port)
{
	ok(setup_check_url(in, port, out, sizeof(out), err, sizeof(err)) == -1, "refused: %s", in);
}

/* The script for p written to a file, checked by sh -n (and shellcheck when there is one). */
static void
script_checks(const struct setup_script_params *p)
{
	struct strbuf sb = {0};
	char path[] = "/tmp/pulse-setup-test-XXXXXX", cmd[256];
	FILE *f;
	int fd = mkstemp(path);

	setup_script(p, &sb);
	ok(fd >= 0 && (f = fdopen(fd, "w")) != NULL, "%s: script file", p->type);
	fwrite(sb.data, 1, sb.len, f);
	fclose(f);
	ok(strncmp(sb.data, "#!/bin/sh\n", 10) == 0, "%s: a POSIX sh script", p->type);
	ok(strstr(sb.data, strcmp(p->type, "pve") == 0 ? "pulse-monitor@pam" : "pulse-monitor@pbs")
	    != NULL, "%s: its user", p->type);
	snprintf(cmd, sizeof(cmd), "sh -n %s", path);
	ok(system(cmd) == 0, "%s: sh -n", p->type);
	if (system("command -v shellcheck >/dev/null 2>&1") == 0) {
		snprintf(cmd, sizeof(cmd), "shellcheck -s sh %s", path);
		ok(system(cmd) == 0, "%s: shellcheck", p->type);
	}
	unlink(path);
	sb_free(&sb);
}

int
main(void)
{
	struct strbuf sb = {0};
	char token[64];

	accepted("pve1.example.com", 8006, "https://pve1.example.com:8006");
	accepted("https://10.0.0.5", 8006, "https://10.0.0.5:8006");
	accepted("http://pbs:8007/", 8007, "http://pbs:8007");
	accepted("https://[2001:db8::5]:8443", 8006, "https://[2001:db8::5]:8443");
	accepted("http://pulse.lan:7655/", 0, "http://pulse.lan:7655");
	accepted("https://proxy.lan/pulse/", 0, "https://proxy.lan/pulse");
	refused("", 8006);
	refused("https://", 8006);
	refused("ftp://pve1", 8006);
	refused("pve1'; rm -rf /; '", 8006);
	refused("pve1$(touch /tmp/x)", 8006);
	refused("pve1`id`", 8006);
	refused("pve1\nid", 8006);
	refused("pve1 x", 8006);
	refused("pve1:80x", 8006);
	refused("pve1:+80", 8006);
	refused("pve1:0", 8006);
	refused("pve1:70000", 8006);
	refused("pve1/path", 8006);
	refused("https://[::1", 8006);
	refused("http://pulse/$(id)", 0);
	refused("http://pulse/a\"b", 0);
	refused("http://pulse/a'b", 0);
	refused("http://pulse/a\\b", 0);

	/* Discovery's subnets (src/discover.c). */
	subnet("192.168.1.0/24", 254, 0xc0a80101u);
	subnet("192.168.1.77/24", 254, 0xc0a80101u);
	subnet("127.0.0.0/28", 14, 0x7f000001u);
	subnet("10.0.0.5", 1, 0x0a000005u);
	subnet("10.0.0.4/31", 2, 0x0a000004u);
	subnet("10.0.0.0/22", 1022, 0x0a000001u);
	subnet("10.0.0.0/21", 0, 0);
	subnet("0.0.0.0/0", 0, 0);
	subnet("2001:db8::/120", 0, 0);
	subnet("10.0.0.0/33", 0, 0);
	subnet("nonsense", 0, 0);

	ok(setup_code_well_formed("ABCD2345"), "a code");
	ok(!setup_code_well_formed(""), "no code");
	ok(!setup_code_well_formed("AB'CD"), "a quote in a code");
	ok(!setup_code_well_formed("AB$(id)"), "$( in a code");

	setup_shell_quote(&sb, "it's $(x)");
	is_str(sb.data, "'it'\\''s $(x)'", "single quotes, a quote escaped");
	sb_free(&sb);

	setup_token_name("http://Pulse.Example:7655/x", token, sizeof(token));
	is_str(token, "pulse-pulse-example-7655", "token name from the Pulse URL's host");
	setup_token_name("https://[::1]:7655", token, sizeof(token));
	is_str(token, "pulse-1-7655", "token name of an IPv6 address");

	script_checks(&(struct setup_script_params){"pve", "https://10.0.0.5:8006",
	    "http://pulse.lan:7655", "ABCD2345", 1});
	script_checks(&(struct setup_script_params){"pve", "", "http://pulse.lan:7655", "", 0});
	script_checks(&(struct setup_script_params){"pbs", "https://pbs:8007",
	    "https://proxy.lan/pulse", "", 0});
	return done_testing();
}
