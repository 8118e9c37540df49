/* pve.c: Proxmox API requests and defensive parsing of what the servers send. */
#include "config.h"

#include "pve.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TICKET_REFRESH_S (100 * 60)

void
pve_conn_clear(struct pve_conn *c)
{
	char **secrets[] = {&c->password, &c->token_secret, &c->ticket, &c->csrf};

	for (size_t i = 0; i < ARRAY_LEN(secrets); i++) {
		if (*secrets[i]) {
			explicit_bzero(*secrets[i], strlen(*secrets[i]));
			free(*secrets[i]);
			*secrets[i] = NULL;
		}
	}
}

int
pve_normalize_host(const char *host, enum pve_product product, char *out, size_t outlen,
    char *err, size_t errlen)
{
	char scheme[8] = "https", name[256] = "", port[8] = "";
	const char *p = host, *end;
	int64_t portnum;

	while (*p == ' ')
		p++;
	if (strncasecmp(p, "https://", 8) == 0) {
		p += 8;
	} else if (strncasecmp(p, "http://", 7) == 0) {
		snprintf(scheme, sizeof(scheme), "http");
		p += 7;
	} else if (strstr(p, "://")) {
		snprintf(err, errlen, "Invalid host format");
		return -1;
	}
	if (*p == '[') {
		struct in6_addr a6;
		end = strchr(p, ']');
		if (end == NULL || (size_t)(end - p - 1) >= sizeof(name)) {
			snprintf(err, errlen, "Invalid IPv6 address");
			return -1;
		}
		memcpy(name, p + 1, (size_t)(end - p - 1));
		name[end - p - 1] = '\0';
		if (inet_pton(AF_INET6, name, &a6) != 1) {
			snprintf(err, errlen, "Invalid IPv6 address");
			return -1;
		}
		p = end + 1;
	} else {
		size_t n = strcspn(p, ":/?#");
		if (n == 0 || n >= sizeof(name)) {
			snprintf(err, errlen, "Invalid host format");
			return -1;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		for (char *q = name; *q; q++) {
			if (!(isalnum((unsigned char)*q) || *q == '.' || *q == '-' || *q == '_')) {
				snprintf(err, errlen, "Invalid hostname");
				return -1;
			}
		}
		if (isdigit((unsigned char)name[0]) && strspn(name, "0123456789.") == strlen(name)) {
			struct in_addr a4;
			if (inet_pton(AF_INET, name, &a4) != 1) {
				snprintf(err, errlen, "Invalid IP address");
				return -1;
			}
		}
	}
	if (*p == ':') {
		size_t n = strcspn(p + 1, "/?#");
		if (n == 0 || n >= sizeof(port)) {
			snprintf(err, errlen, "Invalid port number");
			return -1;
		}
		memcpy(port, p + 1, n);
		port[n] = '\0';
		if (parse_int64(port, 1, 65535, &portnum) != 0) {
			snprintf(err, errlen, "Invalid port number");
			return -1;
		}
	} else if (*p != '\0' && *p != '/' && *p != '?' && *p != '#') {
		snprintf(err, errlen, "Invalid host format");
		return -1;
	} else {
		snprintf(port, sizeof(port), "%s", product == PVE_PRODUCT_PBS ? "8007" : "8006");
	}
	snprintf(out, outlen, "%s://%s%s%s:%s", scheme, strchr(name, ':') ? "[" : "", name,
	    strchr(name, ':') ? "]" : "", port);
	return 0;
}

int
pve_needs_ticket(const struct pve_conn *c)
{
	if (c->token_id[0])
		return 0;
	return c->ticket == NULL || clock_wall() - c->ticket_at > TICKET_REFRESH_S;
}

static void
set_tls(struct http_request *req, const struct pve_conn *c)
{
	req->tls = c->tls;
	memcpy(req->pin, c->pin, sizeof(req->pin));
	req->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 30000;
}

struct http_request *
pve_ticket_request(const struct pve_conn *c)
{
	char url[600];
	char *u = http_escape(c->user), *pw = http_escape(c->password ? c->password : "");
	struct http_request *req;

	snprintf(url, sizeof(url), "%s/access/ticket", c->base);
	req = http_request_new(url);
	set_tls(req, c);
	req->method = "POST";
	req->content_type = "application/x-www-form-urlencoded";
	req->body = xasprintf("username=%s&password=%s", u, pw);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	free(u);
	return req;
}

/* Whether a value from a login answer can go into a header as one cookie or token: visible
 * ASCII only (no space, no control character) and no ';' that would start another cookie. */
static int
ticket_value_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == ';')
			return 0;
	return 1;
}

