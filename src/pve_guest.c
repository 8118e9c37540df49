/* pve_guest.c: tolerant parsers and JSON of a guest agent's network interfaces, OS and version. */
#include "config.h"

#include "pve_detail.h"
#include "pve_detail_int.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Appends s to a list of fixed-size strings unless it is there already or the list is full. */
void
pve_net_add_unique(char (*list)[PVE_NET_ADDR_LEN], int *n, int max, const char *s)
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

/* Cuts an address at its prefix length or zone ("10.0.0.5/24", "fe80::1%eth0"). */
void
pve_net_strip_prefix(char *ip)
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
void
pve_net_sort_ifaces(struct pve_guest_net *net)
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
			pve_net_strip_prefix(ip);
			if (ip[0] == '\0' || is_loopback_or_link_local(ip))
				continue;
			pve_net_add_unique(it->addrs, &it->naddrs, PVE_NET_MAX_ADDRS, ip);
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
	pve_net_sort_ifaces(net);
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
