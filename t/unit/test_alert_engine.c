/* test_alert_engine.c: the alert evaluation: hysteresis, levels, delays, confirmation counts,
 * gating, ids, messages, clearing, and the cost of a large estate. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert_engine.h"
#include "alert_db.h"
#include "state.h"
#include "state_servers.h"
#include "tap.h"

#define NOW 1767225600.0	/* 2026-01-01T00:00:00Z */

/* One evaluation of s at now; the changes stay in *ch (freed by the next call). */

static const struct alert_changes *
poll_once(const struct alert_config *c, const struct st_instance *s, double now, int partial)
{
	struct alert_eval e;

	alert_changes_free(&last);
	alert_eval_begin(&e, c, &db, now, &last);
	e.partial = partial;
	alert_eval_pve(&e, s);
	alert_eval_finish(&e);
	db_apply(&last);
	return &last;
}

static int
count_kind(enum alert_change_kind k)
{
	int n = 0;

	for (int i = 0; i < last.n; i++)
		n += last.v[i].kind == k;
	return n;
}

static void
config(struct alert_config *c)
{
	alert_config_defaults(c);
	alert_config_normalize(c, NOW);
	c->n_delays = 0;
	c->time_threshold = 0;
}

static struct st_node *
add_node(struct st_instance *s, const char *name, double cpu, double mem)
{
	struct st_node *n = st_add_node(s);

	snprintf(n->id, sizeof(n->id), "pve1-%s", name);
	snprintf(n->node, sizeof(n->node), "%s", name);
	snprintf(n->display_name, sizeof(n->display_name), "%s", name);
	snprintf(n->instance, sizeof(n->instance), "pve1");
	snprintf(n->status, sizeof(n->status), "online");
	snprintf(n->connection_health, sizeof(n->connection_health), "healthy");
	n->cpu = cpu;
	n->memory.usage = mem;
	return n;
}

static struct st_guest *
add_guest(struct st_instance *s, int vmid, const char *name, const char *status, double cpu)
{
	struct st_guest *g = st_add_guest(s);

	g->id = st_textf(s, "pve1:n1:%d", vmid);
	g->name = st_str(s, name);
	snprintf(g->node, sizeof(g->node), "n1");
	g->instance = "pve1";
	snprintf(g->status, sizeof(g->status), "%s", status);
	snprintf(g->type, sizeof(g->type), "qemu");
	g->vmid = vmid;
	g->cpu = cpu;
	g->memory.usage = 10;
	g->disk.usage = -1;
	return g;
}

static void
reset(void)
{
	alert_prev_free(&db);
	alert_changes_free(&last);
}

static void
test_hysteresis(void)
{
	struct alert_config c;
	struct st_instance s = {0};
	struct st_node *n;
	const struct alert *a;

	config(&c);
	n = add_node(&s, "n1", 0.50, 10);
	poll_once(&c, &s, NOW, 0);
	is_int(last.n, 0, "below trigger: nothing");
	n->cpu = 0.85;
	poll_once(&c, &s, NOW + 10, 0);
	is_int(count_kind(ALERT_RAISED), 1, "at 85 %% over 80: raised");
	a = active("pve1-n1-cpu");
	ok(a != NULL, "id <resourceId>-cpu");
	if (a) {
		is_str(a->level, "warning", "85: warning");
		is_str(a->message, "Node cpu at 85.0%", "message");
		is_str(a->resource_id, "pve1-n1", "resourceId is the node id");
		is_str(a->type, "cpu", "type");
		is_int((int)a->threshold, 80, "threshold");
		ok(a->start_time == NOW + 10, "startTime now");
		is_str(json_object_get_string(json_object_object_get(a->metadata, "resourceType")),
		    "node", "metadata.resourceType");
		ok(json_object_get_double(json_object_object_get(a->metadata, "clearThreshold")) == 75,
		    "metadata.clearThreshold");
	}
	poll_once(&c, &s, NOW + 20, 0);
	is_int(last.n, 0, "steady: no change at all");
	n->cpu = 0.855;
	poll_once(&c, &s, NOW + 30, 0);
	is_int(last.n, 0, "value moved less than the step: no write");
	n->cpu = 0.88;
	poll_once(&c, &s, NOW + 1000, 0);
	is_int(last.n, 0, "moved 3, under max(1, 5 %% of 80): no write");
	n->cpu = 0.89;
	poll_once(&c, &s, NOW + 100, 0);
	is_int(last.n, 0, "moved 4 but row younger than 5 min: no write");
	poll_once(&c, &s, NOW + 400, 0);
	is_int(count_kind(ALERT_UPDATED), 1, "moved 4 and row older than 5 min: updated");
	n->cpu = 0.90;
	poll_once(&c, &s, NOW + 410, 0);
	is_int(count_kind(ALERT_UPDATED), 1, "90 = trigger+10: level change written at once");
	ok(last.n == 1 && last.v[0].to_critical, "to_critical set");
	is_str(active("pve1-n1-cpu")->level, "critical", "critical at trigger+10");
	n->cpu = 0.77;
	poll_once(&c, &s, NOW + 420, 0);
	ok(active("pve1-n1-cpu") != NULL, "between clear and trigger: still active");
	is_str(active("pve1-n1-cpu")->level, "critical", "level kept between clear and trigger");
	n->cpu = 0.75;
	poll_once(&c, &s, NOW + 430, 0);
	is_int(count_kind(ALERT_RESOLVED), 1, "at clear: resolved");
	ok(active("pve1-n1-cpu") == NULL, "gone from active");
	ok(last.v[0].alert.resolved_time == NOW + 430, "resolved time");
	st_instance_free(&s);
	alert_config_free(&c);
	reset();
}

static void
test_delay(void)
{
	struct alert_config c;
	struct st_instance s = {0};

	config(&c);
	strcpy(c.delays[0].type, "node");
	c.delays[0].seconds = 3600;	/* longer than the original's 10-minute purge */
	c.n_delays = 1;
	add_node(&s, "n1", 0.95, 10);
	poll_once(&c, &s, NOW, 0);
	is_int(count_kind(ALERT_PENDING_SET), 1, "delay: pending written");
	is_int(count_kind(ALERT_RAISED), 0, "delay: not raised yet");
	poll_once(&c, &s, NOW + 1800, 0);
	is_int(last.n, 0, "delay running: nothing written");
	poll_once(&c, &s, NOW + 3600, 0);
	is_int(count_kind(ALERT_RAISED), 1, "after an hour: raised");
	is_int(count_kind(ALERT_PENDING_DELETE), 1, "pending dropped");
	ok(active("pve1-n1-cpu")->start_time == NOW, "startTime is when the condition began");
	reset();
	/* The condition goes before the delay ends: the pending entry goes. */
	poll_once(&c, &s, NOW, 0);
	s.nodes[0].cpu = 0.1;
	poll_once(&c, &s, NOW + 60, 0);
	is_int(count_kind(ALERT_PENDING_DELETE), 1, "below trigger: pending deleted");
	is_int(db.npending, 0, "no pending left");
	/* Resolution order: metricTimeThresholds beats timeThresholds; "all" as fallback. */
	strcpy(c.metric_delays[0].type, "node");
	strcpy(c.metric_delays[0].metric, "cpu");
	c.metric_delays[0].seconds = 7;
	strcpy(c.metric_delays[1].type, "all");
	strcpy(c.metric_delays[1].metric, "default");
	c.metric_delays[1].seconds = 11;
	c.n_metric_delays = 2;
	is_int(alert_delay(&c, "node", "cpu"), 7, "metricTimeThresholds[node][cpu]");
	is_int(alert_delay(&c, "node", "memory"), 3600, "then timeThresholds[node]");
	is_int(alert_delay(&c, "storage", "usage"), 11, "then metricTimeThresholds[all][default]");
	c.n_metric_delays = 0;
	c.time_threshold = 9;
	is_int(alert_delay(&c, "guest", "cpu"), 9, "legacy timeThreshold last");
	strcpy(c.delays[1].type, "node");
	c.delays[1].seconds = 13;
	strcpy(c.delays[0].type, "x");
	c.n_delays = 2;
	is_int(alert_delay(&c, "pbs", "cpu"), 13, "pbs falls back to node");
	is_int(alert_delay(&c, "dockerhost", "cpu"), 13, "a docker host falls back to node");
	is_int(alert_delay(&c, "docker", "cpu"), 9, "a docker container: not to node");
	strcpy(c.delays[0].type, "guest");
	c.delays[0].seconds = 17;
	is_int(alert_delay(&c, "docker", "cpu"), 17, "a docker container falls back to guest");
	strcpy(c.delays[0].type, "docker");
	is_int(alert_delay(&c, "dockerhost", "cpu"), 17, "a docker host: docker before node");
	st_instance_free(&s);
	alert_config_free(&c);
	reset();
}

