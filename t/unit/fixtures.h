/* fixtures.h: the recorded Proxmox VE answers (/work/shared/fixtures/proxmox-recorded) for the
 * unit tests that check parsers and derivations against what real servers send. */
#ifndef PULSE_TEST_FIXTURES_H
#define PULSE_TEST_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "tap.h"
#include "util.h"

static char fixtures[1024];

/* Where the shared recordings are: PULSE_FIXTURES, else beside the checkout as
 * t/lib/PulseStack.pm looks for them. */
__attribute__((unused)) static int
find_fixtures(void)
{
	const char *env = getenv("PULSE_FIXTURES");
	const char *try[] = {env, TOP_SRCDIR "/../shared/fixtures", TOP_SRCDIR "/../../shared/fixtures",
	    "/work/shared/fixtures"};

	for (size_t i = 0; i < ARRAY_LEN(try); i++) {
		char probe[1200];
		if (try[i] == NULL || *try[i] == '\0')
			continue;
		snprintf(probe, sizeof(probe), "%s/proxmox-recorded/MANIFEST.json", try[i]);
		if (access(probe, R_OK) == 0) {
			snprintf(fixtures, sizeof(fixtures), "%s/proxmox-recorded", try[i]);
			return 0;
		}
	}
	return -1;
}

/* The recorded body of version/GET/path, parsed; NULL (and a failed test) when missing. */
__attribute__((unused)) static struct json_object *
load(const char *version, const char *path)
{
	char file[1400], err[160];
	struct strbuf sb = {0};
	struct json_object *root;
	FILE *f;
	size_t n;
	char chunk[65536];

	snprintf(file, sizeof(file), "%s/%s/GET/%s", fixtures, version, path);
	f = fopen(file, "r");
	if (!ok(f != NULL, "recording %s/%s is there", version, path))
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sb_append(&sb, chunk, n);
	fclose(f);
	root = jsonutil_parse(sb.data ? sb.data : "", sb.len, err, sizeof(err));
	sb_free(&sb);
	ok(root != NULL, "recording %s/%s parses", version, path);
	return root;
}

__attribute__((unused)) static struct json_object *
data_of(struct json_object *root)
{
	struct json_object *d = NULL;

	json_object_object_get_ex(root, "data", &d);
	return d;
}

#endif
