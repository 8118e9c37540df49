/* poll_pmg.c: polling one Proxmox Mail Gateway (state-proxmox.md §4): version, cluster
 * nodes with their Postfix queues and configuration backups, mail statistics of the last
 * day with hourly counts, spam score distribution and quarantine sizes; after a good poll
 * the samples the PMG alert checks compare with (src/pmg_history.c). */
#include "config.h"

#include "jsonread.h"
#include "log.h"
#include "pmg.h"
#include "pmg_history.h"
#include "poller.h"
#include "state_servers.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PMG_NODES 64
#define MAX_PMG_BACKUPS 1024
#define MAX_POINTS 168
#define MAX_SCORES 64

enum { REQ_VERSION, REQ_CLUSTER, REQ_QUEUE, REQ_BACKUPS, REQ_MAIL, REQ_MAILCOUNT, REQ_SCORES,
    REQ_SPAM, REQ_VIRUS };

struct node_work {
	struct pmg_cluster_node item;
	struct pmg_queue queue;
	int have_queue;
	struct pmg_backup_item *backups;
	int nbackups, have_backups;
};

struct pmg_cycle {
	struct poll_cycle base;
	char version[64];
	struct node_work nodes[MAX_PMG_NODES];
	int nnodes;
	int synthetic_node;		/* no cluster answer: the instance name stands in */
	struct pmg_counts mail;
	int have_mail;
	struct pmg_counts points[MAX_POINTS];
	int npoints;
	struct pmg_spam_score scores[MAX_SCORES];
	int nscores;
	int64_t q_spam, q_virus;
	int have_spam, have_virus;
};

struct pmg_run {
	int have_last;
	struct st_pmg last;		/* the last good poll (without its lists) */
	struct st_pmg_backups last_backups;	/* the backups last written */
};

#define CYCLE(run) ((struct pmg_cycle *)(run)->cycle)
#define PM(run) ((struct pmg_run *)(run)->priv)

static void
copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static void
submit_node(struct run *run, int i, const char *what, int kind)
{
	char node[400], path[600];
	size_t o = 0;

	/* Node names are host names; anything else is escaped. */
	for (const char *s = CYCLE(run)->nodes[i].item.name; *s && o + 4 < sizeof(node); s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_')
			node[o++] = (char)ch;
		else
			o += (size_t)snprintf(node + o, sizeof(node) - o, "%%%02X", ch);
	}
	node[o] = '\0';
	snprintf(path, sizeof(path), "/nodes/%s/%s", node, what);
	poll_submit(run, path, kind, i);
}

static void
pmg_handle(struct run *run, int kind, int index, struct http_request *req)
{
	struct pmg_cycle *c = CYCLE(run);
	struct json_object *data = poll_data(run, req, kind == REQ_VERSION);

	if (data == NULL) {
		if (kind == REQ_CLUSTER) {
			/* No cluster information: the backups are asked of the instance's name. */
			c->nnodes = 1;
			c->synthetic_node = 1;
			copy(c->nodes[0].item.name, sizeof(c->nodes[0].item.name), run->cfg.name);
			submit_node(run, 0, "backup", REQ_BACKUPS);
		}
		return;
	}
	switch (kind) {
	case REQ_VERSION:
		copy(c->version, sizeof(c->version), jsonread_string(data, "version", ""));
		poll_submit(run, "/config/cluster/status?list_single_node=1", REQ_CLUSTER, 0);
		poll_submit(run, "/statistics/mail", REQ_MAIL, 0);
		poll_submit(run, "/statistics/mailcount?timespan=86400", REQ_MAILCOUNT, 0);
		poll_submit(run, "/statistics/spamscores", REQ_SCORES, 0);
		poll_submit(run, "/quarantine/spamstatus", REQ_SPAM, 0);
		poll_submit(run, "/quarantine/virusstatus", REQ_VIRUS, 0);
		break;
	case REQ_CLUSTER: {
		struct pmg_cluster_node items[MAX_PMG_NODES];
		c->nnodes = pmg_parse_cluster(data, items, MAX_PMG_NODES);
		if (c->nnodes == 0) {
			c->nnodes = 1;
			c->synthetic_node = 1;
			copy(items[0].name, sizeof(items[0].name), run->cfg.name);
			items[0].type[0] = '\0';
		}
		for (int i = 0; i < c->nnodes; i++) {
			c->nodes[i].item = items[i];
			if (!c->synthetic_node)
				submit_node(run, i, "postfix/queue", REQ_QUEUE);
			submit_node(run, i, "backup", REQ_BACKUPS);
		}
		break;
	}
	case REQ_QUEUE:
		c->nodes[index].have_queue = pmg_parse_queue(data, &c->nodes[index].queue) == 0;
		break;
	case REQ_BACKUPS:
		c->nodes[index].backups = xcalloc(MAX_PMG_BACKUPS, sizeof(struct pmg_backup_item));
		c->nodes[index].nbackups = pmg_parse_backups(data, c->nodes[index].backups, MAX_PMG_BACKUPS);
		c->nodes[index].have_backups = 1;
		break;
	case REQ_MAIL:
		c->have_mail = pmg_parse_mail_stats(data, &c->mail) == 0;
		break;
	case REQ_MAILCOUNT:
		c->npoints = pmg_parse_mail_count(data, c->points, MAX_POINTS);
		break;
	case REQ_SCORES:
		c->nscores = pmg_parse_spam_scores(data, c->scores, MAX_SCORES);
		break;
	case REQ_SPAM:
		c->have_spam = pmg_parse_quarantine(data, &c->q_spam) == 0;
		break;
	case REQ_VIRUS:
		c->have_virus = pmg_parse_quarantine(data, &c->q_virus) == 0;
		break;
	}
	json_object_put(data);
}

