/* alert_dispatch.c: from an alert to queued notifications; see alert_dispatch.h. */
#include "config.h"

#include "alert_dispatch.h"
#include "alert_actions.h"
#include "alert_store.h"
#include "jsonutil.h"
#include "log.h"
#include "notify_channels.h"
#include "notify_queue.h"
#include "timefmt.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- pure parts ----------------------------------------------------------------------- */

static int
type_in(const char *type, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(type, *list) == 0)
			return 1;
	return 0;
}

enum alert_category
alert_dispatch_category(const char *type)
{
	static const char *const performance[] = {"cpu", "memory", "disk", "diskRead",
	    "diskWrite", "networkIn", "networkOut", "temperature", "queue-depth",
	    "queue-deferred", "queue-hold", "message-age", NULL};
	static const char *const storage[] = {"usage", "disk-health", "disk-wearout",
	    "zfs-pool-state", "zfs-pool-errors", "zfs-device", "ceph-health", "ceph-osd-down",
	    "replication", NULL};
	static const char *const offline[] = {"connectivity", "offline", "powered-off",
	    "docker-host-offline", "docker-container-state", NULL};

	if (type_in(type, performance))
		return ALERT_CATEGORY_PERFORMANCE;
	if (type_in(type, storage))
		return ALERT_CATEGORY_STORAGE;
	if (type_in(type, offline))
		return ALERT_CATEGORY_OFFLINE;
	if (strncmp(type, "docker-container-", 17) == 0)
		return ALERT_CATEGORY_PERFORMANCE;
	return ALERT_CATEGORY_NONE;
}

/* "HH:MM" as minutes of the day, or -1. */
static int
hhmm(const char *s)
{
	int h, m;
	char tail;

	if (sscanf(s, "%2d:%2d%c", &h, &m, &tail) != 2 || h < 0 || h > 23 || m < 0 || m > 59)
		return -1;
	return h * 60 + m;
}

int
alert_quiet_active(const struct alert_config *c, const struct alert_local_time *t)
{
	const struct alert_schedule *s = &c->schedule;
	int start = hhmm(s->quiet.start), end = hhmm(s->quiet.end);
	unsigned today = (s->quiet.days_on >> t->wday) & 1u;
	unsigned yesterday = (s->quiet.days_on >> ((t->wday + 6) % 7)) & 1u;

	if (!s->quiet.enabled || start < 0 || end < 0 || start == end)
		return 0;
	if (start < end)
		return today && t->minute >= start && t->minute < end;
	/* Over midnight: the part after midnight belongs to the day before (QUIRK 12). */
	if (t->minute >= start)
		return today;
	return t->minute < end && yesterday;
}

int
alert_quiet_holds(const struct alert_config *c, const struct alert_local_time *t,
    const struct alert *a)
{
	const struct alert_schedule *s = &c->schedule;

	if (!alert_quiet_active(c, t))
		return 0;
	if (strcmp(a->level, "critical") != 0)
		return 1;
	switch (alert_dispatch_category(a->type)) {
	case ALERT_CATEGORY_PERFORMANCE:
		return s->quiet.suppress_performance;
	case ALERT_CATEGORY_STORAGE:
		return s->quiet.suppress_storage;
	case ALERT_CATEGORY_OFFLINE:
		return s->quiet.suppress_offline;
	case ALERT_CATEGORY_NONE:
		break;
	}
	return 0;
}

int
alert_flap_window(const double *times, int n, double now, int64_t window_s, double *out)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		if (times[i] > now - (double)window_s && times[i] <= now)
			out[k++] = times[i];
	out[k++] = now;
	return k;
}

/* The alerts checkMetric makes (§3.2): the only ones with reminders. */
static int
metric_alert(const char *type)
{
	static const char *const metrics[] = {"cpu", "memory", "disk", "diskRead", "diskWrite",
	    "networkIn", "networkOut", "usage", "temperature", "diskTemperature", NULL};

	return type_in(type, metrics);
}

int
alert_reminder_due(const struct alert_config *c, const struct alert *a, int to_critical,
    double now)
{
	if (a->acknowledged)
		return 0;
	if (a->last_notified <= 0 || to_critical)
		return 1;
	if (!metric_alert(a->type) || c->schedule.cooldown <= 0)
		return 0;
	return now - a->last_notified >= (double)c->schedule.cooldown * 60.0;
}

/* Whether level i (0-based) is due: its after minutes passed since the alert started. */
static int
level_due(const struct alert_config *c, const struct alert *a, int i, double now)
{
	return c->schedule.levels[i].after >= 0 &&
	    now >= a->start_time + (double)c->schedule.levels[i].after * 60.0;
}

int
alert_escalation_reached(const struct alert_config *c, const struct alert *a, double now)
{
	int reached = 0;

	if (!c->schedule.escalation_enabled)
		return 0;
	for (int i = 0; i < c->schedule.n_levels; i++)
		if (level_due(c, a, i, now))
			reached = i + 1;
	return reached;
}

