/* identity.c: the host's machine id as the original's agent derives it (agents.md §9.3). */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "util.h"

int
agent_machine_id_from_text(const char *text, char *out, size_t len)
{
	const char *s = text, *e;
	size_t n, hex = 0;

	if (!text)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - s);
	if (n < 8)
		return -1;
	for (size_t i = 0; i < n; i++)
		hex += isxdigit((unsigned char)s[i]) != 0;
	if (n == 32 && hex == 32)
		snprintf(out, len, "%.8s-%.4s-%.4s-%.4s-%.12s", s, s + 8, s + 12, s + 16, s + 20);
	else
		snprintf(out, len, "%.*s", (int)n, s);
	return 0;
}

int
agent_iface_virtual(const char *name)
{
	static const char *const prefixes[] = { "docker", "veth", "br-", "cni", "flannel",
		"virbr", "zt" };

	if (strcmp(name, "lo") == 0)
		return 1;
	for (size_t i = 0; i < ARRAY_LEN(prefixes); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* mac-<12 hex> of the first interface by name with a MAC, physical names first. */
static int
mac_id(char *out, size_t len)
{
	DIR *d = opendir("/sys/class/net");
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int found = -1;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(de->d_name);
		}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (int pass = 0; pass < 2 && found < 0; pass++)
		for (size_t i = 0; i < n && found < 0; i++) {
			char path[512], hex[13];
			char *mac;
			size_t k = 0;

			if (strcmp(names[i], "lo") == 0 || (pass == 0 && agent_iface_virtual(names[i])))
				continue;
			snprintf(path, sizeof(path), "/sys/class/net/%s/address", names[i]);
			if (!(mac = agent_read_file(path)))
				continue;
			for (char *c = mac; *c && k < 12; c++)
				if (isxdigit((unsigned char)*c))
					hex[k++] = (char)tolower((unsigned char)*c);
			hex[k] = '\0';
			free(mac);
			if (k == 12 && strcmp(hex, "000000000000") != 0) {
				snprintf(out, len, "mac-%s", hex);
				found = 0;
			}
		}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return found;
}

void
agent_machine_id(char *out, size_t len)
{
	static const char *const fallbacks[] = { "/sys/class/dmi/id/product_uuid",
		"/proc/sys/kernel/random/boot_id" };
	char *text = agent_read_file("/etc/machine-id");
	int ok = agent_machine_id_from_text(text, out, len) == 0;

	free(text);
	if (ok || mac_id(out, len) == 0)
		return;
	*out = '\0';
	for (size_t i = 0; i < ARRAY_LEN(fallbacks) && !*out; i++) {
		text = agent_read_file(fallbacks[i]);
		if (text) {
			for (char *c = text; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			if (agent_machine_id_from_text(text, out, len) != 0)
				*out = '\0';
		}
		free(text);
	}
}
