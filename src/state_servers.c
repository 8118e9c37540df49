/* state_servers.c: PBS and PMG instance state: building, the /api/state objects, and the
 * one-transaction writes. */
#include "config.h"

#include "state.h"
#include "state_rows.h"
#include "state_servers.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "timefmt.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- building ------------------------------------------------------------------------- */

struct st_pbs_datastore *
st_pbs_add_datastore(struct st_pbs *p)
{
	GROW(p->ds, p->nds, p->capds);
	return &p->ds[p->nds++];
}

void
st_pbs_datastore_add_ns(struct st_pbs_datastore *d, const char *path, const char *parent)
{
	struct st_pbs_namespace *ns;
	int depth = 0;

	GROW(d->ns, d->nns, d->capns);
	ns = &d->ns[d->nns++];
	snprintf(ns->path, sizeof(ns->path), "%s", path);
	snprintf(ns->parent, sizeof(ns->parent), "%s", parent ? parent : "");
	for (const char *c = ns->path; *c; c++)
		depth += *c == '/';
	ns->depth = depth;
}

void
st_pbs_free(struct st_pbs *p)
{
	for (int i = 0; i < p->nds; i++)
		free(p->ds[i].ns);
	free(p->ds);
	p->ds = NULL;
	p->nds = p->capds = 0;
}

struct st_pbs_backup *
st_pbs_add_backup(struct st_pbs_backups *b)
{
	GROW(b->items, b->n, b->cap);
	return &b->items[b->n++];
}

void
st_pbs_backup_add_file(struct st_pbs_backup *b, const char *file)
{
	b->files = xrealloc(b->files, sizeof(char *) * (size_t)(b->nfiles + 1));
	b->files[b->nfiles++] = xstrdup(file);
}

void
st_pbs_backups_free(struct st_pbs_backups *b)
{
	for (int i = 0; i < b->n; i++) {
		for (int k = 0; k < b->items[i].nfiles; k++)
			free(b->items[i].files[k]);
		free(b->items[i].files);
	}
	free(b->items);
	b->items = NULL;
	b->n = b->cap = 0;
}

struct st_pmg_node *
st_pmg_add_node(struct st_pmg *p)
{
	GROW(p->nodes, p->nnodes, p->capnodes);
	return &p->nodes[p->nnodes++];
}

struct st_pmg_point *
st_pmg_add_point(struct st_pmg *p)
{
	GROW(p->points, p->npoints, p->cappoints);
	return &p->points[p->npoints++];
}

struct st_pmg_spam *
st_pmg_add_spam(struct st_pmg *p)
{
	GROW(p->spam, p->nspam, p->capspam);
	return &p->spam[p->nspam++];
}

void
st_pmg_free(struct st_pmg *p)
{
	free(p->nodes);
	free(p->points);
	free(p->spam);
	p->nodes = NULL;
	p->points = NULL;
	p->spam = NULL;
	p->nnodes = p->capnodes = p->npoints = p->cappoints = p->nspam = p->capspam = 0;
}

struct st_pmg_backup *
st_pmg_add_backup(struct st_pmg_backups *b)
{
	GROW(b->items, b->n, b->cap);
	return &b->items[b->n++];
}

void
st_pmg_backups_free(struct st_pmg_backups *b)
{
	free(b->items);
	b->items = NULL;
	b->n = b->cap = 0;
}

/* --- JSON ----------------------------------------------------------------------------- */

static struct json_object *
datastore_json(const struct st_pbs_datastore *d)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_str(o, "name", d->name);
	jsonwrite_int(o, "total", d->total);
	jsonwrite_int(o, "used", d->used);
	jsonwrite_int(o, "free", d->avail);
	jsonwrite_num(o, "usage", d->total > 0 ? (double)d->used * 100.0 / (double)d->total : 0);
	jsonwrite_str(o, "status", d->status);
	jsonwrite_opt_str(o, "error", d->error);
	if (d->nns > 0) {
		struct json_object *a = json_object_new_array();
		for (int i = 0; i < d->nns; i++) {
			struct json_object *n = json_object_new_object();
			jsonwrite_str(n, "path", d->ns[i].path);
			jsonwrite_opt_str(n, "parent", d->ns[i].parent);
			jsonwrite_int(n, "depth", d->ns[i].depth);
			json_object_array_add(a, n);
		}
		json_object_object_add(o, "namespaces", a);
	}
	if (d->dedup > 0)
		jsonwrite_num(o, "deduplicationFactor", d->dedup);
	return o;
}