int
alert_escalation_channels(const char *notify)
{
	if (strcmp(notify, "email") == 0)
		return ALERT_TO_EMAIL;
	if (strcmp(notify, "webhook") == 0)
		return ALERT_TO_WEBHOOK;
	return ALERT_TO_ALL;
}

/* --- database --------------------------------------------------------------------------- */

/* An alert with what the gates need beyond struct alert. */
struct candidate {
	struct alert a;
	int flapping;
	double suppressed_until;
	double *dispatch_times;
	int n_times;
	long raises_hour;	/* history rows of this id in the last hour */
	char last_notified[40];	/* as the database wrote it ("" for NULL): the claim compares it */
};

#define CANDIDATE_COLUMNS ALERT_STORE_COLUMNS ", flapping, " \
	"extract(epoch FROM suppressed_until), " \
	"(SELECT coalesce(array_agg(extract(epoch FROM t)), '{}') FROM unnest(dispatch_times) t)::text, " \
	"(SELECT count(*) FROM pulse.alert_history h WHERE h.alert_id = a.id " \
	"AND h.recorded_at > now() - interval '1 hour'), extract(epoch FROM last_notified)::text"
#define CANDIDATES "SELECT " CANDIDATE_COLUMNS " FROM pulse.alerts a " \
	"WHERE resolved_at IS NULL AND NOT acknowledged "

static const struct db_stmt stmt_cand_source = {"dispatch_cand_source",
	CANDIDATES "AND source = $1 ORDER BY start_time, id", 1};
static const struct db_stmt stmt_cand_critical = {"dispatch_cand_critical",
	CANDIDATES "AND level = 'critical' ORDER BY start_time, id", 0};
static const struct db_stmt stmt_cand_escalate = {"dispatch_cand_escalate",
	CANDIDATES "AND last_escalation < $1::integer ORDER BY start_time, id", 1};
static const struct db_stmt stmt_alert_row = {"dispatch_alert_row",
	"SELECT " ALERT_STORE_COLUMNS " FROM pulse.alerts WHERE id = $1", 1};

/* The dispatch is this caller's: last_notified is still what it read (another worker, or
 * the activation, did not send it meanwhile). */
static const struct db_stmt stmt_claim = {"dispatch_claim",
	"UPDATE pulse.alerts SET last_notified = to_timestamp($2::float8), flapping = false "
	"WHERE id = $1 AND resolved_at IS NULL AND NOT acknowledged AND CASE WHEN $3::text = '' "
	"THEN last_notified IS NULL ELSE extract(epoch FROM last_notified) = $3::numeric END "
	"RETURNING 1", 3};
static const struct db_stmt stmt_claim_many = {"dispatch_claim_many",
	"UPDATE pulse.alerts a SET last_notified = to_timestamp($2::float8), flapping = false "
	"FROM jsonb_to_recordset($1::jsonb) AS c(id text, prev text) "
	"WHERE a.id = c.id AND a.resolved_at IS NULL AND NOT a.acknowledged AND CASE WHEN "
	"c.prev = '' THEN a.last_notified IS NULL ELSE extract(epoch FROM a.last_notified) = "
	"c.prev::numeric END RETURNING a.id", 2};
static const struct db_stmt stmt_unnotified = {"dispatch_unnotified",
	"UPDATE pulse.alerts SET last_notified = NULL WHERE id = $1 AND resolved_at IS NULL", 1};
static const struct db_stmt stmt_flap = {"dispatch_flap",
	"UPDATE pulse.alerts SET dispatch_times = (SELECT coalesce(array_agg(to_timestamp(x) "
	"ORDER BY x), '{}') FROM unnest($2::float8[]) x), flapping = $3::boolean, "
	"suppressed_until = coalesce(to_timestamp($4::float8), suppressed_until) "
	"WHERE id = $1 AND resolved_at IS NULL", 4};
static const struct db_stmt stmt_escalated = {"dispatch_escalated",
	"UPDATE pulse.alerts SET last_escalation = $2::integer, "
	"escalation_times = escalation_times || to_timestamp($3::float8) WHERE id = $1 "
	"AND resolved_at IS NULL AND last_escalation < $2::integer RETURNING 1", 3};
static const struct db_stmt stmt_group_add = {"dispatch_group_add",
	"INSERT INTO pulse.notification_group (alert_id, alert, channels, flush_at) "
	"VALUES ($1, $2::jsonb, $3, coalesce((SELECT min(flush_at) FROM pulse.notification_group), "
	"now() + make_interval(secs => $4::float8))) ON CONFLICT (alert_id) DO UPDATE SET "
	"alert = EXCLUDED.alert, channels = CASE WHEN pulse.notification_group.channels = "
	"EXCLUDED.channels THEN EXCLUDED.channels ELSE 'all' END, added_at = now()", 4};