int
pve_ticket_accept(struct pve_conn *c, struct http_request *req, char *err, size_t errlen)
{
	int rc;
	struct json_object *data = pve_response_data(req, &rc, err, errlen);
	const char *ticket, *csrf;

	if (data == NULL) {
		if (rc == 0)
			snprintf(err, errlen, "login answer without data");
		return -1;
	}
	ticket = jsonread_string(data, "ticket", "");
	csrf = jsonread_string(data, "CSRFPreventionToken", "");
	if (*ticket == '\0') {
		json_object_put(data);
		snprintf(err, errlen, "authentication failed: no ticket in the answer");
		return -1;
	}
	if (!ticket_value_ok(ticket) || !ticket_value_ok(csrf)) {
		/* The server is broken or hostile: what it sent must not become a header. */
		json_object_put(data);
		snprintf(err, errlen, "login answer refused: the ticket or CSRF token holds characters "
		    "a header cannot carry");
		return -1;
	}
	free(c->ticket);
	free(c->csrf);
	c->ticket = xstrdup(ticket);
	c->csrf = xstrdup(csrf);
	c->ticket_at = clock_wall();
	json_object_put(data);
	return 0;
}

/* Whether an answer grows with the estate (every guest, every backup): those may take up
 * to HTTP_MAX_RESPONSE_LARGE; everything else is small. path is below /api2/json, with or
 * without a query. */
int
pve_path_is_large(const char *path)
{
	static const char *const prefixes[] = {"/cluster/resources", "/cluster/tasks",
	    "/cluster/backup"};
	static const char *const last[] = {"content", "tasks", "qemu", "lxc", "snapshots", "groups",
	    "backup"};
	size_t n = strcspn(path, "?");
	const char *slash;

	for (size_t i = 0; i < ARRAY_LEN(prefixes); i++)
		if (strncmp(path, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	/* The last segment: /nodes/{n}/storage/{s}/content, /nodes/{n}/tasks, a node's guest
	 * lists, a PBS datastore's snapshots and groups. */
	for (slash = path + n; slash > path && slash[-1] != '/'; slash--)
		;
	for (size_t i = 0; i < ARRAY_LEN(last); i++)
		if ((size_t)(path + n - slash) == strlen(last[i]) &&
		    strncmp(slash, last[i], strlen(last[i])) == 0)
			return 1;
	return 0;
}

struct http_request *
pve_request(const struct pve_conn *c, const char *path)
{
	char url[1024];
	struct http_request *req;
	static const char *const token_scheme[] = {"PVEAPIToken", "PBSAPIToken", "PMGAPIToken"};
	static const char *const cookie[] = {"PVEAuthCookie", "PBSAuthCookie", "PMGAuthCookie"};

	snprintf(url, sizeof(url), "%s%s", c->base, path);
	req = http_request_new(url);
	set_tls(req, c);
	if (pve_path_is_large(path))
		req->max_response = HTTP_MAX_RESPONSE_LARGE;
	/* A value with a control character fails the request before it is sent (http.h). */
	if (c->token_id[0]) {
		/* PVE separates token id and secret with '=', PBS and PMG with ':'. */
		http_request_add_header(req, "Authorization: %s=%s%c%s", token_scheme[c->product],
		    c->token_id, c->product == PVE_PRODUCT_PVE ? '=' : ':',
		    c->token_secret ? c->token_secret : "");
	} else if (c->ticket) {
		http_request_add_header(req, "Cookie: %s=%s", cookie[c->product], c->ticket);
		if (c->csrf && *c->csrf)
			http_request_add_header(req, "CSRFPreventionToken: %s", c->csrf);
	}
	return req;
}

int
pve_is_auth_failure(const struct http_request *req)
{
	return req->status == 401 || req->status == 403;
}

struct json_object *
pve_response_data(struct http_request *req, int *rc, char *err, size_t errlen)
{
	struct json_object *root, *data = NULL;
	char perr[160];

	*rc = -1;
	if (req->failure != HTTP_OK || req->status == 0) {
		snprintf(err, errlen, "%s", req->error[0] ? req->error : "no answer");
		return NULL;
	}
	if (req->status < 200 || req->status > 299) {
		/* PVE puts a reason in the status line and sometimes in {"errors": ...}: the
		 * status is enough and never echoes what we sent. */
		snprintf(err, errlen, "HTTP %ld%s", req->status,
		    req->status == 401 ? " (authentication failed)" :
		    req->status == 403 ? " (permission denied)" :
		    req->status == 595 ? " (node unreachable)" : "");
		return NULL;
	}
	if (req->response.len > 0 && req->response.data[0] == '<') {
		snprintf(err, errlen, "HTML instead of JSON (is this the API port, over https?)");
		return NULL;
	}
	/* A small answer is parsed within the limits of a request body; those that grow with
	 * the estate within the upstream ones. */
	root = jsonutil_parse_limited(req->response.data ? req->response.data : "",
	    req->response.len, req->max_response > HTTP_MAX_RESPONSE ? &jsonutil_limits_upstream :
	    &jsonutil_limits_default, NULL, perr, sizeof(perr));
	if (root == NULL) {
		snprintf(err, errlen, "invalid JSON: %s", perr);
		return NULL;
	}
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		snprintf(err, errlen, "unexpected answer: not an object");
		return NULL;
	}
	if (json_object_object_get_ex(root, "data", &data))
		data = json_object_get(data);
	json_object_put(root);
	*rc = 0;
	return data;
}

/* --- shapes --------------------------------------------------------------------------- */

int
pve_parse_nodes(struct json_object *data, struct pve_node_item *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		const char *name = jsonread_string(o, "node", "");
		struct pve_node_item *it = &out[n];

		if (*name == '\0')
			continue;
		memset(it, 0, sizeof(*it));
		jsonread_copy(it->node, sizeof(it->node), name);
		jsonread_copy(it->status, sizeof(it->status), jsonread_string(o, "status", "unknown"));
		it->cpu = jsonread_number(o, "cpu", 0);
		it->maxcpu = jsonread_int(o, "maxcpu", 0);
		it->mem = jsonread_int(o, "mem", 0);
		it->maxmem = jsonread_int(o, "maxmem", 0);
		it->disk = jsonread_int(o, "disk", 0);
		it->maxdisk = jsonread_int(o, "maxdisk", 0);
		it->uptime = jsonread_int(o, "uptime", 0);
		n++;
	}
	return n;
}

