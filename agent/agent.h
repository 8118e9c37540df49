/* agent.h: the pulse-agent's private declarations: configuration, the Linux parsers, the
 * report and its JSON, the send buffer, the health server. */
#ifndef PULSE_AGENT_H
#define PULSE_AGENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* --- configuration (config.c; agents.md §9.1) ------------------------------------------ */

#define AGENT_DEFAULT_URL "http://localhost:7655"
#define AGENT_DEFAULT_HEALTH ":9191"
#define AGENT_TOKEN_FILE "/var/lib/pulse-agent/token"

struct agent_config {
	char *url;		/* trailing '/' trimmed */
	char *token;		/* a secret: never logged */
	double interval;	/* seconds */
	char *hostname;		/* override, or NULL */
	char *agent_id;		/* override, or NULL */
	char *health_addr;	/* "" disables the health server */
	char *report_ip;
	char *log_level;
	int insecure;
	int enable_host;
	int enable_commands;
	int enable_docker;
	int docker_given;	/* --enable-docker or PULSE_ENABLE_DOCKER was given: no auto */
	char *docker_runtime;	/* auto, docker or podman */
	char **tags;		/* trimmed, deduplicated */
	size_t ntags;
	char **disk_exclude;
	size_t ndisk_exclude;
	int enable_kubernetes;
	char **kube_include;	/* namespace globs; none: every namespace */
	size_t nkube_include;
	char **kube_exclude;	/* namespace globs, over the included ones */
	size_t nkube_exclude;
	int kube_all_pods;	/* every pod, not only the problem ones */
	int kube_all_deployments;
	int kube_max_pods;	/* 0: no limit */
	int show_version;
	int self_test;
	/* flags accepted but not acted on by this agent (docker, kubernetes, proxmox, ...),
	 * "name" each, for one log line at start */
	char **unsupported;
	size_t nunsupported;
};

/* Reads the flags (argv, "-name", "--name", "--name=value" or "--name value") over the
 * environment (env_get, getenv in the program, a table in the tests), then the token from
 * its file when neither gave one. Returns 0, or -1 with a message in err (never the token).
 * Free with agent_config_free. */
typedef const char *(*agent_env_fn)(const char *name);
int agent_config_parse(struct agent_config *cfg, int argc, char **argv, agent_env_fn env_get,
    char *err, size_t errlen);
void agent_config_free(struct agent_config *cfg);
/* Applies a profile's settings from the remote configuration (agents.md §7, §9.4) over the
 * flags: interval (a Go duration or seconds, up to a day), log_level, report_ip and
 * enable_docker; other keys (modules this agent does not have) are left. Returns how many
 * were applied. */
int agent_config_apply_settings(struct agent_config *cfg, struct json_object *settings);
/* A Go duration ("30s", "1m30s", "500ms", "1h"): seconds, or -1 when it is not one. */
int agent_parse_duration(const char *s, double *out);
/* The environment's truthy words: 1, true, yes, y, on (any case). */
int agent_env_truthy(const char *s);

/* --- identity (identity.c; §9.3) -------------------------------------------------------- */

/* The machine id from /etc/machine-id's text: 32 hex digits become 8-4-4-4-12, any other
 * text of 8 or more characters is kept (trimmed). Returns 0, or -1 when too short. */
int agent_machine_id_from_text(const char *text, char *out, size_t len);
/* Whether an interface name is a virtual one (lo, docker*, veth*, br-*, cni*, flannel*,
 * virbr*, zt*), which the MAC fallback passes over. */
int agent_iface_virtual(const char *name);
/* The machine id of this host: /etc/machine-id, else mac-<hex> of the first physical
 * interface, else DMI product_uuid, else boot_id; "" when none. */
void agent_machine_id(char *out, size_t len);

/* --- CPU, memory, load (proc.c; §10.1) ------------------------------------------------- */

/* Copies the line at *p (without its newline, cut to len - 1) into line and moves *p past
 * it. Returns 0 at the end of the text. */
int agent_next_line(const char **p, char *line, size_t len);

struct agent_cpu_times {
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
};
/* The aggregate "cpu" line of /proc/stat. Returns 0 or -1. */
int agent_parse_stat_cpu(const char *text, struct agent_cpu_times *out);
/* Busy percent between two samples, clamped to 0..100 (gopsutil's rules). */
double agent_cpu_percent(const struct agent_cpu_times *a, const struct agent_cpu_times *b);
/* Logical CPUs: "processor" lines of /proc/cpuinfo, else cpuN lines of /proc/stat. */
int agent_parse_cpu_count(const char *cpuinfo, const char *stat);

