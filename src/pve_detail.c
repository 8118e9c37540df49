/* pve_detail.c: tolerant parsers and JSON of PVE guest, disk, ZFS, Ceph and replication detail. */
#include "config.h"

#include "pve_detail.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "pve.h"
#include "timefmt.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Bounds on the work one response can cause, whatever it holds. */
#define SCAN_MAX 4096		/* elements looked at in one array or object */
#define TREE_MAX_DEPTH 16	/* nesting followed in recursive shapes */
#define TREE_MAX_NODES 4096	/* nodes visited in one tree */

/* --- small helpers ---------------------------------------------------------------------- */

/* The elements of a to look at: its length, at most SCAN_MAX. */
static int
scan_len(struct json_object *a)
{
	int n = jsonread_array_len(a);

	return n > SCAN_MAX ? SCAN_MAX : n;
}

#define COPY(dst, src) jsonread_copy_trimmed((dst), sizeof(dst), (src))

static void
lower_ascii(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static int
cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends s to a list of fixed-size strings unless it is there already or the list is full. */
static void
add_unique(char (*list)[PVE_NET_ADDR_LEN], int *n, int max, const char *s)
{
	if (s[0] == '\0')
		return;
	for (int i = 0; i < *n; i++)
		if (strcmp(list[i], s) == 0)
			return;
	if (*n >= max)
		return;
	COPY(list[*n], s);
	(*n)++;
}

static double
percent(int64_t part, int64_t whole)
{
	/* The original's order of operations, so the last digit matches too. */
	return whole > 0 ? (double)part / (double)whole * 100 : 0;
}

/* --- guest network ------------------------------------------------------------------------ */

/* Cuts an address at its prefix length or zone ("10.0.0.5/24", "fe80::1%eth0"). */
static void
strip_prefix(char *ip)
{
	char *p = strchr(ip, '/');

	if (p != NULL && p != ip)
		*p = '\0';
	p = strchr(ip, '%');
	if (p != NULL && p != ip)
		*p = '\0';
	jsonread_copy_trimmed(ip, strlen(ip) + 1, ip);
}

static int
is_loopback_or_link_local(const char *ip)
{
	return has_prefix(ip, "127.") || strncasecmp(ip, "fe80", 4) == 0 || strcmp(ip, "::1") == 0;
}

/* Interfaces sorted by name, keeping the order of equal names (Go's SliceStable). */
static void
sort_ifaces(struct pve_guest_net *net)
{
	for (int i = 1; i < net->nifaces; i++) {
		struct pve_guest_iface tmp = net->ifaces[i];
		int j = i;

		while (j > 0 && strcmp(net->ifaces[j - 1].name, tmp.name) > 0) {
			net->ifaces[j] = net->ifaces[j - 1];
			j--;
		}
		net->ifaces[j] = tmp;
	}
}

int
pve_guest_net_collect_ips(struct pve_guest_net *net)
{
	const char *all[PVE_NET_MAX_IFACES * PVE_NET_MAX_ADDRS];
	int n = 0;

	for (int i = 0; i < net->nifaces && i < PVE_NET_MAX_IFACES; i++)
		for (int k = 0; k < net->ifaces[i].naddrs && k < PVE_NET_MAX_ADDRS; k++)
			all[n++] = net->ifaces[i].addrs[k];
	qsort(all, (size_t)n, sizeof(all[0]), cmp_strp);
	net->nips = 0;
	for (int i = 0; i < n && net->nips < PVE_NET_MAX_IPS; i++) {
		if (i > 0 && strcmp(all[i], all[i - 1]) == 0)
			continue;
		COPY(net->ips[net->nips], all[i]);
		net->nips++;
	}
	return net->nips;
}

int
pve_parse_agent_network(struct json_object *data, struct pve_guest_net *net)
{
	struct json_object *list = jsonread_member(data, "result");
	int len;

	memset(net, 0, sizeof(*net));
	if (list == NULL && jsonread_is_array(data))
		list = data;
	if (!jsonread_is_array(list))
		return -1;
	len = scan_len(list);
	for (int i = 0; i < len && net->nifaces < PVE_NET_MAX_IFACES; i++) {
		struct json_object *o = json_object_array_get_idx(list, i);
		struct json_object *addrs = jsonread_member(o, "ip-addresses"), *stats = jsonread_member(o, "statistics");
		struct pve_guest_iface *it = &net->ifaces[net->nifaces];
		int naddr = scan_len(addrs);

		if (!jsonread_is_object(o))
			continue;
		memset(it, 0, sizeof(*it));
		COPY(it->name, jsonread_string(o, "name", ""));
		if (strcmp(it->name, "lo") == 0)
			continue;
		COPY(it->mac, jsonread_string(o, "hardware-address", ""));
		for (int k = 0; k < naddr; k++) {
			char ip[PVE_NET_ADDR_LEN];
			COPY(ip, jsonread_string(json_object_array_get_idx(addrs, k), "ip-address", ""));
			strip_prefix(ip);
			if (ip[0] == '\0' || is_loopback_or_link_local(ip))
				continue;
			add_unique(it->addrs, &it->naddrs, PVE_NET_MAX_ADDRS, ip);
		}
		qsort(it->addrs, (size_t)it->naddrs, sizeof(it->addrs[0]), cmp_str);
		it->rx_bytes = jsonread_int(stats, "rx-bytes", 0);
		it->tx_bytes = jsonread_int(stats, "tx-bytes", 0);
		if (it->rx_bytes < 0)
			it->rx_bytes = 0;
		if (it->tx_bytes < 0)
			it->tx_bytes = 0;
		if (it->naddrs == 0 && it->rx_bytes == 0 && it->tx_bytes == 0)
			continue;
		net->nifaces++;
	}
	sort_ifaces(net);
	pve_guest_net_collect_ips(net);
	return net->nifaces;
}

struct json_object *
pve_guest_net_ifaces_json(const struct pve_guest_net *net)
{
	struct json_object *arr;

	if (net->nifaces <= 0)
		return NULL;
	arr = json_object_new_array();
	for (int i = 0; i < net->nifaces; i++) {
		const struct pve_guest_iface *it = &net->ifaces[i];
		struct json_object *o = json_object_new_object();

		jsonwrite_str(o, "name", it->name);
		jsonwrite_opt_str(o, "mac", it->mac);
		if (it->naddrs > 0) {
			struct json_object *a = json_object_new_array();
			for (int k = 0; k < it->naddrs; k++)
				json_object_array_add(a, json_object_new_string(it->addrs[k]));
			json_object_object_add(o, "addresses", a);
		}
		jsonwrite_opt_int(o, "rxBytes", it->rx_bytes);
		jsonwrite_opt_int(o, "txBytes", it->tx_bytes);
		json_object_array_add(arr, o);
	}
	return arr;
}

struct json_object *
pve_guest_net_ips_json(const struct pve_guest_net *net)
{
	struct json_object *arr;

	if (net->nips <= 0)
		return NULL;
	arr = json_object_new_array();
	for (int i = 0; i < net->nips; i++)
		json_object_array_add(arr, json_object_new_string(net->ips[i]));
	return arr;
}

void
pve_guest_net_add_json(struct json_object *guest, const struct pve_guest_net *net)
{
	struct json_object *v;

	if ((v = pve_guest_net_ifaces_json(net)) != NULL)
		json_object_object_add(guest, "networkInterfaces", v);
	if ((v = pve_guest_net_ips_json(net)) != NULL)
		json_object_object_add(guest, "ipAddresses", v);
}

/* --- guest agent OS and version ------------------------------------------------------------- */

int
pve_parse_agent_osinfo(struct json_object *data, struct pve_agent_osinfo *out)
{
	struct json_object *r = jsonread_member(data, "result");
	char name[128], pretty[128], version[128], version_id[128];

	memset(out, 0, sizeof(*out));
	if (!jsonread_is_object(r))
		r = data;
	if (!jsonread_is_object(r))
		return -1;
	jsonread_value_text(jsonread_member(r, "name"), name, sizeof(name));
	jsonread_value_text(jsonread_member(r, "pretty-name"), pretty, sizeof(pretty));
	jsonread_value_text(jsonread_member(r, "version"), version, sizeof(version));
	jsonread_value_text(jsonread_member(r, "version-id"), version_id, sizeof(version_id));
	COPY(out->name, name[0] ? name : pretty);
	if (out->name[0] == '\0')
		jsonread_value_text(jsonread_member(r, "id"), out->name, sizeof(out->name));
	if (version[0])
		COPY(out->version, version);
	else if (version_id[0])
		COPY(out->version, version_id);
	else if (pretty[0] && strcmp(pretty, out->name) != 0)
		COPY(out->version, pretty);
	else
		jsonread_value_text(jsonread_member(r, "kernel-release"), out->version, sizeof(out->version));
	if (strcmp(out->version, out->name) == 0)
		out->version[0] = '\0';
	return 0;
}

int
pve_parse_agent_info(struct json_object *data, char *version, size_t len)
{
	struct json_object *r = jsonread_member(data, "result");

	if (len == 0)
		return -1;
	version[0] = '\0';
	if (!jsonread_is_object(r))
		r = data;
	jsonread_value_text(jsonread_member(r, "version"), version, len);
	if (version[0] == '\0')
		jsonread_value_text(jsonread_member(jsonread_member(r, "qemu-ga"), "version"), version, len);
	return version[0] ? 0 : -1;
}

void
pve_agent_add_json(struct json_object *vm, const struct pve_agent_osinfo *os,
    const char *agent_version)
{
	if (os != NULL) {
		jsonwrite_opt_str(vm, "osName", os->name);
		jsonwrite_opt_str(vm, "osVersion", os->version);
	}
	jsonwrite_opt_str(vm, "agentVersion", agent_version);
}

/* The classification follows the original's order: its own phrase for a stopped agent first,
 * then any timeout, then a 500 that says the agent is not there, then a refusal of rights;
 * any other 500 is what PVE answers when the agent is not installed or not running. */
const char *
pve_agent_failure_reason(long status, int timed_out, const char *body, size_t len)
{
	struct json_object *root = NULL;
	char message[512] = "", lower[512];

	if (timed_out)
		return "agent-timeout";
	/* An error answer is small; a large one is not read for a reason. */
	if (body != NULL && len > 0 && len <= 16384)
		root = jsonutil_parse(body, len, lower, sizeof(lower));
	if (root != NULL) {
		jsonread_copy_trimmed(message, sizeof(message), jsonread_string(root, "message", ""));
		json_object_put(root);
	}
	for (size_t i = 0; i < sizeof(lower); i++) {
		lower[i] = (char)tolower((unsigned char)message[i]);
		if (message[i] == '\0')
			break;
	}
	if (strstr(message, "QEMU guest agent is not running"))
		return "agent-not-running";
	if (strstr(lower, "timeout") || strstr(lower, "timed out"))
		return "agent-timeout";
	if (status == 500 && (strstr(lower, "not running") || strstr(lower, "not available")))
		return "agent-not-running";
	if (status == 401 || status == 403)
		return "permission-denied";
	if (status == 500)
		return "agent-not-running";
	return "agent-error";
}

/* --- containers ------------------------------------------------------------------------------ */

/* Addresses written in a container's status or config (sanitizeGuestAddressStrings): several
 * per string separated by blanks, ',' or ';', prefix and zone cut, placeholders and loopback,
 * link-local and unspecified addresses dropped. Each kept address goes to add(). */
static int
is_placeholder(const char *word)
{
	static const char *const words[] = {"dhcp", "manual", "static", "auto", "none", "n/a",
	    "unknown", "0.0.0.0", "::", "::1"};

	for (size_t k = 0; k < ARRAY_LEN(words); k++)
		if (strcasecmp(word, words[k]) == 0)
			return 1;
	return 0;
}

static void
sanitize_addresses(const char *value, void (*add)(void *, const char *), void *arg)
{
	const char *p = value;

	while (*p) {
		char word[PVE_NET_ADDR_LEN];
		size_t n = strcspn(p, " \t\r\n\f\v,;");

		if (n == 0) {
			p++;
			continue;
		}
		if (n >= sizeof(word)) {	/* longer than any address: not one */
			p += n;
			continue;
		}
		memcpy(word, p, n);
		word[n] = '\0';
		p += n;
		if (is_placeholder(word))
			continue;
		strip_prefix(word);
		if (word[0] == '\0' || is_placeholder(word) || has_prefix(word, "127.") ||
		    has_prefix(word, "0.0.0.0") || strncasecmp(word, "fe80", 4) == 0 ||
		    has_prefix(word, "::1"))
			continue;
		add(arg, word);
	}
}

/* A growing list of addresses: an interface's, and the container's. */
struct addr_sink {
	char (*list)[PVE_NET_ADDR_LEN];
	int *n;
	int max;
	struct pve_guest_net *guest;	/* also added to the guest's ipAddresses when set */
};

static void
sink_add(void *arg, const char *ip)
{
	struct addr_sink *s = arg;

	if (s->list != NULL)
		add_unique(s->list, s->n, s->max, ip);
	if (s->guest != NULL)
		add_unique(s->guest->ips, &s->guest->nips, PVE_NET_MAX_IPS, ip);
}

/* collectIPsFromInterface: strings, lists of them, and objects with ip/ip6/ipv4/ipv6/address/
 * value members, however nested (to a bound). */
static void
collect_addresses(struct json_object *v, struct addr_sink *sink, int depth, int *budget)
{
	static const char *const keys[] = {"ip", "ip6", "ipv4", "ipv6", "address", "value"};

	if (v == NULL || depth > TREE_MAX_DEPTH || --*budget < 0)
		return;
	switch (json_object_get_type(v)) {
	case json_type_string:
		sanitize_addresses(json_object_get_string(v), sink_add, sink);
		break;
	case json_type_array:
		for (int i = 0; i < scan_len(v); i++)
			collect_addresses(json_object_array_get_idx(v, i), sink, depth + 1, budget);
		break;
	case json_type_object:
		for (size_t k = 0; k < ARRAY_LEN(keys); k++)
			collect_addresses(jsonread_member(v, keys[k]), sink, depth + 1, budget);
		break;
	default:
		break;
	}
}

void
pve_ct_init(struct pve_ct_detail *ct)
{
	memset(ct, 0, sizeof(*ct));
}

/* mergeContainerNetworkInterface: into the interface with the same name or MAC (either case),
 * filling what it lacks, or as a new interface. "lo" is never kept. */
static void
merge_iface(struct pve_guest_net *net, const struct pve_guest_iface *d)
{
	struct pve_guest_iface *t = NULL;

	if (strcmp(d->name, "lo") == 0)
		return;
	for (int i = 0; i < net->nifaces && t == NULL; i++) {
		struct pve_guest_iface *c = &net->ifaces[i];
		if ((d->name[0] && c->name[0] && strcasecmp(c->name, d->name) == 0) ||
		    (d->mac[0] && c->mac[0] && strcasecmp(c->mac, d->mac) == 0))
			t = c;
	}
	if (t == NULL) {
		if (net->nifaces >= PVE_NET_MAX_IFACES)
			return;
		t = &net->ifaces[net->nifaces++];
		memset(t, 0, sizeof(*t));
	}
	if (t->name[0] == '\0')
		COPY(t->name, d->name);
	if (t->mac[0] == '\0')
		COPY(t->mac, d->mac);
	for (int k = 0; k < d->naddrs; k++)
		add_unique(t->addrs, &t->naddrs, PVE_NET_MAX_ADDRS, d->addrs[k]);
}

int
pve_ct_apply_status(struct pve_ct_detail *ct, struct json_object *data)
{
	struct json_object *network = jsonread_member(data, "network"), *diskinfo = jsonread_member(data, "diskinfo");
	struct addr_sink guest_only = {NULL, NULL, 0, &ct->net};
	int budget = TREE_MAX_NODES, seen = 0;

	if (!jsonread_is_object(data))
		return -1;
	sanitize_addresses(jsonread_string(data, "ip", ""), sink_add, &guest_only);
	sanitize_addresses(jsonread_string(data, "ip6", ""), sink_add, &guest_only);
	collect_addresses(jsonread_member(data, "ipv4"), &guest_only, 0, &budget);
	collect_addresses(jsonread_member(data, "ipv6"), &guest_only, 0, &budget);
	if (jsonread_is_object(network)) {
		json_object_object_foreach(network, key, cfg) {
			static const char *const fields[] = {"name", "hwaddr", "ip", "ip6", "ipv4",
			    "ipv6"};
			struct pve_guest_iface d;
			struct addr_sink sink = {d.addrs, &d.naddrs, PVE_NET_MAX_ADDRS, &ct->net};
			int any = 0;

			if (++seen > SCAN_MAX)
				break;
			if (!jsonread_is_object(cfg))
				continue;
			for (size_t k = 0; k < ARRAY_LEN(fields); k++) {
				struct json_object *f = jsonread_member(cfg, fields[k]);
				if (f != NULL && !(json_object_is_type(f, json_type_string) &&
				    json_object_get_string_len(f) == 0))
					any = 1;
			}
			if (!any)
				continue;
			memset(&d, 0, sizeof(d));
			COPY(d.name, jsonread_string(cfg, "name", ""));
			if (d.name[0] == '\0')
				COPY(d.name, key);
			COPY(d.mac, jsonread_string(cfg, "hwaddr", ""));
			if (strcmp(d.name, "lo") == 0)
				continue;
			for (size_t k = 2; k < ARRAY_LEN(fields); k++)
				collect_addresses(jsonread_member(cfg, fields[k]), &sink, 0, &budget);
			/* Status interfaces are taken as they come, not merged. */
			if ((d.name[0] || d.mac[0] || d.naddrs > 0) && ct->net.nifaces < PVE_NET_MAX_IFACES)
				ct->net.ifaces[ct->net.nifaces++] = d;
		}
	}
	seen = 0;
	if (jsonread_is_object(diskinfo)) {
		json_object_object_foreach(diskinfo, label, info) {
			if (++seen > SCAN_MAX || ct->ndiskinfo >= PVE_CT_MAX_DISKS)
				break;
			if (!jsonread_is_object(info))
				continue;
			COPY(ct->diskinfo[ct->ndiskinfo].label, label);
			ct->diskinfo[ct->ndiskinfo].total = jsonread_int(info, "total", 0);
			ct->diskinfo[ct->ndiskinfo].used = jsonread_int(info, "used", 0);
			ct->ndiskinfo++;
		}
	}
	COPY(ct->status_rootfs, jsonread_string(data, "rootfs", ""));
	return 0;
}

/* The first comma-separated part of a volume string: "local-lvm:vm-101-disk-0,size=8G". */
static void
volume_source(const char *value, char *out, size_t len)
{
	char buf[1024];
	char *comma;

	jsonread_copy_trimmed(buf, sizeof(buf), value);
	if ((comma = strchr(buf, ',')) != NULL)
		*comma = '\0';
	jsonread_copy_trimmed(out, len, buf);
}

/* rootfs and mpN: the volume and where it is mounted. */
static void
read_mounts(struct pve_ct_detail *ct, struct json_object *config)
{
	int seen = 0;

	json_object_object_foreach(config, rawkey, rawval) {
		char key[16], value[1024], *part, *save = NULL;
		int slot = -1;

		if (++seen > SCAN_MAX)
			break;
		if (strlen(rawkey) >= sizeof(key))	/* not rootfs nor mpN */
			continue;
		COPY(key, rawkey);
		lower_ascii(key);
		if (strcmp(key, "rootfs") != 0 && !has_prefix(key, "mp"))
			continue;
		jsonread_value_text(rawval, value, sizeof(value));
		if (value[0] == '\0')
			continue;
		for (int i = 0; i < ct->nmounts; i++)
			if (strcmp(ct->mounts[i].key, key) == 0)
				slot = i;
		if (slot < 0) {
			if (ct->nmounts >= PVE_CT_MAX_MOUNTS)
				continue;
			slot = ct->nmounts++;
		}
		memset(&ct->mounts[slot], 0, sizeof(ct->mounts[slot]));
		COPY(ct->mounts[slot].key, key);
		volume_source(value, ct->mounts[slot].source, sizeof(ct->mounts[slot].source));
		part = strtok_r(value, ",", &save);	/* the source */
		while ((part = strtok_r(NULL, ",", &save)) != NULL) {
			char *eq = strchr(part, '=');
			char k[32];
			if (eq == NULL)
				continue;
			*eq = '\0';
			COPY(k, part);
			lower_ascii(k);
			if (strcmp(k, "mp") == 0 || strcmp(k, "mountpoint") == 0)
				COPY(ct->mounts[slot].mountpoint, eq + 1);
		}
		if (ct->mounts[slot].mountpoint[0] == '\0' && strcmp(key, "rootfs") == 0)
			COPY(ct->mounts[slot].mountpoint, "/");
	}
}

/* netN: "name=eth0,bridge=vmbr0,hwaddr=BC:24:..,ip=10.0.0.5/24,ip6=..,type=veth". */
static void
read_config_net(struct pve_ct_detail *ct, const char *key, struct json_object *val)
{
	char value[2048], *part, *save = NULL;
	struct pve_guest_iface d;
	struct addr_sink sink = {d.addrs, &d.naddrs, PVE_NET_MAX_ADDRS, NULL};

	jsonread_value_text(val, value, sizeof(value));
	if (value[0] == '\0')
		return;
	memset(&d, 0, sizeof(d));
	for (part = strtok_r(value, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(part, '=');
		char k[32];
		if (eq == NULL)
			continue;
		*eq = '\0';
		COPY(k, part);
		lower_ascii(k);
		if (strcmp(k, "name") == 0) {
			COPY(d.name, eq + 1);
		} else if (strcmp(k, "hwaddr") == 0 || strcmp(k, "mac") == 0 ||
		    strcmp(k, "macaddr") == 0) {
			COPY(d.mac, eq + 1);
			for (char *c = d.mac; *c; c++)
				*c = (char)toupper((unsigned char)*c);
		} else if (strcmp(k, "ip") == 0 || strcmp(k, "ip6") == 0 || strcmp(k, "ips") == 0 ||
		    strcmp(k, "ip6addr") == 0 || strcmp(k, "ip6prefix") == 0) {
			sanitize_addresses(eq + 1, sink_add, &sink);
		}
	}
	if (d.name[0] == '\0')
		COPY(d.name, key);
	if (strcmp(d.name, "lo") == 0)
		return;
	for (int i = 0; i < d.naddrs; i++)
		add_unique(ct->net.ips, &ct->net.nips, PVE_NET_MAX_IPS, d.addrs[i]);
	if (d.name[0] || d.mac[0] || d.naddrs > 0)
		merge_iface(&ct->net, &d);
}

static void
read_config_nets(struct pve_ct_detail *ct, struct json_object *config)
{
	const char *keys[128];
	int n = 0, seen = 0;

	json_object_object_foreach(config, rawkey, rawval) {
		const char *k = rawkey;
		(void)rawval;
		if (++seen > SCAN_MAX || n >= (int)ARRAY_LEN(keys))
			break;
		while (isspace((unsigned char)*k))
			k++;
		if (strncasecmp(k, "net", 3) == 0)
			keys[n++] = rawkey;
	}
	qsort(keys, (size_t)n, sizeof(keys[0]), cmp_strp);
	for (int i = 0; i < n; i++) {
		char key[64];
		COPY(key, keys[i]);
		read_config_net(ct, key, jsonread_member(config, keys[i]));
	}
}

/* The lxc raw lines: [["lxc.signal.halt", "SIGTERM"], ...] or plain strings. */
static int
has_signal_halt(struct json_object *v, int depth)
{
	if (v == NULL || depth > 3)
		return 0;
	if (json_object_is_type(v, json_type_string))
		return strstr(json_object_get_string(v), "lxc.signal.halt") != NULL;
	for (int i = 0; i < scan_len(v); i++)
		if (has_signal_halt(json_object_array_get_idx(v, i), depth + 1))
			return 1;
	return 0;
}

static int
oci_by_config(struct json_object *config)
{
	char entrypoint[256], ostype[32], cmode[32];

	jsonread_value_text(jsonread_member(config, "entrypoint"), entrypoint, sizeof(entrypoint));
	if (entrypoint[0])
		return 1;
	jsonread_value_text(jsonread_member(config, "ostype"), ostype, sizeof(ostype));
	jsonread_value_text(jsonread_member(config, "cmode"), cmode, sizeof(cmode));
	lower_ascii(ostype);
	lower_ascii(cmode);
	return strcmp(ostype, "unmanaged") == 0 && strcmp(cmode, "console") == 0 &&
	    has_signal_halt(jsonread_member(config, "lxc"), 0);
}

int
pve_ct_is_oci_template(const char *ostemplate)
{
	static const char *const registries[] = {"docker.io/", "ghcr.io/", "gcr.io/", "quay.io/",
	    "registry.hub.docker.com/", "mcr.microsoft.com/", "public.ecr.aws/"};
	char t[256];

	COPY(t, ostemplate);
	lower_ascii(t);
	if (t[0] == '\0')
		return 0;
	if (has_prefix(t, "oci:") || has_prefix(t, "docker:"))
		return 1;
	for (size_t i = 0; i < ARRAY_LEN(registries); i++)
		if (strstr(t, registries[i]) != NULL)
			return 1;
	return 0;
}

const char *
pve_ct_os_display_name(const char *ostype, char *buf, size_t len)
{
	static const char *const names[][2] = {
		{"alpine", "Alpine"}, {"archlinux", "Arch Linux"}, {"centos", "CentOS"},
		{"debian", "Debian"}, {"devuan", "Devuan"}, {"fedora", "Fedora"},
		{"gentoo", "Gentoo"}, {"nixos", "NixOS"}, {"opensuse", "openSUSE"},
		{"ubuntu", "Ubuntu"}, {"unmanaged", "Unmanaged"},
	};
	char low[64];

	if (len == 0)
		return buf;
	jsonread_copy_trimmed(buf, len, ostype);
	COPY(low, buf);
	lower_ascii(low);
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (strcmp(low, names[i][0]) == 0)
			return jsonread_copy_trimmed(buf, len, names[i][1]);
	buf[0] = (char)toupper((unsigned char)buf[0]);
	return buf;
}

int
pve_ct_apply_config(struct pve_ct_detail *ct, struct json_object *data)
{
	char ostype[64], tmpl[256];
	int64_t ignored;

	if (!jsonread_is_object(data))
		return -1;
	read_mounts(ct, data);
	for (int i = 0; i < ct->nmounts && ct->root_device[0] == '\0'; i++)
		if (strcmp(ct->mounts[i].key, "rootfs") == 0)
			COPY(ct->root_device, ct->mounts[i].source);
	read_config_nets(ct, data);
	jsonread_value_text(jsonread_member(data, "ostype"), ostype, sizeof(ostype));
	if (ostype[0])
		pve_ct_os_display_name(ostype, ct->os_name, sizeof(ct->os_name));
	jsonread_value_text(jsonread_member(data, "ostemplate"), tmpl, sizeof(tmpl));
	if (tmpl[0] == '\0') {
		/* "template" is mostly the 0/1 flag; only a name counts. */
		jsonread_value_text(jsonread_member(data, "template"), tmpl, sizeof(tmpl));
		if (jsonread_value_int(jsonread_member(data, "template"), &ignored) || strcmp(tmpl, "true") == 0 ||
		    strcmp(tmpl, "false") == 0)
			tmpl[0] = '\0';
	}
	if (tmpl[0]) {
		COPY(ct->os_template, tmpl);
		if (pve_ct_is_oci_template(tmpl))
			ct->is_oci = 1;
	}
	if (!ct->is_oci && oci_by_config(data))
		ct->is_oci = 1;
	return 0;
}

int
pve_ct_wants_interfaces(const struct pve_ct_detail *ct)
{
	return ct->net.nips == 0;
}

/* Entries of GET .../interfaces merged into net, their addresses also into net->ips. */
static int
read_ct_interfaces(struct pve_guest_net *net, struct json_object *data)
{
	int len = scan_len(data), n = 0;

	if (!jsonread_is_array(data))
		return -1;
	for (int i = 0; i < len; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		struct json_object *addrs = jsonread_member(o, "ip-addresses");
		struct pve_guest_iface d;
		struct addr_sink sink = {d.addrs, &d.naddrs, PVE_NET_MAX_ADDRS, NULL};
		int naddr = scan_len(addrs);

		if (!jsonread_is_object(o))
			continue;
		n++;
		memset(&d, 0, sizeof(d));
		COPY(d.name, jsonread_string(o, "name", ""));
		COPY(d.mac, jsonread_string(o, "hwaddr", ""));
		for (char *c = d.mac; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		for (int k = 0; k < naddr; k++) {
			char ip[PVE_NET_ADDR_LEN];
			COPY(ip, jsonread_string(json_object_array_get_idx(addrs, k), "ip-address", ""));
			strip_prefix(ip);
			sanitize_addresses(ip, sink_add, &sink);
		}
		if (d.naddrs == 0)	/* "inet": "192.168.3.95/22", words separated by blanks */
			sanitize_addresses(jsonread_string(o, "inet", ""), sink_add, &sink);
		if (strcmp(d.name, "lo") == 0)
			continue;
		for (int k = 0; k < d.naddrs; k++)
			add_unique(net->ips, &net->nips, PVE_NET_MAX_IPS, d.addrs[k]);
		if (d.name[0] || d.mac[0] || d.naddrs > 0)
			merge_iface(net, &d);
	}
	return n;
}

int
pve_ct_apply_interfaces(struct pve_ct_detail *ct, struct json_object *data)
{
	return read_ct_interfaces(&ct->net, data);
}

int
pve_parse_ct_interfaces(struct json_object *data, struct pve_guest_net *net)
{
	memset(net, 0, sizeof(*net));
	if (read_ct_interfaces(net, data) < 0)
		return -1;
	sort_ifaces(net);
	qsort(net->ips, (size_t)net->nips, sizeof(net->ips[0]), cmp_str);
	return net->nifaces;
}

static void
disk_set(struct pve_ct_disk *d, int64_t total, int64_t used)
{
	if (total < 0)
		total = 0;
	if (used < 0)
		used = 0;
	if (total > 0 && used > total)
		used = total;
	d->total = total;
	d->used = used;
	d->free = total > used ? total - used : 0;
	d->usage = percent(used, total);
}

static void
sort_disks(struct pve_ct_detail *ct)
{
	for (int i = 1; i < ct->ndisks; i++) {
		struct pve_ct_disk tmp = ct->disks[i];
		int j = i;
		while (j > 0 && strcmp(ct->disks[j - 1].mountpoint, tmp.mountpoint) > 0) {
			ct->disks[j] = ct->disks[j - 1];
			j--;
		}
		ct->disks[j] = tmp;
	}
}

void
pve_ct_finish(struct pve_ct_detail *ct, int64_t disk_total, int64_t disk_used, double disk_usage)
{
	sort_ifaces(&ct->net);
	qsort(ct->net.ips, (size_t)ct->net.nips, sizeof(ct->net.ips[0]), cmp_str);
	ct->ndisks = 0;
	for (int i = 0; i < ct->ndiskinfo; i++) {
		struct pve_ct_disk *d = &ct->disks[ct->ndisks++];
		char label[32];

		memset(d, 0, sizeof(*d));
		disk_set(d, ct->diskinfo[i].total, ct->diskinfo[i].used);
		COPY(label, ct->diskinfo[i].label);
		lower_ascii(label);
		for (int m = 0; m < ct->nmounts; m++) {
			if (strcmp(ct->mounts[m].key, label) == 0) {
				COPY(d->mountpoint, ct->mounts[m].mountpoint);
				COPY(d->device, ct->mounts[m].source);
			}
		}
		if (label[0] == '\0' || strcmp(label, "rootfs") == 0) {
			if (d->mountpoint[0] == '\0')
				COPY(d->mountpoint, "/");
			COPY(d->type, "rootfs");
			if (d->device[0] == '\0')
				volume_source(ct->status_rootfs, d->device, sizeof(d->device));
		} else {
			if (d->mountpoint[0] == '\0')
				COPY(d->mountpoint, label);
			COPY(d->type, label);
		}
	}
	sort_disks(ct);
	if (ct->ndisks == 0) {
		struct pve_ct_disk *d = &ct->disks[ct->ndisks++];

		memset(d, 0, sizeof(*d));
		disk_set(d, disk_total, disk_used);
		d->usage = isfinite(disk_usage) ? disk_usage : 0;
		if (disk_total > 0 && d->usage <= 0)
			d->usage = percent(d->used, disk_total);
		COPY(d->mountpoint, "/");
		COPY(d->type, "rootfs");
	}
	for (int i = 0; i < ct->ndisks; i++)
		if (strcmp(ct->disks[i].mountpoint, "/") == 0 && ct->disks[i].device[0] == '\0')
			COPY(ct->disks[i].device, ct->root_device);
}

struct json_object *
pve_ct_disks_json(const struct pve_ct_detail *ct)
{
	struct json_object *arr;

	if (ct->ndisks <= 0)
		return NULL;
	arr = json_object_new_array();
	for (int i = 0; i < ct->ndisks; i++) {
		const struct pve_ct_disk *d = &ct->disks[i];
		struct json_object *o = json_object_new_object();

		jsonwrite_int(o, "total", d->total);
		jsonwrite_int(o, "used", d->used);
		jsonwrite_int(o, "free", d->free);
		jsonwrite_num(o, "usage", d->usage);
		jsonwrite_opt_str(o, "mountpoint", d->mountpoint);
		jsonwrite_opt_str(o, "type", d->type);
		jsonwrite_opt_str(o, "device", d->device);
		json_object_array_add(arr, o);
	}
	return arr;
}

void
pve_ct_add_json(struct json_object *container, const struct pve_ct_detail *ct)
{
	struct json_object *disks = pve_ct_disks_json(ct);

	pve_guest_net_add_json(container, &ct->net);
	if (disks != NULL)
		json_object_object_add(container, "disks", disks);
	jsonwrite_opt_str(container, "osName", ct->os_name);
	jsonwrite_opt_str(container, "osTemplate", ct->os_template);
	if (ct->is_oci) {
		jsonwrite_bool(container, "isOci", 1);
		jsonwrite_str(container, "type", "oci");
	}
}

/* --- physical disks -------------------------------------------------------------------------- */

#define WEAROUT_UNKNOWN (-1)

static int
clamp_int(int64_t v)
{
	return v > 2147483647 ? 2147483647 : v < -2147483647 ? -2147483647 : (int)v;
}

/* A float truncated toward zero; beyond the integers it saturates (clamped later). */
static int64_t
wearout_from_double(double d)
{
	if (!isfinite(d))
		return WEAROUT_UNKNOWN;
	if (d >= 9.2e18)
		return INT64_MAX;
	if (d <= -9.2e18)
		return INT64_MIN;
	return (int64_t)d;
}

/* parseWearoutValue: "81", "\"81\"", "81%", "N/A", "12.7" ... */
static int64_t
wearout_from_text(const char *raw)
{
	char s[64], clean[64], digits[32];
	size_t o = 0, nd = 0;
	int64_t v;
	char *end;
	double d;

	jsonread_copy_trimmed(s, sizeof(s), raw);
	for (size_t i = 0; s[i] && o < sizeof(clean) - 1; i++) {
		if (s[i] == '\\' && s[i + 1] == '"') {	/* escaped quotes */
			i++;
			continue;
		}
		clean[o++] = s[i];
	}
	clean[o] = '\0';
	{
		char *b = clean, *e = clean + strlen(clean);
		while (*b == '"' || *b == '\'')
			b++;
		while (e > b && (e[-1] == '"' || e[-1] == '\''))
			e--;
		*e = '\0';
		jsonread_copy_trimmed(s, sizeof(s), b);
	}
	if (s[0] == '\0')
		return WEAROUT_UNKNOWN;
	snprintf(clean, sizeof(clean), "%s", s);
	lower_ascii(clean);
	if (strcmp(clean, "n/a") == 0 || strcmp(clean, "na") == 0 || strcmp(clean, "none") == 0 ||
	    strcmp(clean, "unknown") == 0)
		return WEAROUT_UNKNOWN;
	if (parse_int64(s, INT64_MIN, INT64_MAX, &v) == 0)
		return v;
	d = strtod(s, &end);
	if (*end == '\0' && end != s)
		return wearout_from_double(d);
	for (size_t i = 0; s[i]; i++) {
		if (isdigit((unsigned char)s[i])) {
			if (nd >= sizeof(digits) - 1)
				return WEAROUT_UNKNOWN;	/* would overflow */
			digits[nd++] = s[i];
		}
	}
	digits[nd] = '\0';
	if (nd > 0 && parse_int64(digits, 0, INT64_MAX, &v) == 0)
		return v;
	return WEAROUT_UNKNOWN;
}

static int
parse_wearout(struct json_object *v)
{
	int64_t w = WEAROUT_UNKNOWN;

	if (v != NULL) {
		switch (json_object_get_type(v)) {
		case json_type_int:
			w = json_object_get_int64(v);
			break;
		case json_type_double:
			w = wearout_from_double(json_object_get_double(v));
			break;
		case json_type_string:
			w = wearout_from_text(json_object_get_string(v));
			break;
		default:
			break;
		}
	}
	if (w == WEAROUT_UNKNOWN)
		return WEAROUT_UNKNOWN;
	return w < 0 ? 0 : w > 100 ? 100 : (int)w;
}

static int
parse_rpm(struct json_object *v)
{
	char s[32];
	int64_t r;
	double d;

	if (v == NULL)
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_int:
		return clamp_int(json_object_get_int64(v));
	case json_type_double:
		d = json_object_get_double(v);
		return isfinite(d) && fabs(d) < 2e9 ? (int)d : 0;
	case json_type_string:
		jsonread_copy_trimmed(s, sizeof(s), json_object_get_string(v));
		if (parse_int64(s, -2147483647, 2147483647, &r) == 0)
			return (int)r;
		return 0;	/* "", "SSD", "N/A" and anything else */
	default:
		return 0;
	}
}

int
pve_parse_disks_list(struct json_object *data, struct pve_physical_disk *out, int max)
{
	int n = 0, len = scan_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		struct pve_physical_disk *d = &out[n];

		if (!jsonread_is_object(o))
			continue;
		memset(d, 0, sizeof(*d));
		COPY(d->dev_path, jsonread_string(o, "devpath", ""));
		if (d->dev_path[0] == '\0')
			continue;
		COPY(d->model, jsonread_string(o, "model", ""));
		COPY(d->serial, jsonread_string(o, "serial", ""));
		COPY(d->wwn, jsonread_string(o, "wwn", ""));
		COPY(d->type, jsonread_string(o, "type", ""));
		COPY(d->health, jsonread_string(o, "health", ""));
		COPY(d->used, jsonread_string(o, "used", ""));
		COPY(d->vendor, jsonread_string(o, "vendor", ""));
		d->size = jsonread_int(o, "size", 0);
		d->wearout = parse_wearout(jsonread_member(o, "wearout"));
		d->rpm = parse_rpm(jsonread_member(o, "rpm"));
		n++;
	}
	return n;
}

struct json_object *
pve_physical_disk_json(const struct pve_physical_disk *d, const char *instance, const char *node,
    double now)
{
	struct json_object *o = json_object_new_object();
	char *id = xasprintf("%s-%s-%s", instance ? instance : "", node ? node : "", d->dev_path);
	char when[48];

	for (char *p = id + strlen(id) - strlen(d->dev_path); *p; p++)
		if (*p == '/')
			*p = '-';
	jsonwrite_str(o, "id", id);
	free(id);
	jsonwrite_str(o, "node", node);
	jsonwrite_str(o, "instance", instance);
	jsonwrite_str(o, "devPath", d->dev_path);
	jsonwrite_str(o, "model", d->model);
	jsonwrite_str(o, "serial", d->serial);
	jsonwrite_str(o, "wwn", d->wwn);
	jsonwrite_str(o, "type", d->type);
	jsonwrite_int(o, "size", d->size);
	jsonwrite_str(o, "health", d->health);
	jsonwrite_int(o, "wearout", d->wearout);
	jsonwrite_int(o, "temperature", 0);
	jsonwrite_int(o, "rpm", d->rpm);
	jsonwrite_str(o, "used", d->used);
	jsonwrite_str(o, "lastChecked", timefmt_rfc3339_nano(now, when, sizeof(when)));
	return o;
}

/* --- ZFS ---------------------------------------------------------------------------------------- */

int
pve_parse_zfs_list(struct json_object *data, struct pve_zfs_pool *out, int max)
{
	int n = 0, len = scan_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		struct pve_zfs_pool *p = &out[n];

		if (!jsonread_is_object(o))
			continue;
		memset(p, 0, sizeof(*p));
		COPY(p->name, jsonread_string(o, "name", ""));
		if (p->name[0] == '\0')
			continue;
		COPY(p->health, jsonread_string(o, "health", ""));
		p->size = jsonread_int(o, "size", 0);
		p->alloc = jsonread_int(o, "alloc", 0);
		p->free = jsonread_int(o, "free", 0);
		n++;
	}
	return n;
}

