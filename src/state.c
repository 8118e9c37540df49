/* state.c: instance state: building, JSON documents, and the one-transaction write. */
#include "config.h"

#include "state.h"
#include "state_rows.h"
#include "arena.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "timefmt.h"
#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct st_node *
st_add_node(struct st_instance *s)
{
	GROW(s->nodes, s->nnodes, s->capnodes);
	return &s->nodes[s->nnodes++];
}

struct st_guest *
st_add_guest(struct st_instance *s)
{
	struct st_guest *g;

	GROW(s->guests, s->nguests, s->capguests);
	g = &s->guests[s->nguests++];
	g->id = g->name = g->instance = "";
	return g;
}

void
st_reserve_guests(struct st_instance *s, int n)
{
	if (n <= s->capguests)
		return;
	s->guests = xrealloc(s->guests, sizeof(*s->guests) * (size_t)n);
	s->capguests = n;
}

struct st_storage *
st_add_storage(struct st_instance *s)
{
	GROW(s->storage, s->nstorage, s->capstorage);
	return &s->storage[s->nstorage++];
}

void
st_add_health(struct st_instance *s, const char *key, int healthy)
{
	for (int i = 0; i < s->nhealth; i++) {
		if (strcmp(s->health[i].key, key) == 0) {
			s->health[i].healthy = healthy;
			return;
		}
	}
	GROW(s->health, s->nhealth, s->caphealth);
	snprintf(s->health[s->nhealth].key, sizeof(s->health[0].key), "%s", key);
	s->health[s->nhealth++].healthy = healthy;
}

struct st_disk_row *
st_add_disk_row(struct st_instance *s)
{
	GROW(s->disks, s->ndisks, s->capdisks);
	return &s->disks[s->ndisks++];
}

struct st_ceph_row *
st_add_ceph_row(struct st_instance *s)
{
	GROW(s->ceph, s->nceph, s->capceph);
	return &s->ceph[s->nceph++];
}

struct st_repl_row *
st_add_repl_row(struct st_instance *s)
{
	GROW(s->repl, s->nrepl, s->caprepl);
	return &s->repl[s->nrepl++];
}

void
st_guest_add_disk(struct st_guest *g, const struct st_disk *d)
{
	g->disks = xrealloc(g->disks, sizeof(*g->disks) * (size_t)(g->ndisks + 1));
	g->disks[g->ndisks++] = *d;
}

void
st_guest_add_ip(struct st_guest *g, const char *ip)
{
	for (int i = 0; i < g->nip; i++)
		if (strcmp(g->ip_addresses[i], ip) == 0)
			return;
	g->ip_addresses = xrealloc(g->ip_addresses, sizeof(char *) * (size_t)(g->nip + 1));
	g->ip_addresses[g->nip++] = xstrdup(ip);
}

void
st_storage_add_node(struct st_storage *st, const char *node, const char *node_id)
{
	st->nodes = xrealloc(st->nodes, sizeof(char *) * (size_t)(st->nnodes + 1));
	st->node_ids = xrealloc(st->node_ids, sizeof(char *) * (size_t)(st->nnodes + 1));
	st->nodes[st->nnodes] = xstrdup(node);
	st->node_ids[st->nnodes] = xstrdup(node_id);
	st->nnodes++;
}

/* v copied into *a (made when first needed); NULL for NULL or empty. */
static const char *
text_copy(struct arena **a, const char *v)
{
	if (v == NULL || *v == '\0')
		return NULL;
	if (*a == NULL)
		*a = arena_new();
	return arena_strdup(*a, v);
}

static const char *
text_vprintf(struct arena **a, const char *fmt, va_list ap)
{
	if (*a == NULL)
		*a = arena_new();
	return arena_vprintf(*a, fmt, ap);
}

const char *
st_text(struct st_instance *s, const char *v)
{
	return text_copy(&s->text, v);
}

const char *
st_str(struct st_instance *s, const char *v)
{
	const char *t = st_text(s, v);

	return t ? t : "";
}

const char *
st_instance_name(struct st_instance *s, const char *name)
{
	if (s->guest_instance == NULL || strcmp(s->guest_instance, name) != 0)
		s->guest_instance = st_str(s, name);
	return s->guest_instance;
}

const char *
st_textf(struct st_instance *s, const char *fmt, ...)
{
	va_list ap;
	const char *t;

	va_start(ap, fmt);
	t = text_vprintf(&s->text, fmt, ap);
	va_end(ap);
	return t;
}

const char *
st_btext(struct st_backups *b, const char *v)
{
	const char *t = text_copy(&b->text, v);

	return t ? t : "";
}

