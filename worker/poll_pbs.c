/* poll_pbs.c: polling one Proxmox Backup Server (state-proxmox.md §3): version (or, when
 * that fails, the datastore list as a sign of life), node status, datastores with usage,
 * deduplication and namespaces, and every few cycles the backup snapshots, re-read only for
 * groups that changed. */
#include "config.h"

#include "log.h"
#include "pbs.h"
#include "poller.h"
#include "state_servers.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DATASTORES 64
#define MAX_NAMESPACES 64
#define MAX_GROUPS 8192
#define MAX_SNAPSHOTS 4096

enum { REQ_VERSION, REQ_PROBE, REQ_STATUS, REQ_LIST, REQ_DS_STATUS, REQ_DS_RRD, REQ_DS_GC,
    REQ_NAMESPACES, REQ_GROUPS, REQ_SNAPSHOTS };

struct ds_work {
	struct pbs_datastore_item item;
	struct pbs_ds_status status;
	int have_status;
	char error[160];
	double dedup;
	struct pbs_namespace_item *ns;
	int nns, have_ns;
};

/* One group listing: a datastore's namespace. */
struct groups_work {
	int ds;
	char ns[256];
	struct pbs_group *groups;
	int n, ok;
};

/* One group whose snapshots are read again. */
struct snaps_work {
	int gw, group;
	struct pbs_snapshot *snaps;
	int n, ok;
};

struct pbs_cycle {
	struct poll_cycle base;
	char version[64];
	int have_version;
	struct pbs_node_status node;
	int have_node;
	int have_list;
	struct ds_work ds[MAX_DATASTORES];
	int nds;
	struct groups_work *gws;
	int ngws, capgws;
	struct snaps_work *sws;
	int nsws, capsws;
};

/* The snapshots of one group as last read. */
struct group_cache {
	char store[128], ns[256], type[8], id[128];
	int64_t count, last_backup;
	struct st_pbs_backup *backups;
	int n;
	int seen;			/* listed in this backup cycle */
};

struct pbs_run {
	struct st_pbs last;		/* the last good poll, shown (offline) when polls fail */
	int have_last;
	struct group_cache *groups;
	int ngroups;
};

#define CYCLE(run) ((struct pbs_cycle *)(run)->cycle)
#define PB(run) ((struct pbs_run *)(run)->priv)

static void
copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* --- requests ----------------------------------------------------------------------- */

static void
path_escape(char *out, size_t len, const char *in)
{
	size_t o = 0;

	for (; *in && o + 4 < len; in++) {
		unsigned char c = (unsigned char)*in;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, len - o, "%%%02X", c);
	}
	out[o] = '\0';
}

static void
submit_ds(struct run *run, int ds, const char *what, int kind)
{
	char store[400], path[600];

	path_escape(store, sizeof(store), CYCLE(run)->ds[ds].item.store);
	snprintf(path, sizeof(path), "/admin/datastore/%s/%s", store, what);
	poll_submit(run, path, kind, ds);
}

static void
submit_groups(struct run *run, int ds, const char *ns)
{
	struct pbs_cycle *c = CYCLE(run);
	struct groups_work *gw;
	char store[400], nse[600], path[1200];

	GROW(c->gws, c->ngws, c->capgws);
	gw = &c->gws[c->ngws];
	gw->ds = ds;
	copy(gw->ns, sizeof(gw->ns), ns);
	path_escape(store, sizeof(store), c->ds[ds].item.store);
	path_escape(nse, sizeof(nse), ns);
	snprintf(path, sizeof(path), "/admin/datastore/%s/groups%s%s", store, *ns ? "?ns=" : "", nse);
	poll_submit(run, path, REQ_GROUPS, c->ngws++);
}

static struct group_cache *
cache_find(struct run *run, const char *store, const char *ns, const char *type, const char *id)
{
	for (int i = 0; i < PB(run)->ngroups; i++) {
		struct group_cache *g = &PB(run)->groups[i];
		if (strcmp(g->store, store) == 0 && strcmp(g->ns, ns) == 0 &&
		    strcmp(g->type, type) == 0 && strcmp(g->id, id) == 0)
			return g;
	}
	return NULL;
}