struct json_object *
st_pbs_json(const struct st_pbs *p)
{
	struct json_object *o = json_object_new_object();
	char id[160];
	static const char *const jobs[] = {"backupJobs", "syncJobs", "verifyJobs", "pruneJobs",
	    "garbageJobs"};

	snprintf(id, sizeof(id), "pbs-%s", p->name);
	jsonwrite_str(o, "id", id);
	jsonwrite_str(o, "name", p->name);
	jsonwrite_str(o, "host", p->host);
	jsonwrite_opt_str(o, "guestURL", p->guest_url);
	jsonwrite_str(o, "status", p->status);
	jsonwrite_str(o, "version", p->version);
	jsonwrite_num(o, "cpu", p->cpu);
	jsonwrite_num(o, "memory", p->memory_usage);
	jsonwrite_int(o, "memoryUsed", p->memory_used);
	jsonwrite_int(o, "memoryTotal", p->memory_total);
	jsonwrite_int(o, "uptime", p->uptime);
	if (p->have_datastores && p->nds > 0) {
		struct json_object *a = json_object_new_array();
		for (int i = 0; i < p->nds; i++)
			json_object_array_add(a, datastore_json(&p->ds[i]));
		json_object_object_add(o, "datastores", a);
	} else {
		json_object_object_add(o, "datastores", NULL);	/* the original's nil slice */
	}
	/* PBS jobs are not polled (as in the original): null. */
	for (size_t i = 0; i < ARRAY_LEN(jobs); i++)
		json_object_object_add(o, jobs[i], NULL);
	jsonwrite_str(o, "connectionHealth", p->health);
	jsonwrite_time(o, "lastSeen", p->last_seen);
	return o;
}

struct json_object *
st_pbs_backup_json(const struct st_pbs_backup *b)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_str(o, "id", b->id);
	jsonwrite_str(o, "instance", b->instance);
	jsonwrite_str(o, "datastore", b->datastore);
	jsonwrite_str(o, "namespace", b->ns);
	jsonwrite_str(o, "backupType", b->backup_type);
	jsonwrite_str(o, "vmid", b->backup_id);
	jsonwrite_time(o, "backupTime", b->backup_time);
	jsonwrite_int(o, "size", b->size);
	jsonwrite_bool(o, "protected", b->protected_);
	jsonwrite_bool(o, "verified", b->verified);
	jsonwrite_opt_str(o, "comment", b->comment);
	if (b->nfiles > 0) {
		struct json_object *a = json_object_new_array();
		for (int i = 0; i < b->nfiles; i++)
			json_object_array_add(a, json_object_new_string(b->files[i]));
		json_object_object_add(o, "files", a);
	}
	jsonwrite_opt_str(o, "owner", b->owner);
	return o;
}

static struct json_object *
pmg_node_json(const struct st_pmg_node *n)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_str(o, "name", n->name);
	jsonwrite_str(o, "status", n->status);
	jsonwrite_opt_str(o, "role", n->role);
	if (n->has_queue) {
		struct json_object *q = json_object_new_object();
		jsonwrite_int(q, "active", n->queue.active);
		jsonwrite_int(q, "deferred", n->queue.deferred);
		jsonwrite_int(q, "hold", n->queue.hold);
		jsonwrite_int(q, "incoming", n->queue.incoming);
		jsonwrite_int(q, "total", n->queue.total);
		jsonwrite_int(q, "oldestAge", n->queue.oldest_age);
		jsonwrite_time(q, "updatedAt", n->queue.updated);
		json_object_object_add(o, "queueStatus", q);
	}
	return o;
}

