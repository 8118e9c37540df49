/* pve_detail.h: tolerant parsers of the detail responses a PVE poll reads after the lists
 * (guest agent network and OS, container status/config/interfaces, physical disks, ZFS pools,
 * Ceph, replication) and the JSON objects /api/state shows for them, with the original's
 * field names, types and units (state-proxmox.md §1.3-§1.9, §1.13, §2.5 rows 4c-4j, 6, 7a, 7b,
 * §2.7-§2.8).
 *
 * One header for six files, one per subject: pve_guest.c (guest agent network, OS),
 * pve_container.c, pve_disks.c, pve_zfs.c, pve_ceph.c and pve_replication.c. The poller uses
 * them together, and they share the conventions below and some types (a container's
 * interfaces are guest interfaces); pve_detail_int.h holds what the six share privately.
 *
 * Conventions shared by every function here:
 * - "data" is the value of the response's "data" member, as proxmox_response_data() returns it
 *   (the caller keeps its reference; nothing here takes or drops one). Any JSON value is
 *   accepted: a wrong type anywhere reads as missing, numbers may be JSON numbers, numeric
 *   strings or null, and nothing here crashes, loops without bound or overflows.
 * - Lists are capped (the PVE_*_MAX constants) and long strings are cut at a UTF-8 character
 *   boundary to fit their fields; the cut is silent.
 * - Parsed shapes are plain structs the caller owns (they hold no pointers: copy them, zero
 *   them, free them as blocks). Some are large: allocate them with xcalloc, not on a small
 *   stack.
 * - JSON builders return a new json-c reference that the caller puts (or hands to a parent
 *   object, which then owns it).
 * - Times passed in are unix seconds as doubles (clock_wall()).
 */
#ifndef PULSE_PVE_DETAIL_H
#define PULSE_PVE_DETAIL_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* --- guest network interfaces (guest agent, containers) ----------------------------------- */

#define PVE_NET_MAX_IFACES 32
#define PVE_NET_MAX_ADDRS 16		/* per interface */
#define PVE_NET_MAX_IPS 64		/* per guest */
#define PVE_NET_ADDR_LEN 64

/* One GuestNetworkInterface (§1.3): addresses are IPs without prefix or zone, never
 * loopback (127.*, ::1) or link-local (fe80::). */
struct pve_guest_iface {
	char name[64];
	char mac[40];
	char addrs[PVE_NET_MAX_ADDRS][PVE_NET_ADDR_LEN];
	int naddrs;
	int64_t rx_bytes, tx_bytes;	/* cumulative counters from the agent; 0 when unknown */
};

/* A guest's interfaces and its ipAddresses list. */
struct pve_guest_net {
	struct pve_guest_iface ifaces[PVE_NET_MAX_IFACES];
	int nifaces;
	char ips[PVE_NET_MAX_IPS][PVE_NET_ADDR_LEN];
	int nips;
};

/* GET /nodes/{n}/qemu/{vmid}/agent/network-get-interfaces (data is {"result": [...]}; a bare
 * array is accepted too). Keeps what the original keeps: per interface the trimmed name and
 * hardware-address, the addresses (deduplicated, sorted), statistics rx-bytes/tx-bytes; an
 * interface with no address and no traffic is dropped, and so is "lo" always. Interfaces end
 * sorted by name, net->ips holds the guest's sorted unique addresses. Fills *net (zeroed
 * first) and returns the number of interfaces, or -1 when data has no interface list. */
int pve_parse_agent_network(struct json_object *data, struct pve_guest_net *net);

/* Recomputes net->ips from the interfaces' addresses: sorted (byte order, as Go's
 * sort.Strings), unique, at most PVE_NET_MAX_IPS. Returns net->nips. */
int pve_guest_net_collect_ips(struct pve_guest_net *net);

/* The "networkInterfaces" array ([{name, mac?, addresses?, rxBytes?, txBytes?}]); NULL when
 * empty (the original omits it then). The guest's other fields (ipAddresses, osName, disks,
 * ...) are copied into its st_guest and written by state.c. */
struct json_object *pve_guest_net_ifaces_json(const struct pve_guest_net *net);

/* --- guest agent OS and version ------------------------------------------------------------ */

struct pve_agent_osinfo {
	char name[128];			/* osName */
	char version[128];		/* osVersion */
};

/* GET .../agent/get-osinfo (data is {"result": {...}}, or the inner object). As the original:
 * osName = name, else pretty-name, else id; osVersion = version, else version-id, else
 * pretty-name when it differs from osName, else kernel-release; a version equal to the name
 * is dropped. Returns 0, or -1 when there is no object (out is then empty). */
int pve_parse_agent_osinfo(struct json_object *data, struct pve_agent_osinfo *out);