static int
role_of(const char *lower)
{
	if (strcmp(lower, "logs") == 0 || strcmp(lower, "log") == 0 || has_prefix(lower, "slog"))
		return 'l';
	if (strcmp(lower, "cache") == 0 || has_prefix(lower, "l2arc"))
		return 'c';
	if (strcmp(lower, "spares") == 0 || has_prefix(lower, "spare"))
		return 's';
	return 0;
}

/* One node of the vdev tree, then its children (convertDeviceRecursive). role: 0, or 'l'og,
 * 'c'ache, 's'pare inherited from a parent. */
static void
zfs_device(struct pve_zfs_pool *pool, struct json_object *dev, int role, int depth, int *budget)
{
	struct json_object *children = jsonread_member(dev, "children");
	char name[128], lower[128], state[24];
	int nchildren, leaf, is_vdev, is_spare, healthy;
	int64_t r, w, c;
	const char *type;

	if (!jsonread_is_object(dev) || depth > TREE_MAX_DEPTH || --*budget < 0)
		return;
	COPY(name, jsonread_string(dev, "name", ""));
	COPY(lower, name);
	lower_ascii(lower);
	if (role == 0)
		role = role_of(lower);
	COPY(state, jsonread_string(dev, "state", ""));
	for (char *p = state; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	if (state[0] == '\0')
		COPY(state, "UNKNOWN");
	nchildren = scan_len(children);
	leaf = (int)jsonread_int(dev, "leaf", 0);
	is_vdev = leaf == 0 && nchildren > 0;
	type = is_vdev ? "vdev" : "disk";
	if (is_vdev && has_prefix(lower, "mirror"))
		type = "mirror";
	else if (is_vdev && has_prefix(lower, "raidz"))
		type = lower;
	else if (is_vdev && role == 'l')
		type = "log";
	else if (is_vdev && role == 'c')
		type = "cache";
	else if (is_vdev && role == 's')
		type = "spare";
	else if (role == 'l' && leaf == 1)
		type = "log";
	else if (role == 'c' && leaf == 1)
		type = "cache";
	is_spare = strcmp(lower, "spares") == 0 || has_prefix(lower, "spare");
	if (is_spare)
		type = leaf == 1 ? "spare" : "spare-group";
	healthy = strcmp(state, "ONLINE") == 0 || strcmp(state, "SPARE") == 0 ||
	    strcmp(state, "AVAIL") == 0 || strcmp(state, "INUSE") == 0 ||
	    (strcmp(state, "UNKNOWN") == 0 && (role != 0 || is_spare));
	r = jsonread_int(dev, "read", 0);
	w = jsonread_int(dev, "write", 0);
	c = jsonread_int(dev, "cksum", 0);
	if ((!healthy || r > 0 || w > 0 || c > 0) && pool->ndevices < PVE_ZFS_MAX_DEVICES) {
		struct pve_zfs_device *d = &pool->devices[pool->ndevices++];
		memset(d, 0, sizeof(*d));
		COPY(d->name, name);
		COPY(d->type, type);
		COPY(d->state, state);
		d->read_errors = r;
		d->write_errors = w;
		d->checksum_errors = c;
		COPY(d->message, jsonread_string(dev, "msg", ""));
	}
	for (int i = 0; i < nchildren; i++)
		zfs_device(pool, json_object_array_get_idx(children, i), role, depth + 1, budget);
}

int
pve_parse_zfs_detail(struct json_object *data, struct pve_zfs_pool *pool)
{
	struct json_object *children = jsonread_member(data, "children");
	int budget = TREE_MAX_NODES, n = scan_len(children);

	if (!jsonread_is_object(data))
		return -1;
	pool->has_detail = 1;
	COPY(pool->state, jsonread_string(data, "state", ""));
	COPY(pool->status, jsonread_string(data, "status", ""));
	COPY(pool->scan, jsonread_string(data, "scan", ""));
	COPY(pool->errors, jsonread_string(data, "errors", ""));
	if (pool->name[0] == '\0')
		COPY(pool->name, jsonread_string(data, "name", ""));
	pool->ndevices = 0;
	for (int i = 0; i < n; i++)
		zfs_device(pool, json_object_array_get_idx(children, i), 0, 0, &budget);
	pool->read_errors = pool->write_errors = pool->checksum_errors = 0;
	for (int i = 0; i < pool->ndevices; i++) {
		/* Sums saturate rather than overflow on absurd counters. */
		const struct pve_zfs_device *d = &pool->devices[i];
		if (d->read_errors > 0 && pool->read_errors < INT64_MAX - d->read_errors)
			pool->read_errors += d->read_errors;
		if (d->write_errors > 0 && pool->write_errors < INT64_MAX - d->write_errors)
			pool->write_errors += d->write_errors;
		if (d->checksum_errors > 0 && pool->checksum_errors < INT64_MAX - d->checksum_errors)
			pool->checksum_errors += d->checksum_errors;
	}
	return 0;
}

struct json_object *
pve_zfs_pool_json(const struct pve_zfs_pool *pool)
{
	struct json_object *o = json_object_new_object(), *devs = json_object_new_array();

	jsonwrite_str(o, "name", pool->name);
	jsonwrite_str(o, "state", pool->state[0] ? pool->state : pool->health);
	jsonwrite_str(o, "status", pool->status);
	jsonwrite_str(o, "scan", pool->scan);
	jsonwrite_int(o, "readErrors", pool->read_errors);
	jsonwrite_int(o, "writeErrors", pool->write_errors);
	jsonwrite_int(o, "checksumErrors", pool->checksum_errors);
	for (int i = 0; i < pool->ndevices; i++) {
		const struct pve_zfs_device *d = &pool->devices[i];
		struct json_object *od = json_object_new_object();
		jsonwrite_str(od, "name", d->name);
		jsonwrite_str(od, "type", d->type);
		jsonwrite_str(od, "state", d->state);
		jsonwrite_int(od, "readErrors", d->read_errors);
		jsonwrite_int(od, "writeErrors", d->write_errors);
		jsonwrite_int(od, "checksumErrors", d->checksum_errors);
		jsonwrite_opt_str(od, "message", d->message);
		json_object_array_add(devs, od);
	}
	json_object_object_add(o, "devices", devs);
	return o;
}

int
pve_zfs_pool_for_storage(const char *storage, const char *storage_type,
    const struct pve_zfs_pool *pools, int npools)
{
	const char *want;

	if (storage == NULL || storage_type == NULL || (strcmp(storage_type, "zfspool") != 0 &&
	    strcmp(storage_type, "zfs") != 0 && strcmp(storage_type, "local-zfs") != 0))
		return -1;
	want = strcmp(storage, "local-zfs") == 0 ? "rpool/data" : storage;
	for (int i = 0; i < npools; i++)
		if (strcmp(pools[i].name, want) == 0)
			return i;
	/* The original walks a map here; rpool is tried before data to stay deterministic. */
	for (int i = 0; i < npools; i++)
		if (strcmp(pools[i].name, "rpool") == 0 && strstr(storage, "rpool"))
			return i;
	for (int i = 0; i < npools; i++)
		if (strcmp(pools[i].name, "data") == 0 && strstr(storage, "data"))
			return i;
	return -1;
}

/* --- Ceph ------------------------------------------------------------------------------------- */

/* Appends s to the string in buf (size len), cut at a character boundary when full. */
static void
append_cut(char *buf, size_t len, const char *s)
{
	size_t used = strlen(buf), n = strlen(s);

	if (used + 1 >= len)
		return;
	if (n >= len - used) {
		n = len - used - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(buf + used, s, n);
	buf[used + n] = '\0';
}

/* Joins non-empty parts with sep into buf. */
static void
join_msg(char *buf, size_t len, const char *sep, const char *part)
{
	if (part[0] == '\0')
		return;
	if (buf[0] != '\0')
		append_cut(buf, len, sep);
	append_cut(buf, len, part);
}

/* A check's summary: {"message"|"summary": ...}, a list of such, or a plain string. */
static void
check_summary(struct json_object *v, char *out, size_t len)
{
	out[0] = '\0';
	if (v == NULL)
		return;
	if (json_object_is_type(v, json_type_string)) {
		jsonread_copy_trimmed(out, len, json_object_get_string(v));
		return;
	}
	if (jsonread_is_object(v)) {
		jsonread_copy_trimmed(out, len, jsonread_string(v, "message", ""));
		if (out[0] == '\0')
			jsonread_copy_trimmed(out, len, jsonread_string(v, "summary", ""));
		return;
	}
	for (int i = 0; i < scan_len(v) && out[0] == '\0'; i++) {
		struct json_object *it = json_object_array_get_idx(v, i);
		jsonread_copy_trimmed(out, len, jsonread_string(it, "message", ""));
		if (out[0] == '\0')
			jsonread_copy_trimmed(out, len, jsonread_string(it, "summary", ""));
	}
}

static void
ceph_health_message(struct pve_ceph_cluster *c, struct json_object *health)
{
	struct json_object *summary = jsonread_member(health, "summary"), *checks = jsonread_member(health, "checks");
	const char *names[64];
	int n = 0, seen = 0;
	char part[512], line[640];

	for (int i = 0; i < scan_len(summary); i++) {
		struct json_object *s = json_object_array_get_idx(summary, i);
		COPY(part, jsonread_string(s, "message", ""));
		if (part[0] == '\0')
			COPY(part, jsonread_string(s, "summary", ""));
		join_msg(c->health_message, sizeof(c->health_message), "; ", part);
	}
	if (!jsonread_is_object(checks))
		return;
	json_object_object_foreach(checks, name, unused) {
		(void)unused;
		if (++seen > SCAN_MAX || n >= (int)ARRAY_LEN(names))
			break;
		names[n++] = name;
	}
	/* The original walks a map, in no order: sorted names keep the text stable. */
	qsort(names, (size_t)n, sizeof(names[0]), cmp_strp);
	for (int i = 0; i < n; i++) {
		struct json_object *check = jsonread_member(checks, names[i]), *detail = jsonread_member(check, "detail");
		check_summary(jsonread_member(check, "summary"), part, sizeof(part));
		for (int k = 0; k < scan_len(detail) && part[0] == '\0'; k++)
			COPY(part, jsonread_string(json_object_array_get_idx(detail, k), "message", ""));
		if (part[0] == '\0')
			continue;
		snprintf(line, sizeof(line), "%.100s: %s", names[i], part);
		join_msg(c->health_message, sizeof(c->health_message), "; ", line);
	}
}

static int
cmp_service(const void *a, const void *b)
{
	return strcmp(((const struct pve_ceph_service *)a)->type,
	    ((const struct pve_ceph_service *)b)->type);
}

/* "Offline: a, b" (sorted) in s->message, or nothing when none is offline. */
static void
offline_message(struct pve_ceph_service *s, const char **offline, int noff)
{
	if (noff == 0)
		return;
	qsort(offline, (size_t)noff, sizeof(offline[0]), cmp_strp);
	snprintf(s->message, sizeof(s->message), "Offline: ");
	for (int i = 0; i < noff; i++) {
		if (i > 0)
			append_cut(s->message, sizeof(s->message), ", ");
		append_cut(s->message, sizeof(s->message), offline[i]);
	}
}

/* The services of the service map: each type's daemons, those whose status is neither
 * running nor active named offline. */
static void
ceph_services(struct pve_ceph_cluster *c, struct json_object *services)
{
	int seen = 0;

	if (!jsonread_is_object(services))
		return;
	json_object_object_foreach(services, type, def) {
		struct json_object *daemons = jsonread_member(def, "daemons");
		struct pve_ceph_service *s;
		const char *offline[64];
		char labels[64][160];
		int noff = 0, dseen = 0;

		if (++seen > SCAN_MAX || c->nservices >= PVE_CEPH_MAX_SERVICES)
			break;
		s = &c->services[c->nservices++];
		memset(s, 0, sizeof(*s));
		COPY(s->type, type);
		if (!jsonread_is_object(daemons))
			continue;
		json_object_object_foreach(daemons, dname, daemon) {
			char status[32], host[96];
			if (++dseen > SCAN_MAX)
				break;
			if (!jsonread_is_object(daemon))	/* e.g. "summary": "" beside the daemons */
				continue;
			s->total++;
			/* A daemon of the real service map carries no status: it is listed while it
			 * reports to the manager, so it runs. */
			COPY(status, jsonread_string(daemon, "status", "running"));
			if (strcasecmp(status, "running") == 0 || strcasecmp(status, "active") == 0) {
				s->running++;
				continue;
			}
			if (noff >= (int)ARRAY_LEN(labels))
				continue;
			COPY(host, jsonread_string(daemon, "hostname", ""));
			if (host[0] == '\0')
				COPY(host, jsonread_string(jsonread_member(daemon, "metadata"), "hostname", ""));
			if (host[0])
				snprintf(labels[noff], sizeof(labels[0]), "%.60s@%s", dname, host);
			else
				snprintf(labels[noff], sizeof(labels[0]), "%.150s", dname);
			offline[noff] = labels[noff];
			noff++;
		}
		offline_message(s, offline, noff);
	}
}

/* The service of that type, or NULL. */
static struct pve_ceph_service *
find_service(struct pve_ceph_cluster *c, const char *type)
{
	for (int i = 0; i < c->nservices; i++)
		if (strcmp(c->services[i].type, type) == 0)
			return &c->services[i];
	return NULL;
}

/* A new, empty service of that type, or NULL when the list is full. */
static struct pve_ceph_service *
add_service(struct pve_ceph_cluster *c, const char *type)
{
	struct pve_ceph_service *s;

	if (c->nservices >= PVE_CEPH_MAX_SERVICES)
		return NULL;
	s = &c->services[c->nservices++];
	memset(s, 0, sizeof(*s));
	COPY(s->type, type);
	return s;
}

/* Monitors, when the service map has none (real clusters register only RGW, rbd-mirror and
 * the like there): monmap.mons are all of them, those named in quorum_names run, the others
 * are offline. Without a monitor list, the quorum alone. */
static void
ceph_monitors(struct pve_ceph_cluster *c, struct json_object *data)
{
	struct json_object *mons = jsonread_member(jsonread_member(data, "monmap"), "mons"), *quorum = jsonread_member(data, "quorum_names");
	struct pve_ceph_service *s;
	const char *offline[64];
	int nmons = scan_len(mons), nquorum = scan_len(quorum), noff = 0;

	if (find_service(c, "mon") != NULL || (nmons == 0 && nquorum == 0))
		return;
	if ((s = add_service(c, "mon")) == NULL)
		return;
	if (nmons == 0) {
		s->total = s->running = nquorum;
		return;
	}
	for (int i = 0; i < nmons && i < SCAN_MAX; i++) {
		const char *name = jsonread_string(json_object_array_get_idx(mons, i), "name", "");
		int in = 0;
		s->total++;
		for (int k = 0; k < nquorum && !in; k++)
			in = strcmp(name, json_object_get_string(json_object_array_get_idx(quorum, k))) == 0;
		if (in)
			s->running++;
		else if (noff < (int)ARRAY_LEN(offline) && name[0] != '\0')
			offline[noff++] = name;
	}
	offline_message(s, offline, noff);
}

/* Managers, when the service map has none: the active one and its standbys (standbys run);
 * the active one is offline when the map says the manager is not available. */
static void
ceph_managers(struct pve_ceph_cluster *c, struct json_object *data)
{
	struct json_object *mgrmap = jsonread_member(data, "mgrmap");
	const char *active = jsonread_string(mgrmap, "active_name", "");
	struct pve_ceph_service *s;
	int standbys = scan_len(jsonread_member(mgrmap, "standbys")), available = 1;

	if (find_service(c, "mgr") != NULL || (active[0] == '\0' && standbys == 0))
		return;
	if ((s = add_service(c, "mgr")) == NULL)
		return;
	s->total = (active[0] != '\0') + standbys;
	s->running = s->total;
	(void)jsonread_value_bool(jsonread_member(mgrmap, "available"), &available);
	if (active[0] != '\0' && !available) {
		s->running--;
		offline_message(s, &active, 1);
	}
}

int
pve_parse_ceph_status(struct json_object *data, struct pve_ceph_cluster *c)
{
	struct json_object *health = jsonread_member(data, "health"), *osdmap = jsonread_member(data, "osdmap"),
	    *pgmap = jsonread_member(data, "pgmap");

	memset(c, 0, sizeof(*c));
	if (!jsonread_is_object(data))
		return -1;
	COPY(c->fsid, jsonread_string(data, "fsid", ""));
	COPY(c->health, jsonread_string(health, "status", ""));
	ceph_health_message(c, health);
	ceph_services(c, jsonread_member(jsonread_member(data, "servicemap"), "services"));
	ceph_monitors(c, data);
	ceph_managers(c, data);
	qsort(c->services, (size_t)c->nservices, sizeof(c->services[0]), cmp_service);
	/* The counts and the Services card tell the same daemons. */
	c->num_mons = find_service(c, "mon") ? find_service(c, "mon")->total : 0;
	c->num_mgrs = find_service(c, "mgr") ? find_service(c, "mgr")->total : 0;
	if (jsonread_is_object(jsonread_member(osdmap, "osdmap")))	/* older Ceph nests it once more */
		osdmap = jsonread_member(osdmap, "osdmap");
	c->num_osds = clamp_int(jsonread_int(osdmap, "num_osds", 0));
	c->num_osds_up = clamp_int(jsonread_int(osdmap, "num_up_osds", 0));
	c->num_osds_in = clamp_int(jsonread_int(osdmap, "num_in_osds", 0));
	c->num_pgs = clamp_int(jsonread_int(pgmap, "num_pgs", 0));
	c->total_bytes = jsonread_int(pgmap, "bytes_total", 0);
	c->used_bytes = jsonread_int(pgmap, "bytes_used", 0);
	c->available_bytes = jsonread_int(pgmap, "bytes_avail", 0);
	c->usage_percent = percent(c->used_bytes, c->total_bytes);
	return 0;
}

int
pve_parse_ceph_df(struct json_object *data, struct pve_ceph_cluster *c)
{
	struct json_object *d = data, *stats, *pools;
	int n;

	if (!jsonread_is_object(jsonread_member(d, "stats")) && !jsonread_is_array(jsonread_member(d, "pools")) && jsonread_is_object(jsonread_member(d, "data")))
		d = jsonread_member(d, "data");
	stats = jsonread_member(d, "stats");
	pools = jsonread_member(d, "pools");
	if (!jsonread_is_object(stats) && !jsonread_is_array(pools))
		return -1;
	if (jsonread_int(stats, "total_bytes", 0) > 0) {
		c->total_bytes = jsonread_int(stats, "total_bytes", 0);
		c->used_bytes = jsonread_int(stats, "total_used_bytes", 0);
		c->available_bytes = jsonread_int(stats, "total_avail_bytes", 0);
		c->usage_percent = percent(c->used_bytes, c->total_bytes);
	}
	c->npools = 0;
	n = scan_len(pools);
	for (int i = 0; i < n && c->npools < PVE_CEPH_MAX_POOLS; i++) {
		struct json_object *p = json_object_array_get_idx(pools, i), *ps = jsonread_member(p, "stats");
		struct pve_ceph_pool *cp = &c->pools[c->npools];

		if (!jsonread_is_object(p))
			continue;
		memset(cp, 0, sizeof(*cp));
		cp->id = jsonread_int(p, "id", 0);
		COPY(cp->name, jsonread_string(p, "name", ""));
		cp->stored_bytes = jsonread_int(ps, "bytes_used", 0);
		cp->available_bytes = jsonread_int(ps, "max_avail", 0);
		cp->objects = jsonread_int(ps, "objects", 0);
		/* Ceph gives a fraction (0..1) since Luminous; the original's client shows it as
		 * a percentage. */
		cp->percent_used = jsonread_number(ps, "percent_used", 0) * 100.0;
		c->npools++;
	}
	return 0;
}

struct json_object *
pve_ceph_cluster_json(const struct pve_ceph_cluster *c, const char *instance, double now)
{
	struct json_object *o = json_object_new_object();
	char *id = c->fsid[0] ? xasprintf("%s-%s", instance ? instance : "", c->fsid) :
	    xstrdup(instance ? instance : "");

	jsonwrite_str(o, "id", id);
	free(id);
	jsonwrite_str(o, "instance", instance);
	jsonwrite_str(o, "name", "Ceph");
	jsonwrite_opt_str(o, "fsid", c->fsid);
	jsonwrite_str(o, "health", c->health);
	jsonwrite_opt_str(o, "healthMessage", c->health_message);
	jsonwrite_int(o, "totalBytes", c->total_bytes);
	jsonwrite_int(o, "usedBytes", c->used_bytes);
	jsonwrite_int(o, "availableBytes", c->available_bytes);
	jsonwrite_num(o, "usagePercent", c->usage_percent);
	jsonwrite_int(o, "numMons", c->num_mons);
	jsonwrite_int(o, "numMgrs", c->num_mgrs);
	jsonwrite_int(o, "numOsds", c->num_osds);
	jsonwrite_int(o, "numOsdsUp", c->num_osds_up);
	jsonwrite_int(o, "numOsdsIn", c->num_osds_in);
	jsonwrite_int(o, "numPGs", c->num_pgs);
	if (c->npools > 0) {
		struct json_object *pools = json_object_new_array();
		for (int i = 0; i < c->npools; i++) {
			const struct pve_ceph_pool *p = &c->pools[i];
			struct json_object *po = json_object_new_object();
			jsonwrite_int(po, "id", p->id);
			jsonwrite_str(po, "name", p->name);
			jsonwrite_int(po, "storedBytes", p->stored_bytes);
			jsonwrite_int(po, "availableBytes", p->available_bytes);
			jsonwrite_int(po, "objects", p->objects);
			jsonwrite_num(po, "percentUsed", p->percent_used);
			json_object_array_add(pools, po);
		}
		json_object_object_add(o, "pools", pools);
	}
	if (c->nservices > 0) {
		struct json_object *services = json_object_new_array();
		for (int i = 0; i < c->nservices; i++) {
			const struct pve_ceph_service *s = &c->services[i];
			struct json_object *so = json_object_new_object();
			jsonwrite_str(so, "type", s->type);
			jsonwrite_int(so, "running", s->running);
			jsonwrite_int(so, "total", s->total);
			jsonwrite_opt_str(so, "message", s->message);
			json_object_array_add(services, so);
		}
		json_object_object_add(o, "services", services);
	}
	jsonwrite_int(o, "lastUpdated", timefmt_unix_ms(now));
	return o;
}

/* --- replication -------------------------------------------------------------------------------- */

/* parseReplicationTime: unix seconds as a number or numeric string, or a date in RFC 3339,
 * "YYYY-MM-DD HH:MM:SS[ zone]" or "YYYY-MM-DDTHH:MM:SS" (zoneless dates read as UTC). Returns
 * the unix time, or 0 for none. */
static int64_t
parse_time_text(const char *raw)
{
	char s[64];
	struct tm tm;
	const char *p;
	int64_t v, t;
	int sign = 0, zh = 0, zm = 0;

	jsonread_copy_trimmed(s, sizeof(s), raw);
	if (s[0] == '\0' || strcasecmp(s, "n/a") == 0 || strcasecmp(s, "pending") == 0 ||
	    strcmp(s, "-") == 0)
		return 0;
	if (parse_int64(s, INT64_MIN, INT64_MAX, &v) == 0)
		return v > 0 ? v : 0;
	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%d", &tm);
	if (p == NULL || (*p != 'T' && *p != ' '))
		return 0;
	p = strptime(p + 1, "%H:%M:%S", &tm);
	if (p == NULL)
		return 0;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	while (*p == ' ')
		p++;
	if (*p == 'Z' && p[1] == '\0') {
		p++;
	} else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2])) {
		sign = *p == '+' ? 1 : -1;
		zh = (p[1] - '0') * 10 + (p[2] - '0');
		p += 3;
		if (*p == ':')
			p++;
		if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])) {
			zm = (p[0] - '0') * 10 + (p[1] - '0');
			p += 2;
		}
	} else {
		while (isalpha((unsigned char)*p))	/* a zone abbreviation, read as UTC */
			p++;
	}
	if (*p != '\0')
		return 0;
	t = (int64_t)timegm(&tm) - sign * (zh * 3600 + zm * 60);
	return t > 0 ? t : 0;
}