static struct json_object *
mail_stats_json(const struct st_pmg *p)
{
	struct json_object *o = json_object_new_object();
	static const struct { const char *key; int i; } keys[] = {
		{"countTotal", PMG_COUNT}, {"countIn", PMG_IN}, {"countOut", PMG_OUT},
		{"spamIn", PMG_SPAM_IN}, {"spamOut", PMG_SPAM_OUT}, {"virusIn", PMG_VIRUS_IN},
		{"virusOut", PMG_VIRUS_OUT}, {"bouncesIn", PMG_BOUNCES_IN},
		{"bouncesOut", PMG_BOUNCES_OUT}, {"bytesIn", PMG_BYTES_IN}, {"bytesOut", PMG_BYTES_OUT},
		{"greylistCount", PMG_GREYLIST}, {"junkIn", PMG_JUNK_IN},
		{"averageProcessTimeMs", PMG_AVG_MS}, {"rblRejects", PMG_RBL},
		{"pregreetRejects", PMG_PREGREET},
	};

	jsonwrite_str(o, "timeframe", "day");
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		jsonwrite_num(o, keys[i].key, p->mail[keys[i].i]);
	jsonwrite_time(o, "updatedAt", p->mail_updated);
	return o;
}

static struct json_object *
mail_point_json(const struct st_pmg_point *pt)
{
	struct json_object *o = json_object_new_object();
	static const struct { const char *key; int i; } keys[] = {
		{"count", PMG_COUNT}, {"countIn", PMG_IN}, {"countOut", PMG_OUT},
		{"spamIn", PMG_SPAM_IN}, {"spamOut", PMG_SPAM_OUT}, {"virusIn", PMG_VIRUS_IN},
		{"virusOut", PMG_VIRUS_OUT}, {"rblRejects", PMG_RBL}, {"pregreet", PMG_PREGREET},
		{"bouncesIn", PMG_BOUNCES_IN}, {"bouncesOut", PMG_BOUNCES_OUT},
		{"greylist", PMG_GREYLIST},
	};

	jsonwrite_time(o, "timestamp", pt->time);
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		jsonwrite_num(o, keys[i].key, pt->v[keys[i].i]);
	jsonwrite_int(o, "index", pt->index);
	jsonwrite_str(o, "timeframe", "hour");
	jsonwrite_time(o, "windowStart", pt->time);
	jsonwrite_time(o, "windowEnd", 0);	/* never set by the original: Go's zero time */
	return o;
}

struct json_object *
st_pmg_json(const struct st_pmg *p)
{
	struct json_object *o = json_object_new_object();
	char id[160];

	snprintf(id, sizeof(id), "pmg-%s", p->name);
	jsonwrite_str(o, "id", id);
	jsonwrite_str(o, "name", p->name);
	jsonwrite_str(o, "host", p->host);
	jsonwrite_opt_str(o, "guestURL", p->guest_url);
	jsonwrite_str(o, "status", p->status);
	jsonwrite_str(o, "version", p->version);
	if (p->nnodes > 0) {
		struct json_object *a = json_object_new_array();
		for (int i = 0; i < p->nnodes; i++)
			json_object_array_add(a, pmg_node_json(&p->nodes[i]));
		json_object_object_add(o, "nodes", a);
	}
	if (p->has_mail)
		json_object_object_add(o, "mailStats", mail_stats_json(p));
	if (p->npoints > 0) {
		struct json_object *a = json_object_new_array();
		for (int i = 0; i < p->npoints; i++)
			json_object_array_add(a, mail_point_json(&p->points[i]));
		json_object_object_add(o, "mailCount", a);
	}
	if (p->nspam > 0) {
		struct json_object *a = json_object_new_array();
		for (int i = 0; i < p->nspam; i++) {
			struct json_object *b = json_object_new_object();
			jsonwrite_str(b, "score", p->spam[i].score);
			jsonwrite_num(b, "count", p->spam[i].count);
			json_object_array_add(a, b);
		}
		json_object_object_add(o, "spamDistribution", a);
	}
	if (p->has_quarantine) {
		struct json_object *q = json_object_new_object();
		jsonwrite_int(q, "spam", p->q_spam);
		jsonwrite_int(q, "virus", p->q_virus);
		jsonwrite_int(q, "attachment", p->q_attachment);
		jsonwrite_int(q, "blacklisted", p->q_blacklisted);
		json_object_object_add(o, "quarantine", q);
	}
	jsonwrite_str(o, "connectionHealth", p->health);
	jsonwrite_time(o, "lastSeen", p->last_seen);
	jsonwrite_time(o, "lastUpdated", p->last_updated);
	return o;
}

