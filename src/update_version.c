/* update_version.c: the version and deployment type of this build, and version comparison
 * (metrics-reporting.md §6.1, §6.3). */
#include "config.h"

#include "update_version.h"
#include "conf.h"
#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct version_parts {
	long major, minor, patch;
	char pre[64];		/* prerelease without its "-", "" for a release */
};

/* Reads one dot-separated number; returns the position after it, or NULL. */
static const char *
read_number(const char *p, long *out)
{
	char *end;

	if (!isdigit((unsigned char)*p))
		return NULL;
	*out = strtol(p, &end, 10);
	if (*out < 0 || *out == LONG_MAX)
		return NULL;
	return end;
}

static int
version_parse(const char *s, struct version_parts *v)
{
	const char *p = s;
	size_t n;

	memset(v, 0, sizeof(*v));
	if (*p == 'v' || *p == 'V')
		p++;
	if ((p = read_number(p, &v->major)) == NULL || *p++ != '.' ||
	    (p = read_number(p, &v->minor)) == NULL || *p++ != '.' ||
	    (p = read_number(p, &v->patch)) == NULL)
		return -1;
	if (*p == '-') {
		p++;
		n = strcspn(p, "+");
		if (n == 0 || n >= sizeof(v->pre))
			return -1;
		memcpy(v->pre, p, n);
		v->pre[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)v->pre[i]) && v->pre[i] != '.' && v->pre[i] != '-')
				return -1;
		p += n;
	}
	if (*p == '+') {
		for (p++; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
				return -1;
	}
	return *p == '\0' ? 0 : -1;
}

int
update_version_valid(const char *s)
{
	struct version_parts v;

	return s != NULL && version_parse(s, &v) == 0;
}

int
update_version_prerelease(const char *s)
{
	struct version_parts v;

	return s != NULL && version_parse(s, &v) == 0 && v.pre[0] != '\0';
}

/* The number after "rc" or "rc." in a prerelease, or -1. */
static long
rc_number(const char *pre)
{
	const char *p = strcasestr(pre, "rc");
	long n;

	if (p == NULL)
		return -1;
	p += 2;
	if (*p == '.')
		p++;
	return read_number(p, &n) ? n : -1;
}

int
update_version_compare(const char *a, const char *b)
{
	struct version_parts va, vb;
	int oka = version_parse(a ? a : "", &va) == 0, okb = version_parse(b ? b : "", &vb) == 0;
	long ra, rb;

	if (!oka || !okb)
		return oka - okb;
	if (va.major != vb.major)
		return va.major < vb.major ? -1 : 1;
	if (va.minor != vb.minor)
		return va.minor < vb.minor ? -1 : 1;
	if (va.patch != vb.patch)
		return va.patch < vb.patch ? -1 : 1;
	if (!va.pre[0] || !vb.pre[0])
		return (va.pre[0] == '\0') - (vb.pre[0] == '\0');
	ra = rc_number(va.pre);
	rb = rc_number(vb.pre);
	if (ra >= 0 && rb >= 0)
		return ra < rb ? -1 : ra > rb;
	return strcmp(va.pre, vb.pre) < 0 ? -1 : strcmp(va.pre, vb.pre) > 0;
}

/* Whether s ends in git describe's "-N-gHASH[-dirty]": sets *cut to where that begins. */
static int
describe_suffix(const char *s, size_t *cut, long *count, char *hash, size_t hashlen, int *dirty)
{
	size_t len = strlen(s), end = len;
	const char *g;
	size_t i;

	*dirty = len > 6 && strcmp(s + len - 6, "-dirty") == 0;
	if (*dirty)
		end -= 6;
	/* back to "-g" */
	for (i = end; i > 0 && isxdigit((unsigned char)s[i - 1]); i--)
		;
	if (i == end || i < 2 || s[i - 1] != 'g' || s[i - 2] != '-' || end - i >= hashlen)
		return 0;
	memcpy(hash, s + i, end - i);
	hash[end - i] = '\0';
	g = s + i - 2;		/* the "-" before g */
	for (i = (size_t)(g - s); i > 0 && isdigit((unsigned char)s[i - 1]); i--)
		;
	if (i == (size_t)(g - s) || i < 1 || s[i - 1] != '-')
		return 0;
	*count = strtol(s + i, NULL, 10);
	*cut = i - 1;
	return 1;
}

