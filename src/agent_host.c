/* agent_host.c: a host agent's report: type check, identity, document, and its write. */
#include "config.h"

#include "agent_host.h"
#include "agent_alerts_json.h"
#include "crypto.h"
#include "alert_agents.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "state.h"
#include "state_rows.h"
#include "timefmt.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- the decoder's types (§1.3, §3.1) ---------------------------------------------------- */

static const struct agent_field f_agent[] = {
	AF_S("id"), AF_S("version"), AF_S("type"), AF_I("intervalSeconds"), AF_S("hostname"),
	AF_S("updatedFrom"),
	AF_B("commandsEnabled"), AF_END,
};
static const struct agent_field f_host[] = {
	AF_S("id"), AF_S("hostname"), AF_S("displayName"), AF_S("machineId"), AF_S("platform"),
	AF_S("osName"),
	AF_S("osVersion"), AF_S("kernelVersion"), AF_S("architecture"), AF_S("cpuModel"),
	AF_I("cpuCount"),
	AF_I("uptimeSeconds"), {"loadAverage", AF_LIST, AF_NUM, NULL}, AF_S("reportIp"), AF_END,
};
const struct agent_field agent_fields_memory[] = {
	AF_I("totalBytes"), AF_I("usedBytes"), AF_I("freeBytes"), AF_N("usage"),
	AF_I("swapTotalBytes"),
	AF_I("swapUsedBytes"), AF_END,
};
static const struct agent_field f_metrics[] = {
	AF_N("cpuUsagePercent"), {"memory", AF_OBJ, AF_ANY, agent_fields_memory}, AF_END,
};
const struct agent_field agent_fields_disk[] = {
	AF_S("device"), AF_S("mountpoint"), AF_S("filesystem"), AF_S("type"),
	AF_I("totalBytes"), AF_I("usedBytes"),
	AF_I("freeBytes"), AF_N("usage"), AF_END,
};
static const struct agent_field f_diskio[] = {
	AF_S("device"), AF_U("readBytes"), AF_U("writeBytes"), AF_U("readOps"),
	AF_U("writeOps"), AF_U("readTimeMs"),
	AF_U("writeTimeMs"), AF_U("ioTimeMs"), AF_END,
};
const struct agent_field agent_fields_net[] = {
	AF_S("name"), AF_S("mac"), {"addresses", AF_LIST, AF_STR, NULL}, AF_U("rxBytes"),
	AF_U("txBytes"),
	AF_I("speedMbps"), AF_END,
};
static const struct agent_field f_smart[] = {
	AF_S("device"), AF_S("model"), AF_S("serial"), AF_S("wwn"), AF_S("type"),
	AF_I("temperature"), AF_S("health"),
	AF_B("standby"), AF_END,
};
static const struct agent_field f_sensors[] = {
	{"temperatureCelsius", AF_MAP, AF_NUM, NULL}, {"fanRpm", AF_MAP, AF_NUM, NULL},
	{"powerWatts", AF_MAP, AF_NUM, NULL}, {"additional", AF_MAP, AF_NUM, NULL},
	{"smart", AF_LIST, AF_OBJ, f_smart}, AF_END,
};
static const struct agent_field f_raid_dev[] = {
	AF_S("device"), AF_S("state"), AF_I("slot"), AF_END };
static const struct agent_field f_raid[] = {
	AF_S("device"), AF_S("name"), AF_S("level"), AF_S("state"), AF_I("totalDevices"),
	AF_I("activeDevices"),
	AF_I("workingDevices"), AF_I("failedDevices"), AF_I("spareDevices"), AF_S("uuid"),
	{"devices", AF_LIST, AF_OBJ, f_raid_dev}, AF_N("rebuildPercent"), AF_S("rebuildSpeed"),
	AF_END,
};
static const struct agent_field f_ceph_check[] = {
	AF_S("severity"), AF_S("message"), {"detail", AF_LIST, AF_STR, NULL}, AF_END,
};
static const struct agent_field f_ceph_summary[] = { AF_S("severity"), AF_S("message"), AF_END };
static const struct agent_field f_ceph_health[] = {
	AF_S("status"), {"checks", AF_MAP, AF_OBJ, f_ceph_check},
	{"summary", AF_LIST, AF_OBJ, f_ceph_summary}, AF_END,
};
static const struct agent_field f_ceph_mon[] = {
	AF_S("name"), AF_I("rank"), AF_S("addr"), AF_S("status"), AF_END };
static const struct agent_field f_ceph_monmap[] = {
	AF_I("epoch"), AF_I("numMons"), {"monitors", AF_LIST, AF_OBJ, f_ceph_mon}, AF_END,
};
static const struct agent_field f_ceph_mgrmap[] = {
	AF_B("available"), AF_I("numMgrs"), AF_S("activeMgr"), AF_I("standbys"), AF_END,
};
static const struct agent_field f_ceph_osdmap[] = {
	AF_I("epoch"), AF_I("numOsds"), AF_I("numUp"), AF_I("numIn"), AF_I("numDown"),
	AF_I("numOut"), AF_END,
};
static const struct agent_field f_ceph_pgmap[] = {
	AF_I("numPgs"), AF_U("bytesTotal"), AF_U("bytesUsed"), AF_U("bytesAvailable"),
	AF_U("dataBytes"),
	AF_N("usagePercent"), AF_N("degradedRatio"), AF_N("misplacedRatio"),
	AF_N("readBytesPerSec"),
	AF_N("writeBytesPerSec"), AF_N("readOpsPerSec"), AF_N("writeOpsPerSec"), AF_END,
};
static const struct agent_field f_ceph_pool[] = {
	AF_I("id"), AF_S("name"), AF_U("bytesUsed"), AF_U("bytesAvailable"), AF_U("objects"),
	AF_N("percentUsed"),
	AF_END,
};
static const struct agent_field f_ceph_service[] = {
	AF_S("type"), AF_I("running"), AF_I("total"), {"daemons", AF_LIST, AF_STR, NULL}, AF_END,
};
static const struct agent_field f_ceph[] = {
	AF_S("fsid"), {"health", AF_OBJ, AF_ANY, f_ceph_health},
	{"monMap", AF_OBJ, AF_ANY, f_ceph_monmap}, {"mgrMap", AF_OBJ, AF_ANY, f_ceph_mgrmap},
	{"osdMap", AF_OBJ, AF_ANY, f_ceph_osdmap}, {"pgMap", AF_OBJ, AF_ANY, f_ceph_pgmap},
	{"pools", AF_LIST, AF_OBJ, f_ceph_pool}, {"services", AF_LIST, AF_OBJ, f_ceph_service},
	{"collectedAt", AF_TIME, AF_ANY, NULL}, AF_END,
};
static const struct agent_field f_report[] = {
	{"agent", AF_OBJ, AF_ANY, f_agent}, {"host", AF_OBJ, AF_ANY, f_host},
	{"metrics", AF_OBJ, AF_ANY, f_metrics}, {"disks", AF_LIST, AF_OBJ, agent_fields_disk},
	{"diskIO", AF_LIST, AF_OBJ, f_diskio}, {"network", AF_LIST, AF_OBJ, agent_fields_net},
	{"sensors", AF_OBJ, AF_ANY, f_sensors}, {"raid", AF_LIST, AF_OBJ, f_raid},
	{"ceph", AF_OBJ, AF_ANY, f_ceph}, {"tags", AF_LIST, AF_STR, NULL},
	{"timestamp", AF_TIME, AF_ANY, NULL}, AF_S("sequenceId"), AF_END,
};

