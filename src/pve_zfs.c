/* pve_zfs.c: tolerant parsers and JSON of the ZFS pools of PVE nodes, with their device trees. */
#include "config.h"

#include "pve_detail.h"
#include "pve_detail_int.h"
#include "jsonread.h"
#include "jsonwrite.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int
pve_parse_zfs_list(struct json_object *data, struct pve_zfs_pool *out, int max)
{
	int n = 0, len = scan_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		struct pve_zfs_pool *p = &out[n];

		if (!jsonread_is_object(o))
			continue;
		free(p->devices);
		memset(p, 0, sizeof(*p));
		COPY(p->name, jsonread_string(o, "name", ""));
		if (p->name[0] == '\0')
			continue;
		COPY(p->health, jsonread_string(o, "health", ""));
		p->size = jsonread_int(o, "size", 0);
		p->alloc = jsonread_int(o, "alloc", 0);
		p->free = jsonread_int(o, "free", 0);
		n++;
	}
	return n;
}

void
pve_zfs_pools_free(struct pve_zfs_pool *pools, int n)
{
	for (int i = 0; pools && i < n; i++)
		free(pools[i].devices);
	free(pools);
}

static int
role_of(const char *lower)
{
	if (strcmp(lower, "logs") == 0 || strcmp(lower, "log") == 0 || has_prefix(lower, "slog"))
		return 'l';
	if (strcmp(lower, "cache") == 0 || has_prefix(lower, "l2arc"))
		return 'c';
	if (strcmp(lower, "spares") == 0 || has_prefix(lower, "spare"))
		return 's';
	return 0;
}

/* One node of the vdev tree, then its children (convertDeviceRecursive). role: 0, or 'l'og,
 * 'c'ache, 's'pare inherited from a parent. */
