/* report.c: the host report's JSON in the original's shape (agents.md §3.1), omitting what its
 * Go struct tags omit when empty, and the os-release reader that fills the platform fields. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "agent.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "timefmt.h"
#include "util.h"

static struct json_object *
agent_json(const struct agent_report *r)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_str(o, "id", r->agent_id);
	jsonwrite_opt_str(o, "version", r->version);
	jsonwrite_str(o, "type", "unified");
	jsonwrite_opt_int(o, "intervalSeconds", r->interval_seconds);
	jsonwrite_opt_str(o, "hostname", r->hostname);
	jsonwrite_true_if(o, "commandsEnabled", r->commands_enabled);
	return o;
}

static struct json_object *
host_json(const struct agent_report *r)
{
	struct json_object *o = json_object_new_object(), *load = json_object_new_array();

	jsonwrite_opt_str(o, "id", r->machine_id);
	jsonwrite_str(o, "hostname", r->hostname);
	jsonwrite_opt_str(o, "displayName", r->hostname);
	jsonwrite_opt_str(o, "machineId", r->machine_id);
	jsonwrite_opt_str(o, "platform", r->platform);
	jsonwrite_opt_str(o, "osName", r->os_name);
	jsonwrite_opt_str(o, "osVersion", r->os_version);
	jsonwrite_opt_str(o, "kernelVersion", r->kernel);
	jsonwrite_opt_str(o, "architecture", r->arch);
	jsonwrite_opt_int(o, "cpuCount", r->cpu_count);
	jsonwrite_opt_int(o, "uptimeSeconds", r->uptime);
	for (int i = 0; i < 3; i++)
		json_object_array_add(load, jsonutil_new_double(r->load[i]));
	json_object_object_add(o, "loadAverage", load);
	jsonwrite_opt_str(o, "reportIp", r->report_ip);
	return o;
}

struct json_object *
agent_report_memory_json(const struct agent_report *r)
{
	struct json_object *m = json_object_new_object();

	jsonwrite_opt_int(m, "totalBytes", r->mem.total);
	jsonwrite_opt_int(m, "usedBytes", r->mem.used);
	jsonwrite_opt_int(m, "freeBytes", r->mem.free);
	if (r->mem.usage != 0)
		jsonwrite_num(m, "usage", r->mem.usage);
	jsonwrite_opt_int(m, "swapTotalBytes", r->mem.swap_total);
	jsonwrite_opt_int(m, "swapUsedBytes", r->mem.swap_used);
	return m;
}

static struct json_object *
metrics_json(const struct agent_report *r)
{
	struct json_object *o = json_object_new_object();

	if (r->cpu_percent != 0)
		jsonwrite_num(o, "cpuUsagePercent", r->cpu_percent);
	json_object_object_add(o, "memory", agent_report_memory_json(r));
	return o;
}

struct json_object *
agent_report_disks_json(const struct agent_report *r)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < r->ndisks; i++) {
		const struct agent_fs *d = &r->disks[i];
		struct json_object *o = json_object_new_object();

		jsonwrite_opt_str(o, "device", d->device);
		jsonwrite_opt_str(o, "mountpoint", d->mountpoint);
		jsonwrite_opt_str(o, "filesystem", d->fstype);
		jsonwrite_opt_str(o, "type", d->fstype);
		jsonwrite_opt_int(o, "totalBytes", d->total);
		jsonwrite_opt_int(o, "usedBytes", d->used);
		jsonwrite_opt_int(o, "freeBytes", d->free);
		if (d->usage != 0)
			jsonwrite_num(o, "usage", d->usage);
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *
diskio_json(const struct agent_report *r)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < r->ndiskio; i++) {
		const struct agent_diskio *d = &r->diskio[i];
		struct json_object *o = json_object_new_object();

		jsonwrite_str(o, "device", d->device);
		jsonwrite_int(o, "readBytes", (int64_t)d->read_bytes);
		jsonwrite_int(o, "writeBytes", (int64_t)d->write_bytes);
		jsonwrite_int(o, "readOps", (int64_t)d->read_ops);
		jsonwrite_int(o, "writeOps", (int64_t)d->write_ops);
		jsonwrite_int(o, "readTimeMs", (int64_t)d->read_ms);
		jsonwrite_int(o, "writeTimeMs", (int64_t)d->write_ms);
		jsonwrite_int(o, "ioTimeMs", (int64_t)d->io_ms);
		json_object_array_add(a, o);
	}
	return a;
}

struct json_object *
agent_report_network_json(const struct agent_report *r)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < r->nifaces; i++) {
		const struct agent_iface *n = &r->ifaces[i];
		struct json_object *o = json_object_new_object();

		jsonwrite_str(o, "name", n->name);
		jsonwrite_opt_str(o, "mac", n->mac);
		if (n->naddresses > 0) {
			struct json_object *addrs = json_object_new_array();

			for (int k = 0; k < n->naddresses; k++)
				json_object_array_add(addrs, json_object_new_string(n->addresses[k]));
			json_object_object_add(o, "addresses", addrs);
		}
		jsonwrite_opt_int(o, "rxBytes", (int64_t)n->rx_bytes);
		jsonwrite_opt_int(o, "txBytes", (int64_t)n->tx_bytes);
		json_object_array_add(a, o);
	}
	return a;
}

/* A map member of the sensors, left out when empty. */
static void
add_map(struct json_object *o, const char *k, const struct agent_kv *kv, size_t n)
{
	struct json_object *m;

	if (n == 0)
		return;
	m = json_object_new_object();
	for (size_t i = 0; i < n; i++)
		jsonwrite_num(m, kv[i].key, kv[i].value);
	json_object_object_add(o, k, m);
}