const char *
st_btextf(struct st_backups *b, const char *fmt, ...)
{
	va_list ap;
	const char *t;

	va_start(ap, fmt);
	t = text_vprintf(&b->text, fmt, ap);
	va_end(ap);
	return t;
}

void
st_instance_free(struct st_instance *s)
{
	for (int i = 0; i < s->nguests; i++) {
		free(s->guests[i].disks);
		if (s->guests[i].net_ifaces)
			json_object_put(s->guests[i].net_ifaces);
		for (int j = 0; j < s->guests[i].nip; j++)
			free(s->guests[i].ip_addresses[j]);
		free(s->guests[i].ip_addresses);
	}
	for (int i = 0; i < s->nstorage; i++) {
		for (int j = 0; j < s->storage[i].nnodes; j++) {
			free(s->storage[i].nodes[j]);
			free(s->storage[i].node_ids[j]);
		}
		free(s->storage[i].nodes);
		free(s->storage[i].node_ids);
		if (s->storage[i].zfs_pool)
			json_object_put(s->storage[i].zfs_pool);
	}
	for (int i = 0; i < s->ndisks; i++)
		json_object_put(s->disks[i].doc);
	for (int i = 0; i < s->nceph; i++)
		json_object_put(s->ceph[i].doc);
	for (int i = 0; i < s->nrepl; i++)
		json_object_put(s->repl[i].doc);
	free(s->disks);
	free(s->ceph);
	free(s->repl);
	free(s->nodes);
	free(s->guests);
	free(s->storage);
	free(s->health);
	if (s->text)
		arena_free(s->text);
	memset(s, 0, sizeof(*s));
}

void
st_memory_set(struct st_memory *m, int64_t total, int64_t used)
{
	if (used > total)
		used = total;
	if (used < 0)
		used = 0;
	m->total = total;
	m->used = used;
	m->free = total - used;
	m->usage = total > 0 ? (double)used * 100.0 / (double)total : 0;
}

void
st_space_set(struct st_space *d, int64_t total, int64_t used)
{
	if (used < 0)
		used = 0;
	d->total = total;
	d->used = used;
	d->free = total > used ? total - used : 0;
	d->usage = total > 0 ? (double)used * 100.0 / (double)total : 0;
}

void
st_disk_figures(struct st_disk *d, const struct st_space *sp)
{
	d->total = sp->total;
	d->used = sp->used;
	d->free = sp->free;
	d->usage = sp->usage;
}

void
st_disk_set(struct st_disk *d, int64_t total, int64_t used)
{
	struct st_space sp;

	st_space_set(&sp, total, used);
	st_disk_figures(d, &sp);
}

void
st_guest_disk_unknown(struct st_guest *g, const char *reason)
{
	g->disk.used = 0;
	g->disk.free = g->disk.total;
	g->disk.usage = -1;
	g->disk_status_reason = reason;
}

/* --- JSON ----------------------------------------------------------------------------- */

static struct json_object *
memory_json(const struct st_memory *m)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_int(o, "total", m->total);
	jsonwrite_int(o, "used", m->used);
	jsonwrite_int(o, "free", m->free);
	jsonwrite_num(o, "usage", m->usage);
	if (m->balloon > 0)
		jsonwrite_int(o, "balloon", m->balloon);
	if (m->swap_used > 0)
		jsonwrite_int(o, "swapUsed", m->swap_used);
	if (m->swap_total > 0)
		jsonwrite_int(o, "swapTotal", m->swap_total);
	return o;
}

static struct json_object *
space_json(int64_t total, int64_t used, int64_t free_, double usage)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_int(o, "total", total);
	jsonwrite_int(o, "used", used);
	jsonwrite_int(o, "free", free_);
	jsonwrite_num(o, "usage", usage);
	return o;
}

static struct json_object *
disk_json(const struct st_disk *d)
{
	struct json_object *o = space_json(d->total, d->used, d->free, d->usage);

	jsonwrite_opt_str(o, "mountpoint", d->mountpoint);
	jsonwrite_opt_str(o, "type", d->type);
	jsonwrite_opt_str(o, "device", d->device);
	return o;
}

/* The original's Temperature object: the readings it has (omitted when none, as Go's
 * omitempty does), the flags, and its times (the min/max record times are Go's zero time: we
 * keep no records). */
struct json_object *
st_memory_json(const struct st_memory *m)
{
	return memory_json(m);
}

struct json_object *
st_disk_json(const struct st_disk *d)
{
	return disk_json(d);
}

