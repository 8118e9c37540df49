/* alert_engine.c: the alert evaluation (alerts-notifications.md §3); see alert_engine.h. */
#include "config.h"

#include "alert_engine.h"
#include "alert_pmg.h"
#include "jsonread.h"
#include "jsonwrite.h"
#include "state.h"
#include "state_servers.h"
#include "util.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <strings.h>

/* An active alert's row is rewritten for a moved value only this long after its last write,
 * and only when the value moved by max(1, 5 % of the threshold) (docs/COMPATIBILITY.md). */
#define REWRITE_AGE 300.0

/* --- the previous state ----------------------------------------------------------------- */

struct alert *
alert_prev_add(struct alert_prev *p)
{
	if (p->nalerts == p->capalerts) {
		p->capalerts = p->capalerts ? p->capalerts * 2 : 16;
		p->alerts = xrealloc(p->alerts, (size_t)p->capalerts * sizeof(*p->alerts));
	}
	memset(&p->alerts[p->nalerts], 0, sizeof(p->alerts[0]));
	return &p->alerts[p->nalerts++];
}

struct alert_pending *
alert_prev_add_pending(struct alert_prev *p)
{
	if (p->npending == p->cappending) {
		p->cappending = p->cappending ? p->cappending * 2 : 16;
		p->pending = xrealloc(p->pending, (size_t)p->cappending * sizeof(*p->pending));
	}
	memset(&p->pending[p->npending], 0, sizeof(p->pending[0]));
	return &p->pending[p->npending++];
}

struct alert_recent *
alert_prev_add_recent(struct alert_prev *p)
{
	GROW(p->recent, p->nrecent, p->caprecent);
	return &p->recent[p->nrecent++];
}

static int
by_alert_id(const void *a, const void *b)
{
	return strcmp(((const struct alert *)a)->id, ((const struct alert *)b)->id);
}

static int
by_pending_id(const void *a, const void *b)
{
	return strcmp(((const struct alert_pending *)a)->id, ((const struct alert_pending *)b)->id);
}

static int
by_recent_id(const void *a, const void *b)
{
	return strcmp(((const struct alert_recent *)a)->id, ((const struct alert_recent *)b)->id);
}

void
alert_prev_index(struct alert_prev *p)
{
	if (p->nalerts > 1)
		qsort(p->alerts, (size_t)p->nalerts, sizeof(*p->alerts), by_alert_id);
	if (p->npending > 1)
		qsort(p->pending, (size_t)p->npending, sizeof(*p->pending), by_pending_id);
	if (p->nrecent > 1)
		qsort(p->recent, (size_t)p->nrecent, sizeof(*p->recent), by_recent_id);
}

void
alert_prev_free(struct alert_prev *p)
{
	for (int i = 0; i < p->nalerts; i++)
		json_object_put(p->alerts[i].metadata);
	free(p->alerts);
	free(p->pending);
	free(p->recent);
	memset(p, 0, sizeof(*p));
}

/* Index of id in a sorted array of structs that begin with their id (struct alert, struct
 * alert_pending, struct alert_recent), or -1. */
static int
by_key(const void *key, const void *el)
{
	return strcmp(key, (const char *)el);
}

static int
find_id(const void *base, int n, size_t size, const char *id)
{
	const char *hit = n > 0 ? bsearch(id, base, (size_t)n, size, by_key) : NULL;

	return hit ? (int)((hit - (const char *)base) / (ptrdiff_t)size) : -1;
}

static int
find_alert(const struct alert_prev *p, const char *id)
{
	return find_id(p->alerts, p->nalerts, sizeof(*p->alerts), id);
}

static int
find_pending(const struct alert_prev *p, const char *id)
{
	return find_id(p->pending, p->npending, sizeof(*p->pending), id);
}

static int
find_recent(const struct alert_prev *p, const char *id)
{
	return find_id(p->recent, p->nrecent, sizeof(*p->recent), id);
}

/* --- the change list -------------------------------------------------------------------- */

static struct alert_change *
change_add(struct alert_changes *c, enum alert_change_kind kind)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = xrealloc(c->v, (size_t)c->cap * sizeof(*c->v));
	}
	memset(&c->v[c->n], 0, sizeof(c->v[0]));
	c->v[c->n].kind = kind;
	return &c->v[c->n++];
}