struct agent_memory {
	int64_t total, used, free, swap_total, swap_used;
	double usage;
};
/* /proc/meminfo: used = total - MemAvailable (or Cached+SReclaimable+MemFree without it). */
int agent_parse_meminfo(const char *text, struct agent_memory *out);
int agent_parse_loadavg(const char *text, double load[3]);
/* /proc/uptime's first field in whole seconds. */
int agent_parse_uptime(const char *text, int64_t *out);

/* --- block devices and interfaces (proc.c; §10.3, §10.4) -------------------------------- */

struct agent_diskio {
	char device[64];
	uint64_t read_bytes, write_bytes, read_ops, write_ops, read_ms, write_ms, io_ms;
};
/* Whether a /proc/diskstats name is skipped: partitions, loop*, ram*, dm-*. */
int agent_diskio_skip(const char *name);
/* /proc/diskstats, skipped names and all-zero lines left out, sorted by name. *out is the
 * caller's to free. Returns the count, or -1. */
int agent_parse_diskstats(const char *text, struct agent_diskio **out);

struct agent_netdev {
	char name[64];
	uint64_t rx_bytes, tx_bytes;
};
/* /proc/net/dev counters; *out is the caller's to free. Returns the count, or -1. */
int agent_parse_net_dev(const char *text, struct agent_netdev **out);

/* --- filesystems (disks.c; §10.2) ------------------------------------------------------ */

struct agent_mount {
	char *device, *mountpoint, *fstype;
};
/* /proc/<pid>/mountinfo (octal escapes decoded). *out is freed with agent_mounts_free. */
int agent_parse_mountinfo(const char *text, struct agent_mount **out);
void agent_mounts_free(struct agent_mount *m, int n);
/* The original's ShouldSkipFilesystem: read-only, virtual, network/FUSE types, system
 * mountpoints and container overlay paths. */
int agent_fs_skip(const char *fstype, const char *mountpoint, int64_t total, int64_t used);
/* --disk-exclude: "*sub*" contains, "prefix*" prefix, else exact. */
int agent_disk_excluded(char *const *patterns, size_t n, const char *mountpoint);

struct agent_fs {
	char device[256], mountpoint[256], fstype[64];
	int64_t total, used, free;
	double usage;
};

struct agent_zpool {
	char name[256];
	int64_t size, allocated, free;
};
/* `zpool list -Hp -o name,size,allocated,free` output; *out is the caller's to free.
 * Returns the count, or -1. */
int agent_parse_zpool_list(const char *text, struct agent_zpool **out);
/* A pool's entry sized as the original sizes it: used = allocated; total = the pool's size,
 * or the largest dataset's when smaller (RAIDZ, mirrors), free following the same choice. */
void agent_zfs_apply_pool(struct agent_fs *d, const struct agent_zpool *p);
/* Drops duplicates by device and total (the shorter mountpoint stays) and sorts by
 * mountpoint; returns the new count. */
size_t agent_disks_dedup(struct agent_fs *d, size_t n);

/* --- mdadm arrays (mdstat.c; §10.7) ---------------------------------------------------- */

struct agent_md_member {
	char device[64];
	char state[16];
	int slot;
};
struct agent_md_array {
	char device[64];
	char level[32];
	char state[64];
	int total, active, working, failed, spare;
	struct agent_md_member devices[32];
	int ndevices;
	double rebuild_percent;
	char rebuild_speed[32];
};
/* The md arrays of /proc/mdstat; *out is the caller's to free. Returns the count, or -1. */
int agent_parse_mdstat(const char *text, struct agent_md_array **out);

/* --- sensors (sensors.c; §10.5, §10.6) -------------------------------------------------- */

