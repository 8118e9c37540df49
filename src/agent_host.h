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

/* The type a member of a report has in the original's structs (§1.3), for the type check. */
enum agent_ftype {
	AGENT_F_STR, AGENT_F_INT, AGENT_F_UINT, AGENT_F_NUM, AGENT_F_BOOL, AGENT_F_TIME,
	AGENT_F_OBJ, AGENT_F_LIST, AGENT_F_MAP, AGENT_F_ANY,
};

/* A member as the original's struct declares it: its type, its elements' type (lists and
 * maps) and the members of its objects; a list of them ends with AGENT_END. */
struct agent_field {
	const char *name;
	enum agent_ftype type, elem;
	const struct agent_field *sub;
};
#define AGENT_S(n) {n, AGENT_F_STR, AGENT_F_ANY, NULL}
#define AGENT_I(n) {n, AGENT_F_INT, AGENT_F_ANY, NULL}
#define AGENT_U(n) {n, AGENT_F_UINT, AGENT_F_ANY, NULL}
#define AGENT_N(n) {n, AGENT_F_NUM, AGENT_F_ANY, NULL}
#define AGENT_B(n) {n, AGENT_F_BOOL, AGENT_F_ANY, NULL}
#define AGENT_T(n) {n, AGENT_F_TIME, AGENT_F_ANY, NULL}
#define AGENT_END {NULL, AGENT_F_ANY, AGENT_F_ANY, NULL}

/* The members §3.1 declares for memory, a disk and a network interface (the Docker report's
 * host has the same, §4.1). */
extern const struct agent_field agent_fields_memory[], agent_fields_disk[], agent_fields_net[];

/* 0 when every member of report that fields declares has the JSON type the original's
 * decoder takes, else -1 with the decoder's words in err; go_name is the Go type of the
 * whole ("docker.Report"), named when report is not an object. */
int agent_check_report(struct json_object *report, const struct agent_field *fields,
    const char *go_name, char *err, size_t errlen);

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

/* The report's time (unix seconds): its timestamp, or now when it has none (or Go's zero
 * time). */
double agent_report_time(struct json_object *report, double now);

/* An API token as an agent's record shows it (§3.2 step 5): its name, its hint
 * ("prefix…suffix") and when it was last used (now when never). */
struct agent_token_info {
	char name[256], hint[128];
	double last_used;
};
/* Reads token_id's record into *t (emptied when token_id is NULL, "" or unknown); 0 or -1
 * on a database error. */
int agent_token_read(struct db *db, const char *token_id, struct agent_token_info *t);

/* Pieces of the agents' documents (HostFrontend, DockerHostFrontend). */
/* v when finite, else 0 (the original's safeFloat). */
double agent_finite(double v);
/* Member sk of src trimmed as member dk of dst; optional: left out when empty. */
void agent_doc_str(struct json_object *dst, const char *dk, struct json_object *src,
    const char *sk, int optional);
/* Adds v (owned) as member key of o unless v is NULL. */
void agent_doc_add(struct json_object *o, const char *key, struct json_object *v);
/* The non-empty strings of arr (at most AGENT_HOST_MAX_ITEMS); NULL when none. */
struct json_object *agent_doc_string_list(struct json_object *arr);
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
	const char *linked_node_id;	/* NULL: none */
};
struct json_object *agent_host_doc(struct json_object *report, const struct agent_host *h,
    const struct agent_host_doc_meta *m);



/* Removes a host (agents.md §6.4) in one transaction: its row, and its API token when no
 * other host reports with it (the original's answer to a removed host that reports again
 * is then 401). Unknown ids succeed. *revoked says whether a token went. 0 or -1 (database;
 * err says what). */
int agent_host_remove(struct db *db, const char *id, int *revoked, char *err, size_t errlen);

/* Unlinks a host from its PVE node (§6.3) and keeps it unlinked. 1 done, 0 when the host is
 * unknown or not linked, -1 on a database error. */
int agent_host_unlink(struct db *db, const char *id);

#endif
