/* alert_agents.c: the host agent, Docker host and Kubernetes cluster checks
 * (alerts-notifications.md §3.4, §3.5, §3.7; Kubernetes is our addition). */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_agents.h"
#include "alert_engine.h"
#include "jsonwrite.h"

void
agent_host_free(struct agent_host *h)
{
	free(h->disks);
	free(h->smart);
	free(h->raid);
	h->disks = NULL;
	h->smart = NULL;
	h->raid = NULL;
	h->ndisks = h->nsmart = h->nraid = 0;
}

void
agent_docker_free(struct agent_docker *d)
{
	free(d->containers);
	free(d->services);
	d->containers = NULL;
	d->services = NULL;
	d->ncontainers = d->nservices = 0;
}

void
agent_kubernetes_free(struct agent_kubernetes *k)
{
	free(k->deployments);
	k->deployments = NULL;
	k->ndeployments = 0;
}

int
alert_agent_offline_window(enum agent_kind kind, int interval_seconds)
{
	int host = kind == AGENT_HOST;
	long w;

	if (interval_seconds <= 0)
		interval_seconds = host ? 60 : 30;
	w = (long)interval_seconds * (host ? 6 : 4);
	if (w < (host ? 60 : 30))
		w = host ? 60 : 30;
	if (w > 600)
		w = 600;
	return (int)w;
}

/* --- small helpers ---------------------------------------------------------------------- */

void
alert_agent_raid_key(const char *device, char *out, size_t len)
{
	char dev[128];
	int any = 0;

	if (strncmp(device, "/dev/", 5) == 0)
		device += 5;
	snprintf(dev, sizeof(dev), "%s", device);
	for (char *p = dev; *p; p++) {
		if (*p == '.')
			*p = '-';	/* alert_key keeps dots; this sanitiser does not */
		any |= isalnum((unsigned char)*p) != 0;
	}
	if (any)
		alert_key(dev, out, len);
	else
		snprintf(out, len, "unknown");
}

int
alert_agent_raid_ignored(const struct agent_host *h, const struct agent_raid *r)
{
	const char *dev = strncmp(r->device, "/dev/", 5) == 0 ? r->device + 5 : r->device;
	const char *fields[] = {h->platform, h->os_name, h->os_version, h->display_name,
	    h->hostname};

	if (strcmp(dev, "md0") != 0 && strcmp(dev, "md1") != 0)
		return 0;
	for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++)
		if (strcasestr(fields[i], "synology") || strcasestr(fields[i], "dsm"))
			return 1;
	return 0;
}

/* hostId in the metadata of an offline alert just raised. */
static void
set_host_id(struct alert_eval *e, int before, const char *id)
{
	struct json_object *md = alert_eval_metadata(e, before, 0);

	if (md)
		jsonwrite_str(md, "hostId", id);
}

static int
by_pending_id(const void *key, const void *el)
{
	return strcmp(key, ((const struct alert_pending *)el)->id);
}

/* The previous pending entry of id without keeping it (prev is sorted by id). */
static const struct alert_pending *
pending_peek(const struct alert_eval *e, const char *id)
{
	if (e->prev->npending == 0)
		return NULL;
	return bsearch(id, e->prev->pending, (size_t)e->prev->npending,
	    sizeof(*e->prev->pending), by_pending_id);
}

/* Whether the alert id is active after this evaluation so far: raised now, or active
 * before. */
static int
alert_now_active(const struct alert_eval *e, const char *id)
{
	for (int i = 0; i < e->out->n; i++)
		if (e->out->v[i].kind == ALERT_RAISED && strcmp(e->out->v[i].alert.id, id) == 0)
			return 1;
	return alert_eval_active(e, id) != NULL;
}

/* An agent that is not reporting: nothing is measured, so every previous alert and pending
 * entry stays but the offline check's own id, which that check keeps when it runs (when a
 * switch turned it off, its alert resolves). */
static void
keep_all_but(struct alert_eval *e, const char *id)
{
	for (int i = 0; i < e->prev->nalerts; i++)
		if (strcmp(e->prev->alerts[i].id, id) != 0)
			alert_eval_keep_prefix(e, e->prev->alerts[i].id);
	for (int i = 0; i < e->prev->npending; i++)
		if (strcmp(e->prev->pending[i].id, id) != 0)
			alert_eval_keep_prefix(e, e->prev->pending[i].id);
}

