/* test_pve_detail.c: the detail parsers against the recorded PVE 7, 8 and 9 responses, their
 * JSON, and input of every wrong shape. The recordings are required: without them this fails. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"
#include "jsonutil.h"
#include "pve_detail.h"
#include "tap.h"
#include "util.h"

static struct json_object *
parse(const char *text)
{
	char err[160];
	struct json_object *o = jsonutil_parse(text, strlen(text), err, sizeof(err));

	if (o == NULL && strcmp(text, "null") != 0)	/* JSON null is json-c's NULL */
		printf("# test JSON does not parse: %s\n", err);
	return o;
}

/* Compact JSON of o, which is put; the text stays valid until the next call. */
static const char *
text_of(struct json_object *o)
{
	static char buf[16384];

	if (o == NULL)
		return "(null)";
	snprintf(buf, sizeof(buf), "%s", jsonutil_to_string(o, NULL));
	json_object_put(o);
	return buf;
}

static int
near(double a, double b)
{
	return fabs(a - b) < 1e-9 * (fabs(b) > 1 ? fabs(b) : 1);
}

static int
valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 :
		    (*p & 0xF8) == 0xF0 ? 3 : -1;
		if (n < 0)
			return 0;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xC0) != 0x80)
				return 0;
	}
	return 1;
}

/* --- guest agent ------------------------------------------------------------------------- */

static void
test_agent_recorded(void)
{
	static const char *const versions[][2] = {{"pve7x", "5.2.0"}, {"pve8x", "6.2.0"},
	    {"pve9x", "7.2.0"}};
	struct pve_guest_net *net = xcalloc(1, sizeof(*net));
	struct pve_agent_osinfo os;
	struct json_object *root;
	char version[64];

	for (size_t i = 0; i < ARRAY_LEN(versions); i++) {
		if ((root = load(versions[i][0], "nodes/node1/qemu/101/agent/info.json")) == NULL)
			continue;
		is_int(pve_parse_agent_info(data_of(root), version, sizeof(version)), 0,
		    "%s agent info: found", versions[i][0]);
		is_str(version, versions[i][1], "%s agent info: version", versions[i][0]);
		json_object_put(root);
	}

	if ((root = load("pve9x", "nodes/node1/qemu/101/agent/network-get-interfaces.json")) != NULL) {
		struct json_object *raw = NULL, *eth0;
		json_object_object_get_ex(data_of(root), "result", &raw);
		eth0 = json_object_array_get_idx(raw, 1);
		is_int(pve_parse_agent_network(data_of(root), net), 1, "pve9x agent network: lo dropped, eth0 kept");
		is_str(net->ifaces[0].name, json_object_get_string(json_object_object_get(eth0, "name")),
		    "pve9x agent network: name as recorded");
		is_str(net->ifaces[0].mac, json_object_get_string(json_object_object_get(eth0,
		    "hardware-address")), "pve9x agent network: mac as recorded");
		is_int(net->ifaces[0].naddrs, 1, "pve9x agent network: one address");
		is_str(net->ifaces[0].addrs[0], "10.0.0.10", "pve9x agent network: address without prefix");
		is_int(net->nips, 1, "pve9x agent network: one guest IP");
		is_str(text_of(pve_guest_net_ifaces_json(net)),
		    "[{\"name\":\"eth0\",\"mac\":\"BC:24:11:2E:C5:4A\",\"addresses\":[\"10.0.0.10\"]}]",
		    "pve9x agent network: networkInterfaces JSON (no counters recorded: omitted)");
		is_str(net->ips[0], "10.0.0.10", "pve9x agent network: ipAddresses");
		json_object_put(root);
	}

	if ((root = load("pve9x", "nodes/node1/qemu/101/agent/get-osinfo.json")) != NULL) {
		is_int(pve_parse_agent_osinfo(data_of(root), &os), 0, "pve9x osinfo: parsed");
		is_str(os.name, "Debian GNU/Linux", "pve9x osinfo: osName is name");
		is_str(os.version, "12 (bookworm)", "pve9x osinfo: osVersion is version");
		json_object_put(root);
	}
	free(net);
}

static void
test_agent_tolerant(void)
{
	struct pve_guest_net *net = xcalloc(1, sizeof(*net));
	struct pve_agent_osinfo os;
	struct json_object *o;
	char v[32];

	o = parse("{\"result\":[7,null,{\"name\":\"lo\",\"ip-addresses\":[{\"ip-address\":\"10.9.9.9\"}]},"
	    "{\"name\":\" eth1 \",\"hardware-address\":\"aa:bb\",\"statistics\":{\"rx-bytes\":\"123\",\"tx-bytes\":4.9},"
	    "\"ip-addresses\":[{\"ip-address\":\"2001:db8::5/64\"},{\"ip-address\":\"fe80::1\"},{\"ip-address\":\"::1\"},"
	    "{\"ip-address\":\"192.168.1.9\"},{\"ip-address\":\"192.168.1.9\"},{\"ip-address\":null},{\"ip-address\":\"127.0.1.1\"},5]},"
	    "{\"name\":\"eth0\",\"ip-addresses\":{\"ip-address\":\"1.2.3.4\"},\"statistics\":{\"rx-bytes\":1}},"
	    "{\"name\":\"tun0\",\"ip-addresses\":[{\"ip-address\":\"FE80::2\"}]},"
	    "{\"name\":\"eth2\",\"ip-addresses\":[{\"ip-address\":\"10.0.0.1\"}]}]}");
	is_int(pve_parse_agent_network(o, net), 3, "agent network: link-local-only tun0 and lo dropped, junk skipped");
	is_str(net->ifaces[0].name, "eth0", "agent network: sorted by name (eth0 first)");
	is_int(net->ifaces[0].naddrs, 0, "agent network: ip-addresses not a list reads as none");
	is_int(net->ifaces[0].rx_bytes, 1, "agent network: kept for its traffic alone");
	is_str(net->ifaces[1].name, "eth1", "agent network: name trimmed");
	is_int(net->ifaces[1].rx_bytes, 123, "agent network: rx-bytes as a string");
	is_int(net->ifaces[1].tx_bytes, 4, "agent network: tx-bytes as a float");
	is_int(net->ifaces[1].naddrs, 2, "agent network: loopback, link-local, duplicates and junk dropped");
	is_str(net->ifaces[1].addrs[0], "192.168.1.9", "agent network: addresses sorted");
	is_str(net->ifaces[1].addrs[1], "2001:db8::5", "agent network: prefix cut");
	ok(net->nips == 3 && strcmp(net->ips[0], "10.0.0.1") == 0 && strcmp(net->ips[1], "192.168.1.9") == 0 &&
	    strcmp(net->ips[2], "2001:db8::5") == 0, "agent network: ipAddresses sorted and unique");
	json_object_put(o);

	o = parse("[{\"name\":\"eth0\",\"ip-addresses\":[{\"ip-address\":\"10.1.1.1\"}]}]");
	is_int(pve_parse_agent_network(o, net), 1, "agent network: a bare list is accepted");
	json_object_put(o);
	o = parse("{\"result\":{\"name\":\"eth0\"}}");
	is_int(pve_parse_agent_network(o, net), -1, "agent network: result not a list");
	ok(pve_guest_net_ifaces_json(net) == NULL && net->nips == 0,
	    "agent network: nothing to show gives no arrays");
	json_object_put(o);
	is_int(pve_parse_agent_network(NULL, net), -1, "agent network: no data");

	o = parse("{\"result\":{\"pretty-name\":\"Alpine Linux v3.19\",\"version-id\":3.19,\"id\":\"alpine\"}}");
	pve_parse_agent_osinfo(o, &os);
	is_str(os.name, "Alpine Linux v3.19", "osinfo: pretty-name when no name");
	is_str(os.version, "3.19", "osinfo: numeric version-id");
	json_object_put(o);
	o = parse("{\"id\":\"mswindows\",\"kernel-release\":\"22631\"}");
	pve_parse_agent_osinfo(o, &os);
	is_str(os.name, "mswindows", "osinfo: id last, inner object accepted");
	is_str(os.version, "22631", "osinfo: kernel-release last");
	json_object_put(o);
	o = parse("{\"result\":{\"name\":\"Same\",\"version\":\"Same\"}}");
	pve_parse_agent_osinfo(o, &os);
	is_str(os.version, "", "osinfo: a version equal to the name is dropped");
	json_object_put(o);
	o = parse("[1,2]");
	is_int(pve_parse_agent_osinfo(o, &os), -1, "osinfo: a list is refused");
	json_object_put(o);

	o = parse("{\"result\":{\"qemu-ga\":{\"version\":\"8.0.0\"}}}");
	pve_parse_agent_info(o, v, sizeof(v));
	is_str(v, "8.0.0", "agent info: result[\"qemu-ga\"].version");
	json_object_put(o);
	o = parse("{\"result\":{\"version\":null}}");
	is_int(pve_parse_agent_info(o, v, sizeof(v)), -1, "agent info: null version");
	is_str(v, "", "agent info: empty when missing");
	json_object_put(o);
	free(net);
}