static void
test_connectivity(void)
{
	struct alert_config c;
	struct st_instance s = {0};
	struct st_node *n;

	config(&c);
	n = add_node(&s, "n1", 0.95, 10);
	poll_once(&c, &s, NOW, 0);
	ok(active("pve1-n1-cpu") != NULL, "cpu alert up");
	strcpy(n->status, "offline");
	strcpy(n->connection_health, "error");
	poll_once(&c, &s, NOW + 10, 1);
	is_int(count_kind(ALERT_PENDING_SET), 1, "offline 1: counted");
	ok(active("pve1-n1-cpu") != NULL, "metric alert kept while offline");
	poll_once(&c, &s, NOW + 20, 1);
	is_int(db.npending, 1, "offline 2: counted");
	is_int(db.pending[0].count, 2, "count 2");
	ok(active("node-offline-pve1-n1") == NULL, "not yet after 2");
	poll_once(&c, &s, NOW + 30, 1);
	ok(active("node-offline-pve1-n1") != NULL, "connectivity after 3 polls");
	is_str(active("node-offline-pve1-n1")->level, "critical", "critical");
	is_str(active("node-offline-pve1-n1")->type, "connectivity", "type connectivity");
	ok(active("node-offline-pve1-n1")->start_time == NOW + 10, "start at the first failure");
	poll_once(&c, &s, NOW + 40, 1);
	is_int(last.n, 0, "still offline: nothing written");
	strcpy(n->status, "online");
	strcpy(n->connection_health, "healthy");
	poll_once(&c, &s, NOW + 50, 0);
	ok(active("node-offline-pve1-n1") == NULL, "back online: resolved");
	/* A count resets when healthy in between. */
	strcpy(n->status, "offline");
	poll_once(&c, &s, NOW + 60, 1);
	poll_once(&c, &s, NOW + 70, 1);
	strcpy(n->status, "online");
	poll_once(&c, &s, NOW + 80, 0);
	is_int(db.npending, 0, "healthy: count reset");
	c.disable_all_nodes_offline = 1;
	strcpy(n->status, "offline");
	for (int i = 0; i < 4; i++)
		poll_once(&c, &s, NOW + 90 + i, 0);
	ok(active("node-offline-pve1-n1") == NULL, "disableAllNodesOffline: no connectivity");
	st_instance_free(&s);
	alert_config_free(&c);
	reset();
}

static void
test_guests(void)
{
	struct alert_config c;
	struct st_instance s = {0};
	struct st_guest *g;
	const struct alert *a;

	config(&c);
	c.minimum_delta = 0;	/* alerts come back at once here: no §3.2b suppression */
	g = add_guest(&s, 101, "web", "stopped", 0);
	poll_once(&c, &s, NOW, 0);
	ok(active("guest-powered-off-pve1:n1:101") == NULL, "stopped once: not yet");
	poll_once(&c, &s, NOW + 10, 0);
	a = active("guest-powered-off-pve1:n1:101");
	ok(a != NULL, "powered-off after 2 polls");
	if (a) {
		is_str(a->level, "warning", "poweredOffSeverity default warning");
		is_str(a->message, "VM 'web' is powered off", "powered-off message");
		is_str(a->resource_id, "pve1:n1:101", "guest resourceId");
	}
	strcpy(g->status, "unknown");
	poll_once(&c, &s, NOW + 15, 0);
	ok(active("guest-powered-off-pve1:n1:101") != NULL, "status unknown: alert kept");
	strcpy(g->status, "running");
	g->cpu = 0.95;
	poll_once(&c, &s, NOW + 20, 0);
	ok(active("guest-powered-off-pve1:n1:101") == NULL, "running: powered-off resolved");
	a = active("pve1:n1:101-cpu");
	ok(a != NULL && strcmp(a->message, "VM cpu at 95.0%") == 0, "guest cpu alert and message");
	ok(a && strcmp(a->level, "critical") == 0, "95 >= 80+10: critical");
	strcpy(g->status, "paused");
	poll_once(&c, &s, NOW + 21, 0);
	poll_once(&c, &s, NOW + 22, 0);
	ok(active("guest-powered-off-pve1:n1:101") == NULL, "paused: no powered-off");
	strcpy(g->status, "running");
	poll_once(&c, &s, NOW + 23, 0);
	/* Per-disk ids, sanitised keys. */
	{
		struct st_disk d = {0};
		st_disk_set(&d, 100, 95);
		snprintf(d.mountpoint, sizeof(d.mountpoint), "/");
		st_guest_add_disk(g, &d);
		snprintf(d.mountpoint, sizeof(d.mountpoint), "/var/Lib DATA");
		st_guest_add_disk(g, &d);
	}
	poll_once(&c, &s, NOW + 30, 0);
	ok(active("pve1:n1:101-disk-root-disk") != NULL, "per-disk id for / is root");
	ok(active("pve1:n1:101-disk-var-lib-data-disk") != NULL, "per-disk id sanitised");
	/* Tags. */
	g->tags = "prod,pulse-no-alerts";
	poll_once(&c, &s, NOW + 40, 0);
	is_int(db.nalerts, 0, "pulse-no-alerts: every alert of the guest resolves");
	g->tags = "pulse-relaxed";
	g->cpu = 0.93;
	poll_once(&c, &s, NOW + 50, 0);
	ok(active("pve1:n1:101-cpu") == NULL, "pulse-relaxed: cpu 93 under 95");
	g->cpu = 0.96;
	poll_once(&c, &s, NOW + 60, 0);
	ok(active("pve1:n1:101-cpu") != NULL, "pulse-relaxed: cpu 96 over 95");
	g->tags = "pulse-monitor-only";
	reset();
	poll_once(&c, &s, NOW + 70, 0);
	a = active("pve1:n1:101-cpu");
	ok(a && json_object_get_boolean(json_object_object_get(a->metadata, "monitorOnly")),
	    "pulse-monitor-only: metadata.monitorOnly");
	/* Ignored prefix, blacklist, whitelist. */
	g->tags = NULL;
	c.ignored_guest_prefixes.v = calloc(1, sizeof(*c.ignored_guest_prefixes.v));
	strcpy(c.ignored_guest_prefixes.v[0], "we");
	c.ignored_guest_prefixes.n = 1;
	poll_once(&c, &s, NOW + 80, 0);
	is_int(db.nalerts, 0, "ignored prefix: resolved");
	c.ignored_guest_prefixes.n = 0;
	c.tag_whitelist.v = calloc(1, sizeof(*c.tag_whitelist.v));
	strcpy(c.tag_whitelist.v[0], "Watch");
	c.tag_whitelist.n = 1;
	poll_once(&c, &s, NOW + 90, 0);
	is_int(db.nalerts, 0, "whitelist without the tag: nothing");
	g->tags = "watch";
	poll_once(&c, &s, NOW + 100, 0);
	ok(active("pve1:n1:101-cpu") != NULL, "whitelist tag (any case): evaluated");
	/* Override: disabled, own threshold with clear 0 -> trigger - 5. */
	c.overrides = calloc(1, sizeof(*c.overrides));
	c.n_overrides = 1;
	strcpy(c.overrides[0].resource_id, "pve1:n1:101");
	c.overrides[0].t.metric[ALERT_CPU] = (struct alert_threshold){1, 97, 0};
	poll_once(&c, &s, NOW + 110, 0);
	ok(active("pve1:n1:101-cpu") != NULL, "override 97: 96 stays between clear 92 and 97");
	g->cpu = 0.92;
	poll_once(&c, &s, NOW + 120, 0);
	ok(active("pve1:n1:101-cpu") == NULL, "override clear 0 means trigger-5 = 92");
	c.overrides[0].t.disabled = 1;
	g->cpu = 0.99;
	poll_once(&c, &s, NOW + 130, 0);
	is_int(db.nalerts, 0, "override disabled: nothing");
	c.overrides[0].t.disabled = 0;
	c.disable_all_guests = 1;
	poll_once(&c, &s, NOW + 140, 0);
	is_int(db.nalerts, 0, "disableAllGuests: nothing");
	/* The guest disappears. */
	c.disable_all_guests = 0;
	poll_once(&c, &s, NOW + 150, 0);
	ok(db.nalerts > 0, "alert up again");
	s.nguests = 0;
	poll_once(&c, &s, NOW + 160, 0);
	is_int(db.nalerts, 0, "guest gone: its alerts resolve");
	s.nguests = 1;
	st_instance_free(&s);
	alert_config_free(&c);
	reset();
}