static const struct db_stmt stmt_group_flush = {"dispatch_group_flush",
	"DELETE FROM pulse.notification_group WHERE flush_at <= now() "
	"RETURNING alert_id, alert::text, channels, coalesce(alert->>'node', ''), "
	"coalesce(alert->>'resourceId', ''), extract(epoch FROM added_at)", 0};
/* Whether the firing message of an alert is still waiting (buffered or queued): resolving
 * cancels it, so it never went out. */
static const struct db_stmt stmt_firing_waiting = {"dispatch_firing_waiting",
	"SELECT EXISTS (SELECT 1 FROM pulse.notification_group WHERE alert_id = $1) OR EXISTS "
	"(SELECT 1 FROM pulse.notification_queue WHERE alert_ids @> ARRAY[$1::text] "
	"AND status IN ('pending', 'sending') AND type NOT LIKE '%\\_resolved')", 1};
/* The local time of the quiet-hours zone, the server's when the zone is unknown (third
 * column false); pg_timezone_names is checked first so a bad name cannot fail the
 * transaction. */
static const struct db_stmt stmt_local_time = {"dispatch_local_time",
	"SELECT (extract(isodow FROM t) - 1)::int, (extract(hour FROM t) * 60 + "
	"extract(minute FROM t))::int, k FROM (SELECT CASE WHEN k THEN now() AT TIME ZONE $1 "
	"ELSE localtimestamp END AS t, k FROM (SELECT $1 <> '' AND EXISTS (SELECT 1 FROM "
	"pg_timezone_names WHERE lower(name) = lower($1)) AS k) z) s", 1};

/* What one batch of dispatches shares: the configuration, the local time and the enabled
 * channels, each read once and only when needed. */
struct dispatch_ctx {
	struct db *db;
	const struct alert_config *cfg;
	double now;
	int have_local;
	struct alert_local_time local;
	struct json_object *channels;	/* notify_channels_enabled, NULL until read */
	int sent;
	int queued;			/* queue rows written */
	/* A poll's pass claims its dispatches in one statement at the end (send_deferred)
	 * rather than one round trip each. */
	int deferring;
	struct candidate **deferred;
	int ndeferred, capdeferred;
};

/* "{1.5,2.25}" into a new array. */
static int
parse_times(const char *s, double **out)
{
	int n = 0, cap = 0;
	double *v = NULL;
	char *end;

	while (*s != '\0') {
		if (*s == '{' || *s == '}' || *s == ',') {
			s++;
			continue;
		}
		double d = strtod(s, &end);
		if (end == s)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, (size_t)cap * sizeof(*v));
		}
		v[n++] = d;
		s = end;
	}
	*out = v;
	return n;
}

static struct candidate *
candidates_read(const PGresult *res, int *n)
{
	struct candidate *c;

	*n = PQntuples(res);
	c = xcalloc((size_t)*n + 1, sizeof(*c));
	for (int i = 0; i < *n; i++) {
		alert_store_row(res, i, &c[i].a);
		c[i].flapping = strcmp(PQgetvalue(res, i, 19), "t") == 0;
		c[i].suppressed_until = db_value_double(res, i, 20);
		c[i].n_times = parse_times(PQgetvalue(res, i, 21), &c[i].dispatch_times);
		c[i].raises_hour = (long)db_value_double(res, i, 22);
		snprintf(c[i].last_notified, sizeof(c[i].last_notified), "%s",
		    PQgetvalue(res, i, 23));
	}
	return c;
}

static void
candidates_free(struct candidate *c, int n)
{
	for (int i = 0; i < n; i++) {
		json_object_put(c[i].a.metadata);
		free(c[i].dispatch_times);
	}
	free(c);
}

static int
local_time(struct dispatch_ctx *x, struct alert_local_time *out)
{
	static int warned;
	const char *p[] = {x->cfg->schedule.quiet.timezone};
	PGresult *res;

	if (!x->have_local) {
		if ((res = db_exec_stmt(x->db, &stmt_local_time, p)) == NULL)
			return -1;
		x->local.wday = (int)db_value_double(res, 0, 0);
		x->local.minute = (int)db_value_double(res, 0, 1);
		if (p[0][0] != '\0' && strcmp(PQgetvalue(res, 0, 2), "t") != 0 &&
		    !__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
			log_warn("msg=\"quiet hours time zone unknown, using the server's\" "
			    "timezone=\"%.64s\"", p[0]);
		PQclear(res);
		x->have_local = 1;
	}
	*out = x->local;
	return 0;
}

/* Whether quiet hours hold a now: 1, 0, or -1 (database). */
static int
quiet_holds(struct dispatch_ctx *x, const struct alert *a)
{
	struct alert_local_time t;

	if (!x->cfg->schedule.quiet.enabled)
		return 0;
	if (local_time(x, &t) != 0)
		return -1;
	return alert_quiet_holds(x->cfg, &t, a);
}

static int
monitor_only(const struct alert *a)
{
	struct json_object *v;

	if (a->metadata == NULL || !json_object_object_get_ex(a->metadata, "monitorOnly", &v))
		return 0;
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v);
	return json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), "true") == 0;
}