/* --- containers ------------------------------------------------------------------------------ */

struct ct_case {
	const char *version, *vmid, *root_device, *os_name, *mac;
	int has_interfaces, nifaces;
};

static void
test_ct_recorded(void)
{
	static const struct ct_case cases[] = {
		{"pve7x", "101", "vmstore:subvol-101-disk-0", "Debian", "5D:CF:BD:B2:C5:39", 1, 1},
		{"pve8x", "101", "local-lvm:vm-101-disk-0", "Ubuntu", "BC:24:11:2E:C5:7E", 1, 1},
		{"pve9x", "101", "local-lvm:vm-101-disk-0", "Ubuntu", "BC:24:11:2E:C5:7E", 1, 1},
		{"pve9x", "102", "local-lvm:vm-102-disk-0", "Ubuntu", "", 0, 2},
	};
	struct pve_ct_detail *ct = xcalloc(1, sizeof(*ct));
	struct json_object *st, *cfg, *ifs;
	char path[128];

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct ct_case *c = &cases[i];
		int64_t maxdisk;

		snprintf(path, sizeof(path), "nodes/node1/lxc/%s/status/current.json", c->vmid);
		st = load(c->version, path);
		snprintf(path, sizeof(path), "nodes/node1/lxc/%s/config.json", c->vmid);
		cfg = load(c->version, path);
		ifs = NULL;
		if (c->has_interfaces) {
			snprintf(path, sizeof(path), "nodes/node1/lxc/%s/interfaces.json", c->vmid);
			ifs = load(c->version, path);
		}
		if (st == NULL || cfg == NULL || (c->has_interfaces && ifs == NULL)) {
			json_object_put(st);
			json_object_put(cfg);
			json_object_put(ifs);
			continue;
		}
		maxdisk = json_object_get_int64(json_object_object_get(data_of(st), "maxdisk"));
		pve_ct_init(ct);
		is_int(pve_ct_apply_status(ct, data_of(st)), 0, "%s CT %s: status read", c->version, c->vmid);
		is_int(pve_ct_apply_config(ct, data_of(cfg)), 0, "%s CT %s: config read", c->version, c->vmid);
		ok(pve_ct_wants_interfaces(ct), "%s CT %s: no address yet (ip=dhcp), interfaces wanted",
		    c->version, c->vmid);
		if (ifs != NULL)
			is_int(pve_ct_apply_interfaces(ct, data_of(ifs)), 2, "%s CT %s: both interfaces read",
			    c->version, c->vmid);
		pve_ct_finish(ct, maxdisk, 0, 0);
		is_str(ct->os_name, c->os_name, "%s CT %s: osName from ostype", c->version, c->vmid);
		ok(!ct->is_oci, "%s CT %s: not OCI", c->version, c->vmid);
		is_int(ct->net.nifaces, c->nifaces, "%s CT %s: interfaces (lo dropped)", c->version, c->vmid);
		is_str(ct->net.ifaces[0].name, "eth0", "%s CT %s: eth0 from config net0", c->version, c->vmid);
		is_str(ct->net.ifaces[0].mac, c->mac, "%s CT %s: the config MAC wins the merge", c->version,
		    c->vmid);
		if (c->has_interfaces) {
			is_int(ct->net.nips, 1, "%s CT %s: one address from interfaces", c->version, c->vmid);
			is_str(ct->net.ips[0], "192.168.3.95", "%s CT %s: inet without prefix", c->version,
			    c->vmid);
			is_str(ct->net.ifaces[0].addrs[0], "192.168.3.95", "%s CT %s: merged into eth0 by name",
			    c->version, c->vmid);
		} else {
			is_str(ct->net.ifaces[1].name, "eth20", "%s CT %s: net20 sorted after net0", c->version,
			    c->vmid);
			is_int(ct->net.nips, 0, "%s CT %s: no address at all", c->version, c->vmid);
		}
		is_int(ct->ndisks, 1, "%s CT %s: a root disk synthesised", c->version, c->vmid);
		is_int(ct->disks[0].total, maxdisk, "%s CT %s: root total = maxdisk", c->version, c->vmid);
		is_str(ct->disks[0].device, c->root_device, "%s CT %s: root device from rootfs", c->version,
		    c->vmid);
		json_object_put(st);
		json_object_put(cfg);
		json_object_put(ifs);
	}

	/* pve9x 100 has a recorded status only. */
	if ((st = load("pve9x", "nodes/node1/lxc/100/status/current.json")) != NULL) {
		pve_ct_init(ct);
		is_int(pve_ct_apply_status(ct, data_of(st)), 0, "pve9x CT 100: status read");
		pve_ct_finish(ct, 10737418240, 1073741824, 10);
		is_int(ct->net.nifaces, 0, "pve9x CT 100: no interface");
		ok(ct->ndisks == 1 && ct->disks[0].total == 10737418240 && ct->disks[0].used == 1073741824 &&
		    ct->disks[0].free == 9663676416 && ct->disks[0].usage == 10 &&
		    strcmp(ct->disks[0].mountpoint, "/") == 0 && strcmp(ct->disks[0].type, "rootfs") == 0 &&
		    ct->disks[0].device[0] == '\0', "pve9x CT 100: only a root disk");
		json_object_put(st);
	}
	free(ct);
}