static void
test_storage_and_legacy(void)
{
	struct alert_config c;
	struct st_instance s = {0};
	struct st_storage *st;
	struct alert_threshold t;

	config(&c);
	st = st_add_storage(&s);
	snprintf(st->id, sizeof(st->id), "pve1-n1-local");
	snprintf(st->name, sizeof(st->name), "local");
	snprintf(st->status, sizeof(st->status), "available");
	st->total = 100;
	st->used = 90;
	poll_once(&c, &s, NOW, 0);
	ok(active("pve1-n1-local-usage") != NULL, "storage usage over 85");
	is_str(active("pve1-n1-local-usage")->message, "Storage at 90.0%", "usage message");
	snprintf(st->status, sizeof(st->status), "unavailable");
	poll_once(&c, &s, NOW + 10, 0);
	poll_once(&c, &s, NOW + 20, 0);
	ok(active("storage-offline-pve1-n1-local") != NULL, "storage offline after 2");
	is_str(active("storage-offline-pve1-n1-local")->level, "warning", "storage offline warning");
	ok(active("pve1-n1-local-usage") == NULL, "usage not evaluated while offline");
	c.disable_all_storage = 1;
	poll_once(&c, &s, NOW + 30, 0);
	is_int(db.nalerts, 0, "disableAllStorage: resolved");
	/* Legacy scalar thresholds. */
	memset(&c.guest.metric[ALERT_CPU], 0, sizeof(c.guest.metric[ALERT_CPU]));
	c.guest.legacy[ALERT_CPU] = 70;
	t = alert_effective(&c.guest, NULL, ALERT_CPU);
	ok(t.set && t.trigger == 70 && t.clear == 65, "legacy number: {n, n-5}");
	t = alert_effective(&c.guest, NULL, ALERT_MEMORY);
	ok(t.trigger == 85 && t.clear == 80, "defaults as they are");
	c.guest.metric[ALERT_MEMORY].clear = 0;
	t = alert_effective(&c.guest, NULL, ALERT_MEMORY);
	ok(t.clear == 85, "defaults clear 0: trigger");
	{
		char k[64];
		alert_key("/", k, sizeof(k));
		is_str(k, "root", "key /");
		alert_key("", k, sizeof(k));
		is_str(k, "disk", "key empty");
		alert_key("--/Mnt//Data..-", k, sizeof(k));
		is_str(k, "mnt-data", "key trimmed");
	}
	st_instance_free(&s);
	alert_config_free(&c);
	reset();
}

static void
test_disabled_and_partial(void)
{
	struct alert_config c;
	struct st_instance s = {0};

	config(&c);
	add_node(&s, "n1", 0.95, 95);
	add_guest(&s, 100, "a", "running", 0.95);
	poll_once(&c, &s, NOW, 0);
	is_int(db.nalerts, 3, "three alerts");
	poll_once(&c, &s, NOW + 10, 1);
	is_int(last.n, 0, "partial: nothing resolved");
	c.enabled = 0;
	poll_once(&c, &s, NOW + 20, 0);
	is_int(last.n, 0, "alerting off: alerts stay");
	c.enabled = 1;
	c.disable_all_nodes = 1;
	poll_once(&c, &s, NOW + 30, 0);
	is_int(count_kind(ALERT_RESOLVED), 2, "disableAllNodes: node alerts resolve");
	is_int(db.nalerts, 1, "guest alert stays");
	st_instance_free(&s);
	alert_config_free(&c);
	reset();
}

/* One evaluation of a PBS or PMG. */
static void
poll_server(const struct alert_config *c, const struct st_pbs *pbs, const struct st_pmg *pmg,
    double now, int partial)
{
	struct alert_eval e;

	alert_changes_free(&last);
	alert_eval_begin(&e, c, &db, now, &last);
	e.partial = partial;
	if (pbs)
		alert_eval_pbs(&e, pbs);
	if (pmg)
		alert_eval_pmg(&e, pmg);
	alert_eval_finish(&e);
	db_apply(&last);
}

