/* agent_docker.h: a Docker agent's report on the server (agents.md §4): the types the
 * original's decoder insists on (§1.3, §4.1), the host's identity, token binding and removal
 * block (§4.2), the documents /api/state serves (DockerHost, DockerContainer), the
 * one-transaction write to pulse.docker_hosts and pulse.docker_containers, and the command the
 * report's answer carries (§4.4). Commands and management: src/agent_docker_commands.c. */
#ifndef PULSE_AGENT_DOCKER_H
#define PULSE_AGENT_DOCKER_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* The longest Docker host id kept (an agent key with a "::<suffix>"). */
#define AGENT_DOCKER_ID_MAX 320

/* Bounds of what is kept of one report (more entries are dropped; the body limit, 512 KiB as
 * the original's, bounds the rest). Containers, services and tasks share the alert reader's
 * bounds (src/alert_agents.h). */
#define AGENT_DOCKER_MAX_TASKS 4096
#define AGENT_DOCKER_MAX_ITEMS 256	/* ports, labels, networks, mounts of a container */

/* 0 when every member of report that §4.1 declares has the JSON type the original's decoder
 * takes (null is absent; unknown members ignored; times RFC 3339 text), else -1 with the
 * decoder's words in err. */
int agent_docker_check_types(struct json_object *report, char *err, size_t errlen);

/* The agent key of §4.2 (trimmed agent.id, else host.machineId, else host.hostname) into
 * out; "" when none. */
void agent_docker_agent_key(struct json_object *report, char *out, size_t len);

/* Candidate n (0-based) of the "::<suffix>" a taken id gets (§4.2): token-, agent-,
 * machine-, host-, name- with the sanitised value, hash-<hex6>, then "2", "3" ... Candidates
 * whose value is empty are skipped (*out ""). */
void agent_docker_suffix(struct json_object *report, const char *token_id, int n, char *out,
    size_t len);

/* §4.1's runtime as the server keeps it: "podman", else "docker". */
const char *agent_docker_runtime(const char *reported);

/* "v" + version without leading v/V, trimmed; "" when empty (the previous is then kept). */
void agent_docker_version(const char *reported, char *out, size_t len);

/* The block I/O rate between two samples of a cumulative counter: bytes per second, or -1
 * when there is no previous sample, time did not move forward or the counter went back. */
double agent_docker_rate(int64_t prev_total, double prev_time, int64_t total, double time);

/* A container's rates from the previous report (-1: none). */
struct agent_docker_rates {
	double read, write;
};

/* The DockerContainer document of a report's container (new reference). */
struct json_object *agent_docker_container_doc(struct json_object *c,
    const struct agent_docker_rates *rates);

/* A container's row for pulse.docker_containers (id, position, figures, block I/O totals
 * and rates, its document), as the report path and mock mode write it (new reference). */
struct json_object *agent_docker_container_row(struct json_object *c, const char *id,
    int position, const struct agent_docker_rates *rates);

/* What the host's document takes from the server rather than the report. */
struct agent_docker_doc_meta {
	const char *id, *agent_id, *agent_version;
	double last_seen;
	const char *token_id, *token_name, *token_hint;
	double token_last_used;		/* unix seconds; 0: none */
};
/* The DockerHost document of a report without status, pendingUninstall, customDisplayName,
 * containers and command, which pulse.docker_host_doc() joins (new reference). */
struct json_object *agent_docker_host_doc(struct json_object *report,
    const struct agent_docker_doc_meta *m);

/* Who sent a report: the API token, or none (token_id NULL). */
struct agent_docker_token {
	const char *token_id;
};

/* What a stored report answers (§4.4). */
struct agent_docker_stored {
	char id[AGENT_DOCKER_ID_MAX];
	double last_seen;
	int containers;
	struct json_object *command;	/* the DockerAgentCommand to send, or NULL; caller's */
};

enum agent_docker_result {
	AGENT_DOCKER_OK = 0,
	AGENT_DOCKER_ERROR = -1,	/* database: the message says what */
	AGENT_DOCKER_REFUSED = -2,	/* 400 invalid_report: the message is the answer's */
};