void
alert_changes_free(struct alert_changes *c)
{
	for (int i = 0; i < c->n; i++)
		json_object_put(c->v[i].alert.metadata);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* --- the evaluation --------------------------------------------------------------------- */

void
alert_eval_begin(struct alert_eval *e, const struct alert_config *cfg,
    const struct alert_prev *prev, double now, struct alert_changes *out)
{
	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->prev = prev;
	e->now = now;
	e->out = out;
	e->seen_alert = xcalloc((size_t)prev->nalerts + 1, 1);
	e->seen_pending = xcalloc((size_t)prev->npending + 1, 1);
}

void
alert_eval_finish(struct alert_eval *e)
{
	for (int i = 0; !e->partial && i < e->prev->nalerts; i++) {
		struct alert_change *ch;

		if (e->seen_alert[i])
			continue;
		ch = change_add(e->out, ALERT_RESOLVED);
		ch->alert = e->prev->alerts[i];
		ch->alert.metadata = json_object_get(ch->alert.metadata);
		ch->alert.resolved_time = e->now;
	}
	for (int i = 0; !e->partial && i < e->prev->npending; i++)
		if (!e->seen_pending[i])
			change_add(e->out, ALERT_PENDING_DELETE)->pending = e->prev->pending[i];
	free(e->seen_alert);
	free(e->seen_pending);
	e->seen_alert = e->seen_pending = NULL;
}

void
alert_eval_keep_prefix(struct alert_eval *e, const char *prefix)
{
	size_t n = strlen(prefix);

	for (int i = 0; i < e->prev->nalerts; i++)
		if (strncmp(e->prev->alerts[i].id, prefix, n) == 0)
			e->seen_alert[i] = 1;
	for (int i = 0; i < e->prev->npending; i++)
		if (strncmp(e->prev->pending[i].id, prefix, n) == 0)
			e->seen_pending[i] = 1;
}

/* Keeps the previous alert and pending entry of exactly id. */
static void
keep_exact(struct alert_eval *e, const char *id)
{
	int i = find_alert(e->prev, id);

	if (i >= 0)
		e->seen_alert[i] = 1;
	if ((i = find_pending(e->prev, id)) >= 0)
		e->seen_pending[i] = 1;
}

/* Marks a pending entry kept; returns it or NULL. */
static const struct alert_pending *
keep_pending(struct alert_eval *e, const char *id)
{
	int i = find_pending(e->prev, id);

	if (i < 0)
		return NULL;
	e->seen_pending[i] = 1;
	return &e->prev->pending[i];
}

static void
set_pending(struct alert_eval *e, const char *id, double first_seen, int count)
{
	struct alert_change *ch = change_add(e->out, ALERT_PENDING_SET);

	snprintf(ch->pending.id, sizeof(ch->pending.id), "%s", id);
	ch->pending.first_seen = first_seen;
	ch->pending.count = count;
}

const struct alert_pending *
alert_eval_pending(struct alert_eval *e, const char *id)
{
	return keep_pending(e, id);
}

void
alert_eval_set_pending(struct alert_eval *e, const char *id, double first_seen, int count)
{
	set_pending(e, id, first_seen, count);
}

const struct alert *
alert_eval_active(const struct alert_eval *e, const char *id)
{
	int i = find_alert(e->prev, id);

	return i >= 0 ? &e->prev->alerts[i] : NULL;
}

static void
fill_alert(struct alert *a, const struct alert_resource *r, const char *id, const char *type,
    const char *level)
{
	snprintf(a->id, sizeof(a->id), "%s", id);
	snprintf(a->type, sizeof(a->type), "%s", type);
	snprintf(a->level, sizeof(a->level), "%s", level);
	snprintf(a->resource_id, sizeof(a->resource_id), "%s", r->id);
	snprintf(a->resource_name, sizeof(a->resource_name), "%s", r->name ? r->name : "");
	snprintf(a->node, sizeof(a->node), "%s", r->node ? r->node : "");
	snprintf(a->instance, sizeof(a->instance), "%s", r->instance ? r->instance : "");
}

static int
is_io_metric(const char *m)
{
	return strcmp(m, "diskRead") == 0 || strcmp(m, "diskWrite") == 0 ||
	    strcmp(m, "networkIn") == 0 || strcmp(m, "networkOut") == 0;
}

static int
is_temp_metric(const char *m)
{
	return strcmp(m, "temperature") == 0 || strcmp(m, "diskTemperature") == 0;
}

/* The metric alert's message and metadata (§3.2c). */
static void
describe_metric(struct alert *a, const struct alert_resource *r, const char *metric,
    double value, struct alert_threshold t, double now)
{
	struct json_object *md = json_object_new_object();
	const char *unit = is_io_metric(metric) ? "MB/s" : is_temp_metric(metric) ? "°C" : NULL;

	if (strcmp(metric, "usage") == 0)
		snprintf(a->message, sizeof(a->message), "%s at %.1f%%", r->type_label, value);
	else
		snprintf(a->message, sizeof(a->message), "%s %s at %.1f%s%s", r->type_label, metric,
		    value, unit && is_io_metric(metric) ? " " : "", unit ? unit : "%");
	a->value = value;
	a->threshold = t.trigger;
	a->last_seen = now;
	json_object_object_add(md, "resourceType", json_object_new_string(r->resource_type));
	json_object_object_add(md, "clearThreshold", json_object_new_double(t.clear));
	if (unit)
		json_object_object_add(md, "unit", json_object_new_string(unit));
	json_object_object_add(md, "monitorOnly", json_object_new_boolean(r->monitor_only));
	json_object_put(a->metadata);
	a->metadata = md;
}

static void
raise_alert(struct alert_eval *e, const struct alert *a, const struct alert_resource *r,
    const char *metric, double value, struct alert_threshold t)
{
	struct alert_change *ch = change_add(e->out, ALERT_RAISED);

	ch->alert = *a;
	ch->alert.metadata = NULL;
	if (metric)
		describe_metric(&ch->alert, r, metric, value, t, e->now);
}

/* §3.2b: whether id is suppressed now. A suppressed id keeps whatever it has (the check
 * returns entirely); an expired suppression is dropped by alert_eval_finish unless the
 * check writes the id's pending entry anew. */
static int
suppressed(struct alert_eval *e, const char *id)
{
	int i = find_pending(e->prev, id);
	const struct alert_pending *p = i >= 0 ? &e->prev->pending[i] : NULL;

	if (p == NULL || p->count != ALERT_PENDING_SUPPRESSED ||
	    e->now >= p->first_seen + (double)e->cfg->suppression_window * 60.0)
		return 0;
	keep_exact(e, id);
	return 1;
}

/* §3.2b: whether a new alert of id at value would repeat a recent one: raised within the
 * suppression window with a value less than minimumDelta away. */
static int
too_close_to_recent(const struct alert_eval *e, const char *id, double value)
{
	int i = find_recent(e->prev, id);
	const struct alert_recent *rc = i >= 0 ? &e->prev->recent[i] : NULL;

	return rc && e->now - rc->start_time <= (double)e->cfg->suppression_window * 60.0 &&
	    fabs(rc->value - value) < e->cfg->minimum_delta;
}

void
alert_eval_metric(struct alert_eval *e, const struct alert_resource *r, const char *metric,
    double value, struct alert_threshold t)
{
	char id[256];
	int i;
	const char *level;

	if (!t.set || !(t.trigger > 0) || !isfinite(value))
		return;
	if (t.clear <= 0)
		t.clear = t.trigger;
	snprintf(id, sizeof(id), "%s-%s", r->id, metric);
	if (suppressed(e, id))
		return;
	i = find_alert(e->prev, id);
	level = value >= t.trigger + 10 ? "critical" : "warning";
	if (i >= 0) {
		const struct alert *old = &e->prev->alerts[i];
		double step = fmax(1.0, t.trigger * 0.05);
		struct alert_change *ch;

		if (value < t.trigger && value <= t.clear)
			return;		/* resolved by alert_eval_finish */
		e->seen_alert[i] = 1;
		if (value < t.trigger)
			level = old->level;	/* between clear and trigger: as it was */
		if (strcmp(level, old->level) == 0 && !(fabs(value - old->value) >= step &&
		    e->now - old->last_seen >= REWRITE_AGE))
			return;
		ch = change_add(e->out, ALERT_UPDATED);
		ch->alert = *old;
		ch->alert.metadata = NULL;
		ch->to_critical = strcmp(level, "critical") == 0 && strcmp(old->level, "critical") != 0;
		snprintf(ch->alert.level, sizeof(ch->alert.level), "%s", level);
		ch->alert.threshold = t.trigger;
		describe_metric(&ch->alert, r, metric, value, t, e->now);
		return;
	}
	if (value < t.trigger)
		return;			/* any pending entry is dropped by alert_eval_finish */
	{
		int64_t delay = alert_delay(e->cfg, r->delay_type, metric);
		double start = e->now;
		struct alert a = {0};

		if (delay > 0) {
			const struct alert_pending *p = keep_pending(e, id);
			if (p && p->count == ALERT_PENDING_SUPPRESSED)
				p = NULL;	/* a suppression over: overwritten */
			if (p == NULL) {
				set_pending(e, id, e->now, 1);
				return;
			}
			if (e->now - p->first_seen < (double)delay)
				return;
			start = p->first_seen;
			change_add(e->out, ALERT_PENDING_DELETE)->pending = *p;
		}
		if (too_close_to_recent(e, id, value)) {
			keep_pending(e, id);	/* an expired suppression is overwritten */
			set_pending(e, id, e->now, ALERT_PENDING_SUPPRESSED);
			return;
		}
		fill_alert(&a, r, id, metric, level);
		a.start_time = start;
		raise_alert(e, &a, r, metric, value, t);
	}
}

void
alert_eval_state(struct alert_eval *e, const struct alert_resource *r, const char *id,
    const char *type, int bad, int confirm, const char *level, const char *message)
{
	int i;
	const struct alert_pending *p;
	int count;
	struct alert a = {0};

	if (!bad)
		return;			/* an alert resolves, a count resets: alert_eval_finish */
	i = find_alert(e->prev, id);
	if (i >= 0) {
		e->seen_alert[i] = 1;
		return;
	}
	p = keep_pending(e, id);
	count = p ? p->count + 1 : 1;
	if (count < confirm) {
		set_pending(e, id, p ? p->first_seen : e->now, count);
		return;
	}
	if (p)
		change_add(e->out, ALERT_PENDING_DELETE)->pending = *p;
	fill_alert(&a, r, id, type, level);
	snprintf(a.message, sizeof(a.message), "%s", message);
	a.start_time = p ? p->first_seen : e->now;
	a.last_seen = e->now;
	raise_alert(e, &a, r, NULL, 0, (struct alert_threshold){0});
	{
		struct json_object *md = json_object_new_object();
		json_object_object_add(md, "resourceType", json_object_new_string(r->resource_type));
		json_object_object_add(md, "monitorOnly", json_object_new_boolean(r->monitor_only));
		e->out->v[e->out->n - 1].alert.metadata = md;
	}
}

/* --- thresholds --------------------------------------------------------------------------- */

struct alert_threshold
alert_effective(const struct alert_thresholds *defaults, const struct alert_thresholds *override,
    enum alert_metric m)
{
	struct alert_threshold t = {0};

	if (override && override->metric[m].set) {
		t = override->metric[m];
		if (t.clear <= 0)
			t.clear = t.trigger - 5;
		return t;
	}
	if (defaults && defaults->metric[m].set) {
		t = defaults->metric[m];
		if (t.clear <= 0)
			t.clear = t.trigger;
		return t;
	}
	if ((int)m < ALERT_LEGACY_COUNT) {
		double n = override && override->legacy[m] > 0 ? override->legacy[m] :
		    defaults ? defaults->legacy[m] : 0;
		if (n > 0) {
			t.set = 1;
			t.trigger = n;
			t.clear = n - 5;
		}
	}
	return t;
}

const struct alert_thresholds *
alert_override(const struct alert_config *c, const char *id)
{
	for (int i = 0; i < c->n_overrides; i++)
		if (strcmp(c->overrides[i].resource_id, id) == 0)
			return &c->overrides[i].t;
	return NULL;
}

/* A metricTimeThresholds entry of type for metric (or its default keys); -1 when none. */
static int64_t
metric_delay(const struct alert_config *c, const char *type, const char *metric)
{
	static const char *const fallbacks[] = {"default", "_default", "*"};
	int64_t found = -1;

	for (int i = 0; i < c->n_metric_delays; i++) {
		const struct alert_delay *d = &c->metric_delays[i];
		if (strcasecmp(d->type, type) != 0)
			continue;
		if (strcasecmp(d->metric, metric) == 0)
			return d->seconds;
		for (size_t k = 0; k < ARRAY_LEN(fallbacks) && found < 0; k++)
			if (strcmp(d->metric, fallbacks[k]) == 0)
				found = d->seconds;
	}
	return found;
}

static int64_t
type_delay(const struct alert_config *c, const char *type)
{
	for (int i = 0; i < c->n_delays; i++)
		if (strcasecmp(c->delays[i].type, type) == 0)
			return c->delays[i].seconds;
	return -1;
}

int64_t
alert_delay(const struct alert_config *c, const char *delay_type, const char *metric)
{
	const char *keys[3] = {delay_type, NULL, NULL};
	int64_t d;

	if (strcmp(delay_type, "pbs") == 0) {
		keys[1] = "node";
	} else if (strcmp(delay_type, "docker") == 0) {
		keys[1] = "guest";
	} else if (strcmp(delay_type, "dockerhost") == 0) {
		keys[1] = "docker";
		keys[2] = "node";
	}
	for (int i = 0; i < 3 && keys[i]; i++)
		if ((d = metric_delay(c, keys[i], metric)) >= 0)
			return d;
	for (int i = 0; i < 3 && keys[i]; i++)
		if ((d = type_delay(c, keys[i])) >= 0)
			return d;
	if ((d = metric_delay(c, "all", metric)) >= 0)
		return d;
	if ((d = type_delay(c, "all")) >= 0)
		return d;
	return c->time_threshold;
}

/* --- PVE ------------------------------------------------------------------------------------ */

/* Whether a comma-separated tag list holds tag (case-insensitive). */
static int
has_tag(const char *tags, const char *tag)
{
	size_t n = strlen(tag);

	if (tags == NULL)
		return 0;
	for (const char *p = tags; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len > 0 && *p == ' ')
			p++, len--;
		if (len == n && strncasecmp(p, tag, n) == 0)
			return 1;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
}

static int
any_tag(const char *tags, const struct alert_strings *list)
{
	for (int i = 0; i < list->n; i++)
		if (has_tag(tags, list->v[i]))
			return 1;
	return 0;
}

/* §3.1: whether a guest's alerts are all off. */
static int
guest_ignored(const struct alert_config *c, const struct st_guest *g)
{
	for (int i = 0; i < c->ignored_guest_prefixes.n; i++) {
		const char *p = c->ignored_guest_prefixes.v[i];
		if (p[0] && strncmp(g->name, p, strlen(p)) == 0)
			return 1;
	}
	if (has_tag(g->tags, "pulse-no-alerts") || any_tag(g->tags, &c->tag_blacklist))
		return 1;
	return c->tag_whitelist.n > 0 && !any_tag(g->tags, &c->tag_whitelist);
}

static double
percent(int64_t used, int64_t total)
{
	return total > 0 ? (double)used / (double)total * 100.0 : 0;
}

static void
eval_node(struct alert_eval *e, const struct st_node *n)
{
	const struct alert_config *c = e->cfg;
	const struct alert_thresholds *o = alert_override(c, n->id);
	struct alert_resource r = {n->id, n->display_name[0] ? n->display_name : n->node, n->node,
	    n->instance, "Node", "node", "node", 0};
	int offline = strcmp(n->status, "online") != 0 ||
	    strcmp(n->connection_health, "error") == 0 || strcmp(n->connection_health, "failed") == 0;
	char id[256], msg[320];

	if (c->disable_all_nodes || (o && o->disabled))
		return;
	if (!c->disable_all_nodes_offline && !(o && o->disable_connectivity) &&
	    !c->node.disable_connectivity) {
		snprintf(id, sizeof(id), "node-offline-%s", n->id);
		snprintf(msg, sizeof(msg), "Node '%s' is offline", r.name);
		alert_eval_state(e, &r, id, "connectivity", offline, 3, "critical", msg);
	}
	if (offline) {
		/* Nothing measured: the metric alerts stay as they are. */
		snprintf(id, sizeof(id), "%s-", n->id);
		alert_eval_keep_prefix(e, id);
		return;
	}
	alert_eval_metric(e, &r, "cpu", n->cpu * 100, alert_effective(&c->node, o, ALERT_CPU));
	alert_eval_metric(e, &r, "memory", n->memory.usage, alert_effective(&c->node, o,
	    ALERT_MEMORY));
	if (n->disk.total > 0)
		alert_eval_metric(e, &r, "disk", percent(n->disk.used, n->disk.total),
		    alert_effective(&c->node, o, ALERT_DISK));
	if (n->temperature.available) {
		double t = n->temperature.cpu_package > 0 ? n->temperature.cpu_package :
		    n->temperature.cpu_max;
		if (t > 0)
			alert_eval_metric(e, &r, "temperature", t, alert_effective(&c->node, o,
			    ALERT_TEMPERATURE));
	}
}

/* A guest's metric threshold under its pulse-relaxed tag (§3.1). */
static struct alert_threshold
relaxed(struct alert_threshold t, int relax, double floor_)
{
	if (relax && t.set && t.trigger > 0 && t.trigger < floor_) {
		t.trigger = floor_;
		t.clear = floor_ - 5;
	}
	return t;
}

static int contains_nocase(const char *s, const char *word);

/* --- custom rules (§2.5) ------------------------------------------------------------------- */

/* A guest's figure for a metric filter field, or NAN for an unknown field. */
static double
guest_metric(const struct st_guest *g, const char *field)
{
	static const char *const io[] = {"diskread", "diskwrite", "networkin", "networkout"};
	const int64_t rates[] = {g->disk_read, g->disk_write, g->net_in, g->net_out};

	if (strcasecmp(field, "cpu") == 0)
		return g->cpu * 100;
	if (strcasecmp(field, "memory") == 0)
		return g->memory.usage;
	if (strcasecmp(field, "disk") == 0)
		return g->disk.usage;
	for (size_t i = 0; i < ARRAY_LEN(io); i++)
		if (strcasecmp(field, io[i]) == 0)
			return (double)rates[i] / 1048576.0;
	return NAN;
}

/* A filter's value as text: a JSON string without its quotes, else the JSON text. */
static void
filter_text(const struct alert_filter *f, char *out, size_t len)
{
	size_t n = strlen(f->value_json);

	if (n >= 2 && f->value_json[0] == '"' && f->value_json[n - 1] == '"')
		snprintf(out, len, "%.*s", (int)(n - 2), f->value_json + 1);
	else
		snprintf(out, len, "%s", f->value_json);
}

static int
filter_matches(const struct alert_filter *f, const struct st_guest *g)
{
	char v[ALERT_STR_MAX];

	if (strcmp(f->type, "metric") == 0) {
		double have = guest_metric(g, f->field), want;
		char *end;
		want = strtod(f->value_json, &end);
		if (isnan(have) || end == f->value_json || *end != '\0')
			return 0;
		if (strcmp(f->op, ">") == 0)
			return have > want;
		if (strcmp(f->op, "<") == 0)
			return have < want;
		if (strcmp(f->op, ">=") == 0)
			return have >= want;
		if (strcmp(f->op, "<=") == 0)
			return have <= want;
		if (strcmp(f->op, "=") == 0 || strcmp(f->op, "==") == 0)
			return fabs(have - want) <= 0.5;
		return 0;
	}
	if (strcmp(f->type, "text") == 0) {
		filter_text(f, v, sizeof(v));
		if (strcasecmp(f->field, "name") == 0)
			return contains_nocase(g->name, v);
		if (strcasecmp(f->field, "node") == 0)
			return contains_nocase(g->node, v);
		if (strcasecmp(f->field, "vmid") == 0)
			return strstr(g->id, v) != NULL;
		return 0;
	}
	if (strcmp(f->type, "raw") == 0)
		return contains_nocase(g->name, f->raw_text) || strstr(g->id, f->raw_text) != NULL ||
		    contains_nocase(g->node, f->raw_text) || contains_nocase(g->status, f->raw_text);
	return 0;
}

/* The thresholds of the enabled custom rule of highest priority that matches g, or NULL. */
static const struct alert_thresholds *
guest_rule(const struct alert_config *c, const struct st_guest *g)
{
	const struct alert_rule *best = NULL;

	for (int i = 0; i < c->n_rules; i++) {
		const struct alert_rule *rl = &c->rules[i];
		int and_ = strcmp(rl->logical_operator, "AND") == 0, match = and_ || rl->n_filters == 0;
		if (!rl->enabled || (best && rl->priority <= best->priority))
			continue;
		for (int k = 0; k < rl->n_filters; k++) {
			int m = filter_matches(&rl->filters[k], g);
			if (and_ && !m) {
				match = 0;
				break;
			}
			if (!and_ && m) {
				match = 1;
				break;
			}
		}
		if (match)
			best = rl;
	}
	return best ? &best->t : NULL;
}

/* A guest's threshold: its override's, else the best rule's (clear <= 0: trigger - 5 for
 * both), else the defaults. */
static struct alert_threshold
guest_threshold(const struct alert_config *c, const struct alert_thresholds *o,
    const struct alert_thresholds *rule, enum alert_metric m)
{
	int o_has = o && (o->metric[m].set || ((int)m < ALERT_LEGACY_COUNT && o->legacy[m] > 0));

	return alert_effective(&c->guest, o_has || rule == NULL ? o : rule, m);
}

static void
eval_guest(struct alert_eval *e, const struct st_guest *g)
{
	const struct alert_config *c = e->cfg;
	const struct alert_thresholds *o = alert_override(c, g->id);
	const struct alert_thresholds *rule = guest_rule(c, g);
	int is_vm = strcmp(g->type, "qemu") == 0;
	struct alert_resource r = {g->id, g->name, g->node, g->instance, is_vm ? "VM" : "Container",
	    "guest", "guest", has_tag(g->tags, "pulse-monitor-only")};
	int relax = has_tag(g->tags, "pulse-relaxed");
	char id[256], msg[320];

	if (c->disable_all_guests || (o && o->disabled) || guest_ignored(c, g))
		return;
	if (!c->disable_all_guests_offline && !(o && o->disable_connectivity) &&
	    !(rule && rule->disable_connectivity) && !c->guest.disable_connectivity &&
	    !c->guest.disabled) {
		const char *sev = o && o->powered_off_severity[0] ? o->powered_off_severity :
		    c->guest.powered_off_severity;
		int known = strcmp(g->status, "stopped") == 0 || strcmp(g->status, "running") == 0 ||
		    strcmp(g->status, "paused") == 0 || strcmp(g->status, "suspended") == 0;
		snprintf(id, sizeof(id), "guest-powered-off-%s", g->id);
		snprintf(msg, sizeof(msg), "%s '%s' is powered off", r.type_label, g->name);
		/* Stopped counts; running, paused or suspended clears; a status not known (a node
		 * that does not answer) changes nothing. */
		if (known)
			alert_eval_state(e, &r, id, "powered-off", strcmp(g->status, "stopped") == 0,
			    2, strcmp(sev, "critical") == 0 ? "critical" : "warning", msg);
		else
			keep_exact(e, id);
	}
	if (strcmp(g->status, "running") != 0)
		return;			/* metric alerts clear while not running */
	alert_eval_metric(e, &r, "cpu", g->cpu * 100,
	    relaxed(guest_threshold(c, o, rule, ALERT_CPU), relax, 95));
	alert_eval_metric(e, &r, "memory", g->memory.usage,
	    relaxed(guest_threshold(c, o, rule, ALERT_MEMORY), relax, 92));
	{
		struct alert_threshold disk = relaxed(guest_threshold(c, o, rule, ALERT_DISK), relax,
		    95);
		if (g->disk.usage >= 0 && g->disk.total > 0)
			alert_eval_metric(e, &r, "disk", g->disk.usage, disk);
		else {
			snprintf(id, sizeof(id), "%s-disk", g->id);
			alert_eval_keep_prefix(e, id);
		}
		for (int i = 0; i < g->ndisks; i++) {
			const struct st_disk *d = &g->disks[i];
			char key[160], rid[256];
			struct alert_resource dr = r;
			if (d->total <= 0)
				continue;
			alert_key(d->mountpoint[0] ? d->mountpoint : d->device, key, sizeof(key));
			if (snprintf(rid, sizeof(rid), "%s-disk-%s", g->id, key) >= (int)sizeof(rid))
				continue;	/* no id fits: not checked */
			dr.id = rid;
			alert_eval_metric(e, &dr, "disk", percent(d->used, d->total), disk);
		}
	}
	/* I/O metrics only when a trigger is set (MB/s). */
	alert_eval_metric(e, &r, "diskRead", (double)g->disk_read / 1048576.0,
	    guest_threshold(c, o, rule, ALERT_DISK_READ));
	alert_eval_metric(e, &r, "diskWrite", (double)g->disk_write / 1048576.0,
	    guest_threshold(c, o, rule, ALERT_DISK_WRITE));
	alert_eval_metric(e, &r, "networkIn", (double)g->net_in / 1048576.0,
	    guest_threshold(c, o, rule, ALERT_NETWORK_IN));
	alert_eval_metric(e, &r, "networkOut", (double)g->net_out / 1048576.0,
	    guest_threshold(c, o, rule, ALERT_NETWORK_OUT));
}

static int64_t
zfs_errors(struct json_object *o)
{
	return jsonread_int(o, "readErrors", 0) + jsonread_int(o, "writeErrors", 0) +
	    jsonread_int(o, "checksumErrors", 0);
}

static const char *
zfs_level(const char *state)
{
	return strcmp(state, "FAULTED") == 0 || strcmp(state, "UNAVAIL") == 0 ? "critical" :
	    "warning";
}

/* The ZFS pool behind a storage (§3.9): its state, its errors, each device. */
static void
eval_zfs(struct alert_eval *e, const struct alert_resource *r, struct json_object *pool)
{
	const char *name = jsonread_string(pool, "name", ""), *state = jsonread_string(pool,
	    "state", "");
	struct json_object *devs = jsonread_member(pool, "devices");
	int64_t errors = zfs_errors(pool);
	char id[256], msg[320];

	snprintf(msg, sizeof(msg), "ZFS pool '%s' is %s", name, state);
	if (snprintf(id, sizeof(id), "zfs-pool-state-%s", r->id) < (int)sizeof(id))
		alert_eval_level(e, r, id, "zfs-pool-state", state[0] &&
		    strcmp(state, "ONLINE") != 0 ? zfs_level(state) : NULL, 0, 0, msg);
	snprintf(msg, sizeof(msg), "ZFS pool '%s' has %lld errors", name, (long long)errors);
	if (snprintf(id, sizeof(id), "zfs-pool-errors-%s", r->id) < (int)sizeof(id))
		alert_eval_level(e, r, id, "zfs-pool-errors", errors > 0 ? "warning" : NULL,
		    (double)errors, 0, msg);
	for (int i = 0; i < jsonread_array_len(devs); i++) {
		struct json_object *d = json_object_array_get_idx(devs, i);
		const char *dn = jsonread_string(d, "name", ""), *ds = jsonread_string(d, "state", "");
		int bad = (ds[0] && strcmp(ds, "ONLINE") != 0 && strcmp(ds, "SPARE") != 0 &&
		    strcmp(ds, "AVAIL") != 0 && strcmp(ds, "INUSE") != 0) || zfs_errors(d) > 0;
		if (snprintf(id, sizeof(id), "zfs-device-%s-%s", r->id, dn) >= (int)sizeof(id))
			continue;
		snprintf(msg, sizeof(msg), "ZFS device '%s' in pool '%s' is %s (%lld errors)", dn,
		    name, ds, (long long)zfs_errors(d));
		alert_eval_level(e, r, id, "zfs-device", bad ? zfs_level(ds) : NULL,
		    (double)zfs_errors(d), 0, msg);
	}
}

static void
eval_storage(struct alert_eval *e, const struct st_storage *st)
{
	const struct alert_config *c = e->cfg;
	const struct alert_thresholds *o = alert_override(c, st->id);
	struct alert_resource r = {st->id, st->name, st->node, st->instance, "Storage", "storage",
	    "storage", 0};
	int offline = strcmp(st->status, "offline") == 0 || strcmp(st->status, "unavailable") == 0;
	char id[256], msg[320];
	struct alert_threshold t = c->storage;

	if (c->disable_all_storage || (o && o->disabled))
		return;
	if (snprintf(id, sizeof(id), "storage-offline-%s", st->id) >= (int)sizeof(id))
		return;
	snprintf(msg, sizeof(msg), "Storage '%s' is offline", st->name);
	alert_eval_state(e, &r, id, "offline", offline, 2, "warning", msg);
	if (o && o->metric[ALERT_USAGE].set) {
		t = o->metric[ALERT_USAGE];
		if (t.clear <= 0)
			t.clear = t.trigger - 5;
	} else {
		t.set = 1;
	}
	if (!offline && st->total > 0 && st->used > 0)
		alert_eval_metric(e, &r, "usage", percent(st->used, st->total), t);
	if (st->zfs_pool)
		eval_zfs(e, &r, st->zfs_pool);
}

/* Whether s contains word, ignoring case. */
static int
contains_nocase(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (; *s; s++)
		if (strncasecmp(s, word, n) == 0)
			return 1;
	return 0;
}

/* A physical disk's SMART health and SSD wearout (§3.9). */
static void
eval_disk(struct alert_eval *e, const struct st_disk_row *d)
{
	const char *instance = d->doc ? jsonread_string(d->doc, "instance", "") : "";
	struct alert_resource r = {d->id, d->dev_path, d->node, instance, "Disk", "disk", "disk", 0};
	char health[32], id[512], msg[320];
	int bad, exempt = contains_nocase(d->model, "samsung") &&
	    (strstr(d->model, "980") || strstr(d->model, "990"));
	size_t i;

	for (i = 0; d->health[i] && i + 1 < sizeof(health); i++)
		health[i] = (char)toupper((unsigned char)d->health[i]);
	health[i] = '\0';
	bad = health[0] && strcmp(health, "UNKNOWN") != 0 && strcmp(health, "PASSED") != 0 &&
	    strcmp(health, "OK") != 0 && !exempt;
	snprintf(id, sizeof(id), "disk-health-%s", d->id);
	snprintf(msg, sizeof(msg), "Disk health check failed: %s", d->health);
	if (strlen(id) < sizeof(((struct alert *)0)->id))
		alert_eval_level(e, &r, id, "disk-health", bad ? "critical" : NULL, 0, 0, msg);
	snprintf(id, sizeof(id), "disk-wearout-%s", d->id);
	snprintf(msg, sizeof(msg), "SSD has less than 10%% life remaining (%d%% wearout)",
	    d->wearout);
	if (strlen(id) < sizeof(((struct alert *)0)->id))
		alert_eval_level(e, &r, id, "disk-wearout", d->wearout >= 1 && d->wearout <= 9 ?
		    "warning" : NULL, d->wearout, 10, msg);
}

/* --- Ceph and replication (our additions: docs/COMPATIBILITY.md) ---------------------------- */

struct json_object *
alert_eval_metadata(struct alert_eval *e, int before, int updated)
{
	for (int i = e->out->n - 1; i >= before; i--) {
		struct alert_change *ch = &e->out->v[i];
		if (ch->kind == ALERT_RAISED || (updated && ch->kind == ALERT_UPDATED)) {
			if (ch->alert.metadata == NULL)
				ch->alert.metadata = json_object_new_object();
			return ch->alert.metadata;
		}
	}
	return NULL;
}

/* Gives the change alert_eval_level just added at index before (a raise or an update) the
 * metadata md (owned), replacing what it had; without such a change md is dropped. For
 * checks whose metadata has different members from one evaluation to the next (where the
 * backup was found); alert_eval_metadata adds to it instead. */
static void
set_change_metadata(struct alert_eval *e, int before, struct json_object *md)
{
	if (e->out->n > before && e->out->v[before].kind != ALERT_RESOLVED) {
		struct alert *a = &e->out->v[before].alert;
		json_object_put(a->metadata);	/* an update's is the stored one's: replaced */
		a->metadata = md;
		return;
	}
	json_object_put(md);
}

/* The level of a Ceph health status: NULL for HEALTH_OK, "" for one not known. */
static const char *
ceph_level(const char *health)
{
	if (strcmp(health, "HEALTH_OK") == 0)
		return NULL;
	if (strcmp(health, "HEALTH_WARN") == 0)
		return "warning";
	if (strcmp(health, "HEALTH_ERR") == 0)
		return "critical";
	return "";
}

static struct json_object *
ceph_metadata(const struct st_ceph_row *cr)
{
	struct json_object *md = json_object_new_object();

	jsonwrite_str(md, "resourceType", "ceph");
	json_object_object_add(md, "monitorOnly", json_object_new_boolean(0));
	jsonwrite_str(md, "fsid", cr->fsid);
	jsonwrite_str(md, "health", cr->health);
	jsonwrite_int(md, "osdsUp", cr->num_osds_up);
	jsonwrite_int(md, "osdsTotal", cr->num_osds);
	return md;
}

/* A Ceph cluster: ceph-health by Ceph's own status (its check summaries in the message), and
 * ceph-osd-down apart, so that a new OSD failure is told even while the health has long been
 * HEALTH_WARN for something else (a nearfull pool). Ceph is the cluster's storage: the
 * storage switches govern it. A status not known keeps the health alert as it is. */
static void
eval_ceph(struct alert_eval *e, const struct st_ceph_row *cr)
{
	const struct alert_config *c = e->cfg;
	const struct alert_thresholds *o = alert_override(c, cr->id);
	const char *instance = jsonread_string(cr->doc, "instance", "");
	const char *level = ceph_level(cr->health);
	char name[200], id[256], detail[400], msg[640];
	struct alert_resource r = {cr->id, name, "", instance, "Ceph", "storage", "ceph", 0};
	int down = cr->num_osds - cr->num_osds_up, before;

	if (c->disable_all_storage || (o && o->disabled))
		return;
	snprintf(name, sizeof(name), "Ceph (%.120s)", instance);
	jsonread_copy_trimmed(detail, sizeof(detail), jsonread_string(cr->doc, "healthMessage", ""));
	if (snprintf(id, sizeof(id), "ceph-health-%s", cr->id) < (int)sizeof(id)) {
		snprintf(msg, sizeof(msg), "Ceph cluster %s on %s is %s%s%s", cr->fsid, instance,
		    cr->health, detail[0] ? ": " : "", detail);
		before = e->out->n;
		if (level && level[0] == '\0')
			keep_exact(e, id);
		else
			alert_eval_level(e, &r, id, "ceph-health", level, 0, 0, msg);
		set_change_metadata(e, before, ceph_metadata(cr));
	}
	if (snprintf(id, sizeof(id), "ceph-osd-down-%s", cr->id) < (int)sizeof(id)) {
		snprintf(msg, sizeof(msg), "Ceph cluster %s on %s has %d of %d OSDs down", cr->fsid,
		    instance, down, cr->num_osds);
		before = e->out->n;
		alert_eval_level(e, &r, id, "ceph-osd-down", cr->num_osds > 0 && down > 0 ?
		    "warning" : NULL, down, 0, msg);
		set_change_metadata(e, before, ceph_metadata(cr));
	}
}

/* Failures before a replication job's alert is critical. */
#define REPLICATION_CRITICAL_FAILS 3

/* A storage replication job whose last run failed (a fail count, or an error text): warning,
 * critical from the third failure in a row; resolved when a run succeeds, or when the job is
 * disabled or gone. A job is a guest's: the guest switches and the guest's override govern
 * it besides the job's own override. */
static void
eval_replication(struct alert_eval *e, const struct st_instance *s, const struct st_repl_row *j)
{
	const struct alert_config *c = e->cfg;
	const struct alert_thresholds *o = alert_override(c, j->id);
	const char *instance = jsonread_string(j->doc, "instance", "");
	const char *guest_name = jsonread_string(j->doc, "guestName", "");
	const struct st_guest *g = NULL;
	int enabled = 1, before;
	char name[256], who[200], error[201], id[256], msg[1024], times[32] = "";
	struct alert_resource r = {j->id, name, j->source, instance, "Replication", "guest",
	    "replication", 0};
	const char *level = j->fail_count >= REPLICATION_CRITICAL_FAILS ? "critical" :
	    j->fail_count > 0 || j->error[0] ? "warning" : NULL;
	struct json_object *md;

	for (int i = 0; i < s->nguests && g == NULL && j->guest_id > 0; i++)
		if (s->guests[i].vmid == j->guest_id && strcmp(s->guests[i].instance, instance) == 0)
			g = &s->guests[i];
	if (c->disable_all_guests || (o && o->disabled) || (g && (guest_ignored(c, g) ||
	    (alert_override(c, g->id) && alert_override(c, g->id)->disabled))))
		return;
	(void)jsonread_value_bool(jsonread_member(j->doc, "enabled"), &enabled);
	if (!enabled)
		return;			/* a disabled job does not run: resolved */
	if (snprintf(id, sizeof(id), "replication-%s", j->id) >= (int)sizeof(id))
		return;
	if (guest_name[0])
		snprintf(who, sizeof(who), "'%.120s' (%lld)", guest_name, (long long)j->guest_id);
	else
		snprintf(who, sizeof(who), "guest %lld", (long long)j->guest_id);
	snprintf(name, sizeof(name), "Replication %.90s of %.100s", j->job_id, who);
	jsonread_copy_trimmed(error, sizeof(error), j->error);
	if (j->fail_count > 0)
		snprintf(times, sizeof(times), " %d time%s", j->fail_count, j->fail_count == 1 ?
		    "" : "s");
	snprintf(msg, sizeof(msg), "Replication job %s of %s from %s to %s failed%s%s%s",
	    j->job_id, who, j->source, j->target, times, error[0] ? ": " : "", error);
	before = e->out->n;
	alert_eval_level(e, &r, id, "replication", level, (double)j->fail_count,
	    REPLICATION_CRITICAL_FAILS, msg);
	md = json_object_new_object();
	jsonwrite_str(md, "resourceType", "replication");
	json_object_object_add(md, "monitorOnly", json_object_new_boolean(0));
	jsonwrite_str(md, "jobId", j->job_id);
	if (j->guest_id > 0)
		jsonwrite_int(md, "guestId", j->guest_id);
	jsonwrite_opt_str(md, "guestName", guest_name);
	jsonwrite_str(md, "sourceNode", j->source);
	jsonwrite_str(md, "targetNode", j->target);
	jsonwrite_int(md, "failCount", j->fail_count);
	jsonwrite_opt_str(md, "error", error);
	if (j->last_sync > 0)
		jsonwrite_time(md, "lastSyncTime", j->last_sync);
	set_change_metadata(e, before, md);
}

void
alert_eval_pve(struct alert_eval *e, const struct st_instance *s)
{
	if (!e->cfg->enabled) {
		e->partial = 1;		/* nothing evaluated, nothing cleared */
		return;
	}
	for (int i = 0; i < s->nnodes; i++)
		eval_node(e, &s->nodes[i]);
	for (int i = 0; !e->partial && i < s->nguests; i++)
		eval_guest(e, &s->guests[i]);
	for (int i = 0; !e->partial && i < s->nstorage; i++)
		eval_storage(e, &s->storage[i]);
	for (int i = 0; !e->partial && !e->cfg->disable_all_nodes && i < s->ndisks; i++)
		eval_disk(e, &s->disks[i]);
	for (int i = 0; !e->partial && i < s->nceph; i++)
		eval_ceph(e, &s->ceph[i]);
	for (int i = 0; !e->partial && i < s->nrepl; i++)
		eval_replication(e, s, &s->repl[i]);
}

/* --- PBS and PMG -------------------------------------------------------------------------- */

void
alert_eval_level(struct alert_eval *e, const struct alert_resource *r, const char *id,
    const char *type, const char *level, double value, double threshold, const char *message)
{
	alert_eval_level_since(e, r, id, type, level, value, threshold, message, e->now);
}

void
alert_eval_level_since(struct alert_eval *e, const struct alert_resource *r, const char *id,
    const char *type, const char *level, double value, double threshold, const char *message,
    double start)
{
	int i;
	struct alert a = {0};
	struct alert_change *ch;

	if (level == NULL)
		return;			/* resolved by alert_eval_finish */
	i = find_alert(e->prev, id);
	if (i >= 0) {
		const struct alert *old = &e->prev->alerts[i];
		e->seen_alert[i] = 1;
		if (strcmp(old->level, level) == 0 && !(fabs(value - old->value) >=
		    fmax(1.0, threshold * 0.05) && e->now - old->last_seen >= REWRITE_AGE))
			return;
		ch = change_add(e->out, ALERT_UPDATED);
		ch->alert = *old;
		ch->alert.metadata = json_object_get(old->metadata);
		ch->to_critical = strcmp(level, "critical") == 0 && strcmp(old->level, "critical") != 0;
		snprintf(ch->alert.level, sizeof(ch->alert.level), "%s", level);
		snprintf(ch->alert.message, sizeof(ch->alert.message), "%s", message);
		ch->alert.value = value;
		ch->alert.threshold = threshold;
		ch->alert.last_seen = e->now;
		return;
	}
	fill_alert(&a, r, id, type, level);
	snprintf(a.message, sizeof(a.message), "%s", message);
	a.value = value;
	a.threshold = threshold;
	a.start_time = start > 0 && start < e->now ? start : e->now;
	a.last_seen = e->now;
	ch = change_add(e->out, ALERT_RAISED);
	ch->alert = a;
	ch->alert.metadata = json_object_new_object();
	json_object_object_add(ch->alert.metadata, "resourceType",
	    json_object_new_string(r->resource_type));
	json_object_object_add(ch->alert.metadata, "monitorOnly", json_object_new_boolean(0));
}

/* The gating and offline check of a Backup Server or Mail Gateway (r->delay_type "pbs" or
 * "pmg"); returns whether its other checks run. */
static int
server_answers(struct alert_eval *e, const struct alert_resource *r,
    const struct alert_thresholds *o, int disabled, int offline_disabled, const char *status,
    const char *health)
{
	int offline = strcmp(status, "offline") == 0 || strcmp(health, "error") == 0 ||
	    strcmp(health, "unhealthy") == 0;
	char id[256], msg[320];

	if (!e->cfg->enabled) {
		e->partial = 1;		/* nothing evaluated, nothing cleared */
		return 0;
	}
	if (disabled || (o && o->disabled))
		return 0;
	if (!offline_disabled && !(o && o->disable_connectivity)) {
		snprintf(id, sizeof(id), "%s-offline-%s", r->delay_type, r->id);
		snprintf(msg, sizeof(msg), "%s '%s' is offline", r->type_label, r->name);
		alert_eval_state(e, r, id, "offline", offline, 3, "critical", msg);
	}
	if (offline) {
		snprintf(id, sizeof(id), "%s-", r->id);
		alert_eval_keep_prefix(e, id);	/* nothing measured: the rest stays */
		return 0;
	}
	return 1;
}

void
alert_eval_pbs(struct alert_eval *e, const struct st_pbs *p)
{
	const struct alert_config *c = e->cfg;
	char rid[160];
	const struct alert_thresholds *o;
	struct alert_resource r = {rid, p->name, p->name, p->name, "PBS", "pbs", "pbs", 0};

	snprintf(rid, sizeof(rid), "pbs-%.150s", p->name);
	o = alert_override(c, rid);
	if (!server_answers(e, &r, o, c->disable_all_pbs, c->disable_all_pbs_offline,
	    p->status, p->health))
		return;
	alert_eval_metric(e, &r, "cpu", p->cpu, alert_effective(&c->pbs, o, ALERT_CPU));
	alert_eval_metric(e, &r, "memory", p->memory_usage, alert_effective(&c->pbs, o,
	    ALERT_MEMORY));
	for (int i = 0; i < p->nds && !c->disable_all_storage; i++) {
		const struct st_pbs_datastore *d = &p->ds[i];
		struct st_storage st = {0};
		snprintf(st.id, sizeof(st.id), "pbs-%.150s-%.150s", p->name, d->name);
		snprintf(st.name, sizeof(st.name), "%s", d->name);
		snprintf(st.node, sizeof(st.node), "%.63s", p->name);
		snprintf(st.instance, sizeof(st.instance), "pbs-%.120s", p->name);
		snprintf(st.status, sizeof(st.status), "%.15s", d->status);
		st.total = d->total;
		st.used = d->used;
		eval_storage(e, &st);
	}
}

/* Warning at warn, critical at crit (either <= 0: off); NULL below. PMG counts, snapshot
 * and backup days. */
static const char *
step_level(double v, int64_t warn, int64_t crit, int64_t *threshold)
{
	if (crit > 0 && v >= (double)crit) {
		*threshold = crit;
		return "critical";
	}
	if (warn > 0 && v >= (double)warn) {
		*threshold = warn;
		return "warning";
	}
	return NULL;
}

/* The PMG thresholds in the order of alert_config.c's pmg_keys (the first eight; the
 * quarantine ones are alert_pmg.c's). */
enum { PMG_TOTAL_W, PMG_TOTAL_C, PMG_AGE_W, PMG_AGE_C, PMG_DEFER_W, PMG_DEFER_C, PMG_HOLD_W,
	PMG_HOLD_C };

struct pmg_check {
	const char *suffix, *type, *what;
	double v;
	int w, cr;			/* indexes of the warning and critical thresholds */
};

void
alert_eval_pmg(struct alert_eval *e, const struct st_pmg *p)
{
	const struct alert_config *c = e->cfg;
	const int64_t *t = c->pmg.v;
	char rid[160], id[256], msg[320];
	const struct alert_thresholds *o;
	struct alert_resource r = {rid, p->name, p->name, p->name, "PMG", "pmg", "pmg", 0};
	int64_t total = 0, deferred = 0, hold = 0, oldest = 0, th = 0;
	struct pmg_check checks[4];
	int nchecks = 0, have_queue = 0;

	snprintf(rid, sizeof(rid), "pmg-%.150s", p->name);
	o = alert_override(c, rid);
	if (!server_answers(e, &r, o, c->disable_all_pmg, c->disable_all_pmg_offline,
	    p->status, p->health))
		return;
	for (int i = 0; i < p->nnodes; i++) {
		const struct st_pmg_queue *q = &p->nodes[i].queue;
		if (!p->nodes[i].has_queue)
			continue;
		have_queue = 1;
		total += q->total;
		deferred += q->deferred;
		hold += q->hold;
		if (q->oldest_age > oldest)
			oldest = q->oldest_age;
	}
	if (have_queue) {
		checks[nchecks++] = (struct pmg_check){"queue-total", "queue-depth",
		    "queue total", (double)total, PMG_TOTAL_W, PMG_TOTAL_C};
		checks[nchecks++] = (struct pmg_check){"queue-deferred", "queue-deferred",
		    "deferred queue", (double)deferred, PMG_DEFER_W, PMG_DEFER_C};
		checks[nchecks++] = (struct pmg_check){"queue-hold", "queue-hold",
		    "hold queue", (double)hold, PMG_HOLD_W, PMG_HOLD_C};
		checks[nchecks++] = (struct pmg_check){"oldest-message", "message-age",
		    "oldest queued message (minutes)", (double)oldest / 60.0, PMG_AGE_W, PMG_AGE_C};
	}
	for (int i = 0; i < nchecks; i++) {
		const char *level = step_level(checks[i].v, t[checks[i].w], t[checks[i].cr], &th);
		snprintf(id, sizeof(id), "%s-%s", rid, checks[i].suffix);
		snprintf(msg, sizeof(msg), "PMG %s %s at %.0f (threshold %lld)", p->name,
		    checks[i].what, checks[i].v, (long long)th);
		alert_eval_level(e, &r, id, checks[i].type, level, checks[i].v, (double)th, msg);
	}
	alert_pmg_eval(e, &r, p);	/* per node, quarantine, mail rates: alert_pmg.c */
}

/* --- snapshots and backups (§3.6) ---------------------------------------------------------- */

struct vmid_index {
	int64_t vmid;
	int i;
};

static int
by_vmid(const void *a, const void *b)
{
	const struct vmid_index *x = a, *y = b;

	return x->vmid < y->vmid ? -1 : x->vmid > y->vmid;
}

static void
eval_snapshot(struct alert_eval *e, const struct st_snapshot *sn, const struct st_guest *g)
{
	const struct alert_config *c = e->cfg;
	const struct alert_thresholds *o = alert_override(c, g->id);
	const struct alert_thresholds *rule = guest_rule(c, g);
	const struct alert_snapshot *cfg = o && o->has_snapshot ? &o->snapshot :
	    rule && rule->has_snapshot ? &rule->snapshot : &c->snapshot;
	double days = (e->now - sn->time) / 86400.0;
	int64_t th = 0;
	const char *level;
	char id[512], name[400], msg[640];
	struct alert_resource r = {sn->id, name, sn->node, sn->instance,
	    strcmp(g->type, "qemu") == 0 ? "VM" : "Container", "guest", "guest", 0};

	if (!cfg->enabled || sn->time <= 0 || sn->time > e->now)
		return;
	level = step_level(days, cfg->warning_days, cfg->critical_days, &th);
	snprintf(name, sizeof(name), "%s snapshot '%s'", g->name, sn->name);
	snprintf(msg, sizeof(msg), "%s snapshot '%s' for %s is %.1f days old (threshold %lld days) "
	    "on %s", r.type_label, sn->name, g->name, days, (long long)th, sn->node);
	if (snprintf(id, sizeof(id), "snapshot-age-%s", sn->id) < (int)sizeof(((struct alert *)0)->id))
		alert_eval_level_since(e, &r, id, "snapshot-age", level, days, (double)th, msg,
		    sn->time + (double)th * 86400.0);
}

/* The newest backup of a guest, or of a key no guest claims (§3.6). */
struct backup_record {
	const char *key;		/* the guest id, pbs:..., pmg:... */
	const char *resource_id, *name, *node, *instance, *resource_type;
	const char *source;		/* PVE, PBS or PMG */
	const char *place, *server;	/* storage and its node, datastore and its PBS, PMG node */
	const char *backup_type, *filename;	/* NULL: not known */
	double time;
};

static struct json_object *
backup_metadata(const struct backup_record *rec, double days, int64_t threshold)
{
	struct json_object *md = json_object_new_object();

	jsonwrite_str(md, "resourceType", rec->resource_type);
	json_object_object_add(md, "monitorOnly", json_object_new_boolean(0));
	jsonwrite_str(md, "source", rec->source);
	jsonwrite_time(md, "lastBackupTime", rec->time);
	jsonwrite_num(md, "ageDays", days);
	jsonwrite_int(md, "thresholdDays", threshold);
	if (strcmp(rec->source, "PVE") == 0)
		jsonwrite_str(md, "storage", rec->place);
	if (strcmp(rec->source, "PBS") == 0)
		jsonwrite_str(md, "datastore", rec->place);
	if (rec->backup_type)
		jsonwrite_str(md, "backupType", rec->backup_type);
	if (rec->filename)
		jsonwrite_str(md, "filename", rec->filename);
	return md;
}

/* The backup-age alert of one record under cfg: warning or critical by age in days,
 * startTime when the threshold was passed; the metadata names the record. */
static void
eval_backup_record(struct alert_eval *e, const struct alert_backup *cfg,
    const struct backup_record *rec)
{
	double days = (e->now - rec->time) / 86400.0;
	int64_t th = 0;
	const char *level;
	char key[256], id[300], via[400], msg[800];
	struct alert_resource r = {rec->resource_id, rec->name, rec->node, rec->instance, "",
	    "guest", rec->resource_type, 0};
	int before = e->out->n;

	if (!cfg->enabled || rec->time <= 0 || rec->time > e->now)
		return;
	level = step_level(days, cfg->warning_days, cfg->critical_days, &th);
	alert_key(rec->key, key, sizeof(key));
	snprintf(id, sizeof(id), "backup-age-%s", key);
	if (strcmp(rec->source, "PBS") == 0)
		snprintf(via, sizeof(via), "PBS datastore %s on %s", rec->place, rec->server);
	else if (strcmp(rec->source, "PMG") == 0)
		snprintf(via, sizeof(via), "PMG node %s", rec->place);
	else
		snprintf(via, sizeof(via), "storage %s on %s", rec->place, rec->server);
	snprintf(msg, sizeof(msg), "%s backup via %s is %.1f days old (threshold: %lld days)",
	    rec->name, via, days, (long long)th);
	alert_eval_level_since(e, &r, id, "backup-age", level, days, (double)th, msg,
	    rec->time + (double)th * 86400.0);
	if (e->out->n > before)
		set_change_metadata(e, before, backup_metadata(rec, days, th));
}

/* The newest backup per VMID of one list, for a guest's lookup. */
struct vmid_newest {
	int64_t vmid;
	double time;
	int i;				/* index in its list */
};

static int
by_vmid_then_newest(const void *a, const void *b)
{
	const struct vmid_newest *x = a, *y = b;

	if (x->vmid != y->vmid)
		return x->vmid < y->vmid ? -1 : 1;
	return x->time > y->time ? -1 : x->time < y->time;
}

/* Sorts v and keeps the newest entry of each VMID; returns how many are left. */
static int
newest_per_vmid(struct vmid_newest *v, int n)
{
	int out = 0;

	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v), by_vmid_then_newest);
	for (int i = 0; i < n; i++)
		if (out == 0 || v[out - 1].vmid != v[i].vmid)
			v[out++] = v[i];
	return out;
}