static int64_t
parse_time(struct json_object *v)
{
	int64_t t;

	if (v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_string))
		return parse_time_text(json_object_get_string(v));
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		return jsonread_value_int(v, &t) && t > 0 ? t : 0;
	return 0;
}

/* parseDurationSeconds: seconds as a number or text, or "HH:MM:SS"/"MM:SS". Returns the
 * seconds (0: none) and writes the text the original keeps. */
static int64_t
parse_duration(struct json_object *v, char *human, size_t len)
{
	char s[64], *end;
	int64_t secs;
	double d;

	human[0] = '\0';
	if (v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		if (!jsonread_value_int(v, &secs) || json_object_get_double(v) < 0)
			return 0;
		jsonread_value_text(v, human, len);
		return secs;
	}
	if (!json_object_is_type(v, json_type_string))
		return 0;
	jsonread_copy_trimmed(s, sizeof(s), json_object_get_string(v));
	if (s[0] == '\0')
		return 0;
	if (strchr(s, ':') != NULL) {
		int64_t parts[3], total = 0;
		int n = 0, ok = 1;
		char copy[64], *tok, *save = NULL;
		static const int64_t mult[] = {3600, 60, 1};

		snprintf(copy, sizeof(copy), "%s", s);
		for (const char *q = s; *q; q++)
			n += *q == ':';
		n++;
		if (n == 2 || n == 3) {
			int i = 0;
			for (tok = strtok_r(copy, ":", &save); tok && i < 3;
			    tok = strtok_r(NULL, ":", &save)) {
				char part[24];
				COPY(part, tok);
				if (part[0] == '\0' || parse_int64(part, -100000000, 100000000,
				    &parts[i]) != 0)
					ok = 0;
				i++;
			}
			if (i != n)	/* an empty part ("1::2") */
				ok = 0;
			for (int k = 0; ok && k < n; k++)
				total += parts[k] * mult[3 - n + k];
			if (ok) {
				jsonread_copy_trimmed(human, len, s);
				return total;
			}
		}
	}
	d = strtod(s, &end);
	if (*end == '\0' && isfinite(d) && d >= 0 && d < 9.2e18) {
		jsonread_copy_trimmed(human, len, s);
		return (int64_t)llround(d);
	}
	return 0;
}