static void
test_ct_tolerant(void)
{
	struct pve_ct_detail *ct = xcalloc(1, sizeof(*ct));
	struct pve_guest_net *net = xcalloc(1, sizeof(*net));
	struct json_object *st, *cfg, *ifs;
	char buf[64];

	st = parse("{\"ip\":\"10.0.0.5/24 dhcp\",\"ip6\":\"fe80::1 2001:db8::7\",\"ipv4\":[\"10.0.0.6\",[\"10.0.0.7\"],{\"address\":\"10.0.0.8\"},3],"
	    "\"ipv6\":{\"value\":\"::1\"},\"network\":{\"eth0\":{\"hwaddr\":\"bc:24:11:00:00:01\",\"ip\":\"10.0.0.5/24\"},"
	    "\"empty\":{},\"weird\":[1],\"lo\":{\"ip\":\"127.0.0.1\"}},\"diskinfo\":{\"rootfs\":{\"total\":\"1000\",\"used\":400},"
	    "\"mp0\":{\"total\":2000,\"used\":3000},\"bad\":7},\"rootfs\":\"local:101/vm-101-disk-0.raw,size=8G\"}");
	cfg = parse("{\"net1\":\"name=eth1,hwaddr=bc:24:11:00:00:02,ip=192.0.2.4/24,ip6=auto\",\"net0\":\"bridge=vmbr0,hwaddr=BC:24:11:00:00:01\","
	    "\"net2\":5,\"mp0\":\"/srv/data,mp=/data,backup=0\",\"mp1\":null,\"ostype\":\"plan9\",\"entrypoint\":\"/init\"}");
	pve_ct_init(ct);
	is_int(pve_ct_apply_status(ct, st), 0, "CT status: odd shapes accepted");
	is_int(pve_ct_apply_config(ct, cfg), 0, "CT config: odd shapes accepted");
	ok(!pve_ct_wants_interfaces(ct), "CT: addresses known, no interfaces call");
	pve_ct_finish(ct, 0, 0, 0);
	{
		static const char *const want[] = {"10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.0.8",
		    "192.0.2.4", "2001:db8::7"};
		int same = ct->net.nips == (int)ARRAY_LEN(want);
		for (int i = 0; same && i < ct->net.nips; i++)
			same = strcmp(ct->net.ips[i], want[i]) == 0;
		ok(same, "CT: addresses from ip, ip6, ipv4, network and netN, sanitised and sorted");
	}
	is_int(ct->net.nifaces, 3, "CT: eth0 (status), eth1 and net2 (config); lo and empty dropped");
	is_str(ct->net.ifaces[0].name, "eth0", "CT: interfaces sorted");
	is_str(ct->net.ifaces[0].mac, "bc:24:11:00:00:01", "CT: net0 merged into eth0 by MAC");
	is_str(ct->net.ifaces[2].name, "net2", "CT: a netN without name is named by its key");
	is_str(ct->os_name, "Plan9", "CT: an unknown ostype capitalised");
	ok(ct->is_oci, "CT: OCI by entrypoint");
	is_int(ct->ndisks, 2, "CT: disks from diskinfo, junk skipped");
	is_str(ct->disks[0].mountpoint, "/", "CT: root first");
	is_str(ct->disks[0].type, "rootfs", "CT: root type");
	is_str(ct->disks[0].device, "local:101/vm-101-disk-0.raw", "CT: root device from the status rootfs");
	is_int(ct->disks[0].total, 1000, "CT: total as a string");
	is_str(ct->disks[1].mountpoint, "/data", "CT: mp0 mounted at /data");
	is_str(ct->disks[1].device, "/srv/data", "CT: mp0 device");
	is_int(ct->disks[1].used, 2000, "CT: used capped at total");
	json_object_put(st);
	json_object_put(cfg);

	cfg = parse("{\"ostemplate\":\"oci:docker.io/library/nginx:latest\"}");
	pve_ct_init(ct);
	pve_ct_apply_config(ct, cfg);
	ok(ct->is_oci, "CT: OCI by template");
	is_str(ct->os_template, "oci:docker.io/library/nginx:latest", "CT: osTemplate");
	json_object_put(cfg);
	cfg = parse("{\"ostype\":\"unmanaged\",\"cmode\":\"console\",\"lxc\":[[\"lxc.init.cwd\",\"/\"],[\"lxc.signal.halt\",\"SIGTERM\"]],\"template\":1}");
	pve_ct_init(ct);
	pve_ct_apply_config(ct, cfg);
	ok(ct->is_oci, "CT: OCI by unmanaged console with lxc.signal.halt");
	is_str(ct->os_template, "", "CT: the template flag is no template name");
	is_str(ct->os_name, "Unmanaged", "CT: unmanaged ostype");
	json_object_put(cfg);
	ok(pve_ct_is_oci_template("local:vztmpl/ghcr.io/foo") && !pve_ct_is_oci_template("local:vztmpl/debian-12.tar.zst") &&
	    pve_ct_is_oci_template(" DOCKER:alpine"), "CT: OCI template rules");
	is_str(pve_ct_os_display_name("archlinux", buf, sizeof(buf)), "Arch Linux", "ostype archlinux");
	is_str(pve_ct_os_display_name("opensuse", buf, sizeof(buf)), "openSUSE", "ostype opensuse");
	is_str(pve_ct_os_display_name("", buf, sizeof(buf)), "", "ostype empty");

	ifs = parse("[{\"name\":\"eth0\",\"hwaddr\":\"aa:bb:cc:dd:ee:ff\",\"ip-addresses\":[{\"ip-address\":\"10.2.2.2\",\"prefix\":24},"
	    "{\"ip-address\":\"fe80::5\"}],\"inet\":\"10.9.9.9/8\"},{\"name\":\"eth1\",\"inet\":\"10.3.3.3/24 10.3.3.4/24\"},null,{\"name\":\"lo\",\"inet\":\"127.0.0.1/8\"}]");
	is_int(pve_parse_ct_interfaces(ifs, net), 2, "CT interfaces: lo and junk skipped");
	is_str(net->ifaces[0].mac, "AA:BB:CC:DD:EE:FF", "CT interfaces: MAC upper-cased");
	is_int(net->ifaces[0].naddrs, 1, "CT interfaces: ip-addresses win over inet");
	is_int(net->ifaces[1].naddrs, 2, "CT interfaces: every inet word");
	json_object_put(ifs);
	ifs = parse("{\"name\":\"eth0\"}");
	is_int(pve_parse_ct_interfaces(ifs, net), -1, "CT interfaces: not a list");
	json_object_put(ifs);

	pve_ct_init(ct);
	ok(pve_ct_apply_status(ct, NULL) == -1 && pve_ct_apply_config(ct, NULL) == -1 &&
	    pve_ct_apply_interfaces(ct, NULL) == -1, "CT: no data refused");
	pve_ct_finish(ct, -5, 10, NAN);
	ok(ct->ndisks == 1 && ct->disks[0].total == 0 && ct->disks[0].free == 0 &&
	    ct->disks[0].usage == 0, "CT: a nonsense aggregate still gives a sane root entry");
	free(ct);
	free(net);
}

/* --- physical disks ----------------------------------------------------------------------------- */

