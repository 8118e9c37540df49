/* agent_mock.h: mock mode's agents (state-proxmox.md §6.2): generic hosts, Docker hosts with
 * their containers and Kubernetes clusters, kept as reports shaped like the real agents'
 * (agents.md §3.1, §4.1, §5.1), their figures drifting every tick, written to the agent
 * tables as mock rows (source 'mock') through the documents real reports get, and removed
 * with the rest of the mock estate. */
#ifndef PULSE_AGENT_MOCK_H
#define PULSE_AGENT_MOCK_H

#include <json-c/json.h>
#include <stddef.h>

#include "db.h"

struct alert_eval;

/* The original's defaults (§6.2). */
#define AGENT_MOCK_HOSTS 4
#define AGENT_MOCK_DOCKER_HOSTS 3
#define AGENT_MOCK_CONTAINERS 12		/* per Docker host */
#define AGENT_MOCK_KUBE_CLUSTERS 2
#define AGENT_MOCK_KUBE_NODES 4			/* per cluster */
#define AGENT_MOCK_KUBE_PODS 30
#define AGENT_MOCK_KUBE_DEPLOYMENTS 12
#define AGENT_MOCK_INTERVAL 30			/* the agents' reported interval, seconds */

#define AGENT_MOCK_ID_MAX 96

/* The mock agents: one report each (new references, owned), with the ids they are stored
 * under, and each container's block I/O rates since the previous tick (-1: none yet). */
struct agent_mock {
	unsigned seed;
	struct json_object *hosts[AGENT_MOCK_HOSTS];
	char host_ids[AGENT_MOCK_HOSTS][AGENT_MOCK_ID_MAX];
	struct json_object *docker[AGENT_MOCK_DOCKER_HOSTS];
	char docker_ids[AGENT_MOCK_DOCKER_HOSTS][AGENT_MOCK_ID_MAX];
	double rates[AGENT_MOCK_DOCKER_HOSTS][AGENT_MOCK_CONTAINERS][2];
	struct json_object *kube[AGENT_MOCK_KUBE_CLUSTERS];
	char kube_ids[AGENT_MOCK_KUBE_CLUSTERS][AGENT_MOCK_ID_MAX];
	double reported_at;			/* the reports' timestamp (unix seconds) */
};

/* Builds the agents from seed (the same seed gives the same agents), their reports stamped
 * now; m is emptied first (agent_mock_free). */
void agent_mock_generate(struct agent_mock *m, unsigned seed, double now);

/* Moves the figures a tick on to now (§6.3: host and Docker host CPU and memory, each
 * container's CPU and memory, uptimes, I/O counters) and stamps the reports now. */
void agent_mock_fluctuate(struct agent_mock *m, double now);

/* Writes every agent of m as a mock row in one transaction, each through the document
 * builders of the real reports (agent_host_doc, agent_docker_host_doc with
 * agent_docker_container_doc, agent_kube_*_doc), upserted by id; mock rows of ids m does not
 * hold are removed and the state version moves. A row a real agent reported under the same
 * id is left as it is (the mock one is then not shown). 0, or -1 with err set. */
int agent_mock_write(struct db *db, struct agent_mock *m, char *err, size_t errlen);

/* Removes every mock row of the agent tables (hosts, Docker hosts with their containers and
 * commands, removal blocks, Kubernetes clusters) in one transaction that moves the state
 * version; real agents' rows are never touched. 0, or -1 with err set. */
int agent_mock_clear(struct db *db, char *err, size_t errlen);

/* The agents' alert checks on m (alert_eval_host, alert_eval_docker_host,
 * alert_eval_kubernetes), all online, under their stored ids: part of the mock estate's one
 * evaluation. */
void agent_mock_alerts(struct alert_eval *e, const struct agent_mock *m);

/* Records the agents' figures at ts through record (the worker's metrics_record), as the
 * worker does for reports: host (cpu, memory, disk in percent), dockerHost (cpu, memory,
 * disk) and dockerContainer (cpu, memory, block I/O rates once there are two samples). */
typedef void (*agent_mock_record_fn)(const char *type, const char *id, const char *name,
    const char *metric, double ts, double value);
void agent_mock_record(const struct agent_mock *m, double ts, agent_mock_record_fn record);

/* Releases the reports; m is empty afterwards. */
void agent_mock_free(struct agent_mock *m);

#endif
