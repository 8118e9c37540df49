/* pve_meta.c: what guests say about themselves, kept between polls (state-proxmox.md §2.4,
 * §2.5 rows 4c-4i): VMs' guest-agent network interfaces, OS and agent version, asked every
 * five minutes (30 s after a failure); containers' addresses, per-mount disks, OS name, OCI
 * nature and template from status/current, config and interfaces, asked every minute (five
 * while stopped). Only the finished JSON fragments are kept, a few hundred bytes a guest. */
#include "config.h"

#include "poller.h"
#include "jsonutil.h"
#include "pve_detail.h"
#include "state.h"
#include "util.h"

#include <json-c/printbuf.h>
#include <stdlib.h>
#include <string.h>

#define VM_REFRESH 300.0
#define CT_REFRESH 60.0
#define CT_STOPPED_REFRESH 300.0
#define RETRY_AFTER 30.0

struct meta {
	int64_t vmid;
	int is_ct;
	double next_due;
	int seen;
	/* what is shown */
	struct json_object *ifaces;	/* networkInterfaces (frozen), or NULL */
	char **ips;
	int nips;
	/* Allocated, or NULL: most guests have none of them, and 10,000 fixed arrays would be
	 * 4 MB. Cut to the lengths the state has always shown (set_text). */
	char *os_name, *os_version, *agent_version, *os_template;
	int is_oci;			/* sticky once seen (§2.8) */
	struct st_disk *disks;		/* containers: per mount */
	int ndisks;
};

struct pve_meta_cache {
	struct meta *m;
	int n, cap;
	int next;			/* where the next look starts: guests come in list order */
};

struct pve_meta_cache *
pve_meta_new(void)
{
	return xcalloc(1, sizeof(struct pve_meta_cache));
}

static void
meta_clear_shown(struct meta *e)
{
	if (e->ifaces)
		json_object_put(e->ifaces);
	e->ifaces = NULL;
	for (int i = 0; i < e->nips; i++)
		free(e->ips[i]);
	free(e->ips);
	e->ips = NULL;
	e->nips = 0;
	free(e->disks);
	e->disks = NULL;
	e->ndisks = 0;
}

/* Replaces *dst with the first max bytes of v (NULL when v is empty). */
static void
set_text(char **dst, const char *v, size_t max)
{
	free(*dst);
	*dst = *v ? xstrndup(v, max) : NULL;
}

/* An entry forgotten: everything it holds. */
static void
meta_release(struct meta *e)
{
	meta_clear_shown(e);
	free(e->os_name);
	free(e->os_version);
	free(e->agent_version);
	free(e->os_template);
}

void
pve_meta_free(struct pve_meta_cache *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < c->n; i++)
		meta_release(&c->m[i]);
	free(c->m);
	free(c);
}

static struct meta *
find(struct pve_meta_cache *c, int64_t vmid, int create)
{
	/* From where the last one was found: a cycle asks in the order of its list, so the
	 * next is usually a step away, not a scan of all (quadratic at 10,000 guests); the
	 * rows are built in the opposite order (poll_pve.c build_guests): a step back. */
	int i = c->next < c->n ? c->next : 0, back = c->next - 2;

	if (back >= 0 && back < c->n && c->m[back].vmid == vmid) {
		c->next = back + 1;
		return &c->m[back];
	}

	for (int k = 0; k < c->n; k++, i = i + 1 < c->n ? i + 1 : 0) {
		if (c->m[i].vmid == vmid) {
			c->next = i + 1 < c->n ? i + 1 : 0;
			return &c->m[i];
		}
	}
	if (!create)
		return NULL;
	GROW(c->m, c->n, c->cap);
	c->m[c->n].vmid = vmid;
	return &c->m[c->n++];
}

int
pve_meta_due(struct pve_meta_cache *c, int64_t vmid, int is_ct, double now)
{
	struct meta *e = find(c, vmid, 1);

	e->seen = 1;
	e->is_ct = is_ct;
	return now >= e->next_due;
}

/* A small spread so that a thousand guests added at once are not all asked in one cycle. */
static double
jitter(int64_t vmid, double span)
{
	return (double)((uint64_t)vmid * 2654435761u % 1000) / 1000.0 * span;
}

/* json-c prints a frozen fragment as the text it was. */
static int
print_frozen(struct json_object *o, struct printbuf *pb, int level, int flags)
{
	const char *text = json_object_get_userdata(o);

	(void)level;
	(void)flags;
	return printbuf_memappend(pb, text, (int)strlen(text));
}

/* A small json-c value that prints exactly as tree printed (jsonutil_to_string): a guest's
 * interfaces as a tree take 1-2 KB (a hash table per object), as text a tenth of that, and
 * 5,000 of them are kept at 10,000 guests. Takes tree; NULL stays NULL. */
static struct json_object *
freeze(struct json_object *tree)
{
	struct json_object *o;

	if (tree == NULL)
		return NULL;
	o = json_object_new_array_ext(1);
	json_object_set_serializer(o, print_frozen, xstrdup(jsonutil_to_string(tree, NULL)),
	    json_object_free_userdata);
	json_object_put(tree);
	return o;
}

