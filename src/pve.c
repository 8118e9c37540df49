/* pve.c: tolerant parsers of the Proxmox VE answers the poller reads. */
#include "config.h"

#include "pve.h"
#include "arena.h"
#include "jsonread.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
pve_parse_nodes(struct json_object *data, struct pve_node_item *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		const char *name = jsonread_string(o, "node", "");
		struct pve_node_item *it = &out[n];

		if (*name == '\0')
			continue;
		memset(it, 0, sizeof(*it));
		jsonread_copy(it->node, sizeof(it->node), name);
		jsonread_copy(it->status, sizeof(it->status), jsonread_string(o, "status", "unknown"));
		it->cpu = jsonread_number(o, "cpu", 0);
		it->maxcpu = jsonread_int(o, "maxcpu", 0);
		it->mem = jsonread_int(o, "mem", 0);
		it->maxmem = jsonread_int(o, "maxmem", 0);
		it->disk = jsonread_int(o, "disk", 0);
		it->maxdisk = jsonread_int(o, "maxdisk", 0);
		it->uptime = jsonread_int(o, "uptime", 0);
		n++;
	}
	return n;
}

int
pve_parse_node_status(struct json_object *data, struct pve_node_status *st)
{
	struct json_object *mem = jsonread_member(data, "memory"), *rootfs = jsonread_member(data, "rootfs"),
	    *cpuinfo = jsonread_member(data, "cpuinfo"), *load = jsonread_member(data, "loadavg");

	memset(st, 0, sizeof(*st));
	if (data == NULL || !json_object_is_type(data, json_type_object))
		return -1;
	st->mem_total = jsonread_int(mem, "total", 0);
	st->mem_used = jsonread_int(mem, "used", 0);
	st->mem_free = jsonread_int(mem, "free", 0);
	st->has_available = jsonread_has(mem, "available");
	st->mem_available = jsonread_int(mem, "available", 0);
	st->has_avail = jsonread_has(mem, "avail");
	st->mem_avail = jsonread_int(mem, "avail", 0);
	st->has_buffers = jsonread_has(mem, "buffers");
	st->mem_buffers = jsonread_int(mem, "buffers", 0);
	st->has_cached = jsonread_has(mem, "cached");
	st->mem_cached = jsonread_int(mem, "cached", 0);
	for (int i = 0; i < jsonread_array_len(load) && i < 3; i++) {
		struct json_object *v = json_object_array_get_idx(load, i);
		const char *s = v ? json_object_get_string(v) : NULL;
		char *end;
		double d = s ? strtod(s, &end) : NAN;
		if (s && end != s && isfinite(d))
			st->load[st->nload++] = d;
	}
	jsonread_copy(st->kversion, sizeof(st->kversion), jsonread_string(data, "kversion", ""));
	jsonread_copy(st->pveversion, sizeof(st->pveversion), jsonread_string(data, "pveversion", ""));
	jsonread_copy(st->cpu_model, sizeof(st->cpu_model), jsonread_string(cpuinfo, "model", ""));
	st->cpu_cores = jsonread_int(cpuinfo, "cores", 0);
	st->cpu_cpus = jsonread_int(cpuinfo, "cpus", 0);
	st->cpu_sockets = jsonread_int(cpuinfo, "sockets", 0);
	st->cpu_mhz = jsonread_number(cpuinfo, "mhz", 0);
	st->rootfs_total = jsonread_int(rootfs, "total", 0);
	st->rootfs_used = jsonread_int(rootfs, "used", 0);
	st->rootfs_avail = jsonread_int(rootfs, "avail", 0);
	st->uptime = jsonread_int(data, "uptime", 0);
	return 0;
}

