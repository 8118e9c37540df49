/* agent_host.h: a host agent's report on the server (agents.md §3): the types the original's
 * decoder insists on (§1.3), the host's identity (§3.2), the host document /api/state serves
 * (the original's HostFrontend) and the one-transaction write to pulse.agent_hosts. */
#ifndef PULSE_AGENT_HOST_H
#define PULSE_AGENT_HOST_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct agent_host;

/* Bounds of what is kept of one report (more entries are dropped; the body limit, 256 KiB as
 * the original's, bounds the rest). */
#define AGENT_HOST_MAX_LIST 256		/* diskIO, network, disks, SMART entries, map keys */
#define AGENT_HOST_MAX_ITEMS 64		/* tags, addresses, load averages */

/* The longest host id (§3.2: a sanitised id is at most 48 characters of up to 4 bytes). */
#define AGENT_HOST_ID_MAX 200

/* --- shared by the agents' reports (host §3, Kubernetes §5) ---------------------------- */

/* The JSON type the original's decoder (§1.3) wants of a member. */
enum agent_ftype {
	AF_STR, AF_INT, AF_UINT, AF_NUM, AF_BOOL, AF_TIME, AF_OBJ, AF_LIST, AF_MAP, AF_ANY,
};

/* A member as the original's struct declares it: its type, its elements' type (lists and
 * maps) and the members of its objects. A list of them ends with AF_END. */
struct agent_field {
	const char *name;
	enum agent_ftype type, elem;
	const struct agent_field *sub;
};

#define AF_S(n) {n, AF_STR, AF_ANY, NULL}
#define AF_I(n) {n, AF_INT, AF_ANY, NULL}
#define AF_U(n) {n, AF_UINT, AF_ANY, NULL}
#define AF_N(n) {n, AF_NUM, AF_ANY, NULL}
#define AF_B(n) {n, AF_BOOL, AF_ANY, NULL}
#define AF_T(n) {n, AF_TIME, AF_ANY, NULL}
#define AF_END {NULL, AF_ANY, AF_ANY, NULL}

/* The members §3.1 declares for memory, a disk and a network interface (the Docker report's
 * host has the same, §4.1). */
extern const struct agent_field agent_fields_memory[], agent_fields_disk[], agent_fields_net[];

/* 0 when every member of report that fields declares has the JSON type the original's
 * decoder takes (null is absent; unknown members are ignored; timestamps must be RFC 3339
 * text), else -1 with a message in the decoder's words in err (go_package names the
 * report's Go type: "host" gives host.Report). A report that is not an object is -1. */
int agent_check_types(struct json_object *report, const struct agent_field *fields,
    const char *go_package, char *err, size_t errlen);

/* What /api/state shows of the API token an agent reports with. */
struct agent_token_info {
	char name[256];
	char hint[128];			/* "prefix…suffix", "" when unknown */
	double last_used;		/* unix seconds, 0: unknown */
};

/* Reads token_id's record into *out (emptied; stays empty for NULL, "" or an unknown
 * token). 0, or -1 on a database error. */
int agent_token_info(struct db *db, const char *token_id, struct agent_token_info *out);

/* A report's time (unix seconds): its "timestamp", or now when it has none (or Go's zero
 * time). */
double agent_report_time(struct json_object *report, double now);

/* The first max entries of a list of strings, trimmed, blank and non-string ones left out
 * (a new array), or NULL when none is left. */
struct json_object *agent_string_list(struct json_object *arr, int max);

/* The members of map whose value value() turns into a new JSON value (NULL: left out), the
 * first max of them, as a new object; NULL when none is kept or map is not an object. */
struct json_object *agent_map(struct json_object *map, int max,
    struct json_object *(*value)(struct json_object *));

/* Removes an agent's entity id in one transaction: remove (parameter: the id) deletes it
 * and returns one row, its token id ('' for none); revoke (parameter: that token id)
 * returns a row when it revoked the token. The state version moves. *revoked says whether
 * a token went. 0, or -1 with err set (database). */
int agent_remove(struct db *db, const struct db_stmt *remove, const struct db_stmt *revoke,
    const char *id, int *revoked, char *err, size_t errlen);

/* Runs stmt with params in one transaction that moves the state version when a row came
 * back (or always, with always_done): 1 done, 0 no row, -1 on a database error. */
int agent_change(struct db *db, const struct db_stmt *stmt, const char *const *params,
    int always_done);

/* --- the host agent -------------------------------------------------------------------- */

/* 0 when every member of report that §3.1 declares has the JSON type the original's decoder
 * takes (null is absent; unknown members are ignored; timestamps must be RFC 3339 text), else
 * -1 with a message in the decoder's words in err. A report that is not an object is -1. */
int agent_host_check_types(struct json_object *report, char *err, size_t errlen);

/* §3.2's sanitize: trimmed, lower case, letters and digits kept (any non-ASCII character
 * counts as a letter), each run of others one '-', at most 48 characters, '-' trimmed. out
 * holds at least AGENT_HOST_ID_MAX bytes. */
void agent_host_sanitize(const char *in, char *out, size_t len);

/* The base identifier (§3.2 step 2) of a report whose trimmed hostname is given. */
void agent_host_base_id(struct json_object *report, const char *hostname, char *out, size_t len);