static struct json_object *
temperature_json(const struct st_temperature *t)
{
	struct json_object *o = json_object_new_object(), *a;
	int has_cpu = t->ncores > 0 || t->cpu_package > 0;

	if (t->cpu_package > 0)
		jsonwrite_num(o, "cpuPackage", t->cpu_package);
	if (t->cpu_max > 0)
		jsonwrite_num(o, "cpuMax", t->cpu_max);
	jsonwrite_time(o, "minRecorded", 0);
	jsonwrite_time(o, "maxRecorded", 0);
	if (t->ncores > 0) {
		a = json_object_new_array();
		for (int i = 0; i < t->ncores; i++) {
			struct json_object *c = json_object_new_object();
			jsonwrite_int(c, "core", i);
			jsonwrite_num(c, "temp", t->cores[i]);
			json_object_array_add(a, c);
		}
		json_object_object_add(o, "cores", a);
	}
	if (t->nnvme > 0) {
		a = json_object_new_array();
		for (int i = 0; i < t->nnvme; i++) {
			struct json_object *d = json_object_new_object();
			char dev[16];
			snprintf(dev, sizeof(dev), "nvme%d", i);
			jsonwrite_str(d, "device", dev);
			jsonwrite_num(d, "temp", t->nvme[i]);
			json_object_array_add(a, d);
		}
		json_object_object_add(o, "nvme", a);
	}
	jsonwrite_bool(o, "available", 1);
	jsonwrite_bool(o, "hasCPU", has_cpu);
	jsonwrite_bool(o, "hasGPU", 0);
	jsonwrite_bool(o, "hasNVMe", t->nnvme > 0);
	jsonwrite_bool(o, "hasSMART", 0);
	jsonwrite_time(o, "lastUpdate", t->last_update);
	return o;
}

struct json_object *
st_node_json(const struct st_node *n)
{
	struct json_object *o = json_object_new_object(), *cpu, *load;

	jsonwrite_str(o, "id", n->id);
	jsonwrite_str(o, "node", n->node);
	jsonwrite_str(o, "name", n->node);
	jsonwrite_str(o, "displayName", n->display_name[0] ? n->display_name : n->node);
	jsonwrite_str(o, "instance", n->instance);
	jsonwrite_opt_str(o, "host", n->host);
	jsonwrite_str(o, "status", n->status);
	jsonwrite_str(o, "type", n->type[0] ? n->type : "node");
	jsonwrite_num(o, "cpu", n->cpu);
	if (n->memory.total > 0)
		json_object_object_add(o, "memory", memory_json(&n->memory));
	jsonwrite_int(o, "mem", n->memory.used);
	jsonwrite_int(o, "maxmem", n->memory.total);
	if (n->disk.total > 0)
		json_object_object_add(o, "disk", disk_json(&n->disk));
	jsonwrite_int(o, "maxdisk", n->disk.total);
	jsonwrite_int(o, "uptime", n->uptime);
	if (n->nload < 0) {
		json_object_object_add(o, "loadAverage", NULL);
	} else {
		load = json_object_new_array();
		for (int i = 0; i < n->nload; i++)
			json_object_array_add(load, jsonutil_new_double(n->load[i]));
		json_object_object_add(o, "loadAverage", load);
	}
	jsonwrite_str(o, "kernelVersion", n->kernel_version);
	jsonwrite_str(o, "pveVersion", n->pve_version);
	cpu = json_object_new_object();
	jsonwrite_str(cpu, "model", n->cpu_model);
	jsonwrite_int(cpu, "cores", n->cpu_cores);
	jsonwrite_int(cpu, "sockets", n->cpu_sockets);
	{
		char mhz[32];
		snprintf(mhz, sizeof(mhz), "%.0f", n->cpu_mhz);
		jsonwrite_str(cpu, "mhz", mhz);
	}
	json_object_object_add(o, "cpuInfo", cpu);
	if (n->temperature.available)
		json_object_object_add(o, "temperature", temperature_json(&n->temperature));
	jsonwrite_ms(o, "lastSeen", n->last_seen);
	jsonwrite_str(o, "connectionHealth", n->connection_health[0] ? n->connection_health : "healthy");
	if (n->is_cluster_member)
		jsonwrite_bool(o, "isClusterMember", 1);
	jsonwrite_opt_str(o, "clusterName", n->cluster_name);
	return o;
}

