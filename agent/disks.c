/* disks.c: pure filesystem rules: mountinfo parsing, the original's skip filter, the
 * --disk-exclude patterns, deduplication (agents.md §10.2). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "util.h"

/* Decodes mountinfo's octal escapes (\040 for a space) of a field into a new string. */
static char *
unescape_field(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len &&
		    s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			*o++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

/* Splits a line into blank-separated fields (at most max); returns the count. */
static int
split_fields(const char *line, size_t len, const char **start, size_t *flen, int max)
{
	int n = 0;
	size_t i = 0;

	while (i < len && n < max) {
		while (i < len && line[i] == ' ')
			i++;
		if (i >= len)
			break;
		start[n] = line + i;
		while (i < len && line[i] != ' ')
			i++;
		flen[n] = (size_t)(line + i - start[n]);
		n++;
	}
	return n;
}

int
agent_parse_mountinfo(const char *text, struct agent_mount **out)
{
	struct agent_mount *list = NULL;
	int n = 0, cap = 0;
	char line[4096];

	*out = NULL;
	if (!text)
		return -1;
	for (const char *p = text; agent_next_line(&p, line, sizeof(line)); ) {
		const char *f[64];
		size_t fl[64];
		int nf = split_fields(line, strlen(line), f, fl, 64), sep = -1;

		/* id parent maj:min root mountpoint options [optional...] - fstype source super */
		for (int i = 6; i < nf; i++)
			if (fl[i] == 1 && f[i][0] == '-') {
				sep = i;
				break;
			}
		if (nf < 10 || sep < 0 || sep + 2 >= nf)
			continue;
		GROW(list, n, cap);
		list[n].mountpoint = unescape_field(f[4], fl[4]);
		list[n].fstype = unescape_field(f[sep + 1], fl[sep + 1]);
		list[n].device = unescape_field(f[sep + 2], fl[sep + 2]);
		n++;
	}
	*out = list;
	return n;
}

void
agent_mounts_free(struct agent_mount *m, int n)
{
	for (int i = 0; i < n; i++) {
		free(m[i].device);
		free(m[i].mountpoint);
		free(m[i].fstype);
	}
	free(m);
}

static int
contains_any(const char *s, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(s, words[i]))
			return 1;
	return 0;
}

static int
starts_with_any(const char *s, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(s, words[i], strlen(words[i])) == 0)
			return 1;
	return 0;
}

int
agent_fs_skip(const char *fstype, const char *mountpoint, int64_t total, int64_t used)
{
	static const char *const readonly[] = { "erofs", "squashfs", "squash-fs", "iso9660",
		"cdfs", "udf", "cramfs", "romfs" };
	static const char *const virtual_types[] = { "tmpfs", "devtmpfs", "cgroup", "cgroup2",
		"sysfs", "proc", "devpts", "securityfs", "debugfs", "tracefs", "fusectl",
		"configfs", "pstore", "hugetlbfs", "mqueue", "bpf", "overlay", "overlayfs",
		"autofs" };
	static const char *const network[] = { "fuse", "9p", "nfs", "cifs", "smb" };
	static const char *const system_paths[] = { "/dev", "/proc", "/sys", "/run",
		"/var/lib/docker", "/var/lib/containers", "/snap" };
	static const char *const container_dirs[] = { "/containers/", "/container_tmp/" };
	static const char *const overlay_parts[] = { "/overlay2/", "/overlay/", "/diff/",
		"/merged" };

	if (contains_any(fstype, readonly, ARRAY_LEN(readonly)))
		return 1;
	if (strcmp(fstype, "overlay") == 0 && total > 0 && used >= total)
		return 1;
	for (size_t i = 0; i < ARRAY_LEN(virtual_types); i++)
		if (strcmp(fstype, virtual_types[i]) == 0)
			return 1;
	if (contains_any(fstype, network, ARRAY_LEN(network)))
		return 1;
	if (starts_with_any(mountpoint, system_paths, ARRAY_LEN(system_paths)) ||
	    strcmp(mountpoint, "/boot/efi") == 0 || strstr(mountpoint, "System Reserved"))
		return 1;
	if (contains_any(mountpoint, container_dirs, ARRAY_LEN(container_dirs)) &&
	    contains_any(mountpoint, overlay_parts, ARRAY_LEN(overlay_parts)))
		return 1;
	return strncmp(mountpoint, "/mnt/.ix-apps/docker/", 21) == 0;
}

int
agent_disk_excluded(char *const *patterns, size_t n, const char *mountpoint)
{
	for (size_t i = 0; i < n; i++) {
		const char *pat = patterns[i];
		size_t len = strlen(pat);

		if (len == 0)
			continue;
		if (len >= 2 && pat[0] == '*' && pat[len - 1] == '*') {
			char *mid = xstrndup(pat + 1, len - 2);
			int hit = strstr(mountpoint, mid) != NULL;

			free(mid);
			if (hit)
				return 1;
		} else if (pat[len - 1] == '*') {
			if (strncmp(mountpoint, pat, len - 1) == 0)
				return 1;
		} else if (strcmp(mountpoint, pat) == 0)
			return 1;
	}
	return 0;
}

static int
disk_cmp(const void *a, const void *b)
{
	return strcmp(((const struct agent_fs *)a)->mountpoint,
	    ((const struct agent_fs *)b)->mountpoint);
}

size_t
agent_disks_dedup(struct agent_fs *d, size_t n)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < kept; j++)
			if (strcmp(d[j].device, d[i].device) == 0 && d[j].total == d[i].total)
				break;
		if (j < kept) {
			if (strlen(d[i].mountpoint) < strlen(d[j].mountpoint))
				d[j] = d[i];
			continue;
		}
		if (kept != i)
			d[kept] = d[i];
		kept++;
	}
	if (kept > 1)
		qsort(d, kept, sizeof(*d), disk_cmp);
	return kept;
}

int
agent_parse_zpool_list(const char *text, struct agent_zpool **out)
{
	struct agent_zpool *list = NULL;
	int n = 0, cap = 0;
	char line[512];

	for (const char *p = text; p && agent_next_line(&p, line, sizeof(line)); ) {
		struct agent_zpool z;
		long long size, alloc, free_b;

		if (sscanf(line, "%255s %lld %lld %lld", z.name, &size, &alloc, &free_b) != 4 ||
		    size <= 0 || alloc < 0 || free_b < 0)
			continue;
		GROW(list, n, cap);
		list[n] = z;
		list[n].size = size;
		list[n].allocated = alloc;
		list[n].free = free_b;
		n++;
	}
	*out = list;
	return text ? n : -1;
}

void
agent_zfs_apply_pool(struct agent_fs *d, const struct agent_zpool *p)
{
	d->used = p->allocated;
	if (d->total <= 0 || d->total >= p->size) {
		d->total = p->size;
		d->free = p->free;
	}
	d->usage = d->total > 0 ? (double)d->used / (double)d->total * 100 : 0;
	if (d->usage > 100)
		d->usage = 100;
}