/* Groups whose count or newest backup moved, either way, get their snapshots read again: a
 * newest snapshot forgotten while another was added leaves the count as it was. */
static void
groups_listed(struct run *run, int index)
{
	struct pbs_cycle *c = CYCLE(run);
	struct groups_work *gw = &c->gws[index];
	const char *store = c->ds[gw->ds].item.store;

	for (int i = 0; i < gw->n; i++) {
		struct pbs_group *g = &gw->groups[i];
		struct group_cache *cached = cache_find(run, store, gw->ns, g->type, g->id);
		char st[400], ns[600], type[32], id[400], path[1800];
		struct snaps_work *sw;

		if (cached && cached->count == g->count && cached->last_backup == g->last_backup)
			continue;
		GROW(c->sws, c->nsws, c->capsws);
		sw = &c->sws[c->nsws];
		sw->gw = index;
		sw->group = i;
		path_escape(st, sizeof(st), store);
		path_escape(ns, sizeof(ns), gw->ns);
		path_escape(type, sizeof(type), g->type);
		path_escape(id, sizeof(id), g->id);
		snprintf(path, sizeof(path), "/admin/datastore/%s/snapshots?backup-type=%s&backup-id=%s%s%s",
		    st, type, id, gw->ns[0] ? "&ns=" : "", ns);
		poll_submit(run, path, REQ_SNAPSHOTS, c->nsws++);
	}
}

static void
datastores_listed(struct run *run, struct json_object *data)
{
	struct pbs_cycle *c = CYCLE(run);
	struct pbs_datastore_item items[MAX_DATASTORES];

	c->nds = pbs_parse_datastores(data, items, MAX_DATASTORES);
	c->have_list = 1;
	for (int i = 0; i < c->nds; i++) {
		memset(&c->ds[i], 0, sizeof(c->ds[i]));
		c->ds[i].item = items[i];
		submit_ds(run, i, "status", REQ_DS_STATUS);
		submit_ds(run, i, "namespace", REQ_NAMESPACES);
	}
}

static void
after_version(struct run *run)
{
	poll_submit(run, "/nodes/localhost/status", REQ_STATUS, 0);
	if (run->cfg.monitor_datastores)
		poll_submit(run, "/admin/datastore", REQ_LIST, 0);
}