static void
keep_ips(struct meta *e, const struct pve_guest_net *net)
{
	e->ips = xcalloc((size_t)(net->nips > 0 ? net->nips : 1), sizeof(char *));
	for (int i = 0; i < net->nips; i++)
		e->ips[e->nips++] = xstrdup(net->ips[i]);
}

void
pve_meta_vm(struct pve_meta_cache *c, int64_t vmid, struct json_object *net,
    struct json_object *osinfo, struct json_object *info, double now)
{
	struct meta *e = find(c, vmid, 1);
	struct pve_guest_net *gn;
	struct pve_agent_osinfo os;
	char version[64];
	int got = 0;

	if (net) {
		gn = xcalloc(1, sizeof(*gn));
		if (pve_parse_agent_network(net, gn) >= 0) {
			meta_clear_shown(e);
			e->ifaces = freeze(pve_guest_net_ifaces_json(gn));
			keep_ips(e, gn);
			got = 1;
		}
		free(gn);
	}
	if (osinfo && pve_parse_agent_osinfo(osinfo, &os) == 0) {
		set_text(&e->os_name, os.name, 127);
		set_text(&e->os_version, os.version, 63);
		got = 1;
	}
	if (info && pve_parse_agent_info(info, version, sizeof(version)) == 0) {
		set_text(&e->agent_version, version, 63);
		got = 1;
	}
	/* The agent not answering (not installed, not running) is asked again soon. */
	e->next_due = now + (got ? VM_REFRESH + jitter(vmid, 45) : RETRY_AFTER);
}

void
pve_meta_ct(struct pve_meta_cache *c, int64_t vmid, int running, struct json_object *status,
    struct json_object *config, struct json_object *ifaces, const struct st_disk *aggregate,
    double now)
{
	struct meta *e = find(c, vmid, 1);
	struct pve_ct_detail *ct;

	if (config == NULL && status == NULL) {
		e->next_due = now + RETRY_AFTER;
		return;
	}
	ct = xcalloc(1, sizeof(*ct));
	pve_ct_init(ct);
	if (running && status)
		(void)pve_ct_apply_status(ct, status);
	if (config)
		(void)pve_ct_apply_config(ct, config);
	if (running && ifaces && pve_ct_wants_interfaces(ct))
		(void)pve_ct_apply_interfaces(ct, ifaces);
	pve_ct_finish(ct, aggregate->total, aggregate->used, aggregate->usage);
	meta_clear_shown(e);
	e->ifaces = freeze(pve_guest_net_ifaces_json(&ct->net));
	keep_ips(e, &ct->net);
	if (config) {
		set_text(&e->os_name, ct->os_name, 127);
		set_text(&e->os_template, ct->os_template, 159);
		e->is_oci |= ct->is_oci;
	}
	/* Per-mount disks only when the container told them (running, diskinfo). */
	if (running && status && ct->ndiskinfo > 0) {
		e->disks = xcalloc((size_t)ct->ndisks, sizeof(*e->disks));
		for (int i = 0; i < ct->ndisks; i++) {
			struct st_disk *d = &e->disks[e->ndisks++];
			st_disk_set(d, ct->disks[i].total, ct->disks[i].used);
			snprintf(d->mountpoint, sizeof(d->mountpoint), "%s", ct->disks[i].mountpoint);
			snprintf(d->type, sizeof(d->type), "%s", ct->disks[i].type);
			snprintf(d->device, sizeof(d->device), "%s", ct->disks[i].device);
		}
	}
	free(ct);
	e->next_due = now + (running ? CT_REFRESH : CT_STOPPED_REFRESH) + jitter(vmid, 10);
}

int
pve_meta_ct_wants_interfaces(struct json_object *status, struct json_object *config)
{
	struct pve_ct_detail *ct = xcalloc(1, sizeof(*ct));
	int want;

	pve_ct_init(ct);
	if (status)
		(void)pve_ct_apply_status(ct, status);
	if (config)
		(void)pve_ct_apply_config(ct, config);
	want = pve_ct_wants_interfaces(ct);
	free(ct);
	return want;
}

void
pve_meta_apply(struct pve_meta_cache *c, struct st_instance *s, struct st_guest *g)
{
	struct meta *e = find(c, g->vmid, 0);

	if (e == NULL)
		return;
	if (e->ifaces)
		g->net_ifaces = json_object_get(e->ifaces);
	for (int i = 0; i < e->nips; i++)
		st_guest_add_ip(g, e->ips[i]);
	g->os_name = st_text(s, e->os_name);
	if (!e->is_ct) {
		g->os_version = st_text(s, e->os_version);
		g->agent_version = st_text(s, e->agent_version);
		return;
	}
	g->os_template = st_text(s, e->os_template);
	if (e->is_oci) {
		g->is_oci = 1;
		snprintf(g->type, sizeof(g->type), "oci");
	}
	if (e->ndisks > 0 && strcmp(g->status, "running") == 0) {
		g->ndisks = 0;
		for (int i = 0; i < e->ndisks; i++)
			st_guest_add_disk(g, &e->disks[i]);
	}
}

void
pve_meta_sweep(struct pve_meta_cache *c)
{
	for (int i = 0; i < c->n; i++) {
		if (!c->m[i].seen) {
			meta_release(&c->m[i]);
			c->m[i--] = c->m[--c->n];
			continue;
		}
		c->m[i].seen = 0;
	}
}