static void
test_servers(void)
{
	struct alert_config c;
	struct st_pbs p = {0};
	struct st_pmg m = {0};
	struct st_pmg_node *pn;

	config(&c);
	strcpy(p.name, "main");
	strcpy(p.status, "online");
	strcpy(p.health, "healthy");
	p.cpu = 85;
	p.memory_usage = 50;
	poll_server(&c, &p, NULL, NOW, 0);
	ok(active("pbs-main-cpu") != NULL, "PBS cpu: id pbs-<name>-cpu");
	is_str(active("pbs-main-cpu")->message, "PBS cpu at 85.0%", "PBS message");
	strcpy(p.status, "offline");
	for (int i = 0; i < 3; i++)
		poll_server(&c, &p, NULL, NOW + 10 + i, 1);
	ok(active("pbs-offline-pbs-main") != NULL, "PBS offline after 3 failed polls");
	is_str(active("pbs-offline-pbs-main")->type, "offline", "type offline");
	is_str(active("pbs-offline-pbs-main")->level, "critical", "critical");
	ok(active("pbs-main-cpu") != NULL, "metric alert kept while offline");
	strcpy(p.status, "online");
	p.cpu = 10;
	poll_server(&c, &p, NULL, NOW + 20, 0);
	is_int(db.nalerts, 0, "back and idle: all resolved");
	c.disable_all_pbs = 1;
	p.cpu = 99;
	poll_server(&c, &p, NULL, NOW + 30, 0);
	is_int(db.nalerts, 0, "disableAllPBS");
	reset();

	strcpy(m.name, "mail");
	strcpy(m.status, "online");
	strcpy(m.health, "healthy");
	pn = st_pmg_add_node(&m);
	pn->has_queue = 1;
	pn->queue.total = 600;
	pn->queue.oldest_age = 7200;
	poll_server(&c, NULL, &m, NOW, 0);
	ok(active("pmg-mail-queue-total") != NULL, "PMG queue over 500");
	is_str(active("pmg-mail-queue-total")->level, "warning", "600: warning");
	is_str(active("pmg-mail-oldest-message")->level, "critical", "120 minutes: critical");
	pn->queue.total = 1200;
	poll_server(&c, NULL, &m, NOW + 10, 0);
	is_str(active("pmg-mail-queue-total")->level, "critical", "1200: critical");
	ok(last.n == 2 && last.v[0].to_critical, "two updates (cluster, then node), to critical");
	pn->queue.total = 10;
	pn->queue.oldest_age = 0;
	poll_server(&c, NULL, &m, NOW + 20, 0);
	is_int(db.nalerts, 0, "queue drained: resolved");
	st_pmg_free(&m);
	alert_config_free(&c);
	reset();
}

static void
test_disks_zfs(void)
{
	struct alert_config c;
	struct st_instance s = {0};
	struct st_disk_row *d;
	struct st_storage *st;

	config(&c);
	d = st_add_disk_row(&s);
	snprintf(d->id, sizeof(d->id), "pve1-n1-dev-sda");
	snprintf(d->node, sizeof(d->node), "n1");
	snprintf(d->dev_path, sizeof(d->dev_path), "/dev/sda");
	snprintf(d->model, sizeof(d->model), "WDC RED");
	snprintf(d->health, sizeof(d->health), "failed");
	d->wearout = 5;
	poll_once(&c, &s, NOW, 0);
	ok(active("disk-health-pve1-n1-dev-sda") != NULL, "SMART failed: disk-health");
	is_str(active("disk-health-pve1-n1-dev-sda")->level, "critical", "critical");
	is_str(active("disk-health-pve1-n1-dev-sda")->message, "Disk health check failed: failed",
	    "health message");
	ok(active("disk-wearout-pve1-n1-dev-sda") != NULL, "wearout 5: disk-wearout");
	poll_once(&c, &s, NOW + 10, 0);
	is_int(last.n, 0, "steady: nothing written");
	snprintf(d->model, sizeof(d->model), "Samsung SSD 980 PRO");
	d->wearout = 50;
	poll_once(&c, &s, NOW + 20, 0);
	is_int(db.nalerts, 0, "Samsung 980 exempt, wearout 50: resolved");
	snprintf(d->health, sizeof(d->health), "PASSED");

	st = st_add_storage(&s);
	snprintf(st->id, sizeof(st->id), "pve1-n1-tank");
	snprintf(st->name, sizeof(st->name), "tank");
	snprintf(st->status, sizeof(st->status), "available");
	st->zfs_pool = json_tokener_parse("{\"name\":\"tank\",\"state\":\"DEGRADED\","
	    "\"readErrors\":0,\"writeErrors\":0,\"checksumErrors\":2,\"devices\":["
	    "{\"name\":\"sdb\",\"state\":\"ONLINE\",\"readErrors\":0,\"writeErrors\":0,"
	    "\"checksumErrors\":0},{\"name\":\"sdc\",\"state\":\"FAULTED\",\"readErrors\":0,"
	    "\"writeErrors\":0,\"checksumErrors\":2}]}");
	poll_once(&c, &s, NOW + 30, 0);
	is_str(active("zfs-pool-state-pve1-n1-tank") ? active("zfs-pool-state-pve1-n1-tank")->level :
	    "", "warning", "DEGRADED pool: warning");
	ok(active("zfs-pool-errors-pve1-n1-tank") != NULL, "pool errors");
	is_str(active("zfs-device-pve1-n1-tank-sdc") ? active("zfs-device-pve1-n1-tank-sdc")->level :
	    "", "critical", "FAULTED device: critical");
	ok(active("zfs-device-pve1-n1-tank-sdb") == NULL, "healthy device: none");
	is_int(db.nalerts, 3, "three ZFS alerts");
	st_instance_free(&s);
	alert_config_free(&c);
	reset();
}

static const char *
md_str(const struct alert *a, const char *key)
{
	struct json_object *v = a ? json_object_object_get(a->metadata, key) : NULL;

	return v ? json_object_get_string(v) : "";
}

/* An active alert's level, type, resource id and name, and message; then its metadata, as
 * key and text pairs up to a NULL key. */
static void
is_alert(const char *id, const char *level, const char *type, const char *resource_id,
    const char *resource_name, const char *message, const char *const *metadata)
{
	const struct alert *a = active(id);

	ok(a != NULL, "%s active", id);
	is_str(a ? a->level : "", level, "%s: level", id);
	is_str(a ? a->type : "", type, "%s: type", id);
	is_str(a ? a->resource_id : "", resource_id, "%s: resourceId", id);
	is_str(a ? a->resource_name : "", resource_name, "%s: resourceName", id);
	is_str(a ? a->message : "", message, "%s: message", id);
	for (; metadata[0] != NULL; metadata += 2)
		is_str(md_str(a, metadata[0]), metadata[1], "%s: metadata.%s", id, metadata[0]);
}