int
pve_parse_node_status(struct json_object *data, struct pve_node_status *st)
{
	struct json_object *mem = jsonread_member(data, "memory"), *rootfs = jsonread_member(data, "rootfs"),
	    *cpuinfo = jsonread_member(data, "cpuinfo"), *load = jsonread_member(data, "loadavg");

	memset(st, 0, sizeof(*st));
	if (data == NULL || !json_object_is_type(data, json_type_object))
		return -1;
	st->mem_total = jsonread_int(mem, "total", 0);
	st->mem_used = jsonread_int(mem, "used", 0);
	st->mem_free = jsonread_int(mem, "free", 0);
	st->has_available = jsonread_has(mem, "available");
	st->mem_available = jsonread_int(mem, "available", 0);
	st->has_avail = jsonread_has(mem, "avail");
	st->mem_avail = jsonread_int(mem, "avail", 0);
	st->has_buffers = jsonread_has(mem, "buffers");
	st->mem_buffers = jsonread_int(mem, "buffers", 0);
	st->has_cached = jsonread_has(mem, "cached");
	st->mem_cached = jsonread_int(mem, "cached", 0);
	for (int i = 0; i < jsonread_array_len(load) && i < 3; i++) {
		struct json_object *v = json_object_array_get_idx(load, i);
		const char *s = v ? json_object_get_string(v) : NULL;
		char *end;
		double d = s ? strtod(s, &end) : NAN;
		if (s && end != s && isfinite(d))
			st->load[st->nload++] = d;
	}
	jsonread_copy(st->kversion, sizeof(st->kversion), jsonread_string(data, "kversion", ""));
	jsonread_copy(st->pveversion, sizeof(st->pveversion), jsonread_string(data, "pveversion", ""));
	jsonread_copy(st->cpu_model, sizeof(st->cpu_model), jsonread_string(cpuinfo, "model", ""));
	st->cpu_cores = jsonread_int(cpuinfo, "cores", 0);
	st->cpu_cpus = jsonread_int(cpuinfo, "cpus", 0);
	st->cpu_sockets = jsonread_int(cpuinfo, "sockets", 0);
	st->cpu_mhz = jsonread_number(cpuinfo, "mhz", 0);
	st->rootfs_total = jsonread_int(rootfs, "total", 0);
	st->rootfs_used = jsonread_int(rootfs, "used", 0);
	st->rootfs_avail = jsonread_int(rootfs, "avail", 0);
	st->uptime = jsonread_int(data, "uptime", 0);
	return 0;
}