/* A state alert that goes offline after 3 evaluations (§3.5); message names it. */
static void
eval_offline(struct alert_eval *e, const struct alert_resource *r, const char *id,
    const char *type, int offline, const char *what)
{
	char msg[400];

	snprintf(msg, sizeof(msg), "%s '%s' is offline", what, r->name);
	alert_eval_state(e, r, id, type, offline, 3, "critical", msg);
}

/* --- host agent ------------------------------------------------------------------------- */

static const char *
host_name(const struct agent_host *h)
{
	return h->display_name[0] ? h->display_name : h->hostname[0] ? h->hostname : h->id;
}

static void
eval_host_disk(struct alert_eval *e, const struct agent_host *h, const struct agent_disk *d,
    const struct alert_thresholds *o)
{
	const char *where = d->mountpoint[0] ? d->mountpoint : d->device;
	char key[160], rid[320], name[400];
	double usage = d->usage;
	struct alert_resource r = {rid, name, h->hostname, h->platform, "Host Disk", "host disk",
	    "Host Disk", 0};
	int before = e->out->n;
	struct json_object *md;

	if (d->total <= 0)
		return;
	if (!(usage > 0))
		usage = (double)d->used / (double)d->total * 100.0;
	alert_key(where, key, sizeof(key));
	snprintf(rid, sizeof(rid), "host:%s/disk:%s", h->id, key);
	snprintf(name, sizeof(name), "%s (%s)", host_name(h), where);
	alert_eval_metric(e, &r, "disk", usage, alert_effective(&e->cfg->host, o, ALERT_DISK));
	md = alert_eval_metadata(e, before, 1);
	if (md == NULL)
		return;
	jsonwrite_str(md, "hostId", h->id);
	jsonwrite_str(md, "mountpoint", d->mountpoint);
	jsonwrite_str(md, "device", d->device);
	jsonwrite_str(md, "filesystemType", d->type);
	jsonwrite_int(md, "totalBytes", d->total);
	jsonwrite_int(md, "usedBytes", d->used);
}

static void
eval_host_smart(struct alert_eval *e, const struct agent_host *h, const struct agent_smart *s,
    const struct alert_thresholds *o)
{
	char key[160], rid[320], name[400];
	struct alert_resource r = {rid, name, h->hostname, h->platform, "Host Disk", "host disk",
	    "Host Disk", 0};
	int before = e->out->n;
	struct json_object *md;

	if (s->temperature <= 0 || s->standby)
		return;		/* unknown or asleep: its alert resolves */
	alert_key(s->device, key, sizeof(key));
	snprintf(rid, sizeof(rid), "host:%s/disk_temp:%s", h->id, key);
	snprintf(name, sizeof(name), "%s (%s)", host_name(h), s->device);
	alert_eval_metric(e, &r, "diskTemperature", s->temperature,
	    alert_effective(&e->cfg->host, o, ALERT_DISK_TEMPERATURE));
	md = alert_eval_metadata(e, before, 1);
	if (md == NULL)
		return;
	jsonwrite_str(md, "hostId", h->id);
	jsonwrite_str(md, "device", s->device);
	jsonwrite_str(md, "model", s->model);
}