/* Our additions: ceph-health by Ceph's status, ceph-osd-down, storage switches. */
static void
test_ceph(void)
{
	struct alert_config c;
	struct st_instance s = {0};
	struct st_ceph_row *cr;
	const struct alert *a;
	const char *hid = "ceph-health-pve1-b1a5", *oid = "ceph-osd-down-pve1-b1a5";

	config(&c);
	cr = st_add_ceph_row(&s);
	snprintf(cr->id, sizeof(cr->id), "pve1-b1a5");
	snprintf(cr->fsid, sizeof(cr->fsid), "b1a5");
	snprintf(cr->health, sizeof(cr->health), "HEALTH_OK");
	cr->num_osds = cr->num_osds_up = 6;
	cr->doc = json_tokener_parse("{\"instance\":\"pve1\",\"healthMessage\":"
	    "\"OSD_NEARFULL: 1 nearfull osd(s)\"}");
	poll_once(&c, &s, NOW, 0);
	is_int(db.nalerts, 0, "HEALTH_OK, all OSDs up: nothing");
	snprintf(cr->health, sizeof(cr->health), "HEALTH_WARN");
	poll_once(&c, &s, NOW + 10, 0);
	/* HEALTH_WARN: warning, the health and the checks in the message. */
	is_alert(hid, "warning", "ceph-health", "pve1-b1a5", "Ceph (pve1)", "Ceph cluster b1a5 on "
	    "pve1 is HEALTH_WARN: OSD_NEARFULL: 1 nearfull osd(s)", (const char *const[]){"fsid",
	    "b1a5", "health", "HEALTH_WARN", "osdsUp", "6", "osdsTotal", "6", "resourceType", "ceph",
	    NULL});
	is_str(active(hid) ? active(hid)->instance : "", "pve1", "instance");
	ok(active(oid) == NULL, "all OSDs up: no ceph-osd-down");
	poll_once(&c, &s, NOW + 20, 0);
	is_int(last.n, 0, "steady: nothing written");
	snprintf(cr->health, sizeof(cr->health), "HEALTH_ERR");
	poll_once(&c, &s, NOW + 30, 0);
	is_str(active(hid) ? active(hid)->level : "", "critical", "HEALTH_ERR: critical");
	ok(last.n == 1 && last.v[0].kind == ALERT_UPDATED && last.v[0].to_critical,
	    "an update to critical");
	is_str(md_str(active(hid), "health"), "HEALTH_ERR", "metadata follows the update");
	snprintf(cr->health, sizeof(cr->health), "%s", "");
	poll_once(&c, &s, NOW + 40, 0);
	ok(last.n == 0 && active(hid) != NULL, "health not known: kept as it is");
	snprintf(cr->health, sizeof(cr->health), "HEALTH_WARN");
	cr->num_osds_up = 4;
	poll_once(&c, &s, NOW + 50, 0);
	a = active(oid);
	ok(a != NULL, "4 of 6 OSDs up: ceph-osd-down");
	is_str(a ? a->level : "", "warning", "OSDs down: warning");
	is_str(a ? a->message : "", "Ceph cluster b1a5 on pve1 has 2 of 6 OSDs down",
	    "OSD message");
	ok(a && a->value == 2, "value: OSDs down");
	is_str(active(hid) ? active(hid)->level : "", "warning", "HEALTH_WARN again: warning");
	poll_once(&c, &s, NOW + 60, 1);
	is_int(last.n, 0, "partial poll: both kept");
	cr->num_osds_up = 6;
	poll_once(&c, &s, NOW + 70, 0);
	ok(active(oid) == NULL && active(hid) != NULL, "OSDs back: ceph-osd-down resolved");
	c.overrides = calloc(1, sizeof(*c.overrides));
	c.n_overrides = 1;
	strcpy(c.overrides[0].resource_id, "pve1-b1a5");
	c.overrides[0].t.disabled = 1;
	poll_once(&c, &s, NOW + 80, 0);
	ok(active(hid) == NULL, "override disabled on the cluster id: resolved");
	c.overrides[0].t.disabled = 0;
	poll_once(&c, &s, NOW + 90, 0);
	ok(active(hid) != NULL, "override removed: raised again");
	c.disable_all_storage = 1;
	poll_once(&c, &s, NOW + 100, 0);
	ok(active(hid) == NULL, "disableAllStorage: resolved");
	c.disable_all_storage = 0;
	poll_once(&c, &s, NOW + 110, 0);
	snprintf(cr->health, sizeof(cr->health), "HEALTH_OK");
	poll_once(&c, &s, NOW + 120, 0);
	is_int(db.nalerts, 0, "HEALTH_OK: resolved");
	s.nceph = 0;
	snprintf(cr->health, sizeof(cr->health), "HEALTH_ERR");
	poll_once(&c, &s, NOW + 130, 0);
	is_int(db.nalerts, 0, "no Ceph cluster: nothing");
	s.nceph = 1;
	st_instance_free(&s);
	alert_config_free(&c);
	reset();
}

static struct st_repl_row *
add_repl(struct st_instance *s, const char *job, int64_t guest, int fails, const char *error)
{
	struct st_repl_row *j = st_add_repl_row(s);

	snprintf(j->id, sizeof(j->id), "pve1-%s", job);
	snprintf(j->job_id, sizeof(j->job_id), "%s", job);
	snprintf(j->source, sizeof(j->source), "n1");
	snprintf(j->target, sizeof(j->target), "n2");
	snprintf(j->error, sizeof(j->error), "%s", error);
	j->guest_id = guest;
	j->fail_count = fails;
	j->last_sync = NOW - 3600;
	j->doc = json_tokener_parse("{\"instance\":\"pve1\",\"guestName\":\"web\","
	    "\"enabled\":true}");
	return j;
}

/* Our addition: a replication job whose last run failed. */
static void
test_replication(void)
{
	struct alert_config c;
	struct st_instance s = {0};
	struct st_repl_row *j;
	struct st_guest *g;
	const struct alert *a;
	const char *id = "replication-pve1-101-0";

	config(&c);
	g = add_guest(&s, 101, "web", "running", 0.1);
	j = add_repl(&s, "101-0", 101, 0, "");
	poll_once(&c, &s, NOW, 0);
	is_int(db.nalerts, 0, "a job that runs: nothing");
	j->fail_count = 1;
	snprintf(j->error, sizeof(j->error), "command 'zfs send' failed: exit code 255");
	poll_once(&c, &s, NOW + 10, 0);
	/* One failure: warning, the guest, the nodes and the error in the message. */
	is_alert(id, "warning", "replication", "pve1-101-0", "Replication 101-0 of 'web' (101)",
	    "Replication job 101-0 of 'web' (101) from n1 to n2 failed 1 time: command 'zfs send' "
	    "failed: exit code 255", (const char *const[]){"jobId", "101-0", "guestId", "101",
	    "failCount", "1", "targetNode", "n2", "lastSyncTime", "2025-12-31T23:00:00Z", NULL});
	is_str(active(id) ? active(id)->node : "", "n1", "node: the source");
	j->fail_count = 2;
	poll_once(&c, &s, NOW + 20, 0);
	is_str(active(id) ? active(id)->level : "", "warning", "two failures: warning");
	j->fail_count = 3;
	poll_once(&c, &s, NOW + 30, 0);
	is_str(active(id) ? active(id)->level : "", "critical", "three failures: critical");
	ok(last.n == 1 && last.v[0].to_critical, "an update to critical");
	is_str(md_str(active(id), "failCount"), "3", "metadata follows the update");
	poll_once(&c, &s, NOW + 40, 1);
	is_int(last.n, 0, "partial poll: kept");
	j->fail_count = 0;
	j->error[0] = '\0';
	poll_once(&c, &s, NOW + 50, 0);
	ok(active(id) == NULL, "a successful run: resolved");
	memset(j->error, 'x', sizeof(j->error) - 1);	/* 511 bytes */
	j->error[sizeof(j->error) - 1] = '\0';
	poll_once(&c, &s, NOW + 60, 0);
	a = active(id);
	is_str(a ? a->level : "", "warning", "an error text without a count: warning");
	ok(a && strlen(md_str(a, "error")) == 200, "error text bounded to 200 bytes");
	ok(a && strstr(a->message, "from n1 to n2 failed: xxx") != NULL, "no count in the message");
	c.overrides = calloc(1, sizeof(*c.overrides));
	c.n_overrides = 1;
	strcpy(c.overrides[0].resource_id, "pve1:n1:101");
	c.overrides[0].t.disabled = 1;
	poll_once(&c, &s, NOW + 70, 0);
	ok(active(id) == NULL, "the guest's override disabled: resolved");
	strcpy(c.overrides[0].resource_id, "pve1-101-0");
	poll_once(&c, &s, NOW + 80, 0);
	ok(active(id) == NULL, "the job's override disabled: none");
	c.overrides[0].t.disabled = 0;
	g->tags = "pulse-no-alerts";
	poll_once(&c, &s, NOW + 90, 0);
	ok(active(id) == NULL, "the guest's pulse-no-alerts tag: none");
	g->tags = NULL;
	c.disable_all_guests = 1;
	poll_once(&c, &s, NOW + 100, 0);
	ok(active(id) == NULL, "disableAllGuests: none");
	c.disable_all_guests = 0;
	poll_once(&c, &s, NOW + 110, 0);
	ok(active(id) != NULL, "switches off: raised");
	json_object_object_add(j->doc, "enabled", json_object_new_boolean(0));
	poll_once(&c, &s, NOW + 120, 0);
	ok(active(id) == NULL, "a disabled job: resolved");
	json_object_object_add(j->doc, "enabled", json_object_new_boolean(1));
	poll_once(&c, &s, NOW + 130, 0);
	ok(active(id) != NULL, "enabled again: raised");
	s.nrepl = 0;
	poll_once(&c, &s, NOW + 140, 0);
	ok(active(id) == NULL, "the job gone: resolved");
	s.nrepl = 1;
	j->guest_id = 0;
	json_object_object_del(j->doc, "guestName");
	poll_once(&c, &s, NOW + 150, 0);
	ok(active(id) && strstr(active(id)->message, "of guest 0 from") != NULL,
	    "no guest known: named by its id");
	st_instance_free(&s);
	alert_config_free(&c);
	reset();
}

