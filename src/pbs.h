/* pbs.h: tolerant parsers of the Proxmox Backup Server answers the poller reads
 * (state-proxmox.md §3). Like pve.h: numbers as JSON numbers or strings, missing fields as
 * zero or empty, arrays capped at max, strings truncated to their buffers. */
#ifndef PULSE_PBS_H
#define PULSE_PBS_H

#include <json-c/json.h>
#include <stdint.h>

struct pbs_node_status {
	double cpu;			/* percent 0-100 (PBS reports a fraction) */
	int64_t mem_total, mem_used, mem_free, uptime;
};

struct pbs_datastore_item {
	char store[128], comment[256];
};

struct pbs_ds_status {
	int64_t total, used, avail;
	double dedup;			/* 0: not in the answer */
};

struct pbs_namespace_item {
	char path[256], parent[256];
};

struct pbs_group {
	char type[8], id[128], owner[128];
	int64_t last_backup, count;
};

struct pbs_snapshot {
	char type[8], id[128], comment[256], owner[128], verification[32];
	int64_t time, size;
	int protected_;
	char files[16][96];
	int nfiles;
};

/* GET /version: the version string (release appended when present, "3.2-7" style is not
 * built: the original reports `version` alone). Returns 0, or -1 without a version. */
int pbs_parse_version(struct json_object *data, char *version, size_t len);
int pbs_parse_node_status(struct json_object *data, struct pbs_node_status *out);
int pbs_parse_datastores(struct json_object *data, struct pbs_datastore_item *out, int max);
/* GET /admin/datastore/{store}/status: sizes (total-space style names too; total falls back
 * to used + avail) and the deduplication factor when the answer has one. */
int pbs_parse_ds_status(struct json_object *data, struct pbs_ds_status *out);
/* GET /admin/datastore/{store}/gc: the deduplication factor index-data-bytes / disk-bytes,
 * or 0. */
double pbs_gc_dedup(struct json_object *data);
int pbs_parse_namespaces(struct json_object *data, struct pbs_namespace_item *out, int max);
int pbs_parse_groups(struct json_object *data, struct pbs_group *out, int max);
int pbs_parse_snapshots(struct json_object *data, struct pbs_snapshot *out, int max);

#endif