static void
lower(char *dst, size_t len, const char *src)
{
	size_t i = 0;

	for (; src[i] && i + 1 < len; i++)
		dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] + 32 : src[i]);
	dst[i] = '\0';
}

static int
newest_first(const void *a, const void *b)
{
	const struct st_pmg_backup *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? 1 : -1;
	return strcmp(x->id, y->id);
}

static void
base_instance(struct run *run, struct st_pmg *s)
{
	copy(s->instance_id, sizeof(s->instance_id), run->cfg.id);
	copy(s->name, sizeof(s->name), run->cfg.name);
	copy(s->host, sizeof(s->host), run->cfg.host);
	copy(s->guest_url, sizeof(s->guest_url), run->cfg.guest_url);
}

static int
pmg_write_ok(struct worker *w, struct run *run, double now, char *err, size_t errlen)
{
	struct pmg_cycle *c = CYCLE(run);
	struct st_pmg s;
	struct st_pmg_backups b;
	struct pmg_history history;
	int listed = 0, rc;

	memset(&s, 0, sizeof(s));
	memset(&b, 0, sizeof(b));
	base_instance(run, &s);
	copy(s.status, sizeof(s.status), "online");
	copy(s.version, sizeof(s.version), c->version);
	copy(s.health, sizeof(s.health), "healthy");
	s.last_seen = s.last_updated = now;
	for (int i = 0; i < c->nnodes && !c->synthetic_node; i++) {
		struct node_work *nw = &c->nodes[i];
		struct st_pmg_node *n = st_pmg_add_node(&s);

		copy(n->name, sizeof(n->name), nw->item.name);
		/* The original shows the node's cluster role (lower case) as its status. */
		lower(n->status, sizeof(n->status), nw->item.type[0] ? nw->item.type : "online");
		copy(n->role, sizeof(n->role), nw->item.type);
		if (nw->have_queue) {
			n->has_queue = 1;
			n->queue.active = nw->queue.active;
			n->queue.deferred = nw->queue.deferred;
			n->queue.hold = nw->queue.hold;
			n->queue.incoming = nw->queue.incoming;
			n->queue.total = nw->queue.active + nw->queue.deferred + nw->queue.hold +
			    nw->queue.incoming;
			n->queue.oldest_age = nw->queue.oldest_age;
			n->queue.updated = now;
		}
	}
	if (c->have_mail) {
		s.has_mail = 1;
		memcpy(s.mail, c->mail.v, sizeof(s.mail));
		s.mail_updated = now;
	}
	for (int i = 0; i < c->npoints; i++) {
		struct st_pmg_point *pt = st_pmg_add_point(&s);
		memcpy(pt->v, c->points[i].v, sizeof(pt->v));
		pt->time = (double)c->points[i].time;
		pt->index = c->points[i].index;
	}
	for (int i = 0; i < c->nscores; i++) {
		struct st_pmg_spam *sp = st_pmg_add_spam(&s);
		copy(sp->score, sizeof(sp->score), c->scores[i].level);
		sp->count = c->scores[i].count;
	}
	/* As the original: quarantine totals always, zero where a count could not be read. */
	s.has_quarantine = 1;
	s.q_spam = c->have_spam ? c->q_spam : 0;
	s.q_virus = c->have_virus ? c->q_virus : 0;

	copy(b.instance_id, sizeof(b.instance_id), run->cfg.id);
	for (int i = 0; i < c->nnodes; i++) {
		struct node_work *nw = &c->nodes[i];
		if (!nw->have_backups)
			continue;
		listed = 1;
		for (int k = 0; k < nw->nbackups; k++) {
			struct st_pmg_backup *pb;
			char id[400];
			int dup = 0;
			snprintf(id, sizeof(id), "pmg-%s-%s-%lld", run->cfg.name, nw->item.name,
			    (long long)nw->backups[k].timestamp);
			for (int m = 0; m < b.n && !dup; m++)
				dup = strcmp(b.items[m].id, id) == 0;
			if (dup)
				continue;
			pb = st_pmg_add_backup(&b);
			copy(pb->id, sizeof(pb->id), id);
			copy(pb->instance, sizeof(pb->instance), run->cfg.name);
			copy(pb->node, sizeof(pb->node), nw->item.name);
			copy(pb->filename, sizeof(pb->filename), nw->backups[k].filename);
			pb->time = (double)nw->backups[k].timestamp;
			pb->size = nw->backups[k].size;
		}
	}
	/* A node whose backups could not be listed this time keeps the ones last written. */
	for (int i = 0; i < c->nnodes && listed; i++) {
		const struct st_pmg_backups *last = &PM(run)->last_backups;

		if (c->nodes[i].have_backups)
			continue;
		for (int k = 0; k < last->n; k++)
			if (strcmp(last->items[k].node, c->nodes[i].item.name) == 0)
				*st_pmg_add_backup(&b) = last->items[k];
	}
	qsort(b.items, (size_t)b.n, sizeof(*b.items), newest_first);
	/* When no node's backups could be listed, the last known ones stay. */
	rc = st_write_pmg(w->db, &s, listed ? &b : NULL, err, errlen);
	if (rc == 0 && listed) {
		st_pmg_backups_free(&PM(run)->last_backups);
		PM(run)->last_backups = b;
		memset(&b, 0, sizeof(b));
	}
	if (rc == 0) {
		/* Without its history (a database error, logged) quarantine growth and mail
		 * rates are not judged this time: their alerts stay as they are. */
		if (pmg_history_update(w->db, &s, c->have_spam && c->have_virus, now, &history) == 0)
			s.history = &history;
		(void)alerts_evaluate_pmg(w, run->cfg.id, &s, 0, now);
		s.history = NULL;
	}
	st_pmg_free(&PM(run)->last);
	PM(run)->last = s;
	PM(run)->last.nodes = NULL;
	PM(run)->last.points = NULL;
	PM(run)->last.spam = NULL;
	PM(run)->last.nnodes = PM(run)->last.npoints = PM(run)->last.nspam = 0;
	PM(run)->last.capnodes = PM(run)->last.cappoints = PM(run)->last.capspam = 0;
	PM(run)->have_last = 1;
	st_pmg_free(&s);
	st_pmg_backups_free(&b);
	return rc;
}