static void
test_disks(void)
{
	struct pve_physical_disk *d = xcalloc(PVE_DISKS_MAX, sizeof(*d));
	struct json_object *root, *o;
	int n;

	if ((root = load("pve9x", "nodes/node1/disks/list.json")) != NULL) {
		struct json_object *raw = data_of(root);
		n = pve_parse_disks_list(raw, d, PVE_DISKS_MAX);
		is_int(n, (int)json_object_array_length(raw), "pve9x disks: every recorded disk");
		for (int i = 0; i < n; i++) {
			struct json_object *r = json_object_array_get_idx(raw, i);
			is_str(d[i].dev_path, json_object_get_string(json_object_object_get(r, "devpath")),
			    "pve9x disk %d: devpath", i);
			is_int(d[i].size, json_object_get_int64(json_object_object_get(r, "size")),
			    "pve9x disk %d: size", i);
			is_str(d[i].model, json_object_get_string(json_object_object_get(r, "model")),
			    "pve9x disk %d: model", i);
			is_str(d[i].type, json_object_get_string(json_object_object_get(r, "type")),
			    "pve9x disk %d: type", i);
			is_str(d[i].health, json_object_get_string(json_object_object_get(r, "health")),
			    "pve9x disk %d: health", i);
			is_int(d[i].wearout, -1, "pve9x disk %d: no wearout recorded: -1", i);
			is_int(d[i].rpm, 0, "pve9x disk %d: no rpm recorded: 0", i);
		}
		is_str(d[0].used, "LVM", "pve9x disk 0: used");
		is_str(d[1].used, "", "pve9x disk 1: used missing");
		is_str(text_of(pve_physical_disk_json(&d[0], "pve1", "node1", 1736458538.25)),
		    "{\"id\":\"pve1-node1--dev-sda\",\"node\":\"node1\",\"instance\":\"pve1\",\"devPath\":\"/dev/sda\","
		    "\"model\":\"Samsung SSD 870 EVO\",\"serial\":\"\",\"wwn\":\"\",\"type\":\"ssd\",\"size\":512000000000,"
		    "\"health\":\"PASSED\",\"wearout\":-1,\"temperature\":0,\"rpm\":0,\"used\":\"LVM\","
		    "\"lastChecked\":\"2025-01-09T21:35:38.25Z\"}", "pve9x disk JSON");
		json_object_put(root);
	}

	o = parse("[{\"devpath\":\"/dev/a\",\"wearout\":\"\\\"81\\\"\",\"rpm\":\"SSD\",\"size\":\"1000\"},"
	    "{\"devpath\":\"/dev/b\",\"wearout\":\"85%\",\"rpm\":\"7200\"},{\"devpath\":\"/dev/c\",\"wearout\":\"N/A\",\"rpm\":5400.0},"
	    "{\"devpath\":\"/dev/d\",\"wearout\":null,\"rpm\":null},{\"devpath\":\"/dev/e\",\"wearout\":150,\"rpm\":\"N/A\"},"
	    "{\"devpath\":\"/dev/f\",\"wearout\":-5},{\"devpath\":\"/dev/g\",\"wearout\":\"12.7\"},{\"devpath\":\"/dev/h\",\"wearout\":true},"
	    "{\"devpath\":\"/dev/i\",\"wearout\":{}},{\"devpath\":\"/dev/j\",\"wearout\":\"'81'\"},{\"devpath\":\"/dev/k\",\"wearout\":97.9},"
	    "{\"devpath\":\"/dev/l\",\"wearout\":\"-1\"},{\"devpath\":\"/dev/m\",\"wearout\":\"99999999999999999999999\"},"
	    "{\"model\":\"no devpath\"},\"junk\",{\"devpath\":\"/dev/n\",\"wearout\":\" unknown \"}]");
	n = pve_parse_disks_list(o, d, PVE_DISKS_MAX);
	is_int(n, 14, "disks: entries without a devpath skipped");
	is_int(d[0].wearout, 81, "wearout: escaped quotes");
	is_int(d[0].rpm, 0, "rpm: SSD");
	is_int(d[0].size, 1000, "size: a numeric string");
	is_int(d[1].wearout, 85, "wearout: with %%");
	is_int(d[1].rpm, 7200, "rpm: a numeric string");
	is_int(d[2].wearout, -1, "wearout: N/A");
	is_int(d[2].rpm, 5400, "rpm: a float");
	is_int(d[3].wearout, -1, "wearout: null");
	is_int(d[3].rpm, 0, "rpm: null");
	is_int(d[4].wearout, 100, "wearout: clamped to 100");
	is_int(d[4].rpm, 0, "rpm: N/A");
	is_int(d[5].wearout, 0, "wearout: negative clamped to 0");
	is_int(d[6].wearout, 12, "wearout: a decimal string truncated");
	is_int(d[7].wearout, -1, "wearout: a boolean is unknown");
	is_int(d[8].wearout, -1, "wearout: an object is unknown");
	is_int(d[9].wearout, 81, "wearout: single quotes");
	is_int(d[10].wearout, 97, "wearout: a float truncated");
	is_int(d[11].wearout, -1, "wearout: -1 stays unknown");
	is_int(d[12].wearout, 100, "wearout: a huge number clamped");
	is_int(d[13].wearout, -1, "wearout: unknown");
	json_object_put(o);
	is_int(pve_parse_disks_list(NULL, d, PVE_DISKS_MAX), 0, "disks: no data");
	o = parse("{\"devpath\":\"/dev/a\"}");
	is_int(pve_parse_disks_list(o, d, PVE_DISKS_MAX), 0, "disks: an object is no list");
	json_object_put(o);

	/* A huge list is capped, and a long model is cut on a character boundary. */
	o = json_object_new_array();
	for (int i = 0; i < 10000; i++) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "devpath", json_object_new_string("/dev/x"));
		if (i == 0) {
			char model[400];
			size_t k = 0;
			while (k + 2 < sizeof(model)) {	/* 'é' is two bytes: the cut lands mid-way */
				model[k++] = (char)0xC3;
				model[k++] = (char)0xA9;
			}
			model[k] = '\0';
			json_object_object_add(e, "model", json_object_new_string(model));
		}
		json_object_array_add(o, e);
	}
	n = pve_parse_disks_list(o, d, PVE_DISKS_MAX);
	is_int(n, PVE_DISKS_MAX, "disks: a huge list capped");
	ok(strlen(d[0].model) < sizeof(d[0].model) && valid_utf8(d[0].model), "disks: long model cut as UTF-8");
	json_object_put(o);
	free(d);
}

/* --- ZFS ------------------------------------------------------------------------------------------- */

