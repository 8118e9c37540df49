/* sensors.c: pure sensor rules: hwmon readings sorted into the report's temperature, fan and
 * other maps (agents.md §10.5), and one disk's smartctl JSON (§10.6). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "agent.h"
#include "jsonread.h"
#include "util.h"

/* Sets key in a map held as an array (replacing a value of the same key). */
static void
kv_set(struct agent_kv **arr, size_t *n, const char *key, double value)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*arr)[i].key, key) == 0) {
			(*arr)[i].value = value;
			return;
		}
	*arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
	snprintf((*arr)[*n].key, sizeof((*arr)[*n].key), "%s", key);
	(*arr)[*n].value = value;
	(*n)++;
}

/* Lowercase, spaces and '-' as '_'. */
static void
normalise(char *dst, size_t len, const char *src)
{
	size_t i = 0;

	for (; src[i] && i + 1 < len; i++)
		dst[i] = src[i] == ' ' || src[i] == '-' ? '_' : (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

/* The chip name up to its first '-', lowercased. */
static void
chip_prefix(char *dst, size_t len, const char *chip)
{
	size_t i = 0;

	for (; chip[i] && chip[i] != '-' && i + 1 < len; i++)
		dst[i] = (char)tolower((unsigned char)chip[i]);
	dst[i] = '\0';
}

static int
is_cpu_chip(const char *chip)
{
	static const char *const names[] = { "coretemp", "k10temp", "zenpower", "k8temp",
		"acpitz", "it87", "nct6687", "nct6775", "nct6776", "nct6779", "nct6791",
		"nct6792", "nct6793", "nct6795", "nct6796", "nct6797", "nct6798", "w83627",
		"f71882", "cpu_thermal", "rp1_adc", "rpitemp" };
	char low[64];

	normalise(low, sizeof(low), chip);
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (strstr(low, names[i]))
			return 1;
	return 0;
}

static int
starts_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static int
reading_cmp(const void *a, const void *b)
{
	return strcmp(((const struct agent_sensor_reading *)a)->chip,
	    ((const struct agent_sensor_reading *)b)->chip);
}

/* One CPU chip's temperatures: package, cores, the fallbacks for the package; its other
 * sensors go to the other temperatures. */
static void
classify_cpu(const struct agent_sensor_reading *r, size_t n, const char *chip,
    struct agent_sensors *out, double *package, double *max_core, double *max_ccd,
    double *temp1)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = r[i].sensor;
		char low[64], key[192];

		if (strcmp(r[i].chip, chip) != 0 || r[i].fan)
			continue;
		normalise(low, sizeof(low), s);
		if (starts_ci(s, "Package id") || strcasecmp(s, "Tdie") == 0 ||
		    strcasecmp(s, "Tctl") == 0) {
			if (*package <= 0 || starts_ci(s, "Package id") || strcasecmp(s, "Tdie") == 0)
				*package = r[i].value;
		} else if (starts_ci(s, "Tccd")) {
			if (r[i].value > *max_ccd)
				*max_ccd = r[i].value;
		} else if (starts_ci(s, "Core ")) {
			snprintf(key, sizeof(key), "cpu_%s", low);
			kv_set(&out->temps, &out->ntemps, key, r[i].value);
			if (r[i].value > *max_core)
				*max_core = r[i].value;
		} else if (strcmp(low, "cputin") == 0 || strcmp(low, "cpu_temperature") == 0 ||
		    (strstr(low, "temp") && strstr(low, "cpu"))) {
			if (*package <= 0)
				*package = r[i].value;
		} else if (strcmp(low, "temp1") == 0)
			*temp1 = r[i].value;
		else if (r[i].value > 0 && r[i].value < 150) {
			/* a Super I/O chip's board sensors (SYSTIN, AUXTIN ...): other temperatures */
			char prefix[64];

			chip_prefix(prefix, sizeof(prefix), chip);
			snprintf(key, sizeof(key), "%s_%s", prefix, low);
			kv_set(&out->additional, &out->nadditional, key, r[i].value);
		}
	}
}

void
agent_sensors_classify(const struct agent_sensor_reading *in, size_t n,
    struct agent_sensors *out)
{
	struct agent_sensor_reading *r = xcalloc(n ? n : 1, sizeof(*r));
	double package = 0, max_core = 0, max_ccd = 0, temp1 = 0;
	int nvme = 0;