/* The first nbytes of text's SHA-1 in lower-case hex into out (2 * nbytes + 1 bytes). */
void agent_sha1_hex(const char *text, size_t nbytes, char *out);

/* Pieces of the agents' documents (HostFrontend, DockerHostFrontend). */
/* v when finite, else 0 (the original's safeFloat). */
double agent_finite(double v);
/* Member sk of src trimmed as member dk of dst; optional: left out when empty. */
void agent_doc_str(struct json_object *dst, const char *dk, struct json_object *src,
    const char *sk, int optional);
/* Each member of keys (NULL-terminated) of src trimmed into dst, left out when empty. */
void agent_doc_opt_strs(struct json_object *dst, struct json_object *src,
    const char *const *keys);
/* A copy of val when it is a string, else NULL (agent_map's value for maps of strings). */
struct json_object *agent_string_value(struct json_object *val);
/* Adds v (owned) as member key of o unless v is NULL. */
void agent_doc_add(struct json_object *o, const char *key, struct json_object *v);
/* A Memory object of a report's memory member with usage in percent; NULL when all zero. */
struct json_object *agent_doc_memory(struct json_object *mem, double usage);
/* The Disk objects of parent's "disks" (usage computed when missing); NULL when none. With
 * filter the server's filesystem filter drops some (§10.2) and they are cut from parent too,
 * so that the worker's evaluation sees what the state shows. */
struct json_object *agent_doc_disks(struct json_object *parent, int filter);
/* Each object of list key of parent through one() (at most max); NULL when none. */
struct json_object *agent_doc_list(struct json_object *parent, const char *key, int max,
    struct json_object *(*one)(struct json_object *));
/* A HostNetworkInterface of a report's network entry. */
struct json_object *agent_doc_network(struct json_object *d);
/* The token members of an agent's document (tokenId, tokenName, tokenHint, tokenLastUsedAt
 * in epoch ms), none when id is NULL or "". */
void agent_doc_token(struct json_object *o, const char *id, const char *name, const char *hint,
    double last_used);
/* The first three numbers of a load average list; NULL when empty. */
struct json_object *agent_doc_load(struct json_object *arr);

/* The id of a token's host whose base identifier another host holds (§3.2 step 3). */
void agent_host_collision_id(const char *base, const char *token_id, const char *hostname,
    char *out, size_t len);

/* Whether the server drops a filesystem of a report (agents.md §10.2 step 5). */
int agent_host_skip_filesystem(const char *type, const char *mountpoint, int64_t total,
    int64_t used);

/* Who sent a report: the API token, or none (token_id NULL). */
struct agent_host_token {
	const char *token_id;
};

/* What a stored report answers (§3.3). */
struct agent_host_stored {
	char id[AGENT_HOST_ID_MAX];
	double last_seen;		/* unix seconds */
	char platform[64], os_name[64], os_version[64];
	int commands_enabled;		/* the server-side override: -1 none, 0, 1 */
};

enum agent_host_result {
	AGENT_HOST_OK = 0,
	AGENT_HOST_ERROR = -1,		/* database: err says what */
	AGENT_HOST_NO_HOSTNAME = -2,	/* §3.2 step 1 */
};

/* Stores one report (checked with agent_host_check_types) in one transaction: the host's id
 * (base identifier, token binding), its document, its last report (disks filtered) for the
 * worker's evaluation, and the state version moved. now is the server's time (unix seconds),
 * the last seen time when the report has no timestamp. */
enum agent_host_result agent_host_store(struct db *db, struct json_object *report,
    const struct agent_host_token *tok, double now, struct agent_host_stored *out, char *err,
    size_t errlen);

/* The HostFrontend document of a report (new reference); report's disks are filtered in
 * place. h is the report as agent_host_from_json reads it. */
struct agent_host_doc_meta {
	const char *id;
	double last_seen;
	const char *token_id, *token_name, *token_hint;
	double token_last_used;		/* unix seconds, 0: none */
	int commands_enabled;		/* -1: the report's */
	/* The one link of §6.6 (at most one is set; NULL: none): a PVE node, else a VM, else
	 * a container, by the id /api/state gives it. */
	const char *linked_node_id, *linked_vm_id, *linked_container_id;
};
struct json_object *agent_host_doc(struct json_object *report, const struct agent_host *h,
    const struct agent_host_doc_meta *m);

/* The Temperature a PVE node linked to this host shows (agents.md §6.6, the original's
 * mapping of sensors.temperatureCelsius: cpu_package, cpu_core_N, nvmeN, gpu_edge/junction/
 * mem as gpu0, gpu_<x>; SMART disks not in standby), its times last_seen (unix seconds).
 * NULL when the sensors give none of these. A new object, the caller's. */
struct json_object *agent_host_node_temperature(struct json_object *sensors, double last_seen);

/* Removes a host (agents.md §6.4) in one transaction: its row, and its API token when no
 * other host reports with it (the original's answer to a removed host that reports again
 * is then 401). Unknown ids succeed. *revoked says whether a token went. 0 or -1 (database;
 * err says what). */
int agent_host_remove(struct db *db, const char *id, int *revoked, char *err, size_t errlen);

/* Unlinks a host from its PVE node (§6.3) and keeps it unlinked. 1 done, 0 when the host is
 * unknown or not linked, -1 on a database error. */
int agent_host_unlink(struct db *db, const char *id);

#endif