static void
test_zfs(void)
{
	struct pve_zfs_pool *pools = xcalloc(PVE_ZFS_MAX_POOLS, sizeof(*pools));
	struct json_object *list, *detail, *o;
	int n;

	list = load("pve9x", "nodes/node1/disks/zfs.json");
	detail = load("pve9x", "nodes/node1/disks/zfs/rpool.json");
	if (list != NULL && detail != NULL) {
		struct json_object *raw = json_object_array_get_idx(data_of(list), 0);
		n = pve_parse_zfs_list(data_of(list), pools, PVE_ZFS_MAX_POOLS);
		is_int(n, 1, "pve9x zfs: one pool");
		is_str(pools[0].name, "rpool", "pve9x zfs: name");
		is_str(pools[0].health, "ONLINE", "pve9x zfs: health");
		is_int(pools[0].size, json_object_get_int64(json_object_object_get(raw, "size")), "pve9x zfs: size");
		is_int(pools[0].alloc, json_object_get_int64(json_object_object_get(raw, "alloc")), "pve9x zfs: alloc");
		is_int(pools[0].free, json_object_get_int64(json_object_object_get(raw, "free")), "pve9x zfs: free");
		is_int(pve_parse_zfs_detail(data_of(detail), &pools[0]), 0, "pve9x zfs detail: read");
		is_int(pools[0].ndevices, 0, "pve9x zfs detail: healthy devices not listed");
		is_str(text_of(pve_zfs_pool_json(&pools[0])),
		    "{\"name\":\"rpool\",\"state\":\"ONLINE\",\"status\":\"healthy\",\"scan\":\"scrub repaired 0B in "
		    "00:12:34 with 0 errors on Sun Apr 14 00:24:35 2024\",\"readErrors\":0,\"writeErrors\":0,"
		    "\"checksumErrors\":0,\"devices\":[]}", "pve9x zfs: ZFSPool JSON");
		is_int(pve_zfs_pool_for_storage("rpool", "zfspool", pools, n), 0, "zfs match: exact name");
		is_int(pve_zfs_pool_for_storage("rpool-vms", "zfspool", pools, n), 0, "zfs match: contains rpool");
		is_int(pve_zfs_pool_for_storage("local-zfs", "zfspool", pools, n), -1, "zfs match: local-zfs looks for rpool/data");
		is_int(pve_zfs_pool_for_storage("rpool", "dir", pools, n), -1, "zfs match: only ZFS storage types");
	}
	json_object_put(list);
	json_object_put(detail);

	o = parse("{\"name\":\"tank\",\"state\":\"DEGRADED\",\"status\":\"One or more devices are faulted.\",\"children\":["
	    "{\"name\":\"mirror-0\",\"state\":\"DEGRADED\",\"leaf\":0,\"children\":[{\"name\":\"sda\",\"state\":\"ONLINE\",\"leaf\":1,\"read\":0,\"write\":0,\"cksum\":0},"
	    "{\"name\":\"sdb\",\"state\":\"faulted\",\"leaf\":1,\"read\":\"3\",\"write\":0,\"cksum\":12,\"msg\":\" too many errors \"}]},"
	    "{\"name\":\"raidz2-1\",\"state\":\"ONLINE\",\"leaf\":0,\"children\":[{\"name\":\"sdc\",\"state\":\"ONLINE\",\"leaf\":1,\"cksum\":1}]},"
	    "{\"name\":\"logs\",\"children\":[{\"name\":\"nvme0n1\",\"leaf\":1}]},"
	    "{\"name\":\"spares\",\"children\":[{\"name\":\"sdd\",\"state\":\"AVAIL\",\"leaf\":1},{\"name\":\"sde\",\"state\":\"FAULTED\",\"leaf\":1}]},"
	    "7,{\"name\":\"cache\",\"children\":[{\"name\":\"sdf\",\"state\":\"REMOVED\",\"leaf\":1}]},"
	    "{\"name\":\"spare-1\",\"state\":\"DEGRADED\",\"children\":[{\"name\":\"sdg\",\"state\":\"ONLINE\",\"leaf\":1}]}]}");
	memset(&pools[1], 0, sizeof(pools[1]));
	snprintf(pools[1].health, sizeof(pools[1].health), "DEGRADED");
	is_int(pve_parse_zfs_detail(o, &pools[1]), 0, "zfs detail: a degraded tree");
	is_int(pools[1].ndevices, 6, "zfs: unhealthy or erroring devices only");
	is_str(pools[1].devices[0].name, "mirror-0", "zfs: the degraded mirror");
	is_str(pools[1].devices[0].type, "mirror", "zfs: mirror type");
	is_str(pools[1].devices[1].state, "FAULTED", "zfs: state upper-cased");
	is_str(pools[1].devices[1].message, "too many errors", "zfs: message trimmed");
	is_int(pools[1].devices[1].read_errors, 3, "zfs: read errors as a string");
	is_str(pools[1].devices[2].name, "sdc", "zfs: an ONLINE disk with errors is listed");
	is_str(pools[1].devices[3].name, "sde", "zfs: a faulted spare (the spares group, state unknown, is not listed)");
	is_str(pools[1].devices[3].type, "disk", "zfs: a spare disk not named spare* stays a disk, as the original");
	is_str(pools[1].devices[4].type, "cache", "zfs: a removed cache device");
	is_str(pools[1].devices[5].type, "spare-group", "zfs: a degraded spare vdev");
	is_int(pools[1].read_errors, 3, "zfs: read error sum");
	is_int(pools[1].checksum_errors, 13, "zfs: checksum error sum");
	ok(strstr(text_of(pve_zfs_pool_json(&pools[1])), "\"state\":\"DEGRADED\"") != NULL, "zfs JSON: state");
	json_object_put(o);

	/* The detail may be missing: the list health stands in. */
	memset(&pools[2], 0, sizeof(pools[2]));
	snprintf(pools[2].name, sizeof(pools[2].name), "data");
	snprintf(pools[2].health, sizeof(pools[2].health), "ONLINE");
	ok(strstr(text_of(pve_zfs_pool_json(&pools[2])), "\"state\":\"ONLINE\"") != NULL, "zfs JSON: list health without detail");
	is_int(pve_zfs_pool_for_storage("mydata", "zfspool", pools, 3), 2, "zfs match: a pool named data");
	is_int(pve_parse_zfs_detail(NULL, &pools[2]), -1, "zfs detail: no data");

	/* A tree nested deeper than any pool is bounded. */
	o = json_object_new_object();
	{
		struct json_object *cur = o;
		for (int i = 0; i < 200; i++) {
			struct json_object *child = json_object_new_object(), *arr = json_object_new_array();
			json_object_object_add(child, "name", json_object_new_string("x"));
			json_object_object_add(child, "state", json_object_new_string("FAULTED"));
			json_object_array_add(arr, child);
			json_object_object_add(cur, "children", arr);
			cur = child;
		}
	}
	is_int(pve_parse_zfs_detail(o, &pools[2]), 0, "zfs: a 200-deep tree read");
	ok(pools[2].ndevices <= PVE_ZFS_MAX_DEVICES, "zfs: listed devices capped");
	json_object_put(o);
	pve_zfs_pools_free(pools, PVE_ZFS_MAX_POOLS);
}

/* --- Ceph ------------------------------------------------------------------------------------------- */

