/* test_urlguard.c: the webhook URL rules (§8.3) with literal addresses and "localhost" only,
 * so that no outside DNS is needed. */
#include "config.h"

#include <string.h>

#include "tap.h"
#include "urlguard.h"

static char err[256];

static int
allowed(const char *url, const char *allow)
{
	err[0] = '\0';
	return urlguard_check(url, allow, NULL, err, sizeof(err)) == 0;
}

int
main(void)
{
	struct urlguard_target t;
	char line[400];

	ok(allowed("https://192.0.2.10/hook", NULL), "a public address passes");
	ok(allowed("http://8.8.8.8:8080/x?y=1", ""), "http with a port passes");
	ok(!allowed("", NULL), "empty URL refused");
	ok(!allowed("ftp://192.0.2.10/", NULL), "ftp refused");
	ok(strstr(err, "scheme") != NULL, "the reason names the scheme");
	ok(!allowed("file:///etc/passwd", NULL), "file refused");
	ok(!allowed("gopher://192.0.2.10/", NULL), "gopher refused");
	ok(!allowed("not a url", NULL), "garbage refused");
	ok(!allowed("http://user:secret@192.0.2.10/", NULL), "userinfo refused");
	ok(strstr(err, "secret") == NULL, "the reason does not repeat the password");
	ok(!allowed("http://user@192.0.2.10/", NULL), "a user name alone refused");

	/* loopback */
	ok(!allowed("http://127.0.0.1:9000/", NULL), "127.0.0.1 refused without allowlist");
	ok(!allowed("http://localhost/", NULL), "localhost refused without allowlist");
	ok(!allowed("http://LOCALHOST./", NULL), "LOCALHOST. refused");
	ok(!allowed("http://[::1]/", NULL), "::1 refused");
	ok(!allowed("http://127.1.2.3/", "10.0.0.0/8"), "127.x refused with another allowlist");
	ok(allowed("http://127.0.0.1:9000/", "127.0.0.1"), "127.0.0.1 allowed when allowlisted");
	ok(allowed("http://localhost:9000/", "127.0.0.0/8,::1"), "localhost allowed when allowlisted");
	ok(!allowed("http://2130706433/", NULL), "127.0.0.1 as a number refused");
	ok(!allowed("http://0x7f.1/", NULL), "127.0.0.1 in hex refused");

	/* private ranges */
	ok(!allowed("http://10.1.2.3/", NULL), "10/8 refused");
	ok(strstr(err, "private") != NULL, "the reason says private");
	ok(!allowed("http://172.16.0.1/", NULL), "172.16/12 refused");
	ok(!allowed("http://192.168.1.1/", NULL), "192.168/16 refused");
	ok(!allowed("http://[fd00::1]/", NULL), "ULA refused");
	ok(!allowed("http://[::ffff:10.0.0.1]/", NULL), "IPv4-mapped private refused");
	ok(allowed("http://10.1.2.3/", "10.0.0.0/8"), "10/8 allowed when allowlisted");
	ok(allowed("http://192.168.1.1/", "192.168.1.1"), "a bare address allowlists itself");
	ok(!allowed("http://192.168.1.2/", "192.168.1.1"), "its neighbour stays refused");
	ok(!allowed("http://0.0.0.0/", NULL), "0.0.0.0 refused (compatibility: the original allows)");
	ok(!allowed("http://0.1.2.3/", NULL), "0/8 refused");
	ok(!allowed("http://100.64.0.1/", NULL), "100.64/10 refused");
	ok(allowed("http://100.64.0.1/", "100.64.0.0/10"), "100.64/10 allowed when allowlisted");
	ok(allowed("http://100.128.0.1/", NULL), "just past 100.64/10 passes");
	ok(!allowed("http://[::]/", NULL), ":: refused");

	/* link-local and metadata: never */
	ok(!allowed("http://169.254.169.254/latest/meta-data/", "169.254.0.0/16"),
	    "metadata address refused even when allowlisted");
	ok(!allowed("http://169.254.1.1/", "0.0.0.0/0"), "169.254.x refused always");
	ok(!allowed("http://[fe80::1]/", "::/0"), "fe80: refused always");
	ok(!allowed("http://metadata.google.internal/", NULL), "metadata.google.internal refused");
	ok(!allowed("http://METADATA.GOOG/", NULL), "metadata.goog refused");
	ok(!allowed("http://[::ffff:169.254.169.254]/", "0.0.0.0/0,::/0"),
	    "IPv4-mapped metadata refused");

	/* the target to pin */
	memset(&t, 0, sizeof(t));
	ok(urlguard_check("https://192.0.2.10/hook", NULL, &t, err, sizeof(err)) == 0, "target");
	is_str(t.host, "192.0.2.10", "target host");
	is_int(t.port, 443, "https default port");
	is_str(t.addr, "192.0.2.10", "target address");
	urlguard_resolve_line(&t, line, sizeof(line));
	is_str(line, "", "a literal host is not pinned");
	ok(urlguard_check("http://localhost:8123/x", "127.0.0.1,::1", &t, err, sizeof(err)) == 0,
	    "localhost target");
	is_str(t.host, "localhost", "name kept");
	is_int(t.port, 8123, "explicit port");
	ok(strcmp(t.addr, "127.0.0.1") == 0 || strcmp(t.addr, "::1") == 0, "loopback address");
	urlguard_resolve_line(&t, line, sizeof(line));
	ok(strncmp(line, "localhost:8123:", 15) == 0, "pin line for a name: %s", line);
	ok(urlguard_check("http://[2001:db8::1]:81/", NULL, &t, err, sizeof(err)) == 0, "v6 literal");
	is_str(t.host, "2001:db8::1", "v6 host without brackets");
	is_int(t.port, 81, "v6 port");
	ok(!allowed("http://name.invalid/", NULL), "an unresolvable name refused");
	return done_testing();
}