/* Go's names of what a JSON value is and of the type it could not become. */
static const char *
json_kind(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_string: return "string";
	case json_type_int:
	case json_type_double: return "number";
	case json_type_boolean: return "bool";
	case json_type_array: return "array";
	case json_type_object: return "object";
	default: return "null";
	}
}

static const char *const go_type[] = {
	[AF_STR] = "string", [AF_INT] = "int64", [AF_UINT] = "uint64", [AF_NUM] = "float64",
	[AF_BOOL] = "bool", [AF_TIME] = "time.Time", [AF_OBJ] = "struct", [AF_LIST] = "slice",
	[AF_MAP] = "map", [AF_ANY] = "interface",
};

static int check_fields(struct json_object *o, const struct agent_field *fields,
    const char *path, char *err, size_t errlen);

static int
mismatch(struct json_object *v, enum agent_ftype t, const char *path, char *err, size_t errlen)
{
	if (json_object_is_type(v, json_type_double))
		snprintf(err, errlen, "json: cannot unmarshal number %.17g into Go struct field %s "
		    "of type %s", json_object_get_double(v), path, go_type[t]);
	else
		snprintf(err, errlen, "json: cannot unmarshal %s into Go struct field %s of type %s",
		    json_kind(v), path, go_type[t]);
	return -1;
}

/* Checks one value against type t (elements elem, members sub); path names it. */
static int
check_value(struct json_object *v, enum agent_ftype t, enum agent_ftype elem,
    const struct agent_field *sub, const char *path, char *err, size_t errlen)
{
	enum json_type jt = json_object_get_type(v);
	double when;

	if (v == NULL || jt == json_type_null || t == AF_ANY)
		return 0;
	switch (t) {
	case AF_STR:
		return jt == json_type_string ? 0 : mismatch(v, t, path, err, errlen);
	case AF_INT:
		return jt == json_type_int ? 0 : mismatch(v, t, path, err, errlen);
	case AF_UINT:
		if (jt == json_type_int && json_object_get_int64(v) >= 0)
			return 0;
		return mismatch(v, t, path, err, errlen);
	case AF_NUM:
		return jt == json_type_int || jt == json_type_double ? 0 :
		    mismatch(v, t, path, err, errlen);
	case AF_BOOL:
		return jt == json_type_boolean ? 0 : mismatch(v, t, path, err, errlen);
	case AF_TIME:
		if (jt != json_type_string)
			return mismatch(v, t, path, err, errlen);
		if (timefmt_parse_rfc3339(json_object_get_string(v), &when) != 0) {
			snprintf(err, errlen, "parsing time \"%.40s\" as RFC 3339: cannot parse (field "
			    "%s)", json_object_get_string(v), path);
			return -1;
		}
		return 0;
	case AF_OBJ:
		if (jt != json_type_object)
			return mismatch(v, t, path, err, errlen);
		return check_fields(v, sub, path, err, errlen);
	case AF_LIST:
		if (jt != json_type_array)
			return mismatch(v, t, path, err, errlen);
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (check_value(json_object_array_get_idx(v, i), elem, AF_ANY, sub, path, err,
			    errlen) != 0)
				return -1;
		return 0;
	case AF_MAP:
		if (jt != json_type_object)
			return mismatch(v, t, path, err, errlen);
		{
			json_object_object_foreach(v, key, val) {
				(void)key;
				if (check_value(val, elem, AF_ANY, sub, path, err, errlen) != 0)
					return -1;
			}
		}
		return 0;
	case AF_ANY:
		break;
	}
	return 0;
}

static int
check_fields(struct json_object *o, const struct agent_field *fields, const char *path,
    char *err, size_t errlen)
{
	char sub[160];

	for (const struct agent_field *f = fields; f->name; f++) {
		snprintf(sub, sizeof(sub), "%s.%s", path, f->name);
		if (check_value(jsonread_member(o, f->name), f->type, f->elem, f->sub, sub, err,
		    errlen) != 0)
			return -1;
	}
	return 0;
}

int
agent_check_types(struct json_object *report, const struct agent_field *fields,
    const char *go_package, char *err, size_t errlen)
{
	if (!json_object_is_type(report, json_type_object)) {
		snprintf(err, errlen, "json: cannot unmarshal %s into Go value of type %s.Report",
		    json_kind(report), go_package);
		return -1;
	}
	return check_fields(report, fields, "Report", err, errlen);
}

int
agent_host_check_types(struct json_object *report, char *err, size_t errlen)
{
	return agent_check_types(report, f_report, "host", err, errlen);
}

/* --- identity (§3.2) ------------------------------------------------------------------- */

#define SANITIZED_MAX 48

void
agent_host_sanitize(const char *in, char *out, size_t len)
{
	char buf[SANITIZED_MAX + 8];
	size_t o = 0, start = 0;
	int dash = 0;
	char tmp[AGENT_HOST_ID_MAX * 2];

	jsonread_copy_trimmed(tmp, sizeof(tmp), in);
	for (const unsigned char *p = (const unsigned char *)tmp; *p && o < SANITIZED_MAX;) {
		if (*p < 0x80) {
			if (isalnum(*p)) {
				buf[o++] = (char)tolower(*p);
				dash = 0;
			} else if (!dash) {
				buf[o++] = '-';
				dash = 1;
			}
			p++;
			continue;
		}
		/* A UTF-8 character, taken for a letter: copied whole or not at all. */
		size_t n = 1;
		while ((p[n] & 0xC0) == 0x80 && n < 4)
			n++;
		if (o + n > SANITIZED_MAX)
			break;
		memcpy(buf + o, p, n);
		o += n;
		p += n;
		dash = 0;
	}
	while (o > 0 && buf[o - 1] == '-')
		o--;
	while (start < o && buf[start] == '-')
		start++;
	snprintf(out, len, "%.*s", (int)(o - start), buf + start);
}

void
agent_sha1_hex(const char *text, size_t nbytes, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha1(), NULL);
	hex_encode(md, nbytes, out);
}