/* Stores one report (checked with agent_docker_check_types) in one transaction: identity,
 * removal block and token binding (§4.2), the host and its containers with their block I/O
 * rates, the pending-uninstall flag, the command for the answer (queued or dispatched, now
 * dispatched; expired ones marked), the state version moved. now is the server's time. */
enum agent_docker_result agent_docker_store(struct db *db, struct json_object *report,
    const struct agent_docker_token *tok, double now, struct agent_docker_stored *out,
    char *msg, size_t msglen);

/* --- commands and management (src/agent_docker_commands.c; agents.md §4.5-§4.7) ------- */

/* Within a report's transaction: the host's command to send (§4.4), queued or dispatched
 * (now dispatched), as a DockerAgentCommand in *out (NULL: none; caller's); commands past
 * their ten minutes are marked expired first. 0 or -1. */
int agent_docker_command_for_report(struct db *db, const char *host_id,
    struct json_object **out);

enum agent_docker_cmd_result {
	AGENT_DOCKER_CMD_OK = 0,
	AGENT_DOCKER_CMD_ERROR = -1,	/* database */
	AGENT_DOCKER_CMD_NO_HOST = -2,	/* unknown host */
	AGENT_DOCKER_CMD_BUSY = -3,	/* a command is under way (§4.5) */
	AGENT_DOCKER_CMD_UNKNOWN = -4,	/* ack: unknown command */
	AGENT_DOCKER_CMD_OTHER_HOST = -5,	/* ack: hostId names another host */
	AGENT_DOCKER_CMD_INACTIVE = -6,	/* ack: the command has ended */
};

/* The command types of §4.5. */
enum agent_docker_cmd_type {
	AGENT_DOCKER_STOP, AGENT_DOCKER_UPDATE_CONTAINER, AGENT_DOCKER_CHECK_UPDATES,
};

/* Queues a command on host_id's slot (a stop also marks the host pending uninstall; an
 * update carries the container's id and name). On success *status is the command's status
 * object (caller's). */
enum agent_docker_cmd_result agent_docker_command_queue(struct db *db, const char *host_id,
    enum agent_docker_cmd_type type, const char *container_id, const char *container_name,
    struct json_object **status);

/* The canonical ack status of an alias (§4.6, any case), or NULL when it is none. */
const char *agent_docker_ack_status(const char *alias);

/* Acknowledges command_id with a canonical status (§4.6). host_id, when not NULL or "", must
 * name the command's host: its id, its agent id, or its id before "::" (QUIRK 6 of
 * agents.md §14: docs/COMPATIBILITY.md). A completed stop removes the host without a block;
 * a failure clears pending uninstall. On success host_out (AGENT_DOCKER_ID_MAX) holds the
 * host's id and *status the command's status object (caller's). */
enum agent_docker_cmd_result agent_docker_command_ack(struct db *db, const char *command_id,
    const char *host_id, const char *status_name, const char *message, char *host_out,
    struct json_object **status);

/* Removes a Docker host (§4.7) in one transaction: its row, containers and command, its API
 * token (always, as the original), and a 24-hour removal block listed in removedDockerHosts.
 * *found says whether the host existed. 0 or -1. */
int agent_docker_remove(struct db *db, const char *id, int *found);

/* 1 online, 0 offline, -2 unknown host, -1 database error. */
int agent_docker_host_online(struct db *db, const char *id);

/* The management flags and name of §4.7. Each returns 1 done, 0 unknown host, -1. */
enum agent_docker_change {
	AGENT_DOCKER_HIDE, AGENT_DOCKER_UNHIDE, AGENT_DOCKER_PENDING_UNINSTALL,
	AGENT_DOCKER_ALLOW_REENROLL,
};
int agent_docker_change(struct db *db, const char *id, enum agent_docker_change what);
/* The custom display name ("" clears it). */
int agent_docker_set_display_name(struct db *db, const char *id, const char *name);

#endif