static int
by_newest_vmid(const void *a, const void *b)
{
	int64_t x = ((const struct vmid_newest *)a)->vmid, y = ((const struct vmid_newest *)b)->vmid;

	return x < y ? -1 : x > y;
}

static const struct vmid_newest *
find_vmid(const struct vmid_newest *v, int n, int64_t vmid)
{
	struct vmid_newest key = {vmid, 0, 0};

	return n > 0 ? bsearch(&key, v, (size_t)n, sizeof(*v), by_newest_vmid) : NULL;
}

/* The VMID of a PBS vm or ct backup, or 0 (a host backup, id "0", not a number). */
static int64_t
pbs_guest_vmid(const struct alert_backup_item *it)
{
	int64_t v;

	if (strcmp(it->type, "vm") != 0 && strcmp(it->type, "ct") != 0)
		return 0;
	return parse_int64(it->id, 1, INT32_MAX, &v) == 0 ? v : 0;
}

static void
eval_guest_backup(struct alert_eval *e, const struct st_guest *g, const struct st_backups *b,
    const struct vmid_newest *sv, int nsv, const struct alert_backup_list *pbs,
    const struct vmid_newest *pv, int npv)
{
	const struct alert_config *c = e->cfg;
	const struct alert_thresholds *o = alert_override(c, g->id);
	const struct alert_thresholds *rule = guest_rule(c, g);
	const struct alert_backup *cfg = o && o->has_backup ? &o->backup :
	    rule && rule->has_backup ? &rule->backup : &c->backup;
	const struct vmid_newest *hs = find_vmid(sv, nsv, g->vmid), *hp = find_vmid(pv, npv,
	    g->vmid);
	struct backup_record rec = {g->id, g->id, g->name, g->node, g->instance, "guest", NULL,
	    NULL, NULL, NULL, NULL, 0};

	if (hp && (hs == NULL || hp->time > hs->time)) {
		const struct alert_backup_item *it = &pbs->v[hp->i];
		rec.source = "PBS";
		rec.place = it->place;
		rec.server = it->server;
		rec.backup_type = it->type;
		rec.time = it->time;
	} else if (hs) {
		const struct st_storage_backup *sb = &b->storage[hs->i];
		rec.source = "PVE";
		rec.place = sb->storage;
		rec.server = sb->node;
		rec.backup_type = sb->type;
		rec.time = sb->ctime;
	} else {
		return;			/* guests without backups never alert */
	}
	eval_backup_record(e, cfg, &rec);
}