/* GET .../agent/info: result.version, else result["qemu-ga"].version. Writes "" when absent.
 * Returns 0 when a version was found, else -1. */
int pve_parse_agent_info(struct json_object *data, char *version, size_t len);

/* Why a VM's disk usage is unknown when its get-fsinfo call failed: the original's
 * diskStatusReason for the failure (monitor_polling.go). status is the HTTP status (0: no
 * answer), timed_out whether our own request timed out, body[0..len) the answer, whose
 * "message" PVE fills with its reason ("QEMU guest agent is not running", "... got
 * timeout", "Permission check failed ..."). Returns "agent-timeout", "agent-not-running",
 * "permission-denied" or "agent-error", a static string. */
const char *pve_agent_failure_reason(long status, int timed_out, const char *body, size_t len);

/* --- containers (§2.5 4g-4i, §2.8) ---------------------------------------------------------- */

#define PVE_CT_MAX_DISKS 32
#define PVE_CT_MAX_MOUNTS 64

/* A container disk (a Disk object of §1.3). */
struct pve_ct_disk {
	char mountpoint[256], type[32], device[192];
	int64_t total, used, free;
	double usage;			/* percent */
};

/* What status/current, config and interfaces tell about one container. Build it in the
 * original's order: pve_ct_init, pve_ct_apply_status (running containers), pve_ct_apply_config,
 * pve_ct_apply_interfaces only when pve_ct_wants_interfaces() and the container runs, then
 * pve_ct_finish once; then read the fields (the worker copies them into the guest's st_guest;
 * a container seen OCI once stays so, which is the caller's to remember). */
struct pve_ct_detail {
	struct pve_guest_net net;	/* interfaces and ipAddresses (sorted by pve_ct_finish) */
	struct pve_ct_disk disks[PVE_CT_MAX_DISKS];
	int ndisks;			/* after pve_ct_finish: at least 1 (a root entry) */
	char os_name[64];		/* osName: config ostype as a display name */
	char os_template[256];		/* osTemplate: config ostemplate */
	int is_oci;			/* OCI container (§2.8); type "oci" */
	char root_device[192];		/* rootfs volume, e.g. "local-lvm:vm-101-disk-0" */
	/* raw material kept until pve_ct_finish */
	struct { char label[32]; int64_t total, used; } diskinfo[PVE_CT_MAX_DISKS];
	int ndiskinfo;
	struct { char key[16], mountpoint[256], source[192]; } mounts[PVE_CT_MAX_MOUNTS];
	int nmounts;
	char status_rootfs[192];
};

void pve_ct_init(struct pve_ct_detail *ct);
/* GET /nodes/{n}/lxc/{vmid}/status/current: ip, ip6 (strings), ipv4, ipv6 (strings, lists or
 * objects), network {<if>: {name, hwaddr, ip, ip6, ipv4, ipv6}}, diskinfo {<label>: {total,
 * used}}, rootfs. Returns 0, or -1 when data is not an object. */
int pve_ct_apply_status(struct pve_ct_detail *ct, struct json_object *data);
/* GET /nodes/{n}/lxc/{vmid}/config: rootfs and mpN (mount points, root device), netN
 * ("name=eth0,hwaddr=..,ip=10.0.0.5/24,..": merged into the interfaces by name or MAC),
 * ostype (osName), ostemplate (osTemplate), entrypoint, cmode and lxc raw lines (OCI).
 * Returns 0, or -1 when data is not an object. */
int pve_ct_apply_config(struct pve_ct_detail *ct, struct json_object *data);
/* Whether the original would ask GET .../interfaces: no address known yet (and the container
 * runs, which the caller knows). */
int pve_ct_wants_interfaces(const struct pve_ct_detail *ct);
/* GET /nodes/{n}/lxc/{vmid}/interfaces: [{name, hwaddr, inet, inet6, ip-addresses[]
 * {ip-address, ip-address-type, prefix}}]; ip-addresses first, else the inet words. Merged
 * into the interfaces like config netN. Returns the number of entries read, or -1. */
int pve_ct_apply_interfaces(struct pve_ct_detail *ct, struct json_object *data);
/* Ends the build: interfaces sorted by name, ipAddresses sorted, disks from diskinfo (root
 * labelled "rootfs" on "/", others by their mpN mount point, sorted by mount point) or else
 * one root entry from the aggregate disk the caller has (cluster/resources disk/maxdisk and
 * the usage it computed), the root device filled in. */
void pve_ct_finish(struct pve_ct_detail *ct, int64_t disk_total, int64_t disk_used,
    double disk_usage);

/* GET .../interfaces alone: interfaces with upper-case MACs and sanitised addresses, no "lo".
 * Fills *net (zeroed first); returns the number of interfaces or -1. */
