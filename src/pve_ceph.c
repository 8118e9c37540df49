/* pve_ceph.c: tolerant parsers and JSON of a PVE cluster's Ceph status, pools and services. */
#include "config.h"

#include "pve_detail.h"
#include "pve_detail_int.h"
#include "jsonread.h"
#include "jsonwrite.h"
#include "timefmt.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Appends s to the string in buf (size len), cut at a character boundary when full. */
static void
append_cut(char *buf, size_t len, const char *s)
{
	size_t used = strlen(buf), n = strlen(s);

	if (used + 1 >= len)
		return;
	if (n >= len - used) {
		n = len - used - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(buf + used, s, n);
	buf[used + n] = '\0';
}

/* Joins non-empty parts with sep into buf. */
static void
join_msg(char *buf, size_t len, const char *sep, const char *part)
{
	if (part[0] == '\0')
		return;
	if (buf[0] != '\0')
		append_cut(buf, len, sep);
	append_cut(buf, len, part);
}

/* A check's summary: {"message"|"summary": ...}, a list of such, or a plain string. */
static void
check_summary(struct json_object *v, char *out, size_t len)
{
	out[0] = '\0';
	if (v == NULL)
		return;
	if (json_object_is_type(v, json_type_string)) {
		jsonread_copy_trimmed(out, len, json_object_get_string(v));
		return;
	}
	if (jsonread_is_object(v)) {
		jsonread_copy_trimmed(out, len, jsonread_string(v, "message", ""));
		if (out[0] == '\0')
			jsonread_copy_trimmed(out, len, jsonread_string(v, "summary", ""));
		return;
	}
	for (int i = 0; i < scan_len(v) && out[0] == '\0'; i++) {
		struct json_object *it = json_object_array_get_idx(v, i);
		jsonread_copy_trimmed(out, len, jsonread_string(it, "message", ""));
		if (out[0] == '\0')
			jsonread_copy_trimmed(out, len, jsonread_string(it, "summary", ""));
	}
}

static void
ceph_health_message(struct pve_ceph_cluster *c, struct json_object *health)
{
	struct json_object *summary = jsonread_member(health, "summary"), *checks = jsonread_member(health, "checks");
	const char *names[64];
	int n = 0, seen = 0;
	char part[512], line[640];

	for (int i = 0; i < scan_len(summary); i++) {
		struct json_object *s = json_object_array_get_idx(summary, i);
		COPY(part, jsonread_string(s, "message", ""));
		if (part[0] == '\0')
			COPY(part, jsonread_string(s, "summary", ""));
		join_msg(c->health_message, sizeof(c->health_message), "; ", part);
	}
	if (!jsonread_is_object(checks))
		return;
	json_object_object_foreach(checks, name, unused) {
		(void)unused;
		if (++seen > SCAN_MAX || n >= (int)ARRAY_LEN(names))
			break;
		names[n++] = name;
	}
	/* The original walks a map, in no order: sorted names keep the text stable. */
	qsort(names, (size_t)n, sizeof(names[0]), cmp_strp);
	for (int i = 0; i < n; i++) {
		struct json_object *check = jsonread_member(checks, names[i]), *detail = jsonread_member(check, "detail");
		check_summary(jsonread_member(check, "summary"), part, sizeof(part));
		for (int k = 0; k < scan_len(detail) && part[0] == '\0'; k++)
			COPY(part, jsonread_string(json_object_array_get_idx(detail, k), "message", ""));
		if (part[0] == '\0')
			continue;
		snprintf(line, sizeof(line), "%.100s: %s", names[i], part);
		join_msg(c->health_message, sizeof(c->health_message), "; ", line);
	}
}

static int
cmp_service(const void *a, const void *b)
{
	return strcmp(((const struct pve_ceph_service *)a)->type,
	    ((const struct pve_ceph_service *)b)->type);
}

/* "Offline: a, b" (sorted) in s->message, or nothing when none is offline. */
static void
offline_message(struct pve_ceph_service *s, const char **offline, int noff)
{
	if (noff == 0)
		return;
	qsort(offline, (size_t)noff, sizeof(offline[0]), cmp_strp);
	snprintf(s->message, sizeof(s->message), "Offline: ");
	for (int i = 0; i < noff; i++) {
		if (i > 0)
			append_cut(s->message, sizeof(s->message), ", ");
		append_cut(s->message, sizeof(s->message), offline[i]);
	}
}

/* The services of the service map: each type's daemons, those whose status is neither
 * running nor active named offline. */
static void
ceph_services(struct pve_ceph_cluster *c, struct json_object *services)
{
	int seen = 0;

	if (!jsonread_is_object(services))
		return;
	json_object_object_foreach(services, type, def) {
		struct json_object *daemons = jsonread_member(def, "daemons");
		struct pve_ceph_service *s;
		const char *offline[64];
		char labels[64][160];
		int noff = 0, dseen = 0;

		if (++seen > SCAN_MAX || c->nservices >= PVE_CEPH_MAX_SERVICES)
			break;
		s = &c->services[c->nservices++];
		memset(s, 0, sizeof(*s));
		COPY(s->type, type);
		if (!jsonread_is_object(daemons))
			continue;
		json_object_object_foreach(daemons, dname, daemon) {
			char status[32], host[96];
			if (++dseen > SCAN_MAX)
				break;
			if (!jsonread_is_object(daemon))	/* e.g. "summary": "" beside the daemons */
				continue;
			s->total++;
			/* A daemon of the real service map carries no status: it is listed while it
			 * reports to the manager, so it runs. */
			COPY(status, jsonread_string(daemon, "status", "running"));
			if (strcasecmp(status, "running") == 0 || strcasecmp(status, "active") == 0) {
				s->running++;
				continue;
			}
			if (noff >= (int)ARRAY_LEN(labels))
				continue;
			COPY(host, jsonread_string(daemon, "hostname", ""));
			if (host[0] == '\0')
				COPY(host, jsonread_string(jsonread_member(daemon, "metadata"), "hostname", ""));
			if (host[0])
				snprintf(labels[noff], sizeof(labels[0]), "%.60s@%s", dname, host);
			else
				snprintf(labels[noff], sizeof(labels[0]), "%.150s", dname);
			offline[noff] = labels[noff];
			noff++;
		}
		offline_message(s, offline, noff);
	}
}

/* The service of that type, or NULL. */
static struct pve_ceph_service *
find_service(struct pve_ceph_cluster *c, const char *type)
{
	for (int i = 0; i < c->nservices; i++)
		if (strcmp(c->services[i].type, type) == 0)
			return &c->services[i];
	return NULL;
}

/* A new, empty service of that type, or NULL when the list is full. */
static struct pve_ceph_service *
add_service(struct pve_ceph_cluster *c, const char *type)
{
	struct pve_ceph_service *s;

	if (c->nservices >= PVE_CEPH_MAX_SERVICES)
		return NULL;
	s = &c->services[c->nservices++];
	memset(s, 0, sizeof(*s));
	COPY(s->type, type);
	return s;
}

/* Monitors, when the service map has none (real clusters register only RGW, rbd-mirror and
 * the like there): monmap.mons are all of them, those named in quorum_names run, the others
 * are offline. Without a monitor list, the quorum alone. */
static void
ceph_monitors(struct pve_ceph_cluster *c, struct json_object *data)
{
	struct json_object *mons = jsonread_member(jsonread_member(data, "monmap"), "mons"), *quorum = jsonread_member(data, "quorum_names");
	struct pve_ceph_service *s;
	const char *offline[64];
	int nmons = scan_len(mons), nquorum = scan_len(quorum), noff = 0;

	if (find_service(c, "mon") != NULL || (nmons == 0 && nquorum == 0))
		return;
	if ((s = add_service(c, "mon")) == NULL)
		return;
	if (nmons == 0) {
		s->total = s->running = nquorum;
		return;
	}
	for (int i = 0; i < nmons && i < SCAN_MAX; i++) {
		const char *name = jsonread_string(json_object_array_get_idx(mons, i), "name", "");
		int in = 0;
		s->total++;
		for (int k = 0; k < nquorum && !in; k++)
			in = strcmp(name, json_object_get_string(json_object_array_get_idx(quorum, k))) == 0;
		if (in)
			s->running++;
		else if (noff < (int)ARRAY_LEN(offline) && name[0] != '\0')
			offline[noff++] = name;
	}
	offline_message(s, offline, noff);
}

/* Managers, when the service map has none: the active one and its standbys (standbys run);
 * the active one is offline when the map says the manager is not available. */
static void
ceph_managers(struct pve_ceph_cluster *c, struct json_object *data)
{
	struct json_object *mgrmap = jsonread_member(data, "mgrmap");
	const char *active = jsonread_string(mgrmap, "active_name", "");
	struct pve_ceph_service *s;
	int standbys = scan_len(jsonread_member(mgrmap, "standbys")), available = 1;

	if (find_service(c, "mgr") != NULL || (active[0] == '\0' && standbys == 0))
		return;
	if ((s = add_service(c, "mgr")) == NULL)
		return;
	s->total = (active[0] != '\0') + standbys;
	s->running = s->total;
	(void)jsonread_value_bool(jsonread_member(mgrmap, "available"), &available);
	if (active[0] != '\0' && !available) {
		s->running--;
		offline_message(s, &active, 1);
	}
}

int
pve_parse_ceph_status(struct json_object *data, struct pve_ceph_cluster *c)
{
	struct json_object *health = jsonread_member(data, "health"), *osdmap = jsonread_member(data, "osdmap"),
	    *pgmap = jsonread_member(data, "pgmap");

	memset(c, 0, sizeof(*c));
	if (!jsonread_is_object(data))
		return -1;
	COPY(c->fsid, jsonread_string(data, "fsid", ""));
	COPY(c->health, jsonread_string(health, "status", ""));
	ceph_health_message(c, health);
	ceph_services(c, jsonread_member(jsonread_member(data, "servicemap"), "services"));
	ceph_monitors(c, data);
	ceph_managers(c, data);
	qsort(c->services, (size_t)c->nservices, sizeof(c->services[0]), cmp_service);
	/* The counts and the Services card tell the same daemons. */
	c->num_mons = find_service(c, "mon") ? find_service(c, "mon")->total : 0;
	c->num_mgrs = find_service(c, "mgr") ? find_service(c, "mgr")->total : 0;
	if (jsonread_is_object(jsonread_member(osdmap, "osdmap")))	/* older Ceph nests it once more */
		osdmap = jsonread_member(osdmap, "osdmap");
	c->num_osds = clamp_int(jsonread_int(osdmap, "num_osds", 0));
	c->num_osds_up = clamp_int(jsonread_int(osdmap, "num_up_osds", 0));
	c->num_osds_in = clamp_int(jsonread_int(osdmap, "num_in_osds", 0));
	c->num_pgs = clamp_int(jsonread_int(pgmap, "num_pgs", 0));
	c->total_bytes = jsonread_int(pgmap, "bytes_total", 0);
	c->used_bytes = jsonread_int(pgmap, "bytes_used", 0);
	c->available_bytes = jsonread_int(pgmap, "bytes_avail", 0);
	c->usage_percent = percent(c->used_bytes, c->total_bytes);
	return 0;
}

int
pve_parse_ceph_df(struct json_object *data, struct pve_ceph_cluster *c)
{
	struct json_object *d = data, *stats, *pools;
	int n;

	if (!jsonread_is_object(jsonread_member(d, "stats")) && !jsonread_is_array(jsonread_member(d, "pools")) && jsonread_is_object(jsonread_member(d, "data")))
		d = jsonread_member(d, "data");
	stats = jsonread_member(d, "stats");
	pools = jsonread_member(d, "pools");
	if (!jsonread_is_object(stats) && !jsonread_is_array(pools))
		return -1;
	if (jsonread_int(stats, "total_bytes", 0) > 0) {
		c->total_bytes = jsonread_int(stats, "total_bytes", 0);
		c->used_bytes = jsonread_int(stats, "total_used_bytes", 0);
		c->available_bytes = jsonread_int(stats, "total_avail_bytes", 0);
		c->usage_percent = percent(c->used_bytes, c->total_bytes);
	}
	c->npools = 0;
	n = scan_len(pools);
	for (int i = 0; i < n && c->npools < PVE_CEPH_MAX_POOLS; i++) {
		struct json_object *p = json_object_array_get_idx(pools, i), *ps = jsonread_member(p, "stats");
		struct pve_ceph_pool *cp = &c->pools[c->npools];

		if (!jsonread_is_object(p))
			continue;
		memset(cp, 0, sizeof(*cp));
		cp->id = jsonread_int(p, "id", 0);
		COPY(cp->name, jsonread_string(p, "name", ""));
		cp->stored_bytes = jsonread_int(ps, "bytes_used", 0);
		cp->available_bytes = jsonread_int(ps, "max_avail", 0);
		cp->objects = jsonread_int(ps, "objects", 0);
		/* Ceph gives a fraction (0..1) since Luminous; the original's client shows it as
		 * a percentage. */
		cp->percent_used = jsonread_number(ps, "percent_used", 0) * 100.0;
		c->npools++;
	}
	return 0;
}

struct json_object *
pve_ceph_cluster_json(const struct pve_ceph_cluster *c, const char *instance, double now)
{
	struct json_object *o = json_object_new_object();
	char *id = c->fsid[0] ? xasprintf("%s-%s", instance ? instance : "", c->fsid) :
	    xstrdup(instance ? instance : "");

	jsonwrite_str(o, "id", id);
	free(id);
	jsonwrite_str(o, "instance", instance);
	jsonwrite_str(o, "name", "Ceph");
	jsonwrite_opt_str(o, "fsid", c->fsid);
	jsonwrite_str(o, "health", c->health);
	jsonwrite_opt_str(o, "healthMessage", c->health_message);
	jsonwrite_int(o, "totalBytes", c->total_bytes);
	jsonwrite_int(o, "usedBytes", c->used_bytes);
	jsonwrite_int(o, "availableBytes", c->available_bytes);
	jsonwrite_num(o, "usagePercent", c->usage_percent);
	jsonwrite_int(o, "numMons", c->num_mons);
	jsonwrite_int(o, "numMgrs", c->num_mgrs);
	jsonwrite_int(o, "numOsds", c->num_osds);
	jsonwrite_int(o, "numOsdsUp", c->num_osds_up);
	jsonwrite_int(o, "numOsdsIn", c->num_osds_in);
	jsonwrite_int(o, "numPGs", c->num_pgs);
	if (c->npools > 0) {
		struct json_object *pools = json_object_new_array();
		for (int i = 0; i < c->npools; i++) {
			const struct pve_ceph_pool *p = &c->pools[i];
			struct json_object *po = json_object_new_object();
			jsonwrite_int(po, "id", p->id);
			jsonwrite_str(po, "name", p->name);
			jsonwrite_int(po, "storedBytes", p->stored_bytes);
			jsonwrite_int(po, "availableBytes", p->available_bytes);
			jsonwrite_int(po, "objects", p->objects);
			jsonwrite_num(po, "percentUsed", p->percent_used);
			json_object_array_add(pools, po);
		}
		json_object_object_add(o, "pools", pools);
	}
	if (c->nservices > 0) {
		struct json_object *services = json_object_new_array();
		for (int i = 0; i < c->nservices; i++) {
			const struct pve_ceph_service *s = &c->services[i];
			struct json_object *so = json_object_new_object();
			jsonwrite_str(so, "type", s->type);
			jsonwrite_int(so, "running", s->running);
			jsonwrite_int(so, "total", s->total);
			jsonwrite_opt_str(so, "message", s->message);
			json_object_array_add(services, so);
		}
		json_object_object_add(o, "services", services);
	}
	jsonwrite_int(o, "lastUpdated", timefmt_unix_ms(now));
	return o;
}
