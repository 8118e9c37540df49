/* alert_agents.h: the alert checks of the agents' reports (alerts-notifications.md §3.4,
 * §3.5, §3.7): a host agent (offline, cpu, memory, filesystems, SMART temperatures, mdraid),
 * a Docker host (offline, containers, Swarm services) and a Kubernetes cluster (offline,
 * deployments: our addition, the original has no Kubernetes alert). Pure like
 * alert_engine.c: a parsed report in, changes out; what must outlive one evaluation (restart
 * counts, exit codes, when an image update was first seen) rides in pending entries.
 * src/agent_alerts_json.c fills the structs from a report's JSON; worker/alerts.c runs them
 * against the database (alerts_evaluate_host/_docker/_kubernetes). */
#ifndef PULSE_ALERT_AGENTS_H
#define PULSE_ALERT_AGENTS_H

#include <stddef.h>
#include <stdint.h>

struct alert_eval;

/* Bounds of one report; more entries are dropped by the reader. */
#define AGENT_MAX_DISKS 256
#define AGENT_MAX_SMART 256
#define AGENT_MAX_RAID 64
#define AGENT_MAX_CONTAINERS 4096
#define AGENT_MAX_SERVICES 1024
#define AGENT_MAX_DEPLOYMENTS 4096
#define AGENT_RESTART_ENTRIES 32	/* restart sightings kept per container */

enum agent_kind { AGENT_HOST, AGENT_DOCKER, AGENT_KUBERNETES };

struct agent_disk {
	char mountpoint[256], device[128], type[32];
	int64_t total, used;
	double usage;			/* percent; 0: from used / total */
};

struct agent_smart {
	char device[64], model[128];
	int temperature;		/* °C; 0 unknown */
	int standby;
};

struct agent_raid {
	char device[64], level[32], state[128];
	int failed_devices;
	double rebuild_percent;
};

struct agent_host {
	char id[128], hostname[128], display_name[128];
	char platform[64], os_name[64], os_version[64];
	int online;
	double cpu, memory;		/* percent */
	struct agent_disk *disks;
	int ndisks;
	struct agent_smart *smart;
	int nsmart;
	struct agent_raid *raid;
	int nraid;
};

struct agent_container {
	char id[80], name[128], image[256];
	char state[32], status[128], health[32];
	int restart_count, exit_code;
	double cpu, memory_percent;
	int64_t memory_usage, memory_limit;
	int64_t writable_layer, root_filesystem;	/* bytes; 0: not reported */
	int has_update_status, update_available;
	char update_error[128];
};

struct agent_service {
	char id[80], name[128];
	int desired_tasks, running_tasks;
	char update_state[32];
};

struct agent_docker {
	char id[128], hostname[128], display_name[128];
	int online;
	struct agent_container *containers;
	int ncontainers;
	struct agent_service *services;
	int nservices;
};

struct agent_deployment {
	char namespace_[128], name[128];
	int desired, available;
};

struct agent_kubernetes {
	char id[128], name[128];
	int online;
	struct agent_deployment *deployments;
	int ndeployments;
};

/* Releases the arrays of a report (the struct itself is the caller's). */
void agent_host_free(struct agent_host *h);
void agent_docker_free(struct agent_docker *d);
void agent_kubernetes_free(struct agent_kubernetes *k);

/* The time in seconds after a report within which an agent counts as online (agents.md
 * §12): the reported interval (<= 0: 60 s host, 30 s others) times 6 (host) or 4, within
 * [60, 600] (host) or [30, 600]. */
int alert_agent_offline_window(enum agent_kind kind, int interval_seconds);

/* A host agent: host-offline after 3 offline evaluations (while offline nothing else is
 * judged and everything else stays); else cpu, memory, each filesystem ("Host Disk"), each
 * awake SMART disk's temperature and each md array. The override key is the bare host id. */
void alert_eval_host(struct alert_eval *e, const struct agent_host *h);
/* A Docker host: docker-host-offline after 3 offline evaluations, which resolves its
 * container and service alerts; else each container (metrics, state, health, restart loop,
 * OOM kill, memory limit, image update) and each Swarm service. */
void alert_eval_docker_host(struct alert_eval *e, const struct agent_docker *d);
/* A Kubernetes cluster: kubernetes-cluster-offline after 3 offline evaluations (kept as for
 * a host); else kubernetes-deployment for each deployment short of its desired replicas. */
void alert_eval_kubernetes(struct alert_eval *e, const struct agent_kubernetes *k);

/* The id parts of §1.4: an md device without "/dev/", lower case, [a-z0-9] kept, other runs
 * one '-', trimmed; "unknown" when nothing is left. */
void alert_agent_raid_key(const char *device, char *out, size_t len);
/* Whether an md array is one of Synology DSM's own (md0 system, md1 swap, on every disk),
 * which the original never alerts: device md0 or md1 on a host whose platform, OS, name or
 * hostname says synology or dsm. */
int alert_agent_raid_ignored(const struct agent_host *h, const struct agent_raid *r);

#endif
