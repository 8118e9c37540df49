/* updates.h: the server's own updates (metrics-reporting.md §6): the release feed check and
 * its cache in pulse.update_checks, the update status, the plans and manual steps of each
 * deployment type, the update jobs a worker runs and their history. */
#ifndef PULSE_UPDATES_H
#define PULSE_UPDATES_H

#include <json-c/json.h>
#include <stddef.h>

#include "db.h"

/* How long a check answers for its channel (§6.3). */
#define UPDATES_CACHE_SECONDS 300

/* The channel a check uses: param when given ("stable" or "rc", checked by the caller), else
 * the updateChannel setting, else the channel of this build's version. Returns 0 or -1
 * (database). */
int updates_channel(struct db *db, const char *param, char out[8]);

/* Checks the release feed for channel (§6.3). With use_cache, an answer of the last
 * UPDATES_CACHE_SECONDS is given without a request. Returns 0 with *out (a new reference: the
 * UpdateInfo object), 1 when the feed failed (reason in err; the status says error), or -1
 * (database). */
int updates_check(struct db *db, const char *channel, int use_cache, struct json_object **out,
    char *err, size_t errlen);

/* What the last check of the channel the current settings resolve to found, for /api/version
 * and /api/health (no request): 1 with *available and latest (cut to len) set, 0 when none
 * is cached, -1 (database). */
int updates_cached(struct db *db, int *available, char *latest, size_t len);

/* The UpdateStatus object (§6.5), a new reference; NULL (database). */
struct json_object *updates_status(struct db *db);

/* What a cached check offered: given a download URL, its version (into version); given a
 * version, its download URL (into url). Each of url and version is either the key (read) or
 * the buffer to fill (len bytes), as key_is_url says. Returns 1 found, 0 not, -1 (database). */
int updates_offered(struct db *db, int key_is_url, const char *key, char *out, size_t len);

/* The UpdatePlan of this deployment for version (§6.8), a new reference. download_url may be
 * NULL. */
struct json_object *updates_plan(const char *deployment, const char *version,
    const char *download_url);

/* Queues an update to the release at download_url, which must be the download a cached check
 * offered; a worker runs it. Returns 0 with the event id in id (idlen bytes), 1 when the URL
 * was not offered, 2 when an update is in progress (message in err for both), -1
 * (database). */
int updates_enqueue(struct db *db, const char *download_url, const char *initiated_by,
    const char *initiated_via, char *id, size_t idlen, char *err, size_t errlen);

/* The history (§6.7), newest first, at most 50 entries, only those with status when status is
 * not NULL: a new array; NULL (database). */
struct json_object *updates_history(struct db *db, const char *status);
/* One history entry: 1 with *out (new reference), 0 unknown id, -1 (database). */
int updates_history_entry(struct db *db, const char *id, struct json_object **out);

/* Worker side: marks failed the updates a stopped worker left in progress, then says whether
 * a queued update waits for a worker: 1, 0, or -1 (database). */
int updates_waiting(struct db *db);

/* Worker side: claims the oldest queued update no worker has taken and runs it to the end
 * (download, SHA-256 check against the release's checksum file, update_install_command),
 * writing its stages to the status and its outcome to the history. Returns 1 when a job ran,
 * 0 when none was waiting, -1 (database). */
int updates_run_pending(struct db *db, const char *worker_id);

/* Worker side: when the autoUpdateEnabled setting is true and the last check of the resolved
 * channel is older than autoUpdateCheckInterval hours (1 when unset), checks again. Returns 0,
 * or -1 (database or feed, logged). */
int updates_background_check(struct db *db);

#endif
