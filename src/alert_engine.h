/* alert_engine.h: the alert evaluation (alerts-notifications.md §3) as a pure function: the
 * configuration, a source's fresh state, the source's active alerts and pending conditions as
 * the database holds them, and the time in; the list of what changed out. No database, no
 * state kept between calls: any worker can evaluate any source.
 *
 * Ownership: an alert_prev is filled by its caller (alert_store_load) and released with
 * alert_prev_free; an alert_changes belongs to the caller of the evaluation and is released
 * with alert_changes_free (it owns the metadata of its alerts). */
#ifndef PULSE_ALERT_ENGINE_H
#define PULSE_ALERT_ENGINE_H

#include "alert.h"
#include "alert_config.h"

struct st_instance;
struct st_backups;
struct st_pbs;
struct st_pmg;

/* A condition seen but not an alert yet: a time threshold running (count 1) or a state
 * confirmed by count polls so far (§3.3, §3.5). A metric alert id held back by the
 * minimum-delta suppression (§3.2b) is a pending entry of the alert's own id with count
 * ALERT_PENDING_SUPPRESSED and first_seen the time the suppression began: the id stays
 * suppressed until first_seen + suppressionWindow minutes. The time threshold of the same
 * id cannot run meanwhile (a suppressed id is not evaluated), so one row per id is enough. */
struct alert_pending {
	char id[256];
	double first_seen;
	int count;
};

#define ALERT_PENDING_SUPPRESSED (-1)

/* A metric alert raised lately and since resolved (§3.2b "recent"): its id, when it
 * started and its value as last written. */
struct alert_recent {
	char id[256];
	double start_time, value;
};

/* What the database holds for one source. alert_prev_index sorts the arrays by id. */
struct alert_prev {
	struct alert *alerts;
	int nalerts, capalerts;
	struct alert_pending *pending;
	int npending, cappending;
	struct alert_recent *recent;
	int nrecent, caprecent;
};

struct alert *alert_prev_add(struct alert_prev *p);
struct alert_pending *alert_prev_add_pending(struct alert_prev *p);
struct alert_recent *alert_prev_add_recent(struct alert_prev *p);
void alert_prev_index(struct alert_prev *p);
void alert_prev_free(struct alert_prev *p);

enum alert_change_kind {
	ALERT_RAISED,		/* a new alert: insert, history row, notify */
	ALERT_UPDATED,		/* level, value or message of an active alert moved */
	ALERT_RESOLVED,		/* alert is the alert as it was */
	ALERT_PENDING_SET,	/* upsert pending */
	ALERT_PENDING_DELETE,
};

struct alert_change {
	enum alert_change_kind kind;
	int to_critical;	/* ALERT_UPDATED: the level went from warning to critical */
	struct alert alert;
	struct alert_pending pending;
};

struct alert_changes {
	struct alert_change *v;
	int n, cap;
};

void alert_changes_free(struct alert_changes *c);

/* One evaluation of one source. */
struct alert_eval {
	const struct alert_config *cfg;
	const struct alert_prev *prev;
	double now;
	struct alert_changes *out;
	/* A failed poll: only what it can tell (connectivity, offline) is evaluated; the
	 * other alerts and pending entries of the source stay as they are. */
	int partial;
	unsigned char *seen_alert, *seen_pending;	/* per prev entry; internal */
};

/* A resource as the generic entry points see it. type_label names it in messages ("Node",
 * "VM", "Container", "Storage", "PBS"); delay_type selects its time thresholds ("node",
 * "guest", "storage", "pbs", "host", ...); resource_type goes to metadata.resourceType. */
struct alert_resource {
	const char *id, *name, *node, *instance;
	const char *type_label, *delay_type, *resource_type;
	int monitor_only;
};

/* Starts and ends an evaluation: alert_eval_finish resolves every previous alert and drops
 * every pending entry the evaluation did not keep (the resource is gone, its type or metric
 * disabled, its value below the clear threshold), unless partial. */
void alert_eval_begin(struct alert_eval *e, const struct alert_config *cfg,
    const struct alert_prev *prev, double now, struct alert_changes *out);
void alert_eval_finish(struct alert_eval *e);

/* The generic checks every resource type uses (agents too). metric names the alert type
 * ("cpu", "usage", ...); t the effective threshold (trigger <= 0: disabled). A metric alert
 * about to be raised whose id has a recent record started within suppressionWindow minutes
 * with a value less than minimumDelta away is not raised: the id is suppressed for
 * suppressionWindow minutes, during which its check is skipped entirely (§3.2b). */
void alert_eval_metric(struct alert_eval *e, const struct alert_resource *r, const char *metric,
    double value, struct alert_threshold t);
/* A state alert (offline, powered-off, connectivity): bad for confirm polls in a row raises
 * it with level and message; healthy resets the count and resolves it. */
void alert_eval_state(struct alert_eval *e, const struct alert_resource *r, const char *id,
    const char *type, int bad, int confirm, const char *level, const char *message);
/* Keeps every previous alert and pending entry whose id starts with prefix (a check that
 * was not made this time, e.g. a guest's per-disk alerts while its disks are unknown). */