struct agent_sensor_reading {
	char chip[64];		/* lm-sensors style chip name, e.g. "coretemp-isa-0000" */
	char sensor[64];	/* label, e.g. "Package id 0", "Core 1", "temp1", "fan1" */
	double value;		/* degrees Celsius, or RPM for a fan */
	int fan;
};
struct agent_kv {
	char key[96];
	double value;
};
struct agent_smart_disk {
	char device[64], model[128], serial[64], wwn[64], type[8];
	int temperature;
	int passed;
	int standby;
};
struct agent_sensors {
	struct agent_kv *temps, *fans, *additional;
	size_t ntemps, nfans, nadditional;
	struct agent_smart_disk *smart;
	size_t nsmart;
};
/* Sorts readings into the report's maps by the original's rules (§10.5). */
void agent_sensors_classify(const struct agent_sensor_reading *r, size_t n,
    struct agent_sensors *out);
void agent_sensors_free(struct agent_sensors *s);
/* One disk's `smartctl -n standby -i -A -H --json=o` output and exit status. Returns 0, or
 * -1 when there is nothing to report. */
int agent_parse_smartctl(const char *json, int exit_status, const char *device,
    struct agent_smart_disk *out);

/* --- the report (report.c; §3.1) -------------------------------------------------------- */

struct agent_report {
	/* agent */
	const char *agent_id, *version;
	int interval_seconds;
	int commands_enabled;
	/* host */
	char machine_id[128];
	char hostname[256];
	char platform[64], os_name[128], os_version[64], kernel[128], arch[72];
	const char *report_ip;
	int cpu_count;
	int64_t uptime;
	double load[3];
	/* metrics */
	double cpu_percent;
	struct agent_memory mem;
	struct agent_fs *disks;
	size_t ndisks;
	struct agent_diskio *diskio;
	size_t ndiskio;
	struct agent_iface *ifaces;
	size_t nifaces;
	struct agent_sensors sensors;
	struct agent_md_array *raid;
	size_t nraid;
	char *const *tags;
	size_t ntags;
	double timestamp;	/* unix seconds */
};
struct agent_iface {
	char name[64];
	char mac[32];
	char addresses[16][64];
	int naddresses;
	uint64_t rx_bytes, tx_bytes;
};
/* The report's JSON (a new string, the caller's to free). */
char *agent_report_json(const struct agent_report *r);
void agent_report_free(struct agent_report *r);
/* The report's memory object, disks array and network array, as the host report writes
 * them; the Docker report's host carries the same (§4.1). New objects, the caller's. */
struct json_object *agent_report_memory_json(const struct agent_report *r);
struct json_object *agent_report_disks_json(const struct agent_report *r);
struct json_object *agent_report_network_json(const struct agent_report *r);
/* /etc/os-release's ID, NAME-less distro name and VERSION_ID into the report. */
void agent_parse_os_release(const char *text, struct agent_report *r);

/* --- collection (collect.c: reads the machine) ----------------------------------------- */

struct agent_collector {
	struct agent_cpu_times cpu_prev;
	int have_prev;
	const struct agent_config *cfg;
	int smartctl_checked, zpool_checked;
	char smartctl[256];	/* path, "" when absent */
	char zpool[256];
};
/* Fills r from /proc, /sys, statfs, getifaddrs and smartctl; the CPU percent is measured
 * over cpu_sample seconds. */
void agent_collect(struct agent_collector *c, struct agent_report *r, double cpu_sample);
/* Reads a small file whole (a new string), or NULL. */
char *agent_read_file(const char *path);

/* --- the send buffer (send.c; §9.5) ----------------------------------------------------- */

#define AGENT_BUFFER_MAX 60
struct agent_buffer {
	char *items[AGENT_BUFFER_MAX];	/* report bodies, oldest at head */
	int head, count;
	long dropped;
};
/* Adds a body (owned by the buffer from then on); when full the oldest is dropped. */
void agent_buffer_push(struct agent_buffer *b, char *body);
/* The oldest body, or NULL; agent_buffer_pop frees it. */
const char *agent_buffer_peek(const struct agent_buffer *b);
void agent_buffer_pop(struct agent_buffer *b);
void agent_buffer_free(struct agent_buffer *b);

enum agent_send_result {
	AGENT_SENT, AGENT_SEND_FAILED, AGENT_SEND_FORBIDDEN,
	AGENT_SEND_REMOVED,	/* 400 invalid_report "was removed": the module stops (§4.2) */
};
/* Where a kind of report goes: "report" or "docker report" for the log, the path, the
 * User-Agent, the scope a 403 names. */
struct agent_channel {
	const char *what, *path, *user_agent, *scope;
};
/* POSTs one body to <url><path> with the token headers. On AGENT_SENT *response (when
 * response is not NULL) holds the answer's body, the caller's to free, or NULL. */