struct json_object *
st_guest_json(const struct st_guest *g)
{
	struct json_object *o = json_object_new_object();
	int lxc = strcmp(g->type, "qemu") != 0;

	jsonwrite_str(o, "id", g->id);
	jsonwrite_int(o, "vmid", g->vmid);
	jsonwrite_str(o, "name", g->name);
	jsonwrite_str(o, "node", g->node);
	jsonwrite_str(o, "instance", g->instance);
	jsonwrite_str(o, "status", g->status);
	jsonwrite_str(o, "type", g->type);
	jsonwrite_num(o, "cpu", g->cpu);
	jsonwrite_int(o, "cpus", g->cpus);
	if (g->memory.total > 0)
		json_object_object_add(o, "memory", memory_json(&g->memory));
	jsonwrite_int(o, "mem", g->memory.used);
	jsonwrite_int(o, "maxmem", g->memory.total);
	if (g->disk.total > 0)
		json_object_object_add(o, "disk", space_json(g->disk.total, g->disk.used,
		    g->disk.free, g->disk.usage));
	if (g->ndisks > 0) {
		struct json_object *a = json_object_new_array();
		for (int i = 0; i < g->ndisks; i++)
			json_object_array_add(a, disk_json(&g->disks[i]));
		json_object_object_add(o, "disks", a);
	}
	if (!lxc)
		jsonwrite_opt_str(o, "diskStatusReason", g->disk_status_reason);
	jsonwrite_opt_str(o, "osName", g->os_name);
	if (!lxc) {
		jsonwrite_opt_str(o, "osVersion", g->os_version);
		jsonwrite_opt_str(o, "agentVersion", g->agent_version);
	}
	if (g->net_ifaces)
		json_object_object_add(o, "networkInterfaces", json_object_get(g->net_ifaces));
	if (g->nip > 0) {
		struct json_object *a = json_object_new_array();
		for (int i = 0; i < g->nip; i++)
			json_object_array_add(a, json_object_new_string(g->ip_addresses[i]));
		json_object_object_add(o, "ipAddresses", a);
	}
	jsonwrite_int(o, "networkIn", g->net_in > 0 ? g->net_in : 0);
	jsonwrite_int(o, "networkOut", g->net_out > 0 ? g->net_out : 0);
	jsonwrite_int(o, "diskRead", g->disk_read > 0 ? g->disk_read : 0);
	jsonwrite_int(o, "diskWrite", g->disk_write > 0 ? g->disk_write : 0);
	jsonwrite_int(o, "uptime", g->uptime);
	jsonwrite_bool(o, "template", 0);
	if (g->last_backup > 0)
		jsonwrite_ms(o, "lastBackup", g->last_backup);
	jsonwrite_opt_str(o, "tags", g->tags);
	jsonwrite_opt_str(o, "lock", g->lock);
	if (lxc) {
		if (g->is_oci)
			jsonwrite_bool(o, "isOci", 1);
		jsonwrite_opt_str(o, "osTemplate", g->os_template);
	}
	jsonwrite_ms(o, "lastSeen", g->last_seen);
	return o;
}

struct json_object *
st_storage_json(const struct st_storage *st, int detail)
{
	struct json_object *o = json_object_new_object();
	double usage = st->total > 0 ? (double)st->used * 100.0 / (double)st->total : 0;

	jsonwrite_str(o, "id", st->id);
	if (!detail)
		jsonwrite_str(o, "storage", st->name);
	jsonwrite_str(o, "name", st->name);
	jsonwrite_str(o, "node", st->node);
	jsonwrite_str(o, "instance", st->instance);
	if (st->nnodes > 0) {
		struct json_object *a = json_object_new_array(), *b = json_object_new_array();
		for (int i = 0; i < st->nnodes; i++) {
			json_object_array_add(a, json_object_new_string(st->nodes[i]));
			json_object_array_add(b, json_object_new_string(st->node_ids[i]));
		}
		json_object_object_add(o, "nodes", a);
		json_object_object_add(o, "nodeIds", b);
		jsonwrite_int(o, "nodeCount", st->nnodes);
	}
	jsonwrite_str(o, "type", st->type);
	jsonwrite_str(o, "status", st->status);
	jsonwrite_int(o, "total", st->total);
	jsonwrite_int(o, "used", st->used);
	if (!detail)
		jsonwrite_int(o, "avail", st->avail);
	jsonwrite_int(o, "free", st->avail);
	jsonwrite_num(o, "usage", usage);
	jsonwrite_str(o, "content", st->content);
	jsonwrite_bool(o, "shared", st->shared);
	jsonwrite_bool(o, "enabled", st->enabled);
	jsonwrite_bool(o, "active", st->active);
	/* zfsPool only in the storage detail, as the original. */
	if (detail && st->zfs_pool)
		json_object_object_add(o, "zfsPool", json_object_get(st->zfs_pool));
	return o;
}

/* --- writing -------------------------------------------------------------------------- */

static void
node_row(struct strbuf *r, const char *instance_id, const void *item)
{
	const struct st_node *n = item;
	char b[64];

	db_copy_field(r, n->id, 0);
	db_copy_field(r, instance_id, 0);
	db_copy_field(r, n->node, 0);
	db_copy_field(r, n->status, 0);
	db_copy_field(r, sr_num(b, sizeof(b), n->cpu), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), n->memory.total), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), n->memory.used), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), n->disk.total), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), n->disk.used), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), n->uptime), 0);
	db_copy_field(r, timefmt_pg(n->last_seen, b, sizeof(b)), 0);
	sr_doc(r, st_node_json(n), 1);
}