static void
eval_host_raid(struct alert_eval *e, const struct agent_host *h, const struct agent_raid *a)
{
	char key[80], id[320], name[400], msg[600];
	struct alert_resource r = {id, name, h->hostname, h->platform, "RAID", "host", "Host RAID",
	    0};
	int degraded = strcasestr(a->state, "degraded") || a->failed_devices > 0;
	int rebuilding = strcasestr(a->state, "recover") || strcasestr(a->state, "resync") ||
	    a->rebuild_percent > 0;
	int before = e->out->n;
	struct json_object *md;

	if (alert_agent_raid_ignored(h, a))
		return;
	alert_agent_raid_key(a->device, key, sizeof(key));
	snprintf(id, sizeof(id), "host-%s-raid-%s", h->id, key);
	snprintf(name, sizeof(name), "%s - %s (%s)", host_name(h), a->device, a->level);
	if (degraded) {
		snprintf(msg, sizeof(msg), "RAID array %s (%s) on %s is degraded (%d failed "
		    "device%s, state: %s)", a->device, a->level, host_name(h), a->failed_devices,
		    a->failed_devices == 1 ? "" : "s", a->state);
		alert_eval_level(e, &r, id, "raid", "critical", a->failed_devices, 0, msg);
	} else if (rebuilding) {
		snprintf(msg, sizeof(msg), "RAID array %s (%s) on %s is rebuilding (%.1f%% done)",
		    a->device, a->level, host_name(h), a->rebuild_percent);
		alert_eval_level(e, &r, id, "raid", "warning", a->rebuild_percent, 100, msg);
	}
	md = alert_eval_metadata(e, before, 0);
	if (md == NULL)
		return;
	jsonwrite_str(md, "hostId", h->id);
	jsonwrite_str(md, "raidDevice", a->device);
	jsonwrite_str(md, "raidLevel", a->level);
	jsonwrite_str(md, "raidState", a->state);
	jsonwrite_int(md, "raidFailedDevices", a->failed_devices);
	if (a->rebuild_percent > 0)
		jsonwrite_num(md, "raidRebuildPercent", a->rebuild_percent);
}

void
alert_eval_host(struct alert_eval *e, const struct agent_host *h)
{
	const struct alert_config *c = e->cfg;
	const struct alert_thresholds *o = alert_override(c, h->id);
	char rid[160], id[200];
	struct alert_resource r = {rid, host_name(h), h->hostname, h->platform, "Host", "host",
	    "Host", 0};
	int before = e->out->n;

	if (!c->enabled) {
		e->partial = 1;
		return;
	}
	snprintf(rid, sizeof(rid), "host:%s", h->id);
	snprintf(id, sizeof(id), "host-offline-%s", h->id);
	if (!c->disable_all_hosts_offline && !(o && (o->disabled || o->disable_connectivity))) {
		eval_offline(e, &r, id, "host-offline", !h->online, "Host");
		set_host_id(e, before, h->id);
	}
	if (!h->online) {
		keep_all_but(e, id);
		return;
	}
	if (c->disable_all_hosts || (o && o->disabled))
		return;
	alert_eval_metric(e, &r, "cpu", h->cpu, alert_effective(&c->host, o, ALERT_CPU));
	alert_eval_metric(e, &r, "memory", h->memory, alert_effective(&c->host, o, ALERT_MEMORY));
	for (int i = 0; i < h->ndisks; i++)
		eval_host_disk(e, h, &h->disks[i], o);
	for (int i = 0; i < h->nsmart; i++)
		eval_host_smart(e, h, &h->smart[i], o);
	for (int i = 0; i < h->nraid; i++)
		eval_host_raid(e, h, &h->raid[i]);
}

/* --- Docker ------------------------------------------------------------------------------ */

struct docker_ctx {
	const struct agent_docker *d;
	char name[160], instance[200];
	struct alert_thresholds defaults;	/* dockerDefaults cpu, memory, disk */
};

static int
ignored_container(const struct alert_config *c, const char *name, const char *id)
{
	for (int i = 0; i < c->docker_ignored_prefixes.n; i++) {
		const char *p = c->docker_ignored_prefixes.v[i];
		size_t n = strlen(p);
		if (n > 0 && (strncasecmp(name, p, n) == 0 || strncasecmp(id, p, n) == 0))
			return 1;
	}
	return 0;
}

static void
container_metadata(struct json_object *md, const struct docker_ctx *x,
    const struct agent_container *ct, const char *name)
{
	if (md == NULL)
		return;
	jsonwrite_str(md, "hostId", x->d->id);
	jsonwrite_str(md, "hostName", x->name);
	jsonwrite_str(md, "containerId", ct->id);
	jsonwrite_str(md, "containerName", name);
	jsonwrite_str(md, "image", ct->image);
	jsonwrite_str(md, "state", ct->state);
	jsonwrite_str(md, "status", ct->status);
}

static int
severity_is_critical(const char *s)
{
	return strcasecmp(s, "critical") == 0;
}