int
pve_parse_guests(struct json_object *data, struct pve_guest_item *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		const char *type = jsonread_string(o, "type", "");
		const char *id = jsonread_string(o, "id", "");
		struct pve_guest_item *g = &out[n];

		if (strcmp(type, "qemu") != 0 && strcmp(type, "lxc") != 0)
			continue;
		memset(g, 0, sizeof(*g));
		jsonread_copy(g->type, sizeof(g->type), type);
		jsonread_copy(g->node, sizeof(g->node), jsonread_string(o, "node", ""));
		g->vmid = jsonread_int(o, "vmid", -1);
		if (g->vmid < 0 && strchr(id, '/'))
			g->vmid = strtol(strchr(id, '/') + 1, NULL, 10);
		if (g->vmid <= 0 || g->node[0] == '\0')
			continue;
		jsonread_copy(g->name, sizeof(g->name), jsonread_string(o, "name", ""));
		jsonread_copy(g->status, sizeof(g->status), jsonread_string(o, "status", "unknown"));
		g->cpu = jsonread_number(o, "cpu", 0);
		g->maxcpu = jsonread_int(o, "maxcpu", jsonread_int(o, "cpus", 0));
		g->mem = jsonread_int(o, "mem", 0);
		g->maxmem = jsonread_int(o, "maxmem", 0);
		g->disk = jsonread_int(o, "disk", 0);
		g->maxdisk = jsonread_int(o, "maxdisk", 0);
		g->netin = jsonread_int(o, "netin", 0);
		g->netout = jsonread_int(o, "netout", 0);
		g->diskread = jsonread_int(o, "diskread", 0);
		g->diskwrite = jsonread_int(o, "diskwrite", 0);
		g->uptime = jsonread_int(o, "uptime", 0);
		g->template = jsonread_int(o, "template", 0) != 0;
		jsonread_copy(g->tags, sizeof(g->tags), jsonread_string(o, "tags", ""));
		for (char *t = g->tags; *t; t++)
			if (*t == ';')
				*t = ',';
		jsonread_copy(g->lock, sizeof(g->lock), jsonread_string(o, "lock", ""));
		n++;
	}
	return n;
}

int
pve_parse_vm_status(struct json_object *data, struct pve_vm_status *st)
{
	struct json_object *meminfo = jsonread_member(data, "meminfo"), *agent = jsonread_member(data, "agent");

	memset(st, 0, sizeof(*st));
	if (data == NULL || !json_object_is_type(data, json_type_object))
		return -1;
	jsonread_copy(st->status, sizeof(st->status), jsonread_string(data, "status", ""));
	st->cpu = jsonread_number(data, "cpu", 0);
	st->cpus = jsonread_int(data, "cpus", 0);
	st->mem = jsonread_int(data, "mem", 0);
	st->maxmem = jsonread_int(data, "maxmem", 0);
	st->balloon = jsonread_int(data, "balloon", 0);
	st->freemem = jsonread_int(data, "freemem", 0);
	st->disk = jsonread_int(data, "disk", 0);
	st->maxdisk = jsonread_int(data, "maxdisk", 0);
	st->diskread = jsonread_int(data, "diskread", 0);
	st->diskwrite = jsonread_int(data, "diskwrite", 0);
	st->netin = jsonread_int(data, "netin", 0);
	st->netout = jsonread_int(data, "netout", 0);
	st->uptime = jsonread_int(data, "uptime", 0);
	if (meminfo && json_object_is_type(meminfo, json_type_object)) {
		st->has_meminfo = 1;
		st->meminfo_total = jsonread_int(meminfo, "total", 0);
		st->meminfo_used = jsonread_int(meminfo, "used", 0);
		st->meminfo_free = jsonread_int(meminfo, "free", 0);
		st->meminfo_available = jsonread_int(meminfo, "available", 0);
		st->meminfo_buffers = jsonread_int(meminfo, "buffers", 0);
		st->meminfo_cached = jsonread_int(meminfo, "cached", 0);
	}
	/* agent: 1, or {"enabled": n, "available": n}: on when available, else when enabled. */
	if (agent && json_object_is_type(agent, json_type_object))
		st->agent = jsonread_has(agent, "available") ? jsonread_int(agent, "available", 0) > 0 :
		    jsonread_int(agent, "enabled", 0) > 0;
	else
		st->agent = jsonread_int(data, "agent", 0) > 0;
	return 0;
}