enum dispatch_kind {
	DISPATCH_DUE,		/* raised, retried, reminder, level up */
	DISPATCH_ACTIVATION,
	DISPATCH_ESCALATION,	/* no per-hour cap */
};

/* The gates of §4.1 in order, then the per-hour cap (QUIRK 2: it holds for as long as the
 * hour's raises exceed it, since the alert stays un-notified and is checked again). Returns
 * NULL when c may go out, else the gate that refused it; *err is set on a database error. */
static const char *
gate(struct dispatch_ctx *x, const struct candidate *c, enum dispatch_kind kind, int *err)
{
	const struct alert_config *cfg = x->cfg;
	int q;

	*err = 0;
	if (c->a.acknowledged)
		return "acknowledged";
	if (cfg->flapping_enabled && c->flapping && c->suppressed_until > x->now)
		return "flapping";
	if (strcmp(cfg->activation_state, "active") != 0)
		return "activation";
	if ((q = quiet_holds(x, &c->a)) != 0) {
		*err = q < 0;
		return "quiet hours";
	}
	if (monitor_only(&c->a))
		return "monitorOnly";
	if (kind != DISPATCH_ESCALATION && c->a.last_notified <= 0 &&
	    cfg->schedule.max_alerts_hour > 0 && c->raises_hour > cfg->schedule.max_alerts_hour)
		return "rate limit";
	return NULL;
}

static int
channel_mask(const char *kind)
{
	if (strcmp(kind, "email") == 0)
		return ALERT_TO_EMAIL;
	if (strcmp(kind, "webhook") == 0)
		return ALERT_TO_WEBHOOK;
	if (strcmp(kind, "apprise") == 0)
		return ALERT_TO_APPRISE;
	return 0;
}

/* The channels column of pulse.notification_group: "all", or the kinds joined by ",". */
static const char *
mask_name(int mask, char *buf, size_t len)
{
	static const char *const names[] = {"email", "webhook", "apprise"};

	if ((mask & ALERT_TO_ALL) == ALERT_TO_ALL)
		return "all";
	buf[0] = '\0';
	for (int i = 0; i < 3; i++)
		if (mask & (1 << i))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "," : "",
			    names[i]);
	return buf;
}

static int
mask_parse(const char *s)
{
	int mask = 0;
	char buf[64], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
		mask |= strcmp(t, "all") == 0 ? ALERT_TO_ALL : channel_mask(t);
	return mask ? mask : ALERT_TO_ALL;
}

/* One queue row per enabled channel in mask for the alert list alerts_json; resolved
 * rows are of the _resolved types. */
static int
enqueue(struct dispatch_ctx *x, const char *alerts_json, int mask, int resolved)
{
	if (x->channels == NULL && notify_channels_enabled(x->db, &x->channels) != 0)
		return -1;
	for (size_t i = 0; i < json_object_array_length(x->channels); i++) {
		struct json_object *ch = json_object_array_get_idx(x->channels, i), *v;
		const char *kind = "", *id = "";
		char type[32], qid[128], err[256];

		if (json_object_object_get_ex(ch, "kind", &v))
			kind = json_object_get_string(v);
		if (json_object_object_get_ex(ch, "id", &v))
			id = json_object_get_string(v);
		if (!(channel_mask(kind) & mask) || !json_object_object_get_ex(ch, "config", &v))
			continue;
		snprintf(type, sizeof(type), "%s%s", kind, resolved ? "_resolved" : "");
		if (notify_queue_enqueue(x->db, type, id, alerts_json,
		    jsonutil_to_string(v, NULL), qid, sizeof(qid), err, sizeof(err)) != 0) {
			log_warn("msg=\"notification not queued\" type=%s error=\"%s\"", type, err);
			return -1;
		}
		x->queued++;
	}
	return 0;
}

/* The alert goes to the grouping buffer, or straight to the queue when grouping is off or
 * its window is 0. */
static int
send_alert(struct dispatch_ctx *x, const struct alert *a, int mask)
{
	const struct alert_schedule *s = &x->cfg->schedule;
	struct json_object *o = alert_to_json(a);
	int rc;

	if (s->grouping_enabled && s->grouping_window_seconds > 0) {
		char win[32], names[64];
		const char *p[] = {a->id, jsonutil_to_string(o, NULL),
		    mask_name(mask, names, sizeof(names)), win};

		snprintf(win, sizeof(win), "%lld", (long long)s->grouping_window_seconds);
		rc = db_exec_stmt_ok(x->db, &stmt_group_add, p);
	} else {
		struct json_object *list = json_object_new_array();

		json_object_array_add(list, json_object_get(o));
		rc = enqueue(x, jsonutil_to_string(list, NULL), mask, 0);
		json_object_put(list);
	}
	json_object_put(o);
	return rc;
}