static void
eval_container_state(struct alert_eval *e, const struct docker_ctx *x,
    const struct alert_resource *r, const struct agent_container *ct,
    const struct alert_thresholds *o)
{
	const struct alert_docker *dc = &e->cfg->docker;
	int disable = dc->state_disable_connectivity;
	const char *sev = dc->state_powered_off_severity;
	char id[320], msg[600];
	int before = e->out->n;

	if (o) {		/* an override decides both ways */
		disable = o->disable_connectivity;
		if (o->powered_off_severity[0])
			sev = o->powered_off_severity;
	}
	if (disable)
		return;
	snprintf(id, sizeof(id), "docker-container-state-%s", r->id);
	snprintf(msg, sizeof(msg), "Docker container '%s' is %s", r->name,
	    ct->status[0] ? ct->status : ct->state);
	alert_eval_state(e, r, id, "docker-container-state", 1, 2,
	    severity_is_critical(sev) ? "critical" : "warning", msg);
	container_metadata(alert_eval_metadata(e, before, 0), x, ct, r->name);
}

static void
eval_container_health(struct alert_eval *e, const struct docker_ctx *x,
    const struct alert_resource *r, const struct agent_container *ct)
{
	char id[320], msg[600];
	int before = e->out->n;
	struct json_object *md;

	if (!ct->health[0] || strcasecmp(ct->health, "none") == 0 ||
	    strcasecmp(ct->health, "healthy") == 0 || strcasecmp(ct->health, "starting") == 0)
		return;
	snprintf(id, sizeof(id), "docker-container-health-%s", r->id);
	snprintf(msg, sizeof(msg), "Docker container '%s' health is %s", r->name, ct->health);
	alert_eval_level(e, r, id, "docker-container-health",
	    strcasecmp(ct->health, "unhealthy") == 0 ? "critical" : "warning", 0, 0, msg);
	md = alert_eval_metadata(e, before, 0);
	if (md == NULL)
		return;
	container_metadata(md, x, ct, r->name);
	jsonwrite_str(md, "health", ct->health);
}

/* The restart loop (§3.7): pending docker-restart-base-<rid> holds the restart count last
 * seen, docker-restarts-<rid>-<unix time> how many restarts were first seen then. */
static void
eval_container_restarts(struct alert_eval *e, const struct docker_ctx *x,
    const struct alert_resource *r, const struct agent_container *ct)
{
	const struct alert_docker *dc = &e->cfg->docker;
	int64_t limit = dc->restart_count > 0 ? dc->restart_count : 3;
	int64_t window = dc->restart_window > 0 ? dc->restart_window : 300;
	char base_id[256], prefix[256], id[320], msg[600];
	const struct alert_pending *base, *kept[AGENT_RESTART_ENTRIES];
	int nkept = 0, recent = 0, fresh = 0, before;
	size_t plen;

	snprintf(base_id, sizeof(base_id), "docker-restart-base-%s", r->id);
	plen = (size_t)snprintf(prefix, sizeof(prefix), "docker-restarts-%s-", r->id);
	base = alert_eval_pending(e, base_id);
	if (base == NULL) {
		alert_eval_set_pending(e, base_id, e->now, ct->restart_count);
		return;		/* the first sighting is the baseline */
	}
	if (ct->restart_count != base->count)
		alert_eval_set_pending(e, base_id, base->first_seen, ct->restart_count);
	if (ct->restart_count > base->count)
		fresh = ct->restart_count - base->count;
	/* The sightings within the window, oldest first (prev is sorted by id, and the ids
	 * end in the time, all of one width for centuries). */
	for (int i = 0; i < e->prev->npending && nkept < AGENT_RESTART_ENTRIES; i++) {
		const struct alert_pending *p = &e->prev->pending[i];
		if (strncmp(p->id, prefix, plen) == 0 && p->first_seen > e->now - (double)window)
			kept[nkept++] = p;
	}
	for (int i = 0; i < nkept; i++)
		recent += kept[i]->count;
	if (fresh > 0) {
		snprintf(id, sizeof(id), "%s%.0f", prefix, floor(e->now));
		if (nkept > 0 && strcmp(kept[nkept - 1]->id, id) == 0) {
			alert_eval_set_pending(e, id, kept[nkept - 1]->first_seen,
			    kept[nkept - 1]->count + fresh);
		} else {
			if (nkept == AGENT_RESTART_ENTRIES) {
				/* full: the oldest folds into the next (its restarts then count
				 * a little longer) and its entry goes */
				alert_eval_set_pending(e, kept[1]->id, kept[1]->first_seen,
				    kept[1]->count + kept[0]->count);
				kept[0] = NULL;
			}
			alert_eval_set_pending(e, id, e->now, fresh);
		}
		recent += fresh;
	}
	for (int i = 0; i < nkept; i++)
		if (kept[i])
			alert_eval_pending(e, kept[i]->id);
	if (recent <= limit)
		return;
	snprintf(id, sizeof(id), "docker-container-restart-loop-%s", r->id);
	snprintf(msg, sizeof(msg), "Docker container '%s' has restarted %d times in the last %lld "
	    "minutes (restart loop detected)", r->name, recent, (long long)(window / 60));
	before = e->out->n;
	alert_eval_level(e, r, id, "docker-container-restart-loop", "critical", recent,
	    (double)limit, msg);
	{
		struct json_object *md = alert_eval_metadata(e, before, 0);
		if (md == NULL)
			return;
		container_metadata(md, x, ct, r->name);
		jsonwrite_int(md, "restartCount", ct->restart_count);
		jsonwrite_int(md, "recentRestarts", recent);
	}
}

