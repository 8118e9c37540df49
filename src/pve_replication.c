/* pve_replication.c: tolerant parsers and JSON of PVE storage replication jobs. */
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
#include <strings.h>
#include <time.h>

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