void
alert_eval_backups(struct alert_eval *e, const struct st_instance *s,
    const struct st_backups *b, const struct alert_backup_list *pbs)
{
	struct vmid_index *idx;
	struct vmid_newest *sv, *pv;
	int n = 0, nsv = 0, npv = 0;

	if (!e->cfg->enabled || e->partial || e->cfg->disable_all_guests)
		return;
	sv = xcalloc((size_t)(b ? b->nstorage : 0) + 1, sizeof(*sv));
	for (int i = 0; b && i < b->nstorage; i++)
		if (b->storage[i].vmid > 0)
			sv[nsv++] = (struct vmid_newest){b->storage[i].vmid, b->storage[i].ctime, i};
	nsv = newest_per_vmid(sv, nsv);
	pv = xcalloc((size_t)(pbs ? pbs->n : 0) + 1, sizeof(*pv));
	for (int i = 0; pbs && i < pbs->n; i++) {
		int64_t vmid = pbs_guest_vmid(&pbs->v[i]);
		if (vmid > 0)
			pv[npv++] = (struct vmid_newest){vmid, pbs->v[i].time, i};
	}
	npv = newest_per_vmid(pv, npv);
	idx = xcalloc((size_t)s->nguests + 1, sizeof(*idx));
	for (int i = 0; i < s->nguests; i++) {
		const struct st_guest *g = &s->guests[i];
		if (guest_ignored(e->cfg, g) || (alert_override(e->cfg, g->id) &&
		    alert_override(e->cfg, g->id)->disabled))
			continue;
		eval_guest_backup(e, g, b, sv, nsv, pbs, pv, npv);
		idx[n++] = (struct vmid_index){g->vmid, i};
	}
	free(sv);
	free(pv);
	qsort(idx, (size_t)n, sizeof(*idx), by_vmid);
	for (int i = 0; b && i < b->nsnapshots; i++) {
		const struct st_snapshot *sn = &b->snapshots[i];
		struct vmid_index key = {sn->vmid, 0}, *hit;
		hit = n > 0 ? bsearch(&key, idx, (size_t)n, sizeof(*idx), by_vmid) : NULL;
		if (hit == NULL || strcmp(s->guests[hit->i].instance, sn->instance) != 0)
			continue;
		eval_snapshot(e, sn, &s->guests[hit->i]);
	}
	free(idx);
}

