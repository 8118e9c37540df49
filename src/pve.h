/* pve.h: tolerant parsers of the Proxmox VE responses the poller reads. Every number is
 * accepted as a JSON number or a string (jsonread.h); missing fields read as zero or empty. */
#ifndef PULSE_PVE_H
#define PULSE_PVE_H

#include <json-c/json.h>
#include <stdint.h>

struct arena;

/* The longest tag list kept, in bytes (longer ones are cut). */
#define PVE_TAGS_MAX 511

struct pve_node_item {
	char node[64];
	char status[16];
	double cpu;
	int64_t maxcpu, mem, maxmem, disk, maxdisk, uptime;
};

struct pve_node_status {
	int64_t mem_total, mem_used, mem_free, mem_available, mem_avail, mem_buffers, mem_cached;
	int has_available, has_avail, has_buffers, has_cached;
	double load[3];
	int nload;
	char kversion[160], pveversion[160], cpu_model[160];
	int64_t cpu_cores, cpu_cpus, cpu_sockets;
	double cpu_mhz;
	int64_t rootfs_total, rootfs_used, rootfs_avail;
	int64_t uptime;
};

struct pve_guest_item {
	char type[8];		/* qemu, lxc */
	char node[64];
	int64_t vmid;
	char name[128];
	char status[32];
	double cpu;
	int64_t maxcpu, mem, maxmem, disk, maxdisk, netin, netout, diskread, diskwrite, uptime;
	int template;
	const char *tags;	/* ';' replaced by ',', at most PVE_TAGS_MAX bytes; in the
				 * parser's arena, NULL when the guest has none */
	char lock[32];
};

struct pve_vm_status {
	char status[32];
	double cpu;
	int64_t cpus, mem, maxmem, balloon, freemem, disk, maxdisk;
	int64_t diskread, diskwrite, netin, netout, uptime;
	int64_t meminfo_total, meminfo_used, meminfo_free, meminfo_available, meminfo_buffers,
	    meminfo_cached;
	int has_meminfo;
	int agent;		/* guest agent enabled/available */
};

struct pve_fs {
	char mountpoint[256], type[32], device[128], name[64];
	int64_t total, used;
};

struct pve_storage_item {
	char storage[128], type[32], content[256];
	int64_t total, used, avail;
	int shared, enabled, active, has_enabled, has_active;
};

struct pve_task {
	char upid[256], node[64], type[32], id[64], status[128], user[64];
	int64_t starttime, endtime;
};

struct pve_content {
	char volid[256], content[32], format[32], notes[256], verification[32];
	int64_t ctime, size, vmid;
	int protected_, verified;
};

struct pve_snapshot {
	char name[128], description[256], parent[128];
	int64_t snaptime;
	int vmstate;
};

/* Fill the shapes from a response's data value; return the number of items (arrays: up to
 * max) or 0/-1 for objects (0 ok). */
int pve_parse_nodes(struct json_object *data, struct pve_node_item *out, int max);
int pve_parse_node_status(struct json_object *data, struct pve_node_status *out);
int pve_parse_guests(struct json_object *data, struct pve_guest_item *out, int max,
    struct arena *text);
/* One guest of such a list: 1 when o is a qemu or lxc guest with a VMID and node, else 0.
 * Its tags go into text (most guests have none: a fixed field would be half the item). */
int pve_parse_guest(struct json_object *o, struct pve_guest_item *g, struct arena *text);
int pve_parse_vm_status(struct json_object *data, struct pve_vm_status *out);
/* get-fsinfo ({"result": [...]}): only real, local filesystems (§2.7 filters applied). */
int pve_parse_fsinfo(struct json_object *data, struct pve_fs *out, int max);
int pve_parse_storage(struct json_object *data, struct pve_storage_item *out, int max);
/* vzdump tasks of a node's task list (other types skipped). */
int pve_parse_tasks(struct json_object *data, struct pve_task *out, int max);
/* Backup volumes of a storage's content list (templates and ISO images skipped). */
int pve_parse_content(struct json_object *data, struct pve_content *out, int max);
/* A guest's snapshots without the "current" pseudo-snapshot. */
int pve_parse_snapshots(struct json_object *data, struct pve_snapshot *out, int max);

#endif