enum agent_send_result agent_post(const struct agent_config *cfg, const struct agent_channel *ch,
    const char *body, char **response);

/* The longest wait between attempts while the server does not answer. */
#define AGENT_BACKOFF_MAX 300.0
/* One kind of report's buffer and retry state (§9.5). */
struct agent_outbox {
	struct agent_channel channel;
	struct agent_buffer buffer;
	const volatile sig_atomic_t *stop;	/* non-zero: stop sending (a signal came), or NULL */
	int failures;		/* sends failed in a row */
	double retry_at;	/* monotonic: no send before this while failing */
	long sent;
	/* called with the body of each accepted send's answer, or NULL */
	void (*on_answer)(void *arg, const char *answer);
	void *answer_arg;
};
/* Queues body (owned from then on) and sends the queue oldest first, unless a retry is not
 * due; see send.c. Returns AGENT_SENT when something went, AGENT_SEND_FAILED when the queue
 * is kept, AGENT_SEND_REMOVED when the server refused the host (the queue is dropped). */
enum agent_send_result agent_outbox_deliver(const struct agent_config *cfg,
    struct agent_outbox *o, char *body);
/* The remote configuration at start (§9.4): logged, never fatal. Returns commandsEnabled as
 * 0/1, or -1 when the server gave none. */
int agent_fetch_remote_config(struct agent_config *cfg, const char *hostname,
    const char *agent_id);

/* --- Docker mode: container figures (docker_stats.c; §10.8) ----------------------------- */


/* One container's CPU counters, kept between reports for an engine that answers stats in
 * one-shot mode (no precpu_stats). */
struct agent_docker_cpu_sample {
	uint64_t total;		/* cpu_stats.cpu_usage.total_usage, ns */
	uint64_t system;	/* cpu_stats.system_cpu_usage, ns */
	double at;		/* monotonic seconds */
	int have;
};
struct agent_docker_figures {
	double cpu_percent;	/* may exceed 100 on several CPUs */
	int64_t mem_usage, mem_limit;
	double mem_percent;
	uint64_t blk_read, blk_write;
};
/* The figures of one /containers/{id}/stats answer: CPU from its precpu_stats when they
 * hold a sample, else from *prev (0 on the first sample); *prev becomes this sample.
 * host_cpus stands in when the answer names no CPU count; now is monotonic seconds. */
void agent_docker_stats_figures(struct json_object *stats, int host_cpus, double now,
    struct agent_docker_cpu_sample *prev, struct agent_docker_figures *out);
/* Whether an environment variable's name hides a secret (its value is sent as "***"). */
int agent_docker_env_secret(const char *name);

/* --- Docker mode: the engine, the report, the commands (docker.c, docker_cmd.c) ---------- */

/* The engine's Unix socket (docker_engine.c; §9.7). Paths are the Engine API's without a
 * version prefix: the engine then answers with its own API version. */
struct docker_engine {
	char socket[256];	/* "" until one answers */
	int podman;
};
/* Tries the candidates in the original's order for runtime (auto, docker, podman): the
 * unix:// DOCKER_HOST, CONTAINER_HOST and PODMAN_HOST, the Podman sockets, then
 * /var/run/docker.sock; the first whose /info answers within 5 s wins. Returns 0, or -1
 * with the candidates in tried. */
int docker_engine_find(struct docker_engine *e, const char *runtime, char *tried,
    size_t len);
/* GET path: the answer's JSON (the caller puts it) when the status is 2xx and the body is
 * JSON, else NULL with *status (0: no answer). */
struct json_object *docker_engine_get(struct docker_engine *e, const char *path,
    long *status);
/* method path with an optional JSON body: the status (0: no answer); *answer (optional)
 * gets the answer's JSON or NULL. */
long docker_engine_call(struct docker_engine *e, const char *method, const char *path,
    const char *body, struct json_object **answer);
/* Whether ref can stand in an engine path as a container id or name: 1 to 128 of
 * [A-Za-z0-9_.-], not starting with '.' or '-'. */
int docker_engine_ref_ok(const char *ref);
/* Whether /info's answer says Podman (InitBinary, ServerVersion, DriverStatus or
 * SecurityOptions mention it). */
int docker_engine_info_podman(struct json_object *info);

