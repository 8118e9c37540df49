/* pve_backups.c: the backups of a PVE instance (state-proxmox.md §1.12, §2.11): the backup
 * tasks, storage backup volumes and guest snapshots of a backup cycle as state rows, and each
 * guest's lastBackup from those volumes and from the Backup Servers' snapshots (§1.5). */
#include "config.h"

#include "db.h"
#include "pve_poll.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The guest type of a backup volume, from its volid or format; VMID 0 is a host backup. */
static const char *
backup_type(const struct pve_content *it)
{
	if (it->vmid == 0)
		return "host";
	if (strstr(it->volid, "/vm/") || strstr(it->volid, "qemu") || strcmp(it->format, "pbs-vm") == 0)
		return "qemu";
	if (strstr(it->volid, "/ct/") || strstr(it->volid, "lxc") || strcmp(it->format, "pbs-ct") == 0)
		return "lxc";
	return "unknown";
}

/* Backups follow their guest: the node it lives on now. */
const char *
pve_cycle_guest_node(const struct pve_cycle *c, int64_t vmid)
{
	for (int i = 0; i < c->nguests; i++)
		if (c->guests[i].f.item.vmid == vmid)
			return c->guests[i].f.item.node;
	return NULL;
}

static void
newest_add(struct newest_backups *nb, int64_t vmid, double t)
{
	GROW(nb->v, nb->n, nb->cap);
	nb->v[nb->n].vmid = vmid;
	nb->v[nb->n++].t = t;
}

static int
by_vmid(const void *a, const void *b)
{
	int64_t x = ((const struct vmid_time *)a)->vmid, y = ((const struct vmid_time *)b)->vmid;
	return x < y ? -1 : x > y;
}

/* Sorts what newest_add collected and keeps one entry per VMID, its newest time. */
static void
newest_finish(struct newest_backups *nb)
{
	int out = 0;

	qsort(nb->v, (size_t)nb->n, sizeof(*nb->v), by_vmid);
	for (int i = 0; i < nb->n; i++) {
		if (out > 0 && nb->v[out - 1].vmid == nb->v[i].vmid) {
			if (nb->v[i].t > nb->v[out - 1].t)
				nb->v[out - 1].t = nb->v[i].t;
			continue;
		}
		nb->v[out++] = nb->v[i];
	}
	nb->n = out;
}

static double
newest_of(const struct newest_backups *nb, int64_t vmid)
{
	struct vmid_time key = {.vmid = vmid};
	const struct vmid_time *hit;

	if (nb->n == 0)
		return 0;
	hit = bsearch(&key, nb->v, (size_t)nb->n, sizeof(*nb->v), by_vmid);
	return hit ? hit->t : 0;
}

double
pve_backups_last(const struct pve_backups *b, int64_t vmid)
{
	double s = newest_of(&b->storage_newest, vmid), p = newest_of(&b->pbs_newest, vmid);

	return s > p ? s : p;
}

/* Guests backed up to a PBS count too: by VMID, from any PBS instance (§1.5 lastBackup). */
static const struct db_stmt stmt_pbs_newest = {
	"pve_pbs_newest_backups",
	"SELECT backup_id, extract(epoch FROM max(backup_time)) FROM pulse.pbs_backups "
	"WHERE backup_type IN ('vm', 'ct') AND NOT mock GROUP BY backup_id",
	0,
};

void
pve_backups_read_pbs(struct pve_backups *b, struct db *db)
{
	struct newest_backups *nb = &b->pbs_newest;
	PGresult *res = db_exec_stmt(db, &stmt_pbs_newest, NULL);

	if (res == NULL)
		return;
	nb->n = 0;
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t vmid;
		if (parse_int64(PQgetvalue(res, i, 0), 0, INT32_MAX, &vmid) == 0)
			newest_add(nb, vmid, strtod(PQgetvalue(res, i, 1), NULL));
	}
	PQclear(res);
	newest_finish(nb);
}

static int
by_time_desc(const void *a, const void *b)
{
	double x = ((const struct st_storage_backup *)a)->ctime, y = ((const struct st_storage_backup *)b)->ctime;
	return x < y ? 1 : x > y ? -1 : 0;
}

