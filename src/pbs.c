/* pbs.c: tolerant parsers of Proxmox Backup Server answers. */
#include "config.h"

#include "pbs.h"
#include "jsonread.h"

#include <math.h>
#include <string.h>

/* A byte count from the first of several keys: 0 when absent, negative, not finite or beyond
 * what an int64 holds (a server never reports 8 EiB; such a figure is garbage). */
static int64_t
bytes_of(struct json_object *o, const char *const *keys, int nkeys)
{
	double v = jsonread_number_first(o, keys, nkeys);

	if (!isfinite(v) || v <= 0 || v >= 9.2e18)
		return 0;
	return (int64_t)v;
}

/* --- Proxmox Backup Server ------------------------------------------------------------- */

int
pbs_parse_version(struct json_object *data, char *version, size_t len)
{
	const char *v = jsonread_string(data, "version", "");

	jsonread_copy(version, len, v);
	return *v ? 0 : -1;
}

int
pbs_parse_node_status(struct json_object *data, struct pbs_node_status *out)
{
	struct json_object *mem = jsonread_member(data, "memory");

	memset(out, 0, sizeof(*out));
	if (!jsonread_is_object(data))
		return -1;
	/* PBS reports a fraction ("Total CPU usage since last query", like PVE); pbs[].cpu is a
	 * percentage, as the original documents it and its web client rounds it. */
	out->cpu = jsonread_number(data, "cpu", 0) * 100.0;
	out->uptime = jsonread_int(data, "uptime", 0);
	out->mem_total = jsonread_int(mem, "total", 0);
	out->mem_used = jsonread_int(mem, "used", 0);
	out->mem_free = jsonread_int(mem, "free", 0);
	return 0;
}

int
pbs_parse_datastores(struct json_object *data, struct pbs_datastore_item *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		const char *store = jsonread_string(o, "store", "");

		if (*store == '\0')
			continue;
		jsonread_copy(out[n].store, sizeof(out[n].store), store);
		jsonread_copy(out[n].comment, sizeof(out[n].comment), jsonread_string(o, "comment", ""));
		n++;
	}
	return n;
}

int
pbs_parse_ds_status(struct json_object *data, struct pbs_ds_status *out)
{
	static const char *const total[] = {"total", "total-space"};
	static const char *const used[] = {"used", "used-space"};
	static const char *const avail[] = {"avail", "avail-space"};
	static const char *const dedup[] = {"deduplication-factor", "deduplication_factor"};

	memset(out, 0, sizeof(*out));
	if (!jsonread_is_object(data))
		return -1;
	out->total = bytes_of(data, total, 2);
	out->used = bytes_of(data, used, 2);
	out->avail = bytes_of(data, avail, 2);
	if (out->total <= 0 && out->used > 0 && out->avail > 0 && out->used <= INT64_MAX - out->avail)
		out->total = out->used + out->avail;
	out->dedup = jsonread_number_first(data, dedup, 2);
	if (out->dedup <= 0 || !isfinite(out->dedup))
		out->dedup = 0;
	return 0;
}

double
pbs_gc_dedup(struct json_object *data)
{
	double index = jsonread_number(data, "index-data-bytes", 0), disk = jsonread_number(data, "disk-bytes", 0);

	return index > 0 && disk > 0 ? index / disk : 0;
}

int
pbs_parse_namespaces(struct json_object *data, struct pbs_namespace_item *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		const char *path = jsonread_string(o, "ns", "");

		if (!jsonread_is_object(o))
			continue;
		if (*path == '\0')
			path = jsonread_string(o, "path", "");
		if (*path == '\0')
			path = jsonread_string(o, "name", "");
		jsonread_copy(out[n].path, sizeof(out[n].path), path);
		jsonread_copy(out[n].parent, sizeof(out[n].parent), jsonread_string(o, "parent", ""));
		n++;
	}
	return n;
}

/* Only the three backup types PBS knows. */
static int
backup_type_ok(const char *t)
{
	return strcmp(t, "vm") == 0 || strcmp(t, "ct") == 0 || strcmp(t, "host") == 0;
}

int
pbs_parse_groups(struct json_object *data, struct pbs_group *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		struct pbs_group *g = &out[n];

		memset(g, 0, sizeof(*g));
		jsonread_copy(g->type, sizeof(g->type), jsonread_string(o, "backup-type", ""));
		jsonread_copy(g->id, sizeof(g->id), jsonread_string(o, "backup-id", ""));
		if (!backup_type_ok(g->type) || g->id[0] == '\0')
			continue;
		jsonread_copy(g->owner, sizeof(g->owner), jsonread_string(o, "owner", ""));
		g->last_backup = jsonread_int(o, "last-backup", 0);
		g->count = jsonread_int(o, "backup-count", 0);
		n++;
	}
	return n;
}

int
pbs_parse_snapshots(struct json_object *data, struct pbs_snapshot *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		struct json_object *files = jsonread_member(o, "files"), *ver = jsonread_member(o, "verification");
		struct pbs_snapshot *s = &out[n];
		int nf = jsonread_array_len(files);

		memset(s, 0, sizeof(*s));
		jsonread_copy(s->type, sizeof(s->type), jsonread_string(o, "backup-type", ""));
		jsonread_copy(s->id, sizeof(s->id), jsonread_string(o, "backup-id", ""));
		s->time = jsonread_int(o, "backup-time", 0);
		if (!backup_type_ok(s->type) || s->id[0] == '\0' || s->time <= 0)
			continue;
		s->size = jsonread_int(o, "size", 0);
		s->protected_ = jsonread_number(o, "protected", 0) != 0;
		jsonread_copy(s->comment, sizeof(s->comment), jsonread_string(o, "comment", ""));
		jsonread_copy(s->owner, sizeof(s->owner), jsonread_string(o, "owner", ""));
		/* Verification: a state string, or an object with one. */
		if (ver && json_object_is_type(ver, json_type_string))
			jsonread_copy(s->verification, sizeof(s->verification), json_object_get_string(ver));
		else
			jsonread_copy(s->verification, sizeof(s->verification), jsonread_string(ver, "state", ""));
		/* Files: names, or objects with a filename. */
		for (int k = 0; k < nf && s->nfiles < (int)(sizeof(s->files) / sizeof(s->files[0])); k++) {
			struct json_object *f = json_object_array_get_idx(files, k);
			const char *name = f && json_object_is_type(f, json_type_string) ?
			    json_object_get_string(f) : jsonread_string(f, "filename", "");
			if (*name)
				jsonread_copy(s->files[s->nfiles++], sizeof(s->files[0]), name);
		}
		n++;
	}
	return n;
}