/* OOM kill (§3.7): exited or dead with 137 when the exit code last seen was another one;
 * the alert then stays while the container stays so. Pending docker-exit-<rid> holds a
 * non-zero exit code last seen. */
static void
eval_container_oom(struct alert_eval *e, const struct docker_ctx *x,
    const struct alert_resource *r, const struct agent_container *ct, const char *state)
{
	char exit_id[256], id[320], msg[600];
	const struct alert_pending *last;
	int stopped = strcmp(state, "exited") == 0 || strcmp(state, "dead") == 0;
	int before;

	snprintf(exit_id, sizeof(exit_id), "docker-exit-%s", r->id);
	snprintf(id, sizeof(id), "docker-container-oom-%s", r->id);
	last = pending_peek(e, exit_id);
	if (ct->exit_code != 0 && last && last->count == ct->exit_code)
		alert_eval_pending(e, exit_id);		/* kept as it is */
	else if (ct->exit_code != 0)
		alert_eval_set_pending(e, exit_id, e->now, ct->exit_code);
	if (!stopped || ct->exit_code != 137 ||
	    ((last && last->count == 137) && alert_eval_active(e, id) == NULL))
		return;
	snprintf(msg, sizeof(msg), "Docker container '%s' was killed due to out of memory (OOM)",
	    r->name);
	before = e->out->n;
	alert_eval_level(e, r, id, "docker-container-oom-kill", "critical", 137, 0, msg);
	{
		struct json_object *md = alert_eval_metadata(e, before, 0);
		if (md == NULL)
			return;
		container_metadata(md, x, ct, r->name);
		jsonwrite_int(md, "exitCode", ct->exit_code);
		jsonwrite_int(md, "memoryUsageBytes", ct->memory_usage);
		jsonwrite_int(md, "memoryLimitBytes", ct->memory_limit);
	}
}

/* Memory against the container's own limit: warning at memoryWarnPct, critical at
 * memoryCriticalPct, kept as it is until below warn - 5. */
static void
eval_container_memory_limit(struct alert_eval *e, const struct docker_ctx *x,
    const struct alert_resource *r, const struct agent_container *ct)
{
	const struct alert_docker *dc = &e->cfg->docker;
	double warn = dc->memory_warn_pct > 0 ? (double)dc->memory_warn_pct : 90;
	double crit = dc->memory_critical_pct > 0 ? (double)dc->memory_critical_pct : 95;
	char id[320], msg[600];
	const struct alert *old;
	const char *level = NULL;
	double pct;
	int before = e->out->n;
	struct json_object *md;

	if (ct->memory_limit <= 0)
		return;
	pct = (double)ct->memory_usage / (double)ct->memory_limit * 100.0;
	snprintf(id, sizeof(id), "docker-container-memory-limit-%s", r->id);
	old = alert_eval_active(e, id);
	if (pct >= crit)
		level = "critical";
	else if (pct >= warn)
		level = "warning";
	else if (old && pct >= warn - 5)
		level = old->level;
	snprintf(msg, sizeof(msg), "Docker container '%s' is using %.1f%% of its memory limit "
	    "(%lld MB / %lld MB)", r->name, pct, (long long)(ct->memory_usage / 1048576),
	    (long long)(ct->memory_limit / 1048576));
	alert_eval_level(e, r, id, "docker-container-memory-limit", level, pct,
	    level && strcmp(level, "critical") == 0 ? crit : warn, msg);
	md = alert_eval_metadata(e, before, 0);
	if (md == NULL)
		return;
	container_metadata(md, x, ct, r->name);
	jsonwrite_int(md, "memoryUsageBytes", ct->memory_usage);
	jsonwrite_int(md, "memoryLimitBytes", ct->memory_limit);
	jsonwrite_num(md, "limitPercent", pct);
}