/* Claims the dispatch of c (last_notified = now) and sends it. 1 sent, 0 someone else did,
 * -1 database. While deferring, c is only noted (1) for send_deferred. */
static int
claim_and_send(struct dispatch_ctx *x, struct candidate *c, int mask)
{
	char now[32];
	const char *p[] = {c->a.id, now, c->last_notified};
	PGresult *res;
	int claimed;

	if (x->deferring) {
		if (x->ndeferred == x->capdeferred) {
			x->capdeferred = x->capdeferred ? x->capdeferred * 2 : 64;
			x->deferred = xrealloc(x->deferred, (size_t)x->capdeferred *
			    sizeof(*x->deferred));
		}
		x->deferred[x->ndeferred++] = c;
		return 1;
	}
	snprintf(now, sizeof(now), "%.6f", x->now);
	if ((res = db_exec_stmt(x->db, &stmt_claim, p)) == NULL)
		return -1;
	claimed = PQntuples(res) > 0;
	PQclear(res);
	if (!claimed)
		return 0;
	c->a.last_notified = x->now;
	if (send_alert(x, &c->a, mask) != 0)
		return -1;
	x->sent++;
	log_debug("msg=\"alert dispatched\" alert=\"%.128s\" level=%s", c->a.id, c->a.level);
	return 1;
}

/* A raise is a dispatch attempt for flapping (§4.2): the window's times with this one are
 * stored, and the alert turns flapping (held for the cooldown) at the threshold. */
static int
flap_record(struct dispatch_ctx *x, struct candidate *c)
{
	const struct alert_config *cfg = x->cfg;
	double *t = xcalloc((size_t)c->n_times + 1, sizeof(*t));
	int n = alert_flap_window(c->dispatch_times, c->n_times, x->now,
	    cfg->flapping_window_seconds, t), rc;
	struct strbuf arr = {0};
	char until[32];
	const char *p[4];

	sb_puts(&arr, "{");
	for (int i = 0; i < n; i++)
		sb_printf(&arr, "%s%.6f", i ? "," : "", t[i]);
	sb_puts(&arr, "}");
	if (cfg->flapping_threshold > 0 && n >= cfg->flapping_threshold &&
	    (!c->flapping || c->suppressed_until <= x->now)) {
		c->flapping = 1;
		c->suppressed_until = x->now + (double)cfg->flapping_cooldown_minutes * 60.0;
		log_info("msg=\"alert flapping, notifications held\" alert=\"%.128s\" "
		    "attempts=%d", c->a.id, n);
	}
	snprintf(until, sizeof(until), "%.6f", c->suppressed_until);
	p[0] = c->a.id;
	p[1] = arr.data;
	p[2] = c->flapping ? "true" : "false";
	p[3] = c->flapping ? until : NULL;
	rc = db_exec_stmt_ok(x->db, &stmt_flap, p);
	sb_free(&arr);
	free(t);
	return rc;
}

static const struct alert_change *
change_of(const struct alert_changes *ch, const char *id, enum alert_change_kind kind)
{
	for (int i = 0; ch != NULL && i < ch->n; i++)
		if (ch->v[i].kind == kind && strcmp(ch->v[i].alert.id, id) == 0)
			return &ch->v[i];
	return NULL;
}

/* One candidate of a pass: due or not, gated, claimed and sent. */
static int
dispatch_one(struct dispatch_ctx *x, struct candidate *c, enum dispatch_kind kind,
    int to_critical)
{
	const char *refused;
	int err;

	if (kind == DISPATCH_DUE && !alert_reminder_due(x->cfg, &c->a, to_critical, x->now))
		return 0;
	if (kind == DISPATCH_ACTIVATION && c->a.last_notified > 0 && x->now -
	    c->a.last_notified < (double)x->cfg->schedule.cooldown * 60.0)
		return 0;
	if ((refused = gate(x, c, kind, &err)) != NULL) {
		if (err)
			return -1;
		log_debug("msg=\"alert held\" alert=\"%.128s\" gate=\"%s\"", c->a.id, refused);
		/* A level-up that was refused is retried like a first dispatch. */
		if (to_critical && c->a.last_notified > 0) {
			const char *p[] = {c->a.id};
			return db_exec_stmt_ok(x->db, &stmt_unnotified, p);
		}
		return 0;
	}
	return claim_and_send(x, c, ALERT_TO_ALL) < 0 ? -1 : 0;
}

/* Runs fn's statements in one transaction; on failure nothing is kept (the alerts stay
 * un-notified and are retried). */
static int
tx_end(struct dispatch_ctx *x, int rc, const char *what)
{
	if (rc == 0 && db_commit(x->db) == 0)
		return 0;
	log_warn("msg=\"alert dispatch failed\" step=%s error=\"%s\"", what, db_error(x->db));
	db_rollback(x->db);
	return -1;
}

