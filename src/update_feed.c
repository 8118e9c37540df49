/* update_feed.c: a release feed read and the channel's release picked (metrics-reporting.md
 * §6.3): GitHub's releases JSON, or an Atom feed read with libxml2 safely. */
#include "config.h"

#include "update_feed.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "timefmt.h"
#include "update_version.h"
#include "util.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

void
update_release_clear(struct update_release *r)
{
	free(r->notes);
	memset(r, 0, sizeof(*r));
}

static struct utsname machine;

static void
read_uname(void)
{
	if (uname(&machine) != 0)
		snprintf(machine.machine, sizeof(machine.machine), "unknown");
}

/* This machine's architecture as Debian names it (deb = 1) or as the original's tarballs do. */
static const char *
machine_arch(int deb)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	static const struct { const char *machine, *deb, *tar; } arches[] = {
		{"x86_64", "amd64", "amd64"}, {"aarch64", "arm64", "arm64"},
		{"armv7l", "armhf", "armv7"}, {"i686", "i386", "386"}, {"i386", "i386", "386"},
	};

	pthread_once(&once, read_uname);
	for (size_t i = 0; i < ARRAY_LEN(arches); i++)
		if (strcmp(machine.machine, arches[i].machine) == 0)
			return deb ? arches[i].deb : arches[i].tar;
	return machine.machine;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The download URL of the asset this deployment installs, "" when none fits. */
static void
pick_asset(struct json_object *release, const char *tag, const char *deployment, char *out,
    size_t len)
{
	struct json_object *assets = jsonread_member(release, "assets");
	int n = jsonread_array_len(assets), best = 0;
	char exact[256], deb_arch[128];

	out[0] = '\0';
	snprintf(exact, sizeof(exact), "pulse-%s-linux-%s.tar.gz", tag, machine_arch(0));
	snprintf(deb_arch, sizeof(deb_arch), "_%s.deb", machine_arch(1));
	for (int i = 0; i < n; i++) {
		struct json_object *a = json_object_array_get_idx(assets, (size_t)i);
		const char *name = jsonread_string(a, "name", ""), *url =
		    jsonread_string(a, "browser_download_url", "");
		int rank = 0;

		if (url[0] == '\0' || strlen(url) >= len)
			continue;
		if (strcmp(deployment, "deb") == 0 && (ends_with(name, deb_arch) ||
		    ends_with(name, "_all.deb")))
			rank = 3;
		else if (strcmp(name, exact) == 0)
			rank = 2;
		else if (strncmp(name, "pulse-", 6) == 0 && strstr(name, "linux") &&
		    ends_with(name, ".tar.gz"))
			rank = 1;
		if (rank > best) {
			best = rank;
			snprintf(out, len, "%s", url);
		}
	}
}

static void
fill_release(struct json_object *rel, const char *deployment, struct update_release *out)
{
	double t = 0;

	update_release_clear(out);
	snprintf(out->tag, sizeof(out->tag), "%s", jsonread_string(rel, "tag_name", ""));
	out->notes = xstrdup(jsonread_string(rel, "body", ""));
	if (timefmt_parse_rfc3339(jsonread_string(rel, "published_at", ""), &t) == 0)
		out->date = t;
	out->prerelease = jsonread_bool(rel, "prerelease", 0);
	pick_asset(rel, out->tag, deployment, out->download_url, sizeof(out->download_url));
}

int
update_feed_parse_json(const char *text, size_t len, const char *channel,
    const char *deployment, struct update_release *out, char *err, size_t errlen)
{
	char perr[128];
	struct json_object *arr = jsonutil_parse_limited(text, len, &jsonutil_limits_upstream, NULL,
	    perr, sizeof(perr)), *best_pre = NULL, *best_rel = NULL, *pick = NULL;
	int rc = 'r' == channel[0];
	int n;

	if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
		snprintf(err, errlen, "release feed is not a JSON array of releases%s%s",
		    arr ? "" : ": ", arr ? "" : perr);
		json_object_put(arr);
		return -1;
	}
	n = (int)json_object_array_length(arr);
	for (int i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(arr, (size_t)i);
		const char *tag = jsonread_string(r, "tag_name", "");
		int pre = jsonread_bool(r, "prerelease", 0);

		if (!jsonread_is_object(r) || jsonread_bool(r, "draft", 0) ||
		    !update_version_valid(tag) || strlen(tag) >= sizeof(out->tag))
			continue;
		if (!rc) {
			if (!pre) {
				pick = r;
				break;
			}
			continue;
		}
		if (pre) {
			if (best_pre == NULL || update_version_compare(tag,
			    jsonread_string(best_pre, "tag_name", "")) > 0)
				best_pre = r;
		} else if (best_rel == NULL || update_version_compare(tag,
		    jsonread_string(best_rel, "tag_name", "")) > 0) {
			best_rel = r;
		}
	}
	if (rc) {
		pick = best_rel ? best_rel : best_pre;
		if (best_pre && best_rel && update_version_compare(jsonread_string(best_pre,
		    "tag_name", ""), jsonread_string(best_rel, "tag_name", "")) > 0)
			pick = best_pre;
	}
	if (pick)
		fill_release(pick, deployment, out);
	json_object_put(arr);
	return pick != NULL;
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void
xml_init(void)
{
	xmlInitParser();
}