static void
pbs_handle(struct run *run, int kind, int index, struct http_request *req)
{
	struct pbs_cycle *c = CYCLE(run);
	struct json_object *data;
	struct ds_work *dw = index >= 0 && index < MAX_DATASTORES ? &c->ds[index] : NULL;

	switch (kind) {
	case REQ_VERSION:
		data = poll_data(run, req, 0);
		if (data && pbs_parse_version(data, c->version, sizeof(c->version)) == 0) {
			c->have_version = 1;
			after_version(run);
		} else {
			/* No version: the datastore list is the sign of life (§3 step 1). */
			poll_submit(run, "/admin/datastore", REQ_PROBE, 0);
		}
		if (data)
			json_object_put(data);
		return;
	case REQ_PROBE:
		data = poll_data(run, req, 1);
		if (data == NULL)
			return;
		copy(c->version, sizeof(c->version), "connected");
		poll_submit(run, "/nodes/localhost/status", REQ_STATUS, 0);
		if (run->cfg.monitor_datastores)
			datastores_listed(run, data);
		json_object_put(data);
		return;
	case REQ_STATUS:
		data = poll_data(run, req, 0);
		if (data) {
			c->have_node = pbs_parse_node_status(data, &c->node) == 0;
			json_object_put(data);
		}
		return;
	case REQ_LIST:
		data = poll_data(run, req, 0);
		if (data) {
			datastores_listed(run, data);
			json_object_put(data);
		}
		return;
	case REQ_DS_STATUS:
		data = poll_data(run, req, 0);
		if (data && pbs_parse_ds_status(data, &dw->status) == 0) {
			dw->have_status = 1;
			dw->dedup = dw->status.dedup;
			if (dw->dedup <= 0)
				submit_ds(run, index, "rrd?cf=AVERAGE&timeframe=hour", REQ_DS_RRD);
		} else {
			snprintf(dw->error, sizeof(dw->error), "status unavailable (HTTP %ld)", req->status);
		}
		if (data)
			json_object_put(data);
		return;
	case REQ_DS_RRD:
		data = poll_data(run, req, 0);
		if (data && proxmox_rrd_last(data, "dedup_factor", &dw->dedup) == 0 && dw->dedup > 0) {
			json_object_put(data);
			return;
		}
		if (data)
			json_object_put(data);
		dw->dedup = 0;
		submit_ds(run, index, "gc", REQ_DS_GC);
		return;
	case REQ_DS_GC:
		data = poll_data(run, req, 0);
		if (data) {
			dw->dedup = pbs_gc_dedup(data);
			json_object_put(data);
		}
		return;
	case REQ_NAMESPACES:
		data = poll_data(run, req, 0);
		dw->ns = xcalloc((size_t)poll_list_len(data, MAX_NAMESPACES), sizeof(*dw->ns));
		if (data) {
			dw->nns = pbs_parse_namespaces(data, dw->ns, poll_list_len(data, MAX_NAMESPACES));
			dw->have_ns = 1;
			json_object_put(data);
		}
		if (c->base.backup_cycle) {
			int root = 0;
			for (int i = 0; i < dw->nns; i++) {
				root |= dw->ns[i].path[0] == '\0';
				submit_groups(run, index, dw->ns[i].path);
			}
			if (!root)
				submit_groups(run, index, "");
		}
		return;
	case REQ_GROUPS:
		data = poll_data(run, req, 0);
		if (data) {
			struct groups_work *gw = &c->gws[index];
			int cap = poll_list_len(data, MAX_GROUPS);
			gw->groups = xcalloc((size_t)cap, sizeof(*gw->groups));
			gw->n = pbs_parse_groups(data, gw->groups, cap);
			gw->ok = 1;
			json_object_put(data);
			groups_listed(run, index);
		}
		return;
	case REQ_SNAPSHOTS:
		data = poll_data(run, req, 0);
		if (data) {
			struct snaps_work *sw = &c->sws[index];
			int cap = poll_list_len(data, MAX_SNAPSHOTS);
			sw->snaps = xcalloc((size_t)cap, sizeof(*sw->snaps));
			sw->n = pbs_parse_snapshots(data, sw->snaps, cap);
			sw->ok = 1;
			json_object_put(data);
		}
		return;
	}
}

/* --- results ------------------------------------------------------------------------ */

static void
cache_entry_free(struct group_cache *g)
{
	st_pbs_backups_free(&(struct st_pbs_backups){.items = g->backups, .n = g->n});
	g->backups = NULL;
	g->n = 0;
}

/* A snapshot as a backup of /api/state (§1.12). */
static void
fill_backup(struct run *run, const char *store, const char *ns, const struct pbs_snapshot *s,
    struct st_pbs_backup *b)
{
	snprintf(b->id, sizeof(b->id), "pbs-%s-%s-%s-%s-%s-%lld", run->cfg.name, store, ns, s->type,
	    s->id, (long long)s->time);
	copy(b->instance, sizeof(b->instance), run->cfg.name);
	copy(b->datastore, sizeof(b->datastore), store);
	copy(b->ns, sizeof(b->ns), ns);
	copy(b->backup_type, sizeof(b->backup_type), s->type);
	copy(b->backup_id, sizeof(b->backup_id), s->id);
	copy(b->comment, sizeof(b->comment), s->comment);
	copy(b->owner, sizeof(b->owner), s->owner);
	b->backup_time = (double)s->time;
	b->size = s->size;
	b->protected_ = s->protected_;
	b->verified = strcmp(s->verification, "ok") == 0;
	for (int k = 0; k < s->nfiles; k++)
		st_pbs_backup_add_file(b, s->files[k]);
}