/* An image update pending updateAlertDelayHours (0: 24; negative: off). Pending
 * docker-update-seen-<rid>: first_seen the first sighting, count the hour (unix / 3600) it
 * was last written, rewritten every 6 hours so that the pending retention (a day without
 * a write) never drops a sighting that is still true. */
static void
eval_container_update(struct alert_eval *e, const struct docker_ctx *x,
    const struct alert_resource *r, const struct agent_container *ct)
{
	int64_t delay = e->cfg->docker.update_alert_delay_hours;
	char seen_id[256], id[320], msg[600];
	const struct alert_pending *seen;
	int hour = (int)(e->now / 3600.0);
	double first;
	int before;

	if (delay < 0)
		return;
	if (delay == 0)
		delay = 24;
	snprintf(seen_id, sizeof(seen_id), "docker-update-seen-%s", r->id);
	snprintf(id, sizeof(id), "docker-container-update-%s", r->id);
	if (!ct->has_update_status || ct->update_error[0]) {
		alert_eval_keep_prefix(e, seen_id);	/* unknown: as it was */
		alert_eval_keep_prefix(e, id);
		return;
	}
	if (!ct->update_available)
		return;
	seen = alert_eval_pending(e, seen_id);
	first = seen ? seen->first_seen : e->now;
	if (seen == NULL || hour - seen->count >= 6)
		alert_eval_set_pending(e, seen_id, first, hour);
	if (e->now - first < (double)delay * 3600.0)
		return;
	snprintf(msg, sizeof(msg), "Docker container '%s' has an image update available for %d "
	    "hours", r->name, (int)((e->now - first) / 3600.0));
	before = e->out->n;
	alert_eval_level_since(e, r, id, "docker-container-update", "warning",
	    floor((e->now - first) / 3600.0), (double)delay, msg, first);
	{
		struct json_object *md = alert_eval_metadata(e, before, 0);
		if (md == NULL)
			return;
		container_metadata(md, x, ct, r->name);
		jsonwrite_int(md, "thresholdHours", delay);
	}
}

static void
eval_container(struct alert_eval *e, const struct docker_ctx *x,
    const struct agent_container *ct)
{
	const struct alert_config *c = e->cfg;
	char rid[256], name[160], state[32];
	const struct alert_thresholds *o;
	struct alert_resource r = {rid, name, x->d->hostname, x->instance, "Docker Container",
	    "docker", "Docker Container", 0};
	int before;

	if (!ct->id[0])
		return;		/* nothing to key its alerts on */
	snprintf(name, sizeof(name), "%s", ct->name[0] == '/' ? ct->name + 1 : ct->name);
	if (!name[0])
		snprintf(name, sizeof(name), "%.12s", ct->id);
	if (ignored_container(c, name, ct->id))
		return;		/* its alerts resolve, its records go */
	snprintf(rid, sizeof(rid), "docker:%s/%s", x->d->id, ct->id);
	o = alert_override(c, rid);
	if (o && o->disabled)
		return;
	snprintf(state, sizeof(state), "%.31s", ct->state[0] ? ct->state : ct->status);
	for (char *p = state; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strcmp(state, "running") != 0) {
		eval_container_state(e, x, &r, ct, o);
	} else {
		double disk = ct->root_filesystem > 0 ?
		    (double)ct->writable_layer / (double)ct->root_filesystem * 100.0 : NAN;
		before = e->out->n;
		alert_eval_metric(e, &r, "cpu", ct->cpu, alert_effective(&x->defaults, o,
		    ALERT_CPU));
		container_metadata(alert_eval_metadata(e, before, 1), x, ct, name);
		before = e->out->n;
		alert_eval_metric(e, &r, "memory", ct->memory_percent, alert_effective(&x->defaults,
		    o, ALERT_MEMORY));
		container_metadata(alert_eval_metadata(e, before, 1), x, ct, name);
		before = e->out->n;
		alert_eval_metric(e, &r, "disk", disk, alert_effective(&x->defaults, o,
		    ALERT_DISK));
		container_metadata(alert_eval_metadata(e, before, 1), x, ct, name);
		eval_container_health(e, x, &r, ct);
		eval_container_memory_limit(e, x, &r, ct);
	}
	eval_container_restarts(e, x, &r, ct);
	eval_container_oom(e, x, &r, ct, state);
	eval_container_update(e, x, &r, ct);
}