int
pve_parse_replication(struct json_object *data, struct pve_replication_job *out, int max)
{
	int n = 0, len = jsonread_is_object(data) ? 1 : scan_len(data);

	for (int i = 0; i < len && n < max; i++) {
		/* GET /cluster/replication/{id} answers one object: read it as a list of one. */
		struct json_object *e = jsonread_is_object(data) ? data : json_object_array_get_idx(data, i);
		struct pve_replication_job *j = &out[n];
		char human[32];
		int64_t secs, v;
		int b;
		double rate;

		if (!jsonread_is_object(e))
			continue;
		memset(j, 0, sizeof(*j));
		j->enabled = 1;
		jsonread_value_text(jsonread_member(e, "id"), j->id, sizeof(j->id));
		if (j->id[0] == '\0')
			jsonread_value_text(jsonread_member(e, "jobid"), j->id, sizeof(j->id));
		jsonread_value_text(jsonread_member(e, "guest"), j->guest, sizeof(j->guest));
		if (jsonread_value_int(jsonread_member(e, "guest"), &v))
			j->guest_id = v;
		if (jsonread_value_int(jsonread_member(e, "jobnum"), &v)) {
			j->job_number = v;
		} else {
			const char *dash = strchr(j->id, '-');
			if (dash != NULL && strchr(dash + 1, '-') == NULL &&
			    parse_int64(dash + 1, INT64_MIN, INT64_MAX, &v) == 0)
				j->job_number = v;
		}
		jsonread_value_text(jsonread_member(e, "source"), j->source, sizeof(j->source));
		jsonread_value_text(JSONREAD_FIRST(e, "source-storage", "source_storage"), j->source_storage,
		    sizeof(j->source_storage));
		jsonread_value_text(jsonread_member(e, "target"), j->target, sizeof(j->target));
		jsonread_value_text(JSONREAD_FIRST(e, "target-storage", "target_storage"), j->target_storage,
		    sizeof(j->target_storage));
		jsonread_value_text(jsonread_member(e, "schedule"), j->schedule, sizeof(j->schedule));
		jsonread_value_text(jsonread_member(e, "type"), j->type, sizeof(j->type));
		jsonread_value_text(jsonread_member(e, "comment"), j->comment, sizeof(j->comment));
		jsonread_value_text(JSONREAD_FIRST(e, "remove_job", "remove-job"), j->remove_job, sizeof(j->remove_job));
		if (jsonread_value_bool(jsonread_member(e, "enabled"), &b))
			j->enabled = b;
		if (jsonread_value_bool(jsonread_member(e, "disable"), &b) && b)
			j->enabled = 0;
		if (jsonread_value_bool(jsonread_member(e, "active"), &b) && !b)
			j->enabled = 0;
		jsonread_value_text(jsonread_member(e, "state"), j->state, sizeof(j->state));
		jsonread_value_text(jsonread_member(e, "status"), j->status, sizeof(j->status));
		if (j->status[0] == '\0')
			COPY(j->status, j->state);
		jsonread_value_text(JSONREAD_FIRST(e, "last_sync_status", "last-sync-status", "last_sync_state",
		    "last-sync-state"), j->last_sync_status, sizeof(j->last_sync_status));
		jsonread_value_text(jsonread_member(e, "error"), j->error, sizeof(j->error));
		if (j->error[0] == '\0')
			jsonread_value_text(jsonread_member(e, "last_sync_error"), j->error, sizeof(j->error));
		if (jsonread_value_int(JSONREAD_FIRST(e, "fail_count", "fail-count"), &v))
			j->fail_count = v;
		if ((secs = parse_duration(jsonread_member(e, "last_sync_duration"), human, sizeof(human))) > 0 ||
		    (secs = parse_duration(JSONREAD_FIRST(e, "last-sync-duration", "last_sync_duration_sec"),
		    human, sizeof(human))) > 0) {
			j->last_sync_duration_seconds = secs;
			COPY(j->last_sync_duration_human, human);
		}
		if ((secs = parse_duration(jsonread_member(e, "duration"), human, sizeof(human))) > 0) {
			j->duration_seconds = secs;
			COPY(j->duration_human, human);
		}
		j->last_sync_unix = parse_time(jsonread_member(e, "last_sync"));
		if (j->last_sync_unix == 0)
			j->last_sync_unix = parse_time(JSONREAD_FIRST(e, "last-sync", "last_sync_time"));
		j->next_sync_unix = parse_time(jsonread_member(e, "next_sync"));
		if (j->next_sync_unix == 0)
			j->next_sync_unix = parse_time(JSONREAD_FIRST(e, "next-sync", "next_sync_time"));
		if (jsonread_value_number(jsonread_member(e, "rate"), &rate)) {
			j->has_rate = 1;
			j->rate_limit_mbps = rate;
		}
		n++;
	}
	return n;
}

