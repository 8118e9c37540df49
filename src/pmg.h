/* pmg.h: tolerant parsers of the Proxmox Mail Gateway answers the poller reads
 * (state-proxmox.md §4). Like pve.h: numbers as JSON numbers or strings, missing fields as
 * zero or empty, arrays capped at max, strings truncated to their buffers. */
#ifndef PULSE_PMG_H
#define PULSE_PMG_H

#include <json-c/json.h>
#include <stdint.h>

struct pmg_cluster_node {
	char name[128], type[32];
};

struct pmg_queue {
	int64_t active, deferred, hold, incoming, oldest_age;
};

struct pmg_backup_item {
	char filename[256];
	int64_t size, timestamp;
};

/* Mail counters, as the original keeps them (floats): indices of pmg_counts.v. */
enum { PMG_COUNT, PMG_IN, PMG_OUT, PMG_SPAM_IN, PMG_SPAM_OUT, PMG_VIRUS_IN, PMG_VIRUS_OUT,
    PMG_BOUNCES_IN, PMG_BOUNCES_OUT, PMG_BYTES_IN, PMG_BYTES_OUT, PMG_GREYLIST, PMG_JUNK_IN,
    PMG_AVG_MS, PMG_RBL, PMG_PREGREET, PMG_NSTATS };

struct pmg_counts {
	double v[PMG_NSTATS];
	int64_t time;
	int index;
};

struct pmg_spam_score {
	char level[32];
	double count;
};

int pmg_parse_cluster(struct json_object *data, struct pmg_cluster_node *out, int max);
int pmg_parse_queue(struct json_object *data, struct pmg_queue *out);
int pmg_parse_backups(struct json_object *data, struct pmg_backup_item *out, int max);
/* GET /statistics/mail (an object, or an array of one); avptime seconds become ms. */
int pmg_parse_mail_stats(struct json_object *data, struct pmg_counts *out);
int pmg_parse_mail_count(struct json_object *data, struct pmg_counts *out, int max);
int pmg_parse_spam_scores(struct json_object *data, struct pmg_spam_score *out, int max);
/* GET /quarantine/{spam,virus}status: the count. Returns 0, or -1. */
int pmg_parse_quarantine(struct json_object *data, int64_t *count);

#endif
