/* fuzz_parsers.c: libFuzzer target over the parsers that face the network: JSON bodies,
 * percent-decoding of paths and queries, base64 (Basic auth, keys), addresses and CIDR
 * ranges (forwarded headers), sizes and integers, the Proxmox answers and their detail (guest
 * agent, containers, disks, ZFS, Ceph, replication) with the JSON built from them, and webhook
 * payload templates (a user's text, run over a small alert), and the alert configuration a
 * PUT /api/alerts/config carries (read, normalised, written back). The first byte picks the
 * parser: 0xF0 and above the later ones, below that the first eight by its value mod 8. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alert_config.h"
#include "arena.h"
#include "crypto.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "netaddr.h"
#include "notify_template.h"
#include "pbs.h"
#include "pmg.h"
#include "proxmox.h"
#include "pve.h"
#include "pve_detail.h"
#include "uri.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The PVE backup parsers and the PBS and PMG parsers over one answer's data. */
static void
fuzz_backup_parsers(struct json_object *d)
{
	static struct pve_task tasks[16];
	static struct pve_content content[16];
	static struct pve_snapshot snaps[16];
	static struct pbs_datastore_item stores[16];
	static struct pbs_namespace_item ns[16];
	static struct pbs_group groups[16];
	static struct pbs_snapshot psnaps[16];
	static struct pmg_cluster_node cnodes[16];
	static struct pmg_backup_item backups[16];
	static struct pmg_counts counts[16];
	static struct pmg_spam_score scores[16];
	struct pbs_node_status pns;
	struct pbs_ds_status dss;
	struct pmg_queue q;
	char version[64];
	int64_t count;

	(void)pve_parse_tasks(d, tasks, 16);
	(void)pve_parse_content(d, content, 16);
	(void)pve_parse_snapshots(d, snaps, 16);
	(void)pbs_parse_version(d, version, sizeof(version));
	(void)pbs_parse_node_status(d, &pns);
	(void)pbs_parse_datastores(d, stores, 16);
	(void)pbs_parse_ds_status(d, &dss);
	(void)pbs_gc_dedup(d);
	(void)pbs_parse_namespaces(d, ns, 16);
	(void)pbs_parse_groups(d, groups, 16);
	(void)pbs_parse_snapshots(d, psnaps, 16);
	(void)pmg_parse_cluster(d, cnodes, 16);
	(void)pmg_parse_queue(d, &q);
	(void)pmg_parse_backups(d, backups, 16);
	(void)pmg_parse_mail_stats(d, &counts[0]);
	(void)pmg_parse_mail_count(d, counts, 16);
	(void)pmg_parse_spam_scores(d, scores, 16);
	(void)pmg_parse_quarantine(d, &count);
}

/* Every detail parser over one data value, then the JSON of what each kept. */
static void
fuzz_detail(struct json_object *d)
{
	static struct pve_guest_net net;
	static struct pve_ct_detail ct;
	static struct pve_physical_disk disks[16];
	static struct pve_zfs_pool pools[4];
	static struct pve_ceph_cluster ceph;
	static struct pve_replication_job jobs[16];
	struct pve_agent_osinfo os;
	struct json_object *out = json_object_new_object();
	char version[64];
	int n;

	if (pve_parse_agent_network(d, &net) >= 0)
		json_object_put(pve_guest_net_ifaces_json(&net));
	(void)pve_parse_agent_osinfo(d, &os);
	(void)pve_parse_agent_info(d, version, sizeof(version));
	pve_ct_init(&ct);
	(void)pve_ct_apply_status(&ct, d);
	(void)pve_ct_apply_config(&ct, d);
	if (pve_ct_wants_interfaces(&ct))
		(void)pve_ct_apply_interfaces(&ct, d);
	pve_ct_finish(&ct, 1000, 10, 1);
	json_object_put(pve_guest_net_ifaces_json(&ct.net));
	(void)pve_parse_ct_interfaces(d, &net);
	n = pve_parse_disks_list(d, disks, 16);
	for (int i = 0; i < n; i++)
		json_object_put(pve_physical_disk_json(&disks[i], "i", "n", 1700000000.5));
	n = pve_parse_zfs_list(d, pools, 4);
	if (n == 0) {
		memset(&pools[0], 0, sizeof(pools[0]));
		n = 1;
	}
	(void)pve_parse_zfs_detail(d, &pools[0]);
	(void)pve_zfs_pool_for_storage("rpool", "zfspool", pools, n);
	json_object_put(pve_zfs_pool_json(&pools[0]));
	for (int i = 0; i < 4; i++)
		free(pools[i].devices);	/* the devices array grows with the parse */
	memset(pools, 0, sizeof(pools));
	(void)pve_parse_ceph_status(d, &ceph);
	(void)pve_parse_ceph_df(d, &ceph);
	json_object_put(pve_ceph_cluster_json(&ceph, "i", 1700000000));
	n = pve_parse_replication(d, jobs, 16);
	for (int i = 0; i < n; i++) {
		(void)pve_replication_apply_status(&jobs[i], d);
		pve_replication_resolve(&jobs[i], "i", i, "g", "qemu", NULL);
	}
	pve_replication_sort(jobs, n);
	for (int i = 0; i < n; i++)
		json_object_put(pve_replication_job_json(&jobs[i], 1700000000));
	(void)jsonutil_to_string(out, NULL);
	json_object_put(out);
}

