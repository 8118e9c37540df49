/* pve_container.c: tolerant parsers and JSON of PVE container status, config and interfaces. */
#include "config.h"

#include "pve_detail.h"
#include "pve_detail_int.h"
#include "jsonread.h"
#include "jsonwrite.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
		pve_net_strip_prefix(word);
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
		pve_net_add_unique(s->list, s->n, s->max, ip);
	if (s->guest != NULL)
		pve_net_add_unique(s->guest->ips, &s->guest->nips, PVE_NET_MAX_IPS, ip);
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
		pve_net_add_unique(t->addrs, &t->naddrs, PVE_NET_MAX_ADDRS, d->addrs[k]);
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
/* The next "key=value" option of a Proxmox property string ("a,k1=v1,k2=v2"), as strtok_r
 * walks it (s the string on the first call, NULL after): its key lower-cased into k, its value
 * returned; options without "=" are skipped; NULL at the end. */
static char *
next_option(char *s, char **save, char *k, size_t klen)
{
	char *part;

	while ((part = strtok_r(s, ",", save)) != NULL) {
		char *eq = strchr(part, '=');

		s = NULL;
		if (eq == NULL)
			continue;
		*eq = '\0';
		jsonread_copy_trimmed(k, klen, part);
		lower_ascii(k);
		return eq + 1;
	}
	return NULL;
}

static void
read_mounts(struct pve_ct_detail *ct, struct json_object *config)
{
	int seen = 0;

	json_object_object_foreach(config, rawkey, rawval) {
		char key[16], value[1024], k[32], *v, *save = NULL;
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
		(void)strtok_r(value, ",", &save);	/* the source */
		while ((v = next_option(NULL, &save, k, sizeof(k))) != NULL)
			if (strcmp(k, "mp") == 0 || strcmp(k, "mountpoint") == 0)
				COPY(ct->mounts[slot].mountpoint, v);
		if (ct->mounts[slot].mountpoint[0] == '\0' && strcmp(key, "rootfs") == 0)
			COPY(ct->mounts[slot].mountpoint, "/");
	}
}

/* netN: "name=eth0,bridge=vmbr0,hwaddr=BC:24:..,ip=10.0.0.5/24,ip6=..,type=veth". */
static void
read_config_net(struct pve_ct_detail *ct, const char *key, struct json_object *val)
{
	char value[2048], k[32], *v, *save = NULL;
	struct pve_guest_iface d;
	struct addr_sink sink = {d.addrs, &d.naddrs, PVE_NET_MAX_ADDRS, NULL};

	jsonread_value_text(val, value, sizeof(value));
	if (value[0] == '\0')
		return;
	memset(&d, 0, sizeof(d));
	for (v = next_option(value, &save, k, sizeof(k)); v; v = next_option(NULL, &save, k, sizeof(k))) {
		if (strcmp(k, "name") == 0) {
			COPY(d.name, v);
		} else if (strcmp(k, "hwaddr") == 0 || strcmp(k, "mac") == 0 ||
		    strcmp(k, "macaddr") == 0) {
			COPY(d.mac, v);
			for (char *c = d.mac; *c; c++)
				*c = (char)toupper((unsigned char)*c);
		} else if (strcmp(k, "ip") == 0 || strcmp(k, "ip6") == 0 || strcmp(k, "ips") == 0 ||
		    strcmp(k, "ip6addr") == 0 || strcmp(k, "ip6prefix") == 0) {
			sanitize_addresses(v, sink_add, &sink);
		}
	}
	if (d.name[0] == '\0')
		COPY(d.name, key);
	if (strcmp(d.name, "lo") == 0)
		return;
	for (int i = 0; i < d.naddrs; i++)
		pve_net_add_unique(ct->net.ips, &ct->net.nips, PVE_NET_MAX_IPS, d.addrs[i]);
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
			pve_net_strip_prefix(ip);
			sanitize_addresses(ip, sink_add, &sink);
		}
		if (d.naddrs == 0)	/* "inet": "192.168.3.95/22", words separated by blanks */
			sanitize_addresses(jsonread_string(o, "inet", ""), sink_add, &sink);
		if (strcmp(d.name, "lo") == 0)
			continue;
		for (int k = 0; k < d.naddrs; k++)
			pve_net_add_unique(net->ips, &net->nips, PVE_NET_MAX_IPS, d.addrs[k]);
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
	pve_net_sort_ifaces(net);
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
	pve_net_sort_ifaces(&ct->net);
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