static void
ctx_init(struct dispatch_ctx *x, struct db *db, const struct alert_config *cfg, double now)
{
	memset(x, 0, sizeof(*x));
	x->db = db;
	x->cfg = cfg;
	x->now = now;
}

static void
ctx_free(struct dispatch_ctx *x)
{
	json_object_put(x->channels);
	x->channels = NULL;
	free(x->deferred);
	x->deferred = NULL;
}

static int
by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The deferred dispatches of a pass: claimed in one statement (the same compare-and-set on
 * last_notified as stmt_claim, row by row), then the claimed ones sent, their writes
 * pipelined. 0 or -1 (database). */
static int
send_deferred(struct dispatch_ctx *x)
{
	struct json_object *list;
	const char **ids = NULL;
	const char *p[2];
	char now[32];
	PGresult *res;
	int n, rc = 0;

	if (x->ndeferred == 0)
		return 0;
	list = json_object_new_array_ext(x->ndeferred);
	for (int i = 0; i < x->ndeferred; i++) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(x->deferred[i]->a.id));
		json_object_object_add(o, "prev", json_object_new_string(x->deferred[i]->last_notified));
		json_object_array_add(list, o);
	}
	snprintf(now, sizeof(now), "%.6f", x->now);
	p[0] = jsonutil_to_string(list, NULL);
	p[1] = now;
	res = db_exec_stmt(x->db, &stmt_claim_many, p);
	json_object_put(list);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	ids = xcalloc((size_t)n + 1, sizeof(*ids));
	for (int i = 0; i < n; i++)
		ids[i] = PQgetvalue(res, i, 0);
	qsort(ids, (size_t)n, sizeof(*ids), by_str);
	if (n > 0 && x->channels == NULL && notify_channels_enabled(x->db, &x->channels) != 0)
		rc = -1;
	if (rc == 0 && n > 0)
		rc = db_pipeline_begin(x->db);
	for (int i = 0; i < x->ndeferred && rc == 0 && n > 0; i++) {
		struct candidate *c = x->deferred[i];
		const char *key = c->a.id;

		if (bsearch(&key, ids, (size_t)n, sizeof(*ids), by_str) == NULL)
			continue;	/* someone else dispatched it meanwhile */
		c->a.last_notified = x->now;
		rc = send_alert(x, &c->a, ALERT_TO_ALL);
		x->sent++;
		log_debug("msg=\"alert dispatched\" alert=\"%.128s\" level=%s", c->a.id, c->a.level);
	}
	if (n > 0 && db_pipeline_end(x->db) != 0)
		rc = -1;
	free(ids);
	PQclear(res);
	x->ndeferred = 0;
	return rc;
}

static int
resolved_in(struct dispatch_ctx *x, const struct alert *a)
{
	const char *p[] = {a->id};
	PGresult *res;
	int waiting, q;

	if (!x->cfg->schedule.notify_on_resolve || a->last_notified <= 0)
		return alert_actions_on_resolved(x->db, a->id);
	if ((res = db_exec_stmt(x->db, &stmt_firing_waiting, p)) == NULL)
		return -1;
	waiting = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (alert_actions_on_resolved(x->db, a->id) != 0)
		return -1;
	/* QUIRK 5: a recovery only follows a firing message that went out, and only when a
	 * firing one could go out now (activation; quiet hours drop it). */
	if (waiting || strcmp(x->cfg->activation_state, "active") != 0)
		return 0;
	if ((q = quiet_holds(x, a)) != 0)
		return q < 0 ? -1 : 0;
	{
		struct json_object *o = alert_to_json(a), *md, *list = json_object_new_array();
		char when[TIMEFMT_LEN];
		int rc;

		if (!json_object_object_get_ex(o, "metadata", &md)) {
			md = json_object_new_object();
			json_object_object_add(o, "metadata", md);
		} else {
			/* alert_to_json shares the alert's metadata: copy before adding. */
			struct json_object *copy = NULL;

			json_object_deep_copy(md, &copy, NULL);
			json_object_object_add(o, "metadata", copy);
			md = copy;
		}
		json_object_object_add(md, "resolvedAt", json_object_new_string(
		    timefmt_rfc3339(a->resolved_time > 0 ? a->resolved_time : x->now, when,
		    sizeof(when))));
		json_object_array_add(list, o);
		rc = enqueue(x, jsonutil_to_string(list, NULL), ALERT_TO_ALL, 1);
		json_object_put(list);
		if (rc == 0)
			x->sent++;
		return rc;
	}
}

int
alert_dispatch_resolved(struct db *db, const struct alert_config *cfg, const struct alert *a,
    double now)
{
	struct dispatch_ctx x;
	int rc;

	ctx_init(&x, db, cfg, now);
	rc = resolved_in(&x, a);
	ctx_free(&x);
	return rc;
}