int
pve_parse_guest(struct json_object *o, struct pve_guest_item *g, struct arena *text)
{
	const char *type = jsonread_string(o, "type", "");
	const char *id = jsonread_string(o, "id", "");
	const char *tags;
	char *t;

	if (strcmp(type, "qemu") != 0 && strcmp(type, "lxc") != 0)
		return 0;
	memset(g, 0, sizeof(*g));
	jsonread_copy(g->type, sizeof(g->type), type);
	jsonread_copy(g->node, sizeof(g->node), jsonread_string(o, "node", ""));
	g->vmid = jsonread_int(o, "vmid", -1);
	if (g->vmid < 0 && strchr(id, '/'))
		g->vmid = strtol(strchr(id, '/') + 1, NULL, 10);
	if (g->vmid <= 0 || g->node[0] == '\0')
		return 0;
	jsonread_copy(g->name, sizeof(g->name), jsonread_string(o, "name", ""));
	jsonread_copy(g->status, sizeof(g->status), jsonread_string(o, "status", "unknown"));
	g->cpu = jsonread_number(o, "cpu", 0);
	g->maxcpu = jsonread_int(o, "maxcpu", jsonread_int(o, "cpus", 0));
	g->mem = jsonread_int(o, "mem", 0);
	g->maxmem = jsonread_int(o, "maxmem", 0);
	g->disk = jsonread_int(o, "disk", 0);
	g->maxdisk = jsonread_int(o, "maxdisk", 0);
	g->netin = jsonread_int(o, "netin", 0);
	g->netout = jsonread_int(o, "netout", 0);
	g->diskread = jsonread_int(o, "diskread", 0);
	g->diskwrite = jsonread_int(o, "diskwrite", 0);
	g->uptime = jsonread_int(o, "uptime", 0);
	g->template = jsonread_int(o, "template", 0) != 0;
	tags = jsonread_string(o, "tags", "");
	if (tags[0] != '\0') {
		g->tags = t = arena_strndup(text, tags, strnlen(tags, PVE_TAGS_MAX));
		for (; *t; t++)
			if (*t == ';')
				*t = ',';
	}
	jsonread_copy(g->lock, sizeof(g->lock), jsonread_string(o, "lock", ""));
	return 1;
}

int
pve_parse_guests(struct json_object *data, struct pve_guest_item *out, int max,
    struct arena *text)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++)
		n += pve_parse_guest(json_object_array_get_idx(data, i), &out[n], text);
	return n;
}

int
pve_parse_vm_status(struct json_object *data, struct pve_vm_status *st)
{
	struct json_object *meminfo = jsonread_member(data, "meminfo"), *agent = jsonread_member(data, "agent");

	memset(st, 0, sizeof(*st));
	if (data == NULL || !json_object_is_type(data, json_type_object))
		return -1;
	jsonread_copy(st->status, sizeof(st->status), jsonread_string(data, "status", ""));
	st->cpu = jsonread_number(data, "cpu", 0);
	st->cpus = jsonread_int(data, "cpus", 0);
	st->mem = jsonread_int(data, "mem", 0);
	st->maxmem = jsonread_int(data, "maxmem", 0);
	st->balloon = jsonread_int(data, "balloon", 0);
	st->freemem = jsonread_int(data, "freemem", 0);
	st->disk = jsonread_int(data, "disk", 0);
	st->maxdisk = jsonread_int(data, "maxdisk", 0);
	st->diskread = jsonread_int(data, "diskread", 0);
	st->diskwrite = jsonread_int(data, "diskwrite", 0);
	st->netin = jsonread_int(data, "netin", 0);
	st->netout = jsonread_int(data, "netout", 0);
	st->uptime = jsonread_int(data, "uptime", 0);
	if (meminfo && json_object_is_type(meminfo, json_type_object)) {
		st->has_meminfo = 1;
		st->meminfo_total = jsonread_int(meminfo, "total", 0);
		st->meminfo_used = jsonread_int(meminfo, "used", 0);
		st->meminfo_free = jsonread_int(meminfo, "free", 0);
		st->meminfo_available = jsonread_int(meminfo, "available", 0);
		st->meminfo_buffers = jsonread_int(meminfo, "buffers", 0);
		st->meminfo_cached = jsonread_int(meminfo, "cached", 0);
	}
	/* agent: 1, or {"enabled": n, "available": n}: on when available, else when enabled. */
	if (agent && json_object_is_type(agent, json_type_object))
		st->agent = jsonread_has(agent, "available") ? jsonread_int(agent, "available", 0) > 0 :
		    jsonread_int(agent, "enabled", 0) > 0;
	else
		st->agent = jsonread_int(data, "agent", 0) > 0;
	return 0;
}