/* Adds the commands of a docker report's answer (§4.4) to the array pending, each id once. */
void dockeragent_take_commands(struct json_object *pending, const char *answer);
/* Runs the commands (docker_cmd.c; §9.8) in order and acks each at
 * /api/agents/docker/commands/{id}/ack. An update that succeeded leaves its backup
 * container's id in backup (to be removed later). Returns 1 after a stop (the module ends;
 * the commands after it are not run), 0 otherwise. */
int dockeragent_run_commands(const struct agent_config *cfg, struct docker_engine *e,
    const char *agent_id, struct json_object *commands, char *backup, size_t backup_len);

struct dockeragent;
/* The Docker module: state kept between reports (engine socket, CPU samples, buffer). */
struct dockeragent *dockeragent_new(const struct agent_config *cfg, const char *agent_id,
    const char *hostname, const char *machine_id, const volatile sig_atomic_t *stop);
void dockeragent_free(struct dockeragent *d);
/* One cycle: finds the engine when not connected (backing off while none answers), makes
 * the report with the host's figures from hr, sends it with the kept ones, and runs the
 * command a response carries. Never fatal: problems are logged. Returns 0 while the module
 * runs, -1 once it has stopped (a stop command, or the server said the host was removed). */
int dockeragent_cycle(struct dockeragent *d, const struct agent_report *hr);

/* --- Kubernetes mode (kube.c; §5.1, §9.5) ---------------------------------------------- */

/* A Kubernetes quantity ("3500m", "8Gi", "1e3", "110") times scale, truncated (scale 1000
 * gives milli-units). Returns 0, or -1 when it is not one. */
int agent_kube_quantity(const char *s, double scale, int64_t *out);
/* Whether the namespace filters keep ns: an exclude glob wins; no include glob means all. */
int agent_kube_namespace_wanted(const struct agent_config *cfg, const char *ns);
/* Whether an API Pod is a problem (Pending, Failed or Unknown; an init container failed,
 * waiting or not ready and not running; a container waiting, terminated or not ready). */
int agent_kube_pod_problem(struct json_object *pod);
/* Whether an API Deployment wants replicas and has fewer available, ready or updated. */
int agent_kube_deployment_problem(struct json_object *deployment);
/* An API Node, Pod or Deployment as the report carries it (new objects). */
struct json_object *agent_kube_node(struct json_object *node);
struct json_object *agent_kube_pod(struct json_object *pod);
struct json_object *agent_kube_deployment(struct json_object *deployment);
/* The cluster id the original's agent makes: hex SHA-256 of "server|context|name". */
void agent_kube_cluster_identity(const char *server, const char *context, const char *name,
    char *id, size_t len);

/* The API server's answers one report is made of (GET /version, /api/v1/nodes,
 * /api/v1/pods, /apis/apps/v1/deployments). */
struct agent_kube_answers {
	struct json_object *version, *nodes, *pods, *deployments;
};
/* The report (a new object): agent.id the configured id, else the cluster id; the cluster
 * "in-cluster" at server; every node; the pods and deployments the filters keep, sorted by
 * namespace and name, pods cut to kube_max_pods. now is unix seconds. */
struct json_object *agent_kube_report(const struct agent_config *cfg,
    const struct agent_kube_answers *a, const char *server, double now);

struct kubeagent;
/* The Kubernetes module: the API server from KUBERNETES_SERVICE_HOST and _PORT, the
 * service account's token and ca.crt from /var/run/secrets/kubernetes.io/serviceaccount
 * (PULSE_KUBE_SERVICE_ACCOUNT_DIR overrides it). */
struct kubeagent *kubeagent_new(const struct agent_config *cfg,
    const volatile sig_atomic_t *stop);
void kubeagent_free(struct kubeagent *k);
/* One cycle: reads the API server, makes the report, sends it with the kept ones. Never
 * fatal. Returns 0 while the module runs, -1 once the server said the cluster was removed. */
int kubeagent_cycle(struct kubeagent *k);

/* --- health server (health.c; §9.6) ---------------------------------------------------- */

/* Listens on addr ("host:port", ":port") in a thread of its own. Returns 0, or -1 (logged). */
int agent_health_start(const char *addr, const char *version);
void agent_health_set_ready(int ready);
/* The modules /metrics names as enabled (host on, docker and kubernetes off until told). */
void agent_health_set_modules(int host, int docker, int kubernetes);
void agent_health_stop(void);

#endif
