/* pve_disks.c: tolerant parsers and JSON of the physical disks of PVE nodes, with their wearout. */
#include "config.h"

#include "pve_detail.h"
#include "pve_detail_int.h"
#include "jsonread.h"
#include "jsonwrite.h"
#include "timefmt.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEAROUT_UNKNOWN (-1)

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