int pve_parse_ct_interfaces(struct json_object *data, struct pve_guest_net *net);
/* The display name of a config ostype ("debian" -> "Debian", "archlinux" -> "Arch Linux";
 * an unknown value capitalised). Writes "" for an empty ostype. Returns buf. */
const char *pve_ct_os_display_name(const char *ostype, char *buf, size_t len);
/* Whether an ostemplate names an OCI image (oci:/docker: prefix or a known registry host). */
int pve_ct_is_oci_template(const char *ostemplate);

/* --- physical disks (§1.9, §2.5 row 6) ------------------------------------------------------ */

#define PVE_DISKS_MAX 256		/* per node */

struct pve_physical_disk {
	char dev_path[128], model[128], serial[128], wwn[64], type[16], health[32], used[64],
	    vendor[64];
	int64_t size;			/* bytes */
	int wearout;			/* 0..100, -1 unknown */
	int rpm;			/* 0 for SSDs and unknown */
};

/* GET /nodes/{n}/disks/list. Entries without a devpath are skipped. wearout: a number, a
 * numeric string (possibly quoted or with '%'), "N/A"/null/missing -> -1, else clamped to
 * 0..100; rpm: a number, or "SSD"/"N/A"/anything else -> 0. Returns the count (<= max). */
int pve_parse_disks_list(struct json_object *data, struct pve_physical_disk *out, int max);
/* The physicalDisks[] object: id "{instance}-{node}-{devPath with '/' -> '-'}", node,
 * instance, devPath, model, serial, wwn, type, size, health, wearout, temperature (0: merged
 * from elsewhere by the caller), rpm, used, lastChecked (RFC 3339 of now, with the fraction
 * as Go prints it). */
struct json_object *pve_physical_disk_json(const struct pve_physical_disk *d,
    const char *instance, const char *node, double now);

/* --- ZFS pools (§1.7, §2.5 row 7a) ----------------------------------------------------------- */

#define PVE_ZFS_MAX_POOLS 32		/* per node */
#define PVE_ZFS_MAX_DEVICES 64		/* listed devices per pool */

struct pve_zfs_device {
	char name[128], type[24], state[24], message[256];
	int64_t read_errors, write_errors, checksum_errors;
};

struct pve_zfs_pool {
	/* list (GET /nodes/{n}/disks/zfs) */
	char name[128], health[24];
	int64_t size, alloc, free;
	/* detail (GET /nodes/{n}/disks/zfs/{name}) */
	int has_detail;
	char state[24], status[1024], scan[512], errors[256];
	/* Unhealthy or erroring only, at most PVE_ZFS_MAX_DEVICES; allocated as they come (a
	 * fixed array made a pool 31 KB, 12 MB a ZFS cycle at 200 nodes): pve_zfs_pools_free. */
	struct pve_zfs_device *devices;
	int ndevices, capdevices;
	int64_t read_errors, write_errors, checksum_errors;	/* sums over devices[] */
};

/* The pool list; entries without a name are skipped. Returns the count (<= max). out holds
 * zeroed pools or those of an earlier parse (their devices are freed). */
int pve_parse_zfs_list(struct json_object *data, struct pve_zfs_pool *out, int max);
/* Frees n pools' devices, then the array pools. */
void pve_zfs_pools_free(struct pve_zfs_pool *pools, int n);
/* Merges one pool's detail into *pool: state, status, scan, errors and the device tree
 * flattened as the original does (types disk/vdev/mirror/raidzN/log/cache/spare/spare-group;
 * only devices not ONLINE/SPARE/AVAIL/INUSE or with errors are listed), and the error sums.
 * Returns 0, or -1 when data is not an object (the pool keeps its list values). */
int pve_parse_zfs_detail(struct json_object *data, struct pve_zfs_pool *pool);
/* The ZFSPool object: name, state (detail state, else list health), status, scan,
 * readErrors, writeErrors, checksumErrors, devices (always an array). */
struct json_object *pve_zfs_pool_json(const struct pve_zfs_pool *pool);
/* The pool the original attaches to a storage, or -1: only for ZFS storage types (zfspool,
 * zfs, local-zfs); a pool named like the storage ("local-zfs" looks for "rpool/data"), else a
 * pool "rpool" for a storage whose name contains "rpool", else a pool "data" for one whose
 * name contains "data". */
int pve_zfs_pool_for_storage(const char *storage, const char *storage_type,
    const struct pve_zfs_pool *pools, int npools);

/* --- Ceph (§1.8, §2.5 row 7b) ---------------------------------------------------------------- */

#define PVE_CEPH_MAX_POOLS 64
#define PVE_CEPH_MAX_SERVICES 16

struct pve_ceph_pool {
	int64_t id;
	char name[128];
	int64_t stored_bytes, available_bytes, objects;
	double percent_used;		/* percent 0-100 (ceph df gives a fraction) */
};