/* Brings the group cache up to date with this backup cycle. Returns 0 when nothing could be
 * listed (the previous backups stay as they are). */
static int
update_groups(struct run *run, struct pbs_cycle *c)
{
	struct pbs_run *p = PB(run);
	/* A datastore list that answered empty: every datastore is gone, and its backups. */
	int listed = c->have_list && c->nds == 0;

	for (int i = 0; i < p->ngroups; i++)
		p->groups[i].seen = 0;
	for (int w = 0; w < c->ngws; w++) {
		struct groups_work *gw = &c->gws[w];
		const char *store = c->ds[gw->ds].item.store;

		if (!gw->ok) {
			/* Keep what this namespace held: its listing failed. */
			for (int i = 0; i < p->ngroups; i++)
				if (strcmp(p->groups[i].store, store) == 0 && strcmp(p->groups[i].ns, gw->ns) == 0)
					p->groups[i].seen = 1;
			continue;
		}
		listed = 1;
		for (int g = 0; g < gw->n; g++) {
			struct pbs_group *grp = &gw->groups[g];
			struct group_cache *cached = cache_find(run, store, gw->ns, grp->type, grp->id);
			if (cached == NULL) {
				p->groups = xrealloc(p->groups, sizeof(*p->groups) * (size_t)(p->ngroups + 1));
				cached = &p->groups[p->ngroups++];
				memset(cached, 0, sizeof(*cached));
				copy(cached->store, sizeof(cached->store), store);
				copy(cached->ns, sizeof(cached->ns), gw->ns);
				copy(cached->type, sizeof(cached->type), grp->type);
				copy(cached->id, sizeof(cached->id), grp->id);
			}
			cached->seen = 1;
		}
	}
	if (!listed)
		return 0;
	/* Re-read groups replace their cached snapshots. */
	for (int s = 0; s < c->nsws; s++) {
		struct snaps_work *sw = &c->sws[s];
		struct groups_work *gw = &c->gws[sw->gw];
		struct pbs_group *grp = &gw->groups[sw->group];
		const char *store = c->ds[gw->ds].item.store;
		struct group_cache *cached = cache_find(run, store, gw->ns, grp->type, grp->id);

		if (!sw->ok || cached == NULL)
			continue;	/* kept as cached (§2.11) */
		cache_entry_free(cached);
		cached->backups = xcalloc((size_t)(sw->n > 0 ? sw->n : 1), sizeof(*cached->backups));
		for (int k = 0; k < sw->n; k++)
			fill_backup(run, store, gw->ns, &sw->snaps[k], &cached->backups[cached->n++]);
		cached->count = grp->count;
		cached->last_backup = grp->last_backup;
	}
	/* Groups gone from a listed namespace are forgotten. */
	for (int i = 0; i < p->ngroups; i++) {
		if (!p->groups[i].seen) {
			cache_entry_free(&p->groups[i]);
			p->groups[i--] = p->groups[--p->ngroups];
		}
	}
	return 1;
}

static int
newest_first(const void *a, const void *b)
{
	const struct st_pbs_backup *x = a, *y = b;

	if (x->backup_time != y->backup_time)
		return x->backup_time < y->backup_time ? 1 : -1;
	return strcmp(x->id, y->id);
}

static int
write_backups(struct worker *w, struct run *run, char *err, size_t errlen)
{
	struct st_pbs_backups b;
	int rc;

	memset(&b, 0, sizeof(b));
	copy(b.instance_id, sizeof(b.instance_id), run->cfg.id);
	for (int i = 0; i < PB(run)->ngroups; i++) {
		struct group_cache *g = &PB(run)->groups[i];
		for (int k = 0; k < g->n; k++) {
			struct st_pbs_backup *dst = st_pbs_add_backup(&b);
			*dst = g->backups[k];
			dst->files = NULL;
			dst->nfiles = 0;
			for (int f = 0; f < g->backups[k].nfiles; f++)
				st_pbs_backup_add_file(dst, g->backups[k].files[f]);
		}
	}
	qsort(b.items, (size_t)b.n, sizeof(*b.items), newest_first);
	rc = st_write_pbs_backups(w->db, &b, err, errlen);
	st_pbs_backups_free(&b);
	return rc;
}

