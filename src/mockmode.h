/* mockmode.h: mock mode's switch and settings (pulse.mock_mode, state-proxmox.md §6.1), and
 * clearing the mock estate: what the API, the node configuration and the worker's
 * generator share.
 *
 * Errors: functions that query return -1 on a database error (logged by db.c). */
#ifndef PULSE_MOCKMODE_H
#define PULSE_MOCKMODE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* The generator's defaults, for settings never given. */
#define MOCKMODE_NODES 7
#define MOCKMODE_VMS_PER_NODE 5
#define MOCKMODE_LXCS_PER_NODE 8
#define MOCKMODE_STOPPED_PERCENT 0.2
/* The mock estate is rebuilt every poll: bounded, it stays a demonstration. */
#define MOCKMODE_MAX_GUESTS 25000

/* The settings the generator uses, from the stored configuration (camelCase keys). */
struct mockmode_config {
	int node_count, vms_per_node, lxcs_per_node, random_metrics;
	double stopped_percent;
	char high_load[8][64];
	int nhigh;
};

/* Reads settings from a configuration object (NULL: all defaults); a value out of range
 * keeps its default. */
void mockmode_config_from_json(struct json_object *o, struct mockmode_config *c);
/* The same from the configuration's text (unparseable text: all defaults). */
void mockmode_config_parse(const char *text, struct mockmode_config *c);
/* The guests these settings generate. */
int64_t mockmode_config_guests(const struct mockmode_config *c);

/* Checks each setting given changes and copies it into stored: 0, or -1 with what is
 * wrong in err (a message for a 400 answer), stored then partly changed. Refuses a
 * result that asks for more than MOCKMODE_MAX_GUESTS guests. */
int mockmode_config_merge(struct json_object *stored, struct json_object *changes, char *err,
    size_t errlen);

/* Whether mock mode is on, and (config not NULL) its configuration as JSON text: a new
 * string the caller frees. Returns 0 or -1. */
int mockmode_read(struct db *db, int *enabled, char **config);
/* Switches mock mode (as asked through the API) with config, JSON text. Returns 0 or -1. */
int mockmode_set(struct db *db, int enabled, const char *config);
/* 1 when mock mode was switched on through the API (node changes are refused), 0 otherwise,
 * -1 on a database error. */
int mockmode_blocks_changes(struct db *db);
/* The demo estate (switched on by demo_mode, not through the API) gives way to the first
 * real node: switches mock mode off when demo_mode switched it on. Returns 0 or -1. */
int mockmode_demo_off(struct db *db);
/* demo_mode's start: switches mock mode on when nobody has switched it and no instance is
 * configured. Returns 0 or -1. */
int mockmode_demo_on(struct db *db);

/* Removes the mock estate's rows from the state tables: all of it (its agents too:
 * agent_mock_clear), or only its Backup and Mail Gateway servers. Returns 0, or -1 with the
 * error in err. */
int mockmode_clear(struct db *db, int servers_only, char *err, size_t errlen);

#endif