void
agent_host_base_id(struct json_object *report, const char *hostname, char *out, size_t len)
{
	struct json_object *agent = jsonread_member(report, "agent");
	struct json_object *host = jsonread_member(report, "host");
	const char *cand[4] = {
		jsonread_string(host, "id", ""), jsonread_string(host, "machineId", ""),
		jsonread_string(agent, "id", ""), hostname,
	};
	char parts[3][AGENT_HOST_ID_MAX], joined[3 * AGENT_HOST_ID_MAX + 4], hex[16];
	int n = 0;

	for (int i = 0; i < 4; i++) {
		agent_host_sanitize(cand[i], out, len);
		if (out[0])
			return;
	}
	/* machineId|agentId|hostname of the distinct parts that have text. */
	const char *raw[3] = {cand[1], cand[2], hostname};
	joined[0] = '\0';
	for (int i = 0; i < 3; i++) {
		int dup = 0;

		jsonread_copy_trimmed(parts[n], sizeof(parts[n]), raw[i]);
		if (!parts[n][0])
			continue;
		for (int j = 0; j < n; j++)
			dup |= strcmp(parts[j], parts[n]) == 0;
		if (dup)
			continue;
		if (n)
			strcat(joined, "|");
		strcat(joined, parts[n++]);
	}
	agent_sha1_hex(joined, 6, hex);
	snprintf(out, len, "host-%s", hex);
}

void
agent_host_collision_id(const char *base, const char *token_id, const char *hostname, char *out,
    size_t len)
{
	char seed[3 * AGENT_HOST_ID_MAX + 4], hex[16];

	snprintf(seed, sizeof(seed), "%s|%s|%s", token_id, hostname, base);
	agent_sha1_hex(seed, 4, hex);
	snprintf(out, len, "%.40s-%s", base, hex);
}

/* --- the filesystem filter (§10.2 step 5) ---------------------------------------------- */

static int
contains_any(const char *s, const char *const *needles)
{
	for (; *needles; needles++)
		if (strstr(s, *needles))
			return 1;
	return 0;
}