static void
test_ceph(void)
{
	static const char *const versions[] = {"pve8x", "pve9x"};
	struct pve_ceph_cluster *c = xcalloc(1, sizeof(*c));
	struct json_object *root, *o;

	for (size_t i = 0; i < ARRAY_LEN(versions); i++) {
		struct json_object *pg, *osd;
		if ((root = load(versions[i], "cluster/ceph/status.json")) == NULL)
			continue;
		pg = json_object_object_get(data_of(root), "pgmap");
		osd = json_object_object_get(data_of(root), "osdmap");
		is_int(pve_parse_ceph_status(data_of(root), c), 0, "%s ceph status: read", versions[i]);
		is_str(c->fsid, "d11c6ea1-7ab2-41fa-99c5-b85f4d7ffd49", "%s ceph: fsid", versions[i]);
		is_str(c->health, "HEALTH_WARN", "%s ceph: health", versions[i]);
		is_str(c->health_message, "OSD_NEARFULL: 3 nearfull osd(s); POOL_NEARFULL: 4 pool(s) nearfull",
		    "%s ceph: health message from the checks, sorted", versions[i]);
		is_int(c->total_bytes, json_object_get_int64(json_object_object_get(pg, "bytes_total")),
		    "%s ceph: total from pgmap", versions[i]);
		is_int(c->used_bytes, json_object_get_int64(json_object_object_get(pg, "bytes_used")),
		    "%s ceph: used from pgmap", versions[i]);
		is_int(c->available_bytes, json_object_get_int64(json_object_object_get(pg, "bytes_avail")),
		    "%s ceph: available from pgmap", versions[i]);
		ok(near(c->usage_percent, 61.0678911240196), "%s ceph: usage percent", versions[i]);
		is_int(c->num_osds, json_object_get_int(json_object_object_get(osd, "num_osds")), "%s ceph: OSDs", versions[i]);
		is_int(c->num_osds_up, json_object_get_int(json_object_object_get(osd, "num_up_osds")), "%s ceph: OSDs up", versions[i]);
		is_int(c->num_osds_in, json_object_get_int(json_object_object_get(osd, "num_in_osds")), "%s ceph: OSDs in", versions[i]);
		is_int(c->num_pgs, 577, "%s ceph: PGs", versions[i]);
		/* The recorded servicemap is empty, as on real clusters: monitors come from monmap
		 * and quorum_names, managers from mgrmap (active and two standbys). */
		is_int(c->num_mons, 3, "%s ceph: monitors from monmap", versions[i]);
		is_int(c->num_mgrs, 3, "%s ceph: managers from mgrmap", versions[i]);
		is_int(c->nservices, 2, "%s ceph: mon and mgr services", versions[i]);
		is_str(text_of(pve_ceph_cluster_json(c, "pve1", 1736458538.9)),
		    "{\"id\":\"pve1-d11c6ea1-7ab2-41fa-99c5-b85f4d7ffd49\",\"instance\":\"pve1\",\"name\":\"Ceph\","
		    "\"fsid\":\"d11c6ea1-7ab2-41fa-99c5-b85f4d7ffd49\",\"health\":\"HEALTH_WARN\",\"healthMessage\":"
		    "\"OSD_NEARFULL: 3 nearfull osd(s); POOL_NEARFULL: 4 pool(s) nearfull\",\"totalBytes\":51850204151808,"
		    "\"usedBytes\":31663826219008,\"availableBytes\":20186377932800,\"usagePercent\":61.0678911240196,"
		    "\"numMons\":3,\"numMgrs\":3,\"numOsds\":21,\"numOsdsUp\":21,\"numOsdsIn\":21,\"numPGs\":577,"
		    "\"services\":[{\"type\":\"mgr\",\"running\":3,\"total\":3},{\"type\":\"mon\",\"running\":3,"
		    "\"total\":3}],\"lastUpdated\":1736458538000}", "%s ceph: cephClusters JSON", versions[i]);

		o = parse("{\"data\":{\"stats\":{\"total_bytes\":1000,\"total_used_bytes\":250,\"total_avail_bytes\":750},"
		    "\"pools\":[{\"id\":1,\"name\":\"rbd\",\"stats\":{\"bytes_used\":\"100\",\"max_avail\":700,\"objects\":5,\"percent_used\":0.125}},\"junk\"]}}");
		is_int(pve_parse_ceph_df(o, c), 0, "%s ceph df: the original's nested shape", versions[i]);
		is_int(c->total_bytes, 1000, "%s ceph df: total from df", versions[i]);
		ok(near(c->usage_percent, 25), "%s ceph df: usage recomputed", versions[i]);
		is_int(c->npools, 1, "%s ceph df: pools", versions[i]);
		ok(strstr(text_of(pve_ceph_cluster_json(c, "pve1", 1)), "\"pools\":[{\"id\":1,\"name\":\"rbd\","
		    "\"storedBytes\":100,\"availableBytes\":700,\"objects\":5,\"percentUsed\":12.5}]") != NULL,
		    "%s ceph df: pools JSON, Ceph's fraction as percent", versions[i]);
		json_object_put(o);
		json_object_put(root);
	}

	o = parse("{\"stats\":{\"total_bytes\":0},\"pools\":[]}");
	pve_parse_ceph_status(NULL, c);
	c->total_bytes = 10;
	is_int(pve_parse_ceph_df(o, c), 0, "ceph df: the plain shape");
	is_int(c->total_bytes, 10, "ceph df: a zero total keeps pgmap's");
	json_object_put(o);
	o = parse("{\"something\":1}");
	is_int(pve_parse_ceph_df(o, c), -1, "ceph df: neither shape");
	json_object_put(o);

	o = parse("{\"fsid\":null,\"health\":{\"status\":\"HEALTH_ERR\",\"summary\":[{\"severity\":\"HEALTH_ERR\",\"summary\":\"old style\"},"
	    "{\"message\":\"msg wins\",\"summary\":\"not this\"}],\"checks\":{\"B\":{\"summary\":[{\"message\":\"from a list\"}]},"
	    "\"A\":{\"summary\":\"a string\"},\"C\":{\"summary\":{},\"detail\":[{\"message\":\"\"},{\"message\":\"from detail\"}]},\"D\":5}},"
	    "\"servicemap\":{\"services\":{\"osd\":{\"daemons\":{\"summary\":\"\",\"0\":{\"status\":\"running\"}}},"
	    "\"mon\":{\"daemons\":{\"a\":{\"hostname\":\"n1\",\"status\":\"running\"},\"c\":{\"hostname\":\"n3\",\"status\":\"stopped\"},\"b\":{\"status\":\"\"}}},"
	    "\"mgr\":{\"daemons\":{\"x\":{\"status\":\"ACTIVE\"}}},\"rgw\":7}},"
	    "\"osdmap\":{\"osdmap\":{\"num_osds\":\"3\",\"num_up_osds\":2,\"num_in_osds\":3.0}},\"pgmap\":{\"num_pgs\":\"64\",\"bytes_total\":\"100\",\"bytes_used\":50}}");
	is_int(pve_parse_ceph_status(o, c), 0, "ceph status: odd shapes");
	is_str(c->fsid, "", "ceph: null fsid");
	is_str(c->health_message, "old style; msg wins; A: a string; B: from a list; C: from detail",
	    "ceph: summaries, then checks by name");
	is_int(c->nservices, 4, "ceph: services");
	is_str(c->services[0].type, "mgr", "ceph: services sorted by type");
	is_int(c->num_mons, 3, "ceph: mons counted");
	is_int(c->num_mgrs, 1, "ceph: mgrs counted");
	is_str(c->services[1].message, "Offline: b, c@n3", "ceph: offline daemons named daemon@host, sorted");
	is_int(c->services[1].running, 1, "ceph: mons running");
	is_int(c->services[2].total, 1, "ceph: a summary string beside the daemons is no daemon");
	is_int(c->num_osds, 3, "ceph: nested osdmap, numbers as strings");
	is_int(c->num_pgs, 64, "ceph: PGs as a string");
	ok(near(c->usage_percent, 50), "ceph: usage");
	ok(strstr(text_of(pve_ceph_cluster_json(c, "inst", 0)), "\"id\":\"inst\"") != NULL, "ceph JSON: id without fsid");
	json_object_put(o);
	/* The real shape: only registered daemons (no status) in the servicemap, a monitor out
	 * of quorum, the manager map saying the active one is not available. */
	o = parse("{\"servicemap\":{\"services\":{\"rgw\":{\"daemons\":{\"summary\":\"\",\"4242\":{\"gid\":4242,"
	    "\"metadata\":{\"hostname\":\"n1\"}}}}}},\"quorum_names\":[\"n1\",\"n2\"],"
	    "\"monmap\":{\"mons\":[{\"name\":\"n3\",\"rank\":2},{\"name\":\"n1\",\"rank\":0},{\"name\":\"n2\"}]},"
	    "\"mgrmap\":{\"active_name\":\"n1\",\"available\":false,\"standbys\":[{\"name\":\"n2\"}]}}");
	is_int(pve_parse_ceph_status(o, c), 0, "ceph status: the real shape");
	is_int(c->nservices, 3, "ceph real shape: mgr, mon, rgw");
	is_str(c->services[0].type, "mgr", "ceph real shape: sorted");
	is_int(c->services[0].total, 2, "ceph real shape: active manager and a standby");
	is_int(c->services[0].running, 1, "ceph real shape: an unavailable active manager does not run");
	is_str(c->services[0].message, "Offline: n1", "ceph real shape: it is named");
	is_int(c->services[1].total, 3, "ceph real shape: monitors of the monmap");
	is_int(c->services[1].running, 2, "ceph real shape: those in quorum run");
	is_str(c->services[1].message, "Offline: n3", "ceph real shape: the one out of quorum named");
	is_int(c->services[2].running, 1, "ceph real shape: a service map daemon without status runs");
	is_int(c->num_mons, 3, "ceph real shape: numMons = the mon service's total");
	is_int(c->num_mgrs, 2, "ceph real shape: numMgrs = the mgr service's total");
	json_object_put(o);
	o = parse("{\"quorum_names\":[\"a\",\"b\"],\"mgrmap\":{\"standbys\":[]}}");
	is_int(pve_parse_ceph_status(o, c), 0, "ceph status: quorum only");
	is_int(c->num_mons, 2, "ceph: monitors from the quorum alone");
	is_int(c->num_mgrs, 0, "ceph: no manager known, no mgr service");
	is_int(c->nservices, 1, "ceph: the mon service only");
	json_object_put(o);
	o = parse("[]");
	is_int(pve_parse_ceph_status(o, c), -1, "ceph status: a list is refused");
	json_object_put(o);
	free(c);
}