static void
service_key(const struct agent_service *s, char *out, size_t len)
{
	size_t o = 0;

	if (s->id[0]) {
		snprintf(out, len, "%s", s->id);
		return;
	}
	/* no id: a slug of the name, at most 32 characters */
	for (const unsigned char *p = (const unsigned char *)s->name; *p && o < 32 && o + 1 < len;
	    p++) {
		int ch = tolower(*p);
		if (isalnum(ch) || ch == '-' || ch == '_')
			out[o++] = (char)ch;
		else if (ch == ' ' || ch == '/' || ch == '\\' || ch == ':' || ch == '.')
			out[o++] = '-';
	}
	out[o] = '\0';
}

static void
eval_service(struct alert_eval *e, const struct docker_ctx *x, const struct agent_service *s)
{
	const struct alert_docker *dc = &e->cfg->docker;
	char key[80], rid[256], id[320], name[160], msg[600];
	struct alert_resource r = {rid, name, x->d->hostname, x->instance, "Docker Service",
	    "docker", "Docker Service", 0};
	const char *level = NULL;
	double missing, threshold = 0;
	int before = e->out->n;
	struct json_object *md;

	service_key(s, key, sizeof(key));
	if (!key[0] || s->desired_tasks <= 0)
		return;
	snprintf(name, sizeof(name), "%s", s->name[0] ? s->name : key);
	snprintf(rid, sizeof(rid), "docker:%s/service/%s", x->d->id, key);
	snprintf(id, sizeof(id), "docker-service-health-%s", rid);
	missing = (double)(s->desired_tasks - s->running_tasks) / s->desired_tasks * 100.0;
	if (dc->service_critical_gap_percent > 0 &&
	    missing >= (double)dc->service_critical_gap_percent) {
		level = "critical";
		threshold = (double)dc->service_critical_gap_percent;
	} else if (dc->service_warn_gap_percent > 0 &&
	    missing >= (double)dc->service_warn_gap_percent) {
		level = "warning";
		threshold = (double)dc->service_warn_gap_percent;
	}
	if (level) {
		snprintf(msg, sizeof(msg), "Docker service '%s' is running %d of %d desired tasks",
		    name, s->running_tasks, s->desired_tasks);
	} else {
		if (strcmp(s->update_state, "rollback_failed") == 0)
			level = "critical";
		else if (strcmp(s->update_state, "paused") == 0 ||
		    strcmp(s->update_state, "rollback_started") == 0 ||
		    strcmp(s->update_state, "rollback_paused") == 0)
			level = "warning";
		snprintf(msg, sizeof(msg), "Docker service '%s' update is %s", name, s->update_state);
	}
	alert_eval_level(e, &r, id, "docker-service-health", level, fmax(missing, 0), threshold,
	    msg);
	md = alert_eval_metadata(e, before, 0);
	if (md == NULL)
		return;
	jsonwrite_str(md, "hostId", x->d->id);
	jsonwrite_str(md, "serviceId", s->id);
	jsonwrite_str(md, "serviceName", name);
	jsonwrite_int(md, "desiredTasks", s->desired_tasks);
	jsonwrite_int(md, "runningTasks", s->running_tasks);
	if (s->update_state[0])
		jsonwrite_str(md, "updateState", s->update_state);
}