static void
guest_row(struct strbuf *r, const char *instance_id, const void *item)
{
	const struct st_guest *g = item;
	char b[64];

	db_copy_field(r, g->id, 0);
	db_copy_field(r, instance_id, 0);
	db_copy_field(r, g->node, 0);
	db_copy_field(r, sr_i64(b, sizeof(b), g->vmid), 0);
	db_copy_field(r, g->name, 0);
	db_copy_field(r, g->type, 0);
	db_copy_field(r, g->status, 0);
	db_copy_field(r, sr_num(b, sizeof(b), g->cpu), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), g->cpus), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), g->memory.total), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), g->memory.used), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), g->disk.total), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), g->disk.used), 0);
	db_copy_field(r, sr_num(b, sizeof(b), g->disk.usage), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), g->net_in), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), g->net_out), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), g->disk_read), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), g->disk_write), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), g->uptime), 0);
	db_copy_field(r, g->tags ? g->tags : "", 0);
	db_copy_field(r, timefmt_pg(g->last_seen, b, sizeof(b)), 0);
	db_copy_field(r, g->last_backup > 0 ? timefmt_pg(g->last_backup, b, sizeof(b)) : NULL, 0);
	sr_doc(r, st_guest_json(g), 1);
}

static void
storage_row(struct strbuf *r, const char *instance_id, const void *item)
{
	const struct st_storage *st = item;
	char b[64];

	db_copy_field(r, st->id, 0);
	db_copy_field(r, instance_id, 0);
	db_copy_field(r, st->node, 0);
	db_copy_field(r, st->name, 0);
	db_copy_field(r, st->type, 0);
	db_copy_field(r, st->status, 0);
	db_copy_field(r, sr_i64(b, sizeof(b), st->total), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), st->used), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), st->avail), 0);
	db_copy_field(r, st->shared ? "t" : "f", 0);
	db_copy_field(r, st->content, 0);
	db_copy_field(r, st->instance, 0);
	sr_doc(r, st_storage_json(st, 0), 0);
	sr_doc(r, st_storage_json(st, 1), 1);
}

/* The documents are written as they are (a reference is taken for sr_doc, which puts it). */
static void
disk_row(struct strbuf *r, const char *instance_id, const void *item)
{
	const struct st_disk_row *d = item;
	char b[64];

	db_copy_field(r, d->id, 0);
	db_copy_field(r, instance_id, 0);
	db_copy_field(r, d->node, 0);
	db_copy_field(r, d->dev_path, 0);
	db_copy_field(r, d->model, 0);
	db_copy_field(r, d->serial, 0);
	db_copy_field(r, d->type, 0);
	db_copy_field(r, sr_i64(b, sizeof(b), d->size), 0);
	db_copy_field(r, d->health, 0);
	db_copy_field(r, sr_i64(b, sizeof(b), d->wearout), 0);
	sr_doc(r, json_object_get(d->doc), 1);
}

static void
ceph_row(struct strbuf *r, const char *instance_id, const void *item)
{
	const struct st_ceph_row *c = item;
	char b[64];

	db_copy_field(r, c->id, 0);
	db_copy_field(r, instance_id, 0);
	db_copy_field(r, c->fsid, 0);
	db_copy_field(r, c->health, 0);
	db_copy_field(r, sr_i64(b, sizeof(b), c->total), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), c->used), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), c->num_osds), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), c->num_osds_up), 0);
	sr_doc(r, json_object_get(c->doc), 1);
}

static void
repl_row(struct strbuf *r, const char *instance_id, const void *item)
{
	const struct st_repl_row *j = item;
	char b[64];

	db_copy_field(r, j->id, 0);
	db_copy_field(r, instance_id, 0);
	db_copy_field(r, j->job_id, 0);
	db_copy_field(r, j->guest_id > 0 ? sr_i64(b, sizeof(b), j->guest_id) : NULL, 0);
	db_copy_field(r, j->source, 0);
	db_copy_field(r, j->target, 0);
	db_copy_field(r, j->state, 0);
	db_copy_field(r, j->last_sync > 0 ? timefmt_pg(j->last_sync, b, sizeof(b)) : NULL, 0);
	db_copy_field(r, j->next_sync > 0 ? timefmt_pg(j->next_sync, b, sizeof(b)) : NULL, 0);
	db_copy_field(r, sr_i64(b, sizeof(b), j->fail_count), 0);
	db_copy_field(r, j->error, 0);
	db_copy_field(r, sr_i64(b, sizeof(b), j->sort), 0);
	sr_doc(r, json_object_get(j->doc), 1);
}