int
pve_backups_build(struct pve_backups *kept, const struct instance_cfg *cfg, const struct pve_cycle *c)
{
	struct st_backups b;
	const char *inst = cfg->name;
	int answered = 0;

	memset(&b, 0, sizeof(b));
	snprintf(b.instance_id, sizeof(b.instance_id), "%s", cfg->id);
	for (int i = 0; i < c->nnodes; i++) {
		const struct pve_node_facts *nw = &c->nodes[i];
		if (!nw->have_tasks)
			continue;
		answered = 1;
		for (int k = 0; k < nw->ntasks; k++) {
			const struct pve_task *t = &nw->tasks[k];
			struct st_backup_task *bt = st_add_task(&b);
			int64_t v = 0;
			bt->id = st_btextf(&b, "%s-%s", inst, t->upid);
			snprintf(bt->node, sizeof(bt->node), "%s", t->node[0] ? t->node : nw->item.node);
			bt->instance = st_btext(&b, inst);
			bt->status = st_btext(&b, t->status);
			(void)parse_int64(t->id, 0, INT32_MAX, &v);
			bt->vmid = v;
			bt->start = (double)t->starttime;
			bt->end = (double)t->endtime;
		}
	}
	for (int i = 0; i < c->ncontents; i++) {
		const struct content_work *cw = &c->contents[i];
		const char *node = c->nodes[cw->node].item.node;

		if (!cw->ok) {
			/* Keep what this storage held last time (§2.11). */
			for (int k = 0; k < kept->lists.nstorage; k++) {
				struct st_storage_backup *old = &kept->lists.storage[k];
				if (strcmp(old->storage, cw->storage) == 0)
					st_add_storage_backup_copy(&b, old);
			}
			continue;
		}
		answered = 1;
		for (int k = 0; k < cw->n; k++) {
			const struct pve_content *it = &cw->items[k];
			struct st_storage_backup *sb;
			const char *gnode = pve_cycle_guest_node(c, it->vmid);
			int dup = 0;

			for (int m = 0; m < b.nstorage && !dup; m++)
				dup = strcmp(b.storage[m].volid, it->volid) == 0;
			if (dup)
				continue;	/* shared storage lists the same volume on every node */
			sb = st_add_storage_backup(&b);
			sb->id = st_btextf(&b, "%s-%s", inst, it->volid);
			sb->storage = st_btext(&b, cw->storage);
			snprintf(sb->node, sizeof(sb->node), "%s", gnode ? gnode : node);
			sb->instance = st_btext(&b, inst);
			snprintf(sb->type, sizeof(sb->type), "%s", backup_type(it));
			snprintf(sb->format, sizeof(sb->format), "%s", it->format);
			sb->notes = st_btext(&b, it->notes);
			sb->volid = st_btext(&b, it->volid);
			snprintf(sb->verification, sizeof(sb->verification), "%s", it->verification);
			sb->vmid = it->vmid;
			sb->size = it->size;
			sb->ctime = (double)it->ctime;
			sb->protected_ = it->protected_;
			sb->verified = it->verified;
			sb->is_pbs = strcmp(cw->type, "pbs") == 0 || strncmp(cw->storage, "pbs-", 4) == 0;
		}
	}
	qsort(b.storage, (size_t)b.nstorage, sizeof(*b.storage), by_time_desc);
	for (int i = 0; i < c->nguests; i++) {
		const struct guest_work *gw = &c->guests[i];
		for (int k = 0; k < gw->nsnaps; k++) {
			struct st_snapshot *sn = st_add_snapshot(&b);
			sn->id = st_btextf(&b, "%s-%s-%lld-%s", inst, gw->f.item.node,
			    (long long)gw->f.item.vmid, gw->snaps[k].name);
			sn->name = st_btext(&b, gw->snaps[k].name);
			snprintf(sn->node, sizeof(sn->node), "%s", gw->f.item.node);
			sn->instance = st_btext(&b, inst);
			snprintf(sn->type, sizeof(sn->type), "%s", gw->f.item.type);
			sn->description = st_btext(&b, gw->snaps[k].description);
			sn->parent = st_btext(&b, gw->snaps[k].parent);
			sn->vmid = gw->f.item.vmid;
			sn->time = (double)gw->snaps[k].snaptime;
			sn->vmstate = strcmp(gw->f.item.type, "qemu") == 0;
		}
	}
	if (!answered) {
		st_backups_free(&b);
		return 0;
	}
	st_backups_free(&kept->lists);
	st_backups_fit(&b);
	kept->lists = b;
	/* From these lists alone: a volume deleted since the last reading no longer counts. */
	kept->storage_newest.n = 0;
	for (int k = 0; k < b.nstorage; k++)
		newest_add(&kept->storage_newest, b.storage[k].vmid, b.storage[k].ctime);
	newest_finish(&kept->storage_newest);
	return 1;
}

void
pve_backups_free(struct pve_backups *b)
{
	st_backups_free(&b->lists);
	free(b->storage_newest.v);
	free(b->pbs_newest.v);
}