int
alert_dispatch_cleared(struct db *db, const char *alert_id, double now)
{
	const char *p[] = {alert_id};
	struct alert_config cfg;
	struct alert a;
	PGresult *res;
	int rc;

	if (alert_config_load(db, now, &cfg) != 0)
		return -1;
	if ((res = db_exec_stmt(db, &stmt_alert_row, p)) == NULL) {
		alert_config_free(&cfg);
		return -1;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		alert_config_free(&cfg);
		return alert_actions_on_resolved(db, alert_id);
	}
	alert_store_row(res, 0, &a);
	PQclear(res);
	rc = alert_dispatch_resolved(db, &cfg, &a, now);
	json_object_put(a.metadata);
	alert_config_free(&cfg);
	return rc;
}

/* Reads the candidates of stmt into *out. Returns how many, or -1. */
static int
candidates_load(struct db *db, const struct db_stmt *stmt, const char *const *p,
    struct candidate **out)
{
	PGresult *res = db_exec_stmt(db, stmt, p);
	int n;

	*out = NULL;
	if (res == NULL)
		return -1;
	*out = candidates_read(res, &n);
	PQclear(res);
	return n;
}

int
alert_dispatch_source(struct db *db, const struct alert_config *cfg, const char *source,
    const struct alert_changes *ch, double now)
{
	struct dispatch_ctx x;
	struct candidate *c;
	const char *p[] = {source};
	int n, rc = 0;

	ctx_init(&x, db, cfg, now);
	if (db_begin(db) != 0)
		return -1;
	for (int i = 0; ch != NULL && i < ch->n && rc == 0; i++)
		if (ch->v[i].kind == ALERT_RESOLVED)
			rc = resolved_in(&x, &ch->v[i].alert);
	if (rc == 0 && (n = candidates_load(db, &stmt_cand_source, p, &c)) >= 0) {
		struct alert_local_time lt;

		/* The pass's writes are pipelined and its claims deferred to one statement:
		 * what it reads (the local time for quiet hours) is read first. */
		if (cfg->schedule.quiet.enabled && local_time(&x, &lt) != 0)
			rc = -1;
		x.deferring = 1;
		if (rc == 0)
			rc = db_pipeline_begin(db);
		for (int i = 0; i < n && rc == 0; i++) {
			const struct alert_change *up = change_of(ch, c[i].a.id, ALERT_UPDATED);

			if (cfg->flapping_enabled && change_of(ch, c[i].a.id, ALERT_RAISED))
				rc = flap_record(&x, &c[i]);
			if (rc == 0)
				rc = dispatch_one(&x, &c[i], DISPATCH_DUE, up && up->to_critical);
		}
		if (db_pipeline_end(db) != 0)
			rc = -1;
		if (rc == 0)
			rc = send_deferred(&x);
		candidates_free(c, n);
	} else if (rc == 0) {
		rc = -1;
	}
	rc = tx_end(&x, rc, "source");
	if (rc == 0 && x.sent > 0)
		log_debug("msg=\"alerts dispatched\" source=%s sent=%d", source, x.sent);
	ctx_free(&x);
	return rc;
}

int
alert_dispatch_activate(struct db *db, double now)
{
	struct alert_config cfg;
	struct dispatch_ctx x;
	struct candidate *c;
	int n, rc = 0;

	if (alert_config_load(db, now, &cfg) != 0)
		return -1;
	ctx_init(&x, db, &cfg, now);
	if (db_begin(db) != 0) {
		alert_config_free(&cfg);
		return -1;
	}
	if ((n = candidates_load(db, &stmt_cand_critical, NULL, &c)) < 0)
		rc = -1;
	for (int i = 0; i < n && rc == 0; i++)
		rc = dispatch_one(&x, &c[i], DISPATCH_ACTIVATION, 0);
	if (n >= 0)
		candidates_free(c, n);
	rc = tx_end(&x, rc, "activate");
	if (rc == 0)
		log_info("msg=\"alerts dispatched on activation\" sent=%d", x.sent);
	ctx_free(&x);
	alert_config_free(&cfg);
	return rc == 0 ? x.sent : -1;
}

int
alert_dispatch_test(struct db *db, const struct alert *a, double now)
{
	struct json_object *list = json_object_new_array();
	struct dispatch_ctx x;
	int rc;

	ctx_init(&x, db, NULL, now);
	json_object_array_add(list, alert_to_json(a));
	rc = enqueue(&x, jsonutil_to_string(list, NULL), ALERT_TO_ALL, 0);
	json_object_put(list);
	ctx_free(&x);
	return rc == 0 ? x.queued : -1;
}