static void
test_snapshots_backups(void)
{
	struct alert_config c;
	struct st_instance s = {0};
	struct st_backups b = {0};
	struct st_snapshot *sn;
	struct st_storage_backup *sb;
	struct alert_eval e;
	const struct alert *a;

	config(&c);
	add_guest(&s, 101, "web", "running", 0.1);
	sb = st_add_storage_backup(&b);
	sb->storage = "local";
	snprintf(sb->node, sizeof(sb->node), "n1");
	sb->instance = "pve1";
	snprintf(sb->type, sizeof(sb->type), "qemu");
	sb->volid = "local:backup/vzdump-qemu-101.vma.zst";
	sb->vmid = 101;
	sb->ctime = NOW - 10 * 86400;
	sn = st_add_snapshot(&b);
	sn->id = "pve1-n1-101-before";
	sn->name = "before";
	snprintf(sn->node, sizeof(sn->node), "n1");
	sn->instance = "pve1";
	sn->vmid = 101;
	sn->time = NOW - 40 * 86400;
	for (int pass = 0; pass < 2; pass++) {
		alert_changes_free(&last);
		alert_eval_begin(&e, &c, &db, NOW + pass, &last);
		alert_eval_pve(&e, &s);
		alert_eval_backups(&e, &s, &b, NULL);
		alert_eval_finish(&e);
		db_apply(&last);
		if (pass == 0)
			is_int(db.nalerts, 0, "snapshot and backup alerting off by default");
		c.snapshot.enabled = c.backup.enabled = 1;
	}
	a = active("snapshot-age-pve1-n1-101-before");
	ok(a != NULL, "40-day snapshot: snapshot-age");
	if (a) {
		is_str(a->level, "warning", "40 days >= 30: warning");
		is_str(a->resource_name, "web snapshot 'before'", "resourceName");
		is_str(a->message, "VM snapshot 'before' for web is 40.0 days old (threshold 30 days) "
		    "on n1", "snapshot message");
		ok(a->start_time == NOW - 10 * 86400, "startTime: snapshot time + threshold");
	}
	a = active("backup-age-pve1-n1-101");
	ok(a != NULL, "10-day backup: backup-age");
	ok(a && strcmp(a->level, "warning") == 0 && a->threshold == 7, "warning at 7 days");
	ok(a && strcmp(a->resource_id, "pve1:n1:101") == 0, "resourceId is the guest");
	is_str(a ? a->message : "", "web backup via storage local on n1 is 10.0 days old "
	    "(threshold: 7 days)", "message names the storage and its node");
	if (a) {
		is_str(json_object_get_string(json_object_object_get(a->metadata, "source")), "PVE",
		    "metadata.source");
		is_str(json_object_get_string(json_object_object_get(a->metadata, "storage")),
		    "local", "metadata.storage");
		is_str(json_object_get_string(json_object_object_get(a->metadata, "lastBackupTime")),
		    "2025-12-22T00:00:00Z", "metadata.lastBackupTime");
		is_int(json_object_get_int(json_object_object_get(a->metadata, "thresholdDays")), 7,
		    "metadata.thresholdDays");
		ok(json_object_object_get(a->metadata, "datastore") == NULL, "no datastore");
	}
	sb->ctime = NOW;
	sn->time = NOW - 50 * 86400;
	alert_changes_free(&last);
	alert_eval_begin(&e, &c, &db, NOW + 5, &last);
	alert_eval_pve(&e, &s);
	alert_eval_backups(&e, &s, &b, NULL);
	alert_eval_finish(&e);
	db_apply(&last);
	ok(active("backup-age-pve1-n1-101") == NULL, "fresh backup: resolved");
	is_str(active("snapshot-age-pve1-n1-101-before")->level, "critical", "50 days: critical");
	st_backups_free(&b);
	st_instance_free(&s);
	alert_config_free(&c);
	reset();
}

/* Rule i of c, enabled, with n empty filters and a cpu threshold. */
static struct alert_rule *
rule_at(struct alert_config *c, int i, int priority, const char *op, int n, double trigger,
    double clear)
{
	struct alert_rule *rl = &c->rules[i];

	rl->enabled = 1;
	rl->priority = priority;
	strcpy(rl->logical_operator, op);
	rl->filters = calloc((size_t)n, sizeof(*rl->filters));
	rl->n_filters = n;
	rl->t.metric[ALERT_CPU] = (struct alert_threshold){1, trigger, clear};
	return rl;
}

/* A guest's newest backup across its instance's storage and the Backup Servers, matched by
 * VMID; what no guest claims under its own key (§3.6). */