const char *
pve_replication_status_node(const struct pve_replication_job *job)
{
	return job->source[0] ? job->source : NULL;
}

int
pve_replication_apply_status(struct pve_replication_job *job, struct json_object *data)
{
	struct json_object *s = data;
	char state[64], err[512], human[32];
	int64_t t, v;

	if (jsonread_is_array(data))
		s = json_object_array_length(data) > 0 ? json_object_array_get_idx(data, 0) : NULL;
	if (!jsonread_is_object(s) || json_object_object_length(s) == 0)
		return -1;
	if ((t = parse_time(jsonread_member(s, "last_sync"))) > 0)
		job->last_sync_unix = t;
	if ((t = parse_time(jsonread_member(s, "next_sync"))) > 0)
		job->next_sync_unix = t;
	if (jsonread_value_int(jsonread_member(s, "fail_count"), &v))
		job->fail_count = v;
	if ((v = parse_duration(jsonread_member(s, "duration"), human, sizeof(human))) > 0) {
		/* The original takes the seconds only, not the text. */
		job->duration_seconds = v;
		job->last_sync_duration_seconds = v;
	}
	jsonread_value_text(jsonread_member(s, "state"), state, sizeof(state));
	if (state[0]) {
		COPY(job->state, state);
		if (job->status[0] == '\0')
			COPY(job->status, state);
	}
	jsonread_value_text(jsonread_member(s, "error"), err, sizeof(err));
	if (err[0])
		COPY(job->error, err);
	return 0;
}