struct json_object *
st_pmg_backup_json(const struct st_pmg_backup *b)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_str(o, "id", b->id);
	jsonwrite_str(o, "instance", b->instance);
	jsonwrite_str(o, "node", b->node);
	jsonwrite_str(o, "filename", b->filename);
	jsonwrite_time(o, "backupTime", b->time);
	jsonwrite_int(o, "size", b->size);
	return o;
}

/* --- writing -------------------------------------------------------------------------- */

static void
pbs_row(struct strbuf *r, const char *instance_id, const void *item)
{
	const struct st_pbs *p = item;
	char b[64];

	db_copy_field(r, instance_id, 0);
	db_copy_field(r, p->name, 0);
	db_copy_field(r, p->status, 0);
	db_copy_field(r, p->version, 0);
	db_copy_field(r, sr_num(b, sizeof(b), p->cpu), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), p->memory_used), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), p->memory_total), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), p->uptime), 0);
	db_copy_field(r, p->health, 0);
	db_copy_field(r, timefmt_pg(p->last_seen, b, sizeof(b)), 0);
	sr_doc(r, st_pbs_json(p), 1);
}

/* A datastore row needs its instance's name for the id: rows are built from this pair. */
struct ds_item {
	const struct st_pbs *pbs;
	const struct st_pbs_datastore *ds;
};

static void
datastore_row(struct strbuf *r, const char *instance_id, const void *item)
{
	const struct ds_item *it = item;
	const struct st_pbs_datastore *d = it->ds;
	char b[64], id[300];

	snprintf(id, sizeof(id), "pbs-%s-%s", it->pbs->name, d->name);
	db_copy_field(r, id, 0);
	db_copy_field(r, instance_id, 0);
	db_copy_field(r, d->name, 0);
	db_copy_field(r, d->status, 0);
	db_copy_field(r, sr_i64(b, sizeof(b), d->total), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), d->used), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), d->avail), 0);
	db_copy_field(r, d->dedup > 0 ? sr_num(b, sizeof(b), d->dedup) : NULL, 0);
	db_copy_field(r, d->error, 1);
}

static void
pbs_backup_row(struct strbuf *r, const char *instance_id, const void *item)
{
	const struct st_pbs_backup *pb = item;
	char b[64];

	db_copy_field(r, pb->id, 0);
	db_copy_field(r, instance_id, 0);
	db_copy_field(r, pb->datastore, 0);
	db_copy_field(r, pb->ns, 0);
	db_copy_field(r, pb->backup_type, 0);
	db_copy_field(r, pb->backup_id, 0);
	db_copy_field(r, timefmt_pg(pb->backup_time, b, sizeof(b)), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), pb->size), 0);
	db_copy_field(r, pb->protected_ ? "t" : "f", 0);
	db_copy_field(r, pb->verified ? "t" : "f", 0);
	db_copy_field(r, pb->owner, 0);
	sr_doc(r, st_pbs_backup_json(pb), 1);
}

static void
pmg_row(struct strbuf *r, const char *instance_id, const void *item)
{
	const struct st_pmg *p = item;
	char b[64];

	db_copy_field(r, instance_id, 0);
	db_copy_field(r, p->name, 0);
	db_copy_field(r, p->status, 0);
	db_copy_field(r, p->version, 0);
	db_copy_field(r, p->health, 0);
	db_copy_field(r, p->has_mail ? sr_num(b, sizeof(b), p->mail[PMG_IN]) : NULL, 0);
	db_copy_field(r, p->has_mail ? sr_num(b, sizeof(b), p->mail[PMG_OUT]) : NULL, 0);
	db_copy_field(r, p->has_mail ? sr_num(b, sizeof(b), p->mail[PMG_SPAM_IN]) : NULL, 0);
	db_copy_field(r, p->has_mail ? sr_num(b, sizeof(b), p->mail[PMG_VIRUS_IN]) : NULL, 0);
	db_copy_field(r, p->has_quarantine ? sr_i64(b, sizeof(b), p->q_spam) : NULL, 0);
	db_copy_field(r, p->has_quarantine ? sr_i64(b, sizeof(b), p->q_virus) : NULL, 0);
	db_copy_field(r, timefmt_pg(p->last_seen, b, sizeof(b)), 0);
	sr_doc(r, st_pmg_json(p), 1);
}