static void
health_row(struct strbuf *r, const char *instance_id, const void *item)
{
	const struct st_health *h = item;
	db_copy_field(r, h->key, 0);
	db_copy_field(r, instance_id, 0);
	db_copy_field(r, h->healthy ? "t" : "f", 1);
}

/* --- backups --------------------------------------------------------------------------- */

struct st_backup_task *
st_add_task(struct st_backups *b)
{
	struct st_backup_task *t;

	GROW(b->tasks, b->ntasks, b->captasks);
	t = &b->tasks[b->ntasks++];
	t->id = t->instance = t->status = "";
	return t;
}

struct st_storage_backup *
st_add_storage_backup(struct st_backups *b)
{
	struct st_storage_backup *sb;

	GROW(b->storage, b->nstorage, b->capstorage);
	sb = &b->storage[b->nstorage++];
	sb->id = sb->storage = sb->instance = sb->notes = sb->volid = "";
	return sb;
}

void
st_add_storage_backup_copy(struct st_backups *b, const struct st_storage_backup *from)
{
	struct st_storage_backup *sb = st_add_storage_backup(b);

	*sb = *from;
	sb->id = st_btext(b, from->id);
	sb->storage = st_btext(b, from->storage);
	sb->instance = st_btext(b, from->instance);
	sb->notes = st_btext(b, from->notes);
	sb->volid = st_btext(b, from->volid);
}

struct st_snapshot *
st_add_snapshot(struct st_backups *b)
{
	struct st_snapshot *sn;

	GROW(b->snapshots, b->nsnapshots, b->capsnapshots);
	sn = &b->snapshots[b->nsnapshots++];
	sn->id = sn->name = sn->instance = sn->description = sn->parent = "";
	return sn;
}

/* An array of n elements of size with room for *cap: room for n only (xrealloc keeps at
 * least one element, so an empty list stays valid). */
static void *
fit(void *v, int n, int *cap, size_t size)
{
	if (v == NULL || n == *cap)
		return v;
	*cap = n > 0 ? n : 1;
	return xrealloc(v, size * (size_t)*cap);
}

void
st_backups_fit(struct st_backups *b)
{
	b->tasks = fit(b->tasks, b->ntasks, &b->captasks, sizeof(*b->tasks));
	b->storage = fit(b->storage, b->nstorage, &b->capstorage, sizeof(*b->storage));
	b->snapshots = fit(b->snapshots, b->nsnapshots, &b->capsnapshots, sizeof(*b->snapshots));
}

void
st_backups_free(struct st_backups *b)
{
	free(b->tasks);
	free(b->storage);
	free(b->snapshots);
	if (b->text)
		arena_free(b->text);
	memset(b, 0, sizeof(*b));
}

struct json_object *
st_task_json(const struct st_backup_task *t)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_str(o, "id", t->id);
	jsonwrite_str(o, "node", t->node);
	jsonwrite_str(o, "instance", t->instance);
	jsonwrite_str(o, "type", "vzdump");
	jsonwrite_int(o, "vmid", t->vmid);
	jsonwrite_str(o, "status", t->status);
	jsonwrite_time(o, "startTime", t->start);
	jsonwrite_time(o, "endTime", t->end);
	return o;
}

struct json_object *
st_storage_backup_json(const struct st_storage_backup *b)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_str(o, "id", b->id);
	jsonwrite_str(o, "storage", b->storage);
	jsonwrite_str(o, "node", b->node);
	jsonwrite_str(o, "instance", b->instance);
	jsonwrite_str(o, "type", b->type);
	jsonwrite_int(o, "vmid", b->vmid);
	jsonwrite_time(o, "time", b->ctime);
	jsonwrite_int(o, "ctime", (int64_t)b->ctime);
	jsonwrite_int(o, "size", b->size);
	jsonwrite_str(o, "format", b->format);
	jsonwrite_opt_str(o, "notes", b->notes);
	jsonwrite_bool(o, "protected", b->protected_);
	jsonwrite_str(o, "volid", b->volid);
	jsonwrite_bool(o, "isPBS", b->is_pbs);
	jsonwrite_bool(o, "verified", b->verified);
	jsonwrite_opt_str(o, "verification", b->verification);
	return o;
}

struct json_object *
st_snapshot_json(const struct st_snapshot *sn)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_str(o, "id", sn->id);
	jsonwrite_str(o, "name", sn->name);
	jsonwrite_str(o, "node", sn->node);
	jsonwrite_str(o, "instance", sn->instance);
	jsonwrite_str(o, "type", sn->type);
	jsonwrite_int(o, "vmid", sn->vmid);
	jsonwrite_time(o, "time", sn->time);
	jsonwrite_opt_str(o, "description", sn->description);
	jsonwrite_opt_str(o, "parent", sn->parent);
	jsonwrite_bool(o, "vmstate", sn->vmstate);
	return o;
}