void alert_eval_keep_prefix(struct alert_eval *e, const char *prefix);
/* State a check keeps between evaluations in pending entries (the agents' restart counts,
 * exit codes, first sightings): alert_eval_pending returns the previous entry of id and
 * keeps it (NULL: none); alert_eval_set_pending writes it anew. alert_eval_active is the
 * previous alert of id (NULL: none), not kept by looking. */
const struct alert_pending *alert_eval_pending(struct alert_eval *e, const char *id);
void alert_eval_set_pending(struct alert_eval *e, const char *id, double first_seen, int count);
const struct alert *alert_eval_active(const struct alert_eval *e, const char *id);

/* PVE: nodes, guests and storage of one instance (§3.4, §3.5), its physical disks and ZFS
 * pools (§3.9), and our additions: its Ceph cluster (ceph-health, ceph-osd-down) and its
 * storage replication jobs (replication). */
void alert_eval_pve(struct alert_eval *e, const struct st_instance *s);
/* A Backup Server: offline after 3 polls, cpu, memory, datastore usage (§3.4). */
void alert_eval_pbs(struct alert_eval *e, const struct st_pbs *p);
/* A Mail Gateway: offline after 3 polls; cluster queue totals and oldest message against the
 * PMG thresholds, then (alert_pmg.c) per-node queues with outliers, quarantine sizes and
 * growth, and mail-rate anomalies against the history p->history carries (§3.8). */
void alert_eval_pmg(struct alert_eval *e, const struct st_pmg *p);
/* A level alert without hysteresis (PMG, ZFS, disks): level NULL resolves, else raised or
 * updated; _since raises it with start as startTime (capped at now). */
/* The metadata object of the change the last check made since index before: the last one
 * raised (with updated, also one updated), created empty when it has none; NULL when the
 * check changed nothing. A level or state check's update keeps the stored alert's
 * metadata, so only what it raised is touched. Members are added with the writer set. */
struct json_object *alert_eval_metadata(struct alert_eval *e, int before, int updated);
void alert_eval_level(struct alert_eval *e, const struct alert_resource *r, const char *id,
    const char *type, const char *level, double value, double threshold, const char *message);
void alert_eval_level_since(struct alert_eval *e, const struct alert_resource *r, const char *id,
    const char *type, const char *level, double value, double threshold, const char *message,
    double start);
/* One backup on a Backup Server or Mail Gateway as the backup-age check takes it (§3.6). */
struct alert_backup_item {
	char server[128];	/* the PBS or PMG instance's name */
	char place[128];	/* PBS: the datastore; PMG: the node */
	char type[16];		/* PBS: vm, ct or host; PMG: empty */
	char id[256];		/* PBS: the backup id (the VMID for vm and ct); PMG: the file name */
	double time;		/* unix seconds */
};

struct alert_backup_list {
	struct alert_backup_item *v;
	int n, cap;
};

struct alert_backup_item *alert_backup_list_add(struct alert_backup_list *l);
void alert_backup_list_free(struct alert_backup_list *l);

/* Backup age of the guests of s and snapshot age of b's snapshots (§3.6; snapshots by age
 * only: the Proxmox API gives no snapshot size, docs/COMPATIBILITY.md). A guest's record is its newest backup among b's
 * storage volumes of its VMID and pbs's vm and ct backups of its VMID (backup id "0" never
 * matches); the alert names where it is ("storage X on N", "PBS datastore X on Y"). A guest
 * without any backup there never alerts. b and pbs may be NULL (the mock estate has no
 * Backup Server backups). All three kinds are polled:
 * worker/alerts.c reads the PBS and PMG ones from their state tables. */
void alert_eval_backups(struct alert_eval *e, const struct st_instance *s,
    const struct st_backups *b, const struct alert_backup_list *pbs);
/* Backup age of one Backup Server's backups that no guest claims: neither host backups
 * with id "0" nor vm or ct backups whose VMID is in guest_vmids (every PVE guest's, sorted
 * or not); each newest under the key pbs:<server>:<type>:<id> (§3.6). */
void alert_eval_pbs_backups(struct alert_eval *e, const struct alert_backup_list *pbs,
    const int64_t *guest_vmids, int nvmids);
/* Backup age of one Mail Gateway's backups, the newest per node (no node: per file name)
 * under the key pmg:<server>:<node|file name> (§3.6). */
void alert_eval_pmg_backups(struct alert_eval *e, const struct alert_backup_list *pmg);

/* The effective threshold of a metric: override (clear <= 0: trigger - 5), else defaults
 * (clear <= 0: trigger), else the legacy scalar ({n, n - 5}). */
struct alert_threshold alert_effective(const struct alert_thresholds *defaults,
    const struct alert_thresholds *override, enum alert_metric m);
/* The override of a resource id, or NULL. */
const struct alert_thresholds *alert_override(const struct alert_config *c, const char *id);
/* The time threshold in seconds of a metric for a resource type (§3.3). */
int64_t alert_delay(const struct alert_config *c, const char *delay_type, const char *metric);

#endif