static void
pmg_node_row(struct strbuf *r, const char *instance_id, const void *item)
{
	const struct st_pmg_node *n = item;
	const struct st_pmg_queue *q = &n->queue;
	char b[64];

	db_copy_field(r, instance_id, 0);
	db_copy_field(r, n->name, 0);
	db_copy_field(r, n->status, 0);
	db_copy_field(r, n->role, 0);
	db_copy_field(r, n->has_queue ? sr_i64(b, sizeof(b), q->active) : NULL, 0);
	db_copy_field(r, n->has_queue ? sr_i64(b, sizeof(b), q->deferred) : NULL, 0);
	db_copy_field(r, n->has_queue ? sr_i64(b, sizeof(b), q->hold) : NULL, 0);
	db_copy_field(r, n->has_queue ? sr_i64(b, sizeof(b), q->incoming) : NULL, 0);
	db_copy_field(r, n->has_queue ? sr_i64(b, sizeof(b), q->total) : NULL, 0);
	db_copy_field(r, n->has_queue ? sr_i64(b, sizeof(b), q->oldest_age) : NULL, 1);
}

static void
pmg_backup_row(struct strbuf *r, const char *instance_id, const void *item)
{
	const struct st_pmg_backup *pb = item;
	char b[64];

	db_copy_field(r, pb->id, 0);
	db_copy_field(r, instance_id, 0);
	db_copy_field(r, pb->node, 0);
	db_copy_field(r, pb->filename, 0);
	db_copy_field(r, timefmt_pg(pb->time, b, sizeof(b)), 0);
	db_copy_field(r, sr_i64(b, sizeof(b), pb->size), 0);
	sr_doc(r, st_pmg_backup_json(pb), 1);
}

static int
fail(struct db *db, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", db_error(db));
	db_rollback(db);
	return -1;
}

int
st_write_pbs(struct db *db, const struct st_pbs *p, int store_rows, char *err, size_t errlen)
{
	struct st_instance s;
	struct ds_item *items = xcalloc((size_t)(p->nds > 0 ? p->nds : 1), sizeof(*items));
	char key[160];
	int rc = -1;

	/* Datastores also show as storage of the unified storage view (§3 step 4). */
	memset(&s, 0, sizeof(s));
	snprintf(s.instance_id, sizeof(s.instance_id), "%s", p->instance_id);
	for (int i = 0; i < p->nds; i++) {
		const struct st_pbs_datastore *d = &p->ds[i];
		struct st_storage *st;

		items[i].pbs = p;
		items[i].ds = d;
		if (!store_rows)
			continue;
		st = st_add_storage(&s);
		snprintf(st->id, sizeof(st->id), "pbs-%s-%s", p->name, d->name);
		snprintf(st->name, sizeof(st->name), "%s", d->name);
		snprintf(st->node, sizeof(st->node), "%.63s", p->name);
		snprintf(st->instance, sizeof(st->instance), "pbs-%.120s", p->name);
		snprintf(st->type, sizeof(st->type), "pbs");
		snprintf(st->status, sizeof(st->status), "%.15s", d->status);
		snprintf(st->content, sizeof(st->content), "backup");
		st->total = d->total;
		st->used = d->used;
		st->avail = d->avail;
		st->shared = 1;
		st->enabled = 1;
		st->active = strcmp(p->status, "online") == 0;
	}
	snprintf(key, sizeof(key), "pbs-%s", p->name);
	st_add_health(&s, key, strcmp(p->health, "healthy") == 0);

	rc = st_begin(db, p->instance_id, p->mock);
	if (rc == 1) {
		rc = 0;
	} else if (rc != 0 || st_write_rows(db, &s) != 0 ||
	    st_delete_rows(db, ST_ROWS_PBS, p->instance_id) != 0 ||
	    st_copy_list(db, "COPY pulse.pbs_instances (instance_id, name, status, version, cpu, "
	    "mem_used, mem_total, uptime, connection_health, last_seen, doc) FROM STDIN",
	    p->instance_id, p, 1, sizeof(*p), pbs_row) != 0 ||
	    st_copy_list(db, "COPY pulse.pbs_datastores (id, instance_id, name, status, total, used, "
	    "avail, dedup_factor, error) FROM STDIN", p->instance_id, items, p->nds, sizeof(*items),
	    datastore_row) != 0 ||
	    st_bump_version(db) != 0 || db_commit(db) != 0)
		rc = fail(db, err, errlen);
	else
		rc = 0;
	free(items);
	st_instance_free(&s);
	return rc;
}