static void
task_row(struct strbuf *r, const char *instance_id, const void *item)
{
	const struct st_backup_task *t = item;
	char b[64];

	db_copy_field(r, t->id, 0);
	db_copy_field(r, instance_id, 0);
	db_copy_field(r, t->node, 0);
	db_copy_field(r, sr_i64(b, sizeof(b), t->vmid), 0);
	db_copy_field(r, t->status, 0);
	db_copy_field(r, t->start > 0 ? timefmt_pg(t->start, b, sizeof(b)) : NULL, 0);
	db_copy_field(r, t->end > 0 ? timefmt_pg(t->end, b, sizeof(b)) : NULL, 0);
	sr_doc(r, st_task_json(t), 1);
}

static void
storage_backup_row(struct strbuf *r, const char *instance_id, const void *item)
{
	const struct st_storage_backup *sb = item;
	char b[64];

	db_copy_field(r, sb->id, 0);
	db_copy_field(r, instance_id, 0);
	db_copy_field(r, sb->node, 0);
	db_copy_field(r, sb->storage, 0);
	db_copy_field(r, sr_i64(b, sizeof(b), sb->vmid), 0);
	db_copy_field(r, sb->type, 0);
	db_copy_field(r, timefmt_pg(sb->ctime, b, sizeof(b)), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), sb->size), 0);
	db_copy_field(r, sb->volid, 0);
	sr_doc(r, st_storage_backup_json(sb), 1);
}

static void
snapshot_row(struct strbuf *r, const char *instance_id, const void *item)
{
	const struct st_snapshot *sn = item;
	char b[64];

	db_copy_field(r, sn->id, 0);
	db_copy_field(r, instance_id, 0);
	db_copy_field(r, sn->node, 0);
	db_copy_field(r, sr_i64(b, sizeof(b), sn->vmid), 0);
	db_copy_field(r, sn->name, 0);
	db_copy_field(r, timefmt_pg(sn->time, b, sizeof(b)), 0);
	sr_doc(r, st_snapshot_json(sn), 1);
}

int
st_write_rows(struct db *db, const struct st_instance *s)
{
	if (st_delete_rows(db, ST_ROWS_PVE, s->instance_id) != 0)
		return -1;
	if (st_copy_list(db, "COPY pulse.pve_nodes (id, instance_id, node, status, cpu, mem_total, "
	    "mem_used, disk_total, disk_used, uptime, last_seen, doc) FROM STDIN", s->instance_id,
	    s->nodes, s->nnodes, sizeof(*s->nodes), node_row) != 0)
		return -1;
	if (st_copy_list(db, "COPY pulse.guests (id, instance_id, node, vmid, name, type, status, cpu, "
	    "cpus, mem_total, mem_used, disk_total, disk_used, disk_usage, net_in, net_out, disk_read, "
	    "disk_write, uptime, tags, last_seen, last_backup, doc) FROM STDIN", s->instance_id, s->guests,
	    s->nguests, sizeof(*s->guests), guest_row) != 0)
		return -1;
	if (st_copy_list(db, "COPY pulse.storage (id, instance_id, node, name, type, status, total, used, "
	    "avail, shared, content, sort_instance, doc, detail) FROM STDIN", s->instance_id,
	    s->storage, s->nstorage, sizeof(*s->storage), storage_row) != 0)
		return -1;
	if (st_copy_list(db, "COPY pulse.connection_health (key, instance_id, healthy) FROM STDIN",
	    s->instance_id, s->health, s->nhealth, sizeof(*s->health), health_row) != 0)
		return -1;
	if (st_copy_list(db, "COPY pulse.physical_disks (id, instance_id, node, dev_path, model, "
	    "serial, type, size, health, wearout, doc) FROM STDIN", s->instance_id, s->disks,
	    s->ndisks, sizeof(*s->disks), disk_row) != 0)
		return -1;
	if (st_copy_list(db, "COPY pulse.ceph_clusters (id, instance_id, fsid, health, total_bytes, "
	    "used_bytes, num_osds, num_osds_up, doc) FROM STDIN", s->instance_id, s->ceph, s->nceph,
	    sizeof(*s->ceph), ceph_row) != 0)
		return -1;
	if (st_copy_list(db, "COPY pulse.replication_jobs (id, instance_id, job_id, guest_id, "
	    "source_node, target_node, state, last_sync, next_sync, fail_count, error, sort_key, doc) "
	    "FROM STDIN", s->instance_id, s->repl, s->nrepl, sizeof(*s->repl), repl_row) != 0)
		return -1;
	return 0;
}

