/* resources.h: the unified resource model of GET /api/resources: one flat list of nodes,
 * guests, storage and backup/mail servers, converted from the state documents the workers
 * store, as the original's internal/resources converters do. */
#ifndef PULSE_RESOURCES_H
#define PULSE_RESOURCES_H

#include <json-c/json.h>
#include <stdint.h>

#include "db.h"
#include "util.h"

/* What the state documents are, for resources_append. */
enum resources_source {
	RESOURCES_NODE,		/* pulse.pve_nodes.doc */
	RESOURCES_GUEST,	/* pulse.guests.doc (VM or container, by its "type") */
	RESOURCES_PBS,		/* pulse.pbs_instances.doc: the server and its datastores */
	RESOURCES_PMG,		/* pulse.pmg_instances.doc */
	RESOURCES_STORAGE,	/* pulse.storage.doc */
};

/* The query of GET /api/resources. Types, platforms and statuses are bit sets over the
 * original's vocabularies (0: no filter); parent NULL: any. */
struct resources_filter {
	uint32_t types;
	uint32_t platforms;
	uint32_t statuses;
	const char *parent;
	int infrastructure;
	int workloads;
	int alerts;
};

/* Sets one query parameter of the filter from its text: "type", "platform", "status" (comma
 * lists of the original's words, blanks ignored), "parent" (an id), "infrastructure",
 * "workloads", "alerts" (true/false). An empty value sets nothing. Returns 0, or -1 with a
 * message naming the parameter and the rejected word in err. value must outlive f. */
int resources_filter_set(struct resources_filter *f, const char *name, const char *value,
    char *err, size_t errlen);

/* The query parameters resources_filter_set knows, NULL-terminated. */
extern const char *const resources_filter_params[];

/* Appends to the array out the resources one state document stands for (a PBS document
 * gives the server and one per datastore). now (unix seconds) is the lastSeen of those
 * that have none of their own, as in the original. Returns the number appended; a document
 * without an id gives none. */
int resources_append(struct json_object *out, enum resources_source src,
    struct json_object *doc, double now);

/* Calls fn(resource, ctx) for every resource of the current state (mock or real, as
 * /api/state shows it), read from the same tables and documents as /api/state, one state
 * document at a time: a resource is put when fn returns (fn takes a reference to keep one).
 * fn returns nonzero to stop. Returns 0, or -1 with the reason in err when the database
 * failed. */
int resources_each(struct db *db, double now,
    int (*fn)(struct json_object *resource, void *ctx), void *ctx, char *err, size_t errlen);

/* Whether resource passes the filter. */
int resources_match(const struct resources_filter *f, struct json_object *resource);

/* The statistics of all (StoreStats), counted one resource at a time: counts in total and
 * by type, platform and status. _finish gives the object (a new one) and empties st. */
struct resources_stats {
	struct json_object *by_type, *by_platform, *by_status;
	int64_t total;
	int with_alerts;
};
void resources_stats_init(struct resources_stats *st);
void resources_stats_add(struct resources_stats *st, struct json_object *resource);
struct json_object *resources_stats_finish(struct resources_stats *st, double now);

/* The answer of GET /api/resources written as the resources go by: {"resources": [the
 * matching ones], "count": n, "stats": statistics of all}, text appended to out.
 * resources_list_add is resources_each's fn. */
struct resources_list {
	const struct resources_filter *f;
	struct strbuf *out;
	int64_t count;
	struct resources_stats stats;
};
void resources_list_begin(struct resources_list *l, const struct resources_filter *f,
    struct strbuf *out);
int resources_list_add(struct json_object *resource, void *ctx);
void resources_list_end(struct resources_list *l, double now);

/* The three answers from the database: the list (0, or -1 with err), the statistics (a new
 * object, or NULL with err), the resource with this id (*found a new reference or NULL; 0,
 * or -1 with err). */
int resources_list_read(struct db *db, const struct resources_filter *f, double now,
    struct strbuf *out, char *err, size_t errlen);
struct json_object *resources_stats_read(struct db *db, double now, char *err, size_t errlen);
int resources_find_read(struct db *db, double now, const char *id, struct json_object **found,
    char *err, size_t errlen);

#endif