/* Filesystems that are not the guest's own disks (§2.7). */
static int
fs_skipped(const char *type, const char *mount)
{
	static const char *const virtual[] = {"tmpfs", "devtmpfs", "cgroup", "cgroup2", "sysfs",
	    "proc", "devpts", "securityfs", "debugfs", "tracefs", "fusectl", "configfs", "pstore",
	    "hugetlbfs", "mqueue", "bpf", "overlay", "overlayfs", "autofs", "squashfs", "iso9660",
	    "erofs", "cdfs", "udf", "cramfs", "romfs"};
	static const char *const under[] = {"/dev", "/proc", "/sys", "/run", "/var/lib/docker",
	    "/var/lib/containers", "/snap", "/mnt/.ix-apps/docker/"};

	for (size_t i = 0; i < ARRAY_LEN(virtual); i++)
		if (strcasecmp(type, virtual[i]) == 0)
			return 1;
	if (strstr(type, "fuse") || strstr(type, "9p") || strstr(type, "nfs") ||
	    strstr(type, "cifs") || strstr(type, "smb"))
		return 1;
	for (size_t i = 0; i < ARRAY_LEN(under); i++) {
		size_t n = strlen(under[i]);
		if (strncmp(mount, under[i], n) == 0 && (mount[n] == '\0' || mount[n] == '/' ||
		    under[i][n - 1] == '/'))
			return 1;
	}
	return strcmp(mount, "/boot/efi") == 0 || strcmp(mount, "System Reserved") == 0 ||
	    strstr(mount, "/overlay/") != NULL;
}

int
pve_parse_fsinfo(struct json_object *data, struct pve_fs *out, int max)
{
	struct json_object *list = jsonread_member(data, "result");
	int n = 0, len;

	if (list == NULL && data && json_object_is_type(data, json_type_array))
		list = data;
	len = jsonread_array_len(list);
	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(list, i);
		struct json_object *disks = jsonread_member(o, "disk");
		const char *type = jsonread_string(o, "type", ""), *mount = jsonread_string(o, "mountpoint", "");
		int64_t total = jsonread_int(o, "total-bytes", 0);
		struct pve_fs *fs = &out[n];

		if (total <= 0 || fs_skipped(type, mount))
			continue;
		memset(fs, 0, sizeof(*fs));
		jsonread_copy(fs->mountpoint, sizeof(fs->mountpoint), mount);
		jsonread_copy(fs->type, sizeof(fs->type), type);
		jsonread_copy(fs->name, sizeof(fs->name), jsonread_string(o, "name", ""));
		fs->total = total;
		fs->used = jsonread_int(o, "used-bytes", 0);
		if (jsonread_array_len(disks) > 0) {
			struct json_object *d0 = json_object_array_get_idx(disks, 0);
			const char *dev = jsonread_string(d0, "dev", "");
			if (*dev == '\0')
				dev = jsonread_string(d0, "serial", "");
			if (*dev == '\0' && jsonread_has(d0, "bus-type"))
				snprintf(fs->device, sizeof(fs->device), "%s-%lld", jsonread_string(d0, "bus-type", ""),
				    (long long)jsonread_int(d0, "target", 0));
			else
				jsonread_copy(fs->device, sizeof(fs->device), dev);
		}
		if (fs->device[0] == '\0') {
			if (strcmp(mount, "/") == 0)
				jsonread_copy(fs->device, sizeof(fs->device), "root-filesystem");
			else if (isalpha((unsigned char)mount[0]) && mount[1] == ':')
				snprintf(fs->device, sizeof(fs->device), "%c:", mount[0]);
			else
				jsonread_copy(fs->device, sizeof(fs->device), mount);
		}
		n++;
	}
	return n;
}