/* --- guest agent failures ---------------------------------------------------------------------------- */

static void
test_agent_failure(void)
{
	static const struct {
		long status;
		int timed_out;
		const char *body, *want, *what;
	} cases[] = {
		{500, 0, "{\"data\":null,\"message\":\"QEMU guest agent is not running\\n\"}", "agent-not-running",
		    "PVE's phrase"},
		{500, 0, "{\"data\":null,\"message\":\"VM 100 qmp command 'guest-fsinfo' failed - got timeout\\n\"}",
		    "agent-timeout", "a timeout in PVE"},
		{0, 1, NULL, "agent-timeout", "our own request timed out"},
		{500, 0, "{\"data\":null,\"message\":\"guest agent not available\"}", "agent-not-running", "not available"},
		{403, 0, "{\"data\":null,\"message\":\"Permission check failed (/vms/100, VM.Monitor)\\n\"}",
		    "permission-denied", "403"},
		{401, 0, "", "permission-denied", "401 without a body"},
		{500, 0, "{\"data\":null}", "agent-not-running", "a bare 500"},
		{500, 0, "<html>not json", "agent-not-running", "a 500 that is not JSON"},
		{400, 0, "{\"errors\":{\"vmid\":\"bad\"}}", "agent-error", "another status"},
		{0, 0, NULL, "agent-error", "no answer"},
		{200, 0, "{\"data\":", "agent-error", "a broken success"},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		is_str(pve_agent_failure_reason(cases[i].status, cases[i].timed_out, cases[i].body,
		    cases[i].body ? strlen(cases[i].body) : 0), cases[i].want, "agent failure: %s", cases[i].what);
}

/* --- replication ------------------------------------------------------------------------------------- */

static void
test_replication(void)
{
	static const char *const versions[] = {"pve8x", "pve9x"};
	struct pve_replication_job *jobs = xcalloc(PVE_REPLICATION_MAX, sizeof(*jobs));
	struct json_object *cfg, *status, *one, *node, *o;
	int n;

	for (size_t i = 0; i < ARRAY_LEN(versions); i++) {
		const char *v = versions[i];
		cfg = load(v, "cluster/replication.json");
		one = load(v, "cluster/replication/100-0.json");
		node = load(v, "nodes/node1/replication.json");
		status = load(v, "nodes/node1/replication/100-0/status.json");
		if (cfg == NULL || one == NULL || node == NULL || status == NULL)
			goto next;
		n = pve_parse_replication(data_of(cfg), jobs, PVE_REPLICATION_MAX);
		is_int(n, 1, "%s replication: one job", v);
		is_str(jobs[0].id, "100-0", "%s replication: id", v);
		is_str(jobs[0].guest, "100", "%s replication: guest as text", v);
		is_int(jobs[0].guest_id, 100, "%s replication: guest id", v);
		is_int(jobs[0].job_number, 0, "%s replication: jobnum", v);
		is_str(jobs[0].target, "node2", "%s replication: target", v);
		is_str(jobs[0].schedule, "*/15", "%s replication: schedule", v);
		is_str(jobs[0].type, "local", "%s replication: type", v);
		ok(jobs[0].enabled, "%s replication: enabled by default", v);
		ok(pve_replication_status_node(&jobs[0]) == NULL, "%s replication: no source, no status call", v);
		is_int(pve_replication_apply_status(&jobs[0], data_of(status)), 0, "%s replication status: merged", v);
		is_int(jobs[0].last_sync_unix, 1715500000, "%s replication status: last_sync", v);
		is_str(jobs[0].state, "idle", "%s replication status: state", v);
		pve_replication_resolve(&jobs[0], "pve1", 0, "web", "qemu", "node1");
		is_str(jobs[0].unique_id, "pve1-100-0", "%s replication: id is instance-jobId", v);
		is_str(jobs[0].source_node, "node1", "%s replication: source falls back to the guest's node", v);
		is_str(text_of(pve_replication_job_json(&jobs[0], 1736458538.123)),
		    "{\"id\":\"pve1-100-0\",\"instance\":\"pve1\",\"jobId\":\"100-0\",\"guest\":\"100\",\"guestId\":100,"
		    "\"guestName\":\"web\",\"guestType\":\"qemu\",\"guestNode\":\"node1\",\"sourceNode\":\"node1\","
		    "\"targetNode\":\"node2\",\"schedule\":\"*/15\",\"type\":\"local\",\"enabled\":true,\"state\":\"idle\","
		    "\"status\":\"idle\",\"lastSyncTime\":1715500000000,\"lastSyncUnix\":1715500000,\"polledAt\":1736458538123}",
		    "%s replication: replicationJobs JSON", v);

		is_int(pve_parse_replication(data_of(one), jobs, PVE_REPLICATION_MAX), 1, "%s replication/{id}: one object", v);
		is_str(jobs[0].id, "100-0", "%s replication/{id}: id", v);
		is_int(pve_parse_replication(data_of(node), jobs, PVE_REPLICATION_MAX), 1, "%s node replication list", v);
		is_str(pve_replication_status_node(&jobs[0]), "node1", "%s node replication: source", v);
		is_int(jobs[0].next_sync_unix, 1715501000, "%s node replication: next_sync", v);
next:
		json_object_put(cfg);
		json_object_put(one);
		json_object_put(node);
		json_object_put(status);
	}

	o = parse("[{\"jobid\":\"201-3\",\"guest\":\"201\",\"source\":\" n1 \",\"source-storage\":\"local-zfs\",\"target_storage\":\"tank\","
	    "\"disable\":1,\"last_sync_duration\":\"00:01:30\",\"duration\":95,\"last_sync\":\"2024-05-12T08:00:00Z\","
	    "\"next-sync\":\"2024-05-12 10:00:00 +0200\",\"rate\":\"10.5\",\"fail_count\":\"2\",\"last_sync_error\":\"boom\","
	    "\"remove_job\":\"full\",\"comment\":\" nightly \",\"last-sync-status\":\"error\"},"
	    "{\"guest\":300,\"jobnum\":\"1\",\"active\":\"0\",\"last_sync\":\"n/a\",\"duration\":\"12.5\"},"
	    "{\"id\":\"150-0\",\"guest\":150,\"enabled\":\"no\",\"last_sync\":-5},"
	    "{\"id\":\"150-1\",\"guest\":\"x\",\"status\":\"OK\",\"state\":\"syncing\"},[1],null,{\"last_sync\":{}}]");
	n = pve_parse_replication(o, jobs, PVE_REPLICATION_MAX);
	is_int(n, 5, "replication: junk entries skipped");
	is_str(jobs[0].id, "201-3", "replication: jobid");
	is_int(jobs[0].job_number, 3, "replication: jobnum from the id");
	is_str(jobs[0].source, "n1", "replication: source trimmed");
	is_str(jobs[0].source_storage, "local-zfs", "replication: source-storage");
	is_str(jobs[0].target_storage, "tank", "replication: target_storage");
	ok(!jobs[0].enabled, "replication: disable=1");
	is_int(jobs[0].last_sync_duration_seconds, 90, "replication: HH:MM:SS duration");
	is_str(jobs[0].last_sync_duration_human, "00:01:30", "replication: human as given");
	is_int(jobs[0].duration_seconds, 95, "replication: numeric duration");
	is_str(jobs[0].duration_human, "95", "replication: numeric duration kept as text");
	is_int(jobs[0].last_sync_unix, 1715500800, "replication: RFC 3339 last_sync");
	is_int(jobs[0].next_sync_unix, 1715500800, "replication: dated next-sync with a zone");
	ok(jobs[0].has_rate && near(jobs[0].rate_limit_mbps, 10.5), "replication: rate as a string");
	is_int(jobs[0].fail_count, 2, "replication: fail_count as a string");
	is_str(jobs[0].error, "boom", "replication: last_sync_error");
	is_str(jobs[0].comment, "nightly", "replication: comment trimmed");
	is_str(jobs[0].last_sync_status, "error", "replication: last-sync-status");
	ok(!jobs[1].enabled, "replication: active=\"0\"");
	is_int(jobs[1].last_sync_unix, 0, "replication: n/a is no time");
	is_int(jobs[1].duration_seconds, 13, "replication: 12.5 s rounded");
	ok(!jobs[2].enabled, "replication: enabled=no");
	is_int(jobs[2].last_sync_unix, 0, "replication: a negative time is none");
	is_str(jobs[3].status, "OK", "replication: status given");
	is_int(jobs[4].last_sync_unix, 0, "replication: an object is no time");

	json_object_put(o);
	o = parse("[{\"last_sync\":1715500001,\"duration\":7.4,\"fail_count\":0,\"state\":\"error\",\"error\":\"zfs send failed\"}]");
	is_int(pve_replication_apply_status(&jobs[1], o), 0, "replication status: a list's first element");
	is_int(jobs[1].duration_seconds, 7, "replication status: duration seconds");
	is_str(jobs[1].duration_human, "12.5", "replication status: the text is not replaced");
	is_str(jobs[1].state, "error", "replication status: state");
	is_str(jobs[1].error, "zfs send failed", "replication status: error");
	json_object_put(o);
	o = parse("[]");
	is_int(pve_replication_apply_status(&jobs[1], o), -1, "replication status: nothing to merge");
	json_object_put(o);

	jobs[2].job_number = 0;
	for (int i = 0; i < n; i++)
		pve_replication_resolve(&jobs[i], "pve1", i, NULL, NULL, NULL);
	is_str(jobs[1].job_id, "300-1", "replication: jobId from guest and jobnum");
	is_str(jobs[1].last_sync_duration_human, "00:00:07", "replication: HH:MM:SS from seconds");
	is_str(jobs[4].job_id, "job-pve1-4", "replication: jobId from the index");
	is_str(jobs[0].guest_node, "n1", "replication: guestNode falls back to the source");
	pve_replication_sort(jobs, n);
	is_str(jobs[0].job_id, "job-pve1-4", "replication sort: guest 0 (unknown) first, job number 0");
	is_str(jobs[1].job_id, "150-1", "replication sort: then job number 1 (from the id)");
	is_str(jobs[2].job_id, "150-0", "replication sort: then guest 150");
	is_str(jobs[3].job_id, "201-3", "replication sort: then 201");
	is_str(jobs[4].job_id, "300-1", "replication sort: then 300");
	ok(strstr(text_of(pve_replication_job_json(&jobs[3], 0)), "\"rateLimitMbps\":10.5") != NULL,
	    "replication JSON: rateLimitMbps");
	is_int(pve_parse_replication(NULL, jobs, PVE_REPLICATION_MAX), 0, "replication: no data");
	free(jobs);
}

/* --- every parser over values of every type -------------------------------------------------------------- */

static void
test_wrong_types(void)
{
	static const char *const inputs[] = {"null", "true", "0", "-1.5e300", "\"text\"", "[]", "{}",
	    "[null,1,\"x\",[],{}]", "{\"result\":7,\"data\":\"x\",\"children\":{},\"network\":[],\"diskinfo\":[],"
	    "\"health\":[],\"servicemap\":{\"services\":[]},\"stats\":7,\"pools\":{}}",
	    "{\"result\":[{\"ip-addresses\":\"x\",\"statistics\":[]}],\"data\":{\"stats\":[],\"pools\":[7]}}"};
	struct pve_guest_net *net = xcalloc(1, sizeof(*net));
	struct pve_ct_detail *ct = xcalloc(1, sizeof(*ct));
	struct pve_physical_disk *disks = xcalloc(8, sizeof(*disks));
	struct pve_zfs_pool *pools = xcalloc(4, sizeof(*pools));
	struct pve_ceph_cluster *ceph = xcalloc(1, sizeof(*ceph));
	struct pve_replication_job *jobs = xcalloc(4, sizeof(*jobs));
	struct pve_agent_osinfo os;
	char v[16];

	for (size_t i = 0; i < ARRAY_LEN(inputs); i++) {
		struct json_object *o = parse(inputs[i]);
		pve_parse_agent_network(o, net);
		pve_parse_agent_osinfo(o, &os);
		pve_parse_agent_info(o, v, sizeof(v));
		pve_ct_init(ct);
		pve_ct_apply_status(ct, o);
		pve_ct_apply_config(ct, o);
		pve_ct_apply_interfaces(ct, o);
		pve_ct_finish(ct, 0, 0, 0);
		pve_parse_ct_interfaces(o, net);
		pve_parse_disks_list(o, disks, 8);
		pve_parse_zfs_list(o, pools, 4);
		pve_parse_zfs_detail(o, &pools[0]);
		pve_parse_ceph_status(o, ceph);
		pve_parse_ceph_df(o, ceph);
		pve_parse_replication(o, jobs, 4);
		pve_replication_apply_status(&jobs[0], o);
		json_object_put(o);
		ok(1, "every parser survives %s", inputs[i]);
	}
	free(net);
	free(ct);
	free(disks);
	pve_zfs_pools_free(pools, 4);
	free(ceph);
	free(jobs);
}

int
main(void)
{
	if (!ok(find_fixtures() == 0, "the recorded PVE responses are found (set PULSE_FIXTURES)"))
		return done_testing();
	printf("# fixtures: %s\n", fixtures);
	test_agent_recorded();
	test_agent_tolerant();
	test_ct_recorded();
	test_ct_tolerant();
	test_disks();
	test_zfs();
	test_ceph();
	test_agent_failure();
	test_replication();
	test_wrong_types();
	return done_testing();
}