void
alert_eval_docker_host(struct alert_eval *e, const struct agent_docker *d)
{
	const struct alert_config *c = e->cfg;
	const struct alert_thresholds *o = alert_override(c, d->id);
	struct docker_ctx x;
	char rid[160], id[200];
	struct alert_resource r = {rid, x.name, d->hostname, x.instance, "Docker Host",
	    "dockerhost", "Docker Host", 0};
	int before = e->out->n;

	if (!c->enabled) {
		e->partial = 1;
		return;
	}
	memset(&x, 0, sizeof(x));
	x.d = d;
	snprintf(x.name, sizeof(x.name), "%s", d->display_name[0] ? d->display_name :
	    d->hostname[0] ? d->hostname : d->id);
	snprintf(x.instance, sizeof(x.instance), "Docker:%s", x.name);
	snprintf(rid, sizeof(rid), "docker:%s", d->id);
	snprintf(id, sizeof(id), "docker-host-offline-%s", d->id);
	if (!c->disable_all_docker_hosts_offline && !(o && o->disable_connectivity)) {
		eval_offline(e, &r, id, "docker-host-offline", !d->online, "Docker host");
		set_host_id(e, before, d->id);
	}
	if (!d->online) {
		/* Until the host is confirmed offline its alerts stay; after, they resolve
		 * (nothing but the offline alert and its count is kept). */
		if (!alert_now_active(e, id))
			keep_all_but(e, id);
		return;
	}
	if (c->disable_all_docker_hosts)
		return;
	x.defaults.metric[ALERT_CPU] = c->docker.cpu;
	x.defaults.metric[ALERT_MEMORY] = c->docker.memory;
	x.defaults.metric[ALERT_DISK] = c->docker.disk;
	for (int m = ALERT_CPU; m <= ALERT_DISK; m++)
		x.defaults.metric[m].set = 1;
	for (int i = 0; i < d->ncontainers && !c->disable_all_docker_containers; i++)
		eval_container(e, &x, &d->containers[i]);
	for (int i = 0; i < d->nservices && !c->disable_all_docker_services; i++)
		eval_service(e, &x, &d->services[i]);
}

/* --- Kubernetes (our addition) ------------------------------------------------------------ */

void
alert_eval_kubernetes(struct alert_eval *e, const struct agent_kubernetes *k)
{
	const struct alert_config *c = e->cfg;
	const struct alert_thresholds *o = alert_override(c, k->id);
	char rid[160], id[200], instance[200];
	const char *name = k->name[0] ? k->name : k->id;
	struct alert_resource r = {rid, name, name, instance, "Kubernetes Cluster", "kubernetes",
	    "Kubernetes Cluster", 0};

	if (!c->enabled) {
		e->partial = 1;
		return;
	}
	snprintf(rid, sizeof(rid), "kubernetes:%s", k->id);
	snprintf(instance, sizeof(instance), "Kubernetes:%s", name);
	snprintf(id, sizeof(id), "kubernetes-cluster-offline-%s", k->id);
	if (!(o && (o->disabled || o->disable_connectivity)))
		eval_offline(e, &r, id, "kubernetes-cluster-offline", !k->online,
		    "Kubernetes cluster");
	if (!k->online) {
		keep_all_but(e, id);
		return;
	}
	if (o && o->disabled)
		return;
	for (int i = 0; i < k->ndeployments; i++) {
		const struct agent_deployment *dp = &k->deployments[i];
		char drid[420], did[460], dname[300], msg[600];
		struct alert_resource dr = {drid, dname, name, instance, "Kubernetes Deployment",
		    "kubernetes", "Kubernetes Deployment", 0};
		const char *level = NULL;

		if (dp->desired > 0 && dp->available < dp->desired)
			level = dp->available <= 0 ? "critical" : "warning";
		snprintf(drid, sizeof(drid), "kubernetes:%s/deployment/%s/%s", k->id,
		    dp->namespace_, dp->name);
		snprintf(did, sizeof(did), "kubernetes-deployment-%s", drid);
		snprintf(dname, sizeof(dname), "%s/%s", dp->namespace_, dp->name);
		snprintf(msg, sizeof(msg), "Kubernetes deployment '%s' has %d of %d replicas "
		    "available", dname, dp->available, dp->desired);
		alert_eval_level(e, &dr, did, "kubernetes-deployment", level, dp->available,
		    dp->desired, msg);
	}
}