static void
test_backup_sources(void)
{
	struct alert_config c;
	struct st_instance s = {0};
	struct st_backups b = {0};
	struct st_storage_backup *sb;
	struct alert_backup_list pbs = {0}, pmg = {0};
	struct alert_backup_item *it;
	struct alert_eval e;
	const struct alert *a;
	const int64_t vmids[] = {102, 101};

	config(&c);
	c.backup.enabled = 1;
	add_guest(&s, 101, "web", "running", 0.1);
	add_guest(&s, 102, "db", "running", 0.1);
	sb = st_add_storage_backup(&b);
	sb->storage = "local";
	snprintf(sb->node, sizeof(sb->node), "n1");
	sb->vmid = 101;
	sb->ctime = NOW - 20 * 86400;
	/* 101: a newer PBS backup wins over the storage one; 102: only on PBS, twice. */
	it = alert_backup_list_add(&pbs);
	snprintf(it->server, sizeof(it->server), "pbs1");
	snprintf(it->place, sizeof(it->place), "store1");
	snprintf(it->type, sizeof(it->type), "vm");
	snprintf(it->id, sizeof(it->id), "101");
	it->time = NOW - 8 * 86400;
	it = alert_backup_list_add(&pbs);
	snprintf(it->server, sizeof(it->server), "pbs1");
	snprintf(it->place, sizeof(it->place), "store2");
	snprintf(it->type, sizeof(it->type), "ct");
	snprintf(it->id, sizeof(it->id), "102");
	it->time = NOW - 3 * 86400;
	it = alert_backup_list_add(&pbs);
	*it = pbs.v[1];
	it->time = NOW - 16 * 86400;
	snprintf(it->place, sizeof(it->place), "store1");
	/* No guest: VMID 0 host backup (ignored), a host and a vm 999 of their own. */
	it = alert_backup_list_add(&pbs);
	snprintf(it->server, sizeof(it->server), "pbs1");
	snprintf(it->place, sizeof(it->place), "store1");
	snprintf(it->type, sizeof(it->type), "host");
	snprintf(it->id, sizeof(it->id), "0");
	it->time = NOW - 40 * 86400;
	it = alert_backup_list_add(&pbs);
	*it = pbs.v[3];
	snprintf(it->id, sizeof(it->id), "fw1");
	it = alert_backup_list_add(&pbs);
	*it = pbs.v[0];
	snprintf(it->id, sizeof(it->id), "999");
	it->time = NOW - 9 * 86400;

	alert_eval_begin(&e, &c, &db, NOW, &last);
	alert_eval_backups(&e, &s, &b, &pbs);
	alert_eval_finish(&e);
	db_apply(&last);
	a = active("backup-age-pve1-n1-101");
	ok(a != NULL, "101: backup-age");
	is_str(a ? a->message : "", "web backup via PBS datastore store1 on pbs1 is 8.0 days old "
	    "(threshold: 7 days)", "101: the newer PBS backup is the record");
	if (a) {
		is_str(json_object_get_string(json_object_object_get(a->metadata, "source")), "PBS",
		    "metadata.source PBS");
		is_str(json_object_get_string(json_object_object_get(a->metadata, "datastore")),
		    "store1", "metadata.datastore");
		is_str(json_object_get_string(json_object_object_get(a->metadata, "backupType")),
		    "vm", "metadata.backupType");
		ok(json_object_object_get(a->metadata, "storage") == NULL, "no storage");
	}
	ok(active("backup-age-pve1-n1-102") == NULL, "102: its newest PBS backup is 3 days old");
	is_int(db.nalerts, 1, "the PVE evaluation alerts for its guests only");

	/* The Backup Server's own evaluation: what no guest claims. */
	reset();
	alert_eval_begin(&e, &c, &db, NOW, &last);
	alert_eval_pbs_backups(&e, &pbs, vmids, 2);
	alert_eval_finish(&e);
	db_apply(&last);
	a = active("backup-age-pbs-pbs1-host-fw1");
	ok(a != NULL, "a host backup under pbs:<instance>:host:<id>");
	is_str(a ? a->level : "", "critical", "40 days: critical");
	is_str(a ? a->message : "", "host/fw1 backup via PBS datastore store1 on pbs1 is 40.0 days "
	    "old (threshold: 14 days)", "host backup message");
	is_str(a ? a->resource_id : "", "pbs-pbs1-host-fw1", "resourceId: the sanitised key");
	ok(active("backup-age-pbs-pbs1-vm-999") != NULL, "vm 999 (no such guest): its own key");
	ok(active("backup-age-pbs-pbs1-host-0") == NULL, "VMID 0: ignored");
	ok(active("backup-age-pbs-pbs1-vm-101") == NULL && active("backup-age-pbs-pbs1-ct-102") ==
	    NULL, "guests' backups: not here");
	is_int(db.nalerts, 2, "two unclaimed records");
	alert_eval_begin(&e, &c, &db, NOW + 1, &last);
	alert_eval_pbs_backups(&e, &pbs, NULL, 0);
	alert_eval_finish(&e);
	db_apply(&last);
	ok(active("backup-age-pbs-pbs1-vm-101") != NULL, "no guests known: vm 101 unclaimed");
	ok(active("backup-age-pbs-pbs1-ct-102") == NULL,
	    "ct 102: the newest of its key across datastores (3 days) counts");

	/* A Mail Gateway's backups, newest per node. */
	reset();
	it = alert_backup_list_add(&pmg);
	snprintf(it->server, sizeof(it->server), "mail1");
	snprintf(it->place, sizeof(it->place), "pmg-a");
	snprintf(it->id, sizeof(it->id), "pmg-backup_2025_12_01.tgz");
	it->time = NOW - 31 * 86400;
	it = alert_backup_list_add(&pmg);
	*it = pmg.v[0];
	snprintf(it->id, sizeof(it->id), "pmg-backup_2025_12_20.tgz");
	it->time = NOW - 12 * 86400;
	alert_eval_begin(&e, &c, &db, NOW, &last);
	alert_eval_pmg_backups(&e, &pmg);
	alert_eval_finish(&e);
	db_apply(&last);
	a = active("backup-age-pmg-mail1-pmg-a");
	ok(a != NULL, "PMG: pmg:<instance>:<node>");
	is_str(a ? a->message : "", "pmg-a backup via PMG node pmg-a is 12.0 days old (threshold: "
	    "7 days)", "PMG: the newest file counts");
	if (a)
		is_str(json_object_get_string(json_object_object_get(a->metadata, "filename")),
		    "pmg-backup_2025_12_20.tgz", "metadata.filename");
	/* Disabled: resolved. */
	c.backup.enabled = 0;
	alert_eval_begin(&e, &c, &db, NOW + 1, &last);
	alert_eval_pmg_backups(&e, &pmg);
	alert_eval_finish(&e);
	db_apply(&last);
	is_int(db.nalerts, 0, "backup alerts off: resolved");
	alert_backup_list_free(&pbs);
	alert_backup_list_free(&pmg);
	st_backups_free(&b);
	st_instance_free(&s);
	alert_config_free(&c);
	reset();
}

static void
test_rules(void)
{
	struct alert_config c;
	struct st_instance s = {0};
	struct st_guest *g;
	struct alert_rule *rl;

	config(&c);
	g = add_guest(&s, 101, "web-1", "running", 0.85);
	c.rules = calloc(2, sizeof(*c.rules));
	c.n_rules = 2;
	rl = rule_at(&c, 0, 1, "AND", 2, 90, 0);
	strcpy(rl->filters[0].type, "text");
	strcpy(rl->filters[0].field, "name");
	strcpy(rl->filters[0].value_json, "\"WEB\"");
	strcpy(rl->filters[1].type, "metric");
	strcpy(rl->filters[1].field, "cpu");
	strcpy(rl->filters[1].op, ">");
	strcpy(rl->filters[1].value_json, "50");
	poll_once(&c, &s, NOW, 0);
	ok(active("pve1:n1:101-cpu") == NULL, "rule (name web, cpu > 50): trigger 90, 85 under it");
	g->cpu = 0.91;
	poll_once(&c, &s, NOW + 10, 0);
	ok(active("pve1:n1:101-cpu") != NULL, "91 over the rule's 90");
	g->cpu = 0.86;
	poll_once(&c, &s, NOW + 20, 0);
	ok(active("pve1:n1:101-cpu") != NULL, "rule clear 0 means trigger - 5: 86 keeps it");
	g->cpu = 0.85;
	poll_once(&c, &s, NOW + 25, 0);
	ok(active("pve1:n1:101-cpu") == NULL, "85: resolved");
	/* A second rule of higher priority, OR, raw text. */
	rl = rule_at(&c, 1, 5, "OR", 1, 50, 40);
	strcpy(rl->filters[0].type, "raw");
	strcpy(rl->filters[0].raw_text, "n1");
	poll_once(&c, &s, NOW + 30, 0);
	ok(active("pve1:n1:101-cpu") != NULL, "higher-priority rule (raw n1): trigger 50");
	rl->enabled = 0;
	poll_once(&c, &s, NOW + 40, 0);
	ok(active("pve1:n1:101-cpu") == NULL, "disabled rule: back to the first");
	st_instance_free(&s);
	for (int i = 0; i < c.n_rules; i++)
		free(c.rules[i].filters);
	free(c.rules);
	c.rules = NULL;
	c.n_rules = 0;
	alert_config_free(&c);
	reset();
}

