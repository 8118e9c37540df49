/* pmg_history.h: the samples the Mail Gateway alert checks compare with (src/alert_pmg.h),
 * kept in PostgreSQL (sql/0015_pmg_alert_history.sql) so that any worker can evaluate the
 * next poll. */
#ifndef PULSE_PMG_HISTORY_H
#define PULSE_PMG_HISTORY_H

#include "alert_pmg.h"
#include "db.h"

struct st_pmg;

/* After a good poll of p (before its alert evaluation), in one transaction: loads the
 * instance's samples into h, adds this poll's quarantine sizes (when quarantine_read: both
 * counts were read) and its newest completed hour of mail counts, writes what was added and
 * deletes what fell out of the windows (3 hours; 48 hours, or everything before a gap).
 * Returns 0, or -1 (logged, nothing written, h empty). */
int pmg_history_update(struct db *db, const struct st_pmg *p, int quarantine_read, double now,
    struct pmg_history *h);

#endif