struct pve_ceph_service {
	char type[32];
	int running, total;
	char message[512];		/* "Offline: daemon@host, ..." or "" */
};

struct pve_ceph_cluster {
	char fsid[64], health[32], health_message[1024];
	int64_t total_bytes, used_bytes, available_bytes;
	double usage_percent;
	int num_mons, num_mgrs, num_osds, num_osds_up, num_osds_in, num_pgs;
	struct pve_ceph_pool pools[PVE_CEPH_MAX_POOLS];
	int npools;
	struct pve_ceph_service services[PVE_CEPH_MAX_SERVICES];	/* sorted by type */
	int nservices;
};

/* GET /cluster/ceph/status: fsid, health (status, summary[], checks{}: joined with "; ",
 * checks sorted by name as "NAME: message"), services (servicemap daemons, a daemon without a
 * status counted running; monitors from monmap/quorum_names and managers from mgrmap when the
 * servicemap lacks them, as on real clusters; each with "Offline: ..." for those that do not
 * run), numMons/numMgrs as those services' totals, osdmap, pgmap (capacity until df gives
 * better). Fills *out (zeroed first);
 * returns 0, or -1 when data is not an object. */
int pve_parse_ceph_status(struct json_object *data, struct pve_ceph_cluster *out);
/* GET /cluster/ceph/df, as {stats, pools} or nested once more as {data: {stats, pools}} (the
 * shape the original decodes): capacity from stats when total_bytes > 0, and the pools.
 * Returns 0, or -1 when neither shape is there (the pgmap figures stay). */
int pve_parse_ceph_df(struct json_object *data, struct pve_ceph_cluster *c);
/* The cephClusters[] object: id "{instance}-{fsid}" (or the instance), instance, name "Ceph",
 * ... , pools and services only when non-empty, lastUpdated in epoch ms (to the second). */
struct json_object *pve_ceph_cluster_json(const struct pve_ceph_cluster *c, const char *instance,
    double now);

/* --- replication (§1.13, §2.5 row 4j) --------------------------------------------------------- */

#define PVE_REPLICATION_MAX 256

struct pve_replication_job {
	/* from GET /cluster/replication (and the status) */
	char id[64], guest[32], source[64], source_storage[128], target[64], target_storage[128],
	    schedule[128], type[32], state[64], status[64], last_sync_status[64], error[512],
	    comment[256], remove_job[32];
	int64_t guest_id, job_number, fail_count;
	int64_t last_sync_unix, next_sync_unix;		/* 0: unknown */
	int64_t last_sync_duration_seconds, duration_seconds;
	char last_sync_duration_human[32], duration_human[32];
	int enabled;
	int has_rate;
	double rate_limit_mbps;
	/* derived by pve_replication_resolve */
	char instance[128], job_id[96], unique_id[240], guest_name[128], guest_type[8],
	    guest_node[64], source_node[64], target_node[64];
};

/* GET /cluster/replication: one job per object entry (id or jobid, guest, jobnum, source,
 * source-storage, target, target-storage, schedule, type, comment, remove_job, enabled,
 * disable, active, state, status, last_sync*, next_sync*, duration, fail_count, error, rate),
 * enabled by default. A single object (GET /cluster/replication/{id}) reads as a list of one.
 * Returns the count (<= max). */
int pve_parse_replication(struct json_object *data, struct pve_replication_job *out, int max);
/* The node to ask GET /nodes/{node}/replication/{id}/status: the job's source, or NULL when
 * the configuration names none (the original then skips the status call). */
const char *pve_replication_status_node(const struct pve_replication_job *job);
/* Merges GET /nodes/{source}/replication/{id}/status (an object, or a list whose first element
 * counts): last_sync, next_sync, fail_count, duration (> 0: seconds of both durations), state
 * (also the status when none), error. Returns 0, or -1 when there is nothing to merge. */
int pve_replication_apply_status(struct pve_replication_job *job, struct json_object *data);
/* What the poller derives after the status: the guest id (from guest when needed), the guest's
 * name, type and node from the caller's lookup (the original looks among VMs only: pass NULL
 * when the guest is unknown), guestNode falling back to the source, sourceNode to guestNode,
 * status to state, jobId (id, else "{guest}-{jobnum}", else "job-{instance}-{index}"), the id
 * "{instance}-{jobId}" and the HH:MM:SS durations when only seconds are known. */
void pve_replication_resolve(struct pve_replication_job *job, const char *instance, int index,
    const char *guest_name, const char *guest_type, const char *guest_node);
/* Sorts resolved jobs by instance, guestId, jobNumber, jobId, id. */
void pve_replication_sort(struct pve_replication_job *jobs, int n);
/* The replicationJobs[] object of a resolved job; polledAt is now in epoch ms. */
struct json_object *pve_replication_job_json(const struct pve_replication_job *job, double now);

#endif