int
agent_host_skip_filesystem(const char *type_in, const char *mountpoint, int64_t total,
    int64_t used)
{
	static const char *const read_only[] = {"erofs", "squashfs", "squash-fs", "iso9660", "cdfs",
	    "udf", "cramfs", "romfs", NULL};
	static const char *const virtual_[] = {"tmpfs", "devtmpfs", "cgroup", "cgroup2", "sysfs",
	    "proc", "devpts", "securityfs", "debugfs", "tracefs", "fusectl", "configfs", "pstore",
	    "hugetlbfs", "mqueue", "bpf", "overlay", "overlayfs", "autofs", NULL};
	static const char *const network[] = {"fuse", "9p", "nfs", "cifs", "smb", NULL};
	static const char *const prefixes[] = {"/dev", "/proc", "/sys", "/run", "/var/lib/docker",
	    "/var/lib/containers", "/snap", NULL};
	static const char *const container_dirs[] = {"/containers/", "/container_tmp/", NULL};
	static const char *const overlay_dirs[] = {"/overlay2/", "/overlay/", "/diff/", "/merged",
	    NULL};
	char type[64];

	jsonread_copy_trimmed(type, sizeof(type), type_in);
	for (char *p = type; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (contains_any(type, read_only) || (strcmp(type, "overlay") == 0 && used >= total))
		return 1;
	for (const char *const *v = virtual_; *v; v++)
		if (strcmp(type, *v) == 0)
			return 1;
	if (contains_any(type, network))
		return 1;
	for (const char *const *p = prefixes; *p; p++)
		if (strncmp(mountpoint, *p, strlen(*p)) == 0)
			return 1;
	if (strcmp(mountpoint, "/boot/efi") == 0 || strstr(mountpoint, "System Reserved"))
		return 1;
	if (contains_any(mountpoint, container_dirs) && contains_any(mountpoint, overlay_dirs))
		return 1;
	return strncmp(mountpoint, "/mnt/.ix-apps/docker/", 21) == 0;
}

/* --- the document (the original's HostFrontend) ---------------------------------------- */

double
agent_finite(double v)
{
	return isfinite(v) ? v : 0;
}

/* The number member key of o, finite (0 otherwise). */
static double
num(struct json_object *o, const char *key)
{
	return agent_finite(jsonread_number(o, key, 0));
}

void
agent_doc_str(struct json_object *dst, const char *dk, struct json_object *src, const char *sk,
    int optional)
{
	char buf[1024];

	jsonread_copy_trimmed(buf, sizeof(buf), jsonread_string(src, sk, ""));
	if (optional)
		jsonwrite_opt_str(dst, dk, buf);
	else
		jsonwrite_str(dst, dk, buf);
}

struct json_object *
agent_string_list(struct json_object *arr, int max)
{
	struct json_object *out = NULL;
	int n = jsonread_array_len(arr);

	for (int i = 0; i < n && i < max; i++) {
		struct json_object *v = json_object_array_get_idx(arr, (size_t)i);
		char buf[256];

		if (!json_object_is_type(v, json_type_string))
			continue;
		jsonread_copy_trimmed(buf, sizeof(buf), json_object_get_string(v));
		if (!buf[0])
			continue;
		if (out == NULL)
			out = json_object_new_array();
		json_object_array_add(out, json_object_new_string(buf));
	}
	return out;
}

void
agent_doc_opt_strs(struct json_object *dst, struct json_object *src, const char *const *keys)
{
	for (; *keys; keys++)
		agent_doc_str(dst, *keys, src, *keys, 1);
}

struct json_object *
agent_string_value(struct json_object *val)
{
	return json_object_is_type(val, json_type_string) ?
	    json_object_new_string(json_object_get_string(val)) : NULL;
}

struct json_object *
agent_map(struct json_object *map, int max, struct json_object *(*value)(struct json_object *))
{
	struct json_object *out = NULL, *v;
	int n = 0;

	if (!jsonread_is_object(map))
		return NULL;
	json_object_object_foreach(map, key, val) {
		if (n >= max || (v = value(val)) == NULL)
			continue;
		if (out == NULL)
			out = json_object_new_object();
		json_object_object_add(out, key, v);
		n++;
	}
	return out;
}

/* A number as the map of numbers keeps it, NULL for anything else. */
static struct json_object *
number_value(struct json_object *val)
{
	double v;

	return jsonread_value_number(val, &v) ? jsonutil_new_double(v) : NULL;
}

/* A map of numbers (at most AGENT_HOST_MAX_LIST keys), or NULL when it has none. */
static struct json_object *
number_map(struct json_object *map)
{
	return agent_map(map, AGENT_HOST_MAX_LIST, number_value);
}

void
agent_doc_add(struct json_object *o, const char *key, struct json_object *v)
{
	if (v)
		json_object_object_add(o, key, v);
}

struct json_object *
agent_doc_memory(struct json_object *mem, double usage)
{
	struct st_memory m = {
		.total = jsonread_int(mem, "totalBytes", 0), .used = jsonread_int(mem, "usedBytes", 0),
		.free = jsonread_int(mem, "freeBytes", 0), .usage = usage,
		.swap_total = jsonread_int(mem, "swapTotalBytes", 0),
		.swap_used = jsonread_int(mem, "swapUsedBytes", 0),
	};

	if (!m.total && !m.used && !m.free && usage == 0 && !m.swap_total && !m.swap_used)
		return NULL;
	return st_memory_json(&m);
}

struct json_object *
agent_doc_disks(struct json_object *report, int filter)
{
	struct json_object *arr = jsonread_member(report, "disks"), *kept, *out = NULL;
	int n = jsonread_array_len(arr);

	kept = json_object_new_array();
	for (int i = 0; i < n && json_object_array_length(kept) < AGENT_HOST_MAX_LIST; i++) {
		struct json_object *d = json_object_array_get_idx(arr, (size_t)i);
		const char *type = jsonread_string(d, "type", "");
		struct st_disk disk;
		int64_t total = jsonread_int(d, "totalBytes", 0), used = jsonread_int(d, "usedBytes", 0);
		double usage = num(d, "usage");

		if (!*type)
			type = jsonread_string(d, "filesystem", "");
		if (!jsonread_is_object(d) || (filter && agent_host_skip_filesystem(type,
		    jsonread_string(d, "mountpoint", ""), total, used)))
			continue;
		json_object_array_add(kept, json_object_get(d));
		if (usage <= 0 && total > 0)
			usage = (double)used / (double)total * 100.0;
		memset(&disk, 0, sizeof(disk));
		disk.total = total;
		disk.used = used;
		disk.free = jsonread_int(d, "freeBytes", 0);
		disk.usage = usage;
		jsonread_copy_trimmed(disk.mountpoint, sizeof(disk.mountpoint),
		    jsonread_string(d, "mountpoint", ""));
		jsonread_copy_trimmed(disk.type, sizeof(disk.type), type);
		jsonread_copy_trimmed(disk.device, sizeof(disk.device), jsonread_string(d, "device", ""));
		if (out == NULL)
			out = json_object_new_array();
		json_object_array_add(out, st_disk_json(&disk));
	}
	if (!filter)
		json_object_put(kept);
	else if (json_object_array_length(kept) > 0)
		json_object_object_add(report, "disks", kept);
	else {
		json_object_put(kept);
		json_object_object_del(report, "disks");
	}
	return out;
}

/* Each object of list key of report through one(), at most AGENT_HOST_MAX_LIST; NULL when
 * none. */
struct json_object *
agent_doc_list(struct json_object *report, const char *key, int max,
    struct json_object *(*one)(struct json_object *))
{
	struct json_object *arr = jsonread_member(report, key), *out = NULL;
	int n = jsonread_array_len(arr);

	for (int i = 0; i < n && i < max; i++) {
		struct json_object *d = json_object_array_get_idx(arr, (size_t)i);

		if (!jsonread_is_object(d))
			continue;
		if (out == NULL)
			out = json_object_new_array();
		json_object_array_add(out, one(d));
	}
	return out;
}

static struct json_object *
diskio_doc(struct json_object *d)
{
	static const char *const counters[] = {"readBytes", "writeBytes", "readOps", "writeOps",
	    "readTimeMs", "writeTimeMs", "ioTimeMs"};
	struct json_object *o = json_object_new_object();

	agent_doc_str(o, "device", d, "device", 0);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		jsonwrite_opt_int(o, counters[i], jsonread_int(d, counters[i], 0));
	return o;
}

struct json_object *
agent_doc_network(struct json_object *d)
{
	struct json_object *o = json_object_new_object();

	agent_doc_str(o, "name", d, "name", 0);
	agent_doc_str(o, "mac", d, "mac", 1);
	agent_doc_add(o, "addresses", agent_string_list(jsonread_member(d, "addresses"),
	    AGENT_HOST_MAX_ITEMS));
	jsonwrite_opt_int(o, "rxBytes", jsonread_int(d, "rxBytes", 0));
	jsonwrite_opt_int(o, "txBytes", jsonread_int(d, "txBytes", 0));
	if (jsonread_has(d, "speedMbps"))
		jsonwrite_int(o, "speedMbps", jsonread_int(d, "speedMbps", 0));
	return o;
}

static struct json_object *
smart_doc(struct json_object *d)
{
	static const char *const names[] = {"model", "serial", "wwn", "type", NULL};
	struct json_object *o = json_object_new_object();

	agent_doc_str(o, "device", d, "device", 0);
	agent_doc_opt_strs(o, d, names);
	jsonwrite_int(o, "temperature", jsonread_int(d, "temperature", 0));
	agent_doc_str(o, "health", d, "health", 1);
	jsonwrite_true_if(o, "standby", jsonread_bool(d, "standby", 0));
	return o;
}

/* Sensors: NULL unless temperatures, fans, other readings or SMART disks are there (powerWatts
 * is not kept, as in the original). */
static struct json_object *
sensors_doc(struct json_object *sensors)
{
	struct json_object *o = json_object_new_object();

	agent_doc_add(o, "temperatureCelsius",
	    number_map(jsonread_member(sensors, "temperatureCelsius")));
	agent_doc_add(o, "fanRpm", number_map(jsonread_member(sensors, "fanRpm")));
	agent_doc_add(o, "additional", number_map(jsonread_member(sensors, "additional")));
	agent_doc_add(o, "smart", agent_doc_list(sensors, "smart", AGENT_HOST_MAX_LIST, smart_doc));
	if (json_object_object_length(o) == 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

void
agent_doc_token(struct json_object *o, const char *id, const char *name, const char *hint,
    double last_used)
{
	if (id == NULL || !id[0])
		return;
	jsonwrite_str(o, "tokenId", id);
	jsonwrite_opt_str(o, "tokenName", name);
	jsonwrite_opt_str(o, "tokenHint", hint);
	if (last_used > 0)
		jsonwrite_ms(o, "tokenLastUsedAt", last_used);
}

struct json_object *
agent_doc_load(struct json_object *arr)
{
	struct json_object *out = NULL;
	int n = jsonread_array_len(arr);

	for (int i = 0; i < n && i < 3; i++) {
		double v = 0;

		(void)jsonread_value_number(json_object_array_get_idx(arr, (size_t)i), &v);
		if (out == NULL)
			out = json_object_new_array();
		json_object_array_add(out, jsonutil_new_double(v));
	}
	return out;
}

struct json_object *
agent_host_doc(struct json_object *report, const struct agent_host *h,
    const struct agent_host_doc_meta *m)
{
	struct json_object *agent = jsonread_member(report, "agent");
	struct json_object *host = jsonread_member(report, "host");
	struct json_object *metrics = jsonread_member(report, "metrics");
	struct json_object *o = json_object_new_object();
	int commands;

	jsonwrite_str(o, "id", m->id);
	jsonwrite_str(o, "hostname", h->hostname);
	jsonwrite_str(o, "displayName", h->display_name[0] ? h->display_name : h->hostname);
	jsonwrite_opt_str(o, "platform", h->platform);
	jsonwrite_opt_str(o, "osName", h->os_name);
	jsonwrite_opt_str(o, "osVersion", h->os_version);
	agent_doc_str(o, "kernelVersion", host, "kernelVersion", 1);
	agent_doc_str(o, "architecture", host, "architecture", 1);
	jsonwrite_opt_int(o, "cpuCount", jsonread_int(host, "cpuCount", 0));
	if (agent_finite(h->cpu) != 0)
		jsonwrite_num(o, "cpuUsage", h->cpu);
	agent_doc_add(o, "loadAverage", agent_doc_load(jsonread_member(host, "loadAverage")));
	agent_doc_add(o, "memory", agent_doc_memory(jsonread_member(metrics, "memory"),
	    agent_finite(h->memory)));
	agent_doc_add(o, "disks", agent_doc_disks(report, 1));
	agent_doc_add(o, "diskIO", agent_doc_list(report, "diskIO", AGENT_HOST_MAX_LIST,
	    diskio_doc));
	agent_doc_add(o, "networkInterfaces", agent_doc_list(report, "network",
	    AGENT_HOST_MAX_LIST, agent_doc_network));
	agent_doc_add(o, "sensors", sensors_doc(jsonread_member(report, "sensors")));
	jsonwrite_str(o, "status", "online");
	jsonwrite_opt_int(o, "uptimeSeconds", jsonread_int(host, "uptimeSeconds", 0));
	jsonwrite_ms(o, "lastSeen", m->last_seen);
	jsonwrite_opt_int(o, "intervalSeconds", jsonread_int(agent, "intervalSeconds", 0));
	agent_doc_str(o, "agentVersion", agent, "version", 1);
	agent_doc_token(o, m->token_id, m->token_name, m->token_hint, m->token_last_used);
	agent_doc_add(o, "tags", agent_string_list(jsonread_member(report, "tags"),
	    AGENT_HOST_MAX_ITEMS));
	commands = m->commands_enabled >= 0 ? m->commands_enabled :
	    jsonread_bool(agent, "commandsEnabled", 0);
	jsonwrite_true_if(o, "commandsEnabled", commands);
	jsonwrite_true_if(o, "isLegacy", strcmp(jsonread_string(agent, "type", ""), "unified") != 0);
	jsonwrite_opt_str(o, "linkedNodeId", m->linked_node_id);
	jsonwrite_opt_str(o, "linkedVmId", m->linked_vm_id);
	jsonwrite_opt_str(o, "linkedContainerId", m->linked_container_id);
	return o;
}

/* --- a linked node's temperature (agents.md §6.6) ---------------------------------------- */

static int
by_core(const void *a, const void *b)
{
	int64_t x = jsonread_int(*(struct json_object *const *)a, "core", 0);
	int64_t y = jsonread_int(*(struct json_object *const *)b, "core", 0);

	return (x > y) - (x < y);
}

static int
by_device(const void *a, const void *b)
{
	return strcmp(jsonread_string(*(struct json_object *const *)a, "device", ""),
	    jsonread_string(*(struct json_object *const *)b, "device", ""));
}

/* "<prefix><digits>" (the whole key): the digits as a number, else -1. */
static long
numbered(const char *key, const char *prefix)
{
	size_t n = strlen(prefix);
	char *end;
	long v;

	if (strncmp(key, prefix, n) != 0 || !isdigit((unsigned char)key[n]))
		return -1;
	v = strtol(key + n, &end, 10);
	return *end == '\0' && v >= 0 && v < 100000 ? v : -1;
}

/* gpu0's edge, junction or mem reading (the gpu_edge, gpu_junction, gpu_mem keys). */
static void
gpu0_reading(struct json_object *gpus, const char *which, double v)
{
	struct json_object *g = NULL;

	for (size_t i = 0; i < json_object_array_length(gpus); i++)
		if (strcmp(jsonread_string(json_object_array_get_idx(gpus, i), "device", ""),
		    "gpu0") == 0)
			g = json_object_array_get_idx(gpus, i);
	if (g == NULL) {
		g = json_object_new_object();
		jsonwrite_str(g, "device", "gpu0");
		json_object_array_add(gpus, g);
	}
	jsonwrite_num(g, which, v);
}

/* SMART disks with their temperatures (standby disks left out) as DiskTemp entries. */
static struct json_object *
smart_temperatures(struct json_object *smart, double last_seen)
{
	struct json_object *a = json_object_new_array();
	char dev[300];

	for (int i = 0; i < jsonread_array_len(smart) && i < AGENT_HOST_MAX_LIST; i++) {
		struct json_object *d = json_object_array_get_idx(smart, (size_t)i), *o;
		const char *name = jsonread_string(d, "device", "");

		if (jsonread_bool(d, "standby", 0) || !*name)
			continue;
		o = json_object_new_object();
		snprintf(dev, sizeof(dev), "%s%s", strncmp(name, "/dev/", 5) == 0 ? "" : "/dev/", name);
		jsonwrite_str(o, "device", dev);
		agent_doc_str(o, "serial", d, "serial", 1);
		agent_doc_str(o, "wwn", d, "wwn", 1);
		agent_doc_str(o, "model", d, "model", 1);
		agent_doc_str(o, "type", d, "type", 1);
		jsonwrite_int(o, "temperature", jsonread_int(d, "temperature", 0));
		jsonwrite_time(o, "lastUpdated", last_seen);
		json_object_array_add(a, o);
	}
	return a;
}

struct json_object *
agent_host_node_temperature(struct json_object *sensors, double last_seen)
{
	struct json_object *temps = jsonread_member(sensors, "temperatureCelsius");
	struct json_object *cores = json_object_new_array(), *nvme = json_object_new_array();
	struct json_object *gpus = json_object_new_array(), *smart, *o;
	double package = 0, max = 0;
	int has_cpu = 0, n = 0;
	char key[128];

	if (jsonread_is_object(temps)) {
		json_object_object_foreach(temps, k, v) {
			double t;
			long num;

			if (n++ >= AGENT_HOST_MAX_LIST || jsonread_value_number(v, &t) != 1)
				continue;
			snprintf(key, sizeof(key), "%s", k);
			for (char *p = key; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			if (strcmp(key, "cpu_package") == 0) {
				package = t;
				has_cpu = 1;
			} else if ((num = numbered(key, "cpu_core_")) >= 0) {
				struct json_object *c = json_object_new_object();

				jsonwrite_int(c, "core", num);
				jsonwrite_num(c, "temp", t);
				json_object_array_add(cores, c);
				max = json_object_array_length(cores) == 1 || t > max ? t : max;
				has_cpu = 1;
			} else if (numbered(key, "nvme") >= 0) {
				struct json_object *d = json_object_new_object();

				jsonwrite_str(d, "device", key);
				jsonwrite_num(d, "temp", t);
				json_object_array_add(nvme, d);
			} else if (strcmp(key, "gpu_edge") == 0 || strcmp(key, "gpu_junction") == 0 ||
			    strcmp(key, "gpu_mem") == 0) {
				gpu0_reading(gpus, key + 4, t);
			} else if (strncmp(key, "gpu_", 4) == 0 && key[4]) {
				struct json_object *g = json_object_new_object();

				jsonwrite_str(g, "device", key + 4);
				jsonwrite_num(g, "edge", t);
				json_object_array_add(gpus, g);
			}
		}
	}
	json_object_array_sort(cores, by_core);
	json_object_array_sort(nvme, by_device);
	smart = smart_temperatures(jsonread_member(sensors, "smart"), last_seen);
	if (!has_cpu && !json_object_array_length(nvme) && !json_object_array_length(gpus) &&
	    !json_object_array_length(smart)) {
		json_object_put(cores);
		json_object_put(nvme);
		json_object_put(gpus);
		json_object_put(smart);
		return NULL;
	}
	o = json_object_new_object();
	if (json_object_array_length(cores) > 0 && package == 0)
		package = max;	/* the hottest core stands for a missing package reading */
	if (package > 0)
		jsonwrite_num(o, "cpuPackage", package);
	if (json_object_array_length(cores) > 0)
		jsonwrite_num(o, "cpuMax", max);
	jsonwrite_time(o, "minRecorded", 0);
	jsonwrite_time(o, "maxRecorded", 0);
	json_object_object_add(o, "cores", cores);
	json_object_object_add(o, "gpu", gpus);
	json_object_object_add(o, "nvme", nvme);
	if (json_object_array_length(smart) > 0)
		json_object_object_add(o, "smart", smart);
	else
		json_object_put(smart);
	jsonwrite_bool(o, "available", 1);
	jsonwrite_bool(o, "hasCPU", has_cpu);
	jsonwrite_bool(o, "hasGPU", json_object_array_length(gpus) > 0);
	jsonwrite_bool(o, "hasNVMe", json_object_array_length(nvme) > 0);
	jsonwrite_bool(o, "hasSMART", jsonread_member(o, "smart") != NULL);
	jsonwrite_time(o, "lastUpdate", last_seen);
	return o;
}

/* --- the write ------------------------------------------------------------------------- */

static const struct db_stmt stmt_token = {
	"agent_token_info",
	"SELECT name, prefix, suffix, extract(epoch FROM coalesce(last_used_at, now())) "
	"FROM pulse.api_tokens WHERE id::text = $1",
	1,
};

int
agent_token_info(struct db *db, const char *token_id, struct agent_token_info *out)
{
	const char *params[1] = {token_id};
	PGresult *res;
	const char *prefix, *suffix;

	memset(out, 0, sizeof(*out));
	if (token_id == NULL || !token_id[0])
		return 0;
	if ((res = db_exec_stmt(db, &stmt_token, params)) == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		snprintf(out->name, sizeof(out->name), "%s", PQgetvalue(res, 0, 0));
		prefix = PQgetvalue(res, 0, 1);
		suffix = PQgetvalue(res, 0, 2);
		if (*prefix || *suffix)
			snprintf(out->hint, sizeof(out->hint), "%s\u2026%s", prefix, suffix);
		out->last_used = strtod(PQgetvalue(res, 0, 3), NULL);
	}
	PQclear(res);
	return 0;
}

/* The host a token already reports for under this hostname (the binding of §3.2). */
static const struct db_stmt stmt_bound = {
	"agent_host_bound",
	"SELECT id FROM pulse.agent_hosts WHERE token_id = $1 AND hostname = $2 AND NOT mock "
	"ORDER BY received_at DESC, id LIMIT 1",
	2,
};

static const struct db_stmt stmt_existing = {
	"agent_host_existing",
	"SELECT hostname, coalesce(token_id, ''), commands_enabled, unlinked, mock "
	"FROM pulse.agent_hosts WHERE id = $1 FOR UPDATE",
	1,
};

/* §6.6: the first of the PVE nodes, then the VMs, then the containers (LXC and OCI) whose
 * name is the hostname or its short name, or whose own short name is the short name: its
 * kind (n, v or c) and id. The mock estate is never linked. */
static const struct db_stmt stmt_link = {
	"agent_host_link",
	"SELECT kind, id FROM (SELECT 1 AS rank, 'n' AS kind, id, node AS name "
	"FROM pulse.pve_nodes WHERE NOT mock UNION ALL SELECT CASE WHEN type = 'qemu' THEN 2 "
	"ELSE 3 END, CASE WHEN type = 'qemu' THEN 'v' ELSE 'c' END, id, name FROM pulse.guests "
	"WHERE NOT mock) e WHERE name <> '' AND (lower(name) IN ($1, $2) OR "
	"split_part(lower(name), '.', 1) = $2) ORDER BY rank, id LIMIT 1",
	2,
};

/* The rates divide the counters' growth by the time since the previous report was stored;
 * a counter that went back (a reboot) gives no rate. */
#define RATE(col) \
	#col "_rate = CASE WHEN EXCLUDED." #col "_total >= h." #col "_total AND now() > " \
	"h.received_at THEN ((EXCLUDED." #col "_total - h." #col "_total) / extract(epoch FROM " \
	"now() - h.received_at))::double precision END, " #col "_total = EXCLUDED." #col "_total"

static const struct db_stmt stmt_upsert = {
	"agent_host_upsert",
	"INSERT INTO pulse.agent_hosts AS h (id, hostname, display_name, platform, os_name, "
	"os_version, agent_version, token_id, status, last_seen, received_at, interval_seconds, "
	"cpu_usage, memory_usage, report, doc, needs_eval, disk_usage, net_in_total, "
	"net_out_total, disk_read_total, disk_write_total, node_temperature) VALUES ($1, $2, $3, "
	"$4, $5, $6, $7, nullif($8, ''), 'online', to_timestamp($9::double precision), now(), "
	"$10, $11, $12, $13::json, $14::json, true, $15, $16, $17, $18, $19, $20::json) "
	"ON CONFLICT (id) DO UPDATE SET node_temperature = EXCLUDED.node_temperature, "
	"hostname = EXCLUDED.hostname, display_name = EXCLUDED.display_name, "
	"platform = EXCLUDED.platform, os_name = EXCLUDED.os_name, "
	"os_version = EXCLUDED.os_version, agent_version = EXCLUDED.agent_version, "
	"token_id = EXCLUDED.token_id, status = 'online', last_seen = EXCLUDED.last_seen, "
	"interval_seconds = EXCLUDED.interval_seconds, cpu_usage = EXCLUDED.cpu_usage, "
	"memory_usage = EXCLUDED.memory_usage, disk_usage = EXCLUDED.disk_usage, "
	"report = EXCLUDED.report, doc = EXCLUDED.doc, needs_eval = true, "
	RATE(net_in) ", " RATE(net_out) ", " RATE(disk_read) ", " RATE(disk_write) ", "
	"received_at = now()",
	20,
};

/* What the host's previous record and its token say. */
struct host_context {
	char id[AGENT_HOST_ID_MAX];
	char token_id[64];
	struct agent_token_info token;
	int exists, commands_enabled, unlinked;
	int mock;			/* the row with this id is mock mode's */
	char prev_hostname[256], prev_token[64];
	char linked_kind;		/* 'n' node, 'v' VM, 'c' container, 0 none */
	char linked_id[256];
};

/* The commandsEnabled override PATCH /api/agents/host/{id}/config keeps for an id that no
 * host has yet (sql/0017_agent_profiles.sql). */
static const struct db_stmt stmt_override = {
	"agent_host_override",
	"SELECT commands_enabled FROM pulse.agent_host_config WHERE host_id = $1 "
	"AND commands_enabled IS NOT NULL",
	1,
};

static int
read_existing(struct db *db, struct host_context *c)
{
	const char *params[1] = {c->id};
	PGresult *res = db_exec_stmt(db, &stmt_existing, params);

	if (res == NULL)
		return -1;
	c->exists = PQntuples(res) == 1;
	c->commands_enabled = -1;
	c->unlinked = c->mock = 0;
	c->prev_hostname[0] = c->prev_token[0] = '\0';
	if (c->exists) {
		snprintf(c->prev_hostname, sizeof(c->prev_hostname), "%s", PQgetvalue(res, 0, 0));
		snprintf(c->prev_token, sizeof(c->prev_token), "%s", PQgetvalue(res, 0, 1));
		if (!PQgetisnull(res, 0, 2))
			c->commands_enabled = PQgetvalue(res, 0, 2)[0] == 't';
		c->unlinked = PQgetvalue(res, 0, 3)[0] == 't';
		c->mock = PQgetvalue(res, 0, 4)[0] == 't';
	}
	PQclear(res);
	if (!c->exists) {
		if ((res = db_exec_stmt(db, &stmt_override, params)) == NULL)
			return -1;
		if (PQntuples(res) == 1)
			c->commands_enabled = PQgetvalue(res, 0, 0)[0] == 't';
		PQclear(res);
	}
	return 0;
}

/* §3.2 step 3: the id of a report, and the previous record under it (locked). */
static int
resolve_id(struct db *db, struct json_object *report, const char *hostname, const char *token,
    struct host_context *c)
{
	char base[AGENT_HOST_ID_MAX];
	PGresult *res;

	agent_host_base_id(report, hostname, base, sizeof(base));
	snprintf(c->id, sizeof(c->id), "%s", base);
	if (token == NULL) {
		if (read_existing(db, c) != 0)
			return -1;
		/* A mock host of that id (mock mode's ids are plain words) is not this one. */
		if (c->exists && c->mock) {
			agent_host_collision_id(base, "", hostname, c->id, sizeof(c->id));
			return read_existing(db, c);
		}
		return 0;
	}
	{
		const char *params[2] = {token, hostname};

		if ((res = db_exec_stmt(db, &stmt_bound, params)) == NULL)
			return -1;
		if (PQntuples(res) == 1) {
			snprintf(c->id, sizeof(c->id), "%s", PQgetvalue(res, 0, 0));
			PQclear(res);
			return read_existing(db, c);
		}
		PQclear(res);
	}
	if (read_existing(db, c) != 0)
		return -1;
	if (c->exists && (c->mock || strcmp(c->prev_hostname, hostname) != 0 ||
	    strcmp(c->prev_token, token) != 0)) {
		agent_host_collision_id(base, token, hostname, c->id, sizeof(c->id));
		return read_existing(db, c);
	}
	return 0;
}

/* The link of §6.6 for hostname into c (none for a host unlinked by hand). */
static int
find_link(struct db *db, const char *hostname, struct host_context *c)
{
	char full[256], shortname[256];
	const char *params[2] = {full, shortname};
	PGresult *res;

	c->linked_kind = 0;
	c->linked_id[0] = '\0';
	if (c->unlinked)
		return 0;
	snprintf(full, sizeof(full), "%s", hostname);
	for (char *p = full; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	snprintf(shortname, sizeof(shortname), "%.*s", (int)strcspn(full, "."), full);
	if ((res = db_exec_stmt(db, &stmt_link, params)) == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		c->linked_kind = PQgetvalue(res, 0, 0)[0];
		snprintf(c->linked_id, sizeof(c->linked_id), "%s", PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return 0;
}

double
agent_report_time(struct json_object *report, double now)
{
	double t;

	if (timefmt_parse_rfc3339(jsonread_string(report, "timestamp", ""), &t) != 0 ||
	    t <= -62135596800.0)
		return now;
	return t;
}

/* The sums of the report's counters (network interfaces other than lo; diskIO) and the usage
 * of "/" (else of the first disk; -1 without disks) once its disks are filtered. */
struct host_figures {
	int64_t net_in, net_out, disk_read, disk_write;
	double disk_usage;
};

static int64_t
sum_member(struct json_object *arr, const char *key, const char *skip_name)
{
	int64_t sum = 0;

	for (int i = 0; i < jsonread_array_len(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, (size_t)i);
		int64_t v = jsonread_int(o, key, 0);

		if (skip_name && strcmp(jsonread_string(o, "name", ""), skip_name) == 0)
			continue;
		if (v > 0 && sum <= INT64_MAX - v)
			sum += v;
	}
	return sum;
}

static void
host_figures(struct json_object *report, struct json_object *doc, struct host_figures *f)
{
	struct json_object *net = jsonread_member(report, "network");
	struct json_object *io = jsonread_member(report, "diskIO");
	struct json_object *disks = jsonread_member(doc, "disks");

	f->net_in = sum_member(net, "rxBytes", "lo");
	f->net_out = sum_member(net, "txBytes", "lo");
	f->disk_read = sum_member(io, "readBytes", NULL);
	f->disk_write = sum_member(io, "writeBytes", NULL);
	f->disk_usage = -1;
	for (int i = 0; i < jsonread_array_len(disks); i++) {
		struct json_object *d = json_object_array_get_idx(disks, (size_t)i);

		if (i == 0 || strcmp(jsonread_string(d, "mountpoint", ""), "/") == 0)
			f->disk_usage = num(d, "usage");
	}
}

static int
write_host(struct db *db, struct json_object *report, struct agent_host *h,
    const struct host_context *c, double last_seen)
{
	struct agent_host_doc_meta m = {
		.id = c->id, .last_seen = last_seen, .token_id = c->token_id,
		.token_name = c->token.name, .token_hint = c->token.hint,
		.token_last_used = c->token.last_used, .commands_enabled = c->commands_enabled,
		.linked_node_id = c->linked_kind == 'n' ? c->linked_id : NULL,
		.linked_vm_id = c->linked_kind == 'v' ? c->linked_id : NULL,
		.linked_container_id = c->linked_kind == 'c' ? c->linked_id : NULL,
	};
	struct json_object *agent = jsonread_member(report, "agent");
	struct json_object *doc = agent_host_doc(report, h, &m), *temperature = NULL;
	char version[128], seen[40], interval[24], cpu[40], mem[40], disk[40], sums[4][24];
	const char *params[20];
	struct host_figures f;
	int rc;

	jsonread_copy_trimmed(version, sizeof(version), jsonread_string(agent, "version", ""));
	params[0] = c->id;
	params[1] = h->hostname;
	params[2] = h->display_name[0] ? h->display_name : h->hostname;
	params[3] = h->platform;
	params[4] = h->os_name;
	params[5] = h->os_version;
	params[6] = version;
	params[7] = c->token_id;
	params[8] = sr_num(seen, sizeof(seen), last_seen);
	params[9] = sr_i64(interval, sizeof(interval), jsonread_int(agent, "intervalSeconds", 0));
	params[10] = sr_num(cpu, sizeof(cpu), agent_finite(h->cpu));
	params[11] = sr_num(mem, sizeof(mem), agent_finite(h->memory));
	params[12] = json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN);
	params[13] = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	host_figures(report, doc, &f);
	params[14] = f.disk_usage >= 0 ? sr_num(disk, sizeof(disk), f.disk_usage) : NULL;
	params[15] = sr_i64(sums[0], sizeof(sums[0]), f.net_in);
	params[16] = sr_i64(sums[1], sizeof(sums[1]), f.net_out);
	params[17] = sr_i64(sums[2], sizeof(sums[2]), f.disk_read);
	params[18] = sr_i64(sums[3], sizeof(sums[3]), f.disk_write);
	/* What the linked node shows as its temperature (api_state.c). */
	if (m.linked_node_id)
		temperature = agent_host_node_temperature(jsonread_member(report, "sensors"),
		    last_seen);
	params[19] = temperature ? json_object_to_json_string_ext(temperature,
	    JSON_C_TO_STRING_PLAIN) : NULL;
	rc = db_exec_stmt_ok(db, &stmt_upsert, params);
	json_object_put(temperature);
	json_object_put(doc);
	return rc;
}

enum agent_host_result
agent_host_store(struct db *db, struct json_object *report, const struct agent_host_token *tok,
    double now, struct agent_host_stored *out, char *err, size_t errlen)
{
	struct host_context *c = xcalloc(1, sizeof(*c));
	struct agent_host h;
	char hostname[256];
	double last_seen = agent_report_time(report, now);
	enum agent_host_result rc = AGENT_HOST_ERROR;

	memset(out, 0, sizeof(*out));
	memset(&h, 0, sizeof(h));
	jsonread_copy_trimmed(hostname, sizeof(hostname),
	    jsonread_string(jsonread_member(report, "host"), "hostname", ""));
	if (!hostname[0] || agent_host_from_json(report, &h) != 0) {
		free(c);
		return AGENT_HOST_NO_HOSTNAME;
	}
	for (char *p = h.platform; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (db_begin(db) != 0)
		goto out;
	if (resolve_id(db, report, h.hostname, tok ? tok->token_id : NULL, c) != 0)
		goto rollback;
	/* Without a token the previous record's token stays (§3.2 step 5). */
	snprintf(c->token_id, sizeof(c->token_id), "%s",
	    tok && tok->token_id ? tok->token_id : c->prev_token);
	if (agent_token_info(db, c->token_id, &c->token) != 0 || find_link(db, h.hostname, c) != 0 ||
	    write_host(db, report, &h, c, last_seen) != 0 || st_bump_version(db) != 0 ||
	    db_commit(db) != 0)
		goto rollback;
	snprintf(out->id, sizeof(out->id), "%s", c->id);
	out->last_seen = last_seen;
	snprintf(out->platform, sizeof(out->platform), "%s", h.platform);
	snprintf(out->os_name, sizeof(out->os_name), "%s", h.os_name);
	snprintf(out->os_version, sizeof(out->os_version), "%s", h.os_version);
	out->commands_enabled = c->commands_enabled;
	rc = AGENT_HOST_OK;
	goto out;
rollback:
	db_rollback(db);
out:
	if (rc != AGENT_HOST_OK)
		snprintf(err, errlen, "%s", db_error(db));
	agent_host_free(&h);
	free(c);
	return rc;
}

/* --- removal and unlinking (§6.3, §6.4) ------------------------------------------------ */

static const struct db_stmt stmt_remove = {
	"agent_host_remove",
	"DELETE FROM pulse.agent_hosts WHERE id = $1 AND NOT mock RETURNING coalesce(token_id, '')",
	1,
};

/* The token goes when no host reports with it any more. */
static const struct db_stmt stmt_revoke = {
	"agent_host_revoke",
	"DELETE FROM pulse.api_tokens t WHERE t.id::text = $1 AND NOT EXISTS (SELECT 1 FROM "
	"pulse.agent_hosts h WHERE h.token_id = $1) RETURNING t.id",
	1,
};

static const struct db_stmt stmt_unlink = {
	"agent_host_unlink",
	"UPDATE pulse.agent_hosts SET unlinked = true, doc = (doc::jsonb - 'linkedNodeId')::json "
	"WHERE id = $1 AND NOT mock AND doc->>'linkedNodeId' IS NOT NULL RETURNING id",
	1,
};

int
agent_remove(struct db *db, const struct db_stmt *remove, const struct db_stmt *revoke,
    const char *id, int *revoked, char *err, size_t errlen)
{
	const char *params[1] = {id};
	PGresult *res;
	char token[64] = "";

	*revoked = 0;
	if (db_begin(db) != 0)
		goto fail;
	if ((res = db_exec_stmt(db, remove, params)) == NULL)
		goto rollback;
	if (PQntuples(res) == 1)
		snprintf(token, sizeof(token), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (token[0]) {
		params[0] = token;
		if ((res = db_exec_stmt(db, revoke, params)) == NULL)
			goto rollback;
		*revoked = PQntuples(res) == 1;
		PQclear(res);
	}
	if (st_bump_version(db) != 0 || db_commit(db) != 0)
		goto rollback;
	return 0;
rollback:
	db_rollback(db);
fail:
	snprintf(err, errlen, "%s", db_error(db));
	return -1;
}

int
agent_host_remove(struct db *db, const char *id, int *revoked, char *err, size_t errlen)
{
	return agent_remove(db, &stmt_remove, &stmt_revoke, id, revoked, err, errlen);
}

int
agent_change(struct db *db, const struct db_stmt *stmt, const char *const *params,
    int always_done)
{
	PGresult *res;
	int done;

	if (db_begin(db) != 0)
		return -1;
	if ((res = db_exec_stmt(db, stmt, params)) == NULL)
		goto rollback;
	done = always_done || PQntuples(res) > 0;
	PQclear(res);
	return st_commit(db, done) != 0 ? -1 : done;
rollback:
	db_rollback(db);
	return -1;
}

int
agent_host_unlink(struct db *db, const char *id)
{
	const char *params[1] = {id};

	return agent_change(db, &stmt_unlink, params, 0);
}