/* A version in text: the first "vX.Y.Z[-pre]" or "X.Y.Z[-pre]" token. */
static int
version_in(const char *text, char *out, size_t len)
{
	for (const char *p = text; p && *p; p++) {
		size_t n;

		if (!((*p == 'v' && p[1] >= '0' && p[1] <= '9') || (*p >= '0' && *p <= '9')))
			continue;
		if (p > text && (p[-1] == '.' || (p[-1] >= '0' && p[-1] <= '9') ||
		    (p[-1] >= 'A' && p[-1] <= 'z')))
			continue;
		n = strspn(p, "v0123456789.-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
		while (n > 0 && (p[n - 1] == '.' || p[n - 1] == '-'))
			n--;
		if (n == 0 || n >= len)
			continue;
		memcpy(out, p, n);
		out[n] = '\0';
		if (update_version_valid(out))
			return 1;
	}
	return 0;
}

static int
is_element(xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

int
update_feed_parse_atom(const char *text, size_t len, const char *channel,
    struct update_release *out, char *err, size_t errlen)
{
	xmlDoc *doc;
	xmlNode *root;
	int found = 0;

	/* Entities are what billion-laughs and external-entity documents need; a release feed
	 * has none. Refused before the parser sees the text, and again on what it built. */
	if (memmem(text, len, "<!ENTITY", 8) != NULL) {
		snprintf(err, errlen, "release feed declares XML entities: refused");
		return -1;
	}
	if (len > (size_t)0x7fffffff) {
		snprintf(err, errlen, "release feed too large");
		return -1;
	}
	pthread_once(&xml_once, xml_init);
	doc = xmlReadMemory(text, (int)len, "feed.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (doc == NULL) {
		snprintf(err, errlen, "release feed is not well-formed XML");
		return -1;
	}
	if (doc->intSubset != NULL && (doc->intSubset->entities != NULL ||
	    doc->intSubset->pentities != NULL)) {
		xmlFreeDoc(doc);
		snprintf(err, errlen, "release feed declares XML entities: refused");
		return -1;
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !is_element(root, "feed")) {
		xmlFreeDoc(doc);
		snprintf(err, errlen, "release feed is not an Atom feed");
		return -1;
	}
	for (xmlNode *e = root->children; e && !found; e = e->next) {
		char version[64] = "", updated[64] = "";
		double t = 0;

		if (!is_element(e, "entry"))
			continue;
		for (xmlNode *c = e->children; c; c = c->next) {
			if (is_element(c, "title") && version[0] == '\0') {
				xmlChar *s = xmlNodeGetContent(c);
				(void)version_in((const char *)s, version, sizeof(version));
				xmlFree(s);
			} else if (is_element(c, "updated")) {
				xmlChar *s = xmlNodeGetContent(c);
				snprintf(updated, sizeof(updated), "%s", s ? (const char *)s : "");
				xmlFree(s);
			}
		}
		for (xmlNode *c = e->children; c && version[0] == '\0'; c = c->next) {
			if (is_element(c, "link")) {
				xmlChar *href = xmlGetProp(c, (const xmlChar *)"href");
				const char *tag = href ? strstr((const char *)href, "/tag/") : NULL;
				if (tag)
					(void)version_in(tag + 5, version, sizeof(version));
				xmlFree(href);
			}
		}
		if (version[0] == '\0' || strlen(version) >= sizeof(out->tag))
			continue;
		if (strcmp(channel, "stable") == 0 && update_version_prerelease(version))
			continue;
		update_release_clear(out);
		snprintf(out->tag, sizeof(out->tag), "%s", version);
		out->notes = xstrdup("");
		if (timefmt_parse_rfc3339(updated, &t) == 0)
			out->date = t;
		out->prerelease = update_version_prerelease(version);
		found = 1;
	}
	xmlFreeDoc(doc);
	return found;
}
