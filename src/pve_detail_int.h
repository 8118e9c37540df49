/* pve_detail_int.h: what the PVE detail parsers (pve_guest.c, pve_container.c, pve_disks.c,
 * pve_zfs.c, pve_ceph.c, pve_replication.c) share: bounds on work and small helpers. Not for
 * other callers. */
#ifndef PULSE_PVE_DETAIL_INT_H
#define PULSE_PVE_DETAIL_INT_H

#include <ctype.h>
#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

#include "jsonread.h"
#include "pve_detail.h"

/* Bounds on the work one response can cause, whatever it holds. */
#define SCAN_MAX 4096		/* elements looked at in one array or object */
#define TREE_MAX_DEPTH 16	/* nesting followed in recursive shapes */
#define TREE_MAX_NODES 4096	/* nodes visited in one tree */

/* Copies into a char array field, trimmed and cut to fit (jsonread_copy_trimmed). */
#define COPY(dst, src) jsonread_copy_trimmed((dst), sizeof(dst), (src))

/* The elements of a to look at: its length, at most SCAN_MAX. */
static inline int
scan_len(struct json_object *a)
{
	int n = jsonread_array_len(a);

	return n > SCAN_MAX ? SCAN_MAX : n;
}

static inline void
lower_ascii(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static inline int
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* qsort comparators: of fixed-size strings, and of string pointers. */
static inline int
cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static inline int
cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static inline double
percent(int64_t part, int64_t whole)
{
	/* The original's order of operations, so the last digit matches too. */
	return whole > 0 ? (double)part / (double)whole * 100 : 0;
}

/* An int64 saturated to what an int holds (never INT_MIN, as the original's clamp). */
static inline int
clamp_int(int64_t v)
{
	return v > 2147483647 ? 2147483647 : v < -2147483647 ? -2147483647 : (int)v;
}

/* Guest network helpers (pve_guest.c) the container parsers use too. */

/* Appends s to a list of fixed-size strings unless it is empty, there already, or the list is
 * full. */
void pve_net_add_unique(char (*list)[PVE_NET_ADDR_LEN], int *n, int max, const char *s);
/* Cuts an address at its prefix length or zone ("10.0.0.5/24", "fe80::1%eth0"), in place. */
void pve_net_strip_prefix(char *ip);
/* Sorts net's interfaces by name, keeping the order of equal names (Go's SliceStable). */
void pve_net_sort_ifaces(struct pve_guest_net *net);

#endif