/* Copies a datastore list (for keeping the last good poll). */
static void
copy_pbs(struct st_pbs *dst, const struct st_pbs *src)
{
	st_pbs_free(dst);
	*dst = *src;
	dst->ds = NULL;
	dst->nds = dst->capds = 0;
	for (int i = 0; i < src->nds; i++) {
		struct st_pbs_datastore *d = st_pbs_add_datastore(dst);
		*d = src->ds[i];
		d->ns = NULL;
		d->nns = d->capns = 0;
		for (int k = 0; k < src->ds[i].nns; k++)
			st_pbs_datastore_add_ns(d, src->ds[i].ns[k].path, src->ds[i].ns[k].parent);
	}
}

static int
pbs_write_ok(struct worker *w, struct run *run, double now, char *err, size_t errlen)
{
	struct pbs_cycle *c = CYCLE(run);
	struct pbs_run *p = PB(run);
	struct st_pbs s;
	int rc;

	memset(&s, 0, sizeof(s));
	copy(s.instance_id, sizeof(s.instance_id), run->cfg.id);
	copy(s.name, sizeof(s.name), run->cfg.name);
	copy(s.host, sizeof(s.host), run->cfg.host);
	copy(s.guest_url, sizeof(s.guest_url), run->cfg.guest_url);
	copy(s.status, sizeof(s.status), "online");
	copy(s.version, sizeof(s.version), c->version);
	copy(s.health, sizeof(s.health), "healthy");
	s.last_seen = now;
	if (c->have_node) {
		s.cpu = c->node.cpu;
		s.uptime = c->node.uptime;
		if (c->node.mem_total > 0) {
			s.memory_total = c->node.mem_total;
			s.memory_used = c->node.mem_used;
			s.memory_usage = (double)c->node.mem_used * 100.0 / (double)c->node.mem_total;
		}
	}
	if (run->cfg.monitor_datastores && !c->have_list && p->have_last) {
		/* The list failed this time: show the datastores as last seen. */
		for (int i = 0; i < p->last.nds; i++) {
			struct st_pbs_datastore *d = st_pbs_add_datastore(&s);
			*d = p->last.ds[i];
			d->ns = NULL;
			d->nns = d->capns = 0;
			for (int k = 0; k < p->last.ds[i].nns; k++)
				st_pbs_datastore_add_ns(d, p->last.ds[i].ns[k].path, p->last.ds[i].ns[k].parent);
		}
	}
	for (int i = 0; i < c->nds; i++) {
		struct ds_work *dw = &c->ds[i];
		struct st_pbs_datastore *d = st_pbs_add_datastore(&s);
		int root = 0;

		copy(d->name, sizeof(d->name), dw->item.store);
		d->total = dw->status.total;
		d->used = dw->status.used;
		d->avail = dw->status.avail;
		d->dedup = dw->dedup > 0 && isfinite(dw->dedup) ? dw->dedup : 0;
		copy(d->error, sizeof(d->error), dw->error);
		copy(d->status, sizeof(d->status), dw->have_status ? "available" : "unavailable");
		if (dw->have_ns) {
			for (int k = 0; k < dw->nns; k++)
				root |= dw->ns[k].path[0] == '\0';
			/* The root namespace always comes first. */
			if (!root)
				st_pbs_datastore_add_ns(d, "", "");
			for (int k = 0; k < dw->nns; k++)
				st_pbs_datastore_add_ns(d, dw->ns[k].path, dw->ns[k].parent);
		}
	}
	s.have_datastores = s.nds > 0;
	if (c->base.backup_cycle && update_groups(run, c) &&
	    write_backups(w, run, err, errlen) != 0)
		log_warn("msg=\"backup write failed\" instance=%s error=\"%s\"", run->cfg.name, err);
	if (run->cfg.monitor_datastores)
		metrics_record_pbs(&s, now);
	rc = st_write_pbs(w->db, &s, run->cfg.monitor_datastores, err, errlen);
	if (rc == 0)
		(void)alerts_evaluate_pbs(w, run->cfg.id, &s, 0, now);
	copy_pbs(&p->last, &s);
	p->have_last = 1;
	st_pbs_free(&s);
	return rc;
}