/* §3.2b: a crossing soon after a resolved alert, with a value close to it, is held back. */
static void
test_suppression(void)
{
	struct alert_config c;
	struct st_instance s = {0};
	struct st_node *n;
	const char *id = "pve1-n1-cpu";

	config(&c);		/* minimumDelta 2 %, suppressionWindow 5 minutes */
	n = add_node(&s, "n1", 0.85, 10);
	poll_once(&c, &s, NOW, 0);
	ok(active(id) != NULL, "raised at 85");
	n->cpu = 0.10;
	poll_once(&c, &s, NOW + 10, 0);
	ok(active(id) == NULL, "resolved");
	is_int(db.nrecent, 1, "a recent record");
	n->cpu = 0.86;
	poll_once(&c, &s, NOW + 20, 0);
	is_int(count_kind(ALERT_RAISED), 0, "86 within 5 min of an 85 alert: not raised");
	is_int(db.npending, 1, "suppression written as a pending entry");
	ok(db.npending == 1 && db.pending[0].count == ALERT_PENDING_SUPPRESSED &&
	    strcmp(db.pending[0].id, id) == 0, "of the alert's id, count ALERT_PENDING_SUPPRESSED");
	n->cpu = 0.99;
	poll_once(&c, &s, NOW + 30, 0);
	is_int(last.n, 0, "suppressed: even a large value is not looked at");
	n->cpu = 0.10;
	poll_once(&c, &s, NOW + 40, 0);
	is_int(last.n, 0, "suppressed: below clear, the suppression stays");
	n->cpu = 0.86;
	poll_once(&c, &s, NOW + 20 + 300, 0);
	is_int(count_kind(ALERT_RAISED), 1, "suppression over (5 min), recent too old: raised");
	is_int(count_kind(ALERT_PENDING_DELETE), 1, "the expired suppression dropped");
	is_int(db.npending, 0, "nothing pending");
	/* A large delta within the window raises. */
	n->cpu = 0.10;
	poll_once(&c, &s, NOW + 330, 0);
	n->cpu = 0.95;
	poll_once(&c, &s, NOW + 340, 0);
	is_int(count_kind(ALERT_RAISED), 1, "95 against 86 (delta 9 >= 2): raised");
	/* An active alert under a suppression (another worker's raise) is neither updated
	 * nor resolved while it lasts. */
	{
		struct alert_pending *p = alert_prev_add_pending(&db);
		snprintf(p->id, sizeof(p->id), "%s", id);
		p->first_seen = NOW + 340;
		p->count = ALERT_PENDING_SUPPRESSED;
		alert_prev_index(&db);
	}
	n->cpu = 0.10;
	poll_once(&c, &s, NOW + 350, 0);
	is_int(last.n, 0, "suppressed: the active alert does not resolve");
	n->cpu = 0.85;
	poll_once(&c, &s, NOW + 360, 0);
	is_int(last.n, 0, "suppressed: a level change is not written");
	ok(active(id) != NULL && active(id)->value == 95, "suppressed: not updated either");
	n->cpu = 0.10;
	poll_once(&c, &s, NOW + 340 + 300, 0);
	ok(active(id) == NULL, "deadline passed: resolves");
	is_int(db.npending, 0, "and the suppression is gone");
	/* A suppression that ends while a time threshold applies: the delay starts afresh. */
	reset();
	c.delays[0].seconds = 60;
	strcpy(c.delays[0].type, "node");
	c.n_delays = 1;
	n->cpu = 0.85;
	poll_once(&c, &s, NOW, 0);
	poll_once(&c, &s, NOW + 60, 0);
	ok(active(id) != NULL, "delay: raised after a minute");
	n->cpu = 0.10;
	poll_once(&c, &s, NOW + 70, 0);
	n->cpu = 0.85;
	poll_once(&c, &s, NOW + 80, 0);
	ok(db.npending == 1 && db.pending[0].count == 1, "delay running again");
	poll_once(&c, &s, NOW + 140, 0);
	is_int(count_kind(ALERT_RAISED), 0, "delay over, same value as the recent alert: suppressed");
	ok(db.npending == 1 && db.pending[0].count == ALERT_PENDING_SUPPRESSED, "suppression row");
	poll_once(&c, &s, NOW + 140 + 300, 0);
	ok(db.npending == 1 && db.pending[0].count == 1 && db.pending[0].first_seen == NOW + 440,
	    "suppression over: the delay starts afresh on the same row");
	poll_once(&c, &s, NOW + 500, 0);
	ok(active(id) != NULL, "and raises after it");
	/* A window of one minute is honoured. */
	reset();
	c.n_delays = 0;
	c.suppression_window = 1;
	n->cpu = 0.85;
	poll_once(&c, &s, NOW, 0);
	n->cpu = 0.10;
	poll_once(&c, &s, NOW + 10, 0);
	n->cpu = 0.85;
	poll_once(&c, &s, NOW + 61, 0);
	is_int(count_kind(ALERT_RAISED), 1, "recent started 61 s ago, window 1 min: raised");
	st_instance_free(&s);
	alert_config_free(&c);
	reset();
}

static void
test_large(void)
{
	struct alert_config c;
	struct st_instance s = {0};
	clock_t t0;
	double secs;

	config(&c);
	for (int i = 0; i < 5000; i++)
		add_guest(&s, 100 + i, "g", "running", i % 25 == 0 ? 0.95 : 0.1);
	poll_once(&c, &s, NOW, 0);
	is_int(db.nalerts, 200, "5,000 guests: 200 alerts");
	t0 = clock();
	for (int k = 0; k < 10; k++)
		poll_once(&c, &s, NOW + 10 + k, 0);
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	is_int(last.n, 0, "steady: nothing to write");
	printf("# 10 evaluations of 5,000 guests: %.3f s\n", secs);
	st_instance_free(&s);
	alert_config_free(&c);
	reset();
}

int
main(void)
{
	test_hysteresis();
	test_delay();
	test_connectivity();
	test_guests();
	test_storage_and_legacy();
	test_disabled_and_partial();
	test_servers();
	test_disks_zfs();
	test_ceph();
	test_replication();
	test_snapshots_backups();
	test_backup_sources();
	test_rules();
	test_suppression();
	test_large();
	return done_testing();
}