void
update_version_normalize(const char *in, char *out, size_t len)
{
	char base[128], hash[64];
	size_t cut, o = 0;
	long count;
	int dirty;

	if (in == NULL || *in == '\0') {
		snprintf(out, len, "0.0.0-dev");
		return;
	}
	if (*in == 'v' || *in == 'V')
		in++;
	if (describe_suffix(in, &cut, &count, hash, sizeof(hash), &dirty) &&
	    cut < sizeof(base)) {
		memcpy(base, in, cut);
		base[cut] = '\0';
		if (update_version_valid(base) && strchr(base, '+') == NULL) {
			snprintf(out, len, "%s+git.%ld.g%s%s", base, count, hash, dirty ? ".dirty" : "");
			return;
		}
	}
	if (update_version_valid(in)) {
		snprintf(out, len, "%s", in);
		return;
	}
	o = (size_t)snprintf(out, len, "0.0.0-");
	for (; *in && o + 1 < len; in++)
		if (isalnum((unsigned char)*in) || *in == '.' || *in == '-')
			out[o++] = *in;
	out[o < len ? o : len - 1] = '\0';
}

/* Whether the dpkg file list of the pulse package names path. */
static int
dpkg_lists(const char *path)
{
	FILE *fp = fopen("/var/lib/dpkg/info/pulse.list", "r");
	char line[4096];
	int found = 0;

	if (fp == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		found = strcmp(line, path) == 0;
	}
	fclose(fp);
	return found;
}

/* Whether the executable runs from a configured build tree (its folder's parent holds
 * config.status). */
static int
in_build_tree(const char *exe)
{
	char dir[4096], *slash;

	snprintf(dir, sizeof(dir), "%s", exe);
	for (int up = 0; up < 2; up++) {
		if ((slash = strrchr(dir, '/')) == NULL)
			return 0;
		*slash = '\0';
	}
	if (strlen(dir) + sizeof("/config.status") > sizeof(dir))
		return 0;
	strcat(dir, "/config.status");
	return access(dir, F_OK) == 0;
}

static int
systemd_units(void)
{
	static const char *const units[] = {
		"/etc/systemd/system/pulse-fcgi.service", "/lib/systemd/system/pulse-fcgi.service",
		"/usr/lib/systemd/system/pulse-fcgi.service",
		"/usr/local/lib/systemd/system/pulse-fcgi.service",
		"/etc/systemd/system/pulse-worker.service", "/lib/systemd/system/pulse-worker.service",
	};

	for (size_t i = 0; i < ARRAY_LEN(units); i++)
		if (access(units[i], F_OK) == 0)
			return 1;
	return 0;
}

static struct update_build build_current;
static pthread_once_t build_once = PTHREAD_ONCE_INIT;

static void
detect_build(void)
{
	struct update_build *b = &build_current;
	const char *describe = PULSE_GIT_DESCRIBE, *set = conf_str("deployment_type");
	char exe[4096] = "", norm[128];
	ssize_t n;

	/* A checkout without tags describes itself as a bare hash: the VERSION file's number
	 * with the hash as build metadata, so that it still compares with releases. */
	if (describe[0] == '\0') {
		snprintf(b->version, sizeof(b->version), "%s", PACKAGE_VERSION);
		b->build = "release";
	} else {
		update_version_normalize(describe, norm, sizeof(norm));
		if (update_version_valid(norm) && strncmp(norm, "0.0.0-", 6) != 0)
			snprintf(b->version, sizeof(b->version), "%s", norm);
		else {
			size_t d = strlen(describe);
			int dirty = d > 6 && strcmp(describe + d - 6, "-dirty") == 0;
			snprintf(b->version, sizeof(b->version), "%s+git.g%.*s%s", PACKAGE_VERSION,
			    (int)(dirty ? d - 6 : d), describe, dirty ? ".dirty" : "");
		}
		b->build = "development";
	}
	b->channel = strcasestr(b->version, "rc") ? "rc" : "stable";
	b->docker = access("/.dockerenv", F_OK) == 0;
	b->containerized = b->docker || access("/run/systemd/container", F_OK) == 0;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if (set[0])
		snprintf(b->deployment, sizeof(b->deployment), "%s", set);
	else if (b->docker)
		snprintf(b->deployment, sizeof(b->deployment), "docker");
	else if (b->containerized)
		snprintf(b->deployment, sizeof(b->deployment), "container");
	else if (exe[0] && dpkg_lists(exe))
		snprintf(b->deployment, sizeof(b->deployment), "deb");
	else if (exe[0] && in_build_tree(exe))
		snprintf(b->deployment, sizeof(b->deployment), "source");
	else if (systemd_units())
		snprintf(b->deployment, sizeof(b->deployment), "systemd");
	else
		snprintf(b->deployment, sizeof(b->deployment), "manual");
}

const struct update_build *
update_build_current(void)
{
	pthread_once(&build_once, detect_build);
	return &build_current;
}

int
update_auto_supported(const char *deployment)
{
	if (conf_str("update_install_command")[0] == '\0')
		return 0;
	return strcmp(deployment, "deb") == 0 || strcmp(deployment, "systemd") == 0 ||
	    strcmp(deployment, "manual") == 0;
}