int
pve_parse_storage(struct json_object *data, struct pve_storage_item *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		const char *name = jsonread_string(o, "storage", "");
		struct pve_storage_item *s = &out[n];

		if (*name == '\0')
			continue;
		memset(s, 0, sizeof(*s));
		jsonread_copy(s->storage, sizeof(s->storage), name);
		jsonread_copy(s->type, sizeof(s->type), jsonread_string(o, "type", ""));
		jsonread_copy(s->content, sizeof(s->content), jsonread_string(o, "content", ""));
		s->total = jsonread_int(o, "total", 0);
		s->used = jsonread_int(o, "used", 0);
		s->avail = jsonread_int(o, "avail", 0);
		s->shared = jsonread_int(o, "shared", 0) != 0;
		s->has_enabled = jsonread_has(o, "enabled");
		s->enabled = s->has_enabled ? jsonread_int(o, "enabled", 1) != 0 : !jsonread_int(o, "disable", 0);
		s->has_active = jsonread_has(o, "active");
		s->active = jsonread_int(o, "active", 1) != 0;
		n++;
	}
	return n;
}

int
pve_rrd_last(struct json_object *data, const char *key, double *out)
{
	for (int i = jsonread_array_len(data) - 1; i >= 0; i--) {
		struct json_object *o = json_object_array_get_idx(data, i);
		double v = jsonread_number(o, key, NAN);
		if (!isnan(v)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

int
pve_parse_tasks(struct json_object *data, struct pve_task *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		struct pve_task *t = &out[n];

		if (strcmp(jsonread_string(o, "type", ""), "vzdump") != 0)
			continue;
		memset(t, 0, sizeof(*t));
		jsonread_copy(t->upid, sizeof(t->upid), jsonread_string(o, "upid", ""));
		if (t->upid[0] == '\0')
			continue;
		jsonread_copy(t->node, sizeof(t->node), jsonread_string(o, "node", ""));
		jsonread_copy(t->type, sizeof(t->type), "vzdump");
		jsonread_copy(t->id, sizeof(t->id), jsonread_string(o, "id", ""));
		jsonread_copy(t->status, sizeof(t->status), jsonread_string(o, "status", ""));
		jsonread_copy(t->user, sizeof(t->user), jsonread_string(o, "user", ""));
		t->starttime = jsonread_int(o, "starttime", 0);
		t->endtime = jsonread_int(o, "endtime", 0);
		n++;
	}
	return n;
}

int
pve_parse_content(struct json_object *data, struct pve_content *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i), *ver;
		struct pve_content *c = &out[n];
		const char *content = jsonread_string(o, "content", "");

		if (strcmp(content, "backup") != 0)
			continue;
		memset(c, 0, sizeof(*c));
		jsonread_copy(c->volid, sizeof(c->volid), jsonread_string(o, "volid", ""));
		if (c->volid[0] == '\0')
			continue;
		jsonread_copy(c->content, sizeof(c->content), content);
		jsonread_copy(c->format, sizeof(c->format), jsonread_string(o, "format", ""));
		jsonread_copy(c->notes, sizeof(c->notes), jsonread_string(o, "notes", ""));
		c->ctime = jsonread_int(o, "ctime", 0);
		c->size = jsonread_int(o, "size", 0);
		c->vmid = jsonread_int(o, "vmid", 0);
		c->protected_ = jsonread_int(o, "protected", 0) != 0;
		ver = jsonread_member(o, "verification");
		if (ver && json_object_is_type(ver, json_type_object))
			jsonread_copy(c->verification, sizeof(c->verification), jsonread_string(ver, "state", ""));
		else
			jsonread_copy(c->verification, sizeof(c->verification), jsonread_string(o, "verification", ""));
		c->verified = strcmp(c->verification, "ok") == 0 || jsonread_int(o, "verified", 0) != 0;
		n++;
	}
	return n;
}

int
pve_parse_snapshots(struct json_object *data, struct pve_snapshot *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		struct pve_snapshot *sn = &out[n];
		const char *name = jsonread_string(o, "name", "");

		if (*name == '\0' || strcmp(name, "current") == 0)
			continue;
		memset(sn, 0, sizeof(*sn));
		jsonread_copy(sn->name, sizeof(sn->name), name);
		jsonread_copy(sn->description, sizeof(sn->description), jsonread_string(o, "description", ""));
		jsonread_copy(sn->parent, sizeof(sn->parent), jsonread_string(o, "parent", ""));
		sn->snaptime = jsonread_int(o, "snaptime", 0);
		sn->vmstate = jsonread_int(o, "vmstate", 0) != 0;
		n++;
	}
	return n;
}
