/* pmg.c: tolerant parsers of Proxmox Mail Gateway answers. */
#include "config.h"

#include "pmg.h"
#include "jsonread.h"

#include <string.h>

int
pmg_parse_cluster(struct json_object *data, struct pmg_cluster_node *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		const char *name = jsonread_string(o, "name", "");

		if (*name == '\0')
			continue;
		jsonread_copy(out[n].name, sizeof(out[n].name), name);
		jsonread_copy(out[n].type, sizeof(out[n].type), jsonread_string(o, "type", ""));
		n++;
	}
	return n;
}

int
pmg_parse_queue(struct json_object *data, struct pmg_queue *out)
{
	memset(out, 0, sizeof(*out));
	if (jsonread_array_len(data) > 0)
		data = json_object_array_get_idx(data, 0);
	if (!jsonread_is_object(data))
		return -1;
	out->active = jsonread_int(data, "active", 0);
	out->deferred = jsonread_int(data, "deferred", 0);
	out->hold = jsonread_int(data, "hold", 0);
	out->incoming = jsonread_int(data, "incoming", 0);
	out->oldest_age = jsonread_int(data, "oldest_age", 0);
	return 0;
}

int
pmg_parse_backups(struct json_object *data, struct pmg_backup_item *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);
		const char *file = jsonread_string(o, "filename", "");

		if (*file == '\0')
			continue;
		jsonread_copy(out[n].filename, sizeof(out[n].filename), file);
		out[n].size = jsonread_int(o, "size", 0);
		out[n].timestamp = jsonread_int(o, "timestamp", 0);
		n++;
	}
	return n;
}

/* The PMG statistics names of each counter (mail totals and hourly points share them). */
static const char *const count_keys[PMG_NSTATS] = {
	[PMG_COUNT] = "count", [PMG_IN] = "count_in", [PMG_OUT] = "count_out",
	[PMG_SPAM_IN] = "spamcount_in", [PMG_SPAM_OUT] = "spamcount_out",
	[PMG_VIRUS_IN] = "viruscount_in", [PMG_VIRUS_OUT] = "viruscount_out",
	[PMG_BOUNCES_IN] = "bounces_in", [PMG_BOUNCES_OUT] = "bounces_out",
	[PMG_BYTES_IN] = "bytes_in", [PMG_BYTES_OUT] = "bytes_out", [PMG_GREYLIST] = "glcount",
	[PMG_JUNK_IN] = "junk_in", [PMG_AVG_MS] = "avptime", [PMG_RBL] = "rbl_rejects",
	[PMG_PREGREET] = "pregreet_rejects",
};

static void
counts(struct json_object *o, struct pmg_counts *out)
{
	for (int k = 0; k < PMG_NSTATS; k++)
		out->v[k] = jsonread_number(o, count_keys[k], 0);
	out->v[PMG_AVG_MS] *= 1000.0;	/* PMG reports seconds */
}

int
pmg_parse_mail_stats(struct json_object *data, struct pmg_counts *out)
{
	memset(out, 0, sizeof(*out));
	if (jsonread_array_len(data) > 0)
		data = json_object_array_get_idx(data, 0);
	if (!jsonread_is_object(data))
		return -1;
	counts(data, out);
	return 0;
}

int
pmg_parse_mail_count(struct json_object *data, struct pmg_counts *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);

		if (!jsonread_is_object(o))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		counts(o, &out[n]);
		out[n].time = jsonread_int(o, "time", 0);
		out[n].index = (int)jsonread_int(o, "index", 0);
		n++;
	}
	return n;
}

int
pmg_parse_spam_scores(struct json_object *data, struct pmg_spam_score *out, int max)
{
	int n = 0, len = jsonread_array_len(data);

	for (int i = 0; i < len && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(data, i);

		if (!jsonread_is_object(o) || !jsonread_has(o, "level"))
			continue;
		jsonread_copy(out[n].level, sizeof(out[n].level), jsonread_string(o, "level", ""));
		out[n].count = (double)jsonread_int(o, "count", 0);
		n++;
	}
	return n;
}

int
pmg_parse_quarantine(struct json_object *data, int64_t *count)
{
	if (jsonread_array_len(data) > 0)
		data = json_object_array_get_idx(data, 0);
	if (!jsonread_is_object(data))
		return -1;
	*count = jsonread_int(data, "count", 0);
	return 0;
}