/* A failed poll: within the grace period nothing changes; then the instance shows offline
 * with its last datastores; after repeated failed logins it is taken out of the state. */
static void
pbs_write_failed(struct worker *w, struct run *run, double now)
{
	struct pbs_run *p = PB(run);
	struct st_pbs s;
	char err[256];

	(void)alerts_server_failed(w, run->cfg.id, run->cfg.name, 0, now);
	if (run->last_success > 0 && now - run->last_success < poll_settings.grace)
		return;
	memset(&s, 0, sizeof(s));
	if (p->have_last && run->auth_failures < AUTH_FAILURE_LIMIT) {
		copy_pbs(&s, &p->last);
		s.last_seen = p->last.last_seen;
	} else {
		copy(s.name, sizeof(s.name), run->cfg.name);
		copy(s.host, sizeof(s.host), run->cfg.host);
		copy(s.guest_url, sizeof(s.guest_url), run->cfg.guest_url);
		s.last_seen = now;
	}
	copy(s.instance_id, sizeof(s.instance_id), run->cfg.id);
	copy(s.status, sizeof(s.status), "offline");
	copy(s.version, sizeof(s.version), "unknown");
	copy(s.health, sizeof(s.health), "error");
	s.cpu = 0;
	if (st_write_pbs(w->db, &s, run->cfg.monitor_datastores, err, sizeof(err)) != 0)
		log_warn("msg=\"state write failed\" instance=%s error=\"%s\"", run->cfg.name, err);
	st_pbs_free(&s);
}

/* --- the product's entry points ------------------------------------------------------- */

static double
pbs_interval(void)
{
	return poll_settings.pbs_interval;
}

static struct poll_cycle *
pbs_cycle_new(struct run *run)
{
	struct pbs_cycle *c = xcalloc(1, sizeof(*c));
	unsigned every;

	if (run->priv == NULL)
		run->priv = xcalloc(1, sizeof(struct pbs_run));
	/* Backups about as often as PVE's: backup_polling_cycles PVE intervals. */
	every = (unsigned)lround(poll_settings.backup_cycles * poll_settings.pve_interval /
	    poll_settings.pbs_interval);
	if (every < 1)
		every = 1;
	c->base.backup_cycle = run->cfg.monitor_backups && run->cfg.monitor_datastores &&
	    poll_backup_due(run, poll_settings.backup_cycles > 0 ? every : 0);
	return &c->base;
}

static void
pbs_begin(struct run *run)
{
	poll_submit(run, "/version", REQ_VERSION, 0);
}

static void
pbs_cycle_free(struct poll_cycle *base)
{
	struct pbs_cycle *c = (struct pbs_cycle *)base;

	for (int i = 0; i < MAX_DATASTORES; i++)
		free(c->ds[i].ns);
	for (int i = 0; i < c->ngws; i++)
		free(c->gws[i].groups);
	for (int i = 0; i < c->nsws; i++)
		free(c->sws[i].snaps);
	free(c->gws);
	free(c->sws);
	free(c);
}

static void
pbs_priv_free(void *priv)
{
	struct pbs_run *p = priv;

	if (p == NULL)
		return;
	st_pbs_free(&p->last);
	for (int i = 0; i < p->ngroups; i++)
		cache_entry_free(&p->groups[i]);
	free(p->groups);
	free(p);
}

const struct poll_ops poll_pbs_ops = {
	.type = "pbs",
	.interval = pbs_interval,
	.cycle_new = pbs_cycle_new,
	.begin = pbs_begin,
	.handle = pbs_handle,
	.write_ok = pbs_write_ok,
	.write_failed = pbs_write_failed,
	.cycle_free = pbs_cycle_free,
	.priv_free = pbs_priv_free,
};