static void
format_hms(int64_t total, char *out, size_t len)
{
	if (total <= 0 || total > INT64_C(3600) * 100000000) {
		out[0] = '\0';
		return;
	}
	snprintf(out, len, "%02lld:%02lld:%02lld", (long long)(total / 3600),
	    (long long)(total % 3600 / 60), (long long)(total % 60));
}

void
pve_replication_resolve(struct pve_replication_job *job, const char *instance, int index,
    const char *guest_name, const char *guest_type, const char *guest_node)
{
	char buf[240];
	int64_t v;

	COPY(job->instance, instance ? instance : "");
	if (job->guest_id == 0 && parse_int64(job->guest, INT64_MIN, INT64_MAX, &v) == 0)
		job->guest_id = v;
	job->guest_name[0] = job->guest_type[0] = job->guest_node[0] = '\0';
	if (job->guest_id > 0) {
		COPY(job->guest_name, guest_name ? guest_name : "");
		COPY(job->guest_type, guest_type ? guest_type : "");
		COPY(job->guest_node, guest_node ? guest_node : "");
	}
	if (job->guest_node[0] == '\0')
		COPY(job->guest_node, job->source);
	COPY(job->source_node, job->source[0] ? job->source : job->guest_node);
	COPY(job->target_node, job->target);
	if (job->status[0] == '\0')
		COPY(job->status, job->state);
	if (job->last_sync_duration_human[0] == '\0')
		format_hms(job->last_sync_duration_seconds, job->last_sync_duration_human,
		    sizeof(job->last_sync_duration_human));
	if (job->duration_human[0] == '\0')
		format_hms(job->duration_seconds, job->duration_human, sizeof(job->duration_human));
	if (job->id[0])
		snprintf(buf, sizeof(buf), "%s", job->id);
	else if (job->job_number > 0 && job->guest_id > 0)
		snprintf(buf, sizeof(buf), "%lld-%lld", (long long)job->guest_id,
		    (long long)job->job_number);
	else
		snprintf(buf, sizeof(buf), "job-%.180s-%d", job->instance, index);
	COPY(job->job_id, buf);
	snprintf(buf, sizeof(buf), "%.128s-%.96s", job->instance, job->job_id);
	COPY(job->unique_id, buf);
}

