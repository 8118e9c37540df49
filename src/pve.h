/* pve.h: Proxmox VE / PBS / PMG API access (authentication, URLs) and tolerant parsers of
 * the PVE responses the poller reads. Every number is accepted as a JSON number or a string;
 * missing fields read as zero or empty. */
#ifndef PULSE_PVE_H
#define PULSE_PVE_H

#include <json-c/json.h>
#include <stdint.h>

#include "http.h"

enum pve_product { PVE_PRODUCT_PVE, PVE_PRODUCT_PBS, PVE_PRODUCT_PMG };

/* A connection to one server: where, how to authenticate, how to trust it. */
struct pve_conn {
	enum pve_product product;
	char base[512];			/* https://host:port/api2/json */
	char user[160];			/* user@realm (password auth) */
	char *password;			/* owned, scrubbed on free */
	char token_id[256];		/* user@realm!tokenid (token auth) */
	char *token_secret;		/* owned, scrubbed on free */
	enum http_tls_mode tls;
	char pin[65];
	long timeout_ms;
	/* ticket authentication state */
	char *ticket;
	char *csrf;
	double ticket_at;		/* wall time it was issued */
};

void pve_conn_clear(struct pve_conn *c);

/* Normalises a host as the original does: https:// by default, port 8006 (PVE, PMG) or 8007
 * (PBS) when none, path and query dropped, IPv6 bracketed. Writes "https://host:port" into
 * out. Returns 0, or -1 with a message for an unusable host. */
int pve_normalize_host(const char *host, enum pve_product product, char *out, size_t outlen,
    char *err, size_t errlen);

/* Whether password authentication needs a (new) ticket before the next request: none yet,
 * or older than 100 minutes (tickets last two hours). */
int pve_needs_ticket(const struct pve_conn *c);
/* The POST /access/ticket request (form-encoded credentials). */
struct http_request *pve_ticket_request(const struct pve_conn *c);
/* Takes the ticket and CSRF token from a ticket answer; values with characters a header
 * cannot carry (control characters, space, ';') are refused. Returns 0 or -1 with a
 * message. */
int pve_ticket_accept(struct pve_conn *c, struct http_request *req, char *err, size_t errlen);

/* A request for path (below /api2/json, starting with '/') with the authentication and TLS
 * settings of c, reading at most HTTP_MAX_RESPONSE bytes, or HTTP_MAX_RESPONSE_LARGE for the
 * answers that grow with the estate (pve_path_is_large). A credential that cannot be a
 * header value leaves the request failed and unsendable (http_request_add_header). */
struct http_request *pve_request(const struct pve_conn *c, const char *path);
int pve_path_is_large(const char *path);

/* Parses an answer: status must be 2xx and the body {"data": ...}, within the JSON limits
 * that go with the request's size cap (jsonutil_limits_default for the small answers,
 * jsonutil_limits_upstream for the large ones). Returns the data value
 * (a new reference the caller puts; JSON null gives NULL with rc 0), or sets err and
 * returns NULL with *rc = -1. Error texts never echo credentials. */
struct json_object *pve_response_data(struct http_request *req, int *rc, char *err, size_t errlen);

/* Whether a failed answer is an authentication failure (401, 403, 595 on auth). */
int pve_is_auth_failure(const struct http_request *req);

/* --- parsed shapes --- */

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
	char tags[512];		/* ';' replaced by ',' */
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
int pve_parse_guests(struct json_object *data, struct pve_guest_item *out, int max);
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

/* The newest non-null value of key in an rrddata list; returns 0 and sets *out, or -1. */
int pve_rrd_last(struct json_object *data, const char *key, double *out);

#endif