/* Filesystems that are not the guest's own disks (§2.7). */
static int
fs_skipped(const char *type, const char *mount)
{
	static const char *const virtual[] = {"tmpfs", "devtmpfs", "cgroup", "cgroup2", "sysfs",
	    "proc", "devpts", "securityfs", "debugfs", "tracefs", "fusectl", "configfs", "pstore",
	    "hugetlbfs", "mqueue", "bpf", "overlay", "overlayfs", "autofs", "squashfs", "iso9660",
	    "erofs", "cdfs", "udf", "cramfs", "romfs"};
	static const char *const under[] = {"/dev", "/proc", "/sys", "/run", "/var/lib/docker",
	    "/var/lib/containers", "/snap", "/mnt/.ix-apps/docker/"};

	for (size_t i = 0; i < ARRAY_LEN(virtual); i++)
		if (strcasecmp(type, virtual[i]) == 0)
			return 1;
	if (strstr(type, "fuse") || strstr(type, "9p") || strstr(type, "nfs") ||
	    strstr(type, "cifs") || strstr(type, "smb"))
		return 1;
	for (size_t i = 0; i < ARRAY_LEN(under); i++) {
		size_t n = strlen(under[i]);
		if (strncmp(mount, under[i], n) == 0 && (mount[n] == '\0' || mount[n] == '/' ||
		    under[i][n - 1] == '/'))
			return 1;
	}
	return strcmp(mount, "/boot/efi") == 0 || strcmp(mount, "System Reserved") == 0 ||
	    strstr(mount, "/overlay/") != NULL;
}

int
pve_parse_fsinfo(struct json_object *data, struct pve_fs *out, int max)
{
	struct json_object *list = jsonread_member(data, "result");
	int n = 0, len;

	if (list == NULL && data && json_object_is_type(data, json_type_array))
		list = data;
	len = jsonread_array_len(list);
	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(list, i);
		struct json_object *disks = jsonread_member(o, "disk");
		const char *type = jsonread_string(o, "type", ""), *mount = jsonread_string(o, "mountpoint", "");
		int64_t total = jsonread_int(o, "total-bytes", 0);
		struct pve_fs *fs = &out[n];

		if (total <= 0 || fs_skipped(type, mount))
			continue;
		memset(fs, 0, sizeof(*fs));
		jsonread_copy(fs->mountpoint, sizeof(fs->mountpoint), mount);
		jsonread_copy(fs->type, sizeof(fs->type), type);
		jsonread_copy(fs->name, sizeof(fs->name), jsonread_string(o, "name", ""));
		fs->total = total;
		fs->used = jsonread_int(o, "used-bytes", 0);
		if (jsonread_array_len(disks) > 0) {
			struct json_object *d0 = json_object_array_get_idx(disks, 0);
			const char *dev = jsonread_string(d0, "dev", "");
			if (*dev == '\0')
				dev = jsonread_string(d0, "serial", "");
			if (*dev == '\0' && jsonread_has(d0, "bus-type"))
				snprintf(fs->device, sizeof(fs->device), "%s-%lld", jsonread_string(d0, "bus-type", ""),
				    (long long)jsonread_int(d0, "target", 0));
			else
				jsonread_copy(fs->device, sizeof(fs->device), dev);
		}
		if (fs->device[0] == '\0') {
			if (strcmp(mount, "/") == 0)
				jsonread_copy(fs->device, sizeof(fs->device), "root-filesystem");
			else if (isalpha((unsigned char)mount[0]) && mount[1] == ':')
				snprintf(fs->device, sizeof(fs->device), "%c:", mount[0]);
			else
				jsonread_copy(fs->device, sizeof(fs->device), mount);
		}
		n++;
	}
	return n;
}