static struct json_object *
sensors_json(const struct agent_sensors *s)
{
	struct json_object *o = json_object_new_object();

	add_map(o, "temperatureCelsius", s->temps, s->ntemps);
	add_map(o, "fanRpm", s->fans, s->nfans);
	add_map(o, "additional", s->additional, s->nadditional);
	if (s->nsmart > 0) {
		struct json_object *a = json_object_new_array();

		for (size_t i = 0; i < s->nsmart; i++) {
			const struct agent_smart_disk *d = &s->smart[i];
			struct json_object *e = json_object_new_object();

			jsonwrite_str(e, "device", d->device);
			jsonwrite_opt_str(e, "model", d->model);
			jsonwrite_opt_str(e, "serial", d->serial);
			jsonwrite_opt_str(e, "wwn", d->wwn);
			jsonwrite_opt_str(e, "type", d->type);
			jsonwrite_int(e, "temperature", d->temperature);
			if (!d->standby)
				jsonwrite_str(e, "health", d->passed ? "PASSED" : "FAILED");
			jsonwrite_true_if(e, "standby", d->standby);
			json_object_array_add(a, e);
		}
		json_object_object_add(o, "smart", a);
	}
	return o;
}

static struct json_object *
raid_json(const struct agent_report *r)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < r->nraid; i++) {
		const struct agent_md_array *m = &r->raid[i];
		struct json_object *o = json_object_new_object(), *devs = json_object_new_array();

		jsonwrite_str(o, "device", m->device);
		jsonwrite_str(o, "level", m->level);
		jsonwrite_str(o, "state", m->state);
		jsonwrite_int(o, "totalDevices", m->total);
		jsonwrite_int(o, "activeDevices", m->active);
		jsonwrite_int(o, "workingDevices", m->working);
		jsonwrite_int(o, "failedDevices", m->failed);
		jsonwrite_int(o, "spareDevices", m->spare);
		for (int k = 0; k < m->ndevices; k++) {
			struct json_object *d = json_object_new_object();

			jsonwrite_str(d, "device", m->devices[k].device);
			jsonwrite_str(d, "state", m->devices[k].state);
			jsonwrite_int(d, "slot", m->devices[k].slot);
			json_object_array_add(devs, d);
		}
		json_object_object_add(o, "devices", devs);
		jsonwrite_num(o, "rebuildPercent", m->rebuild_percent);
		jsonwrite_opt_str(o, "rebuildSpeed", m->rebuild_speed);
		json_object_array_add(a, o);
	}
	return a;
}

char *
agent_report_json(const struct agent_report *r)
{
	struct json_object *o = json_object_new_object();
	char ts[TIMEFMT_LEN];
	char *out;

	json_object_object_add(o, "agent", agent_json(r));
	json_object_object_add(o, "host", host_json(r));
	json_object_object_add(o, "metrics", metrics_json(r));
	if (r->ndisks)
		json_object_object_add(o, "disks", agent_report_disks_json(r));
	if (r->ndiskio)
		json_object_object_add(o, "diskIO", diskio_json(r));
	if (r->nifaces)
		json_object_object_add(o, "network", agent_report_network_json(r));
	json_object_object_add(o, "sensors", sensors_json(&r->sensors));
	if (r->nraid)
		json_object_object_add(o, "raid", raid_json(r));
	if (r->ntags) {
		struct json_object *tags = json_object_new_array();

		for (size_t i = 0; i < r->ntags; i++)
			json_object_array_add(tags, json_object_new_string(r->tags[i]));
		json_object_object_add(o, "tags", tags);
	}
	jsonwrite_str(o, "timestamp", timefmt_rfc3339_nano(r->timestamp, ts, sizeof(ts)));
	out = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}

void
agent_report_free(struct agent_report *r)
{
	free(r->disks);
	free(r->diskio);
	free(r->ifaces);
	free(r->raid);
	agent_sensors_free(&r->sensors);
	r->disks = NULL;
	r->diskio = NULL;
	r->ifaces = NULL;
	r->raid = NULL;
	r->ndisks = r->ndiskio = r->nifaces = r->nraid = 0;
}

/* The value of KEY=value or KEY="value" in os-release text, into dst. */
static void
os_release_value(const char *text, const char *key, char *dst, size_t len)
{
	size_t kl = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *v, *end;

		if (strncmp(p, key, kl) != 0 || p[kl] != '=')
			continue;
		v = p + kl + 1;
		end = strchr(v, '\n');
		if (!end)
			end = v + strlen(v);
		if (end > v && (*v == '"' || *v == '\'')) {
			v++;
			if (end > v && (end[-1] == '"' || end[-1] == '\''))
				end--;
		}
		snprintf(dst, len, "%.*s", (int)(end - v), v);
		return;
	}
}

void
agent_parse_os_release(const char *text, struct agent_report *r)
{
	if (!text)
		return;
	os_release_value(text, "ID", r->platform, sizeof(r->platform));
	for (char *c = r->platform; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	snprintf(r->os_name, sizeof(r->os_name), "%s", r->platform);
	os_release_value(text, "VERSION_ID", r->os_version, sizeof(r->os_version));
}