int
st_write_pbs_backups(struct db *db, const struct st_pbs_backups *b, char *err, size_t errlen)
{
	int rc = st_begin(db, b->instance_id, b->mock);

	if (rc == 1)
		return 0;
	if (rc != 0 ||
	    st_delete_rows(db, ST_ROWS_PBS_BACKUPS, b->instance_id) != 0 ||
	    st_copy_list(db, "COPY pulse.pbs_backups (id, instance_id, datastore, namespace, "
	    "backup_type, backup_id, backup_time, size, protected, verified, owner, doc) FROM STDIN",
	    b->instance_id, b->items, b->n, sizeof(*b->items), pbs_backup_row) != 0 ||
	    st_bump_version(db) != 0 || db_commit(db) != 0)
		return fail(db, err, errlen);
	return 0;
}

int
st_write_pmg(struct db *db, const struct st_pmg *p, const struct st_pmg_backups *b, char *err,
    size_t errlen)
{
	struct st_instance s;
	char key[160];
	int rc = 0;

	memset(&s, 0, sizeof(s));
	snprintf(s.instance_id, sizeof(s.instance_id), "%s", p->instance_id);
	snprintf(key, sizeof(key), "pmg-%s", p->name);
	st_add_health(&s, key, strcmp(p->health, "healthy") == 0);
	rc = st_begin(db, p->instance_id, p->mock);
	if (rc == 1) {
		st_instance_free(&s);
		return 0;
	}
	if (rc != 0 || st_write_rows(db, &s) != 0 ||
	    st_delete_rows(db, ST_ROWS_PMG, p->instance_id) != 0 ||
	    st_copy_list(db, "COPY pulse.pmg_instances (instance_id, name, status, version, "
	    "connection_health, mail_in, mail_out, spam_in, virus_in, quarantine_spam, "
	    "quarantine_virus, last_seen, doc) FROM STDIN", p->instance_id, p, 1, sizeof(*p),
	    pmg_row) != 0 ||
	    st_copy_list(db, "COPY pulse.pmg_nodes (instance_id, name, status, role, queue_active, "
	    "queue_deferred, queue_hold, queue_incoming, queue_total, queue_oldest_age) FROM STDIN",
	    p->instance_id, p->nodes, p->nnodes, sizeof(*p->nodes), pmg_node_row) != 0)
		rc = -1;
	if (rc == 0 && b != NULL &&
	    (st_delete_rows(db, ST_ROWS_PMG_BACKUPS, p->instance_id) != 0 ||
	    st_copy_list(db, "COPY pulse.pmg_backups (id, instance_id, node, filename, backup_time, "
	    "size, doc) FROM STDIN", p->instance_id, b->items, b->n, sizeof(*b->items),
	    pmg_backup_row) != 0))
		rc = -1;
	if (rc == 0 && (st_bump_version(db) != 0 || db_commit(db) != 0))
		rc = -1;
	st_instance_free(&s);
	return rc == 0 ? 0 : fail(db, err, errlen);
}