int
pve_parse_storage(struct json_object *data, struct pve_storage_item *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		const char *name = jsonread_string(o, "storage", "");
		struct pve_storage_item *s = &out[n];

		if (*name == '\0')
			continue;
		memset(s, 0, sizeof(*s));
		jsonread_copy(s->storage, sizeof(s->storage), name);
		jsonread_copy(s->type, sizeof(s->type), jsonread_string(o, "type", ""));
		jsonread_copy(s->content, sizeof(s->content), jsonread_string(o, "content", ""));
		s->total = jsonread_int(o, "total", 0);
		s->used = jsonread_int(o, "used", 0);
		s->avail = jsonread_int(o, "avail", 0);
		s->shared = jsonread_int(o, "shared", 0) != 0;
		s->has_enabled = jsonread_has(o, "enabled");
		s->enabled = s->has_enabled ? jsonread_int(o, "enabled", 1) != 0 : !jsonread_int(o, "disable", 0);
		s->has_active = jsonread_has(o, "active");
		s->active = jsonread_int(o, "active", 1) != 0;
		n++;
	}
	return n;
}

int
pve_parse_tasks(struct json_object *data, struct pve_task *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		struct pve_task *t = &out[n];

		if (strcmp(jsonread_string(o, "type", ""), "vzdump") != 0)
			continue;
		memset(t, 0, sizeof(*t));
		jsonread_copy(t->upid, sizeof(t->upid), jsonread_string(o, "upid", ""));
		if (t->upid[0] == '\0')
			continue;
		jsonread_copy(t->node, sizeof(t->node), jsonread_string(o, "node", ""));
		jsonread_copy(t->type, sizeof(t->type), "vzdump");
		jsonread_copy(t->id, sizeof(t->id), jsonread_string(o, "id", ""));
		jsonread_copy(t->status, sizeof(t->status), jsonread_string(o, "status", ""));
		jsonread_copy(t->user, sizeof(t->user), jsonread_string(o, "user", ""));
		t->starttime = jsonread_int(o, "starttime", 0);
		t->endtime = jsonread_int(o, "endtime", 0);
		n++;
	}
	return n;
}

int
pve_parse_content(struct json_object *data, struct pve_content *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i), *ver;
		struct pve_content *c = &out[n];
		const char *content = jsonread_string(o, "content", "");

		if (strcmp(content, "backup") != 0)
			continue;
		memset(c, 0, sizeof(*c));
		jsonread_copy(c->volid, sizeof(c->volid), jsonread_string(o, "volid", ""));
		if (c->volid[0] == '\0')
			continue;
		jsonread_copy(c->content, sizeof(c->content), content);
		jsonread_copy(c->format, sizeof(c->format), jsonread_string(o, "format", ""));
		jsonread_copy(c->notes, sizeof(c->notes), jsonread_string(o, "notes", ""));
		c->ctime = jsonread_int(o, "ctime", 0);
		c->size = jsonread_int(o, "size", 0);
		c->vmid = jsonread_int(o, "vmid", 0);
		c->protected_ = jsonread_int(o, "protected", 0) != 0;
		ver = jsonread_member(o, "verification");
		if (ver && json_object_is_type(ver, json_type_object))
			jsonread_copy(c->verification, sizeof(c->verification), jsonread_string(ver, "state", ""));
		else
			jsonread_copy(c->verification, sizeof(c->verification), jsonread_string(o, "verification", ""));
		c->verified = strcmp(c->verification, "ok") == 0 || jsonread_int(o, "verified", 0) != 0;
		n++;
	}
	return n;
}

int
pve_parse_snapshots(struct json_object *data, struct pve_snapshot *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		struct pve_snapshot *sn = &out[n];
		const char *name = jsonread_string(o, "name", "");

		if (*name == '\0' || strcmp(name, "current") == 0)
			continue;
		memset(sn, 0, sizeof(*sn));
		jsonread_copy(sn->name, sizeof(sn->name), name);
		jsonread_copy(sn->description, sizeof(sn->description), jsonread_string(o, "description", ""));
		jsonread_copy(sn->parent, sizeof(sn->parent), jsonread_string(o, "parent", ""));
		sn->snaptime = jsonread_int(o, "snaptime", 0);
		sn->vmstate = jsonread_int(o, "vmstate", 0) != 0;
		n++;
	}
	return n;
}