int
st_write(struct db *db, const struct st_instance *s, char *err, size_t errlen)
{
	int rc = st_begin(db, s->instance_id, s->mock);

	if (rc == 1)
		return 0;
	if (rc != 0 || st_write_rows(db, s) != 0 || st_bump_version(db) != 0 ||
	    db_commit(db) != 0) {
		snprintf(err, errlen, "%s", db_error(db));
		db_rollback(db);
		return -1;
	}
	return 0;
}

int
st_write_backups(struct db *db, const struct st_backups *b, char *err, size_t errlen)
{
	int rc = st_begin(db, b->instance_id, b->mock);

	if (rc == 1)
		return 0;
	if (rc != 0 || st_delete_rows(db, ST_ROWS_PVE_BACKUPS, b->instance_id) != 0)
		goto err;
	if (st_copy_list(db, "COPY pulse.backup_tasks (id, instance_id, node, vmid, status, start_time, "
	    "end_time, doc) FROM STDIN", b->instance_id, b->tasks, b->ntasks, sizeof(*b->tasks),
	    task_row) != 0)
		goto err;
	if (st_copy_list(db, "COPY pulse.storage_backups (id, instance_id, node, storage, vmid, type, "
	    "ctime, size, volid, doc) FROM STDIN", b->instance_id, b->storage, b->nstorage,
	    sizeof(*b->storage), storage_backup_row) != 0)
		goto err;
	if (st_copy_list(db, "COPY pulse.guest_snapshots (id, instance_id, node, vmid, name, snaptime, "
	    "doc) FROM STDIN", b->instance_id, b->snapshots, b->nsnapshots, sizeof(*b->snapshots),
	    snapshot_row) != 0)
		goto err;
	if (st_bump_version(db) != 0 || db_commit(db) != 0)
		goto err;
	return 0;
err:
	snprintf(err, errlen, "%s", db_error(db));
	db_rollback(db);
	return -1;
}

/* The rows an UPDATE touched (0 when unreadable). */
static int
changed_rows(PGresult *res)
{
	int64_t changed = 0;

	(void)parse_int64(PQcmdTuples(res), 0, INT32_MAX, &changed);
	return (int)changed;
}

int
st_set_down(struct db *db, const char *instance_id, const char *key, double grace)
{
	char g[32];
	const char *params[2] = {instance_id, key}, *nparams[2] = {instance_id, g};
	PGresult *res;
	int changed, rc = st_begin(db, instance_id, 0);

	if (rc == 1)
		return 0;
	if (rc != 0)
		goto err;
	snprintf(g, sizeof(g), "%.3f", grace);
	res = db_exec_params(db, "INSERT INTO pulse.connection_health (key, instance_id, healthy) "
	    "VALUES ($2, $1, false) ON CONFLICT (key) DO UPDATE SET healthy = false "
	    "WHERE pulse.connection_health.instance_id = $1 AND pulse.connection_health.healthy",
	    2, params);
	if (res == NULL)
		goto err;
	changed = changed_rows(res);
	PQclear(res);
	/* Nodes last seen before the grace period are shown offline; everything else the
	 * instance had (guests, storage, backups) stays as it was last seen. */
	res = db_exec_params(db, "UPDATE pulse.pve_nodes SET status = 'offline', cpu = 0, uptime = 0, "
	    "doc = (doc::jsonb || '{\"status\":\"offline\",\"connectionHealth\":\"error\","
	    "\"cpu\":0,\"uptime\":0}'::jsonb)::json "
	    "WHERE instance_id = $1 AND last_seen < now() - make_interval(secs => $2::double precision) "
	    "AND (status <> 'offline' OR doc->>'connectionHealth' IS DISTINCT FROM 'error')", 2, nparams);
	if (res == NULL)
		goto err;
	changed += changed_rows(res);
	PQclear(res);
	return st_commit(db, changed > 0);
err:
	log_warn("msg=\"state write failed\" instance_id=%s error=\"%s\"", instance_id,
	    db_error(db));
	db_rollback(db);
	return -1;
}

int
st_set_health(struct db *db, const char *instance_id, const char *key, int healthy)
{
	const char *params[3] = {instance_id, key, healthy ? "t" : "f"};
	PGresult *res;
	int rc = st_begin(db, instance_id, 0);

	if (rc == 1)
		return 0;
	if (rc != 0)
		goto err;
	res = db_exec_params(db, "UPDATE pulse.connection_health SET healthy = $3::boolean "
	    "WHERE instance_id = $1 AND key = $2 AND healthy <> $3::boolean", 3, params);
	if (res == NULL)
		goto err;
	rc = changed_rows(res);
	PQclear(res);
	/* Readers rebuild only when something changed. */
	return st_commit(db, rc > 0);
err:
	db_rollback(db);
	return -1;
}