struct alert_backup_item *
alert_backup_list_add(struct alert_backup_list *l)
{
	GROW(l->v, l->n, l->cap);
	return &l->v[l->n++];
}

void
alert_backup_list_free(struct alert_backup_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* A Backup Server's or Mail Gateway's backup under its record key. */
struct keyed_backup {
	char key[512];
	const struct alert_backup_item *it;
};

static int
by_key_then_newest(const void *a, const void *b)
{
	const struct keyed_backup *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->it->time > y->it->time ? -1 : x->it->time < y->it->time;
}

/* Sorts v by key, newest first within a key, and evaluates the newest of each key. */
static void
eval_keyed_backups(struct alert_eval *e, struct keyed_backup *v, int n, const char *source)
{
	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v), by_key_then_newest);
	for (int i = 0; i < n; i++) {
		const struct alert_backup_item *it = v[i].it;
		char name[400];
		struct backup_record rec = {v[i].key, NULL, name, it->server, it->server, NULL,
		    source, it->place, it->server, NULL, NULL, it->time};
		char rid[256];
		if (i > 0 && strcmp(v[i - 1].key, v[i].key) == 0)
			continue;
		alert_key(v[i].key, rid, sizeof(rid));
		rec.resource_id = rid;
		if (strcmp(source, "PBS") == 0) {
			snprintf(name, sizeof(name), "%s/%s", it->type, it->id);
			rec.resource_type = "pbs";
			rec.backup_type = it->type;
		} else {
			snprintf(name, sizeof(name), "%s", it->place[0] ? it->place : it->id);
			rec.resource_type = "pmg";
			rec.filename = it->id;
		}
		eval_backup_record(e, &e->cfg->backup, &rec);
	}
}