/* Parses text as a webhook template and runs it over a small alert, with and without JSON
 * escaping. */
static void
fuzz_template(const char *text)
{
	static struct tpl_value *alert;
	struct strbuf out = {0};
	char err[TPL_ERR_LEN];

	if (alert == NULL) {
		struct tpl_value *list;

		alert = tpl_map_new();
		tpl_map_str(alert, "Level", "warning");
		tpl_map_str(alert, "Message", "a \"b\"\n");
		tpl_map_num(alert, "Value", 85.25);
		tpl_map_bool(alert, "Acknowledged", 1);
		tpl_map_str(tpl_map_map(alert, "CustomFields"), "k", "v");
		list = tpl_map_list(alert, "Alerts");
		for (int i = 0; i < 3; i++)
			tpl_map_str(tpl_list_map(list), "ResourceName", "r");
	}
	notify_template_render(text, alert, 0, &out, err, sizeof(err));
	sb_reset(&out);
	notify_template_render(text, alert, TPL_ESCAPE_JSON, &out, err, sizeof(err));
	sb_free(&out);
}

/* An alert configuration body over the defaults and over a configuration already read from
 * the same text (the PUT path: decode onto the current one, normalise, encode). */
static void
fuzz_alert_config(const char *buf, size_t len)
{
	struct alert_config cur, next;
	struct json_object *o, *out;
	char err[256];

	o = jsonutil_parse(buf, len, err, sizeof(err));
	if (o == NULL)
		return;
	alert_config_defaults(&cur);
	if (alert_config_from_json(o, NULL, &next, err, sizeof(err)) == 0) {
		alert_config_normalize(&next, 1767225600.0);
		out = alert_config_to_json(&next);
		json_object_put(out);
		alert_config_free(&cur);
		cur = next;
		if (alert_config_from_json(o, &cur, &next, err, sizeof(err)) == 0) {
			alert_config_normalize(&next, 1767225600.0);
			alert_config_free(&next);
		}
	}
	alert_config_free(&cur);
	json_object_put(o);
}

/* The parsers added after the first eight: selector is the first byte's low nibble. */
static void
fuzz_later(int which, const char *buf, size_t len)
{
	switch (which) {
	case 0:
		fuzz_alert_config(buf, len);
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *arena;
	char err[160], *text;
	int64_t n;

	if (size < 1)
		return 0;
	if (arena == NULL)
		arena = arena_new();
	text = arena_strndup(arena, (const char *)data + 1, size - 1);
	if (data[0] >= 0xF0) {
		fuzz_later(data[0] & 0x0F, (const char *)data + 1, size - 1);
		arena_clear(arena);
		return 0;
	}
	switch (data[0] % 8) {
	case 0: {
		struct json_object *o = jsonutil_parse((const char *)data + 1, size - 1, err, sizeof(err));
		if (o) {
			const char *s;
			int64_t i;
			double d;
			int b;
			(void)jsonutil_get_string(o, "username", &s);
			(void)jsonutil_get_int(o, "duration", 1, 60, &i);
			(void)jsonutil_get_double(o, "value", &d);
			(void)jsonutil_get_bool(o, "force", &b);
			(void)jsonutil_to_string(o, NULL);
			json_object_put(o);
		}
		break;
	}
	case 1:
		(void)uri_decode(arena, text, strlen(text), data[0] & 8);
		break;
	case 2: {
		unsigned char *raw;
		size_t len;
		if (base64_decode(text, &raw, &len) == 0)
			free(raw);
		break;
	}
	case 3: {
		struct cidr *list;
		int count;
		struct ipaddr ip;
		(void)cidr_list_parse(text, &list, &count);
		if (ip_parse(text, &ip) == 0)
			(void)cidr_list_contains(list, count, &ip);
		free(list);
		break;
	}
	case 4:
		(void)parse_size(text, &n);
		(void)parse_int64(text, INT64_MIN, INT64_MAX, &n);
		break;
	case 6: {
		/* A Proxmox answer: the envelope, then every parser over its data. */
		struct json_object *o = jsonutil_parse((const char *)data + 1, size - 1, err, sizeof(err));
		if (o) {
			static struct pve_node_item nodes[64];
			static struct pve_guest_item guests[64];
			static struct pve_storage_item storage[64];
			static struct pve_fs fs[16];
			struct pve_node_status ns;
			struct pve_vm_status vs;
			struct json_object *d = NULL;
			double last;
			if (!json_object_object_get_ex(o, "data", &d))
				d = o;
			(void)pve_parse_nodes(d, nodes, 64);
			(void)pve_parse_guests(d, guests, 64, arena);
			(void)pve_parse_storage(d, storage, 64);
			(void)pve_parse_fsinfo(d, fs, 16);
			(void)pve_parse_node_status(d, &ns);
			(void)pve_parse_vm_status(d, &vs);
			(void)proxmox_rrd_last(d, "memavailable", &last);
			(void)jsonread_number(d, "cpu", 0);
			fuzz_backup_parsers(d);
			fuzz_detail(d);
			json_object_put(o);
		}
		break;
	}
	case 5: {
		char buf[64];
		double d;
		if (size - 1 >= sizeof(d)) {
			memcpy(&d, data + 1, sizeof(d));
			jsonutil_format_double(d, buf, sizeof(buf));
		}
		break;
	}
	case 7:
		fuzz_template(text);
		break;
	}
	arena_clear(arena);
	return 0;
}