	if (n)
		memcpy(r, in, n * sizeof(*r));
	qsort(r, n, sizeof(*r), reading_cmp);	/* nvme0, nvme1 ... follow the chip names */
	for (size_t i = 0; i < n; i++) {
		char low_chip[64], prefix[64], sensor[64], key[192];
		int first_of_chip = i == 0 || strcmp(r[i - 1].chip, r[i].chip) != 0;

		normalise(low_chip, sizeof(low_chip), r[i].chip);
		chip_prefix(prefix, sizeof(prefix), r[i].chip);
		normalise(sensor, sizeof(sensor), r[i].sensor);
		if (first_of_chip && is_cpu_chip(r[i].chip))
			classify_cpu(r, n, r[i].chip, out, &package, &max_core, &max_ccd, &temp1);
		if (r[i].fan) {
			if (r[i].value > 0) {
				snprintf(key, sizeof(key), "%s_%s", prefix, sensor);
				kv_set(&out->fans, &out->nfans, key, r[i].value);
			}
			continue;
		}
		if (is_cpu_chip(r[i].chip))
			continue;	/* classify_cpu took its temperatures */
		if (strstr(low_chip, "nvme") && strcasecmp(r[i].sensor, "Composite") == 0) {
			snprintf(key, sizeof(key), "nvme%d", nvme++);
			kv_set(&out->temps, &out->ntemps, key, r[i].value);
			continue;
		}
		if ((strstr(low_chip, "amdgpu") || strstr(low_chip, "nouveau")) &&
		    (strcmp(sensor, "edge") == 0 || strcmp(sensor, "junction") == 0 ||
		    strcmp(sensor, "mem") == 0 || strcmp(sensor, "temp1") == 0)) {
			snprintf(key, sizeof(key), "%s_%s", r[i].chip, sensor);
			kv_set(&out->temps, &out->ntemps, key, r[i].value);
			continue;
		}
		if (r[i].value > 0 && r[i].value < 150) {
			snprintf(key, sizeof(key), "%s_%s", prefix, sensor);
			kv_set(&out->additional, &out->nadditional, key, r[i].value);
		}
	}
	if (package <= 0)
		package = max_ccd > 0 ? max_ccd : temp1;
	if (package <= 0)
		package = max_core;
	if (package > 0)
		kv_set(&out->temps, &out->ntemps, "cpu_package", package);
	free(r);
}

void
agent_sensors_free(struct agent_sensors *s)
{
	free(s->temps);
	free(s->fans);
	free(s->additional);
	free(s->smart);
	memset(s, 0, sizeof(*s));
}

/* device.protocol, else device.type, as the original names the bus. */
static const char *
smart_type(struct json_object *device)
{
	char proto[64], type[64];

	jsonread_copy(proto, sizeof(proto), jsonread_string(device, "protocol", ""));
	jsonread_copy(type, sizeof(type), jsonread_string(device, "type", ""));
	for (char *c = proto; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	for (char *c = type; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (strstr(proto, "nvme"))
		return "nvme";
	if (strstr(proto, "sas"))
		return "sas";
	if (strstr(proto, "ata"))
		return "sata";
	return strstr(type, "nvme") ? "nvme" : "sata";
}

int
agent_parse_smartctl(const char *text, int exit_status, const char *device,
    struct agent_smart_disk *out)
{
	struct json_object *root, *wwn, *temp, *nvme_log, *status;

	memset(out, 0, sizeof(*out));
	snprintf(out->device, sizeof(out->device), "%s", device);
	if (exit_status >= 0 && (exit_status & 2)) {
		/* -n standby: the disk sleeps and is not woken */
		out->standby = 1;
		return 0;
	}
	if (!text || !*text || !(root = json_tokener_parse(text)))
		return -1;
	if (!jsonread_is_object(root)) {
		json_object_put(root);
		return -1;
	}
	jsonread_copy(out->model, sizeof(out->model), jsonread_string(root, "model_name", ""));
	jsonread_copy(out->serial, sizeof(out->serial), jsonread_string(root, "serial_number", ""));
	if ((wwn = jsonread_member(root, "wwn")) && jsonread_is_object(wwn))
		snprintf(out->wwn, sizeof(out->wwn), "%llx-%llx-%llx",
		    (unsigned long long)jsonread_int(wwn, "naa", 0),
		    (unsigned long long)jsonread_int(wwn, "oui", 0),
		    (unsigned long long)jsonread_int(wwn, "id", 0));
	snprintf(out->type, sizeof(out->type), "%s", smart_type(jsonread_member(root, "device")));
	if ((temp = jsonread_member(root, "temperature")) && jsonread_has(temp, "current"))
		out->temperature = (int)jsonread_int(temp, "current", 0);
	else if ((nvme_log = jsonread_member(root, "nvme_smart_health_information_log")))
		out->temperature = (int)jsonread_int(nvme_log, "temperature", 0);
	status = jsonread_member(root, "smart_status");
	out->passed = status && jsonread_bool(status, "passed", 0);
	json_object_put(root);
	return 0;
}