static int
by_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

void
alert_eval_pbs_backups(struct alert_eval *e, const struct alert_backup_list *pbs,
    const int64_t *guest_vmids, int nvmids)
{
	int64_t *known;
	struct keyed_backup *v;
	int n = 0;

	if (!e->cfg->enabled || e->partial || pbs == NULL || pbs->n == 0)
		return;
	known = xcalloc((size_t)nvmids + 1, sizeof(*known));
	if (nvmids > 0)
		memcpy(known, guest_vmids, (size_t)nvmids * sizeof(*known));
	qsort(known, (size_t)nvmids, sizeof(*known), by_int64);
	v = xcalloc((size_t)pbs->n, sizeof(*v));
	for (int i = 0; i < pbs->n; i++) {
		const struct alert_backup_item *it = &pbs->v[i];
		int64_t vmid = pbs_guest_vmid(it);
		if (strcmp(it->id, "0") == 0 || (vmid > 0 && nvmids > 0 &&
		    bsearch(&vmid, known, (size_t)nvmids, sizeof(*known), by_int64)))
			continue;	/* a host backup of VMID 0, or a guest's */
		snprintf(v[n].key, sizeof(v[n].key), "pbs:%s:%s:%s", it->server, it->type, it->id);
		v[n++].it = it;
	}
	eval_keyed_backups(e, v, n, "PBS");
	free(v);
	free(known);
}

void
alert_eval_pmg_backups(struct alert_eval *e, const struct alert_backup_list *pmg)
{
	struct keyed_backup *v;

	if (!e->cfg->enabled || e->partial || pmg == NULL || pmg->n == 0)
		return;
	v = xcalloc((size_t)pmg->n, sizeof(*v));
	for (int i = 0; i < pmg->n; i++) {
		const struct alert_backup_item *it = &pmg->v[i];
		snprintf(v[i].key, sizeof(v[i].key), "pmg:%s:%s", it->server, it->place[0] ?
		    it->place : it->id);
		v[i].it = it;
	}
	eval_keyed_backups(e, v, pmg->n, "PMG");
	free(v);
}
