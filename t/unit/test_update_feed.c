/* test_update_feed.c: version normalisation and comparison (metrics-reporting.md §6.1, §6.3),
 * the stable and rc selection from GitHub's releases JSON, and Atom feeds read safely
 * (entity declarations refused, an external DTD never loaded). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "update_feed.h"
#include "update_version.h"

static void
normalizes(const char *in, const char *want)
{
	char out[128];

	update_version_normalize(in, out, sizeof(out));
	is_str(out, want, "normalise \"%s\"", in);
}

static const char *
pick_json(const char *text, const char *channel, char *err, size_t errlen)
{
	static struct update_release rel;
	static char tag[64];
	int rc = update_feed_parse_json(text, strlen(text), channel, "deb", &rel, err, errlen);

	snprintf(tag, sizeof(tag), "%s", rc == 1 ? rel.tag : rc == 0 ? "none" : "error");
	update_release_clear(&rel);
	return tag;
}

static const char *
pick_atom(const char *text, const char *channel, char *err, size_t errlen)
{
	static struct update_release rel;
	static char tag[64];
	int rc = update_feed_parse_atom(text, strlen(text), channel, &rel, err, errlen);

	snprintf(tag, sizeof(tag), "%s", rc == 1 ? rel.tag : rc == 0 ? "none" : "error");
	update_release_clear(&rel);
	return tag;
}

int
main(void)
{
	char err[256];
	const char *releases =
	    "[{\"tag_name\":\"v9.0.0\",\"draft\":true},"
	    "{\"tag_name\":\"v1.3.0-rc.2\",\"prerelease\":true},"
	    "{\"tag_name\":\"v1.3.0-rc.10\",\"prerelease\":true},"
	    "{\"tag_name\":\"garbage\"},"
	    "{\"tag_name\":\"v1.2.0\",\"body\":\"notes\",\"published_at\":\"2026-01-02T03:04:05Z\","
	    "\"assets\":[{\"name\":\"pulse-v1.2.0-linux-amd64.tar.gz\",\"browser_download_url\":\"https://x/t\"},"
	    "{\"name\":\"pulse_1.2.0_all.deb\",\"browser_download_url\":\"https://x/d\"}]},"
	    "{\"tag_name\":\"v1.1.0\"}]";
	struct update_release rel = {0};

	normalizes("v1.2.3", "1.2.3");
	normalizes("1.2.3-rc.1", "1.2.3-rc.1");
	normalizes("v1.2.3-4-gabc1234", "1.2.3+git.4.gabc1234");
	normalizes("v1.2.3-rc.1-4-gabc1234-dirty", "1.2.3-rc.1+git.4.gabc1234.dirty");
	normalizes("abc1234", "0.0.0-abc1234");
	normalizes("a b/c", "0.0.0-abc");
	normalizes("", "0.0.0-dev");

	ok(update_version_valid("v1.2.3"), "v1.2.3 is a version");
	ok(update_version_valid("1.2.3-rc.1+build.5"), "with prerelease and build");
	ok(!update_version_valid("1.2"), "1.2 is not");
	ok(!update_version_valid("1.2.3-"), "an empty prerelease is not");
	ok(!update_version_valid("1.2.3 junk"), "trailing junk is not");
	ok(update_version_compare("1.10.0", "1.9.9") > 0, "minor compared as a number");
	ok(update_version_compare("v2.0.0", "1.99.99") > 0, "major first");
	ok(update_version_compare("1.2.3", "1.2.3-rc.9") > 0, "a release beats its rc");
	ok(update_version_compare("1.2.3-rc.10", "1.2.3-rc.2") > 0, "rc numbers as numbers");
	ok(update_version_compare("1.2.3-rc10", "1.2.3-rc.9") > 0, "rc without a dot");
	ok(update_version_compare("1.2.3+a", "1.2.3+b") == 0, "build metadata ignored");
	ok(update_version_compare("junk", "0.0.1") < 0, "junk below every version");
	ok(update_version_prerelease("v1.0.0-beta") && !update_version_prerelease("v1.0.0"),
	    "prerelease detection");

	is_str(pick_json(releases, "stable", err, sizeof(err)), "v1.2.0", "stable: first release");
	is_str(pick_json(releases, "rc", err, sizeof(err)), "v1.3.0-rc.10", "rc: highest prerelease");
	is_str(pick_json("[{\"tag_name\":\"v1.3.0-rc.1\",\"prerelease\":true},{\"tag_name\":\"v1.3.0\"}]",
	    "rc", err, sizeof(err)), "v1.3.0", "rc: a release beats its candidates");
	is_str(pick_json("[{\"tag_name\":\"v1.3.0-rc.1\",\"prerelease\":true}]", "stable", err,
	    sizeof(err)), "none", "stable: only prereleases");
	is_str(pick_json("[]", "stable", err, sizeof(err)), "none", "empty feed");
	is_str(pick_json("{\"tag_name\":\"v1.0.0\"}", "stable", err, sizeof(err)), "error", "an object");
	is_str(pick_json("[{", "stable", err, sizeof(err)), "error", "truncated");
	is_int(update_feed_parse_json(releases, strlen(releases), "stable", "deb", &rel, err,
	    sizeof(err)), 1, "stable release read");
	is_str(rel.download_url, "https://x/d", "deb: the _all.deb");
	is_str(rel.notes, "notes", "notes");
	ok(rel.date == 1767323045.0, "published_at");
	update_release_clear(&rel);
	(void)update_feed_parse_json(releases, strlen(releases), "stable", "systemd", &rel, err,
	    sizeof(err));
	is_str(rel.download_url, "https://x/t", "systemd: the Linux tarball, not the .deb");
	update_release_clear(&rel);

	is_str(pick_atom("<feed xmlns=\"http://www.w3.org/2005/Atom\">"
	    "<entry><title>Pulse v2.0.0-rc.1</title></entry>"
	    "<entry><title>Pulse v1.9.0</title></entry></feed>", "stable", err, sizeof(err)),
	    "v1.9.0", "atom stable skips the rc");
	is_str(pick_atom("<feed><entry><title>Pulse v2.0.0-rc.1</title></entry></feed>", "rc", err,
	    sizeof(err)), "v2.0.0-rc.1", "atom rc");
	is_str(pick_atom("<feed><entry><title>News</title><link href=\"https://h/releases/tag/v3.1.4\"/>"
	    "</entry></feed>", "stable", err, sizeof(err)), "v3.1.4", "atom: the version from the link");
	is_str(pick_atom("<?xml version=\"1.0\"?><!DOCTYPE feed [<!ENTITY a \"aaaa\">]>"
	    "<feed><entry><title>Pulse v1.0.0 &a;</title></entry></feed>", "stable", err,
	    sizeof(err)), "error", "entities refused");
	ok(strstr(err, "entities") != NULL, "the reason names entities");
	is_str(pick_atom("<?xml version=\"1.0\"?><!DOCTYPE feed SYSTEM \"file:///etc/passwd\">"
	    "<feed><entry><title>Pulse v1.0.0 &x;</title></entry></feed>", "stable", err,
	    sizeof(err)), "v1.0.0", "an external DTD is not loaded");
	is_str(pick_atom("<feed><entry>", "stable", err, sizeof(err)), "error", "not well-formed");
	is_str(pick_atom("<rss/>", "stable", err, sizeof(err)), "error", "not Atom");
	return done_testing();
}