static int
cmp_job(const void *a, const void *b)
{
	const struct pve_replication_job *x = a, *y = b;
	int c;

	if ((c = strcmp(x->instance, y->instance)) != 0)
		return c;
	if (x->guest_id != y->guest_id)
		return x->guest_id < y->guest_id ? -1 : 1;
	if (x->job_number != y->job_number)
		return x->job_number < y->job_number ? -1 : 1;
	if ((c = strcmp(x->job_id, y->job_id)) != 0)
		return c;
	return strcmp(x->unique_id, y->unique_id);
}

void
pve_replication_sort(struct pve_replication_job *jobs, int n)
{
	if (n > 1)
		qsort(jobs, (size_t)n, sizeof(jobs[0]), cmp_job);
}

struct json_object *
pve_replication_job_json(const struct pve_replication_job *j, double now)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_str(o, "id", j->unique_id);
	jsonwrite_str(o, "instance", j->instance);
	jsonwrite_str(o, "jobId", j->job_id);
	jsonwrite_opt_int(o, "jobNumber", j->job_number);
	jsonwrite_opt_str(o, "guest", j->guest);
	jsonwrite_opt_int(o, "guestId", j->guest_id);
	jsonwrite_opt_str(o, "guestName", j->guest_name);
	jsonwrite_opt_str(o, "guestType", j->guest_type);
	jsonwrite_opt_str(o, "guestNode", j->guest_node);
	jsonwrite_opt_str(o, "sourceNode", j->source_node);
	jsonwrite_opt_str(o, "sourceStorage", j->source_storage);
	jsonwrite_opt_str(o, "targetNode", j->target_node);
	jsonwrite_opt_str(o, "targetStorage", j->target_storage);
	jsonwrite_opt_str(o, "schedule", j->schedule);
	jsonwrite_opt_str(o, "type", j->type);
	jsonwrite_bool(o, "enabled", j->enabled);
	jsonwrite_opt_str(o, "state", j->state);
	jsonwrite_opt_str(o, "status", j->status);
	jsonwrite_opt_str(o, "lastSyncStatus", j->last_sync_status);
	jsonwrite_opt_int(o, "lastSyncTime", timefmt_ms_from_seconds(j->last_sync_unix));
	jsonwrite_opt_int(o, "lastSyncUnix", j->last_sync_unix);
	jsonwrite_opt_int(o, "lastSyncDurationSeconds", j->last_sync_duration_seconds);
	jsonwrite_opt_str(o, "lastSyncDurationHuman", j->last_sync_duration_human);
	jsonwrite_opt_int(o, "nextSyncTime", timefmt_ms_from_seconds(j->next_sync_unix));
	jsonwrite_opt_int(o, "nextSyncUnix", j->next_sync_unix);
	jsonwrite_opt_int(o, "durationSeconds", j->duration_seconds);
	jsonwrite_opt_str(o, "durationHuman", j->duration_human);
	jsonwrite_opt_int(o, "failCount", j->fail_count);
	jsonwrite_opt_str(o, "error", j->error);
	jsonwrite_opt_str(o, "comment", j->comment);
	jsonwrite_opt_str(o, "removeJob", j->remove_job);
	if (j->has_rate)
		jsonwrite_num(o, "rateLimitMbps", j->rate_limit_mbps);
	jsonwrite_int(o, "polledAt", isfinite(now) && now > 0 && now < 9e15 ? (int64_t)(now * 1000) : 0);
	return o;
}