/* The escalation of one alert: levels after its last one and up to reached. */
static int
escalate_one(struct dispatch_ctx *x, struct candidate *c, int reached)
{
	const struct alert_schedule *s = &x->cfg->schedule;
	char lvl[16], now[32];
	const char *p[] = {c->a.id, lvl, now}, *refused;
	PGresult *res;
	int mask = 0, done, err;

	for (int i = c->a.last_escalation; i < reached; i++)
		if (level_due(x->cfg, &c->a, i, x->now))
			mask |= alert_escalation_channels(s->levels[i].notify);
	snprintf(lvl, sizeof(lvl), "%d", reached);
	snprintf(now, sizeof(now), "%.6f", x->now);
	if ((res = db_exec_stmt(x->db, &stmt_escalated, p)) == NULL)
		return -1;
	done = PQntuples(res) > 0;
	PQclear(res);
	if (!done)
		return 0;
	c->a.last_escalation = reached;
	log_info("msg=\"alert escalated\" alert=\"%.128s\" level=%d", c->a.id, reached);
	if ((refused = gate(x, c, DISPATCH_ESCALATION, &err)) != NULL) {
		if (err)
			return -1;
		log_debug("msg=\"escalation held\" alert=\"%.128s\" gate=\"%s\"", c->a.id, refused);
		return 1;
	}
	/* The escalation bypasses the cooldown (QUIRK 3): it is claimed like any dispatch. */
	return claim_and_send(x, c, mask) < 0 ? -1 : 1;
}

int
alert_dispatch_escalate(struct db *db, double now)
{
	struct alert_config cfg;
	struct dispatch_ctx x;
	struct candidate *c;
	char levels[16];
	const char *p[] = {levels};
	int n, rc = 0, escalated = 0;

	if (alert_config_load(db, now, &cfg) != 0)
		return -1;
	if (!cfg.schedule.escalation_enabled || cfg.schedule.n_levels == 0) {
		alert_config_free(&cfg);
		return 0;
	}
	ctx_init(&x, db, &cfg, now);
	snprintf(levels, sizeof(levels), "%d", cfg.schedule.n_levels);
	if (db_begin(db) != 0) {
		alert_config_free(&cfg);
		return -1;
	}
	if ((n = candidates_load(db, &stmt_cand_escalate, p, &c)) < 0)
		rc = -1;
	for (int i = 0; i < n && rc == 0; i++) {
		int reached = alert_escalation_reached(&cfg, &c[i].a, now), r;

		if (reached <= c[i].a.last_escalation)
			continue;
		if ((r = escalate_one(&x, &c[i], reached)) < 0)
			rc = -1;
		escalated += r > 0;
	}
	if (n >= 0)
		candidates_free(c, n);
	rc = tx_end(&x, rc, "escalate");
	ctx_free(&x);
	alert_config_free(&cfg);
	return rc == 0 ? escalated : -1;
}

/* One group of the flush: alerts with the same channel set (and node or resource). */
struct flush_group {
	int mask;
	char key[256];
	struct json_object *alerts;
};

int
alert_dispatch_flush(struct db *db)
{
	struct alert_config cfg;
	struct dispatch_ctx x;
	struct flush_group *g = NULL;
	PGresult *res;
	int n, ng = 0, rc = 0;

	if (db_begin(db) != 0)
		return -1;
	if ((res = db_exec_stmt(db, &stmt_group_flush, NULL)) == NULL) {
		db_rollback(db);
		return -1;
	}
	if ((n = PQntuples(res)) == 0) {
		PQclear(res);
		return db_commit(db) == 0 ? 0 : -1;
	}
	if (alert_config_load(db, clock_wall(), &cfg) != 0) {
		PQclear(res);
		db_rollback(db);
		return -1;
	}
	ctx_init(&x, db, &cfg, clock_wall());
	g = xcalloc((size_t)n, sizeof(*g));
	for (int i = 0; i < n; i++) {
		int mask = mask_parse(PQgetvalue(res, i, 2)), k;
		char key[256];
		struct json_object *a = jsonutil_parse(PQgetvalue(res, i, 1),
		    strlen(PQgetvalue(res, i, 1)), NULL, 0);

		if (a == NULL)
			continue;
		snprintf(key, sizeof(key), "%s|%s", cfg.schedule.grouping_by_node ?
		    PQgetvalue(res, i, 3) : "", cfg.schedule.grouping_by_guest ?
		    PQgetvalue(res, i, 4) : "");
		for (k = 0; k < ng; k++)
			if (g[k].mask == mask && strcmp(g[k].key, key) == 0)
				break;
		if (k == ng) {
			g[ng].mask = mask;
			snprintf(g[ng].key, sizeof(g[ng].key), "%s", key);
			g[ng++].alerts = json_object_new_array();
		}
		json_object_array_add(g[k].alerts, a);
	}
	PQclear(res);
	for (int k = 0; k < ng; k++) {
		if (rc == 0)
			rc = enqueue(&x, jsonutil_to_string(g[k].alerts, NULL), g[k].mask, 0);
		json_object_put(g[k].alerts);
	}
	free(g);
	rc = tx_end(&x, rc, "flush");
	ctx_free(&x);
	alert_config_free(&cfg);
	return rc == 0 ? n : -1;
}