/* A failed poll: after the grace period the instance shows offline (its version and mail
 * figures as last seen); its backups stay. */
static void
pmg_write_failed(struct worker *w, struct run *run, double now)
{
	struct st_pmg s;
	char err[256];

	(void)alerts_server_failed(w, run->cfg.id, run->cfg.name, 1, now);
	if (run->last_success > 0 && now - run->last_success < poll_settings.grace)
		return;
	memset(&s, 0, sizeof(s));
	if (PM(run)->have_last && run->auth_failures < AUTH_FAILURE_LIMIT) {
		s = PM(run)->last;
	} else {
		base_instance(run, &s);
		s.last_seen = now;
	}
	s.last_updated = now;
	copy(s.status, sizeof(s.status), "offline");
	copy(s.health, sizeof(s.health), "unhealthy");
	if (st_write_pmg(w->db, &s, NULL, err, sizeof(err)) != 0)
		log_warn("msg=\"state write failed\" instance=%s error=\"%s\"", run->cfg.name, err);
}

/* --- the product's entry points ------------------------------------------------------- */

static double
pmg_interval(void)
{
	return poll_settings.pmg_interval;
}

static struct poll_cycle *
pmg_cycle_new(struct run *run)
{
	struct pmg_cycle *c = xcalloc(1, sizeof(*c));

	if (run->priv == NULL)
		run->priv = xcalloc(1, sizeof(struct pmg_run));
	return &c->base;
}

static void
pmg_begin(struct run *run)
{
	poll_submit(run, "/version", REQ_VERSION, 0);
}

static void
pmg_cycle_free(struct poll_cycle *base)
{
	struct pmg_cycle *c = (struct pmg_cycle *)base;

	for (int i = 0; i < c->nnodes; i++)
		free(c->nodes[i].backups);
	free(c);
}

static void
pmg_priv_free(void *priv)
{
	struct pmg_run *p = priv;

	if (p) {
		st_pmg_free(&p->last);
		st_pmg_backups_free(&p->last_backups);
	}
	free(p);
}

const struct poll_ops poll_pmg_ops = {
	.type = "pmg",
	.interval = pmg_interval,
	.cycle_new = pmg_cycle_new,
	.begin = pmg_begin,
	.handle = pmg_handle,
	.write_ok = pmg_write_ok,
	.write_failed = pmg_write_failed,
	.cycle_free = pmg_cycle_free,
	.priv_free = pmg_priv_free,
};