static void
zfs_device(struct pve_zfs_pool *pool, struct json_object *dev, int role, int depth, int *budget)
{
	struct json_object *children = jsonread_member(dev, "children");
	char name[128], lower[128], state[24];
	int nchildren, leaf, is_vdev, is_spare, healthy;
	int64_t r, w, c;
	const char *type;

	if (!jsonread_is_object(dev) || depth > TREE_MAX_DEPTH || --*budget < 0)
		return;
	COPY(name, jsonread_string(dev, "name", ""));
	COPY(lower, name);
	lower_ascii(lower);
	if (role == 0)
		role = role_of(lower);
	COPY(state, jsonread_string(dev, "state", ""));
	for (char *p = state; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	if (state[0] == '\0')
		COPY(state, "UNKNOWN");
	nchildren = scan_len(children);
	leaf = (int)jsonread_int(dev, "leaf", 0);
	is_vdev = leaf == 0 && nchildren > 0;
	type = is_vdev ? "vdev" : "disk";
	if (is_vdev && has_prefix(lower, "mirror"))
		type = "mirror";
	else if (is_vdev && has_prefix(lower, "raidz"))
		type = lower;
	else if (is_vdev && role == 'l')
		type = "log";
	else if (is_vdev && role == 'c')
		type = "cache";
	else if (is_vdev && role == 's')
		type = "spare";
	else if (role == 'l' && leaf == 1)
		type = "log";
	else if (role == 'c' && leaf == 1)
		type = "cache";
	is_spare = strcmp(lower, "spares") == 0 || has_prefix(lower, "spare");
	if (is_spare)
		type = leaf == 1 ? "spare" : "spare-group";
	healthy = strcmp(state, "ONLINE") == 0 || strcmp(state, "SPARE") == 0 ||
	    strcmp(state, "AVAIL") == 0 || strcmp(state, "INUSE") == 0 ||
	    (strcmp(state, "UNKNOWN") == 0 && (role != 0 || is_spare));
	r = jsonread_int(dev, "read", 0);
	w = jsonread_int(dev, "write", 0);
	c = jsonread_int(dev, "cksum", 0);
	if ((!healthy || r > 0 || w > 0 || c > 0) && pool->ndevices < PVE_ZFS_MAX_DEVICES) {
		struct pve_zfs_device *d;
		GROW(pool->devices, pool->ndevices, pool->capdevices);
		d = &pool->devices[pool->ndevices++];
		COPY(d->name, name);
		COPY(d->type, type);
		COPY(d->state, state);
		d->read_errors = r;
		d->write_errors = w;
		d->checksum_errors = c;
		COPY(d->message, jsonread_string(dev, "msg", ""));
	}
	for (int i = 0; i < nchildren; i++)
		zfs_device(pool, json_object_array_get_idx(children, i), role, depth + 1, budget);
}

int
pve_parse_zfs_detail(struct json_object *data, struct pve_zfs_pool *pool)
{
	struct json_object *children = jsonread_member(data, "children");
	int budget = TREE_MAX_NODES, n = scan_len(children);

	if (!jsonread_is_object(data))
		return -1;
	pool->has_detail = 1;
	COPY(pool->state, jsonread_string(data, "state", ""));
	COPY(pool->status, jsonread_string(data, "status", ""));
	COPY(pool->scan, jsonread_string(data, "scan", ""));
	COPY(pool->errors, jsonread_string(data, "errors", ""));
	if (pool->name[0] == '\0')
		COPY(pool->name, jsonread_string(data, "name", ""));
	pool->ndevices = 0;
	for (int i = 0; i < n; i++)
		zfs_device(pool, json_object_array_get_idx(children, i), 0, 0, &budget);
	pool->read_errors = pool->write_errors = pool->checksum_errors = 0;
	for (int i = 0; i < pool->ndevices; i++) {
		/* Sums saturate rather than overflow on absurd counters. */
		const struct pve_zfs_device *d = &pool->devices[i];
		if (d->read_errors > 0 && pool->read_errors < INT64_MAX - d->read_errors)
			pool->read_errors += d->read_errors;
		if (d->write_errors > 0 && pool->write_errors < INT64_MAX - d->write_errors)
			pool->write_errors += d->write_errors;
		if (d->checksum_errors > 0 && pool->checksum_errors < INT64_MAX - d->checksum_errors)
			pool->checksum_errors += d->checksum_errors;
	}
	return 0;
}

struct json_object *
pve_zfs_pool_json(const struct pve_zfs_pool *pool)
{
	struct json_object *o = json_object_new_object(), *devs = json_object_new_array();

	jsonwrite_str(o, "name", pool->name);
	jsonwrite_str(o, "state", pool->state[0] ? pool->state : pool->health);
	jsonwrite_str(o, "status", pool->status);
	jsonwrite_str(o, "scan", pool->scan);
	jsonwrite_int(o, "readErrors", pool->read_errors);
	jsonwrite_int(o, "writeErrors", pool->write_errors);
	jsonwrite_int(o, "checksumErrors", pool->checksum_errors);
	for (int i = 0; i < pool->ndevices; i++) {
		const struct pve_zfs_device *d = &pool->devices[i];
		struct json_object *od = json_object_new_object();
		jsonwrite_str(od, "name", d->name);
		jsonwrite_str(od, "type", d->type);
		jsonwrite_str(od, "state", d->state);
		jsonwrite_int(od, "readErrors", d->read_errors);
		jsonwrite_int(od, "writeErrors", d->write_errors);
		jsonwrite_int(od, "checksumErrors", d->checksum_errors);
		jsonwrite_opt_str(od, "message", d->message);
		json_object_array_add(devs, od);
	}
	json_object_object_add(o, "devices", devs);
	return o;
}

int
pve_zfs_pool_for_storage(const char *storage, const char *storage_type,
    const struct pve_zfs_pool *pools, int npools)
{
	const char *want;

	if (storage == NULL || storage_type == NULL || (strcmp(storage_type, "zfspool") != 0 &&
	    strcmp(storage_type, "zfs") != 0 && strcmp(storage_type, "local-zfs") != 0))
		return -1;
	want = strcmp(storage, "local-zfs") == 0 ? "rpool/data" : storage;
	for (int i = 0; i < npools; i++)
		if (strcmp(pools[i].name, want) == 0)
			return i;
	/* The original walks a map here; rpool is tried before data to stay deterministic. */
	for (int i = 0; i < npools; i++)
		if (strcmp(pools[i].name, "rpool") == 0 && strstr(storage, "rpool"))
			return i;
	for (int i = 0; i < npools; i++)
		if (strcmp(pools[i].name, "data") == 0 && strstr(storage, "data"))
			return i;
	return -1;
}
